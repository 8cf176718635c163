#include <stdlib.h>

#include "aws/endpoint.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "controller/session.h"

struct session {
	struct ev_loop *loop;
	struct http_engine *http;
	struct credentials *credentials;
	struct ratelimit *ratelimit;
	struct lambda_client *lambda;
	char *region;
	struct endpoint endpoint;
};

int
session_new(
    struct session **out, struct ev_loop *loop, const struct session_opts *opts, struct err *err)
{
	struct endpoint_opts eo = ENDPOINT_OPTS_INIT;
	struct http_engine_opts ho = HTTP_ENGINE_OPTS_INIT;
	struct credentials_opts co = CREDENTIALS_OPTS_INIT;
	struct lambda_client_opts lo = LAMBDA_CLIENT_OPTS_INIT;
	struct session *s;
	int rc;

	*out = NULL;
	s = xcalloc(1, sizeof(*s));
	s->loop = loop;
	eo.region = opts->region;
	eo.endpoint = opts->endpoint;
	eo.profile = opts->profile;
	if ((rc = endpoint_region(&s->region, &eo, err)) != 0)
		goto fail;
	if (s->region == NULL) {
		rc = err_set(
		    err, ERR_INVALID, "no region: use --region, AWS_REGION or a profile's region");
		goto fail;
	}
	eo.region = s->region;
	if ((rc = endpoint_resolve(&s->endpoint, "lambda", &eo, err)) != 0)
		goto fail;
	ho.ca_file = opts->ca_file;
	if ((rc = http_engine_new(&s->http, loop, &ho, err)) != 0)
		goto fail;
	co.profile = opts->profile;
	co.region = s->region;
	if ((rc = credentials_new(&s->credentials, loop, s->http, &co, err)) != 0)
		goto fail;
	if ((rc = ratelimit_new(&s->ratelimit, loop)) != 0) {
		rc = err_set(err, ERR_FAIL, "cannot create the rate limiter");
		goto fail;
	}
	lo.loop = loop;
	lo.http = s->http;
	lo.credentials = s->credentials;
	lo.ratelimit = s->ratelimit;
	lo.region = s->region;
	lo.endpoint = s->endpoint.url;
	lo.api_rps = opts->api_rps;
	lo.observe = opts->observe;
	lo.observe_arg = opts->observe_arg;
	if ((rc = lambda_client_new(&s->lambda, &lo, err)) != 0)
		goto fail;
	log_debug("session", "region=%s endpoint=%s (%s)", s->region, s->endpoint.url,
	    s->endpoint.source);
	*out = s;
	return 0;
fail:
	session_free(s);
	return rc;
}

void
session_free(struct session *s)
{
	if (s == NULL)
		return;
	lambda_client_free(s->lambda);
	ratelimit_free(s->ratelimit);
	credentials_free(s->credentials);
	http_engine_free(s->http);
	endpoint_clear(&s->endpoint);
	free(s->region);
	free(s);
}

struct ev_loop *
session_loop(const struct session *s)
{
	return s->loop;
}

struct lambda_client *
session_lambda(const struct session *s)
{
	return s->lambda;
}

struct ratelimit *
session_ratelimit(const struct session *s)
{
	return s->ratelimit;
}

const char *
session_region(const struct session *s)
{
	return s->region;
}

const char *
session_endpoint(const struct session *s)
{
	return s->endpoint.url;
}
