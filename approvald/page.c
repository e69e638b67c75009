/*
 * GET /: the approvers' page.  Server-rendered HTML with no external asset.
 * Without a session: the sign-in form (approver, token, and a TOTP code or
 * a passkey), nothing else.  Signed in (session.c): the pending requests
 * grouped by incident, each incident with one "Approve all / Deny all"
 * form (one confirmation for the batch, POST /v1/batch) and each request
 * with its own, then the latest offline recoveries the hosts reported
 * (protocol R1), for review.  ?request=ID shows that request alone,
 * highlighted; ?approver=NAME fills in the sign-in form's name (the links
 * chat notifications carry).
 *
 * Every value from a request or a report is shown as text (C1 and bidi
 * controls as a visible \uXXXX, invalid UTF-8 as U+FFFD) and HTML-escaped;
 * the only script is the inline one below, allowed by its hash in the
 * Content-Security-Policy.  It reads the session's CSRF token from a
 * <meta> of the page (the cookie is HttpOnly) and sends it, with a fresh
 * confirmation, on every vote.
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
#include "names.h"

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
	"article{border-top:1px solid #ccc;padding:.5em 0}"
	"article.highlight{background:#ffd}"
	"dt{font-weight:bold}dd{margin:0 0 .5em 1em;white-space:pre-wrap}"
	"label{display:block;margin:.3em 0}"
	"#signed-out{background:#fdd;padding:.5em}";

/*
 * Sign-in (TOTP, or a passkey: the challenge with the bearer token, then
 * the assertion as confirm.webauthn); votes and batches from the session
 * with X-CSRF-Token and a confirmation bound to the action and the sorted
 * ids; sign-out.  A 401 "not signed in" shows the session ended.
 */
static const char page_script[] =
	"(function(){"
	"var meta=document.querySelector('meta[name=csrf-token]');"
	"var csrf=meta?meta.content:'';"
	"var who=document.body.dataset.approver||'';"
	"function b64u(b){var s='',a=new Uint8Array(b);"
	"for(var i=0;i<a.length;i++)s+=String.fromCharCode(a[i]);"
	"return btoa(s).replace(/\\+/g,'-').replace(/\\//g,'_').replace(/=+$/,'');}"
	"function unb64u(s){s=s.replace(/-/g,'+').replace(/_/g,'/');"
	"while(s.length%4)s+='=';var b=atob(s),a=new Uint8Array(b.length);"
	"for(var i=0;i<b.length;i++)a[i]=b.charCodeAt(i);return a.buffer;}"
	"function call(method,url,body,headers){"
	"var h={'Content-Type':'application/json'};"
	"for(var k in headers)h[k]=headers[k];"
	"return fetch(url,{method:method,headers:h,credentials:'same-origin',"
	"body:body?JSON.stringify(body):undefined}).then(function(r){"
	"return r.json().then(function(b){return{ok:r.ok,status:r.status,body:b};});});}"
	"function passkey(approver,binding,auth){"
	"return call('POST','/v1/webauthn/challenge',{approver:approver,binding:binding},auth)"
	".then(function(r){if(!r.ok)throw new Error(r.status+' '+r.body.error);"
	"var pk=r.body.publicKey;pk.challenge=unb64u(pk.challenge);"
	"(pk.allowCredentials||[]).forEach(function(c){c.id=unb64u(c.id);});"
	"return navigator.credentials.get({publicKey:pk});})"
	".then(function(c){return{webauthn:{id:c.id,"
	"clientDataJSON:b64u(c.response.clientDataJSON),"
	"authenticatorData:b64u(c.response.authenticatorData),"
	"signature:b64u(c.response.signature),"
	"userHandle:c.response.userHandle?b64u(c.response.userHandle):null}};});}"
	"function ended(r){if(r.status===401&&r.body.error==='not signed in'){"
	"document.body.dataset.session='ended';"
	"document.getElementById('signed-out').hidden=false;return true;}return false;}"
	"var si=document.getElementById('signin');"
	/*
	 * A link from another site (chat) arrives without the SameSite=Strict
	 * cookie: when a session is live, load the page again from here, once.
	 */
	"if(si&&!sessionStorage.getItem('bg-retried'))"
	"call('GET','/v1/session',null,{}).then(function(r){if(r.ok){"
	"sessionStorage.setItem('bg-retried','1');location.replace(location.href);}});"
	"if(!si)sessionStorage.removeItem('bg-retried');"
	"if(si)si.addEventListener('submit',function(e){e.preventDefault();"
	"var f=si.elements,out=si.querySelector('.result');out.textContent='signing in...';"
	"var c=e.submitter&&e.submitter.value==='passkey'?"
	"passkey(f.approver.value,'signin',{'Authorization':'Bearer '+f.token.value}):"
	"Promise.resolve({totp:f.totp.value});"
	"c.then(function(c){return call('POST','/v1/session',"
	"{approver:f.approver.value,token:f.token.value,confirm:c});})"
	".then(function(r){if(r.ok)location.reload();"
	"else out.textContent='refused: '+r.status+' '+r.body.error;})"
	".catch(function(err){out.textContent='error: '+err.message;});});"
	"var so=document.getElementById('signout');"
	"if(so)so.addEventListener('click',function(){"
	"call('DELETE','/v1/session',null,{'X-CSRF-Token':csrf})"
	".then(function(){location.reload();});});"
	"function show(id,text,status){var a=document.getElementById('r-'+id);if(!a)return;"
	"a.querySelector('.result').textContent=text;if(status&&status!=='pending')"
	"a.dataset.status=status;}"
	"document.querySelectorAll('form.vote,form.batch').forEach(function(f){"
	"f.addEventListener('submit',function(e){e.preventDefault();"
	"var action=e.submitter&&e.submitter.value==='deny'?'deny':'approve';"
	"var ids=f.dataset.ids.split(' '),batch=f.classList.contains('batch');"
	"var binding='vote:'+action+':'+ids.slice().sort().join(',');"
	"var out=f.querySelector('.result');out.textContent='sending...';"
	"var c=f.elements.passkey.checked?passkey(who,binding,{'X-CSRF-Token':csrf}):"
	"Promise.resolve({totp:f.elements.totp.value});"
	"c.then(function(c){var body={comment:f.elements.comment.value,confirm:c};"
	"if(!batch)return call('POST','/v1/requests/'+encodeURIComponent(ids[0])+'/'+action,"
	"body,{'X-CSRF-Token':csrf});"
	"body.action=action;body.requests=ids;"
	"return call('POST','/v1/batch',body,{'X-CSRF-Token':csrf});})"
	".then(function(r){if(ended(r)){out.textContent='signed out: sign in again';return;}"
	"if(!r.ok){out.textContent='refused: '+r.status+' '+r.body.error;return;}"
	"if(!batch){out.textContent='recorded: '+r.body.status;"
	"show(ids[0],out.textContent,r.body.status);return;}"
	"var n=0;r.body.results.forEach(function(x){if(x.code===200)n++;"
	"show(x.id,x.code===200?'recorded: '+x.status:'refused: '+x.code+' '+x.error,"
	"x.status);});"
	"out.textContent='recorded '+n+' of '+r.body.results.length;})"
	".catch(function(err){out.textContent='error: '+err.message;});});});"
	"})();";

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

/* The confirmation and the buttons of a vote or a batch on ids (space-separated). */
static void
confirm_form(bg_buf *b, const char *cls, const char *ids, const char *approve,
    const char *deny)
{
	bg_buf_printf(b, "<form class=\"%s\" data-ids=\"", cls);
	html(b, ids);
	bg_buf_printf(b, "\">"
	    "<label>TOTP code <input name=\"totp\" inputmode=\"numeric\" "
	    "autocomplete=\"one-time-code\"></label>"
	    "<label><input name=\"passkey\" type=\"checkbox\"> Confirm with my passkey "
	    "instead</label>"
	    "<label>Comment <input name=\"comment\"></label>"
	    "<button type=\"submit\" value=\"approve\">%s</button> "
	    "<button type=\"submit\" value=\"deny\">%s</button>"
	    "<p class=\"result\" role=\"status\"></p></form>", approve, deny);
}

static void
request_section(bg_buf *b, const ad_request *r, json_object *doc, bool highlight,
    int64_t now_ms)
{
	char age[64];

	snprintf(age, sizeof(age), "%lld min, expires in %lld min",
	    (long long)((now_ms - r->received_ms) / AD_MS_PER_SECOND / SECONDS_PER_MINUTE),
	    (long long)((r->expires_ms - now_ms) / AD_MS_PER_SECOND / SECONDS_PER_MINUTE));
	bg_buf_printf(b, "<article class=\"request%s\" data-status=\"pending\" id=\"r-",
	    highlight ? " highlight" : "");
	html(b, r->id);
	bg_buf_puts(b, "\"><h3>");
	html(b, r->host);
	bg_buf_puts(b, "</h3><dl>");
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
	confirm_form(b, "vote", r->id, "Approve", "Deny");
	bg_buf_puts(b, "</article>");
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

/* A request's incident as the page groups it ("-" when none). */
static const char *
incident_of(json_object *doc)
{
	return member(doc, "incident") != NULL ? member(doc, "incident") : "-";
}

/*
 * The requests shown (shown[0..n), with their parsed bodies), grouped by
 * incident in the order each incident first appears: one section per
 * incident with its "Approve all / Deny all" form, then its requests.
 */
static void
incident_sections(bg_buf *b, const ad_request *const *shown, json_object **docs, size_t n,
    const char *highlight, int64_t now_ms)
{
	bool done[PER_PAGE] = { false };

	for (size_t i = 0; i < n; i++) {
		const char *incident = incident_of(docs[i]);
		bg_buf ids;
		size_t count = 0;

		if (done[i])
			continue;
		bg_buf_init(&ids, 0);
		for (size_t j = i; j < n; j++)
			if (!done[j] && strcmp(incident_of(docs[j]), incident) == 0)
				bg_buf_printf(&ids, "%s%s", count++ > 0 ? " " : "", shown[j]->id);
		bg_buf_puts(b, "<section class=\"incident\" data-incident=\"");
		html(b, incident);
		bg_buf_puts(b, "\"><h2>Incident ");
		html(b, incident);
		bg_buf_printf(b, " (%zu pending)</h2>", count);
		confirm_form(b, "batch", ids.data != NULL ? ids.data : "", "Approve all",
		    "Deny all");
		bg_buf_free(&ids);
		for (size_t j = i; j < n; j++)
			if (!done[j] && strcmp(incident_of(docs[j]), incident) == 0) {
				request_section(b, shown[j], docs[j], highlight != NULL &&
				    strcmp(highlight, shown[j]->id) == 0, now_ms);
				done[j] = true;
			}
		bg_buf_puts(b, "</section>");
	}
}

/*
 * Page `page` of the unexpired pending requests (only request `only` when
 * not NULL), grouped by incident, and the links to its neighbours.
 */
static void
pending_page(bg_buf *b, const ad_request *pending, size_t n, size_t page, const char *only,
    int64_t now_ms)
{
	const ad_request *shown[PER_PAGE];
	json_object *docs[PER_PAGE];
	size_t live = 0, first = (page - 1) * PER_PAGE, nshown = 0;

	for (size_t i = 0; i < n; i++) {
		if (pending[i].expires_ms <= now_ms ||
		    (only != NULL && strcmp(only, pending[i].id) != 0))
			continue;
		if (live >= first && live < first + PER_PAGE) {
			shown[nshown] = &pending[i];
			docs[nshown++] = json_tokener_parse(pending[i].body);
		}
		live++;
	}
	if (only != NULL) {
		bg_buf_puts(b, "<p><a href=\"/\">All pending requests</a></p>");
		if (live == 0) {
			bg_buf_puts(b, "<p id=\"none\">Request ");
			html(b, only);
			bg_buf_puts(b, " is not pending.</p>");
		}
	} else if (live == 0) {
		bg_buf_puts(b, "<p id=\"none\">No pending request.</p>");
	} else if (nshown == 0) {
		bg_buf_puts(b, "<p id=\"none\">No pending request on this page.</p>");
	}
	incident_sections(b, shown, docs, nshown, only, now_ms);
	for (size_t i = 0; i < nshown; i++)
		json_object_put(docs[i]);
	if (live <= PER_PAGE)
		return;
	if (nshown > 0)
		bg_buf_printf(b, "<nav><p>Requests %zu to %zu of %zu.", first + 1,
		    first + nshown, live);
	else
		bg_buf_printf(b, "<nav><p>%zu pending requests.", live);
	if (page > 1)
		bg_buf_printf(b, " <a href=\"/?page=%zu\">Previous page</a>",
		    nshown > 0 ? page - 1 : 1);
	if (first + PER_PAGE < live)
		bg_buf_printf(b, " <a href=\"/?page=%zu\">Next page</a>", page + 1);
	bg_buf_puts(b, "</p></nav>");
}

/* No session: the sign-in form, the name filled in from ?approver=NAME. */
static void
signin_form(bg_buf *b, const char *approver, const char *only)
{
	bg_buf_puts(b, "<h1>Sign in to review break-glass requests</h1>");
	if (only != NULL) {
		bg_buf_puts(b, "<p id=\"review\">Sign in to review request ");
		html(b, only);
		bg_buf_puts(b, ".</p>");
	}
	bg_buf_puts(b, "<form id=\"signin\" method=\"post\" action=\"/v1/session\">"
	    "<label>Approver <input name=\"approver\" required autocomplete=\"username\" "
	    "value=\"");
	html(b, approver != NULL ? approver : "");
	bg_buf_puts(b, "\"></label>"
	    "<label>Token <input name=\"token\" type=\"password\" required "
	    "autocomplete=\"current-password\"></label>"
	    "<label>TOTP code <input name=\"totp\" inputmode=\"numeric\" "
	    "autocomplete=\"one-time-code\"></label>"
	    "<button type=\"submit\" value=\"totp\">Sign in</button> "
	    "<button type=\"submit\" value=\"passkey\">Sign in with a passkey</button>"
	    "<p class=\"result\" role=\"status\"></p></form>"
	    "<p><a href=\"/passkeys\">Register a passkey</a></p>");
}

/* Signed in: who, sign-out, the requests, the recoveries. */
static bool
signed_in_body(ad_http_req *r, bg_buf *b, size_t page, const char *only)
{
	ad_request *pending, *reported;
	size_t n, nreported;
	bg_error err;

	if (ad_store_pending(r->app->store, &pending, &n, &err) != BG_OK) {
		ad_log(LOG_ERR, "page: %s", err.msg);
		return false;
	}
	if (ad_store_recoveries(r->app->store, &reported, &nreported, &err) != BG_OK) {
		ad_requests_free(pending, n);
		ad_log(LOG_ERR, "page: %s", err.msg);
		return false;
	}
	bg_buf_puts(b, "<h1>Pending break-glass requests</h1>");
	pending_page(b, pending, n, page, only, r->now_ms);
	if (only == NULL)
		recoveries(b, reported, nreported);
	ad_requests_free(reported, nreported);
	ad_requests_free(pending, n);
	return true;
}

/* ?NAME=value when it is a request id or a name; NULL when absent or not one. */
static const char *
query_word(const ad_http_req *r, const char *name)
{
	const char *v = ad_http_query(r, name);

	return v != NULL && bg_name_valid(v) ? v : NULL;
}

void
ad_page(ad_http_req *r, ad_response *res)
{
	const char *only = query_word(r, "request");
	ad_session s;
	size_t page;
	bool found;
	bg_error err;
	bg_buf *b = &res->body;

	if (!page_number(r, &page)) {
		ad_response_error(res, MHD_HTTP_BAD_REQUEST, "page: a number from 1");
		return;
	}
	if (ad_session_current(r, &s, &found, &err) != BG_OK) {
		ad_log(LOG_ERR, "page: %s", err.msg);
		ad_response_error(res, MHD_HTTP_INTERNAL_SERVER_ERROR, "database error");
		return;
	}
	bg_buf_free(b);
	bg_buf_init(b, PAGE_MAX);
	bg_buf_puts(b, "<!DOCTYPE html><html lang=\"en\"><head>"
	    "<meta charset=\"utf-8\"><title>breakglass approvals</title>");
	/* The CSRF token reaches the script here: the cookie is HttpOnly. */
	if (found) {
		bg_buf_puts(b, "<meta name=\"csrf-token\" content=\"");
		html(b, s.csrf);
		bg_buf_puts(b, "\">");
	}
	bg_buf_printf(b, "<style>%s</style></head><body data-session=\"%s\" "
	    "data-approver=\"", page_style, found ? "live" : "none");
	html(b, found ? s.approver : "");
	bg_buf_puts(b, "\"><p id=\"signed-out\" role=\"alert\" hidden>Your session ended: "
	    "<a href=\"/\">sign in again</a>.</p>");
	if (!found) {
		signin_form(b, query_word(r, "approver"), only);
	} else {
		bg_buf_puts(b, "<header><p>Signed in as <b id=\"who\">");
		html(b, s.approver);
		bg_buf_puts(b, "</b> <button id=\"signout\" type=\"button\">Sign out</button>"
		    "</p></header>");
		if (!signed_in_body(r, b, page, only)) {
			explicit_bzero(&s, sizeof(s));
			ad_response_error(res, MHD_HTTP_INTERNAL_SERVER_ERROR, "database error");
			return;
		}
	}
	explicit_bzero(&s, sizeof(s));
	bg_buf_printf(b, "<script>%s</script></body></html>\n", page_script);
	if (b->overflow || !ad_page_set_csp(res, page_script, page_style)) {
		ad_response_error(res, MHD_HTTP_INTERNAL_SERVER_ERROR, "page too large");
		return;
	}
	res->status = MHD_HTTP_OK;
	res->content_type = "text/html; charset=utf-8";
	res->html = true;
}
