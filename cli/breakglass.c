/* breakglass: the administration tool.  Dispatches to one file per subcommand. */
#include "build_config.h"

#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "escape.h"

struct subcommand {
	const char *name;
	int (*run)(const struct bg_cli *, int, char **);
	const char *summary;
};

static const struct subcommand subcommands[] = {
	{ "check-config", bg_cmd_check_config, "validate the configuration and the files it names" },
	{ "enroll", bg_cmd_enroll, "create an operator's or approver's TOTP secret" },
	{ "expire", bg_cmd_expire, "remove expired grants (systemd timer)" },
	{ "journal", bg_cmd_journal, "journal init: start the audit chain and print K_1 once" },
	{ "kill-switch", bg_cmd_killswitch, "on|off|status: refuse all break-glass access" },
	{ "note", bg_cmd_note, "append a note to the audit journal" },
	{ "recovery", bg_cmd_recovery, "keygen|export-host|code: offline recovery codes (approvers)" },
	{ "report", bg_cmd_report, "post-incident report from the verified journal" },
	{ "revoke", bg_cmd_revoke, "remove an account's grant (or all) before it expires" },
	{ "status", bg_cmd_status, "kill switch, active grants, locked-out operators" },
	{ "verify", bg_cmd_verify, "verify the audit journal's hash chain" },
};

static void
usage(FILE *out)
{
	fprintf(out, "usage: breakglass [--config PATH] SUBCOMMAND [ARGS]\n\nsubcommands:\n");
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		fprintf(out, "  %-14s %s\n", subcommands[i].name, subcommands[i].summary);
	fprintf(out, "\nRun `breakglass SUBCOMMAND --help` for details; see breakglass(8).\n");
}

bg_status
bg_cli_load_config(const struct bg_cli *cli, bg_config *cfg)
{
	bg_errlist errs = { 0 };
	bg_status rc;

	rc = bg_config_load(cli->config_path, cfg, &errs);
	if (rc != BG_OK) {
		for (size_t i = 0; i < errs.count; i++)
			bg_cli_print_escaped(stderr, "breakglass: ", errs.msgs[i]);
		if (errs.count == 0)
			fprintf(stderr, "breakglass: %s: invalid configuration\n", cli->config_path);
	}
	bg_errlist_free(&errs);
	return rc;
}

bg_status
bg_cli_open(const struct bg_cli *cli, bg_config *cfg, bg_audit *audit)
{
	bg_error err;

	memset(cfg, 0, sizeof(*cfg));
	if (bg_cli_load_config(cli, cfg) != BG_OK)
		return BG_ERR_INVALID;
	if (bg_audit_init(audit, cfg, &err) != BG_OK) {
		bg_cli_print_escaped(stderr, "breakglass: ", err.msg);
		bg_config_free(cfg);
		return BG_ERR_INVALID;
	}
	return BG_OK;
}

void
bg_cli_print_escaped(FILE *out, const char *prefix, const char *s)
{
	char buf[4 * BG_ERROR_MAX];

	bg_escape_printable(s, buf, sizeof(buf));
	fprintf(out, "%s%s\n", prefix, buf);
}

const char *
bg_cli_invoker(void)
{
	static char name[256];
	const char *sudo_user = getenv("SUDO_USER");
	struct passwd *pw;

	if (sudo_user != NULL && *sudo_user != '\0' && getuid() == 0)
		return sudo_user;
	pw = getpwuid(getuid());
	if (pw != NULL)
		snprintf(name, sizeof(name), "%s", pw->pw_name);
	else
		snprintf(name, sizeof(name), "uid=%lu", (unsigned long)getuid());
	return name;
}

int
main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct bg_cli cli = { .config_path = BG_DEFAULT_CONFIG };
	int c;

	/* '+': stop at the subcommand so its own options are left for it. */
	while ((c = getopt_long(argc, argv, "+c:hV", options, NULL)) != -1) {
		switch (c) {
		case 'c':
			cli.config_path = optarg;
			cli.config_given = true;
			break;
		case 'h':
			usage(stdout);
			return BG_EXIT_OK;
		case 'V':
			printf("breakglass %s\n", PACKAGE_VERSION);
			return BG_EXIT_OK;
		default:
			usage(stderr);
			return BG_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return BG_EXIT_USAGE;
	}
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++) {
		if (strcmp(argv[optind], subcommands[i].name) == 0) {
			int sub_argc = argc - optind;
			char **sub_argv = argv + optind;

			optind = 0;  /* a fresh getopt scan for the subcommand */
			return subcommands[i].run(&cli, sub_argc, sub_argv);
		}
	}
	bg_cli_print_escaped(stderr, "breakglass: unknown subcommand: ", argv[optind]);
	usage(stderr);
	return BG_EXIT_USAGE;
}
