/* One syslog line under a given identity and facility (logsink.h). */
#include "build_config.h"

#include <pthread.h>
#include <syslog.h>

#include "logsink.h"

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void
bg_syslog_as(const char *ident, int facility, int priority, const char *line)
{
	pthread_mutex_lock(&log_lock);
	openlog(ident, LOG_PID | LOG_NDELAY, facility);
	/* The facility in the call too: another thread's openlog cannot change it. */
	syslog(facility | priority, "%s", line);
	closelog();
	pthread_mutex_unlock(&log_lock);
}
