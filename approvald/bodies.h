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

/* A member a body must hold, and its JSON type. */
typedef enum { T_STRING, T_INT, T_ARRAY, T_STRING_OR_NULL } ad_member_type;
typedef struct {
	const char *name;
	ad_member_type type;
} ad_member;

/*
 * obj is an object holding exactly the n members listed, each of its type;
 * otherwise *bad says what is wrong.
 */
bool ad_members_ok(json_object *obj, const ad_member *m, size_t n, const char **bad);
/* The string value of member name (NULL when absent or null). */
const char *ad_json_str(json_object *obj, const char *name);
/* YYYY-MM-DDTHH:MM:SS, an optional fraction, Z. */
bool ad_is_rfc3339(const char *s);
/* 1 to 64 of [A-Za-z0-9_.-], not starting with '-' or '.'. */
bool ad_is_name(const char *s);

/* Strict JSON, the whole body (len bytes, NUL-terminated), one value; NULL otherwise. */
json_object *ad_host_body_parse(const char *body, size_t len);
/* NULL when doc is a valid request to file under cfg; otherwise what is wrong with it. */
const char *ad_host_request_problem(const ad_config *cfg, json_object *doc);

/*
 * NULL when doc is a valid recovery report (protocol R1, POST /v1/recoveries)
 * from host; otherwise what is wrong with it.
 */
const char *ad_recovery_problem(const char *host, json_object *doc);

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
