/*
 * TOTP (RFC 6238) through liboath, with per-identity replay refusal and
 * lockout kept in STATE_DIR/NAME.totp, updated under STATE_DIR/NAME.totp.lock.
 */
#include "build_config.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <liboath/oath.h>

#include "buf.h"
#include "crypto.h"
#include "fileio.h"
#include "ini.h"
#include "totp.h"

#define SECRET_FILE_MAX 4096
#define STATE_FILE_MAX (16 * 1024)
/* Failures remembered per identity; max_failures beyond this locks at this. */
#define STATE_MAX_FAILURES BG_TOTP_STATE_MAX_FAILURES
/* RFC 4226 R6: the shared secret MUST be at least 128 bits. */
#define SECRET_MIN_BYTES 16
#define PERIOD_MIN 15
#define PERIOD_MAX 300
#define DIGITS_SHORT 6
#define DIGITS_LONG 8

/* ---- liboath ------------------------------------------------------------ */

static pthread_once_t oath_once = PTHREAD_ONCE_INIT;
static int oath_init_rc = OATH_OK;

static void
oath_setup(void)
{
	oath_init_rc = oath_init();
}

/* ---- secret files ------------------------------------------------------- */

typedef struct {
	bg_cfg_meta meta;
	char *secret;
	unsigned algorithm;
	unsigned long digits;
	unsigned long period;
} secret_file;

static const char *const algorithm_names[] = { "sha1", "sha256", "sha512", NULL };

static bg_status
check_digits(const char *value, bg_error *err)
{
	if (strcmp(value, "6") != 0 && strcmp(value, "8") != 0)
		return bg_error_set(err, BG_ERR_INVALID, "must be 6 or 8");
	return BG_OK;
}

static const bg_cfg_key secret_keys[] = {
	{ .name = "secret", .type = BG_CFG_STRING, .required = true,
	  .offset = offsetof(secret_file, secret) },
	{ .name = "algorithm", .type = BG_CFG_ENUM, .def = "sha1",
	  .offset = offsetof(secret_file, algorithm), .choices = algorithm_names },
	{ .name = "digits", .type = BG_CFG_UINT, .def = "6",
	  .offset = offsetof(secret_file, digits), .check = check_digits },
	{ .name = "period", .type = BG_CFG_UINT, .def = "30",
	  .offset = offsetof(secret_file, period), .min = PERIOD_MIN, .max = PERIOD_MAX },
};

static const bg_cfg_section secret_sections[] = {
	{ .name = NULL, .required = true, .keys = secret_keys,
	  .nkeys = sizeof(secret_keys) / sizeof(secret_keys[0]),
	  .size = sizeof(secret_file), .offset = 0 },
};

static const bg_cfg_schema secret_schema = { secret_sections, 1 };

/* Decodes base32 text into s->secret; liboath ignores spaces and missing padding. */
static bg_status
decode_secret(const char *path, const char *b32, bg_totp_secret *s, bg_error *err)
{
	char *raw = NULL;
	size_t rawlen = 0;
	bg_status rc = BG_OK;
	int orc;

	orc = oath_base32_decode(b32, strlen(b32), &raw, &rawlen);
	if (orc != OATH_OK)
		return bg_error_set(err, BG_ERR_INVALID, "%s: secret: not valid base32", path);
	if (rawlen < SECRET_MIN_BYTES || rawlen > BG_TOTP_MAX_SECRET)
		rc = bg_error_set(err, BG_ERR_INVALID,
		    "%s: secret: %zu bytes; must be %d to %d", path, rawlen,
		    SECRET_MIN_BYTES, BG_TOTP_MAX_SECRET);
	else {
		memcpy(s->secret, raw, rawlen);
		s->secret_len = rawlen;
	}
	explicit_bzero(raw, rawlen);
	free(raw);
	return rc;
}

bg_status
bg_totp_secret_load(const char *path, bg_totp_secret *s, bg_error *err)
{
	secret_file parsed;
	bg_status rc;

	memset(s, 0, sizeof(*s));
	memset(&parsed, 0, sizeof(parsed));
	rc = bg_ini_read_file(path, BG_FILE_SECRET, SECRET_FILE_MAX, &secret_schema, &parsed,
	    err);
	if (rc != BG_OK)
		return rc;
	rc = decode_secret(path, parsed.secret, s, err);
	s->algorithm = parsed.algorithm;
	s->digits = (unsigned)parsed.digits;
	s->period = (unsigned)parsed.period;
	explicit_bzero(parsed.secret, strlen(parsed.secret));
	bg_ini_free(&secret_schema, &parsed);
	if (rc != BG_OK)
		bg_totp_secret_clear(s);
	return rc;
}

void
bg_totp_secret_clear(bg_totp_secret *s)
{
	explicit_bzero(s, sizeof(*s));
}

/* ---- checking a code ---------------------------------------------------- */

static bg_status
secret_check(const bg_totp_secret *s, int *flags, bg_error *err)
{
	switch (s->algorithm) {
	case BG_TOTP_SHA1:
		*flags = 0;
		break;
	case BG_TOTP_SHA256:
		*flags = OATH_TOTP_HMAC_SHA256;
		break;
	case BG_TOTP_SHA512:
		*flags = OATH_TOTP_HMAC_SHA512;
		break;
	default:
		return bg_error_set(err, BG_ERR_INVALID, "unknown TOTP algorithm %u",
		    s->algorithm);
	}
	if (s->digits != DIGITS_SHORT && s->digits != DIGITS_LONG)
		return bg_error_set(err, BG_ERR_INVALID, "TOTP digits must be 6 or 8");
	if (s->period < PERIOD_MIN || s->period > PERIOD_MAX)
		return bg_error_set(err, BG_ERR_INVALID, "TOTP period must be %d..%d s",
		    PERIOD_MIN, PERIOD_MAX);
	if (s->secret_len == 0 || s->secret_len > BG_TOTP_MAX_SECRET)
		return bg_error_set(err, BG_ERR_INVALID, "TOTP secret length out of range");
	return BG_OK;
}

/* Exactly digits ASCII digits: liboath itself is lenient about what it compares. */
static bool
code_well_formed(const char *code, unsigned digits)
{
	size_t i;

	for (i = 0; code[i] != '\0'; i++)
		if (i >= digits || code[i] < '0' || code[i] > '9')
			return false;
	return i == digits;
}

/* strcmp-like for liboath: 0 on a match, positive otherwise, in constant time. */
static int
ct_compare(void *handle, const char *candidate)
{
	const char *code = handle;
	size_t n = strlen(code);

	if (strlen(candidate) != n)
		return 1;
	return bg_ct_equal(code, candidate, n) ? 0 : 1;
}

bg_status
bg_totp_check(const bg_totp_secret *s, const char *code, time_t now, unsigned window,
    uint64_t *step, bg_error *err)
{
	uint64_t counter = 0;
	bg_status rc;
	int flags = 0, orc;

	if ((rc = secret_check(s, &flags, err)) != BG_OK)
		return rc;
	if (!code_well_formed(code, s->digits))
		return bg_error_set(err, BG_ERR_DENIED, "code is not %u digits", s->digits);
	if (pthread_once(&oath_once, oath_setup) != 0 || oath_init_rc != OATH_OK)
		return bg_error_set(err, BG_ERR_CRYPTO, "liboath initialisation failed");
	orc = oath_totp_validate4_callback((const char *)s->secret, s->secret_len, now,
	    s->period, 0, s->digits, window, NULL, &counter, flags, ct_compare,
	    (void *)(uintptr_t)code);
	if (orc == OATH_INVALID_OTP)
		return bg_error_set(err, BG_ERR_DENIED, "wrong code");
	if (orc < 0)
		return bg_error_set(err, BG_ERR_CRYPTO, "liboath: %s", oath_strerror(orc));
	*step = counter;
	return BG_OK;
}

/* ---- state files -------------------------------------------------------- */

typedef struct {
	bg_cfg_meta meta;
	unsigned long last_step;
	bg_strlist failures;          /* Unix times of recent failures */
	unsigned long locked_until;
} state_file;

typedef bg_totp_state totp_state;

static bg_status
check_time(const char *value, bg_error *err)
{
	if (value[strspn(value, "0123456789")] != '\0' || strlen(value) > 19)
		return bg_error_set(err, BG_ERR_INVALID, "not a Unix time");
	return BG_OK;
}

static const bg_cfg_key state_keys[] = {
	{ .name = "last_step", .type = BG_CFG_UINT, .def = "0",
	  .offset = offsetof(state_file, last_step) },
	{ .name = "failures", .type = BG_CFG_WORDS,
	  .offset = offsetof(state_file, failures), .check = check_time },
	{ .name = "locked_until", .type = BG_CFG_UINT, .def = "0",
	  .offset = offsetof(state_file, locked_until) },
};

static const bg_cfg_section state_sections[] = {
	{ .name = NULL, .required = true, .keys = state_keys,
	  .nkeys = sizeof(state_keys) / sizeof(state_keys[0]),
	  .size = sizeof(state_file), .offset = 0 },
};

static const bg_cfg_schema state_schema = { state_sections, 1 };

/* A missing state file is a fresh identity. */
static bg_status
state_read(const char *path, totp_state *st, bg_error *err)
{
	state_file parsed;
	size_t i;
	bg_status rc;

	memset(st, 0, sizeof(*st));
	memset(&parsed, 0, sizeof(parsed));
	rc = bg_ini_read_file(path, BG_FILE_SECRET, STATE_FILE_MAX, &state_schema, &parsed,
	    err);
	if (rc == BG_ERR_NOTFOUND)
		return BG_OK;
	if (rc != BG_OK)
		return rc;
	if (parsed.failures.count >= STATE_MAX_FAILURES)
		rc = bg_error_set(err, BG_ERR_INVALID, "%s: too many failures listed", path);
	for (i = 0; rc == BG_OK && i < parsed.failures.count; i++)
		st->failures[st->nfailures++] = (time_t)strtoll(parsed.failures.items[i],
		    NULL, 10);
	st->last_step = parsed.last_step;
	st->locked_until = (time_t)parsed.locked_until;
	bg_ini_free(&state_schema, &parsed);
	return rc;
}

static bg_status
state_write(const char *path, const totp_state *st, bg_error *err)
{
	bg_buf b;
	bg_status rc;
	size_t i;

	bg_buf_init(&b, STATE_FILE_MAX);
	bg_buf_printf(&b, "# breakglass TOTP state; written under its lock, do not edit.\n"
	    "last_step = %llu\nlocked_until = %lld\n", (unsigned long long)st->last_step,
	    (long long)st->locked_until);
	if (st->nfailures > 0) {
		bg_buf_puts(&b, "failures =");
		for (i = 0; i < st->nfailures; i++)
			bg_buf_printf(&b, " %lld", (long long)st->failures[i]);
		bg_buf_puts(&b, "\n");
	}
	if (b.overflow)
		rc = bg_error_set(err, BG_ERR_NOMEM, "%s: out of memory", path);
	else
		rc = bg_file_replace(path, b.data, b.len, 0600, err);
	bg_buf_free(&b);
	return rc;
}

/* Drops failures that fell out of the window (or lie in the future: clock jumps). */
static void
state_prune(totp_state *st, time_t now, unsigned long failure_window)
{
	size_t i, kept = 0;

	for (i = 0; i < st->nfailures; i++)
		if (st->failures[i] <= now && now - st->failures[i] < (time_t)failure_window)
			st->failures[kept++] = st->failures[i];
	st->nfailures = kept;
}

/* An identity name becomes a file name: keep it to a plain, short word. */
bool
bg_totp_name_valid(const char *name)
{
	return bg_file_name_valid(name);
}

static bg_status
state_paths(const char *state_dir, const char *name, char *state, char *lock,
    size_t sz, bg_error *err)
{
	if (!bg_totp_name_valid(name))
		return bg_error_set(err, BG_ERR_INVALID, "not a valid identity name");
	if ((size_t)snprintf(state, sz, "%s/%s.totp", state_dir, name) >= sz ||
	    (size_t)snprintf(lock, sz, "%s/%s.totp.lock", state_dir, name) >= sz)
		return bg_error_set(err, BG_ERR_INVALID, "%s: path too long", state_dir);
	return BG_OK;
}

/* Refuses while locked out; otherwise counts a provisional failure. */
static bool
state_begin(const bg_totp_policy *p, totp_state *st, time_t now,
    bg_totp_verdict *verdict, time_t *locked_until)
{
	if (st->locked_until > now) {
		*verdict = BG_TOTP_LOCKED;
		*locked_until = st->locked_until;
		return false;
	}
	state_prune(st, now, p->failure_window);
	st->failures[st->nfailures++] = now;
	return true;
}

/*
 * After state_begin: checks the code; an accepted one drops the provisional
 * failure and becomes the last step, any other locks the identity out once
 * the failures reach max_failures.
 */
static bg_status
state_finish(const bg_totp_policy *p, totp_state *st, const bg_totp_secret *s,
    const char *code, time_t now, bg_totp_verdict *verdict, time_t *locked_until,
    bg_error *err)
{
	uint64_t step = 0;
	bg_error why;
	bg_status rc;

	rc = s != NULL ? bg_totp_check(s, code, now, p->window, &step, &why) : BG_ERR_DENIED;
	if (rc == BG_OK && step > st->last_step) {
		st->nfailures--;
		st->last_step = step;
		*verdict = BG_TOTP_ACCEPTED;
		return BG_OK;
	}
	if (rc != BG_OK && rc != BG_ERR_DENIED)
		return bg_error_set(err, rc, "%s", why.msg);
	*verdict = rc == BG_OK ? BG_TOTP_REPLAYED : BG_TOTP_REJECTED;
	if (st->nfailures >= p->max_failures || st->nfailures >= STATE_MAX_FAILURES) {
		st->locked_until = now + (time_t)p->lockout;
		st->nfailures = 0;
		*locked_until = st->locked_until;
	}
	return BG_OK;
}

bg_status
bg_totp_decide(const bg_totp_policy *p, bg_totp_state *st, const bg_totp_secret *s,
    const char *code, time_t now, bg_totp_verdict *verdict, time_t *locked_until,
    bg_error *err)
{
	*verdict = BG_TOTP_REJECTED;
	*locked_until = 0;
	if (st->nfailures >= STATE_MAX_FAILURES)
		return bg_error_set(err, BG_ERR_INVALID, "TOTP state: too many failures");
	if (!state_begin(p, st, now, verdict, locked_until))
		return BG_OK;
	return state_finish(p, st, s, code, now, verdict, locked_until, err);
}

/* Under the lock: the lockout check, the provisional failure, the code check. */
static bg_status
verify_locked(const bg_totp_policy *p, const char *path, const bg_totp_secret *s,
    const char *code, time_t now, bg_totp_verdict *verdict, time_t *locked_until,
    bg_error *err)
{
	totp_state st;
	bg_status rc;

	if ((rc = state_read(path, &st, err)) != BG_OK)
		return rc;
	if (!state_begin(p, &st, now, verdict, locked_until))
		return BG_OK;
	/* Counted first, so a crash or kill during the check still costs a try. */
	if ((rc = state_write(path, &st, err)) != BG_OK)
		return rc;
	if ((rc = state_finish(p, &st, s, code, now, verdict, locked_until, err)) != BG_OK)
		return rc;
	/* A wrong code under the limit leaves the provisional failure as it was written. */
	if (*verdict != BG_TOTP_ACCEPTED && *locked_until == 0)
		return BG_OK;
	return state_write(path, &st, err);
}

bg_status
bg_totp_verify(const bg_totp_policy *p, const char *name, const bg_totp_secret *s,
    const char *code, time_t now, bg_totp_verdict *verdict, time_t *locked_until,
    bg_error *err)
{
	char path[PATH_MAX], lock[PATH_MAX];
	bg_status rc;
	int fd;

	*verdict = BG_TOTP_REJECTED;
	*locked_until = 0;
	if ((rc = state_paths(p->state_dir, name, path, lock, sizeof(path), err)) != BG_OK)
		return rc;
	if ((rc = bg_lock_acquire(lock, BG_LOCK_WAIT_MS, &fd, err)) != BG_OK)
		return rc;
	rc = verify_locked(p, path, s, code, now, verdict, locked_until, err);
	bg_lock_release(fd);
	return rc;
}

bg_status
bg_totp_record_failure(const bg_totp_policy *p, const char *name, time_t now,
    time_t *locked_until, bg_error *err)
{
	bg_totp_verdict verdict;

	/* No secret: the failure is counted and nothing can be accepted. */
	return bg_totp_verify(p, name, NULL, NULL, now, &verdict, locked_until, err);
}

bg_status
bg_totp_lockout_status(const bg_totp_policy *p, const char *name, time_t now,
    bool *locked, time_t *until, bg_error *err)
{
	char path[PATH_MAX], lock[PATH_MAX];
	totp_state st;
	bg_status rc;

	*locked = false;
	*until = 0;
	if ((rc = state_paths(p->state_dir, name, path, lock, sizeof(path), err)) != BG_OK)
		return rc;
	/* The file is replaced atomically: reading it needs no lock. */
	if ((rc = state_read(path, &st, err)) != BG_OK)
		return rc;
	if (st.locked_until > now) {
		*locked = true;
		*until = st.locked_until;
	}
	return BG_OK;
}
