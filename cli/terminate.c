/*
 * Ending a break-glass account's sessions: loginctl terminate-user where
 * systemd-logind runs, then SIGHUP and, after a grace period, SIGKILL to every
 * process still running as the account (sessions logind does not track, such
 * as a cron job or a daemonised shell).
 */
#include "build_config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define GRACE_MS 2000
#define POLL_MS 100

extern char **environ;

/* Whether any of the process's real, effective, saved or fs uids is uid. */
static bool
process_runs_as(pid_t pid, uid_t uid)
{
	char path[64], line[256];
	bool match = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	f = fopen(path, "re");
	if (f == NULL)
		return false;
	while (fgets(line, sizeof(line), f) != NULL) {
		unsigned long ids[4];

		if (strncmp(line, "Uid:", 4) == 0 &&
		    sscanf(line + 4, "%lu %lu %lu %lu", &ids[0], &ids[1], &ids[2], &ids[3]) == 4) {
			for (int i = 0; i < 4; i++)
				match = match || ids[i] == (unsigned long)uid;
			break;
		}
	}
	fclose(f);
	return match;
}

/* Sends sig to every process of uid; returns how many were signalled. */
static int
signal_all(uid_t uid, int sig)
{
	struct dirent *de;
	int n = 0;
	DIR *d = opendir("/proc");

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end != '\0' || pid <= 1 || pid == (long)getpid())
			continue;
		if (process_runs_as((pid_t)pid, uid) && kill((pid_t)pid, sig) == 0)
			n++;
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

int
bg_cli_terminate(const char *account, bg_error *err)
{
	struct timespec pause = { 0, POLL_MS * 1000000L };
	struct passwd *pw = getpwnam(account);
	int signalled;

	if (pw == NULL) {
		bg_error_set(err, BG_ERR_NOTFOUND, "no such user: %s", account);
		return -1;
	}
	if (pw->pw_uid == 0) {
		bg_error_set(err, BG_ERR_DENIED, "refusing to terminate uid 0 (%s)", account);
		return -1;
	}
	loginctl_terminate(account);
	signalled = signal_all(pw->pw_uid, SIGHUP);
	for (int waited = 0; waited < GRACE_MS && signal_all(pw->pw_uid, 0) > 0; waited += POLL_MS)
		nanosleep(&pause, NULL);
	signal_all(pw->pw_uid, SIGKILL);
	return signalled;
}
