/*
 * lambda_wire: the wire form of Lambda requests as tether builds and signs them, for
 * wire_differential.py, which compares it with what botocore's Lambda client serializes
 * for the same parameters.
 *
 * Reads one JSON object per line on stdin, {"op": "CreateFunction", "params": {...}}, where
 * params uses the service model's member names (blobs base64-encoded), and optionally
 * "marker": a Marker to set afterwards with lambda_request_set_marker(). Prints one JSON
 * object per line: {"method", "path", "query", "body" (base64), "headers": {name: value}},
 * or {"error": message} when tether refuses the parameters.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "aws/endpoint.h"
#include "aws/lambda_request.h"
#include "common/crypto.h"
#include "common/xmalloc.h"

#define LINE_MAX_BYTES (1024 * 1024)
#define LIST_MAX 64

/* What one case borrowed from its params, released after the request is printed. */
struct scratch {
	struct lambda_pair pairs[2][LIST_MAX];
	const char *strs[2][LIST_MAX];
	unsigned char *zip;
	size_t zip_len;
};

static const char *
str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static long long
num(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? json_integer_value(v) : 0;
}

static bool
flag(json_t *o, const char *key)
{
	return json_is_true(json_object_get(o, key));
}

static size_t
pairs(json_t *map, struct lambda_pair *out)
{
	const char *k;
	json_t *v;
	size_t n = 0;

	json_object_foreach(map, k, v)
	{
		if (n == LIST_MAX)
			break;
		out[n].key = k;
		out[n].value = json_string_value(v);
		n++;
	}
	return n;
}

static size_t
strings(json_t *arr, const char **out)
{
	json_t *v;
	size_t i, n = 0;

	json_array_foreach(arr, i, v)
	{
		if (n == LIST_MAX)
			break;
		out[n++] = json_string_value(v);
	}
	return n;
}

static void
code(json_t *o, struct lambda_code *c, struct scratch *s)
{
	const char *zip = str(o, "ZipFile");

	c->image_uri = str(o, "ImageUri");
	c->s3_bucket = str(o, "S3Bucket");
	c->s3_key = str(o, "S3Key");
	c->s3_object_version = str(o, "S3ObjectVersion");
	if (zip != NULL && crypto_base64_decode(zip, strlen(zip), &s->zip, &s->zip_len) == 0) {
		c->zip = s->zip;
		c->zip_len = s->zip_len;
	}
}

static void
list(json_t *p, struct lambda_list *l)
{
	l->marker = str(p, "Marker");
	l->max_items = (int)num(p, "MaxItems");
	l->all_versions =
	    str(p, "FunctionVersion") != NULL && strcmp(str(p, "FunctionVersion"), "ALL") == 0;
	l->function_version = str(p, "FunctionVersion");
	l->compatible_runtime = str(p, "CompatibleRuntime");
	l->compatible_architecture = str(p, "CompatibleArchitecture");
}

static void
alias(json_t *p, struct lambda_alias_spec *a)
{
	json_t *rc = json_object_get(p, "RoutingConfig"), *w, *v;
	const char *k;

	a->function_version = str(p, "FunctionVersion");
	a->description = str(p, "Description");
	a->revision_id = str(p, "RevisionId");
	if (rc != NULL) {
		a->set_routing = true;
		w = json_object_get(rc, "AdditionalVersionWeights");
		json_object_foreach(w, k, v)
		{
			a->routing_version = k;
			a->routing_weight = json_number_value(v);
		}
	}
}

static int
build(struct lambda_request *r, const char *op, json_t *p, struct scratch *s, struct err *err)
{
	const char *fn = str(p, "FunctionName");

	if (strcmp(op, "CreateFunction") == 0) {
		struct lambda_create_function in = LAMBDA_CREATE_FUNCTION_INIT;
		json_t *arch = json_object_get(p, "Architectures");

		in.name = fn;
		in.role = str(p, "Role");
		in.package_type = str(p, "PackageType");
		code(json_object_get(p, "Code"), &in.code, s);
		in.runtime = str(p, "Runtime");
		in.handler = str(p, "Handler");
		in.description = str(p, "Description");
		in.memory = (int)num(p, "MemorySize");
		in.timeout = (int)num(p, "Timeout");
		in.nenvironment = pairs(
		    json_object_get(json_object_get(p, "Environment"), "Variables"), s->pairs[0]);
		in.environment = s->pairs[0];
		in.nlayers = strings(json_object_get(p, "Layers"), s->strs[0]);
		in.layers = s->strs[0];
		in.ntags = pairs(json_object_get(p, "Tags"), s->pairs[1]);
		in.tags = s->pairs[1];
		in.architecture = json_string_value(json_array_get(arch, 0));
		in.publish = flag(p, "Publish");
		return lambda_request_create_function(r, &in, err);
	}
	if (strcmp(op, "GetFunction") == 0)
		return lambda_request_get_function(r, fn, str(p, "Qualifier"), err);
	if (strcmp(op, "GetFunctionConfiguration") == 0)
		return lambda_request_get_function_configuration(r, fn, str(p, "Qualifier"), err);
	if (strcmp(op, "ListFunctions") == 0) {
		struct lambda_list l = LAMBDA_LIST_INIT;

		list(p, &l);
		return lambda_request_list_functions(r, &l, err);
	}
	if (strcmp(op, "ListVersionsByFunction") == 0) {
		struct lambda_list l = LAMBDA_LIST_INIT;

		list(p, &l);
		return lambda_request_list_versions(r, fn, &l, err);
	}
	if (strcmp(op, "UpdateFunctionCode") == 0) {
		struct lambda_update_code in = LAMBDA_UPDATE_CODE_INIT;
		json_t *arch = json_object_get(p, "Architectures");

		code(p, &in.code, s);
		in.revision_id = str(p, "RevisionId");
		in.architecture = json_string_value(json_array_get(arch, 0));
		in.publish = flag(p, "Publish");
		in.dry_run = flag(p, "DryRun");
		return lambda_request_update_function_code(r, fn, &in, err);
	}
	if (strcmp(op, "UpdateFunctionConfiguration") == 0) {
		struct lambda_update_config in = LAMBDA_UPDATE_CONFIG_INIT;
		json_t *env = json_object_get(p, "Environment");

		if (json_object_get(p, "MemorySize") != NULL) {
			in.set |= LAMBDA_CONFIG_MEMORY;
			in.memory = (int)num(p, "MemorySize");
		}
		if (json_object_get(p, "Timeout") != NULL) {
			in.set |= LAMBDA_CONFIG_TIMEOUT;
			in.timeout = (int)num(p, "Timeout");
		}
		if (json_object_get(p, "Description") != NULL) {
			in.set |= LAMBDA_CONFIG_DESCRIPTION;
			in.description = str(p, "Description");
		}
		if (json_object_get(p, "Role") != NULL) {
			in.set |= LAMBDA_CONFIG_ROLE;
			in.role = str(p, "Role");
		}
		if (json_object_get(p, "Handler") != NULL) {
			in.set |= LAMBDA_CONFIG_HANDLER;
			in.handler = str(p, "Handler");
		}
		if (json_object_get(p, "Runtime") != NULL) {
			in.set |= LAMBDA_CONFIG_RUNTIME;
			in.runtime = str(p, "Runtime");
		}
		if (env != NULL) {
			in.set |= LAMBDA_CONFIG_ENVIRONMENT;
			in.nenvironment = pairs(json_object_get(env, "Variables"), s->pairs[0]);
			in.environment = s->pairs[0];
		}
		if (json_object_get(p, "Layers") != NULL) {
			in.set |= LAMBDA_CONFIG_LAYERS;
			in.nlayers = strings(json_object_get(p, "Layers"), s->strs[0]);
			in.layers = s->strs[0];
		}
		in.revision_id = str(p, "RevisionId");
		return lambda_request_update_function_configuration(r, fn, &in, err);
	}
	if (strcmp(op, "PublishVersion") == 0) {
		struct lambda_publish in = LAMBDA_PUBLISH_INIT;

		in.code_sha256 = str(p, "CodeSha256");
		in.description = str(p, "Description");
		in.revision_id = str(p, "RevisionId");
		return lambda_request_publish_version(r, fn, &in, err);
	}
	if (strcmp(op, "DeleteFunction") == 0)
		return lambda_request_delete_function(r, fn, str(p, "Qualifier"), err);
	if (strcmp(op, "CreateAlias") == 0 || strcmp(op, "UpdateAlias") == 0) {
		struct lambda_alias_spec in = LAMBDA_ALIAS_SPEC_INIT;

		alias(p, &in);
		if (op[0] == 'C')
			return lambda_request_create_alias(r, fn, str(p, "Name"), &in, err);
		return lambda_request_update_alias(r, fn, str(p, "Name"), &in, err);
	}
	if (strcmp(op, "GetAlias") == 0)
		return lambda_request_get_alias(r, fn, str(p, "Name"), err);
	if (strcmp(op, "DeleteAlias") == 0)
		return lambda_request_delete_alias(r, fn, str(p, "Name"), err);
	if (strcmp(op, "ListAliases") == 0) {
		struct lambda_list l = LAMBDA_LIST_INIT;

		list(p, &l);
		l.all_versions = false;
		return lambda_request_list_aliases(r, fn, &l, err);
	}
	if (strcmp(op, "GetLayerVersion") == 0)
		return lambda_request_get_layer_version(
		    r, str(p, "LayerName"), num(p, "VersionNumber"), err);
	if (strcmp(op, "GetLayerVersionByArn") == 0)
		return lambda_request_get_layer_version_by_arn(r, str(p, "Arn"), err);
	if (strcmp(op, "ListLayerVersions") == 0) {
		struct lambda_list l = LAMBDA_LIST_INIT;

		list(p, &l);
		return lambda_request_list_layer_versions(r, str(p, "LayerName"), &l, err);
	}
	if (strcmp(op, "Invoke") == 0) {
		struct lambda_invoke in = LAMBDA_INVOKE_INIT;
		const char *payload = str(p, "Payload");

		in.qualifier = str(p, "Qualifier");
		in.invocation_type = str(p, "InvocationType");
		in.log_tail = str(p, "LogType") != NULL && strcmp(str(p, "LogType"), "Tail") == 0;
		in.client_context = str(p, "ClientContext");
		in.payload = payload;
		in.payload_len = payload != NULL ? strlen(payload) : 0;
		return lambda_request_invoke(r, fn, &in, err);
	}
	if (strcmp(op, "TagResource") == 0) {
		size_t n = pairs(json_object_get(p, "Tags"), s->pairs[0]);

		return lambda_request_tag_resource(r, str(p, "Resource"), s->pairs[0], n, err);
	}
	if (strcmp(op, "UntagResource") == 0) {
		size_t n = strings(json_object_get(p, "TagKeys"), s->strs[0]);

		return lambda_request_untag_resource(r, str(p, "Resource"), s->strs[0], n, err);
	}
	if (strcmp(op, "ListTags") == 0)
		return lambda_request_list_tags(r, str(p, "Resource"), err);
	if (strcmp(op, "ListEventSourceMappings") == 0) {
		struct lambda_list l = LAMBDA_LIST_INIT;

		list(p, &l);
		return lambda_request_list_event_source_mappings(r, fn, &l, err);
	}
	if (strcmp(op, "ListProvisionedConcurrencyConfigs") == 0) {
		struct lambda_list l = LAMBDA_LIST_INIT;

		list(p, &l);
		return lambda_request_list_provisioned_concurrency_configs(r, fn, &l, err);
	}
	return err_set(err, ERR_INVALID, "unknown operation %s", op);
}

static json_t *
wire(const struct lambda_request *r, struct err *err)
{
	static const struct aws_credentials creds = {
	    "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session-token", 0, "env"};
	struct lambda_signed s;
	struct url e;
	json_t *out = NULL, *headers;
	const char *colon, *value;
	char *b64 = NULL, *name;
	size_t i;

	if (endpoint_url_parse(&e, "http://127.0.0.1:9", err) != 0)
		return NULL;
	if (lambda_request_sign(r, &e, "us-east-1", &creds, 1440938160, "wire", &s, err) != 0)
		goto out;
	headers = json_object();
	for (i = 0; i < s.nheaders; i++) {
		colon = strchr(s.headers[i], ':');
		name = xstrndup(s.headers[i], (size_t)(colon - s.headers[i]));
		value = colon[1] == ' ' ? colon + 2 : colon + 1;
		json_object_set_new(headers, name, json_string(value));
		free(name);
	}
	b64 = crypto_base64_encode(r->body.data != NULL ? r->body.data : "", r->body.len);
	out = json_pack("{s:s, s:s, s:s, s:s, s:b, s:o}", "method", r->method, "path",
	    buf_cstr(&r->path), "query", buf_cstr(&r->query), "body", b64, "has_body", r->has_body,
	    "headers", headers);
	free(b64);
	lambda_signed_clear(&s);
out:
	url_clear(&e);
	return out;
}

int
main(void)
{
	char *line = xmalloc(LINE_MAX_BYTES);
	struct lambda_request r;
	struct scratch s;
	json_t *c, *out;
	struct err err;
	char *text;
	int rc;

	while (fgets(line, LINE_MAX_BYTES, stdin) != NULL) {
		c = json_loads(line, 0, NULL);
		if (c == NULL) {
			fprintf(stderr, "lambda_wire: bad input line\n");
			return 1;
		}
		memset(&s, 0, sizeof(s));
		err_clear(&err);
		lambda_request_init(&r);
		rc = build(&r, str(c, "op"), json_object_get(c, "params"), &s, &err);
		if (rc == 0 && str(c, "marker") != NULL)
			rc = lambda_request_set_marker(&r, str(c, "marker"), &err);
		out = rc == 0 ? wire(&r, &err) : NULL;
		if (out == NULL)
			out = json_pack("{s:s}", "error", err.message);
		text = json_dumps(out, JSON_COMPACT);
		printf("%s\n", text);
		fflush(stdout);
		free(text);
		json_decref(out);
		lambda_request_clear(&r);
		free(s.zip);
		json_decref(c);
	}
	free(line);
	return 0;
}
