/* The fuzz targets' scratch directory and helpers (see fuzz.h). */
#include "build_config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "fuzz.h"

#define FTW_MAX_FDS 16

static char scratch[PATH_MAX];

/* A test-only key pair: the fuzz targets' approval service. */
static const char service_priv[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIDmUZyvLUgViisCfyBfOyXxqKPclRxgOSp8ZQmHFFjyJ\n"
    "-----END PRIVATE KEY-----\n";
static const char service_pub[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MCowBQYDK2VwAyEAII3LZGTW6zxG8UVIeJnLYLN69sIMim98SgUpTKXjtOc=\n"
    "-----END PUBLIC KEY-----\n";

static int
remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void
remove_scratch(void)
{
	nftw(scratch, remove_entry, FTW_MAX_FDS, FTW_DEPTH | FTW_PHYS);
}

void
fz_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("fuzz: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	abort();
}

const char *
fz_dir(void)
{
	const char *tmp = getenv("TMPDIR");

	if (scratch[0] != '\0')
		return scratch;
	if (tmp == NULL || tmp[0] != '/')
		tmp = "/tmp";
	if (snprintf(scratch, sizeof(scratch), "%s/bg-fuzz.XXXXXX", tmp) >=
	    (int)sizeof(scratch) || mkdtemp(scratch) == NULL)
		fz_fail("cannot create a scratch directory under %s", tmp);
	atexit(remove_scratch);
	return scratch;
}

void
fz_path(const char *name, char *out)
{
	if (snprintf(out, PATH_MAX, "%s/%s", fz_dir(), name) >= PATH_MAX)
		fz_fail("path too long: %s", name);
}

void
fz_write(const char *name, const void *data, size_t len, mode_t mode)
{
	char path[PATH_MAX];
	const char *p = data;
	int fd;

	fz_path(name, path);
	if (unlink(path) != 0 && errno != ENOENT)
		fz_fail("%s: unlink: %s", path, strerror(errno));
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0 || fchmod(fd, mode) != 0)
		fz_fail("%s: create: %s", path, strerror(errno));
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			fz_fail("%s: write: %s", path, strerror(errno));
		p += n;
		len -= (size_t)n;
	}
	if (close(fd) != 0)
		fz_fail("%s: close: %s", path, strerror(errno));
}

char *
fz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		fz_fail("out of memory");
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

void
fz_service_key(char *priv_path, char *pub_path)
{
	fz_write("service.pem", service_priv, strlen(service_priv), 0600);
	fz_write("service.pub", service_pub, strlen(service_pub), 0644);
	fz_path("service.pem", priv_path);
	fz_path("service.pub", pub_path);
}

bool
fz_json_string_is(json_object *v, const char *s)
{
	return json_object_is_type(v, json_type_string) &&
	    (size_t)json_object_get_string_len(v) == strlen(s) &&
	    memcmp(json_object_get_string(v), s, strlen(s)) == 0;
}
