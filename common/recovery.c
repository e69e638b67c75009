/* Offline recovery, protocol R1: key derivation, challenges and codes. */
#include "build_config.h"

#include <ctype.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fileio.h"
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

bg_status
bg_recovery_code(const unsigned char k_ah[BG_SHA256_LEN], const bg_recovery_details *d,
    const char *challenge, const char *approver, char out[BG_RECOVERY_CODE_LEN + 1],
    bg_error *err)
{
	const char *fields[] = { d->host, d->account, d->operator_name, d->incident, d->scope,
	    challenge, approver };
	static const char *const names[] = { "host", "account", "operator", "incident",
	    "scope", "challenge", "approver" };
	/* "R1:" and seven fields of at most BG_RECOVERY_FIELD_MAX bytes, each with its ':'. */
	char msg[sizeof(CODE_PREFIX) + 7 * (BG_RECOVERY_FIELD_MAX + 1)];
	unsigned char mac[BG_SHA256_LEN];
	unsigned offset;
	uint32_t bin;
	bg_status rc;
	int n;

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (!field_valid(fields[i]))
			return bg_error_set(err, BG_ERR_INVALID,
			    "recovery %s must be 1 to %d printable ASCII characters without ':'",
			    names[i], BG_RECOVERY_FIELD_MAX);
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
