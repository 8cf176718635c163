/*
 * The files a desired state is loaded from, in memory. Whoever reads them — a directory
 * walk for `tether validate DIR`, or a commit's tree read from git's object database
 * (gitwatch/) — produces a fileset; the loader (reconcile/load.h) only ever sees this, so
 * it stays free of I/O. Readers record what they must not read (a symlink, a submodule, a
 * file over the size cap) as an entry with its kind, so the loader can report it with its
 * path instead of the reader silently skipping it.
 */
#ifndef TETHER_RECONCILE_FILESET_H
#define TETHER_RECONCILE_FILESET_H

#include <stdbool.h>
#include <stddef.h>

/* Largest desired-state file read; a larger one is an error, never truncated. */
#define FILESET_FILE_MAX (1024 * 1024)
/* Most files one desired state may have. */
#define FILESET_FILES_MAX 20000
/* Deepest directory a reader descends, in path components ("functions" is 1); a deeper one
 * is recorded FILESET_TOO_DEEP instead, so a hostile tree costs bounded time and memory. */
#define FILESET_DEPTH_MAX 32

enum fileset_kind {
	FILESET_REGULAR,    /* data holds the whole content */
	FILESET_SYMLINK,    /* not followed: an error */
	FILESET_SUBMODULE,  /* a gitlink: an error */
	FILESET_TOO_BIG,    /* size is known, data is NULL: an error */
	FILESET_OTHER,      /* a device, fifo, ...: an error */
	FILESET_TOO_DEEP,   /* a directory past FILESET_DEPTH_MAX, not walked: an error */
	FILESET_UNREADABLE, /* could not be opened or read (errnum says why): an error */
};

struct fileset_file {
	char *path; /* relative to the desired-state root, '/'-separated: "functions/api.yaml" */
	enum fileset_kind kind;
	unsigned char *data; /* REGULAR only; NUL-terminated for convenience (not counted) */
	size_t len;          /* bytes of data, or the size of a TOO_BIG file */
	int errnum;          /* UNREADABLE: the errno of the failed open or read */
};

struct fileset {
	struct fileset_file *files;
	size_t n;
	size_t cap;
};

#define FILESET_INIT       \
	{                  \
		NULL, 0, 0 \
	}

/*
 * Whether a path (relative to the desired-state root) is part of the desired state:
 * files ending in .yaml or .yml under functions/ (any depth) or directly in environments/.
 * Every reader uses this one rule, so a directory and a commit of it load the same files.
 */
bool fileset_wants(const char *path);
/* Add a regular file (data copied). */
void fileset_add(struct fileset *fs, const char *path, const void *data, size_t len);
/* Add an entry the loader must refuse (size is meaningful for FILESET_TOO_BIG). */
void fileset_add_special(struct fileset *fs, const char *path, enum fileset_kind kind, size_t size);
/* Add an entry that could not be opened or read, with the errno that says why. */
void fileset_add_unreadable(struct fileset *fs, const char *path, int errnum);
/* Sort by path, so loading is independent of the order a reader produced. */
void fileset_sort(struct fileset *fs);
void fileset_free(struct fileset *fs);

#endif
