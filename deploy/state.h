/*
 * The state directory (--state-dir, default ./.tether): what tether knows that Lambda does
 * not say, kept across runs and crashes.
 *
 *   <dir>/lock                        flock()ed by the process using the directory
 *   <dir>/manifests/YYYY-MM.jsonl     deploy/manifest.h
 *   <dir>/functions/<region>/<name>.json   one file per function, below
 *
 * A function's file holds:
 * - the quarantine: the spec digest whose smoke test or canary check failed, why, when and
 *   at which commit. The planner will not roll it out again (architecture §4.6); the
 *   executor clears it when git gives the function another digest.
 * - the staged S3 code: what tether last wrote to $LATEST from S3 and the CodeSha256
 *   Lambda answered (reconcile/observed.h, staged_s3), since Lambda never says where zip
 *   code came from.
 * - the version cache: published versions are immutable (architecture §3), so what was
 *   read about a number stays true until the version is deleted. `through` is the highest
 *   number up to which the cache is complete: every version <= through that exists is in
 *   it (from a full ListVersionsByFunction, extended by tether's own publishes when Lambda
 *   gave the next number). When not complete, the versions must be listed.
 *
 * Files are replaced atomically (write a temporary file, fsync, rename, fsync the
 * directory), so a crash leaves the old or the new file, never a mix. A file that does not
 * parse is reported and treated as empty: everything in it can be read again from Lambda,
 * except a quarantine, which is why the error is logged at warn level with the path.
 */
#ifndef TETHER_DEPLOY_STATE_H
#define TETHER_DEPLOY_STATE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "reconcile/observed.h"

#define STATE_DIR_DEFAULT ".tether"
/* Most bytes in one function's file. */
#define STATE_FILE_MAX (4 * 1024 * 1024)

struct state;

struct state_function {
	/* The quarantine: NULL when none. */
	char *quarantine_digest; /* full spec digest */
	char *quarantine_reason; /* "smoke test: ...", "canary check: ..." */
	char *quarantine_commit; /* the commit that carried it */
	long quarantine_time;    /* epoch seconds */

	/* Staged S3 code: NULL when unknown. */
	char *staged_s3;
	char *staged_code_sha256;

	/* The version cache: ascending by number; digest/commit parsed from descriptions.
	 * Complete: every existing version numbered <= through is listed, and none above
	 * through was known to exist when last checked. */
	bool versions_complete;
	long versions_through;
	struct obs_version *versions;
	size_t nversions;
};

/*
 * Open the state directory, creating it (mode 0700) and its lock file when missing, and
 * take an exclusive, non-blocking flock() on <dir>/lock for the life of the handle.
 * Another process holding it is ERR_CONFLICT ("<dir> is in use by another tether
 * (pid N)"; the holder writes its pid into the lock file). Returns 0, or ERR_CONFLICT /
 * ERR_FAIL with err filled.
 */
int state_open(struct state **out, const char *dir, struct err *err);
/* Release the lock and the handle. */
void state_close(struct state *st);
const char *state_dir(const struct state *st);

/*
 * Read a function's file. A missing file gives an empty state_function (all NULL/0) and
 * returns 0. An unreadable or unparsable file is logged (warn) and also gives an empty
 * one; only an I/O error other than ENOENT on open returns ERR_FAIL. A region that is not
 * 1..32 of [a-z0-9-] or a name that is not a Lambda function name is ERR_INVALID (for
 * save too): names become paths.
 */
int state_load_function(struct state *st, const char *region, const char *name,
    struct state_function *out, struct err *err);
/* Replace a function's file atomically with f. Returns 0, or ERR_FAIL (ERR_TOOBIG past
 * STATE_FILE_MAX, ERR_INVALID for names) with err filled. */
int state_save_function(struct state *st, const char *region, const char *name,
    const struct state_function *f, struct err *err);
void state_function_clear(struct state_function *f);
/* A deep copy of src into dst (overwritten, not cleared first). */
void state_function_copy(struct state_function *dst, const struct state_function *src);

/*
 * Version-cache helpers (pure, in memory; save afterwards):
 * state_versions_replace: the cache becomes exactly this complete listing (any order in,
 * ascending kept), complete, through = the highest number listed (0 when none).
 * state_version_add: a version tether just published (or read); when complete, through
 * advances to number when number == through + 1, and the cache becomes incomplete when
 * number > through + 1 (someone else published in between). A number already cached is
 * replaced.
 * state_version_remove: a version deleted (or found gone).
 */
void state_versions_replace(struct state_function *f, const struct obs_version *v, size_t n);
void state_version_add(struct state_function *f, const struct obs_version *v);
void state_version_remove(struct state_function *f, long number);

/* Every function with a file, for `tether status`: calls visit(region, name, f, arg) in
 * sorted order (region, then name); a nonzero return stops and is returned. It reads the
 * directory WITHOUT taking the lock (status runs while apply or the daemon holds it; files
 * are replaced atomically, so each is read whole). A missing directory is no functions. */
typedef int (*state_visit_cb)(
    const char *region, const char *name, const struct state_function *f, void *arg);
int state_read_each_function(const char *dir, state_visit_cb visit, void *arg, struct err *err);

#endif
