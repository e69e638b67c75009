/* Parsing and writing the UTC times breakglass uses. */
#include "build_config.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "escape.h"
#include "timeparse.h"

#define BG_TIME_SHOWN_MAX 64

/* Whether s begins with "YYYY-MM-DD" (and "THH:MM:SS" when with_time), digits where digits go. */
static bool
shape_ok(const char *s, bool with_time)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd";
	size_t n = with_time ? sizeof(shape) - 1 : strlen("dddd-dd-dd");

	for (size_t i = 0; i < n; i++)
		if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != shape[i])
			return false;
	return true;
}

static bg_status
refuse(const char *s, bg_error *err)
{
	char shown[BG_TIME_SHOWN_MAX];

	bg_escape_printable(s, shown, sizeof(shown));
	return bg_error_set(err, BG_ERR_INVALID, "not an RFC 3339 UTC time: %s", shown);
}

bg_status
bg_time_parse_rfc3339(const char *s, time_t *out, bg_error *err)
{
	struct tm tm;
	const char *rest;

	memset(&tm, 0, sizeof(tm));
	if (!shape_ok(s, true) || (rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL ||
	    rest != s + strlen("YYYY-MM-DDTHH:MM:SS"))
		return refuse(s, err);
	if (*rest == '.') {
		if (!isdigit((unsigned char)*++rest))
			return refuse(s, err);
		while (isdigit((unsigned char)*rest))
			rest++;
	}
	if (strcmp(rest, "Z") != 0)
		return refuse(s, err);
	*out = timegm(&tm);
	return BG_OK;
}

bg_status
bg_time_parse_utc(const char *s, time_t *out, bg_error *err)
{
	struct tm tm;
	const char *rest;

	if (strlen(s) != strlen("YYYY-MM-DD"))
		return bg_time_parse_rfc3339(s, out, err);
	memset(&tm, 0, sizeof(tm));
	if (!shape_ok(s, false) || (rest = strptime(s, "%Y-%m-%d", &tm)) == NULL ||
	    *rest != '\0')
		return refuse(s, err);
	*out = timegm(&tm);
	return BG_OK;
}

void
bg_time_format_utc(time_t t, char out[BG_TIME_UTC_LEN])
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(out, BG_TIME_UTC_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, BG_TIME_UTC_LEN, "-");
}
