/*
 * The PostgreSQL backend (libpq), for several instances on one database.
 * Whatever decides is a row, a constraint or a row lock, never process
 * memory: a request's deciding transaction holds its row (FOR UPDATE), so
 * two votes on two instances cannot both miss the quorum; unique keys make
 * the replay cache, a vote per approver and a request id hold across
 * instances (INSERT ... ON CONFLICT DO NOTHING: the loser sees no row, not
 * an aborted transaction); a decision is announced with pg_notify by the
 * statement recording it, delivered at commit (store_pg_listen.c); a
 * notification is claimed with FOR UPDATE SKIP LOCKED and a lease, so one
 * instance sends it.
 *
 * Round trips are the cost of a vote here (each a statement the server
 * runs on the cores the service shares): what a transaction needs no
 * answer to is sent ahead and answered with its next statement
 * (store_pg_pipeline.c), and a request is read with its votes in one.
 *
 * The password never comes from the URL: database_password_file, a secret
 * file, is read at connect time, passed as a libpq keyword and zeroed.
 */
#include "build_config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "escape.h"
#include "fileio.h"
#include "ini.h"
#include "store_backend.h"
#include "store_pg.h"

#define PASSWORD_FILE_MAX 1024
#define INT_TEXT_LEN 24
#define PARAMS_MAX 8
/* pg_advisory_xact_lock key serialising schema migrations: "bgschema". */
#define MIGRATE_LOCK_KEY "7450423371383106917"
/* A claimed notification is another instance's again after this long. */
#define NOTIFY_LEASE_MS 120000LL
#define RECOVERIES_SHOWN 50
#define STR(x) #x
#define XSTR(x) STR(x)

/*
 * schema_version holds one row; migrations[v] takes version v to v + 1
 * (0: an empty database).  A database newer than SCHEMA_VERSION is refused.
 */
#define SCHEMA_VERSION 7
static const char *const migrations[SCHEMA_VERSION] = {
	"CREATE TABLE requests ("
	" id TEXT PRIMARY KEY, host TEXT NOT NULL, operator TEXT NOT NULL,"
	" status TEXT NOT NULL, body BYTEA NOT NULL, received_ms BIGINT NOT NULL,"
	" expires_ms BIGINT NOT NULL, decided_ms BIGINT);"
	"CREATE INDEX requests_status ON requests(status, expires_ms);"
	"CREATE TABLE votes ("
	" seq BIGSERIAL PRIMARY KEY,"
	" request_id TEXT NOT NULL REFERENCES requests(id), approver TEXT NOT NULL,"
	" approve BOOLEAN NOT NULL, at_ms BIGINT NOT NULL, comment TEXT NOT NULL,"
	" UNIQUE(request_id, approver));"
	"CREATE TABLE seen ("
	" host TEXT NOT NULL, sig TEXT NOT NULL, at_ms BIGINT NOT NULL,"
	" PRIMARY KEY(host, sig));"
	"CREATE INDEX seen_at ON seen(at_ms);"
	"CREATE TABLE notifications ("
	" id BIGSERIAL PRIMARY KEY, target TEXT NOT NULL, url TEXT NOT NULL,"
	" format INTEGER NOT NULL, secret TEXT, msg_id TEXT NOT NULL, body TEXT NOT NULL,"
	" attempts INTEGER NOT NULL DEFAULT 0, next_ms BIGINT NOT NULL);"
	"CREATE INDEX notifications_next ON notifications(next_ms, id);"
	"CREATE TABLE recoveries ("
	" host TEXT NOT NULL, id TEXT NOT NULL, operator TEXT NOT NULL,"
	" body BYTEA NOT NULL, received_ms BIGINT NOT NULL, PRIMARY KEY(host, id));",
	/* 2: approvers' TOTP replay and lockout state. */
	"CREATE TABLE approver_totp ("
	" approver TEXT PRIMARY KEY, last_step BIGINT NOT NULL,"
	" failures TEXT NOT NULL, locked_until BIGINT NOT NULL);",
	/*
	 * 3: the health probe's row (a real write), and the indexes of the
	 * retention purge, the per-host pending count and per-target delivery.
	 */
	"CREATE TABLE health (id INTEGER PRIMARY KEY, at_ms BIGINT NOT NULL);"
	"INSERT INTO health (id, at_ms) VALUES (1, 0);"
	"CREATE INDEX requests_decided ON requests(decided_ms);"
	"CREATE INDEX requests_host ON requests(host, status);"
	"DROP INDEX notifications_next;"
	"CREATE INDEX notifications_target ON notifications(target, next_ms);",
	/* 4: approvers' sessions, by the SHA-256 of their cookie. */
	"CREATE TABLE sessions ("
	" id TEXT PRIMARY KEY, approver TEXT NOT NULL, csrf TEXT NOT NULL,"
	" source TEXT NOT NULL, created_ms BIGINT NOT NULL, last_used_ms BIGINT NOT NULL);",
	/*
	 * 5: one-time links (the token's SHA-256, never the token), and the
	 * Slack response_url through which a request's message is updated.
	 */
	"CREATE TABLE links ("
	" token_sha256 TEXT PRIMARY KEY, approver TEXT NOT NULL, request_id TEXT NOT NULL,"
	" action TEXT NOT NULL, expires_ms BIGINT NOT NULL, used_ms BIGINT);"
	"CREATE INDEX links_request ON links(request_id);"
	"CREATE TABLE slack_responses ("
	" request_id TEXT PRIMARY KEY, url TEXT NOT NULL, at_ms BIGINT NOT NULL);",
	/* 6: approvers' passkeys and the WebAuthn challenges issued to them. */
	"CREATE TABLE passkeys ("
	" id TEXT PRIMARY KEY, approver TEXT NOT NULL, alg INTEGER NOT NULL,"
	" pubkey TEXT NOT NULL, sign_count BIGINT NOT NULL, label TEXT NOT NULL,"
	" created_ms BIGINT NOT NULL, last_used_ms BIGINT NOT NULL);"
	"CREATE INDEX passkeys_approver ON passkeys(approver, created_ms);"
	"CREATE TABLE webauthn_challenges ("
	" challenge TEXT PRIMARY KEY, approver TEXT NOT NULL, binding TEXT NOT NULL,"
	" purpose TEXT NOT NULL, expires_ms BIGINT NOT NULL);"
	"CREATE INDEX webauthn_challenges_expiry ON webauthn_challenges(expires_ms);"
	"CREATE INDEX webauthn_challenges_approver ON webauthn_challenges(approver);",
	/* 7: requests' messages posted by a Slack bot, updated once decided. */
	"CREATE TABLE slack_posts ("
	" request_id TEXT NOT NULL, target TEXT NOT NULL, post_msg TEXT, update_msg TEXT,"
	" channel TEXT, ts TEXT, PRIMARY KEY(request_id, target));"
	"CREATE INDEX slack_posts_msg ON slack_posts(target, post_msg);"
	"CREATE INDEX slack_posts_update ON slack_posts(target, update_msg);",
};

enum {
	Q_SEEN_ADD, Q_SEEN_PRUNE,
	Q_REQ_GET, Q_REQ_GET_LOCKED, Q_REQ_INSERT, Q_REQ_STATUS, Q_REQ_PENDING, Q_REQ_DUE,
	Q_VOTES, Q_VOTE_INSERT,
	Q_NOTIFY_INSERT, Q_NOTIFY_CLAIM, Q_NOTIFY_NEXT, Q_NOTIFY_DONE, Q_NOTIFY_RETRY,
	Q_REC_GET, Q_REC_INSERT, Q_REC_RECENT,
	Q_LINK_INSERT, Q_LINK_GET, Q_LINK_USE, Q_LINK_PRUNE, Q_SLACK_PUT, Q_SLACK_GET,
	Q_PURGE_LINKS, Q_PURGE_SLACK,
	Q_SLACK_POST_PUT, Q_SLACK_POST_GET, Q_SLACK_POST_UPDATE, Q_SLACK_POST_DELETE,
	Q_PURGE_SLACK_POSTS,
	Q_TOTP_ADD, Q_TOTP_GET, Q_TOTP_PUT,
	Q_REQ_PENDING_HOST, Q_NOTIFY_TARGETS,
	Q_PURGE_VOTES, Q_PURGE_REQUESTS, Q_PURGE_RECOVERIES, Q_HEALTH,
	Q_SESSION_INSERT, Q_SESSION_GET, Q_SESSION_TOUCH, Q_SESSION_DELETE,
	Q_SESSION_PRUNE,
	Q_PK_INSERT, Q_PK_GET, Q_PK_LIST, Q_PK_USED,
	Q_CH_PRUNE, Q_CH_COUNT, Q_CH_INSERT, Q_CH_TAKE,
	Q_COUNT
};

#define REQ_COLUMNS "id, host, operator, status, body, received_ms, expires_ms"
#define REC_COLUMNS "id, host, operator, 'reported', body, received_ms, 0"
#define PK_COLUMNS "approver, id, alg, pubkey, sign_count, label, created_ms, last_used_ms"

static const char *const query_sql[Q_COUNT] = {
	[Q_SEEN_ADD] = "INSERT INTO seen (host, sig, at_ms) VALUES ($1, $2, $3) "
	    "ON CONFLICT DO NOTHING",
	[Q_SEEN_PRUNE] = "DELETE FROM seen WHERE at_ms < $1",
	[Q_REQ_GET] = "SELECT " REQ_COLUMNS " FROM requests WHERE id = $1",
	/* The row as it stands once locked (a vote committed meanwhile is seen). */
	[Q_REQ_GET_LOCKED] = "SELECT " REQ_COLUMNS " FROM requests WHERE id = $1 FOR UPDATE",
	[Q_REQ_INSERT] = "INSERT INTO requests (" REQ_COLUMNS ") "
	    "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
	/* Announced by the statement deciding it: a row when decided now. */
	[Q_REQ_STATUS] = "WITH decided AS (UPDATE requests SET status = $1, decided_ms = $2 "
	    "WHERE id = $3 AND status = 'pending' RETURNING id) "
	    "SELECT pg_notify('" AD_PG_CHANNEL "', id) FROM decided",
	[Q_REQ_PENDING] = "SELECT " REQ_COLUMNS " FROM requests "
	    "WHERE status = 'pending' ORDER BY received_ms, id",
	[Q_REQ_DUE] = "SELECT " REQ_COLUMNS " FROM requests "
	    "WHERE status = 'pending' AND expires_ms <= $1 ORDER BY expires_ms",
	[Q_VOTES] = "SELECT approver, approve, at_ms, comment FROM votes "
	    "WHERE request_id = $1 ORDER BY seq",
	[Q_VOTE_INSERT] = "INSERT INTO votes "
	    "(request_id, approver, approve, at_ms, comment) VALUES ($1, $2, $3, $4, $5) "
	    "ON CONFLICT DO NOTHING",
	[Q_NOTIFY_INSERT] = "INSERT INTO notifications "
	    "(target, url, format, secret, msg_id, body, next_ms) "
	    "VALUES ($1, $2, $3, $4, $5, $6, $7)",
	/* Claimed for the lease: the other instances skip it meanwhile. */
	[Q_NOTIFY_CLAIM] = "UPDATE notifications SET next_ms = $3 WHERE id = "
	    "(SELECT id FROM notifications WHERE target = $1 AND next_ms <= $2 "
	    "ORDER BY next_ms, id LIMIT 1 FOR UPDATE SKIP LOCKED) "
	    "RETURNING id, target, url, format, secret, msg_id, body, attempts",
	[Q_NOTIFY_NEXT] = "SELECT min(next_ms) FROM notifications WHERE target = $1",
	[Q_NOTIFY_DONE] = "DELETE FROM notifications WHERE id = $1",
	[Q_NOTIFY_RETRY] = "UPDATE notifications SET attempts = $1, next_ms = $2 "
	    "WHERE id = $3",
	[Q_REC_GET] = "SELECT " REC_COLUMNS " FROM recoveries WHERE host = $1 AND id = $2",
	[Q_REC_INSERT] = "INSERT INTO recoveries (host, id, operator, body, received_ms) "
	    "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
	[Q_REC_RECENT] = "SELECT " REC_COLUMNS " FROM recoveries "
	    "ORDER BY received_ms DESC, host, id LIMIT " XSTR(RECOVERIES_SHOWN),
	[Q_TOTP_ADD] = "INSERT INTO approver_totp "
	    "(approver, last_step, failures, locked_until) VALUES ($1, 0, '', 0) "
	    "ON CONFLICT DO NOTHING",
	[Q_TOTP_GET] = "SELECT last_step, failures, locked_until FROM approver_totp "
	    "WHERE approver = $1 FOR UPDATE",
	[Q_TOTP_PUT] = "UPDATE approver_totp SET last_step = $1, failures = $2, "
	    "locked_until = $3 WHERE approver = $4",
	[Q_REQ_PENDING_HOST] = "SELECT count(*) FROM requests "
	    "WHERE host = $1 AND status = 'pending' AND expires_ms > $2",
	[Q_NOTIFY_TARGETS] = "SELECT DISTINCT target FROM notifications",
	[Q_LINK_INSERT] = "INSERT INTO links "
	    "(token_sha256, approver, request_id, action, expires_ms) "
	    "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
	[Q_LINK_GET] = "SELECT approver, request_id, action, expires_ms, used_ms FROM links "
	    "WHERE token_sha256 = $1",
	/* Two instances opening one link: the row lock lets one of them use it. */
	[Q_LINK_USE] = "UPDATE links SET used_ms = $1 WHERE token_sha256 = $2 "
	    "AND used_ms IS NULL",
	[Q_LINK_PRUNE] = "DELETE FROM links WHERE expires_ms < $1",
	[Q_SLACK_PUT] = "INSERT INTO slack_responses (request_id, url, at_ms) "
	    "VALUES ($1, $2, $3) ON CONFLICT (request_id) "
	    "DO UPDATE SET url = excluded.url, at_ms = excluded.at_ms",
	[Q_SLACK_GET] = "SELECT url FROM slack_responses WHERE request_id = $1",
	/* A link lives minutes: older than the retention cutoff, it is long expired. */
	[Q_PURGE_LINKS] = "DELETE FROM links WHERE expires_ms < $1 OR request_id IN "
	    "(SELECT id FROM requests WHERE status <> 'pending' AND decided_ms < $1)",
	[Q_PURGE_SLACK] = "DELETE FROM slack_responses WHERE request_id IN "
	    "(SELECT id FROM requests WHERE status <> 'pending' AND decided_ms < $1)",
	[Q_SLACK_POST_PUT] = "INSERT INTO slack_posts "
	    "(request_id, target, post_msg, update_msg, channel, ts) "
	    "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (request_id, target) DO UPDATE SET "
	    "post_msg = coalesce(excluded.post_msg, slack_posts.post_msg), "
	    "update_msg = coalesce(excluded.update_msg, slack_posts.update_msg), "
	    "channel = coalesce(excluded.channel, slack_posts.channel), "
	    "ts = coalesce(excluded.ts, slack_posts.ts)",
	[Q_SLACK_POST_GET] = "SELECT request_id, target, post_msg, update_msg, channel, ts "
	    "FROM slack_posts WHERE target = $1 AND (post_msg = $2 OR update_msg = $2)",
	[Q_SLACK_POST_UPDATE] = "UPDATE slack_posts SET update_msg = $3 "
	    "WHERE target = $1 AND request_id = $2",
	[Q_SLACK_POST_DELETE] = "DELETE FROM slack_posts WHERE target = $1 AND request_id = $2",
	[Q_PURGE_SLACK_POSTS] = "DELETE FROM slack_posts WHERE request_id IN "
	    "(SELECT id FROM requests WHERE status <> 'pending' AND decided_ms < $1)",
	[Q_PURGE_VOTES] = "DELETE FROM votes WHERE request_id IN (SELECT id FROM requests "
	    "WHERE status <> 'pending' AND decided_ms < $1)",
	[Q_PURGE_REQUESTS] = "DELETE FROM requests "
	    "WHERE status <> 'pending' AND decided_ms < $1",
	[Q_PURGE_RECOVERIES] = "DELETE FROM recoveries WHERE received_ms < $1",
	[Q_HEALTH] = "UPDATE health SET at_ms = $1 WHERE id = 1",
	[Q_PK_INSERT] = "INSERT INTO passkeys (" PK_COLUMNS ") "
	    "VALUES ($1, $2, $3, $4, $5, $6, $7, 0) ON CONFLICT DO NOTHING",
	/* Held to the commit: two assertions of one passkey count one after the other. */
	[Q_PK_GET] = "SELECT " PK_COLUMNS " FROM passkeys WHERE id = $1 FOR UPDATE",
	[Q_PK_LIST] = "SELECT " PK_COLUMNS " FROM passkeys WHERE approver = $1 "
	    "ORDER BY created_ms, id",
	[Q_PK_USED] = "UPDATE passkeys SET sign_count = $1, last_used_ms = $2 WHERE id = $3",
	[Q_CH_PRUNE] = "DELETE FROM webauthn_challenges WHERE expires_ms <= $1",
	[Q_CH_COUNT] = "SELECT count(*) FROM webauthn_challenges WHERE approver = $1",
	[Q_CH_INSERT] = "INSERT INTO webauthn_challenges "
	    "(challenge, approver, binding, purpose, expires_ms) "
	    "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
	/* One instance takes it: a DELETE's rows are its alone. */
	[Q_CH_TAKE] = "DELETE FROM webauthn_challenges WHERE challenge = $1 "
	    "RETURNING approver, binding, purpose, expires_ms",
	[Q_SESSION_INSERT] = "INSERT INTO sessions "
	    "(id, approver, csrf, source, created_ms, last_used_ms) "
	    "VALUES ($1, $2, $3, $4, $5, $6)",
	[Q_SESSION_GET] = "SELECT approver, csrf, source, created_ms, last_used_ms "
	    "FROM sessions WHERE id = $1",
	[Q_SESSION_TOUCH] = "UPDATE sessions SET last_used_ms = $1 WHERE id = $2",
	[Q_SESSION_DELETE] = "DELETE FROM sessions WHERE id = $1",
	[Q_SESSION_PRUNE] = "DELETE FROM sessions WHERE last_used_ms < $1 OR created_ms < $2",
};

typedef struct {
	ad_store base;           /* first: the handle given out */
	PGconn *conn;
	bool in_tx;              /* between BEGIN and COMMIT or ROLLBACK */
	bool prepared;           /* query_sql[] prepared on this connection */
	ad_pg_pipeline pl;       /* on conn: statements sent ahead */
} pg_store;

/* Statement parameters, all text but bytea bodies. */
typedef struct {
	const char *v[PARAMS_MAX];
	int len[PARAMS_MAX];
	int fmt[PARAMS_MAX];
	char num[PARAMS_MAX][INT_TEXT_LEN];
	int n;
} params;

static const ad_store_ops pg_ops;

static pg_store *
pg(ad_store *st)
{
	return (pg_store *)(void *)st;
}

bg_status
ad_pg_error(PGconn *conn, PGresult *res, bg_error *err, const char *what)
{
	const char *m = res != NULL && *PQresultErrorMessage(res) != '\0' ?
	    PQresultErrorMessage(res) : PQerrorMessage(conn);
	char line[BG_ERROR_MAX / 2], safe[BG_ERROR_MAX / 2];

	/* The first line, printable: libpq may quote a key's value. */
	snprintf(line, sizeof(line), "%.*s", (int)strcspn(m, "\n"), m);
	bg_escape_printable(line, safe, sizeof(safe));
	PQclear(res);
	return bg_error_set(err, BG_ERR_IO, "database: %s: %s", what, safe);
}

static bg_status
pg_fail(pg_store *h, PGresult *res, bg_error *err, const char *what)
{
	return ad_pg_error(h->conn, res, err, what);
}

static void
p_text(params *p, const char *s)
{
	p->v[p->n] = s;
	p->len[p->n] = 0;
	p->fmt[p->n] = 0;
	p->n++;
}

static void
p_int(params *p, int64_t x)
{
	snprintf(p->num[p->n], INT_TEXT_LEN, "%" PRId64, x);
	p_text(p, p->num[p->n]);
}

static void
p_bytes(params *p, const char *b, size_t len)
{
	p->v[p->n] = b;
	p->len[p->n] = (int)len;
	p->fmt[p->n] = 1;
	p->n++;
}

static char *
stmt_name(int which, char out[INT_TEXT_LEN])
{
	snprintf(out, INT_TEXT_LEN, "ad%d", which);
	return out;
}

static bg_status reconnect(pg_store *h, bg_error *err);
static void pg_rollback(ad_store *st);

/* Answers what was sent ahead; a savepoint's failure there breaks the group. */
static bg_status
collect(pg_store *h, bg_error *err)
{
	bg_status rc = ad_pg_collect(&h->pl, err);

	if (h->pl.boundary_failed) {
		h->base.group_broken = true;
		h->pl.boundary_failed = false;
	}
	return rc;
}

/* Sends statement which ahead; *keep (when not NULL) gets its rows at collect(). */
static bg_status
send_prepared(pg_store *h, int which, const params *p, const char *what, PGresult **keep,
    bg_error *err)
{
	char name[INT_TEXT_LEN];
	ad_pg_stmt s = { .name = stmt_name(which, name), .n = p->n, .values = p->v,
	    .lengths = p->len, .formats = p->fmt, .what = what };

	return ad_pg_send(&h->pl, &s, keep, err);
}

/* Runs a prepared statement; *res (when not NULL) keeps its rows. */
static bg_status
run(ad_store *st, int which, const params *p, PGresult **res, bg_error *err,
    const char *what)
{
	pg_store *h = pg(st);
	char name[INT_TEXT_LEN];
	PGresult *r;
	ExecStatusType s;
	bg_status rc;

	/*
	 * Outside a transaction (the notifier's calls) a lost connection is
	 * made again; inside one, never: the rest of it would run on its own.
	 */
	if (!h->in_tx && reconnect(h, err) != BG_OK)
		return BG_ERR_IO;
	if (h->pl.n > 0 || h->pl.broken) {
		/* After what was sent ahead, answered with it. */
		if ((rc = send_prepared(h, which, p, what, &r, err)) != BG_OK ||
		    (rc = collect(h, err)) != BG_OK)
			return rc;
	} else {
		r = PQexecPrepared(h->conn, stmt_name(which, name), p->n, p->v, p->len,
		    p->fmt, 0);
		s = PQresultStatus(r);
		if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK)
			return pg_fail(h, r, err, what);
	}
	if (res != NULL)
		*res = r;
	else
		PQclear(r);
	return BG_OK;
}

/*
 * A statement whose caller needs no answer: inside a transaction it is
 * sent ahead, its failure failing the transaction's next statement or
 * its commit; outside one, run now.
 */
static bg_status
later(ad_store *st, int which, const params *p, const char *what, bg_error *err)
{
	if (!pg(st)->in_tx)
		return run(st, which, p, NULL, err, what);
	return send_prepared(pg(st), which, p, what, NULL, err);
}

/* The same for a transaction's own statements (BEGIN, SAVEPOINT): always ahead. */
static bg_status
later_sql(pg_store *h, const char *sql, bool boundary, bg_error *err, const char *what)
{
	ad_pg_stmt s = { .sql = sql, .what = what, .boundary = boundary };

	return ad_pg_send(&h->pl, &s, NULL, err);
}

/* Runs sql (COMMIT, ROLLBACK TO), after what was sent ahead and answered with it. */
static bg_status
run_sql(pg_store *h, const char *sql, PGresult **res, bg_error *err, const char *what)
{
	ad_pg_stmt s = { .sql = sql, .what = what };
	bg_status rc;

	if (h->pl.n > 0 || h->pl.broken) {
		if ((rc = ad_pg_send(&h->pl, &s, res, err)) != BG_OK)
			return rc;
		return collect(h, err);
	}
	*res = PQexec(h->conn, sql);
	if (PQresultStatus(*res) != PGRES_COMMAND_OK)
		return pg_fail(h, *res, err, what);
	return BG_OK;
}

/* Like run, for a statement changing at most one row: BG_ERR_DENIED when none. */
static bg_status
run_one(ad_store *st, int which, const params *p, bg_error *err, const char *what,
    const char *none)
{
	PGresult *r;
	bg_status rc;
	bool changed;

	if ((rc = run(st, which, p, &r, err, what)) != BG_OK)
		return rc;
	changed = strcmp(PQcmdTuples(r), "0") != 0;
	PQclear(r);
	return changed ? BG_OK : bg_error_set(err, BG_ERR_DENIED, "%s", none);
}

static bg_status
exec_simple(pg_store *h, const char *sql, bg_error *err, const char *what)
{
	PGresult *r = PQexec(h->conn, sql);

	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
		return pg_fail(h, r, err, what);
	PQclear(r);
	return BG_OK;
}

/* ------------------------------------------------------------------ */
/* Connecting. */

/* Whether every host in list (libpq's comma-separated host or hostaddr) is on this machine. */
static bool
hosts_local(const char *list)
{
	char host[256];

	for (const char *p = list; p != NULL && *p != '\0'; p += *p == ',') {
		size_t n = strcspn(p, ",");

		snprintf(host, sizeof(host), "%.*s", (int)n, p);
		p += n;
		/* Empty or a path: a unix socket. */
		if (host[0] != '\0' && host[0] != '/' && host[0] != '@' &&
		    !bg_host_is_loopback(host))
			return false;
	}
	return true;
}

bg_status
ad_pg_url_check(const char *url, bg_error *err)
{
	PQconninfoOption *opts, *o;
	const char *host = NULL, *hostaddr = NULL, *sslmode = NULL;
	char *msg = NULL;
	bg_status rc = BG_OK;

	/* libpq's own parser: what it would connect with is what is checked. */
	if ((opts = PQconninfoParse(url, &msg)) == NULL) {
		rc = bg_error_set(err, BG_ERR_INVALID, "not a valid PostgreSQL URL%s",
		    msg != NULL ? "" : " (out of memory)");
		PQfreemem(msg);
		return rc;
	}
	for (o = opts; o->keyword != NULL; o++) {
		if (o->val == NULL || *o->val == '\0')
			continue;
		if (strcmp(o->keyword, "password") == 0 || strcmp(o->keyword, "passfile") == 0)
			rc = bg_error_set(err, BG_ERR_INVALID, "a %s in the URL is refused: "
			    "name a file with database_password_file", o->keyword);
		else if (strcmp(o->keyword, "host") == 0)
			host = o->val;
		else if (strcmp(o->keyword, "hostaddr") == 0)
			hostaddr = o->val;
		else if (strcmp(o->keyword, "sslmode") == 0)
			sslmode = o->val;
	}
	/* Whoever sits between the service and its database can write votes. */
	if (rc == BG_OK && (!hosts_local(host) || !hosts_local(hostaddr)) &&
	    (sslmode == NULL || strcmp(sslmode, "verify-full") != 0))
		rc = bg_error_set(err, BG_ERR_INVALID, "a database server off this machine "
		    "needs sslmode=verify-full in the URL");
	PQconninfoFree(opts);
	return rc;
}

static void
ignore_notice(void *arg, const char *message)
{
}

bg_status
ad_pg_connect(const ad_config_server *cfg, PGconn **out, bg_error *err)
{
	const char *keys[10], *vals[10];
	char *pw = NULL;
	size_t len = 0;
	PGconn *c;
	bg_status rc;
	int n = 0;

	if ((rc = ad_pg_url_check(cfg->database, err)) != BG_OK)
		return rc;
	/*
	 * A database that stops answering must fail calls, not freeze the
	 * instance (every call holds the app lock): bounded connect and
	 * statements, dead peers found by keepalives.  Before dbname, so the
	 * URL's own settings win.
	 */
	keys[n] = "connect_timeout";
	vals[n++] = "10";
	keys[n] = "keepalives_idle";
	vals[n++] = "30";
	keys[n] = "keepalives_interval";
	vals[n++] = "10";
	keys[n] = "keepalives_count";
	vals[n++] = "3";
	keys[n] = "options";
	vals[n++] = "-c statement_timeout=15000";
	/* expand_dbname: the URL's keywords first, the ones after it override. */
	keys[n] = "dbname";
	vals[n++] = cfg->database;
	keys[n] = "application_name";
	vals[n++] = "breakglass-approvald";
	if (cfg->database_password_file != NULL) {
		if ((rc = bg_file_read(cfg->database_password_file, BG_FILE_SECRET,
		    PASSWORD_FILE_MAX, &pw, &len, err)) != BG_OK)
			return rc;
		pw[strcspn(pw, "\r\n")] = '\0';
		keys[n] = "password";
		vals[n++] = pw;
	}
	keys[n] = vals[n] = NULL;
	c = PQconnectdbParams(keys, vals, 1);
	if (pw != NULL)
		bg_file_free_secret(pw, len);
	if (c == NULL)
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	if (PQstatus(c) != CONNECTION_OK) {
		rc = ad_pg_error(c, NULL, err, "cannot connect");
		PQfinish(c);
		return rc;
	}
	/* The server's notices ("already exists, skipping") are not errors: not on stderr. */
	PQsetNoticeProcessor(c, ignore_notice, NULL);
	*out = c;
	return BG_OK;
}

/* Brings the schema to SCHEMA_VERSION, one instance at a time. */
static bg_status
migrate(pg_store *h, bg_error *err)
{
	PGresult *r;
	char set[128];
	int version = 0;
	bg_status rc;

	if ((rc = exec_simple(h, "BEGIN", err, "migrate")) != BG_OK)
		return rc;
	rc = exec_simple(h, "SELECT pg_advisory_xact_lock(" MIGRATE_LOCK_KEY ")", err,
	    "migration lock");
	if (rc == BG_OK)
		rc = exec_simple(h, "CREATE TABLE IF NOT EXISTS schema_version "
		    "(version INTEGER NOT NULL)", err, "schema_version");
	if (rc == BG_OK) {
		r = PQexec(h->conn, "SELECT max(version) FROM schema_version");
		if (PQresultStatus(r) != PGRES_TUPLES_OK)
			rc = pg_fail(h, r, err, "schema version");
		else {
			version = PQgetisnull(r, 0, 0) ? 0 : atoi(PQgetvalue(r, 0, 0));
			PQclear(r);
		}
	}
	if (rc == BG_OK && (version < 0 || version > SCHEMA_VERSION))
		rc = bg_error_set(err, BG_ERR_INVALID, "database: schema version %d, this "
		    "service knows versions up to %d", version, SCHEMA_VERSION);
	for (; rc == BG_OK && version < SCHEMA_VERSION; version++)
		rc = exec_simple(h, migrations[version], err, "schema migration");
	snprintf(set, sizeof(set), "DELETE FROM schema_version; "
	    "INSERT INTO schema_version VALUES (%d)", SCHEMA_VERSION);
	if (rc == BG_OK)
		rc = exec_simple(h, set, err, "schema version");
	if (rc == BG_OK)
		return exec_simple(h, "COMMIT", err, "migrate");
	PQclear(PQexec(h->conn, "ROLLBACK"));
	return rc;
}

static bg_status
prepare_all(pg_store *h, bg_error *err)
{
	char name[INT_TEXT_LEN];

	for (int i = 0; i < Q_COUNT; i++) {
		PGresult *r = PQprepare(h->conn, stmt_name(i, name), query_sql[i], 0, NULL);

		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			return pg_fail(h, r, err, "prepare");
		PQclear(r);
	}
	return BG_OK;
}

bg_status
ad_store_pg_open(const ad_config_server *cfg, ad_store **out, bg_error *err)
{
	pg_store *h = calloc(1, sizeof(*h));
	bg_status rc;

	if (h == NULL)
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	h->base.ops = &pg_ops;
	rc = ad_pg_connect(cfg, &h->conn, err);
	h->pl.conn = h->conn;
	if (rc == BG_OK)
		rc = migrate(h, err);
	if (rc == BG_OK)
		rc = prepare_all(h, err);
	h->prepared = rc == BG_OK;
	if (rc != BG_OK) {
		PQfinish(h->conn);
		free(h);
		return rc;
	}
	*out = &h->base;
	return BG_OK;
}

static void
pg_close(ad_store *st)
{
	PQfinish(pg(st)->conn);
	free(pg(st));
}

/*
 * A connection lost (the server restarted, a standby was promoted behind
 * the URL's hosts), or out of step with its pipeline, is made again, and
 * its statements prepared again.
 */
static bg_status
reconnect(pg_store *h, bg_error *err)
{
	if (PQstatus(h->conn) != CONNECTION_OK || h->pl.broken) {
		/* A new session: the old one's transaction, if any, ends with it. */
		PQreset(h->conn);
		h->pl.n = 0;
		h->pl.broken = false;
		h->prepared = false;
		if (PQstatus(h->conn) != CONNECTION_OK)
			return pg_fail(h, NULL, err, "reconnect");
	}
	if (!h->prepared && prepare_all(h, err) != BG_OK)
		return BG_ERR_IO;
	h->prepared = true;
	return BG_OK;
}

/* Sent ahead with the transaction's first statement. */
static bg_status
pg_begin(ad_store *st, bg_error *err)
{
	pg_store *h = pg(st);
	bg_status rc;

	if ((rc = reconnect(h, err)) != BG_OK ||
	    (rc = later_sql(h, "BEGIN", false, err, "begin")) != BG_OK)
		return rc;
	h->in_tx = true;
	return BG_OK;
}

/* Like synchronous=NORMAL: the commit does not wait for its WAL flush. */
static bg_status
pg_begin_lazy(ad_store *st, bg_error *err)
{
	bg_status rc = pg_begin(st, err);

	if (rc == BG_OK && (rc = later_sql(pg(st), "SET LOCAL synchronous_commit = off",
	    false, err, "begin")) != BG_OK)
		pg_rollback(st);
	return rc;
}

/* Failed, the transaction is ended all the same (a COMMIT skipped leaves it open). */
static bg_status
pg_commit(ad_store *st, bg_error *err)
{
	pg_store *h = pg(st);
	PGresult *r;
	bg_status rc = run_sql(h, "COMMIT", &r, err, "commit");

	/* A failed transaction's COMMIT "succeeds" as ROLLBACK: that is a failure. */
	if (rc == BG_OK && strcmp(PQcmdStatus(r), "COMMIT") != 0)
		rc = pg_fail(h, r, err, "commit");
	else if (rc == BG_OK)
		PQclear(r);
	if (rc != BG_OK) {
		pg_rollback(st);
		return rc;
	}
	h->in_tx = false;
	return BG_OK;
}

static void
pg_rollback(ad_store *st)
{
	pg_store *h = pg(st);
	bg_error ignored;

	/*
	 * What was sent ahead is answered first (a ROLLBACK sent after a
	 * failure would be skipped); out of step, the connection is made again.
	 */
	(void)collect(h, &ignored);
	if (h->pl.broken)
		(void)reconnect(h, &ignored);
	else
		PQclear(PQexec(h->conn, "ROLLBACK"));
	h->in_tx = false;
}

/* A part's start and end are sent ahead: failing, they break the group (collect). */
static bg_status
pg_part(ad_store *st, ad_store_part op, bg_error *err)
{
	pg_store *h = pg(st);
	PGresult *r;
	bg_status rc;

	if (op == AD_PART_BEGIN)
		return later_sql(h, "SAVEPOINT part", true, err, "savepoint");
	if (op == AD_PART_END)
		return later_sql(h, "RELEASE part", true, err, "savepoint");
	/* Undone now, after what was sent ahead: a failure among it is what is undone. */
	(void)collect(h, err);
	if ((rc = run_sql(h, "ROLLBACK TO part", &r, err, "savepoint")) == BG_OK)
		PQclear(r);
	return rc;
}

/* The one integer of a count(*) or min() query; 0 for NULL. */
static bg_status
read_int(ad_store *st, int which, const params *p, const char *what, int64_t *out,
    bg_error *err)
{
	PGresult *r;
	bg_status rc;

	if ((rc = run(st, which, p, &r, err, what)) != BG_OK)
		return rc;
	*out = PQntuples(r) == 1 && !PQgetisnull(r, 0, 0) ?
	    strtoll(PQgetvalue(r, 0, 0), NULL, 10) : 0;
	PQclear(r);
	return BG_OK;
}

/* Runs a DELETE; *count: the rows it removed. */
static bg_status
run_delete(ad_store *st, int which, int64_t before_ms, const char *what,
    unsigned long *count, bg_error *err)
{
	params p = { .n = 0 };
	PGresult *r;
	bg_status rc;

	p_int(&p, before_ms);
	*count = 0;
	if ((rc = run(st, which, &p, &r, err, what)) != BG_OK)
		return rc;
	*count = strtoul(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	return BG_OK;
}

static bg_status
pg_pending_count(ad_store *st, const char *host, int64_t now_ms, unsigned long *count,
    bg_error *err)
{
	params p = { .n = 0 };
	int64_t n;
	bg_status rc;

	p_text(&p, host);
	p_int(&p, now_ms);
	rc = read_int(st, Q_REQ_PENDING_HOST, &p, "pending count", &n, err);
	*count = rc == BG_OK ? (unsigned long)n : 0;
	return rc;
}

static bg_status
pg_purge(ad_store *st, int64_t before_ms, unsigned long *requests,
    unsigned long *recoveries, bg_error *err)
{
	unsigned long votes, rows;
	bg_status rc;

	/* What references a request first: links, response URLs, votes. */
	if ((rc = run_delete(st, Q_PURGE_LINKS, before_ms, "purge links", &rows,
	    err)) != BG_OK ||
	    (rc = run_delete(st, Q_PURGE_SLACK, before_ms, "purge slack responses", &rows,
	    err)) != BG_OK ||
	    (rc = run_delete(st, Q_PURGE_SLACK_POSTS, before_ms, "purge slack posts", &rows,
	    err)) != BG_OK ||
	    (rc = run_delete(st, Q_PURGE_VOTES, before_ms, "purge votes", &votes,
	    err)) != BG_OK ||
	    (rc = run_delete(st, Q_PURGE_REQUESTS, before_ms, "purge requests", requests,
	    err)) != BG_OK)
		return rc;
	return run_delete(st, Q_PURGE_RECOVERIES, before_ms, "purge recoveries", recoveries,
	    err);
}

static bg_status
pg_health(ad_store *st, int64_t now_ms, bg_error *err)
{
	params p = { .n = 0 };

	p_int(&p, now_ms);
	return run_one(st, Q_HEALTH, &p, err, "health write", "database: health row missing");
}

/* ------------------------------------------------------------------ */

static bg_status
pg_seen_add(ad_store *st, const char *host, const char *sig, int64_t now_ms,
    bg_error *err)
{
	params p = { .n = 0 };

	p_text(&p, host);
	p_text(&p, sig);
	p_int(&p, now_ms);
	return run_one(st, Q_SEEN_ADD, &p, err, "seen", "signature replayed");
}

static bg_status
pg_seen_prune(ad_store *st, int64_t before_ms, bg_error *err)
{
	params p = { .n = 0 };

	p_int(&p, before_ms);
	return run(st, Q_SEEN_PRUNE, &p, NULL, err, "prune");
}

/* ------------------------------------------------------------------ */

/* A copy of a text field; NULL stays NULL.  *oom on allocation failure. */
static char *
col_text(const PGresult *r, int row, int col, bool *oom)
{
	char *copy;

	if (PQgetisnull(r, row, col))
		return NULL;
	if ((copy = strdup(PQgetvalue(r, row, col))) == NULL)
		*oom = true;
	return copy;
}

static int64_t
col_int(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static bg_status
read_request(const PGresult *res, int row, ad_request *r, bg_error *err)
{
	size_t len = 0;
	unsigned char *body = PQunescapeBytea((const unsigned char *)
	    PQgetvalue(res, row, 4), &len);
	bool oom = false;

	memset(r, 0, sizeof(*r));
	r->id = col_text(res, row, 0, &oom);
	r->host = col_text(res, row, 1, &oom);
	r->operator_name = col_text(res, row, 2, &oom);
	r->status = col_text(res, row, 3, &oom);
	/* NUL-terminated: the body is parsed as JSON text. */
	r->body = body != NULL ? malloc(len + 1) : NULL;
	if (r->body == NULL || oom) {
		PQfreemem(body);
		ad_request_clear(r);
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	}
	memcpy(r->body, body, len);
	r->body[len] = '\0';
	r->body_len = len;
	PQfreemem(body);
	r->received_ms = col_int(res, row, 5);
	r->expires_ms = col_int(res, row, 6);
	return BG_OK;
}

static bg_status
read_one(ad_store *st, int which, const params *p, const char *what, ad_request *out,
    bg_error *err)
{
	PGresult *r;
	bg_status rc;

	if ((rc = run(st, which, p, &r, err, what)) != BG_OK)
		return rc;
	rc = PQntuples(r) == 0 ? bg_error_set(err, BG_ERR_NOTFOUND, "no such %s", what) :
	    read_request(r, 0, out, err);
	PQclear(r);
	return rc;
}

static bg_status
read_requests(ad_store *st, int which, const params *p, ad_request **out,
    size_t *count, bg_error *err)
{
	ad_request *list;
	PGresult *r;
	size_t n = 0, rows;
	bg_status rc;

	if ((rc = run(st, which, p, &r, err, "requests")) != BG_OK)
		return rc;
	rows = (size_t)PQntuples(r);
	if ((list = calloc(rows > 0 ? rows : 1, sizeof(*list))) == NULL)
		rc = bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	for (; rc == BG_OK && n < rows; n++)
		if ((rc = read_request(r, (int)n, &list[n], err)) != BG_OK)
			break;
	PQclear(r);
	if (rc != BG_OK) {
		ad_requests_free(list, n);
		return rc;
	}
	*out = list;
	*count = n;
	return BG_OK;
}

static bg_status
pg_request_get(ad_store *st, const char *id, ad_request *out, bg_error *err)
{
	params p = { .n = 0 };

	p_text(&p, id);
	return read_one(st, Q_REQ_GET, &p, "request", out, err);
}


static bg_status
pg_request_insert(ad_store *st, const ad_request *r, bg_error *err)
{
	params p = { .n = 0 };

	p_text(&p, r->id);
	p_text(&p, r->host);
	p_text(&p, r->operator_name);
	p_text(&p, r->status);
	p_bytes(&p, r->body, r->body_len);
	p_int(&p, r->received_ms);
	p_int(&p, r->expires_ms);
	return run_one(st, Q_REQ_INSERT, &p, err, "insert request", "request exists");
}

static bg_status
pg_request_set_status(ad_store *st, const char *id, const char *status,
    int64_t now_ms, bg_error *err)
{
	params p = { .n = 0 };
	PGresult *r;
	bg_status rc;

	p_text(&p, status);
	p_int(&p, now_ms);
	p_text(&p, id);
	if ((rc = run(st, Q_REQ_STATUS, &p, &r, err, "update request")) != BG_OK)
		return rc;
	rc = PQntuples(r) == 1 ? BG_OK : bg_error_set(err, BG_ERR_DENIED, "already decided");
	PQclear(r);
	return rc;
}

static bg_status
pg_pending(ad_store *st, ad_request **out, size_t *count, bg_error *err)
{
	params p = { .n = 0 };

	return read_requests(st, Q_REQ_PENDING, &p, out, count, err);
}

static bg_status
pg_due(ad_store *st, int64_t now_ms, ad_request **out, size_t *count, bg_error *err)
{
	params p = { .n = 0 };

	p_int(&p, now_ms);
	return read_requests(st, Q_REQ_DUE, &p, out, count, err);
}

/* ------------------------------------------------------------------ */

/* The rows of Q_VOTES; clears r. */
static bg_status
read_votes(PGresult *r, ad_votes *out, bg_error *err)
{
	bool oom = false;
	size_t rows;

	memset(out, 0, sizeof(*out));
	rows = (size_t)PQntuples(r);
	if ((out->v = calloc(rows > 0 ? rows : 1, sizeof(*out->v))) == NULL)
		oom = true;
	for (size_t i = 0; !oom && i < rows; i++) {
		ad_vote *v = &out->v[out->count++];

		v->approver = col_text(r, (int)i, 0, &oom);
		v->approve = strcmp(PQgetvalue(r, (int)i, 1), "t") == 0;
		v->at_ms = col_int(r, (int)i, 2);
		v->comment = col_text(r, (int)i, 3, &oom);
	}
	PQclear(r);
	if (oom) {
		ad_votes_clear(out);
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	}
	return BG_OK;
}

static bg_status
pg_votes(ad_store *st, const char *id, ad_votes *out, bg_error *err)
{
	params p = { .n = 0 };
	PGresult *r;
	bg_status rc;

	memset(out, 0, sizeof(*out));
	p_text(&p, id);
	if ((rc = run(st, Q_VOTES, &p, &r, err, "votes")) != BG_OK)
		return rc;
	return read_votes(r, out, err);
}

/*
 * The request and its votes in one round trip: the votes are read by a
 * statement of their own, after the lock is held, so they are the latest
 * too (a statement sees what was committed before it began).
 */
static bg_status
pg_request_votes(ad_store *st, const char *id, bool lock, ad_request *out, ad_votes *votes,
    bg_error *err)
{
	pg_store *h = pg(st);
	params p = { .n = 0 };
	PGresult *req, *rows;
	bg_status rc;

	memset(votes, 0, sizeof(*votes));
	p_text(&p, id);
	/* Outside a transaction there is nothing to hold, and nothing to send ahead with. */
	if (!h->in_tx) {
		if ((rc = pg_request_get(st, id, out, err)) == BG_OK &&
		    (rc = pg_votes(st, id, votes, err)) != BG_OK)
			ad_request_clear(out);
		return rc;
	}
	if ((rc = send_prepared(h, lock ? Q_REQ_GET_LOCKED : Q_REQ_GET, &p, "request", &req,
	    err)) != BG_OK)
		return rc;
	if ((rc = send_prepared(h, Q_VOTES, &p, "votes", &rows, err)) != BG_OK ||
	    (rc = collect(h, err)) != BG_OK) {
		/* req answered already when a full pipeline was collected for rows. */
		PQclear(req);
		return rc;
	}
	rc = PQntuples(req) == 0 ? bg_error_set(err, BG_ERR_NOTFOUND, "no such request") :
	    read_request(req, 0, out, err);
	PQclear(req);
	if (rc != BG_OK) {
		PQclear(rows);
		return rc;
	}
	if ((rc = read_votes(rows, votes, err)) != BG_OK)
		ad_request_clear(out);
	return rc;
}

static bg_status
pg_vote_insert(ad_store *st, const char *id, const ad_vote *v, bg_error *err)
{
	params p = { .n = 0 };

	p_text(&p, id);
	p_text(&p, v->approver);
	p_text(&p, v->approve ? "true" : "false");
	p_int(&p, v->at_ms);
	p_text(&p, v->comment);
	return run_one(st, Q_VOTE_INSERT, &p, err, "insert vote", "already voted");
}

/* ------------------------------------------------------------------ */

static bg_status
pg_notify_insert(ad_store *st, const ad_notification *n, int64_t now_ms, bg_error *err)
{
	params p = { .n = 0 };

	p_text(&p, n->target);
	p_text(&p, n->url);
	p_int(&p, n->format);
	p_text(&p, n->secret);
	p_text(&p, n->msg_id);
	p_text(&p, n->body);
	p_int(&p, now_ms);
	return run(st, Q_NOTIFY_INSERT, &p, NULL, err, "queue notification");
}

static bg_status
pg_notify_due(ad_store *st, const char *target, int64_t now_ms, ad_notification *out,
    int64_t *next_ms, bg_error *err)
{
	params p = { .n = 0 };
	bool oom = false;
	PGresult *r;
	bg_status rc;

	memset(out, 0, sizeof(*out));
	p_text(&p, target);
	p_int(&p, now_ms);
	p_int(&p, now_ms + NOTIFY_LEASE_MS);
	if ((rc = run(st, Q_NOTIFY_CLAIM, &p, &r, err, "notifications")) != BG_OK)
		return rc;
	if (PQntuples(r) > 0) {
		out->id = col_int(r, 0, 0);
		out->target = col_text(r, 0, 1, &oom);
		out->url = col_text(r, 0, 2, &oom);
		out->format = (unsigned)col_int(r, 0, 3);
		out->secret = col_text(r, 0, 4, &oom);
		out->msg_id = col_text(r, 0, 5, &oom);
		out->body = col_text(r, 0, 6, &oom);
		out->attempts = (unsigned)col_int(r, 0, 7);
		PQclear(r);
		if (!oom)
			return BG_OK;
		ad_notification_clear(out);
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	}
	PQclear(r);
	p.n = 0;
	p_text(&p, target);
	if ((rc = read_int(st, Q_NOTIFY_NEXT, &p, "notifications", next_ms, err)) != BG_OK)
		return rc;
	return bg_error_set(err, BG_ERR_NOTFOUND, "nothing due");
}

static bg_status
pg_notify_done(ad_store *st, int64_t id, bg_error *err)
{
	params p = { .n = 0 };

	p_int(&p, id);
	return run(st, Q_NOTIFY_DONE, &p, NULL, err, "notification done");
}

static bg_status
pg_notify_targets(ad_store *st, bg_status (*fn)(void *arg, const char *target,
    bg_error *err), void *arg, bg_error *err)
{
	params p = { .n = 0 };
	PGresult *r;
	bg_status rc;

	if ((rc = run(st, Q_NOTIFY_TARGETS, &p, &r, err, "notification targets")) != BG_OK)
		return rc;
	for (int i = 0; rc == BG_OK && i < PQntuples(r); i++)
		rc = fn(arg, PQgetvalue(r, i, 0), err);
	PQclear(r);
	return rc;
}

static bg_status
pg_notify_retry(ad_store *st, int64_t id, unsigned attempts, int64_t next_ms,
    bg_error *err)
{
	params p = { .n = 0 };

	p_int(&p, attempts);
	p_int(&p, next_ms);
	p_int(&p, id);
	return run(st, Q_NOTIFY_RETRY, &p, NULL, err, "notification retry");
}

/* ------------------------------------------------------------------ */

static bg_status
pg_recovery_get(ad_store *st, const char *host, const char *id, ad_request *out,
    bg_error *err)
{
	params p = { .n = 0 };

	p_text(&p, host);
	p_text(&p, id);
	return read_one(st, Q_REC_GET, &p, "recovery", out, err);
}

static bg_status
pg_recovery_insert(ad_store *st, const ad_request *r, bg_error *err)
{
	params p = { .n = 0 };

	p_text(&p, r->host);
	p_text(&p, r->id);
	p_text(&p, r->operator_name);
	p_bytes(&p, r->body, r->body_len);
	p_int(&p, r->received_ms);
	return run_one(st, Q_REC_INSERT, &p, err, "recovery insert", "recovery exists");
}

static bg_status
pg_recoveries(ad_store *st, ad_request **out, size_t *count, bg_error *err)
{
	params p = { .n = 0 };

	return read_requests(st, Q_REC_RECENT, &p, out, count, err);
}

/* ------------------------------------------------------------------ */

static bg_status
pg_totp_get(ad_store *st, const char *approver, bg_totp_state *out, bg_error *err)
{
	params p = { .n = 0 };
	PGresult *r;
	bg_status rc;

	memset(out, 0, sizeof(*out));
	p_text(&p, approver);
	if ((rc = later(st, Q_TOTP_ADD, &p, "totp state", err)) != BG_OK ||
	    (rc = run(st, Q_TOTP_GET, &p, &r, err, "totp state")) != BG_OK)
		return rc;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return bg_error_set(err, BG_ERR_IO, "database: totp state: no row");
	}
	out->last_step = (uint64_t)col_int(r, 0, 0);
	out->locked_until = (time_t)col_int(r, 0, 2);
	rc = ad_totp_failures_parse(PQgetvalue(r, 0, 1), out, err);
	PQclear(r);
	return rc;
}

static bg_status
pg_totp_put(ad_store *st, const char *approver, const bg_totp_state *ts, bg_error *err)
{
	char failures[AD_TOTP_FAILURES_MAX];
	params p = { .n = 0 };

	if (!ad_totp_failures_format(ts, failures, sizeof(failures)))
		return bg_error_set(err, BG_ERR_TOOBIG, "totp state: too many failures");
	p_int(&p, (int64_t)ts->last_step);
	p_text(&p, failures);
	p_int(&p, (int64_t)ts->locked_until);
	p_text(&p, approver);
	return later(st, Q_TOTP_PUT, &p, "totp state", err);
}

/* ------------------------------------------------------------------ */

static bg_status
pg_session_insert(ad_store *st, const char *id, const ad_session *ss, bg_error *err)
{
	params p = { .n = 0 };

	p_text(&p, id);
	p_text(&p, ss->approver);
	p_text(&p, ss->csrf);
	p_text(&p, ss->source);
	p_int(&p, ss->created_ms);
	p_int(&p, ss->last_used_ms);
	return run(st, Q_SESSION_INSERT, &p, NULL, err, "session insert");
}

static bg_status
pg_session_get(ad_store *st, const char *id, ad_session *out, bg_error *err)
{
	params p = { .n = 0 };
	PGresult *r;
	bg_status rc;

	memset(out, 0, sizeof(*out));
	p_text(&p, id);
	if ((rc = run(st, Q_SESSION_GET, &p, &r, err, "session")) != BG_OK)
		return rc;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return bg_error_set(err, BG_ERR_NOTFOUND, "no such session");
	}
	snprintf(out->approver, sizeof(out->approver), "%s", PQgetvalue(r, 0, 0));
	snprintf(out->csrf, sizeof(out->csrf), "%s", PQgetvalue(r, 0, 1));
	snprintf(out->source, sizeof(out->source), "%s", PQgetvalue(r, 0, 2));
	out->created_ms = col_int(r, 0, 3);
	out->last_used_ms = col_int(r, 0, 4);
	PQclear(r);
	return BG_OK;
}

static bg_status
pg_session_touch(ad_store *st, const char *id, int64_t now_ms, bg_error *err)
{
	params p = { .n = 0 };

	p_int(&p, now_ms);
	p_text(&p, id);
	return run(st, Q_SESSION_TOUCH, &p, NULL, err, "session touch");
}

static bg_status
pg_session_delete(ad_store *st, const char *id, bg_error *err)
{
	params p = { .n = 0 };

	p_text(&p, id);
	return run(st, Q_SESSION_DELETE, &p, NULL, err, "session delete");
}

static bg_status
pg_session_prune(ad_store *st, int64_t idle_ms, int64_t created_ms, bg_error *err)
{
	params p = { .n = 0 };

	p_int(&p, idle_ms);
	p_int(&p, created_ms);
	return run(st, Q_SESSION_PRUNE, &p, NULL, err, "session prune");
}

/* ------------------------------------------------------------------ */
/* One-time links and Slack response URLs. */

static bg_status
pg_link_insert(ad_store *st, const char *hash_hex, const ad_link *l, bg_error *err)
{
	params p = { .n = 0 };

	p_text(&p, hash_hex);
	p_text(&p, l->approver);
	p_text(&p, l->request_id);
	p_text(&p, l->action);
	p_int(&p, l->expires_ms);
	return run_one(st, Q_LINK_INSERT, &p, err, "link insert", "link exists");
}

static bg_status
pg_link_get(ad_store *st, const char *hash_hex, ad_link *out, bg_error *err)
{
	params p = { .n = 0 };
	bool oom = false;
	PGresult *r;
	bg_status rc;

	memset(out, 0, sizeof(*out));
	p_text(&p, hash_hex);
	if ((rc = run(st, Q_LINK_GET, &p, &r, err, "link")) != BG_OK)
		return rc;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return bg_error_set(err, BG_ERR_NOTFOUND, "no such link");
	}
	out->approver = col_text(r, 0, 0, &oom);
	out->request_id = col_text(r, 0, 1, &oom);
	out->action = col_text(r, 0, 2, &oom);
	out->expires_ms = col_int(r, 0, 3);
	out->used_ms = col_int(r, 0, 4);
	PQclear(r);
	if (oom || out->approver == NULL || out->request_id == NULL || out->action == NULL) {
		ad_link_clear(out);
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	}
	return BG_OK;
}

static bg_status
pg_link_use(ad_store *st, const char *hash_hex, int64_t now_ms, bg_error *err)
{
	params p = { .n = 0 };

	p_int(&p, now_ms);
	p_text(&p, hash_hex);
	return run_one(st, Q_LINK_USE, &p, err, "link use", "link used");
}

static bg_status
pg_link_prune(ad_store *st, int64_t before_ms, bg_error *err)
{
	unsigned long n;

	return run_delete(st, Q_LINK_PRUNE, before_ms, "link prune", &n, err);
}

static bg_status
pg_slack_response_put(ad_store *st, const char *request_id, const char *url,
    int64_t now_ms, bg_error *err)
{
	params p = { .n = 0 };

	p_text(&p, request_id);
	p_text(&p, url);
	p_int(&p, now_ms);
	return run(st, Q_SLACK_PUT, &p, NULL, err, "slack response");
}

static bg_status
pg_slack_response_get(ad_store *st, const char *request_id, char **url, bg_error *err)
{
	params p = { .n = 0 };
	bool oom = false;
	PGresult *r;
	bg_status rc;

	*url = NULL;
	p_text(&p, request_id);
	if ((rc = run(st, Q_SLACK_GET, &p, &r, err, "slack response")) != BG_OK)
		return rc;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return bg_error_set(err, BG_ERR_NOTFOUND, "no slack response");
	}
	*url = col_text(r, 0, 0, &oom);
	PQclear(r);
	return *url != NULL ? BG_OK : bg_error_set(err, BG_ERR_NOMEM, "out of memory");
}

static bg_status
pg_slack_post_put(ad_store *st, const ad_slack_post *sp, bg_error *err)
{
	params p = { .n = 0 };

	p_text(&p, sp->request_id);
	p_text(&p, sp->target);
	p_text(&p, sp->post_msg);
	p_text(&p, sp->update_msg);
	p_text(&p, sp->channel);
	p_text(&p, sp->ts);
	return run(st, Q_SLACK_POST_PUT, &p, NULL, err, "slack post");
}

static bg_status
pg_slack_post_get(ad_store *st, const char *target, const char *msg_id,
    ad_slack_post *out, bg_error *err)
{
	params p = { .n = 0 };
	bool oom = false;
	PGresult *r;
	bg_status rc;

	p_text(&p, target);
	p_text(&p, msg_id);
	if ((rc = run(st, Q_SLACK_POST_GET, &p, &r, err, "slack post")) != BG_OK)
		return rc;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return bg_error_set(err, BG_ERR_NOTFOUND, "no slack post");
	}
	out->request_id = col_text(r, 0, 0, &oom);
	out->target = col_text(r, 0, 1, &oom);
	out->post_msg = col_text(r, 0, 2, &oom);
	out->update_msg = col_text(r, 0, 3, &oom);
	out->channel = col_text(r, 0, 4, &oom);
	out->ts = col_text(r, 0, 5, &oom);
	PQclear(r);
	if (oom || out->request_id == NULL || out->target == NULL) {
		ad_slack_post_clear(out);
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	}
	return BG_OK;
}

static bg_status
pg_slack_post_set_update(ad_store *st, const char *target, const char *request_id,
    const char *update_msg, bg_error *err)
{
	params p = { .n = 0 };
	bg_status rc;

	p_text(&p, target);
	p_text(&p, request_id);
	p_text(&p, update_msg);
	rc = run_one(st, Q_SLACK_POST_UPDATE, &p, err, "slack post update", "no slack post");
	return rc == BG_ERR_DENIED ? BG_ERR_NOTFOUND : rc;
}

static bg_status
pg_slack_post_delete(ad_store *st, const char *target, const char *request_id,
    bg_error *err)
{
	params p = { .n = 0 };

	p_text(&p, target);
	p_text(&p, request_id);
	return run(st, Q_SLACK_POST_DELETE, &p, NULL, err, "slack post delete");
}

/* ------------------------------------------------------------------ */
/* Passkeys and WebAuthn challenges. */

static bg_status
pg_passkey_insert(ad_store *st, const ad_passkey *pk, bg_error *err)
{
	params p = { .n = 0 };

	p_text(&p, pk->approver);
	p_text(&p, pk->id_hex);
	p_int(&p, pk->alg);
	p_text(&p, pk->pubkey_hex);
	p_int(&p, pk->sign_count);
	p_text(&p, pk->label);
	p_int(&p, pk->created_ms);
	return run_one(st, Q_PK_INSERT, &p, err, "passkey insert",
	    "passkey registered already");
}

static bg_status
read_passkeys(ad_store *st, int which, const params *p, ad_passkey **out, size_t *count,
    bg_error *err)
{
	PGresult *r;
	bool oom = false;
	size_t rows;
	bg_status rc;

	*out = NULL;
	*count = 0;
	if ((rc = run(st, which, p, &r, err, "passkeys")) != BG_OK)
		return rc;
	rows = (size_t)PQntuples(r);
	if ((*out = calloc(rows > 0 ? rows : 1, sizeof(**out))) == NULL)
		oom = true;
	for (size_t i = 0; !oom && i < rows; i++) {
		ad_passkey *pk = &(*out)[(*count)++];

		pk->approver = col_text(r, (int)i, 0, &oom);
		pk->id_hex = col_text(r, (int)i, 1, &oom);
		pk->alg = (int)col_int(r, (int)i, 2);
		pk->pubkey_hex = col_text(r, (int)i, 3, &oom);
		pk->sign_count = (uint32_t)col_int(r, (int)i, 4);
		pk->label = col_text(r, (int)i, 5, &oom);
		pk->created_ms = col_int(r, (int)i, 6);
		pk->last_used_ms = col_int(r, (int)i, 7);
	}
	PQclear(r);
	if (oom) {
		ad_passkeys_free(*out, *count);
		*out = NULL;
		*count = 0;
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	}
	return BG_OK;
}

static bg_status
pg_passkey_get(ad_store *st, const char *id_hex, ad_passkey *out, bg_error *err)
{
	params p = { .n = 0 };
	ad_passkey *found;
	size_t n;
	bg_status rc;

	memset(out, 0, sizeof(*out));
	p_text(&p, id_hex);
	if ((rc = read_passkeys(st, Q_PK_GET, &p, &found, &n, err)) != BG_OK)
		return rc;
	if (n == 0) {
		free(found);
		return bg_error_set(err, BG_ERR_NOTFOUND, "no such passkey");
	}
	*out = found[0];
	free(found);
	return BG_OK;
}

static bg_status
pg_passkeys(ad_store *st, const char *approver, ad_passkey **out, size_t *count,
    bg_error *err)
{
	params p = { .n = 0 };

	p_text(&p, approver);
	return read_passkeys(st, Q_PK_LIST, &p, out, count, err);
}

static bg_status
pg_passkey_used(ad_store *st, const char *id_hex, uint32_t sign_count, int64_t now_ms,
    bg_error *err)
{
	params p = { .n = 0 };

	p_int(&p, sign_count);
	p_int(&p, now_ms);
	p_text(&p, id_hex);
	return run_one(st, Q_PK_USED, &p, err, "passkey use", "no such passkey");
}

static bg_status
pg_challenge_prune(ad_store *st, int64_t now_ms, bg_error *err)
{
	unsigned long pruned;

	return run_delete(st, Q_CH_PRUNE, now_ms, "challenge prune", &pruned, err);
}

static bg_status
pg_challenge_insert(ad_store *st, const char *hex, const ad_challenge *c, int64_t now_ms,
    bg_error *err)
{
	params p = { .n = 0 }, q = { .n = 0 };
	int64_t outstanding;
	bg_status rc;

	if ((rc = pg_challenge_prune(st, now_ms, err)) != BG_OK)
		return rc;
	p_text(&p, c->approver);
	if ((rc = read_int(st, Q_CH_COUNT, &p, "challenge count", &outstanding, err)) != BG_OK)
		return rc;
	if (outstanding >= AD_CHALLENGES_MAX)
		return bg_error_set(err, BG_ERR_DENIED, "too many challenges outstanding");
	p_text(&q, hex);
	p_text(&q, c->approver);
	p_text(&q, c->binding);
	p_text(&q, c->purpose);
	p_int(&q, c->expires_ms);
	return run_one(st, Q_CH_INSERT, &q, err, "challenge insert", "challenge exists");
}

static bg_status
pg_challenge_take(ad_store *st, const char *hex, ad_challenge *out, bg_error *err)
{
	params p = { .n = 0 };
	PGresult *r;
	bool oom = false;
	bg_status rc;

	memset(out, 0, sizeof(*out));
	p_text(&p, hex);
	if ((rc = run(st, Q_CH_TAKE, &p, &r, err, "challenge")) != BG_OK)
		return rc;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return bg_error_set(err, BG_ERR_NOTFOUND, "no such challenge");
	}
	out->approver = col_text(r, 0, 0, &oom);
	out->binding = col_text(r, 0, 1, &oom);
	out->purpose = col_text(r, 0, 2, &oom);
	out->expires_ms = col_int(r, 0, 3);
	PQclear(r);
	if (oom) {
		ad_challenge_clear(out);
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	}
	return BG_OK;
}

static const ad_store_ops pg_ops = {
	.close = pg_close,
	.begin = pg_begin,
	.begin_lazy = pg_begin_lazy,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.part = pg_part,
	.link_insert = pg_link_insert,
	.link_get = pg_link_get,
	.link_use = pg_link_use,
	.link_prune = pg_link_prune,
	.slack_response_put = pg_slack_response_put,
	.slack_response_get = pg_slack_response_get,
	.slack_post_put = pg_slack_post_put,
	.slack_post_get = pg_slack_post_get,
	.slack_post_set_update = pg_slack_post_set_update,
	.slack_post_delete = pg_slack_post_delete,
	.seen_add = pg_seen_add,
	.seen_prune = pg_seen_prune,
	.request_get = pg_request_get,
	.request_votes = pg_request_votes,
	.request_insert = pg_request_insert,
	.request_set_status = pg_request_set_status,
	.pending = pg_pending,
	.pending_count = pg_pending_count,
	.purge = pg_purge,
	.health = pg_health,
	.due = pg_due,
	.votes = pg_votes,
	.vote_insert = pg_vote_insert,
	.notify_insert = pg_notify_insert,
	.notify_due = pg_notify_due,
	.notify_done = pg_notify_done,
	.notify_targets = pg_notify_targets,
	.notify_retry = pg_notify_retry,
	.totp_get = pg_totp_get,
	.totp_put = pg_totp_put,
	.session_insert = pg_session_insert,
	.session_get = pg_session_get,
	.session_touch = pg_session_touch,
	.session_delete = pg_session_delete,
	.session_prune = pg_session_prune,
	.recovery_get = pg_recovery_get,
	.recovery_insert = pg_recovery_insert,
	.recoveries = pg_recoveries,
	.passkey_insert = pg_passkey_insert,
	.passkey_get = pg_passkey_get,
	.passkeys = pg_passkeys,
	.passkey_used = pg_passkey_used,
	.challenge_insert = pg_challenge_insert,
	.challenge_take = pg_challenge_take,
	.challenge_prune = pg_challenge_prune,
};
