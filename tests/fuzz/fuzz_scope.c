/*
 * The scope matcher.  The input is lines: a scope `command =` line, a
 * sudoedit glob, then the arguments of a command (at most
 * BG_SCOPE_MAX_PATTERNS + 2 of them).  The command line is split and
 * matched against the arguments, the whole scope is matched against the
 * program it names, and each argument is tried as a file to sudoedit from
 * the scratch directory.  A command whose patterns hold no fnmatch
 * special character must match arguments equal to its patterns.
 */
#include "build_config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "scope.h"

#define MAX_ARGS (BG_SCOPE_MAX_PATTERNS + 2)
#define MAX_EDITS 4

/* Splits text in place at newlines into at most max lines. */
static size_t
split_lines(char *text, char **lines, size_t max)
{
	size_t n = 0;

	while (n < max && text != NULL) {
		char *nl = strchr(text, '\n');

		if (nl != NULL)
			*nl = '\0';
		lines[n++] = text;
		text = nl != NULL ? nl + 1 : NULL;
	}
	return n;
}

/* Whether every pattern is plain text (fnmatch() would match it only to itself). */
static bool
literal(const bg_scope_command *c)
{
	for (size_t i = 0; i < c->npatterns; i++)
		if (strpbrk(c->patterns[i], "*?[\\") != NULL)
			return false;
	return true;
}

static void
match_command(char *line, const char *const *args, size_t nargs)
{
	char *lines[] = { line };
	unsigned numbers[] = { 1 };
	bg_config_scope scope;
	bg_scope_command c;
	bg_error err;

	if (bg_scope_command_parse(line, &c, &err) != BG_OK)
		return;
	if (bg_scope_args_match(&c, args, nargs))
		for (size_t i = 0; i < c.npatterns; i++)
			if (args[i][0] == '-' && c.patterns[i][0] != '-')
				fz_fail("[%s] let option \"%s\" through pattern \"%s\"", line,
				    args[i], c.patterns[i]);
	if (literal(&c) && !bg_scope_args_match(&c, (const char *const *)c.patterns,
	    c.npatterns))
		fz_fail("[%s] does not match its own literal arguments", line);
	memset(&scope, 0, sizeof(scope));
	scope.meta.name = "fuzz";
	scope.command.items = lines;
	scope.command.count = 1;
	scope.command.lines = numbers;
	/* args[0] stands for argv[0]. */
	(void)bg_scope_match(&scope, c.path, args, nargs, &err);
	bg_scope_command_free(&c);
}

static void
match_edits(char *glob, const char *const *files, size_t nfiles)
{
	char *globs[] = { glob };
	bg_config_scope scope;
	bg_error err;

	memset(&scope, 0, sizeof(scope));
	scope.meta.name = "fuzz";
	scope.edit.items = globs;
	scope.edit.count = 1;
	for (size_t i = 0; i < nfiles && i < MAX_EDITS; i++)
		(void)bg_scope_match_edit(&scope, files[i], fz_dir(), &err);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fz_strndup(data, size), *lines[2 + MAX_ARGS];
	size_t n = split_lines(text, lines, sizeof(lines) / sizeof(lines[0]));
	const char *const *args = (const char *const *)lines + 2;
	size_t nargs = n > 2 ? n - 2 : 0;

	if (n >= 1)
		match_command(lines[0], args, nargs);
	if (n >= 2)
		match_edits(lines[1], args, nargs);
	free(text);
	return 0;
}
