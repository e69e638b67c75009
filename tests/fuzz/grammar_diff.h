/* The journal grammar's fast path compared with yajl alone (unit test and fuzz target). */
#ifndef GRAMMAR_DIFF_H
#define GRAMMAR_DIFF_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Parses line with bg_journal_parse_line and with yajl alone, reading
 * numbers as integers and as raw text, and with a reader that cancels at
 * each callback in turn: true when both accept or refuse alike with the same
 * callbacks; otherwise why says how they differ.
 */
bool gd_same(const char *line, size_t len, char *why, size_t why_len);

#endif
