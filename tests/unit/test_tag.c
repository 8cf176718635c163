/*
 * controller/tag.c: the content hash of source folders and the tag's timestamp, and
 * `tether tag` run as a process ($TETHER_BIN). Every tree is made under a private mkdtemp
 * directory that the test removes.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/buf.h"
#include "common/crypto.h"
#include "common/xmalloc.h"
#include "controller/tag.h"
#include "tests/lib/tmpdir.h"

#define OUT_MAX 4096

/* A path below the fixture, into a static-free caller buffer. */
static const char *
at(const struct tmpdir_fixture *f, char *out, size_t size, const char *rel)
{
	int n = snprintf(out, size, "%s/%s", f->dir, rel);

	assert_true(n > 0 && (size_t)n < size);
	return out;
}

/* Make root and the directories leading to rel (rel relative to root). */
static void
mkparents(const char *root, const char *rel)
{
	char p[PATH_MAX];
	const char *s;
	int n;

	if (mkdir(root, 0755) != 0)
		assert_int_equal(errno, EEXIST);
	for (s = strchr(rel, '/'); s != NULL; s = strchr(s + 1, '/')) {
		n = snprintf(p, sizeof(p), "%s/%.*s", root, (int)(s - rel), rel);
		assert_true(n > 0 && (size_t)n < sizeof(p));
		if (mkdir(p, 0755) != 0)
			assert_int_equal(errno, EEXIST);
	}
}

static void
put(const char *root, const char *rel, const char *content, mode_t mode)
{
	char p[PATH_MAX];
	int fd, n;
	size_t len = strlen(content);

	mkparents(root, rel);
	n = snprintf(p, sizeof(p), "%s/%s", root, rel);
	assert_true(n > 0 && (size_t)n < sizeof(p));
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
	assert_int_equal(chmod(p, mode), 0);
}

static void
link_to(const char *root, const char *rel, const char *target)
{
	char p[PATH_MAX];
	int n;

	mkparents(root, rel);
	n = snprintf(p, sizeof(p), "%s/%s", root, rel);
	assert_true(n > 0 && (size_t)n < sizeof(p));
	assert_int_equal(symlink(target, p), 0);
}

static void
hash_of(const char *const *dirs, size_t n, char out[TAG_HASH_HEX_LEN + 1])
{
	struct err err = ERR_INIT;

	if (tag_compute(dirs, n, NULL, out, NULL, &err) != 0)
		fail_msg("tag_compute: %s", err.message);
	assert_int_equal(strlen(out), TAG_HASH_HEX_LEN);
}

enum variant {
	BASE,
	BASE_REVERSED, /* the same tree, made in the opposite order */
	SKIPPED,       /* BASE plus files that are not hashed, and an empty folder */
	BYTE,          /* one byte of a deep file changed */
	RENAME,        /* sub/b.txt renamed sub/b2.txt */
	MOVE,          /* z.txt moved from the second DIR to the first */
	EXEC,          /* a.txt made executable */
	LINK,          /* the link's target changed */
	SPLIT,         /* "a" holding "bc" where BASE has "ab" holding "c": the framing */
	VARIANTS
};

/* Build the variant's two DIRs, <dir>/<name>/one and <dir>/<name>/two. */
static void
build(const struct tmpdir_fixture *f, enum variant v, const char *name, char one[PATH_MAX],
    char two[PATH_MAX])
{
	char p[PATH_MAX];
	int i;

	assert_true(snprintf(p, sizeof(p), "%s/%s", name, "one") > 0);
	at(f, one, PATH_MAX, p);
	assert_true(snprintf(p, sizeof(p), "%s/%s", name, "two") > 0);
	at(f, two, PATH_MAX, p);
	mkparents(f->dir, p);
	assert_int_equal(mkdir(one, 0755), 0);
	assert_int_equal(mkdir(two, 0755), 0);
	if (v == BASE_REVERSED) {
		link_to(one, "link", "a.txt");
		put(two, "z.txt", "zzz\n", 0644);
		put(one, "sub/deep/c.sh", "#!/bin/sh\necho c\n", 0755);
		put(one, "sub/b.txt", "bee\n", 0644);
		put(one, "ab", "c", 0644);
		put(one, "a.txt", "alpha\n", 0644);
		for (i = 19; i >= 0; i--) {
			assert_true(snprintf(p, sizeof(p), "many/f%02d", i) > 0);
			put(one, p, p, 0644);
		}
		return;
	}
	put(one, "a.txt", "alpha\n", v == EXEC ? 0755 : 0644);
	if (v == SPLIT)
		put(one, "a", "bc", 0644);
	else
		put(one, "ab", "c", 0644);
	put(one, v == RENAME ? "sub/b2.txt" : "sub/b.txt", "bee\n", 0644);
	put(one, "sub/deep/c.sh", v == BYTE ? "#!/bin/sh\necho d\n" : "#!/bin/sh\necho c\n", 0755);
	for (i = 0; i < 20; i++) {
		assert_true(snprintf(p, sizeof(p), "many/f%02d", i) > 0);
		put(one, p, p, 0644);
	}
	link_to(one, "link", v == LINK ? "sub/b.txt" : "a.txt");
	put(v == MOVE ? one : two, "z.txt", "zzz\n", 0644);
	if (v == SKIPPED) {
		put(one, ".git/x", "x", 0644);
		put(one, "sub/__pycache__/y.pyc", "y", 0644);
		put(one, "node_modules/m/index.js", "m", 0644);
		put(two, ".venv/bin/python", "p", 0755);
		put(two, ".tether/manifest", "t", 0644);
		put(one, "sub/z.pyc", "z", 0644);
		put(one, "sub/.DS_Store", "d", 0644);
		assert_true(snprintf(p, sizeof(p), "%s/empty", one) > 0);
		assert_int_equal(mkdir(p, 0755), 0);
	}
}

static void
test_tag__content(void **state)
{
	struct tmpdir_fixture *f = *state;
	char one[PATH_MAX], two[PATH_MAX], name[32];
	char base[TAG_HASH_HEX_LEN + 1], h[VARIANTS][TAG_HASH_HEX_LEN + 1], again[sizeof(base)];
	const char *dirs[2];
	struct err err = ERR_INIT;
	size_t nfiles = 0;
	int v, k;

	for (v = BASE; v < VARIANTS; v++) {
		assert_true(snprintf(name, sizeof(name), "v%d", v) > 0);
		build(f, (enum variant)v, name, one, two);
		dirs[0] = one;
		dirs[1] = two;
		hash_of(dirs, 2, h[v]);
		if (v == BASE) {
			/* The same tree twice: the same hash, and the entries counted. */
			assert_int_equal(tag_compute(dirs, 2, NULL, again, &nfiles, &err), 0);
			assert_string_equal(again, h[v]);
			assert_int_equal(nfiles, 26);
			memcpy(base, h[v], sizeof(base));
			/* The order of the DIRs is significant. */
			dirs[0] = two;
			dirs[1] = one;
			hash_of(dirs, 2, again);
			assert_string_not_equal(again, base);
		}
	}
	assert_string_equal(h[BASE_REVERSED], base);
	assert_string_equal(h[SKIPPED], base);
	/* Every real change gives a hash of its own. */
	for (v = BYTE; v < VARIANTS; v++) {
		assert_string_not_equal(h[v], base);
		for (k = v + 1; k < VARIANTS; k++)
			assert_string_not_equal(h[v], h[k]);
	}
}

static void
u64(struct buf *b, uint64_t v)
{
	unsigned char x[8];
	int i;

	for (i = 7; i >= 0; i--) {
		x[i] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
	assert_int_equal(buf_append(b, x, sizeof(x)), 0);
}

static void
record(struct buf *b, uint64_t index, char kind, int exec, const char *path, const char *content)
{
	unsigned char kx[2] = {(unsigned char)kind, (unsigned char)exec};

	u64(b, index);
	assert_int_equal(buf_append(b, kx, 2), 0);
	u64(b, strlen(path));
	assert_int_equal(buf_puts(b, path), 0);
	u64(b, strlen(content));
	assert_int_equal(buf_puts(b, content), 0);
}

/* The format as tag.h documents it, rebuilt byte by byte. */
static void
test_tag__format(void **state)
{
	struct tmpdir_fixture *f = *state;
	char one[PATH_MAX], two[PATH_MAX], want[TAG_HASH_HEX_LEN + 1], got[sizeof(want)];
	char name[8];
	const char *dirs[2];
	struct buf b = BUF_INIT(4096);
	int i;

	at(f, one, sizeof(one), "one");
	at(f, two, sizeof(two), "two");
	assert_int_equal(mkdir(one, 0755), 0);
	assert_int_equal(mkdir(two, 0755), 0);
	put(one, "b/x", "X", 0644);
	put(one, "a.txt", "hello", 0700);
	put(one, "b.txt", "", 0644);
	link_to(two, "l", "../one/a.txt");
	/* Ten names, so that readdir's order (hashed on ext4, reversed on tmpfs) is not sorted. */
	for (i = 0; i < 10; i++) {
		assert_true(snprintf(name, sizeof(name), "c%d", i) > 0);
		put(one, name, name, 0644);
	}
	/* "a.txt" < "b.txt" < "b/x" < "c0": bytewise, '.' is 0x2e and '/' 0x2f. */
	assert_int_equal(buf_puts(&b, "tether-tag v1\n"), 0);
	u64(&b, 2);
	record(&b, 0, 'f', 1, "a.txt", "hello");
	record(&b, 0, 'f', 0, "b.txt", "");
	record(&b, 0, 'f', 0, "b/x", "X");
	for (i = 0; i < 10; i++) {
		assert_true(snprintf(name, sizeof(name), "c%d", i) > 0);
		record(&b, 0, 'f', 0, name, name);
	}
	record(&b, 1, 'l', 0, "l", "../one/a.txt");
	crypto_sha256_hex(b.data, b.len, want);
	dirs[0] = one;
	dirs[1] = two;
	hash_of(dirs, 2, got);
	assert_string_equal(got, want);
	/* A trailing '/' on a DIR changes nothing. */
	buf_reset(&b);
	assert_int_equal(buf_printf(&b, "%s/", one), 0);
	dirs[0] = buf_cstr(&b);
	hash_of(dirs, 2, got);
	assert_string_equal(got, want);
	buf_free(&b);
}

static void
test_tag__errors(void **state)
{
	struct tmpdir_fixture *f = *state;
	char d[PATH_MAX], p[PATH_MAX], hex[TAG_HASH_HEX_LEN + 1];
	const char *dirs[1];
	struct err err = ERR_INIT;
	struct tag_opts o = TAG_OPTS_INIT;

	/* A missing DIR. */
	dirs[0] = at(f, d, sizeof(d), "missing");
	assert_int_equal(tag_compute(dirs, 1, NULL, hex, NULL, &err), ERR_NOTFOUND);
	assert_non_null(strstr(err.message, d));
	assert_non_null(strstr(err.message, "No such file"));

	/* A DIR that is a file. */
	put(f->dir, "plain", "x", 0644);
	dirs[0] = at(f, d, sizeof(d), "plain");
	assert_int_equal(tag_compute(dirs, 1, NULL, hex, NULL, &err), ERR_FAIL);
	assert_non_null(strstr(err.message, "not a directory"));

	/* A fifo inside: an error naming it, not a wait for a writer. */
	dirs[0] = at(f, d, sizeof(d), "t");
	put(d, "sub/ok.txt", "ok", 0644);
	at(f, p, sizeof(p), "t/sub/pipe");
	assert_int_equal(mkfifo(p, 0644), 0);
	err_clear(&err);
	assert_int_equal(tag_compute(dirs, 1, NULL, hex, NULL, &err), ERR_FAIL);
	assert_non_null(strstr(err.message, p));
	assert_non_null(strstr(err.message, "fifo"));
	/* ... unless its name says it is skipped. */
	assert_int_equal(unlink(p), 0);
	at(f, p, sizeof(p), "t/sub/__pycache__");
	assert_int_equal(mkdir(p, 0755), 0);
	at(f, p, sizeof(p), "t/sub/__pycache__/pipe");
	assert_int_equal(mkfifo(p, 0644), 0);
	assert_int_equal(tag_compute(dirs, 1, NULL, hex, NULL, &err), 0);

	/* The caps. */
	put(d, "big", "12345", 0644);
	o.file_max = 4;
	assert_int_equal(tag_compute(dirs, 1, &o, hex, NULL, &err), ERR_TOOBIG);
	assert_non_null(strstr(err.message, "/big: larger than 4 bytes"));
	o.file_max = 5;
	assert_int_equal(tag_compute(dirs, 1, &o, hex, NULL, &err), 0);
	o.files_max = 1;
	assert_int_equal(tag_compute(dirs, 1, &o, hex, NULL, &err), ERR_TOOBIG);
	assert_non_null(strstr(err.message, "more than 1 files"));
	o.files_max = 2;
	assert_int_equal(tag_compute(dirs, 1, &o, hex, NULL, &err), 0);
}

static void
test_tag__timestamp(void **state)
{
	char ts[TAG_TIMESTAMP_LEN + 1];
	struct err err = ERR_INIT;
	static const char *const bad[] = {
	    "", "12a", "-5", "+5", " 1", "1e9", "1.5", "99999999999999999999", "253402300800"};
	size_t i;

	(void)state;
	assert_int_equal(tag_timestamp("1748270000", 0, ts, &err), 0);
	assert_string_equal(ts, "20250526-143320");
	assert_int_equal(tag_timestamp(NULL, 1748270000, ts, &err), 0);
	assert_string_equal(ts, "20250526-143320");
	/* SOURCE_DATE_EPOCH wins over the clock. */
	assert_int_equal(tag_timestamp("0", 1748270000, ts, &err), 0);
	assert_string_equal(ts, "19700101-000000");
	assert_int_equal(tag_timestamp("253402300799", 0, ts, &err), 0);
	assert_string_equal(ts, "99991231-235959");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err_clear(&err);
		if (tag_timestamp(bad[i], 0, ts, &err) != ERR_INVALID)
			fail_msg("SOURCE_DATE_EPOCH \"%s\" was accepted", bad[i]);
		assert_non_null(strstr(err.message, "SOURCE_DATE_EPOCH"));
	}
}

/* Read a small file into out (NUL-terminated). */
static void
slurp(const char *path, char *out, size_t size)
{
	FILE *fp = fopen(path, "r");
	size_t n;

	assert_non_null(fp);
	n = fread(out, 1, size - 1, fp);
	out[n] = '\0';
	fclose(fp);
}

/*
 * Run $TETHER_BIN with args (NULL-terminated) and SOURCE_DATE_EPOCH set to sde (unset when
 * NULL); returns its exit status, stdout and stderr.
 */
static int
run(const struct tmpdir_fixture *f, const char *sde, char *out, char *errout, ...)
{
	const char *bin = getenv("TETHER_BIN");
	char *argv[16];
	char op[PATH_MAX], ep[PATH_MAX];
	va_list ap;
	pid_t pid;
	int n = 0, status, fd;

	if (bin == NULL)
		fail_msg("TETHER_BIN is not set (run through ctest)");
	argv[n++] = (char *)bin;
	va_start(ap, errout);
	for (;;) {
		char *a = va_arg(ap, char *);

		assert_true(n < 15);
		argv[n++] = a;
		if (a == NULL)
			break;
	}
	va_end(ap);
	at(f, op, sizeof(op), "stdout");
	at(f, ep, sizeof(ep), "stderr");
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (sde != NULL)
			setenv("SOURCE_DATE_EPOCH", sde, 1);
		else
			unsetenv("SOURCE_DATE_EPOCH");
		fd = open(op, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || dup2(fd, 1) < 0)
			_exit(127);
		fd = open(ep, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || dup2(fd, 2) < 0)
			_exit(127);
		execv(bin, argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	slurp(op, out, OUT_MAX);
	slurp(ep, errout, OUT_MAX);
	unlink(op);
	unlink(ep);
	return WEXITSTATUS(status);
}

/* `tether tag` as CI runs it. */
static void
test_tag__command(void **state)
{
	struct tmpdir_fixture *f = *state;
	char src[PATH_MAX], missing[PATH_MAX], hex[TAG_HASH_HEX_LEN + 1], want[128];
	char out[OUT_MAX], errout[OUT_MAX];
	const char *dirs[1];
	json_t *j;
	json_error_t jerr;

	at(f, src, sizeof(src), "src");
	put(src, "Dockerfile", "FROM scratch\n", 0644);
	put(src, "app/main.py", "print('hi')\n", 0644);
	put(src, "app/__pycache__/main.cpython-311.pyc", "junk", 0644);
	dirs[0] = src;
	hash_of(dirs, 1, hex);

	assert_int_equal(run(f, "1748270000", out, errout, "tag", src, NULL), 0);
	assert_true(snprintf(want, sizeof(want), "20250526-143320-%.8s\n", hex) > 0);
	assert_string_equal(out, want);
	assert_string_equal(errout, "");

	assert_int_equal(run(f, NULL, out, errout, "tag", "--no-timestamp", src, NULL), 0);
	assert_true(snprintf(want, sizeof(want), "%.8s\n", hex) > 0);
	assert_string_equal(out, want);
	assert_int_equal(
	    run(f, "abc", out, errout, "--no-timestamp", "--long", "tag", src, NULL), 0);
	assert_true(snprintf(want, sizeof(want), "%s\n", hex) > 0);
	assert_string_equal(out, want);

	/* Without SOURCE_DATE_EPOCH: the clock, in the same shape. */
	assert_int_equal(run(f, NULL, out, errout, "tag", src, NULL), 0);
	assert_int_equal(strlen(out), TAG_TIMESTAMP_LEN + 1 + 8 + 1);
	assert_int_equal(out[8], '-');
	assert_int_equal(out[15], '-');
	assert_memory_equal(out + 16, hex, 8);

	assert_int_equal(
	    run(f, "1748270000", out, errout, "tag", "--output", "json", src, NULL), 0);
	j = json_loads(out, 0, &jerr);
	assert_non_null(j);
	assert_true(snprintf(want, sizeof(want), "20250526-143320-%.8s", hex) > 0);
	assert_string_equal(json_string_value(json_object_get(j, "tag")), want);
	assert_string_equal(json_string_value(json_object_get(j, "hash")), hex);
	assert_int_equal(json_integer_value(json_object_get(j, "files")), 2);
	assert_string_equal(json_string_value(json_object_get(j, "timestamp")), "20250526-143320");
	json_decref(j);
	assert_int_equal(
	    run(f, "1", out, errout, "tag", "--output", "json", "--no-timestamp", src, NULL), 0);
	j = json_loads(out, 0, &jerr);
	assert_non_null(j);
	assert_true(json_is_null(json_object_get(j, "timestamp")));
	json_decref(j);

	/* Errors: a missing DIR (1), a malformed SOURCE_DATE_EPOCH (1), no DIR (2). */
	at(f, missing, sizeof(missing), "nope");
	assert_int_equal(run(f, NULL, out, errout, "tag", src, missing, NULL), 1);
	assert_string_equal(out, "");
	assert_true(snprintf(want, sizeof(want), "tether: tag: %s: No such file", missing) > 0);
	assert_memory_equal(errout, want, strlen(want));
	assert_int_equal(run(f, "12x", out, errout, "tag", src, NULL), 1);
	assert_non_null(strstr(errout, "tether: tag: SOURCE_DATE_EPOCH"));
	assert_int_equal(run(f, NULL, out, errout, "tag", NULL), 2);
	assert_string_equal(out, "");

	/* The command list names it, and its own help gives its synopsis and options. */
	assert_int_equal(run(f, NULL, out, errout, "--help", NULL), 0);
	assert_non_null(strstr(out, "\n  tag DIR...               print the content tag of "));
	assert_int_equal(run(f, NULL, out, errout, "tag", "--help", NULL), 0);
	assert_memory_equal(out, "usage: tether tag DIR... [--no-timestamp] [--long]\n",
	    strlen("usage: tether tag DIR... [--no-timestamp] [--long]\n"));
	assert_non_null(strstr(out, "\n  --no-timestamp           only the content hash"));
	assert_null(strstr(out, "--repo"));
	assert_int_equal(run(f, NULL, out, errout, "tag", src, "--repo", "x", NULL), 2);
	assert_non_null(strstr(errout, "--repo does not apply to tag"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_tag__content, tmpdir_fixture_setup, tmpdir_fixture_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_tag__format, tmpdir_fixture_setup, tmpdir_fixture_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_tag__errors, tmpdir_fixture_setup, tmpdir_fixture_teardown),
	    cmocka_unit_test(test_tag__timestamp),
	    cmocka_unit_test_setup_teardown(
	        test_tag__command, tmpdir_fixture_setup, tmpdir_fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
