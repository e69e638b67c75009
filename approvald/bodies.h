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
#include "names.h"

/* A member a body must hold, and its JSON type. */
typedef enum { T_STRING, T_INT, T_ARRAY, T_STRING_OR_NULL, T_OBJECT } ad_member_type;
typedef struct {
	const char *name;
	ad_member_type type;
} ad_member;

/*
 * obj is an object holding exactly the n members listed, each of its type;
 * otherwise *bad says what is wrong.
 */
bool ad_members_ok(json_object *obj, const ad_member *m, size_t n, const char **bad);
/* The most bytes any string of a body may hold (docs/protocol.md, "Field sizes"). */
#define AD_FIELD_MAX 1024

/*
 * Any body (len bytes, NUL-terminated) in the one strict grammar of
 * common/json_body.h, every string at most AD_FIELD_MAX bytes; NULL with err
 * saying what is wrong otherwise.
 */
json_object *ad_body_parse(const char *body, size_t len, bg_error *err);
/* NULL when doc is a valid request to file under cfg; otherwise what is wrong with it. */
const char *ad_host_request_problem(const ad_config *cfg, json_object *doc);

/*
 * NULL when doc is a valid recovery report (protocol R1, POST /v1/recoveries)
 * from host; otherwise what is wrong with it.
 */
const char *ad_recovery_problem(const char *host, json_object *doc);

/*
 * A vote: {"approver": name, "totp": string or "webauthn": assertion object,
 * "comment": string (optional)}.
 */
typedef struct {
	char approver[BG_NAME_MAX + 1];   /* lowercased (names.h) */
	const char *totp;         /* NULL with webauthn */
	json_object *webauthn;    /* NULL with totp */
	const char *comment;      /* "" when absent */
} ad_vote_body;
/*
 * Parses a vote body (len bytes, NUL-terminated) into *doc, which v points
 * into; false with err saying why when it is not exactly a vote.  The caller
 * puts *doc either way.
 */
bool ad_vote_body_parse(const char *body, size_t len, json_object **doc, ad_vote_body *v,
    bg_error *err);

/* A batch: {"action", "requests", "confirm", "comment" (optional)} (batch.c). */
typedef struct {
	bool approve;
	const char *action;       /* "approve" or "deny" */
	const char *ids[AD_BATCH_MAX];  /* sorted bytewise, distinct */
	size_t n;                 /* 1 to AD_BATCH_MAX */
	json_object *confirm;     /* an object */
	const char *comment;      /* "" when absent */
} ad_batch_body;
/* Like ad_vote_body_parse, for a batch: b points into *doc. */
bool ad_batch_body_parse(const char *body, size_t len, json_object **doc, ad_batch_body *b,
    bg_error *err);

/*
 * The vote vb on request id, authenticated, in the transaction the caller
 * began (approverapi.c): res answers it as a single vote would be answered,
 * once the vote, its record and its decision are durable (at once, or when
 * its group is: votegroup.c).
 */
void ad_vote_cast(ad_http_req *r, const char *id, bool approve, const ad_vote_body *vb,
    ad_response *res);

/*
 * The journal events filing a body produces (approval.requested,
 * recovery.reported, approval.voted), from source about req filed from doc
 * (or the vote vb), naming app's instance; NULL when out of memory.  Exposed for tests/fuzz, which
 * checks that every accepted body journals lines `breakglass verify` reads.
 */
bg_event *ad_requested_event(const ad_app *app, const char *source, const ad_request *req,
    json_object *doc);
bg_event *ad_recovery_event(const ad_app *app, const char *source, const ad_request *rec,
    json_object *doc);
bg_event *ad_voted_event(const ad_app *app, const char *source, const ad_request *req,
    const ad_vote_body *vb,
    bool approve);

/* A Slack click (slack.c): the one action of a block_actions payload. */
typedef struct {
	json_object *user;        /* user.id, as the JSON string it is in doc */
	const char *user_id;
	const char *action;       /* approve | deny */
	const char *request_id;   /* the button's value */
	const char *response_url; /* NULL when absent */
} ad_slack_click;
/* Reads doc (the payload, parsed) into *c, which points into it; else says why not. */
const char *ad_slack_click_parse(json_object *doc, ad_slack_click *c);
/*
 * slack.link_issued (reason NULL) or slack.refused for click c, by approver
 * (NULL: no approver is that Slack user) about req (NULL: none found).
 */
bg_event *ad_slack_event(const ad_app *app, const char *source, const ad_request *req,
    const char *approver, const ad_slack_click *c, const char *reason);

#endif
