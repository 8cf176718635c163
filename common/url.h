/*
 * Absolute http(s) URLs taken apart the way a client needs them: where to connect, what
 * the Host header carries (which is also what SigV4 signs), and the raw path and query as
 * they go on the wire. One parser for every URL tether requests or signs.
 */
#ifndef TETHER_COMMON_URL_H
#define TETHER_COMMON_URL_H

#include "common/err.h"

/* The longest URL url_parse() accepts; callers may hold their URLs to a smaller cap. */
#define URL_MAX (16 * 1024)

struct url {
	char *scheme;    /* "http" or "https", lower-case */
	char *host;      /* lower-case; IPv6 literals without brackets */
	int port;        /* explicit or the scheme's default */
	char *authority; /* the Host header: host (bracketed for IPv6), ":port" unless default */
	char *path;      /* raw, exactly as on the wire; "" when absent */
	char *query;     /* raw, without '?'; NULL when absent */
};

/*
 * Split and check an absolute URL: scheme http or https (any case), a host (letters,
 * digits, '-', '.', '_', or a bracketed IPv6 address), an optional port (1-65535), then
 * the path and query as they are. Refused: user information, a fragment (it is never part
 * of a request), white space, control characters and non-ASCII bytes, more than URL_MAX
 * bytes, NULL. Returns 0 with every field but query allocated (release with url_clear()),
 * or ERR_INVALID with out zeroed and err filled; each message starts with "URL".
 */
int url_parse(struct url *out, const char *s, struct err *err);
/* Release what url_parse() allocated and zero u. Accepts NULL. */
void url_clear(struct url *u);

#endif
