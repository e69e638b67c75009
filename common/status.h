/* Status codes and error messages shared by every common/ function. */
#ifndef BG_STATUS_H
#define BG_STATUS_H

#include <stddef.h>

/*
 * Every fallible function returns a bg_status and, on failure, writes a
 * human-readable message into a caller-supplied bg_error.  The message never
 * holds secret material; callers log it (escaped) and deny.
 */
typedef enum {
	BG_OK = 0,
	BG_ERR_INVALID,   /* bad input: config, JSON, file contents, arguments */
	BG_ERR_IO,        /* a system call failed */
	BG_ERR_PERM,      /* ownership, mode or symlink check failed */
	BG_ERR_NOTFOUND,  /* the file or record does not exist */
	BG_ERR_TOOBIG,    /* input exceeds its cap */
	BG_ERR_CRYPTO,    /* libcrypto failure or verification failure */
	BG_ERR_NOMEM,
	BG_ERR_DENIED,    /* a policy refusal */
} bg_status;

#define BG_ERROR_MAX 512

typedef struct {
	char msg[BG_ERROR_MAX];
} bg_error;

/* Formats into err->msg (when err is not NULL) and returns st. */
bg_status bg_error_set(bg_error *err, bg_status st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* As bg_error_set, with ": strerror(errnum)" appended. */
bg_status bg_error_errno(bg_error *err, bg_status st, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Prefixes an existing message: "prefix: old message". */
void bg_error_prefix(bg_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

const char *bg_status_name(bg_status st);

/* A list of errors, for reports that must show every problem (check-config). */
typedef struct {
	char **msgs;
	size_t count;
} bg_errlist;

/* Appends a formatted message; on allocation failure the list keeps a marker. */
void bg_errlist_add(bg_errlist *list, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void bg_errlist_free(bg_errlist *list);

#endif
