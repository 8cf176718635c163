/*
 * Where a desired state is read from: a directory (`tether validate DIR`) or a commit in a
 * git repository, read straight from the object database — never a checkout or a working
 * tree. Both produce the same fileset (reconcile/fileset.h) for the same content: only the
 * paths fileset_wants() accepts, under the configured subdirectory, with symlinks,
 * submodules and files over FILESET_FILE_MAX recorded as entries the loader refuses.
 * These calls block (disk, network): the daemon runs them in a worker thread.
 */
#ifndef TETHER_GITWATCH_SOURCE_H
#define TETHER_GITWATCH_SOURCE_H

#include <stdint.h>

#include "common/err.h"
#include "reconcile/fileset.h"

struct source_commit {
	char id[41];   /* full hex commit id */
	char *ref;     /* what was asked for, e.g. "main", or the id itself; HEAD (or no
	                  ref) is named by the branch it points at, when it points at one */
	char *summary; /* first line of the message */
	int64_t time;  /* committer time, epoch seconds */
};

/*
 * Read the desired-state files under dir/path (path NULL or "": dir itself). Paths in out
 * are relative to that root. Returns 0, or -1 with err filled (dir missing or unreadable,
 * too many files).
 */
int source_read_dir(const char *dir, const char *path, struct fileset *out, struct err *err);

/*
 * Read the desired-state files under path at ref (a branch, tag or commit id; NULL: HEAD)
 * of repo: a local repository path (bare or not), or a URL (file://, git://, http(s)://,
 * ssh) that is cloned bare into cache_dir (NULL: a temporary directory removed before
 * returning) and fetched when already there. Fills commit. Returns 0, or -1 with err
 * filled (no such repository or ref, fetch failure).
 */
int source_read_git(const char *repo, const char *ref, const char *path, const char *cache_dir,
    struct fileset *out, struct source_commit *commit, struct err *err);
void source_commit_clear(struct source_commit *c);

#endif
