/*
 * POST /v1/recoveries (protocol R1, docs/protocol.md section 11.6): a host
 * files, after the fact, each break-glass grant it issued offline from
 * recovery codes.  Signed and checked like every host call; the body is
 * validated strictly (exact members, the same detail rules as the codes);
 * the report is stored once per (host, recovery_id), journaled
 * (recovery.reported) and notified in the same transaction.  Idempotent: the
 * same body gets the same answer, another body under the same id 409.
 */
#include "build_config.h"

#include <string.h>
#include <time.h>

#include <microhttpd.h>

#include "approvald.h"
#include "bodies.h"
#include "json_string.h"
#include "recovery.h"
#include "timeparse.h"

/* A grant names at most this many approvers (bg_grant's bound). */
#define APPROVERS_MAX 16

static const ad_member report_members[] = {
	{ "recovery_id", T_STRING }, { "host", T_STRING }, { "account", T_STRING },
	{ "operator", T_STRING }, { "incident", T_STRING }, { "scope", T_STRING },
	{ "challenge", T_STRING }, { "approvers", T_ARRAY }, { "signals_state", T_STRING },
	{ "issued_at", T_STRING }, { "expires_at", T_STRING },
};

static const ad_member approval_members[] = {
	{ "approver", T_STRING }, { "at", T_STRING },
};

#define NMEMBERS(a) (sizeof(a) / sizeof((a)[0]))

static bool
utc_time(const char *s, time_t *out)
{
	return bg_time_parse_rfc3339(s, out, NULL) == BG_OK;
}

/* Distinct names with their times, none the operator's. */
static const char *
approvers_problem(json_object *list, const char *operator_name)
{
	size_t n = json_object_array_length(list);
	const char *bad = NULL;
	time_t t;

	if (n == 0 || n > APPROVERS_MAX)
		return "approvers: 1 to 16 entries";
	for (size_t i = 0; i < n; i++) {
		json_object *a = json_object_array_get_idx(list, i);
		const char *name;

		if (!ad_members_ok(a, approval_members, NMEMBERS(approval_members), &bad))
			return "approvers: each entry is {\"approver\", \"at\"}";
		name = bg_json_member_cstring(a, "approver");
		if (!bg_name_valid(name) || !utc_time(bg_json_member_cstring(a, "at"), &t))
			return "approvers: a name and an RFC 3339 UTC time";
		if (bg_name_equal(name, operator_name))
			return "approvers: the operator cannot approve";
		for (size_t j = 0; j < i; j++)
			if (bg_name_equal(name, bg_json_member_cstring(json_object_array_get_idx(list, j),
			    "approver")))
				return "approvers: must be distinct";
	}
	return NULL;
}

const char *
ad_recovery_problem(const char *host, json_object *doc)
{
	char challenge[BG_RECOVERY_CHALLENGE_LEN + 1];
	const char *bad = NULL, *state;
	bg_recovery_details d;
	time_t issued, expires;

	if (!ad_members_ok(doc, report_members, NMEMBERS(report_members), &bad))
		return bad;
	if (strcmp(bg_json_member_cstring(doc, "host"), host) != 0)
		return "host is not yours";
	d.host = bg_json_member_cstring(doc, "host");
	d.account = bg_json_member_cstring(doc, "account");
	d.operator_name = bg_json_member_cstring(doc, "operator");
	d.incident = bg_json_member_cstring(doc, "incident");
	d.scope = bg_json_member_cstring(doc, "scope");
	/* What the codes approved: the same rules as when they were computed. */
	if (bg_recovery_details_check(&d, NULL) != BG_OK)
		return "host, account, operator, incident and scope: printable ASCII "
		    "without ':', 1 to 255 bytes";
	if (!bg_name_valid(d.account) || !bg_name_valid(d.operator_name) || !bg_name_valid(d.scope))
		return "account, operator and scope must be names";
	if (bg_recovery_challenge_parse(bg_json_member_cstring(doc, "challenge"), challenge, NULL) !=
	    BG_OK || strcmp(challenge, bg_json_member_cstring(doc, "challenge")) != 0)
		return "challenge: 8 characters of the base32 alphabet";
	if (strncmp(bg_json_member_cstring(doc, "recovery_id"), BG_RECOVERY_REQUEST_PREFIX,
	    strlen(BG_RECOVERY_REQUEST_PREFIX)) != 0 ||
	    strcmp(bg_json_member_cstring(doc, "recovery_id") + strlen(BG_RECOVERY_REQUEST_PREFIX),
	    challenge) != 0)
		return "recovery_id: \"R1-\" and the challenge";
	if ((bad = approvers_problem(json_object_object_get(doc, "approvers"),
	    d.operator_name)) != NULL)
		return bad;
	state = bg_json_member_cstring(doc, "signals_state");
	if (strcmp(state, "firing") != 0 && strcmp(state, "quiet") != 0 &&
	    strcmp(state, "unreachable") != 0)
		return "signals_state: firing, quiet or unreachable";
	if (!utc_time(bg_json_member_cstring(doc, "issued_at"), &issued) ||
	    !utc_time(bg_json_member_cstring(doc, "expires_at"), &expires) || expires < issued)
		return "issued_at and expires_at: RFC 3339 UTC times, in order";
	return NULL;
}

static void
answer(ad_response *res, const ad_request *rec)
{
	ad_answer_created(res, "recovery_id", rec->id, "reported", "reported_at",
	    rec->received_ms);
}

bg_event *
ad_recovery_event(const ad_app *app, const char *source, const ad_request *rec,
    json_object *doc)
{
	static const char *const fields[] = {
		"scope", "challenge", "signals_state", "issued_at", "expires_at",
	};
	bg_event *ev = ad_event_new(app, "recovery.reported", "success", rec, NULL, source);

	if (ev == NULL)
		return NULL;
	for (size_t i = 0; i < NMEMBERS(fields); i++)
		bg_event_add_str(ev, fields[i], bg_json_member_cstring(doc, fields[i]));
	bg_event_add_json(ev, "approvers",
	    json_object_get(json_object_object_get(doc, "approvers")));
	return ev;
}

/* Stores, journals and notifies a new report, all in the host call's transaction. */
static bg_status
record(ad_http_req *r, const ad_request *rec, json_object *doc, ad_response *res,
    bg_error *err)
{
	bg_event *ev = ad_recovery_event(r->app, r->source, rec, doc);
	bg_status rc;

	if (ev == NULL)
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	rc = ad_store_recovery_insert(r->app->store, rec, err);
	if (rc == BG_OK)
		rc = bg_audit_emit(&r->app->audit, ev, err);
	if (rc == BG_OK)
		rc = ad_notify_recovery(r->app, doc, r->now_ms, err);
	bg_event_free(ev);
	if (rc == BG_OK)
		answer(res, rec);
	return rc;
}

static bg_status
report(ad_http_req *r, const ad_config_host *host, const char *unused, ad_response *res,
    bg_error *err)
{
	ad_request rec, old = { 0 };
	const char *problem;
	json_object *doc;
	bg_status rc = BG_OK;

	if ((doc = ad_host_filing_body(r, host, res)) == NULL)
		return BG_OK;
	if (json_object_is_type(doc, json_type_object) && bg_json_member_cstring(doc, "host") != NULL &&
	    strcmp(bg_json_member_cstring(doc, "host"), host->meta.name) != 0)
		ad_response_error(res, MHD_HTTP_FORBIDDEN, "host is not yours");
	else if ((problem = ad_recovery_problem(host->meta.name, doc)) != NULL)
		ad_response_error(res, MHD_HTTP_BAD_REQUEST, problem);
	else if ((rc = ad_store_recovery_get(r->app->store, host->meta.name,
	    bg_json_member_cstring(doc, "recovery_id"), &old, err)) == BG_ERR_NOTFOUND) {
		ad_host_filed(r, host, doc, "recovery_id", "reported", &rec);
		/* Reported meanwhile on another instance: answered as a repeat. */
		if ((rc = record(r, &rec, doc, res, err)) == BG_ERR_DENIED)
			rc = ad_store_recovery_get(r->app->store, host->meta.name, rec.id,
			    &old, err);
	}
	if (rc == BG_OK && old.id != NULL) {
		if (old.body_len == r->body_len && memcmp(old.body, r->body, r->body_len) == 0)
			answer(res, &old);
		else
			ad_response_error(res, MHD_HTTP_CONFLICT,
			    "recovery_id exists with a different body");
		ad_request_clear(&old);
	}
	json_object_put(doc);
	return rc;
}

void
ad_host_recovery(ad_http_req *r, ad_response *res)
{
	ad_host_call(r, NULL, report, res);
}
