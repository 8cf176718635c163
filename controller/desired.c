/*
 * Reading and loading the desired state for plan and apply (controller/desired.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "aws/endpoint.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "controller/desired.h"
#include "reconcile/load.h"

/* "deploy/lambda/" for --path "./deploy//lambda/", as the repository names it; "" for none. */
static char *
display_prefix(const char *path)
{
	const char *p = path != NULL ? path : "", *end;
	size_t len, n = 0;
	char *out = xmalloc(strlen(p) + 2);

	while (*p != '\0') {
		end = p + strcspn(p, "/");
		len = (size_t)(end - p);
		if (len > 0 && !(len == 1 && p[0] == '.')) {
			memcpy(out + n, p, len);
			n += len;
			out[n++] = '/';
		}
		p = *end == '/' ? end + 1 : end;
	}
	out[n] = '\0';
	return out;
}

/* A directory that is neither a working copy (.git) nor a bare repository (HEAD). */
static bool
plain_directory(const char *path)
{
	struct stat st;
	char *p;
	bool plain;

	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
		return false;
	p = xasprintf("%s/.git", path);
	plain = stat(p, &st) != 0;
	free(p);
	p = xasprintf("%s/HEAD", path);
	plain = plain && stat(p, &st) != 0;
	free(p);
	return plain;
}

char *
desired_default_region(const struct session_opts *so)
{
	struct endpoint_opts eo = ENDPOINT_OPTS_INIT;
	struct err err = ERR_INIT;
	char *region = NULL;

	eo.region = so->region;
	eo.endpoint = so->endpoint;
	eo.profile = so->profile;
	if (endpoint_region(&region, &eo, &err) != 0) {
		/* An unreadable profile: functions without a region are reported by the loader. */
		log_warn("tether", "no default region: %s", err.message);
		return NULL;
	}
	return region;
}

/* The regions of the desired functions, each once (spec functions are sorted by region). */
static void
collect_regions(struct desired *d)
{
	size_t i;

	d->regions = d->spec.n > 0 ? xcalloc(d->spec.n, sizeof(*d->regions)) : NULL;
	for (i = 0; i < d->spec.n; i++) {
		if (d->nregions > 0 &&
		    strcmp(d->regions[d->nregions - 1], d->spec.functions[i].region) == 0)
			continue;
		d->regions[d->nregions++] = xstrdup(d->spec.functions[i].region);
	}
}

int
desired_load(struct fileset *fs, const char *env, const char *default_region, const char *path,
    struct desired *d, struct diags *diags)
{
	struct load_opts lo = LOAD_OPTS_INIT;
	char *prefix = display_prefix(path);
	int rc;

	lo.env = env;
	lo.default_region = default_region;
	/* Diagnostics name files as they are in the repository. */
	lo.display_prefix = prefix;
	rc = load_desired(fs, &lo, &d->spec, diags);
	diags_sort(diags);
	free(prefix);
	if (rc != 0) {
		spec_free(&d->spec);
		return -1;
	}
	collect_regions(d);
	return 0;
}

int
desired_read(const struct cli *cli, const char *cmd, struct desired *d)
{
	struct fileset fs = FILESET_INIT;
	struct diags diags = DIAGS_INIT;
	struct err err = ERR_INIT;
	char *region = NULL, *cache = NULL;
	int lrc, rc = -1;

	memset(d, 0, sizeof(*d));
	/* Repositories fetched over the network are cached under the state directory. */
	if (cli->state_dir != NULL)
		cache = xasprintf("%s/repos", cli->state_dir);
	if (source_read_git(cli->repo, cli->ref, cli->path, cache, &fs, &d->commit, &err) != 0) {
		fprintf(stderr, "tether: %s\n", err.message);
		if (plain_directory(cli->repo))
			fprintf(stderr,
			    "tether: %s reads a commit; 'tether validate %s' checks a directory\n",
			    cmd, cli->repo);
		goto out;
	}
	log_info(cmd, "commit %.12s (%s): %s", d->commit.id, d->commit.ref, d->commit.summary);

	region = desired_default_region(&cli->session);
	lrc = desired_load(&fs, cli->env, region, cli->path, d, &diags);
	fileset_free(&fs); /* the spec holds what is needed */
	diags_print(&diags, stderr);
	if (lrc != 0) {
		fprintf(stderr, "tether: %zu error%s in the desired state at %.12s; nothing %s\n",
		    diags.errors, diags.errors == 1 ? "" : "s", d->commit.id,
		    strcmp(cmd, "plan") == 0 ? "planned" : "changed");
		goto out;
	}
	rc = 0;
out:
	diags_free(&diags);
	fileset_free(&fs);
	free(region);
	free(cache);
	if (rc != 0)
		desired_free(d);
	return rc;
}

void
desired_free(struct desired *d)
{
	size_t i;

	spec_free(&d->spec);
	source_commit_clear(&d->commit);
	for (i = 0; i < d->nregions; i++)
		free(d->regions[i]);
	free(d->regions);
	memset(d, 0, sizeof(*d));
}
