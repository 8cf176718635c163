/*
 * source_read_dir(): the desired state from a directory, for `tether validate DIR`. The
 * same rule as the git reader (fileset_wants()), and the same refusals: symbolic links are
 * recorded, never followed; files over FILESET_FILE_MAX are recorded with their size and
 * never read past the cap; a file that cannot be opened or read, and a directory deeper than
 * FILESET_DEPTH_MAX, are recorded too, so the loader reports them at their path.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/fdio.h"
#include "common/xmalloc.h"
#include "gitwatch/source.h"

struct walk {
	struct fileset *out;
	size_t entries;
	struct err *err;
};

/* Whether a directory (relative path) can hold desired-state files (gitwatch/tree.c has the
 * same rule). */
static bool
wanted_dir(const char *rel)
{
	return strcmp(rel, "functions") == 0 || strncmp(rel, "functions/", 10) == 0 ||
	       strcmp(rel, "environments") == 0;
}

static int
count(struct walk *w, const char *rel)
{
	if (++w->entries > FILESET_FILES_MAX)
		return err_set(w->err, ERR_TOOBIG, "more than %d desired-state files (at %s)",
		    FILESET_FILES_MAX, rel);
	return 0;
}

static int
read_regular(struct walk *w, const char *full, const char *rel)
{
	struct buf b = BUF_INIT(FILESET_FILE_MAX);
	struct stat st;
	int fd, rc = 0, r;

	fd = open(full, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		/* Replaced by a link between lstat and open. */
		if (errno == ELOOP)
			fileset_add_special(w->out, rel, FILESET_SYMLINK, 0);
		else
			fileset_add_unreadable(w->out, rel, errno);
		return 0;
	}
	if (fstat(fd, &st) != 0) {
		rc = err_set(w->err, ERR_FAIL, "cannot stat %s: %s", full, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		fileset_add_special(w->out, rel, FILESET_OTHER, 0);
		goto out;
	}
	if (st.st_size > FILESET_FILE_MAX) {
		fileset_add_special(w->out, rel, FILESET_TOO_BIG, (size_t)st.st_size);
		goto out;
	}
	/* The file may grow after fstat: the capped read notices and stops at the cap. */
	r = fdio_read_all(fd, &b);
	if (r == ERR_TOOBIG) {
		fileset_add_special(w->out, rel, FILESET_TOO_BIG, b.len + 1);
		goto out;
	}
	if (r != 0) {
		fileset_add_unreadable(w->out, rel, errno);
		goto out;
	}
	fileset_add(w->out, rel, b.data != NULL ? b.data : "", b.len);
out:
	buf_free(&b);
	close(fd);
	return rc;
}

static int walk_dir(struct walk *w, const char *full, const char *rel, int depth);

static bool
is_nested_repo(const char *full)
{
	struct stat st;
	char *git;
	bool yes;

	git = xasprintf("%s/.git", full);
	yes = lstat(git, &st) == 0;
	free(git);
	return yes;
}

static int
visit(struct walk *w, const char *full, const char *rel, int depth)
{
	struct stat st;

	if (lstat(full, &st) != 0)
		return err_set(w->err, ERR_FAIL, "cannot stat %s: %s", full, strerror(errno));
	if (S_ISDIR(st.st_mode)) {
		/* A directory where a desired file could be (environments/prod.yaml/) is
		 * recorded, not skipped: the git reader does the same with a tree there. */
		if (!wanted_dir(rel) && fileset_wants(rel)) {
			if (count(w, rel) != 0)
				return -1;
			fileset_add_special(w->out, rel, FILESET_OTHER, 0);
			return 0;
		}
		if (!wanted_dir(rel))
			return 0;
		/* A checked-out submodule (or a nested repository) has a .git entry; in a
		 * commit it is a gitlink, which the git reader records. Record it the same
		 * way, so a directory and its commit load the same. */
		if (is_nested_repo(full)) {
			if (count(w, rel) != 0)
				return -1;
			fileset_add_special(w->out, rel, FILESET_SUBMODULE, 0);
			return 0;
		}
		if (depth + 1 > FILESET_DEPTH_MAX) {
			if (count(w, rel) != 0)
				return -1;
			fileset_add_special(w->out, rel, FILESET_TOO_DEEP, 0);
			return 0;
		}
		return walk_dir(w, full, rel, depth + 1);
	}
	/* A link (or a device, ...) standing where a directory of desired files could be is
	 * recorded too, as the git reader does: `functions -> elsewhere` must be an error,
	 * not an empty desired state. */
	if (!fileset_wants(rel) && (S_ISREG(st.st_mode) || !wanted_dir(rel)))
		return 0;
	if (count(w, rel) != 0)
		return -1;
	if (S_ISLNK(st.st_mode)) {
		fileset_add_special(w->out, rel, FILESET_SYMLINK, 0);
		return 0;
	}
	if (!S_ISREG(st.st_mode)) {
		fileset_add_special(w->out, rel, FILESET_OTHER, 0);
		return 0;
	}
	if (st.st_size > FILESET_FILE_MAX) {
		fileset_add_special(w->out, rel, FILESET_TOO_BIG, (size_t)st.st_size);
		return 0;
	}
	return read_regular(w, full, rel);
}

static int
walk_dir(struct walk *w, const char *full, const char *rel, int depth)
{
	DIR *d;
	struct dirent *e;
	char *cfull, *crel;
	int rc = 0;

	d = opendir(full);
	if (d == NULL && rel[0] != '\0') {
		fileset_add_unreadable(w->out, rel, errno);
		return 0;
	}
	if (d == NULL)
		return err_set(w->err, ERR_FAIL, "cannot open %s: %s", full, strerror(errno));
	for (;;) {
		errno = 0;
		e = readdir(d);
		if (e == NULL) {
			if (errno != 0)
				rc = err_set(
				    w->err, ERR_FAIL, "cannot read %s: %s", full, strerror(errno));
			break;
		}
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		cfull = xasprintf("%s/%s", full, e->d_name);
		crel = rel[0] != '\0' ? xasprintf("%s/%s", rel, e->d_name) : xstrdup(e->d_name);
		rc = visit(w, cfull, crel, depth);
		free(cfull);
		free(crel);
		if (rc != 0)
			break;
	}
	closedir(d);
	return rc;
}

int
source_read_dir(const char *dir, const char *path, struct fileset *out, struct err *err)
{
	struct walk w;
	struct stat st;
	char *root;
	size_t n;
	int rc;

	memset(&w, 0, sizeof(w));
	w.out = out;
	w.err = err;
	/* The root and --path are what the user named: they may be links. */
	if (path != NULL) {
		while (*path == '/')
			path++;
	}
	if (path != NULL && path[0] != '\0') {
		root = xasprintf("%s/%s", dir, path);
		n = strlen(root);
		while (n > 1 && root[n - 1] == '/')
			root[--n] = '\0';
	} else {
		root = xstrdup(dir);
	}
	if (stat(root, &st) != 0) {
		rc = err_set(err, ERR_NOTFOUND, "cannot open %s: %s", root, strerror(errno));
		goto out;
	}
	if (!S_ISDIR(st.st_mode)) {
		rc = err_set(err, ERR_FAIL, "%s is not a directory", root);
		goto out;
	}
	rc = walk_dir(&w, root, "", 0);
	if (rc != 0) {
		fileset_free(out);
		goto out;
	}
	fileset_sort(out);
out:
	free(root);
	return rc;
}
