/* Daemon messages: syslog (facility daemon), and stderr in the foreground. */
#include "build_config.h"

#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

#include "approvald.h"

void
ad_log_open(bool foreground)
{
	openlog("breakglass-approvald", LOG_PID | LOG_NDELAY |
	    (foreground ? LOG_PERROR : 0), LOG_DAEMON);
}

void
ad_log(int priority, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsyslog(priority, fmt, ap);
	va_end(ap);
}
