/* breakglass status: kill switch, active grants and locked-out identities. */
#include "build_config.h"

#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "grant.h"
#include "killswitch.h"

#define TOTP_STATE_SUFFIX ".totp"

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: breakglass [--config PATH] status [--json]\n"
	    "\n"
	    "Shows whether the kill switch is engaged, every grant (account, operator,\n"
	    "incident, scope, approvers, time left, and whether it still validates),\n"
	    "and the operators locked out on this host after TOTP failures.\n");
}

static json_object *
grant_status(const bg_config *cfg, const char *account, time_t now)
{
	json_object *o = json_object_new_object(), *approvers;
	bg_grant g;
	bg_error err;

	memset(&g, 0, sizeof(g));
	json_object_object_add(o, "account", json_object_new_string(account));
	if (bg_grant_load(cfg->general.run_dir, account, &g, &err) != BG_OK) {
		json_object_object_add(o, "valid", json_object_new_boolean(false));
		json_object_object_add(o, "problem", json_object_new_string(err.msg));
		return o;
	}
	json_object_object_add(o, "operator", json_object_new_string(g.operator_name));
	json_object_object_add(o, "incident", json_object_new_string(g.incident));
	json_object_object_add(o, "scope", json_object_new_string(g.scope));
	json_object_object_add(o, "request_id", json_object_new_string(g.request_id));
	approvers = json_object_new_array();
	for (size_t i = 0; i < g.napprovers; i++)
		json_object_array_add(approvers, json_object_new_string(g.approvers[i]));
	json_object_object_add(o, "approvers", approvers);
	json_object_object_add(o, "expires_at", json_object_new_int64((int64_t)g.expires_at));
	json_object_object_add(o, "seconds_left",
	    json_object_new_int64(g.expires_at > now ? (int64_t)(g.expires_at - now) : 0));
	if (bg_grant_validate_cfg(&g, account, cfg, now, &err) == BG_OK) {
		json_object_object_add(o, "valid", json_object_new_boolean(true));
	} else {
		json_object_object_add(o, "valid", json_object_new_boolean(false));
		json_object_object_add(o, "problem", json_object_new_string(err.msg));
	}
	bg_grant_free(&g);
	return o;
}

/* Every identity with a TOTP state file that is locked out now. */
static json_object *
lockouts(const bg_config *cfg, time_t now)
{
	json_object *list = json_object_new_array();
	char dir[4096];
	bg_totp_policy policy;
	struct dirent *de;
	bg_error err;
	DIR *d;

	if (bg_config_totp_policy(cfg, &policy, dir, sizeof(dir), &err) != BG_OK ||
	    (d = opendir(dir)) == NULL)
		return list;
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name), slen = strlen(TOTP_STATE_SUFFIX);
		char name[256];
		bool locked;
		time_t until;

		if (len <= slen || len - slen >= sizeof(name) ||
		    strcmp(de->d_name + len - slen, TOTP_STATE_SUFFIX) != 0)
			continue;
		memcpy(name, de->d_name, len - slen);
		name[len - slen] = '\0';
		if (bg_totp_lockout_status(&policy, name, now, &locked, &until, &err) == BG_OK &&
		    locked) {
			json_object *o = json_object_new_object();

			json_object_object_add(o, "name", json_object_new_string(name));
			json_object_object_add(o, "locked_until", json_object_new_int64((int64_t)until));
			json_object_array_add(list, o);
		}
	}
	closedir(d);
	return list;
}

static const char *
member(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && v != NULL ? json_object_get_string(v) : "-";
}

/* "bob,carol" from the approvers array. */
static void
join_names(json_object *arr, char *out, size_t outsz)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; arr != NULL && i < json_object_array_length(arr) && used < outsz; i++)
		used += (size_t)snprintf(out + used, outsz - used, "%s%s", i > 0 ? "," : "",
		    json_object_get_string(json_object_array_get_idx(arr, i)));
}

static void
print_text(json_object *st)
{
	json_object *grants = json_object_object_get(st, "grants");
	json_object *locked = json_object_object_get(st, "locked_out");

	printf("kill switch: %s\n", json_object_get_boolean(json_object_object_get(st,
	    "kill_switch_engaged")) ? "ENGAGED" : "released");
	printf("grants: %zu\n", json_object_array_length(grants));
	for (size_t i = 0; i < json_object_array_length(grants); i++) {
		json_object *g = json_object_array_get_idx(grants, i);
		char line[1024], approvers[256];

		join_names(json_object_object_get(g, "approvers"), approvers, sizeof(approvers));
		snprintf(line, sizeof(line), "  %s  operator=%s incident=%s scope=%s approvers=%s "
		    "left=%ss %s%s", member(g, "account"), member(g, "operator"),
		    member(g, "incident"), member(g, "scope"), approvers[0] != '\0' ? approvers : "-",
		    member(g, "seconds_left"),
		    json_object_get_boolean(json_object_object_get(g, "valid")) ? "valid" : "INVALID: ",
		    json_object_get_boolean(json_object_object_get(g, "valid")) ? "" : member(g, "problem"));
		bg_cli_print_escaped(stdout, "", line);
	}
	printf("locked out: %zu\n", json_object_array_length(locked));
	for (size_t i = 0; i < json_object_array_length(locked); i++) {
		json_object *l = json_object_array_get_idx(locked, i);
		time_t until = (time_t)json_object_get_int64(json_object_object_get(l, "locked_until"));
		char when[32] = "?", line[512];
		struct tm tm;

		if (gmtime_r(&until, &tm) != NULL)
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		snprintf(line, sizeof(line), "  %s until %s", member(l, "name"), when);
		bg_cli_print_escaped(stdout, "", line);
	}
}

int
bg_cmd_status(const struct bg_cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false, engaged;
	json_object *st, *grants;
	char **accounts = NULL;
	size_t count = 0;
	time_t now = time(NULL);
	bg_config cfg;
	bg_error err;
	int c, ret = BG_EXIT_OK;

	while ((c = getopt_long(argc, argv, "jh", options, NULL)) != -1) {
		switch (c) {
		case 'j': json = true; break;
		case 'h': usage(stdout); return BG_EXIT_OK;
		default: usage(stderr); return BG_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return BG_EXIT_USAGE;
	}
	memset(&cfg, 0, sizeof(cfg));
	if (bg_cli_load_config(cli, &cfg) != BG_OK)
		return BG_EXIT_FAIL;
	st = json_object_new_object();
	bg_killswitch_engaged(cfg.general.kill_switch, &engaged, &err);
	json_object_object_add(st, "kill_switch_engaged", json_object_new_boolean(engaged));
	grants = json_object_new_array();
	if (bg_grant_list(cfg.general.run_dir, &accounts, &count, &err) != BG_OK) {
		bg_cli_print_escaped(stderr, "breakglass: status: ", err.msg);
		ret = BG_EXIT_FAIL;
	}
	for (size_t i = 0; i < count; i++)
		json_object_array_add(grants, grant_status(&cfg, accounts[i], now));
	json_object_object_add(st, "grants", grants);
	json_object_object_add(st, "locked_out", lockouts(&cfg, now));
	if (json)
		printf("%s\n", json_object_to_json_string_ext(st,
		    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	else
		print_text(st);
	json_object_put(st);
	bg_grant_list_free(accounts, count);
	bg_config_free(&cfg);
	return ret;
}
