/*
 * WebAuthn, the relying party's side: a passkey's registration and its
 * assertions verified server-side.  libfido2 parses the authenticator data
 * and the COSE public key and checks the signature, the rpIdHash and the
 * user-presence and user-verification flags; libcbor reads the
 * attestationObject (libfido2 1.12 has no fido_cred_set_attobj); json-c
 * reads clientDataJSON (bg_json_body_parse's strict grammar).  Attestation
 * statements are not verified: registration is trusted for the bootstrap
 * that led to it (the approver's token and TOTP code), not for the
 * authenticator's make.  Every input is capped.
 */
#ifndef BG_WEBAUTHN_H
#define BG_WEBAUTHN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

#define BG_WEBAUTHN_CHALLENGE_LEN 32
/* WebAuthn's own bound on a credential id. */
#define BG_WEBAUTHN_CRED_ID_MAX 1023
/* The largest raw public key kept: RS256's 2048-bit modulus and exponent. */
#define BG_WEBAUTHN_PUBKEY_MAX 259
/* Caps on what the client sends, decoded. */
#define BG_WEBAUTHN_CLIENT_DATA_MAX 2048
#define BG_WEBAUTHN_AUTH_DATA_MAX 4096
#define BG_WEBAUTHN_ATT_OBJ_MAX 16384
#define BG_WEBAUTHN_SIG_MAX 512
/* The user handle approvald gives a passkey: SHA-256 of a fixed label and the name. */
#define BG_WEBAUTHN_USER_ID_LEN 32

/* The COSE algorithms accepted. */
#define BG_WEBAUTHN_ES256 (-7)
#define BG_WEBAUTHN_EDDSA (-8)
#define BG_WEBAUTHN_RS256 (-257)

/* The relying party: what clientDataJSON and authenticatorData must name. */
typedef struct {
	const char *rp_id;      /* the rpIdHash is SHA-256 of it */
	const char *origin;     /* clientDataJSON's origin, exactly */
} bg_webauthn_rp;

/* A registered credential: what the relying party keeps. */
typedef struct {
	unsigned char id[BG_WEBAUTHN_CRED_ID_MAX];
	size_t id_len;
	int alg;                /* BG_WEBAUTHN_ES256 | _EDDSA | _RS256 */
	unsigned char pubkey[BG_WEBAUTHN_PUBKEY_MAX];  /* libfido2's raw form */
	size_t pubkey_len;
	uint32_t sign_count;
} bg_webauthn_credential;

/* An assertion as the client sends it: each member base64url without padding. */
typedef struct {
	const char *id;
	const char *client_data_json;
	const char *authenticator_data;
	const char *signature;
	const char *user_handle;    /* NULL when the client sent none */
} bg_webauthn_assertion;

/* What a verified assertion gives. */
typedef struct {
	uint32_t sign_count;    /* the authenticator's, to store */
	bool clone_suspected;   /* the counter went back: refused */
} bg_webauthn_result;

/* Base64url without padding (RFC 4648 section 5), as WebAuthn's JSON carries binaries. */
bg_status bg_base64url_encode(const unsigned char *in, size_t len, char **out,
    bg_error *err);
/* Decodes at most max bytes; refuses padding, other alphabets and bits left over. */
bg_status bg_base64url_decode(const char *in, size_t max, unsigned char **out,
    size_t *out_len, bg_error *err);

/* The user handle of approver (BG_WEBAUTHN_USER_ID_LEN bytes). */
bg_status bg_webauthn_user_id(const char *approver,
    unsigned char out[BG_WEBAUTHN_USER_ID_LEN], bg_error *err);

/*
 * The credential id (base64url, the assertion's "id") decoded: for finding
 * the stored credential before verifying.
 */
bg_status bg_webauthn_credential_id(const char *id_b64url,
    unsigned char id[BG_WEBAUTHN_CRED_ID_MAX], size_t *id_len, bg_error *err);

/*
 * The challenge that clientDataJSON (base64url) names, decoded: the relying
 * party looks up the challenge it issued before it verifies anything else.
 */
bg_status bg_webauthn_client_challenge(const char *client_data_json_b64url,
    unsigned char challenge[BG_WEBAUTHN_CHALLENGE_LEN], bg_error *err);

/*
 * Verifies a registration ({"id", "clientDataJSON", "attestationObject"},
 * each base64url): type webauthn.create, the challenge, the origin, not
 * cross-origin, the rpIdHash, user presence and verification, an ES256,
 * EdDSA or RS256 key, and the id equal to the attested credential's.
 * Fills cred.  BG_ERR_DENIED (or BG_ERR_INVALID for malformed input) on
 * refusal, with err saying why.
 */
bg_status bg_webauthn_verify_registration(const bg_webauthn_rp *rp,
    const unsigned char challenge[BG_WEBAUTHN_CHALLENGE_LEN], const char *id,
    const char *client_data_json, const char *attestation_object,
    bg_webauthn_credential *cred, bg_error *err);

/*
 * Verifies an assertion by cred: type webauthn.get, the challenge, the
 * origin, not cross-origin, the rpIdHash, user presence and verification,
 * the signature, the user handle (when sent) equal to user_id, and the
 * signature counter: when either the stored or the new count is non-zero
 * the new one must be greater, else the assertion is refused with
 * result->clone_suspected set.
 */
bg_status bg_webauthn_verify_assertion(const bg_webauthn_rp *rp,
    const unsigned char challenge[BG_WEBAUTHN_CHALLENGE_LEN],
    const unsigned char user_id[BG_WEBAUTHN_USER_ID_LEN],
    const bg_webauthn_credential *cred, const bg_webauthn_assertion *a,
    bg_webauthn_result *result, bg_error *err);

#endif
