/* Command trust: the path sudo executes must be one only root can change. */
#include "build_config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "command_path.h"
#include "escape.h"

#define UNTRUSTED "untrusted-path: "
#define WALK_FLAGS (O_PATH | O_NOFOLLOW | O_CLOEXEC)

/* The merged-/usr links a distribution puts at the top: "/bin" -> "usr/bin". */
static const char *const merged_usr_links[] = {
	"bin", "sbin", "lib", "lib32", "lib64", "libx32", NULL,
};

typedef struct {
	char given[PATH_MAX];    /* the path as given, up to the current component */
	char canonical[PATH_MAX];
	bg_error *err;
} walk;

static bg_status
refuse(walk *w, const char *fmt, const char *detail)
{
	char shown[PATH_MAX];

	bg_escape_printable(w->given[0] != '\0' ? w->given : "/", shown, sizeof(shown));
	return bg_error_set(w->err, BG_ERR_PERM, UNTRUSTED "%s: %s%s", shown, fmt,
	    detail != NULL ? detail : "");
}

/* Root owns it, only root writes it, and it is what its place requires. */
static bg_status
check_node(walk *w, int fd, bool last)
{
	struct stat st;
	char uid[32];

	if (fstat(fd, &st) != 0)
		return refuse(w, "", strerror(errno));
	if (S_ISLNK(st.st_mode))
		return refuse(w, "a symbolic link", NULL);
	if (last && !S_ISREG(st.st_mode))
		return refuse(w, "not a regular file", NULL);
	if (!last && !S_ISDIR(st.st_mode))
		return refuse(w, "not a directory", NULL);
	if (st.st_uid != 0) {
		snprintf(uid, sizeof(uid), "%lu", (unsigned long)st.st_uid);
		return refuse(w, "owned by uid ", uid);
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
		return refuse(w, "writable by group or others", NULL);
	return BG_OK;
}

static bool
append(char *buf, const char *component)
{
	size_t len = strlen(buf);
	int n = snprintf(buf + len, PATH_MAX - len, "/%s", component);

	return n >= 0 && (size_t)n < PATH_MAX - len;
}

static bool
is_merged_usr_link(const char *name)
{
	for (size_t i = 0; merged_usr_links[i] != NULL; i++)
		if (strcmp(name, merged_usr_links[i]) == 0)
			return true;
	return false;
}

static bool
is_link(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISLNK(st.st_mode);
}

/*
 * fd is the link "/name": it is trusted when it points to "usr/name" (or
 * "/usr/name"), and then *fd becomes that directory, opened from root.
 * Root owns "/" (checked), so no one else can replace the link itself.
 */
static bg_status
follow_top_link(walk *w, int rootfd, const char *name, int *fd)
{
	char target[PATH_MAX], want[PATH_MAX];
	ssize_t n;
	int usr, dir;
	bg_status rc;

	if (!is_merged_usr_link(name))
		return refuse(w, "a symbolic link", NULL);
	n = readlinkat(*fd, "", target, sizeof(target) - 1);
	if (n < 0)
		return refuse(w, "", strerror(errno));
	target[n] = '\0';
	snprintf(want, sizeof(want), "usr/%s", name);
	if (strcmp(target[0] == '/' ? target + 1 : target, want) != 0)
		return refuse(w, "a symbolic link that is not the merged-/usr link", NULL);
	usr = openat(rootfd, "usr", WALK_FLAGS | O_DIRECTORY);
	if (usr < 0)
		return refuse(w, "/usr: ", strerror(errno));
	rc = check_node(w, usr, false);
	dir = rc == BG_OK ? openat(usr, name, WALK_FLAGS) : -1;
	close(usr);
	if (rc != BG_OK)
		return rc;
	if (dir < 0)
		return refuse(w, "", strerror(errno));
	close(*fd);
	*fd = dir;
	if (!append(w->canonical, "usr"))
		return refuse(w, "path too long", NULL);
	return BG_OK;
}

bg_status
bg_command_path_check(const char *path, char *canonical, size_t size, bg_error *err)
{
	walk w = { .err = err };
	char copy[PATH_MAX], *save = NULL, *name, *next;
	int rootfd, dirfd, fd;
	bool top = true;
	bg_status rc;

	if (path == NULL || path[0] != '/')
		return bg_error_set(err, BG_ERR_PERM, UNTRUSTED "%s: not an absolute path",
		    path == NULL ? "(none)" : "a relative name");
	if (strlen(path) >= sizeof(copy))
		return bg_error_set(err, BG_ERR_PERM, UNTRUSTED "path too long");
	strcpy(copy, path);
	rootfd = open("/", WALK_FLAGS | O_DIRECTORY);
	if (rootfd < 0)
		return bg_error_errno(err, BG_ERR_PERM, errno, UNTRUSTED "/");
	rc = check_node(&w, rootfd, false);
	dirfd = dup(rootfd);
	if (dirfd < 0 && rc == BG_OK)
		rc = bg_error_errno(err, BG_ERR_PERM, errno, UNTRUSTED "/");
	name = strtok_r(copy, "/", &save);
	if (name == NULL && rc == BG_OK)
		rc = refuse(&w, "not a regular file", NULL);
	for (; rc == BG_OK && name != NULL; name = next, top = false) {
		next = strtok_r(NULL, "/", &save);
		if (!append(w.given, name) || !append(w.canonical, name)) {
			rc = refuse(&w, "path too long", NULL);
			break;
		}
		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
			rc = refuse(&w, "a \".\" or \"..\" component", NULL);
			break;
		}
		fd = openat(dirfd, name, WALK_FLAGS);
		if (fd < 0) {
			rc = refuse(&w, "", strerror(errno));
			break;
		}
		if (top && next != NULL && is_link(fd)) {
			/* "/bin" becomes "/usr/bin" in the canonical name. */
			w.canonical[0] = '\0';
			rc = follow_top_link(&w, rootfd, name, &fd);
			if (rc == BG_OK && !append(w.canonical, name))
				rc = refuse(&w, "path too long", NULL);
		}
		if (rc == BG_OK)
			rc = check_node(&w, fd, next == NULL);
		close(dirfd);
		dirfd = fd;
	}
	if (dirfd >= 0)
		close(dirfd);
	close(rootfd);
	if (rc == BG_OK && strlen(w.canonical) >= size)
		rc = refuse(&w, "path too long", NULL);
	if (rc == BG_OK)
		strcpy(canonical, w.canonical);
	return rc;
}
