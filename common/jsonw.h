/*
 * The project's one JSON writer: it streams into a capped buffer, so hot paths (the
 * emulator's GetFunction) and log lines write their JSON directly instead of building a
 * jansson tree first. Strings are escaped as RFC 8259 asks and bytes that are not UTF-8
 * become U+FFFD, so the output is always valid JSON whatever a string carried. A write past
 * the buffer's cap sets a sticky error that jsonw_failed() reports; the caller then answers
 * with an error.
 */
#ifndef TETHER_COMMON_JSONW_H
#define TETHER_COMMON_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/buf.h"

#define JSONW_DEPTH_MAX 32

/* On the caller's stack, for one document: the fields are the writer's own. */
struct jsonw {
	struct buf *out;
	int depth;
	bool first[JSONW_DEPTH_MAX]; /* no member written yet at this depth */
	bool after_key;              /* a key was written and waits for its value */
	bool failed;
};

/* Start writing into out (borrowed; appended to). */
void jsonw_init(struct jsonw *w, struct buf *out);
/* Whether a write went past out's cap or JSONW_DEPTH_MAX; the output is then incomplete. */
bool jsonw_failed(const struct jsonw *w);

void jsonw_object_open(struct jsonw *w);
void jsonw_object_close(struct jsonw *w);
void jsonw_array_open(struct jsonw *w);
void jsonw_array_close(struct jsonw *w);
/* A member name; the next value written belongs to it. */
void jsonw_key(struct jsonw *w, const char *key);

/* A string value, quoted and escaped; n bytes of s may hold NULs (written as \u0000). */
void jsonw_string(struct jsonw *w, const char *s);
void jsonw_stringn(struct jsonw *w, const char *s, size_t n);
void jsonw_int(struct jsonw *w, int64_t v);
/* A double that reads back as the same value; null for NaN and infinities. */
void jsonw_double(struct jsonw *w, double v);
void jsonw_bool(struct jsonw *w, bool v);
void jsonw_null(struct jsonw *w);
/* A jansson value (borrowed), written compactly; NULL writes null. */
void jsonw_json(struct jsonw *w, const json_t *v);

/* Shorthands for a member: key and value. jsonw_kstr_opt writes nothing for NULL. */
void jsonw_kstr(struct jsonw *w, const char *key, const char *s);
void jsonw_kstr_opt(struct jsonw *w, const char *key, const char *s);
/* The key with the string, or with null when s is NULL (where _opt leaves the key out). */
void jsonw_kstr_null(struct jsonw *w, const char *key, const char *s);
void jsonw_kint(struct jsonw *w, const char *key, int64_t v);
void jsonw_kbool(struct jsonw *w, const char *key, bool v);
void jsonw_kjson(struct jsonw *w, const char *key, const json_t *v);

#endif
