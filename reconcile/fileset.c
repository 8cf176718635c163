#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "reconcile/fileset.h"

static bool
yaml_name(const char *name)
{
	size_t n = strlen(name);

	/* At least one character before the extension; hidden files are not desired state. */
	if (name[0] == '.')
		return false;
	return (n > 5 && strcmp(name + n - 5, ".yaml") == 0) ||
	       (n > 4 && strcmp(name + n - 4, ".yml") == 0);
}

bool
fileset_wants(const char *path)
{
	const char *base;

	if (strncmp(path, "functions/", 10) == 0) {
		base = strrchr(path, '/') + 1;
		return yaml_name(base);
	}
	if (strncmp(path, "environments/", 13) == 0) {
		base = path + 13;
		return strchr(base, '/') == NULL && yaml_name(base);
	}
	return false;
}

static struct fileset_file *
grow(struct fileset *fs)
{
	if (fs->n == fs->cap) {
		fs->cap = fs->cap == 0 ? 16 : fs->cap * 2;
		fs->files = xreallocarray(fs->files, fs->cap, sizeof(*fs->files));
	}
	memset(&fs->files[fs->n], 0, sizeof(fs->files[fs->n]));
	return &fs->files[fs->n++];
}

void
fileset_add(struct fileset *fs, const char *path, const void *data, size_t len)
{
	struct fileset_file *f = grow(fs);

	f->path = xstrdup(path);
	f->kind = FILESET_REGULAR;
	f->data = xmalloc(len + 1);
	if (len > 0)
		memcpy(f->data, data, len);
	f->data[len] = '\0';
	f->len = len;
}

void
fileset_add_special(struct fileset *fs, const char *path, enum fileset_kind kind, size_t size)
{
	struct fileset_file *f = grow(fs);

	f->path = xstrdup(path);
	f->kind = kind;
	f->len = size;
}

void
fileset_add_unreadable(struct fileset *fs, const char *path, int errnum)
{
	struct fileset_file *f = grow(fs);

	f->path = xstrdup(path);
	f->kind = FILESET_UNREADABLE;
	f->errnum = errnum;
}

static int
cmp_path(const void *a, const void *b)
{
	return strcmp(
	    ((const struct fileset_file *)a)->path, ((const struct fileset_file *)b)->path);
}

void
fileset_sort(struct fileset *fs)
{
	if (fs->n > 1)
		qsort(fs->files, fs->n, sizeof(*fs->files), cmp_path);
}

void
fileset_free(struct fileset *fs)
{
	size_t i;

	for (i = 0; i < fs->n; i++) {
		free(fs->files[i].path);
		free(fs->files[i].data);
	}
	free(fs->files);
	fs->files = NULL;
	fs->n = fs->cap = 0;
}
