/* Unit tests for common/fileio.c: checked opens, capped reads, atomic replace, locks. */
#include "build_config.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fileio.h"
#include "testutil.h"

static void
test_read_ok_and_cap(void **state)
{
	char *dir = tu_mkdtemp(), *p, *data;
	size_t len;
	bg_error err;

	(void)state;
	p = tu_write(dir, "conf", 0644, "hello\n");
	assert_int_equal(bg_file_read(p, BG_FILE_CONFIG, 6, &data, &len, &err), BG_OK);
	assert_int_equal(len, 6);
	assert_string_equal(data, "hello\n");
	free(data);
	assert_int_equal(bg_file_read(p, BG_FILE_CONFIG, 5, &data, &len, &err), BG_ERR_TOOBIG);
	assert_null(data);
	assert_non_null(strstr(err.msg, p));
	free(p);
	tu_rmtree(dir);
	free(dir);
}

static void
test_symlink_refused(void **state)
{
	char *dir = tu_mkdtemp(), *p, *link, *data;
	size_t len;
	bg_error err;

	(void)state;
	p = tu_write(dir, "real", 0600, "x");
	link = tu_path(dir, "link");
	assert_int_equal(symlink(p, link), 0);
	assert_int_equal(bg_file_read(link, BG_FILE_CONFIG, 100, &data, &len, &err), BG_ERR_PERM);
	assert_non_null(strstr(err.msg, "symbolic link"));
	free(p);
	free(link);
	tu_rmtree(dir);
	free(dir);
}

static void
test_modes(void **state)
{
	static const struct { mode_t mode; bg_file_kind kind; bg_status want; } cases[] = {
		{ 0644, BG_FILE_CONFIG, BG_OK },
		{ 0600, BG_FILE_CONFIG, BG_OK },
		{ 0664, BG_FILE_CONFIG, BG_ERR_PERM },
		{ 0646, BG_FILE_CONFIG, BG_ERR_PERM },
		{ 0600, BG_FILE_SECRET, BG_OK },
		{ 0400, BG_FILE_SECRET, BG_OK },
		{ 0640, BG_FILE_SECRET, BG_ERR_PERM },
		{ 0604, BG_FILE_SECRET, BG_ERR_PERM },
	};
	char *dir = tu_mkdtemp(), *p, *data;
	size_t len;
	bg_error err;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		p = tu_write(dir, "f", 0600, "data");
		assert_int_equal(chmod(p, cases[i].mode), 0);
		assert_int_equal(bg_file_read(p, cases[i].kind, 100, &data, &len, &err), cases[i].want);
		if (cases[i].want == BG_OK)
			free(data);
		else
			assert_non_null(strstr(err.msg, "mode"));
		free(p);
	}
	tu_rmtree(dir);
	free(dir);
}

static void
test_not_regular(void **state)
{
	char *dir = tu_mkdtemp(), *data;
	size_t len;
	bg_error err;

	(void)state;
	assert_int_equal(bg_file_read(dir, BG_FILE_CONFIG, 100, &data, &len, &err), BG_ERR_PERM);
	assert_int_equal(bg_file_read("/nonexistent/x", BG_FILE_CONFIG, 100, &data, &len, &err),
	    BG_ERR_NOTFOUND);
	tu_rmtree(dir);
	free(dir);
}

static void
test_dir_check(void **state)
{
	char *dir = tu_mkdtemp(), *p;
	bg_error err;

	(void)state;
	assert_int_equal(chmod(dir, 0755), 0);
	assert_int_equal(bg_dir_check(dir, &err), BG_OK);
	assert_int_equal(chmod(dir, 0775), 0);
	assert_int_equal(bg_dir_check(dir, &err), BG_ERR_PERM);
	assert_int_equal(chmod(dir, 0700), 0);
	p = tu_write(dir, "file", 0600, "x");
	assert_int_equal(bg_dir_check(p, &err), BG_ERR_PERM);
	free(p);
	tu_rmtree(dir);
	free(dir);
}

static int
count_entries(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void
test_replace(void **state)
{
	char *dir = tu_mkdtemp(), *p, *got;
	struct stat st;
	bg_error err;

	(void)state;
	p = tu_write(dir, "state", 0600, "old");
	umask(077);
	assert_int_equal(bg_file_replace(p, "new contents", 12, 0640, &err), BG_OK);
	got = tu_read(p, NULL);
	assert_string_equal(got, "new contents");
	free(got);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	umask(022);
	free(p);
	/* Nothing but the target is left behind. */
	assert_int_equal(count_entries(dir), 1);
	/* Into a missing directory: an error, not a crash. */
	assert_int_equal(bg_file_replace("/nonexistent/dir/x", "a", 1, 0600, &err), BG_ERR_IO);
	tu_rmtree(dir);
	free(dir);
}

static void
test_stale_lock_does_not_block(void **state)
{
	char *dir = tu_mkdtemp(), *lock = tu_path(dir, "state.lock");
	int fd, status, pipefd[2];
	pid_t pid;
	char c;
	bg_error err;

	(void)state;
	/* A lock file left by an earlier run is simply reused. */
	free(tu_write(dir, "state.lock", 0600, ""));
	assert_int_equal(bg_lock_acquire(lock, BG_LOCK_WAIT_MS, &fd, &err), BG_OK);
	bg_lock_release(fd);

	/* A process that dies holding the lock does not block the next one. */
	assert_int_equal(pipe(pipefd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int cfd;

		if (bg_lock_acquire(lock, BG_LOCK_WAIT_MS, &cfd, NULL) != BG_OK)
			_exit(1);
		if (write(pipefd[1], "L", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	assert_int_equal(read(pipefd[0], &c, 1), 1);
	/* While the child holds it, a non-blocking attempt fails... */
	fd = open(lock, O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), -1);
	close(fd);
	/* ...a bounded wait gives up with a reason rather than hanging... */
	fd = 42;
	assert_int_equal(bg_lock_acquire(lock, 50, &fd, &err), BG_ERR_IO);
	assert_int_equal(fd, -1);
	assert_non_null(strstr(err.msg, "still held by another process after 50 ms"));
	/* ...and once it is killed, the lock is free again. */
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	assert_int_equal(bg_lock_acquire(lock, BG_LOCK_WAIT_MS, &fd, &err), BG_OK);
	bg_lock_release(fd);
	close(pipefd[0]);
	close(pipefd[1]);

	/* A symlinked lock file is refused. */
	unlink(lock);
	assert_int_equal(symlink("/tmp", lock), 0);
	assert_int_equal(bg_lock_acquire(lock, BG_LOCK_WAIT_MS, &fd, &err), BG_ERR_PERM);
	free(lock);
	tu_rmtree(dir);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_ok_and_cap),
		cmocka_unit_test(test_symlink_refused),
		cmocka_unit_test(test_modes),
		cmocka_unit_test(test_not_regular),
		cmocka_unit_test(test_dir_check),
		cmocka_unit_test(test_replace),
		cmocka_unit_test(test_stale_lock_does_not_block),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
