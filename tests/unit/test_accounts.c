/*
 * common/accounts.c: the sudo plugin's front reads [general] accounts alone
 * and must never tell "not ours" from a file the full parser reads
 * differently.  For every text: when the full parser accepts it, the
 * accounts reader gives the same list; when the accounts reader refuses it,
 * so does the full parser.
 */
#include "build_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "accounts.h"
#include "config.h"
#include "testutil.h"

#define GENERAL "[general]\naccounts = breakglass bg-*\n"
#define REST \
	"[approval]\n" \
	"url = http://127.0.0.1:1/v1\n" \
	"host_id = mx1.example.net\n" \
	"host_key = /etc/breakglass/host.key\n" \
	"service_key = /etc/breakglass/approvald.pub\n" \
	"approvers = bob carol dave\n" \
	"quorum = 2\n" \
	"[signals]\n" \
	"required = 0\n" \
	"[scope ops]\n" \
	"command = /usr/bin/true\n"

struct text_case {
	const char *name;
	const char *text;
	bool full_ok;       /* bg_config_parse accepts it */
	bool accounts_ok;   /* bg_accounts_read accepts it */
};

static const struct text_case cases[] = {
	{ "valid", GENERAL REST, true, true },
	{ "accounts repeated", GENERAL "accounts = ops\n" REST, true, true },
	{ "CRLF and comments", "# c\r\n[general] # x\r\naccounts = breakglass # y\r\n" REST,
	  true, true },
	/* Problems outside [general] accounts do not prevent the decision. */
	{ "bad value elsewhere", GENERAL REST "[signals]\n", false, true },
	{ "bad number", GENERAL REST "[totp]\nwindow = many\n", false, true },
	{ "unknown section", GENERAL REST "[bogus]\nx = 1\n", false, true },
	{ "unknown key in general", GENERAL "bogus = 1\n" REST, false, true },
	{ "unterminated quote elsewhere", GENERAL REST "[totp]\nbogus = \"x\n", false, true },
	/* The grammar of every line, and the accounts key itself, do. */
	{ "no equals sign", GENERAL REST "[scope x]\nno equals sign\n", false, false },
	{ "control character", GENERAL REST "[scope x]\ncommand = /bin/x\x01\n", false, false },
	{ "NUL byte", GENERAL REST "[scope x]\ncommand = a\0b\n", false, false },
	{ "unclosed header", GENERAL REST "[scope x\n", false, false },
	{ "bad key name", GENERAL REST "[totp]\nbad key = 1\n", false, false },
	{ "key before any section", "accounts = breakglass\n" GENERAL REST, false, false },
	{ "duplicate general", GENERAL REST GENERAL, false, false },
	{ "general with a name", "[general x]\naccounts = breakglass\n" REST, false, false },
	{ "no general", REST, false, false },
	{ "no accounts", "[general]\noperator = prompt\n" REST, false, false },
	{ "accounts elsewhere", REST "[general]\n[scope y]\naccounts = x\n", false, false },
	{ "empty accounts", "[general]\naccounts = \"\"\n" REST, false, false },
	{ "slash in a pattern", "[general]\naccounts = bg-*/x\n" REST, false, false },
	{ "unterminated quote in accounts", "[general]\naccounts = \"bg\n" REST, false, false },
};

static void
same_list(const bg_strlist *a, const bg_strlist *b)
{
	assert_int_equal(a->count, b->count);
	for (size_t i = 0; i < a->count; i++)
		assert_string_equal(a->items[i], b->items[i]);
}

static void
test_agrees_with_full_parser(void **state)
{
	char *dir = tu_mkdtemp();

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct text_case *c = &cases[i];
		/* The NUL case holds one byte more than strlen says. */
		size_t len = strlen(c->text) + (strstr(c->name, "NUL") != NULL ?
		    strlen(c->text + strlen(c->text) + 1) + 1 : 0);
		bg_errlist errs = { 0 };
		bg_strlist accounts;
		bg_config cfg;
		bg_error err;
		bg_status full, part;
		char *path = tu_path(dir, "breakglass.conf");
		FILE *f = fopen(path, "w");

		assert_non_null(f);
		assert_int_equal(fwrite(c->text, 1, len, f), len);
		assert_int_equal(fclose(f), 0);
		full = bg_config_parse(path, c->text, len, &cfg, &errs);
		part = bg_accounts_read(path, &accounts, &err);
		if ((full == BG_OK) != c->full_ok || (part == BG_OK) != c->accounts_ok)
			fail_msg("%s: full parser %s, accounts reader %s (%s)", c->name,
			    full == BG_OK ? "accepts" : "refuses",
			    part == BG_OK ? "accepts" : "refuses",
			    part == BG_OK ? "" : err.msg);
		if (full == BG_OK) {
			same_list(&cfg.general.accounts, &accounts);
			bg_config_free(&cfg);
		}
		if (part == BG_OK)
			bg_strlist_free(&accounts);
		bg_errlist_free(&errs);
		free(path);
	}
	tu_rmtree(dir);
	free(dir);
}

static void
test_match(void **state)
{
	char *dir = tu_mkdtemp(), *path;
	bg_strlist accounts;
	bg_error err;

	(void)state;
	path = tu_write(dir, "breakglass.conf", 0644, GENERAL REST);
	assert_int_equal(bg_accounts_read(path, &accounts, &err), BG_OK);
	assert_true(bg_accounts_match(&accounts, "breakglass"));
	assert_true(bg_accounts_match(&accounts, "bg-op"));
	assert_false(bg_accounts_match(&accounts, "alice"));
	assert_false(bg_accounts_match(&accounts, "Breakglass"));
	assert_false(bg_accounts_match(&accounts, ""));
	assert_false(bg_accounts_match(&accounts, NULL));
	bg_strlist_free(&accounts);
	/* The checks of bg_config_load: a file others may write is refused. */
	assert_int_equal(chmod(path, 0666), 0);
	assert_int_equal(bg_accounts_read(path, &accounts, &err), BG_ERR_PERM);
	assert_non_null(strstr(err.msg, "too open"));
	free(path);
	tu_rmtree(dir);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_agrees_with_full_parser),
		cmocka_unit_test(test_match),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
