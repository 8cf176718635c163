#include <stdlib.h>
#include <string.h>

#include "common/crypto.h"
#include "common/uri.h"
#include "common/xmalloc.h"

bool
uri_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

int
uri_encode(struct buf *out, const char *s, size_t n, bool keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	char esc[3];
	size_t i, start = 0;
	unsigned char c;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (uri_unreserved(c) || (keep_slash && c == '/'))
			continue;
		if (buf_append(out, s + start, i - start) != 0)
			return -1;
		esc[0] = '%';
		esc[1] = hex[c >> 4];
		esc[2] = hex[c & 15];
		if (buf_append(out, esc, 3) != 0)
			return -1;
		start = i + 1;
	}
	return buf_append(out, s + start, n - start);
}

int
uri_decode(const char *s, size_t n, char **out, size_t *outlen)
{
	char *d;
	size_t i, o = 0;
	unsigned char byte;

	*out = NULL;
	d = xmalloc(n + 1);
	for (i = 0; i < n; i++) {
		if (s[i] != '%') {
			d[o++] = s[i];
			continue;
		}
		if (n - i < 3)
			goto bad;
		if (crypto_unhex(s + i + 1, 1, &byte) != 0 || byte == 0)
			goto bad;
		d[o++] = (char)byte;
		i += 2;
	}
	d[o] = '\0';
	*out = d;
	if (outlen != NULL)
		*outlen = o;
	return 0;
bad:
	free(d);
	return -1;
}

void
uri_query_init(struct uri_query *it, const char *query)
{
	it->p = query != NULL ? query : "";
}

int
uri_query_next(struct uri_query *it, char **key, char **value)
{
	const char *p = it->p, *end, *eq, *v;

	*key = NULL;
	*value = NULL;
	while (*p == '&')
		p++;
	if (*p == '\0') {
		it->p = p;
		return 0;
	}
	end = strchr(p, '&');
	if (end == NULL)
		end = p + strlen(p);
	it->p = end;
	eq = memchr(p, '=', (size_t)(end - p));
	if (eq == NULL)
		eq = end;
	v = eq < end ? eq + 1 : end;
	if (uri_decode(p, (size_t)(eq - p), key, NULL) != 0)
		return -1;
	if (uri_decode(v, (size_t)(end - v), value, NULL) != 0) {
		free(*key);
		*key = NULL;
		return -1;
	}
	return 1;
}
