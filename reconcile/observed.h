/*
 * The observed state of one function: what Lambda reports (its $LATEST configuration and
 * status, published versions with their descriptions, aliases with their routing and
 * RevisionIds, and what else references versions), plus what tether's own state
 * directory knows about it (quarantined digests). Filled from the live API by deploy/
 * (read-only calls) or from a JSON document for tests (observed_load_json()); the planner
 * reads it and never does I/O.
 *
 * The observer is economical (architecture §5) and fills only what planning this
 * function's desired state needs; the *_listed flags say whether a list is complete.
 */
#ifndef TETHER_RECONCILE_OBSERVED_H
#define TETHER_RECONCILE_OBSERVED_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "reconcile/spec.h"

/* What tether writes into the Description of every version it publishes:
 * "tether d=<12 hex digest> c=<commit, 12 hex> <ref>" (at most 256 characters). */
#define OBS_VERSION_MARK "tether d="
/* What tether writes into an alias's Description while a canary runs:
 * "tether canary d=<12 hex> step=<k>/<n> at=<epoch seconds> stable=<version>". */
#define OBS_CANARY_MARK "tether canary "

struct obs_latest {
	char *package_type;       /* "Image" or "Zip" */
	char *image_uri;          /* Image only */
	char *resolved_image_uri; /* Image only: the digest Lambda resolved */
	char *code_sha256;
	char **layers; /* version ARNs, in order */
	size_t nlayers;
	long memory;
	long timeout;
	struct spec_kv *environment; /* sorted by key; none when Lambda reports no variables */
	size_t nenvironment;
	char *description;
	char *role;
	char *handler;
	char *runtime; /* Zip only */
	char *state;   /* "Pending", "Active", "Inactive", "Failed" */
	char *state_reason;
	char *last_update_status; /* "InProgress", "Successful", "Failed", or NULL */
	char *last_update_status_reason;
	char *revision_id;
};

struct obs_version {
	long number; /* >= 1 */
	char *description;
	char *code_sha256;
	/* Parsed from a tether description: the short digest and commit; "" when the version
	 * was not published by tether (such versions are never pruned). */
	char digest[SPEC_DIGEST_SHORT + 1];
	char commit[13];
};

struct obs_canary {
	char digest[SPEC_DIGEST_SHORT + 1]; /* the digest being rolled out */
	int step;                           /* 1-based step now running */
	int nsteps;
	long started; /* epoch seconds the step started */
	long stable;  /* the version traffic comes from */
	/* The step's check (the smoke test on the routed version) passed. Never on the wire:
	 * the executor sets it when its check passes, the plan simulation when it plans one. A
	 * step that is due is promoted only once it holds (when a smoke test is declared). */
	bool checked;
};

struct obs_alias {
	char *name;
	char *version;         /* FunctionVersion: a number, or "$LATEST" */
	char *routing_version; /* the additional version, or NULL */
	double routing_weight; /* its share, 0..1 */
	char *description;
	char *revision_id;
	bool has_canary; /* description carries OBS_CANARY_MARK */
	struct obs_canary canary;
};

struct obs_function {
	char *name;
	char *region;
	bool exists; /* false: Lambda answered ResourceNotFound */
	char *arn;
	char *account;
	struct obs_latest latest;

	bool versions_listed;         /* versions is every published version */
	struct obs_version *versions; /* ascending by number */
	size_t nversions;
	struct obs_alias *aliases; /* sorted by name; always complete */
	size_t naliases;
	bool refs_listed; /* the next two lists are complete */
	char *
	    *esm_targets; /* qualifiers (version numbers or alias names) of event source mappings */
	size_t nesm_targets;
	char **pc_targets; /* qualifiers with provisioned concurrency */
	size_t npc_targets;

	/* From tether's state directory: full digests that failed and are not to be tried
	 * again until git changes the function's spec. */
	char **quarantined;
	size_t nquarantined;

	/* From tether's state directory (or the executor's memory of its last
	 * UpdateFunctionCode): the S3 code tether last wrote to $LATEST, as
	 * obs_format_s3() writes it, and the CodeSha256 Lambda answered. Lambda never reports
	 * where Zip code came from, so this is how the planner knows that $LATEST holds the
	 * spec's S3 code: staged_s3 names it and staged_code_sha256 still equals
	 * latest.code_sha256 (nobody uploaded other code since). NULL: unknown, and S3 code is
	 * then written again before publishing. Not used for images (Lambda reports ImageUri). */
	char *staged_s3;
	char *staged_code_sha256;
};

void obs_function_clear(struct obs_function *f);
void obs_latest_clear(struct obs_latest *l);
/* Restore the orders the model promises: versions ascending by number, aliases by name. */
void obs_sort(struct obs_function *f);
/* A deep copy of src into dst (which is overwritten, not cleared first). */
void obs_function_copy(struct obs_function *dst, const struct obs_function *src);
/* The version with this number, or NULL. Borrowed. */
const struct obs_version *obs_version_find(const struct obs_function *f, long number);
/* The newest version whose description carries this digest (full or short: the first
 * SPEC_DIGEST_SHORT characters are compared), or NULL. Borrowed. */
const struct obs_version *obs_version_with_digest(const struct obs_function *f, const char *digest);
/* Whether this digest (full, or short as a canary mark carries it) is quarantined: an entry
 * and the digest agree on the shorter of the two, which has at least SPEC_DIGEST_SHORT
 * characters. */
bool obs_quarantined(const struct obs_function *f, const char *digest);

/* Parse a version description written by tether. Returns true and fills digest and
 * commit (each NUL-terminated) when it is one. */
bool obs_parse_version_mark(
    const char *description, char digest[SPEC_DIGEST_SHORT + 1], char commit[13]);
/* Parse an alias description written during a canary. */
bool obs_parse_canary(const char *description, struct obs_canary *out);

/*
 * The formatters matching the two parsers, so each format lives in one place. Both return
 * an allocated string of at most OBS_DESCRIPTION_MAX characters.
 * obs_format_version_mark: digest is the full or short spec digest; commit the full or
 * short commit id, or NULL/"" when unknown (written "c=-"); ref NULL or "" for none, and
 * cut so the whole fits.
 */
#define OBS_DESCRIPTION_MAX 256
char *obs_format_version_mark(const char *digest, const char *commit, const char *ref);
char *obs_format_canary(const struct obs_canary *c);
/* S3 code as staged_s3 records it: "s3://bucket/key" or "s3://bucket/key?versionId=v". */
char *obs_format_s3(const struct spec_code *code);

/*
 * Load observed functions from JSON (the golden tests' observed.json), documented in
 * tests/golden/plan/README.md. Returns 0 and an array of n functions (free each with
 * obs_function_clear(), then the array), or -1 with err filled.
 */
int observed_load_json(
    const char *json, size_t len, struct obs_function **out, size_t *n, struct err *err);

#endif
