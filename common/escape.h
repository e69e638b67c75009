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
 * Whether s is valid UTF-8 free of C0 controls, DEL, C1 controls
 * (U+0080-U+009F) and bidi controls (U+061C, U+200E, U+200F, U+202A-U+202E,
 * U+2066-U+2069): text that shows as what it is.  Typed input that must
 * be read by people (incident, reason, comments) is refused otherwise.
 */
bool bg_text_displayable(const char *s);

/*
 * Whether the len bytes at s are valid UTF-8 holding no NUL, DEL, C1 or bidi
 * control, and no C0 control other than tab, line feed and carriage return:
 * every string of every body the approval service accepts (monitoring text
 * may hold line breaks; typed fields are held to bg_text_displayable too).
 */
bool bg_text_acceptable(const char *s, size_t len);

/*
 * Returns a malloc()ed copy of at most max bytes of s in which every byte
 * that is not part of valid UTF-8 is replaced by U+FFFD, so every JSON
 * parser reads the journal the same way, and every C1 and bidi
 * control is written as the six visible characters \uXXXX
 * (lowercase hex), so no reader of the journal, syslog or the approvers'
 * page is shown it raw.  A sequence or escape is never cut in half;
 * *truncated tells whether s was longer than max.  NULL on allocation
 * failure.
 */
char *bg_utf8_sanitize(const char *s, size_t max, bool *truncated);

/*
 * Appends text (NULL: nothing) for HTML or Slack mrkdwn: as bg_utf8_sanitize
 * writes it (C1 and bidi controls as a visible \uXXXX, invalid UTF-8 as
 * U+FFFD), other C0 controls but tab and line feed, and DEL, as U+FFFD,
 * & < > as character references, and " ' too when quotes (HTML attributes
 * and text; Slack decodes only the first three).  The one markup escaper of
 * the approvers' page, the notifications and the HTML report.  Out of memory
 * sets b->overflow.
 */
void bg_escape_markup(bg_buf *b, const char *text, bool quotes);
/*
 * As bg_escape_markup, from at most max bytes of the sanitized text (cut on
 * a character boundary, as bg_utf8_sanitize cuts) followed by an ellipsis
 * when cut: what a host sent never outgrows a page or a message.
 */
void bg_escape_markup_cut(bg_buf *b, const char *text, bool quotes, size_t max);

#endif
