/* Unit tests for common/scope.c: splitting, argument matching, programs, sudoedit files. */
#include "build_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scope.h"
#include "testutil.h"

#define NARGS(a) (sizeof(a) / sizeof((a)[0]))

static void
expect_parse(const char *line, const char *path, size_t n, const char *const *want,
    bool rest)
{
	bg_scope_command c;
	bg_error err;

	if (bg_scope_command_parse(line, &c, &err) != BG_OK)
		fail_msg("%s: %s", line, err.msg);
	assert_string_equal(c.path, path);
	assert_int_equal(c.npatterns, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(c.patterns[i], want[i]);
	assert_int_equal(c.rest, rest);
	bg_scope_command_free(&c);
}

static void
expect_syntax_error(const char *line, const char *why)
{
	bg_scope_command c;
	bg_error err;

	assert_int_equal(bg_scope_command_parse(line, &c, &err), BG_ERR_INVALID);
	if (strstr(err.msg, why) == NULL)
		fail_msg("%s: want \"%s\" in \"%s\"", line, why, err.msg);
}

static void
test_parse(void **state)
{
	const char *const d_star[] = { "-d", "*" };
	const char *const escaped[] = { "\\*", "a\\ b", "\\\"" };
	const char *const restart[] = { "restart" };
	const char *const literal_rest[] = { "**" };

	(void)state;
	expect_parse("/usr/sbin/postqueue -p", "/usr/sbin/postqueue", 1,
	    (const char *const[]){ "-p" }, false);
	expect_parse("  /usr/sbin/postsuper\t-d   *  ", "/usr/sbin/postsuper", 2, d_star, false);
	expect_parse("/usr/bin/logger -m \"a b  c\" x\"y\" \"\"", "/usr/bin/logger", 4,
	    (const char *const[]){ "-m", "a b  c", "xy", "" }, false);
	expect_parse("/bin/echo \\* a\\ b \\\"", "/bin/echo", 3, escaped, false);
	expect_parse("/usr/bin/systemctl restart **", "/usr/bin/systemctl", 1, restart, true);
	expect_parse("/usr/bin/journalctl **", "/usr/bin/journalctl", 0, NULL, true);
	expect_parse("/usr/bin/true", "/usr/bin/true", 0, NULL, false);
	/* A quoted "**" is an ordinary pattern. */
	expect_parse("/bin/ls \"**\"", "/bin/ls", 1, literal_rest, false);

	expect_syntax_error("/bin/ls ** -l", "last");
	expect_syntax_error("/bin/ls \"abc", "quote");
	expect_syntax_error("/bin/ls abc\\", "backslash");
	expect_syntax_error("ls -l", "absolute");
	expect_syntax_error("\"/bin/ls\" -l", "absolute");
	expect_syntax_error("", "absolute");
}

static bool
matches(const char *line, const char *const *args, size_t nargs)
{
	bg_scope_command c;
	bg_error err;
	bool m;

	if (bg_scope_command_parse(line, &c, &err) != BG_OK)
		fail_msg("%s: %s", line, err.msg);
	m = bg_scope_args_match(&c, args, nargs);
	bg_scope_command_free(&c);
	return m;
}

static void
test_args(void **state)
{
	const char *const one[] = { "-d", "ABC123" };
	const char *const two[] = { "-d", "ABC", "DEF" };
	const char *const spaced[] = { "-d", "ABC DEF" };
	const char *const newline[] = { "-d", "ABC\nDEF" };
	const char *const globby[] = { "-d", "*" };
	const char *const slashy[] = { "-d", "../../etc/shadow" };
	const char *const bare[] = { "-d" };
	const char *const empty_arg[] = { "-d", "" };
	const char *const restart[] = { "restart", "postfix" };
	const char *const restart_more[] = { "restart", "postfix", "--now", "a b" };

	(void)state;
	assert_true(matches("/usr/sbin/postsuper -d *", one, NARGS(one)));
	/* '*' never spans two arguments, whatever they hold. */
	assert_false(matches("/usr/sbin/postsuper -d *", two, NARGS(two)));
	assert_true(matches("/usr/sbin/postsuper -d *", spaced, NARGS(spaced)));
	assert_true(matches("/usr/sbin/postsuper -d *", newline, NARGS(newline)));
	assert_true(matches("/usr/sbin/postsuper -d *", slashy, NARGS(slashy)));
	assert_true(matches("/usr/sbin/postsuper -d *", empty_arg, NARGS(empty_arg)));
	assert_false(matches("/usr/sbin/postsuper -d *", bare, NARGS(bare)));
	assert_false(matches("/usr/sbin/postsuper -d", one, NARGS(one)));
	/* Glob characters in an argument are data; an escaped pattern matches them literally. */
	assert_true(matches("/usr/sbin/postsuper -d \\*", globby, NARGS(globby)));
	assert_false(matches("/usr/sbin/postsuper -d \\*", one, NARGS(one)));
	assert_true(matches("/usr/sbin/postsuper -d [A-Z]*[0-9]", one, NARGS(one)));
	assert_false(matches("/usr/sbin/postsuper -d [0-9]*", one, NARGS(one)));
	/* A quoted pattern with a blank matches one argument holding it. */
	assert_true(matches("/usr/sbin/postsuper -d \"ABC *\"", spaced, NARGS(spaced)));
	assert_false(matches("/usr/sbin/postsuper -d \"ABC *\"", two, NARGS(two)));
	/* A final ** takes any remaining arguments, including none. */
	assert_true(matches("/bin/systemctl restart **", restart, NARGS(restart)));
	assert_true(matches("/bin/systemctl restart **", restart_more, NARGS(restart_more)));
	assert_true(matches("/bin/systemctl restart postfix **", restart, NARGS(restart)));
	assert_false(matches("/bin/systemctl stop **", restart, NARGS(restart)));
	assert_true(matches("/bin/systemctl **", NULL, 0));
	assert_false(matches("/bin/systemctl", restart, NARGS(restart)));
	assert_true(matches("/bin/systemctl", NULL, 0));
	/* A quoted "**" is one argument. */
	assert_false(matches("/bin/systemctl restart \"**\"", restart_more, NARGS(restart_more)));
	assert_true(matches("/bin/systemctl restart \"**\"", restart, NARGS(restart)));
}

/* Options are not arguments: only a pattern written as an option matches one. */
static void
test_options(void **state)
{
	const char *const help[] = { "-u", "--help" };
	const char *const dash[] = { "-u", "-" };
	const char *const vacuum[] = { "--no-pager", "-n", "--vacuum-time=1s" };
	const char *const lines[] = { "--no-pager", "-n", "50" };
	const char *const attached[] = { "--lines=--vacuum-time=1s" };
	const char *const short_opt[] = { "-x" };
	const char *const rest[] = { "-n", "--vacuum-time=1s", "--setup-keys" };

	(void)state;
	assert_false(matches("/usr/bin/id -u *", help, NARGS(help)));
	assert_false(matches("/usr/bin/id -u *", dash, NARGS(dash)));
	assert_false(matches("/usr/bin/journalctl --no-pager -n *", vacuum, NARGS(vacuum)));
	assert_true(matches("/usr/bin/journalctl --no-pager -n *", lines, NARGS(lines)));
	assert_false(matches("/usr/bin/journalctl ?*", short_opt, NARGS(short_opt)));
	assert_false(matches("/usr/bin/journalctl [-]x", short_opt, NARGS(short_opt)));
	/* A pattern that begins with '-' is the administrator's explicit choice. */
	assert_true(matches("/usr/bin/journalctl -*", short_opt, NARGS(short_opt)));
	assert_true(matches("/usr/bin/journalctl --lines=*", attached, NARGS(attached)));
	/* "**" stays the explicit "anything that follows", options included. */
	assert_true(matches("/usr/bin/journalctl **", rest, NARGS(rest)));
}

static size_t
lint(const char *line, bg_error *w)
{
	bg_scope_command c;
	bg_error err;
	size_t n;

	if (bg_scope_command_parse(line, &c, &err) != BG_OK)
		fail_msg("%s: %s", line, err.msg);
	n = bg_scope_command_lint(&c, w, BG_SCOPE_MAX_WARNINGS);
	bg_scope_command_free(&c);
	return n;
}

static void
test_lint(void **state)
{
	bg_error w[BG_SCOPE_MAX_WARNINGS];

	(void)state;
	assert_int_equal(lint("/usr/bin/journalctl --no-pager -u postfix* --lines=[0-9]*", w), 0);
	assert_int_equal(lint("/usr/sbin/postsuper -d *", w), 0);
	assert_int_equal(lint("/usr/bin/journalctl --no-pager -n *", w), 1);
	assert_non_null(strstr(w[0].msg, "journalctl -n takes an optional argument"));
	assert_non_null(strstr(w[0].msg, "(-nVALUE)"));
	assert_int_equal(lint("/bin/journalctl --boot x", w), 1);
	assert_non_null(strstr(w[0].msg, "(--boot=VALUE)"));
	/* An option after it is no separate argument. */
	assert_int_equal(lint("/usr/bin/journalctl -n -r", w), 0);
	/* Another program's -n is its own business. */
	assert_int_equal(lint("/usr/bin/head -n *", w), 0);
	assert_int_equal(lint("/usr/bin/sed -i * **", w), 2);
	assert_non_null(strstr(w[0].msg, "sed -i takes an optional argument"));
	assert_non_null(strstr(w[1].msg, "a final \"**\""));
}

/* A scope named "test" with the given command and edit lines (NULL-terminated). */
static void
make_scope(bg_config_scope *s, char **commands, char **edits)
{
	memset(s, 0, sizeof(*s));
	s->meta.name = "test";
	s->command.items = commands;
	while (commands != NULL && commands[s->command.count] != NULL)
		s->command.count++;
	s->edit.items = edits;
	while (edits != NULL && edits[s->edit.count] != NULL)
		s->edit.count++;
	s->runas = "root";
}

static void
test_programs(void **state)
{
	char *commands[] = { "/usr/bin/true **", "/bin/id -u", NULL, NULL };
	const char *const true_argv[] = { "/bin/true" };
	const char *const true_u[] = { "true", "-u" };
	const char *const id_u[] = { "/usr/bin/id", "-u" };
	const char *const id_g[] = { "id", "-g" };
	const char *const renamed[] = { "dash", "-u" };
	char *dir = tu_mkdtemp(), *link, *prog, *line;
	bg_config_scope s;
	bg_error err;

	(void)state;
	make_scope(&s, commands, NULL);
	/* Debian is usrmerged: /bin/true and /usr/bin/true are one program. */
	assert_int_equal(bg_scope_match(&s, "/bin/true", true_argv, 1, &err), BG_OK);
	assert_int_equal(bg_scope_match(&s, "/usr/bin/true", true_u, 2, &err), BG_OK);
	assert_int_equal(bg_scope_match(&s, "/usr/bin/id", id_u, 2, &err), BG_OK);
	assert_int_equal(bg_scope_match(&s, "/usr/bin/id", id_g, 2, &err), BG_ERR_DENIED);
	assert_non_null(strstr(err.msg, "not in scope test"));
	assert_int_equal(bg_scope_match(&s, "/usr/bin/false", NULL, 0, &err), BG_ERR_DENIED);
	assert_int_equal(bg_scope_match(&s, "/nonexistent/true", true_argv, 1, &err), BG_ERR_PERM);
	assert_non_null(strstr(err.msg, "untrusted-path: /nonexistent"));
	assert_int_equal(bg_scope_match(&s, "true", true_argv, 1, &err), BG_ERR_PERM);
	assert_int_equal(bg_scope_match(&s, NULL, NULL, 0, &err), BG_ERR_PERM);
	/* argv[0] is what a multi-call program dispatches on: it must be the name. */
	assert_int_equal(bg_scope_match(&s, "/usr/bin/id", renamed, 2, &err), BG_ERR_DENIED);
	assert_non_null(strstr(err.msg, "argv[0] dash does not name the program id"));
	assert_int_equal(bg_scope_match(&s, "/usr/bin/id", NULL, 0, &err), BG_ERR_DENIED);

	/* A symlink is refused as given, whatever it points to now. */
	link = tu_path(dir, "true-link");
	assert_int_equal(symlink("/usr/bin/true", link), 0);
	assert_int_equal(bg_scope_match(&s, link, true_argv, 1, &err), BG_ERR_PERM);
	assert_non_null(strstr(err.msg, "untrusted-path: "));

	/* A scope line naming a link is another name: it never matches the target. */
	free(link);
	link = tu_path(dir, "false-link");
	assert_int_equal(symlink("/usr/bin/false", link), 0);
	commands[2] = link;
	make_scope(&s, commands, NULL);
	assert_int_equal(bg_scope_match(&s, "/usr/bin/false",
	    (const char *const[]){ "false" }, 1, &err), BG_ERR_DENIED);
	free(link);

	/* A program others can write, or in a directory others can write, is refused. */
	prog = tu_write(dir, "prog", 0755, "#!/bin/sh\n");
	if (asprintf(&line, "%s **", prog) < 0)
		abort();
	commands[2] = line;
	make_scope(&s, commands, NULL);
	assert_int_equal(chmod(prog, 0757), 0);
	assert_int_equal(bg_scope_match(&s, prog, (const char *const[]){ "prog" }, 1, &err),
	    BG_ERR_PERM);
	assert_non_null(strstr(err.msg, "untrusted-path: "));
	if (geteuid() == 0) {
		assert_int_equal(chmod(prog, 0755), 0);
		/* The test directory is under a world-writable /tmp (or $TMPDIR). */
		assert_int_equal(bg_scope_match(&s, prog, (const char *const[]){ "prog" }, 1, &err),
		    BG_ERR_PERM);
		assert_non_null(strstr(err.msg, "writable by group or others"));
	}

	/* A scope line that does not parse refuses. */
	commands[2] = "/bin/ls \"unterminated";
	make_scope(&s, commands, NULL);
	assert_int_equal(bg_scope_match(&s, "/bin/ls", (const char *const[]){ "ls" }, 1, &err),
	    BG_ERR_INVALID);
	tu_rmtree(dir);
	free(line);
	free(prog);
	free(dir);
}

static void
test_edit(void **state)
{
	char *dir = tu_mkdtemp(), *conf = tu_path(dir, "conf"), *glob, *p, *link, *other;
	char *edits[] = { NULL, NULL };
	bg_config_scope s;
	bg_error err;

	(void)state;
	assert_int_equal(mkdir(conf, 0755), 0);
	if (asprintf(&glob, "%s/*.cf", conf) < 0)
		abort();
	edits[0] = glob;
	make_scope(&s, NULL, edits);

	p = tu_path(conf, "main.cf");
	/* New and existing files alike. */
	assert_int_equal(bg_scope_match_edit(&s, p, "/", &err), BG_OK);
	free(tu_write(conf, "main.cf", 0644, "x"));
	assert_int_equal(bg_scope_match_edit(&s, p, "/", &err), BG_OK);
	assert_int_equal(bg_scope_match_edit(&s, "main.cf", conf, &err), BG_OK);
	assert_int_equal(bg_scope_match_edit(&s, "main.cf", NULL, &err), BG_ERR_DENIED);
	free(p);
	/* FNM_PATHNAME: '*' does not reach into a subdirectory. */
	p = tu_path(conf, "sub");
	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
	p = tu_path(conf, "sub/x.cf");
	assert_int_equal(bg_scope_match_edit(&s, p, "/", &err), BG_ERR_DENIED);
	free(p);
	/* ".." is resolved before matching. */
	p = tu_path(conf, "sub/../../secret.cf");
	assert_int_equal(bg_scope_match_edit(&s, p, "/", &err), BG_ERR_DENIED);
	free(p);
	p = tu_path(conf, "sub/../main.cf");
	assert_int_equal(bg_scope_match_edit(&s, p, "/", &err), BG_OK);
	free(p);
	p = tu_path(conf, "..");
	assert_int_equal(bg_scope_match_edit(&s, p, "/", &err), BG_ERR_DENIED);
	free(p);
	assert_int_equal(bg_scope_match_edit(&s, "/etc/shadow", "/", &err), BG_ERR_DENIED);
	assert_non_null(strstr(err.msg, "not editable"));

	/* A symlinked name is refused even when its name matches. */
	other = tu_write(dir, "secret", 0600, "x");
	link = tu_path(conf, "evil.cf");
	assert_int_equal(symlink(other, link), 0);
	assert_int_equal(bg_scope_match_edit(&s, link, "/", &err), BG_ERR_DENIED);
	free(link);
	/* A symlinked directory is resolved: it must lead back into the glob. */
	link = tu_path(dir, "alias");
	assert_int_equal(symlink(conf, link), 0);
	free(link);
	link = tu_path(dir, "alias/main.cf");
	assert_int_equal(bg_scope_match_edit(&s, link, "/", &err), BG_OK);
	free(link);
	link = tu_path(conf, "up");
	assert_int_equal(symlink(dir, link), 0);
	free(link);
	link = tu_path(conf, "up/x.cf");
	assert_int_equal(bg_scope_match_edit(&s, link, "/", &err), BG_ERR_DENIED);
	free(link);
	tu_rmtree(dir);
	free(other);
	free(glob);
	free(conf);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_lint),
		cmocka_unit_test(test_programs),
		cmocka_unit_test(test_edit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
