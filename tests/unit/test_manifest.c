/*
 * deploy/manifest: appending records and reading them back, against real files in a
 * temporary state directory: the line format, month files, partial lines left by a
 * crash, the line cap, and that every record is fsynced.
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
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/log.h"
#include "deploy/manifest.h"
#include "tests/lib/tmpdir.h"

/* 2026-11-22T10:15:02.481Z */
#define T_NOV 1795342502.481
/* 2026-11-30T23:59:59Z, 2026-12-01T00:00:00Z, 2027-01-01T00:00:00Z */
#define T_NOV_END 1796083199.0
#define T_DEC 1796083200.0
#define T_JAN 1798761600.0

static char root[256];

/*
 * fsync(), interposed for the whole test program (the library's calls resolve to this
 * definition): it counts the calls and can be told to fail, so that the tests can see
 * each record made durable and an fsync error reported.
 */
static int fsync_calls;
static int fsync_fail; /* fail the call with this number (fsync_calls after it), or 0 */

int
fsync(int fd)
{
	fsync_calls++;
	if (fsync_calls == fsync_fail) {
		errno = EIO;
		return -1;
	}
	return (int)syscall(SYS_fsync, fd);
}

static int
setup(void **state)
{
	(void)state;
	fsync_calls = 0;
	fsync_fail = 0;
	return tmpdir_make(root, sizeof(root), "tether-manifest");
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

/* The whole file, NUL-terminated (caller frees); NULL when it does not exist. */
static char *
slurp(const char *rel, size_t *len)
{
	FILE *f = fopen(path_of(rel), "rb");
	char *data;
	long n;

	if (f == NULL)
		return NULL;
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	data = malloc((size_t)n + 1);
	assert_non_null(data);
	assert_int_equal(fread(data, 1, (size_t)n, f), (size_t)n);
	data[n] = '\0';
	fclose(f);
	if (len != NULL)
		*len = (size_t)n;
	return data;
}

static void
append_raw(const char *rel, const char *data)
{
	int fd = open(path_of(rel), O_WRONLY | O_APPEND);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, strlen(data)), (ssize_t)strlen(data));
	close(fd);
}

static size_t
count_lines(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

/* What the reader saw. */
struct seen {
	json_t *records; /* array of the records */
	char lines[8][1024];
	size_t nlines;
	int stop_after; /* return 7 after this many records; 0: never */
};

static int
collect(json_t *record, const char *line, size_t len, void *arg)
{
	struct seen *s = arg;

	assert_int_equal(strlen(line), len);
	json_array_append(s->records, record);
	if (s->nlines < 8)
		snprintf(s->lines[s->nlines++], sizeof(s->lines[0]), "%.*s", (int)len, line);
	if (s->stop_after > 0 && json_array_size(s->records) == (size_t)s->stop_after)
		return 7;
	return 0;
}

static int
read_all(struct seen *s, size_t *skipped)
{
	struct err err = ERR_INIT;
	int rc;

	memset(s, 0, sizeof(*s));
	s->records = json_array();
	rc = manifest_read_lines(root, collect, s, skipped, &err);
	if (rc < 0 && rc != ERR_FAIL)
		fail_msg("unexpected code %d", rc);
	return rc;
}

/* read_all(), with what it logs captured in logged (NUL-terminated); logs go to stderr
 * again after. */
static void
read_all_logged(struct seen *s, size_t *skipped, char *logged, size_t cap)
{
	ssize_t n;
	int p[2];

	assert_int_equal(pipe(p), 0);
	log_init(LOG_LEVEL_INFO, false, p[1]);
	assert_int_equal(read_all(s, skipped), 0);
	log_init(LOG_LEVEL_INFO, false, STDERR_FILENO);
	close(p[1]);
	n = read(p[0], logged, cap - 1);
	assert_true(n > 0);
	logged[n] = '\0';
	close(p[0]);
}

static const char *
str_at(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	assert_non_null(v);
	return json_is_null(v) ? NULL : json_string_value(v);
}

static struct manifest_record
record_at(double time, const char *function, const char *action)
{
	struct manifest_record r;

	memset(&r, 0, sizeof(r));
	r.time = time;
	r.commit = "8e4f2a1c0b7e99aa";
	r.function = function;
	r.region = "us-east-1";
	r.action = action;
	r.outcome = "ok";
	return r;
}

static void
append_ok(struct manifest *m, const struct manifest_record *r)
{
	struct err err = ERR_INIT;

	if (manifest_append(m, r, &err) != 0)
		fail_msg("manifest_append: %s", err.message);
}

static void
test_manifest__round_trip(void **state)
{
	struct manifest *m = NULL;
	struct manifest_record r, bare;
	struct err err = ERR_INIT;
	struct seen s;
	size_t skipped = 99;
	json_t *rec, *before, *after;
	char *text;

	(void)state;
	assert_int_equal(manifest_open(&m, root, &err), 0);
	memset(&r, 0, sizeof(r));
	r.time = T_NOV;
	r.commit = "8e4f2a1c0b7e11223344556677889900aabbccdd";
	r.ref = "main";
	r.function = "orders-api";
	r.region = "us-east-1";
	r.action = "update_alias";
	r.digest = "3f9a1c0b7e21ffff";
	r.why = "live: 17 -> 18 (canary \"10%\")\nsecond line";
	r.before.version = "17";
	r.before.image = "1.dkr.ecr/orders@sha256:aa";
	r.before.code_sha256 = "c0de=";
	r.before.revision_id = "rev-1";
	r.after.version = "17";
	r.after.routing_version = "18";
	r.after.routing_weight = 0.1;
	r.after.revision_id = "rev-2";
	r.request_id = "c0ffee";
	r.outcome = "failed";
	r.error = "ResourceConflictException: in progress";
	r.duration_ms = 41.25;
	append_ok(m, &r);

	/* The fewest fields: both sides and every optional string null, a whole duration. */
	bare = record_at(T_NOV + 1, "receipt-worker", "blocked");
	bare.commit = NULL;
	bare.duration_ms = 3;
	append_ok(m, &bare);
	manifest_close(m);

	/* The line exactly: member order, milliseconds, one decimal, routing_weight only
	 * with a routing version, a side with nothing known as null, escapes. */
	text = slurp("manifests/2026-11.jsonl", NULL);
	assert_non_null(text);
	assert_string_equal(text,
	    "{\"time\":\"2026-11-22T10:15:02.481Z\","
	    "\"commit\":\"8e4f2a1c0b7e11223344556677889900aabbccdd\",\"ref\":\"main\","
	    "\"function\":\"orders-api\",\"region\":\"us-east-1\",\"action\":\"update_alias\","
	    "\"digest\":\"3f9a1c0b7e21ffff\","
	    "\"why\":\"live: 17 -> 18 (canary \\\"10%\\\")\\nsecond line\","
	    "\"before\":{\"version\":\"17\",\"routing_version\":null,"
	    "\"image\":\"1.dkr.ecr/orders@sha256:aa\",\"code_sha256\":\"c0de=\","
	    "\"revision_id\":\"rev-1\"},"
	    "\"after\":{\"version\":\"17\",\"routing_version\":\"18\",\"routing_weight\":0.1,"
	    "\"image\":null,\"code_sha256\":null,\"revision_id\":\"rev-2\"},"
	    "\"request_id\":\"c0ffee\",\"outcome\":\"failed\","
	    "\"error\":\"ResourceConflictException: in progress\",\"duration_ms\":41.2}\n"
	    "{\"time\":\"2026-11-22T10:15:03.481Z\",\"commit\":null,\"ref\":null,"
	    "\"function\":\"receipt-worker\",\"region\":\"us-east-1\",\"action\":\"blocked\","
	    "\"digest\":null,\"why\":null,\"before\":null,\"after\":null,\"request_id\":null,"
	    "\"outcome\":\"ok\",\"error\":null,\"duration_ms\":3.0}\n");
	free(text);

	/* Read back: every field, and the lines as stored. */
	assert_int_equal(read_all(&s, &skipped), 0);
	assert_int_equal(skipped, 0);
	assert_int_equal(json_array_size(s.records), 2);
	rec = json_array_get(s.records, 0);
	assert_string_equal(str_at(rec, "time"), "2026-11-22T10:15:02.481Z");
	assert_string_equal(str_at(rec, "commit"), r.commit);
	assert_string_equal(str_at(rec, "ref"), "main");
	assert_string_equal(str_at(rec, "function"), "orders-api");
	assert_string_equal(str_at(rec, "region"), "us-east-1");
	assert_string_equal(str_at(rec, "action"), "update_alias");
	assert_string_equal(str_at(rec, "digest"), r.digest);
	assert_string_equal(str_at(rec, "why"), r.why);
	assert_string_equal(str_at(rec, "request_id"), "c0ffee");
	assert_string_equal(str_at(rec, "outcome"), "failed");
	assert_string_equal(str_at(rec, "error"), r.error);
	assert_true(json_real_value(json_object_get(rec, "duration_ms")) == 41.2);
	before = json_object_get(rec, "before");
	after = json_object_get(rec, "after");
	assert_string_equal(str_at(before, "version"), "17");
	assert_null(str_at(before, "routing_version"));
	assert_null(json_object_get(before, "routing_weight"));
	assert_string_equal(str_at(before, "image"), r.before.image);
	assert_string_equal(str_at(before, "code_sha256"), "c0de=");
	assert_string_equal(str_at(before, "revision_id"), "rev-1");
	assert_string_equal(str_at(after, "version"), "17");
	assert_string_equal(str_at(after, "routing_version"), "18");
	assert_true(json_real_value(json_object_get(after, "routing_weight")) == 0.1);
	assert_null(str_at(after, "image"));
	assert_null(str_at(after, "code_sha256"));
	assert_string_equal(str_at(after, "revision_id"), "rev-2");
	rec = json_array_get(s.records, 1);
	assert_true(json_is_null(json_object_get(rec, "before")));
	assert_true(json_is_null(json_object_get(rec, "after")));
	assert_null(str_at(rec, "commit"));
	assert_null(str_at(rec, "why"));
	assert_true(json_real_value(json_object_get(rec, "duration_ms")) == 3.0);
	assert_int_equal(s.nlines, 2);
	assert_non_null(strstr(s.lines[1], "\"function\":\"receipt-worker\""));
	assert_int_equal(s.lines[1][strlen(s.lines[1]) - 1], '}');
	json_decref(s.records);

	/* The visitor's nonzero value stops the reading and is returned. */
	memset(&s, 0, sizeof(s));
	s.records = json_array();
	s.stop_after = 1;
	assert_int_equal(manifest_read_lines(root, collect, &s, NULL, &err), 7);
	assert_int_equal(json_array_size(s.records), 1);
	json_decref(s.records);
}

static int
count_visit(json_t *record, void *arg)
{
	(void)record;
	(*(int *)arg)++;
	return 0;
}

static void
test_manifest__missing_and_bad_time(void **state)
{
	struct manifest *m = NULL;
	struct manifest_record r = record_at(T_NOV, "f", "publish");
	struct err err = ERR_INIT;
	size_t skipped = 5;
	int n = 0;
	char *text;

	(void)state;
	/* No manifests yet: no records, no error. */
	assert_int_equal(manifest_read(root, count_visit, &n, &skipped, &err), 0);
	assert_int_equal(n, 0);
	assert_int_equal(skipped, 0);

	/* The state directory itself is created when missing; the manifests folder is 0700. */
	snprintf(root + strlen(root), sizeof(root) - strlen(root), "/state");
	assert_int_equal(manifest_open(&m, root, &err), 0);
	r.time = -1;
	assert_int_equal(manifest_append(m, &r, &err), ERR_FAIL);
	assert_non_null(strstr(err.message, "not a time"));
	r.time = 1e300;
	assert_int_equal(manifest_append(m, &r, &err), ERR_FAIL);
	r.time = T_NOV;
	r.duration_ms = 0.05; /* rounds to one decimal */
	append_ok(m, &r);
	manifest_close(m);
	text = slurp("manifests/2026-11.jsonl", NULL);
	assert_non_null(text);
	assert_non_null(strstr(text, "\"duration_ms\":0.1}\n"));
	free(text);
	assert_int_equal(manifest_read(root, count_visit, &n, NULL, &err), 0);
	assert_int_equal(n, 1);
	/* Leave the temporary directory's name as it was for the teardown. */
	root[strlen(root) - strlen("/state")] = '\0';
}

static void
test_manifest__months(void **state)
{
	struct manifest *m = NULL;
	struct manifest_record r;
	struct err err = ERR_INIT;
	struct seen s;
	struct stat sb;
	char *text;
	size_t i;
	static const char *const order[] = {"a", "b", "e", "c", "d"};

	(void)state;
	assert_int_equal(manifest_open(&m, root, &err), 0);
	assert_int_equal(stat(path_of("manifests"), &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	r = record_at(T_NOV_END, "a", "publish");
	append_ok(m, &r);
	/* 999.6 ms after the last second of November rounds into December: the time written
	 * and the file chosen agree. */
	r = record_at(T_NOV_END + 0.9996, "b", "publish");
	append_ok(m, &r);
	r = record_at(T_JAN, "c", "publish");
	append_ok(m, &r);
	manifest_close(m);

	/* A later writer appends to the month's existing file; going back a month works. */
	assert_int_equal(manifest_open(&m, root, &err), 0);
	r = record_at(T_JAN + 60, "d", "publish");
	append_ok(m, &r);
	r = record_at(T_DEC + 3600, "e", "publish");
	append_ok(m, &r);
	manifest_close(m);

	text = slurp("manifests/2026-11.jsonl", NULL);
	assert_non_null(text);
	assert_int_equal(count_lines(text), 1);
	assert_non_null(strstr(text, "\"time\":\"2026-11-30T23:59:59.000Z\""));
	free(text);
	text = slurp("manifests/2026-12.jsonl", NULL);
	assert_non_null(text);
	assert_int_equal(count_lines(text), 2);
	assert_non_null(strstr(text, "\"time\":\"2026-12-01T00:00:00.000Z\""));
	free(text);
	text = slurp("manifests/2027-01.jsonl", NULL);
	assert_non_null(text);
	assert_int_equal(count_lines(text), 2);
	free(text);
	assert_int_equal(stat(path_of("manifests/2027-01.jsonl"), &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);

	/* Oldest file first, lines in file order. Other files are not manifests. */
	text = path_of("manifests/notes.txt");
	assert_int_equal(close(open(text, O_CREAT | O_WRONLY, 0600)), 0);
	assert_int_equal(read_all(&s, NULL), 0);
	assert_int_equal(json_array_size(s.records), nitems(order));
	for (i = 0; i < nitems(order); i++)
		assert_string_equal(str_at(json_array_get(s.records, i), "function"), order[i]);
	json_decref(s.records);
}

static void
test_manifest__partial_line(void **state)
{
	struct manifest *m = NULL;
	struct manifest_record r;
	struct err err = ERR_INIT;
	struct seen s;
	size_t skipped = 0;
	char logged[4096], *text, *want;

	(void)state;
	assert_int_equal(manifest_open(&m, root, &err), 0);
	r = record_at(T_NOV, "first", "publish");
	append_ok(m, &r);
	manifest_close(m);

	/* A crash in the middle of a write: half a record, no newline. */
	append_raw(
	    "manifests/2026-11.jsonl", "{\"time\":\"2026-11-22T10:16:00.000Z\",\"commit\":\"8e");
	read_all_logged(&s, &skipped, logged, sizeof(logged));
	assert_int_equal(json_array_size(s.records), 1);
	assert_int_equal(skipped, 1);
	want = path_of("manifests/2026-11.jsonl:2: skipped a partial record");
	assert_non_null(strstr(logged, want));
	json_decref(s.records);

	/* The next writer starts its record on a new line, and it parses. */
	assert_int_equal(manifest_open(&m, root, &err), 0);
	r = record_at(T_NOV + 120, "second", "publish");
	append_ok(m, &r);
	r = record_at(T_NOV + 180, "third", "publish");
	append_ok(m, &r);
	manifest_close(m);
	text = slurp("manifests/2026-11.jsonl", NULL);
	assert_non_null(text);
	assert_int_equal(count_lines(text), 4);
	assert_non_null(strstr(text, "\"commit\":\"8e\n{\"time\":\"2026-11-22T10:17:02.481Z\""));
	free(text);
	assert_int_equal(read_all(&s, &skipped), 0);
	assert_int_equal(skipped, 1);
	assert_int_equal(json_array_size(s.records), 3);
	assert_string_equal(str_at(json_array_get(s.records, 1), "function"), "second");
	assert_string_equal(str_at(json_array_get(s.records, 2), "function"), "third");
	json_decref(s.records);

	/* A last record whose newline alone was lost is whole: it is read, and the writer
	 * still starts on a new line. A blank line is no record. */
	append_raw("manifests/2026-11.jsonl",
	    "\n{\"time\":\"2026-11-22T10:20:00.000Z\",\"function\":\"fourth\"}");
	assert_int_equal(read_all(&s, &skipped), 0);
	assert_int_equal(skipped, 2);
	assert_int_equal(json_array_size(s.records), 4);
	assert_string_equal(str_at(json_array_get(s.records, 3), "function"), "fourth");
	json_decref(s.records);
	assert_int_equal(manifest_open(&m, root, &err), 0);
	r = record_at(T_NOV + 600, "fifth", "publish");
	append_ok(m, &r);
	manifest_close(m);
	assert_int_equal(read_all(&s, &skipped), 0);
	assert_int_equal(skipped, 2);
	assert_int_equal(json_array_size(s.records), 5);
	assert_string_equal(str_at(json_array_get(s.records, 4), "function"), "fifth");
	json_decref(s.records);

	/* A line that is JSON but not an object is skipped the same way. */
	append_raw("manifests/2026-11.jsonl", "[1,2]\n");
	assert_int_equal(read_all(&s, &skipped), 0);
	assert_int_equal(skipped, 3);
	json_decref(s.records);
}

/* A file of junk: every line is counted, only the first 10 are named, then a total. */
static void
test_manifest__junk_lines(void **state)
{
	struct manifest *m = NULL;
	struct manifest_record r;
	struct err err = ERR_INIT;
	struct seen s;
	size_t skipped = 0, named = 0;
	char logged[16384], *at, *want;
	int i;

	(void)state;
	assert_int_equal(manifest_open(&m, root, &err), 0);
	r = record_at(T_NOV, "first", "publish");
	append_ok(m, &r);
	manifest_close(m);
	for (i = 0; i < 1000; i++)
		append_raw("manifests/2026-11.jsonl", "not a record\n");
	read_all_logged(&s, &skipped, logged, sizeof(logged));
	assert_int_equal(json_array_size(s.records), 1);
	assert_int_equal(skipped, 1000);
	for (at = logged; (at = strstr(at, "skipped a partial record")) != NULL; at++)
		named++;
	assert_int_equal(named, 10);
	want = path_of("manifests/2026-11.jsonl:11: skipped a partial record");
	assert_non_null(strstr(logged, want));
	want = path_of("manifests/2026-11.jsonl:12: skipped");
	assert_null(strstr(logged, want));
	want = path_of("manifests: skipped 1000 lines in all");
	assert_non_null(strstr(logged, want));
	json_decref(s.records);
}

static void
test_manifest__line_cap(void **state)
{
	struct manifest *m = NULL;
	struct manifest_record r;
	struct err err = ERR_INIT;
	struct seen s;
	size_t base, len, skipped = 0;
	char *why, *text, *big;
	int fd;

	(void)state;
	assert_int_equal(manifest_open(&m, root, &err), 0);
	r = record_at(T_NOV, "f", "publish");
	r.why = "";
	append_ok(m, &r);
	text = slurp("manifests/2026-11.jsonl", &base); /* the line with an empty why */
	free(text);

	/* A why that makes the line exactly MANIFEST_LINE_MAX bytes (newline included) fits;
	 * one more byte is refused and nothing is written. */
	why = malloc(MANIFEST_LINE_MAX + 1);
	assert_non_null(why);
	memset(why, 'w', MANIFEST_LINE_MAX);
	why[MANIFEST_LINE_MAX - base] = '\0';
	r.why = why;
	append_ok(m, &r);
	text = slurp("manifests/2026-11.jsonl", &len);
	assert_int_equal(len, base + MANIFEST_LINE_MAX);
	free(text);
	why[MANIFEST_LINE_MAX - base] = 'w';
	why[MANIFEST_LINE_MAX - base + 1] = '\0';
	assert_int_equal(manifest_append(m, &r, &err), ERR_TOOBIG);
	assert_non_null(strstr(err.message, "longer than"));
	why[MANIFEST_LINE_MAX] = '\0';
	assert_int_equal(manifest_append(m, &r, &err), ERR_TOOBIG);
	text = slurp("manifests/2026-11.jsonl", &len);
	assert_int_equal(len, base + MANIFEST_LINE_MAX);
	free(text);
	/* A month file is not created for a refused record. */
	r.time = T_JAN;
	assert_int_equal(manifest_append(m, &r, &err), ERR_TOOBIG);
	assert_null(slurp("manifests/2027-01.jsonl", NULL));
	manifest_close(m);
	free(why);

	/* Reading: the longest line is a record; a longer one, written by hand, is skipped
	 * without ending the file, even though it is valid JSON (4 caps of blanks and then
	 * an object): the reader does not keep what passes the cap. */
	assert_int_equal(read_all(&s, &skipped), 0);
	assert_int_equal(skipped, 0);
	assert_int_equal(json_array_size(s.records), 2);
	json_decref(s.records);
	len = 4 * MANIFEST_LINE_MAX;
	big = malloc(len + 1);
	assert_non_null(big);
	memset(big, ' ', len);
	memcpy(big + len - 32, "{\"function\":\"smuggled\"}", 23);
	big[len - 1] = '\n';
	big[len] = '\0';
	fd = open(path_of("manifests/2026-11.jsonl"), O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, big, len), (ssize_t)len);
	close(fd);
	free(big);
	assert_int_equal(manifest_open(&m, root, &err), 0);
	r = record_at(T_NOV + 5, "after-big", "publish");
	append_ok(m, &r);
	manifest_close(m);
	log_init(LOG_LEVEL_ERROR, false, STDERR_FILENO);
	assert_int_equal(read_all(&s, &skipped), 0);
	assert_int_equal(skipped, 1);
	assert_int_equal(json_array_size(s.records), 3);
	assert_string_equal(str_at(json_array_get(s.records, 2), "function"), "after-big");
	json_decref(s.records);
}

static void
test_manifest__fsync(void **state)
{
	struct manifest *m = NULL;
	struct manifest_record r;
	struct err err = ERR_INIT;
	struct seen s;
	size_t skipped;

	(void)state;
	/* Creating manifests/ makes its entry durable in the state directory. */
	assert_int_equal(manifest_open(&m, root, &err), 0);
	assert_int_equal(fsync_calls, 1);
	/* A new file: the record, then the directory holding the new entry. */
	r = record_at(T_NOV, "f", "publish");
	append_ok(m, &r);
	assert_int_equal(fsync_calls, 3);
	/* An existing file: the record only. */
	append_ok(m, &r);
	assert_int_equal(fsync_calls, 4);
	/* A failed fsync is an error naming the file. */
	fsync_calls = 0;
	fsync_fail = 1;
	assert_int_equal(manifest_append(m, &r, &err), ERR_FAIL);
	assert_non_null(strstr(err.message, "2026-11.jsonl: fsync:"));
	/* A new month whose directory fsync fails reports it, and the next record makes the
	 * directory durable again. */
	r.time = T_DEC;
	fsync_calls = 0;
	fsync_fail = 2;
	assert_int_equal(manifest_append(m, &r, &err), ERR_FAIL);
	assert_non_null(strstr(err.message, "/manifests: fsync:"));
	fsync_calls = 0;
	fsync_fail = 0;
	append_ok(m, &r);
	assert_int_equal(fsync_calls, 2);
	append_ok(m, &r);
	assert_int_equal(fsync_calls, 3);
	manifest_close(m);

	/* Records whose fsync failed were written all the same: 3 in November, 3 in
	 * December. */
	assert_int_equal(read_all(&s, &skipped), 0);
	assert_int_equal(json_array_size(s.records), 6);
	assert_int_equal(skipped, 0);
	json_decref(s.records);

	/* An unreadable manifest is an error (a directory where a file should be). */
	assert_int_equal(mkdir(path_of("manifests/2027-02.jsonl"), 0700), 0);
	assert_int_equal(read_all(&s, &skipped), ERR_FAIL);
	assert_int_equal(json_array_size(s.records), 6);
	json_decref(s.records);
}

/*
 * Run "$TETHER_BIN history ARGS..." with stdout into out and stderr into err_out; returns
 * the exit status.
 */
static int
run_history(const char *const *args, char *out, size_t size, char *err_out, size_t err_size)
{
	const char *bin = getenv("TETHER_BIN");
	char *argv[16];
	char errpath[512];
	size_t i, n = 0;
	ssize_t got;
	pid_t pid;
	int p[2], status, fd;
	FILE *f;

	if (bin == NULL || access(bin, X_OK) != 0)
		fail_msg("TETHER_BIN (%s) is not an executable: build the tether target", bin);
	argv[0] = (char *)bin;
	argv[1] = (char *)"history";
	for (i = 0; args[i] != NULL && i < 12; i++)
		argv[i + 2] = (char *)args[i];
	argv[i + 2] = NULL;
	snprintf(errpath, sizeof(errpath), "%s/stderr", root);
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || dup2(p[1], 1) < 0 || dup2(fd, 2) < 0)
			_exit(127);
		close(p[0]);
		execv(bin, argv);
		_exit(127);
	}
	close(p[1]);
	for (;;) {
		got = read(p[0], out + n, size - 1 - n);
		if (got < 0 && errno == EINTR)
			continue;
		assert_true(got >= 0);
		if (got == 0)
			break;
		n += (size_t)got;
		assert_true(n < size - 1);
	}
	out[n] = '\0';
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	f = fopen(errpath, "r");
	assert_non_null(f);
	n = fread(err_out, 1, err_size - 1, f);
	err_out[n] = '\0';
	fclose(f);
	unlink(errpath);
	return WEXITSTATUS(status);
}

static void
test_manifest__history(void **state)
{
	struct manifest *m = NULL;
	struct manifest_record r;
	struct err err = ERR_INIT;
	char out[8192], errs[4096], dir[300], missing[300], want[600];
	const char *args[8];

	(void)state;
	assert_int_equal(manifest_open(&m, root, &err), 0);
	r = record_at(T_NOV, "orders-api", "publish");
	r.commit = "8e4f2a1c0b7e11223344556677889900aabbccdd";
	r.why = "no version holds d=3f9a1c0b7e21";
	r.after.version = "18";
	r.after.image = "1.dkr.ecr/orders@sha256:aa";
	append_ok(m, &r);
	r = record_at(T_NOV + 1.6, "receipt-worker", "update_code");
	r.why = "image :v41 -> :v42\n(pinned)";
	r.before.image = "1.dkr.ecr/worker:v41";
	r.after.image = "1.dkr.ecr/worker:v42";
	r.outcome = "failed";
	r.error = "InvalidParameterValueException: no";
	append_ok(m, &r);
	r = record_at(T_DEC, "orders-api", "update_alias");
	r.commit = "abc";
	r.why = "live: canary 10%";
	r.before.version = "17";
	r.after.version = "17";
	r.after.routing_version = "18";
	r.after.routing_weight = 0.1;
	append_ok(m, &r);
	r = record_at(T_DEC + 2, "orders-api", "delete_version");
	r.commit = NULL;
	r.before.version = "5";
	r.outcome = "skipped";
	append_ok(m, &r);
	r = record_at(T_DEC + 3, "orders-api", "blocked");
	append_ok(m, &r);
	manifest_close(m);
	append_raw("manifests/2026-12.jsonl", "{\"time\":\"2026-12-01T00:01");

	snprintf(dir, sizeof(dir), "%s", root);
	args[0] = "--state-dir";
	args[1] = dir;
	args[2] = NULL;
	assert_int_equal(run_history(args, out, sizeof(out), errs, sizeof(errs)), 0);
	assert_string_equal(out,
	    "2026-11-22T10:15:02Z  orders-api  us-east-1  publish  ok  8e4f2a1c0b7e  -> 18  "
	    "no version holds d=3f9a1c0b7e21\n"
	    "2026-11-22T10:15:04Z  receipt-worker  us-east-1  update_code  failed  8e4f2a1c0b7e  "
	    "1.dkr.ecr/worker:v41 -> 1.dkr.ecr/worker:v42  image :v41 -> :v42 (pinned)\n"
	    "2026-12-01T00:00:00Z  orders-api  us-east-1  update_alias  ok  abc  "
	    "17 -> 17+18@0.1  live: canary 10%\n"
	    "2026-12-01T00:00:02Z  orders-api  us-east-1  delete_version  skipped  -  5 ->  -\n"
	    "2026-12-01T00:00:03Z  orders-api  us-east-1  blocked  ok  8e4f2a1c0b7e  -  -\n");
	snprintf(
	    want, sizeof(want), "%s/manifests/2026-12.jsonl:4: skipped a partial record", root);
	assert_non_null(strstr(errs, want));

	/* One function, as stored. */
	args[2] = "--function";
	args[3] = "receipt-worker";
	args[4] = "--output";
	args[5] = "json";
	args[6] = NULL;
	assert_int_equal(run_history(args, out, sizeof(out), errs, sizeof(errs)), 0);
	assert_int_equal(count_lines(out), 1);
	assert_true(strncmp(out, "{\"time\":\"2026-11-22T10:15:04.081Z\",", 35) == 0);
	assert_non_null(strstr(out, "\"why\":\"image :v41 -> :v42\\n(pinned)\""));
	assert_non_null(strstr(out, "\"duration_ms\":0.0}\n"));
	args[3] = "nobody";
	assert_int_equal(run_history(args, out, sizeof(out), errs, sizeof(errs)), 0);
	assert_string_equal(out, "");

	/* A state directory that does not exist, or a manifest that cannot be read: 1. */
	snprintf(missing, sizeof(missing), "%s/missing", root);
	args[1] = missing;
	args[2] = NULL;
	assert_int_equal(run_history(args, out, sizeof(out), errs, sizeof(errs)), 1);
	assert_non_null(strstr(errs, "No such file or directory"));
	args[1] = dir;
	assert_int_equal(mkdir(path_of("manifests/2027-02.jsonl"), 0700), 0);
	assert_int_equal(run_history(args, out, sizeof(out), errs, sizeof(errs)), 1);
	assert_non_null(strstr(errs, "2027-02.jsonl: read:"));
	assert_int_equal(rmdir(path_of("manifests/2027-02.jsonl")), 0);
	/* Arguments are a usage error. */
	args[2] = "extra";
	args[3] = NULL;
	assert_int_equal(run_history(args, out, sizeof(out), errs, sizeof(errs)), 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_manifest__round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_manifest__missing_and_bad_time, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_manifest__months, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_manifest__partial_line, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_manifest__junk_lines, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_manifest__line_cap, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_manifest__fsync, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_manifest__history, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
