/*
 * The HTTP server on a real loop and real sockets on loopback. The test thread is both the
 * server (it runs the loop) and the client (non-blocking sockets it polls between loop
 * iterations), so there are no threads and every step is deterministic.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <http_parser.h>

#include "common/buf.h"
#include "common/httpd.h"

#define PENDING_MAX 4
#define EVENTS_MAX 32
#define RESPONSES_MAX 8
#define CLIENT_BUF_MAX (16 * 1024 * 1024)

struct fixture;

/* A request whose answer is due later. */
struct pending {
	ev_timer timer;
	struct fixture *f;
	struct httpd_conn *conn;
	char target[256];
	bool active;
};

struct fixture {
	struct ev_loop *loop;
	ev_timer tick; /* keeps EV_RUN_ONCE from blocking for long */
	struct httpd *srv;
	struct pending pending[PENDING_MAX];
	int requests;
	int answered; /* handler answers, including those dropped for a gone peer */
	int errors;   /* on_error calls */
	int last_error;
	bool json_errors; /* on_error answers in its own shape */
	char events[EVENTS_MAX][300];
	size_t nevents;
	char last_path[256];
	char last_query[256];
	char last_peer[64];
	char last_header[256];
	bool last_keep_alive;
};

struct response {
	int status;
	char connection[64];
	bool has_length;
	struct buf body;
};

static void
event(struct fixture *f, const char *fmt, const char *arg)
{
	if (f->nevents < EVENTS_MAX)
		snprintf(f->events[f->nevents++], sizeof(f->events[0]), fmt, arg);
}

static long
query_number(const char *query, const char *key)
{
	const char *p;
	size_t klen = strlen(key);

	for (p = query; p != NULL && *p != '\0';
	     p = strchr(p, '&') != NULL ? strchr(p, '&') + 1 : NULL) {
		if (strncmp(p, key, klen) == 0 && p[klen] == '=')
			return strtol(p + klen + 1, NULL, 10);
	}
	return -1;
}

static void
pending_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct pending *p = container_of(w, struct pending, timer);
	struct httpd_header h = {"Content-Type", "text/plain"};
	char body[300];
	int n;

	(void)loop;
	(void)revents;
	p->active = false;
	n = snprintf(body, sizeof(body), "deferred %s", p->target);
	event(p->f, "answer %s", p->target);
	p->f->answered++;
	httpd_respond(p->conn, 200, &h, 1, body, (size_t)n);
}

static void
on_request(struct httpd_conn *conn, const struct httpd_request *req, void *arg)
{
	struct fixture *f = arg;
	struct httpd_header h[2] = {{"Content-Type", "text/plain"}, {"X-Test", "yes"}};
	struct buf body = BUF_INIT(CLIENT_BUF_MAX);
	const char *v;
	long n, i;

	f->requests++;
	event(f, "request %s", req->target);
	snprintf(f->last_path, sizeof(f->last_path), "%s", req->path);
	snprintf(
	    f->last_query, sizeof(f->last_query), "%s", req->query != NULL ? req->query : "(none)");
	snprintf(f->last_peer, sizeof(f->last_peer), "%s", req->peer);
	v = httpd_header(req, "x-probe");
	snprintf(f->last_header, sizeof(f->last_header), "%s", v != NULL ? v : "(none)");
	f->last_keep_alive = req->keep_alive;
	assert_int_equal(req->body[req->body_len], '\0');

	if (strcmp(req->path, "/defer") == 0) {
		for (i = 0; i < PENDING_MAX; i++) {
			if (!f->pending[i].active)
				break;
		}
		assert_true(i < PENDING_MAX);
		f->pending[i].active = true;
		f->pending[i].f = f;
		f->pending[i].conn = conn;
		snprintf(f->pending[i].target, sizeof(f->pending[i].target), "%s", req->target);
		ev_timer_init(
		    &f->pending[i].timer, pending_cb, query_number(req->query, "ms") / 1000.0, 0.);
		ev_timer_start(f->loop, &f->pending[i].timer);
		return;
	}
	f->answered++;
	event(f, "answer %s", req->target);
	if (strcmp(req->path, "/reset") == 0) {
		httpd_reset(conn);
		return;
	}
	if (strcmp(req->path, "/nocontent") == 0) {
		httpd_respond(conn, 204, NULL, 0, NULL, 0);
		return;
	}
	if (strcmp(req->path, "/big") == 0) {
		n = query_number(req->query, "n");
		for (i = 0; i < n; i++)
			assert_int_equal(buf_putc(&body, (char)('a' + i % 26)), 0);
		httpd_respond(conn, 200, h, 2, body.data, body.len);
		buf_free(&body);
		return;
	}
	/* Echo: method, target, then the body. */
	assert_int_equal(buf_printf(&body, "%s %s\n", req->method, req->target), 0);
	assert_int_equal(buf_append(&body, req->body, req->body_len), 0);
	httpd_respond(conn, 200, h, 2, body.data, body.len);
	buf_free(&body);
}

static void
on_error(struct httpd_conn *conn, int status, const char *reason, void *arg)
{
	struct fixture *f = arg;
	struct httpd_header h = {"Content-Type", "application/json"};
	char body[256];
	int n;

	f->errors++;
	f->last_error = status;
	if (!f->json_errors)
		return;
	n = snprintf(body, sizeof(body), "{\"status\":%d,\"reason\":\"%s\"}", status, reason);
	httpd_respond(conn, status, &h, 1, body, (size_t)n);
}

static void
tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->loop = ev_loop_new(EVFLAG_AUTO);
	assert_non_null(f->loop);
	ev_timer_init(&f->tick, tick_cb, 0.002, 0.002);
	ev_timer_start(f->loop, &f->tick);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	size_t i;

	httpd_free(f->srv);
	for (i = 0; i < PENDING_MAX; i++)
		ev_timer_stop(f->loop, &f->pending[i].timer);
	ev_timer_stop(f->loop, &f->tick);
	ev_loop_destroy(f->loop);
	free(f);
	return 0;
}

static void
start_opts(struct fixture *f, struct httpd_opts *o)
{
	struct err err = ERR_INIT;

	o->on_request = on_request;
	o->on_error = on_error;
	o->arg = f;
	assert_int_equal(httpd_new(&f->srv, f->loop, o, &err), 0);
	assert_true(httpd_port(f->srv) > 0);
}

static void
start(struct fixture *f)
{
	struct httpd_opts o = HTTPD_OPTS_INIT;

	start_opts(f, &o);
}

static void
run_for(struct fixture *f, double seconds)
{
	ev_tstamp end;

	ev_now_update(f->loop);
	end = ev_now(f->loop) + seconds;
	while (ev_now(f->loop) < end)
		ev_run(f->loop, EVRUN_ONCE);
}

static int
client_connect_to(int family, int port, int rcvbuf)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		s6->sin6_addr = in6addr_loopback;
		len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*s4);
	}
	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (rcvbuf > 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	/* The listener is in the kernel's backlog, so connect completes without the loop. */
	assert_int_equal(connect(fd, (struct sockaddr *)&ss, len), 0);
	return fd;
}

static int
client_connect(struct fixture *f)
{
	return client_connect_to(AF_INET, httpd_port(f->srv), 0);
}

static void
client_send(int fd, const char *data, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = send(fd, data, len, MSG_NOSIGNAL);
		assert_true(n > 0);
		data += n;
		len -= (size_t)n;
	}
}

/* Send while running the loop, for more than the socket buffers hold. Returns 0 or -1. */
static int
client_send_pumped(struct fixture *f, int fd, const char *data, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = send(fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			data += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			ev_run(f->loop, EVRUN_ONCE);
			continue;
		}
		return -1;
	}
	return 0;
}

static void
client_sends(int fd, const char *s)
{
	client_send(fd, s, strlen(s));
}

/* Response parsing with http-parser in response mode. */
struct rparse {
	struct response *r;
	size_t max, n;
	bool field_connection, field_length;
};

static int
r_begin(http_parser *p)
{
	struct rparse *rp = p->data;

	if (rp->n < rp->max) {
		rp->r[rp->n].connection[0] = '\0';
		rp->r[rp->n].has_length = false;
		buf_reset(&rp->r[rp->n].body);
	}
	return 0;
}

static int
r_field(http_parser *p, const char *at, size_t len)
{
	struct rparse *rp = p->data;

	rp->field_connection = len == 10 && strncasecmp(at, "Connection", 10) == 0;
	rp->field_length = len == 14 && strncasecmp(at, "Content-Length", 14) == 0;
	return 0;
}

static int
r_value(http_parser *p, const char *at, size_t len)
{
	struct rparse *rp = p->data;

	if (rp->n >= rp->max)
		return 0;
	if (rp->field_connection)
		snprintf(
		    rp->r[rp->n].connection, sizeof(rp->r[0].connection), "%.*s", (int)len, at);
	if (rp->field_length)
		rp->r[rp->n].has_length = true;
	return 0;
}

static int
r_body(http_parser *p, const char *at, size_t len)
{
	struct rparse *rp = p->data;

	if (rp->n < rp->max)
		assert_int_equal(buf_append(&rp->r[rp->n].body, at, len), 0);
	return 0;
}

static int
r_complete(http_parser *p)
{
	struct rparse *rp = p->data;

	if (rp->n < rp->max)
		rp->r[rp->n].status = (int)p->status_code;
	rp->n++;
	return 0;
}

static const http_parser_settings r_settings = {
    .on_message_begin = r_begin,
    .on_header_field = r_field,
    .on_header_value = r_value,
    .on_body = r_body,
    .on_message_complete = r_complete,
};

/* Complete responses in data, skipping interim 1xx answers. */
static size_t
parse_responses(const struct buf *data, struct response *r, size_t max)
{
	http_parser p;
	struct rparse rp = {r, max, 0, false, false};
	size_t off = 0, n;
	const char *cont = "HTTP/1.1 100 Continue\r\n\r\n";

	while (
	    data->len - off >= strlen(cont) && strncmp(data->data + off, cont, strlen(cont)) == 0)
		off += strlen(cont);
	http_parser_init(&p, HTTP_RESPONSE);
	p.data = &rp;
	n = http_parser_execute(&p, &r_settings, data->data + off, data->len - off);
	(void)n;
	return rp.n < max ? rp.n : max;
}

struct client_result {
	bool eof;   /* orderly end of stream */
	bool reset; /* ECONNRESET */
};

/*
 * Run the loop and read fd until want responses are complete, the stream ends, or timeout.
 * Returns the number of complete responses.
 */
static size_t
client_read(struct fixture *f, int fd, struct buf *data, struct response *r, size_t want,
    double timeout, struct client_result *res)
{
	char chunk[65536];
	ev_tstamp end;
	ssize_t n;
	size_t got = 0;

	memset(res, 0, sizeof(*res));
	ev_now_update(f->loop);
	end = ev_now(f->loop) + timeout;
	for (;;) {
		n = recv(fd, chunk, sizeof(chunk), MSG_DONTWAIT);
		if (n > 0) {
			assert_int_equal(buf_append(data, chunk, (size_t)n), 0);
			got = parse_responses(data, r, want);
			if (got >= want)
				return got;
			continue;
		}
		if (n == 0) {
			res->eof = true;
			return parse_responses(data, r, want);
		}
		if (errno == ECONNRESET) {
			res->reset = true;
			return parse_responses(data, r, want);
		}
		assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
		if (ev_now(f->loop) >= end)
			return parse_responses(data, r, want);
		ev_run(f->loop, EVRUN_ONCE);
	}
}

static void
responses_init(struct response *r, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		buf_init(&r[i].body, CLIENT_BUF_MAX);
	}
}

static void
responses_free(struct response *r, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		buf_free(&r[i].body);
}

/* One request on a fresh connection; returns the response count (0 or 1). */
static size_t
exchange(
    struct fixture *f, int fd, const char *request, struct response *r, struct client_result *res)
{
	struct buf data = BUF_INIT(CLIENT_BUF_MAX);
	size_t n;

	client_sends(fd, request);
	n = client_read(f, fd, &data, r, 1, 2.0, res);
	buf_free(&data);
	return n;
}

/* After a final answer, the server must close: expect end of stream within a second. */
static void
expect_closed(struct fixture *f, int fd)
{
	struct buf data = BUF_INIT(CLIENT_BUF_MAX);
	struct response r[1];
	struct client_result res;

	responses_init(r, 1);
	client_read(f, fd, &data, r, 1, 1.0, &res);
	assert_true(res.eof || res.reset);
	responses_free(r, 1);
	buf_free(&data);
}

static void
wait_connections(struct fixture *f, size_t n)
{
	ev_tstamp end;

	ev_now_update(f->loop);
	end = ev_now(f->loop) + 2.0;
	while (httpd_connections(f->srv) != n && ev_now(f->loop) < end)
		ev_run(f->loop, EVRUN_ONCE);
	assert_int_equal(httpd_connections(f->srv), n);
}

static void
test_httpd__get(void **state)
{
	struct fixture *f = *state;
	struct response r[1];
	struct client_result res;
	char expect[64];
	int fd;

	start(f);
	snprintf(expect, sizeof(expect), "127.0.0.1:%d", httpd_port(f->srv));
	assert_string_equal(httpd_address(f->srv), expect);
	responses_init(r, 1);
	fd = client_connect(f);
	assert_int_equal(
	    exchange(f, fd, "GET /echo%3Aa?x=1&y=%2F HTTP/1.1\r\nHost: h\r\nX-PROBE: v1\r\n\r\n", r,
	        &res),
	    1);
	assert_int_equal(r[0].status, 200);
	assert_true(r[0].has_length);
	assert_string_equal(buf_cstr(&r[0].body), "GET /echo%3Aa?x=1&y=%2F\n");
	assert_string_equal(f->last_path, "/echo%3Aa");
	assert_string_equal(f->last_query, "x=1&y=%2F");
	assert_string_equal(f->last_header, "v1");
	assert_true(f->last_keep_alive);
	assert_true(strncmp(f->last_peer, "127.0.0.1:", 10) == 0);
	/* No query at all is NULL, not "". */
	assert_int_equal(exchange(f, fd, "GET /echo HTTP/1.1\r\nHost: h\r\n\r\n", r, &res), 1);
	assert_string_equal(f->last_query, "(none)");
	assert_string_equal(f->last_header, "(none)");
	close(fd);
	responses_free(r, 1);
}

static void
test_httpd__post_body(void **state)
{
	struct fixture *f = *state;
	struct response r[1];
	struct client_result res;
	int fd;

	start(f);
	responses_init(r, 1);
	fd = client_connect(f);
	assert_int_equal(
	    exchange(f, fd,
	        "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world", r, &res),
	    1);
	assert_string_equal(buf_cstr(&r[0].body), "POST /echo\nhello world");
	/* Chunked bodies are reassembled. */
	assert_int_equal(exchange(f, fd,
	                     "PUT /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
	                     "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
	                     r, &res),
	    1);
	assert_string_equal(buf_cstr(&r[0].body), "PUT /echo\nhello world");
	close(fd);
	responses_free(r, 1);
}

static void
test_httpd__keep_alive(void **state)
{
	struct fixture *f = *state;
	struct response r[1];
	struct client_result res;
	char peer[64];
	int fd, i;

	start(f);
	responses_init(r, 1);
	fd = client_connect(f);
	for (i = 0; i < 5; i++) {
		assert_int_equal(
		    exchange(f, fd, "GET /echo HTTP/1.1\r\nHost: h\r\n\r\n", r, &res), 1);
		assert_int_equal(r[0].status, 200);
		assert_string_equal(r[0].connection, "");
		if (i == 0)
			snprintf(peer, sizeof(peer), "%s", f->last_peer);
		assert_string_equal(f->last_peer, peer);
	}
	assert_int_equal(f->requests, 5);
	assert_int_equal(httpd_connections(f->srv), 1);
	/* Connection: close is honoured and announced. */
	assert_int_equal(
	    exchange(f, fd, "GET /echo HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", r, &res),
	    1);
	assert_string_equal(r[0].connection, "close");
	assert_false(f->last_keep_alive);
	expect_closed(f, fd);
	close(fd);
	wait_connections(f, 0);
	responses_free(r, 1);
}

static void
test_httpd__http10(void **state)
{
	struct fixture *f = *state;
	struct response r[1];
	struct client_result res;
	int fd;

	start(f);
	responses_init(r, 1);
	fd = client_connect(f);
	assert_int_equal(
	    exchange(f, fd, "GET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", r, &res), 1);
	assert_string_equal(r[0].connection, "keep-alive");
	assert_int_equal(exchange(f, fd, "GET /echo HTTP/1.0\r\n\r\n", r, &res), 1);
	assert_string_equal(r[0].connection, "close");
	expect_closed(f, fd);
	close(fd);
	responses_free(r, 1);
}

static void
test_httpd__pipelined_in_order(void **state)
{
	struct fixture *f = *state;
	struct response r[3];
	struct client_result res;
	struct buf data = BUF_INIT(CLIENT_BUF_MAX);
	int fd;

	start(f);
	responses_init(r, 3);
	fd = client_connect(f);
	/* Three requests in one write; the first is answered late, the others at once. */
	client_sends(fd, "GET /defer?ms=50 HTTP/1.1\r\nHost: h\r\n\r\n"
	                 "POST /echo?2 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
	                 "GET /echo?3 HTTP/1.1\r\nHost: h\r\n\r\n");
	assert_int_equal(client_read(f, fd, &data, r, 3, 2.0, &res), 3);
	assert_string_equal(buf_cstr(&r[0].body), "deferred /defer?ms=50");
	assert_string_equal(buf_cstr(&r[1].body), "POST /echo?2\nabc");
	assert_string_equal(buf_cstr(&r[2].body), "GET /echo?3\n");
	/* The second request reached the handler only after the first was answered. */
	assert_int_equal(f->nevents, 6);
	assert_string_equal(f->events[0], "request /defer?ms=50");
	assert_string_equal(f->events[1], "answer /defer?ms=50");
	assert_string_equal(f->events[2], "request /echo?2");
	assert_string_equal(f->events[3], "answer /echo?2");
	assert_string_equal(f->events[4], "request /echo?3");
	assert_int_equal(httpd_connections(f->srv), 1);
	close(fd);
	buf_free(&data);
	responses_free(r, 3);
}

static void
test_httpd__deferred_answer(void **state)
{
	struct fixture *f = *state;
	struct response r[1];
	struct client_result res;
	ev_tstamp t0;
	int fd;

	start(f);
	responses_init(r, 1);
	fd = client_connect(f);
	ev_now_update(f->loop);
	t0 = ev_now(f->loop);
	assert_int_equal(
	    exchange(f, fd, "GET /defer?ms=40 HTTP/1.1\r\nHost: h\r\n\r\n", r, &res), 1);
	ev_now_update(f->loop);
	assert_true(ev_now(f->loop) - t0 >= 0.035);
	assert_string_equal(buf_cstr(&r[0].body), "deferred /defer?ms=40");
	/* The connection is still usable. */
	assert_int_equal(exchange(f, fd, "GET /echo HTTP/1.1\r\nHost: h\r\n\r\n", r, &res), 1);
	assert_int_equal(r[0].status, 200);
	close(fd);
	responses_free(r, 1);
}

static void
test_httpd__peer_gone_before_answer(void **state)
{
	struct fixture *f = *state;
	struct linger lg = {1, 0};
	int fd;

	start(f);
	/* An orderly close: the answer goes out to a dead socket and the server tidies up. */
	fd = client_connect(f);
	client_sends(fd, "GET /defer?ms=30 HTTP/1.1\r\nHost: h\r\n\r\n");
	run_for(f, 0.01);
	assert_int_equal(f->requests, 1);
	close(fd);
	run_for(f, 0.05);
	assert_int_equal(f->answered, 1);
	wait_connections(f, 0);

	/* A reset while the handler holds the request: the connection is orphaned, then freed. */
	fd = client_connect(f);
	client_sends(fd, "GET /defer?ms=300 HTTP/1.1\r\nHost: h\r\n\r\n");
	run_for(f, 0.01);
	assert_int_equal(f->requests, 2);
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
	run_for(f, 0.02);
	assert_int_equal(f->answered, 1);
	assert_int_equal(httpd_connections(f->srv), 1); /* still held for the handler */
	run_for(f, 0.35);
	assert_int_equal(f->answered, 2);
	wait_connections(f, 0);
}

static void
test_httpd__body_too_large(void **state)
{
	struct fixture *f = *state;
	struct httpd_opts o = HTTPD_OPTS_INIT;
	struct response r[1];
	struct client_result res;
	char req[4096];
	int fd;

	o.max_body = 1024;
	start_opts(f, &o);
	responses_init(r, 1);
	/* Announced by Content-Length: refused before the body is read. */
	fd = client_connect(f);
	snprintf(req, sizeof(req),
	    "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 2048\r\n\r\n%2048s", "x");
	assert_int_equal(exchange(f, fd, req, r, &res), 1);
	assert_int_equal(r[0].status, 413);
	assert_string_equal(r[0].connection, "close");
	assert_int_equal(f->last_error, 413);
	assert_int_equal(f->requests, 0);
	expect_closed(f, fd);
	close(fd);

	/* Chunked: refused once the body passes the cap, in the application's shape. */
	f->json_errors = true;
	fd = client_connect(f);
	snprintf(req, sizeof(req),
	    "POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "400\r\n%1024s\r\n10\r\n%16s\r\n0\r\n\r\n",
	    "x", "y");
	assert_int_equal(exchange(f, fd, req, r, &res), 1);
	assert_int_equal(r[0].status, 413);
	assert_string_equal(
	    buf_cstr(&r[0].body), "{\"status\":413,\"reason\":\"request body too large\"}");
	expect_closed(f, fd);
	close(fd);

	/*
	 * A client that sends a large body regardless still reads the 413: the server reads and
	 * discards after answering instead of resetting the connection under it.
	 */
	{
		struct buf big = BUF_INIT(8 * 1024 * 1024);
		struct buf data = BUF_INIT(CLIENT_BUF_MAX);

		assert_int_equal(
		    buf_printf(&big, "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: %d\r\n\r\n",
		        4 * 1024 * 1024),
		    0);
		while (big.len < 4 * 1024 * 1024)
			assert_int_equal(buf_puts(&big, "0123456789abcdef"), 0);
		fd = client_connect(f);
		assert_int_equal(client_send_pumped(f, fd, big.data, big.len), 0);
		assert_int_equal(client_read(f, fd, &data, r, 1, 2.0, &res), 1);
		assert_int_equal(r[0].status, 413);
		expect_closed(f, fd);
		close(fd);
		buf_free(&big);
		buf_free(&data);
	}

	/* Exactly at the cap is fine. */
	fd = client_connect(f);
	snprintf(req, sizeof(req),
	    "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 1024\r\n\r\n%1024s", "x");
	assert_int_equal(exchange(f, fd, req, r, &res), 1);
	assert_int_equal(r[0].status, 200);
	assert_int_equal(r[0].body.len, strlen("POST /echo\n") + 1024);
	close(fd);
	assert_int_equal(f->errors, 3);
	responses_free(r, 1);
}

static void
test_httpd__headers_too_large(void **state)
{
	struct fixture *f = *state;
	struct response r[1];
	struct client_result res;
	struct buf req = BUF_INIT(1024 * 1024);
	int fd, i;

	start(f);
	responses_init(r, 1);
	/* One huge header. */
	assert_int_equal(buf_puts(&req, "GET /echo HTTP/1.1\r\nHost: h\r\nX-Big: "), 0);
	for (i = 0; i < HTTPD_HEADER_BYTES_MAX; i++)
		assert_int_equal(buf_putc(&req, 'a'), 0);
	assert_int_equal(buf_puts(&req, "\r\n\r\n"), 0);
	fd = client_connect(f);
	assert_int_equal(exchange(f, fd, buf_cstr(&req), r, &res), 1);
	assert_int_equal(r[0].status, 431);
	expect_closed(f, fd);
	close(fd);

	/* A long request target counts too. */
	buf_reset(&req);
	assert_int_equal(buf_puts(&req, "GET /"), 0);
	for (i = 0; i < HTTPD_HEADER_BYTES_MAX; i++)
		assert_int_equal(buf_putc(&req, 'p'), 0);
	assert_int_equal(buf_puts(&req, " HTTP/1.1\r\nHost: h\r\n\r\n"), 0);
	fd = client_connect(f);
	assert_int_equal(exchange(f, fd, buf_cstr(&req), r, &res), 1);
	assert_int_equal(r[0].status, 431);
	close(fd);

	/* Too many header fields. */
	buf_reset(&req);
	assert_int_equal(buf_puts(&req, "GET /echo HTTP/1.1\r\n"), 0);
	for (i = 0; i <= HTTPD_HEADERS_MAX; i++)
		assert_int_equal(buf_printf(&req, "X-H%d: v\r\n", i), 0);
	assert_int_equal(buf_puts(&req, "\r\n"), 0);
	fd = client_connect(f);
	assert_int_equal(exchange(f, fd, buf_cstr(&req), r, &res), 1);
	assert_int_equal(r[0].status, 431);
	close(fd);

	/* Exactly HTTPD_HEADERS_MAX fields are accepted. */
	buf_reset(&req);
	assert_int_equal(buf_puts(&req, "GET /echo HTTP/1.1\r\n"), 0);
	for (i = 0; i < HTTPD_HEADERS_MAX - 1; i++)
		assert_int_equal(buf_printf(&req, "X-H%d: v\r\n", i), 0);
	assert_int_equal(buf_puts(&req, "X-Probe:\r\n\r\n"), 0);
	fd = client_connect(f);
	assert_int_equal(exchange(f, fd, buf_cstr(&req), r, &res), 1);
	assert_int_equal(r[0].status, 200);
	assert_string_equal(f->last_header, ""); /* an empty value is "" */
	close(fd);
	assert_int_equal(f->requests, 1);
	buf_free(&req);
	responses_free(r, 1);
}

static void
test_httpd__malformed(void **state)
{
	struct fixture *f = *state;
	struct response r[1];
	struct client_result res;
	static const char *const bad[] = {
	    "GARBAGE\r\n\r\n",
	    "GET /echo HTTP/12.1\r\n\r\n",
	    "GET /echo HTTP/1.1\r\nBad Header\r\n\r\n",
	    "POST /echo HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
	    "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
	};
	size_t i;
	int fd;

	start(f);
	responses_init(r, 1);
	for (i = 0; i < nitems(bad); i++) {
		fd = client_connect(f);
		assert_int_equal(exchange(f, fd, bad[i], r, &res), 1);
		assert_int_equal(r[0].status, 400);
		assert_string_equal(r[0].connection, "close");
		expect_closed(f, fd);
		close(fd);
	}
	assert_int_equal(f->requests, 0);
	assert_int_equal(f->errors, (int)nitems(bad));
	/* A good request before the bad one is answered first. */
	fd = client_connect(f);
	client_sends(fd, "GET /echo HTTP/1.1\r\nHost: h\r\n\r\nNONSENSE\r\n\r\n");
	{
		struct response two[2];
		struct buf data = BUF_INIT(CLIENT_BUF_MAX);

		responses_init(two, 2);
		assert_int_equal(client_read(f, fd, &data, two, 2, 2.0, &res), 2);
		assert_int_equal(two[0].status, 200);
		assert_int_equal(two[1].status, 400);
		responses_free(two, 2);
		buf_free(&data);
	}
	expect_closed(f, fd);
	close(fd);
	wait_connections(f, 0);
	responses_free(r, 1);
}

static void
test_httpd__half_close(void **state)
{
	struct fixture *f = *state;
	struct response r[2];
	struct client_result res;
	struct buf data = BUF_INIT(CLIENT_BUF_MAX);
	int fd;

	start(f);
	responses_init(r, 2);
	/* Two pipelined requests, the first deferred, then the client stops writing. */
	fd = client_connect(f);
	client_sends(fd,
	    "GET /defer?ms=30 HTTP/1.1\r\nHost: h\r\n\r\nGET /echo HTTP/1.1\r\nHost: h\r\n\r\n");
	assert_int_equal(shutdown(fd, SHUT_WR), 0);
	assert_int_equal(client_read(f, fd, &data, r, 2, 2.0, &res), 2);
	assert_string_equal(buf_cstr(&r[0].body), "deferred /defer?ms=30");
	assert_string_equal(buf_cstr(&r[1].body), "GET /echo\n");
	expect_closed(f, fd);
	close(fd);
	wait_connections(f, 0);

	/* A request cut short by the half-close gets no answer, and the connection closes. */
	fd = client_connect(f);
	client_sends(fd, "GET /echo HTTP/1.1\r\nHost:");
	assert_int_equal(shutdown(fd, SHUT_WR), 0);
	buf_reset(&data);
	assert_int_equal(client_read(f, fd, &data, r, 1, 1.0, &res), 0);
	assert_true(res.eof || res.reset);
	close(fd);
	wait_connections(f, 0);
	buf_free(&data);
	responses_free(r, 2);
}

static void
test_httpd__idle_timeout(void **state)
{
	struct fixture *f = *state;
	struct httpd_opts o = HTTPD_OPTS_INIT;
	struct response r[1];
	struct client_result res;
	ev_tstamp t0;
	int fd;

	o.idle_timeout = 0.3;
	start_opts(f, &o);
	responses_init(r, 1);
	fd = client_connect(f);
	/* Activity keeps the connection open past the timeout. */
	assert_int_equal(exchange(f, fd, "GET /echo HTTP/1.1\r\nHost: h\r\n\r\n", r, &res), 1);
	run_for(f, 0.15);
	assert_int_equal(exchange(f, fd, "GET /echo HTTP/1.1\r\nHost: h\r\n\r\n", r, &res), 1);
	run_for(f, 0.15);
	assert_int_equal(exchange(f, fd, "GET /echo HTTP/1.1\r\nHost: h\r\n\r\n", r, &res), 1);
	assert_int_equal(httpd_connections(f->srv), 1);
	/* A handler taking longer than the timeout is not cut off. */
	assert_int_equal(
	    exchange(f, fd, "GET /defer?ms=400 HTTP/1.1\r\nHost: h\r\n\r\n", r, &res), 1);
	assert_int_equal(r[0].status, 200);
	/* Then silence closes it. */
	ev_now_update(f->loop);
	t0 = ev_now(f->loop);
	expect_closed(f, fd);
	ev_now_update(f->loop);
	assert_true(ev_now(f->loop) - t0 >= 0.25);
	wait_connections(f, 0);
	close(fd);
	responses_free(r, 1);
}

static void
test_httpd__reset(void **state)
{
	struct fixture *f = *state;
	struct response r[1];
	struct client_result res;
	int fd;

	start(f);
	responses_init(r, 1);
	fd = client_connect(f);
	assert_int_equal(exchange(f, fd, "GET /reset HTTP/1.1\r\nHost: h\r\n\r\n", r, &res), 0);
	assert_true(res.reset);
	close(fd);
	wait_connections(f, 0);
	responses_free(r, 1);
}

static void
test_httpd__max_connections(void **state)
{
	struct fixture *f = *state;
	struct httpd_opts o = HTTPD_OPTS_INIT;
	struct response r[1];
	struct client_result res;
	int a, b, c;

	o.max_connections = 2;
	start_opts(f, &o);
	responses_init(r, 1);
	a = client_connect(f);
	b = client_connect(f);
	wait_connections(f, 2);
	c = client_connect(f);
	expect_closed(f, c);
	close(c);
	assert_int_equal(exchange(f, a, "GET /echo HTTP/1.1\r\nHost: h\r\n\r\n", r, &res), 1);
	assert_int_equal(exchange(f, b, "GET /echo HTTP/1.1\r\nHost: h\r\n\r\n", r, &res), 1);
	close(a);
	wait_connections(f, 1);
	c = client_connect(f);
	assert_int_equal(exchange(f, c, "GET /echo HTTP/1.1\r\nHost: h\r\n\r\n", r, &res), 1);
	assert_int_equal(r[0].status, 200);
	close(b);
	close(c);
	responses_free(r, 1);
}

static void
test_httpd__large_answer(void **state)
{
	struct fixture *f = *state;
	struct response r[2];
	struct client_result res;
	struct buf data = BUF_INIT(CLIENT_BUF_MAX);
	int fd;
	size_t i;

	start(f);
	responses_init(r, 2);
	/* A small receive window, so that the answer cannot hide in the socket buffers. */
	fd = client_connect_to(AF_INET, httpd_port(f->srv), 4096);
	/* 5 MB, then a pipelined request: the server queues, flushes, then goes on. */
	client_sends(fd,
	    "GET /big?n=5000000 HTTP/1.1\r\nHost: h\r\n\r\nGET /echo HTTP/1.1\r\nHost: h\r\n\r\n");
	run_for(f, 0.05);
	assert_int_equal(f->requests, 1); /* the second waits behind the unsent answer */
	assert_int_equal(client_read(f, fd, &data, r, 2, 5.0, &res), 2);
	assert_int_equal(r[0].body.len, 5000000);
	for (i = 0; i < r[0].body.len; i++) {
		if (r[0].body.data[i] != (char)('a' + i % 26))
			fail_msg("byte %zu differs", i);
	}
	assert_string_equal(buf_cstr(&r[1].body), "GET /echo\n");
	close(fd);
	buf_free(&data);
	responses_free(r, 2);
}

static void
test_httpd__no_content_and_head(void **state)
{
	struct fixture *f = *state;
	struct response r[1];
	struct client_result res;
	struct buf data = BUF_INIT(CLIENT_BUF_MAX);
	int fd;

	start(f);
	responses_init(r, 1);
	fd = client_connect(f);
	assert_int_equal(
	    exchange(f, fd, "DELETE /nocontent HTTP/1.1\r\nHost: h\r\n\r\n", r, &res), 1);
	assert_int_equal(r[0].status, 204);
	assert_false(r[0].has_length);
	/* HEAD: the length of the body that GET would send, and no body. */
	client_sends(fd, "HEAD /echo HTTP/1.1\r\nHost: h\r\n\r\n");
	run_for(f, 0.05);
	assert_true(client_read(f, fd, &data, r, 1, 0.05, &res) <= 1);
	assert_non_null(strstr(buf_cstr(&data), "Content-Length: 11\r\n"));
	assert_non_null(strstr(buf_cstr(&data), "\r\n\r\n"));
	assert_string_equal(strstr(buf_cstr(&data), "\r\n\r\n"), "\r\n\r\n");
	close(fd);
	buf_free(&data);
	responses_free(r, 1);
}

static void
test_httpd__expect_continue(void **state)
{
	struct fixture *f = *state;
	struct response r[1];
	struct client_result res;
	struct buf data = BUF_INIT(CLIENT_BUF_MAX);
	int fd;

	start(f);
	responses_init(r, 1);
	fd = client_connect(f);
	client_sends(fd,
	    "POST /echo HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
	assert_int_equal(client_read(f, fd, &data, r, 1, 0.1, &res), 0);
	assert_string_equal(buf_cstr(&data), "HTTP/1.1 100 Continue\r\n\r\n");
	client_sends(fd, "body");
	assert_int_equal(client_read(f, fd, &data, r, 1, 2.0, &res), 1);
	assert_string_equal(buf_cstr(&r[0].body), "POST /echo\nbody");
	close(fd);
	buf_free(&data);
	responses_free(r, 1);
}

static void
test_httpd__ipv6(void **state)
{
	struct fixture *f = *state;
	struct httpd_opts o = HTTPD_OPTS_INIT;
	struct response r[1];
	struct client_result res;
	char expect[64];
	int fd;

	o.listen = "[::1]:0";
	start_opts(f, &o);
	snprintf(expect, sizeof(expect), "[::1]:%d", httpd_port(f->srv));
	assert_string_equal(httpd_address(f->srv), expect);
	responses_init(r, 1);
	fd = client_connect_to(AF_INET6, httpd_port(f->srv), 0);
	assert_int_equal(exchange(f, fd, "GET /echo HTTP/1.1\r\nHost: h\r\n\r\n", r, &res), 1);
	assert_int_equal(r[0].status, 200);
	assert_true(strncmp(f->last_peer, "[::1]:", 6) == 0);
	close(fd);
	responses_free(r, 1);
}

static void
test_httpd__bad_listen(void **state)
{
	struct fixture *f = *state;
	struct httpd_opts o = HTTPD_OPTS_INIT;
	struct httpd *other = NULL;
	struct err err = ERR_INIT;
	char busy[64];
	static const char *const bad[] = {"nonsense", "127.0.0.1:99999", "[::1", "::1:80",
	    "127.0.0.1:", "127.0.0.1:8x", "127.0.0.1:-1"};
	size_t i;

	o.on_request = on_request;
	o.arg = f;
	for (i = 0; i < nitems(bad); i++) {
		o.listen = bad[i];
		err_clear(&err);
		assert_int_equal(httpd_new(&other, f->loop, &o, &err), -1);
		assert_null(other);
		assert_true(err.message[0] != '\0');
	}
	/* A port in use. */
	start(f);
	snprintf(busy, sizeof(busy), "127.0.0.1:%d", httpd_port(f->srv));
	o.listen = busy;
	assert_int_equal(httpd_new(&other, f->loop, &o, &err), -1);
	assert_non_null(strstr(err.message, "in use"));
}

static void
test_httpd__shutdown(void **state)
{
	struct fixture *f = *state;
	struct response r[1];
	struct client_result res;
	struct buf data = BUF_INIT(CLIENT_BUF_MAX);
	int idle, busy, fd;
	struct sockaddr_in sin;

	start(f);
	responses_init(r, 1);
	idle = client_connect(f);
	busy = client_connect(f);
	client_sends(busy, "GET /defer?ms=300 HTTP/1.1\r\nHost: h\r\n\r\n");
	run_for(f, 0.01);
	assert_int_equal(httpd_connections(f->srv), 2);
	httpd_shutdown(f->srv);
	/* The idle connection closes at once; the busy one gets its answer, then closes. */
	expect_closed(f, idle);
	assert_int_equal(client_read(f, busy, &data, r, 1, 2.0, &res), 1);
	assert_int_equal(r[0].status, 200);
	assert_string_equal(r[0].connection, "close");
	expect_closed(f, busy);
	close(idle);
	close(busy);
	wait_connections(f, 0);
	/* Nothing listens any more. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)httpd_port(f->srv));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), -1);
	assert_int_equal(errno, ECONNREFUSED);
	close(fd);
	buf_free(&data);
	responses_free(r, 1);
}

static void
test_httpd__free_with_requests_in_hand(void **state)
{
	struct fixture *f = *state;
	struct linger lg = {1, 0};
	int a, b;
	size_t i;

	start(f);
	a = client_connect(f);
	b = client_connect(f);
	client_sends(a, "GET /defer?ms=500 HTTP/1.1\r\nHost: h\r\n\r\n");
	client_sends(b, "GET /defer?ms=500 HTTP/1.1\r\nHost: h\r\n\r\n");
	run_for(f, 0.01);
	setsockopt(b, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(b); /* orphans one of them */
	run_for(f, 0.01);
	assert_int_equal(f->requests, 2);
	/* The server goes away with one request held and one orphaned: nothing leaks. */
	for (i = 0; i < PENDING_MAX; i++)
		ev_timer_stop(f->loop, &f->pending[i].timer);
	httpd_free(f->srv);
	f->srv = NULL;
	close(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_httpd__get, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_httpd__post_body, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_httpd__keep_alive, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_httpd__http10, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_httpd__pipelined_in_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_httpd__deferred_answer, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_httpd__peer_gone_before_answer, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_httpd__body_too_large, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_httpd__headers_too_large, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_httpd__malformed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_httpd__half_close, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_httpd__idle_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_httpd__reset, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_httpd__max_connections, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_httpd__large_answer, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_httpd__no_content_and_head, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_httpd__expect_continue, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_httpd__ipv6, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_httpd__bad_listen, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_httpd__shutdown, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_httpd__free_with_requests_in_hand, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
