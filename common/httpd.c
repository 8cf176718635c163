/*
 * HTTP/1.1 server on libev and http-parser (common/httpd.h).
 *
 * Each connection reads into a fixed input buffer and feeds http-parser. The parser is
 * paused at the end of every message, so at most one request per connection is in the
 * handler's hands; the bytes of pipelined requests wait in the input buffer until the
 * answer is written. The request's strings live in per-connection buffers that are reused
 * from one request to the next, so a warm keep-alive connection allocates nothing per
 * request. Answers are written with one sendmsg() (head and body together); only what the
 * socket does not take is copied to the output buffer and flushed by a write watcher.
 *
 * Connections are never freed inside their own callbacks or a handler's call: a closed
 * connection goes to a graveyard that an ev_check watcher empties on the next loop
 * iteration. A connection whose peer goes away while the handler still holds its request is
 * "orphaned": its socket is closed at once, and the memory is released when the handler
 * answers (the answer is dropped) or the server is freed.
 */
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <http_parser.h>

#include "common/buf.h"
#include "common/httpd.h"
#include "common/log.h"
#include "common/xmalloc.h"

#define HTTPD_INPUT_MAX (16 * 1024) /* unparsed bytes held per connection */
/* The request's strings other than the target: name/value pairs, then path and query. */
#define HTTPD_STORE_MAX (2 * HTTPD_HEADER_BYTES_MAX + 64)
#define HTTPD_RESPONSE_HEAD_MAX (64 * 1024)
#define HTTPD_OUTPUT_MAX (64 * 1024 * 1024) /* unsent answers per connection */
#define HTTPD_OUTPUT_HIGH (256 * 1024)      /* stop parsing while this much is unsent */
#define HTTPD_OUTPUT_KEEP (64 * 1024)       /* release larger output buffers once drained */
#define HTTPD_LINGER_SECONDS 2.0            /* discard input this long after a final answer */
#define HTTPD_ACCEPT_BATCH 64
#define HTTPD_ACCEPT_RETRY_SECONDS 0.1
#define HTTPD_ADDRESS_MAX 64
#define HTTPD_MAX_CONNECTIONS_DEFAULT 1024

enum conn_state {
	CONN_READING,   /* waiting for or parsing a request; earlier answers may be unsent */
	CONN_HANDLING,  /* a request is in the handler's hands */
	CONN_ORPHANED,  /* the peer went away while handling; waiting for the answer to drop */
	CONN_CLOSING,   /* the last answer is being flushed */
	CONN_LINGERING, /* write side shut; discarding input until EOF or the linger time */
	CONN_CLOSED,    /* in the graveyard */
};

static const char *const conn_state_names[] = {
    "reading", "handling", "orphaned", "closing", "lingering", "closed"};

/* Which of the parser's string callbacks ran last, to split headers into pairs. */
enum parse_last { PARSE_NONE, PARSE_URL, PARSE_FIELD, PARSE_VALUE };

struct httpd_conn {
	struct httpd *srv;
	struct httpd_conn *prev, *next; /* srv->conns */
	struct httpd_conn *next_dead;   /* srv->graveyard */
	enum conn_state state;
	int fd;
	ev_io rio, wio;
	ev_timer timer; /* idle and linger timeout */
	ev_tstamp last_activity;
	http_parser parser;
	bool peer_eof;   /* the peer shut down its write side */
	bool in_message; /* a request has begun and is not complete */
	bool processing; /* conn_process() is on the stack */
	bool keep_alive; /* for the answer in hand */
	bool head_only;  /* the request in hand is HEAD */
	bool http10;
	int error_status; /* set by a parser callback that refuses the request */
	const char *error_reason;

	/* The request being parsed or handled. */
	enum parse_last last;
	size_t head_bytes; /* request line and headers as counted against the cap */
	size_t nheaders;
	size_t name_off[HTTPD_HEADERS_MAX], value_off[HTTPD_HEADERS_MAX];
	struct buf url;   /* the request target as received */
	struct buf store; /* name/value pairs, then copies of path and query */
	struct buf body;
	struct httpd_header headers[HTTPD_HEADERS_MAX];
	struct httpd_request req;

	struct buf head; /* scratch for the status line and headers of an answer */
	struct buf out;  /* answers the socket has not taken yet, from out_off */
	size_t out_off;

	size_t in_off, in_len;
	char peer[HTTPD_ADDRESS_MAX];
	char in[HTTPD_INPUT_MAX];
};

struct httpd {
	struct ev_loop *loop;
	struct httpd_opts opts;
	int fd;
	ev_io accept_io;
	ev_timer accept_retry; /* accept paused after EMFILE and friends */
	ev_check sweep;        /* frees the graveyard */
	struct httpd_conn *conns;
	struct httpd_conn *graveyard;
	size_t nconns;
	bool shutting_down;
	time_t date_time; /* the second date_buf was formatted for */
	char date_buf[64];
	char address[HTTPD_ADDRESS_MAX];
	int port;
};

static int on_message_begin(http_parser *p);
static int on_url(http_parser *p, const char *at, size_t len);
static int on_header_field(http_parser *p, const char *at, size_t len);
static int on_header_value(http_parser *p, const char *at, size_t len);
static int on_headers_complete(http_parser *p);
static int on_body(http_parser *p, const char *at, size_t len);
static int on_message_complete(http_parser *p);

static const http_parser_settings parser_settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

static void conn_process(struct httpd_conn *c);
static void conn_destroy(struct httpd_conn *c);

static void
conn_set_state(struct httpd_conn *c, enum conn_state state, const char *why)
{
	if (c->state == state)
		return;
	log_debug("httpd", "conn %s: %s -> %s (%s)", c->peer, conn_state_names[c->state],
	    conn_state_names[state], why);
	c->state = state;
}

/* Read while a request can be parsed or held, or while lingering; never past the buffer. */
static void
conn_update_read(struct httpd_conn *c)
{
	bool want;

	switch (c->state) {
	case CONN_READING:
	case CONN_HANDLING:
		want = !c->peer_eof && (c->in_len < sizeof(c->in) || c->in_off > 0);
		break;
	case CONN_LINGERING:
		want = true;
		break;
	default:
		want = false;
		break;
	}
	if (want)
		ev_io_start(c->srv->loop, &c->rio);
	else
		ev_io_stop(c->srv->loop, &c->rio);
}

static void
conn_release(struct httpd_conn *c)
{
	struct httpd *srv = c->srv;

	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	srv->nconns--;
	conn_set_state(c, CONN_CLOSED, "released");
	c->next_dead = srv->graveyard;
	srv->graveyard = c;
	ev_check_start(srv->loop, &srv->sweep);
}

/*
 * Close the socket now. The memory goes to the graveyard, unless the handler still holds
 * the request: then the connection is orphaned until it answers.
 */
static void
conn_destroy(struct httpd_conn *c)
{
	struct ev_loop *loop = c->srv->loop;

	if (c->state == CONN_CLOSED)
		return;
	ev_io_stop(loop, &c->rio);
	ev_io_stop(loop, &c->wio);
	ev_timer_stop(loop, &c->timer);
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
	if (c->state == CONN_HANDLING) {
		conn_set_state(c, CONN_ORPHANED, "peer gone while handling");
		return;
	}
	if (c->state != CONN_ORPHANED)
		conn_release(c);
}

static void
conn_free(struct httpd_conn *c)
{
	buf_free(&c->url);
	buf_free(&c->store);
	buf_free(&c->body);
	buf_free(&c->head);
	buf_free(&c->out);
	free(c);
}

static void
sweep_cb(struct ev_loop *loop, ev_check *w, int revents)
{
	struct httpd *srv = container_of(w, struct httpd, sweep);
	struct httpd_conn *c;

	(void)revents;
	while (srv->graveyard != NULL) {
		c = srv->graveyard;
		srv->graveyard = c->next_dead;
		conn_free(c);
	}
	ev_check_stop(loop, w);
}

/* Shut the write side, then discard input for a while so that the peer reads our answer. */
static void
conn_linger(struct httpd_conn *c)
{
	if (c->peer_eof) {
		conn_destroy(c);
		return;
	}
	shutdown(c->fd, SHUT_WR);
	conn_set_state(c, CONN_LINGERING, "answer sent");
	c->last_activity = ev_now(c->srv->loop);
	c->in_off = c->in_len = 0;
	conn_update_read(c);
}

/* Send what the output buffer holds. Returns 0 (all sent, or the write watcher waits) or -1. */
static int
conn_flush(struct httpd_conn *c)
{
	ssize_t n;

	while (c->out_off < c->out.len) {
		n = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			c->out_off += (size_t)n;
			c->last_activity = ev_now(c->srv->loop);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			ev_io_start(c->srv->loop, &c->wio);
			return 0;
		}
		log_debug("httpd", "conn %s: send: %s", c->peer, strerror(errno));
		return -1;
	}
	c->out_off = 0;
	if (c->out.cap > HTTPD_OUTPUT_KEEP)
		buf_free(&c->out);
	else
		buf_reset(&c->out);
	ev_io_stop(c->srv->loop, &c->wio);
	return 0;
}

/* Everything the connection was asked to send is out: close, or go on parsing. */
static void
conn_drained(struct httpd_conn *c)
{
	if (c->state == CONN_CLOSING) {
		conn_linger(c);
		return;
	}
	if (c->state == CONN_READING && c->in_off < c->in_len && !c->processing)
		ev_feed_event(c->srv->loop, &c->rio, EV_READ);
}

static void
wio_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct httpd_conn *c = container_of(w, struct httpd_conn, wio);

	(void)loop;
	(void)revents;
	if (conn_flush(c) != 0) {
		conn_destroy(c);
		return;
	}
	if (c->out_off == c->out.len)
		conn_drained(c);
}

/*
 * Write head and body: directly when nothing is queued, and queue what the socket does not
 * take. Returns 0 or -1 (the peer is gone, or the answer is over the output cap).
 */
static int
conn_write(struct httpd_conn *c, const char *head, size_t hlen, const char *body, size_t blen)
{
	struct iovec iov[2];
	struct msghdr msg;
	size_t done = 0;
	ssize_t n;

	if (c->out_off == c->out.len) {
		for (;;) {
			memset(&msg, 0, sizeof(msg));
			iov[0].iov_base = (void *)(uintptr_t)head;
			iov[0].iov_len = hlen;
			iov[1].iov_base = (void *)(uintptr_t)body;
			iov[1].iov_len = blen;
			msg.msg_iov = iov;
			msg.msg_iovlen = blen > 0 ? 2 : 1;
			n = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n >= 0)
				break;
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				n = 0;
				break;
			}
			log_debug("httpd", "conn %s: sendmsg: %s", c->peer, strerror(errno));
			return -1;
		}
		done = (size_t)n;
		if (done > 0)
			c->last_activity = ev_now(c->srv->loop);
		if (done == hlen + blen)
			return 0;
	}
	if (done < hlen) {
		if (buf_append(&c->out, head + done, hlen - done) != 0)
			goto toobig;
		done = hlen;
	}
	if (blen > done - hlen &&
	    buf_append(&c->out, body + (done - hlen), blen - (done - hlen)) != 0)
		goto toobig;
	ev_io_start(c->srv->loop, &c->wio);
	return 0;
toobig:
	log_error("httpd", "conn %s: answer of %zu bytes over the output cap of %d bytes", c->peer,
	    hlen + blen, HTTPD_OUTPUT_MAX);
	return -1;
}

static const char *
http_date(struct httpd *srv)
{
	time_t t = (time_t)ev_now(srv->loop);
	struct tm tm;

	if (t != srv->date_time) {
		gmtime_r(&t, &tm);
		strftime(srv->date_buf, sizeof(srv->date_buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		srv->date_time = t;
	}
	return srv->date_buf;
}

/* Append a decimal number; the answer path avoids printf, which shows up in profiles. */
static int
put_number(struct buf *b, size_t v)
{
	char tmp[24], *p = tmp + sizeof(tmp);

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	return buf_append(b, p, (size_t)(tmp + sizeof(tmp) - p));
}

static bool
header_safe(const char *s)
{
	return strpbrk(s, "\r\n") == NULL;
}

void
httpd_respond(struct httpd_conn *c, int status, const struct httpd_header *headers, size_t nheaders,
    const void *body, size_t len)
{
	struct httpd *srv = c->srv;
	struct buf *h = &c->head;
	const char *reason;
	bool keep, has_body, has_length;
	size_t i;
	int rc = 0;

	if (c->state == CONN_ORPHANED) {
		log_debug("httpd", "conn %s: answer %d dropped: peer gone", c->peer, status);
		conn_release(c);
		return;
	}
	assert(c->state == CONN_HANDLING);
	assert(status >= 200 && status <= 999);
	keep = c->keep_alive && !srv->shutting_down;
	/* 204 and 304 carry neither a body nor a Content-Length (RFC 9110 §8.6). */
	has_length = status != 204 && status != 304;
	has_body = has_length && !c->head_only;
	reason = http_status_str((enum http_status)status);
	if (strcmp(reason, "<unknown>") == 0)
		reason = "Unknown";
	buf_reset(h);
	rc |= buf_append(h, "HTTP/1.1 ", 9);
	rc |= put_number(h, (size_t)status);
	rc |= buf_putc(h, ' ');
	rc |= buf_puts(h, reason);
	rc |= buf_append(h, "\r\nDate: ", 8);
	rc |= buf_puts(h, http_date(srv));
	rc |= buf_append(h, "\r\n", 2);
	for (i = 0; i < nheaders; i++) {
		assert(strcasecmp(headers[i].name, "Content-Length") != 0);
		assert(strcasecmp(headers[i].name, "Connection") != 0);
		if (!header_safe(headers[i].name) || !header_safe(headers[i].value)) {
			log_warn("httpd", "conn %s: header %s dropped: line break", c->peer,
			    headers[i].name);
			continue;
		}
		rc |= buf_puts(h, headers[i].name);
		rc |= buf_append(h, ": ", 2);
		rc |= buf_puts(h, headers[i].value);
		rc |= buf_append(h, "\r\n", 2);
	}
	if (has_length) {
		rc |= buf_append(h, "Content-Length: ", 16);
		rc |= put_number(h, len);
		rc |= buf_append(h, "\r\n", 2);
	}
	if (!keep)
		rc |= buf_puts(h, "Connection: close\r\n");
	else if (c->http10)
		rc |= buf_puts(h, "Connection: keep-alive\r\n");
	rc |= buf_append(h, "\r\n", 2);
	if (rc != 0) {
		log_error("httpd", "conn %s: answer headers over %d bytes", c->peer,
		    HTTPD_RESPONSE_HEAD_MAX);
		conn_set_state(c, CONN_CLOSING, "answer too big");
		conn_destroy(c);
		return;
	}
	conn_set_state(c, keep ? CONN_READING : CONN_CLOSING, "answered");
	if (conn_write(c, h->data, h->len, has_body ? body : NULL, has_body ? len : 0) != 0) {
		conn_destroy(c);
		return;
	}
	c->last_activity = ev_now(srv->loop);
	if (!keep) {
		/* Nothing more will be parsed: drop pipelined input. */
		c->in_off = c->in_len = 0;
		conn_update_read(c);
		if (c->out_off == c->out.len)
			conn_linger(c);
		return;
	}
	conn_update_read(c);
	if (c->in_off < c->in_len && !c->processing)
		ev_feed_event(srv->loop, &c->rio, EV_READ);
	else if (c->in_off == c->in_len && c->peer_eof && !c->processing)
		ev_feed_event(srv->loop, &c->rio, EV_READ);
}

void
httpd_reset(struct httpd_conn *c)
{
	struct linger lg = {1, 0};

	if (c->state == CONN_ORPHANED) {
		conn_release(c);
		return;
	}
	assert(c->state == CONN_HANDLING);
	/* An abortive close: the peer sees a reset, not an orderly end of stream. */
	setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	conn_set_state(c, CONN_CLOSING, "reset by handler");
	conn_destroy(c);
}

/* Refuse the request being parsed: the application's error answer, else plain text. */
static void
conn_refuse(struct httpd_conn *c, int status, const char *reason)
{
	struct httpd *srv = c->srv;
	struct httpd_header ct = {"Content-Type", "text/plain"};
	char text[256];
	int n;

	log_debug("httpd", "conn %s: request refused: %d %s", c->peer, status, reason);
	c->keep_alive = false;
	c->head_only = false;
	c->in_message = false;
	c->in_off = c->in_len = 0;
	conn_set_state(c, CONN_HANDLING, "request refused");
	if (srv->opts.on_error != NULL)
		srv->opts.on_error(c, status, reason, srv->opts.arg);
	if (c->state == CONN_HANDLING) {
		n = snprintf(text, sizeof(text), "%d %s\n", status, reason);
		if (n < 0 || (size_t)n >= sizeof(text))
			n = 0;
		httpd_respond(c, status, &ct, 1, text, (size_t)n);
	}
	assert(c->state != CONN_HANDLING);
}

static void
conn_dispatch(struct httpd_conn *c)
{
	struct httpd *srv = c->srv;

	conn_set_state(c, CONN_HANDLING, "request");
	srv->opts.on_request(c, &c->req, srv->opts.arg);
}

static int
parse_status(enum http_errno e)
{
	return e == HPE_HEADER_OVERFLOW ? 431 : 400;
}

/* Parse buffered input and hand complete requests to the handler, one at a time. */
static void
conn_process(struct httpd_conn *c)
{
	enum http_errno e;
	size_t avail, n;

	c->processing = true;
	while (c->state == CONN_READING && c->in_off < c->in_len &&
	       c->out.len - c->out_off < HTTPD_OUTPUT_HIGH) {
		avail = c->in_len - c->in_off;
		n = http_parser_execute(&c->parser, &parser_settings, c->in + c->in_off, avail);
		c->in_off += n;
		e = HTTP_PARSER_ERRNO(&c->parser);
		if (e == HPE_PAUSED) {
			http_parser_pause(&c->parser, 0);
			conn_dispatch(c);
			continue;
		}
		if (c->error_status != 0) {
			conn_refuse(c, c->error_status, c->error_reason);
			break;
		}
		if (e != HPE_OK) {
			conn_refuse(c, parse_status(e), http_errno_description(e));
			break;
		}
		if (n < avail) {
			/* Only an upgrade stops the parser early, and upgrades pause first. */
			conn_refuse(c, 400, "unexpected end of parsing");
			break;
		}
	}
	c->processing = false;
	if (c->state == CONN_CLOSED || c->state == CONN_ORPHANED)
		return;
	if (c->in_off == c->in_len)
		c->in_off = c->in_len = 0;
	if (c->out_off < c->out.len && !ev_is_active(&c->wio) && conn_flush(c) != 0) {
		conn_destroy(c);
		return;
	}
	if (c->state == CONN_READING && c->in_len == 0 && c->peer_eof) {
		if (c->in_message) {
			log_debug("httpd", "conn %s: peer closed mid-request", c->peer);
			conn_destroy(c);
			return;
		}
		conn_set_state(c, CONN_CLOSING, "peer done");
		if (c->out_off == c->out.len)
			conn_linger(c);
		return;
	}
	conn_update_read(c);
}

/* Read what fits. Returns 0, or -1 when the connection was closed. */
static int
conn_read(struct httpd_conn *c)
{
	ssize_t n;

	if (c->state == CONN_LINGERING) {
		n = recv(c->fd, c->in, sizeof(c->in), 0);
		if (n == 0 ||
		    (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
			conn_destroy(c);
			return -1;
		}
		return 0;
	}
	if (c->in_off > 0) {
		memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
		c->in_len -= c->in_off;
		c->in_off = 0;
	}
	if (c->in_len == sizeof(c->in) || c->peer_eof) {
		conn_update_read(c);
		return 0;
	}
	n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, 0);
	if (n > 0) {
		c->in_len += (size_t)n;
		c->last_activity = ev_now(c->srv->loop);
		return 0;
	}
	if (n == 0) {
		c->peer_eof = true;
		conn_update_read(c);
		return 0;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return 0;
	log_debug("httpd", "conn %s: recv: %s", c->peer, strerror(errno));
	conn_destroy(c);
	return -1;
}

static void
rio_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct httpd_conn *c = container_of(w, struct httpd_conn, rio);

	(void)loop;
	(void)revents;
	/* Requests already buffered first (a fed event after an answer), then the socket. */
	if (c->state == CONN_READING && c->in_off < c->in_len)
		conn_process(c);
	if (c->state != CONN_READING && c->state != CONN_HANDLING && c->state != CONN_LINGERING)
		return;
	if (conn_read(c) != 0)
		return;
	if (c->state == CONN_READING)
		conn_process(c);
	else if (c->state == CONN_HANDLING)
		conn_update_read(c);
}

static void
timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct httpd_conn *c = container_of(w, struct httpd_conn, timer);
	double timeout, after;

	(void)revents;
	if (c->state == CONN_HANDLING || c->state == CONN_ORPHANED) {
		w->repeat = c->srv->opts.idle_timeout;
		ev_timer_again(loop, w);
		return;
	}
	timeout = c->srv->opts.idle_timeout;
	if (c->state == CONN_LINGERING && timeout > HTTPD_LINGER_SECONDS)
		timeout = HTTPD_LINGER_SECONDS;
	after = c->last_activity + timeout - ev_now(loop);
	if (after <= 0) {
		log_debug("httpd", "conn %s: %s timeout after %.1fs", c->peer,
		    conn_state_names[c->state], timeout);
		conn_destroy(c);
		return;
	}
	w->repeat = after;
	ev_timer_again(loop, w);
}

/* Request parsing. Strings go to c->store with offsets, since the buffer may move. */

static int
refuse(struct httpd_conn *c, int status, const char *reason)
{
	c->error_status = status;
	c->error_reason = reason;
	return -1;
}

static int
count_head(struct httpd_conn *c, size_t len)
{
	c->head_bytes += len;
	if (c->head_bytes > HTTPD_HEADER_BYTES_MAX)
		return refuse(c, 431, "request header fields too large");
	return 0;
}

static int
store(struct httpd_conn *c, const char *at, size_t len)
{
	if (buf_append(&c->store, at, len) != 0)
		return refuse(c, 431, "request header fields too large");
	return 0;
}

static int
on_message_begin(http_parser *p)
{
	struct httpd_conn *c = container_of(p, struct httpd_conn, parser);

	c->in_message = true;
	c->error_status = 0;
	c->last = PARSE_NONE;
	c->head_bytes = 16; /* method, version, spaces and line ends, roughly */
	c->nheaders = 0;
	buf_reset(&c->url);
	buf_reset(&c->store);
	if (c->body.cap > HTTPD_OUTPUT_KEEP)
		buf_free(&c->body);
	else
		buf_reset(&c->body);
	return 0;
}

static int
on_url(http_parser *p, const char *at, size_t len)
{
	struct httpd_conn *c = container_of(p, struct httpd_conn, parser);

	c->last = PARSE_URL;
	if (count_head(c, len) != 0)
		return -1;
	if (buf_append(&c->url, at, len) != 0)
		return refuse(c, 431, "request header fields too large");
	return 0;
}

/* Terminate the string being collected; a header without a value callback gets "". */
static int
end_string(struct httpd_conn *c)
{
	if (c->last == PARSE_FIELD) {
		if (store(c, "", 1) != 0)
			return -1;
		c->value_off[c->nheaders - 1] = c->store.len;
		return store(c, "", 1);
	}
	if (c->last == PARSE_VALUE)
		return store(c, "", 1);
	return 0;
}

static int
on_header_field(http_parser *p, const char *at, size_t len)
{
	struct httpd_conn *c = container_of(p, struct httpd_conn, parser);

	if (c->last != PARSE_FIELD) {
		if (end_string(c) != 0)
			return -1;
		if (c->nheaders == HTTPD_HEADERS_MAX)
			return refuse(c, 431, "too many header fields");
		c->name_off[c->nheaders++] = c->store.len;
		c->last = PARSE_FIELD;
		if (count_head(c, 4) != 0) /* ": " and the line end */
			return -1;
	}
	if (count_head(c, len) != 0)
		return -1;
	return store(c, at, len);
}

static int
on_header_value(http_parser *p, const char *at, size_t len)
{
	struct httpd_conn *c = container_of(p, struct httpd_conn, parser);

	if (c->last != PARSE_VALUE) {
		if (store(c, "", 1) != 0)
			return -1;
		c->value_off[c->nheaders - 1] = c->store.len;
		c->last = PARSE_VALUE;
	}
	if (count_head(c, len) != 0)
		return -1;
	return store(c, at, len);
}

static const char *
find_header(const struct httpd_conn *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nheaders; i++) {
		if (strcasecmp(c->store.data + c->name_off[i], name) == 0)
			return c->store.data + c->value_off[i];
	}
	return NULL;
}

static int
on_headers_complete(http_parser *p)
{
	struct httpd_conn *c = container_of(p, struct httpd_conn, parser);
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
	const char *expect;

	if (c->url.len == 0 && buf_putc(&c->url, '/') != 0)
		return -1;
	if (end_string(c) != 0)
		return -1;
	c->last = PARSE_NONE;
	if (p->content_length != ULLONG_MAX && p->content_length > c->srv->opts.max_body)
		return refuse(c, 413, "request body too large");
	expect = find_header(c, "Expect");
	if (expect != NULL && p->http_major == 1 && p->http_minor >= 1 &&
	    strcasecmp(expect, "100-continue") == 0) {
		/* Queued behind earlier answers; flushed when parsing stops. */
		if (buf_append(&c->out, cont, sizeof(cont) - 1) != 0)
			return refuse(c, 400, "output buffer full");
	}
	return 0;
}

static int
on_body(http_parser *p, const char *at, size_t len)
{
	struct httpd_conn *c = container_of(p, struct httpd_conn, parser);

	if (buf_append(&c->body, at, len) != 0)
		return refuse(c, 413, "request body too large");
	return 0;
}

/* Split the target into path and query; absolute-form targets are reduced to their path. */
static int
split_target(struct httpd_conn *c, size_t *path_off, size_t *query_off)
{
	struct http_parser_url u;
	const char *target = buf_cstr(&c->url);
	size_t tlen = strlen(target), plen, qoff = 0, qlen = 0;
	const char *q;
	bool has_query = false;

	if (target[0] == '/' || strcmp(target, "*") == 0) {
		q = strchr(target, '?');
		plen = q != NULL ? (size_t)(q - target) : tlen;
		if (q != NULL) {
			has_query = true;
			qoff = plen + 1;
			qlen = tlen - qoff;
		}
		*path_off = c->store.len;
		if (store(c, target, plen) != 0 || store(c, "", 1) != 0)
			return -1;
	} else {
		http_parser_url_init(&u);
		if (http_parser_parse_url(target, tlen, 0, &u) != 0)
			return refuse(c, 400, "malformed request target");
		*path_off = c->store.len;
		if ((u.field_set & (1 << UF_PATH)) != 0) {
			if (store(c, target + u.field_data[UF_PATH].off,
			        u.field_data[UF_PATH].len) != 0)
				return -1;
		} else if (store(c, "/", 1) != 0) {
			return -1;
		}
		if (store(c, "", 1) != 0)
			return -1;
		if ((u.field_set & (1 << UF_QUERY)) != 0) {
			has_query = true;
			qoff = u.field_data[UF_QUERY].off;
			qlen = u.field_data[UF_QUERY].len;
		}
	}
	*query_off = SIZE_MAX;
	if (has_query) {
		*query_off = c->store.len;
		if (store(c, target + qoff, qlen) != 0 || store(c, "", 1) != 0)
			return -1;
	}
	return 0;
}

static int
on_message_complete(http_parser *p)
{
	struct httpd_conn *c = container_of(p, struct httpd_conn, parser);
	struct httpd_request *r = &c->req;
	size_t path_off, query_off, i;

	if (split_target(c, &path_off, &query_off) != 0)
		return -1;
	/* The store does not change from here until the answer: pointers are stable. */
	for (i = 0; i < c->nheaders; i++) {
		c->headers[i].name = c->store.data + c->name_off[i];
		c->headers[i].value = c->store.data + c->value_off[i];
	}
	r->method = http_method_str((enum http_method)p->method);
	r->target = buf_cstr(&c->url);
	r->path = c->store.data + path_off;
	r->query = query_off != SIZE_MAX ? c->store.data + query_off : NULL;
	r->headers = c->headers;
	r->nheaders = c->nheaders;
	r->body = buf_cstr(&c->body);
	r->body_len = c->body.len;
	r->peer = c->peer;
	c->keep_alive = http_should_keep_alive(p) && !p->upgrade && !c->srv->shutting_down;
	r->keep_alive = c->keep_alive;
	c->head_only = p->method == HTTP_HEAD;
	c->http10 = p->http_major == 1 && p->http_minor == 0;
	c->in_message = false;
	http_parser_pause(p, 1);
	return 0;
}

const char *
httpd_header(const struct httpd_request *req, const char *name)
{
	size_t i;

	for (i = 0; i < req->nheaders; i++) {
		if (strcasecmp(req->headers[i].name, name) == 0)
			return req->headers[i].value;
	}
	return NULL;
}

static void
format_address(const struct sockaddr_storage *ss, char *out, size_t size)
{
	char host[INET6_ADDRSTRLEN];
	int port = 0;

	host[0] = '\0';
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)ss;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		port = ntohs(sin->sin_port);
		snprintf(out, size, "%s:%d", host, port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)(const void *)ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		port = ntohs(sin6->sin6_port);
		snprintf(out, size, "[%s]:%d", host, port);
	} else {
		snprintf(out, size, "unknown");
	}
}

static void
conn_new(struct httpd *srv, int fd, const struct sockaddr_storage *ss)
{
	struct httpd_conn *c;
	int one = 1;

	c = xcalloc(1, sizeof(*c));
	c->srv = srv;
	c->fd = fd;
	c->state = CONN_READING;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	format_address(ss, c->peer, sizeof(c->peer));
	http_parser_init(&c->parser, HTTP_REQUEST);
	buf_init(&c->url, HTTPD_HEADER_BYTES_MAX);
	buf_init(&c->store, HTTPD_STORE_MAX);
	buf_init(&c->body, srv->opts.max_body);
	buf_init(&c->head, HTTPD_RESPONSE_HEAD_MAX);
	buf_init(&c->out, HTTPD_OUTPUT_MAX);
	ev_io_init(&c->rio, rio_cb, fd, EV_READ);
	ev_io_init(&c->wio, wio_cb, fd, EV_WRITE);
	ev_init(&c->timer, timer_cb);
	c->last_activity = ev_now(srv->loop);
	c->timer.repeat = srv->opts.idle_timeout;
	ev_timer_again(srv->loop, &c->timer);
	c->next = srv->conns;
	if (srv->conns != NULL)
		srv->conns->prev = c;
	srv->conns = c;
	srv->nconns++;
	ev_io_start(srv->loop, &c->rio);
	log_debug("httpd", "conn %s: accepted", c->peer);
}

static void
accept_retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct httpd *srv = container_of(w, struct httpd, accept_retry);

	(void)revents;
	if (srv->fd >= 0)
		ev_io_start(loop, &srv->accept_io);
}

static void
accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct httpd *srv = container_of(w, struct httpd, accept_io);
	struct sockaddr_storage ss;
	socklen_t slen;
	int fd, i;

	(void)revents;
	for (i = 0; i < HTTPD_ACCEPT_BATCH; i++) {
		slen = sizeof(ss);
		fd = accept4(srv->fd, (struct sockaddr *)&ss, &slen, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			/* Out of descriptors or memory: pause instead of spinning on the backlog.
			 */
			log_warn("httpd", "%s: accept: %s", srv->address, strerror(errno));
			ev_io_stop(loop, &srv->accept_io);
			ev_timer_set(&srv->accept_retry, HTTPD_ACCEPT_RETRY_SECONDS, 0.);
			ev_timer_start(loop, &srv->accept_retry);
			return;
		}
		if (srv->nconns >= srv->opts.max_connections) {
			log_debug(
			    "httpd", "%s: connection refused: %zu open", srv->address, srv->nconns);
			close(fd);
			continue;
		}
		conn_new(srv, fd, &ss);
	}
}

/* Split "host:port", "[v6]:port" or ":port" into its parts. */
static int
split_listen(
    const char *listen_addr, char *host, size_t hsize, char *port, size_t psize, struct err *err)
{
	const char *colon, *p, *end;
	size_t hlen;

	if (listen_addr[0] == '[') {
		end = strchr(listen_addr, ']');
		if (end == NULL || end[1] != ':')
			goto bad;
		p = listen_addr + 1;
		hlen = (size_t)(end - p);
		colon = end + 1;
	} else {
		colon = strrchr(listen_addr, ':');
		if (colon == NULL ||
		    memchr(listen_addr, ':', (size_t)(colon - listen_addr)) != NULL)
			goto bad;
		p = listen_addr;
		hlen = (size_t)(colon - listen_addr);
	}
	if (hlen >= hsize || strlen(colon + 1) >= psize || colon[1] == '\0')
		goto bad;
	for (end = colon + 1; *end != '\0'; end++) {
		if (*end < '0' || *end > '9')
			goto bad;
	}
	if (strtol(colon + 1, NULL, 10) > 65535 || strlen(colon + 1) > 5)
		goto bad;
	memcpy(host, p, hlen);
	host[hlen] = '\0';
	memcpy(port, colon + 1, strlen(colon + 1) + 1);
	return 0;
bad:
	return err_set(
	    err, ERR_INVALID, "listen address %s is not HOST:PORT or [IPv6]:PORT", listen_addr);
}

static int
bind_listen(struct httpd *srv, struct err *err)
{
	struct addrinfo hints, *res = NULL, *ai;
	struct sockaddr_storage ss;
	socklen_t slen = sizeof(ss);
	char host[256], port[8];
	int fd = -1, one = 1, rc, saved = 0;

	if (split_listen(srv->opts.listen, host, sizeof(host), port, sizeof(port), err) != 0)
		return -1;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(host[0] != '\0' ? host : NULL, port, &hints, &res);
	if (rc != 0)
		return err_set(
		    err, ERR_INVALID, "listen address %s: %s", srv->opts.listen, gai_strerror(rc));
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(
		    ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, SOMAXCONN) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return err_set(
		    err, ERR_FAIL, "listen on %s: %s", srv->opts.listen, strerror(saved));
	if (getsockname(fd, (struct sockaddr *)&ss, &slen) != 0) {
		saved = errno;
		close(fd);
		return err_set(err, ERR_FAIL, "listen on %s: getsockname: %s", srv->opts.listen,
		    strerror(saved));
	}
	format_address(&ss, srv->address, sizeof(srv->address));
	srv->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)(void *)&ss)->sin6_port
	                                           : ((struct sockaddr_in *)(void *)&ss)->sin_port);
	srv->fd = fd;
	return 0;
}

int
httpd_new(struct httpd **out, struct ev_loop *loop, const struct httpd_opts *opts, struct err *err)
{
	struct httpd *srv;

	*out = NULL;
	assert(opts->on_request != NULL);
	srv = xcalloc(1, sizeof(*srv));
	srv->loop = loop;
	srv->opts = *opts;
	srv->fd = -1;
	srv->date_time = (time_t)-1;
	if (srv->opts.max_body == 0)
		srv->opts.max_body = HTTPD_BODY_MAX_DEFAULT;
	if (srv->opts.max_connections == 0)
		srv->opts.max_connections = HTTPD_MAX_CONNECTIONS_DEFAULT;
	if (!(srv->opts.idle_timeout > 0))
		srv->opts.idle_timeout = 60.0;
	if (srv->opts.listen == NULL)
		srv->opts.listen = "127.0.0.1:0";
	if (bind_listen(srv, err) != 0) {
		free(srv);
		return -1;
	}
	/* Only the listen string may be borrowed past this call; keep the bound form. */
	srv->opts.listen = srv->address;
	ev_io_init(&srv->accept_io, accept_cb, srv->fd, EV_READ);
	ev_init(&srv->accept_retry, accept_retry_cb);
	ev_check_init(&srv->sweep, sweep_cb);
	ev_io_start(loop, &srv->accept_io);
	log_debug("httpd", "%s: listening", srv->address);
	*out = srv;
	return 0;
}

const char *
httpd_address(const struct httpd *srv)
{
	return srv->address;
}

int
httpd_port(const struct httpd *srv)
{
	return srv->port;
}

size_t
httpd_connections(const struct httpd *srv)
{
	return srv->nconns;
}

void
httpd_shutdown(struct httpd *srv)
{
	struct httpd_conn *c, *next;

	if (srv->shutting_down)
		return;
	srv->shutting_down = true;
	ev_io_stop(srv->loop, &srv->accept_io);
	ev_timer_stop(srv->loop, &srv->accept_retry);
	if (srv->fd >= 0) {
		close(srv->fd);
		srv->fd = -1;
	}
	for (c = srv->conns; c != NULL; c = next) {
		next = c->next;
		/* Idle connections close now; the others after the request in hand. */
		if (c->state == CONN_READING && !c->in_message && c->in_off == c->in_len) {
			conn_set_state(c, CONN_CLOSING, "server shutting down");
			conn_update_read(c);
			if (c->out_off == c->out.len)
				conn_linger(c);
		}
	}
}

void
httpd_free(struct httpd *srv)
{
	struct httpd_conn *c;

	if (srv == NULL)
		return;
	ev_io_stop(srv->loop, &srv->accept_io);
	ev_timer_stop(srv->loop, &srv->accept_retry);
	if (srv->fd >= 0)
		close(srv->fd);
	while (srv->conns != NULL) {
		c = srv->conns;
		if (c->state == CONN_HANDLING || c->state == CONN_ORPHANED)
			conn_set_state(c, CONN_CLOSING, "server freed");
		conn_destroy(c);
	}
	while (srv->graveyard != NULL) {
		c = srv->graveyard;
		srv->graveyard = c->next_dead;
		conn_free(c);
	}
	ev_check_stop(srv->loop, &srv->sweep);
	free(srv);
}
