/* Emitting an audit event: the journal first, then one syslog line. */
#include "build_config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "audit.h"
#include "buf.h"
#include "config.h"
#include "escape.h"
#include "logsink.h"

/* Room kept at the end of a line for " truncated=1 seq=N mac=<16 hex>". */
#define TAIL_RESERVE 64
#define MAC_PREFIX_LEN 16

/* The text of a JSON value as one syslog value: strings as they are, others
 * (argv, signals, approvers) as compact JSON, which keeps them unambiguous. */
static const char *
value_text(json_object *val)
{
	if (val == NULL)
		return NULL;
	if (json_object_is_type(val, json_type_string))
		return json_object_get_string(val);
	return json_object_to_json_string_ext(val,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* Appends " key=value" when it fits in limit; false when it does not. */
static bool
append_pair(bg_buf *line, size_t limit, const char *key, const char *value)
{
	bg_buf pair;
	bool fits;

	bg_buf_init(&pair, 0);
	if (!bg_buf_printf(&pair, "%s%s=", line->len > 0 ? " " : "", key) ||
	    !bg_escape_kv_value(&pair, value)) {
		bg_buf_free(&pair);
		return false;
	}
	fits = line->len + pair.len <= limit && bg_buf_append(line, pair.data, pair.len);
	bg_buf_free(&pair);
	return fits;
}

static bool
append_members(bg_buf *line, size_t limit, json_object *obj, bool *cut)
{
	json_object_object_foreach(obj, key, val) {
		const char *text = value_text(val);

		if (text == NULL)
			continue;  /* null identity members say nothing */
		if (!append_pair(line, limit, key, text)) {
			*cut = true;
			return false;
		}
	}
	return true;
}

bg_status
bg_audit_format_syslog(const bg_event *ev, unsigned long long seq, const char *mac_hex,
    char *out, size_t outsz, bg_error *err)
{
	size_t limit = BG_SYSLOG_MAX_LINE - TAIL_RESERVE;
	bool cut = false;
	bg_buf line;
	bg_status rc = BG_OK;

	bg_buf_init(&line, BG_SYSLOG_MAX_LINE);
	if (!append_pair(&line, limit, "event", bg_event_name(ev)) ||
	    !append_pair(&line, limit, "outcome", bg_event_outcome(ev)))
		cut = true;
	else if (append_members(&line, limit, bg_event_identity(ev), &cut))
		append_members(&line, limit, bg_event_fields(ev), &cut);
	if ((cut && !bg_buf_puts(&line, " truncated=1")) ||
	    !bg_buf_printf(&line, " seq=%llu mac=%.*s", seq, MAC_PREFIX_LEN, mac_hex))
		rc = bg_error_set(err, BG_ERR_TOOBIG, "syslog line does not fit");
	else if (line.len + 1 > outsz)
		rc = bg_error_set(err, BG_ERR_TOOBIG, "syslog buffer too small");
	else
		memcpy(out, line.data, line.len + 1);
	bg_buf_free(&line);
	return rc;
}

static int
priority_for(const bg_event *ev)
{
	const char *outcome = bg_event_outcome(ev);

	if (strcmp(outcome, "success") == 0)
		return LOG_NOTICE;
	if (strcmp(outcome, "failure") == 0)
		return LOG_WARNING;
	return LOG_ERR;
}

/* authpriv, ident "breakglass", without touching the process's own log (logsink.h). */
static void
sink_write(const bg_audit *a, int priority, const char *line)
{
	if (a->sink != NULL) {
		a->sink(priority, line, a->sink_arg);
		return;
	}
	bg_syslog_as("breakglass", LOG_AUTHPRIV, priority, line);
}

bg_status
bg_audit_init(bg_audit *a, const bg_config *cfg, bg_error *err)
{
	bg_status rc;

	memset(a, 0, sizeof(*a));
	rc = bg_config_journal_state_path(cfg, a->state_path, sizeof(a->state_path), err);
	if (rc != BG_OK)
		return rc;
	a->journal.path = cfg->general.journal;
	a->journal.state_path = a->state_path;
	a->journal.host = cfg->approval.host_id;
	return BG_OK;
}

bg_status
bg_audit_emit(const bg_audit *a, const bg_event *ev, bg_error *err)
{
	return bg_audit_emit_many(a, &ev, 1, err);
}

/* The syslog line of one committed record, and its warning when its state lags. */
static void
log_committed(const bg_audit *a, const bg_event *ev, const bg_journal_appended *rec)
{
	char line[BG_SYSLOG_MAX_LINE + 1];
	bg_error err;

	if (bg_audit_format_syslog(ev, rec->seq, rec->mac_hex, line, sizeof(line), &err) ==
	    BG_OK)
		sink_write(a, priority_for(ev), line);
	if (rec->state_lags) {
		bg_buf warn;

		/* Committed all the same: the next append adopts the record. */
		bg_buf_init(&warn, BG_SYSLOG_MAX_LINE);
		bg_buf_printf(&warn, "event=%s outcome=error journal=state-failed seq=%llu reason=",
		    bg_event_name(ev), rec->seq);
		bg_escape_kv_value(&warn, rec->state_err.msg);
		bg_audit_syslog_only(a, LOG_ERR, "%s", warn.data != NULL ? warn.data :
		    "journal=state-failed");
		bg_buf_free(&warn);
	}
}

bg_status
bg_audit_emit_many(const bg_audit *a, const bg_event *const *evs, size_t n, bg_error *err)
{
	bg_journal_appended one, *recs = n == 1 ? &one : calloc(n, sizeof(*recs));
	bg_status rc;

	if (recs == NULL)
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	rc = bg_journal_append_many(&a->journal, evs, n, recs, err);
	for (size_t i = 0; i < n; i++) {
		if (rc != BG_OK)
			/* Say in syslog that an event could not be recorded: the action is refused. */
			bg_audit_syslog_only(a, LOG_ERR, "event=%s outcome=error journal=failed",
			    bg_event_name(evs[i]));
		else
			log_committed(a, evs[i], &recs[i]);
	}
	if (recs != &one)
		free(recs);
	return rc;
}

void
bg_audit_syslog_only(const bg_audit *a, int priority, const char *fmt, ...)
{
	char line[BG_SYSLOG_MAX_LINE + 1];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	sink_write(a, priority, line);
}

void
bg_audit_config_invalid(const char *user, const char *problem)
{
	bg_audit a;
	bg_buf line;

	memset(&a, 0, sizeof(a));
	bg_buf_init(&line, BG_SYSLOG_MAX_LINE);
	bg_buf_puts(&line, "event=config.invalid outcome=error account=");
	bg_escape_kv_value(&line, user != NULL ? user : "");
	bg_buf_puts(&line, " reason=");
	bg_escape_kv_value(&line, problem);
	/* A cut line still says enough: the refusal itself is never skipped. */
	bg_audit_syslog_only(&a, LOG_ERR, "%s", line.data != NULL ? line.data :
	    "event=config.invalid outcome=error");
	bg_buf_free(&line);
}
