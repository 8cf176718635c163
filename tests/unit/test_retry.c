/*
 * SDK standard-mode retries (lambda-api.md §11): which outcomes are retried and as what,
 * the backoff bounds, and the retry quota's accounting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "aws/retry.h"
#include "common/compat.h"

struct classify_case {
	long status;
	const char *code;
	bool transport;
	enum retry_class want;
};

static const struct classify_case classify_cases[] = {
    {200, NULL, false, RETRY_NONE},
    {201, NULL, false, RETRY_NONE},
    {204, NULL, false, RETRY_NONE},
    /* transport failures: no response at all */
    {0, NULL, true, RETRY_TRANSIENT},
    /* 5xx */
    {500, "ServiceException", false, RETRY_TRANSIENT},
    {500, NULL, false, RETRY_TRANSIENT},
    {502, "EC2UnexpectedException", false, RETRY_TRANSIENT},
    {502, "ResourceNotReadyException", false, RETRY_TRANSIENT},
    {503, NULL, false, RETRY_TRANSIENT},
    {504, NULL, false, RETRY_TRANSIENT},
    {501, NULL, false, RETRY_NONE},
    {505, NULL, false, RETRY_NONE},
    /* throttles, by code whatever the status, and 429 */
    {429, "TooManyRequestsException", false, RETRY_THROTTLE},
    {429, NULL, false, RETRY_THROTTLE},
    {400, "Throttling", false, RETRY_THROTTLE},
    {400, "ThrottlingException", false, RETRY_THROTTLE},
    {400, "ThrottledException", false, RETRY_THROTTLE},
    {400, "RequestThrottledException", false, RETRY_THROTTLE},
    {400, "TooManyRequestsException", false, RETRY_THROTTLE},
    {400, "ProvisionedThroughputExceededException", false, RETRY_THROTTLE},
    {400, "TransactionInProgressException", false, RETRY_THROTTLE},
    {400, "RequestLimitExceeded", false, RETRY_THROTTLE},
    {400, "BandwidthLimitExceeded", false, RETRY_THROTTLE},
    {400, "LimitExceededException", false, RETRY_THROTTLE},
    {400, "RequestThrottled", false, RETRY_THROTTLE},
    {503, "SlowDown", false, RETRY_THROTTLE},
    {502, "EC2ThrottledException", false, RETRY_THROTTLE},
    /* transient codes */
    {400, "RequestTimeout", false, RETRY_TRANSIENT},
    {408, "RequestTimeoutException", false, RETRY_TRANSIENT},
    {400, "PriorRequestNotComplete", false, RETRY_TRANSIENT},
    /* never: a conflict or a stale RevisionId needs a fresh observation */
    {409, "ResourceConflictException", false, RETRY_NONE},
    {409, NULL, false, RETRY_NONE},
    {409, "ThrottlingException", false, RETRY_NONE},
    {412, "PreconditionFailedException", false, RETRY_NONE},
    /* other 4xx */
    {400, "InvalidParameterValueException", false, RETRY_NONE},
    {400, "ResourceInUseException", false, RETRY_NONE},
    {403, "AccessDeniedException", false, RETRY_NONE},
    {403, "InvalidSignatureException", false, RETRY_NONE},
    {404, "ResourceNotFoundException", false, RETRY_NONE},
    {408, "EFSMountTimeoutException", false, RETRY_NONE},
    {408, NULL, false, RETRY_NONE},
    {413, "RequestTooLargeException", false, RETRY_NONE},
    /* codes match exactly */
    {400, "throttlingexception", false, RETRY_NONE},
    {400, "Throttling:http://internal", false, RETRY_NONE},
};

static void
test_retry__classify(void **state)
{
	const struct classify_case *c;
	size_t i;

	(void)state;
	for (i = 0; i < nitems(classify_cases); i++) {
		c = &classify_cases[i];
		if (retry_classify(c->status, c->code, c->transport) != c->want)
			fail_msg("case %zu: %ld %s transport=%d: got %d, want %d", i, c->status,
			    c->code != NULL ? c->code : "(null)", c->transport,
			    retry_classify(c->status, c->code, c->transport), c->want);
	}
}

static void
test_retry__delay(void **state)
{
	double d, cap;
	int attempt, k;

	(void)state;
	/* rand01 * 2^(attempt-1) */
	assert_true(retry_delay(1, 0.0, 0) == 0.0);
	assert_true(retry_delay(1, 0.5, 0) == 0.5);
	assert_true(retry_delay(2, 0.5, 0) == 1.0);
	assert_true(retry_delay(3, 0.75, 0) == 3.0);
	assert_true(retry_delay(5, 0.5, 0) == 8.0);
	/* capped at 20 s */
	assert_true(retry_delay(6, 0.5, 0) == 16.0);
	assert_true(retry_delay(6, 0.99, 0) == RETRY_MAX_BACKOFF);
	assert_true(retry_delay(100, 0.999, 0) == RETRY_MAX_BACKOFF);
	assert_true(retry_delay(100000, 0.001, 0) == RETRY_MAX_BACKOFF);
	/* Retry-After is a floor, itself capped */
	assert_true(retry_delay(1, 0.5, 5.0) == 5.0);
	assert_true(retry_delay(3, 0.75, 2.0) == 3.0);
	assert_true(retry_delay(1, 0.1, 100.0) == RETRY_MAX_BACKOFF);
	assert_true(retry_delay(10, 0.9, 100.0) == RETRY_MAX_BACKOFF);
	assert_true(retry_delay(2, 0.5, 0.2) == 1.0);
	assert_true(retry_delay(2, 0.5, -3.0) == 1.0);

	/* bounds over a sweep of rand01 */
	for (attempt = 1; attempt <= 10; attempt++) {
		cap = 1.0;
		for (k = 1; k < attempt; k++)
			cap *= 2;
		if (cap > RETRY_MAX_BACKOFF)
			cap = RETRY_MAX_BACKOFF;
		for (k = 0; k < 1000; k++) {
			d = retry_delay(attempt, k / 1000.0, 0);
			assert_true(d >= 0.0 && d <= cap);
			d = retry_delay(attempt, k / 1000.0, 7.0);
			assert_true(d >= 7.0 && d <= (cap > 7.0 ? cap : 7.0));
		}
	}
}

static void
test_retry__quota(void **state)
{
	struct retry_quota q = RETRY_QUOTA_INIT;
	int cost, n;

	(void)state;
	assert_int_equal(q.available, 500);
	/* a first-try success never lifts the quota above its start */
	retry_quota_release(&q, 0);
	assert_int_equal(q.available, 500);

	cost = retry_quota_acquire(&q, false);
	assert_int_equal(cost, RETRY_COST);
	assert_int_equal(q.available, 495);
	cost = retry_quota_acquire(&q, true);
	assert_int_equal(cost, RETRY_TIMEOUT_COST);
	assert_int_equal(q.available, 485);
	/* success after a retry refunds that retry's cost */
	retry_quota_release(&q, cost);
	assert_int_equal(q.available, 495);
	/* a first-try success refunds 1 */
	retry_quota_release(&q, 0);
	assert_int_equal(q.available, 496);
	retry_quota_release(&q, RETRY_COST);
	assert_int_equal(q.available, 500);
	retry_quota_release(&q, RETRY_TIMEOUT_COST);
	assert_int_equal(q.available, 500);

	/* 100 retries empty it; then retries stop */
	for (n = 0; retry_quota_acquire(&q, false) > 0; n++)
		;
	assert_int_equal(n, 100);
	assert_int_equal(q.available, 0);
	assert_int_equal(retry_quota_acquire(&q, false), -1);
	assert_int_equal(retry_quota_acquire(&q, true), -1);
	assert_int_equal(q.available, 0);

	/* a timeout needs 10 where a plain retry needs 5 */
	q.available = 7;
	assert_int_equal(retry_quota_acquire(&q, true), -1);
	assert_int_equal(q.available, 7);
	assert_int_equal(retry_quota_acquire(&q, false), RETRY_COST);
	assert_int_equal(q.available, 2);
	for (n = 0; n < 1000; n++)
		retry_quota_release(&q, 0);
	assert_int_equal(q.available, RETRY_QUOTA_INITIAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_retry__classify),
	    cmocka_unit_test(test_retry__delay),
	    cmocka_unit_test(test_retry__quota),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
