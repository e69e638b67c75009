/*
 * The approval protocol v1 client (docs/protocol.md): files a signed request
 * with the approval service, long-polls for the decision under one total
 * deadline, and accepts only a decision that passes every check of section 7.
 */
#ifndef BG_APPROVAL_H
#define BG_APPROVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <json-c/json.h>

#include "config.h"
#include "grant.h"
#include "status.h"

#define BG_APPROVAL_MAX_BODY (64 * 1024)
#define BG_UUID_LEN 36
/* Longest long poll the protocol allows (seconds). */
#define BG_APPROVAL_MAX_WAIT 30
/*
 * How far the decision's issued_at may be from the host's clock (seconds):
 * the same window bg_grant_validate allows between it and the grant's.
 */
#define BG_APPROVAL_MAX_SKEW BG_DECISION_MAX_SKEW

/* What the login asks for. */
typedef struct {
	const char *account;
	const char *operator_name;
	const char *incident;
	const char *reason;
	const char *scope;
	unsigned long ttl;          /* requested grant lifetime, seconds */
	const char *service;        /* PAM service */
	const char *rhost;          /* NULL: unknown */
	const char *tty;            /* NULL: unknown */
	json_object *signals;       /* borrowed array of firing signals; NULL: [] */
} bg_approval_request;

typedef struct {
	char request_id[BG_UUID_LEN + 1];  /* set once the request is built */
	/*
	 * Why the request was refused, as the journal records it: one of
	 * "signature", "mismatch", "quorum", "self-approval",
	 * "unknown-approver", "denied", "expired", "timeout", "http-status",
	 * "malformed", "too-large", "tls", "connect", or "internal" (a local
	 * failure: key file, memory).  NULL when approved.
	 */
	const char *reason;
	/*
	 * Whether the service answered at all: any HTTP answer but a 5xx (a
	 * filed request, a decision of any kind, a 4xx).  Kept on refusal.
	 */
	bool answered;
	long http_status;           /* of the last attempt's answer; 0 when none */
	/*
	 * Borrowed from the configuration's [approval] url list: the URL that
	 * answered last (NULL when none did), and every URL passed over after a
	 * connect, tls, timeout or 5xx failure, each once.  Kept on refusal.
	 */
	const char *url;
	const char *failed_urls[BG_APPROVAL_MAX_URLS];
	size_t nfailed_urls;
	/* On approval: */
	char *decision;             /* the signed body, verbatim (NUL-terminated) */
	char *decision_signature;   /* base64 */
	char *approvers[BG_GRANT_MAX_APPROVERS];
	size_t napprovers;
	unsigned long ttl;
	time_t issued_at;
} bg_approval_result;

/*
 * Told when the request is filed and after every pending answer, so the
 * operator knows what is going on: the request id, the URL that answered
 * and the seconds left.
 */
typedef void (*bg_approval_progress)(const char *request_id, const char *url,
    unsigned long seconds_left, void *arg);

/*
 * Runs the whole exchange with the service of cfg's [approval] within its
 * timeout, trying its URLs in order (docs/protocol.md section 2.1).  BG_OK
 * only for a decision that passed every check; otherwise an error with
 * res->reason set and the detail in err.
 */
bg_status bg_approval_run(const bg_config *cfg, const bg_approval_request *req,
    bg_approval_progress progress, void *arg, bg_approval_result *res, bg_error *err);

/*
 * Checks 5 to 14 of section 7 on one poll answer, without the network: the
 * same code bg_approval_run applies to each 200 answer, for the fuzz target
 * (tests/fuzz/fuzz_approval.c) and unit tests.  request_id and nonce stand
 * for the filed request's; body is the answer's bytes (may hold NULs);
 * signature_header is the X-Breakglass-Decision-Signature value as captured
 * (after the colon, blanks trimmed), NULL when absent.  BG_OK with *approved
 * for an approval (res filled as by bg_approval_run), BG_OK without it for a
 * pending decision; otherwise an error with res->reason set and the rest of
 * res freed, as bg_approval_run leaves it.
 */
bg_status bg_approval_judge(const bg_config *cfg, const bg_approval_request *req,
    const char *request_id, const char *nonce, const char *body, size_t body_len,
    const char *signature_header, bool *approved, bg_approval_result *res, bg_error *err);

/*
 * Whether a refused exchange means the service was unreachable: the
 * transfer failed (connect, tls, timeout) or answered 5xx at every URL, and
 * nothing else was ever answered.  Never true after a signed answer of any kind, nor for
 * a local failure.  Offline recovery (protocol R1) is offered only then.
 */
bool bg_approval_unreachable(const bg_approval_result *res);

/*
 * Whether the service of cfg's [approval] is reachable, without filing a
 * request: a signed poll of a fresh, never filed request_id under the same
 * deadline and transport rules as bg_approval_run.  BG_OK when the service
 * answered anything but a 5xx (res->answered); otherwise an error with
 * res->reason set, for bg_approval_unreachable.
 */
bg_status bg_approval_probe(const bg_config *cfg, bg_approval_result *res, bg_error *err);

/*
 * Files one offline recovery report (protocol R1, docs/protocol.md section
 * 11.6) with the service of cfg's [approval]: a signed POST of body to
 * {url}/recoveries under the same deadline and transport rules.  BG_OK only
 * for a 201 naming recovery_id; otherwise an error with res->reason set
 * ("http-status" with res->http_status 409 when the service holds another
 * body under that id).  Filing the same body again is answered the same.
 */
bg_status bg_approval_report_recovery(const bg_config *cfg, const char *recovery_id,
    const char *body, bg_approval_result *res, bg_error *err);

void bg_approval_result_free(bg_approval_result *res);

#endif
