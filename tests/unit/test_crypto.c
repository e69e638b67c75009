/* Unit tests for common/crypto.c: digests, HMAC, encodings, Ed25519, key files. */
#include "build_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto.h"
#include "testutil.h"

static void
hex_eq(const unsigned char *got, size_t len, const char *want)
{
	char hex[256];

	bg_hex_encode(got, len, hex);
	assert_string_equal(hex, want);
}

static void
test_sha256_vector(void **state)
{
	unsigned char out[BG_SHA256_LEN];

	(void)state;
	assert_int_equal(bg_sha256("abc", 3, out, NULL), BG_OK);
	hex_eq(out, sizeof(out), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

/* RFC 4231 test cases 1 and 2. */
static void
test_hmac_rfc4231(void **state)
{
	unsigned char key[20], out[BG_SHA256_LEN];
	bg_hmac *h;

	(void)state;
	memset(key, 0x0b, sizeof(key));
	assert_int_equal(bg_hmac_sha256(key, sizeof(key), "Hi There", 8, out, NULL), BG_OK);
	hex_eq(out, sizeof(out), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	assert_int_equal(bg_hmac_new(&h, NULL), BG_OK);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(bg_hmac_compute(h, "Jefe", 4, "what do ya want for nothing?", 28,
		    out, NULL), BG_OK);
		hex_eq(out, sizeof(out),
		    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	}
	bg_hmac_free(h);
}

static void
test_hex(void **state)
{
	unsigned char out[4];
	bg_error err;

	(void)state;
	assert_int_equal(bg_hex_decode("deadBEEF", out, 4, &err), BG_OK);
	hex_eq(out, 4, "deadbeef");
	assert_int_equal(bg_hex_decode("deadbee", out, 4, &err), BG_ERR_INVALID);
	assert_int_equal(bg_hex_decode("deadbeefaa", out, 4, &err), BG_ERR_INVALID);
	assert_int_equal(bg_hex_decode("deadbeeg", out, 4, &err), BG_ERR_INVALID);
	assert_int_equal(bg_hex_decode("", out, 0, &err), BG_OK);
}

static void
test_base64(void **state)
{
	unsigned char *dec;
	size_t len;
	char *enc;
	bg_error err;

	(void)state;
	assert_int_equal(bg_base64_encode((const unsigned char *)"hello!?", 7, &enc, &err), BG_OK);
	assert_string_equal(enc, "aGVsbG8hPw==");
	assert_int_equal(bg_base64_decode(enc, &dec, &len, &err), BG_OK);
	assert_int_equal(len, 7);
	assert_memory_equal(dec, "hello!?", 7);
	free(dec);
	free(enc);
	assert_int_equal(bg_base64_decode("aGVsbG8hPw=", &dec, &len, &err), BG_ERR_INVALID);
	assert_int_equal(bg_base64_decode("aGVs bG8h", &dec, &len, &err), BG_ERR_INVALID);
	assert_int_equal(bg_base64_decode("aG=sbG8h", &dec, &len, &err), BG_ERR_INVALID);
	assert_int_equal(bg_base64_decode("", &dec, &len, &err), BG_ERR_INVALID);
	assert_int_equal(bg_base64_decode("aGVsbG8h\n", &dec, &len, &err), BG_ERR_INVALID);
}

static void
test_ct_equal(void **state)
{
	(void)state;
	assert_true(bg_ct_equal("abcd", "abcd", 4));
	assert_false(bg_ct_equal("abcd", "abce", 4));
}

static void
test_ed25519(void **state)
{
	unsigned char sig[BG_ED25519_SIG_LEN];
	char *dir = tu_mkdtemp(), *priv, *pub, *other_priv, *other_pub, *sub;
	const char msg[] = "{\"status\":\"approved\"}";
	bg_error err;

	(void)state;
	tu_make_ed25519(dir, "signing", &priv, &pub);
	assert_int_equal(bg_ed25519_sign_file(priv, msg, sizeof(msg) - 1, sig, &err), BG_OK);
	assert_int_equal(bg_ed25519_verify_file(pub, msg, sizeof(msg) - 1, sig, sizeof(sig), &err),
	    BG_OK);
	/* One changed byte of message or signature fails. */
	assert_int_equal(bg_ed25519_verify_file(pub, msg, sizeof(msg) - 2, sig, sizeof(sig), &err),
	    BG_ERR_CRYPTO);
	sig[10] ^= 1;
	assert_int_equal(bg_ed25519_verify_file(pub, msg, sizeof(msg) - 1, sig, sizeof(sig), &err),
	    BG_ERR_CRYPTO);
	assert_int_equal(bg_ed25519_verify_file(pub, msg, sizeof(msg) - 1, sig, 63, &err),
	    BG_ERR_CRYPTO);
	/* Another key's signature fails. */
	sub = tu_path(dir, "other");
	assert_int_equal(mkdir(sub, 0700), 0);
	tu_make_ed25519(sub, "signing", &other_priv, &other_pub);
	assert_int_equal(bg_ed25519_sign_file(other_priv, msg, sizeof(msg) - 1, sig, &err), BG_OK);
	assert_int_equal(bg_ed25519_verify_file(pub, msg, sizeof(msg) - 1, sig, sizeof(sig), &err),
	    BG_ERR_CRYPTO);
	/* A private key readable by others is refused. */
	chmod(priv, 0640);
	assert_int_equal(bg_ed25519_sign_file(priv, msg, sizeof(msg) - 1, sig, &err), BG_ERR_PERM);
	/* Garbage is not a key. */
	assert_int_equal(bg_ed25519_verify_pem("nope", 4, msg, 3, sig, sizeof(sig), &err),
	    BG_ERR_INVALID);
	tu_rmtree(dir);
	free(priv); free(pub); free(other_priv); free(other_pub); free(sub); free(dir);
}

/* A key loaded once signs like the file it came from, for as long as it is held. */
static void
test_ed25519_key(void **state)
{
	unsigned char sig[BG_ED25519_SIG_LEN], again[BG_ED25519_SIG_LEN];
	char *dir = tu_mkdtemp(), *priv, *pub, *link;
	const char msg[] = "{\"status\":\"denied\"}";
	bg_ed25519_key *key = NULL;
	bg_error err;

	(void)state;
	tu_make_ed25519(dir, "signing", &priv, &pub);
	assert_int_equal(bg_ed25519_key_load(priv, &key, &err), BG_OK);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(bg_ed25519_sign(key, msg, sizeof(msg) - 1, sig, &err), BG_OK);
		assert_int_equal(bg_ed25519_verify_file(pub, msg, sizeof(msg) - 1, sig,
		    sizeof(sig), &err), BG_OK);
	}
	/* Ed25519 is deterministic: the same bytes as signing from the file. */
	assert_int_equal(bg_ed25519_sign_file(priv, msg, sizeof(msg) - 1, again, &err), BG_OK);
	assert_memory_equal(sig, again, sizeof(sig));
	bg_ed25519_key_free(key);
	/* The file's checks hold at load: a public key, a symlink, loose modes. */
	key = NULL;
	assert_int_equal(bg_ed25519_key_load(pub, &key, &err), BG_ERR_PERM);
	link = tu_path(dir, "link.pem");
	assert_int_equal(symlink(priv, link), 0);
	assert_int_not_equal(bg_ed25519_key_load(link, &key, &err), BG_OK);
	chmod(priv, 0640);
	assert_int_equal(bg_ed25519_key_load(priv, &key, &err), BG_ERR_PERM);
	assert_null(key);
	bg_ed25519_key_free(NULL);
	tu_rmtree(dir);
	free(priv); free(pub); free(link); free(dir);
}

/*
 * RFC 8032, section 7.1, test 1 (the empty message), with the public key in
 * the PEM forms a service_key file may take: OpenSSL's own (imported raw),
 * and others that only the full PEM parser reads, which must agree with it.
 */
#define RFC8032_SPKI "MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
#define PEM_PUBLIC(b64, nl) \
	"-----BEGIN PUBLIC KEY-----" nl b64 nl "-----END PUBLIC KEY-----" nl

static void
test_ed25519_pem_forms(void **state)
{
	static const char sig_hex[] =
	    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bac"
	    "c61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";
	static const char *const same_key[] = {
		PEM_PUBLIC(RFC8032_SPKI, "\n"),
		PEM_PUBLIC(RFC8032_SPKI, "\r\n"),
		"a comment before the armour\n" PEM_PUBLIC(RFC8032_SPKI, "\n"),
		PEM_PUBLIC(RFC8032_SPKI, "\n") "\n",
	};
	/* The same 32 bytes as an X25519 key: the right length, the wrong algorithm. */
	static const char x25519[] =
	    PEM_PUBLIC("MCowBQYDK2VuAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=", "\n");
	/* OpenSSL's form, its base64 damaged. */
	static const char damaged[] =
	    PEM_PUBLIC("MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHUR*=", "\n");
	unsigned char sig[BG_ED25519_SIG_LEN];
	bg_error err;

	(void)state;
	assert_int_equal(bg_hex_decode(sig_hex, sig, sizeof(sig), &err), BG_OK);
	for (size_t i = 0; i < sizeof(same_key) / sizeof(same_key[0]); i++) {
		assert_int_equal(bg_ed25519_verify_pem(same_key[i], strlen(same_key[i]), "", 0,
		    sig, sizeof(sig), &err), BG_OK);
		sig[63] ^= 1;
		assert_int_equal(bg_ed25519_verify_pem(same_key[i], strlen(same_key[i]), "", 0,
		    sig, sizeof(sig), &err), BG_ERR_CRYPTO);
		sig[63] ^= 1;
		assert_int_equal(bg_ed25519_verify_pem(same_key[i], strlen(same_key[i]), "x", 1,
		    sig, sizeof(sig), &err), BG_ERR_CRYPTO);
	}
	assert_int_equal(bg_ed25519_verify_pem(x25519, strlen(x25519), "", 0, sig, sizeof(sig),
	    &err), BG_ERR_INVALID);
	assert_string_equal(err.msg, "public key is not Ed25519");
	assert_int_equal(bg_ed25519_verify_pem(damaged, strlen(damaged), "", 0, sig, sizeof(sig),
	    &err), BG_ERR_INVALID);
	assert_string_equal(err.msg, "not a PEM public key");
}

static void
test_key_file(void **state)
{
	char *dir = tu_mkdtemp(), *p;
	unsigned char key[BG_SHA256_LEN];
	bg_error err;

	(void)state;
	p = tu_write(dir, "k", 0600,
	    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n");
	assert_int_equal(bg_key_file_read(p, key, &err), BG_OK);
	assert_int_equal(key[31], 0x1f);
	free(p);
	p = tu_write(dir, "short", 0600, "0001\n");
	assert_int_equal(bg_key_file_read(p, key, &err), BG_ERR_INVALID);
	assert_non_null(strstr(err.msg, "64 hex digits"));
	free(p);
	p = tu_write(dir, "open", 0644,
	    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n");
	assert_int_equal(bg_key_file_read(p, key, &err), BG_ERR_PERM);
	/* The secret never appears in an error message. */
	assert_null(strstr(err.msg, "0001020304"));
	free(p);
	tu_rmtree(dir);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256_vector),
		cmocka_unit_test(test_hmac_rfc4231),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_ct_equal),
		cmocka_unit_test(test_ed25519),
		cmocka_unit_test(test_ed25519_key),
		cmocka_unit_test(test_ed25519_pem_forms),
		cmocka_unit_test(test_key_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
