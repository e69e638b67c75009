/* The forward-secure, hash-chained audit journal: writing records. */
#include "build_config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "escape.h"
#include "fileio.h"
#include "ini.h"
#include "journal.h"

#define STATE_MAX_SIZE 4096
/*
 * The key state always has exactly this size and is rewritten in place with
 * one pwrite at offset 0: a single disk sector, which a power loss leaves
 * old or new (the assumption PostgreSQL makes for pg_control).
 */
#define STATE_FILE_SIZE 512
/* Where a new key state is linked before it is renamed over the old one. */
#define STATE_NEXT_SUFFIX ".new"
/* What bg_file_replace named its temporary files, before O_TMPFILE: ".tmp." + 16 hex. */
#define STATE_LEGACY_TMP ".tmp."
#define STATE_LEGACY_RANDOM_LEN 16

struct bg_event {
	char *name;
	char *outcome;
	json_object *identity;   /* account, operator, incident, request_id */
	json_object *fields;     /* event-specific members, in order */
	bool truncated;
	bool broken;             /* an add failed: the event must not be written */
};

static json_object *
json_str_or_null(const char *s, bool *truncated)
{
	json_object *o;
	char *clean;
	bool cut;

	if (s == NULL)
		return NULL;
	clean = bg_utf8_sanitize(s, BG_JOURNAL_MAX_VALUE, &cut);
	if (clean == NULL)
		return NULL;
	o = json_object_new_string(clean);
	free(clean);
	if (cut)
		*truncated = true;
	return o;
}

bg_event *
bg_event_new(const char *name, const char *outcome)
{
	bg_event *ev = calloc(1, sizeof(*ev));

	if (ev == NULL)
		return NULL;
	ev->name = strdup(name);
	ev->outcome = strdup(outcome);
	ev->identity = json_object_new_object();
	ev->fields = json_object_new_object();
	if (ev->name == NULL || ev->outcome == NULL || ev->identity == NULL ||
	    ev->fields == NULL) {
		bg_event_free(ev);
		return NULL;
	}
	bg_event_set_identity(ev, NULL, NULL, NULL, NULL);
	return ev;
}

void
bg_event_free(bg_event *ev)
{
	if (ev == NULL)
		return;
	free(ev->name);
	free(ev->outcome);
	json_object_put(ev->identity);
	json_object_put(ev->fields);
	free(ev);
}

static void
identity_set(bg_event *ev, const char *key, const char *value)
{
	json_object *v = json_str_or_null(value, &ev->truncated);

	if (value != NULL && v == NULL)
		ev->broken = true;
	/* json_object_object_add keeps a replaced key in its original position. */
	if (json_object_object_add(ev->identity, key, v) != 0) {
		json_object_put(v);
		ev->broken = true;
	}
}

void
bg_event_set_identity(bg_event *ev, const char *account, const char *operator_name,
    const char *incident, const char *request_id)
{
	identity_set(ev, "account", account);
	identity_set(ev, "operator", operator_name);
	identity_set(ev, "incident", incident);
	identity_set(ev, "request_id", request_id);
}

/* Takes ownership of v; a NULL v (allocation failure) breaks the event. */
static void
field_add(bg_event *ev, const char *key, json_object *v)
{
	if (v == NULL || json_object_object_add(ev->fields, key, v) != 0) {
		json_object_put(v);
		ev->broken = true;
	}
}

void
bg_event_add_str(bg_event *ev, const char *key, const char *value)
{
	if (value == NULL) {
		if (json_object_object_add(ev->fields, key, NULL) != 0)
			ev->broken = true;
		return;
	}
	field_add(ev, key, json_str_or_null(value, &ev->truncated));
}

void
bg_event_add_int(bg_event *ev, const char *key, long long value)
{
	field_add(ev, key, json_object_new_int64(value));
}

void
bg_event_add_bool(bg_event *ev, const char *key, bool value)
{
	field_add(ev, key, json_object_new_boolean(value));
}

void
bg_event_add_strv(bg_event *ev, const char *key, const char *const *v, size_t n)
{
	json_object *arr = json_object_new_array();

	for (size_t i = 0; arr != NULL && i < n; i++) {
		json_object *s = json_str_or_null(v[i] != NULL ? v[i] : "", &ev->truncated);

		if (s == NULL || json_object_array_add(arr, s) != 0) {
			json_object_put(s);
			json_object_put(arr);
			arr = NULL;
		}
	}
	field_add(ev, key, arr);
}

void
bg_event_add_json(bg_event *ev, const char *key, json_object *value)
{
	field_add(ev, key, value);
}

const char *
bg_event_name(const bg_event *ev)
{
	return ev->name;
}

const char *
bg_event_outcome(const bg_event *ev)
{
	return ev->outcome;
}

json_object *
bg_event_fields(const bg_event *ev)
{
	return ev->fields;
}

json_object *
bg_event_identity(const bg_event *ev)
{
	return ev->identity;
}

bg_status
bg_journal_evolve(const unsigned char k[BG_SHA256_LEN], unsigned char next[BG_SHA256_LEN],
    bg_error *err)
{
	return bg_journal_evolve_with(NULL, k, next, err);
}

bg_status
bg_journal_evolve_with(bg_sha256_ctx *c, const unsigned char k[BG_SHA256_LEN],
    unsigned char next[BG_SHA256_LEN], bg_error *err)
{
	unsigned char input[sizeof(BG_JOURNAL_EVOLVE_LABEL) - 1 + BG_SHA256_LEN];
	bg_status rc;

	memcpy(input, BG_JOURNAL_EVOLVE_LABEL, sizeof(BG_JOURNAL_EVOLVE_LABEL) - 1);
	memcpy(input + sizeof(BG_JOURNAL_EVOLVE_LABEL) - 1, k, BG_SHA256_LEN);
	rc = c != NULL ? bg_sha256_with(c, input, sizeof(input), next, err) :
	    bg_sha256(input, sizeof(input), next, err);
	explicit_bzero(input, sizeof(input));
	return rc;
}

/* ---- key state ---------------------------------------------------------- */

typedef struct {
	bg_cfg_meta meta;
	unsigned long seq;
	unsigned char key[BG_SHA256_LEN];
	unsigned char prev[BG_SHA256_LEN];
} state_file;

static const bg_cfg_key state_keys[] = {
	{ .name = "seq", .type = BG_CFG_UINT, .offset = offsetof(state_file, seq), .required = true },
	{ .name = "key", .type = BG_CFG_HEX32, .offset = offsetof(state_file, key), .required = true },
	{ .name = "prev", .type = BG_CFG_HEX32, .offset = offsetof(state_file, prev), .required = true },
};

static const bg_cfg_section state_sections[] = {
	{ .name = NULL, .required = true, .keys = state_keys,
	  .nkeys = sizeof(state_keys) / sizeof(state_keys[0]), .size = sizeof(state_file),
	  .offset = 0 },
};

static const bg_cfg_schema state_schema = { state_sections, 1 };

bg_status
bg_journal_state_read(const char *path, bg_journal_state *st, bg_error *err)
{
	state_file parsed;
	bg_status rc;

	memset(st, 0, sizeof(*st));
	memset(&parsed, 0, sizeof(parsed));
	rc = bg_ini_read_file(path, BG_FILE_SECRET, STATE_MAX_SIZE, &state_schema, &parsed,
	    err);
	if (rc != BG_OK)
		return rc;
	st->seq = parsed.seq;
	memcpy(st->key, parsed.key, BG_SHA256_LEN);
	memcpy(st->prev, parsed.prev, BG_SHA256_LEN);
	bg_ini_free(&state_schema, &parsed);
	return BG_OK;
}

bg_status
bg_journal_state_read_live(const char *path, bg_journal_state *st, bg_error *err)
{
	char lock[4096];
	struct stat sb;
	bg_status rc;
	int fd = -1;

	if ((size_t)snprintf(lock, sizeof(lock), "%s.lock", path) >= sizeof(lock))
		return bg_error_set(err, BG_ERR_INVALID, "%s: path too long", path);
	/* Writers rewrite the state in place under this lock: never read it half done. */
	if (lstat(lock, &sb) == 0) {
		rc = bg_lock_acquire(lock, BG_LOCK_WAIT_MS, &fd, err);
		if (rc != BG_OK)
			return rc;
	}
	rc = bg_journal_state_read(path, st, err);
	bg_lock_release(fd);
	return rc;
}

/* The state's text, padded with a comment line to exactly STATE_FILE_SIZE bytes. */
static void
state_text(const bg_journal_state *st, char text[STATE_FILE_SIZE])
{
	char key_hex[BG_SHA256_HEX_LEN + 1], prev_hex[BG_SHA256_HEX_LEN + 1];
	int n;

	bg_hex_encode(st->key, BG_SHA256_LEN, key_hex);
	bg_hex_encode(st->prev, BG_SHA256_LEN, prev_hex);
	/* At most 330 bytes: the padding line always has room. */
	n = snprintf(text, STATE_FILE_SIZE,
	    "# breakglass journal key state: the current key only, never an old one.\n"
	    "# Written by breakglass under its lock; do not edit.\n"
	    "seq = %llu\nkey = %s\nprev = %s\n"
	    "# fixed size, rewritten in place:", st->seq, key_hex, prev_hex);
	memset(text + n, ' ', STATE_FILE_SIZE - 1 - (size_t)n);
	text[STATE_FILE_SIZE - 1] = '\n';
	explicit_bzero(key_hex, sizeof(key_hex));
}

/*
 * Creates the key state anew (journal init, or a state of another size left
 * by an earlier version) so that no crash leaves an older key in any file:
 * the state is written to an unnamed file (O_TMPFILE), which vanishes with
 * the writer if it dies, then linked as state_path + ".new" and renamed over
 * the state.  Only between the link and the rename does a second file
 * exist, holding the newer key; the next writer wipes it under the lock
 * (wipe_leftovers).  Appends rewrite the state in place (state_store).
 */
static bg_status
state_prepare(const char *path, const bg_journal_state *st, int *fd_out, bg_error *err)
{
	char dir[PATH_MAX], text[STATE_FILE_SIZE];
	bg_status rc = BG_OK;
	int fd;

	*fd_out = -1;
	if ((size_t)snprintf(dir, sizeof(dir), "%s", path) >= sizeof(dir))
		return bg_error_set(err, BG_ERR_INVALID, "%s: path too long", path);
	fd = open(dirname(dir), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0)
		return bg_error_errno(err, BG_ERR_IO, errno,
		    "%s: unnamed file for the key state (O_TMPFILE)", path);
	state_text(st, text);
	/* The umask must not widen or narrow 0600. */
	if (fchmod(fd, 0600) != 0)
		rc = bg_error_errno(err, BG_ERR_IO, errno, "%s: chmod", path);
	if (rc == BG_OK)
		rc = bg_write_all(fd, text, sizeof(text), path, err);
	if (rc == BG_OK && fsync(fd) != 0)
		rc = bg_error_errno(err, BG_ERR_IO, errno, "%s: fsync", path);
	explicit_bzero(text, sizeof(text));
	if (rc != BG_OK) {
		close(fd);
		return rc;
	}
	*fd_out = fd;
	return BG_OK;
}

/* Names the prepared file: link as path.new, rename over path, sync the directory. */
static bg_status
state_commit(const char *path, int fd, bg_error *err)
{
	char proc[64], next[PATH_MAX];
	bg_status rc = BG_OK;

	if ((size_t)snprintf(next, sizeof(next), "%s" STATE_NEXT_SUFFIX, path) >= sizeof(next))
		return bg_error_set(err, BG_ERR_INVALID, "%s: path too long", path);
	/* linkat(AT_EMPTY_PATH) needs CAP_DAC_READ_SEARCH; the /proc link does not. */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (linkat(AT_FDCWD, proc, AT_FDCWD, next, AT_SYMLINK_FOLLOW) != 0)
		return bg_error_errno(err, BG_ERR_IO, errno, "%s: link", next);
	if (rename(next, path) != 0) {
		rc = bg_error_errno(err, BG_ERR_IO, errno, "%s: rename", path);
		unlink(next);
		return rc;
	}
	return bg_fsync_parent(path, err);
}

static bg_status
state_write(const char *path, const bg_journal_state *st, bg_error *err)
{
	bg_status rc;
	int fd;

	rc = state_prepare(path, st, &fd, err);
	if (rc != BG_OK)
		return rc;
	rc = state_commit(path, fd, err);
	close(fd);
	return rc;
}

/*
 * Opens the key state for rewriting in place, checked as a secret file, and
 * reads it through a path that must still name the opened file.  A state of
 * another size (from an earlier version) is replaced once, atomically, by
 * one of STATE_FILE_SIZE bytes, which is then opened instead.
 */
static bg_status
state_open(const char *path, bg_journal_state *st, int *fd_out, bg_error *err)
{
	struct stat sb, named;
	bg_status rc;
	int fd;

	*fd_out = -1;
	fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ELOOP)
			return bg_error_set(err, BG_ERR_PERM, "%s: is a symbolic link", path);
		return bg_error_errno(err, errno == ENOENT ? BG_ERR_NOTFOUND : BG_ERR_IO, errno,
		    "%s", path);
	}
	if (fstat(fd, &sb) != 0)
		rc = bg_error_errno(err, BG_ERR_IO, errno, "%s: fstat", path);
	else
		rc = bg_file_check_stat(path, &sb, BG_FILE_SECRET, err);
	if (rc == BG_OK)
		rc = bg_journal_state_read(path, st, err);
	if (rc == BG_OK && (lstat(path, &named) != 0 || named.st_dev != sb.st_dev ||
	    named.st_ino != sb.st_ino))
		rc = bg_error_set(err, BG_ERR_INVALID, "%s: replaced while being read", path);
	if (rc == BG_OK && sb.st_size != STATE_FILE_SIZE) {
		close(fd);
		rc = state_write(path, st, err);
		return rc == BG_OK ? state_open(path, st, fd_out, err) : rc;
	}
	if (rc != BG_OK) {
		close(fd);
		return rc;
	}
	*fd_out = fd;
	return BG_OK;
}

/*
 * Rewrites the key state in place: one sector, so the old key is
 * overwritten where it lay and no second file ever holds a key.
 * Overwriting allocated blocks needs no free space.  With own_sync the
 * state is synced here; without, its write-back only starts, and the next
 * append's settle and journal sync make it durable (state_rides_journal).
 */
static bg_status
state_store(int fd, const char *path, const bg_journal_state *st, bool own_sync,
    bg_error *err)
{
	char text[STATE_FILE_SIZE];
	bg_status rc = BG_OK;
	ssize_t n;

	state_text(st, text);
	n = pwrite(fd, text, sizeof(text), 0);
	if (n != (ssize_t)sizeof(text))
		rc = bg_error_errno(err, BG_ERR_IO, n < 0 ? errno : EIO, "%s: rewrite", path);
	else if (own_sync && fdatasync(fd) != 0)
		rc = bg_error_errno(err, BG_ERR_IO, errno, "%s: fdatasync", path);
	else if (!own_sync && sync_file_range(fd, 0, STATE_FILE_SIZE, SYNC_FILE_RANGE_WRITE) != 0)
		rc = bg_error_errno(err, BG_ERR_IO, errno, "%s: start write-back", path);
	explicit_bzero(text, sizeof(text));
	return rc;
}

/*
 * Whether the journal's sync also makes the key state durable, so that an
 * append syncs once.  It does when the state's rewrite lands in place on the
 * same file system as the journal: ext4, XFS and tmpfs overwrite allocated
 * blocks without changing any metadata, and the journal's fdatasync, which
 * commits the record's new size, flushes the device's write cache first
 * (ext4 and XFS order the commit after a cache flush).  The state's earlier
 * rewrite, written back to the device before the record is written
 * (state_settle), is therefore on stable storage before the record can be
 * part of the file.  Anything else (another file system, a copy-on-write
 * one, an overlay) syncs the state itself, as before.
 */
static bool
state_rides_journal(int state_fd, dev_t journal_dev)
{
	struct stat sb;
	struct statfs fs;

	if (fstat(state_fd, &sb) != 0 || sb.st_dev != journal_dev || fstatfs(state_fd, &fs) != 0)
		return false;
	return fs.f_type == EXT4_SUPER_MAGIC || fs.f_type == XFS_SUPER_MAGIC ||
	    fs.f_type == TMPFS_MAGIC;
}

/*
 * Before records are written: waits until the state's last rewrite (the
 * previous append's, or this one's adoption) has reached the device, so the
 * journal's sync that follows makes it durable before these records are.
 * Were it lost, the state on disk could lag two appends behind, holding a
 * key older than the last append's.  A write-back that failed is redone
 * and synced; if that fails too, nothing is appended.
 */
static bg_status
state_settle(int fd, const char *path, const bg_journal_state *st, bg_error *err)
{
	if (sync_file_range(fd, 0, STATE_FILE_SIZE, SYNC_FILE_RANGE_WAIT_BEFORE |
	    SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER) == 0)
		return BG_OK;
	return state_store(fd, path, st, true, err);
}

/* Overwrites a file's bytes with zeros on disk, then removes it. */
static bg_status
wipe_file(int dirfd, const char *name, const char *shown, bg_error *err)
{
	static const char zeros[512];
	bg_status rc = BG_OK;
	struct stat sb;
	int fd;

	fd = openat(dirfd, name, O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd >= 0) {
		if (fstat(fd, &sb) != 0)
			rc = bg_error_errno(err, BG_ERR_IO, errno, "%s: fstat", shown);
		for (off_t done = 0; rc == BG_OK && S_ISREG(sb.st_mode) && done < sb.st_size;
		    done += (off_t)sizeof(zeros))
			rc = bg_write_all(fd, zeros, sb.st_size - done < (off_t)sizeof(zeros) ?
			    (size_t)(sb.st_size - done) : sizeof(zeros), shown, err);
		if (rc == BG_OK && S_ISREG(sb.st_mode) && fsync(fd) != 0)
			rc = bg_error_errno(err, BG_ERR_IO, errno, "%s: fsync", shown);
		close(fd);
	} else if (errno != ELOOP) {
		return bg_error_errno(err, BG_ERR_IO, errno, "%s: open to wipe", shown);
	}
	if (rc == BG_OK && unlinkat(dirfd, name, 0) != 0)
		rc = bg_error_errno(err, BG_ERR_IO, errno, "%s: remove", shown);
	return rc;
}

/* Exactly a name the writer used for the key state's replacement (no other file). */
static bool
is_state_leftover(const char *rest)
{
	size_t n = strlen(STATE_LEGACY_TMP);

	if (strcmp(rest, STATE_NEXT_SUFFIX) == 0)
		return true;
	if (strncmp(rest, STATE_LEGACY_TMP, n) != 0 || strlen(rest + n) != STATE_LEGACY_RANDOM_LEN)
		return false;
	return strspn(rest + n, "0123456789abcdef") == STATE_LEGACY_RANDOM_LEN;
}

/*
 * Under the lock, before any use of the key state: wipes and removes what an
 * interrupted key-state update left beside it.  That is state_path + ".new"
 * (a newer key, from a crash between link and rename), and the
 * state_path + ".tmp.*" files of earlier versions, which may hold keys of
 * records written since: with one, those records could be rewritten.
 */
static bg_status
wipe_leftovers(const char *path, bg_error *err)
{
	char dir_buf[PATH_MAX], base_buf[PATH_MAX], shown[PATH_MAX];
	const char *base;
	struct dirent *de;
	bg_status rc = BG_OK;
	size_t base_len;
	DIR *d;

	if ((size_t)snprintf(dir_buf, sizeof(dir_buf), "%s", path) >= sizeof(dir_buf))
		return bg_error_set(err, BG_ERR_INVALID, "%s: path too long", path);
	snprintf(base_buf, sizeof(base_buf), "%s", path);
	base = basename(base_buf);
	base_len = strlen(base);
	d = opendir(dirname(dir_buf));
	if (d == NULL)
		return bg_error_errno(err, BG_ERR_IO, errno, "%s: open directory", path);
	while (rc == BG_OK && (errno = 0, de = readdir(d)) != NULL) {
		const char *rest = de->d_name + base_len;

		if (strncmp(de->d_name, base, base_len) != 0 || !is_state_leftover(rest))
			continue;
		snprintf(shown, sizeof(shown), "%s%s", path, rest);
		rc = wipe_file(dirfd(d), de->d_name, shown, err);
	}
	if (rc == BG_OK && errno != 0)
		rc = bg_error_errno(err, BG_ERR_IO, errno, "%s: read directory", path);
	closedir(d);
	return rc;
}

/* The one lock that serialises every writer of a chain: state_path + ".lock". */
static bg_status
journal_lock(const bg_journal *j, int *fd, bg_error *err)
{
	char lock[4096];

	if ((size_t)snprintf(lock, sizeof(lock), "%s.lock", j->state_path) >= sizeof(lock))
		return bg_error_set(err, BG_ERR_INVALID, "%s: path too long", j->state_path);
	return bg_lock_acquire(lock, BG_LOCK_WAIT_MS, fd, err);
}

bg_status
bg_journal_init(const bg_journal *j, unsigned char k1[BG_SHA256_LEN], bg_error *err)
{
	bg_journal_state st;
	struct stat sb;
	bg_status rc;
	int lockfd;

	rc = journal_lock(j, &lockfd, err);
	if (rc != BG_OK)
		return rc;
	rc = wipe_leftovers(j->state_path, err);
	if (rc == BG_OK && lstat(j->state_path, &sb) == 0) {
		rc = bg_error_set(err, BG_ERR_DENIED,
		    "%s: a journal key state already exists; refusing to start a second chain",
		    j->state_path);
	} else if (rc == BG_OK && errno != ENOENT) {
		rc = bg_error_errno(err, BG_ERR_IO, errno, "%s", j->state_path);
	} else if (rc == BG_OK && lstat(j->path, &sb) == 0 && sb.st_size > 0) {
		rc = bg_error_set(err, BG_ERR_DENIED,
		    "%s: the journal already holds records; move it aside before starting a new chain",
		    j->path);
	}
	if (rc == BG_OK) {
		memset(&st, 0, sizeof(st));
		rc = bg_random_bytes(st.key, sizeof(st.key), err);
		if (rc == BG_OK)
			rc = state_write(j->state_path, &st, err);
		if (rc == BG_OK)
			memcpy(k1, st.key, BG_SHA256_LEN);
		explicit_bzero(&st, sizeof(st));
	}
	bg_lock_release(lockfd);
	return rc;
}

/* ---- appending ------------------------------------------------------------ */

bg_status
bg_time_now_rfc3339(char *out, size_t outsz, bg_error *err)
{
	struct timespec ts;
	struct tm tm;
	size_t n;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0 || gmtime_r(&ts.tv_sec, &tm) == NULL)
		return bg_error_errno(err, BG_ERR_IO, errno, "clock");
	n = strftime(out, outsz, "%Y-%m-%dT%H:%M:%S", &tm);
	if (n == 0 || (size_t)snprintf(out + n, outsz - n, ".%03ldZ",
	    ts.tv_nsec / 1000000) >= outsz - n)
		return bg_error_set(err, BG_ERR_INVALID, "time does not fit");
	return BG_OK;
}

static bool
object_copy_members(json_object *dst, json_object *src)
{
	json_object_object_foreach(src, key, val) {
		if (json_object_object_add(dst, key, json_object_get(val)) != 0) {
			json_object_put(val);
			return false;
		}
	}
	return true;
}

/*
 * Builds the record's bytes up to and including the prev member (the part
 * the mac covers), without the closing brace.
 */
static bg_status
record_prefix(const bg_journal *j, const bg_event *ev, unsigned long long seq,
    const unsigned char prev[BG_SHA256_LEN], bg_buf *out, bg_error *err)
{
	char prev_hex[BG_SHA256_HEX_LEN + 1], when[40];
	json_object *rec;
	const char *text;
	size_t len;
	bg_status rc;
	bool ok;

	if (ev->broken)
		return bg_error_set(err, BG_ERR_NOMEM, "event %s could not be built", ev->name);
	rc = bg_time_now_rfc3339(when, sizeof(when), err);
	if (rc != BG_OK)
		return rc;
	bg_hex_encode(prev, BG_SHA256_LEN, prev_hex);
	rec = json_object_new_object();
	if (rec == NULL)
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	ok = json_object_object_add(rec, "seq", json_object_new_int64((int64_t)seq)) == 0 &&
	    json_object_object_add(rec, "time", json_object_new_string(when)) == 0 &&
	    json_object_object_add(rec, "host", json_object_new_string(j->host)) == 0 &&
	    json_object_object_add(rec, "pid", json_object_new_int64(getpid())) == 0 &&
	    json_object_object_add(rec, "event", json_object_new_string(ev->name)) == 0 &&
	    json_object_object_add(rec, "outcome", json_object_new_string(ev->outcome)) == 0 &&
	    object_copy_members(rec, ev->identity) &&
	    object_copy_members(rec, ev->fields) &&
	    (!ev->truncated ||
	     json_object_object_add(rec, "truncated", json_object_new_boolean(1)) == 0) &&
	    json_object_object_add(rec, "prev", json_object_new_string(prev_hex)) == 0;
	if (!ok) {
		json_object_put(rec);
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory building a record");
	}
	text = json_object_to_json_string_ext(rec,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	len = text != NULL ? strlen(text) : 0;
	/* Plain serialisation ends with the object's brace right after prev. */
	if (len < 2 || text[len - 1] != '}') {
		json_object_put(rec);
		return bg_error_set(err, BG_ERR_INVALID, "unexpected record serialisation");
	}
	bg_buf_init(out, BG_JOURNAL_MAX_LINE);
	ok = bg_buf_append(out, text, len - 1);
	json_object_put(rec);
	if (!ok)
		return bg_error_set(err, BG_ERR_TOOBIG, "record larger than %d bytes",
		    BG_JOURNAL_MAX_LINE);
	return BG_OK;
}

/* Reads the last complete line of the journal into line (NUL-terminated). */
static bg_status
read_last_line(int fd, const char *path, bg_buf *line, bool *have, bg_error *err)
{
	size_t window = BG_JOURNAL_MAX_LINE + 1;
	char *buf, *end, *start;
	off_t size, from;
	ssize_t n;
	struct stat sb;
	bg_status rc = BG_OK;

	*have = false;
	if (fstat(fd, &sb) != 0)
		return bg_error_errno(err, BG_ERR_IO, errno, "%s: fstat", path);
	size = sb.st_size;
	if (size == 0)
		return BG_OK;
	buf = malloc(window + 1);
	if (buf == NULL)
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	from = size > (off_t)window ? size - (off_t)window : 0;
	n = pread(fd, buf, (size_t)(size - from), from);
	if (n != size - from) {
		free(buf);
		return bg_error_errno(err, BG_ERR_IO, n < 0 ? errno : EIO, "%s: read tail", path);
	}
	buf[n] = '\0';
	end = buf + n;
	if (end[-1] != '\n') {
		/* A torn write never committed its record: cut it off. */
		char *nl = memrchr(buf, '\n', (size_t)n);
		off_t keep;

		if (nl == NULL && from > 0) {
			free(buf);
			return bg_error_set(err, BG_ERR_INVALID, "%s: last line longer than %d bytes",
			    path, BG_JOURNAL_MAX_LINE);
		}
		keep = nl == NULL ? from : from + (nl - buf) + 1;
		if (ftruncate(fd, keep) != 0 || fsync(fd) != 0) {
			free(buf);
			return bg_error_errno(err, BG_ERR_IO, errno, "%s: cut partial record", path);
		}
		if (nl == NULL) {
			free(buf);
			return BG_OK;
		}
		end = nl + 1;
	}
	*--end = '\0';
	start = memrchr(buf, '\n', (size_t)(end - buf));
	if (start == NULL && from > 0) {
		rc = bg_error_set(err, BG_ERR_INVALID, "%s: last line longer than %d bytes",
		    path, BG_JOURNAL_MAX_LINE);
	} else {
		start = start != NULL ? start + 1 : buf;
		bg_buf_init(line, BG_JOURNAL_MAX_LINE);
		if (!bg_buf_append(line, start, (size_t)(end - start)))
			rc = bg_error_set(err, BG_ERR_NOMEM, "out of memory");
		else
			*have = true;
	}
	free(buf);
	return rc;
}

/* The last k complete lines (the file ends with a line feed), into lines. */
static bg_status
read_last_lines(int fd, const char *path, unsigned long long k, bg_buf *lines,
    bg_error *err)
{
	size_t window = (size_t)k * (BG_JOURNAL_MAX_LINE + 1);
	unsigned long long found;
	const char *p;
	struct stat sb;
	off_t from;
	ssize_t n;
	char *buf;

	if (fstat(fd, &sb) != 0)
		return bg_error_errno(err, BG_ERR_IO, errno, "%s: fstat", path);
	from = sb.st_size > (off_t)window ? sb.st_size - (off_t)window : 0;
	if ((buf = malloc((size_t)(sb.st_size - from) + 1)) == NULL)
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	n = pread(fd, buf, (size_t)(sb.st_size - from), from);
	if (n != sb.st_size - from || n == 0 || buf[n - 1] != '\n') {
		free(buf);
		return bg_error_errno(err, BG_ERR_IO, n < 0 ? errno : EIO, "%s: read tail", path);
	}
	/* The line feed before line 1 of the k: k back from the one ending line k. */
	p = buf + n - 1;
	for (found = 0; found < k; found++)
		if ((p = p > buf ? memrchr(buf, '\n', (size_t)(p - buf)) : NULL) == NULL)
			break;
	if (found < k && !(found + 1 == k && from == 0)) {
		free(buf);
		return bg_error_set(err, BG_ERR_INVALID, "%s: fewer than %llu records at its end",
		    path, k);
	}
	p = p != NULL ? p + 1 : buf;
	bg_buf_init(lines, (size_t)n + 1);
	if (!bg_buf_append(lines, p, (size_t)(buf + n - p))) {
		free(buf);
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	}
	free(buf);
	return BG_OK;
}

bg_status
bg_journal_adopt_line(bg_journal_state *st, const char *line, size_t len, bg_error *err)
{
	unsigned char mac[BG_SHA256_LEN], want[BG_SHA256_LEN], next[BG_SHA256_LEN];
	char mac_copy[BG_SHA256_HEX_LEN + 1], prev_hex[BG_SHA256_HEX_LEN + 1];
	json_object *rec = NULL, *o;
	json_tokener *tok = NULL;
	const char *mac_hex, *prev;
	size_t prefix_len;
	bg_status rc;

	rc = bg_journal_split_line(line, len, &prefix_len, &mac_hex, err);
	if (rc == BG_OK && (tok = json_tokener_new()) == NULL)
		rc = bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	if (rc == BG_OK && (len > INT_MAX ||
	    (rec = json_tokener_parse_ex(tok, line, (int)len)) == NULL ||
	    !json_object_object_get_ex(rec, "seq", &o) || !json_object_is_type(o, json_type_int) ||
	    (unsigned long long)json_object_get_int64(o) != st->seq + 1))
		rc = bg_error_set(err, BG_ERR_INVALID, "not record seq %llu", st->seq + 1);
	if (rc == BG_OK) {
		memcpy(mac_copy, mac_hex, BG_SHA256_HEX_LEN);
		mac_copy[BG_SHA256_HEX_LEN] = '\0';
		rc = bg_hex_decode(mac_copy, mac, sizeof(mac), err);
	}
	if (rc == BG_OK)
		rc = bg_hmac_sha256(st->key, sizeof(st->key), line, prefix_len, want, err);
	if (rc == BG_OK && !bg_ct_equal(mac, want, sizeof(mac)))
		rc = bg_error_set(err, BG_ERR_INVALID, "unsealed record seq %llu has a bad mac",
		    st->seq + 1);
	if (rc == BG_OK) {
		bg_hex_encode(st->prev, BG_SHA256_LEN, prev_hex);
		prev = json_object_object_get_ex(rec, "prev", &o) ? json_object_get_string(o) : NULL;
		if (prev == NULL || strcmp(prev, prev_hex) != 0)
			rc = bg_error_set(err, BG_ERR_INVALID,
			    "unsealed record seq %llu has a broken prev link", st->seq + 1);
	}
	if (rc == BG_OK)
		rc = bg_journal_evolve(st->key, next, err);
	if (rc == BG_OK) {
		memcpy(st->key, next, sizeof(next));
		memcpy(st->prev, mac, sizeof(mac));
		st->seq++;
	}
	explicit_bzero(next, sizeof(next));
	json_object_put(rec);
	if (tok != NULL)
		json_tokener_free(tok);
	return rc;
}

bg_status
bg_journal_adopt_lines(bg_journal_state *st, const char *lines, size_t len, bg_error *err)
{
	const char *p = lines, *end = lines + len;
	bg_status rc = BG_OK;

	while (rc == BG_OK && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);

		rc = bg_journal_adopt_line(st, p, n, err);
		p += n + 1;
	}
	return rc;
}

/*
 * Brings the key state in line with the journal's last record.  The
 * records after the state's, up to BG_JOURNAL_BATCH_MAX of them, were
 * written by an append that crashed before storing the evolved key: each
 * in turn must be the next seq, linked to the previous mac and sealed with
 * the key the state derives for it; then they are adopted.  Anything else
 * means the journal or the state was tampered with, truncated or mixed up:
 * refuse.
 */
static bg_status
reconcile(const bg_journal *j, int fd, bg_journal_state *st, bool *adopted,
    bg_error *err)
{
	unsigned char mac[BG_SHA256_LEN];
	const char *mac_hex;
	json_object *rec = NULL, *o;
	size_t prefix_len;
	long long seq;
	bg_buf line, lines;
	bool have;
	bg_status rc;

	*adopted = false;
	bg_buf_init(&lines, 0);
	rc = read_last_line(fd, j->path, &line, &have, err);
	if (rc != BG_OK || !have)
		return rc;  /* empty journal: a new file, or one just rotated */
	rc = bg_journal_split_line(line.data, line.len, &prefix_len, &mac_hex, err);
	if (rc == BG_OK) {
		rec = json_tokener_parse(line.data);
		if (rec == NULL || !json_object_object_get_ex(rec, "seq", &o) ||
		    !json_object_is_type(o, json_type_int))
			rc = bg_error_set(err, BG_ERR_INVALID, "last record has no seq");
	}
	if (rc == BG_OK) {
		char mac_copy[BG_SHA256_HEX_LEN + 1];

		seq = json_object_get_int64(o);
		memcpy(mac_copy, mac_hex, BG_SHA256_HEX_LEN);
		mac_copy[BG_SHA256_HEX_LEN] = '\0';
		rc = bg_hex_decode(mac_copy, mac, sizeof(mac), err);
	}
	if (rc != BG_OK) {
		bg_error_prefix(err, "%s: last record unreadable", j->path);
		goto out;
	}
	if ((unsigned long long)seq == st->seq) {
		if (!bg_ct_equal(mac, st->prev, sizeof(mac)))
			rc = bg_error_set(err, BG_ERR_INVALID,
			    "%s: last record (seq %lld) does not match the key state", j->path, seq);
	} else if (seq > 0 && (unsigned long long)seq > st->seq &&
	    (unsigned long long)seq - st->seq <= BG_JOURNAL_BATCH_MAX) {
		rc = read_last_lines(fd, j->path, (unsigned long long)seq - st->seq, &lines, err);
		if (rc == BG_OK)
			rc = bg_journal_adopt_lines(st, lines.data, lines.len - 1, err);
		if (rc != BG_OK)
			bg_error_prefix(err, "%s", j->path);
		else
			*adopted = true;
	} else {
		rc = bg_error_set(err, BG_ERR_INVALID,
		    "%s: journal ends at seq %lld but the key state is at seq %llu "
		    "(truncated, replaced or tampered with)", j->path, seq, st->seq);
	}
out:
	json_object_put(rec);
	bg_buf_free(&line);
	bg_buf_free(&lines);
	return rc;
}

bg_status
bg_journal_format(const bg_journal *j, const bg_event *ev, unsigned long long seq,
    const unsigned char key[BG_SHA256_LEN], const unsigned char prev[BG_SHA256_LEN],
    bg_buf *line, unsigned char mac[BG_SHA256_LEN], bg_error *err)
{
	char hex[BG_SHA256_HEX_LEN + 1];
	bg_status rc;

	rc = record_prefix(j, ev, seq, prev, line, err);
	if (rc == BG_OK)
		rc = bg_hmac_sha256(key, BG_SHA256_LEN, line->data, line->len, mac, err);
	if (rc != BG_OK) {
		bg_buf_free(line);
		return rc;
	}
	bg_hex_encode(mac, BG_SHA256_LEN, hex);
	if (!bg_buf_printf(line, ",\"mac\":\"%s\"}\n", hex)) {
		bg_buf_free(line);
		return bg_error_set(err, BG_ERR_TOOBIG, "record larger than %d bytes",
		    BG_JOURNAL_MAX_LINE);
	}
	return BG_OK;
}

/*
 * Writes and syncs the record at the journal's end.  A failure takes back
 * whatever part of it reached the file: a whole line left there would be
 * adopted by the next append and record an action that was refused.
 */
static bg_status
record_write(const bg_journal *j, int fd, const bg_buf *line, bg_error *err)
{
	struct stat sb;
	bg_status rc;

	if (fstat(fd, &sb) != 0)
		return bg_error_errno(err, BG_ERR_IO, errno, "%s: fstat", j->path);
	/* One write() of the whole line; O_APPEND keeps it at the end. */
	rc = bg_write_all(fd, line->data, line->len, j->path, err);
	if (rc == BG_OK && fdatasync(fd) != 0)
		rc = bg_error_errno(err, BG_ERR_IO, errno, "%s: fdatasync", j->path);
	if (rc != BG_OK && ftruncate(fd, sb.st_size) != 0)
		bg_error_prefix(err, "%s: the failed record could not be taken back (%s)",
		    j->path, strerror(errno));
	return rc;
}

/*
 * Opens the journal for appending, creating it (new, or just rotated away)
 * when there is none.  A created journal's name is synced into its
 * directory before any record goes into it: the record's own sync does not
 * cover the directory, and a record in a file that a crash unnames was
 * never durable.  Writers hold the lock, so nothing creates it meanwhile.
 */
static bg_status
journal_open(const char *path, int *fd, bg_error *err)
{
	const int flags = O_RDWR | O_APPEND | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY;
	bg_status rc;

	*fd = open(path, flags);
	if (*fd >= 0)
		return BG_OK;
	if (errno != ENOENT)
		return bg_error_errno(err, BG_ERR_IO, errno, "%s: open journal", path);
	*fd = open(path, flags | O_CREAT | O_EXCL, 0600);
	if (*fd < 0)
		return bg_error_errno(err, BG_ERR_IO, errno, "%s: create journal", path);
	rc = bg_fsync_parent(path, err);
	if (rc != BG_OK) {
		close(*fd);
		*fd = -1;
	}
	return rc;
}

bg_status
bg_journal_append(const bg_journal *j, const bg_event *ev, bg_journal_appended *out,
    bg_error *err)
{
	return bg_journal_append_many(j, &ev, 1, out, err);
}

/* Formats evs as the records after st's into lines, advancing st (the new key in it). */
static bg_status
format_all(const bg_journal *j, const bg_event *const *evs, size_t n, bg_journal_state *st,
    bg_buf *lines, bg_journal_appended *out, bg_error *err)
{
	unsigned char mac[BG_SHA256_LEN], next[BG_SHA256_LEN];
	bg_status rc = BG_OK;
	bg_buf line;

	for (size_t i = 0; i < n && rc == BG_OK; i++) {
		rc = bg_journal_format(j, evs[i], st->seq + 1, st->key, st->prev, &line, mac, err);
		if (rc != BG_OK)
			break;
		if (!bg_buf_append(lines, line.data, line.len))
			rc = bg_error_set(err, BG_ERR_NOMEM, "out of memory");
		bg_buf_free(&line);
		if (rc == BG_OK)
			rc = bg_journal_evolve(st->key, next, err);
		if (rc != BG_OK)
			break;
		st->seq++;
		memcpy(st->key, next, sizeof(next));
		memcpy(st->prev, mac, sizeof(mac));
		if (out != NULL) {
			memset(&out[i], 0, sizeof(out[i]));
			out[i].seq = st->seq;
			bg_hex_encode(mac, sizeof(mac), out[i].mac_hex);
		}
	}
	explicit_bzero(next, sizeof(next));
	return rc;
}

bg_status
bg_journal_append_many(const bg_journal *j, const bg_event *const *evs, size_t n,
    bg_journal_appended *out, bg_error *err)
{
	bg_journal_state st;
	bg_buf lines;
	bool adopted, own_sync = true;
	bg_status rc;
	int lockfd, fd = -1, state_fd = -1;
	struct stat sb;

	if (n == 0 || n > BG_JOURNAL_BATCH_MAX)
		return bg_error_set(err, BG_ERR_INVALID, "%zu records in one append", n);
	bg_buf_init(&lines, 0);
	memset(&st, 0, sizeof(st));
	if (out != NULL)
		memset(out, 0, n * sizeof(*out));
	rc = journal_lock(j, &lockfd, err);
	if (rc != BG_OK)
		return rc;
	rc = wipe_leftovers(j->state_path, err);
	if (rc == BG_OK) {
		rc = state_open(j->state_path, &st, &state_fd, err);
		if (rc == BG_ERR_NOTFOUND)
			bg_error_set(err, rc, "%s: no journal key state (run `breakglass journal init`)",
			    j->state_path);
	}
	if (rc != BG_OK)
		goto out;

	rc = journal_open(j->path, &fd, err);
	if (rc != BG_OK)
		goto out;
	if (fstat(fd, &sb) != 0) {
		rc = bg_error_errno(err, BG_ERR_IO, errno, "%s: fstat", j->path);
		goto out;
	}
	rc = bg_file_check_stat(j->path, &sb, BG_FILE_CONFIG, err);
	if (rc == BG_OK)
		rc = reconcile(j, fd, &st, &adopted, err);
	if (rc == BG_OK)
		own_sync = !state_rides_journal(state_fd, sb.st_dev);
	/*
	 * Stored before the next records: were this append to die after them,
	 * a state further behind than one append could adopt none.  The
	 * adopted records are synced first: their writer may have died before
	 * its own sync, and the state must never reach the disk before them.
	 */
	if (rc == BG_OK && adopted) {
		if (fdatasync(fd) != 0)
			rc = bg_error_errno(err, BG_ERR_IO, errno, "%s: fdatasync", j->path);
		else
			rc = state_store(state_fd, j->state_path, &st, own_sync, err);
	}
	if (rc == BG_OK && !own_sync)
		rc = state_settle(state_fd, j->state_path, &st, err);
	/* Formatted on a copy: nothing below changes the state unless all is durable. */
	if (rc == BG_OK) {
		bg_journal_state next = st;

		rc = format_all(j, evs, n, &next, &lines, out, err);
		/* One write and one sync for them all: the records are one commit. */
		if (rc == BG_OK)
			rc = record_write(j, fd, &lines, err);
		if (rc == BG_OK)
			st = next;
		explicit_bzero(&next, sizeof(next));
	}
	if (rc != BG_OK) {
		if (out != NULL)
			memset(out, 0, n * sizeof(*out));
		goto out;
	}

	/*
	 * The records are durable, so they are committed: the next append
	 * adopts them if their state is lost, and the actions they record
	 * proceed.  A failure to store the state is reported beside the
	 * success, not as a refusal, which would contradict the records.
	 */
	if (state_store(state_fd, j->state_path, &st, own_sync,
	    out != NULL ? &out[n - 1].state_err : NULL) != BG_OK && out != NULL)
		for (size_t i = 0; i < n; i++) {
			out[i].state_lags = true;
			out[i].state_err = out[n - 1].state_err;
		}
out:
	explicit_bzero(&st, sizeof(st));
	if (state_fd >= 0)
		close(state_fd);
	if (fd >= 0)
		close(fd);
	bg_buf_free(&lines);
	bg_lock_release(lockfd);
	return rc;
}

bg_status
bg_journal_split_line(const char *line, size_t len, size_t *prefix_len,
    const char **mac_hex, bg_error *err)
{
	static const char key[] = "\"mac\"";
	size_t i = len;

#define SKIP_WS() while (i > 0 && (line[i - 1] == ' ' || line[i - 1] == '\t' || \
	    line[i - 1] == '\r' || line[i - 1] == '\n')) i--
	SKIP_WS();
	if (i == 0 || line[--i] != '}')
		goto bad;
	SKIP_WS();
	if (i < BG_SHA256_HEX_LEN + 2 || line[i - 1] != '"' ||
	    line[i - BG_SHA256_HEX_LEN - 2] != '"')
		goto bad;
	*mac_hex = line + i - BG_SHA256_HEX_LEN - 1;
	{
		unsigned not_hex = 0;  /* branch-free: the verifier splits every record */

		for (size_t k = 0; k < BG_SHA256_HEX_LEN; k++) {
			unsigned char c = (unsigned char)(*mac_hex)[k];

			not_hex |= (unsigned)((c < '0' || c > '9') & (c < 'a' || c > 'f'));
		}
		if (not_hex != 0)
			goto bad;
	}
	i -= BG_SHA256_HEX_LEN + 2;
	SKIP_WS();
	if (i == 0 || line[--i] != ':')
		goto bad;
	SKIP_WS();
	if (i < sizeof(key) - 1 || memcmp(line + i - (sizeof(key) - 1), key, sizeof(key) - 1) != 0)
		goto bad;
	i -= sizeof(key) - 1;
	SKIP_WS();
	if (i == 0 || line[--i] != ',')
		goto bad;
	SKIP_WS();
	/* The prev member ends with its value's closing quote. */
	if (i == 0 || line[i - 1] != '"')
		goto bad;
	*prefix_len = i;
	return BG_OK;
#undef SKIP_WS
bad:
	return bg_error_set(err, BG_ERR_INVALID,
	    "record does not end with a \"mac\" member of 64 lowercase hex digits");
}
