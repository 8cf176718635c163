/*
 * A streaming JSON writer into a capped buffer, for the emulator's responses: the hot paths
 * (GetFunction) write their bodies directly instead of building a jansson tree first.
 * Strings are escaped as RFC 8259 asks and bytes that are not UTF-8 become U+FFFD, so the
 * output is always valid JSON whatever a request carried. A write past the buffer's cap
 * sets a sticky error that jw_failed() reports; the caller then answers with an error.
 */
#ifndef TETHER_AWS_EMULATOR_JW_H
#define TETHER_AWS_EMULATOR_JW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/buf.h"

#define JW_DEPTH_MAX 32

struct jw {
	struct buf *out;
	int depth;
	bool first[JW_DEPTH_MAX]; /* no member written yet at this depth */
	bool after_key;           /* a key was written and waits for its value */
	bool failed;
};

/* Start writing into out (borrowed; appended to). */
void jw_init(struct jw *w, struct buf *out);
bool jw_failed(const struct jw *w);

void jw_object_open(struct jw *w);
void jw_object_close(struct jw *w);
void jw_array_open(struct jw *w);
void jw_array_close(struct jw *w);
/* A member name; the next value written belongs to it. */
void jw_key(struct jw *w, const char *key);

void jw_string(struct jw *w, const char *s);
void jw_stringn(struct jw *w, const char *s, size_t n);
void jw_int(struct jw *w, int64_t v);
void jw_double(struct jw *w, double v);
void jw_bool(struct jw *w, bool v);
void jw_null(struct jw *w);
/* A jansson value, written compactly. */
void jw_json(struct jw *w, const json_t *v);

/* Shorthands for a member: key and value. jw_kstr_opt writes nothing for NULL. */
void jw_kstr(struct jw *w, const char *key, const char *s);
void jw_kstr_opt(struct jw *w, const char *key, const char *s);
void jw_kint(struct jw *w, const char *key, int64_t v);
void jw_kbool(struct jw *w, const char *key, bool v);
void jw_kjson(struct jw *w, const char *key, const json_t *v);

#endif
