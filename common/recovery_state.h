/* Offline recovery challenges kept in {state_dir}/recovery (recovery_state.c). */
#ifndef BG_RECOVERY_STATE_H
#define BG_RECOVERY_STATE_H

#include <stdbool.h>
#include <time.h>

#include "recovery.h"
#include "status.h"

/*
 * The challenge for the details: the pending one issued for exactly these
 * details less than ttl seconds ago, or a fresh one (stored).  *issued_at
 * tells when it was issued.
 */
bg_status bg_recovery_challenge_issue(const char *state_dir, const bg_recovery_details *d,
    unsigned long ttl, time_t now, char challenge[BG_RECOVERY_CHALLENGE_LEN + 1],
    time_t *issued_at, bg_error *err);

/*
 * Marks the challenge used, once: BG_ERR_DENIED with *why "challenge-expired"
 * (unknown, for other details, or older than ttl) or "challenge-reused".
 */
bg_status bg_recovery_challenge_use(const char *state_dir, const bg_recovery_details *d,
    const char *challenge, unsigned long ttl, time_t now, const char **why, bg_error *err);

/*
 * The recovery grants already filed with an approval service
 * ({state_dir}/recovery/reported.json), so that `breakglass recovery report`
 * files each once per service URL.  Open takes the file's lock and holds it
 * until close: one reporter runs at a time.
 */
typedef struct bg_recovery_reported bg_recovery_reported;

bg_status bg_recovery_reported_open(const char *state_dir, bg_recovery_reported **out,
    bg_error *err);
bool bg_recovery_reported_has(const bg_recovery_reported *r, const char *id,
    const char *url);
/* Records id as filed with url at now, and replaces the file atomically. */
bg_status bg_recovery_reported_add(bg_recovery_reported *r, const char *id, const char *url,
    time_t now, bg_error *err);
void bg_recovery_reported_close(bg_recovery_reported *r);

#endif
