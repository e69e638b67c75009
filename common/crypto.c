/*
 * crypto.h with OpenSSL libcrypto: the backend of the PAM module, the CLI and
 * the approval service (the sudo plugin's core has crypto_sodium.c).
 */
#include "build_config.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "crypto.h"
#include "crypto_backend.h"

/*
 * OpenSSL 3 looks an algorithm up in its provider tables on every implicit
 * use of EVP_sha256(); fetching it once keeps the journal verifier's
 * per-record key evolution cheap.
 */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void
sha256_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

/*
 * The PAM module is dlclosed while libcrypto stays
 * loaded: drop the reference with the code that holds it, or libcrypto's
 * method is pinned forever (valgrind: definitely lost at exit).
 */
__attribute__((destructor)) static void
sha256_release(void)
{
	EVP_MD_free(sha256_md);
	sha256_md = NULL;
}

bg_status
bg_crypto_init_sole_user(bg_error *err)
{
	/*
	 * Every algorithm here is fetched by name from the default provider, so
	 * what OpenSSL does by default on first use only costs time: reading
	 * openssl.cnf, filling the legacy name tables of every cipher and
	 * digest, loading error strings, freeing it all again at exit.
	 */
	if (OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG |
	    OPENSSL_INIT_NO_ADD_ALL_CIPHERS | OPENSSL_INIT_NO_ADD_ALL_DIGESTS |
	    OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS | OPENSSL_INIT_NO_ATEXIT, NULL) != 1)
		return bg_error_set(err, BG_ERR_CRYPTO, "libcrypto cannot be initialised");
	return BG_OK;
}

bg_status
bg_sha256(const void *data, size_t len, unsigned char out[BG_SHA256_LEN], bg_error *err)
{
	unsigned int outlen = 0;

	if (pthread_once(&sha256_once, sha256_fetch) != 0 || sha256_md == NULL)
		return bg_error_set(err, BG_ERR_CRYPTO, "SHA-256 unavailable in libcrypto");
	if (EVP_Digest(data, len, out, &outlen, sha256_md, NULL) != 1 ||
	    outlen != BG_SHA256_LEN)
		return bg_error_set(err, BG_ERR_CRYPTO, "SHA-256 failed");
	return BG_OK;
}

struct bg_sha256_ctx {
	EVP_MD_CTX *md;
};

bg_status
bg_sha256_ctx_new(bg_sha256_ctx **out, bg_error *err)
{
	bg_sha256_ctx *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (c == NULL || (c->md = EVP_MD_CTX_new()) == NULL) {
		free(c);
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	}
	*out = c;
	return BG_OK;
}

bg_status
bg_sha256_with(bg_sha256_ctx *c, const void *data, size_t len, unsigned char out[BG_SHA256_LEN],
    bg_error *err)
{
	unsigned int outlen = 0;

	if (pthread_once(&sha256_once, sha256_fetch) != 0 || sha256_md == NULL)
		return bg_error_set(err, BG_ERR_CRYPTO, "SHA-256 unavailable in libcrypto");
	if (EVP_DigestInit_ex2(c->md, sha256_md, NULL) != 1 ||
	    EVP_DigestUpdate(c->md, data, len) != 1 ||
	    EVP_DigestFinal_ex(c->md, out, &outlen) != 1 || outlen != BG_SHA256_LEN)
		return bg_error_set(err, BG_ERR_CRYPTO, "SHA-256 failed");
	return BG_OK;
}

void
bg_sha256_ctx_free(bg_sha256_ctx *c)
{
	if (c == NULL)
		return;
	EVP_MD_CTX_free(c->md);  /* cleanses what it held */
	free(c);
}

struct bg_hmac {
	EVP_MAC *mac;
	EVP_MAC_CTX *ctx;
};

bg_status
bg_hmac_new(bg_hmac **out, bg_error *err)
{
	bg_hmac *h = calloc(1, sizeof(*h));
	OSSL_PARAM params[2];

	*out = NULL;
	if (h == NULL)
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	h->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (h->mac != NULL)
		h->ctx = EVP_MAC_CTX_new(h->mac);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (h->ctx == NULL || EVP_MAC_CTX_set_params(h->ctx, params) != 1) {
		bg_hmac_free(h);
		return bg_error_set(err, BG_ERR_CRYPTO, "HMAC-SHA256 unavailable in libcrypto");
	}
	*out = h;
	return BG_OK;
}

bg_status
bg_hmac_compute(bg_hmac *h, const void *key, size_t key_len, const void *data,
    size_t len, unsigned char out[BG_SHA256_LEN], bg_error *err)
{
	size_t outlen = 0;

	if (EVP_MAC_init(h->ctx, key, key_len, NULL) != 1 ||
	    EVP_MAC_update(h->ctx, data, len) != 1 ||
	    EVP_MAC_final(h->ctx, out, &outlen, BG_SHA256_LEN) != 1 ||
	    outlen != BG_SHA256_LEN)
		return bg_error_set(err, BG_ERR_CRYPTO, "HMAC-SHA256 failed");
	return BG_OK;
}

void
bg_hmac_free(bg_hmac *h)
{
	if (h == NULL)
		return;
	EVP_MAC_CTX_free(h->ctx);
	EVP_MAC_free(h->mac);
	free(h);
}

bg_status
bg_random_bytes(void *buf, size_t len, bg_error *err)
{
	if (len > INT32_MAX || RAND_bytes(buf, (int)len) != 1)
		return bg_error_set(err, BG_ERR_CRYPTO, "random number generator failed");
	return BG_OK;
}

bool
bg_ct_equal(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}

bg_status
bg_base64_encode(const unsigned char *in, size_t len, char **out, bg_error *err)
{
	size_t outlen = 4 * ((len + 2) / 3) + 1;
	char *buf;

	*out = NULL;
	if (len > INT32_MAX / 2)
		return bg_error_set(err, BG_ERR_TOOBIG, "base64 input too large");
	buf = malloc(outlen);
	if (buf == NULL)
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	EVP_EncodeBlock((unsigned char *)buf, in, (int)len);
	*out = buf;
	return BG_OK;
}

bg_status
bg_base64_decode(const char *in, unsigned char **out, size_t *out_len, bg_error *err)
{
	size_t len = strlen(in), pad = 0;
	unsigned char *buf;
	int n;

	*out = NULL;
	*out_len = 0;
	/* EVP_DecodeBlock accepts whitespace and trailing garbage; insist on canonical text. */
	if (bg_base64_check(in, len, &pad, err) != BG_OK)
		return BG_ERR_INVALID;
	buf = malloc(len / 4 * 3 + 1);
	if (buf == NULL)
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	n = EVP_DecodeBlock(buf, (const unsigned char *)in, (int)len);
	if (n < 0 || (size_t)n < pad) {
		free(buf);
		return bg_error_set(err, BG_ERR_INVALID, "malformed base64");
	}
	*out = buf;
	*out_len = (size_t)n - pad;
	return BG_OK;
}

static bg_status
ed25519_verify_pkey(EVP_PKEY *pkey, const void *msg, size_t msg_len,
    const unsigned char *sig, size_t sig_len, bg_error *err)
{
	EVP_MD_CTX *md;
	int ok;

	if (EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519)
		return bg_error_set(err, BG_ERR_INVALID, "public key is not Ed25519");
	if (sig_len != BG_ED25519_SIG_LEN)
		return bg_error_set(err, BG_ERR_CRYPTO, "signature has %zu bytes, not %d",
		    sig_len, BG_ED25519_SIG_LEN);
	md = EVP_MD_CTX_new();
	if (md == NULL)
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	ok = EVP_DigestVerifyInit(md, NULL, NULL, NULL, pkey) == 1 &&
	    EVP_DigestVerify(md, sig, sig_len, msg, msg_len) == 1;
	EVP_MD_CTX_free(md);
	if (!ok)
		return bg_error_set(err, BG_ERR_CRYPTO, "Ed25519 signature does not verify");
	return BG_OK;
}

/*
 * An Ed25519 public key in the one form read without a PEM library (the
 * form OpenSSL writes), imported raw: OpenSSL's decoders cost more than the
 * rest of a sudo decision.  Any other text goes through the full PEM parser,
 * which yields the same key from this form.
 */
static EVP_PKEY *
ed25519_pubkey_raw(const char *pem, size_t pem_len)
{
	unsigned char raw[BG_ED25519_KEY_LEN];

	if (bg_pem_ed25519_raw(pem, pem_len, BG_PEM_ED25519_PUBLIC, raw, NULL) != BG_OK)
		return NULL;
	return EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw, sizeof(raw));
}

bg_status
bg_ed25519_verify_pem(const char *pem, size_t pem_len, const void *msg, size_t msg_len,
    const unsigned char *sig, size_t sig_len, bg_error *err)
{
	EVP_PKEY *pkey;
	bg_status rc;
	BIO *bio;

	if (pem_len > INT32_MAX)
		return bg_error_set(err, BG_ERR_TOOBIG, "public key too large");
	pkey = ed25519_pubkey_raw(pem, pem_len);
	if (pkey == NULL && (bio = BIO_new_mem_buf(pem, (int)pem_len)) != NULL) {
		pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
		BIO_free(bio);
	}
	if (pkey == NULL)
		return bg_error_set(err, BG_ERR_INVALID, "not a PEM public key");
	rc = ed25519_verify_pkey(pkey, msg, msg_len, sig, sig_len, err);
	EVP_PKEY_free(pkey);
	return rc;
}

/* A private key parsed once: PEM decoding costs far more than a signature. */
struct bg_ed25519_key {
	EVP_PKEY *pkey;
};

bg_status
bg_ed25519_key_from_pem(const char *pem, size_t pem_len, bg_ed25519_key **out,
    bg_error *err)
{
	EVP_PKEY *pkey = NULL;
	BIO *bio;

	*out = NULL;
	if (pem_len > INT32_MAX)
		return bg_error_set(err, BG_ERR_TOOBIG, "private key too large");
	bio = BIO_new_mem_buf(pem, (int)pem_len);
	if (bio != NULL)
		pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (pkey == NULL || EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519) {
		EVP_PKEY_free(pkey);
		return bg_error_set(err, BG_ERR_INVALID, "not a PEM Ed25519 private key");
	}
	if ((*out = malloc(sizeof(**out))) == NULL) {
		EVP_PKEY_free(pkey);
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	}
	(*out)->pkey = pkey;
	return BG_OK;
}

bg_status
bg_ed25519_sign(const bg_ed25519_key *key, const void *msg, size_t msg_len,
    unsigned char sig[BG_ED25519_SIG_LEN], bg_error *err)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	size_t sig_len = BG_ED25519_SIG_LEN;
	bg_status rc = BG_OK;

	if (md == NULL || EVP_DigestSignInit(md, NULL, NULL, NULL, key->pkey) != 1 ||
	    EVP_DigestSign(md, sig, &sig_len, msg, msg_len) != 1 ||
	    sig_len != BG_ED25519_SIG_LEN)
		rc = bg_error_set(err, BG_ERR_CRYPTO, "Ed25519 signing failed");
	EVP_MD_CTX_free(md);
	return rc;
}

void
bg_ed25519_key_free(bg_ed25519_key *key)
{
	if (key == NULL)
		return;
	/* EVP_PKEY_free clears the key material. */
	EVP_PKEY_free(key->pkey);
	free(key);
}
