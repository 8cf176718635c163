#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "aws/lambda_decode.h"
#include "aws/retry.h"
#include "common/crypto.h"
#include "common/xmalloc.h"

/*
 * A decoding pass: the first problem is recorded in err and every later helper becomes a
 * no-op, so the decoders read straight through without checking after each field.
 */
struct dec {
	struct err *err;
	int failed;
};

#define WHERE_MAX 160

static int
bad(struct dec *d, const char *where, const char *key, const char *what)
{
	if (!d->failed)
		err_set(d->err, ERR_FAIL, "malformed Lambda response: %s%s%s %s", where,
		    where[0] != '\0' ? "." : "", key, what);
	d->failed = 1;
	return -1;
}

/* The member key of obj, or NULL when it is absent or null. */
static json_t *
member(json_t *obj, const char *key)
{
	json_t *v;

	if (obj == NULL)
		return NULL;
	v = json_object_get(obj, key);
	if (v == NULL || json_is_null(v))
		return NULL;
	return v;
}

static void
get_string(struct dec *d, json_t *obj, const char *where, const char *key, char **out)
{
	json_t *v;

	if (d->failed)
		return;
	v = member(obj, key);
	if (v == NULL)
		return;
	if (!json_is_string(v)) {
		bad(d, where, key, "is not a string");
		return;
	}
	free(*out);
	*out = xstrndup(json_string_value(v), json_string_length(v));
}

static void
get_int64(struct dec *d, json_t *obj, const char *where, const char *key, int64_t *out)
{
	json_t *v;

	if (d->failed)
		return;
	v = member(obj, key);
	if (v == NULL)
		return;
	if (!json_is_integer(v)) {
		bad(d, where, key, "is not an integer");
		return;
	}
	*out = (int64_t)json_integer_value(v);
}

static void
get_int(struct dec *d, json_t *obj, const char *where, const char *key, int *out)
{
	int64_t v = 0;

	get_int64(d, obj, where, key, &v);
	if (d->failed)
		return;
	if (v < INT_MIN || v > INT_MAX) {
		bad(d, where, key, "is out of range");
		return;
	}
	*out = (int)v;
}

/* An object member that must be an object when present; NULL when absent. */
static json_t *
get_object(struct dec *d, json_t *obj, const char *where, const char *key)
{
	json_t *v;

	if (d->failed)
		return NULL;
	v = member(obj, key);
	if (v != NULL && !json_is_object(v)) {
		bad(d, where, key, "is not an object");
		return NULL;
	}
	return v;
}

/* An array member; NULL when absent. */
static json_t *
get_array(struct dec *d, json_t *obj, const char *where, const char *key)
{
	json_t *v;

	if (d->failed)
		return NULL;
	v = member(obj, key);
	if (v != NULL && !json_is_array(v)) {
		bad(d, where, key, "is not an array");
		return NULL;
	}
	if (v != NULL && json_array_size(v) > LAMBDA_DECODE_PAGE_MAX) {
		bad(d, where, key, "has too many items");
		return NULL;
	}
	return v;
}

/* A {"k": "v"} object into a key/value array (environment variables, tags). */
static void
get_map(struct dec *d, json_t *map, const char *where, struct lambda_kv **out, size_t *n)
{
	const char *key;
	json_t *v;
	size_t i = 0;

	if (d->failed || map == NULL)
		return;
	if (json_object_size(map) == 0)
		return;
	if (json_object_size(map) > LAMBDA_DECODE_PAGE_MAX) {
		bad(d, where, "", "has too many members");
		return;
	}
	*out = xcalloc(json_object_size(map), sizeof(**out));
	json_object_foreach(map, key, v)
	{
		if (!json_is_string(v)) {
			bad(d, where, key, "is not a string");
			break;
		}
		(*out)[i].key = xstrdup(key);
		(*out)[i].value = xstrndup(json_string_value(v), json_string_length(v));
		i++;
	}
	*n = i;
}

/* An array of strings. */
static void
get_strings(struct dec *d, json_t *obj, const char *where, const char *key, char ***out, size_t *n)
{
	json_t *arr, *v;
	size_t i;

	arr = get_array(d, obj, where, key);
	if (arr == NULL || json_array_size(arr) == 0)
		return;
	*out = xcalloc(json_array_size(arr), sizeof(**out));
	json_array_foreach(arr, i, v)
	{
		if (!json_is_string(v)) {
			bad(d, where, key, "holds a non-string");
			return;
		}
		(*out)[i] = xstrndup(json_string_value(v), json_string_length(v));
		*n = i + 1;
	}
}

/* Parse a body that must be a JSON object. */
static json_t *
parse(struct dec *d, const char *json, size_t len)
{
	json_error_t jerr;
	json_t *root;

	if (json == NULL) {
		json = "";
		len = 0;
	}
	root = json_loadb(json, len, 0, &jerr);
	if (root == NULL) {
		err_set(d->err, ERR_FAIL, "malformed Lambda response: %s (line %d column %d)",
		    jerr.text, jerr.line, jerr.column);
		d->failed = 1;
		return NULL;
	}
	if (!json_is_object(root)) {
		err_set(d->err, ERR_FAIL, "malformed Lambda response: not a JSON object");
		d->failed = 1;
		json_decref(root);
		return NULL;
	}
	return root;
}

static void
decode_function_obj(struct dec *d, json_t *o, const char *where, struct lambda_function *f)
{
	json_t *env, *vars, *layers, *layer, *arch;
	char lwhere[WHERE_MAX];
	size_t i;

	get_string(d, o, where, "FunctionName", &f->name);
	get_string(d, o, where, "FunctionArn", &f->arn);
	get_string(d, o, where, "Version", &f->version);
	get_string(d, o, where, "Description", &f->description);
	get_string(d, o, where, "RevisionId", &f->revision_id);
	get_string(d, o, where, "CodeSha256", &f->code_sha256);
	get_int64(d, o, where, "CodeSize", &f->code_size);
	get_string(d, o, where, "PackageType", &f->package_type);
	get_string(d, o, where, "Role", &f->role);
	get_string(d, o, where, "Handler", &f->handler);
	get_string(d, o, where, "Runtime", &f->runtime);
	get_int(d, o, where, "MemorySize", &f->memory);
	get_int(d, o, where, "Timeout", &f->timeout);
	get_string(d, o, where, "State", &f->state_name);
	get_string(d, o, where, "StateReason", &f->state_reason);
	get_string(d, o, where, "StateReasonCode", &f->state_reason_code);
	get_string(d, o, where, "LastUpdateStatus", &f->last_update_status_name);
	get_string(d, o, where, "LastUpdateStatusReason", &f->last_update_status_reason);
	get_string(d, o, where, "LastUpdateStatusReasonCode", &f->last_update_status_reason_code);
	get_string(d, o, where, "LastModified", &f->last_modified);
	f->state = lambda_state_parse(f->state_name);
	f->last_update_status = lambda_update_status_parse(f->last_update_status_name);

	arch = get_array(d, o, where, "Architectures");
	if (arch != NULL && json_array_size(arch) > 0) {
		if (!json_is_string(json_array_get(arch, 0)))
			bad(d, where, "Architectures", "holds a non-string");
		else
			f->architecture = xstrdup(json_string_value(json_array_get(arch, 0)));
	}

	env = get_object(d, o, where, "Environment");
	if (env != NULL) {
		snprintf(lwhere, sizeof(lwhere), "%s%sEnvironment", where, where[0] ? "." : "");
		vars = get_object(d, env, lwhere, "Variables");
		f->has_environment = true;
		snprintf(lwhere, sizeof(lwhere), "%s%sEnvironment.Variables", where,
		    where[0] ? "." : "");
		get_map(d, vars, lwhere, &f->environment, &f->nenvironment);
	}

	layers = get_array(d, o, where, "Layers");
	if (layers != NULL && json_array_size(layers) > 0) {
		f->layers = xcalloc(json_array_size(layers), sizeof(*f->layers));
		json_array_foreach(layers, i, layer)
		{
			snprintf(lwhere, sizeof(lwhere), "%s%sLayers[%zu]", where,
			    where[0] ? "." : "", i);
			if (!json_is_object(layer)) {
				bad(d, lwhere, "", "is not an object");
				break;
			}
			get_string(d, layer, lwhere, "Arn", &f->layers[i].arn);
			get_int64(d, layer, lwhere, "CodeSize", &f->layers[i].code_size);
			if (!d->failed && f->layers[i].arn == NULL)
				bad(d, lwhere, "Arn", "is missing");
			f->nlayers = i + 1;
			if (d->failed)
				break;
		}
	}
}

static int
finish(struct dec *d, json_t *root)
{
	json_decref(root);
	return d->failed ? ERR_FAIL : 0;
}

int
lambda_decode_function(const char *json, size_t len, struct lambda_function *out, struct err *err)
{
	struct dec d = {err, 0};
	json_t *root;

	memset(out, 0, sizeof(*out));
	root = parse(&d, json, len);
	if (root == NULL)
		return ERR_FAIL;
	decode_function_obj(&d, root, "", out);
	if (finish(&d, root) != 0) {
		lambda_function_clear(out);
		return ERR_FAIL;
	}
	return 0;
}

int
lambda_decode_get_function(
    const char *json, size_t len, struct lambda_function *out, struct err *err)
{
	struct dec d = {err, 0};
	json_t *root, *conf, *code, *tags;

	memset(out, 0, sizeof(*out));
	root = parse(&d, json, len);
	if (root == NULL)
		return ERR_FAIL;
	conf = get_object(&d, root, "", "Configuration");
	if (conf == NULL && !d.failed)
		bad(&d, "", "Configuration", "is missing");
	if (conf != NULL)
		decode_function_obj(&d, conf, "Configuration", out);
	code = get_object(&d, root, "", "Code");
	get_string(&d, code, "Code", "ImageUri", &out->image_uri);
	get_string(&d, code, "Code", "ResolvedImageUri", &out->resolved_image_uri);
	tags = get_object(&d, root, "", "Tags");
	if (tags != NULL) {
		out->has_tags = true;
		get_map(&d, tags, "Tags", &out->tags, &out->ntags);
	}
	if (finish(&d, root) != 0) {
		lambda_function_clear(out);
		return ERR_FAIL;
	}
	return 0;
}

/* NextMarker, with "" (which some responses send on the last page) read as absent. */
static void
get_marker(struct dec *d, json_t *root, char **out)
{
	get_string(d, root, "", "NextMarker", out);
	if (*out != NULL && (*out)[0] == '\0') {
		free(*out);
		*out = NULL;
	}
}

/* The items array of a page: checks that each item is an object. */
static json_t *
get_items(struct dec *d, json_t *root, const char *key)
{
	json_t *arr, *v;
	size_t i;

	arr = get_array(d, root, "", key);
	if (arr == NULL)
		return NULL;
	json_array_foreach(arr, i, v)
	{
		if (!json_is_object(v)) {
			char where[WHERE_MAX];

			snprintf(where, sizeof(where), "%s[%zu]", key, i);
			bad(d, where, "", "is not an object");
			return NULL;
		}
	}
	return arr;
}

int
lambda_decode_function_page(const char *json, size_t len, const char *key,
    struct lambda_function_page *out, struct err *err)
{
	struct dec d = {err, 0};
	json_t *root, *arr, *v;
	char where[WHERE_MAX];
	size_t i;

	memset(out, 0, sizeof(*out));
	root = parse(&d, json, len);
	if (root == NULL)
		return ERR_FAIL;
	get_marker(&d, root, &out->next_marker);
	arr = get_items(&d, root, key);
	if (arr != NULL && json_array_size(arr) > 0) {
		out->items = xcalloc(json_array_size(arr), sizeof(*out->items));
		json_array_foreach(arr, i, v)
		{
			snprintf(where, sizeof(where), "%s[%zu]", key, i);
			decode_function_obj(&d, v, where, &out->items[i]);
			out->n = i + 1;
			if (d.failed)
				break;
		}
	}
	if (finish(&d, root) != 0) {
		lambda_function_page_clear(out);
		return ERR_FAIL;
	}
	return 0;
}

static void
decode_alias_obj(struct dec *d, json_t *o, const char *where, struct lambda_alias *a)
{
	json_t *routing, *weights, *w;
	const char *ver;
	char rwhere[WHERE_MAX];

	get_string(d, o, where, "Name", &a->name);
	get_string(d, o, where, "AliasArn", &a->arn);
	get_string(d, o, where, "FunctionVersion", &a->function_version);
	get_string(d, o, where, "Description", &a->description);
	get_string(d, o, where, "RevisionId", &a->revision_id);
	routing = get_object(d, o, where, "RoutingConfig");
	snprintf(rwhere, sizeof(rwhere), "%s%sRoutingConfig", where, where[0] ? "." : "");
	weights = get_object(d, routing, rwhere, "AdditionalVersionWeights");
	if (weights == NULL || d->failed)
		return;
	snprintf(rwhere, sizeof(rwhere), "%s%sRoutingConfig.AdditionalVersionWeights", where,
	    where[0] ? "." : "");
	/* Lambda allows one additional version; a second one would be a Lambda bug. */
	if (json_object_size(weights) > 1) {
		bad(d, rwhere, "", "holds more than one version");
		return;
	}
	json_object_foreach(weights, ver, w)
	{
		if (!json_is_number(w)) {
			bad(d, rwhere, ver, "is not a number");
			return;
		}
		a->routing_version = xstrdup(ver);
		a->routing_weight = json_number_value(w);
	}
}

int
lambda_decode_alias(const char *json, size_t len, struct lambda_alias *out, struct err *err)
{
	struct dec d = {err, 0};
	json_t *root;

	memset(out, 0, sizeof(*out));
	root = parse(&d, json, len);
	if (root == NULL)
		return ERR_FAIL;
	decode_alias_obj(&d, root, "", out);
	if (finish(&d, root) != 0) {
		lambda_alias_clear(out);
		return ERR_FAIL;
	}
	return 0;
}

int
lambda_decode_alias_page(
    const char *json, size_t len, struct lambda_alias_page *out, struct err *err)
{
	struct dec d = {err, 0};
	json_t *root, *arr, *v;
	char where[WHERE_MAX];
	size_t i;

	memset(out, 0, sizeof(*out));
	root = parse(&d, json, len);
	if (root == NULL)
		return ERR_FAIL;
	get_marker(&d, root, &out->next_marker);
	arr = get_items(&d, root, "Aliases");
	if (arr != NULL && json_array_size(arr) > 0) {
		out->items = xcalloc(json_array_size(arr), sizeof(*out->items));
		json_array_foreach(arr, i, v)
		{
			snprintf(where, sizeof(where), "Aliases[%zu]", i);
			decode_alias_obj(&d, v, where, &out->items[i]);
			out->n = i + 1;
			if (d.failed)
				break;
		}
	}
	if (finish(&d, root) != 0) {
		lambda_alias_page_clear(out);
		return ERR_FAIL;
	}
	return 0;
}

static void
decode_layer_version_obj(
    struct dec *d, json_t *o, const char *where, struct lambda_layer_version *l)
{
	json_t *content;
	char cwhere[WHERE_MAX];

	get_string(d, o, where, "LayerArn", &l->layer_arn);
	get_string(d, o, where, "LayerVersionArn", &l->layer_version_arn);
	get_int64(d, o, where, "Version", &l->version);
	get_string(d, o, where, "Description", &l->description);
	get_string(d, o, where, "CreatedDate", &l->created_date);
	get_string(d, o, where, "LicenseInfo", &l->license_info);
	get_strings(
	    d, o, where, "CompatibleRuntimes", &l->compatible_runtimes, &l->ncompatible_runtimes);
	get_strings(d, o, where, "CompatibleArchitectures", &l->compatible_architectures,
	    &l->ncompatible_architectures);
	content = get_object(d, o, where, "Content");
	snprintf(cwhere, sizeof(cwhere), "%s%sContent", where, where[0] ? "." : "");
	get_string(d, content, cwhere, "CodeSha256", &l->code_sha256);
	get_int64(d, content, cwhere, "CodeSize", &l->code_size);
}

int
lambda_decode_layer_version(
    const char *json, size_t len, struct lambda_layer_version *out, struct err *err)
{
	struct dec d = {err, 0};
	json_t *root;

	memset(out, 0, sizeof(*out));
	root = parse(&d, json, len);
	if (root == NULL)
		return ERR_FAIL;
	decode_layer_version_obj(&d, root, "", out);
	if (finish(&d, root) != 0) {
		lambda_layer_version_clear(out);
		return ERR_FAIL;
	}
	return 0;
}

int
lambda_decode_layer_version_page(
    const char *json, size_t len, struct lambda_layer_version_page *out, struct err *err)
{
	struct dec d = {err, 0};
	json_t *root, *arr, *v;
	char where[WHERE_MAX];
	size_t i;

	memset(out, 0, sizeof(*out));
	root = parse(&d, json, len);
	if (root == NULL)
		return ERR_FAIL;
	get_marker(&d, root, &out->next_marker);
	arr = get_items(&d, root, "LayerVersions");
	if (arr != NULL && json_array_size(arr) > 0) {
		out->items = xcalloc(json_array_size(arr), sizeof(*out->items));
		json_array_foreach(arr, i, v)
		{
			snprintf(where, sizeof(where), "LayerVersions[%zu]", i);
			decode_layer_version_obj(&d, v, where, &out->items[i]);
			out->n = i + 1;
			if (d.failed)
				break;
		}
	}
	if (finish(&d, root) != 0) {
		lambda_layer_version_page_clear(out);
		return ERR_FAIL;
	}
	return 0;
}

int
lambda_decode_esm_page(const char *json, size_t len, struct lambda_esm_page *out, struct err *err)
{
	struct dec d = {err, 0};
	json_t *root, *arr, *v;
	char where[WHERE_MAX];
	size_t i;

	memset(out, 0, sizeof(*out));
	root = parse(&d, json, len);
	if (root == NULL)
		return ERR_FAIL;
	get_marker(&d, root, &out->next_marker);
	arr = get_items(&d, root, "EventSourceMappings");
	if (arr != NULL && json_array_size(arr) > 0) {
		out->items = xcalloc(json_array_size(arr), sizeof(*out->items));
		json_array_foreach(arr, i, v)
		{
			snprintf(where, sizeof(where), "EventSourceMappings[%zu]", i);
			get_string(&d, v, where, "UUID", &out->items[i].uuid);
			get_string(&d, v, where, "FunctionArn", &out->items[i].function_arn);
			get_string(&d, v, where, "EventSourceArn", &out->items[i].event_source_arn);
			get_string(&d, v, where, "State", &out->items[i].state);
			out->n = i + 1;
			if (d.failed)
				break;
		}
	}
	if (finish(&d, root) != 0) {
		lambda_esm_page_clear(out);
		return ERR_FAIL;
	}
	return 0;
}

/* The qualifier of "arn:aws:lambda:r:acct:function:name:qualifier", or NULL. */
static char *
arn_qualifier(const char *arn)
{
	const char *p = arn;
	int colons = 0;

	for (; *p != '\0'; p++) {
		if (*p == ':' && ++colons == 7)
			return p[1] != '\0' ? xstrdup(p + 1) : NULL;
	}
	return NULL;
}

int
lambda_decode_pc_page(const char *json, size_t len, struct lambda_pc_page *out, struct err *err)
{
	struct dec d = {err, 0};
	json_t *root, *arr, *v;
	char where[WHERE_MAX];
	struct lambda_pc_config *p;
	size_t i;

	memset(out, 0, sizeof(*out));
	root = parse(&d, json, len);
	if (root == NULL)
		return ERR_FAIL;
	get_marker(&d, root, &out->next_marker);
	arr = get_items(&d, root, "ProvisionedConcurrencyConfigs");
	if (arr != NULL && json_array_size(arr) > 0) {
		out->items = xcalloc(json_array_size(arr), sizeof(*out->items));
		json_array_foreach(arr, i, v)
		{
			p = &out->items[i];
			snprintf(where, sizeof(where), "ProvisionedConcurrencyConfigs[%zu]", i);
			get_string(&d, v, where, "FunctionArn", &p->function_arn);
			get_string(&d, v, where, "Status", &p->status);
			get_string(&d, v, where, "StatusReason", &p->status_reason);
			get_int(&d, v, where, "RequestedProvisionedConcurrentExecutions",
			    &p->requested);
			get_int(&d, v, where, "AvailableProvisionedConcurrentExecutions",
			    &p->available);
			get_int(&d, v, where, "AllocatedProvisionedConcurrentExecutions",
			    &p->allocated);
			if (p->function_arn != NULL)
				p->qualifier = arn_qualifier(p->function_arn);
			out->n = i + 1;
			if (d.failed)
				break;
		}
	}
	if (finish(&d, root) != 0) {
		lambda_pc_page_clear(out);
		return ERR_FAIL;
	}
	return 0;
}

int
lambda_decode_tags(const char *json, size_t len, struct lambda_tags *out, struct err *err)
{
	struct dec d = {err, 0};
	json_t *root, *tags;

	memset(out, 0, sizeof(*out));
	root = parse(&d, json, len);
	if (root == NULL)
		return ERR_FAIL;
	tags = get_object(&d, root, "", "Tags");
	get_map(&d, tags, "Tags", &out->items, &out->n);
	if (finish(&d, root) != 0) {
		lambda_tags_clear(out);
		return ERR_FAIL;
	}
	return 0;
}

static const char *const auth_types[] = {
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "ExpiredTokenException",
    "AccessDeniedException",
    "IncompleteSignature",
    "MissingAuthenticationToken",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
};

static bool
in_list(const char *type, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(type, list[i]) == 0)
			return true;
	return false;
}

bool
lambda_error_is_throttle(const char *type)
{
	/*
	 * The standard retry mode's throttling codes (lambda-api.md §11) are listed once, in
	 * aws/retry.c. Under a status that is neither 429 nor 409/412, the code alone decides.
	 */
	return retry_classify(400, type, false) == RETRY_THROTTLE;
}

/* A string member of a JSON error body, or NULL. */
static const char *
body_string(json_t *root, const char *key)
{
	json_t *v = root != NULL ? json_object_get(root, key) : NULL;

	return json_is_string(v) ? json_string_value(v) : NULL;
}

int
lambda_decode_error(long status, const char *error_type, const char *request_id, const char *body,
    size_t len, struct err *out)
{
	json_t *root = NULL;
	const char *type = NULL, *msg, *hash;
	char statusbuf[24];
	int code;

	if (body != NULL && len > 0) {
		root = json_loadb(body, len, 0, NULL);
		if (root != NULL && !json_is_object(root)) {
			json_decref(root);
			root = NULL;
		}
	}
	if (error_type != NULL && error_type[0] != '\0' && error_type[0] != ':')
		type = error_type;
	if (type == NULL)
		type = body_string(root, "code");
	if (type == NULL)
		type = body_string(root, "Code");
	if (type == NULL && body_string(root, "__type") != NULL) {
		type = body_string(root, "__type");
		hash = strrchr(type, '#');
		if (hash != NULL)
			type = hash + 1;
	}
	if (type == NULL || type[0] == '\0') {
		snprintf(statusbuf, sizeof(statusbuf), "%ld", status);
		type = statusbuf;
	}

	if (status == 404)
		code = ERR_NOTFOUND;
	else if (status == 409)
		code = ERR_CONFLICT;
	else if (status == 412)
		code = ERR_PRECONDITION;
	else if (status == 429)
		code = ERR_THROTTLED;
	else if (status == 401 || status == 403)
		code = ERR_AUTH;
	else if (status >= 500 && status <= 599)
		code = ERR_TRANSIENT;
	else if (status == 413)
		code = ERR_TOOBIG;
	else if (status == 400 || status == 415)
		code = ERR_INVALID;
	else
		code = ERR_FAIL;
	/* The type outranks the status for throttles and auth: some services send them as 400. */
	{
		char cut[ERR_TYPE_MAX];
		size_t n = strcspn(type, ":");

		if (n >= sizeof(cut))
			n = sizeof(cut) - 1;
		memcpy(cut, type, n);
		cut[n] = '\0';
		if (lambda_error_is_throttle(cut))
			code = ERR_THROTTLED;
		else if (in_list(cut, auth_types, nitems(auth_types)))
			code = ERR_AUTH;
	}

	msg = body_string(root, "message");
	if (msg == NULL)
		msg = body_string(root, "Message");
	if (msg != NULL && msg[0] != '\0')
		err_set(out, code, "%s", msg);
	else
		err_set(out, code, "HTTP %ld", status);
	err_set_type(out, type);
	if (out != NULL)
		out->http_status = status;
	if (request_id != NULL)
		err_set_request_id(out, request_id);
	else if (out != NULL)
		out->request_id[0] = '\0';
	json_decref(root);
	return code;
}
