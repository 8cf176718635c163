/*
 * The state directory (deploy/state.h): the lock, and one JSON file per function.
 *
 * A function's file, <dir>/functions/<region>/<name>.json, is one compact JSON object:
 *
 *   {"format": 1,
 *    "quarantine": {"digest": "<full spec digest>", "reason": "smoke test: ...",
 *                   "commit": "<full commit id>", "time": <epoch seconds>},
 *    "staged": {"s3": "s3://bucket/key?versionId=v", "code_sha256": "..."},
 *    "versions": {"complete": true, "through": 18,
 *                 "list": [{"number": 17, "description": "tether d=... c=... main",
 *                           "code_sha256": "..."}, ...]}}
 *
 * "quarantine" and "staged" are left out when there is none; a string member that is not
 * known is null. "list" is ascending by number; each version's digest and commit are not
 * stored but parsed again from its description (obs_parse_version_mark), so the one
 * format lives in reconcile/observed.c. Members this version does not know are ignored;
 * a "format" other than 1, a missing or mistyped member, or a version listed twice makes
 * the whole file unparsable, which is reported and read as empty (deploy/state.h).
 */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "common/buf.h"
#include "common/fdio.h"
#include "common/jsonw.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "deploy/state.h"
#include "reconcile/names.h"

#define STATE_FORMAT 1
/* The longest region name accepted ("us-gov-west-1" and the like are far shorter). */
#define REGION_MAX 32

struct state {
	char *dir;
	int lock_fd; /* <dir>/lock, flock()ed */
};

/* ensure_dir, and make a new directory's entry durable in its parent. */
static int
ensure_subdir(const char *parent, const char *dir, struct err *err)
{
	bool created;
	int rc;

	if ((rc = fdio_ensure_dir(dir, &created, err)) != 0)
		return rc;
	return created ? fdio_fsync_dir(parent, err) : 0;
}

/* The holder's pid from the lock file, or 0 when it has not written one (yet). */
static long
lock_holder(int fd)
{
	char text[32], *end;
	ssize_t n;
	long pid;

	do {
		n = pread(fd, text, sizeof(text) - 1, 0);
	} while (n < 0 && errno == EINTR);
	if (n <= 0)
		return 0;
	text[n] = '\0';
	pid = strtol(text, &end, 10);
	if (end == text || pid <= 0 || (*end != '\n' && *end != '\0'))
		return 0;
	return pid;
}

int
state_open(struct state **out, const char *dir, struct err *err)
{
	struct state *st;
	char pid[32], *path;
	bool created;
	long holder;
	int fd = -1, n, rc;

	*out = NULL;
	if ((rc = fdio_ensure_dir(dir, &created, err)) != 0)
		return rc;
	path = xasprintf("%s/lock", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		rc = err_set(err, ERR_FAIL, "%s: cannot open: %s", path, strerror(errno));
		goto out;
	}
	/* flock() locks belong to the open file description: a second state_open() of the
	 * same directory conflicts even inside one process, as it should. */
	while ((rc = flock(fd, LOCK_EX | LOCK_NB)) != 0 && errno == EINTR)
		;
	if (rc != 0) {
		if (errno != EWOULDBLOCK) {
			rc = err_set(err, ERR_FAIL, "%s: flock: %s", path, strerror(errno));
			goto out;
		}
		holder = lock_holder(fd);
		if (holder > 0)
			rc = err_set(err, ERR_CONFLICT, "%s is in use by another tether (pid %ld)",
			    dir, holder);
		else
			rc = err_set(err, ERR_CONFLICT,
			    "%s is in use by another tether (pid not known yet)", dir);
		goto out;
	}
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(pid) || ftruncate(fd, 0) != 0 ||
	    pwrite(fd, pid, (size_t)n, 0) != n) {
		rc = err_set(err, ERR_FAIL, "%s: cannot write the pid: %s", path, strerror(errno));
		goto out;
	}
	st = xcalloc(1, sizeof(*st));
	st->dir = xstrdup(dir);
	st->lock_fd = fd;
	fd = -1;
	*out = st;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(path);
	return rc;
}

void
state_close(struct state *st)
{
	if (st == NULL)
		return;
	/* No stale pid for the next reader; the lock goes with the descriptor. */
	(void)ftruncate(st->lock_fd, 0);
	close(st->lock_fd);
	free(st->dir);
	free(st);
}

const char *
state_dir(const struct state *st)
{
	return st->dir;
}

/* A region as a path component: 1..REGION_MAX of [a-z0-9-]. */
static bool
valid_region(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (i == REGION_MAX)
			return false;
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	}
	return i > 0;
}

/* Refuse names that are not Lambda's: they could leave the directory. */
static int
check_names(const char *region, const char *name, struct err *err)
{
	if (region == NULL || !valid_region(region))
		return err_set(err, ERR_INVALID, "state: \"%s\" is not a region name",
		    region != NULL ? region : "(null)");
	if (name == NULL || !names_function_name(name))
		return err_set(err, ERR_INVALID, "state: \"%s\" is not a function name",
		    name != NULL ? name : "(null)");
	return 0;
}

static void
version_clear(struct obs_version *v)
{
	free(v->description);
	free(v->code_sha256);
	memset(v, 0, sizeof(*v));
}

/* A deep copy of src, with digest and commit parsed again from the description. */
static void
version_copy(struct obs_version *dst, const struct obs_version *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->number = src->number;
	dst->description = src->description != NULL ? xstrdup(src->description) : NULL;
	dst->code_sha256 = src->code_sha256 != NULL ? xstrdup(src->code_sha256) : NULL;
	(void)obs_parse_version_mark(dst->description, dst->digest, dst->commit);
}

static int
version_cmp(const void *a, const void *b)
{
	long x = ((const struct obs_version *)a)->number;
	long y = ((const struct obs_version *)b)->number;

	return (x > y) - (x < y);
}

void
state_function_clear(struct state_function *f)
{
	size_t i;

	if (f == NULL)
		return;
	free(f->quarantine_digest);
	free(f->quarantine_reason);
	free(f->quarantine_commit);
	free(f->staged_s3);
	free(f->staged_code_sha256);
	for (i = 0; i < f->nversions; i++)
		version_clear(&f->versions[i]);
	free(f->versions);
	memset(f, 0, sizeof(*f));
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

void
state_function_copy(struct state_function *dst, const struct state_function *src)
{
	size_t i;

	memset(dst, 0, sizeof(*dst));
	dst->quarantine_digest = dup_or_null(src->quarantine_digest);
	dst->quarantine_reason = dup_or_null(src->quarantine_reason);
	dst->quarantine_commit = dup_or_null(src->quarantine_commit);
	dst->quarantine_time = src->quarantine_time;
	dst->staged_s3 = dup_or_null(src->staged_s3);
	dst->staged_code_sha256 = dup_or_null(src->staged_code_sha256);
	dst->versions_complete = src->versions_complete;
	dst->versions_through = src->versions_through;
	if (src->nversions > 0) {
		dst->versions = xcalloc(src->nversions, sizeof(*dst->versions));
		for (i = 0; i < src->nversions; i++)
			version_copy(&dst->versions[i], &src->versions[i]);
	}
	dst->nversions = src->nversions;
}

/* Where number is in f->versions, or where it would go (*found false). */
static size_t
version_index(const struct state_function *f, long number, bool *found)
{
	size_t lo = 0, hi = f->nversions, mid;

	*found = false;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (f->versions[mid].number == number) {
			*found = true;
			return mid;
		}
		if (f->versions[mid].number < number)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void
state_versions_replace(struct state_function *f, const struct obs_version *v, size_t n)
{
	struct obs_version *list = NULL;
	size_t i, k = 0;

	if (n > 0) {
		list = xcalloc(n, sizeof(*list));
		for (i = 0; i < n; i++)
			version_copy(&list[i], &v[i]);
		qsort(list, n, sizeof(*list), version_cmp);
		/* One entry per number, should a listing repeat one. */
		for (i = 0; i < n; i++) {
			if (k > 0 && list[k - 1].number == list[i].number) {
				version_clear(&list[k - 1]);
				list[k - 1] = list[i];
				continue;
			}
			if (k != i)
				list[k] = list[i];
			k++;
		}
	}
	for (i = 0; i < f->nversions; i++)
		version_clear(&f->versions[i]);
	free(f->versions);
	f->versions = list;
	f->nversions = k;
	f->versions_complete = true;
	f->versions_through = k > 0 ? list[k - 1].number : 0;
}

void
state_version_add(struct state_function *f, const struct obs_version *v)
{
	bool found;
	size_t i;

	assert(v->number >= 1);
	i = version_index(f, v->number, &found);
	if (found) {
		version_clear(&f->versions[i]);
	} else {
		f->versions = xreallocarray(f->versions, f->nversions + 1, sizeof(*f->versions));
		memmove(&f->versions[i + 1], &f->versions[i],
		    (f->nversions - i) * sizeof(*f->versions));
		f->nversions++;
	}
	version_copy(&f->versions[i], v);
	if (f->versions_complete) {
		if (v->number == f->versions_through + 1)
			f->versions_through = v->number;
		else if (v->number > f->versions_through + 1)
			f->versions_complete = false;
	}
}

void
state_version_remove(struct state_function *f, long number)
{
	bool found;
	size_t i;

	i = version_index(f, number, &found);
	if (!found)
		return;
	version_clear(&f->versions[i]);
	memmove(
	    &f->versions[i], &f->versions[i + 1], (f->nversions - i - 1) * sizeof(*f->versions));
	f->nversions--;
	if (f->nversions == 0) {
		free(f->versions);
		f->versions = NULL;
	}
}

/* Encoding. */

static void
encode(struct jsonw *w, const struct state_function *f)
{
	size_t i;

	jsonw_object_open(w);
	jsonw_kint(w, "format", STATE_FORMAT);
	if (f->quarantine_digest != NULL) {
		jsonw_key(w, "quarantine");
		jsonw_object_open(w);
		jsonw_kstr(w, "digest", f->quarantine_digest);
		jsonw_kstr_null(w, "reason", f->quarantine_reason);
		jsonw_kstr_null(w, "commit", f->quarantine_commit);
		jsonw_kint(w, "time", f->quarantine_time);
		jsonw_object_close(w);
	}
	if (f->staged_s3 != NULL || f->staged_code_sha256 != NULL) {
		jsonw_key(w, "staged");
		jsonw_object_open(w);
		jsonw_kstr_null(w, "s3", f->staged_s3);
		jsonw_kstr_null(w, "code_sha256", f->staged_code_sha256);
		jsonw_object_close(w);
	}
	jsonw_key(w, "versions");
	jsonw_object_open(w);
	jsonw_kbool(w, "complete", f->versions_complete);
	jsonw_kint(w, "through", f->versions_through);
	jsonw_key(w, "list");
	jsonw_array_open(w);
	for (i = 0; i < f->nversions; i++) {
		jsonw_object_open(w);
		jsonw_kint(w, "number", f->versions[i].number);
		jsonw_kstr_null(w, "description", f->versions[i].description);
		jsonw_kstr_null(w, "code_sha256", f->versions[i].code_sha256);
		jsonw_object_close(w);
	}
	jsonw_array_close(w);
	jsonw_object_close(w);
	jsonw_object_close(w);
}

/* Decoding: each returns 0, or -1 with why (a static string) set. */

/* An optional string member: absent or null is NULL. */
static int
get_str(json_t *o, const char *key, char **out, const char **why)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		*why = "a member is not a string";
		return -1;
	}
	*out = xstrdup(json_string_value(v));
	return 0;
}

static int
get_long(json_t *o, const char *key, long min, long *out, const char **why)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > (json_int_t)LONG_MAX) {
		*why = "a number is missing or out of range";
		return -1;
	}
	*out = (long)json_integer_value(v);
	return 0;
}

static int
decode_versions(json_t *o, struct state_function *f, const char **why)
{
	json_t *list, *item, *complete;
	struct obs_version *v;
	size_t i;

	if (!json_is_object(o)) {
		*why = "\"versions\" is not an object";
		return -1;
	}
	complete = json_object_get(o, "complete");
	list = json_object_get(o, "list");
	if (!json_is_boolean(complete) || !json_is_array(list)) {
		*why = "\"versions\" lacks \"complete\" or \"list\"";
		return -1;
	}
	f->versions_complete = json_is_true(complete);
	if (get_long(o, "through", 0, &f->versions_through, why) != 0)
		return -1;
	if (json_array_size(list) > 0)
		f->versions = xcalloc(json_array_size(list), sizeof(*f->versions));
	json_array_foreach(list, i, item)
	{
		if (!json_is_object(item)) {
			*why = "a version is not an object";
			return -1;
		}
		v = &f->versions[f->nversions++];
		if (get_long(item, "number", 1, &v->number, why) != 0 ||
		    get_str(item, "description", &v->description, why) != 0 ||
		    get_str(item, "code_sha256", &v->code_sha256, why) != 0)
			return -1;
		(void)obs_parse_version_mark(v->description, v->digest, v->commit);
	}
	if (f->nversions > 1)
		qsort(f->versions, f->nversions, sizeof(*f->versions), version_cmp);
	for (i = 1; i < f->nversions; i++) {
		if (f->versions[i].number == f->versions[i - 1].number) {
			*why = "a version is listed twice";
			return -1;
		}
	}
	return 0;
}

static int
decode(json_t *root, struct state_function *f, const char **why)
{
	json_t *q, *s;
	long format;

	if (!json_is_object(root)) {
		*why = "not a JSON object";
		return -1;
	}
	if (get_long(root, "format", 0, &format, why) != 0 || format != STATE_FORMAT) {
		*why = "not format 1";
		return -1;
	}
	q = json_object_get(root, "quarantine");
	if (q != NULL && !json_is_null(q)) {
		if (!json_is_object(q) || !json_is_string(json_object_get(q, "digest"))) {
			*why = "\"quarantine\" has no digest";
			return -1;
		}
		if (get_str(q, "digest", &f->quarantine_digest, why) != 0 ||
		    get_str(q, "reason", &f->quarantine_reason, why) != 0 ||
		    get_str(q, "commit", &f->quarantine_commit, why) != 0 ||
		    get_long(q, "time", 0, &f->quarantine_time, why) != 0)
			return -1;
	}
	s = json_object_get(root, "staged");
	if (s != NULL && !json_is_null(s)) {
		if (!json_is_object(s)) {
			*why = "\"staged\" is not an object";
			return -1;
		}
		if (get_str(s, "s3", &f->staged_s3, why) != 0 ||
		    get_str(s, "code_sha256", &f->staged_code_sha256, why) != 0)
			return -1;
	}
	return decode_versions(json_object_get(root, "versions"), f, why);
}

/* The path of a function's file. */
static char *
function_path(const char *dir, const char *region, const char *name)
{
	return xasprintf("%s/functions/%s/%s.json", dir, region, name);
}

/* state_load_function() for a state directory's path, without a handle (or its lock). */
static int
load_function(const char *dir, const char *region, const char *name, struct state_function *out,
    struct err *err)
{
	struct buf b = BUF_INIT(STATE_FILE_MAX);
	json_error_t jerr;
	json_t *root = NULL;
	const char *why = NULL;
	char *path = NULL;
	int fd = -1, rc;

	memset(out, 0, sizeof(*out));
	if ((rc = check_names(region, name, err)) != 0)
		return rc;
	path = function_path(dir, region, name);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		rc = errno == ENOENT
		         ? 0
		         : err_set(err, ERR_FAIL, "%s: cannot open: %s", path, strerror(errno));
		goto out;
	}
	rc = fdio_read_all(fd, &b);
	if (rc == ERR_TOOBIG) {
		why = "larger than STATE_FILE_MAX";
	} else if (rc != 0) {
		why = strerror(errno);
	} else {
		root = json_loadb(buf_cstr(&b), b.len, 0, &jerr);
		if (root == NULL)
			why = jerr.text;
		else if (decode(root, out, &why) != 0)
			state_function_clear(out);
	}
	if (why != NULL)
		log_warn("state",
		    "%s: cannot be read, so it is taken as empty (a quarantine in it "
		    "is not applied): %s",
		    path, why);
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	json_decref(root);
	buf_free(&b);
	free(path);
	return rc;
}

int
state_load_function(struct state *st, const char *region, const char *name,
    struct state_function *out, struct err *err)
{
	return load_function(st->dir, region, name, out, err);
}

int
state_save_function(struct state *st, const char *region, const char *name,
    const struct state_function *f, struct err *err)
{
	struct buf b = BUF_INIT(STATE_FILE_MAX);
	struct jsonw w;
	char *functions = NULL, *dir = NULL, *tmp = NULL, *path = NULL;
	int fd = -1, rc;

	if ((rc = check_names(region, name, err)) != 0)
		return rc;
	jsonw_init(&w, &b);
	encode(&w, f);
	if (jsonw_failed(&w) || buf_putc(&b, '\n') != 0) {
		rc = err_set(err, ERR_TOOBIG, "state: %s/%s: more than %d bytes of state", region,
		    name, STATE_FILE_MAX);
		goto out;
	}
	functions = xasprintf("%s/functions", st->dir);
	dir = xasprintf("%s/%s", functions, region);
	if ((rc = ensure_subdir(st->dir, functions, err)) != 0 ||
	    (rc = ensure_subdir(functions, dir, err)) != 0)
		goto out;
	/* Hidden and without the .json suffix, so a leftover is never read as state. */
	tmp = xasprintf("%s/.%s.json.XXXXXX", dir, name);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		rc = err_set(err, ERR_FAIL, "%s: cannot create: %s", tmp, strerror(errno));
		free(tmp);
		tmp = NULL;
		goto out;
	}
	path = function_path(st->dir, region, name);
	if (fdio_write_all(fd, b.data, b.len) != 0) {
		rc = err_set(err, ERR_FAIL, "%s: write: %s", tmp, strerror(errno));
		goto out;
	}
	if (fsync(fd) != 0) {
		rc = err_set(err, ERR_FAIL, "%s: fsync: %s", tmp, strerror(errno));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		rc = err_set(err, ERR_FAIL, "%s: close: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		rc = err_set(err, ERR_FAIL, "%s: cannot replace: %s", path, strerror(errno));
		goto out;
	}
	free(tmp);
	tmp = NULL;
	rc = fdio_fsync_dir(dir, err);
out:
	if (fd >= 0)
		close(fd);
	if (tmp != NULL)
		(void)unlink(tmp);
	free(tmp);
	free(path);
	free(dir);
	free(functions);
	buf_free(&b);
	return rc;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
names_free(char **names, size_t n)
{
	while (n > 0)
		free(names[--n]);
	free(names);
}

/*
 * The entries of dir that pass keep (with suffix cut off when given), sorted. Returns 0,
 * or -1 with errno set.
 */
static int
list_dir(const char *dir, const char *suffix, bool (*keep)(const char *), char ***out, size_t *n)
{
	DIR *d;
	struct dirent *de;
	char **names = NULL, *s;
	size_t len = 0, cap = 0, k, slen = suffix != NULL ? strlen(suffix) : 0;
	int saved;

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
		k = strlen(de->d_name);
		if (suffix != NULL && (k <= slen || strcmp(de->d_name + k - slen, suffix) != 0))
			continue;
		s = xstrndup(de->d_name, k - slen);
		if (!keep(s)) {
			free(s);
			continue;
		}
		if (len == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			names = xreallocarray(names, cap, sizeof(*names));
		}
		names[len++] = s;
	}
	saved = errno;
	closedir(d);
	if (saved != 0) {
		names_free(names, len);
		errno = saved;
		return -1;
	}
	if (len > 1)
		qsort(names, len, sizeof(*names), name_cmp);
	*out = names;
	*n = len;
	return 0;
}

int
state_read_each_function(const char *dir, state_visit_cb visit, void *arg, struct err *err)
{
	struct state_function f;
	char *functions, *rdir = NULL, **regions = NULL, **names = NULL;
	size_t nregions = 0, nnames = 0, i, j;
	int rc = 0;

	memset(&f, 0, sizeof(f));
	functions = xasprintf("%s/functions", dir);
	if (list_dir(functions, NULL, valid_region, &regions, &nregions) != 0) {
		if (errno != ENOENT)
			rc = err_set(err, ERR_FAIL, "%s: %s", functions, strerror(errno));
		goto out;
	}
	for (i = 0; i < nregions && rc == 0; i++) {
		free(rdir);
		rdir = xasprintf("%s/%s", functions, regions[i]);
		names_free(names, nnames);
		names = NULL;
		nnames = 0;
		if (list_dir(rdir, ".json", names_function_name, &names, &nnames) != 0) {
			/* A plain file with a region's name is not a region. */
			if (errno == ENOTDIR)
				continue;
			rc = err_set(err, ERR_FAIL, "%s: %s", rdir, strerror(errno));
			goto out;
		}
		for (j = 0; j < nnames && rc == 0; j++) {
			if ((rc = load_function(dir, regions[i], names[j], &f, err)) != 0)
				goto out;
			rc = visit(regions[i], names[j], &f, arg);
			state_function_clear(&f);
		}
	}
out:
	state_function_clear(&f);
	names_free(names, nnames);
	names_free(regions, nregions);
	free(rdir);
	free(functions);
	return rc;
}
