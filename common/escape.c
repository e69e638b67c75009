/* Escaping untrusted text for syslog key=value lines and terminals. */
#include "build_config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"

static bool
kv_bare_byte(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '=';
}

bool
bg_escape_kv_value(bg_buf *b, const char *value)
{
	const unsigned char *p;
	bool bare = *value != '\0';
	char hex[5];

	for (p = (const unsigned char *)value; *p != '\0' && bare; p++)
		bare = kv_bare_byte(*p);
	if (bare)
		return bg_buf_puts(b, value);

	if (!bg_buf_puts(b, "\""))
		return false;
	for (p = (const unsigned char *)value; *p != '\0'; p++) {
		bool ok;

		if (*p == '"' || *p == '\\') {
			char esc[2] = { '\\', (char)*p };
			ok = bg_buf_append(b, esc, 2);
		} else if (*p < 0x20 || *p >= 0x7f) {
			snprintf(hex, sizeof(hex), "\\x%02x", *p);
			ok = bg_buf_append(b, hex, 4);
		} else {
			ok = bg_buf_append(b, p, 1);
		}
		if (!ok)
			return false;
	}
	return bg_buf_puts(b, "\"");
}

void
bg_escape_printable(const char *s, char *out, size_t outsz)
{
	const unsigned char *p;
	size_t n = 0;

	if (outsz == 0)
		return;
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '\\') {
			if (n + 2 >= outsz)
				break;
			out[n++] = '\\';
			out[n++] = '\\';
		} else if (*p < 0x20 || *p >= 0x7f) {
			if (n + 4 >= outsz)
				break;
			snprintf(out + n, outsz - n, "\\x%02x", *p);
			n += 4;
		} else {
			if (n + 1 >= outsz)
				break;
			out[n++] = (char)*p;
		}
	}
	out[n] = '\0';
}

/* Length of the valid UTF-8 sequence at p (1-4), or 0 when it is not valid. */
static size_t
utf8_sequence_length(const unsigned char *p)
{
	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		return (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (p[0] >= 0xe0 && p[0] <= 0xef) {
		/* Reject overlong forms and UTF-16 surrogates. */
		if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0))
			return 0;
		return (p[1] & 0xc0) == 0x80 && (p[2] & 0xc0) == 0x80 ? 3 : 0;
	}
	if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		if ((p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90))
			return 0;
		return (p[1] & 0xc0) == 0x80 && (p[2] & 0xc0) == 0x80 &&
		    (p[3] & 0xc0) == 0x80 ? 4 : 0;
	}
	return 0;
}

/* The code point of the valid n-byte sequence at p. */
static unsigned long
utf8_code_point(const unsigned char *p, size_t n)
{
	static const unsigned char lead_mask[] = { 0, 0x7f, 0x1f, 0x0f, 0x07 };
	unsigned long cp = p[0] & lead_mask[n];

	for (size_t i = 1; i < n; i++)
		cp = cp << 6 | (p[i] & 0x3f);
	return cp;
}

/*
 * A bidi control (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069),
 * which reorders what is displayed, or a C1 control (U+0080-U+009F), which
 * some terminals obey: text that hides or disguises what is shown.
 */
static bool
unicode_hidden(unsigned long cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || cp == 0x061c || cp == 0x200e || cp == 0x200f ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/*
 * Whether the len bytes at s are valid UTF-8 with no NUL, DEL, C1 or bidi
 * control, and no other C0 control unless layout allows tab, line feed and
 * carriage return.
 */
static bool
text_clean(const char *s, size_t len, bool layout)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	while (p < end) {
		/* A sequence cut by the end is invalid: p[1..3] is read only before a NUL. */
		size_t n = *p == '\0' ? 0 : utf8_sequence_length(p);

		if (n == 0 || n > (size_t)(end - p) || *p == 0x7f ||
		    (*p < 0x20 && !(layout && (*p == '\t' || *p == '\n' || *p == '\r'))) ||
		    unicode_hidden(utf8_code_point(p, n)))
			return false;
		p += n;
	}
	return true;
}

bool
bg_text_displayable(const char *s)
{
	return text_clean(s, strlen(s), false);
}

bool
bg_text_acceptable(const char *s, size_t len)
{
	return text_clean(s, len, true);
}

char *
bg_utf8_sanitize(const char *s, size_t max, bool *truncated)
{
	static const char replacement[] = "\xef\xbf\xbd";
	const unsigned char *p = (const unsigned char *)s;
	char shown[sizeof("\\u0000")];
	bg_buf out;

	*truncated = false;
	bg_buf_init(&out, 0);
	if (!bg_buf_append(&out, "", 0))
		return NULL;
	while (*p != '\0') {
		/* Continuation bytes are checked before p[1..3] is read past a NUL. */
		size_t n = utf8_sequence_length(p);
		const void *piece = p;
		size_t piece_len = n;

		if (n == 0) {
			piece = replacement;
			piece_len = sizeof(replacement) - 1;
		} else if (unicode_hidden(utf8_code_point(p, n))) {
			piece_len = (size_t)snprintf(shown, sizeof(shown), "\\u%04lx",
			    utf8_code_point(p, n));
			piece = shown;
		}
		if (out.len + piece_len > max) {
			*truncated = true;
			break;
		}
		if (!bg_buf_append(&out, piece, piece_len)) {
			bg_buf_free(&out);
			return NULL;
		}
		p += n > 0 ? n : 1;
	}
	return out.data;
}

void
bg_escape_markup(bg_buf *b, const char *text, bool quotes)
{
	bg_escape_markup_cut(b, text, quotes, SIZE_MAX);
}

void
bg_escape_markup_cut(bg_buf *b, const char *text, bool quotes, size_t max)
{
	char *clean, *s;
	bool cut;

	/* A bidi override would reorder what is read; a character reference would not stop it. */
	if ((clean = bg_utf8_sanitize(text != NULL ? text : "", max, &cut)) == NULL) {
		b->overflow = true;
		return;
	}
	for (s = clean; *s != '\0'; s++) {
		switch (*s) {
		case '&': bg_buf_puts(b, "&amp;"); break;
		case '<': bg_buf_puts(b, "&lt;"); break;
		case '>': bg_buf_puts(b, "&gt;"); break;
		case '"': bg_buf_puts(b, quotes ? "&quot;" : "\""); break;
		case '\'': bg_buf_puts(b, quotes ? "&#39;" : "'"); break;
		case '\t': case '\n': bg_buf_append(b, s, 1); break;
		default:
			/* Other C0 controls and DEL mean nothing in markup and confuse some readers. */
			if ((unsigned char)*s < 0x20 || *s == 0x7f)
				bg_buf_puts(b, "\xef\xbf\xbd");
			else
				bg_buf_append(b, s, 1);
			break;
		}
	}
	if (cut)
		bg_buf_puts(b, "\xe2\x80\xa6");  /* U+2026 HORIZONTAL ELLIPSIS */
	free(clean);
}
