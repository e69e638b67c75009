/* The journal grammar's fast path compared with yajl alone (see grammar_diff.h). */
#include "build_config.h"

#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "grammar_diff.h"
#include "journal_grammar.h"

typedef struct {
	bg_buf trace;
	long cancel_at;  /* refuse this callback (counted from 0); -1: never */
	long calls;
} recorder;

static int
note(recorder *r, const char *what, const void *s, size_t len)
{
	bg_buf_printf(&r->trace, "%s%zu:", what, len);
	bg_buf_append(&r->trace, s, len);
	bg_buf_append(&r->trace, "\n", 1);
	return r->calls++ != r->cancel_at;
}

static int rc_null(void *c) { return note(c, "null", "", 0); }
static int rc_bool(void *c, int b) { return note(c, b ? "true" : "false", "", 0); }
static int rc_start_map(void *c) { return note(c, "{", "", 0); }
static int rc_end_map(void *c) { return note(c, "}", "", 0); }
static int rc_start_array(void *c) { return note(c, "[", "", 0); }
static int rc_end_array(void *c) { return note(c, "]", "", 0); }

static void
rc_restart(void *c)
{
	recorder *r = c;

	r->trace.len = 0;
	if (r->trace.data != NULL)
		r->trace.data[0] = '\0';
	r->calls = 0;
}

static int
rc_key(void *c, const unsigned char *s, size_t len)
{
	return note(c, "key", s, len);
}

static int
rc_string(void *c, const unsigned char *s, size_t len)
{
	return note(c, "string", s, len);
}

static int
rc_number(void *c, const char *s, size_t len)
{
	return note(c, "number", s, len);
}

static int
rc_integer(void *c, long long v)
{
	char text[32];

	snprintf(text, sizeof(text), "%lld", v);
	return note(c, "integer", text, strlen(text));
}

static int
rc_double(void *c, double v)
{
	char text[64];

	snprintf(text, sizeof(text), "%.17g", v);
	return note(c, "double", text, strlen(text));
}

static const yajl_callbacks as_text = {
	.yajl_null = rc_null, .yajl_boolean = rc_bool, .yajl_number = rc_number,
	.yajl_string = rc_string, .yajl_start_map = rc_start_map, .yajl_map_key = rc_key,
	.yajl_end_map = rc_end_map, .yajl_start_array = rc_start_array,
	.yajl_end_array = rc_end_array,
};

static const yajl_callbacks as_values = {
	.yajl_null = rc_null, .yajl_boolean = rc_bool, .yajl_integer = rc_integer,
	.yajl_double = rc_double, .yajl_string = rc_string, .yajl_start_map = rc_start_map,
	.yajl_map_key = rc_key, .yajl_end_map = rc_end_map, .yajl_start_array = rc_start_array,
	.yajl_end_array = rc_end_array,
};

static bool
same_once(const yajl_callbacks *cb, const char *line, size_t len, long cancel_at, long *calls,
    char *why, size_t why_len)
{
	recorder fast = { .cancel_at = cancel_at }, slow = { .cancel_at = cancel_at };
	bool fast_ok, slow_ok, same;

	bg_buf_init(&fast.trace, 0);
	bg_buf_init(&slow.trace, 0);
	fast_ok = bg_journal_parse_line(cb, rc_restart, &fast, line, len);
	slow_ok = bg_journal_parse_line_yajl(cb, &slow, line, len);
	/* A refused text's callbacks are not compared: yajl stops where it stops. */
	same = fast_ok == slow_ok && (!slow_ok || (fast.trace.len == slow.trace.len &&
	    memcmp(fast.trace.data, slow.trace.data, fast.trace.len) == 0));
	if (!same)
		snprintf(why, why_len, "fast path %s, yajl %s (cancel at %ld):\n%s\n--- yajl:\n%s",
		    fast_ok ? "accepts" : "refuses", slow_ok ? "accepts" : "refuses", cancel_at,
		    fast.trace.data ? fast.trace.data : "", slow.trace.data ? slow.trace.data : "");
	*calls = slow.calls;
	bg_buf_free(&fast.trace);
	bg_buf_free(&slow.trace);
	return same;
}

bool
gd_same(const char *line, size_t len, char *why, size_t why_len)
{
	const yajl_callbacks *sets[] = { &as_text, &as_values };

	for (size_t i = 0; i < 2; i++) {
		long calls, ignored;

		if (!same_once(sets[i], line, len, -1, &calls, why, why_len))
			return false;
		/* A reader that refuses a callback makes the text refused, on both paths. */
		for (long k = 0; k < calls && k < 64; k++)
			if (!same_once(sets[i], line, len, k, &ignored, why, why_len))
				return false;
	}
	return true;
}
