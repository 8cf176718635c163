/*
 * Environment overlays: environments/<env>.yaml, one mapping with
 *   defaults:  values for every function that does not set them (drafted as
 *              DRAFT_DEFAULTS: region, layers, memory, timeout, environment, description,
 *              role, handler, retain, mode)
 *   functions: <name>: values that replace the function's own (DRAFT_OVERRIDE: every
 *              field but function:)
 * A function's values are layered defaults < its own document < its override, with
 * environment and aliases merged by key; the region has its own precedence (the loader's).
 */
#ifndef TETHER_RECONCILE_OVERLAY_H
#define TETHER_RECONCILE_OVERLAY_H

#include <stdbool.h>
#include <stddef.h>

#include "reconcile/diag.h"
#include "reconcile/draft.h"
#include "reconcile/yamldoc.h"

struct overlay_function {
	char *name;
	struct draft_pos pos; /* the key under functions: */
	struct draft override;
};

struct overlay {
	char *name;       /* "prod" for environments/prod.yaml */
	const char *path; /* borrowed, as given to overlay_parse() */
	struct draft_pos pos;
	bool has_defaults;
	struct draft defaults;
	struct overlay_function *functions; /* sorted by name */
	size_t nfunctions;
	size_t errors; /* problems found in the file */
};

/*
 * Parse an overlay document (root: its root node, not NULL) named name from path (borrowed,
 * must outlive out). Every problem goes to diags and counts in out->errors. Release with
 * overlay_clear().
 */
void overlay_parse(struct overlay *out, const char *name, const struct yamldoc_node *root,
    const char *path, struct diags *diags);
/* The override for a function name, or NULL. Borrowed. */
const struct overlay_function *overlay_find(const struct overlay *o, const char *name);
/* The environment name of an overlay path ("environments/prod.yaml" -> "prod"), allocated. */
char *overlay_name_of(const char *path);
/* Release what o holds and zero it. */
void overlay_clear(struct overlay *o);

#endif
