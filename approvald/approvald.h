/*
 * breakglass-approvald: the reference approval service.  Declarations shared
 * by its files; each file does one job (config, store, http, host API,
 * approver API, decisions, page, notifications).
 */
#ifndef AD_APPROVALD_H
#define AD_APPROVALD_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "audit.h"
#include "buf.h"
#include "crypto.h"
#include "ini.h"
#include "names.h"
#include "status.h"
#include "totp.h"

#define AD_DEFAULT_CONFIG "/etc/breakglass/approvald.conf"
#define AD_CONFIG_MAX_SIZE (256 * 1024)
/* Request and response bodies: protocol v1 caps both at 64 KiB. */
#define AD_BODY_MAX (64 * 1024)
/*
 * Host signatures: the accepted clock skew.  A signature is remembered by its
 * signed timestamp, not by when it arrived, until the timestamp check alone
 * refuses it: AD_SKEW_MAX seconds after it, plus the second the check
 * rounds to, plus AD_CLOCK_SPREAD_MAX: instances sharing a database prune
 * by their own clocks, so one whose clock runs ahead must not forget a
 * signature another still accepts.
 */
#define AD_SKEW_MAX 300
#define AD_CLOCK_SPREAD_MAX 60
#define AD_REPLAY_KEEP_MS ((AD_SKEW_MAX + AD_CLOCK_SPREAD_MAX + 1) * AD_MS_PER_SECOND)
#define AD_WAIT_MAX 30
#define AD_MS_PER_SECOND 1000LL
/* "2026-11-27T15:17:57.041Z" and its NUL. */
#define AD_TIME_LEN 32

/* ------------------------------------------------------------------ */
/* approvald.conf (conf.c) */

/* SLACK_BOT: in the queue only, a slack target with a token (Slack's Web API). */
typedef enum { AD_NOTIFY_SLACK, AD_NOTIFY_JSON, AD_NOTIFY_SLACK_BOT } ad_notify_format;
/* [server] second_factor: what confirms an approver's vote. */
typedef enum { AD_FACTOR_ANY, AD_FACTOR_WEBAUTHN } ad_second_factor;

typedef struct {
	bg_cfg_meta meta;
	char *listen;                 /* host:port or [v6]:port, numeric */
	char *tls_cert;               /* both or neither */
	char *tls_key;
	char *database;               /* an absolute path (SQLite) or a postgresql:// URL */
	char *database_password_file; /* PostgreSQL's password, BG_FILE_SECRET */
	char *instance;               /* names this instance in its journal */
	char *signing_key;            /* PEM Ed25519 private key */
	unsigned long request_expiry; /* seconds */
	unsigned long quorum;
	char *public_url;             /* optional; links in notifications */
	char *state_dir;              /* approvers' TOTP state, journal key state */
	char *journal;
	unsigned long totp_window;
	unsigned long totp_max_failures;
	unsigned long totp_failure_window;
	unsigned long totp_lockout;
	/* Availability under attack (see docs/operations.md). */
	unsigned long request_timeout;        /* seconds for a request's headers and body */
	unsigned long max_connections_per_ip; /* 0: no limit */
	unsigned long max_polls;              /* long polls held at once */
	unsigned long max_pending_per_host;
	unsigned long host_rate;              /* filings per host per minute */
	unsigned long retention;              /* seconds a decided request is kept */
	unsigned long min_free_space;         /* MiB free under the database, else unhealthy */
	/* Approvers' sessions (session.c). */
	char *origin;                 /* the page's origin; default from public_url or listen */
	unsigned long session_idle;   /* seconds unused before a session ends */
	unsigned long session_max;    /* seconds after sign-in it ends regardless */
	char *rp_id;                  /* WebAuthn relying party; default: origin's host */
	unsigned second_factor;       /* ad_second_factor */
} ad_config_server;

typedef struct {
	bg_cfg_meta meta;             /* meta.name: the host_id */
	char *key;                    /* 64 hex digits, BG_FILE_SECRET */
} ad_config_host;

typedef struct {
	bg_cfg_meta meta;             /* meta.name: the approver's name */
	unsigned char token_sha256[BG_SHA256_LEN];
	char *totp;                   /* secret file, operator format */
	char *slack_user;             /* the approver's Slack user ID (U...), or NULL */
} ad_config_approver;

typedef struct {
	bg_cfg_meta meta;             /* meta.name: the target's name */
	char *url;
	unsigned format;              /* ad_notify_format */
	char *secret;                 /* json: 64 hex digits, BG_FILE_SECRET */
	char *token;                  /* slack: a bot token (xoxb-), BG_FILE_SECRET */
	char *channel;                /* slack with token: the channel's ID */
} ad_config_notify;

/* [slack]: approving from Slack's buttons (slack.c), absent: meta.line 0. */
typedef struct {
	bg_cfg_meta meta;
	char *signing_secret;         /* Slack's signing secret, BG_FILE_SECRET */
	char *response_url_prefix;    /* where a click's response_url may point */
} ad_config_slack;

typedef struct {
	char *path;
	ad_config_server server;
	ad_config_host *host;
	size_t nhost;
	ad_config_approver *approver;
	size_t napprover;
	ad_config_notify *notify;
	size_t nnotify;
	ad_config_slack slack;
	/* Parsed from server.listen. */
	char listen_host[64];
	unsigned listen_port;
	bool listen_v6;
} ad_config;

/* Reads and validates path (root- or euid-owned, not group/other writable). */
bg_status ad_config_load(const char *path, ad_config *cfg, bg_errlist *errs);
/* The files the configuration names exist and parse (--check-config). */
bg_status ad_config_check_files(const ad_config *cfg, bg_errlist *errs);
void ad_config_free(ad_config *cfg);
const ad_config_host *ad_config_find_host(const ad_config *cfg, const char *name);
const ad_config_approver *ad_config_find_approver(const ad_config *cfg,
    const char *name);
/* The approver whose slack_user is user (exactly), or NULL. */
const ad_config_approver *ad_config_find_slack_user(const ad_config *cfg,
    const char *user);

/* ------------------------------------------------------------------ */
/* Time (clock.c) */

int64_t ad_now_ms(void);
/* RFC 3339 UTC with milliseconds. */
void ad_time_format(int64_t ms, char out[AD_TIME_LEN]);

/* ------------------------------------------------------------------ */
/*
 * The store (store.c): one interface, two backends chosen by `database`
 * (store_sqlite.c, store_pg.c).  One handle per thread.
 */

typedef struct ad_store ad_store;

typedef struct {
	char *id;
	char *host;
	char *operator_name;
	char *status;            /* pending | approved | denied | expired */
	char *body;              /* the filed request, verbatim */
	size_t body_len;
	int64_t received_ms;
	int64_t expires_ms;
	json_object *doc;        /* body parsed once a decision reads it (decision.c) */
} ad_request;

typedef struct {
	char *approver;
	bool approve;
	int64_t at_ms;
	char *comment;
} ad_vote;

typedef struct {
	ad_vote *v;
	size_t count;
} ad_votes;

typedef struct {
	int64_t id;
	char *target;
	char *url;
	unsigned format;
	char *secret;            /* path: json's key, a Slack bot's token; NULL for slack */
	char *msg_id;
	char *body;
	unsigned attempts;
} ad_notification;

/* --check-config and load: an absolute path, or a postgresql:// URL without a password. */
bg_status ad_store_database_check(const char *database, bg_error *err);
bg_status ad_store_open(const ad_config_server *cfg, ad_store **out, bg_error *err);
/*
 * Copies what ad_store_open reads of from (database, database_password_file)
 * into to, for a thread that opens handles after a reload freed from.
 */
bg_status ad_store_config_copy(const ad_config_server *from, ad_config_server *to,
    bg_error *err);
void ad_store_config_free(ad_config_server *c);
/*
 * Where this instance's writes land on its own disk: the SQLite file, or
 * (PostgreSQL, whose disk is its server's) state_dir with the journal state.
 */
const char *ad_store_local_path(const ad_config_server *cfg);
void ad_store_close(ad_store *st);
bg_status ad_store_begin(ad_store *st, bg_error *err);
bg_status ad_store_commit(ad_store *st, bg_error *err);
/*
 * A transaction whose commit waits for no fsync: a power loss (not a crash
 * of the service) may lose it.  For host reads, whose one write is their
 * replay-cache entry, so that a burst of long polls costs no fsync each.
 */
bg_status ad_store_begin_lazy(ad_store *st, bg_error *err);
void ad_store_rollback(ad_store *st);
/*
 * A group: one transaction whose commit (one sync) covers several
 * callers' transactions.  Between group_begin and group_commit (or
 * group_rollback), ad_store_begin, _commit and _rollback delimit a part of
 * it (a savepoint): a part's commit is durable only with the group's, and
 * its rollback undoes that part alone.
 */
bg_status ad_store_group_begin(ad_store *st, bg_error *err);
bg_status ad_store_group_commit(ad_store *st, bg_error *err);
void ad_store_group_rollback(ad_store *st);

/* BG_ERR_DENIED when (host, sig) was seen before. */
bg_status ad_store_seen_add(ad_store *st, const char *host, const char *sig,
    int64_t now_ms, bg_error *err);
bg_status ad_store_seen_prune(ad_store *st, int64_t before_ms, bg_error *err);

/* BG_ERR_NOTFOUND when absent.  Free with ad_request_clear. */
bg_status ad_store_request_get(ad_store *st, const char *id, ad_request *out,
    bg_error *err);
/*
 * Request id and its votes (BG_ERR_NOTFOUND when absent; free both).
 * With lock, inside a transaction: the request is held until it ends, and
 * what is read is the latest, with every vote committed before the hold;
 * no other instance decides it meanwhile.
 */
bg_status ad_store_request_votes(ad_store *st, const char *id, bool lock, ad_request *out,
    ad_votes *votes, bg_error *err);
/* BG_ERR_DENIED when id exists (another instance filed it first). */
bg_status ad_store_request_insert(ad_store *st, const ad_request *r, bg_error *err);
/*
 * From pending only: BG_ERR_DENIED when it was decided already.  Announced
 * at commit (the other instances' polls).
 */
bg_status ad_store_request_set_status(ad_store *st, const char *id,
    const char *status, int64_t now_ms, bg_error *err);
void ad_request_clear(ad_request *r);
/* Pending requests, oldest first. */
bg_status ad_store_pending(ad_store *st, ad_request **out, size_t *count,
    bg_error *err);
/* Pending requests whose expires_at has passed. */
bg_status ad_store_due(ad_store *st, int64_t now_ms, ad_request **out,
    size_t *count, bg_error *err);
void ad_requests_free(ad_request *r, size_t count);
/* How many requests host has pending (unexpired at now_ms). */
bg_status ad_store_pending_count(ad_store *st, const char *host, int64_t now_ms,
    unsigned long *count, bg_error *err);
/*
 * Deletes the requests decided before before_ms, with their votes, and the
 * recovery reports received before it; the counts of each.  Called inside a
 * transaction.
 */
bg_status ad_store_purge(ad_store *st, int64_t before_ms, unsigned long *requests,
    unsigned long *recoveries, bg_error *err);
/*
 * One-time links (links.c): the SHA-256 of the token (hex) is the key, the
 * token itself is never stored.
 */
typedef struct {
	char *approver;
	char *request_id;
	char *action;            /* approve | deny */
	int64_t expires_ms;
	int64_t used_ms;         /* 0: not used */
} ad_link;
bg_status ad_store_link_insert(ad_store *st, const char *hash_hex, const ad_link *l,
    bg_error *err);
/* BG_ERR_NOTFOUND when absent.  Free with ad_link_clear. */
bg_status ad_store_link_get(ad_store *st, const char *hash_hex, ad_link *out,
    bg_error *err);
/* Marks it used at now_ms: BG_ERR_DENIED when it was used already. */
bg_status ad_store_link_use(ad_store *st, const char *hash_hex, int64_t now_ms,
    bg_error *err);
/* Deletes the links expired before before_ms. */
bg_status ad_store_link_prune(ad_store *st, int64_t before_ms, bg_error *err);
void ad_link_clear(ad_link *l);
/*
 * The response_url of the latest Slack click on request_id, through which
 * its message is updated once decided (BG_ERR_NOTFOUND: none; free *url).
 */
bg_status ad_store_slack_response_put(ad_store *st, const char *request_id,
    const char *url, int64_t now_ms, bg_error *err);
bg_status ad_store_slack_response_get(ad_store *st, const char *request_id, char **url,
    bg_error *err);
/*
 * A request's message posted by a [notify] target's Slack bot (notify.c):
 * the notifications that post and update it, and where Slack put it.
 */
typedef struct {
	char *request_id;
	char *target;
	char *post_msg;          /* the chat.postMessage notification's msg_id */
	char *update_msg;        /* the chat.update's, once decided; or NULL */
	char *channel;           /* Slack's answer to the post; NULL until then */
	char *ts;
} ad_slack_post;
/* Creates or updates (request_id, target): NULL members keep what is stored. */
bg_status ad_store_slack_post_put(ad_store *st, const ad_slack_post *p, bg_error *err);
/*
 * target's post that msg_id posts or updates; BG_ERR_NOTFOUND when none.
 * Free with ad_slack_post_clear.
 */
bg_status ad_store_slack_post_get(ad_store *st, const char *target, const char *msg_id,
    ad_slack_post *out, bg_error *err);
/*
 * Names update_msg as the update of target's post of request_id, in one
 * statement: a post forgotten meanwhile (given up) is not made again as a
 * row no post will ever fill.  BG_ERR_NOTFOUND when there is no post.
 */
bg_status ad_store_slack_post_set_update(ad_store *st, const char *target,
    const char *request_id, const char *update_msg, bg_error *err);
bg_status ad_store_slack_post_delete(ad_store *st, const char *target,
    const char *request_id, bg_error *err);
void ad_slack_post_clear(ad_slack_post *p);

/* A real write, committed: what a vote or a filing needs of the database. */
bg_status ad_store_health(ad_store *st, int64_t now_ms, bg_error *err);

bg_status ad_store_votes(ad_store *st, const char *id, ad_votes *out, bg_error *err);
/* BG_ERR_DENIED when approver already voted on id. */
bg_status ad_store_vote_insert(ad_store *st, const char *id, const ad_vote *v,
    bg_error *err);
void ad_votes_clear(ad_votes *v);
/* Adds a copy of vote to v. */
bg_status ad_votes_append(ad_votes *v, const ad_vote *vote, bg_error *err);

bg_status ad_store_notify_insert(ad_store *st, const ad_notification *n,
    int64_t now_ms, bg_error *err);
/*
 * target's next notification due at now_ms (BG_ERR_NOTFOUND: none); *next_ms
 * when its next one is due (0: none).
 */
bg_status ad_store_notify_due(ad_store *st, const char *target, int64_t now_ms,
    ad_notification *out, int64_t *next_ms, bg_error *err);
/* Calls fn with each target that has notifications queued; stops at its first error. */
bg_status ad_store_notify_targets(ad_store *st, bg_status (*fn)(void *arg,
    const char *target, bg_error *err), void *arg, bg_error *err);
bg_status ad_store_notify_done(ad_store *st, int64_t id, bg_error *err);
bg_status ad_store_notify_retry(ad_store *st, int64_t id, unsigned attempts,
    int64_t next_ms, bg_error *err);
void ad_notification_clear(ad_notification *n);

/*
 * An approver's TOTP replay and lockout state (a fresh one when none), held
 * until the transaction ends: the same approver's other votes, on any
 * instance, wait, and see what this one stored.
 */
bg_status ad_store_totp_get(ad_store *st, const char *approver, bg_totp_state *out,
    bg_error *err);
bg_status ad_store_totp_put(ad_store *st, const char *approver,
    const bg_totp_state *s, bg_error *err);

/*
 * Secret tokens (token.c): 32 random bytes in base64url without padding
 * (the session cookie, the CSRF token, one-time links), stored only as
 * their SHA-256 in hex.
 */
#define AD_TOKEN_LEN 43
bg_status ad_token_new(char out[AD_TOKEN_LEN + 1], bg_error *err);
/* Whether s has a token's length and alphabet. */
bool ad_token_valid(const char *s);
bg_status ad_token_hash(const char *token, char hex[BG_SHA256_HEX_LEN + 1], bg_error *err);

/* Approvers' sessions (session.c), keyed by ad_token_hash of the cookie. */
typedef struct {
	char approver[BG_NAME_MAX + 1];
	char csrf[AD_TOKEN_LEN + 1];
	char source[64];
	int64_t created_ms;
	int64_t last_used_ms;
} ad_session;
bg_status ad_store_session_insert(ad_store *st, const char *id, const ad_session *s,
    bg_error *err);
/* BG_ERR_NOTFOUND when absent. */
bg_status ad_store_session_get(ad_store *st, const char *id, ad_session *out,
    bg_error *err);
bg_status ad_store_session_touch(ad_store *st, const char *id, int64_t now_ms,
    bg_error *err);
bg_status ad_store_session_delete(ad_store *st, const char *id, bg_error *err);
/* Deletes the sessions last used before idle_ms or created before created_ms. */
bg_status ad_store_session_prune(ad_store *st, int64_t idle_ms, int64_t created_ms,
    bg_error *err);

/*
 * Recovery reports (protocol R1), one per (host, id), read back as requests
 * with status "reported" (expires_ms 0).  BG_ERR_NOTFOUND when absent.
 */
bg_status ad_store_recovery_get(ad_store *st, const char *host, const char *id,
    ad_request *out, bg_error *err);
/* BG_ERR_DENIED when (host, id) exists. */
bg_status ad_store_recovery_insert(ad_store *st, const ad_request *r, bg_error *err);
/* The latest reports, newest first, for the page. */
bg_status ad_store_recoveries(ad_store *st, ad_request **out, size_t *count,
    bg_error *err);

/*
 * Approvers' passkeys and the WebAuthn challenges issued for them
 * (passkey.c), binaries as lowercase hex.  A passkey's credential id is
 * unique across approvers.
 */
typedef struct {
	char *approver;
	char *id_hex;            /* the credential id */
	int alg;                 /* COSE algorithm */
	char *pubkey_hex;        /* bg_webauthn_credential's raw form */
	uint32_t sign_count;
	char *label;
	int64_t created_ms;
	int64_t last_used_ms;    /* 0: never */
} ad_passkey;

typedef struct {
	char *approver;
	char *binding;           /* what an assertion is for; "" for a registration */
	char *purpose;           /* "register" | "assert" */
	int64_t expires_ms;
} ad_challenge;

/* An approver's challenges outstanding at most (more is refused). */
#define AD_CHALLENGES_MAX 32

/* BG_ERR_DENIED when the credential id is registered already. */
bg_status ad_store_passkey_insert(ad_store *st, const ad_passkey *pk, bg_error *err);
/* Held until the transaction ends (its counter is updated).  BG_ERR_NOTFOUND when absent. */
bg_status ad_store_passkey_get(ad_store *st, const char *id_hex, ad_passkey *out,
    bg_error *err);
/* The approver's passkeys, oldest first. */
bg_status ad_store_passkeys(ad_store *st, const char *approver, ad_passkey **out,
    size_t *count, bg_error *err);
bg_status ad_store_passkey_used(ad_store *st, const char *id_hex, uint32_t sign_count,
    int64_t now_ms, bg_error *err);
void ad_passkey_clear(ad_passkey *pk);
void ad_passkeys_free(ad_passkey *pk, size_t count);
/*
 * Stores a challenge (hex) after pruning the expired ones; BG_ERR_DENIED
 * when its approver has AD_CHALLENGES_MAX outstanding.
 */
bg_status ad_store_challenge_insert(ad_store *st, const char *hex, const ad_challenge *c,
    int64_t now_ms, bg_error *err);
/*
 * Deletes the challenge and returns what it was issued for, expired or not
 * (the caller checks): a challenge is spent by its first use, whatever the
 * outcome.  BG_ERR_NOTFOUND when never issued, spent or pruned.
 */
bg_status ad_store_challenge_take(ad_store *st, const char *hex, ad_challenge *out,
    bg_error *err);
/* Deletes the challenges expired at now_ms (also done by each insert). */
bg_status ad_store_challenge_prune(ad_store *st, int64_t now_ms, bg_error *err);
void ad_challenge_clear(ad_challenge *c);

/*
 * Other instances' decisions wake this one's polls: a thread LISTENing on
 * the PostgreSQL database (out NULL for SQLite: nothing to hear).
 */
typedef struct ad_listener ad_listener;
struct ad_app;
bg_status ad_listener_start(struct ad_app *app, ad_listener **out, bg_error *err);
void ad_listener_stop(ad_listener *l);

/* ------------------------------------------------------------------ */
/* The running service (main.c owns it). */

struct ad_waiter;

/* Signed decision documents kept for the polls woken after them. */
#define AD_SIGNED_KEPT 16
#define AD_PARSED_KEPT 64
#define AD_WAIT_BUCKETS 4096

typedef struct ad_app {
	pthread_mutex_t lock;         /* guards everything below */
	ad_config *cfg;               /* replaced on SIGHUP */
	bg_ed25519_key *signer;       /* cfg's signing_key, parsed once per load */
	ad_store *store;              /* the HTTP thread's and main thread's handle */
	bg_audit audit;
	char hostname[256];
	struct ad_waiter *waiters;    /* suspended long polls */
	struct ad_waiter *waiting_on[AD_WAIT_BUCKETS]; /* the same, by request id (http.c) */
	size_t nwaiters;
	size_t poll_ceiling;          /* the polls the connection ceiling leaves room for */
	struct ad_limits *limits;     /* per-host filing rates (limits.c) */
	int64_t health_ms;            /* when /healthz last wrote to the database */
	bool health_db_ok;            /* and whether the write committed */
	bool stopping;
	struct ad_notifier *notifier;
	/*
	 * The last decision documents signed and their signatures: the deciding
	 * vote's answer and its woken polls send the same bytes, while other
	 * clients' votes may be signed in between (decision.c).  Guarded by
	 * signed_lock, not lock: a woken poll is answered from them without
	 * waiting for a group of votes to end (http.c).
	 */
	pthread_mutex_t signed_lock;
	struct ad_signed {
		bg_buf body;
		char *sig;            /* base64 */
		char *request_id;
		int64_t issued_ms;
		bool published;       /* a final decision, committed (ad_decision_publish) */
	} signed_docs[AD_SIGNED_KEPT];
	size_t signed_next;           /* the entry the next signature replaces */
	/*
	 * Filed requests parsed lately, by id and body: every load of a request
	 * (each vote, each poll) reads the same bytes, parsed once (decision.c).
	 */
	struct ad_parsed {
		char *id;
		bg_buf body;
		json_object *doc;
	} parsed[AD_PARSED_KEPT];
	size_t parsed_next;
	struct ad_casting *casting;   /* the vote group being served (votegroup.c), or NULL */
} ad_app;

/* ------------------------------------------------------------------ */
/* HTTP (http.c): one response per request. */

typedef struct {
	unsigned status;
	const char *content_type;
	bg_buf body;
	char *decision_sig;           /* base64; sets X-Breakglass-Decision-Signature */
	bool html;                    /* add the page's security headers */
	char *csp;                    /* Content-Security-Policy, when html */
	char *set_cookie;             /* a Set-Cookie header (session.c) */
	int64_t wait_until_ms;        /* a long poll to hold until then (0: answer now) */
	char *location;               /* sets Location (a redirect) */
	unsigned retry_after_s;       /* sets Retry-After (0: none) */
} ad_response;

typedef struct {
	ad_app *app;
	struct MHD_Connection *conn;
	const char *method;
	const char *target;           /* path-with-query exactly as sent */
	const char *path;             /* target up to '?', NUL-terminated copy */
	const char *body;
	size_t body_len;
	char source[64];              /* peer address, for the journal */
	int64_t now_ms;
	struct ad_conn *cc;           /* http.c's per-connection state */
} ad_http_req;

typedef struct ad_http ad_http;

bg_status ad_http_start(ad_app *app, ad_http **out, bg_error *err);
void ad_http_stop(ad_http *h);
/* Closes the connections whose request did not arrive whole within request_timeout. */
void ad_http_sweep(ad_http *h);

const char *ad_http_header(const ad_http_req *r, const char *name);
const char *ad_http_query(const ad_http_req *r, const char *name);
/* Frees what res holds (body, signature, headers). */
void ad_response_free(ad_response *res);
/* Fills res with {"error": msg}. */
void ad_response_error(ad_response *res, unsigned status, const char *msg);
void ad_response_json(ad_response *res, unsigned status, json_object *obj);
/* An error answer with Retry-After: retry_s (429, 503). */
void ad_response_busy(ad_response *res, unsigned status, const char *msg, unsigned retry_s);

/*
 * A poll that would wait (wait=N, N > 0) when no room is left: answered 503
 * with Retry-After (logged), before any work; returns true then.
 */
bool ad_wait_refused(ad_http_req *r, ad_response *res);
/* Long polls: suspends the connection until ad_waiters_wake or deadline. */
bg_status ad_wait_begin(ad_http_req *r, const char *request_id, int64_t deadline_ms);
/* Resumes the polls waiting on request_id (NULL: all whose deadline passed, or all when stopping). */
void ad_waiters_wake(ad_app *app, const char *request_id, int64_t now_ms);

/* ------------------------------------------------------------------ */
/* Handlers.  Each fills res; called with app->lock held. */

/* Host API (hostapi.c): POST /v1/requests, GET /v1/requests/{id}. */
/*
 * Every host call runs in one transaction with its signature check: a
 * handler gets the authenticated host and returns BG_OK with res filled, or
 * a database or journal error (rolled back, answered 500).
 */
typedef bg_status (*ad_host_handler)(ad_http_req *r, const ad_config_host *host,
    const char *id, ad_response *res, bg_error *err);
void ad_host_call(ad_http_req *r, const char *id, ad_host_handler fn, ad_response *res);
void ad_host_create(ad_http_req *r, ad_response *res);
/*
 * What a host call files, as stored: id (member id_key of doc), the host,
 * the operator, status and the body verbatim, received now (borrowed).
 */
void ad_host_filed(const ad_http_req *r, const ad_config_host *host, json_object *doc,
    const char *id_key, const char *status, ad_request *out);
/* 201 {id_key: id, "status": status, time_key: ms as RFC 3339}: a host call's filing answer. */
void ad_answer_created(ad_response *res, const char *id_key, const char *id,
    const char *status, const char *time_key, int64_t ms);
/*
 * A filing's body (request or recovery report), parsed, when the host is
 * within host_rate and the body is valid; else NULL with res answered (429
 * with Retry-After, logged; or 400).
 */
json_object *ad_host_filing_body(ad_http_req *r, const ad_config_host *host,
    ad_response *res);
/* Recovery reports (recoveryapi.c): POST /v1/recoveries. */
void ad_host_recovery(ad_http_req *r, ad_response *res);
/* Returns true when the poll was suspended (no response yet). */
bool ad_host_poll(ad_http_req *r, const char *id, ad_response *res);
/* Answers a resumed poll with the current decision. */
void ad_host_poll_answer(ad_http_req *r, const char *id, ad_response *res);
/* The same from its kept decision (ad_decision_kept), without app->lock; false if none. */
bool ad_host_poll_kept(ad_http_req *r, const char *id, ad_response *res);

/* Approver API (approverapi.c). */
void ad_approver_vote(ad_http_req *r, const char *id, bool approve, ad_response *res);
void ad_approver_list(ad_http_req *r, ad_response *res);
/* The token of an Authorization: Bearer header (NULL: none). */
const char *ad_bearer_token(const ad_http_req *r);
/* Answers 429 when the address or the approver (NULL: none) is in a backoff wait. */
bool ad_approver_throttled(ad_http_req *r, const char *approver, ad_response *res);
/* Counts a failed authentication; journals approver.throttled when a wait starts. */
void ad_approver_count_failure(ad_http_req *r, const char *approver);
/* The approver authenticated fully from this address (ad_throttle_trust). */
void ad_approver_trust(const ad_http_req *r, const char *approver);
/*
 * A vote's confirmation from a signed-in page, in a transaction it begins:
 * the live session (Origin, CSRF), the backoff and the second factor for
 * binding.  true with the transaction open and approver (the session's)
 * filled; false with nothing open and res answered.  about names what is
 * confirmed in the refusal's log line.
 */
bool ad_session_confirm(ad_http_req *r, json_object *confirm, const char *binding,
    const char *about, char approver[BG_NAME_MAX + 1], ad_response *res);
/* A batch holds at most this many requests. */
#define AD_BATCH_MAX 50
#define AD_BINDING_MAX (16 + AD_BATCH_MAX * 64)
/* "vote:ACTION:ID1,ID2,...", ids as given (sorted by the caller); false when cut. */
bool ad_vote_binding(const char *action, const char *const *ids, size_t n, char *out,
    size_t outsz);
/* Whether a vote's comment is plain text; else res answered 400. */
bool ad_comment_ok(const char *comment, ad_response *res);

/*
 * Approvers' sessions (session.c): POST /v1/session (sign-in), GET, DELETE
 * (sign-out).
 */
void ad_session_signin(ad_http_req *r, ad_response *res);
void ad_session_show(ad_http_req *r, ad_response *res);
void ad_session_signout(ad_http_req *r, ad_response *res);
/*
 * Inside a transaction the caller began: the request's session (its
 * cookie), touched; with change (a state-changing request) its Origin
 * header must be [server] origin and its X-CSRF-Token the session's.
 * false when not: the transaction ended, the refusal logged, res answered
 * 401 (no live session), 403 (origin or CSRF) or 500.
 */
bool ad_session_check(ad_http_req *r, bool change, ad_session *out, ad_response *res);
/* Whether the request carries a session cookie (live or not). */
bool ad_session_cookie_sent(const ad_http_req *r);
/* The page's view: the request's live session, touched, in its own transaction. */
bg_status ad_session_current(ad_http_req *r, ad_session *out, bool *found, bg_error *err);

/* ------------------------------------------------------------------ */
/* Group commit of votes (votegroup.c). */

/* The most votes served as one group. */
#define AD_GROUP_MAX 32
#define AD_REQUEST_ID_MAX 64

/* A vote whose connection is suspended until its group is durable (http.c). */
typedef struct ad_parked {
	struct ad_parked *next;
	ad_http_req req;              /* valid while the connection is suspended */
	ad_response res;              /* the answer, sent once resumed */
	char id[AD_REQUEST_ID_MAX];
	bool approve;
} ad_parked;

typedef struct ad_group ad_group;

/* Starts the thread that serves parked votes; resume(p) once p->res is its answer. */
bg_status ad_group_start(ad_app *app, void (*resume)(ad_parked *p), ad_group **out,
    bg_error *err);
/*
 * Serves what is parked, then stops the thread; a park after is refused.
 * Freed apart (ad_group_free), once no HTTP thread can park any more.
 */
void ad_group_stop(ad_group *g);
void ad_group_free(ad_group *g);
/* Queues p (its connection suspended) for the next group; false once stopping. */
bool ad_group_park(ad_group *g, ad_parked *p);
/*
 * A vote committed (ad_vote_cast, whose event voted this takes, and req
 * and votes: the request as the vote's transaction read and left it, with
 * its lock held, so with every vote committed before this one): journals
 * it and the decision it makes and answers res, now or with its group.
 */
void ad_vote_committed(ad_http_req *r, const char *id, bg_event *voted, ad_request *req,
    ad_votes *votes, ad_response *res);
/* Fail closed: a committed vote the journal lacks must not count, so its request is denied. */
void ad_vote_deny_unjournaled(ad_http_req *r, const char *id);
/*
 * A decision's record (ad_decision_finalize, whose *ev this takes): held
 * for the group's one append while a group's decisions are being made,
 * else journaled now.  Either way before the decision's commit.
 */
bg_status ad_journal_decision(ad_app *app, bg_event **ev, bg_error *err);
/*
 * Wakes the polls waiting on a decided request (ad_waiters_wake): now, or
 * while a group's decisions are being made, once the group has answered.
 */
void ad_decision_wake(ad_app *app, const char *id, int64_t now_ms);

/* Batch votes (batch.c): POST /v1/batch, from a session. */
void ad_batch_vote(ad_http_req *r, ad_response *res);
/*
 * GET /healthz (health.c): 200 when the database takes a write, the signing
 * key signs and the database's file system has min_free_space; else 503
 * naming the problems.
 */
void ad_healthz(ad_http_req *r, ad_response *res);

/* Approver authentication (approver_auth.c): token, then TOTP. */
typedef enum {
	AD_AUTH_OK,
	AD_AUTH_REFUSED,     /* unknown approver, wrong token or wrong code */
	AD_AUTH_REPLAYED,    /* a code for a time step already used */
	AD_AUTH_LOCKED,      /* too many wrong codes */
} ad_auth_verdict;
/* Whether token hashes to some approver's token_sha256; *name_out names them. */
bool ad_token_matches(const ad_config *cfg, const char *token, const char **name_out);
/* Whether token is approver name's own (name configured, compared in constant time). */
bool ad_approver_token_ok(const ad_config *cfg, const char *name, const char *token);
/*
 * The token, then (only when it is name's) the second factor confirming
 * binding (ad_factor_confirm).  Inside a transaction: the factor's state
 * it updates is committed with it.
 */
bg_status ad_approver_authenticate(ad_app *app, const ad_http_req *r, const char *name,
    const char *token, json_object *confirm, const char *binding,
    ad_auth_verdict *verdict, bg_error *err);
/*
 * The outcome of an authentication (rc, verdict) in the transaction the
 * caller began: true when it confirmed, the transaction still open;
 * otherwise the transaction ended (a refusal committed with the factor's
 * state), the refusal logged (about request id; NULL: a sign-in) and
 * counted, and res answered 401 or 500.
 */
bool ad_approver_confirmed(ad_http_req *r, const char *approver, const char *id,
    bg_status rc, ad_auth_verdict verdict, bg_error *err, ad_response *res);
/* --check-config: every approver's TOTP secret loads. */
bg_status ad_approver_check_secrets(const ad_config *cfg, bg_errlist *errs);

/*
 * Second factor (factor.c): every approver second-factor check, inside the
 * caller's transaction.  confirm is {"totp": CODE} or {"webauthn":
 * ASSERTION}; binding is what it confirms: "signin", or "vote:approve:IDS"
 * / "vote:deny:IDS" (the request ids sorted, comma-joined).  Anything but
 * exactly one known factor that verifies is AD_AUTH_REFUSED.
 */
bg_status ad_factor_confirm(ad_app *app, const ad_http_req *r, const char *approver,
    json_object *confirm, const char *binding, ad_auth_verdict *verdict, bg_error *err);
/*
 * The binding of a passkey registration's bootstrap: a TOTP code is taken
 * for it even with second_factor = webauthn.  Set by the service, never
 * from a body (a challenge's binding is "signin" or a vote's).
 */
#define AD_BINDING_REGISTER "passkey:register"
/*
 * A second factor other than a TOTP code (a passkey), inside a transaction:
 * _begin holds the approver's lockout state and answers AD_AUTH_LOCKED
 * while it is locked out; _failed counts a refusal in it as a wrong code
 * counts, locking out at totp_max_failures.  name: the configured spelling.
 */
bg_status ad_factor_begin(ad_app *app, const char *name, ad_auth_verdict *verdict,
    bg_error *err);
bg_status ad_factor_failed(ad_app *app, const char *name, ad_auth_verdict *verdict,
    bg_error *err);

/*
 * Backoff on authentication failures (throttle.c), keyed "address:..." or
 * "approver:...": the wait left for key (0: none), and a failure recorded,
 * returning the wait it starts (0: still within the free failures).
 */
int64_t ad_throttle_wait_ms(const char *key, int64_t now_ms);
int64_t ad_throttle_fail(const char *key, int64_t cap_ms, int64_t now_ms);
/*
 * The approver's own addresses: where the approver authenticated fully
 * (token and TOTP) in the last day.  Only a success records one, so others'
 * guesses at the approver's token cannot lock the approver out there.
 */
void ad_throttle_trust(const char *pair, int64_t now_ms);
bool ad_throttle_trusted(const char *pair, int64_t now_ms);

/*
 * Passkeys (passkey.c): POST /v1/webauthn/register/begin, .../finish and
 * /v1/webauthn/challenge.
 */
void ad_passkey_register_begin(ad_http_req *r, ad_response *res);
void ad_passkey_register_finish(ad_http_req *r, ad_response *res);
void ad_passkey_challenge(ad_http_req *r, ad_response *res);
/*
 * A passkey assertion (contract: {"id", "clientDataJSON",
 * "authenticatorData", "signature", "userHandle"}) by approver confirming
 * binding, inside the caller's transaction: the challenge it signs must be
 * an unspent, unexpired one issued to approver for exactly binding (spent
 * now), the credential approver's, the assertion valid (webauthn.h) and its
 * counter ahead.  A refusal is journaled (approver.passkey_refused) and
 * counted in the approver's lockout.  BG_OK with *verdict, or an error (deny).
 */
bg_status ad_passkey_confirm(ad_app *app, const ad_http_req *r, const char *approver,
    json_object *assertion, const char *binding, ad_auth_verdict *verdict, bg_error *err);

/* Web page (page.c): GET /. */
void ad_page(ad_http_req *r, ad_response *res);
/*
 * The pages' Content-Security-Policy: no source but their one inline script
 * and style, allowed by hash; false when out of memory.
 */
bool ad_page_set_csp(ad_response *res, const char *script, const char *style);
/* The passkey registration page (passkey_page.c): GET /passkeys. */
void ad_passkey_page(ad_http_req *r, ad_response *res);

/*
 * Slack (slack.c): POST /v1/integrations/slack, a button click signed by
 * Slack, answered with a one-time link; never a vote.
 */
void ad_slack_interaction(ad_http_req *r, ad_response *res);
/* Reads [slack] signing_secret (BG_FILE_SECRET); free with bg_file_free_secret. */
bg_status ad_slack_secret_read(const char *path, char **out, size_t *len, bg_error *err);
/* Reads a [notify] token, a Slack bot token (xoxb-...); free with bg_file_free_secret. */
bg_status ad_slack_token_read(const char *path, char **out, size_t *len, bg_error *err);
/* Whether url is an https (or loopback http) URL under [slack] response_url_prefix. */
bool ad_slack_response_url_ok(const ad_config *cfg, const char *url);

/* One-time links (links.c): GET /v1/links/{token}. */
#define AD_LINK_TTL_MS (10 * 60 * AD_MS_PER_SECOND)
/*
 * Stores a link for approver to act on request_id, valid AD_LINK_TTL_MS,
 * inside the caller's transaction; token gets the text for the URL.
 */
bg_status ad_link_issue(ad_app *app, const char *approver, const char *request_id,
    const char *action, int64_t now_ms, char token[AD_TOKEN_LEN + 1], bg_error *err);
void ad_link_open(ad_http_req *r, const char *token, ad_response *res);

/* ------------------------------------------------------------------ */
/* Limits (limits.c): per-host filing rate, in memory, per instance. */

/* Takes one of host's tokens; false (and *retry_s) when none is left. */
bool ad_limits_take(ad_app *app, const char *host, int64_t now_ms, unsigned *retry_s);
void ad_limits_free(ad_app *app);

/* Retention (retention.c): decided requests older than retention, journaled. */
void ad_retention_purge(ad_app *app, int64_t now_ms);

/* ------------------------------------------------------------------ */
/* Decisions (decision.c). */

/*
 * The decision document of r with its votes, issued now, and its signature
 * (app->lock held: a document byte-identical to one signed lately gets
 * that signature again, as Ed25519 signing is deterministic).
 */
bg_status ad_decision_build(ad_app *app, const ad_request *r, const ad_votes *votes,
    int64_t now_ms, bg_buf *body, char **sig_b64, bg_error *err);
/*
 * The document body, just built by ad_decision_build, is a final decision
 * whose transaction has committed: the polls it woke may be answered with
 * it (ad_decision_kept) without reading the database.
 */
void ad_decision_publish(ad_app *app, const bg_buf *body);
/*
 * A published decision document of request id issued at issued_ms (the
 * deciding vote's, as of when the polls it woke were woken): copied into
 * body and *sig_b64, true; false when none is kept.  app->lock need not be
 * held.
 */
bool ad_decision_kept(ad_app *app, const char *id, int64_t issued_ms, bg_buf *body,
    char **sig_b64);
/* Forgets the signatures and the parsed requests kept (the signing key changed, or at exit). */
void ad_decision_forget_kept(ad_app *app);
/* The status the votes give r (r->status when already final). */
const char *ad_decision_status(const ad_app *app, const ad_request *r,
    const ad_votes *votes, int64_t now_ms);
/* Whether approver is one of r's designated approvers. */
bool ad_request_names(const ad_request *r, const char *approver);
/* A request as approvers see it: the filed members but nonce, plus state. */
json_object *ad_request_view(const ad_request *r, const ad_votes *votes);
/*
 * Records that r became final (status): store, journal, notifications and
 * the waiting polls.  Called inside a transaction.
 */
bg_status ad_decision_finalize(ad_app *app, const ad_request *r, const ad_votes *votes,
    const char *status, const char *source, int64_t now_ms, bg_error *err);
/*
 * Loads request id and its votes, finalizing it first when it is due
 * (expired).  Called inside a transaction.  BG_ERR_NOTFOUND when absent.
 */
bg_status ad_request_load(ad_app *app, const char *id, ad_request *r, ad_votes *votes,
    const char *source, int64_t now_ms, bg_error *err);
/* The same, holding the request until the transaction ends (ad_store_request_votes). */
bg_status ad_request_load_held(ad_app *app, const char *id, ad_request *r, ad_votes *votes,
    const char *source, int64_t now_ms, bg_error *err);
/*
 * Finalizes r when what its votes make of it (at now_ms) is not its status:
 * read again held first, unless held already (another instance may have
 * decided it since).  Inside a transaction; r and votes cleared on failure.
 */
bg_status ad_request_settle(ad_app *app, ad_request *r, ad_votes *votes, bool held,
    const char *source, int64_t now_ms, bg_error *err);
/* Expires every pending request past expires_at (main thread tick). */
void ad_decision_expire_due(ad_app *app, int64_t now_ms);

/* ------------------------------------------------------------------ */
/* Audit (events.c): every state change is journaled before it is committed. */

bg_status ad_audit_init(ad_app *app, bg_error *err);
/*
 * Adds a JSON value a host sent (signals) to ev with every string as
 * bg_utf8_sanitize writes it: bg_event_add_json would journal it as it is.
 */
void ad_event_add_untrusted_json(bg_event *ev, const char *key, json_object *value);
/*
 * An event about request r (NULL: none) by approver (NULL: none) from
 * source, naming this instance.
 */
bg_event *ad_event_new(const ad_app *app, const char *name, const char *outcome,
    const ad_request *r, const char *approver, const char *source);

/* ------------------------------------------------------------------ */
/* Notifications (notify.c): queued in the store, delivered by a thread. */

typedef struct ad_notifier ad_notifier;

bg_status ad_notifier_start(const ad_config_server *cfg, ad_notifier **out,
    bg_error *err);
void ad_notifier_stop(ad_notifier *n);
/* Wakes the thread: something was queued. */
void ad_notifier_kick(ad_notifier *n);
/* Queues one notification per target about r (event: "request.created" or "request.decided"). */
bg_status ad_notify_enqueue(ad_app *app, const char *event, const ad_request *r,
    const ad_votes *votes, const char *status, int64_t now_ms, bg_error *err);
/* Queues one "recovery.reported" notification per target about the report doc. */
bg_status ad_notify_recovery(ad_app *app, json_object *doc, int64_t now_ms, bg_error *err);
/* Queues msg to a Slack response_url (checked by the caller). */
bg_status ad_notify_slack_response(ad_app *app, const char *url, json_object *msg,
    int64_t now_ms, bg_error *err);

/* ------------------------------------------------------------------ */
/* Logging (log.c): daemon messages, untrusted text escaped by the caller. */

void ad_log_open(bool foreground);
void ad_log(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
