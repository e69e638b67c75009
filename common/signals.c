/* Monitoring signals: concurrent queries (curl multi) under one deadline. */
#include "build_config.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json_pointer.h>

#include "buf.h"
#include "escape.h"
#include "fileio.h"
#include "http.h"
#include "signals.h"

#define URL_MAX (16 * 1024)
#define TOKEN_MAX 4096
#define HEADER_MAX (TOKEN_MAX + 64)
/* Remote text kept in the request and the journal. */
#define TEXT_MAX 256
#define HTTP_OK 200

typedef struct {
	const bg_config_signal *cfg;
	bg_http http;
	bool ready;                 /* handle set up and added to the multi handle */
	bool finished;
	CURLcode result;
	bg_matcher *matchers;
	size_t nmatchers;
	size_t recorded;            /* alerts recorded for this source */
	bool firing;
} source;

/* ---- results ------------------------------------------------------------ */

static void
add_text(json_object *o, const char *key, const char *text)
{
	bool truncated;
	char *clean;

	if (text == NULL) {
		json_object_object_add(o, key, NULL);
		return;
	}
	/* Remote text: valid UTF-8, bounded, before it reaches any log. */
	clean = bg_utf8_sanitize(text, TEXT_MAX, &truncated);
	json_object_object_add(o, key, clean != NULL ? json_object_new_string(clean) : NULL);
	free(clean);
}

static void
record_alert(bg_signals_result *res, source *s, const char *id, const char *summary,
    const char *since)
{
	json_object *o;

	s->firing = true;
	if (s->recorded >= BG_SIGNALS_MAX_ALERTS || (o = json_object_new_object()) == NULL)
		return;
	add_text(o, "source", s->cfg->meta.name);
	add_text(o, "id", id);
	add_text(o, "summary", summary);
	add_text(o, "since", since);
	json_object_array_add(res->firing, o);
	s->recorded++;
}

static void
record_error(bg_signals_result *res, const source *s, const char *what)
{
	json_object *o = json_object_new_object();

	if (o == NULL)
		return;
	add_text(o, "source", s->cfg->meta.name);
	add_text(o, "error", what);
	json_object_array_add(res->errors, o);
}

/* ---- evaluation --------------------------------------------------------- */

static const char *
str_at(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static bool
labels_match(const source *s, json_object *alert)
{
	json_object *labels;
	size_t i;

	if (!json_object_object_get_ex(alert, "labels", &labels) ||
	    !json_object_is_type(labels, json_type_object))
		return false;
	for (i = 0; i < s->nmatchers; i++)
		if (!bg_matcher_matches(&s->matchers[i], str_at(labels, s->matchers[i].label)))
			return false;
	return true;
}

static const char *
label(json_object *alert, const char *key)
{
	json_object *labels;

	if (!json_object_object_get_ex(alert, "labels", &labels))
		return NULL;
	return str_at(labels, key);
}

static const char *
summary_of(json_object *alert)
{
	json_object *ann;
	const char *s = NULL;

	if (json_object_object_get_ex(alert, "annotations", &ann))
		s = str_at(ann, "summary");
	return s != NULL ? s : label(alert, "alertname");
}

/*
 * Alertmanager /api/v2/alerts: an array of alerts.  The filters went to the
 * server; they are applied here again so a server that ignores them cannot
 * make an unrelated alert count.
 */
static bg_status
eval_alertmanager(bg_signals_result *res, source *s, json_object *body, bg_error *err)
{
	size_t i, n;

	if (!json_object_is_type(body, json_type_array))
		return bg_error_set(err, BG_ERR_INVALID, "malformed: not an array of alerts");
	n = json_object_array_length(body);
	for (i = 0; i < n; i++) {
		json_object *a = json_object_array_get_idx(body, i), *status;
		const char *state;

		if (!json_object_object_get_ex(a, "status", &status))
			continue;
		state = str_at(status, "state");
		if (state != NULL && strcmp(state, "active") == 0 && labels_match(s, a))
			record_alert(res, s, str_at(a, "fingerprint"), summary_of(a),
			    str_at(a, "startsAt"));
	}
	return BG_OK;
}

/* Prometheus /api/v1/alerts: {"status": "success", "data": {"alerts": [...]}}. */
static bg_status
eval_prometheus(bg_signals_result *res, source *s, json_object *body, bg_error *err)
{
	json_object *data, *alerts;
	size_t i, n;

	if (!json_object_object_get_ex(body, "data", &data) ||
	    !json_object_object_get_ex(data, "alerts", &alerts) ||
	    !json_object_is_type(alerts, json_type_array))
		return bg_error_set(err, BG_ERR_INVALID, "malformed: no data.alerts array");
	n = json_object_array_length(alerts);
	for (i = 0; i < n; i++) {
		json_object *a = json_object_array_get_idx(alerts, i);
		const char *state = str_at(a, "state");

		if (state != NULL && strcmp(state, "firing") == 0 && labels_match(s, a))
			record_alert(res, s, label(a, "alertname"), summary_of(a),
			    str_at(a, "activeAt"));
	}
	return BG_OK;
}

/* `equals` is compared as JSON when it parses as JSON, else as a string. */
static bool
value_equals(json_object *v, const char *equals)
{
	json_tokener *tok = json_tokener_new();
	json_object *want;
	bool parsed, eq;

	if (tok == NULL)
		return false;
	/* The NUL ends the input: a bare number or literal is complete. */
	want = json_tokener_parse_ex(tok, equals, (int)strlen(equals) + 1);
	parsed = json_tokener_get_error(tok) == json_tokener_success &&
	    json_tokener_get_parse_end(tok) == strlen(equals);
	json_tokener_free(tok);
	if (parsed)
		eq = json_object_equal(v, want) != 0;
	else
		eq = json_object_is_type(v, json_type_string) &&
		    strcmp(json_object_get_string(v), equals) == 0;
	json_object_put(want);
	return eq;
}

static bg_status
eval_http(bg_signals_result *res, source *s, json_object *body, bg_error *err)
{
	json_object *v = NULL;

	if (json_pointer_get(body, s->cfg->pointer, &v) != 0)
		return BG_OK;
	if (value_equals(v, s->cfg->equals))
		record_alert(res, s, s->cfg->pointer, s->cfg->equals, NULL);
	return BG_OK;
}

static void
evaluate(bg_signals_result *res, source *s)
{
	json_object *body = NULL;
	bg_error err;
	bg_status rc;
	long status;

	if (s->result != CURLE_OK) {
		record_error(res, s, bg_http_failure(&s->http, s->result));
		return;
	}
	status = bg_http_status(&s->http);
	if (status != HTTP_OK) {
		bg_error_set(&err, BG_ERR_INVALID, "http-status %ld", status);
		record_error(res, s, err.msg);
		return;
	}
	if (bg_http_json_body(&s->http, &body, &err) != BG_OK) {
		record_error(res, s, "malformed");
		return;
	}
	switch (s->cfg->type) {
	case BG_SIGNAL_ALERTMANAGER:
		rc = eval_alertmanager(res, s, body, &err);
		break;
	case BG_SIGNAL_PROMETHEUS:
		rc = eval_prometheus(res, s, body, &err);
		break;
	default:
		rc = eval_http(res, s, body, &err);
		break;
	}
	json_object_put(body);
	if (rc != BG_OK)
		record_error(res, s, "malformed");
}

/* ---- requests ----------------------------------------------------------- */

static bg_status
build_url(const source *s, bg_buf *url, bg_error *err)
{
	const char *base = s->cfg->url;
	size_t blen = strlen(base), i;

	/* http: the URL as configured, query and all. */
	if (s->cfg->type == BG_SIGNAL_HTTP) {
		bg_buf_puts(url, base);
		return url->overflow ? bg_error_set(err, BG_ERR_TOOBIG, "URL too long") : BG_OK;
	}
	while (blen > 0 && base[blen - 1] == '/')
		blen--;
	bg_buf_append(url, base, blen);
	switch (s->cfg->type) {
	case BG_SIGNAL_ALERTMANAGER:
		bg_buf_puts(url, "/api/v2/alerts?active=true&silenced=false&inhibited=false");
		for (i = 0; i < s->cfg->match.count; i++) {
			char *q = curl_easy_escape(NULL, s->cfg->match.items[i], 0);

			if (q == NULL)
				return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
			bg_buf_printf(url, "&filter=%s", q);
			curl_free(q);
		}
		break;
	default:
		bg_buf_puts(url, "/api/v1/alerts");
		break;
	}
	if (url->overflow)
		return bg_error_set(err, BG_ERR_TOOBIG, "URL too long");
	return BG_OK;
}

static bg_status
add_bearer(source *s, bg_error *err)
{
	char *token, header[HEADER_MAX];
	size_t len;
	bg_status rc;

	rc = bg_file_read(s->cfg->bearer_token_file, BG_FILE_SECRET, TOKEN_MAX, &token,
	    &len, err);
	if (rc != BG_OK)
		return rc;
	while (len > 0 && (token[len - 1] == '\n' || token[len - 1] == '\r'))
		token[--len] = '\0';
	/* One header line: a control character could smuggle another. */
	if (len == 0 || strcspn(token, "\r\n\t ") != len)
		rc = bg_error_set(err, BG_ERR_INVALID, "%s: not a single-line token",
		    s->cfg->bearer_token_file);
	else if ((size_t)snprintf(header, sizeof(header), "Authorization: Bearer %s",
	    token) >= sizeof(header))
		rc = bg_error_set(err, BG_ERR_TOOBIG, "token too long");
	else
		rc = bg_http_add_header(&s->http, header, err);
	explicit_bzero(header, sizeof(header));
	bg_file_free_secret(token, TOKEN_MAX + 1);
	return rc;
}

static bg_status
source_prepare(source *s, unsigned long long deadline, bg_error *err)
{
	bg_http_opts opts = { .deadline_ms = deadline, .max_body = BG_SIGNALS_MAX_BODY };
	bg_buf url;
	bg_status rc;
	size_t i;

	s->matchers = calloc(s->cfg->match.count + 1, sizeof(*s->matchers));
	if (s->matchers == NULL)
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	for (i = 0; i < s->cfg->match.count; i++, s->nmatchers++)
		if ((rc = bg_matcher_parse(s->cfg->match.items[i], &s->matchers[i], err)) != BG_OK)
			return rc;
	bg_buf_init(&url, URL_MAX);
	rc = build_url(s, &url, err);
	if (rc == BG_OK)
		rc = bg_http_init(&s->http, url.data, &opts, err);
	bg_buf_free(&url);
	if (rc == BG_OK)
		rc = bg_http_add_header(&s->http, "Accept: application/json", err);
	if (rc == BG_OK && s->cfg->bearer_token_file != NULL)
		rc = add_bearer(s, err);
	return rc;
}

static void
source_free(source *s)
{
	size_t i;

	for (i = 0; i < s->nmatchers; i++)
		bg_matcher_free(&s->matchers[i]);
	free(s->matchers);
	bg_http_free(&s->http);
}

/* Runs every ready transfer until all finish or the deadline passes. */
static void
run_all(CURLM *multi, source *srcs, size_t n, unsigned long long deadline)
{
	int running = 0, queued;
	CURLMsg *msg;
	size_t i;

	curl_multi_perform(multi, &running);
	while (running > 0) {
		unsigned long long now = bg_monotonic_ms();

		if (now >= deadline)
			break;
		if (curl_multi_poll(multi, NULL, 0, (int)(deadline - now), NULL) != CURLM_OK ||
		    curl_multi_perform(multi, &running) != CURLM_OK)
			break;
	}
	while ((msg = curl_multi_info_read(multi, &queued)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		for (i = 0; i < n; i++)
			if (srcs[i].ready && srcs[i].http.easy == msg->easy_handle) {
				srcs[i].finished = true;
				srcs[i].result = msg->data.result;
			}
	}
	/* Whatever is still running when the deadline hits timed out. */
	for (i = 0; i < n; i++)
		if (srcs[i].ready && !srcs[i].finished) {
			srcs[i].finished = true;
			srcs[i].result = CURLE_OPERATION_TIMEDOUT;
		}
}

static bg_status
query(const bg_config *cfg, unsigned long timeout_ms, bg_signals_result *res,
    bg_error *err)
{
	unsigned long long deadline = bg_monotonic_ms() + timeout_ms;
	source *srcs = calloc(cfg->nsignal + 1, sizeof(*srcs));
	CURLM *multi = curl_multi_init();
	bg_error why;
	size_t i;

	if (srcs == NULL || multi == NULL) {
		free(srcs);
		if (multi != NULL)
			curl_multi_cleanup(multi);
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	}
	for (i = 0; i < cfg->nsignal; i++) {
		srcs[i].cfg = &cfg->signal[i];
		if (source_prepare(&srcs[i], deadline, &why) != BG_OK)
			record_error(res, &srcs[i], why.msg);
		else if (curl_multi_add_handle(multi, srcs[i].http.easy) != CURLM_OK)
			record_error(res, &srcs[i], "curl_multi_add_handle failed");
		else
			srcs[i].ready = true;
	}
	run_all(multi, srcs, cfg->nsignal, deadline);
	for (i = 0; i < cfg->nsignal; i++) {
		if (srcs[i].ready) {
			evaluate(res, &srcs[i]);
			curl_multi_remove_handle(multi, srcs[i].http.easy);
		}
		if (srcs[i].firing)
			res->firing_sources++;
		source_free(&srcs[i]);
	}
	curl_multi_cleanup(multi);
	free(srcs);
	return BG_OK;
}

bg_status
bg_signals_check(const bg_config *cfg, unsigned long timeout_ms, bg_signals_result *res,
    bg_error *err)
{
	bg_status rc;

	memset(res, 0, sizeof(*res));
	res->firing = json_object_new_array();
	res->errors = json_object_new_array();
	if (res->firing == NULL || res->errors == NULL) {
		bg_signals_result_free(res);
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	}
	/* Recovery journals the sources' state and may require its own count. */
	if (cfg->signals.required == 0 && !cfg->recovery.enabled)
		return BG_OK;
	res->sources = cfg->nsignal;
	if ((rc = query(cfg, timeout_ms, res, err)) != BG_OK)
		return rc;
	if (res->firing_sources < cfg->signals.required)
		return bg_error_set(err, BG_ERR_DENIED,
		    "no qualifying emergency: %zu of %zu sources firing, %lu required",
		    res->firing_sources, res->sources, cfg->signals.required);
	return BG_OK;
}

void
bg_signals_result_free(bg_signals_result *res)
{
	json_object_put(res->firing);
	json_object_put(res->errors);
	memset(res, 0, sizeof(*res));
}
