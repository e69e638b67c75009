/* The grammar the journal is read with (see journal_grammar.h). */
#include "build_config.h"

#include <stdint.h>
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
 * The writer's own shape, read without yajl's per-line setup and
 * byte-at-a-time lexer: a top-level object, no whitespace but one final
 * newline, printable ASCII and no backslash (so no escapes), integers of at
 * most 18 digits without sign, true, false, null, nesting at most
 * SHAPE_DEPTH.  Every such text is one yajl accepts, with exactly the
 * callbacks made here (yajl too passes an unescaped string as it is in the
 * text).  Each callback is made once its token is read and in its place, so
 * the callbacks made before the shape is left are the ones yajl would make
 * for the same text: the reader restarts and yajl reads the line, which
 * keeps the grammar yajl's.  A reader that refuses a callback refuses the
 * text, as yajl would (it refuses the same callback, or an error before it).
 */
#define SHAPE_DEPTH 32
#define SHAPE_MAX_LEN (64 * 1024)

typedef struct {
	const unsigned char *s;
	size_t len, pos;
	const yajl_callbacks *cb;
	void *ctx;
	bool called;                  /* a callback was made */
	bool refused;                 /* and refused the text */
	uint64_t quotes[SHAPE_MAX_LEN / 64 + 1]; /* bit i: byte i is a quote */
} shape;

/*
 * The whole line is read first, sixteen bytes at a time (GCC's vector
 * extensions: SSE2 or NEON where there is one): it must be printable ASCII
 * without a backslash, so that a string is plain text up to the next quote,
 * and where the quotes are is noted in a bitmap.
 */
typedef unsigned char v16 __attribute__((vector_size(16)));

#define HIGHS 0x8080808080808080ULL

/* One bit per byte of a mask word (bytes 0x00 or 0xff), in byte order. */
static inline uint64_t
gather(const unsigned char *mask)
{
	uint64_t w;

	memcpy(&w, mask, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	w = __builtin_bswap64(w);  /* byte k of the text in byte k of the word */
#endif
	/* Each high bit moves to bit 56 + k; no two products meet. */
	return (((w & HIGHS) >> 7) * 0x0102040810204080ULL) >> 56;
}

static bool
read_line(shape *sh)
{
	const unsigned char *s = sh->s;
	v16 odd = { 0 };
	size_t i = 0;
	bool plain = true;

	memset(sh->quotes, 0, (sh->len / 64 + 1) * sizeof(sh->quotes[0]));
	for (; sh->len - i >= 16; i += 16) {
		v16 x, quote;

		memcpy(&x, s + i, 16);
		odd |= (v16)(x < 0x20) | (v16)(x > 0x7e) | (v16)(x == '\\');
		quote = (v16)(x == '"');
		sh->quotes[i / 64] |= (gather((const unsigned char *)&quote) |
		    gather((const unsigned char *)&quote + 8) << 8) << (i % 64);
	}
	for (; i < sh->len; i++) {
		plain &= s[i] >= 0x20 && s[i] <= 0x7e && s[i] != '\\';
		if (s[i] == '"')
			sh->quotes[i / 64] |= 1ULL << (i % 64);
	}
	for (size_t k = 0; k < sizeof(odd); k++)
		plain &= odd[k] == 0;
	return plain;
}

/* Takes a callback's answer; false stops the reading. */
static bool
answer(shape *sh, int ok)
{
	sh->called = true;
	sh->refused = ok == 0;
	return ok != 0;
}

#define CALL(sh, name, ...) \
	((sh)->cb->name == NULL || answer((sh), (sh)->cb->name((sh)->ctx, ##__VA_ARGS__)))

/* In a plain line, a string is everything up to the next quote. */
static bool
shape_string(shape *sh, bool key)
{
	size_t start = sh->pos + 1, w = start / 64, words = sh->len / 64 + 1, end;
	const unsigned char *text = sh->s + start;
	uint64_t bits;

	if (start >= sh->len)
		return false;
	bits = sh->quotes[w] & (~0ULL << (start % 64));
	while (bits == 0) {
		if (++w == words)
			return false;
		bits = sh->quotes[w];
	}
	end = w * 64 + (size_t)__builtin_ctzll(bits);
	sh->pos = end + 1;
	return key ? CALL(sh, yajl_map_key, text, end - start) :
	    CALL(sh, yajl_string, text, end - start);
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
	/* yajl gives the number's text to a reader that asks for it, else its value. */
	if (sh->cb->yajl_number != NULL)
		return CALL(sh, yajl_number, (const char *)sh->s + start, sh->pos - start);
	return CALL(sh, yajl_integer, v);
}

static bool
shape_word(shape *sh, const char *word)
{
	size_t n = strlen(word);

	if (sh->len - sh->pos < n || memcmp(sh->s + sh->pos, word, n) != 0)
		return false;
	sh->pos += n;
	if (word[0] == 'n')
		return CALL(sh, yajl_null);
	return CALL(sh, yajl_boolean, word[0] == 't');
}

static bool shape_value(shape *sh, int depth);

/* An object or an array: open, members separated by commas, close. */
static bool
shape_container(shape *sh, int depth, bool map)
{
	unsigned char close = map ? '}' : ']';

	if (depth == SHAPE_DEPTH ||
	    !(map ? CALL(sh, yajl_start_map) : CALL(sh, yajl_start_array)))
		return false;
	sh->pos++;
	if (sh->pos < sh->len && sh->s[sh->pos] == close) {
		sh->pos++;
		return map ? CALL(sh, yajl_end_map) : CALL(sh, yajl_end_array);
	}
	for (;;) {
		if (map) {
			if (sh->pos >= sh->len || sh->s[sh->pos] != '"' || !shape_string(sh, true) ||
			    sh->pos >= sh->len || sh->s[sh->pos] != ':')
				return false;
			sh->pos++;
		}
		if (!shape_value(sh, depth + 1) || sh->pos >= sh->len)
			return false;
		if (sh->s[sh->pos] == close) {
			sh->pos++;
			return map ? CALL(sh, yajl_end_map) : CALL(sh, yajl_end_array);
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
	case '"': return shape_string(sh, false);
	case 't': return shape_word(sh, "true");
	case 'f': return shape_word(sh, "false");
	case 'n': return shape_word(sh, "null");
	default:
		return sh->s[sh->pos] >= '0' && sh->s[sh->pos] <= '9' && shape_int(sh);
	}
}

bool
bg_journal_parse_line(const yajl_callbacks *cb, void (*restart)(void *ctx), void *ctx,
    const char *line, size_t len)
{
	shape sh;  /* not zeroed: the bitmap is written before it is read */

	sh.s = (const unsigned char *)line;
	sh.len = len;
	sh.pos = 0;
	sh.cb = cb;
	sh.ctx = ctx;
	sh.called = false;
	sh.refused = false;
	if (len > 0 && line[len - 1] == '\n')
		sh.len--;  /* trailing whitespace, which yajl takes too */
	if (sh.len > 0 && sh.len <= SHAPE_MAX_LEN && line[0] == '{' && read_line(&sh)) {
		if (shape_value(&sh, 0) && sh.pos == sh.len)
			return true;
		if (sh.refused)
			return false;
	}
	if (sh.called)
		restart(ctx);
	return bg_journal_parse_line_yajl(cb, ctx, line, len);
}
