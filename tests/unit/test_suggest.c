/*
 * "Did you mean": edit distance with swaps, and how close is close enough.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/compat.h"
#include "reconcile/suggest.h"

static void
test_suggest__distance(void **state)
{
	char a[SUGGEST_WORD_MAX + 2];

	(void)state;
	assert_int_equal(suggest_distance("", ""), 0);
	assert_int_equal(suggest_distance("memory", "memory"), 0);
	assert_int_equal(suggest_distance("Memory", "memory"), 0);
	assert_int_equal(suggest_distance("memroy", "memory"), 1);  /* a swap */
	assert_int_equal(suggest_distance("timout", "timeout"), 1); /* a deletion */
	assert_int_equal(suggest_distance("kitten", "sitting"), 3);
	assert_int_equal(suggest_distance("", "abc"), 3);
	assert_int_equal(suggest_distance("ca", "abc"), 3); /* OSA, not full Damerau */
	memset(a, 'a', sizeof(a) - 1);
	a[sizeof(a) - 1] = '\0';
	assert_int_equal(suggest_distance(a, "a"), SIZE_MAX);
}

static void
test_suggest__closest(void **state)
{
	static const char *const keys[] = {"region", "retain", "memory", "mode", "timeout"};

	(void)state;
	assert_string_equal(suggest("retian", keys, nitems(keys)), "retain");
	assert_string_equal(suggest("regoin", keys, nitems(keys)), "region");
	assert_string_equal(suggest("MODE", keys, nitems(keys)), "mode");
	assert_string_equal(suggest("mod", keys, nitems(keys)), "mode");
	assert_string_equal(suggest("timeot", keys, nitems(keys)), "timeout");
	/* Too far, or too short to guess. */
	assert_null(suggest("foo", keys, nitems(keys)));
	assert_null(suggest("m", keys, nitems(keys)));
	assert_null(suggest("x", keys, 0));
	/* Short words allow one edit only. */
	assert_null(suggest("mdoe1", keys, nitems(keys)));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_suggest__distance),
	    cmocka_unit_test(test_suggest__closest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
