/*
 * The HTTP engine against real servers on 127.0.0.1 (tests/unit/http_server.py: a plain
 * origin, the same origin over TLS with a self-signed certificate made here with the
 * openssl CLI, and a forward proxy), on a real libev loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <netinet/in.h>

#include <cmocka.h>
#include <jansson.h>

#include "aws/http.h"
#include "common/crypto.h"
#include "common/xmalloc.h"
#include "tests/lib/tmpdir.h"

extern char **environ;

#define RUN_TIMEOUT 20.0
#define NRESULT_HEADERS 16

struct server {
	pid_t pid;
	int port;
};

struct fixture {
	char dir[256];
	char cert[300];
	char key[300];
	struct server origin;
	struct server tls;
	struct server proxy;
};

struct result {
	int calls;
	long status;
	int code; /* 0, or the err's code */
	char message[ERR_MESSAGE_MAX];
	bool timed_out;
	double seconds;
	char *body;
	size_t body_len;
	json_t *json;
	size_t nheaders;
	char *names[NRESULT_HEADERS];
	char *values[NRESULT_HEADERS];
	const char *lookup_name; /* looked up with http_response_header() in the callback */
	char *lookup;
	double when;
	int *counter; /* bumped on completion, when set */
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
result_clear(struct result *r)
{
	size_t i;

	free(r->body);
	free(r->lookup);
	if (r->json != NULL)
		json_decref(r->json);
	for (i = 0; i < r->nheaders; i++) {
		free(r->names[i]);
		free(r->values[i]);
	}
	memset(r, 0, sizeof(*r));
}

static void
done_cb(const struct http_response *resp, const struct err *err, void *arg)
{
	struct result *r = arg;
	const char *v;
	size_t i;

	r->calls++;
	r->when = now_s();
	r->status = resp->status;
	r->timed_out = resp->timed_out;
	r->seconds = resp->seconds;
	if (err != NULL) {
		r->code = err->code;
		snprintf(r->message, sizeof(r->message), "%s", err->message);
	}
	free(r->body);
	r->body = xmemdup(resp->body.len > 0 ? resp->body.data : "", resp->body.len + 1);
	r->body_len = resp->body.len;
	if (r->json == NULL && resp->body.len > 0)
		r->json = json_loadb(resp->body.data, resp->body.len, 0, NULL);
	for (i = 0; i < resp->nheaders && r->nheaders < NRESULT_HEADERS; i++) {
		r->names[r->nheaders] = xstrdup(resp->headers[i].name);
		r->values[r->nheaders++] = xstrdup(resp->headers[i].value);
	}
	if (r->lookup_name != NULL) {
		v = http_response_header(resp, r->lookup_name);
		r->lookup = v != NULL ? xstrdup(v) : NULL;
	}
	if (r->counter != NULL)
		(*r->counter)++;
}

static void
never_cb(const struct http_response *resp, const struct err *err, void *arg)
{
	(void)resp;
	(void)err;
	(void)arg;
	fail_msg("a canceled request's callback ran");
}

static const char *
result_header(const struct result *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nheaders; i++)
		if (strcmp(r->names[i], name) == 0)
			return r->values[i];
	return NULL;
}

/* The value of a request header the echo server saw (case-insensitive), or NULL. */
static const char *
echo_header(const json_t *doc, const char *name)
{
	json_t *hs = json_object_get(doc, "headers"), *h;
	size_t i;

	json_array_foreach(hs, i, h)
	{
		if (strcasecmp(json_string_value(json_array_get(h, 0)), name) == 0)
			return json_string_value(json_array_get(h, 1));
	}
	return NULL;
}

static size_t
echo_header_count(const json_t *doc, const char *name)
{
	json_t *hs = json_object_get(doc, "headers"), *h;
	size_t i, n = 0;

	json_array_foreach(hs, i, h)
	{
		if (strcasecmp(json_string_value(json_array_get(h, 0)), name) == 0)
			n++;
	}
	return n;
}

static const char *
echo_str(const json_t *doc, const char *key)
{
	return json_string_value(json_object_get(doc, key));
}

static void
guard_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	*(bool *)w->data = true;
}

/* Run the loop until *count reaches target or timeout seconds pass. */
static bool
run_until(struct ev_loop *loop, const int *count, int target, double timeout)
{
	ev_timer guard;
	bool expired = false;

	ev_timer_init(&guard, guard_cb, timeout, 0.);
	guard.data = &expired;
	ev_timer_start(loop, &guard);
	while (*count < target && !expired)
		ev_run(loop, EVRUN_ONCE);
	ev_timer_stop(loop, &guard);
	return *count >= target;
}

/* Run the loop for a while, whatever happens. */
static void
run_for(struct ev_loop *loop, double seconds)
{
	int never = 0;

	run_until(loop, &never, 1, seconds);
}

static int
spawn(pid_t *pid, char *const argv[], int out_fd)
{
	posix_spawn_file_actions_t fa;
	int rc;

	posix_spawn_file_actions_init(&fa);
	if (out_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO);
	else
		posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	rc = posix_spawnp(pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	return rc;
}

static const char *
python(void)
{
	const char *p = getenv("TETHER_PYTHON");

	return p != NULL && *p != '\0' ? p : "/usr/bin/python3";
}

static void
script_path(char *out, size_t size)
{
	const char *src = getenv("TETHER_SOURCE_DIR");
	const char *slash;

	if (src != NULL && *src != '\0') {
		snprintf(out, size, "%s/tests/unit/http_server.py", src);
		return;
	}
	slash = strrchr(__FILE__, '/');
	snprintf(out, size, "%.*s/http_server.py", slash != NULL ? (int)(slash - __FILE__) : 1,
	    slash != NULL ? __FILE__ : ".");
}

static int
server_start(struct server *s, const char *mode, const char *cert, const char *key)
{
	char script[1024], line[32];
	char *argv[] = {(char *)python(), script, (char *)mode, (char *)cert, (char *)key, NULL};
	struct pollfd pfd;
	size_t n = 0;
	ssize_t got;
	int fds[2];

	script_path(script, sizeof(script));
	if (pipe(fds) != 0)
		return -1;
	if (spawn(&s->pid, argv, fds[1]) != 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	close(fds[1]);
	pfd.fd = fds[0];
	pfd.events = POLLIN;
	while (n < sizeof(line) - 1 && memchr(line, '\n', n) == NULL) {
		if (poll(&pfd, 1, 10000) <= 0)
			break;
		got = read(fds[0], line + n, sizeof(line) - 1 - n);
		if (got <= 0)
			break;
		n += (size_t)got;
	}
	close(fds[0]);
	line[n] = '\0';
	s->port = atoi(line);
	return s->port > 0 ? 0 : -1;
}

static void
server_stop(struct server *s)
{
	if (s->pid <= 0)
		return;
	kill(s->pid, SIGTERM);
	waitpid(s->pid, NULL, 0);
	s->pid = 0;
}

static void
unset_proxies(void)
{
	static const char *const vars[] = {"http_proxy", "https_proxy", "HTTPS_PROXY", "HTTP_PROXY",
	    "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"};
	size_t i;

	for (i = 0; i < nitems(vars); i++)
		unsetenv(vars[i]);
}

static int
group_setup(void **state)
{
	struct fixture *fx = xcalloc(1, sizeof(*fx));
	char *argv[] = {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
	    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", "/CN=localhost",
	    "-addext", "subjectAltName=DNS:localhost", "-keyout", fx->key, "-out", fx->cert, NULL};
	pid_t pid;
	int status;

	/* The servers are on loopback; a proxy from the environment must not get in between. */
	unset_proxies();
	if (tmpdir_make(fx->dir, sizeof(fx->dir), "tether-http") != 0)
		return -1;
	snprintf(fx->cert, sizeof(fx->cert), "%s/cert.pem", fx->dir);
	snprintf(fx->key, sizeof(fx->key), "%s/key.pem", fx->dir);
	if (spawn(&pid, argv, -1) != 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		return -1;
	if (server_start(&fx->origin, "origin", NULL, NULL) != 0 ||
	    server_start(&fx->tls, "tls", fx->cert, fx->key) != 0 ||
	    server_start(&fx->proxy, "proxy", NULL, NULL) != 0)
		return -1;
	*state = fx;
	return 0;
}

static int
group_teardown(void **state)
{
	struct fixture *fx = *state;

	if (fx == NULL)
		return 0;
	server_stop(&fx->origin);
	server_stop(&fx->tls);
	server_stop(&fx->proxy);
	tmpdir_remove(fx->dir);
	free(fx);
	return 0;
}

struct env {
	struct ev_loop *loop;
	struct http_engine *engine;
};

static void
env_open(struct env *env, const struct http_engine_opts *opts)
{
	struct http_engine_opts def = HTTP_ENGINE_OPTS_INIT;
	struct err err = ERR_INIT;

	env->loop = ev_loop_new(EVFLAG_AUTO);
	assert_non_null(env->loop);
	assert_int_equal(
	    http_engine_new(&env->engine, env->loop, opts != NULL ? opts : &def, &err), 0);
}

static void
env_close(struct env *env)
{
	http_engine_free(env->engine);
	ev_loop_destroy(env->loop);
}

static void
url_for(char *out, size_t size, const char *scheme, int port, const char *path)
{
	snprintf(out, size, "%s://127.0.0.1:%d%s", scheme, port, path);
}

/* Start one request and run the loop until it completes. */
static void
request(struct env *env, struct http_request_opts *o, struct result *r)
{
	struct err err = ERR_INIT;
	int done = 0;

	r->counter = &done;
	assert_int_equal(http_request_start(env->engine, o, done_cb, r, NULL, &err), 0);
	assert_int_equal(r->calls, 0); /* never from inside http_request_start() */
	assert_true(run_until(env->loop, &done, 1, RUN_TIMEOUT));
	assert_int_equal(r->calls, 1);
	r->counter = NULL;
}

static void
test_http__get(void **state)
{
	struct fixture *fx = *state;
	struct http_engine_opts eo = HTTP_ENGINE_OPTS_INIT;
	struct http_request_opts o = HTTP_REQUEST_OPTS_INIT;
	const char *hdrs[] = {"X-Amz-Date: 20250101T000000Z", "Authorization: AWS4 test"};
	struct result r = {0};
	struct env env;
	char url[256];

	eo.user_agent = "tether-test/1";
	env_open(&env, &eo);
	url_for(url, sizeof(url), "http", fx->origin.port, "/echo?a=1&b=%2F");
	o.url = url;
	o.headers = hdrs;
	o.nheaders = nitems(hdrs);
	request(&env, &o, &r);
	assert_int_equal(r.code, 0);
	assert_int_equal(r.status, 200);
	assert_non_null(r.json);
	assert_string_equal(echo_str(r.json, "method"), "GET");
	assert_string_equal(echo_str(r.json, "path"), "/echo?a=1&b=%2F");
	assert_string_equal(echo_str(r.json, "body_hex"), "");
	assert_string_equal(echo_header(r.json, "X-Amz-Date"), "20250101T000000Z");
	assert_string_equal(echo_header(r.json, "Authorization"), "AWS4 test");
	assert_string_equal(echo_header(r.json, "User-Agent"), "tether-test/1");
	assert_non_null(echo_header(r.json, "Host"));
	/* Nothing curl would add on its own. */
	assert_null(echo_header(r.json, "Accept"));
	assert_null(echo_header(r.json, "Expect"));
	assert_null(echo_header(r.json, "Content-Type"));
	assert_null(echo_header(r.json, "Content-Length"));
	assert_int_equal(json_array_size(json_object_get(r.json, "headers")), 4);
	/* Response headers: lower-cased names. */
	assert_string_equal(result_header(&r, "content-type"), "application/json");
	assert_true(r.seconds > 0 && r.seconds < RUN_TIMEOUT);
	result_clear(&r);
	env_close(&env);
}

static void
check_body_method(void **state, const char *method, size_t len, const char *content_type)
{
	struct fixture *fx = *state;
	struct http_request_opts o = HTTP_REQUEST_OPTS_INIT;
	const char *hdrs[1];
	struct result r = {0};
	struct env env;
	unsigned char *body = xmalloc(len > 0 ? len : 1);
	char url[256], clen[32], *want;
	size_t i;

	for (i = 0; i < len; i++)
		body[i] = (unsigned char)(i * 7); /* NULs included */
	env_open(&env, NULL);
	url_for(url, sizeof(url), "http", fx->origin.port, "/echo");
	o.method = method;
	o.url = url;
	o.body = body;
	o.body_len = len;
	if (content_type != NULL) {
		hdrs[0] = content_type;
		o.headers = hdrs;
		o.nheaders = 1;
	}
	request(&env, &o, &r);
	assert_int_equal(r.code, 0);
	assert_int_equal(r.status, 200);
	assert_non_null(r.json);
	assert_string_equal(echo_str(r.json, "method"), method);
	want = xmalloc(2 * len + 1);
	crypto_hex(body, len, want);
	assert_string_equal(echo_str(r.json, "body_hex"), want);
	free(want);
	snprintf(clen, sizeof(clen), "%zu", len);
	assert_string_equal(echo_header(r.json, "Content-Length"), clen);
	assert_null(echo_header(r.json, "Expect"));
	assert_null(echo_header(r.json, "Transfer-Encoding"));
	if (content_type != NULL) {
		assert_int_equal(echo_header_count(r.json, "Content-Type"), 1);
		assert_string_equal(
		    echo_header(r.json, "Content-Type"), strchr(content_type, ' ') + 1);
	} else {
		assert_int_equal(echo_header_count(r.json, "Content-Type"), 0);
	}
	free(body);
	result_clear(&r);
	env_close(&env);
}

static void
test_http__put_body(void **state)
{
	check_body_method(state, "PUT", 3000, "Content-Type: application/json");
}

/* Past 1 MB curl would add "Expect: 100-continue" and a form Content-Type. */
static void
test_http__post_large_body(void **state)
{
	check_body_method(state, "POST", 1536 * 1024, NULL);
}

static void
test_http__post_empty(void **state)
{
	check_body_method(state, "POST", 0, NULL);
}

static void
test_http__delete(void **state)
{
	struct fixture *fx = *state;
	struct http_request_opts o = HTTP_REQUEST_OPTS_INIT;
	struct result r = {0};
	struct env env;
	char url[256];

	env_open(&env, NULL);
	url_for(url, sizeof(url), "http", fx->origin.port, "/echo?status=204");
	o.method = "DELETE";
	o.url = url;
	request(&env, &o, &r);
	assert_int_equal(r.code, 0);
	assert_int_equal(r.status, 204);
	result_clear(&r);

	/* 204 has no body to inspect; do it again for the echo. */
	url_for(url, sizeof(url), "http", fx->origin.port, "/echo");
	request(&env, &o, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(echo_str(r.json, "method"), "DELETE");
	assert_string_equal(echo_str(r.json, "body_hex"), "");
	assert_null(echo_header(r.json, "Content-Type"));
	assert_null(echo_header(r.json, "Content-Length"));
	assert_null(echo_header(r.json, "Expect"));
	result_clear(&r);
	env_close(&env);
}

/* Any status is a response, not an error. */
static void
test_http__status(void **state)
{
	struct fixture *fx = *state;
	struct http_request_opts o = HTTP_REQUEST_OPTS_INIT;
	static const long statuses[] = {404, 409, 429, 500, 503};
	struct result r = {0};
	struct env env;
	char url[256], path[64];
	size_t i;

	env_open(&env, NULL);
	o.url = url;
	for (i = 0; i < nitems(statuses); i++) {
		snprintf(path, sizeof(path), "/echo?status=%ld", statuses[i]);
		url_for(url, sizeof(url), "http", fx->origin.port, path);
		request(&env, &o, &r);
		assert_int_equal(r.code, 0);
		assert_int_equal(r.status, statuses[i]);
		assert_non_null(r.json);
		result_clear(&r);
	}
	env_close(&env);
}

static void
test_http__response_headers(void **state)
{
	struct fixture *fx = *state;
	struct http_request_opts o = HTTP_REQUEST_OPTS_INIT;
	struct result r = {0};
	struct env env;
	char url[256];
	size_t i;
	const char *p;

	env_open(&env, NULL);
	url_for(url, sizeof(url), "http", fx->origin.port, "/headers?interim=1");
	o.url = url;
	r.lookup_name = "X-AMZN-REQUESTID";
	request(&env, &o, &r);
	assert_int_equal(r.code, 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "ok");
	assert_string_equal(r.lookup, "req-1234");
	assert_string_equal(result_header(&r, "x-mixed-case"), "Hello World");
	assert_string_equal(result_header(&r, "x-padded"), "padded value");
	assert_string_equal(result_header(&r, "x-dup"), "first");
	assert_string_equal(result_header(&r, "content-length"), "2");
	/* Only the final response's fields: the 100 Continue's are gone. */
	assert_null(result_header(&r, "x-interim"));
	for (i = 0; i < r.nheaders; i++)
		for (p = r.names[i]; *p != '\0'; p++)
			assert_false(*p >= 'A' && *p <= 'Z');
	result_clear(&r);

	/* At most HTTP_RESPONSE_HEADERS_MAX fields: 6 + 58 fit, 6 + 59 do not. */
	url_for(url, sizeof(url), "http", fx->origin.port, "/headers?many=58");
	request(&env, &o, &r);
	assert_int_equal(r.code, 0);
	assert_int_equal(r.status, 200);
	result_clear(&r);
	url_for(url, sizeof(url), "http", fx->origin.port, "/headers?many=59");
	request(&env, &o, &r);
	assert_int_equal(r.code, ERR_TOOBIG);
	result_clear(&r);
	env_close(&env);
}

/* 20 sequential requests share one TCP connection. */
static void
test_http__reuse(void **state)
{
	struct fixture *fx = *state;
	struct http_request_opts o = HTTP_REQUEST_OPTS_INIT;
	struct result r = {0};
	struct env env;
	json_int_t conn = -1;
	char url[256];
	int i;

	env_open(&env, NULL);
	url_for(url, sizeof(url), "http", fx->origin.port, "/echo");
	o.url = url;
	for (i = 0; i < 20; i++) {
		o.method = i % 2 == 0 ? "GET" : "PUT";
		o.body = i % 2 == 0 ? NULL : "{}";
		o.body_len = i % 2 == 0 ? 0 : 2;
		request(&env, &o, &r);
		assert_int_equal(r.status, 200);
		if (i == 0)
			conn = json_integer_value(json_object_get(r.json, "conn"));
		assert_int_equal(json_integer_value(json_object_get(r.json, "conn")), conn);
		result_clear(&r);
	}
	assert_true(conn > 0);
	env_close(&env);
}

#define NCONCURRENT 50

static void
test_http__concurrent(void **state)
{
	struct fixture *fx = *state;
	struct http_request_opts o = HTTP_REQUEST_OPTS_INIT;
	struct result *r = xcalloc(NCONCURRENT, sizeof(*r));
	struct err err = ERR_INIT;
	struct env env;
	char url[256], path[64], want[64];
	double t0, elapsed;
	int i, done = 0;

	env_open(&env, NULL);
	o.url = url;
	t0 = now_s();
	for (i = 0; i < NCONCURRENT; i++) {
		snprintf(path, sizeof(path), "/echo?id=%d&sleep=200", i);
		url_for(url, sizeof(url), "http", fx->origin.port, path);
		r[i].counter = &done;
		assert_int_equal(http_request_start(env.engine, &o, done_cb, &r[i], NULL, &err), 0);
	}
	assert_int_equal(http_engine_active(env.engine), NCONCURRENT);
	assert_true(run_until(env.loop, &done, NCONCURRENT, RUN_TIMEOUT));
	elapsed = now_s() - t0;
	assert_int_equal(http_engine_active(env.engine), 0);
	for (i = 0; i < NCONCURRENT; i++) {
		assert_int_equal(r[i].calls, 1);
		assert_int_equal(r[i].code, 0);
		assert_int_equal(r[i].status, 200);
		snprintf(want, sizeof(want), "/echo?id=%d&sleep=200", i);
		assert_string_equal(echo_str(r[i].json, "path"), want);
		result_clear(&r[i]);
	}
	print_message("      %d concurrent requests (200 ms each at the server): %.3f s\n",
	    NCONCURRENT, elapsed);
	/* One after the other would take 10 s. */
	assert_true(elapsed < 3.0);
	free(r);
	env_close(&env);
}

static void
tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	(*(int *)w->data)++;
}

/* A stalled server times the request out while the loop keeps running. */
static void
test_http__timeout(void **state)
{
	struct fixture *fx = *state;
	struct http_request_opts o = HTTP_REQUEST_OPTS_INIT;
	struct result r = {0};
	struct env env;
	ev_timer ticker;
	char url[256];
	int ticks = 0;
	double t0, elapsed;

	env_open(&env, NULL);
	ev_timer_init(&ticker, tick_cb, 0.01, 0.01);
	ticker.data = &ticks;
	ev_timer_start(env.loop, &ticker);
	url_for(url, sizeof(url), "http", fx->origin.port, "/stall");
	o.url = url;
	o.timeout_ms = 300;
	t0 = now_s();
	request(&env, &o, &r);
	elapsed = r.when - t0;
	ev_timer_stop(env.loop, &ticker);
	assert_int_equal(r.code, ERR_TRANSIENT);
	assert_true(r.timed_out);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.message, "timed out"));
	/* The query string never appears in messages. */
	assert_non_null(strstr(r.message, "GET http://127.0.0.1:"));
	print_message(
	    "      timeout after %.3f s, %d ticks of a 10 ms timer meanwhile\n", elapsed, ticks);
	assert_true(elapsed >= 0.29 && elapsed < 2.0);
	/* 30 when idle; fewer on a loaded machine, but never none */
	assert_true(ticks >= 5);
	result_clear(&r);
	env_close(&env);
}

static void
test_http__toobig(void **state)
{
	struct fixture *fx = *state;
	static const char *const over[] = {
	    "/big?n=5000", "/big?n=5000&chunked=1", "/big?n=1001&chunked=1"};
	static const char *const fits[] = {"/big?n=1000", "/big?n=1000&chunked=1"};
	struct http_request_opts o = HTTP_REQUEST_OPTS_INIT;
	struct result r = {0};
	struct env env;
	char url[256];
	size_t i;

	env_open(&env, NULL);
	o.url = url;
	o.max_response = 1000;
	for (i = 0; i < nitems(over); i++) {
		url_for(url, sizeof(url), "http", fx->origin.port, over[i]);
		request(&env, &o, &r);
		assert_int_equal(r.code, ERR_TOOBIG);
		assert_true(r.body_len <= 1000);
		result_clear(&r);
	}
	for (i = 0; i < nitems(fits); i++) {
		url_for(url, sizeof(url), "http", fx->origin.port, fits[i]);
		request(&env, &o, &r);
		assert_int_equal(r.code, 0);
		assert_int_equal(r.status, 200);
		assert_int_equal(r.body_len, 1000);
		result_clear(&r);
	}
	env_close(&env);
}

static int
free_port(void)
{
	struct sockaddr_in sin = {0};
	socklen_t len = sizeof(sin);
	int fd, port;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

static void
test_http__refused(void **state)
{
	struct http_request_opts o = HTTP_REQUEST_OPTS_INIT;
	struct result r = {0};
	struct env env;
	char url[256];

	(void)state;
	env_open(&env, NULL);
	url_for(url, sizeof(url), "http", free_port(), "/echo");
	o.url = url;
	request(&env, &o, &r);
	assert_int_equal(r.code, ERR_TRANSIENT);
	assert_false(r.timed_out);
	assert_int_equal(r.status, 0);
	result_clear(&r);
	env_close(&env);
}

/* redact_path: an error names the request by scheme and host, never the path (a Slack
 * webhook URL's path is its credential); without it the path is named. */
static void
test_http__redact_path(void **state)
{
	struct http_request_opts o = HTTP_REQUEST_OPTS_INIT;
	struct result r = {0};
	struct env env;
	char url[256];
	int port = free_port();

	(void)state;
	env_open(&env, NULL);
	url_for(url, sizeof(url), "http", port, "/services/T000/B000/XXXXsecret");
	o.method = "POST";
	o.url = url;
	o.redact_path = true;
	request(&env, &o, &r);
	assert_int_equal(r.code, ERR_TRANSIENT);
	assert_null(strstr(r.message, "XXXXsecret"));
	assert_non_null(strstr(r.message, "127.0.0.1"));
	result_clear(&r);
	memset(&r, 0, sizeof(r));
	o.redact_path = false;
	request(&env, &o, &r);
	assert_non_null(strstr(r.message, "XXXXsecret"));
	result_clear(&r);
	env_close(&env);
}

/*
 * The certificate names only "localhost": https://localhost verifies against it, and the
 * same server reached as https://127.0.0.1 fails the name check.
 */
static void
test_http__tls(void **state)
{
	struct fixture *fx = *state;
	struct http_engine_opts eo = HTTP_ENGINE_OPTS_INIT;
	struct http_request_opts o = HTTP_REQUEST_OPTS_INIT;
	struct result r = {0};
	struct env env;
	char byname[256], byip[256];

	snprintf(byname, sizeof(byname), "https://localhost:%d/echo", fx->tls.port);
	url_for(byip, sizeof(byip), "https", fx->tls.port, "/echo");

	/* The system's CAs do not know a self-signed certificate. */
	env_open(&env, NULL);
	o.url = byname;
	request(&env, &o, &r);
	assert_int_equal(r.code, ERR_TRANSIENT);
	assert_int_equal(r.status, 0);
	print_message("      default engine: %s\n", r.message);
	result_clear(&r);
	env_close(&env);

	eo.ca_file = fx->cert;
	env_open(&env, &eo);
	request(&env, &o, &r);
	assert_int_equal(r.code, 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(echo_str(r.json, "method"), "GET");
	result_clear(&r);
	o.url = byip;
	request(&env, &o, &r);
	assert_int_equal(r.code, ERR_TRANSIENT);
	assert_int_equal(r.status, 0);
	print_message("      wrong name: %s\n", r.message);
	result_clear(&r);
	env_close(&env);

	eo.ca_file = NULL;
	eo.insecure = true;
	env_open(&env, &eo);
	request(&env, &o, &r);
	assert_int_equal(r.code, 0);
	assert_int_equal(r.status, 200);
	result_clear(&r);
	env_close(&env);
}

static void
test_http__proxy(void **state)
{
	struct fixture *fx = *state;
	struct http_request_opts o = HTTP_REQUEST_OPTS_INIT;
	struct result r = {0};
	struct env env;
	char proxy[128], url[256];

	snprintf(proxy, sizeof(proxy), "http://127.0.0.1:%d", fx->proxy.port);
	assert_int_equal(setenv("http_proxy", proxy, 1), 0);
	env_open(&env, NULL);

	/* The name need not resolve: only the proxy connects to it. */
	o.url = "http://tether-proxy-test.invalid/2015-03-31/functions?x=1";
	o.method = "PUT";
	o.body = "{}";
	o.body_len = 2;
	request(&env, &o, &r);
	assert_int_equal(r.code, 0);
	assert_int_equal(r.status, 200);
	assert_true(json_is_true(json_object_get(r.json, "proxied")));
	assert_string_equal(echo_str(r.json, "target"),
	    "http://tether-proxy-test.invalid/2015-03-31/functions?x=1");
	assert_string_equal(echo_str(r.json, "method"), "PUT");
	assert_string_equal(echo_str(r.json, "body_hex"), "7b7d");
	result_clear(&r);

	/* The origin itself, through the proxy... */
	url_for(url, sizeof(url), "http", fx->origin.port, "/echo");
	o = (struct http_request_opts)HTTP_REQUEST_OPTS_INIT;
	o.url = url;
	request(&env, &o, &r);
	assert_true(json_is_true(json_object_get(r.json, "proxied")));
	assert_string_equal(echo_str(r.json, "target"), url);
	result_clear(&r);

	/* ...and around it. */
	o.no_proxy = true;
	request(&env, &o, &r);
	assert_int_equal(r.status, 200);
	assert_null(json_object_get(r.json, "proxied"));
	assert_string_equal(echo_str(r.json, "path"), "/echo");
	result_clear(&r);
	env_close(&env);
	unsetenv("http_proxy");
}

/* https through a proxy's CONNECT tunnel; the proxy's own answer is not the response. */
static void
test_http__proxy_connect(void **state)
{
	struct fixture *fx = *state;
	struct http_engine_opts eo = HTTP_ENGINE_OPTS_INIT;
	struct http_request_opts o = HTTP_REQUEST_OPTS_INIT;
	struct result r = {0};
	struct env env;
	char proxy[128], url[256];

	snprintf(proxy, sizeof(proxy), "http://127.0.0.1:%d", fx->proxy.port);
	assert_int_equal(setenv("https_proxy", proxy, 1), 0);
	eo.ca_file = fx->cert;
	env_open(&env, &eo);
	snprintf(url, sizeof(url), "https://localhost:%d/headers", fx->tls.port);
	o.url = url;
	request(&env, &o, &r);
	assert_int_equal(r.code, 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "ok");
	assert_string_equal(result_header(&r, "x-mixed-case"), "Hello World");
	assert_null(result_header(&r, "x-proxy"));
	result_clear(&r);

	url_for(url, sizeof(url), "http", fx->proxy.port, "/count");
	o.no_proxy = true;
	request(&env, &o, &r);
	assert_int_equal(r.status, 200);
	assert_true(json_integer_value(json_object_get(r.json, "connects")) >= 1);
	result_clear(&r);
	env_close(&env);
	unsetenv("https_proxy");
}

struct cancel_ctx {
	struct http_request *req;
};

static void
cancel_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct cancel_ctx *c = w->data;

	(void)loop;
	(void)revents;
	http_request_cancel(c->req);
	c->req = NULL;
}

static void
test_http__cancel(void **state)
{
	struct fixture *fx = *state;
	struct http_request_opts o = HTTP_REQUEST_OPTS_INIT;
	struct http_request *req;
	struct err err = ERR_INIT;
	struct cancel_ctx c;
	struct env env;
	ev_timer t;
	char url[256];
	int i;

	env_open(&env, NULL);
	url_for(url, sizeof(url), "http", fx->origin.port, "/stall");
	o.url = url;

	/* At once, before the loop ran. */
	assert_int_equal(http_request_start(env.engine, &o, never_cb, NULL, &req, &err), 0);
	assert_non_null(req);
	http_request_cancel(req);
	assert_int_equal(http_engine_active(env.engine), 0);

	/* From the loop, mid-transfer. */
	assert_int_equal(http_request_start(env.engine, &o, never_cb, NULL, &c.req, &err), 0);
	ev_timer_init(&t, cancel_cb, 0.1, 0.);
	t.data = &c;
	ev_timer_start(env.loop, &t);
	run_for(env.loop, 0.4);
	assert_null(c.req);
	assert_int_equal(http_engine_active(env.engine), 0);

	/* Freeing the engine cancels what is in flight. */
	for (i = 0; i < 3; i++)
		assert_int_equal(http_request_start(env.engine, &o, never_cb, NULL, NULL, &err), 0);
	run_for(env.loop, 0.1);
	assert_int_equal(http_engine_active(env.engine), 3);
	env_close(&env);
}

struct reenter {
	struct http_engine *engine;
	struct http_request *stalled;
	struct http_request_opts next;
	struct result result;
	int done;
	bool free_engine;
};

/* Cancel another request and start a new one, or free the engine, from a callback. */
static void
reenter_cb(const struct http_response *resp, const struct err *err, void *arg)
{
	struct reenter *x = arg;
	struct err e = ERR_INIT;

	assert_null(err);
	assert_int_equal(resp->status, 200);
	x->done++;
	if (x->free_engine) {
		http_engine_free(x->engine);
		return;
	}
	http_request_cancel(x->stalled);
	x->result.counter = &x->done;
	assert_int_equal(http_request_start(x->engine, &x->next, done_cb, &x->result, NULL, &e), 0);
}

static void
test_http__reenter(void **state)
{
	struct fixture *fx = *state;
	struct http_request_opts o = HTTP_REQUEST_OPTS_INIT;
	struct reenter x = {0};
	struct err err = ERR_INIT;
	struct env env;
	char stall[256], echo[256];

	url_for(stall, sizeof(stall), "http", fx->origin.port, "/stall");
	url_for(echo, sizeof(echo), "http", fx->origin.port, "/echo?second=1");
	env_open(&env, NULL);
	x.engine = env.engine;
	x.next = (struct http_request_opts)HTTP_REQUEST_OPTS_INIT;
	x.next.url = echo;
	o.url = stall;
	assert_int_equal(http_request_start(env.engine, &o, never_cb, NULL, &x.stalled, &err), 0);
	o.url = echo;
	assert_int_equal(http_request_start(env.engine, &o, reenter_cb, &x, NULL, &err), 0);
	assert_true(run_until(env.loop, &x.done, 2, RUN_TIMEOUT));
	assert_int_equal(x.result.status, 200);
	assert_string_equal(echo_str(x.result.json, "path"), "/echo?second=1");
	assert_int_equal(http_engine_active(env.engine), 0);
	result_clear(&x.result);
	env_close(&env);

	/* Freeing the engine inside a callback, with another request still in flight. */
	memset(&x, 0, sizeof(x));
	env_open(&env, NULL);
	x.engine = env.engine;
	x.free_engine = true;
	o.url = stall;
	assert_int_equal(http_request_start(env.engine, &o, never_cb, NULL, NULL, &err), 0);
	o.url = echo;
	assert_int_equal(http_request_start(env.engine, &o, reenter_cb, &x, NULL, &err), 0);
	assert_true(run_until(env.loop, &x.done, 1, RUN_TIMEOUT));
	run_for(env.loop, 0.2);
	ev_loop_destroy(env.loop);
}

static void
test_http__invalid(void **state)
{
	struct fixture *fx = *state;
	const char *crlf[] = {"X-A: 1\r\nX-B: 2"}, *nocolon[] = {"X-A 1"};
	struct http_request_opts o;
	struct http_request *req;
	struct err err = ERR_INIT;
	struct env env;
	char url[256];

	env_open(&env, NULL);
	url_for(url, sizeof(url), "http", fx->origin.port, "/echo");
#define BAD(field, value)                                                                \
	do {                                                                             \
		o = (struct http_request_opts)HTTP_REQUEST_OPTS_INIT;                    \
		o.url = url;                                                             \
		o.field = value;                                                         \
		req = (struct http_request *)&o;                                         \
		err_clear(&err);                                                         \
		assert_int_equal(                                                        \
		    http_request_start(env.engine, &o, never_cb, NULL, &req, &err), -1); \
		assert_int_equal(err.code, ERR_INVALID);                                 \
		assert_null(req);                                                        \
	} while (0)
	BAD(url, NULL);
	BAD(url, "not a url");
	BAD(url, "ftp://127.0.0.1/x");
	BAD(method, "get");
	BAD(method, "");
	BAD(body_len, 3);
	BAD(nheaders, 1);
#undef BAD
	o = (struct http_request_opts)HTTP_REQUEST_OPTS_INIT;
	o.url = url;
	o.headers = crlf;
	o.nheaders = 1;
	assert_int_equal(http_request_start(env.engine, &o, never_cb, NULL, NULL, &err), -1);
	assert_int_equal(err.code, ERR_INVALID);
	o.headers = nocolon;
	assert_int_equal(http_request_start(env.engine, &o, never_cb, NULL, NULL, &err), -1);
	assert_int_equal(err.code, ERR_INVALID);
	assert_int_equal(http_engine_active(env.engine), 0);
	run_for(env.loop, 0.05);
	env_close(&env);
}

/*
 * A hostile origin, forked from the test: it reads a request head and answers by path with
 * what a broken or malicious server (or a middlebox) might send. Stopped by its PID.
 */
static void
hostile_answer(int c, const char *path)
{
	static const char ok2[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n";
	struct linger lg = {1, 0};
	char *big;
	int i;

	if (strcmp(path, "/many-headers") == 0) {
		(void)!write(c, ok2, strlen(ok2));
		for (i = 0; i < 100; i++)
			dprintf(c, "X-H%d: v\r\n", i);
		(void)!write(c, "\r\nok", 4);
	} else if (strcmp(path, "/huge-header") == 0) {
		big = xmalloc(70001);
		memset(big, 'a', 70000);
		big[70000] = '\0';
		dprintf(c, "%sX-Big: %s\r\n\r\nok", ok2, big);
		free(big);
	} else if (strcmp(path, "/reset") == 0) {
		dprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n%0100d", 0);
		usleep(100000);
		/* Close with RST, in the middle of the announced body. */
		setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	} else if (strcmp(path, "/trickle") == 0) {
		dprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
		for (i = 0; i < 40 && write(c, "x", 1) == 1; i++)
			usleep(50000);
	} else if (strcmp(path, "/interim") == 0) {
		dprintf(c, "HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\n"
		           "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Folded:  first \r\n"
		           "\t second\r\n\r\nok");
	}
}

static void
hostile_serve(int fd)
{
	char head[8192], path[256];
	size_t n;
	ssize_t got;
	int c;

	for (;;) {
		c = accept(fd, NULL, NULL);
		if (c < 0)
			continue;
		n = 0;
		while (n < sizeof(head) - 1) {
			got = read(c, head + n, sizeof(head) - 1 - n);
			if (got <= 0)
				break;
			n += (size_t)got;
			head[n] = '\0';
			if (strstr(head, "\r\n\r\n") != NULL)
				break;
		}
		head[n] = '\0';
		if (sscanf(head, "GET %255s", path) == 1)
			hostile_answer(c, path);
		close(c);
	}
}

static int
hostile_start(struct server *s)
{
	struct sockaddr_in sin = {0};
	socklen_t len = sizeof(sin);
	int fd;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 || listen(fd, 8) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) != 0) {
		close(fd);
		return -1;
	}
	s->port = ntohs(sin.sin_port);
	s->pid = fork();
	if (s->pid == 0) {
		signal(SIGPIPE, SIG_IGN);
		hostile_serve(fd);
		_exit(0);
	}
	close(fd);
	return s->pid > 0 ? 0 : -1;
}

static void
test_http__hostile_server(void **state)
{
	struct http_request_opts o = HTTP_REQUEST_OPTS_INIT;
	struct server hostile = {0};
	struct result r = {0};
	struct env env;
	char url[256];

	(void)state;
	assert_int_equal(hostile_start(&hostile), 0);
	env_open(&env, NULL);
	o.url = url;
	o.timeout_ms = 1000;

	/* More header fields than the cap, or more header bytes: refused, not stored. */
	url_for(url, sizeof(url), "http", hostile.port, "/many-headers");
	request(&env, &o, &r);
	assert_int_equal(r.code, ERR_TOOBIG);
	assert_non_null(strstr(r.message, "more response headers than the cap"));
	assert_true(r.nheaders <= HTTP_RESPONSE_HEADERS_MAX);
	result_clear(&r);
	url_for(url, sizeof(url), "http", hostile.port, "/huge-header");
	request(&env, &o, &r);
	assert_int_equal(r.code, ERR_TOOBIG);
	assert_non_null(strstr(r.message, "response headers over their cap"));
	result_clear(&r);

	/* A reset in the middle of the body: a transient failure with what arrived. */
	url_for(url, sizeof(url), "http", hostile.port, "/reset");
	request(&env, &o, &r);
	assert_int_equal(r.code, ERR_TRANSIENT);
	assert_false(r.timed_out);
	assert_int_equal(r.status, 200);
	assert_true(r.body_len <= 100);
	result_clear(&r);

	/* A body that trickles in forever ends at the transfer timeout. */
	url_for(url, sizeof(url), "http", hostile.port, "/trickle");
	o.timeout_ms = 400;
	request(&env, &o, &r);
	assert_int_equal(r.code, ERR_TRANSIENT);
	assert_true(r.timed_out);
	assert_true(r.body_len < 1000);
	result_clear(&r);

	/* An interim response's fields are not the final response's; folded lines join. */
	url_for(url, sizeof(url), "http", hostile.port, "/interim");
	request(&env, &o, &r);
	assert_int_equal(r.code, 0);
	assert_int_equal(r.status, 200);
	assert_null(result_header(&r, "x-interim"));
	assert_string_equal(result_header(&r, "x-folded"), "first second");
	assert_string_equal(r.body, "ok");
	result_clear(&r);

	assert_int_equal(http_engine_active(env.engine), 0);
	env_close(&env);
	server_stop(&hostile);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_http__get),
	    cmocka_unit_test(test_http__put_body),
	    cmocka_unit_test(test_http__post_large_body),
	    cmocka_unit_test(test_http__post_empty),
	    cmocka_unit_test(test_http__delete),
	    cmocka_unit_test(test_http__status),
	    cmocka_unit_test(test_http__response_headers),
	    cmocka_unit_test(test_http__reuse),
	    cmocka_unit_test(test_http__concurrent),
	    cmocka_unit_test(test_http__timeout),
	    cmocka_unit_test(test_http__toobig),
	    cmocka_unit_test(test_http__refused),
	    cmocka_unit_test(test_http__redact_path),
	    cmocka_unit_test(test_http__tls),
	    cmocka_unit_test(test_http__proxy),
	    cmocka_unit_test(test_http__proxy_connect),
	    cmocka_unit_test(test_http__cancel),
	    cmocka_unit_test(test_http__reenter),
	    cmocka_unit_test(test_http__invalid),
	    cmocka_unit_test(test_http__hostile_server),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
