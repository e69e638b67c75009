/*
 * Group commit of votes.  The HTTP thread parks each vote (its connection
 * suspended) and one thread serves them in groups: every vote waiting when
 * it starts, up to AD_GROUP_MAX.  A group costs three syncs whatever its
 * size, in the order a single vote keeps:
 *
 *   1. each vote in its own part (a savepoint) of one transaction, with its
 *      approver's second-factor state; the transaction's commit (one sync)
 *      makes them durable together;
 *   2. in a second transaction, the decisions the votes make (status,
 *      notifications), from each request as its vote's part read it,
 *      held, and left it: with every vote committed before it, so the
 *      last vote of a quorum sees the quorum; a request is read again
 *      only to be decided (ad_request_settle);
 *   3. the votes' approval.voted records and those decisions' records,
 *      written as one journal append (one sync; the key state rewritten,
 *      made durable by the next append's sync: docs/journal.md, 4.1);
 *   4. the second transaction's commit (one sync).
 *
 * So a vote is committed before its approval.voted is journaled, and a
 * decision is journaled before the transaction recording it commits.  Every
 * answer is sent only after step 4 (or the failure that ended the group),
 * and the polls a decision wakes only once the deciding vote's answer is
 * kept for them (ad_decision_publish): they need not wait for the lock.
 * A vote whose record cannot be written denies its request
 * (ad_vote_deny_unjournaled), as a single vote's does.
 */
#include "build_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <microhttpd.h>

#include "approvald.h"

/* Each vote journals one record and makes at most one decision: two records. */
_Static_assert(2 * AD_GROUP_MAX <= BG_JOURNAL_BATCH_MAX, "a group's records fit one append");

/* A vote committed (in its part, or alone), waiting for its record and its answer. */
struct ad_cast {
	ad_http_req *r;
	char id[AD_REQUEST_ID_MAX];
	bg_event *voted;
	ad_request req;                      /* as the vote's transaction left it */
	ad_votes votes;
	ad_response *res;
};

/* The votes of the group being served, and the decisions they make. */
struct ad_casting {
	struct ad_cast cast[AD_GROUP_MAX];
	size_t n;
	bool deciding;                       /* step 2: decisions' records are held */
	bg_event *decided[AD_GROUP_MAX];
	size_t ndecided;
};

struct ad_group {
	ad_app *app;
	void (*resume)(ad_parked *p);
	pthread_t thread;
	pthread_mutex_t lock;                /* guards queue and stopping */
	pthread_cond_t cond;
	ad_parked *queue, **tail;
	bool stopping;
};

/* While a group's decisions are being made (step 2). */
static bool
deciding(const ad_app *app)
{
	return app->casting != NULL && app->casting->deciding;
}

void
ad_decision_wake(ad_app *app, const char *id, int64_t now_ms)
{
	/* In a group, after its answers (finish). */
	if (!deciding(app))
		ad_waiters_wake(app, id, now_ms);
}

bg_status
ad_journal_decision(ad_app *app, bg_event **ev, bg_error *err)
{
	struct ad_casting *c = app->casting;

	if (!deciding(app))
		return bg_audit_emit(&app->audit, *ev, err);
	if (c->ndecided == AD_GROUP_MAX)
		return bg_error_set(err, BG_ERR_TOOBIG, "more decisions than votes in a group");
	c->decided[c->ndecided++] = *ev;
	*ev = NULL;
	return BG_OK;
}

static void
casting_clear(struct ad_casting *c)
{
	for (size_t i = 0; i < c->n; i++) {
		bg_event_free(c->cast[i].voted);
		ad_votes_clear(&c->cast[i].votes);
		ad_request_clear(&c->cast[i].req);
	}
	for (size_t i = 0; i < c->ndecided; i++)
		bg_event_free(c->decided[i]);
	c->n = c->ndecided = 0;
}

/* The vote's answer (after the commit): the decision document as it stands, signed. */
static void
answer(ad_app *app, const struct ad_cast *v)
{
	bg_error err;

	bg_buf_free(&v->res->body);
	if (ad_decision_build(app, &v->req, &v->votes, v->r->now_ms, &v->res->body,
	    &v->res->decision_sig, &err) == BG_OK) {
		v->res->status = MHD_HTTP_OK;
		v->res->content_type = "application/json";
		/* Committed: the polls this decision woke are answered with it. */
		if (strcmp(v->req.status, "pending") != 0)
			ad_decision_publish(app, &v->res->body);
		return;
	}
	ad_log(LOG_ERR, "decision: %s", err.msg);
	ad_response_error(v->res, MHD_HTTP_INTERNAL_SERVER_ERROR,
	    "vote recorded; cannot sign the decision");
}

/* Steps 2 to 4 for the committed votes of c, then their answers. */
static void
finish(ad_app *app, struct ad_casting *c)
{
	const bg_event *evs[BG_JOURNAL_BATCH_MAX];
	struct ad_casting *outer = app->casting;
	size_t n = 0;
	bg_error err, jerr;
	bg_status rc, jrc;

	rc = ad_store_begin(app->store, &err);
	/* Their records held for step 3 (ad_journal_decision), their polls for the end. */
	app->casting = c;
	c->deciding = true;
	for (size_t i = 0; rc == BG_OK && i < c->n; i++) {
		struct ad_cast *v = &c->cast[i];

		rc = ad_request_settle(app, &v->req, &v->votes, false, v->r->source,
		    v->r->now_ms, &err);
	}
	c->deciding = false;
	app->casting = outer;
	if (rc != BG_OK) {
		ad_store_rollback(app->store);
		ad_log(LOG_ERR, "vote: %s", err.msg);
	}
	for (size_t i = 0; i < c->n; i++)
		evs[n++] = c->cast[i].voted;
	/* Without their transaction the decisions are not journaled: a later load makes them. */
	for (size_t i = 0; rc == BG_OK && i < c->ndecided; i++)
		evs[n++] = c->decided[i];
	jrc = bg_audit_emit_many(&app->audit, evs, n, &jerr);
	if (jrc != BG_OK) {
		ad_log(LOG_ERR, "vote: %s", jerr.msg);
		if (rc == BG_OK)
			ad_store_rollback(app->store);
		rc = jrc;
		/* Fail closed: a committed vote the journal lacks must not count. */
		for (size_t i = 0; i < c->n; i++)
			ad_vote_deny_unjournaled(c->cast[i].r, c->cast[i].id);
	} else if (rc == BG_OK && (rc = ad_store_commit(app->store, &err)) != BG_OK) {
		ad_store_rollback(app->store);
		ad_log(LOG_ERR, "vote: %s", err.msg);
	}
	if (rc == BG_OK)
		ad_notifier_kick(app->notifier);  /* decisions */
	for (size_t i = 0; i < c->n; i++)
		if (rc == BG_OK)
			answer(app, &c->cast[i]);
		else
			ad_response_error(c->cast[i].res, MHD_HTTP_INTERNAL_SERVER_ERROR,
			    "cannot record the vote");
	/* Decided (committed, answered): their polls get the deciding vote's document. */
	for (size_t i = 0; rc == BG_OK && i < c->n; i++)
		if (strcmp(c->cast[i].req.status, "pending") != 0)
			ad_waiters_wake(app, c->cast[i].id, c->cast[i].r->now_ms);
	casting_clear(c);
}

void
ad_vote_committed(ad_http_req *r, const char *id, bg_event *voted, ad_request *req,
    ad_votes *votes, ad_response *res)
{
	struct ad_casting one = { 0 }, *c = r->app->casting;
	struct ad_cast *v;

	if (c == NULL || c->n == AD_GROUP_MAX)
		c = &one;
	v = &c->cast[c->n++];

	v->r = r;
	snprintf(v->id, sizeof(v->id), "%s", id);
	v->voted = voted;
	v->req = *req;
	v->votes = *votes;
	memset(req, 0, sizeof(*req));
	memset(votes, 0, sizeof(*votes));
	v->res = res;
	/* Alone (not in a group): its own steps 2 to 4, now. */
	if (c == &one)
		finish(r->app, c);
}

/* Step 1 for the parked votes, then the rest; their answers are in each p->res. */
static void
serve(ad_app *app, ad_parked *first)
{
	struct ad_casting c = { 0 };
	bg_error err;
	size_t n = 0;

	pthread_mutex_lock(&app->lock);
	if (ad_store_group_begin(app->store, &err) != BG_OK) {
		ad_log(LOG_ERR, "vote: %s", err.msg);
		for (ad_parked *p = first; p != NULL; p = p->next)
			ad_response_error(&p->res, MHD_HTTP_INTERNAL_SERVER_ERROR, "database error");
		pthread_mutex_unlock(&app->lock);
		return;
	}
	app->casting = &c;
	for (ad_parked *p = first; p != NULL; p = p->next, n++) {
		p->req.now_ms = ad_now_ms();
		ad_approver_vote(&p->req, p->id, p->approve, &p->res);
	}
	app->casting = NULL;
	if (ad_store_group_commit(app->store, &err) != BG_OK) {
		/* Nothing of the group is kept: not its votes, nor its refusals' state. */
		ad_log(LOG_ERR, "vote: %zu votes not recorded: %s", n, err.msg);
		for (ad_parked *p = first; p != NULL; p = p->next)
			ad_response_error(&p->res, MHD_HTTP_INTERNAL_SERVER_ERROR,
			    "cannot record the vote");
		casting_clear(&c);
	} else if (c.n > 0) {
		finish(app, &c);
	}
	pthread_mutex_unlock(&app->lock);
}

/* Whether a vote from first up to (not including) q is on q's request. */
static bool
in_group(const ad_parked *first, const ad_parked *q)
{
	for (const ad_parked *p = first; p != q; p = p->next)
		if (strcmp(p->id, q->id) == 0)
			return true;
	return false;
}

static void *
run(void *arg)
{
	ad_group *g = arg;

	for (;;) {
		ad_parked *first, *p, *next;
		size_t n = 1;

		pthread_mutex_lock(&g->lock);
		while (g->queue == NULL && !g->stopping)
			pthread_cond_wait(&g->cond, &g->lock);
		if ((first = g->queue) == NULL) {
			pthread_mutex_unlock(&g->lock);
			return NULL;
		}
		/*
		 * Every vote waiting now, up to a group, and up to a second vote
		 * on one request: within a group no vote sees another's, whose
		 * record is not written yet, so none can decide on it.
		 */
		for (p = first; p->next != NULL && n < AD_GROUP_MAX &&
		    !in_group(first, p->next); p = p->next)
			n++;
		g->queue = p->next;
		if (g->queue == NULL)
			g->tail = &g->queue;
		p->next = NULL;
		pthread_mutex_unlock(&g->lock);
		serve(g->app, first);
		/* A resumed connection may be gone at once: nothing of it is read after. */
		for (p = first; p != NULL; p = next) {
			next = p->next;
			g->resume(p);
		}
	}
}

bg_status
ad_group_start(ad_app *app, void (*resume)(ad_parked *p), ad_group **out, bg_error *err)
{
	ad_group *g = calloc(1, sizeof(*g));

	if (g == NULL)
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	g->app = app;
	g->resume = resume;
	g->tail = &g->queue;
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->cond, NULL);
	if (pthread_create(&g->thread, NULL, run, g) != 0) {
		pthread_cond_destroy(&g->cond);
		pthread_mutex_destroy(&g->lock);
		free(g);
		return bg_error_set(err, BG_ERR_IO, "cannot start the vote thread");
	}
	*out = g;
	return BG_OK;
}

bool
ad_group_park(ad_group *g, ad_parked *p)
{
	bool open;

	p->next = NULL;
	pthread_mutex_lock(&g->lock);
	/* Once stopping, the thread may be gone: nothing queued would be served. */
	if ((open = !g->stopping)) {
		*g->tail = p;
		g->tail = &p->next;
		pthread_cond_signal(&g->cond);
	}
	pthread_mutex_unlock(&g->lock);
	return open;
}

void
ad_group_stop(ad_group *g)
{
	if (g == NULL)
		return;
	pthread_mutex_lock(&g->lock);
	g->stopping = true;
	pthread_cond_signal(&g->cond);
	pthread_mutex_unlock(&g->lock);
	pthread_join(g->thread, NULL);
}

void
ad_group_free(ad_group *g)
{
	if (g == NULL)
		return;
	pthread_cond_destroy(&g->cond);
	pthread_mutex_destroy(&g->lock);
	free(g);
}
