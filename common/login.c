/*
 * The break-glass login flow (DESIGN.md "The login"): every step is
 * journaled before it is allowed to proceed, and any failure denies.
 */
#include "build_config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>

#include "approval.h"
#include "audit.h"
#include "buf.h"
#include "config.h"
#include "escape.h"
#include "grant.h"
#include "killswitch.h"
#include "login.h"
#include "names.h"
#include "login_int.h"
#include "signals.h"
#include "totp.h"

#define INCIDENT_MAX 64
#define REASON_MAX 512
#define PROMPT_MAX 1024
#define INFO_MAX 512
#define SECONDS_PER_MINUTE 60
#define TOTP_STATE_SUBDIR "totp"

typedef bg_login_ctx login;

/* ---- setup and journal -------------------------------------------------- */

/*
 * Loads the configuration and decides whether the user is ours: IGNORE for
 * other accounts, ERROR (deny) when the configuration or journal is unusable.
 */
static bg_login_result
login_begin(login *l, const char *config_path, const bg_login_io *io)
{
	bg_errlist errs = { 0 };
	bg_error err;

	memset(l, 0, sizeof(*l));
	l->io = io;
	if (bg_config_load(config_path, &l->cfg, &errs) != BG_OK) {
		/* No journal to go to: syslog only. */
		bg_audit_config_invalid(io->user, errs.count > 0 ? errs.msgs[0] :
		    "invalid configuration");
		bg_errlist_free(&errs);
		return BG_LOGIN_ERROR;
	}
	if (io->user == NULL || !bg_config_is_breakglass_account(&l->cfg, io->user))
		return BG_LOGIN_IGNORE;
	if (bg_audit_init(&l->audit, &l->cfg, &err) != BG_OK) {
		bg_audit_syslog_only(&l->audit, LOG_ERR,
		    "event=config.invalid outcome=error reason=journal");
		return BG_LOGIN_ERROR;
	}
	return BG_LOGIN_OK;
}

/* Frees an answer that may hold secrets (the reason), wiping it first. */
static void
discard(char *a)
{
	if (a != NULL)
		explicit_bzero(a, strlen(a));
	free(a);
}

static void
login_end(login *l)
{
	free(l->operator_buf);
	free(l->incident);
	discard(l->reason);
	bg_config_free(&l->cfg);
}

bg_event *
bg_login_event(const login *l, const char *name, const char *outcome)
{
	bg_event *ev = bg_event_new(name, outcome);

	if (ev != NULL)
		bg_event_set_identity(ev, l->io->user, l->operator_name, l->incident,
		    l->request_id[0] != '\0' ? l->request_id : NULL);
	return ev;
}

/* Journals and frees ev; false when it could not be recorded (the caller denies). */
bool
bg_login_commit(const login *l, bg_event *ev)
{
	bg_error err;
	bool ok;

	if (ev == NULL)
		return false;
	ok = bg_audit_emit(&l->audit, ev, &err) == BG_OK;
	bg_event_free(ev);
	return ok;
}

/* One-line refusal: event with a reason (and an optional detail). */
bool
bg_login_record(const login *l, const char *name, const char *outcome, const char *reason,
    const char *detail)
{
	bg_event *ev = bg_login_event(l, name, outcome);

	if (ev != NULL && reason != NULL)
		bg_event_add_str(ev, "reason", reason);
	if (ev != NULL && detail != NULL)
		bg_event_add_str(ev, "detail", detail);
	return bg_login_commit(l, ev);
}

bg_login_result
bg_login_refused(const login *l, const char *name, const char *reason, const char *detail,
    bg_login_result result)
{
	bg_login_record(l, name, result == BG_LOGIN_ERROR ? "error" : "failure", reason, detail);
	return result;
}

void
bg_login_info(const login *l, const char *fmt, ...)
{
	char text[INFO_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	l->io->info(l->io->arg, text);
}

/* ---- prompts ------------------------------------------------------------ */

static char *
trimmed(char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t')
		memmove(s, s + 1, strlen(s));
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

/*
 * Asks and trims; NULL when the conversation failed or the answer is empty,
 * too long or not displayable text.  A bidi or C1 control would make the
 * approvers and the journal's readers see another text than the one
 * approved, so such an answer is refused with a word to the operator, and
 * handed back in *rejected (when rejected is not NULL) for the journal,
 * which escapes it.
 */
char *
bg_login_ask(const login *l, const char *question, size_t max, char **rejected)
{
	char *a = l->io->prompt(l->io->arg, question, true);

	if (rejected != NULL)
		*rejected = NULL;
	if (a == NULL)
		return NULL;
	trimmed(a);
	if (*a == '\0' || strlen(a) > max) {
		discard(a);
		return NULL;
	}
	if (!bg_text_displayable(a)) {
		bg_login_info(l, "Refused: control characters, bidirectional-text controls (such as "
		    "U+202E) and invalid UTF-8 are not accepted; type plain text.");
		if (rejected != NULL)
			*rejected = a;
		else
			discard(a);
		return NULL;
	}
	return a;
}

/* A refused answer: journaled with the rejected text (escaped) as its detail. */
static bg_login_result
refused_answer(const login *l, const char *reason, char *rejected, bg_login_result result)
{
	bg_login_result r = bg_login_refused(l, "auth.begin", reason, rejected, result);

	discard(rejected);
	return r;
}

static const char *
ask_scope(login *l)
{
	char question[PROMPT_MAX];
	const bg_config_scope *sc;
	bg_buf names;
	char *a, *rejected;
	size_t i;

	if (l->cfg.nscope == 1)
		return l->cfg.scope[0].meta.name;
	bg_buf_init(&names, PROMPT_MAX / 2);
	for (i = 0; i < l->cfg.nscope; i++)
		bg_buf_printf(&names, "%s%s", i > 0 ? ", " : "", l->cfg.scope[i].meta.name);
	snprintf(question, sizeof(question), "Scope (%s): ",
	    names.data != NULL ? names.data : "");
	bg_buf_free(&names);
	if ((a = bg_login_ask(l, question, PROMPT_MAX, &rejected)) == NULL) {
		discard(rejected);
		return NULL;
	}
	sc = bg_config_find_scope(&l->cfg, a);
	free(a);
	return sc != NULL ? sc->meta.name : NULL;
}

static bg_login_result
prompt_all(login *l, char **code)
{
	char *rejected;

	if (l->cfg.general.operator_mode == BG_OPERATOR_PROMPT) {
		l->operator_buf = bg_login_ask(l, "Operator: ", PROMPT_MAX, &rejected);
		if (l->operator_buf == NULL || !bg_totp_name_valid(l->operator_buf))
			return refused_answer(l, "bad-operator", rejected, BG_LOGIN_AUTH_FAILED);
		/* The canonical form (names.h): "Alice" is alice, for TOTP and for approvers. */
		bg_name_fold(l->operator_buf);
		l->operator_name = l->operator_buf;
	} else
		l->operator_name = l->io->user;
	if ((l->incident = bg_login_ask(l, "Incident: ", INCIDENT_MAX, &rejected)) == NULL)
		return refused_answer(l, "bad-incident", rejected, BG_LOGIN_DENIED);
	if ((l->reason = bg_login_ask(l, "Reason: ", REASON_MAX, &rejected)) == NULL)
		return refused_answer(l, "bad-reason", rejected, BG_LOGIN_DENIED);
	if ((l->scope = ask_scope(l)) == NULL)
		return bg_login_refused(l, "auth.begin", "unknown-scope", NULL, BG_LOGIN_DENIED);
	*code = l->io->prompt(l->io->arg, "TOTP code: ", false);
	if (*code == NULL)
		return bg_login_refused(l, "auth.begin", "conversation", NULL, BG_LOGIN_AUTH_FAILED);
	return BG_LOGIN_OK;
}

/* ---- factors ------------------------------------------------------------ */

bg_status
bg_login_totp_policy(const login *l, char *dir, size_t dirsz, bg_totp_policy *p, bg_error *err)
{
	if ((size_t)snprintf(dir, dirsz, "%s/%s", l->cfg.general.state_dir,
	    TOTP_STATE_SUBDIR) >= dirsz)
		return bg_error_set(err, BG_ERR_INVALID, "state_dir too long");
	/* Created on first use, private to root. */
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return bg_error_errno(err, BG_ERR_IO, errno, "%s", dir);
	p->state_dir = dir;
	p->window = (unsigned)l->cfg.totp.window;
	p->max_failures = l->cfg.totp.max_failures;
	p->failure_window = l->cfg.totp.failure_window;
	p->lockout = l->cfg.totp.lockout;
	return BG_OK;
}

static bg_login_result
check_totp(login *l, const char *code)
{
	char dir[PATH_MAX], secret_path[PATH_MAX];
	bg_totp_verdict verdict;
	bg_totp_policy policy;
	bg_totp_secret secret;
	time_t until;
	bool locked;
	bg_error err;

	if (bg_login_totp_policy(l, dir, sizeof(dir), &policy, &err) != BG_OK)
		return bg_login_refused(l, "auth.totp_failed", "state", err.msg, BG_LOGIN_ERROR);
	if (bg_totp_lockout_status(&policy, l->operator_name, time(NULL), &locked, &until,
	    &err) != BG_OK)
		return bg_login_refused(l, "auth.totp_failed", "state", err.msg, BG_LOGIN_ERROR);
	if (locked)
		return bg_login_refused(l, "auth.locked_out", "locked-out", NULL, BG_LOGIN_AUTH_FAILED);
	if ((size_t)snprintf(secret_path, sizeof(secret_path), "%s/%s",
	    l->cfg.totp.operators_dir, l->operator_name) >= sizeof(secret_path) ||
	    bg_totp_secret_load(secret_path, &secret, &err) != BG_OK)
		return bg_login_refused(l, "auth.totp_failed", "unknown-operator", NULL,
		    BG_LOGIN_AUTH_FAILED);
	if (bg_totp_verify(&policy, l->operator_name, &secret, code, time(NULL), &verdict,
	    &until, &err) != BG_OK) {
		bg_totp_secret_clear(&secret);
		return bg_login_refused(l, "auth.totp_failed", "error", err.msg, BG_LOGIN_ERROR);
	}
	bg_totp_secret_clear(&secret);
	switch (verdict) {
	case BG_TOTP_ACCEPTED:
		return BG_LOGIN_OK;
	case BG_TOTP_REPLAYED:
		return bg_login_refused(l, "auth.totp_replayed", "replayed", NULL, BG_LOGIN_AUTH_FAILED);
	case BG_TOTP_LOCKED:
		return bg_login_refused(l, "auth.locked_out", "locked-out", NULL, BG_LOGIN_AUTH_FAILED);
	default:
		return bg_login_refused(l, "auth.totp_failed", "wrong-code", NULL, BG_LOGIN_AUTH_FAILED);
	}
}

/* *short_of: the sources answered, but fewer fire than [signals] required. */
static bg_login_result
check_signals(login *l, bg_signals_result *res, bool *short_of)
{
	bg_status rc;
	bg_error err;
	bg_event *ev;

	rc = bg_signals_check(&l->cfg, BG_LOGIN_SIGNALS_TIMEOUT_MS, res, &err);
	*short_of = rc == BG_ERR_DENIED;
	ev = bg_login_event(l, "signals.checked", rc == BG_OK ? "success" : "failure");
	if (ev != NULL) {
		if (rc != BG_OK)
			bg_event_add_str(ev, "reason", rc == BG_ERR_DENIED ?
			    "no qualifying emergency" : err.msg);
		bg_event_add_int(ev, "firing_sources", (long long)res->firing_sources);
		bg_event_add_int(ev, "required", (long long)l->cfg.signals.required);
		bg_event_add_json(ev, "signals", json_object_get(res->firing));
		bg_event_add_json(ev, "errors", json_object_get(res->errors));
	}
	if (!bg_login_commit(l, ev))
		return BG_LOGIN_ERROR;
	return rc == BG_OK ? BG_LOGIN_OK : BG_LOGIN_DENIED;
}

void
bg_login_add_urls(bg_event *ev, const bg_approval_result *res)
{
	if (ev == NULL)
		return;
	if (res->url != NULL)
		bg_event_add_str(ev, "url", res->url);
	if (res->nfailed_urls > 0)
		bg_event_add_strv(ev, "failed_urls", res->failed_urls, res->nfailed_urls);
}

/* Called once the request is filed, then after every pending answer. */
static void
on_progress(const char *request_id, const char *url, unsigned long seconds_left, void *arg)
{
	login *l = arg;
	bg_event *ev;

	if (l->request_id[0] == '\0') {
		snprintf(l->request_id, sizeof(l->request_id), "%s", request_id);
		ev = bg_login_event(l, "approval.requested", "success");
		if (ev != NULL) {
			bg_event_add_str(ev, "scope", l->scope);
			bg_event_add_int(ev, "quorum", (long long)l->cfg.approval.quorum);
			bg_event_add_str(ev, "url", url);
		}
		if (!bg_login_commit(l, ev))
			l->journal_failed = true;
		bg_login_info(l, "Approval request %s sent to the security team; waiting up to "
		    "%lu min %lu s for %lu approvals.", request_id,
		    seconds_left / SECONDS_PER_MINUTE, seconds_left % SECONDS_PER_MINUTE,
		    l->cfg.approval.quorum);
		return;
	}
	if (l->io->debug)
		bg_login_info(l, "Still waiting for approval of %s (%lu s left).", request_id,
		    seconds_left);
}

/* The journal event for an approval refusal reason (docs/protocol.md section 7). */
static const char *
approval_event(const char *reason)
{
	if (strcmp(reason, "denied") == 0)
		return "approval.denied";
	if (strcmp(reason, "expired") == 0 || strcmp(reason, "timeout") == 0)
		return "approval.expired";
	return "approval.error";
}

static bg_login_result
get_approval(login *l, json_object *signals, bg_approval_result *res)
{
	bg_approval_request req = {
		.account = l->io->user, .operator_name = l->operator_name,
		.incident = l->incident, .reason = l->reason, .scope = l->scope,
		.ttl = l->cfg.general.grant_ttl, .service = l->io->service,
		.rhost = l->io->rhost, .tty = l->io->tty, .signals = signals,
	};
	bg_error err;
	bg_event *ev;
	bg_status rc;

	rc = bg_approval_run(&l->cfg, &req, on_progress, l, res, &err);
	if (l->request_id[0] == '\0' && res->request_id[0] != '\0')
		snprintf(l->request_id, sizeof(l->request_id), "%s", res->request_id);
	if (l->journal_failed)
		return BG_LOGIN_ERROR;
	if (rc != BG_OK) {
		bool internal = strcmp(res->reason, "internal") == 0;

		bg_login_info(l, "Approval was not obtained.");
		ev = bg_login_event(l, approval_event(res->reason), internal ? "error" : "failure");
		if (ev != NULL) {
			bg_event_add_str(ev, "reason", res->reason);
			bg_event_add_str(ev, "detail", err.msg);
		}
		bg_login_add_urls(ev, res);
		if (!bg_login_commit(l, ev) || internal)
			return BG_LOGIN_ERROR;
		return BG_LOGIN_AUTH_FAILED;
	}
	ev = bg_login_event(l, "approval.approved", "success");
	if (ev != NULL)
		bg_event_add_strv(ev, "approvers", (const char *const *)res->approvers,
		    res->napprovers);
	bg_login_add_urls(ev, res);
	return bg_login_commit(l, ev) ? BG_LOGIN_OK : BG_LOGIN_ERROR;
}

static char *
dup_or_null(const char *s, bool *ok)
{
	char *d = s != NULL ? strdup(s) : NULL;

	if (s != NULL && d == NULL)
		*ok = false;
	return d;
}

bg_login_result
bg_login_grant_commit(login *l, bg_grant *g)
{
	bool removed;
	bg_error err;
	bg_event *ev;

	if (bg_grant_write(l->cfg.general.run_dir, g, &err) != BG_OK)
		return bg_login_refused(l, "grant.issued", "write", err.msg, BG_LOGIN_ERROR);
	ev = bg_login_event(l, "grant.issued", "success");
	if (ev != NULL) {
		bg_event_add_str(ev, "scope", l->scope);
		bg_event_add_strv(ev, "approvers", (const char *const *)g->approvers,
		    g->napprovers);
		bg_event_add_int(ev, "expires_at", (long long)g->expires_at);
		if (g->recovery)
			bg_event_add_bool(ev, "recovery", true);
	}
	if (!bg_login_commit(l, ev)) {
		/* Not recorded, not granted. */
		bg_grant_revoke(l->cfg.general.run_dir, l->io->user, &removed, &err);
		return BG_LOGIN_ERROR;
	}
	bg_login_info(l, "Access granted for incident %s, scope %s, for %lu min.", l->incident,
	    l->scope, (unsigned long)(g->expires_at - g->issued_at) / SECONDS_PER_MINUTE);
	return BG_LOGIN_OK;
}

static bg_login_result
issue_grant(login *l, const bg_approval_result *res)
{
	unsigned long ttl = res->ttl < l->cfg.general.grant_ttl ? res->ttl :
	    l->cfg.general.grant_ttl;
	time_t now = time(NULL);
	bool ok = true;
	bg_login_result r;
	bg_grant g;
	size_t i;

	memset(&g, 0, sizeof(g));
	g.account = dup_or_null(l->io->user, &ok);
	g.operator_name = dup_or_null(l->operator_name, &ok);
	g.incident = dup_or_null(l->incident, &ok);
	g.request_id = dup_or_null(res->request_id, &ok);
	g.scope = dup_or_null(l->scope, &ok);
	g.host = dup_or_null(l->cfg.approval.host_id, &ok);
	g.decision = dup_or_null(res->decision, &ok);
	g.decision_signature = dup_or_null(res->decision_signature, &ok);
	for (i = 0; i < res->napprovers; i++, g.napprovers++)
		g.approvers[i] = dup_or_null(res->approvers[i], &ok);
	/* Counted from the earlier of the service's and this host's clocks. */
	g.issued_at = res->issued_at < now ? res->issued_at : now;
	g.expires_at = g.issued_at + (time_t)ttl;
	r = ok ? bg_login_grant_commit(l, &g) :
	    bg_login_refused(l, "grant.issued", "write", "out of memory", BG_LOGIN_ERROR);
	bg_grant_free(&g);
	return r;
}

/* ---- entry points ------------------------------------------------------- */

static bool
kill_switch_engaged(const login *l)
{
	bool engaged;
	bg_error err;

	bg_killswitch_engaged(l->cfg.general.kill_switch, &engaged, &err);
	return engaged;
}

static bg_login_result
authenticate(login *l)
{
	bg_signals_result signals;
	bg_approval_result approval;
	bg_login_result r;
	bg_event *ev;
	char *code = NULL;
	bool short_of = false;

	if (kill_switch_engaged(l))
		return bg_login_refused(l, "auth.begin", "kill-switch", NULL, BG_LOGIN_DENIED);
	r = prompt_all(l, &code);
	if (r != BG_LOGIN_OK) {
		free(code);
		return r;
	}
	ev = bg_login_event(l, "auth.begin", "success");
	if (ev != NULL) {
		bg_event_add_str(ev, "scope", l->scope);
		bg_event_add_str(ev, "reason", l->reason);
		bg_event_add_str(ev, "service", l->io->service);
		bg_event_add_str(ev, "rhost", l->io->rhost);
		bg_event_add_str(ev, "tty", l->io->tty);
	}
	r = bg_login_commit(l, ev) ? check_totp(l, code) : BG_LOGIN_ERROR;
	explicit_bzero(code, strlen(code));
	free(code);
	if (r != BG_LOGIN_OK)
		return r;
	r = check_signals(l, &signals, &short_of);
	if (r == BG_LOGIN_OK) {
		r = get_approval(l, signals.firing, &approval);
		if (r == BG_LOGIN_OK)
			r = issue_grant(l, &approval);
		else
			r = bg_login_recover(l, &signals, &approval, r);
		bg_approval_result_free(&approval);
	} else if (short_of) {
		r = bg_login_recover_short_of_signals(l, &signals, r);
	}
	bg_signals_result_free(&signals);
	return r;
}

bg_login_result
bg_login_authenticate(const char *config_path, const bg_login_io *io)
{
	login l;
	bg_login_result r;

	r = login_begin(&l, config_path, io);
	if (r == BG_LOGIN_OK)
		r = authenticate(&l);
	login_end(&l);
	return r;
}

/* Loads the account's grant and checks it; the reason of a refusal in *why. */
static bg_login_result
grant_usable(login *l, bg_grant *g, const char **why, bg_error *err)
{
	bg_status rc;

	rc = bg_grant_load(l->cfg.general.run_dir, l->io->user, g, err);
	if (rc == BG_ERR_NOTFOUND) {
		*why = "no-grant";
		return BG_LOGIN_DENIED;
	}
	if (rc != BG_OK) {
		*why = "grant-unreadable";
		return BG_LOGIN_DENIED;
	}
	l->operator_name = g->operator_name;
	l->incident = g->incident != NULL ? strdup(g->incident) : NULL;
	snprintf(l->request_id, sizeof(l->request_id), "%s",
	    g->request_id != NULL ? g->request_id : "");
	rc = bg_grant_validate_cfg(g, l->io->user, &l->cfg, time(NULL), err);
	if (rc == BG_ERR_DENIED) {
		*why = "grant-expired";
		return BG_LOGIN_DENIED;
	}
	if (rc != BG_OK) {
		*why = "grant-invalid";
		return BG_LOGIN_DENIED;
	}
	return BG_LOGIN_OK;
}

bg_login_result
bg_login_account(const char *config_path, const bg_login_io *io)
{
	const char *why = NULL;
	login l;
	bg_grant g;
	bg_error err;
	bg_login_result r;

	memset(&g, 0, sizeof(g));
	r = login_begin(&l, config_path, io);
	if (r == BG_LOGIN_OK && kill_switch_engaged(&l))
		r = bg_login_refused(&l, "account.denied", "kill-switch", NULL, BG_LOGIN_DENIED);
	else if (r == BG_LOGIN_OK && (r = grant_usable(&l, &g, &why, &err)) != BG_LOGIN_OK)
		bg_login_record(&l, "account.denied", "failure", why,
		    strcmp(why, "no-grant") == 0 ? NULL : err.msg);
	l.operator_name = NULL;
	bg_grant_free(&g);
	login_end(&l);
	return r;
}

bg_login_result
bg_login_session(const char *config_path, const bg_login_io *io, bool open)
{
	const char *why = NULL;
	bool removed = false;
	login l;
	bg_grant g;
	bg_error err;
	bg_login_result r;

	memset(&g, 0, sizeof(g));
	r = login_begin(&l, config_path, io);
	if (r != BG_LOGIN_OK) {
		login_end(&l);
		return r;
	}
	/* The grant names who and why; a session without one is still journaled. */
	grant_usable(&l, &g, &why, &err);
	if (!bg_login_record(&l, open ? "session.opened" : "session.closed", "success", NULL, NULL))
		r = BG_LOGIN_ERROR;
	if (!open && l.cfg.general.revoke_on_logout) {
		if (bg_grant_revoke(l.cfg.general.run_dir, io->user, &removed, &err) != BG_OK)
			r = bg_login_refused(&l, "grant.revoked", "logout", err.msg, BG_LOGIN_ERROR);
		else if (removed && !bg_login_record(&l, "grant.revoked", "success", "logout", NULL))
			r = BG_LOGIN_ERROR;
	}
	l.operator_name = NULL;
	bg_grant_free(&g);
	login_end(&l);
	return r;
}
