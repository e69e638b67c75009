/*
 * One-time links, what a Slack click is answered with (slack.c).  A link
 * carries 32 random bytes; the database keeps only their SHA-256, with the
 * approver, the request, the action and an expiry AD_LINK_TTL_MS away.
 * Opening it (GET /v1/links/{token}) uses it up and redirects to the page
 * showing that request, where the approver signs in and confirms with the
 * second factor: a link is never a vote, and whoever else opens it meets
 * the same sign-in.  An unknown, used or expired link gets one plain page
 * that does not say which.
 */
#include "build_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <microhttpd.h>

#include "approvald.h"
#include "escape.h"

#define ESCAPED_MAX 256
#define LOCATION_MAX 256

static const char invalid_page[] =
	"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	"<title>Link not valid</title></head><body>"
	"<h1>This link is not valid</h1>"
	"<p>A link from Slack opens the request once, within 10 minutes. "
	"Click the button in Slack again for a new one.</p></body></html>\n";

bg_status
ad_link_issue(ad_app *app, const char *approver, const char *request_id,
    const char *action, int64_t now_ms, char token[AD_TOKEN_LEN + 1], bg_error *err)
{
	ad_link l = { .approver = (char *)approver, .request_id = (char *)request_id,
	    .action = (char *)action, .expires_ms = now_ms + AD_LINK_TTL_MS };
	char hex[BG_SHA256_HEX_LEN + 1];
	bg_status rc;

	if ((rc = ad_token_new(token, err)) != BG_OK)
		return rc;
	/* The expired ones go with each new one: the table holds minutes of links. */
	if ((rc = ad_token_hash(token, hex, err)) != BG_OK ||
	    (rc = ad_store_link_prune(app->store, now_ms, err)) != BG_OK)
		return rc;
	return ad_store_link_insert(app->store, hex, &l, err);
}

static void
refuse(ad_http_req *r, ad_response *res, const char *why)
{
	ad_log(LOG_WARNING, "link refused: source=%s: %s", r->source, why);
	res->status = MHD_HTTP_NOT_FOUND;
	res->content_type = "text/html; charset=utf-8";
	res->html = true;
	bg_buf_free(&res->body);
	bg_buf_init(&res->body, 0);
	bg_buf_puts(&res->body, invalid_page);
}

/* link.opened, in the transaction that uses the link up. */
static bg_status
journal_opened(ad_http_req *r, const ad_link *l, bg_error *err)
{
	ad_request req = { 0 };
	bg_event *ev;
	bg_status rc;

	/* The request's identity (account, operator, incident) when it is still kept. */
	rc = ad_store_request_get(r->app->store, l->request_id, &req, err);
	if (rc != BG_OK && rc != BG_ERR_NOTFOUND)
		return rc;
	ev = ad_event_new(r->app, "link.opened", "success", rc == BG_OK ? &req : NULL,
	    l->approver, r->source);
	if (ev == NULL) {
		rc = bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	} else {
		if (req.id == NULL)
			bg_event_add_str(ev, "request", l->request_id);
		bg_event_add_str(ev, "action", l->action);
		rc = bg_audit_emit(&r->app->audit, ev, err);
	}
	bg_event_free(ev);
	ad_request_clear(&req);
	return rc;
}

void
ad_link_open(ad_http_req *r, const char *token, ad_response *res)
{
	char hex[BG_SHA256_HEX_LEN + 1], shown[ESCAPED_MAX];
	const char *why = NULL;
	ad_link l = { 0 };
	bg_error err;
	bg_status rc;

	if (!ad_token_valid(token)) {
		refuse(r, res, "malformed token");
		return;
	}
	rc = ad_token_hash(token, hex, &err);
	if (rc == BG_OK)
		rc = ad_store_begin(r->app->store, &err);
	if (rc == BG_OK && (rc = ad_store_link_get(r->app->store, hex, &l, &err)) ==
	    BG_ERR_NOTFOUND) {
		why = "unknown token";
	} else if (rc == BG_OK) {
		if (l.used_ms != 0)
			why = "already used";
		else if (l.expires_ms <= r->now_ms)
			why = "expired";
		else if ((rc = ad_store_link_use(r->app->store, hex, r->now_ms, &err)) ==
		    BG_ERR_DENIED)
			why = "already used";
		else if (rc == BG_OK && (rc = journal_opened(r, &l, &err)) == BG_OK)
			rc = ad_store_commit(r->app->store, &err);
	}
	if (rc != BG_OK || why != NULL)
		ad_store_rollback(r->app->store);
	if (why != NULL) {
		refuse(r, res, why);
	} else if (rc != BG_OK) {
		ad_log(LOG_ERR, "link: %s", err.msg);
		ad_response_error(res, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot open the link");
	} else {
		bg_escape_printable(l.request_id, shown, sizeof(shown));
		ad_log(LOG_NOTICE, "link opened: approver=%s request=%s source=%s",
		    l.approver, shown, r->source);
		res->location = malloc(LOCATION_MAX);
		if (res->location == NULL) {
			ad_response_error(res, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
		} else {
			/* Both are plain words (a UUID, a configured name): nothing to escape. */
			snprintf(res->location, LOCATION_MAX, "/?request=%s&approver=%s",
			    l.request_id, l.approver);
			ad_response_error(res, MHD_HTTP_SEE_OTHER, "see the page");
		}
	}
	ad_link_clear(&l);
}
