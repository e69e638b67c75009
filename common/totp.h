/*
 * TOTP (RFC 6238) for operators and approvers, via liboath, with replay
 * refusal and per-identity lockout kept in state files.
 *
 * Secret file (operators_dir/NAME, BG_FILE_SECRET, same INI syntax as the
 * configuration, no sections):
 *   secret = BASE32        (required; RFC 4648 base32, padding optional)
 *   algorithm = sha1       (sha1 | sha256 | sha512)
 *   digits = 6             (6 | 8)
 *   period = 30            (seconds, 15..300)
 */
#ifndef BG_TOTP_H
#define BG_TOTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "status.h"

#define BG_TOTP_MAX_SECRET 128

typedef enum { BG_TOTP_SHA1, BG_TOTP_SHA256, BG_TOTP_SHA512 } bg_totp_algorithm;

typedef struct {
	unsigned char secret[BG_TOTP_MAX_SECRET];  /* decoded key bytes */
	size_t secret_len;
	unsigned algorithm;                        /* bg_totp_algorithm */
	unsigned digits;
	unsigned period;
} bg_totp_secret;

/* Reads and checks a secret file (owner, mode 0600, no symlink, every key). */
bg_status bg_totp_secret_load(const char *path, bg_totp_secret *s, bg_error *err);
/* explicit_bzero()s the secret. */
void bg_totp_secret_clear(bg_totp_secret *s);

/*
 * Checks code against s at time now, accepting window steps either side.
 * The code must be exactly s->digits ASCII digits.  On a match returns BG_OK
 * with the matching step counter in *step; a wrong code is BG_ERR_DENIED.
 */
bg_status bg_totp_check(const bg_totp_secret *s, const char *code, time_t now,
    unsigned window, uint64_t *step, bg_error *err);

typedef struct {
	const char *state_dir;          /* per-identity state: STATE_DIR/NAME.totp */
	unsigned window;
	unsigned long max_failures;     /* within failure_window, then lockout */
	unsigned long failure_window;   /* seconds */
	unsigned long lockout;          /* seconds */
} bg_totp_policy;

typedef enum {
	BG_TOTP_ACCEPTED,   /* right code, step newer than any accepted before */
	BG_TOTP_REJECTED,   /* wrong code (counted as a failure) */
	BG_TOTP_REPLAYED,   /* right code for a step already used (counted as a failure) */
	BG_TOTP_LOCKED,     /* too many failures: not even checked */
} bg_totp_verdict;

/*
 * The whole check for identity name (an operator or approver name, checked
 * to be a safe file name): under a lock on its state file, refuses while
 * locked out, records a failure *before* checking the code (so a crash mid-
 * check still counts), checks the code, refuses a step not strictly greater
 * than the last accepted one, and on acceptance stores the step and drops the
 * provisional failure.  BG_OK with *verdict set, or an error (I/O, bad state
 * file): the caller denies.  *locked_until is set for BG_TOTP_LOCKED.  With s
 * NULL only the failure is counted (bg_totp_record_failure).
 */
bg_status bg_totp_verify(const bg_totp_policy *p, const char *name,
    const bg_totp_secret *s, const char *code, time_t now, bg_totp_verdict *verdict,
    time_t *locked_until, bg_error *err);

/*
 * Counts one failure against name outside a TOTP check (a wrong offline
 * recovery code), locking it out at max_failures.  *locked_until is set
 * when name is (now) locked out, 0 otherwise.
 */
bg_status bg_totp_record_failure(const bg_totp_policy *p, const char *name, time_t now,
    time_t *locked_until, bg_error *err);

/*
 * One identity's replay and lockout state, for a caller that keeps it
 * elsewhere than in a state file (approvald: in its database, in the
 * transaction of the vote).
 */
#define BG_TOTP_STATE_MAX_FAILURES 256
typedef struct {
	uint64_t last_step;
	time_t failures[BG_TOTP_STATE_MAX_FAILURES];   /* Unix times of recent failures */
	size_t nfailures;
	time_t locked_until;
} bg_totp_state;

/*
 * bg_totp_verify's decision on *st, updated in place (p->state_dir is not
 * used): the caller stores *st atomically with whatever the verdict allows,
 * so a crash loses both or neither.
 */
bg_status bg_totp_decide(const bg_totp_policy *p, bg_totp_state *st,
    const bg_totp_secret *s, const char *code, time_t now, bg_totp_verdict *verdict,
    time_t *locked_until, bg_error *err);

/* Whether name is usable as an identity (and so as a file name): [A-Za-z0-9._-], no leading . or -. */
bool bg_totp_name_valid(const char *name);

/* For `breakglass status`: whether name is locked out at now, and until when. */
bg_status bg_totp_lockout_status(const bg_totp_policy *p, const char *name, time_t now,
    bool *locked, time_t *until, bg_error *err);

#endif
