/*
 * The only key parsing done by hand (crypto_common.c, bg_pem_ed25519_raw:
 * the sudo plugin core's one reader of Ed25519 PEM keys) and the base64 both
 * backends of crypto.h decode, against OpenSSL's and libsodium's own.
 *
 * - bg_pem_ed25519_raw: a text it accepts as a public (private) key, OpenSSL's
 *   full PEM parser reads as an Ed25519 public (private) key with the same
 *   32 bytes: the strict form is a subset of OpenSSL's, with one meaning.
 * - bg_base64_decode (OpenSSL backend) accepts exactly the texts that
 *   crypto_sodium.c's accepts (bg_base64_check, then libsodium's decoder),
 *   with the same bytes.  libsodium 1.0.18 alone is no reference: it reads
 *   bytes above 0x7f as base64 letters (regressions/pem), which is why
 *   crypto_sodium.c checks the text first.
 */
#include "build_config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sodium.h>

#include "crypto.h"
#include "crypto_backend.h"
#include "fuzz.h"

static void
check_openssl_reads(const uint8_t *data, size_t size, bg_pem_ed25519_kind kind,
    const unsigned char raw[BG_ED25519_KEY_LEN])
{
	unsigned char got[BG_ED25519_KEY_LEN];
	size_t got_len = sizeof(got);
	BIO *bio = BIO_new_mem_buf(data, (int)size);
	EVP_PKEY *pkey;
	int ok;

	if (bio == NULL)
		fz_fail("BIO_new_mem_buf");
	pkey = kind == BG_PEM_ED25519_PUBLIC ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) :
	    PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (pkey == NULL || EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519)
		fz_fail("the strict form read a key OpenSSL does not");
	ok = kind == BG_PEM_ED25519_PUBLIC ?
	    EVP_PKEY_get_raw_public_key(pkey, got, &got_len) :
	    EVP_PKEY_get_raw_private_key(pkey, got, &got_len);
	EVP_PKEY_free(pkey);
	if (ok != 1 || got_len != sizeof(got) || memcmp(got, raw, sizeof(got)) != 0)
		fz_fail("the strict form and OpenSSL read different keys");
}

static void
check_base64(const uint8_t *data, size_t size)
{
	char *text = fz_strndup(data, size);
	size_t len = strlen(text), n = 0;
	unsigned char *dec = NULL, *ref = malloc(len + 1);
	size_t dec_len = 0;
	size_t pad;
	bool ours, theirs;

	if (ref == NULL)
		fz_fail("out of memory");
	ours = bg_base64_decode(text, &dec, &dec_len, NULL) == BG_OK;
	theirs = bg_base64_check(text, len, &pad, NULL) == BG_OK &&
	    sodium_base642bin(ref, len, text, len, NULL, &n, NULL,
	    sodium_base64_VARIANT_ORIGINAL) == 0 && n == len / 4 * 3 - pad;
	if (ours != theirs)
		fz_fail("base64: the OpenSSL backend %s what the libsodium one %s",
		    ours ? "accepts" : "refuses", theirs ? "accepts" : "refuses");
	if (ours && (dec_len != n || memcmp(dec, ref, n) != 0))
		fz_fail("base64: the backends decode to different bytes");
	free(dec);
	free(ref);
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const bg_pem_ed25519_kind kinds[] = {
		BG_PEM_ED25519_PUBLIC, BG_PEM_ED25519_PRIVATE,
	};
	unsigned char raw[BG_ED25519_KEY_LEN];

	if (size > 4096)
		return 0;
	if (sodium_init() < 0)
		fz_fail("sodium_init");
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (bg_pem_ed25519_raw((const char *)data, size, kinds[i], raw, NULL) == BG_OK)
			check_openssl_reads(data, size, kinds[i], raw);
	check_base64(data, size);
	return 0;
}
