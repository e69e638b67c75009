/*
 * The approval client's checks of one poll answer (bg_approval_judge, the
 * code behind section 7 of docs/protocol.md) for a fixed request.  The
 * input's first line picks the X-Breakglass-Decision-Signature value:
 * "SIGN" signs the body with a fixed test service key, so the checks past
 * the signature run; "NONE" sends no header; anything else is the value as
 * is.  The rest is the body, where every "@NOW@" becomes the current time,
 * so that issued_at can pass the clock check.  Whatever the checks decide is
 * held against an independent reading of the body.
 */
#include "build_config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "approval.h"
#include "crypto.h"
#include "fuzz.h"
#include "journal.h"

#define REQUEST_ID "e462de88-fc4f-4358-b8df-1f3c5e57dafc"
#define NONCE "b4946c24df5e94729d67d3cd8c50ec88"
#define HOST "mx1.example.net"
#define ACCOUNT "breakglass"
#define OPERATOR "alice"
#define INCIDENT "INC-2041"
#define SCOPE "mail-queue"
#define TTL 3600UL
#define QUORUM 2UL
#define NOW_MARK "@NOW@"
#define SIG_PREFIX "ed25519="
/* Above bg_http's header cap (BG_HTTP_MAX_HEADER): room for any captured value. */
#define HEADER_MAX 1024
/* issued_at may be BG_APPROVAL_MAX_SKEW from the clock, read a little earlier. */
#define CLOCK_SLACK 60

/* The operator is designated too, so self-approval is reached past check 12. */
static char *approvers[] = { "bob", "carol", "dave", OPERATOR };
static char priv_path[PATH_MAX], pub_path[PATH_MAX];
static bg_config cfg;
static const bg_approval_request req = {
	.account = ACCOUNT, .operator_name = OPERATOR, .incident = INCIDENT,
	.reason = "Outbound spam", .scope = SCOPE, .ttl = TTL, .service = "sshd",
	.rhost = "192.0.2.10",
};

static void
setup(void)
{
	if (pub_path[0] != '\0')
		return;
	fz_service_key(priv_path, pub_path);
	cfg.approval.host_id = HOST;
	cfg.approval.service_key = pub_path;
	cfg.approval.approvers.items = approvers;
	cfg.approval.approvers.count = sizeof(approvers) / sizeof(approvers[0]);
	cfg.approval.quorum = QUORUM;
	cfg.approval.timeout = 60;
}

/* The body with every NOW_MARK replaced by the current time (malloc()ed). */
static char *
expand_now(const uint8_t *data, size_t size, size_t *len)
{
	const size_t mark = sizeof(NOW_MARK) - 1;
	char now[BG_RFC3339_MAX], *out;
	size_t i, n = 0, nmarks = 0;
	bg_error err;

	if (bg_time_now_rfc3339(now, sizeof(now), &err) != BG_OK)
		fz_fail("clock: %s", err.msg);
	for (i = 0; i + mark <= size; i++)
		if (memcmp(data + i, NOW_MARK, mark) == 0) {
			nmarks++;
			i += mark - 1;
		}
	if ((out = malloc(size + nmarks * strlen(now) + 1)) == NULL)
		fz_fail("out of memory");
	for (i = 0; i < size; ) {
		if (i + mark <= size && memcmp(data + i, NOW_MARK, mark) == 0) {
			memcpy(out + n, now, strlen(now));
			n += strlen(now);
			i += mark;
		} else
			out[n++] = (char)data[i++];
	}
	out[n] = '\0';
	*len = n;
	return out;
}

/* The fixed key's signature of body: Ed25519 is deterministic, and no other verifies. */
static void
sign(const char *body, size_t len, unsigned char sig[BG_ED25519_SIG_LEN])
{
	bg_error err;

	if (bg_ed25519_sign_file(priv_path, body, len, sig, &err) != BG_OK)
		fz_fail("signing: %s", err.msg);
}

static char *
signed_header(const char *body, size_t len)
{
	unsigned char sig[BG_ED25519_SIG_LEN];
	char *b64, *header;
	bg_error err;

	sign(body, len, sig);
	if (bg_base64_encode(sig, sizeof(sig), &b64, &err) != BG_OK)
		fz_fail("base64: %s", err.msg);
	if ((header = malloc(sizeof(SIG_PREFIX) + strlen(b64))) == NULL)
		fz_fail("out of memory");
	strcpy(header, SIG_PREFIX);
	strcat(header, b64);
	free(b64);
	return header;
}

static bool
member_is(json_object *o, const char *key, const char *want)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && fz_json_string_is(v, want);
}

static bool
same_json_strings(json_object *a, json_object *b)
{
	return json_object_get_string_len(a) == json_object_get_string_len(b) &&
	    memcmp(json_object_get_string(a), json_object_get_string(b),
	    (size_t)json_object_get_string_len(a)) == 0;
}

/* The body as one JSON object and nothing but blanks after it; NULL otherwise. */
static json_object *
reparse(const char *body, size_t len)
{
	json_tokener *tok = json_tokener_new();
	json_object *doc;
	size_t end;

	if (tok == NULL)
		fz_fail("out of memory");
	doc = json_tokener_parse_ex(tok, body, (int)len);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (doc != NULL && (!json_object_is_type(doc, json_type_object) || end > len ||
	    strspn(body + end, " \t\r\n") != len - end)) {
		json_object_put(doc);
		doc = NULL;
	}
	return doc;
}

/* The header's signature, decoded apart from crypto.c, is the fixed key's of body. */
static void
check_signature(const char *header, const char *body, size_t len)
{
	unsigned char want[BG_ED25519_SIG_LEN], got[HEADER_MAX];
	const char *b64;
	size_t b64_len;
	int n;

	if (header == NULL || strncmp(header, SIG_PREFIX, strlen(SIG_PREFIX)) != 0)
		fz_fail("approved without an ed25519 signature header");
	b64 = header + strlen(SIG_PREFIX);
	b64_len = strlen(b64);
	if (b64_len % 4 != 0 || b64_len > sizeof(got))
		fz_fail("approved with the signature \"%s\"", b64);
	n = EVP_DecodeBlock(got, (const unsigned char *)b64, (int)b64_len);
	/* EVP_DecodeBlock counts the padding as zero bytes. */
	n -= (b64_len > 0 && b64[b64_len - 1] == '=') + (b64_len > 1 && b64[b64_len - 2] == '=');
	sign(body, len, want);
	if (n != BG_ED25519_SIG_LEN || memcmp(got, want, sizeof(want)) != 0)
		fz_fail("approved without the service key's signature of the body");
}

/* Checks 8 and 12 to 14, again, on an approved decision and against res. */
static void
check_approval(json_object *d, const bg_approval_result *res)
{
	json_object *approvals, *denials, *ttl;
	time_t now = time(NULL);
	size_t i, j, k, n;

	if (!member_is(d, "status", "approved"))
		fz_fail("approved a decision whose status is not \"approved\"");
	if (!member_is(d, "request_id", REQUEST_ID) || !member_is(d, "nonce", NONCE) ||
	    !member_is(d, "host", HOST) || !member_is(d, "account", ACCOUNT) ||
	    !member_is(d, "operator", OPERATOR) || !member_is(d, "incident", INCIDENT) ||
	    !member_is(d, "scope", SCOPE))
		fz_fail("approved a decision bound to another request");
	if (!json_object_object_get_ex(d, "ttl", &ttl) ||
	    !json_object_is_type(ttl, json_type_int) ||
	    json_object_get_int64(ttl) <= 0 || (uint64_t)json_object_get_int64(ttl) > TTL ||
	    (uint64_t)json_object_get_int64(ttl) != res->ttl)
		fz_fail("approved a ttl outside 1..%lu or other than the decision's", TTL);
	if (res->issued_at < now - BG_APPROVAL_MAX_SKEW - CLOCK_SLACK ||
	    res->issued_at > now + BG_APPROVAL_MAX_SKEW + CLOCK_SLACK)
		fz_fail("approved a decision issued %lld s from now",
		    (long long)(res->issued_at - now));
	if (!json_object_object_get_ex(d, "denials", &denials) ||
	    !json_object_is_type(denials, json_type_array) ||
	    json_object_array_length(denials) != 0)
		fz_fail("approved a decision with denials");
	if (!json_object_object_get_ex(d, "approvals", &approvals) ||
	    !json_object_is_type(approvals, json_type_array))
		fz_fail("approved a decision without approvals");
	n = json_object_array_length(approvals);
	if (n < QUORUM || n != res->napprovers)
		fz_fail("approved with %zu approvals (quorum %lu), kept %zu", n, QUORUM,
		    res->napprovers);
	for (i = 0; i < n; i++) {
		json_object *who;

		if (!json_object_object_get_ex(json_object_array_get_idx(approvals, i), "approver",
		    &who) || !json_object_is_type(who, json_type_string))
			fz_fail("approval %zu has no approver", i);
		for (k = 0; k < sizeof(approvers) / sizeof(approvers[0]); k++)
			if (fz_json_string_is(who, approvers[k]))
				break;
		if (k == sizeof(approvers) / sizeof(approvers[0]))
			fz_fail("approved by an undesignated approver");
		if (fz_json_string_is(who, OPERATOR))
			fz_fail("the operator approved their own request");
		if (!fz_json_string_is(who, res->approvers[i]))
			fz_fail("approver %zu kept as \"%s\"", i, res->approvers[i]);
		for (j = 0; j < i; j++) {
			json_object *other;

			json_object_object_get_ex(json_object_array_get_idx(approvals, j),
			    "approver", &other);
			if (same_json_strings(who, other))
				fz_fail("an approver counted twice");
		}
	}
}

/* A refusal names one of the reasons a poll answer can have, and keeps nothing. */
static void
check_refusal(const bg_approval_result *res, const char *header, size_t len)
{
	static const char *const reasons[] = { "signature", "malformed", "mismatch", "denied",
		"expired", "unknown-approver", "self-approval", "quorum", "too-large" };
	size_t i;

	for (i = 0; res->reason != NULL && i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (strcmp(res->reason, reasons[i]) == 0)
			break;
	if (res->reason == NULL || i == sizeof(reasons) / sizeof(reasons[0]))
		fz_fail("refused with the reason %s", res->reason ? res->reason : "(none)");
	if (res->decision != NULL || res->decision_signature != NULL || res->napprovers != 0 ||
	    strcmp(res->request_id, REQUEST_ID) != 0)
		fz_fail("a refusal kept a decision or lost the request id");
	if (header == NULL && strcmp(res->reason, "signature") != 0 &&
	    !(len > BG_APPROVAL_MAX_BODY && strcmp(res->reason, "too-large") == 0))
		fz_fail("an unsigned answer refused as %s", res->reason);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t line_len = nl != NULL ? (size_t)(nl - data) : size, len;
	char *line = fz_strndup(data, line_len), *body, *header;
	bool approved, signs;
	bg_approval_result res;
	json_object *d;
	bg_error err;
	bg_status rc;

	setup();
	body = nl != NULL ? expand_now(nl + 1, size - line_len - 1, &len) :
	    expand_now(data, 0, &len);
	signs = strcmp(line, "SIGN") == 0;
	header = signs ? signed_header(body, len) : strcmp(line, "NONE") == 0 ? NULL :
	    strdup(line);
	if (strcmp(line, "NONE") != 0 && header == NULL)
		fz_fail("out of memory");
	rc = bg_approval_judge(&cfg, &req, REQUEST_ID, NONCE, body, len, header, &approved,
	    &res, &err);
	if (rc != BG_OK) {
		check_refusal(&res, header, len);
		if (signs && strcmp(res.reason, "signature") == 0)
			fz_fail("a body signed with the service key refused: %s", err.msg);
	} else {
		if (res.reason != NULL)
			fz_fail("a decision accepted with the reason %s", res.reason);
		if ((d = reparse(body, len)) == NULL)
			fz_fail("accepted a body that is not one JSON object");
		if (!approved) {
			if (!member_is(d, "status", "pending") || res.decision != NULL)
				fz_fail("a decision taken as pending is not");
		} else {
			check_signature(header, body, len);
			if (res.decision == NULL || strlen(res.decision) != len ||
			    memcmp(res.decision, body, len) != 0 ||
			    strcmp(res.decision_signature, header + strlen(SIG_PREFIX)) != 0)
				fz_fail("the kept decision is not the body and signature received");
			check_approval(d, &res);
		}
		json_object_put(d);
	}
	bg_approval_result_free(&res);
	free(header);
	free(body);
	free(line);
	return 0;
}
