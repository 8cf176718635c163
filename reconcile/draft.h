/*
 * One mapping of desired state as written, checked field by field: a function document (a
 * file under functions/), an overlay's defaults, or an overlay's override for one function
 * (environments/<env>.yaml). Every value is checked where it is written, against Lambda's
 * rules and tether's, and every problem is reported at its position; cross-field and
 * cross-file checks (region, duplicates, environment size after merging) are the loader's.
 * Drafts are then layered (defaults < function < override) into a function's values.
 */
#ifndef TETHER_RECONCILE_DRAFT_H
#define TETHER_RECONCILE_DRAFT_H

#include <stdbool.h>
#include <stddef.h>

#include "reconcile/diag.h"
#include "reconcile/spec.h"
#include "reconcile/yamldoc.h"

/* Lambda's limit on environment variables: keys and values together, in bytes. */
#define DRAFT_ENV_BYTES_MAX 4096
/* tether's caps. */
#define DRAFT_ALIASES_MAX 100
#define DRAFT_RETAIN_MAX 1000
#define DRAFT_INTERVAL_MAX 86400 /* a canary step lasts at most a day */
#define DRAFT_SMOKE_MAX (256 * 1024)

/* A position in a desired-state file; path is borrowed from the loader's file table. */
struct draft_pos {
	const char *path;
	int line;
	int col;
};

enum draft_field {
	DRAFT_REGION,
	DRAFT_CODE, /* image: or code: */
	DRAFT_LAYERS,
	DRAFT_MEMORY,
	DRAFT_TIMEOUT,
	DRAFT_ENVIRONMENT,
	DRAFT_DESCRIPTION,
	DRAFT_ROLE,
	DRAFT_HANDLER,
	DRAFT_RUNTIME,
	DRAFT_SMOKE_TEST,
	DRAFT_ALIASES,
	DRAFT_RETAIN,
	DRAFT_MODE,
	DRAFT_NFIELDS,
};

enum draft_context {
	DRAFT_FUNCTION, /* a document in functions/ */
	DRAFT_DEFAULTS, /* an overlay's defaults: */
	DRAFT_OVERRIDE, /* an overlay's functions: <name>: */
};

struct draft_var {
	char *key;
	char *value; /* NULL: remove the variable (overrides only) */
	struct draft_pos pos;
};

struct draft_alias {
	struct spec_alias alias;
	bool remove; /* "name: ~" in an override */
	struct draft_pos pos;
};

struct draft {
	/* DRAFT_FUNCTION only: the function key. */
	bool has_function;
	char *name;
	char *arn;                     /* declared by ARN */
	char *account;                 /* from the ARN */
	char *arn_region;              /* from the ARN */
	struct draft_pos pos_function; /* the function: key, else the mapping */

	unsigned present;                    /* 1 << enum draft_field */
	struct draft_pos pos[DRAFT_NFIELDS]; /* where each present value is written */
	char *region;
	struct spec_code code;
	struct spec_layer layers[SPEC_LAYERS_MAX];
	size_t nlayers;
	long memory;
	long timeout;
	struct draft_var *vars; /* as written; the loader sorts them */
	size_t nvars;
	char *description;
	char *role;
	char *handler;
	char *runtime;
	struct spec_smoke smoke;
	struct draft_alias *aliases;
	size_t naliases;
	long retain;
	enum spec_mode mode;

	size_t errors; /* problems found in this mapping */
};

/*
 * Parse the mapping map (a mapping node) into out, as ctx allows; path names the file
 * for diagnostics (borrowed, must outlive out). Every problem goes to diags and counts in
 * out->errors. out is filled as far as it is valid; release it with draft_clear().
 */
void draft_parse(struct draft *out, const struct yamldoc_node *map, enum draft_context ctx,
    const char *path, struct diags *diags);
/*
 * Layer src over dst (the region excepted: the loader applies its own precedence). With
 * src_wins, every field src has replaces dst's (an override); without, src only fills
 * fields dst lacks (defaults). environment and aliases merge by key, the winner's entry
 * replacing the other's; an override's null entry removes one. Values are copied.
 */
void draft_merge(struct draft *dst, const struct draft *src, bool src_wins);
/*
 * An image function has no runtime: when d holds both image and runtime (from one mapping,
 * or layered from several), report it at the runtime's position and return true.
 */
bool draft_check_runtime(const struct draft *d, struct diags *diags);
/* Whether the mapping(s) behind d set field f. */
bool draft_has(const struct draft *d, enum draft_field f);
/* Release what d holds and zero it. */
void draft_clear(struct draft *d);

/* Parse a duration: ([0-9]+h)?([0-9]+m)?([0-9]+s)?, at least one part. Returns seconds, or
 * -1. */
long draft_duration(const char *s);

#endif
