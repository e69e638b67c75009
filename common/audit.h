/* Emitting an audit event: the journal first, then one syslog line. */
#ifndef BG_AUDIT_H
#define BG_AUDIT_H

#include <stddef.h>

#include "journal.h"
#include "status.h"

#define BG_SYSLOG_MAX_LINE 960

/* Where syslog lines go; tests replace the default (authpriv, ident "breakglass"). */
typedef void (*bg_syslog_sink)(int priority, const char *line, void *arg);

typedef struct {
	bg_journal journal;
	bg_syslog_sink sink;       /* NULL: real syslog */
	void *sink_arg;
	char state_path[4096];     /* storage for journal.state_path */
} bg_audit;

struct bg_config;
/*
 * Sets a up from the configuration: the journal of [general], its key state
 * in state_dir, and the approval host_id as "host".  a must outlive nothing
 * but cfg.
 */
bg_status bg_audit_init(bg_audit *a, const struct bg_config *cfg, bg_error *err);

/*
 * Formats the syslog line for ev: "event=.. outcome=.. key=value ... seq=N
 * mac=<16 hex>", values escaped, at most BG_SYSLOG_MAX_LINE bytes with
 * "truncated=1" before seq when fields had to be dropped.
 */
bg_status bg_audit_format_syslog(const bg_event *ev, unsigned long long seq,
    const char *mac_hex, char *out, size_t outsz, bg_error *err);

/*
 * Journals ev then logs it to syslog.  A failure means the event was not
 * recorded and the caller must refuse the action it describes.  Success
 * means the record is committed, also when the key-state update after it
 * failed: a second line "event=.. outcome=error journal=state-failed seq=N
 * reason=.." says so, and the next append adopts the record.
 */
bg_status bg_audit_emit(const bg_audit *a, const bg_event *ev, bg_error *err);
/* bg_audit_emit of n events as one append (bg_journal_append_many): all or none. */
bg_status bg_audit_emit_many(const bg_audit *a, const bg_event *const *evs, size_t n,
    bg_error *err);

/*
 * Logs "event=config.invalid outcome=error account=USER reason=PROBLEM" to
 * syslog only (escaped): the configuration, so the journal, is unusable.
 */
void bg_audit_config_invalid(const char *user, const char *problem);

/* Logs a line with no journal record (config errors before a journal is known). */
void bg_audit_syslog_only(const bg_audit *a, int priority, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
