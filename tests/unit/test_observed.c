/*
 * The observed model: the description formats tether writes and reads back (the version
 * mark and the canary mark), the finders, and observed_load_json()'s strictness.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "reconcile/observed.h"

#define D64 "3f9a1c0b7e21aa55aa55aa55aa55aa55aa55aa55aa55aa55aa55aa55aa55aa55"

static void
test_observed__version_mark_round_trip(void **state)
{
	char digest[SPEC_DIGEST_SHORT + 1], commit[13], *s;

	(void)state;
	s = obs_format_version_mark(D64, "8e4f2a1c9d0b7a6e5f4d3c2b1a0f9e8d7c6b5a49", "main");
	assert_string_equal(s, "tether d=3f9a1c0b7e21 c=8e4f2a1c9d0b main");
	assert_true(obs_parse_version_mark(s, digest, commit));
	assert_string_equal(digest, "3f9a1c0b7e21");
	assert_string_equal(commit, "8e4f2a1c9d0b");
	free(s);

	/* No ref; unknown commit. */
	s = obs_format_version_mark(D64, NULL, NULL);
	assert_string_equal(s, "tether d=3f9a1c0b7e21 c=-");
	assert_true(obs_parse_version_mark(s, digest, commit));
	assert_string_equal(commit, "");
	free(s);

	/* A short commit as architecture §3 shows it is accepted. */
	assert_true(obs_parse_version_mark("tether d=3f9a1c0b7e21 c=8e4f2a1 main", digest, commit));
	assert_string_equal(commit, "8e4f2a1");
}

static void
test_observed__version_mark_fits_256(void **state)
{
	char ref[600], digest[SPEC_DIGEST_SHORT + 1], commit[13], *s;

	(void)state;
	memset(ref, 'r', sizeof(ref) - 1);
	ref[sizeof(ref) - 1] = '\0';
	s = obs_format_version_mark(D64, "8e4f2a1c9d0b7a6e", ref);
	assert_int_equal(strlen(s), OBS_DESCRIPTION_MAX);
	assert_true(obs_parse_version_mark(s, digest, commit));
	free(s);
}

static void
test_observed__version_mark_rejects(void **state)
{
	static const char *const bad[] = {
	    NULL, "", "deployed by hand", "tether d=3f9a1c0b7e2 c=8e4f2a1 main", /* 11 hex */
	    "tether d=3F9A1C0B7E21 c=8e4f2a1 main",                              /* upper case */
	    "tether d=3f9a1c0b7e21x c=8e4f2a1 main",                             /* 13 characters */
	    "tether d=3f9a1c0b7e21 c=8e4 main",     /* commit too short */
	    "tether d=3f9a1c0b7e21 c=zz4f2a1 main", /* not hex */
	    "tether d=3f9a1c0b7e21 c=8e4f2a1 ",     /* a space and no ref */
	    "tether d=3f9a1c0b7e21",                /* no commit */
	    " tether d=3f9a1c0b7e21 c=8e4f2a1",     /* not at the start */
	};
	char digest[SPEC_DIGEST_SHORT + 1], commit[13];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(obs_parse_version_mark(bad[i], digest, commit));
		assert_string_equal(digest, "");
	}
}

static void
test_observed__canary_round_trip(void **state)
{
	struct obs_canary c, back;
	char *s;

	(void)state;
	memset(&c, 0, sizeof(c));
	memcpy(c.digest, "3f9a1c0b7e21", 13);
	c.step = 2;
	c.nsteps = 3;
	c.started = 1748270100;
	c.stable = 17;
	s = obs_format_canary(&c);
	assert_string_equal(s, "tether canary d=3f9a1c0b7e21 step=2/3 at=1748270100 stable=17");
	assert_true(obs_parse_canary(s, &back));
	assert_memory_equal(&c, &back, sizeof(c));
	free(s);

	assert_false(
	    obs_parse_canary("tether canary d=3f9a1c0b7e21 step=4/3 at=1 stable=17", &back));
	assert_false(
	    obs_parse_canary("tether canary d=3f9a1c0b7e21 step=0/3 at=1 stable=17", &back));
	assert_false(
	    obs_parse_canary("tether canary d=3f9a1c0b7e21 step=1/11 at=1 stable=17", &back));
	assert_false(
	    obs_parse_canary("tether canary d=3f9a1c0b7e21 step=1/3 at=1 stable=0", &back));
	assert_false(
	    obs_parse_canary("tether canary d=3f9a1c0b7e21 step=1/3 at=1 stable=17 x", &back));
	assert_false(
	    obs_parse_canary("tether canary d=3f9a1c0b7e21 step=1/3 at= stable=17", &back));
	assert_false(obs_parse_canary("tether d=3f9a1c0b7e21 c=8e4f2a1", &back));
	assert_false(obs_parse_canary(NULL, &back));
}

static const char observed_doc[] =
    "{\"ctx\": {\"now\": 5},\n"
    " \"functions\": [\n"
    "  {\"name\": \"api\", \"arn\": \"arn:aws:lambda:us-east-1:123456789012:function:api\",\n"
    "   \"latest\": {\"package_type\": \"Image\", \"image_uri\": \"x:1\", \"memory\": 512,\n"
    "              \"environment\": {\"B\": \"2\", \"A\": \"1\"}, \"layers\": [\"l1\", \"l2\"],\n"
    "              \"last_update_status\": \"Successful\", \"revision_id\": \"r1\"},\n"
    "   \"versions\": [\n"
    "     {\"number\": 9, \"description\": \"tether d=aaaaaaaaaaaa c=1111111 main\"},\n"
    "     {\"number\": 3, \"description\": \"by hand\"},\n"
    "     {\"number\": 12, \"description\": \"tether d=aaaaaaaaaaaa c=2222222 main\"},\n"
    "     {\"number\": 10, \"description\": \"tether d=bbbbbbbbbbbb c=3333333 main\"}],\n"
    "   \"aliases\": [\n"
    "     {\"name\": \"live\", \"version\": \"10\", \"routing\": {\"12\": 0.1},\n"
    "      \"description\": \"tether canary d=aaaaaaaaaaaa step=1/2 at=100 stable=10\"},\n"
    "     {\"name\": \"beta\", \"version\": \"$LATEST\"}],\n"
    "   \"esm\": [\"live\", \"3\"], \"pc\": [],\n"
    "   \"quarantined\": [\"cccccccccccc\"]},\n"
    "  {\"name\": \"gone\", \"region\": \"eu-west-1\", \"exists\": false},\n"
    "  {\"name\": \"worker\", \"region\": \"eu-west-1\",\n"
    "   \"latest\": {\"package_type\": \"Zip\", \"handler\": \"app.handler\",\n"
    "              \"runtime\": \"python3.12\"}}\n"
    " ]}\n";

static void
test_observed__load_json(void **state)
{
	struct obs_function *fns, copy, zip;
	struct err err = ERR_INIT;
	const struct obs_function *f;
	size_t n, i;

	(void)state;
	assert_int_equal(observed_load_json(observed_doc, strlen(observed_doc), &fns, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(fns[2].latest.runtime, "python3.12");
	assert_null(fns[0].latest.runtime);
	f = &fns[0];
	assert_string_equal(f->region, "us-east-1");
	assert_string_equal(f->account, "123456789012");
	assert_true(f->exists && f->versions_listed && f->refs_listed);
	assert_int_equal(f->latest.memory, 512);
	assert_string_equal(f->latest.environment[0].key, "A"); /* sorted */
	assert_int_equal(f->latest.nlayers, 2);
	/* Versions sorted, marks parsed. */
	assert_int_equal(f->nversions, 4);
	assert_int_equal(f->versions[0].number, 3);
	assert_string_equal(f->versions[0].digest, "");
	assert_int_equal(f->versions[3].number, 12);
	assert_string_equal(f->versions[3].commit, "2222222");
	assert_int_equal(obs_version_find(f, 10)->number, 10);
	assert_null(obs_version_find(f, 11));
	/* The newest holder wins; full digests match by their first 12 characters. */
	assert_int_equal(obs_version_with_digest(f, "aaaaaaaaaaaa")->number, 12);
	assert_int_equal(obs_version_with_digest(f, "aaaaaaaaaaaa0123456789")->number, 12);
	assert_null(obs_version_with_digest(f, "dddddddddddd"));
	assert_null(obs_version_with_digest(f, "aaaa"));
	/* Aliases sorted, canary parsed. */
	assert_string_equal(f->aliases[0].name, "beta");
	assert_null(f->aliases[0].routing_version);
	assert_string_equal(f->aliases[1].routing_version, "12");
	assert_true(f->aliases[1].routing_weight > 0.099 && f->aliases[1].routing_weight < 0.101);
	assert_true(f->aliases[1].has_canary);
	assert_int_equal(f->aliases[1].canary.stable, 10);
	assert_int_equal(f->nesm_targets, 2);
	assert_true(obs_quarantined(f, "cccccccccccc0000"));
	assert_false(obs_quarantined(f, "ccccccccccc"));
	assert_false(obs_quarantined(f, "aaaaaaaaaaaa"));
	assert_false(fns[1].exists);

	/* A deep copy outlives the original. */
	obs_function_copy(&copy, f);
	obs_function_copy(&zip, &fns[2]);
	for (i = 0; i < n; i++)
		obs_function_clear(&fns[i]);
	free(fns);
	assert_string_equal(zip.latest.runtime, "python3.12");
	obs_function_clear(&zip);
	assert_string_equal(
	    copy.aliases[1].description, "tether canary d=aaaaaaaaaaaa step=1/2 at=100 stable=10");
	assert_string_equal(copy.latest.environment[1].value, "2");
	assert_string_equal(copy.esm_targets[1], "3");
	obs_function_clear(&copy);
}

static void
expect_error(const char *doc, const char *message)
{
	struct obs_function *fns = NULL;
	struct err err = ERR_INIT;
	size_t n = 7;

	assert_int_equal(observed_load_json(doc, strlen(doc), &fns, &n, &err), ERR_INVALID);
	assert_null(fns);
	assert_int_equal(n, 0);
	if (strcmp(err.message, message) != 0)
		fail_msg("%s\n  got:  %s\n  want: %s", doc, err.message, message);
}

/* Syntax errors carry jansson's position; its wording is jansson's own. */
static void
syntax_error(void)
{
	static const char doc[] = "{\"functions\": [\n  {\"name\": }]}";
	struct obs_function *fns = NULL;
	struct err err = ERR_INIT;
	size_t n;

	assert_int_equal(observed_load_json(doc, strlen(doc), &fns, &n, &err), ERR_INVALID);
	assert_true(strncmp(err.message, "line 2 column 12: ", 18) == 0);
}

static void
test_observed__load_json_strict(void **state)
{
	(void)state;
	expect_error("[]", "(top): expected an object");
	expect_error("{\"functions\": [], \"extra\": 1}", "extra: unknown member");
	expect_error("{\"functions\": {}}", "functions: expected an array of functions");
	expect_error(
	    "{\"functions\": [{\"name\": \"a\"}]}", "functions[0].region: missing (or give arn)");
	expect_error("{\"functions\": [{\"name\": \"a\", \"region\": \"r\", \"latest\": "
	             "{\"memory\": \"512\"}}]}",
	    "functions[0].latest.memory: expected an integer");
	expect_error(
	    "{\"functions\": [{\"name\": \"a\", \"region\": \"r\", \"latest\": {\"memry\": 1}}]}",
	    "functions[0].latest.memry: unknown member");
	expect_error("{\"functions\": [{\"name\": \"a\", \"region\": \"r\", \"latest\": "
	             "{\"environment\": {\"A\": 1}}}]}",
	    "functions[0].latest.environment.A: expected a string");
	expect_error("{\"functions\": [{\"name\": \"a\", \"region\": \"r\", \"latest\": "
	             "{\"runtime\": 3}}]}",
	    "functions[0].latest.runtime: expected a string");
	expect_error("{\"functions\": [{\"name\": \"a\", \"region\": \"r\", \"versions\": "
	             "[{\"number\": 0}]}]}",
	    "functions[0].versions[0].number: expected a version number >= 1");
	expect_error("{\"functions\": [{\"name\": \"a\", \"region\": \"r\", \"versions\": "
	             "[{\"description\": \"x\"}]}]}",
	    "functions[0].versions[0].number: missing");
	expect_error("{\"functions\": [{\"name\": \"a\", \"region\": \"r\", \"versions\": "
	             "[{\"number\": 2}, {\"number\": 2}]}]}",
	    "functions[0].versions: version 2 listed twice");
	expect_error("{\"functions\": [{\"name\": \"a\", \"region\": \"r\", \"aliases\": "
	             "[{\"name\": \"l\", \"version\": \"x\"}]}]}",
	    "functions[0].aliases[0].version: expected a version number or \"$LATEST\"");
	expect_error(
	    "{\"functions\": [{\"name\": \"a\", \"region\": \"r\", \"aliases\": [{\"name\": \"l\", "
	    "\"version\": \"1\", \"routing\": {\"2\": 0.1, \"3\": 0.1}}]}]}",
	    "functions[0].aliases[0].routing: at most one additional version");
	expect_error("{\"functions\": [{\"name\": \"a\", \"region\": \"r\", \"aliases\": "
	             "[{\"name\": \"l\", \"version\": \"1\", \"routing\": {\"2\": 1.5}}]}]}",
	    "functions[0].aliases[0].routing.2: expected a weight between 0 and 1");
	expect_error("{\"functions\": [{\"name\": \"a\", \"arn\": "
	             "\"arn:aws:lambda:us-east-1:123456789012:function:b\"}]}",
	    "functions[0].arn: does not match the name, region or account");
	expect_error("{\"functions\": [{\"name\": \"a\", \"arn\": \"arn:aws:s3:::bucket\"}]}",
	    "functions[0].arn: expected a function ARN");
	expect_error("{\"functions\": [{\"name\": \"a\", \"region\": \"r\", \"esm\": [1]}]}",
	    "functions[0].esm[0]: expected a string");
	expect_error("{\"functions\": [{\"name\": \"a\", \"region\": \"r\"}, {\"name\": \"a\", "
	             "\"region\": \"r\"}]}",
	    "functions: a in r listed twice");
	expect_error("{\"functions\": [{\"name\": \"a\", \"region\": \"r\", \"exists\": false, "
	             "\"aliases\": [{\"name\": \"l\", \"version\": \"1\"}]}]}",
	    "functions[0]: a function that does not exist has no versions or aliases");
	syntax_error();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_observed__version_mark_round_trip),
	    cmocka_unit_test(test_observed__version_mark_fits_256),
	    cmocka_unit_test(test_observed__version_mark_rejects),
	    cmocka_unit_test(test_observed__canary_round_trip),
	    cmocka_unit_test(test_observed__load_json),
	    cmocka_unit_test(test_observed__load_json_strict),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
