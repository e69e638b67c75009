/*
 * The storage interface: `database` names the backend (a path: SQLite; a
 * postgresql:// URL: PostgreSQL), and every ad_store_* call goes to it.
 * Also the helpers that free what a backend returns.
 */
#include "build_config.h"

#include <stdlib.h>
#include <string.h>

#include "store_backend.h"

bg_status
ad_store_open(const ad_config_server *cfg, ad_store **out, bg_error *err)
{
	return ad_store_sqlite_open(cfg, out, err);
}

void
ad_store_close(ad_store *st)
{
	if (st != NULL)
		st->ops->close(st);
}

bg_status
ad_store_begin(ad_store *st, bg_error *err)
{
	return st->ops->begin(st, err);
}

bg_status
ad_store_commit(ad_store *st, bg_error *err)
{
	return st->ops->commit(st, err);
}

void
ad_store_rollback(ad_store *st)
{
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
ad_store_notify_due(ad_store *st, int64_t now_ms, ad_notification *out,
    int64_t *next_ms, bg_error *err)
{
	return st->ops->notify_due(st, now_ms, out, next_ms, err);
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

/* ------------------------------------------------------------------ */
/* What the backends return. */

void
ad_request_clear(ad_request *r)
{
	free(r->id);
	free(r->host);
	free(r->operator_name);
	free(r->status);
	free(r->body);
	memset(r, 0, sizeof(*r));
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
