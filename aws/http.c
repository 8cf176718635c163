/*
 * libcurl's multi-socket interface on libev, after curl's docs/examples/evhiperfifo.c:
 * curl tells us which sockets to watch (CURLMOPT_SOCKETFUNCTION -> one ev_io per socket)
 * and when to call it back (CURLMOPT_TIMERFUNCTION -> one ev_timer), we tell curl what
 * happened with curl_multi_socket_action(), and after every such call we collect finished
 * transfers with curl_multi_info_read(). Differences from the example:
 *
 * - The timer is set to timeout_ms / 1000.0 seconds (the example divides integers and so
 *   turns every sub-second timeout into 0 or a whole second); 0 means "call
 *   socket_action now", which we do from the loop through a zero timer, never from inside
 *   curl's callback; -1 stops the timer.
 * - User callbacks run only from check_done() or a request's deferral timer, i.e. from the
 *   loop, after the easy handle has left the multi handle, and the request is freed after
 *   its callback returns. A callback may start or cancel other requests, or free the whole
 *   engine (the engine then goes away when the outermost loop callback unwinds).
 *
 * One multi handle per engine: its connection cache is what reuses connections, so easy
 * handles are simply created per request and cleaned up afterwards. A share handle lets
 * them reuse TLS sessions when a new connection has to be opened.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include <curl/curl.h>

#include "aws/http.h"
#include "common/log.h"
#include "common/xmalloc.h"

#define HTTP_TIMEOUT_DEFAULT_MS 30000L
#define HTTP_CONNECT_TIMEOUT_DEFAULT_MS 5000L
/* Most headers a request may carry, and most bytes of response headers we keep. */
#define HTTP_REQUEST_HEADERS_MAX 64
#define HTTP_RESPONSE_HEADER_BYTES_MAX (64 * 1024)
/* Idle connections kept for reuse, whatever the number of easy handles in the multi. */
#define HTTP_IDLE_CONNECTIONS_MAX 32L
#define HTTP_WHAT_MAX 256

enum http_request_state {
	HTTP_REQUEST_NEW,     /* being set up in http_request_start() */
	HTTP_REQUEST_RUNNING, /* its easy handle is in the multi handle */
	HTTP_REQUEST_FAILING, /* failed before curl ran it; the callback waits for the loop */
	HTTP_REQUEST_DONE,    /* its callback is running or has run */
};

static const char *const http_request_state_names[] = {
    [HTTP_REQUEST_NEW] = "new",
    [HTTP_REQUEST_RUNNING] = "running",
    [HTTP_REQUEST_FAILING] = "failing",
    [HTTP_REQUEST_DONE] = "done",
};

/* A socket curl asked us to watch; curl_multi_assign() ties it to curl's socket entry. */
struct http_sock {
	ev_io io;
	struct http_engine *engine;
	curl_socket_t fd;
	LIST_ENTRY(http_sock) entry;
};

struct http_request {
	struct http_engine *engine;
	TAILQ_ENTRY(http_request) entry;
	enum http_request_state state;
	char what[HTTP_WHAT_MAX]; /* "METHOD url-without-query", for logs and messages */
	CURL *easy;
	struct curl_slist *headers;
	void *body; /* CURLOPT_POSTFIELDS is not copied by curl */
	size_t body_len;
	size_t max_response;
	long timeout_ms;
	http_done_cb cb;
	void *arg;
	struct http_response resp;
	size_t header_bytes;
	const char *overflow; /* why a callback stopped the transfer (a cap), or NULL */
	ev_timer defer;       /* delivers a failure that happened before curl ran */
	struct err err;
	char errbuf[CURL_ERROR_SIZE];
};

TAILQ_HEAD(http_request_list, http_request);
LIST_HEAD(http_sock_list, http_sock);

struct http_engine {
	struct ev_loop *loop;
	CURLM *multi;
	CURLSH *share;
	ev_timer timer;
	struct http_request_list requests; /* running and failing */
	size_t active;
	struct http_sock_list socks;
	char *ca_file;
	char *ca_path;
	char *user_agent;
	bool insecure;
	int depth;    /* loop callbacks of this engine on the stack */
	bool closing; /* http_engine_free() ran inside one of them */
};

int
http_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void
http_global_cleanup(void)
{
	curl_global_cleanup();
}

static void
request_set_state(struct http_request *req, enum http_request_state state, const char *why)
{
	log_debug("http", "%s: %s -> %s (%s)", req->what, http_request_state_names[req->state],
	    http_request_state_names[state], why);
	req->state = state;
}

static void
response_clear_headers(struct http_response *resp)
{
	size_t i;

	for (i = 0; i < resp->nheaders; i++) {
		free(resp->headers[i].name);
		free(resp->headers[i].value);
	}
	resp->nheaders = 0;
}

/*
 * Requests and responses of the credential chain carry secrets (an STS request's web
 * identity token, a metadata token header, the credentials in a response body): our copies
 * are wiped before they are freed, whoever the request was for.
 */
static void
request_free(struct http_request *req)
{
	struct curl_slist *l;

	if (req == NULL)
		return;
	if (req->easy != NULL)
		curl_easy_cleanup(req->easy);
	for (l = req->headers; l != NULL; l = l->next)
		explicit_bzero(l->data, strlen(l->data));
	curl_slist_free_all(req->headers);
	if (req->body != NULL)
		explicit_bzero(req->body, req->body_len);
	free(req->body);
	response_clear_headers(&req->resp);
	free(req->resp.headers);
	if (req->resp.body.data != NULL)
		explicit_bzero(req->resp.body.data, req->resp.body.cap);
	buf_free(&req->resp.body);
	free(req);
}

/* Unlink a request that is leaving the engine, and stop what drives it. */
static void
request_detach(struct http_request *req)
{
	struct http_engine *e = req->engine;

	if (req->state == HTTP_REQUEST_RUNNING)
		curl_multi_remove_handle(e->multi, req->easy);
	ev_timer_stop(e->loop, &req->defer);
	TAILQ_REMOVE(&e->requests, req, entry);
	e->active--;
}

static void
engine_destroy(struct http_engine *e)
{
	struct http_sock *s;

	ev_timer_stop(e->loop, &e->timer);
	/* Stop watching while the sockets are still open; then curl closes them alone. */
	LIST_FOREACH(s, &e->socks, entry)
	{
		ev_io_stop(e->loop, &s->io);
	}
	curl_multi_setopt(e->multi, CURLMOPT_SOCKETFUNCTION, NULL);
	curl_multi_setopt(e->multi, CURLMOPT_TIMERFUNCTION, NULL);
	curl_multi_cleanup(e->multi);
	while ((s = LIST_FIRST(&e->socks)) != NULL) {
		LIST_REMOVE(s, entry);
		free(s);
	}
	if (e->share != NULL)
		curl_share_cleanup(e->share);
	free(e->ca_file);
	free(e->ca_path);
	free(e->user_agent);
	free(e);
	curl_global_cleanup();
}

static void
engine_enter(struct http_engine *e)
{
	e->depth++;
}

/* The outermost loop callback finishes what a nested http_engine_free() began. */
static void
engine_leave(struct http_engine *e)
{
	if (--e->depth == 0 && e->closing)
		engine_destroy(e);
}

/* Deliver a request's outcome and release it; the engine may be freed by the callback. */
static void
request_complete(struct http_request *req, const struct err *err)
{
	request_detach(req);
	request_set_state(req, HTTP_REQUEST_DONE, err != NULL ? err->message : "response");
	req->cb(&req->resp, err, req->arg);
	request_free(req);
}

static void
request_finish(struct http_request *req, CURLcode result)
{
	long status = 0;
	curl_off_t us = 0;
	struct err *err = NULL;

	curl_easy_getinfo(req->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(req->easy, CURLINFO_TOTAL_TIME_T, &us);
	req->resp.status = status;
	req->resp.seconds = (double)us / 1e6;
	if (result != CURLE_OK) {
		err = &req->err;
		if (req->overflow != NULL) {
			err_set(err, ERR_TOOBIG, "%s: %s", req->what, req->overflow);
		} else if (result == CURLE_FILESIZE_EXCEEDED) {
			err_set(err, ERR_TOOBIG, "%s: response body over its cap of %zu bytes",
			    req->what, req->max_response);
		} else if (result == CURLE_OPERATION_TIMEDOUT) {
			req->resp.timed_out = true;
			err_set(err, ERR_TRANSIENT, "%s: timed out after %ld ms", req->what,
			    req->timeout_ms);
		} else {
			err_set(err, ERR_TRANSIENT, "%s: %s", req->what,
			    req->errbuf[0] != '\0' ? req->errbuf : curl_easy_strerror(result));
		}
		err->http_status = status;
	}
	request_complete(req, err);
}

/* Hand every finished transfer to its owner. */
static void
check_done(struct http_engine *e)
{
	CURLMsg *msg;
	CURLcode result;
	char *priv;
	int left;

	while (!e->closing) {
		msg = curl_multi_info_read(e->multi, &left);
		if (msg == NULL)
			break;
		if (msg->msg != CURLMSG_DONE)
			continue;
		priv = NULL;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
		/* msg is invalid once the handle leaves the multi handle. */
		result = msg->data.result;
		request_finish((struct http_request *)(void *)priv, result);
	}
}

static void
socket_action(struct http_engine *e, curl_socket_t fd, int what)
{
	int running;
	CURLMcode mc;

	engine_enter(e);
	mc = curl_multi_socket_action(e->multi, fd, what, &running);
	if (mc != CURLM_OK)
		log_error("http", "engine: curl_multi_socket_action: %s", curl_multi_strerror(mc));
	check_done(e);
	engine_leave(e);
}

static void
io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct http_sock *s = container_of(w, struct http_sock, io);
	int what = 0;

	(void)loop;
	if (revents & EV_READ)
		what |= CURL_CSELECT_IN;
	if (revents & EV_WRITE)
		what |= CURL_CSELECT_OUT;
	/* s may be freed inside socket_action (CURL_POLL_REMOVE). */
	socket_action(s->engine, s->fd, what);
}

static void
timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct http_engine *e = container_of(w, struct http_engine, timer);

	(void)loop;
	(void)revents;
	socket_action(e, CURL_SOCKET_TIMEOUT, 0);
}

/* CURLMOPT_TIMERFUNCTION: never call socket_action from here; a 0 timer does it. */
static int
timer_function(CURLM *multi, long timeout_ms, void *userp)
{
	struct http_engine *e = userp;

	(void)multi;
	ev_timer_stop(e->loop, &e->timer);
	if (timeout_ms >= 0) {
		ev_timer_set(&e->timer, (double)timeout_ms / 1000.0, 0.);
		ev_timer_start(e->loop, &e->timer);
	}
	return 0;
}

/* CURLMOPT_SOCKETFUNCTION: keep one ev_io per socket in step with what curl waits for. */
static int
socket_function(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct http_engine *e = userp;
	struct http_sock *s = socketp;
	int events = 0;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (s != NULL) {
			ev_io_stop(e->loop, &s->io);
			LIST_REMOVE(s, entry);
			free(s);
		}
		return 0;
	}
	if (s == NULL) {
		s = xcalloc(1, sizeof(*s));
		s->engine = e;
		s->fd = fd;
		ev_init(&s->io, io_cb);
		LIST_INSERT_HEAD(&e->socks, s, entry);
		curl_multi_assign(e->multi, fd, s);
	}
	if (what & CURL_POLL_IN)
		events |= EV_READ;
	if (what & CURL_POLL_OUT)
		events |= EV_WRITE;
	ev_io_stop(e->loop, &s->io);
	/* ev_io_set tells libev the fd may be new, which it is when curl reuses a number. */
	ev_io_set(&s->io, fd, events);
	ev_io_start(e->loop, &s->io);
	return 0;
}

static size_t
write_cb(char *data, size_t size, size_t n, void *arg)
{
	struct http_request *req = arg;

	if (buf_append(&req->resp.body, data, size * n) != 0) {
		req->overflow = "response body over its cap";
		return 0;
	}
	return size * n;
}

static char *
trimmed_dup(const char *p, size_t n)
{
	while (n > 0 && (*p == ' ' || *p == '\t')) {
		p++;
		n--;
	}
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	return xstrndup(p, n);
}

/*
 * Collect the response's header fields. curl passes every status line (1xx interim
 * responses, a proxy's CONNECT answer, the final response), so each status line starts the
 * list afresh and only the final response's fields remain.
 */
static size_t
header_cb(char *data, size_t size, size_t n, void *arg)
{
	struct http_request *req = arg;
	struct http_response *resp = &req->resp;
	struct http_response_header *h;
	size_t len = size * n, i;
	const char *colon;
	char *value, *folded;

	while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
		len--;
	if (len >= 5 && memcmp(data, "HTTP/", 5) == 0) {
		response_clear_headers(resp);
		req->header_bytes = 0;
		return size * n;
	}
	if (len == 0)
		return size * n;
	req->header_bytes += len;
	if (req->header_bytes > HTTP_RESPONSE_HEADER_BYTES_MAX) {
		req->overflow = "response headers over their cap";
		return 0;
	}
	if ((data[0] == ' ' || data[0] == '\t') && resp->nheaders > 0) {
		/* obs-fold: a continuation of the previous field's value */
		h = &resp->headers[resp->nheaders - 1];
		value = trimmed_dup(data, len);
		folded = xasprintf("%s %s", h->value, value);
		free(h->value);
		free(value);
		h->value = folded;
		return size * n;
	}
	colon = memchr(data, ':', len);
	if (colon == NULL || colon == data)
		return size * n;
	if (resp->nheaders == HTTP_RESPONSE_HEADERS_MAX) {
		req->overflow = "more response headers than the cap";
		return 0;
	}
	if (resp->headers == NULL)
		resp->headers = xcalloc(HTTP_RESPONSE_HEADERS_MAX, sizeof(*resp->headers));
	h = &resp->headers[resp->nheaders];
	h->name = xstrndup(data, (size_t)(colon - data));
	for (i = 0; h->name[i] != '\0'; i++)
		h->name[i] = (char)tolower((unsigned char)h->name[i]);
	h->value = trimmed_dup(colon + 1, len - (size_t)(colon - data) - 1);
	resp->nheaders++;
	return size * n;
}

static void
defer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct http_request *req = container_of(w, struct http_request, defer);
	struct http_engine *e = req->engine;

	(void)loop;
	(void)revents;
	engine_enter(e);
	request_complete(req, &req->err);
	engine_leave(e);
}

int
http_engine_new(struct http_engine **out, struct ev_loop *loop, const struct http_engine_opts *opts,
    struct err *err)
{
	struct http_engine *e = NULL;
	int rc = -1;

	*out = NULL;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return err_set(err, ERR_FAIL, "http: curl_global_init failed");
	e = xcalloc(1, sizeof(*e));
	e->loop = loop;
	TAILQ_INIT(&e->requests);
	LIST_INIT(&e->socks);
	ev_init(&e->timer, timer_cb);
	if (opts != NULL) {
		e->ca_file = opts->ca_file != NULL ? xstrdup(opts->ca_file) : NULL;
		e->ca_path = opts->ca_path != NULL ? xstrdup(opts->ca_path) : NULL;
		e->user_agent = opts->user_agent != NULL ? xstrdup(opts->user_agent) : NULL;
		e->insecure = opts->insecure;
	}
	e->multi = curl_multi_init();
	e->share = curl_share_init();
	if (e->multi == NULL || e->share == NULL) {
		err_set(err, ERR_FAIL, "http: cannot create curl handles");
		goto out;
	}
	if (curl_share_setopt(e->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) !=
	    CURLSHE_OK) {
		err_set(err, ERR_FAIL, "http: cannot share TLS sessions");
		goto out;
	}
	curl_multi_setopt(e->multi, CURLMOPT_SOCKETFUNCTION, socket_function);
	curl_multi_setopt(e->multi, CURLMOPT_SOCKETDATA, e);
	curl_multi_setopt(e->multi, CURLMOPT_TIMERFUNCTION, timer_function);
	curl_multi_setopt(e->multi, CURLMOPT_TIMERDATA, e);
	curl_multi_setopt(e->multi, CURLMOPT_MAXCONNECTS, HTTP_IDLE_CONNECTIONS_MAX);
	if (opts != NULL && opts->max_host_connections > 0)
		curl_multi_setopt(
		    e->multi, CURLMOPT_MAX_HOST_CONNECTIONS, opts->max_host_connections);
	if (e->insecure)
		log_warn("http", "engine: TLS verification is off");
	*out = e;
	e = NULL;
	rc = 0;
out:
	if (e != NULL) {
		if (e->multi != NULL)
			curl_multi_cleanup(e->multi);
		if (e->share != NULL)
			curl_share_cleanup(e->share);
		free(e->ca_file);
		free(e->ca_path);
		free(e->user_agent);
		free(e);
		curl_global_cleanup();
	}
	return rc;
}

void
http_engine_free(struct http_engine *e)
{
	struct http_request *req;

	if (e == NULL || e->closing)
		return;
	while ((req = TAILQ_FIRST(&e->requests)) != NULL) {
		request_detach(req);
		request_set_state(req, HTTP_REQUEST_DONE, "engine freed");
		request_free(req);
	}
	if (e->depth > 0) {
		e->closing = true;
		return;
	}
	engine_destroy(e);
}

size_t
http_engine_active(const struct http_engine *e)
{
	return e->active;
}

static bool
header_has(const struct http_request_opts *opts, const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < opts->nheaders; i++)
		if (strncasecmp(opts->headers[i], name, n) == 0 && opts->headers[i][n] == ':')
			return true;
	return false;
}

/*
 * Refuse what curl would only reject later, and describe the request for messages and logs
 * as "METHOD scheme://host[:port]/path": never the query string (presigned URLs carry
 * credentials there) nor any user:password.
 */
static int
check_opts(const struct http_request_opts *opts, char *what, size_t what_size, struct err *err)
{
	const char *p, *colon;
	size_t i;
	CURLU *u;
	char *scheme = NULL, *clean = NULL;
	int rc = -1;

	if (opts->url == NULL || opts->method == NULL || opts->method[0] == '\0')
		return err_set(err, ERR_INVALID, "http: a request needs a method and a URL");
	for (p = opts->method; *p != '\0'; p++)
		if (!isupper((unsigned char)*p))
			return err_set(err, ERR_INVALID, "http: bad method");
	if (opts->body == NULL && opts->body_len > 0)
		return err_set(err, ERR_INVALID, "http: body_len without a body");
	if (opts->nheaders > 0 && opts->headers == NULL)
		return err_set(err, ERR_INVALID, "http: nheaders without headers");
	if (opts->nheaders > HTTP_REQUEST_HEADERS_MAX)
		return err_set(err, ERR_INVALID, "http: more than %d request headers",
		    HTTP_REQUEST_HEADERS_MAX);
	for (i = 0; i < opts->nheaders; i++) {
		p = opts->headers[i];
		if (p == NULL || strpbrk(p, "\r\n") != NULL)
			return err_set(
			    err, ERR_INVALID, "http: request header %zu is malformed", i);
		colon = strchr(p, ':');
		if (colon == NULL || colon == p)
			return err_set(
			    err, ERR_INVALID, "http: request header %zu is malformed", i);
	}
	if (opts->timeout_ms < 0 || opts->connect_timeout_ms < 0)
		return err_set(err, ERR_INVALID, "http: negative timeout");
	u = curl_url();
	if (u == NULL)
		return err_set(err, ERR_FAIL, "http: cannot parse URLs");
	if (curl_url_set(u, CURLUPART_URL, opts->url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) {
		err_set(err, ERR_INVALID, "http: malformed URL");
		goto out;
	}
	if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
		err_set(err, ERR_INVALID, "http: unsupported URL scheme %s", scheme);
		goto out;
	}
	if (curl_url_set(u, CURLUPART_USER, NULL, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_PASSWORD, NULL, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_QUERY, NULL, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0) != CURLUE_OK ||
	    (opts->redact_path && curl_url_set(u, CURLUPART_PATH, "/", 0) != CURLUE_OK) ||
	    curl_url_get(u, CURLUPART_URL, &clean, 0) != CURLUE_OK) {
		err_set(err, ERR_INVALID, "http: malformed URL");
		goto out;
	}
	snprintf(what, what_size, "%s %s", opts->method, clean);
	rc = 0;
out:
	curl_free(clean);
	curl_free(scheme);
	curl_url_cleanup(u);
	return rc;
}

static int
request_setup(struct http_request *req, const struct http_request_opts *opts, struct err *err)
{
	struct http_engine *e = req->engine;
	const char *m = opts->method;
	CURL *c = req->easy;
	CURLcode rc = CURLE_OK;
	struct curl_slist *l;
	size_t i;
	bool body;

	/* Every option is set; the first failure is reported. */
#define SET(opt, val)                                           \
	do {                                                    \
		if (rc == CURLE_OK)                             \
			rc = curl_easy_setopt(c, (opt), (val)); \
	} while (0)

	SET(CURLOPT_PRIVATE, (void *)req);
	SET(CURLOPT_URL, opts->url);
	SET(CURLOPT_ERRORBUFFER, req->errbuf);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	/* The path is signed as given; curl must not squash dot segments. */
	SET(CURLOPT_PATH_AS_IS, 1L);
	SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
	SET(CURLOPT_SHARE, e->share);
	SET(CURLOPT_TIMEOUT_MS, req->timeout_ms);
	SET(CURLOPT_CONNECTTIMEOUT_MS, opts->connect_timeout_ms > 0
	                                   ? opts->connect_timeout_ms
	                                   : HTTP_CONNECT_TIMEOUT_DEFAULT_MS);
	SET(CURLOPT_WRITEFUNCTION, write_cb);
	SET(CURLOPT_WRITEDATA, (void *)req);
	SET(CURLOPT_HEADERFUNCTION, header_cb);
	SET(CURLOPT_HEADERDATA, (void *)req);
	/* Refuse early when Content-Length announces too much; write_cb catches the rest. */
	if (req->max_response <= (size_t)INT64_MAX)
		SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)req->max_response);
	SET(CURLOPT_SSL_VERIFYPEER, e->insecure ? 0L : 1L);
	SET(CURLOPT_SSL_VERIFYHOST, e->insecure ? 0L : 2L);
	if (e->ca_file != NULL)
		SET(CURLOPT_CAINFO, e->ca_file);
	if (e->ca_path != NULL)
		SET(CURLOPT_CAPATH, e->ca_path);
	if (e->user_agent != NULL)
		SET(CURLOPT_USERAGENT, e->user_agent);
	/* Otherwise curl reads the proxy from the environment itself. */
	if (opts->no_proxy)
		SET(CURLOPT_NOPROXY, "*");

	/*
	 * A body goes out through POSTFIELDS (sized, so it may hold NULs), with the method
	 * overridden when it is not POST. POST, PUT and PATCH always get one (maybe empty) so
	 * that they carry Content-Length: 0.
	 */
	body = opts->body != NULL || strcmp(m, "POST") == 0 || strcmp(m, "PUT") == 0 ||
	       strcmp(m, "PATCH") == 0;
	if (body) {
		req->body = xmalloc(opts->body_len > 0 ? opts->body_len : 1);
		req->body_len = opts->body_len;
		if (opts->body_len > 0)
			memcpy(req->body, opts->body, opts->body_len);
		SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)opts->body_len);
		SET(CURLOPT_POSTFIELDS, req->body);
		if (strcmp(m, "POST") != 0)
			SET(CURLOPT_CUSTOMREQUEST, m);
	} else if (strcmp(m, "HEAD") == 0) {
		SET(CURLOPT_NOBODY, 1L);
	} else {
		SET(CURLOPT_HTTPGET, 1L);
		if (strcmp(m, "GET") != 0)
			SET(CURLOPT_CUSTOMREQUEST, m);
	}

	/*
	 * The caller's headers as given, and none of curl's own but Host, Content-Length and
	 * User-Agent: no "Expect: 100-continue", no form Content-Type, no "Accept: * / *".
	 */
	for (i = 0; i < opts->nheaders; i++) {
		l = curl_slist_append(req->headers, opts->headers[i]);
		if (l == NULL)
			goto nomem;
		req->headers = l;
	}
	if (!header_has(opts, "Expect")) {
		l = curl_slist_append(req->headers, "Expect:");
		if (l == NULL)
			goto nomem;
		req->headers = l;
	}
	if (!header_has(opts, "Content-Type")) {
		l = curl_slist_append(req->headers, "Content-Type:");
		if (l == NULL)
			goto nomem;
		req->headers = l;
	}
	if (!header_has(opts, "Accept")) {
		l = curl_slist_append(req->headers, "Accept:");
		if (l == NULL)
			goto nomem;
		req->headers = l;
	}
	SET(CURLOPT_HTTPHEADER, req->headers);
#undef SET
	if (rc != CURLE_OK)
		return err_set(err, ERR_FAIL, "%s: %s", req->what, curl_easy_strerror(rc));
	return 0;
nomem:
	return err_set(err, ERR_FAIL, "%s: out of memory", req->what);
}

int
http_request_start(struct http_engine *e, const struct http_request_opts *opts, http_done_cb cb,
    void *arg, struct http_request **out, struct err *err)
{
	struct http_request *req = NULL;
	CURLMcode mc;
	int rc = -1;

	if (out != NULL)
		*out = NULL;
	if (e == NULL || opts == NULL || cb == NULL)
		return err_set(err, ERR_INVALID, "http: missing engine, options or callback");
	if (e->closing)
		return err_set(err, ERR_CANCELED, "http: the engine is being freed");
	req = xcalloc(1, sizeof(*req));
	if (check_opts(opts, req->what, sizeof(req->what), err) != 0)
		goto out;

	req->engine = e;
	req->state = HTTP_REQUEST_NEW;
	req->cb = cb;
	req->arg = arg;
	req->max_response = opts->max_response > 0 ? opts->max_response : HTTP_RESPONSE_MAX_DEFAULT;
	req->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : HTTP_TIMEOUT_DEFAULT_MS;
	buf_init(&req->resp.body, req->max_response);
	err_clear(&req->err);
	ev_timer_init(&req->defer, defer_cb, 0., 0.);

	req->easy = curl_easy_init();
	if (req->easy == NULL) {
		err_set(err, ERR_FAIL, "http: cannot create a curl handle");
		goto out;
	}
	if (request_setup(req, opts, err) != 0)
		goto out;

	TAILQ_INSERT_TAIL(&e->requests, req, entry);
	e->active++;
	mc = curl_multi_add_handle(e->multi, req->easy);
	if (mc == CURLM_OK) {
		request_set_state(req, HTTP_REQUEST_RUNNING, "started");
	} else {
		/* The owner hears about it from the loop, as about any other failure. */
		err_set(&req->err, ERR_TRANSIENT, "%s: %s", req->what, curl_multi_strerror(mc));
		request_set_state(req, HTTP_REQUEST_FAILING, req->err.message);
		ev_timer_start(e->loop, &req->defer);
	}
	if (out != NULL)
		*out = req;
	req = NULL;
	rc = 0;
out:
	request_free(req);
	return rc;
}

void
http_request_cancel(struct http_request *req)
{
	/* From inside its own callback the request is already on its way out. */
	if (req == NULL || req->state == HTTP_REQUEST_DONE)
		return;
	request_detach(req);
	request_set_state(req, HTTP_REQUEST_DONE, "canceled");
	request_free(req);
}

const char *
http_response_header(const struct http_response *resp, const char *name)
{
	size_t i;

	for (i = 0; i < resp->nheaders; i++)
		if (strcasecmp(resp->headers[i].name, name) == 0)
			return resp->headers[i].value;
	return NULL;
}
