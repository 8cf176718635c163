/*
 * deploy/observe against a tether-emulator process: what each situation costs in read
 * calls (counted by the emulator's /_emulator/stats, so every HTTP request shows, pages
 * included), what the observation holds, and that its *_listed flags are truthful. The
 * live state is made with raw requests to an emulator started with --auth none; the
 * observer's own client signs as usual. No mutating call may be made by the observer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "aws/lambda_client.h"
#include "common/xmalloc.h"
#include "deploy/observe.h"
#include "tests/lib/emuproc.h"

#define ACCOUNT "123456789012"
#define REGION "us-east-1"
#define ROLE "arn:aws:iam::123456789012:role/observe-itest"
#define IMAGE "123456789012.dkr.ecr.us-east-1.amazonaws.com/app"
#define COMMIT "0123456789abcdef0123456789abcdef01234567"

/* Every operation that changes something: the observer must never call one. */
static const char *const mutating[] = {
    "CreateFunction",
    "UpdateFunctionCode",
    "UpdateFunctionConfiguration",
    "PublishVersion",
    "DeleteFunction",
    "CreateAlias",
    "UpdateAlias",
    "DeleteAlias",
    "PublishLayerVersion",
    "TagResource",
    "UntagResource",
    "CreateEventSourceMapping",
    "PutProvisionedConcurrencyConfig",
    "Invoke",
};

struct ox {
	struct emuproc emu;
	struct ev_loop *loop;
	struct http_engine *http;
	struct credentials *creds;
	struct ratelimit *rl;
	struct lambda_client *c;
	json_t *before;
	struct observe *o;
	bool done;
};

static int
setup(void **state)
{
	static const char *const args[] = {
	    "--auth", "none", "--create-delay-ms", "0", "--update-delay-ms", "0"};
	struct emuproc_opts eo = EMUPROC_OPTS_INIT;
	struct http_engine_opts ho = HTTP_ENGINE_OPTS_INIT;
	struct credentials_opts co = CREDENTIALS_OPTS_INIT;
	struct lambda_client_opts lo = LAMBDA_CLIENT_OPTS_INIT;
	struct ox *x = xcalloc(1, sizeof(*x));
	struct err err = ERR_INIT;

	eo.args = args;
	eo.nargs = nitems(args);
	if (emuproc_start(&x->emu, &eo, &err) != 0) {
		fprintf(stderr, "%s\n", err.message);
		free(x);
		return -1;
	}
	x->loop = ev_loop_new(EVFLAG_AUTO);
	assert_int_equal(http_engine_new(&x->http, x->loop, &ho, &err), 0);
	assert_int_equal(credentials_new(&x->creds, x->loop, x->http, &co, &err), 0);
	assert_int_equal(ratelimit_new(&x->rl, x->loop), 0);
	lo.loop = x->loop;
	lo.http = x->http;
	lo.credentials = x->creds;
	lo.ratelimit = x->rl;
	lo.region = REGION;
	lo.endpoint = x->emu.endpoint;
	lo.timeout_ms = 20000;
	assert_int_equal(lambda_client_new(&x->c, &lo, &err), 0);
	*state = x;
	return 0;
}

static int
teardown(void **state)
{
	struct ox *x = *state;
	struct err err = ERR_INIT;
	int rc;

	observe_free(x->o);
	lambda_client_free(x->c);
	ratelimit_free(x->rl);
	credentials_free(x->creds);
	http_engine_free(x->http);
	ev_loop_destroy(x->loop);
	if (x->before != NULL)
		json_decref(x->before);
	rc = emuproc_stop(&x->emu, &err);
	if (rc != 0)
		fprintf(stderr, "%s\n", err.message);
	free(x);
	return rc;
}

/* A raw request to the emulator; fails the test unless the status is want. */
static void
api(struct ox *x, const char *method, const char *path, const char *body, long want)
{
	struct err err = ERR_INIT;
	char *resp = NULL;
	long status = 0;

	if (emuproc_request(&x->emu, method, path, NULL, 0, body, &status, &resp, &err) != 0)
		fail_msg("%s %s: %s", method, path, err.message);
	if (status != want)
		fail_msg("%s %s -> %ld, not %ld: %s", method, path, status, want,
		    resp != NULL ? resp : "");
	free(resp);
}

static void
create_fn(struct ox *x, const char *name, const char *tag)
{
	char *body = xasprintf("{\"FunctionName\":\"%s\",\"PackageType\":\"Image\",\"Role\":\"%s\","
	                       "\"Code\":{\"ImageUri\":\"%s:%s\"},\"MemorySize\":256}",
	    name, ROLE, IMAGE, tag);

	api(x, "POST", "/2015-03-31/functions", body, 201);
	free(body);
}

static void
update_image(struct ox *x, const char *name, const char *tag)
{
	char *path = xasprintf("/2015-03-31/functions/%s/code", name);
	char *body = xasprintf("{\"ImageUri\":\"%s:%s\"}", IMAGE, tag);

	api(x, "PUT", path, body, 200);
	free(body);
	free(path);
}

static void
publish(struct ox *x, const char *name, const char *description)
{
	char *path = xasprintf("/2015-03-31/functions/%s/versions", name);
	char *body = xasprintf("{\"Description\":\"%s\"}", description);

	api(x, "POST", path, body, 201);
	free(body);
	free(path);
}

static void
alias(struct ox *x, const char *name, const char *alias_name, const char *version,
    const char *routing, const char *description)
{
	char *path = xasprintf("/2015-03-31/functions/%s/aliases", name);
	char *body =
	    xasprintf("{\"Name\":\"%s\",\"FunctionVersion\":\"%s\",\"Description\":\"%s\"%s%s%s}",
	        alias_name, version, description != NULL ? description : "",
	        routing != NULL ? ",\"RoutingConfig\":{\"AdditionalVersionWeights\":{" : "",
	        routing != NULL ? routing : "", routing != NULL ? "}}" : "");

	api(x, "POST", path, body, 201);
	free(body);
	free(path);
}

/* A spec function: image IMAGE:tag, memory 256 (what create_fn makes). */
static struct spec_function *
add_fn(struct spec *s, const char *name, const char *tag)
{
	struct spec_function *f;

	s->functions = xreallocarray(s->functions, s->n + 1, sizeof(*s->functions));
	f = &s->functions[s->n++];
	memset(f, 0, sizeof(*f));
	f->name = xstrdup(name);
	f->region = xstrdup(REGION);
	f->code.kind = SPEC_CODE_IMAGE;
	f->code.image = xasprintf("%s:%s", IMAGE, tag);
	f->has_memory = true;
	f->memory = 256;
	return f;
}

static void
add_alias(struct spec_function *f, const char *name, long pinned)
{
	struct spec_alias *a;

	f->aliases = xreallocarray(f->aliases, f->naliases + 1, sizeof(*f->aliases));
	a = &f->aliases[f->naliases++];
	memset(a, 0, sizeof(*a));
	a->name = xstrdup(name);
	a->target = pinned > 0 ? SPEC_ALIAS_PINNED : SPEC_ALIAS_CURRENT;
	a->version = pinned;
}

/* What tether would write into the description of a version holding f's spec. */
static char *
mark_for(const struct spec_function *f)
{
	char digest[CRYPTO_SHA256_HEX_LEN + 1];
	struct err err = ERR_INIT;

	assert_int_equal(spec_digest(f, ACCOUNT, digest, &err), 0);
	return obs_format_version_mark(digest, COMMIT, "main");
}

static void
done_cb(struct observe *o, void *arg)
{
	struct ox *x = arg;

	assert_ptr_equal(o, x->o);
	assert_false(x->done);
	x->done = true;
	ev_break(x->loop, EVBREAK_ONE);
}

/* Observe want, with the emulator's counters read before. */
static const struct observe_result *
observe(struct ox *x, const struct spec *want, size_t concurrency, size_t *n)
{
	struct observe_opts oo = OBSERVE_OPTS_INIT;
	struct err err = ERR_INIT;

	if (x->before != NULL)
		json_decref(x->before);
	assert_int_equal(emuproc_stats(&x->emu, &x->before, &err), 0);
	observe_free(x->o);
	x->o = NULL;
	x->done = false;
	oo.loop = x->loop;
	oo.lambda = x->c;
	oo.region = REGION;
	oo.concurrency = concurrency;
	oo.done = done_cb;
	oo.arg = x;
	if (observe_start(&x->o, want, &oo, &err) != 0)
		fail_msg("observe_start: %s", err.message);
	assert_false(x->done); /* never from inside observe_start() */
	ev_run(x->loop, 0);
	assert_true(x->done);
	return observe_results(x->o, n);
}

/*
 * The emulator's count of op during the last observe(); every mutating operation must
 * be 0.
 */
static long long
calls(struct ox *x, const char *op)
{
	struct err err = ERR_INIT;
	json_t *now = NULL;
	long long d;
	size_t i;

	assert_int_equal(emuproc_stats(&x->emu, &now, &err), 0);
	for (i = 0; i < nitems(mutating); i++)
		if (emuproc_stats_op(now, mutating[i]) != emuproc_stats_op(x->before, mutating[i]))
			fail_msg("the observer called %s", mutating[i]);
	d = emuproc_stats_op(now, op) - emuproc_stats_op(x->before, op);
	json_decref(now);
	return d;
}

static long long
total_calls(struct ox *x)
{
	struct err err = ERR_INIT;
	json_t *now = NULL;
	long long d;

	assert_int_equal(emuproc_stats(&x->emu, &now, &err), 0);
	d = json_integer_value(json_object_get(now, "requests")) -
	    json_integer_value(json_object_get(x->before, "requests"));
	json_decref(now);
	return d;
}

static void
assert_ok(const struct observe_result *r)
{
	if (r->err.code != 0)
		fail_msg("%s: %s", r->want->name, r->err.message);
}

/* Steady state: one ListAliases and one GetFunction per version the aliases name. */
static void
test_observe__steady_state(void **state)
{
	struct ox *x = *state;
	struct spec want = SPEC_INIT;
	struct spec_function *f;
	const struct observe_result *r;
	size_t n;
	char *mark;

	f = add_fn(&want, "orders-api", "v1");
	add_alias(f, "live", 0);
	mark = mark_for(f);
	create_fn(x, "orders-api", "v1");
	publish(x, "orders-api", mark);
	alias(x, "orders-api", "live", "1", NULL, NULL);

	r = observe(x, &want, 0, &n);
	assert_int_equal(n, 1);
	assert_ok(&r[0]);
	assert_true(r[0].fn.exists);
	assert_string_equal(r[0].fn.name, "orders-api");
	assert_string_equal(r[0].fn.region, REGION);
	assert_string_equal(r[0].fn.account, ACCOUNT);
	assert_string_equal(
	    r[0].fn.arn, "arn:aws:lambda:us-east-1:123456789012:function:orders-api");
	assert_int_equal(r[0].fn.naliases, 1);
	assert_string_equal(r[0].fn.aliases[0].name, "live");
	assert_string_equal(r[0].fn.aliases[0].version, "1");
	assert_false(r[0].fn.versions_listed);
	assert_int_equal(r[0].fn.nversions, 1);
	assert_int_equal(r[0].fn.versions[0].number, 1);
	assert_string_equal(r[0].fn.versions[0].description, mark);
	assert_memory_equal(
	    r[0].fn.versions[0].digest, mark + strlen(OBS_VERSION_MARK), SPEC_DIGEST_SHORT);
	assert_false(r[0].fn.refs_listed);
	/* $LATEST's status is not read: no plan acts on it. The listing's config is there. */
	assert_null(r[0].fn.latest.state);
	assert_int_equal(r[0].fn.latest.memory, 256);
	assert_string_equal(r[0].fn.latest.package_type, "Image");

	assert_int_equal(calls(x, "ListFunctions"), 1);
	assert_int_equal(calls(x, "ListAliases"), 1);
	assert_int_equal(calls(x, "GetFunction"), 1);
	assert_int_equal(total_calls(x), 3);
	assert_int_equal(observe_region_calls(x->o, OBSERVE_LIST_FUNCTIONS), 1);
	assert_int_equal(r[0].calls[OBSERVE_LIST_ALIASES], 1);
	assert_int_equal(r[0].calls[OBSERVE_GET_VERSION], 1);
	assert_int_equal(r[0].calls[OBSERVE_GET_FUNCTION], 0);
	assert_int_equal(r[0].calls[OBSERVE_LIST_VERSIONS], 0);

	/* Declared by ARN: the same reads, naming the function by its ARN. */
	f->arn = xstrdup("arn:aws:lambda:us-east-1:123456789012:function:orders-api");
	f->account = xstrdup(ACCOUNT);
	r = observe(x, &want, 0, &n);
	assert_ok(&r[0]);
	assert_true(r[0].fn.exists);
	assert_int_equal(r[0].fn.nversions, 1);
	assert_int_equal(total_calls(x), 3);

	/* Declared by ARN in another account: not the function listed under that name; one
	 * GetFunction by ARN asks. */
	free(f->arn);
	free(f->account);
	f->arn = xstrdup("arn:aws:lambda:us-east-1:210987654321:function:orders-api");
	f->account = xstrdup("210987654321");
	r = observe(x, &want, 0, &n);
	assert_int_equal(calls(x, "ListFunctions"), 1);
	assert_int_equal(calls(x, "GetFunction"), 1);
	assert_int_equal(calls(x, "ListAliases"), 0);
	/* Without a resource policy allowing it, Lambda refuses: an error, not "missing". */
	assert_int_equal(r[0].err.code, ERR_AUTH);
	assert_non_null(strstr(r[0].err.message, "not authorized"));
	free(mark);
	spec_free(&want);
}

/* A new image: no version holds the digest, so every version and $LATEST's status. */
static void
test_observe__change_reads_latest(void **state)
{
	struct ox *x = *state;
	struct spec want = SPEC_INIT;
	struct spec_function *f;
	const struct observe_result *r;
	size_t n;
	char *mark;

	f = add_fn(&want, "orders-api", "v1");
	add_alias(f, "live", 0);
	mark = mark_for(f);
	create_fn(x, "orders-api", "v1");
	publish(x, "orders-api", mark);
	alias(x, "orders-api", "live", "1", NULL, NULL);
	free(f->code.image);
	f->code.image = xstrdup(IMAGE ":v2");

	r = observe(x, &want, 0, &n);
	assert_ok(&r[0]);
	assert_true(r[0].fn.versions_listed);
	assert_int_equal(r[0].fn.nversions, 1);
	assert_string_equal(r[0].fn.latest.state, "Active");
	assert_string_equal(r[0].fn.latest.last_update_status, "Successful");
	assert_string_equal(r[0].fn.latest.image_uri, IMAGE ":v1");
	assert_non_null(r[0].fn.latest.revision_id);
	assert_int_equal(calls(x, "ListFunctions"), 1);
	assert_int_equal(calls(x, "ListAliases"), 1);
	assert_int_equal(calls(x, "ListVersionsByFunction"), 1);
	assert_int_equal(calls(x, "GetFunction"), 2); /* version 1, then $LATEST */
	assert_int_equal(total_calls(x), 5);
	free(mark);
	spec_free(&want);
}

/* A revert: an older version holds the digest; it is found without reading $LATEST. */
static void
test_observe__revert_finds_old_version(void **state)
{
	struct ox *x = *state;
	struct spec want = SPEC_INIT;
	struct spec_function *f;
	const struct observe_result *r;
	size_t n;
	char *mark1, *mark2;

	f = add_fn(&want, "orders-api", "v2");
	mark2 = mark_for(f);
	free(f->code.image);
	f->code.image = xstrdup(IMAGE ":v1");
	mark1 = mark_for(f);
	add_alias(f, "live", 0);
	create_fn(x, "orders-api", "v1");
	publish(x, "orders-api", mark1);
	update_image(x, "orders-api", "v2");
	publish(x, "orders-api", mark2);
	alias(x, "orders-api", "live", "2", NULL, NULL);

	r = observe(x, &want, 0, &n);
	assert_ok(&r[0]);
	assert_true(r[0].fn.versions_listed);
	assert_int_equal(r[0].fn.nversions, 2);
	assert_int_equal(r[0].fn.versions[0].number, 1);
	assert_int_equal(r[0].fn.versions[1].number, 2);
	assert_non_null(obs_version_with_digest(&r[0].fn, mark1 + strlen(OBS_VERSION_MARK)));
	assert_null(r[0].fn.latest.state);
	assert_int_equal(calls(x, "GetFunction"), 1);
	assert_int_equal(calls(x, "ListVersionsByFunction"), 1);
	assert_int_equal(total_calls(x), 4);
	free(mark1);
	free(mark2);
	spec_free(&want);
}

/* A function that does not exist: one GetFunction confirms it. */
static void
test_observe__missing_function(void **state)
{
	struct ox *x = *state;
	struct spec want = SPEC_INIT;
	const struct observe_result *r;
	size_t n;

	add_fn(&want, "ghost", "v1");
	create_fn(x, "other", "v1");
	r = observe(x, &want, 0, &n);
	assert_ok(&r[0]);
	assert_false(r[0].fn.exists);
	assert_string_equal(r[0].fn.name, "ghost");
	assert_null(r[0].fn.arn);
	assert_int_equal(calls(x, "ListFunctions"), 1);
	assert_int_equal(calls(x, "GetFunction"), 1);
	assert_int_equal(total_calls(x), 2);
	spec_free(&want);
}

/* retain: every version, and what references them when pruning has candidates. */
static void
test_observe__retain_lists_references(void **state)
{
	struct ox *x = *state;
	struct spec want = SPEC_INIT;
	struct spec_function *f;
	const struct observe_result *r;
	size_t n, i;
	char *mark, tag[8];

	f = add_fn(&want, "worker", "v1");
	add_alias(f, "live", 0);
	f->has_retain = true;
	f->retain = 2;
	create_fn(x, "worker", "v1");
	for (i = 1; i <= 3; i++) {
		snprintf(tag, sizeof(tag), "v%zu", i);
		free(f->code.image);
		f->code.image = xasprintf("%s:%s", IMAGE, tag);
		if (i > 1)
			update_image(x, "worker", tag);
		mark = mark_for(f);
		publish(x, "worker", mark);
		free(mark);
	}
	alias(x, "worker", "live", "3", NULL, NULL);
	api(x, "POST", "/2015-03-31/event-source-mappings",
	    "{\"FunctionName\":\"worker:1\",\"EventSourceArn\":"
	    "\"arn:aws:sqs:us-east-1:123456789012:jobs\"}",
	    202);
	api(x, "PUT", "/2019-09-30/functions/worker/provisioned-concurrency?Qualifier=2",
	    "{\"ProvisionedConcurrentExecutions\":1}", 202);

	r = observe(x, &want, 0, &n);
	assert_ok(&r[0]);
	assert_true(r[0].fn.versions_listed);
	assert_int_equal(r[0].fn.nversions, 3);
	assert_true(r[0].fn.refs_listed);
	assert_int_equal(r[0].fn.nesm_targets, 1);
	assert_string_equal(r[0].fn.esm_targets[0], "1");
	assert_int_equal(r[0].fn.npc_targets, 1);
	assert_string_equal(r[0].fn.pc_targets[0], "2");
	assert_null(r[0].fn.latest.state); /* version 3 holds the digest */
	assert_int_equal(calls(x, "ListAliases"), 1);
	assert_int_equal(calls(x, "ListVersionsByFunction"), 1);
	assert_int_equal(calls(x, "GetFunction"), 0);
	assert_int_equal(calls(x, "ListEventSourceMappings"), 1);
	assert_int_equal(calls(x, "ListProvisionedConcurrencyConfigs"), 1);
	assert_int_equal(total_calls(x), 5);

	/* Nothing to prune: no reference lists. */
	f->retain = 3;
	r = observe(x, &want, 0, &n);
	assert_ok(&r[0]);
	assert_true(r[0].fn.versions_listed);
	assert_false(r[0].fn.refs_listed);
	assert_int_equal(r[0].fn.nesm_targets, 0);
	assert_int_equal(calls(x, "ListEventSourceMappings"), 0);
	assert_int_equal(total_calls(x), 3);

	/* detect mode never prunes. */
	f->retain = 1;
	f->mode = SPEC_MODE_DETECT;
	r = observe(x, &want, 0, &n);
	assert_ok(&r[0]);
	assert_false(r[0].fn.refs_listed);
	assert_int_equal(total_calls(x), 3);
	spec_free(&want);
}

/* A pinned version that does not exist: the whole list says so. */
static void
test_observe__pinned_version_missing(void **state)
{
	struct ox *x = *state;
	struct spec want = SPEC_INIT;
	struct spec_function *f;
	const struct observe_result *r;
	size_t n;
	char *mark;

	f = add_fn(&want, "api", "v1");
	add_alias(f, "live", 0);
	add_alias(f, "stable", 9);
	mark = mark_for(f);
	create_fn(x, "api", "v1");
	publish(x, "api", mark);
	alias(x, "api", "live", "1", NULL, NULL);

	r = observe(x, &want, 0, &n);
	assert_ok(&r[0]);
	assert_true(r[0].fn.versions_listed);
	assert_int_equal(r[0].fn.nversions, 1);
	assert_null(obs_version_find(&r[0].fn, 9));
	assert_int_equal(calls(x, "GetFunction"), 2); /* versions 1 and 9 (404) */
	assert_int_equal(calls(x, "ListVersionsByFunction"), 1);
	assert_int_equal(total_calls(x), 5);
	free(mark);
	spec_free(&want);
}

/* A canary in progress: the primary, the weighted and the stable versions are named. */
static void
test_observe__canary(void **state)
{
	struct ox *x = *state;
	struct spec want = SPEC_INIT;
	struct spec_function *f;
	const struct observe_result *r;
	struct obs_canary canary;
	size_t n;
	char *mark1, *mark2, *desc;

	f = add_fn(&want, "api", "v1");
	mark1 = mark_for(f);
	free(f->code.image);
	f->code.image = xstrdup(IMAGE ":v2");
	mark2 = mark_for(f);
	add_alias(f, "live", 0);
	create_fn(x, "api", "v1");
	publish(x, "api", mark1);
	update_image(x, "api", "v2");
	publish(x, "api", mark2);
	memset(&canary, 0, sizeof(canary));
	memcpy(canary.digest, mark2 + strlen(OBS_VERSION_MARK), SPEC_DIGEST_SHORT);
	canary.step = 1;
	canary.nsteps = 2;
	canary.started = 1700000000;
	canary.stable = 1;
	desc = obs_format_canary(&canary);
	alias(x, "api", "live", "1", "\"2\":0.1", desc);

	r = observe(x, &want, 0, &n);
	assert_ok(&r[0]);
	assert_int_equal(r[0].fn.naliases, 1);
	assert_true(r[0].fn.aliases[0].has_canary);
	assert_int_equal(r[0].fn.aliases[0].canary.stable, 1);
	assert_string_equal(r[0].fn.aliases[0].routing_version, "2");
	assert_true(
	    r[0].fn.aliases[0].routing_weight > 0.09 && r[0].fn.aliases[0].routing_weight < 0.11);
	assert_false(r[0].fn.versions_listed);
	assert_int_equal(r[0].fn.nversions, 2);
	assert_int_equal(calls(x, "GetFunction"), 2);
	assert_int_equal(total_calls(x), 4);
	free(desc);
	free(mark1);
	free(mark2);
	spec_free(&want);
}

/* A canary about to start on an alias: the reference lists say whether Lambda allows it. */
static void
test_observe__canary_start_lists_references(void **state)
{
	struct ox *x = *state;
	struct spec want = SPEC_INIT;
	struct spec_function *f;
	const struct observe_result *r;
	size_t n;
	char *mark;

	f = add_fn(&want, "api", "v1");
	add_alias(f, "live", 0);
	f->aliases[0].steps[0] = 10;
	f->aliases[0].steps[1] = 50;
	f->aliases[0].nsteps = 2;
	f->aliases[0].interval = 300;
	mark = mark_for(f);
	create_fn(x, "api", "v1");
	publish(x, "api", mark);
	alias(x, "api", "live", "1", NULL, NULL);
	api(x, "PUT", "/2019-09-30/functions/api/provisioned-concurrency?Qualifier=live",
	    "{\"ProvisionedConcurrentExecutions\":1}", 202);

	/* In sync: nothing moves, no reference lists. */
	r = observe(x, &want, 0, &n);
	assert_ok(&r[0]);
	assert_false(r[0].fn.refs_listed);
	assert_int_equal(total_calls(x), 3);

	/* A new image: the canary will start on live. */
	free(f->code.image);
	f->code.image = xstrdup(IMAGE ":v2");
	r = observe(x, &want, 0, &n);
	assert_ok(&r[0]);
	assert_true(r[0].fn.refs_listed);
	assert_int_equal(r[0].fn.npc_targets, 1);
	assert_string_equal(r[0].fn.pc_targets[0], "live");
	assert_int_equal(r[0].fn.nesm_targets, 0);
	assert_int_equal(calls(x, "ListEventSourceMappings"), 1);
	assert_int_equal(calls(x, "ListProvisionedConcurrencyConfigs"), 1);
	assert_int_equal(total_calls(x), 7);
	free(mark);
	spec_free(&want);
}

/* Many functions: listing pages, the concurrency cap, suspended ones not read. */
static void
test_observe__many_functions(void **state)
{
	struct ox *x = *state;
	struct spec want = SPEC_INIT;
	struct spec_function *f;
	const struct observe_result *r;
	size_t n, i;
	char name[32], *mark;

	for (i = 0; i < 60; i++) {
		snprintf(name, sizeof(name), "fn-%02zu", i);
		create_fn(x, name, "v1");
		if (i >= 40)
			continue; /* live but not desired */
		f = add_fn(&want, name, "v1");
		add_alias(f, "live", 0);
		mark = mark_for(f);
		publish(x, name, mark);
		alias(x, name, "live", "1", NULL, NULL);
		free(mark);
		if (i % 10 == 0)
			f->mode = SPEC_MODE_SUSPEND;
	}
	r = observe(x, &want, 3, &n);
	assert_int_equal(n, 40);
	for (i = 0; i < n; i++) {
		assert_ok(&r[i]);
		assert_true(r[i].fn.exists);
		snprintf(name, sizeof(name), "fn-%02zu", i);
		assert_string_equal(r[i].fn.name, name);
		assert_int_equal(r[i].fn.naliases, i % 10 == 0 ? 0 : 1);
	}
	/* 60 functions: two pages; 36 functions read, 4 suspended. */
	assert_int_equal(calls(x, "ListFunctions"), 2);
	assert_int_equal(calls(x, "ListAliases"), 36);
	assert_int_equal(calls(x, "GetFunction"), 36);
	assert_int_equal(total_calls(x), 74);
	spec_free(&want);
}

/* Nothing desired in the region: no call at all, and done still comes from the loop. */
static void
test_observe__nothing_to_observe(void **state)
{
	struct ox *x = *state;
	struct spec want = SPEC_INIT;
	struct spec_function *f;
	size_t n;

	f = add_fn(&want, "elsewhere", "v1");
	free(f->region);
	f->region = xstrdup("eu-west-1");
	(void)observe(x, &want, 0, &n);
	assert_int_equal(n, 0);
	assert_int_equal(total_calls(x), 0);
	spec_free(&want);
}

/* A failed listing fails every function, with Lambda's reason. */
static void
test_observe__listing_fails(void **state)
{
	struct ox *x = *state;
	struct spec want = SPEC_INIT;
	struct lambda_client_opts lo = LAMBDA_CLIENT_OPTS_INIT;
	struct lambda_client *good = x->c;
	const struct observe_result *r;
	struct err err = ERR_INIT;
	size_t n;

	add_fn(&want, "a", "v1");
	add_fn(&want, "b", "v1");
	/* A client whose endpoint refuses connections: the listing fails. */
	lo.loop = x->loop;
	lo.http = x->http;
	lo.credentials = x->creds;
	lo.region = REGION;
	lo.endpoint = "http://127.0.0.1:1";
	lo.max_attempts = 1;
	assert_int_equal(lambda_client_new(&x->c, &lo, &err), 0);
	r = observe(x, &want, 0, &n);
	assert_int_equal(n, 2);
	assert_int_not_equal(r[0].err.code, 0);
	assert_int_not_equal(r[1].err.code, 0);
	observe_free(x->o);
	x->o = NULL;
	lambda_client_free(x->c);
	x->c = good;
	spec_free(&want);
}

/* Freed with calls in flight: nothing leaks, done never runs. */
static void
test_observe__free_in_flight(void **state)
{
	struct ox *x = *state;
	struct spec want = SPEC_INIT;
	struct observe_opts oo = OBSERVE_OPTS_INIT;
	const struct observe_result *r;
	struct err err = ERR_INIT;
	size_t n;

	add_fn(&want, "a", "v1");
	create_fn(x, "a", "v1");
	oo.loop = x->loop;
	oo.lambda = x->c;
	oo.region = REGION;
	oo.done = done_cb;
	oo.arg = x;
	x->done = false;
	assert_int_equal(observe_start(&x->o, &want, &oo, &err), 0);
	/* Run until the listing has answered and ListAliases is in flight, then stop. */
	r = observe_results(x->o, &n);
	assert_int_equal(n, 1);
	while (r[0].calls[OBSERVE_LIST_ALIASES] == 0)
		ev_run(x->loop, EVRUN_ONCE);
	assert_false(x->done);
	assert_true(lambda_client_active(x->c) > 0);
	observe_free(x->o);
	x->o = NULL;
	assert_int_equal(lambda_client_active(x->c), 0);
	ev_run(x->loop, EVRUN_NOWAIT);
	assert_false(x->done);
	spec_free(&want);
}

int
main(void)
{
	static const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_observe__steady_state, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_observe__change_reads_latest, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_observe__revert_finds_old_version, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_observe__missing_function, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_observe__retain_lists_references, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_observe__pinned_version_missing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_observe__canary, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_observe__canary_start_lists_references, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_observe__many_functions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_observe__nothing_to_observe, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_observe__listing_fails, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_observe__free_in_flight, setup, teardown),
	};

	setenv("AWS_ACCESS_KEY_ID", "test", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "test", 1);
	unsetenv("AWS_SESSION_TOKEN");
	unsetenv("AWS_PROFILE");
	setenv("AWS_CONFIG_FILE", "/nonexistent/tether-observe/config", 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/tether-observe/credentials", 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
