/* breakglass note: append a remark (e.g. post-incident) to the audit journal. */
#include "build_config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "cli.h"

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: breakglass [--config PATH] note [--incident ID] TEXT\n"
	    "\n"
	    "Appends a note.added record (author, incident, text) to the journal.\n");
}

int
bg_cmd_note(const struct bg_cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "incident", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *incident = NULL;
	bg_config cfg;
	bg_audit audit;
	bg_event *ev;
	bg_error err;
	int c, ret = BG_EXIT_FAIL;

	while ((c = getopt_long(argc, argv, "+i:h", options, NULL)) != -1) {
		switch (c) {
		case 'i':
			incident = optarg;
			break;
		case 'h':
			usage(stdout);
			return BG_EXIT_OK;
		default:
			usage(stderr);
			return BG_EXIT_USAGE;
		}
	}
	if (optind != argc - 1 || argv[optind][0] == '\0') {
		usage(stderr);
		return BG_EXIT_USAGE;
	}
	memset(&cfg, 0, sizeof(cfg));
	if (bg_cli_load_config(cli, &cfg) != BG_OK)
		return BG_EXIT_FAIL;
	ev = bg_event_new("note.added", "success");
	if (ev == NULL) {
		fprintf(stderr, "breakglass: note: out of memory\n");
		goto out;
	}
	bg_event_set_identity(ev, NULL, NULL, incident, NULL);
	bg_event_add_str(ev, "author", bg_cli_invoker());
	bg_event_add_str(ev, "text", argv[optind]);
	if (bg_audit_init(&audit, &cfg, &err) != BG_OK ||
	    bg_audit_emit(&audit, ev, &err) != BG_OK) {
		bg_cli_print_escaped(stderr, "breakglass: note: ", err.msg);
		goto out;
	}
	ret = BG_EXIT_OK;
out:
	bg_event_free(ev);
	bg_config_free(&cfg);
	return ret;
}
