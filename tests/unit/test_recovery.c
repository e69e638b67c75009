/*
 * Unit tests for common/recovery.c: protocol R1 vectors (the same ones
 * tests/recovery/r1_vectors.py recomputes with Python's hmac), challenge and
 * code parsing, the checked comparison against a key file, and the record of
 * the recovery grants already reported (recovery_state.c).
 */
#include "build_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "recovery.h"
#include "recovery_state.h"
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

/* ---- reported.json ------------------------------------------------------ */

static void
test_reported_state(void **state)
{
	const char *url = "https://approvals.example.net/v1";
	char *dir, *rdir, *file, *p;
	bg_recovery_reported *r;
	bg_recovery_details d;
	char challenge[BG_RECOVERY_CHALLENGE_LEN + 1];
	struct stat st;
	time_t issued;
	bg_error err;

	(void)state;
	dir = tu_mkdtemp();
	rdir = tu_path(dir, "recovery");
	file = tu_path(rdir, "reported.json");
	/* Nothing reported yet: the directory is made 0700, the file 0600 on the first add. */
	assert_int_equal(bg_recovery_reported_open(dir, &r, &err), BG_OK);
	assert_false(bg_recovery_reported_has(r, "R1-ABCD2345", url));
	assert_int_equal(bg_recovery_reported_add(r, "R1-ABCD2345", url, 1795000000, &err),
	    BG_OK);
	assert_true(bg_recovery_reported_has(r, "R1-ABCD2345", url));
	bg_recovery_reported_close(r);
	assert_int_equal(lstat(rdir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(lstat(file, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	/* Kept across runs, per service URL; the challenges beside it are untouched. */
	details_of(&vectors[0], &d);
	assert_int_equal(bg_recovery_challenge_issue(dir, &d, 600, 1795000000, challenge, &issued,
	    &err), BG_OK);
	assert_int_equal(bg_recovery_reported_open(dir, &r, &err), BG_OK);
	assert_true(bg_recovery_reported_has(r, "R1-ABCD2345", url));
	assert_false(bg_recovery_reported_has(r, "R1-ABCD2345", "https://other.example.net/v1"));
	assert_false(bg_recovery_reported_has(r, "R1-ABCD2346", url));
	bg_recovery_reported_close(r);
	/* A malformed file and a symbolic link are refused, not read as "nothing reported". */
	p = tu_write(rdir, "reported.json", 0600, "{\"reported\": {}}");
	free(p);
	assert_int_equal(bg_recovery_reported_open(dir, &r, &err), BG_ERR_INVALID);
	assert_null(r);
	assert_int_equal(unlink(file), 0);
	p = tu_write(dir, "elsewhere.json", 0600, "{\"reported\": []}");
	assert_int_equal(symlink(p, file), 0);
	assert_int_not_equal(bg_recovery_reported_open(dir, &r, &err), BG_OK);
	assert_null(r);
	free(p);
	tu_rmtree(dir);
	free(file);
	free(rdir);
	free(dir);
}

/* ---- [recovery] configuration ---------------------------------------- */

#define CONF_BASE \
	"[general]\naccounts = breakglass\ngrant_ttl = 30m\n" \
	"[approval]\nurl = https://approvals.example.net/v1\nhost_id = mx1.example.net\n" \
	"host_key = /k\nservice_key = /p\napprovers = bob carol dave\nquorum = 3\n" \
	"[signals]\nrequired = 0\n" \
	"[scope mail-queue]\ncommand = /usr/bin/true\n" \
	"[scope diagnostics]\ncommand = /usr/bin/id\n"

static bg_status
parse_conf(const char *extra, bg_config *cfg, bg_errlist *errs)
{
	char text[4096];

	snprintf(text, sizeof(text), "%s%s", CONF_BASE, extra);
	bg_errlist_free(errs);
	return bg_config_parse("t.conf", text, strlen(text), cfg, errs);
}

static bool
errs_hold(const bg_errlist *errs, const char *needle)
{
	for (size_t i = 0; i < errs->count; i++)
		if (strstr(errs->msgs[i], needle) != NULL)
			return true;
	return false;
}

static void
test_config(void **state)
{
	bg_errlist errs = { 0 };
	bg_config cfg;

	(void)state;
	/* Absent: disabled, defaults resolved against the other sections. */
	assert_int_equal(parse_conf("", &cfg, &errs), BG_OK);
	assert_false(cfg.recovery.enabled);
	assert_int_equal(cfg.recovery.quorum, 3);
	assert_int_equal(cfg.recovery.ttl, 15 * 60);
	assert_int_equal(cfg.recovery.challenge_ttl, 10 * 60);
	assert_int_equal(cfg.recovery.signals_required, 0);
	assert_string_equal(cfg.recovery.keys_dir, "/etc/breakglass/recovery");
	bg_config_free(&cfg);

	assert_int_equal(parse_conf("[recovery]\nenabled = yes\napprovers = erin frank\n"
	    "quorum = 2\nscopes = diagnostics\nttl = 20m\nchallenge_ttl = 5m\n"
	    "keys_dir = /etc/bg/rk\n", &cfg, &errs), BG_OK);
	assert_true(cfg.recovery.enabled);
	assert_int_equal(cfg.recovery.approvers.count, 2);
	assert_int_equal(cfg.recovery.quorum, 2);
	assert_int_equal(cfg.recovery.ttl, 20 * 60);
	assert_int_equal(cfg.recovery.challenge_ttl, 5 * 60);
	assert_string_equal(cfg.recovery.scopes.items[0], "diagnostics");
	bg_config_free(&cfg);

	/* One approver may recover alone; two or more never with a quorum of 1. */
	assert_int_equal(parse_conf("[recovery]\nenabled = yes\napprovers = erin\n"
	    "quorum = 1\nscopes = diagnostics\n", &cfg, &errs), BG_OK);
	bg_config_free(&cfg);
	assert_int_equal(parse_conf("[recovery]\nenabled = yes\napprovers = erin frank\n"
	    "quorum = 1\nscopes = diagnostics\n", &cfg, &errs), BG_ERR_INVALID);
	assert_true(errs_hold(&errs, "t.conf:20: quorum: 1 is below 2"));

	assert_int_equal(parse_conf("[recovery]\nenabled = yes\napprovers = erin frank\n"
	    "scopes = diagnostics\n", &cfg, &errs), BG_ERR_INVALID);
	assert_true(errs_hold(&errs, "quorum: 3 is more than the 2 recovery approvers"));
	assert_int_equal(parse_conf("[recovery]\nenabled = yes\napprovers = erin frank\n"
	    "quorum = 2\nscopes = diagnostics nope\n", &cfg, &errs), BG_ERR_INVALID);
	assert_true(errs_hold(&errs, "t.conf:21: scopes: no [scope nope] section"));
	assert_int_equal(parse_conf("[recovery]\nenabled = yes\napprovers = erin frank\n"
	    "quorum = 2\nscopes = diagnostics\nttl = 31m\n", &cfg, &errs), BG_ERR_INVALID);
	assert_true(errs_hold(&errs, "t.conf:22: ttl: 1860 s is longer than grant_ttl"));
	assert_int_equal(parse_conf("[recovery]\nenabled = yes\napprovers = erin erin\n"
	    "quorum = 2\nscopes = diagnostics\n", &cfg, &errs), BG_ERR_INVALID);
	assert_true(errs_hold(&errs, "listed twice"));
	assert_int_equal(parse_conf("[recovery]\nenabled = yes\napprovers = ../erin frank\n"
	    "quorum = 2\nscopes = diagnostics\n", &cfg, &errs), BG_ERR_INVALID);
	assert_true(errs_hold(&errs, "t.conf:19"));
	assert_int_equal(parse_conf("[recovery]\nenabled = yes\n", &cfg, &errs),
	    BG_ERR_INVALID);
	assert_true(errs_hold(&errs, "needs \"approvers\""));
	assert_true(errs_hold(&errs, "needs \"scopes\""));
	assert_int_equal(parse_conf("[recovery]\nsignals_required = 1\n", &cfg, &errs),
	    BG_ERR_INVALID);
	assert_true(errs_hold(&errs, "signals_required: 1 signal sources required"));
	assert_int_equal(parse_conf("[recovery]\nchallenge_ttl = 2h\n", &cfg, &errs),
	    BG_ERR_INVALID);
	assert_int_equal(parse_conf("[recovery]\nbogus = 1\n", &cfg, &errs),
	    BG_ERR_INVALID);
	bg_errlist_free(&errs);
}

/* check-config: keys_dir and every approver's key file. */
static void
test_config_files(void **state)
{
	bg_errlist errs = { 0 };
	bg_config cfg;
	char *dir, *keys, *p, extra[1024];

	(void)state;
	dir = tu_mkdtemp();
	keys = tu_path(dir, "keys");
	assert_int_equal(mkdir(keys, 0700), 0);
	free(tu_write(keys, "erin", 0600, vectors[0].k_ah));
	p = tu_write(keys, "frank", 0640, vectors[0].k_ah);
	snprintf(extra, sizeof(extra), "[recovery]\nenabled = yes\napprovers = erin frank "
	    "gina\nquorum = 2\nscopes = diagnostics\nkeys_dir = %s\n", keys);
	assert_int_equal(parse_conf(extra, &cfg, &errs), BG_OK);
	bg_errlist_free(&errs);
	assert_int_equal(bg_config_check_files(&cfg, &errs), BG_ERR_INVALID);
	assert_true(errs_hold(&errs, "t.conf:19: approvers: "));
	assert_true(errs_hold(&errs, "/frank: mode 0640 is too open"));
	assert_true(errs_hold(&errs, "/gina: No such file"));
	assert_false(errs_hold(&errs, "/erin"));
	bg_config_free(&cfg);
	bg_errlist_free(&errs);
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
		cmocka_unit_test(test_reported_state),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_config_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
