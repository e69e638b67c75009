/*
 * Test helper, LD_PRELOADed: logs every fsync, fdatasync and syncfs to the
 * file named by BG_FSYNC_LOG, one line "CALL PATH" each (PATH: what the
 * descriptor names), so tests can count the syncs of one sudo call or one
 * login (tests/pam/pam_fsync.py).  Counts, not timings.
 */
#include "build_config.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Built with -fvisibility=hidden: these must be seen to interpose. */
#define EXPORTED __attribute__((visibility("default")))
EXPORTED int fsync(int fd);
EXPORTED int fdatasync(int fd);
EXPORTED int syncfs(int fd);

static void
log_sync(const char *call, int fd)
{
	const char *log = getenv("BG_FSYNC_LOG");
	char proc[64], path[PATH_MAX], line[PATH_MAX + 32];
	ssize_t n;
	int saved = errno, out, len;

	if (log == NULL)
		return;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, path, sizeof(path) - 1);
	path[n > 0 ? n : 0] = '\0';
	len = snprintf(line, sizeof(line), "%s %s\n", call, n > 0 ? path : "?");
	out = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (out >= 0) {
		/* One write per line: O_APPEND keeps concurrent writers' lines whole. */
		if (write(out, line, (size_t)len) != len)
			abort();
		close(out);
	}
	errno = saved;
}

#define FORWARD(name)                                                         \
	int                                                                   \
	name(int fd)                                                          \
	{                                                                     \
		static int (*real)(int);                                      \
		                                                              \
		if (real == NULL)                                             \
			real = (int (*)(int))dlsym(RTLD_NEXT, #name);         \
		log_sync(#name, fd);                                          \
		return real(fd);                                              \
	}

FORWARD(fsync)
FORWARD(fdatasync)
FORWARD(syncfs)
