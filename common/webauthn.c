/*
 * WebAuthn verification for the relying party (see webauthn.h).  The checks
 * are those of the WebAuthn Level 2 recommendation's sections 7.1 and 7.2
 * that a relying party without attestation trust needs; each refusal says
 * which one failed.
 */
#include "build_config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <cbor.h>
#include <fido.h>
#include <fido/eddsa.h>
#include <fido/es256.h>
#include <fido/rs256.h>
#include <json-c/json.h>

#include "crypto.h"
#include "json_body.h"
#include "json_string.h"
#include "webauthn.h"

/* authenticatorData: rpIdHash, flags, signCount, then the attested credential. */
#define AUTH_DATA_MIN (BG_SHA256_LEN + 1 + 4)
#define FLAG_UP 0x01
#define FLAG_UV 0x04
#define FLAG_AT 0x40
/* The attested credential data: AAGUID, the id's length, then the id. */
#define AAGUID_LEN 16
#define ATTESTED_FIXED (AAGUID_LEN + 2)
/* clientDataJSON's strings: an origin is short; Chrome adds a sentence. */
#define CLIENT_DATA_STRING_MAX 512
#define USER_ID_LABEL "breakglass-webauthn-user:"

static pthread_once_t fido_once = PTHREAD_ONCE_INIT;

static void
fido_setup(void)
{
	fido_init(0);
}

bg_status
bg_base64url_encode(const unsigned char *in, size_t len, char **out, bg_error *err)
{
	bg_status rc = bg_base64_encode(in, len, out, err);
	char *p;

	if (rc != BG_OK)
		return rc;
	for (p = *out; *p != '\0' && *p != '='; p++)
		if (*p == '+')
			*p = '-';
		else if (*p == '/')
			*p = '_';
	*p = '\0';
	return BG_OK;
}

bg_status
bg_base64url_decode(const char *in, size_t max, unsigned char **out, size_t *out_len,
    bg_error *err)
{
	size_t len = in != NULL ? strlen(in) : 0;
	char *std, *again = NULL;
	bg_status rc;

	*out = NULL;
	*out_len = 0;
	if (len == 0 || len % 4 == 1)
		return bg_error_set(err, BG_ERR_INVALID, "malformed base64url");
	if (len > (max + 2) / 3 * 4)
		return bg_error_set(err, BG_ERR_TOOBIG, "over %zu bytes", max);
	if ((std = malloc(len + 3)) == NULL)
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < len; i++) {
		char c = in[i];

		/* The standard alphabet's own two are not base64url. */
		if (c == '+' || c == '/' || c == '=') {
			free(std);
			return bg_error_set(err, BG_ERR_INVALID, "malformed base64url");
		}
		std[i] = c == '-' ? '+' : c == '_' ? '/' : c;
	}
	while (len % 4 != 0)
		std[len++] = '=';
	std[len] = '\0';
	rc = bg_base64_decode(std, out, out_len, err);
	free(std);
	if (rc != BG_OK)
		return bg_error_set(err, BG_ERR_INVALID, "malformed base64url");
	/* One text per value: bits past the last byte must be zero. */
	if (*out_len > max || bg_base64url_encode(*out, *out_len, &again, err) != BG_OK ||
	    strcmp(again, in) != 0) {
		rc = *out_len > max ? bg_error_set(err, BG_ERR_TOOBIG, "over %zu bytes", max) :
		    bg_error_set(err, BG_ERR_INVALID, "malformed base64url");
		free(*out);
		*out = NULL;
		*out_len = 0;
	}
	free(again);
	return rc;
}

bg_status
bg_webauthn_user_id(const char *approver, unsigned char out[BG_WEBAUTHN_USER_ID_LEN],
    bg_error *err)
{
	char buf[256];
	size_t n = strlen(approver);

	if (n + sizeof(USER_ID_LABEL) > sizeof(buf))
		return bg_error_set(err, BG_ERR_INVALID, "approver name too long");
	memcpy(buf, USER_ID_LABEL, sizeof(USER_ID_LABEL) - 1);
	memcpy(buf + sizeof(USER_ID_LABEL) - 1, approver, n);
	return bg_sha256(buf, sizeof(USER_ID_LABEL) - 1 + n, out, err);
}

/* Decodes member what (base64url) into a fresh buffer of at most max bytes. */
static bg_status
decode(const char *what, const char *in, size_t max, unsigned char **out, size_t *len,
    bg_error *err)
{
	bg_status rc;

	if (in == NULL)
		return bg_error_set(err, BG_ERR_INVALID, "%s: missing", what);
	if ((rc = bg_base64url_decode(in, max, out, len, err)) != BG_OK)
		bg_error_prefix(err, "%s", what);
	return rc;
}

bg_status
bg_webauthn_credential_id(const char *id_b64url, unsigned char id[BG_WEBAUTHN_CRED_ID_MAX],
    size_t *id_len, bg_error *err)
{
	unsigned char *raw;
	bg_status rc = decode("id", id_b64url, BG_WEBAUTHN_CRED_ID_MAX, &raw, id_len, err);

	if (rc == BG_OK) {
		memcpy(id, raw, *id_len);
		free(raw);
	}
	return rc;
}

/* clientDataJSON decoded and parsed, with its raw bytes for the signature. */
static bg_status
client_data_parse(const char *b64, json_object **doc, unsigned char **raw, size_t *len,
    bg_error *err)
{
	char *text;
	bg_status rc;

	*doc = NULL;
	if ((rc = decode("clientDataJSON", b64, BG_WEBAUTHN_CLIENT_DATA_MAX, raw, len,
	    err)) != BG_OK)
		return rc;
	if ((text = malloc(*len + 1)) == NULL) {
		free(*raw);
		*raw = NULL;
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	}
	memcpy(text, *raw, *len);
	text[*len] = '\0';
	*doc = bg_json_body_parse(text, *len, CLIENT_DATA_STRING_MAX, err);
	free(text);
	if (*doc == NULL || !json_object_is_type(*doc, json_type_object)) {
		if (*doc != NULL)
			bg_error_set(err, BG_ERR_INVALID, "not an object");
		json_object_put(*doc);
		*doc = NULL;
		free(*raw);
		*raw = NULL;
		bg_error_prefix(err, "clientDataJSON");
		return BG_ERR_INVALID;
	}
	return BG_OK;
}

static bg_status
challenge_of(json_object *doc, unsigned char challenge[BG_WEBAUTHN_CHALLENGE_LEN],
    bg_error *err)
{
	unsigned char *raw;
	size_t len;
	bg_status rc = decode("clientDataJSON challenge",
	    bg_json_member_cstring(doc, "challenge"), BG_WEBAUTHN_CHALLENGE_LEN, &raw, &len,
	    err);

	if (rc != BG_OK)
		return rc;
	if (len != BG_WEBAUTHN_CHALLENGE_LEN)
		rc = bg_error_set(err, BG_ERR_DENIED, "clientDataJSON: not our challenge");
	else
		memcpy(challenge, raw, len);
	free(raw);
	return rc;
}

bg_status
bg_webauthn_client_challenge(const char *client_data_json,
    unsigned char challenge[BG_WEBAUTHN_CHALLENGE_LEN], bg_error *err)
{
	json_object *doc;
	unsigned char *raw;
	size_t len;
	bg_status rc = client_data_parse(client_data_json, &doc, &raw, &len, err);

	if (rc != BG_OK)
		return rc;
	rc = challenge_of(doc, challenge, err);
	json_object_put(doc);
	free(raw);
	return rc;
}

/* The client's view: the ceremony's type, our challenge, our origin, top-level. */
static bg_status
client_data_check(json_object *doc, const char *type, const bg_webauthn_rp *rp,
    const unsigned char challenge[BG_WEBAUTHN_CHALLENGE_LEN], bg_error *err)
{
	unsigned char got[BG_WEBAUTHN_CHALLENGE_LEN];
	const char *t = bg_json_member_cstring(doc, "type");
	const char *origin = bg_json_member_cstring(doc, "origin");
	json_object *cross;
	bg_status rc;

	if (t == NULL || strcmp(t, type) != 0)
		return bg_error_set(err, BG_ERR_DENIED, "clientDataJSON: type is not %s", type);
	if ((rc = challenge_of(doc, got, err)) != BG_OK)
		return rc;
	if (!bg_ct_equal(got, challenge, sizeof(got)))
		return bg_error_set(err, BG_ERR_DENIED, "clientDataJSON: not our challenge");
	if (origin == NULL || strcmp(origin, rp->origin) != 0)
		return bg_error_set(err, BG_ERR_DENIED, "clientDataJSON: origin is not %s",
		    rp->origin);
	/* An iframe on another site asked: never ours. */
	if (json_object_object_get_ex(doc, "crossOrigin", &cross) &&
	    !(json_object_is_type(cross, json_type_boolean) && !json_object_get_boolean(cross)))
		return bg_error_set(err, BG_ERR_DENIED, "clientDataJSON: cross-origin");
	return BG_OK;
}

/*
 * libcbor's cbor_load (and libfido2, which calls it on authenticatorData)
 * allocates an array's or a map's items from the count its header declares,
 * before reading them: a few bytes could ask for gigabytes.  The CBOR items
 * in p are walked header by header first (the streaming decoder allocates
 * nothing), and refused when a count exceeds the bytes left (every item
 * takes at least one) or a length is indefinite (CTAP2 uses definite ones).
 */
struct cbor_scan {
	size_t left;
	bool bad;
};

static void
scan_array(void *ctx, size_t n)
{
	struct cbor_scan *s = ctx;

	s->bad = s->bad || n > s->left;
}

static void
scan_map(void *ctx, size_t n)
{
	struct cbor_scan *s = ctx;

	s->bad = s->bad || n > s->left / 2;
}

static void
scan_indefinite(void *ctx)
{
	((struct cbor_scan *)ctx)->bad = true;
}

static bool
cbor_bounded(const unsigned char *p, size_t len)
{
	struct cbor_callbacks cb = cbor_empty_callbacks;
	struct cbor_scan s = { 0, false };
	size_t off = 0;

	cb.array_start = scan_array;
	cb.map_start = scan_map;
	cb.indef_array_start = scan_indefinite;
	cb.indef_map_start = scan_indefinite;
	cb.byte_string_start = scan_indefinite;
	cb.string_start = scan_indefinite;
	while (off < len && !s.bad) {
		struct cbor_decoder_result r;

		s.left = len - off;
		r = cbor_stream_decode(p + off, len - off, &cb, &s);
		if (r.status != CBOR_DECODER_FINISHED || r.read == 0)
			return false;
		off += r.read;
	}
	return !s.bad;
}

/* The flags and rpIdHash of authenticatorData (raw), checked before libfido2 checks them again. */
static bg_status
auth_data_check(const unsigned char *ad, size_t len, const bg_webauthn_rp *rp,
    bool attested, bg_error *err)
{
	unsigned char hash[BG_SHA256_LEN];
	size_t cbor_at = AUTH_DATA_MIN;
	bg_status rc;

	if (len < AUTH_DATA_MIN)
		return bg_error_set(err, BG_ERR_INVALID, "authenticatorData: truncated");
	/* The attested credential's AAGUID, id length and id come before its COSE key. */
	if (attested) {
		if (len < AUTH_DATA_MIN + ATTESTED_FIXED)
			return bg_error_set(err, BG_ERR_INVALID, "authenticatorData: truncated");
		cbor_at += ATTESTED_FIXED + ((size_t)ad[AUTH_DATA_MIN + AAGUID_LEN] << 8 |
		    ad[AUTH_DATA_MIN + AAGUID_LEN + 1]);
		if (cbor_at > len)
			return bg_error_set(err, BG_ERR_INVALID, "authenticatorData: truncated");
	}
	if ((rc = bg_sha256(rp->rp_id, strlen(rp->rp_id), hash, err)) != BG_OK)
		return rc;
	if (!bg_ct_equal(hash, ad, sizeof(hash)))
		return bg_error_set(err, BG_ERR_DENIED, "authenticatorData: rpIdHash is not "
		    "%s's", rp->rp_id);
	if ((ad[BG_SHA256_LEN] & FLAG_UP) == 0)
		return bg_error_set(err, BG_ERR_DENIED, "authenticatorData: user not present");
	if ((ad[BG_SHA256_LEN] & FLAG_UV) == 0)
		return bg_error_set(err, BG_ERR_DENIED, "authenticatorData: user not verified");
	if (attested && (ad[BG_SHA256_LEN] & FLAG_AT) == 0)
		return bg_error_set(err, BG_ERR_INVALID, "authenticatorData: no attested "
		    "credential");
	if (!cbor_bounded(ad + cbor_at, len - cbor_at))
		return bg_error_set(err, BG_ERR_INVALID, "authenticatorData: malformed CBOR");
	return BG_OK;
}

/* attestationObject's authData (a copy), whatever its fmt and attStmt. */
static bg_status
att_obj_auth_data(const unsigned char *obj, size_t len, unsigned char **ad, size_t *ad_len,
    bg_error *err)
{
	struct cbor_load_result res;
	cbor_item_t *item;
	struct cbor_pair *pairs;
	bg_status rc = bg_error_set(err, BG_ERR_INVALID, "attestationObject: no authData");

	*ad = NULL;
	if (!cbor_bounded(obj, len))
		return bg_error_set(err, BG_ERR_INVALID, "attestationObject: malformed CBOR");
	item = cbor_load(obj, len, &res);
	if (item == NULL || res.read != len || !cbor_isa_map(item) ||
	    !cbor_map_is_definite(item)) {
		if (item != NULL)
			cbor_decref(&item);
		return bg_error_set(err, BG_ERR_INVALID, "attestationObject: not one CBOR map");
	}
	pairs = cbor_map_handle(item);
	for (size_t i = 0; i < cbor_map_size(item); i++) {
		cbor_item_t *k = pairs[i].key, *v = pairs[i].value;

		if (!cbor_isa_string(k) || !cbor_string_is_definite(k) ||
		    cbor_string_length(k) != strlen("authData") ||
		    memcmp(cbor_string_handle(k), "authData", strlen("authData")) != 0)
			continue;
		if (*ad != NULL) {
			rc = bg_error_set(err, BG_ERR_INVALID, "attestationObject: two authData");
			break;
		}
		if (!cbor_isa_bytestring(v) || !cbor_bytestring_is_definite(v) ||
		    cbor_bytestring_length(v) > BG_WEBAUTHN_AUTH_DATA_MAX) {
			rc = bg_error_set(err, BG_ERR_INVALID, "attestationObject: authData is "
			    "not a byte string of at most %d bytes", BG_WEBAUTHN_AUTH_DATA_MAX);
			break;
		}
		*ad_len = cbor_bytestring_length(v);
		if ((*ad = malloc(*ad_len + 1)) == NULL) {
			rc = bg_error_set(err, BG_ERR_NOMEM, "out of memory");
			break;
		}
		memcpy(*ad, cbor_bytestring_handle(v), *ad_len);
		rc = BG_OK;
	}
	if (rc != BG_OK) {
		free(*ad);
		*ad = NULL;
	}
	cbor_decref(&item);
	return rc;
}

/* libfido2 parses the attested credential with each accepted algorithm until one fits. */
static bg_status
attested_credential(const unsigned char *ad, size_t ad_len, bg_webauthn_credential *cred,
    bg_error *err)
{
	static const int algs[] = { BG_WEBAUTHN_ES256, BG_WEBAUTHN_EDDSA, BG_WEBAUTHN_RS256 };

	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		fido_cred_t *c = fido_cred_new();
		bool ok;

		if (c == NULL)
			return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
		ok = fido_cred_set_type(c, algs[i]) == FIDO_OK &&
		    fido_cred_set_authdata_raw(c, ad, ad_len) == FIDO_OK &&
		    fido_cred_id_len(c) > 0 && fido_cred_id_len(c) <= sizeof(cred->id) &&
		    fido_cred_pubkey_len(c) > 0 &&
		    fido_cred_pubkey_len(c) <= sizeof(cred->pubkey);
		if (ok) {
			cred->alg = algs[i];
			cred->id_len = fido_cred_id_len(c);
			memcpy(cred->id, fido_cred_id_ptr(c), cred->id_len);
			cred->pubkey_len = fido_cred_pubkey_len(c);
			memcpy(cred->pubkey, fido_cred_pubkey_ptr(c), cred->pubkey_len);
			cred->sign_count = fido_cred_sigcount(c);
		}
		fido_cred_free(&c);
		if (ok)
			return BG_OK;
	}
	return bg_error_set(err, BG_ERR_DENIED, "authenticatorData: no ES256, EdDSA or RS256 "
	    "credential in it");
}

bg_status
bg_webauthn_verify_registration(const bg_webauthn_rp *rp,
    const unsigned char challenge[BG_WEBAUTHN_CHALLENGE_LEN], const char *id,
    const char *client_data_json, const char *attestation_object,
    bg_webauthn_credential *cred, bg_error *err)
{
	unsigned char id_raw[BG_WEBAUTHN_CRED_ID_MAX];
	unsigned char *cdj = NULL, *obj = NULL, *ad = NULL;
	size_t id_len, cdj_len, obj_len = 0, ad_len = 0;
	json_object *doc = NULL;
	bg_status rc;

	pthread_once(&fido_once, fido_setup);
	memset(cred, 0, sizeof(*cred));
	rc = bg_webauthn_credential_id(id, id_raw, &id_len, err);
	if (rc == BG_OK)
		rc = client_data_parse(client_data_json, &doc, &cdj, &cdj_len, err);
	if (rc == BG_OK)
		rc = client_data_check(doc, "webauthn.create", rp, challenge, err);
	if (rc == BG_OK)
		rc = decode("attestationObject", attestation_object, BG_WEBAUTHN_ATT_OBJ_MAX,
		    &obj, &obj_len, err);
	if (rc == BG_OK)
		rc = att_obj_auth_data(obj, obj_len, &ad, &ad_len, err);
	if (rc == BG_OK)
		rc = auth_data_check(ad, ad_len, rp, true, err);
	if (rc == BG_OK)
		rc = attested_credential(ad, ad_len, cred, err);
	if (rc == BG_OK && (cred->id_len != id_len || memcmp(cred->id, id_raw, id_len) != 0))
		rc = bg_error_set(err, BG_ERR_DENIED, "id: not the attested credential's");
	if (rc != BG_OK)
		memset(cred, 0, sizeof(*cred));
	json_object_put(doc);
	free(cdj);
	free(obj);
	free(ad);
	return rc;
}

/* fido_assert_verify with cred's key; BG_OK when the signature and the flags hold. */
static bg_status
assert_verify(const fido_assert_t *as, const bg_webauthn_credential *cred, bg_error *err)
{
	es256_pk_t *es = NULL;
	eddsa_pk_t *ed = NULL;
	rs256_pk_t *rs = NULL;
	const void *pk = NULL;
	int r = FIDO_ERR_INVALID_ARGUMENT;

	switch (cred->alg) {
	case BG_WEBAUTHN_ES256:
		if ((es = es256_pk_new()) != NULL &&
		    es256_pk_from_ptr(es, cred->pubkey, cred->pubkey_len) == FIDO_OK)
			pk = es;
		break;
	case BG_WEBAUTHN_EDDSA:
		if ((ed = eddsa_pk_new()) != NULL &&
		    eddsa_pk_from_ptr(ed, cred->pubkey, cred->pubkey_len) == FIDO_OK)
			pk = ed;
		break;
	case BG_WEBAUTHN_RS256:
		if ((rs = rs256_pk_new()) != NULL &&
		    rs256_pk_from_ptr(rs, cred->pubkey, cred->pubkey_len) == FIDO_OK)
			pk = rs;
		break;
	default:
		break;
	}
	if (pk != NULL)
		r = fido_assert_verify(as, 0, cred->alg, pk);
	es256_pk_free(&es);
	eddsa_pk_free(&ed);
	rs256_pk_free(&rs);
	if (pk == NULL)
		return bg_error_set(err, BG_ERR_INVALID, "stored public key unusable");
	if (r != FIDO_OK)
		return bg_error_set(err, BG_ERR_DENIED, "signature does not verify (%s)",
		    fido_strerr(r));
	return BG_OK;
}

/* The user handle, when sent, names the approver the credential was made for. */
static bg_status
user_handle_check(const char *uh, const unsigned char user_id[BG_WEBAUTHN_USER_ID_LEN],
    bg_error *err)
{
	unsigned char *raw;
	size_t len;
	bg_status rc;

	if (uh == NULL)
		return BG_OK;
	if ((rc = decode("userHandle", uh, 64, &raw, &len, err)) != BG_OK)
		return rc;
	if (len != BG_WEBAUTHN_USER_ID_LEN || !bg_ct_equal(raw, user_id, len))
		rc = bg_error_set(err, BG_ERR_DENIED, "userHandle: another user's");
	free(raw);
	return rc;
}

bg_status
bg_webauthn_verify_assertion(const bg_webauthn_rp *rp,
    const unsigned char challenge[BG_WEBAUTHN_CHALLENGE_LEN],
    const unsigned char user_id[BG_WEBAUTHN_USER_ID_LEN],
    const bg_webauthn_credential *cred, const bg_webauthn_assertion *a,
    bg_webauthn_result *result, bg_error *err)
{
	unsigned char id_raw[BG_WEBAUTHN_CRED_ID_MAX];
	unsigned char *cdj = NULL, *ad = NULL, *sig = NULL;
	size_t id_len, cdj_len, ad_len = 0, sig_len = 0;
	json_object *doc = NULL;
	fido_assert_t *as = NULL;
	uint32_t count;
	bg_status rc;

	pthread_once(&fido_once, fido_setup);
	memset(result, 0, sizeof(*result));
	rc = bg_webauthn_credential_id(a->id, id_raw, &id_len, err);
	if (rc == BG_OK && (id_len != cred->id_len || memcmp(id_raw, cred->id, id_len) != 0))
		rc = bg_error_set(err, BG_ERR_DENIED, "id: not this credential");
	if (rc == BG_OK)
		rc = client_data_parse(a->client_data_json, &doc, &cdj, &cdj_len, err);
	if (rc == BG_OK)
		rc = client_data_check(doc, "webauthn.get", rp, challenge, err);
	if (rc == BG_OK)
		rc = decode("authenticatorData", a->authenticator_data,
		    BG_WEBAUTHN_AUTH_DATA_MAX, &ad, &ad_len, err);
	if (rc == BG_OK)
		rc = auth_data_check(ad, ad_len, rp, false, err);
	if (rc == BG_OK)
		rc = decode("signature", a->signature, BG_WEBAUTHN_SIG_MAX, &sig, &sig_len, err);
	if (rc == BG_OK)
		rc = user_handle_check(a->user_handle, user_id, err);
	if (rc == BG_OK && (as = fido_assert_new()) == NULL)
		rc = bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	if (rc == BG_OK && (fido_assert_set_clientdata(as, cdj, cdj_len) != FIDO_OK ||
	    fido_assert_set_rp(as, rp->rp_id) != FIDO_OK ||
	    fido_assert_set_count(as, 1) != FIDO_OK ||
	    fido_assert_set_authdata_raw(as, 0, ad, ad_len) != FIDO_OK ||
	    fido_assert_set_sig(as, 0, sig, sig_len) != FIDO_OK ||
	    fido_assert_set_up(as, FIDO_OPT_TRUE) != FIDO_OK ||
	    fido_assert_set_uv(as, FIDO_OPT_TRUE) != FIDO_OK))
		rc = bg_error_set(err, BG_ERR_INVALID, "authenticatorData or signature "
		    "malformed");
	if (rc == BG_OK)
		rc = assert_verify(as, cred, err);
	if (rc == BG_OK) {
		count = fido_assert_sigcount(as, 0);
		result->sign_count = count;
		/* Both zero: an authenticator without a counter (many passkeys). */
		if ((count != 0 || cred->sign_count != 0) && count <= cred->sign_count) {
			result->clone_suspected = true;
			rc = bg_error_set(err, BG_ERR_DENIED, "signature counter %lu not above "
			    "%lu: a cloned authenticator?", (unsigned long)count,
			    (unsigned long)cred->sign_count);
		}
	}
	fido_assert_free(&as);
	json_object_put(doc);
	free(cdj);
	free(ad);
	free(sig);
	return rc;
}
