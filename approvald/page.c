/*
 * GET /: the approvers' page.  Server-rendered HTML with no external asset:
 * the pending requests, each with an approve/deny form, then the latest
 * offline recoveries the hosts reported (protocol R1), for review.  Every
 * value from a request or a report is shown as text (C1 and bidi controls as
 * a visible \uXXXX, invalid UTF-8 as U+FFFD) and HTML-escaped; the only
 * script is the inline one below, allowed
 * by its hash in the Content-Security-Policy, which posts the form to the
 * approver API as JSON with the token as a bearer credential.
 *
 * The page never fails for what a host sent: each value is cut at
 * FIELD_SHOWN bytes with an ellipsis, lists at LIST_SHOWN items, and the
 * pending requests are shown PER_PAGE at a time (?page=N), so its size has
 * a bound under PAGE_MAX whatever is pending.
 */
#include "build_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <microhttpd.h>

#include "approvald.h"
#include "escape.h"

/*
 * A value shows at most FIELD_SHOWN bytes, each at most 6 bytes once
 * escaped (&quot;); a request has about 30 values with its signals, a
 * recovery as many with its approvers: 50 of each stay under 5 MiB.
 */
#define PAGE_MAX (8 * 1024 * 1024)
#define FIELD_SHOWN 256
#define LIST_SHOWN 10
#define PER_PAGE 50
#define PAGE_NUMBER_MAX 100000
#define ELLIPSIS "\xe2\x80\xa6"
#define SECONDS_PER_MINUTE 60

static const char page_style[] =
	"body{font-family:sans-serif;margin:2em;max-width:60em}"
	"section{border:1px solid #999;padding:1em;margin:1em 0}"
	"dt{font-weight:bold}dd{margin:0 0 .5em 1em;white-space:pre-wrap}"
	"label{display:block;margin:.3em 0}";

static const char page_script[] =
	"document.querySelectorAll('form.vote').forEach(function(f){"
	"f.addEventListener('submit',function(e){"
	"e.preventDefault();"
	"var action=e.submitter&&e.submitter.value==='deny'?'deny':'approve';"
	"var out=f.querySelector('.result');"
	"out.textContent='sending...';"
	"fetch('/v1/requests/'+encodeURIComponent(f.dataset.id)+'/'+action,{"
	"method:'POST',headers:{'Content-Type':'application/json',"
	"'Authorization':'Bearer '+f.elements.token.value},"
	"body:JSON.stringify({approver:f.elements.approver.value,"
	"totp:f.elements.totp.value,comment:f.elements.comment.value})})"
	".then(function(r){return r.json().then(function(b){"
	"out.textContent=r.ok?('recorded: '+b.status):('refused: '+r.status+' '+b.error);"
	"if(r.ok&&b.status!=='pending'){f.closest('section').dataset.status=b.status;}"
	"});}).catch(function(){out.textContent='network error';});"
	"});});";

static void
html(bg_buf *b, const char *text)
{
	bg_escape_markup_cut(b, text, true, FIELD_SHOWN);
}

/* "... and N more" after the LIST_SHOWN items of a list of n. */
static void
list_rest(bg_buf *b, size_t n)
{
	if (n > LIST_SHOWN)
		bg_buf_printf(b, "\n" ELLIPSIS " and %zu more", n - LIST_SHOWN);
}

static void
field(bg_buf *b, const char *label, const char *value)
{
	bg_buf_printf(b, "<dt>%s</dt><dd>", label);
	html(b, value != NULL ? value : "-");
	bg_buf_puts(b, "</dd>");
}

static const char *
member(json_object *doc, const char *name)
{
	json_object *v = NULL;

	json_object_object_get_ex(doc, name, &v);
	return v != NULL && json_object_is_type(v, json_type_string) ?
	    json_object_get_string(v) : NULL;
}

static void
signals_field(bg_buf *b, json_object *doc)
{
	json_object *list = NULL;
	size_t n;

	json_object_object_get_ex(doc, "signals", &list);
	n = list != NULL ? json_object_array_length(list) : 0;
	bg_buf_puts(b, "<dt>signals</dt><dd>");
	if (n == 0)
		bg_buf_puts(b, "none");
	for (size_t i = 0; i < n && i < LIST_SHOWN; i++) {
		json_object *s = json_object_array_get_idx(list, i);

		if (i > 0)
			bg_buf_puts(b, "\n");
		html(b, member(s, "source"));
		bg_buf_puts(b, ": ");
		html(b, member(s, "summary") != NULL ? member(s, "summary") :
		    member(s, "id"));
	}
	list_rest(b, n);
	bg_buf_puts(b, "</dd>");
}

static void
vote_form(bg_buf *b, const ad_request *r)
{
	bg_buf_puts(b, "<form class=\"vote\" method=\"post\" data-id=\"");
	html(b, r->id);
	bg_buf_puts(b, "\" action=\"/v1/requests/");
	html(b, r->id);
	bg_buf_puts(b, "/approve\">"
	    "<label>Approver <input name=\"approver\" required autocomplete=\"username\"></label>"
	    "<label>Token <input name=\"token\" type=\"password\" required "
	    "autocomplete=\"current-password\"></label>"
	    "<label>TOTP code <input name=\"totp\" required inputmode=\"numeric\" "
	    "autocomplete=\"one-time-code\"></label>"
	    "<label>Comment <input name=\"comment\"></label>"
	    "<button type=\"submit\" name=\"action\" value=\"approve\">Approve</button> "
	    "<button type=\"submit\" name=\"action\" value=\"deny\">Deny</button>"
	    "<p class=\"result\" role=\"status\"></p></form>");
}

static void
request_section(bg_buf *b, const ad_request *r, int64_t now_ms)
{
	json_object *doc = json_tokener_parse(r->body);
	char age[64];

	snprintf(age, sizeof(age), "%lld min, expires in %lld min",
	    (long long)((now_ms - r->received_ms) / AD_MS_PER_SECOND / SECONDS_PER_MINUTE),
	    (long long)((r->expires_ms - now_ms) / AD_MS_PER_SECOND / SECONDS_PER_MINUTE));
	bg_buf_puts(b, "<section class=\"request\" data-status=\"pending\" id=\"r-");
	html(b, r->id);
	bg_buf_puts(b, "\"><h2>");
	html(b, member(doc, "incident"));
	bg_buf_puts(b, "</h2><dl>");
	field(b, "request", r->id);
	field(b, "host", r->host);
	field(b, "account", member(doc, "account"));
	field(b, "operator", r->operator_name);
	field(b, "incident", member(doc, "incident"));
	field(b, "reason", member(doc, "reason"));
	field(b, "scope", member(doc, "scope"));
	signals_field(b, doc);
	field(b, "age", age);
	bg_buf_puts(b, "</dl>");
	vote_form(b, r);
	bg_buf_puts(b, "</section>");
	json_object_put(doc);
}

/* One reported recovery: its details and each approver with their code's time. */
static void
recovery_section(bg_buf *b, const ad_request *r)
{
	json_object *doc = json_tokener_parse(r->body), *list = NULL;
	char at[AD_TIME_LEN];
	size_t n;

	ad_time_format(r->received_ms, at);
	bg_buf_puts(b, "<section class=\"recovery\" id=\"");
	html(b, r->id);
	bg_buf_puts(b, "\"><h3>");
	html(b, member(doc, "incident"));
	bg_buf_puts(b, "</h3><dl>");
	field(b, "recovery", r->id);
	field(b, "host", r->host);
	field(b, "account", member(doc, "account"));
	field(b, "operator", r->operator_name);
	field(b, "scope", member(doc, "scope"));
	field(b, "signals", member(doc, "signals_state"));
	field(b, "issued", member(doc, "issued_at"));
	field(b, "expires", member(doc, "expires_at"));
	bg_buf_puts(b, "<dt>approvers (code accepted at)</dt><dd>");
	json_object_object_get_ex(doc, "approvers", &list);
	n = list != NULL && json_object_is_type(list, json_type_array) ?
	    json_object_array_length(list) : 0;
	for (size_t i = 0; i < n && i < LIST_SHOWN; i++) {
		json_object *a = json_object_array_get_idx(list, i);

		if (i > 0)
			bg_buf_puts(b, "\n");
		html(b, member(a, "approver"));
		bg_buf_puts(b, " ");
		html(b, member(a, "at"));
	}
	list_rest(b, n);
	bg_buf_puts(b, "</dd>");
	field(b, "reported", at);
	bg_buf_puts(b, "</dl></section>");
	json_object_put(doc);
}

static void
recoveries(bg_buf *b, const ad_request *list, size_t n)
{
	bg_buf_puts(b, "<h2>Offline recoveries reported</h2>");
	if (n == 0)
		bg_buf_puts(b, "<p id=\"no-recovery\">No recovery reported.</p>");
	for (size_t i = 0; i < n; i++)
		recovery_section(b, &list[i]);
}

/* 'sha256-<base64>' of text, for the Content-Security-Policy. */
static bool
csp_hash(const char *text, char **out)
{
	unsigned char digest[BG_SHA256_LEN];

	return bg_sha256(text, strlen(text), digest, NULL) == BG_OK &&
	    bg_base64_encode(digest, sizeof(digest), out, NULL) == BG_OK;
}

bool
ad_page_set_csp(ad_response *res, const char *script_text, const char *style_text)
{
	char *script = NULL, *style = NULL;
	bool ok = csp_hash(script_text, &script) && csp_hash(style_text, &style) &&
	    asprintf(&res->csp, "default-src 'none'; script-src 'sha256-%s'; "
	    "style-src 'sha256-%s'; connect-src 'self'; form-action 'self'; "
	    "base-uri 'none'; frame-ancestors 'none'", script, style) > 0;

	free(script);
	free(style);
	return ok;
}

/* ?page=N, 1 to PAGE_NUMBER_MAX; absent: 1. */
static bool
page_number(const ad_http_req *r, size_t *out)
{
	const char *s = ad_http_query(r, "page");
	size_t n = s != NULL ? strlen(s) : 0;

	*out = 1;
	if (s == NULL)
		return true;
	if (n == 0 || n > 6 || strspn(s, "0123456789") != n || s[0] == '0')
		return false;
	*out = (size_t)strtoul(s, NULL, 10);
	return *out <= PAGE_NUMBER_MAX;
}

/* Page `page` of the unexpired pending requests, and the links to its neighbours. */
static void
pending_page(bg_buf *b, const ad_request *pending, size_t n, size_t page, int64_t now_ms)
{
	size_t live = 0, first = (page - 1) * PER_PAGE, shown = 0;

	for (size_t i = 0; i < n; i++) {
		if (pending[i].expires_ms <= now_ms)
			continue;
		if (live >= first && live < first + PER_PAGE) {
			request_section(b, &pending[i], now_ms);
			shown++;
		}
		live++;
	}
	if (live == 0)
		bg_buf_puts(b, "<p id=\"none\">No pending request.</p>");
	else if (shown == 0)
		bg_buf_puts(b, "<p id=\"none\">No pending request on this page.</p>");
	if (live <= PER_PAGE)
		return;
	if (shown > 0)
		bg_buf_printf(b, "<nav><p>Requests %zu to %zu of %zu.", first + 1,
		    first + shown, live);
	else
		bg_buf_printf(b, "<nav><p>%zu pending requests.", live);
	if (page > 1)
		bg_buf_printf(b, " <a href=\"/?page=%zu\">Previous page</a>",
		    shown > 0 ? page - 1 : 1);
	if (first + PER_PAGE < live)
		bg_buf_printf(b, " <a href=\"/?page=%zu\">Next page</a>", page + 1);
	bg_buf_puts(b, "</p></nav>");
}

void
ad_page(ad_http_req *r, ad_response *res)
{
	ad_request *pending, *reported;
	size_t n, nreported, page;
	bg_error err;

	if (!page_number(r, &page)) {
		ad_response_error(res, MHD_HTTP_BAD_REQUEST, "page: a number from 1");
		return;
	}
	if (ad_store_pending(r->app->store, &pending, &n, &err) != BG_OK) {
		ad_log(LOG_ERR, "page: %s", err.msg);
		ad_response_error(res, MHD_HTTP_INTERNAL_SERVER_ERROR, "database error");
		return;
	}
	if (ad_store_recoveries(r->app->store, &reported, &nreported, &err) != BG_OK) {
		ad_requests_free(pending, n);
		ad_log(LOG_ERR, "page: %s", err.msg);
		ad_response_error(res, MHD_HTTP_INTERNAL_SERVER_ERROR, "database error");
		return;
	}
	bg_buf_free(&res->body);
	bg_buf_init(&res->body, PAGE_MAX);
	bg_buf_printf(&res->body, "<!DOCTYPE html><html lang=\"en\"><head>"
	    "<meta charset=\"utf-8\"><title>breakglass approvals</title>"
	    "<style>%s</style></head><body><h1>Pending break-glass requests</h1>",
	    page_style);
	pending_page(&res->body, pending, n, page, r->now_ms);
	recoveries(&res->body, reported, nreported);
	ad_requests_free(reported, nreported);
	bg_buf_printf(&res->body, "<script>%s</script></body></html>\n", page_script);
	ad_requests_free(pending, n);
	if (res->body.overflow || !ad_page_set_csp(res, page_script, page_style)) {
		ad_response_error(res, MHD_HTTP_INTERNAL_SERVER_ERROR, "page too large");
		return;
	}
	res->status = MHD_HTTP_OK;
	res->content_type = "text/html; charset=utf-8";
	res->html = true;
}
