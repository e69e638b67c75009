/*
 * crypto.h with libsodium: the backend of the sudo plugin's core alone.
 * sudo loads the core for every break-glass account's command, and loading
 * a shared libcrypto costs more than the whole budget of that call
 * (docs/performance.md); libsodium does the same primitives for a fraction.
 * The core is libsodium's only user inside sudo.  Everything here is a call
 * into libsodium except reading the Ed25519 PEM form (crypto_common.c),
 * which accepts only the one form the project writes.
 */
#include "build_config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto.h"
#include "crypto_backend.h"

/* sodium_init() is idempotent and thread-safe: each entry point may call it. */
static bg_status
sodium_ready(bg_error *err)
{
	if (sodium_init() < 0)
		return bg_error_set(err, BG_ERR_CRYPTO, "libsodium cannot be initialised");
	return BG_OK;
}

bg_status
bg_crypto_init_sole_user(bg_error *err)
{
	return sodium_ready(err);
}

bg_status
bg_sha256(const void *data, size_t len, unsigned char out[BG_SHA256_LEN], bg_error *err)
{
	(void)err;
	crypto_hash_sha256(out, data, len);
	return BG_OK;
}

/* No state lives across digests: the context only keeps crypto.h's contract. */
struct bg_sha256_ctx {
	crypto_hash_sha256_state st;
};

bg_status
bg_sha256_ctx_new(bg_sha256_ctx **out, bg_error *err)
{
	if ((*out = calloc(1, sizeof(**out))) == NULL)
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	return BG_OK;
}

bg_status
bg_sha256_with(bg_sha256_ctx *c, const void *data, size_t len, unsigned char out[BG_SHA256_LEN],
    bg_error *err)
{
	(void)err;
	crypto_hash_sha256_init(&c->st);
	crypto_hash_sha256_update(&c->st, data, len);
	crypto_hash_sha256_final(&c->st, out);
	return BG_OK;
}

void
bg_sha256_ctx_free(bg_sha256_ctx *c)
{
	if (c == NULL)
		return;
	/* The journal's keys are hashed in it. */
	sodium_memzero(c, sizeof(*c));
	free(c);
}

struct bg_hmac {
	crypto_auth_hmacsha256_state st;
};

bg_status
bg_hmac_new(bg_hmac **out, bg_error *err)
{
	if ((*out = calloc(1, sizeof(**out))) == NULL)
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	return BG_OK;
}

bg_status
bg_hmac_compute(bg_hmac *h, const void *key, size_t key_len, const void *data,
    size_t len, unsigned char out[BG_SHA256_LEN], bg_error *err)
{
	/* Keys longer than a block are hashed first, as RFC 2104 says. */
	if (crypto_auth_hmacsha256_init(&h->st, key, key_len) != 0 ||
	    crypto_auth_hmacsha256_update(&h->st, data, len) != 0 ||
	    crypto_auth_hmacsha256_final(&h->st, out) != 0)
		return bg_error_set(err, BG_ERR_CRYPTO, "HMAC-SHA256 failed");
	return BG_OK;
}

void
bg_hmac_free(bg_hmac *h)
{
	if (h == NULL)
		return;
	sodium_memzero(h, sizeof(*h));
	free(h);
}

bg_status
bg_random_bytes(void *buf, size_t len, bg_error *err)
{
	bg_status rc = sodium_ready(err);

	if (rc == BG_OK)
		randombytes_buf(buf, len);
	return rc;
}

bool
bg_ct_equal(const void *a, const void *b, size_t len)
{
	return sodium_memcmp(a, b, len) == 0;
}

bg_status
bg_base64_encode(const unsigned char *in, size_t len, char **out, bg_error *err)
{
	size_t outlen;
	char *buf;

	*out = NULL;
	if (len > INT32_MAX / 2)
		return bg_error_set(err, BG_ERR_TOOBIG, "base64 input too large");
	outlen = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
	if ((buf = malloc(outlen)) == NULL)
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	sodium_bin2base64(buf, outlen, in, len, sodium_base64_VARIANT_ORIGINAL);
	*out = buf;
	return BG_OK;
}

bg_status
bg_base64_decode(const char *in, unsigned char **out, size_t *out_len, bg_error *err)
{
	size_t len = strlen(in), pad, cap, n = 0;
	unsigned char *buf;

	*out = NULL;
	*out_len = 0;
	/* The same canonical text crypto.c accepts, then libsodium's decoder. */
	if (bg_base64_check(in, len, &pad, err) != BG_OK)
		return BG_ERR_INVALID;
	cap = len / 4 * 3;
	if ((buf = malloc(cap + 1)) == NULL)
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	if (sodium_base642bin(buf, cap, in, len, NULL, &n, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0 || n != cap - pad) {
		free(buf);
		return bg_error_set(err, BG_ERR_INVALID, "malformed base64");
	}
	*out = buf;
	*out_len = n;
	return BG_OK;
}

bg_status
bg_ed25519_verify_pem(const char *pem, size_t pem_len, const void *msg, size_t msg_len,
    const unsigned char *sig, size_t sig_len, bg_error *err)
{
	unsigned char pk[BG_ED25519_KEY_LEN];
	bg_status rc;

	rc = bg_pem_ed25519_raw(pem, pem_len, BG_PEM_ED25519_PUBLIC, pk, err);
	if (rc != BG_OK)
		return rc;
	if (sig_len != BG_ED25519_SIG_LEN)
		return bg_error_set(err, BG_ERR_CRYPTO, "signature has %zu bytes, not %d",
		    sig_len, BG_ED25519_SIG_LEN);
	if ((rc = sodium_ready(err)) != BG_OK)
		return rc;
	if (crypto_sign_verify_detached(sig, msg, msg_len, pk) != 0)
		return bg_error_set(err, BG_ERR_CRYPTO, "Ed25519 signature does not verify");
	return BG_OK;
}

/* The expanded secret key (seed and public key) derived once at load. */
struct bg_ed25519_key {
	unsigned char sk[crypto_sign_SECRETKEYBYTES];
};

bg_status
bg_ed25519_key_from_pem(const char *pem, size_t pem_len, bg_ed25519_key **out,
    bg_error *err)
{
	unsigned char seed[crypto_sign_SEEDBYTES], pk[crypto_sign_PUBLICKEYBYTES];
	bg_status rc;

	*out = NULL;
	if ((rc = sodium_ready(err)) != BG_OK)
		return rc;
	rc = bg_pem_ed25519_raw(pem, pem_len, BG_PEM_ED25519_PRIVATE, seed, err);
	if (rc == BG_OK && (*out = malloc(sizeof(**out))) == NULL)
		rc = bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	if (rc == BG_OK && crypto_sign_seed_keypair(pk, (*out)->sk, seed) != 0) {
		bg_ed25519_key_free(*out);
		*out = NULL;
		rc = bg_error_set(err, BG_ERR_CRYPTO, "Ed25519 key derivation failed");
	}
	sodium_memzero(seed, sizeof(seed));
	return rc;
}

bg_status
bg_ed25519_sign(const bg_ed25519_key *key, const void *msg, size_t msg_len,
    unsigned char sig[BG_ED25519_SIG_LEN], bg_error *err)
{
	if (crypto_sign_detached(sig, NULL, msg, msg_len, key->sk) != 0)
		return bg_error_set(err, BG_ERR_CRYPTO, "Ed25519 signing failed");
	return BG_OK;
}

void
bg_ed25519_key_free(bg_ed25519_key *key)
{
	if (key == NULL)
		return;
	sodium_memzero(key->sk, sizeof(key->sk));
	free(key);
}
