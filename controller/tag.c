/*
 * Content tags: the hash of source folders (the definition is in tag.h and docs/tag.md) and
 * the tag's timestamp. Each DIR is walked with lstat (links are never followed), its
 * entries are collected and sorted by relative path, then hashed in that order, so the
 * result does not depend on readdir order. A directory's names are read and the directory
 * closed before descending, so deep trees do not hold one descriptor per level.
 */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/compat.h"
#include "common/crypto.h"
#include "common/xmalloc.h"
#include "controller/tag.h"

#define HEADER "tether-tag v1\n"
#define CHUNK (64 * 1024)
/* 9999-12-31T23:59:59Z: the last second a four-digit year can show. */
#define EPOCH_MAX 253402300799LL

static const char *const skipped_dirs[] = {
    ".git",
    ".hg",
    ".svn",
    "__pycache__",
    "node_modules",
    ".venv",
    ".tether",
    ".pytest_cache",
    ".mypy_cache",
};

struct entry {
	char *rel; /* path relative to its DIR, components joined by '/' */
	char kind; /* 'f' or 'l' */
	bool exec;
};

struct walk {
	const char *root; /* the DIR as given */
	bool root_slash;  /* root ends with '/': join without adding one */
	char *path;       /* scratch: root + '/' + rel */
	size_t pathsize;
	struct entry *v; /* this DIR's entries */
	size_t n, cap;
	size_t names; /* names read, over all DIRs */
	size_t files; /* entries kept, over all DIRs */
	const struct tag_opts *opts;
	struct err *err;
};

static bool
skipped_dir(const char *name)
{
	size_t i;

	for (i = 0; i < nitems(skipped_dirs); i++)
		if (strcmp(name, skipped_dirs[i]) == 0)
			return true;
	return false;
}

static bool
skipped_file(const char *name)
{
	size_t len = strlen(name);

	if (strcmp(name, ".DS_Store") == 0)
		return true;
	return len >= 4 && memcmp(name + len - 4, ".pyc", 4) == 0;
}

/* The full path of rel ("" for the DIR itself) into w->path. */
static const char *
full_path(struct walk *w, const char *rel)
{
	int r;

	if (rel[0] == '\0')
		r = snprintf(w->path, w->pathsize, "%s", w->root);
	else
		r = snprintf(
		    w->path, w->pathsize, "%s%s%s", w->root, w->root_slash ? "" : "/", rel);
	/* pathsize holds the root, a '/' and TAG_PATH_MAX bytes, and rel is checked first. */
	assert(r >= 0 && (size_t)r < w->pathsize);
	return w->path;
}

static const char *
type_name(mode_t mode)
{
	if (S_ISFIFO(mode))
		return "fifo";
	if (S_ISSOCK(mode))
		return "socket";
	if (S_ISCHR(mode))
		return "character device";
	if (S_ISBLK(mode))
		return "block device";
	return "unknown file type";
}

static int
errno_error(struct walk *w, const char *path, int e)
{
	return err_set(w->err, e == ENOENT ? ERR_NOTFOUND : ERR_FAIL, "%s: %s", path, strerror(e));
}

static void
add_entry(struct walk *w, const char *rel, char kind, bool exec)
{
	if (w->n == w->cap) {
		w->cap = w->cap == 0 ? 64 : w->cap * 2;
		w->v = xreallocarray(w->v, w->cap, sizeof(*w->v));
	}
	w->v[w->n].rel = xstrdup(rel);
	w->v[w->n].kind = kind;
	w->v[w->n].exec = exec;
	w->n++;
}

static int walk_dir(struct walk *w, const char *prefix);

/* One name found in the directory prefix: recurse, keep, skip or fail. */
static int
walk_name(struct walk *w, const char *prefix, const char *name)
{
	struct stat st;
	char *rel = NULL;
	const char *path;
	int rc = 0;

	if (prefix[0] == '\0')
		rel = xstrdup(name);
	else
		rel = xasprintf("%s/%s", prefix, name);
	if (strlen(rel) > TAG_PATH_MAX) {
		rc = err_set(w->err, ERR_TOOBIG, "%s%s%.64s...: path longer than %d bytes", w->root,
		    w->root_slash ? "" : "/", rel, TAG_PATH_MAX);
		goto out;
	}
	path = full_path(w, rel);
	if (lstat(path, &st) != 0) {
		rc = errno_error(w, path, errno);
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		if (!skipped_dir(name))
			rc = walk_dir(w, rel);
		goto out;
	}
	if (skipped_file(name))
		goto out;
	if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) {
		rc = err_set(w->err, ERR_FAIL,
		    "%s: is a %s; only regular files, directories and "
		    "symbolic links can be hashed",
		    path, type_name(st.st_mode));
		goto out;
	}
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > w->opts->file_max) {
		rc = err_set(w->err, ERR_TOOBIG, "%s: larger than %llu bytes", path,
		    (unsigned long long)w->opts->file_max);
		goto out;
	}
	if (w->files >= w->opts->files_max) {
		rc = err_set(w->err, ERR_TOOBIG, "%s: more than %zu files to hash", w->root,
		    w->opts->files_max);
		goto out;
	}
	w->files++;
	add_entry(w, rel, S_ISLNK(st.st_mode) ? 'l' : 'f',
	    S_ISREG(st.st_mode) && (st.st_mode & S_IXUSR) != 0);
out:
	free(rel);
	return rc;
}

/* Collect the entries below the directory prefix ("" for the DIR itself). */
static int
walk_dir(struct walk *w, const char *prefix)
{
	DIR *d = NULL;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0, i;
	const char *path = full_path(w, prefix);
	int rc = 0;

	d = opendir(path);
	if (d == NULL) {
		rc = errno_error(w, path, errno);
		goto out;
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (de == NULL) {
			if (errno != 0)
				rc = errno_error(w, path, errno);
			break;
		}
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (++w->names > TAG_NAMES_MAX) {
			rc = err_set(w->err, ERR_TOOBIG, "%s: more than %d names to look at",
			    w->root, TAG_NAMES_MAX);
			break;
		}
		if (n == cap) {
			cap = cap == 0 ? 32 : cap * 2;
			names = xreallocarray(names, cap, sizeof(*names));
		}
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	for (i = 0; rc == 0 && i < n; i++)
		rc = walk_name(w, prefix, names[i]);
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

static int
entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	return strcmp(x->rel, y->rel);
}

static void
put_u64(EVP_MD_CTX *md, uint64_t v)
{
	unsigned char b[8];
	int i;

	for (i = 7; i >= 0; i--) {
		b[i] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
	EVP_DigestUpdate(md, b, sizeof(b));
}

static void
put_record_head(EVP_MD_CTX *md, size_t index, const struct entry *e, bool exec)
{
	unsigned char kx[2];
	size_t len = strlen(e->rel);

	put_u64(md, index);
	kx[0] = (unsigned char)e->kind;
	kx[1] = exec ? 1 : 0;
	EVP_DigestUpdate(md, kx, sizeof(kx));
	put_u64(md, len);
	EVP_DigestUpdate(md, e->rel, len);
}

/*
 * Hash one regular file. Its length goes in before its bytes, so a file that changes size
 * while it is read is an error rather than a hash of neither version.
 */
static int
hash_file(struct walk *w, EVP_MD_CTX *md, size_t index, const struct entry *e, unsigned char *chunk)
{
	const char *path = full_path(w, e->rel);
	struct stat st;
	uint64_t total = 0;
	ssize_t r;
	int fd, rc = 0;

	/* O_NONBLOCK: should a fifo have replaced the file since lstat, open must not wait. */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno_error(w, path, errno);
	if (fstat(fd, &st) != 0) {
		rc = errno_error(w, path, errno);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = err_set(w->err, ERR_FAIL, "%s: changed type while being hashed", path);
		goto out;
	}
	if ((uint64_t)st.st_size > w->opts->file_max) {
		rc = err_set(w->err, ERR_TOOBIG, "%s: larger than %llu bytes", path,
		    (unsigned long long)w->opts->file_max);
		goto out;
	}
	put_record_head(md, index, e, (st.st_mode & S_IXUSR) != 0);
	put_u64(md, (uint64_t)st.st_size);
	for (;;) {
		r = read(fd, chunk, CHUNK);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = errno_error(w, path, errno);
			goto out;
		}
		if (r == 0)
			break;
		total += (uint64_t)r;
		if (total > (uint64_t)st.st_size)
			break;
		EVP_DigestUpdate(md, chunk, (size_t)r);
	}
	if (total != (uint64_t)st.st_size)
		rc = err_set(w->err, ERR_FAIL, "%s: changed size while being read", path);
out:
	close(fd);
	return rc;
}

static int
hash_link(struct walk *w, EVP_MD_CTX *md, size_t index, const struct entry *e, unsigned char *chunk)
{
	const char *path = full_path(w, e->rel);
	ssize_t r;

	r = readlink(path, (char *)chunk, TAG_PATH_MAX + 1);
	if (r < 0)
		return errno_error(w, path, errno);
	if (r > TAG_PATH_MAX)
		return err_set(
		    w->err, ERR_TOOBIG, "%s: link target longer than %d bytes", path, TAG_PATH_MAX);
	put_record_head(md, index, e, false);
	put_u64(md, (uint64_t)r);
	EVP_DigestUpdate(md, chunk, (size_t)r);
	return 0;
}

static void
entries_clear(struct walk *w)
{
	size_t i;

	for (i = 0; i < w->n; i++)
		free(w->v[i].rel);
	w->n = 0;
}

int
tag_compute(const char *const *dirs, size_t n, const struct tag_opts *opts,
    char out_hex[TAG_HASH_HEX_LEN + 1], size_t *nfiles, struct err *err)
{
	static const struct tag_opts defaults = TAG_OPTS_INIT;
	struct walk w;
	struct stat st;
	EVP_MD_CTX *md = NULL;
	unsigned char *chunk = NULL, digest[CRYPTO_SHA256_LEN];
	unsigned int dlen = 0;
	size_t i, k, rootlen;
	int rc = 0;

	assert(n >= 1);
	memset(&w, 0, sizeof(w));
	w.opts = opts != NULL ? opts : &defaults;
	w.err = err;
	md = EVP_MD_CTX_new();
	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		rc = err_set(err, ERR_FAIL, "%s", "cannot start SHA-256");
		goto out;
	}
	chunk = xmalloc(CHUNK);
	EVP_DigestUpdate(md, HEADER, strlen(HEADER));
	put_u64(md, n);
	for (i = 0; i < n; i++) {
		w.root = dirs[i];
		rootlen = strlen(w.root);
		w.root_slash = rootlen > 0 && w.root[rootlen - 1] == '/';
		free(w.path);
		w.pathsize = rootlen + 1 + TAG_PATH_MAX + 1;
		w.path = xmalloc(w.pathsize);
		if (stat(w.root, &st) != 0) {
			rc = errno_error(&w, w.root, errno);
			goto out;
		}
		if (!S_ISDIR(st.st_mode)) {
			rc = err_set(err, ERR_FAIL, "%s: not a directory", w.root);
			goto out;
		}
		rc = walk_dir(&w, "");
		if (rc != 0)
			goto out;
		qsort(w.v, w.n, sizeof(*w.v), entry_cmp);
		for (k = 0; k < w.n; k++) {
			if (w.v[k].kind == 'l')
				rc = hash_link(&w, md, i, &w.v[k], chunk);
			else
				rc = hash_file(&w, md, i, &w.v[k], chunk);
			if (rc != 0)
				goto out;
		}
		entries_clear(&w);
	}
	if (EVP_DigestFinal_ex(md, digest, &dlen) != 1 || dlen != CRYPTO_SHA256_LEN) {
		rc = err_set(err, ERR_FAIL, "%s", "cannot finish SHA-256");
		goto out;
	}
	crypto_hex(digest, sizeof(digest), out_hex);
	if (nfiles != NULL)
		*nfiles = w.files;
out:
	entries_clear(&w);
	free(w.v);
	free(w.path);
	free(chunk);
	EVP_MD_CTX_free(md);
	return rc;
}

int
tag_timestamp(
    const char *source_date_epoch, time_t now, char out[TAG_TIMESTAMP_LEN + 1], struct err *err)
{
	const char *p;
	long long v;
	struct tm tm;
	time_t t = now;
	char *end;

	if (source_date_epoch != NULL) {
		for (p = source_date_epoch; *p >= '0' && *p <= '9'; p++)
			;
		if (p == source_date_epoch || *p != '\0')
			return err_set(err, ERR_INVALID,
			    "SOURCE_DATE_EPOCH must be a decimal number of seconds, not \"%.40s\"",
			    source_date_epoch);
		errno = 0;
		v = strtoll(source_date_epoch, &end, 10);
		if (errno != 0 || v > EPOCH_MAX)
			return err_set(err, ERR_INVALID,
			    "SOURCE_DATE_EPOCH %.40s is after year 9999", source_date_epoch);
		t = (time_t)v;
	}
	if (t < 0 || (long long)t > EPOCH_MAX || gmtime_r(&t, &tm) == NULL ||
	    strftime(out, TAG_TIMESTAMP_LEN + 1, "%Y%m%d-%H%M%S", &tm) != TAG_TIMESTAMP_LEN)
		return err_set(
		    err, ERR_INVALID, "time %lld cannot be shown as YYYYMMDD-HHMMSS", (long long)t);
	return 0;
}
