/*
 * controller/iam_policy.c: the least-privilege policy for desired states loaded from
 * in-memory YAML. What a policy allows is checked with a small evaluator (IAM's action and
 * resource wildcards), so the rules are tested as "this call on this ARN is allowed, that
 * one is not"; one small desired state is also pinned whole, Sids and order included.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "controller/iam_policy.h"
#include "reconcile/load.h"

#define ACCT "123456789012"
#define ROLE "arn:aws:iam::123456789012:role/lambda-exec"
#define FN(name) "arn:aws:lambda:us-east-1:123456789012:function:" name
#define ECR "123456789012.dkr.ecr.us-east-1.amazonaws.com"

/* Load one YAML file (functions/f.yaml) with us-east-1 as the default region. */
static void
load(struct spec *out, const char *yaml)
{
	struct fileset fs = FILESET_INIT;
	struct load_opts lo = LOAD_OPTS_INIT;
	struct diags diags = DIAGS_INIT;
	char *text = NULL;
	size_t len;
	FILE *f;

	lo.default_region = "us-east-1";
	fileset_add(&fs, "functions/f.yaml", yaml, strlen(yaml));
	if (load_desired(&fs, &lo, out, &diags) != 0) {
		f = open_memstream(&text, &len);
		assert_non_null(f);
		diags_sort(&diags);
		diags_print(&diags, f);
		fclose(f);
		fail_msg("the test's desired state does not load:\n%s", text);
	}
	diags_free(&diags);
	fileset_free(&fs);
}

/* Load yaml and build its policy with account (NULL: none); the policy must build. */
static json_t *
policy_of(const char *yaml, const char *account)
{
	struct spec spec = SPEC_INIT;
	struct iam_policy_opts o = IAM_POLICY_OPTS_INIT;
	struct err err = ERR_INIT;
	json_t *p = NULL;

	load(&spec, yaml);
	o.account = account;
	if (iam_policy_build(&p, &spec, &o, &err) != 0)
		fail_msg("iam_policy_build: %s", err.message);
	spec_free(&spec);
	assert_non_null(p);
	return p;
}

/* IAM's wildcards: '*' any run of characters, '?' one character. */
static bool
glob(const char *pat, const char *s)
{
	if (*pat == '\0')
		return *s == '\0';
	if (*pat == '*')
		return glob(pat + 1, s) || (*s != '\0' && glob(pat, s + 1));
	if (*s != '\0' && (*pat == '?' || *pat == *s))
		return glob(pat + 1, s + 1);
	return false;
}

static bool
any_matches(const json_t *v, const char *s)
{
	size_t i;
	json_t *x;

	if (json_is_string(v))
		return glob(json_string_value(v), s);
	json_array_foreach(v, i, x)
	{
		if (glob(json_string_value(x), s))
			return true;
	}
	return false;
}

/* Whether some Allow statement grants action on resource. */
static bool
allowed(const json_t *policy, const char *action, const char *resource)
{
	json_t *st;
	size_t i;

	json_array_foreach(json_object_get(policy, "Statement"), i, st)
	{
		if (strcmp(json_string_value(json_object_get(st, "Effect")), "Allow") == 0 &&
		    any_matches(json_object_get(st, "Action"), action) &&
		    any_matches(json_object_get(st, "Resource"), resource))
			return true;
	}
	return false;
}

/* The statement that grants action (exactly one may), or NULL. */
static json_t *
statement_with(const json_t *policy, const char *action)
{
	json_t *st, *a, *found = NULL;
	size_t i, k;

	json_array_foreach(json_object_get(policy, "Statement"), i, st)
	{
		json_array_foreach(json_object_get(st, "Action"), k, a)
		{
			if (strcmp(json_string_value(a), action) == 0) {
				assert_null(found);
				found = st;
			}
		}
	}
	return found;
}

/* The statement that grants action on resource (exactly one may), or NULL. */
static json_t *
statement_for(const json_t *policy, const char *action, const char *resource)
{
	json_t *st, *found = NULL;
	size_t i;

	json_array_foreach(json_object_get(policy, "Statement"), i, st)
	{
		if (any_matches(json_object_get(st, "Action"), action) &&
		    any_matches(json_object_get(st, "Resource"), resource)) {
			assert_null(found);
			found = st;
		}
	}
	return found;
}

/* Every action the policy names, as one sorted, space-separated string. */
static char *
all_actions(const json_t *policy)
{
	const char *v[64], *t;
	json_t *st, *a;
	size_t i, k, n = 0, j, len = 0, at = 0;
	char *out;
	int w;

	json_array_foreach(json_object_get(policy, "Statement"), i, st)
	{
		json_array_foreach(json_object_get(st, "Action"), k, a)
		{
			assert_true(n < 64);
			v[n++] = json_string_value(a);
		}
	}
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && strcmp(v[j - 1], v[j]) > 0; j--) {
			t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	for (i = 0; i < n; i++)
		len += strlen(v[i]) + 1;
	out = calloc(1, len + 1);
	assert_non_null(out);
	for (i = 0; i < n; i++) {
		w = snprintf(out + at, len + 1 - at, "%s%s", i > 0 ? " " : "", v[i]);
		assert_true(w > 0 && (size_t)w < len + 1 - at);
		at += (size_t)w;
	}
	return out;
}

static void
assert_actions(const json_t *policy, const char *want)
{
	char *got = all_actions(policy);

	assert_string_equal(got, want);
	free(got);
}

static void
test_iam_policy__partition(void **state)
{
	(void)state;
	assert_string_equal(spec_partition("us-east-1"), "aws");
	assert_string_equal(spec_partition("eu-central-2"), "aws");
	assert_string_equal(spec_partition("cn-north-1"), "aws-cn");
	assert_string_equal(spec_partition("cn-northwest-1"), "aws-cn");
	assert_string_equal(spec_partition("us-gov-west-1"), "aws-us-gov");
	assert_string_equal(spec_partition("us-iso-east-1"), "aws-iso");
	assert_string_equal(spec_partition("us-isob-east-1"), "aws-iso-b");
}

/* The smallest useful desired state, pinned whole: Sids, order and layout. */
static void
test_iam_policy__golden(void **state)
{
	static const char head[] = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n"
	                           "    {\n      \"Sid\": \"LambdaUnscoped\",\n"
	                           "      \"Effect\": \"Allow\",\n      \"Action\": [\n"
	                           "        \"lambda:ListFunctions\"\n      ],\n"
	                           "      \"Resource\": \"*\"\n    },\n";
	json_t *p = policy_of("function: api\n"
	                      "image: " ECR "/api:1.0.0\n"
	                      "aliases:\n"
	                      "  live: current\n",
	    ACCT);
	json_error_t e;
	json_t *want = json_loads(
	    "{\"Version\": \"2012-10-17\", \"Statement\": ["
	    "{\"Sid\": \"LambdaUnscoped\", \"Effect\": \"Allow\","
	    " \"Action\": [\"lambda:ListFunctions\"], \"Resource\": \"*\"},"
	    "{\"Sid\": \"LambdaFunctions\", \"Effect\": \"Allow\","
	    " \"Action\": [\"lambda:CreateAlias\", \"lambda:GetFunction\", \"lambda:ListAliases\","
	    " \"lambda:ListVersionsByFunction\", \"lambda:PublishVersion\", \"lambda:UpdateAlias\","
	    " \"lambda:UpdateFunctionCode\"],"
	    " \"Resource\": [\"" FN(
	        "api") "\"]},"
	               "{\"Sid\": \"LambdaVersions\", \"Effect\": \"Allow\","
	               " \"Action\": [\"lambda:GetFunction\"], \"Resource\": [\"" FN(
	                   "api") ":*\"]},"
	                          "{\"Sid\": \"EcrImages\", \"Effect\": \"Allow\","
	                          " \"Action\": [\"ecr:BatchGetImage\", "
	                          "\"ecr:GetDownloadUrlForLayer\"],"
	                          " \"Resource\": "
	                          "[\"arn:aws:ecr:us-east-1:123456789012:repository/api\"]}]}",
	    0, &e);
	char *text = NULL;
	size_t len;
	FILE *f;

	(void)state;
	assert_non_null(want);
	assert_true(json_equal(p, want));
	/* json_equal ignores member order; the printed document is in document order. */
	f = open_memstream(&text, &len);
	assert_non_null(f);
	assert_int_equal(iam_policy_print(p, f), 0);
	fclose(f);
	assert_true(strncmp(text, head, strlen(head)) == 0);
	assert_true(len > 0 && text[len - 1] == '\n' && text[len - 2] == '}');
	/* IAM counts the compact document without whitespace. */
	assert_true(iam_policy_size(p) < len);
	assert_true(iam_policy_size(p) > 300);
	free(text);
	json_decref(want);
	json_decref(p);
}

static void
test_iam_policy__account_unknown(void **state)
{
	struct spec spec = SPEC_INIT;
	struct iam_policy_opts o = IAM_POLICY_OPTS_INIT;
	struct err err = ERR_INIT;
	json_t *p = (json_t *)&err; /* must be reset to NULL */

	(void)state;
	load(&spec, "function: api\n"
	            "---\n"
	            "function: arn:aws:lambda:eu-west-1:210987654321:function:byarn\n"
	            "---\n"
	            "function: other\nregion: eu-west-1\n"
	            "---\n"
	            "function: frozen\nmode: suspend\n");
	assert_int_equal(iam_policy_build(&p, &spec, &o, &err), ERR_INVALID);
	assert_null(p);
	/* Those that need it, in spec order; not the one declared by ARN, not the one
	 * suspended (it gets no ARN). */
	assert_string_equal(err.message,
	    "the account of other (eu-west-1), api (us-east-1) is not known: declare them by "
	    "ARN or pass --account ID");

	/* Not 12 digits. */
	o.account = "12345678901";
	assert_int_equal(iam_policy_build(&p, &spec, &o, &err), ERR_INVALID);
	assert_null(p);
	assert_non_null(strstr(err.message, "12 digits"));
	o.account = "12345678901x";
	assert_int_equal(iam_policy_build(&p, &spec, &o, &err), ERR_INVALID);

	/* With it: names get it, the ARN keeps its own. */
	o.account = ACCT;
	assert_int_equal(iam_policy_build(&p, &spec, &o, &err), 0);
	assert_true(allowed(p, "lambda:GetFunction", FN("api")));
	assert_true(allowed(
	    p, "lambda:GetFunction", "arn:aws:lambda:eu-west-1:123456789012:function:other"));
	assert_true(allowed(
	    p, "lambda:GetFunction", "arn:aws:lambda:eu-west-1:210987654321:function:byarn"));
	assert_false(allowed(
	    p, "lambda:GetFunction", "arn:aws:lambda:eu-west-1:123456789012:function:byarn"));
	assert_false(allowed(p, "lambda:GetFunction", FN("frozen")));
	json_decref(p);
	spec_free(&spec);

	/* One name only: "it". */
	load(&spec, "function: solo\n");
	o.account = NULL;
	assert_int_equal(iam_policy_build(&p, &spec, &o, &err), ERR_INVALID);
	assert_string_equal(err.message,
	    "the account of solo (us-east-1) is not known: declare it by ARN or pass --account ID");
	spec_free(&spec);

	/* Only ARNs and suspended functions: no account needed. */
	load(&spec, "function: arn:aws:lambda:us-east-1:210987654321:function:a\n"
	            "---\nfunction: b\nmode: suspend\n");
	assert_int_equal(iam_policy_build(&p, &spec, NULL, &err), 0);
	assert_true(
	    allowed(p, "lambda:GetFunction", "arn:aws:lambda:us-east-1:210987654321:function:a"));
	json_decref(p);
	spec_free(&spec);
}

/* Many names: the message stays one bounded line and counts the rest. */
static void
test_iam_policy__account_unknown_many(void **state)
{
	struct spec spec = SPEC_INIT;
	struct err err = ERR_INIT;
	char yaml[40 * 64];
	json_t *p = NULL;
	size_t at = 0;
	int i, n;

	(void)state;
	for (i = 0; i < 40; i++) {
		n = snprintf(yaml + at, sizeof(yaml) - at,
		    "%sfunction: some-rather-long-function-name-%02d\n", i > 0 ? "---\n" : "", i);
		assert_true(n > 0 && (size_t)n < sizeof(yaml) - at);
		at += (size_t)n;
	}
	load(&spec, yaml);
	assert_int_equal(iam_policy_build(&p, &spec, NULL, &err), ERR_INVALID);
	assert_non_null(strstr(err.message, "some-rather-long-function-name-00 (us-east-1), "));
	assert_non_null(strstr(err.message, " more functions is not known"));
	assert_null(strstr(err.message, "function-name-39"));
	spec_free(&spec);
}

/* Partitions come from the ARN, or from the region for functions declared by name. */
static void
test_iam_policy__partitions(void **state)
{
	json_t *p;

	(void)state;
	p = policy_of("function: arn:aws-cn:lambda:cn-north-1:210987654321:function:a\n"
	              "aliases: {live: current}\n"
	              "---\n"
	              "function: b\nregion: cn-northwest-1\n"
	              "code: {s3_bucket: code-cn, s3_key: b.zip}\n"
	              "---\n"
	              "function: c\nregion: us-gov-west-1\nrole: "
	              "arn:aws-us-gov:iam::123456789012:role/r\n"
	              "layers: [{name: shared, version: 2}]\n",
	    ACCT);
	assert_true(allowed(
	    p, "lambda:UpdateAlias", "arn:aws-cn:lambda:cn-north-1:210987654321:function:a"));
	assert_true(allowed(p, "lambda:UpdateFunctionCode",
	    "arn:aws-cn:lambda:cn-northwest-1:123456789012:function:b"));
	assert_true(allowed(p, "s3:GetObject", "arn:aws-cn:s3:::code-cn/b.zip"));
	assert_true(allowed(p, "lambda:UpdateFunctionConfiguration",
	    "arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:c"));
	assert_true(allowed(p, "lambda:GetLayerVersion",
	    "arn:aws-us-gov:lambda:us-gov-west-1:123456789012:layer:shared:2"));
	assert_false(allowed(
	    p, "lambda:GetFunction", "arn:aws:lambda:us-gov-west-1:123456789012:function:c"));
	json_decref(p);
}

/* Detect reads, suspend is not touched, enforce gets what it manages. */
static void
test_iam_policy__modes(void **state)
{
	json_t *p;
	const char *writes[] = {"lambda:PublishVersion", "lambda:UpdateFunctionCode",
	    "lambda:UpdateFunctionConfiguration", "lambda:CreateFunction", "lambda:CreateAlias",
	    "lambda:UpdateAlias", "lambda:InvokeFunction", "lambda:DeleteFunction",
	    "lambda:ListProvisionedConcurrencyConfigs"};
	size_t i;

	(void)state;
	p = policy_of(
	    "function: seen\nmode: detect\nimage: " ECR "/seen:1.0.0\nrole: " ROLE "\n"
	    "memory: 256\nsmoke_test: {payload: {}}\nretain: 2\n"
	    "aliases:\n  live: {version: current, traffic: {steps: [10], interval: 60s}}\n"
	    "---\n"
	    "function: frozen\nmode: suspend\nimage: " ECR "/frozen:1.0.0\nrole: " ROLE "\n",
	    ACCT);
	assert_true(allowed(p, "lambda:GetFunction", FN("seen")));
	assert_true(allowed(p, "lambda:GetFunction", FN("seen") ":3"));
	assert_true(allowed(p, "lambda:ListAliases", FN("seen")));
	assert_true(allowed(p, "lambda:ListVersionsByFunction", FN("seen")));
	for (i = 0; i < sizeof(writes) / sizeof(writes[0]); i++) {
		assert_false(allowed(p, writes[i], FN("seen")));
		assert_false(allowed(p, writes[i], FN("seen") ":3"));
	}
	assert_false(allowed(p, "lambda:GetFunction", FN("frozen")));
	/* Neither passes its role or reads its image: nothing is created or updated. */
	assert_actions(p, "lambda:GetFunction lambda:GetFunction lambda:ListAliases "
	                  "lambda:ListFunctions lambda:ListVersionsByFunction");
	assert_null(statement_with(p, "iam:PassRole"));
	json_decref(p);

	/* All suspended: plan still lists the region. */
	p = policy_of("function: frozen\nmode: suspend\n", NULL);
	assert_actions(p, "lambda:ListFunctions");
	json_decref(p);
}

/* Each statement only when something needs it. */
static void
test_iam_policy__only_what_is_needed(void **state)
{
	json_t *p;

	(void)state;
	/* Code only: no configuration update, no creation (no role), no aliases, no invoke,
	 * no pruning, no references. */
	p = policy_of("function: api\nimage: " ECR "/api:1.0.0\n", ACCT);
	assert_actions(p, "ecr:BatchGetImage ecr:GetDownloadUrlForLayer lambda:GetFunction "
	                  "lambda:GetFunction lambda:ListAliases lambda:ListFunctions "
	                  "lambda:ListVersionsByFunction lambda:PublishVersion "
	                  "lambda:UpdateFunctionCode");
	json_decref(p);

	/* Configuration only: no code update, no image or S3 access. */
	p = policy_of("function: api\nmemory: 512\n", ACCT);
	assert_actions(p, "lambda:GetFunction lambda:GetFunction lambda:ListAliases "
	                  "lambda:ListFunctions lambda:ListVersionsByFunction "
	                  "lambda:PublishVersion lambda:UpdateFunctionConfiguration");
	json_decref(p);

	/* A role: PassRole, only to Lambda; and CreateFunction, since image + role is enough. */
	p = policy_of("function: api\nimage: " ECR "/api:1.0.0\nrole: " ROLE "\n", ACCT);
	assert_true(allowed(p, "lambda:CreateFunction", FN("api")));
	assert_true(allowed(p, "lambda:UpdateFunctionConfiguration", FN("api")));
	assert_true(allowed(p, "iam:PassRole", ROLE));
	assert_false(allowed(p, "iam:PassRole", "arn:aws:iam::123456789012:role/other"));
	assert_string_equal(
	    json_string_value(json_object_get(
	        json_object_get(json_object_get(statement_with(p, "iam:PassRole"), "Condition"),
	            "StringEquals"),
	        "iam:PassedToService")),
	    "lambda.amazonaws.com");
	json_decref(p);

	/* S3 code with a role but no handler: cannot be created, so no CreateFunction. */
	p = policy_of("function: w\ncode: {s3_bucket: code-b, s3_key: w.zip}\nrole: " ROLE "\n"
	              "runtime: python3.12\n",
	    ACCT);
	assert_false(allowed(p, "lambda:CreateFunction", FN("w")));
	assert_true(allowed(p, "s3:GetObject", "arn:aws:s3:::code-b/w.zip"));
	assert_null(statement_with(p, "s3:GetObjectVersion"));
	assert_null(statement_with(p, "ecr:BatchGetImage"));
	json_decref(p);

	/* A smoke test: invoke $LATEST; without a canary, never a version. */
	p = policy_of("function: api\nsmoke_test: {payload: {}}\naliases: {live: current}\n", ACCT);
	assert_true(allowed(p, "lambda:InvokeFunction", FN("api")));
	assert_false(allowed(p, "lambda:InvokeFunction", FN("api") ":4"));
	assert_false(allowed(p, "lambda:InvokeFunction", FN("api") ":live"));
	assert_null(statement_with(p, "lambda:ListEventSourceMappings"));
	assert_null(statement_with(p, "lambda:DeleteFunction"));
	json_decref(p);

	/* A canary with a smoke test: checks invoke the new version; references are read. */
	p = policy_of(
	    "function: api\nsmoke_test: {payload: {}}\n"
	    "aliases:\n  live: {version: current, traffic: {steps: [10], interval: 60s}}\n",
	    ACCT);
	assert_true(allowed(p, "lambda:InvokeFunction", FN("api") ":4"));
	assert_true(allowed(p, "lambda:ListProvisionedConcurrencyConfigs", FN("api")));
	assert_true(allowed(p, "lambda:ListEventSourceMappings", "*"));
	assert_null(statement_with(p, "lambda:DeleteFunction"));
	json_decref(p);

	/* A canary without a smoke test: no invoke at all. */
	p = policy_of(
	    "function: api\n"
	    "aliases:\n  live: {version: current, traffic: {steps: [10], interval: 60s}}\n",
	    ACCT);
	assert_null(statement_with(p, "lambda:InvokeFunction"));
	json_decref(p);

	/* retain: delete versions, never the function itself. */
	p = policy_of("function: api\nretain: 3\n", ACCT);
	assert_true(allowed(p, "lambda:DeleteFunction", FN("api") ":7"));
	assert_false(allowed(p, "lambda:DeleteFunction", FN("api")));
	assert_true(allowed(p, "lambda:ListProvisionedConcurrencyConfigs", FN("api")));
	assert_true(allowed(p, "lambda:ListEventSourceMappings", "*"));
	/* "*" only where Lambda cannot scope. */
	assert_false(allowed(p, "lambda:ListProvisionedConcurrencyConfigs", FN("other")));
	assert_string_equal(json_string_value(json_object_get(
	                        statement_with(p, "lambda:ListEventSourceMappings"), "Resource")),
	    "*");
	json_decref(p);

	/* Nothing managed: reads and PublishVersion (tether publishes what is live). */
	p = policy_of("function: api\n", ACCT);
	assert_actions(p, "lambda:GetFunction lambda:GetFunction lambda:ListAliases "
	                  "lambda:ListFunctions lambda:ListVersionsByFunction "
	                  "lambda:PublishVersion");
	json_decref(p);
}

/* Resources are deduplicated and sorted; statements share resources they have in common. */
static void
test_iam_policy__dedup_and_sorting(void **state)
{
	json_t *p, *q, *st, *r;
	const char *yaml = "function: zeta\nimage: " ECR "/shared:1.0.0\nrole: " ROLE "\n"
	                   "layers: [{name: common, version: 1}]\n"
	                   "---\n"
	                   "function: alpha\nimage: " ECR "/shared:2.0.0\nrole: " ROLE "\n"
	                   "layers: [\"arn:aws:lambda:us-east-1:123456789012:layer:common:1\"]\n"
	                   "---\n"
	                   "function: mid\nimage: " ECR "/shared@sha256:"
	                   "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"
	                   "role: " ROLE "\n";
	char *a, *b;
	size_t i;

	(void)state;
	p = policy_of(yaml, ACCT);
	st = statement_with(p, "iam:PassRole");
	assert_int_equal(json_array_size(json_object_get(st, "Resource")), 1);
	st = statement_with(p, "ecr:BatchGetImage");
	r = json_object_get(st, "Resource");
	assert_int_equal(json_array_size(r), 1);
	assert_string_equal(json_string_value(json_array_get(r, 0)),
	    "arn:aws:ecr:us-east-1:123456789012:repository/shared");
	st = statement_with(p, "lambda:GetLayerVersion");
	r = json_object_get(st, "Resource");
	assert_int_equal(json_array_size(r), 1);
	/* Functions sorted by ARN; one statement for all the actions they all need. */
	st = statement_with(p, "lambda:UpdateFunctionCode");
	r = json_object_get(st, "Resource");
	assert_int_equal(json_array_size(r), 3);
	assert_string_equal(json_string_value(json_array_get(r, 0)), FN("alpha"));
	assert_string_equal(json_string_value(json_array_get(r, 1)), FN("mid"));
	assert_string_equal(json_string_value(json_array_get(r, 2)), FN("zeta"));
	assert_ptr_equal(statement_for(p, "lambda:GetFunction", FN("alpha")), st);
	assert_ptr_equal(statement_with(p, "lambda:CreateFunction"), st);
	/* Actions sorted within each statement; Sids distinct. */
	for (i = 0; i < json_array_size(json_object_get(p, "Statement")); i++) {
		json_t *s = json_array_get(json_object_get(p, "Statement"), i), *x;
		size_t k, j;

		x = json_object_get(s, "Action");
		for (k = 1; k < json_array_size(x); k++)
			assert_true(strcmp(json_string_value(json_array_get(x, k - 1)),
			                json_string_value(json_array_get(x, k))) < 0);
		for (j = 0; j < i; j++)
			assert_string_not_equal(json_string_value(json_object_get(s, "Sid")),
			    json_string_value(json_object_get(
			        json_array_get(json_object_get(p, "Statement"), j), "Sid")));
	}
	/* Same input, same bytes. */
	q = policy_of(yaml, ACCT);
	a = json_dumps(p, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	b = json_dumps(q, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	assert_string_equal(a, b);
	free(a);
	free(b);
	json_decref(q);
	json_decref(p);
}

/* Statements of one kind with different resources get numbered Sids. */
static void
test_iam_policy__sids(void **state)
{
	json_t *p, *st;

	(void)state;
	p = policy_of("function: a\nmemory: 256\n---\nfunction: b\n", ACCT);
	st = statement_with(p, "lambda:UpdateFunctionConfiguration");
	assert_int_equal(json_array_size(json_object_get(st, "Resource")), 1);
	assert_ptr_not_equal(statement_for(p, "lambda:GetFunction", FN("a")), st);
	assert_string_equal(
	    json_string_value(json_object_get(statement_with(p, "lambda:ListAliases"), "Sid")),
	    "LambdaFunctions");
	assert_string_equal(json_string_value(json_object_get(st, "Sid")), "LambdaFunctions2");
	json_decref(p);
}

static void
test_iam_policy__ecr_repositories(void **state)
{
	struct {
		const char *image;
		const char *repo; /* NULL: not ECR */
	} cases[] = {
	    {ECR "/api:1.0.0", "arn:aws:ecr:us-east-1:123456789012:repository/api"},
	    {ECR "/team/sub/api:v1.2.3",
	        "arn:aws:ecr:us-east-1:123456789012:repository/team/sub/api"},
	    {ECR "/api@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	        "arn:aws:ecr:us-east-1:123456789012:repository/api"},
	    {ECR "/api:1.0.0@sha256:"
	         "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	        "arn:aws:ecr:us-east-1:123456789012:repository/api"},
	    {"210987654321.dkr.ecr-fips.us-gov-west-1.amazonaws.com/api:1.0.0",
	        "arn:aws-us-gov:ecr:us-gov-west-1:210987654321:repository/api"},
	    {"210987654321.dkr.ecr.cn-north-1.amazonaws.com.cn/api:1.0.0",
	        "arn:aws-cn:ecr:cn-north-1:210987654321:repository/api"},
	    {"ghcr.io/org/api:1.0.0", NULL},
	    {"localhost:5000/api:1.0.0", NULL},
	    {"12345678901.dkr.ecr.us-east-1.amazonaws.com/api:1.0.0", NULL},
	    {"123456789012.dkr.ecr.us-east-1.example.com/api:1.0.0", NULL},
	};
	char yaml[512];
	json_t *p, *st;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(yaml, sizeof(yaml), "function: api\nimage: %s\n", cases[i].image);
		p = policy_of(yaml, ACCT);
		st = statement_with(p, "ecr:GetDownloadUrlForLayer");
		if (cases[i].repo == NULL) {
			if (st != NULL)
				fail_msg("%s: an ECR statement", cases[i].image);
		} else {
			assert_non_null(st);
			assert_int_equal(json_array_size(json_object_get(st, "Resource")), 1);
			assert_string_equal(
			    json_string_value(json_array_get(json_object_get(st, "Resource"), 0)),
			    cases[i].repo);
			assert_ptr_equal(statement_with(p, "ecr:BatchGetImage"), st);
		}
		/* The code is updated either way. */
		assert_true(allowed(p, "lambda:UpdateFunctionCode", FN("api")));
		json_decref(p);
	}
}

/* S3 keys with IAM's wildcard characters are written literally; versions get their action. */
static void
test_iam_policy__s3_objects(void **state)
{
	json_t *p, *st;

	(void)state;
	p = policy_of("function: w\ncode: {s3_bucket: code-b, s3_key: \"a/*b?c$d.zip\", "
	              "s3_object_version: v7}\n",
	    ACCT);
	st = statement_with(p, "s3:GetObject");
	assert_ptr_equal(statement_with(p, "s3:GetObjectVersion"), st);
	assert_string_equal(json_string_value(json_array_get(json_object_get(st, "Resource"), 0)),
	    "arn:aws:s3:::code-b/a/${*}b${?}c${$}d.zip");
	json_decref(p);

	/* Two objects, one versioned: GetObject on both, GetObjectVersion on that one. */
	p = policy_of(
	    "function: w\ncode: {s3_bucket: code-b, s3_key: w.zip, s3_object_version: v1}\n"
	    "---\n"
	    "function: x\ncode: {s3_bucket: code-b, s3_key: x.zip}\n",
	    ACCT);
	assert_true(allowed(p, "s3:GetObject", "arn:aws:s3:::code-b/w.zip"));
	assert_true(allowed(p, "s3:GetObject", "arn:aws:s3:::code-b/x.zip"));
	assert_true(allowed(p, "s3:GetObjectVersion", "arn:aws:s3:::code-b/w.zip"));
	assert_false(allowed(p, "s3:GetObjectVersion", "arn:aws:s3:::code-b/x.zip"));
	assert_false(allowed(p, "s3:GetObject", "arn:aws:s3:::code-b/y.zip"));
	assert_string_equal(
	    json_string_value(json_object_get(statement_with(p, "s3:GetObject"), "Sid")), "S3Code");
	assert_string_equal(
	    json_string_value(json_object_get(statement_with(p, "s3:GetObjectVersion"), "Sid")),
	    "S3Code2");
	json_decref(p);
}

/* Layers by name live in the function's account and region: the ARN's, or --account's. */
static void
test_iam_policy__layers(void **state)
{
	json_t *p;

	(void)state;
	p = policy_of("function: arn:aws:lambda:eu-west-1:210987654321:function:a\n"
	              "layers: [{name: shared, version: 4}, "
	              "\"arn:aws:lambda:eu-west-1:999999999999:layer:public:12\"]\n"
	              "---\n"
	              "function: b\nlayers: [{name: shared, version: 5}]\n"
	              "---\n"
	              "function: c\nlayers: []\n",
	    ACCT);
	assert_true(allowed(
	    p, "lambda:GetLayerVersion", "arn:aws:lambda:eu-west-1:210987654321:layer:shared:4"));
	assert_true(allowed(
	    p, "lambda:GetLayerVersion", "arn:aws:lambda:eu-west-1:999999999999:layer:public:12"));
	assert_true(allowed(
	    p, "lambda:GetLayerVersion", "arn:aws:lambda:us-east-1:123456789012:layer:shared:5"));
	assert_false(allowed(
	    p, "lambda:GetLayerVersion", "arn:aws:lambda:us-east-1:123456789012:layer:shared:4"));
	assert_int_equal(json_array_size(json_object_get(
	                     statement_with(p, "lambda:GetLayerVersion"), "Resource")),
	    3);
	/* layers: [] manages "no layers": a configuration update, no layer to read. */
	assert_true(allowed(p, "lambda:UpdateFunctionConfiguration", FN("c")));
	json_decref(p);
}

static void
test_iam_policy__empty(void **state)
{
	struct spec spec = SPEC_INIT;
	struct err err = ERR_INIT;
	json_t *p = NULL;

	(void)state;
	assert_int_equal(iam_policy_build(&p, &spec, NULL, &err), 0);
	assert_string_equal(json_string_value(json_object_get(p, "Version")), "2012-10-17");
	assert_int_equal(json_array_size(json_object_get(p, "Statement")), 0);
	json_decref(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_iam_policy__partition),
	    cmocka_unit_test(test_iam_policy__golden),
	    cmocka_unit_test(test_iam_policy__account_unknown),
	    cmocka_unit_test(test_iam_policy__account_unknown_many),
	    cmocka_unit_test(test_iam_policy__partitions),
	    cmocka_unit_test(test_iam_policy__modes),
	    cmocka_unit_test(test_iam_policy__only_what_is_needed),
	    cmocka_unit_test(test_iam_policy__dedup_and_sorting),
	    cmocka_unit_test(test_iam_policy__sids),
	    cmocka_unit_test(test_iam_policy__ecr_repositories),
	    cmocka_unit_test(test_iam_policy__s3_objects),
	    cmocka_unit_test(test_iam_policy__layers),
	    cmocka_unit_test(test_iam_policy__empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
