/*
 * AWS Signature Version 4, byte for byte as botocore's SigV4Auth computes it
 * (../shared/reference/lambda-api.md §8). The same code signs tether's requests and verifies
 * them in the emulator.
 */
#ifndef TETHER_AWS_SIGV4_H
#define TETHER_AWS_SIGV4_H

#include <stddef.h>
#include <time.h>

#include "common/buf.h"
#include "common/crypto.h"
#include "common/err.h"

/* Caps on what a signature covers; requests beyond them are refused, never truncated. */
#define SIGV4_CANONICAL_MAX (64 * 1024)
#define SIGV4_SIGNED_HEADERS_MAX 1024
#define SIGV4_ACCESS_KEY_MAX 128
#define SIGV4_REGION_MAX 64
#define SIGV4_SERVICE_MAX 64

struct sigv4_header {
	const char *name; /* any case; lower-cased for signing */
	const char *value;
};

struct sigv4_request {
	const char *method;
	/* The path exactly as sent on the wire (labels already percent-encoded once), no query. */
	const char *path;
	/* The query exactly as sent on the wire, without '?'; NULL or "" when there is none. */
	const char *query;
	/*
	 * Exactly the headers to sign; they must include host (with any non-default port) and
	 * x-amz-date, plus content-type and x-amz-security-token when the request has them.
	 * A name that appears twice is signed as the values joined with ','.
	 */
	const struct sigv4_header *headers;
	size_t nheaders;
	const char *payload_hash; /* lower-case hex SHA-256 of the exact body bytes */
};

struct sigv4_scope {
	const char *amzdate; /* "YYYYMMDDTHHMMSSZ"; the date is its first 8 characters */
	const char *region;
	const char *service;
};

/* What an Authorization header says. */
struct sigv4_auth {
	char access_key[SIGV4_ACCESS_KEY_MAX + 1];
	char date[9];
	char region[SIGV4_REGION_MAX + 1];
	char service[SIGV4_SERVICE_MAX + 1];
	char signed_headers[SIGV4_SIGNED_HEADERS_MAX + 1]; /* "host;x-amz-date" */
	char signature[CRYPTO_SHA256_HEX_LEN + 1];
};

/*
 * Append the canonical request to out and the SignedHeaders list to signed_headers (which
 * may be NULL). Returns 0, or ERR_INVALID (bad percent-encoding in the query, a header
 * name that is not a token) or ERR_TOOBIG (past SIGV4_CANONICAL_MAX), with err filled.
 */
int sigv4_canonical_request(
    const struct sigv4_request *req, struct buf *out, struct buf *signed_headers, struct err *err);
/* Append the string to sign for a canonical request. */
int sigv4_string_to_sign(
    const struct sigv4_scope *scope, const char *canonical, size_t len, struct buf *out);
/* kSigning = HMAC chain over "AWS4"+secret, date (8 characters), region, service. */
void sigv4_signing_key(const char *secret, const char *date, const char *region,
    const char *service, unsigned char out[CRYPTO_SHA256_LEN]);
/* The hex signature of a request. Errors as sigv4_canonical_request(). */
int sigv4_signature(const struct sigv4_request *req, const struct sigv4_scope *scope,
    const char *secret, char out[CRYPTO_SHA256_HEX_LEN + 1], struct err *err);
/*
 * Append the Authorization header value ("AWS4-HMAC-SHA256 Credential=..., SignedHeaders=...,
 * Signature=...") for a request. Errors as sigv4_canonical_request().
 */
int sigv4_authorization(const struct sigv4_request *req, const struct sigv4_scope *scope,
    const char *access_key, const char *secret, struct buf *out, struct err *err);
struct sigv4_credentials {
	const char *access_key_id;
	const char *secret_access_key;
	const char *session_token; /* NULL when there is none */
};

#define SIGV4_EXTRA_HEADERS_MAX 8

/* What sigv4_sign_url() signs. */
struct sigv4_sign_opts {
	const char *method;
	const char *url; /* absolute http(s) URL, exactly as it will be requested */
	/*
	 * Headers the request carries besides host, x-amz-date and x-amz-security-token, all
	 * signed and all to be sent: Content-Type when there is a body, and operation headers
	 * such as X-Amz-Invocation-Type. At most SIGV4_EXTRA_HEADERS_MAX.
	 */
	const struct sigv4_header *headers;
	size_t nheaders;
	const void *body; /* the exact bytes to send; NULL for none */
	size_t len;
	const struct sigv4_credentials *creds;
	const char *region;
	const char *service;
	time_t now;
};

/* The headers a signed request must carry, as "Name: value" lines (allocated). */
struct sigv4_signed {
	char *lines[SIGV4_EXTRA_HEADERS_MAX + 3];
	size_t nlines;
};

/*
 * Sign a request the way the SDKs do: the signed headers are host (url's authority as
 * url_parse() gives it: lower-cased, with the port when it is not the scheme's default;
 * the path and query are signed as url carries them), x-amz-date (from now), the given
 * headers, and x-amz-security-token when the credentials have a token; the payload hash
 * covers exactly the body bytes. out receives every header line to send besides Host,
 * which the HTTP layer derives from the same url: X-Amz-Date, X-Amz-Security-Token, the
 * given headers and Authorization. Release with sigv4_signed_free(), which wipes the
 * lines. Returns 0, or ERR_INVALID (a url url_parse() refuses, too many headers) /
 * ERR_TOOBIG with err filled.
 */
int sigv4_sign_url(const struct sigv4_sign_opts *opts, struct sigv4_signed *out, struct err *err);
void sigv4_signed_free(struct sigv4_signed *s);

/* Parse an Authorization header value. Returns 0, or ERR_INVALID with err filled. */
int sigv4_parse_authorization(const char *value, struct sigv4_auth *out, struct err *err);

#endif
