/*
 * SHA-256, HMAC-SHA256, Ed25519, randomness and encodings, with two
 * implementations that the same unit tests hold equal (tests/unit/test_crypto.c):
 * crypto.c on OpenSSL libcrypto for everything but the sudo plugin's core,
 * crypto_sodium.c on libsodium for that core alone (common/Makefile.am).
 */
#ifndef BG_CRYPTO_H
#define BG_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>

#include "hex.h"
#include "status.h"

#define BG_SHA256_LEN 32
#define BG_SHA256_HEX_LEN 64
#define BG_ED25519_SIG_LEN 64

/*
 * Initialises the crypto library for a process in which nothing else uses
 * it (the sudo plugin's core inside sudo).  With libcrypto: no openssl.cnf,
 * no legacy name tables, no error strings, no clean-up at exit (a library
 * that shares the process and needs those would miss them); with
 * libsodium: sodium_init().  Call before any other function here.
 */
bg_status bg_crypto_init_sole_user(bg_error *err);

bg_status bg_sha256(const void *data, size_t len, unsigned char out[BG_SHA256_LEN],
    bg_error *err);

/*
 * SHA-256 with a context kept across digests: the verifier derives a key per
 * record, and a context made for each costs a third of the digest.
 */
typedef struct bg_sha256_ctx bg_sha256_ctx;
bg_status bg_sha256_ctx_new(bg_sha256_ctx **out, bg_error *err);
bg_status bg_sha256_with(bg_sha256_ctx *c, const void *data, size_t len,
    unsigned char out[BG_SHA256_LEN], bg_error *err);
void bg_sha256_ctx_free(bg_sha256_ctx *c);

bg_status bg_hmac_sha256(const void *key, size_t key_len, const void *data,
    size_t len, unsigned char out[BG_SHA256_LEN], bg_error *err);

/* A reusable HMAC-SHA256 context, for loops (the journal verifier). */
typedef struct bg_hmac bg_hmac;
bg_status bg_hmac_new(bg_hmac **out, bg_error *err);
bg_status bg_hmac_compute(bg_hmac *h, const void *key, size_t key_len,
    const void *data, size_t len, unsigned char out[BG_SHA256_LEN], bg_error *err);
void bg_hmac_free(bg_hmac *h);

bg_status bg_random_bytes(void *buf, size_t len, bg_error *err);

/* Constant-time comparison of two equally long buffers. */
bool bg_ct_equal(const void *a, const void *b, size_t len);

/* Standard base64 with padding.  *out is malloc()ed and NUL-terminated. */
bg_status bg_base64_encode(const unsigned char *in, size_t len, char **out,
    bg_error *err);
bg_status bg_base64_decode(const char *in, unsigned char **out, size_t *out_len,
    bg_error *err);

/* Ed25519 over msg with a PEM public key file (checked BG_FILE_CONFIG). */
bg_status bg_ed25519_verify_file(const char *pubkey_path, const void *msg,
    size_t msg_len, const unsigned char *sig, size_t sig_len, bg_error *err);
/* Ed25519 verification with a PEM public key held in memory. */
bg_status bg_ed25519_verify_pem(const char *pem, size_t pem_len, const void *msg,
    size_t msg_len, const unsigned char *sig, size_t sig_len, bg_error *err);
/* An Ed25519 private key loaded from a PEM file (checked BG_FILE_SECRET). */
typedef struct bg_ed25519_key bg_ed25519_key;
bg_status bg_ed25519_key_load(const char *privkey_path, bg_ed25519_key **out,
    bg_error *err);
bg_status bg_ed25519_sign(const bg_ed25519_key *key, const void *msg, size_t msg_len,
    unsigned char sig[BG_ED25519_SIG_LEN], bg_error *err);
void bg_ed25519_key_free(bg_ed25519_key *key);
/* Signs msg with a PEM private key file (checked BG_FILE_SECRET). */
bg_status bg_ed25519_sign_file(const char *privkey_path, const void *msg,
    size_t msg_len, unsigned char sig[BG_ED25519_SIG_LEN], bg_error *err);

/*
 * Reads a 32-byte key stored as 64 hex digits (optionally followed by a
 * newline) from a BG_FILE_SECRET file.  The caller zeroes key after use.
 */
bg_status bg_key_file_read(const char *path, unsigned char key[BG_SHA256_LEN],
    bg_error *err);

#endif
