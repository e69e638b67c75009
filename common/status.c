/* Status codes and error messages. */
#include "build_config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "status.h"

bg_status
bg_error_set(bg_error *err, bg_status st, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return st;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return st;
}

bg_status
bg_error_errno(bg_error *err, bg_status st, int errnum, const char *fmt, ...)
{
	va_list ap;
	size_t len;

	if (err == NULL)
		return st;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	len = strlen(err->msg);
	if (snprintf(err->msg + len, sizeof(err->msg) - len, ": %s", strerror(errnum)) < 0)
		err->msg[len] = '\0';
	return st;
}

void
bg_error_prefix(bg_error *err, const char *fmt, ...)
{
	char prefix[BG_ERROR_MAX], old[BG_ERROR_MAX];
	va_list ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	/* Truncation is acceptable: the message is for a log line. */
	if (snprintf(err->msg, sizeof(err->msg), "%s: %s", prefix, old) < 0)
		err->msg[0] = '\0';
}

const char *
bg_status_name(bg_status st)
{
	switch (st) {
	case BG_OK: return "ok";
	case BG_ERR_INVALID: return "invalid";
	case BG_ERR_IO: return "io";
	case BG_ERR_PERM: return "permission";
	case BG_ERR_NOTFOUND: return "not-found";
	case BG_ERR_TOOBIG: return "too-large";
	case BG_ERR_CRYPTO: return "crypto";
	case BG_ERR_NOMEM: return "no-memory";
	case BG_ERR_DENIED: return "denied";
	}
	return "unknown";
}

static char errlist_oom[] = "out of memory while recording an error";

void
bg_errlist_add(bg_errlist *list, const char *fmt, ...)
{
	char buf[BG_ERROR_MAX];
	char **grown, *copy;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	grown = realloc(list->msgs, (list->count + 1) * sizeof(*list->msgs));
	if (grown == NULL)
		return;
	list->msgs = grown;
	copy = strdup(buf);
	list->msgs[list->count++] = copy != NULL ? copy : errlist_oom;
}

void
bg_errlist_free(bg_errlist *list)
{
	for (size_t i = 0; i < list->count; i++)
		if (list->msgs[i] != errlist_oom)
			free(list->msgs[i]);
	free(list->msgs);
	list->msgs = NULL;
	list->count = 0;
}
