/*
 * The Lambda response decoders against canned bodies (botocore's examples-1.json and
 * realistic responses), lenient enums, type errors, and the AWS error decoder with every
 * source of the code (header, code, Code, __type, status) and both message keys. The last
 * cases feed every decoder truncated and corrupted input: under ASan they must neither
 * crash nor leak.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "aws/lambda_decode.h"

#define DECODE(fn, s, out, err) fn((s), strlen(s), (out), (err))
/* A string literal and its length (which may count embedded NULs). */
#define LIT(s) (s), (sizeof(s) - 1)

/* botocore examples-1.json, GetFunction. */
static const char get_function_zip[] =
    "{\"Code\":{\"Location\":\"https://awslambda-us-west-2-tasks.s3.us-west-2.amazonaws.com/"
    "snapshots/123456789012/my-function-e7d9d1ed-xmpl-4f79-904a-4b87f2681f30?versionId=sH3\","
    "\"RepositoryType\":\"S3\"},\"Configuration\":{\"CodeSha256\":"
    "\"YFgDgEKG3ugvF1+pX64gV6tu9qNuIYNUdgJm8nCxsm4=\",\"CodeSize\":5797206,\"Description\":"
    "\"Process image objects from Amazon S3.\",\"Environment\":{\"Variables\":{\"BUCKET\":"
    "\"my-bucket-1xpuxmplzrlbh\",\"PREFIX\":\"inbound\"}},\"FunctionArn\":"
    "\"arn:aws:lambda:us-west-2:123456789012:function:my-function\",\"FunctionName\":"
    "\"my-function\",\"Handler\":\"index.handler\",\"KMSKeyArn\":\"arn:aws:kms:us-west-2:"
    "123456789012:key/b0844d6c-xmpl-4463-97a4-d49f50839966\",\"LastModified\":"
    "\"2020-04-10T19:06:32.563+0000\",\"LastUpdateStatus\":\"Successful\",\"MemorySize\":256,"
    "\"RevisionId\":\"b75dcd81-xmpl-48a8-a75a-93ba8b5b9727\",\"Role\":\"arn:aws:iam::"
    "123456789012:role/lambda-role\",\"Runtime\":\"nodejs12.x\",\"State\":\"Active\","
    "\"Timeout\":15,\"TracingConfig\":{\"Mode\":\"Active\"},\"Version\":\"$LATEST\"},"
    "\"Tags\":{\"DEPARTMENT\":\"Assets\"}}";

/* An image function mid-update, with layers and fields newer than the 1.29 model. */
static const char get_function_image[] =
    "{\"Configuration\":{\"FunctionName\":\"orders-api\",\"FunctionArn\":"
    "\"arn:aws:lambda:us-east-1:123456789012:function:orders-api\",\"Role\":"
    "\"arn:aws:iam::123456789012:role/orders\",\"CodeSize\":0,\"Description\":\"\","
    "\"Timeout\":30,\"MemorySize\":512,\"LastModified\":\"2025-05-26T14:51:40.000+0000\","
    "\"CodeSha256\":\"9f6a1a2a00000000000000000000000000000000000000000000000000000000\","
    "\"Version\":\"$LATEST\",\"Environment\":{\"Variables\":{}},\"TracingConfig\":{\"Mode\":"
    "\"PassThrough\"},\"RevisionId\":\"11111111-2222-3333-4444-555555555555\",\"Layers\":["
    "{\"Arn\":\"arn:aws:lambda:us-east-1:123456789012:layer:receipt-dynamo-dev:5\","
    "\"CodeSize\":1234},{\"Arn\":\"arn:aws:lambda:us-east-1:123456789012:layer:"
    "receipt-label-dev:3\",\"CodeSize\":99}],\"State\":\"Pending\",\"StateReason\":"
    "\"The function is being created.\",\"StateReasonCode\":\"Creating\","
    "\"LastUpdateStatus\":\"InProgress\",\"LastUpdateStatusReason\":null,"
    "\"LastUpdateStatusReasonCode\":\"FunctionError.InitTimeout\",\"PackageType\":\"Image\","
    "\"Architectures\":[\"arm64\"],\"EphemeralStorage\":{\"Size\":512},\"LoggingConfig\":"
    "{\"LogFormat\":\"Text\"},\"ConfigSha256\":\"abc\",\"SnapStart\":{\"ApplyOn\":\"None\","
    "\"OptimizationStatus\":\"Off\"}},\"Code\":{\"RepositoryType\":\"ECR\",\"ImageUri\":"
    "\"123456789012.dkr.ecr.us-east-1.amazonaws.com/orders:20250526-145140-9f6a1a2a\","
    "\"ResolvedImageUri\":\"123456789012.dkr.ecr.us-east-1.amazonaws.com/orders@sha256:"
    "9f6a1a2a\"},\"Concurrency\":{\"ReservedConcurrentExecutions\":10}}";

/* botocore examples-1.json, ListFunctions (with its empty NextMarker). */
static const char list_functions[] =
    "{\"Functions\":[{\"CodeSha256\":\"dBG9m8SGdmlEjw/JYXlhhvCrAv5TxvXsbL/RMr0fT/I=\","
    "\"CodeSize\":294,\"Description\":\"\",\"FunctionArn\":\"arn:aws:lambda:us-west-2:"
    "123456789012:function:helloworld\",\"FunctionName\":\"helloworld\",\"Handler\":"
    "\"helloworld.handler\",\"LastModified\":\"2019-09-23T18:32:33.857+0000\",\"MemorySize\":"
    "128,\"RevisionId\":\"1718e831-badf-4253-9518-d0644210af7b\",\"Role\":\"arn:aws:iam::"
    "123456789012:role/service-role/MyTestFunction-role-zgur6bf4\",\"Runtime\":\"nodejs10.x\","
    "\"Timeout\":3,\"TracingConfig\":{\"Mode\":\"PassThrough\"},\"Version\":\"$LATEST\"},"
    "{\"CodeSha256\":\"sU0cJ2/hOZevwV/lTxCuQqK3gDZP3i8gUoqUUVRmY6E=\",\"CodeSize\":266,"
    "\"Description\":\"\",\"FunctionArn\":\"arn:aws:lambda:us-west-2:123456789012:function:"
    "my-function\",\"FunctionName\":\"my-function\",\"Handler\":\"index.handler\","
    "\"LastModified\":\"2019-10-01T16:47:28.490+0000\",\"MemorySize\":256,\"RevisionId\":"
    "\"93017fc9-59cb-41dc-901b-4845ce4bf668\",\"Role\":\"arn:aws:iam::123456789012:role/"
    "service-role/helloWorldPython-role-uy3l9qyq\",\"Runtime\":\"nodejs10.x\",\"Timeout\":3,"
    "\"TracingConfig\":{\"Mode\":\"PassThrough\"},\"Version\":\"$LATEST\",\"VpcConfig\":{"
    "\"SecurityGroupIds\":[],\"SubnetIds\":[],\"VpcId\":\"\"}}],\"NextMarker\":\"\"}";

static const char list_versions[] =
    "{\"NextMarker\":\"djI6MTIz\",\"Versions\":[{\"FunctionName\":\"f\",\"Version\":"
    "\"$LATEST\",\"Description\":\"\"},{\"FunctionName\":\"f\",\"Version\":\"1\","
    "\"Description\":\"tether d=3f9a1c0b7e21 c=8e4f2a1 main\"},{\"FunctionName\":\"f\","
    "\"Version\":\"2\"}]}";

/* botocore examples-1.json, ListAliases. */
static const char list_aliases[] =
    "{\"Aliases\":[{\"AliasArn\":\"arn:aws:lambda:us-west-2:123456789012:function:"
    "my-function:BETA\",\"Description\":\"Production environment BLUE.\",\"FunctionVersion\":"
    "\"2\",\"Name\":\"BLUE\",\"RevisionId\":\"a410117f-xmpl-494e-8035-7e204bb7933b\","
    "\"RoutingConfig\":{\"AdditionalVersionWeights\":{\"1\":0.7}}},{\"AliasArn\":"
    "\"arn:aws:lambda:us-west-2:123456789012:function:my-function:LIVE\",\"Description\":"
    "\"Production environment GREEN.\",\"FunctionVersion\":\"1\",\"Name\":\"GREEN\","
    "\"RevisionId\":\"21d40116-xmpl-40ba-9360-3ea284da1bb5\"}]}";

/* botocore examples-1.json, GetLayerVersion. */
static const char get_layer_version[] =
    "{\"CompatibleRuntimes\":[\"python3.6\",\"python3.7\"],\"Content\":{\"CodeSha256\":"
    "\"tv9jJO+rPbXUUXuRKi7CwHzKtLDkDRJLB3cC3Z/ouXo=\",\"CodeSize\":169,\"Location\":"
    "\"https://awslambda-us-east-2-layers.s3.us-east-2.amazonaws.com/snapshots/123456789012/"
    "my-layer-4aaa2fbb?versionId=27iWyA73\"},\"CreatedDate\":\"2018-11-14T23:03:52.894+0000\","
    "\"Description\":\"My Python layer\",\"LayerArn\":\"arn:aws:lambda:us-east-2:123456789012:"
    "layer:my-layer\",\"LayerVersionArn\":\"arn:aws:lambda:us-east-2:123456789012:layer:"
    "my-layer:1\",\"LicenseInfo\":\"MIT\",\"Version\":1}";

static const char list_layer_versions[] =
    "{\"LayerVersions\":[{\"LayerVersionArn\":\"arn:aws:lambda:us-east-2:123456789012:layer:"
    "my-layer:2\",\"Version\":2,\"Description\":\"My layer\",\"CreatedDate\":"
    "\"2018-11-15T00:37:46.592+0000\",\"CompatibleRuntimes\":[\"python3.6\",\"python3.7\"],"
    "\"CompatibleArchitectures\":[\"x86_64\",\"arm64\"]}],\"NextMarker\":null}";

/* botocore examples-1.json, ListEventSourceMappings (LastModified is a number here). */
static const char list_esm[] =
    "{\"EventSourceMappings\":[{\"BatchSize\":5,\"EventSourceArn\":\"arn:aws:sqs:us-west-2:"
    "123456789012:mySQSqueue\",\"FunctionArn\":\"arn:aws:lambda:us-west-2:123456789012:"
    "function:my-function:live\",\"LastModified\":1569284520.333,\"State\":\"Enabled\","
    "\"StateTransitionReason\":\"USER_INITIATED\",\"UUID\":\"a1b2c3d4-5678-90ab-cdef-"
    "11111EXAMPLE\"}]}";

/* botocore examples-1.json, ListProvisionedConcurrencyConfigs. */
static const char list_pc[] =
    "{\"ProvisionedConcurrencyConfigs\":[{\"AllocatedProvisionedConcurrentExecutions\":100,"
    "\"AvailableProvisionedConcurrentExecutions\":100,\"FunctionArn\":\"arn:aws:lambda:"
    "us-east-2:123456789012:function:my-function:GREEN\",\"LastModified\":"
    "\"2019-12-31T20:29:00+0000\",\"RequestedProvisionedConcurrentExecutions\":100,"
    "\"Status\":\"READY\"},{\"AllocatedProvisionedConcurrentExecutions\":0,"
    "\"AvailableProvisionedConcurrentExecutions\":0,\"FunctionArn\":\"arn:aws:lambda:"
    "us-east-2:123456789012:function:my-function:7\",\"RequestedProvisionedConcurrentExecutions"
    "\":20,\"Status\":\"IN_PROGRESS\"}],\"NextMarker\":\"page2\"}";

static const char list_tags[] = "{\"Tags\":{\"managed-by\":\"tether\",\"Category\":\"Web Tools\"}}";

static void
test_lambda_decode__get_function_zip(void **state)
{
	struct lambda_function f;
	struct err err = ERR_INIT;

	(void)state;
	assert_int_equal(DECODE(lambda_decode_get_function, get_function_zip, &f, &err), 0);
	assert_string_equal(f.name, "my-function");
	assert_string_equal(f.arn, "arn:aws:lambda:us-west-2:123456789012:function:my-function");
	assert_string_equal(f.version, "$LATEST");
	assert_string_equal(f.description, "Process image objects from Amazon S3.");
	assert_string_equal(f.revision_id, "b75dcd81-xmpl-48a8-a75a-93ba8b5b9727");
	assert_string_equal(f.code_sha256, "YFgDgEKG3ugvF1+pX64gV6tu9qNuIYNUdgJm8nCxsm4=");
	assert_int_equal(f.code_size, 5797206);
	assert_null(f.package_type);
	assert_null(f.image_uri);
	assert_null(f.resolved_image_uri);
	assert_string_equal(f.role, "arn:aws:iam::123456789012:role/lambda-role");
	assert_string_equal(f.handler, "index.handler");
	assert_string_equal(f.runtime, "nodejs12.x");
	assert_int_equal(f.memory, 256);
	assert_int_equal(f.timeout, 15);
	assert_true(f.has_environment);
	assert_int_equal(f.nenvironment, 2);
	assert_string_equal(
	    lambda_kv_get(f.environment, f.nenvironment, "BUCKET"), "my-bucket-1xpuxmplzrlbh");
	assert_string_equal(lambda_kv_get(f.environment, f.nenvironment, "PREFIX"), "inbound");
	assert_int_equal(f.nlayers, 0);
	assert_int_equal(f.state, LAMBDA_STATE_ACTIVE);
	assert_string_equal(f.state_name, "Active");
	assert_int_equal(f.last_update_status, LAMBDA_UPDATE_SUCCESSFUL);
	assert_string_equal(f.last_modified, "2020-04-10T19:06:32.563+0000");
	assert_true(f.has_tags);
	assert_int_equal(f.ntags, 1);
	assert_string_equal(lambda_kv_get(f.tags, f.ntags, "DEPARTMENT"), "Assets");
	lambda_function_clear(&f);
	assert_null(f.name);
}

static void
test_lambda_decode__get_function_image(void **state)
{
	struct lambda_function f, copy;
	struct err err = ERR_INIT;

	(void)state;
	assert_int_equal(DECODE(lambda_decode_get_function, get_function_image, &f, &err), 0);
	assert_string_equal(f.package_type, "Image");
	assert_string_equal(f.image_uri,
	    "123456789012.dkr.ecr.us-east-1.amazonaws.com/orders:20250526-145140-9f6a1a2a");
	assert_string_equal(f.resolved_image_uri,
	    "123456789012.dkr.ecr.us-east-1.amazonaws.com/orders@sha256:9f6a1a2a");
	assert_string_equal(f.description, "");
	assert_string_equal(f.architecture, "arm64");
	assert_true(f.has_environment);
	assert_int_equal(f.nenvironment, 0);
	assert_int_equal(f.nlayers, 2);
	assert_string_equal(
	    f.layers[0].arn, "arn:aws:lambda:us-east-1:123456789012:layer:receipt-dynamo-dev:5");
	assert_int_equal(f.layers[0].code_size, 1234);
	assert_string_equal(
	    f.layers[1].arn, "arn:aws:lambda:us-east-1:123456789012:layer:receipt-label-dev:3");
	assert_int_equal(f.state, LAMBDA_STATE_PENDING);
	assert_string_equal(f.state_reason, "The function is being created.");
	assert_string_equal(f.state_reason_code, "Creating");
	assert_int_equal(f.last_update_status, LAMBDA_UPDATE_IN_PROGRESS);
	/* null is absent; an unknown reason code is kept as text. */
	assert_null(f.last_update_status_reason);
	assert_string_equal(f.last_update_status_reason_code, "FunctionError.InitTimeout");
	assert_false(f.has_tags);

	lambda_function_copy(&copy, &f);
	lambda_function_clear(&f);
	assert_string_equal(
	    copy.layers[1].arn, "arn:aws:lambda:us-east-1:123456789012:layer:receipt-label-dev:3");
	assert_string_equal(copy.name, "orders-api");
	assert_int_equal(copy.memory, 512);
	lambda_function_clear(&copy);
}

static void
test_lambda_decode__function_configuration(void **state)
{
	/* The body of GetFunctionConfiguration / PublishVersion: a bare FunctionConfiguration. */
	static const char body[] =
	    "{\"FunctionName\":\"f\",\"Version\":\"7\",\"Description\":\"tether d=3f9a1c0b7e21\","
	    "\"RevisionId\":\"r1\",\"State\":\"Active\",\"LastUpdateStatus\":\"Successful\","
	    "\"MemorySize\":128,\"Timeout\":3,\"CodeSize\":10}";
	struct lambda_function f;
	struct err err = ERR_INIT;

	(void)state;
	assert_int_equal(DECODE(lambda_decode_function, body, &f, &err), 0);
	assert_string_equal(f.version, "7");
	assert_string_equal(f.description, "tether d=3f9a1c0b7e21");
	assert_false(f.has_environment);
	lambda_function_clear(&f);

	/* GetFunction's envelope is required where it is expected. */
	assert_int_equal(DECODE(lambda_decode_get_function, body, &f, &err), ERR_FAIL);
	assert_non_null(strstr(err.message, "Configuration"));
}

static void
test_lambda_decode__lenient_enums(void **state)
{
	static const char body[] =
	    "{\"FunctionName\":\"f\",\"State\":\"Deactivating\",\"LastUpdateStatus\":\"Paused\","
	    "\"NewThing\":{\"deep\":[1,2,{\"x\":null}]},\"Unknown\":42}";
	struct lambda_function f;
	struct err err = ERR_INIT;

	(void)state;
	assert_int_equal(DECODE(lambda_decode_function, body, &f, &err), 0);
	assert_int_equal(f.state, LAMBDA_STATE_OTHER);
	assert_string_equal(f.state_name, "Deactivating");
	assert_int_equal(f.last_update_status, LAMBDA_UPDATE_OTHER);
	assert_string_equal(f.last_update_status_name, "Paused");
	lambda_function_clear(&f);

	assert_int_equal(lambda_state_parse(NULL), LAMBDA_STATE_NONE);
	assert_int_equal(lambda_state_parse("Inactive"), LAMBDA_STATE_INACTIVE);
	assert_int_equal(lambda_state_parse("Failed"), LAMBDA_STATE_FAILED);
	assert_int_equal(lambda_state_parse("active"), LAMBDA_STATE_OTHER);
	assert_int_equal(lambda_update_status_parse("Failed"), LAMBDA_UPDATE_FAILED);
	assert_int_equal(lambda_update_status_parse(NULL), LAMBDA_UPDATE_NONE);
}

static void
test_lambda_decode__type_errors(void **state)
{
	static const struct {
		const char *body;
		const char *field;
	} cases[] = {
	    {"{\"MemorySize\":\"512\"}", "MemorySize"},
	    {"{\"MemorySize\":1.5}", "MemorySize"},
	    {"{\"MemorySize\":99999999999}", "MemorySize"},
	    {"{\"FunctionName\":7}", "FunctionName"},
	    {"{\"Environment\":[]}", "Environment"},
	    {"{\"Environment\":{\"Variables\":{\"A\":1}}}", "Environment.Variables.A"},
	    {"{\"Layers\":{}}", "Layers"},
	    {"{\"Layers\":[\"arn\"]}", "Layers[0]"},
	    {"{\"Layers\":[{\"CodeSize\":1}]}", "Layers[0].Arn"},
	    {"{\"Layers\":[{\"Arn\":\"a\"},{\"Arn\":false}]}", "Layers[1].Arn"},
	    {"{\"Architectures\":[3]}", "Architectures"},
	    {"{\"State\":{}}", "State"},
	};
	struct lambda_function f;
	struct err err = ERR_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < nitems(cases); i++) {
		err_clear(&err);
		assert_int_equal(DECODE(lambda_decode_function, cases[i].body, &f, &err), ERR_FAIL);
		assert_int_equal(err.code, ERR_FAIL);
		if (strstr(err.message, cases[i].field) == NULL)
			fail_msg("case %zu: '%s' does not name %s", i, err.message, cases[i].field);
		assert_null(f.name);
		assert_null(f.layers);
	}
	/* Not JSON, not an object, empty. */
	assert_int_equal(DECODE(lambda_decode_function, "<html>", &f, &err), ERR_FAIL);
	assert_non_null(strstr(err.message, "malformed Lambda response"));
	assert_int_equal(DECODE(lambda_decode_function, "[1]", &f, &err), ERR_FAIL);
	assert_int_equal(lambda_decode_function("", 0, &f, &err), ERR_FAIL);
	assert_int_equal(lambda_decode_function(NULL, 0, &f, &err), ERR_FAIL);
	/* An embedded NUL is refused, not truncated. */
	assert_int_equal(
	    lambda_decode_function(LIT("{\"FunctionName\":\"a\\u0000b\"}"), &f, &err), ERR_FAIL);
}

static void
test_lambda_decode__function_pages(void **state)
{
	struct lambda_function_page p;
	struct err err = ERR_INIT;

	(void)state;
	assert_int_equal(lambda_decode_function_page(
	                     list_functions, strlen(list_functions), "Functions", &p, &err),
	    0);
	assert_int_equal(p.n, 2);
	assert_null(p.next_marker); /* "" is the last page */
	assert_string_equal(p.items[0].name, "helloworld");
	assert_int_equal(p.items[0].memory, 128);
	assert_string_equal(p.items[1].name, "my-function");
	assert_int_equal(p.items[1].state, LAMBDA_STATE_NONE); /* ListFunctions omits it */
	lambda_function_page_clear(&p);

	assert_int_equal(
	    lambda_decode_function_page(list_versions, strlen(list_versions), "Versions", &p, &err),
	    0);
	assert_int_equal(p.n, 3);
	assert_string_equal(p.next_marker, "djI6MTIz");
	assert_string_equal(p.items[0].version, "$LATEST");
	assert_string_equal(p.items[1].description, "tether d=3f9a1c0b7e21 c=8e4f2a1 main");
	assert_null(p.items[2].description);
	lambda_function_page_clear(&p);

	/* An empty page, and one without the items key. */
	assert_int_equal(
	    lambda_decode_function_page(LIT("{\"Versions\":[]}"), "Versions", &p, &err), 0);
	assert_int_equal(p.n, 0);
	assert_null(p.items);
	lambda_function_page_clear(&p);
	assert_int_equal(lambda_decode_function_page(LIT("{}"), "Functions", &p, &err), 0);
	assert_int_equal(p.n, 0);
	lambda_function_page_clear(&p);

	/* A bad item fails the whole page. */
	assert_int_equal(
	    lambda_decode_function_page(LIT("{\"Functions\":[{},3]}"), "Functions", &p, &err),
	    ERR_FAIL);
	assert_non_null(strstr(err.message, "Functions[1]"));
	assert_int_equal(lambda_decode_function_page(
	                     LIT("{\"Functions\":[{\"Timeout\":\"x\"}]}"), "Functions", &p, &err),
	    ERR_FAIL);
	assert_non_null(strstr(err.message, "Functions[0].Timeout"));
	assert_int_equal(p.n, 0);
	assert_int_equal(
	    lambda_decode_function_page(LIT("{\"NextMarker\":5}"), "Functions", &p, &err),
	    ERR_FAIL);
}

static void
test_lambda_decode__aliases(void **state)
{
	struct lambda_alias_page p;
	struct lambda_alias a, copy;
	struct err err = ERR_INIT;

	(void)state;
	assert_int_equal(DECODE(lambda_decode_alias_page, list_aliases, &p, &err), 0);
	assert_int_equal(p.n, 2);
	assert_null(p.next_marker);
	assert_string_equal(p.items[0].name, "BLUE");
	assert_string_equal(
	    p.items[0].arn, "arn:aws:lambda:us-west-2:123456789012:function:my-function:BETA");
	assert_string_equal(p.items[0].function_version, "2");
	assert_string_equal(p.items[0].description, "Production environment BLUE.");
	assert_string_equal(p.items[0].revision_id, "a410117f-xmpl-494e-8035-7e204bb7933b");
	assert_string_equal(p.items[0].routing_version, "1");
	assert_true(p.items[0].routing_weight > 0.6999 && p.items[0].routing_weight < 0.7001);
	assert_string_equal(p.items[1].name, "GREEN");
	assert_null(p.items[1].routing_version);
	assert_true(p.items[1].routing_weight == 0.0);
	lambda_alias_copy(&copy, &p.items[0]);
	lambda_alias_page_clear(&p);
	assert_string_equal(copy.routing_version, "1");
	lambda_alias_clear(&copy);

	/* An integer weight, and an empty routing map (cleared routing). */
	assert_int_equal(DECODE(lambda_decode_alias,
	                     "{\"Name\":\"live\",\"FunctionVersion\":\"3\",\"RoutingConfig\":{"
	                     "\"AdditionalVersionWeights\":{\"4\":1}}}",
	                     &a, &err),
	    0);
	assert_string_equal(a.routing_version, "4");
	assert_true(a.routing_weight == 1.0);
	lambda_alias_clear(&a);
	assert_int_equal(
	    DECODE(lambda_decode_alias,
	        "{\"Name\":\"live\",\"RoutingConfig\":{\"AdditionalVersionWeights\":{}}}", &a,
	        &err),
	    0);
	assert_null(a.routing_version);
	lambda_alias_clear(&a);

	/* Two extra versions, a non-number weight, a non-object routing config. */
	assert_int_equal(
	    DECODE(lambda_decode_alias,
	        "{\"RoutingConfig\":{\"AdditionalVersionWeights\":{\"1\":0.1,\"2\":0.2}}}", &a,
	        &err),
	    ERR_FAIL);
	assert_non_null(strstr(err.message, "more than one"));
	assert_null(a.routing_version);
	assert_int_equal(
	    DECODE(lambda_decode_alias,
	        "{\"RoutingConfig\":{\"AdditionalVersionWeights\":{\"1\":\"0.1\"}}}", &a, &err),
	    ERR_FAIL);
	assert_non_null(strstr(err.message, "AdditionalVersionWeights.1"));
	assert_int_equal(
	    DECODE(lambda_decode_alias, "{\"RoutingConfig\":true}", &a, &err), ERR_FAIL);
}

static void
test_lambda_decode__layers(void **state)
{
	struct lambda_layer_version l;
	struct lambda_layer_version_page p;
	struct err err = ERR_INIT;

	(void)state;
	assert_int_equal(DECODE(lambda_decode_layer_version, get_layer_version, &l, &err), 0);
	assert_string_equal(l.layer_arn, "arn:aws:lambda:us-east-2:123456789012:layer:my-layer");
	assert_string_equal(
	    l.layer_version_arn, "arn:aws:lambda:us-east-2:123456789012:layer:my-layer:1");
	assert_int_equal(l.version, 1);
	assert_string_equal(l.description, "My Python layer");
	assert_string_equal(l.created_date, "2018-11-14T23:03:52.894+0000");
	assert_string_equal(l.license_info, "MIT");
	assert_string_equal(l.code_sha256, "tv9jJO+rPbXUUXuRKi7CwHzKtLDkDRJLB3cC3Z/ouXo=");
	assert_int_equal(l.code_size, 169);
	assert_int_equal(l.ncompatible_runtimes, 2);
	assert_string_equal(l.compatible_runtimes[1], "python3.7");
	assert_int_equal(l.ncompatible_architectures, 0);
	lambda_layer_version_clear(&l);

	assert_int_equal(
	    DECODE(lambda_decode_layer_version_page, list_layer_versions, &p, &err), 0);
	assert_int_equal(p.n, 1);
	assert_null(p.next_marker);
	assert_int_equal(p.items[0].version, 2);
	assert_int_equal(p.items[0].ncompatible_architectures, 2);
	assert_string_equal(p.items[0].compatible_architectures[1], "arm64");
	lambda_layer_version_page_clear(&p);

	assert_int_equal(
	    DECODE(lambda_decode_layer_version, "{\"CompatibleRuntimes\":[\"a\",1]}", &l, &err),
	    ERR_FAIL);
	assert_non_null(strstr(err.message, "CompatibleRuntimes"));
	assert_int_equal(
	    DECODE(lambda_decode_layer_version, "{\"Version\":\"1\"}", &l, &err), ERR_FAIL);
}

static void
test_lambda_decode__esm_pc_tags(void **state)
{
	struct lambda_esm_page e;
	struct lambda_pc_page p;
	struct lambda_tags t;
	struct err err = ERR_INIT;

	(void)state;
	assert_int_equal(DECODE(lambda_decode_esm_page, list_esm, &e, &err), 0);
	assert_int_equal(e.n, 1);
	assert_string_equal(e.items[0].uuid, "a1b2c3d4-5678-90ab-cdef-11111EXAMPLE");
	assert_string_equal(e.items[0].function_arn,
	    "arn:aws:lambda:us-west-2:123456789012:function:my-function:live");
	assert_string_equal(
	    e.items[0].event_source_arn, "arn:aws:sqs:us-west-2:123456789012:mySQSqueue");
	assert_string_equal(e.items[0].state, "Enabled");
	lambda_esm_page_clear(&e);

	assert_int_equal(DECODE(lambda_decode_pc_page, list_pc, &p, &err), 0);
	assert_int_equal(p.n, 2);
	assert_string_equal(p.next_marker, "page2");
	assert_string_equal(p.items[0].qualifier, "GREEN");
	assert_string_equal(p.items[0].status, "READY");
	assert_int_equal(p.items[0].requested, 100);
	assert_int_equal(p.items[0].available, 100);
	assert_int_equal(p.items[0].allocated, 100);
	assert_string_equal(p.items[1].qualifier, "7");
	assert_string_equal(p.items[1].status, "IN_PROGRESS");
	assert_int_equal(p.items[1].requested, 20);
	lambda_pc_page_clear(&p);
	/* An unqualified ARN has no qualifier. */
	assert_int_equal(DECODE(lambda_decode_pc_page,
	                     "{\"ProvisionedConcurrencyConfigs\":[{\"FunctionArn\":"
	                     "\"arn:aws:lambda:us-east-2:123456789012:function:f\"}]}",
	                     &p, &err),
	    0);
	assert_null(p.items[0].qualifier);
	lambda_pc_page_clear(&p);

	assert_int_equal(DECODE(lambda_decode_tags, list_tags, &t, &err), 0);
	assert_int_equal(t.n, 2);
	assert_string_equal(lambda_kv_get(t.items, t.n, "managed-by"), "tether");
	assert_string_equal(lambda_kv_get(t.items, t.n, "Category"), "Web Tools");
	assert_null(lambda_kv_get(t.items, t.n, "nope"));
	lambda_tags_clear(&t);
	assert_int_equal(DECODE(lambda_decode_tags, "{}", &t, &err), 0);
	assert_int_equal(t.n, 0);
	lambda_tags_clear(&t);
	assert_int_equal(DECODE(lambda_decode_tags, "{\"Tags\":{\"a\":[]}}", &t, &err), ERR_FAIL);
	assert_non_null(strstr(err.message, "Tags.a"));
}

static void
check_error(long status, const char *header, const char *body, int code, const char *type,
    const char *message)
{
	struct err err = ERR_INIT;

	assert_int_equal(lambda_decode_error(
	                     status, header, "req-1", body, body != NULL ? strlen(body) : 0, &err),
	    code);
	assert_int_equal(err.code, code);
	assert_int_equal(err.http_status, status);
	assert_string_equal(err.type, type);
	assert_string_equal(err.message, message);
	assert_string_equal(err.request_id, "req-1");
}

static void
test_lambda_decode__errors(void **state)
{
	(void)state;
	/* 1. The header, cut at ':', wins over the body; "Message" (capital M). */
	check_error(404,
	    "ResourceNotFoundException:http://internal.amazon.com/coral/com.amazonaws.lambda/",
	    "{\"Type\":\"User\",\"Message\":\"Function not found: arn:aws:lambda:us-east-1:"
	    "123456789012:function:my-fn\",\"code\":\"Ignored\"}",
	    ERR_NOTFOUND, "ResourceNotFoundException",
	    "Function not found: arn:aws:lambda:us-east-1:123456789012:function:my-fn");
	/* 2. Body "code"; lower-case "message" wins over "Message". */
	check_error(409, NULL,
	    "{\"code\":\"ResourceConflictException\",\"message\":\"The operation cannot be "
	    "performed at this time.\",\"Message\":\"other\"}",
	    ERR_CONFLICT, "ResourceConflictException",
	    "The operation cannot be performed at this time.");
	/* 2'. Body "Code". */
	check_error(412, "", "{\"Code\":\"PreconditionFailedException\",\"message\":\"stale\"}",
	    ERR_PRECONDITION, "PreconditionFailedException", "stale");
	/* 3. "__type" after the last '#'; a throttle type outranks the 400. */
	check_error(400, NULL,
	    "{\"__type\":\"com.amazon.coral.availability#ThrottlingException\",\"message\":"
	    "\"Rate exceeded\"}",
	    ERR_THROTTLED, "ThrottlingException", "Rate exceeded");
	check_error(400, NULL, "{\"__type\":\"InvalidParameterValueException\"}", ERR_INVALID,
	    "InvalidParameterValueException", "HTTP 400");
	/* 4. Nothing but the status, with a body that is not JSON. */
	check_error(503, NULL, "<html><body>Service Unavailable</body></html>", ERR_TRANSIENT,
	    "503", "HTTP 503");
	check_error(502, NULL, NULL, ERR_TRANSIENT, "502", "HTTP 502");
	check_error(500, "ServiceException", "{\"Type\":\"Service\",\"Message\":\"boom\"}",
	    ERR_TRANSIENT, "ServiceException", "boom");
	check_error(429, "TooManyRequestsException",
	    "{\"Type\":\"User\",\"message\":\"Rate exceeded\",\"Reason\":"
	    "\"CallerRateLimitExceeded\"}",
	    ERR_THROTTLED, "TooManyRequestsException", "Rate exceeded");
	check_error(403, "UnrecognizedClientException",
	    "{\"message\":\"The security token included in the request is invalid.\"}", ERR_AUTH,
	    "UnrecognizedClientException",
	    "The security token included in the request is invalid.");
	check_error(403, "InvalidSignatureException", "{\"message\":\"Signature expired\"}",
	    ERR_AUTH, "InvalidSignatureException", "Signature expired");
	check_error(400, "ExpiredTokenException", "{\"message\":\"expired\"}", ERR_AUTH,
	    "ExpiredTokenException", "expired");
	check_error(401, NULL, "", ERR_AUTH, "401", "HTTP 401");
	check_error(413, "RequestTooLargeException", "{\"message\":\"too large\"}", ERR_TOOBIG,
	    "RequestTooLargeException", "too large");
	check_error(415, "UnsupportedMediaTypeException", "{}", ERR_INVALID,
	    "UnsupportedMediaTypeException", "HTTP 415");
	check_error(418, NULL, "[]", ERR_FAIL, "418", "HTTP 418");
	/* Wrong types in the body are ignored, never trusted. */
	check_error(404, NULL, "{\"code\":5,\"message\":[\"x\"],\"Message\":\"m\"}", ERR_NOTFOUND,
	    "404", "m");
	/* A message with line breaks stays one line. */
	check_error(400, "InvalidParameterValueException", "{\"message\":\"a\\nb\"}", ERR_INVALID,
	    "InvalidParameterValueException", "a b");

	assert_true(lambda_error_is_throttle("TooManyRequestsException"));
	assert_true(lambda_error_is_throttle("SlowDown"));
	assert_false(lambda_error_is_throttle("ResourceConflictException"));
	assert_false(lambda_error_is_throttle(NULL));
	/* err may be NULL. */
	assert_int_equal(lambda_decode_error(404, NULL, NULL, NULL, 0, NULL), ERR_NOTFOUND);
}

/* Every decoder over one input: it either decodes or fails, and never leaks. */
static void
decode_all(const char *s, size_t n)
{
	struct lambda_function f;
	struct lambda_function_page fp;
	struct lambda_alias a;
	struct lambda_alias_page ap;
	struct lambda_layer_version l;
	struct lambda_layer_version_page lp;
	struct lambda_esm_page ep;
	struct lambda_pc_page pp;
	struct lambda_tags t;
	struct err err = ERR_INIT;

	if (lambda_decode_function(s, n, &f, &err) == 0)
		lambda_function_clear(&f);
	if (lambda_decode_get_function(s, n, &f, &err) == 0)
		lambda_function_clear(&f);
	if (lambda_decode_function_page(s, n, "Functions", &fp, &err) == 0)
		lambda_function_page_clear(&fp);
	if (lambda_decode_alias(s, n, &a, &err) == 0)
		lambda_alias_clear(&a);
	if (lambda_decode_alias_page(s, n, &ap, &err) == 0)
		lambda_alias_page_clear(&ap);
	if (lambda_decode_layer_version(s, n, &l, &err) == 0)
		lambda_layer_version_clear(&l);
	if (lambda_decode_layer_version_page(s, n, &lp, &err) == 0)
		lambda_layer_version_page_clear(&lp);
	if (lambda_decode_esm_page(s, n, &ep, &err) == 0)
		lambda_esm_page_clear(&ep);
	if (lambda_decode_pc_page(s, n, &pp, &err) == 0)
		lambda_pc_page_clear(&pp);
	if (lambda_decode_tags(s, n, &t, &err) == 0)
		lambda_tags_clear(&t);
	lambda_decode_error(400, NULL, NULL, s, n, &err);
}

static void
test_lambda_decode__robustness(void **state)
{
	static const char *const bodies[] = {get_function_zip, get_function_image, list_functions,
	    list_versions, list_aliases, get_layer_version, list_layer_versions, list_esm, list_pc,
	    list_tags};
	static const char junk[] = "{}[]\":,0-1e9tfn\\u\x80\xff ";
	uint32_t rng = 12345;
	size_t i, j, k, n;
	char *copy;

	(void)state;
	for (i = 0; i < nitems(bodies); i++) {
		n = strlen(bodies[i]);
		/* Every prefix. */
		for (j = 0; j <= n; j++)
			decode_all(bodies[i], j);
		/* Random corruption: a few bytes replaced by JSON-significant junk. */
		copy = malloc(n + 1);
		for (j = 0; j < 300; j++) {
			memcpy(copy, bodies[i], n + 1);
			for (k = 0; k < 4; k++) {
				rng = rng * 1103515245u + 12345u;
				copy[(rng >> 8) % n] = junk[(rng >> 20) % (sizeof(junk) - 1)];
			}
			decode_all(copy, n);
		}
		free(copy);
	}
	/* Deep nesting and every JSON type where objects are expected. */
	{
		char deep[8192];

		memset(deep, '[', sizeof(deep));
		decode_all(deep, sizeof(deep));
		decode_all(LIT("null"));
		decode_all(LIT("\"s\""));
		decode_all(LIT("{\"Configuration\":[],\"Code\":1,\"Tags\":\"x\"}"));
		decode_all(LIT("{\"Aliases\":[null],\"Functions\":{},\"Tags\":null}"));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lambda_decode__get_function_zip),
	    cmocka_unit_test(test_lambda_decode__get_function_image),
	    cmocka_unit_test(test_lambda_decode__function_configuration),
	    cmocka_unit_test(test_lambda_decode__lenient_enums),
	    cmocka_unit_test(test_lambda_decode__type_errors),
	    cmocka_unit_test(test_lambda_decode__function_pages),
	    cmocka_unit_test(test_lambda_decode__aliases),
	    cmocka_unit_test(test_lambda_decode__layers),
	    cmocka_unit_test(test_lambda_decode__esm_pc_tags),
	    cmocka_unit_test(test_lambda_decode__errors),
	    cmocka_unit_test(test_lambda_decode__robustness),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
