/*
 * Scopes: what a grant lets a break-glass account run through sudo.
 *
 * A scope command line is an absolute program path followed by argument
 * patterns, separated by blanks.  Double quotes keep blanks inside one
 * pattern ("a b"); a backslash escapes the next character, both for this
 * splitter and for fnmatch(3), which sees it unchanged (\* is a literal
 * star, \" a literal quote).  A command matches when its path is trusted
 * as given (command_path.h: only the merged-/usr links at the top, so /bin
 * and /usr/bin agree), its name and argv[0]'s equal the scope program's, and
 * each argument matches the pattern at its position with fnmatch(pattern,
 * arg, 0): '*' matches any characters inside one argument and never spans
 * two, and an argument beginning with '-' (an option) only matches a
 * pattern that begins with '-'.  The argument counts must be equal, except
 * that an unquoted final "**" matches any remaining arguments, including none.
 */
#ifndef BG_SCOPE_H
#define BG_SCOPE_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "status.h"

#define BG_SCOPE_MAX_PATTERNS 64
#define BG_SCOPE_MAX_WARNINGS 8

typedef struct {
	char *path;                              /* the program, as written */
	char *patterns[BG_SCOPE_MAX_PATTERNS];   /* argument patterns (fnmatch syntax) */
	size_t npatterns;
	bool rest;                               /* a final "**" */
} bg_scope_command;

/* Splits one `command =` line; a syntax error is BG_ERR_INVALID. */
bg_status bg_scope_command_parse(const char *line, bg_scope_command *c, bg_error *err);
void bg_scope_command_free(bg_scope_command *c);

/*
 * Writes into warnings (at most max) what makes a valid command line likely
 * to allow more than its author meant: a final "**", and a separate pattern
 * after an option that takes an optional argument (journalctl -n, sed -i,
 * ...), which the program reads as another argument.  Returns how many.
 */
size_t bg_scope_command_lint(const bg_scope_command *c, bg_error *warnings, size_t max);

/* Whether the arguments (argv[1..], nargs of them) match c's patterns. */
bool bg_scope_args_match(const bg_scope_command *c, const char *const *args, size_t nargs);

/*
 * The decision for a command sudo will execute at path command with argv
 * (argc entries, argv[0] included): BG_OK when the path is trusted as given
 * (command_path.h), argv[0]'s last component is the program's name, and one
 * of scope's commands names that program under that name with patterns the
 * arguments match.  BG_ERR_PERM ("untrusted-path: ..."), BG_ERR_DENIED (no
 * match) or BG_ERR_INVALID (a scope line that does not parse) otherwise,
 * with the reason in err.
 */
bg_status bg_scope_match(const bg_config_scope *scope, const char *command,
    const char *const *argv, size_t argc, bg_error *err);

/*
 * Whether sudoedit may edit file (relative names are taken from cwd): its
 * directory is canonicalised, the name must not be ".", ".." or a symbolic
 * link, and the resulting absolute path must match one of scope's `edit`
 * globs with FNM_PATHNAME ('*' never matches '/').  BG_ERR_DENIED otherwise.
 */
bg_status bg_scope_match_edit(const bg_config_scope *scope, const char *file,
    const char *cwd, bg_error *err);

#endif
