/*
 * The strict request-body parsers of the host and approver APIs, declared
 * apart from the HTTP handlers that use them so tests/fuzz can drive them
 * with arbitrary bytes.
 */
#ifndef AD_BODIES_H
#define AD_BODIES_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "approvald.h"

/* Strict JSON, the whole body (len bytes, NUL-terminated), one value; NULL otherwise. */
json_object *ad_host_body_parse(const char *body, size_t len);
/* NULL when doc is a valid request to file under cfg; otherwise what is wrong with it. */
const char *ad_host_request_problem(const ad_config *cfg, json_object *doc);

/* A vote: {"approver": string, "totp": string, "comment": string (optional)}. */
typedef struct {
	const char *approver;
	const char *totp;
	const char *comment;      /* "" when absent */
} ad_vote_body;
/*
 * Parses a vote body (len bytes, NUL-terminated) into *doc, which v points
 * into; false when it is not exactly a vote.  The caller puts *doc either way.
 */
bool ad_vote_body_parse(const char *body, size_t len, json_object **doc, ad_vote_body *v);

#endif
