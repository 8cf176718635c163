#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/xmalloc.h"
#include "reconcile/observed.h"

/* Largest observed.json accepted by observed_load_json(), and most functions in it. */
#define OBSERVED_JSON_MAX (256 * 1024 * 1024)
#define OBSERVED_PATH_MAX 160

void
obs_latest_clear(struct obs_latest *l)
{
	size_t i;

	free(l->package_type);
	free(l->image_uri);
	free(l->resolved_image_uri);
	free(l->code_sha256);
	for (i = 0; i < l->nlayers; i++)
		free(l->layers[i]);
	free(l->layers);
	for (i = 0; i < l->nenvironment; i++) {
		free(l->environment[i].key);
		free(l->environment[i].value);
	}
	free(l->environment);
	free(l->description);
	free(l->role);
	free(l->handler);
	free(l->runtime);
	free(l->state);
	free(l->state_reason);
	free(l->last_update_status);
	free(l->last_update_status_reason);
	free(l->revision_id);
	memset(l, 0, sizeof(*l));
}

static void
strv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
obs_function_clear(struct obs_function *f)
{
	size_t i;

	if (f == NULL)
		return;
	free(f->name);
	free(f->region);
	free(f->arn);
	free(f->account);
	obs_latest_clear(&f->latest);
	for (i = 0; i < f->nversions; i++) {
		free(f->versions[i].description);
		free(f->versions[i].code_sha256);
	}
	free(f->versions);
	for (i = 0; i < f->naliases; i++) {
		free(f->aliases[i].name);
		free(f->aliases[i].version);
		free(f->aliases[i].routing_version);
		free(f->aliases[i].description);
		free(f->aliases[i].revision_id);
	}
	free(f->aliases);
	strv_free(f->esm_targets, f->nesm_targets);
	strv_free(f->pc_targets, f->npc_targets);
	strv_free(f->quarantined, f->nquarantined);
	free(f->staged_s3);
	free(f->staged_code_sha256);
	memset(f, 0, sizeof(*f));
}

static char *
dup_opt(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

static char **
strv_copy(char *const *v, size_t n)
{
	char **out;
	size_t i;

	if (n == 0)
		return NULL;
	out = xcalloc(n, sizeof(*out));
	for (i = 0; i < n; i++)
		out[i] = xstrdup(v[i]);
	return out;
}

void
obs_function_copy(struct obs_function *dst, const struct obs_function *src)
{
	const struct obs_latest *sl = &src->latest;
	struct obs_latest *dl = &dst->latest;
	size_t i;

	*dst = *src;
	dst->name = dup_opt(src->name);
	dst->region = dup_opt(src->region);
	dst->arn = dup_opt(src->arn);
	dst->account = dup_opt(src->account);

	dl->package_type = dup_opt(sl->package_type);
	dl->image_uri = dup_opt(sl->image_uri);
	dl->resolved_image_uri = dup_opt(sl->resolved_image_uri);
	dl->code_sha256 = dup_opt(sl->code_sha256);
	dl->layers = strv_copy(sl->layers, sl->nlayers);
	dl->environment = NULL;
	if (sl->nenvironment > 0) {
		dl->environment = xcalloc(sl->nenvironment, sizeof(*dl->environment));
		for (i = 0; i < sl->nenvironment; i++) {
			dl->environment[i].key = xstrdup(sl->environment[i].key);
			dl->environment[i].value = xstrdup(sl->environment[i].value);
		}
	}
	dl->description = dup_opt(sl->description);
	dl->role = dup_opt(sl->role);
	dl->handler = dup_opt(sl->handler);
	dl->runtime = dup_opt(sl->runtime);
	dl->state = dup_opt(sl->state);
	dl->state_reason = dup_opt(sl->state_reason);
	dl->last_update_status = dup_opt(sl->last_update_status);
	dl->last_update_status_reason = dup_opt(sl->last_update_status_reason);
	dl->revision_id = dup_opt(sl->revision_id);

	dst->versions = NULL;
	if (src->nversions > 0) {
		dst->versions = xcalloc(src->nversions, sizeof(*dst->versions));
		for (i = 0; i < src->nversions; i++) {
			dst->versions[i] = src->versions[i];
			dst->versions[i].description = dup_opt(src->versions[i].description);
			dst->versions[i].code_sha256 = dup_opt(src->versions[i].code_sha256);
		}
	}
	dst->aliases = NULL;
	if (src->naliases > 0) {
		dst->aliases = xcalloc(src->naliases, sizeof(*dst->aliases));
		for (i = 0; i < src->naliases; i++) {
			dst->aliases[i] = src->aliases[i];
			dst->aliases[i].name = dup_opt(src->aliases[i].name);
			dst->aliases[i].version = dup_opt(src->aliases[i].version);
			dst->aliases[i].routing_version = dup_opt(src->aliases[i].routing_version);
			dst->aliases[i].description = dup_opt(src->aliases[i].description);
			dst->aliases[i].revision_id = dup_opt(src->aliases[i].revision_id);
		}
	}
	dst->esm_targets = strv_copy(src->esm_targets, src->nesm_targets);
	dst->pc_targets = strv_copy(src->pc_targets, src->npc_targets);
	dst->quarantined = strv_copy(src->quarantined, src->nquarantined);
	dst->staged_s3 = dup_opt(src->staged_s3);
	dst->staged_code_sha256 = dup_opt(src->staged_code_sha256);
}

const struct obs_version *
obs_version_find(const struct obs_function *f, long number)
{
	size_t lo = 0, hi = f->nversions, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (f->versions[mid].number == number)
			return &f->versions[mid];
		if (f->versions[mid].number < number)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct obs_version *
obs_version_with_digest(const struct obs_function *f, const char *digest)
{
	size_t i;

	if (digest == NULL || strlen(digest) < SPEC_DIGEST_SHORT)
		return NULL;
	for (i = f->nversions; i > 0; i--) {
		if (f->versions[i - 1].digest[0] != '\0' &&
		    strncmp(f->versions[i - 1].digest, digest, SPEC_DIGEST_SHORT) == 0)
			return &f->versions[i - 1];
	}
	return NULL;
}

bool
obs_quarantined(const struct obs_function *f, const char *digest)
{
	size_t i, len;

	if (digest == NULL)
		return false;
	for (i = 0; i < f->nquarantined; i++) {
		len = strlen(f->quarantined[i]);
		if (strlen(digest) < len)
			len = strlen(digest);
		if (len >= SPEC_DIGEST_SHORT && strncmp(f->quarantined[i], digest, len) == 0)
			return true;
	}
	return false;
}

static bool
is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* n lower-case hex characters at s. */
static bool
hex_run(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!is_lower_hex(s[i]))
			return false;
	}
	return true;
}

/* A decimal number of at most 15 digits at *p (advanced past it). */
static bool
number(const char **p, long *out)
{
	const char *s = *p;
	long v = 0;
	int n = 0;

	while (*s >= '0' && *s <= '9') {
		if (++n > 15)
			return false;
		v = v * 10 + (*s - '0');
		s++;
	}
	if (n == 0)
		return false;
	*p = s;
	*out = v;
	return true;
}

bool
obs_parse_version_mark(const char *description, char digest[SPEC_DIGEST_SHORT + 1], char commit[13])
{
	const char *p = description, *c;
	size_t n;

	digest[0] = '\0';
	commit[0] = '\0';
	if (p == NULL || strncmp(p, OBS_VERSION_MARK, strlen(OBS_VERSION_MARK)) != 0)
		return false;
	p += strlen(OBS_VERSION_MARK);
	if (!hex_run(p, SPEC_DIGEST_SHORT) || strncmp(p + SPEC_DIGEST_SHORT, " c=", 3) != 0)
		return false;
	c = p + SPEC_DIGEST_SHORT + 3;
	if (c[0] == '-') {
		n = 1;
	} else {
		for (n = 0; is_lower_hex(c[n]); n++)
			;
		if (n < 4 || n > 40)
			return false;
	}
	/* Then the end, or one space and a ref. */
	if (c[n] != '\0' && (c[n] != ' ' || c[n + 1] == '\0'))
		return false;
	memcpy(digest, p, SPEC_DIGEST_SHORT);
	digest[SPEC_DIGEST_SHORT] = '\0';
	if (c[0] != '-') {
		if (n > 12)
			n = 12;
		memcpy(commit, c, n);
		commit[n] = '\0';
	}
	return true;
}

bool
obs_parse_canary(const char *description, struct obs_canary *out)
{
	const char *p = description;
	struct obs_canary c;
	long step, nsteps;

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	if (p == NULL || strncmp(p, OBS_CANARY_MARK "d=", strlen(OBS_CANARY_MARK "d=")) != 0)
		return false;
	p += strlen(OBS_CANARY_MARK "d=");
	if (!hex_run(p, SPEC_DIGEST_SHORT))
		return false;
	memcpy(c.digest, p, SPEC_DIGEST_SHORT);
	p += SPEC_DIGEST_SHORT;
	if (strncmp(p, " step=", 6) != 0)
		return false;
	p += 6;
	if (!number(&p, &step) || *p++ != '/' || !number(&p, &nsteps))
		return false;
	if (nsteps < 1 || nsteps > SPEC_CANARY_STEPS_MAX || step < 1 || step > nsteps)
		return false;
	if (strncmp(p, " at=", 4) != 0)
		return false;
	p += 4;
	if (!number(&p, &c.started))
		return false;
	if (strncmp(p, " stable=", 8) != 0)
		return false;
	p += 8;
	if (!number(&p, &c.stable) || c.stable < 1 || *p != '\0')
		return false;
	c.step = (int)step;
	c.nsteps = (int)nsteps;
	*out = c;
	return true;
}

char *
obs_format_version_mark(const char *digest, const char *commit, const char *ref)
{
	char *s;
	int room;

	if (commit == NULL || commit[0] == '\0')
		commit = "-";
	/* "tether d=<12> c=<12> " is at most 37 characters; the ref gets the rest. */
	room = OBS_DESCRIPTION_MAX - 37;
	if (ref == NULL || ref[0] == '\0')
		s = xasprintf(OBS_VERSION_MARK "%.12s c=%.12s", digest, commit);
	else
		s = xasprintf(OBS_VERSION_MARK "%.12s c=%.12s %.*s", digest, commit, room, ref);
	return s;
}

char *
obs_format_canary(const struct obs_canary *c)
{
	return xasprintf(OBS_CANARY_MARK "d=%.12s step=%d/%d at=%ld stable=%ld", c->digest, c->step,
	    c->nsteps, c->started, c->stable);
}

char *
obs_format_s3(const struct spec_code *code)
{
	if (code->s3_object_version != NULL)
		return xasprintf("s3://%s/%s?versionId=%s", code->s3_bucket, code->s3_key,
		    code->s3_object_version);
	return xasprintf("s3://%s/%s", code->s3_bucket, code->s3_key);
}

/*
 * observed.json, strictly: every member has one type, unknown members are errors, and every
 * error names its JSON path ("functions[2].aliases[0].routing").
 */

struct jpath {
	char s[OBSERVED_PATH_MAX];
};

/* A path too deep for the buffer (hardly possible) ends in "...". */
static void
path_check(struct jpath *p, int n)
{
	if (n < 0 || (size_t)n >= sizeof(p->s))
		memcpy(p->s + sizeof(p->s) - 4, "...", 4);
}

static void
path_key(struct jpath *out, const struct jpath *base, const char *key)
{
	path_check(out, snprintf(out->s, sizeof(out->s), "%s%s%s", base->s,
	                    base->s[0] != '\0' ? "." : "", key));
}

static void
path_index(struct jpath *out, const struct jpath *base, size_t i)
{
	path_check(out, snprintf(out->s, sizeof(out->s), "%s[%zu]", base->s, i));
}

static int
type_error(const struct jpath *p, const char *want, struct err *err)
{
	return err_set(err, ERR_INVALID, "%s: expected %s", p->s[0] != '\0' ? p->s : "(top)", want);
}

static int
check_keys(json_t *obj, const struct jpath *p, const char *const *allowed, struct err *err)
{
	const char *key;
	json_t *v;
	size_t i;

	json_object_foreach(obj, key, v)
	{
		for (i = 0; allowed[i] != NULL; i++) {
			if (strcmp(allowed[i], key) == 0)
				break;
		}
		if (allowed[i] == NULL) {
			(void)v;
			return err_set(err, ERR_INVALID, "%s%s%s: unknown member", p->s,
			    p->s[0] != '\0' ? "." : "", key);
		}
	}
	return 0;
}

/* An optional string member (null counts as absent). */
static int
get_str(
    json_t *obj, const struct jpath *p, const char *key, bool required, char **out, struct err *err)
{
	struct jpath kp;
	json_t *v = json_object_get(obj, key);

	path_key(&kp, p, key);
	*out = NULL;
	if (v == NULL || json_is_null(v)) {
		if (required)
			return err_set(err, ERR_INVALID, "%s: missing", kp.s);
		return 0;
	}
	if (!json_is_string(v))
		return type_error(&kp, "a string", err);
	*out = xstrndup(json_string_value(v), json_string_length(v));
	if (strlen(*out) != json_string_length(v))
		return err_set(err, ERR_INVALID, "%s: NUL in a string", kp.s);
	return 0;
}

static int
get_long(json_t *obj, const struct jpath *p, const char *key, long *out, struct err *err)
{
	struct jpath kp;
	json_t *v = json_object_get(obj, key);

	if (v == NULL || json_is_null(v))
		return 0;
	path_key(&kp, p, key);
	if (!json_is_integer(v))
		return type_error(&kp, "an integer", err);
	*out = (long)json_integer_value(v);
	return 0;
}

static int
get_bool(json_t *obj, const struct jpath *p, const char *key, bool *out, struct err *err)
{
	struct jpath kp;
	json_t *v = json_object_get(obj, key);

	if (v == NULL || json_is_null(v))
		return 0;
	path_key(&kp, p, key);
	if (!json_is_boolean(v))
		return type_error(&kp, "true or false", err);
	*out = json_is_true(v);
	return 0;
}

/* An array of strings; absent or null leaves out empty. */
static int
get_strv(
    json_t *obj, const struct jpath *p, const char *key, char ***out, size_t *n, struct err *err)
{
	struct jpath kp, ip;
	json_t *v = json_object_get(obj, key), *e;
	size_t i;

	*out = NULL;
	*n = 0;
	if (v == NULL || json_is_null(v))
		return 0;
	path_key(&kp, p, key);
	if (!json_is_array(v))
		return type_error(&kp, "an array of strings", err);
	if (json_array_size(v) == 0)
		return 0;
	*out = xcalloc(json_array_size(v), sizeof(**out));
	json_array_foreach(v, i, e)
	{
		if (!json_is_string(e)) {
			path_index(&ip, &kp, i);
			return type_error(&ip, "a string", err);
		}
		(*out)[i] = xstrdup(json_string_value(e));
		(*n)++;
	}
	return 0;
}

static int
kv_cmp(const void *a, const void *b)
{
	return strcmp(((const struct spec_kv *)a)->key, ((const struct spec_kv *)b)->key);
}

static int
load_latest(json_t *o, const struct jpath *p, struct obs_latest *l, struct err *err)
{
	static const char *const keys[] = {"package_type", "image_uri", "resolved_image_uri",
	    "code_sha256", "layers", "memory", "timeout", "environment", "description", "role",
	    "handler", "runtime", "state", "state_reason", "last_update_status",
	    "last_update_status_reason", "revision_id", NULL};
	struct jpath kp, ep;
	const char *key;
	json_t *env, *v;
	size_t i;
	int rc;

	if (!json_is_object(o))
		return type_error(p, "an object", err);
	if ((rc = check_keys(o, p, keys, err)) != 0)
		return rc;
	if ((rc = get_str(o, p, "package_type", false, &l->package_type, err)) != 0 ||
	    (rc = get_str(o, p, "image_uri", false, &l->image_uri, err)) != 0 ||
	    (rc = get_str(o, p, "resolved_image_uri", false, &l->resolved_image_uri, err)) != 0 ||
	    (rc = get_str(o, p, "code_sha256", false, &l->code_sha256, err)) != 0 ||
	    (rc = get_strv(o, p, "layers", &l->layers, &l->nlayers, err)) != 0 ||
	    (rc = get_long(o, p, "memory", &l->memory, err)) != 0 ||
	    (rc = get_long(o, p, "timeout", &l->timeout, err)) != 0 ||
	    (rc = get_str(o, p, "description", false, &l->description, err)) != 0 ||
	    (rc = get_str(o, p, "role", false, &l->role, err)) != 0 ||
	    (rc = get_str(o, p, "handler", false, &l->handler, err)) != 0 ||
	    (rc = get_str(o, p, "runtime", false, &l->runtime, err)) != 0 ||
	    (rc = get_str(o, p, "state", false, &l->state, err)) != 0 ||
	    (rc = get_str(o, p, "state_reason", false, &l->state_reason, err)) != 0 ||
	    (rc = get_str(o, p, "last_update_status", false, &l->last_update_status, err)) != 0 ||
	    (rc = get_str(o, p, "last_update_status_reason", false, &l->last_update_status_reason,
	         err)) != 0 ||
	    (rc = get_str(o, p, "revision_id", false, &l->revision_id, err)) != 0)
		return rc;
	if (l->package_type != NULL && strcmp(l->package_type, "Image") != 0 &&
	    strcmp(l->package_type, "Zip") != 0) {
		path_key(&kp, p, "package_type");
		return type_error(&kp, "\"Image\" or \"Zip\"", err);
	}
	env = json_object_get(o, "environment");
	if (env != NULL && !json_is_null(env)) {
		path_key(&kp, p, "environment");
		if (!json_is_object(env))
			return type_error(&kp, "an object of strings", err);
		if (json_object_size(env) > 0)
			l->environment = xcalloc(json_object_size(env), sizeof(*l->environment));
		i = 0;
		json_object_foreach(env, key, v)
		{
			if (!json_is_string(v)) {
				path_key(&ep, &kp, key);
				return type_error(&ep, "a string", err);
			}
			l->environment[i].key = xstrdup(key);
			l->environment[i].value = xstrdup(json_string_value(v));
			l->nenvironment = ++i;
		}
		if (l->nenvironment > 1)
			qsort(l->environment, l->nenvironment, sizeof(*l->environment), kv_cmp);
	}
	return 0;
}

static int
version_cmp(const void *a, const void *b)
{
	long x = ((const struct obs_version *)a)->number;
	long y = ((const struct obs_version *)b)->number;

	return (x > y) - (x < y);
}

static int
load_versions(json_t *arr, const struct jpath *p, struct obs_function *f, struct err *err)
{
	static const char *const keys[] = {"number", "description", "code_sha256", NULL};
	struct jpath ip, kp;
	struct obs_version *v;
	json_t *o;
	size_t i;
	int rc;

	if (!json_is_array(arr))
		return type_error(p, "an array of versions", err);
	if (json_array_size(arr) > 0)
		f->versions = xcalloc(json_array_size(arr), sizeof(*f->versions));
	json_array_foreach(arr, i, o)
	{
		path_index(&ip, p, i);
		if (!json_is_object(o))
			return type_error(&ip, "an object", err);
		v = &f->versions[f->nversions++];
		if ((rc = check_keys(o, &ip, keys, err)) != 0)
			return rc;
		if (json_object_get(o, "number") == NULL) {
			path_key(&kp, &ip, "number");
			return err_set(err, ERR_INVALID, "%s: missing", kp.s);
		}
		if ((rc = get_long(o, &ip, "number", &v->number, err)) != 0 ||
		    (rc = get_str(o, &ip, "description", false, &v->description, err)) != 0 ||
		    (rc = get_str(o, &ip, "code_sha256", false, &v->code_sha256, err)) != 0)
			return rc;
		if (v->number < 1) {
			path_key(&kp, &ip, "number");
			return type_error(&kp, "a version number >= 1", err);
		}
		(void)obs_parse_version_mark(v->description, v->digest, v->commit);
	}
	if (f->nversions > 1)
		qsort(f->versions, f->nversions, sizeof(*f->versions), version_cmp);
	for (i = 1; i < f->nversions; i++) {
		if (f->versions[i].number == f->versions[i - 1].number)
			return err_set(err, ERR_INVALID, "%s: version %ld listed twice", p->s,
			    f->versions[i].number);
	}
	return 0;
}

static bool
is_version_name(const char *s)
{
	size_t i;

	if (strcmp(s, "$LATEST") == 0)
		return true;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
	}
	return i > 0 && s[0] != '0';
}

static int
alias_cmp(const void *a, const void *b)
{
	return strcmp(((const struct obs_alias *)a)->name, ((const struct obs_alias *)b)->name);
}

void
obs_sort(struct obs_function *f)
{
	if (f->nversions > 1)
		qsort(f->versions, f->nversions, sizeof(*f->versions), version_cmp);
	if (f->naliases > 1)
		qsort(f->aliases, f->naliases, sizeof(*f->aliases), alias_cmp);
}

static int
load_aliases(json_t *arr, const struct jpath *p, struct obs_function *f, struct err *err)
{
	static const char *const keys[] = {
	    "name", "version", "routing", "description", "revision_id", NULL};
	struct jpath ip, kp, rp;
	struct obs_alias *a;
	const char *key;
	json_t *o, *r, *w;
	size_t i;
	int rc;

	if (!json_is_array(arr))
		return type_error(p, "an array of aliases", err);
	if (json_array_size(arr) > 0)
		f->aliases = xcalloc(json_array_size(arr), sizeof(*f->aliases));
	json_array_foreach(arr, i, o)
	{
		path_index(&ip, p, i);
		if (!json_is_object(o))
			return type_error(&ip, "an object", err);
		a = &f->aliases[f->naliases++];
		if ((rc = check_keys(o, &ip, keys, err)) != 0 ||
		    (rc = get_str(o, &ip, "name", true, &a->name, err)) != 0 ||
		    (rc = get_str(o, &ip, "version", true, &a->version, err)) != 0 ||
		    (rc = get_str(o, &ip, "description", false, &a->description, err)) != 0 ||
		    (rc = get_str(o, &ip, "revision_id", false, &a->revision_id, err)) != 0)
			return rc;
		if (!is_version_name(a->version)) {
			path_key(&kp, &ip, "version");
			return type_error(&kp, "a version number or \"$LATEST\"", err);
		}
		r = json_object_get(o, "routing");
		path_key(&rp, &ip, "routing");
		if (r != NULL && !json_is_null(r)) {
			if (!json_is_object(r))
				return type_error(&rp, "an object {\"<version>\": weight}", err);
			if (json_object_size(r) > 1)
				return err_set(
				    err, ERR_INVALID, "%s: at most one additional version", rp.s);
			json_object_foreach(r, key, w)
			{
				path_key(&kp, &rp, key);
				if (!is_version_name(key) || strcmp(key, "$LATEST") == 0)
					return type_error(&kp, "a version number as the key", err);
				if (!json_is_number(w) || json_number_value(w) < 0.0 ||
				    json_number_value(w) > 1.0)
					return type_error(&kp, "a weight between 0 and 1", err);
				a->routing_version = xstrdup(key);
				a->routing_weight = json_number_value(w);
			}
		}
		a->has_canary = obs_parse_canary(a->description, &a->canary);
	}
	if (f->naliases > 1)
		qsort(f->aliases, f->naliases, sizeof(*f->aliases), alias_cmp);
	for (i = 1; i < f->naliases; i++) {
		if (strcmp(f->aliases[i].name, f->aliases[i - 1].name) == 0)
			return err_set(err, ERR_INVALID, "%s: alias %s listed twice", p->s,
			    f->aliases[i].name);
	}
	return 0;
}

/* "arn:<partition>:lambda:<region>:<account>:function:<name>[:<qualifier>]" */
static bool
parse_function_arn(const char *arn, char **region, char **account, char **name)
{
	const char *f[7];
	const char *p = arn;
	size_t n = 0, len;

	if (strncmp(arn, "arn:", 4) != 0)
		return false;
	while (n < nitems(f)) {
		f[n++] = p;
		p = strchr(p, ':');
		if (p == NULL)
			break;
		p++;
	}
	if (n < 7 || strncmp(f[2], "lambda:", 7) != 0 || strncmp(f[5], "function:", 9) != 0)
		return false;
	len = (size_t)(f[4] - f[3]) - 1;
	if (len == 0 || f[5] - f[4] - 1 != 12)
		return false;
	*region = xstrndup(f[3], len);
	*account = xstrndup(f[4], 12);
	p = strchr(f[6], ':');
	*name = p != NULL ? xstrndup(f[6], (size_t)(p - f[6])) : xstrdup(f[6]);
	return true;
}

static int
load_function(json_t *o, const struct jpath *p, struct obs_function *f, struct err *err)
{
	static const char *const keys[] = {"name", "region", "exists", "arn", "account", "latest",
	    "versions", "versions_listed", "aliases", "esm", "pc", "refs_listed", "quarantined",
	    "staged", NULL};
	static const char *const staged_keys[] = {"s3", "code_sha256", NULL};
	char *region = NULL, *account = NULL, *name = NULL;
	struct jpath kp;
	json_t *v;
	int rc;

	if (!json_is_object(o))
		return type_error(p, "an object", err);
	f->exists = true;
	f->versions_listed = true;
	f->refs_listed = true;
	if ((rc = check_keys(o, p, keys, err)) != 0 ||
	    (rc = get_str(o, p, "name", true, &f->name, err)) != 0 ||
	    (rc = get_str(o, p, "region", false, &f->region, err)) != 0 ||
	    (rc = get_bool(o, p, "exists", &f->exists, err)) != 0 ||
	    (rc = get_str(o, p, "arn", false, &f->arn, err)) != 0 ||
	    (rc = get_str(o, p, "account", false, &f->account, err)) != 0 ||
	    (rc = get_bool(o, p, "versions_listed", &f->versions_listed, err)) != 0 ||
	    (rc = get_bool(o, p, "refs_listed", &f->refs_listed, err)) != 0 ||
	    (rc = get_strv(o, p, "esm", &f->esm_targets, &f->nesm_targets, err)) != 0 ||
	    (rc = get_strv(o, p, "pc", &f->pc_targets, &f->npc_targets, err)) != 0 ||
	    (rc = get_strv(o, p, "quarantined", &f->quarantined, &f->nquarantined, err)) != 0)
		return rc;
	if (f->arn != NULL) {
		path_key(&kp, p, "arn");
		if (!parse_function_arn(f->arn, &region, &account, &name))
			return type_error(&kp, "a function ARN", err);
		if (strcmp(name, f->name) != 0 ||
		    (f->region != NULL && strcmp(region, f->region) != 0) ||
		    (f->account != NULL && strcmp(account, f->account) != 0))
			rc = err_set(err, ERR_INVALID,
			    "%s: does not match the name, region or account", kp.s);
		if (f->region == NULL) {
			f->region = region;
			region = NULL;
		}
		if (f->account == NULL) {
			f->account = account;
			account = NULL;
		}
		free(region);
		free(account);
		free(name);
		if (rc != 0)
			return rc;
	}
	if (f->region == NULL)
		return err_set(err, ERR_INVALID, "%s%sregion: missing (or give arn)", p->s,
		    p->s[0] != '\0' ? "." : "");
	if (f->account != NULL &&
	    (strlen(f->account) != 12 || strspn(f->account, "0123456789") != 12)) {
		path_key(&kp, p, "account");
		return type_error(&kp, "12 digits", err);
	}
	if (f->arn == NULL && f->account != NULL)
		f->arn =
		    xasprintf("arn:aws:lambda:%s:%s:function:%s", f->region, f->account, f->name);

	v = json_object_get(o, "latest");
	path_key(&kp, p, "latest");
	if (v != NULL && !json_is_null(v)) {
		if ((rc = load_latest(v, &kp, &f->latest, err)) != 0)
			return rc;
	}
	v = json_object_get(o, "versions");
	path_key(&kp, p, "versions");
	if (v != NULL && !json_is_null(v)) {
		if ((rc = load_versions(v, &kp, f, err)) != 0)
			return rc;
	}
	v = json_object_get(o, "aliases");
	path_key(&kp, p, "aliases");
	if (v != NULL && !json_is_null(v)) {
		if ((rc = load_aliases(v, &kp, f, err)) != 0)
			return rc;
	}
	v = json_object_get(o, "staged");
	path_key(&kp, p, "staged");
	if (v != NULL && !json_is_null(v)) {
		if (!json_is_object(v))
			return type_error(&kp, "an object", err);
		if ((rc = check_keys(v, &kp, staged_keys, err)) != 0 ||
		    (rc = get_str(v, &kp, "s3", false, &f->staged_s3, err)) != 0 ||
		    (rc = get_str(v, &kp, "code_sha256", false, &f->staged_code_sha256, err)) != 0)
			return rc;
	}
	if (!f->exists && (f->nversions > 0 || f->naliases > 0))
		return err_set(err, ERR_INVALID,
		    "%s: a function that does not exist has no versions or aliases", p->s);
	return 0;
}

static int
function_ptr_cmp(const void *a, const void *b)
{
	const struct obs_function *x = *(const struct obs_function *const *)a;
	const struct obs_function *y = *(const struct obs_function *const *)b;
	int c = strcmp(x->region, y->region);

	return c != 0 ? c : strcmp(x->name, y->name);
}

int
observed_load_json(
    const char *json, size_t len, struct obs_function **out, size_t *n, struct err *err)
{
	static const char *const keys[] = {"ctx", "functions", NULL};
	struct obs_function *fns = NULL;
	struct jpath top = {""}, fp, ip;
	json_error_t jerr;
	struct obs_function **byname = NULL;
	json_t *root = NULL, *arr, *o;
	size_t i, count = 0;
	int rc = 0;

	*out = NULL;
	*n = 0;
	if (len > OBSERVED_JSON_MAX)
		return err_set(err, ERR_TOOBIG, "observed state over %d bytes", OBSERVED_JSON_MAX);
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return err_set(
		    err, ERR_INVALID, "line %d column %d: %s", jerr.line, jerr.column, jerr.text);
	if (!json_is_object(root)) {
		rc = type_error(&top, "an object", err);
		goto out;
	}
	if ((rc = check_keys(root, &top, keys, err)) != 0)
		goto out;
	arr = json_object_get(root, "functions");
	path_key(&fp, &top, "functions");
	if (arr == NULL || !json_is_array(arr)) {
		rc = type_error(&fp, "an array of functions", err);
		goto out;
	}
	if (json_array_size(arr) > 0)
		fns = xcalloc(json_array_size(arr), sizeof(*fns));
	json_array_foreach(arr, i, o)
	{
		path_index(&ip, &fp, i);
		count++;
		if ((rc = load_function(o, &ip, &fns[i], err)) != 0)
			goto out;
	}
	if (count > 1) {
		byname = xcalloc(count, sizeof(*byname));
		for (i = 0; i < count; i++)
			byname[i] = &fns[i];
		qsort(byname, count, sizeof(*byname), function_ptr_cmp);
		for (i = 1; i < count; i++) {
			if (function_ptr_cmp(&byname[i - 1], &byname[i]) == 0) {
				rc = err_set(err, ERR_INVALID, "%s: %s in %s listed twice", fp.s,
				    byname[i]->name, byname[i]->region);
				goto out;
			}
		}
	}
	*out = fns;
	*n = count;
	fns = NULL;
out:
	free(byname);
	if (fns != NULL) {
		for (i = 0; i < count; i++)
			obs_function_clear(&fns[i]);
		free(fns);
	}
	json_decref(root);
	return rc;
}
