#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/jsonw.h"
#include "reconcile/plan.h"

/* The JSON of one function is written at once; a plan is a stream of them. */
#define PLAN_JSON_FUNCTION_MAX (16 * 1024 * 1024)

static const char *const kind_names[] = {
    [PLAN_UPDATE_CODE] = "update_code",
    [PLAN_UPDATE_CONFIG] = "update_config",
    [PLAN_WAIT_UPDATED] = "wait_updated",
    [PLAN_SMOKE_TEST] = "smoke_test",
    [PLAN_PUBLISH] = "publish",
    [PLAN_CREATE_ALIAS] = "create_alias",
    [PLAN_UPDATE_ALIAS] = "update_alias",
    [PLAN_WAIT_CANARY] = "wait_canary",
    [PLAN_DELETE_VERSION] = "delete_version",
    [PLAN_BLOCKED] = "blocked",
    [PLAN_CREATE_FUNCTION] = "create_function",
};

static const char *const mode_names[] = {
    [SPEC_MODE_ENFORCE] = "enforce",
    [SPEC_MODE_DETECT] = "detect",
    [SPEC_MODE_SUSPEND] = "suspend",
};

/* A string, or null for NULL and "" (a value the plan cannot know yet). */
static void
kstr_known(struct jsonw *w, const char *key, const char *s)
{
	jsonw_key(w, key);
	if (s == NULL || s[0] == '\0')
		jsonw_null(w);
	else
		jsonw_string(w, s);
}

/* A version: its number, "new" for the one the plan publishes, null for none. */
static void
kversion(struct jsonw *w, const char *key, long v)
{
	jsonw_key(w, key);
	if (v == PLAN_NEW_VERSION)
		jsonw_string(w, "new");
	else if (v == 0)
		jsonw_null(w);
	else
		jsonw_int(w, v);
}

/* Embedded as JSON when it parses (it always does for a loaded spec), else as a string. */
static void
kjson_text(struct jsonw *w, const char *key, const char *text)
{
	json_t *v;

	if (text == NULL) {
		jsonw_key(w, key);
		jsonw_null(w);
		return;
	}
	v = json_loads(text, JSON_DECODE_ANY, NULL);
	if (v != NULL)
		jsonw_kjson(w, key, v);
	else
		jsonw_kstr(w, key, text);
	json_decref(v);
}

static void
code_json(struct jsonw *w, const struct spec_code *c)
{
	jsonw_key(w, "code");
	jsonw_object_open(w);
	if (c->kind == SPEC_CODE_IMAGE) {
		jsonw_kstr(w, "image", c->image);
	} else {
		jsonw_kstr(w, "s3_bucket", c->s3_bucket);
		jsonw_kstr(w, "s3_key", c->s3_key);
		jsonw_kstr_null(w, "s3_object_version", c->s3_object_version);
	}
	jsonw_object_close(w);
}

static void
config_json(struct jsonw *w, const struct plan_config *c)
{
	size_t i;

	jsonw_key(w, "config");
	jsonw_object_open(w);
	if (c->has_layers) {
		jsonw_key(w, "layers");
		jsonw_array_open(w);
		for (i = 0; i < c->nlayers; i++)
			jsonw_string(w, c->layers[i]);
		jsonw_array_close(w);
	}
	if (c->has_memory)
		jsonw_kint(w, "memory", c->memory);
	if (c->has_timeout)
		jsonw_kint(w, "timeout", c->timeout);
	if (c->has_environment) {
		jsonw_key(w, "environment");
		jsonw_object_open(w);
		for (i = 0; i < c->nenvironment; i++)
			jsonw_kstr(w, c->environment[i].key, c->environment[i].value);
		jsonw_object_close(w);
	}
	if (c->has_description)
		jsonw_kstr(w, "description", c->description);
	if (c->has_role)
		jsonw_kstr(w, "role", c->role);
	if (c->has_handler)
		jsonw_kstr(w, "handler", c->handler);
	if (c->has_runtime)
		jsonw_kstr(w, "runtime", c->runtime);
	jsonw_object_close(w);
}

static void
action_json(struct jsonw *w, const struct plan_action *a)
{
	jsonw_object_open(w);
	jsonw_kstr(w, "kind", kind_names[a->kind]);
	jsonw_kstr_null(w, "why", a->why);
	switch (a->kind) {
	case PLAN_CREATE_FUNCTION:
		code_json(w, a->code);
		config_json(w, a->config);
		break;
	case PLAN_UPDATE_CODE:
		code_json(w, a->code);
		kstr_known(w, "revision_id", a->revision_id);
		break;
	case PLAN_UPDATE_CONFIG:
		config_json(w, a->config);
		kstr_known(w, "revision_id", a->revision_id);
		break;
	case PLAN_WAIT_UPDATED:
	case PLAN_BLOCKED:
		break;
	case PLAN_SMOKE_TEST:
		kjson_text(w, "payload", a->payload);
		kjson_text(w, "expect", a->expect);
		break;
	case PLAN_PUBLISH:
		jsonw_kstr(w, "description", a->description);
		jsonw_kstr(w, "digest", a->digest);
		kstr_known(w, "revision_id", a->revision_id);
		kstr_known(w, "code_sha256", a->code_sha256);
		break;
	case PLAN_CREATE_ALIAS:
	case PLAN_UPDATE_ALIAS:
	case PLAN_WAIT_CANARY:
		jsonw_kstr(w, "alias", a->alias);
		kversion(w, "version", a->version);
		kversion(w, "routing_version", a->routing_version);
		jsonw_key(w, "routing_weight");
		jsonw_double(w, a->routing_weight);
		if (a->kind == PLAN_WAIT_CANARY) {
			jsonw_kint(w, "until", a->until);
			break;
		}
		jsonw_kstr_null(w, "description", a->description);
		kstr_known(w, "digest", a->digest);
		kstr_known(w, "revision_id", a->revision_id);
		break;
	case PLAN_DELETE_VERSION:
		kversion(w, "version", a->version);
		break;
	}
	jsonw_object_close(w);
}

static int
function_json(const struct plan_function *pf, struct buf *b)
{
	struct jsonw w;
	size_t i;

	jsonw_init(&w, b);
	jsonw_object_open(&w);
	jsonw_kstr(&w, "name", pf->name);
	jsonw_kstr(&w, "region", pf->region);
	jsonw_kstr(&w, "mode", mode_names[pf->mode]);
	kstr_known(&w, "digest", pf->digest);
	jsonw_kbool(&w, "in_sync", pf->in_sync);
	jsonw_kstr_null(&w, "summary", pf->summary);
	jsonw_key(&w, "actions");
	jsonw_array_open(&w);
	for (i = 0; i < pf->n; i++)
		action_json(&w, &pf->actions[i]);
	jsonw_array_close(&w);
	jsonw_object_close(&w);
	return jsonw_failed(&w) ? -1 : 0;
}

void
plan_print_json(const struct plan *p, FILE *out)
{
	struct buf b = BUF_INIT(PLAN_JSON_FUNCTION_MAX);
	size_t i;

	fprintf(out, "{\"in_sync\":%s,\"functions\":[", plan_in_sync(p) ? "true" : "false");
	for (i = 0; i < p->n; i++) {
		buf_reset(&b);
		if (function_json(&p->functions[i], &b) != 0) {
			/* Cannot happen with a loaded spec (its files are capped far below). */
			buf_reset(&b);
			buf_printf(&b, "{\"name\":\"%s\",\"error\":\"over %d bytes\"}",
			    p->functions[i].name, PLAN_JSON_FUNCTION_MAX);
		}
		fprintf(out, "%s%s", i > 0 ? ",\n" : "\n", buf_cstr(&b));
	}
	fprintf(out, "\n]}\n");
	buf_free(&b);
}
