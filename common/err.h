/*
 * Errors. A fallible function returns 0 or a negative code and, when the caller passed one,
 * fills a caller-owned struct err with the details. There is no global "last error": many
 * operations interleave on the one loop thread. The message is one line, written once where
 * the failure happens and passed up unchanged.
 */
#ifndef TETHER_COMMON_ERR_H
#define TETHER_COMMON_ERR_H

#include <stdbool.h>

#include "common/compat.h"

/* The codes callers act on; -1 (ERR_FAIL) for everything else. */
enum {
	ERR_OK = 0,
	ERR_FAIL = -1,
	ERR_NOTFOUND = -2,     /* the resource does not exist (404) */
	ERR_CONFLICT = -3,     /* state forbids it now (409): wait, then redo */
	ERR_PRECONDITION = -4, /* a RevisionId was stale (412): re-read, decide again */
	ERR_THROTTLED = -5,    /* rate exceeded (429) after the retries ran out */
	ERR_TRANSIENT = -6,    /* 5xx or a transport failure after the retries ran out */
	ERR_INVALID = -7,      /* the request was refused as malformed (400) */
	ERR_AUTH = -8,         /* credentials missing, rejected or expired (401/403) */
	ERR_TOOBIG = -9,       /* input beyond a cap */
	ERR_CANCELED = -10,    /* the operation was canceled by its owner */
};

#define ERR_TYPE_MAX 96
#define ERR_MESSAGE_MAX 512
#define ERR_REQUEST_ID_MAX 80

struct err {
	int code;
	long http_status;                    /* 0 when no HTTP response was involved */
	char type[ERR_TYPE_MAX];             /* e.g. "ResourceConflictException" */
	char message[ERR_MESSAGE_MAX];       /* one line */
	char request_id[ERR_REQUEST_ID_MAX]; /* x-amzn-RequestId, when AWS answered */
};

#define ERR_INIT                 \
	{                        \
		0, 0, "", "", "" \
	}

void err_clear(struct err *e);
/*
 * Record an error and return its code, so that "return err_set(e, ERR_FAIL, ...);" reads
 * naturally. e may be NULL. Newlines in the message are replaced by spaces.
 */
int err_set(struct err *e, int code, const char *fmt, ...) PRINTFLIKE(3, 4);
/* Set the AWS error type (the part of x-amzn-ErrorType before any ':'). */
void err_set_type(struct err *e, const char *type);
void err_set_request_id(struct err *e, const char *request_id);
void err_copy(struct err *dst, const struct err *src);
/* A stable name for a code, for logs and metrics: "conflict", "throttled", ... */
const char *err_code_name(int code);

#endif
