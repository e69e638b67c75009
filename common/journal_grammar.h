/*
 * The grammar the journal is read with: one strict JSON parser (yajl, no
 * comments, nothing after the object, valid UTF-8 required) for every
 * reader of the journal, the verifier and the report alike.  Lines in the
 * writer's own shape are read without yajl's per-line setup; they are a
 * subset of what yajl accepts, reported with the same callbacks, and
 * everything else is yajl's to accept or refuse.
 */
#ifndef BG_JOURNAL_GRAMMAR_H
#define BG_JOURNAL_GRAMMAR_H

#include <stdbool.h>
#include <stddef.h>

#include <yajl/yajl_parse.h>

/*
 * Parses one line, calling cb with ctx; true if it is one complete JSON
 * text.  A line that leaves the writer's shape after some callbacks is read
 * again by yajl from the start, after restart(ctx); restart is never called
 * (and may be NULL) when cb has no callback.
 */
bool bg_journal_parse_line(const yajl_callbacks *cb, void (*restart)(void *ctx), void *ctx,
    const char *line, size_t len);

/* The same with yajl alone: what the tests compare the shape's fast path with. */
bool bg_journal_parse_line_yajl(const yajl_callbacks *cb, void *ctx, const char *line,
    size_t len);

#endif
