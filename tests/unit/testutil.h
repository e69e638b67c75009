/* Helpers shared by the unit tests: temporary directories and files. */
#ifndef BG_TESTUTIL_H
#define BG_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <sys/types.h>
#include <time.h>

#include "grant.h"

/* Creates a fresh private directory under $TMPDIR (or /tmp); returns a static-lifetime copy. */
char *tu_mkdtemp(void);
/* Removes a directory tree created by tu_mkdtemp. */
void tu_rmtree(const char *path);
/* dir + "/" + name in a malloc()ed string. */
char *tu_path(const char *dir, const char *name);
/* Writes text to dir/name with mode; returns the malloc()ed path. */
char *tu_write(const char *dir, const char *name, mode_t mode, const char *text);
/*
 * Writes a fresh Ed25519 key pair as dir/NAME.pem (private, 0600) and
 * dir/NAME.pub (public, 0644); returns both malloc()ed paths.
 */
void tu_make_ed25519(const char *dir, const char *name, char **priv, char **pub);
/* Reads a whole file (malloc()ed, NUL-terminated); *len may be NULL. */
char *tu_read(const char *path, size_t *len);

/* The host_id the test configurations name, and the grants and decisions carry. */
#define TU_HOST "mx1.example.net"

/*
 * A decision body as the approval service signs it: request "req-1", nonce,
 * host TU_HOST, the given account, operator "alice", incident "INC-42", scope and status,
 * approved by "bob" and "carol", issued at issued (RFC 3339) for ttl
 * seconds.  malloc()ed.
 */
char *tu_decision(const char *account, const char *scope, const char *status, time_t issued,
    long long ttl);
/* Sets g->decision_signature to the base64 Ed25519 signature of g->decision. */
void tu_grant_sign(bg_grant *g, const char *priv);
/*
 * Fills g (zeroed first) with a consistent grant for account and scope on
 * host TU_HOST, valid from issued to expires, bound to a decision issued at
 * issued with ttl expires - issued, signed with priv.
 */
void tu_grant_make(bg_grant *g, const char *account, const char *scope, time_t issued,
    time_t expires, const char *priv);

/*
 * Starts `python3 script args...` (a loopback test server that prints its
 * port on its first line and exits when its stdin closes); returns the port.
 */
int tu_server_start(const char *script, const char *const *args, pid_t *pid, int *in_fd);
void tu_server_stop(pid_t pid, int in_fd);

#endif
