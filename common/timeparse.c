/* Parsing and writing the UTC times breakglass uses. */
#include "build_config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "timeparse.h"

bg_status
bg_time_parse_utc(const char *s, time_t *out, bg_error *err)
{
	struct tm tm;
	const char *rest;

	memset(&tm, 0, sizeof(tm));
	rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (rest == NULL) {
		memset(&tm, 0, sizeof(tm));
		rest = strptime(s, "%Y-%m-%d", &tm);
		if (rest == NULL || *rest != '\0')
			return bg_error_set(err, BG_ERR_INVALID, "not a UTC time: %s", s);
	} else {
		if (*rest == '.') {
			rest++;
			while (*rest >= '0' && *rest <= '9')
				rest++;
		}
		if (strcmp(rest, "Z") != 0)
			return bg_error_set(err, BG_ERR_INVALID, "not a UTC time: %s", s);
	}
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
