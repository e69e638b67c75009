/*
 * The HTTP server: libmicrohttpd with one internal epoll thread.  Every
 * request is read whole (at most 64 KiB), routed, and answered under the
 * application lock.  A long poll suspends its connection instead of holding
 * a thread, and is resumed when its request is decided or its wait ends, so
 * ten thousand waiting hosts cost ten thousand sockets and a few KiB each.
 *
 * Slow clients: every request must arrive whole (headers and body) within
 * request_timeout of the connection's start or of the previous answer,
 * however often it sends a byte (MHD's own timeout measures idleness only);
 * a client address holds at most max_connections_per_ip connections; and
 * held polls stop at max_polls and at three quarters of the connection
 * ceiling, so a vote always finds a connection.
 */
#include "build_config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <syslog.h>

#include <microhttpd.h>

#include "approvald.h"
#include "fileio.h"
#include "http.h"

/* At most this many connections, and never more than the descriptors allow. */
#define CONNECTION_MAX 16128
/* Descriptors kept for the database, journal, state files and notifications. */
#define FD_RESERVE 256
/*
 * Per-connection buffer for the request line, headers and answer headers;
 * bodies are copied out as they arrive.  MHD's 32 KiB default made a held
 * poll cost about 7 KiB of RSS.
 */
#define CONNECTION_MEMORY (8 * 1024)
/* Longer than the longest wait, so an idle host connection is not cut mid-poll. */
#define CONNECTION_TIMEOUT_S 60
#define TLS_FILE_MAX (64 * 1024)
/*
 * TLS 1.2 and 1.3 only, forward-secret key exchange and AEAD ciphers only
 * (no CBC, no SHA-1 MAC), the server's order first (GnuTLS syntax).
 */
#define TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:" \
	"-CIPHER-ALL:+CHACHA20-POLY1305:+AES-256-GCM:+AES-128-GCM:-MAC-ALL:+AEAD:" \
	"-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:%SERVER_PRECEDENCE"
/* Browsers that met the service over TLS never try it in clear for a year. */
#define HSTS_VALUE "max-age=31536000"
#define REQUEST_ID_MAX AD_REQUEST_ID_MAX
/* Held polls may take this share of the connection ceiling, the rest is for votes. */
#define POLL_SHARE_NUM 3
#define POLL_SHARE_DEN 4
/* A poll refused for want of room is asked to come back after this long. */
#define POLL_RETRY_S 5

/* A suspended long poll, linked in app->waiters and in its request id's bucket. */
struct ad_waiter {
	struct ad_waiter *prev, *next;
	struct ad_waiter *bprev, *bnext;
	struct MHD_Connection *conn;
	char request_id[REQUEST_ID_MAX];
	int64_t deadline_ms;
};

/* Per-request state, from the request line to the completion callback. */
struct ad_conn {
	ad_app *app;
	ad_http *http;
	char *target;            /* as sent */
	bool started;
	bg_buf body;
	bool too_big;
	/*
	 * waiter is in app->waiters: set by this connection's thread (the HTTP
	 * thread) alone, cleared by whoever wakes it, always under app->lock.
	 */
	atomic_bool linked;
	bool resumed;            /* the poll was woken: answer it */
	int64_t woken_ms;        /* when: its answer is issued as of then */
	struct ad_waiter waiter;
	char *path;              /* target up to '?', kept while a vote is parked */
	bool parked;             /* a vote given to the group thread */
	bool served;             /* and answered in parked.res: send it */
	ad_parked parked_vote;
};

/* A connection's clock for the total deadline (http.c's socket context). */
struct ad_track {
	struct ad_track *prev, *next;
	int fd;
	unsigned long long since_ms; /* start of the request being received */
	bool busy;                   /* the request arrived whole: answered or held */
	bool cut;                    /* shut down for its deadline */
};

struct ad_http {
	ad_app *app;
	struct MHD_Daemon *daemon;
	ad_group *group;             /* serves the votes, in groups */
	char *cert;
	char *key;
	size_t key_len;
	pthread_mutex_t track_lock;  /* guards tracks and every ad_track */
	struct ad_track *tracks;
	unsigned long long timeout_ms;
};

/* ------------------------------------------------------------------ */
/* Waiters (called with app->lock held). */

/* A decision wakes the polls of its request alone: found by id, not by a walk of all. */
static struct ad_waiter **
bucket(ad_app *app, const char *request_id)
{
	uint32_t h = 2166136261u;  /* FNV-1a */

	for (const unsigned char *p = (const unsigned char *)request_id; *p != '\0'; p++)
		h = (h ^ *p) * 16777619u;
	return &app->waiting_on[h % AD_WAIT_BUCKETS];
}

static void
waiter_unlink(ad_app *app, struct ad_conn *cc)
{
	struct ad_waiter *w = &cc->waiter;

	if (!cc->linked)
		return;
	if (w->prev != NULL)
		w->prev->next = w->next;
	else
		app->waiters = w->next;
	if (w->next != NULL)
		w->next->prev = w->prev;
	if (w->bprev != NULL)
		w->bprev->bnext = w->bnext;
	else
		*bucket(app, w->request_id) = w->bnext;
	if (w->bnext != NULL)
		w->bnext->bprev = w->bprev;
	w->prev = w->next = w->bprev = w->bnext = NULL;
	cc->linked = false;
	app->nwaiters--;
}

/* Whether one more long poll may be held (max_polls, and room left for votes). */
static bool
wait_room(const ad_http_req *r)
{
	const ad_app *app = r->app;

	return app->nwaiters < app->cfg->server.max_polls &&
	    app->nwaiters < app->poll_ceiling;
}

void
ad_response_busy(ad_response *res, unsigned status, const char *msg, unsigned retry_s)
{
	ad_response_error(res, status, msg);
	res->retry_after_s = retry_s;
}

bool
ad_wait_refused(ad_http_req *r, ad_response *res)
{
	const char *wait = ad_http_query(r, "wait");

	if (wait == NULL || strcmp(wait, "0") == 0 || wait_room(r))
		return false;
	ad_log(LOG_WARNING, "poll refused from %s: %zu polls held", r->source,
	    r->app->nwaiters);
	ad_response_busy(res, MHD_HTTP_SERVICE_UNAVAILABLE, "too many waiting polls",
	    POLL_RETRY_S);
	return true;
}

bg_status
ad_wait_begin(ad_http_req *r, const char *request_id, int64_t deadline_ms)
{
	struct ad_conn *cc = r->cc;
	struct ad_waiter *w = &cc->waiter;
	ad_app *app = r->app;

	if (strlen(request_id) >= sizeof(w->request_id))
		return BG_ERR_INVALID;
	memcpy(w->request_id, request_id, strlen(request_id) + 1);
	w->conn = r->conn;
	w->deadline_ms = deadline_ms;
	w->prev = NULL;
	w->next = app->waiters;
	if (app->waiters != NULL)
		app->waiters->prev = w;
	app->waiters = w;
	w->bprev = NULL;
	w->bnext = *bucket(app, request_id);
	if (w->bnext != NULL)
		w->bnext->bprev = w;
	*bucket(app, request_id) = w;
	app->nwaiters++;
	cc->linked = true;
	MHD_suspend_connection(r->conn);
	return BG_OK;
}

void
ad_waiters_wake(ad_app *app, const char *request_id, int64_t now_ms)
{
	struct ad_waiter *w = request_id != NULL ? *bucket(app, request_id) : app->waiters, *next;

	for (; w != NULL; w = next) {
		/* The waiter is embedded in its connection state. */
		struct ad_conn *cc = (struct ad_conn *)(void *)((char *)w -
		    offsetof(struct ad_conn, waiter));

		next = request_id != NULL ? w->bnext : w->next;
		if (request_id != NULL ? strcmp(w->request_id, request_id) != 0 :
		    !app->stopping && w->deadline_ms > now_ms)
			continue;
		waiter_unlink(app, cc);
		cc->resumed = true;
		cc->woken_ms = now_ms;
		MHD_resume_connection(w->conn);
	}
}

/* ------------------------------------------------------------------ */
/* Request helpers. */

const char *
ad_http_header(const ad_http_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *
ad_http_query(const ad_http_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

void
ad_response_json(ad_response *res, unsigned status, json_object *obj)
{
	const char *text = obj != NULL ? json_object_to_json_string_ext(obj,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE) : NULL;

	res->status = status;
	res->content_type = "application/json";
	bg_buf_free(&res->body);
	bg_buf_init(&res->body, 0);
	if (text == NULL || !bg_buf_puts(&res->body, text)) {
		res->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		bg_buf_free(&res->body);
		bg_buf_puts(&res->body, "{\"error\":\"internal error\"}");
	}
}

void
ad_response_error(ad_response *res, unsigned status, const char *msg)
{
	json_object *obj = json_object_new_object();

	if (obj != NULL)
		json_object_object_add(obj, "error", json_object_new_string(msg));
	ad_response_json(res, status, obj);
	res->status = status;
	json_object_put(obj);
}

static void
peer_address(struct MHD_Connection *conn, char *out, size_t outsz)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn,
	    MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci != NULL ? ci->client_addr : NULL;

	snprintf(out, outsz, "%s", "unknown");
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
		    out, (socklen_t)outsz);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6,
		    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
		    out, (socklen_t)outsz);
}

/* ------------------------------------------------------------------ */
/* Routing. */

#define V1_REQUESTS "/v1/requests"
#define V1_RECOVERIES "/v1/recoveries"
#define V1_WEBAUTHN_BEGIN "/v1/webauthn/register/begin"
#define V1_WEBAUTHN_FINISH "/v1/webauthn/register/finish"
#define V1_WEBAUTHN_CHALLENGE "/v1/webauthn/challenge"
#define V1_SESSION "/v1/session"
#define V1_BATCH "/v1/batch"
#define V1_SLACK "/v1/integrations/slack"
#define V1_LINKS "/v1/links/"

/* "/v1/requests/{id}" + suffix ("" or "/approve"...): copies id out. */
static bool
match_request_path(const char *path, const char *suffix, char *id, size_t idsz)
{
	const char *p = path + strlen(V1_REQUESTS "/");
	size_t n;

	if (strncmp(path, V1_REQUESTS "/", strlen(V1_REQUESTS "/")) != 0)
		return false;
	n = strcspn(p, "/");
	if (n == 0 || n >= idsz || strcmp(p + n, suffix) != 0)
		return false;
	memcpy(id, p, n);
	id[n] = '\0';
	return true;
}

/* Fills res; returns true when the request was suspended instead. */
static bool
route(ad_http_req *r, ad_response *res)
{
	bool get = strcmp(r->method, MHD_HTTP_METHOD_GET) == 0;
	bool post = strcmp(r->method, MHD_HTTP_METHOD_POST) == 0;
	char id[REQUEST_ID_MAX];
	const char *p = r->path;

	if (strcmp(p, "/") == 0 && get)
		ad_page(r, res);
	else if (strcmp(p, "/healthz") == 0 && get)
		ad_healthz(r, res);
	else if (strcmp(p, V1_REQUESTS) == 0 && post)
		ad_host_create(r, res);
	else if (strcmp(p, V1_REQUESTS) == 0 && get)
		ad_approver_list(r, res);
	else if (strcmp(p, V1_RECOVERIES) == 0 && post)
		ad_host_recovery(r, res);
	else if (match_request_path(p, "", id, sizeof(id)) && get)
		return ad_host_poll(r, id, res);
	else if (match_request_path(p, "/approve", id, sizeof(id)) && post)
		ad_approver_vote(r, id, true, res);
	else if (match_request_path(p, "/deny", id, sizeof(id)) && post)
		ad_approver_vote(r, id, false, res);
	else if (strcmp(p, V1_WEBAUTHN_BEGIN) == 0 && post)
		ad_passkey_register_begin(r, res);
	else if (strcmp(p, V1_WEBAUTHN_FINISH) == 0 && post)
		ad_passkey_register_finish(r, res);
	else if (strcmp(p, V1_WEBAUTHN_CHALLENGE) == 0 && post)
		ad_passkey_challenge(r, res);
	else if (strcmp(p, "/passkeys") == 0 && get)
		ad_passkey_page(r, res);
	else if (strcmp(p, V1_SESSION) == 0 && post)
		ad_session_signin(r, res);
	else if (strcmp(p, V1_SESSION) == 0 && get)
		ad_session_show(r, res);
	else if (strcmp(p, V1_SESSION) == 0 &&
	    strcmp(r->method, MHD_HTTP_METHOD_DELETE) == 0)
		ad_session_signout(r, res);
	else if (strcmp(p, V1_BATCH) == 0 && post)
		ad_batch_vote(r, res);
	else if (strcmp(p, V1_SLACK) == 0 && post)
		ad_slack_interaction(r, res);
	else if (strncmp(p, V1_LINKS, strlen(V1_LINKS)) == 0 && get)
		ad_link_open(r, p + strlen(V1_LINKS), res);
	else if (strcmp(p, V1_SLACK) == 0 || strncmp(p, V1_LINKS, strlen(V1_LINKS)) == 0)
		ad_response_error(res, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");
	else if (strcmp(p, "/") == 0 || strcmp(p, "/healthz") == 0 ||
	    strcmp(p, V1_SESSION) == 0 || strcmp(p, V1_BATCH) == 0 ||
	    strcmp(p, V1_REQUESTS) == 0 || strcmp(p, V1_RECOVERIES) == 0 ||
	    match_request_path(p, "", id, sizeof(id)) ||
	    match_request_path(p, "/approve", id, sizeof(id)) ||
	    match_request_path(p, "/deny", id, sizeof(id)) ||
	    strcmp(p, V1_WEBAUTHN_BEGIN) == 0 || strcmp(p, V1_WEBAUTHN_FINISH) == 0 ||
	    strcmp(p, V1_WEBAUTHN_CHALLENGE) == 0 || strcmp(p, "/passkeys") == 0)
		ad_response_error(res, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");
	else
		ad_response_error(res, MHD_HTTP_NOT_FOUND, "not found");
	return false;
}

static enum MHD_Result
send_response(struct MHD_Connection *conn, ad_response *res)
{
	struct MHD_Response *mr;
	enum MHD_Result ret;
	char *hdr = NULL;

	mr = MHD_create_response_from_buffer(res->body.len,
	    res->body.data != NULL ? res->body.data : (char *)"", MHD_RESPMEM_MUST_COPY);
	if (mr == NULL)
		return MHD_NO;
	MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE,
	    res->content_type != NULL ? res->content_type : "application/json");
	MHD_add_response_header(mr, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(mr, "X-Content-Type-Options", "nosniff");
	if (MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION) != NULL)
		MHD_add_response_header(mr, "Strict-Transport-Security", HSTS_VALUE);
	if (res->decision_sig != NULL &&
	    asprintf(&hdr, "ed25519=%s", res->decision_sig) > 0)
		MHD_add_response_header(mr, "X-Breakglass-Decision-Signature", hdr);
	if (res->location != NULL)
		MHD_add_response_header(mr, MHD_HTTP_HEADER_LOCATION, res->location);
	if (res->retry_after_s > 0) {
		char secs[16];

		snprintf(secs, sizeof(secs), "%u", res->retry_after_s);
		MHD_add_response_header(mr, MHD_HTTP_HEADER_RETRY_AFTER, secs);
	}
	if (res->set_cookie != NULL)
		MHD_add_response_header(mr, MHD_HTTP_HEADER_SET_COOKIE, res->set_cookie);
	if (res->html) {
		MHD_add_response_header(mr, "Content-Security-Policy",
		    res->csp != NULL ? res->csp : "default-src 'none'");
		MHD_add_response_header(mr, "X-Frame-Options", "DENY");
		MHD_add_response_header(mr, "Referrer-Policy", "no-referrer");
	}
	ret = MHD_queue_response(conn, res->status, mr);
	MHD_destroy_response(mr);
	free(hdr);
	return ret;
}

void
ad_response_free(ad_response *res)
{
	bg_buf_free(&res->body);
	free(res->decision_sig);
	free(res->csp);
	free(res->set_cookie);
	free(res->location);
}

/* ------------------------------------------------------------------ */
/* The total deadline of a request (MHD thread, and the main thread's sweep). */

static struct ad_track *
track_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn,
	    MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci != NULL ? ci->socket_context : NULL;
}

/* busy: the request arrived whole; !busy: it was answered, the next one's clock starts. */
static void
track_mark(ad_http *h, struct MHD_Connection *conn, bool busy)
{
	struct ad_track *t = track_of(conn);

	if (t == NULL)
		return;
	pthread_mutex_lock(&h->track_lock);
	t->busy = busy;
	t->since_ms = bg_monotonic_ms();
	pthread_mutex_unlock(&h->track_lock);
}

static void
on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
    enum MHD_ConnectionNotificationCode toe)
{
	ad_http *h = cls;
	struct ad_track *t = *socket_context;
	const union MHD_ConnectionInfo *ci;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		/* Untracked, a connection would escape the deadline: refuse it instead. */
		if (ci == NULL || (t = calloc(1, sizeof(*t))) == NULL) {
			if (ci != NULL)
				shutdown(ci->connect_fd, SHUT_RDWR);
			return;
		}
		t->fd = ci->connect_fd;
		t->since_ms = bg_monotonic_ms();
		pthread_mutex_lock(&h->track_lock);
		t->next = h->tracks;
		if (h->tracks != NULL)
			h->tracks->prev = t;
		h->tracks = t;
		pthread_mutex_unlock(&h->track_lock);
		*socket_context = t;
		return;
	}
	if (t == NULL)
		return;
	/* MHD closes the descriptor after this: the sweep never sees a reused one. */
	pthread_mutex_lock(&h->track_lock);
	if (t->prev != NULL)
		t->prev->next = t->next;
	else
		h->tracks = t->next;
	if (t->next != NULL)
		t->next->prev = t->prev;
	pthread_mutex_unlock(&h->track_lock);
	free(t);
	*socket_context = NULL;
}

void
ad_http_sweep(ad_http *h)
{
	unsigned long long now = bg_monotonic_ms();
	size_t cut = 0;

	if (h == NULL)
		return;
	pthread_mutex_lock(&h->track_lock);
	for (struct ad_track *t = h->tracks; t != NULL; t = t->next)
		if (!t->busy && !t->cut && now - t->since_ms >= h->timeout_ms) {
			/* MHD reads end-of-file and closes the connection itself. */
			shutdown(t->fd, SHUT_RDWR);
			t->cut = true;
			cut++;
		}
	pthread_mutex_unlock(&h->track_lock);
	if (cut > 0)
		ad_log(LOG_WARNING, "http: %zu connection(s) closed: request not received "
		    "within %llu s", cut, h->timeout_ms / AD_MS_PER_SECOND);
}

/* The group thread answered a parked vote: send it (on_request, then dispatch). */
static void
parked_served(ad_parked *p)
{
	struct ad_conn *cc = (struct ad_conn *)(void *)((char *)p -
	    offsetof(struct ad_conn, parked_vote));

	cc->served = true;
	MHD_resume_connection(cc->parked_vote.req.conn);
}

/*
 * A vote (POST /v1/requests/{id}/approve or /deny) goes to the group
 * thread, its connection suspended until its group is durable: the HTTP
 * thread meanwhile reads the next votes, which join the next group.
 */
static bool
park_vote(struct ad_conn *cc, const ad_http_req *r)
{
	ad_parked *p = &cc->parked_vote;

	if (cc->http->group == NULL || strcmp(r->method, MHD_HTTP_METHOD_POST) != 0)
		return false;
	if (match_request_path(r->path, "/approve", p->id, sizeof(p->id)))
		p->approve = true;
	else if (match_request_path(r->path, "/deny", p->id, sizeof(p->id)))
		p->approve = false;
	else
		return false;
	p->req = *r;
	p->res = (ad_response){ .status = MHD_HTTP_INTERNAL_SERVER_ERROR };
	bg_buf_init(&p->res.body, 0);
	cc->parked = true;
	/* Suspended before it is queued: the group thread may resume it at once. */
	MHD_suspend_connection(r->conn);
	if (!ad_group_park(cc->http->group, p)) {
		ad_response_error(&p->res, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "the service is stopping");
		parked_served(p);
	}
	return true;
}

/* A resumed poll answered as of its wake with the decision kept for it. */
static bool
kept_answer(const struct ad_conn *cc, ad_http_req *r, ad_response *res)
{
	char id[REQUEST_ID_MAX];

	r->now_ms = cc->woken_ms;
	return !cc->too_big && match_request_path(cc->path, "", id, sizeof(id)) &&
	    ad_host_poll_kept(r, id, res);
}

static enum MHD_Result
dispatch(struct ad_conn *cc, struct MHD_Connection *conn, const char *method)
{
	ad_http_req r = { .app = cc->app, .conn = conn, .method = method,
	    .target = cc->target, .body = cc->body.data != NULL ? cc->body.data : "",
	    .body_len = cc->body.len, .cc = cc };
	ad_response res = { .status = MHD_HTTP_INTERNAL_SERVER_ERROR };
	enum MHD_Result ret;
	bool suspended = false;

	if (cc->served)
		return send_response(conn, &cc->parked_vote.res);
	bg_buf_init(&res.body, 0);
	if (cc->path == NULL && (cc->path = strndup(cc->target, strcspn(cc->target, "?"))) ==
	    NULL)
		return MHD_NO;
	track_mark(cc->http, conn, true);
	r.path = cc->path;
	peer_address(conn, r.source, sizeof(r.source));
	if (!cc->too_big && !cc->resumed && park_vote(cc, &r))
		return MHD_YES;
	/* A woken poll whose decision is kept needs nothing app->lock guards. */
	if (cc->resumed && kept_answer(cc, &r, &res)) {
		ret = send_response(conn, &res);
		ad_response_free(&res);
		return ret;
	}
	pthread_mutex_lock(&cc->app->lock);
	/*
	 * A woken poll is answered as of its wake, so the polls a decision
	 * woke get the deciding vote's document and its one signature.
	 */
	r.now_ms = cc->resumed ? cc->woken_ms : ad_now_ms();
	if (cc->too_big)
		ad_response_error(&res, MHD_HTTP_CONTENT_TOO_LARGE, "body over 64 KiB");
	else if (cc->resumed) {
		char id[REQUEST_ID_MAX];

		if (match_request_path(cc->path, "", id, sizeof(id)))
			ad_host_poll_answer(&r, id, &res);
	} else
		suspended = route(&r, &res);
	pthread_mutex_unlock(&cc->app->lock);
	ret = suspended ? MHD_YES : send_response(conn, &res);
	ad_response_free(&res);
	return ret;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_size, void **con_cls)
{
	struct ad_conn *cc = *con_cls;

	if (cc == NULL)
		return MHD_NO;
	if (!cc->started) {
		/* Headers only: the body, if any, follows. */
		cc->started = true;
		return MHD_YES;
	}
	if (*upload_size > 0) {
		/* Over the cap: keep reading, to answer 413, but keep nothing. */
		if (!cc->too_big && !bg_buf_append(&cc->body, upload_data, *upload_size)) {
			cc->too_big = true;
			bg_buf_free(&cc->body);
		}
		*upload_size = 0;
		return MHD_YES;
	}
	return dispatch(cc, conn, method);
}

static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct ad_conn *cc = calloc(1, sizeof(*cc));
	ad_http *h = cls;

	if (cc == NULL)
		return NULL;
	cc->http = h;
	cc->app = h->app;
	bg_buf_init(&cc->body, AD_BODY_MAX);
	cc->target = strdup(uri);
	if (cc->target == NULL) {
		free(cc);
		return NULL;
	}
	return cc;
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct ad_conn *cc = *con_cls;
	ad_http *h = cls;
	ad_app *app = h->app;

	/* Answered: the next request on this connection has its own deadline. */
	track_mark(h, conn, false);
	if (cc == NULL)
		return;
	/* Not linked, it cannot become so (only this thread links): no lock to wait for. */
	if (cc->linked) {
		pthread_mutex_lock(&app->lock);
		waiter_unlink(app, cc);
		pthread_mutex_unlock(&app->lock);
	}
	bg_buf_free(&cc->body);
	if (cc->parked)
		ad_response_free(&cc->parked_vote.res);
	free(cc->path);
	free(cc->target);
	free(cc);
	*con_cls = NULL;
}

static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[BG_ERROR_MAX];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	ad_log(LOG_WARNING, "http: %s", msg);
}

/* ------------------------------------------------------------------ */

/* Accepting past the descriptor limit would fail on accept() instead. */
static unsigned int
connection_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 1024 - FD_RESERVE;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < CONNECTION_MAX + FD_RESERVE)
		return rl.rlim_cur > 2 * FD_RESERVE ? (unsigned int)(rl.rlim_cur - FD_RESERVE) :
		    (unsigned int)(rl.rlim_cur / 2);
	return CONNECTION_MAX;
}

static bg_status
load_tls(ad_http *h, const ad_config *cfg, bg_error *err)
{
	size_t len;
	bg_status rc;

	rc = bg_file_read(cfg->server.tls_cert, BG_FILE_CONFIG, TLS_FILE_MAX, &h->cert,
	    &len, err);
	if (rc != BG_OK)
		return rc;
	return bg_file_read(cfg->server.tls_key, BG_FILE_SECRET, TLS_FILE_MAX, &h->key,
	    &h->key_len, err);
}

bg_status
ad_http_start(ad_app *app, ad_http **out, bg_error *err)
{
	const ad_config *cfg = app->cfg;
	unsigned int flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME |
	    MHD_USE_ERROR_LOG;
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6 };
	struct sockaddr_in s4 = { .sin_family = AF_INET };
	struct sockaddr *sa;
	ad_http *h = calloc(1, sizeof(*h));
	unsigned int ceiling;
	bg_status rc;

	if (h == NULL)
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	h->app = app;
	h->timeout_ms = (unsigned long long)cfg->server.request_timeout * AD_MS_PER_SECOND;
	pthread_mutex_init(&h->track_lock, NULL);
	ceiling = connection_limit();
	app->poll_ceiling = ceiling / POLL_SHARE_DEN * POLL_SHARE_NUM;
	if (cfg->listen_v6) {
		inet_pton(AF_INET6, cfg->listen_host, &s6.sin6_addr);
		s6.sin6_port = htons((uint16_t)cfg->listen_port);
		sa = (struct sockaddr *)&s6;
		flags |= MHD_USE_IPv6;
	} else {
		inet_pton(AF_INET, cfg->listen_host, &s4.sin_addr);
		s4.sin_port = htons((uint16_t)cfg->listen_port);
		sa = (struct sockaddr *)&s4;
	}
	if (cfg->server.tls_cert != NULL) {
		if ((rc = load_tls(h, cfg, err)) != BG_OK) {
			ad_http_stop(h);
			return rc;
		}
		flags |= MHD_USE_TLS;
	}
	/* The logger first, so that MHD reports the other options' problems through it. */
	h->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, app,
	    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
	    MHD_OPTION_SOCK_ADDR, sa,
	    MHD_OPTION_URI_LOG_CALLBACK, on_uri, h,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
	    MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
	    MHD_OPTION_CONNECTION_LIMIT, ceiling,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	    (unsigned int)cfg->server.max_connections_per_ip,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)CONNECTION_TIMEOUT_S,
	    h->cert != NULL ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, h->cert,
	    MHD_OPTION_HTTPS_MEM_KEY, h->key,
	    MHD_OPTION_HTTPS_PRIORITIES, TLS_PRIORITIES,
	    MHD_OPTION_END);
	if (h->daemon == NULL) {
		ad_http_stop(h);
		return bg_error_set(err, BG_ERR_IO, "cannot listen on %s",
		    cfg->server.listen);
	}
	if ((rc = ad_group_start(app, parked_served, &h->group, err)) != BG_OK) {
		ad_http_stop(h);
		return rc;
	}
	*out = h;
	return BG_OK;
}

void
ad_http_stop(ad_http *h)
{
	if (h == NULL)
		return;
	/*
	 * The votes parked are served (and their connections resumed) first;
	 * one that comes meanwhile is refused, so the group outlives the server.
	 */
	ad_group_stop(h->group);
	if (h->daemon != NULL)
		MHD_stop_daemon(h->daemon);
	ad_group_free(h->group);
	pthread_mutex_destroy(&h->track_lock);
	free(h->cert);
	if (h->key != NULL)
		bg_file_free_secret(h->key, h->key_len);
	free(h);
}
