/* Helpers shared by the unit tests: temporary directories and files. */
#ifndef BG_TESTUTIL_H
#define BG_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <sys/types.h>

/* Creates a fresh private directory under $TMPDIR (or /tmp); returns a static-lifetime copy. */
char *tu_mkdtemp(void);
/* Removes a directory tree created by tu_mkdtemp. */
void tu_rmtree(const char *path);
/* dir + "/" + name in a malloc()ed string. */
char *tu_path(const char *dir, const char *name);
/* Writes text to dir/name with mode; returns the malloc()ed path. */
char *tu_write(const char *dir, const char *name, mode_t mode, const char *text);
/* Reads a whole file (malloc()ed, NUL-terminated); *len may be NULL. */
char *tu_read(const char *path, size_t *len);

/*
 * Starts `python3 script args...` (a loopback test server that prints its
 * port on its first line and exits when its stdin closes); returns the port.
 */
int tu_server_start(const char *script, const char *const *args, pid_t *pid, int *in_fd);
void tu_server_stop(pid_t pid, int in_fd);

#endif
