/* The breakglass command-line tool: shared declarations of the subcommands. */
#ifndef BG_CLI_H
#define BG_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "audit.h"
#include "config.h"
#include "journal.h"

/* Exit codes shared by every subcommand. */
#define BG_EXIT_OK 0
#define BG_EXIT_FAIL 1     /* the check failed / the operation was refused */
#define BG_EXIT_USAGE 2    /* bad command line, or the tool itself could not run */

struct bg_cli {
	const char *config_path;   /* --config, or the built-in default */
	bool config_given;         /* --config was on the command line */
};

/*
 * Loads the configuration; on error prints every problem to stderr and
 * returns BG_ERR_INVALID.  The caller frees cfg with bg_config_free.
 */
bg_status bg_cli_load_config(const struct bg_cli *cli, bg_config *cfg);

/* bg_cli_load_config followed by bg_audit_init; prints the problem. */
bg_status bg_cli_open(const struct bg_cli *cli, bg_config *cfg, bg_audit *audit);

/*
 * Removes account's grant and journals event ("grant.revoked" or
 * "grant.expired") with reason, the grant's identity and who did it; with
 * terminate, also ends the account's processes.
 */
bg_status bg_cli_end_grant(const bg_config *cfg, const bg_audit *audit, const char *account,
    const char *event, const char *reason, bool terminate, bg_error *err);

/*
 * Journals event with outcome "error", reason and detail (the error): the
 * grants could not be listed, so none was removed, and that is on record
 * rather than a quiet "0 revoked".
 */
void bg_cli_grants_failed(const bg_audit *audit, const char *event, const char *reason,
    const char *detail);

/*
 * Ends account's sessions: loginctl terminate-user where logind runs, then
 * SIGHUP, and SIGKILL after a grace period, to every process of the account.
 * Returns the number of processes signalled, or -1 with err set.
 */
int bg_cli_terminate(const char *account, bg_error *err);

/* Prints an untrusted string (escaped) followed by a newline. */
void bg_cli_print_escaped(FILE *out, const char *prefix, const char *s);

/* The invoking user, for records: $SUDO_USER when run under sudo, else the uid's name. */
const char *bg_cli_invoker(void);

/* The journal files, K_1 and key state that verify and report work on. */
struct bg_cli_journals {
	bg_config cfg;
	bool have_cfg;
	bg_audit audit;
	char **files;                 /* oldest first */
	size_t nfiles;
	unsigned char k1[BG_SHA256_LEN];
	bool have_key;
	bg_journal_state state;
	bool have_state;
};

/*
 * With nargs files, those; with none, the configured journal preceded by its
 * rotated files (journal.jsonl.N, highest N first) and checked against the
 * configured key state.  key_path/state_path may be NULL.  Prints the
 * problem (prefixed with who) and returns an error when something is missing.
 */
bg_status bg_cli_journals_open(const struct bg_cli *cli, int nargs, char **args,
    const char *key_path, const char *state_path, struct bg_cli_journals *j,
    const char *who);
bg_status bg_cli_journals_verify(struct bg_cli_journals *j, bool partial,
    bg_verify_result *res);
void bg_cli_journals_close(struct bg_cli_journals *j);

/* Each subcommand gets argv[0] = its name. */
int bg_cmd_check_config(const struct bg_cli *cli, int argc, char **argv);
int bg_cmd_enroll(const struct bg_cli *cli, int argc, char **argv);
int bg_cmd_expire(const struct bg_cli *cli, int argc, char **argv);
int bg_cmd_journal(const struct bg_cli *cli, int argc, char **argv);
int bg_cmd_killswitch(const struct bg_cli *cli, int argc, char **argv);
int bg_cmd_note(const struct bg_cli *cli, int argc, char **argv);
int bg_cmd_recovery(const struct bg_cli *cli, int argc, char **argv);
int bg_cmd_recovery_report(const struct bg_cli *cli, int argc, char **argv);
int bg_cmd_report(const struct bg_cli *cli, int argc, char **argv);
int bg_cmd_revoke(const struct bg_cli *cli, int argc, char **argv);
int bg_cmd_status(const struct bg_cli *cli, int argc, char **argv);
int bg_cmd_verify(const struct bg_cli *cli, int argc, char **argv);

#endif
