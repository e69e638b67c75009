/*
 * Decisions: what the votes make of a request, the signed decision document
 * of protocol v1, and what happens when a request becomes final.
 */
#include "build_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "approvald.h"
#include "escape.h"
#include "names.h"

#define STATUS_PENDING "pending"
#define STATUS_APPROVED "approved"
#define STATUS_DENIED "denied"
#define STATUS_EXPIRED "expired"

/* The filed request's members, parsed afresh; NULL on a corrupt row (never stored unparsed). */
static json_object *
parse_doc(const ad_request *r)
{
	json_object *doc = json_tokener_parse(r->body);

	if (doc != NULL && !json_object_is_type(doc, json_type_object)) {
		json_object_put(doc);
		return NULL;
	}
	return doc;
}

/*
 * The same, to read only (a reference of the caller's): parsed once for a
 * loaded request, as deciding reads it for every vote.
 */
static json_object *
request_doc(const ad_request *r)
{
	return r->doc != NULL ? json_object_get(r->doc) : parse_doc(r);
}

static json_object *
member(json_object *doc, const char *name)
{
	json_object *v = NULL;

	json_object_object_get_ex(doc, name, &v);
	return v;
}

static const char *
member_str(json_object *doc, const char *name)
{
	json_object *v = member(doc, name);

	return v != NULL && json_object_is_type(v, json_type_string) ?
	    json_object_get_string(v) : "";
}

/* Whether name is one of the request's designated approvers. */
static bool
designated(json_object *doc, const char *name)
{
	json_object *list = member(doc, "approvers");
	size_t n = list != NULL ? json_object_array_length(list) : 0;

	for (size_t i = 0; i < n; i++)
		if (bg_name_equal(json_object_get_string(json_object_array_get_idx(list, i)),
		    name))
			return true;
	return false;
}

bool
ad_request_names(const ad_request *r, const char *approver)
{
	json_object *doc = request_doc(r);
	bool found = doc != NULL && designated(doc, approver);

	json_object_put(doc);
	return found;
}

/* Whether the approver of vote i voted earlier in the list (names.h). */
static bool
voted_before(const ad_votes *votes, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (bg_name_equal(votes->v[j].approver, votes->v[i].approver))
			return true;
	return false;
}

static unsigned long
required_quorum(const ad_app *app, json_object *doc)
{
	unsigned long q = (unsigned long)json_object_get_int64(member(doc, "quorum"));

	return q > app->cfg->server.quorum ? q : app->cfg->server.quorum;
}

const char *
ad_decision_status(const ad_app *app, const ad_request *r, const ad_votes *votes,
    int64_t now_ms)
{
	json_object *doc;
	unsigned long approvals = 0;
	const char *status;

	if (strcmp(r->status, STATUS_PENDING) != 0)
		return r->status;
	if ((doc = request_doc(r)) == NULL)
		return STATUS_PENDING;
	/*
	 * One denial is a veto; only designated approvers other than the operator
	 * count, each once whatever the case of their name.
	 */
	for (size_t i = 0; i < votes->count; i++) {
		const ad_vote *v = &votes->v[i];

		if (!designated(doc, v->approver) ||
		    bg_name_equal(v->approver, r->operator_name) || voted_before(votes, i))
			continue;
		if (!v->approve) {
			json_object_put(doc);
			return STATUS_DENIED;
		}
		approvals++;
	}
	if (approvals >= required_quorum(app, doc))
		status = STATUS_APPROVED;
	else if (now_ms >= r->expires_ms)
		status = STATUS_EXPIRED;
	else
		status = STATUS_PENDING;
	json_object_put(doc);
	return status;
}

static json_object *
votes_array(const ad_votes *votes, bool approve)
{
	json_object *arr = json_object_new_array();
	char at[AD_TIME_LEN];

	for (size_t i = 0; arr != NULL && i < votes->count; i++) {
		const ad_vote *v = &votes->v[i];
		json_object *o;

		if (v->approve != approve)
			continue;
		ad_time_format(v->at_ms, at);
		o = json_object_new_object();
		json_object_object_add(o, "approver", json_object_new_string(v->approver));
		json_object_object_add(o, "at", json_object_new_string(at));
		json_object_object_add(o, "comment", json_object_new_string(v->comment));
		json_object_array_add(arr, o);
	}
	return arr;
}

static void
add_str(json_object *obj, const char *key, const char *value)
{
	json_object_object_add(obj, key, json_object_new_string(value));
}

/* The document byte-identical to body signed lately, or NULL. */
static const struct ad_signed *
signed_entry(const ad_app *app, const bg_buf *body)
{
	for (size_t i = 0; i < AD_SIGNED_KEPT; i++) {
		const struct ad_signed *d = &app->signed_docs[i];

		if (d->sig != NULL && d->body.len == body->len &&
		    memcmp(d->body.data, body->data, body->len) == 0)
			return d;
	}
	return NULL;
}

static void
signed_clear(struct ad_signed *d)
{
	bg_buf_free(&d->body);
	free(d->sig);
	free(d->request_id);
	d->sig = d->request_id = NULL;
}

/* Kept only whole: without memory the document is signed afresh when next asked. */
static void
remember_signed(ad_app *app, const ad_request *r, int64_t issued_ms, const bg_buf *body,
    const char *sig_b64)
{
	struct ad_signed *d = &app->signed_docs[app->signed_next];

	app->signed_next = (app->signed_next + 1) % AD_SIGNED_KEPT;
	signed_clear(d);
	d->sig = strdup(sig_b64);
	d->request_id = strdup(r->id);
	d->issued_ms = issued_ms;
	d->published = false;
	bg_buf_init(&d->body, AD_BODY_MAX);
	if (d->sig == NULL || d->request_id == NULL ||
	    !bg_buf_append(&d->body, body->data, body->len))
		signed_clear(d);
}

void
ad_decision_publish(ad_app *app, const bg_buf *body)
{
	struct ad_signed *d;

	pthread_mutex_lock(&app->signed_lock);
	if ((d = (struct ad_signed *)signed_entry(app, body)) != NULL)
		d->published = true;
	pthread_mutex_unlock(&app->signed_lock);
}

/* Without app->lock: a woken poll's answer (http.c). */
bool
ad_decision_kept(ad_app *app, const char *id, int64_t issued_ms, bg_buf *body,
    char **sig_b64)
{
	bool found = false;

	pthread_mutex_lock(&app->signed_lock);
	for (size_t i = 0; !found && i < AD_SIGNED_KEPT; i++) {
		const struct ad_signed *d = &app->signed_docs[i];

		if (d->sig == NULL || !d->published || d->issued_ms != issued_ms ||
		    strcmp(d->request_id, id) != 0)
			continue;
		bg_buf_init(body, AD_BODY_MAX);
		if ((*sig_b64 = strdup(d->sig)) == NULL ||
		    !bg_buf_append(body, d->body.data, d->body.len)) {
			free(*sig_b64);
			*sig_b64 = NULL;
			bg_buf_free(body);
			break;
		}
		found = true;
	}
	pthread_mutex_unlock(&app->signed_lock);
	return found;
}

bg_status
ad_decision_build(ad_app *app, const ad_request *r, const ad_votes *votes,
    int64_t now_ms, bg_buf *body, char **sig_b64, bg_error *err)
{
	unsigned char sig[BG_ED25519_SIG_LEN];
	json_object *doc = request_doc(r), *out;
	char issued[AD_TIME_LEN];
	const struct ad_signed *known;
	const char *text;
	bg_status rc;

	if (doc == NULL)
		return bg_error_set(err, BG_ERR_INVALID, "stored request unreadable");
	ad_time_format(now_ms, issued);
	/* Members in protocol order; the host checks each against its request. */
	out = json_object_new_object();
	add_str(out, "request_id", r->id);
	add_str(out, "nonce", member_str(doc, "nonce"));
	add_str(out, "host", r->host);
	add_str(out, "account", member_str(doc, "account"));
	add_str(out, "operator", r->operator_name);
	add_str(out, "incident", member_str(doc, "incident"));
	add_str(out, "status", ad_decision_status(app, r, votes, now_ms));
	json_object_object_add(out, "approvals", votes_array(votes, true));
	json_object_object_add(out, "denials", votes_array(votes, false));
	add_str(out, "scope", member_str(doc, "scope"));
	json_object_object_add(out, "ttl",
	    json_object_new_int64(json_object_get_int64(member(doc, "ttl"))));
	add_str(out, "issued_at", issued);
	json_object_put(doc);
	text = json_object_to_json_string_ext(out,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	bg_buf_init(body, AD_BODY_MAX);
	if (text == NULL || !bg_buf_puts(body, text)) {
		json_object_put(out);
		bg_buf_free(body);
		return bg_error_set(err, BG_ERR_TOOBIG, "decision does not fit");
	}
	json_object_put(out);
	/* The signature covers exactly the bytes sent. */
	pthread_mutex_lock(&app->signed_lock);
	if ((known = signed_entry(app, body)) != NULL) {
		*sig_b64 = strdup(known->sig);
		rc = *sig_b64 != NULL ? BG_OK : bg_error_set(err, BG_ERR_NOMEM,
		    "out of memory");
	}
	pthread_mutex_unlock(&app->signed_lock);
	if (known == NULL) {
		rc = bg_ed25519_sign(app->signer, body->data, body->len, sig, err);
		if (rc == BG_OK)
			rc = bg_base64_encode(sig, sizeof(sig), sig_b64, err);
		if (rc == BG_OK) {
			pthread_mutex_lock(&app->signed_lock);
			remember_signed(app, r, now_ms, body, *sig_b64);
			pthread_mutex_unlock(&app->signed_lock);
		}
	}
	if (rc != BG_OK)
		bg_buf_free(body);
	return rc;
}

void
ad_decision_forget_kept(ad_app *app)
{
	pthread_mutex_lock(&app->signed_lock);
	for (size_t i = 0; i < AD_SIGNED_KEPT; i++)
		signed_clear(&app->signed_docs[i]);
	pthread_mutex_unlock(&app->signed_lock);
	for (size_t i = 0; i < AD_PARSED_KEPT; i++) {
		struct ad_parsed *p = &app->parsed[i];

		free(p->id);
		p->id = NULL;
		bg_buf_free(&p->body);
		json_object_put(p->doc);
		p->doc = NULL;
	}
}

json_object *
ad_request_view(const ad_request *r, const ad_votes *votes)
{
	json_object *doc = parse_doc(r);  /* edited below: a copy of its own */
	char expires[AD_TIME_LEN];

	if (doc == NULL)
		return NULL;
	/* The nonce binds a decision to the login attempt: approvers need not see it. */
	json_object_object_del(doc, "nonce");
	add_str(doc, "status", r->status);
	ad_time_format(r->expires_ms, expires);
	add_str(doc, "expires_at", expires);
	json_object_object_add(doc, "approvals", votes_array(votes, true));
	json_object_object_add(doc, "denials", votes_array(votes, false));
	return doc;
}

bg_status
ad_decision_finalize(ad_app *app, const ad_request *r, const ad_votes *votes,
    const char *status, const char *source, int64_t now_ms, bg_error *err)
{
	char name[sizeof("approval.") + sizeof(STATUS_APPROVED)];
	json_object *approvers = json_object_new_array();
	bg_event *ev;
	bg_status rc;

	for (size_t i = 0; approvers != NULL && i < votes->count; i++)
		if (votes->v[i].approve == (strcmp(status, STATUS_APPROVED) == 0))
			json_object_array_add(approvers,
			    json_object_new_string(votes->v[i].approver));
	snprintf(name, sizeof(name), "approval.%s", status);
	ev = ad_event_new(app, name, strcmp(status, STATUS_APPROVED) == 0 ? "success" :
	    "failure", r, NULL, source);
	if (ev == NULL) {
		json_object_put(approvers);
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	}
	bg_event_add_json(ev, "approvers", approvers);
	rc = ad_store_request_set_status(app->store, r->id, status, now_ms, err);
	if (rc == BG_OK)
		rc = ad_journal_decision(app, &ev, err);
	if (rc == BG_OK)
		rc = ad_notify_enqueue(app, "request.decided", r, votes, status, now_ms, err);
	bg_event_free(ev);
	if (rc == BG_OK)
		ad_decision_wake(app, r->id, now_ms);
	return rc;
}

/* Through ad_request_load: another instance may have decided it meanwhile. */
static void
expire_one(ad_app *app, const ad_request *due, int64_t now_ms)
{
	char id[BG_ERROR_MAX];
	ad_request r;
	ad_votes votes;
	bg_error err;
	bg_status rc;

	rc = ad_store_begin(app->store, &err);
	if (rc == BG_OK && (rc = ad_request_load(app, due->id, &r, &votes, "timer", now_ms,
	    &err)) == BG_OK) {
		ad_votes_clear(&votes);
		ad_request_clear(&r);
	}
	if (rc == BG_OK)
		rc = ad_store_commit(app->store, &err);
	if (rc != BG_OK) {
		ad_store_rollback(app->store);
		bg_escape_printable(due->id, id, sizeof(id));
		ad_log(LOG_ERR, "request %s: cannot expire: %s", id, err.msg);
	}
}

void
ad_decision_expire_due(ad_app *app, int64_t now_ms)
{
	ad_request *due;
	size_t n;
	bg_error err;

	if (ad_store_due(app->store, now_ms, &due, &n, &err) != BG_OK) {
		ad_log(LOG_ERR, "expiry: %s", err.msg);
		return;
	}
	for (size_t i = 0; i < n; i++)
		expire_one(app, &due[i], now_ms);
	ad_requests_free(due, n);
	if (n > 0)
		ad_notifier_kick(app->notifier);
}

/*
 * r's body parsed, a reference of r's own: the parse kept for the same id
 * and the same bytes (a body filed again under its id compares unequal),
 * else a fresh one, then kept.  Read only, as request_doc's callers do.
 */
static json_object *
parsed_doc(ad_app *app, const ad_request *r)
{
	struct ad_parsed *p;
	json_object *doc;

	for (size_t i = 0; i < AD_PARSED_KEPT; i++) {
		p = &app->parsed[i];
		if (p->doc != NULL && strcmp(p->id, r->id) == 0 && p->body.len == r->body_len &&
		    memcmp(p->body.data, r->body, r->body_len) == 0)
			return json_object_get(p->doc);
	}
	if ((doc = parse_doc(r)) == NULL)
		return NULL;
	/* Kept only whole: without memory the next load parses again. */
	p = &app->parsed[app->parsed_next];
	app->parsed_next = (app->parsed_next + 1) % AD_PARSED_KEPT;
	free(p->id);
	bg_buf_free(&p->body);
	json_object_put(p->doc);
	p->doc = NULL;
	p->id = strdup(r->id);
	bg_buf_init(&p->body, AD_BODY_MAX);
	if (p->id != NULL && bg_buf_append(&p->body, r->body, r->body_len))
		p->doc = json_object_get(doc);
	return doc;
}

/* Request id and its votes into r and votes; with lock, held (ad_store_request_votes). */
static bg_status
read_request(ad_app *app, const char *id, bool lock, ad_request *r, ad_votes *votes,
    bg_error *err)
{
	bg_status rc = ad_store_request_votes(app->store, id, lock, r, votes, err);

	if (rc == BG_OK)
		r->doc = parsed_doc(app, r);
	return rc;
}

bg_status
ad_request_settle(ad_app *app, ad_request *r, ad_votes *votes, bool held,
    const char *source, int64_t now_ms, bg_error *err)
{
	const char *status;
	char *copy;
	bg_status rc;

	/* The timer expires requests within a second; a caller must not see one late. */
	status = ad_decision_status(app, r, votes, now_ms);
	if (strcmp(status, r->status) == 0)
		return BG_OK;
	if (!held) {
		/*
		 * Deciding: hold the request and read it again, since another
		 * instance may have decided it since (or be deciding it now).
		 */
		char *id = strdup(r->id);

		ad_votes_clear(votes);
		ad_request_clear(r);
		if (id == NULL)
			return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
		rc = read_request(app, id, true, r, votes, err);
		free(id);
		if (rc != BG_OK)
			return rc;
		status = ad_decision_status(app, r, votes, now_ms);
		if (strcmp(status, r->status) == 0)
			return BG_OK;
	}
	copy = strdup(status);
	rc = copy == NULL ? bg_error_set(err, BG_ERR_NOMEM, "out of memory") :
	    ad_decision_finalize(app, r, votes, status, source, now_ms, err);
	if (rc != BG_OK) {
		free(copy);
		ad_votes_clear(votes);
		ad_request_clear(r);
		return rc;
	}
	free(r->status);
	r->status = copy;
	return BG_OK;
}

static bg_status
load(ad_app *app, const char *id, bool lock, ad_request *r, ad_votes *votes,
    const char *source, int64_t now_ms, bg_error *err)
{
	bg_status rc = read_request(app, id, lock, r, votes, err);

	if (rc != BG_OK)
		return rc;
	return ad_request_settle(app, r, votes, lock, source, now_ms, err);
}

bg_status
ad_request_load(ad_app *app, const char *id, ad_request *r, ad_votes *votes,
    const char *source, int64_t now_ms, bg_error *err)
{
	return load(app, id, false, r, votes, source, now_ms, err);
}

bg_status
ad_request_load_held(ad_app *app, const char *id, ad_request *r, ad_votes *votes,
    const char *source, int64_t now_ms, bg_error *err)
{
	return load(app, id, true, r, votes, source, now_ms, err);
}
