/*
 * bench/plan: what `tether plan` costs on tether's side for a large desired state. From a
 * git commit (bench/plan/generate.py makes one): read the tree from the object database
 * (source_read_git), load and validate it (load_desired), then plan it (plan_build, and
 * print the plan to /dev/null) against generated observations: half the functions in
 * sync, half with a new image (update, wait, publish, move the aliases, canary). Reports
 * the CPU time (getrusage user+sys) of those phases and the process's peak RSS.
 * Generating the observations is not timed (it stands in for the network).
 *
 * usage: plan_bench --repo DIR [--ref REF] [--env ENV] [--rounds N]
 * Exit status 0 when the median round is under 1 s CPU and the peak RSS under 64 MB
 * (every round is printed; the median keeps one slow round on a shared machine from
 * deciding).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/xmalloc.h"
#include "gitwatch/source.h"
#include "reconcile/load.h"
#include "reconcile/plan.h"

#define ACCOUNT "123456789012"
#define CPU_TARGET 1.0           /* seconds */
#define RSS_TARGET (64.0 * 1024) /* KiB */

static double
cpu_now(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static long
peak_rss_kib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/* Resident memory now, in MB (for the per-phase breakdown; the target is on the peak). */
static double
rss_now_mb(void)
{
	long pages = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f == NULL)
		return 0;
	if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
		resident = 0;
	fclose(f);
	return (double)resident * (double)sysconf(_SC_PAGESIZE) / (1024.0 * 1024.0);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
set_str(char **dst, const char *s)
{
	*dst = s != NULL ? xstrdup(s) : NULL;
}

/* A published version holding digest. */
static void
version(struct obs_version *v, long number, const char *digest, const char *commit)
{
	memset(v, 0, sizeof(*v));
	v->number = number;
	v->description = obs_format_version_mark(digest, commit, "main");
	v->code_sha256 = xstrdup("YFgDgEKG3ugvF1+pX64gV6tu9qNuIYNUdgJm8nCxsm4=");
	if (!obs_parse_version_mark(v->description, v->digest, v->commit)) {
		fprintf(stderr, "plan_bench: cannot parse \"%s\"\n", v->description);
		exit(1);
	}
}

static void
alias(struct obs_alias *a, const char *name, long number)
{
	memset(a, 0, sizeof(*a));
	a->name = xstrdup(name);
	a->version = xasprintf("%ld", number);
	a->revision_id = xstrdup("5b1ce0d3-7f3e-4c7f-9a57-d0a0f0c2b9f1");
}

/*
 * What deploy/observe reports for f: three tether-published versions, the newest on both
 * aliases. In sync: the newest holds f's digest, and $LATEST is what ListFunctions says
 * (no image URI, no status). Changed: it holds the previous image's digest, and $LATEST
 * comes from GetFunction (image URIs and status too).
 */
/* "repo@sha256:<64 hex>" for "repo:tag", as Lambda reports ResolvedImageUri. */
static char *
resolved(const char *image)
{
	const char *slash = strrchr(image, '/'), *colon = strrchr(image, ':');
	int repo = colon != NULL && slash != NULL && colon > slash ? (int)(colon - image)
	                                                           : (int)strlen(image);

	return xasprintf("%.*s@sha256:%s", repo, image,
	    "4c1e9b1d0f0e7a3b2c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3");
}

static int
observe(const struct spec_function *f, bool in_sync, struct obs_function *o)
{
	struct obs_latest *l = &o->latest;
	char digest[CRYPTO_SHA256_HEX_LEN + 1];
	char *image, *saved;
	struct err err = ERR_INIT;
	size_t i;

	memset(o, 0, sizeof(*o));
	set_str(&o->name, f->name);
	set_str(&o->region, f->region);
	o->exists = true;
	o->arn = xasprintf("arn:aws:lambda:%s:%s:function:%s", f->region, ACCOUNT, f->name);
	set_str(&o->account, ACCOUNT);
	image = in_sync ? xstrdup(f->code.image) : xasprintf("%s-previous", f->code.image);
	saved = f->code.image;
	((struct spec_function *)f)->code.image = image;
	if (spec_digest(f, ACCOUNT, digest, &err) != 0) {
		((struct spec_function *)f)->code.image = saved;
		free(image);
		fprintf(stderr, "plan_bench: %s: %s\n", f->name, err.message);
		return -1;
	}
	((struct spec_function *)f)->code.image = saved;

	set_str(&l->package_type, "Image");
	if (!in_sync) {
		l->image_uri = image;
		l->resolved_image_uri = resolved(image);
		set_str(&l->state, "Active");
		set_str(&l->last_update_status, "Successful");
	} else {
		free(image);
	}
	set_str(&l->code_sha256, "YFgDgEKG3ugvF1+pX64gV6tu9qNuIYNUdgJm8nCxsm4=");
	l->nlayers = f->nlayers;
	l->layers = xcalloc(f->nlayers > 0 ? f->nlayers : 1, sizeof(*l->layers));
	for (i = 0; i < f->nlayers; i++)
		l->layers[i] = spec_layer_arn(&f->layers[i], ACCOUNT, f->region);
	l->memory = f->memory;
	l->timeout = f->timeout;
	l->nenvironment = f->nenvironment;
	l->environment =
	    xcalloc(f->nenvironment > 0 ? f->nenvironment : 1, sizeof(*l->environment));
	for (i = 0; i < f->nenvironment; i++) {
		set_str(&l->environment[i].key, f->environment[i].key);
		set_str(&l->environment[i].value, f->environment[i].value);
	}
	set_str(&l->description, f->description);
	set_str(&l->role, f->role);
	set_str(&l->handler, f->handler);
	set_str(&l->revision_id, "0f2e7c55-3a1d-4c4e-8a2b-7f1d9c0e6b21");

	o->versions_listed = true;
	o->nversions = 3;
	o->versions = xcalloc(3, sizeof(*o->versions));
	version(&o->versions[0], 1, "aaaaaaaaaaaa", "1111111111111111111111111111111111111111");
	version(&o->versions[1], 2, "bbbbbbbbbbbb", "2222222222222222222222222222222222222222");
	version(&o->versions[2], 3, digest, "3333333333333333333333333333333333333333");
	o->naliases = 2;
	o->aliases = xcalloc(2, sizeof(*o->aliases));
	alias(&o->aliases[0], "live", 3);
	alias(&o->aliases[1], "staging", 3);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"repo", required_argument, NULL, 'r'},
	    {"ref", required_argument, NULL, 'f'},
	    {"env", required_argument, NULL, 'e'},
	    {"rounds", required_argument, NULL, 'n'},
	    {NULL, 0, NULL, 0},
	};
	const char *repo = NULL, *ref = "HEAD", *env = "prod";
	int rounds = 3, round, c, rc = 0;
	double *cpu, median;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			repo = optarg;
			break;
		case 'f':
			ref = optarg;
			break;
		case 'e':
			env = optarg[0] != '\0' ? optarg : NULL;
			break;
		case 'n':
			rounds = atoi(optarg);
			break;
		default:
			return 2;
		}
	}
	if (repo == NULL || rounds < 1) {
		fprintf(
		    stderr, "usage: plan_bench --repo DIR [--ref REF] [--env ENV] [--rounds N]\n");
		return 2;
	}
	cpu = xcalloc((size_t)rounds, sizeof(*cpu));
	for (round = 1; round <= rounds; round++) {
		struct fileset fs = FILESET_INIT;
		struct source_commit commit;
		struct load_opts lo = LOAD_OPTS_INIT;
		struct spec want = SPEC_INIT;
		struct diags diags = DIAGS_INIT;
		struct plan plan = PLAN_INIT;
		struct plan_ctx ctx;
		struct obs_function *have;
		struct err err = ERR_INIT;
		double t0, t_read, t_load, t_plan_start, t_plan;
		double m_read, m_load, m_obs, m_plan;
		size_t i, changed = 0, in_sync = 0, nfiles;
		FILE *null;

		t0 = cpu_now();
		if (source_read_git(repo, ref, NULL, NULL, &fs, &commit, &err) != 0) {
			fprintf(stderr, "plan_bench: %s\n", err.message);
			return 1;
		}
		t_read = cpu_now();
		m_read = rss_now_mb();
		lo.env = env;
		lo.default_region = "us-east-1";
		if (load_desired(&fs, &lo, &want, &diags) != 0) {
			diags_sort(&diags);
			diags_print(&diags, stderr);
			return 1;
		}
		/* The files are not needed once loaded (tether plan frees them too). */
		nfiles = fs.n;
		fileset_free(&fs);
		t_load = cpu_now();
		m_load = rss_now_mb();

		have = xcalloc(want.n, sizeof(*have));
		for (i = 0; i < want.n; i++)
			if (observe(&want.functions[i], i % 2 == 0, &have[i]) != 0)
				return 1;

		m_obs = rss_now_mb();
		t_plan_start = cpu_now();
		ctx.now = 1748271100;
		ctx.commit = commit.id;
		ctx.ref = "main";
		if (plan_build(&want, have, want.n, &ctx, &plan, &err) != 0) {
			fprintf(stderr, "plan_bench: %s\n", err.message);
			return 1;
		}
		null = fopen("/dev/null", "w");
		if (null == NULL)
			return 1;
		plan_print_text(&plan, null);
		fclose(null);
		t_plan = cpu_now();
		m_plan = rss_now_mb();
		for (i = 0; i < plan.n; i++) {
			if (plan.functions[i].in_sync)
				in_sync++;
			else
				changed++;
		}
		printf("round %d: commit %.12s: %zu files, %zu functions (%zu in sync, %zu "
		       "changing): read %.3f s + load %.3f s + plan %.3f s = %.3f s CPU; peak RSS "
		       "%.1f MB\n",
		    round, commit.id, nfiles, want.n, in_sync, changed, t_read - t0,
		    t_load - t_read, t_plan - t_plan_start, (t_load - t0) + (t_plan - t_plan_start),
		    (double)peak_rss_kib() / 1024.0);
		printf("         resident after read %.1f MB, load %.1f MB, observations %.1f MB, "
		       "plan %.1f MB\n",
		    m_read, m_load, m_obs, m_plan);
		cpu[round - 1] = (t_load - t0) + (t_plan - t_plan_start);
		if (in_sync != (want.n + 1) / 2 || changed != want.n / 2) {
			fprintf(stderr, "plan_bench: expected %zu in sync and %zu changing\n",
			    (want.n + 1) / 2, want.n / 2);
			rc = 1;
		}
		plan_free(&plan);
		for (i = 0; i < want.n; i++)
			obs_function_clear(&have[i]);
		free(have);
		spec_free(&want);
		diags_free(&diags);
		fileset_free(&fs);
		source_commit_clear(&commit);
	}
	qsort(cpu, (size_t)rounds, sizeof(*cpu), cmp_double);
	median = cpu[rounds / 2];
	free(cpu);
	printf("median %.3f s CPU (target < %.1f s): %s; peak RSS %.1f MB (target < %.0f MB): %s\n",
	    median, CPU_TARGET, median < CPU_TARGET ? "PASS" : "FAIL",
	    (double)peak_rss_kib() / 1024.0, RSS_TARGET / 1024,
	    (double)peak_rss_kib() < RSS_TARGET ? "PASS" : "FAIL");
	if (median >= CPU_TARGET || (double)peak_rss_kib() >= RSS_TARGET)
		rc = 1;
	return rc;
}
