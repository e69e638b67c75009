/*
 * The SQLite backend (WAL mode), the embedded default: requests, votes, the
 * host signatures seen (replay refusal), the notification queue and the
 * recovery reports (protocol R1).  Everything a decision depends on is here,
 * so a restart loses nothing.  Every statement is prepared once per handle;
 * a handle belongs to one thread.  BEGIN IMMEDIATE makes every transaction
 * a writer: one at a time, so what a transaction read is still true when it
 * commits.
 */
#include "build_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store_backend.h"

/* How long a writer waits for another thread's transaction. */
#define BUSY_TIMEOUT_MS 5000

static const char schema_sql[] =
	"PRAGMA journal_mode=WAL;"
	"PRAGMA synchronous=FULL;"
	"PRAGMA foreign_keys=ON;"
	"CREATE TABLE IF NOT EXISTS requests ("
	" id TEXT PRIMARY KEY, host TEXT NOT NULL, operator TEXT NOT NULL,"
	" status TEXT NOT NULL, body BLOB NOT NULL, received_ms INTEGER NOT NULL,"
	" expires_ms INTEGER NOT NULL, decided_ms INTEGER);"
	"CREATE INDEX IF NOT EXISTS requests_status ON requests(status, expires_ms);"
	"CREATE TABLE IF NOT EXISTS votes ("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	" request_id TEXT NOT NULL REFERENCES requests(id), approver TEXT NOT NULL,"
	" approve INTEGER NOT NULL, at_ms INTEGER NOT NULL, comment TEXT NOT NULL,"
	" UNIQUE(request_id, approver));"
	"CREATE TABLE IF NOT EXISTS seen ("
	" host TEXT NOT NULL, sig TEXT NOT NULL, at_ms INTEGER NOT NULL,"
	" PRIMARY KEY(host, sig)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS notifications ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT, target TEXT NOT NULL, url TEXT NOT NULL,"
	" format INTEGER NOT NULL, secret TEXT, msg_id TEXT NOT NULL, body TEXT NOT NULL,"
	" attempts INTEGER NOT NULL DEFAULT 0, next_ms INTEGER NOT NULL);";

/*
 * The schema's version is PRAGMA user_version: 0 for a database made before
 * it was kept (the tables above, version 1).  migrations[v - 1] takes version
 * v to v + 1; a database newer than SCHEMA_VERSION is refused rather than
 * misread.
 */
#define SCHEMA_VERSION 8
static const char *const migrations[SCHEMA_VERSION - 1] = {
	/* 2: recovery reports, one per (host, recovery_id). */
	"CREATE TABLE IF NOT EXISTS recoveries ("
	" host TEXT NOT NULL, id TEXT NOT NULL, operator TEXT NOT NULL,"
	" body BLOB NOT NULL, received_ms INTEGER NOT NULL,"
	" PRIMARY KEY(host, id)) WITHOUT ROWID;",
	/*
	 * 3: the health probe's row (a real write), and the indexes of the
	 * retention purge, the per-host pending count and per-target delivery.
	 */
	"CREATE TABLE IF NOT EXISTS health (id INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL);"
	"INSERT INTO health (id, at_ms) SELECT 1, 0 WHERE NOT EXISTS (SELECT 1 FROM health);"
	"CREATE INDEX IF NOT EXISTS requests_decided ON requests(decided_ms);"
	"CREATE INDEX IF NOT EXISTS requests_host ON requests(host, status);"
	"CREATE INDEX IF NOT EXISTS notifications_target ON notifications(target, next_ms);",
	/* 4: approvers' TOTP replay and lockout state (were files in state_dir/totp). */
	"CREATE TABLE IF NOT EXISTS approver_totp ("
	" approver TEXT PRIMARY KEY, last_step INTEGER NOT NULL,"
	" failures TEXT NOT NULL, locked_until INTEGER NOT NULL) WITHOUT ROWID;",
	/* 5: approvers' sessions, by the SHA-256 of their cookie. */
	"CREATE TABLE IF NOT EXISTS sessions ("
	" id TEXT PRIMARY KEY, approver TEXT NOT NULL, csrf TEXT NOT NULL,"
	" source TEXT NOT NULL, created_ms INTEGER NOT NULL,"
	" last_used_ms INTEGER NOT NULL) WITHOUT ROWID;",
	/*
	 * 6: one-time links (the token's SHA-256, never the token), and the
	 * Slack response_url through which a request's message is updated.
	 */
	"CREATE TABLE IF NOT EXISTS links ("
	" token_sha256 TEXT PRIMARY KEY, approver TEXT NOT NULL, request_id TEXT NOT NULL,"
	" action TEXT NOT NULL, expires_ms INTEGER NOT NULL, used_ms INTEGER) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS links_request ON links(request_id);"
	"CREATE TABLE IF NOT EXISTS slack_responses ("
	" request_id TEXT PRIMARY KEY, url TEXT NOT NULL, at_ms INTEGER NOT NULL) WITHOUT ROWID;",
	/* 7: approvers' passkeys and the WebAuthn challenges issued to them. */
	"CREATE TABLE IF NOT EXISTS passkeys ("
	" id TEXT PRIMARY KEY, approver TEXT NOT NULL, alg INTEGER NOT NULL,"
	" pubkey TEXT NOT NULL, sign_count INTEGER NOT NULL, label TEXT NOT NULL,"
	" created_ms INTEGER NOT NULL, last_used_ms INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS passkeys_approver ON passkeys(approver, created_ms);"
	"CREATE TABLE IF NOT EXISTS webauthn_challenges ("
	" challenge TEXT PRIMARY KEY, approver TEXT NOT NULL, binding TEXT NOT NULL,"
	" purpose TEXT NOT NULL, expires_ms INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS webauthn_challenges_expiry "
	"ON webauthn_challenges(expires_ms);"
	"CREATE INDEX IF NOT EXISTS webauthn_challenges_approver "
	"ON webauthn_challenges(approver);",
	/* 8: requests' messages posted by a Slack bot, updated once decided. */
	"CREATE TABLE IF NOT EXISTS slack_posts ("
	" request_id TEXT NOT NULL, target TEXT NOT NULL, post_msg TEXT, update_msg TEXT,"
	" channel TEXT, ts TEXT, PRIMARY KEY(request_id, target)) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS slack_posts_msg ON slack_posts(target, post_msg);"
	"CREATE INDEX IF NOT EXISTS slack_posts_update ON slack_posts(target, update_msg);",
};

enum {
	Q_BEGIN, Q_COMMIT, Q_ROLLBACK, Q_SYNC_NORMAL, Q_SYNC_FULL,
	Q_PART_BEGIN, Q_PART_END, Q_PART_UNDO,
	Q_SEEN_ADD, Q_SEEN_PRUNE,
	Q_REQ_GET, Q_REQ_INSERT, Q_REQ_STATUS, Q_REQ_PENDING, Q_REQ_DUE,
	Q_VOTES, Q_VOTE_INSERT,
	Q_REQ_PENDING_HOST,
	Q_LINK_INSERT, Q_LINK_GET, Q_LINK_USE, Q_LINK_PRUNE, Q_SLACK_PUT, Q_SLACK_GET,
	Q_PURGE_LINKS, Q_PURGE_SLACK,
	Q_SLACK_POST_PUT, Q_SLACK_POST_GET, Q_SLACK_POST_UPDATE, Q_SLACK_POST_DELETE,
	Q_PURGE_SLACK_POSTS,
	Q_NOTIFY_INSERT, Q_NOTIFY_DUE, Q_NOTIFY_NEXT, Q_NOTIFY_DONE, Q_NOTIFY_RETRY,
	Q_NOTIFY_TARGETS,
	Q_REC_GET, Q_REC_INSERT, Q_REC_RECENT,
	Q_PURGE_VOTES, Q_PURGE_REQUESTS, Q_PURGE_RECOVERIES, Q_HEALTH,
	Q_TOTP_ADD, Q_TOTP_GET, Q_TOTP_PUT,
	Q_SESSION_INSERT, Q_SESSION_GET, Q_SESSION_TOUCH, Q_SESSION_DELETE,
	Q_SESSION_PRUNE,
	Q_PK_INSERT, Q_PK_GET, Q_PK_LIST, Q_PK_USED,
	Q_CH_PRUNE, Q_CH_COUNT, Q_CH_INSERT, Q_CH_TAKE,
	Q_COUNT
};

#define REQ_COLUMNS "id, host, operator, status, body, received_ms, expires_ms"
/* A recovery report read as an ad_request (read_request's columns). */
#define REC_COLUMNS "id, host, operator, 'reported', body, received_ms, 0"
/* The page lists this many of the latest recovery reports. */
#define RECOVERIES_SHOWN 50
#define SLACK_POST_COLUMNS "request_id, target, post_msg, update_msg, channel, ts"
#define PK_COLUMNS "approver, id, alg, pubkey, sign_count, label, created_ms, last_used_ms"
#define STR(x) #x
#define XSTR(x) STR(x)

static const char *const query_sql[Q_COUNT] = {
	[Q_BEGIN] = "BEGIN IMMEDIATE",
	[Q_COMMIT] = "COMMIT",
	[Q_ROLLBACK] = "ROLLBACK",
	[Q_PART_BEGIN] = "SAVEPOINT part",
	[Q_PART_END] = "RELEASE part",
	[Q_PART_UNDO] = "ROLLBACK TO part",
	[Q_SYNC_NORMAL] = "PRAGMA synchronous=NORMAL",
	[Q_SYNC_FULL] = "PRAGMA synchronous=FULL",
	[Q_SEEN_ADD] = "INSERT OR IGNORE INTO seen (host, sig, at_ms) VALUES (?, ?, ?)",
	[Q_SEEN_PRUNE] = "DELETE FROM seen WHERE at_ms < ?",
	[Q_REQ_GET] = "SELECT " REQ_COLUMNS " FROM requests WHERE id = ?",
	[Q_REQ_INSERT] = "INSERT OR IGNORE INTO requests (" REQ_COLUMNS ") "
	    "VALUES (?, ?, ?, ?, ?, ?, ?)",
	[Q_REQ_STATUS] = "UPDATE requests SET status = ?, decided_ms = ? "
	    "WHERE id = ? AND status = 'pending'",
	[Q_REQ_PENDING] = "SELECT " REQ_COLUMNS " FROM requests "
	    "WHERE status = 'pending' ORDER BY received_ms, id",
	[Q_REQ_DUE] = "SELECT " REQ_COLUMNS " FROM requests "
	    "WHERE status = 'pending' AND expires_ms <= ? ORDER BY expires_ms",
	[Q_VOTES] = "SELECT approver, approve, at_ms, comment FROM votes "
	    "WHERE request_id = ? ORDER BY seq",
	[Q_VOTE_INSERT] = "INSERT OR IGNORE INTO votes "
	    "(request_id, approver, approve, at_ms, comment) VALUES (?, ?, ?, ?, ?)",
	[Q_NOTIFY_INSERT] = "INSERT INTO notifications "
	    "(target, url, format, secret, msg_id, body, next_ms) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?)",
	[Q_REQ_PENDING_HOST] = "SELECT count(*) FROM requests "
	    "WHERE host = ? AND status = 'pending' AND expires_ms > ?",
	[Q_NOTIFY_DUE] = "SELECT id, target, url, format, secret, msg_id, body, attempts "
	    "FROM notifications WHERE target = ? AND next_ms <= ? "
	    "ORDER BY next_ms, id LIMIT 1",
	[Q_NOTIFY_NEXT] = "SELECT min(next_ms) FROM notifications WHERE target = ?",
	[Q_NOTIFY_TARGETS] = "SELECT DISTINCT target FROM notifications",
	[Q_NOTIFY_DONE] = "DELETE FROM notifications WHERE id = ?",
	[Q_NOTIFY_RETRY] = "UPDATE notifications SET attempts = ?, next_ms = ? WHERE id = ?",
	[Q_REC_GET] = "SELECT " REC_COLUMNS " FROM recoveries WHERE host = ? AND id = ?",
	[Q_REC_INSERT] = "INSERT OR IGNORE INTO recoveries "
	    "(host, id, operator, body, received_ms) "
	    "VALUES (?, ?, ?, ?, ?)",
	[Q_REC_RECENT] = "SELECT " REC_COLUMNS " FROM recoveries "
	    "ORDER BY received_ms DESC, host, id LIMIT " XSTR(RECOVERIES_SHOWN),
	[Q_PURGE_VOTES] = "DELETE FROM votes WHERE request_id IN (SELECT id FROM requests "
	    "WHERE status <> 'pending' AND decided_ms < ?)",
	[Q_PURGE_REQUESTS] = "DELETE FROM requests "
	    "WHERE status <> 'pending' AND decided_ms < ?",
	[Q_PURGE_RECOVERIES] = "DELETE FROM recoveries WHERE received_ms < ?",
	[Q_LINK_INSERT] = "INSERT OR IGNORE INTO links "
	    "(token_sha256, approver, request_id, action, expires_ms) VALUES (?, ?, ?, ?, ?)",
	[Q_LINK_GET] = "SELECT approver, request_id, action, expires_ms, used_ms FROM links "
	    "WHERE token_sha256 = ?",
	[Q_LINK_USE] = "UPDATE links SET used_ms = ? WHERE token_sha256 = ? AND used_ms IS NULL",
	[Q_LINK_PRUNE] = "DELETE FROM links WHERE expires_ms < ?",
	[Q_SLACK_PUT] = "INSERT INTO slack_responses (request_id, url, at_ms) VALUES (?, ?, ?) "
	    "ON CONFLICT(request_id) DO UPDATE SET url = excluded.url, at_ms = excluded.at_ms",
	[Q_SLACK_GET] = "SELECT url FROM slack_responses WHERE request_id = ?",
	/* A link lives minutes: older than the retention cutoff, it is long expired. */
	[Q_PURGE_LINKS] = "DELETE FROM links WHERE expires_ms < ?1 OR request_id IN "
	    "(SELECT id FROM requests WHERE status <> 'pending' AND decided_ms < ?1)",
	[Q_PURGE_SLACK] = "DELETE FROM slack_responses WHERE request_id IN "
	    "(SELECT id FROM requests WHERE status <> 'pending' AND decided_ms < ?)",
	[Q_SLACK_POST_PUT] = "INSERT INTO slack_posts "
	    "(request_id, target, post_msg, update_msg, channel, ts) VALUES (?, ?, ?, ?, ?, ?) "
	    "ON CONFLICT(request_id, target) DO UPDATE SET "
	    "post_msg = coalesce(excluded.post_msg, post_msg), "
	    "update_msg = coalesce(excluded.update_msg, update_msg), "
	    "channel = coalesce(excluded.channel, channel), ts = coalesce(excluded.ts, ts)",
	[Q_SLACK_POST_GET] = "SELECT " SLACK_POST_COLUMNS " FROM slack_posts "
	    "WHERE target = ?1 AND (post_msg = ?2 OR update_msg = ?2)",
	[Q_SLACK_POST_UPDATE] = "UPDATE slack_posts SET update_msg = ?3 "
	    "WHERE target = ?1 AND request_id = ?2",
	[Q_SLACK_POST_DELETE] = "DELETE FROM slack_posts WHERE target = ? AND request_id = ?",
	[Q_PURGE_SLACK_POSTS] = "DELETE FROM slack_posts WHERE request_id IN "
	    "(SELECT id FROM requests WHERE status <> 'pending' AND decided_ms < ?)",
	[Q_HEALTH] = "UPDATE health SET at_ms = ? WHERE id = 1",
	[Q_TOTP_ADD] = "INSERT OR IGNORE INTO approver_totp "
	    "(approver, last_step, failures, locked_until) VALUES (?, 0, '', 0)",
	[Q_TOTP_GET] = "SELECT last_step, failures, locked_until FROM approver_totp "
	    "WHERE approver = ?",
	[Q_TOTP_PUT] = "UPDATE approver_totp SET last_step = ?, failures = ?, "
	    "locked_until = ? WHERE approver = ?",
	[Q_PK_INSERT] = "INSERT OR IGNORE INTO passkeys (" PK_COLUMNS ") "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, 0)",
	[Q_PK_GET] = "SELECT " PK_COLUMNS " FROM passkeys WHERE id = ?",
	[Q_PK_LIST] = "SELECT " PK_COLUMNS " FROM passkeys WHERE approver = ? "
	    "ORDER BY created_ms, id",
	[Q_PK_USED] = "UPDATE passkeys SET sign_count = ?, last_used_ms = ? WHERE id = ?",
	[Q_CH_PRUNE] = "DELETE FROM webauthn_challenges WHERE expires_ms <= ?",
	[Q_CH_COUNT] = "SELECT count(*) FROM webauthn_challenges WHERE approver = ?",
	[Q_CH_INSERT] = "INSERT OR IGNORE INTO webauthn_challenges "
	    "(challenge, approver, binding, purpose, expires_ms) VALUES (?, ?, ?, ?, ?)",
	[Q_CH_TAKE] = "DELETE FROM webauthn_challenges WHERE challenge = ? "
	    "RETURNING approver, binding, purpose, expires_ms",
	[Q_SESSION_INSERT] = "INSERT INTO sessions "
	    "(id, approver, csrf, source, created_ms, last_used_ms) VALUES (?, ?, ?, ?, ?, ?)",
	[Q_SESSION_GET] = "SELECT approver, csrf, source, created_ms, last_used_ms "
	    "FROM sessions WHERE id = ?",
	[Q_SESSION_TOUCH] = "UPDATE sessions SET last_used_ms = ? WHERE id = ?",
	[Q_SESSION_DELETE] = "DELETE FROM sessions WHERE id = ?",
	[Q_SESSION_PRUNE] = "DELETE FROM sessions WHERE last_used_ms < ? OR created_ms < ?",
};

typedef struct {
	ad_store base;           /* first: the handle given out */
	sqlite3 *db;
	sqlite3_stmt *q[Q_COUNT];
} sq_store;

static const ad_store_ops sq_ops;
static void sq_close(ad_store *st);

static sq_store *
sq(ad_store *st)
{
	return (sq_store *)(void *)st;
}

static bg_status
db_error(ad_store *st, bg_error *err, const char *what)
{
	return bg_error_set(err, BG_ERR_IO, "database: %s: %s", what,
	    sqlite3_errmsg(sq(st)->db));
}

/* Brings the schema to SCHEMA_VERSION in one transaction. */
static bg_status
migrate(ad_store *st, const char *path, bg_error *err)
{
	sqlite3_stmt *s = NULL;
	char *msg = NULL, set[64];
	int version = -1;
	bool ok;

	if (sqlite3_exec(sq(st)->db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK)
		goto fail;
	if (sqlite3_prepare_v2(sq(st)->db, "PRAGMA user_version", -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		version = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	if (version < 0 || version > SCHEMA_VERSION) {
		sqlite3_exec(sq(st)->db, "ROLLBACK", NULL, NULL, NULL);
		return bg_error_set(err, BG_ERR_INVALID, "%s: schema version %d, this service "
		    "knows versions up to %d", path, version, SCHEMA_VERSION);
	}
	if (version == 0)
		version = 1;
	ok = true;
	for (; ok && version < SCHEMA_VERSION; version++)
		ok = sqlite3_exec(sq(st)->db, migrations[version - 1], NULL, NULL, &msg) == SQLITE_OK;
	snprintf(set, sizeof(set), "PRAGMA user_version = %d", SCHEMA_VERSION);
	if (ok && sqlite3_exec(sq(st)->db, set, NULL, NULL, &msg) == SQLITE_OK &&
	    sqlite3_exec(sq(st)->db, "COMMIT", NULL, NULL, &msg) == SQLITE_OK)
		return BG_OK;
	sqlite3_exec(sq(st)->db, "ROLLBACK", NULL, NULL, NULL);
fail:
	bg_error_set(err, BG_ERR_IO, "%s: schema migration: %s", path,
	    msg != NULL ? msg : sqlite3_errmsg(sq(st)->db));
	sqlite3_free(msg);
	return BG_ERR_IO;
}

bg_status
ad_store_sqlite_open(const ad_config_server *cfg, ad_store **out, bg_error *err)
{
	sq_store *h = calloc(1, sizeof(*h));
	const char *path = cfg->database;
	ad_store *st = &h->base;
	char *msg = NULL;

	if (h == NULL)
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	st->ops = &sq_ops;
	if (sqlite3_open_v2(path, &sq(st)->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	    SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW, NULL) != SQLITE_OK) {
		bg_error_set(err, BG_ERR_IO, "%s: %s", path,
		    sq(st)->db != NULL ? sqlite3_errmsg(sq(st)->db) : "out of memory");
		sq_close(st);
		return BG_ERR_IO;
	}
	sqlite3_busy_timeout(sq(st)->db, BUSY_TIMEOUT_MS);
	if (sqlite3_exec(sq(st)->db, schema_sql, NULL, NULL, &msg) != SQLITE_OK) {
		bg_error_set(err, BG_ERR_IO, "%s: %s", path, msg != NULL ? msg : "schema");
		sqlite3_free(msg);
		sq_close(st);
		return BG_ERR_IO;
	}
	if (migrate(st, path, err) != BG_OK) {
		sq_close(st);
		return BG_ERR_IO;
	}
	for (int i = 0; i < Q_COUNT; i++)
		if (sqlite3_prepare_v3(sq(st)->db, query_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &sq(st)->q[i], NULL) != SQLITE_OK) {
			db_error(st, err, "prepare");
			sq_close(st);
			return BG_ERR_IO;
		}
	*out = st;
	return BG_OK;
}

static void
sq_close(ad_store *st)
{
	if (st == NULL)
		return;
	for (int i = 0; i < Q_COUNT; i++)
		sqlite3_finalize(sq(st)->q[i]);
	sqlite3_close(sq(st)->db);
	free(sq(st));
}

/* A statement ready for binding. */
static sqlite3_stmt *
q(ad_store *st, int which)
{
	sqlite3_reset(sq(st)->q[which]);
	sqlite3_clear_bindings(sq(st)->q[which]);
	return sq(st)->q[which];
}

/* Runs a statement that returns no rows. */
static bg_status
run(ad_store *st, sqlite3_stmt *s, bg_error *err, const char *what)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return db_error(st, err, what);
	return BG_OK;
}

/* Like run, for a statement changing at most one row: BG_ERR_DENIED when none. */
static bg_status
run_one(ad_store *st, sqlite3_stmt *s, bg_error *err, const char *what,
    const char *none)
{
	bg_status rc = run(st, s, err, what);

	if (rc == BG_OK && sqlite3_changes(sq(st)->db) == 0)
		return bg_error_set(err, BG_ERR_DENIED, "%s", none);
	return rc;
}

static void
bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v == NULL)
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

/* A copy of a text column; NULL stays NULL.  *oom on allocation failure. */
static char *
col_text(sqlite3_stmt *s, int i, bool *oom)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	char *copy;

	if (t == NULL)
		return NULL;
	copy = strdup((const char *)t);
	if (copy == NULL)
		*oom = true;
	return copy;
}

/* SQLite sets the safety level between transactions only. */
static bg_status
begin(ad_store *st, int sync, bg_error *err)
{
	bg_status rc = run(st, q(st, sync), err, "synchronous");

	return rc == BG_OK ? run(st, q(st, Q_BEGIN), err, "begin") : rc;
}

static bg_status
sq_begin(ad_store *st, bg_error *err)
{
	return begin(st, Q_SYNC_FULL, err);
}

static bg_status
sq_begin_lazy(ad_store *st, bg_error *err)
{
	/* WAL with synchronous=NORMAL: on disk at the next full commit or checkpoint. */
	return begin(st, Q_SYNC_NORMAL, err);
}

static bg_status
sq_commit(ad_store *st, bg_error *err)
{
	return run(st, q(st, Q_COMMIT), err, "commit");
}

static void
sq_rollback(ad_store *st)
{
	sqlite3_step(q(st, Q_ROLLBACK));
	sqlite3_reset(sq(st)->q[Q_ROLLBACK]);
}

static bg_status
sq_part(ad_store *st, ad_store_part op, bg_error *err)
{
	static const int which[] = {
		[AD_PART_BEGIN] = Q_PART_BEGIN, [AD_PART_END] = Q_PART_END,
		[AD_PART_UNDO] = Q_PART_UNDO,
	};

	return run(st, q(st, which[op]), err, "savepoint");
}

/* ------------------------------------------------------------------ */

static bg_status
sq_seen_add(ad_store *st, const char *host, const char *sig, int64_t now_ms,
    bg_error *err)
{
	sqlite3_stmt *s = q(st, Q_SEEN_ADD);

	bind_text(s, 1, host);
	bind_text(s, 2, sig);
	sqlite3_bind_int64(s, 3, now_ms);
	return run_one(st, s, err, "seen", "signature replayed");
}

static bg_status
sq_seen_prune(ad_store *st, int64_t before_ms, bg_error *err)
{
	sqlite3_stmt *s = q(st, Q_SEEN_PRUNE);

	sqlite3_bind_int64(s, 1, before_ms);
	return run(st, s, err, "prune");
}

/* ------------------------------------------------------------------ */

static bg_status
read_request(sqlite3_stmt *s, ad_request *r, bg_error *err)
{
	const void *body = sqlite3_column_blob(s, 4);
	int len = sqlite3_column_bytes(s, 4);
	bool oom = false;

	memset(r, 0, sizeof(*r));
	r->id = col_text(s, 0, &oom);
	r->host = col_text(s, 1, &oom);
	r->operator_name = col_text(s, 2, &oom);
	r->status = col_text(s, 3, &oom);
	/* NUL-terminated: the body is parsed as JSON text. */
	r->body = malloc((size_t)len + 1);
	if (r->body == NULL || oom) {
		ad_request_clear(r);
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	}
	if (len > 0)
		memcpy(r->body, body, (size_t)len);
	r->body[len] = '\0';
	r->body_len = (size_t)len;
	r->received_ms = sqlite3_column_int64(s, 5);
	r->expires_ms = sqlite3_column_int64(s, 6);
	return BG_OK;
}

/* Steps a bound query for one row into *out; BG_ERR_NOTFOUND when there is none. */
static bg_status
read_one(ad_store *st, sqlite3_stmt *s, const char *what, ad_request *out, bg_error *err)
{
	bg_status rc;
	int step;

	step = sqlite3_step(s);
	if (step == SQLITE_DONE)
		rc = bg_error_set(err, BG_ERR_NOTFOUND, "no such %s", what);
	else if (step != SQLITE_ROW)
		rc = db_error(st, err, what);
	else
		rc = read_request(s, out, err);
	sqlite3_reset(s);
	return rc;
}

static bg_status
sq_request_get(ad_store *st, const char *id, ad_request *out, bg_error *err)
{
	sqlite3_stmt *s = q(st, Q_REQ_GET);

	bind_text(s, 1, id);
	return read_one(st, s, "request", out, err);
}


/* The only instance on this file: its own polls were woken already. */
static bg_status
sq_request_insert(ad_store *st, const ad_request *r, bg_error *err)
{
	sqlite3_stmt *s = q(st, Q_REQ_INSERT);

	bind_text(s, 1, r->id);
	bind_text(s, 2, r->host);
	bind_text(s, 3, r->operator_name);
	bind_text(s, 4, r->status);
	sqlite3_bind_blob(s, 5, r->body, (int)r->body_len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, r->received_ms);
	sqlite3_bind_int64(s, 7, r->expires_ms);
	return run_one(st, s, err, "insert request", "request exists");
}

static bg_status
sq_request_set_status(ad_store *st, const char *id, const char *status,
    int64_t now_ms, bg_error *err)
{
	sqlite3_stmt *s = q(st, Q_REQ_STATUS);

	bind_text(s, 1, status);
	sqlite3_bind_int64(s, 2, now_ms);
	bind_text(s, 3, id);
	return run_one(st, s, err, "update request", "already decided");
}

static bg_status
read_requests(ad_store *st, sqlite3_stmt *s, ad_request **out, size_t *count,
    bg_error *err)
{
	ad_request *list = NULL;
	size_t n = 0;
	bg_status rc = BG_OK;
	int step;

	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		ad_request *grown = realloc(list, (n + 1) * sizeof(*list));

		if (grown == NULL) {
			rc = bg_error_set(err, BG_ERR_NOMEM, "out of memory");
			break;
		}
		list = grown;
		if ((rc = read_request(s, &list[n], err)) != BG_OK)
			break;
		n++;
	}
	if (rc == BG_OK && step != SQLITE_DONE)
		rc = db_error(st, err, "requests");
	sqlite3_reset(s);
	if (rc != BG_OK) {
		ad_requests_free(list, n);
		return rc;
	}
	*out = list;
	*count = n;
	return BG_OK;
}

static bg_status
sq_pending(ad_store *st, ad_request **out, size_t *count, bg_error *err)
{
	return read_requests(st, q(st, Q_REQ_PENDING), out, count, err);
}

static bg_status
sq_due(ad_store *st, int64_t now_ms, ad_request **out, size_t *count,
    bg_error *err)
{
	sqlite3_stmt *s = q(st, Q_REQ_DUE);

	sqlite3_bind_int64(s, 1, now_ms);
	return read_requests(st, s, out, count, err);
}

/* The one integer a bound count(*) query returns. */
static bg_status
read_count(ad_store *st, sqlite3_stmt *s, const char *what, unsigned long *out,
    bg_error *err)
{
	int step = sqlite3_step(s);

	*out = step == SQLITE_ROW ? (unsigned long)sqlite3_column_int64(s, 0) : 0;
	sqlite3_reset(s);
	return step == SQLITE_ROW ? BG_OK : db_error(st, err, what);
}

static bg_status
sq_pending_count(ad_store *st, const char *host, int64_t now_ms, unsigned long *count,
    bg_error *err)
{
	sqlite3_stmt *s = q(st, Q_REQ_PENDING_HOST);

	bind_text(s, 1, host);
	sqlite3_bind_int64(s, 2, now_ms);
	return read_count(st, s, "pending count", count, err);
}

/* Runs a bound DELETE; *count: the rows it removed. */
static bg_status
run_delete(ad_store *st, sqlite3_stmt *s, const char *what, unsigned long *count,
    bg_error *err)
{
	bg_status rc = run(st, s, err, what);

	*count = rc == BG_OK ? (unsigned long)sqlite3_changes(sq(st)->db) : 0;
	return rc;
}

static bg_status
sq_purge(ad_store *st, int64_t before_ms, unsigned long *requests,
    unsigned long *recoveries, bg_error *err)
{
	unsigned long votes, rows;
	sqlite3_stmt *s;
	bg_status rc;

	/* What references a request first: votes, links, response URLs. */
	s = q(st, Q_PURGE_LINKS);
	sqlite3_bind_int64(s, 1, before_ms);
	if ((rc = run_delete(st, s, "purge links", &rows, err)) != BG_OK)
		return rc;
	s = q(st, Q_PURGE_SLACK);
	sqlite3_bind_int64(s, 1, before_ms);
	if ((rc = run_delete(st, s, "purge slack responses", &rows, err)) != BG_OK)
		return rc;
	s = q(st, Q_PURGE_SLACK_POSTS);
	sqlite3_bind_int64(s, 1, before_ms);
	if ((rc = run_delete(st, s, "purge slack posts", &rows, err)) != BG_OK)
		return rc;
	s = q(st, Q_PURGE_VOTES);
	sqlite3_bind_int64(s, 1, before_ms);
	if ((rc = run_delete(st, s, "purge votes", &votes, err)) != BG_OK)
		return rc;
	s = q(st, Q_PURGE_REQUESTS);
	sqlite3_bind_int64(s, 1, before_ms);
	if ((rc = run_delete(st, s, "purge requests", requests, err)) != BG_OK)
		return rc;
	s = q(st, Q_PURGE_RECOVERIES);
	sqlite3_bind_int64(s, 1, before_ms);
	return run_delete(st, s, "purge recoveries", recoveries, err);
}

static bg_status
sq_health(ad_store *st, int64_t now_ms, bg_error *err)
{
	sqlite3_stmt *s = q(st, Q_HEALTH);

	sqlite3_bind_int64(s, 1, now_ms);
	return run_one(st, s, err, "health write", "database: health row missing");
}

/* ------------------------------------------------------------------ */

static bg_status
sq_votes(ad_store *st, const char *id, ad_votes *out, bg_error *err)
{
	sqlite3_stmt *s = q(st, Q_VOTES);
	bg_status rc = BG_OK;
	bool oom = false;
	int step;

	memset(out, 0, sizeof(*out));
	bind_text(s, 1, id);
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		ad_vote *grown = realloc(out->v, (out->count + 1) * sizeof(*grown));

		if (grown == NULL) {
			oom = true;
			break;
		}
		out->v = grown;
		grown[out->count].approver = col_text(s, 0, &oom);
		grown[out->count].approve = sqlite3_column_int(s, 1) != 0;
		grown[out->count].at_ms = sqlite3_column_int64(s, 2);
		grown[out->count].comment = col_text(s, 3, &oom);
		out->count++;
		if (oom)
			break;
	}
	if (oom)
		rc = bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	else if (step != SQLITE_DONE)
		rc = db_error(st, err, "votes");
	sqlite3_reset(s);
	if (rc != BG_OK)
		ad_votes_clear(out);
	return rc;
}

/* lock: BEGIN IMMEDIATE already holds the whole database. */
static bg_status
sq_request_votes(ad_store *st, const char *id, bool lock, ad_request *out, ad_votes *votes,
    bg_error *err)
{
	bg_status rc;

	memset(votes, 0, sizeof(*votes));
	if ((rc = sq_request_get(st, id, out, err)) == BG_OK &&
	    (rc = sq_votes(st, id, votes, err)) != BG_OK)
		ad_request_clear(out);
	return rc;
}

static bg_status
sq_vote_insert(ad_store *st, const char *id, const ad_vote *v, bg_error *err)
{
	sqlite3_stmt *s = q(st, Q_VOTE_INSERT);

	bind_text(s, 1, id);
	bind_text(s, 2, v->approver);
	sqlite3_bind_int(s, 3, v->approve ? 1 : 0);
	sqlite3_bind_int64(s, 4, v->at_ms);
	bind_text(s, 5, v->comment);
	return run_one(st, s, err, "insert vote", "already voted");
}

/* ------------------------------------------------------------------ */

static bg_status
sq_notify_insert(ad_store *st, const ad_notification *n, int64_t now_ms,
    bg_error *err)
{
	sqlite3_stmt *s = q(st, Q_NOTIFY_INSERT);

	bind_text(s, 1, n->target);
	bind_text(s, 2, n->url);
	sqlite3_bind_int(s, 3, (int)n->format);
	bind_text(s, 4, n->secret);
	bind_text(s, 5, n->msg_id);
	bind_text(s, 6, n->body);
	sqlite3_bind_int64(s, 7, now_ms);
	return run(st, s, err, "queue notification");
}

static bg_status
next_due(ad_store *st, const char *target, int64_t *next_ms, bg_error *err)
{
	sqlite3_stmt *s = q(st, Q_NOTIFY_NEXT);
	int step;

	bind_text(s, 1, target);
	step = sqlite3_step(s);

	*next_ms = step == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	sqlite3_reset(s);
	return step == SQLITE_ROW ? BG_OK : db_error(st, err, "notifications");
}

static bg_status
sq_notify_due(ad_store *st, const char *target, int64_t now_ms,
    ad_notification *out, int64_t *next_ms, bg_error *err)
{
	sqlite3_stmt *s = q(st, Q_NOTIFY_DUE);
	bool oom = false;
	bg_status rc = BG_OK;
	int step;

	memset(out, 0, sizeof(*out));
	bind_text(s, 1, target);
	sqlite3_bind_int64(s, 2, now_ms);
	step = sqlite3_step(s);
	if (step == SQLITE_ROW) {
		out->id = sqlite3_column_int64(s, 0);
		out->target = col_text(s, 1, &oom);
		out->url = col_text(s, 2, &oom);
		out->format = (unsigned)sqlite3_column_int(s, 3);
		out->secret = col_text(s, 4, &oom);
		out->msg_id = col_text(s, 5, &oom);
		out->body = col_text(s, 6, &oom);
		out->attempts = (unsigned)sqlite3_column_int(s, 7);
		if (oom) {
			ad_notification_clear(out);
			rc = bg_error_set(err, BG_ERR_NOMEM, "out of memory");
		}
	} else if (step == SQLITE_DONE) {
		rc = bg_error_set(err, BG_ERR_NOTFOUND, "nothing due");
	} else {
		rc = db_error(st, err, "notifications");
	}
	sqlite3_reset(s);
	if (rc == BG_ERR_NOTFOUND && next_due(st, target, next_ms, err) != BG_OK)
		return BG_ERR_IO;
	return rc;
}

static bg_status
sq_notify_done(ad_store *st, int64_t id, bg_error *err)
{
	sqlite3_stmt *s = q(st, Q_NOTIFY_DONE);

	sqlite3_bind_int64(s, 1, id);
	return run(st, s, err, "notification done");
}

static bg_status
sq_notify_targets(ad_store *st, bg_status (*fn)(void *arg, const char *target,
    bg_error *err), void *arg, bg_error *err)
{
	sqlite3_stmt *s = q(st, Q_NOTIFY_TARGETS);
	bg_status rc = BG_OK;
	int step = SQLITE_DONE;

	while (rc == BG_OK && (step = sqlite3_step(s)) == SQLITE_ROW)
		rc = fn(arg, (const char *)sqlite3_column_text(s, 0), err);
	if (rc == BG_OK && step != SQLITE_DONE)
		rc = db_error(st, err, "notification targets");
	sqlite3_reset(s);
	return rc;
}

static bg_status
sq_notify_retry(ad_store *st, int64_t id, unsigned attempts, int64_t next_ms,
    bg_error *err)
{
	sqlite3_stmt *s = q(st, Q_NOTIFY_RETRY);

	sqlite3_bind_int(s, 1, (int)attempts);
	sqlite3_bind_int64(s, 2, next_ms);
	sqlite3_bind_int64(s, 3, id);
	return run(st, s, err, "notification retry");
}

/* ------------------------------------------------------------------ */
/* Recovery reports (protocol R1), read as ad_request with status "reported". */

static bg_status
sq_recovery_get(ad_store *st, const char *host, const char *id, ad_request *out,
    bg_error *err)
{
	sqlite3_stmt *s = q(st, Q_REC_GET);

	bind_text(s, 1, host);
	bind_text(s, 2, id);
	return read_one(st, s, "recovery", out, err);
}

static bg_status
sq_recovery_insert(ad_store *st, const ad_request *r, bg_error *err)
{
	sqlite3_stmt *s = q(st, Q_REC_INSERT);

	bind_text(s, 1, r->host);
	bind_text(s, 2, r->id);
	bind_text(s, 3, r->operator_name);
	sqlite3_bind_blob(s, 4, r->body, (int)r->body_len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, r->received_ms);
	return run_one(st, s, err, "recovery insert", "recovery exists");
}

static bg_status
sq_recoveries(ad_store *st, ad_request **out, size_t *count, bg_error *err)
{
	return read_requests(st, q(st, Q_REC_RECENT), out, count, err);
}

/* ------------------------------------------------------------------ */

static bg_status
sq_totp_get(ad_store *st, const char *approver, bg_totp_state *out, bg_error *err)
{
	sqlite3_stmt *s = q(st, Q_TOTP_ADD);
	bg_status rc;
	int step;

	memset(out, 0, sizeof(*out));
	bind_text(s, 1, approver);
	if ((rc = run(st, s, err, "totp state")) != BG_OK)
		return rc;
	s = q(st, Q_TOTP_GET);
	bind_text(s, 1, approver);
	if ((step = sqlite3_step(s)) != SQLITE_ROW) {
		sqlite3_reset(s);
		return db_error(st, err, "totp state");
	}
	out->last_step = (uint64_t)sqlite3_column_int64(s, 0);
	out->locked_until = (time_t)sqlite3_column_int64(s, 2);
	rc = ad_totp_failures_parse((const char *)sqlite3_column_text(s, 1), out, err);
	sqlite3_reset(s);
	return rc;
}

static bg_status
sq_totp_put(ad_store *st, const char *approver, const bg_totp_state *ts, bg_error *err)
{
	sqlite3_stmt *s = q(st, Q_TOTP_PUT);
	char failures[AD_TOTP_FAILURES_MAX];

	if (!ad_totp_failures_format(ts, failures, sizeof(failures)))
		return bg_error_set(err, BG_ERR_TOOBIG, "totp state: too many failures");
	sqlite3_bind_int64(s, 1, (sqlite3_int64)ts->last_step);
	bind_text(s, 2, failures);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)ts->locked_until);
	bind_text(s, 4, approver);
	return run(st, s, err, "totp state");
}

/* ------------------------------------------------------------------ */

static bg_status
sq_session_insert(ad_store *st, const char *id, const ad_session *ss, bg_error *err)
{
	sqlite3_stmt *s = q(st, Q_SESSION_INSERT);

	bind_text(s, 1, id);
	bind_text(s, 2, ss->approver);
	bind_text(s, 3, ss->csrf);
	bind_text(s, 4, ss->source);
	sqlite3_bind_int64(s, 5, ss->created_ms);
	sqlite3_bind_int64(s, 6, ss->last_used_ms);
	return run(st, s, err, "session insert");
}

static bg_status
sq_session_get(ad_store *st, const char *id, ad_session *out, bg_error *err)
{
	sqlite3_stmt *s = q(st, Q_SESSION_GET);
	int step;

	memset(out, 0, sizeof(*out));
	bind_text(s, 1, id);
	step = sqlite3_step(s);
	if (step == SQLITE_DONE) {
		sqlite3_reset(s);
		return bg_error_set(err, BG_ERR_NOTFOUND, "no such session");
	}
	if (step != SQLITE_ROW) {
		sqlite3_reset(s);
		return db_error(st, err, "session");
	}
	snprintf(out->approver, sizeof(out->approver), "%s", sqlite3_column_text(s, 0));
	snprintf(out->csrf, sizeof(out->csrf), "%s", sqlite3_column_text(s, 1));
	snprintf(out->source, sizeof(out->source), "%s", sqlite3_column_text(s, 2));
	out->created_ms = sqlite3_column_int64(s, 3);
	out->last_used_ms = sqlite3_column_int64(s, 4);
	sqlite3_reset(s);
	return BG_OK;
}

static bg_status
sq_session_touch(ad_store *st, const char *id, int64_t now_ms, bg_error *err)
{
	sqlite3_stmt *s = q(st, Q_SESSION_TOUCH);

	sqlite3_bind_int64(s, 1, now_ms);
	bind_text(s, 2, id);
	return run(st, s, err, "session touch");
}

static bg_status
sq_session_delete(ad_store *st, const char *id, bg_error *err)
{
	sqlite3_stmt *s = q(st, Q_SESSION_DELETE);

	bind_text(s, 1, id);
	return run(st, s, err, "session delete");
}

static bg_status
sq_session_prune(ad_store *st, int64_t idle_ms, int64_t created_ms, bg_error *err)
{
	sqlite3_stmt *s = q(st, Q_SESSION_PRUNE);

	sqlite3_bind_int64(s, 1, idle_ms);
	sqlite3_bind_int64(s, 2, created_ms);
	return run(st, s, err, "session prune");
}

/* ------------------------------------------------------------------ */
/* One-time links and Slack response URLs. */

static bg_status
sq_link_insert(ad_store *st, const char *hash_hex, const ad_link *l, bg_error *err)
{
	sqlite3_stmt *s = q(st, Q_LINK_INSERT);

	bind_text(s, 1, hash_hex);
	bind_text(s, 2, l->approver);
	bind_text(s, 3, l->request_id);
	bind_text(s, 4, l->action);
	sqlite3_bind_int64(s, 5, l->expires_ms);
	return run_one(st, s, err, "link insert", "link exists");
}

static bg_status
sq_link_get(ad_store *st, const char *hash_hex, ad_link *out, bg_error *err)
{
	sqlite3_stmt *s = q(st, Q_LINK_GET);
	bool oom = false;
	bg_status rc = BG_OK;
	int step;

	memset(out, 0, sizeof(*out));
	bind_text(s, 1, hash_hex);
	step = sqlite3_step(s);
	if (step == SQLITE_ROW) {
		out->approver = col_text(s, 0, &oom);
		out->request_id = col_text(s, 1, &oom);
		out->action = col_text(s, 2, &oom);
		out->expires_ms = sqlite3_column_int64(s, 3);
		out->used_ms = sqlite3_column_int64(s, 4);
		if (oom || out->approver == NULL || out->request_id == NULL ||
		    out->action == NULL) {
			ad_link_clear(out);
			rc = bg_error_set(err, BG_ERR_NOMEM, "out of memory");
		}
	} else if (step == SQLITE_DONE) {
		rc = bg_error_set(err, BG_ERR_NOTFOUND, "no such link");
	} else {
		rc = db_error(st, err, "link");
	}
	sqlite3_reset(s);
	return rc;
}

static bg_status
sq_link_use(ad_store *st, const char *hash_hex, int64_t now_ms, bg_error *err)
{
	sqlite3_stmt *s = q(st, Q_LINK_USE);

	sqlite3_bind_int64(s, 1, now_ms);
	bind_text(s, 2, hash_hex);
	return run_one(st, s, err, "link use", "link used");
}

static bg_status
sq_link_prune(ad_store *st, int64_t before_ms, bg_error *err)
{
	sqlite3_stmt *s = q(st, Q_LINK_PRUNE);

	sqlite3_bind_int64(s, 1, before_ms);
	return run(st, s, err, "link prune");
}

static bg_status
sq_slack_response_put(ad_store *st, const char *request_id, const char *url,
    int64_t now_ms, bg_error *err)
{
	sqlite3_stmt *s = q(st, Q_SLACK_PUT);

	bind_text(s, 1, request_id);
	bind_text(s, 2, url);
	sqlite3_bind_int64(s, 3, now_ms);
	return run(st, s, err, "slack response");
}

static bg_status
sq_slack_response_get(ad_store *st, const char *request_id, char **url, bg_error *err)
{
	sqlite3_stmt *s = q(st, Q_SLACK_GET);
	bool oom = false;
	bg_status rc = BG_OK;
	int step;

	*url = NULL;
	bind_text(s, 1, request_id);
	step = sqlite3_step(s);
	if (step == SQLITE_ROW) {
		if ((*url = col_text(s, 0, &oom)) == NULL)
			rc = bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	} else if (step == SQLITE_DONE) {
		rc = bg_error_set(err, BG_ERR_NOTFOUND, "no slack response");
	} else {
		rc = db_error(st, err, "slack response");
	}
	sqlite3_reset(s);
	return rc;
}

static bg_status
sq_slack_post_put(ad_store *st, const ad_slack_post *p, bg_error *err)
{
	sqlite3_stmt *s = q(st, Q_SLACK_POST_PUT);

	bind_text(s, 1, p->request_id);
	bind_text(s, 2, p->target);
	bind_text(s, 3, p->post_msg);
	bind_text(s, 4, p->update_msg);
	bind_text(s, 5, p->channel);
	bind_text(s, 6, p->ts);
	return run(st, s, err, "slack post");
}

static bg_status
sq_slack_post_get(ad_store *st, const char *target, const char *msg_id,
    ad_slack_post *out, bg_error *err)
{
	sqlite3_stmt *s = q(st, Q_SLACK_POST_GET);
	bool oom = false;
	bg_status rc = BG_OK;
	int step;

	bind_text(s, 1, target);
	bind_text(s, 2, msg_id);
	step = sqlite3_step(s);
	if (step == SQLITE_ROW) {
		out->request_id = col_text(s, 0, &oom);
		out->target = col_text(s, 1, &oom);
		out->post_msg = col_text(s, 2, &oom);
		out->update_msg = col_text(s, 3, &oom);
		out->channel = col_text(s, 4, &oom);
		out->ts = col_text(s, 5, &oom);
		if (oom || out->request_id == NULL || out->target == NULL) {
			ad_slack_post_clear(out);
			rc = bg_error_set(err, BG_ERR_NOMEM, "out of memory");
		}
	} else if (step == SQLITE_DONE) {
		rc = bg_error_set(err, BG_ERR_NOTFOUND, "no slack post");
	} else {
		rc = db_error(st, err, "slack post");
	}
	sqlite3_reset(s);
	return rc;
}

static bg_status
sq_slack_post_set_update(ad_store *st, const char *target, const char *request_id,
    const char *update_msg, bg_error *err)
{
	sqlite3_stmt *s = q(st, Q_SLACK_POST_UPDATE);
	bg_status rc;

	bind_text(s, 1, target);
	bind_text(s, 2, request_id);
	bind_text(s, 3, update_msg);
	rc = run_one(st, s, err, "slack post update", "no slack post");
	return rc == BG_ERR_DENIED ? BG_ERR_NOTFOUND : rc;
}

static bg_status
sq_slack_post_delete(ad_store *st, const char *target, const char *request_id,
    bg_error *err)
{
	sqlite3_stmt *s = q(st, Q_SLACK_POST_DELETE);

	bind_text(s, 1, target);
	bind_text(s, 2, request_id);
	return run(st, s, err, "slack post delete");
}

/* ------------------------------------------------------------------ */
/* Passkeys and WebAuthn challenges. */

static bg_status
sq_passkey_insert(ad_store *st, const ad_passkey *pk, bg_error *err)
{
	sqlite3_stmt *s = q(st, Q_PK_INSERT);

	bind_text(s, 1, pk->approver);
	bind_text(s, 2, pk->id_hex);
	sqlite3_bind_int(s, 3, pk->alg);
	bind_text(s, 4, pk->pubkey_hex);
	sqlite3_bind_int64(s, 5, pk->sign_count);
	bind_text(s, 6, pk->label);
	sqlite3_bind_int64(s, 7, pk->created_ms);
	return run_one(st, s, err, "passkey insert", "passkey registered already");
}

/* The passkeys a bound statement returns (PK_COLUMNS); one at most when one. */
static bg_status
read_passkeys(ad_store *st, sqlite3_stmt *s, bool one, ad_passkey **out, size_t *count,
    bg_error *err)
{
	bg_status rc = BG_OK;
	bool oom = false;
	int step;

	*out = NULL;
	*count = 0;
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		ad_passkey *grown = realloc(*out, (*count + 1) * sizeof(*grown)), *pk;

		if (grown == NULL) {
			oom = true;
			break;
		}
		*out = grown;
		pk = &grown[(*count)++];
		pk->approver = col_text(s, 0, &oom);
		pk->id_hex = col_text(s, 1, &oom);
		pk->alg = sqlite3_column_int(s, 2);
		pk->pubkey_hex = col_text(s, 3, &oom);
		pk->sign_count = (uint32_t)sqlite3_column_int64(s, 4);
		pk->label = col_text(s, 5, &oom);
		pk->created_ms = sqlite3_column_int64(s, 6);
		pk->last_used_ms = sqlite3_column_int64(s, 7);
		if (oom || one)
			break;
	}
	if (oom)
		rc = bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	else if (step != SQLITE_DONE && step != SQLITE_ROW)
		rc = db_error(st, err, "passkeys");
	sqlite3_reset(s);
	if (rc != BG_OK) {
		ad_passkeys_free(*out, *count);
		*out = NULL;
		*count = 0;
	}
	return rc;
}

static bg_status
sq_passkey_get(ad_store *st, const char *id_hex, ad_passkey *out, bg_error *err)
{
	sqlite3_stmt *s = q(st, Q_PK_GET);
	ad_passkey *found;
	size_t n;
	bg_status rc;

	memset(out, 0, sizeof(*out));
	bind_text(s, 1, id_hex);
	if ((rc = read_passkeys(st, s, true, &found, &n, err)) != BG_OK)
		return rc;
	if (n == 0)
		return bg_error_set(err, BG_ERR_NOTFOUND, "no such passkey");
	*out = found[0];
	free(found);
	return BG_OK;
}

static bg_status
sq_passkeys(ad_store *st, const char *approver, ad_passkey **out, size_t *count,
    bg_error *err)
{
	sqlite3_stmt *s = q(st, Q_PK_LIST);

	bind_text(s, 1, approver);
	return read_passkeys(st, s, false, out, count, err);
}

static bg_status
sq_passkey_used(ad_store *st, const char *id_hex, uint32_t sign_count, int64_t now_ms,
    bg_error *err)
{
	sqlite3_stmt *s = q(st, Q_PK_USED);

	sqlite3_bind_int64(s, 1, sign_count);
	sqlite3_bind_int64(s, 2, now_ms);
	bind_text(s, 3, id_hex);
	return run_one(st, s, err, "passkey use", "no such passkey");
}

static bg_status
sq_challenge_prune(ad_store *st, int64_t now_ms, bg_error *err)
{
	sqlite3_stmt *s = q(st, Q_CH_PRUNE);

	sqlite3_bind_int64(s, 1, now_ms);
	return run(st, s, err, "challenge prune");
}

static bg_status
sq_challenge_insert(ad_store *st, const char *hex, const ad_challenge *c, int64_t now_ms,
    bg_error *err)
{
	sqlite3_stmt *s;
	int64_t outstanding;
	bg_status rc;

	if ((rc = sq_challenge_prune(st, now_ms, err)) != BG_OK)
		return rc;
	s = q(st, Q_CH_COUNT);
	bind_text(s, 1, c->approver);
	if (sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_reset(s);
		return db_error(st, err, "challenge count");
	}
	outstanding = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	if (outstanding >= AD_CHALLENGES_MAX)
		return bg_error_set(err, BG_ERR_DENIED, "too many challenges outstanding");
	s = q(st, Q_CH_INSERT);
	bind_text(s, 1, hex);
	bind_text(s, 2, c->approver);
	bind_text(s, 3, c->binding);
	bind_text(s, 4, c->purpose);
	sqlite3_bind_int64(s, 5, c->expires_ms);
	return run_one(st, s, err, "challenge insert", "challenge exists");
}

static bg_status
sq_challenge_take(ad_store *st, const char *hex, ad_challenge *out, bg_error *err)
{
	sqlite3_stmt *s = q(st, Q_CH_TAKE);
	bool oom = false;
	int step;

	memset(out, 0, sizeof(*out));
	bind_text(s, 1, hex);
	if ((step = sqlite3_step(s)) == SQLITE_ROW) {
		out->approver = col_text(s, 0, &oom);
		out->binding = col_text(s, 1, &oom);
		out->purpose = col_text(s, 2, &oom);
		out->expires_ms = sqlite3_column_int64(s, 3);
	}
	sqlite3_reset(s);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		return db_error(st, err, "challenge");
	if (oom) {
		ad_challenge_clear(out);
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	}
	if (step == SQLITE_DONE)
		return bg_error_set(err, BG_ERR_NOTFOUND, "no such challenge");
	return BG_OK;
}

static const ad_store_ops sq_ops = {
	.close = sq_close,
	.begin = sq_begin,
	.begin_lazy = sq_begin_lazy,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.part = sq_part,
	.link_insert = sq_link_insert,
	.link_get = sq_link_get,
	.link_use = sq_link_use,
	.link_prune = sq_link_prune,
	.slack_response_put = sq_slack_response_put,
	.slack_response_get = sq_slack_response_get,
	.slack_post_put = sq_slack_post_put,
	.slack_post_get = sq_slack_post_get,
	.slack_post_set_update = sq_slack_post_set_update,
	.slack_post_delete = sq_slack_post_delete,
	.seen_add = sq_seen_add,
	.seen_prune = sq_seen_prune,
	.request_get = sq_request_get,
	.request_votes = sq_request_votes,
	.request_insert = sq_request_insert,
	.request_set_status = sq_request_set_status,
	.pending = sq_pending,
	.pending_count = sq_pending_count,
	.purge = sq_purge,
	.health = sq_health,
	.due = sq_due,
	.votes = sq_votes,
	.vote_insert = sq_vote_insert,
	.notify_insert = sq_notify_insert,
	.notify_due = sq_notify_due,
	.notify_done = sq_notify_done,
	.notify_targets = sq_notify_targets,
	.notify_retry = sq_notify_retry,
	.totp_get = sq_totp_get,
	.totp_put = sq_totp_put,
	.session_insert = sq_session_insert,
	.session_get = sq_session_get,
	.session_touch = sq_session_touch,
	.session_delete = sq_session_delete,
	.session_prune = sq_session_prune,
	.recovery_get = sq_recovery_get,
	.recovery_insert = sq_recovery_insert,
	.recoveries = sq_recoveries,
	.passkey_insert = sq_passkey_insert,
	.passkey_get = sq_passkey_get,
	.passkeys = sq_passkeys,
	.passkey_used = sq_passkey_used,
	.challenge_insert = sq_challenge_insert,
	.challenge_take = sq_challenge_take,
	.challenge_prune = sq_challenge_prune,
};
