/*
 * Lambda's name and ARN patterns (botocore's service model), one matcher each, and the
 * image-tag rule. Each table lists what must match and what must not, edge cases first.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/compat.h"
#include "reconcile/names.h"

struct example {
	const char *s;
	bool ok;
};

static void
check(bool (*match)(const char *), const struct example *ex, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (match(ex[i].s) != ex[i].ok)
			fail_msg("\"%s\" should %smatch", ex[i].s, ex[i].ok ? "" : "not ");
	}
}

static bool
function_arn(const char *s)
{
	return names_function_arn(s, NULL);
}

static bool
layer_version_arn(const char *s)
{
	return names_layer_version_arn(s, NULL);
}

static char long_name[200];

static const char *
repeat(char c, size_t n)
{
	memset(long_name, c, n);
	long_name[n] = '\0';
	return long_name;
}

static void
test_names__function_name(void **state)
{
	static const struct example ex[] = {
	    {"orders-api", true},
	    {"A_b-9", true},
	    {"1", true},
	    {"", false},
	    {"my function", false},
	    {"api.v2", false},
	    {"api:live", false},
	    {"arn:aws:lambda:us-east-1:123456789012:function:x", false},
	};

	(void)state;
	check(names_function_name, ex, nitems(ex));
	assert_true(names_function_name(repeat('f', 64)));
	assert_false(names_function_name(repeat('f', 65)));
}

static void
test_names__function_arn(void **state)
{
	static const struct example ex[] = {
	    {"arn:aws:lambda:us-east-1:123456789012:function:my-fn", true},
	    {"arn:aws-cn:lambda:cn-north-1:123456789012:function:my-fn", true},
	    {"arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:my-fn", true},
	    {"arn:aws:lambda:us-east-1:123456789012:function:my-fn:$LATEST", true},
	    {"arn:aws:lambda:us-east-1:123456789012:function:my-fn:7", true},
	    {"arn:aws:lambda:us-east-1:123456789012:function:my-fn:live", true},
	    {"arn::lambda:us-east-1:123456789012:function:my-fn", true},
	    {"arn:aws:lambda:us-east-1:123456789012:function:", false},
	    {"arn:aws:lambda:us-east-1:12345678901:function:f", false},
	    {"arn:aws:lambda:us-east-1:1234567890123:function:f", false},
	    {"arn:aws:lambda:useast1:123456789012:function:f", false},
	    {"arn:aws:lambda:us-east-12:123456789012:function:f", false},
	    {"arn:gcp:lambda:us-east-1:123456789012:function:f", false},
	    {"arn:aws:lambda:us-east-1:123456789012:layer:f", false},
	    {"arn:aws:lambda:us-east-1:123456789012:function:f:", false},
	    {"arn:aws:lambda:us-east-1:123456789012:function:f:a.b", false},
	    {"arn:aws:lambda:us-east-1:123456789012:function:f:1:2", false},
	};
	struct names_arn arn;

	(void)state;
	check(function_arn, ex, nitems(ex));
	assert_true(names_function_arn(
	    "arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:my-fn:live", &arn));
	assert_string_equal(arn.partition, "aws-us-gov");
	assert_string_equal(arn.region, "us-gov-west-1");
	assert_string_equal(arn.account, "123456789012");
	assert_string_equal(arn.name, "my-fn");
	assert_string_equal(arn.qualifier, "live");
}

static void
test_names__layers(void **state)
{
	static const struct example ex[] = {
	    {"arn:aws:lambda:us-east-1:123456789012:layer:my-layer:3", true},
	    {"arn:aws-cn:lambda:cn-north-1:123456789012:layer:my_layer:10", true},
	    {"arn:aws:lambda:us-east-1:123456789012:layer:my-layer", false},
	    {"arn:aws:lambda:us-east-1:123456789012:layer:my-layer:", false},
	    {"arn:aws:lambda:us-east-1:123456789012:layer:my-layer:x", false},
	    {"arn:aws:lambda:us-east-1:123456789012:layer::3", false},
	    {"arn:aws:lambda:us-east-1:123456789012:function:f:3", false},
	    {"arn:aws:lambda:us_east:123456789012:layer:l:3", false},
	};
	struct names_arn arn;
	char buf[300];

	(void)state;
	check(layer_version_arn, ex, nitems(ex));
	assert_true(names_layer_arn("arn:aws:lambda:us-east-1:123456789012:layer:my-layer"));
	assert_false(names_layer_arn("arn:aws:lambda:us-east-1:123456789012:layer:my-layer:3"));
	assert_true(names_layer_version_arn(
	    "arn:aws:lambda:eu-west-1:123456789012:layer:my-layer:42", &arn));
	assert_string_equal(arn.region, "eu-west-1");
	assert_string_equal(arn.name, "my-layer");
	assert_int_equal(arn.version, 42);
	/* At most 140 characters in all. */
	snprintf(buf, sizeof(buf), "arn:aws:lambda:us-east-1:123456789012:layer:%s:1",
	    repeat('l', 140 - 46));
	assert_int_equal(strlen(buf), 140);
	assert_true(names_layer_version_arn(buf, NULL));
	snprintf(buf, sizeof(buf), "arn:aws:lambda:us-east-1:123456789012:layer:%s:1",
	    repeat('l', 141 - 46));
	assert_false(names_layer_version_arn(buf, NULL));
	assert_true(names_layer_name("receipt-label_dev"));
	assert_false(names_layer_name("a b"));
	assert_false(names_layer_name(""));
}

static void
test_names__aliases_qualifiers_versions(void **state)
{
	static const struct example aliases[] = {
	    {"live", true},
	    {"v1", true},
	    {"1a", true},
	    {"my_alias-2", true},
	    {"123", false},
	    {"0", false},
	    {"$LATEST", false},
	    {"a.b", false},
	    {"", false},
	};
	static const struct example qualifiers[] = {
	    {"$LATEST", true},
	    {"12", true},
	    {"live", true},
	    {"", false},
	    {"a.b", false},
	};
	static const struct example versions[] = {
	    {"$LATEST", true},
	    {"1", true},
	    {"007", true},
	    {"$latest", false},
	    {"-1", false},
	    {"1.5", false},
	    {"", false},
	};

	(void)state;
	check(names_alias, aliases, nitems(aliases));
	check(names_qualifier, qualifiers, nitems(qualifiers));
	check(names_version, versions, nitems(versions));
	assert_true(names_alias(repeat('a', 128)));
	assert_false(names_alias(repeat('a', 129)));
}

static void
test_names__role_env_region_bucket_handler(void **state)
{
	static const struct example roles[] = {
	    {"arn:aws:iam::123456789012:role/orders", true},
	    {"arn:aws:iam::123456789012:role/service-role/orders+x=y,z.@-_", true},
	    {"arn:aws-cn:iam::123456789012:role/x", true},
	    {"arn:aws:iam::123456789012:role", false},
	    {"arn:aws:iam::123456789012:user/bob", false},
	    {"arn:aws:iam:us-east-1:123456789012:role/x", false},
	    {"arn:aws:iam::12345678901:role/x", false},
	    {"arn:aws:iam::123456789012:role/a b", false},
	};
	static const struct example keys[] = {
	    {"AB", true},
	    {"LOG_LEVEL", true},
	    {"a1", true},
	    {"A", false},
	    {"1A", false},
	    {"_A", false},
	    {"MY-VAR", false},
	    {"", false},
	};
	static const struct example regions[] = {
	    {"us-east-1", true},
	    {"ap-southeast-2", true},
	    {"us-gov-west-1", true},
	    {"cn-northwest-1", true},
	    {"us-east", false},
	    {"US-EAST-1", false},
	    {"us-east-10", false},
	    {"useast-1", false},
	    {"u-east-1", false},
	    {"", false},
	};
	static const struct example buckets[] = {
	    {"abc", true},
	    {"my.bucket-name_1", true},
	    {"ab", false},
	    {"bucket.", false},
	    {"a b", false},
	};
	static const struct example handlers[] = {
	    {"index.handler", true},
	    {"x", true},
	    {"", false},
	    {"a b", false},
	    {"a\tb", false},
	};

	(void)state;
	check(names_role_arn, roles, nitems(roles));
	check(names_env_key, keys, nitems(keys));
	check(names_region, regions, nitems(regions));
	check(names_s3_bucket, buckets, nitems(buckets));
	check(names_handler, handlers, nitems(handlers));
	assert_true(names_s3_bucket(repeat('b', 63)));
	assert_false(names_s3_bucket(repeat('b', 64)));
	assert_true(names_handler(repeat('h', 128)));
	assert_false(names_handler(repeat('h', 129)));
	assert_true(names_env_reserved("AWS_REGION"));
	assert_true(names_env_reserved("AWS_LAMBDA_RUNTIME_API"));
	assert_false(names_env_reserved("AWS_REGION_NAME"));
}

static void
test_names__image_pins(void **state)
{
	static const struct {
		const char *uri;
		bool ok;
		enum names_image_pin pin;
		const char *tag;
	} ex[] = {
	    {"1.dkr.ecr.us-east-1.amazonaws.com/orders:latest", true, NAMES_IMAGE_LATEST, "latest"},
	    {"1.dkr.ecr.us-east-1.amazonaws.com/orders", true, NAMES_IMAGE_UNTAGGED, NULL},
	    {"1.dkr.ecr.us-east-1.amazonaws.com/team/orders:v42", true, NAMES_IMAGE_MUTABLE, "v42"},
	    {"1.dkr.ecr.us-east-1.amazonaws.com/orders:prod", true, NAMES_IMAGE_MUTABLE, "prod"},
	    {"1.dkr.ecr.us-east-1.amazonaws.com/orders:20250526-145140-9f6a1a2a", true,
	        NAMES_IMAGE_CONTENT, "20250526-145140-9f6a1a2a"},
	    {"1.dkr.ecr.us-east-1.amazonaws.com/orders:9f6a1a2", true, NAMES_IMAGE_CONTENT,
	        "9f6a1a2"},
	    {"1.dkr.ecr.us-east-1.amazonaws.com/orders:deadbeef", true, NAMES_IMAGE_MUTABLE,
	        "deadbeef"},
	    {"1.dkr.ecr.us-east-1.amazonaws.com/orders:1.2.3", true, NAMES_IMAGE_CONTENT, "1.2.3"},
	    {"1.dkr.ecr.us-east-1.amazonaws.com/orders:v1.2.3-build.7", true, NAMES_IMAGE_CONTENT,
	        "v1.2.3-build.7"},
	    {"1.dkr.ecr.us-east-1.amazonaws.com/orders:1.2", true, NAMES_IMAGE_MUTABLE, "1.2"},
	    {"1.dkr.ecr.us-east-1.amazonaws.com/orders@sha256:"
	     "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	        true, NAMES_IMAGE_DIGEST, NULL},
	    {"1.dkr.ecr.us-east-1.amazonaws.com/orders:latest@sha256:"
	     "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	        true, NAMES_IMAGE_DIGEST, "latest@sha256:"},
	    {"localhost:5000/app:1.0.0", true, NAMES_IMAGE_CONTENT, "1.0.0"},
	    {"orders:latest", false, NAMES_IMAGE_MUTABLE, NULL},
	    {"orders", false, NAMES_IMAGE_MUTABLE, NULL},
	    {"1.dkr.ecr.us-east-1.amazonaws.com/Orders:v1", false, NAMES_IMAGE_MUTABLE, NULL},
	    {"1.dkr.ecr.us-east-1.amazonaws.com/orders:", false, NAMES_IMAGE_MUTABLE, NULL},
	    {"1.dkr.ecr.us-east-1.amazonaws.com/orders:-x", false, NAMES_IMAGE_MUTABLE, NULL},
	    {"1.dkr.ecr.us-east-1.amazonaws.com/orders@sha256:abc", false, NAMES_IMAGE_MUTABLE,
	        NULL},
	    {"1.dkr.ecr.us-east-1.amazonaws.com//orders", false, NAMES_IMAGE_MUTABLE, NULL},
	    {"host:port/app", false, NAMES_IMAGE_MUTABLE, NULL},
	};
	enum names_image_pin pin;
	const char *tag;
	size_t i;

	(void)state;
	for (i = 0; i < nitems(ex); i++) {
		if (names_image(ex[i].uri, &pin, &tag) != ex[i].ok)
			fail_msg("%s should %sbe an image URI", ex[i].uri, ex[i].ok ? "" : "not ");
		if (!ex[i].ok)
			continue;
		if (pin != ex[i].pin)
			fail_msg("%s: pin %d, want %d", ex[i].uri, pin, ex[i].pin);
		if (ex[i].tag == NULL)
			assert_null(tag);
		else
			assert_memory_equal(tag, ex[i].tag, strlen(ex[i].tag));
	}
}

/* Debian's botocore service model, whose Runtime enum the list starts with. */
#define BOTOCORE_LAMBDA \
	"/usr/lib/python3/dist-packages/botocore/data/lambda/2015-03-31/service-2.json"

static void
test_names__runtimes(void **state)
{
	static const struct example ex[] = {
	    {"python3.12", true},
	    {"nodejs20.x", true},
	    {"java21", true},
	    {"provided.al2023", true},
	    {"go1.x", true},
	    {"nodejs4.3-edge", true},
	    {"", false},
	    {"python", false},
	    {"Python3.12", false},
	    {"python3.12 ", false},
	    {"python3.1", false},
	    {"nodejs20", false},
	};
	json_error_t e;
	json_t *model, *values, *v;
	size_t i, n = 0;

	(void)state;
	check(names_runtime, ex, nitems(ex));
	/* Every value of the model's enum is accepted, and is listed once. */
	model = json_load_file(BOTOCORE_LAMBDA, 0, &e);
	if (model == NULL)
		fail_msg("%s: %s", BOTOCORE_LAMBDA, e.text);
	values =
	    json_object_get(json_object_get(json_object_get(model, "shapes"), "Runtime"), "enum");
	assert_true(json_is_array(values));
	assert_true(json_array_size(values) > 20);
	json_array_foreach(values, i, v)
	{
		if (!names_runtime(json_string_value(v)))
			fail_msg("%s is in botocore's Runtime enum", json_string_value(v));
	}
	json_decref(model);
	for (i = 0; names_runtimes[i] != NULL; i++) {
		for (n = 0; n < i; n++) {
			if (strcmp(names_runtimes[i], names_runtimes[n]) == 0)
				fail_msg("%s is listed twice", names_runtimes[i]);
		}
	}
}

static void
test_names__utf8_chars(void **state)
{
	(void)state;
	assert_int_equal(names_utf8_chars(""), 0);
	assert_int_equal(names_utf8_chars("abc"), 3);
	assert_int_equal(names_utf8_chars("\xc3\xa9t\xc3\xa9"), 3);
	assert_int_equal(names_utf8_chars("\xf0\x9f\x9a\x80"), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names__function_name),
	    cmocka_unit_test(test_names__function_arn),
	    cmocka_unit_test(test_names__layers),
	    cmocka_unit_test(test_names__aliases_qualifiers_versions),
	    cmocka_unit_test(test_names__role_env_region_bucket_handler),
	    cmocka_unit_test(test_names__image_pins),
	    cmocka_unit_test(test_names__runtimes),
	    cmocka_unit_test(test_names__utf8_chars),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
