/*
 * Planning (architecture §4): from a function's desired state and its observed state,
 * the next actions. Pure: no I/O, no clock (the time comes in through plan_ctx), no
 * globals. deploy/ runs the loop observe -> plan_next -> act -> observe until plan_next
 * returns nothing; plan_build() simulates that loop on a copy of the observation to show
 * the whole plan, which is what `tether plan` prints and what `tether apply` will do.
 */
#ifndef TETHER_RECONCILE_PLAN_H
#define TETHER_RECONCILE_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "common/err.h"
#include "reconcile/observed.h"
#include "reconcile/spec.h"

/* Stands for "the version the publish in this plan creates", which Lambda numbers. */
#define PLAN_NEW_VERSION (-1L)

enum plan_kind {
	PLAN_UPDATE_CODE,   /* UpdateFunctionCode on $LATEST */
	PLAN_UPDATE_CONFIG, /* UpdateFunctionConfiguration on $LATEST */
	PLAN_WAIT_UPDATED,  /* an update of $LATEST is in progress: wait for it */
	PLAN_SMOKE_TEST,    /* Invoke $LATEST and check the result */
	PLAN_PUBLISH,       /* PublishVersion with the digest description and preconditions */
	PLAN_CREATE_ALIAS,
	PLAN_UPDATE_ALIAS,    /* move an alias and/or its weights */
	PLAN_WAIT_CANARY,     /* the canary step runs until `until` */
	PLAN_DELETE_VERSION,  /* prune */
	PLAN_BLOCKED,         /* cannot proceed: why says so (quarantined, suspended, missing) */
	PLAN_CREATE_FUNCTION, /* CreateFunction: an image or a zip function (docs/plan.md) */
};

/* Configuration fields to set on $LATEST; only those with has_ set. */
struct plan_config {
	bool has_layers;
	char **layers; /* version ARNs */
	size_t nlayers;
	bool has_memory;
	long memory;
	bool has_timeout;
	long timeout;
	bool has_environment;
	struct spec_kv *environment;
	size_t nenvironment;
	bool has_description;
	char *description;
	bool has_role;
	char *role;
	bool has_handler;
	char *handler;
	bool has_runtime;
	char *runtime;
};

struct plan_action {
	enum plan_kind kind;
	char *why; /* one line for people: "image :v41 -> :v42", "drift: live moved by hand" */
	/* The kind-specific parts are pointers, NULL when unused: a plan of 10,000 functions
	 * holds ~50,000 actions, and inline they tripled its size (bench/plan). */
	struct spec_code *code;     /* UPDATE_CODE, CREATE_FUNCTION */
	struct plan_config *config; /* UPDATE_CONFIG, CREATE_FUNCTION (every managed field) */
	char *payload;              /* SMOKE_TEST: JSON sent */
	char *expect;               /* SMOKE_TEST: JSON the result must contain, or NULL */
	char *description;          /* PUBLISH: the version's; *_ALIAS: the alias's */
	char *digest; /* PUBLISH, and *_ALIAS moving to the spec's current version; else NULL */
	char *alias;  /* *_ALIAS */
	long version; /* *_ALIAS: target (or PLAN_NEW_VERSION); DELETE_VERSION */
	long routing_version; /* *_ALIAS: the additional version, 0 for none */
	double routing_weight;
	char *revision_id; /* precondition: UPDATE_*, PUBLISH ($LATEST's), UPDATE_ALIAS (the
	                      alias's) */
	long until;        /* WAIT_CANARY: epoch seconds */
	char *code_sha256; /* PUBLISH: precondition, $LATEST's CodeSha256 as observed */
};

/* Everything planning needs besides the two states. */
struct plan_ctx {
	long now;           /* epoch seconds */
	const char *commit; /* the commit being applied, full hex */
	const char *ref;    /* "main", or NULL */
};

/*
 * What may be done now, in order. The executor performs the actions one after the other,
 * stops at the first failure (a failed smoke test stops the publish after it), and observes
 * again before asking for the next step. Several WAIT_CANARY actions in one step mean: wait
 * until the earliest `until`, then observe again.
 */
struct plan_step {
	struct plan_action *actions;
	size_t n;
	/* mode detect: the actions say what enforce would do; the executor reports them as
	 * drift and performs none. */
	bool report_only;
};

/* The whole plan for one function. */
struct plan_function {
	char *name;
	char *region;
	enum spec_mode mode;
	char digest[CRYPTO_SHA256_HEX_LEN + 1];
	bool in_sync; /* nothing to do (always true for a suspended function) */
	struct plan_action *actions;
	size_t n;
	/* The line plan_print_text() prints after "name: ", e.g. "image :v41 -> :v42; publish;
	 * live 17 -> new", "in sync", "blocked: quarantined d=3f9a1c0b7e21". */
	char *summary;
};

struct plan {
	struct plan_function *functions; /* in the spec's order */
	size_t n;
};

#define PLAN_INIT       \
	{               \
		NULL, 0 \
	}

/*
 * The next actions for one function, given what is observed now. An empty step means
 * converged. Returns 0, or -1 with err filled (an inconsistent observation).
 */
int plan_next(const struct spec_function *want, const struct obs_function *have,
    const struct plan_ctx *ctx, struct plan_step *out, struct err *err);
void plan_step_free(struct plan_step *s);

/*
 * The full plan for every function in want: plan_next() repeated on a simulated copy of
 * each observation, applying each action's expected effect, until converged or blocked.
 * have holds the observations (matched by name and region; a function without one is
 * planned as if it does not exist). Returns 0, or -1 with err filled.
 */
int plan_build(const struct spec *want, const struct obs_function *have, size_t nhave,
    const struct plan_ctx *ctx, struct plan *out, struct err *err);
/* True when no function has anything to do. */
bool plan_in_sync(const struct plan *p);
/* One line per function: "orders-api: image :v41 -> :v42; publish; live 17 -> new". */
void plan_print_text(const struct plan *p, FILE *out);
void plan_print_json(const struct plan *p, FILE *out);
void plan_free(struct plan *p);
void plan_action_clear(struct plan_action *a);

#endif
