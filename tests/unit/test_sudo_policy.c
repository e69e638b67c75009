/*
 * Unit tests for common/sudo_policy.c: the environment rule, and the decision
 * with its journal record and syslog line (the plugin host in tests/sudo
 * covers every rule through the real module).
 */
#include "build_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "audit.h"
#include "config.h"
#include "grant.h"
#include "journal.h"
#include "sudo_policy.h"
#include "testutil.h"

static void
test_env_rule(void **state)
{
	static const char *const refused[] = {
		"LD_PRELOAD=/x.so", "LD_=", "BASH_ENV=/x", "ENV=/x", "IFS= ", "PYTHONPATH=/x",
		"PYTHONHOME", "PERL5LIB=/x", "RUBYLIB=/x", "GCONV_PATH=/x", "GLIBC_TUNABLES=x",
		"BASH_FUNC_ls%%=() { id; }", "SHELLOPTS=xtrace", "PS4=$(id)", "PAGER=sh",
		"NLSPATH=/x", "HOSTALIASES=/x", "RES_OPTIONS=x", "LOCPATH=/x", "CDPATH=/x",
	};
	static const char *const allowed[] = {
		"PATH=/usr/bin", "HOME=/root", "LANG=C.UTF-8", "TMPDIR=/tmp", "TERM=xterm",
		"ENVIRONMENT=prod", "IFSX=1", "LDFLAGS=-s", "XLD_PRELOAD=1", "SUDO_USER=bg",
		"MAIL=/var/mail/root", "PS1=# ",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		if (!bg_sudo_env_forbidden(refused[i]))
			fail_msg("%s should be refused", refused[i]);
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		if (bg_sudo_env_forbidden(allowed[i]))
			fail_msg("%s should be allowed", allowed[i]);
}

struct capture {
	int calls;
	char line[BG_SYSLOG_MAX_LINE + 1];
};

static void
capture_sink(int priority, const char *line, void *arg)
{
	struct capture *c = arg;

	(void)priority;
	c->calls++;
	snprintf(c->line, sizeof(c->line), "%s", line);
}

static void
test_decide(void **state)
{
	char *dir = tu_mkdtemp(), *text, *priv, *pub, *run = tu_path(dir, "run");
	const char *argv_ok[] = { "true", "x" };
	const char *argv_bad[] = { "false" };
	unsigned char k1[BG_SHA256_LEN];
	struct capture cap = { 0 };
	bg_sudo_request req;
	bg_errlist errs = { 0 };
	bg_config cfg;
	bg_audit a;
	bg_grant g;
	bg_error err, reason;

	(void)state;
	assert_int_equal(mkdir(run, 0755), 0);
	tu_make_ed25519(dir, "service", &priv, &pub);
	if (asprintf(&text, "[general]\naccounts = bg-*\nstate_dir = %s\nrun_dir = %s\n"
	    "kill_switch = %s/ks\njournal = %s/journal.jsonl\n[totp]\noperators_dir = %s\n"
	    "[approval]\nurl = http://127.0.0.1:1/v1\nhost_id = mx1.example.net\nhost_key = %s/hk\n"
	    "service_key = %s\napprovers = bob carol\nquorum = 2\n[signals]\nrequired = 0\n"
	    "[scope ops]\ncommand = /usr/bin/true *\n", dir, run, dir, dir, dir, dir, pub) < 0)
		abort();
	if (bg_config_parse("test.conf", text, strlen(text), &cfg, &errs) != BG_OK)
		fail_msg("config: %s", errs.count > 0 ? errs.msgs[0] : "?");
	assert_int_equal(bg_audit_init(&a, &cfg, &err), BG_OK);
	a.sink = capture_sink;
	a.sink_arg = &cap;
	assert_int_equal(bg_journal_init(&a.journal, k1, &err), BG_OK);
	tu_grant_make(&g, "bg-op", "ops", time(NULL) - 10, time(NULL) + 60, priv);
	assert_int_equal(bg_grant_write(run, &g, &err), BG_OK);
	bg_grant_free(&g);

	memset(&req, 0, sizeof(req));
	req.user = "alice";
	req.command = "/usr/bin/false";
	req.argv = argv_bad;
	req.argc = 1;
	req.runas_user = "root";
	req.runas_known = true;
	req.cwd = "/";
	assert_int_equal(bg_sudo_decide(&cfg, &a, &req, time(NULL), &reason), BG_SUDO_UNTOUCHED);
	assert_int_equal(cap.calls, 0);

	req.user = "bg-op";
	assert_int_equal(bg_sudo_decide(&cfg, &a, &req, time(NULL), &reason), BG_SUDO_REJECT);
	assert_string_equal(reason.msg, "command not in scope ops");
	assert_int_equal(cap.calls, 1);
	assert_non_null(strstr(cap.line, "event=sudo.rejected outcome=failure account=bg-op "
	    "operator=alice incident=INC-42 request_id=req-1 scope=ops"));
	assert_non_null(strstr(cap.line, "reason=\"command not in scope ops\""));

	req.command = "/usr/bin/true";
	req.argv = argv_ok;
	req.argc = 2;
	req.tty = "/dev/pts/0";
	assert_int_equal(bg_sudo_decide(&cfg, &a, &req, time(NULL), &reason), BG_SUDO_ACCEPT);
	assert_int_equal(cap.calls, 2);
	assert_non_null(strstr(cap.line, "event=sudo.accepted outcome=success account=bg-op"));
	assert_non_null(strstr(cap.line, "argv=\"[\\\"true\\\",\\\"x\\\"]\""));
	assert_non_null(strstr(cap.line, " seq=2 mac="));

	/* An acceptance that cannot be journaled is a refusal. */
	free(tu_write(dir, "journal.jsonl", 0600, "garbage\n"));
	assert_int_equal(bg_sudo_decide(&cfg, &a, &req, time(NULL), &reason), BG_SUDO_REJECT);
	assert_non_null(strstr(reason.msg, "the audit journal cannot be written"));

	bg_config_free(&cfg);
	tu_rmtree(dir);
	free(text); free(priv); free(pub); free(run); free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_env_rule),
		cmocka_unit_test(test_decide),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
