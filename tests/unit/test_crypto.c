/*
 * Unit tests for crypto.h: digests, HMAC, encodings, Ed25519, key files.
 * Built twice: test_crypto against common/crypto.c (OpenSSL), and
 * test_crypto_sodium (BG_TEST_CRYPTO_SODIUM) against common/crypto_sodium.c
 * (libsodium, the sudo plugin's core), so both backends answer alike.
 */
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

/* RFC 4231 test cases 1, 2, 3, 6 and 7 (keys longer than a block: hashed first). */
static void
test_hmac_rfc4231(void **state)
{
	static const char long_data[] = "This is a test using a larger than block-size key and "
	    "a larger than block-size data. The key needs to be hashed before being used by "
	    "the HMAC algorithm.";
	unsigned char key[20], long_key[131], data[50], out[BG_SHA256_LEN];
	bg_hmac *h;

	(void)state;
	memset(key, 0x0b, sizeof(key));
	assert_int_equal(bg_hmac_sha256(key, sizeof(key), "Hi There", 8, out, NULL), BG_OK);
	hex_eq(out, sizeof(out), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	memset(key, 0xaa, sizeof(key));
	memset(data, 0xdd, sizeof(data));
	assert_int_equal(bg_hmac_sha256(key, sizeof(key), data, sizeof(data), out, NULL), BG_OK);
	hex_eq(out, sizeof(out), "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
	memset(long_key, 0xaa, sizeof(long_key));
	/* One context, its key changed between digests, as the journal verifier uses it. */
	assert_int_equal(bg_hmac_new(&h, NULL), BG_OK);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(bg_hmac_compute(h, "Jefe", 4, "what do ya want for nothing?", 28,
		    out, NULL), BG_OK);
		hex_eq(out, sizeof(out),
		    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
		assert_int_equal(bg_hmac_compute(h, long_key, sizeof(long_key),
		    "Test Using Larger Than Block-Size Key - Hash Key First", 54, out, NULL), BG_OK);
		hex_eq(out, sizeof(out),
		    "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
		assert_int_equal(bg_hmac_compute(h, long_key, sizeof(long_key), long_data,
		    sizeof(long_data) - 1, out, NULL), BG_OK);
		hex_eq(out, sizeof(out),
		    "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
	}
	bg_hmac_free(h);
}

/* A SHA-256 context gives each digest alone, however often it is reused. */
static void
test_sha256_ctx(void **state)
{
	unsigned char out[BG_SHA256_LEN];
	bg_sha256_ctx *c;

	(void)state;
	assert_int_equal(bg_sha256_ctx_new(&c, NULL), BG_OK);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(bg_sha256_with(c, "abc", 3, out, NULL), BG_OK);
		hex_eq(out, sizeof(out),
		    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
		assert_int_equal(bg_sha256_with(c, "", 0, out, NULL), BG_OK);
		hex_eq(out, sizeof(out),
		    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	}
	bg_sha256_ctx_free(c);
	bg_sha256_ctx_free(NULL);
}

static void
test_random(void **state)
{
	unsigned char a[32], b[32];

	(void)state;
	assert_int_equal(bg_random_bytes(a, sizeof(a), NULL), BG_OK);
	assert_int_equal(bg_random_bytes(b, sizeof(b), NULL), BG_OK);
	assert_false(bg_ct_equal(a, b, sizeof(a)));
	assert_int_equal(bg_random_bytes(a, 0, NULL), BG_OK);
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
	/* One, two and no '=': 1, 2 and 3 bytes of the last group; nothing lost. */
	for (size_t n = 0; n <= 7; n++) {
		static const unsigned char bytes[] = { 0x00, 0xff, 0x80, 0x7f, 0xfb, 0xef, 0x3e };

		assert_int_equal(bg_base64_encode(bytes, n, &enc, &err), BG_OK);
		if (n == 0) {
			assert_string_equal(enc, "");
		} else {
			assert_int_equal(bg_base64_decode(enc, &dec, &len, &err), BG_OK);
			assert_int_equal(len, n);
			assert_memory_equal(dec, bytes, n);
			free(dec);
		}
		free(enc);
	}
	assert_int_equal(bg_base64_decode("+/+/", &dec, &len, &err), BG_OK);
	assert_int_equal(len, 3);
	assert_memory_equal(dec, "\xfb\xff\xbf", 3);
	free(dec);
	/* Non-zero bits under the padding: another text of the same bytes, refused. */
	assert_int_equal(bg_base64_decode("QR==", &dec, &len, &err), BG_ERR_INVALID);
	assert_int_equal(bg_base64_decode("QUJ=", &dec, &len, &err), BG_ERR_INVALID);
	assert_int_equal(bg_base64_decode("QQ==", &dec, &len, &err), BG_OK);
	free(dec);
	assert_int_equal(bg_base64_decode("QUI=", &dec, &len, &err), BG_OK);
	free(dec);
	/* URL-safe letters, '=' inside, too much padding, bytes outside ASCII. */
	assert_int_equal(bg_base64_decode("-_-_", &dec, &len, &err), BG_ERR_INVALID);
	assert_int_equal(bg_base64_decode("QQ==QQ==", &dec, &len, &err), BG_ERR_INVALID);
	assert_int_equal(bg_base64_decode("Q===", &dec, &len, &err), BG_ERR_INVALID);
	assert_int_equal(bg_base64_decode("====", &dec, &len, &err), BG_ERR_INVALID);
	assert_int_equal(bg_base64_decode("QUJ\xe9", &dec, &len, &err), BG_ERR_INVALID);
	assert_int_equal(bg_base64_decode("QUJD\r\n", &dec, &len, &err), BG_ERR_INVALID);
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

/* RFC 8032, section 7.1, tests 1 to 3, as PKCS#8 and SubjectPublicKeyInfo PEM. */
static const struct {
	const char *pkcs8, *spki, *msg_hex, *sig_hex;
} rfc8032[] = {
	{ "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g",
	  "MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=", "",
	  "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bac"
	  "c61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b" },
	{ "MC4CAQAwBQYDK2VwBCIEIEzNCJso/5banbbDRuwRTg9bijGfNaumJNqM9u1PuKb7",
	  "MCowBQYDK2VwAyEAPUAXw+hDiVqStwqnTRt+vJyYLM8uxJaMwM1V8Sr0Zgw=", "72",
	  "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e"
	  "458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00" },
	{ "MC4CAQAwBQYDK2VwBCIEIMWqjfQ/n4N77bdELzHct7Fm04U1B28JS4XOOi4LRFj3",
	  "MCowBQYDK2VwAyEA/FHNjmIYoaONpH7QAjDwWAgW7RO6MwOsXeuRFUiQgCU=", "af82",
	  "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290"
	  "ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a" },
};
#define PEM_PUBLIC(b64, nl) \
	"-----BEGIN PUBLIC KEY-----" nl b64 nl "-----END PUBLIC KEY-----" nl
#define PEM_PRIVATE(b64, nl) \
	"-----BEGIN PRIVATE KEY-----" nl b64 nl "-----END PRIVATE KEY-----" nl
#define RFC8032_SPKI "MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="

static void
test_ed25519_rfc8032(void **state)
{
	char *dir = tu_mkdtemp(), pem[256], *path;
	unsigned char msg[2], want[BG_ED25519_SIG_LEN], sig[BG_ED25519_SIG_LEN];
	bg_ed25519_key *key;
	bg_error err;

	(void)state;
	for (size_t i = 0; i < sizeof(rfc8032) / sizeof(rfc8032[0]); i++) {
		size_t msg_len = strlen(rfc8032[i].msg_hex) / 2;

		assert_int_equal(bg_hex_decode(rfc8032[i].msg_hex, msg, msg_len, &err), BG_OK);
		assert_int_equal(bg_hex_decode(rfc8032[i].sig_hex, want, sizeof(want), &err), BG_OK);
		snprintf(pem, sizeof(pem), PEM_PRIVATE("%s", "\n"), rfc8032[i].pkcs8);
		path = tu_write(dir, "rfc8032.pem", 0600, pem);
		assert_int_equal(bg_ed25519_key_load(path, &key, &err), BG_OK);
		assert_int_equal(bg_ed25519_sign(key, msg, msg_len, sig, &err), BG_OK);
		assert_memory_equal(sig, want, sizeof(sig));
		bg_ed25519_key_free(key);
		free(path);
		snprintf(pem, sizeof(pem), PEM_PUBLIC("%s", "\n"), rfc8032[i].spki);
		assert_int_equal(bg_ed25519_verify_pem(pem, strlen(pem), msg, msg_len, want,
		    sizeof(want), &err), BG_OK);
		want[i] ^= 0x40;
		assert_int_equal(bg_ed25519_verify_pem(pem, strlen(pem), msg, msg_len, want,
		    sizeof(want), &err), BG_ERR_CRYPTO);
		assert_string_equal(err.msg, "Ed25519 signature does not verify");
	}
	tu_rmtree(dir);
	free(dir);
}

/*
 * The public key in the PEM forms a service_key file may take.  Both backends
 * read the one-line form OpenSSL writes, with LF or CRLF; OpenSSL's full
 * parser reads others too, which the sudo core's backend refuses (and
 * `breakglass check-config` with it, config.c).
 */
static void
test_ed25519_pem_forms(void **state)
{
	static const char sig_hex[] =
	    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bac"
	    "c61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";
	static const char *const same_key[] = {
		PEM_PUBLIC(RFC8032_SPKI, "\n"),
		PEM_PUBLIC(RFC8032_SPKI, "\r\n"),
		"-----BEGIN PUBLIC KEY-----\n" RFC8032_SPKI "\n-----END PUBLIC KEY-----",
	};
	/* What OpenSSL reads and the strict form does not. */
	static const char *const openssl_only[] = {
		"a comment before the armour\n" PEM_PUBLIC(RFC8032_SPKI, "\n"),
		PEM_PUBLIC(RFC8032_SPKI, "\n") "\n",
		"-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7h\n"
		"cvPapiMlrwIaaPcHURo=\n-----END PUBLIC KEY-----\n",
	};
	/* What neither reads: the armour, base64 or DER wrong. */
	static const char *const refused[] = {
		"nope",
		PEM_PUBLIC(RFC8032_SPKI, "\r"),
		"-----BEGIN PUBLIC KEY-----\n" RFC8032_SPKI "\n",
		PEM_PRIVATE(RFC8032_SPKI, "\n"),
		/* damaged base64 */
		PEM_PUBLIC("MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHUR*=", "\n"),
		/* a byte short: 43 bytes of DER */
		PEM_PUBLIC("MCkwBQYDK2VwAyAA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHUQ==", "\n"),
		/* the PKCS#8 of RFC 8032 test 1 where the public key belongs */
		PEM_PUBLIC("MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g", "\n"),
	};
	/* The same 32 bytes as an X25519 key: the right length, the wrong algorithm. */
	static const char x25519[] =
	    PEM_PUBLIC("MCowBQYDK2VuAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=", "\n");
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
	for (size_t i = 0; i < sizeof(openssl_only) / sizeof(openssl_only[0]); i++) {
		bg_status rc = bg_ed25519_verify_pem(openssl_only[i], strlen(openssl_only[i]),
		    "", 0, sig, sizeof(sig), &err);
#ifdef BG_TEST_CRYPTO_SODIUM
		assert_int_equal(rc, BG_ERR_INVALID);
		assert_true(strncmp(err.msg, "not a PEM public key: ", 22) == 0);
#else
		assert_int_equal(rc, BG_OK);
#endif
	}
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		assert_int_equal(bg_ed25519_verify_pem(refused[i], strlen(refused[i]), "", 0,
		    sig, sizeof(sig), &err), BG_ERR_INVALID);
		assert_true(strncmp(err.msg, "not a PEM public key", 20) == 0);
	}
	assert_int_equal(bg_ed25519_verify_pem(x25519, strlen(x25519), "", 0, sig, sizeof(sig),
	    &err), BG_ERR_INVALID);
	assert_string_equal(err.msg, "public key is not Ed25519");
	/* A signature of the wrong length, with a good key. */
	assert_int_equal(bg_ed25519_verify_pem(same_key[0], strlen(same_key[0]), "", 0, sig, 63,
	    &err), BG_ERR_CRYPTO);
}

/* Private keys: the strict form both read; a wrong algorithm or form refused. */
static void
test_ed25519_private_forms(void **state)
{
	static const char *const refused[] = {
		/* X25519's PKCS#8 */
		PEM_PRIVATE("MC4CAQAwBQYDK2VuBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g", "\n"),
		PEM_PUBLIC(RFC8032_SPKI, "\n"),
		PEM_PRIVATE("MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9*", "\n"),
		"garbage\n",
	};
	char *dir = tu_mkdtemp(), *path;
	bg_ed25519_key *key;
	bg_error err;

	(void)state;
	path = tu_write(dir, "crlf.pem", 0600, PEM_PRIVATE(
	    "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g", "\r\n"));
	assert_int_equal(bg_ed25519_key_load(path, &key, &err), BG_OK);
	bg_ed25519_key_free(key);
	free(path);
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		path = tu_write(dir, "bad.pem", 0600, refused[i]);
		assert_int_equal(bg_ed25519_key_load(path, &key, &err), BG_ERR_INVALID);
		assert_null(key);
		assert_non_null(strstr(err.msg, "bad.pem: not a PEM Ed25519 private key"));
		/* The key's bytes never show. */
		assert_null(strstr(err.msg, "MC4C"));
		free(path);
	}
	tu_rmtree(dir);
	free(dir);
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
		cmocka_unit_test(test_sha256_ctx),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_ct_equal),
		cmocka_unit_test(test_ed25519),
		cmocka_unit_test(test_ed25519_key),
		cmocka_unit_test(test_ed25519_rfc8032),
		cmocka_unit_test(test_ed25519_pem_forms),
		cmocka_unit_test(test_ed25519_private_forms),
		cmocka_unit_test(test_key_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
