/*
 * Manifests: one JSON line per action, appended and fsynced (deploy/manifest.h,
 * docs/apply.md "Manifests").
 *
 * A record is written with one write() (retried until the whole line is out), so a crash
 * leaves at most one partial line, at the end of a file. Before the first append to a file
 * it did not create, and after any failed write, the writer looks at the file's last byte:
 * when it is not a newline, the record is preceded by one, in the same write, so it starts
 * on a line of its own and the partial line stays a single unparsable line that readers
 * skip.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/fdio.h"
#include "common/jsonw.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "deploy/manifest.h"

/* Bytes read from a manifest at a time. */
#define READ_CHUNK (64 * 1024)
/* The latest record time accepted: 9999-12-31T23:59:59Z, so years have four digits. */
#define TIME_LAST 253402300799.0

struct manifest {
	char *dir;       /* <state_dir>/manifests */
	int fd;          /* the month file appended to, or -1 */
	char month[8];   /* its "YYYY-MM" */
	bool sync_dir;   /* fd's file was created: fsync the directory after the next record */
	bool check_tail; /* look at the file's last byte before the next record */
};

int
manifest_open(struct manifest **out, const char *state_dir, struct err *err)
{
	struct manifest *m;
	bool created;
	int rc;

	*out = NULL;
	if ((rc = fdio_ensure_dir(state_dir, &created, err)) != 0)
		return rc;
	m = xcalloc(1, sizeof(*m));
	m->fd = -1;
	m->dir = xasprintf("%s/manifests", state_dir);
	rc = fdio_ensure_dir(m->dir, &created, err);
	if (rc == 0 && created)
		rc = fdio_fsync_dir(state_dir, err);
	if (rc != 0) {
		manifest_close(m);
		return rc;
	}
	*out = m;
	return 0;
}

void
manifest_close(struct manifest *m)
{
	if (m == NULL)
		return;
	if (m->fd >= 0)
		close(m->fd);
	free(m->dir);
	free(m);
}

/* "2026-11-22T10:15:02.481Z" and "2026-11" for epoch seconds t. Returns 0 or -1. */
static int
format_time(double t, char when[32], char month[8])
{
	long long ms;
	time_t secs;
	struct tm tm;
	int n;

	if (!isfinite(t) || t < 0 || t > TIME_LAST)
		return -1;
	/* Rounded to the millisecond (t is not negative; no libm for llround). */
	ms = (long long)(t * 1000.0 + 0.5);
	secs = (time_t)(ms / 1000);
	if (gmtime_r(&secs, &tm) == NULL)
		return -1;
	n = snprintf(when, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
	if (n < 0 || n >= 32)
		return -1;
	n = snprintf(month, 8, "%04d-%02d", tm.tm_year + 1900, tm.tm_mon + 1);
	if (n < 0 || n >= 8)
		return -1;
	return 0;
}

static void
encode_side(struct jsonw *w, const char *key, const struct manifest_side *s)
{
	jsonw_key(w, key);
	if (s->version == NULL && s->routing_version == NULL && s->image == NULL &&
	    s->code_sha256 == NULL && s->revision_id == NULL) {
		jsonw_null(w);
		return;
	}
	jsonw_object_open(w);
	jsonw_kstr_null(w, "version", s->version);
	jsonw_kstr_null(w, "routing_version", s->routing_version);
	if (s->routing_version != NULL) {
		jsonw_key(w, "routing_weight");
		jsonw_double(w, s->routing_weight);
	}
	jsonw_kstr_null(w, "image", s->image);
	jsonw_kstr_null(w, "code_sha256", s->code_sha256);
	jsonw_kstr_null(w, "revision_id", s->revision_id);
	jsonw_object_close(w);
}

/* The record as one line, newline included, appended to b. Returns 0, or -1 past b's cap. */
static int
encode(struct buf *b, const struct manifest_record *r, const char *when)
{
	struct jsonw w;

	jsonw_init(&w, b);
	jsonw_object_open(&w);
	jsonw_kstr(&w, "time", when);
	jsonw_kstr_null(&w, "commit", r->commit);
	jsonw_kstr_null(&w, "ref", r->ref);
	jsonw_kstr_null(&w, "function", r->function);
	jsonw_kstr_null(&w, "region", r->region);
	jsonw_kstr_null(&w, "action", r->action);
	jsonw_kstr_null(&w, "digest", r->digest);
	jsonw_kstr_null(&w, "why", r->why);
	encode_side(&w, "before", &r->before);
	encode_side(&w, "after", &r->after);
	jsonw_kstr_null(&w, "request_id", r->request_id);
	jsonw_kstr_null(&w, "outcome", r->outcome);
	jsonw_kstr_null(&w, "error", r->error);
	if (r->trigger != NULL)
		jsonw_kstr(&w, "trigger", r->trigger);
	if (jsonw_failed(&w))
		return -1;
	/* The writer has no fixed-decimals number, and durations read best with exactly one
	 * decimal, so the last member and the end of the object are written here. */
	if (isfinite(r->duration_ms))
		return buf_printf(b, ",\"duration_ms\":%.1f}\n", r->duration_ms);
	return buf_puts(b, ",\"duration_ms\":null}\n");
}

/* Open (creating it when missing) the month's file for appending. */
static int
open_month(struct manifest *m, const char *month, struct err *err)
{
	char *path;
	bool created = false;
	int fd, tries, rc = 0;

	if (m->fd >= 0) {
		close(m->fd);
		m->fd = -1;
	}
	path = xasprintf("%s/%s.jsonl", m->dir, month);
	/* Read and write: the writer reads the last byte to find a partial line. Two tries:
	 * the file may appear between the two opens. */
	fd = -1;
	for (tries = 0; tries < 2 && fd < 0; tries++) {
		fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
		if (fd >= 0 || errno != ENOENT)
			break;
		fd =
		    open(path, O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd >= 0)
			created = true;
		else if (errno != EEXIST)
			break;
	}
	if (fd < 0) {
		rc = err_set(err, ERR_FAIL, "%s: cannot open: %s", path, strerror(errno));
		goto out;
	}
	m->fd = fd;
	memcpy(m->month, month, sizeof(m->month));
	m->sync_dir = created;
	m->check_tail = !created;
out:
	free(path);
	return rc;
}

/* Whether the file's last byte is there and is not a newline. Returns 0 or -1 (errno). */
static int
tail_is_partial(int fd, bool *partial)
{
	struct stat sb;
	ssize_t n;
	char c;

	*partial = false;
	if (fstat(fd, &sb) != 0)
		return -1;
	if (sb.st_size == 0)
		return 0;
	do {
		n = pread(fd, &c, 1, sb.st_size - 1);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	*partial = n == 1 && c != '\n';
	return 0;
}

int
manifest_append(struct manifest *m, const struct manifest_record *r, struct err *err)
{
	/* The first byte is room for the newline that ends someone's partial line. */
	struct buf b = BUF_INIT(MANIFEST_LINE_MAX + 1);
	char when[32], month[8], *path = NULL;
	const char *p;
	bool partial;
	size_t n;
	int rc;

	if (format_time(r->time, when, month) != 0)
		return err_set(
		    err, ERR_FAIL, "manifest: a record's time (%g) is not a time", r->time);
	(void)buf_putc(&b, '\n');
	if (encode(&b, r, when) != 0) {
		rc = err_set(err, ERR_TOOBIG,
		    "manifest: the %s record of %s is longer than %d bytes; not written",
		    r->action != NULL ? r->action : "-", r->function != NULL ? r->function : "-",
		    MANIFEST_LINE_MAX);
		goto out;
	}
	if (m->fd < 0 || strcmp(month, m->month) != 0) {
		if ((rc = open_month(m, month, err)) != 0)
			goto out;
	}
	path = xasprintf("%s/%s.jsonl", m->dir, m->month);
	p = b.data + 1;
	n = b.len - 1;
	if (m->check_tail) {
		if (tail_is_partial(m->fd, &partial) != 0) {
			rc = err_set(err, ERR_FAIL, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (partial) {
			log_warn("manifest", "%s: ends with a partial record; starting a new line",
			    path);
			p--;
			n++;
		}
		m->check_tail = false;
	}
	if (fdio_write_all(m->fd, p, n) != 0) {
		m->check_tail = true;
		rc = err_set(err, ERR_FAIL, "%s: write: %s", path, strerror(errno));
		goto out;
	}
	if (fsync(m->fd) != 0) {
		/* What reached the file is unknown now. */
		m->check_tail = true;
		rc = err_set(err, ERR_FAIL, "%s: fsync: %s", path, strerror(errno));
		goto out;
	}
	if (m->sync_dir) {
		if ((rc = fdio_fsync_dir(m->dir, err)) != 0)
			goto out;
		m->sync_dir = false;
	}
	rc = 0;
out:
	free(path);
	buf_free(&b);
	return rc;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool
has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n > k && strcmp(s + n - k, suffix) == 0;
}

/* The names of dir's *.jsonl files (not hidden ones), sorted. Returns 0, or -1 (errno). */
static int
list_manifests(const char *dir, char ***out, size_t *n)
{
	DIR *d;
	struct dirent *de;
	char **names = NULL;
	size_t len = 0, cap = 0;

	*out = NULL;
	*n = 0;
	d = opendir(dir);
	if (d == NULL)
		return -1;
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (de == NULL)
			break;
		if (de->d_name[0] == '.' || !has_suffix(de->d_name, ".jsonl"))
			continue;
		if (len == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			names = xreallocarray(names, cap, sizeof(*names));
		}
		names[len++] = xstrdup(de->d_name);
	}
	if (errno != 0) {
		int saved = errno;

		while (len > 0)
			free(names[--len]);
		free(names);
		closedir(d);
		errno = saved;
		return -1;
	}
	closedir(d);
	if (len > 1)
		qsort(names, len, sizeof(*names), name_cmp);
	*out = names;
	*n = len;
	return 0;
}

/* A damaged file can hold millions of lines that are not records: name the first few. */
#define MANIFEST_SKIPS_LOGGED 10

struct reader {
	const char *path;
	manifest_line_cb visit;
	void *arg;
	size_t skipped;
	size_t lineno;
	struct buf line; /* the line so far, without its newline */
	bool toolong;    /* the line passed the cap: its bytes are dropped until its end */
};

/* One whole line: hand it to the visitor, or skip it. Returns the visitor's value. */
static int
end_line(struct reader *rd)
{
	json_t *rec = NULL;
	int rc = 0;

	rd->lineno++;
	if (!rd->toolong)
		rec = json_loadb(buf_cstr(&rd->line), rd->line.len, 0, NULL);
	if (rec == NULL || !json_is_object(rec)) {
		if (rd->skipped < MANIFEST_SKIPS_LOGGED)
			log_warn(
			    "manifest", "%s:%zu: skipped a partial record", rd->path, rd->lineno);
		rd->skipped++;
	} else {
		rc = rd->visit(rec, buf_cstr(&rd->line), rd->line.len, rd->arg);
	}
	json_decref(rec);
	buf_reset(&rd->line);
	rd->toolong = false;
	return rc;
}

/* Add n bytes to the current line, or start dropping it when it gets too long. */
static void
add_bytes(struct reader *rd, const char *p, size_t n)
{
	if (rd->toolong || n == 0)
		return;
	if (buf_append(&rd->line, p, n) != 0) {
		buf_free(&rd->line);
		rd->toolong = true;
	}
}

static int
read_file(struct reader *rd, char *chunk, struct err *err)
{
	const char *p, *nl, *end;
	ssize_t got;
	int fd, rc = 0;

	fd = open(rd->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(err, ERR_FAIL, "%s: cannot open: %s", rd->path, strerror(errno));
	for (;;) {
		got = read(fd, chunk, READ_CHUNK);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			rc = err_set(err, ERR_FAIL, "%s: read: %s", rd->path, strerror(errno));
			goto out;
		}
		if (got == 0)
			break;
		p = chunk;
		end = chunk + got;
		while (p < end) {
			nl = memchr(p, '\n', (size_t)(end - p));
			add_bytes(rd, p, (size_t)((nl != NULL ? nl : end) - p));
			if (nl == NULL)
				break;
			p = nl + 1;
			if ((rc = end_line(rd)) != 0)
				goto out;
		}
	}
	/* A last line without its newline: a record whose write was cut, or one whose
	 * newline was the only thing cut (then it parses and counts). */
	if (rd->line.len > 0 || rd->toolong)
		rc = end_line(rd);
out:
	close(fd);
	return rc;
}

int
manifest_read_lines(
    const char *state_dir, manifest_line_cb visit, void *arg, size_t *skipped, struct err *err)
{
	struct reader rd;
	char *dir, **names = NULL, *chunk = NULL, *path = NULL;
	size_t n = 0, i;
	int rc = 0;

	memset(&rd, 0, sizeof(rd));
	/* The cap leaves room for the newline, which is not kept. */
	buf_init(&rd.line, MANIFEST_LINE_MAX - 1);
	rd.visit = visit;
	rd.arg = arg;
	dir = xasprintf("%s/manifests", state_dir);
	if (list_manifests(dir, &names, &n) != 0) {
		if (errno != ENOENT)
			rc = err_set(err, ERR_FAIL, "%s: %s", dir, strerror(errno));
		goto out;
	}
	chunk = xmalloc(READ_CHUNK);
	for (i = 0; i < n && rc == 0; i++) {
		free(path);
		path = xasprintf("%s/%s", dir, names[i]);
		rd.path = path;
		rd.lineno = 0;
		buf_reset(&rd.line);
		rd.toolong = false;
		rc = read_file(&rd, chunk, err);
	}
out:
	if (rd.skipped > MANIFEST_SKIPS_LOGGED)
		log_warn("manifest", "%s: skipped %zu lines in all (the first %d are named above)",
		    dir, rd.skipped, MANIFEST_SKIPS_LOGGED);
	if (skipped != NULL)
		*skipped = rd.skipped;
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(path);
	free(chunk);
	free(dir);
	buf_free(&rd.line);
	return rc;
}

struct visit_adapter {
	manifest_visit_cb visit;
	void *arg;
};

static int
visit_record(json_t *record, const char *line, size_t len, void *arg)
{
	struct visit_adapter *a = arg;

	(void)line;
	(void)len;
	return a->visit(record, a->arg);
}

int
manifest_read(
    const char *state_dir, manifest_visit_cb visit, void *arg, size_t *skipped, struct err *err)
{
	struct visit_adapter a = {visit, arg};

	return manifest_read_lines(state_dir, visit_record, &a, skipped, err);
}
