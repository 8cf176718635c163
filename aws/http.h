/*
 * Asynchronous HTTP client: libcurl's multi-socket interface driven by libev (curl's
 * evhiperfifo pattern). Nothing blocks the loop: connections, TLS and transfers all run as
 * libev watchers. Connections are reused; each request has its own timeouts and a cap on
 * the response it will accept. TLS verification is on unless the engine is explicitly
 * created insecure. Proxies come from the usual environment variables (https_proxy,
 * HTTPS_PROXY, http_proxy, NO_PROXY), as libcurl reads them.
 */
#ifndef TETHER_AWS_HTTP_H
#define TETHER_AWS_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include <ev.h>

#include "common/buf.h"
#include "common/err.h"

#define HTTP_RESPONSE_MAX_DEFAULT (8 * 1024 * 1024)
#define HTTP_RESPONSE_HEADERS_MAX 64

struct http_engine;
struct http_request;

struct http_engine_opts {
	const char *ca_file;       /* PEM bundle; NULL: the system's */
	const char *ca_path;       /* hashed directory; NULL: the system's */
	bool insecure;             /* skip TLS verification; never the default */
	long max_host_connections; /* 0: libcurl's default */
	const char *user_agent;
};

#define HTTP_ENGINE_OPTS_INIT                                  \
	{                                                      \
		NULL, NULL, false, 0, "tether/" TETHER_VERSION \
	}

struct http_request_opts {
	const char *method; /* "GET", "PUT", ... */
	const char *url;
	/* "Name: value" lines, sent as given; curl adds Host and nothing else that is signed. */
	const char *const *headers;
	size_t nheaders;
	const void *body; /* copied; NULL for none */
	size_t body_len;
	long timeout_ms;         /* whole transfer; 0: 30 s */
	long connect_timeout_ms; /* 0: 5 s */
	size_t max_response;     /* body cap; 0: HTTP_RESPONSE_MAX_DEFAULT */
	bool no_proxy;           /* link-local metadata services never go through a proxy */
	/* The URL's path is a credential (a Slack webhook): logs and error messages name the
	 * request by scheme and host only. */
	bool redact_path;
};

#define HTTP_REQUEST_OPTS_INIT                                       \
	{                                                            \
		"GET", NULL, NULL, 0, NULL, 0, 0, 0, 0, false, false \
	}

struct http_response_header {
	char *name; /* lower-cased */
	char *value;
};

struct http_response {
	long status; /* 0 if no response arrived */
	struct buf body;
	struct http_response_header *headers;
	size_t nheaders;
	double seconds; /* time the transfer took */
	bool timed_out; /* the transfer hit its timeout (the retry quota charges more for it) */
};

/*
 * Called exactly once per started request, from the loop, never from inside
 * http_request_start(). On a transport failure (connect, TLS, timeout, response over its
 * cap) err is set (ERR_TRANSIENT, or ERR_TOOBIG for the cap) and resp may be partial; any
 * HTTP status, including 4xx and 5xx, is a response with err NULL. Both are borrowed for
 * the duration of the call.
 */
typedef void (*http_done_cb)(const struct http_response *resp, const struct err *err, void *arg);

/*
 * Process-wide libcurl setup (curl_global_init), for main() to call once before it starts
 * any thread; http_global_cleanup() undoes it at exit. Optional: http_engine_new() takes
 * its own reference on libcurl's reference-counted global state and http_engine_free()
 * drops it, which is safe from any thread with this libcurl (7.84+, "threadsafe" feature),
 * but calling this from main() keeps that state alive across engines. Returns 0 or -1.
 */
int http_global_init(void);
void http_global_cleanup(void);

int http_engine_new(struct http_engine **out, struct ev_loop *loop,
    const struct http_engine_opts *opts, struct err *err);
/* Cancel what is in flight (their callbacks are not called) and release the engine. */
void http_engine_free(struct http_engine *engine);
/* Requests currently in flight. */
size_t http_engine_active(const struct http_engine *engine);

/*
 * Start a request. Everything in opts is copied. The handle, when out is not NULL, is
 * valid until the callback has run or the request is canceled. Returns 0, or -1 with err
 * filled (bad arguments).
 */
int http_request_start(struct http_engine *engine, const struct http_request_opts *opts,
    http_done_cb cb, void *arg, struct http_request **out, struct err *err);
/* Abandon a request; its callback is not called. */
void http_request_cancel(struct http_request *req);
/* The first response header named name (case-insensitive), or NULL. */
const char *http_response_header(const struct http_response *resp, const char *name);

#endif
