/*
 * source_read_dir(): which files a directory walk reads and records, against a real
 * temporary directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "gitwatch/source.h"
#include "tests/lib/tmpdir.h"

static char root[256];

static int
setup(void **state)
{
	(void)state;
	return tmpdir_make(root, sizeof(root), "tether-source-dir");
}

static int
teardown(void **state)
{
	(void)state;
	return tmpdir_remove(root);
}

static void
mkdirs(const char *rel)
{
	char path[512], *p;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (p = path + strlen(root) + 1; *p != '\0'; p++) {
		if (*p == '/') {
			*p = '\0';
			mkdir(path, 0755);
			*p = '/';
		}
	}
	mkdir(path, 0755);
}

static void
put(const char *rel, const char *data, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void
link_to(const char *rel, const char *target)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(symlink(target, path), 0);
}

static const struct fileset_file *
find(const struct fileset *fs, const char *path)
{
	size_t i;

	for (i = 0; i < fs->n; i++) {
		if (strcmp(fs->files[i].path, path) == 0)
			return &fs->files[i];
	}
	return NULL;
}

static void
test_source_dir__reads_and_records(void **state)
{
	struct fileset fs = FILESET_INIT;
	struct err err = ERR_INIT;
	const struct fileset_file *f;
	char path[512], *big;

	(void)state;
	mkdirs("functions/team/deep");
	mkdirs("environments/nested");
	mkdirs("other");
	mkdirs("elsewhere");
	put("functions/a.yaml", "function: a\n", 12);
	put("functions/team/deep/deep.yml", "function: b\n", 12);
	put("functions/notes.txt", "x", 1);
	put("functions/.hidden.yaml", "x", 1);
	put("environments/prod.yaml", "defaults: {}\n", 13);
	put("environments/nested/x.yaml", "x", 1);
	put("other/c.yaml", "function: c\n", 12);
	put("top.yaml", "function: d\n", 12);
	put("elsewhere/e.yaml", "function: e\n", 12);
	link_to("functions/link.yaml", "../elsewhere/e.yaml");
	link_to("functions/dir-link", "../elsewhere");
	link_to("functions/other-link.txt", "../elsewhere/e.yaml");
	snprintf(path, sizeof(path), "%s/functions/fifo.yaml", root);
	assert_int_equal(mkfifo(path, 0600), 0);
	big = calloc(1, FILESET_FILE_MAX + 1);
	memset(big, '#', FILESET_FILE_MAX + 1);
	put("functions/big.yaml", big, FILESET_FILE_MAX + 1);
	put("functions/fits.yaml", big, FILESET_FILE_MAX);
	free(big);

	assert_int_equal(source_read_dir(root, NULL, &fs, &err), 0);
	/* Sorted by path; only desired-state paths (no hidden files), plus the links and
	 * oddities among them. */
	assert_int_equal(fs.n, 9);
	assert_string_equal(fs.files[0].path, "environments/prod.yaml");
	f = find(&fs, "functions/a.yaml");
	assert_int_equal(f->kind, FILESET_REGULAR);
	assert_int_equal(f->len, 12);
	assert_memory_equal(f->data, "function: a\n", 12);
	assert_int_equal(find(&fs, "functions/team/deep/deep.yml")->kind, FILESET_REGULAR);
	assert_null(find(&fs, "functions/.hidden.yaml"));
	assert_int_equal(find(&fs, "functions/link.yaml")->kind, FILESET_SYMLINK);
	assert_int_equal(find(&fs, "functions/dir-link")->kind, FILESET_SYMLINK);
	assert_int_equal(find(&fs, "functions/other-link.txt")->kind, FILESET_SYMLINK);
	assert_int_equal(find(&fs, "functions/fifo.yaml")->kind, FILESET_OTHER);
	f = find(&fs, "functions/big.yaml");
	assert_int_equal(f->kind, FILESET_TOO_BIG);
	assert_null(f->data);
	assert_int_equal(f->len, FILESET_FILE_MAX + 1);
	f = find(&fs, "functions/fits.yaml");
	assert_int_equal(f->kind, FILESET_REGULAR);
	assert_int_equal(f->len, FILESET_FILE_MAX);
	assert_null(find(&fs, "functions/notes.txt"));
	assert_null(find(&fs, "other/c.yaml"));
	assert_null(find(&fs, "top.yaml"));
	assert_null(find(&fs, "environments/nested/x.yaml"));
	fileset_free(&fs);
}

static void
test_source_dir__path_and_links_at_the_root(void **state)
{
	struct fileset fs = FILESET_INIT;
	struct err err = ERR_INIT;

	(void)state;
	mkdirs("deploy/lambda/functions");
	put("deploy/lambda/functions/a.yaml", "function: a\n", 12);
	assert_int_equal(source_read_dir(root, "deploy/lambda/", &fs, &err), 0);
	assert_int_equal(fs.n, 1);
	assert_string_equal(fs.files[0].path, "functions/a.yaml");
	fileset_free(&fs);

	/* A functions/ that is a link is recorded, not followed. */
	mkdirs("linked");
	link_to("linked/functions", "../deploy/lambda/functions");
	assert_int_equal(source_read_dir(root, "linked", &fs, &err), 0);
	assert_int_equal(fs.n, 1);
	assert_string_equal(fs.files[0].path, "functions");
	assert_int_equal(fs.files[0].kind, FILESET_SYMLINK);
	fileset_free(&fs);
}

static void
test_source_dir__errors(void **state)
{
	struct fileset fs = FILESET_INIT;
	struct err err = ERR_INIT;
	char path[512];

	(void)state;
	snprintf(path, sizeof(path), "%s/missing", root);
	assert_int_equal(source_read_dir(path, NULL, &fs, &err), ERR_NOTFOUND);
	assert_non_null(strstr(err.message, "No such file or directory"));
	assert_int_equal(fs.n, 0);

	put("file", "x", 1);
	assert_int_equal(source_read_dir(root, "file", &fs, &err), ERR_FAIL);
	assert_non_null(strstr(err.message, "is not a directory"));

	/* An unreadable file is an error, never silently skipped (root reads anything). */
	if (geteuid() != 0) {
		mkdirs("locked/functions");
		put("locked/functions/a.yaml", "function: a\n", 12);
		snprintf(path, sizeof(path), "%s/locked/functions/a.yaml", root);
		assert_int_equal(chmod(path, 0), 0);
		assert_int_equal(source_read_dir(root, "locked", &fs, &err), ERR_FAIL);
		assert_non_null(strstr(err.message, "Permission denied"));
		assert_int_equal(fs.n, 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_source_dir__reads_and_records, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_source_dir__path_and_links_at_the_root, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_source_dir__errors, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
