/*
 * The desired-state loader: a fileset (reconcile/fileset.h) -> a validated struct spec
 * (reconcile/spec.h), or the list of every problem found, each as "path:line:col: message"
 * (reconcile/diag.h). It parses the YAML files under functions/ (several documents per
 * file), applies the environments/<env>.yaml overlay when one is asked for, resolves
 * regions, checks every field against Lambda's own rules, and refuses the whole desired
 * state if anything is wrong. No I/O, no clock: the caller reads the files and passes them
 * in. The format is documented in docs/desired-state.md.
 */
#ifndef TETHER_RECONCILE_LOAD_H
#define TETHER_RECONCILE_LOAD_H

#include "reconcile/diag.h"
#include "reconcile/fileset.h"
#include "reconcile/spec.h"

struct load_opts {
	/* The overlay environments/<env>.yaml to apply; NULL: none. Naming one that does
	 * not exist is an error. */
	const char *env;
	/* Region for functions that set none (from --region, the config or AWS_REGION);
	 * NULL: a function without a region is an error. */
	const char *default_region;
	/* Prefixed to fileset paths in diagnostics and source_path, e.g. "deploy/lambda/"
	 * when the desired state lives there in the repository; NULL: "". */
	const char *display_prefix;
	/* The account the functions live in (12 digits), when the caller knows it; only
	 * used to fill spec_function.account for functions not declared by ARN. NULL:
	 * unknown (account stays NULL unless an ARN gives it). */
	const char *account;
};

#define LOAD_OPTS_INIT                 \
	{                              \
		NULL, NULL, NULL, NULL \
	}

/*
 * Load and validate the desired state in fs. Every problem is appended to diags (errors
 * and warnings, in the order found; call diags_sort() before printing). On success out
 * holds every function, sorted by (region, name), each field filled as spec.h describes
 * (environment sorted by key, aliases by name); out->environment is a copy of opts->env.
 * out is owned by the caller (spec_free()). opts may be NULL (LOAD_OPTS_INIT).
 * Returns 0 when there is no error (warnings allowed), or ERR_INVALID when there is at
 * least one, and then out is empty (SPEC_INIT).
 */
int load_desired(
    const struct fileset *fs, const struct load_opts *opts, struct spec *out, struct diags *diags);

#endif
