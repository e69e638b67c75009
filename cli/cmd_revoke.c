/* breakglass revoke: remove an account's grant (or every grant) before it expires. */
#include "build_config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "grant.h"

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: breakglass [--config PATH] revoke ACCOUNT|--all [--terminate] [--reason TEXT]\n"
	    "\n"
	    "Removes the grant of ACCOUNT, or of every account with --all, and journals\n"
	    "grant.revoked.  --terminate also ends the account's sessions and processes.\n");
}

int
bg_cmd_revoke(const struct bg_cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "terminate", no_argument, NULL, 't' },
		{ "reason", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *reason = "revoked";
	bool all = false, terminate = false;
	char **accounts = NULL;
	size_t count = 0;
	bg_config cfg;
	bg_audit audit;
	bg_error err;
	int c, ret = BG_EXIT_OK;

	while ((c = getopt_long(argc, argv, "atr:h", options, NULL)) != -1) {
		switch (c) {
		case 'a': all = true; break;
		case 't': terminate = true; break;
		case 'r': reason = optarg; break;
		case 'h': usage(stdout); return BG_EXIT_OK;
		default: usage(stderr); return BG_EXIT_USAGE;
		}
	}
	if (all == (optind < argc) || argc - optind > 1) {
		usage(stderr);
		return BG_EXIT_USAGE;
	}
	if (bg_cli_open(cli, &cfg, &audit) != BG_OK)
		return BG_EXIT_FAIL;
	if (all) {
		if (bg_grant_list(cfg.general.run_dir, &accounts, &count, &err) != BG_OK) {
			bg_cli_print_escaped(stderr, "breakglass: revoke: ", err.msg);
			bg_cli_grants_failed(&audit, "grant.revoked", reason, err.msg);
			ret = BG_EXIT_FAIL;
		}
	} else {
		bg_grant g;

		memset(&g, 0, sizeof(g));
		if (bg_grant_load(cfg.general.run_dir, argv[optind], &g, &err) == BG_ERR_NOTFOUND) {
			bg_cli_print_escaped(stderr, "breakglass: revoke: no grant for ", argv[optind]);
			ret = BG_EXIT_FAIL;
		}
		bg_grant_free(&g);
		count = 1;
	}
	/* Past a grant that cannot be removed, the others still are. */
	for (size_t i = 0; i < count && (all || ret == BG_EXIT_OK); i++) {
		const char *account = all ? accounts[i] : argv[optind];

		if (bg_cli_end_grant(&cfg, &audit, account, "grant.revoked", reason, terminate,
		    &err) != BG_OK) {
			bg_cli_print_escaped(stderr, "breakglass: revoke: ", err.msg);
			ret = BG_EXIT_FAIL;
		} else {
			bg_cli_print_escaped(stdout, "revoked: ", account);
		}
	}
	if (all && count == 0 && ret == BG_EXIT_OK)
		printf("no grants\n");
	bg_grant_list_free(accounts, all ? count : 0);
	bg_config_free(&cfg);
	return ret;
}
