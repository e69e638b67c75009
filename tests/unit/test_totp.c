/* Unit tests for common/totp.c: RFC 6238 / RFC 4226 vectors, replay, lockout. */
#include "build_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "totp.h"
#include "testutil.h"

/* The RFC 6238 Appendix B seeds, ASCII "1234567890..." of 20, 32 and 64 bytes. */
#define SEED20 "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
#define SEED32 "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA===="
#define SEED64 "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" \
	"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNA="
#define PERIOD 30

struct fixture {
	char *dir;
	bg_totp_policy policy;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->dir = tu_mkdtemp();
	f->policy.state_dir = f->dir;
	f->policy.window = 1;
	f->policy.max_failures = 3;
	f->policy.failure_window = 900;
	f->policy.lockout = 600;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	tu_rmtree(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

/* Writes a secret file and loads it; returns the load status. */
static bg_status
load(struct fixture *f, const char *text, mode_t mode, bg_totp_secret *s)
{
	char *path = tu_write(f->dir, "op", mode, text);
	bg_error err;
	bg_status rc;

	rc = bg_totp_secret_load(path, s, &err);
	unlink(path);
	free(path);
	return rc;
}

static void
load_ok(struct fixture *f, const char *text, bg_totp_secret *s)
{
	if (load(f, text, 0600, s) != BG_OK)
		fail_msg("secret file refused: %s", text);
}

struct vector {
	time_t t;
	const char *code[3];   /* SHA1, SHA256, SHA512 */
};

static const struct vector rfc6238[] = {
	{ 59, { "94287082", "46119246", "90693936" } },
	{ 1111111109, { "07081804", "68084774", "25091201" } },
	{ 1111111111, { "14050471", "67062674", "99943326" } },
	{ 1234567890, { "89005924", "91819424", "93441116" } },
	{ 2000000000, { "69279037", "90698825", "38618901" } },
	{ 20000000000, { "65353130", "77737706", "47863826" } },
};

static void
test_rfc6238_vectors(void **state)
{
	static const char *const files[3] = {
		"secret = " SEED20 "\nalgorithm = sha1\ndigits = 8\n",
		"secret = " SEED32 "\nalgorithm = sha256\ndigits = 8\n",
		"secret = " SEED64 "\nalgorithm = sha512\ndigits = 8\n",
	};
	bg_totp_secret s;
	bg_error err;
	uint64_t step;
	size_t a, i;

	for (a = 0; a < 3; a++) {
		load_ok(*state, files[a], &s);
		for (i = 0; i < sizeof(rfc6238) / sizeof(rfc6238[0]); i++) {
			step = 0;
			if (bg_totp_check(&s, rfc6238[i].code[a], rfc6238[i].t, 0, &step,
			    &err) != BG_OK)
				fail_msg("algorithm %zu, t=%lld: %s", a,
				    (long long)rfc6238[i].t, err.msg);
			assert_int_equal(step, (uint64_t)rfc6238[i].t / PERIOD);
		}
		bg_totp_secret_clear(&s);
	}
}

/* RFC 4226 Appendix D: HOTP counter c is TOTP step c. */
static void
test_rfc4226_vectors(void **state)
{
	static const char *const hotp[] = { "755224", "287082", "359152", "969429",
		"338314", "254676", "287922", "162583", "399871", "520489" };
	bg_totp_secret s;
	bg_error err;
	uint64_t step;
	size_t c;

	load_ok(*state, "secret = " SEED20 "\n", &s);
	for (c = 0; c < sizeof(hotp) / sizeof(hotp[0]); c++) {
		assert_int_equal(bg_totp_check(&s, hotp[c], (time_t)(c * PERIOD + 1), 0,
		    &step, &err), BG_OK);
		assert_int_equal(step, c);
	}
	/* The next counter's code is not this step's. */
	assert_int_equal(bg_totp_check(&s, hotp[1], 1, 0, &step, &err), BG_ERR_DENIED);
	bg_totp_secret_clear(&s);
}

static void
test_code_shape(void **state)
{
	static const char *const bad[] = { "9428708", "942870820", "", "9428708a",
		" 4287082", "94287082 ", "+4287082", "９4287082" };
	bg_totp_secret s;
	bg_error err;
	uint64_t step;
	size_t i;

	load_ok(*state, "secret = " SEED20 "\ndigits = 8\n", &s);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(bg_totp_check(&s, bad[i], 59, 1, &step, &err), BG_ERR_DENIED);
	/* A 6-digit secret refuses the 8-digit code and its 6-digit tail alike when wrong. */
	bg_totp_secret_clear(&s);
	load_ok(*state, "secret = " SEED20 "\n", &s);
	assert_int_equal(bg_totp_check(&s, "94287082", 59, 1, &step, &err), BG_ERR_DENIED);
	assert_int_equal(bg_totp_check(&s, "287082", 59, 0, &step, &err), BG_OK);
	bg_totp_secret_clear(&s);
}

static void
test_window_edges(void **state)
{
	bg_totp_secret s;
	bg_error err;
	uint64_t step;

	/* "94287082" is step 1 (t = 30..59). */
	load_ok(*state, "secret = " SEED20 "\ndigits = 8\n", &s);
	assert_int_equal(bg_totp_check(&s, "94287082", 89, 1, &step, &err), BG_OK);
	assert_int_equal(step, 1);
	assert_int_equal(bg_totp_check(&s, "94287082", 29, 1, &step, &err), BG_OK);
	assert_int_equal(step, 1);
	assert_int_equal(bg_totp_check(&s, "94287082", 89, 0, &step, &err), BG_ERR_DENIED);
	assert_int_equal(bg_totp_check(&s, "94287082", 90, 1, &step, &err), BG_ERR_DENIED);
	assert_int_equal(bg_totp_check(&s, "94287082", 119, 2, &step, &err), BG_OK);
	bg_totp_secret_clear(&s);
}

static void
test_secret_file_checks(void **state)
{
	struct fixture *f = *state;
	bg_totp_secret s;
	char *target, *link;
	bg_error err;

	assert_int_equal(load(f, "secret = " SEED20 "\n", 0640, &s), BG_ERR_PERM);
	assert_int_equal(load(f, "secret = " SEED20 "\nalgorithm = md5\n", 0600, &s),
	    BG_ERR_INVALID);
	assert_int_equal(load(f, "secret = " SEED20 "\ndigits = 7\n", 0600, &s),
	    BG_ERR_INVALID);
	assert_int_equal(load(f, "secret = " SEED20 "\nperiod = 10\n", 0600, &s),
	    BG_ERR_INVALID);
	assert_int_equal(load(f, "secret = " SEED20 "\nperiod = 301\n", 0600, &s),
	    BG_ERR_INVALID);
	assert_int_equal(load(f, "algorithm = sha1\n", 0600, &s), BG_ERR_INVALID);
	assert_int_equal(load(f, "secret = GEZDGNBV\n", 0600, &s), BG_ERR_INVALID);
	assert_int_equal(load(f, "secret = not*base32!\n", 0600, &s), BG_ERR_INVALID);
	assert_int_equal(load(f, "secret = " SEED20 "\ncolour = red\n", 0600, &s),
	    BG_ERR_INVALID);

	target = tu_write(f->dir, "real", 0600, "secret = " SEED20 "\n");
	link = tu_path(f->dir, "link");
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(bg_totp_secret_load(link, &s, &err), BG_ERR_PERM);
	free(target);
	free(link);

	load_ok(f, "secret = " SEED64 "\nalgorithm = sha512\ndigits = 8\nperiod = 60\n", &s);
	assert_int_equal(s.secret_len, 64);
	assert_int_equal(s.algorithm, BG_TOTP_SHA512);
	assert_int_equal(s.digits, 8);
	assert_int_equal(s.period, 60);
	assert_memory_equal(s.secret, "1234567890", 10);
	bg_totp_secret_clear(&s);
}

static void
test_bad_secret_struct(void **state)
{
	bg_totp_secret s;
	bg_error err;
	uint64_t step;

	load_ok(*state, "secret = " SEED20 "\n", &s);
	s.algorithm = 7;
	assert_int_equal(bg_totp_check(&s, "287082", 59, 0, &step, &err), BG_ERR_INVALID);
	s.algorithm = BG_TOTP_SHA1;
	s.digits = 7;
	assert_int_equal(bg_totp_check(&s, "2870820", 59, 0, &step, &err), BG_ERR_INVALID);
	s.digits = 6;
	s.period = 1;
	assert_int_equal(bg_totp_check(&s, "287082", 59, 0, &step, &err), BG_ERR_INVALID);
	bg_totp_secret_clear(&s);
}

static void
test_secret_clear(void **state)
{
	static const unsigned char zero[sizeof(bg_totp_secret)];
	bg_totp_secret s;

	load_ok(*state, "secret = " SEED20 "\n", &s);
	bg_totp_secret_clear(&s);
	assert_memory_equal(&s, zero, sizeof(s));
}

static bg_totp_verdict
verify(struct fixture *f, const char *name, const bg_totp_secret *s, const char *code,
    time_t now, time_t *until)
{
	bg_totp_verdict v;
	time_t ignored;
	bg_error err;

	if (bg_totp_verify(&f->policy, name, s, code, now, &v, until ? until : &ignored,
	    &err) != BG_OK)
		fail_msg("verify: %s", err.msg);
	return v;
}

static void
test_replay(void **state)
{
	struct fixture *f = *state;
	bg_totp_secret s;

	load_ok(f, "secret = " SEED20 "\ndigits = 8\n", &s);
	assert_int_equal(verify(f, "alice", &s, "94287082", 59, NULL), BG_TOTP_ACCEPTED);
	/* Same step, even a moment later and inside the window. */
	assert_int_equal(verify(f, "alice", &s, "94287082", 70, NULL), BG_TOTP_REPLAYED);
	/* A newer step passes; then the older one, still in the window, is refused. */
	f->policy.max_failures = 10;
	assert_int_equal(verify(f, "alice", &s, "07081804", 1111111109, NULL),
	    BG_TOTP_ACCEPTED);
	assert_int_equal(verify(f, "alice", &s, "94287082", 59, NULL), BG_TOTP_REPLAYED);
	/* Another identity has its own counter. */
	assert_int_equal(verify(f, "bob", &s, "94287082", 59, NULL), BG_TOTP_ACCEPTED);
	bg_totp_secret_clear(&s);
}

static void
test_lockout(void **state)
{
	struct fixture *f = *state;
	const time_t t0 = 1111111109;
	bg_totp_secret s;
	time_t until = 0;
	bool locked;
	bg_error err;

	load_ok(f, "secret = " SEED20 "\ndigits = 8\n", &s);
	assert_int_equal(verify(f, "alice", &s, "00000000", t0, NULL), BG_TOTP_REJECTED);
	assert_int_equal(verify(f, "alice", &s, "00000000", t0 + 1, NULL), BG_TOTP_REJECTED);
	assert_int_equal(verify(f, "alice", &s, "00000000", t0 + 2, &until), BG_TOTP_REJECTED);
	assert_int_equal(until, t0 + 2 + 600);
	/* The right code is not even looked at while locked. */
	assert_int_equal(verify(f, "alice", &s, "07081804", t0 + 3, &until), BG_TOTP_LOCKED);
	assert_int_equal(until, t0 + 2 + 600);
	assert_int_equal(bg_totp_lockout_status(&f->policy, "alice", t0 + 3, &locked, &until,
	    &err), BG_OK);
	assert_true(locked);
	/* Other operators are unaffected. */
	assert_int_equal(verify(f, "bob", &s, "07081804", t0 + 3, NULL), BG_TOTP_ACCEPTED);
	assert_int_equal(bg_totp_lockout_status(&f->policy, "bob", t0 + 3, &locked, &until,
	    &err), BG_OK);
	assert_false(locked);
	/* Released after the lockout, with a fresh count. */
	assert_int_equal(bg_totp_lockout_status(&f->policy, "alice", t0 + 602, &locked,
	    &until, &err), BG_OK);
	assert_false(locked);
	assert_int_equal(verify(f, "alice", &s, "00000000", t0 + 602, NULL), BG_TOTP_REJECTED);
	assert_int_equal(verify(f, "alice", &s, "89005924", 1234567890, NULL),
	    BG_TOTP_ACCEPTED);
	bg_totp_secret_clear(&s);
}

static void
test_failures_expire(void **state)
{
	struct fixture *f = *state;
	const time_t t0 = 1111111109;
	bg_totp_secret s;
	time_t until;
	bool locked;
	bg_error err;

	load_ok(f, "secret = " SEED20 "\ndigits = 8\n", &s);
	assert_int_equal(verify(f, "alice", &s, "00000000", t0, NULL), BG_TOTP_REJECTED);
	assert_int_equal(verify(f, "alice", &s, "00000000", t0 + 1, NULL), BG_TOTP_REJECTED);
	/* The first two fall out of failure_window: no lockout yet. */
	assert_int_equal(verify(f, "alice", &s, "00000000", t0 + 900, NULL), BG_TOTP_REJECTED);
	assert_int_equal(verify(f, "alice", &s, "00000000", t0 + 901, NULL), BG_TOTP_REJECTED);
	assert_int_equal(bg_totp_lockout_status(&f->policy, "alice", t0 + 901, &locked, &until,
	    &err), BG_OK);
	assert_false(locked);
	bg_totp_secret_clear(&s);
}

/* The failure is on disk before the code is checked: an error mid-check still counts. */
static void
test_failure_recorded_first(void **state)
{
	struct fixture *f = *state;
	bg_totp_secret s;
	bg_totp_verdict v;
	time_t until;
	bg_error err;
	char *path, *text;

	load_ok(f, "secret = " SEED20 "\n", &s);
	s.algorithm = 9;
	assert_int_equal(bg_totp_verify(&f->policy, "alice", &s, "287082", 59, &v, &until,
	    &err), BG_ERR_INVALID);
	path = tu_path(f->dir, "alice.totp");
	text = tu_read(path, NULL);
	assert_non_null(strstr(text, "failures = 59\n"));
	free(text);
	/* A success drops only its own provisional failure. */
	s.algorithm = BG_TOTP_SHA1;
	assert_int_equal(verify(f, "alice", &s, "287082", 59, NULL), BG_TOTP_ACCEPTED);
	text = tu_read(path, NULL);
	assert_non_null(strstr(text, "failures = 59\n"));
	assert_non_null(strstr(text, "last_step = 1\n"));
	free(text);
	free(path);
	bg_totp_secret_clear(&s);
}

static void
test_bad_names_and_state(void **state)
{
	struct fixture *f = *state;
	static const char *const names[] = { "", "../alice", ".alice", "a/b", "-x",
		"alice\n" };
	bg_totp_secret s;
	bg_totp_verdict v;
	time_t until;
	bg_error err;
	char *path;
	size_t i;

	load_ok(f, "secret = " SEED20 "\n", &s);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		assert_int_equal(bg_totp_verify(&f->policy, names[i], &s, "287082", 59, &v,
		    &until, &err), BG_ERR_INVALID);
	/* A corrupt or too open state file fails closed. */
	path = tu_write(f->dir, "carol.totp", 0600, "last_step = x\n");
	assert_int_equal(bg_totp_verify(&f->policy, "carol", &s, "287082", 59, &v, &until,
	    &err), BG_ERR_INVALID);
	free(path);
	path = tu_write(f->dir, "dave.totp", 0644, "last_step = 0\n");
	assert_int_equal(bg_totp_verify(&f->policy, "dave", &s, "287082", 59, &v, &until,
	    &err), BG_ERR_PERM);
	free(path);
	bg_totp_secret_clear(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rfc6238_vectors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rfc4226_vectors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_code_shape, setup, teardown),
		cmocka_unit_test_setup_teardown(test_window_edges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secret_file_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_secret_struct, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secret_clear, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lockout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failures_expire, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure_recorded_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_names_and_state, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
