/*
 * What the PostgreSQL backend's files share (store_pg.c, store_pg_listen.c,
 * store_pg_pipeline.c).
 */
#ifndef AD_STORE_PG_H
#define AD_STORE_PG_H

#include <libpq-fe.h>

#include "approvald.h"

/* Decisions are announced on this channel with the request id as payload. */
#define AD_PG_CHANNEL "breakglass_decided"

/* Connects with cfg's URL and, when set, the password from database_password_file. */
bg_status ad_pg_connect(const ad_config_server *cfg, PGconn **out, bg_error *err);
/* Sets err from res's (or conn's) message, printable; clears res. */
bg_status ad_pg_error(PGconn *conn, PGresult *res, bg_error *err, const char *what);

/* Statements sent ahead (store_pg_pipeline.c): at most this many unanswered. */
#define AD_PG_PIPELINE_MAX 16

/* A statement to send: prepared (name), or utility SQL without parameters. */
typedef struct {
	const char *name;
	const char *sql;
	int n;
	const char *const *values;
	const int *lengths;
	const int *formats;
	const char *what;                    /* named in its error */
	bool boundary;                       /* a savepoint's start or end */
} ad_pg_stmt;

typedef struct {
	const char *what;
	PGresult **keep;                     /* its rows, kept for the sender; NULL: only checked */
	bool boundary;
} ad_pg_sent;

typedef struct {
	PGconn *conn;
	ad_pg_sent sent[AD_PG_PIPELINE_MAX];
	int n;                               /* sent, not yet answered */
	/* Answers lost track of: nothing more is sent until the connection is reset. */
	bool broken;
	/* A savepoint's start or end failed: its group must not commit (store.c). */
	bool boundary_failed;
} ad_pg_pipeline;

/*
 * Sends s in pipeline mode without reading its answer; *keep (when not
 * NULL) gets its rows at the next ad_pg_collect, NULL until then.
 */
bg_status ad_pg_send(ad_pg_pipeline *pl, const ad_pg_stmt *s, PGresult **keep,
    bg_error *err);
/*
 * Reads the answers of every statement sent, in one round trip, and
 * leaves pipeline mode: the first failure's error, and then no rows kept.
 */
bg_status ad_pg_collect(ad_pg_pipeline *pl, bg_error *err);

#endif
