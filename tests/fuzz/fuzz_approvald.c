/*
 * The approval service's request-body parsers: the input is a body given
 * both to the host API's parser and validation of a filed request (against
 * a fixed configuration that knows approvers bob, carol and dave), to the
 * validation of a recovery report (protocol R1), to the approver API's
 * vote parser, to the batch parser and to the reading of a Slack click's
 * payload.  The property: any input is refused, or the journal record its
 * filing writes (approval.requested, recovery.reported, approval.voted,
 * slack.link_issued, slack.refused) is a line the grammar of `breakglass
 * verify` accepts; an accepted batch holds distinct sorted ids whose
 * binding fits.
 */
#include "build_config.h"

#include <stdlib.h>
#include <string.h>

#include "approvald.h"
#include "bodies.h"
#include "fuzz.h"
#include "journal.h"
#include "journal_grammar.h"
#include "json_body.h"
#include "json_string.h"

/* A request on file, for the votes. */
static const char filed_body[] =
	"{\"request_id\":\"0d7e2b8c-5f1a-4c3e-9b2d-7a6f5e4d3c2b\",\"account\":\"breakglass\","
	"\"operator\":\"alice\",\"incident\":\"INC-1\",\"approvers\":[\"bob\",\"carol\"]}";

/* ev journals as one line the verifier's grammar reads; frees ev. */
static void
check_journaled(bg_event *ev, const char *what)
{
	static const unsigned char key[BG_SHA256_LEN], prev[BG_SHA256_LEN];
	static const yajl_callbacks nothing;
	const bg_journal j = { .path = "-", .state_path = "-", .host = "approvals" };
	unsigned char mac[BG_SHA256_LEN];
	bg_error err;
	bg_buf line;

	if (ev == NULL)
		fz_fail("%s: no event", what);
	bg_buf_init(&line, 0);
	if (bg_journal_format(&j, ev, 1, key, prev, &line, mac, &err) != BG_OK)
		fz_fail("%s accepted, but its record cannot be written: %s", what, err.msg);
	if (line.len == 0 || line.data[line.len - 1] != '\n' ||
	    !bg_journal_parse_line(&nothing, NULL, NULL, line.data, line.len - 1))
		fz_fail("%s accepted, and journaled as a line verify refuses: %s", what,
		    line.data);
	bg_buf_free(&line);
	bg_event_free(ev);
}

/* An accepted batch holds 1 to AD_BATCH_MAX distinct ids, sorted, whose binding fits. */
static void
check_batch(const char *body, size_t size)
{
	char binding[AD_BINDING_MAX];
	ad_batch_body b;
	json_object *doc;
	bg_error err;

	if (ad_batch_body_parse(body, size, &doc, &b, &err)) {
		if (b.n == 0 || b.n > AD_BATCH_MAX || b.comment == NULL || b.confirm == NULL)
			fz_fail("a parsed batch lacks a member");
		for (size_t i = 1; i < b.n; i++)
			if (strcmp(b.ids[i - 1], b.ids[i]) >= 0)
				fz_fail("a parsed batch's ids are not sorted and distinct");
		if (!ad_vote_binding(b.action, b.ids, b.n, binding, sizeof(binding)))
			fz_fail("a parsed batch's binding does not fit");
	}
	json_object_put(doc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static ad_config_approver approvers[] = {
		{ .meta = { .name = "bob" } },
		{ .meta = { .name = "carol" } },
		{ .meta = { .name = "dave" } },
	};
	static ad_config cfg = {
		.server = { .quorum = 1, .instance = (char *)"fuzz" },
		.approver = approvers,
		.napprover = sizeof(approvers) / sizeof(approvers[0]),
	};
	/* What the event builders read of the running service: its instance name. */
	static ad_app app = { .cfg = &cfg };
	char *body;
	json_object *doc;
	ad_vote_body vote;
	bg_error err;

	if (size > AD_BODY_MAX)
		return 0;
	/* The HTTP layer hands handlers a NUL-terminated copy of the body. */
	body = fz_strndup(data, size);
	if ((doc = ad_body_parse(body, size, &err)) != NULL) {
		ad_request filed = {
			.host = (char *)"mx1.example.net", .status = (char *)"pending",
			.body = body, .body_len = size,
		};

		if (ad_host_request_problem(&cfg, doc) == NULL) {
			filed.id = (char *)bg_json_member_cstring(doc, "request_id");
			filed.operator_name = (char *)bg_json_member_cstring(doc, "operator");
			check_journaled(ad_requested_event(&app, "192.0.2.1", &filed, doc),
			    "a filed request");
		}
		if (ad_recovery_problem("mx1.example.net", doc) == NULL) {
			filed.id = (char *)bg_json_member_cstring(doc, "recovery_id");
			filed.operator_name = (char *)bg_json_member_cstring(doc, "operator");
			check_journaled(ad_recovery_event(&app, "192.0.2.1", &filed, doc),
			    "a recovery report");
		}
		json_object_put(doc);
	}
	if (ad_vote_body_parse(body, size, &doc, &vote, &err)) {
		ad_request filed = {
			.id = (char *)"0d7e2b8c-5f1a-4c3e-9b2d-7a6f5e4d3c2b",
			.host = (char *)"mx1.example.net", .operator_name = (char *)"alice",
			.status = (char *)"pending", .body = (char *)filed_body,
			.body_len = sizeof(filed_body) - 1,
		};

		if ((vote.totp == NULL) == (vote.webauthn == NULL) || vote.comment == NULL)
			fz_fail("a parsed vote lacks a member");
		check_journaled(ad_voted_event(&app, "192.0.2.1", &filed, &vote, true), "a vote");
	}
	json_object_put(doc);
	check_batch(body, size);
	/* A Slack click's payload, as slack.c reads it once Slack's signature holds. */
	if ((doc = bg_json_body_parse(body, size, AD_BODY_MAX, &err)) != NULL) {
		ad_slack_click c;
		ad_request filed = {
			.id = (char *)"0d7e2b8c-5f1a-4c3e-9b2d-7a6f5e4d3c2b",
			.host = (char *)"mx1.example.net", .operator_name = (char *)"alice",
			.status = (char *)"pending", .body = (char *)filed_body,
			.body_len = sizeof(filed_body) - 1,
		};

		if (ad_slack_click_parse(doc, &c) == NULL) {
			if (c.user_id == NULL || c.action == NULL || c.request_id == NULL)
				fz_fail("a parsed click lacks a member");
			check_journaled(ad_slack_event(&app, "192.0.2.1", NULL, NULL, &c,
			    "unknown-user"), "a refused click");
			check_journaled(ad_slack_event(&app, "192.0.2.1", &filed, "bob", &c,
			    NULL), "a click given a link");
		}
		json_object_put(doc);
	}
	free(body);
	return 0;
}
