/*
 * Inside the login flow: the state of one pam_sm_* call and the journal and
 * conversation helpers that login.c and login_recovery.c share.  Not for the
 * PAM module, which sees only login.h.
 */
#ifndef BG_LOGIN_INT_H
#define BG_LOGIN_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "approval.h"
#include "audit.h"
#include "config.h"
#include "grant.h"
#include "login.h"
#include "signals.h"
#include "totp.h"

typedef struct {
	const bg_login_io *io;
	bg_config cfg;
	bg_audit audit;
	const char *operator_name;
	char *operator_buf;         /* prompted operator */
	char *incident;
	char *reason;
	const char *scope;
	char request_id[BG_UUID_LEN + 1];
	bool journal_failed;        /* set by the approval progress callback */
} bg_login_ctx;

/* A journal event carrying the login's identity (NULL on allocation failure). */
bg_event *bg_login_event(const bg_login_ctx *l, const char *name, const char *outcome);
/* Journals and frees ev; false when it could not be recorded (the caller denies). */
bool bg_login_commit(const bg_login_ctx *l, bg_event *ev);
/* One-line event with a reason (and an optional detail). */
bool bg_login_record(const bg_login_ctx *l, const char *name, const char *outcome,
    const char *reason, const char *detail);
/* Journals a refusal and returns result. */
bg_login_result bg_login_refused(const bg_login_ctx *l, const char *name, const char *reason,
    const char *detail, bg_login_result result);
/* Tells the operator (PAM_TEXT_INFO). */
void bg_login_info(const bg_login_ctx *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/*
 * Asks (echo on) and trims; NULL when the conversation failed or the answer is
 * unusable.  An answer holding control, bidi or C1 characters or invalid UTF-8
 * is refused with a word to the operator and handed back in *rejected (for the
 * journal, escaped) unless rejected is NULL.
 */
char *bg_login_ask(const bg_login_ctx *l, const char *question, size_t max,
    char **rejected);
/* The [totp] policy with its state directory (created 0700 when missing). */
bg_status bg_login_totp_policy(const bg_login_ctx *l, char *dir, size_t dirsz,
    bg_totp_policy *p, bg_error *err);
/*
 * Writes g (filled by the caller, who frees it), journals grant.issued and
 * tells the operator; a grant that cannot be journaled is removed again.
 */
bg_login_result bg_login_grant_commit(bg_login_ctx *l, bg_grant *g);

/* Adds which [approval] url answered ("url") and which failed ("failed_urls"). */
void bg_login_add_urls(bg_event *ev, const bg_approval_result *res);

/*
 * Offline recovery (login_recovery.c), after the approval exchange failed:
 * runs only when [recovery] is enabled and bg_approval_unreachable(approval);
 * otherwise returns refused unchanged.
 */
bg_login_result bg_login_recover(bg_login_ctx *l, const bg_signals_result *signals,
    const bg_approval_result *approval, bg_login_result refused);
/*
 * When the signals fell short of [signals] required: with [recovery]
 * enabled, probes the approval service without filing a request
 * (bg_approval_probe, journaled as approval.probed) and, only when it is
 * unreachable, runs bg_login_recover, where [recovery] signals_required
 * applies instead.  Otherwise returns refused unchanged.
 */
bg_login_result bg_login_recover_short_of_signals(bg_login_ctx *l,
    const bg_signals_result *signals, bg_login_result refused);

#endif
