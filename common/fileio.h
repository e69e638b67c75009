/* Secure file access: checked opens, capped reads, atomic replace, lock files. */
#ifndef BG_FILEIO_H
#define BG_FILEIO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "status.h"

/*
 * What an opened file must look like.  Every file breakglass trusts is a
 * regular file (never a symlink: O_NOFOLLOW), owned by root or by the
 * effective uid (so tests can run unprivileged), and:
 *   BG_FILE_CONFIG  not writable by group or others
 *   BG_FILE_SECRET  not readable or writable by group or others
 */
typedef enum {
	BG_FILE_CONFIG,
	BG_FILE_SECRET,
} bg_file_kind;

/* Checks an fstat() result against kind; path is only used in the message. */
bg_status bg_file_check_stat(const char *path, const struct stat *st,
    bg_file_kind kind, bg_error *err);

/*
 * Whether name is a plain, short file name ([A-Za-z0-9._-], 1 to 64 bytes,
 * no leading '.' or '-'): identities that name state and key files.
 */
bool bg_file_name_valid(const char *name);

/* Checks that a directory exists, is owned by root/euid and is not group/other writable. */
bg_status bg_dir_check(const char *path, bg_error *err);

/*
 * Opens the directory name relative to at (AT_FDCWD or a directory fd) with
 * O_DIRECTORY|O_NOFOLLOW and checks the opened directory as bg_dir_check
 * does: what is checked is what the caller then uses through *fd_out.  A
 * symbolic link is BG_ERR_PERM, a missing directory BG_ERR_NOTFOUND; shown
 * names it in messages.
 */
bg_status bg_dir_open_checked(int at, const char *name, const char *shown, int *fd_out,
    bg_error *err);

/* open(path, O_RDONLY|O_NOFOLLOW|O_CLOEXEC) followed by bg_file_check_stat. */
bg_status bg_file_open_checked(const char *path, bg_file_kind kind, int *fd_out,
    bg_error *err);
/* The same for name relative to the directory fd at; path names it in messages. */
bg_status bg_file_open_checked_at(int at, const char *name, const char *path,
    bg_file_kind kind, int *fd_out, bg_error *err);

/*
 * Reads a whole checked file of at most max bytes into a fresh NUL-terminated
 * buffer.  Refuses larger files with BG_ERR_TOOBIG.  Secrets read this way must
 * be released with bg_file_free_secret().
 */
bg_status bg_file_read(const char *path, bg_file_kind kind, size_t max,
    char **data_out, size_t *len_out, bg_error *err);
bg_status bg_file_read_at(int at, const char *name, const char *path, bg_file_kind kind,
    size_t max, char **data_out, size_t *len_out, bg_error *err);

/* Zeroes then frees a buffer from bg_file_read. */
void bg_file_free_secret(char *data, size_t len);

/*
 * Replaces path atomically: writes a temporary file in the same directory,
 * fsyncs it, renames it over path and fsyncs the directory.  A crash at any
 * point leaves either the old or the new contents.  The caller holds the lock.
 */
bg_status bg_file_replace(const char *path, const void *data, size_t len,
    mode_t mode, bg_error *err);
/* The same for name in the directory fd dir; path names it in messages. */
bg_status bg_file_replace_at(int dir, const char *name, const char *path, const void *data,
    size_t len, mode_t mode, bg_error *err);

/* fsync()s the directory holding path. */
bg_status bg_fsync_parent(const char *path, bg_error *err);

/*
 * How long a state write waits for its lock.  Every holder keeps it for a
 * few fsyncs; one that keeps it this long is stuck, and a refusal (logged,
 * fail closed) is better than a sudo or a login that hangs behind it.
 */
#define BG_LOCK_WAIT_MS 30000U

/*
 * Opens (creating 0600 if needed) a persistent lock file and takes an
 * exclusive flock on it, waiting at most about wait_ms (BG_ERR_IO after
 * that).  The file stays in place; a lock left by a dead process is
 * released by the kernel, so it never blocks anyone.
 */
bg_status bg_lock_acquire(const char *lock_path, unsigned wait_ms, int *fd_out,
    bg_error *err);
/* The same for the lock file name in the directory fd at; lock_path names it. */
bg_status bg_lock_acquire_at(int at, const char *name, const char *lock_path,
    unsigned wait_ms, int *fd_out, bg_error *err);
void bg_lock_release(int fd);

/* Writes all of buf, retrying on EINTR and short writes. */
bg_status bg_write_all(int fd, const void *buf, size_t len, const char *what,
    bg_error *err);

#endif
