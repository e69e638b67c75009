/*
 * The part of crypto.h that needs no cryptographic library, shared by its
 * two backends (crypto_backend.h): key files, the strict Ed25519 PEM form,
 * base64's canonical form, and the one-shot HMAC over the reusable one.
 */
#include "build_config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "crypto_backend.h"
#include "fileio.h"

#define PEM_MAX_SIZE (16 * 1024)
#define KEY_FILE_MAX_SIZE 256

static int
base64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

bg_status
bg_base64_check(const char *in, size_t len, size_t *pad, bg_error *err)
{
	size_t data;

	*pad = 0;
	if (len == 0 || len % 4 != 0 || len > INT32_MAX / 2)
		return bg_error_set(err, BG_ERR_INVALID, "malformed base64");
	if (in[len - 1] == '=')
		*pad = in[len - 2] == '=' ? 2 : 1;
	data = len - *pad;
	for (size_t i = 0; i < data; i++)
		if (base64_value((unsigned char)in[i]) < 0)
			return bg_error_set(err, BG_ERR_INVALID, "malformed base64");
	/* One '=' leaves 2 bits of the last character over, two leave 4. */
	if (*pad > 0 && (base64_value((unsigned char)in[data - 1]) &
	    ((1 << (2 * *pad)) - 1)) != 0)
		return bg_error_set(err, BG_ERR_INVALID, "malformed base64");
	return BG_OK;
}

/* RFC 8410: SubjectPublicKeyInfo and PKCS#8 PrivateKeyInfo of Ed25519. */
static const unsigned char spki_prefix[] = {
	0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
};
static const unsigned char pkcs8_prefix[] = {
	0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70,
	0x04, 0x22, 0x04, 0x20,
};
/* Where the algorithm's OID ends (1.3.101.112; X25519 is 1.3.101.110). */
#define SPKI_OID_LAST 8
#define PKCS8_OID_LAST 11

/* Consumes what ends a line: LF or CRLF, or the end of the text when allowed. */
static bool
line_end(const char **p, const char *end, bool may_end)
{
	if (*p == end)
		return may_end;
	if (**p == '\n') {
		(*p)++;
		return true;
	}
	if (end - *p >= 2 && (*p)[0] == '\r' && (*p)[1] == '\n') {
		*p += 2;
		return true;
	}
	return false;
}

static bool
fixed_line(const char **p, const char *end, const char *text, bool may_end)
{
	size_t n = strlen(text);

	if ((size_t)(end - *p) < n || memcmp(*p, text, n) != 0)
		return false;
	*p += n;
	return line_end(p, end, may_end);
}

bg_status
bg_pem_ed25519_raw(const char *pem, size_t pem_len, bg_pem_ed25519_kind kind,
    unsigned char raw[BG_ED25519_KEY_LEN], bg_error *err)
{
	const bool public = kind == BG_PEM_ED25519_PUBLIC;
	const char *what = public ? "not a PEM public key" : "not a PEM Ed25519 private key";
	const unsigned char *prefix = public ? spki_prefix : pkcs8_prefix;
	const size_t prefix_len = public ? sizeof(spki_prefix) : sizeof(pkcs8_prefix);
	const size_t der_len = prefix_len + BG_ED25519_KEY_LEN;
	const size_t b64_len = (der_len + 2) / 3 * 4;  /* 60 and 64: one PEM line */
	const size_t oid_last = public ? SPKI_OID_LAST : PKCS8_OID_LAST;
	const char *p = pem, *end = pem + pem_len, *body;
	char b64[64 + 1];
	unsigned char *der = NULL;
	size_t len = 0;
	bg_status rc;

	if (!fixed_line(&p, end, public ? "-----BEGIN PUBLIC KEY-----" :
	    "-----BEGIN PRIVATE KEY-----", false))
		return bg_error_set(err, BG_ERR_INVALID, "%s: no BEGIN line", what);
	body = p;
	while (p < end && *p != '\r' && *p != '\n')
		p++;
	if ((size_t)(p - body) != b64_len || !line_end(&p, end, false))
		return bg_error_set(err, BG_ERR_INVALID,
		    "%s: not one line of %zu base64 characters", what, b64_len);
	if (!fixed_line(&p, end, public ? "-----END PUBLIC KEY-----" :
	    "-----END PRIVATE KEY-----", true) || p != end)
		return bg_error_set(err, BG_ERR_INVALID, "%s: no END line at the end", what);
	memcpy(b64, body, b64_len);
	b64[b64_len] = '\0';
	rc = bg_base64_decode(b64, &der, &len, NULL);
	explicit_bzero(b64, sizeof(b64));
	if (rc != BG_OK)
		return bg_error_set(err, BG_ERR_INVALID, "%s: malformed base64", what);
	if (len == der_len && memcmp(der, prefix, oid_last) == 0 &&
	    memcmp(der + oid_last + 1, prefix + oid_last + 1, prefix_len - oid_last - 1) == 0 &&
	    der[oid_last] != prefix[oid_last])
		rc = bg_error_set(err, BG_ERR_INVALID, public ? "public key is not Ed25519" :
		    "%s: another algorithm", what);
	else if (len != der_len || memcmp(der, prefix, prefix_len) != 0)
		rc = bg_error_set(err, BG_ERR_INVALID, "%s: not the %zu-byte DER of RFC 8410",
		    what, der_len);
	else
		memcpy(raw, der + prefix_len, BG_ED25519_KEY_LEN);
	explicit_bzero(der, len);
	free(der);
	return rc;
}

bg_status
bg_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
    unsigned char out[BG_SHA256_LEN], bg_error *err)
{
	bg_hmac *h;
	bg_status rc;

	rc = bg_hmac_new(&h, err);
	if (rc != BG_OK)
		return rc;
	rc = bg_hmac_compute(h, key, key_len, data, len, out, err);
	bg_hmac_free(h);
	return rc;
}

bg_status
bg_ed25519_verify_file(const char *pubkey_path, const void *msg, size_t msg_len,
    const unsigned char *sig, size_t sig_len, bg_error *err)
{
	char *pem;
	size_t len;
	bg_status rc;

	rc = bg_file_read(pubkey_path, BG_FILE_CONFIG, PEM_MAX_SIZE, &pem, &len, err);
	if (rc != BG_OK)
		return rc;
	rc = bg_ed25519_verify_pem(pem, len, msg, msg_len, sig, sig_len, err);
	free(pem);
	if (rc == BG_ERR_INVALID)
		bg_error_prefix(err, "%s", pubkey_path);
	return rc;
}

bg_status
bg_ed25519_key_load(const char *privkey_path, bg_ed25519_key **out, bg_error *err)
{
	char *pem;
	size_t len;
	bg_status rc;

	*out = NULL;
	rc = bg_file_read(privkey_path, BG_FILE_SECRET, PEM_MAX_SIZE, &pem, &len, err);
	if (rc != BG_OK)
		return rc;
	rc = bg_ed25519_key_from_pem(pem, len, out, err);
	bg_file_free_secret(pem, len);
	if (rc == BG_ERR_INVALID)
		bg_error_prefix(err, "%s", privkey_path);
	return rc;
}

bg_status
bg_ed25519_sign_file(const char *privkey_path, const void *msg, size_t msg_len,
    unsigned char sig[BG_ED25519_SIG_LEN], bg_error *err)
{
	bg_ed25519_key *key;
	bg_status rc = bg_ed25519_key_load(privkey_path, &key, err);

	if (rc != BG_OK)
		return rc;
	rc = bg_ed25519_sign(key, msg, msg_len, sig, err);
	bg_ed25519_key_free(key);
	return rc;
}

bg_status
bg_key_file_read(const char *path, unsigned char key[BG_SHA256_LEN], bg_error *err)
{
	char *text;
	size_t len;
	bg_status rc;

	rc = bg_file_read(path, BG_FILE_SECRET, KEY_FILE_MAX_SIZE, &text, &len, err);
	if (rc != BG_OK)
		return rc;
	/* One line of hex; a single trailing newline is allowed. */
	if (len > 0 && text[len - 1] == '\n')
		text[--len] = '\0';
	rc = bg_hex_decode(text, key, BG_SHA256_LEN, err);
	bg_file_free_secret(text, KEY_FILE_MAX_SIZE + 1);
	if (rc != BG_OK)
		return bg_error_set(err, rc, "%s: must hold exactly %d hex digits",
		    path, BG_SHA256_HEX_LEN);
	return BG_OK;
}
