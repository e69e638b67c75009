/*
 * The storage interface's inside: a backend is a struct of function
 * pointers, one per ad_store_* call, and its handles begin with struct
 * ad_store.  store.c picks the backend from the `database` setting and
 * dispatches; store_sqlite.c and store_pg.c implement it.
 */
#ifndef AD_STORE_BACKEND_H
#define AD_STORE_BACKEND_H

#include "approvald.h"

typedef enum { AD_PART_BEGIN, AD_PART_END, AD_PART_UNDO } ad_store_part;

typedef struct ad_store_ops {
	void (*close)(ad_store *st);
	bg_status (*begin)(ad_store *st, bg_error *err);
	bg_status (*begin_lazy)(ad_store *st, bg_error *err);
	bg_status (*commit)(ad_store *st, bg_error *err);
	void (*rollback)(ad_store *st);
	/* A part of a group's transaction (store.c): a savepoint. */
	bg_status (*part)(ad_store *st, ad_store_part op, bg_error *err);
	bg_status (*seen_add)(ad_store *st, const char *host, const char *sig,
	    int64_t now_ms, bg_error *err);
	bg_status (*seen_prune)(ad_store *st, int64_t before_ms, bg_error *err);
	bg_status (*request_get)(ad_store *st, const char *id, ad_request *out,
	    bg_error *err);
	bg_status (*request_votes)(ad_store *st, const char *id, bool lock, ad_request *out,
	    ad_votes *votes, bg_error *err);
	bg_status (*request_insert)(ad_store *st, const ad_request *r, bg_error *err);
	bg_status (*request_set_status)(ad_store *st, const char *id,
	    const char *status, int64_t now_ms, bg_error *err);
	bg_status (*pending)(ad_store *st, ad_request **out, size_t *count,
	    bg_error *err);
	bg_status (*pending_count)(ad_store *st, const char *host, int64_t now_ms,
	    unsigned long *count, bg_error *err);
	bg_status (*purge)(ad_store *st, int64_t before_ms, unsigned long *requests,
	    unsigned long *recoveries, bg_error *err);
	/* The health row's write alone: store.c wraps it in its transaction. */
	bg_status (*health)(ad_store *st, int64_t now_ms, bg_error *err);
	bg_status (*due)(ad_store *st, int64_t now_ms, ad_request **out,
	    size_t *count, bg_error *err);
	bg_status (*votes)(ad_store *st, const char *id, ad_votes *out, bg_error *err);
	bg_status (*vote_insert)(ad_store *st, const char *id, const ad_vote *v,
	    bg_error *err);
	bg_status (*notify_insert)(ad_store *st, const ad_notification *n,
	    int64_t now_ms, bg_error *err);
	bg_status (*notify_due)(ad_store *st, const char *target, int64_t now_ms,
	    ad_notification *out, int64_t *next_ms, bg_error *err);
	bg_status (*notify_targets)(ad_store *st, bg_status (*fn)(void *arg,
	    const char *target, bg_error *err), void *arg, bg_error *err);
	bg_status (*notify_done)(ad_store *st, int64_t id, bg_error *err);
	bg_status (*notify_retry)(ad_store *st, int64_t id, unsigned attempts,
	    int64_t next_ms, bg_error *err);
	bg_status (*totp_get)(ad_store *st, const char *approver, bg_totp_state *out,
	    bg_error *err);
	bg_status (*totp_put)(ad_store *st, const char *approver,
	    const bg_totp_state *s, bg_error *err);
	bg_status (*session_insert)(ad_store *st, const char *id, const ad_session *s,
	    bg_error *err);
	bg_status (*session_get)(ad_store *st, const char *id, ad_session *out,
	    bg_error *err);
	bg_status (*session_touch)(ad_store *st, const char *id, int64_t now_ms,
	    bg_error *err);
	bg_status (*session_delete)(ad_store *st, const char *id, bg_error *err);
	bg_status (*session_prune)(ad_store *st, int64_t idle_ms, int64_t created_ms,
	    bg_error *err);
	bg_status (*recovery_get)(ad_store *st, const char *host, const char *id,
	    ad_request *out, bg_error *err);
	bg_status (*recovery_insert)(ad_store *st, const ad_request *r, bg_error *err);
	bg_status (*recoveries)(ad_store *st, ad_request **out, size_t *count,
	    bg_error *err);
	bg_status (*link_insert)(ad_store *st, const char *hash_hex, const ad_link *l,
	    bg_error *err);
	bg_status (*link_get)(ad_store *st, const char *hash_hex, ad_link *out,
	    bg_error *err);
	bg_status (*link_use)(ad_store *st, const char *hash_hex, int64_t now_ms,
	    bg_error *err);
	bg_status (*link_prune)(ad_store *st, int64_t before_ms, bg_error *err);
	bg_status (*slack_response_put)(ad_store *st, const char *request_id,
	    const char *url, int64_t now_ms, bg_error *err);
	bg_status (*slack_response_get)(ad_store *st, const char *request_id, char **url,
	    bg_error *err);
	bg_status (*slack_post_put)(ad_store *st, const ad_slack_post *p, bg_error *err);
	bg_status (*slack_post_get)(ad_store *st, const char *target, const char *msg_id,
	    ad_slack_post *out, bg_error *err);
	bg_status (*slack_post_set_update)(ad_store *st, const char *target,
	    const char *request_id, const char *update_msg, bg_error *err);
	bg_status (*slack_post_delete)(ad_store *st, const char *target,
	    const char *request_id, bg_error *err);
	bg_status (*passkey_insert)(ad_store *st, const ad_passkey *pk, bg_error *err);
	bg_status (*passkey_get)(ad_store *st, const char *id_hex, ad_passkey *out,
	    bg_error *err);
	bg_status (*passkeys)(ad_store *st, const char *approver, ad_passkey **out,
	    size_t *count, bg_error *err);
	bg_status (*passkey_used)(ad_store *st, const char *id_hex, uint32_t sign_count,
	    int64_t now_ms, bg_error *err);
	bg_status (*challenge_insert)(ad_store *st, const char *hex, const ad_challenge *c,
	    int64_t now_ms, bg_error *err);
	bg_status (*challenge_take)(ad_store *st, const char *hex, ad_challenge *out,
	    bg_error *err);
	bg_status (*challenge_prune)(ad_store *st, int64_t now_ms, bg_error *err);
} ad_store_ops;

struct ad_store {
	const ad_store_ops *ops;
	bool grouped;            /* in a group: begin and commit delimit a part */
	bool in_part;
	bool group_broken;       /* a part could not be undone: the group must not commit */
};

bg_status ad_store_sqlite_open(const ad_config_server *cfg, ad_store **out,
    bg_error *err);
bg_status ad_store_pg_open(const ad_config_server *cfg, ad_store **out, bg_error *err);
/* A postgresql:// URL libpq parses, with no password in it. */
bg_status ad_pg_url_check(const char *url, bg_error *err);
bg_status ad_pg_listener_start(ad_app *app, ad_listener **out, bg_error *err);
void ad_pg_listener_stop(ad_listener *l);

/* The failures of a TOTP state as stored: Unix times, space-separated. */
#define AD_TOTP_FAILURES_MAX (BG_TOTP_STATE_MAX_FAILURES * 21)
bool ad_totp_failures_format(const bg_totp_state *s, char *out, size_t outsz);
bg_status ad_totp_failures_parse(const char *text, bg_totp_state *s, bg_error *err);

#endif
