/*
 * The escapers and the syslog line built with them.
 *
 * - bg_escape_kv_value: the output is printable ASCII, forms exactly one
 *   value (bare without blanks, or one quoted string) and decodes back to
 *   the input (the text before its first NUL).
 * - bg_escape_printable: printable, NUL-terminated within the buffer, and a
 *   small buffer holds a prefix of what a large one holds.
 * - bg_utf8_sanitize: the output is valid UTF-8 holding no C1 or bidi
 *   control, equals a valid input free of them, and a cut at max bytes is a
 *   prefix of the uncut output, within max.
 * - bg_audit_format_syslog, the NUL-separated parts of the input being the
 *   identity and field values: one line of at most BG_SYSLOG_MAX_LINE
 *   printable bytes, made of key=value fields whose values decode to the
 *   event's, starting with event and outcome and ending with seq and mac.
 */
#include "build_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "audit.h"
#include "buf.h"
#include "crypto.h"
#include "escape.h"
#include "fuzz.h"
#include "journal.h"

#define MAX_PARTS 16
#define IDENTITY_PARTS 4
#define FIELD_KEY_MAX 32
#define TEST_SEQ 18446744073709551615ULL
#define TEST_MAC "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define MAC_SHOWN 16

/* ------------------------------------------------------------------ */
/* A decoder for key=value values, independent of the encoder. */

/*
 * Decodes the value at s into out; *end is where it stops (a blank or the
 * end of the line).  False when it is not one well-formed value.
 */
static bool
kv_decode(const char *s, const char **end, bg_buf *out)
{
	if (*s != '"') {
		size_t n = strcspn(s, " ");

		if (n == 0 || strcspn(s, "\"\\=") < n)
			return false;
		*end = s + n;
		return bg_buf_append(out, s, n) && bg_buf_append(out, "", 0);
	}
	for (s++; *s != '"'; s++) {
		char c = *s;

		if (c == '\0')
			return false;
		if (c == '\\') {
			char pair[3] = { '\0', '\0', '\0' };
			unsigned char byte;
			bg_error err;

			/* Reads s[2] and s[3] only when they exist. */
			if (s[1] == 'x' && (pair[0] = s[2]) != '\0')
				pair[1] = s[3];
			if (s[1] == '"' || s[1] == '\\') {
				c = *++s;
			} else if (s[1] == 'x' && bg_hex_decode(pair, &byte, 1, &err) == BG_OK) {
				c = (char)byte;
				s += 3;
			} else {
				return false;
			}
		}
		if (!bg_buf_append(out, &c, 1))
			return false;
	}
	*end = s + 1;
	return bg_buf_append(out, "", 0);
}

static void
check_printable(const char *s, const char *what)
{
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x20 || *p >= 0x7f)
			fz_fail("%s: byte 0x%02x at %zu", what, *p, (size_t)(p -
			    (const unsigned char *)s));
}

static void
check_kv(const char *value)
{
	const char *end;
	bg_buf enc, dec;

	bg_buf_init(&enc, 0);
	bg_buf_init(&dec, 0);
	if (!bg_escape_kv_value(&enc, value) || !bg_buf_append(&enc, "", 0))
		fz_fail("kv: allocation failed");
	check_printable(enc.data, "kv");
	if (!kv_decode(enc.data, &end, &dec) || *end != '\0')
		fz_fail("kv: [%s] is not exactly one value", enc.data);
	if (strcmp(dec.data, value) != 0)
		fz_fail("kv: [%s] does not decode to the input", enc.data);
	bg_buf_free(&enc);
	bg_buf_free(&dec);
}

/* Room for any input of a test case escaped whole (4 bytes per input byte). */
#define PRINTABLE_FULL (4 * 8192 + 1)

static void
check_printable_escape(const char *s, size_t small)
{
	static char full[PRINTABLE_FULL];
	char part[UINT8_MAX + 1];

	if (strlen(s) >= PRINTABLE_FULL / 4)
		return;
	bg_escape_printable(s, full, sizeof(full));
	check_printable(full, "printable");
	memset(part, 'X', sizeof(part));
	bg_escape_printable(s, part, small);
	if (small == 0)
		return;
	if (memchr(part, '\0', small) == NULL)
		fz_fail("printable: not NUL-terminated within %zu bytes", small);
	if (strncmp(part, full, strlen(part)) != 0)
		fz_fail("printable: a %zu-byte buffer is not a prefix of the whole", small);
}

/* ------------------------------------------------------------------ */
/* UTF-8. */

/*
 * A strict validator (RFC 3629), independent of the sanitizer; *hidden tells
 * whether s holds a C1 control or a bidi control.
 */
static bool
utf8_valid(const unsigned char *s, bool *hidden)
{
	*hidden = false;
	while (*s != '\0') {
		unsigned long cp;
		size_t n;

		if (*s < 0x80) {
			s++;
			continue;
		}
		if ((*s & 0xe0) == 0xc0)
			n = 2, cp = *s & 0x1f;
		else if ((*s & 0xf0) == 0xe0)
			n = 3, cp = *s & 0x0f;
		else if ((*s & 0xf8) == 0xf0)
			n = 4, cp = *s & 0x07;
		else
			return false;
		for (size_t i = 1; i < n; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i] & 0x3f);
		}
		if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		if ((cp >= 0x80 && cp <= 0x9f) || cp == 0x61c || cp == 0x200e || cp == 0x200f ||
		    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069))
			*hidden = true;
		s += n;
	}
	return true;
}

static void
check_utf8(const char *s, size_t cut)
{
	bool truncated, hidden;
	char *full = bg_utf8_sanitize(s, SIZE_MAX, &truncated), *part;

	if (full == NULL || truncated)
		fz_fail("utf8: uncut sanitize failed or says truncated");
	if (!utf8_valid((const unsigned char *)full, &hidden) || hidden)
		fz_fail("utf8: output is not valid UTF-8 or holds a C1 or bidi control");
	if (utf8_valid((const unsigned char *)s, &hidden) && !hidden && strcmp(full, s) != 0)
		fz_fail("utf8: valid input was changed");
	if ((part = bg_utf8_sanitize(s, cut, &truncated)) == NULL)
		fz_fail("utf8: cut sanitize failed");
	if (strlen(part) > cut || strncmp(part, full, strlen(part)) != 0 ||
	    truncated != (strlen(part) < strlen(full)) ||
	    !utf8_valid((const unsigned char *)part, &hidden) || hidden)
		fz_fail("utf8: cut at %zu is not a valid prefix within the limit", cut);
	free(full);
	free(part);
}

/* ------------------------------------------------------------------ */
/* The syslog line. */

/* The event's text for key as the syslog line shows it; NULL when not a string. */
static const char *
member_text(const bg_event *ev, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(bg_event_identity(ev), key, &v) &&
	    !json_object_object_get_ex(bg_event_fields(ev), key, &v))
		fz_fail("syslog: field %s is not the event's", key);
	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* Checks one field of the line against the event; index counts fields. */
static void
check_field(const bg_event *ev, const char *key, const char *value, size_t index,
    bool last_two, bool last)
{
	char want[FIELD_KEY_MAX];
	const char *text;

	if (last) {
		snprintf(want, sizeof(want), "%.*s", MAC_SHOWN, TEST_MAC);
		if (strcmp(key, "mac") != 0 || strcmp(value, want) != 0)
			fz_fail("syslog: does not end with mac=%s", want);
	} else if (last_two) {
		snprintf(want, sizeof(want), "%llu", TEST_SEQ);
		if (strcmp(key, "seq") != 0 || strcmp(value, want) != 0)
			fz_fail("syslog: seq=%s is not second to last", want);
	} else if (index == 0 || index == 1) {
		if (strcmp(key, index == 0 ? "event" : "outcome") != 0 || strcmp(value,
		    index == 0 ? bg_event_name(ev) : bg_event_outcome(ev)) != 0)
			fz_fail("syslog: does not start with event and outcome");
	} else if (strcmp(key, "truncated") != 0 &&
	    (text = member_text(ev, key)) != NULL && strcmp(text, value) != 0) {
		fz_fail("syslog: %s does not decode to the event's value", key);
	}
}

static void
check_line(const bg_event *ev, const char *line)
{
	size_t index = 0;
	const char *p;

	if (strlen(line) > BG_SYSLOG_MAX_LINE)
		fz_fail("syslog: %zu bytes", strlen(line));
	check_printable(line, "syslog");
	for (p = line; *p != '\0'; index++) {
		char key[FIELD_KEY_MAX];
		size_t klen = strspn(p, "abcdefghijklmnopqrstuvwxyz_0123456789");
		const char *end;
		bg_buf value;

		if (klen == 0 || klen >= sizeof(key) || p[klen] != '=')
			fz_fail("syslog: no key=value at offset %zu of [%s]", (size_t)(p - line),
			    line);
		memcpy(key, p, klen);
		key[klen] = '\0';
		bg_buf_init(&value, 0);
		if (!kv_decode(p + klen + 1, &end, &value) || (*end != ' ' && *end != '\0'))
			fz_fail("syslog: bad value for %s in [%s]", key, line);
		p = *end == ' ' ? end + 1 : end;
		check_field(ev, key, value.data, index, strncmp(p, "mac=", 4) == 0 &&
		    strchr(p, ' ') == NULL, *p == '\0');
		bg_buf_free(&value);
	}
	if (index < 4)
		fz_fail("syslog: %zu fields in [%s]", index, line);
}

static void
check_syslog(const char *const *parts, size_t nparts)
{
	const char *id[IDENTITY_PARTS] = { NULL, NULL, NULL, NULL };
	char line[BG_SYSLOG_MAX_LINE + 1], key[FIELD_KEY_MAX];
	bg_event *ev = bg_event_new("fuzz.event", "failure");
	bg_error err;

	if (ev == NULL)
		fz_fail("syslog: out of memory");
	for (size_t i = 0; i < IDENTITY_PARTS && i < nparts; i++)
		id[i] = parts[i];
	bg_event_set_identity(ev, id[0], id[1], id[2], id[3]);
	for (size_t i = IDENTITY_PARTS; i < nparts; i++) {
		snprintf(key, sizeof(key), "f%zu", i - IDENTITY_PARTS);
		bg_event_add_str(ev, key, parts[i]);
	}
	bg_event_add_int(ev, "count", (long long)nparts);
	if (nparts > IDENTITY_PARTS)
		bg_event_add_strv(ev, "argv", parts + IDENTITY_PARTS, nparts - IDENTITY_PARTS);
	if (bg_audit_format_syslog(ev, TEST_SEQ, TEST_MAC, line, sizeof(line), &err) != BG_OK)
		fz_fail("syslog: %s", err.msg);
	check_line(ev, line);
	bg_event_free(ev);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fz_strndup(data, size);
	const char *parts[MAX_PARTS];
	size_t nparts = 0;

	check_kv(text);
	check_printable_escape(text, size > 1 ? data[1] : 0);
	check_utf8(text, size > 0 ? data[0] : 0);
	for (size_t at = 0; at < size && nparts < MAX_PARTS; at += strlen(text + at) + 1)
		parts[nparts++] = text + at;
	check_syslog(parts, nparts);
	free(text);
	return 0;
}
