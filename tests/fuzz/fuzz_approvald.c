/*
 * The approval service's request-body parsers: the input is a body given
 * both to the host API's parser and validation of a filed request (against
 * a fixed configuration that knows approvers bob, carol and dave), to the
 * validation of a recovery report (protocol R1) and to the approver API's
 * vote parser.
 */
#include "build_config.h"

#include <stdlib.h>
#include <string.h>

#include "approvald.h"
#include "bodies.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static ad_config_approver approvers[] = {
		{ .meta = { .name = "bob" } },
		{ .meta = { .name = "carol" } },
		{ .meta = { .name = "dave" } },
	};
	static ad_config cfg = {
		.server = { .quorum = 1 },
		.approver = approvers,
		.napprover = sizeof(approvers) / sizeof(approvers[0]),
	};
	char *body;
	json_object *doc;
	ad_vote_body vote;
	bg_error err;

	if (size > AD_BODY_MAX)
		return 0;
	/* The HTTP layer hands handlers a NUL-terminated copy of the body. */
	body = fz_strndup(data, size);
	if ((doc = ad_body_parse(body, size, &err)) != NULL) {
		(void)ad_host_request_problem(&cfg, doc);
		(void)ad_recovery_problem("mx1.example.net", doc);
		json_object_put(doc);
	}
	if (ad_vote_body_parse(body, size, &doc, &vote, &err) &&
	    (vote.totp == NULL || vote.comment == NULL))
		fz_fail("a parsed vote lacks a member");
	json_object_put(doc);
	free(body);
	return 0;
}
