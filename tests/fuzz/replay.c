/*
 * The fuzz targets without libFuzzer: run LLVMFuzzerTestOneInput() once on each file named
 * on the command line, or under each directory named (recursively, in sorted order, hidden
 * files skipped). ctest runs it on tests/fuzz/corpus/<target>/ and
 * tests/fuzz/regressions/<target>/ in every build, so every seed and every input that once
 * crashed stays a test; the sanitizer build catches what the plain build cannot.
 *
 *   fuzz_replay_<target> [-q] PATH...
 *
 * A directory that does not exist is skipped with a note (regressions/<target>/ may not
 * exist yet); running no input at all is a failure, so a mistyped path cannot pass. A
 * crash is the failure of the run; the exit status is 0 when every input ran.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/fdio.h"
#include "common/xmalloc.h"
#include "tests/fuzz/fuzz.h"

/* Larger than any input the targets are fuzzed with (scripts/fuzz -max_len). */
#define REPLAY_INPUT_MAX (8 * 1024 * 1024)

static bool quiet;
static size_t ran;

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
run_file(const char *path)
{
	struct buf b = BUF_INIT(REPLAY_INPUT_MAX);
	uint8_t *copy;
	size_t len;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	rc = fdio_read_all(fd, &b);
	close(fd);
	if (rc != 0) {
		fprintf(
		    stderr, "replay: %s: cannot read (or over %d bytes)\n", path, REPLAY_INPUT_MAX);
		buf_free(&b);
		return -1;
	}
	if (!quiet)
		fprintf(stderr, "replay: %s (%zu bytes)\n", path, b.len);
	/* An exact-size copy, so that reading past the input is caught. */
	len = b.len;
	copy = (uint8_t *)fuzz_copy((const uint8_t *)b.data, len);
	buf_free(&b);
	LLVMFuzzerTestOneInput(copy, len);
	free(copy);
	ran++;
	return 0;
}

static int run_path(const char *path);

static int
run_dir(const char *path)
{
	DIR *d;
	struct dirent *de;
	char **names = NULL, *sub;
	size_t n = 0, cap = 0, i;
	int rc = 0;

	d = opendir(path);
	if (d == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (;;) {
		de = readdir(d);
		if (de == NULL)
			break;
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap == 0 ? 64 : cap * 2;
			names = xreallocarray(names, cap, sizeof(*names));
		}
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (n > 1)
		qsort(names, n, sizeof(*names), name_cmp);
	for (i = 0; i < n; i++) {
		sub = xasprintf("%s/%s", path, names[i]);
		if (run_path(sub) != 0)
			rc = -1;
		free(sub);
		free(names[i]);
	}
	free(names);
	return rc;
}

static int
run_path(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		if (errno == ENOENT) {
			fprintf(stderr, "replay: %s: absent, skipped\n", path);
			return 0;
		}
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode))
		return run_dir(path);
	return run_file(path);
}

int
main(int argc, char **argv)
{
	int i, rc = 0;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-q") == 0) {
			quiet = true;
			continue;
		}
		if (run_path(argv[i]) != 0)
			rc = 1;
	}
	if (ran == 0) {
		fprintf(stderr, "replay: no input was run\n");
		return 1;
	}
	fprintf(stderr, "replay: %zu inputs ran\n", ran);
	return rc;
}
