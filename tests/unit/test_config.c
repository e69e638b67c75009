/* Unit tests for common/ini.c and common/config.c. */
#include "build_config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "ini.h"
#include "testutil.h"

#define FULL_CONF BG_TEST_SRCDIR "/data/config/full.conf"
#define T "t.conf"

/* A minimal valid configuration, twelve lines; tests append to it. */
#define GENERAL "[general]\naccounts = breakglass\n"                 /* 1-2 */
#define APPROVAL_HEAD "[approval]\n"                                   /* 3 */
#define APPROVAL_REST \
	"host_id = mx1.example.net\n"                                  /* 5 */ \
	"host_key = /etc/breakglass/host.key\n"                        /* 6 */ \
	"service_key = /etc/breakglass/approvald.pub\n"                /* 7 */ \
	"approvers = bob carol\n"                                      /* 8 */
#define APPROVAL APPROVAL_HEAD "url = https://approvals.example.net/v1\n" APPROVAL_REST
#define SIGNALS0 "[signals]\nrequired = 0\n"                           /* 9-10 */
#define SCOPE "[scope s]\ncommand = /usr/bin/true\n"                   /* 11-12 */
#define BASE GENERAL APPROVAL SIGNALS0 SCOPE

static const char ed25519_pub[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MCowBQYDK2VwAyEAQPTqwkuzAd2fHGeyci/WD4ujLhmTUhgPFpNpu8U6n5U=\n"
    "-----END PUBLIC KEY-----\n";
static const char p256_pub[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE1hQC90LSR1v9L6bi7cgBtoqXkRNS\n"
    "mvta9HNAExWLowXfklL2t1l2y1ZBC9234HxbdQaH1idJRd24PuoQjaO2/A==\n"
    "-----END PUBLIC KEY-----\n";
static const char hex_key[] =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n";

/* ------------------------------------------------------------------ */
/* Helpers. */

static bg_status
parse(const char *text, bg_config *cfg, bg_errlist *errs)
{
	return bg_config_parse(T, text, strlen(text), cfg, errs);
}

static bool
is_zero(const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		if (c[i] != 0)
			return false;
	return true;
}

static void
dump_errors(const bg_errlist *errs)
{
	for (size_t i = 0; i < errs->count; i++)
		print_message("  error: %s\n", errs->msgs[i]);
}

static void
assert_count(const bg_errlist *errs, size_t n)
{
	if (errs->count != n) {
		print_message("expected %zu errors, got %zu:\n", n, errs->count);
		dump_errors(errs);
	}
	assert_int_equal(errs->count, n);
}

/* Asserts one message starts with "t.conf:LINE: " and holds needle. */
static void
assert_error_at(const bg_errlist *errs, unsigned line, const char *needle)
{
	char prefix[64];

	snprintf(prefix, sizeof(prefix), T ":%u: ", line);
	for (size_t i = 0; i < errs->count; i++)
		if (strncmp(errs->msgs[i], prefix, strlen(prefix)) == 0 &&
		    strstr(errs->msgs[i], needle) != NULL)
			return;
	print_message("no error \"%s...%s\" among:\n", prefix, needle);
	dump_errors(errs);
	fail();
}

/* Parses text that must fail with exactly one error at line, holding needle. */
static void
expect_one_error(const char *text, unsigned line, const char *needle)
{
	bg_errlist errs = { 0 };
	bg_config cfg;

	memset(&cfg, 0xa5, sizeof(cfg));
	assert_int_equal(parse(text, &cfg, &errs), BG_ERR_INVALID);
	if (errs.count != 1) {
		print_message("expected 1 error, got %zu:\n", errs.count);
		dump_errors(&errs);
	}
	assert_count(&errs, 1);
	assert_error_at(&errs, line, needle);
	/* A configuration with an error yields nothing at all. */
	assert_true(is_zero(&cfg, sizeof(cfg)));
	bg_errlist_free(&errs);
}

static void
expect_ok(const char *text, bg_config *cfg)
{
	bg_errlist errs = { 0 };

	if (parse(text, cfg, &errs) != BG_OK) {
		dump_errors(&errs);
		fail();
	}
	assert_count(&errs, 0);
}

/* ------------------------------------------------------------------ */
/* The full example. */

static void
test_full_example(void **state)
{
	bg_errlist errs = { 0 };
	bg_config cfg;
	const bg_config_scope *sc;
	char *text;
	size_t len;

	(void)state;
	text = tu_read(FULL_CONF, &len);
	assert_non_null(text);
	if (bg_config_parse(FULL_CONF, text, len, &cfg, &errs) != BG_OK)
		dump_errors(&errs);
	assert_count(&errs, 0);
	assert_string_equal(cfg.path, FULL_CONF);

	assert_int_equal(cfg.general.accounts.count, 2);
	assert_string_equal(cfg.general.accounts.items[0], "breakglass");
	assert_string_equal(cfg.general.accounts.items[1], "bg-*");
	assert_int_equal(cfg.general.operator_mode, BG_OPERATOR_PROMPT);
	assert_string_equal(cfg.general.state_dir, "/var/lib/breakglass");
	assert_string_equal(cfg.general.run_dir, "/run/breakglass");
	assert_string_equal(cfg.general.kill_switch, "/etc/breakglass/kill-switch");
	assert_int_equal(cfg.general.grant_ttl, 3600);
	assert_true(cfg.general.revoke_on_logout);
	assert_string_equal(cfg.general.journal, "/var/log/breakglass/journal.jsonl");

	assert_string_equal(cfg.totp.operators_dir, "/etc/breakglass/operators");
	assert_int_equal(cfg.totp.window, 1);
	assert_int_equal(cfg.totp.max_failures, 5);
	assert_int_equal(cfg.totp.failure_window, 900);
	assert_int_equal(cfg.totp.lockout, 900);

	assert_int_equal(cfg.approval.url.count, 1);
	assert_string_equal(cfg.approval.url.items[0], "https://approvals.example.net/v1");
	assert_string_equal(cfg.approval.host_id, "mx1.example.net");
	assert_string_equal(cfg.approval.host_key, "/etc/breakglass/host.key");
	assert_string_equal(cfg.approval.service_key, "/etc/breakglass/approvald.pub");
	assert_int_equal(cfg.approval.approvers.count, 3);
	assert_string_equal(cfg.approval.approvers.items[2], "dave");
	assert_int_equal(cfg.approval.quorum, 2);
	assert_int_equal(cfg.approval.timeout, 300);
	assert_int_equal(cfg.approval.connect_timeout, 5);
	assert_string_equal(cfg.approval.ca_file, "/etc/breakglass/ca.pem");

	assert_int_equal(cfg.signals.required, 2);
	assert_int_equal(cfg.nsignal, 3);
	assert_string_equal(cfg.signal[0].meta.name, "alertmanager-mx");
	assert_int_equal(cfg.signal[0].type, BG_SIGNAL_ALERTMANAGER);
	assert_string_equal(cfg.signal[0].url, "http://alertmanager.example.net:9093");
	assert_int_equal(cfg.signal[0].match.count, 2);
	assert_string_equal(cfg.signal[0].match.items[0],
	    "alertname=~\"OutboundSpamSpike|MailQueueBacklog\"");
	assert_string_equal(cfg.signal[0].match.items[1], "instance=~\"mx1.*\"");
	assert_null(cfg.signal[0].bearer_token_file);
	assert_null(cfg.signal[0].pointer);
	assert_int_equal(cfg.signal[1].type, BG_SIGNAL_PROMETHEUS);
	assert_string_equal(cfg.signal[1].bearer_token_file,
	    "/etc/breakglass/prometheus.token");
	assert_int_equal(cfg.signal[2].type, BG_SIGNAL_HTTP);
	assert_string_equal(cfg.signal[2].pointer, "/outbound/listed");
	assert_string_equal(cfg.signal[2].equals, "true");

	assert_int_equal(cfg.nscope, 2);
	sc = bg_config_find_scope(&cfg, "mail-queue");
	assert_non_null(sc);
	assert_string_equal(sc->description, "Inspect and purge the Postfix queue");
	assert_int_equal(sc->command.count, 3);
	assert_string_equal(sc->command.items[1], "/usr/sbin/postsuper -d *");
	assert_int_equal(sc->edit.count, 0);
	assert_string_equal(sc->runas, "root");
	sc = bg_config_find_scope(&cfg, "postfix-config");
	assert_non_null(sc);
	assert_string_equal(sc->description, "Edit the Postfix configuration # and reload");
	assert_int_equal(sc->edit.count, 2);
	assert_string_equal(sc->edit.items[1], "/etc/postfix/*.cf");
	/* Defaulted: runas = root; the line points at the section header. */
	assert_string_equal(sc->runas, "root");
	assert_null(bg_config_find_scope(&cfg, "nope"));
	assert_null(bg_config_find_scope(&cfg, NULL));

	bg_config_free(&cfg);
	assert_true(is_zero(&cfg, sizeof(cfg)));
	free(text);
}

static void
test_defaults_and_lines(void **state)
{
	const bg_cfg_section general = { .name = "general" };
	bg_config cfg;
	char path[PATH_MAX];
	bg_error err;

	(void)state;
	expect_ok(BASE, &cfg);
	assert_int_equal(cfg.general.operator_mode, BG_OPERATOR_PROMPT);
	assert_string_equal(cfg.general.state_dir, "/var/lib/breakglass");
	assert_string_equal(cfg.general.run_dir, "/run/breakglass");
	assert_string_equal(cfg.general.kill_switch, "/etc/breakglass/kill-switch");
	assert_int_equal(cfg.general.grant_ttl, 3600);
	assert_true(cfg.general.revoke_on_logout);
	assert_string_equal(cfg.general.journal, "/var/log/breakglass/journal.jsonl");
	assert_string_equal(cfg.totp.operators_dir, "/etc/breakglass/operators");
	assert_int_equal(cfg.totp.window, 1);
	assert_int_equal(cfg.totp.max_failures, 5);
	assert_int_equal(cfg.totp.failure_window, 900);
	assert_int_equal(cfg.totp.lockout, 900);
	assert_int_equal(cfg.approval.quorum, 2);
	assert_int_equal(cfg.approval.timeout, 300);
	assert_int_equal(cfg.approval.connect_timeout, 5);
	assert_null(cfg.approval.ca_file);
	assert_int_equal(cfg.signals.required, 0);
	assert_int_equal(cfg.nsignal, 0);
	assert_string_equal(cfg.scope[0].runas, "root");
	assert_int_equal(cfg.scope[0].edit.count, 0);
	/* [totp] is absent: its meta says so. */
	assert_int_equal(cfg.totp.meta.line, 0);
	assert_int_equal(cfg.general.meta.line, 1);
	assert_int_equal(cfg.scope[0].meta.line, 11);
	assert_string_equal(cfg.scope[0].meta.name, "s");

	/* A schema-less lookup still falls back on the section's line. */
	assert_int_equal(bg_cfg_key_line(&general, &cfg.general.meta, "accounts"), 1);
	assert_int_equal(bg_cfg_key_line(&general, &cfg.totp.meta, "window"), 1);

	assert_int_equal(bg_config_journal_state_path(&cfg, path, sizeof(path), &err),
	    BG_OK);
	assert_string_equal(path, "/var/lib/breakglass/journal.state");
	assert_int_equal(bg_config_journal_state_path(&cfg, path, 10, &err),
	    BG_ERR_INVALID);
	bg_config_free(&cfg);
	assert_int_equal(bg_config_journal_state_path(&cfg, path, sizeof(path), &err),
	    BG_ERR_INVALID);
}

static void
test_operator_account_and_bounds(void **state)
{
	bg_config cfg;

	(void)state;
	expect_ok("[general]\naccounts = a\noperator = account\ngrant_ttl = 24h\n"
	    "revoke_on_logout = off\n" APPROVAL SIGNALS0 SCOPE, &cfg);
	assert_int_equal(cfg.general.operator_mode, BG_OPERATOR_ACCOUNT);
	assert_int_equal(cfg.general.grant_ttl, 86400);
	assert_false(cfg.general.revoke_on_logout);
	bg_config_free(&cfg);

	expect_one_error("[general]\naccounts = a\ngrant_ttl = 25h\n"
	    APPROVAL SIGNALS0 SCOPE, 3, "grant_ttl: must be at most 86400s");
	expect_one_error("[general]\naccounts = a\ngrant_ttl = 59s\n"
	    APPROVAL SIGNALS0 SCOPE, 3, "grant_ttl: must be at least 60s");
	expect_one_error(BASE "[totp]\nwindow = 11\n", 14, "window: must be at most 10");
	expect_one_error(BASE "[totp]\nmax_failures = 0\n", 14,
	    "max_failures: must be at least 1");
	expect_one_error(BASE "[totp]\nwindow = -1\n", 14, "window: expected a non-negative");
	expect_one_error(GENERAL APPROVAL "quorum = 0\n" SIGNALS0 SCOPE, 9,
	    "quorum: must be at least 1");
	expect_one_error(GENERAL APPROVAL "timeout = 2h\n" SIGNALS0 SCOPE, 9,
	    "timeout: must be at most 3600s");
	expect_one_error("[general]\naccounts = a\noperator = ask\n"
	    APPROVAL SIGNALS0 SCOPE, 3, "operator: expected one of prompt, account");
}

/* ------------------------------------------------------------------ */
/* Each class of error names its file:line. */

static void
test_unknown_section(void **state)
{
	(void)state;
	/* The keys of an unknown section are not reported once more. */
	expect_one_error(BASE "[bogus]\nfoo = 1\n", 13, "unknown section [bogus]");
	expect_one_error(BASE "[]\n", 13, "empty section header");
	expect_one_error(BASE "[totp\n", 13, "malformed section header");
	expect_one_error(BASE "[totp] junk\n", 13, "unexpected text after");
	expect_one_error(BASE "[totp]  # comment\nwindow = x\n", 14,
	    "window: expected a non-negative integer");
}

static void
test_unknown_key(void **state)
{
	(void)state;
	expect_one_error(BASE "[totp]\nwindoww = 1\n", 14,
	    "[totp] unknown key \"windoww\"");
	expect_one_error(BASE "[totp]\nwin dow = 1\n", 14, "invalid key name");
	expect_one_error(BASE "[totp]\njust words\n", 14, "expected \"key = value\"");
	expect_one_error("accounts = a\n" BASE, 1, "key \"accounts\" outside any section");
}

static void
test_bad_duration(void **state)
{
	(void)state;
	expect_one_error(BASE "[totp]\nlockout = 10x\n", 14, "lockout: \"10x\"");
	expect_one_error(BASE "[totp]\nlockout = 1 h\n", 14, "lockout");
	expect_one_error(BASE "[totp]\nlockout = 99999999999999999999999s\n", 14,
	    "out of range");
}

static void
test_bad_bool(void **state)
{
	(void)state;
	expect_one_error("[general]\naccounts = a\nrevoke_on_logout = maybe\n"
	    APPROVAL SIGNALS0 SCOPE, 3, "revoke_on_logout: expected yes/no");
	expect_one_error("[general]\naccounts = a\nrevoke_on_logout = YES\n"
	    APPROVAL SIGNALS0 SCOPE, 3, "revoke_on_logout");
}

static void
test_missing_required(void **state)
{
	(void)state;
	/* A missing key is reported at its section's header. */
	expect_one_error(GENERAL APPROVAL_HEAD APPROVAL_REST SIGNALS0 SCOPE, 3,
	    "[approval] missing required key \"url\"");
	expect_one_error("[general]\n" APPROVAL SIGNALS0 SCOPE, 1,
	    "[general] missing required key \"accounts\"");
	/* A missing section is reported at the top of the file. */
	expect_one_error(GENERAL SIGNALS0 SCOPE, 1, "missing section [approval]");
	expect_one_error(APPROVAL SIGNALS0 SCOPE, 1, "missing section [general]");
	expect_one_error(GENERAL APPROVAL SIGNALS0, 1, "no [scope NAME] section");
	/* Signals need type and url. */
	expect_one_error(BASE "[signal a]\nurl = https://a.example\nmatch = a=\"b\"\n",
	    13, "[signal a] missing required key \"type\"");
}

static void
test_scope_without_command(void **state)
{
	(void)state;
	expect_one_error(GENERAL APPROVAL SIGNALS0 "[scope s]\ndescription = x\n", 11,
	    "[scope s] missing required key \"command\"");
}

static void
test_duplicates(void **state)
{
	(void)state;
	expect_one_error(BASE "[totp]\nwindow = 1\nwindow = 2\n", 15,
	    "duplicate key \"window\" (first at line 14)");
	expect_one_error(BASE "[scope s]\ncommand = /usr/bin/id\n", 13,
	    "duplicate section [scope s] (first at line 11)");
	expect_one_error(BASE "[general]\naccounts = x\n", 13,
	    "duplicate section [general] (first at line 1)");
	/* The repeated name's own line, not the first approvers line. */
	expect_one_error(GENERAL APPROVAL "approvers = carol\n" SIGNALS0 SCOPE, 9,
	    "approvers: \"carol\" is listed twice");
	/* Names are compared ignoring case: Carol is carol. */
	expect_one_error(GENERAL APPROVAL "approvers = Carol\n" SIGNALS0 SCOPE, 9,
	    "approvers: \"Carol\" is listed twice");
	/* The same name in another section type is no duplicate. */
	expect_one_error(BASE "[signal s]\ntype = http\nurl = https://x.example\n"
	    "pointer = /a\n", 13, "type http needs \"equals\"");
}

static void
test_named_section_names(void **state)
{
	(void)state;
	expect_one_error(BASE "[scope]\ncommand = /usr/bin/id\n", 13,
	    "section [scope] needs a name");
	expect_one_error(BASE "[totp x]\n", 13, "section [totp] takes no name");
	expect_one_error(BASE "[scope a b]\n", 13, "invalid [scope] name");
	expect_one_error(BASE "[scope a\"b]\n", 13, "invalid [scope] name");
	expect_one_error(BASE "[scope -a]\n", 13, "invalid [scope] name");
}

static void
test_relative_path(void **state)
{
	(void)state;
	expect_one_error(BASE "[totp]\noperators_dir = etc/ops\n", 14,
	    "operators_dir: not an absolute path");
	expect_one_error("[general]\naccounts = a\nstate_dir = ~/x\n"
	    APPROVAL SIGNALS0 SCOPE, 3, "state_dir: not an absolute path");
}

static void
test_bad_url(void **state)
{
	(void)state;
	expect_one_error(BASE "[signal a]\ntype = http\nurl = ftp://x.example\n"
	    "pointer = /a\nequals = 1\n", 15, "url: URL must start with http");
	expect_one_error(BASE "[signal a]\ntype = http\nurl = https://\n"
	    "pointer = /a\nequals = 1\n", 15, "url: URL has no host");
	expect_one_error(BASE "[signal a]\ntype = http\nurl = https://u:pw@x.example/\n"
	    "pointer = /a\nequals = 1\n", 15, "credentials");
	expect_one_error(BASE "[signal a]\ntype = http\nurl = https://x.example:99999/\n"
	    "pointer = /a\nequals = 1\n", 15, "invalid port");
	expect_one_error(BASE "[signal a]\ntype = http\nurl = \"https://x.example/ a\"\n"
	    "pointer = /a\nequals = 1\n", 15, "spaces");
	/* A URL is never quoted back: its query may hold a token. */
	expect_one_error(BASE "[signal a]\ntype = http\nurl = gopher://secret-token\n"
	    "pointer = /a\nequals = 1\n", 15, "url");
}

static void
test_url_host(void **state)
{
	char host[64];
	bool https;
	bg_error err;

	(void)state;
	assert_int_equal(bg_url_host("https://a.example:8443/v1?x=1", &https, host,
	    sizeof(host), &err), BG_OK);
	assert_true(https);
	assert_string_equal(host, "a.example");
	assert_int_equal(bg_url_host("http://[::1]:8080/v1", &https, host,
	    sizeof(host), &err), BG_OK);
	assert_false(https);
	assert_string_equal(host, "::1");
	assert_int_equal(bg_url_host("http://127.0.0.1", NULL, host, sizeof(host),
	    &err), BG_OK);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(bg_url_host("https://a.example#frag", NULL, NULL, 0, &err),
	    BG_OK);
	assert_int_equal(bg_url_host("HTTPS://a.example", NULL, NULL, 0, &err),
	    BG_ERR_INVALID);
	assert_int_equal(bg_url_host("http://[::1", NULL, NULL, 0, &err), BG_ERR_INVALID);
	assert_int_equal(bg_url_host("http://[::1]x", NULL, NULL, 0, &err),
	    BG_ERR_INVALID);
	assert_int_equal(bg_url_host("http://a.example:", NULL, NULL, 0, &err),
	    BG_ERR_INVALID);
	assert_int_equal(bg_url_host("http://a.example:0", NULL, NULL, 0, &err),
	    BG_ERR_INVALID);
	assert_int_equal(bg_url_host("http://a\x01.example", NULL, NULL, 0, &err),
	    BG_ERR_INVALID);
	assert_int_equal(bg_url_host("https://a.example", NULL, host, 4, &err),
	    BG_ERR_INVALID);
}

static void
test_approval_url_loopback(void **state)
{
	static const char *const ok[] = {
		"http://127.0.0.1:8080/v1", "http://127.1.2.3/v1", "http://[::1]:8080/v1",
		"http://localhost:8080/v1", "https://approvals.example.net/v1",
	};
	static const char *const bad[] = {
		"http://approvals.example.net/v1", "http://128.0.0.1/v1",
		"http://[::2]/v1", "http://localhost.example.net/v1", "http://10.0.0.1/v1",
	};
	char text[2048];
	bg_config cfg;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(text, sizeof(text), GENERAL APPROVAL_HEAD "url = %s\n"
		    APPROVAL_REST SIGNALS0 SCOPE, ok[i]);
		expect_ok(text, &cfg);
		assert_string_equal(cfg.approval.url.items[0], ok[i]);
		bg_config_free(&cfg);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), GENERAL APPROVAL_HEAD "url = %s\n"
		    APPROVAL_REST SIGNALS0 SCOPE, bad[i]);
		expect_one_error(text, 4, "url: the approval service must use https://");
	}
}

/* [approval] url repeated: kept in order, each checked on its own line. */
static void
test_approval_urls(void **state)
{
	char text[4096], *p;
	bg_errlist errs = { 0 };
	bg_config cfg;

	(void)state;
	expect_ok(GENERAL APPROVAL_HEAD "url = https://a.example.net/v1\n"
	    "url = http://127.0.0.1:8080/v1\nurl = https://c.example.net/v1\n"
	    APPROVAL_REST SIGNALS0 SCOPE, &cfg);
	assert_int_equal(cfg.approval.url.count, 3);
	assert_string_equal(cfg.approval.url.items[0], "https://a.example.net/v1");
	assert_string_equal(cfg.approval.url.items[1], "http://127.0.0.1:8080/v1");
	assert_string_equal(cfg.approval.url.items[2], "https://c.example.net/v1");
	bg_config_free(&cfg);

	/* Each bad url is named by its own line, all of them at once. */
	assert_int_equal(parse(GENERAL APPROVAL_HEAD "url = https://a.example.net/v1\n"
	    "url = http://b.example.net/v1\nurl = https://a.example.net/v1\n"
	    "url = http://10.0.0.1/v1\n" APPROVAL_REST SIGNALS0 SCOPE, &cfg, &errs),
	    BG_ERR_INVALID);
	assert_error_at(&errs, 5, "url: the approval service must use https://");
	assert_error_at(&errs, 6, "url: \"https://a.example.net/v1\" is listed twice");
	assert_error_at(&errs, 7, "url: the approval service must use https://");
	assert_count(&errs, 3);
	bg_errlist_free(&errs);
	expect_one_error(GENERAL APPROVAL_HEAD "url = https://a.example.net/v1\n"
	    "url = ftp://b.example.net/v1\n" APPROVAL_REST SIGNALS0 SCOPE, 5,
	    "url: URL must start with http:// or https://");
	expect_one_error(GENERAL APPROVAL_HEAD "url = https://a.example.net/v1?x=1\n"
	    APPROVAL_REST SIGNALS0 SCOPE, 4, "url: an approval service URL takes no query");

	/* At most BG_APPROVAL_MAX_URLS: the first one over is named. */
	p = text + snprintf(text, sizeof(text), GENERAL APPROVAL_HEAD);
	for (int i = 0; i <= BG_APPROVAL_MAX_URLS; i++)
		p += snprintf(p, sizeof(text) - (size_t)(p - text),
		    "url = https://a%d.example.net/v1\n", i);
	snprintf(p, sizeof(text) - (size_t)(p - text), APPROVAL_REST SIGNALS0 SCOPE);
	expect_one_error(text, 4 + BG_APPROVAL_MAX_URLS, "url: at most 8 approval service URLs");
}

static void
test_quorum_and_required(void **state)
{
	bg_config cfg;

	(void)state;
	expect_one_error(GENERAL APPROVAL "quorum = 3\n" SIGNALS0 SCOPE, 9,
	    "quorum: 3 is more than the 2 approvers");
	expect_ok(GENERAL APPROVAL "quorum = 2\n" SIGNALS0 SCOPE, &cfg);
	bg_config_free(&cfg);
	expect_one_error(GENERAL APPROVAL "[signals]\nrequired = 2\n" SCOPE
	    "[signal a]\ntype = prometheus\nurl = http://127.0.0.1:9090\n"
	    "match = alertname=\"x\"\n", 10,
	    "required: 2 signal sources required but 1 [signal] sections");
	/* Defaulted required = 2 with no [signals] section: the top of the file. */
	expect_one_error(GENERAL APPROVAL SCOPE, 1,
	    "required: 2 signal sources required but 0");
}

static void
test_match_syntax(void **state)
{
	char text[2048];
	static const char *const bad[] = {
		"alertname=x", "alertname", "=\"x\"", "9x=\"y\"", "a==\"x\"",
		"a=\"x\" b", "a=\"x", "a~\"x\"", "a-b=\"x\"",
	};
	bg_config cfg;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), BASE "[signal a]\ntype = prometheus\n"
		    "url = http://127.0.0.1:9090\nmatch = alertname=\"x\"\n"
		    "match = %s\n", bad[i]);
		/* Line 17: the second match line, not the first. */
		expect_one_error(text, 17, "match: ");
	}
	expect_ok(BASE "[signal a]\ntype = alertmanager\nurl = http://127.0.0.1:9093\n"
	    "match = a=\"x\"\nmatch = b != \"y\"\nmatch = c=~\"a|b\"\n"
	    "match = d !~ \"q\\\"uote\"\nmatch = _e=\"\"\n", &cfg);
	assert_int_equal(cfg.signal[0].match.count, 5);
	bg_config_free(&cfg);
}

static void
test_bad_regex(void **state)
{
	(void)state;
	expect_one_error(BASE "[signal a]\ntype = prometheus\nurl = http://127.0.0.1:9090\n"
	    "match = alertname=~\"(\"\n", 16, "match: invalid regular expression");
	expect_one_error(BASE "[signal a]\ntype = alertmanager\nurl = http://127.0.0.1:9093\n"
	    "match = alertname!~\"a[\"\n", 16, "match: invalid regular expression");
}

static void
test_matcher(void **state)
{
	bg_matcher m;
	bg_error err;

	(void)state;
	assert_int_equal(bg_matcher_parse("instance=~\"mx1.*\"", &m, &err), BG_OK);
	assert_string_equal(m.label, "instance");
	assert_int_equal(m.op, BG_MATCH_RE);
	assert_true(bg_matcher_matches(&m, "mx1.example.net"));
	/* Anchored: a match in the middle does not count. */
	assert_false(bg_matcher_matches(&m, "xmx1"));
	assert_false(bg_matcher_matches(&m, NULL));
	bg_matcher_free(&m);

	assert_int_equal(bg_matcher_parse("a !~ \"x|y\"", &m, &err), BG_OK);
	assert_false(bg_matcher_matches(&m, "x"));
	assert_true(bg_matcher_matches(&m, "xy"));
	assert_true(bg_matcher_matches(&m, NULL));
	bg_matcher_free(&m);

	assert_int_equal(bg_matcher_parse("a=\"q\\\"x\\\\\"", &m, &err), BG_OK);
	assert_int_equal(m.op, BG_MATCH_EQ);
	assert_string_equal(m.value, "q\"x\\");
	assert_true(bg_matcher_matches(&m, "q\"x\\"));
	bg_matcher_free(&m);

	assert_int_equal(bg_matcher_parse("a!=\"\"", &m, &err), BG_OK);
	assert_int_equal(m.op, BG_MATCH_NE);
	assert_false(bg_matcher_matches(&m, NULL));
	assert_true(bg_matcher_matches(&m, "v"));
	bg_matcher_free(&m);

	assert_int_equal(bg_matcher_parse("a=~\"(\"", &m, &err), BG_ERR_INVALID);
	assert_non_null(strstr(err.msg, "invalid regular expression"));
	assert_true(is_zero(&m, sizeof(m)));
}

/* Patterns whose compilation would take more memory than a login may spend. */
static void
test_matcher_cost(void **state)
{
	static const char *accepted[] = {
		"OutboundSpamSpike|MailQueueBacklog", "mx1[.].*", "(a|b){200}", "a{1000}",
		"(.{0,250}){4}", "[]{}+*]{999}", "a+{500}", "x{0}", "a{,1000}", "[[:alpha:]]{3}+",
		"a{", "a{x}", "((((((((((((((((((((((((((((((((a))))))))))))))))))))))))))))))))",
		"(a+)*", "(a*)?", "(a?){2}", "(ab*)*", "(a+|b+)*", "x*y*z*", "(a|b?c)+",
	};
	static const char *refused[] = {
		"a+++++++++++", "((a|b){100}){10}", "a{1001}", "a{1000}b", "(a{10}){10}{11}",
		"a{99999999999999999999}", "a{1000,}", "(x+){501}", "[ab]{1000}|c",
		"(((((((((((((((((((((((((((((((((a)))))))))))))))))))))))))))))))))",
		"a)((b{40}){40}", "((a|b|c|d)*){251}",
		"a**", "(a*)*", "(a|b?)+", "(a?){2,}", "(x|)*", "()+", "(^|b)*", "(\\\\<)+", "(a|\\\\1)*",
		"((a?)(b*))*", "s*****M",
	};
	char line[512];
	bg_matcher m;
	bg_error err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++) {
		snprintf(line, sizeof(line), "a=~\"%s\"", accepted[i]);
		/* Some are refused by regcomp; none may be refused by the bound. */
		if (bg_matcher_parse(line, &m, &err) != BG_OK &&
		    strstr(err.msg, "invalid regular expression") == NULL)
			fail_msg("%s refused: %s", accepted[i], err.msg);
		bg_matcher_free(&m);
	}
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		snprintf(line, sizeof(line), "a=~\"%s\"", refused[i]);
		if (bg_matcher_parse(line, &m, &err) == BG_OK)
			fail_msg("%s accepted", refused[i]);
		assert_true(strstr(err.msg, "atoms") != NULL || strstr(err.msg, "deeper") != NULL ||
		    strstr(err.msg, "empty string") != NULL);
		assert_true(is_zero(&m, sizeof(m)));
	}
	/* The same bound applies to !~, and the file check reports the line. */
	assert_int_equal(bg_matcher_parse("a!~\"a+++++++++++\"", &m, &err), BG_ERR_INVALID);
	expect_one_error(BASE "[signal a]\ntype = alertmanager\nurl = https://p.example\n"
	    "match = a=~\"(x{40}){40}\"\n", 16, "expands to more than 1000 atoms");
}

static void
test_signal_types(void **state)
{
	bg_config cfg;

	(void)state;
	/* http needs pointer and equals: reported at the header. */
	expect_one_error(BASE "[signal a]\ntype = http\nurl = https://s.example/x\n"
	    "equals = true\n", 13, "[signal a]: type http needs \"pointer\"");
	expect_one_error(BASE "[signal a]\ntype = http\nurl = https://s.example/x\n"
	    "pointer = x\nequals = true\n", 16, "pointer: a JSON pointer is empty");
	expect_one_error(BASE "[signal a]\ntype = http\nurl = https://s.example/x\n"
	    "pointer = /a~2\nequals = true\n", 16, "pointer: '~'");
	expect_one_error(BASE "[signal a]\ntype = http\nurl = https://s.example/x\n"
	    "pointer = /a\nequals = true\nmatch = a=\"b\"\n", 18,
	    "match: not used by type http");
	/* pointer and equals on other types. */
	expect_one_error(BASE "[signal a]\ntype = prometheus\nurl = https://p.example\n"
	    "match = a=\"b\"\npointer = /a\n", 17, "pointer: only for type http");
	expect_one_error(BASE "[signal a]\ntype = alertmanager\nurl = https://p.example\n"
	    "match = a=\"b\"\nequals = 1\n", 17, "equals: only for type http");
	/* Without a matcher any alert would count. */
	expect_one_error(BASE "[signal a]\ntype = alertmanager\nurl = https://p.example\n",
	    13, "needs at least one \"match\"");
	expect_one_error(BASE "[signal a]\ntype = snmp\nurl = https://p.example\n", 14,
	    "type: expected one of alertmanager, prometheus, http");
	/* A bearer token never crosses the network in clear text. */
	expect_one_error(BASE "[signal a]\ntype = prometheus\nurl = http://p.example\n"
	    "match = a=\"b\"\nbearer_token_file = /etc/t\n", 17, "clear text");
	expect_ok(BASE "[signal a]\ntype = prometheus\nurl = http://127.0.0.1:9090\n"
	    "match = a=\"b\"\nbearer_token_file = /etc/t\n", &cfg);
	bg_config_free(&cfg);
	/* The whole document: pointer written as "". */
	expect_ok(BASE "[signal a]\ntype = http\nurl = https://s.example/x\n"
	    "pointer = \"\"\nequals = \"ok\"\n", &cfg);
	assert_string_equal(cfg.signal[0].pointer, "");
	assert_string_equal(cfg.signal[0].equals, "ok");
	bg_config_free(&cfg);
}

static void
test_scope_checks(void **state)
{
	bg_config cfg;

	(void)state;
	expect_one_error(GENERAL APPROVAL SIGNALS0 "[scope s]\ncommand = bin/true\n", 12,
	    "command: the command must start with an absolute path");
	expect_one_error(GENERAL APPROVAL SIGNALS0 "[scope s]\ncommand = /usr/bin/true\n"
	    "command = postqueue -p\n", 13, "command: the command must start");
	expect_one_error(GENERAL APPROVAL SIGNALS0 "[scope s]\ncommand = /usr/sbin/*\n",
	    12, "must not hold wildcards");
	expect_one_error(GENERAL APPROVAL SIGNALS0 "[scope s]\ncommand = /usr/../bin/sh\n",
	    12, "'..'");
	/* The scope splitter's own syntax is checked with the configuration. */
	expect_one_error(GENERAL APPROVAL SIGNALS0 "[scope s]\ncommand = /bin/ls \"a b\" \"c\n",
	    12, "unterminated double quote");
	expect_one_error(GENERAL APPROVAL SIGNALS0 "[scope s]\ncommand = /bin/ls ** -l\n",
	    12, "\"**\" may only be the last pattern");
	expect_one_error(BASE "edit = etc/postfix/main.cf\n", 13,
	    "edit: an edit pattern must be an absolute path glob");
	expect_one_error(BASE "edit = /etc/postfix/../shadow\n", 13, "edit: ");
	expect_one_error(BASE "runas = \"bad user\"\n", 13, "runas: invalid user name");
	expect_ok(BASE "edit = /etc/postfix/*.cf\nrunas = postfix\n"
	    "command = /usr/sbin/postsuper -d ** \n", &cfg);
	assert_string_equal(cfg.scope[0].runas, "postfix");
	assert_string_equal(cfg.scope[0].command.items[1], "/usr/sbin/postsuper -d **");
	bg_config_free(&cfg);
	/* Quoted patterns reach the scope splitter verbatim, " #" inside them too. */
	expect_ok(BASE "command = /usr/bin/logger \"a # b\" **\n", &cfg);
	assert_string_equal(cfg.scope[0].command.items[1], "/usr/bin/logger \"a # b\" **");
	bg_config_free(&cfg);
}

static void
test_general_checks(void **state)
{
	(void)state;
	expect_one_error("[general]\naccounts = ok bad/one\n" APPROVAL SIGNALS0 SCOPE, 2,
	    "accounts: account pattern must not contain '/'");
	expect_one_error(GENERAL APPROVAL_HEAD "url = https://a.example\n"
	    "host_id = mx1_example\n" "host_key = /k\nservice_key = /p\n"
	    "approvers = a b\n" SIGNALS0 SCOPE, 5, "host_id: host name may hold only");
	expect_one_error(GENERAL APPROVAL_HEAD "url = https://a.example\n"
	    "host_id = -mx1\n" "host_key = /k\nservice_key = /p\n"
	    "approvers = a b\n" SIGNALS0 SCOPE, 5, "host_id: host name must start");
}

static void
test_multiple_errors(void **state)
{
	bg_errlist errs = { 0 };
	bg_config cfg;
	const char *text =
	    "[general]\n"                        /* 1 */
	    "accounts = breakglass\n"            /* 2 */
	    "grant_ttl = forever\n"              /* 3 */
	    "[approval]\n"                       /* 4 */
	    "url = https://a.example\n"          /* 5 */
	    "host_id = h\n"                      /* 6 */
	    "host_key = /k\n"                    /* 7 */
	    "service_key = /p\n"                 /* 8 */
	    "approvers = a b\n"                  /* 9 */
	    "quorum = many\n"                    /* 10 */
	    "colour = blue\n"                    /* 11 */
	    "[totp]\n"                           /* 12 */
	    "lockout = 1w\n"                     /* 13 */
	    "[nonsense]\n"                       /* 14 */
	    "[scope s]\n"                        /* 15 */
	    "command = rm -rf /\n";              /* 16 */

	(void)state;
	memset(&cfg, 0x5a, sizeof(cfg));
	assert_int_equal(parse(text, &cfg, &errs), BG_ERR_INVALID);
	assert_error_at(&errs, 3, "grant_ttl");
	assert_error_at(&errs, 10, "quorum");
	assert_error_at(&errs, 11, "unknown key \"colour\"");
	assert_error_at(&errs, 13, "lockout");
	assert_error_at(&errs, 14, "unknown section [nonsense]");
	assert_error_at(&errs, 16, "command");
	assert_count(&errs, 6);
	assert_true(is_zero(&cfg, sizeof(cfg)));
	bg_errlist_free(&errs);

	/* Errors found after parsing (quorum, url, scopes) are all reported too. */
	assert_int_equal(parse("[general]\naccounts = a\n[approval]\n"
	    "url = http://a.example\nhost_id = h\nhost_key = /k\nservice_key = /p\n"
	    "approvers = a a\nquorum = 3\n" SIGNALS0, &cfg, &errs), BG_ERR_INVALID);
	assert_error_at(&errs, 4, "https");
	assert_error_at(&errs, 8, "listed twice");
	assert_error_at(&errs, 9, "quorum");
	assert_error_at(&errs, 1, "no [scope NAME]");
	assert_count(&errs, 4);
	assert_true(is_zero(&cfg, sizeof(cfg)));
	bg_errlist_free(&errs);
}

static void
test_comments_and_quotes(void **state)
{
	bg_config cfg;

	(void)state;
	expect_ok("# leading comment\n"
	    "; another comment style\n"
	    "   # indented comment\n"
	    "\n"
	    "[general]   # trailing comment on a header\r\n"
	    "accounts = breakglass#not-a-comment   # but this is\n"
	    APPROVAL SIGNALS0
	    "[scope s]\n"
	    "description = \"  keep # these spaces  \"   # comment\n"
	    "command = /usr/bin/true\t\t# tab before the comment\n"
	    "command = /usr/bin/printf \"a # b\"  # quoted # kept, comment cut\n"
	    "\tedit = /etc/x # y\n", &cfg);
	assert_int_equal(cfg.general.accounts.count, 1);
	assert_string_equal(cfg.general.accounts.items[0], "breakglass#not-a-comment");
	assert_string_equal(cfg.scope[0].description, "  keep # these spaces  ");
	assert_string_equal(cfg.scope[0].command.items[0], "/usr/bin/true");
	assert_string_equal(cfg.scope[0].command.items[1], "/usr/bin/printf \"a # b\"");
	assert_string_equal(cfg.scope[0].edit.items[0], "/etc/x");
	bg_config_free(&cfg);
}

static void
test_quote_errors(void **state)
{
	(void)state;
	expect_one_error(BASE "description = \"open\n", 13,
	    "description: unterminated double quote");
	expect_one_error(BASE "description = \"a\" b\n", 13,
	    "description: text after the closing double quote");
	/* Unquoted empty values are mistakes; "" says empty on purpose. */
	expect_one_error(BASE "description =\n", 13, "description: empty value");
	expect_one_error(BASE "description = # only a comment\n", 13, "empty value");
	expect_one_error(BASE "command = \"\"\n", 13, "command: empty value");
}

static void
test_words_append(void **state)
{
	bg_config cfg;

	(void)state;
	expect_ok("[general]\naccounts = breakglass   bg-*\naccounts = \t ops-?\n"
	    "accounts = emergency\n" APPROVAL "approvers = dave\n" SIGNALS0 SCOPE, &cfg);
	assert_int_equal(cfg.general.accounts.count, 4);
	assert_string_equal(cfg.general.accounts.items[0], "breakglass");
	assert_string_equal(cfg.general.accounts.items[1], "bg-*");
	assert_string_equal(cfg.general.accounts.items[2], "ops-?");
	assert_string_equal(cfg.general.accounts.items[3], "emergency");
	assert_int_equal(cfg.approval.approvers.count, 3);
	assert_true(bg_strlist_contains(&cfg.approval.approvers, "dave"));
	assert_false(bg_strlist_contains(&cfg.approval.approvers, "eve"));
	assert_false(bg_strlist_contains(&cfg.approval.approvers, NULL));
	assert_false(bg_strlist_contains(NULL, "bob"));
	/* The first line of a repeated key is the one recorded. */
	assert_int_equal(cfg.general.meta.key_line[0], 2);
	bg_config_free(&cfg);
}

static void
test_is_breakglass_account(void **state)
{
	bg_config cfg;

	(void)state;
	expect_ok("[general]\naccounts = breakglass bg-* ops-[0-9]\n"
	    APPROVAL SIGNALS0 SCOPE, &cfg);
	assert_true(bg_config_is_breakglass_account(&cfg, "breakglass"));
	assert_true(bg_config_is_breakglass_account(&cfg, "bg-alice"));
	assert_true(bg_config_is_breakglass_account(&cfg, "bg-"));
	assert_true(bg_config_is_breakglass_account(&cfg, "ops-7"));
	assert_false(bg_config_is_breakglass_account(&cfg, "ops-x"));
	assert_false(bg_config_is_breakglass_account(&cfg, "root"));
	assert_false(bg_config_is_breakglass_account(&cfg, "bg"));
	assert_false(bg_config_is_breakglass_account(&cfg, "xbreakglass"));
	assert_false(bg_config_is_breakglass_account(&cfg, "breakglass2"));
	assert_false(bg_config_is_breakglass_account(&cfg, "BREAKGLASS"));
	assert_false(bg_config_is_breakglass_account(&cfg, "bg-a/b"));
	assert_false(bg_config_is_breakglass_account(&cfg, ""));
	assert_false(bg_config_is_breakglass_account(&cfg, NULL));
	assert_false(bg_config_is_breakglass_account(NULL, "breakglass"));
	bg_config_free(&cfg);
	/* A zeroed (failed) configuration matches nobody. */
	assert_false(bg_config_is_breakglass_account(&cfg, "breakglass"));
}

static void
test_parse_duration(void **state)
{
	char buf[64];
	unsigned long v;
	bg_error err;

	(void)state;
	assert_int_equal(bg_parse_duration("0", &v, &err), BG_OK);
	assert_int_equal(v, 0);
	assert_int_equal(bg_parse_duration("90", &v, &err), BG_OK);
	assert_int_equal(v, 90);
	assert_int_equal(bg_parse_duration("90s", &v, &err), BG_OK);
	assert_int_equal(v, 90);
	assert_int_equal(bg_parse_duration("15m", &v, &err), BG_OK);
	assert_int_equal(v, 900);
	assert_int_equal(bg_parse_duration("1h", &v, &err), BG_OK);
	assert_int_equal(v, 3600);
	assert_int_equal(bg_parse_duration("400d", &v, &err), BG_OK);
	assert_int_equal(v, 400UL * 86400);
	assert_int_equal(bg_parse_duration("1hd", &v, &err), BG_ERR_INVALID);
	assert_int_equal(bg_parse_duration("007m", &v, &err), BG_OK);
	assert_int_equal(v, 420);

	v = 42;
	assert_int_equal(bg_parse_duration("", &v, &err), BG_ERR_INVALID);
	assert_int_equal(bg_parse_duration(NULL, &v, &err), BG_ERR_INVALID);
	assert_int_equal(bg_parse_duration("10x", &v, &err), BG_ERR_INVALID);
	assert_int_equal(bg_parse_duration("m", &v, &err), BG_ERR_INVALID);
	assert_int_equal(bg_parse_duration("1hh", &v, &err), BG_ERR_INVALID);
	assert_int_equal(bg_parse_duration("1h30m", &v, &err), BG_ERR_INVALID);
	assert_int_equal(bg_parse_duration("-1", &v, &err), BG_ERR_INVALID);
	assert_int_equal(bg_parse_duration("+1", &v, &err), BG_ERR_INVALID);
	assert_int_equal(bg_parse_duration(" 1", &v, &err), BG_ERR_INVALID);
	assert_int_equal(bg_parse_duration("1 ", &v, &err), BG_ERR_INVALID);
	assert_int_equal(bg_parse_duration("1.5h", &v, &err), BG_ERR_INVALID);
	assert_int_equal(bg_parse_duration("1H", &v, &err), BG_ERR_INVALID);
	assert_int_equal(v, 42);

	/* The largest value parses; one more, or a multiplier past it, does not. */
	snprintf(buf, sizeof(buf), "%lu", ULONG_MAX);
	assert_int_equal(bg_parse_duration(buf, &v, &err), BG_OK);
	assert_true(v == ULONG_MAX);
	snprintf(buf, sizeof(buf), "%lu0", ULONG_MAX);
	assert_int_equal(bg_parse_duration(buf, &v, &err), BG_ERR_INVALID);
	assert_non_null(strstr(err.msg, "out of range"));
	snprintf(buf, sizeof(buf), "%lum", ULONG_MAX / 60 + 1);
	assert_int_equal(bg_parse_duration(buf, &v, &err), BG_ERR_INVALID);
	snprintf(buf, sizeof(buf), "%luh", ULONG_MAX / 3600);
	assert_int_equal(bg_parse_duration(buf, &v, &err), BG_OK);
	assert_true(v == ULONG_MAX / 3600 * 3600);
	snprintf(buf, sizeof(buf), "%luh", ULONG_MAX / 3600 + 1);
	assert_int_equal(bg_parse_duration(buf, &v, &err), BG_ERR_INVALID);
}

/* ------------------------------------------------------------------ */
/* Loading from files: the ownership and mode checks. */

static void
test_load_ok(void **state)
{
	bg_errlist errs = { 0 };
	char *dir = tu_mkdtemp(), *p;
	bg_config cfg;

	(void)state;
	p = tu_write(dir, "breakglass.conf", 0644, BASE);
	assert_int_equal(bg_config_load(p, &cfg, &errs), BG_OK);
	assert_count(&errs, 0);
	assert_string_equal(cfg.path, p);
	bg_config_free(&cfg);
	free(p);
	/* 0600 is fine too: only writability by others matters. */
	p = tu_write(dir, "private.conf", 0600, BASE);
	assert_int_equal(bg_config_load(p, &cfg, &errs), BG_OK);
	bg_config_free(&cfg);
	free(p);
	tu_rmtree(dir);
	free(dir);
}

static void
expect_load_refused(const char *path, const char *needle)
{
	bg_errlist errs = { 0 };
	bg_config cfg;

	memset(&cfg, 0x11, sizeof(cfg));
	assert_int_not_equal(bg_config_load(path, &cfg, &errs), BG_OK);
	assert_count(&errs, 1);
	if (strncmp(errs.msgs[0], path, strlen(path)) != 0 ||
	    strstr(errs.msgs[0], needle) == NULL) {
		print_message("unexpected: %s\n", errs.msgs[0]);
		fail();
	}
	/* Named once, not "path: path: ...". */
	assert_null(strstr(errs.msgs[0] + strlen(path), path));
	assert_true(is_zero(&cfg, sizeof(cfg)));
	bg_errlist_free(&errs);
}

static void
test_load_refused(void **state)
{
	char *dir = tu_mkdtemp(), *p, *link, *big;
	size_t bigsz = BG_CONFIG_MAX_SIZE + 1;

	(void)state;
	p = tu_write(dir, "real.conf", 0644, BASE);
	link = tu_path(dir, "link.conf");
	assert_int_equal(symlink(p, link), 0);
	expect_load_refused(link, "symbolic link");
	free(link);
	free(p);

	p = tu_write(dir, "group.conf", 0664, BASE);
	expect_load_refused(p, "too open");
	free(p);
	p = tu_write(dir, "world.conf", 0646, BASE);
	expect_load_refused(p, "too open");
	free(p);

	big = malloc(bigsz + 1);
	assert_non_null(big);
	memset(big, '#', bigsz);
	big[bigsz] = '\0';
	p = tu_write(dir, "big.conf", 0644, big);
	expect_load_refused(p, "larger than");
	free(p);
	free(big);

	p = tu_path(dir, "missing.conf");
	expect_load_refused(p, "");
	free(p);

	/* A syntax error in a loaded file names the file's path and line. */
	{
		bg_errlist errs = { 0 };
		bg_config cfg;
		char want[PATH_MAX + 16];

		p = tu_write(dir, "bad.conf", 0644, GENERAL "bogus = 1\n");
		assert_int_equal(bg_config_load(p, &cfg, &errs), BG_ERR_INVALID);
		snprintf(want, sizeof(want), "%s:3: ", p);
		assert_true(errs.count >= 1);
		assert_memory_equal(errs.msgs[0], want, strlen(want));
		bg_errlist_free(&errs);
		free(p);
	}
	tu_rmtree(dir);
	free(dir);
}

/* ------------------------------------------------------------------ */
/* check-config's file checks. */

struct fixture {
	char *dir;
	char *conf;
	char *host_key;
	char *pub;
};

static char *
make_dir(const char *dir, const char *name, mode_t mode)
{
	char *p = tu_path(dir, name);

	assert_int_equal(mkdir(p, mode), 0);
	assert_int_equal(chmod(p, mode), 0);
	return p;
}

/*
 * A configuration whose every named file exists, rooted in a temp dir.  Two
 * single-line slots take a test's additions at fixed lines: 18 in [scope s],
 * 26 in [approval].
 */
static void
fixture_setup(struct fixture *f, const char *scope_line, const char *approval_line)
{
	char *text;

	f->dir = tu_mkdtemp();
	free(make_dir(f->dir, "state", 0700));
	free(make_dir(f->dir, "log", 0750));
	free(make_dir(f->dir, "etc", 0755));
	free(make_dir(f->dir, "operators", 0700));
	f->host_key = tu_write(f->dir, "host.key", 0600, hex_key);
	f->pub = tu_write(f->dir, "approvald.pub", 0644, ed25519_pub);
	free(tu_write(f->dir, "ca.pem", 0644, "any CA bundle\n"));
	free(tu_write(f->dir, "token", 0600, "s3cret\n"));
	if (asprintf(&text,
	    "[general]\n"                                         /* 1 */
	    "accounts = breakglass\n"                             /* 2 */
	    "state_dir = %1$s/state\n"                            /* 3 */
	    "run_dir = %1$s/run\n"                                /* 4 */
	    "kill_switch = %1$s/etc/kill-switch\n"                /* 5 */
	    "journal = %1$s/log/journal.jsonl\n"                  /* 6 */
	    "[totp]\n"                                            /* 7 */
	    "operators_dir = %1$s/operators\n"                    /* 8 */
	    "[signals]\n"                                         /* 9 */
	    "required = 1\n"                                      /* 10 */
	    "[signal p]\n"                                        /* 11 */
	    "type = prometheus\n"                                 /* 12 */
	    "url = https://prometheus.example.net\n"              /* 13 */
	    "match = alertname=\"X\"\n"                           /* 14 */
	    "bearer_token_file = %1$s/token\n"                    /* 15 */
	    "[scope s]\n"                                         /* 16 */
	    "command = /usr/bin/true -x\n"                        /* 17 */
	    "%2$s\n"                                              /* 18 */
	    "[approval]\n"                                        /* 19 */
	    "url = https://approvals.example.net/v1\n"            /* 20 */
	    "host_id = mx1.example.net\n"                         /* 21 */
	    "host_key = %1$s/host.key\n"                          /* 22 */
	    "service_key = %1$s/approvald.pub\n"                  /* 23 */
	    "approvers = bob carol\n"                             /* 24 */
	    "ca_file = %1$s/ca.pem\n"                             /* 25 */
	    "%3$s\n",                                             /* 26 */
	    f->dir, scope_line, approval_line) < 0)
		abort();
	f->conf = tu_write(f->dir, "breakglass.conf", 0644, text);
	free(text);
}

static void
fixture_teardown(struct fixture *f)
{
	tu_rmtree(f->dir);
	free(f->dir);
	free(f->conf);
	free(f->host_key);
	free(f->pub);
}

/* Loads the fixture and runs the file checks; returns their errors. */
static bg_status
fixture_check(struct fixture *f, bg_errlist *errs)
{
	bg_config cfg;
	bg_status st;

	if (bg_config_load(f->conf, &cfg, errs) != BG_OK) {
		dump_errors(errs);
		fail();
	}
	st = bg_config_check_files(&cfg, errs);
	bg_config_free(&cfg);
	return st;
}

static void
assert_file_error(const struct fixture *f, const bg_errlist *errs, unsigned line,
    const char *needle)
{
	char prefix[PATH_MAX + 32];

	snprintf(prefix, sizeof(prefix), "%s:%u: ", f->conf, line);
	for (size_t i = 0; i < errs->count; i++)
		if (strncmp(errs->msgs[i], prefix, strlen(prefix)) == 0 &&
		    strstr(errs->msgs[i], needle) != NULL)
			return;
	print_message("no error \"%s...%s\" among:\n", prefix, needle);
	dump_errors(errs);
	fail();
}

static void
test_check_files_ok(void **state)
{
	bg_errlist errs = { 0 };
	struct fixture f;

	(void)state;
	/* run_dir does not exist: tmpfiles creates it at boot, no error. */
	/* /bin is the merged-/usr link: trusted as given. */
	fixture_setup(&f, "command = /bin/true -c true", "# nothing");
	if (fixture_check(&f, &errs) != BG_OK)
		dump_errors(&errs);
	assert_count(&errs, 0);
	fixture_teardown(&f);

	/* When run_dir exists it is checked, and a good one passes. */
	fixture_setup(&f, "", "");
	free(make_dir(f.dir, "run", 0700));
	assert_int_equal(fixture_check(&f, &errs), BG_OK);
	assert_count(&errs, 0);
	fixture_teardown(&f);
}

static void
test_check_files_problems(void **state)
{
	bg_errlist errs = { 0 };
	struct fixture f;
	char *p;

	(void)state;
	fixture_setup(&f, "command = /nonexistent/tool", "");
	/* Every problem is reported, each at the line of the key naming it. */
	assert_int_equal(chmod(f.host_key, 0640), 0);
	free(tu_write(f.dir, "approvald.pub", 0644, p256_pub));
	free(tu_write(f.dir, "token", 0644, "tok\n"));
	p = tu_path(f.dir, "state");
	assert_int_equal(chmod(p, 0777), 0);
	free(p);
	p = tu_path(f.dir, "operators");
	assert_int_equal(rmdir(p), 0);
	free(p);
	free(make_dir(f.dir, "run", 0777));
	p = tu_path(f.dir, "log");
	assert_int_equal(chmod(p, 0775), 0);
	free(p);
	p = tu_path(f.dir, "etc");
	assert_int_equal(rmdir(p), 0);
	free(p);
	p = tu_path(f.dir, "ca.pem");
	assert_int_equal(unlink(p), 0);
	free(p);

	assert_int_equal(fixture_check(&f, &errs), BG_ERR_INVALID);
	assert_file_error(&f, &errs, 22, "host_key: ");
	assert_file_error(&f, &errs, 23, "service_key: ");
	assert_file_error(&f, &errs, 23, "not a PEM public key: not one line of 60 base64");
	assert_file_error(&f, &errs, 25, "ca_file: ");
	assert_file_error(&f, &errs, 15, "bearer_token_file: ");
	assert_file_error(&f, &errs, 3, "state_dir: ");
	assert_file_error(&f, &errs, 8, "operators_dir: ");
	assert_file_error(&f, &errs, 4, "run_dir: ");
	assert_file_error(&f, &errs, 5, "kill_switch: ");
	assert_file_error(&f, &errs, 6, "journal: ");
	/* The second command line is named, not the first. */
	assert_file_error(&f, &errs, 18, "command: untrusted-path: /nonexistent: No such file");
	assert_count(&errs, 10);
	/* The secret key file's contents never show. */
	for (size_t i = 0; i < errs.count; i++)
		assert_null(strstr(errs.msgs[i], "000102030405"));
	bg_errlist_free(&errs);
	fixture_teardown(&f);
}

static void
test_check_files_more(void **state)
{
	bg_errlist errs = { 0 };
	struct fixture f;

	(void)state;
	fixture_setup(&f, "command = /etc/passwd", "");
	free(tu_write(f.dir, "approvald.pub", 0644, "not a key\n"));
	free(tu_write(f.dir, "token", 0600, "\n"));
	free(tu_write(f.dir, "host.key", 0600, "too short\n"));
	assert_int_equal(fixture_check(&f, &errs), BG_ERR_INVALID);
	assert_file_error(&f, &errs, 22, "host_key: ");
	assert_file_error(&f, &errs, 23, "not a PEM public key");
	assert_file_error(&f, &errs, 15, "empty");
	/* A trusted file is still no command unless it is executable. */
	assert_file_error(&f, &errs, 18, "command: /etc/passwd: not executable");
	assert_count(&errs, 4);
	for (size_t i = 0; i < errs.count; i++)
		assert_null(strstr(errs.msgs[i], "too short"));
	bg_errlist_free(&errs);
	fixture_teardown(&f);

	/*
	 * An Ed25519 key that OpenSSL would read, but not in the one form the
	 * sudo plugin's core reads (crypto_sodium.c): every sudo of a
	 * break-glass account would fail, so check-config says so now.
	 */
	fixture_setup(&f, "command = /usr/bin/true", "");
	free(tu_write(f.dir, "approvald.pub", 0644, "a comment\n-----BEGIN PUBLIC KEY-----\n"
	    "MCowBQYDK2VwAyEAQPTqwkuzAd2fHGeyci/WD4ujLhmTUhgPFpNpu8U6n5U=\n"
	    "-----END PUBLIC KEY-----\n"));
	assert_int_equal(fixture_check(&f, &errs), BG_ERR_INVALID);
	assert_file_error(&f, &errs, 23, "service_key: ");
	assert_file_error(&f, &errs, 23, "not a PEM public key: no BEGIN line");
	assert_count(&errs, 1);
	bg_errlist_free(&errs);
	fixture_teardown(&f);

	/* A configuration that failed to load (zeroed) is never "OK". */
	{
		bg_config zero;

		memset(&zero, 0, sizeof(zero));
		assert_int_equal(bg_config_check_files(&zero, &errs), BG_ERR_INVALID);
		assert_count(&errs, 1);
		bg_errlist_free(&errs);
		assert_int_equal(bg_config_parse(NULL, "", 0, &zero, &errs),
		    BG_ERR_INVALID);
		assert_int_equal(bg_config_load(NULL, &zero, &errs), BG_ERR_INVALID);
		assert_count(&errs, 2);
		bg_errlist_free(&errs);
	}
}

/* ------------------------------------------------------------------ */
/* The INI reader with other schemas. */

/* An operator secret file: no section headers at all. */
typedef struct {
	bg_cfg_meta meta;
	char *secret;
	unsigned algorithm;
	unsigned long digits;
	unsigned long period;
} op_secret;

typedef struct {
	op_secret s;
} op_root;

static bg_status
check_digits(const char *v, bg_error *err)
{
	if (strcmp(v, "6") != 0 && strcmp(v, "8") != 0)
		return bg_error_set(err, BG_ERR_INVALID, "must be 6 or 8");
	return BG_OK;
}

static const char *const algorithms[] = { "sha1", "sha256", "sha512", NULL };
static const bg_cfg_key op_keys[] = {
	{ .name = "secret", .type = BG_CFG_STRING, .required = true,
	  .offset = offsetof(op_secret, secret) },
	{ .name = "algorithm", .type = BG_CFG_ENUM, .def = "sha1",
	  .offset = offsetof(op_secret, algorithm), .choices = algorithms },
	{ .name = "digits", .type = BG_CFG_UINT, .def = "6",
	  .offset = offsetof(op_secret, digits), .check = check_digits },
	{ .name = "period", .type = BG_CFG_UINT, .def = "30", .min = 1,
	  .offset = offsetof(op_secret, period) },
};
static const bg_cfg_section op_sections[] = {
	{ .name = NULL, .keys = op_keys, .nkeys = sizeof(op_keys) / sizeof(op_keys[0]),
	  .size = sizeof(op_secret), .offset = offsetof(op_root, s) },
};
static const bg_cfg_schema op_schema = { op_sections, 1 };

static bg_status
op_parse(const char *text, op_root *r, bg_errlist *errs)
{
	memset(r, 0, sizeof(*r));
	return bg_ini_parse("op", text, strlen(text), &op_schema, r, errs);
}

static void
assert_op_error(const bg_errlist *errs, const char *prefix, const char *needle)
{
	for (size_t i = 0; i < errs->count; i++)
		if (strncmp(errs->msgs[i], prefix, strlen(prefix)) == 0 &&
		    strstr(errs->msgs[i], needle) != NULL)
			return;
	dump_errors(errs);
	fail();
}

static void
test_ini_sectionless(void **state)
{
	bg_errlist errs = { 0 };
	op_root r;

	(void)state;
	assert_int_equal(op_parse("# operator alice\nsecret = JBSWY3DPEHPK3PXP\n"
	    "algorithm = sha256\ndigits = 8\n", &r, &errs), BG_OK);
	assert_string_equal(r.s.secret, "JBSWY3DPEHPK3PXP");
	assert_int_equal(r.s.algorithm, 1);
	assert_int_equal(r.s.digits, 8);
	assert_int_equal(r.s.period, 30);
	assert_int_equal(bg_cfg_key_line(&op_sections[0], &r.s.meta, "digits"), 4);
	assert_int_equal(bg_cfg_key_line(&op_sections[0], &r.s.meta, "period"), 1);
	bg_ini_free(&op_schema, &r);
	assert_true(is_zero(&r, sizeof(r)));

	assert_int_equal(op_parse("algorithm = md5\ndigits = 7\n[totp]\nx = 1\n"
	    "secret = A\nsecret = B\n", &r, &errs), BG_ERR_INVALID);
	assert_op_error(&errs, "op:1: ", "algorithm: expected one of sha1, sha256, sha512");
	assert_op_error(&errs, "op:2: ", "digits: must be 6 or 8");
	assert_op_error(&errs, "op:3: ", "unknown section [totp]");
	/* The keys after an unknown section are ignored, so secret is missing. */
	assert_op_error(&errs, "op:1: ", "missing required key \"secret\"");
	assert_count(&errs, 4);
	assert_true(is_zero(&r, sizeof(r)));
	bg_errlist_free(&errs);

	assert_int_equal(op_parse("algorithm = sha1\n", &r, &errs), BG_ERR_INVALID);
	assert_op_error(&errs, "op:1: ", "missing required key \"secret\"");
	assert_count(&errs, 1);
	bg_errlist_free(&errs);

	/* The secret is not echoed by a duplicate-key or unknown-key error. */
	assert_int_equal(op_parse("secret = JBSWY3DPEHPK3PXP\nsecret = KRSXG5CTMVRXEZLU\n"
	    "secrett = KRSXG5CTMVRXEZLU\n", &r, &errs), BG_ERR_INVALID);
	assert_op_error(&errs, "op:2: ", "duplicate key \"secret\" (first at line 1)");
	assert_op_error(&errs, "op:3: ", "unknown key \"secrett\"");
	for (size_t i = 0; i < errs.count; i++)
		assert_null(strstr(errs.msgs[i], "KRSXG5"));
	bg_errlist_free(&errs);

	/* Inside a quoted value \" and \\ are a quote and a backslash. */
	assert_int_equal(op_parse("secret = \"a\\\\b\\\"c\\d\"\n", &r, &errs), BG_OK);
	assert_string_equal(r.s.secret, "a\\b\"c\\d");
	bg_ini_free(&op_schema, &r);

	/* Empty input: only the missing required key. */
	assert_int_equal(op_parse("", &r, &errs), BG_ERR_INVALID);
	assert_count(&errs, 1);
	bg_errlist_free(&errs);
}

static void
test_ini_lexical(void **state)
{
	bg_errlist errs = { 0 };
	char *big;
	op_root r;
	size_t n = BG_INI_MAX_LINE + 16;
	const char nul_text[] = "secret = A\0B\ndigits = x\n";

	(void)state;
	/* CRLF line ends and a missing final newline are fine. */
	assert_int_equal(op_parse("secret = A\r\nperiod = 60", &r, &errs), BG_OK);
	assert_string_equal(r.s.secret, "A");
	assert_int_equal(r.s.period, 60);
	bg_ini_free(&op_schema, &r);

	/* A NUL byte: the line is refused, the next ones still read. */
	memset(&r, 0, sizeof(r));
	assert_int_equal(bg_ini_parse("op", nul_text, sizeof(nul_text) - 1, &op_schema,
	    &r, &errs), BG_ERR_INVALID);
	assert_op_error(&errs, "op:1: ", "NUL byte");
	assert_op_error(&errs, "op:2: ", "digits");
	bg_errlist_free(&errs);

	assert_int_equal(op_parse("secret = A\nperiod = 1\x1b[2J\n", &r, &errs),
	    BG_ERR_INVALID);
	assert_op_error(&errs, "op:2: ", "control character");
	assert_count(&errs, 1);
	bg_errlist_free(&errs);

	big = malloc(n + 32);
	assert_non_null(big);
	memcpy(big, "secret = ", 9);
	memset(big + 9, 'A', n - 9);
	memcpy(big + n, "\nperiod = 0\n", 13);
	assert_int_equal(op_parse(big, &r, &errs), BG_ERR_INVALID);
	assert_op_error(&errs, "op:1: ", "line longer than 4096 bytes");
	assert_op_error(&errs, "op:2: ", "period: must be at least 1");
	free(big);
	bg_errlist_free(&errs);

	/* A line of exactly the maximum is accepted. */
	big = malloc(BG_INI_MAX_LINE + 2);
	assert_non_null(big);
	memcpy(big, "secret = ", 9);
	memset(big + 9, 'A', BG_INI_MAX_LINE - 9);
	big[BG_INI_MAX_LINE] = '\n';
	big[BG_INI_MAX_LINE + 1] = '\0';
	assert_int_equal(op_parse(big, &r, &errs), BG_OK);
	assert_int_equal(strlen(r.s.secret), BG_INI_MAX_LINE - 9);
	bg_ini_free(&op_schema, &r);
	free(big);
}

static void
test_ini_error_cap(void **state)
{
	bg_errlist errs = { 0 };
	char *text;
	size_t lines = 1000;
	op_root r;

	(void)state;
	/* Garbage fed as a configuration produces a bounded report. */
	text = malloc(lines * 2 + 1);
	assert_non_null(text);
	for (size_t i = 0; i < lines; i++)
		memcpy(text + 2 * i, "x\n", 2);
	text[lines * 2] = '\0';
	assert_int_equal(op_parse(text, &r, &errs), BG_ERR_INVALID);
	assert_true(errs.count > 10 && errs.count < 100);
	assert_non_null(strstr(errs.msgs[errs.count - 1], "too many errors"));
	bg_errlist_free(&errs);
	free(text);
}

/* A HEX32 key, as in the journal's key state: a secret that must never show. */
typedef struct {
	bg_cfg_meta meta;
	unsigned char key[32];
	unsigned long seq;
} key_state;

static const bg_cfg_key ks_keys[] = {
	{ .name = "key", .type = BG_CFG_HEX32, .required = true,
	  .offset = offsetof(key_state, key) },
	{ .name = "seq", .type = BG_CFG_UINT, .required = true,
	  .offset = offsetof(key_state, seq) },
};
static const bg_cfg_section ks_sections[] = {
	{ .name = NULL, .keys = ks_keys, .nkeys = 2, .size = sizeof(key_state) },
};
static const bg_cfg_schema ks_schema = { ks_sections, 1 };

static void
assert_secret_not_shown(const bg_errlist *errs, const char *secret)
{
	char piece[9];

	/* No 8-character window of the secret shows up in any message. */
	for (size_t off = 0; off + 8 <= strlen(secret); off++) {
		memcpy(piece, secret + off, 8);
		piece[8] = '\0';
		for (size_t i = 0; i < errs->count; i++)
			if (strstr(errs->msgs[i], piece) != NULL) {
				print_message("secret leaked: %s\n", errs->msgs[i]);
				fail();
			}
	}
}

static void
test_ini_hex32_secret(void **state)
{
	static const char good[] =
	    "c0ffee00deadbeef0123456789abcdefFEDCBA98765432100f1e2d3c4b5a6978";
	static const char *const bad[] = {
		/* 63 digits, 65 digits, a non-hex digit, spaces inside */
		"c0ffee00deadbeef0123456789abcdefFEDCBA98765432100f1e2d3c4b5a697",
		"c0ffee00deadbeef0123456789abcdefFEDCBA98765432100f1e2d3c4b5a69789",
		"c0ffee00deadbeef0123456789abcdefFEDCBA98765432100f1e2d3c4b5a697g",
		"c0ffee00deadbeef 0123456789abcdefFEDCBA98765432100f1e2d3c4b5a69",
		"\"c0ffee00deadbeef0123456789abcdefFEDCBA98765432100f1e2d3c4b5a6978",
	};
	bg_errlist errs = { 0 };
	char text[512];
	key_state ks;

	(void)state;
	snprintf(text, sizeof(text), "seq = 7\nkey = %s\n", good);
	memset(&ks, 0, sizeof(ks));
	assert_int_equal(bg_ini_parse("ks", text, strlen(text), &ks_schema, &ks, &errs),
	    BG_OK);
	assert_int_equal(ks.seq, 7);
	assert_int_equal(ks.key[0], 0xc0);
	assert_int_equal(ks.key[16], 0xfe);
	assert_int_equal(ks.key[31], 0x78);
	bg_ini_free(&ks_schema, &ks);
	assert_true(is_zero(&ks, sizeof(ks)));

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "seq = 7\nkey = %s\n", bad[i]);
		memset(&ks, 0, sizeof(ks));
		assert_int_equal(bg_ini_parse("ks", text, strlen(text), &ks_schema, &ks,
		    &errs), BG_ERR_INVALID);
		assert_count(&errs, 1);
		assert_op_error(&errs, "ks:2: ", "key");
		assert_secret_not_shown(&errs, bad[i]);
		assert_true(is_zero(&ks, sizeof(ks)));
		bg_errlist_free(&errs);
	}

	/* Duplicate and misplaced secrets are reported without their value. */
	snprintf(text, sizeof(text), "key = %s\nkey = %s\nseq = 1\n[s]\nkey = %s\n",
	    good, good, good);
	memset(&ks, 0, sizeof(ks));
	assert_int_equal(bg_ini_parse("ks", text, strlen(text), &ks_schema, &ks, &errs),
	    BG_ERR_INVALID);
	assert_op_error(&errs, "ks:2: ", "duplicate key \"key\"");
	assert_secret_not_shown(&errs, good);
	assert_true(is_zero(&ks, sizeof(ks)));
	bg_errlist_free(&errs);
}

/* Named sections with a cap, and a schema the reader must refuse. */
typedef struct {
	bg_cfg_meta meta;
	char *v;
} item;

typedef struct {
	item *items;
	size_t nitems;
} item_root;

static void
test_ini_named_cap_and_bad_schema(void **state)
{
	static const bg_cfg_key keys[] = {
		{ .name = "v", .type = BG_CFG_STRING, .def = "d",
		  .offset = offsetof(item, v) },
	};
	static const bg_cfg_section secs[] = {
		{ .name = "item", .named = true, .keys = keys, .nkeys = 1,
		  .size = sizeof(item), .offset = offsetof(item_root, items),
		  .count_offset = offsetof(item_root, nitems), .max_count = 2 },
	};
	static const bg_cfg_schema schema = { secs, 1 };
	static const bg_cfg_section bad_secs[] = {
		{ .name = "item", .keys = keys, .nkeys = BG_CFG_MAX_KEYS + 1,
		  .size = sizeof(item) },
	};
	static const bg_cfg_schema bad_schema = { bad_secs, 1 };
	const char *text = "[item a]\nv = 1\n[item b]\n[item c]\n";
	bg_errlist errs = { 0 };
	item_root r = { 0 };

	(void)state;
	assert_int_equal(bg_ini_parse("n", text, (size_t)(strstr(text, "[item c]") - text),
	    &schema, &r, &errs), BG_OK);
	assert_int_equal(r.nitems, 2);
	assert_string_equal(r.items[0].v, "1");
	assert_string_equal(r.items[1].v, "d");
	assert_string_equal(r.items[1].meta.name, "b");
	bg_ini_free(&schema, &r);
	assert_null(r.items);
	assert_int_equal(r.nitems, 0);

	assert_int_equal(bg_ini_parse("n", text, strlen(text), &schema, &r, &errs),
	    BG_ERR_INVALID);
	assert_op_error(&errs, "n:4: ", "too many [item] sections (at most 2)");
	assert_null(r.items);
	bg_errlist_free(&errs);

	assert_int_equal(bg_ini_parse("n", text, strlen(text), &bad_schema, &r, &errs),
	    BG_ERR_INVALID);
	assert_op_error(&errs, "n:1: ", "internal error");
	bg_errlist_free(&errs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_example),
		cmocka_unit_test(test_defaults_and_lines),
		cmocka_unit_test(test_operator_account_and_bounds),
		cmocka_unit_test(test_unknown_section),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_bad_duration),
		cmocka_unit_test(test_bad_bool),
		cmocka_unit_test(test_missing_required),
		cmocka_unit_test(test_scope_without_command),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_named_section_names),
		cmocka_unit_test(test_relative_path),
		cmocka_unit_test(test_bad_url),
		cmocka_unit_test(test_url_host),
		cmocka_unit_test(test_approval_url_loopback),
		cmocka_unit_test(test_approval_urls),
		cmocka_unit_test(test_quorum_and_required),
		cmocka_unit_test(test_match_syntax),
		cmocka_unit_test(test_bad_regex),
		cmocka_unit_test(test_matcher),
		cmocka_unit_test(test_matcher_cost),
		cmocka_unit_test(test_signal_types),
		cmocka_unit_test(test_scope_checks),
		cmocka_unit_test(test_general_checks),
		cmocka_unit_test(test_multiple_errors),
		cmocka_unit_test(test_comments_and_quotes),
		cmocka_unit_test(test_quote_errors),
		cmocka_unit_test(test_words_append),
		cmocka_unit_test(test_is_breakglass_account),
		cmocka_unit_test(test_parse_duration),
		cmocka_unit_test(test_load_ok),
		cmocka_unit_test(test_load_refused),
		cmocka_unit_test(test_check_files_ok),
		cmocka_unit_test(test_check_files_problems),
		cmocka_unit_test(test_check_files_more),
		cmocka_unit_test(test_ini_sectionless),
		cmocka_unit_test(test_ini_lexical),
		cmocka_unit_test(test_ini_error_cap),
		cmocka_unit_test(test_ini_hex32_secret),
		cmocka_unit_test(test_ini_named_cap_and_bad_schema),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
