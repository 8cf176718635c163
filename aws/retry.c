/*
 * The AWS SDKs' "standard" retry mode (botocore retries/standard.py), as pure functions:
 * the caller owns the clock, the random numbers and the quota.
 */
#include <stddef.h>
#include <string.h>

#include "aws/retry.h"
#include "common/compat.h"

static const char *const throttle_codes[] = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "EC2ThrottledException",
};

static const char *const transient_codes[] = {
    "RequestTimeout",
    "RequestTimeoutException",
    "PriorRequestNotComplete",
};

static bool
code_in(const char *code, const char *const *list, size_t n)
{
	size_t i;

	if (code == NULL)
		return false;
	for (i = 0; i < n; i++)
		if (strcmp(code, list[i]) == 0)
			return true;
	return false;
}

enum retry_class
retry_classify(long status, const char *error_code, bool transport_error)
{
	if (transport_error)
		return RETRY_TRANSIENT;
	/* A conflict or a stale RevisionId needs a fresh observation, whatever the code says. */
	if (status == 409 || status == 412)
		return RETRY_NONE;
	if (code_in(error_code, throttle_codes, nitems(throttle_codes)) || status == 429)
		return RETRY_THROTTLE;
	if (code_in(error_code, transient_codes, nitems(transient_codes)))
		return RETRY_TRANSIENT;
	if (status == 500 || status == 502 || status == 503 || status == 504)
		return RETRY_TRANSIENT;
	return RETRY_NONE;
}

double
retry_delay(int attempt, double rand01, double retry_after)
{
	double d, scale = 1.0, floor_s;
	int i;

	if (!(rand01 >= 0.0)) /* also NaN */
		rand01 = 0.0;
	if (rand01 > 1.0)
		rand01 = 1.0;
	/* 2^(attempt-1), exact; stopped at 2^1000 to stay finite, far above the cap. */
	for (i = 1; i < attempt && i <= 1000; i++)
		scale *= 2.0;
	d = rand01 * scale;
	if (d > RETRY_MAX_BACKOFF)
		d = RETRY_MAX_BACKOFF;
	floor_s = retry_after > RETRY_MAX_BACKOFF ? RETRY_MAX_BACKOFF : retry_after;
	if (floor_s > d) /* false for NaN and for a negative or absent Retry-After */
		d = floor_s;
	return d;
}

int
retry_quota_acquire(struct retry_quota *q, bool timeout)
{
	int cost = timeout ? RETRY_TIMEOUT_COST : RETRY_COST;

	if (q->available < cost)
		return -1;
	q->available -= cost;
	return cost;
}

void
retry_quota_release(struct retry_quota *q, int cost)
{
	int inc = cost > 0 ? cost : RETRY_NO_RETRY_INCREMENT;

	q->available =
	    q->available > RETRY_QUOTA_INITIAL - inc ? RETRY_QUOTA_INITIAL : q->available + inc;
}
