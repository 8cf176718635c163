/*
 * Allocation that never returns NULL: on failure it prints the size and aborts, so no code
 * path pretends to survive running out of memory (tmux, OpenBSD).
 */
#ifndef TETHER_COMMON_XMALLOC_H
#define TETHER_COMMON_XMALLOC_H

#include <stdarg.h>
#include <stddef.h>

#include "common/compat.h"

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
/* Resize an array of nmemb elements of size bytes, checking the multiplication. */
void *xreallocarray(void *ptr, size_t nmemb, size_t size);
char *xstrdup(const char *s);
/* Copy at most n bytes of s and terminate the copy; s need not be terminated. */
char *xstrndup(const char *s, size_t n);
void *xmemdup(const void *p, size_t n);
/* A freshly allocated formatted string. */
char *xasprintf(const char *fmt, ...) PRINTFLIKE(1, 2);
char *xvasprintf(const char *fmt, va_list ap) PRINTFLIKE(1, 0);

#endif
