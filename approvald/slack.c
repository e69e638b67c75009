/*
 * Approving from Slack: POST /v1/integrations/slack receives a click on a
 * notification's Approve or Deny button (notify.c) as Slack's interactivity
 * request, and answers the approver with a one-time link (links.c) to the
 * page, where the vote still needs a sign-in and the second factor.  The
 * click itself never votes: whoever holds Slack (or the signing secret)
 * can make a click, not a vote.
 *
 * The request is taken only when Slack signed it (v0: HMAC-SHA256 with the
 * signing secret over "v0:" timestamp ":" body, compared in constant
 * time), its timestamp is within AD_SKEW_MAX of now, and the signature was
 * not seen before (the hosts' replay cache).  Refusals of unsigned or
 * forged requests are logged, never journaled: anyone can send them.
 * What a signed click asks for that cannot be given (an unknown Slack
 * user, a request not pending or not naming the approver) is journaled as
 * slack.refused and answered with an ephemeral message saying why.
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
#include "fileio.h"
#include "json_body.h"
#include "names.h"

/* The replay cache's host for Slack's signatures: no [host] name holds a ':'. */
#define SEEN_HOST "slack:"
#define SIG_PREFIX "v0="
#define SIG_TEXT_LEN (sizeof(SIG_PREFIX) - 1 + BG_SHA256_HEX_LEN)
/* Unix seconds: ten digits until 2286. */
#define TIMESTAMP_DIGITS_MAX 12
#define SECRET_FILE_MAX 1024
#define BOT_TOKEN_PREFIX "xoxb-"
#define POST_BUFFER 4096
#define ESCAPED_MAX 256
/* A response_url Slack sends is about 100 characters. */
#define RESPONSE_URL_MAX 1024

/*
 * A secret file of one line (its newline dropped) whose characters are all
 * in allowed and which starts with prefix; else what names it in the error.
 */
static bg_status
secret_line(const char *path, const char *prefix, const char *allowed, const char *what,
    char **out, size_t *len, bg_error *err)
{
	char *data;
	size_t n;
	bg_status rc = bg_file_read(path, BG_FILE_SECRET, SECRET_FILE_MAX, &data, &n, err);

	if (rc != BG_OK)
		return rc;
	if (n > 0 && data[n - 1] == '\n')
		data[--n] = '\0';
	if (n <= strlen(prefix) || strncmp(data, prefix, strlen(prefix)) != 0 ||
	    strspn(data, allowed) != n) {
		bg_file_free_secret(data, n);
		return bg_error_set(err, BG_ERR_INVALID, "%s: not %s", path, what);
	}
	*out = data;
	*len = n;
	return BG_OK;
}

bg_status
ad_slack_secret_read(const char *path, char **out, size_t *len, bg_error *err)
{
	return secret_line(path, "", "!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~", "a signing secret (one line of printable "
	    "characters, as Slack shows it)", out, len, err);
}

bg_status
ad_slack_token_read(const char *path, char **out, size_t *len, bg_error *err)
{
	/* It goes into an HTTP header: nothing but the token's own characters. */
	return secret_line(path, BOT_TOKEN_PREFIX,
	    "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
	    "a Slack bot token (one line, xoxb- then letters, digits and '-', as Slack "
	    "shows it)", out, len, err);
}

bool
ad_slack_response_url_ok(const ad_config *cfg, const char *url)
{
	const char *prefix = cfg->slack.response_url_prefix;
	bg_error err;

	return prefix != NULL && strlen(url) <= RESPONSE_URL_MAX &&
	    strncmp(url, prefix, strlen(prefix)) == 0 &&
	    bg_url_host(url, NULL, NULL, 0, &err) == BG_OK;
}

/* ------------------------------------------------------------------ */
/* The signature. */

static bool
refused(ad_http_req *r, ad_response *res, const char *why)
{
	ad_log(LOG_WARNING, "slack request refused: source=%s: %s", r->source, why);
	ad_response_error(res, MHD_HTTP_UNAUTHORIZED, "not signed by Slack");
	return false;
}

/* Whether Slack signed this request, within the time window; else res is answered. */
static bool
signed_by_slack(ad_http_req *r, ad_response *res, int64_t *ts_out)
{
	const char *ts = ad_http_header(r, "X-Slack-Request-Timestamp");
	const char *sig = ad_http_header(r, "X-Slack-Signature");
	unsigned char mac[BG_SHA256_LEN];
	char want[SIG_TEXT_LEN + 1], *secret = NULL;
	size_t tslen, slen = 0;
	int64_t when = 0, now_s = r->now_ms / AD_MS_PER_SECOND;
	bg_error err;
	bg_buf msg;
	bool ok;

	if (ts == NULL || sig == NULL)
		return refused(r, res, "no X-Slack-Request-Timestamp or X-Slack-Signature");
	tslen = strlen(ts);
	if (tslen == 0 || tslen > TIMESTAMP_DIGITS_MAX || strspn(ts, "0123456789") != tslen)
		return refused(r, res, "malformed timestamp");
	for (size_t i = 0; i < tslen; i++)
		when = when * 10 + (ts[i] - '0');
	if (when < now_s - AD_SKEW_MAX || when > now_s + AD_SKEW_MAX)
		return refused(r, res, "timestamp outside 5 minutes of now");
	if (strlen(sig) != SIG_TEXT_LEN)
		return refused(r, res, "malformed signature");
	if (ad_slack_secret_read(r->app->cfg->slack.signing_secret, &secret, &slen,
	    &err) != BG_OK) {
		ad_log(LOG_ERR, "slack: %s", err.msg);
		ad_response_error(res, MHD_HTTP_INTERNAL_SERVER_ERROR, "signing secret unreadable");
		return false;
	}
	bg_buf_init(&msg, 0);
	ok = bg_buf_printf(&msg, "v0:%s:", ts) && bg_buf_append(&msg, r->body, r->body_len) &&
	    bg_hmac_sha256(secret, slen, msg.data, msg.len, mac, &err) == BG_OK;
	bg_file_free_secret(secret, slen);
	bg_buf_free(&msg);
	if (!ok) {
		ad_log(LOG_ERR, "slack: cannot compute the signature");
		ad_response_error(res, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal error");
		return false;
	}
	memcpy(want, SIG_PREFIX, sizeof(SIG_PREFIX) - 1);
	bg_hex_encode(mac, sizeof(mac), want + sizeof(SIG_PREFIX) - 1);
	if (!bg_ct_equal(want, sig, SIG_TEXT_LEN))
		return refused(r, res, "bad signature");
	*ts_out = when;
	return true;
}

/* ------------------------------------------------------------------ */
/* The payload: form-encoded payload=JSON, read by libmicrohttpd. */

struct form {
	bg_buf payload;
	bool payload_seen;
	bool other;               /* a field but payload */
};

static enum MHD_Result
form_field(void *cls, enum MHD_ValueKind kind, const char *key, const char *filename,
    const char *content_type, const char *transfer_encoding, const char *data,
    uint64_t off, size_t size)
{
	struct form *f = cls;

	if (strcmp(key, "payload") != 0 || (off == 0 && f->payload_seen)) {
		f->other = true;
		return MHD_NO;
	}
	f->payload_seen = true;
	return size == 0 || bg_buf_append(&f->payload, data, size) ? MHD_YES : MHD_NO;
}

/* The payload's JSON in the strict body grammar; NULL with err saying why. */
static json_object *
payload_parse(ad_http_req *r, bg_error *err)
{
	struct MHD_PostProcessor *pp;
	struct form f = { .payload_seen = false };
	json_object *doc = NULL;
	bool ok;

	bg_buf_init(&f.payload, AD_BODY_MAX);
	pp = MHD_create_post_processor(r->conn, POST_BUFFER, form_field, &f);
	if (pp == NULL) {
		bg_buf_free(&f.payload);
		bg_error_set(err, BG_ERR_INVALID, "expected application/x-www-form-urlencoded");
		return NULL;
	}
	ok = MHD_post_process(pp, r->body, r->body_len) == MHD_YES;
	ok = MHD_destroy_post_processor(pp) == MHD_YES && ok;
	if (!ok || f.other || !f.payload_seen || f.payload.overflow)
		bg_error_set(err, BG_ERR_INVALID, "expected one form field, payload");
	else
		doc = bg_json_body_parse(f.payload.data != NULL ? f.payload.data : "",
		    f.payload.len, AD_BODY_MAX, err);
	bg_buf_free(&f.payload);
	return doc;
}

/* obj's member key when it is a string, else NULL. */
static const char *
member_string(json_object *obj, const char *key)
{
	json_object *v;

	if (obj == NULL || !json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

const char *
ad_slack_click_parse(json_object *doc, ad_slack_click *c)
{
	json_object *user = NULL, *actions = NULL, *a;

	memset(c, 0, sizeof(*c));
	if (!json_object_is_type(doc, json_type_object) ||
	    member_string(doc, "type") == NULL ||
	    strcmp(member_string(doc, "type"), "block_actions") != 0)
		return "not a block_actions payload";
	if (!json_object_object_get_ex(doc, "user", &user) ||
	    (c->user_id = member_string(user, "id")) == NULL)
		return "no user.id";
	json_object_object_get_ex(user, "id", &c->user);
	if (!json_object_object_get_ex(doc, "actions", &actions) ||
	    !json_object_is_type(actions, json_type_array) ||
	    json_object_array_length(actions) != 1)
		return "expected one action";
	a = json_object_array_get_idx(actions, 0);
	c->action = member_string(a, "action_id");
	c->request_id = member_string(a, "value");
	if (c->action == NULL || (strcmp(c->action, "approve") != 0 &&
	    strcmp(c->action, "deny") != 0))
		return "action_id: neither approve nor deny";
	if (c->request_id == NULL)
		return "no value (the request id)";
	if (json_object_object_get_ex(doc, "response_url", NULL) &&
	    (c->response_url = member_string(doc, "response_url")) == NULL)
		return "response_url: not a string";
	return NULL;
}

/* ------------------------------------------------------------------ */
/* The answer. */

static json_object *
ephemeral(const char *text)
{
	json_object *m = json_object_new_object();

	json_object_object_add(m, "response_type", json_object_new_string("ephemeral"));
	json_object_object_add(m, "replace_original", json_object_new_boolean(false));
	json_object_object_add(m, "text", json_object_new_string(text));
	/* No preview: a preview fetch would open (and use up) the link. */
	json_object_object_add(m, "unfurl_links", json_object_new_boolean(false));
	json_object_object_add(m, "unfurl_media", json_object_new_boolean(false));
	return m;
}

/*
 * The message to the approver, in the answer and, as Slack shows no answer
 * to a button's request, queued to the click's response_url.
 */
static bg_status
answer(ad_http_req *r, const ad_slack_click *c, const char *text, ad_response *res, bg_error *err)
{
	json_object *m = ephemeral(text);
	bg_status rc = BG_OK;

	if (m == NULL)
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	if (c->response_url != NULL && ad_slack_response_url_ok(r->app->cfg, c->response_url))
		rc = ad_notify_slack_response(r->app, c->response_url, m, r->now_ms, err);
	if (rc == BG_OK)
		ad_response_json(res, MHD_HTTP_OK, m);
	json_object_put(m);
	return rc;
}

bg_event *
ad_slack_event(const ad_app *app, const char *source, const ad_request *req,
    const char *approver, const ad_slack_click *c, const char *reason)
{
	bg_event *ev = ad_event_new(app, reason != NULL ? "slack.refused" :
	    "slack.link_issued", reason != NULL ? "failure" : "success", req, approver, source);

	if (ev != NULL) {
		ad_event_add_untrusted_json(ev, "slack_user", c->user);
		bg_event_add_str(ev, "action", c->action);
		if (reason != NULL)
			bg_event_add_str(ev, "reason", reason);
	}
	return ev;
}

/* slack.refused (a signed click that gets no link) and its ephemeral answer. */
static bg_status
refuse_click(ad_http_req *r, const ad_slack_click *c, const ad_request *req,
    const char *approver, const char *reason, const char *text, ad_response *res,
    bg_error *err)
{
	bg_event *ev = ad_slack_event(r->app, r->source, req, approver, c, reason);
	char shown[ESCAPED_MAX];
	bg_status rc;

	if (ev == NULL)
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	rc = bg_audit_emit(&r->app->audit, ev, err);
	bg_event_free(ev);
	bg_escape_printable(c->user_id, shown, sizeof(shown));
	ad_log(LOG_WARNING, "slack click refused: user=%s source=%s: %s", shown, r->source,
	    reason);
	return rc == BG_OK ? answer(r, c, text, res, err) : rc;
}

/* slack.link_issued, the response_url kept for the message's update, the link answered. */
static bg_status
issue(ad_http_req *r, const ad_slack_click *c, const ad_request *req, const char *approver,
    ad_response *res, bg_error *err)
{
	char token[AD_TOKEN_LEN + 1];
	bg_event *ev;
	bg_status rc;
	bg_buf t;

	if ((rc = ad_link_issue(r->app, approver, req->id, c->action, r->now_ms, token,
	    err)) != BG_OK)
		return rc;
	if (c->response_url != NULL && ad_slack_response_url_ok(r->app->cfg, c->response_url) &&
	    (rc = ad_store_slack_response_put(r->app->store, req->id, c->response_url,
	    r->now_ms, err)) != BG_OK)
		return rc;
	if ((ev = ad_slack_event(r->app, r->source, req, approver, c, NULL)) == NULL)
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	rc = bg_audit_emit(&r->app->audit, ev, err);
	bg_event_free(ev);
	if (rc != BG_OK)
		return rc;
	bg_buf_init(&t, AD_BODY_MAX);
	bg_buf_printf(&t, "To %s request ", c->action);
	bg_escape_markup(&t, req->id, false);
	bg_buf_puts(&t, " (host ");
	bg_escape_markup(&t, req->host, false);
	bg_buf_puts(&t, ", operator ");
	bg_escape_markup(&t, req->operator_name, false);
	bg_buf_puts(&t, "), open <");
	bg_escape_markup(&t, r->app->cfg->server.public_url, false);
	bg_buf_printf(&t, "/v1/links/%s|this one-time link> within 10 minutes, sign in "
	    "and confirm with your second factor. The button alone records no vote.", token);
	explicit_bzero(token, sizeof(token));
	rc = t.overflow ? bg_error_set(err, BG_ERR_NOMEM, "out of memory") :
	    answer(r, c, t.data, res, err);
	explicit_bzero(t.data, t.len);
	bg_buf_free(&t);
	return rc;
}

static bool
voted(const ad_votes *votes, const char *approver)
{
	for (size_t i = 0; i < votes->count; i++)
		if (bg_name_equal(votes->v[i].approver, approver))
			return true;
	return false;
}

/* Inside the transaction that holds the click's replay entry. */
static bg_status
handle_click(ad_http_req *r, const ad_slack_click *c, ad_response *res, bg_error *err)
{
	const ad_config_approver *a = ad_config_find_slack_user(r->app->cfg, c->user_id);
	ad_request req = { 0 };
	ad_votes votes = { 0 };
	bg_status rc;

	if (a == NULL)
		return refuse_click(r, c, NULL, NULL, "unknown-user", "Your Slack user is "
		    "not an approver of this break-glass service (slack_user).", res, err);
	rc = ad_request_load(r->app, c->request_id, &req, &votes, r->source, r->now_ms, err);
	if (rc == BG_ERR_NOTFOUND)
		return refuse_click(r, c, NULL, a->meta.name, "unknown-request",
		    "There is no such break-glass request.", res, err);
	if (rc != BG_OK)
		return rc;
	if (strcmp(req.status, "pending") != 0)
		rc = refuse_click(r, c, &req, a->meta.name, "not-pending", "This request is "
		    "no longer pending.", res, err);
	else if (bg_name_equal(req.operator_name, a->meta.name))
		rc = refuse_click(r, c, &req, a->meta.name, "self-approval", "You are the "
		    "operator of this request: you cannot vote on it.", res, err);
	else if (!ad_request_names(&req, a->meta.name))
		rc = refuse_click(r, c, &req, a->meta.name, "not-designated", "This request "
		    "does not name you as an approver.", res, err);
	else if (voted(&votes, a->meta.name))
		rc = refuse_click(r, c, &req, a->meta.name, "already-voted", "You voted on "
		    "this request already.", res, err);
	else
		rc = issue(r, c, &req, a->meta.name, res, err);
	ad_votes_clear(&votes);
	ad_request_clear(&req);
	return rc;
}

void
ad_slack_interaction(ad_http_req *r, ad_response *res)
{
	json_object *doc;
	const char *bad;
	int64_t ts;
	ad_slack_click c;
	bg_error err;
	bg_status rc;

	if (r->app->cfg->slack.signing_secret == NULL) {
		ad_response_error(res, MHD_HTTP_NOT_FOUND, "not found");
		return;
	}
	if (!signed_by_slack(r, res, &ts))
		return;
	if ((doc = payload_parse(r, &err)) == NULL) {
		ad_log(LOG_WARNING, "slack request refused: source=%s: %s", r->source, err.msg);
		ad_response_error(res, MHD_HTTP_BAD_REQUEST, err.msg);
		return;
	}
	if ((bad = ad_slack_click_parse(doc, &c)) != NULL) {
		ad_log(LOG_WARNING, "slack request refused: source=%s: %s", r->source, bad);
		ad_response_error(res, MHD_HTTP_BAD_REQUEST, bad);
		json_object_put(doc);
		return;
	}
	/* The signature is remembered with what it did: the same click twice is refused. */
	rc = ad_store_begin(r->app->store, &err);
	if (rc == BG_OK &&
	    (rc = ad_store_seen_add(r->app->store, SEEN_HOST, ad_http_header(r,
	    "X-Slack-Signature"), ts * AD_MS_PER_SECOND, &err)) == BG_ERR_DENIED) {
		ad_store_rollback(r->app->store);
		refused(r, res, "replayed");
		json_object_put(doc);
		return;
	}
	if (rc == BG_OK)
		rc = handle_click(r, &c, res, &err);
	if (rc == BG_OK)
		rc = ad_store_commit(r->app->store, &err);
	if (rc != BG_OK) {
		ad_store_rollback(r->app->store);
		ad_log(LOG_ERR, "slack: %s", err.msg);
		ad_response_error(res, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot answer the click");
	} else {
		ad_notifier_kick(r->app->notifier);
	}
	json_object_put(doc);
}
