/*
 * Percent-encoding as AWS uses it: only A-Za-z0-9 - . _ ~ stay literal (RFC 3986
 * unreserved), and a space is %20, never '+'.
 */
#ifndef TETHER_COMMON_URI_H
#define TETHER_COMMON_URI_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"

bool uri_unreserved(unsigned char c);
/* Append the encoding of n bytes of s; '/' stays literal when keep_slash. 0 or -1 (cap). */
int uri_encode(struct buf *out, const char *s, size_t n, bool keep_slash);
/*
 * Decode %XX escapes ('+' is left alone). Returns 0 and an allocated, NUL-terminated copy,
 * or -1 on a malformed escape or an encoded NUL.
 */
int uri_decode(const char *s, size_t n, char **out, size_t *outlen);

#endif
