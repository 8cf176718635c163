#include <string.h>

#include "aws/emulator/conf.h"
#include "aws/emulator/model.h"
#include "aws/emulator/tag.h"

/* Check the {ARN} label: a full function ARN. Violations are collected in r. */
static void
parse_resource(struct req *r, struct model_name *n)
{
	const char *arn = r->label[0];
	bool ok;

	memset(n, 0, sizeof(*n));
	ok = arn != NULL && strlen(arn) < ARN_PART_MAX &&
	     arn_parse_function(arn, false, &n->parts) == 0 && n->parts.arn &&
	     n->parts.region[0] != '\0' && n->parts.account[0] != '\0' && n->parts.function;
	req_check_pattern(r, "resource", arn, ok, ARN_FUNCTION_ARN_PATTERN);
	if (ok && n->parts.qualifier[0] != '\0')
		n->qualifier = n->parts.qualifier;
}

/* The function a tag operation names, after the collected violations. NULL after answering. */
static struct model_fn *
resource_fn(struct req *r, struct model_name *n)
{
	if (req_failed(r) || model_check_name(r, n) != 0)
		return NULL;
	if (n->qualifier != NULL) {
		req_error(r, 400, "InvalidParameterValueException",
		    "Tagging operations are permitted on Lambda functions only. Tags on aliases "
		    "and "
		    "versions are not supported. Please specify either a function name or a "
		    "function ARN.");
		return NULL;
	}
	return model_fn_lookup(r, n->parts.name, NULL);
}

void
tag_resource(struct req *r)
{
	struct model_name n;
	struct model_fn *fn;
	const json_t *tags, *v;
	const char *k;
	size_t total;

	if (req_body(r) != 0)
		return;
	parse_resource(r, &n);
	tags = req_obj(r, r->body, "Tags");
	req_check_null(r, "tags", tags != NULL);
	fn = resource_fn(r, &n);
	if (fn == NULL)
		return;
	if (json_object_size(tags) == 0) {
		req_error(r, 400, "InvalidParameterValueException",
		    "An error occurred and the request cannot be processed.");
		return;
	}
	total = json_object_size(fn->tags);
	json_object_foreach((json_t *)tags, k, v) if (json_object_get(fn->tags, k) == NULL) total++;
	if (conf_check_tags(r, tags, total) != 0)
		return;
	json_object_update(fn->tags, (json_t *)tags);
	model_revision(fn->cfg.revision);
	req_empty(r, 204);
}

void
tag_untag(struct req *r)
{
	struct model_name n;
	struct model_fn *fn;
	size_t i, nkeys = 0;

	parse_resource(r, &n);
	for (i = 0; i < r->nquery; i++)
		if (strcmp(r->query[i].key, "tagKeys") == 0)
			nkeys++;
	req_check_null(r, "tagKeys", nkeys > 0);
	fn = resource_fn(r, &n);
	if (fn == NULL)
		return;
	for (i = 0; i < r->nquery; i++)
		if (strcmp(r->query[i].key, "tagKeys") == 0)
			json_object_del(fn->tags, r->query[i].value);
	model_revision(fn->cfg.revision);
	req_empty(r, 204);
}

void
tag_list(struct req *r)
{
	struct model_name n;
	struct model_fn *fn;
	struct jsonw w;

	parse_resource(r, &n);
	fn = resource_fn(r, &n);
	if (fn == NULL)
		return;
	req_json_begin(r, 200, &w);
	jsonw_object_open(&w);
	jsonw_kjson(&w, "Tags", fn->tags);
	jsonw_object_close(&w);
	req_json_end(r, &w);
}
