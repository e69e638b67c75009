/*
 * The kill switch: while the configured file exists, every break-glass login,
 * account check and sudo command is refused.
 */
#ifndef BG_KILLSWITCH_H
#define BG_KILLSWITCH_H

#include <stdbool.h>

#include "status.h"

/*
 * Whether the kill switch at path is engaged.  Any error other than "does not
 * exist" (permission, I/O) counts as engaged: fail closed.  *engaged is always
 * set; err says why when the answer came from an error.
 */
void bg_killswitch_engaged(const char *path, bool *engaged, bg_error *err);

/* Creates the file (0644, root) holding who, when and why; idempotent. */
bg_status bg_killswitch_engage(const char *path, const char *who, const char *reason,
    bg_error *err);

/* Removes the file; releasing a released switch is not an error. */
bg_status bg_killswitch_release(const char *path, bg_error *err);

#endif
