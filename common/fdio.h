/*
 * Whole-file reads into capped buffers, for the small files tether reads (shared config and
 * credentials files, token files).
 */
#ifndef TETHER_COMMON_FDIO_H
#define TETHER_COMMON_FDIO_H

#include "common/buf.h"

/*
 * Append everything fd yields until end of file to out, retrying reads that a signal
 * interrupted. The scratch space is wiped, so secrets leave no copy behind (out holds the
 * only one). Returns 0; -1 on a read error with errno set; ERR_TOOBIG (common/err.h) when
 * the content would pass out's cap, with out holding what fit.
 */
int fdio_read_all(int fd, struct buf *out);

#endif
