/* Removing grants and journaling it: shared by revoke, kill-switch and expire. */
#include "build_config.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "grant.h"

bg_status
bg_cli_end_grant(const bg_config *cfg, const bg_audit *audit, const char *account,
    const char *event, const char *reason, bool terminate, bg_error *err)
{
	bg_grant g;
	bool have, removed = false;
	bg_event *ev;
	bg_status rc;
	bg_error terr;
	int ended = 0;

	memset(&g, 0, sizeof(g));
	/* The grant's identity goes into the record; a broken grant is removed all the same. */
	have = bg_grant_load(cfg->general.run_dir, account, &g, err) == BG_OK;
	rc = bg_grant_revoke(cfg->general.run_dir, account, &removed, err);
	/* A grant that cannot be removed is all the more reason to end the sessions. */
	if (terminate) {
		ended = bg_cli_terminate(account, &terr);
		if (ended < 0)
			bg_cli_print_escaped(stderr, "breakglass: cannot end the sessions: ", terr.msg);
		if (ended < 0 && rc == BG_OK)
			rc = bg_error_set(err, BG_ERR_IO, "%s", terr.msg);
	}
	ev = bg_event_new(event, rc == BG_OK ? "success" : "error");
	if (ev == NULL) {
		bg_grant_free(&g);
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	}
	bg_event_set_identity(ev, account, have ? g.operator_name : NULL,
	    have ? g.incident : NULL, have ? g.request_id : NULL);
	bg_event_add_str(ev, "reason", reason);
	bg_event_add_str(ev, "by", bg_cli_invoker());
	if (have)
		bg_event_add_int(ev, "expires_at", (long long)g.expires_at);
	bg_event_add_bool(ev, "removed", removed);
	if (rc != BG_OK)
		bg_event_add_str(ev, "detail", err->msg);
	if (terminate && ended >= 0)
		bg_event_add_int(ev, "processes_signalled", ended);
	else if (terminate)
		bg_event_add_str(ev, "terminate", "failed");
	bg_grant_free(&g);
	if (rc != BG_OK) {
		bg_error err2;

		bg_audit_emit(audit, ev, &err2);
		bg_event_free(ev);
		return rc;
	}
	rc = bg_audit_emit(audit, ev, err);
	bg_event_free(ev);
	return rc;
}

void
bg_cli_grants_failed(const bg_audit *audit, const char *event, const char *reason,
    const char *detail)
{
	bg_event *ev = bg_event_new(event, "error");
	bg_error err;

	if (ev == NULL)
		return;
	bg_event_add_str(ev, "reason", reason);
	bg_event_add_str(ev, "by", bg_cli_invoker());
	bg_event_add_str(ev, "detail", detail);
	if (bg_audit_emit(audit, ev, &err) != BG_OK)
		bg_cli_print_escaped(stderr, "breakglass: ", err.msg);
	bg_event_free(ev);
}
