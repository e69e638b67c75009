/* Parsing and writing the UTC times breakglass uses (RFC 3339, "Z" only). */
#ifndef BG_TIMEPARSE_H
#define BG_TIMEPARSE_H

#include <time.h>

#include "status.h"

/*
 * Parses "2026-11-27T15:17:57.123Z", "2026-11-27T15:17:57Z" or "2026-11-27"
 * as UTC: the decision's issued_at and votes, journal times, report bounds.
 * In the core library, so the sudo plugin can check a grant's decision.
 */
bg_status bg_time_parse_utc(const char *s, time_t *out, bg_error *err);
/*
 * The time form alone, exactly: "YYYY-MM-DDTHH:MM:SS", an optional "." and
 * one or more digits, "Z" (what a host files as created_at or issued_at).
 */
bg_status bg_time_parse_rfc3339(const char *s, time_t *out, bg_error *err);

/* "2026-11-27T15:17:57Z" and its NUL. */
#define BG_TIME_UTC_LEN 21
/* t as RFC 3339 UTC to the second; "-" when t cannot be represented. */
void bg_time_format_utc(time_t t, char out[BG_TIME_UTC_LEN]);

#endif
