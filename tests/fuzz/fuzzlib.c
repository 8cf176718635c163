/*
 * Helpers shared by the fuzz targets (fuzz.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fdio.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "tests/fuzz/fuzz.h"
#include "tests/lib/tmpdir.h"

#define FRAME "=== "
#define FRAME_LEN 4

/* The process's one temporary directory: the fuzz entry point has no context argument. */
static char tmp_dir[PATH_MAX];

/* Whether the line starting at p (inside [data, end)) opens a part. */
static bool
frame_at(const uint8_t *data, const uint8_t *p, const uint8_t *end)
{
	return (p == data || p[-1] == '\n') && (size_t)(end - p) >= FRAME_LEN &&
	       memcmp(p, FRAME, FRAME_LEN) == 0;
}

void
fuzz_parts_split(struct fuzz_parts *out, const uint8_t *data, size_t size)
{
	const uint8_t *end = data + size, *p = data, *nl, *name;
	struct fuzz_part *cur = NULL;

	memset(out, 0, sizeof(*out));
	while (p < end) {
		if (frame_at(data, p, end)) {
			if (out->n == FUZZ_PARTS_MAX)
				return;
			name = p + FRAME_LEN;
			nl = memchr(name, '\n', (size_t)(end - name));
			if (nl == NULL)
				nl = end;
			cur = &out->v[out->n++];
			cur->name = xstrndup((const char *)name, (size_t)(nl - name));
			cur->data = nl < end ? nl + 1 : end;
			cur->len = 0;
			p = cur->data;
			continue;
		}
		if (cur == NULL) {
			cur = &out->v[out->n++];
			cur->name = xstrdup("");
			cur->data = p;
			cur->len = 0;
		}
		/* To the start of the next frame line, or the end. */
		nl = memchr(p, '\n', (size_t)(end - p));
		p = nl != NULL ? nl + 1 : end;
		cur->len = (size_t)(p - cur->data);
	}
}

void
fuzz_parts_free(struct fuzz_parts *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		free((char *)(uintptr_t)p->v[i].name);
	memset(p, 0, sizeof(*p));
}

char *
fuzz_copy(const uint8_t *data, size_t size)
{
	char *p = xmalloc(size > 0 ? size : 1);

	if (size > 0)
		memcpy(p, data, size);
	return p;
}

char *
fuzz_strndup(const uint8_t *data, size_t size)
{
	char *p = xmalloc(size + 1);

	if (size > 0)
		memcpy(p, data, size);
	p[size] = '\0';
	return p;
}

static void
remove_tmpdir(void)
{
	if (tmp_dir[0] != '\0')
		tmpdir_remove(tmp_dir);
	tmp_dir[0] = '\0';
}

const char *
fuzz_tmpdir(void)
{
	if (tmp_dir[0] != '\0')
		return tmp_dir;
	if (tmpdir_make(tmp_dir, sizeof(tmp_dir), "tether-fuzz") != 0) {
		fprintf(stderr, "fuzz: cannot make a temporary directory: %s\n", strerror(errno));
		abort();
	}
	atexit(remove_tmpdir);
	return tmp_dir;
}

void
fuzz_write_file(const char *dir, const char *name, const void *data, size_t len, int mode)
{
	char *path = xasprintf("%s/%s", dir, name);
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0 || fdio_write_all(fd, (const char *)data, len) != 0 ||
	    fchmod(fd, (mode_t)mode) != 0) {
		fprintf(stderr, "fuzz: cannot write %s: %s\n", path, strerror(errno));
		abort();
	}
	close(fd);
	free(path);
}

void
fuzz_quiet_logs(void)
{
	static bool done;
	int fd;

	if (done)
		return;
	done = true;
	fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "fuzz: /dev/null: %s\n", strerror(errno));
		abort();
	}
	log_init(LOG_LEVEL_INFO, false, fd);
}
