/*
 * Offline recovery, protocol R1 (docs/protocol.md "Offline recovery"): the
 * per-host key derivation, the challenge and the approvers' codes.  When no
 * approval service answers, M recovery approvers each compute a code on their
 * own device from the details they approve, and the operator types them.
 *
 *   K_AH = HMAC-SHA256(K_A, "breakglass-recovery-host:" || host_id)
 *   msg  = "R1:" host ":" account ":" operator ":" incident ":" scope ":" C ":" A
 *   code = RFC 4226 section 5.3 dynamic truncation of HMAC-SHA256(K_AH, msg),
 *          mod 10^8, 8 decimal digits, shown NNNN-NNNN
 * C is 8 characters of the RFC 4648 base32 alphabet (40 random bits), shown
 * XXXX-XXXX and used without the dash.
 */
#ifndef BG_RECOVERY_H
#define BG_RECOVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "crypto.h"
#include "status.h"

#define BG_RECOVERY_CHALLENGE_LEN 8    /* base32 characters, no dash */
#define BG_RECOVERY_CODE_LEN 8         /* decimal digits, no dash */
#define BG_RECOVERY_DISPLAY_LEN 9      /* XXXX-XXXX or NNNN-NNNN */
/* The longest detail (host, account, operator, incident, scope, approver) in msg. */
#define BG_RECOVERY_FIELD_MAX 255

/* What a code approves; every member is typed by the approver. */
typedef struct {
	const char *host;
	const char *account;
	const char *operator_name;
	const char *incident;
	const char *scope;
} bg_recovery_details;

/* K_AH from K_A and host_id. */
bg_status bg_recovery_host_key(const unsigned char k_a[BG_SHA256_LEN], const char *host_id,
    unsigned char k_ah[BG_SHA256_LEN], bg_error *err);

/* A fresh challenge: 8 base32 characters, NUL-terminated. */
bg_status bg_recovery_challenge_new(char out[BG_RECOVERY_CHALLENGE_LEN + 1], bg_error *err);

/*
 * Reads a challenge as a person types it: 8 base32 characters with an
 * optional dash after the fourth, either case, surrounding blanks ignored.
 * Writes the canonical form (uppercase, no dash).
 */
bg_status bg_recovery_challenge_parse(const char *text,
    char out[BG_RECOVERY_CHALLENGE_LEN + 1], bg_error *err);

/* Reads a code: 8 digits with an optional dash after the fourth, blanks ignored. */
bg_status bg_recovery_code_parse(const char *text, char out[BG_RECOVERY_CODE_LEN + 1],
    bg_error *err);

/* "ABCD2345" -> "ABCD-2345" (challenges and codes alike). */
void bg_recovery_display(const char *canonical, char out[BG_RECOVERY_DISPLAY_LEN + 1]);

/* Whether every detail can go into a code (as bg_recovery_code requires). */
bg_status bg_recovery_details_check(const bg_recovery_details *d, bg_error *err);

/*
 * Approver A's code for the details and challenge (canonical form), as 8
 * digits.  Every detail must be non-empty, at most BG_RECOVERY_FIELD_MAX
 * bytes, printable ASCII and free of ':' (so msg has one reading).
 */
bg_status bg_recovery_code(const unsigned char k_ah[BG_SHA256_LEN],
    const bg_recovery_details *d, const char *challenge, const char *approver,
    char out[BG_RECOVERY_CODE_LEN + 1], bg_error *err);

/*
 * Whether code (canonical, 8 digits) is approver's code for the details:
 * reads K_AH from keys_dir/approver (BG_FILE_SECRET), recomputes, compares in
 * constant time and zeroes the key.  BG_OK on a match, BG_ERR_DENIED on a
 * mismatch, another error (key file, bad detail) with err set.
 */
bg_status bg_recovery_code_check(const char *keys_dir, const bg_recovery_details *d,
    const char *challenge, const char *approver, const char *code, bg_error *err);

/* keys_dir/approver into out; the approver must be a safe file name. */
bg_status bg_recovery_key_path(const char *keys_dir, const char *approver, char *out,
    size_t outsz, bg_error *err);

/* One approver's accepted code, as a recovery grant keeps it. */
typedef struct {
	const char *approver;
	const char *code;             /* canonical, 8 digits */
	time_t at;                    /* when the module accepted it */
} bg_recovery_approval;

/* The request_id of a recovery grant: "R1-" and its challenge. */
#define BG_RECOVERY_REQUEST_PREFIX "R1-"

/*
 * The record a recovery grant keeps in place of a signed decision (its
 * "decision" member): {"protocol":"R1","host","account","operator",
 * "incident","scope","challenge","approvals":[{"approver","code","at"}]}.
 * *out is malloc()ed.
 */
bg_status bg_recovery_record(const bg_recovery_details *d, const char *challenge,
    const bg_recovery_approval *a, size_t n, char **out, bg_error *err);

/*
 * The part of a recovery grant's validation that replaces the decision
 * signature (bg_grant_validate_cfg checks account, host and times against
 * [recovery] ttl first): the scope is one of [recovery] scopes; the record
 * agrees with the grant (details, request_id, approvers in order), holds at
 * least [recovery] quorum distinct configured approvers, none of them the
 * operator, each accepted within challenge_ttl before issued_at, and every
 * code is recomputed from keys_dir.  So a recovery grant edited to widen its
 * scope or to name other people is refused like an edited approval grant.
 */
struct bg_config;
struct bg_grant;
bg_status bg_recovery_grant_check(const struct bg_grant *g, const struct bg_config *cfg,
    bg_error *err);

#endif
