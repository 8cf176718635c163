/*
 * gitwatch/watch: fetches in a worker thread, results on the loop. Real repositories made
 * with the git CLI, fetched over file:// into a bare cache.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/xmalloc.h"
#include "gitwatch/watch.h"
#include "tests/lib/tmpdir.h"

struct fx {
	char dir[512];
	char *repo;  /* the working repository */
	char *url;   /* file:// URL of it */
	char *cache; /* the watch's bare cache */
	struct ev_loop *loop;
	struct gitwatch *w;
	struct gitwatch_result *last;
	unsigned results;
	unsigned want; /* break the loop after this many results */
};

static void
sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	if (rc != 0)
		fail_msg("command failed (%d): %s", rc, cmd);
}

/* The commit id HEAD names in the working repository. */
static void
head_of(struct fx *fx, char out[41])
{
	char cmd[1024];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "git -C '%s' rev-parse HEAD", fx->repo);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(out, 41, p));
	pclose(p);
	out[40] = '\0';
}

static void
commit(struct fx *fx, const char *image)
{
	sh("printf 'function: api\\nimage: 123456789012.dkr.ecr.us-east-1.amazonaws.com/api:%s\\n' "
	   "> '%s/functions/api.yaml'",
	    image, fx->repo);
	sh("git -C '%s' add -A && git -C '%s' -c user.name=t -c user.email=t@example.com commit "
	   "-q -m '%s'",
	    fx->repo, fx->repo, image);
}

static void
done_cb(struct gitwatch *w, struct gitwatch_result *r, void *arg)
{
	struct fx *fx = arg;

	(void)w;
	gitwatch_result_free(fx->last);
	fx->last = r;
	if (++fx->results >= fx->want)
		ev_break(fx->loop, EVBREAK_ONE);
}

static int
setup(void **state)
{
	struct fx *fx = xcalloc(1, sizeof(*fx));

	assert_int_equal(tmpdir_make(fx->dir, sizeof(fx->dir), "tether-watch"), 0);
	fx->repo = xasprintf("%s/repo", fx->dir);
	fx->url = xasprintf("file://%s", fx->repo);
	fx->cache = xasprintf("%s/cache", fx->dir);
	sh("mkdir -p '%s/functions' && git -C '%s' init -q -b main", fx->repo, fx->repo);
	commit(fx, "v1");
	fx->loop = ev_loop_new(EVFLAG_AUTO);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	gitwatch_free(fx->w);
	gitwatch_result_free(fx->last);
	ev_loop_destroy(fx->loop);
	assert_int_equal(tmpdir_remove(fx->dir), 0);
	free(fx->repo);
	free(fx->url);
	free(fx->cache);
	free(fx);
	return 0;
}

static void
start(struct fx *fx, const char *repo)
{
	struct gitwatch_opts o = GITWATCH_OPTS_INIT;
	struct err err = ERR_INIT;

	o.loop = fx->loop;
	o.repo = repo;
	o.ref = "main";
	o.cache_dir = fx->cache;
	o.done = done_cb;
	o.arg = fx;
	assert_int_equal(gitwatch_new(&fx->w, &o, &err), 0);
}

static void
timeout_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	(void)t;
	(void)revents;
	ev_break(loop, EVBREAK_ONE);
}

/* Run the loop until n more results arrived; after 20 s without them, fail. */
static void
wait_results(struct fx *fx, unsigned n)
{
	ev_timer guard;

	fx->want = fx->results + n;
	ev_timer_init(&guard, timeout_cb, 20.0, 0.0);
	ev_timer_start(fx->loop, &guard);
	ev_run(fx->loop, 0);
	ev_timer_stop(fx->loop, &guard);
	if (fx->results < fx->want)
		fail_msg("no result from the watch within 20 s");
}

static void
test_watch__fetches_new_commits(void **state)
{
	struct fx *fx = *state;
	char id[41];

	start(fx, fx->url);
	assert_false(gitwatch_busy(fx->w));
	gitwatch_request(fx->w);
	assert_true(gitwatch_busy(fx->w));
	wait_results(fx, 1);
	assert_true(fx->last->ok);
	head_of(fx, id);
	assert_string_equal(fx->last->commit.id, id);
	assert_int_equal(fx->last->files.n, 1);
	assert_int_equal(fx->last->seq, 1);
	assert_true(fx->last->seconds >= 0);

	commit(fx, "v2");
	gitwatch_request(fx->w);
	wait_results(fx, 1);
	assert_true(fx->last->ok);
	head_of(fx, id);
	assert_string_equal(fx->last->commit.id, id);
	assert_int_equal(fx->last->seq, 2);
	assert_false(gitwatch_busy(fx->w));
}

/* A flood of requests while a fetch runs costs one more fetch, not one per request. */
static void
test_watch__requests_coalesce(void **state)
{
	struct fx *fx = *state;
	int i;

	start(fx, fx->url);
	gitwatch_request(fx->w);
	for (i = 0; i < 1000; i++)
		gitwatch_request(fx->w);
	wait_results(fx, 1);
	/* The first fetch may have started after some of the requests: one or two. */
	if (gitwatch_busy(fx->w))
		wait_results(fx, 1);
	assert_false(gitwatch_busy(fx->w));
	assert_in_range(gitwatch_fetches(fx->w), 1, 2);
	assert_true(fx->last->ok);
}

static void
test_watch__failure_is_a_result(void **state)
{
	struct fx *fx = *state;
	char *missing = xasprintf("file://%s/nothing-here", fx->dir);

	start(fx, missing);
	gitwatch_request(fx->w);
	wait_results(fx, 1);
	assert_false(fx->last->ok);
	assert_true(fx->last->err.code != 0);
	assert_non_null(strstr(fx->last->err.message, "nothing-here"));
	/* It keeps working: the next request is another attempt. */
	gitwatch_request(fx->w);
	wait_results(fx, 1);
	assert_false(fx->last->ok);
	assert_int_equal(gitwatch_fetches(fx->w), 2);
	free(missing);
}

/* Freeing while a fetch runs waits for it and drops its result. */
static void
test_watch__free_while_fetching(void **state)
{
	struct fx *fx = *state;

	start(fx, fx->url);
	gitwatch_request(fx->w);
	gitwatch_free(fx->w);
	fx->w = NULL;
	assert_int_equal(fx->results, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_watch__fetches_new_commits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_watch__requests_coalesce, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_watch__failure_is_a_result, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_watch__free_while_fetching, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
