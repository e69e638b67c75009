/* Wall-clock time in milliseconds and its RFC 3339 form. */
#include "build_config.h"

#include <stdio.h>
#include <time.h>

#include "approvald.h"

#define NS_PER_MS 1000000LL

int64_t
ad_now_ms(void)
{
	struct timespec ts;

	/* CLOCK_REALTIME cannot fail with a valid pointer. */
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * AD_MS_PER_SECOND + ts.tv_nsec / NS_PER_MS;
}

void
ad_time_format(int64_t ms, char out[AD_TIME_LEN])
{
	time_t secs = (time_t)(ms / AD_MS_PER_SECOND);
	struct tm tm;
	size_t n;

	if (gmtime_r(&secs, &tm) == NULL ||
	    (n = strftime(out, AD_TIME_LEN, "%Y-%m-%dT%H:%M:%S", &tm)) == 0) {
		snprintf(out, AD_TIME_LEN, "1970-01-01T00:00:00.000Z");
		return;
	}
	snprintf(out + n, AD_TIME_LEN - n, ".%03dZ", (int)(ms % AD_MS_PER_SECOND));
}
