/*
 * SigV4 against the vectors in ../shared/reference/lambda-api.md §8.1, copied here as
 * literal numbers: E0 (the AWS documented example), get-vanilla, L1-L8, and the key chain.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "aws/sigv4.h"
#include "common/crypto.h"

#define AKID "AKIDEXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define AMZDATE "20150830T123600Z"
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define LAMBDA_HOST "lambda.us-east-1.amazonaws.com"
#define TOKEN "AQoDYXdzEPT//////////wEXAMPLEtoken+/="

struct vector {
	const char *service;
	const char *method;
	const char *path;
	const char *query;
	const char *host;
	const char *content_type;
	const char *token;
	const char *body;
	const char *cr_sha256;
	const char *signature;
};

static void
check_vector(const struct vector *v, const char *expected_cr)
{
	struct sigv4_header h[4];
	struct sigv4_request req;
	struct sigv4_scope scope = {AMZDATE, "us-east-1", v->service};
	struct buf cr = BUF_INIT(SIGV4_CANONICAL_MAX), auth = BUF_INIT(4096);
	struct err err = ERR_INIT;
	char payload[CRYPTO_SHA256_HEX_LEN + 1], crhash[CRYPTO_SHA256_HEX_LEN + 1];
	char sig[CRYPTO_SHA256_HEX_LEN + 1], *expect_auth;
	size_t n = 0;

	h[n++] = (struct sigv4_header){"Host", v->host};
	h[n++] = (struct sigv4_header){"X-Amz-Date", AMZDATE};
	if (v->content_type != NULL)
		h[n++] = (struct sigv4_header){"Content-Type", v->content_type};
	if (v->token != NULL)
		h[n++] = (struct sigv4_header){"X-Amz-Security-Token", v->token};
	crypto_sha256_hex(v->body, strlen(v->body), payload);
	req = (struct sigv4_request){v->method, v->path, v->query, h, n, payload};

	assert_int_equal(sigv4_canonical_request(&req, &cr, NULL, &err), 0);
	if (expected_cr != NULL)
		assert_string_equal(buf_cstr(&cr), expected_cr);
	crypto_sha256_hex(cr.data, cr.len, crhash);
	assert_string_equal(crhash, v->cr_sha256);

	assert_int_equal(sigv4_signature(&req, &scope, SECRET, sig, &err), 0);
	assert_string_equal(sig, v->signature);

	assert_int_equal(sigv4_authorization(&req, &scope, AKID, SECRET, &auth, &err), 0);
	expect_auth = NULL;
	if (strcmp(v->service, "lambda") == 0 && v->content_type == NULL && v->token == NULL) {
		expect_auth = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/lambda/"
		              "aws4_request, SignedHeaders=host;x-amz-date, Signature=";
		assert_memory_equal(buf_cstr(&auth), expect_auth, strlen(expect_auth));
		assert_string_equal(buf_cstr(&auth) + strlen(expect_auth), v->signature);
	}
	buf_free(&cr);
	buf_free(&auth);
}

static void
test_sigv4__key_derivation(void **state)
{
	unsigned char k[CRYPTO_SHA256_LEN];
	char hex[CRYPTO_SHA256_HEX_LEN + 1];
	char seed[] = "AWS4" SECRET;

	(void)state;
	crypto_hmac_sha256(seed, strlen(seed), "20150830", 8, k);
	crypto_hex(k, sizeof(k), hex);
	assert_string_equal(
	    hex, "0138c7a6cbd60aa727b2f653a522567439dfb9f3e72b21f9b25941a42f04a7cd");
	crypto_hmac_sha256(k, sizeof(k), "us-east-1", 9, k);
	crypto_hex(k, sizeof(k), hex);
	assert_string_equal(
	    hex, "f33d5808504bf34812e5fade63308b424b244c59189be2a591dd2282c7cb563f");

	sigv4_signing_key(SECRET, "20150830", "us-east-1", "iam", k);
	crypto_hex(k, sizeof(k), hex);
	assert_string_equal(
	    hex, "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9");
	sigv4_signing_key(SECRET, "20150830", "us-east-1", "lambda", k);
	crypto_hex(k, sizeof(k), hex);
	assert_string_equal(
	    hex, "3106a83fe4d44212160af579a59cf1055851bea14b6ce0713413fb777d6ff7ed");
}

static void
test_sigv4__e0_documented_example(void **state)
{
	const struct vector v = {"iam", "GET", "/", "Action=ListUsers&Version=2010-05-08",
	    "iam.amazonaws.com", "application/x-www-form-urlencoded; charset=utf-8", NULL, "",
	    "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59",
	    "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"};

	(void)state;
	check_vector(&v, "GET\n/\nAction=ListUsers&Version=2010-05-08\n"
	                 "content-type:application/x-www-form-urlencoded; charset=utf-8\n"
	                 "host:iam.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
	                 "content-type;host;x-amz-date\n" EMPTY_SHA256);
}

static void
test_sigv4__get_vanilla(void **state)
{
	struct sigv4_header h[] = {{"host", "example.amazonaws.com"}, {"x-amz-date", AMZDATE}};
	struct sigv4_request req = {"GET", "/", NULL, h, 2, EMPTY_SHA256};
	struct sigv4_scope scope = {AMZDATE, "us-east-1", "service"};
	char sig[CRYPTO_SHA256_HEX_LEN + 1];

	(void)state;
	assert_int_equal(sigv4_signature(&req, &scope, SECRET, sig, NULL), 0);
	assert_string_equal(
	    sig, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

static void
test_sigv4__l1_get_alias(void **state)
{
	const struct vector v = {"lambda", "GET", "/2015-03-31/functions/my-fn/aliases/live", NULL,
	    LAMBDA_HOST, NULL, NULL, "",
	    "1befce009d96333d8695712b4667039c349355cef1da8c1986b6c294213f49b6",
	    "ae72f61dc6c9996c37ed16eecc5fd56417dc94f143f94690e9ce45aa585f784f"};

	(void)state;
	check_vector(&v, "GET\n/2015-03-31/functions/my-fn/aliases/live\n\n"
	                 "host:lambda.us-east-1.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
	                 "host;x-amz-date\n" EMPTY_SHA256);
}

static void
test_sigv4__l2_publish_version(void **state)
{
	const char *body = "{\"Description\":\"build "
	                   "42\",\"RevisionId\":\"b0f2e1a4-1111-2222-3333-444455556666\"}";
	const struct vector v = {"lambda", "POST", "/2015-03-31/functions/my-fn/versions", NULL,
	    LAMBDA_HOST, "application/json", NULL, body,
	    "aeb256f14189c8e0bea8be9bdf015087d70d71da0f022d93124e971b384115eb",
	    "2322ae762c276abfcd4815f4fe8b8209095973bf8dc371048c57bde03688d6ab"};
	char hash[CRYPTO_SHA256_HEX_LEN + 1];

	(void)state;
	assert_int_equal(strlen(body), 78);
	crypto_sha256_hex(body, strlen(body), hash);
	assert_string_equal(
	    hash, "9faa1d78642d5196a69b5854ab9ac7b8d425d336bfb84df62c547788c6720320");
	check_vector(&v, NULL);
}

static void
test_sigv4__l3_session_token(void **state)
{
	const struct vector v = {"lambda", "GET", "/2015-03-31/functions/my-fn/aliases/live", NULL,
	    LAMBDA_HOST, NULL, TOKEN, "",
	    "d1b9be4e7277543567cc99f65deb19f206175c332f3a50228176dc6f1710c03b",
	    "4f406e4593cc566436d824e5386879d405027a6782301278e2b50dd8babc256d"};

	(void)state;
	check_vector(&v, "GET\n/2015-03-31/functions/my-fn/aliases/live\n\n"
	                 "host:lambda.us-east-1.amazonaws.com\nx-amz-date:20150830T123600Z\n"
	                 "x-amz-security-token:" TOKEN "\n\n"
	                 "host;x-amz-date;x-amz-security-token\n" EMPTY_SHA256);
}

static void
test_sigv4__l4_arn_path_double_encoded(void **state)
{
	const struct vector v = {"lambda", "GET",
	    "/2015-03-31/functions/"
	    "arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Amy-fn/"
	    "configuration",
	    "Qualifier=live", LAMBDA_HOST, NULL, NULL, "",
	    "f06f1a747d331ebbc13aa56c16ca78a3ff721fad30884086a067e9453a9fdbcb",
	    "bcea6f650dc0c7ac684c9fe3160ac39d684be05e9dfcd1513658ee3f37090248"};

	(void)state;
	check_vector(&v,
	    "GET\n/2015-03-31/functions/"
	    "arn%253Aaws%253Alambda%253Aus-east-1%253A123456789012%253Afunction%253Amy-fn/"
	    "configuration\nQualifier=live\n"
	    "host:lambda.us-east-1.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
	    "host;x-amz-date\n" EMPTY_SHA256);
}

static void
test_sigv4__l5_query_sorted(void **state)
{
	const struct vector v = {"lambda", "GET", "/2018-10-31/layers",
	    "find=LayerVersion&Arn=arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Alayer%3Amy-"
	    "layer%"
	    "3A3",
	    LAMBDA_HOST, NULL, NULL, "",
	    "711ea589ede423fba2af95ed5c681c422a0210c98554299428df8d84819605e6",
	    "5f8d02b948dc42ceb4ee0fe93b84853a385568d779335241678cee8628e040b4"};

	(void)state;
	check_vector(&v, "GET\n/2018-10-31/layers\n"
	                 "Arn=arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Alayer%3Amy-layer%3A3&"
	                 "find=LayerVersion\n"
	                 "host:lambda.us-east-1.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
	                 "host;x-amz-date\n" EMPTY_SHA256);
}

static void
test_sigv4__l6_reserved_characters_in_query(void **state)
{
	const struct vector v = {"lambda", "GET", "/2015-03-31/functions/",
	    "FunctionVersion=ALL&Marker=a%2Bb%2Fc%3D&MaxItems=50", LAMBDA_HOST, NULL, NULL, "",
	    "06af296a1a7019a4ddb0e1149fd852883099a5e31a7b0547b6484d140e5d0fd3",
	    "84d0a26cec116d10c6d7325c5a3c858ade09954f234282ea183566b58046d56c"};

	(void)state;
	check_vector(&v, NULL);
}

static void
test_sigv4__l7_latest_qualifier(void **state)
{
	const struct vector v = {"lambda", "GET",
	    "/2015-03-31/functions/my-fn%3A%24LATEST/configuration", NULL, LAMBDA_HOST, NULL, NULL,
	    "", "6e17f00fbcc8c631929b4198b0086cd7e70df6458285132babaadcb77af85c35",
	    "a1e49a9bddd6e1e5c24b282ea412b95a93a6a1b089af2c6948b0620d2f60e37a"};

	(void)state;
	check_vector(&v, "GET\n/2015-03-31/functions/my-fn%253A%2524LATEST/configuration\n\n"
	                 "host:lambda.us-east-1.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
	                 "host;x-amz-date\n" EMPTY_SHA256);
}

static void
test_sigv4__l8_non_default_port(void **state)
{
	const struct vector v = {"lambda", "GET", "/2015-03-31/functions/my-fn/aliases/live", NULL,
	    "127.0.0.1:9001", NULL, NULL, "",
	    "0393e3ee2e1ba3d72482f377224598c9398fd61bd114cbe2a92bb50b7c54f95d",
	    "61bf5c4233877fdb4bbdf21b2f6a944c4e1bf5f0a77dc563693755ce9dd23686"};

	(void)state;
	check_vector(&v, NULL);
}

/* sigv4_sign_url(url) signs url's authority (default port dropped), path and query. */
static void
sign_url_expect(const char *url, const char *signature)
{
	struct sigv4_credentials creds = {AKID, SECRET, NULL};
	struct sigv4_sign_opts o;
	struct sigv4_signed sig;
	struct err err = ERR_INIT;
	char want[256];

	memset(&o, 0, sizeof(o));
	o.method = "GET";
	o.url = url;
	o.creds = &creds;
	o.region = "us-east-1";
	o.service = "lambda";
	o.now = 1440938160; /* 20150830T123600Z */
	assert_int_equal(sigv4_sign_url(&o, &sig, &err), 0);
	assert_int_equal(sig.nlines, 2);
	assert_string_equal(sig.lines[0], "X-Amz-Date: " AMZDATE);
	snprintf(want, sizeof(want),
	    "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/lambda/"
	    "aws4_request, SignedHeaders=host;x-amz-date, Signature=%s",
	    signature);
	assert_string_equal(sig.lines[1], want);
	sigv4_signed_free(&sig);
	assert_int_equal(sig.nlines, 0);
}

static void
test_sigv4__sign_url(void **state)
{
	struct sigv4_credentials creds = {AKID, SECRET, NULL};
	struct sigv4_sign_opts o;
	struct sigv4_signed sig;
	struct err err = ERR_INIT;
	static const char *const refused[] = {"ftp://h/x", "https://u@h/x", "https://h/x#f",
	    "https://h:0/x", "https://h x/", "/2015-03-31/functions/my-fn", NULL};
	size_t i;

	(void)state;
	/* L1, from a URL in any case with the default port spelled out. */
	sign_url_expect("HTTPS://Lambda.US-East-1.AmazonAWS.com:443/2015-03-31/functions/my-fn/"
	                "aliases/live",
	    "ae72f61dc6c9996c37ed16eecc5fd56417dc94f143f94690e9ce45aa585f784f");
	/* L8: a non-default port is part of the signed host. */
	sign_url_expect("http://127.0.0.1:9001/2015-03-31/functions/my-fn/aliases/live",
	    "61bf5c4233877fdb4bbdf21b2f6a944c4e1bf5f0a77dc563693755ce9dd23686");
	/* What url_parse() refuses is never signed. */
	memset(&o, 0, sizeof(o));
	o.method = "GET";
	o.creds = &creds;
	o.region = "us-east-1";
	o.service = "lambda";
	for (i = 0; i < nitems(refused); i++) {
		o.url = refused[i];
		err_clear(&err);
		assert_int_equal(sigv4_sign_url(&o, &sig, &err), ERR_INVALID);
		assert_int_equal(sig.nlines, 0);
		assert_int_equal(strncmp(err.message, "URL", 3), 0);
	}
}

static void
test_sigv4__path_normalization(void **state)
{
	struct sigv4_header h[] = {{"host", "h"}, {"x-amz-date", AMZDATE}};
	struct sigv4_request req = {"GET", NULL, NULL, h, 2, EMPTY_SHA256};
	struct buf cr = BUF_INIT(SIGV4_CANONICAL_MAX);
	static const char *const cases[][2] = {
	    {"", "/"},
	    {"/", "/"},
	    {"//a//b/", "/a/b/"},
	    {"/a/./b/../c", "/a/c"},
	    {"/../a", "/a"},
	    {"/a b", "/a%20b"},
	    {"/a~b", "/a~b"},
	    {"/a:b", "/a%3Ab"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_reset(&cr);
		req.path = cases[i][0];
		assert_int_equal(sigv4_canonical_request(&req, &cr, NULL, NULL), 0);
		assert_memory_equal(buf_cstr(&cr), "GET\n", 4);
		assert_int_equal(strncmp(buf_cstr(&cr) + 4, cases[i][1], strlen(cases[i][1])), 0);
		assert_int_equal(buf_cstr(&cr)[4 + strlen(cases[i][1])], '\n');
	}
	buf_free(&cr);
}

static void
test_sigv4__header_values_trimmed_and_joined(void **state)
{
	struct sigv4_header h[] = {
	    {"X-Multi", "  b   c "}, {"host", "h"}, {"x-multi", "a"}, {"x-amz-date", AMZDATE}};
	struct sigv4_request req = {"GET", "/", NULL, h, 4, EMPTY_SHA256};
	struct buf cr = BUF_INIT(SIGV4_CANONICAL_MAX), sh = BUF_INIT(1024);

	(void)state;
	assert_int_equal(sigv4_canonical_request(&req, &cr, &sh, NULL), 0);
	assert_string_equal(buf_cstr(&cr),
	    "GET\n/\n\nhost:h\nx-amz-date:" AMZDATE
	    "\nx-multi:b c,a\n\nhost;x-amz-date;x-multi\n" EMPTY_SHA256);
	assert_string_equal(buf_cstr(&sh), "host;x-amz-date;x-multi");
	buf_free(&cr);
	buf_free(&sh);
}

static void
test_sigv4__query_errors(void **state)
{
	struct sigv4_header h[] = {{"host", "h"}, {"x-amz-date", AMZDATE}};
	struct sigv4_request req = {"GET", "/", "a=%zz", h, 2, EMPTY_SHA256};
	struct buf cr = BUF_INIT(SIGV4_CANONICAL_MAX);
	struct err err = ERR_INIT;

	(void)state;
	assert_int_equal(sigv4_canonical_request(&req, &cr, NULL, &err), ERR_INVALID);
	assert_non_null(strstr(err.message, "percent-encoding"));
	buf_reset(&cr);
	req.query = "b=2&a&a=1";
	assert_int_equal(sigv4_canonical_request(&req, &cr, NULL, &err), 0);
	assert_non_null(strstr(buf_cstr(&cr), "\na=&a=1&b=2\n"));
	buf_free(&cr);
}

/* SIGV4_QUERY_PARAMS_MAX parameters, and SIGV4_CANONICAL_MAX bytes for one. */
static void
test_sigv4__query_limits(void **state)
{
	struct sigv4_header h[] = {{"host", "h"}, {"x-amz-date", AMZDATE}};
	struct sigv4_request req = {"GET", "/", NULL, h, 2, EMPTY_SHA256};
	struct buf q = BUF_INIT(256 * 1024), cr = BUF_INIT(SIGV4_CANONICAL_MAX);
	struct err err = ERR_INIT;
	int i;

	(void)state;
	for (i = 0; i < 256; i++)
		assert_int_equal(buf_printf(&q, "k%03d=%d&", i, i), 0);
	assert_int_equal(buf_puts(&q, "&"), 0); /* empty parameters do not count */
	req.query = buf_cstr(&q);
	assert_int_equal(sigv4_canonical_request(&req, &cr, NULL, &err), 0);
	assert_non_null(strstr(buf_cstr(&cr), "\nk000=0&k001=1&"));
	assert_non_null(strstr(buf_cstr(&cr), "&k255=255\n"));

	/* One more is refused, even when that one is also malformed: the count comes first. */
	assert_int_equal(buf_puts(&q, "x=%zz"), 0);
	req.query = buf_cstr(&q);
	buf_reset(&cr);
	assert_int_equal(sigv4_canonical_request(&req, &cr, NULL, &err), ERR_TOOBIG);
	assert_non_null(strstr(err.message, "query parameters"));

	/* A value that encodes past the cap. */
	buf_reset(&q);
	assert_int_equal(buf_puts(&q, "v="), 0);
	for (i = 0; i < 22000; i++)
		assert_int_equal(buf_puts(&q, "%FF"), 0);
	req.query = buf_cstr(&q);
	buf_reset(&cr);
	assert_int_equal(sigv4_canonical_request(&req, &cr, NULL, &err), ERR_TOOBIG);
	assert_non_null(strstr(err.message, "canonical query"));
	buf_free(&q);
	buf_free(&cr);
}

static void
test_sigv4__parse_authorization(void **state)
{
	struct sigv4_auth a;
	struct err err = ERR_INIT;

	(void)state;
	assert_int_equal(
	    sigv4_parse_authorization(
	        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/lambda/"
	        "aws4_request, SignedHeaders=host;x-amz-date, "
	        "Signature=ae72f61dc6c9996c37ed16eecc5fd56417dc94f143f94690e9ce45aa585f784f",
	        &a, &err),
	    0);
	assert_string_equal(a.access_key, "AKIDEXAMPLE");
	assert_string_equal(a.date, "20150830");
	assert_string_equal(a.region, "us-east-1");
	assert_string_equal(a.service, "lambda");
	assert_string_equal(a.signed_headers, "host;x-amz-date");
	assert_string_equal(
	    a.signature, "ae72f61dc6c9996c37ed16eecc5fd56417dc94f143f94690e9ce45aa585f784f");

	assert_int_equal(sigv4_parse_authorization("Basic Zm9vOmJhcg==", &a, &err), ERR_INVALID);
	assert_int_equal(sigv4_parse_authorization("AWS4-HMAC-SHA256 Credential=A/2015/us/l/"
	                                           "aws4_request, SignedHeaders=host, Signature=00",
	                     &a, &err),
	    ERR_INVALID);
	assert_int_equal(sigv4_parse_authorization("AWS4-HMAC-SHA256 Credential=A/20150830/r/s/x/"
	                                           "aws4_request, SignedHeaders=host, Signature=00",
	                     &a, &err),
	    ERR_INVALID);
	assert_int_equal(sigv4_parse_authorization("AWS4-HMAC-SHA256 SignedHeaders=host", &a, &err),
	    ERR_INVALID);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sigv4__key_derivation),
	    cmocka_unit_test(test_sigv4__e0_documented_example),
	    cmocka_unit_test(test_sigv4__get_vanilla),
	    cmocka_unit_test(test_sigv4__l1_get_alias),
	    cmocka_unit_test(test_sigv4__l2_publish_version),
	    cmocka_unit_test(test_sigv4__l3_session_token),
	    cmocka_unit_test(test_sigv4__l4_arn_path_double_encoded),
	    cmocka_unit_test(test_sigv4__l5_query_sorted),
	    cmocka_unit_test(test_sigv4__l6_reserved_characters_in_query),
	    cmocka_unit_test(test_sigv4__l7_latest_qualifier),
	    cmocka_unit_test(test_sigv4__l8_non_default_port),
	    cmocka_unit_test(test_sigv4__sign_url),
	    cmocka_unit_test(test_sigv4__path_normalization),
	    cmocka_unit_test(test_sigv4__header_values_trimmed_and_joined),
	    cmocka_unit_test(test_sigv4__query_errors),
	    cmocka_unit_test(test_sigv4__query_limits),
	    cmocka_unit_test(test_sigv4__parse_authorization),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
