/*
 * The post-incident report: reads verified journal records and gathers, per
 * incident, who did what, who approved it and when, what the grant allowed
 * and how it ended, and every sudo decision.  The model is a json-c object
 * (it is also the --format json output); renderers live in the CLI.
 */
#ifndef BG_REPORT_H
#define BG_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <json-c/json.h>

#include "journal.h"
#include "status.h"

typedef struct {
	const char *incident;   /* only this incident; NULL: all */
	time_t since;           /* records at or after; 0: no bound */
	time_t until;           /* records before; 0: no bound */
} bg_report_filter;

/*
 * Builds the report model from files (oldest first).  verify is the result
 * of bg_journal_verify over the same files: a broken chain still yields a
 * report (up to the last readable record), marked "verified": false.
 */
bg_status bg_report_build(const char *const *files, size_t nfiles,
    const bg_report_filter *filter, const bg_verify_result *verify, bool verified,
    json_object **model, bg_error *err);

#endif
