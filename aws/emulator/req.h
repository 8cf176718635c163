/*
 * One request inside the model: its decoded path labels and query parameters, its JSON
 * body, the constraint checks of the service model, and the reply helpers every operation
 * uses. Constraint violations are collected and answered together, the way Lambda's front
 * end does: "2 validation errors detected: Value '0' at 'timeout' failed to satisfy
 * constraint: ...; Value ..." with the type ValidationException.
 */
#ifndef TETHER_AWS_EMULATOR_REQ_H
#define TETHER_AWS_EMULATOR_REQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "aws/emulator/emu.h"
#include "common/buf.h"
#include "common/jsonw.h"

#define REQ_LABELS_MAX 2
#define REQ_QUERY_MAX 64
#define REQ_VERR_MAX 4096 /* bytes of collected validation messages */

struct req_param {
	char *key;
	char *value;
};

struct req {
	struct emu *emu;
	enum emu_op op;
	const struct emu_request *in;
	struct emu_reply *reply;
	uint64_t now;  /* monotonic ms */
	uint64_t wall; /* epoch ms */
	char *label[REQ_LABELS_MAX];
	size_t nlabels;
	struct req_param query[REQ_QUERY_MAX];
	size_t nquery;
	json_t *body; /* after req_body(): the parsed object */
	struct buf verr;
	int nverr;
	char type_err[256]; /* the first member of the wrong JSON type, "" if none */
};

/*
 * Decode the labels and the query of in for op. Returns 0, or -1 after answering 400 when
 * the percent-encoding is malformed. req_free() is needed either way.
 */
int req_init(struct req *r, struct emu *emu, enum emu_op op, const struct emu_request *in,
    struct emu_reply *reply);
void req_free(struct req *r);

/* The first query parameter named key (decoded), or NULL. */
const char *req_query(const struct req *r, const char *key);
/* The first header named name (case-insensitive), or NULL. */
const char *req_header(const struct req *r, const char *name);
/*
 * Parse the body as a JSON object (an empty body is {}). Returns 0, or -1 after answering
 * 400 InvalidRequestContentException.
 */
int req_body(struct req *r);

/*
 * Typed members of obj. Absent and JSON null read as absent (NULL / false). A member of the
 * wrong JSON type reads as absent and is reported by req_failed() as unparseable content.
 */
const char *req_str(struct req *r, const json_t *obj, const char *key);
bool req_int(struct req *r, const json_t *obj, const char *key, int64_t *out);
bool req_bool(struct req *r, const json_t *obj, const char *key, bool *out);
bool req_double(struct req *r, const json_t *obj, const char *key, double *out);
const json_t *req_obj(struct req *r, const json_t *obj, const char *key);
const json_t *req_arr(struct req *r, const json_t *obj, const char *key);
/* Record a type error found by the caller (e.g. a list item of the wrong type). */
void req_type_error(struct req *r, const char *field, const char *expected);

/* Constraint checks; field is the member path as Lambda spells it ("memorySize"). */
void req_violation(struct req *r, const char *field, const char *value, const char *fmt, ...)
    PRINTFLIKE(4, 5);
void req_check_null(struct req *r, const char *field, bool present);
void req_check_length(struct req *r, const char *field, const char *v, size_t min, size_t max);
void req_check_range(struct req *r, const char *field, int64_t v, int64_t min, int64_t max);
void req_check_pattern(
    struct req *r, const char *field, const char *v, bool ok, const char *pattern);
/* allowed is NULL-terminated. Returns whether v is one of them. */
bool req_check_enum(struct req *r, const char *field, const char *v, const char *const *allowed);
/*
 * Answer the collected problems, if any: a type error as InvalidRequestContentException,
 * else the constraint violations as one ValidationException. Returns true when it answered.
 */
bool req_failed(struct req *r);

/* Answer an error (emu_reply_error). */
void req_error(struct req *r, int status, const char *type, const char *fmt, ...) PRINTFLIKE(4, 5);
/* Start a JSON answer with status: sets the Content-Type and points w at the body. */
void req_json_begin(struct req *r, int status, struct jsonw *w);
/* Finish it: a body over the reply cap becomes a 500 ServiceException. */
void req_json_end(struct req *r, struct jsonw *w);
/* Answer status with no body (204, 202). */
void req_empty(struct req *r, int status);

#endif
