/*
 * The storage interface: `database` names the backend (a path: SQLite; a
 * postgresql:// URL: PostgreSQL), and every ad_store_* call goes to it.
 * Also the helpers that free what a backend returns.
 */
#include "build_config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_backend.h"

#define PG_SCHEME "postgresql://"
#define PG_SCHEME_SHORT "postgres://"

static bool
is_pg(const char *database)
{
	return strncmp(database, PG_SCHEME, strlen(PG_SCHEME)) == 0 ||
	    strncmp(database, PG_SCHEME_SHORT, strlen(PG_SCHEME_SHORT)) == 0;
}

bg_status
ad_store_database_check(const char *database, bg_error *err)
{
	if (is_pg(database))
		return ad_pg_url_check(database, err);
	if (database[0] != '/')
		return bg_error_set(err, BG_ERR_INVALID, "database: neither an absolute "
		    "path (SQLite) nor a postgresql:// URL");
	return BG_OK;
}

const char *
ad_store_local_path(const ad_config_server *cfg)
{
	return is_pg(cfg->database) ? cfg->state_dir : cfg->database;
}

bg_status
ad_store_open(const ad_config_server *cfg, ad_store **out, bg_error *err)
{
	if (is_pg(cfg->database))
		return ad_store_pg_open(cfg, out, err);
	return ad_store_sqlite_open(cfg, out, err);
}

bg_status
ad_store_config_copy(const ad_config_server *from, ad_config_server *to, bg_error *err)
{
	memset(to, 0, sizeof(*to));
	to->database = strdup(from->database);
	if (from->database_password_file != NULL)
		to->database_password_file = strdup(from->database_password_file);
	if (to->database == NULL || (from->database_password_file != NULL &&
	    to->database_password_file == NULL)) {
		ad_store_config_free(to);
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	}
	return BG_OK;
}

void
ad_store_config_free(ad_config_server *c)
{
	free(c->database);
	free(c->database_password_file);
	memset(c, 0, sizeof(*c));
}

bg_status
ad_listener_start(ad_app *app, ad_listener **out, bg_error *err)
{
	*out = NULL;
	/* One SQLite file has one instance: its own wake-ups are all there are. */
	if (!is_pg(app->cfg->server.database))
		return BG_OK;
	return ad_pg_listener_start(app, out, err);
}

void
ad_listener_stop(ad_listener *l)
{
	ad_pg_listener_stop(l);
}

void
ad_store_close(ad_store *st)
{
	if (st != NULL)
		st->ops->close(st);
}

/* In a group, a transaction is a part of the group's: a savepoint. */
static bg_status
part_begin(ad_store *st, bg_error *err)
{
	bg_status rc;

	if (st->in_part)
		return bg_error_set(err, BG_ERR_INVALID, "a transaction within a transaction");
	if ((rc = st->ops->part(st, AD_PART_BEGIN, err)) == BG_OK)
		st->in_part = true;
	return rc;
}

bg_status
ad_store_begin(ad_store *st, bg_error *err)
{
	return st->grouped ? part_begin(st, err) : st->ops->begin(st, err);
}

bg_status
ad_store_begin_lazy(ad_store *st, bg_error *err)
{
	return st->grouped ? part_begin(st, err) : st->ops->begin_lazy(st, err);
}

bg_status
ad_store_commit(ad_store *st, bg_error *err)
{
	bg_status rc;

	if (!st->grouped)
		return st->ops->commit(st, err);
	if (!st->in_part)
		return bg_error_set(err, BG_ERR_INVALID, "commit outside a transaction");
	/* Still in the part when its end fails: the caller's rollback undoes it. */
	if ((rc = st->ops->part(st, AD_PART_END, err)) == BG_OK)
		st->in_part = false;
	return rc;
}

void
ad_store_rollback(ad_store *st)
{
	bg_error err;

	if (!st->grouped) {
		st->ops->rollback(st);
		return;
	}
	if (!st->in_part)
		return;
	st->in_part = false;
	/* Undone and ended; if the database cannot, the group fails at its commit. */
	if (st->ops->part(st, AD_PART_UNDO, &err) != BG_OK ||
	    st->ops->part(st, AD_PART_END, &err) != BG_OK)
		st->group_broken = true;
}

bg_status
ad_store_group_begin(ad_store *st, bg_error *err)
{
	bg_status rc = st->ops->begin(st, err);

	st->grouped = rc == BG_OK;
	st->in_part = st->group_broken = false;
	return rc;
}

bg_status
ad_store_group_commit(ad_store *st, bg_error *err)
{
	bool broken = st->group_broken || st->in_part;

	st->grouped = st->in_part = st->group_broken = false;
	if (broken) {
		st->ops->rollback(st);
		return bg_error_set(err, BG_ERR_IO, "a part of the group could not be undone");
	}
	return st->ops->commit(st, err);
}

void
ad_store_group_rollback(ad_store *st)
{
	st->grouped = st->in_part = st->group_broken = false;
	st->ops->rollback(st);
}

bg_status
ad_store_seen_add(ad_store *st, const char *host, const char *sig, int64_t now_ms,
    bg_error *err)
{
	return st->ops->seen_add(st, host, sig, now_ms, err);
}

bg_status
ad_store_seen_prune(ad_store *st, int64_t before_ms, bg_error *err)
{
	return st->ops->seen_prune(st, before_ms, err);
}

bg_status
ad_store_request_get(ad_store *st, const char *id, ad_request *out, bg_error *err)
{
	return st->ops->request_get(st, id, out, err);
}

bg_status
ad_store_request_votes(ad_store *st, const char *id, bool lock, ad_request *out,
    ad_votes *votes, bg_error *err)
{
	return st->ops->request_votes(st, id, lock, out, votes, err);
}

bg_status
ad_store_request_insert(ad_store *st, const ad_request *r, bg_error *err)
{
	return st->ops->request_insert(st, r, err);
}

bg_status
ad_store_request_set_status(ad_store *st, const char *id, const char *status,
    int64_t now_ms, bg_error *err)
{
	return st->ops->request_set_status(st, id, status, now_ms, err);
}

bg_status
ad_store_pending(ad_store *st, ad_request **out, size_t *count, bg_error *err)
{
	return st->ops->pending(st, out, count, err);
}

bg_status
ad_store_pending_count(ad_store *st, const char *host, int64_t now_ms,
    unsigned long *count, bg_error *err)
{
	return st->ops->pending_count(st, host, now_ms, count, err);
}

bg_status
ad_store_purge(ad_store *st, int64_t before_ms, unsigned long *requests,
    unsigned long *recoveries, bg_error *err)
{
	return st->ops->purge(st, before_ms, requests, recoveries, err);
}

bg_status
ad_store_health(ad_store *st, int64_t now_ms, bg_error *err)
{
	bg_status rc;

	if ((rc = ad_store_begin(st, err)) != BG_OK)
		return rc;
	rc = st->ops->health(st, now_ms, err);
	if (rc == BG_OK)
		rc = ad_store_commit(st, err);
	if (rc != BG_OK)
		ad_store_rollback(st);
	return rc;
}

bg_status
ad_store_due(ad_store *st, int64_t now_ms, ad_request **out, size_t *count,
    bg_error *err)
{
	return st->ops->due(st, now_ms, out, count, err);
}

bg_status
ad_store_votes(ad_store *st, const char *id, ad_votes *out, bg_error *err)
{
	return st->ops->votes(st, id, out, err);
}

bg_status
ad_store_vote_insert(ad_store *st, const char *id, const ad_vote *v, bg_error *err)
{
	return st->ops->vote_insert(st, id, v, err);
}

bg_status
ad_store_notify_insert(ad_store *st, const ad_notification *n, int64_t now_ms,
    bg_error *err)
{
	return st->ops->notify_insert(st, n, now_ms, err);
}

bg_status
ad_store_notify_due(ad_store *st, const char *target, int64_t now_ms,
    ad_notification *out, int64_t *next_ms, bg_error *err)
{
	return st->ops->notify_due(st, target, now_ms, out, next_ms, err);
}

bg_status
ad_store_notify_targets(ad_store *st, bg_status (*fn)(void *arg, const char *target,
    bg_error *err), void *arg, bg_error *err)
{
	return st->ops->notify_targets(st, fn, arg, err);
}

bg_status
ad_store_notify_done(ad_store *st, int64_t id, bg_error *err)
{
	return st->ops->notify_done(st, id, err);
}

bg_status
ad_store_notify_retry(ad_store *st, int64_t id, unsigned attempts, int64_t next_ms,
    bg_error *err)
{
	return st->ops->notify_retry(st, id, attempts, next_ms, err);
}

bg_status
ad_store_totp_get(ad_store *st, const char *approver, bg_totp_state *out, bg_error *err)
{
	return st->ops->totp_get(st, approver, out, err);
}

bg_status
ad_store_totp_put(ad_store *st, const char *approver, const bg_totp_state *s,
    bg_error *err)
{
	return st->ops->totp_put(st, approver, s, err);
}

bg_status
ad_store_session_insert(ad_store *st, const char *id, const ad_session *s, bg_error *err)
{
	return st->ops->session_insert(st, id, s, err);
}

bg_status
ad_store_session_get(ad_store *st, const char *id, ad_session *out, bg_error *err)
{
	return st->ops->session_get(st, id, out, err);
}

bg_status
ad_store_session_touch(ad_store *st, const char *id, int64_t now_ms, bg_error *err)
{
	return st->ops->session_touch(st, id, now_ms, err);
}

bg_status
ad_store_session_delete(ad_store *st, const char *id, bg_error *err)
{
	return st->ops->session_delete(st, id, err);
}

bg_status
ad_store_session_prune(ad_store *st, int64_t idle_ms, int64_t created_ms, bg_error *err)
{
	return st->ops->session_prune(st, idle_ms, created_ms, err);
}

bg_status
ad_store_recovery_get(ad_store *st, const char *host, const char *id, ad_request *out,
    bg_error *err)
{
	return st->ops->recovery_get(st, host, id, out, err);
}

bg_status
ad_store_recovery_insert(ad_store *st, const ad_request *r, bg_error *err)
{
	return st->ops->recovery_insert(st, r, err);
}

bg_status
ad_store_recoveries(ad_store *st, ad_request **out, size_t *count, bg_error *err)
{
	return st->ops->recoveries(st, out, count, err);
}

bg_status
ad_store_passkey_insert(ad_store *st, const ad_passkey *pk, bg_error *err)
{
	return st->ops->passkey_insert(st, pk, err);
}

bg_status
ad_store_passkey_get(ad_store *st, const char *id_hex, ad_passkey *out, bg_error *err)
{
	return st->ops->passkey_get(st, id_hex, out, err);
}

bg_status
ad_store_passkeys(ad_store *st, const char *approver, ad_passkey **out, size_t *count,
    bg_error *err)
{
	return st->ops->passkeys(st, approver, out, count, err);
}

bg_status
ad_store_passkey_used(ad_store *st, const char *id_hex, uint32_t sign_count,
    int64_t now_ms, bg_error *err)
{
	return st->ops->passkey_used(st, id_hex, sign_count, now_ms, err);
}

bg_status
ad_store_challenge_insert(ad_store *st, const char *hex, const ad_challenge *c,
    int64_t now_ms, bg_error *err)
{
	return st->ops->challenge_insert(st, hex, c, now_ms, err);
}

bg_status
ad_store_challenge_take(ad_store *st, const char *hex, ad_challenge *out, bg_error *err)
{
	return st->ops->challenge_take(st, hex, out, err);
}

bg_status
ad_store_challenge_prune(ad_store *st, int64_t now_ms, bg_error *err)
{
	return st->ops->challenge_prune(st, now_ms, err);
}

void
ad_passkey_clear(ad_passkey *pk)
{
	free(pk->approver);
	free(pk->id_hex);
	free(pk->pubkey_hex);
	free(pk->label);
	memset(pk, 0, sizeof(*pk));
}

void
ad_passkeys_free(ad_passkey *pk, size_t count)
{
	for (size_t i = 0; i < count; i++)
		ad_passkey_clear(&pk[i]);
	free(pk);
}

void
ad_challenge_clear(ad_challenge *c)
{
	free(c->approver);
	free(c->binding);
	free(c->purpose);
	memset(c, 0, sizeof(*c));
}

/* ------------------------------------------------------------------ */
/* What the backends share. */

bool
ad_totp_failures_format(const bg_totp_state *s, char *out, size_t outsz)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < s->nfailures; i++) {
		int n = snprintf(out + used, outsz - used, "%s%" PRId64, i > 0 ? " " : "",
		    (int64_t)s->failures[i]);

		if (n < 0 || (size_t)n >= outsz - used)
			return false;
		used += (size_t)n;
	}
	return true;
}

bg_status
ad_totp_failures_parse(const char *text, bg_totp_state *s, bg_error *err)
{
	const char *p = text;
	char *end;

	s->nfailures = 0;
	while (*p != '\0') {
		long long t = strtoll(p, &end, 10);

		if (end == p || t < 0 || (*end != ' ' && *end != '\0'))
			return bg_error_set(err, BG_ERR_INVALID, "TOTP state: bad failure list");
		if (s->nfailures >= BG_TOTP_STATE_MAX_FAILURES)
			return bg_error_set(err, BG_ERR_INVALID, "TOTP state: too many failures");
		s->failures[s->nfailures++] = (time_t)t;
		p = *end == ' ' ? end + 1 : end;
	}
	return BG_OK;
}

void
ad_request_clear(ad_request *r)
{
	free(r->id);
	free(r->host);
	free(r->operator_name);
	free(r->status);
	free(r->body);
	json_object_put(r->doc);
	memset(r, 0, sizeof(*r));
}

bg_status
ad_store_link_insert(ad_store *st, const char *hash_hex, const ad_link *l, bg_error *err)
{
	return st->ops->link_insert(st, hash_hex, l, err);
}

bg_status
ad_store_link_get(ad_store *st, const char *hash_hex, ad_link *out, bg_error *err)
{
	return st->ops->link_get(st, hash_hex, out, err);
}

bg_status
ad_store_link_use(ad_store *st, const char *hash_hex, int64_t now_ms, bg_error *err)
{
	return st->ops->link_use(st, hash_hex, now_ms, err);
}

bg_status
ad_store_link_prune(ad_store *st, int64_t before_ms, bg_error *err)
{
	return st->ops->link_prune(st, before_ms, err);
}

bg_status
ad_store_slack_response_put(ad_store *st, const char *request_id, const char *url,
    int64_t now_ms, bg_error *err)
{
	return st->ops->slack_response_put(st, request_id, url, now_ms, err);
}

bg_status
ad_store_slack_response_get(ad_store *st, const char *request_id, char **url,
    bg_error *err)
{
	return st->ops->slack_response_get(st, request_id, url, err);
}

bg_status
ad_store_slack_post_put(ad_store *st, const ad_slack_post *p, bg_error *err)
{
	return st->ops->slack_post_put(st, p, err);
}

bg_status
ad_store_slack_post_get(ad_store *st, const char *target, const char *msg_id,
    ad_slack_post *out, bg_error *err)
{
	memset(out, 0, sizeof(*out));
	return st->ops->slack_post_get(st, target, msg_id, out, err);
}

bg_status
ad_store_slack_post_set_update(ad_store *st, const char *target, const char *request_id,
    const char *update_msg, bg_error *err)
{
	return st->ops->slack_post_set_update(st, target, request_id, update_msg, err);
}

bg_status
ad_store_slack_post_delete(ad_store *st, const char *target, const char *request_id,
    bg_error *err)
{
	return st->ops->slack_post_delete(st, target, request_id, err);
}

void
ad_slack_post_clear(ad_slack_post *p)
{
	free(p->request_id);
	free(p->target);
	free(p->post_msg);
	free(p->update_msg);
	free(p->channel);
	free(p->ts);
	memset(p, 0, sizeof(*p));
}

void
ad_requests_free(ad_request *r, size_t count)
{
	for (size_t i = 0; i < count; i++)
		ad_request_clear(&r[i]);
	free(r);
}

void
ad_votes_clear(ad_votes *v)
{
	for (size_t i = 0; i < v->count; i++) {
		free(v->v[i].approver);
		free(v->v[i].comment);
	}
	free(v->v);
	memset(v, 0, sizeof(*v));
}

bg_status
ad_votes_append(ad_votes *v, const ad_vote *vote, bg_error *err)
{
	ad_vote *grown = realloc(v->v, (v->count + 1) * sizeof(*grown));
	ad_vote *copy;

	if (grown == NULL)
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	v->v = grown;
	copy = &grown[v->count];
	copy->approver = strdup(vote->approver);
	copy->comment = strdup(vote->comment);
	copy->approve = vote->approve;
	copy->at_ms = vote->at_ms;
	if (copy->approver == NULL || copy->comment == NULL) {
		free(copy->approver);
		free(copy->comment);
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	}
	v->count++;
	return BG_OK;
}

void
ad_notification_clear(ad_notification *n)
{
	free(n->target);
	free(n->url);
	free(n->secret);
	free(n->msg_id);
	free(n->body);
	memset(n, 0, sizeof(*n));
}

void
ad_link_clear(ad_link *l)
{
	free(l->approver);
	free(l->request_id);
	free(l->action);
	memset(l, 0, sizeof(*l));
}
