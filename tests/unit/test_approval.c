/*
 * Tests of common/approval.c against tests/approval/mock_approvald.py: the
 * happy path, one refusal reason per misbehaviour of the service, and the
 * failover between several [approval] urls.
 */
#include "build_config.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "approval.h"
#include "config.h"
#include "crypto.h"
#include "testutil.h"

#define HOST_KEY_HEX "1f7bef4253eb798607b74c3bfd6625f5f94528bba471bb15f347ab3776dcb7a4"
#define OTHER_KEY_HEX "2f7bef4253eb798607b74c3bfd6625f5f94528bba471bb15f347ab3776dcb7a4"
#define TTL 3600
/* Long enough for a loopback exchange; short for the modes that run it out. */
#define TIMEOUT "10s"
#define SHORT_TIMEOUT "2s"

struct fixture {
	char *dir;
	char *host_key;
	char *pub;
	pid_t pid;
	int in_fd;
	int port;
	bg_config cfg;
	unsigned progress_calls;
	char progress_id[BG_UUID_LEN + 1];
};

/* The mock writes its public key to f->pub: the pinned service_key. */
static void
start_mock(struct fixture *f)
{
	const char *args[] = { "mx1.example.net", f->host_key, f->pub, NULL };

	f->port = tu_server_start(BG_TEST_SRCDIR "/approval/mock_approvald.py", args, &f->pid,
	    &f->in_fd);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->dir = tu_mkdtemp();
	f->host_key = tu_write(f->dir, "host.key", 0600, HOST_KEY_HEX "\n");
	f->pub = tu_path(f->dir, "approvald.pub");
	start_mock(f);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	bg_config_free(&f->cfg);
	tu_server_stop(f->pid, f->in_fd);
	tu_rmtree(f->dir);
	free(f->dir);
	free(f->host_key);
	free(f->pub);
	free(f);
	return 0;
}

/* urls: the [approval] url lines, in order. */
static void
configure_urls(struct fixture *f, const char *urls, const char *timeout, const char *host_key)
{
	char text[4096];
	bg_errlist errs = { 0 };
	int n;

	n = snprintf(text, sizeof(text),
	    "[general]\naccounts = breakglass\n"
	    "[totp]\noperators_dir = /etc/breakglass/operators\n"
	    "[approval]\n%shost_id = mx1.example.net\n"
	    "host_key = %s\nservice_key = %s\napprovers = bob carol dave\nquorum = 2\n"
	    "timeout = %s\nconnect_timeout = 1s\n"
	    "[signals]\nrequired = 0\n"
	    "[scope mail-queue]\ncommand = /usr/sbin/postqueue -p\nrunas = root\n",
	    urls, host_key, f->pub, timeout);
	assert_true(n > 0 && (size_t)n < sizeof(text));
	bg_config_free(&f->cfg);
	if (bg_config_parse("test.conf", text, (size_t)n, &f->cfg, &errs) != BG_OK)
		fail_msg("config: %s", errs.count ? errs.msgs[0] : "?");
}

static void
configure(struct fixture *f, const char *mode, const char *timeout, const char *host_key)
{
	char url[128];

	snprintf(url, sizeof(url), "url = http://127.0.0.1:%d/%s/v1\n", f->port, mode);
	configure_urls(f, url, timeout, host_key);
}

static void
progress(const char *request_id, const char *url, unsigned long seconds_left, void *arg)
{
	struct fixture *f = arg;

	f->progress_calls++;
	snprintf(f->progress_id, sizeof(f->progress_id), "%s", request_id);
}

static bg_status
run(struct fixture *f, bg_approval_result *res, bg_error *err)
{
	bg_approval_request req = {
		.account = "breakglass", .operator_name = "bob", .incident = "INC-2041",
		.reason = "Outbound spam", .scope = "mail-queue", .ttl = TTL, .service = "sshd",
		.rhost = "192.0.2.10", .tty = NULL, .signals = NULL,
	};

	return bg_approval_run(&f->cfg, &req, progress, f, res, err);
}

static void
test_approved(void **state)
{
	struct fixture *f = *state;
	bg_approval_result res;
	unsigned char *sig;
	size_t sig_len;
	bg_error err;

	configure(f, "approve", TIMEOUT, f->host_key);
	if (run(f, &res, &err) != BG_OK)
		fail_msg("approval: %s", err.msg);
	assert_null(res.reason);
	assert_int_equal(strlen(res.request_id), BG_UUID_LEN);
	assert_int_equal(res.request_id[14], '4');
	assert_int_equal(res.napprovers, 2);
	assert_string_equal(res.approvers[0], "carol");
	assert_string_equal(res.approvers[1], "dave");
	assert_int_equal(res.ttl, TTL);
	assert_true(res.issued_at > 0);
	/* The grant keeps the body and signature: they verify offline. */
	assert_int_equal(bg_base64_decode(res.decision_signature, &sig, &sig_len, &err), BG_OK);
	assert_int_equal(bg_ed25519_verify_file(f->pub, res.decision, strlen(res.decision),
	    sig, sig_len, &err), BG_OK);
	free(sig);
	/* The signed decision names the incident it approves. */
	assert_non_null(strstr(res.decision, "\"incident\":\"INC-2041\""));
	assert_true(f->progress_calls >= 1);
	assert_string_equal(f->progress_id, res.request_id);
	bg_approval_result_free(&res);
}

struct refusal {
	const char *mode;
	const char *reason;
	const char *timeout;
};

static const struct refusal refusals[] = {
	{ "bad-signature", "signature", TIMEOUT },
	{ "missing-signature", "signature", TIMEOUT },
	{ "wrong-nonce", "mismatch", TIMEOUT },
	{ "wrong-request-id", "mismatch", TIMEOUT },
	{ "wrong-host", "mismatch", TIMEOUT },
	{ "wrong-account", "mismatch", TIMEOUT },
	{ "wrong-operator", "mismatch", TIMEOUT },
	{ "wrong-incident", "mismatch", TIMEOUT },
	{ "no-incident", "malformed", TIMEOUT },
	{ "self-approval", "self-approval", TIMEOUT },
	{ "unknown-approver", "unknown-approver", TIMEOUT },
	{ "duplicate-approver", "quorum", TIMEOUT },
	{ "duplicate-approver-case", "quorum", TIMEOUT },
	{ "short-quorum", "quorum", TIMEOUT },
	{ "denied", "denied", TIMEOUT },
	{ "expired", "expired", TIMEOUT },
	{ "stale-issued-at", "mismatch", TIMEOUT },
	{ "changed-scope", "mismatch", TIMEOUT },
	{ "raised-ttl", "mismatch", TIMEOUT },
	{ "malformed", "malformed", TIMEOUT },
	{ "oversized", "too-large", TIMEOUT },
	{ "http500", "http-status", TIMEOUT },
	{ "redirect", "http-status", TIMEOUT },
	{ "hang", "timeout", SHORT_TIMEOUT },
	{ "pending", "timeout", SHORT_TIMEOUT },
};

static void
test_refusals(void **state)
{
	struct fixture *f = *state;
	bg_approval_result res;
	bg_error err;
	size_t i;

	for (i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		configure(f, refusals[i].mode, refusals[i].timeout, f->host_key);
		if (run(f, &res, &err) == BG_OK)
			fail_msg("mode %s was accepted", refusals[i].mode);
		if (res.reason == NULL || strcmp(res.reason, refusals[i].reason) != 0)
			fail_msg("mode %s: reason %s, expected %s (%s)", refusals[i].mode,
			    res.reason ? res.reason : "(none)", refusals[i].reason, err.msg);
		assert_null(res.decision);
		assert_int_equal(res.napprovers, 0);
		bg_approval_result_free(&res);
	}
}

/* A host key the service does not know: 401 to the POST. */
static void
test_wrong_host_key(void **state)
{
	struct fixture *f = *state;
	char *other = tu_write(f->dir, "other.key", 0600, OTHER_KEY_HEX "\n");
	bg_approval_result res;
	bg_error err;

	configure(f, "approve", TIMEOUT, other);
	assert_int_not_equal(run(f, &res, &err), BG_OK);
	assert_string_equal(res.reason, "http-status");
	bg_approval_result_free(&res);
	free(other);
}

/* A host key file others can read is a local failure, before any traffic. */
static void
test_host_key_mode(void **state)
{
	struct fixture *f = *state;
	char *open_key = tu_write(f->dir, "open.key", 0644, HOST_KEY_HEX "\n");
	bg_approval_result res;
	bg_error err;

	configure(f, "approve", TIMEOUT, open_key);
	assert_int_not_equal(run(f, &res, &err), BG_OK);
	assert_string_equal(res.reason, "internal");
	bg_approval_result_free(&res);
	free(open_key);
}

static void
test_connect_refused(void **state)
{
	struct fixture *f = *state;
	bg_approval_result res;
	bg_error err;

	/* The mock is stopped: nothing listens on its port any more. */
	tu_server_stop(f->pid, f->in_fd);
	configure(f, "approve", TIMEOUT, f->host_key);
	assert_int_not_equal(run(f, &res, &err), BG_OK);
	assert_string_equal(res.reason, "connect");
	bg_approval_result_free(&res);
	start_mock(f);
}

/* A loopback port nothing listens on: bound, then closed again. */
static int
closed_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

/*
 * One failover case: the mock modes (or "dead", a closed port) as the
 * urls in order; the reason expected (NULL: approved), the index of the url
 * that answered last (-1: none) and the failed urls' indexes (-1 ends).
 */
struct failover {
	const char *modes[3];
	const char *timeout;
	const char *reason;
	int answered;
	int failed[3];
	bool unreachable;
};

static const struct failover failovers[] = {
	/* Moves on after a connection failure, a 5xx and an instance that hangs. */
	{ { "dead", "approve" }, TIMEOUT, NULL, 1, { 0, -1 }, false },
	{ { "unavailable", "approve" }, TIMEOUT, NULL, 1, { 0, -1 }, false },
	{ { "stall", "approve" }, TIMEOUT, NULL, 1, { 0, -1 }, false },
	{ { "dead", "unavailable", "approve" }, TIMEOUT, NULL, 2, { 0, 1, -1 }, false },
	/* Filed on the first, its polls fail: polled on the second. */
	{ { "file-only", "approve" }, TIMEOUT, NULL, 1, { 0, -1 }, false },
	/* Never after an answer: a signed denial, a 4xx, an unsigned decision. */
	{ { "denied", "approve" }, TIMEOUT, "denied", 0, { -1 }, false },
	{ { "not-found", "approve" }, TIMEOUT, "http-status", 0, { -1 }, false },
	{ { "missing-signature", "approve" }, TIMEOUT, "signature", 0, { -1 }, false },
	{ { "malformed", "approve" }, TIMEOUT, "malformed", 0, { -1 }, false },
	/* Every url unreachable: what offline recovery follows. */
	{ { "dead", "unavailable" }, TIMEOUT, "http-status", -1, { 0, 1, -1 }, true },
	{ { "unavailable", "dead" }, TIMEOUT, "connect", -1, { 0, 1, -1 }, true },
	{ { "stall", "stall/2" }, SHORT_TIMEOUT, "timeout", -1, { 0, 1, -1 }, true },
	/* A busy answer (429, 503 with Retry-After) is asked again after the delay. */
	{ { "busy" }, TIMEOUT, NULL, 0, { 0, -1 }, false },
	{ { "busy", "approve" }, TIMEOUT, NULL, 1, { 0, -1 }, false },
	/* ... unless the delay is past the deadline: the 429 is the answer. */
	{ { "busy-long", "approve" }, TIMEOUT, "http-status", 0, { -1 }, false },
	/* A poll that hangs on the last url left runs out the one deadline. */
	{ { "hang", "approve" }, SHORT_TIMEOUT, "timeout", 0, { 0, 1, -1 }, false },
};

static void
test_failover(void **state)
{
	struct fixture *f = *state;
	bg_approval_result res;
	char urls[3][128], lines[512];
	bg_error err;

	for (size_t i = 0; i < sizeof(failovers) / sizeof(failovers[0]); i++) {
		const struct failover *c = &failovers[i];
		size_t n, k;
		bg_status rc;

		lines[0] = '\0';
		for (n = 0; n < 3 && c->modes[n] != NULL; n++) {
			if (strcmp(c->modes[n], "dead") == 0)
				snprintf(urls[n], sizeof(urls[n]), "http://127.0.0.1:%d/v1",
				    closed_port());
			else
				snprintf(urls[n], sizeof(urls[n]), "http://127.0.0.1:%d/%s/v1",
				    f->port, c->modes[n]);
			strcat(lines, "url = ");
			strcat(lines, urls[n]);
			strcat(lines, "\n");
		}
		configure_urls(f, lines, c->timeout, f->host_key);
		rc = run(f, &res, &err);
		if (c->reason == NULL ? rc != BG_OK :
		    rc == BG_OK || strcmp(res.reason, c->reason) != 0)
			fail_msg("case %zu (%s, %s): reason %s (%s)", i, c->modes[0], c->modes[1],
			    res.reason ? res.reason : "(none)", rc == BG_OK ? "approved" : err.msg);
		if (c->answered < 0)
			assert_null(res.url);
		else
			assert_string_equal(res.url, urls[c->answered]);
		for (k = 0; c->failed[k] >= 0; k++) {
			assert_true(k < res.nfailed_urls);
			assert_string_equal(res.failed_urls[k], urls[c->failed[k]]);
		}
		if (k != res.nfailed_urls)
			fail_msg("case %zu: %zu failed urls, expected %zu", i, res.nfailed_urls, k);
		assert_int_equal(bg_approval_unreachable(&res), c->unreachable);
		bg_approval_result_free(&res);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_approved, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_host_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_key_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_connect_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failover, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
