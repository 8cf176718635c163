/*
 * Region and endpoint resolution (lambda-api.md §10): URL checks, the region order, the
 * Lambda endpoint with every override and partition, the STS endpoint (global, regional,
 * overridden), and the metadata-service URLs (container relative and full URIs with the
 * allowed hosts, instance metadata in both address families). Config files live in a
 * mkdtemp directory; the environment is reset before each test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "aws/endpoint.h"
#include "common/xmalloc.h"
#include "tests/lib/tmpdir.h"

static const char *const env_vars[] = {"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION",
    "AWS_DEFAULT_REGION", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_LAMBDA", "AWS_ENDPOINT_URL_STS", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    "AWS_STS_REGIONAL_ENDPOINTS"};

struct fixture {
	char dir[1024];
	char *config;
	char *credentials;
};

static void
write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static int
setup(void **state)
{
	struct fixture *fx = xcalloc(1, sizeof(*fx));
	size_t i;

	if (tmpdir_make(fx->dir, sizeof(fx->dir), "test_endpoint") != 0)
		return -1;
	for (i = 0; i < sizeof(env_vars) / sizeof(env_vars[0]); i++)
		unsetenv(env_vars[i]);
	fx->config = xasprintf("%s/config", fx->dir);
	fx->credentials = xasprintf("%s/credentials", fx->dir);
	setenv("AWS_CONFIG_FILE", fx->config, 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", fx->credentials, 1);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	if (tmpdir_remove(fx->dir) != 0)
		fprintf(stderr, "could not remove %s\n", fx->dir);
	free(fx->config);
	free(fx->credentials);
	free(fx);
	return 0;
}

static void
url_ok(const char *url, const char *scheme, const char *host, int port, const char *authority,
    const char *path)
{
	struct url u;
	struct err err = ERR_INIT;

	if (endpoint_url_parse(&u, url, &err) != 0)
		fail_msg("%s: %s", url, err.message);
	assert_string_equal(u.scheme, scheme);
	assert_string_equal(u.host, host);
	assert_int_equal(u.port, port);
	assert_string_equal(u.authority, authority);
	assert_string_equal(u.path, path);
	url_clear(&u);
}

static void
url_bad(const char *url)
{
	struct url u;
	struct err err = ERR_INIT;

	if (endpoint_url_parse(&u, url, &err) == 0)
		fail_msg("accepted %s", url);
	assert_int_equal(err.code, ERR_INVALID);
	assert_null(u.scheme);
	assert_null(u.host);
}

static void
test_endpoint__url_parse(void **state)
{
	char *long_url;

	(void)state;
	url_ok("https://lambda.us-east-1.amazonaws.com", "https", "lambda.us-east-1.amazonaws.com",
	    443, "lambda.us-east-1.amazonaws.com", "");
	url_ok("http://127.0.0.1:9001/", "http", "127.0.0.1", 9001, "127.0.0.1:9001", "");
	url_ok("HTTP://LocalHost:80/base//", "http", "localhost", 80, "localhost", "/base");
	url_ok("https://h:443/a/b", "https", "h", 443, "h", "/a/b");
	url_ok("https://h:80", "https", "h", 80, "h:80", "");
	url_ok("http://[::1]:8080/x", "http", "::1", 8080, "[::1]:8080", "/x");
	url_ok("http://[FD00:EC2::254]", "http", "fd00:ec2::254", 80, "[fd00:ec2::254]", "");
	url_bad("");
	url_bad("lambda.us-east-1.amazonaws.com");
	url_bad("ftp://h/");
	url_bad("https://");
	url_bad("https:///path");
	url_bad("https://user:pw@h/");
	url_bad("https://h/?q=1");
	url_bad("https://h/#frag");
	url_bad("https://h /");
	url_bad("https://h/\n");
	url_bad("https://h:0/");
	url_bad("https://h:65536/");
	url_bad("https://h:/");
	url_bad("https://h:8x/");
	url_bad("https://h:123456/");
	url_bad("https://[::1/");
	url_bad("https://[zz::1]/");
	url_bad("https://[::1]x/");
	url_bad("https://h!x/");
	url_bad("https://h\xc3\xa9/");
	long_url = xcalloc(1, ENDPOINT_URL_MAX + 16);
	memcpy(long_url, "https://h/", 10);
	memset(long_url + 10, 'a', ENDPOINT_URL_MAX);
	url_bad(long_url);
	free(long_url);
}

static void
test_endpoint__region_names(void **state)
{
	(void)state;
	assert_true(endpoint_region_valid("us-east-1"));
	assert_true(endpoint_region_valid("cn-northwest-1"));
	assert_true(endpoint_region_valid("local"));
	assert_false(endpoint_region_valid(""));
	assert_false(endpoint_region_valid("-us-east-1"));
	assert_false(endpoint_region_valid("us-east-1-"));
	assert_false(endpoint_region_valid("us_east_1"));
	assert_false(endpoint_region_valid("us.east.1"));
	assert_false(endpoint_region_valid("evil.com/x"));
	assert_string_equal(endpoint_dns_suffix("us-east-1"), "amazonaws.com");
	assert_string_equal(endpoint_dns_suffix("us-gov-west-1"), "amazonaws.com");
	assert_string_equal(endpoint_dns_suffix("cn-north-1"), "amazonaws.com.cn");
	assert_string_equal(endpoint_dns_suffix("us-iso-east-1"), "c2s.ic.gov");
	assert_string_equal(endpoint_dns_suffix("us-isob-east-1"), "sc2s.sgov.gov");
}

static char *
region(const struct endpoint_opts *o, int *rc, struct err *err)
{
	char *r = NULL;

	*rc = endpoint_region(&r, o, err);
	return r;
}

static void
test_endpoint__region_order(void **state)
{
	struct fixture *fx = *state;
	struct endpoint_opts o = ENDPOINT_OPTS_INIT;
	struct err err = ERR_INIT;
	char *r;
	int rc;

	/* nothing configured: no region, and that is not an error */
	r = region(&o, &rc, &err);
	assert_int_equal(rc, 0);
	assert_null(r);
	write_text(fx->config, "[default]\nregion = eu-west-1\n[profile p]\nregion = ap-south-1\n");
	r = region(&o, &rc, &err);
	assert_string_equal(r, "eu-west-1");
	free(r);
	setenv("AWS_PROFILE", "p", 1);
	r = region(&o, &rc, &err);
	assert_string_equal(r, "ap-south-1");
	free(r);
	setenv("AWS_DEFAULT_REGION", "us-west-2", 1);
	r = region(&o, &rc, &err);
	assert_string_equal(r, "us-west-2");
	free(r);
	setenv("AWS_REGION", "us-east-2", 1);
	r = region(&o, &rc, &err);
	assert_string_equal(r, "us-east-2");
	free(r);
	o.region = "ca-central-1";
	r = region(&o, &rc, &err);
	assert_string_equal(r, "ca-central-1");
	free(r);
	o.region = "bad/region";
	r = region(&o, &rc, &err);
	assert_int_equal(rc, ERR_INVALID);
	assert_null(r);
	assert_string_equal(
	    err.message, "the explicit region \"bad/region\" is not a valid region name");
	o.region = NULL;
	unsetenv("AWS_REGION");
	unsetenv("AWS_DEFAULT_REGION");
	/* a named profile must exist */
	o.profile = "missing";
	r = region(&o, &rc, &err);
	assert_int_equal(rc, ERR_INVALID);
	assert_null(r);
	assert_non_null(strstr(err.message, "profile \"missing\" not found"));
	o.profile = NULL;
	setenv("AWS_PROFILE", "missing", 1);
	r = region(&o, &rc, &err);
	assert_int_equal(rc, ERR_INVALID);
	unsetenv("AWS_PROFILE");
	/* a region from the credentials file counts too (botocore's merged profile) */
	write_text(fx->config, "[profile other]\nregion = x\n");
	write_text(fx->credentials, "[default]\nregion = sa-east-1\n");
	r = region(&o, &rc, &err);
	assert_string_equal(r, "sa-east-1");
	free(r);
}

static void
resolve_ok(const char *service, const struct endpoint_opts *o, const char *url,
    const char *region_want, const char *source)
{
	struct endpoint e;
	struct err err = ERR_INIT;

	if (endpoint_resolve(&e, service, o, &err) != 0)
		fail_msg("%s: %s", service, err.message);
	assert_string_equal(e.url, url);
	assert_string_equal(e.region, region_want);
	assert_string_equal(e.service, service);
	assert_string_equal(e.source, source);
	endpoint_clear(&e);
	assert_null(e.url);
}

static void
resolve_fails(const char *service, const struct endpoint_opts *o, const char *message)
{
	struct endpoint e;
	struct err err = ERR_INIT;

	assert_int_equal(endpoint_resolve(&e, service, o, &err), ERR_INVALID);
	assert_null(e.url);
	if (message != NULL)
		assert_string_equal(err.message, message);
}

static void
test_endpoint__lambda(void **state)
{
	struct fixture *fx = *state;
	struct endpoint_opts o = ENDPOINT_OPTS_INIT;

	resolve_fails("lambda", &o,
	    "no region: use --region, AWS_REGION, AWS_DEFAULT_REGION or the profile's region");
	o.region = "us-east-1";
	resolve_ok("lambda", &o, "https://lambda.us-east-1.amazonaws.com", "us-east-1", "default");
	o.region = "cn-north-1";
	resolve_ok(
	    "lambda", &o, "https://lambda.cn-north-1.amazonaws.com.cn", "cn-north-1", "default");
	o.region = "us-gov-west-1";
	resolve_ok(
	    "lambda", &o, "https://lambda.us-gov-west-1.amazonaws.com", "us-gov-west-1", "default");
	o.region = "eu-west-1";
	/* the overrides, weakest first; each one added must win */
	write_text(fx->config, "[default]\nendpoint_url = http://127.0.0.1:1\nservices = s\n"
	                       "[services s]\nlambda =\n  endpoint_url = http://127.0.0.1:2/\n"
	                       "sts =\n  endpoint_url = http://127.0.0.1:7\n");
	resolve_ok("lambda", &o, "http://127.0.0.1:2", "eu-west-1", "services");
	write_text(fx->config, "[default]\nendpoint_url = http://127.0.0.1:1\n");
	resolve_ok("lambda", &o, "http://127.0.0.1:1", "eu-west-1", "profile");
	write_text(fx->config, "[default]\nendpoint_url = http://127.0.0.1:1\nservices = s\n"
	                       "[services s]\nlambda =\n  endpoint_url = http://127.0.0.1:2/\n");
	setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:3", 1);
	resolve_ok("lambda", &o, "http://127.0.0.1:3", "eu-west-1", "AWS_ENDPOINT_URL");
	setenv("AWS_ENDPOINT_URL_LAMBDA", "http://localhost:4/prefix/", 1);
	resolve_ok(
	    "lambda", &o, "http://localhost:4/prefix", "eu-west-1", "AWS_ENDPOINT_URL_LAMBDA");
	o.endpoint = "https://example.com:8443";
	resolve_ok("lambda", &o, "https://example.com:8443", "eu-west-1", "explicit");
	/* ignoring configured endpoints keeps only the explicit one */
	setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true", 1);
	resolve_ok("lambda", &o, "https://example.com:8443", "eu-west-1", "explicit");
	o.endpoint = NULL;
	resolve_ok("lambda", &o, "https://lambda.eu-west-1.amazonaws.com", "eu-west-1", "default");
	unsetenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
	write_text(fx->config, "[default]\nignore_configured_endpoint_urls = TRUE\n");
	resolve_ok("lambda", &o, "https://lambda.eu-west-1.amazonaws.com", "eu-west-1", "default");
	write_text(fx->config, "[default]\n");
	/* an override still needs a region to sign with */
	o.region = NULL;
	resolve_fails("lambda", &o,
	    "no region to sign for: use --region, AWS_REGION, AWS_DEFAULT_REGION or the profile's "
	    "region");
	o.region = "eu-west-1";
	setenv("AWS_ENDPOINT_URL_LAMBDA", "ftp://x", 1);
	resolve_fails("lambda", &o, "endpoint URL \"ftp://x\": the scheme must be http or https");
	unsetenv("AWS_ENDPOINT_URL_LAMBDA");
	unsetenv("AWS_ENDPOINT_URL");
	/* a broken config file is an error */
	write_text(fx->config, "junk\n");
	resolve_fails("lambda", &o, NULL);
}

static void
test_endpoint__sts(void **state)
{
	struct fixture *fx = *state;
	struct endpoint_opts o = ENDPOINT_OPTS_INIT;
	struct endpoint e;
	struct err err = ERR_INIT;

	/* no region: the global endpoint, signed for us-east-1 */
	resolve_ok("sts", &o, "https://sts.amazonaws.com", "us-east-1", "default");
	o.region = "eu-west-1";
	resolve_ok("sts", &o, "https://sts.amazonaws.com", "us-east-1", "default");
	/* regions outside the legacy list always use their own endpoint */
	o.region = "af-south-1";
	resolve_ok("sts", &o, "https://sts.af-south-1.amazonaws.com", "af-south-1", "default");
	o.region = "cn-north-1";
	resolve_ok("sts", &o, "https://sts.cn-north-1.amazonaws.com.cn", "cn-north-1", "default");
	o.region = "us-gov-west-1";
	resolve_ok(
	    "sts", &o, "https://sts.us-gov-west-1.amazonaws.com", "us-gov-west-1", "default");
	o.region = "eu-west-1";
	setenv("AWS_STS_REGIONAL_ENDPOINTS", "regional", 1);
	resolve_ok("sts", &o, "https://sts.eu-west-1.amazonaws.com", "eu-west-1", "default");
	setenv("AWS_STS_REGIONAL_ENDPOINTS", "legacy", 1);
	resolve_ok("sts", &o, "https://sts.amazonaws.com", "us-east-1", "default");
	setenv("AWS_STS_REGIONAL_ENDPOINTS", "sometimes", 1);
	resolve_fails(
	    "sts", &o, "sts_regional_endpoints is \"sometimes\"; expected legacy or regional");
	unsetenv("AWS_STS_REGIONAL_ENDPOINTS");
	write_text(fx->config, "[default]\nsts_regional_endpoints = regional\n");
	resolve_ok("sts", &o, "https://sts.eu-west-1.amazonaws.com", "eu-west-1", "default");
	/* an override keeps the configured region for signing */
	setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5", 1);
	resolve_ok("sts", &o, "http://127.0.0.1:5", "eu-west-1", "AWS_ENDPOINT_URL");
	setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:6", 1);
	resolve_ok("sts", &o, "http://127.0.0.1:6", "eu-west-1", "AWS_ENDPOINT_URL_STS");
	o.region = NULL;
	resolve_ok("sts", &o, "http://127.0.0.1:6", "us-east-1", "AWS_ENDPOINT_URL_STS");
	assert_int_equal(endpoint_resolve(&e, "sts", &o, &err), 0);
	assert_string_equal(e.parts.authority, "127.0.0.1:6");
	assert_string_equal(e.parts.path, "");
	endpoint_clear(&e);
	unsetenv("AWS_ENDPOINT_URL_STS");
	unsetenv("AWS_ENDPOINT_URL");
}

static void
container_ok(const char *relative, const char *full, const char *want)
{
	struct err err = ERR_INIT;
	char *url = NULL;

	if (endpoint_container_url(&url, relative, full, &err) != 0)
		fail_msg("%s: %s", full != NULL ? full : relative, err.message);
	assert_string_equal(url, want);
	free(url);
}

static void
container_bad(const char *relative, const char *full)
{
	struct err err = ERR_INIT;
	char *url = NULL;

	if (endpoint_container_url(&url, relative, full, &err) == 0)
		fail_msg("accepted %s", full != NULL ? full : relative);
	assert_null(url);
	assert_int_equal(err.code, ERR_INVALID);
}

static void
test_endpoint__container(void **state)
{
	(void)state;
	/* the relative form always targets the ECS agent; it wins over a full URI */
	container_ok("/v2/credentials/8e3b1f2a-1111-2222", NULL,
	    "http://169.254.170.2/v2/credentials/8e3b1f2a-1111-2222");
	container_ok("/creds?id=1", "http://127.0.0.1:1/x", "http://169.254.170.2/creds?id=1");
	container_bad("creds", NULL);
	container_bad("/a b", NULL);
	/* allowed full URIs */
	container_ok(NULL, "http://127.0.0.1:8080/creds", "http://127.0.0.1:8080/creds");
	container_ok(NULL, "http://127.254.0.9/creds", "http://127.254.0.9/creds");
	container_ok(NULL, "http://localhost/creds?x=1", "http://localhost/creds?x=1");
	container_ok(NULL, "http://[::1]:9/c", "http://[::1]:9/c");
	container_ok(NULL, "http://169.254.170.2/v1", "http://169.254.170.2/v1");
	container_ok(
	    NULL, "http://169.254.170.23/v1/credentials", "http://169.254.170.23/v1/credentials");
	container_ok(
	    NULL, "http://[fd00:ec2::23]/v1/credentials", "http://[fd00:ec2::23]/v1/credentials");
	container_ok(NULL, "https://creds.example.com/role", "https://creds.example.com/role");
	/* refused */
	container_bad(NULL, "http://example.com/creds");
	container_bad(NULL, "http://169.254.169.254/latest");
	container_bad(NULL, "http://128.0.0.1/");
	container_bad(NULL, "http://[fd00:ec2::24]/");
	container_bad(NULL, "http://[::2]/");
	container_bad(NULL, "http://localhost.example.com/");
	container_bad(NULL, "ftp://localhost/");
	container_bad(NULL, "http://127.0.0.1/a b");
	container_bad(NULL, NULL);
}

static void
test_endpoint__imds(void **state)
{
	struct err err = ERR_INIT;
	char *url = NULL;

	(void)state;
	assert_int_equal(endpoint_imds_base(&url, NULL, NULL, &err), 0);
	assert_string_equal(url, "http://169.254.169.254");
	free(url);
	assert_int_equal(endpoint_imds_base(&url, NULL, "IPv4", &err), 0);
	assert_string_equal(url, "http://169.254.169.254");
	free(url);
	assert_int_equal(endpoint_imds_base(&url, NULL, "IPv6", &err), 0);
	assert_string_equal(url, "http://[fd00:ec2::254]");
	free(url);
	assert_int_equal(endpoint_imds_base(&url, NULL, "ipv6", &err), 0);
	assert_string_equal(url, "http://[fd00:ec2::254]");
	free(url);
	/* an explicit endpoint wins over the mode */
	assert_int_equal(endpoint_imds_base(&url, "http://127.0.0.1:1234/", "IPv6", &err), 0);
	assert_string_equal(url, "http://127.0.0.1:1234");
	free(url);
	assert_int_equal(endpoint_imds_base(&url, NULL, "IPv5", &err), ERR_INVALID);
	assert_null(url);
	assert_string_equal(
	    err.message, "ec2_metadata_service_endpoint_mode is \"IPv5\"; expected IPv4 or IPv6");
	assert_int_equal(endpoint_imds_base(&url, "not a url", NULL, &err), ERR_INVALID);
	assert_null(url);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_endpoint__url_parse),
	    cmocka_unit_test(test_endpoint__region_names),
	    cmocka_unit_test_setup_teardown(test_endpoint__region_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_endpoint__lambda, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_endpoint__sts, setup, teardown),
	    cmocka_unit_test(test_endpoint__container),
	    cmocka_unit_test(test_endpoint__imds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
