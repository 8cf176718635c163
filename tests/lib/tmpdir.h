/*
 * Private temporary directories for tests and benchmarks: made with mkdtemp under $TMPDIR
 * (or /tmp), and removed with everything below them by the test that made them.
 */
#ifndef TETHER_TESTS_LIB_TMPDIR_H
#define TETHER_TESTS_LIB_TMPDIR_H

#include <limits.h>
#include <stddef.h>

/*
 * Make "<$TMPDIR or /tmp>/<prefix>.XXXXXX" and write its path to out (size bytes). Returns
 * 0, or -1 with errno set and out "" (ENAMETOOLONG when the path does not fit).
 */
int tmpdir_make(char *out, size_t size, const char *prefix);
/*
 * Remove dir and everything below it, without following symbolic links. "" is ignored.
 * Returns 0, or -1 when something could not be removed (errno set).
 */
int tmpdir_remove(const char *dir);

/* A cmocka fixture: tmpdir_fixture_setup() sets *state to a tmpdir_fixture holding a fresh
 * directory ("tether-test.XXXXXX"); tmpdir_fixture_teardown() removes it and frees it. */
struct tmpdir_fixture {
	char dir[PATH_MAX];
};

int tmpdir_fixture_setup(void **state);
int tmpdir_fixture_teardown(void **state);

#endif
