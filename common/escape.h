/* Escaping untrusted text for syslog key=value lines and terminals. */
#ifndef BG_ESCAPE_H
#define BG_ESCAPE_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/*
 * Appends value to b as a key=value value: bare when it is non-empty and made
 * only of printable ASCII other than space, '"', '\\' and '='; otherwise
 * double-quoted with '"' and '\\' backslash-escaped and every control or
 * non-ASCII byte written as \xNN.  No input can produce a second field.
 */
bool bg_escape_kv_value(bg_buf *b, const char *value);

/*
 * Copies s into out (size outsz) with "\\" doubled and every control and
 * non-ASCII byte as
 * \xNN, for printing untrusted text to a terminal.  Always NUL-terminates.
 */
void bg_escape_printable(const char *s, char *out, size_t outsz);

/*
 * Returns a malloc()ed copy of at most max bytes of s in which every byte
 * that is not part of valid UTF-8 is replaced by U+FFFD, so every JSON
 * parser reads the journal the same way.  A sequence is never cut in half;
 * *truncated tells whether s was longer than max.  NULL on allocation failure.
 */
char *bg_utf8_sanitize(const char *s, size_t max, bool *truncated);

#endif
