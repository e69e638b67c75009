/*
 * Offline recovery in the login (protocol R1, docs/protocol.md section 11):
 * when the approval service could not be reached at all, the operator types
 * codes that recovery approvers computed for a challenge and the login's
 * details.  Every step is journaled; any failure denies and counts against
 * the operator's lockout.
 */
#include "build_config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "login_int.h"
#include "recovery.h"
#include "recovery_state.h"

#define NAME_PROMPT_MAX 64
#define PROMPT_MAX 128
#define SECONDS_PER_MINUTE 60

typedef struct {
	bg_login_ctx *l;
	bg_recovery_details d;
	char challenge[BG_RECOVERY_CHALLENGE_LEN + 1];
	char *names[BG_GRANT_MAX_APPROVERS];
	char codes[BG_GRANT_MAX_APPROVERS][BG_RECOVERY_CODE_LEN + 1];
	time_t at[BG_GRANT_MAX_APPROVERS];
	size_t n;
	const bg_signals_result *signals;
} recovery;

static bg_event *
recovery_event(const recovery *r, const char *name, const char *outcome)
{
	bg_event *ev = bg_login_event(r->l, name, outcome);

	if (ev != NULL && r->challenge[0] != '\0')
		bg_event_add_str(ev, "challenge", r->challenge);
	return ev;
}

static bg_login_result
refuse(const recovery *r, const char *reason, const char *detail, bg_login_result result)
{
	bg_event *ev = recovery_event(r, "recovery.refused",
	    result == BG_LOGIN_ERROR ? "error" : "failure");

	if (ev != NULL) {
		bg_event_add_str(ev, "reason", reason);
		if (detail != NULL)
			bg_event_add_str(ev, "detail", detail);
		bg_event_add_strv(ev, "approvers", (const char *const *)r->names, r->n);
	}
	bg_login_commit(r->l, ev);
	bg_login_info(r->l, "Recovery refused.");
	return result;
}

/* firing, quiet (every source answered, too few firing) or unreachable. */
static const char *
signals_state(const bg_signals_result *s)
{
	if (s->firing_sources > 0)
		return "firing";
	return json_object_array_length(s->errors) > 0 ? "unreachable" : "quiet";
}

static bool
offered(recovery *r, time_t expires)
{
	const bg_config_recovery *rc = &r->l->cfg.recovery;
	char shown[BG_RECOVERY_DISPLAY_LEN + 1];
	bg_event *ev = recovery_event(r, "recovery.offered", "success");
	struct tm tm;
	char until[32];

	if (ev != NULL) {
		bg_event_add_str(ev, "scope", r->d.scope);
		bg_event_add_int(ev, "quorum", (long long)rc->quorum);
		bg_event_add_strv(ev, "recovery_approvers", (const char *const *)rc->approvers.items,
		    rc->approvers.count);
		bg_event_add_int(ev, "challenge_expires_at", (long long)expires);
		bg_event_add_str(ev, "signals_state", signals_state(r->signals));
		bg_event_add_int(ev, "firing_sources", (long long)r->signals->firing_sources);
		bg_event_add_json(ev, "signals", json_object_get(r->signals->firing));
		bg_event_add_json(ev, "signal_errors", json_object_get(r->signals->errors));
	}
	if (!bg_login_commit(r->l, ev))
		return false;
	bg_recovery_display(r->challenge, shown);
	gmtime_r(&expires, &tm);
	strftime(until, sizeof(until), "%H:%M:%S UTC", &tm);
	bg_login_info(r->l, "No approval service answered. Offline recovery: %lu recovery "
	    "approvers must each run `breakglass recovery code` with these details and read "
	    "you their code.", rc->quorum);
	bg_login_info(r->l, "host: %s | account: %s | operator: %s | incident: %s | "
	    "scope: %s | challenge: %s (valid until %s)", r->d.host, r->d.account,
	    r->d.operator_name, r->d.incident, r->d.scope, shown, until);
	return true;
}

/* Counts the refusal against the operator's lockout, then journals it. */
static bg_login_result
code_refused(recovery *r, const char *who, const char *reason)
{
	char dir[PATH_MAX];
	bg_totp_policy policy;
	time_t until = 0;
	bg_error err;
	bg_event *ev;
	bool counted;

	counted = bg_login_totp_policy(r->l, dir, sizeof(dir), &policy, &err) == BG_OK &&
	    bg_totp_record_failure(&policy, r->l->operator_name, time(NULL), &until,
	    &err) == BG_OK;
	ev = recovery_event(r, "recovery.code_refused", "failure");
	if (ev != NULL) {
		bg_event_add_str(ev, "approver", who);
		bg_event_add_str(ev, "reason", reason);
		if (until != 0)
			bg_event_add_int(ev, "locked_until", (long long)until);
	}
	if (!bg_login_commit(r->l, ev) || !counted)
		return refuse(r, "state", counted ? NULL : err.msg, BG_LOGIN_ERROR);
	return refuse(r, reason, NULL, BG_LOGIN_AUTH_FAILED);
}

/* Why name cannot approve now, or NULL. */
static const char *
approver_problem(const recovery *r, const char *name)
{
	if (!bg_strlist_contains(&r->l->cfg.recovery.approvers, name))
		return "unknown-approver";
	if (strcmp(name, r->l->operator_name) == 0)
		return "self-approval";
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->names[i], name) == 0)
			return "duplicate-approver";
	return NULL;
}

static bg_login_result
ask_codes(recovery *r)
{
	const bg_config_recovery *rc = &r->l->cfg.recovery;
	char question[PROMPT_MAX], code[BG_RECOVERY_CODE_LEN + 1];
	const char *problem;
	bg_status st;
	bg_error err;
	bg_event *ev;
	char *name, *typed;

	while (r->n < rc->quorum) {
		snprintf(question, sizeof(question), "Recovery approver %zu of %lu: ", r->n + 1,
		    rc->quorum);
		if ((name = bg_login_ask(r->l, question, NAME_PROMPT_MAX, NULL)) == NULL)
			return refuse(r, "conversation", NULL, BG_LOGIN_AUTH_FAILED);
		r->names[r->n] = name;
		snprintf(question, sizeof(question), "Recovery code of %s: ", name);
		typed = r->l->io->prompt(r->l->io->arg, question, false);
		if (typed == NULL)
			return refuse(r, "conversation", NULL, BG_LOGIN_AUTH_FAILED);
		st = bg_recovery_code_parse(typed, code, &err);
		explicit_bzero(typed, strlen(typed));
		free(typed);
		/* The name stays out of r->n until its code is accepted. */
		if ((problem = approver_problem(r, name)) != NULL)
			return code_refused(r, name, problem);
		if (st != BG_OK)
			return code_refused(r, name, "malformed-code");
		st = bg_recovery_code_check(rc->keys_dir, &r->d, r->challenge, name, code, &err);
		if (st == BG_ERR_DENIED)
			return code_refused(r, name, "wrong-code");
		if (st != BG_OK)
			return refuse(r, "key", err.msg, BG_LOGIN_ERROR);
		memcpy(r->codes[r->n], code, sizeof(code));
		explicit_bzero(code, sizeof(code));
		r->at[r->n] = time(NULL);
		ev = recovery_event(r, "recovery.code_accepted", "success");
		if (ev != NULL) {
			bg_event_add_str(ev, "approver", name);
			bg_event_add_int(ev, "at", (long long)r->at[r->n]);
		}
		r->n++;
		if (!bg_login_commit(r->l, ev))
			return BG_LOGIN_ERROR;
	}
	return BG_LOGIN_OK;
}

static bg_login_result
grant(recovery *r)
{
	const bg_config_recovery *rc = &r->l->cfg.recovery;
	bg_recovery_approval a[BG_GRANT_MAX_APPROVERS];
	char id[sizeof(BG_RECOVERY_REQUEST_PREFIX) + BG_RECOVERY_CHALLENGE_LEN];
	bool ok = true;
	bg_login_result res;
	bg_error err;
	bg_event *ev;
	bg_grant g;

	memset(&g, 0, sizeof(g));
	for (size_t i = 0; i < r->n; i++) {
		a[i].approver = r->names[i];
		a[i].code = r->codes[i];
		a[i].at = r->at[i];
		if ((g.approvers[i] = strdup(r->names[i])) == NULL)
			ok = false;
		g.napprovers++;
	}
	snprintf(id, sizeof(id), "%s%s", BG_RECOVERY_REQUEST_PREFIX, r->challenge);
	g.account = strdup(r->d.account);
	g.operator_name = strdup(r->d.operator_name);
	g.incident = strdup(r->d.incident);
	g.request_id = strdup(id);
	g.scope = strdup(r->d.scope);
	g.host = strdup(r->d.host);
	g.decision_signature = strdup("");
	g.recovery = true;
	g.issued_at = time(NULL);
	g.expires_at = g.issued_at + (time_t)rc->ttl;
	if (!ok || g.account == NULL || g.operator_name == NULL || g.incident == NULL ||
	    g.request_id == NULL || g.scope == NULL || g.host == NULL ||
	    g.decision_signature == NULL ||
	    bg_recovery_record(&r->d, r->challenge, a, r->n, &g.decision, &err) != BG_OK) {
		bg_grant_free(&g);
		return refuse(r, "internal", "out of memory", BG_LOGIN_ERROR);
	}
	ev = recovery_event(r, "recovery.granted", "success");
	if (ev != NULL) {
		bg_event_add_str(ev, "scope", r->d.scope);
		bg_event_add_strv(ev, "approvers", (const char *const *)r->names, r->n);
		bg_event_add_int(ev, "issued_at", (long long)g.issued_at);
		bg_event_add_int(ev, "expires_at", (long long)g.expires_at);
		bg_event_add_str(ev, "signals_state", signals_state(r->signals));
	}
	res = bg_login_commit(r->l, ev) ? bg_login_grant_commit(r->l, &g) : BG_LOGIN_ERROR;
	bg_grant_free(&g);
	return res;
}

static bg_login_result
run(recovery *r)
{
	bg_login_ctx *l = r->l;
	const bg_config_recovery *rc = &l->cfg.recovery;
	const char *why;
	time_t issued;
	bg_login_result res;
	bg_error err;

	if (!bg_strlist_contains(&rc->scopes, l->scope))
		return refuse(r, "scope", NULL, BG_LOGIN_DENIED);
	if (r->signals->firing_sources < rc->signals_required)
		return refuse(r, "signals", signals_state(r->signals), BG_LOGIN_DENIED);
	if (bg_recovery_details_check(&r->d, &err) != BG_OK)
		return refuse(r, "details", err.msg, BG_LOGIN_DENIED);
	if (bg_recovery_challenge_issue(l->cfg.general.state_dir, &r->d, rc->challenge_ttl,
	    time(NULL), r->challenge, &issued, &err) != BG_OK)
		return refuse(r, "state", err.msg, BG_LOGIN_ERROR);
	snprintf(l->request_id, sizeof(l->request_id), "%s%s", BG_RECOVERY_REQUEST_PREFIX,
	    r->challenge);
	if (!offered(r, issued + (time_t)rc->challenge_ttl))
		return BG_LOGIN_ERROR;
	if ((res = ask_codes(r)) != BG_LOGIN_OK)
		return res;
	/* Used once, and only while it lasts; a concurrent login with it loses here. */
	if (bg_recovery_challenge_use(l->cfg.general.state_dir, &r->d, r->challenge,
	    rc->challenge_ttl, time(NULL), &why, &err) != BG_OK)
		return refuse(r, why, err.msg, strcmp(why, "state") == 0 ? BG_LOGIN_ERROR :
		    BG_LOGIN_AUTH_FAILED);
	return grant(r);
}

bg_login_result
bg_login_recover(bg_login_ctx *l, const bg_signals_result *signals,
    const bg_approval_result *approval, bg_login_result refused)
{
	recovery r;
	bg_login_result res;

	if (!l->cfg.recovery.enabled || refused == BG_LOGIN_ERROR ||
	    !bg_approval_unreachable(approval))
		return refused;
	memset(&r, 0, sizeof(r));
	r.l = l;
	r.signals = signals;
	r.d.host = l->cfg.approval.host_id;
	r.d.account = l->io->user;
	r.d.operator_name = l->operator_name;
	r.d.incident = l->incident;
	r.d.scope = l->scope;
	res = run(&r);
	for (size_t i = 0; i <= r.n && i < BG_GRANT_MAX_APPROVERS; i++)
		free(r.names[i]);
	explicit_bzero(r.codes, sizeof(r.codes));
	return res;
}

bg_login_result
bg_login_recover_short_of_signals(bg_login_ctx *l, const bg_signals_result *signals,
    bg_login_result refused)
{
	bg_approval_result probe;
	bg_login_result res;
	bg_status st;
	bg_error err;
	bg_event *ev;

	if (!l->cfg.recovery.enabled || refused == BG_LOGIN_ERROR)
		return refused;
	st = bg_approval_probe(&l->cfg, &probe, &err);
	ev = bg_login_event(l, "approval.probed", st == BG_OK ? "success" : "failure");
	if (ev != NULL) {
		bg_event_add_bool(ev, "reachable", !bg_approval_unreachable(&probe));
		if (st != BG_OK) {
			bg_event_add_str(ev, "reason", probe.reason);
			bg_event_add_str(ev, "detail", err.msg);
		}
		if (probe.http_status != 0)
			bg_event_add_int(ev, "http_status", (long long)probe.http_status);
	}
	bg_login_add_urls(ev, &probe);
	res = bg_login_commit(l, ev) ? bg_login_recover(l, signals, &probe, refused) :
	    BG_LOGIN_ERROR;
	bg_approval_result_free(&probe);
	return res;
}
