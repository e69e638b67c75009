/*
 * POST /v1/batch: one approver approves (or denies) several requests, an
 * incident's, with one second-factor confirmation bound to exactly that
 * action and that set of requests ("vote:approve:ID1,ID2", the ids
 * sorted).  From a session only (cookie, Origin, X-CSRF-Token).  The
 * confirmation is committed first (a TOTP code is spent before any vote);
 * then each request gets its own vote exactly as a single vote does
 * (ad_vote_cast: its own transaction, approval.voted record, and signed
 * decision waking that host's poll), and its own result: a refusal (self-
 * approval, not designated, no longer pending, already voted, unknown id)
 * stops nothing else.
 */
#include "build_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <microhttpd.h>

#include "approvald.h"
#include "bodies.h"
#include "json_string.h"

/* A request id as the host API makes them (a UUID): no ',' to blur the binding. */
#define ID_MAX 63
#define STR(x) #x
#define XSTR(x) STR(x)
#define ID_CHARS "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-"

static int
id_order(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * The ids of "requests", sorted, into ids (AD_BATCH_MAX); NULL when valid,
 * else what is wrong.
 */
static const char *
batch_ids(json_object *list, const char **ids, size_t *n)
{
	*n = json_object_array_length(list);
	if (*n == 0)
		return "requests: empty";
	if (*n > AD_BATCH_MAX)
		return "requests: more than " XSTR(AD_BATCH_MAX) " in one batch";
	for (size_t i = 0; i < *n; i++) {
		json_object *v = json_object_array_get_idx(list, i);
		const char *s = json_object_is_type(v, json_type_string) ?
		    json_object_get_string(v) : NULL;

		if (s == NULL || s[0] == '\0' || strlen(s) > ID_MAX ||
		    strspn(s, ID_CHARS) != strlen(s))
			return "requests: each a request id";
		ids[i] = s;
	}
	qsort(ids, *n, sizeof(ids[0]), id_order);
	for (size_t i = 1; i < *n; i++)
		if (strcmp(ids[i - 1], ids[i]) == 0)
			return "requests: an id given twice";
	return NULL;
}

/* {"id", "code": HTTP status of the vote alone, "status" (decided or pending) or "error"}. */
static json_object *
result(const char *id, const ad_response *one)
{
	json_object *out = json_object_new_object(), *body, *v = NULL;
	bool ok = one->status == MHD_HTTP_OK;

	json_object_object_add(out, "id", json_object_new_string(id));
	json_object_object_add(out, "code", json_object_new_int((int)one->status));
	body = one->body.data != NULL ? json_tokener_parse(one->body.data) : NULL;
	json_object_object_get_ex(body, ok ? "status" : "error", &v);
	json_object_object_add(out, ok ? "status" : "error", json_object_get(v));
	json_object_put(body);
	return out;
}

/* Each request's own vote, in its own transaction. */
static json_object *
cast_all(ad_http_req *r, const char *const *ids, size_t n, bool approve,
    const ad_vote_body *vb)
{
	json_object *results = json_object_new_array();

	for (size_t i = 0; i < n; i++) {
		ad_response one = { .status = MHD_HTTP_INTERNAL_SERVER_ERROR };
		bg_error err;

		bg_buf_init(&one.body, 0);
		if (ad_store_begin(r->app->store, &err) != BG_OK) {
			ad_log(LOG_ERR, "batch: %s", err.msg);
			ad_response_error(&one, MHD_HTTP_INTERNAL_SERVER_ERROR,
			    "cannot record the vote");
		} else {
			ad_vote_cast(r, ids[i], approve, vb, &one);
		}
		json_object_array_add(results, result(ids[i], &one));
		ad_response_free(&one);
	}
	return results;
}

bool
ad_batch_body_parse(const char *body, size_t len, json_object **doc, ad_batch_body *b,
    bg_error *err)
{
	static const ad_member members[] = {
		{ "action", T_STRING }, { "requests", T_ARRAY }, { "confirm", T_OBJECT },
		{ "comment", T_STRING },
	};
	const char *bad;

	memset(b, 0, sizeof(*b));
	if ((*doc = ad_body_parse(body, len, err)) == NULL)
		return false;
	if (ad_members_ok(*doc, members, json_object_object_get_ex(*doc, "comment", NULL) ?
	    4 : 3, &bad)) {
		b->action = bg_json_member_cstring(*doc, "action");
		if (strcmp(b->action, "approve") != 0 && strcmp(b->action, "deny") != 0)
			bad = "action: approve or deny";
		else
			bad = batch_ids(json_object_object_get(*doc, "requests"), b->ids, &b->n);
	}
	if (bad != NULL) {
		bg_error_set(err, BG_ERR_INVALID, "expected {\"action\", \"requests\", "
		    "\"confirm\", \"comment\"}: %s", bad);
		return false;
	}
	b->approve = strcmp(b->action, "approve") == 0;
	b->confirm = json_object_object_get(*doc, "confirm");
	b->comment = json_object_object_get_ex(*doc, "comment", NULL) ?
	    bg_json_member_cstring(*doc, "comment") : "";
	return true;
}

void
ad_batch_vote(ad_http_req *r, ad_response *res)
{
	char binding[AD_BINDING_MAX];
	ad_vote_body vb = { .comment = "" };
	ad_batch_body bb;
	json_object *doc, *out;
	bg_error err;

	if (!ad_batch_body_parse(r->body, r->body_len, &doc, &bb, &err)) {
		ad_response_error(res, MHD_HTTP_BAD_REQUEST, err.msg);
		json_object_put(doc);
		return;
	}
	vb.comment = bb.comment;
	if (!ad_comment_ok(vb.comment, res)) {
		json_object_put(doc);
		return;
	}
	/* AD_BINDING_MAX holds AD_BATCH_MAX ids of ID_MAX: never cut. */
	(void)ad_vote_binding(bb.action, bb.ids, bb.n, binding, sizeof(binding));
	/* The confirmation is spent before any vote: a failed vote cannot free it for reuse. */
	if (!ad_session_confirm(r, bb.confirm, binding, binding, vb.approver, res)) {
		json_object_put(doc);
		return;
	}
	if (ad_store_commit(r->app->store, &err) != BG_OK) {
		ad_store_rollback(r->app->store);
		ad_log(LOG_ERR, "batch: %s", err.msg);
		ad_response_error(res, MHD_HTTP_INTERNAL_SERVER_ERROR, "database error");
		json_object_put(doc);
		return;
	}
	out = json_object_new_object();
	json_object_object_add(out, "action", json_object_new_string(bb.action));
	json_object_object_add(out, "results", cast_all(r, bb.ids, bb.n, bb.approve, &vb));
	ad_response_json(res, MHD_HTTP_OK, out);
	json_object_put(out);
	json_object_put(doc);
}
