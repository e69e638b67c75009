/* Unit tests for common/killswitch.c. */
#include "build_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "killswitch.h"
#include "testutil.h"

static void
test_engage_release(void **state)
{
	char *dir = tu_mkdtemp(), *ks = tu_path(dir, "kill-switch"), *text;
	bool engaged = true;
	struct stat st;
	bg_error err;

	(void)state;
	bg_killswitch_engaged(ks, &engaged, &err);
	assert_false(engaged);

	assert_int_equal(bg_killswitch_engage(ks, "alice", "compromise \"suspected\"\n", &err),
	    BG_OK);
	bg_killswitch_engaged(ks, &engaged, &err);
	assert_true(engaged);
	assert_int_equal(lstat(ks, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	text = tu_read(ks, NULL);
	assert_non_null(strstr(text, "engaged_by=alice "));
	/* The reason is escaped onto the one line. */
	assert_non_null(strstr(text, "reason=\"compromise \\\"suspected\\\"\\x0a\"\n"));

	/* Engaging again keeps the first record. */
	assert_int_equal(bg_killswitch_engage(ks, "bob", "again", &err), BG_OK);
	free(text);
	text = tu_read(ks, NULL);
	assert_non_null(strstr(text, "engaged_by=alice "));
	free(text);

	assert_int_equal(bg_killswitch_release(ks, &err), BG_OK);
	bg_killswitch_engaged(ks, &engaged, &err);
	assert_false(engaged);
	/* Releasing a released switch is fine. */
	assert_int_equal(bg_killswitch_release(ks, &err), BG_OK);
	/* No temporary file is left behind. */
	assert_int_equal(rmdir(dir), 0);
	free(ks);
	free(dir);
}

static void
test_fail_closed(void **state)
{
	char *dir = tu_mkdtemp(), *ks = tu_path(dir, "kill-switch"), *bad;
	bool engaged = false;
	bg_error err;

	(void)state;
	/* A dangling symlink is something at the path: engaged. */
	assert_int_equal(symlink("/nonexistent/target", ks), 0);
	bg_killswitch_engaged(ks, &engaged, &err);
	assert_true(engaged);

	/* A path that cannot be examined counts as engaged, with a reason. */
	bad = tu_path(ks, "below-a-symlink-to-nothing");
	free(ks);
	ks = tu_write(dir, "file", 0644, "");
	free(bad);
	bad = tu_path(ks, "under-a-file");
	engaged = false;
	err.msg[0] = '\0';
	bg_killswitch_engaged(bad, &engaged, &err);
	assert_true(engaged);
	assert_non_null(strstr(err.msg, "under-a-file"));

	engaged = false;
	bg_killswitch_engaged(NULL, &engaged, &err);
	assert_true(engaged);

	/* Engaging where the directory is missing fails. */
	assert_int_not_equal(bg_killswitch_engage("/nonexistent/dir/ks", "a", "b", &err),
	    BG_OK);
	tu_rmtree(dir);
	free(bad);
	free(ks);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_engage_release),
		cmocka_unit_test(test_fail_closed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
