#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/emulator/alias.h"
#include "aws/emulator/fn.h"
#include "aws/emulator/model.h"
#include "aws/emulator/page.h"
#include "aws/emulator/render.h"
#include "common/xmalloc.h"

#define VERSION_MAX 1024
#define DESCRIPTION_MAX 256

/* RoutingConfig as a request gave it. */
struct routing {
	bool present;     /* RoutingConfig was in the request */
	size_t count;     /* entries in AdditionalVersionWeights */
	char version[64]; /* the (first) additional version */
	uint64_t number;  /* ... as a number, 0 when it is not one */
	double weight;
};

static bool
version_ok(const char *s)
{
	return strcmp(s, "$LATEST") == 0 || arn_digits(s);
}

static void
parse_routing(struct req *r, const json_t *body, struct routing *rt)
{
	const json_t *rc, *weights, *v;
	const char *k;
	char shown[128];

	memset(rt, 0, sizeof(*rt));
	rc = req_obj(r, body, "RoutingConfig");
	if (rc == NULL)
		return;
	rt->present = true;
	weights = req_obj(r, rc, "AdditionalVersionWeights");
	if (weights == NULL)
		return;
	json_object_foreach((json_t *)weights, k, v)
	{
		if (!json_is_number(v)) {
			req_type_error(r, "AdditionalVersionWeights", "a map of numbers");
			continue;
		}
		snprintf(shown, sizeof(shown), "{%.60s=%g}", k, json_number_value(v));
		if (json_number_value(v) < 0.0 || json_number_value(v) > 1.0)
			req_violation(r, "routingConfig.additionalVersionWeights", shown,
			    "Map value must satisfy constraint: [Member must have value less than "
			    "or "
			    "equal to 1.0, Member must have value greater than or equal to 0.0, "
			    "Member "
			    "must not be null]");
		if (!arn_digits(k) || strlen(k) > VERSION_MAX)
			req_violation(r, "routingConfig.additionalVersionWeights", shown,
			    "Map keys must satisfy constraint: [Member must have length less than "
			    "or "
			    "equal to 1024, Member must have length greater than or equal to 1, "
			    "Member "
			    "must satisfy regular expression pattern: [0-9]+, Member must not be "
			    "null]");
		if (rt->count++ == 0) {
			snprintf(rt->version, sizeof(rt->version), "%s", k);
			if (!arn_version_number(k, &rt->number))
				rt->number = 0;
			rt->weight = json_number_value(v);
		}
	}
}

static bool
same_str(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/*
 * Check a routing configuration against the primary version (MODEL_LATEST for $LATEST).
 * Returns 0, or -1 after answering.
 */
static int
check_routing(struct req *r, struct model_fn *fn, uint64_t primary, const struct routing *rt)
{
	struct model_ver *p, *x;
	char pname[24];

	if (rt->count == 0)
		return 0;
	if (rt->count > 1) {
		req_error(r, 400, "InvalidParameterValueException",
		    "Number of items in AdditionalVersionWeights cannot be greater than 1");
		return -1;
	}
	model_version_name(primary, pname);
	if (strcmp(pname, rt->version) == 0) {
		req_error(r, 400, "InvalidParameterValueException",
		    "Invalid function version %s. Function version %s is already included in "
		    "routing configuration.",
		    rt->version, rt->version);
		return -1;
	}
	if (primary == MODEL_LATEST) {
		req_error(r, 400, "InvalidParameterValueException",
		    "$LATEST is not supported for an alias pointing to more than 1 version");
		return -1;
	}
	x = rt->number > 0 ? model_ver_find(fn, rt->number) : NULL;
	if (x == NULL) {
		model_not_found(r, fn->name, rt->version);
		return -1;
	}
	p = model_ver_find(fn, primary);
	if (p != NULL && !same_str(p->cfg.role, x->cfg.role)) {
		req_error(r, 400, "InvalidParameterValueException",
		    "The function versions of an alias with routing must have the same execution "
		    "role: version %s has %s, version %s has %s.",
		    pname, p->cfg.role, rt->version, x->cfg.role);
		return -1;
	}
	if (p != NULL && !same_str(p->cfg.dlq_target, x->cfg.dlq_target)) {
		req_error(r, 400, "InvalidParameterValueException",
		    "The function versions of an alias with routing must have the same dead-letter "
		    "queue configuration.");
		return -1;
	}
	return 0;
}

/* Parse FunctionVersion to a number: 0 for $LATEST. 404 when the version does not exist. */
static int
target_version(struct req *r, struct model_fn *fn, const char *v, uint64_t *out)
{
	if (strcmp(v, "$LATEST") == 0) {
		*out = MODEL_LATEST;
		return 0;
	}
	if (!arn_version_number(v, out) || model_ver_find(fn, *out) == NULL) {
		model_not_found(r, fn->name, v);
		return -1;
	}
	return 0;
}

static void
check_alias_name(struct req *r, const char *name)
{
	req_check_length(r, "name", name, 1, 128);
	req_check_pattern(r, "name", name, name == NULL || arn_alias_ok(name) || strlen(name) > 128,
	    ARN_ALIAS_PATTERN);
}

static void
respond_alias(struct req *r, int status, const struct model_fn *fn, const struct model_alias *a)
{
	struct jsonw w;

	req_json_begin(r, status, &w);
	render_alias(&w, r->emu, fn, a);
	req_json_end(r, &w);
}

static void
apply_routing(struct model_alias *a, const struct routing *rt)
{
	a->routing = rt->count == 1;
	a->extra = a->routing ? rt->number : 0;
	a->extra_weight = a->routing ? rt->weight : 0.0;
}

void
alias_create(struct req *r)
{
	struct model_name n;
	struct routing rt;
	struct model_fn *fn;
	struct model_alias *a;
	const char *name, *version, *description;
	uint64_t number;
	char *arn;

	if (req_body(r) != 0)
		return;
	(void)model_parse_name(r, r->label[0], NULL, MODEL_NAME_PLAIN, &n);
	name = req_str(r, r->body, "Name");
	req_check_null(r, "name", name != NULL);
	check_alias_name(r, name);
	version = req_str(r, r->body, "FunctionVersion");
	req_check_null(r, "functionVersion", version != NULL);
	req_check_length(r, "functionVersion", version, 1, VERSION_MAX);
	req_check_pattern(r, "functionVersion", version, version == NULL || version_ok(version),
	    ARN_VERSION_PATTERN);
	description = req_str(r, r->body, "Description");
	req_check_length(r, "description", description, 0, DESCRIPTION_MAX);
	parse_routing(r, r->body, &rt);
	if (req_failed(r))
		return;
	fn = fn_target(r, &n, false);
	if (fn == NULL || target_version(r, fn, version, &number) != 0)
		return;
	if (model_alias_find(fn, name) != NULL) {
		arn = model_fn_arn(r->emu, fn->name, name);
		req_error(r, 409, "ResourceConflictException", "Alias already exists: %s", arn);
		free(arn);
		return;
	}
	if (check_routing(r, fn, number, &rt) != 0)
		return;
	a = xcalloc(1, sizeof(*a));
	a->name = xstrdup(name);
	a->description = xstrdup(description != NULL ? description : "");
	a->version = number;
	apply_routing(a, &rt);
	model_revision(a->revision);
	model_alias_add(fn, a);
	respond_alias(r, 201, fn, a);
}

/* The alias named by the second label; 404 "Cannot find alias arn" when it is missing. */
static struct model_alias *
find_alias(struct req *r, struct model_fn *fn, const char *name)
{
	struct model_alias *a = model_alias_find(fn, name);
	char *arn;

	if (a == NULL) {
		arn = model_fn_arn(r->emu, fn->name, name);
		req_error(r, 404, "ResourceNotFoundException", "Cannot find alias arn: %s", arn);
		free(arn);
	}
	return a;
}

void
alias_get(struct req *r)
{
	struct model_name n;
	struct model_fn *fn;
	struct model_alias *a;
	const char *name = r->nlabels > 1 ? r->label[1] : NULL;

	(void)model_parse_name(r, r->label[0], NULL, MODEL_NAME_PLAIN, &n);
	check_alias_name(r, name);
	if (req_failed(r))
		return;
	fn = fn_target(r, &n, false);
	if (fn == NULL)
		return;
	a = find_alias(r, fn, name);
	if (a != NULL)
		respond_alias(r, 200, fn, a);
}

void
alias_update(struct req *r)
{
	struct model_name n;
	struct routing rt;
	struct model_fn *fn;
	struct model_alias *a;
	const char *name = r->nlabels > 1 ? r->label[1] : NULL;
	const char *version, *description, *revision;
	uint64_t number;

	if (req_body(r) != 0)
		return;
	(void)model_parse_name(r, r->label[0], NULL, MODEL_NAME_PLAIN, &n);
	check_alias_name(r, name);
	version = req_str(r, r->body, "FunctionVersion");
	req_check_length(r, "functionVersion", version, 1, VERSION_MAX);
	req_check_pattern(r, "functionVersion", version, version == NULL || version_ok(version),
	    ARN_VERSION_PATTERN);
	description = req_str(r, r->body, "Description");
	req_check_length(r, "description", description, 0, DESCRIPTION_MAX);
	revision = req_str(r, r->body, "RevisionId");
	parse_routing(r, r->body, &rt);
	if (req_failed(r))
		return;
	fn = fn_target(r, &n, false);
	if (fn == NULL)
		return;
	a = find_alias(r, fn, name);
	if (a == NULL || fn_stale(r, revision, a->revision))
		return;
	number = a->version;
	if (version != NULL && target_version(r, fn, version, &number) != 0)
		return;
	if (!rt.present && a->routing) {
		/* The routing stays; it must still suit the (new) primary version. */
		rt.count = 1;
		rt.number = a->extra;
		rt.weight = a->extra_weight;
		model_version_name(a->extra, rt.version);
	}
	if (check_routing(r, fn, number, &rt) != 0)
		return;
	if (rt.count > 0 && model_pc_find(fn, a->name) != NULL) {
		req_error(r, 400, "InvalidParameterValueException",
		    "Alias with weights can not be used with Provisioned Concurrency");
		return;
	}
	a->version = number;
	if (description != NULL)
		model_set_str(&a->description, description);
	apply_routing(a, &rt);
	model_revision(a->revision);
	respond_alias(r, 200, fn, a);
}

void
alias_delete(struct req *r)
{
	struct model_name n;
	struct model_fn *fn;
	const char *name = r->nlabels > 1 ? r->label[1] : NULL;
	size_t i;

	(void)model_parse_name(r, r->label[0], NULL, MODEL_NAME_PLAIN, &n);
	check_alias_name(r, name);
	if (req_failed(r))
		return;
	fn = fn_target(r, &n, false);
	if (fn == NULL)
		return;
	for (i = 0; i < fn->aliases.n; i++) {
		if (strcmp(((struct model_alias *)fn->aliases.v[i])->name, name) == 0) {
			model_pc_remove(fn, name);
			model_alias_free(vec_remove(&fn->aliases, i));
			break;
		}
	}
	/* DeleteAlias has no ResourceNotFound in the model: a missing alias is 204 too. */
	req_empty(r, 204);
}

void
alias_list(struct req *r)
{
	struct model_name n;
	struct model_fn *fn;
	struct model_alias *a;
	const char *filter;
	char *key = NULL, *marker = NULL, vname[24];
	const char *last = NULL;
	size_t size, count = 0, i = 0;
	bool more = false;
	struct jsonw w;

	(void)model_parse_name(r, r->label[0], NULL, MODEL_NAME_PLAIN, &n);
	filter = req_query(r, "FunctionVersion");
	req_check_length(r, "functionVersion", filter, 1, VERSION_MAX);
	req_check_pattern(r, "functionVersion", filter, filter == NULL || version_ok(filter),
	    ARN_VERSION_PATTERN);
	size = page_size(r, 10000);
	if (req_failed(r))
		return;
	fn = fn_target(r, &n, false);
	if (fn == NULL || page_start(r, "aliases", &key) != 0)
		return;
	if (key != NULL) {
		for (i = 0; i < fn->aliases.n; i++)
			if (strcmp(((struct model_alias *)fn->aliases.v[i])->name, key) > 0)
				break;
	}
	req_json_begin(r, 200, &w);
	jsonw_object_open(&w);
	jsonw_key(&w, "Aliases");
	jsonw_array_open(&w);
	for (; i < fn->aliases.n; i++) {
		a = fn->aliases.v[i];
		model_version_name(a->version, vname);
		if (filter != NULL && strcmp(filter, vname) != 0)
			continue;
		if (count == size) {
			more = true;
			break;
		}
		render_alias(&w, r->emu, fn, a);
		last = a->name;
		count++;
	}
	jsonw_array_close(&w);
	if (more) {
		marker = page_marker("aliases", last);
		jsonw_kstr(&w, "NextMarker", marker);
	}
	jsonw_object_close(&w);
	req_json_end(r, &w);
	free(marker);
	free(key);
}
