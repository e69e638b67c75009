/* A growable byte buffer with a hard cap. */
#include "build_config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

void
bg_buf_init(bg_buf *b, size_t limit)
{
	memset(b, 0, sizeof(*b));
	b->limit = limit;
}

static bool
buf_reserve(bg_buf *b, size_t extra)
{
	size_t need, cap;
	char *grown;

	if (extra > SIZE_MAX - b->len - 1 ||
	    (b->limit != 0 && b->len + extra > b->limit)) {
		b->overflow = true;
		return false;
	}
	need = b->len + extra + 1;
	if (need <= b->cap)
		return true;
	cap = b->cap != 0 ? b->cap : 256;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	/* Grow by copy so the old block can be zeroed: it may hold secrets. */
	grown = malloc(cap);
	if (grown == NULL) {
		b->overflow = true;
		return false;
	}
	if (b->data != NULL) {
		memcpy(grown, b->data, b->len + 1);
		explicit_bzero(b->data, b->cap);
		free(b->data);
	} else {
		grown[0] = '\0';
	}
	b->data = grown;
	b->cap = cap;
	return true;
}

bool
bg_buf_append(bg_buf *b, const void *data, size_t len)
{
	if (!buf_reserve(b, len))
		return false;
	if (len > 0)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return true;
}

bool
bg_buf_puts(bg_buf *b, const char *s)
{
	return bg_buf_append(b, s, strlen(s));
}

bool
bg_buf_printf(bg_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !buf_reserve(b, (size_t)n))
		return false;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return true;
}

void
bg_buf_free(bg_buf *b)
{
	if (b->data != NULL) {
		explicit_bzero(b->data, b->cap);
		free(b->data);
	}
	bg_buf_init(b, b->limit);
}
