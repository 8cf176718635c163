/*
 * A growable byte buffer with a hard cap (curl's dynbuf). Appending past the cap fails and
 * leaves the buffer unchanged; it never silently grows beyond what its owner allowed. The
 * data is always NUL-terminated so that text can be used as a C string.
 */
#ifndef TETHER_COMMON_BUF_H
#define TETHER_COMMON_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "common/compat.h"

struct buf {
	char *data; /* NULL until the first append */
	size_t len;
	size_t cap; /* allocated, including the terminating NUL */
	size_t max; /* most bytes len may reach */
};

#define BUF_INIT(max)             \
	{                         \
		NULL, 0, 0, (max) \
	}

void buf_init(struct buf *b, size_t max);
/* Append n bytes. Returns 0, or -1 when len would exceed the cap. */
int buf_append(struct buf *b, const void *p, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_putc(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...) PRINTFLIKE(2, 3);
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) PRINTFLIKE(2, 0);
/* The contents as a C string; "" for an empty buffer. Borrowed. */
const char *buf_cstr(const struct buf *b);
/* Forget the contents but keep the storage. */
void buf_reset(struct buf *b);
/* Drop the first n bytes (consumed input). */
void buf_consume(struct buf *b, size_t n);
/* Hand the storage to the caller (free() it); the buffer becomes empty. Never NULL. */
char *buf_detach(struct buf *b, size_t *len);
/* Release the storage; the cap is kept so the buffer can be reused. */
void buf_free(struct buf *b);

#endif
