/*
 * Following a git ref for the daemon (architecture §1): fetches run in a worker thread
 * (libgit2 blocks on the network and the disk) and their results reach the event loop
 * through an ev_async, so the loop never waits on git.
 *
 * A fetch reads the desired-state files of the ref's commit from the object database
 * (gitwatch/source.h, source_read_git_auth), fetching a URL into a bare cache first.
 * Requests are coalesced: asking while a fetch runs schedules exactly one more after it,
 * however many times it is asked, so a flood of webhooks costs at most two fetches.
 */
#ifndef TETHER_GITWATCH_WATCH_H
#define TETHER_GITWATCH_WATCH_H

#include <stdbool.h>
#include <stddef.h>

#include <ev.h>

#include "common/err.h"
#include "gitwatch/source.h"
#include "reconcile/fileset.h"

struct gitwatch;

/* What one fetch produced. The callback owns it: release it with gitwatch_result_free(). */
struct gitwatch_result {
	int ok;                      /* 1: files and commit are filled; 0: err says why */
	struct fileset files;        /* the desired-state files of the commit */
	struct source_commit commit; /* which commit */
	struct err err;
	double seconds;    /* how long the fetch and the read took */
	unsigned long seq; /* 1 for the first fetch, then 2, ... */
};

typedef void (*gitwatch_cb)(struct gitwatch *w, struct gitwatch_result *r, void *arg);

struct gitwatch_opts {
	struct ev_loop *loop;  /* required */
	const char *repo;      /* required: a path or URL (source_read_git) */
	const char *ref;       /* NULL: the remote's HEAD */
	const char *path;      /* the desired state's folder in the repository, or NULL */
	const char *cache_dir; /* where URLs are cached (bare); required for URLs */
	gitwatch_cb done;      /* required: called on the loop after every fetch */
	void *arg;
	const struct source_auth *auth; /* how the URL is reached (source_read_git_auth);
	                                   NULL: none */
};

#define GITWATCH_OPTS_INIT                                     \
	{                                                      \
		NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL \
	}

/*
 * Start the worker thread (idle until asked). Everything in opts is copied except the
 * loop; auth is copied deeply, and its token wiped when the watch is freed. Returns 0, or
 * ERR_INVALID / ERR_FAIL with err filled.
 */
int gitwatch_new(struct gitwatch **out, const struct gitwatch_opts *opts, struct err *err);
/* Ask for a fetch (coalesced, see above). From the loop's thread. */
void gitwatch_request(struct gitwatch *w);
/* Whether a fetch is running or asked for. */
bool gitwatch_busy(const struct gitwatch *w);
/* How many fetches have started. */
unsigned long gitwatch_fetches(const struct gitwatch *w);
/*
 * Stop: wait for a running fetch to end (its result is dropped), join the thread, free.
 * NULL is fine. Not from inside the callback.
 */
void gitwatch_free(struct gitwatch *w);
void gitwatch_result_free(struct gitwatch_result *r);

#endif
