/*
 * The host side of protocol v1: request signatures (HMAC-SHA256 with the
 * host's key, 300 s skew, replay refusal), filing a request (strict body
 * validation, idempotent on request_id) and the long-poll read of its
 * decision.  A host sees only its own requests.
 */
#include "build_config.h"

#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include <microhttpd.h>

#include "approvald.h"
#include "bodies.h"
#include "escape.h"
#include "grant.h"
#include "json_body.h"
#include "json_string.h"
#include "names.h"
#include "timeparse.h"

#define SIG_PREFIX "v1="
#define TIMESTAMP_DIGITS_MAX 12
#define TTL_MAX (24 * 3600)
#define NONCE_HEX_LEN 32
#define UUID_LEN 36
#define ESCAPED_MAX 256
/* A host at max_pending_per_host is asked to come back after this long. */
#define PENDING_RETRY_S 60

/* ------------------------------------------------------------------ */
/* Authentication. */

static void
auth_log(const ad_http_req *r, const char *host, const char *why)
{
	char h[ESCAPED_MAX];

	bg_escape_printable(host != NULL ? host : "-", h, sizeof(h));
	ad_log(LOG_WARNING, "host request refused from %s: host=%s: %s", r->source, h,
	    why);
}

static bool
parse_timestamp(const char *s, int64_t *out)
{
	size_t n = s != NULL ? strlen(s) : 0;

	/* Decimal, no sign, no leading zero. */
	if (n == 0 || n > TIMESTAMP_DIGITS_MAX || strspn(s, "0123456789") != n ||
	    (s[0] == '0' && n > 1))
		return false;
	*out = strtoll(s, NULL, 10);
	return true;
}

static bool
is_lower_hex(const char *s, size_t len)
{
	return strlen(s) == len && strspn(s, "0123456789abcdef") == len;
}

/* Checks the three headers; on success *host_out is the authenticated host. */
static bool
host_authenticate(ad_http_req *r, const ad_config_host **host_out)
{
	const char *name = ad_http_header(r, "X-Breakglass-Host");
	const char *ts = ad_http_header(r, "X-Breakglass-Timestamp");
	const char *sig = ad_http_header(r, "X-Breakglass-Signature");
	unsigned char key[BG_SHA256_LEN], want[BG_SHA256_LEN], got[BG_SHA256_LEN];
	const ad_config_host *host;
	int64_t when;
	bg_error err;
	bg_buf msg;
	bool ok;

	if (name == NULL || !parse_timestamp(ts, &when) || sig == NULL ||
	    strncmp(sig, SIG_PREFIX, strlen(SIG_PREFIX)) != 0 ||
	    !is_lower_hex(sig + strlen(SIG_PREFIX), BG_SHA256_HEX_LEN)) {
		auth_log(r, name, "missing or malformed headers");
		return false;
	}
	if ((host = ad_config_find_host(r->app->cfg, name)) == NULL) {
		auth_log(r, name, "unknown host");
		return false;
	}
	if (when > r->now_ms / AD_MS_PER_SECOND + AD_SKEW_MAX ||
	    when < r->now_ms / AD_MS_PER_SECOND - AD_SKEW_MAX) {
		auth_log(r, name, "timestamp out of the 300 s window");
		return false;
	}
	if (bg_key_file_read(host->key, key, &err) != BG_OK) {
		auth_log(r, name, err.msg);
		return false;
	}
	bg_buf_init(&msg, 0);
	ok = bg_buf_printf(&msg, "v1:%s:%s:%s:", ts, r->method, r->target) &&
	    bg_buf_append(&msg, r->body, r->body_len) &&
	    bg_hmac_sha256(key, sizeof(key), msg.data, msg.len, want, &err) == BG_OK &&
	    bg_hex_decode(sig + strlen(SIG_PREFIX), got, sizeof(got), &err) == BG_OK;
	explicit_bzero(key, sizeof(key));
	bg_buf_free(&msg);
	if (!ok || !bg_ct_equal(want, got, sizeof(want))) {
		auth_log(r, name, "bad signature");
		return false;
	}
	/*
	 * Only a valid signature is remembered: garbage cannot fill the table.
	 * It is kept by its signed time, which bounds when it could be replayed.
	 */
	if (ad_store_seen_add(r->app->store, name, sig, when * AD_MS_PER_SECOND, &err) !=
	    BG_OK) {
		auth_log(r, name, err.msg);
		return false;
	}
	*host_out = host;
	return true;
}

/* ------------------------------------------------------------------ */
/* The filed request's body. */

static const ad_member request_members[] = {
	{ "request_id", T_STRING }, { "nonce", T_STRING }, { "host", T_STRING },
	{ "account", T_STRING }, { "operator", T_STRING }, { "incident", T_STRING },
	{ "reason", T_STRING }, { "scope", T_STRING }, { "ttl", T_INT },
	{ "quorum", T_INT }, { "approvers", T_ARRAY }, { "service", T_STRING },
	{ "rhost", T_STRING_OR_NULL }, { "tty", T_STRING_OR_NULL },
	{ "signals", T_ARRAY }, { "created_at", T_STRING },
};

static const ad_member signal_members[] = {
	{ "source", T_STRING }, { "id", T_STRING }, { "summary", T_STRING_OR_NULL },
	{ "since", T_STRING_OR_NULL },
};

#define NMEMBERS(a) (sizeof(a) / sizeof((a)[0]))

static bool
type_ok(json_object *v, ad_member_type t)
{
	switch (t) {
	case T_STRING:
		return json_object_is_type(v, json_type_string);
	case T_INT:
		return json_object_is_type(v, json_type_int);
	case T_ARRAY:
		return json_object_is_type(v, json_type_array);
	case T_STRING_OR_NULL:
		return v == NULL || json_object_is_type(v, json_type_string);
	case T_OBJECT:
		return json_object_is_type(v, json_type_object);
	}
	return false;
}

bool
ad_members_ok(json_object *obj, const ad_member *m, size_t n, const char **bad)
{
	json_object *v;

	if (!json_object_is_type(obj, json_type_object) ||
	    (size_t)json_object_object_length(obj) != n) {
		*bad = "unexpected or missing members";
		return false;
	}
	for (size_t i = 0; i < n; i++)
		if (!json_object_object_get_ex(obj, m[i].name, &v) || !type_ok(v, m[i].type)) {
			*bad = m[i].name;
			return false;
		}
	return true;
}

static int64_t
num(json_object *obj, const char *name)
{
	json_object *v = NULL;

	json_object_object_get_ex(obj, name, &v);
	return json_object_get_int64(v);
}

/* Lowercase 8-4-4-4-12 with version 4 and an RFC 4122 variant. */
static bool
is_uuid4(const char *s)
{
	if (strlen(s) != UUID_LEN)
		return false;
	for (size_t i = 0; i < UUID_LEN; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : strchr("0123456789abcdef", s[i]) == NULL ||
		    s[i] == '\0')
			return false;
	}
	return s[14] == '4' && strchr("89ab", s[19]) != NULL;
}

/* Distinct names (ignoring case), no more than a grant can hold. */
static bool
approvers_ok(json_object *list)
{
	size_t n = json_object_array_length(list);

	if (n == 0 || n > BG_GRANT_MAX_APPROVERS)
		return false;
	for (size_t i = 0; i < n; i++) {
		const char *a = bg_json_cstring(json_object_array_get_idx(list, i));

		if (a == NULL || !bg_name_valid(a))
			return false;
		for (size_t j = 0; j < i; j++)
			if (bg_name_equal(a, bg_json_cstring(json_object_array_get_idx(list, j))))
				return false;
	}
	return true;
}

static bool
signals_ok(json_object *list, const char **bad)
{
	for (size_t i = 0; i < json_object_array_length(list); i++)
		if (!ad_members_ok(json_object_array_get_idx(list, i), signal_members,
		    NMEMBERS(signal_members), bad))
			return false;
	return true;
}

/* Designated approvers this service knows, other than the operator. */
static unsigned long
reachable_approvers(const ad_config *cfg, json_object *doc)
{
	json_object *list = NULL;
	unsigned long n = 0;

	json_object_object_get_ex(doc, "approvers", &list);
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		const char *a = json_object_get_string(json_object_array_get_idx(list, i));

		if (ad_config_find_approver(cfg, a) != NULL &&
		    !bg_name_equal(a, bg_json_member_cstring(doc, "operator")))
			n++;
	}
	return n;
}

const char *
ad_host_request_problem(const ad_config *cfg, json_object *doc)
{
	const char *bad = NULL;
	unsigned long quorum;
	time_t created;

	if (!ad_members_ok(doc, request_members, NMEMBERS(request_members), &bad))
		return bad;
	if (!is_uuid4(bg_json_member_cstring(doc, "request_id")))
		return "request_id: not a lowercase UUID version 4";
	if (!is_lower_hex(bg_json_member_cstring(doc, "nonce"), NONCE_HEX_LEN))
		return "nonce: not 32 lowercase hex digits";
	if (!bg_name_valid(bg_json_member_cstring(doc, "account")) ||
	    !bg_name_valid(bg_json_member_cstring(doc, "operator")) ||
	    !bg_name_valid(bg_json_member_cstring(doc, "scope")))
		return "account, operator and scope must be names";
	/* Typed by the operator, shown to approvers: the host's own rule for typed text. */
	if (*bg_json_member_cstring(doc, "incident") == '\0' ||
	    *bg_json_member_cstring(doc, "service") == '\0' ||
	    !bg_text_displayable(bg_json_member_cstring(doc, "incident")) ||
	    !bg_text_displayable(bg_json_member_cstring(doc, "reason")))
		return "incident and service must not be empty; incident and reason must be "
		    "plain text without control characters";
	if (num(doc, "ttl") < 1 || num(doc, "ttl") > TTL_MAX)
		return "ttl: out of range";
	if (!approvers_ok(json_object_object_get(doc, "approvers")))
		return "approvers: 1 to 32 names, distinct ignoring case";
	if (num(doc, "quorum") < 1 ||
	    (size_t)num(doc, "quorum") > json_object_array_length(
	    json_object_object_get(doc, "approvers")))
		return "quorum: out of range";
	if (!signals_ok(json_object_object_get(doc, "signals"), &bad))
		return "signals: malformed element";
	if (bg_time_parse_rfc3339(bg_json_member_cstring(doc, "created_at"), &created, NULL) !=
	    BG_OK)
		return "created_at: not an RFC 3339 UTC time";
	quorum = (unsigned long)num(doc, "quorum");
	if (quorum < cfg->server.quorum)
		quorum = cfg->server.quorum;
	if (reachable_approvers(cfg, doc) < quorum)
		return "quorum cannot be met by the known designated approvers";
	return NULL;
}

json_object *
ad_body_parse(const char *body, size_t len, bg_error *err)
{
	return bg_json_body_parse(body, len, AD_FIELD_MAX, err);
}

/* ------------------------------------------------------------------ */
/* POST /v1/requests */

void
ad_answer_created(ad_response *res, const char *id_key, const char *id, const char *status,
    const char *time_key, int64_t ms)
{
	json_object *obj = json_object_new_object();
	char when[AD_TIME_LEN];

	ad_time_format(ms, when);
	json_object_object_add(obj, id_key, json_object_new_string(id));
	json_object_object_add(obj, "status", json_object_new_string(status));
	json_object_object_add(obj, time_key, json_object_new_string(when));
	ad_response_json(res, MHD_HTTP_CREATED, obj);
	json_object_put(obj);
}

void
ad_host_filed(const ad_http_req *r, const ad_config_host *host, json_object *doc,
    const char *id_key, const char *status, ad_request *out)
{
	memset(out, 0, sizeof(*out));
	out->id = (char *)bg_json_member_cstring(doc, id_key);
	out->host = host->meta.name;
	out->operator_name = (char *)bg_json_member_cstring(doc, "operator");
	out->status = (char *)status;
	out->body = (char *)r->body;
	out->body_len = r->body_len;
	out->received_ms = r->now_ms;
}

static void
answer_created(ad_response *res, const ad_request *req)
{
	ad_answer_created(res, "request_id", req->id, "pending", "expires_at", req->expires_ms);
}

bg_event *
ad_requested_event(const ad_app *app, const char *source, const ad_request *req,
    json_object *doc)
{
	bg_event *ev = ad_event_new(app, "approval.requested", "success", req, NULL, source);
	static const char *const fields[] = {
		"scope", "reason", "service", "rhost", "tty",
	};

	if (ev == NULL)
		return NULL;
	for (size_t i = 0; i < NMEMBERS(fields); i++)
		if (bg_json_member_cstring(doc, fields[i]) != NULL)
			bg_event_add_str(ev, fields[i], bg_json_member_cstring(doc, fields[i]));
	bg_event_add_int(ev, "ttl", num(doc, "ttl"));
	bg_event_add_int(ev, "quorum", num(doc, "quorum"));
	bg_event_add_json(ev, "approvers",
	    json_object_get(json_object_object_get(doc, "approvers")));
	ad_event_add_untrusted_json(ev, "signals", json_object_object_get(doc, "signals"));
	return ev;
}

/*
 * Every host call runs in one transaction: the signature is recorded as seen
 * (replay refusal) together with whatever the call changes, with one commit.
 * A handler returns BG_OK with res filled, or a database or journal error
 * (the transaction is rolled back and the answer is 500).
 */
void
ad_host_call(ad_http_req *r, const char *id, ad_host_handler fn, ad_response *res)
{
	const ad_config_host *host;
	bg_error err;
	bg_status rc;

	/*
	 * A read (a poll) writes its signature to the replay cache: forgetting
	 * that in a power loss costs nothing, so it waits for no fsync.  Should
	 * the poll find its request expired, the timer expires it again after
	 * such a loss.  A filing is committed to the disk.
	 */
	rc = strcmp(r->method, MHD_HTTP_METHOD_GET) == 0 ?
	    ad_store_begin_lazy(r->app->store, &err) : ad_store_begin(r->app->store, &err);
	if (rc == BG_OK) {
		if (host_authenticate(r, &host))
			rc = fn(r, host, id, res, &err);
		else
			ad_response_error(res, MHD_HTTP_UNAUTHORIZED, "authentication failed");
	}
	if (rc == BG_OK)
		rc = ad_store_commit(r->app->store, &err);
	if (rc != BG_OK) {
		ad_store_rollback(r->app->store);
		ad_log(LOG_ERR, "host request: %s", err.msg);
		ad_response_error(res, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "cannot process the request");
		res->wait_until_ms = 0;
		return;
	}
	/* A new request, or one the call found expired, has notifications queued. */
	ad_notifier_kick(r->app->notifier);
}

/* Records a new request: store, journal, notifications. */
static bg_status
file_request(ad_http_req *r, ad_request *req, json_object *doc, ad_response *res,
    bg_error *err)
{
	ad_votes none = { 0 };
	bg_event *ev;
	bg_status rc;

	if ((ev = ad_requested_event(r->app, r->source, req, doc)) == NULL)
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	rc = ad_store_request_insert(r->app->store, req, err);
	if (rc == BG_OK)
		rc = bg_audit_emit(&r->app->audit, ev, err);
	if (rc == BG_OK)
		rc = ad_notify_enqueue(r->app, "request.created", req, &none, "pending",
		    r->now_ms, err);
	bg_event_free(ev);
	if (rc == BG_OK)
		answer_created(res, req);
	return rc;
}

json_object *
ad_host_filing_body(ad_http_req *r, const ad_config_host *host, ad_response *res)
{
	json_object *doc;
	unsigned retry;
	bg_error bad;

	if (!ad_limits_take(r->app, host->meta.name, r->now_ms, &retry)) {
		auth_log(r, host->meta.name, "over host_rate");
		ad_response_busy(res, MHD_HTTP_TOO_MANY_REQUESTS,
		    "too many requests from this host", retry);
		return NULL;
	}
	if ((doc = ad_body_parse(r->body, r->body_len, &bad)) == NULL)
		ad_response_error(res, MHD_HTTP_BAD_REQUEST, bad.msg);
	return doc;
}

/* A new request, unless its host has max_pending_per_host pending already. */
static bg_status
file_new(ad_http_req *r, const ad_config_host *host, json_object *doc,
    ad_response *res, bg_error *err)
{
	ad_request req;
	unsigned long pending;
	bg_status rc;

	rc = ad_store_pending_count(r->app->store, host->meta.name, r->now_ms, &pending,
	    err);
	if (rc != BG_OK)
		return rc;
	if (pending >= r->app->cfg->server.max_pending_per_host) {
		auth_log(r, host->meta.name, "max_pending_per_host requests pending");
		ad_response_busy(res, MHD_HTTP_TOO_MANY_REQUESTS,
		    "too many pending requests from this host", PENDING_RETRY_S);
		return BG_OK;
	}
	ad_host_filed(r, host, doc, "request_id", "pending", &req);
	req.expires_ms = r->now_ms + (int64_t)r->app->cfg->server.request_expiry *
	    AD_MS_PER_SECOND;
	return file_request(r, &req, doc, res, err);
}

/* A request_id seen before: the same body gets the same answer. */
static void
refile(ad_http_req *r, const ad_request *old, const ad_config_host *host,
    ad_response *res)
{
	if (strcmp(old->host, host->meta.name) != 0 || old->body_len != r->body_len ||
	    memcmp(old->body, r->body, r->body_len) != 0)
		ad_response_error(res, MHD_HTTP_CONFLICT,
		    "request_id exists with a different body");
	else
		answer_created(res, old);
}

static bg_status
create_request(ad_http_req *r, const ad_config_host *host, const char *unused,
    ad_response *res, bg_error *err)
{
	ad_request old = { 0 };
	const char *problem;
	json_object *doc;
	bg_status rc = BG_OK;

	if ((doc = ad_host_filing_body(r, host, res)) == NULL)
		return BG_OK;
	if (bg_json_member_cstring(doc, "host") != NULL &&
	    strcmp(bg_json_member_cstring(doc, "host"), host->meta.name) != 0)
		ad_response_error(res, MHD_HTTP_FORBIDDEN, "host is not yours");
	else if ((problem = ad_host_request_problem(r->app->cfg, doc)) != NULL)
		ad_response_error(res, MHD_HTTP_BAD_REQUEST, problem);
	else if ((rc = ad_store_request_get(r->app->store, bg_json_member_cstring(doc, "request_id"),
	    &old, err)) == BG_ERR_NOTFOUND) {
		/* Filed meanwhile on another instance: answered as a refiling. */
		if ((rc = file_new(r, host, doc, res, err)) == BG_ERR_DENIED)
			rc = ad_store_request_get(r->app->store,
			    bg_json_member_cstring(doc, "request_id"), &old, err);
	}
	if (rc == BG_OK && old.id != NULL) {
		refile(r, &old, host, res);
		ad_request_clear(&old);
	}
	json_object_put(doc);
	return rc;
}

void
ad_host_create(ad_http_req *r, ad_response *res)
{
	ad_host_call(r, NULL, create_request, res);
}

/* ------------------------------------------------------------------ */
/* GET /v1/requests/{id}?wait=N */

/*
 * Loads the host's own request (host NULL: any); BG_ERR_NOTFOUND, answered
 * 404, for another host's request as for a missing one.
 */
static bg_status
load_own(ad_http_req *r, const char *id, const char *host, ad_request *req,
    ad_votes *votes, ad_response *res, bg_error *err)
{
	bg_status rc = ad_request_load(r->app, id, req, votes, r->source, r->now_ms, err);

	if (rc == BG_OK && host != NULL && strcmp(req->host, host) != 0) {
		ad_votes_clear(votes);
		ad_request_clear(req);
		rc = BG_ERR_NOTFOUND;
	}
	if (rc == BG_ERR_NOTFOUND)
		ad_response_error(res, MHD_HTTP_NOT_FOUND, "no such request");
	return rc;
}

static void
answer_decision(ad_http_req *r, const ad_request *req, const ad_votes *votes,
    ad_response *res)
{
	bg_error err;

	bg_buf_free(&res->body);
	if (ad_decision_build(r->app, req, votes, r->now_ms, &res->body,
	    &res->decision_sig, &err) != BG_OK) {
		ad_log(LOG_ERR, "decision: %s", err.msg);
		ad_response_error(res, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "cannot sign the decision");
		return;
	}
	res->status = MHD_HTTP_OK;
	res->content_type = "application/json";
}

static bool
parse_wait(const char *s, unsigned *out)
{
	size_t n;

	if (s == NULL) {
		*out = 0;
		return true;
	}
	n = strlen(s);
	if (n == 0 || n > 2 || strspn(s, "0123456789") != n || (s[0] == '0' && n > 1))
		return false;
	*out = (unsigned)atoi(s);
	return *out <= AD_WAIT_MAX;
}

static bg_status
poll_request(ad_http_req *r, const ad_config_host *host, const char *id, ad_response *res,
    bg_error *err)
{
	ad_request req;
	ad_votes votes;
	unsigned wait;
	bg_status rc;

	if (!parse_wait(ad_http_query(r, "wait"), &wait)) {
		ad_response_error(res, MHD_HTTP_BAD_REQUEST, "wait: 0 to 30");
		return BG_OK;
	}
	if ((rc = load_own(r, id, host->meta.name, &req, &votes, res, err)) != BG_OK)
		return rc == BG_ERR_NOTFOUND ? BG_OK : rc;
	if (strcmp(req.status, "pending") == 0 && wait > 0 && !r->app->stopping) {
		/* Never past expiry: the answer then is the expired decision. */
		res->wait_until_ms = r->now_ms + (int64_t)wait * AD_MS_PER_SECOND;
		if (res->wait_until_ms > req.expires_ms)
			res->wait_until_ms = req.expires_ms;
	} else {
		answer_decision(r, &req, &votes, res);
	}
	ad_votes_clear(&votes);
	ad_request_clear(&req);
	return BG_OK;
}

bool
ad_host_poll(ad_http_req *r, const char *id, ad_response *res)
{
	if (ad_wait_refused(r, res))
		return false;
	ad_host_call(r, id, poll_request, res);
	/* Suspended only once the poll's transaction is committed. */
	if (res->wait_until_ms == 0)
		return false;
	if (ad_wait_begin(r, id, res->wait_until_ms) == BG_OK)
		return true;
	ad_host_poll_answer(r, id, res);
	return false;
}

bool
ad_host_poll_kept(ad_http_req *r, const char *id, ad_response *res)
{
	/* Woken by a decision: the deciding vote's document, as of then, is final. */
	bg_buf_free(&res->body);
	if (!ad_decision_kept(r->app, id, r->now_ms, &res->body, &res->decision_sig))
		return false;
	res->status = MHD_HTTP_OK;
	res->content_type = "application/json";
	return true;
}

void
ad_host_poll_answer(ad_http_req *r, const char *id, ad_response *res)
{
	ad_request req;
	ad_votes votes;
	bg_error err;
	bg_status rc;

	if (ad_host_poll_kept(r, id, res))
		return;
	rc = ad_store_begin(r->app->store, &err);
	if (rc == BG_OK)
		rc = load_own(r, id, NULL, &req, &votes, res, &err);
	if (rc == BG_OK) {
		answer_decision(r, &req, &votes, res);
		ad_votes_clear(&votes);
		ad_request_clear(&req);
		rc = ad_store_commit(r->app->store, &err);
	}
	if (rc != BG_OK)
		ad_store_rollback(r->app->store);
	if (rc != BG_OK && rc != BG_ERR_NOTFOUND) {
		ad_log(LOG_ERR, "poll: %s", err.msg);
		ad_response_error(res, MHD_HTTP_INTERNAL_SERVER_ERROR, "database error");
	}
}
