/*
 * The journal files, K_1 and key state that `verify` and `report` work on:
 * the files named on the command line, or the configured journal with its
 * rotated predecessors (journal.jsonl.N, oldest first) and its key state.
 */
#include "build_config.h"

#include <dirent.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

struct rotated {
	unsigned long n;
	char *path;
};

static int
rotated_newest_last(const void *a, const void *b)
{
	const struct rotated *ra = a, *rb = b;

	/* logrotate's .1 is the newest rotated file: higher numbers come first. */
	return ra->n < rb->n ? 1 : ra->n > rb->n ? -1 : 0;
}

static bool
add_file(struct bg_cli_journals *j, const char *path)
{
	char **grown = realloc(j->files, (j->nfiles + 1) * sizeof(*j->files));

	if (grown == NULL)
		return false;
	j->files = grown;
	j->files[j->nfiles] = strdup(path);
	return j->files[j->nfiles++] != NULL;
}

/* journal.jsonl.1, .2, ... beside the journal; compressed ones are not read. */
static bool
add_rotated(struct bg_cli_journals *j, const char *journal)
{
	char dir_buf[PATH_MAX], base_buf[PATH_MAX];
	struct rotated *found = NULL;
	size_t nfound = 0, base_len;
	const char *dir, *base;
	struct dirent *de;
	bool ok = true;
	DIR *d;

	snprintf(dir_buf, sizeof(dir_buf), "%s", journal);
	snprintf(base_buf, sizeof(base_buf), "%s", journal);
	dir = dirname(dir_buf);
	base = basename(base_buf);
	base_len = strlen(base);
	d = opendir(dir);
	if (d == NULL)
		return true;  /* the journal itself will report the problem */
	while (ok && (de = readdir(d)) != NULL) {
		char *end, path[PATH_MAX];
		unsigned long n;
		struct rotated *grown;

		if (strncmp(de->d_name, base, base_len) != 0 || de->d_name[base_len] != '.' ||
		    de->d_name[base_len + 1] < '1' || de->d_name[base_len + 1] > '9')
			continue;
		n = strtoul(de->d_name + base_len + 1, &end, 10);
		if (*end != '\0')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		grown = realloc(found, (nfound + 1) * sizeof(*found));
		ok = grown != NULL;
		if (ok) {
			found = grown;
			found[nfound].n = n;
			found[nfound].path = strdup(path);
			ok = found[nfound++].path != NULL;
		}
	}
	closedir(d);
	if (nfound > 1)
		qsort(found, nfound, sizeof(*found), rotated_newest_last);
	for (size_t i = 0; i < nfound; i++) {
		ok = ok && add_file(j, found[i].path);
		free(found[i].path);
	}
	free(found);
	return ok;
}

bg_status
bg_cli_journals_open(const struct bg_cli *cli, int nargs, char **args, const char *key_path,
    const char *state_path, struct bg_cli_journals *j, const char *who)
{
	bg_error err;
	bool ok = true;

	memset(j, 0, sizeof(*j));
	if (nargs == 0) {
		if (bg_cli_load_config(cli, &j->cfg) != BG_OK)
			return BG_ERR_INVALID;
		j->have_cfg = true;
		if (bg_audit_init(&j->audit, &j->cfg, &err) != BG_OK)
			goto fail;
		ok = add_rotated(j, j->cfg.general.journal) && add_file(j, j->cfg.general.journal);
		if (state_path == NULL)
			state_path = j->audit.state_path;
	}
	for (int i = 0; ok && i < nargs; i++)
		ok = add_file(j, args[i]);
	if (!ok) {
		bg_error_set(&err, BG_ERR_NOMEM, "out of memory");
		goto fail;
	}
	if (key_path != NULL) {
		if (bg_key_file_read(key_path, j->k1, &err) != BG_OK)
			goto fail;
		j->have_key = true;
	}
	if (state_path != NULL) {
		if (bg_journal_state_read_live(state_path, &j->state, &err) != BG_OK)
			goto fail;
		j->have_state = true;
	}
	return BG_OK;
fail:
	fprintf(stderr, "breakglass: %s: ", who);
	bg_cli_print_escaped(stderr, "", err.msg);
	bg_cli_journals_close(j);
	return BG_ERR_INVALID;
}

bg_status
bg_cli_journals_verify(struct bg_cli_journals *j, bool partial, bg_verify_result *res)
{
	return bg_journal_verify_from((const char *const *)j->files, j->nfiles,
	    j->have_key ? j->k1 : NULL, j->have_state ? &j->state : NULL, partial, res);
}

void
bg_cli_journals_close(struct bg_cli_journals *j)
{
	for (size_t i = 0; i < j->nfiles; i++)
		free(j->files[i]);
	free(j->files);
	if (j->have_cfg)
		bg_config_free(&j->cfg);
	explicit_bzero(j, sizeof(*j));
}
