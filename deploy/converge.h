/*
 * The executor (architecture §4, docs/apply.md): one state machine per desired function of
 * a region, on the loop, level-triggered: observe -> plan_next -> act -> fold Lambda's
 * answer into the observation -> plan_next, until the planner has nothing left to do or
 * says blocked. `concurrency` functions run at once; one function's failure never stops
 * another. Every action is a manifest record, fsynced before the next action starts.
 *
 * A function is observed in full (deploy/observe.h, without the region listing: GetFunction
 * for $LATEST, ListAliases, the version cache) when it starts and again only when Lambda
 * says someone else changed it (412, 409) — at most CONVERGE_REOBSERVE_MAX times.
 */
#ifndef TETHER_DEPLOY_CONVERGE_H
#define TETHER_DEPLOY_CONVERGE_H

#include <stdbool.h>
#include <stddef.h>

#include <ev.h>

#include "aws/lambda_client.h"
#include "common/err.h"
#include "deploy/manifest.h"
#include "deploy/state.h"
#include "reconcile/observed.h"
#include "reconcile/spec.h"

#define CONVERGE_CONCURRENCY 8
#define CONVERGE_REOBSERVE_MAX 5
/* Planning rounds per function and run: far above any real one (a canary of 10 steps with
 * 3 aliases and a prune is ~40); past it the planner and Lambda disagree, which is a bug
 * to report, not to loop on. */
#define CONVERGE_STEPS_MAX 200

enum converge_outcome {
	CONVERGE_PENDING,   /* not finished */
	CONVERGE_IN_SYNC,   /* nothing to do */
	CONVERGE_CONVERGED, /* actions taken, now in sync */
	CONVERGE_REPORTED,  /* detect mode: drift recorded, nothing done */
	CONVERGE_SUSPENDED,
	CONVERGE_BLOCKED,
	CONVERGE_FAILED,
};

extern const char *const converge_outcome_names[]; /* "in-sync", "converged", ... */

struct converge_result {
	const struct spec_function *want; /* borrowed from the spec */
	enum converge_outcome outcome;
	char *detail;       /* what was done, or why it failed or is blocked */
	unsigned mutations; /* mutating calls made */
	unsigned observes;  /* full observations (1 + re-observations) */
	unsigned kinds;     /* bit (1u << enum plan_kind) per kind of action taken or reported */
	char digest[CRYPTO_SHA256_HEX_LEN + 1]; /* the spec digest, "" when not computed */
	struct obs_function fn; /* the last observation, with the answers folded in */
};

struct converge;
typedef void (*converge_done_cb)(struct converge *c, void *arg);

struct converge_opts {
	struct ev_loop *loop;         /* required */
	struct lambda_client *lambda; /* required: a client for region */
	const char *region;           /* required: want's functions in it are converged */
	struct state *state;          /* required */
	struct manifest *manifest;    /* required */
	const char *commit;           /* required: full commit id */
	const char *ref;              /* or NULL */
	size_t concurrency;           /* 0: CONVERGE_CONCURRENCY */
	converge_done_cb done;        /* required; called once, from the loop */
	void *arg;
	/* The daemon's drift pass (not a new commit): every manifest record says
	 * "trigger": "drift" instead of "commit". */
	bool drift;
	/* NULL, or which functions start first (those a new commit changed): the others start
	 * only once each of these has made its first decision, so a change's first call is
	 * not queued behind the observation of every unchanged function (bench/latency). */
	bool (*first)(const struct spec_function *want, void *arg);
	void *first_arg;
};

#define CONVERGE_OPTS_INIT                                                                 \
	{                                                                                  \
		NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, false, NULL, NULL \
	}

/*
 * Start converging every function of want in opts->region. want, the client, the state
 * and the manifest must outlive the run. done is called from the loop when every function
 * has finished (never from inside converge_start()); do not free c inside it. Returns 0,
 * or ERR_INVALID with err filled.
 */
int converge_start(struct converge **out, const struct spec *want, const struct converge_opts *opts,
    struct err *err);
/*
 * Stop gracefully: calls in flight finish (and are recorded), nothing new starts, canary
 * waits end early, functions not started are left alone; each of those ends
 * CONVERGE_PENDING. done is called (from the loop) once the last call has returned. The
 * next run picks up where this one left off: the executor is level-triggered.
 */
void converge_stop(struct converge *c);
bool converge_stopping(const struct converge *c);
/* Cancel what is in flight (done is not called) and release everything. NULL is fine. */
void converge_free(struct converge *c);
/* One result per function of want in the region, in want's order. Borrowed. */
const struct converge_result *converge_results(const struct converge *c, size_t *n);

#endif
