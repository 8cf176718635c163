/*
 * Token buckets for the Lambda API budget (architecture §5).
 *
 * Lambda counts requests in any one-second window, so what matters is not the average rate
 * but that no second ever holds more than the quota, as the server sees arrivals. Each
 * bucket is a GCRA (the "virtual scheduling" form of a token bucket, ITU-T I.371): grant k
 * has a theoretical time TAT_k, TAT_{k+1} = max(TAT_k, t_k) + 1/rate', and a grant may go
 * once now >= TAT - tolerance. Idle time never builds up more than that: a full bucket
 * holds one token plus tolerance * rate' (1.15 tokens at 15/s, 1.97 at 100/s).
 *
 * - Margin: rate' = rate * RATELIMIT_MARGIN (0.97). Any n+1 consecutive grants span at least
 *   n/rate' - tolerance, whatever the timers do: at 15/s, 16 grants span at least
 *   15/14.55 - 0.010 = 1.0209 s, so 16 arrivals fit in one second at the server only if
 *   send delays and network jitter squeeze them by more than 20 ms. The same holds for 101
 *   grants at 100/s. The cost is 3 % of the budget.
 *
 * - Tolerance (RATELIMIT_TOLERANCE, 10 ms): grants go out when a timer fires, and timers
 *   fire late (libev sleeps at least 1 ms and rounds its epoll timeout up to whole
 *   milliseconds; a busy or starved process adds more). A strict one-token bucket
 *   (tolerance 0) loses that lateness on every grant: 5-10 % of a 100/s bucket on an idle
 *   machine, 15 % with the load average at 2 per core. The timer aims at TAT - tolerance,
 *   so lateness up to the tolerance leaves TAT where it was and costs nothing; the price
 *   is 10 ms of the window cushion above, which the margin pays for.
 *
 * - AIMD. A throttle halves the rate (not below RATELIMIT_RATE_FLOOR), restarts the
 *   spacing from now and pauses every grant for Retry-After. Throttles reported within
 *   RATELIMIT_DECREASE_HOLDOFF of a decrease do not halve again: requests already in flight
 *   when the first 429 came back report the same congestion, and halving once per report
 *   would take a 15/s bucket to its floor on one burst. Each success then adds the
 *   ceiling/RATELIMIT_RECOVERY_SECONDS per second elapsed since the previous success or
 *   throttle (15/s recovers from 7.5/s in 10 s), never above the ceiling.
 *
 * - A pair after a quiet second. When the bucket granted nothing in the last
 *   RATELIMIT_WINDOW before its latest grant, the next grant goes at once too, and the
 *   schedule moves on by one interval as if it had waited: grants k >= 2 still go no
 *   earlier than k/rate' - tolerance after the first, so n+1 consecutive grants span at
 *   least n/rate' - tolerance exactly as above, and the quiet second means no grant before
 *   the pair shares a window with it. This is what lets the daemon's first two calls after
 *   a webhook (ListAliases, then UpdateFunctionCode) go without a 69 ms wait between them
 *   (bench/latency). Not while recovering from a throttle.
 *
 * Grants are FIFO and delivered from one ev_timer per bucket, never from
 * ratelimit_acquire() itself; a zero timer handles a token that is already there.
 */
#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

#include "aws/ratelimit.h"
#include "common/log.h"
#include "common/xmalloc.h"

#define RATELIMIT_MARGIN 0.97     /* of the rate actually used */
#define RATELIMIT_TOLERANCE 0.010 /* seconds a grant may go ahead of its schedule */
#define RATELIMIT_RATE_FLOOR 0.5
#define RATELIMIT_RECOVERY_SECONDS 20.0
#define RATELIMIT_DECREASE_HOLDOFF 1.0
/* A Retry-After beyond this is treated as this (a broken header must not stop us for hours). */
#define RATELIMIT_PAUSE_MAX 60.0
/* Floating-point slack when comparing the clock with a schedule computed from it. */
#define RATELIMIT_EPSILON 1e-9
/* The quiet time before a grant that lets the next one follow at once (see above). */
#define RATELIMIT_WINDOW (1.0 + RATELIMIT_TOLERANCE)

enum ratelimit_bucket_state {
	RATELIMIT_STEADY,  /* at its ceiling */
	RATELIMIT_BACKOFF, /* below it after a throttle, recovering */
};

static const char *const ratelimit_bucket_state_names[] = {
    [RATELIMIT_STEADY] = "steady",
    [RATELIMIT_BACKOFF] = "backoff",
};

struct ratelimit_wait {
	TAILQ_ENTRY(ratelimit_wait) entry;
	struct ratelimit_bucket *bucket;
	ratelimit_grant_cb cb;
	void *arg;
};

TAILQ_HEAD(ratelimit_wait_list, ratelimit_wait);

struct ratelimit_bucket {
	struct ratelimit *rl;
	TAILQ_ENTRY(ratelimit_bucket) entry;
	char *account;
	char *region;
	char *name;
	enum ratelimit_bucket_state state;
	double rate;
	double ceiling;
	double vt;        /* virtual time of the last grant (monotonic seconds) */
	double last_real; /* real time of the last grant, and of the one before it */
	double prev_real;
	double paused_until; /* no grant before this */
	double last_decrease;
	double last_recover; /* the last success or throttle */
	struct ratelimit_wait_list waiters;
	size_t waiting;
	uint64_t granted;
	uint64_t throttles;
	ev_timer timer;
};

TAILQ_HEAD(ratelimit_bucket_list, ratelimit_bucket);

struct ratelimit {
	struct ev_loop *loop;
	struct ratelimit_bucket_list buckets;
};

static double
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
bucket_set_state(struct ratelimit_bucket *b, enum ratelimit_bucket_state state, const char *why)
{
	if (b->state == state)
		return;
	log_info("ratelimit", "%s/%s/%s: %s -> %s (%s) rate=%.2f ceiling=%.2f", b->account,
	    b->region, b->name, ratelimit_bucket_state_names[b->state],
	    ratelimit_bucket_state_names[state], why, b->rate, b->ceiling);
	b->state = state;
}

/* Seconds between grants. */
static double
interval(const struct ratelimit_bucket *b)
{
	return 1.0 / (b->rate * RATELIMIT_MARGIN);
}

/* Whether the latest grant was the only one in its trailing window (a pair may go). */
static bool
pair_ok(const struct ratelimit_bucket *b, double now)
{
	return b->state == RATELIMIT_STEADY && now >= b->paused_until &&
	       b->last_real - b->prev_real >= RATELIMIT_WINDOW && now - b->last_real < 1.0;
}

/* The earliest time the next grant may go. */
static double
next_grant(const struct ratelimit_bucket *b, double now)
{
	double t = b->vt + interval(b) - RATELIMIT_TOLERANCE;

	if (pair_ok(b, now))
		return now;
	return t > b->paused_until ? t : b->paused_until;
}

/* Arm the timer for the head of the queue, or stop it when nobody waits. */
static void
schedule(struct ratelimit_bucket *b, double now)
{
	double delay;

	ev_timer_stop(b->rl->loop, &b->timer);
	if (TAILQ_EMPTY(&b->waiters))
		return;
	delay = next_grant(b, now) - now;
	ev_timer_set(&b->timer, delay > 0 ? delay : 0., 0.);
	ev_timer_start(b->rl->loop, &b->timer);
}

static void
timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct ratelimit_bucket *b = container_of(t, struct ratelimit_bucket, timer);
	struct ratelimit_wait *w;
	ratelimit_grant_cb cb;
	double now = mono_now(), tat;
	void *arg;

	(void)loop;
	(void)revents;
	w = TAILQ_FIRST(&b->waiters);
	if (w == NULL)
		return;
	/* libev may fire a little before our clock says (its time is cached per iteration). */
	if (now + RATELIMIT_EPSILON < next_grant(b, now)) {
		schedule(b, now);
		return;
	}
	tat = b->vt + interval(b);
	b->vt = tat > now ? tat : now;
	b->prev_real = b->last_real;
	b->last_real = now;
	TAILQ_REMOVE(&b->waiters, w, entry);
	b->waiting--;
	b->granted++;
	cb = w->cb;
	arg = w->arg;
	free(w);
	/* Done with b before the callback: it may acquire, cancel, or free everything. */
	schedule(b, now);
	cb(arg);
}

int
ratelimit_new(struct ratelimit **out, struct ev_loop *loop)
{
	struct ratelimit *rl;

	rl = xcalloc(1, sizeof(*rl));
	rl->loop = loop;
	TAILQ_INIT(&rl->buckets);
	*out = rl;
	return 0;
}

void
ratelimit_free(struct ratelimit *rl)
{
	struct ratelimit_bucket *b;
	struct ratelimit_wait *w;

	if (rl == NULL)
		return;
	while ((b = TAILQ_FIRST(&rl->buckets)) != NULL) {
		ev_timer_stop(rl->loop, &b->timer);
		while ((w = TAILQ_FIRST(&b->waiters)) != NULL) {
			TAILQ_REMOVE(&b->waiters, w, entry);
			free(w);
		}
		TAILQ_REMOVE(&rl->buckets, b, entry);
		free(b->account);
		free(b->region);
		free(b->name);
		free(b);
	}
	free(rl);
}

struct ratelimit_bucket *
ratelimit_bucket(
    struct ratelimit *rl, const char *account, const char *region, const char *name, double ceiling)
{
	struct ratelimit_bucket *b;
	double now;

	assert(account != NULL && region != NULL && name != NULL);
	TAILQ_FOREACH(b, &rl->buckets, entry)
	{
		if (strcmp(b->account, account) == 0 && strcmp(b->region, region) == 0 &&
		    strcmp(b->name, name) == 0)
			return b;
	}
	assert(ceiling > 0);
	now = mono_now();
	b = xcalloc(1, sizeof(*b));
	b->rl = rl;
	b->account = xstrdup(account);
	b->region = xstrdup(region);
	b->name = xstrdup(name);
	b->state = RATELIMIT_STEADY;
	b->rate = ceiling;
	b->ceiling = ceiling;
	b->vt = now - interval(b); /* full: the first grant goes at once */
	b->last_real = b->prev_real = now - 2 * RATELIMIT_WINDOW;
	b->paused_until = 0;
	b->last_decrease = now - RATELIMIT_DECREASE_HOLDOFF;
	b->last_recover = now;
	TAILQ_INIT(&b->waiters);
	ev_init(&b->timer, timer_cb);
	TAILQ_INSERT_TAIL(&rl->buckets, b, entry);
	return b;
}

static double
rate_floor(const struct ratelimit_bucket *b)
{
	return b->ceiling < RATELIMIT_RATE_FLOOR ? b->ceiling : RATELIMIT_RATE_FLOOR;
}

void
ratelimit_set_ceiling(struct ratelimit_bucket *b, double ceiling)
{
	bool at_ceiling = b->rate >= b->ceiling;

	assert(ceiling > 0);
	b->ceiling = ceiling;
	/* A bucket that was not backing off follows its ceiling, up or down. */
	if (at_ceiling || b->rate > ceiling)
		b->rate = ceiling;
	bucket_set_state(
	    b, b->rate >= b->ceiling ? RATELIMIT_STEADY : RATELIMIT_BACKOFF, "ceiling changed");
	schedule(b, mono_now());
}

struct ratelimit_wait *
ratelimit_acquire(struct ratelimit_bucket *b, ratelimit_grant_cb cb, void *arg)
{
	struct ratelimit_wait *w;

	assert(cb != NULL);
	w = xcalloc(1, sizeof(*w));
	w->bucket = b;
	w->cb = cb;
	w->arg = arg;
	TAILQ_INSERT_TAIL(&b->waiters, w, entry);
	b->waiting++;
	/* An armed timer already serves the head of the queue. */
	if (!ev_is_active(&b->timer))
		schedule(b, mono_now());
	return w;
}

void
ratelimit_cancel(struct ratelimit_wait *w)
{
	struct ratelimit_bucket *b;

	if (w == NULL)
		return;
	b = w->bucket;
	TAILQ_REMOVE(&b->waiters, w, entry);
	b->waiting--;
	free(w);
	if (TAILQ_EMPTY(&b->waiters))
		ev_timer_stop(b->rl->loop, &b->timer);
}

void
ratelimit_throttled(struct ratelimit_bucket *b, double retry_after)
{
	double now = mono_now();

	b->throttles++;
	if (now - b->last_decrease >= RATELIMIT_DECREASE_HOLDOFF) {
		b->rate /= 2;
		if (b->rate < rate_floor(b))
			b->rate = rate_floor(b);
		b->last_decrease = now;
	}
	b->last_recover = now;
	/* Whatever token was there is spent: the next grant is a full interval away. */
	if (b->vt < now)
		b->vt = now;
	if (retry_after > RATELIMIT_PAUSE_MAX)
		retry_after = RATELIMIT_PAUSE_MAX;
	if (retry_after > 0 && now + retry_after > b->paused_until)
		b->paused_until = now + retry_after;
	log_info("ratelimit", "%s/%s/%s: throttled rate=%.2f retry_after=%.1f", b->account,
	    b->region, b->name, b->rate, retry_after > 0 ? retry_after : 0.);
	bucket_set_state(
	    b, b->rate >= b->ceiling ? RATELIMIT_STEADY : RATELIMIT_BACKOFF, "throttled");
	schedule(b, now);
}

void
ratelimit_success(struct ratelimit_bucket *b)
{
	double now = mono_now(), elapsed;

	elapsed = now - b->last_recover;
	b->last_recover = now;
	if (b->rate >= b->ceiling || elapsed <= 0)
		return;
	b->rate += b->ceiling / RATELIMIT_RECOVERY_SECONDS * elapsed;
	if (b->rate > b->ceiling)
		b->rate = b->ceiling;
	bucket_set_state(
	    b, b->rate >= b->ceiling ? RATELIMIT_STEADY : RATELIMIT_BACKOFF, "recovered");
	/* A faster rate brings the next grant forward. */
	if (ev_is_active(&b->timer))
		schedule(b, now);
}

void
ratelimit_stats(const struct ratelimit_bucket *b, struct ratelimit_stats *out)
{
	double now = mono_now(), tokens;

	tokens = (now - b->vt) / interval(b);
	if (now < b->paused_until || tokens < 0)
		tokens = 0;
	if (tokens > 1)
		tokens = 1;
	out->rate = b->rate;
	out->ceiling = b->ceiling;
	out->tokens = tokens;
	out->waiting = b->waiting;
	out->granted = b->granted;
	out->throttles = b->throttles;
}

void
ratelimit_foreach(const struct ratelimit *rl, ratelimit_bucket_cb cb, void *arg)
{
	const struct ratelimit_bucket *b;
	struct ratelimit_stats st;

	TAILQ_FOREACH(b, &rl->buckets, entry)
	{
		ratelimit_stats(b, &st);
		cb(b->account, b->region, b->name, &st, arg);
	}
}
