/*
 * `tether status`: what tether last did to each function, from the state directory and the
 * manifests (docs/apply.md) — the last commit and digest applied, the aliases as tether
 * last set them, the last error, the quarantine — next to the live aliases, read with
 * read-only calls (deploy/observe.h). An alias that is not where tether last put it is
 * drift. It does not take the state lock, so it works while apply or the daemon runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/buf.h"
#include "common/jsonw.h"
#include "common/xmalloc.h"
#include "controller/cli.h"
#include "deploy/manifest.h"
#include "deploy/observe.h"
#include "deploy/state.h"

#define STATUS_ALIASES_MAX 512
#define STATUS_JSON_MAX (64 * 1024 * 1024)

struct alias_seen {
	char *name;
	char *version;
	char *routing;
	double weight;
};

struct fstatus {
	char *region;
	char *name;
	char *commit;      /* of the last ok action */
	char *digest;      /* of the last ok action that had one */
	char *last_time;   /* of the last record */
	char *last_action; /* its action and outcome: "publish ok" */
	char *last_error;  /* of the last failed record, cleared by a later converge */
	struct alias_seen *aliases;
	size_t naliases;
	char *quarantine; /* "d=<12> <reason>" */
	/* Live, from Lambda: */
	bool observed;  /* the observation succeeded */
	bool exists;    /* the function exists */
	char *live;     /* its aliases, as aliases_cell() writes them */
	bool drift;     /* an alias tether set is elsewhere now, or gone */
	char *live_err; /* why it could not be observed */
};

struct status {
	struct fstatus *v;
	size_t n;
};

static struct fstatus *
find(struct status *s, const char *region, const char *name)
{
	size_t i;

	for (i = s->n; i > 0; i--) {
		if (strcmp(s->v[i - 1].region, region) == 0 && strcmp(s->v[i - 1].name, name) == 0)
			return &s->v[i - 1];
	}
	s->v = xreallocarray(s->v, s->n + 1, sizeof(*s->v));
	memset(&s->v[s->n], 0, sizeof(s->v[s->n]));
	s->v[s->n].region = xstrdup(region);
	s->v[s->n].name = xstrdup(name);
	return &s->v[s->n++];
}

static void
set_str(char **p, const char *v)
{
	free(*p);
	*p = v != NULL ? xstrdup(v) : NULL;
}

static const char *
jstr(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static void
alias_set(struct fstatus *f, const char *name, json_t *after)
{
	struct alias_seen *a = NULL;
	size_t i;

	for (i = 0; i < f->naliases; i++)
		if (strcmp(f->aliases[i].name, name) == 0)
			a = &f->aliases[i];
	if (a == NULL) {
		f->aliases = xreallocarray(f->aliases, f->naliases + 1, sizeof(*f->aliases));
		a = &f->aliases[f->naliases++];
		memset(a, 0, sizeof(*a));
		a->name = xstrdup(name);
	}
	set_str(&a->version, jstr(after, "version"));
	set_str(&a->routing, jstr(after, "routing_version"));
	a->weight = json_number_value(json_object_get(after, "routing_weight"));
}

/* The alias a record is about: "live 17 -> 18: ..." starts with it. */
static char *
alias_of(const char *why)
{
	size_t n;

	if (why == NULL)
		return NULL;
	n = strcspn(why, " :");
	return n > 0 ? xstrndup(why, n) : NULL;
}

static int
visit(json_t *r, void *arg)
{
	struct status *s = arg;
	const char *region = jstr(r, "region"), *name = jstr(r, "function");
	const char *action = jstr(r, "action"), *outcome = jstr(r, "outcome");
	struct fstatus *f;
	char *alias;
	json_t *after;

	if (region == NULL || name == NULL || action == NULL || outcome == NULL)
		return 0;
	f = find(s, region, name);
	set_str(&f->last_time, jstr(r, "time"));
	free(f->last_action);
	f->last_action = xasprintf("%s %s", action, outcome);
	if (strcmp(outcome, "failed") == 0) {
		set_str(
		    &f->last_error, jstr(r, "error") != NULL ? jstr(r, "error") : jstr(r, "why"));
		return 0;
	}
	if (strcmp(outcome, "ok") != 0)
		return 0;
	set_str(&f->commit, jstr(r, "commit"));
	if (jstr(r, "digest") != NULL)
		set_str(&f->digest, jstr(r, "digest"));
	after = json_object_get(r, "after");
	if ((strcmp(action, "create_alias") == 0 || strcmp(action, "update_alias") == 0) &&
	    json_is_object(after)) {
		alias = alias_of(jstr(r, "why"));
		if (alias != NULL && strcmp(alias, "create") == 0) {
			free(alias);
			alias = alias_of(jstr(r, "why") + strlen("create "));
		}
		if (alias != NULL)
			alias_set(f, alias, after);
		free(alias);
	}
	if (strcmp(action, "publish") == 0)
		set_str(&f->last_error, NULL);
	return 0;
}

static int
state_visit(const char *region, const char *name, const struct state_function *sf, void *arg)
{
	struct status *s = arg;
	struct fstatus *f;

	if (sf->quarantine_digest == NULL)
		return 0;
	f = find(s, region, name);
	free(f->quarantine);
	f->quarantine = xasprintf("d=%.12s %s", sf->quarantine_digest,
	    sf->quarantine_reason != NULL ? sf->quarantine_reason : "");
	return 0;
}

static int
fstatus_cmp(const void *a, const void *b)
{
	const struct fstatus *x = a, *y = b;
	int c = strcmp(x->region, y->region);

	return c != 0 ? c : strcmp(x->name, y->name);
}

static char *
aliases_cell(const struct fstatus *f)
{
	struct buf b;
	size_t i;

	buf_init(&b, STATUS_ALIASES_MAX);
	for (i = 0; i < f->naliases; i++) {
		buf_printf(&b, "%s%s=%s", i > 0 ? " " : "", f->aliases[i].name,
		    f->aliases[i].version != NULL ? f->aliases[i].version : "?");
		if (f->aliases[i].routing != NULL)
			buf_printf(
			    &b, "+%s@%.0f%%", f->aliases[i].routing, f->aliases[i].weight * 100.0);
	}
	if (b.len == 0)
		buf_puts(&b, "-");
	return buf_detach(&b, NULL);
}

/* "live=2 (drift)", "missing", "unknown" */
static const char *
live_cell(const struct fstatus *f)
{
	static char cell[STATUS_ALIASES_MAX + 16];

	if (!f->observed)
		return "unknown";
	if (!f->exists)
		return "missing";
	snprintf(cell, sizeof(cell), "%s%s", f->live, f->drift ? " (drift)" : "");
	return cell;
}

static void
print_text(const struct status *s)
{
	const struct fstatus *f;
	size_t i;
	char *al;

	printf("%-24s %-14s %-12s %-12s %-28s %-28s %s\n", "FUNCTION", "REGION", "COMMIT", "DIGEST",
	    "ALIASES", "LIVE", "LAST");
	for (i = 0; i < s->n; i++) {
		f = &s->v[i];
		al = aliases_cell(f);
		printf("%-24s %-14s %-12.12s %-12.12s %-28s %-28s %s %s%s%s%s%s\n", f->name,
		    f->region, f->commit != NULL ? f->commit : "-",
		    f->digest != NULL ? f->digest : "-", al, live_cell(f),
		    f->last_time != NULL ? f->last_time : "-",
		    f->last_action != NULL ? f->last_action : "-", f->last_error ? "; error: " : "",
		    f->last_error ? f->last_error : "", f->quarantine ? "; quarantined " : "",
		    f->quarantine ? f->quarantine : "");
		free(al);
	}
}

static int
print_json(const struct status *s)
{
	const struct fstatus *f;
	struct buf out;
	struct jsonw w;
	size_t i, k;
	int rc = 0;

	buf_init(&out, STATUS_JSON_MAX);
	jsonw_init(&w, &out);
	jsonw_object_open(&w);
	jsonw_key(&w, "functions");
	jsonw_array_open(&w);
	for (i = 0; i < s->n; i++) {
		f = &s->v[i];
		jsonw_object_open(&w);
		jsonw_kstr(&w, "function", f->name);
		jsonw_kstr(&w, "region", f->region);
		jsonw_kstr_null(&w, "commit", f->commit);
		jsonw_kstr_null(&w, "digest", f->digest);
		jsonw_key(&w, "aliases");
		jsonw_object_open(&w);
		for (k = 0; k < f->naliases; k++) {
			jsonw_key(&w, f->aliases[k].name);
			jsonw_object_open(&w);
			jsonw_kstr_null(&w, "version", f->aliases[k].version);
			jsonw_kstr_null(&w, "routing_version", f->aliases[k].routing);
			jsonw_key(&w, "routing_weight");
			jsonw_double(
			    &w, f->aliases[k].routing != NULL ? f->aliases[k].weight : 0.0);
			jsonw_object_close(&w);
		}
		jsonw_object_close(&w);
		jsonw_kstr_null(&w, "last_time", f->last_time);
		jsonw_kstr_null(&w, "last_action", f->last_action);
		jsonw_kstr_null(&w, "last_error", f->last_error);
		jsonw_kstr_null(&w, "quarantine", f->quarantine);
		jsonw_key(&w, "live");
		if (!f->observed) {
			jsonw_object_open(&w);
			jsonw_kstr_null(&w, "error", f->live_err);
			jsonw_object_close(&w);
		} else {
			jsonw_object_open(&w);
			jsonw_kbool(&w, "exists", f->exists);
			jsonw_kstr_null(&w, "aliases", f->exists ? f->live : NULL);
			jsonw_kbool(&w, "drift", f->drift);
			jsonw_object_close(&w);
		}
		jsonw_object_close(&w);
	}
	jsonw_array_close(&w);
	jsonw_object_close(&w);
	if (jsonw_failed(&w)) {
		fprintf(stderr, "tether: the status exceeds %d bytes\n", STATUS_JSON_MAX);
		rc = -1;
	} else {
		printf("%s\n", buf_cstr(&out));
	}
	buf_free(&out);
	return rc;
}

static void
status_free(struct status *s)
{
	size_t i, k;
	struct fstatus *f;

	for (i = 0; i < s->n; i++) {
		f = &s->v[i];
		free(f->region);
		free(f->name);
		free(f->commit);
		free(f->digest);
		free(f->last_time);
		free(f->last_action);
		free(f->last_error);
		free(f->quarantine);
		free(f->live);
		free(f->live_err);
		for (k = 0; k < f->naliases; k++) {
			free(f->aliases[k].name);
			free(f->aliases[k].version);
			free(f->aliases[k].routing);
		}
		free(f->aliases);
	}
	free(s->v);
}

/* --- live state ----------------------------------------------------------------------- */

struct live_run {
	struct ev_loop *loop;
	size_t pending;
};

static void
observed_cb(struct observe *o, void *arg)
{
	struct live_run *run = arg;

	(void)o;
	if (--run->pending == 0)
		ev_break(run->loop, EVBREAK_ONE);
}

static bool
str_same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Fold one observation into its function's status. */
static void
take_live(struct fstatus *f, const struct observe_result *r)
{
	const struct obs_function *fn = &r->fn;
	const struct obs_alias *a;
	struct buf b;
	size_t i, k;

	if (r->err.code != 0) {
		f->live_err = xstrdup(r->err.message);
		return;
	}
	f->observed = true;
	f->exists = fn->exists;
	buf_init(&b, STATUS_ALIASES_MAX);
	for (i = 0; i < fn->naliases; i++) {
		a = &fn->aliases[i];
		buf_printf(&b, "%s%s=%s", i > 0 ? " " : "", a->name,
		    a->version != NULL ? a->version : "?");
		if (a->routing_version != NULL)
			buf_printf(&b, "+%s@%.0f%%", a->routing_version, a->routing_weight * 100.0);
	}
	if (b.len == 0)
		buf_puts(&b, "-");
	f->live = buf_detach(&b, NULL);
	for (k = 0; k < f->naliases; k++) {
		a = NULL;
		for (i = 0; i < fn->naliases; i++)
			if (strcmp(fn->aliases[i].name, f->aliases[k].name) == 0)
				a = &fn->aliases[i];
		if (a == NULL || !str_same(a->version, f->aliases[k].version) ||
		    !str_same(a->routing_version, f->aliases[k].routing))
			f->drift = true;
	}
	if (!fn->exists && f->naliases > 0)
		f->drift = true;
}

/*
 * Observe every function of s, one session per region, with read calls only. Returns 0,
 * or -1 when a region could not be observed at all (what was observed is kept).
 */
static int
observe_live(const struct cli *cli, struct status *s)
{
	struct live_run run;
	struct session_opts so = cli->session;
	struct observe_opts oo = OBSERVE_OPTS_INIT;
	struct spec *specs = NULL;
	struct session **sessions = NULL;
	struct observe **obs = NULL;
	const struct observe_result *res;
	struct err err = ERR_INIT;
	size_t i, k, n, nreg = 0, first;
	int rc = 0;

	memset(&run, 0, sizeof(run));
	if (s->n == 0)
		return 0;
	run.loop = ev_default_loop(EVFLAG_AUTO);
	specs = xcalloc(s->n, sizeof(*specs));
	sessions = xcalloc(s->n, sizeof(*sessions));
	obs = xcalloc(s->n, sizeof(*obs));
	/* s is sorted by region: one spec of bare functions (name and region) per region. */
	for (i = 0; i < s->n; i = first + specs[nreg - 1].n) {
		first = i;
		specs[nreg].functions = xcalloc(s->n - i, sizeof(struct spec_function));
		for (k = i; k < s->n && strcmp(s->v[k].region, s->v[i].region) == 0; k++) {
			specs[nreg].functions[k - i].name = s->v[k].name;
			specs[nreg].functions[k - i].region = s->v[k].region;
			specs[nreg].functions[k - i].mode = SPEC_MODE_DETECT;
			specs[nreg].n++;
		}
		so.region = s->v[i].region;
		if (session_new(&sessions[nreg], run.loop, &so, &err) != 0) {
			fprintf(stderr, "tether: %s: %s\n", s->v[i].region, err.message);
			rc = -1;
			nreg++;
			continue;
		}
		oo.loop = run.loop;
		oo.lambda = session_lambda(sessions[nreg]);
		oo.region = s->v[i].region;
		oo.no_listing = true;
		oo.done = observed_cb;
		oo.arg = &run;
		if (observe_start(&obs[nreg], &specs[nreg], &oo, &err) != 0) {
			fprintf(stderr, "tether: %s: %s\n", s->v[i].region, err.message);
			rc = -1;
		} else {
			run.pending++;
		}
		nreg++;
	}
	if (run.pending > 0)
		ev_run(run.loop, 0);
	for (i = 0, first = 0; i < nreg; first += specs[i].n, i++) {
		if (obs[i] == NULL)
			continue;
		res = observe_results(obs[i], &n);
		for (k = 0; k < n; k++)
			take_live(&s->v[first + k], &res[k]);
	}
	for (i = 0; i < nreg; i++) {
		observe_free(obs[i]);
		session_free(sessions[i]);
		free(specs[i].functions);
	}
	free(obs);
	free(sessions);
	free(specs);
	ev_loop_destroy(run.loop);
	return rc;
}

int
cmd_status(const struct cli *cli, int argc, char **argv)
{
	const char *dir = cli->state_dir != NULL ? cli->state_dir : STATE_DIR_DEFAULT;
	struct status s;
	struct err err = ERR_INIT;
	size_t i;
	int rc = CLI_EXIT_ERROR, live_rc;

	memset(&s, 0, sizeof(s));
	if (argc > 0)
		return cli_usage_error("status takes no arguments (\"%s\")", argv[0]);
	if (manifest_read(dir, visit, &s, NULL, &err) != 0 ||
	    state_read_each_function(dir, state_visit, &s, &err) != 0) {
		fprintf(stderr, "tether: %s\n", err.message);
		goto out;
	}
	if (s.n > 1)
		qsort(s.v, s.n, sizeof(*s.v), fstatus_cmp);
	live_rc = observe_live(cli, &s);
	for (i = 0; i < s.n; i++) {
		if (s.v[i].observed)
			continue;
		live_rc = -1;
		fprintf(stderr, "tether: %s (%s): cannot read its live state: %s\n", s.v[i].name,
		    s.v[i].region, s.v[i].live_err != NULL ? s.v[i].live_err : "no session");
	}
	if (cli->json) {
		if (print_json(&s) != 0)
			goto out;
	} else {
		print_text(&s);
	}
	rc = fflush(stdout) == 0 && live_rc == 0 ? CLI_EXIT_OK : CLI_EXIT_ERROR;
out:
	status_free(&s);
	return rc;
}
