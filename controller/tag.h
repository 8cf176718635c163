/*
 * Content tags for container images (docs/tag.md): `YYYYMMDD-HHMMSS-<8 hex>`, where the hex
 * is the start of a SHA-256 over the source folders an image is built from, so CI can tag
 * an image with what it contains.
 *
 * What is hashed, exactly (format "tether-tag v1"):
 *
 *   - Every regular file and every symbolic link under each DIR, recursively. Directories
 *     named .git, .hg, .svn, __pycache__, node_modules, .venv, .tether, .pytest_cache or
 *     .mypy_cache are not entered (at any depth; a non-directory with such a name is
 *     hashed). Non-directories named .DS_Store or whose name ends in ".pyc" are skipped.
 *     Directories themselves are not hashed: an empty folder changes nothing.
 *   - A symbolic link is hashed as its target text, never followed. A socket, fifo or device
 *     is an error. DIR itself is followed if it is a link, and must be a directory.
 *   - Within a DIR, entries are in bytewise order of their path relative to DIR ("a/b",
 *     components joined by '/'; strcmp order, so "a.txt" sorts before "a/b"), whatever
 *     order readdir returned them in. The DIRs are taken in the order given: the order is
 *     significant, and the same folders in another order give another hash.
 *   - The SHA-256 input is the header, the 14 bytes "tether-tag v1\n" then u64 n (the number
 *     of DIRs), then for each entry the record
 *         u64 dir index (0-based)  u8 kind ('f' file, 'l' symlink)  u8 exec (1 when a regular
 *         file has its owner-execute bit, else 0)  u64 path length  path bytes
 *         u64 content length  content bytes (the file's bytes, or the link's target)
 *     where u64 is 8 bytes big-endian. Every variable-length field carries its length, so no
 *     two different trees give the same input by concatenation. File names are bytes (no
 *     encoding is assumed). Nothing else is hashed: no times, owners or other mode bits.
 *
 * Caps (errors past them, ERR_TOOBIG): TAG_FILE_MAX bytes per file, TAG_FILES_MAX hashed
 * entries in all, TAG_NAMES_MAX names read in all (skipped ones included), TAG_PATH_MAX
 * bytes of relative path. Files are read in chunks, never whole.
 */
#ifndef TETHER_CONTROLLER_TAG_H
#define TETHER_CONTROLLER_TAG_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/err.h"

#define TAG_FILE_MAX ((uint64_t)512 * 1024 * 1024)
#define TAG_FILES_MAX 100000
#define TAG_NAMES_MAX 1000000
#define TAG_PATH_MAX 4096

#define TAG_HASH_HEX_LEN 64  /* the whole SHA-256 in hex (--long) */
#define TAG_SHORT_HEX_LEN 8  /* what a tag carries by default */
#define TAG_TIMESTAMP_LEN 15 /* "YYYYMMDD-HHMMSS" */

/* Limits for tag_compute; TAG_OPTS_INIT holds the caps above. */
struct tag_opts {
	uint64_t file_max; /* bytes per file */
	size_t files_max;  /* hashed entries (files and links) over all DIRs */
};

#define TAG_OPTS_INIT                       \
	{                                   \
		TAG_FILE_MAX, TAG_FILES_MAX \
	}

/*
 * Hash the n folders dirs (n >= 1) as described above into out_hex (64 lower-case hex and a
 * NUL) and the number of entries hashed into *nfiles (may be NULL). opts may be NULL for
 * TAG_OPTS_INIT. On failure returns ERR_NOTFOUND (a DIR or an entry vanished), ERR_TOOBIG
 * (a cap) or ERR_FAIL, with err's message "PATH: reason" naming the path at fault.
 */
int tag_compute(const char *const *dirs, size_t n, const struct tag_opts *opts,
    char out_hex[TAG_HASH_HEX_LEN + 1], size_t *nfiles, struct err *err);

/*
 * The tag's timestamp, UTC "YYYYMMDD-HHMMSS", into out: from source_date_epoch (the value of
 * SOURCE_DATE_EPOCH, decimal seconds since the epoch) when it is not NULL, else from now.
 * Returns 0, or ERR_INVALID when source_date_epoch is not a decimal integer (digits only) or
 * the time is after year 9999.
 */
int tag_timestamp(
    const char *source_date_epoch, time_t now, char out[TAG_TIMESTAMP_LEN + 1], struct err *err);

#endif
