/*
 * The AWS plumbing every tether command shares: the event loop, the HTTP engine, the
 * credential chain, the API budget's buckets, and a Lambda client for the resolved region
 * and endpoint. One session per process; commands borrow its parts.
 */
#ifndef TETHER_CONTROLLER_SESSION_H
#define TETHER_CONTROLLER_SESSION_H

#include <ev.h>

#include "aws/credentials.h"
#include "aws/http.h"
#include "aws/lambda_client.h"
#include "aws/ratelimit.h"
#include "common/err.h"

struct session;

struct session_opts {
	const char *region;   /* --region; NULL: AWS_REGION, AWS_DEFAULT_REGION, the profile */
	const char *endpoint; /* --endpoint; NULL: AWS_ENDPOINT_URL_LAMBDA, ..., the default */
	const char *profile;  /* --profile; NULL: AWS_PROFILE, AWS_DEFAULT_PROFILE, "default" */
	const char *ca_file;  /* extra trust anchors for TLS; NULL: the system's */
	double api_rps;       /* operator cap on the shared 15/s bucket; 0: none */
	lambda_observe_cb observe; /* every Lambda HTTP answer (metrics); NULL: none */
	void *observe_arg;
};

#define SESSION_OPTS_INIT                               \
	{                                               \
		NULL, NULL, NULL, NULL, 0.0, NULL, NULL \
	}

/*
 * Resolve the region and the Lambda endpoint and build the parts on loop. Nothing is sent
 * yet (credentials are fetched on the first request). Returns 0, or ERR_INVALID /
 * ERR_FAIL with err filled (no region, a bad endpoint, unreadable shared files).
 */
int session_new(
    struct session **out, struct ev_loop *loop, const struct session_opts *opts, struct err *err);
/* Cancel what is in flight and release everything. */
void session_free(struct session *s);
struct ev_loop *session_loop(const struct session *s);
struct lambda_client *session_lambda(const struct session *s);
struct ratelimit *session_ratelimit(const struct session *s);
const char *session_region(const struct session *s);
const char *session_endpoint(const struct session *s);

#endif
