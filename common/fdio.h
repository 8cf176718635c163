/*
 * File and directory I/O shared by the parts that keep files: whole-file reads into capped
 * buffers (shared config and credentials files, token files), and the durable-write
 * primitives of the state directory and the manifests.
 */
#ifndef TETHER_COMMON_FDIO_H
#define TETHER_COMMON_FDIO_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "common/err.h"

/*
 * Append everything fd yields until end of file to out, retrying reads that a signal
 * interrupted. The scratch space is wiped, so secrets leave no copy behind (out holds the
 * only one). Returns 0; -1 on a read error with errno set; ERR_TOOBIG (common/err.h) when
 * the content would pass out's cap, with out holding what fit.
 */
int fdio_read_all(int fd, struct buf *out);

/* Create dir (mode 0700) when missing; *created says whether it was. An existing
 * non-directory is an error. Returns 0, or ERR_FAIL with err filled. */
int fdio_ensure_dir(const char *dir, bool *created, struct err *err);
/* Make a directory's entries (a created or renamed file) durable: fsync the directory.
 * Returns 0, or ERR_FAIL with err filled. */
int fdio_fsync_dir(const char *dir, struct err *err);
/* Write all n bytes, retrying interrupted and short writes. Returns 0, or -1 (errno). */
int fdio_write_all(int fd, const char *p, size_t n);

#endif
