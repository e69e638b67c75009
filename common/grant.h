/*
 * Grants: {run_dir}/grants/{account}.json, 0600, one JSON object written by
 * pam_breakglass after an approval and read by sudo_breakglass, the CLI and
 * acct_mgmt.  Members: account, operator, incident, request_id, scope,
 * approvers (array of names), issued_at, expires_at (Unix seconds), host,
 * decision (the approval service's decision body, verbatim, as a string) and
 * decision_signature (base64 Ed25519 over the decision bytes), so anyone with
 * the service's public key can re-check the approval offline.  The other
 * members are written by the host outside the signature; bg_grant_validate
 * binds each of them to the signed decision.
 *
 * Every use (write, load, revoke, list) opens run_dir and run_dir/grants
 * afresh without following symbolic links, checks each opened directory
 * (owned by root, or the euid for tests; not writable by group or others)
 * and works relative to it.  An unsafe directory is BG_ERR_PERM naming it;
 * so is a missing grants directory, except to bg_grant_write, which
 * creates it.
 */
#ifndef BG_GRANT_H
#define BG_GRANT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "status.h"

#define BG_GRANT_MAX_SIZE (128 * 1024)
#define BG_GRANT_MAX_APPROVERS 32

typedef struct bg_grant {
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
	/*
	 * Offline recovery (protocol R1): decision holds the recovery record
	 * (recovery.h) and decision_signature is empty; written as
	 * "recovery": true, absent from other grants.
	 */
	bool recovery;
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
 * or malformed, or a grants directory that is unsafe or missing.  Does not
 * judge validity: see bg_grant_validate.
 */
bg_status bg_grant_load(const char *run_dir, const char *account, bg_grant *g,
    bg_error *err);

/*
 * How far the decision's issued_at may be from the host's clock when the
 * grant is issued (seconds): the approval client's skew check
 * (BG_APPROVAL_MAX_SKEW) and the grant's binding to its decision.
 */
#define BG_DECISION_MAX_SKEW 300

/*
 * Whether a loaded grant may be used at now on the host host_id (the
 * configured [approval] host_id) by account: the grant names account and
 * host_id; issued_at <= now < expires_at; expires_at - issued_at <= max_ttl
 * (grant_ttl); the decision signature verifies with the pinned service
 * public key; and the signed decision agrees with the grant: its
 * request_id, account, operator, scope and approvers are the grant's, its
 * status is "approved" with no denials, its host is host_id, the grant's
 * issued_at is at most BG_DECISION_MAX_SKEW before its issued_at and not
 * after it (pam_breakglass takes the earlier of that time and its own
 * clock, having refused a decision further from its clock), and
 * expires_at - issued_at <= its ttl (a positive integer).  So a grant file
 * edited to last longer than approved, to start after its approval was
 * issued (an old approval made fresh) or to name another host, or carrying
 * an approval for another host, does not validate.
 * BG_ERR_DENIED (not yet valid or expired) or BG_ERR_CRYPTO/INVALID with the
 * reason in err.
 */
bg_status bg_grant_validate(const bg_grant *g, const char *account, const char *host_id,
    const char *service_key_path, unsigned long max_ttl, time_t now, bg_error *err);

/*
 * bg_grant_validate with cfg's [approval] host_id, service_key and
 * [general] grant_ttl for an approval grant, or bg_recovery_grant_check for
 * a recovery grant: what sudo, acct_mgmt and the CLI use.
 */
struct bg_config;
bg_status bg_grant_validate_cfg(const bg_grant *g, const char *account,
    const struct bg_config *cfg, time_t now, bg_error *err);

/*
 * Removes the account's grant under the lock; *removed tells whether one
 * existed.  An unsafe or missing grants directory is an error, never
 * "nothing to remove".
 */
bg_status bg_grant_revoke(const char *run_dir, const char *account, bool *removed,
    bg_error *err);

/*
 * The accounts that hold a grant file, for status/revoke --all/expire
 * (malloc()ed).  An unsafe or missing grants directory is an error.
 */
bg_status bg_grant_list(const char *run_dir, char ***accounts, size_t *count,
    bg_error *err);
void bg_grant_list_free(char **accounts, size_t count);

#endif
