/* The kill switch: a file whose mere existence refuses every break-glass use. */
#include "build_config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "crypto.h"
#include "escape.h"
#include "fileio.h"
#include "killswitch.h"

#define KILLSWITCH_MODE 0644
#define KILLSWITCH_MAX_TEXT 4096
#define TIME_TEXT_MAX 32

void
bg_killswitch_engaged(const char *path, bool *engaged, bg_error *err)
{
	struct stat st;

	/* lstat: anything at the path, even a dangling symlink, engages it. */
	if (path != NULL && lstat(path, &st) == 0) {
		*engaged = true;
		return;
	}
	if (path != NULL && errno == ENOENT) {
		*engaged = false;
		return;
	}
	*engaged = true;
	if (path == NULL)
		bg_error_set(err, BG_ERR_INVALID, "no kill switch path configured");
	else
		bg_error_errno(err, BG_ERR_IO, errno, "%s: cannot tell whether the kill "
		    "switch is engaged", path);
}

/* "who=.. time=.. reason=..": one key=value line, escaped like syslog values. */
static bg_status
format_record(bg_buf *b, const char *who, const char *reason, bg_error *err)
{
	char when[TIME_TEXT_MAX];
	time_t now = time(NULL);
	struct tm tm;

	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return bg_error_set(err, BG_ERR_IO, "cannot format the current time");
	if (!bg_buf_puts(b, "engaged_by=") || !bg_escape_kv_value(b, who) ||
	    !bg_buf_printf(b, " engaged_at=%s reason=", when) ||
	    !bg_escape_kv_value(b, reason) || !bg_buf_puts(b, "\n"))
		return bg_error_set(err, BG_ERR_TOOBIG, "kill switch record too long");
	return BG_OK;
}

bg_status
bg_killswitch_engage(const char *path, const char *who, const char *reason,
    bg_error *err)
{
	char tmp[PATH_MAX];
	unsigned char rnd[8];
	char rnd_hex[sizeof(rnd) * 2 + 1];
	bg_buf text;
	bg_status rc;
	int fd;

	bg_buf_init(&text, KILLSWITCH_MAX_TEXT);
	rc = format_record(&text, who != NULL ? who : "", reason != NULL ? reason : "", err);
	if (rc == BG_OK)
		rc = bg_random_bytes(rnd, sizeof(rnd), err);
	if (rc != BG_OK) {
		bg_buf_free(&text);
		return rc;
	}
	bg_hex_encode(rnd, sizeof(rnd), rnd_hex);
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%s", path, rnd_hex) >= sizeof(tmp)) {
		bg_buf_free(&text);
		return bg_error_set(err, BG_ERR_INVALID, "%s: path too long", path);
	}
	/*
	 * Write the record aside, then link() it into place: the switch appears
	 * complete or not at all, and an engaged switch keeps its first record
	 * (who pulled it first matters to the review), so engaging is idempotent.
	 */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, KILLSWITCH_MODE);
	if (fd < 0) {
		bg_buf_free(&text);
		return bg_error_errno(err, BG_ERR_IO, errno, "%s: create", tmp);
	}
	if (fchmod(fd, KILLSWITCH_MODE) != 0)
		rc = bg_error_errno(err, BG_ERR_IO, errno, "%s: chmod", tmp);
	if (rc == BG_OK)
		rc = bg_write_all(fd, text.data, text.len, tmp, err);
	if (rc == BG_OK && fsync(fd) != 0)
		rc = bg_error_errno(err, BG_ERR_IO, errno, "%s: fsync", tmp);
	if (close(fd) != 0 && rc == BG_OK)
		rc = bg_error_errno(err, BG_ERR_IO, errno, "%s: close", tmp);
	if (rc == BG_OK && link(tmp, path) != 0 && errno != EEXIST)
		rc = bg_error_errno(err, BG_ERR_IO, errno, "%s: link", path);
	unlink(tmp);
	bg_buf_free(&text);
	if (rc != BG_OK)
		return rc;
	return bg_fsync_parent(path, err);
}

bg_status
bg_killswitch_release(const char *path, bg_error *err)
{
	if (unlink(path) != 0) {
		if (errno == ENOENT)
			return BG_OK;
		return bg_error_errno(err, BG_ERR_IO, errno, "%s: remove", path);
	}
	return bg_fsync_parent(path, err);
}
