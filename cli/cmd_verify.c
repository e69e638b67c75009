/* breakglass verify: check the journal's hash chain, links, macs and key state. */
#include "build_config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: breakglass [--config PATH] verify [--key FILE] [--state FILE] [--partial]\n"
	    "           [JOURNAL...]\n"
	    "\n"
	    "Verifies JOURNAL files, oldest first, as one chain: JSON validity, seq\n"
	    "continuity from 1 and prev links; with --key (K_1 as 64 hex digits) every\n"
	    "mac; with --state, that the key state matches the last record.  Without\n"
	    "JOURNAL, verifies the configured journal, preceded by its rotated files\n"
	    "(journal.jsonl.N), against its key state.  --partial accepts a chain whose\n"
	    "oldest files are gone: it starts at the first record given.\n"
	    "Exit status: 0 intact, 1 broken (the first bad line is named), 2 error.\n");
}

int
bg_cmd_verify(const struct bg_cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "state", required_argument, NULL, 's' },
		{ "partial", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *key_path = NULL, *state_path = NULL;
	struct bg_cli_journals j;
	bg_verify_result res;
	bool partial = false;
	int c, ret;

	while ((c = getopt_long(argc, argv, "k:s:ph", options, NULL)) != -1) {
		switch (c) {
		case 'k': key_path = optarg; break;
		case 's': state_path = optarg; break;
		case 'p': partial = true; break;
		case 'h': usage(stdout); return BG_EXIT_OK;
		default: usage(stderr); return BG_EXIT_USAGE;
		}
	}
	if (bg_cli_journals_open(cli, argc - optind, argv + optind, key_path, state_path, &j,
	    "verify") != BG_OK)
		return BG_EXIT_USAGE;
	if (bg_cli_journals_verify(&j, partial, &res) == BG_OK) {
		printf("%llu records verified (%s)", res.records, j.have_key ?
		    "chain, links and macs" : "chain and links; no key, macs unchecked");
		if (res.first_seq > 1)
			printf("; chain starts at seq %llu, earlier files not given", res.first_seq);
		printf("\n");
		/* What an interrupted append left: accepted as the writer accepts it. */
		if (res.adoptable && res.adopt_first == res.last_seq)
			printf("note: the last record (seq %llu) is committed but the key state was not "
			    "updated after it (an interrupted append); the next append adopts it\n",
			    res.last_seq);
		else if (res.adoptable)
			printf("note: the last records (seq %llu to %llu) are committed but the key state "
			    "was not updated after them (an interrupted append); the next append "
			    "adopts them\n", res.adopt_first, res.last_seq);
		if (res.torn_line > 0) {
			char note[BG_ERROR_MAX];

			snprintf(note, sizeof(note), "%s:%lu: an incomplete last line, the remains of "
			    "an append that never completed, is no record; the next append cuts it",
			    res.torn_file, res.torn_line);
			bg_cli_print_escaped(stdout, "note: ", note);
		}
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
	bg_cli_journals_close(&j);
	return ret;
}
