/* Unit tests for common/grant.c: write, load, validate, revoke, list. */
#include "build_config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "grant.h"
#include "testutil.h"

#define NOW 1700000000
#define TTL 3600

struct fixture {
	char *dir;
	char *run;
	char *priv;
	char *pub;
	char *grant_path;
	bg_grant g;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->dir = tu_mkdtemp();
	f->run = tu_path(f->dir, "run");
	if (mkdir(f->run, 0755) != 0)
		return -1;
	tu_make_ed25519(f->dir, "service", &f->priv, &f->pub);
	f->grant_path = tu_path(f->run, "grants/breakglass.json");
	tu_grant_make(&f->g, "breakglass", "mail-queue", NOW, NOW + TTL, f->priv);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	bg_grant_free(&f->g);
	tu_rmtree(f->dir);
	free(f->dir);
	free(f->run);
	free(f->priv);
	free(f->pub);
	free(f->grant_path);
	free(f);
	return 0;
}

/* Validates f->g as it stands, for account "breakglass" at now. */
static bg_status
validate_at(struct fixture *f, time_t now, bg_error *err)
{
	return bg_grant_validate(&f->g, "breakglass", TU_HOST, f->pub, TTL, now, err);
}

static void
test_round_trip(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX];
	struct stat st;
	bg_grant got;
	bg_error err;

	assert_int_equal(bg_grant_path(f->run, "breakglass", path, sizeof(path), &err), BG_OK);
	assert_string_equal(path, f->grant_path);
	assert_int_equal(bg_grant_write(f->run, &f->g, &err), BG_OK);
	assert_int_equal(lstat(f->grant_path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	free(f->grant_path);
	f->grant_path = tu_path(f->run, "grants");
	assert_int_equal(lstat(f->grant_path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);

	assert_int_equal(bg_grant_load(f->run, "breakglass", &got, &err), BG_OK);
	assert_string_equal(got.account, "breakglass");
	assert_string_equal(got.operator_name, "alice");
	assert_string_equal(got.incident, "INC-42");
	assert_string_equal(got.request_id, "req-1");
	assert_string_equal(got.scope, "mail-queue");
	assert_int_equal(got.napprovers, 2);
	assert_string_equal(got.approvers[0], "bob");
	assert_string_equal(got.approvers[1], "carol");
	assert_int_equal(got.issued_at, NOW);
	assert_int_equal(got.expires_at, NOW + TTL);
	assert_string_equal(got.host, "mx1.example.net");
	/* The decision survives byte for byte, so its signature still verifies. */
	assert_string_equal(got.decision, f->g.decision);
	assert_string_equal(got.decision_signature, f->g.decision_signature);
	assert_int_equal(bg_grant_validate(&got, "breakglass", TU_HOST, f->pub, TTL, NOW, &err),
	    BG_OK);
	assert_int_equal(bg_grant_validate(&got, "breakglass", TU_HOST, f->pub, TTL,
	    NOW + TTL - 1, &err), BG_OK);
	bg_grant_free(&got);

	/* A second write replaces the first. */
	f->g.expires_at = NOW + 60;
	assert_int_equal(bg_grant_write(f->run, &f->g, &err), BG_OK);
	assert_int_equal(bg_grant_load(f->run, "breakglass", &got, &err), BG_OK);
	assert_int_equal(got.expires_at, NOW + 60);
	bg_grant_free(&got);
}

static void
test_signature_refusals(void **state)
{
	struct fixture *f = *state;
	char *other_dir = tu_path(f->dir, "other"), *other_priv, *other_pub, *saved;
	bg_error err;

	assert_int_equal(validate_at(f, NOW, &err), BG_OK);

	/* Tampered decision: one byte changed after signing. */
	saved = strdup(f->g.decision);
	strstr(f->g.decision, "mail-queue")[0] = 'n';
	strstr(f->g.decision, "nail-queue")[0] = 'm';
	assert_int_equal(validate_at(f, NOW, &err), BG_OK);
	strstr(f->g.decision, "\"ttl\":3600")[7] = '9';
	assert_int_equal(validate_at(f, NOW, &err), BG_ERR_CRYPTO);
	assert_non_null(strstr(err.msg, "signature"));
	free(f->g.decision);
	f->g.decision = saved;

	/* Signed with another key. */
	assert_int_equal(mkdir(other_dir, 0700), 0);
	tu_make_ed25519(other_dir, "service", &other_priv, &other_pub);
	tu_grant_sign(&f->g, other_priv);
	assert_int_equal(validate_at(f, NOW, &err), BG_ERR_CRYPTO);
	/* The right signature checked against the wrong pinned key. */
	tu_grant_sign(&f->g, f->priv);
	assert_int_equal(bg_grant_validate(&f->g, "breakglass", TU_HOST, other_pub, TTL, NOW,
	    &err), BG_ERR_CRYPTO);

	/* The signature of another decision. */
	free(f->g.decision);
	f->g.decision = tu_decision("breakglass", "other-scope", "approved", NOW, TTL);
	tu_grant_sign(&f->g, f->priv);
	saved = f->g.decision;
	f->g.decision = tu_decision("breakglass", "mail-queue", "approved", NOW, TTL);
	assert_int_equal(validate_at(f, NOW, &err), BG_ERR_CRYPTO);
	free(saved);

	/* Not base64 at all. */
	free(f->g.decision_signature);
	f->g.decision_signature = strdup("not base64!");
	assert_int_equal(validate_at(f, NOW, &err), BG_ERR_CRYPTO);
	free(other_priv);
	free(other_pub);
	free(other_dir);
}

static void
test_time_refusals(void **state)
{
	struct fixture *f = *state;
	bg_error err;

	assert_int_equal(validate_at(f, NOW + TTL, &err), BG_ERR_DENIED);
	assert_non_null(strstr(err.msg, "expired"));
	assert_int_equal(validate_at(f, NOW - 1, &err), BG_ERR_DENIED);
	assert_non_null(strstr(err.msg, "future"));
	/* A grant longer than grant_ttl, even if signed. */
	assert_int_equal(bg_grant_validate(&f->g, "breakglass", TU_HOST, f->pub, TTL - 1, NOW,
	    &err), BG_ERR_INVALID);
	assert_non_null(strstr(err.msg, "grant_ttl"));
	f->g.expires_at = f->g.issued_at;
	assert_int_equal(validate_at(f, NOW, &err), BG_ERR_INVALID);
}

/* Re-signs f->g with a decision whose one member differs; expects INVALID. */
static void
expect_decision_refused(struct fixture *f, const char *decision, const char *why)
{
	bg_error err;

	free(f->g.decision);
	f->g.decision = strdup(decision);
	tu_grant_sign(&f->g, f->priv);
	assert_int_equal(validate_at(f, NOW, &err), BG_ERR_INVALID);
	if (strstr(err.msg, why) == NULL)
		fail_msg("want \"%s\" in \"%s\"", why, err.msg);
}

/* The start of a hand-written decision for host TU_HOST and account breakglass. */
#define DECISION_HEAD(request_id) \
	"{\"host\":\"" TU_HOST "\",\"request_id\":\"" request_id "\",\"account\":\"breakglass\"," \
	"\"incident\":\"INC-42\","

static void
test_decision_refusals(void **state)
{
	struct fixture *f = *state;
	char *d;
	bg_error err;

	/* The grant is for another account than the one asking. */
	assert_int_equal(bg_grant_validate(&f->g, "root", TU_HOST, f->pub, TTL, NOW, &err),
	    BG_ERR_INVALID);
	/* A correctly signed decision for another account. */
	d = tu_decision("bg-other", "mail-queue", "approved", NOW, TTL);
	expect_decision_refused(f, d, "account");
	free(d);
	d = tu_decision("breakglass", "everything", "approved", NOW, TTL);
	expect_decision_refused(f, d, "scope");
	free(d);
	d = tu_decision("breakglass", "mail-queue", "denied", NOW, TTL);
	expect_decision_refused(f, d, "not an approval");
	free(d);
	expect_decision_refused(f, DECISION_HEAD("req-2")
	    "\"operator\":\"alice\",\"scope\":\"mail-queue\",\"status\":\"approved\","
	    "\"approvals\":[{\"approver\":\"bob\"},{\"approver\":\"carol\"}]}", "request_id");
	expect_decision_refused(f, DECISION_HEAD("req-1")
	    "\"operator\":\"mallory\",\"scope\":\"mail-queue\",\"status\":\"approved\","
	    "\"approvals\":[{\"approver\":\"bob\"},{\"approver\":\"carol\"}]}", "operator");
	/* A signed approval of another incident, and one from a service that omits it. */
	expect_decision_refused(f, "{\"host\":\"" TU_HOST "\",\"request_id\":\"req-1\","
	    "\"account\":\"breakglass\",\"incident\":\"INC-43\",\"operator\":\"alice\","
	    "\"scope\":\"mail-queue\",\"status\":\"approved\","
	    "\"approvals\":[{\"approver\":\"bob\"},{\"approver\":\"carol\"}]}", "incident");
	expect_decision_refused(f, "{\"host\":\"" TU_HOST "\",\"request_id\":\"req-1\","
	    "\"account\":\"breakglass\",\"operator\":\"alice\","
	    "\"scope\":\"mail-queue\",\"status\":\"approved\","
	    "\"approvals\":[{\"approver\":\"bob\"},{\"approver\":\"carol\"}]}", "incident");
	/* Approvers: a missing one, an extra one, a denial. */
	expect_decision_refused(f, DECISION_HEAD("req-1")
	    "\"operator\":\"alice\",\"scope\":\"mail-queue\",\"status\":\"approved\","
	    "\"approvals\":[{\"approver\":\"bob\"}]}", "approvers");
	expect_decision_refused(f, DECISION_HEAD("req-1")
	    "\"operator\":\"alice\",\"scope\":\"mail-queue\",\"status\":\"approved\","
	    "\"approvals\":[{\"approver\":\"bob\"},{\"approver\":\"carol\"},"
	    "{\"approver\":\"alice\"}]}", "approvers");
	expect_decision_refused(f, DECISION_HEAD("req-1")
	    "\"operator\":\"alice\",\"scope\":\"mail-queue\",\"status\":\"approved\","
	    "\"approvals\":[{\"approver\":\"bob\"},{\"approver\":\"carol\"}],"
	    "\"denials\":[{\"approver\":\"dave\"}]}", "denials");
	expect_decision_refused(f, DECISION_HEAD("req-1")
	    "\"operator\":\"alice\",\"scope\":\"mail-queue\",\"status\":\"approved\"}",
	    "approvals");
	/* A signed decision that is not JSON. */
	expect_decision_refused(f, "{\"request_id\":", "JSON");
	expect_decision_refused(f, "{} trailing", "JSON");
}

/* Replaces the first "from" in s (same length) by "to", in place. */
static void
replace_same_length(char *s, const char *from, const char *to)
{
	char *at = strstr(s, from);

	assert_non_null(at);
	assert_int_equal(strlen(from), strlen(to));
	memcpy(at, to, strlen(to));
}

static void
test_host_binding(void **state)
{
	struct fixture *f = *state;
	bg_error err;

	/* A grant issued on this host does not validate on another one. */
	assert_int_equal(bg_grant_validate(&f->g, "breakglass", "mx2.example.net", f->pub, TTL,
	    NOW, &err), BG_ERR_INVALID);
	assert_non_null(strstr(err.msg, "another host"));
	/* Its host member edited: the decision is signed for this host. */
	replace_same_length(f->g.host, "mx1", "mx2");
	assert_int_equal(validate_at(f, NOW, &err), BG_ERR_INVALID);
	assert_non_null(strstr(err.msg, "another host"));
	assert_int_equal(bg_grant_validate(&f->g, "breakglass", "mx2.example.net", f->pub, TTL,
	    NOW, &err), BG_ERR_INVALID);
	assert_non_null(strstr(err.msg, "decision host does not match the grant"));
	replace_same_length(f->g.host, "mx2", "mx1");
	assert_int_equal(validate_at(f, NOW, &err), BG_OK);

	/*
	 * A grant from another host copied here, its host member edited to this
	 * host: its decision, rightly signed, names the other host.
	 */
	replace_same_length(f->g.decision, "\"host\":\"mx1", "\"host\":\"mx2");
	tu_grant_sign(&f->g, f->priv);
	assert_int_equal(bg_grant_validate(&f->g, "breakglass", "mx2.example.net", f->pub, TTL,
	    NOW, &err), BG_ERR_INVALID);
	assert_non_null(strstr(err.msg, "another host"));
	assert_int_equal(validate_at(f, NOW, &err), BG_ERR_INVALID);
	assert_non_null(strstr(err.msg, "decision host does not match the grant"));
}

/* Validates f->g at now with grant_ttl max_ttl; expects want and why in the reason. */
static void
expect_validate(struct fixture *f, unsigned long max_ttl, time_t now, bg_status want,
    const char *why)
{
	bg_error err;
	bg_status rc = bg_grant_validate(&f->g, "breakglass", TU_HOST, f->pub, max_ttl, now,
	    &err);

	if (rc != want)
		fail_msg("want %s, got %s (%s)", bg_status_name(want), bg_status_name(rc),
		    rc == BG_OK ? "" : err.msg);
	if (why != NULL && strstr(err.msg, why) == NULL)
		fail_msg("want \"%s\" in \"%s\"", why, err.msg);
}

/* Only the grant file is edited: the decision and its signature stay as issued. */
static void
test_times_bound_to_decision(void **state)
{
	struct fixture *f = *state;

	/* expires_at extended: grant_ttl would allow it, the approved ttl does not. */
	expect_validate(f, 2 * TTL, NOW, BG_OK, NULL);
	f->g.expires_at = NOW + TTL + 1;
	expect_validate(f, 2 * TTL, NOW, BG_ERR_INVALID, "decision's ttl");
	f->g.expires_at = NOW + 2 * TTL;
	expect_validate(f, 2 * TTL, NOW + TTL + 10, BG_ERR_INVALID, "decision's ttl");
	/* issued_at moved earlier with expires_at kept: longer than approved. */
	f->g.expires_at = NOW + TTL;
	f->g.issued_at = NOW - 60;
	expect_validate(f, 2 * TTL, NOW, BG_ERR_INVALID, "decision's ttl");

	/*
	 * The whole window moved later, an old approval made fresh: the grant
	 * cannot start after the decision was issued.
	 */
	f->g.issued_at = NOW + 1;
	f->g.expires_at = NOW + 1 + TTL;
	expect_validate(f, TTL, NOW + 1, BG_ERR_INVALID, "later than the decision's");
	f->g.issued_at = NOW + 86400;
	f->g.expires_at = NOW + 86400 + TTL;
	expect_validate(f, TTL, NOW + 86400, BG_ERR_INVALID, "later than the decision's");
	/*
	 * The window moved earlier: up to the 300 s the host's clock may lag the
	 * service's, as pam_breakglass would have written it; not one second more.
	 */
	f->g.issued_at = NOW - BG_DECISION_MAX_SKEW;
	f->g.expires_at = NOW - BG_DECISION_MAX_SKEW + TTL;
	expect_validate(f, TTL, NOW, BG_OK, NULL);
	f->g.issued_at = NOW - BG_DECISION_MAX_SKEW - 1;
	f->g.expires_at = NOW - BG_DECISION_MAX_SKEW - 1 + TTL;
	expect_validate(f, TTL, NOW, BG_ERR_INVALID, "more than 300 s before");
	/* Shorter than the approved ttl, as with a grant_ttl below it: valid. */
	f->g.issued_at = NOW;
	f->g.expires_at = NOW + 60;
	expect_validate(f, TTL, NOW, BG_OK, NULL);
}

/* A decision like tu_decision's with raw JSON for ttl and issued_at (NULL: absent). */
static char *
decision_with(const char *ttl, const char *issued_at)
{
	char *d;

	if (asprintf(&d, DECISION_HEAD("req-1") "\"nonce\":\"00112233445566778899aabbccddeeff\","
	    "\"operator\":\"alice\",\"scope\":\"mail-queue\",\"status\":\"approved\","
	    "\"approvals\":[{\"approver\":\"bob\",\"at\":\"2023-11-14T22:12:20.000Z\","
	    "\"comment\":\"ok\"},{\"approver\":\"carol\",\"at\":\"2023-11-14T22:12:50.000Z\","
	    "\"comment\":\"\"}],\"denials\":[]%s%s%s%s}",
	    ttl != NULL ? ",\"ttl\":" : "", ttl != NULL ? ttl : "",
	    issued_at != NULL ? ",\"issued_at\":" : "", issued_at != NULL ? issued_at : "") < 0)
		abort();
	return d;
}

static void
expect_bad_decision_times(struct fixture *f, const char *ttl, const char *issued_at,
    const char *why)
{
	char *d = decision_with(ttl, issued_at);

	expect_decision_refused(f, d, why);
	free(d);
}

#define NOT_TTL "decision ttl missing or not a positive integer"
#define NOT_TIME "decision issued_at missing or not a UTC time"

static void
test_decision_times_refused(void **state)
{
	struct fixture *f = *state;
	char *d;

	/* The fixture's decision is issued at NOW (2023-11-14T22:13:20Z) for TTL. */
	d = decision_with("3600", "\"2023-11-14T22:13:20.000Z\"");
	free(f->g.decision);
	f->g.decision = d;
	tu_grant_sign(&f->g, f->priv);
	expect_validate(f, TTL, NOW, BG_OK, NULL);
	/* Also without fractions, and issued up to 300 s after the grant. */
	d = decision_with("3600", "\"2023-11-14T22:18:20Z\"");
	free(f->g.decision);
	f->g.decision = d;
	tu_grant_sign(&f->g, f->priv);
	expect_validate(f, TTL, NOW, BG_OK, NULL);

	expect_bad_decision_times(f, NULL, "\"2023-11-14T22:13:20.000Z\"", NOT_TTL);
	expect_bad_decision_times(f, "0", "\"2023-11-14T22:13:20.000Z\"", NOT_TTL);
	expect_bad_decision_times(f, "-3600", "\"2023-11-14T22:13:20.000Z\"", NOT_TTL);
	expect_bad_decision_times(f, "\"3600\"", "\"2023-11-14T22:13:20.000Z\"", NOT_TTL);
	expect_bad_decision_times(f, "3600.5", "\"2023-11-14T22:13:20.000Z\"", NOT_TTL);
	expect_bad_decision_times(f, "null", "\"2023-11-14T22:13:20.000Z\"", NOT_TTL);
	/* A ttl shorter than the grant. */
	expect_bad_decision_times(f, "3599", "\"2023-11-14T22:13:20.000Z\"", "decision's ttl");
	expect_bad_decision_times(f, "3600", NULL, NOT_TIME);
	expect_bad_decision_times(f, "3600", "1700000000", NOT_TIME);
	expect_bad_decision_times(f, "3600", "\"yesterday\"", NOT_TIME);
	expect_bad_decision_times(f, "3600", "\"\"", NOT_TIME);
	expect_bad_decision_times(f, "3600", "\"2023-11-14T22:13:20+01:00\"", NOT_TIME);
	expect_bad_decision_times(f, "3600", "\"2023-11-14T22:13:20.000Zjunk\"", NOT_TIME);
	expect_bad_decision_times(f, "3600", "\"2023-13-14T22:13:20Z\"", NOT_TIME);
	/* Well formed, outside the window either way. */
	expect_bad_decision_times(f, "3600", "\"2023-11-14T22:13:19.999Z\"",
	    "later than the decision's");
	expect_bad_decision_times(f, "3600", "\"2023-11-14T22:18:21Z\"", "more than 300 s");
	expect_bad_decision_times(f, "3600", "\"2023-11-13T22:13:20Z\"",
	    "later than the decision's");
}

/* Writes text as the grant file (mode 0600) and expects load to fail with want. */
static void
expect_load(struct fixture *f, const char *text, bg_status want, const char *why)
{
	bg_grant got;
	bg_error err;
	char *grants = tu_path(f->run, "grants"), *p;

	mkdir(grants, 0700);
	p = tu_write(grants, "breakglass.json", 0600, text);
	assert_int_equal(bg_grant_load(f->run, "breakglass", &got, &err), want);
	if (why != NULL && strstr(err.msg, why) == NULL)
		fail_msg("want \"%s\" in \"%s\"", why, err.msg);
	/* A refused load leaves nothing to free. */
	assert_null(got.account);
	free(p);
	free(grants);
}

static void
test_load_refusals(void **state)
{
	struct fixture *f = *state;
	char *big, *target, *grants;
	bg_grant got;
	bg_error err;

	grants = tu_path(f->run, "grants");
	assert_int_equal(mkdir(grants, 0700), 0);
	assert_int_equal(bg_grant_load(f->run, "breakglass", &got, &err), BG_ERR_NOTFOUND);
	assert_int_equal(bg_grant_load(f->run, "../etc/passwd", &got, &err), BG_ERR_INVALID);
	assert_int_equal(bg_grant_load(f->run, "Root", &got, &err), BG_ERR_INVALID);
	assert_int_equal(bg_grant_load(f->run, "a23456789012345678901234567890123", &got,
	    &err), BG_ERR_INVALID);

	expect_load(f, "{\"account\":", BG_ERR_INVALID, "JSON");
	expect_load(f, "[]", BG_ERR_INVALID, "JSON");
	expect_load(f, "{}", BG_ERR_INVALID, "account");
	expect_load(f, "{\"account\":\"breakglass\",\"operator\":\"alice\",\"incident\":\"I\","
	    "\"request_id\":\"r\",\"scope\":\"s\",\"approvers\":[\"bob\"],\"issued_at\":1,"
	    "\"expires_at\":2,\"host\":\"h\",\"decision\":\"{}\"}", BG_ERR_INVALID,
	    "decision_signature");
	expect_load(f, "{\"account\":\"breakglass\",\"operator\":\"alice\",\"incident\":\"I\","
	    "\"request_id\":\"r\",\"scope\":\"s\",\"approvers\":[],\"issued_at\":1,"
	    "\"expires_at\":2,\"host\":\"h\",\"decision\":\"{}\",\"decision_signature\":\"x\"}",
	    BG_ERR_INVALID, "approvers");
	expect_load(f, "{\"account\":\"breakglass\",\"operator\":\"alice\",\"incident\":\"I\","
	    "\"request_id\":\"r\",\"scope\":\"s\",\"approvers\":[\"bob\"],\"issued_at\":\"1\","
	    "\"expires_at\":2,\"host\":\"h\",\"decision\":\"{}\",\"decision_signature\":\"x\"}",
	    BG_ERR_INVALID, "issued_at");
	expect_load(f, "{\"account\":\"breakglass\",\"operator\":\"alice\",\"incident\":\"I\","
	    "\"request_id\":\"r\",\"scope\":\"s\",\"approvers\":[\"bob\"],\"issued_at\":1,"
	    "\"expires_at\":2,\"host\":\"h\",\"decision\":\"{}\",\"decision_signature\":\"x\","
	    "\"extra\":1}", BG_ERR_INVALID, "unknown");
	/* A NUL inside a string would make the signed bytes ambiguous. */
	expect_load(f, "{\"account\":\"break\\u0000glass\"}", BG_ERR_INVALID, "account");

	/* Too big. */
	big = malloc(BG_GRANT_MAX_SIZE + 2);
	memset(big, ' ', BG_GRANT_MAX_SIZE + 1);
	big[BG_GRANT_MAX_SIZE + 1] = '\0';
	expect_load(f, big, BG_ERR_TOOBIG, NULL);
	free(big);

	/* A readable-by-others grant and a symlinked grant are refused. */
	assert_int_equal(bg_grant_write(f->run, &f->g, &err), BG_OK);
	assert_int_equal(chmod(f->grant_path, 0644), 0);
	assert_int_equal(bg_grant_load(f->run, "breakglass", &got, &err), BG_ERR_PERM);
	assert_int_equal(chmod(f->grant_path, 0600), 0);
	target = tu_path(grants, "target");
	assert_int_equal(rename(f->grant_path, target), 0);
	assert_int_equal(symlink(target, f->grant_path), 0);
	assert_int_equal(bg_grant_load(f->run, "breakglass", &got, &err), BG_ERR_PERM);
	free(target);
	free(grants);
}

static void
test_write_refusals(void **state)
{
	struct fixture *f = *state;
	char *saved = f->g.account, *grants;
	bg_error err;

	f->g.account = "../../etc/x";
	assert_int_equal(bg_grant_write(f->run, &f->g, &err), BG_ERR_INVALID);
	f->g.account = saved;
	f->g.expires_at = f->g.issued_at;
	assert_int_equal(bg_grant_write(f->run, &f->g, &err), BG_ERR_INVALID);
	f->g.expires_at = NOW + TTL;
	/* A grants directory others can write to is refused. */
	grants = tu_path(f->run, "grants");
	assert_int_equal(mkdir(grants, 0777), 0);
	assert_int_equal(chmod(grants, 0777), 0);
	assert_int_equal(bg_grant_write(f->run, &f->g, &err), BG_ERR_PERM);
	free(grants);
}

static void
test_revoke_and_list(void **state)
{
	struct fixture *f = *state;
	char **accounts, *grants, *p;
	size_t count;
	bool removed = true;
	bg_grant g2;
	bg_error err;

	/* An empty grants directory: nothing listed, nothing removed. */
	grants = tu_path(f->run, "grants");
	assert_int_equal(mkdir(grants, 0700), 0);
	assert_int_equal(bg_grant_list(f->run, &accounts, &count, &err), BG_OK);
	assert_int_equal(count, 0);
	bg_grant_list_free(accounts, count);
	assert_int_equal(bg_grant_revoke(f->run, "breakglass", &removed, &err), BG_OK);
	assert_false(removed);

	assert_int_equal(bg_grant_write(f->run, &f->g, &err), BG_OK);
	tu_grant_make(&g2, "bg-ann", "mail-queue", NOW, NOW + TTL, f->priv);
	assert_int_equal(bg_grant_write(f->run, &g2, &err), BG_OK);
	bg_grant_free(&g2);
	/* Junk in the directory is not a grant. */
	p = tu_write(grants, "README", 0600, "x");
	free(p);
	p = tu_write(grants, "Bad.json", 0600, "x");
	free(p);
	p = tu_write(grants, "x.json.tmp.0011", 0600, "x");
	free(p);

	assert_int_equal(bg_grant_list(f->run, &accounts, &count, &err), BG_OK);
	assert_int_equal(count, 2);
	assert_string_equal(accounts[0], "bg-ann");
	assert_string_equal(accounts[1], "breakglass");
	bg_grant_list_free(accounts, count);

	assert_int_equal(bg_grant_revoke(f->run, "breakglass", &removed, &err), BG_OK);
	assert_true(removed);
	assert_int_equal(bg_grant_revoke(f->run, "breakglass", &removed, &err), BG_OK);
	assert_false(removed);
	assert_int_equal(bg_grant_load(f->run, "breakglass", &g2, &err), BG_ERR_NOTFOUND);
	assert_int_equal(bg_grant_list(f->run, &accounts, &count, &err), BG_OK);
	assert_int_equal(count, 1);
	assert_string_equal(accounts[0], "bg-ann");
	bg_grant_list_free(accounts, count);
	assert_int_equal(bg_grant_revoke(f->run, "../x", &removed, &err), BG_ERR_INVALID);
	free(grants);
}

/*
 * Load, revoke and list (and write, where it does not create) of one grant
 * whose directory is in an unsafe state: each refuses with BG_ERR_PERM and a
 * message naming the directory; revoke never reports "nothing removed".
 */
static void
expect_dir_refused(struct fixture *f, const char *dir, bool write_refused)
{
	char **accounts = NULL;
	size_t count = 0;
	bool removed = true;
	bg_grant got;
	bg_error err;

	assert_int_equal(bg_grant_load(f->run, "breakglass", &got, &err), BG_ERR_PERM);
	if (strstr(err.msg, dir) == NULL)
		fail_msg("load: want \"%s\" in \"%s\"", dir, err.msg);
	assert_null(got.account);
	assert_int_equal(bg_grant_revoke(f->run, "breakglass", &removed, &err), BG_ERR_PERM);
	assert_false(removed);
	if (strstr(err.msg, dir) == NULL)
		fail_msg("revoke: want \"%s\" in \"%s\"", dir, err.msg);
	assert_int_equal(bg_grant_list(f->run, &accounts, &count, &err), BG_ERR_PERM);
	assert_int_equal(count, 0);
	assert_null(accounts);
	if (strstr(err.msg, dir) == NULL)
		fail_msg("list: want \"%s\" in \"%s\"", dir, err.msg);
	if (write_refused)
		assert_int_equal(bg_grant_write(f->run, &f->g, &err), BG_ERR_PERM);
}

/* The account's own directory, holding a copy of the grant: what a symlink or a swap points to. */
static char *
account_dir(struct fixture *f)
{
	char *other = tu_path(f->dir, "home"), *p;

	assert_int_equal(mkdir(other, 0700), 0);
	p = tu_write(other, "breakglass.json", 0600, "{}");
	free(p);
	return other;
}

static void
test_unsafe_grants_dir(void **state)
{
	struct fixture *f = *state;
	char *grants = tu_path(f->run, "grants"), *moved = tu_path(f->dir, "moved"), *other;
	bool removed = false;
	bg_grant got;
	bg_error err;

	assert_int_equal(bg_grant_write(f->run, &f->g, &err), BG_OK);

	/* Writable by others: anyone could plant, swap or remove grants. */
	assert_int_equal(chmod(grants, 0777), 0);
	expect_dir_refused(f, grants, true);
	assert_int_equal(chmod(grants, 0700), 0);

	/* Owned by the account (another uid): only as root can the test chown. */
	if (geteuid() == 0) {
		assert_int_equal(chown(grants, 4242, 4242), 0);
		expect_dir_refused(f, grants, true);
		assert_int_equal(chown(grants, 0, 0), 0);
	}

	/* Moved away by someone who could: revoke and list must not say "none". */
	assert_int_equal(rename(grants, moved), 0);
	expect_dir_refused(f, grants, false);
	assert_int_equal(bg_grant_revoke(f->run, "breakglass", &removed, &err), BG_ERR_PERM);
	if (strstr(err.msg, "missing") == NULL)
		fail_msg("want \"missing\" in \"%s\"", err.msg);

	/* A symbolic link to a directory the account controls. */
	other = account_dir(f);
	assert_int_equal(symlink(other, grants), 0);
	expect_dir_refused(f, grants, true);
	assert_int_equal(bg_grant_load(f->run, "breakglass", &got, &err), BG_ERR_PERM);
	if (strstr(err.msg, "symbolic link") == NULL)
		fail_msg("want \"symbolic link\" in \"%s\"", err.msg);
	assert_int_equal(unlink(grants), 0);

	/* Moved back: the grant it held is still there and is revoked now. */
	assert_int_equal(rename(moved, grants), 0);
	assert_int_equal(bg_grant_load(f->run, "breakglass", &got, &err), BG_OK);
	bg_grant_free(&got);
	assert_int_equal(bg_grant_revoke(f->run, "breakglass", &removed, &err), BG_OK);
	assert_true(removed);

	/* run_dir itself: writable by others, then a symbolic link. */
	assert_int_equal(chmod(f->run, 0777), 0);
	expect_dir_refused(f, f->run, true);
	assert_int_equal(chmod(f->run, 0755), 0);
	assert_int_equal(rename(f->run, moved), 0);
	assert_int_equal(symlink(moved, f->run), 0);
	expect_dir_refused(f, f->run, true);
	assert_int_equal(unlink(f->run), 0);
	assert_int_equal(rename(moved, f->run), 0);

	free(other);
	free(moved);
	free(grants);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_signature_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_time_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decision_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_binding, setup, teardown),
		cmocka_unit_test_setup_teardown(test_times_bound_to_decision, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decision_times_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revoke_and_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsafe_grants_dir, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
