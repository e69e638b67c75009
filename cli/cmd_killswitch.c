/* breakglass kill-switch: refuse every break-glass login, account check and sudo command. */
#include "build_config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fileio.h"
#include "grant.h"
#include "killswitch.h"

#define RECORD_MAX 4096

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: breakglass [--config PATH] kill-switch on --reason TEXT [--terminate]\n"
	    "       breakglass [--config PATH] kill-switch off [--reason TEXT]\n"
	    "       breakglass [--config PATH] kill-switch status\n"
	    "\n"
	    "on: creates the kill switch file, revokes every grant and, with --terminate,\n"
	    "ends the break-glass accounts' sessions.  While it exists, every break-glass\n"
	    "login, account check and sudo command is refused.  off: removes it.\n"
	    "status: exit 0 when released, 1 when engaged, 2 when it cannot tell.\n");
}

static int
engage(const bg_config *cfg, const bg_audit *audit, const char *reason, bool terminate)
{
	char **accounts = NULL;
	size_t count = 0;
	json_object *revoked;
	bg_event *ev;
	bg_error err, list_err;
	bool listed;
	int ret = BG_EXIT_OK;

	/* The switch first: from this moment nothing new gets in. */
	if (bg_killswitch_engage(cfg->general.kill_switch, bg_cli_invoker(), reason, &err) != BG_OK) {
		bg_cli_print_escaped(stderr, "breakglass: kill-switch: ", err.msg);
		return BG_EXIT_FAIL;
	}
	/* The switch is on either way; grants that cannot be listed are not "0 revoked". */
	listed = bg_grant_list(cfg->general.run_dir, &accounts, &count, &list_err) == BG_OK;
	if (!listed) {
		bg_cli_print_escaped(stderr, "breakglass: kill-switch: grants NOT revoked: ",
		    list_err.msg);
		ret = BG_EXIT_FAIL;
	}
	revoked = json_object_new_array();
	for (size_t i = 0; i < count; i++) {
		if (bg_cli_end_grant(cfg, audit, accounts[i], "grant.revoked", "kill switch",
		    terminate, &err) != BG_OK) {
			bg_cli_print_escaped(stderr, "breakglass: kill-switch: ", err.msg);
			ret = BG_EXIT_FAIL;
		}
		json_object_array_add(revoked, json_object_new_string(accounts[i]));
	}
	ev = bg_event_new("killswitch.engaged", listed ? "success" : "error");
	bg_event_add_str(ev, "reason", reason);
	if (!listed)
		bg_event_add_str(ev, "detail", list_err.msg);
	bg_event_add_str(ev, "by", bg_cli_invoker());
	bg_event_add_json(ev, "revoked", revoked);
	bg_event_add_bool(ev, "terminate", terminate);
	if (bg_audit_emit(audit, ev, &err) != BG_OK) {
		bg_cli_print_escaped(stderr, "breakglass: kill-switch: ", err.msg);
		ret = BG_EXIT_FAIL;
	}
	bg_event_free(ev);
	if (listed)
		printf("kill switch engaged; %zu grant(s) revoked\n", count);
	else
		printf("kill switch engaged; grants NOT revoked\n");
	bg_grant_list_free(accounts, count);
	return ret;
}

static int
release(const bg_config *cfg, const bg_audit *audit, const char *reason)
{
	bg_event *ev;
	bg_error err;
	int ret = BG_EXIT_OK;

	if (bg_killswitch_release(cfg->general.kill_switch, &err) != BG_OK) {
		bg_cli_print_escaped(stderr, "breakglass: kill-switch: ", err.msg);
		return BG_EXIT_FAIL;
	}
	ev = bg_event_new("killswitch.released", "success");
	bg_event_add_str(ev, "by", bg_cli_invoker());
	if (reason != NULL)
		bg_event_add_str(ev, "reason", reason);
	if (bg_audit_emit(audit, ev, &err) != BG_OK) {
		bg_cli_print_escaped(stderr, "breakglass: kill-switch: ", err.msg);
		ret = BG_EXIT_FAIL;
	}
	bg_event_free(ev);
	printf("kill switch released\n");
	return ret;
}

static int
status(const bg_config *cfg)
{
	bool engaged;
	bg_error err;
	char *text = NULL;
	size_t len;

	bg_killswitch_engaged(cfg->general.kill_switch, &engaged, &err);
	if (!engaged) {
		printf("kill switch: released\n");
		return BG_EXIT_OK;
	}
	printf("kill switch: ENGAGED (%s)\n", cfg->general.kill_switch);
	if (bg_file_read(cfg->general.kill_switch, BG_FILE_CONFIG, RECORD_MAX, &text, &len,
	    &err) == BG_OK) {
		if (len > 0 && text[len - 1] == '\n')
			text[len - 1] = '\0';
		bg_cli_print_escaped(stdout, "  ", text);
	} else
		bg_cli_print_escaped(stdout, "  ", err.msg);
	free(text);
	return BG_EXIT_FAIL;
}

int
bg_cmd_killswitch(const struct bg_cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "reason", required_argument, NULL, 'r' },
		{ "terminate", no_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *reason = NULL, *action;
	bool terminate = false;
	bg_config cfg;
	bg_audit audit;
	int c, ret;

	while ((c = getopt_long(argc, argv, "r:th", options, NULL)) != -1) {
		switch (c) {
		case 'r': reason = optarg; break;
		case 't': terminate = true; break;
		case 'h': usage(stdout); return BG_EXIT_OK;
		default: usage(stderr); return BG_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return BG_EXIT_USAGE;
	}
	action = argv[optind];
	if (strcmp(action, "on") == 0 && (reason == NULL || *reason == '\0')) {
		fprintf(stderr, "breakglass: kill-switch on needs --reason TEXT\n");
		return BG_EXIT_USAGE;
	}
	if (strcmp(action, "on") != 0 && strcmp(action, "off") != 0 &&
	    strcmp(action, "status") != 0) {
		usage(stderr);
		return BG_EXIT_USAGE;
	}
	if (bg_cli_open(cli, &cfg, &audit) != BG_OK)
		return strcmp(action, "status") == 0 ? BG_EXIT_USAGE : BG_EXIT_FAIL;
	if (strcmp(action, "on") == 0)
		ret = engage(&cfg, &audit, reason, terminate);
	else if (strcmp(action, "off") == 0)
		ret = release(&cfg, &audit, reason);
	else
		ret = status(&cfg);
	bg_config_free(&cfg);
	return ret;
}
