/* Helpers shared by the unit tests. */
#include "build_config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

char *
tu_mkdtemp(void)
{
	const char *base = getenv("TMPDIR");
	char *path;

	if (base == NULL || *base == '\0')
		base = "/tmp";
	if (asprintf(&path, "%s/bgtest.XXXXXX", base) < 0)
		abort();
	if (mkdtemp(path) == NULL) {
		perror("mkdtemp");
		abort();
	}
	return path;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	if (remove(path) != 0 && errno != ENOENT)
		perror(path);
	return 0;
}

void
tu_rmtree(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

char *
tu_path(const char *dir, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", dir, name) < 0)
		abort();
	return p;
}

char *
tu_write(const char *dir, const char *name, mode_t mode, const char *text)
{
	char *p = tu_path(dir, name);
	int fd;
	size_t len = strlen(text);

	unlink(p);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len) {
		perror(p);
		abort();
	}
	fchmod(fd, mode);
	close(fd);
	return p;
}

char *
tu_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0;

	if (f == NULL)
		return NULL;
	for (;;) {
		char *grown = realloc(buf, n + 65536 + 1);
		size_t got;

		if (grown == NULL)
			abort();
		buf = grown;
		got = fread(buf + n, 1, 65536, f);
		n += got;
		if (got < 65536)
			break;
	}
	fclose(f);
	buf[n] = '\0';
	if (len != NULL)
		*len = n;
	return buf;
}

int
tu_server_start(const char *script, const char *const *args, pid_t *pid, int *in_fd)
{
	const char *argv[16] = { "python3", script };
	int to_child[2], from_child[2];
	size_t n = 2;
	char line[32];
	FILE *out;
	int port;

	while (args != NULL && *args != NULL && n < 15)
		argv[n++] = *args++;
	argv[n] = NULL;
	if (pipe(to_child) != 0 || pipe(from_child) != 0)
		abort();
	*pid = fork();
	if (*pid < 0)
		abort();
	if (*pid == 0) {
		dup2(to_child[0], 0);
		dup2(from_child[1], 1);
		close(to_child[1]);
		close(from_child[0]);
		execvp("python3", (char *const *)argv);
		_exit(127);
	}
	close(to_child[0]);
	close(from_child[1]);
	out = fdopen(from_child[0], "r");
	if (out == NULL || fgets(line, sizeof(line), out) == NULL)
		abort();
	fclose(out);
	port = atoi(line);
	if (port <= 0)
		abort();
	*in_fd = to_child[1];
	return port;
}

void
tu_server_stop(pid_t pid, int in_fd)
{
	int status;

	/* The server exits when its stdin closes. */
	close(in_fd);
	waitpid(pid, &status, 0);
}
