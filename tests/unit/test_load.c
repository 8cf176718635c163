/*
 * The desired-state loader end to end, on in-memory filesets: what a valid desired state
 * becomes (every spec field, sorting, overlays, region precedence), and that problems come
 * out with their exact positions. The wording of each message is pinned by the golden
 * tests (tests/golden/validate); here the rules are.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "reconcile/load.h"
#include "tests/lib/timescale.h"

struct result {
	int rc;
	struct spec spec;
	struct diags diags;
	char *text; /* the sorted diagnostics, as tether validate prints them */
};

/* Load files given as path, content, path, content, ..., NULL. */
static void
load_with(struct result *r, const struct load_opts *opts, ...)
{
	struct fileset fs = FILESET_INIT;
	const char *path, *data;
	size_t len;
	va_list ap;
	FILE *f;

	va_start(ap, opts);
	while ((path = va_arg(ap, const char *)) != NULL) {
		data = va_arg(ap, const char *);
		fileset_add(&fs, path, data, strlen(data));
	}
	va_end(ap);
	memset(r, 0, sizeof(*r));
	r->rc = load_desired(&fs, opts, &r->spec, &r->diags);
	diags_sort(&r->diags);
	f = open_memstream(&r->text, &len);
	assert_non_null(f);
	diags_print(&r->diags, f);
	fclose(f);
	fileset_free(&fs);
}

static void
result_free(struct result *r)
{
	spec_free(&r->spec);
	diags_free(&r->diags);
	free(r->text);
}

static const struct load_opts plain = {NULL, "us-east-1", NULL, NULL};

static void
test_load__full_function(void **state)
{
	struct result r;
	const struct spec_function *f;

	(void)state;
	load_with(&r, &plain, "functions/api.yaml",
	    "function: orders-api              # name or full ARN; required\n"
	    "region: us-west-2\n"
	    "image: 123456789012.dkr.ecr.us-west-2.amazonaws.com/orders:20250526-145140-9f6a1a2a\n"
	    "layers:\n"
	    "  - arn:aws:lambda:us-west-2:123456789012:layer:receipt-dynamo-dev:5\n"
	    "  - { name: receipt-label-dev, version: 3 }\n"
	    "memory: 512\n"
	    "timeout: 30\n"
	    "environment: { LOG_LEVEL: info, PORT: 8080, DEBUG: false, EMPTY: '' }\n"
	    "description: \"orders \\u00e9\"\n"
	    "role: arn:aws:iam::123456789012:role/service/orders\n"
	    "handler: app.handler\n"
	    "smoke_test:\n"
	    "  payload: { httpMethod: GET, path: /api/v1/health, n: 0x10, f: 1.5, ok: true, "
	    "z: ~ }\n"
	    "  expect: { statusCode: 200 }\n"
	    "aliases:\n"
	    "  staging: current\n"
	    "  stable: 12\n"
	    "  live:\n"
	    "    version: current\n"
	    "    traffic: { steps: [10, 50], interval: 1h30m }\n"
	    "retain: 5\n"
	    "mode: detect\n",
	    NULL);
	assert_string_equal(r.text, "");
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.spec.n, 1);
	f = &r.spec.functions[0];
	assert_string_equal(f->name, "orders-api");
	assert_null(f->arn);
	assert_null(f->account);
	assert_string_equal(f->region, "us-west-2");
	assert_int_equal(f->code.kind, SPEC_CODE_IMAGE);
	assert_string_equal(f->code.image,
	    "123456789012.dkr.ecr.us-west-2.amazonaws.com/orders:20250526-145140-9f6a1a2a");
	assert_true(f->has_layers);
	assert_int_equal(f->nlayers, 2);
	assert_string_equal(
	    f->layers[0].arn, "arn:aws:lambda:us-west-2:123456789012:layer:receipt-dynamo-dev:5");
	assert_null(f->layers[1].arn);
	assert_string_equal(f->layers[1].name, "receipt-label-dev");
	assert_int_equal(f->layers[1].version, 3);
	assert_true(f->has_memory);
	assert_int_equal(f->memory, 512);
	assert_true(f->has_timeout);
	assert_int_equal(f->timeout, 30);
	assert_true(f->has_environment);
	assert_int_equal(f->nenvironment, 4);
	/* Sorted by key; scalars as written. */
	assert_string_equal(f->environment[0].key, "DEBUG");
	assert_string_equal(f->environment[0].value, "false");
	assert_string_equal(f->environment[1].key, "EMPTY");
	assert_string_equal(f->environment[1].value, "");
	assert_string_equal(f->environment[2].key, "LOG_LEVEL");
	assert_string_equal(f->environment[3].key, "PORT");
	assert_string_equal(f->environment[3].value, "8080");
	assert_true(f->has_description);
	assert_string_equal(f->description, "orders \xc3\xa9");
	assert_true(f->has_role);
	assert_string_equal(f->role, "arn:aws:iam::123456789012:role/service/orders");
	assert_true(f->has_handler);
	assert_string_equal(f->handler, "app.handler");
	assert_true(f->has_smoke_test);
	assert_string_equal(f->smoke_test.payload,
	    "{\"httpMethod\":\"GET\",\"path\":\"/api/v1/health\",\"n\":16,\"f\":1.5,\"ok\":true,"
	    "\"z\":null}");
	assert_string_equal(f->smoke_test.expect, "{\"statusCode\":200}");
	/* Aliases sorted by name. */
	assert_int_equal(f->naliases, 3);
	assert_string_equal(f->aliases[0].name, "live");
	assert_int_equal(f->aliases[0].target, SPEC_ALIAS_CURRENT);
	assert_int_equal(f->aliases[0].nsteps, 2);
	assert_int_equal(f->aliases[0].steps[0], 10);
	assert_int_equal(f->aliases[0].steps[1], 50);
	assert_int_equal(f->aliases[0].interval, 5400);
	assert_string_equal(f->aliases[1].name, "stable");
	assert_int_equal(f->aliases[1].target, SPEC_ALIAS_PINNED);
	assert_int_equal(f->aliases[1].version, 12);
	assert_int_equal(f->aliases[1].nsteps, 0);
	assert_string_equal(f->aliases[2].name, "staging");
	assert_true(f->has_retain);
	assert_int_equal(f->retain, 5);
	assert_int_equal(f->mode, SPEC_MODE_DETECT);
	assert_string_equal(f->source_path, "functions/api.yaml");
	assert_int_equal(f->source_line, 1);
	assert_null(r.spec.environment);
	result_free(&r);
}

static void
test_load__unmanaged_fields_stay_unset(void **state)
{
	struct result r;
	const struct spec_function *f;

	(void)state;
	load_with(&r, &plain, "functions/a.yaml", "function: a\n", NULL);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.text, "");
	f = &r.spec.functions[0];
	assert_int_equal(f->code.kind, SPEC_CODE_NONE);
	assert_false(f->has_layers || f->has_memory || f->has_timeout || f->has_environment ||
	             f->has_description || f->has_role || f->has_handler || f->has_runtime ||
	             f->has_smoke_test || f->has_retain);
	assert_null(f->runtime);
	assert_int_equal(f->naliases, 0);
	assert_int_equal(f->mode, SPEC_MODE_ENFORCE);
	/* The caller's default region. */
	assert_string_equal(f->region, "us-east-1");
	result_free(&r);

	/* Empty lists and maps manage "none". */
	load_with(
	    &r, &plain, "functions/a.yaml", "function: a\nlayers: []\nenvironment: {}\n", NULL);
	assert_int_equal(r.rc, 0);
	f = &r.spec.functions[0];
	assert_true(f->has_layers);
	assert_int_equal(f->nlayers, 0);
	assert_true(f->has_environment);
	assert_int_equal(f->nenvironment, 0);
	result_free(&r);
}

static void
test_load__s3_code_and_arn(void **state)
{
	struct result r;
	const struct spec_function *f;

	(void)state;
	load_with(&r, NULL, "functions/w.yaml",
	    "function: arn:aws-cn:lambda:cn-north-1:123456789012:function:worker\n"
	    "region: cn-north-1\n"
	    "code: {s3_bucket: my.bucket, s3_key: a/b.zip, s3_object_version: '3'}\n",
	    NULL);
	assert_string_equal(r.text, "");
	assert_int_equal(r.rc, 0);
	f = &r.spec.functions[0];
	assert_string_equal(f->name, "worker");
	assert_string_equal(f->arn, "arn:aws-cn:lambda:cn-north-1:123456789012:function:worker");
	assert_string_equal(f->account, "123456789012");
	assert_string_equal(f->region, "cn-north-1");
	assert_int_equal(f->code.kind, SPEC_CODE_S3);
	assert_string_equal(f->code.s3_bucket, "my.bucket");
	assert_string_equal(f->code.s3_key, "a/b.zip");
	assert_string_equal(f->code.s3_object_version, "3");
	result_free(&r);

	/* The ARN's region against a region: key that disagrees. */
	load_with(&r, NULL, "functions/w.yaml",
	    "function: arn:aws:lambda:eu-west-1:123456789012:function:worker\n"
	    "region: us-east-1\n",
	    NULL);
	assert_int_equal(r.rc, ERR_INVALID);
	assert_string_equal(r.text,
	    "functions/w.yaml:2:9: region: us-east-1 contradicts the function's ARN (eu-west-1)\n");
	assert_int_equal(r.spec.n, 0);
	assert_null(r.spec.functions);
	result_free(&r);
}

/* runtime: a zip function's, managed like handler; an image function has none. */
static void
test_load__runtime(void **state)
{
	struct result r;
	struct load_opts o = {"prod", "us-east-1", NULL, NULL};
	const struct spec_function *f;

	(void)state;
	load_with(&r, &plain, "functions/w.yaml",
	    "function: worker\n"
	    "code: {s3_bucket: builds, s3_key: w.zip}\n"
	    "handler: app.handler\n"
	    "runtime: python3.12\n",
	    NULL);
	assert_string_equal(r.text, "");
	f = &r.spec.functions[0];
	assert_true(f->has_runtime);
	assert_string_equal(f->runtime, "python3.12");
	result_free(&r);

	/* A fleet's default runtime fills zip functions and functions without code; an
	 * image function does not take it, also when an override makes it one. An override
	 * that makes an image function a zip function does. */
	load_with(&r, &o, "functions/a.yaml",
	    "function: zip\ncode: {s3_bucket: builds, s3_key: z.zip}\n---\n"
	    "function: own\ncode: {s3_bucket: builds, s3_key: o.zip}\nruntime: java21\n---\n"
	    "function: bare\n---\n"
	    "function: img\nimage: 1.dkr.ecr.us-east-1.amazonaws.com/a:v1.0.0\n---\n"
	    "function: to-img\ncode: {s3_bucket: builds, s3_key: t.zip}\n---\n"
	    "function: to-zip\nimage: 1.dkr.ecr.us-east-1.amazonaws.com/a:v1.0.0\n",
	    "environments/prod.yaml",
	    "defaults: {runtime: nodejs20.x}\n"
	    "functions:\n"
	    "  own: {runtime: python3.13}\n"
	    "  to-img: {image: 1.dkr.ecr.us-east-1.amazonaws.com/a:v2.0.0}\n"
	    "  to-zip: {code: {s3_bucket: builds, s3_key: z2.zip}}\n",
	    NULL);
	assert_string_equal(r.text, "");
	assert_int_equal(r.rc, 0);
	f = spec_find(&r.spec, "zip", NULL);
	assert_true(f->has_runtime);
	assert_string_equal(f->runtime, "nodejs20.x");
	f = spec_find(&r.spec, "own", NULL);
	assert_string_equal(f->runtime, "python3.13");
	f = spec_find(&r.spec, "bare", NULL);
	assert_string_equal(f->runtime, "nodejs20.x");
	f = spec_find(&r.spec, "img", NULL);
	assert_false(f->has_runtime);
	assert_null(f->runtime);
	f = spec_find(&r.spec, "to-img", NULL);
	assert_int_equal(f->code.kind, SPEC_CODE_IMAGE);
	assert_false(f->has_runtime);
	f = spec_find(&r.spec, "to-zip", NULL);
	assert_int_equal(f->code.kind, SPEC_CODE_S3);
	assert_string_equal(f->runtime, "nodejs20.x");
	result_free(&r);

	/* An image function writing a runtime: in one document, or through an override. */
	load_with(&r, &o, "functions/a.yaml",
	    "function: a\nimage: 1.dkr.ecr.us-east-1.amazonaws.com/a:v1.0.0\nruntime: go1.x\n"
	    "---\nfunction: b\nimage: 1.dkr.ecr.us-east-1.amazonaws.com/b:v1.0.0\n",
	    "environments/prod.yaml", "functions: {b: {runtime: ruby3.3}}\n", NULL);
	assert_int_equal(r.rc, ERR_INVALID);
	assert_string_equal(r.text,
	    "environments/prod.yaml:1:26: runtime: an image function has no runtime; write "
	    "code: for a zip function (image is at functions/a.yaml:6:8)\n"
	    "functions/a.yaml:3:10: runtime: an image function has no runtime; write code: for "
	    "a zip function (image is at 2:8)\n");
	result_free(&r);
}

static void
test_load__sorted_by_region_then_name(void **state)
{
	struct result r;
	struct load_opts o = {NULL, "us-east-1", NULL, "123456789012"};

	(void)state;
	load_with(&r, &o, "functions/b.yaml",
	    "function: zeta\n---\nfunction: alpha\nregion: us-west-2\n---\n"
	    "function: alpha\n",
	    "functions/a/beta.yml", "function: beta\nregion: eu-west-1\n", NULL);
	assert_string_equal(r.text, "");
	assert_int_equal(r.spec.n, 4);
	assert_string_equal(r.spec.functions[0].name, "beta");
	assert_string_equal(r.spec.functions[0].source_path, "functions/a/beta.yml");
	assert_string_equal(r.spec.functions[1].name, "alpha");
	assert_string_equal(r.spec.functions[1].region, "us-east-1");
	assert_int_equal(r.spec.functions[1].source_line, 6);
	assert_string_equal(r.spec.functions[2].name, "zeta");
	assert_string_equal(r.spec.functions[3].name, "alpha");
	assert_string_equal(r.spec.functions[3].region, "us-west-2");
	/* The caller's account fills functions not declared by ARN. */
	assert_string_equal(r.spec.functions[3].account, "123456789012");
	result_free(&r);
}

static void
test_load__overlay_layers_defaults_under_function_under_override(void **state)
{
	struct result r;
	struct load_opts o = {"prod", NULL, NULL, NULL};
	const struct spec_function *f, *g;

	(void)state;
	load_with(&r, &o, "functions/a.yaml",
	    "function: a\nmemory: 256\nenvironment: {A1: own, B1: own, C1: own}\n"
	    "aliases: {live: current, old: 3}\n---\n"
	    "function: b\nregion: eu-west-1\n",
	    "environments/prod.yaml",
	    "defaults:\n"
	    "  region: us-west-2\n"
	    "  memory: 1024\n"
	    "  timeout: 60\n"
	    "  retain: 10\n"
	    "  environment: {A1: default, D1: default}\n"
	    "functions:\n"
	    "  a:\n"
	    "    retain: 3\n"
	    "    image: 1.dkr.ecr.us-west-2.amazonaws.com/a@sha256:"
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"
	    "    environment: {B1: override, C1: ~, D1: ~, E1: new}\n"
	    "    aliases: {old: ~, canary: {version: 7, traffic: {steps: [5], interval: 30s}}}\n",
	    "environments/dev.yaml", "defaults: {memory: 128}\n", NULL);
	assert_string_equal(r.text, "");
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.spec.environment, "prod");
	assert_int_equal(r.spec.n, 2);
	g = &r.spec.functions[0];
	f = &r.spec.functions[1];
	assert_string_equal(g->name, "b");
	assert_string_equal(g->region, "eu-west-1");
	assert_int_equal(g->memory, 1024);
	assert_int_equal(g->retain, 10);
	assert_int_equal(g->nenvironment, 2);
	assert_string_equal(f->name, "a");
	assert_string_equal(f->region, "us-west-2");
	assert_int_equal(f->memory, 256); /* own beats defaults */
	assert_int_equal(f->timeout, 60); /* defaults fill */
	assert_int_equal(f->retain, 3);   /* override beats defaults */
	assert_int_equal(f->code.kind, SPEC_CODE_IMAGE);
	/* A1 own (beats default), B1 override, C1 removed, D1 default removed, E1 new. */
	assert_int_equal(f->nenvironment, 3);
	assert_string_equal(f->environment[0].key, "A1");
	assert_string_equal(f->environment[0].value, "own");
	assert_string_equal(f->environment[1].key, "B1");
	assert_string_equal(f->environment[1].value, "override");
	assert_string_equal(f->environment[2].key, "E1");
	assert_int_equal(f->naliases, 2);
	assert_string_equal(f->aliases[0].name, "canary");
	assert_int_equal(f->aliases[0].version, 7);
	assert_int_equal(f->aliases[0].steps[0], 5);
	assert_int_equal(f->aliases[0].interval, 30);
	assert_string_equal(f->aliases[1].name, "live");
	result_free(&r);

	/* Without --env no overlay applies, but every overlay is still checked. */
	load_with(&r, &plain, "functions/a.yaml", "function: a\n", "environments/prod.yaml",
	    "functions: {b: {memory: 1}}\n", NULL);
	assert_int_equal(r.rc, ERR_INVALID);
	assert_string_equal(r.text,
	    "environments/prod.yaml:1:13: functions: \"b\" names no function in functions/\n"
	    "environments/prod.yaml:1:25: memory: 1 is out of range (128..10240 MB)\n");
	result_free(&r);
}

static void
test_load__region_precedence(void **state)
{
	struct result r;
	struct load_opts o = {"prod", "ap-south-1", NULL, NULL};

	(void)state;
	load_with(&r, &o, "functions/a.yaml",
	    "function: own\nregion: eu-west-1\n---\n"
	    "function: arn:aws:lambda:eu-west-2:123456789012:function:arn\n---\n"
	    "function: over\n---\nfunction: def\n",
	    "environments/prod.yaml",
	    "defaults: {region: us-west-2}\nfunctions:\n  own: {region: us-east-2}\n"
	    "  arn: {region: us-east-2}\n  over: {region: us-east-2}\n",
	    NULL);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.text,
	    "environments/prod.yaml:3:17: warning: region us-east-2 is ignored: "
	    "functions/a.yaml sets the function's own region (eu-west-1)\n"
	    "environments/prod.yaml:4:17: warning: region us-east-2 is ignored: "
	    "functions/a.yaml sets the function's own region (eu-west-2)\n");
	assert_string_equal(spec_find(&r.spec, "own", NULL)->region, "eu-west-1");
	assert_string_equal(spec_find(&r.spec, "arn", NULL)->region, "eu-west-2");
	assert_string_equal(spec_find(&r.spec, "over", NULL)->region, "us-east-2");
	assert_string_equal(spec_find(&r.spec, "def", NULL)->region, "us-west-2");
	result_free(&r);

	/* The caller's default, last. */
	o.env = NULL;
	load_with(&r, &o, "functions/a.yaml", "function: def\n", NULL);
	assert_string_equal(r.spec.functions[0].region, "ap-south-1");
	result_free(&r);

	/* No region at all: an error at the function: key. */
	o.default_region = NULL;
	load_with(&r, &o, "functions/a.yaml", "# x\n\n  function: def\n  memory: 128\n", NULL);
	assert_int_equal(r.rc, ERR_INVALID);
	assert_string_equal(r.text,
	    "functions/a.yaml:3:3: function \"def\" has no region: set region:, an "
	    "environment's defaults, or --region (AWS_REGION)\n");
	result_free(&r);
}

static void
test_load__display_prefix(void **state)
{
	struct result r;
	struct load_opts o = {NULL, "us-east-1", "deploy/lambda", NULL};

	(void)state;
	load_with(&r, &o, "functions/api.yaml", "\n\nfunction: api\n  memory: 1\n", NULL);
	assert_int_equal(r.rc, ERR_INVALID);
	assert_non_null(strstr(r.text, "deploy/lambda/functions/api.yaml:4:9: syntax error"));
	result_free(&r);

	o.display_prefix = "deploy/lambda/";
	load_with(&r, &o, "functions/api.yaml", "function: api\n", NULL);
	assert_string_equal(r.spec.functions[0].source_path, "deploy/lambda/functions/api.yaml");
	result_free(&r);
}

static void
test_load__duplicates_report_both(void **state)
{
	struct result r;

	(void)state;
	load_with(&r, &plain, "functions/a.yaml", "function: api\n", "functions/b.yaml",
	    "function: other\n---\nfunction: api\nregion: us-east-1\n", "functions/c.yaml",
	    "function: api\nregion: eu-west-1\n", NULL);
	assert_int_equal(r.rc, ERR_INVALID);
	assert_string_equal(r.text,
	    "functions/a.yaml:1:1: function \"api\" in us-east-1 is declared again at "
	    "functions/b.yaml:3:1\n"
	    "functions/b.yaml:3:1: function \"api\" in us-east-1 is already declared at "
	    "functions/a.yaml:1:1\n");
	result_free(&r);
}

static void
test_load__files_that_are_not_text(void **state)
{
	struct fileset fs = FILESET_INIT;
	struct spec s = SPEC_INIT;
	struct diags d = DIAGS_INIT;
	char *text;
	size_t len;
	FILE *f;

	(void)state;
	fileset_add(&fs, "functions/bin.yaml", "function: a\n\0x", 14);
	fileset_add(&fs, "functions/latin1.yaml", "function: a\n# caf\xe9\n", 18);
	fileset_add(&fs, "functions/over.yaml", "function: a\n\xed\xa0\x80\n", 15);
	fileset_add_special(&fs, "functions/link.yaml", FILESET_SYMLINK, 0);
	fileset_add_special(&fs, "functions/sub.yaml", FILESET_SUBMODULE, 0);
	fileset_add_special(&fs, "functions/big.yaml", FILESET_TOO_BIG, 2000000);
	fileset_add_special(&fs, "functions", FILESET_SYMLINK, 0);
	fileset_add_special(&fs, "environments", FILESET_SUBMODULE, 0);
	/* Not desired state: ignored, whatever it is. */
	fileset_add(&fs, "README.md", "\0", 1);
	fileset_add_special(&fs, "docs/link.yaml", FILESET_SYMLINK, 0);
	fileset_add(&fs, "functions/notes.txt", "\0", 1);
	assert_int_equal(load_desired(&fs, &plain, &s, &d), ERR_INVALID);
	diags_sort(&d);
	f = open_memstream(&text, &len);
	diags_print(&d, f);
	fclose(f);
	assert_string_equal(text,
	    "environments:1:1: a submodule; desired state must be regular files in this "
	    "repository\n"
	    "functions:1:1: a symbolic link; desired state must be regular files (links are not "
	    "followed)\n"
	    "functions/big.yaml:1:1: file is 2000000 bytes, over the limit of 1048576\n"
	    "functions/bin.yaml:2:1: binary file (a NUL byte); desired state is UTF-8 text\n"
	    "functions/latin1.yaml:2:6: not UTF-8 text (byte 0xe9)\n"
	    "functions/link.yaml:1:1: a symbolic link; desired state must be regular files "
	    "(links are not followed)\n"
	    "functions/over.yaml:2:1: not UTF-8 text (byte 0xed)\n"
	    "functions/sub.yaml:1:1: a submodule; desired state must be regular files in this "
	    "repository\n");
	free(text);
	diags_free(&d);
	fileset_free(&fs);
}

static void
test_load__empty_documents(void **state)
{
	struct result r;

	(void)state;
	/* Empty documents between separators are skipped; a file of nothing is an error. */
	load_with(&r, &plain, "functions/a.yaml", "---\n---\nfunction: a\n---\n", NULL);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.spec.n, 1);
	result_free(&r);
	load_with(
	    &r, &plain, "functions/a.yaml", "# only a comment\n", "functions/b.yaml", "", NULL);
	assert_int_equal(r.rc, ERR_INVALID);
	assert_string_equal(r.text, "functions/a.yaml:1:1: empty file: no function document\n"
	                            "functions/b.yaml:1:1: empty file: no function document\n");
	result_free(&r);
	/* Nothing at all is valid, with a warning. */
	load_with(&r, &plain, NULL);
	assert_int_equal(r.rc, 0);
	assert_string_equal(
	    r.text, "warning: no function is declared: there is no document under functions/\n");
	result_free(&r);
}

static void
test_load__aliases_report_once(void **state)
{
	struct result r;

	(void)state;
	/* A bad value behind an anchor is reported once, however often it is aliased. */
	load_with(&r, &plain, "functions/a.yaml", "function: a\n---\nfunction: b\n",
	    "environments/prod.yaml", "defaults: &d {memroy: 512}\nfunctions: {a: *d, b: *d}\n",
	    NULL);
	assert_int_equal(r.rc, ERR_INVALID);
	assert_string_equal(r.text,
	    "environments/prod.yaml:1:15: unknown key \"memroy\"; did you mean \"memory\"?\n");
	assert_int_equal(r.diags.errors, 1);
	assert_int_equal(r.diags.n, 1);
	result_free(&r);
}

static void
test_load__billion_laughs_is_refused_quickly(void **state)
{
	static const char doc[] = "function: a\n"
	                          "x: &a [l, l, l, l, l, l, l, l, l, l]\n"
	                          "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
	                          "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
	                          "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
	                          "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
	                          "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
	                          "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
	                          "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
	                          "i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]\n";
	struct result r;
	clock_t t0 = clock();

	(void)state;
	load_with(&r, &plain, "functions/lol.yaml", doc, NULL);
	assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 0.5);
	assert_int_equal(r.rc, ERR_INVALID);
	assert_string_equal(r.text,
	    "functions/lol.yaml:7:4: aliases expand this document to more than 1000000 nodes\n");
	result_free(&r);
}

static void
test_load__caps(void **state)
{
	struct result r;
	char *deep;
	size_t n = 70;

	(void)state;
	deep = calloc(1, 64 + 2 * n);
	memcpy(deep, "function: a\nx: ", 15);
	memset(deep + 15, '[', n);
	memset(deep + 15 + n, ']', n);
	deep[15 + 2 * n] = '\n';
	load_with(&r, &plain, "functions/deep.yaml", deep, NULL);
	assert_string_equal(r.text, "functions/deep.yaml:2:67: nesting deeper than 64 levels\n");
	result_free(&r);
	free(deep);

	load_with(&r, &plain, "functions/r.yaml", "function: a\nx: &a [1, *a]\n", NULL);
	assert_string_equal(
	    r.text, "functions/r.yaml:2:11: alias *a refers to the node that contains it\n");
	result_free(&r);
	load_with(&r, &plain, "functions/u.yaml", "function: a\nx: *nope\n", NULL);
	assert_string_equal(r.text, "functions/u.yaml:2:4: undefined alias *nope\n");
	result_free(&r);
	load_with(&r, &plain, "functions/t.yaml", "function: !Ref a\n", NULL);
	assert_string_equal(
	    r.text, "functions/t.yaml:1:11: unsupported YAML tag !Ref on a scalar\n");
	result_free(&r);
	load_with(&r, &plain, "functions/k.yaml", "function: a\n[x]: 1\n", NULL);
	assert_string_equal(
	    r.text, "functions/k.yaml:2:1: a mapping key must be a scalar, not a collection\n");
	result_free(&r);
}

static void
test_load__explicit_tags(void **state)
{
	struct result r;

	(void)state;
	/* !!str makes a string of what would be an integer; !!int must hold one. */
	load_with(&r, &plain, "functions/a.yaml",
	    "function: !!str 123\nmemory: !!int 256\naliases: {live: !!int 4}\n", NULL);
	assert_string_equal(r.text, "");
	assert_string_equal(r.spec.functions[0].name, "123");
	assert_int_equal(r.spec.functions[0].memory, 256);
	result_free(&r);
	load_with(&r, &plain, "functions/a.yaml", "function: a\nmemory: !!int x\n", NULL);
	assert_string_equal(
	    r.text, "functions/a.yaml:2:9: \"x\" does not match its tag tag:yaml.org,2002:int\n");
	result_free(&r);
}

static void
test_load__environment_size_after_overlay(void **state)
{
	struct result r;
	struct load_opts o = {"prod", "us-east-1", NULL, NULL};
	char own[3000], over[3000];

	(void)state;
	snprintf(own, sizeof(own), "function: a\nenvironment: {AA: %02000d}\n", 0);
	snprintf(over, sizeof(over), "functions:\n  a:\n    environment: {BB: %02100d}\n", 0);
	load_with(&r, &o, "functions/a.yaml", own, "environments/prod.yaml", over, NULL);
	assert_int_equal(r.rc, ERR_INVALID);
	assert_string_equal(r.text,
	    "environments/prod.yaml:3:18: environment: function \"a\" has 4104 bytes of "
	    "variables with its overlay, over Lambda's limit of 4096 (keys and values)\n");
	result_free(&r);
	/* Each alone is fine. */
	o.env = NULL;
	load_with(&r, &o, "functions/a.yaml", own, "environments/prod.yaml", over, NULL);
	assert_int_equal(r.rc, 0);
	result_free(&r);
}

static void
test_load__layers_across_regions_and_twice(void **state)
{
	struct result r;
	struct load_opts o = {NULL, "us-east-1", NULL, "123456789012"};

	(void)state;
	load_with(&r, &o, "functions/a.yaml",
	    "function: a\nlayers:\n  - arn:aws:lambda:eu-west-1:123456789012:layer:x:1\n"
	    "  - arn:aws:lambda:us-east-1:123456789012:layer:y:1\n"
	    "  - {name: y, version: 2}\n",
	    NULL);
	assert_int_equal(r.rc, ERR_INVALID);
	assert_string_equal(r.text,
	    "functions/a.yaml:3:3: layers[0]: the layer is in eu-west-1 and function \"a\" in "
	    "us-east-1; Lambda needs them in one region\n"
	    "functions/a.yaml:3:3: layers[2]: the same layer as layers[1]; Lambda takes one "
	    "version of a layer\n");
	result_free(&r);
}

static void
test_load__errors_leave_out_empty(void **state)
{
	struct result r;

	(void)state;
	load_with(&r, &plain, "functions/a.yaml", "function: a\n", "functions/b.yaml",
	    "function: b\nmemory: 100000\n", NULL);
	assert_int_equal(r.rc, ERR_INVALID);
	assert_int_equal(r.spec.n, 0);
	assert_null(r.spec.functions);
	assert_null(r.spec.environment);
	assert_int_equal(r.diags.errors, 1);
	result_free(&r);
}

static void
test_load__bad_options(void **state)
{
	struct result r;
	struct load_opts o = {NULL, "mars-1", NULL, "12345"};

	(void)state;
	load_with(&r, &o, "functions/a.yaml", "function: a\n", NULL);
	assert_int_equal(r.rc, ERR_INVALID);
	assert_string_equal(r.text,
	    "default region \"mars-1\" is not a region name (such as us-east-1)\n"
	    "account \"12345\" is not a 12-digit AWS account id\n");
	result_free(&r);
}

/* Ten thousand functions in 100 files: roughly linear, and quick. */
static void
test_load__ten_thousand_functions(void **state)
{
	struct fileset fs = FILESET_INIT;
	struct spec s = SPEC_INIT;
	struct diags d = DIAGS_INIT;
	char path[64], *text;
	size_t len, i, j;
	clock_t t0;
	double secs;
	FILE *f;

	(void)state;
	for (i = 0; i < 100; i++) {
		f = open_memstream(&text, &len);
		for (j = 0; j < 100; j++)
			fprintf(f,
			    "---\nfunction: fn-%03zu-%03zu\nimage: 123456789012.dkr.ecr.us-east-1."
			    "amazonaws.com/app:v1.2.%zu\nmemory: 512\ntimeout: 30\n"
			    "environment: {LOG_LEVEL: info, TABLE: t-%zu}\n"
			    "layers: [arn:aws:lambda:us-east-1:123456789012:layer:common:7]\n"
			    "aliases: {live: current}\nretain: 5\n",
			    i, j, j, i);
		fclose(f);
		snprintf(path, sizeof(path), "functions/team-%03zu.yaml", i);
		fileset_add(&fs, path, text, len);
		free(text);
	}
	t0 = clock();
	assert_int_equal(load_desired(&fs, &plain, &s, &d), 0);
	secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
	assert_int_equal(s.n, 10000);
	assert_int_equal(d.n, 0);
	/* Generous (sanitizer builds, busy machines, x10 under memcheck); a quadratic step
	 * would take minutes. bench/ measures the speed itself. */
	assert_true(secs < timescale_scaled(10.0));
	print_message("load_desired: 10000 functions in %.0f ms\n", secs * 1000);
	spec_free(&s);
	diags_free(&d);
	fileset_free(&fs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_load__full_function),
	    cmocka_unit_test(test_load__unmanaged_fields_stay_unset),
	    cmocka_unit_test(test_load__s3_code_and_arn),
	    cmocka_unit_test(test_load__runtime),
	    cmocka_unit_test(test_load__sorted_by_region_then_name),
	    cmocka_unit_test(test_load__overlay_layers_defaults_under_function_under_override),
	    cmocka_unit_test(test_load__region_precedence),
	    cmocka_unit_test(test_load__display_prefix),
	    cmocka_unit_test(test_load__duplicates_report_both),
	    cmocka_unit_test(test_load__files_that_are_not_text),
	    cmocka_unit_test(test_load__empty_documents),
	    cmocka_unit_test(test_load__aliases_report_once),
	    cmocka_unit_test(test_load__billion_laughs_is_refused_quickly),
	    cmocka_unit_test(test_load__caps),
	    cmocka_unit_test(test_load__explicit_tags),
	    cmocka_unit_test(test_load__environment_size_after_overlay),
	    cmocka_unit_test(test_load__layers_across_regions_and_twice),
	    cmocka_unit_test(test_load__errors_leave_out_empty),
	    cmocka_unit_test(test_load__bad_options),
	    cmocka_unit_test(test_load__ten_thousand_functions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
