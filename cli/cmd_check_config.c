/*
 * breakglass check-config: validates the configuration and, unless
 * --syntax-only, every file and directory it names.  Prints every problem,
 * one "file:line: message" per line, so an editor can jump to each.
 */
#include "build_config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "escape.h"

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: breakglass [--config PATH] check-config [--syntax-only]\n"
	    "\n"
	    "Checks the configuration file: syntax, values and the rules between\n"
	    "them; without --syntax-only also the keys, directories and commands\n"
	    "it names (existence, owner, mode).  Prints \"PATH: OK\" and exits 0 when\n"
	    "there is no problem, else prints each problem and exits 1.  Warnings\n"
	    "(\"file:line: warning: ...\") point at scope commands that likely allow\n"
	    "more than meant; they do not change the exit status.\n");
}

static void
print_errors(const bg_errlist *errs)
{
	for (size_t i = 0; i < errs->count; i++)
		bg_cli_print_escaped(stderr, "", errs->msgs[i]);
}

int
bg_cmd_check_config(const struct bg_cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "syntax-only", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bg_errlist errs = { 0 }, warnings = { 0 };
	bool syntax_only = false;
	bg_config cfg;
	int c, ret;

	/* argv[0] is "check-config": 0 makes glibc rescan from argv[1]. */
	optind = 0;
	while ((c = getopt_long(argc, argv, "+h", options, NULL)) != -1) {
		switch (c) {
		case 's':
			syntax_only = true;
			break;
		case 'h':
			usage(stdout);
			return BG_EXIT_OK;
		default:
			usage(stderr);
			return BG_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return BG_EXIT_USAGE;
	}
	if (bg_config_load(cli->config_path, &cfg, &errs) != BG_OK) {
		print_errors(&errs);
		/* Never silent: a failure with no message would look like success. */
		if (errs.count == 0)
			bg_cli_print_escaped(stderr, "invalid configuration: ",
			    cli->config_path);
		bg_errlist_free(&errs);
		return BG_EXIT_FAIL;
	}
	bg_config_lint(&cfg, &warnings);
	print_errors(&warnings);
	bg_errlist_free(&warnings);
	ret = BG_EXIT_OK;
	if (!syntax_only && bg_config_check_files(&cfg, &errs) != BG_OK) {
		print_errors(&errs);
		if (errs.count == 0)
			bg_cli_print_escaped(stderr, "file check failed: ",
			    cli->config_path);
		ret = BG_EXIT_FAIL;
	}
	if (ret == BG_EXIT_OK) {
		char buf[4 * BG_ERROR_MAX];

		bg_escape_printable(cli->config_path, buf, sizeof(buf));
		printf("%s: OK\n", buf);
		/* "OK" that never reached its reader must not exit 0. */
		if (fflush(stdout) != 0)
			ret = BG_EXIT_USAGE;
	}
	bg_errlist_free(&errs);
	bg_config_free(&cfg);
	return ret;
}
