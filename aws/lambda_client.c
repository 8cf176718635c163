#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws/endpoint.h"
#include "aws/lambda_client.h"
#include "aws/lambda_decode.h"
#include "aws/retry.h"
#include "common/crypto.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/xmalloc.h"

#define WAIT_MAX_SECONDS_DEFAULT 300.0
#define WAIT_INITIAL_DELAY_DEFAULT 0.1
#define WAIT_MAX_DELAY_DEFAULT 1.0

/*
 * A call lives from its starting function to its callback. The states say what it waits
 * for; call_set_state() is the only writer. Transitions are not logged: the one line per
 * HTTP request already tells the story, and a line per transition would triple it.
 */
enum call_state {
	CALL_QUEUED,      /* created; a zero timer starts it from the loop */
	CALL_RATELIMIT,   /* queued for a token of its bucket */
	CALL_CREDENTIALS, /* waiting for credentials */
	CALL_SENDING,     /* the HTTP request is in flight */
	CALL_BACKOFF,     /* waiting before a retry */
	CALL_POLLING,     /* a waiter, waiting before its next poll */
	CALL_DELIVERING,  /* its callback is running */
};

static const char *const call_state_names[] = {
    [CALL_QUEUED] = "queued",
    [CALL_RATELIMIT] = "ratelimit",
    [CALL_CREDENTIALS] = "credentials",
    [CALL_SENDING] = "sending",
    [CALL_BACKOFF] = "backoff",
    [CALL_POLLING] = "polling",
    [CALL_DELIVERING] = "delivering",
};

/* What a successful response decodes to, and which callback receives it. */
enum call_kind {
	KIND_DONE,
	KIND_FUNCTION,
	KIND_GET_FUNCTION,
	KIND_FUNCTION_PAGE,
	KIND_ALIAS,
	KIND_ALIAS_PAGE,
	KIND_LAYER_VERSION,
	KIND_LAYER_VERSION_PAGE,
	KIND_INVOKE,
	KIND_TAGS,
	KIND_ESM_PAGE,
	KIND_PC_PAGE,
};

enum wait_kind {
	WAIT_NONE,
	WAIT_ACTIVE,
	WAIT_UPDATED,
	WAIT_VERSION_ACTIVE,
};

struct lambda_client {
	struct ev_loop *loop;
	struct credentials *credentials;
	struct ratelimit_bucket *getfunction_bucket; /* NULL without a ratelimit */
	struct ratelimit_bucket *shared_bucket;
	struct url endpoint; /* endpoint_url_parse(): its path prefixes every request */
	char *region;
	char *account;
	char *user_agent;
	long timeout_ms;
	int max_attempts;
	struct lambda_transport transport;
	lambda_observe_cb observe;
	void *observe_arg;
	struct retry_quota quota;
	struct lambda_call *calls; /* in flight, doubly linked */
	size_t ncalls;
};

union call_cb {
	lambda_done_cb done;
	lambda_function_cb function;
	lambda_function_page_cb function_page;
	lambda_alias_cb alias;
	lambda_alias_page_cb alias_page;
	lambda_layer_version_cb layer_version;
	lambda_layer_version_page_cb layer_version_page;
	lambda_invoke_cb invoke;
	lambda_tags_cb tags;
	lambda_esm_page_cb esm_page;
	lambda_pc_page_cb pc_page;
};

struct lambda_call {
	struct lambda_client *client; /* not to be used once the call is delivering */
	struct ev_loop *loop;         /* outlives the client */
	struct lambda_call *prev, *next;
	enum call_state state;
	enum call_kind kind;
	const char *page_key; /* "Functions" or "Versions" */
	struct lambda_request req;
	struct ratelimit_bucket *bucket; /* NULL: not rate limited */
	struct ratelimit_wait *rwait;
	struct credentials_wait *cwait;
	void *http;
	ev_timer timer; /* start, retry backoff, waiter delay */
	int attempt;    /* of the current request, from 1 */
	int retry_cost; /* quota taken for the retry in flight; 0 on a first attempt */
	uint64_t sent_ms;
	char request_id[ERR_REQUEST_ID_MAX]; /* of the last response */
	union call_cb cb;
	void *arg;

	/* list_*_all: the items gathered so far. */
	bool all;
	size_t pages;
	/* SHA-256 of every marker sent so far: a NextMarker among them is a cycle. */
	unsigned char (*markers)[CRYPTO_SHA256_LEN];
	size_t nmarkers;
	union {
		struct lambda_function_page functions;
		struct lambda_alias_page aliases;
		struct lambda_esm_page esms;
		struct lambda_pc_page pcs;
	} acc;

	/* Waiters. */
	enum wait_kind wait;
	double delay;
	double max_delay;
	double max_seconds;
	uint64_t deadline_ms;
};

static void on_grant(void *arg);

static void
call_set_state(struct lambda_call *call, enum call_state state)
{
	assert((size_t)state < nitems(call_state_names));
	call->state = state;
}

static int
transport_http_start(void *ctx, const struct http_request_opts *req, http_done_cb cb, void *cb_arg,
    void **handle, struct err *err)
{
	struct http_request *hr = NULL;
	int rc;

	rc = http_request_start(ctx, req, cb, cb_arg, &hr, err);
	*handle = hr;
	return rc;
}

static void
transport_http_cancel(void *ctx, void *handle)
{
	(void)ctx;
	http_request_cancel(handle);
}

int
lambda_client_new(
    struct lambda_client **out, const struct lambda_client_opts *opts, struct err *err)
{
	struct lambda_client *c;
	struct ratelimit_bucket *shared;
	double ceiling;

	*out = NULL;
	if (opts->loop == NULL || opts->credentials == NULL)
		return err_set(err, ERR_INVALID, "lambda client needs a loop and credentials");
	if (opts->http == NULL && opts->transport == NULL)
		return err_set(err, ERR_INVALID, "lambda client needs an http engine");
	if (opts->region == NULL || opts->region[0] == '\0')
		return err_set(err, ERR_INVALID, "lambda client needs a region");
	if (opts->api_rps < 0.0 || opts->timeout_ms < 0 || opts->max_attempts < 0)
		return err_set(
		    err, ERR_INVALID, "lambda client: negative api_rps, timeout or attempts");
	c = xcalloc(1, sizeof(*c));
	if (endpoint_url_parse(&c->endpoint, opts->endpoint, err) != 0) {
		free(c);
		return ERR_INVALID;
	}
	c->loop = opts->loop;
	c->credentials = opts->credentials;
	c->region = xstrdup(opts->region);
	c->account = xstrdup(opts->account != NULL ? opts->account : "default");
	c->user_agent =
	    xstrdup(opts->user_agent != NULL ? opts->user_agent : "tether/" TETHER_VERSION);
	c->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : LAMBDA_TIMEOUT_MS_DEFAULT;
	c->max_attempts = opts->max_attempts > 0 ? opts->max_attempts : RETRY_MAX_ATTEMPTS;
	if (opts->transport != NULL) {
		c->transport = *opts->transport;
	} else {
		c->transport.start = transport_http_start;
		c->transport.cancel = transport_http_cancel;
		c->transport.ctx = opts->http;
	}
	c->observe = opts->observe;
	c->observe_arg = opts->observe_arg;
	c->quota.available = RETRY_QUOTA_INITIAL;
	if (opts->ratelimit != NULL) {
		c->getfunction_bucket = ratelimit_bucket(opts->ratelimit, c->account, c->region,
		    RATELIMIT_GETFUNCTION, RATELIMIT_GETFUNCTION_RPS);
		ceiling = RATELIMIT_SHARED_RPS;
		if (opts->api_rps > 0.0 && opts->api_rps < ceiling)
			ceiling = opts->api_rps;
		shared = ratelimit_bucket(
		    opts->ratelimit, c->account, c->region, RATELIMIT_SHARED, ceiling);
		/* The bucket may predate this client: apply the operator's cap to it too. */
		if (opts->api_rps > 0.0)
			ratelimit_set_ceiling(shared, ceiling);
		c->shared_bucket = shared;
	}
	*out = c;
	return 0;
}

static void
call_link(struct lambda_client *c, struct lambda_call *call)
{
	call->prev = NULL;
	call->next = c->calls;
	if (c->calls != NULL)
		c->calls->prev = call;
	c->calls = call;
	c->ncalls++;
}

static void
call_unlink(struct lambda_call *call)
{
	struct lambda_client *c = call->client;

	if (call->prev != NULL)
		call->prev->next = call->next;
	else
		c->calls = call->next;
	if (call->next != NULL)
		call->next->prev = call->prev;
	call->prev = call->next = NULL;
	c->ncalls--;
}

static void
acc_clear(struct lambda_call *call)
{
	switch (call->kind) {
	case KIND_FUNCTION_PAGE:
		lambda_function_page_clear(&call->acc.functions);
		break;
	case KIND_ALIAS_PAGE:
		lambda_alias_page_clear(&call->acc.aliases);
		break;
	case KIND_ESM_PAGE:
		lambda_esm_page_clear(&call->acc.esms);
		break;
	case KIND_PC_PAGE:
		lambda_pc_page_clear(&call->acc.pcs);
		break;
	default:
		break;
	}
}

/* Release a call that is unlinked and has nothing pending. Never touches the client. */
static void
call_free(struct lambda_call *call)
{
	ev_timer_stop(call->loop, &call->timer);
	lambda_request_clear(&call->req);
	acc_clear(call);
	free(call->markers);
	free(call);
}

static void
on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct lambda_call *call = container_of(w, struct lambda_call, timer);

	(void)loop;
	(void)revents;
	if (call->bucket != NULL) {
		call_set_state(call, CALL_RATELIMIT);
		call->rwait = ratelimit_acquire(call->bucket, on_grant, call);
		return;
	}
	on_grant(call);
}

static struct lambda_call *
call_new(struct lambda_client *c, enum call_kind kind, void *arg)
{
	struct lambda_call *call;

	call = xcalloc(1, sizeof(*call));
	call->client = c;
	call->loop = c->loop;
	call->kind = kind;
	call->arg = arg;
	call->attempt = 1;
	lambda_request_init(&call->req);
	ev_timer_init(&call->timer, on_timer, 0., 0.);
	return call;
}

/* Start a call whose request is built: charge it, or queue it to start from the loop. */
static int
call_start(struct lambda_call *call, struct lambda_call **out)
{
	struct lambda_client *c = call->client;
	const char *bucket = lambda_op_bucket(call->req.op);

	if (bucket != NULL && strcmp(bucket, RATELIMIT_GETFUNCTION) == 0)
		call->bucket = c->getfunction_bucket;
	else if (bucket != NULL)
		call->bucket = c->shared_bucket;
	call_link(c, call);
	if (call->bucket != NULL) {
		/* Grants come from the loop, so the callback cannot run before we return. */
		call_set_state(call, CALL_RATELIMIT);
		call->rwait = ratelimit_acquire(call->bucket, on_grant, call);
	} else {
		call_set_state(call, CALL_QUEUED);
		ev_timer_set(&call->timer, 0., 0.);
		ev_timer_start(c->loop, &call->timer);
	}
	if (out != NULL)
		*out = call;
	return 0;
}

/* Send the next request of a call (a page, a poll, a retry) from the loop. */
static void
call_again(struct lambda_call *call, double delay, enum call_state state)
{
	call_set_state(call, state);
	ev_timer_set(&call->timer, delay, 0.);
	ev_timer_start(call->loop, &call->timer);
}

/*
 * Hand the result to the callback and release the call. The call leaves the client's list
 * first, so the callback may free the client, cancel other calls or start new ones.
 */
static void
deliver(struct lambda_call *call, const void *result, const struct err *err)
{
	call_unlink(call);
	call->client = NULL;
	call_set_state(call, CALL_DELIVERING);
	switch (call->kind) {
	case KIND_DONE:
		call->cb.done(err, call->arg);
		break;
	case KIND_FUNCTION:
	case KIND_GET_FUNCTION:
		call->cb.function(result, err, call->arg);
		break;
	case KIND_FUNCTION_PAGE:
		call->cb.function_page(result, err, call->arg);
		break;
	case KIND_ALIAS:
		call->cb.alias(result, err, call->arg);
		break;
	case KIND_ALIAS_PAGE:
		call->cb.alias_page(result, err, call->arg);
		break;
	case KIND_LAYER_VERSION:
		call->cb.layer_version(result, err, call->arg);
		break;
	case KIND_LAYER_VERSION_PAGE:
		call->cb.layer_version_page(result, err, call->arg);
		break;
	case KIND_INVOKE:
		call->cb.invoke(result, err, call->arg);
		break;
	case KIND_TAGS:
		call->cb.tags(result, err, call->arg);
		break;
	case KIND_ESM_PAGE:
		call->cb.esm_page(result, err, call->arg);
		break;
	case KIND_PC_PAGE:
		call->cb.pc_page(result, err, call->arg);
		break;
	}
	call_free(call);
}

/* Retry-After in seconds (the HTTP-date form is not used by AWS); 0 when absent or bad. */
static double
parse_retry_after(const char *v)
{
	char *end;
	double d;

	if (v == NULL)
		return 0.0;
	d = strtod(v, &end);
	if (end == v || !isfinite(d) || d < 0.0)
		return 0.0;
	return d > RETRY_MAX_BACKOFF ? RETRY_MAX_BACKOFF : d;
}

static double
rand01(void)
{
	uint64_t r;

	crypto_random(&r, sizeof(r));
	return (double)(r >> 11) * (1.0 / 9007199254740992.0);
}

static void send_request(struct lambda_call *call, const struct aws_credentials *creds);

static void
on_credentials(const struct aws_credentials *creds, const struct err *err, void *arg)
{
	struct lambda_call *call = arg;
	struct err e = ERR_INIT;

	call->cwait = NULL;
	if (creds == NULL) {
		if (err != NULL)
			err_copy(&e, err);
		if (e.code == 0)
			err_set(&e, ERR_AUTH, "no AWS credentials");
		deliver(call, NULL, &e);
		return;
	}
	send_request(call, creds);
}

static void
on_grant(void *arg)
{
	struct lambda_call *call = arg;
	const struct aws_credentials *creds;

	call->rwait = NULL;
	creds = credentials_peek(call->client->credentials);
	if (creds != NULL) {
		send_request(call, creds);
		return;
	}
	call_set_state(call, CALL_CREDENTIALS);
	call->cwait = credentials_get(call->client->credentials, on_credentials, call);
}

static void on_http_done(const struct http_response *resp, const struct err *terr, void *arg);

static void
send_request(struct lambda_call *call, const struct aws_credentials *creds)
{
	struct lambda_client *c = call->client;
	struct http_request_opts ho = HTTP_REQUEST_OPTS_INIT;
	struct lambda_signed s;
	struct err e = ERR_INIT;
	int rc;

	/* A fresh X-Amz-Date for every attempt: a retry may come seconds later. */
	rc = lambda_request_sign(
	    &call->req, &c->endpoint, c->region, creds, time(NULL), c->user_agent, &s, &e);
	if (rc != 0) {
		deliver(call, NULL, &e);
		return;
	}
	ho.method = call->req.method;
	ho.url = s.url;
	ho.headers = (const char *const *)s.headers;
	ho.nheaders = s.nheaders;
	if (call->req.has_body) {
		ho.body = call->req.body.data != NULL ? call->req.body.data : "";
		ho.body_len = call->req.body.len;
	}
	ho.timeout_ms = call->req.timeout_ms > 0 ? call->req.timeout_ms : c->timeout_ms;
	ho.max_response = LAMBDA_RESPONSE_MAX;
	call_set_state(call, CALL_SENDING);
	call->sent_ms = timeutil_mono_ms();
	rc = c->transport.start(c->transport.ctx, &ho, on_http_done, call, &call->http, &e);
	lambda_signed_clear(&s);
	if (rc != 0) {
		call->http = NULL;
		if (e.code == 0)
			err_set(&e, ERR_FAIL, "request could not be started");
		deliver(call, NULL, &e);
	}
}

/* Record the response's identity in a decode error. */
static void
decode_failed(struct lambda_call *call, const struct http_response *resp, struct err *e)
{
	const char *rid = http_response_header(resp, "x-amzn-requestid");

	e->http_status = resp->status;
	if (rid != NULL)
		err_set_request_id(e, rid);
	deliver(call, NULL, e);
}

static void wait_check(struct lambda_call *call, const struct lambda_function *fn);

/* Move a page's items into the accumulator; the page keeps only its marker. */
#define ACC_APPEND(acc, page)                                                                     \
	do {                                                                                      \
		if ((page).n > 0) {                                                               \
			(acc).items =                                                             \
			    xreallocarray((acc).items, (acc).n + (page).n, sizeof(*(acc).items)); \
			memcpy((acc).items + (acc).n, (page).items,                               \
			    (page).n * sizeof(*(page).items));                                    \
			(acc).n += (page).n;                                                      \
			free((page).items);                                                       \
			(page).items = NULL;                                                      \
			(page).n = 0;                                                             \
		}                                                                                 \
	} while (0)

/*
 * A page arrived for a list_*_all call, its items already moved to the accumulator: fetch
 * the next page, or deliver. Returns true when the call was delivered.
 */
static bool
page_next(
    struct lambda_call *call, size_t total, const char *next, const struct http_response *resp)
{
	struct err e = ERR_INIT;
	unsigned char digest[CRYPTO_SHA256_LEN];
	size_t i;

	call->pages++;
	if (next == NULL)
		return false;
	if (total > LAMBDA_LIST_ALL_MAX || call->pages >= LAMBDA_LIST_PAGES_MAX) {
		err_set(&e, ERR_TOOBIG, "%s: more than %d items or %d pages",
		    lambda_op_name(call->req.op), LAMBDA_LIST_ALL_MAX, LAMBDA_LIST_PAGES_MAX);
		decode_failed(call, resp, &e);
		return true;
	}
	/* Any marker sent before, not only the last one: a cycle would run to the page cap. */
	crypto_sha256(next, strlen(next), digest);
	for (i = 0; i < call->nmarkers; i++) {
		if (memcmp(call->markers[i], digest, sizeof(digest)) == 0) {
			err_set(&e, ERR_FAIL, "%s: NextMarker repeats a marker already sent",
			    lambda_op_name(call->req.op));
			decode_failed(call, resp, &e);
			return true;
		}
	}
	if (lambda_request_set_marker(&call->req, next, &e) != 0) {
		decode_failed(call, resp, &e);
		return true;
	}
	call->markers = xreallocarray(call->markers, call->nmarkers + 1, sizeof(*call->markers));
	memcpy(call->markers[call->nmarkers++], digest, sizeof(digest));
	call->attempt = 1;
	call->retry_cost = 0;
	/* Through the loop, then the bucket: each page is charged like any request. */
	call_again(call, 0., CALL_QUEUED);
	return true;
}

static void
complete_invoke(struct lambda_call *call, const struct http_response *resp)
{
	struct lambda_invoke_result res;
	const char *v;
	unsigned char *log = NULL;
	size_t loglen = 0;

	memset(&res, 0, sizeof(res));
	res.status = resp->status;
	v = http_response_header(resp, "x-amz-executed-version");
	res.executed_version = v != NULL ? xstrdup(v) : NULL;
	v = http_response_header(resp, "x-amz-function-error");
	res.function_error = v != NULL ? xstrdup(v) : NULL;
	v = http_response_header(resp, "x-amz-log-result");
	if (v != NULL && crypto_base64_decode(v, strlen(v), &log, &loglen) == 0) {
		res.log_result = xmalloc(loglen + 1);
		memcpy(res.log_result, log, loglen);
		res.log_result[loglen] = '\0';
		free(log);
	}
	res.payload_len = resp->body.len;
	res.payload = xmalloc(res.payload_len + 1);
	if (res.payload_len > 0)
		memcpy(res.payload, resp->body.data, res.payload_len);
	res.payload[res.payload_len] = '\0';
	deliver(call, &res, NULL);
	lambda_invoke_result_clear(&res);
}

/* A 2xx arrived: decode it and deliver, or go on (next page, next poll). */
static void
complete(struct lambda_call *call, const struct http_response *resp)
{
	const char *body = resp->body.data != NULL ? resp->body.data : "";
	size_t len = resp->body.len;
	struct err e = ERR_INIT;

	switch (call->kind) {
	case KIND_DONE:
		deliver(call, NULL, NULL);
		return;
	case KIND_INVOKE:
		complete_invoke(call, resp);
		return;
	case KIND_FUNCTION:
	case KIND_GET_FUNCTION: {
		struct lambda_function fn;
		int rc = call->kind == KIND_FUNCTION
		             ? lambda_decode_function(body, len, &fn, &e)
		             : lambda_decode_get_function(body, len, &fn, &e);

		if (rc != 0) {
			decode_failed(call, resp, &e);
			return;
		}
		if (call->wait != WAIT_NONE)
			wait_check(call, &fn);
		else
			deliver(call, &fn, NULL);
		lambda_function_clear(&fn);
		return;
	}
	case KIND_FUNCTION_PAGE: {
		struct lambda_function_page page;

		if (lambda_decode_function_page(body, len, call->page_key, &page, &e) != 0) {
			decode_failed(call, resp, &e);
			return;
		}
		if (!call->all) {
			deliver(call, &page, NULL);
		} else {
			ACC_APPEND(call->acc.functions, page);
			if (!page_next(call, call->acc.functions.n, page.next_marker, resp))
				deliver(call, &call->acc.functions, NULL);
		}
		lambda_function_page_clear(&page);
		return;
	}
	case KIND_ALIAS: {
		struct lambda_alias a;

		if (lambda_decode_alias(body, len, &a, &e) != 0) {
			decode_failed(call, resp, &e);
			return;
		}
		deliver(call, &a, NULL);
		lambda_alias_clear(&a);
		return;
	}
	case KIND_ALIAS_PAGE: {
		struct lambda_alias_page page;

		if (lambda_decode_alias_page(body, len, &page, &e) != 0) {
			decode_failed(call, resp, &e);
			return;
		}
		if (!call->all) {
			deliver(call, &page, NULL);
		} else {
			ACC_APPEND(call->acc.aliases, page);
			if (!page_next(call, call->acc.aliases.n, page.next_marker, resp))
				deliver(call, &call->acc.aliases, NULL);
		}
		lambda_alias_page_clear(&page);
		return;
	}
	case KIND_LAYER_VERSION: {
		struct lambda_layer_version lv;

		if (lambda_decode_layer_version(body, len, &lv, &e) != 0) {
			decode_failed(call, resp, &e);
			return;
		}
		deliver(call, &lv, NULL);
		lambda_layer_version_clear(&lv);
		return;
	}
	case KIND_LAYER_VERSION_PAGE: {
		struct lambda_layer_version_page page;

		if (lambda_decode_layer_version_page(body, len, &page, &e) != 0) {
			decode_failed(call, resp, &e);
			return;
		}
		deliver(call, &page, NULL);
		lambda_layer_version_page_clear(&page);
		return;
	}
	case KIND_TAGS: {
		struct lambda_tags tags;

		if (lambda_decode_tags(body, len, &tags, &e) != 0) {
			decode_failed(call, resp, &e);
			return;
		}
		deliver(call, &tags, NULL);
		lambda_tags_clear(&tags);
		return;
	}
	case KIND_ESM_PAGE: {
		struct lambda_esm_page page;

		if (lambda_decode_esm_page(body, len, &page, &e) != 0) {
			decode_failed(call, resp, &e);
			return;
		}
		if (!call->all) {
			deliver(call, &page, NULL);
		} else {
			ACC_APPEND(call->acc.esms, page);
			if (!page_next(call, call->acc.esms.n, page.next_marker, resp))
				deliver(call, &call->acc.esms, NULL);
		}
		lambda_esm_page_clear(&page);
		return;
	}
	case KIND_PC_PAGE: {
		struct lambda_pc_page page;

		if (lambda_decode_pc_page(body, len, &page, &e) != 0) {
			decode_failed(call, resp, &e);
			return;
		}
		if (!call->all) {
			deliver(call, &page, NULL);
		} else {
			ACC_APPEND(call->acc.pcs, page);
			if (!page_next(call, call->acc.pcs.n, page.next_marker, resp))
				deliver(call, &call->acc.pcs, NULL);
		}
		lambda_pc_page_clear(&page);
		return;
	}
	}
}

static void
on_http_done(const struct http_response *resp, const struct err *terr, void *arg)
{
	struct lambda_call *call = arg;
	struct lambda_client *c = call->client;
	struct err e = ERR_INIT;
	enum retry_class cls = RETRY_NONE;
	const char *rid = NULL;
	double retry_after = 0.0, delay;
	long status = 0;
	bool timeout = false;
	uint64_t ms;
	int cost;

	call->http = NULL;
	if (resp != NULL && terr == NULL) {
		status = resp->status;
		rid = http_response_header(resp, "x-amzn-requestid");
	}
	ms = timeutil_mono_ms() - call->sent_ms;
	/* Truncation is harmless: AWS request ids are 36 characters. */
	snprintf(call->request_id, sizeof(call->request_id), "%s", rid != NULL ? rid : "");
	log_debug("lambda", "%s %s status=%ld attempt=%d ms=%llu request_id=%s",
	    lambda_op_name(call->req.op), call->req.label, status, call->attempt,
	    (unsigned long long)ms, rid != NULL ? rid : "-");
	if (c->observe != NULL)
		c->observe(lambda_op_name(call->req.op), status, call->attempt, (double)ms,
		    c->observe_arg);

	if (terr != NULL || resp == NULL) {
		if (terr != NULL)
			err_copy(&e, terr);
		if (e.code == 0)
			err_set(&e, ERR_TRANSIENT, "no response");
		if (e.code != ERR_TOOBIG) {
			cls = retry_classify(0, NULL, true);
			/* A timed-out attempt costs more of the retry quota. */
			timeout = resp != NULL && resp->timed_out;
		}
	} else if (status >= 200 && status <= 299) {
		if (call->bucket != NULL)
			ratelimit_success(call->bucket);
		retry_quota_release(&c->quota, call->retry_cost);
		call->retry_cost = 0;
		complete(call, resp);
		return;
	} else {
		lambda_decode_error(status, http_response_header(resp, "x-amzn-errortype"), rid,
		    resp->body.data, resp->body.len, &e);
		cls = retry_classify(status, e.type, false);
		if (cls == RETRY_THROTTLE) {
			retry_after = parse_retry_after(http_response_header(resp, "retry-after"));
			if (call->bucket != NULL)
				ratelimit_throttled(call->bucket, retry_after);
		} else if (call->bucket != NULL) {
			ratelimit_success(call->bucket);
		}
	}

	if (cls != RETRY_NONE && call->attempt < c->max_attempts) {
		cost = retry_quota_acquire(&c->quota, timeout);
		if (cost >= 0) {
			call->retry_cost = cost;
			delay = retry_delay(call->attempt, rand01(), retry_after);
			call->attempt++;
			call_again(call, delay, CALL_BACKOFF);
			return;
		}
	}
	if (cls == RETRY_THROTTLE)
		e.code = ERR_THROTTLED;
	else if (cls == RETRY_TRANSIENT)
		e.code = ERR_TRANSIENT;
	deliver(call, NULL, &e);
}

static void
wait_check(struct lambda_call *call, const struct lambda_function *fn)
{
	const char *field, *value, *reason, *code;
	bool done, failed;
	struct err e = ERR_INIT;
	uint64_t now;

	if (call->wait == WAIT_UPDATED) {
		field = "LastUpdateStatus";
		value = fn->last_update_status_name;
		done = fn->last_update_status == LAMBDA_UPDATE_SUCCESSFUL;
		failed = fn->last_update_status == LAMBDA_UPDATE_FAILED;
		reason = fn->last_update_status_reason;
		code = fn->last_update_status_reason_code;
	} else {
		field = "State";
		value = fn->state_name;
		done = fn->state == LAMBDA_STATE_ACTIVE;
		failed = fn->state == LAMBDA_STATE_FAILED;
		reason = fn->state_reason;
		code = fn->state_reason_code;
	}
	if (done) {
		deliver(call, fn, NULL);
		return;
	}
	if (failed) {
		err_set(&e, ERR_FAIL, "%s%s%s: %s is Failed: %s%s%s", call->req.label,
		    call->wait == WAIT_VERSION_ACTIVE ? " version " : "",
		    call->wait == WAIT_VERSION_ACTIVE && fn->version != NULL ? fn->version : "",
		    field, code != NULL ? code : "", code != NULL ? ": " : "",
		    reason != NULL ? reason : "Lambda gave no reason");
		if (code != NULL)
			err_set_type(&e, code);
		deliver(call, NULL, &e);
		return;
	}
	now = timeutil_mono_ms();
	if (now + (uint64_t)(call->delay * 1000.0) > call->deadline_ms) {
		err_set(&e, ERR_TRANSIENT, "%s: %s is still %s after %.0f s", call->req.label,
		    field, value != NULL ? value : "absent", call->max_seconds);
		deliver(call, NULL, &e);
		return;
	}
	call->attempt = 1;
	call->retry_cost = 0;
	call_again(call, call->delay, CALL_POLLING);
	call->delay *= 2.0;
	if (call->delay > call->max_delay)
		call->delay = call->max_delay;
}

void
lambda_call_cancel(struct lambda_call *call)
{
	struct lambda_client *c;

	if (call == NULL || call->state == CALL_DELIVERING)
		return;
	c = call->client;
	log_debug("lambda", "%s %s: canceled while %s", lambda_op_name(call->req.op),
	    call->req.label, call_state_names[call->state]);
	if (call->rwait != NULL)
		ratelimit_cancel(call->rwait);
	if (call->cwait != NULL)
		credentials_cancel(call->cwait);
	if (call->http != NULL)
		c->transport.cancel(c->transport.ctx, call->http);
	call->rwait = NULL;
	call->cwait = NULL;
	call->http = NULL;
	call_unlink(call);
	call_free(call);
}

void
lambda_client_free(struct lambda_client *c)
{
	if (c == NULL)
		return;
	while (c->calls != NULL)
		lambda_call_cancel(c->calls);
	url_clear(&c->endpoint);
	free(c->region);
	free(c->account);
	free(c->user_agent);
	free(c);
}

const char *
lambda_call_request_id(const struct lambda_call *call)
{
	return call->request_id;
}

size_t
lambda_client_active(const struct lambda_client *c)
{
	return c->ncalls;
}

/* Start a call whose request builder returned rc, or release it when that failed. */
static int
launch(struct lambda_call *call, int rc, struct lambda_call **out)
{
	if (rc != 0) {
		call_free(call);
		return rc;
	}
	return call_start(call, out);
}

int
lambda_client_get_function(struct lambda_client *c, const char *function, const char *qualifier,
    lambda_function_cb cb, void *arg, struct lambda_call **out, struct err *err)
{
	struct lambda_call *call = call_new(c, KIND_GET_FUNCTION, arg);

	assert(cb != NULL);
	call->cb.function = cb;
	return launch(call, lambda_request_get_function(&call->req, function, qualifier, err), out);
}

int
lambda_client_get_function_configuration(struct lambda_client *c, const char *function,
    const char *qualifier, lambda_function_cb cb, void *arg, struct lambda_call **out,
    struct err *err)
{
	struct lambda_call *call = call_new(c, KIND_FUNCTION, arg);

	assert(cb != NULL);
	call->cb.function = cb;
	return launch(call,
	    lambda_request_get_function_configuration(&call->req, function, qualifier, err), out);
}

int
lambda_client_create_function(struct lambda_client *c, const struct lambda_create_function *in,
    lambda_function_cb cb, void *arg, struct lambda_call **out, struct err *err)
{
	struct lambda_call *call = call_new(c, KIND_FUNCTION, arg);

	assert(cb != NULL);
	call->cb.function = cb;
	return launch(call, lambda_request_create_function(&call->req, in, err), out);
}

int
lambda_client_update_function_code(struct lambda_client *c, const char *function,
    const struct lambda_update_code *in, lambda_function_cb cb, void *arg, struct lambda_call **out,
    struct err *err)
{
	struct lambda_call *call = call_new(c, KIND_FUNCTION, arg);

	assert(cb != NULL);
	call->cb.function = cb;
	return launch(
	    call, lambda_request_update_function_code(&call->req, function, in, err), out);
}

int
lambda_client_update_function_configuration(struct lambda_client *c, const char *function,
    const struct lambda_update_config *in, lambda_function_cb cb, void *arg,
    struct lambda_call **out, struct err *err)
{
	struct lambda_call *call = call_new(c, KIND_FUNCTION, arg);

	assert(cb != NULL);
	call->cb.function = cb;
	return launch(
	    call, lambda_request_update_function_configuration(&call->req, function, in, err), out);
}

int
lambda_client_publish_version(struct lambda_client *c, const char *function,
    const struct lambda_publish *in, lambda_function_cb cb, void *arg, struct lambda_call **out,
    struct err *err)
{
	struct lambda_call *call = call_new(c, KIND_FUNCTION, arg);

	assert(cb != NULL);
	call->cb.function = cb;
	return launch(call, lambda_request_publish_version(&call->req, function, in, err), out);
}

int
lambda_client_delete_function(struct lambda_client *c, const char *function, const char *qualifier,
    lambda_done_cb cb, void *arg, struct lambda_call **out, struct err *err)
{
	struct lambda_call *call = call_new(c, KIND_DONE, arg);

	assert(cb != NULL);
	call->cb.done = cb;
	return launch(
	    call, lambda_request_delete_function(&call->req, function, qualifier, err), out);
}

int
lambda_client_list_functions(struct lambda_client *c, const struct lambda_list *in,
    lambda_function_page_cb cb, void *arg, struct lambda_call **out, struct err *err)
{
	struct lambda_call *call = call_new(c, KIND_FUNCTION_PAGE, arg);

	assert(cb != NULL);
	call->cb.function_page = cb;
	call->page_key = "Functions";
	return launch(call, lambda_request_list_functions(&call->req, in, err), out);
}

int
lambda_client_list_versions(struct lambda_client *c, const char *function,
    const struct lambda_list *in, lambda_function_page_cb cb, void *arg, struct lambda_call **out,
    struct err *err)
{
	struct lambda_call *call = call_new(c, KIND_FUNCTION_PAGE, arg);

	assert(cb != NULL);
	call->cb.function_page = cb;
	call->page_key = "Versions";
	return launch(call, lambda_request_list_versions(&call->req, function, in, err), out);
}

int
lambda_client_create_alias(struct lambda_client *c, const char *function, const char *name,
    const struct lambda_alias_spec *in, lambda_alias_cb cb, void *arg, struct lambda_call **out,
    struct err *err)
{
	struct lambda_call *call = call_new(c, KIND_ALIAS, arg);

	assert(cb != NULL);
	call->cb.alias = cb;
	return launch(call, lambda_request_create_alias(&call->req, function, name, in, err), out);
}

int
lambda_client_get_alias(struct lambda_client *c, const char *function, const char *name,
    lambda_alias_cb cb, void *arg, struct lambda_call **out, struct err *err)
{
	struct lambda_call *call = call_new(c, KIND_ALIAS, arg);

	assert(cb != NULL);
	call->cb.alias = cb;
	return launch(call, lambda_request_get_alias(&call->req, function, name, err), out);
}

int
lambda_client_update_alias(struct lambda_client *c, const char *function, const char *name,
    const struct lambda_alias_spec *in, lambda_alias_cb cb, void *arg, struct lambda_call **out,
    struct err *err)
{
	struct lambda_call *call = call_new(c, KIND_ALIAS, arg);

	assert(cb != NULL);
	call->cb.alias = cb;
	return launch(call, lambda_request_update_alias(&call->req, function, name, in, err), out);
}

int
lambda_client_delete_alias(struct lambda_client *c, const char *function, const char *name,
    lambda_done_cb cb, void *arg, struct lambda_call **out, struct err *err)
{
	struct lambda_call *call = call_new(c, KIND_DONE, arg);

	assert(cb != NULL);
	call->cb.done = cb;
	return launch(call, lambda_request_delete_alias(&call->req, function, name, err), out);
}

int
lambda_client_list_aliases(struct lambda_client *c, const char *function,
    const struct lambda_list *in, lambda_alias_page_cb cb, void *arg, struct lambda_call **out,
    struct err *err)
{
	struct lambda_call *call = call_new(c, KIND_ALIAS_PAGE, arg);

	assert(cb != NULL);
	call->cb.alias_page = cb;
	return launch(call, lambda_request_list_aliases(&call->req, function, in, err), out);
}

int
lambda_client_get_layer_version(struct lambda_client *c, const char *layer, long long version,
    lambda_layer_version_cb cb, void *arg, struct lambda_call **out, struct err *err)
{
	struct lambda_call *call = call_new(c, KIND_LAYER_VERSION, arg);

	assert(cb != NULL);
	call->cb.layer_version = cb;
	return launch(call, lambda_request_get_layer_version(&call->req, layer, version, err), out);
}

int
lambda_client_get_layer_version_by_arn(struct lambda_client *c, const char *arn,
    lambda_layer_version_cb cb, void *arg, struct lambda_call **out, struct err *err)
{
	struct lambda_call *call = call_new(c, KIND_LAYER_VERSION, arg);

	assert(cb != NULL);
	call->cb.layer_version = cb;
	return launch(call, lambda_request_get_layer_version_by_arn(&call->req, arn, err), out);
}

int
lambda_client_list_layer_versions(struct lambda_client *c, const char *layer,
    const struct lambda_list *in, lambda_layer_version_page_cb cb, void *arg,
    struct lambda_call **out, struct err *err)
{
	struct lambda_call *call = call_new(c, KIND_LAYER_VERSION_PAGE, arg);

	assert(cb != NULL);
	call->cb.layer_version_page = cb;
	return launch(call, lambda_request_list_layer_versions(&call->req, layer, in, err), out);
}

int
lambda_client_invoke(struct lambda_client *c, const char *function, const struct lambda_invoke *in,
    lambda_invoke_cb cb, void *arg, struct lambda_call **out, struct err *err)
{
	struct lambda_call *call = call_new(c, KIND_INVOKE, arg);

	assert(cb != NULL);
	call->cb.invoke = cb;
	return launch(call, lambda_request_invoke(&call->req, function, in, err), out);
}

int
lambda_client_tag_resource(struct lambda_client *c, const char *arn, const struct lambda_pair *tags,
    size_t ntags, lambda_done_cb cb, void *arg, struct lambda_call **out, struct err *err)
{
	struct lambda_call *call = call_new(c, KIND_DONE, arg);

	assert(cb != NULL);
	call->cb.done = cb;
	return launch(call, lambda_request_tag_resource(&call->req, arn, tags, ntags, err), out);
}

int
lambda_client_untag_resource(struct lambda_client *c, const char *arn, const char *const *keys,
    size_t nkeys, lambda_done_cb cb, void *arg, struct lambda_call **out, struct err *err)
{
	struct lambda_call *call = call_new(c, KIND_DONE, arg);

	assert(cb != NULL);
	call->cb.done = cb;
	return launch(call, lambda_request_untag_resource(&call->req, arn, keys, nkeys, err), out);
}

int
lambda_client_list_tags(struct lambda_client *c, const char *arn, lambda_tags_cb cb, void *arg,
    struct lambda_call **out, struct err *err)
{
	struct lambda_call *call = call_new(c, KIND_TAGS, arg);

	assert(cb != NULL);
	call->cb.tags = cb;
	return launch(call, lambda_request_list_tags(&call->req, arn, err), out);
}

int
lambda_client_list_esm(struct lambda_client *c, const char *function, const struct lambda_list *in,
    lambda_esm_page_cb cb, void *arg, struct lambda_call **out, struct err *err)
{
	struct lambda_call *call = call_new(c, KIND_ESM_PAGE, arg);

	assert(cb != NULL);
	call->cb.esm_page = cb;
	return launch(
	    call, lambda_request_list_event_source_mappings(&call->req, function, in, err), out);
}

int
lambda_client_list_pc(struct lambda_client *c, const char *function, const struct lambda_list *in,
    lambda_pc_page_cb cb, void *arg, struct lambda_call **out, struct err *err)
{
	struct lambda_call *call = call_new(c, KIND_PC_PAGE, arg);

	assert(cb != NULL);
	call->cb.pc_page = cb;
	return launch(call,
	    lambda_request_list_provisioned_concurrency_configs(&call->req, function, in, err),
	    out);
}

int
lambda_client_list_functions_all(struct lambda_client *c, bool all_versions,
    lambda_function_page_cb cb, void *arg, struct lambda_call **out, struct err *err)
{
	struct lambda_list in = LAMBDA_LIST_INIT;
	struct lambda_call *call = call_new(c, KIND_FUNCTION_PAGE, arg);

	assert(cb != NULL);
	call->cb.function_page = cb;
	call->page_key = "Functions";
	call->all = true;
	in.all_versions = all_versions;
	return launch(call, lambda_request_list_functions(&call->req, &in, err), out);
}

int
lambda_client_list_versions_all(struct lambda_client *c, const char *function,
    lambda_function_page_cb cb, void *arg, struct lambda_call **out, struct err *err)
{
	struct lambda_call *call = call_new(c, KIND_FUNCTION_PAGE, arg);

	assert(cb != NULL);
	call->cb.function_page = cb;
	call->page_key = "Versions";
	call->all = true;
	return launch(call, lambda_request_list_versions(&call->req, function, NULL, err), out);
}

int
lambda_client_list_aliases_all(struct lambda_client *c, const char *function,
    const char *function_version, lambda_alias_page_cb cb, void *arg, struct lambda_call **out,
    struct err *err)
{
	struct lambda_list in = LAMBDA_LIST_INIT;
	struct lambda_call *call = call_new(c, KIND_ALIAS_PAGE, arg);

	assert(cb != NULL);
	call->cb.alias_page = cb;
	call->all = true;
	in.function_version = function_version;
	return launch(call, lambda_request_list_aliases(&call->req, function, &in, err), out);
}

int
lambda_client_list_esm_all(struct lambda_client *c, const char *function, lambda_esm_page_cb cb,
    void *arg, struct lambda_call **out, struct err *err)
{
	struct lambda_call *call = call_new(c, KIND_ESM_PAGE, arg);

	assert(cb != NULL);
	call->cb.esm_page = cb;
	call->all = true;
	return launch(
	    call, lambda_request_list_event_source_mappings(&call->req, function, NULL, err), out);
}

int
lambda_client_list_pc_all(struct lambda_client *c, const char *function, lambda_pc_page_cb cb,
    void *arg, struct lambda_call **out, struct err *err)
{
	struct lambda_call *call = call_new(c, KIND_PC_PAGE, arg);

	assert(cb != NULL);
	call->cb.pc_page = cb;
	call->all = true;
	return launch(call,
	    lambda_request_list_provisioned_concurrency_configs(&call->req, function, NULL, err),
	    out);
}

static int
wait_start(struct lambda_client *c, enum wait_kind kind, const char *function, const char *version,
    const struct lambda_wait_opts *opts, lambda_function_cb cb, void *arg, struct lambda_call **out,
    struct err *err)
{
	struct lambda_wait_opts o = LAMBDA_WAIT_OPTS_INIT;
	struct lambda_call *call;

	assert(cb != NULL);
	if (opts != NULL)
		o = *opts;
	if (o.max_seconds < 0.0 || o.initial_delay < 0.0 || o.max_delay < 0.0)
		return err_set(err, ERR_INVALID, "waiter times must not be negative");
	call = call_new(c, KIND_GET_FUNCTION, arg);
	call->cb.function = cb;
	call->wait = kind;
	call->max_seconds = o.max_seconds > 0.0 ? o.max_seconds : WAIT_MAX_SECONDS_DEFAULT;
	call->delay = o.initial_delay > 0.0 ? o.initial_delay : WAIT_INITIAL_DELAY_DEFAULT;
	call->max_delay = o.max_delay > 0.0 ? o.max_delay : WAIT_MAX_DELAY_DEFAULT;
	if (call->max_delay < call->delay)
		call->max_delay = call->delay;
	call->deadline_ms = timeutil_mono_ms() + (uint64_t)(call->max_seconds * 1000.0);
	return launch(call, lambda_request_get_function(&call->req, function, version, err), out);
}

int
lambda_client_wait_active(struct lambda_client *c, const char *function,
    const struct lambda_wait_opts *opts, lambda_function_cb cb, void *arg, struct lambda_call **out,
    struct err *err)
{
	return wait_start(c, WAIT_ACTIVE, function, NULL, opts, cb, arg, out, err);
}

int
lambda_client_wait_updated(struct lambda_client *c, const char *function,
    const struct lambda_wait_opts *opts, lambda_function_cb cb, void *arg, struct lambda_call **out,
    struct err *err)
{
	return wait_start(c, WAIT_UPDATED, function, NULL, opts, cb, arg, out, err);
}

int
lambda_client_wait_version_active(struct lambda_client *c, const char *function,
    const char *version, const struct lambda_wait_opts *opts, lambda_function_cb cb, void *arg,
    struct lambda_call **out, struct err *err)
{
	if (version == NULL || version[0] == '\0')
		return err_set(err, ERR_INVALID, "wait_version_active needs a version");
	return wait_start(c, WAIT_VERSION_ACTIVE, function, version, opts, cb, arg, out, err);
}
