/* Offline recovery, protocol R1: key derivation, challenges and codes. */
#include "build_config.h"

#include <ctype.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "config.h"
#include "fileio.h"
#include "grant.h"
#include "json_string.h"
#include "recovery.h"

#define HOST_KEY_LABEL "breakglass-recovery-host:"
#define CODE_PREFIX "R1:"
#define CODE_MODULUS 100000000U        /* 10^BG_RECOVERY_CODE_LEN */
#define GROUP_LEN 4                    /* characters before the dash */
#define CHALLENGE_BYTES 5              /* 40 bits, 8 base32 characters */
#define BASE32_BITS 5

static const char base32_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

bg_status
bg_recovery_host_key(const unsigned char k_a[BG_SHA256_LEN], const char *host_id,
    unsigned char k_ah[BG_SHA256_LEN], bg_error *err)
{
	char msg[sizeof(HOST_KEY_LABEL) + BG_RECOVERY_FIELD_MAX];
	int n;

	if (host_id == NULL || *host_id == '\0' || strlen(host_id) > BG_RECOVERY_FIELD_MAX)
		return bg_error_set(err, BG_ERR_INVALID, "host id must hold 1 to %d bytes",
		    BG_RECOVERY_FIELD_MAX);
	n = snprintf(msg, sizeof(msg), "%s%s", HOST_KEY_LABEL, host_id);
	return bg_hmac_sha256(k_a, BG_SHA256_LEN, msg, (size_t)n, k_ah, err);
}

bg_status
bg_recovery_challenge_new(char out[BG_RECOVERY_CHALLENGE_LEN + 1], bg_error *err)
{
	unsigned char rnd[CHALLENGE_BYTES];
	uint64_t bits = 0;
	bg_status rc;

	rc = bg_random_bytes(rnd, sizeof(rnd), err);
	if (rc != BG_OK)
		return rc;
	for (size_t i = 0; i < sizeof(rnd); i++)
		bits = bits << 8 | rnd[i];
	for (int i = BG_RECOVERY_CHALLENGE_LEN - 1; i >= 0; i--) {
		out[i] = base32_alphabet[bits & 0x1f];
		bits >>= BASE32_BITS;
	}
	out[BG_RECOVERY_CHALLENGE_LEN] = '\0';
	return BG_OK;
}

/*
 * "XXXX-XXXX" or "XXXXXXXX" between optional blanks, each X accepted by
 * keep (which may rewrite it): the shared reader of challenges and codes.
 */
static bool
parse_grouped(const char *text, char *out, int (*keep)(int c))
{
	size_t n = 0;

	while (*text == ' ' || *text == '\t')
		text++;
	for (; *text != '\0' && *text != ' ' && *text != '\t'; text++) {
		if (*text == '-' && n == GROUP_LEN && text[1] != '-')
			continue;
		if (n == BG_RECOVERY_CODE_LEN || (out[n] = (char)keep((unsigned char)*text)) == 0)
			return false;
		n++;
	}
	while (*text == ' ' || *text == '\t')
		text++;
	out[n] = '\0';
	return *text == '\0' && n == BG_RECOVERY_CODE_LEN;
}

static int
keep_base32(int c)
{
	c = toupper(c);
	return c != 0 && strchr(base32_alphabet, c) != NULL ? c : 0;
}

static int
keep_digit(int c)
{
	return c >= '0' && c <= '9' ? c : 0;
}

bg_status
bg_recovery_challenge_parse(const char *text, char out[BG_RECOVERY_CHALLENGE_LEN + 1],
    bg_error *err)
{
	if (!parse_grouped(text, out, keep_base32)) {
		out[0] = '\0';
		return bg_error_set(err, BG_ERR_INVALID,
		    "a challenge is 8 characters A-Z 2-7, as XXXX-XXXX");
	}
	return BG_OK;
}

bg_status
bg_recovery_code_parse(const char *text, char out[BG_RECOVERY_CODE_LEN + 1], bg_error *err)
{
	if (!parse_grouped(text, out, keep_digit)) {
		explicit_bzero(out, BG_RECOVERY_CODE_LEN + 1);
		return bg_error_set(err, BG_ERR_INVALID, "a code is 8 digits, as NNNN-NNNN");
	}
	return BG_OK;
}

void
bg_recovery_display(const char *canonical, char out[BG_RECOVERY_DISPLAY_LEN + 1])
{
	snprintf(out, BG_RECOVERY_DISPLAY_LEN + 1, "%.*s-%.*s", GROUP_LEN, canonical,
	    GROUP_LEN, canonical + GROUP_LEN);
}

static bool
field_valid(const char *s)
{
	size_t n;

	if (s == NULL || *s == '\0')
		return false;
	for (n = 0; s[n] != '\0'; n++)
		if ((unsigned char)s[n] < ' ' || (unsigned char)s[n] >= 0x7f || s[n] == ':')
			return false;
	return n <= BG_RECOVERY_FIELD_MAX;
}

/* The details, then the challenge and approver when given (not NULL). */
static bg_status
fields_check(const bg_recovery_details *d, const char *challenge, const char *approver,
    bg_error *err)
{
	const char *fields[] = { d->host, d->account, d->operator_name, d->incident, d->scope,
	    challenge, approver };
	static const char *const names[] = { "host", "account", "operator", "incident",
	    "scope", "challenge", "approver" };
	size_t n = challenge == NULL ? 5 : 7;

	for (size_t i = 0; i < n; i++)
		if (!field_valid(fields[i]))
			return bg_error_set(err, BG_ERR_INVALID,
			    "recovery %s must be 1 to %d printable ASCII characters without ':'",
			    names[i], BG_RECOVERY_FIELD_MAX);
	return BG_OK;
}

bg_status
bg_recovery_details_check(const bg_recovery_details *d, bg_error *err)
{
	return fields_check(d, NULL, NULL, err);
}

bg_status
bg_recovery_code(const unsigned char k_ah[BG_SHA256_LEN], const bg_recovery_details *d,
    const char *challenge, const char *approver, char out[BG_RECOVERY_CODE_LEN + 1],
    bg_error *err)
{
	/* "R1:" and seven fields of at most BG_RECOVERY_FIELD_MAX bytes, each with its ':'. */
	char msg[sizeof(CODE_PREFIX) + 7 * (BG_RECOVERY_FIELD_MAX + 1)];
	unsigned char mac[BG_SHA256_LEN];
	unsigned offset;
	uint32_t bin;
	bg_status rc;
	int n;

	if ((rc = fields_check(d, challenge, approver, err)) != BG_OK)
		return rc;
	if (strlen(challenge) != BG_RECOVERY_CHALLENGE_LEN)
		return bg_error_set(err, BG_ERR_INVALID, "recovery challenge is not canonical");
	n = snprintf(msg, sizeof(msg), CODE_PREFIX "%s:%s:%s:%s:%s:%s:%s", d->host,
	    d->account, d->operator_name, d->incident, d->scope, challenge, approver);
	rc = bg_hmac_sha256(k_ah, BG_SHA256_LEN, msg, (size_t)n, mac, err);
	if (rc != BG_OK)
		return rc;
	/* RFC 4226 section 5.3, with the last byte of the 32-byte HMAC. */
	offset = mac[BG_SHA256_LEN - 1] & 0x0f;
	bin = (uint32_t)(mac[offset] & 0x7f) << 24 | (uint32_t)mac[offset + 1] << 16 |
	    (uint32_t)mac[offset + 2] << 8 | (uint32_t)mac[offset + 3];
	explicit_bzero(mac, sizeof(mac));
	snprintf(out, BG_RECOVERY_CODE_LEN + 1, "%08u", (unsigned)(bin % CODE_MODULUS));
	return BG_OK;
}

bg_status
bg_recovery_key_path(const char *keys_dir, const char *approver, char *out, size_t outsz,
    bg_error *err)
{
	if (!bg_file_name_valid(approver))
		return bg_error_set(err, BG_ERR_INVALID,
		    "recovery approver name is not a safe file name");
	if ((size_t)snprintf(out, outsz, "%s/%s", keys_dir, approver) >= outsz)
		return bg_error_set(err, BG_ERR_INVALID, "%s: path too long", keys_dir);
	return BG_OK;
}

bg_status
bg_recovery_code_check(const char *keys_dir, const bg_recovery_details *d,
    const char *challenge, const char *approver, const char *code, bg_error *err)
{
	unsigned char k_ah[BG_SHA256_LEN];
	char path[PATH_MAX], want[BG_RECOVERY_CODE_LEN + 1];
	bg_status rc;
	bool match;

	rc = bg_recovery_key_path(keys_dir, approver, path, sizeof(path), err);
	if (rc != BG_OK)
		return rc;
	if (strlen(code) != BG_RECOVERY_CODE_LEN)
		return bg_error_set(err, BG_ERR_INVALID, "recovery code is not canonical");
	rc = bg_key_file_read(path, k_ah, err);
	if (rc != BG_OK)
		return rc;
	rc = bg_recovery_code(k_ah, d, challenge, approver, want, err);
	explicit_bzero(k_ah, sizeof(k_ah));
	if (rc != BG_OK)
		return rc;
	match = bg_ct_equal(want, code, BG_RECOVERY_CODE_LEN);
	explicit_bzero(want, sizeof(want));
	if (!match)
		return bg_error_set(err, BG_ERR_DENIED, "wrong recovery code for %s", approver);
	return BG_OK;
}

/* ---- the recovery grant's record ---------------------------------------- */

static bool
put(json_object *o, const char *key, json_object *v)
{
	if (v == NULL)
		return false;
	if (json_object_object_add(o, key, v) != 0) {
		json_object_put(v);
		return false;
	}
	return true;
}

bg_status
bg_recovery_record(const bg_recovery_details *d, const char *challenge,
    const bg_recovery_approval *a, size_t n, char **out, bg_error *err)
{
	json_object *o = json_object_new_object(), *arr = json_object_new_array();
	bool ok = o != NULL && arr != NULL;

	*out = NULL;
	ok = ok && put(o, "protocol", json_object_new_string("R1")) &&
	    put(o, "host", json_object_new_string(d->host)) &&
	    put(o, "account", json_object_new_string(d->account)) &&
	    put(o, "operator", json_object_new_string(d->operator_name)) &&
	    put(o, "incident", json_object_new_string(d->incident)) &&
	    put(o, "scope", json_object_new_string(d->scope)) &&
	    put(o, "challenge", json_object_new_string(challenge));
	for (size_t i = 0; ok && i < n; i++) {
		json_object *e = json_object_new_object();

		ok = e != NULL && json_object_array_add(arr, e) == 0 &&
		    put(e, "approver", json_object_new_string(a[i].approver)) &&
		    put(e, "code", json_object_new_string(a[i].code)) &&
		    put(e, "at", json_object_new_int64((int64_t)a[i].at));
		if (e != NULL && !ok && json_object_array_length(arr) <= i)
			json_object_put(e);
	}
	if (ok && put(o, "approvals", arr)) {
		arr = NULL;
		*out = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	}
	json_object_put(arr);
	json_object_put(o);
	if (*out == NULL)
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	return BG_OK;
}

static bool
member_is(json_object *o, const char *key, const char *want)
{
	const char *v = bg_json_member_cstring(o, key);

	return v != NULL && want != NULL && strcmp(v, want) == 0;
}

/* One approval of the record: a configured approver other than the operator, its code. */
static bg_status
check_approval(const struct bg_grant *g, const bg_config *cfg, json_object *e, size_t i,
    const bg_recovery_details *d, const char *challenge, bg_error *err)
{
	const char *who = bg_json_member_cstring(e, "approver");
	const char *code = bg_json_member_cstring(e, "code");
	json_object *at;

	if (who == NULL || code == NULL || !json_object_object_get_ex(e, "at", &at) ||
	    !json_object_is_type(at, json_type_int))
		return bg_error_set(err, BG_ERR_INVALID, "recovery approval %zu is malformed", i);
	if (i >= g->napprovers || strcmp(g->approvers[i], who) != 0)
		return bg_error_set(err, BG_ERR_INVALID,
		    "recovery approvals do not match the grant's approvers");
	if (!bg_strlist_contains(&cfg->recovery.approvers, who))
		return bg_error_set(err, BG_ERR_INVALID, "\"%s\" is not a recovery approver",
		    who);
	if (strcmp(who, g->operator_name) == 0)
		return bg_error_set(err, BG_ERR_INVALID, "the operator approved their own recovery");
	for (size_t j = 0; j < i; j++)
		if (strcmp(g->approvers[j], who) == 0)
			return bg_error_set(err, BG_ERR_INVALID, "\"%s\" counted twice", who);
	if (json_object_get_int64(at) > (int64_t)g->issued_at ||
	    json_object_get_int64(at) < (int64_t)g->issued_at -
	    (int64_t)cfg->recovery.challenge_ttl)
		return bg_error_set(err, BG_ERR_INVALID, "recovery code of %s accepted outside "
		    "the challenge's lifetime", who);
	return bg_recovery_code_check(cfg->recovery.keys_dir, d, challenge, who, code, err);
}

bg_status
bg_recovery_grant_check(const struct bg_grant *g, const bg_config *cfg, bg_error *err)
{
	bg_recovery_details d = { .host = g->host, .account = g->account,
	    .operator_name = g->operator_name, .incident = g->incident, .scope = g->scope };
	json_object *o, *arr;
	const char *challenge;
	bg_status rc = BG_OK;
	size_t n = 0;

	if (!bg_strlist_contains(&cfg->recovery.scopes, g->scope))
		return bg_error_set(err, BG_ERR_INVALID, "scope %s is not a recovery scope",
		    g->scope);
	o = json_tokener_parse(g->decision);
	challenge = o != NULL ? bg_json_member_cstring(o, "challenge") : NULL;
	if (challenge == NULL || !member_is(o, "protocol", "R1") ||
	    !json_object_object_get_ex(o, "approvals", &arr) ||
	    !json_object_is_type(arr, json_type_array))
		rc = bg_error_set(err, BG_ERR_INVALID, "recovery record is malformed");
	else if (!member_is(o, "host", d.host) || !member_is(o, "account", d.account) ||
	    !member_is(o, "operator", d.operator_name) ||
	    !member_is(o, "incident", d.incident) || !member_is(o, "scope", d.scope) ||
	    strncmp(g->request_id, BG_RECOVERY_REQUEST_PREFIX,
	    strlen(BG_RECOVERY_REQUEST_PREFIX)) != 0 ||
	    strcmp(g->request_id + strlen(BG_RECOVERY_REQUEST_PREFIX), challenge) != 0)
		rc = bg_error_set(err, BG_ERR_INVALID, "recovery record does not match the grant");
	else if ((n = json_object_array_length(arr)) < cfg->recovery.quorum ||
	    n != g->napprovers)
		rc = bg_error_set(err, BG_ERR_INVALID, "recovery record holds %zu approvals, "
		    "quorum %lu", n, cfg->recovery.quorum);
	for (size_t i = 0; rc == BG_OK && i < n; i++)
		rc = check_approval(g, cfg, json_object_array_get_idx(arr, i), i, &d, challenge,
		    err);
	json_object_put(o);
	return rc;
}
