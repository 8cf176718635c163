/*
 * deploy/state: the lock, per-function files (atomic replacement, corrupt files, names
 * that could leave the directory), the version-cache rules, and the lockless walk, against
 * a real temporary state directory.
 */
#include <dirent.h>
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
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/log.h"
#include "deploy/state.h"
#include "tests/lib/tmpdir.h"

#define MARK_A "tether d=3f9a1c0b7e21 c=8e4f2a1c0b7e main"
#define MARK_B "tether d=aaaabbbbcccc c=-"
#define MARK_C "tether d=0123456789ab c=feedfacecafe"

static char root[256];
/*
 * The state test_state__lock() holds while a forked child runs. The child never returns,
 * so the compiler may reuse the register that held the pointer there; memcheck's leak check
 * at the child's exit (docs/memcheck.md) would then count the parent's state as lost.
 */
static struct state *volatile held;

/* fsync(), interposed for the whole test program: counts the calls (see test_manifest). */
static int fsync_calls;

int
fsync(int fd)
{
	fsync_calls++;
	return (int)syscall(SYS_fsync, fd);
}

static int
setup(void **state)
{
	(void)state;
	fsync_calls = 0;
	return tmpdir_make(root, sizeof(root), "tether-state");
}

static int
teardown(void **state)
{
	(void)state;
	log_init(LOG_LEVEL_INFO, false, STDERR_FILENO);
	return tmpdir_remove(root);
}

static char *
path_of(const char *rel)
{
	static char path[512];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	return path;
}

static void
put(const char *rel, const char *data, size_t len)
{
	FILE *f = fopen(path_of(rel), "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void
puts_file(const char *rel, const char *data)
{
	put(rel, data, strlen(data));
}

static char *
slurp(const char *rel)
{
	FILE *f = fopen(path_of(rel), "rb");
	char *data;
	long n;

	if (f == NULL)
		return NULL;
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	data = malloc((size_t)n + 1);
	assert_non_null(data);
	assert_int_equal(fread(data, 1, (size_t)n, f), (size_t)n);
	data[n] = '\0';
	fclose(f);
	return data;
}

/* Entries of a directory, "." and ".." aside. */
static int
count_entries(const char *rel)
{
	DIR *d = opendir(path_of(rel));
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
	closedir(d);
	return n;
}

static struct state *
open_ok(void)
{
	struct state *st = NULL;
	struct err err = ERR_INIT;

	if (state_open(&st, root, &err) != 0)
		fail_msg("state_open: %s", err.message);
	return st;
}

/* In a child process: try to open the state directory and send back the outcome as
 * "<rc> <message>". Returns it in out. */
static void
open_in_child(char *out, size_t size)
{
	struct state *st = NULL;
	struct err err = ERR_INIT;
	char msg[600];
	ssize_t n;
	pid_t pid;
	int p[2], status, rc, len;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		rc = state_open(&st, root, &err);
		len = snprintf(msg, sizeof(msg), "%d %s", rc, err.message);
		if (write(p[1], msg, (size_t)len) != len)
			_exit(2);
		state_close(st);
		_exit(0);
	}
	close(p[1]);
	n = read(p[0], out, size - 1);
	close(p[0]);
	assert_true(n > 0);
	out[n] = '\0';
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void
test_state__lock(void **state)
{
	struct state *st, *second = NULL;
	struct err err = ERR_INIT;
	char want[128], got[700], *text;
	struct stat sb;

	(void)state;
	/* The directory is created, 0700, and the lock file holds the holder's pid. */
	snprintf(root + strlen(root), sizeof(root) - strlen(root), "/sub");
	st = open_ok();
	held = st;
	assert_string_equal(state_dir(st), root);
	assert_int_equal(stat(root, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	text = slurp("lock");
	assert_non_null(text);
	snprintf(want, sizeof(want), "%ld\n", (long)getpid());
	assert_string_equal(text, want);
	free(text);

	/* A second open in this process is a second open file description: it conflicts. */
	snprintf(
	    want, sizeof(want), "%s is in use by another tether (pid %ld)", root, (long)getpid());
	assert_int_equal(state_open(&second, root, &err), ERR_CONFLICT);
	assert_null(second);
	assert_string_equal(err.message, want);

	/* Another process conflicts too, and is told this process's pid. */
	open_in_child(got, sizeof(got));
	snprintf(want, sizeof(want), "%d %s is in use by another tether (pid %ld)", ERR_CONFLICT,
	    root, (long)getpid());
	assert_string_equal(got, want);

	/* Once released, another process gets it (and releases it when done). */
	state_close(st);
	held = NULL;
	open_in_child(got, sizeof(got));
	assert_string_equal(got, "0 ");
	st = open_ok();
	state_close(st);
	root[strlen(root) - strlen("/sub")] = '\0';

	/* A state directory that is a file is an error, not a conflict. */
	put("file", "x", 1);
	snprintf(root + strlen(root), sizeof(root) - strlen(root), "/file");
	assert_int_equal(state_open(&second, root, &err), ERR_FAIL);
	assert_non_null(strstr(err.message, "not a directory"));
	root[strlen(root) - strlen("/file")] = '\0';
}

static void
version_set(struct obs_version *v, long number, const char *description, const char *sha)
{
	memset(v, 0, sizeof(*v));
	v->number = number;
	v->description = (char *)description;
	v->code_sha256 = (char *)sha;
}

static void
fill(struct state_function *f)
{
	struct obs_version v[3];

	memset(f, 0, sizeof(*f));
	f->quarantine_digest =
	    strdup("3f9a1c0b7e21aaaabbbbccccddddeeeeffff0000111122223333444455556666");
	f->quarantine_reason = strdup("smoke test: expected {\"ok\": true}, got \"\\n\"");
	f->quarantine_commit = strdup("8e4f2a1c0b7e11223344556677889900aabbccdd");
	f->quarantine_time = 1795342502;
	f->staged_s3 = strdup("s3://bucket/orders.zip?versionId=v1");
	f->staged_code_sha256 = strdup("c0de=");
	version_set(&v[0], 18, MARK_A, "sha18=");
	version_set(&v[1], 3, "hand-made", NULL);
	version_set(&v[2], 7, NULL, "sha7=");
	state_versions_replace(f, v, 3);
}

static void
assert_filled(const struct state_function *f)
{
	assert_string_equal(f->quarantine_digest,
	    "3f9a1c0b7e21aaaabbbbccccddddeeeeffff0000111122223333444455556666");
	assert_string_equal(
	    f->quarantine_reason, "smoke test: expected {\"ok\": true}, got \"\\n\"");
	assert_string_equal(f->quarantine_commit, "8e4f2a1c0b7e11223344556677889900aabbccdd");
	assert_int_equal(f->quarantine_time, 1795342502);
	assert_string_equal(f->staged_s3, "s3://bucket/orders.zip?versionId=v1");
	assert_string_equal(f->staged_code_sha256, "c0de=");
	assert_true(f->versions_complete);
	assert_int_equal(f->versions_through, 18);
	assert_int_equal(f->nversions, 3);
	assert_int_equal(f->versions[0].number, 3);
	assert_string_equal(f->versions[0].description, "hand-made");
	assert_null(f->versions[0].code_sha256);
	assert_string_equal(f->versions[0].digest, "");
	assert_string_equal(f->versions[0].commit, "");
	assert_int_equal(f->versions[1].number, 7);
	assert_null(f->versions[1].description);
	assert_string_equal(f->versions[1].code_sha256, "sha7=");
	assert_int_equal(f->versions[2].number, 18);
	assert_string_equal(f->versions[2].description, MARK_A);
	assert_string_equal(f->versions[2].digest, "3f9a1c0b7e21");
	assert_string_equal(f->versions[2].commit, "8e4f2a1c0b7e");
}

static void
test_state__save_load(void **state)
{
	struct state *st = open_ok();
	struct state_function f, g, copy;
	struct err err = ERR_INIT;
	struct stat sb;
	char *text;

	(void)state;
	/* A function never saved is empty, without error. */
	memset(&g, 0xff, sizeof(g));
	assert_int_equal(state_load_function(st, "us-east-1", "orders-api", &g, &err), 0);
	assert_null(g.quarantine_digest);
	assert_null(g.staged_s3);
	assert_false(g.versions_complete);
	assert_int_equal(g.versions_through, 0);
	assert_int_equal(g.nversions, 0);
	assert_null(g.versions);

	fill(&f);
	fsync_calls = 0;
	assert_int_equal(state_save_function(st, "us-east-1", "orders-api", &f, &err), 0);
	/* Two new directories (each made durable in its parent), the file, the rename. */
	assert_int_equal(fsync_calls, 4);
	assert_int_equal(stat(path_of("functions/us-east-1/orders-api.json"), &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(state_load_function(st, "us-east-1", "orders-api", &g, &err), 0);
	assert_filled(&g);

	/* The deep copy owns everything it holds. */
	state_function_copy(&copy, &g);
	state_function_clear(&g);
	assert_filled(&copy);
	state_function_clear(&copy);

	/* Replaced whole: a save without a quarantine or staged code has neither. */
	text = slurp("functions/us-east-1/orders-api.json");
	assert_non_null(strstr(text, "\"quarantine\":{"));
	free(text);
	free(f.quarantine_digest);
	f.quarantine_digest = NULL;
	free(f.staged_s3);
	f.staged_s3 = NULL;
	free(f.staged_code_sha256);
	f.staged_code_sha256 = NULL;
	state_version_remove(&f, 7);
	fsync_calls = 0;
	assert_int_equal(state_save_function(st, "us-east-1", "orders-api", &f, &err), 0);
	assert_int_equal(fsync_calls, 2);
	assert_int_equal(state_load_function(st, "us-east-1", "orders-api", &g, &err), 0);
	assert_null(g.quarantine_digest);
	assert_null(g.quarantine_reason);
	assert_null(g.staged_s3);
	assert_null(g.staged_code_sha256);
	assert_int_equal(g.nversions, 2);
	assert_int_equal(g.versions[1].number, 18);
	state_function_clear(&g);
	text = slurp("functions/us-east-1/orders-api.json");
	assert_null(strstr(text, "quarantine"));
	assert_null(strstr(text, "staged"));
	assert_int_equal(text[strlen(text) - 1], '\n');
	free(text);

	/* Nothing but the file is left in its directory (no temporary files). */
	assert_int_equal(count_entries("functions/us-east-1"), 1);
	state_function_clear(&f);
	state_close(st);
}

/* Load a function that must come back empty, with a warning naming its file. */
static void
assert_loads_empty(struct state *st, int logfd, const char *name, const char *why)
{
	struct state_function g;
	struct err err = ERR_INIT;
	char logged[4096], want[512];
	ssize_t n;

	memset(&g, 0xff, sizeof(g));
	assert_int_equal(state_load_function(st, "eu-west-1", name, &g, &err), 0);
	assert_null(g.quarantine_digest);
	assert_null(g.staged_s3);
	assert_null(g.versions);
	assert_int_equal(g.nversions, 0);
	assert_false(g.versions_complete);
	n = read(logfd, logged, sizeof(logged) - 1);
	assert_true(n > 0);
	logged[n] = '\0';
	snprintf(want, sizeof(want), "%s/functions/eu-west-1/%s.json: cannot be read", root, name);
	assert_non_null(strstr(logged, want));
	if (strstr(logged, why) == NULL)
		fail_msg("%s", logged);
}

static void
test_state__corrupt(void **state)
{
	struct state *st = open_ok();
	struct state_function f;
	struct err err = ERR_INIT;
	char *big;
	int p[2];

	(void)state;
	fill(&f);
	assert_int_equal(state_save_function(st, "eu-west-1", "good", &f, &err), 0);
	state_function_clear(&f);
	assert_int_equal(pipe(p), 0);
	log_init(LOG_LEVEL_INFO, false, p[1]);

	puts_file("functions/eu-west-1/torn.json", "{\"format\":1,\"quarantine\":{\"dig");
	assert_loads_empty(st, p[0], "torn", "premature end of input");
	puts_file("functions/eu-west-1/array.json", "[1]");
	assert_loads_empty(st, p[0], "array", "not a JSON object");
	puts_file("functions/eu-west-1/future.json",
	    "{\"format\":2,\"versions\":{\"complete\":true,\"through\":0,\"list\":[]}}");
	assert_loads_empty(st, p[0], "future", "not format 1");
	puts_file("functions/eu-west-1/twice.json",
	    "{\"format\":1,\"versions\":{\"complete\":true,\"through\":2,\"list\":"
	    "[{\"number\":2},{\"number\":1},{\"number\":2}]}}");
	assert_loads_empty(st, p[0], "twice", "listed twice");
	puts_file("functions/eu-west-1/types.json",
	    "{\"format\":1,\"staged\":{\"s3\":5},"
	    "\"versions\":{\"complete\":true,\"through\":0,\"list\":[]}}");
	assert_loads_empty(st, p[0], "types", "not a string");
	puts_file("functions/eu-west-1/noversions.json", "{\"format\":1}");
	assert_loads_empty(st, p[0], "noversions", "\"versions\"");
	puts_file("functions/eu-west-1/zero.json",
	    "{\"format\":1,\"versions\":{\"complete\":true,\"through\":1,\"list\":"
	    "[{\"number\":0}]}}");
	assert_loads_empty(st, p[0], "zero", "out of range");
	puts_file("functions/eu-west-1/empty.json", "");
	assert_loads_empty(st, p[0], "empty", "expected near end of file");

	/* Past the cap. */
	big = malloc(STATE_FILE_MAX + 2);
	assert_non_null(big);
	memset(big, ' ', STATE_FILE_MAX + 1);
	put("functions/eu-west-1/big.json", big, STATE_FILE_MAX + 1);
	free(big);
	assert_loads_empty(st, p[0], "big", "STATE_FILE_MAX");

	/* A directory where the file should be cannot be read either. */
	assert_int_equal(mkdir(path_of("functions/eu-west-1/dir.json"), 0700), 0);
	assert_loads_empty(st, p[0], "dir", "directory");

	/* Members this version does not know are ignored; a corrupt file is replaced by the
	 * next save. */
	puts_file("functions/eu-west-1/extra.json",
	    "{\"format\":1,\"later\":[1],\"versions\":{\"complete\":false,\"through\":4,"
	    "\"list\":[],\"more\":true}}");
	assert_int_equal(state_load_function(st, "eu-west-1", "extra", &f, &err), 0);
	assert_false(f.versions_complete);
	assert_int_equal(f.versions_through, 4);
	state_function_clear(&f);
	fill(&f);
	assert_int_equal(state_save_function(st, "eu-west-1", "torn", &f, &err), 0);
	state_function_clear(&f);
	assert_int_equal(state_load_function(st, "eu-west-1", "torn", &f, &err), 0);
	assert_filled(&f);
	state_function_clear(&f);
	assert_int_equal(state_load_function(st, "eu-west-1", "good", &f, &err), 0);
	assert_filled(&f);
	state_function_clear(&f);

	log_init(LOG_LEVEL_INFO, false, STDERR_FILENO);
	close(p[0]);
	close(p[1]);
	state_close(st);
}

static void
test_state__names(void **state)
{
	static const char *const bad_regions[] = {"", "..", ".", "../x", "us-east-1/..",
	    "US-EAST-1", "us east 1", "us_east_1", "us-east-1\n",
	    "abcdefghijklmnopqrstuvwxyz0123456"};
	static const char *const bad_names[] = {"", ".", "..", "../../lock", "a/b", "a.json",
	    ".hidden", "name\\x", "f\xc3\xa9",
	    "a234567890123456789012345678901234567890123456789012345678901234x"};
	struct state *st = open_ok();
	struct state_function f, g;
	struct err err = ERR_INIT;
	size_t i;

	(void)state;
	fill(&f);
	for (i = 0; i < nitems(bad_regions); i++) {
		assert_int_equal(
		    state_save_function(st, bad_regions[i], "fine", &f, &err), ERR_INVALID);
		assert_non_null(strstr(err.message, "is not a region name"));
		assert_int_equal(
		    state_load_function(st, bad_regions[i], "fine", &g, &err), ERR_INVALID);
		assert_null(g.versions);
	}
	for (i = 0; i < nitems(bad_names); i++) {
		assert_int_equal(
		    state_save_function(st, "us-east-1", bad_names[i], &f, &err), ERR_INVALID);
		assert_non_null(strstr(err.message, "is not a function name"));
		assert_int_equal(
		    state_load_function(st, "us-east-1", bad_names[i], &g, &err), ERR_INVALID);
	}
	assert_int_equal(state_save_function(st, NULL, "fine", &f, &err), ERR_INVALID);
	assert_int_equal(state_save_function(st, "us-east-1", NULL, &f, &err), ERR_INVALID);
	/* Nothing was written: only the lock is in the directory. */
	assert_int_equal(count_entries(""), 1);

	/* The longest names are fine. */
	assert_int_equal(
	    state_save_function(st, "abcdefghijklmnopqrstuvwxyz012345",
	        "a234567890123456789012345678901234567890123456789012345678901234", &f, &err),
	    0);
	assert_int_equal(state_save_function(st, "local-1", "A_b-9", &f, &err), 0);
	state_function_clear(&f);
	state_close(st);
}

static void
add(struct state_function *f, long number, const char *description)
{
	struct obs_version v;

	version_set(&v, number, description, NULL);
	state_version_add(f, &v);
}

static void
assert_numbers(const struct state_function *f, const long *want, size_t n)
{
	size_t i;

	assert_int_equal(f->nversions, n);
	for (i = 0; i < n; i++)
		assert_int_equal(f->versions[i].number, want[i]);
}

static void
test_state__version_cache(void **state)
{
	struct state_function f;
	struct obs_version list[4];
	static const long after_replace[] = {2, 5, 9};
	static const long after_adds[] = {2, 5, 9, 10, 11};
	static const long after_gap[] = {2, 5, 9, 10, 11, 13};
	static const long after_low[] = {1, 2, 5, 9, 10, 11, 13};
	static const long after_remove[] = {1, 2, 9, 10, 11, 13};

	(void)state;
	memset(&f, 0, sizeof(f));
	/* An empty listing is complete through 0. */
	state_versions_replace(&f, NULL, 0);
	assert_true(f.versions_complete);
	assert_int_equal(f.versions_through, 0);
	assert_int_equal(f.nversions, 0);
	/* The first publish of a function: 1 == 0 + 1. */
	add(&f, 1, MARK_C);
	assert_true(f.versions_complete);
	assert_int_equal(f.versions_through, 1);

	/* Any order in, ascending kept, a repeated number kept once; through = highest. */
	version_set(&list[0], 9, MARK_A, "s9");
	version_set(&list[1], 2, NULL, NULL);
	version_set(&list[2], 5, "hand-made", "s5");
	version_set(&list[3], 9, MARK_A, "s9");
	state_versions_replace(&f, list, 4);
	assert_numbers(&f, after_replace, nitems(after_replace));
	assert_true(f.versions_complete);
	assert_int_equal(f.versions_through, 9);
	assert_string_equal(f.versions[2].digest, "3f9a1c0b7e21");
	assert_string_equal(f.versions[1].digest, "");

	/* Publishing the next numbers advances through. */
	add(&f, 10, MARK_A);
	add(&f, 11, MARK_B);
	assert_numbers(&f, after_adds, nitems(after_adds));
	assert_true(f.versions_complete);
	assert_int_equal(f.versions_through, 11);
	assert_string_equal(f.versions[4].digest, "aaaabbbbcccc");
	assert_string_equal(f.versions[4].commit, "");

	/* A gap: someone else published 12. The cache is no longer complete, through stays,
	 * and later adds do not make it complete again. */
	add(&f, 13, MARK_A);
	assert_numbers(&f, after_gap, nitems(after_gap));
	assert_false(f.versions_complete);
	assert_int_equal(f.versions_through, 11);
	add(&f, 14, MARK_A);
	assert_false(f.versions_complete);
	assert_int_equal(f.versions_through, 11);
	state_version_remove(&f, 14);

	/* A number already cached is replaced (and its mark parsed again). */
	add(&f, 10, MARK_C);
	assert_numbers(&f, after_gap, nitems(after_gap));
	assert_string_equal(f.versions[3].description, MARK_C);
	assert_string_equal(f.versions[3].digest, "0123456789ab");
	assert_string_equal(f.versions[3].commit, "feedfacecafe");
	add(&f, 10, "edited by hand");
	assert_string_equal(f.versions[3].digest, "");
	assert_string_equal(f.versions[3].commit, "");

	/* Below through, inserted in order. */
	add(&f, 1, NULL);
	assert_numbers(&f, after_low, nitems(after_low));

	/* Removing: a missing number is nothing; through does not move. */
	state_version_remove(&f, 5);
	state_version_remove(&f, 5);
	state_version_remove(&f, 100);
	assert_numbers(&f, after_remove, nitems(after_remove));
	assert_int_equal(f.versions_through, 11);

	/* A fresh listing makes it complete again, and can shrink it to nothing. */
	version_set(&list[0], 13, MARK_A, NULL);
	version_set(&list[1], 12, NULL, NULL);
	state_versions_replace(&f, list, 2);
	assert_true(f.versions_complete);
	assert_int_equal(f.versions_through, 13);
	assert_int_equal(f.nversions, 2);
	state_version_remove(&f, 12);
	state_version_remove(&f, 13);
	assert_int_equal(f.nversions, 0);
	assert_null(f.versions);
	assert_int_equal(f.versions_through, 13);
	add(&f, 14, MARK_A);
	assert_true(f.versions_complete);
	assert_int_equal(f.versions_through, 14);
	state_function_clear(&f);
	assert_null(f.versions);
	assert_int_equal(f.nversions, 0);
}

struct walk {
	char seen[16][128];
	size_t n;
	size_t stop_at; /* return 9 after this many; 0: never */
};

static int
walk_visit(const char *region, const char *name, const struct state_function *f, void *arg)
{
	struct walk *w = arg;

	assert_true(w->n < 16);
	snprintf(w->seen[w->n++], sizeof(w->seen[0]), "%s/%s:%s:%zu", region, name,
	    f->quarantine_digest != NULL ? "q" : "-", f->nversions);
	return w->stop_at > 0 && w->n == w->stop_at ? 9 : 0;
}

static void
test_state__walk(void **state)
{
	static const char *const want[] = {"eu-west-1/zeta:q:3", "us-east-1/Alpha:-:0",
	    "us-east-1/alpha:q:3", "us-east-1/beta:-:0", "us-east-1/broken:-:0"};
	struct state *st, *other = NULL;
	struct state_function f, empty;
	struct err err = ERR_INIT;
	struct walk w;
	size_t i;

	(void)state;
	/* No directory at all: no functions. */
	memset(&w, 0, sizeof(w));
	snprintf(root + strlen(root), sizeof(root) - strlen(root), "/none");
	assert_int_equal(state_read_each_function(root, walk_visit, &w, &err), 0);
	assert_int_equal(w.n, 0);
	root[strlen(root) - strlen("/none")] = '\0';

	st = open_ok();
	assert_int_equal(state_read_each_function(root, walk_visit, &w, &err), 0);
	assert_int_equal(w.n, 0);
	fill(&f);
	memset(&empty, 0, sizeof(empty));
	assert_int_equal(state_save_function(st, "us-east-1", "beta", &empty, &err), 0);
	assert_int_equal(state_save_function(st, "us-east-1", "alpha", &f, &err), 0);
	assert_int_equal(state_save_function(st, "us-east-1", "Alpha", &empty, &err), 0);
	assert_int_equal(state_save_function(st, "eu-west-1", "zeta", &f, &err), 0);
	state_function_clear(&f);
	/* Not functions: a leftover temporary file, other suffixes, names Lambda would not
	 * take, a file where a region would be. A corrupt file is a function read as empty. */
	put("functions/us-east-1/.alpha.json.Xy12Zq", "{", 1);
	put("functions/us-east-1/notes.txt", "x", 1);
	put("functions/us-east-1/a.b.json", "{}", 2);
	put("functions/us-east-1/.json", "{}", 2);
	put("functions/us-east-1/broken.json", "{", 1);
	put("functions/README", "x", 1);
	assert_int_equal(mkdir(path_of("functions/Bad_Region"), 0700), 0);
	put("functions/Bad_Region/x.json", "{}", 2);

	/* The walk takes no lock: it works while this handle holds it. */
	log_init(LOG_LEVEL_ERROR, false, STDERR_FILENO);
	memset(&w, 0, sizeof(w));
	assert_int_equal(state_read_each_function(root, walk_visit, &w, &err), 0);
	assert_int_equal(w.n, nitems(want));
	for (i = 0; i < nitems(want); i++)
		assert_string_equal(w.seen[i], want[i]);
	assert_int_equal(state_open(&other, root, &err), ERR_CONFLICT);

	/* A nonzero return stops the walk and is returned. */
	memset(&w, 0, sizeof(w));
	w.stop_at = 2;
	assert_int_equal(state_read_each_function(root, walk_visit, &w, &err), 9);
	assert_int_equal(w.n, 2);
	state_close(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_state__lock, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_state__save_load, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_state__corrupt, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_state__names, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_state__version_cache, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_state__walk, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
