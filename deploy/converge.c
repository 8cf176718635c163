/*
 * The executor: one machine per function, driven by the Lambda client's callbacks. See
 * deploy/converge.h and docs/apply.md.
 *
 *   QUEUED -> OBSERVE -> PLAN -> ACT (one action's call in flight) -> PLAN -> ... -> DONE
 *                ^                  |  412/409: OBSERVE again
 *                +------------------+
 *   PLAN -> CANARY (a timer until the step is due; then the canary check) -> PLAN
 *
 * Work that must not run inside a callback (freeing the observer, the next plan) is
 * deferred through the function's `kick` timer (zero delay).
 */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "common/compat.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/xmalloc.h"
#include "deploy/converge.h"
#include "deploy/observe.h"
#include "reconcile/plan.h"

const char *const converge_outcome_names[] = {
    [CONVERGE_PENDING] = "pending",
    [CONVERGE_IN_SYNC] = "in-sync",
    [CONVERGE_CONVERGED] = "converged",
    [CONVERGE_REPORTED] = "reported",
    [CONVERGE_SUSPENDED] = "suspended",
    [CONVERGE_BLOCKED] = "blocked",
    [CONVERGE_FAILED] = "failed",
};

enum fn_state {
	FN_QUEUED,
	FN_OBSERVE,
	FN_PLAN,
	FN_ACT,
	FN_CANARY,
	FN_DONE,
};

static const char *const fn_state_names[] = {
    [FN_QUEUED] = "queued",
    [FN_OBSERVE] = "observe",
    [FN_PLAN] = "plan",
    [FN_ACT] = "act",
    [FN_CANARY] = "canary",
    [FN_DONE] = "done",
};

/* Manifest names of the plan's actions. */
static const char *const action_names[] = {
    [PLAN_UPDATE_CODE] = "update_code",
    [PLAN_UPDATE_CONFIG] = "update_config",
    [PLAN_WAIT_UPDATED] = "wait",
    [PLAN_SMOKE_TEST] = "smoke_test",
    [PLAN_PUBLISH] = "publish",
    [PLAN_CREATE_ALIAS] = "create_alias",
    [PLAN_UPDATE_ALIAS] = "update_alias",
    [PLAN_WAIT_CANARY] = "canary_check",
    [PLAN_DELETE_VERSION] = "delete_version",
    [PLAN_BLOCKED] = "blocked",
    [PLAN_CREATE_FUNCTION] = "create_function",
};

struct converge;

struct fn {
	struct converge *c;
	struct converge_result *res;
	const struct spec_function *want;
	struct spec one; /* want alone, for the observer (borrows want) */
	const char *id;  /* what calls name it: the ARN when declared so */
	enum fn_state state;
	struct state_function sf; /* its file in the state directory */
	struct observe *obs;
	bool observed; /* obs finished: take its result on the next kick */
	struct plan_step step;
	size_t ai; /* the action being performed */
	struct lambda_call *call;
	ev_timer kick;   /* deferred work, from the loop */
	ev_timer canary; /* a canary step's interval */
	uint64_t t0;     /* when the current action started (monotonic ms) */
	long *skipped;   /* versions whose delete Lambda refused (409) this run */
	size_t nskipped;
	char *detail_done; /* what was done, for the summary: "image :v1 -> :v2; published 7" */
	/* The manifest's "before" side of the action in flight. */
	char *b_version, *b_routing, *b_image, *b_sha, *b_rev;
	double b_weight;
	unsigned steps; /* plan_next calls this run, against a planner that never settles */
	bool first;     /* opts.first: started before the others */
	bool released;  /* a first function that has made its first decision */
};

struct converge {
	struct ev_loop *loop;
	struct lambda_client *lambda;
	char *region;
	struct state *state;
	struct manifest *manifest;
	char *commit;
	char *ref;
	size_t concurrency;
	converge_done_cb done;
	void *arg;
	bool drift;
	bool stopping;     /* converge_stop(): no new call is started */
	size_t *order;     /* the order functions start in: opts.first ones first */
	size_t first_held; /* first functions that have not decided yet: the rest wait */

	struct converge_result *results;
	struct fn *fns;
	size_t n;
	size_t next;
	size_t active;
	size_t finished;
	bool scheduling;
	ev_timer finish;
};

static void schedule(struct converge *c);
static void fn_plan(struct fn *f);
static void fn_act(struct fn *f);
static void fn_observe(struct fn *f, const char *why);

static char *
dup_opt(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

static void
set_str(char **p, const char *v)
{
	free(*p);
	*p = dup_opt(v);
}

/* Every state change is logged at info with the reason, except the executor's own
 * bookkeeping between steps (plan), which is debug. */
static void
fn_set_state(struct fn *f, enum fn_state state, const char *why)
{
	log_msg(state == FN_PLAN ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO, "converge", "%s: %s -> %s: %s",
	    f->want->name, fn_state_names[f->state], fn_state_names[state], why);
	f->state = state;
}

static void
kick_later(struct fn *f)
{
	if (!ev_is_active(&f->kick)) {
		ev_timer_set(&f->kick, 0.0, 0.0);
		ev_timer_start(f->c->loop, &f->kick);
	}
}

static void
finish_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct converge *c = container_of(w, struct converge, finish);

	(void)loop;
	(void)revents;
	c->done(c, c->arg);
}

/* --- manifest records ------------------------------------------------------------------ */

static void
before_clear(struct fn *f)
{
	free(f->b_version);
	free(f->b_routing);
	free(f->b_image);
	free(f->b_sha);
	free(f->b_rev);
	f->b_version = f->b_routing = f->b_image = f->b_sha = f->b_rev = NULL;
	f->b_weight = 0;
}

static const char *
image_of(const struct obs_latest *l)
{
	return l->resolved_image_uri != NULL ? l->resolved_image_uri : l->image_uri;
}

/* The "before" of an action on $LATEST. */
static void
before_latest(struct fn *f)
{
	const struct obs_latest *l = &f->res->fn.latest;

	before_clear(f);
	f->b_image = dup_opt(image_of(l));
	f->b_sha = dup_opt(l->code_sha256);
	f->b_rev = dup_opt(l->revision_id);
}

static const struct obs_alias *
alias_find(const struct obs_function *fn, const char *name)
{
	size_t i;

	for (i = 0; i < fn->naliases; i++)
		if (strcmp(fn->aliases[i].name, name) == 0)
			return &fn->aliases[i];
	return NULL;
}

static void
before_alias(struct fn *f, const char *name)
{
	const struct obs_alias *a = alias_find(&f->res->fn, name);

	before_clear(f);
	if (a == NULL)
		return;
	f->b_version = dup_opt(a->version);
	f->b_routing = dup_opt(a->routing_version);
	f->b_weight = a->routing_weight;
	f->b_rev = dup_opt(a->revision_id);
}

/*
 * Append one record for the action in flight (or just ended). after may be NULL. A
 * manifest that cannot be written stops the function: acting without a record is what
 * tether exists to prevent.
 */
static int
record(struct fn *f, const char *action, const char *why, const struct manifest_side *after,
    const char *request_id, const char *outcome, const struct err *e)
{
	struct manifest_record r;
	struct err werr = ERR_INIT;
	char errbuf[ERR_TYPE_MAX + ERR_MESSAGE_MAX + 4];

	memset(&r, 0, sizeof(r));
	r.time = (double)timeutil_wall_ms() / 1000.0;
	r.commit = f->c->commit;
	r.ref = f->c->ref;
	r.function = f->want->name;
	r.region = f->c->region;
	r.action = action;
	r.digest = f->res->digest[0] != '\0' ? f->res->digest : NULL;
	r.why = why;
	r.before.version = f->b_version;
	r.before.routing_version = f->b_routing;
	r.before.routing_weight = f->b_weight;
	r.before.image = f->b_image;
	r.before.code_sha256 = f->b_sha;
	r.before.revision_id = f->b_rev;
	if (after != NULL)
		r.after = *after;
	r.request_id = request_id != NULL && request_id[0] != '\0' ? request_id : NULL;
	r.outcome = outcome;
	if (e != NULL && e->code != 0) {
		snprintf(errbuf, sizeof(errbuf), "%s%s%s", e->type, e->type[0] != '\0' ? ": " : "",
		    e->message);
		r.error = errbuf;
	}
	r.duration_ms = f->t0 > 0 ? (double)(timeutil_mono_ms() - f->t0) : 0.0;
	r.trigger = f->c->drift ? "drift" : "commit";
	if (manifest_append(f->c->manifest, &r, &werr) != 0) {
		log_error(
		    "converge", "%s: cannot write the manifest: %s", f->want->name, werr.message);
		return -1;
	}
	return 0;
}

/* --- finishing ------------------------------------------------------------------------- */

/* A first function has made its first decision (its first call is queued, or it is
 * done): when it is the last of them, the others may start. */
static void
release(struct fn *f)
{
	if (!f->first || f->released)
		return;
	f->released = true;
	if (--f->c->first_held == 0)
		schedule(f->c);
}

static void
fn_done(struct fn *f, enum converge_outcome outcome, const char *detail)
{
	if (f->state == FN_DONE)
		return;
	f->res->outcome = outcome;
	free(f->res->detail);
	if (detail != NULL)
		f->res->detail = xstrdup(detail);
	else
		f->res->detail = dup_opt(f->detail_done);
	/* The last state change: a warning when the function did not converge. */
	log_msg(outcome == CONVERGE_FAILED || outcome == CONVERGE_BLOCKED ? LOG_LEVEL_WARN
	                                                                  : LOG_LEVEL_INFO,
	    "converge", "%s: %s -> done: %s%s%s", f->want->name, fn_state_names[f->state],
	    converge_outcome_names[outcome], f->res->detail != NULL ? ": " : "",
	    f->res->detail != NULL ? f->res->detail : "");
	f->state = FN_DONE;
	ev_timer_stop(f->c->loop, &f->canary);
	plan_step_free(&f->step);
	f->c->active--;
	f->c->finished++;
	if (f->first && !f->released) {
		f->released = true;
		f->c->first_held--;
	}
	schedule(f->c);
}

static void fn_fail(struct fn *f, const char *fmt, ...) PRINTFLIKE(2, 3);

static void
fn_fail(struct fn *f, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fn_done(f, CONVERGE_FAILED, buf);
}

static void note_done(struct fn *f, const char *fmt, ...) PRINTFLIKE(2, 3);

/* Add to the summary of what was done: "image :v1 -> :v2; published 7; live -> 7". */
static void
note_done(struct fn *f, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	char *s;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (f->detail_done == NULL) {
		f->detail_done = xstrdup(buf);
		return;
	}
	if (strlen(f->detail_done) > 400)
		return;
	s = xasprintf("%s; %s", f->detail_done, buf);
	free(f->detail_done);
	f->detail_done = s;
}

static int
save_state(struct fn *f)
{
	struct err err = ERR_INIT;

	if (state_save_function(f->c->state, f->c->region, f->want->name, &f->sf, &err) != 0) {
		fn_fail(f, "cannot write the state directory: %s", err.message);
		return -1;
	}
	return 0;
}

/* --- the observation ------------------------------------------------------------------- */

static const struct state_function *
cache_cb(const struct spec_function *want, void *arg)
{
	struct fn *f = arg;

	(void)want;
	return &f->sf;
}

static void
observed_cb(struct observe *o, void *arg)
{
	struct fn *f = arg;

	(void)o;
	f->observed = true;
	kick_later(f);
}

static void
fn_observe(struct fn *f, const char *why)
{
	struct observe_opts oo = OBSERVE_OPTS_INIT;
	struct err err = ERR_INIT;

	if (f->res->observes > CONVERGE_REOBSERVE_MAX) {
		fn_fail(f,
		    "changed by someone else %d times during this run; giving up until the "
		    "next one",
		    CONVERGE_REOBSERVE_MAX);
		return;
	}
	fn_set_state(f, FN_OBSERVE, why);
	f->res->observes++;
	oo.loop = f->c->loop;
	oo.lambda = f->c->lambda;
	oo.region = f->c->region;
	oo.concurrency = 1;
	oo.done = observed_cb;
	oo.arg = f;
	oo.no_listing = true;
	oo.cache = cache_cb;
	oo.cache_arg = f;
	if (observe_start(&f->obs, &f->one, &oo, &err) != 0)
		fn_fail(f, "cannot observe: %s", err.message);
}

/* Take the finished observation: the model the plan runs on from now. */
static void
take_observation(struct fn *f)
{
	const struct observe_result *r;
	struct obs_function *got = NULL;
	struct obs_function *fn = &f->res->fn;
	size_t n;

	f->observed = false;
	r = observe_results(f->obs, &n);
	assert(n == 1);
	if (r[0].err.code != 0) {
		fn_fail(f, "cannot observe: %s%s%s", r[0].err.type, r[0].err.type[0] ? ": " : "",
		    r[0].err.message);
		observe_free(f->obs);
		f->obs = NULL;
		return;
	}
	/* The observer computed the digest with the function's account ("" for a missing
	 * function: fn_plan() computes it once CreateFunction names the account). */
	memcpy(f->res->digest, r[0].digest, sizeof(f->res->digest));
	/* A fresh complete listing replaces the cache. */
	if (r[0].calls[OBSERVE_LIST_VERSIONS] > 0 && r[0].fn.versions_listed) {
		state_versions_replace(&f->sf, r[0].fn.versions, r[0].fn.nversions);
		if (save_state(f) != 0) {
			observe_free(f->obs);
			f->obs = NULL;
			return;
		}
	}
	observe_take(f->obs, &got, &n);
	observe_free(f->obs);
	f->obs = NULL;
	assert(n == 1);
	obs_function_clear(fn);
	*fn = got[0];
	free(got);

	/* A quarantine of another digest ends. */
	if (f->sf.quarantine_digest != NULL && f->res->digest[0] != '\0' &&
	    strcmp(f->sf.quarantine_digest, f->res->digest) != 0) {
		log_info("converge", "%s: quarantine of d=%.12s ends: git changed the function",
		    f->want->name, f->sf.quarantine_digest);
		free(f->sf.quarantine_digest);
		free(f->sf.quarantine_reason);
		free(f->sf.quarantine_commit);
		f->sf.quarantine_digest = f->sf.quarantine_reason = f->sf.quarantine_commit = NULL;
		f->sf.quarantine_time = 0;
		if (save_state(f) != 0)
			return;
	}
	if (f->sf.quarantine_digest != NULL) {
		fn->quarantined = xcalloc(1, sizeof(*fn->quarantined));
		fn->quarantined[0] = xstrdup(f->sf.quarantine_digest);
		fn->nquarantined = 1;
	}
	set_str(&fn->staged_s3, f->sf.staged_s3);
	set_str(&fn->staged_code_sha256, f->sf.staged_code_sha256);
	fn_plan(f);
}

/* --- folding answers into the model ---------------------------------------------------- */

/* Put v (taken: its strings now belong to the model) in place of the version with its
 * number, or add it. */
static void
model_version_put(struct obs_function *fn, struct obs_version *v)
{
	struct obs_version *slot = NULL;
	size_t i;

	for (i = 0; i < fn->nversions; i++)
		if (fn->versions[i].number == v->number)
			slot = &fn->versions[i];
	if (slot != NULL) {
		free(slot->description);
		free(slot->code_sha256);
	} else {
		fn->versions =
		    xreallocarray(fn->versions, fn->nversions + 1, sizeof(*fn->versions));
		slot = &fn->versions[fn->nversions++];
	}
	*slot = *v;
	obs_sort(fn);
}

static void
model_version_remove(struct obs_function *fn, long number)
{
	size_t i;

	for (i = 0; i < fn->nversions; i++) {
		if (fn->versions[i].number != number)
			continue;
		free(fn->versions[i].description);
		free(fn->versions[i].code_sha256);
		memmove(&fn->versions[i], &fn->versions[i + 1],
		    (fn->nversions - i - 1) * sizeof(*fn->versions));
		fn->nversions--;
		return;
	}
}

static void
model_alias_put(struct obs_function *fn, const struct lambda_alias *src)
{
	struct obs_alias *a = NULL;
	size_t i;

	for (i = 0; i < fn->naliases; i++)
		if (strcmp(fn->aliases[i].name, src->name) == 0)
			a = &fn->aliases[i];
	if (a == NULL) {
		fn->aliases = xreallocarray(fn->aliases, fn->naliases + 1, sizeof(*fn->aliases));
		a = &fn->aliases[fn->naliases++];
		memset(a, 0, sizeof(*a));
		a->name = xstrdup(src->name);
	}
	set_str(&a->version, src->function_version);
	set_str(&a->routing_version, src->routing_version);
	a->routing_weight = src->routing_weight;
	set_str(&a->description, src->description);
	set_str(&a->revision_id, src->revision_id);
	memset(&a->canary, 0, sizeof(a->canary));
	a->has_canary = a->description != NULL && obs_parse_canary(a->description, &a->canary);
	obs_sort(fn);
}

/* --- the plan -------------------------------------------------------------------------- */

static bool
skipped(const struct fn *f, long v)
{
	size_t i;

	for (i = 0; i < f->nskipped; i++)
		if (f->skipped[i] == v)
			return true;
	return false;
}

/* Drop the deletes Lambda already refused this run: they are not retried until the next. */
static void
drop_skipped(struct fn *f)
{
	struct plan_step *s = &f->step;
	size_t i, k = 0;

	for (i = 0; i < s->n; i++) {
		if (s->actions[i].kind == PLAN_DELETE_VERSION &&
		    skipped(f, s->actions[i].version)) {
			plan_action_clear(&s->actions[i]);
			continue;
		}
		s->actions[k++] = s->actions[i];
	}
	s->n = k;
}

/* Canary waits after every other action of the step: one alias's wait must not hold up
 * another alias's move. Stable otherwise. */
static void
waits_last(struct plan_step *s)
{
	struct plan_action *tmp;
	size_t i, k = 0;

	if (s->n < 2)
		return;
	tmp = xcalloc(s->n, sizeof(*tmp));
	for (i = 0; i < s->n; i++)
		if (s->actions[i].kind != PLAN_WAIT_CANARY)
			tmp[k++] = s->actions[i];
	for (i = 0; i < s->n; i++)
		if (s->actions[i].kind == PLAN_WAIT_CANARY)
			tmp[k++] = s->actions[i];
	memcpy(s->actions, tmp, s->n * sizeof(*tmp));
	free(tmp);
}

/* detect and suspend: the step says what enforce would do; record it, do nothing. */
static void
report(struct fn *f)
{
	const struct plan_action *a;
	size_t i;
	bool suspended = f->want->mode == SPEC_MODE_SUSPEND;

	if (suspended) {
		fn_done(f, CONVERGE_SUSPENDED, "suspended");
		return;
	}
	before_clear(f);
	f->t0 = 0;
	for (i = 0; i < f->step.n; i++) {
		a = &f->step.actions[i];
		f->res->kinds |= 1u << a->kind;
		if (record(f, "drift", a->why, NULL, NULL, "reported", NULL) != 0) {
			fn_fail(f, "cannot write the manifest");
			return;
		}
		note_done(f, "%s", a->why != NULL ? a->why : action_names[a->kind]);
	}
	fn_done(f, CONVERGE_REPORTED, NULL);
}

static void
fn_plan(struct fn *f)
{
	struct plan_ctx ctx;
	struct err err = ERR_INIT;

	if (f->c->stopping) {
		fn_done(
		    f, CONVERGE_PENDING, "interrupted: tether is stopping or has a newer commit");
		return;
	}
	fn_set_state(f, FN_PLAN, "observed");
	plan_step_free(&f->step);
	/* A function created in this run: its account (for layers by name) is known now. */
	if (f->res->digest[0] == '\0' && f->res->fn.exists &&
	    spec_digest(f->want, f->res->fn.account, f->res->digest, &err) != 0)
		f->res->digest[0] = '\0';
	if (++f->steps > CONVERGE_STEPS_MAX) {
		fn_fail(f, "does not converge after %d steps", CONVERGE_STEPS_MAX);
		return;
	}
	ctx.now = (long)time(NULL);
	ctx.commit = f->c->commit;
	ctx.ref = f->c->ref;
	if (plan_next(f->want, &f->res->fn, &ctx, &f->step, &err) != 0) {
		fn_fail(f, "cannot plan: %s", err.message);
		return;
	}
	drop_skipped(f);
	waits_last(&f->step);
	if (f->step.n == 0) {
		fn_done(f, f->res->mutations > 0 ? CONVERGE_CONVERGED : CONVERGE_IN_SYNC, NULL);
		return;
	}
	if (f->step.report_only) {
		report(f);
		return;
	}
	f->ai = 0;
	fn_act(f);
	release(f);
}

/* Go to the step's next action, or plan again when it is done. */
static void
advance(struct fn *f)
{
	f->ai++;
	if (f->ai < f->step.n) {
		fn_act(f);
		return;
	}
	/* The step is done: plan again, from the loop (not inside the client's callback). */
	fn_set_state(f, FN_PLAN, "step done");
	kick_later(f);
}

/* The current action ended well: record it, go on. */
static void
action_ok(struct fn *f, const struct manifest_side *after, const char *request_id)
{
	const struct plan_action *a = &f->step.actions[f->ai];

	f->res->kinds |= 1u << a->kind;
	if (record(f, action_names[a->kind], a->why, after, request_id, "ok", NULL) != 0) {
		fn_fail(f, "cannot write the manifest");
		return;
	}
	advance(f);
}

/*
 * The current action failed. Lambda saying someone else changed the function (412, 409, a
 * CodeSha256 that moved) means: observe again and decide again. Anything else ends the
 * function's run.
 */
static void
action_failed(struct fn *f, const struct err *e, const char *request_id)
{
	const struct plan_action *a = &f->step.actions[f->ai];
	bool conflict = e->code == ERR_PRECONDITION || e->code == ERR_CONFLICT ||
	                (a->kind == PLAN_PUBLISH && e->code == ERR_INVALID &&
	                    strstr(e->message, "CodeSHA256") != NULL);
	/* An alias sent to a version that is gone: someone deleted it (drift). The version
	 * cache cannot know; list the versions again and decide again (republish). */
	bool vanished = e->code == ERR_NOTFOUND &&
	                (a->kind == PLAN_UPDATE_ALIAS || a->kind == PLAN_CREATE_ALIAS) &&
	                f->res->fn.exists;

	if (vanished) {
		f->sf.versions_complete = false;
		if (save_state(f) != 0)
			return;
		conflict = true;
	}

	if (record(f, action_names[a->kind], a->why, NULL, request_id,
	        conflict ? "conflict" : "failed", e) != 0) {
		fn_fail(f, "cannot write the manifest");
		return;
	}
	if (conflict) {
		log_info("converge", "%s: %s: %s; observing again", f->want->name,
		    action_names[a->kind], e->message);
		plan_step_free(&f->step);
		fn_observe(f, "changed by someone else");
		return;
	}
	fn_fail(f, "%s failed: %s%s%s", action_names[a->kind], e->type, e->type[0] ? ": " : "",
	    e->message);
}

/* --- actions --------------------------------------------------------------------------- */

static void
after_latest(struct manifest_side *s, const struct obs_latest *l)
{
	memset(s, 0, sizeof(*s));
	s->image = image_of(l);
	s->code_sha256 = l->code_sha256;
	s->revision_id = l->revision_id;
}

/* Lambda never says where zip code came from: remember the S3 object $LATEST now holds
 * (in the state file and the model), or the next plan would write it again. */
static void
remember_staged(struct fn *f, const struct plan_action *a, const struct lambda_function *lf)
{
	free(f->sf.staged_s3);
	f->sf.staged_s3 = obs_format_s3(a->code);
	set_str(&f->sf.staged_code_sha256, lf->code_sha256);
	set_str(&f->res->fn.staged_s3, f->sf.staged_s3);
	set_str(&f->res->fn.staged_code_sha256, lf->code_sha256);
}

/* The answer of CreateFunction, UpdateFunctionCode or -Configuration, or a waiter. */
static void
latest_cb(const struct lambda_function *lf, const struct err *e, void *arg)
{
	struct fn *f = arg;
	const struct plan_action *a = &f->step.actions[f->ai];
	struct manifest_side after;
	const char *rid = lambda_call_request_id(f->call);
	char *rid_copy = dup_opt(rid);
	struct err derr = ERR_INIT;

	f->call = NULL;
	if (e != NULL) {
		if (a->kind == PLAN_WAIT_UPDATED && e->code == ERR_FAIL) {
			/* Lambda's Failed: the attempt ends with its reason. */
			record(f, "wait", a->why, NULL, rid_copy, "failed", e);
			fn_fail(f, "update failed: %s", e->message);
		} else {
			action_failed(f, e, rid_copy);
		}
		free(rid_copy);
		return;
	}
	if (a->kind != PLAN_WAIT_UPDATED)
		f->res->mutations++;
	observe_fill_latest(&f->res->fn, lf);
	if (a->kind == PLAN_CREATE_FUNCTION) {
		/* Brand new: nothing published, nothing references it. */
		f->res->fn.versions_listed = true;
		f->res->fn.refs_listed = true;
		state_versions_replace(&f->sf, NULL, 0);
		if (a->code->kind == SPEC_CODE_S3)
			remember_staged(f, a, lf);
		note_done(f, "created");
		/* The account is known now: every record of the function carries the digest. */
		if (f->res->digest[0] == '\0' &&
		    spec_digest(f->want, f->res->fn.account, f->res->digest, &derr) != 0)
			f->res->digest[0] = '\0';
		if (save_state(f) != 0) {
			free(rid_copy);
			return;
		}
	}
	if (a->kind == PLAN_UPDATE_CODE) {
		if (a->code->kind == SPEC_CODE_S3) {
			remember_staged(f, a, lf);
			if (save_state(f) != 0) {
				free(rid_copy);
				return;
			}
		}
		note_done(f, "%s", a->why);
	} else if (a->kind == PLAN_UPDATE_CONFIG) {
		note_done(f, "%s", a->why);
	} else if (a->kind == PLAN_WAIT_UPDATED && f->res->fn.staged_s3 != NULL &&
	           f->sf.staged_s3 != NULL) {
		/* The update settled: the CodeSha256 of the staged code is now final. */
		set_str(&f->sf.staged_code_sha256, lf->code_sha256);
		set_str(&f->res->fn.staged_code_sha256, lf->code_sha256);
		if (save_state(f) != 0) {
			free(rid_copy);
			return;
		}
	}
	after_latest(&after, &f->res->fn.latest);
	action_ok(f, &after, a->kind == PLAN_WAIT_UPDATED ? NULL : rid_copy);
	free(rid_copy);
}

static void
env_pairs(const struct spec_kv *kv, size_t n, struct lambda_pair **out)
{
	size_t i;

	*out = n > 0 ? xcalloc(n, sizeof(**out)) : NULL;
	for (i = 0; i < n; i++) {
		(*out)[i].key = kv[i].key;
		(*out)[i].value = kv[i].value;
	}
}

static int
act_create(struct fn *f, const struct plan_action *a, struct err *err)
{
	const struct plan_config *cfg = a->config;
	struct lambda_create_function in;
	struct lambda_pair *env = NULL;
	int rc;

	memset(&in, 0, sizeof(in));
	in.name = f->want->name;
	in.role = cfg->role;
	if (a->code->kind == SPEC_CODE_IMAGE) {
		in.package_type = "Image";
		in.code.image_uri = a->code->image;
	} else {
		in.package_type = "Zip";
		in.code.s3_bucket = a->code->s3_bucket;
		in.code.s3_key = a->code->s3_key;
		in.code.s3_object_version = a->code->s3_object_version;
		in.runtime = cfg->runtime;
		in.handler = cfg->handler;
	}
	in.description = cfg->has_description ? cfg->description : NULL;
	in.memory = cfg->has_memory ? (int)cfg->memory : 0;
	in.timeout = cfg->has_timeout ? (int)cfg->timeout : 0;
	if (cfg->has_environment) {
		env_pairs(cfg->environment, cfg->nenvironment, &env);
		in.environment = env;
		in.nenvironment = cfg->nenvironment;
	}
	if (cfg->has_layers) {
		in.layers = (const char *const *)cfg->layers;
		in.nlayers = cfg->nlayers;
	}
	before_clear(f);
	rc = lambda_client_create_function(f->c->lambda, &in, latest_cb, f, &f->call, err);
	free(env);
	return rc;
}

static int
act_update_code(struct fn *f, const struct plan_action *a, struct err *err)
{
	struct lambda_update_code in;

	memset(&in, 0, sizeof(in));
	if (a->code->kind == SPEC_CODE_IMAGE) {
		in.code.image_uri = a->code->image;
	} else {
		in.code.s3_bucket = a->code->s3_bucket;
		in.code.s3_key = a->code->s3_key;
		in.code.s3_object_version = a->code->s3_object_version;
	}
	in.revision_id = a->revision_id;
	before_latest(f);
	return lambda_client_update_function_code(
	    f->c->lambda, f->id, &in, latest_cb, f, &f->call, err);
}

static int
act_update_config(struct fn *f, const struct plan_action *a, struct err *err)
{
	const struct plan_config *cfg = a->config;
	struct lambda_update_config in;
	struct lambda_pair *env = NULL;
	int rc;

	memset(&in, 0, sizeof(in));
	if (cfg->has_memory) {
		in.set |= LAMBDA_CONFIG_MEMORY;
		in.memory = (int)cfg->memory;
	}
	if (cfg->has_timeout) {
		in.set |= LAMBDA_CONFIG_TIMEOUT;
		in.timeout = (int)cfg->timeout;
	}
	if (cfg->has_description) {
		in.set |= LAMBDA_CONFIG_DESCRIPTION;
		in.description = cfg->description;
	}
	if (cfg->has_role) {
		in.set |= LAMBDA_CONFIG_ROLE;
		in.role = cfg->role;
	}
	if (cfg->has_handler) {
		in.set |= LAMBDA_CONFIG_HANDLER;
		in.handler = cfg->handler;
	}
	if (cfg->has_runtime) {
		in.set |= LAMBDA_CONFIG_RUNTIME;
		in.runtime = cfg->runtime;
	}
	if (cfg->has_environment) {
		in.set |= LAMBDA_CONFIG_ENVIRONMENT;
		env_pairs(cfg->environment, cfg->nenvironment, &env);
		in.environment = env;
		in.nenvironment = cfg->nenvironment;
	}
	if (cfg->has_layers) {
		in.set |= LAMBDA_CONFIG_LAYERS;
		in.layers = (const char *const *)cfg->layers;
		in.nlayers = cfg->nlayers;
	}
	in.revision_id = a->revision_id;
	before_latest(f);
	rc = lambda_client_update_function_configuration(
	    f->c->lambda, f->id, &in, latest_cb, f, &f->call, err);
	free(env);
	return rc;
}

static int
act_wait(struct fn *f, struct err *err)
{
	struct lambda_wait_opts wo = LAMBDA_WAIT_OPTS_INIT;
	const struct obs_latest *l = &f->res->fn.latest;

	before_latest(f);
	if (l->state != NULL && strcmp(l->state, "Pending") == 0)
		return lambda_client_wait_active(
		    f->c->lambda, f->id, &wo, latest_cb, f, &f->call, err);
	return lambda_client_wait_updated(f->c->lambda, f->id, &wo, latest_cb, f, &f->call, err);
}

/* --- checks: the smoke test before publishing, the canary check of each step ---------- */

/* Whether got contains want: objects key by key (recursively), anything else whole. */
static bool
json_contains(const json_t *got, const json_t *want)
{
	const char *key;
	json_t *wv;

	if (json_is_object(want)) {
		if (!json_is_object(got))
			return false;
		json_object_foreach((json_t *)want, key, wv)
		{
			if (!json_contains(json_object_get(got, key), wv))
				return false;
		}
		return true;
	}
	return got != NULL && json_equal((json_t *)got, (json_t *)want);
}

/* Why an invocation's result fails the check, or NULL when it passes. Allocated. */
static char *
check_result(const struct fn *f, const struct lambda_invoke_result *res)
{
	const char *expect = f->want->smoke_test.expect;
	json_t *got, *want;
	json_error_t jerr;
	bool ok;

	if (res->function_error != NULL)
		return xasprintf("function error %s: %.200s", res->function_error,
		    res->payload != NULL ? (const char *)res->payload : "");
	if (expect == NULL)
		return NULL;
	got = json_loadb((const char *)res->payload, res->payload_len,
	    JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK, &jerr);
	if (got == NULL)
		return xasprintf("the result is not JSON: %s", jerr.text);
	want = json_loads(expect, JSON_DECODE_ANY, &jerr);
	if (want == NULL) {
		json_decref(got);
		return xasprintf("expect is not JSON: %s", jerr.text);
	}
	ok = json_contains(got, want);
	json_decref(got);
	json_decref(want);
	if (ok)
		return NULL;
	return xasprintf(
	    "the result %.200s does not contain %.200s", (const char *)res->payload, expect);
}

/* A check failed: quarantine the digest (durably) so it is not rolled out again. */
static int
quarantine(struct fn *f, const char *what, const char *why)
{
	char *reason;

	/* Never a quarantine of "": it would match no digest and protect nothing. */
	if (f->res->digest[0] == '\0') {
		fn_fail(f, "%s failed (%s), and the spec digest is unknown: not quarantined", what,
		    why);
		return -1;
	}
	reason = xasprintf("%s: %s", what, why);

	set_str(&f->sf.quarantine_digest, f->res->digest);
	free(f->sf.quarantine_reason);
	f->sf.quarantine_reason = reason;
	set_str(&f->sf.quarantine_commit, f->c->commit);
	f->sf.quarantine_time = (long)time(NULL);
	if (save_state(f) != 0)
		return -1;
	before_clear(f);
	if (record(f, "quarantine", reason, NULL, NULL, "ok", NULL) != 0) {
		fn_fail(f, "cannot write the manifest");
		return -1;
	}
	log_warn("converge", "%s: d=%.12s quarantined: %s", f->want->name, f->res->digest, reason);
	f->res->fn.quarantined =
	    xreallocarray(f->res->fn.quarantined, f->res->fn.nquarantined + 1, sizeof(char *));
	f->res->fn.quarantined[f->res->fn.nquarantined++] = xstrdup(f->res->digest);
	return 0;
}

static void
smoke_cb(const struct lambda_invoke_result *res, const struct err *e, void *arg)
{
	struct fn *f = arg;
	const struct plan_action *a = &f->step.actions[f->ai];
	char *rid = dup_opt(lambda_call_request_id(f->call));
	char *why;
	struct err cerr = ERR_INIT;

	f->call = NULL;
	if (e != NULL) {
		action_failed(f, e, rid);
		free(rid);
		return;
	}
	why = check_result(f, res);
	if (why == NULL) {
		action_ok(f, NULL, rid);
		free(rid);
		return;
	}
	err_set(&cerr, ERR_FAIL, "%s", why);
	if (record(f, "smoke_test", a->why, NULL, rid, "failed", &cerr) == 0 &&
	    quarantine(f, "smoke test", why) == 0)
		fn_fail(f, "smoke test failed: %s; nothing published, d=%.12s quarantined", why,
		    f->res->digest);
	free(why);
	free(rid);
}

static int
act_smoke(struct fn *f, const struct plan_action *a, struct err *err)
{
	struct lambda_invoke in;

	memset(&in, 0, sizeof(in));
	in.payload = a->payload;
	in.payload_len = strlen(a->payload);
	before_latest(f);
	return lambda_client_invoke(f->c->lambda, f->id, &in, smoke_cb, f, &f->call, err);
}

/* --- publish ---------------------------------------------------------------------------- */

/* The published version is Active (the publish itself is already recorded). */
static void
version_active_cb(const struct lambda_function *lf, const struct err *e, void *arg)
{
	struct fn *f = arg;

	(void)lf;
	f->call = NULL;
	if (e != NULL) {
		action_failed(f, e, NULL);
		return;
	}
	advance(f);
}

static void
publish_cb(const struct lambda_function *lf, const struct err *e, void *arg)
{
	struct fn *f = arg;
	const struct plan_action *a = &f->step.actions[f->ai];
	struct lambda_wait_opts wo = LAMBDA_WAIT_OPTS_INIT;
	struct obs_version v;
	struct manifest_side after;
	struct err err = ERR_INIT;
	char *rid = dup_opt(lambda_call_request_id(f->call));
	char num[24];
	long number;
	bool existed;

	f->call = NULL;
	if (e != NULL) {
		action_failed(f, e, rid);
		free(rid);
		return;
	}
	f->res->mutations++;
	if (!observe_parse_version(lf->version, &number)) {
		err_set(&err, ERR_FAIL, "PublishVersion answered version \"%s\"",
		    lf->version != NULL ? lf->version : "");
		action_failed(f, &err, rid);
		free(rid);
		return;
	}
	observe_fill_version(&v, number, lf);
	existed = obs_version_find(&f->res->fn, number) != NULL;
	state_version_add(&f->sf, &v);
	model_version_put(&f->res->fn, &v); /* v's strings now belong to the model */
	if (save_state(f) != 0) {
		free(rid);
		return;
	}
	if (strncmp(v.digest, a->digest, SPEC_DIGEST_SHORT) != 0) {
		/* Nothing changed since version N, which someone else published: Lambda gave
		 * it back instead of a new one. Its code and configuration are the spec's, but
		 * it does not carry the digest, and tether will not adopt a version it cannot
		 * identify. */
		err_set(&err, ERR_FAIL,
		    "Lambda returned version %ld, which %s published with description \"%s\": "
		    "$LATEST equals the spec but was published by someone else",
		    number, existed ? "was already" : "someone else", lf->description);
		action_failed(f, &err, rid);
		free(rid);
		return;
	}
	note_done(f, "published %ld", number);
	log_info(
	    "converge", "%s: published version %ld (d=%.12s)", f->want->name, number, a->digest);
	/* The record of the publish itself, then wait until the version is Active. */
	snprintf(num, sizeof(num), "%ld", number);
	memset(&after, 0, sizeof(after));
	after.version = num;
	after.image = lf->resolved_image_uri != NULL ? lf->resolved_image_uri : lf->image_uri;
	after.code_sha256 = lf->code_sha256;
	after.revision_id = lf->revision_id;
	f->res->kinds |= 1u << a->kind;
	if (record(f, "publish", a->why, &after, rid, "ok", NULL) != 0) {
		free(rid);
		fn_fail(f, "cannot write the manifest");
		return;
	}
	free(rid);
	if (lambda_client_wait_version_active(
	        f->c->lambda, f->id, num, &wo, version_active_cb, f, &f->call, &err) != 0)
		fn_fail(f, "cannot wait for version %ld: %s", number, err.message);
}

static int
act_publish(struct fn *f, const struct plan_action *a, struct err *err)
{
	struct lambda_publish in;

	memset(&in, 0, sizeof(in));
	in.description = a->description;
	in.code_sha256 = a->code_sha256;
	in.revision_id = a->revision_id;
	before_latest(f);
	return lambda_client_publish_version(
	    f->c->lambda, f->id, &in, publish_cb, f, &f->call, err);
}

/* --- aliases ---------------------------------------------------------------------------- */

static void
alias_cb(const struct lambda_alias *al, const struct err *e, void *arg)
{
	struct fn *f = arg;
	const struct plan_action *a = &f->step.actions[f->ai];
	char *rid = dup_opt(lambda_call_request_id(f->call));
	struct manifest_side after;

	f->call = NULL;
	if (e != NULL) {
		action_failed(f, e, rid);
		free(rid);
		return;
	}
	f->res->mutations++;
	model_alias_put(&f->res->fn, al);
	note_done(f, "%s", a->why);
	memset(&after, 0, sizeof(after));
	after.version = al->function_version;
	after.routing_version = al->routing_version;
	after.routing_weight = al->routing_weight;
	after.revision_id = al->revision_id;
	action_ok(f, &after, rid);
	free(rid);
}

static int
act_alias(struct fn *f, const struct plan_action *a, struct err *err)
{
	struct lambda_alias_spec in;
	char version[24], routing[24];

	memset(&in, 0, sizeof(in));
	snprintf(version, sizeof(version), "%ld", a->version);
	in.function_version = version;
	in.description = a->description;
	/* Routing is always stated: a move clears weights someone added. */
	in.set_routing = true;
	if (a->routing_version > 0) {
		snprintf(routing, sizeof(routing), "%ld", a->routing_version);
		in.routing_version = routing;
		in.routing_weight = a->routing_weight;
	}
	before_alias(f, a->alias);
	if (a->kind == PLAN_CREATE_ALIAS)
		return lambda_client_create_alias(
		    f->c->lambda, f->id, a->alias, &in, alias_cb, f, &f->call, err);
	in.revision_id = a->revision_id;
	return lambda_client_update_alias(
	    f->c->lambda, f->id, a->alias, &in, alias_cb, f, &f->call, err);
}

/* --- prune ------------------------------------------------------------------------------ */

static void
delete_cb(const struct err *e, void *arg)
{
	struct fn *f = arg;
	const struct plan_action *a = &f->step.actions[f->ai];
	char *rid = dup_opt(lambda_call_request_id(f->call));

	f->call = NULL;
	if (e != NULL && e->code == ERR_CONFLICT) {
		/* Something references it after all (a mapping or provisioned concurrency
		 * created since the observation): skip it, never abort. */
		f->skipped = xreallocarray(f->skipped, f->nskipped + 1, sizeof(*f->skipped));
		f->skipped[f->nskipped++] = a->version;
		if (record(f, "delete_version", a->why, NULL, rid, "skipped", e) != 0)
			fn_fail(f, "cannot write the manifest");
		else
			advance(f);
		free(rid);
		return;
	}
	if (e != NULL && e->code != ERR_NOTFOUND) {
		action_failed(f, e, rid);
		free(rid);
		return;
	}
	if (e == NULL)
		f->res->mutations++;
	model_version_remove(&f->res->fn, a->version);
	state_version_remove(&f->sf, a->version);
	if (save_state(f) != 0) {
		free(rid);
		return;
	}
	note_done(f, "pruned %ld", a->version);
	action_ok(f, NULL, rid);
	free(rid);
}

static int
act_delete(struct fn *f, const struct plan_action *a, struct err *err)
{
	char q[24];

	snprintf(q, sizeof(q), "%ld", a->version);
	before_clear(f);
	f->b_version = xstrdup(q);
	return lambda_client_delete_function(f->c->lambda, f->id, q, delete_cb, f, &f->call, err);
}

/* --- canary ----------------------------------------------------------------------------- */

/* The step's canary wait that ends first (waits come last in a step: waits_last()); NULL
 * when it has none. The timer waits for it, and its alias is the one checked. */
static const struct plan_action *
first_wait(const struct fn *f)
{
	const struct plan_action *a = NULL;
	size_t i;

	for (i = 0; i < f->step.n; i++) {
		const struct plan_action *x = &f->step.actions[i];

		if (x->kind == PLAN_WAIT_CANARY && (a == NULL || x->until < a->until))
			a = x;
	}
	return a;
}

/* The check of first_wait()'s alias passed: the planner may end its step. The mark lives
 * on the observation, so a new step (the alias updated) or a fresh observation (another
 * run) starts unchecked. */
static void
mark_checked(struct fn *f)
{
	const struct plan_action *w = first_wait(f);
	size_t i;
	long routed;

	for (i = 0; w != NULL && i < f->res->fn.naliases; i++) {
		struct obs_alias *a = &f->res->fn.aliases[i];

		if (strcmp(a->name, w->alias) == 0 && a->has_canary && a->routing_version != NULL &&
		    observe_parse_version(a->routing_version, &routed) &&
		    routed == w->routing_version)
			a->canary.checked = true;
	}
}

static void
canary_invoke_cb(const struct lambda_invoke_result *res, const struct err *e, void *arg)
{
	struct fn *f = arg;
	char *rid = dup_opt(lambda_call_request_id(f->call));
	char *why = NULL;
	struct err cerr = ERR_INIT;

	f->call = NULL;
	if (e != NULL && (e->code == ERR_TRANSIENT || e->code == ERR_THROTTLED)) {
		/* Lambda could not be asked (5xx, throttled, no answer, after the retries): that
		 * says nothing about the version. The canary stays at its step, and the next run
		 * checks again; quarantining would block the digest until git changes. */
		if (record(f, "canary_check", "canary check could not run", NULL, rid, "failed",
		        e) != 0)
			fn_fail(f, "cannot write the manifest");
		else
			fn_fail(f,
			    "canary check could not run: %s%s%s; the canary stays at its step",
			    e->type, e->type[0] != '\0' ? ": " : "", e->message);
		free(rid);
		return;
	}
	if (e != NULL)
		why = xasprintf("invoke failed: %s", e->message);
	else
		why = check_result(f, res);
	if (why == NULL) {
		record(f, "canary_check", "canary check passed", NULL, rid, "ok", NULL);
		free(rid);
		mark_checked(f);
		fn_plan(f);
		return;
	}
	err_set(&cerr, ERR_FAIL, "%s", why);
	if (record(f, "canary_check", "canary check failed", NULL, rid, "failed", &cerr) == 0 &&
	    quarantine(f, "canary check", why) == 0) {
		/* The planner restores the stable routing of a canary towards a quarantined
		 * digest, then reports the function blocked. */
		note_done(f, "canary check failed: %s", why);
		fn_plan(f);
	}
	free(why);
	free(rid);
}

/* A canary step is due: check the new version (when a smoke test is declared), then plan. */
static void
canary_due_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct fn *f = container_of(w, struct fn, canary);
	const struct plan_action *a;
	struct lambda_invoke in;
	struct err err = ERR_INIT;
	char q[24];

	(void)loop;
	(void)revents;
	/* The wait that ended: the earliest (another alias's may still run). */
	a = first_wait(f);
	if (a == NULL || !f->want->has_smoke_test || a->routing_version <= 0) {
		fn_plan(f);
		return;
	}
	memset(&in, 0, sizeof(in));
	snprintf(q, sizeof(q), "%ld", a->routing_version);
	in.qualifier = q;
	in.payload = f->want->smoke_test.payload;
	in.payload_len = strlen(f->want->smoke_test.payload);
	before_alias(f, a->alias);
	f->t0 = timeutil_mono_ms();
	if (lambda_client_invoke(f->c->lambda, f->id, &in, canary_invoke_cb, f, &f->call, &err) !=
	    0)
		fn_fail(f, "cannot invoke version %s: %s", q, err.message);
}

/* The step's remaining actions are canary waits: wait until the earliest is due. */
static void
act_canary_wait(struct fn *f)
{
	long until = first_wait(f)->until, now = (long)time(NULL);

	fn_set_state(f, FN_CANARY, f->step.actions[f->ai].why);
	ev_timer_set(&f->canary, until > now ? (double)(until - now) : 0.0, 0.0);
	ev_timer_start(f->c->loop, &f->canary);
}

/* --- dispatch --------------------------------------------------------------------------- */

static void
fn_act(struct fn *f)
{
	const struct plan_action *a = &f->step.actions[f->ai];
	struct err err = ERR_INIT;
	char why[512];
	int rc = 0;

	if (f->c->stopping) {
		fn_done(
		    f, CONVERGE_PENDING, "interrupted: tether is stopping or has a newer commit");
		return;
	}
	if (a->kind != PLAN_BLOCKED && a->kind != PLAN_WAIT_CANARY) {
		snprintf(why, sizeof(why), "%s: %s", action_names[a->kind],
		    a->why != NULL ? a->why : "");
		fn_set_state(f, FN_ACT, why);
	}
	f->t0 = timeutil_mono_ms();
	switch (a->kind) {
	case PLAN_CREATE_FUNCTION:
		rc = act_create(f, a, &err);
		break;
	case PLAN_UPDATE_CODE:
		rc = act_update_code(f, a, &err);
		break;
	case PLAN_UPDATE_CONFIG:
		rc = act_update_config(f, a, &err);
		break;
	case PLAN_WAIT_UPDATED:
		rc = act_wait(f, &err);
		break;
	case PLAN_SMOKE_TEST:
		rc = act_smoke(f, a, &err);
		break;
	case PLAN_PUBLISH:
		rc = act_publish(f, a, &err);
		break;
	case PLAN_CREATE_ALIAS:
	case PLAN_UPDATE_ALIAS:
		rc = act_alias(f, a, &err);
		break;
	case PLAN_DELETE_VERSION:
		rc = act_delete(f, a, &err);
		break;
	case PLAN_WAIT_CANARY:
		act_canary_wait(f);
		return;
	case PLAN_BLOCKED:
		before_clear(f);
		err_set(&err, ERR_FAIL, "blocked: %s", a->why);
		if (record(f, "blocked", a->why, NULL, NULL, "failed", &err) != 0) {
			fn_fail(f, "cannot write the manifest");
			return;
		}
		fn_done(f, CONVERGE_BLOCKED, a->why);
		return;
	}
	if (rc != 0)
		fn_fail(f, "%s: %s", action_names[a->kind], err.message);
}

static void
kick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct fn *f = container_of(w, struct fn, kick);

	(void)loop;
	(void)revents;
	if (f->state == FN_DONE)
		return;
	if (f->observed) {
		take_observation(f);
		return;
	}
	if (f->state == FN_PLAN)
		fn_plan(f);
}

static void
fn_start(struct fn *f)
{
	struct err err = ERR_INIT;

	if (state_load_function(f->c->state, f->c->region, f->want->name, &f->sf, &err) != 0) {
		fn_fail(f, "cannot read the state directory: %s", err.message);
		return;
	}
	if (f->want->mode == SPEC_MODE_SUSPEND) {
		fn_done(f, CONVERGE_SUSPENDED, "suspended");
		return;
	}
	fn_observe(f, "start");
}

static void
schedule(struct converge *c)
{
	if (c->scheduling)
		return;
	c->scheduling = true;
	while (c->next < c->n && c->active < c->concurrency) {
		if (c->first_held > 0 && !c->fns[c->order[c->next]].first)
			break;
		c->active++;
		fn_start(&c->fns[c->order[c->next++]]);
	}
	c->scheduling = false;
	if (c->finished == c->n && !ev_is_active(&c->finish)) {
		ev_timer_set(&c->finish, 0.0, 0.0);
		ev_timer_start(c->loop, &c->finish);
	}
}

/* --- the public part -------------------------------------------------------------------- */

int
converge_start(struct converge **out, const struct spec *want, const struct converge_opts *opts,
    struct err *err)
{
	struct converge *c;
	struct fn *f;
	size_t i, k, n = 0;

	*out = NULL;
	if (opts == NULL || opts->loop == NULL || opts->lambda == NULL || opts->region == NULL ||
	    opts->state == NULL || opts->manifest == NULL || opts->commit == NULL ||
	    opts->done == NULL)
		return err_set(err, ERR_INVALID,
		    "converge: loop, lambda, region, state, manifest, commit and done are "
		    "required");
	c = xcalloc(1, sizeof(*c));
	c->loop = opts->loop;
	c->lambda = opts->lambda;
	c->region = xstrdup(opts->region);
	c->state = opts->state;
	c->manifest = opts->manifest;
	c->commit = xstrdup(opts->commit);
	c->ref = dup_opt(opts->ref);
	c->concurrency = opts->concurrency > 0 ? opts->concurrency : CONVERGE_CONCURRENCY;
	c->done = opts->done;
	c->arg = opts->arg;
	c->drift = opts->drift;
	ev_timer_init(&c->finish, finish_cb, 0.0, 0.0);
	for (i = 0; i < want->n; i++)
		if (strcmp(want->functions[i].region, opts->region) == 0)
			n++;
	c->results = n > 0 ? xcalloc(n, sizeof(*c->results)) : NULL;
	c->fns = n > 0 ? xcalloc(n, sizeof(*c->fns)) : NULL;
	for (i = 0; i < want->n; i++) {
		if (strcmp(want->functions[i].region, opts->region) != 0)
			continue;
		f = &c->fns[c->n];
		f->c = c;
		f->res = &c->results[c->n];
		f->want = &want->functions[i];
		f->res->want = f->want;
		f->res->fn.name = xstrdup(f->want->name);
		f->res->fn.region = xstrdup(opts->region);
		f->one.functions = (struct spec_function *)f->want;
		f->one.n = 1;
		f->id = f->want->arn != NULL ? f->want->arn : f->want->name;
		ev_timer_init(&f->kick, kick_cb, 0.0, 0.0);
		ev_timer_init(&f->canary, canary_due_cb, 0.0, 0.0);
		f->first = opts->first != NULL && opts->first(f->want, opts->first_arg);
		c->n++;
	}
	/* The first functions, then the others, each in want's order. */
	c->order = c->n > 0 ? xcalloc(c->n, sizeof(*c->order)) : NULL;
	for (i = 0, k = 0; i < c->n; i++)
		if (c->fns[i].first)
			c->order[k++] = i;
	c->first_held = k;
	for (i = 0; i < c->n; i++)
		if (!c->fns[i].first)
			c->order[k++] = i;
	schedule(c);
	*out = c;
	return 0;
}

void
converge_stop(struct converge *c)
{
	struct fn *f;
	size_t i;

	if (c->stopping)
		return;
	c->stopping = true;
	log_info("converge", "%s: stopping: in-flight calls finish, nothing new starts", c->region);
	/* Functions not started yet stay as they are. */
	for (i = c->next; i < c->n; i++) {
		size_t k = c->order[i];

		c->results[k].outcome = CONVERGE_PENDING;
		c->results[k].detail =
		    xstrdup("not started: tether is stopping or has a newer commit");
		c->fns[k].state = FN_DONE;
		c->finished++;
	}
	c->first_held = 0;
	c->next = c->n;
	/* A canary step waiting for its time holds no call: it resumes from the alias's
	 * description on the next run. */
	for (i = 0; i < c->n; i++) {
		f = &c->fns[i];
		if (f->state == FN_CANARY && ev_is_active(&f->canary) && f->call == NULL)
			fn_done(f, CONVERGE_PENDING,
			    "interrupted during a canary step; resumes next run");
	}
	schedule(c);
}

bool
converge_stopping(const struct converge *c)
{
	return c->stopping;
}

void
converge_free(struct converge *c)
{
	size_t i;
	struct fn *f;

	if (c == NULL)
		return;
	ev_timer_stop(c->loop, &c->finish);
	for (i = 0; i < c->n; i++) {
		f = &c->fns[i];
		if (f->call != NULL)
			lambda_call_cancel(f->call);
		observe_free(f->obs);
		ev_timer_stop(c->loop, &f->kick);
		ev_timer_stop(c->loop, &f->canary);
		plan_step_free(&f->step);
		state_function_clear(&f->sf);
		before_clear(f);
		free(f->skipped);
		free(f->detail_done);
		obs_function_clear(&c->results[i].fn);
		free(c->results[i].detail);
	}
	free(c->fns);
	free(c->order);
	free(c->results);
	free(c->region);
	free(c->commit);
	free(c->ref);
	free(c);
}

const struct converge_result *
converge_results(const struct converge *c, size_t *n)
{
	*n = c->n;
	return c->results;
}
