#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/timeutil.h"
#include "common/xmalloc.h"
#include "reconcile/plan_text.h"

/* Longest summary line; fragments past it are left out (a plan for one function never
 * comes near it: at most 5 layers, a few aliases and 10 canary steps). */
#define PLAN_TEXT_LINE_MAX (64 * 1024)
/* Descriptions are cut to this many bytes in the text. */
#define PLAN_TEXT_DESCRIPTION_SHOWN 40

void
plan_text_version(long v, char out[PLAN_TEXT_VERSION_MAX])
{
	if (v == PLAN_NEW_VERSION)
		snprintf(out, PLAN_TEXT_VERSION_MAX, "new");
	else
		snprintf(out, PLAN_TEXT_VERSION_MAX, "%ld", v);
}

void
plan_text_duration(long seconds, char out[PLAN_TEXT_DURATION_MAX])
{
	long h = seconds / 3600, m = seconds % 3600 / 60, s = seconds % 60;
	int n = 0;

	out[0] = '\0';
	if (h > 0)
		n += snprintf(out + n, (size_t)(PLAN_TEXT_DURATION_MAX - n), "%ldh", h);
	if (m > 0)
		n += snprintf(out + n, (size_t)(PLAN_TEXT_DURATION_MAX - n), "%ldm", m);
	if (s > 0 || n == 0)
		snprintf(out + n, (size_t)(PLAN_TEXT_DURATION_MAX - n), "%lds", s);
}

/* Where an image URI's tag or digest starts (its end when it has neither). */
static size_t
repo_len(const char *uri)
{
	const char *at = strchr(uri, '@'), *slash, *colon;

	if (at != NULL)
		return (size_t)(at - uri);
	slash = strrchr(uri, '/');
	colon = strrchr(uri, ':');
	if (colon != NULL && (slash == NULL || colon > slash))
		return (size_t)(colon - uri);
	return strlen(uri);
}

/* A tag as is, a digest cut to 12 hex: "@sha256:0123456789ab". */
static void
image_suffix(const char *s, struct buf *b)
{
	if (strncmp(s, "@sha256:", 8) == 0 && strlen(s) > 8 + 12)
		buf_printf(b, "@sha256:%.12s", s + 8);
	else
		buf_puts(b, s);
}

char *
plan_text_image(const char *from, const char *to)
{
	struct buf b = BUF_INIT(PLAN_TEXT_LINE_MAX);
	size_t rf, rt;

	if (from == NULL || from[0] == '\0') {
		buf_printf(&b, "image %s", to);
		return buf_detach(&b, NULL);
	}
	rf = repo_len(from);
	rt = repo_len(to);
	if (rf == rt && strncmp(from, to, rf) == 0 && from[rf] != '\0' && to[rt] != '\0') {
		buf_puts(&b, "image ");
		image_suffix(from + rf, &b);
		if (strcmp(from, to) != 0) {
			buf_puts(&b, " -> ");
			image_suffix(to + rt, &b);
		}
	} else if (strcmp(from, to) == 0) {
		buf_printf(&b, "image %s", to);
	} else {
		buf_printf(&b, "image %s -> %s", from, to);
	}
	return buf_detach(&b, NULL);
}

char *
plan_text_s3(const char *from, const char *to)
{
	if (from == NULL || from[0] == '\0' || strcmp(from, to) == 0)
		return xasprintf("code %s", to);
	return xasprintf("code %s -> %s", from, to);
}

/* "name:5" from "arn:aws:lambda:r:a:layer:name:5"; the whole string if it is not one. */
static const char *
layer_short(const char *arn)
{
	const char *p = strstr(arn, ":layer:");

	return p != NULL ? p + 7 : arn;
}

/* The length of a short layer's name, without ":version". */
static size_t
layer_name_len(const char *shortname)
{
	const char *c = strrchr(shortname, ':');

	return c != NULL ? (size_t)(c - shortname) : strlen(shortname);
}

static void
layer_list(struct buf *b, char *const *v, size_t n)
{
	size_t i;

	if (n == 0)
		buf_puts(b, "none");
	for (i = 0; i < n; i++)
		buf_printf(b, "%s%s", i > 0 ? ", " : "", layer_short(v[i]));
}

static void
text_layers(struct buf *b, const struct obs_latest *l, const struct plan_config *c)
{
	const char *f, *t;
	size_t i, nf, nt;
	bool pairwise = l->nlayers == c->nlayers && c->nlayers > 0, first = true;

	for (i = 0; pairwise && i < c->nlayers; i++) {
		f = layer_short(l->layers[i]);
		t = layer_short(c->layers[i]);
		nf = layer_name_len(f);
		nt = layer_name_len(t);
		pairwise = nf == nt && strncmp(f, t, nf) == 0;
	}
	buf_puts(b, "layers ");
	if (!pairwise) {
		layer_list(b, l->layers, l->nlayers);
		buf_puts(b, " -> ");
		layer_list(b, c->layers, c->nlayers);
		return;
	}
	for (i = 0; i < c->nlayers; i++) {
		f = layer_short(l->layers[i]);
		t = layer_short(c->layers[i]);
		if (strcmp(f, t) == 0)
			continue;
		buf_printf(b, "%s%s -> %s", first ? "" : ", ", f, t + layer_name_len(t));
		first = false;
	}
	if (first)
		layer_list(b, c->layers, c->nlayers); /* unchanged: a retry */
}

/* Keys only: "~CHANGED +ADDED -REMOVED". Values may be secrets. */
static void
text_environment(struct buf *b, const struct obs_latest *l, const struct plan_config *c)
{
	size_t i = 0, j = 0;
	int cmp;
	bool any = false;

	buf_puts(b, "environment");
	while (i < l->nenvironment || j < c->nenvironment) {
		if (i == l->nenvironment)
			cmp = 1;
		else if (j == c->nenvironment)
			cmp = -1;
		else
			cmp = strcmp(l->environment[i].key, c->environment[j].key);
		if (cmp < 0) {
			buf_printf(b, " -%s", l->environment[i++].key);
			any = true;
		} else if (cmp > 0) {
			buf_printf(b, " +%s", c->environment[j++].key);
			any = true;
		} else {
			if (strcmp(l->environment[i].value, c->environment[j].value) != 0) {
				buf_printf(b, " ~%s", c->environment[j].key);
				any = true;
			}
			i++;
			j++;
		}
	}
	if (!any)
		buf_puts(b, c->nenvironment == 0 ? " none" : " unchanged");
}

static void
quoted(struct buf *b, const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;

	if (n > PLAN_TEXT_DESCRIPTION_SHOWN)
		buf_printf(b, "\"%.*s...\"", PLAN_TEXT_DESCRIPTION_SHOWN, s);
	else
		buf_printf(b, "\"%s\"", s != NULL ? s : "");
}

static const char *
role_name(const char *arn)
{
	const char *p = arn != NULL ? strrchr(arn, '/') : NULL;

	return p != NULL ? p + 1 : arn;
}

static void
sep(struct buf *b)
{
	if (b->len > 0)
		buf_puts(b, ", ");
}

char *
plan_text_config(const struct obs_latest *l, const struct plan_config *c)
{
	struct buf b = BUF_INIT(PLAN_TEXT_LINE_MAX);

	if (c->has_layers) {
		sep(&b);
		text_layers(&b, l, c);
	}
	if (c->has_memory) {
		sep(&b);
		if (l->memory > 0 && l->memory != c->memory)
			buf_printf(&b, "memory %ld -> %ld", l->memory, c->memory);
		else
			buf_printf(&b, "memory %ld", c->memory);
	}
	if (c->has_timeout) {
		sep(&b);
		if (l->timeout > 0 && l->timeout != c->timeout)
			buf_printf(&b, "timeout %ld -> %ld", l->timeout, c->timeout);
		else
			buf_printf(&b, "timeout %ld", c->timeout);
	}
	if (c->has_environment) {
		sep(&b);
		text_environment(&b, l, c);
	}
	if (c->has_description) {
		sep(&b);
		buf_puts(&b, "description ");
		if (l->description != NULL && strcmp(l->description, c->description) != 0) {
			quoted(&b, l->description);
			buf_puts(&b, " -> ");
		}
		quoted(&b, c->description);
	}
	if (c->has_role) {
		sep(&b);
		if (l->role != NULL && strcmp(l->role, c->role) != 0)
			buf_printf(&b, "role %s -> %s", role_name(l->role), role_name(c->role));
		else
			buf_printf(&b, "role %s", role_name(c->role));
	}
	if (c->has_handler) {
		sep(&b);
		if (l->handler != NULL && strcmp(l->handler, c->handler) != 0)
			buf_printf(&b, "handler %s -> %s", l->handler, c->handler);
		else
			buf_printf(&b, "handler %s", c->handler);
	}
	if (c->has_runtime) {
		sep(&b);
		if (l->runtime != NULL && strcmp(l->runtime, c->runtime) != 0)
			buf_printf(&b, "runtime %s -> %s", l->runtime, c->runtime);
		else
			buf_printf(&b, "runtime %s", c->runtime);
	}
	return buf_detach(&b, NULL);
}

/*
 * The summary line. Most actions show as their own fragment; an alias's canary (start,
 * waits, steps, promote) shows as one: "live 17 -> new (canary 10%, 50% every 5m)". To
 * know where each alias stands, the walk replays the alias actions on a small model of the
 * aliases, starting from the observation.
 */

struct astate {
	const char *name; /* borrowed */
	long version;     /* 0: $LATEST */
	long routing;     /* 0: none */
	double weight;
	bool canary; /* description carries a canary mark */
	struct obs_canary c;
};

struct walk {
	const struct spec_function *want;
	const struct plan_function *pf;
	struct astate *as;
	size_t nas;
	bool *done; /* per action: already part of a fragment */
	struct buf b;
	size_t base; /* length of the line's prefix ("detect, not applied: ") */
};

static long
number_of(const char *s)
{
	char *end;
	long v;

	if (s == NULL || s[0] < '1' || s[0] > '9')
		return 0;
	v = strtol(s, &end, 10);
	return *end == '\0' ? v : 0;
}

static struct astate *
astate(struct walk *w, const char *name)
{
	size_t i;

	for (i = 0; i < w->nas; i++) {
		if (strcmp(w->as[i].name, name) == 0)
			return &w->as[i];
	}
	w->as = xreallocarray(w->as, w->nas + 1, sizeof(*w->as));
	memset(&w->as[w->nas], 0, sizeof(*w->as));
	w->as[w->nas].name = name;
	return &w->as[w->nas++];
}

static void
astate_apply(struct astate *st, const struct plan_action *a)
{
	if (a->kind != PLAN_CREATE_ALIAS && a->kind != PLAN_UPDATE_ALIAS)
		return;
	st->version = a->version;
	st->routing = a->routing_version;
	st->weight = a->routing_weight;
	if (a->description != NULL)
		st->canary = obs_parse_canary(a->description, &st->c);
}

static void
frag_start(struct walk *w)
{
	if (w->b.len > w->base)
		buf_puts(&w->b, "; ");
}

static const struct spec_alias *
spec_alias_find(const struct spec_function *f, const char *name)
{
	size_t i;

	for (i = 0; f != NULL && i < f->naliases; i++) {
		if (strcmp(f->aliases[i].name, name) == 0)
			return &f->aliases[i];
	}
	return NULL;
}

static void
alias_version_text(long v, char out[PLAN_TEXT_VERSION_MAX])
{
	if (v == 0)
		snprintf(out, PLAN_TEXT_VERSION_MAX, "$LATEST");
	else
		plan_text_version(v, out);
}

static int
percent(double weight)
{
	return (int)(weight * 100.0 + 0.5); /* weights are in [0, 1] */
}

/* The weights a canary segment sets, from action index `from` on: "10%, 50%". */
static size_t
weights_text(struct walk *w, const size_t *idx, size_t n, size_t from, struct buf *b)
{
	size_t i, count = 0;

	for (i = from; i < n; i++) {
		const struct plan_action *a = &w->pf->actions[idx[i]];

		if (a->kind == PLAN_UPDATE_ALIAS && a->routing_version != 0) {
			buf_printf(b, "%s%d%%", count > 0 ? ", " : "", percent(a->routing_weight));
			count++;
		}
	}
	return count;
}

/* One alias's UPDATE_ALIAS / WAIT_CANARY actions from index i on, as one fragment. */
static void
alias_segment(struct walk *w, size_t i)
{
	const struct plan_function *pf = w->pf;
	const struct plan_action *a = &pf->actions[i], *last, *x;
	const struct spec_alias *sa = spec_alias_find(w->want, a->alias);
	struct astate *st = astate(w, a->alias);
	struct buf rest = BUF_INIT(PLAN_TEXT_LINE_MAX);
	char from[PLAN_TEXT_VERSION_MAX], to[PLAN_TEXT_VERSION_MAX];
	char dur[PLAN_TEXT_DURATION_MAX], iso[21];
	struct obs_canary c;
	size_t *idx, n = 0, j, k = 0, count;
	long target;
	bool running;

	frag_start(w);
	/* Routing removed while the primary stays: a canary stopped or rolled back, or
	 * routing someone added by hand. */
	if (a->kind == PLAN_UPDATE_ALIAS && a->routing_version == 0 && st->routing != 0 &&
	    a->version == st->version) {
		buf_puts(&w->b, a->why);
		astate_apply(st, a);
		w->done[i] = true;
		return;
	}
	idx = xcalloc(pf->n - i, sizeof(*idx));
	for (j = i; j < pf->n; j++) {
		x = &pf->actions[j];
		if (w->done[j] || x->alias == NULL || strcmp(x->alias, a->alias) != 0)
			continue;
		if (x->kind != PLAN_UPDATE_ALIAS && x->kind != PLAN_WAIT_CANARY)
			break;
		idx[n++] = j;
		w->done[j] = true;
		if (x->kind == PLAN_UPDATE_ALIAS && x->routing_version == 0)
			break;
	}
	last = &pf->actions[idx[n - 1]];
	target = last->kind == PLAN_UPDATE_ALIAS && last->routing_version == 0
	             ? last->version
	             : last->routing_version;
	running =
	    st->canary && st->routing != 0 && st->routing == target && st->c.stable == st->version;
	alias_version_text(st->version, from);
	alias_version_text(target, to);
	buf_printf(&w->b, "%s %s -> %s", a->alias, from, to);
	dur[0] = '\0';
	if (sa != NULL && sa->nsteps > 0)
		plan_text_duration(sa->interval, dur);
	if (running) {
		buf_printf(&w->b, " (canary %d%%", percent(st->weight));
		x = &pf->actions[idx[0]];
		if (x->kind == PLAN_UPDATE_ALIAS && x->routing_version == target &&
		    obs_parse_canary(x->description, &c) && c.step == st->c.step) {
			/* The step's weight was set again (changed by hand or in git). */
			buf_printf(&w->b, " reset to %d%%", percent(x->routing_weight));
			k = 1;
		}
		if (k < n && pf->actions[idx[k]].kind == PLAN_WAIT_CANARY) {
			timeutil_iso8601((time_t)pf->actions[idx[k]].until, iso);
			buf_printf(&w->b, " until %s", iso);
		} else {
			buf_puts(&w->b, " done");
		}
		count = weights_text(w, idx, n, k, &rest);
		if (count == 0)
			buf_puts(&w->b, ", then 100%)");
		else
			buf_printf(&w->b, ", then %s %s %s)", buf_cstr(&rest),
			    count == 1 ? "for" : "every", dur);
	} else {
		count = weights_text(w, idx, n, 0, &rest);
		if (count > 0)
			buf_printf(&w->b, " (canary %s %s %s)", buf_cstr(&rest),
			    count == 1 ? "for" : "every", dur);
		else if (st->version == 0 && sa != NULL && sa->nsteps > 0)
			buf_puts(&w->b, " (at once: no canary from $LATEST)");
	}
	for (j = 0; j < n; j++)
		astate_apply(st, &pf->actions[idx[j]]);
	buf_free(&rest);
	free(idx);
}

char *
plan_text_summary(const struct spec_function *want, const struct obs_function *have,
    const struct plan_function *pf)
{
	struct walk w;
	const struct plan_action *a;
	struct astate *st;
	char to[PLAN_TEXT_VERSION_MAX];
	size_t i, j;
	char *s;

	if (pf->n == 0)
		return xstrdup("in sync");
	memset(&w, 0, sizeof(w));
	w.want = want;
	w.pf = pf;
	buf_init(&w.b, PLAN_TEXT_LINE_MAX);
	w.done = xcalloc(pf->n, sizeof(*w.done));
	for (i = 0; i < have->naliases; i++) {
		st = astate(&w, have->aliases[i].name);
		st->version = number_of(have->aliases[i].version);
		st->routing = number_of(have->aliases[i].routing_version);
		st->weight = have->aliases[i].routing_weight;
		st->canary = have->aliases[i].has_canary;
		st->c = have->aliases[i].canary;
	}
	if (pf->mode == SPEC_MODE_DETECT)
		buf_puts(&w.b, "detect, not applied: ");
	w.base = w.b.len;
	for (i = 0; i < pf->n; i++) {
		a = &pf->actions[i];
		if (w.done[i])
			continue;
		switch (a->kind) {
		case PLAN_UPDATE_CODE:
		case PLAN_UPDATE_CONFIG:
			frag_start(&w);
			buf_puts(&w.b, a->why);
			break;
		case PLAN_WAIT_UPDATED:
			/* Waiting after our own update goes without saying. */
			if (i > 0 &&
			    (a[-1].kind == PLAN_UPDATE_CODE || a[-1].kind == PLAN_UPDATE_CONFIG ||
			        a[-1].kind == PLAN_CREATE_FUNCTION))
				break;
			frag_start(&w);
			buf_printf(&w.b, "wait: %s", a->why);
			break;
		case PLAN_SMOKE_TEST:
			frag_start(&w);
			buf_puts(&w.b, "smoke test");
			break;
		case PLAN_PUBLISH:
			frag_start(&w);
			buf_puts(&w.b, "publish");
			break;
		case PLAN_DELETE_VERSION:
			frag_start(&w);
			buf_puts(&w.b, "prune");
			for (j = i; j < pf->n && pf->actions[j].kind == PLAN_DELETE_VERSION; j++) {
				plan_text_version(pf->actions[j].version, to);
				buf_printf(&w.b, "%s %s", j > i ? "," : "", to);
				w.done[j] = true;
			}
			break;
		case PLAN_BLOCKED:
			frag_start(&w);
			buf_printf(&w.b, "blocked: %s", a->why);
			break;
		case PLAN_CREATE_FUNCTION:
			frag_start(&w);
			buf_puts(&w.b, "create function");
			break;
		case PLAN_CREATE_ALIAS:
			frag_start(&w);
			plan_text_version(a->version, to);
			buf_printf(&w.b, "create %s -> %s", a->alias, to);
			astate_apply(astate(&w, a->alias), a);
			break;
		case PLAN_UPDATE_ALIAS:
		case PLAN_WAIT_CANARY:
			alias_segment(&w, i);
			break;
		}
		w.done[i] = true;
	}
	s = buf_detach(&w.b, NULL);
	free(w.done);
	free(w.as);
	return s;
}

void
plan_print_text(const struct plan *p, FILE *out)
{
	bool regions = false;
	size_t i;

	/* Name the region only when the plan spans several. */
	for (i = 1; i < p->n; i++) {
		if (strcmp(p->functions[i].region, p->functions[0].region) != 0)
			regions = true;
	}
	for (i = 0; i < p->n; i++) {
		if (regions)
			fprintf(out, "%s (%s): %s\n", p->functions[i].name, p->functions[i].region,
			    p->functions[i].summary);
		else
			fprintf(out, "%s: %s\n", p->functions[i].name, p->functions[i].summary);
	}
}
