/*
 * Approvers' sessions: an approver signs in once (name, API token, second
 * factor bound to "signin") and the page's later calls carry a cookie.  The
 * cookie is 32 random bytes; the database keeps only their SHA-256, so a
 * read of it yields no live session.  A session ends session_idle after its
 * last use or session_max after its sign-in, whichever comes first, or at
 * sign-out; expired rows are deleted whenever sessions are looked up.
 *
 * A session never stands in for the second factor of a vote (approverapi.c,
 * batch.c ask for a fresh one bound to the action); what it saves is the
 * token.  Every state-changing call from a session must carry the page's
 * Origin and the session's CSRF token (X-CSRF-Token, compared in constant
 * time): the cookie is SameSite=Strict as well, but one defence is not
 * enough for approvals.
 */
#include "build_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <microhttpd.h>

#include "approvald.h"
#include "bodies.h"
#include "escape.h"
#include "json_string.h"

#define COOKIE_TLS "__Host-bg_session"
#define COOKIE_PLAIN "bg_session"
#define COOKIE_ATTRIBUTES "; Path=/; HttpOnly; SameSite=Strict"
#define CSRF_HEADER "X-CSRF-Token"
#define ESCAPED_MAX 256
/* The journal names a session by this much of its id (not the cookie). */
#define SESSION_HANDLE_LEN 16

/* Plain HTTP only on loopback (conf.c): there the cookie cannot be Secure. */
static const char *
cookie_name(const ad_app *app)
{
	return app->cfg->server.tls_cert != NULL ? COOKIE_TLS : COOKIE_PLAIN;
}

bool
ad_session_cookie_sent(const ad_http_req *r)
{
	return MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND,
	    cookie_name(r->app)) != NULL;
}

static int64_t
idle_ms(const ad_app *app)
{
	return (int64_t)app->cfg->server.session_idle * AD_MS_PER_SECOND;
}

static int64_t
max_ms(const ad_app *app)
{
	return (int64_t)app->cfg->server.session_max * AD_MS_PER_SECOND;
}

/*
 * Inside a transaction: the session the request's cookie names, if it is
 * live (expired ones are deleted first), touched now.
 */
static bg_status
find(ad_http_req *r, char id[BG_SHA256_HEX_LEN + 1], ad_session *out, bool *found,
    bg_error *err)
{
	const char *cookie = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND,
	    cookie_name(r->app));
	bg_status rc;

	*found = false;
	if (!ad_token_valid(cookie))
		return BG_OK;
	if ((rc = ad_token_hash(cookie, id, err)) != BG_OK ||
	    (rc = ad_store_session_prune(r->app->store, r->now_ms - idle_ms(r->app),
	    r->now_ms - max_ms(r->app), err)) != BG_OK)
		return rc;
	rc = ad_store_session_get(r->app->store, id, out, err);
	if (rc == BG_ERR_NOTFOUND)
		return BG_OK;
	/* An approver removed from the configuration (a reload) loses their sessions. */
	if (rc == BG_OK && ad_config_find_approver(r->app->cfg, out->approver) == NULL)
		return ad_store_session_delete(r->app->store, id, err);
	if (rc == BG_OK)
		rc = ad_store_session_touch(r->app->store, id, r->now_ms, err);
	out->last_used_ms = r->now_ms;
	*found = rc == BG_OK;
	return rc;
}

static void
session_refused(const ad_http_req *r, const char *approver, const char *why)
{
	char a[ESCAPED_MAX], path[ESCAPED_MAX];

	bg_escape_printable(approver != NULL ? approver : "-", a, sizeof(a));
	bg_escape_printable(r->path, path, sizeof(path));
	ad_log(LOG_WARNING, "session call refused: %s %s approver=%s source=%s: %s",
	    r->method, path, a, r->source, why);
}

/* The Origin header names the page's origin exactly. */
static bool
origin_ok(const ad_http_req *r)
{
	const char *origin = ad_http_header(r, MHD_HTTP_HEADER_ORIGIN);

	return origin != NULL && strcmp(origin, r->app->cfg->server.origin) == 0;
}

static bool
csrf_ok(const ad_http_req *r, const ad_session *s)
{
	const char *token = ad_http_header(r, CSRF_HEADER);

	return ad_token_valid(token) && strlen(s->csrf) == AD_TOKEN_LEN &&
	    bg_ct_equal(token, s->csrf, AD_TOKEN_LEN);
}

bool
ad_session_check(ad_http_req *r, bool change, ad_session *out, ad_response *res)
{
	char id[BG_SHA256_HEX_LEN + 1];
	bool found;
	bg_error err;

	if (find(r, id, out, &found, &err) != BG_OK) {
		ad_store_rollback(r->app->store);
		ad_log(LOG_ERR, "session: %s", err.msg);
		ad_response_error(res, MHD_HTTP_INTERNAL_SERVER_ERROR, "database error");
		return false;
	}
	if (!found) {
		/* Keeps the expired rows' deletion. */
		if (ad_store_commit(r->app->store, &err) != BG_OK) {
			ad_store_rollback(r->app->store);
			ad_log(LOG_ERR, "session: %s", err.msg);
		}
		session_refused(r, NULL, "no live session");
		ad_response_error(res, MHD_HTTP_UNAUTHORIZED, "not signed in");
		return false;
	}
	if (change && (!origin_ok(r) || !csrf_ok(r, out))) {
		ad_store_rollback(r->app->store);
		session_refused(r, out->approver, !origin_ok(r) ?
		    "Origin missing or not the page's" : "CSRF token missing or wrong");
		ad_response_error(res, MHD_HTTP_FORBIDDEN, "cross-site request refused");
		return false;
	}
	return true;
}

bg_status
ad_session_current(ad_http_req *r, ad_session *out, bool *found, bg_error *err)
{
	char id[BG_SHA256_HEX_LEN + 1];
	bg_status rc = ad_store_begin(r->app->store, err);

	if (rc == BG_OK)
		rc = find(r, id, out, found, err);
	if (rc == BG_OK)
		rc = ad_store_commit(r->app->store, err);
	if (rc != BG_OK) {
		ad_store_rollback(r->app->store);
		*found = false;
	}
	return rc;
}

/* {"approver", "csrf", "idle_expires_at", "expires_at"}. */
static void
answer_session(ad_response *res, const ad_app *app, const ad_session *s)
{
	json_object *out = json_object_new_object();
	char idle[AD_TIME_LEN], end[AD_TIME_LEN];
	int64_t end_ms = s->created_ms + max_ms(app);
	int64_t idle_end_ms = s->last_used_ms + idle_ms(app);

	ad_time_format(idle_end_ms < end_ms ? idle_end_ms : end_ms, idle);
	ad_time_format(end_ms, end);
	json_object_object_add(out, "approver", json_object_new_string(s->approver));
	json_object_object_add(out, "csrf", json_object_new_string(s->csrf));
	json_object_object_add(out, "idle_expires_at", json_object_new_string(idle));
	json_object_object_add(out, "expires_at", json_object_new_string(end));
	ad_response_json(res, MHD_HTTP_OK, out);
	json_object_put(out);
}

/* approver.signed_in / signed_out / signin_refused; handle names the session. */
static bg_status
journal(ad_http_req *r, const char *name, const char *outcome, const char *approver,
    const char *handle, const char *why, bg_error *err)
{
	bg_event *ev = ad_event_new(r->app, name, outcome, NULL, approver, r->source);
	bg_status rc;

	if (ev == NULL)
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	if (handle != NULL)
		bg_event_add_str(ev, "session", handle);
	if (why != NULL)
		bg_event_add_str(ev, "reason", why);
	rc = bg_audit_emit(&r->app->audit, ev, err);
	bg_event_free(ev);
	return rc;
}

/* A refused sign-in: logged and journaled (the refusal grants nothing either way). */
static void
signin_refused(ad_http_req *r, const char *approver, const char *why)
{
	bg_error err;

	if (journal(r, "approver.signin_refused", "failure", approver, NULL, why,
	    &err) != BG_OK)
		ad_log(LOG_ERR, "sign-in: %s", err.msg);
}

/* The new session's row and journal record, in the transaction the factor confirmed in. */
static bg_status
create(ad_http_req *r, const char *approver, char cookie[AD_TOKEN_LEN + 1],
    ad_session *s, bg_error *err)
{
	const char *old = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND,
	    cookie_name(r->app));
	char id[BG_SHA256_HEX_LEN + 1], old_id[BG_SHA256_HEX_LEN + 1];
	char handle[SESSION_HANDLE_LEN + 1];
	bg_status rc;

	memset(s, 0, sizeof(*s));
	snprintf(s->approver, sizeof(s->approver), "%s", approver);
	snprintf(s->source, sizeof(s->source), "%s", r->source);
	s->created_ms = s->last_used_ms = r->now_ms;
	if ((rc = ad_token_new(cookie, err)) != BG_OK ||
	    (rc = ad_token_new(s->csrf, err)) != BG_OK ||
	    (rc = ad_token_hash(cookie, id, err)) != BG_OK)
		return rc;
	snprintf(handle, sizeof(handle), "%.*s", SESSION_HANDLE_LEN, id);
	rc = ad_store_session_prune(r->app->store, r->now_ms - idle_ms(r->app),
	    r->now_ms - max_ms(r->app), err);
	/* A new sign-in replaces the browser's previous session, whoever's it was. */
	if (rc == BG_OK && ad_token_valid(old) &&
	    (rc = ad_token_hash(old, old_id, err)) == BG_OK)
		rc = ad_store_session_delete(r->app->store, old_id, err);
	if (rc == BG_OK)
		rc = ad_store_session_insert(r->app->store, id, s, err);
	/* Journaled before it is committed: no session the journal lacks. */
	if (rc == BG_OK)
		rc = journal(r, "approver.signed_in", "success", approver, handle, NULL, err);
	return rc;
}

static bool
set_cookie(ad_response *res, const ad_app *app, const char *value)
{
	bool tls = app->cfg->server.tls_cert != NULL;

	/* An empty value with Max-Age=0 removes it. */
	return asprintf(&res->set_cookie, "%s=%s%s%s%s", cookie_name(app), value,
	    COOKIE_ATTRIBUTES, tls ? "; Secure" : "",
	    value[0] == '\0' ? "; Max-Age=0" : "") > 0;
}

void
ad_session_signin(ad_http_req *r, ad_response *res)
{
	static const ad_member members[] = {
		{ "approver", T_STRING }, { "token", T_STRING }, { "confirm", T_OBJECT },
	};
	char approver[BG_NAME_MAX + 1], cookie[AD_TOKEN_LEN + 1];
	const char *bad, *who;
	json_object *doc;
	ad_auth_verdict verdict = AD_AUTH_REFUSED;  /* fail closed on every path */
	ad_session s;
	bg_error err;
	bg_status rc;

	if ((doc = ad_body_parse(r->body, r->body_len, &err)) == NULL) {
		ad_response_error(res, MHD_HTTP_BAD_REQUEST, err.msg);
		return;
	}
	if (!ad_members_ok(doc, members, 3, &bad)) {
		snprintf(err.msg, sizeof(err.msg), "expected {\"approver\", \"token\", "
		    "\"confirm\"}: %s", bad);
		ad_response_error(res, MHD_HTTP_BAD_REQUEST, err.msg);
		json_object_put(doc);
		return;
	}
	who = bg_json_member_cstring(doc, "approver");
	if (!bg_name_valid(who)) {
		ad_response_error(res, MHD_HTTP_BAD_REQUEST, "approver: not a name");
		json_object_put(doc);
		return;
	}
	snprintf(approver, sizeof(approver), "%s", who);
	bg_name_fold(approver);
	/* Another site must not sign a browser in under its own approver either. */
	if (!origin_ok(r)) {
		session_refused(r, approver, "Origin missing or not the page's");
		ad_response_error(res, MHD_HTTP_FORBIDDEN, "cross-site request refused");
		json_object_put(doc);
		return;
	}
	if (ad_approver_throttled(r, approver, res)) {
		json_object_put(doc);
		return;
	}
	/* The token first: without it, nobody reaches (or locks out) the second factor. */
	if (!ad_approver_token_ok(r->app->cfg, approver,
	    bg_json_member_cstring(doc, "token"))) {
		ad_log(LOG_WARNING, "sign-in refused: approver=%s source=%s: bad token",
		    approver, r->source);
		signin_refused(r, approver, "bad token");
		ad_approver_count_failure(r, approver);
		ad_response_error(res, MHD_HTTP_UNAUTHORIZED, "authentication failed");
		json_object_put(doc);
		return;
	}
	rc = ad_store_begin(r->app->store, &err);
	if (rc == BG_OK)
		rc = ad_factor_confirm(r->app, r, approver, json_object_object_get(doc,
		    "confirm"), "signin", &verdict, &err);
	if (!ad_approver_confirmed(r, approver, NULL, rc, verdict, &err, res)) {
		if (rc == BG_OK)
			signin_refused(r, approver, "second factor refused");
		json_object_put(doc);
		return;
	}
	json_object_put(doc);
	rc = create(r, approver, cookie, &s, &err);
	if (rc == BG_OK)
		rc = ad_store_commit(r->app->store, &err);
	if (rc != BG_OK) {
		ad_store_rollback(r->app->store);
		ad_log(LOG_ERR, "sign-in: %s", err.msg);
		ad_response_error(res, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot sign in");
	} else if (!set_cookie(res, r->app, cookie)) {
		ad_response_error(res, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	} else {
		ad_approver_trust(r, approver);
		answer_session(res, r->app, &s);
	}
	explicit_bzero(cookie, sizeof(cookie));
	explicit_bzero(&s, sizeof(s));
}

void
ad_session_show(ad_http_req *r, ad_response *res)
{
	ad_session s;
	bool found;
	bg_error err;

	if (ad_session_current(r, &s, &found, &err) != BG_OK) {
		ad_log(LOG_ERR, "session: %s", err.msg);
		ad_response_error(res, MHD_HTTP_INTERNAL_SERVER_ERROR, "database error");
	} else if (!found) {
		ad_response_error(res, MHD_HTTP_UNAUTHORIZED, "not signed in");
	} else {
		answer_session(res, r->app, &s);
	}
	explicit_bzero(&s, sizeof(s));
}

void
ad_session_signout(ad_http_req *r, ad_response *res)
{
	char id[BG_SHA256_HEX_LEN + 1], handle[SESSION_HANDLE_LEN + 1];
	const char *cookie;
	ad_session s;
	bg_error err;
	bg_status rc;

	if (ad_store_begin(r->app->store, &err) != BG_OK) {
		ad_log(LOG_ERR, "sign-out: %s", err.msg);
		ad_response_error(res, MHD_HTTP_INTERNAL_SERVER_ERROR, "database error");
		return;
	}
	if (!ad_session_check(r, true, &s, res))
		return;
	cookie = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, cookie_name(r->app));
	rc = ad_token_hash(cookie, id, &err);
	if (rc == BG_OK)
		rc = ad_store_session_delete(r->app->store, id, &err);
	snprintf(handle, sizeof(handle), "%.*s", SESSION_HANDLE_LEN, id);
	/* Ending a session only takes a power away: a journal failure does not keep it. */
	if (rc == BG_OK && journal(r, "approver.signed_out", "success", s.approver, handle,
	    NULL, &err) != BG_OK)
		ad_log(LOG_ERR, "sign-out: not journaled: %s", err.msg);
	if (rc == BG_OK)
		rc = ad_store_commit(r->app->store, &err);
	if (rc != BG_OK) {
		ad_store_rollback(r->app->store);
		ad_log(LOG_ERR, "sign-out: %s", err.msg);
		ad_response_error(res, MHD_HTTP_INTERNAL_SERVER_ERROR, "database error");
	} else if (!set_cookie(res, r->app, "")) {
		ad_response_error(res, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	} else {
		json_object *out = json_object_new_object();

		json_object_object_add(out, "signed_out", json_object_new_boolean(1));
		ad_response_json(res, MHD_HTTP_OK, out);
		json_object_put(out);
	}
	explicit_bzero(&s, sizeof(s));
}
