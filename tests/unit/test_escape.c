/* Unit tests for common/escape.c and common/buf.c. */
#include "build_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "escape.h"
#include "testutil.h"

static char *
kv(const char *value)
{
	bg_buf b;
	char *out;

	bg_buf_init(&b, 0);
	assert_true(bg_escape_kv_value(&b, value));
	out = strdup(b.data);
	bg_buf_free(&b);
	return out;
}

static void
check_kv(const char *value, const char *want)
{
	char *got = kv(value);

	assert_string_equal(got, want);
	free(got);
}

static void
test_kv_values(void **state)
{
	(void)state;
	check_kv("breakglass", "breakglass");
	check_kv("INC-42", "INC-42");
	check_kv("", "\"\"");
	check_kv("two words", "\"two words\"");
	check_kv("say \"hi\"", "\"say \\\"hi\\\"\"");
	check_kv("back\\slash", "\"back\\\\slash\"");
	check_kv("a=b", "\"a=b\"");
	check_kv("line\nbreak", "\"line\\x0abreak\"");
	check_kv("tab\there\r", "\"tab\\x09here\\x0d\"");
	check_kv("\x1b[31mred", "\"\\x1b[31mred\"");
	check_kv("caf\xc3\xa9", "\"caf\\xc3\\xa9\"");
	check_kv("del\x7f", "\"del\\x7f\"");
}

/*
 * Splits a key=value line the way a log parser would: bare words, or quoted
 * values with backslash escapes.  Returns the number of fields.
 */
static int
count_fields(const char *line, const char *forbidden_key)
{
	const char *p = line;
	int n = 0;

	while (*p != '\0') {
		const char *key = p;
		size_t klen;

		while (*p != '=' && *p != '\0' && *p != ' ')
			p++;
		assert_int_equal(*p, '=');
		klen = (size_t)(p - key);
		if (forbidden_key != NULL)
			assert_false(klen == strlen(forbidden_key) &&
			    strncmp(key, forbidden_key, klen) == 0 && n > 0);
		p++;
		if (*p == '"') {
			for (p++; *p != '"'; p++) {
				assert_true(*p != '\0');
				assert_true(*p != '\n');
				if (*p == '\\')
					p++;
			}
			p++;
		} else {
			while (*p != ' ' && *p != '\0')
				p++;
		}
		n++;
		if (*p == ' ')
			p++;
	}
	return n;
}

static void
test_kv_injection(void **state)
{
	const char *attacks[] = {
		"x\nevent=sudo.accepted",
		"x\" event=sudo.accepted outcome=\"success",
		"x\\\" event=sudo.accepted",
		"x event=sudo.accepted",
		"\"",
		"\\",
		"x\\",
	};
	bg_buf line;

	(void)state;
	for (size_t i = 0; i < sizeof(attacks) / sizeof(attacks[0]); i++) {
		bg_buf_init(&line, 0);
		assert_true(bg_buf_puts(&line, "event=auth.begin reason="));
		assert_true(bg_escape_kv_value(&line, attacks[i]));
		assert_true(bg_buf_puts(&line, " seq=1"));
		assert_null(strchr(line.data, '\n'));
		assert_int_equal(count_fields(line.data, "event"), 3);
		bg_buf_free(&line);
	}
}

static void
test_printable(void **state)
{
	char out[64];

	(void)state;
	bg_escape_printable("ok\n\x1b[2J\\", out, sizeof(out));
	assert_string_equal(out, "ok\\x0a\\x1b[2J\\\\");
	bg_escape_printable("abcdef", out, 4);
	assert_string_equal(out, "abc");
	bg_escape_printable("a\n", out, 4);
	assert_string_equal(out, "a");
}

static void
test_utf8_sanitize(void **state)
{
	bool cut;
	char *s;

	(void)state;
	s = bg_utf8_sanitize("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92", 100, &cut);
	assert_string_equal(s, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92");
	assert_false(cut);
	free(s);
	/* Invalid, overlong and surrogate sequences become U+FFFD. */
	s = bg_utf8_sanitize("a\xff" "b\xc0\xaf" "c\xed\xa0\x80" "d\xc3", 100, &cut);
	assert_string_equal(s, "a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd"
	    "c\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" "d\xef\xbf\xbd");
	free(s);
	/* Truncation never splits a sequence. */
	s = bg_utf8_sanitize("ab\xc3\xa9", 3, &cut);
	assert_string_equal(s, "ab");
	assert_true(cut);
	free(s);
}

/* U+202E (right-to-left override) and U+0085 (C1 "next line"), in UTF-8. */
#define RLO "\xe2\x80\xae"
#define NEL "\xc2\x85"

static void
test_utf8_sanitize_hidden(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "INC-1" RLO "txt.exe", "INC-1\\u202etxt.exe" },
		{ "a" NEL "b\xc2\x80\xc2\x9f", "a\\u0085b\\u0080\\u009f" },
		{ "\xd8\x9c\xe2\x80\x8e\xe2\x80\x8f", "\\u061c\\u200e\\u200f" },
		{ "\xe2\x80\xaa\xe2\x81\xa6\xe2\x81\xa9",
		    "\\u202a\\u2066\\u2069" },
		/* Neighbours stay: no-break space, U+2065 (unassigned), U+206A. */
		{ "\xc2\xa0\xe2\x81\xa5\xe2\x81\xaa", "\xc2\xa0\xe2\x81\xa5\xe2\x81\xaa" },
	};
	bool cut;
	char *s;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		s = bg_utf8_sanitize(cases[i].in, 100, &cut);
		assert_string_equal(s, cases[i].want);
		assert_false(cut);
		free(s);
	}
	/* An escape is never cut in half. */
	s = bg_utf8_sanitize("ab" RLO, 7, &cut);
	assert_string_equal(s, "ab");
	assert_true(cut);
	free(s);
	s = bg_utf8_sanitize("ab" RLO, 8, &cut);
	assert_string_equal(s, "ab\\u202e");
	assert_false(cut);
	free(s);
}

static void
test_text_displayable(void **state)
{
	(void)state;
	assert_true(bg_text_displayable("INC-2026-0042 spam from mx1"));
	assert_true(bg_text_displayable("caf\xc3\xa9 \xe2\x82\xac \xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d"));
	assert_true(bg_text_displayable(""));
	assert_false(bg_text_displayable("INC-1" RLO "gpj.exe"));
	assert_false(bg_text_displayable("spam" NEL "event=x"));
	assert_false(bg_text_displayable("\xe2\x81\xa6x\xe2\x81\xa9"));
	assert_false(bg_text_displayable("x\xd8\x9c"));
	assert_false(bg_text_displayable("x\xe2\x80\x8f"));
	/* A lone C1 byte (Latin-1 terminals) and other invalid UTF-8. */
	assert_false(bg_text_displayable("x\x9b" "31m"));
	assert_false(bg_text_displayable("x\xc3"));
	assert_false(bg_text_displayable("x\xed\xa0\x80"));
	assert_false(bg_text_displayable("tab\there"));
	assert_false(bg_text_displayable("del\x7f"));
}

static void
test_text_acceptable(void **state)
{
	static const char with_nul[] = "a\0b";

	(void)state;
	assert_true(bg_text_acceptable("line\nbreak\ttab\r", strlen("line\nbreak\ttab\r")));
	assert_true(bg_text_acceptable("caf\xc3\xa9", 5));
	assert_false(bg_text_acceptable(with_nul, sizeof(with_nul) - 1));
	assert_false(bg_text_acceptable("x" RLO, strlen("x" RLO)));
	assert_false(bg_text_acceptable("x" NEL, strlen("x" NEL)));
	assert_false(bg_text_acceptable("\x1b[31m", 5));
	assert_false(bg_text_acceptable("del\x7f", 4));
	assert_false(bg_text_acceptable("x\xff", 2));
	/* A sequence cut by the length is not valid. */
	assert_false(bg_text_acceptable("caf\xc3\xa9", 4));
}

/* One markup escaper for the page, Slack and the HTML report. */
static void
test_escape_markup(void **state)
{
	bg_buf b;

	(void)state;
	bg_buf_init(&b, 0);
	bg_escape_markup(&b, "<a href='x'>\"&\"</a>" RLO NEL "\x07\xff\n\t", true);
	assert_string_equal(b.data, "&lt;a href=&#39;x&#39;&gt;&quot;&amp;&quot;&lt;/a&gt;"
	    "\\u202e\\u0085\xef\xbf\xbd\xef\xbf\xbd\n\t");
	bg_buf_free(&b);
	bg_buf_init(&b, 0);
	bg_escape_markup(&b, "'\"<", false);
	assert_string_equal(b.data, "'\"&lt;");
	bg_buf_free(&b);
	bg_buf_init(&b, 0);
	bg_escape_markup(&b, NULL, true);
	bg_buf_puts(&b, "");
	assert_string_equal(b.data, "");
	bg_buf_free(&b);
	/* Cut on a character boundary (never inside the two-byte é), then an ellipsis. */
	bg_buf_init(&b, 0);
	bg_escape_markup_cut(&b, "<<caf\xc3\xa9", true, 5);
	assert_string_equal(b.data, "&lt;&lt;caf\xe2\x80\xa6");
	bg_buf_free(&b);
	bg_buf_init(&b, 0);
	bg_escape_markup_cut(&b, "<<caf\xc3\xa9", true, 7);
	assert_string_equal(b.data, "&lt;&lt;caf\xc3\xa9");
	bg_buf_free(&b);
}

/* The syslog escaper writes every non-ASCII byte as \xNN: nothing hidden goes out raw. */
static void
test_kv_hidden(void **state)
{
	(void)state;
	check_kv("INC-1" RLO "x", "\"INC-1\\xe2\\x80\\xaex\"");
	check_kv("a" NEL "b", "\"a\\xc2\\x85b\"");
	check_kv("a\\u202eb", "\"a\\\\u202eb\"");
}

static void
test_buf_limit(void **state)
{
	bg_buf b;

	(void)state;
	bg_buf_init(&b, 8);
	assert_true(bg_buf_puts(&b, "1234"));
	assert_true(bg_buf_printf(&b, "%d", 5678));
	assert_false(bg_buf_puts(&b, "9"));
	assert_true(b.overflow);
	assert_string_equal(b.data, "12345678");
	bg_buf_free(&b);
	assert_null(b.data);
	bg_buf_init(&b, 0);
	for (int i = 0; i < 1000; i++)
		assert_true(bg_buf_puts(&b, "abcdefghij"));
	assert_int_equal(b.len, 10000);
	bg_buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kv_values),
		cmocka_unit_test(test_kv_injection),
		cmocka_unit_test(test_printable),
		cmocka_unit_test(test_utf8_sanitize),
		cmocka_unit_test(test_utf8_sanitize_hidden),
		cmocka_unit_test(test_text_displayable),
		cmocka_unit_test(test_text_acceptable),
		cmocka_unit_test(test_escape_markup),
		cmocka_unit_test(test_kv_hidden),
		cmocka_unit_test(test_buf_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
