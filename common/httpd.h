/*
 * A small HTTP/1.1 server on libev and http-parser: keep-alive, pipelined requests answered
 * in order, capped request lines, headers and bodies, idle timeouts. The emulator and
 * tether's own listener (webhooks, /metrics, /status) are built on it.
 *
 * One request per connection is handled at a time: while a request waits for its answer,
 * the connection reads no further requests, so pipelined requests are answered in order
 * and a handler may answer later (from a timer) without copying the request.
 */
#ifndef TETHER_COMMON_HTTPD_H
#define TETHER_COMMON_HTTPD_H

#include <stdbool.h>
#include <stddef.h>

#include <ev.h>

#include "common/err.h"

#define HTTPD_HEADERS_MAX 64
#define HTTPD_HEADER_BYTES_MAX (16 * 1024)       /* request line plus headers */
#define HTTPD_BODY_MAX_DEFAULT (6 * 1024 * 1024) /* Lambda's synchronous payload limit */

struct httpd;
struct httpd_conn;

struct httpd_header {
	const char *name;
	const char *value;
};

/* A parsed request. Everything is borrowed and valid until the request is answered. */
struct httpd_request {
	const char *method; /* "GET", "POST", ... */
	const char *target; /* the request-target as received: "/a%3Ab?x=1" */
	const char *path;   /* its path part, not decoded */
	const char *query;  /* its query part without '?', not decoded; NULL when absent */
	const struct httpd_header *headers; /* names and values as received */
	size_t nheaders;
	const char *body; /* NUL-terminated for convenience; body_len excludes the NUL */
	size_t body_len;
	bool keep_alive;
	const char *peer; /* "127.0.0.1:41234" */
};

/* The first header named name (case-insensitive), or NULL. */
const char *httpd_header(const struct httpd_request *req, const char *name);

/*
 * Called once per request. The handler must answer each request exactly once, with
 * httpd_respond() or httpd_reset(), now or later.
 */
typedef void (*httpd_request_cb)(
    struct httpd_conn *conn, const struct httpd_request *req, void *arg);
/*
 * Called instead of the handler when a request cannot be accepted: 400 (malformed), 413
 * (body over max_body), 431 (headers over HTTPD_HEADER_BYTES_MAX). It may answer with
 * httpd_respond() in the application's own error shape; if it does not answer, the server
 * sends a plain-text response. The connection closes after either.
 */
typedef void (*httpd_error_cb)(struct httpd_conn *conn, int status, const char *reason, void *arg);

struct httpd_opts {
	const char *listen;     /* "HOST:PORT"; port 0 picks a free port */
	size_t max_body;        /* bytes; HTTPD_BODY_MAX_DEFAULT when 0 */
	double idle_timeout;    /* seconds without a byte before closing an idle connection */
	size_t max_connections; /* further connections are accepted and closed at once */
	httpd_request_cb on_request;
	httpd_error_cb on_error; /* may be NULL */
	void *arg;
};

#define HTTPD_OPTS_INIT                                        \
	{                                                      \
		"127.0.0.1:0", 0, 60.0, 1024, NULL, NULL, NULL \
	}

/*
 * Bind, listen and start serving on loop. Returns 0, or -1 with err filled (bad address,
 * bind failure).
 */
int httpd_new(
    struct httpd **out, struct ev_loop *loop, const struct httpd_opts *opts, struct err *err);
/* The address actually bound, e.g. "127.0.0.1:41234". Borrowed. */
const char *httpd_address(const struct httpd *srv);
int httpd_port(const struct httpd *srv);
/* Stop accepting. Connections finish the request in hand, then close. */
void httpd_shutdown(struct httpd *srv);
/* Number of open connections (for graceful shutdown and tests). */
size_t httpd_connections(const struct httpd *srv);
/* Close everything and release the server. Handlers must not answer afterwards. */
void httpd_free(struct httpd *srv);

/*
 * Answer the request in hand on conn. The server adds Content-Length and, when the
 * connection will close, "Connection: close"; headers must not include them. If the peer
 * has gone away meanwhile, the answer is dropped and the connection released.
 */
void httpd_respond(struct httpd_conn *conn, int status, const struct httpd_header *headers,
    size_t nheaders, const void *body, size_t len);
/* Close the connection without answering (fault injection). */
void httpd_reset(struct httpd_conn *conn);

#endif
