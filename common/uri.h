/*
 * Percent-encoding as AWS uses it: only A-Za-z0-9 - . _ ~ stay literal (RFC 3986
 * unreserved), and a space is %20, never '+'. And the one walk over a query string's
 * parameters.
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

/* A cursor over a raw query string, "k=v&k2=v2" (uri_query_init, uri_query_next). */
struct uri_query {
	const char *p; /* what is left of the query */
};

/* Start iterating over query (borrowed for the iteration); NULL and "" have no parameters. */
void uri_query_init(struct uri_query *it, const char *query);
/*
 * The next parameter; empty ones ("a=1&&b=2") are skipped. Returns 1 with its key and value
 * decoded by uri_decode() (without '=', the value is ""), allocated and owned by the caller;
 * 0 at the end; -1, with *key and *value NULL, when either has a malformed escape. A
 * malformed parameter is consumed: the caller may stop there or go on to the next.
 */
int uri_query_next(struct uri_query *it, char **key, char **value);

#endif
