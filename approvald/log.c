/*
 * Daemon messages: syslog (facility daemon, ident breakglass-approvald), and
 * stderr in the foreground.  Each line names its identity and facility
 * (common/logsink.h): the audit lines the same process writes as authpriv
 * "breakglass" must not turn the daemon's own into theirs.
 */
#include "build_config.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <syslog.h>
#include <unistd.h>

#include "approvald.h"
#include "audit.h"
#include "logsink.h"

static bool to_stderr;

void
ad_log_open(bool foreground)
{
	to_stderr = foreground;
}

void
ad_log(int priority, const char *fmt, ...)
{
	char line[BG_SYSLOG_MAX_LINE + 1];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	bg_syslog_as("breakglass-approvald", LOG_DAEMON, priority, line);
	if (to_stderr)
		fprintf(stderr, "breakglass-approvald[%ld]: %s\n", (long)getpid(), line);
}
