/*
 * Ending a break-glass account's sessions: loginctl terminate-user where
 * systemd-logind runs, then SIGHUP and, after a grace period, SIGKILL to every
 * process of the account's sessions:
 *  - every process whose audit login UID is the account's.  pam_loginuid
 *    sets it at login; fork, exec, setuid and sudo keep it, and only
 *    CAP_AUDIT_CONTROL changes it, so root processes the session started
 *    through sudo are found however they detached (nohup, setsid, sudo -b,
 *    a double fork), whatever they are named or hold in their environment;
 *  - every process running as the account (real, effective, saved or fs
 *    uid): jobs outside a login, or a stack without pam_loginuid.
 * Each process is read and signalled through one /proc/PID directory fd
 * (pidfd_send_signal), so a pid reused in between is never signalled.  The
 * tool never signals itself or its ancestors.
 */
#include "build_config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define GRACE_MS 2000
#define POLL_MS 100
/* SIGKILL rounds for processes forked while the previous round was sent. */
#define KILL_ROUNDS 50
#define ANCESTORS_MAX 64
#define PROC_READ_MAX 4096

extern char **environ;

struct session {
	uid_t uid;
	pid_t keep[ANCESTORS_MAX];   /* this process and its ancestors */
	size_t nkeep;
};

/* Reads at most PROC_READ_MAX - 1 bytes of name under the /proc/PID fd dir. */
static bool
read_proc(int dir, const char *name, char *buf)
{
	ssize_t n;
	int fd = openat(dir, name, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	n = read(fd, buf, PROC_READ_MAX - 1);
	close(fd);
	if (n < 0)
		return false;
	buf[n] = '\0';
	return true;
}

/* The parent of pid, or 0. */
static pid_t
parent_of(pid_t pid)
{
	char path[64], buf[PROC_READ_MAX];
	const char *p;
	long ppid;
	int dir;

	snprintf(path, sizeof(path), "/proc/%ld", (long)pid);
	dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return 0;
	/* "pid (comm) state ppid ...": comm may hold anything, so from its last ')'. */
	if (!read_proc(dir, "stat", buf) || (p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 1, " %*c %ld", &ppid) != 1)
		ppid = 0;
	close(dir);
	return (pid_t)ppid;
}

static void
find_ancestors(struct session *s)
{
	s->nkeep = 0;
	for (pid_t pid = getpid(); pid > 1 && s->nkeep < ANCESTORS_MAX; pid = parent_of(pid))
		s->keep[s->nkeep++] = pid;
}

/*
 * Whether the process behind dir belongs to the session: its login uid or
 * one of its uids is the account's.  A zombie has ended already.
 */
static bool
in_session(int dir, const struct session *s)
{
	char buf[PROC_READ_MAX];
	unsigned long ids[4];
	const char *line;
	char *end;
	unsigned long loginuid;

	if (!read_proc(dir, "status", buf))
		return false;
	line = strstr(buf, "\nState:");
	if (line == NULL || strncmp(line + strlen("\nState:\t"), "Z", 1) == 0)
		return false;
	line = strstr(buf, "\nUid:");
	if (line != NULL &&
	    sscanf(line + strlen("\nUid:"), "%lu %lu %lu %lu", &ids[0], &ids[1], &ids[2],
	    &ids[3]) == 4)
		for (int i = 0; i < 4; i++)
			if (ids[i] == (unsigned long)s->uid)
				return true;
	if (!read_proc(dir, "loginuid", buf))
		return false;
	errno = 0;
	loginuid = strtoul(buf, &end, 10);
	return errno == 0 && end != buf && loginuid == (unsigned long)s->uid;
}

static bool
kept(const struct session *s, long pid)
{
	for (size_t i = 0; i < s->nkeep; i++)
		if ((long)s->keep[i] == pid)
			return true;
	return false;
}

/* Sends sig (0: none) to every process of the session; returns how many there were. */
static int
signal_session(const struct session *s, int sig)
{
	struct dirent *de;
	int n = 0;
	DIR *d = opendir("/proc");

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);
		int dir;

		if (*end != '\0' || pid <= 1 || kept(s, pid))
			continue;
		dir = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dir < 0)
			continue;
		/* The fd pins this process: if it has gone, the signal fails (ESRCH). */
		if (in_session(dir, s) &&
		    (sig == 0 || syscall(SYS_pidfd_send_signal, dir, sig, NULL, 0) == 0))
			n++;
		close(dir);
	}
	closedir(d);
	return n;
}

static void
loginctl_terminate(const char *account)
{
	char *const argv[] = { (char *)"loginctl", (char *)"terminate-user", (char *)account, NULL };
	pid_t pid;
	int status;

	/* Only where systemd is the init system; elsewhere signals do it all. */
	if (access("/run/systemd/system", F_OK) != 0)
		return;
	if (posix_spawnp(&pid, "loginctl", NULL, NULL, argv, environ) == 0)
		waitpid(pid, &status, 0);
}

static void
pause_poll(void)
{
	struct timespec pause = { 0, POLL_MS * 1000000L };

	nanosleep(&pause, NULL);
}

int
bg_cli_terminate(const char *account, bg_error *err)
{
	struct passwd *pw = getpwnam(account);
	struct session s;
	int signalled, left = 0;

	/* No such user: nothing runs as it, and no login gave it a login uid. */
	if (pw == NULL)
		return 0;
	if (pw->pw_uid == 0) {
		bg_error_set(err, BG_ERR_DENIED, "refusing to terminate uid 0 (%s)", account);
		return -1;
	}
	s.uid = pw->pw_uid;
	find_ancestors(&s);
	loginctl_terminate(account);
	signalled = signal_session(&s, SIGHUP);
	for (int waited = 0; waited < GRACE_MS && signal_session(&s, 0) > 0; waited += POLL_MS)
		pause_poll();
	for (int round = 0; round < KILL_ROUNDS && (left = signal_session(&s, SIGKILL)) > 0;
	    round++)
		pause_poll();
	if (left > 0) {
		bg_error_set(err, BG_ERR_IO, "%d process(es) of %s still running after SIGKILL",
		    left, account);
		return -1;
	}
	return signalled;
}
