/*
 * The planner, with specs and observations built in C: plan_next() step by step (it is
 * level-triggered, so each test changes the observation the way Lambda would and asks
 * again), and plan_build()'s simulation, summaries and JSON.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>

#include "reconcile/observed.h"
#include "reconcile/plan.h"
#include "reconcile/spec.h"

#define ACCOUNT "123456789012"
#define REPO "123456789012.dkr.ecr.us-east-1.amazonaws.com/orders"
#define NOW 1748270000L
#define COMMIT "8e4f2a1c9d0b7a6e5f4d3c2b1a0f9e8d7c6b5a49"

static const struct plan_ctx ctx0 = {NOW, COMMIT, "main"};

/* Desired state. */

static char *
image(const char *tag)
{
	size_t n = strlen(REPO) + strlen(tag) + 2;
	char *s = malloc(n);

	snprintf(s, n, "%s:%s", REPO, tag);
	return s;
}

static void
spec_fn(struct spec_function *f, const char *name, const char *tag)
{
	memset(f, 0, sizeof(*f));
	f->name = strdup(name);
	f->region = strdup("us-east-1");
	f->code.kind = SPEC_CODE_IMAGE;
	f->code.image = NULL;
	if (tag != NULL) {
		f->code.image = image(tag);
	}
	f->has_memory = true;
	f->memory = 512;
	f->mode = SPEC_MODE_ENFORCE;
}

static struct spec_alias *
spec_alias_add(struct spec_function *f, const char *name, long pinned)
{
	struct spec_alias *a;

	f->aliases = realloc(f->aliases, (f->naliases + 1) * sizeof(*f->aliases));
	a = &f->aliases[f->naliases++];
	memset(a, 0, sizeof(*a));
	a->name = strdup(name);
	a->target = pinned > 0 ? SPEC_ALIAS_PINNED : SPEC_ALIAS_CURRENT;
	a->version = pinned;
	return a;
}

static void
canary(struct spec_alias *a, int s1, int s2, long interval)
{
	a->steps[0] = s1;
	a->nsteps = 1;
	if (s2 > 0)
		a->steps[a->nsteps++] = s2;
	a->interval = interval;
}

static void
digest_of(const struct spec_function *f, char out[CRYPTO_SHA256_HEX_LEN + 1])
{
	struct err err = ERR_INIT;

	assert_int_equal(spec_digest(f, ACCOUNT, out, &err), 0);
}

/* Observed state. */

static void
obs_fn(struct obs_function *o, const char *name, const char *tag)
{
	memset(o, 0, sizeof(*o));
	o->name = strdup(name);
	o->region = strdup("us-east-1");
	o->exists = true;
	o->account = strdup(ACCOUNT);
	o->arn = malloc(128);
	snprintf(o->arn, 128, "arn:aws:lambda:us-east-1:%s:function:%s", ACCOUNT, name);
	o->latest.package_type = strdup("Image");
	if (tag != NULL) {
		o->latest.image_uri = image(tag);
	}
	o->latest.memory = 512;
	o->latest.code_sha256 = strdup("sha-latest");
	o->latest.state = strdup("Active");
	o->latest.last_update_status = strdup("Successful");
	o->latest.revision_id = strdup("rev-latest");
	o->versions_listed = true;
	o->refs_listed = true;
}

static void
set(char **p, const char *v)
{
	free(*p);
	*p = v != NULL ? strdup(v) : NULL;
}

static void
obs_version(struct obs_function *o, long number, const char *description)
{
	struct obs_version *v;

	o->versions = realloc(o->versions, (o->nversions + 1) * sizeof(*o->versions));
	v = &o->versions[o->nversions++];
	memset(v, 0, sizeof(*v));
	v->number = number;
	v->description = strdup(description);
	obs_parse_version_mark(v->description, v->digest, v->commit);
}

/* A version tether published for the spec f (its real digest). */
static void
obs_version_of(struct obs_function *o, long number, const struct spec_function *f)
{
	char d[CRYPTO_SHA256_HEX_LEN + 1], *desc;

	digest_of(f, d);
	desc = obs_format_version_mark(d, "0123456789ab", "main");
	obs_version(o, number, desc);
	free(desc);
}

static struct obs_alias *
obs_alias(struct obs_function *o, const char *name, const char *version, const char *routing,
    double weight, const char *description)
{
	struct obs_alias *a;
	size_t i;

	o->aliases = realloc(o->aliases, (o->naliases + 1) * sizeof(*o->aliases));
	for (i = o->naliases; i > 0 && strcmp(o->aliases[i - 1].name, name) > 0; i--)
		o->aliases[i] = o->aliases[i - 1];
	o->naliases++;
	a = &o->aliases[i];
	memset(a, 0, sizeof(*a));
	a->name = strdup(name);
	a->version = strdup(version);
	a->routing_version = routing != NULL ? strdup(routing) : NULL;
	a->routing_weight = weight;
	a->description = description != NULL ? strdup(description) : NULL;
	a->revision_id = strdup("rev-alias");
	a->has_canary = obs_parse_canary(a->description, &a->canary);
	return a;
}

static char **
strv(const char *a, const char *b)
{
	char **v = calloc(2, sizeof(*v));

	v[0] = strdup(a);
	if (b != NULL)
		v[1] = strdup(b);
	return v;
}

/* Planning. */

static void
next(const struct spec_function *want, const struct obs_function *have, const struct plan_ctx *ctx,
    struct plan_step *step)
{
	struct err err = ERR_INIT;

	if (plan_next(want, have, ctx, step, &err) != 0)
		fail_msg("plan_next: %s", err.message);
}

static void
expect_kinds(const struct plan_step *s, size_t n, ...)
{
	va_list ap;
	size_t i;

	va_start(ap, n);
	if (s->n != n) {
		for (i = 0; i < s->n; i++)
			print_message("  action %zu: kind %d why %s\n", i, s->actions[i].kind,
			    s->actions[i].why);
		fail_msg("%zu actions, expected %zu", s->n, n);
	}
	for (i = 0; i < n; i++)
		assert_int_equal(s->actions[i].kind, va_arg(ap, int));
	va_end(ap);
}

static char *
summary(const struct spec *want, const struct obs_function *have, size_t nhave,
    const struct plan_ctx *ctx, bool *in_sync)
{
	struct plan p = PLAN_INIT;
	struct err err = ERR_INIT;
	char *s;

	if (plan_build(want, have, nhave, ctx, &p, &err) != 0)
		fail_msg("plan_build: %s", err.message);
	assert_int_equal(p.n, want->n);
	s = strdup(p.functions[0].summary);
	if (in_sync != NULL)
		*in_sync = plan_in_sync(&p);
	plan_free(&p);
	return s;
}

static void
expect_summary(
    const struct spec_function *f, const struct obs_function *o, const char *want, bool sync)
{
	struct spec s = SPEC_INIT;
	bool in_sync;
	char *got;

	s.functions = (struct spec_function *)f;
	s.n = 1;
	got = summary(&s, o, o != NULL ? 1 : 0, &ctx0, &in_sync);
	if (strcmp(got, want) != 0)
		fail_msg("summary\n  got:  %s\n  want: %s", got, want);
	assert_int_equal(in_sync, sync);
	free(got);
}

static void
test_plan__first_deploy_step_by_step(void **state)
{
	struct spec_function f;
	struct obs_function o;
	struct plan_step s;
	char d[CRYPTO_SHA256_HEX_LEN + 1];

	(void)state;
	spec_fn(&f, "orders-api", "v42");
	f.memory = 1024;
	f.has_smoke_test = true;
	f.smoke_test.payload = strdup("{\"path\":\"/health\"}");
	spec_alias_add(&f, "live", 0);
	obs_fn(&o, "orders-api", "v41");
	digest_of(&f, d);

	/* 1: the code, with $LATEST's RevisionId as the precondition. */
	next(&f, &o, &ctx0, &s);
	expect_kinds(&s, 1, PLAN_UPDATE_CODE);
	assert_string_equal(s.actions[0].code->image, REPO ":v42");
	assert_string_equal(s.actions[0].revision_id, "rev-latest");
	assert_string_equal(s.actions[0].why, "image :v41 -> :v42");
	assert_false(s.report_only);
	plan_step_free(&s);

	/* 2: Lambda is applying it: wait. */
	set(&o.latest.image_uri, REPO ":v42");
	set(&o.latest.last_update_status, "InProgress");
	next(&f, &o, &ctx0, &s);
	expect_kinds(&s, 1, PLAN_WAIT_UPDATED);
	plan_step_free(&s);

	/* 3: then the configuration, only the fields that differ. */
	set(&o.latest.last_update_status, "Successful");
	set(&o.latest.revision_id, "rev-2");
	next(&f, &o, &ctx0, &s);
	expect_kinds(&s, 1, PLAN_UPDATE_CONFIG);
	assert_true(s.actions[0].config->has_memory);
	assert_int_equal(s.actions[0].config->memory, 1024);
	assert_false(s.actions[0].config->has_timeout || s.actions[0].config->has_layers ||
	             s.actions[0].config->has_environment || s.actions[0].config->has_role);
	assert_string_equal(s.actions[0].why, "memory 512 -> 1024");
	assert_string_equal(s.actions[0].revision_id, "rev-2");
	plan_step_free(&s);

	/* 4: $LATEST matches: smoke test, then publish with the observed preconditions. */
	o.latest.memory = 1024;
	set(&o.latest.revision_id, "rev-3");
	set(&o.latest.code_sha256, "sha-42");
	next(&f, &o, &ctx0, &s);
	expect_kinds(&s, 2, PLAN_SMOKE_TEST, PLAN_PUBLISH);
	assert_string_equal(s.actions[0].payload, "{\"path\":\"/health\"}");
	assert_null(s.actions[0].expect);
	assert_string_equal(s.actions[1].revision_id, "rev-3");
	assert_string_equal(s.actions[1].code_sha256, "sha-42");
	assert_string_equal(s.actions[1].digest, d);
	assert_true(strncmp(s.actions[1].description, "tether d=", 9) == 0);
	assert_true(strstr(s.actions[1].description, " c=8e4f2a1c9d0b main") != NULL);
	plan_step_free(&s);

	/* 5: the version exists: create the alias on it. $LATEST no longer matters. */
	obs_version_of(&o, 7, &f);
	set(&o.latest.last_update_status, "InProgress");
	next(&f, &o, &ctx0, &s);
	expect_kinds(&s, 1, PLAN_CREATE_ALIAS);
	assert_string_equal(s.actions[0].alias, "live");
	assert_int_equal(s.actions[0].version, 7);
	assert_int_equal(s.actions[0].routing_version, 0);
	plan_step_free(&s);

	/* 6: converged. */
	obs_alias(&o, "live", "7", NULL, 0, NULL);
	next(&f, &o, &ctx0, &s);
	expect_kinds(&s, 0);
	plan_step_free(&s);

	spec_function_clear(&f);
	obs_function_clear(&o);
}

static void
test_plan__first_deploy_summary(void **state)
{
	struct spec_function f;
	struct obs_function o;

	(void)state;
	spec_fn(&f, "orders-api", "v42");
	f.memory = 1024;
	f.has_smoke_test = true;
	f.smoke_test.payload = strdup("{}");
	spec_alias_add(&f, "live", 0);
	obs_fn(&o, "orders-api", "v41");
	expect_summary(&f, &o,
	    "image :v41 -> :v42; memory 512 -> 1024; smoke test; publish; create live -> new",
	    false);
	spec_function_clear(&f);
	obs_function_clear(&o);
}

static void
test_plan__revert_moves_the_alias_only(void **state)
{
	struct spec_function f, old;
	struct obs_function o;
	struct plan_step s;

	(void)state;
	spec_fn(&f, "orders-api", "v41");
	spec_fn(&old, "orders-api", "v42");
	spec_alias_add(&f, "live", 0);
	obs_fn(&o, "orders-api", "v42");
	obs_version_of(&o, 16, &f);
	obs_version_of(&o, 17, &old);
	obs_alias(&o, "live", "17", NULL, 0, NULL);

	next(&f, &o, &ctx0, &s);
	expect_kinds(&s, 1, PLAN_UPDATE_ALIAS);
	assert_int_equal(s.actions[0].version, 16);
	assert_string_equal(s.actions[0].revision_id, "rev-alias");
	assert_null(s.actions[0].description); /* a person's description is kept */
	plan_step_free(&s);
	expect_summary(&f, &o, "live 17 -> 16", false);

	/* A wrong digest in the description is not the spec: publish. */
	set(&o.versions[0].description, "tether d=000000000000 c=0123456789ab main");
	obs_parse_version_mark(
	    o.versions[0].description, o.versions[0].digest, o.versions[0].commit);
	expect_summary(&f, &o, "image :v42 -> :v41; publish; live 17 -> new", false);

	spec_function_clear(&f);
	spec_function_clear(&old);
	obs_function_clear(&o);
}

static void
test_plan__blocked(void **state)
{
	struct spec_function f;
	struct obs_function o;
	char d[CRYPTO_SHA256_HEX_LEN + 1];
	char *q;

	(void)state;
	spec_fn(&f, "orders-api", "v42");
	spec_alias_add(&f, "stable", 99);
	obs_fn(&o, "orders-api", "v42");
	obs_version_of(&o, 3, &f);
	expect_summary(&f, &o, "blocked: alias stable: version 99 does not exist", false);

	/* Quarantined: the whole function waits for git. */
	f.aliases[0].version = 3;
	digest_of(&f, d);
	o.quarantined = strv(d, NULL);
	o.nquarantined = 1;
	q = malloc(128);
	snprintf(q, 128, "blocked: quarantined d=%.12s (until git changes the function)", d);
	expect_summary(&f, &o, q, false);
	free(q);

	/* Suspended wins over everything, and is not a pending change. */
	f.mode = SPEC_MODE_SUSPEND;
	expect_summary(&f, &o, "blocked: suspended", true);

	/* Missing. */
	f.mode = SPEC_MODE_ENFORCE;
	expect_summary(&f, NULL,
	    "blocked: function missing (to create it tether needs role with image)", false);
	o.exists = false;
	expect_summary(
	    &f, &o, "blocked: function missing (to create it tether needs role with image)", false);

	spec_function_clear(&f);
	obs_function_clear(&o);
}

static void
test_plan__canary_steps(void **state)
{
	struct spec_function f, old;
	struct obs_function o;
	struct plan_step s;
	struct plan_ctx c = ctx0;
	struct obs_alias *a;
	char d[CRYPTO_SHA256_HEX_LEN + 1], desc[128];

	(void)state;
	spec_fn(&f, "orders-api", "v42");
	spec_fn(&old, "orders-api", "v41");
	canary(spec_alias_add(&f, "live", 0), 10, 50, 300);
	obs_fn(&o, "orders-api", "v42");
	obs_version_of(&o, 17, &old);
	obs_version_of(&o, 18, &f);
	a = obs_alias(&o, "live", "17", NULL, 0, NULL);
	digest_of(&f, d);

	/* Before the start: step 1, the stable version stays primary. */
	next(&f, &o, &c, &s);
	expect_kinds(&s, 1, PLAN_UPDATE_ALIAS);
	assert_int_equal(s.actions[0].version, 17);
	assert_int_equal(s.actions[0].routing_version, 18);
	assert_true(s.actions[0].routing_weight > 0.0999 && s.actions[0].routing_weight < 0.1001);
	snprintf(desc, sizeof(desc), "tether canary d=%.12s step=1/2 at=%ld stable=17", d, NOW);
	assert_string_equal(s.actions[0].description, desc);
	plan_step_free(&s);
	expect_summary(&f, &o, "live 17 -> 18 (canary 10%, 50% every 5m)", false);

	/* Step 1 running, not due: wait until it is. */
	set(&a->routing_version, "18");
	a->routing_weight = 0.1;
	set(&a->description, desc);
	a->has_canary = obs_parse_canary(a->description, &a->canary);
	c.now = NOW + 100;
	next(&f, &o, &c, &s);
	expect_kinds(&s, 1, PLAN_WAIT_CANARY);
	assert_int_equal(s.actions[0].until, NOW + 300);
	plan_step_free(&s);
	expect_summary(&f, &o,
	    "live 17 -> 18 (canary 10% until 2025-05-26T14:38:20Z, then 50% for 5m)", false);

	/* Due: step 2 starts now. */
	c.now = NOW + 300;
	next(&f, &o, &c, &s);
	expect_kinds(&s, 1, PLAN_UPDATE_ALIAS);
	assert_int_equal(s.actions[0].routing_version, 18);
	assert_true(s.actions[0].routing_weight > 0.4999 && s.actions[0].routing_weight < 0.5001);
	snprintf(
	    desc, sizeof(desc), "tether canary d=%.12s step=2/2 at=%ld stable=17", d, NOW + 300);
	assert_string_equal(s.actions[0].description, desc);
	plan_step_free(&s);

	/* Last step due: promote, plain description. */
	a->routing_weight = 0.5;
	set(&a->description, desc);
	a->has_canary = obs_parse_canary(a->description, &a->canary);
	c.now = NOW + 600;
	next(&f, &o, &c, &s);
	expect_kinds(&s, 1, PLAN_UPDATE_ALIAS);
	assert_int_equal(s.actions[0].version, 18);
	assert_int_equal(s.actions[0].routing_version, 0);
	assert_string_equal(s.actions[0].description, "");
	plan_step_free(&s);

	/* Weight changed by hand during a step: set it back, same step and start. */
	a->routing_weight = 0.3;
	c.now = NOW + 400;
	next(&f, &o, &c, &s);
	expect_kinds(&s, 1, PLAN_UPDATE_ALIAS);
	assert_true(s.actions[0].routing_weight > 0.4999 && s.actions[0].routing_weight < 0.5001);
	assert_string_equal(s.actions[0].description, desc);
	plan_step_free(&s);

	spec_function_clear(&f);
	spec_function_clear(&old);
	obs_function_clear(&o);
}

static void
test_plan__newer_commit_preempts_canary(void **state)
{
	struct spec_function f, mid, old;
	struct obs_function o;
	struct plan_step s;
	char dm[CRYPTO_SHA256_HEX_LEN + 1], desc[128];

	(void)state;
	spec_fn(&old, "orders-api", "v41");
	spec_fn(&mid, "orders-api", "v42");
	spec_fn(&f, "orders-api", "v43");
	canary(spec_alias_add(&f, "live", 0), 10, 0, 300);
	obs_fn(&o, "orders-api", "v42");
	obs_version_of(&o, 17, &old);
	obs_version_of(&o, 18, &mid);
	digest_of(&mid, dm);
	snprintf(desc, sizeof(desc), "tether canary d=%.12s step=1/1 at=%ld stable=17", dm, NOW);
	obs_alias(&o, "live", "17", "18", 0.1, desc);

	/* First the stable routing comes back, before $LATEST is touched. */
	next(&f, &o, &ctx0, &s);
	expect_kinds(&s, 1, PLAN_UPDATE_ALIAS);
	assert_int_equal(s.actions[0].version, 17);
	assert_int_equal(s.actions[0].routing_version, 0);
	assert_string_equal(s.actions[0].description, "");
	plan_step_free(&s);
	expect_summary(&f, &o,
	    "live: canary 17 -> 18 stopped at 10%, newer commit; image :v42 -> :v43; publish; "
	    "live 17 -> new (canary 10% for 5m)",
	    false);

	spec_function_clear(&f);
	spec_function_clear(&mid);
	spec_function_clear(&old);
	obs_function_clear(&o);
}

static void
test_plan__quarantine_rolls_back_canary(void **state)
{
	struct spec_function f, old;
	struct obs_function o;
	struct plan_step s;
	char d[CRYPTO_SHA256_HEX_LEN + 1], desc[128];

	(void)state;
	spec_fn(&old, "orders-api", "v41");
	spec_fn(&f, "orders-api", "v42");
	canary(spec_alias_add(&f, "live", 0), 10, 0, 300);
	obs_fn(&o, "orders-api", "v42");
	obs_version_of(&o, 17, &old);
	obs_version_of(&o, 18, &f);
	digest_of(&f, d);
	snprintf(desc, sizeof(desc), "tether canary d=%.12s step=1/1 at=%ld stable=17", d, NOW);
	obs_alias(&o, "live", "17", "18", 0.1, desc);
	o.quarantined = strv(d, NULL);
	o.nquarantined = 1;

	next(&f, &o, &ctx0, &s);
	expect_kinds(&s, 2, PLAN_UPDATE_ALIAS, PLAN_BLOCKED);
	assert_int_equal(s.actions[0].version, 17);
	assert_int_equal(s.actions[0].routing_version, 0);
	plan_step_free(&s);

	spec_function_clear(&f);
	spec_function_clear(&old);
	obs_function_clear(&o);
}

static void
test_plan__provisioned_concurrency_blocks_a_canary(void **state)
{
	struct spec_function f, old;
	struct obs_function o;

	(void)state;
	spec_fn(&old, "orders-api", "v41");
	spec_fn(&f, "orders-api", "v42");
	canary(spec_alias_add(&f, "live", 0), 10, 0, 300);
	obs_fn(&o, "orders-api", "v42");
	obs_version_of(&o, 17, &old);
	obs_alias(&o, "live", "17", NULL, 0, NULL);
	o.pc_targets = strv("live", NULL);
	o.npc_targets = 1;
	expect_summary(&f, &o,
	    "blocked: alias live: a canary needs weighted routing, which Lambda refuses on an "
	    "alias with provisioned concurrency",
	    false);
	/* Once the alias is on its target, the constraint does not matter. */
	obs_version_of(&o, 18, &f);
	set(&o.aliases[0].version, "18");
	expect_summary(&f, &o, "in sync", true);
	spec_function_clear(&f);
	spec_function_clear(&old);
	obs_function_clear(&o);
}

static void
test_plan__prune(void **state)
{
	struct spec_function f, other;
	struct obs_function o;
	struct plan_step s;
	long deleted[16];
	size_t i;

	(void)state;
	spec_fn(&f, "orders-api", "v42");
	spec_fn(&other, "orders-api", "v1");
	f.has_retain = true;
	f.retain = 2;
	spec_alias_add(&f, "live", 0);
	obs_fn(&o, "orders-api", "v42");
	obs_version(&o, 1, "unmanaged");
	obs_version_of(&o, 2, &other); /* alias primary */
	obs_version_of(&o, 3, &other); /* alias weight */
	obs_version_of(&o, 4, &other); /* ESM qualifier */
	obs_version_of(&o, 5, &other); /* PC qualifier */
	obs_version_of(&o, 6, &other); /* prunable */
	obs_version_of(&o, 7, &f);     /* holds the digest */
	obs_version_of(&o, 8, &other); /* prunable */
	obs_version(&o, 9, "by hand");
	obs_version_of(&o, 10, &other); /* among the newest 2 */
	obs_version_of(&o, 11, &other); /* among the newest 2 */
	obs_alias(&o, "live", "7", NULL, 0, NULL);
	obs_alias(&o, "old", "2", "3", 0.2, NULL);
	o.esm_targets = strv("4", "old");
	o.nesm_targets = 2;
	o.pc_targets = strv("5", NULL);
	o.npc_targets = 1;

	next(&f, &o, &ctx0, &s);
	assert_int_equal(s.n, 2);
	for (i = 0; i < s.n; i++) {
		assert_int_equal(s.actions[i].kind, PLAN_DELETE_VERSION);
		deleted[i] = s.actions[i].version;
	}
	assert_int_equal(deleted[0], 6); /* oldest first */
	assert_int_equal(deleted[1], 8);
	plan_step_free(&s);
	expect_summary(&f, &o, "prune 6, 8", false);

	/* Without a complete listing nothing is pruned. */
	o.refs_listed = false;
	expect_summary(&f, &o, "in sync", true);
	o.refs_listed = true;
	o.versions_listed = false;
	expect_summary(&f, &o, "in sync", true);

	spec_function_clear(&f);
	spec_function_clear(&other);
	obs_function_clear(&o);
}

static void
test_plan__detect_reports_only(void **state)
{
	struct spec_function f;
	struct obs_function o;
	struct plan_step s;

	(void)state;
	spec_fn(&f, "orders-api", "v42");
	f.mode = SPEC_MODE_DETECT;
	obs_fn(&o, "orders-api", "v41");
	next(&f, &o, &ctx0, &s);
	expect_kinds(&s, 1, PLAN_UPDATE_CODE);
	assert_true(s.report_only);
	plan_step_free(&s);
	expect_summary(&f, &o, "detect, not applied: image :v41 -> :v42; publish", false);
	spec_function_clear(&f);
	obs_function_clear(&o);
}

static void
test_plan__s3_code_is_known_by_what_tether_staged(void **state)
{
	struct spec_function f;
	struct obs_function o;
	struct plan_step s;

	(void)state;
	spec_fn(&f, "worker", NULL);
	f.code.kind = SPEC_CODE_S3;
	f.code.s3_bucket = strdup("builds");
	f.code.s3_key = strdup("worker/2.zip");
	obs_fn(&o, "worker", NULL);
	set(&o.latest.package_type, "Zip");

	/* Nothing known about $LATEST's code: write it. */
	next(&f, &o, &ctx0, &s);
	expect_kinds(&s, 1, PLAN_UPDATE_CODE);
	assert_string_equal(s.actions[0].code->s3_key, "worker/2.zip");
	assert_string_equal(s.actions[0].why, "code s3://builds/worker/2.zip");
	plan_step_free(&s);

	/* tether staged it and nobody changed the code since: publish. */
	o.staged_s3 = strdup("s3://builds/worker/2.zip");
	o.staged_code_sha256 = strdup("sha-latest");
	next(&f, &o, &ctx0, &s);
	expect_kinds(&s, 1, PLAN_PUBLISH);
	plan_step_free(&s);

	/* Someone uploaded other code since. */
	set(&o.latest.code_sha256, "sha-other");
	next(&f, &o, &ctx0, &s);
	expect_kinds(&s, 1, PLAN_UPDATE_CODE);
	plan_step_free(&s);

	/* An image on a Zip function is impossible. */
	f.code.kind = SPEC_CODE_IMAGE;
	f.code.image = strdup(REPO ":v1");
	expect_summary(&f, &o,
	    "blocked: package type Zip cannot run an image (Lambda does not change a "
	    "function's package type)",
	    false);
	spec_function_clear(&f);
	obs_function_clear(&o);
}

/* Missing functions: what CreateFunction needs, said precisely when it is not there. */
static void
test_plan__create_needs(void **state)
{
	struct spec_function f;
	struct plan_step s;
	struct obs_function o;

	(void)state;
	spec_fn(&f, "worker", NULL);
	f.code.kind = SPEC_CODE_S3;
	f.code.s3_bucket = strdup("builds");
	f.code.s3_key = strdup("worker/2.zip");
	f.code.s3_object_version = strdup("v2");
	spec_alias_add(&f, "live", 0);
	memset(&o, 0, sizeof(o));
	o.name = strdup("worker");
	o.region = strdup("us-east-1");
	expect_summary(&f, NULL,
	    "blocked: function missing (to create it tether needs role, handler and runtime with "
	    "code)",
	    false);
	f.has_role = true;
	f.role = strdup("arn:aws:iam::123456789012:role/worker");
	f.has_runtime = true;
	f.runtime = strdup("python3.12");
	expect_summary(&f, NULL,
	    "blocked: function missing (to create it tether needs handler with code)", false);

	/* Everything a zip function needs: created with its code and every managed field. */
	f.has_handler = true;
	f.handler = strdup("app.handler");
	next(&f, &o, &ctx0, &s);
	expect_kinds(&s, 1, PLAN_CREATE_FUNCTION);
	assert_int_equal(s.actions[0].code->kind, SPEC_CODE_S3);
	assert_string_equal(s.actions[0].code->s3_object_version, "v2");
	assert_true(s.actions[0].config->has_runtime);
	assert_string_equal(s.actions[0].config->runtime, "python3.12");
	assert_true(s.actions[0].config->has_handler);
	assert_true(s.actions[0].config->has_memory);
	assert_string_equal(s.actions[0].why,
	    "create function with code s3://builds/worker/2.zip?versionId=v2 (python3.12)");
	plan_step_free(&s);
	/* The simulated function is Zip, its code staged: no code update follows. */
	expect_summary(&f, NULL, "create function; publish; create live -> new", false);

	/* No code at all: either way is named, without what the spec already says; a
	 * runtime says it is a zip function. */
	f.code.kind = SPEC_CODE_NONE;
	expect_summary(
	    &f, NULL, "blocked: function missing (to create it tether needs code)", false);
	f.has_runtime = false;
	expect_summary(&f, NULL,
	    "blocked: function missing (to create it tether needs image, or code and runtime)",
	    false);
	f.has_role = false;
	f.has_handler = false;
	f.has_runtime = false;
	expect_summary(&f, NULL,
	    "blocked: function missing (to create it tether needs image and role, or code, role, "
	    "handler and runtime)",
	    false);
	f.code.kind = SPEC_CODE_S3;
	spec_function_clear(&f);
	obs_function_clear(&o);
}

static void
test_plan__failed_update_is_retried(void **state)
{
	struct spec_function f;
	struct obs_function o;
	struct plan_step s;

	(void)state;
	spec_fn(&f, "orders-api", "v42");
	obs_fn(&o, "orders-api", "v42");
	set(&o.latest.last_update_status, "Failed");
	set(&o.latest.last_update_status_reason, "ImageAccessDenied");
	next(&f, &o, &ctx0, &s);
	expect_kinds(&s, 1, PLAN_UPDATE_CODE);
	assert_string_equal(
	    s.actions[0].why, "retry image :v42 (last update failed: ImageAccessDenied)");
	plan_step_free(&s);

	/* No code managed: the configuration is written again. */
	f.code.kind = SPEC_CODE_NONE;
	next(&f, &o, &ctx0, &s);
	expect_kinds(&s, 1, PLAN_UPDATE_CONFIG);
	assert_true(s.actions[0].config->has_memory);
	plan_step_free(&s);

	/* Nothing managed at all: blocked. */
	f.has_memory = false;
	next(&f, &o, &ctx0, &s);
	expect_kinds(&s, 1, PLAN_BLOCKED);
	plan_step_free(&s);

	/* A pending function is waited for. */
	set(&o.latest.last_update_status, "Successful");
	set(&o.latest.state, "Pending");
	next(&f, &o, &ctx0, &s);
	expect_kinds(&s, 1, PLAN_WAIT_UPDATED);
	plan_step_free(&s);
	spec_function_clear(&f);
	obs_function_clear(&o);
}

static void
test_plan__config_fields(void **state)
{
	struct spec_function f;
	struct obs_function o;
	struct plan_step s;

	(void)state;
	spec_fn(&f, "orders-api", "v42");
	f.has_layers = true;
	f.nlayers = 2;
	f.layers[0].arn = strdup("arn:aws:lambda:us-east-1:999999999999:layer:shared:3");
	f.layers[1].name = strdup("dynamo");
	f.layers[1].version = 6;
	f.has_environment = true;
	f.nenvironment = 2;
	f.environment = calloc(2, sizeof(*f.environment));
	f.environment[0].key = strdup("A");
	f.environment[0].value = strdup("1");
	f.environment[1].key = strdup("C");
	f.environment[1].value = strdup("secret-new");
	f.has_timeout = true;
	f.timeout = 30;
	f.has_role = true;
	f.role = strdup("arn:aws:iam::123456789012:role/orders-new");
	obs_fn(&o, "orders-api", "v42");
	o.latest.layers = strv("arn:aws:lambda:us-east-1:999999999999:layer:shared:3",
	    "arn:aws:lambda:us-east-1:123456789012:layer:dynamo:5");
	o.latest.nlayers = 2;
	o.latest.environment = calloc(2, sizeof(*o.latest.environment));
	o.latest.environment[0].key = strdup("B");
	o.latest.environment[0].value = strdup("2");
	o.latest.environment[1].key = strdup("C");
	o.latest.environment[1].value = strdup("secret-old");
	o.latest.nenvironment = 2;
	o.latest.timeout = 3;
	o.latest.role = strdup("arn:aws:iam::123456789012:role/orders");

	next(&f, &o, &ctx0, &s);
	expect_kinds(&s, 1, PLAN_UPDATE_CONFIG);
	assert_true(s.actions[0].config->has_layers);
	assert_string_equal(
	    s.actions[0].config->layers[1], "arn:aws:lambda:us-east-1:123456789012:layer:dynamo:6");
	assert_false(s.actions[0].config->has_memory);
	/* Values never appear in the text: they may be secrets. */
	assert_string_equal(s.actions[0].why,
	    "layers dynamo:5 -> :6, timeout 3 -> 30, environment +A -B ~C, role orders -> "
	    "orders-new");
	assert_false(s.actions[0].config->has_runtime);
	plan_step_free(&s);
	spec_function_clear(&f);
	obs_function_clear(&o);

	/* The runtime of a zip function is managed like the other fields. */
	spec_fn(&f, "worker", NULL);
	f.code.kind = SPEC_CODE_NONE;
	f.has_runtime = true;
	f.runtime = strdup("python3.12");
	obs_fn(&o, "worker", NULL);
	set(&o.latest.package_type, "Zip");
	o.latest.runtime = strdup("python3.11");
	next(&f, &o, &ctx0, &s);
	expect_kinds(&s, 1, PLAN_UPDATE_CONFIG);
	assert_true(s.actions[0].config->has_runtime);
	assert_false(s.actions[0].config->has_memory);
	assert_string_equal(s.actions[0].config->runtime, "python3.12");
	assert_string_equal(s.actions[0].why, "runtime python3.11 -> python3.12");
	plan_step_free(&s);
	expect_summary(&f, &o, "runtime python3.11 -> python3.12; publish", false);
	set(&o.latest.runtime, "python3.12");
	next(&f, &o, &ctx0, &s);
	expect_kinds(&s, 1, PLAN_PUBLISH);
	plan_step_free(&s);

	/* An image function has no runtime: Lambda would refuse the update. */
	set(&o.latest.package_type, "Image");
	set(&o.latest.runtime, NULL);
	expect_summary(&f, &o,
	    "blocked: package type Image has no runtime (runtime is for zip functions)", false);
	spec_function_clear(&f);
	obs_function_clear(&o);
}

static void
test_plan__alias_drift(void **state)
{
	struct spec_function f;
	struct obs_function o;

	(void)state;
	spec_fn(&f, "orders-api", "v42");
	canary(spec_alias_add(&f, "live", 0), 10, 0, 60);
	spec_alias_add(&f, "staging", 0);
	obs_fn(&o, "orders-api", "v42");
	obs_version_of(&o, 5, &f);
	obs_alias(&o, "live", "$LATEST", NULL, 0, NULL);
	obs_alias(&o, "staging", "5", "4", 0.25, NULL);
	expect_summary(&f, &o,
	    "live $LATEST -> 5 (at once: no canary from $LATEST); staging: routing 25% to 4 "
	    "removed (drift)",
	    false);
	spec_function_clear(&f);
	obs_function_clear(&o);
}

static void
test_plan__json(void **state)
{
	struct spec_function f;
	struct obs_function o;
	struct spec sp = SPEC_INIT;
	struct plan p = PLAN_INIT;
	struct err err = ERR_INIT;
	json_error_t jerr;
	json_t *root, *fn, *acts, *a;
	char *text = NULL;
	size_t len = 0;
	FILE *mem;

	(void)state;
	spec_fn(&f, "orders-api", "v42");
	spec_alias_add(&f, "live", 0);
	obs_fn(&o, "orders-api", "v41");
	obs_alias(&o, "live", "3", NULL, 0, NULL);
	obs_version(&o, 3, "by hand");
	sp.functions = &f;
	sp.n = 1;
	assert_int_equal(plan_build(&sp, &o, 1, &ctx0, &p, &err), 0);
	mem = open_memstream(&text, &len);
	plan_print_json(&p, mem);
	fclose(mem);
	root = json_loads(text, 0, &jerr);
	if (root == NULL)
		fail_msg("not JSON: %s\n%s", jerr.text, text);
	assert_true(json_is_false(json_object_get(root, "in_sync")));
	fn = json_array_get(json_object_get(root, "functions"), 0);
	assert_string_equal(json_string_value(json_object_get(fn, "summary")),
	    "image :v41 -> :v42; publish; live 3 -> new");
	acts = json_object_get(fn, "actions");
	assert_int_equal(json_array_size(acts), 4);
	a = json_array_get(acts, 0);
	assert_string_equal(json_string_value(json_object_get(a, "kind")), "update_code");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(a, "code"), "image")), REPO ":v42");
	a = json_array_get(acts, 2);
	assert_string_equal(json_string_value(json_object_get(a, "kind")), "publish");
	/* Known only once the update is done. */
	assert_true(json_is_null(json_object_get(a, "revision_id")));
	a = json_array_get(acts, 3);
	assert_string_equal(json_string_value(json_object_get(a, "version")), "new");
	assert_string_equal(json_string_value(json_object_get(a, "revision_id")), "rev-alias");
	json_decref(root);
	free(text);
	plan_free(&p);
	spec_function_clear(&f);
	obs_function_clear(&o);
}

/*
 * 10,000 functions, half in sync and half with a new image, planned in one call: linear
 * work per function, and the result right for every one of them.
 */
static void
test_plan__ten_thousand_functions(void **state)
{
	enum { N = 10000 };
	struct spec sp = SPEC_INIT;
	struct obs_function *obs;
	struct plan p = PLAN_INIT;
	struct err err = ERR_INIT;
	char name[32];
	size_t i, pending = 0;
	clock_t t0;
	double secs;

	(void)state;
	sp.functions = calloc(N, sizeof(*sp.functions));
	obs = calloc(N, sizeof(*obs));
	for (i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "fn-%05zu", i);
		spec_fn(&sp.functions[i], name, "v2");
		spec_alias_add(&sp.functions[i], "live", 0);
		sp.functions[i].has_retain = true;
		sp.functions[i].retain = 3;
		/* Observations in reverse order: matching must not depend on it. */
		obs_fn(&obs[N - 1 - i], name, i % 2 == 0 ? "v2" : "v1");
		obs_version_of(&obs[N - 1 - i], 1, &sp.functions[i]);
		obs_alias(&obs[N - 1 - i], "live", "1", NULL, 0, NULL);
		if (i % 2 == 1) {
			set(&obs[N - 1 - i].versions[0].description, "by hand");
			obs[N - 1 - i].versions[0].digest[0] = '\0';
		}
	}
	sp.n = N;
	t0 = clock();
	assert_int_equal(plan_build(&sp, obs, N, &ctx0, &p, &err), 0);
	secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
	print_message("plan_build: %d functions in %.3f s CPU\n", N, secs);
	for (i = 0; i < N; i++) {
		if (!p.functions[i].in_sync) {
			pending++;
			assert_string_equal(
			    p.functions[i].summary, "image :v1 -> :v2; publish; live 1 -> new");
		}
		assert_int_equal(p.functions[i].in_sync, i % 2 == 0);
	}
	assert_int_equal(pending, N / 2);
	plan_free(&p);
	for (i = 0; i < N; i++) {
		spec_function_clear(&sp.functions[i]);
		obs_function_clear(&obs[i]);
	}
	free(sp.functions);
	free(obs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plan__first_deploy_step_by_step),
	    cmocka_unit_test(test_plan__first_deploy_summary),
	    cmocka_unit_test(test_plan__revert_moves_the_alias_only),
	    cmocka_unit_test(test_plan__blocked),
	    cmocka_unit_test(test_plan__canary_steps),
	    cmocka_unit_test(test_plan__newer_commit_preempts_canary),
	    cmocka_unit_test(test_plan__quarantine_rolls_back_canary),
	    cmocka_unit_test(test_plan__provisioned_concurrency_blocks_a_canary),
	    cmocka_unit_test(test_plan__prune),
	    cmocka_unit_test(test_plan__detect_reports_only),
	    cmocka_unit_test(test_plan__s3_code_is_known_by_what_tether_staged),
	    cmocka_unit_test(test_plan__create_needs),
	    cmocka_unit_test(test_plan__failed_update_is_retried),
	    cmocka_unit_test(test_plan__config_fields),
	    cmocka_unit_test(test_plan__alias_drift),
	    cmocka_unit_test(test_plan__json),
	    cmocka_unit_test(test_plan__ten_thousand_functions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
