/*
 * Retries as the AWS SDKs' "standard" mode does them (lambda-api.md §11): 3 attempts in
 * all, full-jitter exponential backoff (base 2, capped at 20 s), a retry quota that
 * stops retry storms, and Retry-After as a lower bound on the delay. Throttles, 500, 502,
 * 503, 504 and transport failures are retried; 409 and 412 never are (they need a fresh
 * observation, not the same request again).
 */
#ifndef TETHER_AWS_RETRY_H
#define TETHER_AWS_RETRY_H

#include <stdbool.h>

#define RETRY_MAX_ATTEMPTS 3
#define RETRY_MAX_BACKOFF 20.0
#define RETRY_QUOTA_INITIAL 500
#define RETRY_COST 5
#define RETRY_TIMEOUT_COST 10
#define RETRY_NO_RETRY_INCREMENT 1

enum retry_class {
	RETRY_NONE,      /* success, or an error that must not be retried */
	RETRY_TRANSIENT, /* 5xx, transient error codes, transport failures */
	RETRY_THROTTLE,  /* throttling error codes or 429 */
};

struct retry_quota {
	int available;
};

#define RETRY_QUOTA_INIT            \
	{                           \
		RETRY_QUOTA_INITIAL \
	}

/*
 * Classify an attempt's outcome: status 0 means no response (transport failure; timeout
 * says whether it was a timeout). error_code is the AWS error code or NULL.
 */
enum retry_class retry_classify(long status, const char *error_code, bool transport_error);
/*
 * The delay in seconds before retry number attempt (1 for the first retry):
 * min(rand01 * 2^(attempt-1), 20), raised to retry_after when that is larger (itself
 * capped at 20 s). rand01 is in [0, 1).
 */
double retry_delay(int attempt, double rand01, double retry_after);
/*
 * Take the cost of a retry from the quota. Returns the cost taken (to give back on
 * success), or -1 when the quota is empty and the error must be returned instead.
 */
int retry_quota_acquire(struct retry_quota *q, bool timeout);
/*
 * Give back after a success: the cost of the retry that succeeded, or
 * RETRY_NO_RETRY_INCREMENT when the first attempt succeeded (cost 0).
 */
void retry_quota_release(struct retry_quota *q, int cost);

#endif
