#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "aws/lambda_request.h"
#include "aws/ratelimit.h"
#include "aws/sigv4.h"
#include "common/crypto.h"
#include "common/timeutil.h"
#include "common/uri.h"
#include "common/xmalloc.h"

static const char *const op_names[LAMBDA_OP__COUNT] = {
    [LAMBDA_OP_CREATE_FUNCTION] = "CreateFunction",
    [LAMBDA_OP_GET_FUNCTION] = "GetFunction",
    [LAMBDA_OP_GET_FUNCTION_CONFIGURATION] = "GetFunctionConfiguration",
    [LAMBDA_OP_LIST_FUNCTIONS] = "ListFunctions",
    [LAMBDA_OP_LIST_VERSIONS_BY_FUNCTION] = "ListVersionsByFunction",
    [LAMBDA_OP_UPDATE_FUNCTION_CODE] = "UpdateFunctionCode",
    [LAMBDA_OP_UPDATE_FUNCTION_CONFIGURATION] = "UpdateFunctionConfiguration",
    [LAMBDA_OP_PUBLISH_VERSION] = "PublishVersion",
    [LAMBDA_OP_DELETE_FUNCTION] = "DeleteFunction",
    [LAMBDA_OP_CREATE_ALIAS] = "CreateAlias",
    [LAMBDA_OP_GET_ALIAS] = "GetAlias",
    [LAMBDA_OP_UPDATE_ALIAS] = "UpdateAlias",
    [LAMBDA_OP_DELETE_ALIAS] = "DeleteAlias",
    [LAMBDA_OP_LIST_ALIASES] = "ListAliases",
    [LAMBDA_OP_GET_LAYER_VERSION] = "GetLayerVersion",
    [LAMBDA_OP_GET_LAYER_VERSION_BY_ARN] = "GetLayerVersionByArn",
    [LAMBDA_OP_LIST_LAYER_VERSIONS] = "ListLayerVersions",
    [LAMBDA_OP_INVOKE] = "Invoke",
    [LAMBDA_OP_TAG_RESOURCE] = "TagResource",
    [LAMBDA_OP_UNTAG_RESOURCE] = "UntagResource",
    [LAMBDA_OP_LIST_TAGS] = "ListTags",
    [LAMBDA_OP_LIST_EVENT_SOURCE_MAPPINGS] = "ListEventSourceMappings",
    [LAMBDA_OP_LIST_PROVISIONED_CONCURRENCY_CONFIGS] = "ListProvisionedConcurrencyConfigs",
};

const char *
lambda_op_name(enum lambda_op op)
{
	if ((int)op < 0 || op >= LAMBDA_OP__COUNT)
		return "?";
	return op_names[op];
}

const char *
lambda_op_bucket(enum lambda_op op)
{
	if (op == LAMBDA_OP_GET_FUNCTION)
		return RATELIMIT_GETFUNCTION;
	if (op == LAMBDA_OP_INVOKE)
		return NULL;
	return RATELIMIT_SHARED;
}

void
lambda_request_init(struct lambda_request *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->path, LAMBDA_PATH_MAX);
	buf_init(&r->query, LAMBDA_QUERY_MAX);
	buf_init(&r->body, LAMBDA_BODY_MAX);
}

void
lambda_request_clear(struct lambda_request *r)
{
	size_t i;

	if (r == NULL)
		return;
	buf_free(&r->path);
	buf_free(&r->query);
	buf_free(&r->body);
	for (i = 0; i < r->nextra; i++) {
		free(r->extra[i].name);
		free(r->extra[i].value);
	}
	free(r->label);
	lambda_request_init(r);
}

/* Check a required path label. */
static int
check_label(const char *what, const char *s, size_t max, struct err *err)
{
	if (s == NULL || s[0] == '\0')
		return err_set(err, ERR_INVALID, "%s is required", what);
	if (strlen(s) > max)
		return err_set(err, ERR_INVALID, "%s is longer than %zu characters", what, max);
	return 0;
}

static int
too_big(struct err *err, const char *what)
{
	return err_set(err, ERR_TOOBIG, "request %s is over its cap", what);
}

static int
start(struct lambda_request *r, enum lambda_op op, const char *method, const char *label)
{
	r->op = op;
	r->method = method;
	free(r->label);
	r->label = xstrdup(label != NULL ? label : "-");
	return 0;
}

/* Append a literal piece of path. */
static int
path_put(struct lambda_request *r, const char *s, struct err *err)
{
	if (buf_puts(&r->path, s) != 0)
		return too_big(err, "path");
	return 0;
}

/* Append a label, percent-encoded once. */
static int
path_label(struct lambda_request *r, const char *s, struct err *err)
{
	if (uri_encode(&r->path, s, strlen(s), false) != 0)
		return too_big(err, "path");
	return 0;
}

/* Append key=value to the query (both encoded); nothing when value is NULL. */
static int
query_add(struct lambda_request *r, const char *key, const char *value, struct err *err)
{
	if (value == NULL)
		return 0;
	if ((r->query.len > 0 && buf_putc(&r->query, '&') != 0) ||
	    uri_encode(&r->query, key, strlen(key), false) != 0 || buf_putc(&r->query, '=') != 0 ||
	    uri_encode(&r->query, value, strlen(value), false) != 0)
		return too_big(err, "query");
	return 0;
}

static int
query_add_int(struct lambda_request *r, const char *key, long long value, struct err *err)
{
	char num[32];

	snprintf(num, sizeof(num), "%lld", value);
	return query_add(r, key, num, err);
}

/* Serialize body into r (compact, keys in insertion order) and release it. */
static int
set_json_body(struct lambda_request *r, json_t *body, struct err *err)
{
	char *text;
	int rc = 0;

	text = json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(15));
	json_decref(body);
	if (text == NULL)
		return err_set(err, ERR_INVALID, "request body could not be serialized");
	buf_reset(&r->body);
	if (buf_puts(&r->body, text) != 0)
		rc = too_big(err, "body");
	free(text);
	r->has_body = true;
	r->json = true;
	return rc;
}

/* Set obj[key] to a string; NULL leaves it out. Fails on text that is not UTF-8. */
static int
put_str(json_t *obj, const char *key, const char *value, struct err *err)
{
	json_t *v;

	if (value == NULL)
		return 0;
	v = json_string(value);
	if (v == NULL)
		return err_set(err, ERR_INVALID, "%s is not valid UTF-8", key);
	json_object_set_new(obj, key, v);
	return 0;
}

static int
put_pairs(json_t *obj, const char *key, const struct lambda_pair *p, size_t n, struct err *err)
{
	json_t *map;
	size_t i;

	map = json_object();
	for (i = 0; i < n; i++) {
		if (p[i].key == NULL || p[i].value == NULL) {
			json_decref(map);
			return err_set(
			    err, ERR_INVALID, "%s entry %zu has no key or value", key, i);
		}
		if (put_str(map, p[i].key, p[i].value, err) != 0) {
			json_decref(map);
			return ERR_INVALID;
		}
		/* json_object_set_new() also fails quietly on a key that is not UTF-8. */
		if (json_object_get(map, p[i].key) == NULL) {
			json_decref(map);
			return err_set(err, ERR_INVALID, "%s key %zu is not valid UTF-8", key, i);
		}
	}
	json_object_set_new(obj, key, map);
	return 0;
}

static int
put_strings(json_t *obj, const char *key, const char *const *v, size_t n, struct err *err)
{
	json_t *arr, *s;
	size_t i;

	arr = json_array();
	for (i = 0; i < n; i++) {
		s = v[i] != NULL ? json_string(v[i]) : NULL;
		if (s == NULL) {
			json_decref(arr);
			return err_set(
			    err, ERR_INVALID, "%s entry %zu is missing or not UTF-8", key, i);
		}
		json_array_append_new(arr, s);
	}
	json_object_set_new(obj, key, arr);
	return 0;
}

/* The code source members (FunctionCode shape, or UpdateFunctionCode's top level). */
static int
put_code(json_t *obj, const struct lambda_code *c, struct err *err)
{
	int sources = 0;
	char *b64;

	sources += c->image_uri != NULL;
	sources += c->s3_bucket != NULL || c->s3_key != NULL;
	sources += c->zip != NULL;
	if (sources != 1)
		return err_set(err, ERR_INVALID,
		    "code needs exactly one source: image_uri, s3_bucket+s3_key or zip");
	if (c->s3_bucket != NULL || c->s3_key != NULL) {
		if (c->s3_bucket == NULL || c->s3_key == NULL)
			return err_set(err, ERR_INVALID, "code needs both s3_bucket and s3_key");
		if (put_str(obj, "S3Bucket", c->s3_bucket, err) != 0 ||
		    put_str(obj, "S3Key", c->s3_key, err) != 0 ||
		    put_str(obj, "S3ObjectVersion", c->s3_object_version, err) != 0)
			return ERR_INVALID;
	}
	if (c->image_uri != NULL && put_str(obj, "ImageUri", c->image_uri, err) != 0)
		return ERR_INVALID;
	if (c->zip != NULL) {
		if (c->zip_len > (LAMBDA_BODY_MAX / 4) * 3 - 1024)
			return too_big(err, "zip");
		b64 = crypto_base64_encode(c->zip, c->zip_len);
		json_object_set_new(obj, "ZipFile", json_string(b64));
		free(b64);
	}
	return 0;
}

int
lambda_request_create_function(
    struct lambda_request *r, const struct lambda_create_function *in, struct err *err)
{
	json_t *body, *code;
	const char *ptype;

	if (check_label("function name", in->name, LAMBDA_NAME_MAX, err) != 0 ||
	    check_label("role", in->role, 2048, err) != 0)
		return ERR_INVALID;
	start(r, LAMBDA_OP_CREATE_FUNCTION, "POST", in->name);
	if (path_put(r, "/2015-03-31/functions", err) != 0)
		return ERR_TOOBIG;
	ptype = in->package_type;
	if (ptype == NULL)
		ptype = in->code.image_uri != NULL ? "Image" : "Zip";
	body = json_object();
	code = json_object();
	if (put_str(body, "FunctionName", in->name, err) != 0 ||
	    put_str(body, "Runtime", in->runtime, err) != 0 ||
	    put_str(body, "Role", in->role, err) != 0 ||
	    put_str(body, "Handler", in->handler, err) != 0 || put_code(code, &in->code, err) != 0)
		goto bad;
	json_object_set_new(body, "Code", code);
	code = NULL;
	if (put_str(body, "Description", in->description, err) != 0)
		goto bad;
	if (in->timeout > 0)
		json_object_set_new(body, "Timeout", json_integer(in->timeout));
	if (in->memory > 0)
		json_object_set_new(body, "MemorySize", json_integer(in->memory));
	if (in->publish)
		json_object_set_new(body, "Publish", json_true());
	if (put_str(body, "PackageType", ptype, err) != 0)
		goto bad;
	if (in->nenvironment > 0) {
		json_t *env = json_object();

		if (put_pairs(env, "Variables", in->environment, in->nenvironment, err) != 0) {
			json_decref(env);
			goto bad;
		}
		json_object_set_new(body, "Environment", env);
	}
	if (in->ntags > 0 && put_pairs(body, "Tags", in->tags, in->ntags, err) != 0)
		goto bad;
	if (in->nlayers > 0 && put_strings(body, "Layers", in->layers, in->nlayers, err) != 0)
		goto bad;
	if (in->architecture != NULL &&
	    put_strings(body, "Architectures", &in->architecture, 1, err) != 0)
		goto bad;
	return set_json_body(r, body, err);
bad:
	json_decref(code);
	json_decref(body);
	return err != NULL && err->code != 0 ? err->code : ERR_INVALID;
}

static int
function_path(struct lambda_request *r, const char *prefix, const char *function,
    const char *suffix, struct err *err)
{
	if (path_put(r, prefix, err) != 0 || path_label(r, function, err) != 0 ||
	    (suffix != NULL && path_put(r, suffix, err) != 0))
		return ERR_TOOBIG;
	return 0;
}

static int
check_qualifier(const char *qualifier, struct err *err)
{
	if (qualifier != NULL && (qualifier[0] == '\0' || strlen(qualifier) > LAMBDA_QUALIFIER_MAX))
		return err_set(err, ERR_INVALID, "qualifier must have 1 to %d characters",
		    LAMBDA_QUALIFIER_MAX);
	return 0;
}

int
lambda_request_get_function(
    struct lambda_request *r, const char *function, const char *qualifier, struct err *err)
{
	if (check_label("function name", function, LAMBDA_NAME_MAX, err) != 0 ||
	    check_qualifier(qualifier, err) != 0)
		return ERR_INVALID;
	start(r, LAMBDA_OP_GET_FUNCTION, "GET", function);
	if (function_path(r, "/2015-03-31/functions/", function, NULL, err) != 0 ||
	    query_add(r, "Qualifier", qualifier, err) != 0)
		return ERR_TOOBIG;
	return 0;
}

int
lambda_request_get_function_configuration(
    struct lambda_request *r, const char *function, const char *qualifier, struct err *err)
{
	if (check_label("function name", function, LAMBDA_NAME_MAX, err) != 0 ||
	    check_qualifier(qualifier, err) != 0)
		return ERR_INVALID;
	start(r, LAMBDA_OP_GET_FUNCTION_CONFIGURATION, "GET", function);
	if (function_path(r, "/2015-03-31/functions/", function, "/configuration", err) != 0 ||
	    query_add(r, "Qualifier", qualifier, err) != 0)
		return ERR_TOOBIG;
	return 0;
}

/* Marker and MaxItems, common to every list operation. */
static int
list_paging(struct lambda_request *r, const struct lambda_list *in, struct err *err)
{
	if (in == NULL)
		return 0;
	if (in->marker != NULL && query_add(r, "Marker", in->marker, err) != 0)
		return ERR_TOOBIG;
	if (in->max_items < 0)
		return err_set(err, ERR_INVALID, "max_items must not be negative");
	if (in->max_items > 0 && query_add_int(r, "MaxItems", in->max_items, err) != 0)
		return ERR_TOOBIG;
	return 0;
}

int
lambda_request_list_functions(
    struct lambda_request *r, const struct lambda_list *in, struct err *err)
{
	start(r, LAMBDA_OP_LIST_FUNCTIONS, "GET", NULL);
	/* The trailing '/' is the 1.29 model's; the emulator and Lambda accept it. */
	if (path_put(r, "/2015-03-31/functions/", err) != 0)
		return ERR_TOOBIG;
	if (in != NULL && in->all_versions && query_add(r, "FunctionVersion", "ALL", err) != 0)
		return ERR_TOOBIG;
	return list_paging(r, in, err);
}

int
lambda_request_list_versions(
    struct lambda_request *r, const char *function, const struct lambda_list *in, struct err *err)
{
	if (check_label("function name", function, LAMBDA_NAME_MAX, err) != 0)
		return ERR_INVALID;
	start(r, LAMBDA_OP_LIST_VERSIONS_BY_FUNCTION, "GET", function);
	if (function_path(r, "/2015-03-31/functions/", function, "/versions", err) != 0)
		return ERR_TOOBIG;
	return list_paging(r, in, err);
}

int
lambda_request_update_function_code(struct lambda_request *r, const char *function,
    const struct lambda_update_code *in, struct err *err)
{
	json_t *body;

	if (check_label("function name", function, LAMBDA_NAME_MAX, err) != 0)
		return ERR_INVALID;
	start(r, LAMBDA_OP_UPDATE_FUNCTION_CODE, "PUT", function);
	if (function_path(r, "/2015-03-31/functions/", function, "/code", err) != 0)
		return ERR_TOOBIG;
	body = json_object();
	if (put_code(body, &in->code, err) != 0)
		goto bad;
	if (in->publish)
		json_object_set_new(body, "Publish", json_true());
	if (in->dry_run)
		json_object_set_new(body, "DryRun", json_true());
	if (put_str(body, "RevisionId", in->revision_id, err) != 0)
		goto bad;
	if (in->architecture != NULL &&
	    put_strings(body, "Architectures", &in->architecture, 1, err) != 0)
		goto bad;
	return set_json_body(r, body, err);
bad:
	json_decref(body);
	return err != NULL && err->code != 0 ? err->code : ERR_INVALID;
}

int
lambda_request_update_function_configuration(struct lambda_request *r, const char *function,
    const struct lambda_update_config *in, struct err *err)
{
	json_t *body, *env;

	if (check_label("function name", function, LAMBDA_NAME_MAX, err) != 0)
		return ERR_INVALID;
	start(r, LAMBDA_OP_UPDATE_FUNCTION_CONFIGURATION, "PUT", function);
	if (function_path(r, "/2015-03-31/functions/", function, "/configuration", err) != 0)
		return ERR_TOOBIG;
	body = json_object();
	if ((in->set & LAMBDA_CONFIG_ROLE) && put_str(body, "Role", in->role, err) != 0)
		goto bad;
	if ((in->set & LAMBDA_CONFIG_HANDLER) && put_str(body, "Handler", in->handler, err) != 0)
		goto bad;
	if ((in->set & LAMBDA_CONFIG_DESCRIPTION) &&
	    put_str(body, "Description", in->description != NULL ? in->description : "", err) != 0)
		goto bad;
	if (in->set & LAMBDA_CONFIG_TIMEOUT)
		json_object_set_new(body, "Timeout", json_integer(in->timeout));
	if (in->set & LAMBDA_CONFIG_MEMORY)
		json_object_set_new(body, "MemorySize", json_integer(in->memory));
	if (in->set & LAMBDA_CONFIG_ENVIRONMENT) {
		env = json_object();
		if (put_pairs(env, "Variables", in->environment, in->nenvironment, err) != 0) {
			json_decref(env);
			goto bad;
		}
		json_object_set_new(body, "Environment", env);
	}
	if ((in->set & LAMBDA_CONFIG_RUNTIME) && put_str(body, "Runtime", in->runtime, err) != 0)
		goto bad;
	if (put_str(body, "RevisionId", in->revision_id, err) != 0)
		goto bad;
	if ((in->set & LAMBDA_CONFIG_LAYERS) &&
	    put_strings(body, "Layers", in->layers, in->nlayers, err) != 0)
		goto bad;
	if (((in->set & LAMBDA_CONFIG_ROLE) && in->role == NULL) ||
	    ((in->set & LAMBDA_CONFIG_HANDLER) && in->handler == NULL) ||
	    ((in->set & LAMBDA_CONFIG_RUNTIME) && in->runtime == NULL)) {
		err_set(err, ERR_INVALID, "a field marked as set has no value");
		goto bad;
	}
	return set_json_body(r, body, err);
bad:
	json_decref(body);
	return err != NULL && err->code != 0 ? err->code : ERR_INVALID;
}

int
lambda_request_publish_version(struct lambda_request *r, const char *function,
    const struct lambda_publish *in, struct err *err)
{
	json_t *body;

	if (check_label("function name", function, LAMBDA_NAME_MAX, err) != 0)
		return ERR_INVALID;
	start(r, LAMBDA_OP_PUBLISH_VERSION, "POST", function);
	if (function_path(r, "/2015-03-31/functions/", function, "/versions", err) != 0)
		return ERR_TOOBIG;
	/* With no member set, botocore sends "{}": the operation has a body. */
	body = json_object();
	if (in != NULL && (put_str(body, "CodeSha256", in->code_sha256, err) != 0 ||
	                      put_str(body, "Description", in->description, err) != 0 ||
	                      put_str(body, "RevisionId", in->revision_id, err) != 0)) {
		json_decref(body);
		return ERR_INVALID;
	}
	return set_json_body(r, body, err);
}

int
lambda_request_delete_function(
    struct lambda_request *r, const char *function, const char *qualifier, struct err *err)
{
	if (check_label("function name", function, LAMBDA_NAME_MAX, err) != 0 ||
	    check_qualifier(qualifier, err) != 0)
		return ERR_INVALID;
	start(r, LAMBDA_OP_DELETE_FUNCTION, "DELETE", function);
	if (function_path(r, "/2015-03-31/functions/", function, NULL, err) != 0 ||
	    query_add(r, "Qualifier", qualifier, err) != 0)
		return ERR_TOOBIG;
	return 0;
}

static int
routing(json_t *body, const struct lambda_alias_spec *in, struct err *err)
{
	json_t *weights, *rc;

	if (in->routing_version != NULL &&
	    (in->routing_version[0] == '\0' || in->routing_weight < 0.0 ||
	        in->routing_weight > 1.0))
		return err_set(err, ERR_INVALID, "routing needs a version and a weight in [0, 1]");
	weights = json_object();
	if (in->routing_version != NULL &&
	    json_object_set_new(weights, in->routing_version, json_real(in->routing_weight)) != 0) {
		json_decref(weights);
		return err_set(err, ERR_INVALID, "routing version is not valid UTF-8");
	}
	rc = json_object();
	json_object_set_new(rc, "AdditionalVersionWeights", weights);
	json_object_set_new(body, "RoutingConfig", rc);
	return 0;
}

static int
alias_path(struct lambda_request *r, const char *function, const char *name, struct err *err)
{
	if (function_path(r, "/2015-03-31/functions/", function, "/aliases", err) != 0)
		return ERR_TOOBIG;
	if (name != NULL && (path_put(r, "/", err) != 0 || path_label(r, name, err) != 0))
		return ERR_TOOBIG;
	return 0;
}

int
lambda_request_create_alias(struct lambda_request *r, const char *function, const char *name,
    const struct lambda_alias_spec *in, struct err *err)
{
	json_t *body;

	if (check_label("function name", function, LAMBDA_NAME_MAX, err) != 0 ||
	    check_label("alias name", name, LAMBDA_QUALIFIER_MAX, err) != 0 ||
	    check_label("alias version", in->function_version, LAMBDA_QUALIFIER_MAX, err) != 0)
		return ERR_INVALID;
	start(r, LAMBDA_OP_CREATE_ALIAS, "POST", function);
	if (alias_path(r, function, NULL, err) != 0)
		return ERR_TOOBIG;
	body = json_object();
	if (put_str(body, "Name", name, err) != 0 ||
	    put_str(body, "FunctionVersion", in->function_version, err) != 0 ||
	    put_str(body, "Description", in->description, err) != 0 ||
	    ((in->set_routing || in->routing_version != NULL) && routing(body, in, err) != 0)) {
		json_decref(body);
		return err != NULL && err->code != 0 ? err->code : ERR_INVALID;
	}
	return set_json_body(r, body, err);
}

int
lambda_request_get_alias(
    struct lambda_request *r, const char *function, const char *name, struct err *err)
{
	if (check_label("function name", function, LAMBDA_NAME_MAX, err) != 0 ||
	    check_label("alias name", name, LAMBDA_QUALIFIER_MAX, err) != 0)
		return ERR_INVALID;
	start(r, LAMBDA_OP_GET_ALIAS, "GET", function);
	return alias_path(r, function, name, err);
}

int
lambda_request_update_alias(struct lambda_request *r, const char *function, const char *name,
    const struct lambda_alias_spec *in, struct err *err)
{
	json_t *body;

	if (check_label("function name", function, LAMBDA_NAME_MAX, err) != 0 ||
	    check_label("alias name", name, LAMBDA_QUALIFIER_MAX, err) != 0)
		return ERR_INVALID;
	start(r, LAMBDA_OP_UPDATE_ALIAS, "PUT", function);
	if (alias_path(r, function, name, err) != 0)
		return ERR_TOOBIG;
	body = json_object();
	if (put_str(body, "FunctionVersion", in->function_version, err) != 0 ||
	    put_str(body, "Description", in->description, err) != 0 ||
	    (in->set_routing && routing(body, in, err) != 0) ||
	    put_str(body, "RevisionId", in->revision_id, err) != 0) {
		json_decref(body);
		return err != NULL && err->code != 0 ? err->code : ERR_INVALID;
	}
	return set_json_body(r, body, err);
}

int
lambda_request_delete_alias(
    struct lambda_request *r, const char *function, const char *name, struct err *err)
{
	if (check_label("function name", function, LAMBDA_NAME_MAX, err) != 0 ||
	    check_label("alias name", name, LAMBDA_QUALIFIER_MAX, err) != 0)
		return ERR_INVALID;
	start(r, LAMBDA_OP_DELETE_ALIAS, "DELETE", function);
	return alias_path(r, function, name, err);
}

int
lambda_request_list_aliases(
    struct lambda_request *r, const char *function, const struct lambda_list *in, struct err *err)
{
	if (check_label("function name", function, LAMBDA_NAME_MAX, err) != 0)
		return ERR_INVALID;
	start(r, LAMBDA_OP_LIST_ALIASES, "GET", function);
	if (alias_path(r, function, NULL, err) != 0)
		return ERR_TOOBIG;
	if (in != NULL && query_add(r, "FunctionVersion", in->function_version, err) != 0)
		return ERR_TOOBIG;
	return list_paging(r, in, err);
}

int
lambda_request_get_layer_version(
    struct lambda_request *r, const char *layer, long long version, struct err *err)
{
	char num[32];

	if (check_label("layer name", layer, 140, err) != 0)
		return ERR_INVALID;
	if (version < 1)
		return err_set(err, ERR_INVALID, "layer version must be positive");
	start(r, LAMBDA_OP_GET_LAYER_VERSION, "GET", layer);
	snprintf(num, sizeof(num), "%lld", version);
	if (path_put(r, "/2018-10-31/layers/", err) != 0 || path_label(r, layer, err) != 0 ||
	    path_put(r, "/versions/", err) != 0 || path_put(r, num, err) != 0)
		return ERR_TOOBIG;
	return 0;
}

int
lambda_request_get_layer_version_by_arn(struct lambda_request *r, const char *arn, struct err *err)
{
	if (check_label("layer version ARN", arn, 140, err) != 0)
		return ERR_INVALID;
	start(r, LAMBDA_OP_GET_LAYER_VERSION_BY_ARN, "GET", arn);
	if (path_put(r, "/2018-10-31/layers", err) != 0 ||
	    query_add(r, "find", "LayerVersion", err) != 0 || query_add(r, "Arn", arn, err) != 0)
		return ERR_TOOBIG;
	return 0;
}

int
lambda_request_list_layer_versions(
    struct lambda_request *r, const char *layer, const struct lambda_list *in, struct err *err)
{
	if (check_label("layer name", layer, 140, err) != 0)
		return ERR_INVALID;
	start(r, LAMBDA_OP_LIST_LAYER_VERSIONS, "GET", layer);
	if (path_put(r, "/2018-10-31/layers/", err) != 0 || path_label(r, layer, err) != 0 ||
	    path_put(r, "/versions", err) != 0)
		return ERR_TOOBIG;
	if (in != NULL &&
	    (query_add(r, "CompatibleRuntime", in->compatible_runtime, err) != 0 ||
	        query_add(r, "CompatibleArchitecture", in->compatible_architecture, err) != 0))
		return ERR_TOOBIG;
	return list_paging(r, in, err);
}

/* A header value we send must not be able to end the header. */
static int
add_extra(struct lambda_request *r, const char *name, const char *value, struct err *err)
{
	if (strpbrk(value, "\r\n") != NULL || strlen(value) > LAMBDA_HEADER_LINE_MAX - 64)
		return err_set(err, ERR_INVALID, "%s is not a valid header value", name);
	if (r->nextra >= nitems(r->extra))
		return err_set(err, ERR_INVALID, "too many headers");
	r->extra[r->nextra].name = xstrdup(name);
	r->extra[r->nextra++].value = xstrdup(value);
	return 0;
}

int
lambda_request_invoke(
    struct lambda_request *r, const char *function, const struct lambda_invoke *in, struct err *err)
{
	if (check_label("function name", function, LAMBDA_NAME_MAX, err) != 0 ||
	    check_qualifier(in->qualifier, err) != 0)
		return ERR_INVALID;
	start(r, LAMBDA_OP_INVOKE, "POST", function);
	if (function_path(r, "/2015-03-31/functions/", function, "/invocations", err) != 0 ||
	    query_add(r, "Qualifier", in->qualifier, err) != 0)
		return ERR_TOOBIG;
	if (in->invocation_type != NULL &&
	    add_extra(r, "X-Amz-Invocation-Type", in->invocation_type, err) != 0)
		return ERR_INVALID;
	if (in->log_tail && add_extra(r, "X-Amz-Log-Type", "Tail", err) != 0)
		return ERR_INVALID;
	if (in->client_context != NULL &&
	    add_extra(r, "X-Amz-Client-Context", in->client_context, err) != 0)
		return ERR_INVALID;
	/* The raw payload, without Content-Type (botocore sends none for a blob payload). */
	if (in->payload != NULL && buf_append(&r->body, in->payload, in->payload_len) != 0)
		return too_big(err, "payload");
	r->has_body = true;
	r->json = false;
	r->timeout_ms = in->timeout_ms > 0 ? in->timeout_ms : LAMBDA_INVOKE_TIMEOUT_MS;
	return 0;
}

static int
tags_path(struct lambda_request *r, const char *arn, struct err *err)
{
	if (path_put(r, "/2017-03-31/tags/", err) != 0 || path_label(r, arn, err) != 0)
		return ERR_TOOBIG;
	return 0;
}

int
lambda_request_tag_resource(struct lambda_request *r, const char *arn,
    const struct lambda_pair *tags, size_t ntags, struct err *err)
{
	json_t *body;

	if (check_label("function ARN", arn, LAMBDA_NAME_MAX, err) != 0)
		return ERR_INVALID;
	if (ntags == 0)
		return err_set(err, ERR_INVALID, "no tags to set");
	start(r, LAMBDA_OP_TAG_RESOURCE, "POST", arn);
	if (tags_path(r, arn, err) != 0)
		return ERR_TOOBIG;
	body = json_object();
	if (put_pairs(body, "Tags", tags, ntags, err) != 0) {
		json_decref(body);
		return ERR_INVALID;
	}
	return set_json_body(r, body, err);
}

int
lambda_request_untag_resource(struct lambda_request *r, const char *arn, const char *const *keys,
    size_t nkeys, struct err *err)
{
	size_t i;

	if (check_label("function ARN", arn, LAMBDA_NAME_MAX, err) != 0)
		return ERR_INVALID;
	if (nkeys == 0)
		return err_set(err, ERR_INVALID, "no tag keys to remove");
	start(r, LAMBDA_OP_UNTAG_RESOURCE, "DELETE", arn);
	if (tags_path(r, arn, err) != 0)
		return ERR_TOOBIG;
	for (i = 0; i < nkeys; i++) {
		if (keys[i] == NULL)
			return err_set(err, ERR_INVALID, "tag key %zu is missing", i);
		if (query_add(r, "tagKeys", keys[i], err) != 0)
			return ERR_TOOBIG;
	}
	return 0;
}

int
lambda_request_list_tags(struct lambda_request *r, const char *arn, struct err *err)
{
	if (check_label("function ARN", arn, LAMBDA_NAME_MAX, err) != 0)
		return ERR_INVALID;
	start(r, LAMBDA_OP_LIST_TAGS, "GET", arn);
	return tags_path(r, arn, err);
}

int
lambda_request_list_event_source_mappings(
    struct lambda_request *r, const char *function, const struct lambda_list *in, struct err *err)
{
	if (function != NULL && check_label("function name", function, LAMBDA_NAME_MAX, err) != 0)
		return ERR_INVALID;
	start(r, LAMBDA_OP_LIST_EVENT_SOURCE_MAPPINGS, "GET", function);
	if (path_put(r, "/2015-03-31/event-source-mappings/", err) != 0 ||
	    query_add(r, "FunctionName", function, err) != 0)
		return ERR_TOOBIG;
	return list_paging(r, in, err);
}

int
lambda_request_list_provisioned_concurrency_configs(
    struct lambda_request *r, const char *function, const struct lambda_list *in, struct err *err)
{
	if (check_label("function name", function, LAMBDA_NAME_MAX, err) != 0)
		return ERR_INVALID;
	start(r, LAMBDA_OP_LIST_PROVISIONED_CONCURRENCY_CONFIGS, "GET", function);
	/* The model's request URI carries List=ALL in its query. */
	if (function_path(r, "/2019-09-30/functions/", function, "/provisioned-concurrency", err) !=
	        0 ||
	    query_add(r, "List", "ALL", err) != 0)
		return ERR_TOOBIG;
	return list_paging(r, in, err);
}

int
lambda_request_set_marker(struct lambda_request *r, const char *marker, struct err *err)
{
	struct buf q = BUF_INIT(LAMBDA_QUERY_MAX);
	const char *p = buf_cstr(&r->query), *amp;
	size_t n;
	int rc = 0;

	/* Keep every parameter but Marker, then append the new one. */
	while (*p != '\0') {
		amp = strchr(p, '&');
		n = amp != NULL ? (size_t)(amp - p) : strlen(p);
		if (!(n >= 7 && strncmp(p, "Marker=", 7) == 0)) {
			if ((q.len > 0 && buf_putc(&q, '&') != 0) || buf_append(&q, p, n) != 0) {
				rc = too_big(err, "query");
				goto out;
			}
		}
		p += n;
		if (*p == '&')
			p++;
	}
	buf_free(&r->query);
	r->query = q;
	buf_init(&q, LAMBDA_QUERY_MAX);
	if (marker != NULL && query_add(r, "Marker", marker, err) != 0)
		rc = ERR_TOOBIG;
out:
	buf_free(&q);
	return rc;
}

void
lambda_signed_clear(struct lambda_signed *s)
{
	size_t i;

	if (s == NULL)
		return;
	free(s->url);
	/* X-Amz-Security-Token carries the session token: it does not outlive its use. */
	for (i = 0; i < s->nheaders; i++) {
		explicit_bzero(s->headers[i], strlen(s->headers[i]));
		free(s->headers[i]);
	}
	memset(s, 0, sizeof(*s));
}

int
lambda_request_sign(const struct lambda_request *r, const struct url *e, const char *region,
    const struct aws_credentials *creds, time_t now, const char *user_agent,
    struct lambda_signed *out, struct err *err)
{
	struct sigv4_header h[SIGV4_EXTRA_HEADERS_MAX];
	struct sigv4_credentials sc;
	struct sigv4_sign_opts so;
	struct sigv4_signed sig = {{NULL}, 0};
	size_t nh = 0, i;
	int rc;

	memset(out, 0, sizeof(*out));
	if (creds == NULL || creds->access_key_id == NULL || creds->secret_access_key == NULL)
		return err_set(err, ERR_AUTH, "no credentials to sign with");
	if (creds->session_token != NULL && strpbrk(creds->session_token, "\r\n") != NULL)
		return err_set(err, ERR_AUTH, "session token has a line break");
	if (r->json)
		h[nh++] = (struct sigv4_header){"Content-Type", "application/json"};
	for (i = 0; i < r->nextra; i++)
		h[nh++] = (struct sigv4_header){r->extra[i].name, r->extra[i].value};
	out->url = xasprintf("%s://%s%s%s%s%s", e->scheme, e->authority, e->path,
	    buf_cstr(&r->path), r->query.len > 0 ? "?" : "", buf_cstr(&r->query));
	sc = (struct sigv4_credentials){
	    creds->access_key_id, creds->secret_access_key, creds->session_token};
	so = (struct sigv4_sign_opts){.method = r->method,
	    .url = out->url,
	    .headers = h,
	    .nheaders = nh,
	    .body = r->body.data,
	    .len = r->body.len,
	    .creds = &sc,
	    .region = region,
	    .service = "lambda",
	    .now = now};
	rc = sigv4_sign_url(&so, &sig, err);
	if (rc != 0)
		goto out;
	/* The Host sigv4_sign_url() signed: url_parse() gives it from out->url as e has it. */
	out->headers[out->nheaders++] = xasprintf("Host: %s", e->authority);
	for (i = 0; i < sig.nlines && out->nheaders < LAMBDA_HEADERS_MAX; i++)
		out->headers[out->nheaders++] = xstrdup(sig.lines[i]);
	if (!r->json && r->has_body && out->nheaders < LAMBDA_HEADERS_MAX)
		/* An empty value tells libcurl not to add its form Content-Type. */
		out->headers[out->nheaders++] = xstrdup("Content-Type:");
	if (out->nheaders < LAMBDA_HEADERS_MAX)
		out->headers[out->nheaders++] =
		    xasprintf("User-Agent: %s", user_agent != NULL ? user_agent : "tether");
out:
	sigv4_signed_free(&sig);
	if (rc != 0)
		lambda_signed_clear(out);
	return rc;
}
