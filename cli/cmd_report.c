/* breakglass report: verify the journal, then report per incident. */
#include "build_config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "report.h"
#include "report_format.h"
#include "timeparse.h"

/* Exit status when the report was produced from a journal that failed verification. */
#define EXIT_UNVERIFIED 2

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: breakglass [--config PATH] report [--incident ID] [--since T] [--until T]\n"
	    "           [--format text|json|csv|html] [--key FILE] [--state FILE] [--partial]\n"
	    "           [JOURNAL...]\n"
	    "\n"
	    "Verifies the journal files (oldest first; default: the configured journal,\n"
	    "its rotated files and its key state; see verify), then reports each incident: operator, account, host,\n"
	    "reason, signals, approvers, time to approval, the grant and how it ended,\n"
	    "every sudo decision and the sessions.  T is 2026-11-27 or\n"
	    "2026-11-27T15:00:00Z (UTC).  A broken chain still prints what precedes it,\n"
	    "marked UNVERIFIED, and exits 2.\n");
}

struct report_opts {
	bg_report_filter filter;
	const char *format;
	const char *key_path;
	const char *state_path;
	bool partial;
};

static int
parse_opts(int argc, char **argv, struct report_opts *o)
{
	static const struct option options[] = {
		{ "incident", required_argument, NULL, 'i' },
		{ "since", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 'u' },
		{ "format", required_argument, NULL, 'f' },
		{ "key", required_argument, NULL, 'k' },
		{ "state", required_argument, NULL, 'S' },
		{ "partial", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bg_error err;
	int c;

	memset(o, 0, sizeof(*o));
	o->format = "text";
	while ((c = getopt_long(argc, argv, "i:s:u:f:k:S:ph", options, NULL)) != -1) {
		switch (c) {
		case 'i': o->filter.incident = optarg; break;
		case 'f': o->format = optarg; break;
		case 'k': o->key_path = optarg; break;
		case 'S': o->state_path = optarg; break;
		case 'p': o->partial = true; break;
		case 's':
		case 'u':
			if (bg_time_parse_utc(optarg, c == 's' ? &o->filter.since : &o->filter.until,
			    &err) != BG_OK) {
				bg_cli_print_escaped(stderr, "breakglass: report: ", err.msg);
				return BG_EXIT_USAGE;
			}
			break;
		case 'h': usage(stdout); return BG_EXIT_OK;
		default: usage(stderr); return BG_EXIT_USAGE;
		}
	}
	if (strcmp(o->format, "text") != 0 && strcmp(o->format, "json") != 0 &&
	    strcmp(o->format, "csv") != 0 && strcmp(o->format, "html") != 0) {
		fprintf(stderr, "breakglass: report: --format must be text, json, csv or html\n");
		return BG_EXIT_USAGE;
	}
	return -1;
}

static void
render(const char *format, json_object *model)
{
	if (strcmp(format, "json") == 0)
		printf("%s\n", json_object_to_json_string_ext(model,
		    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	else if (strcmp(format, "csv") == 0)
		bg_report_csv(stdout, model);
	else if (strcmp(format, "html") == 0)
		bg_report_html(stdout, model);
	else
		bg_report_text(stdout, model);
}

int
bg_cmd_report(const struct bg_cli *cli, int argc, char **argv)
{
	struct report_opts o;
	struct bg_cli_journals j;
	bg_verify_result res;
	json_object *model = NULL;
	bg_error err;
	bool verified;
	int ret;

	ret = parse_opts(argc, argv, &o);
	if (ret >= 0)
		return ret;
	if (bg_cli_journals_open(cli, argc - optind, argv + optind, o.key_path, o.state_path,
	    &j, "report") != BG_OK)
		return BG_EXIT_USAGE;
	verified = bg_cli_journals_verify(&j, o.partial, &res) == BG_OK;
	if (bg_report_build((const char *const *)j.files, j.nfiles, &o.filter, &res, verified,
	    &model, &err) != BG_OK) {
		bg_cli_print_escaped(stderr, "breakglass: report: ", err.msg);
		ret = BG_EXIT_USAGE;
	} else {
		json_object_object_add(model, "macs_checked", json_object_new_boolean(j.have_key));
		render(o.format, model);
		ret = BG_EXIT_OK;
		if (!verified) {
			fprintf(stderr, "breakglass: report: UNVERIFIED: ");
			bg_cli_print_escaped(stderr, "", res.reason);
			ret = EXIT_UNVERIFIED;
		}
	}
	json_object_put(model);
	bg_cli_journals_close(&j);
	return ret;
}
