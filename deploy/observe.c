/*
 * The observer: one small state machine per desired function, driven by the Lambda
 * client's callbacks on the loop. See deploy/observe.h and docs/observe.md for what it
 * reads and when.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/compat.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "deploy/observe.h"
#include "deploy/state.h"

const char *const observe_call_names[] = {
    [OBSERVE_LIST_FUNCTIONS] = "ListFunctions",
    [OBSERVE_GET_FUNCTION] = "GetFunction",
    [OBSERVE_GET_VERSION] = "GetFunction(version)",
    [OBSERVE_LIST_ALIASES] = "ListAliases",
    [OBSERVE_LIST_VERSIONS] = "ListVersionsByFunction",
    [OBSERVE_LIST_ESM] = "ListEventSourceMappings",
    [OBSERVE_LIST_PC] = "ListProvisionedConcurrencyConfigs",
};

/* Where one function's observation is. */
enum fnobs_state {
	FNOBS_QUEUED,       /* waiting for the listing or for a free slot */
	FNOBS_CONFIRM,      /* not listed: GetFunction says whether it exists */
	FNOBS_ALIASES,      /* ListAliases */
	FNOBS_NAMED,        /* GetFunction of each version an alias or a pin names */
	FNOBS_ALL_VERSIONS, /* ListVersionsByFunction */
	FNOBS_LATEST,       /* GetFunction: $LATEST's status and image */
	FNOBS_REFS,         /* event source mappings and provisioned concurrency */
	FNOBS_DONE,
	FNOBS_FAILED,
};

static const char *const fnobs_state_names[] = {
    [FNOBS_QUEUED] = "queued",
    [FNOBS_CONFIRM] = "confirm",
    [FNOBS_ALIASES] = "aliases",
    [FNOBS_NAMED] = "named-versions",
    [FNOBS_ALL_VERSIONS] = "all-versions",
    [FNOBS_LATEST] = "latest",
    [FNOBS_REFS] = "refs",
    [FNOBS_DONE] = "done",
    [FNOBS_FAILED] = "failed",
};

struct fnobs;

/* One call in flight; its handle is valid until its callback starts. */
struct req {
	struct fnobs *f;
	long version; /* FNOBS_NAMED: the version asked for */
	struct lambda_call *call;
	struct req *next;
};

struct fnobs {
	struct observe *o;
	struct observe_result *res;
	enum fnobs_state state;
	const char *id; /* what calls name the function by: its ARN when declared so */
	bool listed;    /* ListFunctions returned it */
	struct lambda_function listing;
	char digest[CRYPTO_SHA256_HEX_LEN + 1];
	bool latest_read; /* $LATEST came from GetFunction (status and image known) */
	bool need_all;    /* a named version is gone: list them all */
	struct req *reqs; /* in flight */
};

struct observe {
	struct ev_loop *loop;
	struct lambda_client *lambda;
	char *region;
	size_t concurrency;
	observe_done_cb done;
	void *arg;
	observe_cache_cb cache;
	void *cache_arg;

	struct observe_result *results;
	struct fnobs *fns;
	size_t n;
	size_t next;   /* the next function to start */
	size_t active; /* started and not finished */
	size_t finished;
	bool scheduling; /* inside schedule(): finishing functions do not re-enter it */
	unsigned region_calls[OBSERVE_CALL__COUNT]; /* not for one function */
	struct lambda_call *list_call;
	ev_timer finish; /* calls done from the loop */
};

static void schedule(struct observe *o);
static void step_aliases(struct fnobs *f);
static void step_versions(struct fnobs *f);
static void step_after_versions(struct fnobs *f);
static void step_all_versions(struct fnobs *f, const char *why);

static void
fnobs_set_state(struct fnobs *f, enum fnobs_state state, const char *why)
{
	log_debug("observe", "%s: %s -> %s (%s)", f->res->want->name, fnobs_state_names[f->state],
	    fnobs_state_names[state], why);
	f->state = state;
}

static struct req *
req_new(struct fnobs *f, long version)
{
	struct req *r = xcalloc(1, sizeof(*r));

	r->f = f;
	r->version = version;
	r->next = f->reqs;
	f->reqs = r;
	return r;
}

/* Unlink r from its function (its callback has started, or it never did) and free it. */
static void
req_done(struct req *r)
{
	struct req **p;

	for (p = &r->f->reqs; *p != NULL; p = &(*p)->next) {
		if (*p == r) {
			*p = r->next;
			break;
		}
	}
	free(r);
}

static void
cancel_reqs(struct fnobs *f)
{
	struct req *r;

	while (f->reqs != NULL) {
		r = f->reqs;
		f->reqs = r->next;
		if (r->call != NULL)
			lambda_call_cancel(r->call);
		free(r);
	}
}

static void
finish_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct observe *o = container_of(w, struct observe, finish);

	(void)loop;
	(void)revents;
	o->done(o, o->arg);
}

static void
fnobs_finish(struct fnobs *f, enum fnobs_state state, const char *why)
{
	struct observe *o = f->o;

	assert(state == FNOBS_DONE || state == FNOBS_FAILED);
	cancel_reqs(f);
	fnobs_set_state(f, state, why);
	o->active--;
	o->finished++;
	schedule(o);
}

static void
fnobs_fail(struct fnobs *f, const struct err *e)
{
	if (f->state == FNOBS_DONE || f->state == FNOBS_FAILED)
		return;
	err_copy(&f->res->err, e);
	fnobs_finish(f, FNOBS_FAILED, e->message);
}

/* --- filling the observation ----------------------------------------------------------- */

static char *
dup_opt(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

/* Field i (0-based) of a ':'-separated ARN, allocated; NULL when it has fewer fields. */
static char *
arn_field(const char *arn, int i)
{
	const char *p = arn, *end;

	if (arn == NULL)
		return NULL;
	for (; i > 0; i--) {
		p = strchr(p, ':');
		if (p == NULL)
			return NULL;
		p++;
	}
	end = p + strcspn(p, ":");
	return xstrndup(p, (size_t)(end - p));
}

static int
kv_cmp(const void *a, const void *b)
{
	return strcmp(((const struct spec_kv *)a)->key, ((const struct spec_kv *)b)->key);
}

/* $LATEST from a FunctionConfiguration (ListFunctions: no status, no image URI). */
void
observe_fill_latest(struct obs_function *fn, const struct lambda_function *src)
{
	struct obs_latest *l = &fn->latest;
	size_t i, n = 0;

	obs_latest_clear(l);
	l->package_type = dup_opt(src->package_type);
	l->image_uri = dup_opt(src->image_uri);
	l->resolved_image_uri = dup_opt(src->resolved_image_uri);
	l->code_sha256 = dup_opt(src->code_sha256);
	if (src->nlayers > 0) {
		l->layers = xcalloc(src->nlayers, sizeof(*l->layers));
		for (i = 0; i < src->nlayers; i++)
			if (src->layers[i].arn != NULL)
				l->layers[n++] = xstrdup(src->layers[i].arn);
		l->nlayers = n;
	}
	l->memory = src->memory;
	l->timeout = src->timeout;
	if (src->has_environment && src->nenvironment > 0) {
		l->environment = xcalloc(src->nenvironment, sizeof(*l->environment));
		for (i = 0; i < src->nenvironment; i++) {
			l->environment[i].key = xstrdup(src->environment[i].key);
			l->environment[i].value = xstrdup(
			    src->environment[i].value != NULL ? src->environment[i].value : "");
		}
		l->nenvironment = src->nenvironment;
		qsort(l->environment, l->nenvironment, sizeof(*l->environment), kv_cmp);
	}
	l->description = dup_opt(src->description);
	l->role = dup_opt(src->role);
	l->handler = dup_opt(src->handler);
	l->runtime = dup_opt(src->runtime);
	l->state = dup_opt(src->state_name);
	l->state_reason = dup_opt(src->state_reason);
	l->last_update_status = dup_opt(src->last_update_status_name);
	l->last_update_status_reason = dup_opt(src->last_update_status_reason);
	l->revision_id = dup_opt(src->revision_id);
	if (src->arn != NULL) {
		free(fn->arn);
		fn->arn = xstrdup(src->arn);
		free(fn->account);
		fn->account = arn_field(src->arn, 4);
	}
	fn->exists = true;
}

/* The function does not exist (any more): nothing else is known about it. */
static void
mark_missing(struct fnobs *f)
{
	char *name = f->res->fn.name, *region = f->res->fn.region;

	f->res->fn.name = NULL;
	f->res->fn.region = NULL;
	obs_function_clear(&f->res->fn);
	f->res->fn.name = name;
	f->res->fn.region = region;
	f->res->fn.exists = false;
}

bool
observe_parse_version(const char *s, long *out)
{
	char *end;
	long v;

	if (s == NULL || *s < '0' || *s > '9')
		return false;
	v = strtol(s, &end, 10);
	if (*end != '\0' || v < 1)
		return false;
	*out = v;
	return true;
}

void
observe_fill_version(struct obs_version *v, long number, const struct lambda_function *src)
{
	memset(v, 0, sizeof(*v));
	v->number = number;
	v->description = dup_opt(src->description);
	v->code_sha256 = dup_opt(src->code_sha256);
	if (v->description == NULL ||
	    !obs_parse_version_mark(v->description, v->digest, v->commit)) {
		v->digest[0] = '\0';
		v->commit[0] = '\0';
	}
}

static void
versions_clear(struct obs_function *fn)
{
	size_t i;

	for (i = 0; i < fn->nversions; i++) {
		free(fn->versions[i].description);
		free(fn->versions[i].code_sha256);
	}
	free(fn->versions);
	fn->versions = NULL;
	fn->nversions = 0;
	fn->versions_listed = false;
}

static void
push_target(char ***v, size_t *n, const char *q)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (strcmp((*v)[i], q) == 0)
			return;
	*v = xreallocarray(*v, *n + 1, sizeof(**v));
	(*v)[(*n)++] = xstrdup(q);
}

/* --- the steps ------------------------------------------------------------------------- */

static void
refs_done(struct fnobs *f)
{
	if (f->reqs != NULL)
		return;
	f->res->fn.refs_listed = true;
	fnobs_finish(f, FNOBS_DONE, "references listed");
}

static void
esm_cb(const struct lambda_esm_page *page, const struct err *e, void *arg)
{
	struct req *r = arg;
	struct fnobs *f = r->f;
	struct obs_function *fn = &f->res->fn;
	char *q;
	size_t i;

	req_done(r);
	if (e != NULL) {
		fnobs_fail(f, e);
		return;
	}
	for (i = 0; i < page->n; i++) {
		/* arn:aws:lambda:region:account:function:name[:qualifier] */
		q = arn_field(page->items[i].function_arn, 7);
		if (q != NULL && q[0] != '\0')
			push_target(&fn->esm_targets, &fn->nesm_targets, q);
		free(q);
	}
	refs_done(f);
}

static void
pc_cb(const struct lambda_pc_page *page, const struct err *e, void *arg)
{
	struct req *r = arg;
	struct fnobs *f = r->f;
	struct obs_function *fn = &f->res->fn;
	char *q;
	size_t i;

	req_done(r);
	if (e != NULL) {
		fnobs_fail(f, e);
		return;
	}
	for (i = 0; i < page->n; i++) {
		q = page->items[i].qualifier != NULL ? xstrdup(page->items[i].qualifier)
		                                     : arn_field(page->items[i].function_arn, 7);
		if (q != NULL && q[0] != '\0')
			push_target(&fn->pc_targets, &fn->npc_targets, q);
		free(q);
	}
	refs_done(f);
}

/*
 * Whether pruning could delete something, so that what references versions must be
 * known: more tether-published versions than retain keeps, counting the one this plan
 * publishes when no version holds the digest. Aliases are not subtracted: the plan may
 * move them off the versions they protect now.
 */
static bool
prune_candidates(const struct fnobs *f, bool publishes)
{
	const struct obs_function *fn = &f->res->fn;
	size_t i, marked = publishes ? 1 : 0;

	for (i = 0; i < fn->nversions; i++)
		if (fn->versions[i].digest[0] != '\0')
			marked++;
	return (long)marked > f->res->want->retain;
}

/*
 * Whether the plan will start a canary on an existing alias: Lambda refuses weighted
 * routing on an alias with provisioned concurrency, and the planner checks that before a
 * rollout starts rather than in its middle, when the reference lists are there.
 */
static bool
canary_starts(const struct fnobs *f, bool publishes)
{
	const struct spec_function *w = f->res->want;
	const struct obs_function *fn = &f->res->fn;
	const struct obs_version *holder = obs_version_with_digest(fn, f->digest);
	const struct spec_alias *sa;
	const struct obs_alias *a;
	long target, live;
	size_t i, k;

	for (i = 0; i < w->naliases; i++) {
		sa = &w->aliases[i];
		if (sa->nsteps == 0)
			continue;
		a = NULL;
		for (k = 0; k < fn->naliases; k++)
			if (strcmp(fn->aliases[k].name, sa->name) == 0)
				a = &fn->aliases[k];
		if (a == NULL)
			continue; /* created at once, without weights */
		if (sa->target == SPEC_ALIAS_CURRENT && (publishes || holder == NULL))
			return true;
		target = sa->target == SPEC_ALIAS_PINNED ? sa->version : holder->number;
		if (!observe_parse_version(a->version, &live) || live != target ||
		    a->routing_version != NULL)
			return true;
	}
	return false;
}

static void
step_refs(struct fnobs *f, bool publishes)
{
	const struct spec_function *w = f->res->want;
	struct lambda_client *c = f->o->lambda;
	struct req *esm, *pc;
	struct err e = ERR_INIT;
	const char *why;

	if (w->mode != SPEC_MODE_ENFORCE) {
		fnobs_finish(f, FNOBS_DONE, "changes nothing");
		return;
	}
	if (w->has_retain && prune_candidates(f, publishes))
		why = "pruning has candidates";
	else if (canary_starts(f, publishes))
		why = "a canary starts";
	else {
		fnobs_finish(f, FNOBS_DONE, "no references needed");
		return;
	}
	fnobs_set_state(f, FNOBS_REFS, why);
	esm = req_new(f, 0);
	if (lambda_client_list_esm_all(c, f->id, esm_cb, esm, &esm->call, &e) != 0) {
		req_done(esm);
		fnobs_fail(f, &e);
		return;
	}
	f->res->calls[OBSERVE_LIST_ESM]++;
	pc = req_new(f, 0);
	if (lambda_client_list_pc_all(c, f->id, pc_cb, pc, &pc->call, &e) != 0) {
		req_done(pc);
		fnobs_fail(f, &e);
		return;
	}
	f->res->calls[OBSERVE_LIST_PC]++;
}

static void
latest_cb(const struct lambda_function *fn, const struct err *e, void *arg)
{
	struct req *r = arg;
	struct fnobs *f = r->f;

	req_done(r);
	if (e != NULL && e->code == ERR_NOTFOUND) {
		mark_missing(f);
		fnobs_finish(f, FNOBS_DONE, "deleted while observed");
		return;
	}
	if (e != NULL) {
		fnobs_fail(f, e);
		return;
	}
	observe_fill_latest(&f->res->fn, fn);
	f->latest_read = true;
	step_refs(f, true);
}

/*
 * Whether $LATEST holds code that no known version has while not every version is known:
 * only the complete list tells what a rollback left there (another tether version's code)
 * from a change by hand (docs/plan.md, step 5).
 */
static bool
latest_unexplained(const struct fnobs *f)
{
	const struct obs_function *fn = &f->res->fn;
	size_t i;

	if (fn->versions_listed || fn->latest.code_sha256 == NULL)
		return false;
	for (i = 0; i < fn->nversions; i++)
		if (fn->versions[i].code_sha256 != NULL &&
		    strcmp(fn->versions[i].code_sha256, fn->latest.code_sha256) == 0)
			return false;
	return true;
}

static void
step_after_versions(struct fnobs *f)
{
	struct req *r;
	struct err e = ERR_INIT;

	if (obs_version_with_digest(&f->res->fn, f->digest) != NULL) {
		if (latest_unexplained(f)) {
			step_all_versions(f, "$LATEST holds code no named version has");
			return;
		}
		step_refs(f, false);
		return;
	}
	/* The plan acts on $LATEST: its status, RevisionId and image URI matter. */
	if (f->latest_read) {
		step_refs(f, true);
		return;
	}
	fnobs_set_state(f, FNOBS_LATEST, "no version holds the digest");
	r = req_new(f, 0);
	if (lambda_client_get_function(f->o->lambda, f->id, NULL, latest_cb, r, &r->call, &e) !=
	    0) {
		req_done(r);
		fnobs_fail(f, &e);
		return;
	}
	f->res->calls[OBSERVE_GET_FUNCTION]++;
}

static void
all_versions_cb(const struct lambda_function_page *page, const struct err *e, void *arg)
{
	struct req *r = arg;
	struct fnobs *f = r->f;
	struct obs_function *fn = &f->res->fn;
	size_t i;
	long number;

	req_done(r);
	if (e != NULL && e->code == ERR_NOTFOUND) {
		mark_missing(f);
		fnobs_finish(f, FNOBS_DONE, "deleted while observed");
		return;
	}
	if (e != NULL) {
		fnobs_fail(f, e);
		return;
	}
	versions_clear(fn);
	fn->versions = page->n > 0 ? xcalloc(page->n, sizeof(*fn->versions)) : NULL;
	for (i = 0; i < page->n; i++) {
		/* $LATEST comes first; it is not a published version. */
		if (!observe_parse_version(page->items[i].version, &number))
			continue;
		observe_fill_version(&fn->versions[fn->nversions++], number, &page->items[i]);
	}
	obs_sort(fn);
	fn->versions_listed = true;
	step_after_versions(f);
}

static void
step_all_versions(struct fnobs *f, const char *why)
{
	struct req *r;
	struct err e = ERR_INIT;

	fnobs_set_state(f, FNOBS_ALL_VERSIONS, why);
	r = req_new(f, 0);
	if (lambda_client_list_versions_all(
	        f->o->lambda, f->id, all_versions_cb, r, &r->call, &e) != 0) {
		req_done(r);
		fnobs_fail(f, &e);
		return;
	}
	f->res->calls[OBSERVE_LIST_VERSIONS]++;
}

static void
named_cb(const struct lambda_function *lf, const struct err *e, void *arg)
{
	struct req *r = arg;
	struct fnobs *f = r->f;
	struct obs_function *fn = &f->res->fn;
	long number = r->version;

	req_done(r);
	if (e != NULL && e->code == ERR_NOTFOUND) {
		/* A pinned version that does not exist (or the function went away): only the
		 * complete list can say which. */
		f->need_all = true;
	} else if (e != NULL) {
		fnobs_fail(f, e);
		return;
	} else {
		fn->versions =
		    xreallocarray(fn->versions, fn->nversions + 1, sizeof(*fn->versions));
		observe_fill_version(&fn->versions[fn->nversions++], number, lf);
	}
	if (f->reqs != NULL)
		return;
	obs_sort(fn);
	if (f->need_all)
		step_all_versions(f, "a named version was not found");
	else if (obs_version_with_digest(fn, f->digest) == NULL)
		step_all_versions(f, "no named version holds the digest");
	else
		step_after_versions(f);
}

static void
push_number(long **v, size_t *n, long x)
{
	size_t i;

	if (x < 1)
		return;
	for (i = 0; i < *n; i++)
		if ((*v)[i] == x)
			return;
	*v = xreallocarray(*v, *n + 1, sizeof(**v));
	(*v)[(*n)++] = x;
}

/*
 * The versions from the state directory's cache, when it is complete for the function
 * and knows every version the aliases name (published versions never change, so what
 * it holds is what ListVersionsByFunction would say, short of other writers' publishes
 * since, which the executor notices when Lambda numbers its next publish). Returns true
 * when it served them.
 */
static bool
from_cache(struct fnobs *f)
{
	const struct state_function *sf;
	struct obs_function *fn = &f->res->fn;
	const struct obs_alias *a;
	long v;
	size_t i;

	sf = f->o->cache != NULL ? f->o->cache(f->res->want, f->o->cache_arg) : NULL;
	if (sf == NULL || !sf->versions_complete)
		return false;
	for (i = 0; i < fn->naliases; i++) {
		a = &fn->aliases[i];
		if ((observe_parse_version(a->version, &v) && v > sf->versions_through) ||
		    (observe_parse_version(a->routing_version, &v) && v > sf->versions_through) ||
		    (a->has_canary && a->canary.stable > sf->versions_through))
			return false;
	}
	versions_clear(fn);
	fn->versions = sf->nversions > 0 ? xcalloc(sf->nversions, sizeof(*fn->versions)) : NULL;
	for (i = 0; i < sf->nversions; i++) {
		fn->versions[i] = sf->versions[i];
		fn->versions[i].description = dup_opt(sf->versions[i].description);
		fn->versions[i].code_sha256 = dup_opt(sf->versions[i].code_sha256);
	}
	fn->nversions = sf->nversions;
	fn->versions_listed = true;
	f->res->from_cache = true;
	fnobs_set_state(f, FNOBS_ALL_VERSIONS, "from the version cache");
	step_after_versions(f);
	return true;
}

/*
 * The versions: every one when retain is set (pruning needs the whole list) or when no
 * alias names anything yet; otherwise first only those the aliases (primary, weighted,
 * a canary's stable one) and the pins name, read with GetFunction — the 100/s bucket, not
 * the shared one — and the whole list only if none of them holds the digest.
 */
static void
step_versions(struct fnobs *f)
{
	const struct spec_function *w = f->res->want;
	const struct obs_function *fn = &f->res->fn;
	struct lambda_client *c = f->o->lambda;
	long *named = NULL, v;
	size_t nnamed = 0, i;
	char q[24];
	struct req *r;
	struct err e = ERR_INIT;

	if (from_cache(f))
		return;
	if (w->has_retain) {
		step_all_versions(f, "retain is set");
		return;
	}
	for (i = 0; i < fn->naliases; i++) {
		if (observe_parse_version(fn->aliases[i].version, &v))
			push_number(&named, &nnamed, v);
		if (observe_parse_version(fn->aliases[i].routing_version, &v))
			push_number(&named, &nnamed, v);
		if (fn->aliases[i].has_canary)
			push_number(&named, &nnamed, fn->aliases[i].canary.stable);
	}
	for (i = 0; i < w->naliases; i++)
		if (w->aliases[i].target == SPEC_ALIAS_PINNED)
			push_number(&named, &nnamed, w->aliases[i].version);
	if (nnamed == 0) {
		step_all_versions(f, "no alias or pin names a version");
		return;
	}
	fnobs_set_state(f, FNOBS_NAMED, "aliases and pins name versions");
	for (i = 0; i < nnamed; i++) {
		snprintf(q, sizeof(q), "%ld", named[i]);
		r = req_new(f, named[i]);
		if (lambda_client_get_function(c, f->id, q, named_cb, r, &r->call, &e) != 0) {
			req_done(r);
			fnobs_fail(f, &e);
			break;
		}
		f->res->calls[OBSERVE_GET_VERSION]++;
	}
	free(named);
}

static void
aliases_cb(const struct lambda_alias_page *page, const struct err *e, void *arg)
{
	struct req *r = arg;
	struct fnobs *f = r->f;
	struct obs_function *fn = &f->res->fn;
	const struct lambda_alias *a;
	struct obs_alias *oa;
	struct err derr = ERR_INIT;
	const char *account;
	size_t i;

	req_done(r);
	if (e != NULL && e->code == ERR_NOTFOUND) {
		mark_missing(f);
		fnobs_finish(f, FNOBS_DONE, "deleted while observed");
		return;
	}
	if (e != NULL) {
		fnobs_fail(f, e);
		return;
	}
	fn->aliases = page->n > 0 ? xcalloc(page->n, sizeof(*fn->aliases)) : NULL;
	for (i = 0; i < page->n; i++) {
		a = &page->items[i];
		if (a->name == NULL)
			continue;
		oa = &fn->aliases[fn->naliases++];
		oa->name = xstrdup(a->name);
		oa->version = dup_opt(a->function_version);
		oa->routing_version = dup_opt(a->routing_version);
		oa->routing_weight = a->routing_weight;
		oa->description = dup_opt(a->description);
		oa->revision_id = dup_opt(a->revision_id);
		oa->has_canary =
		    a->description != NULL && obs_parse_canary(a->description, &oa->canary);
	}
	obs_sort(fn);
	/* Layers given by name resolve in the function's account, which its ARN says. */
	account = f->res->want->account != NULL ? f->res->want->account : fn->account;
	if (spec_digest(f->res->want, account, f->digest, &derr) != 0) {
		fnobs_fail(f, &derr);
		return;
	}
	memcpy(f->res->digest, f->digest, sizeof(f->res->digest));
	step_versions(f);
}

static void
step_aliases(struct fnobs *f)
{
	struct req *r;
	struct err e = ERR_INIT;

	fnobs_set_state(f, FNOBS_ALIASES, "exists");
	r = req_new(f, 0);
	if (lambda_client_list_aliases_all(
	        f->o->lambda, f->id, NULL, aliases_cb, r, &r->call, &e) != 0) {
		req_done(r);
		fnobs_fail(f, &e);
		return;
	}
	f->res->calls[OBSERVE_LIST_ALIASES]++;
}

static void
confirm_cb(const struct lambda_function *fn, const struct err *e, void *arg)
{
	struct req *r = arg;
	struct fnobs *f = r->f;

	req_done(r);
	if (e != NULL && e->code == ERR_NOTFOUND) {
		mark_missing(f);
		fnobs_finish(f, FNOBS_DONE, "function does not exist");
		return;
	}
	if (e != NULL) {
		fnobs_fail(f, e);
		return;
	}
	observe_fill_latest(&f->res->fn, fn);
	f->latest_read = true;
	step_aliases(f);
}

/* Start one function: from its listing, or by asking whether it exists. */
static void
begin(struct fnobs *f)
{
	const struct spec_function *w = f->res->want;
	struct req *r;
	struct err e = ERR_INIT;

	if (f->listed)
		observe_fill_latest(&f->res->fn, &f->listing);
	if (w->mode == SPEC_MODE_SUSPEND) {
		/* Neither look nor touch: what the listing said is all. */
		fnobs_finish(f, FNOBS_DONE, "suspended");
		return;
	}
	if (f->listed) {
		step_aliases(f);
		return;
	}
	/*
	 * Not in ListFunctions: missing, or in another account (declared by ARN), or
	 * created after the listing. One GetFunction (100/s bucket) tells.
	 */
	fnobs_set_state(f, FNOBS_CONFIRM, "not listed");
	r = req_new(f, 0);
	if (lambda_client_get_function(f->o->lambda, f->id, NULL, confirm_cb, r, &r->call, &e) !=
	    0) {
		req_done(r);
		fnobs_fail(f, &e);
		return;
	}
	f->res->calls[OBSERVE_GET_FUNCTION]++;
}

static void
schedule(struct observe *o)
{
	if (o->scheduling)
		return;
	o->scheduling = true;
	while (o->next < o->n && o->active < o->concurrency) {
		o->active++;
		begin(&o->fns[o->next++]);
	}
	o->scheduling = false;
	if (o->finished == o->n && !ev_is_active(&o->finish)) {
		ev_timer_set(&o->finish, 0.0, 0.0);
		ev_timer_start(o->loop, &o->finish);
	}
}

/* --- the listing ----------------------------------------------------------------------- */

static int
listing_cmp(const void *a, const void *b)
{
	const struct lambda_function *x = *(const struct lambda_function *const *)a;
	const struct lambda_function *y = *(const struct lambda_function *const *)b;

	return strcmp(x->name, y->name);
}

static void
list_cb(const struct lambda_function_page *page, const struct err *e, void *arg)
{
	struct observe *o = arg;
	const struct lambda_function **index = NULL, **hit, *key;
	struct lambda_function probe;
	size_t i, n = 0;
	char *account;
	struct fnobs *f;

	o->list_call = NULL;
	if (e != NULL) {
		/* Nothing can be planned without it. */
		for (i = 0; i < o->n; i++) {
			err_copy(&o->results[i].err, e);
			o->fns[i].state = FNOBS_FAILED;
		}
		o->next = o->n;
		o->finished = o->n;
		schedule(o);
		return;
	}
	if (page->n > 0)
		index = xcalloc(page->n, sizeof(*index));
	for (i = 0; i < page->n; i++)
		if (page->items[i].name != NULL)
			index[n++] = &page->items[i];
	if (n > 0)
		qsort(index, n, sizeof(*index), listing_cmp);
	memset(&probe, 0, sizeof(probe));
	for (i = 0; i < o->n; i++) {
		f = &o->fns[i];
		probe.name = f->res->want->name;
		key = &probe;
		hit = n > 0 ? bsearch(&key, index, n, sizeof(*index), listing_cmp) : NULL;
		if (hit == NULL)
			continue;
		/* Declared by ARN in another account: not the function listed under its name. */
		if (f->res->want->account != NULL) {
			account = arn_field((*hit)->arn, 4);
			if (account == NULL || strcmp(account, f->res->want->account) != 0) {
				free(account);
				continue;
			}
			free(account);
		}
		lambda_function_copy(&f->listing, *hit);
		f->listed = true;
	}
	free(index);
	schedule(o);
}

/* --- the public part ------------------------------------------------------------------- */

int
observe_start(
    struct observe **out, const struct spec *want, const struct observe_opts *opts, struct err *err)
{
	struct observe *o;
	size_t i, n = 0;
	struct err e = ERR_INIT;

	*out = NULL;
	if (opts == NULL || opts->loop == NULL || opts->lambda == NULL || opts->region == NULL ||
	    opts->done == NULL)
		return err_set(
		    err, ERR_INVALID, "observe: loop, lambda, region and done are required");
	o = xcalloc(1, sizeof(*o));
	o->loop = opts->loop;
	o->lambda = opts->lambda;
	o->region = xstrdup(opts->region);
	o->concurrency = opts->concurrency > 0 ? opts->concurrency : OBSERVE_CONCURRENCY;
	o->done = opts->done;
	o->arg = opts->arg;
	o->cache = opts->cache;
	o->cache_arg = opts->cache_arg;
	ev_timer_init(&o->finish, finish_cb, 0.0, 0.0);
	for (i = 0; i < want->n; i++)
		if (strcmp(want->functions[i].region, opts->region) == 0)
			n++;
	o->results = n > 0 ? xcalloc(n, sizeof(*o->results)) : NULL;
	o->fns = n > 0 ? xcalloc(n, sizeof(*o->fns)) : NULL;
	for (i = 0; i < want->n; i++) {
		if (strcmp(want->functions[i].region, opts->region) != 0)
			continue;
		o->results[o->n].want = &want->functions[i];
		o->results[o->n].fn.name = xstrdup(want->functions[i].name);
		o->results[o->n].fn.region = xstrdup(opts->region);
		o->fns[o->n].o = o;
		o->fns[o->n].res = &o->results[o->n];
		o->fns[o->n].id = want->functions[i].arn != NULL ? want->functions[i].arn
		                                                 : want->functions[i].name;
		o->n++;
	}
	if (o->n == 0 || opts->no_listing) {
		schedule(o);
		*out = o;
		return 0;
	}
	/* One listing serves every function: a page per 50 functions in the region. */
	if (lambda_client_list_functions_all(o->lambda, false, list_cb, o, &o->list_call, &e) !=
	    0) {
		observe_free(o);
		err_copy(err, &e);
		return e.code;
	}
	o->region_calls[OBSERVE_LIST_FUNCTIONS]++;
	*out = o;
	return 0;
}

void
observe_free(struct observe *o)
{
	size_t i;

	if (o == NULL)
		return;
	if (o->list_call != NULL)
		lambda_call_cancel(o->list_call);
	ev_timer_stop(o->loop, &o->finish);
	for (i = 0; i < o->n; i++) {
		cancel_reqs(&o->fns[i]);
		lambda_function_clear(&o->fns[i].listing);
		obs_function_clear(&o->results[i].fn);
	}
	free(o->fns);
	free(o->results);
	free(o->region);
	free(o);
}

const struct observe_result *
observe_results(const struct observe *o, size_t *n)
{
	*n = o->n;
	return o->results;
}

unsigned
observe_region_calls(const struct observe *o, enum observe_call call)
{
	return o->region_calls[call];
}

void
observe_take(struct observe *o, struct obs_function **out, size_t *n)
{
	size_t i, k = 0;

	*out = o->n > 0 ? xcalloc(o->n, sizeof(**out)) : NULL;
	for (i = 0; i < o->n; i++) {
		if (o->results[i].err.code != 0 || o->fns[i].state != FNOBS_DONE)
			continue;
		(*out)[k++] = o->results[i].fn;
		memset(&o->results[i].fn, 0, sizeof(o->results[i].fn));
	}
	*n = k;
}
