/*
 * The Lambda client against a tether-emulator process with signature checking on:
 * every client operation, pagination over 120 functions, 409 while an update is in
 * progress, 412 on stale RevisionIds, waiters, Invoke with a function error and a Tail log,
 * retries and error mapping, cancellation and freeing the client with calls in flight, and
 * (group "throttle") a burst of 300 calls against --throttle-rps 15 checked against the
 * emulator's access log. Credentials come from the environment through the credential
 * chain. Each test starts its own emulator and stops it by PID; an emulator that exits
 * nonzero (an ASan report) fails the test.
 *
 * usage: lambda_itest [api|throttle]   (default: both)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "aws/endpoint.h"
#include "aws/lambda_client.h"
#include "common/crypto.h"
#include "common/xmalloc.h"
#include "tests/lib/emuproc.h"
#include "tests/lib/timescale.h"

#define ROLE "arn:aws:iam::123456789012:role/itest"
#define IMAGE "123456789012.dkr.ecr.us-east-1.amazonaws.com/app"
#define FN_ARN(name) "arn:aws:lambda:us-east-1:123456789012:function:" name

struct itx {
	struct emuproc emu;
	struct ev_loop *loop;
	struct http_engine *http;
	struct credentials *creds;
	struct ratelimit *rl;
	struct lambda_client *c;     /* the client under test: rate limited */
	struct lambda_client *setup; /* fixtures only: not rate limited */
};

static void
env_credentials(const char *secret)
{
	setenv("AWS_ACCESS_KEY_ID", "test", 1);
	setenv("AWS_SECRET_ACCESS_KEY", secret, 1);
	unsetenv("AWS_SESSION_TOKEN");
	unsetenv("AWS_PROFILE");
	unsetenv("AWS_DEFAULT_PROFILE");
	setenv("AWS_CONFIG_FILE", "/nonexistent/tether-itest/config", 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/tether-itest/credentials", 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
}

static struct lambda_client *
new_client(struct itx *x, struct ratelimit *rl, const char *endpoint)
{
	struct lambda_client_opts o = LAMBDA_CLIENT_OPTS_INIT;
	struct lambda_client *c;
	struct err err = ERR_INIT;

	o.loop = x->loop;
	o.http = x->http;
	o.credentials = x->creds;
	o.ratelimit = rl;
	o.region = "us-east-1";
	o.endpoint = endpoint != NULL ? endpoint : x->emu.endpoint;
	o.account = "123456789012";
	o.timeout_ms = 20000;
	if (lambda_client_new(&c, &o, &err) != 0)
		fail_msg("lambda_client_new: %s", err.message);
	return c;
}

static struct itx *
itx_start(const char *const *args, size_t nargs, bool access_log)
{
	struct emuproc_opts eo = EMUPROC_OPTS_INIT;
	struct http_engine_opts ho = HTTP_ENGINE_OPTS_INIT;
	struct credentials_opts co = CREDENTIALS_OPTS_INIT;
	struct itx *x = xcalloc(1, sizeof(*x));
	struct err err = ERR_INIT;

	env_credentials("test");
	eo.args = args;
	eo.nargs = nargs;
	eo.access_log = access_log;
	if (emuproc_start(&x->emu, &eo, &err) != 0)
		fail_msg("%s", err.message);
	x->loop = ev_loop_new(EVFLAG_AUTO);
	if (http_engine_new(&x->http, x->loop, &ho, &err) != 0)
		fail_msg("%s", err.message);
	if (credentials_new(&x->creds, x->loop, x->http, &co, &err) != 0)
		fail_msg("%s", err.message);
	assert_int_equal(ratelimit_new(&x->rl, x->loop), 0);
	x->c = new_client(x, x->rl, NULL);
	x->setup = new_client(x, NULL, NULL);
	return x;
}

static void
itx_stop(struct itx *x)
{
	struct err err = ERR_INIT;
	int rc;

	lambda_client_free(x->c);
	lambda_client_free(x->setup);
	ratelimit_free(x->rl);
	credentials_free(x->creds);
	http_engine_free(x->http);
	ev_loop_destroy(x->loop);
	rc = emuproc_stop(&x->emu, &err);
	free(x);
	if (rc != 0)
		fail_msg("%s", err.message);
}

/* What one callback delivered, copied out of the borrowed result. */
struct res {
	int calls;
	bool ok;
	struct err err;
	struct lambda_function fn;
	struct lambda_alias alias;
	struct lambda_layer_version lv;
	struct lambda_invoke_result inv;
	char **items; /* per item: a name, version, UUID or qualifier */
	char **extra; /* per item: a second field */
	size_t n;
	char *marker;
};

static void
res_clear(struct res *r)
{
	size_t i;

	lambda_function_clear(&r->fn);
	lambda_alias_clear(&r->alias);
	lambda_layer_version_clear(&r->lv);
	lambda_invoke_result_clear(&r->inv);
	for (i = 0; i < r->n; i++) {
		free(r->items[i]);
		free(r->extra[i]);
	}
	free(r->items);
	free(r->extra);
	free(r->marker);
	memset(r, 0, sizeof(*r));
}

static void
res_err(struct res *r, const struct err *err)
{
	res_clear(r);
	r->calls = 1;
	r->ok = err == NULL;
	if (err != NULL)
		err_copy(&r->err, err);
}

static char *
dup0(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

static void
res_items(struct res *r, size_t n)
{
	r->n = n;
	r->items = xcalloc(n + 1, sizeof(char *));
	r->extra = xcalloc(n + 1, sizeof(char *));
}

static void
cb_fn(const struct lambda_function *fn, const struct err *err, void *arg)
{
	struct res *r = arg;

	res_err(r, err);
	if (fn != NULL)
		lambda_function_copy(&r->fn, fn);
}

static void
cb_done(const struct err *err, void *arg)
{
	res_err(arg, err);
}

static void
cb_alias(const struct lambda_alias *a, const struct err *err, void *arg)
{
	struct res *r = arg;

	res_err(r, err);
	if (a != NULL)
		lambda_alias_copy(&r->alias, a);
}

static void
cb_fpage(const struct lambda_function_page *p, const struct err *err, void *arg)
{
	struct res *r = arg;
	size_t i;

	res_err(r, err);
	if (p == NULL)
		return;
	res_items(r, p->n);
	for (i = 0; i < p->n; i++) {
		r->items[i] = dup0(p->items[i].name);
		r->extra[i] = dup0(p->items[i].version);
	}
	r->marker = dup0(p->next_marker);
}

static void
cb_apage(const struct lambda_alias_page *p, const struct err *err, void *arg)
{
	struct res *r = arg;
	size_t i;

	res_err(r, err);
	if (p == NULL)
		return;
	res_items(r, p->n);
	for (i = 0; i < p->n; i++) {
		r->items[i] = dup0(p->items[i].name);
		r->extra[i] = dup0(p->items[i].function_version);
	}
	r->marker = dup0(p->next_marker);
}

static void
cb_lv(const struct lambda_layer_version *lv, const struct err *err, void *arg)
{
	struct res *r = arg;

	res_err(r, err);
	if (lv == NULL)
		return;
	r->lv.layer_arn = dup0(lv->layer_arn);
	r->lv.layer_version_arn = dup0(lv->layer_version_arn);
	r->lv.version = lv->version;
	r->lv.description = dup0(lv->description);
	r->lv.code_sha256 = dup0(lv->code_sha256);
	r->lv.code_size = lv->code_size;
}

static void
cb_lvpage(const struct lambda_layer_version_page *p, const struct err *err, void *arg)
{
	struct res *r = arg;
	size_t i;

	res_err(r, err);
	if (p == NULL)
		return;
	res_items(r, p->n);
	for (i = 0; i < p->n; i++) {
		r->items[i] = dup0(p->items[i].layer_version_arn);
		r->extra[i] = xasprintf("%lld", (long long)p->items[i].version);
	}
}

static void
cb_invoke(const struct lambda_invoke_result *inv, const struct err *err, void *arg)
{
	struct res *r = arg;

	res_err(r, err);
	if (inv == NULL)
		return;
	r->inv.status = inv->status;
	r->inv.executed_version = dup0(inv->executed_version);
	r->inv.function_error = dup0(inv->function_error);
	r->inv.log_result = dup0(inv->log_result);
	r->inv.payload = xmemdup(inv->payload, inv->payload_len + 1);
	r->inv.payload_len = inv->payload_len;
}

static void
cb_tags(const struct lambda_tags *t, const struct err *err, void *arg)
{
	struct res *r = arg;
	size_t i;

	res_err(r, err);
	if (t == NULL)
		return;
	res_items(r, t->n);
	for (i = 0; i < t->n; i++) {
		r->items[i] = xstrdup(t->items[i].key);
		r->extra[i] = xstrdup(t->items[i].value);
	}
}

static void
cb_esm(const struct lambda_esm_page *p, const struct err *err, void *arg)
{
	struct res *r = arg;
	size_t i;

	res_err(r, err);
	if (p == NULL)
		return;
	res_items(r, p->n);
	for (i = 0; i < p->n; i++) {
		r->items[i] = dup0(p->items[i].uuid);
		r->extra[i] = dup0(p->items[i].function_arn);
	}
}

static void
cb_pc(const struct lambda_pc_page *p, const struct err *err, void *arg)
{
	struct res *r = arg;
	size_t i;

	res_err(r, err);
	if (p == NULL)
		return;
	res_items(r, p->n);
	for (i = 0; i < p->n; i++) {
		r->items[i] = dup0(p->items[i].qualifier);
		r->extra[i] = dup0(p->items[i].status);
	}
}

/* Run the loop until every res in rs has been called back. */
static void
wait_all(struct itx *x, struct res *rs, size_t n, double timeout)
{
	double end = ev_time() + timeout;
	size_t i;

	for (;;) {
		for (i = 0; i < n; i++)
			if (rs[i].calls == 0)
				break;
		if (i == n)
			return;
		if (ev_time() > end)
			fail_msg("timed out waiting for callback %zu of %zu", i, n);
		ev_run(x->loop, EVRUN_ONCE);
	}
}

static void
timer_noop(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
}

static void
run_for(struct itx *x, double seconds)
{
	double end = ev_time() + seconds;
	ev_timer t;

	ev_timer_init(&t, timer_noop, 0., 0.);
	while (ev_time() < end) {
		ev_timer_set(&t, end - ev_time(), 0.);
		ev_timer_start(x->loop, &t);
		ev_run(x->loop, EVRUN_ONCE);
		ev_timer_stop(x->loop, &t);
	}
}

/* Start a call (its starting function returns 0), then run until it is called back. */
#define CALL(x, r, start)                                                               \
	do {                                                                            \
		struct err start_err_ = ERR_INIT;                                       \
		struct err *err = &start_err_;                                          \
		res_clear(r);                                                           \
		if ((start) != 0)                                                       \
			fail_msg("%s:%d: start: %s", __FILE__, __LINE__, err->message); \
		wait_all((x), (r), 1, 60);                                              \
	} while (0)

#define EXPECT_OK(r)                                                                            \
	do {                                                                                    \
		if (!(r)->ok)                                                                   \
			fail_msg("%s:%d: %s: %s (HTTP %ld)", __FILE__, __LINE__, (r)->err.type, \
			    (r)->err.message, (r)->err.http_status);                            \
	} while (0)

#define EXPECT_ERR(r, code_)                                                                       \
	do {                                                                                       \
		if ((r)->ok || (r)->err.code != (code_))                                           \
			fail_msg("%s:%d: expected %s, got %s: %s", __FILE__, __LINE__,             \
			    err_code_name(code_),                                                  \
			    (r)->ok ? "success" : err_code_name((r)->err.code), (r)->err.message); \
	} while (0)

/* Create a function from an image and wait until it is Active. */
static void
create_active(struct itx *x, struct lambda_client *c, const char *name, const char *image)
{
	struct lambda_create_function in = LAMBDA_CREATE_FUNCTION_INIT;
	struct res r = {0};

	in.name = name;
	in.role = ROLE;
	in.code.image_uri = image;
	CALL(x, &r, lambda_client_create_function(c, &in, cb_fn, &r, NULL, err));
	EXPECT_OK(&r);
	CALL(x, &r, lambda_client_wait_active(c, name, NULL, cb_fn, &r, NULL, err));
	EXPECT_OK(&r);
	res_clear(&r);
}

static bool
has_item(const struct res *r, const char *item)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (r->items[i] != NULL && strcmp(r->items[i], item) == 0)
			return true;
	return false;
}

static long long
stats_op(struct itx *x, const char *op)
{
	struct err err = ERR_INIT;
	json_t *stats;
	long long n;

	if (emuproc_stats(&x->emu, &stats, &err) != 0)
		fail_msg("%s", err.message);
	n = op != NULL ? emuproc_stats_op(stats, op)
	               : (long long)json_integer_value(json_object_get(stats, "requests"));
	json_decref(stats);
	return n;
}

/*
 * Send an operation the client does not have (PublishLayerVersion, CreateEventSourceMapping,
 * PutProvisionedConcurrencyConfig), signed like the client signs, and check its status.
 */
static void
raw_signed(struct itx *x, const char *method, const char *path, const char *query, const char *body,
    long want)
{
	struct aws_credentials creds = {"test", "test", NULL, 0, "env"};
	struct lambda_request r;
	struct url e;
	struct lambda_signed s;
	struct err err = ERR_INIT;
	char target[1024], *out = NULL;
	long status;

	lambda_request_init(&r);
	r.method = method;
	r.label = xstrdup("raw");
	buf_puts(&r.path, path);
	if (query != NULL)
		buf_puts(&r.query, query);
	if (body != NULL) {
		buf_puts(&r.body, body);
		r.has_body = r.json = true;
	}
	assert_int_equal(endpoint_url_parse(&e, x->emu.endpoint, &err), 0);
	assert_int_equal(
	    lambda_request_sign(&r, &e, "us-east-1", &creds, time(NULL), "itest", &s, &err), 0);
	snprintf(target, sizeof(target), "%s%s%s", path, query != NULL ? "?" : "",
	    query != NULL ? query : "");
	if (emuproc_request(&x->emu, method, target, (const char *const *)s.headers, s.nheaders,
	        body, &status, &out, &err) != 0)
		fail_msg("%s", err.message);
	if (status != want)
		fail_msg("%s %s: HTTP %ld, want %ld: %s", method, target, status, want, out);
	free(out);
	lambda_signed_clear(&s);
	url_clear(&e);
	lambda_request_clear(&r);
}

static void
test_lambda_itest__functions(void **state)
{
	struct itx *x = itx_start(NULL, 0, false);
	struct lambda_create_function in = LAMBDA_CREATE_FUNCTION_INIT;
	struct lambda_update_config cfg = LAMBDA_UPDATE_CONFIG_INIT;
	struct lambda_update_code code = LAMBDA_UPDATE_CODE_INIT;
	struct lambda_publish pub = LAMBDA_PUBLISH_INIT;
	struct lambda_list list = LAMBDA_LIST_INIT;
	struct lambda_pair env[] = {{"APP_MODE", "1"}, {"LOG_LEVEL", "info"}};
	struct lambda_pair tags[] = {{"managed-by", "tether"}};
	struct res r = {0};
	char *rev = NULL, *sha = NULL;

	(void)state;
	in.name = "itest-fn";
	in.role = ROLE;
	in.code.image_uri = IMAGE ":1";
	in.memory = 256;
	in.timeout = 10;
	in.environment = env;
	in.nenvironment = 2;
	in.tags = tags;
	in.ntags = 1;
	in.description = "created by the integration test";
	CALL(x, &r, lambda_client_create_function(x->c, &in, cb_fn, &r, NULL, err));
	EXPECT_OK(&r);
	assert_string_equal(r.fn.name, "itest-fn");
	assert_string_equal(r.fn.arn, FN_ARN("itest-fn"));
	assert_string_equal(r.fn.package_type, "Image");
	assert_int_equal(r.fn.memory, 256);
	assert_int_equal(r.fn.state, LAMBDA_STATE_PENDING);

	CALL(x, &r, lambda_client_wait_active(x->c, "itest-fn", NULL, cb_fn, &r, NULL, err));
	EXPECT_OK(&r);
	assert_int_equal(r.fn.state, LAMBDA_STATE_ACTIVE);

	CALL(x, &r, lambda_client_get_function(x->c, "itest-fn", NULL, cb_fn, &r, NULL, err));
	EXPECT_OK(&r);
	assert_string_equal(r.fn.version, "$LATEST");
	assert_string_equal(r.fn.image_uri, IMAGE ":1");
	assert_non_null(r.fn.resolved_image_uri);
	assert_non_null(r.fn.code_sha256);
	assert_int_equal(r.fn.timeout, 10);
	assert_string_equal(r.fn.description, "created by the integration test");
	assert_string_equal(
	    lambda_kv_get(r.fn.environment, r.fn.nenvironment, "LOG_LEVEL"), "info");
	assert_true(r.fn.has_tags);
	assert_string_equal(lambda_kv_get(r.fn.tags, r.fn.ntags, "managed-by"), "tether");

	/* By ARN and with $LATEST: the labels are encoded and signed correctly. */
	CALL(x, &r,
	    lambda_client_get_function_configuration(
	        x->c, FN_ARN("itest-fn"), "$LATEST", cb_fn, &r, NULL, err));
	EXPECT_OK(&r);
	assert_string_equal(r.fn.version, "$LATEST");
	CALL(x, &r,
	    lambda_client_get_function(x->c, "itest-fn:$LATEST", NULL, cb_fn, &r, NULL, err));
	EXPECT_OK(&r);
	rev = xstrdup(r.fn.revision_id);

	/* Update the managed configuration: clear the environment, set memory. */
	cfg.set = LAMBDA_CONFIG_MEMORY | LAMBDA_CONFIG_ENVIRONMENT | LAMBDA_CONFIG_LAYERS |
	          LAMBDA_CONFIG_DESCRIPTION;
	cfg.memory = 512;
	cfg.description = "";
	cfg.revision_id = rev;
	CALL(x, &r,
	    lambda_client_update_function_configuration(
	        x->c, "itest-fn", &cfg, cb_fn, &r, NULL, err));
	EXPECT_OK(&r);
	assert_int_equal(r.fn.last_update_status, LAMBDA_UPDATE_IN_PROGRESS);
	CALL(x, &r, lambda_client_wait_updated(x->c, "itest-fn", NULL, cb_fn, &r, NULL, err));
	EXPECT_OK(&r);
	assert_int_equal(r.fn.last_update_status, LAMBDA_UPDATE_SUCCESSFUL);
	assert_int_equal(r.fn.memory, 512);
	assert_int_equal(r.fn.nenvironment, 0);
	assert_int_equal(r.fn.nlayers, 0);

	/* New code. */
	code.code.image_uri = IMAGE ":2";
	CALL(x, &r,
	    lambda_client_update_function_code(x->c, "itest-fn", &code, cb_fn, &r, NULL, err));
	EXPECT_OK(&r);
	CALL(x, &r, lambda_client_wait_updated(x->c, "itest-fn", NULL, cb_fn, &r, NULL, err));
	EXPECT_OK(&r);
	assert_string_equal(r.fn.image_uri, IMAGE ":2");
	free(rev);
	rev = xstrdup(r.fn.revision_id);
	sha = xstrdup(r.fn.code_sha256);

	/* Publish with both preconditions, then wait for the version. */
	pub.code_sha256 = sha;
	pub.revision_id = rev;
	pub.description = "tether d=3f9a1c0b7e21 c=8e4f2a1 main";
	CALL(x, &r, lambda_client_publish_version(x->c, "itest-fn", &pub, cb_fn, &r, NULL, err));
	EXPECT_OK(&r);
	assert_string_equal(r.fn.version, "1");
	assert_string_equal(r.fn.description, "tether d=3f9a1c0b7e21 c=8e4f2a1 main");
	CALL(x, &r,
	    lambda_client_wait_version_active(x->c, "itest-fn", "1", NULL, cb_fn, &r, NULL, err));
	EXPECT_OK(&r);
	assert_string_equal(r.fn.version, "1");
	assert_int_equal(r.fn.state, LAMBDA_STATE_ACTIVE);

	/* Nothing changed since: publishing again is a no-op that returns version 1. */
	CALL(x, &r, lambda_client_publish_version(x->c, "itest-fn", NULL, cb_fn, &r, NULL, err));
	EXPECT_OK(&r);
	assert_string_equal(r.fn.version, "1");

	CALL(x, &r, lambda_client_list_versions_all(x->c, "itest-fn", cb_fpage, &r, NULL, err));
	EXPECT_OK(&r);
	assert_int_equal(r.n, 2);
	assert_string_equal(r.extra[0], "$LATEST");
	assert_string_equal(r.extra[1], "1");
	assert_null(r.marker);

	list.max_items = 10;
	CALL(x, &r, lambda_client_list_functions(x->c, &list, cb_fpage, &r, NULL, err));
	EXPECT_OK(&r);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.items[0], "itest-fn");

	/* Delete one version, then the function. */
	CALL(x, &r, lambda_client_delete_function(x->c, "itest-fn", "1", cb_done, &r, NULL, err));
	EXPECT_OK(&r);
	CALL(x, &r, lambda_client_list_versions_all(x->c, "itest-fn", cb_fpage, &r, NULL, err));
	EXPECT_OK(&r);
	assert_int_equal(r.n, 1);
	CALL(x, &r, lambda_client_delete_function(x->c, "itest-fn", NULL, cb_done, &r, NULL, err));
	EXPECT_OK(&r);
	CALL(x, &r, lambda_client_get_function(x->c, "itest-fn", NULL, cb_fn, &r, NULL, err));
	EXPECT_ERR(&r, ERR_NOTFOUND);
	assert_int_equal(r.err.http_status, 404);
	assert_string_equal(r.err.type, "ResourceNotFoundException");
	assert_true(strlen(r.err.request_id) > 0);
	assert_non_null(strstr(r.err.message, "itest-fn"));

	res_clear(&r);
	free(rev);
	free(sha);
	itx_stop(x);
}

static void
test_lambda_itest__aliases_and_preconditions(void **state)
{
	struct itx *x = itx_start(NULL, 0, false);
	struct lambda_update_config cfg = LAMBDA_UPDATE_CONFIG_INIT;
	struct lambda_alias_spec spec = LAMBDA_ALIAS_SPEC_INIT;
	struct lambda_publish pub = LAMBDA_PUBLISH_INIT;
	struct res r = {0};
	char *alias_rev;

	(void)state;
	create_active(x, x->c, "al-fn", IMAGE ":1");
	CALL(x, &r, lambda_client_publish_version(x->c, "al-fn", NULL, cb_fn, &r, NULL, err));
	EXPECT_OK(&r);
	assert_string_equal(r.fn.version, "1");
	cfg.set = LAMBDA_CONFIG_TIMEOUT;
	cfg.timeout = 20;
	CALL(x, &r,
	    lambda_client_update_function_configuration(x->c, "al-fn", &cfg, cb_fn, &r, NULL, err));
	EXPECT_OK(&r);
	CALL(x, &r, lambda_client_wait_updated(x->c, "al-fn", NULL, cb_fn, &r, NULL, err));
	EXPECT_OK(&r);

	/* 412: a stale RevisionId on publish. 400: a CodeSha256 that is not $LATEST's. */
	pub.revision_id = "00000000-0000-0000-0000-000000000000";
	CALL(x, &r, lambda_client_publish_version(x->c, "al-fn", &pub, cb_fn, &r, NULL, err));
	EXPECT_ERR(&r, ERR_PRECONDITION);
	assert_int_equal(r.err.http_status, 412);
	assert_string_equal(r.err.type, "PreconditionFailedException");
	pub.revision_id = NULL;
	pub.code_sha256 = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
	CALL(x, &r, lambda_client_publish_version(x->c, "al-fn", &pub, cb_fn, &r, NULL, err));
	EXPECT_ERR(&r, ERR_INVALID);
	assert_string_equal(r.err.type, "InvalidParameterValueException");
	CALL(x, &r, lambda_client_publish_version(x->c, "al-fn", NULL, cb_fn, &r, NULL, err));
	EXPECT_OK(&r);
	assert_string_equal(r.fn.version, "2");

	/* A weighted alias. */
	spec.function_version = "1";
	spec.description = "canary step=1";
	spec.routing_version = "2";
	spec.routing_weight = 0.1;
	CALL(x, &r,
	    lambda_client_create_alias(x->c, "al-fn", "live", &spec, cb_alias, &r, NULL, err));
	EXPECT_OK(&r);
	assert_string_equal(r.alias.name, "live");
	assert_string_equal(r.alias.function_version, "1");
	assert_string_equal(r.alias.routing_version, "2");
	assert_true(r.alias.routing_weight > 0.0999 && r.alias.routing_weight < 0.1001);
	CALL(x, &r,
	    lambda_client_create_alias(x->c, "al-fn", "live", &spec, cb_alias, &r, NULL, err));
	EXPECT_ERR(&r, ERR_CONFLICT);
	spec = (struct lambda_alias_spec)LAMBDA_ALIAS_SPEC_INIT;
	spec.function_version = "2";
	CALL(x, &r,
	    lambda_client_create_alias(x->c, "al-fn", "stable", &spec, cb_alias, &r, NULL, err));
	EXPECT_OK(&r);

	CALL(x, &r, lambda_client_get_alias(x->c, "al-fn", "live", cb_alias, &r, NULL, err));
	EXPECT_OK(&r);
	assert_string_equal(r.alias.description, "canary step=1");
	alias_rev = xstrdup(r.alias.revision_id);

	CALL(x, &r, lambda_client_list_aliases_all(x->c, "al-fn", NULL, cb_apage, &r, NULL, err));
	EXPECT_OK(&r);
	assert_int_equal(r.n, 2);
	assert_true(has_item(&r, "live") && has_item(&r, "stable"));
	CALL(x, &r,
	    lambda_client_list_aliases_all(x->c, FN_ARN("al-fn"), "1", cb_apage, &r, NULL, err));
	EXPECT_OK(&r);
	assert_true(has_item(&r, "live"));
	assert_false(has_item(&r, "stable"));

	/* 412 on a stale alias RevisionId; the fresh one moves it and clears the routing. */
	spec = (struct lambda_alias_spec)LAMBDA_ALIAS_SPEC_INIT;
	spec.function_version = "2";
	spec.set_routing = true;
	spec.revision_id = "11111111-2222-3333-4444-555555555555";
	CALL(x, &r,
	    lambda_client_update_alias(x->c, "al-fn", "live", &spec, cb_alias, &r, NULL, err));
	EXPECT_ERR(&r, ERR_PRECONDITION);
	assert_int_equal(r.err.http_status, 412);
	spec.revision_id = alias_rev;
	CALL(x, &r,
	    lambda_client_update_alias(x->c, "al-fn", "live", &spec, cb_alias, &r, NULL, err));
	EXPECT_OK(&r);
	assert_string_equal(r.alias.function_version, "2");
	assert_null(r.alias.routing_version);
	assert_string_not_equal(r.alias.revision_id, alias_rev);
	CALL(x, &r,
	    lambda_client_update_alias(x->c, "al-fn", "live", &spec, cb_alias, &r, NULL, err));
	EXPECT_ERR(&r, ERR_PRECONDITION);
	free(alias_rev);

	/* 409: a version that an alias references cannot be deleted. */
	CALL(x, &r, lambda_client_delete_function(x->c, "al-fn", "2", cb_done, &r, NULL, err));
	EXPECT_ERR(&r, ERR_CONFLICT);
	assert_int_equal(r.err.http_status, 409);
	assert_string_equal(r.err.type, "ResourceConflictException");

	CALL(x, &r, lambda_client_delete_alias(x->c, "al-fn", "stable", cb_done, &r, NULL, err));
	EXPECT_OK(&r);
	CALL(x, &r, lambda_client_get_alias(x->c, "al-fn", "stable", cb_alias, &r, NULL, err));
	EXPECT_ERR(&r, ERR_NOTFOUND);
	res_clear(&r);
	itx_stop(x);
}

static void
test_lambda_itest__conflict_in_progress(void **state)
{
	static const char *const args[] = {"--update-delay-ms", "1000"};
	struct itx *x = itx_start(args, nitems(args), false);
	struct lambda_update_config cfg = LAMBDA_UPDATE_CONFIG_INIT;
	struct lambda_publish pub = LAMBDA_PUBLISH_INIT;
	struct res r = {0};
	char *rev;

	(void)state;
	create_active(x, x->c, "busy-fn", IMAGE ":1");
	cfg.set = LAMBDA_CONFIG_MEMORY;
	cfg.memory = 1024;
	CALL(x, &r,
	    lambda_client_update_function_configuration(
	        x->c, "busy-fn", &cfg, cb_fn, &r, NULL, err));
	EXPECT_OK(&r);
	/* The update is InProgress for a second: publishing now is a 409, not retried. */
	CALL(x, &r, lambda_client_publish_version(x->c, "busy-fn", NULL, cb_fn, &r, NULL, err));
	EXPECT_ERR(&r, ERR_CONFLICT);
	assert_int_equal(r.err.http_status, 409);
	assert_string_equal(r.err.type, "ResourceConflictException");
	assert_int_equal(stats_op(x, "PublishVersion"), 1);
	/* So is another update. */
	CALL(x, &r,
	    lambda_client_update_function_configuration(
	        x->c, "busy-fn", &cfg, cb_fn, &r, NULL, err));
	EXPECT_ERR(&r, ERR_CONFLICT);

	/* Wait, re-read the RevisionId (it changed when the update completed), publish. */
	CALL(x, &r, lambda_client_wait_updated(x->c, "busy-fn", NULL, cb_fn, &r, NULL, err));
	EXPECT_OK(&r);
	assert_int_equal(r.fn.memory, 1024);
	rev = xstrdup(r.fn.revision_id);
	pub.revision_id = rev;
	CALL(x, &r, lambda_client_publish_version(x->c, "busy-fn", &pub, cb_fn, &r, NULL, err));
	EXPECT_OK(&r);
	assert_string_equal(r.fn.version, "1");
	/* The waiter polled GetFunction several times over that second, with backoff. */
	assert_true(stats_op(x, "GetFunction") >= 3);
	assert_true(stats_op(x, "GetFunction") <= 20);
	free(rev);
	res_clear(&r);
	itx_stop(x);
}

#define NFUNCS 120

static void
test_lambda_itest__pagination(void **state)
{
	struct itx *x = itx_start(NULL, 0, false);
	struct lambda_create_function in = LAMBDA_CREATE_FUNCTION_INIT;
	struct res *rs = xcalloc(NFUNCS, sizeof(*rs));
	struct res r = {0};
	char name[32];
	long long before;
	size_t i;

	(void)state;
	/* Fixtures through the unlimited client, all at once. */
	for (i = 0; i < NFUNCS; i++) {
		struct err err = ERR_INIT;

		snprintf(name, sizeof(name), "page-fn-%03zu", i);
		in.name = name;
		in.role = ROLE;
		in.code.image_uri = IMAGE ":1";
		assert_int_equal(
		    lambda_client_create_function(x->setup, &in, cb_fn, &rs[i], NULL, &err), 0);
	}
	wait_all(x, rs, NFUNCS, 60);
	for (i = 0; i < NFUNCS; i++) {
		EXPECT_OK(&rs[i]);
		res_clear(&rs[i]);
	}
	free(rs);

	before = stats_op(x, "ListFunctions");
	CALL(x, &r, lambda_client_list_functions_all(x->c, false, cb_fpage, &r, NULL, err));
	EXPECT_OK(&r);
	assert_int_equal(r.n, NFUNCS);
	assert_null(r.marker);
	for (i = 0; i < NFUNCS; i++) {
		snprintf(name, sizeof(name), "page-fn-%03zu", i);
		if (!has_item(&r, name))
			fail_msg("%s missing from the listing", name);
	}
	/* Pages of at most 50: at least 3 requests, each one charged. */
	printf("list_functions_all: %zu functions in %lld ListFunctions requests\n", r.n,
	    stats_op(x, "ListFunctions") - before);
	assert_true(stats_op(x, "ListFunctions") - before >= 3);
	res_clear(&r);
	itx_stop(x);
}

static void
test_lambda_itest__waiters(void **state)
{
	/* The windows widen under valgrind (timescale.h): polling must still see Pending. */
	double scale = timescale_factor();
	char create_ms[32], update_ms[32];
	const char *args[] = {"--create-delay-ms", create_ms, "--update-delay-ms", update_ms};
	struct itx *x;
	struct lambda_create_function in = LAMBDA_CREATE_FUNCTION_INIT;
	struct lambda_update_config cfg = LAMBDA_UPDATE_CONFIG_INIT;
	struct lambda_wait_opts wo = LAMBDA_WAIT_OPTS_INIT;
	struct res r = {0};
	double t0;

	(void)state;
	snprintf(create_ms, sizeof(create_ms), "%.0f", 300 * scale);
	snprintf(update_ms, sizeof(update_ms), "%.0f", 400 * scale);
	x = itx_start(args, nitems(args), false);
	in.name = "wait-fn";
	in.role = ROLE;
	in.code.image_uri = IMAGE ":1";
	CALL(x, &r, lambda_client_create_function(x->c, &in, cb_fn, &r, NULL, err));
	EXPECT_OK(&r);
	assert_int_equal(r.fn.state, LAMBDA_STATE_PENDING);
	t0 = ev_time();
	CALL(x, &r, lambda_client_wait_active(x->c, "wait-fn", NULL, cb_fn, &r, NULL, err));
	EXPECT_OK(&r);
	assert_int_equal(r.fn.state, LAMBDA_STATE_ACTIVE);
	/* Settled within a poll interval of the 300 ms window. */
	assert_true(ev_time() - t0 < 1.5 * scale);
	assert_true(stats_op(x, "GetFunction") >= 2);

	/* A wait that runs out of time ends with ERR_TRANSIENT, not a hang. */
	cfg.set = LAMBDA_CONFIG_MEMORY;
	cfg.memory = 256;
	CALL(x, &r,
	    lambda_client_update_function_configuration(
	        x->c, "wait-fn", &cfg, cb_fn, &r, NULL, err));
	EXPECT_OK(&r);
	wo.max_seconds = 0.15;
	CALL(x, &r, lambda_client_wait_updated(x->c, "wait-fn", &wo, cb_fn, &r, NULL, err));
	EXPECT_ERR(&r, ERR_TRANSIENT);
	assert_non_null(strstr(r.err.message, "InProgress"));
	CALL(x, &r, lambda_client_wait_updated(x->c, "wait-fn", NULL, cb_fn, &r, NULL, err));
	EXPECT_OK(&r);
	assert_int_equal(r.fn.memory, 256);

	/* Already settled: one poll. */
	CALL(x, &r, lambda_client_wait_active(x->c, "wait-fn", NULL, cb_fn, &r, NULL, err));
	EXPECT_OK(&r);

	/* A missing function fails the wait at once. */
	CALL(x, &r, lambda_client_wait_active(x->c, "no-such-fn", NULL, cb_fn, &r, NULL, err));
	EXPECT_ERR(&r, ERR_NOTFOUND);

	/* A new version starts Pending; the version waiter follows it. */
	CALL(x, &r, lambda_client_publish_version(x->c, "wait-fn", NULL, cb_fn, &r, NULL, err));
	EXPECT_OK(&r);
	CALL(x, &r,
	    lambda_client_wait_version_active(x->c, "wait-fn", "1", NULL, cb_fn, &r, NULL, err));
	EXPECT_OK(&r);
	assert_string_equal(r.fn.version, "1");
	assert_int_equal(r.fn.state, LAMBDA_STATE_ACTIVE);
	res_clear(&r);
	itx_stop(x);
}

static void
test_lambda_itest__invoke(void **state)
{
	struct itx *x = itx_start(NULL, 0, false);
	struct lambda_invoke in = LAMBDA_INVOKE_INIT;
	struct ratelimit_stats before, after;
	struct res r = {0};
	struct err e = ERR_INIT;

	(void)state;
	create_active(x, x->c, "inv-fn", IMAGE ":7");
	if (emuproc_set_invoke(&x->emu, IMAGE ":7", "{\"statusCode\": 200}", NULL, &e) != 0)
		fail_msg("%s", e.message);
	ratelimit_stats(
	    ratelimit_bucket(x->rl, "123456789012", "us-east-1", RATELIMIT_SHARED, 15), &before);
	in.qualifier = "$LATEST";
	in.log_tail = true;
	in.payload = "{\"httpMethod\":\"GET\",\"path\":\"/api/v1/health\"}";
	in.payload_len = strlen(in.payload);
	CALL(x, &r, lambda_client_invoke(x->c, "inv-fn", &in, cb_invoke, &r, NULL, err));
	EXPECT_OK(&r);
	assert_int_equal(r.inv.status, 200);
	assert_string_equal((char *)r.inv.payload, "{\"statusCode\":200}");
	assert_string_equal(r.inv.executed_version, "$LATEST");
	assert_null(r.inv.function_error);
	assert_non_null(r.inv.log_result);

	/* A function error is a result: err stays NULL. */
	if (emuproc_set_invoke(&x->emu, IMAGE ":7",
	        "{\"errorMessage\": \"boom\", \"errorType\": \"Error\"}", "Unhandled", &e) != 0)
		fail_msg("%s", e.message);
	CALL(x, &r, lambda_client_invoke(x->c, "inv-fn", &in, cb_invoke, &r, NULL, err));
	EXPECT_OK(&r);
	assert_string_equal(r.inv.function_error, "Unhandled");
	assert_non_null(strstr((char *)r.inv.payload, "boom"));
	assert_non_null(r.inv.log_result);
	/* Invoke is data plane: nothing was charged to the shared bucket. */
	ratelimit_stats(
	    ratelimit_bucket(x->rl, "123456789012", "us-east-1", RATELIMIT_SHARED, 15), &after);
	assert_int_equal(after.granted, before.granted);
	assert_int_equal(stats_op(x, "Invoke"), 2);

	memset(&in, 0, sizeof(in));
	CALL(x, &r, lambda_client_invoke(x->c, "no-such-fn", &in, cb_invoke, &r, NULL, err));
	EXPECT_ERR(&r, ERR_NOTFOUND);
	res_clear(&r);
	itx_stop(x);
}

static void
test_lambda_itest__tags_layers_esm_pc(void **state)
{
	struct itx *x = itx_start(NULL, 0, false);
	struct lambda_pair tags[] = {{"team", "payments"}, {"env", "dev"}};
	const char *untag[] = {"team"};
	struct lambda_alias_spec spec = LAMBDA_ALIAS_SPEC_INIT;
	struct res r = {0};

	(void)state;
	create_active(x, x->c, "misc-fn", IMAGE ":1");

	/* Tags, on the unqualified ARN. */
	CALL(x, &r,
	    lambda_client_tag_resource(x->c, FN_ARN("misc-fn"), tags, 2, cb_done, &r, NULL, err));
	EXPECT_OK(&r);
	CALL(x, &r, lambda_client_list_tags(x->c, FN_ARN("misc-fn"), cb_tags, &r, NULL, err));
	EXPECT_OK(&r);
	assert_int_equal(r.n, 2);
	assert_true(has_item(&r, "team") && has_item(&r, "env"));
	CALL(x, &r,
	    lambda_client_untag_resource(
	        x->c, FN_ARN("misc-fn"), untag, 1, cb_done, &r, NULL, err));
	EXPECT_OK(&r);
	CALL(x, &r, lambda_client_list_tags(x->c, FN_ARN("misc-fn"), cb_tags, &r, NULL, err));
	EXPECT_OK(&r);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.items[0], "env");

	/* Layers: two versions published outside the client. */
	raw_signed(x, "POST", "/2018-10-31/layers/itest-layer/versions", NULL,
	    "{\"Content\":{\"ZipFile\":\"UEsDBA==\"},\"Description\":\"v1\",\"CompatibleRuntimes\":"
	    "[\"python3.12\"]}",
	    201);
	raw_signed(x, "POST", "/2018-10-31/layers/itest-layer/versions", NULL,
	    "{\"Content\":{\"ZipFile\":\"UEsDBAo=\"},\"Description\":\"v2\"}", 201);
	CALL(x, &r, lambda_client_get_layer_version(x->c, "itest-layer", 1, cb_lv, &r, NULL, err));
	EXPECT_OK(&r);
	assert_int_equal(r.lv.version, 1);
	assert_string_equal(r.lv.description, "v1");
	assert_string_equal(
	    r.lv.layer_version_arn, "arn:aws:lambda:us-east-1:123456789012:layer:itest-layer:1");
	assert_non_null(r.lv.code_sha256);
	CALL(x, &r,
	    lambda_client_get_layer_version_by_arn(x->c,
	        "arn:aws:lambda:us-east-1:123456789012:layer:itest-layer:2", cb_lv, &r, NULL, err));
	EXPECT_OK(&r);
	assert_int_equal(r.lv.version, 2);
	assert_string_equal(r.lv.description, "v2");
	CALL(x, &r,
	    lambda_client_get_layer_version(x->c,
	        "arn:aws:lambda:us-east-1:123456789012:layer:itest-layer", 2, cb_lv, &r, NULL,
	        err));
	EXPECT_OK(&r);
	assert_int_equal(r.lv.version, 2);
	CALL(x, &r,
	    lambda_client_list_layer_versions(x->c, "itest-layer", NULL, cb_lvpage, &r, NULL, err));
	EXPECT_OK(&r);
	assert_int_equal(r.n, 2);
	assert_true(has_item(&r, "arn:aws:lambda:us-east-1:123456789012:layer:itest-layer:1"));
	CALL(x, &r, lambda_client_get_layer_version(x->c, "itest-layer", 9, cb_lv, &r, NULL, err));
	EXPECT_ERR(&r, ERR_NOTFOUND);

	/* What references versions: an event source mapping and provisioned concurrency. */
	CALL(x, &r, lambda_client_publish_version(x->c, "misc-fn", NULL, cb_fn, &r, NULL, err));
	EXPECT_OK(&r);
	spec.function_version = "1";
	CALL(x, &r,
	    lambda_client_create_alias(x->c, "misc-fn", "live", &spec, cb_alias, &r, NULL, err));
	EXPECT_OK(&r);
	CALL(x, &r, lambda_client_list_esm_all(x->c, "misc-fn", cb_esm, &r, NULL, err));
	EXPECT_OK(&r);
	assert_int_equal(r.n, 0);
	raw_signed(x, "POST", "/2015-03-31/event-source-mappings/", NULL,
	    "{\"EventSourceArn\":\"arn:aws:sqs:us-east-1:123456789012:itest-queue\","
	    "\"FunctionName\":\"misc-fn:live\"}",
	    202);
	CALL(x, &r, lambda_client_list_esm_all(x->c, "misc-fn", cb_esm, &r, NULL, err));
	EXPECT_OK(&r);
	assert_int_equal(r.n, 1);
	assert_true(strlen(r.items[0]) == 36);
	assert_string_equal(r.extra[0], FN_ARN("misc-fn") ":live");
	CALL(x, &r, lambda_client_list_esm(x->c, NULL, NULL, cb_esm, &r, NULL, err));
	EXPECT_OK(&r);
	assert_int_equal(r.n, 1);

	CALL(x, &r, lambda_client_list_pc_all(x->c, "misc-fn", cb_pc, &r, NULL, err));
	EXPECT_OK(&r);
	assert_int_equal(r.n, 0);
	raw_signed(x, "PUT", "/2019-09-30/functions/misc-fn/provisioned-concurrency",
	    "Qualifier=live", "{\"ProvisionedConcurrentExecutions\":2}", 202);
	CALL(x, &r, lambda_client_list_pc_all(x->c, "misc-fn", cb_pc, &r, NULL, err));
	EXPECT_OK(&r);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.items[0], "live");
	assert_non_null(r.extra[0]);
	res_clear(&r);
	itx_stop(x);
}

/* An endpoint where nothing listens: a port the kernel just handed out and took back. */
static void
closed_endpoint(char *out, size_t size)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	snprintf(out, size, "http://127.0.0.1:%d", ntohs(sa.sin_port));
}

static void
test_lambda_itest__errors_and_retries(void **state)
{
	static const char *const args[] = {"--error-rate", "1"};
	struct itx *x = itx_start(args, nitems(args), false);
	struct credentials_opts co = CREDENTIALS_OPTS_INIT;
	struct credentials *good = x->creds;
	struct lambda_client *c;
	struct res r = {0};
	struct err e = ERR_INIT;
	char closed[64];

	(void)state;
	/* Every request answered 500: three attempts, then ERR_TRANSIENT. */
	CALL(x, &r, lambda_client_get_alias(x->c, "f", "live", cb_alias, &r, NULL, err));
	EXPECT_ERR(&r, ERR_TRANSIENT);
	assert_int_equal(r.err.http_status, 500);
	assert_string_equal(r.err.type, "ServiceException");
	assert_int_equal(stats_op(x, NULL), 3);

	/* A wrong secret: 403, not retried. */
	env_credentials("wrong-secret");
	if (credentials_new(&x->creds, x->loop, x->http, &co, &e) != 0)
		fail_msg("%s", e.message);
	c = new_client(x, x->rl, NULL);
	CALL(x, &r, lambda_client_get_alias(c, "f", "live", cb_alias, &r, NULL, err));
	EXPECT_ERR(&r, ERR_AUTH);
	assert_int_equal(r.err.http_status, 403);
	assert_string_equal(r.err.type, "InvalidSignatureException");
	assert_int_equal(stats_op(x, NULL), 4);
	lambda_client_free(c);
	credentials_free(x->creds);
	x->creds = good;
	env_credentials("test");

	/* Nobody listening: transport failures, retried, then ERR_TRANSIENT. */
	closed_endpoint(closed, sizeof(closed));
	c = new_client(x, NULL, closed);
	CALL(x, &r, lambda_client_list_functions(c, NULL, cb_fpage, &r, NULL, err));
	EXPECT_ERR(&r, ERR_TRANSIENT);
	assert_int_equal(r.err.http_status, 0);
	lambda_client_free(c);
	res_clear(&r);
	itx_stop(x);
}

static void
test_lambda_itest__cancel_and_free(void **state)
{
	static const char *const args[] = {"--latency-ms", "300"};
	struct itx *x = itx_start(args, nitems(args), false);
	struct res rs[12];
	struct lambda_call *calls[12];
	struct res r = {0};
	size_t i;

	(void)state;
	memset(rs, 0, sizeof(rs));
	create_active(x, x->setup, "cx-fn", IMAGE ":1");
	for (i = 0; i < 4; i++) {
		struct err err = ERR_INIT;

		assert_int_equal(
		    lambda_client_get_function(x->c, "cx-fn", NULL, cb_fn, &rs[i], &calls[i], &err),
		    0);
		assert_int_equal(lambda_client_list_aliases(x->c, "cx-fn", NULL, cb_apage,
		                     &rs[4 + i], &calls[4 + i], &err),
		    0);
	}
	{
		struct err err = ERR_INIT;

		assert_int_equal(
		    lambda_client_wait_updated(x->c, "cx-fn", NULL, cb_fn, &rs[8], &calls[8], &err),
		    0);
		assert_int_equal(lambda_client_list_functions_all(
		                     x->c, false, cb_fpage, &rs[9], &calls[9], &err),
		    0);
	}
	/* Let some reach the wire, cancel two, then free the client with the rest in flight. */
	run_for(x, 0.1);
	lambda_call_cancel(calls[0]);
	lambda_call_cancel(calls[5]);
	assert_int_equal(lambda_client_active(x->c), 8);
	lambda_client_free(x->c);
	x->c = NULL;
	run_for(x, 0.6);
	for (i = 0; i < 10; i++)
		assert_int_equal(rs[i].calls, 0);
	assert_int_equal(http_engine_active(x->http), 0);

	/* The engine and the emulator carry on. */
	x->c = new_client(x, x->rl, NULL);
	CALL(x, &r, lambda_client_get_function(x->c, "cx-fn", NULL, cb_fn, &r, NULL, err));
	EXPECT_OK(&r);
	res_clear(&r);
	itx_stop(x);
}

#define BURST 300
#define QUOTA 15

static bool
shared_bucket_op(const char *op)
{
	return op[0] != '\0' && strcmp(op, "GetFunction") != 0 && strcmp(op, "Invoke") != 0;
}

static void
test_lambda_itest__throttle_burst(void **state)
{
	static const char *const args[] = {"--throttle-rps", "15"};
	struct itx *x = itx_start(args, nitems(args), true);
	struct lambda_alias_spec spec = LAMBDA_ALIAS_SPEC_INIT;
	struct emuproc_access *log = NULL;
	struct res *rs = xcalloc(BURST, sizeof(*rs));
	struct res r = {0};
	struct err e = ERR_INIT;
	size_t nlog, i, j, shared = 0, maxwin = 0, failures = 0;
	uint64_t *t;
	json_t *stats;
	double t0, secs;

	(void)state;
	create_active(x, x->c, "thr-fn", IMAGE ":1");
	CALL(x, &r, lambda_client_publish_version(x->c, "thr-fn", NULL, cb_fn, &r, NULL, err));
	EXPECT_OK(&r);
	spec.function_version = "1";
	CALL(x, &r,
	    lambda_client_create_alias(x->c, "thr-fn", "live", &spec, cb_alias, &r, NULL, err));
	EXPECT_OK(&r);
	res_clear(&r);

	/* 300 shared-bucket calls issued at once. */
	t0 = ev_time();
	for (i = 0; i < BURST; i++)
		assert_int_equal(
		    lambda_client_get_alias(x->c, "thr-fn", "live", cb_alias, &rs[i], NULL, &e), 0);
	wait_all(x, rs, BURST, 120);
	secs = ev_time() - t0;
	for (i = 0; i < BURST; i++) {
		if (!rs[i].ok) {
			failures++;
			fprintf(stderr, "call %zu: %s: %s\n", i, err_code_name(rs[i].err.code),
			    rs[i].err.message);
		}
		res_clear(&rs[i]);
	}
	free(rs);

	/* The most requests the emulator saw in any one-second window of the shared quota. */
	if (emuproc_access_log(&x->emu, &log, &nlog, &e) != 0)
		fail_msg("%s", e.message);
	t = xcalloc(nlog + 1, sizeof(*t));
	for (i = 0; i < nlog; i++)
		if (shared_bucket_op(log[i].op))
			t[shared++] = log[i].mono_ms;
	/* The log is in answer order; windows are counted over sorted times. */
	for (i = 1; i < shared; i++)
		for (j = i; j > 0 && t[j - 1] > t[j]; j--) {
			uint64_t tmp = t[j];

			t[j] = t[j - 1];
			t[j - 1] = tmp;
		}
	for (i = 0, j = 0; i < shared; i++) {
		/* t[j..i] lies in the window (t[i] - 1000 ms, t[i]]. */
		while (t[i] - t[j] >= 1000)
			j++;
		if (i - j + 1 > maxwin)
			maxwin = i - j + 1;
	}
	if (emuproc_stats(&x->emu, &stats, &e) != 0)
		fail_msg("%s", e.message);
	printf("throttle burst: %d GetAlias in %.1f s (%.2f/s), failures %zu, shared-quota "
	       "requests %zu, max in any 1 s window %zu (quota %d), emulator throttled %lld\n",
	    BURST, secs, BURST / secs, failures, shared, maxwin, QUOTA,
	    (long long)json_integer_value(json_object_get(stats, "throttled")));
	assert_true(json_is_integer(json_object_get(stats, "throttled")));
	/* The emulator's own 15/s bucket is the quota as Lambda enforces it: never hit. */
	assert_int_equal(json_integer_value(json_object_get(stats, "throttled")), 0);
	json_decref(stats);
	assert_int_equal(failures, 0);
	assert_true(shared >= BURST + 2);
	assert_true((double)shared / secs <= QUOTA);
	/* Times are when the emulator answered: on a loaded machine a request delayed in
	 * the emulator's queue lands next to the following one, so one request of slack. */
	assert_true(maxwin <= QUOTA + 1);
	free(t);
	free(log);
	itx_stop(x);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest api[] = {
	    cmocka_unit_test(test_lambda_itest__functions),
	    cmocka_unit_test(test_lambda_itest__aliases_and_preconditions),
	    cmocka_unit_test(test_lambda_itest__conflict_in_progress),
	    cmocka_unit_test(test_lambda_itest__pagination),
	    cmocka_unit_test(test_lambda_itest__waiters),
	    cmocka_unit_test(test_lambda_itest__invoke),
	    cmocka_unit_test(test_lambda_itest__tags_layers_esm_pc),
	    cmocka_unit_test(test_lambda_itest__errors_and_retries),
	    cmocka_unit_test(test_lambda_itest__cancel_and_free),
	};
	const struct CMUnitTest throttle[] = {
	    cmocka_unit_test(test_lambda_itest__throttle_burst),
	};
	const char *which = argc > 1 ? argv[1] : "all";
	int failed = 0;

	if (strcmp(which, "api") != 0 && strcmp(which, "throttle") != 0 &&
	    strcmp(which, "all") != 0) {
		fprintf(stderr, "usage: %s [api|throttle|all]\n", argv[0]);
		return 2;
	}
	if (strcmp(which, "throttle") != 0)
		failed += cmocka_run_group_tests_name("lambda_api", api, NULL, NULL);
	if (strcmp(which, "api") != 0)
		failed += cmocka_run_group_tests_name("lambda_throttle", throttle, NULL, NULL);
	return failed != 0;
}
