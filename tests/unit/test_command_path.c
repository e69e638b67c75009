/* Unit tests for common/command_path.c: trusting a command path as given. */
#include "build_config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "command_path.h"
#include "testutil.h"

static void
expect_trusted(const char *path, const char *canonical)
{
	char out[PATH_MAX];
	bg_error err;

	if (bg_command_path_check(path, out, sizeof(out), &err) != BG_OK)
		fail_msg("%s: %s", path, err.msg);
	assert_string_equal(out, canonical);
}

static void
expect_untrusted(const char *path, const char *why)
{
	char out[PATH_MAX];
	bg_error err;

	assert_int_equal(bg_command_path_check(path, out, sizeof(out), &err), BG_ERR_PERM);
	assert_non_null(strstr(err.msg, "untrusted-path: "));
	if (strstr(err.msg, why) == NULL)
		fail_msg("%s: want \"%s\" in \"%s\"", path ? path : "(null)", why, err.msg);
}

static void
test_system_paths(void **state)
{
	struct stat st;

	(void)state;
	expect_trusted("/usr/bin/true", "/usr/bin/true");
	expect_trusted("//usr///bin/true", "/usr/bin/true");
	/* The merged-/usr links at the top are the distribution's, and root's. */
	if (lstat("/bin", &st) == 0 && S_ISLNK(st.st_mode))
		expect_trusted("/bin/true", "/usr/bin/true");
	if (lstat("/sbin", &st) == 0 && S_ISLNK(st.st_mode) && access("/sbin/ldconfig", F_OK) == 0)
		expect_trusted("/sbin/ldconfig", "/usr/sbin/ldconfig");
	expect_untrusted(NULL, "not an absolute path");
	expect_untrusted("true", "not an absolute path");
	expect_untrusted("/", "not a regular file");
	expect_untrusted("/usr/bin", "not a regular file");
	expect_untrusted("/usr/bin/", "not a regular file");
	expect_untrusted("/usr/bin/../bin/true", "\"..\"");
	expect_untrusted("/usr/./bin/true", "\".\"");
	expect_untrusted("/usr/bin/true/x", "not a directory");
	expect_untrusted("/nonexistent/true", "/nonexistent: No such file");
	/* A link to a program is another name for it: refused. */
	if (lstat("/usr/sbin/halt", &st) == 0 && S_ISLNK(st.st_mode))
		expect_untrusted("/usr/sbin/halt", "/usr/sbin/halt: a symbolic link");
}

/* Under the tests' /tmp, writable by others, nothing is trusted. */
static void
test_under_tmp(void **state)
{
	char *dir = tu_mkdtemp(), *link, *prog;

	(void)state;
	link = tu_path(dir, "x");
	assert_int_equal(symlink("/usr/bin/id", link), 0);
	expect_untrusted(link, "");
	prog = tu_write(dir, "prog", 0755, "#!/bin/sh\n");
	expect_untrusted(prog, "");
	tu_rmtree(dir);
	free(prog);
	free(link);
	free(dir);
}

/*
 * The account's own links and each component on its own, in a tree only
 * root can write (so the component named is the one at fault).
 */
static void
test_each_component(void **state)
{
	char base[] = "/run/bgtest-cmdpath.XXXXXX";
	char *prog, *good, *sub, *link, *dirlink, *inner, *toplike;

	(void)state;
	if (geteuid() != 0 || mkdtemp(base) == NULL)
		skip();
	assert_int_equal(chmod(base, 0755), 0);
	/* The account's link, pointing at an allowed program. */
	link = tu_path(base, "x");
	assert_int_equal(symlink("/usr/bin/id", link), 0);
	expect_untrusted(link, "x: a symbolic link");
	/* A directory link in the middle, even to a root directory. */
	dirlink = tu_path(base, "bin");
	assert_int_equal(symlink("/usr/bin", dirlink), 0);
	inner = tu_path(dirlink, "true");
	expect_untrusted(inner, "bin: a symbolic link");
	/* A link named like a merged-/usr link, but not at the top. */
	toplike = tu_path(base, "lib");
	assert_int_equal(symlink("usr/lib", toplike), 0);
	free(toplike);
	toplike = tu_path(base, "lib/x");
	expect_untrusted(toplike, "lib: a symbolic link");
	good = tu_write(base, "prog", 0755, "#!/bin/sh\n");
	expect_trusted(good, good);
	assert_int_equal(chmod(base, 0775), 0);
	expect_untrusted(good, "writable by group or others");
	assert_int_equal(chmod(base, 0755), 0);
	assert_int_equal(chmod(good, 0757), 0);
	expect_untrusted(good, "prog: writable by group or others");
	assert_int_equal(chmod(good, 0755), 0);
	assert_int_equal(chown(good, 1, 0), 0);
	expect_untrusted(good, "prog: owned by uid 1");
	sub = tu_path(base, "sub");
	assert_int_equal(mkdir(sub, 0755), 0);
	assert_int_equal(chown(sub, 1, 0), 0);
	prog = tu_write(sub, "prog", 0755, "#!/bin/sh\n");
	expect_untrusted(prog, "sub: owned by uid 1");
	tu_rmtree(base);
	free(toplike);
	free(inner);
	free(dirlink);
	free(link);
	free(prog);
	free(sub);
	free(good);
}

/* Names reach the journal and a terminal: control bytes come back escaped. */
static void
test_escaped(void **state)
{
	char out[PATH_MAX];
	bg_error err;

	(void)state;
	assert_int_equal(bg_command_path_check("/nonexistent\n\x1b[2J", out, sizeof(out), &err),
	    BG_ERR_PERM);
	assert_null(strchr(err.msg, '\n'));
	assert_null(strchr(err.msg, '\x1b'));
	assert_non_null(strstr(err.msg, "\\x0a"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_system_paths),
		cmocka_unit_test(test_under_tmp),
		cmocka_unit_test(test_each_component),
		cmocka_unit_test(test_escaped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
