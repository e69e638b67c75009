/*
 * The break-glass decision for one sudo command, and its audit record.
 * sudo_breakglass.so turns sudo's arrays into a bg_sudo_request and calls
 * bg_sudo_decide; nothing here knows sudo's headers.
 */
#ifndef BG_SUDO_POLICY_H
#define BG_SUDO_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "audit.h"
#include "config.h"
#include "status.h"

typedef struct {
	const char *user;            /* the invoking user */
	const char *command;         /* the program sudo resolved (never argv[0]) */
	const char *const *argv;     /* what runs: argv[0] is the name, then the arguments */
	size_t argc;
	const char *const *envp;     /* its environment, NULL-terminated (may be NULL) */
	const char *runas_user;      /* for the record */
	bool runas_known;            /* runas_uid and runas_gid were given */
	uid_t runas_uid;
	gid_t runas_gid;
	bool run_shell;              /* sudo -s */
	bool login_shell;            /* sudo -i */
	bool implied_shell;          /* sudo with no command: a shell */
	bool chroot;                 /* sudo -R */
	bool sudoedit;               /* sudoedit / sudo -e */
	size_t edit_nfiles;          /* sudoedit: the last edit_nfiles of argv; 0: after "--" */
	const char *cwd;             /* the user's working directory */
	const char *tty;             /* NULL: none */
} bg_sudo_request;

typedef enum {
	BG_SUDO_UNTOUCHED,   /* not a break-glass account: sudoers alone decides */
	BG_SUDO_ACCEPT,
	BG_SUDO_REJECT,
} bg_sudo_verdict;

/*
 * Decides req at now.  For break-glass accounts the decision is journaled
 * (sudo.accepted or sudo.rejected, with the grant's identity, argv, runas,
 * cwd, tty and the reason) before this returns, and an acceptance that
 * cannot be journaled becomes a rejection.  On BG_SUDO_REJECT, reason holds
 * what to tell the user.
 */
bg_sudo_verdict bg_sudo_decide(const bg_config *cfg, const bg_audit *audit,
    const bg_sudo_request *req, time_t now, bg_error *reason);

/*
 * Whether an environment entry ("NAME=value") sets a loader, interpreter or
 * shell-startup variable, or names a program to run (pager, editor), which
 * would let the caller run other code than the scope allows.
 */
bool bg_sudo_env_forbidden(const char *entry);

/*
 * Logs to syslog (no journal is known) that sudo was refused to user because
 * the plugin is not usable: a configuration or option problem.
 */
void bg_sudo_log_unusable(const char *user, const char *problem);

#endif
