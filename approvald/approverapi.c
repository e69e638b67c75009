/*
 * The approver API: votes (POST /v1/requests/{id}/approve|deny), the list
 * of pending requests, and the liveness check.  A vote needs the approver's
 * token and TOTP code; the service refuses self-approval, a second vote by
 * the same approver, votes by approvers the request does not name, and votes
 * on requests that are no longer pending.
 */
#include "build_config.h"

#include <string.h>
#include <syslog.h>

#include <microhttpd.h>

#include "approvald.h"
#include "bodies.h"
#include "escape.h"

#define BEARER_PREFIX "Bearer "
#define COMMENT_MAX 1024
#define ESCAPED_MAX 256

static const char *
bearer_token(const ad_http_req *r)
{
	const char *h = ad_http_header(r, MHD_HTTP_HEADER_AUTHORIZATION);

	if (h == NULL || strncmp(h, BEARER_PREFIX, strlen(BEARER_PREFIX)) != 0)
		return NULL;
	return h + strlen(BEARER_PREFIX);
}

bool
ad_vote_body_parse(const char *body, size_t len, json_object **doc, ad_vote_body *v)
{
	size_t expected = 2;
	json_object *d, *a, *t, *c = NULL;

	d = *doc = json_tokener_parse(body);
	if (strlen(body) != len || d == NULL || !json_object_is_type(d, json_type_object) ||
	    !json_object_object_get_ex(d, "approver", &a) ||
	    !json_object_is_type(a, json_type_string) ||
	    !json_object_object_get_ex(d, "totp", &t) ||
	    !json_object_is_type(t, json_type_string))
		return false;
	if (json_object_object_get_ex(d, "comment", &c)) {
		if (!json_object_is_type(c, json_type_string) ||
		    json_object_get_string_len(c) > COMMENT_MAX)
			return false;
		expected++;
	}
	if ((size_t)json_object_object_length(d) != expected)
		return false;
	v->approver = json_object_get_string(a);
	v->totp = json_object_get_string(t);
	v->comment = c != NULL ? json_object_get_string(c) : "";
	return true;
}

static void
refusal_log(const ad_http_req *r, const char *approver, const char *id,
    const char *why)
{
	char a[ESCAPED_MAX], i[ESCAPED_MAX];

	bg_escape_printable(approver, a, sizeof(a));
	bg_escape_printable(id, i, sizeof(i));
	ad_log(LOG_WARNING, "vote refused: approver=%s request=%s source=%s: %s", a, i,
	    r->source, why);
}

/* The vote itself, inside a transaction: false with res filled on refusal. */
static bool
record_vote(ad_http_req *r, const char *id, bool approve, const ad_vote_body *vb,
    ad_request *req, ad_votes *votes, ad_response *res, bg_error *err,
    bg_status *rc)
{
	ad_vote v = { .approver = (char *)vb->approver, .approve = approve,
	    .at_ms = r->now_ms, .comment = (char *)vb->comment };
	const char *status;
	bg_event *ev;

	if (strcmp(req->operator_name, vb->approver) == 0) {
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
	if (*rc != BG_OK)
		return false;
	if ((ev = ad_event_new("approval.voted", "success", req, vb->approver,
	    r->source)) == NULL) {
		*rc = bg_error_set(err, BG_ERR_NOMEM, "out of memory");
		return false;
	}
	bg_event_add_str(ev, "vote", approve ? "approve" : "deny");
	bg_event_add_str(ev, "comment", vb->comment);
	*rc = bg_audit_emit(&r->app->audit, ev, err);
	bg_event_free(ev);
	if (*rc != BG_OK)
		return false;
	ad_votes_clear(votes);
	if ((*rc = ad_store_votes(r->app->store, id, votes, err)) != BG_OK)
		return false;
	status = ad_decision_status(r->app, req, votes, r->now_ms);
	if (strcmp(status, "pending") == 0)
		return true;
	*rc = ad_decision_finalize(r->app, req, votes, status, r->source, r->now_ms, err);
	return *rc == BG_OK;
}

/* Authenticated: load, vote, decide, commit, answer. */
static void
vote(ad_http_req *r, const char *id, bool approve, const ad_vote_body *vb,
    ad_response *res)
{
	ad_request req = { 0 };
	ad_votes votes = { 0 };
	bg_status rc;
	bg_error err;
	bool voted = false, loaded = false;

	rc = ad_store_begin(r->app->store, &err);
	if (rc == BG_OK) {
		rc = ad_request_load(r->app, id, &req, &votes, r->source, r->now_ms, &err);
		loaded = rc == BG_OK;
	}
	if (loaded)
		voted = record_vote(r, id, approve, vb, &req, &votes, res, &err, &rc);
	/* A refusal may still have expired the request: keep that. */
	if (rc == BG_OK)
		rc = ad_store_commit(r->app->store, &err);
	if (rc != BG_OK)
		ad_store_rollback(r->app->store);
	else
		ad_notifier_kick(r->app->notifier);  /* a decision or an expiry */
	if (rc == BG_ERR_NOTFOUND)
		ad_response_error(res, MHD_HTTP_NOT_FOUND, "no such request");
	else if (rc != BG_OK) {
		ad_log(LOG_ERR, "vote: %s", err.msg);
		ad_response_error(res, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "cannot record the vote");
	} else if (voted) {
		bg_buf_free(&res->body);
		if (ad_decision_build(r->app, &req, &votes, r->now_ms, &res->body,
		    &res->decision_sig, &err) == BG_OK) {
			res->status = MHD_HTTP_OK;
			res->content_type = "application/json";
		} else {
			ad_log(LOG_ERR, "decision: %s", err.msg);
			ad_response_error(res, MHD_HTTP_INTERNAL_SERVER_ERROR,
			    "vote recorded; cannot sign the decision");
		}
	}
	if (loaded) {
		ad_votes_clear(&votes);
		ad_request_clear(&req);
	}
}

void
ad_approver_vote(ad_http_req *r, const char *id, bool approve, ad_response *res)
{
	json_object *doc;
	ad_vote_body vb;
	ad_auth_verdict verdict;
	bg_error err;

	if (!ad_vote_body_parse(r->body, r->body_len, &doc, &vb)) {
		ad_response_error(res, MHD_HTTP_BAD_REQUEST,
		    "expected {\"approver\", \"totp\", \"comment\"}");
		json_object_put(doc);
		return;
	}
	/* Shown to the operator's host, the journal and other approvers: plain text only. */
	if (!bg_text_displayable(vb.comment)) {
		ad_response_error(res, MHD_HTTP_BAD_REQUEST, "comment: control characters, "
		    "bidirectional-text controls and invalid UTF-8 are not accepted");
		json_object_put(doc);
		return;
	}
	if (ad_approver_authenticate(r->app, vb.approver, bearer_token(r), vb.totp,
	    &verdict, &err) != BG_OK) {
		ad_log(LOG_ERR, "approver authentication: %s", err.msg);
		ad_response_error(res, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "authentication unavailable");
	} else if (verdict != AD_AUTH_OK) {
		refusal_log(r, vb.approver, id, verdict == AD_AUTH_REPLAYED ?
		    "TOTP code replayed" : verdict == AD_AUTH_LOCKED ?
		    "TOTP locked out" : "bad token or TOTP code");
		ad_response_error(res, MHD_HTTP_UNAUTHORIZED, "authentication failed");
	} else {
		vote(r, id, approve, &vb, res);
	}
	json_object_put(doc);
}

void
ad_approver_list(ad_http_req *r, ad_response *res)
{
	const char *status = ad_http_query(r, "status");
	json_object *out, *list;
	ad_request *pending;
	size_t n;
	bg_error err;

	if (!ad_token_matches(r->app->cfg, bearer_token(r), NULL)) {
		ad_response_error(res, MHD_HTTP_UNAUTHORIZED, "authentication failed");
		return;
	}
	if (status == NULL || strcmp(status, "pending") != 0) {
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
