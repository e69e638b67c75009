/* A growable byte buffer with a hard cap, for building lines and bodies. */
#ifndef BG_BUF_H
#define BG_BUF_H

#include <stdbool.h>
#include <stddef.h>

#include "status.h"

typedef struct {
	char *data;       /* always NUL-terminated when non-NULL */
	size_t len;
	size_t cap;       /* allocated */
	size_t limit;     /* maximum len; 0 = unlimited */
	bool overflow;    /* an append was refused for the limit or memory */
} bg_buf;

void bg_buf_init(bg_buf *b, size_t limit);
/* Appends; returns false (and sets overflow) when it would exceed limit. */
bool bg_buf_append(bg_buf *b, const void *data, size_t len);
bool bg_buf_puts(bg_buf *b, const char *s);
bool bg_buf_printf(bg_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Zeroes the contents before freeing (buffers may hold secrets). */
void bg_buf_free(bg_buf *b);

#endif
