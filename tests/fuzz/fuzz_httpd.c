/*
 * Fuzz target "httpd": the HTTP/1.1 server (common/httpd.h) and, behind it, the Lambda
 * emulator's request handling (aws/emulator/server.h): request lines, headers, bodies
 * (Content-Length and chunked), pipelining, the caps, the admin API, SigV4 header checks,
 * routing, path labels and query parameters, and each operation's JSON body against the
 * model.
 *
 * Everything runs in this process on one libev loop: three emulator servers on 127.0.0.1
 * port 0 (one without authentication, so requests reach the model; one with SigV4 on; one
 * that answers LATENCY_MS late, from a timer), and a client connection per input that
 * writes the input, shuts its write side, and reads every answer until the server closes,
 * or resets the connection as soon as the input is written (so the server sees its peer go
 * away while it still holds a request, or has answers left to send). The model is reset
 * after each input, so an input is a self-contained session: a pipelined CreateFunction
 * then PublishVersion works, and nothing carries over to the next input. The model's delays
 * are 0, so a created function is Active at once.
 *
 * Input: byte 0 picks the server (bits 0-1: open, authenticated, late, open), how the bytes
 * are written (bits 2-4: all at once, or in chunks of 2^(k+2) bytes, so requests arrive
 * split at every point) and whether the client resets the connection once they are written
 * (bit 5); the rest is the byte stream.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ev.h>

#include "aws/emulator/emu.h"
#include "aws/emulator/server.h"
#include "common/compat.h"
#include "common/err.h"
#include "tests/fuzz/fuzz.h"

/* A server that has not closed the connection this long after the input ended is hung. */
#define CLIENT_TIMEOUT 5.0
/* The late server's delay, and how long the client waits after a reset for the server to
 * run what it held (the timers fire on orphaned connections). */
#define LATENCY_MS 1
#define SETTLE_SECONDS 0.004

enum which_server {
	SERVER_OPEN,
	SERVER_AUTH,
	SERVER_LATE,
	SERVER_COUNT,
};

struct client {
	ev_io io;
	ev_timer timer;
	int fd;
	const uint8_t *data;
	size_t len, off, chunk;
	bool reset; /* close with a reset once everything is written */
	bool done;
	char head[9]; /* the first bytes answered */
	size_t received;
};

static struct ev_loop *loop;
static struct emu *emu;
static struct server *servers[SERVER_COUNT];

static void
teardown(void)
{
	size_t i;

	for (i = 0; i < nitems(servers); i++) {
		server_free(servers[i]);
		servers[i] = NULL;
	}
	emu_free(emu);
	emu = NULL;
	if (loop != NULL)
		ev_loop_destroy(loop);
	loop = NULL;
}

static void
setup(void)
{
	static const struct server_credential cred = {"AKIDFUZZEXAMPLE", "fuzz/secret/key"};
	struct emu_opts eo = EMU_OPTS_INIT;
	struct server_opts so = SERVER_OPTS_INIT;
	struct err err = ERR_INIT;
	size_t i;

	signal(SIGPIPE, SIG_IGN);
	loop = ev_loop_new(EVFLAG_AUTO);
	eo.create_delay_ms = 0;
	eo.update_delay_ms = 0;
	if (loop == NULL || emu_new(&emu, &eo) != 0)
		abort();
	so.listen = "127.0.0.1:0";
	so.credentials = &cred;
	so.ncredentials = 1;
	so.seeded = true;
	for (i = 0; i < nitems(servers); i++) {
		so.auth = i == SERVER_AUTH;
		so.latency_ms = i == SERVER_LATE ? LATENCY_MS : 0;
		if (server_new(&servers[i], loop, emu, &so, &err) != 0) {
			fprintf(stderr, "fuzz_httpd: %s\n", err.message);
			abort();
		}
	}
	atexit(teardown);
}

static void
client_finish(struct client *c)
{
	c->done = true;
	ev_io_stop(loop, &c->io);
	ev_timer_stop(loop, &c->timer);
}

static void
client_cb(struct ev_loop *l, ev_io *w, int revents)
{
	struct client *c = container_of(w, struct client, io);
	char buf[64 * 1024];
	size_t want;
	ssize_t n;

	if ((revents & EV_READ) != 0) {
		n = recv(c->fd, buf, sizeof(buf), 0);
		if (n > 0) {
			if (c->received < sizeof(c->head))
				memcpy(c->head + c->received, buf,
				    (size_t)n < sizeof(c->head) - c->received
				        ? (size_t)n
				        : sizeof(c->head) - c->received);
			c->received += (size_t)n;
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			client_finish(c);
			return;
		}
	}
	if ((revents & EV_WRITE) != 0 && c->off < c->len) {
		want = c->len - c->off < c->chunk ? c->len - c->off : c->chunk;
		n = send(c->fd, c->data + c->off, want, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0)
			c->off += (size_t)n;
		else if (n < 0 && errno != EAGAIN && errno != EINTR)
			c->off = c->len; /* the server closed: stop writing, read what it said */
		if (c->off == c->len && c->reset) {
			client_finish(c);
			return;
		}
		if (c->off == c->len) {
			shutdown(c->fd, SHUT_WR);
			ev_io_stop(l, &c->io);
			ev_io_set(&c->io, c->fd, EV_READ);
			ev_io_start(l, &c->io);
		}
	}
}

static void
settle_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	bool *settled = w->data;

	(void)l;
	(void)revents;
	*settled = true;
}

static void
timer_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	(void)l;
	(void)w;
	(void)revents;
	fprintf(stderr, "fuzz_httpd: the server did not close the connection within %.0fs\n",
	    CLIENT_TIMEOUT);
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_in sin;
	struct linger lg = {1, 0};
	struct client c;
	ev_timer settle;
	bool settled = false;
	unsigned k, which;
	int i;

	fuzz_quiet_logs();
	if (loop == NULL)
		setup();
	if (size == 0)
		return 0;
	memset(&c, 0, sizeof(c));
	c.data = data + 1;
	c.len = size - 1;
	which = data[0] & 3;
	if (which >= SERVER_COUNT)
		which = SERVER_OPEN;
	k = (data[0] >> 2) & 7;
	c.reset = (data[0] & 0x20) != 0;
	c.chunk = k == 0 ? (c.len > 0 ? c.len : 1) : (size_t)1 << (k + 2);
	c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c.fd < 0)
		abort();
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)server_port(servers[which]));
	if (connect(c.fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 && errno != EINPROGRESS)
		abort();
	ev_io_init(&c.io, client_cb, c.fd, c.len > 0 ? EV_READ | EV_WRITE : EV_READ);
	ev_io_start(loop, &c.io);
	if (c.len == 0 && c.reset)
		c.done = true;
	else if (c.len == 0)
		shutdown(c.fd, SHUT_WR);
	ev_timer_init(&c.timer, timer_cb, CLIENT_TIMEOUT, 0.);
	ev_timer_start(loop, &c.timer);
	while (!c.done)
		ev_run(loop, EVRUN_ONCE);
	/* Both are on this stack frame. */
	ev_io_stop(loop, &c.io);
	ev_timer_stop(loop, &c.timer);
	/* Whatever the server says, it says in HTTP/1.1 (read whole unless the client reset). */
	if (!c.reset && c.received > 0 &&
	    (c.received < sizeof(c.head) || memcmp(c.head, "HTTP/1.1 ", 9) != 0))
		abort();
	/* An abortive close: no TIME_WAIT left behind by hundreds of thousands of inputs. */
	setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(c.fd);
	/* Let the server see the close and free the connection. After a reset, the late
	 * server also runs what it held, and answers into the void. */
	for (i = 0; i < 3; i++)
		ev_run(loop, EVRUN_NOWAIT);
	if (which == SERVER_LATE && c.reset) {
		ev_timer_init(&settle, settle_cb, SETTLE_SECONDS, 0.);
		settle.data = &settled;
		ev_timer_start(loop, &settle);
		while (!settled)
			ev_run(loop, EVRUN_ONCE);
	}
	emu_reset(emu);
	return 0;
}
