/*
 * The Prometheus registry: validation, exact expositions of small registries, escaping,
 * float formatting, the per-family child cap, and promtool's verdict on a registry with
 * every family type. promtool (Debian package prometheus, installed by scripts/setup) is
 * required: without it the test fails, it never skips.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/xmalloc.h"
#include "controller/metrics.h"
#include "tests/lib/tmpdir.h"

#define OUT_MAX (1u << 20)

/* Render m into a fresh string (free() it); the render must succeed. */
static char *
render(struct metrics *m)
{
	struct buf b = BUF_INIT(OUT_MAX);

	assert_int_equal(metrics_render(m, &b), 0);
	return buf_detach(&b, NULL);
}

static void
assert_render(struct metrics *m, const char *want)
{
	char *got = render(m);

	if (strcmp(got, want) != 0) {
		print_error("want:\n%s\ngot:\n%s\n", want, got);
		free(got);
		fail();
	}
	free(got);
}

static void
test_metrics__names(void **state)
{
	(void)state;
	assert_true(metrics_name_valid("a"));
	assert_true(metrics_name_valid("_a:b_c9"));
	assert_true(metrics_name_valid(":x"));
	assert_true(metrics_name_valid("tether_reconciles_total"));
	assert_false(metrics_name_valid(""));
	assert_false(metrics_name_valid("9a"));
	assert_false(metrics_name_valid("a-b"));
	assert_false(metrics_name_valid("a b"));
	assert_false(metrics_name_valid("é"));
	assert_false(metrics_name_valid(NULL));

	assert_true(metrics_label_name_valid("a"));
	assert_true(metrics_label_name_valid("_a9"));
	assert_true(metrics_label_name_valid("le"));
	assert_false(metrics_label_name_valid("__name"));
	assert_false(metrics_label_name_valid("__"));
	assert_false(metrics_label_name_valid("a:b"));
	assert_false(metrics_label_name_valid("9"));
	assert_false(metrics_label_name_valid(""));
	assert_false(metrics_label_name_valid("a.b"));
}

static void
test_metrics__register_rejects(void **state)
{
	struct metrics *m = metrics_new();
	const double good[] = {1, 2};
	const double unsorted[] = {2, 1};
	const double equal[] = {1, 1};
	const double inf[] = {1, INFINITY};
	const double nan[] = {NAN};
	double many[METRICS_BUCKETS_MAX + 1];
	char longname[METRICS_NAME_MAX + 2];
	size_t i;

	(void)state;
	for (i = 0; i < nitems(many); i++)
		many[i] = (double)i;
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';

	assert_null(metrics_counter(m, "bad-name_total", "h", NULL));
	assert_null(metrics_counter(m, longname, "h", NULL));
	assert_null(metrics_counter(m, "x_total", NULL, NULL));
	assert_null(metrics_counter(m, "x_total", "h", "__reserved", NULL));
	assert_null(metrics_counter(m, "x_total", "h", "a-b", NULL));
	assert_null(metrics_counter(m, "x_total", "h", "a", "b", "a", NULL));
	assert_null(
	    metrics_counter(m, "x_total", "h", "a", "b", "c", "d", "e", "f", "g", "h", "i", NULL));
	assert_null(metrics_counter(m, METRICS_DROPPED_NAME, "h", NULL));
	assert_null(metrics_histogram(m, "x_seconds", "h", good, 2, "le", NULL));
	assert_null(metrics_histogram(m, "x_seconds", "h", unsorted, 2, NULL));
	assert_null(metrics_histogram(m, "x_seconds", "h", equal, 2, NULL));
	assert_null(metrics_histogram(m, "x_seconds", "h", inf, 2, NULL));
	assert_null(metrics_histogram(m, "x_seconds", "h", nan, 1, NULL));
	assert_null(metrics_histogram(m, "x_seconds", "h", many, nitems(many), NULL));
	assert_null(metrics_histogram(m, "x_seconds", "h", NULL, 2, NULL));

	/* Eight labels are allowed, "le" is fine outside histograms, and names are unique. */
	assert_non_null(
	    metrics_counter(m, "x_total", "h", "a", "b", "c", "d", "e", "f", "g", "le", NULL));
	assert_null(metrics_counter(m, "x_total", "h", NULL));
	assert_null(metrics_gauge(m, "x_total", "h", NULL));
	assert_non_null(metrics_histogram(m, "x_seconds", "h", many, METRICS_BUCKETS_MAX, NULL));
	assert_non_null(metrics_histogram(m, "y_seconds", "h", NULL, 0, NULL));
	metrics_free(m);

	/* The family count is capped. */
	m = metrics_new();
	for (i = 0; i < METRICS_FAMILIES_MAX; i++) {
		char name[32];

		snprintf(name, sizeof(name), "g%zu", i);
		assert_non_null(metrics_gauge(m, name, "h", NULL));
	}
	assert_null(metrics_gauge(m, "one_more", "h", NULL));
	metrics_free(m);
}

static void
test_metrics__render_counter_gauge(void **state)
{
	struct metrics *m = metrics_new();
	struct metric_family *c, *g, *u, *empty;

	(void)state;
	c = metrics_counter(m, "app_requests_total", "Requests handled.", "method", "code", NULL);
	g = metrics_gauge(m, "app_temperature_celsius", "Current temperature.", NULL);
	u = metrics_counter(m, "app_untouched_total", "Never incremented.", NULL);
	empty = metrics_gauge(m, "app_pool_size", "Per pool.", "pool", NULL);
	assert_non_null(c);
	assert_non_null(g);
	assert_non_null(u);
	assert_non_null(empty);
	assert_string_equal(metric_name(c), "app_requests_total");

	assert_int_equal(metric_inc(c, "get", "200", NULL), 0);
	assert_int_equal(metric_inc(c, "get", "200", NULL), 0);
	assert_int_equal(metric_add(c, 2.5, "post", "500", NULL), 0);
	assert_int_equal(metric_inc(c, "delete", "404", NULL), 0);
	assert_int_equal(metric_add(c, 0, "get", "304", NULL), 0);
	/* A counter refuses to go down, or NaN, and creates no child for it. */
	assert_int_equal(metric_add(c, -1, "get", "200", NULL), -1);
	assert_int_equal(metric_add(c, NAN, "put", "200", NULL), -1);
	assert_int_equal(metric_children(c), 4);

	assert_int_equal(metric_set(g, 21.5, NULL), 0);
	assert_int_equal(metric_add(g, -30, NULL), 0);
	assert_int_equal(metric_inc(g, NULL), 0);

	/* Families in registration order, children sorted by label values, the empty labelled
	 * family left out, the untouched unlabelled one exposed as 0. */
	assert_render(m, "# HELP app_requests_total Requests handled.\n"
	                 "# TYPE app_requests_total counter\n"
	                 "app_requests_total{method=\"delete\",code=\"404\"} 1\n"
	                 "app_requests_total{method=\"get\",code=\"200\"} 2\n"
	                 "app_requests_total{method=\"get\",code=\"304\"} 0\n"
	                 "app_requests_total{method=\"post\",code=\"500\"} 2.5\n"
	                 "# HELP app_temperature_celsius Current temperature.\n"
	                 "# TYPE app_temperature_celsius gauge\n"
	                 "app_temperature_celsius -7.5\n"
	                 "# HELP app_untouched_total Never incremented.\n"
	                 "# TYPE app_untouched_total counter\n"
	                 "app_untouched_total 0\n");
	metrics_free(m);
}

static void
test_metrics__render_histogram(void **state)
{
	const double bounds[] = {0.1, 1, 5};
	struct metrics *m = metrics_new();
	struct metric_family *h, *hl;

	(void)state;
	h = metrics_histogram(m, "job_duration_seconds", "Job durations.", bounds, 3, NULL);
	hl = metrics_histogram(m, "rpc_duration_seconds", "RPC durations.", bounds, 3, "op", NULL);
	assert_non_null(h);
	assert_non_null(hl);
	/* On a bound counts in that bucket (le is "less or equal"); above the last, +Inf. */
	assert_int_equal(metric_observe(h, 0.05, NULL), 0);
	assert_int_equal(metric_observe(h, 0.1, NULL), 0);
	assert_int_equal(metric_observe(h, 3, NULL), 0);
	assert_int_equal(metric_observe(h, 7, NULL), 0);
	assert_int_equal(metric_observe(h, NAN, NULL), -1);
	assert_int_equal(metric_observe(hl, 2, "put", NULL), 0);
	assert_int_equal(metric_observe(hl, 0.5, "get", NULL), 0);
	assert_int_equal(metric_observe(hl, 0.25, "get", NULL), 0);

	assert_render(m, "# HELP job_duration_seconds Job durations.\n"
	                 "# TYPE job_duration_seconds histogram\n"
	                 "job_duration_seconds_bucket{le=\"0.1\"} 2\n"
	                 "job_duration_seconds_bucket{le=\"1\"} 2\n"
	                 "job_duration_seconds_bucket{le=\"5\"} 3\n"
	                 "job_duration_seconds_bucket{le=\"+Inf\"} 4\n"
	                 "job_duration_seconds_sum 10.15\n"
	                 "job_duration_seconds_count 4\n"
	                 "# HELP rpc_duration_seconds RPC durations.\n"
	                 "# TYPE rpc_duration_seconds histogram\n"
	                 "rpc_duration_seconds_bucket{op=\"get\",le=\"0.1\"} 0\n"
	                 "rpc_duration_seconds_bucket{op=\"get\",le=\"1\"} 2\n"
	                 "rpc_duration_seconds_bucket{op=\"get\",le=\"5\"} 2\n"
	                 "rpc_duration_seconds_bucket{op=\"get\",le=\"+Inf\"} 2\n"
	                 "rpc_duration_seconds_sum{op=\"get\"} 0.75\n"
	                 "rpc_duration_seconds_count{op=\"get\"} 2\n"
	                 "rpc_duration_seconds_bucket{op=\"put\",le=\"0.1\"} 0\n"
	                 "rpc_duration_seconds_bucket{op=\"put\",le=\"1\"} 0\n"
	                 "rpc_duration_seconds_bucket{op=\"put\",le=\"5\"} 1\n"
	                 "rpc_duration_seconds_bucket{op=\"put\",le=\"+Inf\"} 1\n"
	                 "rpc_duration_seconds_sum{op=\"put\"} 2\n"
	                 "rpc_duration_seconds_count{op=\"put\"} 1\n");
	metrics_free(m);
}

static void
test_metrics__escaping(void **state)
{
	struct metrics *m = metrics_new();
	struct metric_family *c;

	(void)state;
	c = metrics_counter(m, "esc_total", "Back\\slash, \"quotes\" and\na newline.", "v", NULL);
	assert_non_null(c);
	assert_int_equal(metric_inc(c, "a\\b\"c\nd", NULL), 0);
	assert_int_equal(metric_inc(c, "", NULL), 0);
	assert_int_equal(metric_inc(c, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", NULL), 0);
	assert_render(m, "# HELP esc_total Back\\\\slash, \"quotes\" and\\na newline.\n"
	                 "# TYPE esc_total counter\n"
	                 "esc_total{v=\"\"} 1\n"
	                 "esc_total{v=\"a\\\\b\\\"c\\nd\"} 1\n"
	                 "esc_total{v=\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"} 1\n");
	metrics_free(m);
}

static void
check_double(double v, const char *want)
{
	struct buf b = BUF_INIT(64);

	assert_int_equal(metrics_format_double(&b, v), 0);
	assert_string_equal(buf_cstr(&b), want);
	if (isfinite(v))
		assert_true(strtod(buf_cstr(&b), NULL) == v);
	buf_free(&b);
}

static void
test_metrics__floats(void **state)
{
	struct metrics *m = metrics_new();
	struct metric_family *g;
	struct buf tiny = BUF_INIT(2);

	(void)state;
	check_double(0, "0");
	check_double(3, "3");
	check_double(-2, "-2");
	check_double(0.1, "0.1");
	check_double(0.1 + 0.2, "0.30000000000000004");
	check_double(1.0 / 3, "0.3333333333333333");
	check_double(1e-9, "1e-09");
	check_double(1e21, "1e+21");
	check_double(9007199254740993.0, "9007199254740992");
	check_double(1735689600, "1735689600");
	check_double(INFINITY, "+Inf");
	check_double(-INFINITY, "-Inf");
	check_double(NAN, "NaN");
	assert_int_equal(metrics_format_double(&tiny, 0.5), -1);
	buf_free(&tiny);

	g = metrics_gauge(m, "g", "Gauge.", "k", NULL);
	assert_non_null(g);
	assert_int_equal(metric_set(g, INFINITY, "pinf", NULL), 0);
	assert_int_equal(metric_set(g, -INFINITY, "minf", NULL), 0);
	assert_int_equal(metric_set(g, NAN, "nan", NULL), 0);
	assert_render(m, "# HELP g Gauge.\n"
	                 "# TYPE g gauge\n"
	                 "g{k=\"minf\"} -Inf\n"
	                 "g{k=\"nan\"} NaN\n"
	                 "g{k=\"pinf\"} +Inf\n");
	metrics_free(m);
}

static void
test_metrics__children_cap(void **state)
{
	struct metrics *m = metrics_new();
	struct metric_family *c, *g;
	char value[METRICS_LABEL_VALUE_MAX + 2];
	char name[32];
	char *out;
	int i;

	(void)state;
	c = metrics_counter(m, "many_total", "Many.", "id", NULL);
	g = metrics_gauge(m, "other", "Other.", "id", NULL);
	assert_non_null(c);
	assert_non_null(g);
	for (i = 0; i < METRICS_CHILDREN_MAX; i++) {
		snprintf(name, sizeof(name), "f%04d", i);
		assert_int_equal(metric_inc(c, name, NULL), 0);
	}
	assert_int_equal(metric_children(c), METRICS_CHILDREN_MAX);
	/* Existing children still update; new ones are dropped and counted. */
	assert_int_equal(metric_inc(c, "f0500", NULL), 0);
	assert_int_equal(metric_inc(c, "new1", NULL), -1);
	assert_int_equal(metric_inc(c, "new2", NULL), -1);
	assert_int_equal(metric_add(c, 3, "new1", NULL), -1);
	assert_int_equal(metric_children(c), METRICS_CHILDREN_MAX);
	assert_int_equal(metric_dropped(c), 3);

	/* Too long, and not UTF-8: dropped and counted, whatever the cap. */
	memset(value, 'v', sizeof(value) - 1);
	value[sizeof(value) - 1] = '\0';
	assert_int_equal(metric_set(g, 1, value, NULL), -1);
	value[METRICS_LABEL_VALUE_MAX] = '\0';
	assert_int_equal(metric_set(g, 1, value, NULL), 0);
	assert_int_equal(metric_set(g, 1, "\xff", NULL), -1);
	assert_int_equal(metric_set(g, 1, "\xc3", NULL), -1);             /* truncated */
	assert_int_equal(metric_set(g, 1, "\xc0\xaf", NULL), -1);         /* overlong '/' */
	assert_int_equal(metric_set(g, 1, "\xed\xa0\x80", NULL), -1);     /* surrogate */
	assert_int_equal(metric_set(g, 1, "\xf4\x90\x80\x80", NULL), -1); /* > U+10FFFF */
	assert_int_equal(metric_dropped(g), 6);
	assert_int_equal(metric_children(g), 1);

	out = render(m);
	assert_non_null(strstr(out, "many_total{id=\"f0500\"} 2\n"));
	assert_non_null(strstr(out, "many_total{id=\"f0999\"} 1\n"));
	assert_null(strstr(out, "new1"));
	assert_non_null(strstr(out,
	    "# TYPE " METRICS_DROPPED_NAME " counter\n" METRICS_DROPPED_NAME
	    "{metric=\"many_total\"} 3\n" METRICS_DROPPED_NAME "{metric=\"other\"} 6\n"));
	/* The drop counts come last. */
	assert_string_equal(
	    out + strlen(out) - strlen("{metric=\"other\"} 6\n"), "{metric=\"other\"} 6\n");
	free(out);
	metrics_free(m);
}

static int collect_calls;

static void
collect_cb(struct metrics *m, void *arg)
{
	(void)m;
	collect_calls++;
	assert_int_equal(metric_set(arg, collect_calls, NULL), 0);
}

static void
test_metrics__collect_and_cap(void **state)
{
	struct metrics *m = metrics_new();
	struct metric_family *g;
	struct buf small = BUF_INIT(40);

	(void)state;
	g = metrics_gauge(m, "sampled", "Sampled at scrape time.", NULL);
	assert_non_null(g);
	metrics_set_collect(m, collect_cb, g);
	collect_calls = 0;
	assert_render(m, "# HELP sampled Sampled at scrape time.\n"
	                 "# TYPE sampled gauge\n"
	                 "sampled 1\n");
	assert_render(m, "# HELP sampled Sampled at scrape time.\n"
	                 "# TYPE sampled gauge\n"
	                 "sampled 2\n");
	/* Past the buffer's cap the render fails. */
	assert_int_equal(metrics_render(m, &small), -1);
	buf_free(&small);
	metrics_free(m);
	metrics_free(NULL);
}

/* Write text to dir/name and return the path (free() it). */
static char *
write_file(const char *dir, const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	return path;
}

/* Read a whole (small) file into a string (free() it). */
static char *
read_file(const char *path)
{
	struct buf b = BUF_INIT(OUT_MAX);
	char chunk[4096];
	size_t n;
	FILE *f = fopen(path, "r");

	assert_non_null(f);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		assert_int_equal(buf_append(&b, chunk, n), 0);
	assert_int_equal(ferror(f), 0);
	fclose(f);
	return buf_detach(&b, NULL);
}

/* The promtool on PATH; fails the test, with what to install, when there is none. */
static char *
find_promtool(void)
{
	const char *path = getenv("PATH");
	char *copy, *dir, *next, *cand = NULL;

	if (path == NULL || path[0] == '\0')
		path = "/usr/bin:/bin";
	copy = xstrdup(path);
	for (dir = copy; dir != NULL; dir = next) {
		next = strchr(dir, ':');
		if (next != NULL)
			*next++ = '\0';
		cand = xasprintf("%s/promtool", dir[0] != '\0' ? dir : ".");
		if (access(cand, X_OK) == 0)
			break;
		free(cand);
		cand = NULL;
	}
	free(copy);
	if (cand == NULL)
		fail_msg(
		    "promtool not found on PATH: install the Debian package 'prometheus' "
		    "(scripts/setup does); the metrics exposition cannot be checked without it");
	return cand;
}

/*
 * Run "promtool check metrics" with input on stdin and its stdout and stderr into
 * dir/promtool.out. Returns its exit status and *report its output (free() it).
 */
static int
promtool_check(const char *promtool, const char *dir, const char *input, char **report)
{
	char *outpath = xasprintf("%s/promtool.out", dir);
	int in, out, status;
	pid_t pid;

	in = open(input, O_RDONLY | O_CLOEXEC);
	assert_true(in >= 0);
	out = open(outpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(out >= 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
			_exit(126);
		execl(promtool, "promtool", "check", "metrics", (char *)NULL);
		_exit(127);
	}
	close(in);
	close(out);
	while (waitpid(pid, &status, 0) < 0)
		assert_int_equal(errno, EINTR);
	*report = read_file(outpath);
	unlink(outpath);
	free(outpath);
	assert_true(WIFEXITED(status));
	assert_int_not_equal(WEXITSTATUS(status), 127);
	return WEXITSTATUS(status);
}

/* A registry with every family type, tether's own, updated with awkward values. */
static void
fill_tether(struct metrics *m, struct metrics_tether *tp)
{
	struct metrics_tether t;
	struct metric_family *extra;
	int i;

	metrics_register_tether(m, &t);
	*tp = t;
	assert_int_equal(metric_inc(t.reconciles, "converged", NULL), 0);
	assert_int_equal(metric_inc(t.reconciles, "failed", NULL), 0);
	assert_int_equal(metric_observe(t.reconcile_duration, 1.25, NULL), 0);
	assert_int_equal(metric_observe(t.reconcile_duration, 900, NULL), 0);
	assert_int_equal(metric_inc(t.drift_detections, "orders-api", "alias", NULL), 0);
	assert_int_equal(metric_inc(t.drift_detections, "we\"ird\\name\n", "code", NULL), 0);
	assert_int_equal(metric_inc(t.api_requests, "GetFunction", "200", NULL), 0);
	assert_int_equal(metric_inc(t.api_requests, "UpdateAlias", "429", NULL), 0);
	assert_int_equal(metric_inc(t.api_requests, "ListAliases", "error", NULL), 0);
	assert_int_equal(metric_inc(t.api_throttles, "UpdateAlias", NULL), 0);
	assert_int_equal(metric_set(t.api_bucket_tokens, 14.5, "us-east-1/shared", NULL), 0);
	assert_int_equal(metric_set(t.api_bucket_tokens, 100, "us-east-1/get", NULL), 0);
	assert_int_equal(metric_observe(t.git_fetch_duration, 0.3, NULL), 0);
	assert_int_equal(metric_inc(t.git_fetch_failures, NULL), 0);
	assert_int_equal(metric_set(t.last_applied_commit, 1735689600, NULL), 0);
	assert_int_equal(metric_set(t.quarantined, 2, NULL), 0);
	assert_int_equal(metric_inc(t.webhook_deliveries, "github", "trigger", NULL), 0);
	assert_int_equal(metric_inc(t.webhook_deliveries, "gitlab", "unauthorized", NULL), 0);
	assert_int_equal(metric_inc(t.commits_rejected, "unsigned", NULL), 0);

	/* Special values and a dropped series, so the drop family is exposed too. */
	extra = metrics_gauge(m, "tether_test_special", "Special values.", "v", NULL);
	assert_non_null(extra);
	assert_int_equal(metric_set(extra, INFINITY, "pinf", NULL), 0);
	assert_int_equal(metric_set(extra, -INFINITY, "minf", NULL), 0);
	assert_int_equal(metric_set(extra, NAN, "nan", NULL), 0);
	assert_int_equal(metric_set(extra, 1e-300, "tiny", NULL), 0);
	assert_int_equal(metric_set(extra, 1, "\xff", NULL), -1);
	for (i = 0; i < 3; i++)
		assert_int_equal(metric_inc(t.reconciles, "converged", NULL), 0);
}

static void
test_metrics__promtool(void **state)
{
	struct metrics *m = metrics_new();
	struct metrics_tether t;
	char dir[1024], *promtool, *text, *input, *bad, *report, *report_bad;
	int rc, rc_bad;

	(void)state;
	promtool = find_promtool();
	assert_int_equal(tmpdir_make(dir, sizeof(dir), "tether-metrics"), 0);
	fill_tether(m, &t);
	text = render(m);
	assert_non_null(strstr(text, "# TYPE " METRICS_DROPPED_NAME " counter\n"));
	assert_non_null(strstr(text, "tether_reconcile_duration_seconds_bucket{le=\"+Inf\"} 2\n"));
	assert_non_null(strstr(text, "tether_reconciles_total{result=\"converged\"} 4\n"));
	/* Both checks run before any verdict, so that a failure leaves no directory behind. */
	input = write_file(dir, "metrics.txt", text);
	rc = promtool_check(promtool, dir, input, &report);
	/* And promtool does object: a counter without _total, a sample that is no number. */
	bad = write_file(dir, "bad.txt",
	    "# HELP x Bad.\n# TYPE x counter\nx 1\n# HELP y Bad.\n# TYPE y gauge\ny one\n");
	rc_bad = promtool_check(promtool, dir, bad, &report_bad);
	assert_int_equal(tmpdir_remove(dir), 0);

	if (rc != 0 || report[0] != '\0')
		fail_msg("promtool check metrics: exit %d:\n%s\non:\n%s", rc, report, text);
	assert_int_not_equal(rc_bad, 0);
	assert_true(report_bad[0] != '\0');
	free(report);
	free(report_bad);
	free(bad);
	free(input);
	free(text);
	free(promtool);
	metrics_free(m);
}

/*
 * The label names documented in a table row's third column: "`a`, `b`", or "—" for none.
 * Returns them joined by ',' (free() it).
 */
static char *
doc_labels(const char *line)
{
	struct buf b = BUF_INIT(1024);
	const char *col, *end, *p, *q;

	col = strchr(line + 1, '|');
	assert_non_null(col);
	col = strchr(col + 1, '|');
	assert_non_null(col);
	end = strchr(col + 1, '|');
	assert_non_null(end);
	for (p = col + 1; p < end; p = q + 1) {
		p = memchr(p, '`', (size_t)(end - p));
		if (p == NULL)
			break;
		q = memchr(p + 1, '`', (size_t)(end - p - 1));
		assert_non_null(q);
		if (b.len > 0)
			assert_int_equal(buf_putc(&b, ','), 0);
		assert_int_equal(buf_append(&b, p + 1, (size_t)(q - p - 1)), 0);
	}
	return buf_detach(&b, NULL);
}

/*
 * docs/metrics.md documents every metric of metrics_register_tether(), and the drop
 * counter, in a table row "| `name` | type | `label`, ... | meaning |", and nothing else.
 */
static void
test_metrics__documented(void **state)
{
	struct metrics *m = metrics_new();
	struct metrics_tether t;
	struct metric_family **fams = (struct metric_family **)&t;
	const char *srcdir = getenv("TETHER_SOURCE_DIR");
	const char *const *labels;
	char *path, *doc, *text, *line, *next, *row, *got;
	size_t i, j, n, nfams = sizeof(t) / sizeof(fams[0]), documented = 0;

	(void)state;
	assert_non_null(srcdir);
	path = xasprintf("%s/docs/metrics.md", srcdir);
	doc = read_file(path);
	fill_tether(m, &t);
	text = render(m);

	for (i = 0; i < nfams; i++) {
		row = xasprintf("| `%s` |", metric_name(fams[i]));
		if (strstr(doc, row) == NULL)
			fail_msg("docs/metrics.md does not document %s", metric_name(fams[i]));
		free(row);
	}
	for (line = doc; line != NULL && *line != '\0'; line = next) {
		struct buf want = BUF_INIT(1024);
		char name[128], type[32];

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if (sscanf(line, "| `%127[a-z_]` | %31[a-z] |", name, type) != 2)
			continue;
		documented++;
		got = doc_labels(line);
		if (strcmp(name, METRICS_DROPPED_NAME) == 0) {
			assert_string_equal(type, "counter");
			assert_string_equal(got, "metric");
			free(got);
			continue;
		}
		for (i = 0; i < nfams; i++) {
			if (strcmp(metric_name(fams[i]), name) == 0)
				break;
		}
		if (i == nfams)
			fail_msg("docs/metrics.md documents %s, which is not registered", name);
		row = xasprintf("# TYPE %s %s\n", name, type);
		if (strstr(text, row) == NULL)
			fail_msg("docs/metrics.md: %s is not a %s", name, type);
		free(row);
		labels = metric_labels(fams[i], &n);
		for (j = 0; j < n; j++)
			assert_int_equal(buf_printf(&want, "%s%s", j > 0 ? "," : "", labels[j]), 0);
		if (strcmp(buf_cstr(&want), got) != 0)
			fail_msg("docs/metrics.md: %s has labels '%s', documented '%s'", name,
			    buf_cstr(&want), got);
		buf_free(&want);
		free(got);
	}
	assert_int_equal(documented, nfams + 1);
	free(text);
	free(doc);
	free(path);
	metrics_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_metrics__names),
	    cmocka_unit_test(test_metrics__register_rejects),
	    cmocka_unit_test(test_metrics__render_counter_gauge),
	    cmocka_unit_test(test_metrics__render_histogram),
	    cmocka_unit_test(test_metrics__escaping),
	    cmocka_unit_test(test_metrics__floats),
	    cmocka_unit_test(test_metrics__children_cap),
	    cmocka_unit_test(test_metrics__collect_and_cap),
	    cmocka_unit_test(test_metrics__promtool),
	    cmocka_unit_test(test_metrics__documented),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
