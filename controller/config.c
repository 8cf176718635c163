#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aws/endpoint.h"
#include "common/buf.h"
#include "common/fdio.h"
#include "common/jsonw.h"
#include "common/log.h"
#include "common/url.h"
#include "common/xmalloc.h"
#include "controller/config.h"
#include "reconcile/draft.h"
#include "reconcile/names.h"
#include "reconcile/suggest.h"
#include "reconcile/yamldoc.h"

#define LABEL_MAX 128
#define GIT_REF_MAX 255
#define ENV_NAME_MAX 255
#define HEADER_NAME_MAX 64

const char *const config_event_names[CONFIG_EVENT_COUNT] = {
    "deployed",
    "failed",
    "drift_corrected",
    "quarantined",
    "commit_rejected",
};

static const char *const log_format_names[] = {"text", "json"};
static const char *const notify_kind_names[] = {"slack", "generic"};

/* Parsing state for one file. */
struct parse {
	struct config *c;
	const char *path; /* as given, for diagnostics */
	struct diags *diags;
};

/* A key that would hold a secret inline, and the pair of keys to use instead. */
struct inline_secret {
	const char *key;
	const char *base;
};

static void PRINTFLIKE(3, 4)
    problem(struct parse *p, const struct yamldoc_node *at, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	/* Past the last diagnostic diags_add() drops it: do not format it. */
	if (p->diags->truncated)
		return;
	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	diags_add(p->diags, DIAG_ERROR, p->path, at->line, at->col, "%s", msg);
	free(msg);
}

static void PRINTFLIKE(3, 4)
    warning(struct parse *p, const struct yamldoc_node *at, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	diags_add(p->diags, DIAG_WARNING, p->path, at->line, at->col, "%s", msg);
	free(msg);
}

/* "git.token_file" under "git", "repo" at the top. */
static const char *
key_label(char *buf, size_t size, const char *prefix, const char *key)
{
	int n;

	if (prefix[0] == '\0')
		n = snprintf(buf, size, "%s", key);
	else
		n = snprintf(buf, size, "%s.%s", prefix, key);
	/* Keys are short and known: a cut label only shortens a message. */
	if (n < 0)
		buf[0] = '\0';
	return buf;
}

/* A non-empty string without control characters. */
static bool
want_text(struct parse *p, const struct yamldoc_node *n, const char *label)
{
	size_t i;

	if (!yamldoc_is_str(n)) {
		if (n->kind == YAMLDOC_SCALAR && n->type != YAMLDOC_NULL)
			problem(p, n, "%s: expected a string, got %s (quote it: \"%s\")", label,
			    yamldoc_describe(n), n->str);
		else
			problem(p, n, "%s: expected a string, got %s", label, yamldoc_describe(n));
		return false;
	}
	if (n->len == 0) {
		problem(p, n, "%s: is empty", label);
		return false;
	}
	for (i = 0; i < n->len; i++) {
		if ((unsigned char)n->str[i] < 0x20 || n->str[i] == 0x7f) {
			problem(p, n, "%s: holds a control character", label);
			return false;
		}
	}
	return true;
}

static bool
looks_number(const char *s)
{
	char *end;

	if (*s == '\0')
		return false;
	errno = 0;
	(void)strtod(s, &end);
	return *end == '\0';
}

static bool
want_int(
    struct parse *p, const struct yamldoc_node *n, const char *label, long min, long max, long *out)
{
	long v;

	if (n->kind != YAMLDOC_SCALAR || n->type != YAMLDOC_INT) {
		if (yamldoc_is_str(n) && looks_number(n->str))
			problem(p, n,
			    "%s: expected an integer, got a string (\"%s\"); remove the quotes",
			    label, n->str);
		else
			problem(
			    p, n, "%s: expected an integer, got %s", label, yamldoc_describe(n));
		return false;
	}
	if (!yamldoc_int(n, &v) || v < min || v > max) {
		problem(p, n, "%s: %s is out of range (%ld..%ld)", label, n->str, min, max);
		return false;
	}
	*out = v;
	return true;
}

/* An integer or a float, finite. */
static bool
want_number(struct parse *p, const struct yamldoc_node *n, const char *label, double *out)
{
	long v;

	if (n->kind == YAMLDOC_SCALAR && n->type == YAMLDOC_INT) {
		if (!yamldoc_int(n, &v)) {
			problem(p, n, "%s: %s does not fit in 64 bits", label, n->str);
			return false;
		}
		*out = (double)v;
		return true;
	}
	if (n->kind == YAMLDOC_SCALAR && n->type == YAMLDOC_FLOAT) {
		/* .inf and .nan are YAML floats that strtod does not read. */
		if (strpbrk(n->str, "nN") != NULL) {
			problem(p, n, "%s: %s is not a finite number", label, n->str);
			return false;
		}
		*out = strtod(n->str, NULL);
		if (!isfinite(*out)) {
			problem(p, n, "%s: %s is not a finite number", label, n->str);
			return false;
		}
		return true;
	}
	if (yamldoc_is_str(n) && looks_number(n->str))
		problem(p, n, "%s: expected a number, got a string (\"%s\"); remove the quotes",
		    label, n->str);
	else
		problem(p, n, "%s: expected a number, got %s", label, yamldoc_describe(n));
	return false;
}

static bool
want_mapping(struct parse *p, const struct yamldoc_node *n, const char *label)
{
	if (n->kind == YAMLDOC_MAPPING)
		return true;
	problem(p, n, "%s: expected a mapping, got %s", label, yamldoc_describe(n));
	return false;
}

/*
 * Report every key of map that is not in keys[]: an inline secret with where it belongs
 * instead, anything else with the closest known key.
 */
static void
check_keys(struct parse *p, const struct yamldoc_node *map, const char *prefix,
    const char *const *keys, size_t nkeys, const struct inline_secret *secrets, size_t nsecrets)
{
	const struct yamldoc_node *k;
	const char *near;
	char label[LABEL_MAX];
	size_t i, j;

	for (i = 0; i < map->n; i++) {
		k = map->items[2 * i];
		for (j = 0; j < nkeys; j++) {
			if (strcmp(k->str, keys[j]) == 0)
				break;
		}
		if (j < nkeys)
			continue;
		key_label(label, sizeof(label), prefix, k->str);
		for (j = 0; j < nsecrets; j++) {
			if (strcmp(k->str, secrets[j].key) == 0)
				break;
		}
		if (j < nsecrets) {
			problem(p, k,
			    "%s: secrets are never written in the config; name a file with "
			    "%s_file or an environment variable with %s_env",
			    label, secrets[j].base, secrets[j].base);
			continue;
		}
		if (strcmp(k->str, "<<") == 0) {
			problem(p, k, "%s: merge keys (<<) are not supported", label);
			continue;
		}
		near = p->diags->truncated ? NULL : suggest(k->str, keys, nkeys);
		if (prefix[0] == '\0' && near != NULL)
			problem(p, k, "unknown key \"%s\"; did you mean \"%s\"?", k->str, near);
		else if (prefix[0] == '\0')
			problem(p, k, "unknown key \"%s\"", k->str);
		else if (near != NULL)
			problem(p, k, "%s: unknown key \"%s\"; did you mean \"%s\"?", prefix,
			    k->str, near);
		else
			problem(p, k, "%s: unknown key \"%s\"", prefix, k->str);
	}
}

/* One of words[], or -1 (reported, with the closest word). */
static int
want_word(struct parse *p, const struct yamldoc_node *n, const char *label,
    const char *const *words, size_t nwords, const char *listed)
{
	const char *near;
	char q[96];
	size_t i;

	if (!want_text(p, n, label))
		return -1;
	for (i = 0; i < nwords; i++) {
		if (strcmp(n->str, words[i]) == 0)
			return (int)i;
	}
	near = suggest(n->str, words, nwords);
	if (near != NULL)
		problem(p, n, "%s: %s is not %s; did you mean \"%s\"?", label,
		    yamldoc_shown(n, q, sizeof(q)), listed, near);
	else
		problem(p, n, "%s: %s is not %s", label, yamldoc_shown(n, q, sizeof(q)), listed);
	return -1;
}

/*
 * dir and rel joined, lexically cleaned: no "." components, no doubled or trailing '/'.
 * An absolute rel ignores dir. ".." is kept (the file system decides what it means).
 */
static char *
join_path(const char *dir, const char *rel)
{
	const char *parts[2], *s, *end;
	size_t len, n = 0, i;
	char *out;

	parts[0] = rel[0] == '/' ? "" : dir;
	parts[1] = rel;
	out = xmalloc(strlen(dir) + strlen(rel) + 3);
	for (i = 0; i < nitems(parts); i++) {
		for (s = parts[i]; *s != '\0';) {
			end = s + strcspn(s, "/");
			len = (size_t)(end - s);
			if (len > 0 && !(len == 1 && s[0] == '.')) {
				out[n++] = '/';
				memcpy(out + n, s, len);
				n += len;
			}
			s = *end == '/' ? end + 1 : end;
		}
	}
	if (n == 0)
		out[n++] = '/';
	out[n] = '\0';
	return out;
}

/* A path the config names, resolved against its directory; NULL (reported) for "~". */
static char *
resolve(struct parse *p, const struct yamldoc_node *n, const char *label)
{
	if (n->str[0] == '~') {
		problem(p, n,
		    "%s: \"~\" is not expanded; write the path in full, or relative to the "
		    "config file's directory",
		    label);
		return NULL;
	}
	return join_path(p->c->dir, n->str);
}

/* A file the config names (not a secret): it must be a readable regular file. With
 * secret_like, group and others should not be able to access it (an SSH key). */
static char *
want_file(struct parse *p, const struct yamldoc_node *n, const char *label, bool secret_like)
{
	struct stat st;
	char *path;

	if (!want_text(p, n, label))
		return NULL;
	path = resolve(p, n, label);
	if (path == NULL)
		return NULL;
	if (stat(path, &st) != 0 || access(path, R_OK) != 0) {
		problem(p, n, "%s: cannot read %s: %s", label, path, strerror(errno));
		free(path);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		problem(p, n, "%s: %s is not a regular file", label, path);
		free(path);
		return NULL;
	}
	if (secret_like && (st.st_mode & 077) != 0)
		warning(p, n, "%s: %s is accessible by group or others (mode %04o); chmod 600 it",
		    label, path, (unsigned)(st.st_mode & 07777));
	return path;
}

/* Durations. */

/* "1h30m", "5m", "45s", "0s": the form draft_duration() reads. */
static const char *
fmt_duration(long secs, char *buf, size_t size)
{
	size_t n = 0;

	if (secs == 0)
		return snprintf(buf, size, "0s") < 0 ? "" : buf;
	buf[0] = '\0';
	if (secs >= 3600)
		n += (size_t)snprintf(buf + n, size - n, "%ldh", secs / 3600);
	if (secs % 3600 >= 60 && n < size)
		n += (size_t)snprintf(buf + n, size - n, "%ldm", secs % 3600 / 60);
	if (secs % 60 != 0 && n < size)
		snprintf(buf + n, size - n, "%lds", secs % 60);
	return buf;
}

/* A duration in [min, max] seconds; with can_off, "off" and 0 turn it off (*out = 0). */
static bool
want_duration(struct parse *p, const struct yamldoc_node *n, const char *label, double min,
    double max, bool can_off, double *out)
{
	char q[96], lo[32], hi[32];
	long secs;

	if (can_off && n->kind == YAMLDOC_SCALAR && n->type == YAMLDOC_INT &&
	    strcmp(n->str, "0") == 0) {
		*out = 0;
		return true;
	}
	if (can_off && yamldoc_is_str(n) && strcmp(n->str, "off") == 0) {
		*out = 0;
		return true;
	}
	if (n->kind == YAMLDOC_SCALAR && (n->type == YAMLDOC_INT || n->type == YAMLDOC_FLOAT)) {
		problem(p, n, "%s: expected a duration with a unit, such as 30s, 5m or 1h%s", label,
		    can_off ? " (or off)" : "");
		return false;
	}
	if (!want_text(p, n, label))
		return false;
	secs = draft_duration(n->str);
	if (secs < 0) {
		problem(p, n, "%s: %s is not a duration (such as 30s, 5m, 1h or 1h30m%s)", label,
		    yamldoc_shown(n, q, sizeof(q)), can_off ? ", or off" : "");
		return false;
	}
	if (can_off && secs == 0) {
		*out = 0;
		return true;
	}
	if ((double)secs < min || (double)secs > max) {
		problem(p, n, "%s: %s is out of range (%s..%s%s)", label, n->str,
		    fmt_duration((long)min, lo, sizeof(lo)),
		    fmt_duration((long)max, hi, sizeof(hi)), can_off ? ", or off" : "");
		return false;
	}
	*out = (double)secs;
	return true;
}

/* Sizes: bytes, or a number of KiB or MiB. */
static bool
want_size(struct parse *p, const struct yamldoc_node *n, const char *label, long min, long max,
    size_t *out)
{
	static const struct {
		const char *unit;
		long bytes;
	} units[] = {{"KiB", 1024}, {"MiB", 1024 * 1024}};
	char q[96], *end;
	long v = 0;
	size_t i;

	if (n->kind == YAMLDOC_SCALAR && n->type == YAMLDOC_INT) {
		if (!yamldoc_int(n, &v))
			v = -1;
	} else if (yamldoc_is_str(n) && n->str[0] >= '0' && n->str[0] <= '9') {
		errno = 0;
		v = strtol(n->str, &end, 10);
		for (i = 0; i < nitems(units); i++) {
			if (strcmp(end, units[i].unit) == 0)
				break;
		}
		if (errno != 0 || i == nitems(units) || v > LONG_MAX / units[i].bytes) {
			problem(p, n, "%s: %s is not a size (bytes, or such as 512KiB or 1MiB)",
			    label, yamldoc_shown(n, q, sizeof(q)));
			return false;
		}
		v *= units[i].bytes;
	} else {
		if (yamldoc_is_str(n))
			problem(p, n, "%s: %s is not a size (bytes, or such as 512KiB or 1MiB)",
			    label, yamldoc_shown(n, q, sizeof(q)));
		else
			problem(p, n,
			    "%s: expected a size (bytes, or such as 512KiB or 1MiB), got %s", label,
			    yamldoc_describe(n));
		return false;
	}
	if (v < min || v > max) {
		problem(p, n, "%s: %s is out of range (%ldKiB..%ldMiB)", label, n->str, min / 1024,
		    max / (1024 * 1024));
		return false;
	}
	*out = (size_t)v;
	return true;
}

/* Secrets. */

static bool
env_name_valid(const char *s)
{
	size_t i;

	if (!((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
		return false;
	for (i = 1; s[i] != '\0'; i++) {
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
		        (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	}
	return i <= ENV_NAME_MAX;
}

/* Check what was read into buf (n bytes) and hand out a copy; buf is wiped either way. */
static int
take_secret(const struct config_secret *s, const char *what, char *buf, size_t n, char **out,
    size_t *len, struct err *err)
{
	int rc = 0;

	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	if (n == 0)
		rc = err_set(err, ERR_INVALID, "%s: %s is empty", s->label, what);
	else if (memchr(buf, '\0', n) != NULL)
		rc = err_set(err, ERR_INVALID, "%s: %s holds a NUL byte", s->label, what);
	else if (memchr(buf, '\n', n) != NULL || memchr(buf, '\r', n) != NULL)
		rc = err_set(err, ERR_INVALID, "%s: %s holds more than one line", s->label, what);
	if (rc == 0) {
		*out = xmalloc(n + 1);
		memcpy(*out, buf, n);
		(*out)[n] = '\0';
		*len = n;
	}
	explicit_bzero(buf, n);
	return rc;
}

/* config_read_secret(), saying in *loose whether the file is open to group or others
 * (its mode in *mode). */
static int
read_secret(const struct config_secret *s, char **out, size_t *len, bool *loose, unsigned *mode,
    struct err *err)
{
	char buf[CONFIG_SECRET_MAX + 1], *what = NULL;
	struct stat st;
	const char *v;
	size_t n = 0;
	ssize_t r;
	int fd = -1, rc = 0;

	*out = NULL;
	*len = 0;
	*loose = false;
	*mode = 0;
	switch (s->source) {
	case CONFIG_SECRET_ENV:
		v = getenv(s->name);
		if (v == NULL)
			return err_set(err, ERR_NOTFOUND, "%s: environment variable %s is not set",
			    s->label, s->name);
		n = strlen(v);
		if (n > CONFIG_SECRET_MAX)
			return err_set(err, ERR_TOOBIG,
			    "%s: environment variable %s is over %d bytes", s->label, s->name,
			    CONFIG_SECRET_MAX);
		memcpy(buf, v, n);
		what = xasprintf("environment variable %s", s->name);
		rc = take_secret(s, what, buf, n, out, len, err);
		goto out;
	case CONFIG_SECRET_FILE:
		break;
	case CONFIG_SECRET_NONE:
	default:
		return err_set(err, ERR_INVALID, "%s: no secret is configured",
		    s->label != NULL ? s->label : "secret");
	}
	fd = open(s->name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		rc = err_set(err, errno == ENOENT ? ERR_NOTFOUND : ERR_FAIL,
		    "%s: cannot open %s: %s", s->label, s->name, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		rc = err_set(
		    err, ERR_FAIL, "%s: cannot stat %s: %s", s->label, s->name, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = err_set(err, ERR_INVALID, "%s: %s is not a regular file", s->label, s->name);
		goto out;
	}
	*mode = (unsigned)(st.st_mode & 07777);
	*loose = (st.st_mode & 077) != 0;
	/* Read one byte past the cap to see a file that is too big (or grew). */
	while (n < sizeof(buf)) {
		r = read(fd, buf + n, sizeof(buf) - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = err_set(err, ERR_FAIL, "%s: cannot read %s: %s", s->label, s->name,
			    strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > CONFIG_SECRET_MAX) {
		rc = err_set(err, ERR_TOOBIG, "%s: %s is over %d bytes", s->label, s->name,
		    CONFIG_SECRET_MAX);
		goto out;
	}
	what = xstrdup(s->name);
	rc = take_secret(s, what, buf, n, out, len, err);
	n = 0;
out:
	explicit_bzero(buf, n);
	if (fd >= 0)
		close(fd);
	free(what);
	return rc;
}

int
config_read_secret(const struct config_secret *s, char **out, size_t *len, struct err *err)
{
	unsigned mode;
	bool loose;
	int rc;

	rc = read_secret(s, out, len, &loose, &mode, err);
	if (rc == 0 && loose)
		log_warn("config",
		    "%s: %s is accessible by group or others (mode %04o); chmod 600 it", s->label,
		    s->name, mode);
	return rc;
}

void
config_secret_free(char *secret, size_t len)
{
	if (secret == NULL)
		return;
	explicit_bzero(secret, len);
	free(secret);
}

static void
secret_clear(struct config_secret *s)
{
	free(s->name);
	free(s->label);
	memset(s, 0, sizeof(*s));
}

/*
 * The secret named by <base>_file or <base>_env in map (one of them, or neither). It is read
 * once to check it; with check_url, it must be an http(s) URL. Returns whether it is set.
 */
static bool
parse_secret(struct parse *p, const struct yamldoc_node *map, const char *prefix, const char *base,
    bool check_url, struct config_secret *out)
{
	const struct yamldoc_node *fk = NULL, *ek = NULL, *fv, *ev, *v, *k;
	char fkey[LABEL_MAX], ekey[LABEL_MAX], label[LABEL_MAX];
	struct err err = ERR_INIT;
	struct url u;
	unsigned mode;
	char *value = NULL;
	size_t len;
	bool loose;

	snprintf(fkey, sizeof(fkey), "%s_file", base);
	snprintf(ekey, sizeof(ekey), "%s_env", base);
	fv = yamldoc_lookup(map, fkey, &fk);
	ev = yamldoc_lookup(map, ekey, &ek);
	if (fv == NULL && ev == NULL)
		return false;
	if (fv != NULL && ev != NULL) {
		/* The second one written is the error. */
		k = fk->line > ek->line || (fk->line == ek->line && fk->col > ek->col) ? fk : ek;
		problem(p, k, "%s: %s and %s exclude each other; keep one",
		    key_label(label, sizeof(label), prefix, k->str), fkey, ekey);
		return false;
	}
	v = fv != NULL ? fv : ev;
	key_label(label, sizeof(label), prefix, fv != NULL ? fkey : ekey);
	if (!want_text(p, v, label))
		return false;
	if (fv != NULL) {
		out->name = resolve(p, v, label);
		if (out->name == NULL)
			return false;
		out->source = CONFIG_SECRET_FILE;
	} else {
		if (!env_name_valid(v->str)) {
			problem(
			    p, v, "%s: \"%s\" is not an environment variable name", label, v->str);
			return false;
		}
		out->name = xstrdup(v->str);
		out->source = CONFIG_SECRET_ENV;
	}
	out->label = xstrdup(label);
	if (read_secret(out, &value, &len, &loose, &mode, &err) != 0) {
		problem(p, v, "%s", err.message);
		secret_clear(out);
		return false;
	}
	if (loose)
		warning(p, v, "%s: %s is accessible by group or others (mode %04o); chmod 600 it",
		    label, out->name, mode);
	/* The URL may carry a token: never quote it. */
	if (check_url && url_parse(&u, value, &err) != 0) {
		problem(p, v, "%s: the value of %s is not an http or https URL", label, out->name);
		config_secret_free(value, len);
		secret_clear(out);
		return false;
	}
	if (check_url)
		url_clear(&u);
	config_secret_free(value, len);
	return true;
}

/* The repository. */

static bool
host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_';
}

/* host[:port] or [v6][:port] (s to end); NULL when fine, else what is wrong. */
static const char *
check_host(const char *s, const char *end, bool port_ok)
{
	const char *h = s, *he, *q;
	struct in6_addr a6;
	char tmp[INET6_ADDRSTRLEN + 1];
	long port = 0;

	if (*s == '[') {
		he = memchr(s, ']', (size_t)(end - s));
		if (he == NULL || (size_t)(he - s - 1) >= sizeof(tmp))
			return "a bad IPv6 address";
		memcpy(tmp, s + 1, (size_t)(he - s - 1));
		tmp[he - s - 1] = '\0';
		if (inet_pton(AF_INET6, tmp, &a6) != 1)
			return "a bad IPv6 address";
		he++;
	} else {
		for (he = h; he < end && *he != ':'; he++) {
			if (!host_char(*he))
				return "a bad character in the host";
		}
		if (he == h)
			return "no host";
	}
	if (he == end)
		return NULL;
	if (*he != ':' || !port_ok || he + 1 == end)
		return "a bad port";
	for (q = he + 1; q < end; q++) {
		if (*q < '0' || *q > '9' || q - he > 5)
			return "a bad port";
		port = port * 10 + (*q - '0');
	}
	return port >= 1 && port <= 65535 ? NULL : "a bad port";
}

/* scp-like "[user@]host:path": a ':' before any '/'. */
static bool
scp_like(const char *s)
{
	const char *colon = strchr(s, ':'), *slash = strchr(s, '/');

	return colon != NULL && (slash == NULL || colon < slash);
}

static void
parse_repo_url(struct parse *p, const struct yamldoc_node *v)
{
	static const char *const schemes[] = {"file", "git", "http", "https", "ssh"};
	static const enum config_repo_kind kinds[] = {CONFIG_REPO_FILE, CONFIG_REPO_GIT,
	    CONFIG_REPO_HTTP, CONFIG_REPO_HTTPS, CONFIG_REPO_SSH};
	const char *s = v->str, *sep = strstr(s, "://"), *auth, *auth_end, *at, *host, *why;
	struct err err = ERR_INIT;
	struct url u;
	size_t i, n = (size_t)(sep - s);

	for (i = 0; i < nitems(schemes); i++) {
		if (strlen(schemes[i]) == n && strncasecmp(s, schemes[i], n) == 0)
			break;
	}
	if (i == nitems(schemes)) {
		problem(p, v, "repo: unsupported scheme \"%.*s\" (file, git, http, https or ssh)",
		    (int)(n > 32 ? 32 : n), s);
		return;
	}
	auth = sep + 3;
	auth_end = auth + strcspn(auth, "/");
	if (strpbrk(s, "?#") != NULL) {
		problem(p, v, "repo: a repository URL has no query or fragment");
		return;
	}
	at = NULL;
	for (host = auth; host < auth_end; host++) {
		if (*host == '@')
			at = host;
	}
	host = at != NULL ? at + 1 : auth;
	if (at != NULL && memchr(auth, ':', (size_t)(at - auth)) != NULL) {
		problem(p, v,
		    "repo: the URL carries a password; put the token in a file (git.token_file) "
		    "or an environment variable (git.token_env)");
		return;
	}
	if (at != NULL && kinds[i] != CONFIG_REPO_SSH) {
		problem(p, v, "repo: only ssh:// URLs carry a user name%s",
		    kinds[i] == CONFIG_REPO_HTTP || kinds[i] == CONFIG_REPO_HTTPS
		        ? "; for HTTPS, set git.username and a token"
		        : "");
		return;
	}
	if (kinds[i] == CONFIG_REPO_FILE) {
		if (!(auth_end == auth ||
		        (auth_end - auth == 9 && strncasecmp(auth, "localhost", 9) == 0))) {
			problem(p, v,
			    "repo: a file:// URL names a local path, as file:///srv/repo.git");
			return;
		}
	} else if ((why = check_host(host, auth_end, true)) != NULL) {
		problem(p, v, "repo: the URL has %s", why);
		return;
	}
	if (auth_end[0] == '\0' || auth_end[1] == '\0') {
		problem(p, v, "repo: the URL names no repository path");
		return;
	}
	if (kinds[i] == CONFIG_REPO_HTTP || kinds[i] == CONFIG_REPO_HTTPS) {
		if (url_parse(&u, s, &err) != 0) {
			problem(p, v, "repo: %s", err.message);
			return;
		}
		url_clear(&u);
	}
	p->c->repo = xstrdup(s);
	p->c->repo_kind = kinds[i];
}

static void
parse_repo(struct parse *p, const struct yamldoc_node *v)
{
	const char *s, *colon, *at, *why;
	struct stat st;
	size_t i;

	if (!want_text(p, v, "repo"))
		return;
	s = v->str;
	for (i = 0; i < v->len; i++) {
		if (s[i] == ' ' && (strstr(s, "://") != NULL || scp_like(s))) {
			problem(p, v, "repo: a repository URL has no white space");
			return;
		}
	}
	if (strstr(s, "://") != NULL) {
		parse_repo_url(p, v);
		return;
	}
	if (scp_like(s)) {
		/* The first ':' ends the host, so a user here never has a password. */
		colon = strchr(s, ':');
		at = memchr(s, '@', (size_t)(colon - s));
		why = check_host(at != NULL ? at + 1 : s, colon, false);
		if (why != NULL) {
			problem(p, v,
			    "repo: \"%s\" reads as scp-like [user@]host:path but has %s; write "
			    "./%s for a local path",
			    s, why, s);
			return;
		}
		if (colon[1] == '\0') {
			problem(p, v, "repo: the URL names no repository path");
			return;
		}
		p->c->repo = xstrdup(s);
		p->c->repo_kind = CONFIG_REPO_SSH;
		return;
	}
	p->c->repo = resolve(p, v, "repo");
	if (p->c->repo == NULL)
		return;
	p->c->repo_kind = CONFIG_REPO_LOCAL;
	if (stat(p->c->repo, &st) != 0) {
		problem(p, v, "repo: cannot open %s: %s", p->c->repo, strerror(errno));
	} else if (!S_ISDIR(st.st_mode)) {
		problem(p, v, "repo: %s is not a directory (a git repository)", p->c->repo);
	}
}

static bool
is_hex40(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
		        (s[i] >= 'A' && s[i] <= 'F')))
			return false;
	}
	return i == 40;
}

/* What git check-ref-format --allow-onelevel refuses in s; NULL when s is fine. */
static const char *
ref_problem(const char *s)
{
	const char *c, *comp;
	size_t n = strlen(s), len;

	if (n > GIT_REF_MAX)
		return "is too long";
	if (strcmp(s, "@") == 0)
		return "is \"@\"";
	for (c = s; *c != '\0'; c++) {
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return "has a control character";
		if (strchr(" ~^:?*[\\", *c) != NULL)
			return "has one of the characters space ~ ^ : ? * [ \\";
	}
	if (strstr(s, "..") != NULL)
		return "has \"..\"";
	if (strstr(s, "@{") != NULL)
		return "has \"@{\"";
	if (s[0] == '/' || s[n - 1] == '/' || strstr(s, "//") != NULL)
		return "has an empty path component";
	if (s[n - 1] == '.')
		return "ends with \".\"";
	for (comp = s; *comp != '\0';) {
		len = strcspn(comp, "/");
		if (comp[0] == '.')
			return "has a component that starts with \".\"";
		if (len >= 5 && strncmp(comp + len - 5, ".lock", 5) == 0)
			return "has a component that ends with \".lock\"";
		comp += len;
		if (*comp == '/')
			comp++;
	}
	return NULL;
}

static void
parse_ref(struct parse *p, const struct yamldoc_node *v)
{
	const char *why;
	char q[96];

	if (!want_text(p, v, "ref"))
		return;
	why = ref_problem(v->str);
	if (why != NULL) {
		problem(p, v, "ref: %s is not a branch, tag or commit: it %s",
		    yamldoc_shown(v, q, sizeof(q)), why);
		return;
	}
	p->c->ref = xstrdup(v->str);
	p->c->ref_is_commit = is_hex40(v->str);
}

/* The folder inside the repository: relative, normalized, never leaving it. */
static void
parse_path(struct parse *p, const struct yamldoc_node *v)
{
	const char *s, *end;
	size_t len, n = 0;
	char *res;

	if (!want_text(p, v, "path"))
		return;
	if (v->str[0] == '/') {
		problem(p, v,
		    "path: is a folder inside the repository; write it without the "
		    "leading \"/\"");
		return;
	}
	res = xmalloc(v->len + 1);
	for (s = v->str; *s != '\0';) {
		end = s + strcspn(s, "/");
		len = (size_t)(end - s);
		if (len == 2 && s[0] == '.' && s[1] == '.') {
			problem(p, v, "path: \"..\" cannot leave the repository");
			free(res);
			return;
		}
		if (len > 0 && !(len == 1 && s[0] == '.')) {
			if (n > 0)
				res[n++] = '/';
			memcpy(res + n, s, len);
			n += len;
		}
		s = *end == '/' ? end + 1 : end;
	}
	res[n] = '\0';
	free(p->c->path);
	p->c->path = res;
}

static void
parse_environment(struct parse *p, const struct yamldoc_node *v)
{
	char q[96];
	size_t i;

	if (!want_text(p, v, "environment"))
		return;
	for (i = 0; i < v->len; i++) {
		if (!host_char(v->str[i]))
			break;
	}
	if (i < v->len || v->str[0] == '.' || v->len > 64) {
		problem(p, v,
		    "environment: %s is not an environment name (the NAME of "
		    "environments/NAME.yaml: letters, digits, '-', '_' and '.')",
		    yamldoc_shown(v, q, sizeof(q)));
		return;
	}
	p->c->environment = xstrdup(v->str);
}

static void
parse_listen(struct parse *p, const struct yamldoc_node *v)
{
	const char *s, *colon, *h;
	struct in6_addr a6;
	struct in_addr a4;
	char host[256], q[96];
	bool loopback;
	size_t hlen;
	long port = 0;

	if (v->kind == YAMLDOC_SCALAR && v->type == YAMLDOC_INT) {
		problem(p, v, "listen: expected HOST:PORT, such as %s", CONFIG_LISTEN_DEFAULT);
		return;
	}
	if (!want_text(p, v, "listen"))
		return;
	s = v->str;
	if (s[0] == '[') {
		colon = strstr(s, "]:");
		h = s + 1;
		hlen = colon != NULL ? (size_t)(colon - h) : 0;
		colon = colon != NULL ? colon + 1 : NULL;
	} else {
		colon = strrchr(s, ':');
		h = s;
		hlen = colon != NULL ? (size_t)(colon - s) : 0;
		if (colon != NULL && memchr(s, ':', hlen) != NULL)
			colon = NULL; /* an IPv6 address without brackets */
	}
	if (colon == NULL || colon[1] == '\0' || strlen(colon + 1) > 5 ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1) || hlen >= sizeof(host)) {
		problem(p, v, "listen: %s is not HOST:PORT or [IPv6]:PORT (such as %s)",
		    yamldoc_shown(v, q, sizeof(q)), CONFIG_LISTEN_DEFAULT);
		return;
	}
	port = strtol(colon + 1, NULL, 10);
	if (port > 65535) {
		problem(p, v, "listen: port %ld is out of range (0..65535)", port);
		return;
	}
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	if (hlen == 0) {
		problem(p, v,
		    "listen: name the address to listen on, such as 127.0.0.1%s (or 0.0.0.0%s "
		    "for every interface)",
		    colon, colon);
		return;
	}
	if (s[0] == '[') {
		if (inet_pton(AF_INET6, host, &a6) != 1) {
			problem(p, v, "listen: \"%s\" is not an IPv6 address", host);
			return;
		}
		loopback = IN6_IS_ADDR_LOOPBACK(&a6);
	} else if (inet_pton(AF_INET, host, &a4) == 1) {
		loopback = (ntohl(a4.s_addr) >> 24) == 127;
	} else {
		for (hlen = 0; host[hlen] != '\0'; hlen++) {
			if (!host_char(host[hlen]) || host[hlen] == '_')
				break;
		}
		if (host[hlen] != '\0') {
			problem(p, v, "listen: \"%s\" is not an IP address or a host name", host);
			return;
		}
		loopback = strcasecmp(host, "localhost") == 0;
	}
	if (!loopback)
		warning(p, v,
		    "listen: %s is not a loopback address: webhooks, /metrics and /status are "
		    "reachable from the network",
		    v->str);
	free(p->c->listen);
	p->c->listen = xstrdup(v->str);
	p->c->listen_loopback = loopback;
}

/* Sections. */

/* RFC 9110 token characters: what a header name may hold. */
static bool
header_name_valid(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		        (s[i] >= '0' && s[i] <= '9') || strchr("!#$%&'*+-.^_`|~", s[i]) != NULL))
			return false;
	}
	return i > 0 && i <= HEADER_NAME_MAX;
}

/* The node that set a secret (its _file or _env value), for warnings about it. */
static const struct yamldoc_node *
secret_node(const struct yamldoc_node *map, const char *base)
{
	const struct yamldoc_node *v;
	char key[LABEL_MAX];

	snprintf(key, sizeof(key), "%s_file", base);
	v = yamldoc_lookup(map, key, NULL);
	if (v != NULL)
		return v;
	snprintf(key, sizeof(key), "%s_env", base);
	return yamldoc_lookup(map, key, NULL);
}

static void
parse_git(struct parse *p, const struct yamldoc_node *v, bool repo_ok)
{
	static const char *const keys[] = {
	    "ssh_key_file", "known_hosts", "token_file", "token_env", "ca_file", "username"};
	static const struct inline_secret secrets[] = {{"token", "token"}, {"password", "token"}};
	struct config_git *g = &p->c->git;
	enum config_repo_kind kind = p->c->repo_kind;
	const struct yamldoc_node *x;

	if (!want_mapping(p, v, "git"))
		return;
	check_keys(p, v, "git", keys, nitems(keys), secrets, nitems(secrets));
	x = yamldoc_lookup(v, "ssh_key_file", NULL);
	if (x != NULL) {
		g->ssh_key_file = want_file(p, x, "git.ssh_key_file", true);
		if (g->ssh_key_file != NULL && repo_ok && kind != CONFIG_REPO_SSH)
			warning(p, x, "git.ssh_key_file: only SSH repositories use it");
	}
	x = yamldoc_lookup(v, "known_hosts", NULL);
	if (x != NULL) {
		g->known_hosts = want_file(p, x, "git.known_hosts", false);
		if (g->known_hosts != NULL && repo_ok && kind != CONFIG_REPO_SSH)
			warning(p, x, "git.known_hosts: only SSH repositories use it");
	}
	if (parse_secret(p, v, "git", "token", false, &g->token) && repo_ok) {
		x = secret_node(v, "token");
		if (kind == CONFIG_REPO_HTTP)
			warning(p, x, "%s: http:// sends the token unencrypted; use https://",
			    g->token.label);
		else if (kind != CONFIG_REPO_HTTPS)
			warning(p, x, "%s: only HTTPS repositories use a token", g->token.label);
	}
	x = yamldoc_lookup(v, "ca_file", NULL);
	if (x != NULL) {
		g->ca_file = want_file(p, x, "git.ca_file", false);
		if (g->ca_file != NULL && repo_ok && kind != CONFIG_REPO_HTTPS)
			warning(p, x, "git.ca_file: only HTTPS repositories use it");
	}
	x = yamldoc_lookup(v, "username", NULL);
	if (x != NULL && want_text(p, x, "git.username")) {
		if (strchr(x->str, ':') != NULL || strchr(x->str, ' ') != NULL) {
			problem(p, x, "git.username: a user name has no ':' or space");
		} else {
			free(g->username);
			g->username = xstrdup(x->str);
			if (g->token.source == CONFIG_SECRET_NONE)
				warning(p, x,
				    "git.username: has no effect without git.token_file or "
				    "git.token_env");
		}
	}
}

static void
parse_webhook(struct parse *p, const struct yamldoc_node *v)
{
	static const char *const keys[] = {"github_secret_file", "github_secret_env",
	    "gitlab_token_file", "gitlab_token_env", "generic_secret_file", "generic_secret_env",
	    "generic_header", "max_body", "rate"};
	static const struct inline_secret secrets[] = {{"github_secret", "github_secret"},
	    {"gitlab_token", "gitlab_token"}, {"generic_secret", "generic_secret"}};
	struct config_webhook *w = &p->c->webhook;
	const struct yamldoc_node *x;
	long n;

	if (!want_mapping(p, v, "webhook"))
		return;
	check_keys(p, v, "webhook", keys, nitems(keys), secrets, nitems(secrets));
	parse_secret(p, v, "webhook", "github_secret", false, &w->github);
	parse_secret(p, v, "webhook", "gitlab_token", false, &w->gitlab);
	parse_secret(p, v, "webhook", "generic_secret", false, &w->generic);
	x = yamldoc_lookup(v, "generic_header", NULL);
	if (x != NULL && want_text(p, x, "webhook.generic_header")) {
		if (!header_name_valid(x->str)) {
			problem(p, x, "webhook.generic_header: \"%s\" is not an HTTP header name",
			    x->str);
		} else {
			free(w->generic_header);
			w->generic_header = xstrdup(x->str);
			if (secret_node(v, "generic_secret") == NULL)
				warning(p, x,
				    "webhook.generic_header: has no effect without "
				    "webhook.generic_secret_file or webhook.generic_secret_env");
		}
	}
	x = yamldoc_lookup(v, "max_body", NULL);
	if (x != NULL)
		want_size(p, x, "webhook.max_body", CONFIG_WEBHOOK_BODY_MIN,
		    CONFIG_WEBHOOK_BODY_MAX, &w->max_body);
	x = yamldoc_lookup(v, "rate", NULL);
	if (x != NULL && want_int(p, x, "webhook.rate", 1, CONFIG_WEBHOOK_RATE_MAX, &n))
		w->rate = (int)n;
}

static void
parse_verify(struct parse *p, const struct yamldoc_node *v)
{
	static const char *const keys[] = {"mode", "allowed_signers"};
	static const char *const modes[] = {"ssh", "openpgp", "none"};
	struct config_verify *vf = &p->c->verify;
	const struct yamldoc_node *mode, *signers;
	int m;

	if (!want_mapping(p, v, "verify"))
		return;
	check_keys(p, v, "verify", keys, nitems(keys), NULL, 0);
	mode = yamldoc_lookup(v, "mode", NULL);
	signers = yamldoc_lookup(v, "allowed_signers", NULL);
	if (mode == NULL) {
		problem(p, v, "verify: missing required key \"mode\" (ssh or none)");
		return;
	}
	m = want_word(p, mode, "verify.mode", modes, nitems(modes), "ssh, openpgp or none");
	if (m < 0)
		return;
	if (m == 1) {
		problem(p, mode, "verify.mode: openpgp is not supported: this build has no gpgme");
		return;
	}
	if (m == 2) {
		vf->mode = CONFIG_VERIFY_NONE;
		if (signers != NULL)
			warning(p, signers, "verify.allowed_signers: has no effect with mode none");
		return;
	}
	vf->mode = CONFIG_VERIFY_SSH;
	if (signers == NULL) {
		problem(p, v, "verify: missing required key \"allowed_signers\" (mode ssh)");
		return;
	}
	vf->allowed_signers = want_file(p, signers, "verify.allowed_signers", false);
}

static void
parse_events(struct parse *p, const struct yamldoc_node *v, const char *prefix, unsigned *out)
{
	char label[LABEL_MAX], item[LABEL_MAX + 24];
	unsigned events = 0;
	size_t i;
	int e;

	key_label(label, sizeof(label), prefix, "events");
	if (v->kind != YAMLDOC_SEQUENCE) {
		problem(p, v, "%s: expected a list of events, got %s", label, yamldoc_describe(v));
		return;
	}
	if (v->n == 0) {
		problem(p, v, "%s: is empty; leave it out for every event", label);
		return;
	}
	for (i = 0; i < v->n; i++) {
		snprintf(item, sizeof(item), "%s[%zu]", label, i);
		e = want_word(p, v->items[i], item, config_event_names, CONFIG_EVENT_COUNT,
		    "an event (deployed, failed, drift_corrected, quarantined or "
		    "commit_rejected)");
		if (e < 0)
			continue;
		if ((events & (1u << e)) != 0) {
			problem(p, v->items[i], "%s: %s is listed twice", item, v->items[i]->str);
			continue;
		}
		events |= 1u << e;
	}
	*out = events;
}

static bool
parse_notify_one(struct parse *p, const struct yamldoc_node *v, size_t i, struct config_notify *n)
{
	static const char *const keys[] = {
	    "url", "url_file", "url_env", "kind", "events", "secret_file", "secret_env"};
	static const struct inline_secret secrets[] = {{"secret", "secret"}};
	static const char *const url_keys[] = {"url", "url_file", "url_env"};
	const struct yamldoc_node *x, *k, *first = NULL, *kind;
	char prefix[LABEL_MAX], label[LABEL_MAX];
	size_t before = p->diags->errors, j, nurl = 0;
	struct err err = ERR_INIT;
	struct url u;
	int kd;

	memset(n, 0, sizeof(*n));
	n->events = CONFIG_EVENTS_ALL;
	snprintf(prefix, sizeof(prefix), "notify[%zu]", i);
	if (!want_mapping(p, v, prefix))
		return false;
	check_keys(p, v, prefix, keys, nitems(keys), secrets, nitems(secrets));
	for (j = 0; j < nitems(url_keys); j++) {
		if (yamldoc_lookup(v, url_keys[j], &k) == NULL)
			continue;
		nurl++;
		if (first == NULL) {
			first = k;
		} else if (k->line > first->line ||
		           (k->line == first->line && k->col > first->col)) {
			problem(p, k, "%s: url, url_file and url_env exclude each other; keep one",
			    key_label(label, sizeof(label), prefix, k->str));
		} else {
			problem(p, first,
			    "%s: url, url_file and url_env exclude each other; keep one",
			    key_label(label, sizeof(label), prefix, first->str));
			first = k;
		}
	}
	if (first == NULL)
		problem(p, v, "%s: missing required key \"url\" (or url_file, url_env)", prefix);
	kind = yamldoc_lookup(v, "kind", NULL);
	kd = -1;
	if (kind == NULL)
		problem(p, v, "%s: missing required key \"kind\" (slack or generic)", prefix);
	else
		kd = want_word(p, kind, key_label(label, sizeof(label), prefix, "kind"),
		    notify_kind_names, nitems(notify_kind_names), "slack or generic");
	if (kd >= 0)
		n->kind = (enum config_notify_kind)kd;
	x = yamldoc_lookup(v, "url", NULL);
	if (x != NULL && nurl == 1 &&
	    want_text(p, x, key_label(label, sizeof(label), prefix, "url"))) {
		if (url_parse(&u, x->str, &err) != 0) {
			problem(p, x, "%s: %s", label, err.message);
		} else {
			url_clear(&u);
			n->url = xstrdup(x->str);
			if (kd == CONFIG_NOTIFY_SLACK)
				warning(p, x,
				    "%s: a Slack webhook URL is a credential; keep it in url_file "
				    "or "
				    "url_env",
				    label);
		}
	}
	if (nurl == 1 && x == NULL)
		parse_secret(p, v, prefix, "url", true, &n->url_secret);
	x = yamldoc_lookup(v, "events", NULL);
	if (x != NULL)
		parse_events(p, x, prefix, &n->events);
	if (parse_secret(p, v, prefix, "secret", false, &n->secret) && kd == CONFIG_NOTIFY_SLACK)
		problem(p, secret_node(v, "secret"),
		    "%s: Slack notifications are not signed; remove it", n->secret.label);
	return p->diags->errors == before;
}

static void
notify_clear(struct config_notify *n)
{
	free(n->url);
	secret_clear(&n->url_secret);
	secret_clear(&n->secret);
	memset(n, 0, sizeof(*n));
}

static void
parse_notify(struct parse *p, const struct yamldoc_node *v)
{
	struct config *c = p->c;
	size_t i;

	if (v->kind != YAMLDOC_SEQUENCE) {
		problem(p, v, "notify: expected a list of targets, got %s", yamldoc_describe(v));
		return;
	}
	if (v->n > CONFIG_NOTIFY_MAX) {
		problem(p, v, "notify: %zu targets, over the limit of %d", v->n, CONFIG_NOTIFY_MAX);
		return;
	}
	c->notify = xcalloc(v->n == 0 ? 1 : v->n, sizeof(*c->notify));
	for (i = 0; i < v->n; i++) {
		if (parse_notify_one(p, v->items[i], i, &c->notify[c->nnotify]))
			c->nnotify++;
		else
			notify_clear(&c->notify[c->nnotify]);
	}
}

/* The top level. */

static void
parse_top(struct parse *p, const struct yamldoc_node *root)
{
	static const char *const keys[] = {"repo", "ref", "path", "environment", "interval",
	    "jitter", "drift_interval", "region", "endpoint", "state_dir", "listen", "concurrency",
	    "api_rps", "log_format", "git", "webhook", "verify", "notify"};
	struct config *c = p->c;
	const struct yamldoc_node *x;
	struct err err = ERR_INIT;
	struct url u;
	char q[96], *dir;
	double d;
	long n;
	int f;
	bool repo_ok;

	check_keys(p, root, "", keys, nitems(keys), NULL, 0);
	x = yamldoc_lookup(root, "repo", NULL);
	if (x == NULL)
		problem(p, root,
		    "missing required key \"repo\" (the git repository: a URL or a "
		    "path)");
	else
		parse_repo(p, x);
	repo_ok = c->repo != NULL;
	x = yamldoc_lookup(root, "ref", NULL);
	if (x != NULL)
		parse_ref(p, x);
	x = yamldoc_lookup(root, "path", NULL);
	if (x != NULL)
		parse_path(p, x);
	x = yamldoc_lookup(root, "environment", NULL);
	if (x != NULL)
		parse_environment(p, x);
	x = yamldoc_lookup(root, "interval", NULL);
	if (x != NULL)
		want_duration(p, x, "interval", CONFIG_INTERVAL_MIN, CONFIG_INTERVAL_MAX, false,
		    &c->interval);
	x = yamldoc_lookup(root, "jitter", NULL);
	if (x != NULL && want_number(p, x, "jitter", &d)) {
		if (d < 0 || d > CONFIG_JITTER_MAX)
			problem(
			    p, x, "jitter: %s is out of range (0..%g)", x->str, CONFIG_JITTER_MAX);
		else
			c->jitter = d;
	}
	x = yamldoc_lookup(root, "drift_interval", NULL);
	if (x != NULL)
		want_duration(p, x, "drift_interval", CONFIG_DRIFT_INTERVAL_MIN,
		    CONFIG_DRIFT_INTERVAL_MAX, true, &c->drift_interval);
	x = yamldoc_lookup(root, "region", NULL);
	if (x != NULL && want_text(p, x, "region")) {
		if (!names_region(x->str))
			problem(p, x, "region: %s is not a region name (such as us-east-1)",
			    yamldoc_shown(x, q, sizeof(q)));
		else
			c->region = xstrdup(x->str);
	}
	x = yamldoc_lookup(root, "endpoint", NULL);
	if (x != NULL && want_text(p, x, "endpoint")) {
		if (endpoint_url_parse(&u, x->str, &err) != 0) {
			problem(p, x, "%s", err.message);
		} else {
			url_clear(&u);
			c->endpoint = xstrdup(x->str);
		}
	}
	x = yamldoc_lookup(root, "state_dir", NULL);
	if (x != NULL && want_text(p, x, "state_dir")) {
		dir = resolve(p, x, "state_dir");
		if (dir != NULL) {
			free(c->state_dir);
			c->state_dir = dir;
		}
	}
	x = yamldoc_lookup(root, "listen", NULL);
	if (x != NULL)
		parse_listen(p, x);
	x = yamldoc_lookup(root, "concurrency", NULL);
	if (x != NULL && want_int(p, x, "concurrency", 1, CONFIG_CONCURRENCY_MAX, &n))
		c->concurrency = (int)n;
	x = yamldoc_lookup(root, "api_rps", NULL);
	if (x != NULL && want_number(p, x, "api_rps", &d)) {
		if (d <= 0 || d > CONFIG_API_RPS_MAX)
			problem(p, x, "api_rps: %s is out of range (0 < api_rps <= %g)", x->str,
			    CONFIG_API_RPS_MAX);
		else
			c->api_rps = d;
	}
	x = yamldoc_lookup(root, "log_format", NULL);
	if (x != NULL) {
		f = want_word(
		    p, x, "log_format", log_format_names, nitems(log_format_names), "text or json");
		if (f >= 0) {
			c->log_format = (enum config_log_format)f;
			c->has_log_format = true;
		}
	}
	x = yamldoc_lookup(root, "git", NULL);
	if (x != NULL)
		parse_git(p, x, repo_ok);
	x = yamldoc_lookup(root, "webhook", NULL);
	if (x != NULL)
		parse_webhook(p, x);
	x = yamldoc_lookup(root, "verify", NULL);
	if (x != NULL)
		parse_verify(p, x);
	x = yamldoc_lookup(root, "notify", NULL);
	if (x != NULL)
		parse_notify(p, x);
}

/* The config file's directory, absolute; NULL (reported) when the working directory is
 * not known. */
static char *
dir_of(const char *path, struct diags *diags)
{
	const char *slash = strrchr(path, '/');
	char cwd[PATH_MAX], *dir, *abs;

	if (slash == NULL)
		dir = xstrdup(".");
	else if (slash == path)
		dir = xstrdup("/");
	else
		dir = xstrndup(path, (size_t)(slash - path));
	if (dir[0] == '/') {
		abs = join_path("", dir);
	} else if (getcwd(cwd, sizeof(cwd)) == NULL) {
		diags_add(diags, DIAG_ERROR, "", 0, 0, "cannot find the working directory: %s",
		    strerror(errno));
		abs = NULL;
	} else {
		abs = join_path(cwd, dir);
	}
	free(dir);
	return abs;
}

/* The file, whole; -1 (reported) when it cannot be read or is too big. */
static int
read_config(const char *path, struct buf *out, struct diags *diags)
{
	struct stat st;
	int fd, rc = -1, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 && errno == ENOENT) {
		/* No file, no line to point at. */
		diags_add(diags, DIAG_ERROR, "", 0, 0, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (fd < 0) {
		diags_add(diags, DIAG_ERROR, path, 1, 1, "cannot open: %s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0) {
		diags_add(diags, DIAG_ERROR, path, 1, 1, "cannot stat: %s", strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		diags_add(diags, DIAG_ERROR, path, 1, 1, "not a regular file");
		goto out;
	}
	r = fdio_read_all(fd, out);
	if (r == ERR_TOOBIG) {
		diags_add(diags, DIAG_ERROR, path, 1, 1, "the file is over the limit of %d bytes",
		    CONFIG_FILE_MAX);
		goto out;
	}
	if (r != 0) {
		diags_add(diags, DIAG_ERROR, path, 1, 1, "cannot read: %s", strerror(errno));
		goto out;
	}
	rc = 0;
out:
	close(fd);
	return rc;
}

static void
set_defaults(struct config *c)
{
	c->path = xstrdup("");
	c->interval = CONFIG_INTERVAL_DEFAULT;
	c->jitter = CONFIG_JITTER_DEFAULT;
	c->drift_interval = CONFIG_DRIFT_INTERVAL_DEFAULT;
	c->state_dir = join_path(c->dir, CONFIG_STATE_DIR_DEFAULT);
	c->listen = xstrdup(CONFIG_LISTEN_DEFAULT);
	c->listen_loopback = true;
	c->concurrency = CONFIG_CONCURRENCY_DEFAULT;
	c->log_format = CONFIG_LOG_TEXT;
	c->git.username = xstrdup(CONFIG_GIT_USERNAME_DEFAULT);
	c->webhook.generic_header = xstrdup(CONFIG_WEBHOOK_HEADER_DEFAULT);
	c->webhook.max_body = CONFIG_WEBHOOK_BODY_DEFAULT;
	c->webhook.rate = CONFIG_WEBHOOK_RATE_DEFAULT;
	c->verify.mode = CONFIG_VERIFY_NONE;
}

int
config_parse(
    const char *path, const char *text, size_t len, struct config *out, struct diags *diags)
{
	const struct yamldoc_doc *doc;
	struct yamldoc *y = NULL;
	size_t before = diags->errors;
	struct parse p;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	memset(&p, 0, sizeof(p));
	p.c = out;
	p.path = path;
	p.diags = diags;
	out->file = xstrdup(path);
	out->dir = dir_of(path, diags);
	if (out->dir == NULL)
		goto out;
	set_defaults(out);
	if (len > CONFIG_FILE_MAX) {
		diags_add(diags, DIAG_ERROR, path, 1, 1, "the file is over the limit of %d bytes",
		    CONFIG_FILE_MAX);
		goto out;
	}
	if (yamldoc_parse(&y, text != NULL ? text : "", len, path, diags) != 0)
		goto out;
	if (yamldoc_count(y) > 1) {
		doc = yamldoc_get(y, 1);
		diags_add(diags, DIAG_ERROR, path, doc->line, doc->col,
		    "a second YAML document; the config is one mapping");
		goto out;
	}
	doc = yamldoc_count(y) == 1 ? yamldoc_get(y, 0) : NULL;
	if (doc == NULL || doc->root == NULL) {
		diags_add(diags, DIAG_ERROR, path, 1, 1,
		    "the config is empty; it needs at least repo: (the git repository)");
		goto out;
	}
	if (doc->root->kind != YAMLDOC_MAPPING) {
		diags_add(diags, DIAG_ERROR, path, doc->root->line, doc->root->col,
		    "the config must be a mapping of keys to values, got %s",
		    yamldoc_describe(doc->root));
		goto out;
	}
	parse_top(&p, doc->root);
	if (diags->errors == before)
		rc = 0;
out:
	yamldoc_free(y);
	if (rc != 0)
		config_free(out);
	return rc;
}

int
config_load(const char *path, struct config *out, struct diags *diags)
{
	struct buf text = BUF_INIT(CONFIG_FILE_MAX);
	int rc;

	memset(out, 0, sizeof(*out));
	if (read_config(path, &text, diags) != 0) {
		buf_free(&text);
		return -1;
	}
	rc = config_parse(path, text.data, text.len, out, diags);
	buf_free(&text);
	return rc;
}

void
config_free(struct config *c)
{
	size_t i;

	if (c == NULL)
		return;
	free(c->file);
	free(c->dir);
	free(c->repo);
	free(c->ref);
	free(c->path);
	free(c->environment);
	free(c->region);
	free(c->endpoint);
	free(c->state_dir);
	free(c->listen);
	free(c->git.ssh_key_file);
	free(c->git.known_hosts);
	secret_clear(&c->git.token);
	free(c->git.ca_file);
	free(c->git.username);
	secret_clear(&c->webhook.github);
	secret_clear(&c->webhook.gitlab);
	secret_clear(&c->webhook.generic);
	free(c->webhook.generic_header);
	free(c->verify.allowed_signers);
	for (i = 0; i < c->nnotify; i++)
		notify_clear(&c->notify[i]);
	free(c->notify);
	memset(c, 0, sizeof(*c));
}

/* Printing. */

/*
 * Whether s reads back as the same string when written plain in YAML (1.2 core schema, and
 * 1.1's yes/no/on/off for older readers): not a number, boolean or null, no indicator
 * first, no ": " or " #", no space at either end, printable ASCII only.
 */
static bool
plain_safe(const char *s)
{
	static const char *const words[] = {"true", "false", "null", "yes", "no", "on", "off", "y",
	    "n", "~", ".inf", "-.inf", "+.inf", ".nan"};
	size_t i, n = strlen(s);

	if (n == 0 || looks_number(s) || strchr("-?:,[]{}#&*!|>'\"%@`. ", s[0]) != NULL ||
	    s[n - 1] == ' ' || s[n - 1] == ':' || strstr(s, ": ") != NULL ||
	    strstr(s, " #") != NULL)
		return false;
	if (s[0] == '0' && (s[1] == 'o' || s[1] == 'x'))
		return false;
	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	}
	for (i = 0; i < nitems(words); i++) {
		if (strcasecmp(s, words[i]) == 0)
			return false;
	}
	return true;
}

static void
put_str(FILE *out, const char *s)
{
	struct buf b = BUF_INIT(64 * 1024);
	struct jsonw w;

	if (plain_safe(s)) {
		fputs(s, out);
		return;
	}
	jsonw_init(&w, &b);
	jsonw_string(&w, s);
	fputs(jsonw_failed(&w) ? "\"...\"" : buf_cstr(&b), out);
	buf_free(&b);
}

/* "key: value", or "key: (absent)" for NULL. */
static void
put_kv(FILE *out, const char *indent, const char *key, const char *value, const char *absent)
{
	fprintf(out, "%s%s: ", indent, key);
	if (value != NULL)
		put_str(out, value);
	else
		fprintf(out, "(%s)", absent);
	fputc('\n', out);
}

static void
put_secret(FILE *out, const char *indent, const char *key, const struct config_secret *s,
    const char *absent)
{
	fprintf(out, "%s%s: ", indent, key);
	switch (s->source) {
	case CONFIG_SECRET_FILE:
		fputs("file ", out);
		put_str(out, s->name);
		break;
	case CONFIG_SECRET_ENV:
		fprintf(out, "env %s", s->name);
		break;
	case CONFIG_SECRET_NONE:
	default:
		fprintf(out, "(%s)", absent);
		break;
	}
	fputc('\n', out);
}

/* scheme://authority, with any path or query shown as "/" and three stars: they may
 * carry a token. */
static void
put_url_redacted(FILE *out, const char *url)
{
	const char *auth = strstr(url, "://"), *rest;

	if (auth == NULL) {
		fputs("***", out);
		return;
	}
	rest = auth + 3 + strcspn(auth + 3, "/?");
	fprintf(out, "%.*s", (int)(rest - url), url);
	if (rest[0] == '\0' || strcmp(rest, "/") == 0)
		fputs(rest, out);
	else
		fputs("/***", out);
}

void
config_print(const struct config *c, FILE *out)
{
	const struct config_notify *n;
	char buf[32];
	size_t i;
	int e;
	bool first;

	put_kv(out, "", "repo", c->repo, "none");
	put_kv(out, "", "ref", c->ref, "the remote's HEAD");
	put_kv(out, "", "path", c->path[0] != '\0' ? c->path : NULL, "the repository's root");
	put_kv(out, "", "environment", c->environment, "none");
	fprintf(out, "interval: %s\n", fmt_duration((long)c->interval, buf, sizeof(buf)));
	fprintf(out, "jitter: %g\n", c->jitter);
	if (c->drift_interval > 0)
		fprintf(out, "drift_interval: %s\n",
		    fmt_duration((long)c->drift_interval, buf, sizeof(buf)));
	else
		fputs("drift_interval: off\n", out);
	put_kv(out, "", "region", c->region, "AWS_REGION, AWS_DEFAULT_REGION or the profile");
	put_kv(out, "", "endpoint", c->endpoint,
	    "AWS_ENDPOINT_URL_LAMBDA, AWS_ENDPOINT_URL, the profile or the default");
	put_kv(out, "", "state_dir", c->state_dir, "none");
	put_kv(out, "", "listen", c->listen, "none");
	fprintf(out, "concurrency: %d\n", c->concurrency);
	if (c->api_rps > 0)
		fprintf(out, "api_rps: %g\n", c->api_rps);
	else
		fputs("api_rps: (no cap)\n", out);
	fprintf(out, "log_format: %s\n", log_format_names[c->log_format]);
	fputs("git:\n", out);
	put_kv(out, "  ", "ssh_key_file", c->git.ssh_key_file, "the SSH agent");
	put_kv(out, "  ", "known_hosts", c->git.known_hosts, "~/.ssh/known_hosts");
	put_secret(out, "  ", "token", &c->git.token, "none");
	put_kv(out, "  ", "ca_file", c->git.ca_file, "the system's");
	put_kv(out, "  ", "username", c->git.username, "none");
	fputs("webhook:\n", out);
	put_secret(out, "  ", "github_secret", &c->webhook.github, "none: /hooks/github is off");
	put_secret(out, "  ", "gitlab_token", &c->webhook.gitlab, "none: /hooks/gitlab is off");
	put_secret(out, "  ", "generic_secret", &c->webhook.generic, "none: /hooks/generic is off");
	put_kv(out, "  ", "generic_header", c->webhook.generic_header, "none");
	if (c->webhook.max_body % (1024 * 1024) == 0)
		fprintf(out, "  max_body: %zuMiB\n", c->webhook.max_body / (1024 * 1024));
	else if (c->webhook.max_body % 1024 == 0)
		fprintf(out, "  max_body: %zuKiB\n", c->webhook.max_body / 1024);
	else
		fprintf(out, "  max_body: %zu\n", c->webhook.max_body);
	fprintf(out, "  rate: %d\n", c->webhook.rate);
	fputs("verify:\n", out);
	if (c->verify.mode == CONFIG_VERIFY_SSH) {
		fputs("  mode: ssh\n", out);
		put_kv(out, "  ", "allowed_signers", c->verify.allowed_signers, "none");
	} else {
		fputs("  mode: none\n", out);
	}
	if (c->nnotify == 0)
		fputs("notify: []\n", out);
	else
		fputs("notify:\n", out);
	for (i = 0; i < c->nnotify; i++) {
		n = &c->notify[i];
		if (n->url != NULL) {
			fputs("  - url: ", out);
			put_url_redacted(out, n->url);
			fputc('\n', out);
		} else {
			put_secret(out, "  - ", "url", &n->url_secret, "none");
		}
		fprintf(out, "    kind: %s\n", notify_kind_names[n->kind]);
		fputs("    events: [", out);
		first = true;
		for (e = 0; e < CONFIG_EVENT_COUNT; e++) {
			if ((n->events & (1u << e)) == 0)
				continue;
			fprintf(out, "%s%s", first ? "" : ", ", config_event_names[e]);
			first = false;
		}
		fputs("]\n", out);
		if (n->kind == CONFIG_NOTIFY_GENERIC)
			put_secret(out, "    ", "secret", &n->secret, "none: unsigned");
	}
}

int
config_check(const char *path, bool print, FILE *out)
{
	struct diags d = DIAGS_INIT;
	struct config c;
	int rc;

	rc = config_load(path, &c, &d);
	diags_sort(&d);
	diags_print(&d, out);
	if (rc == 0 && print)
		config_print(&c, out);
	if (rc == 0) {
		fprintf(out, "valid: %s", path);
		if (d.warnings > 0)
			fprintf(out, ", %zu warning%s", d.warnings, d.warnings == 1 ? "" : "s");
		fputc('\n', out);
	} else {
		fprintf(out, "invalid: %zu error%s, %zu warning%s\n", d.errors,
		    d.errors == 1 ? "" : "s", d.warnings, d.warnings == 1 ? "" : "s");
	}
	config_free(&c);
	diags_free(&d);
	return rc;
}
