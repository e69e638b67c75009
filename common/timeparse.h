/* Parsing the UTC times breakglass writes (RFC 3339, "Z" only). */
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

#endif
