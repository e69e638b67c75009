/*
 * The approver API: votes (POST /v1/requests/{id}/approve|deny), the list
 * of pending requests, and the liveness check.  A vote needs the approver's
 * token and TOTP code; the service refuses self-approval, a second vote by
 * the same approver, votes by approvers the request does not name, and votes
 * on requests that are no longer pending.
 */
#include "build_config.h"

#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include <microhttpd.h>

#include "approvald.h"
#include "bodies.h"
#include "escape.h"
#include "json_string.h"
#include "names.h"

#define BEARER_PREFIX "Bearer "
#define ESCAPED_MAX 256
/* The longest backoff for one address, and for one approver (whom others can slow). */
#define THROTTLE_ADDRESS_CAP_MS (15 * 60 * AD_MS_PER_SECOND)
#define THROTTLE_APPROVER_CAP_MS (60 * AD_MS_PER_SECOND)
#define THROTTLE_KEY_MAX 96

const char *
ad_bearer_token(const ad_http_req *r)
{
	const char *h = ad_http_header(r, MHD_HTTP_HEADER_AUTHORIZATION);

	if (h == NULL || strncmp(h, BEARER_PREFIX, strlen(BEARER_PREFIX)) != 0)
		return NULL;
	return h + strlen(BEARER_PREFIX);
}

bool
ad_vote_body_parse(const char *body, size_t len, json_object **doc, ad_vote_body *v,
    bg_error *err)
{
	static const ad_member with_totp[] = {
		{ "approver", T_STRING }, { "totp", T_STRING }, { "comment", T_STRING },
	};
	static const ad_member with_webauthn[] = {
		{ "approver", T_STRING }, { "webauthn", T_OBJECT }, { "comment", T_STRING },
	};
	const char *bad, *who;
	bool passkey;

	if ((*doc = ad_body_parse(body, len, err)) == NULL)
		return false;
	passkey = json_object_object_get_ex(*doc, "webauthn", NULL);
	/* The comment is optional: two members, or three with it. */
	if (!ad_members_ok(*doc, passkey ? with_webauthn : with_totp,
	    json_object_object_get_ex(*doc, "comment", NULL) ? 3 : 2, &bad)) {
		bg_error_set(err, BG_ERR_INVALID, "expected {\"approver\", \"totp\" or "
		    "\"webauthn\", \"comment\"}: %s", bad);
		return false;
	}
	who = bg_json_member_cstring(*doc, "approver");
	if (!bg_name_valid(who)) {
		bg_error_set(err, BG_ERR_INVALID, "approver: not a name");
		return false;
	}
	snprintf(v->approver, sizeof(v->approver), "%s", who);
	bg_name_fold(v->approver);
	v->totp = passkey ? NULL : bg_json_member_cstring(*doc, "totp");
	v->webauthn = NULL;
	if (passkey)
		json_object_object_get_ex(*doc, "webauthn", &v->webauthn);
	v->comment = json_object_object_get_ex(*doc, "comment", NULL) ?
	    bg_json_member_cstring(*doc, "comment") : "";
	return true;
}

/* id: the request voted on; NULL for a sign-in. */
static void
refusal_log(const ad_http_req *r, const char *approver, const char *id,
    const char *why)
{
	char a[ESCAPED_MAX], i[ESCAPED_MAX];

	bg_escape_printable(approver, a, sizeof(a));
	if (id == NULL) {
		ad_log(LOG_WARNING, "sign-in refused: approver=%s source=%s: %s", a,
		    r->source, why);
		return;
	}
	bg_escape_printable(id, i, sizeof(i));
	ad_log(LOG_WARNING, "vote refused: approver=%s request=%s source=%s: %s", a, i,
	    r->source, why);
}

/* The backoff table's keys: the source address, and the approver when configured. */
static void
throttle_keys(const ad_http_req *r, const ad_config_approver *a,
    char addr[THROTTLE_KEY_MAX], char name[THROTTLE_KEY_MAX])
{
	snprintf(addr, THROTTLE_KEY_MAX, "address:%s", r->source);
	snprintf(name, THROTTLE_KEY_MAX, "approver:%s", a != NULL ? a->meta.name : "");
}

/* The key of the approver at this request's address, for ad_throttle_trust. */
static void
trust_key(const ad_http_req *r, const char *approver, char pair[THROTTLE_KEY_MAX])
{
	snprintf(pair, THROTTLE_KEY_MAX, "%s@%s", approver, r->source);
}

bool
ad_approver_throttled(ad_http_req *r, const char *approver, ad_response *res)
{
	const ad_config_approver *a = approver != NULL ?
	    ad_config_find_approver(r->app->cfg, approver) : NULL;
	char addr[THROTTLE_KEY_MAX], name[THROTTLE_KEY_MAX], pair[THROTTLE_KEY_MAX], msg[128];
	int64_t wait, by_name = 0;

	throttle_keys(r, a, addr, name);
	wait = ad_throttle_wait_ms(addr, r->now_ms);
	if (a != NULL) {
		trust_key(r, a->meta.name, pair);
		if (!ad_throttle_trusted(pair, r->now_ms))
			by_name = ad_throttle_wait_ms(name, r->now_ms);
	}
	if (by_name > wait)
		wait = by_name;
	if (wait == 0)
		return false;
	ad_log(LOG_WARNING, "approver call throttled: %s%s source=%s: %lld ms left",
	    a != NULL ? "approver=" : "", a != NULL ? a->meta.name : "", r->source,
	    (long long)wait);
	snprintf(msg, sizeof(msg), "too many failed attempts: retry in %lld s",
	    (long long)(wait + AD_MS_PER_SECOND - 1) / AD_MS_PER_SECOND);
	ad_response_error(res, MHD_HTTP_TOO_MANY_REQUESTS, msg);
	return true;
}

void
ad_approver_count_failure(ad_http_req *r, const char *approver)
{
	const ad_config_approver *a = approver != NULL ?
	    ad_config_find_approver(r->app->cfg, approver) : NULL;
	char addr[THROTTLE_KEY_MAX], name[THROTTLE_KEY_MAX];
	int64_t by_addr, by_name = 0;
	bg_event *ev;
	bg_error err;

	throttle_keys(r, a, addr, name);
	by_addr = ad_throttle_fail(addr, THROTTLE_ADDRESS_CAP_MS, r->now_ms);
	if (a != NULL)
		by_name = ad_throttle_fail(name, THROTTLE_APPROVER_CAP_MS, r->now_ms);
	if (by_addr == 0 && by_name == 0)
		return;
	if ((ev = ad_event_new(r->app, "approver.throttled", "failure", NULL,
	    a != NULL ? a->meta.name : NULL, r->source)) == NULL) {
		ad_log(LOG_ERR, "throttle: out of memory");
		return;
	}
	bg_event_add_int(ev, "address_wait_ms", by_addr);
	bg_event_add_int(ev, "approver_wait_ms", by_name);
	/* The wait holds whether or not it is journaled: it only refuses. */
	if (bg_audit_emit(&r->app->audit, ev, &err) != BG_OK)
		ad_log(LOG_ERR, "throttle: %s", err.msg);
	bg_event_free(ev);
}

/*
 * The vote itself, inside its transaction, and added to votes: false with
 * res filled on refusal.
 */
static bool
insert_vote(ad_http_req *r, const char *id, bool approve, const ad_vote_body *vb,
    const ad_request *req, ad_votes *votes, ad_response *res, bg_error *err, bg_status *rc)
{
	ad_vote v = { .approver = (char *)vb->approver, .approve = approve,
	    .at_ms = r->now_ms, .comment = (char *)vb->comment };

	if (bg_name_equal(req->operator_name, vb->approver)) {
		refusal_log(r, vb->approver, id, "self-approval");
		ad_response_error(res, MHD_HTTP_FORBIDDEN, "the operator cannot vote");
		return false;
	}
	if (!ad_request_names(req, vb->approver)) {
		refusal_log(r, vb->approver, id, "not a designated approver");
		ad_response_error(res, MHD_HTTP_FORBIDDEN, "not a designated approver");
		return false;
	}
	if (strcmp(req->status, "pending") != 0) {
		refusal_log(r, vb->approver, id, "no longer pending");
		ad_response_error(res, MHD_HTTP_CONFLICT, "the request is no longer pending");
		return false;
	}
	if ((*rc = ad_store_vote_insert(r->app->store, id, &v, err)) == BG_ERR_DENIED) {
		*rc = BG_OK;
		refusal_log(r, vb->approver, id, "already voted");
		ad_response_error(res, MHD_HTTP_CONFLICT, "already voted");
		return false;
	}
	if (*rc == BG_OK)
		*rc = ad_votes_append(votes, &v, err);
	return *rc == BG_OK;
}

void
ad_vote_deny_unjournaled(ad_http_req *r, const char *id)
{
	char shown[ESCAPED_MAX];
	bg_error err;
	bg_status rc;

	bg_escape_printable(id, shown, sizeof(shown));
	rc = ad_store_begin(r->app->store, &err);
	if (rc == BG_OK)
		rc = ad_store_request_set_status(r->app->store, id, "denied", r->now_ms, &err);
	if (rc == BG_OK)
		rc = ad_store_commit(r->app->store, &err);
	if (rc != BG_OK) {
		ad_store_rollback(r->app->store);
		ad_log(LOG_CRIT, "request %s: a vote could not be journaled, nor the request "
		    "denied: %s", shown, err.msg);
		return;
	}
	ad_log(LOG_ERR, "request %s: a vote could not be journaled: the request is denied",
	    shown);
	ad_waiters_wake(r->app, id, r->now_ms);
}

bg_event *
ad_voted_event(const ad_app *app, const char *source, const ad_request *req,
    const ad_vote_body *vb, bool approve)
{
	bg_event *ev = ad_event_new(app, "approval.voted", "success", req, vb->approver,
	    source);

	if (ev != NULL) {
		bg_event_add_str(ev, "vote", approve ? "approve" : "deny");
		bg_event_add_str(ev, "comment", vb->comment);
	}
	return ev;
}

/*
 * Authenticated, in the transaction the caller began: the vote is
 * committed first and journaled (approval.voted) only then, so the journal
 * never records a vote that a failed commit or a crash lost; the decision
 * it makes is then made from the request as this transaction read and
 * left it, journaled and committed as every decision is
 * (ad_vote_committed: now, or with the vote's group).
 */
void
ad_vote_cast(ad_http_req *r, const char *id, bool approve, const ad_vote_body *vb,
    ad_response *res)
{
	ad_request req = { 0 };
	ad_votes votes = { 0 };
	bg_event *ev = NULL;
	bg_status rc;
	bg_error err;
	bool voted = false, loaded = false;

	/* Held to the commit: a vote on another instance waits, and sees this one. */
	rc = ad_request_load_held(r->app, id, &req, &votes, r->source, r->now_ms, &err);
	loaded = rc == BG_OK;
	if (loaded)
		voted = insert_vote(r, id, approve, vb, &req, &votes, res, &err, &rc);
	/* Built before the commit: once the vote is committed, only the journal can fail. */
	if (rc == BG_OK && voted && (ev = ad_voted_event(r->app, r->source, &req, vb,
	    approve)) == NULL)
		rc = bg_error_set(&err, BG_ERR_NOMEM, "out of memory");
	/*
	 * A refusal may still have expired the request: keep that.  A code spent
	 * on a request that does not exist stays spent (its TOTP state is in
	 * this transaction), or it could be replayed on the real one.
	 */
	if (rc == BG_OK || (rc == BG_ERR_NOTFOUND && !loaded)) {
		bg_error cerr;
		bg_status crc = ad_store_commit(r->app->store, &cerr);

		if (crc != BG_OK) {
			ad_store_rollback(r->app->store);
			rc = crc;
			err = cerr;
		} else if (rc == BG_OK) {
			ad_notifier_kick(r->app->notifier);
		}
	} else {
		ad_store_rollback(r->app->store);
	}
	if (rc == BG_OK && voted) {
		ad_vote_committed(r, id, ev, &req, &votes, res);
		return;
	}
	if (loaded) {
		ad_votes_clear(&votes);
		ad_request_clear(&req);
	}
	bg_event_free(ev);
	if (rc == BG_ERR_NOTFOUND)
		ad_response_error(res, MHD_HTTP_NOT_FOUND, "no such request");
	else if (rc != BG_OK) {
		ad_log(LOG_ERR, "vote: %s", err.msg);
		ad_response_error(res, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "cannot record the vote");
	}
}

bool
ad_approver_confirmed(ad_http_req *r, const char *approver, const char *id,
    bg_status rc, ad_auth_verdict verdict, bg_error *err, ad_response *res)
{
	if (rc != BG_OK) {
		ad_store_rollback(r->app->store);
		ad_log(LOG_ERR, "approver authentication: %s", err->msg);
		ad_response_error(res, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "authentication unavailable");
		return false;
	}
	if (verdict == AD_AUTH_OK)
		return true;
	/* The failure counts even if nothing else happens. */
	if (ad_store_commit(r->app->store, err) != BG_OK) {
		ad_store_rollback(r->app->store);
		ad_log(LOG_ERR, "approver authentication: %s", err->msg);
	}
	refusal_log(r, approver, id, verdict == AD_AUTH_REPLAYED ?
	    "TOTP code replayed" : verdict == AD_AUTH_LOCKED ?
	    "TOTP locked out" : "bad token or second factor");
	if (verdict == AD_AUTH_REFUSED)
		ad_approver_count_failure(r, approver);
	ad_response_error(res, MHD_HTTP_UNAUTHORIZED, "authentication failed");
	return false;
}

void
ad_approver_trust(const ad_http_req *r, const char *approver)
{
	const ad_config_approver *a = ad_config_find_approver(r->app->cfg, approver);
	char pair[THROTTLE_KEY_MAX];

	if (a != NULL) {
		trust_key(r, a->meta.name, pair);
		ad_throttle_trust(pair, r->now_ms);
	}
}

bool
ad_session_confirm(ad_http_req *r, json_object *confirm, const char *binding,
    const char *about, char approver[BG_NAME_MAX + 1], ad_response *res)
{
	ad_auth_verdict verdict = AD_AUTH_REFUSED;  /* fail closed on every path */
	ad_session sess;
	bg_error err;
	bg_status rc;

	if (ad_store_begin(r->app->store, &err) != BG_OK) {
		ad_log(LOG_ERR, "session vote: %s", err.msg);
		ad_response_error(res, MHD_HTTP_INTERNAL_SERVER_ERROR, "database error");
		return false;
	}
	if (!ad_session_check(r, true, &sess, res))
		return false;
	snprintf(approver, BG_NAME_MAX + 1, "%s", sess.approver);
	explicit_bzero(&sess, sizeof(sess));
	if (ad_approver_throttled(r, approver, res)) {
		ad_store_rollback(r->app->store);
		return false;
	}
	rc = ad_factor_confirm(r->app, r, approver, confirm, binding, &verdict, &err);
	if (!ad_approver_confirmed(r, approver, about, rc, verdict, &err, res))
		return false;
	ad_approver_trust(r, approver);
	return true;
}

bool
ad_vote_binding(const char *action, const char *const *ids, size_t n, char *out,
    size_t outsz)
{
	size_t len = (size_t)snprintf(out, outsz, "vote:%s:", action);

	for (size_t i = 0; i < n && len < outsz; i++)
		len += (size_t)snprintf(out + len, outsz - len, "%s%s", i > 0 ? "," : "",
		    ids[i]);
	return len < outsz;
}

/* Shown to the operator's host, the journal and other approvers: plain text only. */
bool
ad_comment_ok(const char *comment, ad_response *res)
{
	if (bg_text_displayable(comment))
		return true;
	ad_response_error(res, MHD_HTTP_BAD_REQUEST, "comment: control characters, "
	    "bidirectional-text controls and invalid UTF-8 are not accepted");
	return false;
}

/*
 * The bearer-token API: {"approver", "totp" or "webauthn", "comment"} with
 * the approver's token.
 */
static void
bearer_vote(ad_http_req *r, const char *id, bool approve, ad_response *res)
{
	char binding[AD_BINDING_MAX];
	json_object *doc, *confirm;
	ad_vote_body vb;
	ad_auth_verdict verdict = AD_AUTH_REFUSED;  /* fail closed on every path */
	bg_error err;
	bg_status rc;

	if (!ad_vote_body_parse(r->body, r->body_len, &doc, &vb, &err)) {
		ad_response_error(res, MHD_HTTP_BAD_REQUEST, err.msg);
		json_object_put(doc);
		return;
	}
	if (!ad_comment_ok(vb.comment, res) || ad_approver_throttled(r, vb.approver, res)) {
		json_object_put(doc);
		return;
	}
	/* The factor as ad_factor_confirm takes it: {"totp": code} or {"webauthn": assertion}. */
	confirm = json_object_new_object();
	if (confirm != NULL && vb.webauthn != NULL)
		json_object_object_add(confirm, "webauthn", json_object_get(vb.webauthn));
	else if (confirm != NULL)
		json_object_object_add(confirm, "totp", json_object_new_string(vb.totp));
	ad_vote_binding(approve ? "approve" : "deny", &id, 1, binding, sizeof(binding));
	/* One transaction: the TOTP state is stored with the vote or the refusal. */
	rc = ad_store_begin(r->app->store, &err);
	if (rc == BG_OK)
		rc = ad_approver_authenticate(r->app, r, vb.approver, ad_bearer_token(r),
		    confirm, binding, &verdict, &err);
	if (ad_approver_confirmed(r, vb.approver, id, rc, verdict, &err, res)) {
		ad_approver_trust(r, vb.approver);
		ad_vote_cast(r, id, approve, &vb, res);
	}
	json_object_put(confirm);
	json_object_put(doc);
}

/* From a signed-in page: {"comment", "confirm"}, the session's cookie and CSRF token. */
static void
session_vote(ad_http_req *r, const char *id, bool approve, ad_response *res)
{
	static const ad_member members[] = {
		{ "confirm", T_OBJECT }, { "comment", T_STRING },
	};
	char binding[AD_BINDING_MAX];
	json_object *doc;
	ad_vote_body vb = { .comment = "" };
	const char *bad;
	bg_error err;

	if ((doc = ad_body_parse(r->body, r->body_len, &err)) == NULL) {
		ad_response_error(res, MHD_HTTP_BAD_REQUEST, err.msg);
		return;
	}
	if (!ad_members_ok(doc, members, json_object_object_get_ex(doc, "comment", NULL) ?
	    2 : 1, &bad)) {
		snprintf(err.msg, sizeof(err.msg), "expected {\"confirm\", \"comment\"}: %s",
		    bad);
		ad_response_error(res, MHD_HTTP_BAD_REQUEST, err.msg);
		json_object_put(doc);
		return;
	}
	if (json_object_object_get_ex(doc, "comment", NULL))
		vb.comment = bg_json_member_cstring(doc, "comment");
	if (!ad_comment_ok(vb.comment, res)) {
		json_object_put(doc);
		return;
	}
	ad_vote_binding(approve ? "approve" : "deny", &id, 1, binding, sizeof(binding));
	/* The session, the factor's state and the vote: one transaction. */
	if (ad_session_confirm(r, json_object_object_get(doc, "confirm"), binding, id,
	    vb.approver, res))
		ad_vote_cast(r, id, approve, &vb, res);
	json_object_put(doc);
}

void
ad_approver_vote(ad_http_req *r, const char *id, bool approve, ad_response *res)
{
	/* The bearer-token API is unchanged; a session's cookie without it: the page. */
	if (ad_http_header(r, MHD_HTTP_HEADER_AUTHORIZATION) == NULL &&
	    ad_session_cookie_sent(r))
		session_vote(r, id, approve, res);
	else
		bearer_vote(r, id, approve, res);
}

void
ad_approver_list(ad_http_req *r, ad_response *res)
{
	const char *status = ad_http_query(r, "status");
	json_object *out, *list;
	ad_request *pending;
	size_t n;
	bg_error err;

	if (ad_approver_throttled(r, NULL, res))
		return;
	if (!ad_token_matches(r->app->cfg, ad_bearer_token(r), NULL)) {
		ad_log(LOG_WARNING, "pending list refused: source=%s: bad token", r->source);
		ad_approver_count_failure(r, NULL);
		ad_response_error(res, MHD_HTTP_UNAUTHORIZED, "authentication failed");
		return;
	}
	if (status == NULL || strcmp(status, "pending") != 0) {
		ad_log(LOG_WARNING, "pending list refused: source=%s: status is not pending",
		    r->source);
		ad_response_error(res, MHD_HTTP_BAD_REQUEST, "status: only pending");
		return;
	}
	if (ad_store_pending(r->app->store, &pending, &n, &err) != BG_OK) {
		ad_log(LOG_ERR, "pending: %s", err.msg);
		ad_response_error(res, MHD_HTTP_INTERNAL_SERVER_ERROR, "database error");
		return;
	}
	out = json_object_new_object();
	list = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		ad_votes votes;

		/* Not yet expired by the timer: not pending any more. */
		if (pending[i].expires_ms <= r->now_ms ||
		    ad_store_votes(r->app->store, pending[i].id, &votes, &err) != BG_OK)
			continue;
		json_object_array_add(list, ad_request_view(&pending[i], &votes));
		ad_votes_clear(&votes);
	}
	json_object_object_add(out, "requests", list);
	ad_response_json(res, MHD_HTTP_OK, out);
	json_object_put(out);
	ad_requests_free(pending, n);
}
