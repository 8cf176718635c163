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
void desired_free(struct desired *d);

#endif
