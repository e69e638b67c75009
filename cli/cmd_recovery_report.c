/*
 * breakglass recovery report: files every offline recovery grant (protocol
 * R1) not yet reported with the approval service, after the fact, so the
 * security team is told about access that no service approved.  The source
 * is the journal's recovery.granted records, not run_dir: a grant that has
 * expired or was revoked is still reported.  The [approval] urls are tried
 * in order, as for a login.  What was filed, with which service URL, is
 * kept in {state_dir}/recovery/reported.json, held under its lock for the
 * whole run, so each grant is filed once (with any of the urls: they are
 * instances of one service); the service is idempotent too, so a crash
 * between filing and recording only refiles the same body.
 */
#include "build_config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "approval.h"
#include "cli.h"
#include "json_string.h"
#include "recovery_state.h"
#include "report.h"

#define WHO "recovery report"
#define HTTP_CONFLICT 409

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: breakglass [--config PATH] recovery report [--dry-run]\n"
	    "\n"
	    "Files each offline recovery grant recorded in the journal (recovery.granted)\n"
	    "and not yet reported with the approval service ([approval] url): a signed\n"
	    "POST {url}/recoveries with the grant's details, its approvers and the times\n"
	    "their codes were accepted (never the codes), to each url in turn until one\n"
	    "answers.  Remembers what was filed with which url in\n"
	    "{state_dir}/recovery/reported.json.  --dry-run prints the reports instead.\n"
	    "Exits 1 when a report could not be filed or the journal does not verify.\n");
}

/* Copies the string member key of src into dst; false when src lacks it. */
static bool
copy_str(json_object *dst, json_object *src, const char *key)
{
	const char *v = bg_json_member_cstring(src, key);

	return v != NULL && json_object_object_add(dst, key, json_object_new_string(v)) == 0;
}

/*
 * The report body (protocol.md section 11.6), members in the documented
 * order; NULL when the journal lacks a member (every approver needs the time
 * their code was accepted).
 */
static char *
report_body(json_object *r)
{
	static const char *const head[] = {
		"recovery_id", "host", "account", "operator", "incident", "scope", "challenge",
	};
	static const char *const tail[] = { "signals_state", "issued_at", "expires_at" };
	json_object *o = json_object_new_object(), *who = NULL, *list = json_object_new_array();
	char *out = NULL;
	bool ok = o != NULL && list != NULL;

	for (size_t i = 0; ok && i < sizeof(head) / sizeof(head[0]); i++)
		ok = copy_str(o, r, head[i]);
	ok = ok && json_object_object_get_ex(r, "approvers", &who) &&
	    json_object_is_type(who, json_type_array) && json_object_array_length(who) > 0;
	for (size_t i = 0; ok && i < json_object_array_length(who); i++) {
		json_object *a = json_object_array_get_idx(who, i), *item = json_object_new_object();

		ok = item != NULL && copy_str(item, a, "approver") && copy_str(item, a, "at") &&
		    json_object_array_add(list, item) == 0;
		if (!ok)
			json_object_put(item);
	}
	ok = ok && json_object_object_add(o, "approvers", list) == 0;
	if (ok)
		list = NULL;
	for (size_t i = 0; ok && i < sizeof(tail) / sizeof(tail[0]); i++)
		ok = copy_str(o, r, tail[i]);
	if (ok)
		out = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
		    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(list);
	json_object_put(o);
	return out;
}

typedef struct {
	const bg_config *cfg;
	bg_recovery_reported *done;
	bool dry_run;
	bool unreachable;           /* the service did not answer: leave the rest for later */
	unsigned filed, failed;
} run;

/* Whether id was filed with one of the [approval] urls. */
static bool
reported(const run *ru, const char *id)
{
	const bg_strlist *urls = &ru->cfg->approval.url;

	for (size_t i = 0; i < urls->count; i++)
		if (bg_recovery_reported_has(ru->done, id, urls->items[i]))
			return true;
	return false;
}

/* One granted recovery: filed unless already filed with this service. */
static void
report_one(run *ru, json_object *r)
{
	const char *id = bg_json_member_cstring(r, "recovery_id");
	char msg[BG_ERROR_MAX + 128];
	bg_approval_result res;
	char *body;
	bg_error err;

	if (id == NULL || reported(ru, id))
		return;
	if ((body = report_body(r)) == NULL) {
		bg_cli_print_escaped(stderr, "breakglass: " WHO ": incomplete journal records "
		    "for ", id);
		ru->failed++;
		return;
	}
	if (ru->dry_run) {
		printf("%s\n", body);
		free(body);
		return;
	}
	if (bg_approval_report_recovery(ru->cfg, id, body, &res, &err) != BG_OK) {
		snprintf(msg, sizeof(msg), "%s: %s%s", id, err.msg, res.http_status == HTTP_CONFLICT ?
		    " (the service holds another report under this id)" : "");
		bg_cli_print_escaped(stderr, "breakglass: " WHO ": ", msg);
		ru->failed++;
		ru->unreachable = bg_approval_unreachable(&res);
	} else if (bg_recovery_reported_add(ru->done, id, res.url, time(NULL), &err) != BG_OK) {
		bg_cli_print_escaped(stderr, "breakglass: " WHO ": filed but not recorded: ",
		    err.msg);
		ru->failed++;
	} else {
		bg_cli_print_escaped(stdout, "reported ", id);
		ru->filed++;
	}
	bg_approval_result_free(&res);
	free(body);
}

static void
report_all(run *ru, json_object *model)
{
	json_object *incidents, *list;

	if (!json_object_object_get_ex(model, "incidents", &incidents))
		return;
	for (size_t i = 0; i < json_object_array_length(incidents); i++) {
		if (!json_object_object_get_ex(json_object_array_get_idx(incidents, i),
		    "recoveries", &list))
			continue;
		for (size_t k = 0; k < json_object_array_length(list); k++) {
			json_object *r = json_object_array_get_idx(list, k);
			const char *outcome = bg_json_member_cstring(r, "outcome");

			/* One unreachable service is one timeout, not one per grant. */
			if (ru->unreachable)
				return;
			if (outcome != NULL && strcmp(outcome, "granted") == 0)
				report_one(ru, r);
		}
	}
}

int
bg_cmd_recovery_report(const struct bg_cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bg_report_filter all = { NULL, 0, 0 };
	struct bg_cli_journals j;
	bg_verify_result vres;
	json_object *model = NULL;
	run ru = { 0 };
	bg_error err;
	bool verified;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "nh", options, NULL)) != -1) {
		switch (c) {
		case 'n': ru.dry_run = true; break;
		case 'h': usage(stdout); return BG_EXIT_OK;
		default: usage(stderr); return BG_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return BG_EXIT_USAGE;
	}
	if (bg_cli_journals_open(cli, 0, NULL, NULL, NULL, &j, WHO) != BG_OK)
		return BG_EXIT_USAGE;
	ru.cfg = &j.cfg;
	/* A broken chain still yields what precedes it: those grants are reported too. */
	verified = bg_cli_journals_verify(&j, false, &vres) == BG_OK;
	if (!verified)
		bg_cli_print_escaped(stderr, "breakglass: " WHO ": the journal does not verify, "
		    "reporting the records before the break: ", vres.reason);
	if (bg_report_build((const char *const *)j.files, j.nfiles, &all, &vres, verified,
	    &model, &err) != BG_OK ||
	    bg_recovery_reported_open(j.cfg.general.state_dir, &ru.done, &err) != BG_OK) {
		bg_cli_print_escaped(stderr, "breakglass: " WHO ": ", err.msg);
		json_object_put(model);
		bg_cli_journals_close(&j);
		return BG_EXIT_USAGE;
	}
	report_all(&ru, model);
	bg_recovery_reported_close(ru.done);
	json_object_put(model);
	bg_cli_journals_close(&j);
	if (!ru.dry_run)
		printf("%u recovery grant(s) reported, %u failed%s\n", ru.filed, ru.failed,
		    ru.unreachable ? "; the service did not answer, the rest waits for the "
		    "next run" : "");
	return ru.failed > 0 || !verified ? BG_EXIT_FAIL : BG_EXIT_OK;
}
