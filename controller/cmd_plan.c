/*
 * `tether plan`: read the desired state from a git commit, load and validate it, observe
 * the live functions with read-only calls (deploy/observe.h), and print what apply would
 * do, per function. Exit 0 in sync, 2 changes pending, 1 error (terraform plan
 * -detailed-exitcode).
 *
 * --repo is a git repository: a local path (bare or not) or a URL. A plain directory is
 * refused: plan shows what applying a commit would do, and only a commit names what was
 * applied (`tether validate DIR` checks a directory). Functions in several regions are
 * observed at once, one session (client, rate-limit buckets) per region.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ev.h>

#include "common/xmalloc.h"
#include "controller/cli.h"
#include "controller/desired.h"
#include "deploy/observe.h"
#include "reconcile/plan.h"

/* One region's observation. */
struct region_obs {
	char *region;
	struct session *session;
	struct observe *observe;
	bool done;
};

struct plan_run {
	struct ev_loop *loop;
	struct region_obs *regions;
	size_t nregions;
	size_t pending; /* observations not done yet */
};

static void
observed_cb(struct observe *o, void *arg)
{
	struct plan_run *run = arg;
	size_t i;

	for (i = 0; i < run->nregions; i++)
		if (run->regions[i].observe == o)
			run->regions[i].done = true;
	if (--run->pending == 0)
		ev_break(run->loop, EVBREAK_ONE);
}

/*
 * Observe every desired function, one session per region. Prints each function that
 * could not be observed, and the read calls made per region. Returns 0 with the
 * observations in *have, or -1.
 */
static int
observe_all(struct plan_run *run, const struct cli *cli, const struct desired *d,
    struct obs_function **have, size_t *nhave)
{
	const struct spec *want = &d->spec;
	struct session_opts so = cli->session;
	struct observe_opts oo = OBSERVE_OPTS_INIT;
	const struct observe_result *res;
	struct obs_function *part;
	struct err err = ERR_INIT;
	size_t i, k, n, npart, calls, len;
	char line[512];
	unsigned counts[OBSERVE_CALL__COUNT];
	int c, rc = 0;

	*have = NULL;
	*nhave = 0;
	run->regions = want->n > 0 ? xcalloc(want->n, sizeof(*run->regions)) : NULL;
	for (i = 0; i < d->nregions; i++)
		run->regions[run->nregions++].region = xstrdup(d->regions[i]);
	for (i = 0; i < run->nregions; i++) {
		so.region = run->regions[i].region;
		if (session_new(&run->regions[i].session, run->loop, &so, &err) != 0) {
			fprintf(stderr, "tether: %s: %s\n", run->regions[i].region, err.message);
			return -1;
		}
		oo.loop = run->loop;
		oo.lambda = session_lambda(run->regions[i].session);
		oo.region = run->regions[i].region;
		oo.done = observed_cb;
		oo.arg = run;
		if (observe_start(&run->regions[i].observe, want, &oo, &err) != 0) {
			fprintf(stderr, "tether: %s: %s\n", run->regions[i].region, err.message);
			return -1;
		}
		run->pending++;
	}
	if (run->pending > 0)
		ev_run(run->loop, 0);
	for (i = 0; i < run->nregions; i++) {
		res = observe_results(run->regions[i].observe, &n);
		memset(counts, 0, sizeof(counts));
		for (c = 0; c < OBSERVE_CALL__COUNT; c++)
			counts[c] = observe_region_calls(run->regions[i].observe, c);
		for (k = 0; k < n; k++) {
			for (c = 0; c < OBSERVE_CALL__COUNT; c++)
				counts[c] += res[k].calls[c];
			if (res[k].err.code != 0) {
				fprintf(stderr, "tether: %s (%s): %s\n", res[k].want->name,
				    run->regions[i].region, res[k].err.message);
				rc = -1;
			}
		}
		calls = 0;
		line[0] = '\0';
		len = 0;
		for (c = 0; c < OBSERVE_CALL__COUNT; c++) {
			calls += counts[c];
			if (counts[c] > 0 && len < sizeof(line))
				len += (size_t)snprintf(line + len, sizeof(line) - len, " %s=%u",
				    observe_call_names[c], counts[c]);
		}
		log_info("plan", "%s: observed %zu functions with %zu read calls:%s",
		    run->regions[i].region, n, calls, calls > 0 ? line : " none");
		if (!run->regions[i].done)
			rc = -1;
	}
	if (rc != 0)
		return -1;
	for (i = 0; i < run->nregions; i++) {
		observe_take(run->regions[i].observe, &part, &npart);
		if (npart > 0) {
			*have = xreallocarray(*have, *nhave + npart, sizeof(**have));
			memcpy(*have + *nhave, part, npart * sizeof(*part));
			*nhave += npart;
		}
		free(part);
	}
	return 0;
}

static void
plan_run_free(struct plan_run *run)
{
	size_t i;

	/* Observations first: they cancel calls on their sessions' clients. */
	for (i = 0; i < run->nregions; i++)
		observe_free(run->regions[i].observe);
	for (i = 0; i < run->nregions; i++) {
		session_free(run->regions[i].session);
		free(run->regions[i].region);
	}
	free(run->regions);
}

int
cmd_plan(const struct cli *cli, int argc, char **argv)
{
	struct desired d;
	struct plan plan = PLAN_INIT;
	struct plan_ctx ctx;
	struct plan_run run;
	struct obs_function *have = NULL;
	size_t nhave = 0, i;
	struct err err = ERR_INIT;
	int rc = CLI_EXIT_ERROR;

	memset(&d, 0, sizeof(d));
	memset(&run, 0, sizeof(run));
	if (argc > 0)
		return cli_usage_error("plan takes no arguments (\"%s\"); use --repo", argv[0]);
	if (cli->repo == NULL)
		return cli_usage_error("%s", "plan needs --repo URL|PATH (a git repository)");
	if (desired_read(cli, "plan", &d) != 0)
		goto out;

	run.loop = ev_default_loop(EVFLAG_AUTO);
	if (observe_all(&run, cli, &d, &have, &nhave) != 0)
		goto out;

	ctx.now = (long)time(NULL);
	ctx.commit = d.commit.id;
	ctx.ref = d.commit.ref;
	if (plan_build(&d.spec, have, nhave, &ctx, &plan, &err) != 0) {
		fprintf(stderr, "tether: %s\n", err.message);
		goto out;
	}
	if (cli->json)
		plan_print_json(&plan, stdout);
	else
		plan_print_text(&plan, stdout);
	if (fflush(stdout) != 0) {
		fprintf(stderr, "tether: cannot write the plan\n");
		goto out;
	}
	rc = plan_in_sync(&plan) ? CLI_EXIT_OK : CLI_EXIT_CHANGES;
out:
	plan_free(&plan);
	for (i = 0; i < nhave; i++)
		obs_function_clear(&have[i]);
	free(have);
	plan_run_free(&run);
	if (run.loop != NULL)
		ev_loop_destroy(run.loop);
	desired_free(&d);
	return rc;
}
