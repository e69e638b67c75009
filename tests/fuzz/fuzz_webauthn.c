/*
 * The WebAuthn verifier (common/webauthn.c) on what a client controls.  The
 * first byte chooses the ceremony; the rest is parts, each a 2-byte
 * big-endian length and its bytes (the last one cut short at the end of the
 * input): raw clientDataJSON and attestationObject (a registration) or raw
 * clientDataJSON, authenticatorData and signature (an assertion), each
 * base64url-encoded as a browser would send it, so the fuzzer explores the
 * JSON, CBOR and authenticator data themselves.
 *
 * - A refusal gives a reason.
 * - An accepted registration holds an accepted algorithm, the fixed
 *   credential id, and a public key within its bound.
 * - An assertion that reports a cloned authenticator is refused.
 */
#include "build_config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "webauthn.h"

#define PARTS_MAX 3

static const unsigned char challenge[BG_WEBAUTHN_CHALLENGE_LEN] = {
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
	17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
};
static const unsigned char cred_id[16] = {
	0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
	0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf,
};

/* The length-prefixed parts of data, each base64url-encoded (NULL: empty or absent). */
static void
split(const uint8_t *data, size_t size, char *parts[PARTS_MAX])
{
	size_t at = 0;

	for (size_t n = 0; n < PARTS_MAX && at + 2 <= size; n++) {
		size_t len = (size_t)data[at] << 8 | data[at + 1];

		at += 2;
		if (len > size - at)
			len = size - at;
		if (len > 0 && bg_base64url_encode(data + at, len, &parts[n], NULL) != BG_OK)
			fz_fail("base64url_encode failed");
		at += len;
	}
}

static void
registration(char *parts[PARTS_MAX], const bg_webauthn_rp *rp)
{
	bg_webauthn_credential cred;
	bg_error err = { { 0 } };
	char *id;

	if (bg_base64url_encode(cred_id, sizeof(cred_id), &id, NULL) != BG_OK)
		fz_fail("base64url_encode failed");
	if (bg_webauthn_verify_registration(rp, challenge, id, parts[0], parts[1], &cred,
	    &err) == BG_OK) {
		if (cred.alg != BG_WEBAUTHN_ES256 && cred.alg != BG_WEBAUTHN_EDDSA &&
		    cred.alg != BG_WEBAUTHN_RS256)
			fz_fail("registration accepted with algorithm %d", cred.alg);
		if (cred.id_len != sizeof(cred_id) || memcmp(cred.id, cred_id, sizeof(cred_id)))
			fz_fail("registration accepted for another credential id");
		if (cred.pubkey_len == 0 || cred.pubkey_len > sizeof(cred.pubkey))
			fz_fail("registration accepted with a %zu-byte key", cred.pubkey_len);
	} else if (err.msg[0] == '\0') {
		fz_fail("registration refused without a reason");
	}
	free(id);
}

static void
assertion(char *parts[PARTS_MAX], const bg_webauthn_rp *rp)
{
	/* A P-256 point (the generator): a key the fuzzer cannot sign for. */
	static const unsigned char g[64] = {
		0x6b, 0x17, 0xd1, 0xf2, 0xe1, 0x2c, 0x42, 0x47, 0xf8, 0xbc, 0xe6, 0xe5,
		0x63, 0xa4, 0x40, 0xf2, 0x77, 0x03, 0x7d, 0x81, 0x2d, 0xeb, 0x33, 0xa0,
		0xf4, 0xa1, 0x39, 0x45, 0xd8, 0x98, 0xc2, 0x96, 0x4f, 0xe3, 0x42, 0xe2,
		0xfe, 0x1a, 0x7f, 0x9b, 0x8e, 0xe7, 0xeb, 0x4a, 0x7c, 0x0f, 0x9e, 0x16,
		0x2b, 0xce, 0x33, 0x57, 0x6b, 0x31, 0x5e, 0xce, 0xcb, 0xb6, 0x40, 0x68,
		0x37, 0xbf, 0x51, 0xf5,
	};
	unsigned char uid[BG_WEBAUTHN_USER_ID_LEN] = { 0 };
	bg_webauthn_credential cred = { .id_len = sizeof(cred_id), .alg = BG_WEBAUTHN_ES256,
	    .pubkey_len = sizeof(g), .sign_count = 7 };
	bg_webauthn_assertion a;
	bg_webauthn_result res;
	bg_error err = { { 0 } };
	char *id;
	bg_status rc;

	memcpy(cred.id, cred_id, sizeof(cred_id));
	memcpy(cred.pubkey, g, sizeof(g));
	if (bg_base64url_encode(cred_id, sizeof(cred_id), &id, NULL) != BG_OK)
		fz_fail("base64url_encode failed");
	a = (bg_webauthn_assertion){ .id = id, .client_data_json = parts[0],
	    .authenticator_data = parts[1], .signature = parts[2], .user_handle = NULL };
	rc = bg_webauthn_verify_assertion(rp, challenge, uid, &cred, &a, &res, &err);
	if (rc != BG_OK && err.msg[0] == '\0')
		fz_fail("assertion refused without a reason");
	if (rc == BG_OK && res.clone_suspected)
		fz_fail("assertion accepted from a suspected clone");
	free(id);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const bg_webauthn_rp rp = { "bg.example.net", "https://bg.example.net" };
	char *parts[PARTS_MAX] = { NULL, NULL, NULL };
	unsigned char ch[BG_WEBAUTHN_CHALLENGE_LEN];

	if (size < 1)
		return 0;
	split(data + 1, size - 1, parts);
	if (parts[0] != NULL)
		(void)bg_webauthn_client_challenge(parts[0], ch, NULL);
	if (data[0] & 1)
		assertion(parts, &rp);
	else
		registration(parts, &rp);
	for (size_t i = 0; i < PARTS_MAX; i++)
		free(parts[i]);
	return 0;
}
