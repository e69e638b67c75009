/* breakglass expire: remove expired grants (run every minute by a systemd timer). */
#include "build_config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "grant.h"

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: breakglass [--config PATH] expire [--terminate]\n"
	    "\n"
	    "Removes every grant that has expired (grant.expired) or no longer\n"
	    "validates (grant.revoked, with the reason); --terminate also ends those\n"
	    "accounts' sessions.  Meant for breakglass-expire.timer.\n");
}

int
bg_cmd_expire(const struct bg_cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "terminate", no_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool terminate = false;
	char **accounts = NULL;
	size_t count = 0;
	time_t now = time(NULL);
	bg_config cfg;
	bg_audit audit;
	bg_error err;
	int c, ret = BG_EXIT_OK, ended = 0;

	while ((c = getopt_long(argc, argv, "th", options, NULL)) != -1) {
		switch (c) {
		case 't': terminate = true; break;
		case 'h': usage(stdout); return BG_EXIT_OK;
		default: usage(stderr); return BG_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return BG_EXIT_USAGE;
	}
	if (bg_cli_open(cli, &cfg, &audit) != BG_OK)
		return BG_EXIT_FAIL;
	if (bg_grant_list(cfg.general.run_dir, &accounts, &count, &err) != BG_OK) {
		bg_cli_print_escaped(stderr, "breakglass: expire: ", err.msg);
		bg_cli_grants_failed(&audit, "grant.expired", "expire", err.msg);
		ret = BG_EXIT_FAIL;
	}
	for (size_t i = 0; i < count; i++) {
		char why[BG_ERROR_MAX + 16];
		const char *event = NULL;
		bg_grant g;

		memset(&g, 0, sizeof(g));
		if (bg_grant_load(cfg.general.run_dir, accounts[i], &g, &err) != BG_OK) {
			event = "grant.revoked";
			snprintf(why, sizeof(why), "invalid: %s", err.msg);
		} else if (g.expires_at <= now) {
			event = "grant.expired";
			snprintf(why, sizeof(why), "expired");
		} else if (bg_grant_validate_cfg(&g, accounts[i], &cfg, now, &err) != BG_OK) {
			event = "grant.revoked";
			snprintf(why, sizeof(why), "invalid: %s", err.msg);
		}
		bg_grant_free(&g);
		if (event == NULL)
			continue;
		if (bg_cli_end_grant(&cfg, &audit, accounts[i], event, why, terminate, &err) != BG_OK) {
			bg_cli_print_escaped(stderr, "breakglass: expire: ", err.msg);
			ret = BG_EXIT_FAIL;
			continue;
		}
		ended++;
		fprintf(stdout, "%s: ", strcmp(event, "grant.expired") == 0 ? "expired" : "removed");
		bg_cli_print_escaped(stdout, "", accounts[i]);
	}
	if (ended == 0 && ret == BG_EXIT_OK)
		printf("nothing expired\n");
	bg_grant_list_free(accounts, count);
	bg_config_free(&cfg);
	return ret;
}
