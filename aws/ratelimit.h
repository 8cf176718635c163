/*
 * The Lambda API budget (architecture §5). Lambda allows GetFunction 100 requests/s and all
 * other control-plane calls together 15/s, per account and region, and these cannot be
 * raised; CI and humans spend the same budget. Every request is charged to its bucket before
 * it is sent. A bucket is a token bucket whose rate backs off multiplicatively when AWS
 * throttles and recovers additively while it does not (AIMD), never above its ceiling: the
 * quota, or the operator's cap (api_rps) when that is lower.
 *
 * Grants are FIFO and always delivered from the loop, never from inside the call that asked.
 */
#ifndef TETHER_AWS_RATELIMIT_H
#define TETHER_AWS_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#include <ev.h>

#define RATELIMIT_GETFUNCTION "GetFunction"
#define RATELIMIT_SHARED "shared"
#define RATELIMIT_GETFUNCTION_RPS 100.0
#define RATELIMIT_SHARED_RPS 15.0

struct ratelimit;
struct ratelimit_bucket;
struct ratelimit_wait;

struct ratelimit_stats {
	double rate;        /* current rate, requests/s */
	double ceiling;     /* most it may reach */
	double tokens;      /* fill now */
	size_t waiting;     /* requests queued for a token */
	uint64_t granted;   /* tokens handed out so far */
	uint64_t throttles; /* throttle reports so far */
};

typedef void (*ratelimit_grant_cb)(void *arg);
typedef void (*ratelimit_bucket_cb)(const char *account, const char *region, const char *name,
    const struct ratelimit_stats *stats, void *arg);

int ratelimit_new(struct ratelimit **out, struct ev_loop *loop);
/* Release every bucket; queued waiters are dropped without being called. */
void ratelimit_free(struct ratelimit *rl);
/*
 * The bucket for (account, region, name), created on first use with the given ceiling
 * (requests/s). Borrowed; lives as long as rl.
 */
struct ratelimit_bucket *ratelimit_bucket(struct ratelimit *rl, const char *account,
    const char *region, const char *name, double ceiling);
/* Lower (or restore) a bucket's ceiling, e.g. the operator's api_rps. */
void ratelimit_set_ceiling(struct ratelimit_bucket *b, double ceiling);
/*
 * Queue for one token; cb(arg) runs from the loop when it is granted. The handle is valid
 * until then or until ratelimit_cancel().
 */
struct ratelimit_wait *ratelimit_acquire(
    struct ratelimit_bucket *b, ratelimit_grant_cb cb, void *arg);
void ratelimit_cancel(struct ratelimit_wait *w);
/*
 * AWS throttled a request charged to b: halve the rate, and hand out nothing for
 * retry_after seconds (0 when the response had no Retry-After).
 */
void ratelimit_throttled(struct ratelimit_bucket *b, double retry_after);
/* A request charged to b was not throttled: recover the rate additively. */
void ratelimit_success(struct ratelimit_bucket *b);
void ratelimit_stats(const struct ratelimit_bucket *b, struct ratelimit_stats *out);
/* Visit every bucket (metrics, status). */
void ratelimit_foreach(const struct ratelimit *rl, ratelimit_bucket_cb cb, void *arg);

#endif
