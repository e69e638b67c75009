/* Secure file access: checked opens, capped reads, atomic replace, lock files. */
#include "build_config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "names.h"
#include "hex.h"

#define NS_PER_MS 1000000L
/* The longest pause between two attempts at a held lock. */
#define LOCK_PAUSE_MAX_MS 32U

/* Root owns production files; the euid may own them so tests run unprivileged. */
static bool
owner_trusted(uid_t uid)
{
	return uid == 0 || uid == geteuid();
}

bg_status
bg_file_check_stat(const char *path, const struct stat *st, bg_file_kind kind,
    bg_error *err)
{
	mode_t forbidden = kind == BG_FILE_SECRET ? (S_IRWXG | S_IRWXO) : (S_IWGRP | S_IWOTH);

	if (!S_ISREG(st->st_mode))
		return bg_error_set(err, BG_ERR_PERM, "%s: not a regular file", path);
	if (!owner_trusted(st->st_uid))
		return bg_error_set(err, BG_ERR_PERM, "%s: owned by uid %lu, not root",
		    path, (unsigned long)st->st_uid);
	if ((st->st_mode & forbidden) != 0)
		return bg_error_set(err, BG_ERR_PERM, "%s: mode %04o is too open (%s)",
		    path, (unsigned)(st->st_mode & 07777),
		    kind == BG_FILE_SECRET ? "must be 0600 or stricter" :
		    "must not be writable by group or others");
	return BG_OK;
}

/* The names of people and scopes are file names too (names.h). */
#define FILE_NAME_MAX_LEN BG_NAME_MAX

bool
bg_file_name_valid(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && n <= FILE_NAME_MAX_LEN && name[0] != '.' && name[0] != '-' &&
	    name[strspn(name, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")] == '\0';
}

/* A directory breakglass trusts: owned by root/euid, not group/other writable. */
static bg_status
dir_check_stat(const char *path, const struct stat *st, bg_error *err)
{
	if (!S_ISDIR(st->st_mode))
		return bg_error_set(err, BG_ERR_PERM, "%s: not a directory", path);
	if (!owner_trusted(st->st_uid))
		return bg_error_set(err, BG_ERR_PERM, "%s: owned by uid %lu, not root",
		    path, (unsigned long)st->st_uid);
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0)
		return bg_error_set(err, BG_ERR_PERM,
		    "%s: mode %04o is writable by group or others", path,
		    (unsigned)(st->st_mode & 07777));
	return BG_OK;
}

/*
 * fstat()s the freshly opened fd and checks it: as a directory (dir) or as
 * a file of kind.  On success *fd_out takes it; otherwise it is closed.
 */
static bg_status
check_opened(int fd, const char *path, bool dir, bg_file_kind kind, int *fd_out,
    bg_error *err)
{
	struct stat st;
	bg_status rc;

	if (fstat(fd, &st) != 0)
		rc = bg_error_errno(err, BG_ERR_IO, errno, "%s: fstat", path);
	else if (dir)
		rc = dir_check_stat(path, &st, err);
	else
		rc = bg_file_check_stat(path, &st, kind, err);
	if (rc != BG_OK) {
		close(fd);
		return rc;
	}
	*fd_out = fd;
	return BG_OK;
}

bg_status
bg_dir_check(const char *path, bg_error *err)
{
	struct stat st;

	if (lstat(path, &st) != 0)
		return bg_error_errno(err, errno == ENOENT ? BG_ERR_NOTFOUND : BG_ERR_IO,
		    errno, "%s", path);
	return dir_check_stat(path, &st, err);
}

bg_status
bg_dir_open_checked(int at, const char *name, const char *shown, int *fd_out, bg_error *err)
{
	int fd;

	*fd_out = -1;
	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		/* O_NOFOLLOW|O_DIRECTORY on a symbolic link: ELOOP or ENOTDIR. */
		if (errno == ELOOP || errno == ENOTDIR) {
			struct stat lst;

			if (fstatat(at, name, &lst, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(lst.st_mode))
				return bg_error_set(err, BG_ERR_PERM, "%s: is a symbolic link",
				    shown);
			return bg_error_set(err, BG_ERR_PERM, "%s: not a directory", shown);
		}
		return bg_error_errno(err, errno == ENOENT ? BG_ERR_NOTFOUND : BG_ERR_IO,
		    errno, "%s", shown);
	}
	return check_opened(fd, shown, true, BG_FILE_CONFIG, fd_out, err);
}

bg_status
bg_file_open_checked(const char *path, bg_file_kind kind, int *fd_out, bg_error *err)
{
	return bg_file_open_checked_at(AT_FDCWD, path, path, kind, fd_out, err);
}

bg_status
bg_file_open_checked_at(int at, const char *name, const char *path, bg_file_kind kind,
    int *fd_out, bg_error *err)
{
	int fd;

	*fd_out = -1;
	fd = openat(at, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ELOOP)
			return bg_error_set(err, BG_ERR_PERM, "%s: is a symbolic link", path);
		return bg_error_errno(err, errno == ENOENT ? BG_ERR_NOTFOUND : BG_ERR_IO,
		    errno, "%s", path);
	}
	return check_opened(fd, path, false, kind, fd_out, err);
}

bg_status
bg_file_read(const char *path, bg_file_kind kind, size_t max, char **data_out,
    size_t *len_out, bg_error *err)
{
	return bg_file_read_at(AT_FDCWD, path, path, kind, max, data_out, len_out, err);
}

bg_status
bg_file_read_at(int at, const char *name, const char *path, bg_file_kind kind, size_t max,
    char **data_out, size_t *len_out, bg_error *err)
{
	char *buf;
	size_t len = 0;
	bg_status rc;
	int fd;

	*data_out = NULL;
	if (len_out != NULL)
		*len_out = 0;
	rc = bg_file_open_checked_at(at, name, path, kind, &fd, err);
	if (rc != BG_OK)
		return rc;
	buf = malloc(max + 1);
	if (buf == NULL) {
		close(fd);
		return bg_error_set(err, BG_ERR_NOMEM, "%s: out of memory", path);
	}
	/* Read one byte past the cap to tell "exactly max" from "too big". */
	for (;;) {
		ssize_t n = read(fd, buf + len, max + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = bg_error_errno(err, BG_ERR_IO, errno, "%s: read", path);
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			rc = bg_error_set(err, BG_ERR_TOOBIG, "%s: larger than %zu bytes",
			    path, max);
			break;
		}
	}
	close(fd);
	if (rc != BG_OK) {
		bg_file_free_secret(buf, max + 1);
		return rc;
	}
	buf[len] = '\0';
	*data_out = buf;
	if (len_out != NULL)
		*len_out = len;
	return BG_OK;
}

void
bg_file_free_secret(char *data, size_t len)
{
	if (data == NULL)
		return;
	explicit_bzero(data, len);
	free(data);
}

bg_status
bg_write_all(int fd, const void *buf, size_t len, const char *what, bg_error *err)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return bg_error_errno(err, BG_ERR_IO, errno, "%s: write", what);
		if (n == 0)
			return bg_error_set(err, BG_ERR_IO, "%s: write made no progress", what);
		p += n;
		len -= (size_t)n;
	}
	return BG_OK;
}

bg_status
bg_fsync_parent(const char *path, bg_error *err)
{
	char copy[PATH_MAX];
	bg_status rc = BG_OK;
	int fd;

	if (strlen(path) >= sizeof(copy))
		return bg_error_set(err, BG_ERR_INVALID, "%s: path too long", path);
	strcpy(copy, path);
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return bg_error_errno(err, BG_ERR_IO, errno, "%s: open directory", path);
	if (fsync(fd) != 0)
		rc = bg_error_errno(err, BG_ERR_IO, errno, "%s: fsync directory", path);
	close(fd);
	return rc;
}

bg_status
bg_file_replace(const char *path, const void *data, size_t len, mode_t mode,
    bg_error *err)
{
	char copy[PATH_MAX];
	const char *base;
	bg_status rc;
	int dir;

	if (strlen(path) >= sizeof(copy))
		return bg_error_set(err, BG_ERR_INVALID, "%s: path too long", path);
	strcpy(copy, path);
	base = strrchr(path, '/') != NULL ? strrchr(path, '/') + 1 : path;
	dir = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return bg_error_errno(err, BG_ERR_IO, errno, "%s: open directory", path);
	rc = bg_file_replace_at(dir, base, path, data, len, mode, err);
	close(dir);
	return rc;
}

bg_status
bg_file_replace_at(int dir, const char *name, const char *path, const void *data,
    size_t len, mode_t mode, bg_error *err)
{
	char tmp[NAME_MAX + 1];
	unsigned char rnd[8];
	char rnd_hex[sizeof(rnd) * 2 + 1];
	bg_status rc = BG_OK;
	int fd;

	/* The kernel's generator: fileio links without libcrypto (the sudo front). */
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return bg_error_errno(err, BG_ERR_IO, errno, "%s: getrandom", path);
	bg_hex_encode(rnd, sizeof(rnd), rnd_hex);
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%s", name, rnd_hex) >= sizeof(tmp))
		return bg_error_set(err, BG_ERR_INVALID, "%s: name too long", path);

	fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return bg_error_errno(err, BG_ERR_IO, errno, "%s.tmp: create", path);
	/* The umask must not widen or narrow what the caller asked for. */
	if (fchmod(fd, mode) != 0)
		rc = bg_error_errno(err, BG_ERR_IO, errno, "%s.tmp: chmod", path);
	if (rc == BG_OK)
		rc = bg_write_all(fd, data, len, path, err);
	if (rc == BG_OK && fsync(fd) != 0)
		rc = bg_error_errno(err, BG_ERR_IO, errno, "%s.tmp: fsync", path);
	if (close(fd) != 0 && rc == BG_OK)
		rc = bg_error_errno(err, BG_ERR_IO, errno, "%s.tmp: close", path);
	if (rc == BG_OK && renameat(dir, tmp, dir, name) != 0)
		rc = bg_error_errno(err, BG_ERR_IO, errno, "%s: rename", path);
	if (rc != BG_OK) {
		unlinkat(dir, tmp, 0);
		return rc;
	}
	if (fsync(dir) != 0)
		return bg_error_errno(err, BG_ERR_IO, errno, "%s: fsync directory", path);
	return BG_OK;
}

/*
 * Polls a non-blocking flock with growing pauses rather than blocking: a
 * blocking flock can only be bounded by a signal, which a library inside
 * sshd or sudo must not install.  The time is counted in pauses taken.
 */
static bg_status
lock_wait(int fd, const char *lock_path, unsigned wait_ms, bg_error *err)
{
	unsigned slept = 0, pause_ms = 1;

	for (;;) {
		struct timespec ts;

		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return BG_OK;
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK)
			return bg_error_errno(err, BG_ERR_IO, errno, "%s: flock", lock_path);
		if (slept >= wait_ms)
			return bg_error_set(err, BG_ERR_IO,
			    "%s: still held by another process after %u ms", lock_path, wait_ms);
		ts.tv_sec = 0;
		ts.tv_nsec = (long)pause_ms * NS_PER_MS;
		nanosleep(&ts, NULL);
		slept += pause_ms;
		if (pause_ms < LOCK_PAUSE_MAX_MS)
			pause_ms *= 2;
	}
}

bg_status
bg_lock_acquire(const char *lock_path, unsigned wait_ms, int *fd_out, bg_error *err)
{
	return bg_lock_acquire_at(AT_FDCWD, lock_path, lock_path, wait_ms, fd_out, err);
}

bg_status
bg_lock_acquire_at(int at, const char *name, const char *lock_path, unsigned wait_ms,
    int *fd_out, bg_error *err)
{
	bg_status rc;
	int fd;

	*fd_out = -1;
	fd = openat(at, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0) {
		if (errno == ELOOP)
			return bg_error_set(err, BG_ERR_PERM, "%s: is a symbolic link", lock_path);
		return bg_error_errno(err, BG_ERR_IO, errno, "%s: open lock", lock_path);
	}
	rc = check_opened(fd, lock_path, false, BG_FILE_CONFIG, &fd, err);
	if (rc != BG_OK)
		return rc;
	if ((rc = lock_wait(fd, lock_path, wait_ms, err)) != BG_OK) {
		close(fd);
		return rc;
	}
	*fd_out = fd;
	return BG_OK;
}

void
bg_lock_release(int fd)
{
	if (fd < 0)
		return;
	flock(fd, LOCK_UN);
	close(fd);
}
