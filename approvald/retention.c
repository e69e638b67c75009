/*
 * Retention: decided requests (with their votes) and recovery reports older
 * than `retention` leave the database, so that a host filing requests cannot
 * fill the disk for ever.  Each purge that removes anything is journaled as
 * one approval.purged record (counts and cutoff) in the purge's transaction:
 * the journal, not the database, is the lasting record.  Expired approver
 * sessions are deleted with them (session.c deletes them on lookup too), and
 * expired WebAuthn challenges.
 */
#include "build_config.h"

#include <syslog.h>

#include "approvald.h"

void
ad_retention_purge(ad_app *app, int64_t now_ms)
{
	int64_t cutoff = now_ms - (int64_t)app->cfg->server.retention * AD_MS_PER_SECOND;
	unsigned long requests = 0, recoveries = 0;
	char when[AD_TIME_LEN];
	bg_event *ev = NULL;
	bg_error err;
	bg_status rc;

	rc = ad_store_begin(app->store, &err);
	if (rc == BG_OK)
		rc = ad_store_purge(app->store, cutoff, &requests, &recoveries, &err);
	/* Spent by time: nothing to journal (challenges are not records). */
	if (rc == BG_OK)
		rc = ad_store_challenge_prune(app->store, now_ms, &err);
	/* Expired sessions too: no longer usable, so nothing to journal. */
	if (rc == BG_OK)
		rc = ad_store_session_prune(app->store,
		    now_ms - (int64_t)app->cfg->server.session_idle * AD_MS_PER_SECOND,
		    now_ms - (int64_t)app->cfg->server.session_max * AD_MS_PER_SECOND, &err);
	if (rc == BG_OK && requests + recoveries > 0) {
		ad_time_format(cutoff, when);
		ev = ad_event_new(app, "approval.purged", "success", NULL, NULL, "timer");
		if (ev == NULL) {
			rc = bg_error_set(&err, BG_ERR_NOMEM, "out of memory");
		} else {
			bg_event_add_int(ev, "count", (long long)requests);
			bg_event_add_int(ev, "recoveries", (long long)recoveries);
			bg_event_add_str(ev, "cutoff", when);
			rc = bg_audit_emit(&app->audit, ev, &err);
		}
	}
	bg_event_free(ev);
	if (rc == BG_OK)
		rc = ad_store_commit(app->store, &err);
	if (rc != BG_OK) {
		/* Nothing is deleted unless journaled: the next run tries again. */
		ad_store_rollback(app->store);
		ad_log(LOG_ERR, "purge: %s", err.msg);
	} else if (requests + recoveries > 0) {
		ad_log(LOG_NOTICE, "purged %lu decided request(s) and %lu recovery report(s) "
		    "older than %s", requests, recoveries, when);
	}
}
