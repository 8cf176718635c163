/*
 * `tether apply`: converge every function a commit declares, once (docs/apply.md). Read
 * and validate the commit, take the state directory, then one executor (deploy/converge.h)
 * per region, all on one loop; print the summary table. Exit 0 when every function
 * converged or was in sync (or reported, or suspended), 1 when any failed or is blocked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>

#include "common/buf.h"
#include "common/jsonw.h"
#include "common/xmalloc.h"
#include "controller/cli.h"
#include "controller/desired.h"
#include "deploy/converge.h"

/* The longest ALIASES cell kept. */
#define APPLY_ALIASES_MAX 512
/* The longest JSON summary: ~300 bytes per function. */
#define APPLY_JSON_MAX (64 * 1024 * 1024)

struct region_run {
	struct session *session;
	struct converge *converge;
};

struct apply_run {
	struct ev_loop *loop;
	struct region_run *regions;
	size_t nregions;
	size_t pending;
};

static void
converged_cb(struct converge *c, void *arg)
{
	struct apply_run *run = arg;

	(void)c;
	if (--run->pending == 0)
		ev_break(run->loop, EVBREAK_ONE);
}

/* "live=18 staging=17+18@10%": the aliases after the run. */
static char *
aliases_cell(const struct obs_function *fn)
{
	struct buf b;
	const struct obs_alias *a;
	size_t i;

	buf_init(&b, APPLY_ALIASES_MAX);
	for (i = 0; i < fn->naliases; i++) {
		a = &fn->aliases[i];
		if (i > 0)
			buf_puts(&b, " ");
		buf_printf(&b, "%s=%s", a->name, a->version != NULL ? a->version : "?");
		if (a->routing_version != NULL)
			buf_printf(&b, "+%s@%.0f%%", a->routing_version, a->routing_weight * 100.0);
	}
	if (b.len == 0)
		buf_puts(&b, "-");
	return buf_detach(&b, NULL);
}

struct tally {
	size_t by[CONVERGE_FAILED + 1];
	unsigned mutations;
};

static void
print_text(const struct apply_run *run, const struct desired *d, struct tally *t)
{
	const struct converge_result *res;
	size_t i, k, n;
	char *al;

	printf("%-24s %-14s %-10s %-28s %-7s %s\n", "FUNCTION", "REGION", "RESULT", "ALIASES",
	    "ACTIONS", "DETAIL");
	for (i = 0; i < run->nregions; i++) {
		res = converge_results(run->regions[i].converge, &n);
		for (k = 0; k < n; k++) {
			al = aliases_cell(&res[k].fn);
			printf("%-24s %-14s %-10s %-28s %-7u %s\n", res[k].want->name,
			    d->regions[i], converge_outcome_names[res[k].outcome], al,
			    res[k].mutations, res[k].detail != NULL ? res[k].detail : "-");
			free(al);
			t->by[res[k].outcome]++;
			t->mutations += res[k].mutations;
		}
	}
	printf("apply: %zu functions: %zu converged, %zu in sync, %zu reported, %zu suspended, "
	       "%zu blocked, %zu failed; %u mutating calls; commit %.12s\n",
	    d->spec.n, t->by[CONVERGE_CONVERGED], t->by[CONVERGE_IN_SYNC], t->by[CONVERGE_REPORTED],
	    t->by[CONVERGE_SUSPENDED], t->by[CONVERGE_BLOCKED], t->by[CONVERGE_FAILED],
	    t->mutations, d->commit.id);
}

static void
print_json(const struct apply_run *run, const struct desired *d, struct tally *t)
{
	const struct converge_result *res;
	struct jsonw w;
	struct buf out;
	size_t i, k, n;
	char *al;
	enum converge_outcome o;

	buf_init(&out, APPLY_JSON_MAX);
	jsonw_init(&w, &out);
	jsonw_object_open(&w);
	jsonw_kstr(&w, "commit", d->commit.id);
	jsonw_kstr_null(&w, "ref", d->commit.ref);
	jsonw_key(&w, "functions");
	jsonw_array_open(&w);
	for (i = 0; i < run->nregions; i++) {
		res = converge_results(run->regions[i].converge, &n);
		for (k = 0; k < n; k++) {
			al = aliases_cell(&res[k].fn);
			jsonw_object_open(&w);
			jsonw_kstr(&w, "function", res[k].want->name);
			jsonw_kstr(&w, "region", d->regions[i]);
			jsonw_kstr(&w, "result", converge_outcome_names[res[k].outcome]);
			jsonw_kstr(&w, "aliases", al);
			jsonw_kint(&w, "actions", res[k].mutations);
			jsonw_kstr_null(&w, "detail", res[k].detail);
			jsonw_kstr_null(
			    &w, "digest", res[k].digest[0] != '\0' ? res[k].digest : NULL);
			jsonw_object_close(&w);
			free(al);
			t->by[res[k].outcome]++;
			t->mutations += res[k].mutations;
		}
	}
	jsonw_array_close(&w);
	jsonw_key(&w, "counts");
	jsonw_object_open(&w);
	for (o = CONVERGE_IN_SYNC; o <= CONVERGE_FAILED; o++)
		jsonw_kint(&w, converge_outcome_names[o], (long long)t->by[o]);
	jsonw_kint(&w, "mutating_calls", t->mutations);
	jsonw_object_close(&w);
	jsonw_object_close(&w);
	if (jsonw_failed(&w))
		fprintf(stderr, "tether: the summary exceeds %d bytes\n", APPLY_JSON_MAX);
	else
		printf("%s\n", buf_cstr(&out));
	buf_free(&out);
}

int
cmd_apply(const struct cli *cli, int argc, char **argv)
{
	struct desired d;
	struct apply_run run;
	struct state *st = NULL;
	struct manifest *m = NULL;
	struct session_opts so = cli->session;
	struct converge_opts co = CONVERGE_OPTS_INIT;
	struct tally t;
	struct err err = ERR_INIT;
	const char *dir = cli->state_dir != NULL ? cli->state_dir : STATE_DIR_DEFAULT;
	size_t i;
	int rc = CLI_EXIT_ERROR;

	memset(&d, 0, sizeof(d));
	memset(&run, 0, sizeof(run));
	memset(&t, 0, sizeof(t));
	if (argc > 0)
		return cli_usage_error("apply takes no arguments (\"%s\"); use --repo", argv[0]);
	if (cli->repo == NULL)
		return cli_usage_error("%s", "apply needs --repo URL|PATH (a git repository)");
	if (desired_read(cli, "apply", &d) != 0)
		goto out;
	if (state_open(&st, dir, &err) != 0 || manifest_open(&m, dir, &err) != 0) {
		fprintf(stderr, "tether: %s\n", err.message);
		goto out;
	}

	run.loop = ev_default_loop(EVFLAG_AUTO);
	run.regions = d.nregions > 0 ? xcalloc(d.nregions, sizeof(*run.regions)) : NULL;
	for (i = 0; i < d.nregions; i++) {
		so.region = d.regions[i];
		if (session_new(&run.regions[i].session, run.loop, &so, &err) != 0) {
			fprintf(stderr, "tether: %s: %s\n", d.regions[i], err.message);
			goto out;
		}
		run.nregions++;
		co.loop = run.loop;
		co.lambda = session_lambda(run.regions[i].session);
		co.region = d.regions[i];
		co.state = st;
		co.manifest = m;
		co.commit = d.commit.id;
		co.ref = d.commit.ref;
		co.concurrency = cli->concurrency > 0 ? (size_t)cli->concurrency : 0;
		co.done = converged_cb;
		co.arg = &run;
		if (converge_start(&run.regions[i].converge, &d.spec, &co, &err) != 0) {
			fprintf(stderr, "tether: %s: %s\n", d.regions[i], err.message);
			goto out;
		}
		run.pending++;
	}
	if (run.pending > 0)
		ev_run(run.loop, 0);
	if (cli->json)
		print_json(&run, &d, &t);
	else
		print_text(&run, &d, &t);
	if (fflush(stdout) != 0) {
		fprintf(stderr, "tether: cannot write the summary\n");
		goto out;
	}
	rc = t.by[CONVERGE_FAILED] + t.by[CONVERGE_BLOCKED] > 0 ? CLI_EXIT_ERROR : CLI_EXIT_OK;
out:
	/* Executors first: they cancel calls on their sessions' clients. */
	for (i = 0; i < run.nregions; i++)
		converge_free(run.regions[i].converge);
	for (i = 0; i < run.nregions; i++)
		session_free(run.regions[i].session);
	free(run.regions);
	if (run.loop != NULL)
		ev_loop_destroy(run.loop);
	manifest_close(m);
	state_close(st);
	desired_free(&d);
	return rc;
}
