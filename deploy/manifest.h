/*
 * Manifests (architecture §6): the record of every action tether takes against Lambda, one
 * JSON object per line, appended to <state-dir>/manifests/YYYY-MM.jsonl (the UTC month of
 * the record's time) and fsynced before manifest_append() returns, so the next action is
 * never taken before the last one is on disk. Files are only ever appended to. A crash can
 * leave at most one partial last line in a file; the writer starts its next record on a
 * fresh line, and readers skip a partial line with a warning. docs/apply.md has the record
 * format.
 */
#ifndef TETHER_DEPLOY_MANIFEST_H
#define TETHER_DEPLOY_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "common/err.h"

/* Most bytes in one record line, its newline included; a longer record is refused
 * (ERR_TOOBIG), and readers skip a longer line as a partial record. */
#define MANIFEST_LINE_MAX (64 * 1024)

/* What an alias or a function looked like before or after an action. NULL: not known or
 * not relevant (written as null). */
struct manifest_side {
	const char *version;         /* an alias's version, a published or deleted version */
	const char *routing_version; /* an alias's additional version */
	double routing_weight;       /* written only when routing_version is set */
	const char *image;           /* ResolvedImageUri (the digest), else ImageUri */
	const char *code_sha256;
	const char *revision_id;
};

struct manifest_record {
	double time;        /* epoch seconds (with milliseconds) the action ended */
	const char *commit; /* full commit id */
	const char *ref;    /* "main", or NULL */
	const char *function;
	const char *region;
	/* "create_function", "update_code", "update_config", "wait", "smoke_test", "publish",
	 * "create_alias", "update_alias", "canary_check", "delete_version", "quarantine",
	 * "drift", "blocked" */
	const char *action;
	const char *digest; /* the spec digest the action serves (full), or NULL */
	const char *why;    /* the planner's line */
	struct manifest_side before, after;
	const char *request_id; /* x-amzn-RequestId of the mutating call, or NULL */
	/* "ok", "failed", "conflict" (412/409: re-observed), "skipped" (409 on a delete), or
	 * "reported" (detect mode: not performed) */
	const char *outcome;
	const char *error; /* Lambda's error type and message when not ok, or NULL */
	double duration_ms;
	/* What started the run: "commit" (a new commit, `tether apply`) or "drift" (the
	 * daemon's drift pass); NULL: not written (records before the daemon had it). */
	const char *trigger;
};

struct manifest;

/*
 * Open (creating <state_dir>/manifests/ with mode 0700 when missing) for appending.
 * Returns 0, or ERR_FAIL with err filled.
 */
int manifest_open(struct manifest **out, const char *state_dir, struct err *err);
/*
 * Append one record as one line and fsync the file (and, when the file is new, its
 * directory) before returning. Returns 0, or ERR_FAIL / ERR_TOOBIG with err filled; then
 * nothing was written, or at most a partial line that readers skip.
 */
int manifest_append(struct manifest *m, const struct manifest_record *r, struct err *err);
void manifest_close(struct manifest *m);

/*
 * Read every record of the <state_dir>/manifests/YYYY-MM.jsonl files, oldest file first,
 * in file order. visit gets each record (borrowed: valid during the call) and returns 0
 * to go on, nonzero to stop (that value is returned). A line that does not parse as a
 * JSON object is skipped with a warning naming the file and line ("path:line: skipped a
 * partial record") and counted in *skipped (may be NULL). A missing manifests directory
 * is no records. Returns 0, the visitor's value, or ERR_FAIL with err filled (an
 * unreadable file).
 */
typedef int (*manifest_visit_cb)(json_t *record, void *arg);
int manifest_read(
    const char *state_dir, manifest_visit_cb visit, void *arg, size_t *skipped, struct err *err);
/*
 * manifest_read(), also handing the visitor each record's line exactly as stored (len
 * bytes, without the newline; borrowed like record), for `tether history --output json`.
 */
typedef int (*manifest_line_cb)(json_t *record, const char *line, size_t len, void *arg);
int manifest_read_lines(
    const char *state_dir, manifest_line_cb visit, void *arg, size_t *skipped, struct err *err);

#endif
