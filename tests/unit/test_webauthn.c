/*
 * Unit tests for common/webauthn.c.  The test is the authenticator: it
 * makes ES256, Ed25519 and RS256 keys with OpenSSL, writes
 * authenticatorData, the COSE key and the attestationObject's CBOR byte by
 * byte as the WebAuthn and CTAP2 specifications lay them out, and signs as
 * an authenticator does (authenticatorData ‖ SHA-256(clientDataJSON)).
 */
#include "build_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "crypto.h"
#include "webauthn.h"
#include "testutil.h"

#define RP_ID "bg.example.net"
#define ORIGIN "https://bg.example.net"
#define UP 0x01
#define UV 0x04
#define AT 0x40

typedef struct {
	EVP_PKEY *key;
	int alg;
	unsigned char cred_id[16];
} authn;

static const unsigned char challenge[BG_WEBAUTHN_CHALLENGE_LEN] = {
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
	17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
};
static const bg_webauthn_rp rp = { RP_ID, ORIGIN };

static void
authn_make(authn *a, int alg)
{
	a->alg = alg;
	a->key = alg == BG_WEBAUTHN_ES256 ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256") :
	    alg == BG_WEBAUTHN_RS256 ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048) :
	    EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	assert_non_null(a->key);
	for (size_t i = 0; i < sizeof(a->cred_id); i++)
		a->cred_id[i] = (unsigned char)(0xa0 + i + (alg == BG_WEBAUTHN_EDDSA) +
		    2 * (alg == BG_WEBAUTHN_RS256));
}

static char *
b64u(const void *data, size_t len)
{
	char *s;

	assert_int_equal(bg_base64url_encode(data, len, &s, NULL), BG_OK);
	return s;
}

/* The COSE_Key of a's public key (RFC 9053), CTAP2's canonical CBOR. */
static size_t
cose_key(const authn *a, unsigned char *out)
{
	unsigned char pub[65];
	size_t n = 0, len;

	if (a->alg == BG_WEBAUTHN_ES256) {
		assert_int_equal(EVP_PKEY_get_octet_string_param(a->key,
		    OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pub, sizeof(pub), &len), 1);
		assert_int_equal(len, 65);
		memcpy(out, "\xa5\x01\x02\x03\x26\x20\x01\x21\x58\x20", 10);
		n = 10;
		memcpy(out + n, pub + 1, 32);
		n += 32;
		memcpy(out + n, "\x22\x58\x20", 3);
		n += 3;
		memcpy(out + n, pub + 33, 32);
		return n + 32;
	}
	if (a->alg == BG_WEBAUTHN_RS256) {
		BIGNUM *nb = NULL, *eb = NULL;

		assert_int_equal(EVP_PKEY_get_bn_param(a->key, OSSL_PKEY_PARAM_RSA_N, &nb), 1);
		assert_int_equal(EVP_PKEY_get_bn_param(a->key, OSSL_PKEY_PARAM_RSA_E, &eb), 1);
		/* {1: 3 (RSA), 3: -257, -1: n (256 bytes), -2: e (3 bytes)} */
		memcpy(out, "\xa4\x01\x03\x03\x39\x01\x00\x20\x59\x01\x00", 11);
		assert_int_equal(BN_bn2binpad(nb, out + 11, 256), 256);
		memcpy(out + 267, "\x21\x43", 2);
		assert_int_equal(BN_bn2binpad(eb, out + 269, 3), 3);
		BN_free(nb);
		BN_free(eb);
		return 272;
	}
	len = 32;
	assert_int_equal(EVP_PKEY_get_raw_public_key(a->key, pub, &len), 1);
	memcpy(out, "\xa4\x01\x01\x03\x27\x20\x06\x21\x58\x20", 10);
	memcpy(out + 10, pub, 32);
	return 42;
}

/* authenticatorData for rp_id with flags and count; with the attested credential when AT. */
static size_t
auth_data(const authn *a, const char *rp_id, unsigned flags, uint32_t count,
    unsigned char *out)
{
	size_t n = BG_SHA256_LEN;

	assert_int_equal(bg_sha256(rp_id, strlen(rp_id), out, NULL), BG_OK);
	out[n++] = (unsigned char)flags;
	out[n++] = (unsigned char)(count >> 24);
	out[n++] = (unsigned char)(count >> 16);
	out[n++] = (unsigned char)(count >> 8);
	out[n++] = (unsigned char)count;
	if (flags & AT) {
		memset(out + n, 0, 16);            /* AAGUID */
		n += 16;
		out[n++] = 0;
		out[n++] = sizeof(a->cred_id);
		memcpy(out + n, a->cred_id, sizeof(a->cred_id));
		n += sizeof(a->cred_id);
		n += cose_key(a, out + n);
	}
	return n;
}

static char *
client_data(const char *type, const unsigned char *chal, const char *origin,
    const char *extra)
{
	char *c = b64u(chal, BG_WEBAUTHN_CHALLENGE_LEN), json[512], *out;

	snprintf(json, sizeof(json), "{\"type\":\"%s\",\"challenge\":\"%s\",\"origin\":\"%s\"%s}",
	    type, c, origin, extra);
	out = b64u(json, strlen(json));
	free(c);
	return out;
}

/* {"fmt": "none", "attStmt": {}, "authData": ad} */
static char *
att_obj(const unsigned char *ad, size_t len)
{
	unsigned char buf[1024];
	size_t n = 0;

	memcpy(buf, "\xa3\x63" "fmt" "\x64" "none" "\x67" "attStmt" "\xa0" "\x68" "authData",
	    1 + 4 + 5 + 8 + 1 + 9);
	n = 28;
	buf[n++] = 0x59;
	buf[n++] = (unsigned char)(len >> 8);
	buf[n++] = (unsigned char)len;
	memcpy(buf + n, ad, len);
	return b64u(buf, n + len);
}

static bg_status
do_register(const authn *a, const char *cdj, const char *obj, bg_webauthn_credential *cred,
    bg_error *err)
{
	char *id = b64u(a->cred_id, sizeof(a->cred_id));
	bg_status rc = bg_webauthn_verify_registration(&rp, challenge, id, cdj, obj, cred, err);

	free(id);
	return rc;
}

static void
registered(const authn *a, bg_webauthn_credential *cred)
{
	unsigned char ad[512];
	size_t n = auth_data(a, RP_ID, UP | UV | AT, 0, ad);
	char *cdj = client_data("webauthn.create", challenge, ORIGIN, ",\"crossOrigin\":false");
	char *obj = att_obj(ad, n);
	bg_error err;

	assert_int_equal(do_register(a, cdj, obj, cred, &err), BG_OK);
	assert_int_equal(cred->alg, a->alg);
	assert_int_equal(cred->id_len, sizeof(a->cred_id));
	free(cdj);
	free(obj);
}

/* An assertion of a over ad and the clientDataJSON cdj; corrupt flips a signature bit. */
static void
assertion(const authn *a, const unsigned char *ad, size_t ad_len, const char *cdj,
    bool corrupt, bg_webauthn_assertion *out)
{
	unsigned char *cd, msg[600], sig[512];
	size_t cd_len, sig_len = sizeof(sig);
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	assert_int_equal(bg_base64url_decode(cdj, 4096, &cd, &cd_len, NULL), BG_OK);
	memcpy(msg, ad, ad_len);
	assert_int_equal(bg_sha256(cd, cd_len, msg + ad_len, NULL), BG_OK);
	free(cd);
	assert_int_equal(EVP_DigestSignInit(md, NULL, a->alg == BG_WEBAUTHN_EDDSA ?
	    NULL : EVP_sha256(), NULL, a->key), 1);
	assert_int_equal(EVP_DigestSign(md, sig, &sig_len, msg, ad_len + BG_SHA256_LEN), 1);
	EVP_MD_CTX_free(md);
	if (corrupt)
		sig[sig_len - 1] ^= 1;
	out->id = b64u(a->cred_id, sizeof(a->cred_id));
	out->client_data_json = strdup(cdj);
	out->authenticator_data = b64u(ad, ad_len);
	out->signature = b64u(sig, sig_len);
	out->user_handle = NULL;
}

static void
assertion_free(bg_webauthn_assertion *as)
{
	free((char *)as->id);
	free((char *)as->client_data_json);
	free((char *)as->authenticator_data);
	free((char *)as->signature);
	free((char *)as->user_handle);
}

typedef struct {
	const char *rp_id;
	unsigned flags;
	uint32_t count;
	const char *type;
	const unsigned char *chal;
	const char *origin;
	const char *extra;
	bool corrupt;
} variant;

static const variant good = { RP_ID, UP | UV, 7, "webauthn.get", challenge, ORIGIN, "",
    false };

/* Verifies an assertion of a variant against cred; returns the status and the result. */
static bg_status
verify(const authn *a, const bg_webauthn_credential *cred, const variant *v,
    bg_webauthn_result *res, bg_error *err)
{
	unsigned char ad[512], uid[BG_WEBAUTHN_USER_ID_LEN];
	size_t n = auth_data(a, v->rp_id, v->flags, v->count, ad);
	char *cdj = client_data(v->type, v->chal, v->origin, v->extra);
	bg_webauthn_assertion as;
	bg_status rc;

	assertion(a, ad, n, cdj, v->corrupt, &as);
	assert_int_equal(bg_webauthn_user_id("bob", uid, NULL), BG_OK);
	rc = bg_webauthn_verify_assertion(&rp, challenge, uid, cred, &as, res, err);
	assertion_free(&as);
	free(cdj);
	return rc;
}

static void
test_algorithms(void **state)
{
	static const int algs[] = { BG_WEBAUTHN_ES256, BG_WEBAUTHN_EDDSA, BG_WEBAUTHN_RS256 };

	(void)state;
	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		authn a;
		bg_webauthn_credential cred;
		bg_webauthn_result res;
		bg_error err;

		authn_make(&a, algs[i]);
		registered(&a, &cred);
		assert_int_equal(verify(&a, &cred, &good, &res, &err), BG_OK);
		assert_int_equal(res.sign_count, 7);
		assert_false(res.clone_suspected);
		EVP_PKEY_free(a.key);
	}
}

/* Each variant differs from good in one thing the relying party must refuse. */
static void
test_assertion_refusals(void **state)
{
	static const unsigned char other[BG_WEBAUTHN_CHALLENGE_LEN] = { 9 };
	variant v[] = { good, good, good, good, good, good, good, good, good };
	static const char *const why[] = {
		"signature does not verify", "rpIdHash", "user not verified",
		"user not present", "origin", "type", "not our challenge", "cross-origin",
		"origin",
	};
	authn a;
	bg_webauthn_credential cred;
	bg_webauthn_result res;
	bg_error err;

	(void)state;
	v[0].corrupt = true;
	v[1].rp_id = "evil.example.net";
	v[2].flags = UP;
	v[3].flags = UV;
	v[4].origin = "https://bg.example.net.evil.example";
	v[5].type = "webauthn.create";
	v[6].chal = other;
	v[7].extra = ",\"crossOrigin\":true";
	v[8].origin = "http://bg.example.net";
	authn_make(&a, BG_WEBAUTHN_ES256);
	registered(&a, &cred);
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		err.msg[0] = '\0';
		assert_int_not_equal(verify(&a, &cred, &v[i], &res, &err), BG_OK);
		if (strstr(err.msg, why[i]) == NULL)
			fail_msg("variant %zu: %s", i, err.msg);
		assert_false(res.clone_suspected);
	}
	EVP_PKEY_free(a.key);
}

static void
test_counter(void **state)
{
	variant v = good;
	authn a;
	bg_webauthn_credential cred;
	bg_webauthn_result res;
	bg_error err;

	(void)state;
	authn_make(&a, BG_WEBAUTHN_EDDSA);
	registered(&a, &cred);
	/* Both zero: an authenticator without a counter. */
	v.count = 0;
	assert_int_equal(verify(&a, &cred, &v, &res, &err), BG_OK);
	cred.sign_count = 7;
	/* Equal or lower: a copy of the key signed since. */
	for (uint32_t c = 0; c <= 7; c += 7) {
		v.count = c;
		assert_int_equal(verify(&a, &cred, &v, &res, &err), BG_ERR_DENIED);
		assert_true(res.clone_suspected);
		assert_non_null(strstr(err.msg, "cloned"));
	}
	v.count = 8;
	assert_int_equal(verify(&a, &cred, &v, &res, &err), BG_OK);
	assert_int_equal(res.sign_count, 8);
	EVP_PKEY_free(a.key);
}

static void
test_credential_and_user(void **state)
{
	unsigned char ad[512], uid[BG_WEBAUTHN_USER_ID_LEN], carol[BG_WEBAUTHN_USER_ID_LEN];
	authn a, b;
	bg_webauthn_credential cred;
	bg_webauthn_assertion as;
	bg_webauthn_result res;
	bg_error err;
	size_t n;
	char *cdj;

	(void)state;
	authn_make(&a, BG_WEBAUTHN_ES256);
	authn_make(&b, BG_WEBAUTHN_ES256);
	b.cred_id[0] ^= 0xff;
	registered(&a, &cred);
	assert_int_equal(bg_webauthn_user_id("bob", uid, NULL), BG_OK);
	assert_int_equal(bg_webauthn_user_id("carol", carol, NULL), BG_OK);
	assert_memory_not_equal(uid, carol, sizeof(uid));
	n = auth_data(&a, RP_ID, UP | UV, 1, ad);
	cdj = client_data("webauthn.get", challenge, ORIGIN, "");
	/* Another credential's assertion against a's. */
	assertion(&b, ad, n, cdj, false, &as);
	assert_int_equal(bg_webauthn_verify_assertion(&rp, challenge, uid, &cred, &as, &res,
	    &err), BG_ERR_DENIED);
	assertion_free(&as);
	/* b's key under a's id. */
	memcpy(b.cred_id, a.cred_id, sizeof(b.cred_id));
	assertion(&b, ad, n, cdj, false, &as);
	assert_int_equal(bg_webauthn_verify_assertion(&rp, challenge, uid, &cred, &as, &res,
	    &err), BG_ERR_DENIED);
	assertion_free(&as);
	/* The user handle: the approver's passes, another's is refused. */
	assertion(&a, ad, n, cdj, false, &as);
	as.user_handle = b64u(uid, sizeof(uid));
	assert_int_equal(bg_webauthn_verify_assertion(&rp, challenge, uid, &cred, &as, &res,
	    &err), BG_OK);
	assert_int_equal(bg_webauthn_verify_assertion(&rp, challenge, carol, &cred, &as, &res,
	    &err), BG_ERR_DENIED);
	assert_non_null(strstr(err.msg, "userHandle"));
	assertion_free(&as);
	free(cdj);
	EVP_PKEY_free(a.key);
	EVP_PKEY_free(b.key);
}

static void
test_registration_refusals(void **state)
{
	unsigned char ad[512];
	authn a;
	bg_webauthn_credential cred;
	bg_error err;
	size_t n;
	char *good_cdj, *cdj, *obj;

	(void)state;
	authn_make(&a, BG_WEBAUTHN_ES256);
	good_cdj = client_data("webauthn.create", challenge, ORIGIN, "");
	/* UV missing, another RP, no attested credential. */
	n = auth_data(&a, RP_ID, UP | AT, 0, ad);
	obj = att_obj(ad, n);
	assert_int_equal(do_register(&a, good_cdj, obj, &cred, &err), BG_ERR_DENIED);
	assert_non_null(strstr(err.msg, "not verified"));
	free(obj);
	n = auth_data(&a, "evil.example.net", UP | UV | AT, 0, ad);
	obj = att_obj(ad, n);
	assert_int_equal(do_register(&a, good_cdj, obj, &cred, &err), BG_ERR_DENIED);
	free(obj);
	n = auth_data(&a, RP_ID, UP | UV, 0, ad);
	obj = att_obj(ad, n);
	assert_int_not_equal(do_register(&a, good_cdj, obj, &cred, &err), BG_OK);
	free(obj);
	/* The assertion's type, or another origin, in a registration. */
	n = auth_data(&a, RP_ID, UP | UV | AT, 0, ad);
	obj = att_obj(ad, n);
	cdj = client_data("webauthn.get", challenge, ORIGIN, "");
	assert_int_equal(do_register(&a, cdj, obj, &cred, &err), BG_ERR_DENIED);
	free(cdj);
	cdj = client_data("webauthn.create", challenge, "https://evil.example.net", "");
	assert_int_equal(do_register(&a, cdj, obj, &cred, &err), BG_ERR_DENIED);
	free(cdj);
	/* An id other than the attested credential's. */
	a.cred_id[3] ^= 1;
	assert_int_equal(do_register(&a, good_cdj, obj, &cred, &err), BG_ERR_DENIED);
	a.cred_id[3] ^= 1;
	assert_int_equal(do_register(&a, good_cdj, obj, &cred, &err), BG_OK);
	free(obj);
	free(good_cdj);
	EVP_PKEY_free(a.key);
}

/* Truncated and garbage CBOR, JSON and authenticatorData: refused, never a crash. */
static void
test_malformed(void **state)
{
	static const char *const bad_json[] = {
		"", "{", "[]", "null", "{\"type\":\"webauthn.create\",\"type\":\"x\"}",
		"{\"type\":1}", "\xff\xfe",
	};
	unsigned char ad[512], buf[1024], *raw;
	authn a;
	bg_webauthn_credential cred;
	bg_webauthn_assertion as;
	bg_webauthn_result res;
	bg_error err;
	size_t n, raw_len;
	char *cdj, *obj, *bad;

	(void)state;
	authn_make(&a, BG_WEBAUTHN_ES256);
	cdj = client_data("webauthn.create", challenge, ORIGIN, "");
	n = auth_data(&a, RP_ID, UP | UV | AT, 0, ad);
	obj = att_obj(ad, n);
	assert_int_equal(bg_base64url_decode(obj, 4096, &raw, &raw_len, NULL), BG_OK);
	/* Every truncation of the attestationObject, and of its authData. */
	for (size_t cut = 1; cut < raw_len; cut += 3) {
		bad = b64u(raw, cut);
		assert_int_not_equal(do_register(&a, cdj, bad, &cred, &err), BG_OK);
		free(bad);
	}
	for (size_t cut = 1; cut < n; cut += 5) {
		bad = att_obj(ad, cut);
		assert_int_not_equal(do_register(&a, cdj, bad, &cred, &err), BG_OK);
		free(bad);
	}
	/* Garbage: a CBOR array, bytes after the map, random bytes. */
	memcpy(buf, raw, raw_len);
	buf[0] = 0x83;
	bad = b64u(buf, raw_len);
	assert_int_not_equal(do_register(&a, cdj, bad, &cred, &err), BG_OK);
	free(bad);
	buf[0] = raw[0];
	buf[raw_len] = 0;
	bad = b64u(buf, raw_len + 1);
	assert_int_not_equal(do_register(&a, cdj, bad, &cred, &err), BG_OK);
	free(bad);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 131 + 7);
	bad = b64u(buf, sizeof(buf));
	assert_int_not_equal(do_register(&a, cdj, bad, &cred, &err), BG_OK);
	free(bad);
	free(raw);
	/* clientDataJSON that is not the object it must be. */
	for (size_t i = 0; i < sizeof(bad_json) / sizeof(bad_json[0]); i++) {
		bad = strlen(bad_json[i]) > 0 ? b64u(bad_json[i], strlen(bad_json[i])) :
		    strdup("");
		assert_int_not_equal(do_register(&a, bad, obj, &cred, &err), BG_OK);
		free(bad);
	}
	/* Base64url only: padding, the standard alphabet, over the caps. */
	assert_int_not_equal(do_register(&a, "e30=", obj, &cred, &err), BG_OK);
	assert_int_not_equal(do_register(&a, "e+0", obj, &cred, &err), BG_OK);
	memset(buf, 'A', sizeof(buf));
	buf[sizeof(buf) - 1] = '\0';
	assert_int_equal(do_register(&a, (char *)buf, obj, &cred, &err), BG_ERR_INVALID);
	assert_int_equal(do_register(&a, cdj, (char *)buf, &cred, &err), BG_ERR_INVALID);
	free(obj);
	free(cdj);
	/* A truncated authenticatorData in an assertion. */
	registered(&a, &cred);
	cdj = client_data("webauthn.get", challenge, ORIGIN, "");
	n = auth_data(&a, RP_ID, UP | UV, 1, ad);
	assertion(&a, ad, n - 1, cdj, false, &as);
	assert_int_not_equal(bg_webauthn_verify_assertion(&rp, challenge, buf, &cred, &as,
	    &res, &err), BG_OK);
	assertion_free(&as);
	free(cdj);
	EVP_PKEY_free(a.key);
}

/*
 * CBOR declaring more items than it has bytes: refused before libcbor (or
 * libfido2 through it) allocates the declared count, which cbor_load does
 * before reading the items (a few bytes asking for gigabytes).
 */
static void
test_cbor_counts(void **state)
{
	/* {"fmt": "none", "attStmt": [2^28 items...], "authData": ...} */
	static const unsigned char obj[] = "\xa3\x63" "fmt" "\x64" "none" "\x67" "attStmt"
	    "\x9a\x10\x00\x00\x00" "\x68" "authData" "\x41\x00";
	/* A map of 2^27 pairs in place of the COSE key. */
	static const unsigned char huge_map[] = "\xba\x08\x00\x00\x00\x01\x02";
	unsigned char ad[512];
	authn a;
	bg_webauthn_credential cred;
	bg_error err;
	size_t n;
	char *cdj, *bad;

	(void)state;
	authn_make(&a, BG_WEBAUTHN_ES256);
	cdj = client_data("webauthn.create", challenge, ORIGIN, "");
	bad = b64u(obj, sizeof(obj) - 1);
	assert_int_equal(do_register(&a, cdj, bad, &cred, &err), BG_ERR_INVALID);
	assert_non_null(strstr(err.msg, "attestationObject: malformed CBOR"));
	free(bad);
	n = auth_data(&a, RP_ID, UP | UV | AT, 0, ad);
	/* The COSE key starts after rpIdHash, flags, count, AAGUID, id length and id. */
	n = 37 + 18 + sizeof(a.cred_id);
	memcpy(ad + n, huge_map, sizeof(huge_map) - 1);
	bad = att_obj(ad, n + sizeof(huge_map) - 1);
	assert_int_equal(do_register(&a, cdj, bad, &cred, &err), BG_ERR_INVALID);
	assert_non_null(strstr(err.msg, "authenticatorData: malformed CBOR"));
	free(bad);
	free(cdj);
	EVP_PKEY_free(a.key);
}

static void
test_base64url(void **state)
{
	unsigned char *out;
	size_t len;
	char *s;

	(void)state;
	assert_int_equal(bg_base64url_encode((const unsigned char *)"\xfb\xff", 2, &s, NULL),
	    BG_OK);
	assert_string_equal(s, "-_8");
	assert_int_equal(bg_base64url_decode(s, 2, &out, &len, NULL), BG_OK);
	assert_int_equal(len, 2);
	assert_memory_equal(out, "\xfb\xff", 2);
	free(out);
	assert_int_equal(bg_base64url_decode(s, 1, &out, &len, NULL), BG_ERR_TOOBIG);
	free(s);
	/* Non-zero bits past the last byte: a second text for the same bytes. */
	assert_int_equal(bg_base64url_decode("-_9", 2, &out, &len, NULL), BG_ERR_INVALID);
	assert_int_equal(bg_base64url_decode("-_8=", 2, &out, &len, NULL), BG_ERR_INVALID);
	assert_int_equal(bg_base64url_decode("A", 2, &out, &len, NULL), BG_ERR_INVALID);
	assert_int_equal(bg_base64url_decode("", 2, &out, &len, NULL), BG_ERR_INVALID);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_algorithms),
		cmocka_unit_test(test_assertion_refusals),
		cmocka_unit_test(test_counter),
		cmocka_unit_test(test_credential_and_user),
		cmocka_unit_test(test_registration_refusals),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_cbor_counts),
		cmocka_unit_test(test_base64url),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
