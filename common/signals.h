/*
 * Monitoring evidence that an emergency is real: every [signal NAME] source
 * (alertmanager, prometheus or http) is queried concurrently under one
 * deadline; a source is firing when it reports at least one matching active
 * alert.  A source that fails (status, timeout, malformed or oversized body)
 * counts as not firing.
 */
#ifndef BG_SIGNALS_H
#define BG_SIGNALS_H

#include <stddef.h>

#include <json-c/json.h>

#include "config.h"
#include "status.h"

#define BG_SIGNALS_MAX_BODY (1024 * 1024)
/* Alerts recorded per firing source, to bound the request and the journal. */
#define BG_SIGNALS_MAX_ALERTS 10

typedef struct {
	/*
	 * One object per matching alert of a firing source: {"source", "id"
	 * (fingerprint, alertname or pointer), "summary", "since" (or null)}.
	 */
	json_object *firing;
	/* One object per failed source: {"source", "error"}. */
	json_object *errors;
	size_t sources;          /* sources queried */
	size_t firing_sources;   /* distinct sources firing */
} bg_signals_result;

/*
 * Queries every source of cfg within timeout_ms.  BG_OK when at least
 * [signals] required sources are firing (always when required is 0, without
 * querying anything); BG_ERR_DENIED ("no qualifying emergency") otherwise.
 * res is filled in both cases, for the request and the journal.
 */
bg_status bg_signals_check(const bg_config *cfg, unsigned long timeout_ms,
    bg_signals_result *res, bg_error *err);

void bg_signals_result_free(bg_signals_result *res);

#endif
