/*
 * Reading the live state that planning needs (architecture §4-§5), for the desired
 * functions of one region, asynchronously on the loop, with read-only Lambda calls only.
 *
 * The observer knows each function's desired digest and asks only for what the planner
 * needs, so a steady-state pass costs about one ListFunctions page per 50 functions plus,
 * per function, one ListAliases (shared 15/s bucket) and a GetFunction per version the
 * aliases name (100/s GetFunction bucket). It lists every version only when no version the
 * aliases name holds the digest, or when retain is set; it reads $LATEST's status and image
 * only when no version holds the digest (that is when the plan acts on $LATEST); it lists
 * event source mappings and provisioned concurrency only when pruning has candidates.
 * docs/observe.md has the per-function costs. Each obs_function's *_listed flags say
 * truthfully which lists are complete; latest.state is NULL when $LATEST's status was not
 * read (ListFunctions does not report it).
 *
 * With a version cache (deploy/state.h) that is complete for a function, the versions come
 * from the cache instead of ListVersionsByFunction, unless an alias names a version the
 * cache cannot know (above its `through`). Quarantined digests and staged S3 code are left
 * empty: the caller, which owns the state directory, fills them in.
 */
#ifndef TETHER_DEPLOY_OBSERVE_H
#define TETHER_DEPLOY_OBSERVE_H

#include <stdbool.h>
#include <stddef.h>

#include <ev.h>

#include "aws/lambda_client.h"
#include "common/err.h"
#include "reconcile/observed.h"
#include "reconcile/spec.h"

struct state_function;

/* Functions observed at the same time, by default. */
#define OBSERVE_CONCURRENCY 16

/* The read calls the observer makes, for counting. */
enum observe_call {
	OBSERVE_LIST_FUNCTIONS, /* one ListFunctions listing (all its pages) */
	OBSERVE_GET_FUNCTION,   /* GetFunction of $LATEST */
	OBSERVE_GET_VERSION,    /* GetFunction with a version number as qualifier */
	OBSERVE_LIST_ALIASES,   /* one listing, all pages */
	OBSERVE_LIST_VERSIONS,  /* one listing, all pages */
	OBSERVE_LIST_ESM,       /* ListEventSourceMappings for the function, all pages */
	OBSERVE_LIST_PC,        /* ListProvisionedConcurrencyConfigs, all pages */
	OBSERVE_CALL__COUNT,
};

extern const char *const observe_call_names[];

/* What was read about one desired function. */
struct observe_result {
	const struct spec_function *want;    /* borrowed from the spec given to observe_start() */
	struct obs_function fn;              /* the observation (valid when err.code == 0) */
	struct err err;                      /* why it could not be observed; code 0: it was */
	unsigned calls[OBSERVE_CALL__COUNT]; /* calls made for this function */
	bool from_cache;                     /* the versions came from the version cache */
	/* The spec digest, computed with the function's account; "" when the function was
	 * not read that far (missing, suspended, failed). */
	char digest[CRYPTO_SHA256_HEX_LEN + 1];
};

struct observe;
typedef void (*observe_done_cb)(struct observe *o, void *arg);
/* The state directory's record of a function (for its version cache), or NULL. */
typedef const struct state_function *(*observe_cache_cb)(const struct spec_function *f, void *arg);

struct observe_opts {
	struct ev_loop *loop;         /* required */
	struct lambda_client *lambda; /* required: a client for region */
	const char *region;           /* required: only want's functions in it are observed */
	size_t concurrency;           /* 0: OBSERVE_CONCURRENCY */
	observe_done_cb done;         /* required; called once, from the loop */
	void *arg;
	/* Skip the region's ListFunctions listing and read each function's $LATEST with
	 * GetFunction (the 100/s bucket): for observing a few functions, or when the shared
	 * bucket is the scarce one (apply). */
	bool no_listing;
	observe_cache_cb cache; /* NULL: no version cache */
	void *cache_arg;
};

#define OBSERVE_OPTS_INIT                                          \
	{                                                          \
		NULL, NULL, NULL, 0, NULL, NULL, false, NULL, NULL \
	}

/*
 * Start observing every function of want in opts->region. want must outlive the
 * observation. done is called from the loop once every function is observed or has
 * failed (never from inside observe_start()); do not free o inside it. Returns 0, or
 * ERR_INVALID with err filled (missing options).
 */
int observe_start(struct observe **out, const struct spec *want, const struct observe_opts *opts,
    struct err *err);
/* Cancel what is in flight (done is not called) and release everything. NULL is fine. */
void observe_free(struct observe *o);
/* One result per function of want in the region, in want's order. Borrowed from o. */
const struct observe_result *observe_results(const struct observe *o, size_t *n);
/* Calls made for the region as a whole, not for one function: the ListFunctions listing. */
unsigned observe_region_calls(const struct observe *o, enum observe_call call);
/*
 * Move the observations of the functions observed without error into a new array
 * (*out, *n; free each with obs_function_clear(), then the array). The results keep
 * their errors and counts.
 */
void observe_take(struct observe *o, struct obs_function **out, size_t *n);

/*
 * Fold what Lambda answered into an observation: $LATEST from a FunctionConfiguration
 * (also sets arn, account and exists), and a published version from a version's
 * configuration (its description parsed for tether's mark). For the executor, whose
 * mutating calls answer with the new state.
 */
void observe_fill_latest(struct obs_function *fn, const struct lambda_function *src);
void observe_fill_version(struct obs_version *v, long number, const struct lambda_function *src);
/* A FunctionVersion that names a published version: its number; else false. */
bool observe_parse_version(const char *s, long *out);

#endif
