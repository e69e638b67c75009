/*
 * Replays fuzz inputs through a target's LLVMFuzzerTestOneInput without
 * libFuzzer, so `make check` (plain and sanitizer builds) re-runs every
 * kept crash and the seed corpus.  Arguments are files or directories; with
 * none, the target's regressions/ and corpus/ directories under the source
 * tree (FUZZ_TARGET names the target).
 */
#include "build_config.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* The largest input any target is run with (see run.sh). */
#define REPLAY_MAX_INPUT (256 * 1024)

static int
replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	uint8_t *data;
	size_t len;

	if (f == NULL || fstat(fileno(f), &st) != 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		if (f != NULL)
			fclose(f);
		return 1;
	}
	len = (size_t)st.st_size < REPLAY_MAX_INPUT ? (size_t)st.st_size : REPLAY_MAX_INPUT;
	/* Exactly the input's size, so a read past its end is caught by ASan. */
	if ((data = malloc(len > 0 ? len : 1)) == NULL || fread(data, 1, len, f) != len) {
		fprintf(stderr, "replay: %s: cannot read\n", path);
		free(data);
		fclose(f);
		return 1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(data, len);
	free(data);
	return 0;
}

/* Replays every regular file in dir, in name order; *count gets how many. */
static int
replay_dir(const char *dir, unsigned *count)
{
	struct dirent **list;
	int n, failed = 0;

	if ((n = scandir(dir, &list, NULL, alphasort)) < 0) {
		/* A target may have no regressions yet. */
		if (errno == ENOENT)
			return 0;
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	for (int i = 0; i < n; i++) {
		char path[PATH_MAX];
		struct stat st;

		if (snprintf(path, sizeof(path), "%s/%s", dir, list[i]->d_name) <
		    (int)sizeof(path) && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			failed |= replay_file(path);
			(*count)++;
		}
		free(list[i]);
	}
	free(list);
	return failed;
}

static int
replay_path(const char *path, unsigned *count)
{
	struct stat st;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return replay_dir(path, count);
	(*count)++;
	return replay_file(path);
}

int
main(int argc, char **argv)
{
	static const char *const defaults[] = { "regressions", "corpus" };
	unsigned count = 0;
	int failed = 0;

	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			failed |= replay_path(argv[i], &count);
	} else {
		for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
			char dir[PATH_MAX];

			snprintf(dir, sizeof(dir), "%s/fuzz/%s/%s", BG_TEST_SRCDIR,
			    defaults[i], FUZZ_TARGET);
			failed |= replay_dir(dir, &count);
		}
	}
	printf("replay %s: %u inputs\n", FUZZ_TARGET, count);
	return failed;
}
