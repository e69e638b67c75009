/*
 * Unit tests for common/recovery.c: protocol R1 vectors (the same ones
 * tests/recovery/r1_vectors.py recomputes with Python's hmac), challenge and
 * code parsing, and the checked comparison against a key file.
 */
#include "build_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "recovery.h"
#include "testutil.h"

struct vector {
	const char *k_a, *host, *account, *operator_name, *incident, *scope, *challenge,
	    *approver, *k_ah, *code;
};

/* Written from DESIGN.md "Offline recovery (protocol R1)"; r1_ref.py computes the same. */
static const struct vector vectors[] = {
	{ "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
	  "mx1.example.net", "breakglass", "alice", "INC-1234", "mail-queue", "ABCD2345", "bob",
	  "ca691b79ef76722b75e68efe54a124015907f6fab1074db317e208e582141cd6", "37345084" },
	{ "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
	  "mx1.example.net", "breakglass", "alice", "INC-1234", "mail-queue", "ABCD2345", "carol",
	  "2a227f88ce9c616d63226a365aae4f964f5359307455cece8d6916e15d986c36", "73925891" },
	{ "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
	  "mx2.example.net", "bg-mail", "dave", "INC 77/b", "diagnostics", "7QZXJ3KP", "carol",
	  "985054e1848ed550157ea516f310b6451e7737c4aa651f50efedc86877a99667", "46664523" },
};

static void
details_of(const struct vector *v, bg_recovery_details *d)
{
	d->host = v->host;
	d->account = v->account;
	d->operator_name = v->operator_name;
	d->incident = v->incident;
	d->scope = v->scope;
}

static void
test_vectors(void **state)
{
	unsigned char k_a[BG_SHA256_LEN], k_ah[BG_SHA256_LEN];
	char hex[BG_SHA256_HEX_LEN + 1], code[BG_RECOVERY_CODE_LEN + 1];
	bg_recovery_details d;
	bg_error err;

	(void)state;
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		const struct vector *v = &vectors[i];

		assert_int_equal(bg_hex_decode(v->k_a, k_a, sizeof(k_a), &err), BG_OK);
		assert_int_equal(bg_recovery_host_key(k_a, v->host, k_ah, &err), BG_OK);
		bg_hex_encode(k_ah, sizeof(k_ah), hex);
		assert_string_equal(hex, v->k_ah);
		details_of(v, &d);
		assert_int_equal(bg_recovery_code(k_ah, &d, v->challenge, v->approver, code, &err),
		    BG_OK);
		assert_string_equal(code, v->code);
	}
}

/* Every detail is in the code: change any one and the code changes. */
static void
test_every_detail_counts(void **state)
{
	const struct vector *v = &vectors[0];
	unsigned char k_a[BG_SHA256_LEN], k_ah[BG_SHA256_LEN];
	char code[BG_RECOVERY_CODE_LEN + 1];
	bg_recovery_details d;
	bg_error err;

	(void)state;
	assert_int_equal(bg_hex_decode(v->k_a, k_a, sizeof(k_a), &err), BG_OK);
	assert_int_equal(bg_recovery_host_key(k_a, v->host, k_ah, &err), BG_OK);
	for (int field = 0; field < 7; field++) {
		const char *challenge = field == 5 ? "ABCD2346" : v->challenge;
		const char *approver = field == 6 ? "bob2" : v->approver;

		details_of(v, &d);
		if (field == 0) d.host = "mx2.example.net";
		if (field == 1) d.account = "bg-other";
		if (field == 2) d.operator_name = "mallory";
		if (field == 3) d.incident = "INC-1235";
		if (field == 4) d.scope = "diagnostics";
		assert_int_equal(bg_recovery_code(k_ah, &d, challenge, approver, code, &err),
		    BG_OK);
		assert_string_not_equal(code, v->code);
	}
	/* A ':' would let two different detail lists give one message: refused. */
	details_of(v, &d);
	d.incident = "INC:1";
	assert_int_equal(bg_recovery_code(k_ah, &d, v->challenge, v->approver, code, &err),
	    BG_ERR_INVALID);
	assert_non_null(strstr(err.msg, "incident"));
	d.incident = "INC\n1";
	assert_int_equal(bg_recovery_code(k_ah, &d, v->challenge, v->approver, code, &err),
	    BG_ERR_INVALID);
	d.incident = "";
	assert_int_equal(bg_recovery_code(k_ah, &d, v->challenge, v->approver, code, &err),
	    BG_ERR_INVALID);
	d.incident = "INC\xc3\xa9";
	assert_int_equal(bg_recovery_code(k_ah, &d, v->challenge, v->approver, code, &err),
	    BG_ERR_INVALID);
}

static void
test_challenge(void **state)
{
	char c[BG_RECOVERY_CHALLENGE_LEN + 1], c2[BG_RECOVERY_CHALLENGE_LEN + 1];
	char shown[BG_RECOVERY_DISPLAY_LEN + 1], back[BG_RECOVERY_CHALLENGE_LEN + 1];
	bg_error err;

	(void)state;
	assert_int_equal(bg_recovery_challenge_new(c, &err), BG_OK);
	assert_int_equal(strlen(c), BG_RECOVERY_CHALLENGE_LEN);
	assert_int_equal(strspn(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"), BG_RECOVERY_CHALLENGE_LEN);
	assert_int_equal(bg_recovery_challenge_new(c2, &err), BG_OK);
	assert_string_not_equal(c, c2);
	bg_recovery_display(c, shown);
	assert_int_equal(shown[4], '-');
	assert_int_equal(bg_recovery_challenge_parse(shown, back, &err), BG_OK);
	assert_string_equal(back, c);

	assert_int_equal(bg_recovery_challenge_parse(" abcd-2345\t", back, &err), BG_OK);
	assert_string_equal(back, "ABCD2345");
	assert_int_equal(bg_recovery_challenge_parse("ABCD2345", back, &err), BG_OK);
	assert_string_equal(back, "ABCD2345");
	/* 0, 1, 8 and 9 are not in the alphabet; wrong lengths and dashes are refused. */
	assert_int_equal(bg_recovery_challenge_parse("ABCD-2340", back, &err), BG_ERR_INVALID);
	assert_int_equal(bg_recovery_challenge_parse("ABCD-234", back, &err), BG_ERR_INVALID);
	assert_int_equal(bg_recovery_challenge_parse("ABCD-23456", back, &err), BG_ERR_INVALID);
	assert_int_equal(bg_recovery_challenge_parse("AB-CD2345", back, &err), BG_ERR_INVALID);
	assert_int_equal(bg_recovery_challenge_parse("ABCD--2345", back, &err), BG_ERR_INVALID);
	assert_int_equal(bg_recovery_challenge_parse("ABCD 2345", back, &err), BG_ERR_INVALID);
	assert_int_equal(bg_recovery_challenge_parse("", back, &err), BG_ERR_INVALID);
}

static void
test_code_parse(void **state)
{
	char code[BG_RECOVERY_CODE_LEN + 1], shown[BG_RECOVERY_DISPLAY_LEN + 1];
	bg_error err;

	(void)state;
	assert_int_equal(bg_recovery_code_parse("3734-5084", code, &err), BG_OK);
	assert_string_equal(code, "37345084");
	bg_recovery_display(code, shown);
	assert_string_equal(shown, "3734-5084");
	assert_int_equal(bg_recovery_code_parse(" 37345084 ", code, &err), BG_OK);
	assert_string_equal(code, "37345084");
	assert_int_equal(bg_recovery_code_parse("3734-508", code, &err), BG_ERR_INVALID);
	assert_int_equal(bg_recovery_code_parse("3734-50840", code, &err), BG_ERR_INVALID);
	assert_int_equal(bg_recovery_code_parse("3734-508a", code, &err), BG_ERR_INVALID);
	assert_int_equal(bg_recovery_code_parse("-37345084", code, &err), BG_ERR_INVALID);
	assert_int_equal(bg_recovery_code_parse("\xef\xbc\x93""7345084", code, &err),
	    BG_ERR_INVALID);
}

static void
test_code_check(void **state)
{
	const struct vector *v = &vectors[0];
	char *dir, *keys, *p;
	bg_recovery_details d;
	bg_error err;

	(void)state;
	dir = tu_mkdtemp();
	keys = tu_path(dir, "keys");
	assert_int_equal(mkdir(keys, 0700), 0);
	p = tu_write(keys, "bob", 0600, vectors[0].k_ah);
	free(p);
	details_of(v, &d);
	assert_int_equal(bg_recovery_code_check(keys, &d, v->challenge, "bob", "37345084", &err),
	    BG_OK);
	assert_int_equal(bg_recovery_code_check(keys, &d, v->challenge, "bob", "37345085", &err),
	    BG_ERR_DENIED);
	/* The code never appears in a message. */
	assert_null(strstr(err.msg, "3734"));
	/* No key file, a name that is not a file name, a key file too open. */
	assert_int_equal(bg_recovery_code_check(keys, &d, v->challenge, "carol", "37345084",
	    &err), BG_ERR_NOTFOUND);
	assert_int_equal(bg_recovery_code_check(keys, &d, v->challenge, "../bob", "37345084",
	    &err), BG_ERR_INVALID);
	assert_int_equal(chmod(keys, 0700), 0);
	p = tu_write(keys, "dave", 0644, vectors[0].k_ah);
	assert_int_equal(bg_recovery_code_check(keys, &d, v->challenge, "dave", "37345084",
	    &err), BG_ERR_PERM);
	free(p);
	tu_rmtree(dir);
	free(keys);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_every_detail_counts),
		cmocka_unit_test(test_challenge),
		cmocka_unit_test(test_code_parse),
		cmocka_unit_test(test_code_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
