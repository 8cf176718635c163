/*
 * The Lambda client's pipeline against a fake transport that records every request exactly
 * as it would go on the wire and answers from a script: signing (verified independently
 * with aws/sigv4), retries (transient, throttle with Retry-After as a lower bound, the
 * never-retried 409/412/4xx), rate-limit charging, pagination, waiters, Invoke headers,
 * decode failures, missing credentials, and cancellation in every state, including freeing
 * the client from inside a callback.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "aws/lambda_client.h"
#include "aws/sigv4.h"
#include "common/crypto.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/xmalloc.h"

/* Scripted replies are compound literals that spell out only the fields they need. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define ENDPOINT "http://127.0.0.1:9001"
#define FAKE_MAX 64

struct fake_reply {
	long status;            /* 0: a transport failure with code terr */
	const char *headers[6]; /* "name: value" */
	const char *body;
	int terr;
	double delay;
	const char *match; /* when set, only for a request to exactly this URL */
	bool used;
};

struct fake_req {
	char *method;
	char *url;
	char *headers[16];
	size_t nheaders;
	char *body;
	size_t body_len;
	long timeout_ms;
	double at; /* loop time it was sent */
};

struct fake;

struct pending {
	ev_timer timer;
	struct fake *f;
	http_done_cb cb;
	void *arg;
	size_t reply;
	bool active;
};

struct fake {
	struct ev_loop *loop;
	struct fake_reply replies[FAKE_MAX];
	size_t nreplies, next;
	struct fake_req reqs[FAKE_MAX];
	size_t nreqs;
	struct pending pend[FAKE_MAX];
	size_t canceled;
};

static void
pending_fire(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct pending *p = container_of(w, struct pending, timer);
	const struct fake_reply *r = &p->f->replies[p->reply];
	struct http_response_header h[6];
	struct http_response resp;
	struct err err = ERR_INIT;
	size_t i;

	(void)loop;
	(void)revents;
	p->active = false;
	memset(&resp, 0, sizeof(resp));
	buf_init(&resp.body, 1 << 20);
	resp.status = r->status;
	for (i = 0; i < nitems(r->headers) && r->headers[i] != NULL; i++) {
		const char *colon = strchr(r->headers[i], ':');

		h[i].name = xstrndup(r->headers[i], (size_t)(colon - r->headers[i]));
		h[i].value = xstrdup(colon + 2);
	}
	resp.headers = h;
	resp.nheaders = i;
	if (r->body != NULL)
		buf_puts(&resp.body, r->body);
	if (r->status == 0) {
		err_set(&err, r->terr, "GET fake: connection refused");
		p->cb(&resp, &err, p->arg);
	} else {
		p->cb(&resp, NULL, p->arg);
	}
	for (i = 0; i < resp.nheaders; i++) {
		free(h[i].name);
		free(h[i].value);
	}
	buf_free(&resp.body);
}

static int
fake_start(void *ctx, const struct http_request_opts *o, http_done_cb cb, void *cb_arg,
    void **handle, struct err *err)
{
	struct fake *f = ctx;
	struct fake_req *q;
	struct pending *p;
	size_t i, r;

	(void)err;
	for (r = 0; r < f->nreplies; r++)
		if (!f->replies[r].used &&
		    (f->replies[r].match == NULL || strcmp(f->replies[r].match, o->url) == 0))
			break;
	if (r == f->nreplies)
		fail_msg("unexpected request %s %s", o->method, o->url);
	f->replies[r].used = true;
	f->next++;
	assert_true(f->nreqs < FAKE_MAX);
	q = &f->reqs[f->nreqs];
	q->method = xstrdup(o->method);
	q->url = xstrdup(o->url);
	for (i = 0; i < o->nheaders; i++)
		q->headers[i] = xstrdup(o->headers[i]);
	q->nheaders = o->nheaders;
	q->body = o->body != NULL ? xmemdup(o->body, o->body_len) : NULL;
	q->body_len = o->body_len;
	q->timeout_ms = o->timeout_ms;
	q->at = ev_now(f->loop);
	p = &f->pend[f->nreqs];
	f->nreqs++;
	p->f = f;
	p->cb = cb;
	p->arg = cb_arg;
	p->reply = r;
	p->active = true;
	ev_timer_init(&p->timer, pending_fire, f->replies[p->reply].delay, 0.);
	ev_timer_start(f->loop, &p->timer);
	*handle = p;
	return 0;
}

static void
fake_cancel(void *ctx, void *handle)
{
	struct fake *f = ctx;
	struct pending *p = handle;

	assert_true(p->active);
	ev_timer_stop(f->loop, &p->timer);
	p->active = false;
	f->canceled++;
}

static void
fake_clear(struct fake *f)
{
	size_t i, j;

	for (i = 0; i < f->nreqs; i++) {
		free(f->reqs[i].method);
		free(f->reqs[i].url);
		for (j = 0; j < f->reqs[i].nheaders; j++)
			free(f->reqs[i].headers[j]);
		free(f->reqs[i].body);
	}
	memset(f->reqs, 0, sizeof(f->reqs));
	f->nreqs = 0;
	f->nreplies = 0;
	f->next = 0;
	f->canceled = 0;
}

static void
reply(struct fake *f, struct fake_reply r)
{
	assert_true(f->nreplies < FAKE_MAX);
	f->replies[f->nreplies++] = r;
}

static const char *
req_header(const struct fake_req *q, const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < q->nheaders; i++)
		if (strncasecmp(q->headers[i], name, n) == 0 && q->headers[i][n] == ':')
			return q->headers[i][n + 1] == ' ' ? q->headers[i] + n + 2
			                                   : q->headers[i] + n + 1;
	return NULL;
}

/*
 * Check a recorded request's signature independently: rebuild the SigV4 request from what
 * was sent (the headers named in SignedHeaders, the body bytes) and compare.
 */
static void
verify_signature(const struct fake_req *q, const char *secret)
{
	struct sigv4_auth auth;
	struct sigv4_header h[8];
	struct sigv4_request sreq;
	struct sigv4_scope scope;
	struct err err = ERR_INIT;
	char payload[CRYPTO_SHA256_HEX_LEN + 1], sig[CRYPTO_SHA256_HEX_LEN + 1];
	char *path, *query, *names, *name, *semi;
	const char *amzdate;
	size_t nh = 0;

	assert_int_equal(sigv4_parse_authorization(req_header(q, "Authorization"), &auth, &err), 0);
	amzdate = req_header(q, "X-Amz-Date");
	assert_non_null(amzdate);
	path = xstrdup(q->url + strlen(ENDPOINT));
	query = strchr(path, '?');
	if (query != NULL)
		*query++ = '\0';
	names = xstrdup(auth.signed_headers);
	for (name = names; name != NULL; name = semi != NULL ? semi + 1 : NULL) {
		semi = strchr(name, ';');
		if (semi != NULL)
			*semi = '\0';
		assert_non_null(req_header(q, name));
		assert_true(nh < nitems(h));
		h[nh++] = (struct sigv4_header){name, req_header(q, name)};
	}
	crypto_sha256_hex(q->body != NULL ? q->body : "", q->body_len, payload);
	sreq = (struct sigv4_request){q->method, path, query, h, nh, payload};
	scope = (struct sigv4_scope){amzdate, "us-east-1", "lambda"};
	assert_int_equal(sigv4_signature(&sreq, &scope, secret, sig, &err), 0);
	assert_string_equal(sig, auth.signature);
	assert_string_equal(auth.region, "us-east-1");
	assert_string_equal(auth.service, "lambda");
	free(names);
	free(path);
}

struct fx {
	struct ev_loop *loop;
	struct http_engine *http;
	struct credentials *creds;
	struct ratelimit *rl;
	struct lambda_client *c;
	struct lambda_transport transport;
	struct fake fake;
	int observed;
	char observed_last[96];
};

static void
observe(const char *op, long status, int attempt, double ms, void *arg)
{
	struct fx *fx = arg;

	assert_true(ms >= 0.0);
	fx->observed++;
	snprintf(fx->observed_last, sizeof(fx->observed_last), "%s %ld %d", op, status, attempt);
}

static void
set_env(const char *token)
{
	setenv("AWS_ACCESS_KEY_ID", "AKIDTEST", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "secret/key+1", 1);
	if (token != NULL)
		setenv("AWS_SESSION_TOKEN", token, 1);
	else
		unsetenv("AWS_SESSION_TOKEN");
}

static void
fx_client(struct fx *fx, double api_rps)
{
	struct lambda_client_opts o = LAMBDA_CLIENT_OPTS_INIT;
	struct err err = ERR_INIT;

	o.loop = fx->loop;
	o.credentials = fx->creds;
	o.ratelimit = fx->rl;
	o.region = "us-east-1";
	o.endpoint = ENDPOINT;
	o.api_rps = api_rps;
	o.user_agent = "tether-unit";
	o.transport = &fx->transport;
	o.observe = observe;
	o.observe_arg = fx;
	assert_int_equal(lambda_client_new(&fx->c, &o, &err), 0);
}

static int
setup(void **state)
{
	struct http_engine_opts ho = HTTP_ENGINE_OPTS_INIT;
	struct credentials_opts co = CREDENTIALS_OPTS_INIT;
	struct err err = ERR_INIT;
	struct fx *fx = xcalloc(1, sizeof(*fx));

	/* Only the environment may supply credentials: no files, no metadata service. */
	setenv("AWS_CONFIG_FILE", "/nonexistent/tether-test/config", 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/tether-test/credentials", 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	unsetenv("AWS_PROFILE");
	unsetenv("AWS_DEFAULT_PROFILE");
	unsetenv("AWS_WEB_IDENTITY_TOKEN_FILE");
	unsetenv("AWS_ROLE_ARN");
	unsetenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	unsetenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	set_env(NULL);
	fx->loop = ev_loop_new(EVFLAG_AUTO);
	assert_int_equal(http_engine_new(&fx->http, fx->loop, &ho, &err), 0);
	assert_int_equal(credentials_new(&fx->creds, fx->loop, fx->http, &co, &err), 0);
	assert_int_equal(ratelimit_new(&fx->rl, fx->loop), 0);
	fx->fake.loop = fx->loop;
	fx->transport.start = fake_start;
	fx->transport.cancel = fake_cancel;
	fx->transport.ctx = &fx->fake;
	fx_client(fx, 0);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	lambda_client_free(fx->c);
	fake_clear(&fx->fake);
	ratelimit_free(fx->rl);
	credentials_free(fx->creds);
	http_engine_free(fx->http);
	ev_loop_destroy(fx->loop);
	free(fx);
	return 0;
}

/* What a callback saw. */
struct seen {
	int calls;
	struct err err;
	bool ok;
	struct lambda_function fn;
	struct lambda_alias alias;
	size_t n;
	char names[8][32];
	char next_marker[32];
	struct lambda_invoke_result inv;
	double at;
	struct fx *fx;
	struct lambda_call *self;
	bool free_client;
	struct lambda_call *handle;
	char rid[ERR_REQUEST_ID_MAX];
};

static void
record_err(struct seen *s, const struct err *err)
{
	s->calls++;
	s->ok = err == NULL;
	if (err != NULL)
		err_copy(&s->err, err);
	if (s->fx != NULL)
		s->at = ev_now(s->fx->loop);
}

static void
on_function(const struct lambda_function *fn, const struct err *err, void *arg)
{
	struct seen *s = arg;

	record_err(s, err);
	if (fn != NULL) {
		lambda_function_clear(&s->fn);
		lambda_function_copy(&s->fn, fn);
	}
	if (s->handle != NULL)
		snprintf(s->rid, sizeof(s->rid), "%s", lambda_call_request_id(s->handle));
	if (s->self != NULL)
		lambda_call_cancel(s->self); /* a no-op on a call being delivered */
	if (s->free_client) {
		lambda_client_free(s->fx->c);
		s->fx->c = NULL;
	}
}

static void
on_done(const struct err *err, void *arg)
{
	record_err(arg, err);
}

static void
on_alias(const struct lambda_alias *a, const struct err *err, void *arg)
{
	struct seen *s = arg;

	record_err(s, err);
	if (a != NULL)
		lambda_alias_copy(&s->alias, a);
}

static void
on_function_page(const struct lambda_function_page *p, const struct err *err, void *arg)
{
	struct seen *s = arg;
	size_t i;

	record_err(s, err);
	if (p == NULL)
		return;
	s->n = p->n;
	for (i = 0; i < p->n && i < nitems(s->names); i++)
		snprintf(s->names[i], sizeof(s->names[i]), "%s", p->items[i].name);
	snprintf(s->next_marker, sizeof(s->next_marker), "%s",
	    p->next_marker != NULL ? p->next_marker : "");
}

static void
on_alias_page(const struct lambda_alias_page *p, const struct err *err, void *arg)
{
	struct seen *s = arg;

	record_err(s, err);
	if (p != NULL)
		s->n = p->n;
}

static void
on_tags(const struct lambda_tags *t, const struct err *err, void *arg)
{
	struct seen *s = arg;

	record_err(s, err);
	if (t != NULL)
		s->n = t->n;
}

static void
on_invoke(const struct lambda_invoke_result *r, const struct err *err, void *arg)
{
	struct seen *s = arg;

	record_err(s, err);
	if (r == NULL)
		return;
	s->inv.status = r->status;
	s->inv.executed_version = r->executed_version ? xstrdup(r->executed_version) : NULL;
	s->inv.function_error = r->function_error ? xstrdup(r->function_error) : NULL;
	s->inv.log_result = r->log_result ? xstrdup(r->log_result) : NULL;
	s->inv.payload = xmemdup(r->payload, r->payload_len + 1);
	s->inv.payload_len = r->payload_len;
}

static void
seen_clear(struct seen *s)
{
	lambda_function_clear(&s->fn);
	lambda_alias_clear(&s->alias);
	lambda_invoke_result_clear(&s->inv);
	memset(s, 0, sizeof(*s));
}

/* Run the loop until *calls reaches want, failing after timeout seconds. */
static void
run_until(struct fx *fx, const int *calls, int want, double timeout)
{
	double end = ev_time() + timeout;

	while (*calls < want) {
		if (ev_time() > end)
			fail_msg("timed out waiting for %d callbacks (have %d)", want, *calls);
		ev_run(fx->loop, EVRUN_ONCE);
	}
}

static void
timer_noop(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
}

/* Run the loop for a while (to prove that nothing more happens). */
static void
run_for(struct fx *fx, double seconds)
{
	double end = ev_time() + seconds;
	ev_timer t;

	ev_timer_init(&t, timer_noop, 0., 0.);
	while (ev_time() < end) {
		ev_timer_set(&t, end - ev_time(), 0.);
		ev_timer_start(fx->loop, &t);
		ev_run(fx->loop, EVRUN_ONCE);
		ev_timer_stop(fx->loop, &t);
	}
}

static const char get_function_body[] =
    "{\"Configuration\":{\"FunctionName\":\"my-fn\",\"Version\":\"$LATEST\",\"RevisionId\":"
    "\"r1\",\"State\":\"Active\",\"LastUpdateStatus\":\"Successful\",\"MemorySize\":128},"
    "\"Code\":{\"ImageUri\":\"img:1\"},\"Tags\":{\"k\":\"v\"}}";

static struct ratelimit_stats
bucket_stats(struct fx *fx, const char *name)
{
	struct ratelimit_stats st;

	ratelimit_stats(ratelimit_bucket(fx->rl, "default", "us-east-1", name,
	                    strcmp(name, "shared") == 0 ? 15.0 : 100.0),
	    &st);
	return st;
}

static void
test_lambda_client__signed_requests(void **state)
{
	struct fx *fx = *state;
	struct seen s = {0};
	struct err err = ERR_INIT;
	const struct fake_req *q;
	char logbuf[4096];
	size_t loglen;
	FILE *logf;

	/* One debug line per request, without secrets or bodies. */
	logf = tmpfile();
	assert_non_null(logf);
	log_init(LOG_LEVEL_DEBUG, false, fileno(logf));
	reply(&fx->fake, (struct fake_reply){200, {"x-amzn-RequestId: rid-1"}, get_function_body});
	assert_int_equal(
	    lambda_client_get_function(fx->c, "my-fn", "$LATEST", on_function, &s, &s.handle, &err),
	    0);
	assert_int_equal(lambda_client_active(fx->c), 1);
	assert_int_equal(fx->fake.nreqs, 0); /* never from inside the starting call */
	assert_int_equal(s.calls, 0);
	run_until(fx, &s.calls, 1, 5);
	log_init(LOG_LEVEL_INFO, false, 2);
	assert_true(s.ok);
	assert_string_equal(s.fn.name, "my-fn");
	assert_string_equal(s.fn.image_uri, "img:1");
	assert_string_equal(s.rid, "rid-1");
	assert_int_equal(fx->observed, 1);
	assert_string_equal(fx->observed_last, "GetFunction 200 1");
	rewind(logf);
	loglen = fread(logbuf, 1, sizeof(logbuf) - 1, logf);
	logbuf[loglen] = '\0';
	fclose(logf);
	assert_non_null(
	    strstr(logbuf, " debug lambda: GetFunction my-fn status=200 attempt=1 ms="));
	assert_non_null(strstr(logbuf, " request_id=rid-1\n"));
	assert_null(strstr(logbuf, "secret/key+1"));
	assert_null(strstr(logbuf, "Signature="));
	assert_null(strstr(logbuf, "Configuration"));
	assert_int_equal(lambda_client_active(fx->c), 0);
	q = &fx->fake.reqs[0];
	assert_string_equal(q->method, "GET");
	assert_string_equal(q->url, ENDPOINT "/2015-03-31/functions/my-fn?Qualifier=%24LATEST");
	assert_string_equal(req_header(q, "Host"), "127.0.0.1:9001");
	assert_string_equal(req_header(q, "User-Agent"), "tether-unit");
	assert_null(req_header(q, "Content-Type"));
	assert_null(req_header(q, "X-Amz-Security-Token"));
	assert_null(q->body);
	assert_int_equal(q->timeout_ms, LAMBDA_TIMEOUT_MS_DEFAULT);
	assert_non_null(strstr(req_header(q, "Authorization"), "Credential=AKIDTEST/"));
	assert_non_null(strstr(req_header(q, "Authorization"), "SignedHeaders=host;x-amz-date,"));
	verify_signature(q, "secret/key+1");
	/* GetFunction is charged to its own bucket. */
	assert_int_equal(bucket_stats(fx, "GetFunction").granted, 1);
	assert_int_equal(bucket_stats(fx, "shared").granted, 0);
	seen_clear(&s);

	/* A bare PublishVersion: body {}, Content-Type signed, shared bucket. */
	reply(&fx->fake,
	    (struct fake_reply){201, {NULL}, "{\"FunctionName\":\"my-fn\",\"Version\":\"1\"}"});
	assert_int_equal(
	    lambda_client_publish_version(fx->c, "my-fn", NULL, on_function, &s, NULL, &err), 0);
	run_until(fx, &s.calls, 1, 5);
	assert_true(s.ok);
	assert_string_equal(s.fn.version, "1");
	q = &fx->fake.reqs[1];
	assert_string_equal(q->method, "POST");
	assert_int_equal(q->body_len, 2);
	assert_memory_equal(q->body, "{}", 2);
	assert_string_equal(req_header(q, "Content-Type"), "application/json");
	assert_non_null(
	    strstr(req_header(q, "Authorization"), "SignedHeaders=content-type;host;x-amz-date,"));
	verify_signature(q, "secret/key+1");
	assert_int_equal(bucket_stats(fx, "shared").granted, 1);
	seen_clear(&s);
}

static void
test_lambda_client__session_token(void **state)
{
	struct fx *fx = *state;
	struct credentials_opts co = CREDENTIALS_OPTS_INIT;
	struct credentials *old = fx->creds;
	struct seen s = {0};
	struct err err = ERR_INIT;
	const struct fake_req *q;

	set_env("FwoGZXIvYXdzEB0aDtoken/+=");
	lambda_client_free(fx->c);
	assert_int_equal(credentials_new(&fx->creds, fx->loop, fx->http, &co, &err), 0);
	fx_client(fx, 0);
	reply(&fx->fake,
	    (struct fake_reply){200, {NULL}, "{\"Name\":\"live\",\"FunctionVersion\":\"2\"}"});
	assert_int_equal(
	    lambda_client_get_alias(fx->c, "my-fn", "live", on_alias, &s, NULL, &err), 0);
	run_until(fx, &s.calls, 1, 5);
	assert_true(s.ok);
	assert_string_equal(s.alias.function_version, "2");
	q = &fx->fake.reqs[0];
	assert_string_equal(req_header(q, "X-Amz-Security-Token"), "FwoGZXIvYXdzEB0aDtoken/+=");
	assert_non_null(strstr(
	    req_header(q, "Authorization"), "SignedHeaders=host;x-amz-date;x-amz-security-token,"));
	verify_signature(q, "secret/key+1");
	seen_clear(&s);
	credentials_free(old);
	set_env(NULL);
}

/* An endpoint with a path prefixes every request's path, and the full path is signed. */
static void
test_lambda_client__endpoint_prefix(void **state)
{
	struct fx *fx = *state;
	struct lambda_client_opts o = LAMBDA_CLIENT_OPTS_INIT;
	struct lambda_client *bad = NULL;
	struct seen s = {0};
	struct err err = ERR_INIT;
	const struct fake_req *q;

	lambda_client_free(fx->c);
	o.loop = fx->loop;
	o.credentials = fx->creds;
	o.region = "us-east-1";
	o.transport = &fx->transport;
	o.endpoint = ENDPOINT "/base/v1/";
	assert_int_equal(lambda_client_new(&fx->c, &o, &err), 0);
	reply(&fx->fake,
	    (struct fake_reply){200, {NULL}, "{\"Name\":\"live\",\"FunctionVersion\":\"2\"}"});
	assert_int_equal(
	    lambda_client_get_alias(fx->c, "my-fn", "live", on_alias, &s, NULL, &err), 0);
	run_until(fx, &s.calls, 1, 5);
	assert_true(s.ok);
	q = &fx->fake.reqs[0];
	assert_string_equal(q->url, ENDPOINT "/base/v1/2015-03-31/functions/my-fn/aliases/live");
	assert_string_equal(req_header(q, "Host"), "127.0.0.1:9001");
	verify_signature(q, "secret/key+1");
	seen_clear(&s);

	/* What endpoint_url_parse() refuses, the client refuses. */
	o.endpoint = ENDPOINT "/base?x=1";
	assert_int_equal(lambda_client_new(&bad, &o, &err), ERR_INVALID);
	assert_null(bad);
	assert_non_null(strstr(err.message, "must not have a query"));
}

static void
test_lambda_client__retries(void **state)
{
	struct fx *fx = *state;
	struct seen s = {0};
	struct err err = ERR_INIT;
	size_t i;

	s.fx = fx;
	/* 503, then 500 ServiceException, then success: three signed attempts. */
	reply(&fx->fake, (struct fake_reply){503, {NULL}, NULL});
	reply(&fx->fake, (struct fake_reply){
	                     500, {"x-amzn-ErrorType: ServiceException"}, "{\"Message\":\"x\"}"});
	reply(&fx->fake, (struct fake_reply){200, {NULL}, "{\"FunctionName\":\"f\"}"});
	assert_int_equal(
	    lambda_client_get_function_configuration(fx->c, "f", NULL, on_function, &s, NULL, &err),
	    0);
	run_until(fx, &s.calls, 1, 10);
	assert_true(s.ok);
	assert_int_equal(fx->fake.nreqs, 3);
	for (i = 0; i < 3; i++)
		verify_signature(&fx->fake.reqs[i], "secret/key+1");
	/* Backoff is full jitter: at most 1 s, then at most 2 s (plus the bucket's spacing). */
	assert_true(fx->fake.reqs[1].at - fx->fake.reqs[0].at <= 1.5);
	assert_true(fx->fake.reqs[2].at - fx->fake.reqs[1].at <= 2.5);
	/* Every attempt was charged. */
	assert_int_equal(bucket_stats(fx, "shared").granted, 3);
	seen_clear(&s);
	fake_clear(&fx->fake);

	/* 503 three times: ERR_TRANSIENT after the last attempt, with its details. */
	for (i = 0; i < 3; i++)
		reply(&fx->fake, (struct fake_reply){
		                     503, {"x-amzn-RequestId: rid-503"}, "{\"message\":\"busy\"}"});
	assert_int_equal(
	    lambda_client_list_aliases(fx->c, "f", NULL, on_alias_page, &s, NULL, &err), 0);
	run_until(fx, &s.calls, 1, 10);
	assert_false(s.ok);
	assert_int_equal(s.err.code, ERR_TRANSIENT);
	assert_int_equal(s.err.http_status, 503);
	assert_string_equal(s.err.message, "busy");
	assert_string_equal(s.err.request_id, "rid-503");
	assert_int_equal(fx->fake.nreqs, 3);
	seen_clear(&s);
	fake_clear(&fx->fake);

	/* Transport failures are retried too. */
	for (i = 0; i < 3; i++)
		reply(&fx->fake, (struct fake_reply){0, {NULL}, NULL, ERR_TRANSIENT});
	assert_int_equal(lambda_client_delete_alias(fx->c, "f", "a", on_done, &s, NULL, &err), 0);
	run_until(fx, &s.calls, 1, 10);
	assert_int_equal(s.err.code, ERR_TRANSIENT);
	assert_non_null(strstr(s.err.message, "connection refused"));
	assert_int_equal(fx->fake.nreqs, 3);
	seen_clear(&s);
	fake_clear(&fx->fake);

	/* A response over its cap is not. */
	reply(&fx->fake, (struct fake_reply){0, {NULL}, NULL, ERR_TOOBIG});
	assert_int_equal(lambda_client_list_tags(fx->c, "arn:aws:lambda:us-east-1:1:function:f",
	                     on_tags, &s, NULL, &err),
	    0);
	run_until(fx, &s.calls, 1, 5);
	assert_int_equal(s.err.code, ERR_TOOBIG);
	assert_int_equal(fx->fake.nreqs, 1);
	seen_clear(&s);
	fake_clear(&fx->fake);
}

static void
test_lambda_client__no_retry(void **state)
{
	static const struct {
		long status;
		const char *type;
		int code;
	} cases[] = {
	    {409, "ResourceConflictException", ERR_CONFLICT},
	    {412, "PreconditionFailedException", ERR_PRECONDITION},
	    {404, "ResourceNotFoundException", ERR_NOTFOUND},
	    {400, "InvalidParameterValueException", ERR_INVALID},
	    {403, "InvalidSignatureException", ERR_AUTH},
	};
	struct fx *fx = *state;
	struct lambda_publish pub = LAMBDA_PUBLISH_INIT;
	struct seen s = {0};
	struct err err = ERR_INIT;
	char type[96];
	size_t i;

	for (i = 0; i < nitems(cases); i++) {
		snprintf(type, sizeof(type), "x-amzn-ErrorType: %s:http://internal", cases[i].type);
		reply(&fx->fake, (struct fake_reply){cases[i].status,
		                     {type, "x-amzn-RequestId: rid-x"}, "{\"message\":\"no\"}"});
		pub.revision_id = "stale";
		assert_int_equal(
		    lambda_client_publish_version(fx->c, "f", &pub, on_function, &s, NULL, &err),
		    0);
		run_until(fx, &s.calls, 1, 5);
		assert_false(s.ok);
		assert_int_equal(s.err.code, cases[i].code);
		assert_int_equal(s.err.http_status, cases[i].status);
		assert_string_equal(s.err.type, cases[i].type);
		assert_string_equal(s.err.message, "no");
		assert_string_equal(s.err.request_id, "rid-x");
		assert_int_equal(fx->fake.nreqs, 1);
		assert_null(s.fn.name);
		seen_clear(&s);
		fake_clear(&fx->fake);
	}
}

static void
test_lambda_client__throttle(void **state)
{
	struct fx *fx = *state;
	struct seen s = {0};
	struct err err = ERR_INIT;
	double t0;
	size_t i;

	s.fx = fx;
	/* A 429 with Retry-After: the retry waits at least that long; the bucket slows. */
	reply(&fx->fake,
	    (struct fake_reply){429,
	        {"x-amzn-ErrorType: TooManyRequestsException", "Retry-After: 0.3"},
	        "{\"message\":\"Rate exceeded\",\"Reason\":\"CallerRateLimitExceeded\"}"});
	reply(&fx->fake, (struct fake_reply){200, {NULL}, "{\"Name\":\"live\"}"});
	t0 = ev_time();
	assert_int_equal(lambda_client_get_alias(fx->c, "f", "live", on_alias, &s, NULL, &err), 0);
	run_until(fx, &s.calls, 1, 10);
	assert_true(s.ok);
	assert_int_equal(fx->fake.nreqs, 2);
	assert_true(fx->fake.reqs[1].at - fx->fake.reqs[0].at >= 0.29);
	assert_true(ev_time() - t0 >= 0.29);
	assert_int_equal(bucket_stats(fx, "shared").throttles, 1);
	assert_true(bucket_stats(fx, "shared").rate < 15.0);
	seen_clear(&s);
	fake_clear(&fx->fake);

	/* Throttled on every attempt: ERR_THROTTLED, even for a 400 with a throttling code. */
	for (i = 0; i < 3; i++)
		reply(&fx->fake,
		    (struct fake_reply){400, {"x-amzn-ErrorType: ThrottlingException"}, "{}"});
	assert_int_equal(lambda_client_get_alias(fx->c, "f", "live", on_alias, &s, NULL, &err), 0);
	run_until(fx, &s.calls, 1, 20);
	assert_int_equal(s.err.code, ERR_THROTTLED);
	assert_int_equal(fx->fake.nreqs, 3);
	seen_clear(&s);
	fake_clear(&fx->fake);
}

static void
test_lambda_client__api_rps(void **state)
{
	struct fx *fx = *state;

	/* The operator's cap lowers the shared bucket's ceiling, not GetFunction's. */
	lambda_client_free(fx->c);
	fx_client(fx, 4.0);
	assert_true(bucket_stats(fx, "shared").ceiling == 4.0);
	assert_true(bucket_stats(fx, "GetFunction").ceiling == 100.0);
	/* A cap above the quota changes nothing. */
	lambda_client_free(fx->c);
	fx_client(fx, 50.0);
	assert_true(bucket_stats(fx, "shared").ceiling == 15.0);
}

static void
test_lambda_client__invoke(void **state)
{
	struct fx *fx = *state;
	struct lambda_invoke in = LAMBDA_INVOKE_INIT;
	struct seen s = {0};
	struct err err = ERR_INIT;
	char *log64 = crypto_base64_encode("START\nboom\nEND\n", 15);
	char loghdr[128];
	const struct fake_req *q;

	snprintf(loghdr, sizeof(loghdr), "X-Amz-Log-Result: %s", log64);
	free(log64);
	reply(&fx->fake,
	    (struct fake_reply){200,
	        {"X-Amz-Executed-Version: $LATEST", "X-Amz-Function-Error: Unhandled", loghdr},
	        "{\"errorMessage\":\"boom\",\"errorType\":\"Error\"}"});
	in.qualifier = "$LATEST";
	in.log_tail = true;
	in.payload = "{\"a\":1}";
	in.payload_len = 7;
	assert_int_equal(lambda_client_invoke(fx->c, "f", &in, on_invoke, &s, NULL, &err), 0);
	run_until(fx, &s.calls, 1, 5);
	/* A function error is a result, not a call error. */
	assert_true(s.ok);
	assert_int_equal(s.inv.status, 200);
	assert_string_equal(s.inv.executed_version, "$LATEST");
	assert_string_equal(s.inv.function_error, "Unhandled");
	assert_string_equal(s.inv.log_result, "START\nboom\nEND\n");
	assert_int_equal(s.inv.payload_len, 43);
	assert_string_equal(
	    (char *)s.inv.payload, "{\"errorMessage\":\"boom\",\"errorType\":\"Error\"}");
	q = &fx->fake.reqs[0];
	assert_string_equal(
	    q->url, ENDPOINT "/2015-03-31/functions/f/invocations?Qualifier=%24LATEST");
	assert_string_equal(req_header(q, "X-Amz-Log-Type"), "Tail");
	assert_string_equal(req_header(q, "Content-Type"), "");
	assert_int_equal(q->body_len, 7);
	assert_int_equal(q->timeout_ms, LAMBDA_INVOKE_TIMEOUT_MS);
	verify_signature(q, "secret/key+1");
	/* Invoke is data plane: no bucket was charged. */
	assert_int_equal(bucket_stats(fx, "shared").granted, 0);
	assert_int_equal(bucket_stats(fx, "GetFunction").granted, 0);
	seen_clear(&s);
	fake_clear(&fx->fake);

	/* A malformed log header is dropped; the result stands. */
	reply(&fx->fake, (struct fake_reply){200, {"X-Amz-Log-Result: %%%"}, ""});
	memset(&in, 0, sizeof(in));
	assert_int_equal(lambda_client_invoke(fx->c, "f", &in, on_invoke, &s, NULL, &err), 0);
	run_until(fx, &s.calls, 1, 5);
	assert_true(s.ok);
	assert_null(s.inv.log_result);
	assert_null(s.inv.function_error);
	assert_int_equal(s.inv.payload_len, 0);
	assert_string_equal((char *)s.inv.payload, "");
	seen_clear(&s);
}

static void
test_lambda_client__pagination(void **state)
{
	struct fx *fx = *state;
	struct seen s = {0};
	struct err err = ERR_INIT;

	reply(&fx->fake, (struct fake_reply){200, {NULL},
	                     "{\"Functions\":[{\"FunctionName\":\"a\"},{\"FunctionName\":\"b\"}],"
	                     "\"NextMarker\":\"m/1\"}"});
	reply(&fx->fake, (struct fake_reply){200, {NULL},
	                     "{\"Functions\":[{\"FunctionName\":\"c\"}],\"NextMarker\":\"m2\"}"});
	reply(&fx->fake, (struct fake_reply){200, {NULL},
	                     "{\"Functions\":[{\"FunctionName\":\"d\"},{\"FunctionName\":\"e\"}],"
	                     "\"NextMarker\":null}"});
	assert_int_equal(
	    lambda_client_list_functions_all(fx->c, false, on_function_page, &s, NULL, &err), 0);
	run_until(fx, &s.calls, 1, 10);
	assert_true(s.ok);
	assert_int_equal(s.n, 5);
	assert_string_equal(s.names[0], "a");
	assert_string_equal(s.names[2], "c");
	assert_string_equal(s.names[4], "e");
	assert_string_equal(s.next_marker, "");
	assert_int_equal(fx->fake.nreqs, 3);
	assert_string_equal(fx->fake.reqs[0].url, ENDPOINT "/2015-03-31/functions/");
	assert_string_equal(fx->fake.reqs[1].url, ENDPOINT "/2015-03-31/functions/?Marker=m%2F1");
	assert_string_equal(fx->fake.reqs[2].url, ENDPOINT "/2015-03-31/functions/?Marker=m2");
	verify_signature(&fx->fake.reqs[1], "secret/key+1");
	/* Each page was charged. */
	assert_int_equal(bucket_stats(fx, "shared").granted, 3);
	seen_clear(&s);
	fake_clear(&fx->fake);

	/* One page only: the marker is handed back. */
	reply(&fx->fake, (struct fake_reply){200, {NULL},
	                     "{\"Versions\":[{\"FunctionName\":\"f\",\"Version\":\"$LATEST\"}],"
	                     "\"NextMarker\":\"n1\"}"});
	assert_int_equal(
	    lambda_client_list_versions(fx->c, "f", NULL, on_function_page, &s, NULL, &err), 0);
	run_until(fx, &s.calls, 1, 5);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.next_marker, "n1");
	seen_clear(&s);
	fake_clear(&fx->fake);

	/* A marker that repeats ends the call instead of looping forever. */
	reply(&fx->fake, (struct fake_reply){200, {NULL},
	                     "{\"Aliases\":[{\"Name\":\"a\"}],\"NextMarker\":\"same\"}"});
	reply(&fx->fake,
	    (struct fake_reply){200, {NULL}, "{\"Aliases\":[],\"NextMarker\":\"same\"}"});
	assert_int_equal(
	    lambda_client_list_aliases_all(fx->c, "f", "3", on_alias_page, &s, NULL, &err), 0);
	run_until(fx, &s.calls, 1, 5);
	assert_int_equal(s.err.code, ERR_FAIL);
	assert_non_null(strstr(s.err.message, "repeats"));
	assert_string_equal(
	    fx->fake.reqs[0].url, ENDPOINT "/2015-03-31/functions/f/aliases?FunctionVersion=3");
	assert_string_equal(fx->fake.reqs[1].url,
	    ENDPOINT "/2015-03-31/functions/f/aliases?FunctionVersion=3&Marker=same");
	seen_clear(&s);
	fake_clear(&fx->fake);

	/*
	 * A marker that comes back later in the walk (a cycle a -> b -> a) ends the call too,
	 * not after LAMBDA_LIST_PAGES_MAX pages charged to the 15/s bucket.
	 */
	reply(&fx->fake, (struct fake_reply){200, {NULL},
	                     "{\"Functions\":[{\"FunctionName\":\"a\"}],\"NextMarker\":\"ma\"}"});
	reply(&fx->fake, (struct fake_reply){200, {NULL},
	                     "{\"Functions\":[{\"FunctionName\":\"b\"}],\"NextMarker\":\"mb\"}"});
	reply(&fx->fake, (struct fake_reply){200, {NULL},
	                     "{\"Functions\":[{\"FunctionName\":\"a\"}],\"NextMarker\":\"ma\"}"});
	assert_int_equal(
	    lambda_client_list_functions_all(fx->c, false, on_function_page, &s, NULL, &err), 0);
	run_until(fx, &s.calls, 1, 5);
	assert_int_equal(s.err.code, ERR_FAIL);
	assert_non_null(strstr(s.err.message, "repeats"));
	assert_int_equal(fx->fake.nreqs, 3);
	seen_clear(&s);
	fake_clear(&fx->fake);

	/* An error on a later page is the call's error; what was gathered is released. */
	reply(&fx->fake, (struct fake_reply){200, {NULL},
	                     "{\"Versions\":[{\"Version\":\"1\"}],\"NextMarker\":\"x\"}"});
	reply(&fx->fake, (struct fake_reply){404, {"x-amzn-ErrorType: ResourceNotFoundException"},
	                     "{\"Message\":\"gone\"}"});
	assert_int_equal(
	    lambda_client_list_versions_all(fx->c, "f", on_function_page, &s, NULL, &err), 0);
	run_until(fx, &s.calls, 1, 5);
	assert_int_equal(s.err.code, ERR_NOTFOUND);
	assert_string_equal(s.err.message, "gone");
	seen_clear(&s);
	fake_clear(&fx->fake);
}

#define FN_STATUS(state, update, reason)                                                     \
	"{\"Configuration\":{\"FunctionName\":\"f\",\"Version\":\"$LATEST\",\"RevisionId\":" \
	"\"" update "\",\"State\":\"" state "\",\"LastUpdateStatus\":\"" update "\"" reason "}}"

static void
test_lambda_client__waiters(void **state)
{
	struct fx *fx = *state;
	struct lambda_wait_opts wo = LAMBDA_WAIT_OPTS_INIT;
	struct seen s = {0};
	struct err err = ERR_INIT;
	double d1, d2;

	s.fx = fx;
	/* InProgress twice, then Successful: polls at once, +0.1 s, +0.2 s. */
	reply(&fx->fake, (struct fake_reply){200, {NULL}, FN_STATUS("Active", "InProgress", "")});
	reply(&fx->fake, (struct fake_reply){200, {NULL}, FN_STATUS("Active", "InProgress", "")});
	reply(&fx->fake, (struct fake_reply){200, {NULL}, FN_STATUS("Active", "Successful", "")});
	assert_int_equal(
	    lambda_client_wait_updated(fx->c, "f", NULL, on_function, &s, NULL, &err), 0);
	run_until(fx, &s.calls, 1, 10);
	assert_true(s.ok);
	assert_string_equal(s.fn.revision_id, "Successful"); /* the last observation */
	assert_int_equal(fx->fake.nreqs, 3);
	d1 = fx->fake.reqs[1].at - fx->fake.reqs[0].at;
	d2 = fx->fake.reqs[2].at - fx->fake.reqs[1].at;
	assert_true(d1 >= 0.09 && d1 < 0.8);
	assert_true(d2 >= 0.19 && d2 < 0.9);
	/* Waiters spend the GetFunction budget. */
	assert_int_equal(bucket_stats(fx, "GetFunction").granted, 3);
	assert_int_equal(bucket_stats(fx, "shared").granted, 0);
	seen_clear(&s);
	fake_clear(&fx->fake);

	/* Failed ends the wait with Lambda's reason. */
	s.fx = fx;
	reply(&fx->fake, (struct fake_reply){200, {NULL},
	                     FN_STATUS("Active", "Failed",
	                         ",\"LastUpdateStatusReason\":\"Image not "
	                         "found\",\"LastUpdateStatusReasonCode\":\"ImageDeleted\"")});
	assert_int_equal(
	    lambda_client_wait_updated(fx->c, "f", NULL, on_function, &s, NULL, &err), 0);
	run_until(fx, &s.calls, 1, 5);
	assert_int_equal(s.err.code, ERR_FAIL);
	assert_string_equal(s.err.type, "ImageDeleted");
	assert_non_null(strstr(s.err.message, "LastUpdateStatus is Failed"));
	assert_non_null(strstr(s.err.message, "Image not found"));
	seen_clear(&s);
	fake_clear(&fx->fake);

	/* State Failed for wait_active. */
	s.fx = fx;
	reply(&fx->fake, (struct fake_reply){200, {NULL}, FN_STATUS("Pending", "InProgress", "")});
	reply(&fx->fake,
	    (struct fake_reply){200, {NULL},
	        FN_STATUS("Failed", "Failed",
	            ",\"StateReason\":\"bad role\",\"StateReasonCode\":\"InvalidConfiguration\"")});
	assert_int_equal(
	    lambda_client_wait_active(fx->c, "f", NULL, on_function, &s, NULL, &err), 0);
	run_until(fx, &s.calls, 1, 5);
	assert_int_equal(s.err.code, ERR_FAIL);
	assert_non_null(strstr(s.err.message, "State is Failed: InvalidConfiguration: bad role"));
	seen_clear(&s);
	fake_clear(&fx->fake);

	/* Never settles: ERR_TRANSIENT once the next poll would pass max_seconds. */
	s.fx = fx;
	wo.max_seconds = 0.35;
	wo.initial_delay = 0.05;
	wo.max_delay = 0.1;
	for (int i = 0; i < 10; i++)
		reply(&fx->fake,
		    (struct fake_reply){200, {NULL}, FN_STATUS("Pending", "InProgress", "")});
	assert_int_equal(
	    lambda_client_wait_active(fx->c, "f", &wo, on_function, &s, NULL, &err), 0);
	run_until(fx, &s.calls, 1, 5);
	assert_int_equal(s.err.code, ERR_TRANSIENT);
	assert_non_null(strstr(s.err.message, "State is still Pending"));
	assert_true(fx->fake.nreqs >= 3 && fx->fake.nreqs <= 6);
	seen_clear(&s);
	fake_clear(&fx->fake);

	/* A published version: GetFunction with its qualifier. */
	s.fx = fx;
	reply(&fx->fake, (struct fake_reply){200, {NULL}, FN_STATUS("Pending", "Successful", "")});
	reply(&fx->fake, (struct fake_reply){200, {NULL}, FN_STATUS("Active", "Successful", "")});
	assert_int_equal(
	    lambda_client_wait_version_active(fx->c, "f", "3", NULL, on_function, &s, NULL, &err),
	    0);
	run_until(fx, &s.calls, 1, 5);
	assert_true(s.ok);
	assert_string_equal(fx->fake.reqs[0].url, ENDPOINT "/2015-03-31/functions/f?Qualifier=3");
	assert_string_equal(fx->fake.reqs[1].url, ENDPOINT "/2015-03-31/functions/f?Qualifier=3");
	seen_clear(&s);
	fake_clear(&fx->fake);

	/* An error response ends the wait with that error. */
	s.fx = fx;
	reply(&fx->fake, (struct fake_reply){404, {"x-amzn-ErrorType: ResourceNotFoundException"},
	                     "{\"Message\":\"Function not found\"}"});
	assert_int_equal(
	    lambda_client_wait_active(fx->c, "nope", NULL, on_function, &s, NULL, &err), 0);
	run_until(fx, &s.calls, 1, 5);
	assert_int_equal(s.err.code, ERR_NOTFOUND);
	assert_int_equal(fx->fake.nreqs, 1);
	seen_clear(&s);
	fake_clear(&fx->fake);

	assert_int_equal(
	    lambda_client_wait_version_active(fx->c, "f", NULL, NULL, on_function, &s, NULL, &err),
	    ERR_INVALID);
	wo.max_seconds = -1;
	assert_int_equal(
	    lambda_client_wait_active(fx->c, "f", &wo, on_function, &s, NULL, &err), ERR_INVALID);
	assert_int_equal(lambda_client_active(fx->c), 0);
}

static void
test_lambda_client__failures(void **state)
{
	struct fx *fx = *state;
	struct credentials_opts co = CREDENTIALS_OPTS_INIT;
	struct credentials *old = fx->creds;
	struct seen s = {0};
	struct err err = ERR_INIT;

	/* A 2xx that does not decode: ERR_FAIL with the response's identity. */
	reply(&fx->fake, (struct fake_reply){200, {"x-amzn-RequestId: rid-bad"}, "<html>"});
	assert_int_equal(lambda_client_get_alias(fx->c, "f", "a", on_alias, &s, NULL, &err), 0);
	run_until(fx, &s.calls, 1, 5);
	assert_int_equal(s.err.code, ERR_FAIL);
	assert_int_equal(s.err.http_status, 200);
	assert_string_equal(s.err.request_id, "rid-bad");
	assert_non_null(strstr(s.err.message, "malformed Lambda response"));
	seen_clear(&s);
	fake_clear(&fx->fake);

	/* Bad arguments: refused at once, nothing started. */
	err_clear(&err);
	assert_int_equal(
	    lambda_client_get_function(fx->c, "", NULL, on_function, &s, NULL, &err), ERR_INVALID);
	assert_int_equal(err.code, ERR_INVALID);
	assert_int_equal(
	    lambda_client_untag_resource(fx->c, "arn", NULL, 0, on_done, &s, NULL, &err),
	    ERR_INVALID);
	assert_int_equal(lambda_client_active(fx->c), 0);
	run_for(fx, 0.05);
	assert_int_equal(s.calls, 0);

	/* Client options are checked. */
	{
		struct lambda_client_opts o = LAMBDA_CLIENT_OPTS_INIT;
		struct lambda_client *bad = NULL;

		o.loop = fx->loop;
		o.credentials = fx->creds;
		o.transport = &fx->transport;
		o.region = "us-east-1";
		o.endpoint = "ftp://x";
		assert_int_equal(lambda_client_new(&bad, &o, &err), ERR_INVALID);
		assert_null(bad);
		o.endpoint = ENDPOINT;
		o.region = NULL;
		assert_int_equal(lambda_client_new(&bad, &o, &err), ERR_INVALID);
		o.region = "us-east-1";
		o.api_rps = -1;
		assert_int_equal(lambda_client_new(&bad, &o, &err), ERR_INVALID);
		o.api_rps = 0;
		o.transport = NULL;
		assert_int_equal(lambda_client_new(&bad, &o, &err), ERR_INVALID);
	}

	/* No credentials anywhere: ERR_AUTH, and nothing is sent. */
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	lambda_client_free(fx->c);
	assert_int_equal(credentials_new(&fx->creds, fx->loop, fx->http, &co, &err), 0);
	fx_client(fx, 0);
	assert_int_equal(lambda_client_get_alias(fx->c, "f", "a", on_alias, &s, NULL, &err), 0);
	run_until(fx, &s.calls, 1, 10);
	assert_int_equal(s.err.code, ERR_AUTH);
	assert_int_equal(fx->fake.nreqs, 0);
	seen_clear(&s);
	credentials_free(old);
	set_env(NULL);
}

static void
test_lambda_client__cancel(void **state)
{
	struct fx *fx = *state;
	struct lambda_wait_opts wo = LAMBDA_WAIT_OPTS_INIT;
	struct seen s[12];
	struct lambda_call *call = NULL, *inflight = NULL;

	(void)inflight;
	struct err err = ERR_INIT;
	int i;

	memset(s, 0, sizeof(s));
	/* 1. Queued for its token. */
	assert_int_equal(lambda_client_get_alias(fx->c, "f", "a", on_alias, &s[0], &call, &err), 0);
	lambda_call_cancel(call);
	assert_int_equal(lambda_client_active(fx->c), 0);
	/* 2. Queued without a bucket (Invoke). */
	{
		struct lambda_invoke in = LAMBDA_INVOKE_INIT;

		assert_int_equal(
		    lambda_client_invoke(fx->c, "f", &in, on_invoke, &s[1], &call, &err), 0);
		lambda_call_cancel(call);
	}
	run_for(fx, 0.1);
	assert_int_equal(fx->fake.nreqs, 0);

	/* 3. In flight: the transport request is abandoned. */
	reply(&fx->fake, (struct fake_reply){200, {NULL}, "{}", 0, 0.3});
	assert_int_equal(
	    lambda_client_get_function(fx->c, "f", NULL, on_function, &s[2], &call, &err), 0);
	while (fx->fake.nreqs < 1)
		ev_run(fx->loop, EVRUN_ONCE);
	lambda_call_cancel(call);
	assert_int_equal(fx->fake.canceled, 1);
	fake_clear(&fx->fake);

	/* 4. Backing off before a retry. */
	reply(&fx->fake, (struct fake_reply){503, {NULL}, NULL});
	assert_int_equal(
	    lambda_client_get_function(fx->c, "f", NULL, on_function, &s[3], &call, &err), 0);
	while (fx->fake.next < 1 || fx->fake.pend[0].active)
		ev_run(fx->loop, EVRUN_ONCE);
	lambda_call_cancel(call);
	fake_clear(&fx->fake);

	/* 5. A waiter between polls. */
	wo.initial_delay = 0.5;
	reply(&fx->fake, (struct fake_reply){200, {NULL}, FN_STATUS("Pending", "InProgress", "")});
	assert_int_equal(
	    lambda_client_wait_active(fx->c, "f", &wo, on_function, &s[4], &call, &err), 0);
	while (fx->fake.next < 1 || fx->fake.pend[0].active)
		ev_run(fx->loop, EVRUN_ONCE);
	lambda_call_cancel(call);
	run_for(fx, 0.6);
	assert_int_equal(fx->fake.nreqs, 1);
	fake_clear(&fx->fake);
	for (i = 0; i < 5; i++)
		assert_int_equal(s[i].calls, 0);
	assert_int_equal(lambda_client_active(fx->c), 0);

	/* 6. A callback that cancels its own handle (a no-op) and frees the client while other
	 * calls are queued and in flight: none of those is called back, nothing leaks. */
	reply(&fx->fake, (struct fake_reply){200, {NULL}, get_function_body, 0, 0.15,
	                     ENDPOINT "/2015-03-31/functions/f"});
	for (i = 0; i < 6; i++)
		reply(&fx->fake, (struct fake_reply){200, {NULL}, "{}", 0, 5.0});
	s[5].fx = fx;
	s[5].free_client = true;
	assert_int_equal(
	    lambda_client_get_function(fx->c, "f", NULL, on_function, &s[5], &s[5].self, &err), 0);
	assert_int_equal(
	    lambda_client_get_function(fx->c, "g", NULL, on_function, &s[6], &inflight, &err), 0);
	for (i = 7; i < 12; i++)
		assert_int_equal(
		    lambda_client_list_aliases(fx->c, "f", NULL, on_alias_page, &s[i], NULL, &err),
		    0);
	assert_int_equal(lambda_client_active(fx->c), 7);
	run_until(fx, &s[5].calls, 1, 5);
	assert_null(fx->c);
	assert_true(s[5].ok);
	/* "g" and at least the first ListAliases were in flight; every one was abandoned. */
	assert_true(fx->fake.nreqs >= 3);
	assert_int_equal(fx->fake.canceled, fx->fake.nreqs - 1);
	run_for(fx, 0.2);
	for (i = 6; i < 12; i++)
		assert_int_equal(s[i].calls, 0);
	seen_clear(&s[5]);
	fake_clear(&fx->fake);

	/* 7. lambda_client_free with calls in every state. */
	fx_client(fx, 0);
	for (i = 0; i < 6; i++)
		reply(&fx->fake, (struct fake_reply){200, {NULL}, "{}", 0, 5.0});
	assert_int_equal(
	    lambda_client_get_function(fx->c, "f", NULL, on_function, &s[0], NULL, &err), 0);
	assert_int_equal(
	    lambda_client_list_functions_all(fx->c, false, on_function_page, &s[1], NULL, &err), 0);
	assert_int_equal(
	    lambda_client_wait_updated(fx->c, "f", NULL, on_function, &s[2], NULL, &err), 0);
	assert_int_equal(lambda_client_get_alias(fx->c, "f", "a", on_alias, &s[3], NULL, &err), 0);
	while (fx->fake.nreqs < 2)
		ev_run(fx->loop, EVRUN_ONCE);
	lambda_client_free(fx->c);
	fx->c = NULL;
	assert_int_equal(fx->fake.canceled, fx->fake.nreqs);
	run_for(fx, 0.2);
	for (i = 0; i < 4; i++)
		assert_int_equal(s[i].calls, 0);
	fake_clear(&fx->fake);
	fx_client(fx, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_lambda_client__signed_requests, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lambda_client__session_token, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lambda_client__endpoint_prefix, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lambda_client__retries, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lambda_client__no_retry, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lambda_client__throttle, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lambda_client__api_rps, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lambda_client__invoke, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lambda_client__pagination, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lambda_client__waiters, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lambda_client__failures, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lambda_client__cancel, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
