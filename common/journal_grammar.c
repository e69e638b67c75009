/* The grammar the journal is read with (see journal_grammar.h). */
#include "build_config.h"

#include <string.h>

#include "journal_grammar.h"

bool
bg_journal_parse_line_yajl(const yajl_callbacks *cb, void *ctx, const char *line, size_t len)
{
	yajl_handle h = yajl_alloc(cb, NULL, ctx);
	bool ok;

	if (h == NULL)
		return false;
	/* yajl's defaults are the strict grammar: no option is set on purpose. */
	ok = yajl_parse(h, (const unsigned char *)line, len) == yajl_status_ok &&
	    yajl_complete_parse(h) == yajl_status_ok;
	yajl_free(h);
	return ok;
}

/*
 * The writer's own shape, recognised without yajl's per-line setup and
 * byte-at-a-time lexer: a top-level object, no whitespace but one final
 * newline, strings of printable ASCII without escapes, integers of at most
 * 18 digits without sign, true, false, null, nesting at most SHAPE_DEPTH.
 * Every such text is one yajl accepts with exactly these callbacks (yajl
 * passes unescaped strings as they are in the text), so the recogniser
 * only says "yes" or "ask yajl": anything else, valid or not, goes to yajl
 * and the grammar stays yajl's.  A text is checked whole before the first
 * callback, so a text handed over to yajl has called none.
 */
enum tok { T_MAP, T_END_MAP, T_ARRAY, T_END_ARRAY, T_KEY, T_STRING, T_INT, T_TRUE, T_FALSE,
	T_NULL };

#define SHAPE_TOKENS 512
#define SHAPE_DEPTH 32

typedef struct {
	unsigned char type;
	unsigned len;
	size_t off;
	long long value;
} token;

/* The bytes a string of the shape holds: printable ASCII but " and \. */
static inline bool
plain(unsigned char c)
{
	return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

typedef struct {
	const unsigned char *s;
	size_t len, pos;
	token tape[SHAPE_TOKENS];
	unsigned n;
} shape;

static bool
emit(shape *sh, unsigned char type, size_t off, size_t len, long long value)
{
	if (sh->n == SHAPE_TOKENS)
		return false;
	sh->tape[sh->n++] = (token){ .type = type, .len = (unsigned)len, .off = off, .value = value };
	return true;
}

static bool
shape_string(shape *sh, unsigned char type)
{
	size_t start = ++sh->pos;

	while (sh->pos < sh->len && plain(sh->s[sh->pos]))
		sh->pos++;
	if (sh->pos == sh->len || sh->s[sh->pos] != '"')
		return false;
	return emit(sh, type, start, sh->pos++ - start, 0);
}

static bool
shape_int(shape *sh)
{
	size_t start = sh->pos;
	long long v = 0;

	while (sh->pos < sh->len && sh->s[sh->pos] >= '0' && sh->s[sh->pos] <= '9') {
		if (sh->pos - start == 18)
			return false;  /* longer: yajl says whether it overflows */
		v = v * 10 + (sh->s[sh->pos++] - '0');
	}
	if (sh->s[start] == '0' && sh->pos - start > 1)
		return false;
	/* Whatever follows must end the number: not a fraction or an exponent. */
	if (sh->pos < sh->len && (sh->s[sh->pos] == '.' || sh->s[sh->pos] == 'e' ||
	    sh->s[sh->pos] == 'E'))
		return false;
	return emit(sh, T_INT, start, sh->pos - start, v);
}

static bool
shape_word(shape *sh, const char *word, unsigned char type)
{
	size_t n = strlen(word);

	if (sh->len - sh->pos < n || memcmp(sh->s + sh->pos, word, n) != 0)
		return false;
	sh->pos += n;
	return emit(sh, type, 0, 0, 0);
}

static bool shape_value(shape *sh, int depth);

/* An object or an array: open, members separated by commas, close. */
static bool
shape_container(shape *sh, int depth, bool map)
{
	unsigned char close = map ? '}' : ']';

	if (depth == SHAPE_DEPTH || !emit(sh, map ? T_MAP : T_ARRAY, 0, 0, 0))
		return false;
	sh->pos++;
	if (sh->pos < sh->len && sh->s[sh->pos] == close) {
		sh->pos++;
		return emit(sh, map ? T_END_MAP : T_END_ARRAY, 0, 0, 0);
	}
	for (;;) {
		if (map) {
			if (sh->pos >= sh->len || sh->s[sh->pos] != '"' || !shape_string(sh, T_KEY) ||
			    sh->pos >= sh->len || sh->s[sh->pos] != ':')
				return false;
			sh->pos++;
		}
		if (!shape_value(sh, depth + 1) || sh->pos >= sh->len)
			return false;
		if (sh->s[sh->pos] == close) {
			sh->pos++;
			return emit(sh, map ? T_END_MAP : T_END_ARRAY, 0, 0, 0);
		}
		if (sh->s[sh->pos++] != ',')
			return false;
	}
}

static bool
shape_value(shape *sh, int depth)
{
	if (sh->pos >= sh->len)
		return false;
	switch (sh->s[sh->pos]) {
	case '{': return shape_container(sh, depth, true);
	case '[': return shape_container(sh, depth, false);
	case '"': return shape_string(sh, T_STRING);
	case 't': return shape_word(sh, "true", T_TRUE);
	case 'f': return shape_word(sh, "false", T_FALSE);
	case 'n': return shape_word(sh, "null", T_NULL);
	default:
		return sh->s[sh->pos] >= '0' && sh->s[sh->pos] <= '9' && shape_int(sh);
	}
}

/* Calls back as yajl does for the same text: its raw number text when asked for. */
static bool
replay(const shape *sh, const yajl_callbacks *cb, void *ctx)
{
	for (unsigned i = 0; i < sh->n; i++) {
		const token *t = &sh->tape[i];
		const unsigned char *s = sh->s + t->off;
		int ok = 1;

		switch (t->type) {
		case T_MAP: if (cb->yajl_start_map) ok = cb->yajl_start_map(ctx); break;
		case T_END_MAP: if (cb->yajl_end_map) ok = cb->yajl_end_map(ctx); break;
		case T_ARRAY: if (cb->yajl_start_array) ok = cb->yajl_start_array(ctx); break;
		case T_END_ARRAY: if (cb->yajl_end_array) ok = cb->yajl_end_array(ctx); break;
		case T_KEY: if (cb->yajl_map_key) ok = cb->yajl_map_key(ctx, s, t->len); break;
		case T_STRING: if (cb->yajl_string) ok = cb->yajl_string(ctx, s, t->len); break;
		case T_TRUE: if (cb->yajl_boolean) ok = cb->yajl_boolean(ctx, 1); break;
		case T_FALSE: if (cb->yajl_boolean) ok = cb->yajl_boolean(ctx, 0); break;
		case T_NULL: if (cb->yajl_null) ok = cb->yajl_null(ctx); break;
		case T_INT:
			if (cb->yajl_number)
				ok = cb->yajl_number(ctx, (const char *)s, t->len);
			else if (cb->yajl_integer)
				ok = cb->yajl_integer(ctx, t->value);
			break;
		}
		if (!ok)
			return false;  /* yajl: "client cancelled", the text is refused */
	}
	return true;
}

bool
bg_journal_parse_line(const yajl_callbacks *cb, void *ctx, const char *line, size_t len)
{
	shape sh;  /* not zeroed: the tape is written before it is read */

	sh.s = (const unsigned char *)line;
	sh.len = len;
	sh.pos = 0;
	sh.n = 0;
	if (len > 0 && line[len - 1] == '\n')
		sh.len--;  /* trailing whitespace, which yajl takes too */
	if (sh.len > 0 && line[0] == '{' && shape_value(&sh, 0) && sh.pos == sh.len)
		return replay(&sh, cb, ctx);
	return bg_journal_parse_line_yajl(cb, ctx, line, len);
}
