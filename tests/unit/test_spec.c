/*
 * The spec's canonical form and digest. The canonical text is pinned byte for byte: a
 * change to it changes every digest, so every published version would stop matching its
 * spec and be republished. Changing it must be a deliberate, versioned decision.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "reconcile/diag.h"
#include "reconcile/fileset.h"
#include "reconcile/spec.h"

static void
fill(struct spec_function *f)
{
	memset(f, 0, sizeof(*f));
	f->name = strdup("orders-api");
	f->region = strdup("us-east-1");
	f->code.kind = SPEC_CODE_IMAGE;
	f->code.image = strdup("123456789012.dkr.ecr.us-east-1.amazonaws.com/orders:v42");
	f->has_layers = true;
	f->nlayers = 2;
	f->layers[0].arn =
	    strdup("arn:aws:lambda:us-east-1:123456789012:layer:receipt-dynamo-dev:5");
	f->layers[1].name = strdup("receipt-label-dev");
	f->layers[1].version = 3;
	f->has_memory = true;
	f->memory = 512;
	f->has_timeout = true;
	f->timeout = 30;
	f->has_environment = true;
	f->nenvironment = 2;
	f->environment = calloc(2, sizeof(*f->environment));
	f->environment[0].key = strdup("A");
	f->environment[0].value = strdup("quote\" and \xc3\xa9");
	f->environment[1].key = strdup("LOG_LEVEL");
	f->environment[1].value = strdup("info");
}

static void
test_spec__canonical_form_is_pinned(void **state)
{
	struct spec_function f;
	char *canon, digest[CRYPTO_SHA256_HEX_LEN + 1], want[CRYPTO_SHA256_HEX_LEN + 1];
	struct err err = ERR_INIT;

	(void)state;
	fill(&f);
	assert_int_equal(spec_canonical(&f, "123456789012", &canon, &err), 0);
	assert_string_equal(canon,
	    "{\"code\":{\"image\":\"123456789012.dkr.ecr.us-east-1.amazonaws.com/orders:v42\"},"
	    "\"environment\":{\"A\":\"quote\\\" and \xc3\xa9\",\"LOG_LEVEL\":\"info\"},"
	    "\"layers\":[\"arn:aws:lambda:us-east-1:123456789012:layer:receipt-dynamo-dev:5\","
	    "\"arn:aws:lambda:us-east-1:123456789012:layer:receipt-label-dev:3\"],"
	    "\"memory\":512,\"timeout\":30,\"v\":1}");
	assert_int_equal(spec_digest(&f, "123456789012", digest, &err), 0);
	crypto_sha256_hex(canon, strlen(canon), want);
	assert_string_equal(digest, want);
	free(canon);

	/* runtime is written only when managed, in key order: a spec without one keeps the
	 * canonical form (and digest) it had before runtime existed. */
	f.has_runtime = true;
	f.runtime = strdup("python3.12");
	assert_int_equal(spec_canonical(&f, "123456789012", &canon, &err), 0);
	assert_string_equal(canon,
	    "{\"code\":{\"image\":\"123456789012.dkr.ecr.us-east-1.amazonaws.com/orders:v42\"},"
	    "\"environment\":{\"A\":\"quote\\\" and \xc3\xa9\",\"LOG_LEVEL\":\"info\"},"
	    "\"layers\":[\"arn:aws:lambda:us-east-1:123456789012:layer:receipt-dynamo-dev:5\","
	    "\"arn:aws:lambda:us-east-1:123456789012:layer:receipt-label-dev:3\"],"
	    "\"memory\":512,\"runtime\":\"python3.12\",\"timeout\":30,\"v\":1}");
	free(canon);
	f.has_runtime = false;

	/* A layer given by name cannot be resolved without an account. */
	assert_int_equal(spec_digest(&f, NULL, digest, &err), ERR_INVALID);
	assert_non_null(strstr(err.message, "receipt-label-dev"));
	spec_function_clear(&f);
}

static void
test_spec__digest_follows_frozen_fields_only(void **state)
{
	struct spec_function f;
	char d0[CRYPTO_SHA256_HEX_LEN + 1], d1[CRYPTO_SHA256_HEX_LEN + 1];
	char d2[CRYPTO_SHA256_HEX_LEN + 1];
	struct err err = ERR_INIT;

	(void)state;
	fill(&f);
	assert_int_equal(spec_digest(&f, "123456789012", d0, &err), 0);

	/* Not frozen into a version: aliases, retain, mode, smoke test, where it was declared. */
	f.has_retain = true;
	f.retain = 3;
	f.mode = SPEC_MODE_DETECT;
	f.source_path = strdup("functions/other.yaml");
	assert_int_equal(spec_digest(&f, "123456789012", d1, &err), 0);
	assert_string_equal(d0, d1);

	/* The same layer by name or by ARN is the same content. */
	free(f.layers[1].name);
	f.layers[1].name = NULL;
	f.layers[1].arn = strdup("arn:aws:lambda:us-east-1:123456789012:layer:receipt-label-dev:3");
	assert_int_equal(spec_digest(&f, NULL, d1, &err), 0);
	assert_string_equal(d0, d1);

	/* Every frozen field changes it. */
	f.memory = 1024;
	assert_int_equal(spec_digest(&f, NULL, d1, &err), 0);
	assert_string_not_equal(d0, d1);
	f.memory = 512;
	f.has_handler = true;
	f.handler = strdup("app.handler");
	assert_int_equal(spec_digest(&f, NULL, d1, &err), 0);
	assert_string_not_equal(d0, d1);
	f.has_handler = false;
	f.has_runtime = true;
	f.runtime = strdup("python3.12");
	assert_int_equal(spec_digest(&f, NULL, d1, &err), 0);
	assert_string_not_equal(d0, d1);
	memcpy(d2, d1, sizeof(d2));
	free(f.runtime);
	f.runtime = strdup("python3.13");
	assert_int_equal(spec_digest(&f, NULL, d1, &err), 0);
	assert_string_not_equal(d0, d1);
	assert_string_not_equal(d2, d1);
	/* Not managed again: the digest it had. */
	f.has_runtime = false;
	assert_int_equal(spec_digest(&f, NULL, d1, &err), 0);
	assert_string_equal(d0, d1);
	f.layers[1].arn[strlen(f.layers[1].arn) - 1] = '4';
	assert_int_equal(spec_digest(&f, NULL, d1, &err), 0);
	assert_string_not_equal(d0, d1);
	spec_function_clear(&f);
}

static void
test_spec__layer_arn_partitions(void **state)
{
	struct spec_layer l = {NULL, "shared", 7};
	char *arn;

	(void)state;
	arn = spec_layer_arn(&l, "123456789012", "cn-north-1");
	assert_string_equal(arn, "arn:aws-cn:lambda:cn-north-1:123456789012:layer:shared:7");
	free(arn);
	arn = spec_layer_arn(&l, "123456789012", "us-gov-west-1");
	assert_string_equal(arn, "arn:aws-us-gov:lambda:us-gov-west-1:123456789012:layer:shared:7");
	free(arn);
	assert_null(spec_layer_arn(&l, NULL, "eu-west-1"));
}

static void
test_spec__diags_sorted_and_capped(void **state)
{
	struct diags d = DIAGS_INIT;
	int i;

	(void)state;
	diags_add(&d, DIAG_ERROR, "b.yaml", 2, 1, "second");
	diags_add(&d, DIAG_WARNING, "a.yaml", 9, 3, "multi\nline");
	diags_add(&d, DIAG_ERROR, "b.yaml", 1, 5, "first");
	diags_add(&d, DIAG_ERROR, "b.yaml", 1, 5, "first again");
	diags_sort(&d);
	assert_string_equal(d.items[0].path, "a.yaml");
	assert_string_equal(d.items[0].message, "multi line");
	assert_string_equal(d.items[1].message, "first");
	assert_string_equal(d.items[2].message, "first again");
	assert_string_equal(d.items[3].message, "second");
	assert_int_equal(d.errors, 3);
	assert_int_equal(d.warnings, 1);
	for (i = 0; i < 2 * DIAGS_MAX; i++)
		diags_add(&d, DIAG_ERROR, "c.yaml", i, 1, "x");
	assert_true(d.truncated);
	assert_int_equal(d.n, DIAGS_MAX);
	assert_non_null(strstr(d.items[d.n - 1].message, "too many problems"));
	diags_free(&d);
}

static void
test_spec__fileset_wants(void **state)
{
	(void)state;
	assert_true(fileset_wants("functions/api.yaml"));
	assert_true(fileset_wants("functions/team/a/api.yml"));
	assert_true(fileset_wants("environments/prod.yaml"));
	assert_true(fileset_wants("functions/a.yml"));
	assert_true(fileset_wants("functions/a.yaml"));
	assert_true(fileset_wants("environments/p.yml"));
	assert_false(fileset_wants("functions/yml"));
	assert_false(fileset_wants("environments/old/prod.yaml"));
	assert_false(fileset_wants("functions/README.md"));
	assert_false(fileset_wants("functions/.hidden.yaml"));
	assert_false(fileset_wants("functions/.yaml"));
	assert_false(fileset_wants("function/api.yaml"));
	assert_false(fileset_wants("api.yaml"));
	assert_false(fileset_wants("src/functions/api.yaml"));
}

static void
test_spec__fileset_sorted(void **state)
{
	struct fileset fs = FILESET_INIT;

	(void)state;
	fileset_add(&fs, "functions/b.yaml", "b: 1", 4);
	fileset_add_special(&fs, "functions/a.yaml", FILESET_SYMLINK, 0);
	fileset_add(&fs, "environments/prod.yaml", "", 0);
	fileset_sort(&fs);
	assert_string_equal(fs.files[0].path, "environments/prod.yaml");
	assert_string_equal((const char *)fs.files[0].data, "");
	assert_int_equal(fs.files[1].kind, FILESET_SYMLINK);
	assert_null(fs.files[1].data);
	assert_string_equal((const char *)fs.files[2].data, "b: 1");
	fileset_free(&fs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_spec__canonical_form_is_pinned),
	    cmocka_unit_test(test_spec__digest_follows_frozen_fields_only),
	    cmocka_unit_test(test_spec__layer_arn_partitions),
	    cmocka_unit_test(test_spec__diags_sorted_and_capped),
	    cmocka_unit_test(test_spec__fileset_wants),
	    cmocka_unit_test(test_spec__fileset_sorted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
