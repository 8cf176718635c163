/*
 * Token buckets on a real libev loop in real time: grant spacing and throughput, FIFO,
 * cancel, ceilings, AIMD, pauses, independence of buckets, stats. The limiter spaces
 * grants by 1/(rate * 0.97) and may let one go up to 10 ms ahead of that schedule (see
 * aws/ratelimit.c), so any n+1 consecutive grants span at least n/(rate * 0.97) - 10 ms.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "aws/ratelimit.h"
#include "common/xmalloc.h"

#define MARGIN 0.97
#define TOLERANCE 0.010
/* Slack between the limiter's clock reading and ours in the callback. */
#define CLOCK_SLACK 0.0005
/* A quiet window before a grant lets the next one follow at once (aws/ratelimit.c). */
#define WINDOW (1.0 + TOLERANCE)
#define NGRANTS_MAX 128
/*
 * Least share of the rate a burst must get: 97-98 % on an idle machine, and the tolerance
 * keeps it there with the load average at 2 per core; only a starved process loses grants.
 */
#define UTILIZATION_MIN 0.9

struct grants {
	int n;
	double at[NGRANTS_MAX];
	int order[NGRANTS_MAX];
};

struct waiter {
	struct grants *g;
	int id;
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
grant_cb(void *arg)
{
	struct waiter *w = arg;
	struct grants *g = w->g;

	assert_true(g->n < NGRANTS_MAX);
	g->at[g->n] = now_s();
	g->order[g->n++] = w->id;
}

static void
never_cb(void *arg)
{
	(void)arg;
	fail_msg("a canceled or dropped waiter was granted");
}

static void
guard_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	*(bool *)w->data = true;
}

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

static void
run_for(struct ev_loop *loop, double seconds)
{
	int never = 0;

	run_until(loop, &never, 1, seconds);
}

struct env {
	struct ev_loop *loop;
	struct ratelimit *rl;
};

static void
env_open(struct env *env)
{
	env->loop = ev_loop_new(EVFLAG_AUTO);
	assert_non_null(env->loop);
	assert_int_equal(ratelimit_new(&env->rl, env->loop), 0);
}

static void
env_close(struct env *env)
{
	ratelimit_free(env->rl);
	ev_loop_destroy(env->loop);
}

/* Queue n waiters at once and collect their grants. */
static void
burst(struct env *env, struct ratelimit_bucket *b, struct grants *g, struct waiter *w, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		w[i].g = g;
		w[i].id = i;
		ratelimit_acquire(b, grant_cb, &w[i]);
	}
	assert_int_equal(g->n, 0); /* never from inside ratelimit_acquire() */
	assert_true(run_until(env->loop, &g->n, n, 10.0));
}

/*
 * Every window of k+1 consecutive grants spans at least k intervals less the tolerance;
 * returns the smallest gap between two grants. The one exception is the pair a bucket
 * grants after a quiet second (aws/ratelimit.c): its two grants may go together, and
 * grant k after its first still goes no earlier than k intervals less the tolerance.
 */
static double
check_spacing(const struct grants *g, double rate)
{
	double t = 1.0 / (rate * MARGIN), min_gap = 1e9;
	int i, k;
	bool quiet;

	for (i = 0; i < g->n; i++) {
		quiet = i == 0 || g->at[i] - g->at[i - 1] >= WINDOW;
		for (k = 1; i + k < g->n; k++)
			if (!(quiet && k == 1) &&
			    g->at[i + k] - g->at[i] < k * t - TOLERANCE - CLOCK_SLACK)
				fail_msg("grants %d..%d span %.4f s < %d x %.4f s - %.3f s", i,
				    i + k, g->at[i + k] - g->at[i], k, t, TOLERANCE);
		if (i > 1 && g->at[i] - g->at[i - 1] < min_gap)
			min_gap = g->at[i] - g->at[i - 1];
	}
	return min_gap;
}

/* The most grants in any window of the given length. */
static int
max_in_window(const struct grants *g, double window)
{
	int i, j = 0, most = 0;

	for (i = 0; i < g->n; i++) {
		while (g->at[i] - g->at[j] >= window)
			j++;
		if (i - j + 1 > most)
			most = i - j + 1;
	}
	return most;
}

static void
test_ratelimit__spacing(void **state)
{
	struct ratelimit_bucket *b;
	struct grants *g = xcalloc(1, sizeof(*g));
	struct waiter w[NGRANTS_MAX];
	struct env env;
	double min_gap, span, want;

	(void)state;
	env_open(&env);

	/* 15/s, the shared bucket: 16 grants */
	b = ratelimit_bucket(
	    env.rl, "111111111111", "us-east-1", RATELIMIT_SHARED, RATELIMIT_SHARED_RPS);
	burst(&env, b, g, w, 16);
	min_gap = check_spacing(g, RATELIMIT_SHARED_RPS);
	span = g->at[15] - g->at[0];
	print_message("      15/s: 16 grants span %.4f s (at least %.4f), smallest gap %.4f s\n",
	    span, 15 / (15 * MARGIN) - TOLERANCE, min_gap);
	assert_true(max_in_window(g, 1.0) <= 15);
	/* the 16th grant falls outside the first one's second, and the rate is used */
	assert_true(span > 1.0);
	assert_true(span < 15 / (15 * MARGIN) / UTILIZATION_MIN);

	/* 100/s, the GetFunction bucket: 101 grants */
	memset(g, 0, sizeof(*g));
	b = ratelimit_bucket(
	    env.rl, "111111111111", "us-east-1", RATELIMIT_GETFUNCTION, RATELIMIT_GETFUNCTION_RPS);
	burst(&env, b, g, w, 101);
	min_gap = check_spacing(g, RATELIMIT_GETFUNCTION_RPS);
	span = g->at[100] - g->at[0];
	want = 100 / (100 * MARGIN);
	print_message("      100/s: 101 grants span %.4f s (ideal %.4f), smallest gap %.4f s, "
	              "%.1f grants/s\n",
	    span, want, min_gap, 100 / span);
	assert_true(span > 1.0);
	assert_true(span < want / UTILIZATION_MIN);
	assert_true(max_in_window(g, 1.0) <= 100);
	free(g);
	env_close(&env);
}

/* After a quiet second two grants go at once (a webhook's ListAliases and
 * UpdateFunctionCode), the third waits two intervals from the first; after a throttle,
 * while recovering, there is no pair. */
static void
test_ratelimit__pair_after_quiet(void **state)
{
	struct ratelimit_bucket *b;
	struct grants *g = xcalloc(1, sizeof(*g));
	struct waiter w[NGRANTS_MAX];
	struct env env;
	double t = 1.0 / (RATELIMIT_SHARED_RPS * MARGIN);

	(void)state;
	env_open(&env);
	b = ratelimit_bucket(env.rl, "a", "r", "pair", RATELIMIT_SHARED_RPS);
	burst(&env, b, g, w, 3);
	assert_true(g->at[1] - g->at[0] < 0.005);
	assert_true(g->at[2] - g->at[0] >= 2 * t - TOLERANCE - CLOCK_SLACK);
	/* Quiet again for a window: another pair. */
	ev_sleep(WINDOW + 0.05);
	memset(g, 0, sizeof(*g));
	burst(&env, b, g, w, 3);
	assert_true(g->at[1] - g->at[0] < 0.005);
	assert_true(g->at[2] - g->at[0] >= 2 * t - TOLERANCE - CLOCK_SLACK);
	/* Grants less than a window apart: spaced, no pair. */
	memset(g, 0, sizeof(*g));
	burst(&env, b, g, w, 2);
	assert_true(g->at[1] - g->at[0] >= t - TOLERANCE - CLOCK_SLACK);
	/* Recovering from a throttle: spaced at the lowered rate, no pair. */
	ev_sleep(WINDOW + 0.05);
	ratelimit_throttled(b, 0.0);
	memset(g, 0, sizeof(*g));
	burst(&env, b, g, w, 2);
	assert_true(g->at[1] - g->at[0] >= 2 * t - TOLERANCE - CLOCK_SLACK);
	assert_true(max_in_window(g, 1.0) <= 15);
	free(g);
	env_close(&env);
}

static void
test_ratelimit__fifo(void **state)
{
	struct ratelimit_bucket *b;
	struct grants *g = xcalloc(1, sizeof(*g));
	struct waiter w[20];
	struct ratelimit_stats st;
	struct env env;
	int i;

	(void)state;
	env_open(&env);
	b = ratelimit_bucket(env.rl, "a", "r", "fifo", 200);
	for (i = 0; i < 20; i++) {
		w[i].g = g;
		w[i].id = i;
		ratelimit_acquire(b, grant_cb, &w[i]);
	}
	ratelimit_stats(b, &st);
	assert_int_equal(st.waiting, 20);
	assert_int_equal(st.granted, 0);
	assert_true(run_until(env.loop, &g->n, 20, 5.0));
	for (i = 0; i < 20; i++)
		assert_int_equal(g->order[i], i);
	ratelimit_stats(b, &st);
	assert_int_equal(st.waiting, 0);
	assert_int_equal(st.granted, 20);
	free(g);
	env_close(&env);
}

/* A full bucket still grants from the loop, never from the call that asked. */
static void
test_ratelimit__no_sync_grant(void **state)
{
	struct ratelimit_bucket *b;
	struct grants g = {0};
	struct waiter w = {&g, 0};
	struct ratelimit_stats st;
	struct env env;

	(void)state;
	env_open(&env);
	b = ratelimit_bucket(env.rl, "a", "r", "sync", 10);
	ratelimit_stats(b, &st);
	assert_true(st.tokens == 1.0);
	ratelimit_acquire(b, grant_cb, &w);
	assert_int_equal(g.n, 0);
	ev_run(env.loop, EVRUN_NOWAIT);
	assert_int_equal(g.n, 1);
	ratelimit_stats(b, &st);
	assert_true(st.tokens < 0.1);
	assert_int_equal(st.granted, 1);
	env_close(&env);
}

static void
test_ratelimit__cancel(void **state)
{
	struct ratelimit_bucket *b;
	struct ratelimit_wait *h[5];
	struct grants g = {0};
	struct waiter w[5];
	struct ratelimit_stats st;
	struct env env;
	int i;

	(void)state;
	env_open(&env);
	b = ratelimit_bucket(env.rl, "a", "r", "cancel", 100);
	for (i = 0; i < 5; i++) {
		w[i].g = &g;
		w[i].id = i;
		h[i] = ratelimit_acquire(b, grant_cb, &w[i]);
	}
	ratelimit_cancel(h[0]); /* the head */
	ratelimit_cancel(h[3]);
	ratelimit_stats(b, &st);
	assert_int_equal(st.waiting, 3);
	assert_true(run_until(env.loop, &g.n, 3, 5.0));
	run_for(env.loop, 0.1);
	assert_int_equal(g.n, 3);
	assert_int_equal(g.order[0], 1);
	assert_int_equal(g.order[1], 2);
	assert_int_equal(g.order[2], 4);

	/* the only waiter, canceled: nothing is granted */
	ratelimit_cancel(ratelimit_acquire(b, never_cb, NULL));
	run_for(env.loop, 0.1);
	ratelimit_stats(b, &st);
	assert_int_equal(st.waiting, 0);
	assert_int_equal(st.granted, 3);

	/* freeing drops whoever still waits */
	for (i = 0; i < 3; i++)
		ratelimit_acquire(b, never_cb, NULL);
	env_close(&env);
}

static void
test_ratelimit__set_ceiling(void **state)
{
	struct ratelimit_bucket *b;
	struct grants g = {0};
	struct waiter w[4];
	struct ratelimit_stats st;
	struct env env;

	(void)state;
	env_open(&env);
	b = ratelimit_bucket(env.rl, "a", "r", "ceiling", 100);
	/* a later lookup returns the same bucket and keeps its ceiling */
	assert_ptr_equal(ratelimit_bucket(env.rl, "a", "r", "ceiling", 5), b);
	ratelimit_set_ceiling(b, 10);
	ratelimit_stats(b, &st);
	assert_true(st.rate == 10 && st.ceiling == 10);
	burst(&env, b, &g, w, 4);
	check_spacing(&g, 10);
	assert_true(g.at[3] - g.at[0] > 0.29);

	/* a bucket that was not backing off follows its ceiling back up */
	ratelimit_set_ceiling(b, 100);
	ratelimit_stats(b, &st);
	assert_true(st.rate == 100 && st.ceiling == 100);

	/* one that was keeps recovering from where it is... */
	ratelimit_throttled(b, 0);
	ratelimit_set_ceiling(b, 200);
	ratelimit_stats(b, &st);
	assert_true(st.rate == 50 && st.ceiling == 200);
	/* ...unless the new ceiling is lower still */
	ratelimit_set_ceiling(b, 20);
	ratelimit_stats(b, &st);
	assert_true(st.rate == 20 && st.ceiling == 20);
	env_close(&env);
}

static void
test_ratelimit__aimd(void **state)
{
	struct ratelimit_bucket *b, *low;
	struct ratelimit_stats st;
	struct env env;
	double t0, t1, t2, t3, r1;

	(void)state;
	env_open(&env);
	b = ratelimit_bucket(env.rl, "a", "r", "aimd", 20);

	t0 = now_s();
	ratelimit_throttled(b, 0);
	ratelimit_stats(b, &st);
	assert_true(st.rate == 10);
	assert_int_equal(st.throttles, 1);
	/* in-flight requests reporting the same congestion do not halve it again */
	ratelimit_throttled(b, 0);
	ratelimit_throttled(b, 0);
	t1 = now_s();
	ratelimit_stats(b, &st);
	assert_true(st.rate == 10);
	assert_int_equal(st.throttles, 3);

	/* additive recovery: ceiling/20 per second since the last throttle or success */
	run_for(env.loop, 0.5);
	t2 = now_s();
	ratelimit_success(b);
	t3 = now_s();
	ratelimit_stats(b, &st);
	print_message("      after %.3f s of success: %.3f/s (10 + 20/20 x %.3f)\n", t3 - t1,
	    st.rate, t3 - t1);
	/* the last throttle was in [t0, t1], the success in [t2, t3] */
	assert_true(st.rate >= 10 + (t2 - t1) - 1e-9 && st.rate <= 10 + (t3 - t0) + 1e-9);
	r1 = st.rate;

	/* a throttle past the hold-off halves again */
	run_for(env.loop, 1.0);
	ratelimit_throttled(b, 0);
	ratelimit_stats(b, &st);
	assert_true(st.rate == r1 / 2);

	/* never above the ceiling */
	ratelimit_set_ceiling(b, 5.4);
	run_for(env.loop, 0.7);
	ratelimit_success(b);
	ratelimit_stats(b, &st);
	assert_true(st.rate == 5.4);

	/* and never below the floor */
	low = ratelimit_bucket(env.rl, "a", "r", "low", 0.8);
	ratelimit_throttled(low, 0);
	ratelimit_stats(low, &st);
	assert_true(st.rate == 0.5);
	env_close(&env);
}

/* Retry-After holds every grant back. */
static void
test_ratelimit__pause(void **state)
{
	struct ratelimit_bucket *b;
	struct grants g = {0};
	struct waiter w[2];
	struct env env;
	double t0;

	(void)state;
	env_open(&env);
	b = ratelimit_bucket(env.rl, "a", "r", "pause", 100);
	ratelimit_throttled(b, 0.3);
	t0 = now_s();
	burst(&env, b, &g, w, 2);
	print_message("      first grant %.3f s after a 0.3 s Retry-After\n", g.at[0] - t0);
	assert_true(g.at[0] - t0 >= 0.3 - CLOCK_SLACK);
	/* the rate was halved to 50/s */
	assert_true(g.at[1] - g.at[0] >= 1 / (50 * MARGIN) - TOLERANCE - CLOCK_SLACK);
	env_close(&env);
}

static void
visit_cb(const char *account, const char *region, const char *name,
    const struct ratelimit_stats *stats, void *arg)
{
	int *seen = arg;

	assert_string_equal(region, "eu-west-1");
	if (strcmp(account, "A") == 0 && strcmp(name, "shared") == 0) {
		assert_int_equal(stats->throttles, 1);
		assert_true(stats->rate == 7.5 && stats->ceiling == 15);
		seen[0]++;
	} else if (strcmp(account, "B") == 0 && strcmp(name, "shared") == 0) {
		assert_int_equal(stats->throttles, 0);
		assert_int_equal(stats->granted, 1);
		seen[1]++;
	} else if (strcmp(account, "A") == 0 && strcmp(name, "GetFunction") == 0) {
		assert_int_equal(stats->granted, 1);
		seen[2]++;
	} else {
		fail_msg("unexpected bucket %s/%s/%s", account, region, name);
	}
}

/* Buckets do not share tokens, throttles or pauses. */
static void
test_ratelimit__independent(void **state)
{
	struct ratelimit_bucket *a, *b, *c;
	struct grants ga = {0}, gb = {0}, gc = {0};
	struct waiter wa = {&ga, 0}, wb = {&gb, 0}, wc = {&gc, 0};
	struct env env;
	int seen[3] = {0};
	double t0;

	(void)state;
	env_open(&env);
	a = ratelimit_bucket(env.rl, "A", "eu-west-1", RATELIMIT_SHARED, 15);
	b = ratelimit_bucket(env.rl, "B", "eu-west-1", RATELIMIT_SHARED, 15);
	c = ratelimit_bucket(env.rl, "A", "eu-west-1", RATELIMIT_GETFUNCTION, 100);
	assert_true(a != b && a != c && b != c);
	/* Before the throttle: the pause runs from the limiter's clock reading inside it, and
	 * on a loaded machine (its log line) that can be milliseconds before a later one. */
	t0 = now_s();
	ratelimit_throttled(a, 0.5);
	ratelimit_acquire(a, grant_cb, &wa);
	ratelimit_acquire(b, grant_cb, &wb);
	ratelimit_acquire(c, grant_cb, &wc);
	assert_true(run_until(env.loop, &gb.n, 1, 1.0));
	assert_true(run_until(env.loop, &gc.n, 1, 1.0));
	assert_true(gb.at[0] - t0 < 0.25);
	assert_true(gc.at[0] - t0 < 0.25);
	assert_int_equal(ga.n, 0);
	assert_true(run_until(env.loop, &ga.n, 1, 2.0));
	assert_true(ga.at[0] - t0 >= 0.5 - CLOCK_SLACK);

	ratelimit_foreach(env.rl, visit_cb, seen);
	assert_int_equal(seen[0], 1);
	assert_int_equal(seen[1], 1);
	assert_int_equal(seen[2], 1);
	env_close(&env);
}

struct chain {
	struct ratelimit *rl;
	struct ratelimit_bucket *b;
	struct grants g;
	int left;
	bool free_all;
};

/* Acquire the next token from inside a grant, or free everything there. */
static void
chain_cb(void *arg)
{
	struct chain *c = arg;

	c->g.at[c->g.n++] = now_s();
	if (c->free_all) {
		ratelimit_free(c->rl);
		return;
	}
	if (--c->left > 0)
		ratelimit_acquire(c->b, chain_cb, c);
}

static void
test_ratelimit__reenter(void **state)
{
	struct chain c = {0};
	struct env env;

	(void)state;
	env_open(&env);
	c.rl = env.rl;
	c.b = ratelimit_bucket(env.rl, "a", "r", "chain", 50);
	c.left = 10;
	ratelimit_acquire(c.b, chain_cb, &c);
	assert_true(run_until(env.loop, &c.g.n, 10, 5.0));
	check_spacing(&c.g, 50);
	env_close(&env);

	/* ratelimit_free() from a grant, with others still queued */
	memset(&c, 0, sizeof(c));
	env_open(&env);
	c.rl = env.rl;
	c.b = ratelimit_bucket(env.rl, "a", "r", "chain", 50);
	c.free_all = true;
	ratelimit_acquire(c.b, chain_cb, &c);
	ratelimit_acquire(c.b, never_cb, NULL);
	ratelimit_acquire(c.b, never_cb, NULL);
	assert_true(run_until(env.loop, &c.g.n, 1, 5.0));
	run_for(env.loop, 0.1);
	ev_loop_destroy(env.loop);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ratelimit__spacing),
	    cmocka_unit_test(test_ratelimit__pair_after_quiet),
	    cmocka_unit_test(test_ratelimit__fifo),
	    cmocka_unit_test(test_ratelimit__no_sync_grant),
	    cmocka_unit_test(test_ratelimit__cancel),
	    cmocka_unit_test(test_ratelimit__set_ceiling),
	    cmocka_unit_test(test_ratelimit__aimd),
	    cmocka_unit_test(test_ratelimit__pause),
	    cmocka_unit_test(test_ratelimit__independent),
	    cmocka_unit_test(test_ratelimit__reenter),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
