/*
 * The Lambda API budget, measured through the real client against tether-emulator with
 * --latency-ms 20 and AWS's quotas switched on in the emulator (--getfunction-rps 100,
 * --throttle-rps 15):
 *
 *   1. N GetFunction calls issued at once (default 1,000) must finish in under 1.2 times
 *      what the 100/s bucket allows (N / 100 s), with no failures.
 *   2. Shared-bucket calls (GetAlias) issued continuously for S seconds (default 60) must
 *      use at least 90 % of the 15/s quota.
 *
 * usage: api_bench [--emulator PATH] [--calls N] [--seconds S] [--only getfunction|shared]
 * The emulator is PATH, else $TETHER_EMULATOR. Exit status 0 when every target is met.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/lambda_client.h"
#include "common/xmalloc.h"
#include "tests/lib/emuproc.h"

#define QUOTA_GETFUNCTION 100.0
#define QUOTA_SHARED 15.0
#define SHARED_OUTSTANDING 32

struct bench {
	struct emuproc emu;
	struct ev_loop *loop;
	struct http_engine *http;
	struct credentials *creds;
	struct ratelimit *rl;
	struct lambda_client *c;
	/* counters */
	size_t done;
	size_t failed;
	/* the shared-bucket run */
	bool stop;
	double t0, t_end;
	size_t in_window;
	size_t outstanding;
};

static void
die(const char *what, const struct err *err)
{
	fprintf(stderr, "api_bench: %s: %s\n", what, err != NULL ? err->message : "failed");
	exit(2);
}

static void
on_created(const struct lambda_function *fn, const struct err *err, void *arg)
{
	struct bench *b = arg;

	(void)fn;
	if (err != NULL)
		die("CreateFunction", err);
	b->done++;
}

static void on_alias(const struct lambda_alias *a, const struct err *err, void *arg);

static void
run_until_done(struct bench *b, size_t want)
{
	while (b->done < want)
		ev_run(b->loop, EVRUN_ONCE);
}

static void
on_get_function(const struct lambda_function *fn, const struct err *err, void *arg)
{
	struct bench *b = arg;

	(void)fn;
	if (err != NULL) {
		b->failed++;
		fprintf(stderr, "GetFunction: %s: %s\n", err_code_name(err->code), err->message);
	}
	b->done++;
}

static void
start_get_alias(struct bench *b)
{
	struct err err = ERR_INIT;

	if (lambda_client_get_alias(b->c, "bench-fn", "live", on_alias, b, NULL, &err) != 0)
		die("GetAlias", &err);
	b->outstanding++;
}

static void
on_alias(const struct lambda_alias *a, const struct err *err, void *arg)
{
	struct bench *b = arg;
	double now = ev_time();

	(void)a;
	b->outstanding--;
	b->done++;
	if (err != NULL) {
		b->failed++;
		fprintf(stderr, "GetAlias: %s: %s\n", err_code_name(err->code), err->message);
	} else if (now >= b->t0 && now <= b->t_end) {
		b->in_window++;
	}
	if (now < b->t_end)
		start_get_alias(b);
}

static long long
stat_value(struct bench *b, const char *key)
{
	struct err err = ERR_INIT;
	json_t *stats;
	long long v;

	if (emuproc_stats(&b->emu, &stats, &err) != 0)
		die("stats", &err);
	v = (long long)json_integer_value(json_object_get(stats, key));
	json_decref(stats);
	return v;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"emulator", required_argument, NULL, 'e'},
	    {"calls", required_argument, NULL, 'n'},
	    {"seconds", required_argument, NULL, 's'},
	    {"only", required_argument, NULL, 'o'},
	    {NULL, 0, NULL, 0},
	};
	static const char *const args[] = {"--latency-ms", "20", "--getfunction-rps", "100",
	    "--throttle-rps", "15", "--create-delay-ms", "0"};
	struct emuproc_opts eo = EMUPROC_OPTS_INIT;
	struct http_engine_opts ho = HTTP_ENGINE_OPTS_INIT;
	struct credentials_opts co = CREDENTIALS_OPTS_INIT;
	struct lambda_client_opts lo = LAMBDA_CLIENT_OPTS_INIT;
	struct lambda_create_function in = LAMBDA_CREATE_FUNCTION_INIT;
	struct lambda_alias_spec spec = LAMBDA_ALIAS_SPEC_INIT;
	struct err err = ERR_INIT;
	struct bench b;
	const char *only = NULL;
	long calls = 1000;
	double seconds = 60.0, t, limit, secs, rate;
	long long throttled0;
	int ok = 1, opt;
	long i;

	memset(&b, 0, sizeof(b));
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'e':
			eo.binary = optarg;
			break;
		case 'n':
			calls = strtol(optarg, NULL, 10);
			break;
		case 's':
			seconds = strtod(optarg, NULL);
			break;
		case 'o':
			only = optarg;
			break;
		default:
			fprintf(stderr,
			    "usage: api_bench [--emulator PATH] [--calls N] [--seconds S] "
			    "[--only getfunction|shared]\n");
			return 2;
		}
	}
	if (calls <= 0 || seconds <= 0)
		die("arguments", NULL);

	setenv("AWS_ACCESS_KEY_ID", "test", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "test", 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	eo.args = args;
	eo.nargs = nitems(args);
	if (emuproc_start(&b.emu, &eo, &err) != 0)
		die("emulator", &err);
	b.loop = ev_loop_new(EVFLAG_AUTO);
	if (http_engine_new(&b.http, b.loop, &ho, &err) != 0)
		die("http", &err);
	if (credentials_new(&b.creds, b.loop, b.http, &co, &err) != 0)
		die("credentials", &err);
	if (ratelimit_new(&b.rl, b.loop) != 0)
		die("ratelimit", NULL);
	lo.loop = b.loop;
	lo.http = b.http;
	lo.credentials = b.creds;
	lo.ratelimit = b.rl;
	lo.region = "us-east-1";
	lo.endpoint = b.emu.endpoint;
	lo.account = "123456789012";
	if (lambda_client_new(&b.c, &lo, &err) != 0)
		die("client", &err);

	/* The fixture: one function with an alias (three shared-bucket calls). */
	in.name = "bench-fn";
	in.role = "arn:aws:iam::123456789012:role/bench";
	in.code.image_uri = "123456789012.dkr.ecr.us-east-1.amazonaws.com/bench:1";
	if (lambda_client_create_function(b.c, &in, on_created, &b, NULL, &err) != 0)
		die("CreateFunction", &err);
	run_until_done(&b, 1);
	spec.function_version = "$LATEST";
	b.done = 0;
	if (lambda_client_create_alias(b.c, "bench-fn", "live", &spec, on_alias, &b, NULL, &err) !=
	    0)
		die("CreateAlias", &err);
	b.outstanding++;
	run_until_done(&b, 1);
	if (b.failed != 0)
		die("CreateAlias", NULL);

	printf("api_bench: emulator %s --latency-ms 20 --getfunction-rps 100 --throttle-rps 15\n",
	    b.emu.endpoint);
	if (only == NULL || strcmp(only, "getfunction") == 0) {
		b.done = b.failed = 0;
		throttled0 = stat_value(&b, "throttled");
		t = ev_time();
		for (i = 0; i < calls; i++)
			if (lambda_client_get_function(
			        b.c, "bench-fn", NULL, on_get_function, &b, NULL, &err) != 0)
				die("GetFunction", &err);
		run_until_done(&b, (size_t)calls);
		secs = ev_time() - t;
		limit = 1.2 * (double)calls / QUOTA_GETFUNCTION;
		printf("getfunction: %ld calls in %.2f s = %.1f/s (bucket %.0f/s: floor %.2f s, "
		       "target < %.2f s), failures %zu, emulator throttled %lld -> %s\n",
		    calls, secs, (double)calls / secs, QUOTA_GETFUNCTION,
		    (double)calls / QUOTA_GETFUNCTION, limit, b.failed,
		    stat_value(&b, "throttled") - throttled0,
		    secs < limit && b.failed == 0 ? "PASS" : "FAIL");
		if (!(secs < limit && b.failed == 0))
			ok = 0;
	}
	if (only == NULL || strcmp(only, "shared") == 0) {
		b.done = b.failed = b.in_window = 0;
		throttled0 = stat_value(&b, "throttled");
		/* Fill the queue first, then measure a whole window of steady demand. */
		b.t0 = ev_time() + 1.0;
		b.t_end = b.t0 + seconds;
		for (i = 0; i < SHARED_OUTSTANDING; i++)
			start_get_alias(&b);
		while (b.outstanding > 0)
			ev_run(b.loop, EVRUN_ONCE);
		rate = (double)b.in_window / seconds;
		printf(
		    "shared: %zu GetAlias completed in a %.0f s window = %.2f/s = %.1f %% of the "
		    "%.0f/s quota (target >= 90 %%), failures %zu, emulator throttled %lld -> %s\n",
		    b.in_window, seconds, rate, 100.0 * rate / QUOTA_SHARED, QUOTA_SHARED, b.failed,
		    stat_value(&b, "throttled") - throttled0,
		    rate / QUOTA_SHARED >= 0.9 && b.failed == 0 ? "PASS" : "FAIL");
		if (!(rate / QUOTA_SHARED >= 0.9 && b.failed == 0))
			ok = 0;
	}

	lambda_client_free(b.c);
	ratelimit_free(b.rl);
	credentials_free(b.creds);
	http_engine_free(b.http);
	ev_loop_destroy(b.loop);
	if (emuproc_stop(&b.emu, &err) != 0) {
		fprintf(stderr, "api_bench: %s\n", err.message);
		ok = 0;
	}
	return ok ? 0 : 1;
}
