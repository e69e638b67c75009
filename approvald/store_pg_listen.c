/*
 * Wake-ups across instances: a thread with its own PostgreSQL connection
 * LISTENs on AD_PG_CHANNEL, where every decision is announced at its
 * commit (ad_store_request_set_status), and resumes this instance's polls waiting on
 * that request, which then read the decision from the database.  A lost
 * connection is re-made every second; a decision announced meanwhile is
 * not heard, and the polls waiting on it are answered at their deadline
 * (at most 30 s), when the host polls again and reads it.
 */
#include "build_config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "store_backend.h"
#include "store_pg.h"

#define RECONNECT_MS 1000

struct ad_listener {
	pthread_t thread;
	ad_app *app;
	/* Copies: a reload frees the configuration this was started with. */
	ad_config_server cfg;
	int stop_pipe[2];
	PGconn *conn;
};

static bg_status
listen_connect(ad_listener *l, bg_error *err)
{
	PGresult *r;
	bg_status rc;

	if ((rc = ad_pg_connect(&l->cfg, &l->conn, err)) != BG_OK)
		return rc;
	r = PQexec(l->conn, "LISTEN " AD_PG_CHANNEL);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		rc = ad_pg_error(l->conn, r, err, "listen");
		PQfinish(l->conn);
		l->conn = NULL;
		return rc;
	}
	PQclear(r);
	return BG_OK;
}

/* Waits for the connection or the stop pipe; false when stopping. */
static bool
wait_input(ad_listener *l, int timeout_ms)
{
	struct pollfd fds[2] = {
		{ .fd = l->conn != NULL ? PQsocket(l->conn) : -1, .events = POLLIN },
		{ .fd = l->stop_pipe[0], .events = POLLIN },
	};

	while (poll(fds, 2, timeout_ms) < 0 && errno == EINTR)
		;
	return fds[1].revents == 0;
}

static void
wake(ad_listener *l)
{
	PGnotify *n;

	while ((n = PQnotifies(l->conn)) != NULL) {
		pthread_mutex_lock(&l->app->lock);
		ad_waiters_wake(l->app, n->extra, ad_now_ms());
		pthread_mutex_unlock(&l->app->lock);
		PQfreemem(n);
	}
}

static void *
run(void *arg)
{
	ad_listener *l = arg;
	bg_error err;

	for (;;) {
		if (l->conn == NULL && listen_connect(l, &err) != BG_OK) {
			ad_log(LOG_ERR, "listen: %s", err.msg);
			if (!wait_input(l, RECONNECT_MS))
				break;
			continue;
		}
		if (!wait_input(l, -1))
			break;
		if (PQconsumeInput(l->conn) == 0) {
			ad_pg_error(l->conn, NULL, &err, "listen");
			ad_log(LOG_ERR, "%s; reconnecting", err.msg);
			PQfinish(l->conn);
			l->conn = NULL;
			continue;
		}
		wake(l);
	}
	return NULL;
}

static void
listener_free(ad_listener *l)
{
	PQfinish(l->conn);
	ad_store_config_free(&l->cfg);
	if (l->stop_pipe[0] >= 0)
		close(l->stop_pipe[0]);
	if (l->stop_pipe[1] >= 0)
		close(l->stop_pipe[1]);
	free(l);
}

bg_status
ad_pg_listener_start(ad_app *app, ad_listener **out, bg_error *err)
{
	const ad_config_server *s = &app->cfg->server;
	ad_listener *l = calloc(1, sizeof(*l));
	bg_status rc;

	if (l == NULL)
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	l->app = app;
	l->stop_pipe[0] = l->stop_pipe[1] = -1;
	if ((rc = ad_store_config_copy(s, &l->cfg, err)) != BG_OK) {
		listener_free(l);
		return rc;
	}
	if (pipe2(l->stop_pipe, O_CLOEXEC) != 0) {
		rc = bg_error_errno(err, BG_ERR_IO, errno, "pipe");
		listener_free(l);
		return rc;
	}
	/* Listening before the service answers: no decision after start is missed. */
	if ((rc = listen_connect(l, err)) != BG_OK) {
		listener_free(l);
		return rc;
	}
	if ((errno = pthread_create(&l->thread, NULL, run, l)) != 0) {
		rc = bg_error_errno(err, BG_ERR_IO, errno, "listener thread");
		listener_free(l);
		return rc;
	}
	*out = l;
	return BG_OK;
}

void
ad_pg_listener_stop(ad_listener *l)
{
	if (l == NULL)
		return;
	(void)!write(l->stop_pipe[1], "", 1);
	pthread_join(l->thread, NULL);
	listener_free(l);
}
