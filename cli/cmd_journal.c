/* breakglass journal init: start the audit chain and hand K_1 to compliance. */
#include "build_config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "cli.h"
#include "crypto.h"
#include "journal.h"

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: breakglass [--config PATH] journal init\n"
	    "\n"
	    "Creates the journal key state in state_dir and prints the first key, K_1,\n"
	    "once, as 64 hex digits.  Keep it offline: `breakglass verify --key FILE`\n"
	    "needs it to check every record's mac.  Refuses when a chain exists.\n");
}

static int
journal_init(const struct bg_cli *cli)
{
	unsigned char k1[BG_SHA256_LEN];
	char hex[BG_SHA256_HEX_LEN + 1];
	bg_config cfg;
	bg_audit audit;
	bg_error err;
	int ret = BG_EXIT_FAIL;

	memset(&cfg, 0, sizeof(cfg));
	if (bg_cli_load_config(cli, &cfg) != BG_OK)
		return BG_EXIT_FAIL;
	if (bg_audit_init(&audit, &cfg, &err) != BG_OK ||
	    bg_journal_init(&audit.journal, k1, &err) != BG_OK) {
		bg_cli_print_escaped(stderr, "breakglass: journal init: ", err.msg);
		goto out;
	}
	bg_hex_encode(k1, sizeof(k1), hex);
	printf("%s\n", hex);
	fflush(stdout);
	fprintf(stderr,
	    "breakglass: journal key state created in %s\n"
	    "breakglass: the line above is K_1. Store it offline now; it is not shown again.\n",
	    audit.state_path);
	ret = BG_EXIT_OK;
out:
	explicit_bzero(k1, sizeof(k1));
	explicit_bzero(hex, sizeof(hex));
	bg_config_free(&cfg);
	return ret;
}

int
bg_cmd_journal(const struct bg_cli *cli, int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "init") == 0)
		return journal_init(cli);
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return BG_EXIT_OK;
	}
	if (argc == 3 && strcmp(argv[1], "init") == 0 &&
	    (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0)) {
		usage(stdout);
		return BG_EXIT_OK;
	}
	usage(stderr);
	return BG_EXIT_USAGE;
}
