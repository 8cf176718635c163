#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/jsonw.h"
#include "common/xmalloc.h"
#include "reconcile/draft.h"
#include "reconcile/names.h"
#include "reconcile/suggest.h"

#define LABEL_MAX 256

/* Parsing state for one mapping. */
struct parse {
	struct draft *d;
	enum draft_context ctx;
	const char *path;
	struct diags *diags;
	const struct yamldoc_node *code_key; /* the image: or code: key seen first */
};

static void PRINTFLIKE(3, 4)
    problem(struct parse *p, const struct yamldoc_node *at, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	p->d->errors++;
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

	if (p->diags->truncated)
		return;
	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	diags_add(p->diags, DIAG_WARNING, p->path, at->line, at->col, "%s", msg);
	free(msg);
}

static struct draft_pos
pos_of(const struct parse *p, const struct yamldoc_node *n)
{
	struct draft_pos pos = {p->path, n->line, n->col};

	return pos;
}

static bool
want_string(struct parse *p, const struct yamldoc_node *n, const char *label)
{
	if (yamldoc_is_str(n))
		return true;
	if (n->kind == YAMLDOC_SCALAR && n->type != YAMLDOC_NULL)
		problem(p, n, "%s: expected a string, got %s (quote it: \"%s\")", label,
		    yamldoc_describe(n), n->str);
	else
		problem(p, n, "%s: expected a string, got %s", label, yamldoc_describe(n));
	return false;
}

static bool
looks_int(const char *s)
{
	size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;

	if (s[i] == '\0')
		return false;
	for (; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
	}
	return true;
}

static bool
want_int(struct parse *p, const struct yamldoc_node *n, const char *label, long min, long max,
    const char *unit, long *out)
{
	long v;

	if (n->kind != YAMLDOC_SCALAR || n->type != YAMLDOC_INT) {
		if (yamldoc_is_str(n) && looks_int(n->str))
			problem(p, n,
			    "%s: expected an integer, got a string (\"%s\"); remove the quotes",
			    label, n->str);
		else
			problem(
			    p, n, "%s: expected an integer, got %s", label, yamldoc_describe(n));
		return false;
	}
	if (!yamldoc_int(n, &v) || v < min || v > max) {
		problem(p, n, "%s: %s is out of range (%ld..%ld%s%s)", label, n->str, min, max,
		    unit[0] != '\0' ? " " : "", unit);
		return false;
	}
	*out = v;
	return true;
}

/* Keys a mapping may hold, and what is said about the others. */
static bool
check_key(struct parse *p, const struct yamldoc_node *key, const char *label,
    const char *const *keys, size_t nkeys)
{
	const char *near;
	size_t i;

	for (i = 0; i < nkeys; i++) {
		if (strcmp(key->str, keys[i]) == 0)
			return true;
	}
	if (strcmp(key->str, "<<") == 0) {
		problem(
		    p, key, "%s: merge keys (<<) are not supported; alias a whole value", label);
		return false;
	}
	/* Past the last diagnostic, a suggestion is work nobody reads. */
	near = p->diags->truncated ? NULL : suggest(key->str, keys, nkeys);
	if (near != NULL)
		problem(
		    p, key, "%s: unknown key \"%s\"; did you mean \"%s\"?", label, key->str, near);
	else
		problem(p, key, "%s: unknown key \"%s\"", label, key->str);
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

static void
set_present(struct parse *p, enum draft_field f, const struct yamldoc_node *at)
{
	p->d->present |= 1u << f;
	p->d->pos[f] = pos_of(p, at);
}

/* function: NAME or a function ARN. */
static void
parse_function(struct parse *p, const struct yamldoc_node *v)
{
	struct names_arn arn;
	char q[96];

	if (!want_string(p, v, "function"))
		return;
	if (strncmp(v->str, "arn:", 4) == 0) {
		if (!names_function_arn(v->str, &arn)) {
			problem(p, v,
			    "function: %s is not a function ARN "
			    "(arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME)",
			    yamldoc_shown(v, q, sizeof(q)));
			return;
		}
		if (arn.qualifier[0] != '\0') {
			problem(p, v,
			    "function: the ARN is qualified (\":%s\"), which names a version or "
			    "alias; declare the function itself",
			    arn.qualifier);
			return;
		}
		p->d->arn = xstrdup(v->str);
		p->d->name = xstrdup(arn.name);
		p->d->account = xstrdup(arn.account);
		p->d->arn_region = xstrdup(arn.region);
		return;
	}
	if (!names_function_name(v->str)) {
		problem(p, v,
		    "function: %s is not a valid function name ([a-zA-Z0-9-_], 1 to %d "
		    "characters) or function ARN",
		    yamldoc_shown(v, q, sizeof(q)), NAMES_FUNCTION_MAX);
		return;
	}
	p->d->name = xstrdup(v->str);
}

static void
parse_region(struct parse *p, const struct yamldoc_node *v)
{
	char q[96];

	if (!want_string(p, v, "region"))
		return;
	if (!names_region(v->str)) {
		problem(p, v, "region: %s is not a region name (such as us-east-1)",
		    yamldoc_shown(v, q, sizeof(q)));
		return;
	}
	p->d->region = xstrdup(v->str);
	set_present(p, DRAFT_REGION, v);
}

/* image and code exclude each other; the second one written is the error. */
static bool
code_slot(struct parse *p, const struct yamldoc_node *key)
{
	if (p->code_key != NULL) {
		problem(p, key, "%s: image and code are mutually exclusive (%s is at %d:%d)",
		    key->str, p->code_key->str, p->code_key->line, p->code_key->col);
		return false;
	}
	p->code_key = key;
	return true;
}

static void
parse_image(struct parse *p, const struct yamldoc_node *key, const struct yamldoc_node *v)
{
	enum names_image_pin pin;
	const char *tag;
	char q[160];

	if (!code_slot(p, key) || !want_string(p, v, "image"))
		return;
	if (!names_image(v->str, &pin, &tag)) {
		problem(p, v,
		    "image: %s is not an image URI (REGISTRY/REPOSITORY[:TAG][@sha256:DIGEST])",
		    yamldoc_shown(v, q, sizeof(q)));
		return;
	}
	switch (pin) {
	case NAMES_IMAGE_UNTAGGED:
		warning(p, v,
		    "image has no tag, which means :latest and can move; pin a digest "
		    "(@sha256:...) or a content tag");
		break;
	case NAMES_IMAGE_LATEST:
		warning(p, v,
		    "image tag :latest can move; pin a digest (@sha256:...) or a content tag");
		break;
	case NAMES_IMAGE_MUTABLE:
		warning(p, v,
		    "image tag :%s may move (not a digest, a version or a content tag); pin a "
		    "digest (@sha256:...) or a content tag",
		    tag);
		break;
	case NAMES_IMAGE_DIGEST:
	case NAMES_IMAGE_CONTENT:
		break;
	}
	p->d->code.kind = SPEC_CODE_IMAGE;
	p->d->code.image = xstrdup(v->str);
	set_present(p, DRAFT_CODE, v);
}

static void
parse_code(struct parse *p, const struct yamldoc_node *key, const struct yamldoc_node *v)
{
	static const char *const keys[] = {"s3_bucket", "s3_key", "s3_object_version"};
	const struct yamldoc_node *k, *x;
	char q[96];
	size_t i;
	size_t before = p->d->errors;
	char *bucket = NULL, *skey = NULL, *version = NULL;

	if (!code_slot(p, key) || !want_mapping(p, v, "code"))
		return;
	for (i = 0; i < v->n; i++) {
		k = v->items[2 * i];
		x = v->items[2 * i + 1];
		if (!check_key(p, k, "code", keys, nitems(keys)))
			continue;
		if (strcmp(k->str, "s3_bucket") == 0) {
			if (!want_string(p, x, "code.s3_bucket"))
				continue;
			if (!names_s3_bucket(x->str)) {
				problem(p, x,
				    "code.s3_bucket: %s is not an S3 bucket name (3 to 63 of "
				    "[0-9A-Za-z.-_], not ending in '.')",
				    yamldoc_shown(x, q, sizeof(q)));
				continue;
			}
			free(bucket);
			bucket = xstrdup(x->str);
		} else {
			if (!want_string(
			        p, x, k->str[3] == 'k' ? "code.s3_key" : "code.s3_object_version"))
				continue;
			if (x->len == 0 || x->len > NAMES_S3_KEY_MAX) {
				problem(p, x, "code.%s: must be 1 to %d bytes", k->str,
				    NAMES_S3_KEY_MAX);
				continue;
			}
			if (k->str[3] == 'k') {
				free(skey);
				skey = xstrdup(x->str);
			} else {
				free(version);
				version = xstrdup(x->str);
			}
		}
	}
	if (yamldoc_lookup(v, "s3_bucket", NULL) == NULL)
		problem(p, v, "code: missing required key \"s3_bucket\"");
	if (yamldoc_lookup(v, "s3_key", NULL) == NULL)
		problem(p, v, "code: missing required key \"s3_key\"");
	if (p->d->errors != before) {
		free(bucket);
		free(skey);
		free(version);
		return;
	}
	p->d->code.kind = SPEC_CODE_S3;
	p->d->code.s3_bucket = bucket;
	p->d->code.s3_key = skey;
	p->d->code.s3_object_version = version;
	set_present(p, DRAFT_CODE, v);
}

static bool
parse_layer(struct parse *p, const struct yamldoc_node *v, size_t i, struct spec_layer *out)
{
	static const char *const keys[] = {"name", "version"};
	const struct yamldoc_node *name, *version;
	char label[LABEL_MAX], q[160];
	size_t k, before = p->d->errors;
	long n;

	snprintf(label, sizeof(label), "layers[%zu]", i);
	if (yamldoc_is_str(v)) {
		if (names_layer_version_arn(v->str, NULL)) {
			out->arn = xstrdup(v->str);
			return true;
		}
		if (names_layer_arn(v->str))
			problem(p, v,
			    "%s: %s has no version; append :VERSION, or write { name: NAME, "
			    "version: N }",
			    label, yamldoc_shown(v, q, sizeof(q)));
		else
			problem(p, v,
			    "%s: %s is not a layer version ARN "
			    "(arn:PARTITION:lambda:REGION:ACCOUNT:layer:NAME:VERSION)",
			    label, yamldoc_shown(v, q, sizeof(q)));
		return false;
	}
	if (v->kind != YAMLDOC_MAPPING) {
		problem(p, v,
		    "%s: expected a layer version ARN or { name: NAME, version: N }, got %s", label,
		    yamldoc_describe(v));
		return false;
	}
	for (k = 0; k < v->n; k++)
		check_key(p, v->items[2 * k], label, keys, nitems(keys));
	name = yamldoc_lookup(v, "name", NULL);
	version = yamldoc_lookup(v, "version", NULL);
	if (name == NULL)
		problem(p, v, "%s: missing required key \"name\"", label);
	if (version == NULL)
		problem(p, v, "%s: missing required key \"version\"", label);
	snprintf(label, sizeof(label), "layers[%zu].name", i);
	if (name != NULL && want_string(p, name, label) && !names_layer_name(name->str)) {
		if (strncmp(name->str, "arn:", 4) == 0)
			problem(p, name,
			    "%s: give the layer's name; a layer ARN goes in the list as a string "
			    "with its version",
			    label);
		else
			problem(p, name,
			    "%s: %s is not a layer name ([a-zA-Z0-9-_], 1 to %d characters)", label,
			    yamldoc_shown(name, q, sizeof(q)), NAMES_LAYER_NAME_MAX);
	}
	snprintf(label, sizeof(label), "layers[%zu].version", i);
	if (version != NULL)
		want_int(p, version, label, 1, 999999999999L, "", &n);
	if (p->d->errors != before)
		return false;
	out->name = xstrdup(name->str);
	out->version = n;
	return true;
}

static void
parse_layers(struct parse *p, const struct yamldoc_node *v)
{
	struct spec_layer layers[SPEC_LAYERS_MAX];
	size_t i, n = 0, before = p->d->errors;

	if (v->kind != YAMLDOC_SEQUENCE) {
		problem(p, v, "layers: expected a sequence, got %s", yamldoc_describe(v));
		return;
	}
	memset(layers, 0, sizeof(layers));
	for (i = 0; i < v->n; i++) {
		if (i == SPEC_LAYERS_MAX) {
			problem(p, v->items[i], "layers: more than %d layers (Lambda's limit)",
			    SPEC_LAYERS_MAX);
			break;
		}
		if (parse_layer(p, v->items[i], i, &layers[n]))
			n++;
	}
	if (p->d->errors != before) {
		for (i = 0; i < n; i++) {
			free(layers[i].arn);
			free(layers[i].name);
		}
		return;
	}
	memcpy(p->d->layers, layers, sizeof(layers));
	p->d->nlayers = n;
	set_present(p, DRAFT_LAYERS, v);
}

static void
parse_environment(struct parse *p, const struct yamldoc_node *v)
{
	const struct yamldoc_node *k, *x;
	struct draft *d = p->d;
	size_t i, total = 0, before = d->errors;
	char q[96], label[LABEL_MAX];

	if (!want_mapping(p, v, "environment"))
		return;
	d->vars = xreallocarray(NULL, v->n == 0 ? 1 : v->n, sizeof(*d->vars));
	for (i = 0; i < v->n; i++) {
		k = v->items[2 * i];
		x = v->items[2 * i + 1];
		if (!names_env_key(k->str)) {
			problem(p, k,
			    "environment: %s is not a variable name (a letter, then at least one "
			    "letter, digit or _)",
			    yamldoc_shown(k, q, sizeof(q)));
			continue;
		}
		if (names_env_reserved(k->str)) {
			problem(p, k, "environment: %s is reserved by Lambda", k->str);
			continue;
		}
		snprintf(label, sizeof(label), "environment.%s", k->str);
		if (x->kind != YAMLDOC_SCALAR) {
			problem(p, x, "%s: expected a string, got %s", label, yamldoc_describe(x));
			continue;
		}
		if (x->type == YAMLDOC_NULL && p->ctx != DRAFT_OVERRIDE) {
			problem(p, x,
			    "%s: expected a string, got null (write \"\" for an empty value)",
			    label);
			continue;
		}
		total += k->len + (x->type == YAMLDOC_NULL ? 0 : x->len);
		d->vars[d->nvars].key = xstrdup(k->str);
		/* Numbers and booleans are taken as written: PORT: 8080 is "8080". */
		d->vars[d->nvars].value = x->type == YAMLDOC_NULL ? NULL : xstrdup(x->str);
		d->vars[d->nvars].pos = pos_of(p, k);
		d->nvars++;
	}
	if (total > DRAFT_ENV_BYTES_MAX)
		problem(p, v,
		    "environment: variables total %zu bytes, over Lambda's limit of %d (keys and "
		    "values)",
		    total, DRAFT_ENV_BYTES_MAX);
	if (d->errors == before)
		set_present(p, DRAFT_ENVIRONMENT, v);
}

static void
parse_description(struct parse *p, const struct yamldoc_node *v)
{
	size_t n;

	if (!want_string(p, v, "description"))
		return;
	n = names_utf8_chars(v->str);
	if (n > NAMES_DESCRIPTION_MAX) {
		problem(p, v, "description: %zu characters, over Lambda's limit of %d", n,
		    NAMES_DESCRIPTION_MAX);
		return;
	}
	p->d->description = xstrdup(v->str);
	set_present(p, DRAFT_DESCRIPTION, v);
}

static void
parse_role(struct parse *p, const struct yamldoc_node *v)
{
	char q[160];

	if (!want_string(p, v, "role"))
		return;
	if (!names_role_arn(v->str)) {
		problem(p, v, "role: %s is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)",
		    yamldoc_shown(v, q, sizeof(q)));
		return;
	}
	p->d->role = xstrdup(v->str);
	set_present(p, DRAFT_ROLE, v);
}

static void
parse_handler(struct parse *p, const struct yamldoc_node *v)
{
	if (!want_string(p, v, "handler"))
		return;
	if (!names_handler(v->str)) {
		problem(p, v, "handler: must be 1 to %d characters without whitespace",
		    NAMES_HANDLER_MAX);
		return;
	}
	p->d->handler = xstrdup(v->str);
	set_present(p, DRAFT_HANDLER, v);
}

static void
parse_runtime(struct parse *p, const struct yamldoc_node *v)
{
	const char *near;
	char q[96];
	size_t n;

	if (!want_string(p, v, "runtime"))
		return;
	if (!names_runtime(v->str)) {
		for (n = 0; names_runtimes[n] != NULL; n++)
			;
		near = suggest(v->str, names_runtimes, n);
		if (near != NULL)
			problem(p, v, "runtime: %s is not a Lambda runtime; did you mean \"%s\"?",
			    yamldoc_shown(v, q, sizeof(q)), near);
		else
			problem(p, v,
			    "runtime: %s is not a Lambda runtime (such as python3.12, "
			    "nodejs20.x or java21)",
			    yamldoc_shown(v, q, sizeof(q)));
		return;
	}
	p->d->runtime = xstrdup(v->str);
	set_present(p, DRAFT_RUNTIME, v);
}

/* YAML -> JSON for smoke tests; false (reported) for what JSON cannot say. */
static bool
to_json(struct parse *p, const struct yamldoc_node *n, const char *label, struct jsonw *w)
{
	size_t i;
	long v;
	double d;

	switch (n->kind) {
	case YAMLDOC_MAPPING:
		jsonw_object_open(w);
		for (i = 0; i < n->n; i++) {
			jsonw_key(w, n->items[2 * i]->str);
			if (!to_json(p, n->items[2 * i + 1], label, w))
				return false;
		}
		jsonw_object_close(w);
		return true;
	case YAMLDOC_SEQUENCE:
		jsonw_array_open(w);
		for (i = 0; i < n->n; i++) {
			if (!to_json(p, n->items[i], label, w))
				return false;
		}
		jsonw_array_close(w);
		return true;
	case YAMLDOC_SCALAR:
		break;
	}
	switch (n->type) {
	case YAMLDOC_INT:
		if (!yamldoc_int(n, &v)) {
			problem(p, n, "%s: integer %s does not fit in 64 bits", label, n->str);
			return false;
		}
		jsonw_int(w, v);
		return true;
	case YAMLDOC_FLOAT:
		/* .inf and .nan are YAML floats that JSON cannot say (and strtod does not read). */
		d = strchr(n->str, 'n') != NULL || strchr(n->str, 'N') != NULL
		        ? NAN
		        : strtod(n->str, NULL);
		if (!isfinite(d)) {
			problem(p, n, "%s: %s has no JSON form", label, n->str);
			return false;
		}
		jsonw_double(w, d);
		return true;
	case YAMLDOC_BOOL:
		jsonw_bool(w, n->str[0] == 't' || n->str[0] == 'T');
		return true;
	case YAMLDOC_NULL:
		jsonw_null(w);
		return true;
	case YAMLDOC_STR:
	default:
		jsonw_stringn(w, n->str, n->len);
		return true;
	}
}

static char *
json_of(struct parse *p, const struct yamldoc_node *n, const char *label)
{
	struct buf b = BUF_INIT(DRAFT_SMOKE_MAX);
	struct jsonw w;
	char *out = NULL;

	jsonw_init(&w, &b);
	if (!to_json(p, n, label, &w))
		goto out;
	if (jsonw_failed(&w)) {
		problem(p, n, "%s: over %d bytes as JSON, or nested deeper than %d levels", label,
		    DRAFT_SMOKE_MAX, JSONW_DEPTH_MAX);
		goto out;
	}
	out = buf_detach(&b, NULL);
out:
	buf_free(&b);
	return out;
}

static void
parse_smoke(struct parse *p, const struct yamldoc_node *v)
{
	static const char *const keys[] = {"payload", "expect"};
	const struct yamldoc_node *payload, *expect;
	size_t i, before = p->d->errors;
	char *pj = NULL, *ej = NULL;

	if (!want_mapping(p, v, "smoke_test"))
		return;
	for (i = 0; i < v->n; i++)
		check_key(p, v->items[2 * i], "smoke_test", keys, nitems(keys));
	payload = yamldoc_lookup(v, "payload", NULL);
	expect = yamldoc_lookup(v, "expect", NULL);
	pj = payload != NULL ? json_of(p, payload, "smoke_test.payload") : xstrdup("{}");
	if (expect != NULL)
		ej = json_of(p, expect, "smoke_test.expect");
	if (p->d->errors != before) {
		free(pj);
		free(ej);
		return;
	}
	p->d->smoke.payload = pj;
	p->d->smoke.expect = ej;
	set_present(p, DRAFT_SMOKE_TEST, v);
}

long
draft_duration(const char *s)
{
	static const struct {
		char unit;
		long seconds;
	} units[] = {{'h', 3600}, {'m', 60}, {'s', 1}};
	size_t u = 0, parts = 0;
	long total = 0, n;

	while (*s != '\0') {
		if (*s < '0' || *s > '9')
			return -1;
		for (n = 0; *s >= '0' && *s <= '9'; s++) {
			if (n > 100000000L)
				return -1;
			n = n * 10 + (*s - '0');
		}
		while (u < nitems(units) && units[u].unit != *s)
			u++;
		if (u == nitems(units))
			return -1;
		total += n * units[u].seconds;
		if (total > 100000000L)
			return -1;
		u++;
		s++;
		parts++;
	}
	return parts > 0 ? total : -1;
}

static void
parse_traffic(struct parse *p, const struct yamldoc_node *v, const char *name, struct spec_alias *a)
{
	static const char *const keys[] = {"steps", "interval"};
	const struct yamldoc_node *steps, *interval, *x;
	char label[LABEL_MAX], item[LABEL_MAX + 24], q[96];
	size_t i;
	long w, secs;

	snprintf(label, sizeof(label), "aliases.%s.traffic", name);
	if (!want_mapping(p, v, label))
		return;
	for (i = 0; i < v->n; i++)
		check_key(p, v->items[2 * i], label, keys, nitems(keys));
	steps = yamldoc_lookup(v, "steps", NULL);
	interval = yamldoc_lookup(v, "interval", NULL);
	if (steps == NULL)
		problem(p, v, "%s: missing required key \"steps\"", label);
	if (interval == NULL)
		problem(p, v, "%s: missing required key \"interval\"", label);
	if (steps != NULL) {
		snprintf(label, sizeof(label), "aliases.%s.traffic.steps", name);
		if (steps->kind != YAMLDOC_SEQUENCE) {
			problem(p, steps, "%s: expected a sequence of percentages, got %s", label,
			    yamldoc_describe(steps));
		} else if (steps->n == 0) {
			problem(p, steps, "%s: at least one step (a percentage, 1..99)", label);
		}
		for (i = 0; steps->kind == YAMLDOC_SEQUENCE && i < steps->n; i++) {
			x = steps->items[i];
			if (i == SPEC_CANARY_STEPS_MAX) {
				problem(
				    p, x, "%s: more than %d steps", label, SPEC_CANARY_STEPS_MAX);
				break;
			}
			snprintf(item, sizeof(item), "%s[%zu]", label, i);
			if (!want_int(p, x, item, 1, 99, "%; 100 % follows the last step", &w))
				continue;
			if (a->nsteps > 0 && w <= a->steps[a->nsteps - 1]) {
				problem(p, x, "%s: %ld is not above the step before it (%d)", item,
				    w, a->steps[a->nsteps - 1]);
				continue;
			}
			a->steps[a->nsteps++] = (int)w;
		}
	}
	if (interval != NULL) {
		snprintf(label, sizeof(label), "aliases.%s.traffic.interval", name);
		if (interval->kind == YAMLDOC_SCALAR && interval->type == YAMLDOC_INT) {
			problem(p, interval,
			    "%s: expected a duration with a unit, such as 30s, 5m or 1h", label);
		} else if (want_string(p, interval, label)) {
			secs = draft_duration(interval->str);
			if (secs < 0)
				problem(p, interval,
				    "%s: %s is not a duration (such as 30s, 5m, 1h or 1h30m)",
				    label, yamldoc_shown(interval, q, sizeof(q)));
			else if (secs < 1 || secs > DRAFT_INTERVAL_MAX)
				problem(p, interval, "%s: %s is out of range (1s..24h)", label,
				    interval->str);
			else
				a->interval = secs;
		}
	}
}

/* An alias target: "current" or a published version number. */
static void
parse_target(struct parse *p, const struct yamldoc_node *v, const char *label, struct spec_alias *a)
{
	static const char *const words[] = {"current"};
	const char *near;
	char q[96];
	long n;

	if (yamldoc_is_str(v) && strcmp(v->str, "current") == 0) {
		a->target = SPEC_ALIAS_CURRENT;
		return;
	}
	if (v->kind == YAMLDOC_SCALAR && v->type == YAMLDOC_INT) {
		if (!yamldoc_int(v, &n) || n < 1) {
			problem(p, v, "%s: %s is not a version number (a positive integer)", label,
			    v->str);
			return;
		}
		a->target = SPEC_ALIAS_PINNED;
		a->version = n;
		return;
	}
	if (v->kind == YAMLDOC_SCALAR && v->type == YAMLDOC_FLOAT) {
		problem(p, v, "%s: %s is not a version number (a positive integer)", label, v->str);
		return;
	}
	if (yamldoc_is_str(v) && strcmp(v->str, "$LATEST") == 0) {
		problem(p, v,
		    "%s: $LATEST is not a published version; pin a version number or use "
		    "current",
		    label);
		return;
	}
	if (yamldoc_is_str(v) && looks_int(v->str)) {
		problem(p, v, "%s: \"%s\" is a string; write a pinned version as a number (%s)",
		    label, v->str, v->str);
		return;
	}
	if (yamldoc_is_str(v)) {
		near = suggest(v->str, words, nitems(words));
		if (near != NULL)
			problem(p, v,
			    "%s: %s is neither current nor a version number; did you mean "
			    "\"current\"?",
			    label, yamldoc_shown(v, q, sizeof(q)));
		else
			problem(p, v, "%s: %s is neither current nor a version number", label,
			    yamldoc_shown(v, q, sizeof(q)));
		return;
	}
	problem(
	    p, v, "%s: expected current or a version number, got %s", label, yamldoc_describe(v));
}

static bool
parse_alias(struct parse *p, const struct yamldoc_node *k, const struct yamldoc_node *v,
    struct draft_alias *out)
{
	static const char *const keys[] = {"version", "traffic"};
	const struct yamldoc_node *version, *traffic;
	char label[LABEL_MAX], q[160];
	size_t i, before = p->d->errors;

	memset(out, 0, sizeof(*out));
	if (strcmp(k->str, "$LATEST") == 0) {
		problem(p, k, "aliases: \"$LATEST\" is reserved and cannot be an alias name");
		return false;
	}
	if (!names_alias(k->str)) {
		if (k->len > 0 && strspn(k->str, "0123456789") == k->len)
			problem(p, k,
			    "aliases: \"%s\" is all digits, which Lambda reads as a version "
			    "number; name aliases with a letter",
			    k->str);
		else
			problem(p, k,
			    "aliases: %s is not an alias name ([a-zA-Z0-9-_], 1 to %d "
			    "characters, not all digits)",
			    yamldoc_shown(k, q, sizeof(q)), NAMES_ALIAS_MAX);
		return false;
	}
	snprintf(label, sizeof(label), "aliases.%s", k->str);
	out->pos = pos_of(p, k);
	if (v->kind == YAMLDOC_SCALAR && v->type == YAMLDOC_NULL && p->ctx == DRAFT_OVERRIDE) {
		out->alias.name = xstrdup(k->str);
		out->remove = true;
		return true;
	}
	if (v->kind == YAMLDOC_MAPPING) {
		for (i = 0; i < v->n; i++)
			check_key(p, v->items[2 * i], label, keys, nitems(keys));
		version = yamldoc_lookup(v, "version", NULL);
		traffic = yamldoc_lookup(v, "traffic", NULL);
		if (version == NULL)
			problem(p, v, "%s: missing required key \"version\"", label);
		else {
			snprintf(label, sizeof(label), "aliases.%s.version", k->str);
			parse_target(p, version, label, &out->alias);
		}
		if (traffic != NULL)
			parse_traffic(p, traffic, k->str, &out->alias);
	} else {
		parse_target(p, v, label, &out->alias);
	}
	if (p->d->errors != before)
		return false;
	out->alias.name = xstrdup(k->str);
	return true;
}

static void
parse_aliases(struct parse *p, const struct yamldoc_node *v)
{
	struct draft *d = p->d;
	size_t i, before = d->errors;

	if (!want_mapping(p, v, "aliases"))
		return;
	if (v->n > DRAFT_ALIASES_MAX) {
		problem(p, v, "aliases: more than %d aliases", DRAFT_ALIASES_MAX);
		return;
	}
	d->aliases = xreallocarray(NULL, v->n == 0 ? 1 : v->n, sizeof(*d->aliases));
	for (i = 0; i < v->n; i++) {
		if (parse_alias(p, v->items[2 * i], v->items[2 * i + 1], &d->aliases[d->naliases]))
			d->naliases++;
	}
	if (d->errors == before)
		set_present(p, DRAFT_ALIASES, v);
}

static void
parse_mode(struct parse *p, const struct yamldoc_node *v)
{
	static const char *const modes[] = {"enforce", "detect", "suspend"};
	const char *near;
	char q[96];
	size_t i;

	if (!want_string(p, v, "mode"))
		return;
	for (i = 0; i < nitems(modes); i++) {
		if (strcmp(v->str, modes[i]) == 0) {
			p->d->mode = (enum spec_mode)i;
			set_present(p, DRAFT_MODE, v);
			return;
		}
	}
	near = suggest(v->str, modes, nitems(modes));
	if (near != NULL)
		problem(p, v, "mode: %s is not enforce, detect or suspend; did you mean \"%s\"?",
		    yamldoc_shown(v, q, sizeof(q)), near);
	else
		problem(p, v, "mode: %s is not enforce, detect or suspend",
		    yamldoc_shown(v, q, sizeof(q)));
}

enum key_id {
	K_FUNCTION,
	K_REGION,
	K_IMAGE,
	K_CODE,
	K_LAYERS,
	K_MEMORY,
	K_TIMEOUT,
	K_ENVIRONMENT,
	K_DESCRIPTION,
	K_ROLE,
	K_HANDLER,
	K_RUNTIME,
	K_SMOKE_TEST,
	K_ALIASES,
	K_RETAIN,
	K_MODE,
};

#define IN_FUNCTION (1u << DRAFT_FUNCTION)
#define IN_DEFAULTS (1u << DRAFT_DEFAULTS)
#define IN_OVERRIDE (1u << DRAFT_OVERRIDE)
#define IN_ALL (IN_FUNCTION | IN_DEFAULTS | IN_OVERRIDE)

/* In the order docs/desired-state.md lists them. */
static const struct {
	const char *name;
	enum key_id id;
	unsigned in;
} keydefs[] = {
    {"function", K_FUNCTION, IN_FUNCTION},
    {"region", K_REGION, IN_ALL},
    {"image", K_IMAGE, IN_FUNCTION | IN_OVERRIDE},
    {"code", K_CODE, IN_FUNCTION | IN_OVERRIDE},
    {"layers", K_LAYERS, IN_ALL},
    {"memory", K_MEMORY, IN_ALL},
    {"timeout", K_TIMEOUT, IN_ALL},
    {"environment", K_ENVIRONMENT, IN_ALL},
    {"description", K_DESCRIPTION, IN_ALL},
    {"role", K_ROLE, IN_ALL},
    {"handler", K_HANDLER, IN_ALL},
    {"runtime", K_RUNTIME, IN_ALL},
    {"smoke_test", K_SMOKE_TEST, IN_FUNCTION | IN_OVERRIDE},
    {"aliases", K_ALIASES, IN_FUNCTION | IN_OVERRIDE},
    {"retain", K_RETAIN, IN_ALL},
    {"mode", K_MODE, IN_ALL},
};

static const char *const context_names[] = {"a function", "defaults", "an override"};

/* The key's definition, or -1 (reported) when ctx does not allow it. */
static int
find_key(struct parse *p, const struct yamldoc_node *key)
{
	const char *words[nitems(keydefs)], *near;
	char allowed[512];
	size_t i, k, n = 0, len = 0;

	for (i = 0; i < nitems(keydefs); i++) {
		if (strcmp(key->str, keydefs[i].name) == 0)
			break;
	}
	if (i < nitems(keydefs) && (keydefs[i].in & (1u << p->ctx)) != 0)
		return (int)i;
	if (i < nitems(keydefs) && keydefs[i].id == K_FUNCTION) {
		problem(p, key,
		    "\"function\" cannot be set in an overlay; the key under functions: names "
		    "the function");
		return -1;
	}
	allowed[0] = '\0';
	for (k = 0; k < nitems(keydefs); k++) {
		if (!(keydefs[k].in & (1u << p->ctx)))
			continue;
		words[n++] = keydefs[k].name;
		/* The list only for a message that shows it: a file of unknown keys is
		 * costly enough. */
		if (i < nitems(keydefs))
			len += (size_t)snprintf(allowed + len, sizeof(allowed) - len, "%s%s",
			    len > 0 ? ", " : "", keydefs[k].name);
	}
	if (i < nitems(keydefs)) {
		problem(p, key, "\"%s\" cannot be set in %s (allowed: %s)", key->str,
		    context_names[p->ctx], allowed);
		return -1;
	}
	if (strcmp(key->str, "<<") == 0) {
		problem(p, key,
		    "merge keys (<<) are not supported; alias a whole value, or use an "
		    "environment's defaults");
		return -1;
	}
	near = p->diags->truncated ? NULL : suggest(key->str, words, n);
	if (near != NULL)
		problem(p, key, "unknown key \"%s\"; did you mean \"%s\"?", key->str, near);
	else
		problem(p, key, "unknown key \"%s\"", key->str);
	return -1;
}

void
draft_parse(struct draft *out, const struct yamldoc_node *map, enum draft_context ctx,
    const char *path, struct diags *diags)
{
	struct parse p;
	const struct yamldoc_node *k, *v, *fnkey = NULL, *regkey = NULL;
	unsigned seen = 0;
	size_t i;
	int def;
	long n;

	memset(out, 0, sizeof(*out));
	memset(&p, 0, sizeof(p));
	p.d = out;
	p.ctx = ctx;
	p.path = path;
	p.diags = diags;
	out->pos_function = pos_of(&p, map);
	for (i = 0; i < map->n; i++) {
		k = map->items[2 * i];
		v = map->items[2 * i + 1];
		def = find_key(&p, k);
		/* A key written twice was reported by yamldoc; the first one counts. */
		if (def < 0 || (seen & (1u << def)) != 0)
			continue;
		seen |= 1u << def;
		switch (keydefs[def].id) {
		case K_FUNCTION:
			fnkey = k;
			out->has_function = true;
			out->pos_function = pos_of(&p, k);
			parse_function(&p, v);
			break;
		case K_REGION:
			regkey = v;
			parse_region(&p, v);
			break;
		case K_IMAGE:
			parse_image(&p, k, v);
			break;
		case K_CODE:
			parse_code(&p, k, v);
			break;
		case K_LAYERS:
			parse_layers(&p, v);
			break;
		case K_MEMORY:
			if (want_int(&p, v, "memory", 128, 10240, "MB", &n)) {
				out->memory = n;
				set_present(&p, DRAFT_MEMORY, v);
			}
			break;
		case K_TIMEOUT:
			if (want_int(&p, v, "timeout", 1, 900, "seconds", &n)) {
				out->timeout = n;
				set_present(&p, DRAFT_TIMEOUT, v);
			}
			break;
		case K_ENVIRONMENT:
			parse_environment(&p, v);
			break;
		case K_DESCRIPTION:
			parse_description(&p, v);
			break;
		case K_ROLE:
			parse_role(&p, v);
			break;
		case K_HANDLER:
			parse_handler(&p, v);
			break;
		case K_RUNTIME:
			parse_runtime(&p, v);
			break;
		case K_SMOKE_TEST:
			parse_smoke(&p, v);
			break;
		case K_ALIASES:
			parse_aliases(&p, v);
			break;
		case K_RETAIN:
			if (want_int(&p, v, "retain", 1, DRAFT_RETAIN_MAX, "versions", &n)) {
				out->retain = n;
				set_present(&p, DRAFT_RETAIN, v);
			}
			break;
		case K_MODE:
			parse_mode(&p, v);
			break;
		}
	}
	if (ctx == DRAFT_FUNCTION && fnkey == NULL)
		problem(&p, map, "missing required key \"function\" (the function's name or ARN)");
	/* The ARN fixes the region; a region: that disagrees is a contradiction. */
	if (out->arn_region != NULL && out->region != NULL &&
	    strcmp(out->arn_region, out->region) != 0)
		problem(&p, regkey, "region: %s contradicts the function's ARN (%s)", out->region,
		    out->arn_region);
	if (draft_check_runtime(out, diags))
		out->errors++;
}

bool
draft_check_runtime(const struct draft *d, struct diags *diags)
{
	const struct draft_pos *rt = &d->pos[DRAFT_RUNTIME], *img = &d->pos[DRAFT_CODE];

	if (!draft_has(d, DRAFT_RUNTIME) || !draft_has(d, DRAFT_CODE) ||
	    d->code.kind != SPEC_CODE_IMAGE)
		return false;
	/* Lambda has no runtime for an image: the image brings its own. */
	if (strcmp(rt->path, img->path) == 0)
		diags_add(diags, DIAG_ERROR, rt->path, rt->line, rt->col,
		    "runtime: an image function has no runtime; write code: for a zip function "
		    "(image is at %d:%d)",
		    img->line, img->col);
	else
		diags_add(diags, DIAG_ERROR, rt->path, rt->line, rt->col,
		    "runtime: an image function has no runtime; write code: for a zip function "
		    "(image is at %s:%d:%d)",
		    img->path, img->line, img->col);
	return true;
}

bool
draft_has(const struct draft *d, enum draft_field f)
{
	return (d->present & (1u << f)) != 0;
}

static char *
dup_opt(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

static void
code_copy(struct spec_code *dst, const struct spec_code *src)
{
	free(dst->image);
	free(dst->s3_bucket);
	free(dst->s3_key);
	free(dst->s3_object_version);
	dst->kind = src->kind;
	dst->image = dup_opt(src->image);
	dst->s3_bucket = dup_opt(src->s3_bucket);
	dst->s3_key = dup_opt(src->s3_key);
	dst->s3_object_version = dup_opt(src->s3_object_version);
}

static void
layers_copy(struct draft *dst, const struct draft *src)
{
	size_t i;

	for (i = 0; i < dst->nlayers; i++) {
		free(dst->layers[i].arn);
		free(dst->layers[i].name);
	}
	memset(dst->layers, 0, sizeof(dst->layers));
	for (i = 0; i < src->nlayers; i++) {
		dst->layers[i].arn = dup_opt(src->layers[i].arn);
		dst->layers[i].name = dup_opt(src->layers[i].name);
		dst->layers[i].version = src->layers[i].version;
	}
	dst->nlayers = src->nlayers;
}

static void
replace_str(char **dst, const char *src)
{
	free(*dst);
	*dst = dup_opt(src);
}

static void
merge_vars(struct draft *dst, const struct draft *src, bool src_wins)
{
	const struct draft_var *s;
	struct draft_var *v;
	size_t i, j;

	for (i = 0; i < src->nvars; i++) {
		s = &src->vars[i];
		for (j = 0; j < dst->nvars; j++) {
			if (strcmp(dst->vars[j].key, s->key) == 0)
				break;
		}
		if (j < dst->nvars) {
			if (!src_wins)
				continue;
			v = &dst->vars[j];
			if (s->value == NULL) {
				free(v->key);
				free(v->value);
				dst->vars[j] = dst->vars[--dst->nvars];
				continue;
			}
			replace_str(&v->value, s->value);
			v->pos = s->pos;
			continue;
		}
		if (s->value == NULL)
			continue;
		dst->vars = xreallocarray(dst->vars, dst->nvars + 1, sizeof(*dst->vars));
		v = &dst->vars[dst->nvars++];
		v->key = xstrdup(s->key);
		v->value = xstrdup(s->value);
		v->pos = s->pos;
	}
}

static void
merge_aliases(struct draft *dst, const struct draft *src)
{
	const struct draft_alias *s;
	struct draft_alias *a;
	size_t i, j;

	for (i = 0; i < src->naliases; i++) {
		s = &src->aliases[i];
		for (j = 0; j < dst->naliases; j++) {
			if (strcmp(dst->aliases[j].alias.name, s->alias.name) == 0)
				break;
		}
		if (j < dst->naliases) {
			free(dst->aliases[j].alias.name);
			if (s->remove) {
				dst->aliases[j] = dst->aliases[--dst->naliases];
				continue;
			}
		} else {
			if (s->remove)
				continue;
			dst->aliases =
			    xreallocarray(dst->aliases, dst->naliases + 1, sizeof(*dst->aliases));
			j = dst->naliases++;
		}
		a = &dst->aliases[j];
		*a = *s;
		a->alias.name = xstrdup(s->alias.name);
	}
}

void
draft_merge(struct draft *dst, const struct draft *src, bool src_wins)
{
	enum draft_field f;
	bool take;

	for (f = DRAFT_CODE; f < DRAFT_NFIELDS; f++) {
		if (!draft_has(src, f))
			continue;
		take = src_wins || !draft_has(dst, f);
		/* Maps merge by key whoever wins; everything else is replaced whole. */
		if (f == DRAFT_ENVIRONMENT) {
			merge_vars(dst, src, src_wins);
			if (take)
				dst->pos[f] = src->pos[f];
			dst->present |= 1u << f;
			continue;
		}
		if (f == DRAFT_ALIASES) {
			merge_aliases(dst, src);
			dst->pos[f] = src->pos[f];
			dst->present |= 1u << f;
			continue;
		}
		if (!take)
			continue;
		dst->present |= 1u << f;
		dst->pos[f] = src->pos[f];
		switch (f) {
		case DRAFT_CODE:
			code_copy(&dst->code, &src->code);
			break;
		case DRAFT_LAYERS:
			layers_copy(dst, src);
			break;
		case DRAFT_MEMORY:
			dst->memory = src->memory;
			break;
		case DRAFT_TIMEOUT:
			dst->timeout = src->timeout;
			break;
		case DRAFT_DESCRIPTION:
			replace_str(&dst->description, src->description);
			break;
		case DRAFT_ROLE:
			replace_str(&dst->role, src->role);
			break;
		case DRAFT_HANDLER:
			replace_str(&dst->handler, src->handler);
			break;
		case DRAFT_RUNTIME:
			replace_str(&dst->runtime, src->runtime);
			break;
		case DRAFT_SMOKE_TEST:
			replace_str(&dst->smoke.payload, src->smoke.payload);
			replace_str(&dst->smoke.expect, src->smoke.expect);
			break;
		case DRAFT_RETAIN:
			dst->retain = src->retain;
			break;
		case DRAFT_MODE:
			dst->mode = src->mode;
			break;
		case DRAFT_REGION:
		case DRAFT_ENVIRONMENT:
		case DRAFT_ALIASES:
		case DRAFT_NFIELDS:
			break;
		}
	}
}

void
draft_clear(struct draft *d)
{
	size_t i;

	free(d->name);
	free(d->arn);
	free(d->account);
	free(d->arn_region);
	free(d->region);
	free(d->code.image);
	free(d->code.s3_bucket);
	free(d->code.s3_key);
	free(d->code.s3_object_version);
	for (i = 0; i < d->nlayers; i++) {
		free(d->layers[i].arn);
		free(d->layers[i].name);
	}
	for (i = 0; i < d->nvars; i++) {
		free(d->vars[i].key);
		free(d->vars[i].value);
	}
	free(d->vars);
	free(d->description);
	free(d->role);
	free(d->handler);
	free(d->runtime);
	free(d->smoke.payload);
	free(d->smoke.expect);
	for (i = 0; i < d->naliases; i++)
		free(d->aliases[i].alias.name);
	free(d->aliases);
	memset(d, 0, sizeof(*d));
}
