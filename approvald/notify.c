/*
 * Notifications to the [notify] targets.  Deciding never waits for them: a
 * notification is queued in the store, in the transaction of the change it
 * reports, and delivered with libcurl by a thread per target, each with its
 * own database handle and its own retries (exponential backoff, a bounded
 * number of times): a target that accepts and never answers delays only its
 * own notifications.  A queued notification survives a restart.
 *
 * slack: {"text": "..."} with a link to public_url; a new request's with
 *        Block Kit Approve/Deny buttons too (slack.c takes the clicks), and
 *        a clicked one's message replaced once decided, through the click's
 *        response_url (target "slack:response_url").
 * slack with a token (a bot): the same message to Slack's Web API,
 *        chat.postMessage to the target's channel; where Slack put it
 *        (channel, ts) is kept with the request (slack_posts), and the
 *        decision's notification replaces it with chat.update, after the
 *        post when that is still queued.  Slack's answer is read in the
 *        strict body grammar: ok false is retried, or given up when it
 *        cannot get better (invalid_auth, channel_not_found...).
 * json:  {"type", "timestamp", "data"}, signed Standard-Webhooks style:
 *        webhook-id, webhook-timestamp and webhook-signature
 *        "v1,<base64 HMAC-SHA256(secret, id.timestamp.body)>".
 */
#include "build_config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include <curl/curl.h>

#include "approvald.h"
#include "escape.h"
#include "fileio.h"
#include "json_body.h"

#define MAX_ATTEMPTS 6
#define BACKOFF_FIRST_MS 1000LL
#define BACKOFF_MAX_MS 60000LL
#define CONNECT_TIMEOUT_S 5L
#define TOTAL_TIMEOUT_S 10L
/*
 * With nothing due, look again after this long anyway: another instance on
 * the same database may have queued a notification and died before sending it.
 */
#define IDLE_WAIT_MS 60000LL
#define MSG_ID_BYTES 16
#define MSG_ID_LEN (sizeof("msg_") + 2 * MSG_ID_BYTES)
/*
 * The queue's target for messages to Slack response_urls (slack.c): no
 * [notify] name holds a ':'.
 */
#define SLACK_RESPONSE_TARGET "slack:response_url"
#define HTTP_OK_MIN 200
#define HTTP_OK_MAX 299
#define NS_PER_MS 1000000LL
#define NS_PER_S 1000000000LL
#define ESCAPED_MAX 256
/* Unix seconds in decimal. */
#define TIMESTAMP_TEXT_LEN 24
#define RECOVERY_EVENT "recovery.reported"
/*
 * Each value of a slack text is cut there: six of them, escaped, stay far
 * below the 64 KiB a message may take, so that no request fails to notify.
 */
#define SLACK_VALUE_MAX 1024
/*
 * Block Kit's limit on a section's text, in characters (each at least a
 * byte), and the cuts of each value there: escaping & < > at most
 * quintuples a value, so six values cut at the smaller one, without the
 * link (public_url has no bound), always fit.
 */
#define SLACK_SECTION_MAX 3000
#define SLACK_SECTION_VALUE_MAX 400
#define SLACK_SECTION_VALUE_MIN 80
/* Slack's answer echoes the message: our blocks, far below this. */
#define SLACK_ANSWER_MAX (256 * 1024)
#define SLACK_ID_MAX 32
/* A Retry-After longer than this is Slack misbehaving: we try again sooner. */
#define RETRY_AFTER_MAX_MS (15 * 60000LL)
/* An update whose message is not posted yet looks again after this long. */
#define WAIT_POST_MS 2000LL
#define CONTENT_TYPE_JSON "Content-Type: application/json"
/* Slack's Web API warns without the charset. */
#define CONTENT_TYPE_JSON_UTF8 "Content-Type: application/json; charset=utf-8"

/* One target's delivery thread. */
struct worker {
	struct worker *next;
	ad_notifier *nt;
	pthread_t thread;
	char *target;
	ad_store *store;          /* opened by the thread itself */
};

struct ad_notifier {
	pthread_mutex_t lock;     /* guards gen, stop and workers */
	pthread_cond_t cond;
	unsigned long gen;        /* bumped by every kick */
	bool stop;
	ad_config_server db;      /* the database settings, copied: a reload frees cfg */
	struct worker *workers;
};

static bg_status notifier_ensure(void *arg, const char *target, bg_error *err);

/* ------------------------------------------------------------------ */
/* Building and queueing (HTTP or main thread, inside the caller's transaction). */

/* ", recovery R1-..., approvers bob (at ...), carol (at ...)" */
static void
recovery_text(bg_buf *t, json_object *view)
{
	json_object *list = NULL, *v;

	bg_buf_puts(t, ", recovery ");
	if (json_object_object_get_ex(view, "recovery_id", &v))
		bg_escape_markup(t, json_object_get_string(v), false);
	bg_buf_puts(t, ", approvers");
	json_object_object_get_ex(view, "approvers", &list);
	for (size_t i = 0; list != NULL && i < json_object_array_length(list); i++) {
		json_object *a = json_object_array_get_idx(list, i);

		bg_buf_puts(t, i > 0 ? ", " : " ");
		if (json_object_object_get_ex(a, "approver", &v))
			bg_escape_markup(t, json_object_get_string(v), false);
		bg_buf_puts(t, " (code at ");
		if (json_object_object_get_ex(a, "at", &v))
			bg_escape_markup(t, json_object_get_string(v), false);
		bg_buf_puts(t, ")");
	}
}

/*
 * The message's text: each value a host sent cut at value_max bytes,
 * escaped for mrkdwn, with the link to the page when link (t->overflow set
 * on overflow).
 */
static void
slack_text(bg_buf *t, const ad_app *app, const char *event, json_object *view,
    const char *status, size_t value_max, bool link)
{
	static const char *const keys[] = {
		"operator", "account", "host", "incident", "scope", "reason",
	};
	bool recovery = strcmp(event, RECOVERY_EVENT) == 0;
	json_object *v;

	if (recovery)
		bg_buf_puts(t, "Break-glass offline recovery reported (after the fact): ");
	else
		bg_buf_puts(t, strcmp(event, "request.created") == 0 ?
		    "Break-glass request: " : "Break-glass request ");
	if (!recovery && strcmp(event, "request.created") != 0) {
		bg_escape_markup(t, status, false);
		bg_buf_puts(t, ": ");
	}
	/* A recovery report has no reason: members absent are left out. */
	for (size_t i = 0, shown = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (json_object_object_get_ex(view, keys[i], &v)) {
			bg_buf_printf(t, "%s%s ", shown++ > 0 ? ", " : "", keys[i]);
			bg_escape_markup_cut(t, json_object_get_string(v), false, value_max);
		}
	if (recovery)
		recovery_text(t, view);
	if (link && app->cfg->server.public_url != NULL) {
		bg_buf_puts(t, " - ");
		bg_escape_markup(t, app->cfg->server.public_url, false);
		bg_buf_puts(t, recovery ? "/#" : "/#r-");
		if (json_object_object_get_ex(view, recovery ? "recovery_id" : "request_id", &v))
			bg_escape_markup(t, json_object_get_string(v), false);
	}
}

static json_object *
button(const char *label, const char *style, const char *action, const char *id)
{
	json_object *b = json_object_new_object(), *text = json_object_new_object();

	json_object_object_add(text, "type", json_object_new_string("plain_text"));
	json_object_object_add(text, "text", json_object_new_string(label));
	json_object_object_add(b, "type", json_object_new_string("button"));
	json_object_object_add(b, "text", text);
	json_object_object_add(b, "style", json_object_new_string(style));
	json_object_object_add(b, "action_id", json_object_new_string(action));
	json_object_object_add(b, "value", json_object_new_string(id));
	return b;
}

static json_object *
mrkdwn_section(const char *text)
{
	json_object *section = json_object_new_object(), *t = json_object_new_object();

	json_object_object_add(t, "type", json_object_new_string("mrkdwn"));
	json_object_object_add(t, "text", json_object_new_string(text));
	json_object_object_add(section, "type", json_object_new_string("section"));
	json_object_object_add(section, "text", t);
	return section;
}

/*
 * The message's text in a Block Kit section (Slack shows blocks instead of
 * "text", which stays the notifications' fallback).  A section holds at
 * most 3000 characters: the values are cut shorter there, shorter still
 * when their escaping made it too long, and the link left to "text" when
 * even that is too long.
 */
static json_object *
text_section(const ad_app *app, const char *event, json_object *view, const char *status)
{
	static const struct {
		size_t cut;
		bool link;
	} tries[] = {
		{ SLACK_SECTION_VALUE_MAX, true }, { SLACK_SECTION_VALUE_MIN, true },
		{ SLACK_SECTION_VALUE_MIN, false },
	};
	json_object *section = NULL;
	bg_buf t;

	bg_buf_init(&t, AD_BODY_MAX);
	for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
		bg_buf_free(&t);
		bg_buf_init(&t, AD_BODY_MAX);
		slack_text(&t, app, event, view, status, tries[i].cut, tries[i].link);
		if (!t.overflow && t.len <= SLACK_SECTION_MAX)
			break;
	}
	if (!t.overflow && t.len <= SLACK_SECTION_MAX)
		section = mrkdwn_section(t.data);
	bg_buf_free(&t);
	return section;
}

/*
 * Block Kit for a new request: its text and the Approve/Deny buttons,
 * whose click Slack posts to /v1/integrations/slack (slack.c).
 */
static json_object *
slack_blocks(const ad_app *app, json_object *view)
{
	json_object *blocks, *section, *actions, *elements, *id;

	if (!json_object_object_get_ex(view, "request_id", &id) ||
	    (section = text_section(app, "request.created", view, "pending")) == NULL)
		return NULL;
	elements = json_object_new_array();
	json_object_array_add(elements, button("Approve", "primary", "approve",
	    json_object_get_string(id)));
	json_object_array_add(elements, button("Deny", "danger", "deny",
	    json_object_get_string(id)));
	actions = json_object_new_object();
	json_object_object_add(actions, "type", json_object_new_string("actions"));
	json_object_object_add(actions, "block_id", json_object_new_string("breakglass"));
	json_object_object_add(actions, "elements", elements);
	blocks = json_object_new_array();
	json_object_array_add(blocks, section);
	json_object_array_add(blocks, actions);
	return blocks;
}

/* "*Decision: approved.* Approved by bob, carol. Denied by dave." */
static void
votes_text(bg_buf *t, json_object *view, const char *status)
{
	static const struct {
		const char *key, *label;
	} lists[] = { { "approvals", " Approved by " }, { "denials", " Denied by " } };
	bool any = false;

	bg_buf_puts(t, "*Decision: ");
	bg_escape_markup(t, status, false);
	bg_buf_puts(t, ".*");
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		json_object *list = NULL, *v;
		size_t n;

		json_object_object_get_ex(view, lists[i].key, &list);
		if ((n = json_object_array_length(list)) == 0)
			continue;
		bg_buf_puts(t, lists[i].label);
		for (size_t j = 0; j < n; j++) {
			if (j > 0)
				bg_buf_puts(t, ", ");
			if (json_object_object_get_ex(json_object_array_get_idx(list, j),
			    "approver", &v))
				bg_escape_markup(t, json_object_get_string(v), false);
		}
		bg_buf_puts(t, ".");
		any = true;
	}
	if (!any)
		bg_buf_puts(t, " No votes.");
}

/*
 * Block Kit for a decided request's message, replacing the new request's
 * (a bot's chat.update): its text and the decision with who voted, no
 * buttons.  The votes are left out when too many for a section.
 */
static json_object *
decided_blocks(const ad_app *app, json_object *view, const char *status)
{
	json_object *blocks, *section;
	bg_buf t;

	if ((section = text_section(app, "request.decided", view, status)) == NULL)
		return NULL;
	blocks = json_object_new_array();
	json_object_array_add(blocks, section);
	bg_buf_init(&t, SLACK_SECTION_MAX);
	votes_text(&t, view, status);
	if (t.overflow) {
		bg_buf_free(&t);
		bg_buf_init(&t, SLACK_SECTION_MAX);
		bg_buf_printf(&t, "*Decision: %s.*", status);
	}
	json_object_array_add(blocks, mrkdwn_section(t.data));
	bg_buf_free(&t);
	return blocks;
}

/*
 * {"text"} (and for a new request, the blocks with its buttons; for a
 * bot's decided one, the blocks saying the decision); NULL when out of memory.
 */
static json_object *
slack_message(const ad_app *app, const char *event, json_object *view, const char *status,
    bool bot)
{
	json_object *obj = json_object_new_object(), *blocks = NULL;
	bg_buf t;

	bg_buf_init(&t, AD_BODY_MAX);
	slack_text(&t, app, event, view, status, SLACK_VALUE_MAX, true);
	if (strcmp(event, "request.created") == 0 &&
	    (blocks = slack_blocks(app, view)) == NULL)
		t.overflow = true;
	else if (bot && strcmp(event, "request.decided") == 0 &&
	    (blocks = decided_blocks(app, view, status)) == NULL)
		t.overflow = true;
	if (t.overflow || obj == NULL) {
		json_object_put(obj);
		json_object_put(blocks);
		bg_buf_free(&t);
		return NULL;
	}
	json_object_object_add(obj, "text", json_object_new_string(t.data));
	if (blocks != NULL)
		json_object_object_add(obj, "blocks", blocks);
	bg_buf_free(&t);
	return obj;
}

static char *
json_text(json_object *obj)
{
	return obj == NULL ? NULL : strdup(json_object_to_json_string_ext(obj,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* A webhook's message, or (t has a token) a bot's, naming its channel. */
static char *
slack_body(const ad_app *app, const ad_config_notify *t, const char *event,
    json_object *view, const char *status)
{
	json_object *obj = slack_message(app, event, view, status, t->token != NULL);
	char *out;

	if (obj != NULL && t->token != NULL)
		json_object_object_add(obj, "channel", json_object_new_string(t->channel));
	out = json_text(obj);
	json_object_put(obj);
	return out;
}

static char *
json_body(const char *event, json_object *view, int64_t now_ms)
{
	json_object *obj = json_object_new_object();
	char ts[AD_TIME_LEN];
	char *out;

	ad_time_format(now_ms, ts);
	if (obj != NULL) {
		json_object_object_add(obj, "type", json_object_new_string(event));
		json_object_object_add(obj, "timestamp", json_object_new_string(ts));
		json_object_object_add(obj, "data", json_object_get(view));
	}
	out = json_text(obj);
	json_object_put(obj);
	return out;
}

/* A fresh "msg_<hex>" id, and target's thread started. */
static bg_status
prepare(ad_app *app, const char *target, char msg_id[MSG_ID_LEN], bg_error *err)
{
	unsigned char idb[MSG_ID_BYTES];
	char idhex[2 * MSG_ID_BYTES + 1];
	bg_status rc;

	if ((rc = bg_random_bytes(idb, sizeof(idb), err)) != BG_OK ||
	    (app->notifier != NULL &&
	    (rc = notifier_ensure(app->notifier, target, err)) != BG_OK))
		return rc;
	bg_hex_encode(idb, sizeof(idb), idhex);
	snprintf(msg_id, MSG_ID_LEN, "msg_%s", idhex);
	return BG_OK;
}

/*
 * A bot's post of a new request (msg_id) is remembered, to be filled with
 * where Slack put it; the decision's notification (msg_id) then updates
 * that message (*updated), or, when there is none, posts a new one.
 */
static bg_status
bot_track(ad_app *app, const char *target, const char *event, json_object *view,
    const char *msg_id, bool *updated, bg_error *err)
{
	ad_slack_post sp = { .target = (char *)target };
	json_object *id;
	bg_status rc;

	if (strcmp(event, RECOVERY_EVENT) == 0 ||
	    !json_object_object_get_ex(view, "request_id", &id))
		return BG_OK;
	sp.request_id = (char *)json_object_get_string(id);
	if (strcmp(event, "request.created") == 0) {
		sp.post_msg = (char *)msg_id;
		return ad_store_slack_post_put(app->store, &sp, err);
	}
	/*
	 * One statement, not a read then a write: the worker may give the post
	 * up in between (PostgreSQL), and a row written after that would hold
	 * an update waiting for a post that never comes.
	 */
	rc = ad_store_slack_post_set_update(app->store, target, sp.request_id, msg_id, err);
	if (rc == BG_ERR_NOTFOUND)
		return BG_OK;
	if (rc == BG_OK)
		*updated = true;
	return rc;
}

/*
 * One notification per target about view (the event's data); *bot_updated
 * when one of them is a bot's chat.update.
 */
static bg_status
enqueue(ad_app *app, const char *event, json_object *view, const char *status,
    int64_t now_ms, bool *bot_updated, bg_error *err)
{
	char msg_id[MSG_ID_LEN];
	bg_status rc = BG_OK;

	for (size_t i = 0; rc == BG_OK && i < app->cfg->nnotify; i++) {
		const ad_config_notify *t = &app->cfg->notify[i];
		ad_notification n = { .target = t->meta.name, .url = t->url,
		    .format = t->format, .secret = t->secret, .msg_id = msg_id };

		if ((rc = prepare(app, t->meta.name, msg_id, err)) != BG_OK)
			break;
		if (t->token != NULL) {
			n.format = AD_NOTIFY_SLACK_BOT;
			n.secret = t->token;
		}
		n.body = t->format == AD_NOTIFY_SLACK ?
		    slack_body(app, t, event, view, status) : json_body(event, view, now_ms);
		if (n.body == NULL)
			rc = bg_error_set(err, BG_ERR_NOMEM, "out of memory");
		else
			rc = ad_store_notify_insert(app->store, &n, now_ms, err);
		if (rc == BG_OK && t->token != NULL)
			rc = bot_track(app, t->meta.name, event, view, msg_id, bot_updated, err);
		free(n.body);
	}
	return rc;
}

bg_status
ad_notify_slack_response(ad_app *app, const char *url, json_object *msg, int64_t now_ms,
    bg_error *err)
{
	char msg_id[MSG_ID_LEN];
	ad_notification n = { .target = SLACK_RESPONSE_TARGET, .url = (char *)url,
	    .format = AD_NOTIFY_SLACK, .msg_id = msg_id };
	bg_status rc;

	if ((rc = prepare(app, SLACK_RESPONSE_TARGET, msg_id, err)) != BG_OK)
		return rc;
	if ((n.body = json_text(msg)) == NULL)
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	rc = ad_store_notify_insert(app->store, &n, now_ms, err);
	free(n.body);
	return rc;
}

/*
 * A decided request whose Slack message was clicked: that message (through
 * the click's response_url) now says the decision, without the buttons.
 */
static bg_status
slack_update(ad_app *app, const ad_request *r, json_object *view, const char *status,
    int64_t now_ms, bg_error *err)
{
	json_object *msg;
	char *url = NULL;
	bg_status rc = ad_store_slack_response_get(app->store, r->id, &url, err);

	if (rc == BG_ERR_NOTFOUND)
		return BG_OK;
	/* The prefix may have changed since: the URL is checked again. */
	if (rc != BG_OK || !ad_slack_response_url_ok(app->cfg, url)) {
		free(url);
		return rc;
	}
	if ((msg = slack_message(app, "request.decided", view, status, false)) == NULL) {
		rc = bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	} else {
		json_object_object_add(msg, "replace_original", json_object_new_boolean(true));
		rc = ad_notify_slack_response(app, url, msg, now_ms, err);
	}
	json_object_put(msg);
	free(url);
	return rc;
}

bg_status
ad_notify_enqueue(ad_app *app, const char *event, const ad_request *r,
    const ad_votes *votes, const char *status, int64_t now_ms, bg_error *err)
{
	json_object *view = ad_request_view(r, votes);
	bool bot_updated = false;
	bg_status rc;

	if (view == NULL)
		return bg_error_set(err, BG_ERR_INVALID, "stored request unreadable");
	json_object_object_add(view, "status", json_object_new_string(status));
	rc = enqueue(app, event, view, status, now_ms, &bot_updated, err);
	/* A bot updates its message itself: the click's response_url is the fallback. */
	if (rc == BG_OK && strcmp(event, "request.decided") == 0 && !bot_updated)
		rc = slack_update(app, r, view, status, now_ms, err);
	json_object_put(view);
	return rc;
}

bg_status
ad_notify_recovery(ad_app *app, json_object *doc, int64_t now_ms, bg_error *err)
{
	bool bot_updated = false;

	return enqueue(app, RECOVERY_EVENT, doc, "reported", now_ms, &bot_updated, err);
}

/* ------------------------------------------------------------------ */
/* Delivery (notifier thread). */

static size_t
discard(char *ptr, size_t size, size_t nmemb, void *arg)
{
	return size * nmemb;
}

static int
on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
    curl_off_t ulnow)
{
	ad_notifier *nt = arg;
	bool stop;

	pthread_mutex_lock(&nt->lock);
	stop = nt->stop;
	pthread_mutex_unlock(&nt->lock);
	return stop ? 1 : 0;
}

/* "webhook-signature: v1,<base64>" over id.timestamp.body. */
static struct curl_slist *
webhook_headers(struct curl_slist *h, const ad_notification *n, bg_error *err)
{
	unsigned char key[BG_SHA256_LEN], mac[BG_SHA256_LEN];
	char ts[TIMESTAMP_TEXT_LEN], *b64 = NULL, *line = NULL;
	bg_buf msg;
	bool ok;

	snprintf(ts, sizeof(ts), "%lld", (long long)(ad_now_ms() / AD_MS_PER_SECOND));
	if (bg_key_file_read(n->secret, key, err) != BG_OK)
		return NULL;
	bg_buf_init(&msg, 0);
	ok = bg_buf_printf(&msg, "%s.%s.%s", n->msg_id, ts, n->body) &&
	    bg_hmac_sha256(key, sizeof(key), msg.data, msg.len, mac, err) == BG_OK &&
	    bg_base64_encode(mac, sizeof(mac), &b64, err) == BG_OK;
	explicit_bzero(key, sizeof(key));
	bg_buf_free(&msg);
	if (ok && asprintf(&line, "webhook-id: %s", n->msg_id) > 0) {
		h = curl_slist_append(h, line);
		free(line);
		line = NULL;
	}
	if (ok && asprintf(&line, "webhook-timestamp: %s", ts) > 0) {
		h = curl_slist_append(h, line);
		free(line);
		line = NULL;
	}
	if (ok && asprintf(&line, "webhook-signature: v1,%s", b64) > 0) {
		h = curl_slist_append(h, line);
		free(line);
	} else {
		ok = false;
	}
	free(b64);
	return ok ? h : NULL;
}

/* What one attempt came to. */
typedef enum {
	SENT,
	FAILED,                   /* tried again after the backoff or Retry-After */
	REFUSED,                  /* by Slack, for good: given up now */
	WAITING,                  /* an update whose message is not posted yet */
} outcome;

typedef struct {
	char why[BG_ERROR_MAX];
	int64_t retry_after_ms;   /* the answer's Retry-After; 0: none */
	char *post_of;            /* a bot's post: its request, forgotten if given up */
} attempt;

static size_t
keep(char *ptr, size_t size, size_t nmemb, void *arg)
{
	return bg_buf_append(arg, ptr, size * nmemb) ? size * nmemb : 0;
}

/*
 * POSTs body to url with headers h: false with why when no answer came,
 * else its status in *code, its body in answer (when not NULL) and its
 * Retry-After in a.
 */
static bool
http_post(ad_notifier *nt, const char *url, struct curl_slist *h, const char *body,
    bg_buf *answer, long *code, attempt *a)
{
	CURL *c = curl_easy_init();
	curl_off_t retry_s = 0;
	CURLcode cc;

	*code = 0;
	if (c == NULL) {
		snprintf(a->why, sizeof(a->why), "out of memory");
		return false;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, TOTAL_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	if (answer != NULL) {
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, answer);
	} else {
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	}
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, nt);
	cc = curl_easy_perform(c);
	if (cc == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, code);
		if (curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &retry_s) == CURLE_OK &&
		    retry_s > 0)
			a->retry_after_ms = retry_s < RETRY_AFTER_MAX_MS / AD_MS_PER_SECOND ?
			    (int64_t)retry_s * AD_MS_PER_SECOND : RETRY_AFTER_MAX_MS;
	} else {
		snprintf(a->why, sizeof(a->why), "%s", curl_easy_strerror(cc));
	}
	curl_easy_cleanup(c);
	return cc == CURLE_OK;
}

static bool
status_ok(long code, attempt *a)
{
	if (code >= HTTP_OK_MIN && code <= HTTP_OK_MAX)
		return true;
	snprintf(a->why, sizeof(a->why), "HTTP status %ld", code);
	return false;
}

/* A webhook: sent on a 2xx answer. */
static outcome
deliver_webhook(ad_notifier *nt, const ad_notification *n, attempt *a)
{
	struct curl_slist *h = curl_slist_append(NULL, CONTENT_TYPE_JSON);
	long code;
	bg_error err;
	bool ok;

	if (h != NULL && n->format == AD_NOTIFY_JSON &&
	    (h = webhook_headers(h, n, &err)) == NULL) {
		snprintf(a->why, sizeof(a->why), "signing: %.400s", err.msg);
		return FAILED;
	}
	if (h == NULL) {
		snprintf(a->why, sizeof(a->why), "out of memory");
		return FAILED;
	}
	ok = http_post(nt, n->url, h, n->body, NULL, &code, a) && status_ok(code, a);
	curl_slist_free_all(h);
	return ok ? SENT : FAILED;
}

/* Slack's errors that the same call cannot overcome: retrying only repeats them. */
static bool
slack_error_final(const char *error)
{
	static const char *const final[] = {
		"invalid_auth", "not_authed", "account_inactive", "token_revoked",
		"token_expired", "no_permission", "missing_scope", "not_allowed_token_type",
		"channel_not_found", "not_in_channel", "is_archived", "message_not_found",
		"cant_update_message", "edit_window_closed", "invalid_blocks",
		"invalid_arguments", "msg_too_long", "no_text", "restricted_action",
	};

	for (size_t i = 0; i < sizeof(final) / sizeof(final[0]); i++)
		if (strcmp(error, final[i]) == 0)
			return true;
	return false;
}

/* The token's header line in h, zeroed with the list (headers_free). */
static struct curl_slist *
bot_headers(const char *token_path, attempt *a)
{
	struct curl_slist *h = curl_slist_append(NULL, CONTENT_TYPE_JSON_UTF8), *h2 = NULL;
	char *token = NULL, *line = NULL;
	size_t len = 0;
	bg_error err;

	if (h == NULL) {
		snprintf(a->why, sizeof(a->why), "out of memory");
		return NULL;
	}
	if (ad_slack_token_read(token_path, &token, &len, &err) != BG_OK) {
		snprintf(a->why, sizeof(a->why), "token: %.400s", err.msg);
		curl_slist_free_all(h);
		return NULL;
	}
	if (asprintf(&line, "Authorization: Bearer %s", token) > 0) {
		h2 = curl_slist_append(h, line);
		explicit_bzero(line, strlen(line));
		free(line);
	}
	bg_file_free_secret(token, len);
	if (h2 == NULL) {
		snprintf(a->why, sizeof(a->why), "out of memory");
		curl_slist_free_all(h);
	}
	return h2;
}

static void
headers_free(struct curl_slist *h)
{
	for (struct curl_slist *p = h; p != NULL; p = p->next)
		explicit_bzero(p->data, strlen(p->data));
	curl_slist_free_all(h);
}

/*
 * One call of Slack's Web API: SENT with Slack's answer in *doc (NULL when
 * unreadable: the message may well be posted, and a retry would post it
 * twice), else why, and whether to try again.
 */
static outcome
bot_call(ad_notifier *nt, const ad_notification *n, const char *method, const char *body,
    json_object **doc, attempt *a)
{
	struct curl_slist *h = bot_headers(n->secret, a);
	char *url = NULL, error[ESCAPED_MAX];
	json_object *v;
	bg_buf answer;
	long code;
	bg_error err;
	bool ok;

	*doc = NULL;
	if (h == NULL)
		return FAILED;
	if (asprintf(&url, "%s%s", n->url, method) < 0) {
		headers_free(h);
		snprintf(a->why, sizeof(a->why), "out of memory");
		return FAILED;
	}
	bg_buf_init(&answer, SLACK_ANSWER_MAX);
	ok = http_post(nt, url, h, body, &answer, &code, a) && status_ok(code, a);
	headers_free(h);
	free(url);
	if (ok && (*doc = bg_json_body_parse(answer.data != NULL ? answer.data : "",
	    answer.len, SLACK_ANSWER_MAX, &err)) == NULL)
		snprintf(a->why, sizeof(a->why), "%s: answer unreadable: %.400s", method,
		    err.msg);
	bg_buf_free(&answer);
	if (!ok)
		return FAILED;
	if (*doc == NULL || (json_object_object_get_ex(*doc, "ok", &v) &&
	    json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v)))
		return SENT;
	bg_escape_printable(json_object_object_get_ex(*doc, "error", &v) &&
	    json_object_is_type(v, json_type_string) ? json_object_get_string(v) :
	    "(no error)", error, sizeof(error));
	json_object_put(*doc);
	*doc = NULL;
	snprintf(a->why, sizeof(a->why), "%s: Slack: %s", method, error);
	return slack_error_final(error) ? REFUSED : FAILED;
}

/* Slack's IDs and timestamps: letters, digits and '.' (ts "1712345678.123456"). */
static const char *
answer_id(json_object *doc, const char *key)
{
	json_object *v;
	const char *s;

	if (doc == NULL || !json_object_object_get_ex(doc, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	s = json_object_get_string(v);
	return s[0] != '\0' && strlen(s) <= SLACK_ID_MAX &&
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.") == strlen(s) ? s : NULL;
}

/* Keeps where Slack put sp's post, for its update; else forgets the post. */
static void
bot_record(struct worker *w, const ad_slack_post *sp, json_object *doc, const char *target)
{
	ad_slack_post where = { .request_id = sp->request_id, .target = sp->target };
	bg_error err;
	bg_status rc;

	where.channel = (char *)answer_id(doc, "channel");
	where.ts = (char *)answer_id(doc, "ts");
	if (where.channel != NULL && where.ts != NULL) {
		rc = ad_store_slack_post_put(w->store, &where, &err);
	} else {
		ad_log(LOG_WARNING, "notify %s: posted, but Slack's answer names no channel "
		    "and ts: the decision will be a message of its own", target);
		rc = ad_store_slack_post_delete(w->store, sp->target, sp->request_id, &err);
	}
	if (rc != BG_OK)
		ad_log(LOG_ERR, "notify %s: %s", target, err.msg);
}

/*
 * A bot's message: a request's post (kept, for its update), its update
 * (once the post is: chat.update names the post's channel and ts), or one
 * not about a request (posted).
 */
static outcome
deliver_bot(struct worker *w, const ad_notification *n, const char *target, attempt *a)
{
	ad_slack_post sp = { 0 };
	json_object *doc = NULL, *msg = NULL;
	const char *method = "chat.postMessage";
	char *body = n->body;
	bg_error err;
	bg_status rc = ad_store_slack_post_get(w->store, n->target, n->msg_id, &sp, &err);
	bool post = rc == BG_OK && sp.post_msg != NULL && strcmp(sp.post_msg, n->msg_id) == 0;
	outcome o;

	if (rc != BG_OK && rc != BG_ERR_NOTFOUND) {
		snprintf(a->why, sizeof(a->why), "%s", err.msg);
		return FAILED;
	}
	if (rc == BG_OK && !post) {
		if (sp.ts == NULL || sp.channel == NULL) {
			snprintf(a->why, sizeof(a->why), "its message is not posted yet");
			ad_slack_post_clear(&sp);
			return WAITING;
		}
		method = "chat.update";
		if ((msg = json_tokener_parse(n->body)) == NULL ||
		    json_object_object_add(msg, "channel",
		    json_object_new_string(sp.channel)) != 0 ||
		    json_object_object_add(msg, "ts", json_object_new_string(sp.ts)) != 0 ||
		    (body = json_text(msg)) == NULL) {
			json_object_put(msg);
			ad_slack_post_clear(&sp);
			snprintf(a->why, sizeof(a->why), "out of memory");
			return FAILED;
		}
		json_object_put(msg);
	}
	o = bot_call(w->nt, n, method, body, &doc, a);
	if (o == SENT && doc == NULL)
		ad_log(LOG_WARNING, "notify %s: %s %s", target, n->msg_id, a->why);
	if (o == SENT && post)
		bot_record(w, &sp, doc, target);
	else if (post)
		a->post_of = sp.request_id != NULL ? strdup(sp.request_id) : NULL;
	json_object_put(doc);
	if (body != n->body)
		free(body);
	ad_slack_post_clear(&sp);
	return o;
}

static int64_t
backoff_ms(unsigned attempts)
{
	int64_t d = BACKOFF_FIRST_MS;

	for (unsigned i = 1; i < attempts && d < BACKOFF_MAX_MS; i++)
		d *= 2;
	return d < BACKOFF_MAX_MS ? d : BACKOFF_MAX_MS;
}

/*
 * Gives n up.  A post's give-up also forgets the post, in the same
 * transaction: done alone, its update would wait forever for a post that
 * never comes; forgotten alone, the post would be sent again.
 */
static bg_status
give_up(struct worker *w, const ad_notification *n, const char *post_of, bg_error *err)
{
	bg_status rc;

	if (post_of == NULL)
		return ad_store_notify_done(w->store, n->id, err);
	if ((rc = ad_store_begin(w->store, err)) != BG_OK)
		return rc;
	if ((rc = ad_store_notify_done(w->store, n->id, err)) == BG_OK &&
	    (rc = ad_store_slack_post_delete(w->store, n->target, post_of, err)) == BG_OK &&
	    (rc = ad_store_commit(w->store, err)) == BG_OK)
		return BG_OK;
	ad_store_rollback(w->store);
	return rc;
}

/* Delivers n and records the outcome; a failure to record it is returned. */
static bg_status
process(struct worker *w, ad_notification *n)
{
	char target[ESCAPED_MAX];
	unsigned attempts = n->attempts + 1;
	attempt a = { .retry_after_ms = 0 };
	bg_error err;
	bg_status rc;
	outcome o;

	bg_escape_printable(n->target, target, sizeof(target));
	o = n->format == AD_NOTIFY_SLACK_BOT ? deliver_bot(w, n, target, &a) :
	    deliver_webhook(w->nt, n, &a);
	if (o == SENT) {
		rc = ad_store_notify_done(w->store, n->id, &err);
	} else if (o == WAITING) {
		/* Not an attempt: the post's own retries bound the wait. */
		rc = ad_store_notify_retry(w->store, n->id, n->attempts,
		    ad_now_ms() + WAIT_POST_MS, &err);
	} else if (o == REFUSED || attempts >= MAX_ATTEMPTS) {
		ad_log(LOG_ERR, "notify %s: %s %s: giving up after %u attempts: %s",
		    target, n->msg_id, n->url, attempts, a.why);
		/* A post's update, queued or to come, is then a message of its own. */
		if ((rc = give_up(w, n, a.post_of, &err)) != BG_OK) {
			/* Kept, and soon due again: not held for a claim's lease. */
			ad_log(LOG_ERR, "notify %s: %s: giving up not recorded: %s", target,
			    n->msg_id, err.msg);
			rc = ad_store_notify_retry(w->store, n->id, attempts,
			    ad_now_ms() + BACKOFF_FIRST_MS, &err);
		}
	} else {
		ad_log(LOG_WARNING, "notify %s: %s attempt %u failed: %s", target,
		    n->msg_id, attempts, a.why);
		rc = ad_store_notify_retry(w->store, n->id, attempts, ad_now_ms() +
		    (a.retry_after_ms > 0 ? a.retry_after_ms : backoff_ms(attempts)), &err);
	}
	if (rc != BG_OK)
		ad_log(LOG_ERR, "notify %s: %s", target, err.msg);
	free(a.post_of);
	return rc;
}

/* Sleeps until a kick after generation gen, the stop, or delay_ms passed. */
static void
nap(ad_notifier *nt, unsigned long gen, int64_t delay_ms)
{
	struct timespec until;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += (time_t)(delay_ms / AD_MS_PER_SECOND);
	until.tv_nsec += (long)(delay_ms % AD_MS_PER_SECOND * NS_PER_MS);
	if (until.tv_nsec >= NS_PER_S) {
		until.tv_sec++;
		until.tv_nsec -= NS_PER_S;
	}
	pthread_mutex_lock(&nt->lock);
	while (nt->gen == gen && !nt->stop &&
	    pthread_cond_timedwait(&nt->cond, &nt->lock, &until) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&nt->lock);
}

/* Whether to stop; *gen: the kicks so far, read before looking at the queue. */
static bool
stopping(ad_notifier *nt, unsigned long *gen)
{
	bool stop;

	pthread_mutex_lock(&nt->lock);
	stop = nt->stop;
	*gen = nt->gen;
	pthread_mutex_unlock(&nt->lock);
	return stop;
}

static void *
run(void *arg)
{
	struct worker *w = arg;
	ad_notifier *nt = w->nt;
	char target[ESCAPED_MAX];
	unsigned long gen;

	bg_escape_printable(w->target, target, sizeof(target));
	while (!stopping(nt, &gen)) {
		int64_t now = ad_now_ms(), next = 0;
		ad_notification n;
		bg_error err;
		bg_status rc;

		/* Opened here: the caller may hold a write transaction on its own handle. */
		if (w->store == NULL &&
		    ad_store_open(&nt->db, &w->store, &err) != BG_OK) {
			ad_log(LOG_ERR, "notify %s: %s", target, err.msg);
			nap(nt, gen, BACKOFF_FIRST_MS);
			continue;
		}
		rc = ad_store_notify_due(w->store, w->target, now, &n, &next, &err);
		if (rc == BG_OK) {
			rc = process(w, &n);
			ad_notification_clear(&n);
			/* Unrecorded, n may be due at once (SQLite claims none). */
			if (rc != BG_OK)
				nap(nt, gen, BACKOFF_FIRST_MS);
		} else if (rc == BG_ERR_NOTFOUND) {
			nap(nt, gen, next != 0 && next - now < IDLE_WAIT_MS ?
			    (next > now ? next - now : 0) : IDLE_WAIT_MS);
		} else {
			ad_log(LOG_ERR, "notify %s: %s", target, err.msg);
			nap(nt, gen, BACKOFF_FIRST_MS);
		}
	}
	return NULL;
}

/* Starts target's thread unless it runs already. */
static bg_status
notifier_ensure(void *arg, const char *target, bg_error *err)
{
	ad_notifier *nt = arg;
	struct worker *w;
	bg_status rc = BG_OK;

	pthread_mutex_lock(&nt->lock);
	for (w = nt->workers; w != NULL; w = w->next)
		if (strcmp(w->target, target) == 0)
			break;
	if (w == NULL && !nt->stop) {
		if ((w = calloc(1, sizeof(*w))) == NULL ||
		    (w->target = strdup(target)) == NULL) {
			rc = bg_error_set(err, BG_ERR_NOMEM, "out of memory");
		} else {
			w->nt = nt;
			if ((errno = pthread_create(&w->thread, NULL, run, w)) != 0)
				rc = bg_error_errno(err, BG_ERR_IO, errno,
				    "notifier thread");
		}
		if (rc == BG_OK) {
			w->next = nt->workers;
			nt->workers = w;
		} else if (w != NULL) {
			free(w->target);
			free(w);
		}
	}
	pthread_mutex_unlock(&nt->lock);
	return rc;
}

bg_status
ad_notifier_start(const ad_config_server *cfg, ad_notifier **out, bg_error *err)
{
	ad_notifier *nt = calloc(1, sizeof(*nt));
	pthread_condattr_t attr;
	ad_store *st = NULL;
	bg_status rc;

	if (nt == NULL || ad_store_config_copy(cfg, &nt->db, err) != BG_OK) {
		free(nt);
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	}
	pthread_mutex_init(&nt->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&nt->cond, &attr);
	pthread_condattr_destroy(&attr);
	/* What a previous run left queued, to targets the configuration may have dropped. */
	rc = ad_store_open(&nt->db, &st, err);
	if (rc == BG_OK)
		rc = ad_store_notify_targets(st, notifier_ensure, nt, err);
	ad_store_close(st);
	if (rc != BG_OK) {
		ad_notifier_stop(nt);
		return rc;
	}
	*out = nt;
	return BG_OK;
}

void
ad_notifier_kick(ad_notifier *nt)
{
	if (nt == NULL)
		return;
	pthread_mutex_lock(&nt->lock);
	nt->gen++;
	pthread_cond_broadcast(&nt->cond);
	pthread_mutex_unlock(&nt->lock);
}

void
ad_notifier_stop(ad_notifier *nt)
{
	struct worker *w;

	if (nt == NULL)
		return;
	pthread_mutex_lock(&nt->lock);
	nt->stop = true;
	pthread_cond_broadcast(&nt->cond);
	pthread_mutex_unlock(&nt->lock);
	/* No thread is added once stop is set. */
	while ((w = nt->workers) != NULL) {
		nt->workers = w->next;
		pthread_join(w->thread, NULL);
		ad_store_close(w->store);
		free(w->target);
		free(w);
	}
	pthread_cond_destroy(&nt->cond);
	pthread_mutex_destroy(&nt->lock);
	ad_store_config_free(&nt->db);
	free(nt);
}
