/*
 * Where to send AWS requests (lambda-api.md §10): the region, the service endpoint with
 * its overrides, the STS endpoint for the credential chain, and the metadata-service URLs
 * (container credentials, EC2 instance metadata). Whatever the endpoint, requests are
 * signed with the resolved region and the service's signing name.
 */
#ifndef TETHER_AWS_ENDPOINT_H
#define TETHER_AWS_ENDPOINT_H

#include <stdbool.h>

#include "aws/profile.h"
#include "common/err.h"
#include "common/url.h"

#define ENDPOINT_URL_MAX 2048

/*
 * Check a service endpoint URL and split it with url_parse() (common/url.h): on top of
 * url_parse()'s rules, no query and at most ENDPOINT_URL_MAX bytes; the path is "" or a
 * prefix such as "/base", without trailing '/' (requests append their own path). Every
 * field of out is as url_parse() documents it, and out->query is NULL. Returns 0 (release
 * with url_clear()), or ERR_INVALID with err filled ("endpoint URL ...").
 */
int endpoint_url_parse(struct url *out, const char *url, struct err *err);

struct endpoint {
	char *url; /* scheme://authority[/path], no trailing '/'; requests append their path */
	struct url parts;
	char *region;  /* the signing region */
	char *service; /* the signing name: "lambda", "sts" */
	/* Where the URL came from, for logs (static): "explicit", "AWS_ENDPOINT_URL_LAMBDA",
	 * "AWS_ENDPOINT_URL_STS" (other services: "AWS_ENDPOINT_URL_<SERVICE>"),
	 * "AWS_ENDPOINT_URL", "services", "profile" or "default". */
	const char *source;
};

struct endpoint_opts {
	const char *region;   /* explicit (--region) or NULL */
	const char *endpoint; /* explicit (--endpoint) or NULL */
	const char *profile;  /* explicit (--profile) or NULL: AWS_PROFILE, ... */
	/* Already loaded shared files, or NULL to load them from the environment. Borrowed. */
	const struct profile_files *files;
};

#define ENDPOINT_OPTS_INIT             \
	{                              \
		NULL, NULL, NULL, NULL \
	}

/* Whether a region name is a valid host label ("us-east-1"); endpoints embed it. */
bool endpoint_region_valid(const char *region);
/*
 * The region: explicit, AWS_REGION, AWS_DEFAULT_REGION, the profile's "region". Returns 0
 * and an allocated string in *out, or NULL when none is configured; ERR_INVALID when the
 * value is not a valid region name or a named profile does not exist.
 */
int endpoint_region(char **out, const struct endpoint_opts *opts, struct err *err);
/*
 * The DNS suffix of the region's partition: "amazonaws.com.cn" for cn-*, "c2s.ic.gov" for
 * us-iso-*, "sc2s.sgov.gov" for us-isob-*, else "amazonaws.com". Static.
 */
const char *endpoint_dns_suffix(const char *region);

/*
 * Resolve a service's endpoint. service is the SDK service id in lower case ("lambda",
 * "sts"); the overrides are, first match wins: opts->endpoint, AWS_ENDPOINT_URL_<SERVICE>,
 * AWS_ENDPOINT_URL, endpoint_url under <service> in the [services X] section the profile
 * names, the profile's endpoint_url; AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true (or the
 * profile's ignore_configured_endpoint_urls) keeps only opts->endpoint. Without an
 * override: https://lambda.<region>.<suffix>; for STS the global https://sts.amazonaws.com
 * (signed for us-east-1) unless sts_regional_endpoints (AWS_STS_REGIONAL_ENDPOINTS or the
 * profile) is "regional", the region is outside botocore's legacy global list, or the
 * partition has no global endpoint. Lambda needs a region (ERR_INVALID without one); STS
 * falls back to us-east-1. Returns 0 (release with endpoint_clear()), or ERR_INVALID with
 * err filled.
 */
int endpoint_resolve(
    struct endpoint *out, const char *service, const struct endpoint_opts *opts, struct err *err);
void endpoint_clear(struct endpoint *e);

/*
 * The container credentials URL: "http://169.254.170.2" + relative when relative is set
 * (it must start with '/'), else full, which must be https or name an allowed host: a
 * loopback address (127.0.0.0/8, ::1, localhost), 169.254.170.2, 169.254.170.23 or
 * fd00:ec2::23. Returns 0 and an allocated URL, or ERR_INVALID with err filled.
 */
int endpoint_container_url(char **out, const char *relative, const char *full, struct err *err);
/*
 * The instance metadata base URL: endpoint when set, else http://[fd00:ec2::254] when mode
 * is "IPv6" (any case), else http://169.254.169.254. mode must be NULL, "IPv4" or "IPv6".
 * Returns 0 and an allocated URL without a trailing '/', or ERR_INVALID.
 */
int endpoint_imds_base(char **out, const char *endpoint, const char *mode, struct err *err);

#endif
