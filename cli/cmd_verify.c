/* breakglass verify: check the journal's hash chain, links, macs and key state. */
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
	    "usage: breakglass [--config PATH] verify [--key FILE] [--state FILE] [JOURNAL...]\n"
	    "\n"
	    "Verifies JOURNAL files, oldest first, as one chain: JSON validity, seq\n"
	    "continuity from 1 and prev links; with --key (K_1 as 64 hex digits) every\n"
	    "mac; with --state, that the key state matches the last record.  Without\n"
	    "JOURNAL, verifies the configured journal against its key state.\n"
	    "Exit status: 0 intact, 1 broken (the first bad line is named), 2 error.\n");
}

int
bg_cmd_verify(const struct bg_cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "state", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *key_path = NULL, *state_path = NULL;
	const char *const *files;
	const char *configured[1];
	unsigned char k1[BG_SHA256_LEN];
	bg_journal_state state;
	bg_verify_result res;
	bg_config cfg;
	bg_audit audit;
	bg_error err;
	size_t nfiles;
	bg_status rc;
	int c, ret = BG_EXIT_USAGE;

	memset(&cfg, 0, sizeof(cfg));
	while ((c = getopt_long(argc, argv, "+k:s:h", options, NULL)) != -1) {
		switch (c) {
		case 'k':
			key_path = optarg;
			break;
		case 's':
			state_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return BG_EXIT_OK;
		default:
			usage(stderr);
			return BG_EXIT_USAGE;
		}
	}
	files = (const char *const *)argv + optind;
	nfiles = (size_t)(argc - optind);
	if (nfiles == 0) {
		/* The configured journal, checked against its key state for truncation. */
		if (bg_cli_load_config(cli, &cfg) != BG_OK)
			return BG_EXIT_USAGE;
		if (bg_audit_init(&audit, &cfg, &err) != BG_OK) {
			bg_cli_print_escaped(stderr, "breakglass: verify: ", err.msg);
			goto out;
		}
		configured[0] = cfg.general.journal;
		files = configured;
		nfiles = 1;
		if (state_path == NULL)
			state_path = audit.state_path;
	}
	if (key_path != NULL && bg_key_file_read(key_path, k1, &err) != BG_OK) {
		bg_cli_print_escaped(stderr, "breakglass: verify: ", err.msg);
		goto out;
	}
	if (state_path != NULL && bg_journal_state_read(state_path, &state, &err) != BG_OK) {
		bg_cli_print_escaped(stderr, "breakglass: verify: ", err.msg);
		goto out;
	}
	rc = bg_journal_verify(files, nfiles, key_path != NULL ? k1 : NULL,
	    state_path != NULL ? &state : NULL, &res);
	if (rc == BG_OK) {
		printf("%llu records verified (%s)\n", res.records,
		    key_path != NULL ? "chain, links and macs" : "chain and links; no key, macs unchecked");
		ret = BG_EXIT_OK;
	} else {
		char where[512];

		if (res.line > 0)
			snprintf(where, sizeof(where), "%s:%lu: ", res.file, res.line);
		else
			snprintf(where, sizeof(where), "%s: ", res.file);
		fprintf(stderr, "breakglass: verify: ");
		bg_cli_print_escaped(stderr, where, res.reason);
		ret = BG_EXIT_FAIL;
	}
out:
	explicit_bzero(k1, sizeof(k1));
	explicit_bzero(&state, sizeof(state));
	bg_config_free(&cfg);
	return ret;
}
