/* Scopes: matching a sudo command or a sudoedit file against a grant's scope. */
#include "build_config.h"

#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "command_path.h"
#include "escape.h"
#include "scope.h"

#define BLANKS " \t"
#define REST_PATTERN "**"

/*
 * Copies the token at *s into a fresh string: quotes are removed, a
 * backslash and the character it escapes are kept for fnmatch.  *quoted
 * tells whether the token used quotes or escapes.
 */
static bg_status
next_token(const char **s, char **out, bool *quoted, bg_error *err)
{
	const char *p = *s;
	size_t len = strlen(p);
	bool in_quotes = false;
	char *tok, *q;

	*out = NULL;
	*quoted = false;
	tok = malloc(len + 1);
	if (tok == NULL)
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	q = tok;
	for (; *p != '\0' && (in_quotes || strchr(BLANKS, *p) == NULL); p++) {
		if (*p == '"') {
			in_quotes = !in_quotes;
			*quoted = true;
			continue;
		}
		if (*p == '\\') {
			if (p[1] == '\0')
				break;
			*quoted = true;
			*q++ = *p++;
		}
		*q++ = *p;
	}
	*q = '\0';
	if (in_quotes || *p == '\\') {
		free(tok);
		return bg_error_set(err, BG_ERR_INVALID, in_quotes ?
		    "unterminated double quote" : "a backslash ends the line");
	}
	*s = p;
	*out = tok;
	return BG_OK;
}

static bg_status
add_pattern(bg_scope_command *c, char *tok, bool quoted, bool last, bg_error *err)
{
	if (!quoted && strcmp(tok, REST_PATTERN) == 0) {
		free(tok);
		if (!last)
			return bg_error_set(err, BG_ERR_INVALID,
			    "\"**\" may only be the last pattern");
		c->rest = true;
		return BG_OK;
	}
	if (c->npatterns == BG_SCOPE_MAX_PATTERNS) {
		free(tok);
		return bg_error_set(err, BG_ERR_INVALID, "more than %d argument patterns",
		    BG_SCOPE_MAX_PATTERNS);
	}
	c->patterns[c->npatterns++] = tok;
	return BG_OK;
}

bg_status
bg_scope_command_parse(const char *line, bg_scope_command *c, bg_error *err)
{
	const char *s = line + strspn(line, BLANKS);
	bg_status rc;
	bool quoted;
	char *tok;

	memset(c, 0, sizeof(*c));
	rc = next_token(&s, &c->path, &quoted, err);
	if (rc != BG_OK)
		return rc;
	if (c->path[0] != '/' || quoted) {
		bg_scope_command_free(c);
		return bg_error_set(err, BG_ERR_INVALID,
		    "the command must start with an absolute path, unquoted");
	}
	for (s += strspn(s, BLANKS); *s != '\0'; s += strspn(s, BLANKS)) {
		rc = next_token(&s, &tok, &quoted, err);
		if (rc == BG_OK)
			rc = add_pattern(c, tok, quoted, s[strspn(s, BLANKS)] == '\0', err);
		if (rc != BG_OK) {
			bg_scope_command_free(c);
			return rc;
		}
	}
	return BG_OK;
}

void
bg_scope_command_free(bg_scope_command *c)
{
	free(c->path);
	for (size_t i = 0; i < c->npatterns; i++)
		free(c->patterns[i]);
	memset(c, 0, sizeof(*c));
}

/*
 * Options are not arguments: "*" must never let "--vacuum-time=1s" through
 * where an argument was meant, so only a pattern that itself begins with
 * '-' matches an argument that does.
 */
static bool
pattern_match(const char *pattern, const char *arg)
{
	if (arg[0] == '-' && pattern[0] != '-')
		return false;
	return fnmatch(pattern, arg, 0) == 0;
}

bool
bg_scope_args_match(const bg_scope_command *c, const char *const *args, size_t nargs)
{
	if (c->rest ? nargs < c->npatterns : nargs != c->npatterns)
		return false;
	for (size_t i = 0; i < c->npatterns; i++)
		if (!pattern_match(c->patterns[i], args[i]))
			return false;
	return true;
}

/* The last component of a path. */
static const char *
base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash != NULL ? slash + 1 : path;
}

/*
 * Options that take an optional argument, per program, from the programs'
 * own option tables (journalctl of systemd 252, GNU sed and grep): their
 * argument must be attached (-n5, --lines=5), so a separate word after them
 * is a separate argument to the program, not the option's value.
 */
static const struct {
	const char *program;
	const char *const options[8];
} optional_argument_options[] = {
	{ "journalctl", { "-b", "--boot", "-n", "--lines", "--case-sensitive", NULL } },
	{ "sed", { "-i", "--in-place", NULL } },
	{ "grep", { "--color", "--colour", NULL } },
};

static bool
takes_optional_argument(const char *program, const char *option)
{
	for (size_t i = 0; i < sizeof(optional_argument_options) /
	    sizeof(optional_argument_options[0]); i++) {
		if (strcmp(optional_argument_options[i].program, program) != 0)
			continue;
		for (size_t j = 0; optional_argument_options[i].options[j] != NULL; j++)
			if (strcmp(optional_argument_options[i].options[j], option) == 0)
				return true;
	}
	return false;
}

size_t
bg_scope_command_lint(const bg_scope_command *c, bg_error *warnings, size_t max)
{
	const char *program = base_name(c->path);
	size_t n = 0;

	for (size_t i = 1; i < c->npatterns && n < max; i++) {
		if (c->patterns[i][0] == '-' || !takes_optional_argument(program,
		    c->patterns[i - 1]))
			continue;
		bg_error_set(&warnings[n++], BG_ERR_INVALID,
		    "%s %s takes an optional argument, whose value must be attached (%s%sVALUE): "
		    "%s may read \"%s\" after it as a separate argument", program,
		    c->patterns[i - 1], c->patterns[i - 1],
		    c->patterns[i - 1][1] == '-' ? "=" : "", program, c->patterns[i]);
	}
	if (c->rest && n < max)
		bg_error_set(&warnings[n++], BG_ERR_INVALID,
		    "a final \"**\" lets any further arguments through, options included: "
		    "list the arguments the incident needs instead");
	return n;
}

/*
 * Whether the scope line's program is the trusted program at canonical.
 * Multi-call programs dispatch on their name, so a link to the same file
 * under another name (/usr/sbin/halt -> systemctl) is another program.
 */
static bool
same_program(const char *canonical, const char *scope_path)
{
	char resolved[PATH_MAX];

	/* A scope program that does not exist here can match nothing. */
	return realpath(scope_path, resolved) != NULL && strcmp(resolved, canonical) == 0 &&
	    strcmp(base_name(scope_path), base_name(canonical)) == 0;
}

bg_status
bg_scope_match(const bg_config_scope *scope, const char *command,
    const char *const *argv, size_t argc, bg_error *err)
{
	char canonical[PATH_MAX], shown[BG_ERROR_MAX / 4];
	bg_status rc;

	rc = bg_command_path_check(command, canonical, sizeof(canonical), err);
	if (rc != BG_OK)
		return rc;
	/* What the program sees as its name is what it dispatches on. */
	if (argc == 0 || argv[0] == NULL ||
	    strcmp(base_name(argv[0]), base_name(canonical)) != 0) {
		bg_escape_printable(argc == 0 || argv[0] == NULL ? "(none)" : argv[0], shown,
		    sizeof(shown));
		return bg_error_set(err, BG_ERR_DENIED,
		    "argv[0] %s does not name the program %s", shown, base_name(canonical));
	}
	for (size_t i = 0; i < scope->command.count; i++) {
		bg_scope_command c;
		bool match;

		rc = bg_scope_command_parse(scope->command.items[i], &c, err);
		if (rc != BG_OK) {
			bg_error_prefix(err, "scope %s", scope->meta.name);
			return rc;
		}
		match = same_program(canonical, c.path) &&
		    bg_scope_args_match(&c, argv + 1, argc - 1);
		bg_scope_command_free(&c);
		if (match)
			return BG_OK;
	}
	return bg_error_set(err, BG_ERR_DENIED, "command not in scope %s", scope->meta.name);
}

/* dir + "/" + name, or name alone when absolute. */
static bg_status
absolute_name(const char *file, const char *cwd, char *out, size_t outsz, bg_error *err)
{
	int n;

	if (file[0] == '/')
		n = snprintf(out, outsz, "%s", file);
	else if (cwd != NULL && cwd[0] == '/')
		n = snprintf(out, outsz, "%s/%s", cwd, file);
	else
		return bg_error_set(err, BG_ERR_DENIED, "%s: relative name without a directory",
		    file);
	if (n < 0 || (size_t)n >= outsz)
		return bg_error_set(err, BG_ERR_DENIED, "%s: path too long", file);
	return BG_OK;
}

/* The file's path with its directory resolved; the name itself must not be a link. */
static bg_status
canonical_edit_path(const char *file, const char *cwd, char *out, size_t outsz,
    bg_error *err)
{
	char abs[PATH_MAX], dir[PATH_MAX];
	const char *name;
	struct stat st;
	char *slash;
	bg_status rc;
	int n;

	rc = absolute_name(file, cwd, abs, sizeof(abs), err);
	if (rc != BG_OK)
		return rc;
	slash = strrchr(abs, '/');
	name = slash + 1;
	if (*name == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return bg_error_set(err, BG_ERR_DENIED, "%s: not a file name", file);
	*slash = '\0';
	if (realpath(slash == abs ? "/" : abs, dir) == NULL)
		return bg_error_errno(err, BG_ERR_DENIED, errno, "%s: directory", file);
	n = snprintf(out, outsz, "%s/%s", strcmp(dir, "/") == 0 ? "" : dir, name);
	if (n < 0 || (size_t)n >= outsz)
		return bg_error_set(err, BG_ERR_DENIED, "%s: path too long", file);
	if (lstat(out, &st) == 0 && S_ISLNK(st.st_mode))
		return bg_error_set(err, BG_ERR_DENIED, "%s: a symbolic link", file);
	return BG_OK;
}

bg_status
bg_scope_match_edit(const bg_config_scope *scope, const char *file, const char *cwd,
    bg_error *err)
{
	char path[PATH_MAX];
	bg_status rc;

	rc = canonical_edit_path(file, cwd, path, sizeof(path), err);
	if (rc != BG_OK)
		return rc;
	for (size_t i = 0; i < scope->edit.count; i++)
		if (fnmatch(scope->edit.items[i], path, FNM_PATHNAME) == 0)
			return BG_OK;
	return bg_error_set(err, BG_ERR_DENIED, "%s is not editable in scope %s", path,
	    scope->meta.name);
}
