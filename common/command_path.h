/*
 * Command trust: whether the path sudo is about to execute can be trusted as
 * given.  sudo resolves the path again when it executes it, so checking what
 * the path resolves to now proves nothing about what runs; only a path no one
 * but root can change is safe to check once.
 */
#ifndef BG_COMMAND_PATH_H
#define BG_COMMAND_PATH_H

#include <stddef.h>

#include "status.h"

/*
 * Walks path from "/" one component at a time without following links
 * (openat with O_PATH|O_NOFOLLOW, fstat on what was opened) and requires:
 * an absolute path without "." or ".." components; every directory and the
 * final regular file owned by root and not writable by group or others; no
 * symbolic link except the distribution's merged-/usr links at the top
 * ("/bin", "/sbin", "/lib*" pointing to "usr/<same name>").
 *
 * On success writes the canonical path (those top links replaced by their
 * "/usr/..." targets, so /bin/id gives /usr/bin/id) into canonical.
 * Otherwise BG_ERR_PERM with a message beginning "untrusted-path: " that
 * names the component at fault (escaped: the path comes from the user).
 */
bg_status bg_command_path_check(const char *path, char *canonical, size_t size,
    bg_error *err);

#endif
