#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws/endpoint.h"
#include "common/xmalloc.h"

/* botocore's LEGACY_GLOBAL_STS_REGIONS: these use sts.amazonaws.com in "legacy" mode. */
static const char *const legacy_global_sts[] = {"ap-northeast-1", "ap-south-1", "ap-southeast-1",
    "ap-southeast-2", "aws-global", "ca-central-1", "eu-central-1", "eu-north-1", "eu-west-1",
    "eu-west-2", "eu-west-3", "sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2"};

static const char *
env_nonempty(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

int
endpoint_url_parse(struct url *out, const char *url, struct err *err)
{
	struct err uerr = ERR_INIT;
	size_t n;
	int rc;

	memset(out, 0, sizeof(*out));
	if (url != NULL && strlen(url) > ENDPOINT_URL_MAX)
		return err_set(
		    err, ERR_INVALID, "endpoint URL is longer than %d bytes", ENDPOINT_URL_MAX);
	rc = url_parse(out, url, &uerr);
	if (rc != 0)
		/* url_parse()'s messages start with "URL": say which one. */
		return err_set(err, rc, "endpoint %s", uerr.message);
	if (out->query != NULL) {
		url_clear(out);
		return err_set(err, ERR_INVALID,
		    "endpoint URL \"%.200s\" must not have a query or a fragment", url);
	}
	n = strlen(out->path);
	while (n > 0 && out->path[n - 1] == '/')
		out->path[--n] = '\0';
	return 0;
}

bool
endpoint_region_valid(const char *region)
{
	size_t i, n = strlen(region);

	/* botocore's valid host label: [a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])? */
	if (n == 0 || n > 63 || region[0] == '-' || region[n - 1] == '-')
		return false;
	for (i = 0; i < n; i++) {
		if (!isalnum((unsigned char)region[i]) && region[i] != '-')
			return false;
	}
	return true;
}

const char *
endpoint_dns_suffix(const char *region)
{
	if (strncmp(region, "cn-", 3) == 0)
		return "amazonaws.com.cn";
	if (strncmp(region, "us-isob-", 8) == 0)
		return "sc2s.sgov.gov";
	if (strncmp(region, "us-iso-", 7) == 0)
		return "c2s.ic.gov";
	return "amazonaws.com";
}

/* The shared files to use: the caller's, or freshly loaded ones in *owned. */
static int
files_for(const struct endpoint_opts *opts, struct profile_files **owned,
    const struct profile_files **out, const char **profile, struct err *err)
{
	bool named;
	int rc;

	*owned = NULL;
	*out = opts->files;
	if (*out == NULL) {
		rc = profile_files_load(owned, err);
		if (rc != 0)
			return rc;
		*out = *owned;
	}
	*profile = profile_name_select(opts->profile);
	/* A profile somebody named must exist, even "default" (botocore's ProfileNotFound). */
	named = (opts->profile != NULL && *opts->profile != '\0') ||
	        env_nonempty("AWS_PROFILE") != NULL || env_nonempty("AWS_DEFAULT_PROFILE") != NULL;
	return profile_files_check(*out, *profile, named, err);
}

static int
region_from(char **out, const struct endpoint_opts *opts, const struct profile_files *pf,
    const char *profile, struct err *err)
{
	const char *r, *src;

	*out = NULL;
	r = opts->region;
	src = "the explicit region";
	if (r == NULL || *r == '\0') {
		r = env_nonempty("AWS_REGION");
		src = "AWS_REGION";
	}
	if (r == NULL) {
		r = env_nonempty("AWS_DEFAULT_REGION");
		src = "AWS_DEFAULT_REGION";
	}
	if (r == NULL) {
		r = profile_files_get(pf, profile, "region");
		src = "the profile's region";
		if (r != NULL && *r == '\0')
			r = NULL;
	}
	if (r == NULL)
		return 0;
	if (!endpoint_region_valid(r))
		return err_set(
		    err, ERR_INVALID, "%s \"%.100s\" is not a valid region name", src, r);
	*out = xstrdup(r);
	return 0;
}

int
endpoint_region(char **out, const struct endpoint_opts *opts, struct err *err)
{
	struct profile_files *owned = NULL;
	const struct profile_files *pf;
	const char *profile;
	int rc;

	*out = NULL;
	rc = files_for(opts, &owned, &pf, &profile, err);
	if (rc == 0)
		rc = region_from(out, opts, pf, profile, err);
	profile_files_free(owned);
	return rc;
}

static bool
is_true(const char *v)
{
	return v != NULL && strcasecmp(v, "true") == 0;
}

/* The configured override for a service, or NULL; *source says where it came from. */
static const char *
override_url(const char *service, const struct endpoint_opts *opts, const struct profile_files *pf,
    const char *profile, const char **source, char **env_name)
{
	const char *v, *ignore;
	size_t i;

	*env_name = NULL;
	if (opts->endpoint != NULL && *opts->endpoint != '\0') {
		*source = "explicit";
		return opts->endpoint;
	}
	ignore = env_nonempty("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
	if (ignore == NULL)
		ignore = profile_files_get(pf, profile, "ignore_configured_endpoint_urls");
	if (is_true(ignore))
		return NULL;
	*env_name = xasprintf("AWS_ENDPOINT_URL_%s", service);
	for (i = strlen("AWS_ENDPOINT_URL_"); (*env_name)[i] != '\0'; i++) {
		char c = (*env_name)[i];

		(*env_name)[i] = c == ' ' || c == '-' ? '_' : (char)toupper((unsigned char)c);
	}
	v = env_nonempty(*env_name);
	if (v != NULL) {
		*source = "AWS_ENDPOINT_URL_<SERVICE>";
		return v;
	}
	v = env_nonempty("AWS_ENDPOINT_URL");
	if (v != NULL) {
		*source = "AWS_ENDPOINT_URL";
		return v;
	}
	v = profile_files_service_get(pf, profile, service, "endpoint_url");
	if (v != NULL && *v != '\0') {
		*source = "services";
		return v;
	}
	v = profile_files_get(pf, profile, "endpoint_url");
	if (v != NULL && *v != '\0') {
		*source = "profile";
		return v;
	}
	return NULL;
}

static bool
legacy_global(const char *region)
{
	size_t i;

	for (i = 0; i < nitems(legacy_global_sts); i++) {
		if (strcmp(region, legacy_global_sts[i]) == 0)
			return true;
	}
	return false;
}

int
endpoint_resolve(
    struct endpoint *out, const char *service, const struct endpoint_opts *opts, struct err *err)
{
	struct profile_files *owned = NULL;
	const struct profile_files *pf;
	const char *profile, *url, *source = "default", *mode;
	char *region = NULL, *env_name = NULL, *built = NULL;
	bool sts = strcmp(service, "sts") == 0;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = files_for(opts, &owned, &pf, &profile, err);
	if (rc == 0)
		rc = region_from(&region, opts, pf, profile, err);
	if (rc != 0)
		goto out;
	url = override_url(service, opts, pf, profile, &source, &env_name);
	if (url != NULL && strcmp(source, "AWS_ENDPOINT_URL_<SERVICE>") == 0)
		source = strcmp(service, "lambda") == 0 ? "AWS_ENDPOINT_URL_LAMBDA"
		         : sts                          ? "AWS_ENDPOINT_URL_STS"
		                                        : "AWS_ENDPOINT_URL_<SERVICE>";
	if (url == NULL && sts) {
		mode = env_nonempty("AWS_STS_REGIONAL_ENDPOINTS");
		if (mode == NULL)
			mode = profile_files_get(pf, profile, "sts_regional_endpoints");
		if (mode != NULL && strcmp(mode, "legacy") != 0 && strcmp(mode, "regional") != 0) {
			rc = err_set(err, ERR_INVALID,
			    "sts_regional_endpoints is \"%.100s\"; expected legacy or regional",
			    mode);
			goto out;
		}
		if (region == NULL ||
		    ((mode == NULL || strcmp(mode, "legacy") == 0) && legacy_global(region))) {
			free(region);
			region = xstrdup("us-east-1");
			built = xstrdup("https://sts.amazonaws.com");
		} else {
			built = xasprintf("https://sts.%s.%s", region, endpoint_dns_suffix(region));
		}
		url = built;
	} else if (url == NULL) {
		if (region == NULL) {
			rc = err_set(err, ERR_INVALID,
			    "no region: use --region, AWS_REGION, AWS_DEFAULT_REGION or the "
			    "profile's region");
			goto out;
		}
		built = xasprintf("https://%s.%s.%s", service, region, endpoint_dns_suffix(region));
		url = built;
	}
	if (region == NULL) {
		if (!sts) {
			rc = err_set(err, ERR_INVALID,
			    "no region to sign for: use --region, AWS_REGION, AWS_DEFAULT_REGION "
			    "or the profile's region");
			goto out;
		}
		region = xstrdup("us-east-1");
	}
	rc = endpoint_url_parse(&out->parts, url, err);
	if (rc != 0)
		goto out;
	out->url = xasprintf("%s://%s%s", out->parts.scheme, out->parts.authority, out->parts.path);
	out->region = region;
	region = NULL;
	out->service = xstrdup(service);
	out->source = source;
out:
	if (rc != 0)
		endpoint_clear(out);
	free(region);
	free(env_name);
	free(built);
	profile_files_free(owned);
	return rc;
}

void
endpoint_clear(struct endpoint *e)
{
	if (e == NULL)
		return;
	free(e->url);
	url_clear(&e->parts);
	free(e->region);
	free(e->service);
	memset(e, 0, sizeof(*e));
}

static bool
container_host_allowed(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (strcmp(host, "localhost") == 0 || strcmp(host, "169.254.170.2") == 0 ||
	    strcmp(host, "169.254.170.23") == 0)
		return true;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1) {
		static const unsigned char eks[16] = {
		    0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x23};

		return IN6_IS_ADDR_LOOPBACK(&a6) || memcmp(&a6, eks, 16) == 0;
	}
	return false;
}

int
endpoint_container_url(char **out, const char *relative, const char *full, struct err *err)
{
	struct url u;
	const char *p;
	int rc;

	*out = NULL;
	if (relative != NULL) {
		if (relative[0] != '/')
			return err_set(err, ERR_INVALID,
			    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI must start with '/'");
		for (p = relative; *p != '\0'; p++) {
			if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
				return err_set(err, ERR_INVALID,
				    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI has white space or a "
				    "non-ASCII byte");
		}
		*out = xasprintf("http://169.254.170.2%s", relative);
		return 0;
	}
	if (full == NULL)
		return err_set(err, ERR_INVALID, "no container credentials URI");
	/* The full URI may carry a query; check the part before it. */
	p = full + strcspn(full, "?#");
	{
		char *base = xstrndup(full, (size_t)(p - full));

		rc = endpoint_url_parse(&u, base, err);
		free(base);
	}
	if (rc != 0)
		return rc;
	if (strcmp(u.scheme, "https") != 0 && !container_host_allowed(u.host)) {
		rc = err_set(err, ERR_INVALID,
		    "AWS_CONTAINER_CREDENTIALS_FULL_URI host \"%.100s\" is not allowed: use https, "
		    "a loopback address, 169.254.170.2, 169.254.170.23 or fd00:ec2::23",
		    u.host);
		url_clear(&u);
		return rc;
	}
	for (p = full; *p != '\0'; p++) {
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f) {
			url_clear(&u);
			return err_set(err, ERR_INVALID,
			    "AWS_CONTAINER_CREDENTIALS_FULL_URI has white space or a non-ASCII "
			    "byte");
		}
	}
	url_clear(&u);
	*out = xstrdup(full);
	return 0;
}

int
endpoint_imds_base(char **out, const char *endpoint, const char *mode, struct err *err)
{
	struct url u;
	const char *base;
	size_t n;
	int rc;

	*out = NULL;
	if (mode != NULL && *mode != '\0' && strcasecmp(mode, "ipv4") != 0 &&
	    strcasecmp(mode, "ipv6") != 0)
		return err_set(err, ERR_INVALID,
		    "ec2_metadata_service_endpoint_mode is \"%.50s\"; expected IPv4 or IPv6", mode);
	if (endpoint != NULL && *endpoint != '\0')
		base = endpoint;
	else if (mode != NULL && strcasecmp(mode, "ipv6") == 0)
		base = "http://[fd00:ec2::254]";
	else
		base = "http://169.254.169.254";
	rc = endpoint_url_parse(&u, base, err);
	if (rc != 0)
		return rc;
	url_clear(&u);
	n = strlen(base);
	while (n > 0 && base[n - 1] == '/')
		n--;
	*out = xstrndup(base, n);
	return 0;
}
