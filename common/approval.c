/*
 * Approval protocol v1 client: signed POST, long-poll GET loop, and the
 * acceptance checks of docs/protocol.md section 7, in that order.
 */
#include "build_config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "approval.h"
#include "buf.h"
#include "crypto.h"
#include "http.h"
#include "journal.h"
#include "json_string.h"
#include "names.h"
#include "timeparse.h"

#define MS_PER_S 1000ULL
#define NS_PER_S 1000000000L
#define NS_PER_MS 1000000L
#define NONCE_BYTES 16
#define NONCE_HEX (2 * NONCE_BYTES)
#define UUID_BYTES 16
#define UUID_VERSION_BYTE 6
#define UUID_VARIANT_BYTE 8
#define HTTP_CREATED 201
#define HTTP_OK 200
#define HTTP_TOO_MANY_REQUESTS 429
#define HTTP_SERVER_ERROR 500
#define HTTP_SERVICE_UNAVAILABLE 503
#define HTTP_STATUS_MAX 599
#define HEADER_MAX 512
#define TARGET_MAX 2048
#define SIGNATURE_PREFIX "ed25519="
/* The signing string: "v1:" ts ":" METHOD ":" path ":" body, body at most the cap. */
#define SIGNING_MAX (BG_APPROVAL_MAX_BODY + 4096)

/* One [approval] url. */
typedef struct {
	char *url;                  /* without a trailing '/' */
	char *path;                 /* its path part, as signed */
} endpoint;

typedef struct {
	const bg_config *cfg;
	const bg_approval_request *req;
	bg_approval_result *res;
	unsigned char host_key[BG_SHA256_LEN];
	char nonce[NONCE_HEX + 1];
	endpoint ep[BG_APPROVAL_MAX_URLS];
	size_t nep;
	size_t cur;                 /* the endpoint that answered last: every exchange starts there */
	unsigned long long deadline;
	CURL *easy;                 /* one handle: the POST and polls share connections */
	time_t last_ts;             /* of the last signed request */
	char last_target[TARGET_MAX];  /* and its target */
} session;

typedef enum { POLL_PENDING, POLL_APPROVED } poll_state;

static bg_status
refuse(session *s, const char *reason, bg_error *err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Every refusal names its reason for the journal; the message adds the detail. */
static bg_status
refuse(session *s, const char *reason, bg_error *err, const char *fmt, ...)
{
	char msg[BG_ERROR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	s->res->reason = reason;
	return bg_error_set(err, BG_ERR_DENIED, "%s: %s", reason, msg);
}

/* A local failure (keys, memory) keeps its status and is recorded as "internal". */
static bg_status
internal(session *s, bg_status rc)
{
	s->res->reason = "internal";
	return rc;
}

/* ---- request ------------------------------------------------------------ */

static bg_status
make_ids(session *s, bg_error *err)
{
	unsigned char u[UUID_BYTES], n[NONCE_BYTES];
	char hex[2 * UUID_BYTES + 1];
	bg_status rc;

	if ((rc = bg_random_bytes(u, sizeof(u), err)) != BG_OK ||
	    (rc = bg_random_bytes(n, sizeof(n), err)) != BG_OK)
		return rc;
	/* RFC 9562: version 4 (random) in byte 6, variant 0b10 in byte 8. */
	u[UUID_VERSION_BYTE] = (unsigned char)((u[UUID_VERSION_BYTE] & 0x0f) | 0x40);
	u[UUID_VARIANT_BYTE] = (unsigned char)((u[UUID_VARIANT_BYTE] & 0x3f) | 0x80);
	bg_hex_encode(u, sizeof(u), hex);
	snprintf(s->res->request_id, sizeof(s->res->request_id), "%.8s-%.4s-%.4s-%.4s-%.12s",
	    hex, hex + 8, hex + 12, hex + 16, hex + 20);
	bg_hex_encode(n, sizeof(n), s->nonce);
	return BG_OK;
}

static json_object *
str_or_null(const char *v)
{
	return v != NULL ? json_object_new_string(v) : NULL;
}

static json_object *
strlist_json(const bg_strlist *l)
{
	json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; a != NULL && i < l->count; i++)
		json_object_array_add(a, json_object_new_string(l->items[i]));
	return a;
}

/* The request body of section 4, members in the documented order. */
static bg_status
build_body(session *s, char **out, bg_error *err)
{
	const bg_approval_request *r = s->req;
	const bg_config_approval *a = &s->cfg->approval;
	char created[BG_RFC3339_MAX];
	json_object *o;
	const char *text;
	bg_status rc;

	*out = NULL;
	if ((rc = bg_time_now_rfc3339(created, sizeof(created), err)) != BG_OK)
		return rc;
	if ((o = json_object_new_object()) == NULL)
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	json_object_object_add(o, "request_id", json_object_new_string(s->res->request_id));
	json_object_object_add(o, "nonce", json_object_new_string(s->nonce));
	json_object_object_add(o, "host", json_object_new_string(a->host_id));
	json_object_object_add(o, "account", json_object_new_string(r->account));
	json_object_object_add(o, "operator", json_object_new_string(r->operator_name));
	json_object_object_add(o, "incident", json_object_new_string(r->incident));
	json_object_object_add(o, "reason", json_object_new_string(r->reason));
	json_object_object_add(o, "scope", json_object_new_string(r->scope));
	json_object_object_add(o, "ttl", json_object_new_int64((int64_t)r->ttl));
	json_object_object_add(o, "quorum", json_object_new_int64((int64_t)a->quorum));
	json_object_object_add(o, "approvers", strlist_json(&a->approvers));
	json_object_object_add(o, "service", json_object_new_string(r->service));
	json_object_object_add(o, "rhost", str_or_null(r->rhost));
	json_object_object_add(o, "tty", str_or_null(r->tty));
	json_object_object_add(o, "signals", r->signals != NULL ?
	    json_object_get(r->signals) : json_object_new_array());
	json_object_object_add(o, "created_at", json_object_new_string(created));
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	if (text != NULL)
		*out = strdup(text);
	json_object_put(o);
	if (*out == NULL)
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	if (strlen(*out) > BG_APPROVAL_MAX_BODY) {
		free(*out);
		*out = NULL;
		return bg_error_set(err, BG_ERR_TOOBIG, "request body over %d bytes",
		    BG_APPROVAL_MAX_BODY);
	}
	return BG_OK;
}

/* ---- transport ---------------------------------------------------------- */

/* Splits one [approval] url into the base URL and its path, both without a trailing '/'. */
static bg_status
split_url(const char *text, endpoint *e, bg_error *err)
{
	CURLU *u = curl_url();
	char *path = NULL;
	size_t n;

	if (u == NULL)
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	if (curl_url_set(u, CURLUPART_URL, text, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK) {
		curl_url_cleanup(u);
		return bg_error_set(err, BG_ERR_INVALID, "[approval] url does not parse");
	}
	e->path = strdup(path);
	e->url = strdup(text);
	curl_free(path);
	curl_url_cleanup(u);
	if (e->path == NULL || e->url == NULL)
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	for (n = strlen(e->path); n > 0 && e->path[n - 1] == '/'; n--)
		e->path[n - 1] = '\0';
	for (n = strlen(e->url); n > 0 && e->url[n - 1] == '/'; n--)
		e->url[n - 1] = '\0';
	return BG_OK;
}

static bg_status
split_urls(session *s, bg_error *err)
{
	const bg_strlist *l = &s->cfg->approval.url;
	bg_status rc;

	if (l->count == 0 || l->count > BG_APPROVAL_MAX_URLS)
		return bg_error_set(err, BG_ERR_INVALID, "[approval] needs 1 to %d urls",
		    BG_APPROVAL_MAX_URLS);
	for (s->nep = 0; s->nep < l->count; s->nep++)
		if ((rc = split_url(l->items[s->nep], &s->ep[s->nep], err)) != BG_OK) {
			s->nep++;  /* freed by session_end */
			return rc;
		}
	return BG_OK;
}

/*
 * The service refuses a reused signature, so the same request (a re-poll
 * with the same wait) never goes out twice within one second: wait for the
 * next second when needed.  Different requests may share a timestamp.
 */
static bg_status
next_timestamp(session *s, const char *target, time_t *ts, bg_error *err)
{
	for (;;) {
		struct timespec nap = { 0, 0 };
		struct timespec now;

		clock_gettime(CLOCK_REALTIME, &now);
		if (now.tv_sec > s->last_ts || strcmp(target, s->last_target) != 0) {
			*ts = s->last_ts = now.tv_sec;
			snprintf(s->last_target, sizeof(s->last_target), "%s", target);
			return BG_OK;
		}
		if (bg_monotonic_ms() + MS_PER_S - (unsigned long long)(now.tv_nsec / NS_PER_MS) >=
		    s->deadline)
			return refuse(s, "timeout", err, "no decision within %lu s",
			    s->cfg->approval.timeout);
		nap.tv_nsec = NS_PER_S - now.tv_nsec;
		while (nanosleep(&nap, &nap) != 0 && errno == EINTR)
			;
	}
}

static bg_status
sign_headers(session *s, bg_http *h, const char *method, const char *target,
    const char *body, bg_error *err)
{
	unsigned char mac[BG_SHA256_LEN];
	char hex[BG_SHA256_HEX_LEN + 1], line[HEADER_MAX];
	bg_buf msg;
	bg_status rc;
	time_t ts = 0;

	if ((rc = next_timestamp(s, target, &ts, err)) != BG_OK)
		return rc;
	bg_buf_init(&msg, SIGNING_MAX);
	bg_buf_printf(&msg, "v1:%lld:%s:%s:", (long long)ts, method, target);
	bg_buf_puts(&msg, body);
	if (msg.overflow)
		rc = bg_error_set(err, BG_ERR_TOOBIG, "signing string too long");
	else
		rc = bg_hmac_sha256(s->host_key, sizeof(s->host_key), msg.data, msg.len, mac,
		    err);
	bg_buf_free(&msg);
	if (rc != BG_OK)
		return internal(s, rc);
	bg_hex_encode(mac, sizeof(mac), hex);
	snprintf(line, sizeof(line), "X-Breakglass-Host: %s", s->cfg->approval.host_id);
	rc = bg_http_add_header(h, line, err);
	snprintf(line, sizeof(line), "X-Breakglass-Timestamp: %lld", (long long)ts);
	if (rc == BG_OK)
		rc = bg_http_add_header(h, line, err);
	snprintf(line, sizeof(line), "X-Breakglass-Signature: v1=%s", hex);
	if (rc == BG_OK)
		rc = bg_http_add_header(h, line, err);
	return rc == BG_OK ? BG_OK : internal(s, rc);
}

/*
 * Sends one signed request (POST with body, or GET) to the path suffix
 * (which may carry a query) of endpoint i, to be answered by deadline, and
 * waits for the answer, mapping transport failures to their reasons.  On
 * BG_OK the caller owns *h.
 */
static bg_status
exchange_at(session *s, size_t i, const char *suffix, const char *body,
    unsigned long long deadline, bg_http *h, bg_error *err)
{
	const bg_config_approval *a = &s->cfg->approval;
	bg_http_opts opts = {
		.deadline_ms = deadline,
		.connect_timeout_ms = a->connect_timeout * MS_PER_S,
		.ca_file = a->ca_file,
		.max_body = BG_APPROVAL_MAX_BODY,
		.capture = body == NULL ? "X-Breakglass-Decision-Signature" : NULL,
		.reuse = s->easy,
	};
	char url[TARGET_MAX], target[TARGET_MAX];
	bg_status rc;
	CURLcode crc;

	s->res->http_status = 0;
	if ((size_t)snprintf(url, sizeof(url), "%s%s", s->ep[i].url, suffix) >= sizeof(url) ||
	    (size_t)snprintf(target, sizeof(target), "%s%s", s->ep[i].path, suffix) >=
	    sizeof(target))
		return internal(s, bg_error_set(err, BG_ERR_INVALID, "URL too long"));
	if ((rc = bg_http_init(h, url, &opts, err)) != BG_OK) {
		if (rc == BG_ERR_DENIED)
			return refuse(s, "timeout", err, "no decision within %lu s", a->timeout);
		return internal(s, rc);
	}
	rc = sign_headers(s, h, body != NULL ? "POST" : "GET", target, body != NULL ? body : "",
	    err);
	/* "Expect:" off: no 100-continue round trip before the body. */
	if (rc == BG_OK && body != NULL &&
	    ((rc = bg_http_add_header(h, "Content-Type: application/json", err)) != BG_OK ||
	    (rc = bg_http_add_header(h, "Expect:", err)) != BG_OK ||
	    (rc = bg_http_set_post(h, body, strlen(body), err)) != BG_OK))
		rc = internal(s, rc);
	if (rc != BG_OK) {
		bg_http_free(h);
		return rc;
	}
	crc = curl_easy_perform(h->easy);
	if (crc == CURLE_OK) {
		s->res->http_status = bg_http_status(h);
		return BG_OK;
	}
	rc = refuse(s, bg_http_failure(h, crc), err, "%s", h->errbuf[0] ? h->errbuf :
	    curl_easy_strerror(crc));
	/* A connect timeout that fired before this attempt's deadline is a connection failure. */
	if (crc == CURLE_OPERATION_TIMEDOUT && bg_monotonic_ms() < deadline)
		s->res->reason = "connect";
	bg_http_free(h);
	return rc;
}

/*
 * The failures after which the next URL is tried, and the only ones offline
 * recovery follows: the instance could not be reached (connect, tls,
 * timeout) or said it cannot serve now (5xx).  reason is NULL for a
 * transfer that completed with status.
 */
static bool
unreachable(const char *reason, long status)
{
	bool http5xx = status >= HTTP_SERVER_ERROR && status <= HTTP_STATUS_MAX;

	if (reason == NULL || strcmp(reason, "http-status") == 0)
		return http5xx;
	return strcmp(reason, "connect") == 0 || strcmp(reason, "tls") == 0 ||
	    strcmp(reason, "timeout") == 0;
}

static void
note_failed(session *s, size_t i)
{
	bg_approval_result *r = s->res;
	const char *url = s->cfg->approval.url.items[i];

	for (size_t k = 0; k < r->nfailed_urls; k++)
		if (r->failed_urls[k] == url)
			return;
	r->failed_urls[r->nfailed_urls++] = url;
}

/*
 * exchange_at on the endpoint that answered last, then on the next ones in
 * turn (docs/protocol.md section 2.1): only after an unreachable() failure,
 * never after any other answer.  Every endpoint but the last of the round
 * must answer within the wait asked for plus connect_timeout, so a hung
 * instance leaves the others time; the last has what is left of the one
 * deadline.  On BG_OK the caller owns *h, which may hold the last
 * endpoint's 5xx.
 */
static bg_status
exchange_round(session *s, const char *suffix, const char *body, unsigned long wait,
    bg_http *h, bg_error *err)
{
	bg_status rc = BG_ERR_DENIED;

	for (size_t n = 0; n < s->nep; n++) {
		size_t i = (s->cur + n) % s->nep;
		bool last = n + 1 == s->nep;
		unsigned long long deadline = s->deadline,
		    bound = bg_monotonic_ms() + (wait + s->cfg->approval.connect_timeout) * MS_PER_S;

		if (!last && bound < deadline)
			deadline = bound;
		rc = exchange_at(s, i, suffix, body, deadline, h, err);
		if (rc == BG_OK && !unreachable(NULL, s->res->http_status)) {
			s->cur = i;
			s->res->answered = true;
			s->res->url = s->cfg->approval.url.items[i];
			return BG_OK;
		}
		if (rc != BG_OK && !unreachable(s->res->reason, 0))
			return rc;
		note_failed(s, i);
		if (s->nep > 1 && rc != BG_OK)
			bg_error_prefix(err, "%s", s->cfg->approval.url.items[i]);
		if (last)
			return rc;
		if (rc == BG_OK)
			bg_http_free(h);
		s->res->reason = NULL;
	}
	return rc;
}

/*
 * A 429 or 503 carrying Retry-After says "busy, ask again then" (the
 * service's per-host filing limits, its cap on held polls): asked again
 * after that delay when the one deadline leaves time for it, so a busy
 * service delays a login instead of refusing it.  Frees *h and returns true
 * when it slept.
 */
static bool
busy_wait(session *s, bg_http *h)
{
	long status = bg_http_status(h);
	unsigned long long now = bg_monotonic_ms();
	curl_off_t after = 0;
	struct timespec nap = { 0, 0 };

	if ((status != HTTP_TOO_MANY_REQUESTS && status != HTTP_SERVICE_UNAVAILABLE) ||
	    curl_easy_getinfo(h->easy, CURLINFO_RETRY_AFTER, &after) != CURLE_OK ||
	    after <= 0 || now >= s->deadline ||
	    (unsigned long long)after >= (s->deadline - now) / MS_PER_S)
		return false;
	bg_http_free(h);
	nap.tv_sec = (time_t)after;
	while (nanosleep(&nap, &nap) != 0 && errno == EINTR)
		;
	return true;
}

/* exchange_round, again after each busy answer (busy_wait). */
static bg_status
exchange(session *s, const char *suffix, const char *body, unsigned long wait, bg_http *h,
    bg_error *err)
{
	bg_status rc;

	while ((rc = exchange_round(s, suffix, body, wait, h, err)) == BG_OK && busy_wait(s, h))
		;
	return rc;
}

/* ---- the decision ------------------------------------------------------- */

static json_object *
array_member(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_array))
		return NULL;
	return v;
}

static bool
valid_time(const char *s, time_t *t)
{
	bg_error ignored;

	return s != NULL && bg_time_parse_utc(s, t, &ignored) == BG_OK;
}

static bool
votes_well_formed(json_object *votes)
{
	size_t i, n = json_object_array_length(votes);
	json_object *comment;
	time_t t;

	/* The comment is compared with nothing, so it may hold any string. */
	for (i = 0; i < n; i++) {
		json_object *v = json_object_array_get_idx(votes, i);

		if (!json_object_is_type(v, json_type_object) ||
		    bg_json_member_cstring(v, "approver") == NULL ||
		    !json_object_object_get_ex(v, "comment", &comment) ||
		    !json_object_is_type(comment, json_type_string) ||
		    !valid_time(bg_json_member_cstring(v, "at"), &t))
			return false;
	}
	return true;
}

/* Check 7: every member, of the right type, a known status, valid times. */
static bool
decision_well_formed(json_object *d, time_t *issued_at)
{
	static const char *const strings[] = { "request_id", "nonce", "host", "account",
		"operator", "incident", "status", "scope" };
	static const char *const statuses[] = { "pending", "approved", "denied", "expired" };
	json_object *ttl, *approvals = array_member(d, "approvals"),
	    *denials = array_member(d, "denials");
	const char *status;
	size_t i;
	bool known = false;

	if (!json_object_is_type(d, json_type_object))
		return false;
	for (i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
		if (bg_json_member_cstring(d, strings[i]) == NULL)
			return false;
	status = bg_json_member_cstring(d, "status");
	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
		known = known || strcmp(status, statuses[i]) == 0;
	return known && approvals != NULL && denials != NULL && votes_well_formed(approvals) &&
	    votes_well_formed(denials) && json_object_object_get_ex(d, "ttl", &ttl) &&
	    json_object_is_type(ttl, json_type_int) &&
	    valid_time(bg_json_member_cstring(d, "issued_at"), issued_at);
}

/* Check 8: the decision is about this very request. */
static bg_status
check_binding(session *s, json_object *d, time_t issued_at, bg_error *err)
{
	const bg_approval_request *r = s->req;
	const struct {
		const char *key, *want;
	} same[] = {
		{ "request_id", s->res->request_id }, { "nonce", s->nonce },
		{ "host", s->cfg->approval.host_id }, { "account", r->account },
		{ "operator", r->operator_name }, { "incident", r->incident },
		{ "scope", r->scope },
	};
	json_object *ttl;
	int64_t t;
	time_t now = time(NULL);
	size_t i;

	for (i = 0; i < sizeof(same) / sizeof(same[0]); i++)
		if (strcmp(bg_json_member_cstring(d, same[i].key), same[i].want) != 0)
			return refuse(s, "mismatch", err, "decision %s differs from the request",
			    same[i].key);
	json_object_object_get_ex(d, "ttl", &ttl);
	t = json_object_get_int64(ttl);
	if (t <= 0 || (uint64_t)t > r->ttl)
		return refuse(s, "mismatch", err, "decision ttl %lld outside 1..%lu",
		    (long long)t, r->ttl);
	if (issued_at > now + BG_APPROVAL_MAX_SKEW || issued_at < now - BG_APPROVAL_MAX_SKEW)
		return refuse(s, "mismatch", err, "decision issued_at is %lld s from now",
		    (long long)(issued_at - now));
	s->res->ttl = (unsigned long)t;
	s->res->issued_at = issued_at;
	return BG_OK;
}

/* Checks 12 to 14 on an approved decision; keeps the approvers for the grant. */
static bg_status
check_approvers(session *s, json_object *approvals, bg_error *err)
{
	const bg_config_approval *a = &s->cfg->approval;
	size_t i, j, n = json_object_array_length(approvals);

	/* Names are compared ignoring ASCII case (names.h): Bob and bob are one person. */
	for (i = 0; i < n; i++) {
		const char *who = bg_json_member_cstring(json_object_array_get_idx(approvals, i), "approver");
		bool listed = false;

		for (j = 0; j < a->approvers.count && !listed; j++)
			listed = bg_name_equal(a->approvers.items[j], who);
		if (!listed)
			return refuse(s, "unknown-approver", err, "%s is not a designated approver",
			    who);
	}
	for (i = 0; i < n; i++)
		if (bg_name_equal(bg_json_member_cstring(json_object_array_get_idx(approvals, i),
		    "approver"), s->req->operator_name))
			return refuse(s, "self-approval", err, "the operator approved their own "
			    "request");
	for (i = 0; i < n; i++)
		for (j = 0; j < i; j++)
			if (bg_name_equal(bg_json_member_cstring(json_object_array_get_idx(approvals, i),
			    "approver"), bg_json_member_cstring(json_object_array_get_idx(approvals, j),
			    "approver")))
				return refuse(s, "quorum", err, "an approver counted twice");
	if (n < a->quorum || n > BG_GRANT_MAX_APPROVERS)
		return refuse(s, "quorum", err, "%zu approvals, %lu required", n, a->quorum);
	for (i = 0; i < n; i++) {
		s->res->approvers[i] = strdup(bg_json_member_cstring(json_object_array_get_idx(approvals, i),
		    "approver"));
		if (s->res->approvers[i] == NULL)
			return internal(s, bg_error_set(err, BG_ERR_NOMEM, "out of memory"));
		s->res->napprovers++;
	}
	return BG_OK;
}

/* Check 6: the Ed25519 signature over the exact body bytes. */
static bg_status
check_signature(session *s, const bg_http *h, bg_error *err)
{
	const size_t plen = sizeof(SIGNATURE_PREFIX) - 1;
	unsigned char *sig = NULL;
	size_t sig_len = 0;
	bg_error why;
	bg_status rc;

	if (!h->captured_set || strncmp(h->captured, SIGNATURE_PREFIX, plen) != 0)
		return refuse(s, "signature", err, "no ed25519 decision signature");
	if (bg_base64_decode(h->captured + plen, &sig, &sig_len, &why) != BG_OK)
		return refuse(s, "signature", err, "signature is not base64");
	rc = bg_ed25519_verify_file(s->cfg->approval.service_key, h->body.data, h->body.len,
	    sig, sig_len, &why);
	free(sig);
	if (rc == BG_ERR_CRYPTO)
		return refuse(s, "signature", err, "%s", why.msg);
	if (rc != BG_OK)
		return internal(s, bg_error_set(err, rc, "%s", why.msg));
	return BG_OK;
}

/* Checks 6 to 14 of one poll answer. */
static bg_status
judge(session *s, const bg_http *h, poll_state *state, bg_error *err)
{
	json_object *d = NULL;
	const char *status;
	time_t issued_at = 0;
	bg_error why;
	bg_status rc;

	if ((rc = check_signature(s, h, err)) != BG_OK)
		return rc;
	if (bg_http_json_body(h, &d, &why) != BG_OK || !decision_well_formed(d, &issued_at)) {
		json_object_put(d);
		return refuse(s, "malformed", err, "the decision is not a valid document");
	}
	status = bg_json_member_cstring(d, "status");
	if ((rc = check_binding(s, d, issued_at, err)) != BG_OK)
		;
	else if (strcmp(status, "denied") == 0 ||
	    json_object_array_length(array_member(d, "denials")) > 0)
		rc = refuse(s, "denied", err, "an approver denied the request");
	else if (strcmp(status, "expired") == 0)
		rc = refuse(s, "expired", err, "the request expired at the service");
	else if (strcmp(status, "pending") == 0)
		*state = POLL_PENDING;
	else if ((rc = check_approvers(s, array_member(d, "approvals"), err)) == BG_OK) {
		s->res->decision = strdup(h->body.data);
		s->res->decision_signature = strdup(h->captured + sizeof(SIGNATURE_PREFIX) - 1);
		if (s->res->decision == NULL || s->res->decision_signature == NULL)
			rc = internal(s, bg_error_set(err, BG_ERR_NOMEM, "out of memory"));
		*state = POLL_APPROVED;
	}
	json_object_put(d);
	return rc;
}

/*
 * POSTs body to the path suffix and accepts only a 201 whose JSON object
 * names the id filed (member key equal to want).
 */
static bg_status
file_body(session *s, const char *suffix, const char *body, const char *key,
    const char *want, bg_error *err)
{
	json_object *o = NULL;
	const char *id;
	bg_http h;
	bg_error why;
	bg_status rc;
	long status;

	if ((rc = exchange(s, suffix, body, 0, &h, err)) != BG_OK)
		return rc;
	status = bg_http_status(&h);
	if (status != HTTP_CREATED)
		rc = refuse(s, "http-status", err, "POST %s answered %ld", suffix, status);
	else if (bg_http_json_body(&h, &o, &why) != BG_OK ||
	    !json_object_is_type(o, json_type_object) ||
	    (id = bg_json_member_cstring(o, key)) == NULL)
		rc = refuse(s, "malformed", err, "the answer to POST %s is not valid", suffix);
	else if (strcmp(id, want) != 0)
		rc = refuse(s, "mismatch", err, "the service filed another %s", key);
	json_object_put(o);
	bg_http_free(&h);
	return rc;
}

static bg_status
file_request(session *s, const char *body, bg_error *err)
{
	return file_body(s, "/requests", body, "request_id", s->res->request_id, err);
}

static bg_status
poll_once(session *s, poll_state *state, bg_error *err)
{
	unsigned long long left = s->deadline - bg_monotonic_ms();
	unsigned long wait = (unsigned long)(left / MS_PER_S);
	char suffix[BG_UUID_LEN + 64];
	bg_http h;
	bg_status rc;
	long status;

	if (wait > BG_APPROVAL_MAX_WAIT)
		wait = BG_APPROVAL_MAX_WAIT;
	snprintf(suffix, sizeof(suffix), "/requests/%s?wait=%lu", s->res->request_id, wait);
	if ((rc = exchange(s, suffix, NULL, wait, &h, err)) != BG_OK)
		return rc;
	status = bg_http_status(&h);
	if (status != HTTP_OK)
		rc = refuse(s, "http-status", err, "poll answered %ld", status);
	else
		rc = judge(s, &h, state, err);
	bg_http_free(&h);
	return rc;
}

static unsigned long
seconds_left(const session *s)
{
	unsigned long long now = bg_monotonic_ms();

	return now >= s->deadline ? 0 : (unsigned long)((s->deadline - now) / MS_PER_S);
}

/* The connection handle, the URL, fresh ids and the host key: what every exchange needs. */
static bg_status
open_session(session *s, bg_error *err)
{
	bg_status rc;

	if ((s->easy = bg_http_handle_new(err)) == NULL)
		return BG_ERR_IO;
	if ((rc = split_urls(s, err)) != BG_OK || (rc = make_ids(s, err)) != BG_OK)
		return rc;
	return bg_key_file_read(s->cfg->approval.host_key, s->host_key, err);
}

static bg_status
run(session *s, bg_approval_progress progress, void *arg, bg_error *err)
{
	poll_state state = POLL_PENDING;
	char *body = NULL;
	bg_status rc;

	if ((rc = open_session(s, err)) != BG_OK ||
	    (rc = build_body(s, &body, err)) != BG_OK)
		return internal(s, rc);
	rc = file_request(s, body, err);
	free(body);
	if (rc != BG_OK)
		return rc;
	if (progress != NULL)
		progress(s->res->request_id, s->res->url, seconds_left(s), arg);
	for (;;) {
		if (bg_monotonic_ms() >= s->deadline)
			return refuse(s, "timeout", err, "no decision within %lu s",
			    s->cfg->approval.timeout);
		if ((rc = poll_once(s, &state, err)) != BG_OK || state == POLL_APPROVED)
			return rc;
		if (progress != NULL)
			progress(s->res->request_id, s->res->url, seconds_left(s), arg);
	}
}

static void
session_begin(session *s, const bg_config *cfg, const bg_approval_request *req,
    bg_approval_result *res)
{
	memset(res, 0, sizeof(*res));
	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	s->req = req;
	s->res = res;
}

/*
 * Releases the session; on failure also frees what the result gathered,
 * keeping only the request id and the reason ("internal" when none was set).
 */
static bg_status
session_end(session *s, bg_status rc)
{
	bg_approval_result *res = s->res;

	explicit_bzero(s->host_key, sizeof(s->host_key));
	if (s->easy != NULL)
		curl_easy_cleanup(s->easy);
	for (size_t i = 0; i < s->nep; i++) {
		free(s->ep[i].url);
		free(s->ep[i].path);
	}
	if (rc != BG_OK) {
		bg_approval_result keep = *res;

		memset(res, 0, sizeof(*res));
		memcpy(res->request_id, keep.request_id, sizeof(res->request_id));
		res->reason = keep.reason != NULL ? keep.reason : "internal";
		res->answered = keep.answered;
		res->http_status = keep.http_status;
		res->url = keep.url;
		memcpy(res->failed_urls, keep.failed_urls, sizeof(res->failed_urls));
		res->nfailed_urls = keep.nfailed_urls;
		bg_approval_result_free(&keep);
	}
	return rc;
}

bg_status
bg_approval_run(const bg_config *cfg, const bg_approval_request *req,
    bg_approval_progress progress, void *arg, bg_approval_result *res, bg_error *err)
{
	session s;

	session_begin(&s, cfg, req, res);
	s.deadline = bg_monotonic_ms() + cfg->approval.timeout * MS_PER_S;
	return session_end(&s, run(&s, progress, arg, err));
}

bg_status
bg_approval_judge(const bg_config *cfg, const bg_approval_request *req,
    const char *request_id, const char *nonce, const char *body, size_t body_len,
    const char *signature_header, bool *approved, bg_approval_result *res, bg_error *err)
{
	poll_state state = POLL_PENDING;
	session s;
	bg_http h;
	bg_status rc;

	*approved = false;
	session_begin(&s, cfg, req, res);
	memset(&h, 0, sizeof(h));
	/* The poll's body cap (check 5) and header capture, as bg_http applies them. */
	bg_buf_init(&h.body, BG_APPROVAL_MAX_BODY);
	if (signature_header != NULL && strlen(signature_header) < sizeof(h.captured)) {
		memcpy(h.captured, signature_header, strlen(signature_header) + 1);
		h.captured_set = true;
	}
	if ((size_t)snprintf(res->request_id, sizeof(res->request_id), "%s", request_id) >=
	    sizeof(res->request_id) ||
	    (size_t)snprintf(s.nonce, sizeof(s.nonce), "%s", nonce) >= sizeof(s.nonce))
		rc = internal(&s, bg_error_set(err, BG_ERR_INVALID,
		    "request_id or nonce too long"));
	else if (body_len > BG_APPROVAL_MAX_BODY)
		rc = refuse(&s, "too-large", err, "decision over %d bytes", BG_APPROVAL_MAX_BODY);
	else if (!bg_buf_append(&h.body, body, body_len))
		rc = internal(&s, bg_error_set(err, BG_ERR_NOMEM, "out of memory"));
	else
		rc = judge(&s, &h, &state, err);
	bg_buf_free(&h.body);
	*approved = rc == BG_OK && state == POLL_APPROVED;
	return session_end(&s, rc);
}

/*
 * A signed poll of a fresh request_id that was never filed: read-only, so the
 * service has nothing to act on; any answer but a 5xx (normally 404) shows it
 * reachable.
 */
static bg_status
probe(session *s, bg_error *err)
{
	char suffix[BG_UUID_LEN + 64];
	bg_http h;
	bg_status rc;

	if ((rc = open_session(s, err)) != BG_OK)
		return internal(s, rc);
	snprintf(suffix, sizeof(suffix), "/requests/%s?wait=0", s->res->request_id);
	if ((rc = exchange(s, suffix, NULL, 0, &h, err)) != BG_OK)
		return rc;
	bg_http_free(&h);
	if (!s->res->answered)
		return refuse(s, "http-status", err, "the probe was answered %ld",
		    s->res->http_status);
	return BG_OK;
}

bg_status
bg_approval_probe(const bg_config *cfg, bg_approval_result *res, bg_error *err)
{
	session s;

	session_begin(&s, cfg, NULL, res);
	s.deadline = bg_monotonic_ms() + cfg->approval.timeout * MS_PER_S;
	return session_end(&s, probe(&s, err));
}

bg_status
bg_approval_report_recovery(const bg_config *cfg, const char *recovery_id, const char *body,
    bg_approval_result *res, bg_error *err)
{
	bg_status rc;
	session s;

	session_begin(&s, cfg, NULL, res);
	s.deadline = bg_monotonic_ms() + cfg->approval.timeout * MS_PER_S;
	if ((rc = open_session(&s, err)) != BG_OK)
		rc = internal(&s, rc);
	else if ((size_t)snprintf(res->request_id, sizeof(res->request_id), "%s", recovery_id) >=
	    sizeof(res->request_id))
		rc = internal(&s, bg_error_set(err, BG_ERR_INVALID, "recovery id too long"));
	else if (strlen(body) > BG_APPROVAL_MAX_BODY)
		rc = internal(&s, bg_error_set(err, BG_ERR_TOOBIG, "report over %d bytes",
		    BG_APPROVAL_MAX_BODY));
	else
		rc = file_body(&s, "/recoveries", body, "recovery_id", recovery_id, err);
	return session_end(&s, rc);
}

bool
bg_approval_unreachable(const bg_approval_result *res)
{
	return !res->answered && res->reason != NULL &&
	    unreachable(res->reason, res->http_status);
}

void
bg_approval_result_free(bg_approval_result *res)
{
	size_t i;

	free(res->decision);
	free(res->decision_signature);
	for (i = 0; i < res->napprovers; i++)
		free(res->approvers[i]);
	memset(res, 0, sizeof(*res));
}
