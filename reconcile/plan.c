#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/timeutil.h"
#include "common/xmalloc.h"
#include "reconcile/plan.h"
#include "reconcile/plan_text.h"

/*
 * The planner: architecture §4 as a pure function of (desired, observed, ctx). Each call
 * answers with what can be done now; deploy/ acts, observes again and asks again. The
 * phases, in order, each returning as soon as it has something to do:
 *   1. pre-flight: suspended, missing, quarantined (canaries towards a quarantined digest
 *      are rolled back first), pinned versions that do not exist, weighted routing on an
 *      alias with provisioned concurrency, a package type that cannot take the code;
 *   2. a canary towards anything but the alias's target (a newer commit) restores the
 *      stable routing;
 *   3. when no published version holds the digest: wait for $LATEST, update its code, its
 *      configuration, then smoke-test and publish;
 *   4. aliases: create, move, run canary steps, wait for a step to be due;
 *   5. prune.
 * docs/plan.md describes the rules and the action catalogue.
 */

struct planner {
	const struct spec_function *want;
	const struct obs_function *have;
	const struct plan_ctx *ctx;
	/* In the simulator, the number given to the version the plan publishes: it is shown
	 * and emitted as PLAN_NEW_VERSION. 0 otherwise. */
	long sim_new;
	char digest[CRYPTO_SHA256_HEX_LEN + 1];
	const struct obs_version *holder; /* the newest version holding digest, or NULL */
	struct plan_step *out;
	size_t cap;
};

static struct plan_action *
add(struct planner *pl, enum plan_kind kind)
{
	struct plan_step *s = pl->out;
	struct plan_action *a;

	if (s->n == pl->cap) {
		pl->cap = pl->cap == 0 ? 4 : pl->cap * 2;
		s->actions = xreallocarray(s->actions, pl->cap, sizeof(*s->actions));
	}
	a = &s->actions[s->n++];
	memset(a, 0, sizeof(*a));
	a->kind = kind;
	return a;
}

static char *
dup_opt(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

static bool
str_eq(const char *a, const char *b)
{
	return strcmp(a != NULL ? a : "", b != NULL ? b : "") == 0;
}

static void
blocked(struct planner *pl, const char *why)
{
	struct plan_action *a = add(pl, PLAN_BLOCKED);

	a->why = xstrdup(why);
}

/* The number an alias or routing entry names: >= 1, or 0 for "$LATEST" or none. */
static long
version_number(const char *s)
{
	char *end;
	long v;

	if (s == NULL || s[0] < '1' || s[0] > '9')
		return 0;
	v = strtol(s, &end, 10);
	return *end == '\0' && v > 0 ? v : 0;
}

/* Versions as emitted in actions: the simulated new version becomes PLAN_NEW_VERSION. */
static long
vout(const struct planner *pl, long v)
{
	return pl->sim_new != 0 && v == pl->sim_new ? PLAN_NEW_VERSION : v;
}

static void
vname(const struct planner *pl, long v, char out[PLAN_TEXT_VERSION_MAX])
{
	plan_text_version(vout(pl, v), out);
}

static void
alias_from_name(const struct obs_alias *a, char out[PLAN_TEXT_VERSION_MAX])
{
	long v = version_number(a->version);

	if (v == 0)
		snprintf(out, PLAN_TEXT_VERSION_MAX, "%s", a->version);
	else
		plan_text_version(v, out);
}

static const struct obs_alias *
alias_find(const struct obs_function *f, const char *name)
{
	size_t lo = 0, hi = f->naliases, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = strcmp(f->aliases[mid].name, name);
		if (c == 0)
			return &f->aliases[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* A canary tether runs on this alias: the mark, routing to one more version, and the
 * primary still on the stable version the mark names. A mark without that routing is
 * stale (someone moved the alias by hand) and the alias is treated as plain. */
static bool
live_canary(const struct obs_alias *a)
{
	return a->has_canary && version_number(a->routing_version) != 0 &&
	       version_number(a->version) == a->canary.stable;
}

/* Weights are in [0, 1] (observed_load_json and the observer check it). No libm here. */
static int
pct(double weight)
{
	return (int)(weight * 100.0 + 0.5);
}

static bool
weight_is(double weight, int percent)
{
	double d = weight * 100.0 - percent;

	return d < 1e-6 && d > -1e-6;
}

static bool
in_list(char *const *v, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcmp(v[i], s) == 0)
			return true;
	}
	return false;
}

/* The version an alias of the spec should end on; 0 when it is the version this plan has
 * yet to publish. */
static long
alias_target(const struct planner *pl, const struct spec_alias *sa)
{
	if (sa->target == SPEC_ALIAS_PINNED)
		return sa->version;
	return pl->holder != NULL ? pl->holder->number : 0;
}

/* Put the alias back on its stable version, without routing and without the mark. */
static void
restore(struct planner *pl, const struct obs_alias *a, const char *because)
{
	struct plan_action *x = add(pl, PLAN_UPDATE_ALIAS);
	char from[PLAN_TEXT_VERSION_MAX], to[PLAN_TEXT_VERSION_MAX];

	alias_from_name(a, from);
	vname(pl, version_number(a->routing_version), to);
	x->alias = xstrdup(a->name);
	x->version = vout(pl, a->canary.stable);
	x->description = xstrdup("");
	x->revision_id = dup_opt(a->revision_id);
	x->why = xasprintf("%s: canary %s -> %s stopped at %d%%, %s", a->name, from, to,
	    pct(a->routing_weight), because);
}

/* Phase 1: nothing may happen, or only the rollback of canaries that must not go on. */
static bool
preflight(struct planner *pl)
{
	const struct spec_function *w = pl->want;
	const struct obs_function *h = pl->have;
	const struct spec_alias *sa;
	const struct obs_alias *a;
	char *why, shortd[SPEC_DIGEST_SHORT + 1];
	bool rolled = false;
	size_t i;
	long target;

	snprintf(shortd, sizeof(shortd), "%.12s", pl->digest);
	for (i = 0; i < h->naliases; i++) {
		a = &h->aliases[i];
		if (live_canary(a) && obs_quarantined(h, a->canary.digest)) {
			why = xasprintf("d=%s quarantined", a->canary.digest);
			restore(pl, a, why);
			free(why);
			rolled = true;
		}
	}
	if (obs_quarantined(h, pl->digest)) {
		why = xasprintf("quarantined d=%s (until git changes the function)", shortd);
		blocked(pl, why);
		free(why);
		return true;
	}
	if (rolled)
		return true;
	for (i = 0; i < w->naliases; i++) {
		sa = &w->aliases[i];
		if (sa->target == SPEC_ALIAS_PINNED && obs_version_find(h, sa->version) == NULL) {
			why = xasprintf(
			    "alias %s: version %ld does not exist", sa->name, sa->version);
			blocked(pl, why);
			free(why);
			return true;
		}
	}
	/* Lambda refuses weighted routing on an alias with provisioned concurrency
	 * (terraform#24957): fail the plan, not the API call in the middle of a rollout. */
	for (i = 0; i < w->naliases && h->refs_listed; i++) {
		sa = &w->aliases[i];
		a = alias_find(h, sa->name);
		target = alias_target(pl, sa);
		if (sa->nsteps == 0 || a == NULL || version_number(a->version) == 0 ||
		    !in_list(h->pc_targets, h->npc_targets, sa->name))
			continue;
		/* On its target, at most stray routing is removed: no weights needed. */
		if (version_number(a->version) == target)
			continue;
		why = xasprintf("alias %s: a canary needs weighted routing, which Lambda refuses "
		                "on an alias with provisioned concurrency",
		    sa->name);
		blocked(pl, why);
		free(why);
		return true;
	}
	if (pl->holder == NULL && w->code.kind != SPEC_CODE_NONE &&
	    h->latest.package_type != NULL) {
		if (w->code.kind == SPEC_CODE_IMAGE && strcmp(h->latest.package_type, "Zip") == 0) {
			blocked(pl, "package type Zip cannot run an image (Lambda does not change "
			            "a function's package type)");
			return true;
		}
		if (w->code.kind == SPEC_CODE_S3 && strcmp(h->latest.package_type, "Image") == 0) {
			blocked(pl, "package type Image cannot run S3 code (Lambda does not "
			            "change a function's package type)");
			return true;
		}
	}
	/* The spec leaves the code alone but sets a runtime, on a function that runs an
	 * image: Lambda would refuse the configuration update. */
	if (pl->holder == NULL && w->has_runtime && str_eq(h->latest.package_type, "Image")) {
		blocked(pl, "package type Image has no runtime (runtime is for zip functions)");
		return true;
	}
	return false;
}

/* Phase 2: a newer commit (or a changed alias target) first restores the stable routing
 * of a canary that is not towards the alias's target. */
static bool
preempt(struct planner *pl)
{
	const struct spec_function *w = pl->want;
	const struct obs_alias *a;
	size_t i, before = pl->out->n;

	for (i = 0; i < w->naliases; i++) {
		a = alias_find(pl->have, w->aliases[i].name);
		if (a == NULL || !live_canary(a))
			continue;
		if (version_number(a->routing_version) != alias_target(pl, &w->aliases[i]))
			restore(pl, a, "newer commit");
	}
	return pl->out->n > before;
}

/* Phase 3 helpers: how $LATEST differs from the spec. */

static bool
code_matches(const struct planner *pl)
{
	const struct spec_code *c = &pl->want->code;
	const struct obs_function *h = pl->have;
	char *src;
	bool ok;

	switch (c->kind) {
	case SPEC_CODE_NONE:
		return true;
	case SPEC_CODE_IMAGE:
		return str_eq(h->latest.image_uri, c->image) && h->latest.image_uri != NULL;
	case SPEC_CODE_S3:
		if (h->staged_s3 == NULL || h->staged_code_sha256 == NULL ||
		    h->latest.code_sha256 == NULL)
			return false;
		src = obs_format_s3(c);
		ok = strcmp(src, h->staged_s3) == 0 &&
		     strcmp(h->staged_code_sha256, h->latest.code_sha256) == 0;
		free(src);
		return ok;
	}
	return false;
}

static bool
env_equal(const struct spec_function *w, const struct obs_latest *l)
{
	size_t i;

	if (w->nenvironment != l->nenvironment)
		return false;
	for (i = 0; i < w->nenvironment; i++) {
		if (strcmp(w->environment[i].key, l->environment[i].key) != 0 ||
		    strcmp(w->environment[i].value, l->environment[i].value) != 0)
			return false;
	}
	return true;
}

static void
config_clear(struct plan_config *c)
{
	size_t i;

	for (i = 0; i < c->nlayers; i++)
		free(c->layers[i]);
	free(c->layers);
	for (i = 0; i < c->nenvironment; i++) {
		free(c->environment[i].key);
		free(c->environment[i].value);
	}
	free(c->environment);
	free(c->description);
	free(c->role);
	free(c->handler);
	free(c->runtime);
	memset(c, 0, sizeof(*c));
}

/*
 * The managed fields to set on $LATEST: those that differ (all managed ones when all is
 * set, to retry a failed update). Returns 0 and whether anything is to be set, or -1.
 */
static int
config_diff(const struct planner *pl, bool all, struct plan_config *out, bool *any, struct err *err)
{
	const struct spec_function *w = pl->want;
	const struct obs_latest *l = &pl->have->latest;
	const char *account = pl->have->account != NULL ? pl->have->account : w->account;
	char **arns = NULL;
	bool same;
	size_t i, n = 0;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	*any = false;
	if (w->has_layers) {
		arns = xcalloc(w->nlayers + 1, sizeof(*arns));
		for (i = 0; i < w->nlayers; i++) {
			arns[i] = spec_layer_arn(&w->layers[i], account, w->region);
			if (arns[i] == NULL) {
				rc = err_set(err, ERR_INVALID,
				    "%s: layer %s needs the function's account to resolve", w->name,
				    w->layers[i].name);
				goto out;
			}
			n++;
		}
		same = n == l->nlayers;
		for (i = 0; same && i < n; i++)
			same = strcmp(arns[i], l->layers[i]) == 0;
		if (all || !same) {
			out->has_layers = true;
			out->layers = arns;
			out->nlayers = n;
			arns = NULL;
			n = 0;
		}
	}
	if (w->has_memory && (all || l->memory != w->memory)) {
		out->has_memory = true;
		out->memory = w->memory;
	}
	if (w->has_timeout && (all || l->timeout != w->timeout)) {
		out->has_timeout = true;
		out->timeout = w->timeout;
	}
	if (w->has_environment && (all || !env_equal(w, l))) {
		out->has_environment = true;
		out->nenvironment = w->nenvironment;
		if (w->nenvironment > 0)
			out->environment = xcalloc(w->nenvironment, sizeof(*out->environment));
		for (i = 0; i < w->nenvironment; i++) {
			out->environment[i].key = xstrdup(w->environment[i].key);
			out->environment[i].value = xstrdup(w->environment[i].value);
		}
	}
	if (w->has_description && (all || !str_eq(l->description, w->description))) {
		out->has_description = true;
		out->description = xstrdup(w->description);
	}
	if (w->has_role && (all || l->role == NULL || strcmp(l->role, w->role) != 0)) {
		out->has_role = true;
		out->role = xstrdup(w->role);
	}
	if (w->has_handler && (all || l->handler == NULL || strcmp(l->handler, w->handler) != 0)) {
		out->has_handler = true;
		out->handler = xstrdup(w->handler);
	}
	if (w->has_runtime && (all || l->runtime == NULL || strcmp(l->runtime, w->runtime) != 0)) {
		out->has_runtime = true;
		out->runtime = xstrdup(w->runtime);
	}
	*any = out->has_layers || out->has_memory || out->has_timeout || out->has_environment ||
	       out->has_description || out->has_role || out->has_handler || out->has_runtime;
out:
	if (arns != NULL) {
		for (i = 0; i < n; i++)
			free(arns[i]);
		free(arns);
	}
	if (rc != 0)
		config_clear(out);
	return rc;
}

static void
code_copy(struct spec_code *dst, const struct spec_code *src)
{
	dst->kind = src->kind;
	dst->image = dup_opt(src->image);
	dst->s3_bucket = dup_opt(src->s3_bucket);
	dst->s3_key = dup_opt(src->s3_key);
	dst->s3_object_version = dup_opt(src->s3_object_version);
}

static char *
code_why(const struct planner *pl)
{
	const struct spec_code *c = &pl->want->code;
	char *src, *s;

	if (c->kind == SPEC_CODE_IMAGE)
		return plan_text_image(pl->have->latest.image_uri, c->image);
	src = obs_format_s3(c);
	s = plan_text_s3(pl->have->staged_s3, src);
	free(src);
	return s;
}

static void
update_code(struct planner *pl, const char *failed)
{
	struct plan_action *a = add(pl, PLAN_UPDATE_CODE);
	char *what = code_why(pl);

	a->code = xcalloc(1, sizeof(*a->code));
	code_copy(a->code, &pl->want->code);
	a->revision_id = dup_opt(pl->have->latest.revision_id);
	if (failed != NULL) {
		a->why = xasprintf("retry %s (last update failed: %s)", what, failed);
		free(what);
	} else {
		a->why = what;
	}
}

/* "a", "a and b", "a, b and c": words[0..n) for a message, into buf. */
static void
word_list(struct buf *b, const char *const *words, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		buf_printf(b, "%s%s", i == 0 ? "" : i + 1 == n ? " and " : ", ", words[i]);
}

/*
 * Why a missing function cannot be created: what CreateFunction needs that the spec does
 * not say. An image function needs a role; a zip function (S3 code) a role, a handler and
 * a runtime; a function without code needs one of the two (the zip one when it has a
 * runtime).
 */
static char *
missing_why(const struct spec_function *w)
{
	struct buf b = BUF_INIT(256);
	const char *image[2], *zip[4];
	size_t ni = 0, nz = 0;

	image[ni++] = "image";
	zip[nz++] = "code";
	if (!w->has_role) {
		image[ni++] = "role";
		zip[nz++] = "role";
	}
	if (!w->has_handler)
		zip[nz++] = "handler";
	if (!w->has_runtime)
		zip[nz++] = "runtime";
	buf_puts(&b, "function missing (to create it tether needs ");
	switch (w->code.kind) {
	case SPEC_CODE_IMAGE:
		word_list(&b, image + 1, ni - 1);
		buf_puts(&b, " with image");
		break;
	case SPEC_CODE_S3:
		word_list(&b, zip + 1, nz - 1);
		buf_puts(&b, " with code");
		break;
	case SPEC_CODE_NONE:
		/* A runtime says zip: an image function cannot have one. */
		if (!w->has_runtime) {
			word_list(&b, image, ni);
			buf_puts(&b, ", or ");
		}
		word_list(&b, zip, nz);
		break;
	}
	buf_puts(&b, ")");
	return buf_detach(&b, NULL);
}

/*
 * A function that does not exist: created when the spec says what CreateFunction needs
 * (image and role; or S3 code, role, handler and runtime), else blocked with what is
 * missing.
 */
static int
create(struct planner *pl, struct err *err)
{
	const struct spec_function *w = pl->want;
	struct plan_config cfg;
	struct plan_action *a;
	struct err cerr = ERR_INIT;
	bool any, ok;
	char *why, *src;

	(void)err;
	ok = w->has_role && (w->code.kind == SPEC_CODE_IMAGE ||
	                        (w->code.kind == SPEC_CODE_S3 && w->has_handler && w->has_runtime));
	if (!ok) {
		why = missing_why(w);
		blocked(pl, why);
		free(why);
		return 0;
	}
	if (config_diff(pl, true, &cfg, &any, &cerr) != 0) {
		why = xasprintf("function missing, and cannot be created: %s", cerr.message);
		blocked(pl, why);
		free(why);
		return 0;
	}
	a = add(pl, PLAN_CREATE_FUNCTION);
	a->code = xcalloc(1, sizeof(*a->code));
	code_copy(a->code, &w->code);
	a->config = xmemdup(&cfg, sizeof(cfg));
	if (w->code.kind == SPEC_CODE_IMAGE) {
		a->why = xasprintf("create function with image %s", w->code.image);
	} else {
		src = obs_format_s3(&w->code);
		a->why = xasprintf("create function with code %s (%s)", src, w->runtime);
		free(src);
	}
	return 0;
}

/* Phase 3: bring $LATEST to the spec, then smoke-test and publish it. */
static int
stage(struct planner *pl, struct err *err)
{
	const struct obs_latest *l = &pl->have->latest;
	struct plan_config cfg;
	struct plan_action *a;
	const char *reason;
	char *what;
	bool any, failed;
	int rc;

	if (str_eq(l->state, "Pending") || str_eq(l->last_update_status, "InProgress")) {
		a = add(pl, PLAN_WAIT_UPDATED);
		a->why = xstrdup(str_eq(l->state, "Pending") ? "function pending"
		                                             : "$LATEST update in progress");
		return 0;
	}
	failed = str_eq(l->last_update_status, "Failed") || str_eq(l->state, "Failed");
	if (!code_matches(pl)) {
		update_code(pl, NULL);
		return 0;
	}
	if ((rc = config_diff(pl, false, &cfg, &any, err)) != 0)
		return rc;
	if (!any && failed) {
		/* $LATEST already says what the spec says but Lambda could not apply it. Any
		 * update makes Lambda try again; the executor spaces the attempts. */
		reason = str_eq(l->last_update_status, "Failed") ? l->last_update_status_reason
		                                                 : l->state_reason;
		if (reason == NULL || reason[0] == '\0')
			reason = "no reason given";
		if (pl->want->code.kind != SPEC_CODE_NONE) {
			update_code(pl, reason);
			return 0;
		}
		if ((rc = config_diff(pl, true, &cfg, &any, err)) != 0)
			return rc;
		if (!any) {
			what = xasprintf(
			    "last update failed: %s (nothing managed to retry with)", reason);
			blocked(pl, what);
			free(what);
			return 0;
		}
		a = add(pl, PLAN_UPDATE_CONFIG);
		what = plan_text_config(l, &cfg);
		a->why = xasprintf("retry %s (last update failed: %s)", what, reason);
		free(what);
		a->config = xmemdup(&cfg, sizeof(cfg));
		a->revision_id = dup_opt(l->revision_id);
		return 0;
	}
	if (any) {
		a = add(pl, PLAN_UPDATE_CONFIG);
		a->why = plan_text_config(l, &cfg);
		a->config = xmemdup(&cfg, sizeof(cfg));
		a->revision_id = dup_opt(l->revision_id);
		return 0;
	}
	if (pl->want->has_smoke_test) {
		a = add(pl, PLAN_SMOKE_TEST);
		a->why = xstrdup("smoke test $LATEST before publishing");
		a->payload = xstrdup(pl->want->smoke_test.payload);
		a->expect = dup_opt(pl->want->smoke_test.expect);
	}
	a = add(pl, PLAN_PUBLISH);
	a->description = obs_format_version_mark(pl->digest, pl->ctx->commit, pl->ctx->ref);
	a->digest = xstrdup(pl->digest);
	a->revision_id = dup_opt(l->revision_id);
	a->code_sha256 = dup_opt(l->code_sha256);
	a->why = xasprintf("no version holds d=%.12s", pl->digest);
	return 0;
}

static struct plan_action *
alias_action(struct planner *pl, enum plan_kind kind, const struct spec_alias *sa,
    const struct obs_alias *a, long version)
{
	struct plan_action *x = add(pl, kind);

	x->alias = xstrdup(sa->name);
	x->version = vout(pl, version);
	if (a != NULL)
		x->revision_id = dup_opt(a->revision_id);
	return x;
}

/* The canary mark's digest: what the version being rolled out carries. */
static void
target_digest(const struct planner *pl, const struct spec_alias *sa, long target,
    char out[SPEC_DIGEST_SHORT + 1])
{
	const struct obs_version *v;

	if (sa->target == SPEC_ALIAS_CURRENT) {
		snprintf(out, SPEC_DIGEST_SHORT + 1, "%.12s", pl->digest);
		return;
	}
	v = obs_version_find(pl->have, target);
	snprintf(out, SPEC_DIGEST_SHORT + 1, "%s",
	    v != NULL && v->digest[0] != '\0' ? v->digest : "000000000000");
}

/* Set canary step k (1-based) on alias a: primary stays on stable, target gets the step's
 * share. started is when the step began. */
static void
canary_step(struct planner *pl, const struct spec_alias *sa, const struct obs_alias *a, long stable,
    long target, int k, long started, const char *what)
{
	struct plan_action *x = alias_action(pl, PLAN_UPDATE_ALIAS, sa, a, stable);
	struct obs_canary c;
	char from[PLAN_TEXT_VERSION_MAX], to[PLAN_TEXT_VERSION_MAX];

	memset(&c, 0, sizeof(c));
	target_digest(pl, sa, target, c.digest);
	c.step = k;
	c.nsteps = (int)sa->nsteps;
	c.started = started;
	c.stable = stable;
	x->routing_version = vout(pl, target);
	x->routing_weight = sa->steps[k - 1] / 100.0;
	x->description = obs_format_canary(&c);
	if (sa->target == SPEC_ALIAS_CURRENT)
		x->digest = xstrdup(pl->digest);
	vname(pl, stable, from);
	vname(pl, target, to);
	x->why = xasprintf("%s %s -> %s: %s canary step %d/%zu at %d%%", sa->name, from, to, what,
	    k, sa->nsteps, sa->steps[k - 1]);
}

/* Move alias a (or create it) to target, with no routing and without a canary mark. */
static void
move(struct planner *pl, const struct spec_alias *sa, const struct obs_alias *a, long target,
    const char *what)
{
	struct plan_action *x;
	char from[PLAN_TEXT_VERSION_MAX], to[PLAN_TEXT_VERSION_MAX];

	vname(pl, target, to);
	if (a == NULL) {
		x = alias_action(pl, PLAN_CREATE_ALIAS, sa, NULL, target);
		x->why = xasprintf("create %s -> %s", sa->name, to);
	} else {
		x = alias_action(pl, PLAN_UPDATE_ALIAS, sa, a, target);
		alias_from_name(a, from);
		x->why = xasprintf("%s %s -> %s%s", sa->name, from, to, what);
		/* Clear a mark tether left; keep a description a person wrote. */
		if (a->has_canary)
			x->description = xstrdup("");
	}
	if (sa->target == SPEC_ALIAS_CURRENT)
		x->digest = xstrdup(pl->digest);
}

/* Phase 4: every alias of the spec on its target. */
static void
aliases(struct planner *pl)
{
	const struct spec_function *w = pl->want;
	const struct spec_alias *sa;
	const struct obs_alias *a;
	struct plan_action *x;
	long target, primary, routed, due;
	char iso[21], to[PLAN_TEXT_VERSION_MAX];
	size_t i;
	int k;

	for (i = 0; i < w->naliases; i++) {
		sa = &w->aliases[i];
		target = alias_target(pl, sa);
		/* Aliases are planned once a version holds the digest (stage() runs first). */
		assert(target != 0);
		a = alias_find(pl->have, sa->name);
		if (a == NULL) {
			/* A new alias carries no traffic yet: nothing for a canary to protect. */
			move(pl, sa, NULL, target, "");
			continue;
		}
		primary = version_number(a->version);
		routed = version_number(a->routing_version);
		if (live_canary(a) && routed == target) {
			k = a->canary.step;
			if (sa->nsteps == 0 || (size_t)k > sa->nsteps) {
				move(pl, sa, a, target, ": promote to 100%");
				continue;
			}
			if (!weight_is(a->routing_weight, sa->steps[k - 1])) {
				canary_step(
				    pl, sa, a, primary, target, k, a->canary.started, "reset");
				continue;
			}
			due = a->canary.started + sa->interval;
			/* A step found due without its check (tether was down, busy or slow through
			 * the interval, or the check could not run) is checked now, not promoted
			 * blind: the wait is over and the executor checks at once. */
			if (pl->ctx->now < due || (w->has_smoke_test && !a->canary.checked)) {
				x = alias_action(pl, PLAN_WAIT_CANARY, sa, a, primary);
				x->routing_version = vout(pl, target);
				x->routing_weight = a->routing_weight;
				x->until = due;
				timeutil_iso8601((time_t)due, iso);
				vname(pl, target, to);
				x->why =
				    xasprintf(pl->ctx->now < due
				                  ? "%s: canary step %d/%zu at %d%% to %s until %s"
				                  : "%s: canary step %d/%zu at %d%% to %s was due "
				                    "at %s: check it now",
				        sa->name, k, sa->nsteps, sa->steps[k - 1], to, iso);
				continue;
			}
			if ((size_t)k < sa->nsteps)
				canary_step(
				    pl, sa, a, primary, target, k + 1, pl->ctx->now, "next");
			else
				move(pl, sa, a, target, ": promote to 100%");
			continue;
		}
		if (primary == target) {
			if (routed != 0) {
				x = alias_action(pl, PLAN_UPDATE_ALIAS, sa, a, target);
				if (a->has_canary)
					x->description = xstrdup("");
				vname(pl, routed, to);
				x->why = xasprintf("%s: routing %d%% to %s removed (drift)",
				    sa->name, pct(a->routing_weight), to);
			}
			continue;
		}
		/* Weighted routing needs a published primary: from $LATEST the alias moves at
		 * once. So does a rollback (a target older than the primary, as after git
		 * revert): that version carried the traffic before, and the point of rolling
		 * back is to stop serving the newer one now. */
		if (sa->nsteps > 0 && primary != 0 && target > primary)
			canary_step(pl, sa, a, primary, target, 1, pl->ctx->now, "start");
		else
			move(pl, sa, a, target,
			    primary == 0     ? " (drift: alias on $LATEST)"
			    : sa->nsteps > 0 ? " (rollback: at once)"
			                     : "");
	}
}

static bool
contains(const long *v, size_t n, long x)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (v[i] == x)
			return true;
	}
	return false;
}

/* Phase 5: delete tether-published versions beyond the newest `retain` that nothing
 * references, oldest first. Only on a complete listing of versions and references. */
static void
prune(struct planner *pl)
{
	const struct obs_function *h = pl->have;
	const struct obs_alias *a;
	const struct obs_version *v;
	struct plan_action *x;
	long *refs = NULL, *keep = NULL;
	size_t i, j, nrefs = 0, nkeep = 0, cap;
	char *const *quals[2];
	size_t nquals[2];

	if (!pl->want->has_retain || !h->versions_listed || !h->refs_listed)
		return;
	cap = 2 * h->naliases + h->nesm_targets + h->npc_targets + 1;
	refs = xcalloc(cap * 2 + 1, sizeof(*refs));
	for (i = 0; i < h->naliases; i++) {
		refs[nrefs++] = version_number(h->aliases[i].version);
		refs[nrefs++] = version_number(h->aliases[i].routing_version);
	}
	/* Qualifiers: a number protects that version; an alias name is covered above, since
	 * every alias protects its versions. */
	quals[0] = h->esm_targets;
	nquals[0] = h->nesm_targets;
	quals[1] = h->pc_targets;
	nquals[1] = h->npc_targets;
	for (j = 0; j < 2; j++) {
		for (i = 0; i < nquals[j]; i++) {
			if (version_number(quals[j][i]) != 0)
				refs[nrefs++] = version_number(quals[j][i]);
			else if ((a = alias_find(h, quals[j][i])) != NULL)
				refs[nrefs++] = version_number(a->version);
		}
	}
	if (pl->holder != NULL)
		refs[nrefs++] = pl->holder->number;
	keep = xcalloc((size_t)pl->want->retain, sizeof(*keep));
	for (i = h->nversions; i > 0 && nkeep < (size_t)pl->want->retain; i--) {
		if (h->versions[i - 1].digest[0] != '\0')
			keep[nkeep++] = h->versions[i - 1].number;
	}
	for (i = 0; i < h->nversions; i++) {
		v = &h->versions[i];
		if (v->digest[0] == '\0' || contains(keep, nkeep, v->number) ||
		    contains(refs, nrefs, v->number))
			continue;
		x = add(pl, PLAN_DELETE_VERSION);
		x->version = vout(pl, v->number);
		x->why = xasprintf("prune %ld (d=%s c=%s), beyond retain %ld", v->number, v->digest,
		    v->commit[0] != '\0' ? v->commit : "-", pl->want->retain);
	}
	free(refs);
	free(keep);
}

/*
 * $LATEST changed by hand while the aliases are right (drift, docs/plan.md). Whose code
 * $LATEST holds says who changed it: the desired version's code is tether's, and its
 * configuration must then be the spec's; another tether-published version's code is what a
 * rollback left there (an alias move never touches $LATEST), not drift; code no tether
 * version has was put there by someone else, and is restored. The restore publishes
 * nothing: the desired version already exists.
 */
static int
restore_latest(struct planner *pl, struct err *err)
{
	const struct obs_latest *l = &pl->have->latest;
	const struct obs_version *v;
	struct plan_config cfg;
	struct plan_action *a;
	bool any, tethers = false;
	size_t i;
	int rc;

	if (l->code_sha256 == NULL || str_eq(l->state, "Pending") ||
	    str_eq(l->last_update_status, "InProgress") || pl->holder->code_sha256 == NULL)
		return 0;
	if (!str_eq(l->code_sha256, pl->holder->code_sha256)) {
		for (i = 0; i < pl->have->nversions && !tethers; i++) {
			v = &pl->have->versions[i];
			tethers = v->digest[0] != '\0' && str_eq(v->code_sha256, l->code_sha256);
		}
		if (!tethers && !code_matches(pl)) {
			char *what;

			update_code(pl, NULL);
			a = &pl->out->actions[pl->out->n - 1];
			what = a->why;
			a->why = xasprintf("drift: $LATEST changed by hand; %s", what);
			free(what);
		}
		return 0;
	}
	if ((rc = config_diff(pl, false, &cfg, &any, err)) != 0)
		return rc;
	if (any) {
		char *what = plan_text_config(l, &cfg);

		a = add(pl, PLAN_UPDATE_CONFIG);
		a->why = xasprintf("drift: $LATEST changed by hand; %s", what);
		free(what);
		a->config = xmemdup(&cfg, sizeof(cfg));
		a->revision_id = dup_opt(l->revision_id);
	}
	return 0;
}

/* plan_next(), with the simulator's new version number (0: none) and the digest when the
 * caller already has it (NULL: computed here). */
static int
plan_next_sim(const struct spec_function *want, const struct obs_function *have,
    const struct plan_ctx *ctx, long sim_new, const char *digest, struct plan_step *out,
    struct err *err)
{
	struct planner pl;
	size_t before;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&pl, 0, sizeof(pl));
	pl.want = want;
	pl.have = have;
	pl.ctx = ctx;
	pl.sim_new = sim_new;
	pl.out = out;
	out->report_only = want->mode == SPEC_MODE_DETECT;
	if (want->mode == SPEC_MODE_SUSPEND) {
		blocked(&pl, "suspended");
		out->report_only = true;
		return 0;
	}
	if (!have->exists) {
		if ((rc = create(&pl, err)) != 0)
			goto fail;
		return 0;
	}
	if (digest != NULL)
		snprintf(pl.digest, sizeof(pl.digest), "%s", digest);
	else if ((rc = spec_digest(want, have->account, pl.digest, err)) != 0)
		goto fail;
	pl.holder = obs_version_with_digest(have, pl.digest);
	if (preflight(&pl) || preempt(&pl))
		return 0;
	if (pl.holder == NULL) {
		if ((rc = stage(&pl, err)) != 0)
			goto fail;
		return 0;
	}
	before = out->n;
	aliases(&pl);
	if (out->n > before)
		return 0;
	if ((rc = restore_latest(&pl, err)) != 0)
		goto fail;
	if (out->n > before)
		return 0;
	prune(&pl);
	return 0;
fail:
	plan_step_free(out);
	return -1;
}

int
plan_next(const struct spec_function *want, const struct obs_function *have,
    const struct plan_ctx *ctx, struct plan_step *out, struct err *err)
{
	return plan_next_sim(want, have, ctx, 0, NULL, out, err);
}

void
plan_action_clear(struct plan_action *a)
{
	if (a == NULL)
		return;
	free(a->why);
	if (a->code != NULL) {
		free(a->code->image);
		free(a->code->s3_bucket);
		free(a->code->s3_key);
		free(a->code->s3_object_version);
		free(a->code);
	}
	if (a->config != NULL) {
		config_clear(a->config);
		free(a->config);
	}
	free(a->digest);
	free(a->payload);
	free(a->expect);
	free(a->description);
	free(a->alias);
	free(a->revision_id);
	free(a->code_sha256);
	memset(a, 0, sizeof(*a));
}

void
plan_step_free(struct plan_step *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++)
		plan_action_clear(&s->actions[i]);
	free(s->actions);
	memset(s, 0, sizeof(*s));
}

/*
 * The simulator: plan_next() on a copy of the observation, applying each action's expected
 * effect, until converged or blocked. What Lambda would only tell later (the RevisionIds
 * and the CodeSha256 after an update) becomes unknown: NULL, or "" for a CodeSha256 that
 * must still compare equal to itself.
 */

struct sim {
	struct obs_function f;
	long now;
	long new_version; /* the number the simulated publish got, 0 before */
};

static void
set_str(char **p, const char *v)
{
	free(*p);
	*p = dup_opt(v);
}

static long
vin(const struct sim *s, long v)
{
	return v == PLAN_NEW_VERSION ? s->new_version : v;
}

static void
sim_update_code(struct sim *s, const struct plan_action *a)
{
	struct obs_latest *l = &s->f.latest;

	if (a->code->kind == SPEC_CODE_IMAGE) {
		set_str(&l->image_uri, a->code->image);
		set_str(&l->resolved_image_uri, NULL);
	} else {
		free(s->f.staged_s3);
		s->f.staged_s3 = obs_format_s3(a->code);
		set_str(&s->f.staged_code_sha256, "");
	}
	set_str(&l->code_sha256, "");
}

static void
sim_update_config(struct sim *s, const struct plan_action *a)
{
	const struct plan_config *c = a->config;
	struct obs_latest *l = &s->f.latest;
	size_t i;

	if (c->has_layers) {
		for (i = 0; i < l->nlayers; i++)
			free(l->layers[i]);
		free(l->layers);
		l->layers = c->nlayers > 0 ? xcalloc(c->nlayers, sizeof(*l->layers)) : NULL;
		for (i = 0; i < c->nlayers; i++)
			l->layers[i] = xstrdup(c->layers[i]);
		l->nlayers = c->nlayers;
	}
	if (c->has_memory)
		l->memory = c->memory;
	if (c->has_timeout)
		l->timeout = c->timeout;
	if (c->has_environment) {
		for (i = 0; i < l->nenvironment; i++) {
			free(l->environment[i].key);
			free(l->environment[i].value);
		}
		free(l->environment);
		l->environment =
		    c->nenvironment > 0 ? xcalloc(c->nenvironment, sizeof(*l->environment)) : NULL;
		for (i = 0; i < c->nenvironment; i++) {
			l->environment[i].key = xstrdup(c->environment[i].key);
			l->environment[i].value = xstrdup(c->environment[i].value);
		}
		l->nenvironment = c->nenvironment;
	}
	if (c->has_description)
		set_str(&l->description, c->description);
	if (c->has_role)
		set_str(&l->role, c->role);
	if (c->has_handler)
		set_str(&l->handler, c->handler);
	if (c->has_runtime)
		set_str(&l->runtime, c->runtime);
}

static void
sim_publish(struct sim *s, const struct plan_action *a)
{
	struct obs_function *f = &s->f;
	struct obs_version *v;
	long number = f->nversions > 0 ? f->versions[f->nversions - 1].number + 1 : 1;

	f->versions = xreallocarray(f->versions, f->nversions + 1, sizeof(*f->versions));
	v = &f->versions[f->nversions++];
	memset(v, 0, sizeof(*v));
	v->number = number;
	v->description = xstrdup(a->description);
	v->code_sha256 = dup_opt(f->latest.code_sha256);
	(void)obs_parse_version_mark(v->description, v->digest, v->commit);
	s->new_version = number;
}

static void
sim_alias(struct sim *s, const struct plan_action *a)
{
	struct obs_function *f = &s->f;
	struct obs_alias *x = NULL;
	size_t i;

	for (i = 0; i < f->naliases; i++) {
		if (strcmp(f->aliases[i].name, a->alias) >= 0)
			break;
	}
	if (i < f->naliases && strcmp(f->aliases[i].name, a->alias) == 0) {
		x = &f->aliases[i];
	} else {
		f->aliases = xreallocarray(f->aliases, f->naliases + 1, sizeof(*f->aliases));
		memmove(
		    &f->aliases[i + 1], &f->aliases[i], (f->naliases - i) * sizeof(*f->aliases));
		f->naliases++;
		x = &f->aliases[i];
		memset(x, 0, sizeof(*x));
		x->name = xstrdup(a->alias);
	}
	free(x->version);
	x->version = xasprintf("%ld", vin(s, a->version));
	free(x->routing_version);
	x->routing_version = NULL;
	x->routing_weight = 0.0;
	if (a->routing_version != 0) {
		x->routing_version = xasprintf("%ld", vin(s, a->routing_version));
		x->routing_weight = a->routing_weight;
	}
	if (a->description != NULL)
		set_str(&x->description, a->description);
	set_str(&x->revision_id, NULL);
	x->has_canary = obs_parse_canary(x->description, &x->canary);
}

static void
sim_delete(struct sim *s, long number)
{
	struct obs_function *f = &s->f;
	size_t i;

	for (i = 0; i < f->nversions; i++) {
		if (f->versions[i].number == number) {
			free(f->versions[i].description);
			free(f->versions[i].code_sha256);
			memmove(&f->versions[i], &f->versions[i + 1],
			    (f->nversions - i - 1) * sizeof(*f->versions));
			f->nversions--;
			return;
		}
	}
}

/* Apply one action's expected effect. */
static void
sim_apply(struct sim *s, const struct plan_action *a)
{
	struct obs_latest *l = &s->f.latest;
	struct obs_alias *x;

	switch (a->kind) {
	case PLAN_CREATE_FUNCTION:
		/* Created Pending, with nothing published and nothing referencing it. */
		s->f.exists = true;
		set_str(&l->package_type, a->code->kind == SPEC_CODE_IMAGE ? "Image" : "Zip");
		sim_update_code(s, a);
		sim_update_config(s, a);
		set_str(&l->state, "Pending");
		set_str(&l->last_update_status, NULL);
		set_str(&l->revision_id, NULL);
		s->f.versions_listed = true;
		s->f.refs_listed = true;
		break;
	case PLAN_UPDATE_CODE:
	case PLAN_UPDATE_CONFIG:
		if (a->kind == PLAN_UPDATE_CODE)
			sim_update_code(s, a);
		else
			sim_update_config(s, a);
		set_str(&l->last_update_status, "InProgress");
		set_str(&l->last_update_status_reason, NULL);
		set_str(&l->revision_id, NULL);
		break;
	case PLAN_WAIT_UPDATED:
		set_str(&l->state, "Active");
		set_str(&l->state_reason, NULL);
		set_str(&l->last_update_status, "Successful");
		set_str(&l->last_update_status_reason, NULL);
		break;
	case PLAN_PUBLISH:
		sim_publish(s, a);
		break;
	case PLAN_CREATE_ALIAS:
	case PLAN_UPDATE_ALIAS:
		sim_alias(s, a);
		break;
	case PLAN_DELETE_VERSION:
		sim_delete(s, vin(s, a->version));
		break;
	case PLAN_WAIT_CANARY: /* time moves once the whole step is applied */
		/* A wait is planned to end with a passing check (a failing one blocks). The
		 * simulation owns s->f: its alias may change. */
		x = (struct obs_alias *)alias_find(&s->f, a->alias);
		if (x != NULL)
			x->canary.checked = true;
		break;
	case PLAN_SMOKE_TEST:
	case PLAN_BLOCKED:
		break;
	}
}

/* A WAIT_CANARY that repeats the alias's previous action adds nothing to the plan. */
static bool
repeated_wait(const struct plan_function *pf, const struct plan_action *a)
{
	size_t i;

	for (i = pf->n; i > 0; i--) {
		const struct plan_action *p = &pf->actions[i - 1];

		if (p->alias == NULL || strcmp(p->alias, a->alias) != 0)
			continue;
		return p->kind == PLAN_WAIT_CANARY && p->until == a->until;
	}
	return false;
}

static int
plan_one(const struct spec_function *want, const struct obs_function *have,
    const struct plan_ctx *ctx, struct plan_function *pf, struct err *err)
{
	struct obs_function missing;
	struct plan_step step;
	struct plan_ctx sctx = *ctx;
	struct sim s;
	struct err derr = ERR_INIT;
	const struct obs_function *cur;
	const char *digest = NULL;
	size_t i, cap = 0, max_steps;
	size_t iter;
	long until;
	bool stop = false;
	int rc = 0;

	memset(&missing, 0, sizeof(missing));
	memset(&s, 0, sizeof(s));
	if (have == NULL) {
		missing.name = want->name;
		missing.region = want->region;
		have = &missing;
	}
	s.now = ctx->now;
	pf->name = xstrdup(want->name);
	pf->region = xstrdup(want->region);
	pf->mode = want->mode;
	/* The spec and the account do not change while simulating: one digest. When it
	 * cannot be computed, plan_next() says why (or the function is blocked first). */
	if (spec_digest(want, have->exists ? have->account : NULL, pf->digest, &derr) == 0)
		digest = pf->digest;
	else
		pf->digest[0] = '\0';

	/* The first step runs on the observation itself: most functions are in sync, and
	 * then nothing is copied. */
	cur = have;
	max_steps = 32 + want->naliases * (2 * SPEC_CANARY_STEPS_MAX + 4);
	for (iter = 0; !stop; iter++) {
		if (iter == max_steps) {
			rc =
			    err_set(err, ERR_FAIL, "%s: the plan does not converge after %zu steps",
			        want->name, max_steps);
			goto out;
		}
		sctx.now = s.now;
		rc = plan_next_sim(want, cur, &sctx, s.new_version, digest, &step, err);
		if (rc != 0)
			goto out;
		if (step.n == 0)
			break;
		if (cur == have) {
			obs_function_copy(&s.f, have);
			cur = &s.f;
		}
		until = 0;
		for (i = 0; i < step.n; i++) {
			struct plan_action *a = &step.actions[i];

			if (a->kind == PLAN_BLOCKED)
				stop = true;
			if (a->kind == PLAN_WAIT_CANARY && (until == 0 || a->until < until))
				until = a->until;
			if (a->kind == PLAN_WAIT_CANARY && repeated_wait(pf, a)) {
				plan_action_clear(a);
				continue;
			}
			sim_apply(&s, a);
			if (pf->n == cap) {
				cap = cap == 0 ? 4 : cap * 2;
				pf->actions = xreallocarray(pf->actions, cap, sizeof(*pf->actions));
			}
			pf->actions[pf->n++] = *a;
		}
		free(step.actions);
		if (until > s.now)
			s.now = until;
	}
	/* Plans of many functions are kept whole: no slack (an action is a big struct). */
	if (pf->n > 0 && pf->n < cap)
		pf->actions = xreallocarray(pf->actions, pf->n, sizeof(*pf->actions));
	pf->in_sync = want->mode == SPEC_MODE_SUSPEND || pf->n == 0;
	pf->summary = plan_text_summary(want, have, pf);
out:
	if (cur != have)
		obs_function_clear(&s.f);
	return rc;
}

static int
obs_ptr_cmp(const void *a, const void *b)
{
	const struct obs_function *x = *(const struct obs_function *const *)a;
	const struct obs_function *y = *(const struct obs_function *const *)b;
	int c = strcmp(x->region, y->region);

	return c != 0 ? c : strcmp(x->name, y->name);
}

int
plan_build(const struct spec *want, const struct obs_function *have, size_t nhave,
    const struct plan_ctx *ctx, struct plan *out, struct err *err)
{
	const struct obs_function **index = NULL, **found;
	struct obs_function key;
	const struct obs_function *kp = &key;
	size_t i;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (nhave > 0) {
		index = xcalloc(nhave, sizeof(*index));
		for (i = 0; i < nhave; i++)
			index[i] = &have[i];
		qsort(index, nhave, sizeof(*index), obs_ptr_cmp);
	}
	if (want->n > 0)
		out->functions = xcalloc(want->n, sizeof(*out->functions));
	memset(&key, 0, sizeof(key));
	for (i = 0; i < want->n; i++) {
		key.name = want->functions[i].name;
		key.region = want->functions[i].region;
		found = nhave > 0 ? bsearch(&kp, index, nhave, sizeof(*index), obs_ptr_cmp) : NULL;
		out->n++;
		rc = plan_one(&want->functions[i], found != NULL ? *found : NULL, ctx,
		    &out->functions[i], err);
		if (rc != 0)
			break;
	}
	free(index);
	if (rc != 0)
		plan_free(out);
	return rc;
}

bool
plan_in_sync(const struct plan *p)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		if (!p->functions[i].in_sync)
			return false;
	}
	return true;
}

void
plan_free(struct plan *p)
{
	size_t i, j;

	if (p == NULL)
		return;
	for (i = 0; i < p->n; i++) {
		struct plan_function *pf = &p->functions[i];

		free(pf->name);
		free(pf->region);
		for (j = 0; j < pf->n; j++)
			plan_action_clear(&pf->actions[j]);
		free(pf->actions);
		free(pf->summary);
	}
	free(p->functions);
	memset(p, 0, sizeof(*p));
}
