/*
 * What plan and apply share before they talk to Lambda: read the desired state from a git
 * commit (a local path or a URL; a plain directory is refused with a hint), load and
 * validate it with the default region, print every diagnostic, and list its regions.
 */
#ifndef TETHER_CONTROLLER_DESIRED_H
#define TETHER_CONTROLLER_DESIRED_H

#include <stddef.h>

#include "controller/cli.h"
#include "gitwatch/source.h"
#include "reconcile/diag.h"
#include "reconcile/fileset.h"
#include "reconcile/spec.h"

struct desired {
	struct source_commit commit;
	struct spec spec;
	char **regions; /* the regions of spec's functions, each once, in spec order */
	size_t nregions;
};

/*
 * Read and load --repo/--ref/--path/--env for command `cmd` ("plan", "apply"). Errors and
 * warnings go to stderr. Returns 0, or -1 when nothing may be done (d is then cleared).
 */
int desired_read(const struct cli *cli, const char *cmd, struct desired *d);
/*
 * Load fs (the files of d->commit, which the caller fills) into d->spec and d->regions:
 * the environments/<env>.yaml overlay when env is set, default_region for functions that
 * name none, and diagnostics (sorted) naming files as the repository does under path.
 * fs is not freed. Returns 0, or -1 when the desired state has errors (d->spec is then
 * empty; d->commit is left alone).
 */
int desired_load(struct fileset *fs, const char *env, const char *default_region, const char *path,
    struct desired *d, struct diags *diags);
/* The region functions get when they name none: so's region, AWS_REGION, the profile.
 * Allocated; NULL when none is configured. */
char *desired_default_region(const struct session_opts *so);
void desired_free(struct desired *d);

#endif
