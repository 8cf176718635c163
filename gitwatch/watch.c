/*
 * The fetch worker (gitwatch/watch.h). One thread per watch, sleeping on a condition
 * variable until asked; each result is handed to the loop through an ev_async. The
 * shared part (requested, stopping, the finished result) is guarded by one mutex; the
 * thread touches nothing of the loop's.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "common/compat.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/xmalloc.h"
#include "gitwatch/watch.h"

struct gitwatch {
	struct ev_loop *loop;
	char *repo;
	char *ref;
	char *path;
	char *cache_dir;
	struct source_auth *auth; /* owned copy, or NULL */
	gitwatch_cb done;
	void *arg;

	ev_async wake; /* the worker finished a fetch */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* Under mu: */
	bool requested; /* a fetch is asked for and has not started */
	bool running;   /* a fetch is running */
	bool stopping;
	unsigned long started;
	struct gitwatch_result *finished; /* handed over, not yet taken by the loop */
};

static struct gitwatch_result *
fetch_once(struct gitwatch *w, unsigned long seq)
{
	struct gitwatch_result *r = xcalloc(1, sizeof(*r));
	struct fileset empty = FILESET_INIT;
	uint64_t t0 = timeutil_mono_ms();

	r->files = empty;
	r->seq = seq;
	if (source_read_git_auth(w->repo, w->ref, w->path, w->cache_dir, w->auth, &r->files,
	        &r->commit, &r->err) == 0)
		r->ok = 1;
	r->seconds = (double)(timeutil_mono_ms() - t0) / 1000.0;
	return r;
}

static void *
worker(void *arg)
{
	struct gitwatch *w = arg;
	struct gitwatch_result *r;
	unsigned long seq;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->requested && !w->stopping)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->stopping)
			break;
		w->requested = false;
		w->running = true;
		seq = ++w->started;
		pthread_mutex_unlock(&w->mu);

		r = fetch_once(w, seq);

		pthread_mutex_lock(&w->mu);
		/* The loop takes each result before the next fetch can finish: wait for it. */
		while (w->finished != NULL && !w->stopping)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->stopping) {
			gitwatch_result_free(r);
			break;
		}
		w->running = false;
		w->finished = r;
		ev_async_send(w->loop, &w->wake);
	}
	w->running = false;
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

static void
wake_cb(struct ev_loop *loop, ev_async *a, int revents)
{
	struct gitwatch *w = container_of(a, struct gitwatch, wake);
	struct gitwatch_result *r;

	(void)loop;
	(void)revents;
	pthread_mutex_lock(&w->mu);
	r = w->finished;
	w->finished = NULL;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	if (r == NULL)
		return;
	if (r->ok)
		log_debug("gitwatch", "fetch %lu: commit %.12s in %.3f s", r->seq, r->commit.id,
		    r->seconds);
	else
		log_warn("gitwatch", "fetch %lu failed after %.3f s: %s", r->seq, r->seconds,
		    r->err.message);
	w->done(w, r, w->arg);
}

static char *
dup_opt(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

/* Everything but the thread: libgit2's reference, the watcher, the lock, the copies. */
static void
release(struct gitwatch *w)
{
	git_libgit2_shutdown();
	ev_async_stop(w->loop, &w->wake);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w->repo);
	free(w->ref);
	free(w->path);
	free(w->cache_dir);
	source_auth_free(w->auth);
	free(w);
}

int
gitwatch_new(struct gitwatch **out, const struct gitwatch_opts *opts, struct err *err)
{
	struct gitwatch *w;
	int rc;

	*out = NULL;
	if (opts == NULL || opts->loop == NULL || opts->repo == NULL || opts->done == NULL)
		return err_set(err, ERR_INVALID, "gitwatch: loop, repo and done are required");
	w = xcalloc(1, sizeof(*w));
	w->loop = opts->loop;
	w->repo = xstrdup(opts->repo);
	w->ref = dup_opt(opts->ref);
	w->path = dup_opt(opts->path);
	w->cache_dir = dup_opt(opts->cache_dir);
	w->auth = source_auth_copy(opts->auth);
	w->done = opts->done;
	w->arg = opts->arg;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	ev_async_init(&w->wake, wake_cb);
	ev_async_start(w->loop, &w->wake);
	/* Held for the watch's life: each fetch's init and shutdown then only count, instead of
	 * tearing libgit2's state down and loading the system's CA store again every time
	 * (milliseconds of every fetch; bench/latency). */
	git_libgit2_init();
	rc = pthread_create(&w->thread, NULL, worker, w);
	if (rc != 0) {
		release(w);
		return err_set(err, ERR_FAIL, "gitwatch: cannot start a thread: %s", strerror(rc));
	}
	*out = w;
	return 0;
}

void
gitwatch_request(struct gitwatch *w)
{
	pthread_mutex_lock(&w->mu);
	w->requested = true;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

bool
gitwatch_busy(const struct gitwatch *w)
{
	bool busy;

	pthread_mutex_lock((pthread_mutex_t *)&w->mu);
	busy = w->requested || w->running || w->finished != NULL;
	pthread_mutex_unlock((pthread_mutex_t *)&w->mu);
	return busy;
}

unsigned long
gitwatch_fetches(const struct gitwatch *w)
{
	unsigned long n;

	pthread_mutex_lock((pthread_mutex_t *)&w->mu);
	n = w->started;
	pthread_mutex_unlock((pthread_mutex_t *)&w->mu);
	return n;
}

void
gitwatch_free(struct gitwatch *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->stopping = true;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	gitwatch_result_free(w->finished);
	release(w);
}

void
gitwatch_result_free(struct gitwatch_result *r)
{
	if (r == NULL)
		return;
	fileset_free(&r->files);
	source_commit_clear(&r->commit);
	free(r);
}
