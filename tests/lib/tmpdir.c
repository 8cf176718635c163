#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "tests/lib/tmpdir.h"

int
tmpdir_make(char *out, size_t size, const char *prefix)
{
	const char *tmp = getenv("TMPDIR");
	int n;

	if (tmp == NULL || tmp[0] == '\0')
		tmp = "/tmp";
	n = snprintf(out, size, "%s/%s.XXXXXX", tmp, prefix);
	if (n < 0 || (size_t)n >= size) {
		if (size > 0)
			out[0] = '\0';
		errno = ENAMETOOLONG;
		return -1;
	}
	if (mkdtemp(out) == NULL) {
		out[0] = '\0';
		return -1;
	}
	return 0;
}

static int
remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) != 0 ? -1 : 0;
}

int
tmpdir_remove(const char *dir)
{
	if (dir == NULL || dir[0] == '\0')
		return 0;
	/* Depth first, so that each directory is empty by the time it is removed. */
	return nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS) != 0 ? -1 : 0;
}

int
tmpdir_fixture_setup(void **state)
{
	struct tmpdir_fixture *f = calloc(1, sizeof(*f));

	if (f == NULL || tmpdir_make(f->dir, sizeof(f->dir), "tether-test") != 0) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

int
tmpdir_fixture_teardown(void **state)
{
	struct tmpdir_fixture *f = *state;
	int rc = tmpdir_remove(f->dir);

	free(f);
	return rc;
}
