#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/jsonw.h"

/* One string value written alone; CHECK_STRING counts a literal's bytes, NULs included. */
#define CHECK_STRING(lit, want) check_string((lit), sizeof(lit) - 1, (want))

static void
check_string(const char *in, size_t n, const char *want)
{
	struct buf b = BUF_INIT(1024);
	struct jsonw w;

	jsonw_init(&w, &b);
	jsonw_stringn(&w, in, n);
	assert_false(jsonw_failed(&w));
	assert_string_equal(buf_cstr(&b), want);
	buf_free(&b);
}

static void
test_jsonw__string_escapes(void **state)
{
	(void)state;
	CHECK_STRING("", "\"\"");
	CHECK_STRING("plain ascii ~", "\"plain ascii ~\"");
	CHECK_STRING("q\"b\\s/", "\"q\\\"b\\\\s/\"");
	CHECK_STRING("\n\r\t\b\f", "\"\\n\\r\\t\\u0008\\u000c\"");
	CHECK_STRING("\x01\x1f\x7f", "\"\\u0001\\u001f\x7f\"");
	CHECK_STRING("a\0b", "\"a\\u0000b\"");
}

static void
test_jsonw__string_utf8(void **state)
{
	(void)state;
	/* Well-formed sequences of 2, 3 and 4 bytes stay as they are. */
	CHECK_STRING("h\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80",
	    "\"h\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80\"");
	CHECK_STRING("\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\""); /* U+10FFFF */
	/* Each byte that is not part of a well-formed sequence becomes U+FFFD. */
	CHECK_STRING("\xff", "\"\xef\xbf\xbd\"");
	CHECK_STRING("a\x80z", "\"a\xef\xbf\xbdz\"");             /* lone continuation */
	CHECK_STRING("\xc0\xaf", "\"\xef\xbf\xbd\xef\xbf\xbd\""); /* overlong '/' */
	CHECK_STRING("\xe0\x80\xaf", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""); /* overlong */
	CHECK_STRING("\xed\xa0\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""); /* surrogate */
	CHECK_STRING("\xf4\x90\x80\x80",
	    "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""); /* past U+10FFFF */
	CHECK_STRING("\xe2\x9c", "\"\xef\xbf\xbd\xef\xbf\xbd\"");    /* cut short */
	CHECK_STRING("\xc3!", "\"\xef\xbf\xbd!\"");                  /* bad continuation */
}

static void
test_jsonw__document(void **state)
{
	struct buf b = BUF_INIT(4096);
	json_t *doc, *parsed;
	struct jsonw w;

	(void)state;
	doc = json_pack("{s:i,s:[s,n]}", "a", 1, "b", "x", "y");
	assert_non_null(doc);
	jsonw_init(&w, &b);
	jsonw_object_open(&w);
	jsonw_kstr(&w, "name", "fn");
	jsonw_kstr(&w, "none", NULL);
	jsonw_kstr_opt(&w, "skipped", NULL);
	jsonw_kstr_opt(&w, "kept", "v");
	jsonw_kint(&w, "min", INT64_MIN);
	jsonw_kint(&w, "max", INT64_MAX);
	jsonw_kint(&w, "zero", 0);
	jsonw_kbool(&w, "t", true);
	jsonw_kbool(&w, "f", false);
	jsonw_key(&w, "k\"ey\n");
	jsonw_null(&w);
	jsonw_key(&w, "doubles");
	jsonw_array_open(&w);
	jsonw_double(&w, 0.1);
	jsonw_double(&w, 1e300);
	jsonw_double(&w, 2.0);
	jsonw_double(&w, 0.30000000000000004);
	jsonw_double(&w, NAN);
	jsonw_array_close(&w);
	jsonw_key(&w, "nested");
	jsonw_array_open(&w);
	jsonw_object_open(&w);
	jsonw_object_close(&w);
	jsonw_array_open(&w);
	jsonw_array_close(&w);
	jsonw_string(&w, "s");
	jsonw_int(&w, -7);
	jsonw_array_close(&w);
	jsonw_kjson(&w, "tree", doc);
	jsonw_kjson(&w, "nulltree", NULL);
	jsonw_object_close(&w);
	assert_false(jsonw_failed(&w));
	assert_string_equal(buf_cstr(&b),
	    "{\"name\":\"fn\",\"none\":\"\",\"kept\":\"v\",\"min\":-9223372036854775808,"
	    "\"max\":9223372036854775807,\"zero\":0,\"t\":true,\"f\":false,\"k\\\"ey\\n\":null,"
	    "\"doubles\":[0.1,1e+300,2,0.30000000000000004,null],\"nested\":[{},[],\"s\",-7],"
	    "\"tree\":{\"a\":1,\"b\":[\"x\",null]},\"nulltree\":null}");
	/* And it is JSON that reads back. */
	parsed = json_loads(buf_cstr(&b), 0, NULL);
	assert_non_null(parsed);
	assert_true(json_real_value(json_array_get(json_object_get(parsed, "doubles"), 3)) ==
	            0.30000000000000004);
	assert_non_null(json_object_get(parsed, "k\"ey\n"));
	json_decref(parsed);
	json_decref(doc);
	buf_free(&b);
}

static void
test_jsonw__appends_to_what_is_there(void **state)
{
	struct buf b = BUF_INIT(64);
	struct jsonw w;

	(void)state;
	assert_int_equal(buf_puts(&b, "x="), 0);
	jsonw_init(&w, &b);
	jsonw_array_open(&w);
	jsonw_int(&w, 1);
	jsonw_int(&w, 2);
	jsonw_array_close(&w);
	assert_false(jsonw_failed(&w));
	assert_string_equal(buf_cstr(&b), "x=[1,2]");
	buf_free(&b);
}

static void
test_jsonw__cap_and_depth_fail_sticky(void **state)
{
	struct buf b = BUF_INIT(16);
	struct jsonw w;
	int i;

	(void)state;
	jsonw_init(&w, &b);
	jsonw_object_open(&w);
	jsonw_kstr(&w, "k", "0123456789abcdef");
	assert_true(jsonw_failed(&w));
	/* Nothing more is written once it failed, even what would fit. */
	jsonw_object_close(&w);
	assert_true(jsonw_failed(&w));
	assert_true(b.len <= 16);
	assert_null(strchr(buf_cstr(&b), '}'));
	buf_free(&b);

	buf_init(&b, 4096);
	jsonw_init(&w, &b);
	for (i = 0; i < JSONW_DEPTH_MAX - 1; i++)
		jsonw_array_open(&w);
	assert_false(jsonw_failed(&w));
	jsonw_array_open(&w);
	assert_true(jsonw_failed(&w));
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_jsonw__string_escapes),
	    cmocka_unit_test(test_jsonw__string_utf8),
	    cmocka_unit_test(test_jsonw__document),
	    cmocka_unit_test(test_jsonw__appends_to_what_is_there),
	    cmocka_unit_test(test_jsonw__cap_and_depth_fail_sticky),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
