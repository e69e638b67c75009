/*
 * One syslog line under a given identity and facility, leaving none behind.
 * syslog(3)'s identity, facility and options are per process: the PAM module
 * shares sshd's, the sudo plugin sudo's, and approvald's threads share the
 * daemon's.  Each line opens the log with its own identity and closes it
 * again, under one lock, so no other line of the process is written under
 * breakglass's identity or facility, nor breakglass's under theirs.  (sshd
 * and sudo reopen their log for each of their lines.)
 */
#ifndef BG_LOGSINK_H
#define BG_LOGSINK_H

void bg_syslog_as(const char *ident, int facility, int priority, const char *line);

#endif
