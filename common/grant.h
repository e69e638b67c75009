/*
 * Grants: {run_dir}/grants/{account}.json, 0600, one JSON object written by
 * pam_breakglass after an approval and read by sudo_breakglass, the CLI and
 * acct_mgmt.  Members: account, operator, incident, request_id, scope,
 * approvers (array of names), issued_at, expires_at (Unix seconds), host,
 * decision (the approval service's decision body, verbatim, as a string) and
 * decision_signature (base64 Ed25519 over the decision bytes), so anyone with
 * the service's public key can re-check the approval offline.
 */
#ifndef BG_GRANT_H
#define BG_GRANT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "status.h"

#define BG_GRANT_MAX_SIZE (128 * 1024)
#define BG_GRANT_MAX_APPROVERS 32

typedef struct {
	char *account;
	char *operator_name;
	char *incident;
	char *request_id;
	char *scope;
	char *approvers[BG_GRANT_MAX_APPROVERS];
	size_t napprovers;
	time_t issued_at;
	time_t expires_at;
	char *host;
	char *decision;             /* verbatim decision body */
	char *decision_signature;   /* base64 */
} bg_grant;

void bg_grant_free(bg_grant *g);

/* {run_dir}/grants/{account}.json into out; the account must be a safe file name. */
bg_status bg_grant_path(const char *run_dir, const char *account, char *out, size_t outsz,
    bg_error *err);

/*
 * Writes g atomically (temp file, fsync, rename, fsync dir) under the grants
 * lock, creating {run_dir}/grants (0700) when missing.
 */
bg_status bg_grant_write(const char *run_dir, const bg_grant *g, bg_error *err);

/*
 * Reads and parses the account's grant: BG_ERR_NOTFOUND when there is none;
 * BG_ERR_PERM/INVALID/TOOBIG for a file that is a symlink, too open, too big
 * or malformed.  Does not judge validity: see bg_grant_validate.
 */
bg_status bg_grant_load(const char *run_dir, const char *account, bg_grant *g,
    bg_error *err);

/*
 * Whether a loaded grant may be used at now: the decision signature verifies
 * with the pinned service public key, the decision's request_id, account,
 * operator, scope and status ("approved") agree with the grant, the account
 * matches, issued_at <= now < expires_at and expires_at - issued_at <= max_ttl.
 * BG_ERR_DENIED (expired) or BG_ERR_CRYPTO/INVALID with the reason in err.
 */
bg_status bg_grant_validate(const bg_grant *g, const char *account,
    const char *service_key_path, unsigned long max_ttl, time_t now, bg_error *err);

/* Removes the account's grant under the lock; *removed tells whether one existed. */
bg_status bg_grant_revoke(const char *run_dir, const char *account, bool *removed,
    bg_error *err);

/* The accounts that hold a grant file, for status/revoke --all/expire (malloc()ed). */
bg_status bg_grant_list(const char *run_dir, char ***accounts, size_t *count,
    bg_error *err);
void bg_grant_list_free(char **accounts, size_t count);

#endif
