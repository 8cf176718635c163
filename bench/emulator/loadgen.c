/*
 * A small HTTP/1.1 load generator for the emulator benchmark: N keep-alive connections,
 * one outstanding request on each, for D seconds. It prints the number of requests and
 * errors, the rate, and the latency percentiles.
 *
 *   loadgen --port 9001 --path /2015-03-31/functions/bench [--connections 32] [--duration 10]
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <http_parser.h>

#define CONNECTIONS_MAX 4096
#define REQUEST_MAX 8192
#define READ_CHUNK 65536
#define SAMPLES_MAX (200u * 1000 * 1000)

struct conn {
	int fd;
	http_parser parser;
	uint64_t sent_ns; /* when the outstanding request went out */
	size_t out_off;   /* bytes of the request sent so far */
	bool done;        /* the response is complete */
	int status;
};

struct load {
	struct sockaddr_in addr;
	char request[REQUEST_MAX];
	size_t request_len;
	int epfd;
	struct conn *conns;
	size_t nconns;
	uint64_t requests, errors, reconnects;
	uint32_t *samples; /* latency in microseconds */
	size_t nsamples, samples_cap;
};

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
die(const char *what)
{
	fprintf(stderr, "loadgen: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int
on_complete(http_parser *p)
{
	struct conn *c = p->data;

	c->done = true;
	c->status = (int)p->status_code;
	/* One response per request: stop here even if more bytes follow. */
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings settings = {.on_message_complete = on_complete};

static void
conn_open(struct load *l, struct conn *c)
{
	struct epoll_event ev;
	int one = 1;

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		die("socket");
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *)&l->addr, sizeof(l->addr)) != 0)
		die("connect");
	http_parser_init(&c->parser, HTTP_RESPONSE);
	c->parser.data = c;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = c;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, c->fd, &ev) != 0)
		die("epoll_ctl");
}

static void
conn_close(struct load *l, struct conn *c)
{
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
}

static int
conn_send(struct load *l, struct conn *c)
{
	ssize_t n;

	c->done = false;
	c->out_off = 0;
	c->sent_ns = now_ns();
	while (c->out_off < l->request_len) {
		n = send(c->fd, l->request + c->out_off, l->request_len - c->out_off, MSG_NOSIGNAL);
		if (n <= 0)
			return -1;
		c->out_off += (size_t)n;
	}
	return 0;
}

static void
sample(struct load *l, uint64_t ns)
{
	uint64_t us = ns / 1000;

	if (l->nsamples == l->samples_cap) {
		if (l->samples_cap == SAMPLES_MAX)
			return;
		l->samples_cap = l->samples_cap == 0 ? 1 << 16 : l->samples_cap * 2;
		if (l->samples_cap > SAMPLES_MAX)
			l->samples_cap = SAMPLES_MAX;
		l->samples = realloc(l->samples, l->samples_cap * sizeof(*l->samples));
		if (l->samples == NULL)
			die("realloc");
	}
	l->samples[l->nsamples++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

/* A broken connection counts as an error and is replaced. */
static void
conn_fail(struct load *l, struct conn *c, bool more)
{
	l->errors++;
	l->reconnects++;
	conn_close(l, c);
	if (!more)
		return;
	conn_open(l, c);
	if (conn_send(l, c) != 0)
		die("send after reconnect");
}

static void
conn_readable(struct load *l, struct conn *c, bool more)
{
	char buf[READ_CHUNK];
	ssize_t n;
	size_t used;

	n = recv(c->fd, buf, sizeof(buf), 0);
	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		conn_fail(l, c, more);
		return;
	}
	used = http_parser_execute(&c->parser, &settings, buf, (size_t)n);
	if (HTTP_PARSER_ERRNO(&c->parser) == HPE_PAUSED) {
		http_parser_pause(&c->parser, 0);
		if (used != (size_t)n) {
			/* More than one response for one request: the server is broken. */
			conn_fail(l, c, more);
			return;
		}
	} else if (HTTP_PARSER_ERRNO(&c->parser) != HPE_OK) {
		conn_fail(l, c, more);
		return;
	}
	if (!c->done)
		return;
	sample(l, now_ns() - c->sent_ns);
	l->requests++;
	if (c->status < 200 || c->status > 299)
		l->errors++;
	if (!more) {
		conn_close(l, c);
		return;
	}
	if (conn_send(l, c) != 0)
		conn_fail(l, c, more);
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static double
percentile_ms(const struct load *l, double p)
{
	size_t i;

	if (l->nsamples == 0)
		return 0;
	i = (size_t)(p * (double)(l->nsamples - 1) + 0.5);
	return l->samples[i] / 1000.0;
}

static void
usage(void)
{
	fputs("usage: loadgen --port N [--host 127.0.0.1] [--path /] [--connections 32]\n"
	      "               [--duration 10] [--header 'Name: value']...\n",
	    stderr);
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"host", required_argument, NULL, 'H'},
	    {"port", required_argument, NULL, 'p'},
	    {"path", required_argument, NULL, 'P'},
	    {"connections", required_argument, NULL, 'c'},
	    {"duration", required_argument, NULL, 'd'},
	    {"header", required_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct load l;
	struct epoll_event evs[256];
	const char *host = "127.0.0.1", *path = "/";
	char headers[REQUEST_MAX / 2] = "";
	size_t hlen = 0, i;
	double duration = 10;
	uint64_t start, end, stop, elapsed;
	long port = 0, conns = 32;
	int c, n, k, len;

	memset(&l, 0, sizeof(l));
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'H':
			host = optarg;
			break;
		case 'p':
			port = strtol(optarg, NULL, 10);
			break;
		case 'P':
			path = optarg;
			break;
		case 'c':
			conns = strtol(optarg, NULL, 10);
			break;
		case 'd':
			duration = strtod(optarg, NULL);
			break;
		case 'h':
			len = snprintf(headers + hlen, sizeof(headers) - hlen, "%s\r\n", optarg);
			if (len < 0 || (size_t)len >= sizeof(headers) - hlen)
				usage();
			hlen += (size_t)len;
			break;
		default:
			usage();
		}
	}
	if (port <= 0 || port > 65535 || conns <= 0 || conns > CONNECTIONS_MAX || !(duration > 0))
		usage();
	l.addr.sin_family = AF_INET;
	l.addr.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &l.addr.sin_addr) != 1)
		usage();
	len = snprintf(l.request, sizeof(l.request),
	    "GET %s HTTP/1.1\r\nHost: %s:%ld\r\nUser-Agent: tether-loadgen\r\n%s\r\n", path, host,
	    port, headers);
	if (len < 0 || (size_t)len >= sizeof(l.request))
		usage();
	l.request_len = (size_t)len;

	l.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l.epfd < 0)
		die("epoll_create1");
	l.nconns = (size_t)conns;
	l.conns = calloc(l.nconns, sizeof(*l.conns));
	if (l.conns == NULL)
		die("calloc");
	for (i = 0; i < l.nconns; i++)
		conn_open(&l, &l.conns[i]);
	start = now_ns();
	stop = start + (uint64_t)(duration * 1e9);
	for (i = 0; i < l.nconns; i++) {
		if (conn_send(&l, &l.conns[i]) != 0)
			die("send");
	}
	/* Run until the deadline, then let the outstanding requests finish. */
	for (;;) {
		bool more = now_ns() < stop;
		size_t open = 0;

		for (i = 0; i < l.nconns; i++)
			open += l.conns[i].fd >= 0;
		if (open == 0)
			break;
		n = epoll_wait(l.epfd, evs, (int)(sizeof(evs) / sizeof(evs[0])), 100);
		if (n < 0 && errno != EINTR)
			die("epoll_wait");
		for (k = 0; k < n; k++)
			conn_readable(&l, evs[k].data.ptr, more);
		if (!more && now_ns() > stop + 5000000000u)
			break; /* a server that stopped answering */
	}
	end = now_ns();
	elapsed = end - start;
	qsort(l.samples, l.nsamples, sizeof(*l.samples), cmp_u32);
	printf("connections %zu duration %.2f s\n", l.nconns, (double)elapsed / 1e9);
	printf("requests %" PRIu64 " errors %" PRIu64 " reconnects %" PRIu64 "\n", l.requests,
	    l.errors, l.reconnects);
	printf("req/s %.0f\n", (double)l.requests / ((double)elapsed / 1e9));
	printf("latency p50 %.3f ms p99 %.3f ms max %.3f ms\n", percentile_ms(&l, 0.50),
	    percentile_ms(&l, 0.99), percentile_ms(&l, 1.0));
	free(l.samples);
	free(l.conns);
	close(l.epfd);
	return l.errors == 0 ? 0 : 1;
}
