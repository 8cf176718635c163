/*
 * The wire form of every Lambda operation: method, path (labels encoded once: names, ARNs,
 * $LATEST, aliases), query, exact JSON body bytes, headers; and signing through
 * lambda_request_sign() against the vectors of lambda-api.md §8.1 (L1-L8), so that what the
 * client puts on the wire is byte for byte what botocore would sign.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "aws/endpoint.h"
#include "aws/lambda_request.h"

#define AKID "AKIDEXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define TOKEN "AQoDYXdzEPT//////////wEXAMPLEtoken+/="
#define T20150830 ((time_t)1440938160) /* 20150830T123600Z */
#define ARN "arn:aws:lambda:us-east-1:123456789012:function:my-fn"
#define ARN_ENC "arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Amy-fn"

static struct aws_credentials creds = {AKID, SECRET, NULL, 0, "env"};
static struct aws_credentials creds_token = {AKID, SECRET, TOKEN, 0, "env"};

static void
expect(const struct lambda_request *r, const char *method, const char *path, const char *query,
    const char *body)
{
	assert_string_equal(r->method, method);
	assert_string_equal(buf_cstr(&r->path), path);
	assert_string_equal(buf_cstr(&r->query), query);
	if (body == NULL) {
		assert_false(r->has_body);
		assert_false(r->json);
		assert_int_equal(r->body.len, 0);
	} else {
		assert_true(r->has_body);
		assert_string_equal(buf_cstr(&r->body), body);
	}
}

static const char *
header(const struct lambda_signed *s, const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < s->nheaders; i++)
		if (strncasecmp(s->headers[i], name, n) == 0 && s->headers[i][n] == ':')
			return s->headers[i][n + 1] == ' ' ? s->headers[i] + n + 2
			                                   : s->headers[i] + n + 1;
	return NULL;
}

/* Sign r for endpoint url and compare the Authorization header's signature. */
static void
expect_signature(const struct lambda_request *r, const char *url, const struct aws_credentials *c,
    const char *signed_headers, const char *signature)
{
	struct url e;
	struct lambda_signed s;
	struct err err = ERR_INIT;
	char want[512];

	assert_int_equal(endpoint_url_parse(&e, url, &err), 0);
	assert_int_equal(
	    lambda_request_sign(r, &e, "us-east-1", c, T20150830, "tether-test", &s, &err), 0);
	snprintf(want, sizeof(want),
	    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/lambda/aws4_request, "
	    "SignedHeaders=%s, Signature=%s",
	    signed_headers, signature);
	assert_string_equal(header(&s, "Authorization"), want);
	assert_string_equal(header(&s, "X-Amz-Date"), "20150830T123600Z");
	assert_string_equal(header(&s, "User-Agent"), "tether-test");
	assert_string_equal(header(&s, "Host"), e.authority);
	lambda_signed_clear(&s);
	url_clear(&e);
}

static void
test_lambda_request__sign_vectors(void **state)
{
	struct lambda_request r;
	struct lambda_publish pub = LAMBDA_PUBLISH_INIT;
	struct lambda_list list = LAMBDA_LIST_INIT;
	struct err err = ERR_INIT;

	(void)state;
	/* L1: GetAlias. */
	lambda_request_init(&r);
	assert_int_equal(lambda_request_get_alias(&r, "my-fn", "live", &err), 0);
	expect(&r, "GET", "/2015-03-31/functions/my-fn/aliases/live", "", NULL);
	expect_signature(&r, "https://lambda.us-east-1.amazonaws.com", &creds, "host;x-amz-date",
	    "ae72f61dc6c9996c37ed16eecc5fd56417dc94f143f94690e9ce45aa585f784f");
	/* L3: the same with a session token, which is signed. */
	expect_signature(&r, "https://lambda.us-east-1.amazonaws.com", &creds_token,
	    "host;x-amz-date;x-amz-security-token",
	    "4f406e4593cc566436d824e5386879d405027a6782301278e2b50dd8babc256d");
	/* L8: a loopback endpoint; the port is part of the signed host. */
	expect_signature(&r, "http://127.0.0.1:9001", &creds, "host;x-amz-date",
	    "61bf5c4233877fdb4bbdf21b2f6a944c4e1bf5f0a77dc563693755ce9dd23686");
	/* A default port is not: it signs as L1. */
	expect_signature(&r, "https://lambda.us-east-1.amazonaws.com:443/", &creds,
	    "host;x-amz-date", "ae72f61dc6c9996c37ed16eecc5fd56417dc94f143f94690e9ce45aa585f784f");
	lambda_request_clear(&r);

	/* L2: PublishVersion, the exact 78 bytes. */
	pub.description = "build 42";
	pub.revision_id = "b0f2e1a4-1111-2222-3333-444455556666";
	assert_int_equal(lambda_request_publish_version(&r, "my-fn", &pub, &err), 0);
	expect(&r, "POST", "/2015-03-31/functions/my-fn/versions", "",
	    "{\"Description\":\"build "
	    "42\",\"RevisionId\":\"b0f2e1a4-1111-2222-3333-444455556666\"}");
	assert_int_equal(r.body.len, 78);
	assert_true(r.json);
	expect_signature(&r, "https://lambda.us-east-1.amazonaws.com", &creds,
	    "content-type;host;x-amz-date",
	    "2322ae762c276abfcd4815f4fe8b8209095973bf8dc371048c57bde03688d6ab");
	lambda_request_clear(&r);

	/* L4: GetFunctionConfiguration by ARN with a qualifier. */
	assert_int_equal(lambda_request_get_function_configuration(&r, ARN, "live", &err), 0);
	expect(
	    &r, "GET", "/2015-03-31/functions/" ARN_ENC "/configuration", "Qualifier=live", NULL);
	expect_signature(&r, "https://lambda.us-east-1.amazonaws.com", &creds, "host;x-amz-date",
	    "bcea6f650dc0c7ac684c9fe3160ac39d684be05e9dfcd1513658ee3f37090248");
	lambda_request_clear(&r);

	/* L5: GetLayerVersionByArn. */
	assert_int_equal(lambda_request_get_layer_version_by_arn(
	                     &r, "arn:aws:lambda:us-east-1:123456789012:layer:my-layer:3", &err),
	    0);
	expect(&r, "GET", "/2018-10-31/layers",
	    "find=LayerVersion&Arn=arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Alayer%3A"
	    "my-layer%3A3",
	    NULL);
	expect_signature(&r, "https://lambda.us-east-1.amazonaws.com", &creds, "host;x-amz-date",
	    "5f8d02b948dc42ceb4ee0fe93b84853a385568d779335241678cee8628e040b4");
	lambda_request_clear(&r);

	/* L6: ListFunctions with every paging parameter; the marker is encoded. */
	list.all_versions = true;
	list.marker = "a+b/c=";
	list.max_items = 50;
	assert_int_equal(lambda_request_list_functions(&r, &list, &err), 0);
	expect(&r, "GET", "/2015-03-31/functions/",
	    "FunctionVersion=ALL&Marker=a%2Bb%2Fc%3D&MaxItems=50", NULL);
	expect_signature(&r, "https://lambda.us-east-1.amazonaws.com", &creds, "host;x-amz-date",
	    "84d0a26cec116d10c6d7325c5a3c858ade09954f234282ea183566b58046d56c");
	lambda_request_clear(&r);

	/* L7: $LATEST in the name. */
	assert_int_equal(
	    lambda_request_get_function_configuration(&r, "my-fn:$LATEST", NULL, &err), 0);
	expect(&r, "GET", "/2015-03-31/functions/my-fn%3A%24LATEST/configuration", "", NULL);
	expect_signature(&r, "https://lambda.us-east-1.amazonaws.com", &creds, "host;x-amz-date",
	    "a1e49a9bddd6e1e5c24b282ea412b95a93a6a1b089af2c6948b0620d2f60e37a");
	lambda_request_clear(&r);
}

static void
test_lambda_request__functions(void **state)
{
	struct lambda_request r;
	struct lambda_update_code code = LAMBDA_UPDATE_CODE_INIT;
	struct lambda_update_config cfg = LAMBDA_UPDATE_CONFIG_INIT;
	struct lambda_pair env[] = {{"LOG_LEVEL", "info"}, {"A", "b c"}};
	const char *layers[] = {"arn:aws:lambda:us-east-1:123456789012:layer:l:5"};
	struct err err = ERR_INIT;

	(void)state;
	lambda_request_init(&r);
	assert_int_equal(lambda_request_get_function(&r, "my-fn", NULL, &err), 0);
	expect(&r, "GET", "/2015-03-31/functions/my-fn", "", NULL);
	assert_int_equal(r.op, LAMBDA_OP_GET_FUNCTION);
	assert_string_equal(r.label, "my-fn");
	lambda_request_clear(&r);

	assert_int_equal(lambda_request_get_function(&r, ARN, "$LATEST", &err), 0);
	expect(&r, "GET", "/2015-03-31/functions/" ARN_ENC, "Qualifier=%24LATEST", NULL);
	lambda_request_clear(&r);

	assert_int_equal(
	    lambda_request_get_function(&r, "123456789012:function:my-fn:7", NULL, &err), 0);
	expect(&r, "GET", "/2015-03-31/functions/123456789012%3Afunction%3Amy-fn%3A7", "", NULL);
	lambda_request_clear(&r);

	/* UpdateFunctionCode with an image, a precondition. */
	code.code.image_uri = "123456789012.dkr.ecr.us-east-1.amazonaws.com/orders:1";
	code.revision_id = "rev-1";
	assert_int_equal(lambda_request_update_function_code(&r, "orders", &code, &err), 0);
	expect(&r, "PUT", "/2015-03-31/functions/orders/code", "",
	    "{\"ImageUri\":\"123456789012.dkr.ecr.us-east-1.amazonaws.com/"
	    "orders:1\",\"RevisionId\":"
	    "\"rev-1\"}");
	lambda_request_clear(&r);

	/* S3 code with a version, publish. */
	memset(&code, 0, sizeof(code));
	code.code.s3_bucket = "b";
	code.code.s3_key = "k/x.zip";
	code.code.s3_object_version = "v1";
	code.publish = true;
	assert_int_equal(lambda_request_update_function_code(&r, "f", &code, &err), 0);
	expect(&r, "PUT", "/2015-03-31/functions/f/code", "",
	    "{\"S3Bucket\":\"b\",\"S3Key\":\"k/"
	    "x.zip\",\"S3ObjectVersion\":\"v1\",\"Publish\":true}");
	lambda_request_clear(&r);

	/* A zip travels base64-encoded. */
	memset(&code, 0, sizeof(code));
	code.code.zip = "PK\x03\x04";
	code.code.zip_len = 4;
	assert_int_equal(lambda_request_update_function_code(&r, "f", &code, &err), 0);
	expect(&r, "PUT", "/2015-03-31/functions/f/code", "", "{\"ZipFile\":\"UEsDBA==\"}");
	lambda_request_clear(&r);

	/* Zero or two code sources are refused. */
	memset(&code, 0, sizeof(code));
	assert_int_equal(lambda_request_update_function_code(&r, "f", &code, &err), ERR_INVALID);
	code.code.image_uri = "i";
	code.code.s3_bucket = "b";
	code.code.s3_key = "k";
	assert_int_equal(lambda_request_update_function_code(&r, "f", &code, &err), ERR_INVALID);
	lambda_request_clear(&r);
	memset(&code, 0, sizeof(code));
	code.code.s3_bucket = "b";
	assert_int_equal(lambda_request_update_function_code(&r, "f", &code, &err), ERR_INVALID);
	lambda_request_clear(&r);

	/* UpdateFunctionConfiguration sends exactly the fields marked as set. */
	cfg.set = LAMBDA_CONFIG_MEMORY | LAMBDA_CONFIG_TIMEOUT | LAMBDA_CONFIG_ENVIRONMENT |
	          LAMBDA_CONFIG_LAYERS | LAMBDA_CONFIG_DESCRIPTION;
	cfg.memory = 512;
	cfg.timeout = 30;
	cfg.environment = env;
	cfg.nenvironment = 2;
	cfg.layers = layers;
	cfg.nlayers = 1;
	cfg.description = "d";
	cfg.revision_id = "r";
	assert_int_equal(lambda_request_update_function_configuration(&r, "f", &cfg, &err), 0);
	expect(&r, "PUT", "/2015-03-31/functions/f/configuration", "",
	    "{\"Description\":\"d\",\"Timeout\":30,\"MemorySize\":512,\"Environment\":{"
	    "\"Variables\":"
	    "{\"LOG_LEVEL\":\"info\",\"A\":\"b c\"}},\"RevisionId\":\"r\",\"Layers\":[\"arn:aws:"
	    "lambda:us-east-1:123456789012:layer:l:5\"]}");
	lambda_request_clear(&r);

	/* An empty environment and layer list clear them; role and handler only when set. */
	memset(&cfg, 0, sizeof(cfg));
	cfg.set = LAMBDA_CONFIG_ENVIRONMENT | LAMBDA_CONFIG_LAYERS | LAMBDA_CONFIG_ROLE |
	          LAMBDA_CONFIG_HANDLER;
	cfg.role = "arn:aws:iam::123456789012:role/x";
	cfg.handler = "h.main";
	cfg.memory = 1024; /* not set: not sent */
	assert_int_equal(lambda_request_update_function_configuration(&r, "f", &cfg, &err), 0);
	expect(&r, "PUT", "/2015-03-31/functions/f/configuration", "",
	    "{\"Role\":\"arn:aws:iam::123456789012:role/x\",\"Handler\":\"h.main\",\"Environment\":"
	    "{\"Variables\":{}},\"Layers\":[]}");
	lambda_request_clear(&r);

	/* Nothing set: an empty object. A set field without a value is refused. */
	memset(&cfg, 0, sizeof(cfg));
	assert_int_equal(lambda_request_update_function_configuration(&r, "f", &cfg, &err), 0);
	expect(&r, "PUT", "/2015-03-31/functions/f/configuration", "", "{}");
	lambda_request_clear(&r);
	cfg.set = LAMBDA_CONFIG_ROLE;
	assert_int_equal(
	    lambda_request_update_function_configuration(&r, "f", &cfg, &err), ERR_INVALID);
	lambda_request_clear(&r);
	/* Text that is not UTF-8 is refused, never sent mangled. */
	cfg.set = LAMBDA_CONFIG_DESCRIPTION;
	cfg.description = "\xff\xfe";
	assert_int_equal(
	    lambda_request_update_function_configuration(&r, "f", &cfg, &err), ERR_INVALID);
	assert_non_null(strstr(err.message, "UTF-8"));
	lambda_request_clear(&r);

	/* PublishVersion without members sends {}; with a CodeSha256 precondition. */
	assert_int_equal(lambda_request_publish_version(&r, "f", NULL, &err), 0);
	expect(&r, "POST", "/2015-03-31/functions/f/versions", "", "{}");
	assert_true(r.json);
	lambda_request_clear(&r);

	/* DeleteFunction, whole and one version. */
	assert_int_equal(lambda_request_delete_function(&r, "f", NULL, &err), 0);
	expect(&r, "DELETE", "/2015-03-31/functions/f", "", NULL);
	lambda_request_clear(&r);
	assert_int_equal(lambda_request_delete_function(&r, "f", "12", &err), 0);
	expect(&r, "DELETE", "/2015-03-31/functions/f", "Qualifier=12", NULL);
	lambda_request_clear(&r);

	/* ListVersionsByFunction. */
	assert_int_equal(lambda_request_list_versions(&r, "f", NULL, &err), 0);
	expect(&r, "GET", "/2015-03-31/functions/f/versions", "", NULL);
	assert_int_equal(lambda_request_set_marker(&r, "m 1", &err), 0);
	expect(&r, "GET", "/2015-03-31/functions/f/versions", "Marker=m%201", NULL);
	assert_int_equal(lambda_request_set_marker(&r, "m2", &err), 0);
	expect(&r, "GET", "/2015-03-31/functions/f/versions", "Marker=m2", NULL);
	lambda_request_clear(&r);

	/* Bad arguments. */
	assert_int_equal(lambda_request_get_function(&r, NULL, NULL, &err), ERR_INVALID);
	assert_int_equal(lambda_request_get_function(&r, "", NULL, &err), ERR_INVALID);
	assert_int_equal(lambda_request_get_function(&r, "f", "", &err), ERR_INVALID);
	{
		char long_name[LAMBDA_NAME_MAX + 2];

		memset(long_name, 'a', sizeof(long_name) - 1);
		long_name[sizeof(long_name) - 1] = '\0';
		assert_int_equal(
		    lambda_request_get_function(&r, long_name, NULL, &err), ERR_INVALID);
	}
	lambda_request_clear(&r);
}

static void
test_lambda_request__create_function(void **state)
{
	struct lambda_request r;
	struct lambda_create_function in = LAMBDA_CREATE_FUNCTION_INIT;
	struct lambda_pair tags[] = {{"managed-by", "tether"}};
	struct err err = ERR_INIT;

	(void)state;
	lambda_request_init(&r);
	in.name = "orders";
	in.role = "arn:aws:iam::123456789012:role/orders";
	in.code.image_uri = "123456789012.dkr.ecr.us-east-1.amazonaws.com/orders:1";
	in.memory = 256;
	in.timeout = 10;
	in.tags = tags;
	in.ntags = 1;
	in.architecture = "arm64";
	assert_int_equal(lambda_request_create_function(&r, &in, &err), 0);
	expect(&r, "POST", "/2015-03-31/functions", "",
	    "{\"FunctionName\":\"orders\",\"Role\":\"arn:aws:iam::123456789012:role/orders\","
	    "\"Code\":{\"ImageUri\":\"123456789012.dkr.ecr.us-east-1.amazonaws.com/orders:1\"},"
	    "\"Timeout\":10,\"MemorySize\":256,\"PackageType\":\"Image\",\"Tags\":{\"managed-by\":"
	    "\"tether\"},\"Architectures\":[\"arm64\"]}");
	lambda_request_clear(&r);

	memset(&in, 0, sizeof(in));
	in.name = "z";
	in.role = "arn:aws:iam::123456789012:role/z";
	in.runtime = "python3.12";
	in.handler = "app.handler";
	in.code.zip = "zip";
	in.code.zip_len = 3;
	in.publish = true;
	assert_int_equal(lambda_request_create_function(&r, &in, &err), 0);
	expect(&r, "POST", "/2015-03-31/functions", "",
	    "{\"FunctionName\":\"z\",\"Runtime\":\"python3.12\",\"Role\":\"arn:aws:iam::"
	    "123456789012:"
	    "role/z\",\"Handler\":\"app.handler\",\"Code\":{\"ZipFile\":\"emlw\"},\"Publish\":true,"
	    "\"PackageType\":\"Zip\"}");
	lambda_request_clear(&r);

	in.role = NULL;
	assert_int_equal(lambda_request_create_function(&r, &in, &err), ERR_INVALID);
	lambda_request_clear(&r);
}

static void
test_lambda_request__aliases(void **state)
{
	struct lambda_request r;
	struct lambda_alias_spec spec = LAMBDA_ALIAS_SPEC_INIT;
	struct lambda_list list = LAMBDA_LIST_INIT;
	struct err err = ERR_INIT;

	(void)state;
	lambda_request_init(&r);
	spec.function_version = "3";
	spec.description = "tether step=1";
	spec.routing_version = "4";
	spec.routing_weight = 0.1;
	assert_int_equal(lambda_request_create_alias(&r, "f", "live", &spec, &err), 0);
	expect(&r, "POST", "/2015-03-31/functions/f/aliases", "",
	    "{\"Name\":\"live\",\"FunctionVersion\":\"3\",\"Description\":\"tether step=1\","
	    "\"RoutingConfig\":{\"AdditionalVersionWeights\":{\"4\":0.1}}}");
	lambda_request_clear(&r);

	/* UpdateAlias: clear the routing, with the alias's RevisionId. */
	spec = (struct lambda_alias_spec)LAMBDA_ALIAS_SPEC_INIT;
	spec.function_version = "4";
	spec.set_routing = true;
	spec.revision_id = "alias-rev";
	assert_int_equal(lambda_request_update_alias(&r, ARN, "live", &spec, &err), 0);
	expect(&r, "PUT", "/2015-03-31/functions/" ARN_ENC "/aliases/live", "",
	    "{\"FunctionVersion\":\"4\",\"RoutingConfig\":{\"AdditionalVersionWeights\":{}},"
	    "\"RevisionId\":\"alias-rev\"}");
	lambda_request_clear(&r);

	/* Only the routing weight changes. */
	spec = (struct lambda_alias_spec)LAMBDA_ALIAS_SPEC_INIT;
	spec.set_routing = true;
	spec.routing_version = "5";
	spec.routing_weight = 0.5;
	assert_int_equal(lambda_request_update_alias(&r, "f", "live", &spec, &err), 0);
	expect(&r, "PUT", "/2015-03-31/functions/f/aliases/live", "",
	    "{\"RoutingConfig\":{\"AdditionalVersionWeights\":{\"5\":0.5}}}");
	lambda_request_clear(&r);
	spec.routing_weight = 1.5;
	assert_int_equal(lambda_request_update_alias(&r, "f", "live", &spec, &err), ERR_INVALID);
	lambda_request_clear(&r);

	assert_int_equal(lambda_request_delete_alias(&r, "f", "live", &err), 0);
	expect(&r, "DELETE", "/2015-03-31/functions/f/aliases/live", "", NULL);
	lambda_request_clear(&r);

	list.function_version = "3";
	list.max_items = 10;
	assert_int_equal(lambda_request_list_aliases(&r, "f", &list, &err), 0);
	expect(&r, "GET", "/2015-03-31/functions/f/aliases", "FunctionVersion=3&MaxItems=10", NULL);
	assert_int_equal(lambda_request_set_marker(&r, "abc", &err), 0);
	expect(&r, "GET", "/2015-03-31/functions/f/aliases",
	    "FunctionVersion=3&MaxItems=10&Marker=abc", NULL);
	lambda_request_clear(&r);

	/* CreateAlias needs a version. */
	spec = (struct lambda_alias_spec)LAMBDA_ALIAS_SPEC_INIT;
	assert_int_equal(lambda_request_create_alias(&r, "f", "live", &spec, &err), ERR_INVALID);
	lambda_request_clear(&r);
}

static void
test_lambda_request__layers_tags_lists(void **state)
{
	struct lambda_request r;
	struct lambda_list list = LAMBDA_LIST_INIT;
	struct lambda_pair tags[] = {{"managed-by", "tether"}, {"team", "a/b"}};
	const char *keys[] = {"team", "x y"};
	struct err err = ERR_INIT;

	(void)state;
	lambda_request_init(&r);
	assert_int_equal(lambda_request_get_layer_version(&r, "my-layer", 3, &err), 0);
	expect(&r, "GET", "/2018-10-31/layers/my-layer/versions/3", "", NULL);
	lambda_request_clear(&r);
	assert_int_equal(lambda_request_get_layer_version(
	                     &r, "arn:aws:lambda:us-east-1:123456789012:layer:my-layer", 12, &err),
	    0);
	expect(&r, "GET",
	    "/2018-10-31/layers/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Alayer%3Amy-layer/"
	    "versions/12",
	    "", NULL);
	lambda_request_clear(&r);
	assert_int_equal(lambda_request_get_layer_version(&r, "l", 0, &err), ERR_INVALID);
	lambda_request_clear(&r);

	list.compatible_runtime = "python3.12";
	list.marker = "m";
	assert_int_equal(lambda_request_list_layer_versions(&r, "my-layer", &list, &err), 0);
	expect(&r, "GET", "/2018-10-31/layers/my-layer/versions",
	    "CompatibleRuntime=python3.12&Marker=m", NULL);
	lambda_request_clear(&r);

	assert_int_equal(lambda_request_tag_resource(&r, ARN, tags, 2, &err), 0);
	expect(&r, "POST", "/2017-03-31/tags/" ARN_ENC, "",
	    "{\"Tags\":{\"managed-by\":\"tether\",\"team\":\"a/b\"}}");
	lambda_request_clear(&r);
	assert_int_equal(lambda_request_untag_resource(&r, ARN, keys, 2, &err), 0);
	expect(&r, "DELETE", "/2017-03-31/tags/" ARN_ENC, "tagKeys=team&tagKeys=x%20y", NULL);
	lambda_request_clear(&r);
	assert_int_equal(lambda_request_list_tags(&r, ARN, &err), 0);
	expect(&r, "GET", "/2017-03-31/tags/" ARN_ENC, "", NULL);
	lambda_request_clear(&r);
	assert_int_equal(lambda_request_untag_resource(&r, ARN, keys, 0, &err), ERR_INVALID);
	lambda_request_clear(&r);

	assert_int_equal(lambda_request_list_event_source_mappings(&r, "my-fn", NULL, &err), 0);
	expect(&r, "GET", "/2015-03-31/event-source-mappings/", "FunctionName=my-fn", NULL);
	assert_int_equal(r.op, LAMBDA_OP_LIST_EVENT_SOURCE_MAPPINGS);
	lambda_request_clear(&r);
	assert_int_equal(lambda_request_list_event_source_mappings(&r, NULL, NULL, &err), 0);
	expect(&r, "GET", "/2015-03-31/event-source-mappings/", "", NULL);
	lambda_request_clear(&r);

	assert_int_equal(
	    lambda_request_list_provisioned_concurrency_configs(&r, "f", NULL, &err), 0);
	expect(&r, "GET", "/2019-09-30/functions/f/provisioned-concurrency", "List=ALL", NULL);
	assert_int_equal(lambda_request_set_marker(&r, "n", &err), 0);
	expect(&r, "GET", "/2019-09-30/functions/f/provisioned-concurrency", "List=ALL&Marker=n",
	    NULL);
	lambda_request_clear(&r);
}

static void
test_lambda_request__invoke(void **state)
{
	struct lambda_request r;
	struct lambda_invoke in = LAMBDA_INVOKE_INIT;
	struct url e;
	struct lambda_signed s;
	struct err err = ERR_INIT;

	(void)state;
	lambda_request_init(&r);
	in.qualifier = "$LATEST";
	in.log_tail = true;
	in.payload = "{\"path\":\"/health\"}";
	in.payload_len = strlen(in.payload);
	assert_int_equal(lambda_request_invoke(&r, "my-fn", &in, &err), 0);
	expect(&r, "POST", "/2015-03-31/functions/my-fn/invocations", "Qualifier=%24LATEST",
	    "{\"path\":\"/health\"}");
	assert_false(r.json);
	assert_int_equal(r.timeout_ms, LAMBDA_INVOKE_TIMEOUT_MS);
	assert_null(lambda_op_bucket(r.op));

	/*
	 * Signed without content-type (the raw payload's hash; no form Content-Type), but
	 * with the operation header X-Amz-Log-Type, which botocore signs too.
	 */
	assert_int_equal(endpoint_url_parse(&e, "http://127.0.0.1:9001", &err), 0);
	assert_int_equal(
	    lambda_request_sign(&r, &e, "us-east-1", &creds_token, T20150830, NULL, &s, &err), 0);
	assert_non_null(strstr(header(&s, "Authorization"),
	    "SignedHeaders=host;x-amz-date;x-amz-log-type;x-amz-security-token,"));
	assert_string_equal(header(&s, "Content-Type"), "");
	assert_string_equal(header(&s, "X-Amz-Log-Type"), "Tail");
	assert_string_equal(header(&s, "X-Amz-Security-Token"), TOKEN);
	assert_string_equal(header(&s, "Host"), "127.0.0.1:9001");
	assert_null(header(&s, "X-Amz-Invocation-Type"));
	assert_string_equal(s.url,
	    "http://127.0.0.1:9001/2015-03-31/functions/my-fn/invocations?Qualifier=%24LATEST");
	lambda_signed_clear(&s);
	url_clear(&e);
	lambda_request_clear(&r);

	/* A header value with a line break is refused. */
	in.invocation_type = "Event\r\nX-Evil: 1";
	assert_int_equal(lambda_request_invoke(&r, "my-fn", &in, &err), ERR_INVALID);
	lambda_request_clear(&r);
}

static void
test_lambda_request__buckets_and_endpoints(void **state)
{
	struct url e;
	struct err err = ERR_INIT;
	int op;

	(void)state;
	for (op = 0; op < LAMBDA_OP__COUNT; op++) {
		const char *b = lambda_op_bucket((enum lambda_op)op);

		assert_string_not_equal(lambda_op_name((enum lambda_op)op), "?");
		if (op == LAMBDA_OP_GET_FUNCTION)
			assert_string_equal(b, "GetFunction");
		else if (op == LAMBDA_OP_INVOKE)
			assert_null(b);
		else
			assert_string_equal(b, "shared");
	}
	assert_string_equal(lambda_op_name(LAMBDA_OP_PUBLISH_VERSION), "PublishVersion");

	assert_int_equal(
	    endpoint_url_parse(&e, "https://lambda.eu-west-1.amazonaws.com/", &err), 0);
	assert_string_equal(e.scheme, "https");
	assert_string_equal(e.authority, "lambda.eu-west-1.amazonaws.com");
	assert_string_equal(e.path, "");
	url_clear(&e);
	assert_int_equal(endpoint_url_parse(&e, "http://[::1]:8080", &err), 0);
	assert_string_equal(e.authority, "[::1]:8080");
	url_clear(&e);
	assert_int_equal(endpoint_url_parse(&e, "http://localhost:80", &err), 0);
	assert_string_equal(e.authority, "localhost");
	url_clear(&e);
	assert_int_equal(endpoint_url_parse(&e, "ftp://x", &err), ERR_INVALID);
	assert_int_equal(endpoint_url_parse(&e, "https://", &err), ERR_INVALID);
	assert_int_equal(endpoint_url_parse(&e, "https://u:p@host", &err), ERR_INVALID);
	assert_int_equal(endpoint_url_parse(&e, "https://host:x1", &err), ERR_INVALID);
	assert_int_equal(endpoint_url_parse(&e, NULL, &err), ERR_INVALID);
}

/*
 * An endpoint with a path prefixes every request, and the whole path is signed, as botocore
 * does with such an endpoint_url (its signatures, computed at 20150830T123600Z).
 */
static void
test_lambda_request__endpoint_prefix(void **state)
{
	struct lambda_request r;
	struct url e;
	struct lambda_signed s;
	struct err err = ERR_INIT;

	(void)state;
	lambda_request_init(&r);
	assert_int_equal(lambda_request_get_alias(&r, "my-fn", "live", &err), 0);
	expect_signature(&r, "https://lambda.us-east-1.amazonaws.com/prefix", &creds,
	    "host;x-amz-date", "6560720e2ea05ca264b390cf362f9dbeb062349e8b62d36e9e261b6f037051f6");
	/* Trailing slashes of the prefix are dropped, as botocore drops them. */
	expect_signature(&r, "http://127.0.0.1:9001/base/v1/", &creds, "host;x-amz-date",
	    "48f056b352acd6dec27684c26fd3156d940977aefda65c6e82b1c42688308dbc");

	assert_int_equal(endpoint_url_parse(&e, "HTTP://127.0.0.1:9001/base/v1/", &err), 0);
	assert_string_equal(e.path, "/base/v1");
	assert_int_equal(
	    lambda_request_sign(&r, &e, "us-east-1", &creds, T20150830, NULL, &s, &err), 0);
	assert_string_equal(
	    s.url, "http://127.0.0.1:9001/base/v1/2015-03-31/functions/my-fn/aliases/live");
	assert_string_equal(header(&s, "Host"), "127.0.0.1:9001");
	lambda_signed_clear(&s);
	url_clear(&e);
	lambda_request_clear(&r);

	/* An endpoint still may not carry a query. */
	assert_int_equal(endpoint_url_parse(&e, "https://host/prefix?x=1", &err), ERR_INVALID);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lambda_request__sign_vectors),
	    cmocka_unit_test(test_lambda_request__functions),
	    cmocka_unit_test(test_lambda_request__create_function),
	    cmocka_unit_test(test_lambda_request__aliases),
	    cmocka_unit_test(test_lambda_request__layers_tags_lists),
	    cmocka_unit_test(test_lambda_request__invoke),
	    cmocka_unit_test(test_lambda_request__buckets_and_endpoints),
	    cmocka_unit_test(test_lambda_request__endpoint_prefix),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
