/*
 * What the two implementations of crypto.h share: crypto.c (OpenSSL
 * libcrypto: the PAM module, the CLI, the approval service) and
 * crypto_sodium.c (libsodium: the sudo plugin's core, where loading
 * libcrypto alone costs more than sudo's budget).  crypto_common.c holds the
 * parts that need no cryptographic library; each backend provides the rest.
 */
#ifndef BG_CRYPTO_BACKEND_H
#define BG_CRYPTO_BACKEND_H

#include <stddef.h>

#include "crypto.h"

#define BG_ED25519_KEY_LEN 32

/*
 * Checks that in (len bytes) is canonical base64: a multiple of four
 * characters of the standard alphabet, '=' only as one or two final
 * characters, and the bits that padding leaves over zero, so that one byte
 * string has exactly one accepted text.  *pad is the number of '='.
 */
bg_status bg_base64_check(const char *in, size_t len, size_t *pad, bg_error *err);

/*
 * The one form of an Ed25519 key read without a PEM library: the armour
 * lines around one line of base64 (lines end in LF or CRLF; the last line
 * end may be missing) holding the RFC 8410 DER, which is a fixed prefix and
 * the 32 key bytes (the public key of a SubjectPublicKeyInfo, the seed of a
 * PKCS#8 PrivateKeyInfo).  Anything else is BG_ERR_INVALID.  For a private
 * key the caller zeroes raw.
 */
typedef enum { BG_PEM_ED25519_PUBLIC, BG_PEM_ED25519_PRIVATE } bg_pem_ed25519_kind;
bg_status bg_pem_ed25519_raw(const char *pem, size_t pem_len, bg_pem_ed25519_kind kind,
    unsigned char raw[BG_ED25519_KEY_LEN], bg_error *err);

/* Each backend: a private key from the PEM text of a file already checked. */
bg_status bg_ed25519_key_from_pem(const char *pem, size_t pem_len,
    bg_ed25519_key **out, bg_error *err);

#endif
