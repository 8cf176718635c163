#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/crypto.h"
#include "common/jsonw.h"
#include "common/utf8.h"

void
jsonw_init(struct jsonw *w, struct buf *out)
{
	w->out = out;
	w->depth = 0;
	w->first[0] = true;
	w->after_key = false;
	w->failed = false;
}

bool
jsonw_failed(const struct jsonw *w)
{
	return w->failed;
}

static void
put(struct jsonw *w, const char *s, size_t n)
{
	struct buf *b = w->out;

	if (w->failed)
		return;
	/* The common case: room in the buffer, no need for buf_append's bookkeeping. */
	if (b->data != NULL && n < b->cap - b->len && b->len + n <= b->max) {
		memcpy(b->data + b->len, s, n);
		b->len += n;
		b->data[b->len] = '\0';
		return;
	}
	if (buf_append(b, s, n) != 0)
		w->failed = true;
}

static void
puts_(struct jsonw *w, const char *s)
{
	put(w, s, strlen(s));
}

/* The separator before a value: a comma between array items, nothing after a key. */
static void
value_prefix(struct jsonw *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (!w->first[w->depth])
		put(w, ",", 1);
	w->first[w->depth] = false;
}

static void
open_(struct jsonw *w, char c)
{
	value_prefix(w);
	put(w, &c, 1);
	if (w->depth + 1 >= JSONW_DEPTH_MAX) {
		w->failed = true;
		return;
	}
	w->depth++;
	w->first[w->depth] = true;
}

static void
close_(struct jsonw *w, char c)
{
	if (w->depth > 0)
		w->depth--;
	put(w, &c, 1);
}

void
jsonw_object_open(struct jsonw *w)
{
	open_(w, '{');
}

void
jsonw_object_close(struct jsonw *w)
{
	close_(w, '}');
}

void
jsonw_array_open(struct jsonw *w)
{
	open_(w, '[');
}

void
jsonw_array_close(struct jsonw *w)
{
	close_(w, ']');
}

/* Bytes a JSON string cannot hold as they are: controls, '"', '\\' and non-ASCII. */
/* clang-format off */
static const unsigned char special[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 00 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 10 */
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 20 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 30 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 40 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, /* 50 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 60 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 70 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 80 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 90 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* a0 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* b0 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* c0 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* d0 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* e0 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* f0 */
};
/* clang-format on */

void
jsonw_stringn(struct jsonw *w, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	char esc[8];
	size_t i = 0, start = 0, len;

	value_prefix(w);
	put(w, "\"", 1);
	while (i < n) {
		if (!special[p[i]]) {
			i++;
			continue;
		}
		if (p[i] >= 0x80) {
			len = utf8_len(p + i, n - i);
			if (len > 0) {
				i += len;
				continue;
			}
		}
		put(w, s + start, i - start);
		if (p[i] == '"') {
			put(w, "\\\"", 2);
		} else if (p[i] == '\\') {
			put(w, "\\\\", 2);
		} else if (p[i] == '\n') {
			put(w, "\\n", 2);
		} else if (p[i] == '\r') {
			put(w, "\\r", 2);
		} else if (p[i] == '\t') {
			put(w, "\\t", 2);
		} else if (p[i] < 0x20) {
			memcpy(esc, "\\u00", 4);
			crypto_hex(p + i, 1, esc + 4);
			put(w, esc, 6);
		} else {
			put(w, "\xef\xbf\xbd", 3); /* U+FFFD for a byte that is not UTF-8 */
		}
		i++;
		start = i;
	}
	put(w, s + start, i - start);
	put(w, "\"", 1);
}

void
jsonw_string(struct jsonw *w, const char *s)
{
	jsonw_stringn(w, s, strlen(s));
}

void
jsonw_key(struct jsonw *w, const char *key)
{
	size_t n = strlen(key), i;

	/* The model's own member names need no escaping; anything else goes the long way. */
	for (i = 0; i < n; i++)
		if (special[(unsigned char)key[i]])
			break;
	if (i < n) {
		jsonw_stringn(w, key, n);
	} else {
		value_prefix(w);
		put(w, "\"", 1);
		put(w, key, n);
		put(w, "\"", 1);
	}
	put(w, ":", 1);
	w->after_key = true;
}

void
jsonw_int(struct jsonw *w, int64_t v)
{
	char tmp[24], *p = tmp + sizeof(tmp);
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

	value_prefix(w);
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u > 0);
	if (v < 0)
		*--p = '-';
	put(w, p, (size_t)(tmp + sizeof(tmp) - p));
}

void
jsonw_double(struct jsonw *w, double v)
{
	char tmp[40];

	value_prefix(w);
	if (!isfinite(v)) {
		puts_(w, "null");
		return;
	}
	/* The shortest of %.15g and %.17g that reads back as the same double. */
	snprintf(tmp, sizeof(tmp), "%.15g", v);
	if (strtod(tmp, NULL) != v)
		snprintf(tmp, sizeof(tmp), "%.17g", v);
	/* JSON has no bare integers for doubles, but "1" reads back as 1.0 in every client. */
	puts_(w, tmp);
}

void
jsonw_bool(struct jsonw *w, bool v)
{
	value_prefix(w);
	puts_(w, v ? "true" : "false");
}

void
jsonw_null(struct jsonw *w)
{
	value_prefix(w);
	puts_(w, "null");
}

static int
dump_cb(const char *buffer, size_t size, void *data)
{
	struct jsonw *w = data;

	put(w, buffer, size);
	return w->failed ? -1 : 0;
}

void
jsonw_json(struct jsonw *w, const json_t *v)
{
	value_prefix(w);
	if (v == NULL) {
		puts_(w, "null");
		return;
	}
	if (json_dump_callback(v, dump_cb, w, JSON_COMPACT | JSON_ENCODE_ANY) != 0)
		w->failed = true;
}

void
jsonw_kstr(struct jsonw *w, const char *key, const char *s)
{
	jsonw_key(w, key);
	jsonw_string(w, s != NULL ? s : "");
}

void
jsonw_kstr_opt(struct jsonw *w, const char *key, const char *s)
{
	if (s == NULL)
		return;
	jsonw_key(w, key);
	jsonw_string(w, s);
}

void
jsonw_kstr_null(struct jsonw *w, const char *key, const char *s)
{
	jsonw_key(w, key);
	if (s == NULL)
		jsonw_null(w);
	else
		jsonw_string(w, s);
}

void
jsonw_kint(struct jsonw *w, const char *key, int64_t v)
{
	jsonw_key(w, key);
	jsonw_int(w, v);
}

void
jsonw_kbool(struct jsonw *w, const char *key, bool v)
{
	jsonw_key(w, key);
	jsonw_bool(w, v);
}

void
jsonw_kjson(struct jsonw *w, const char *key, const json_t *v)
{
	jsonw_key(w, key);
	jsonw_json(w, v);
}
