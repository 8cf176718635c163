#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/emulator/conf.h"
#include "aws/emulator/hook.h"
#include "common/jsonw.h"
#include "common/log.h"
#include "common/xmalloc.h"

/* The members a hook's code and configuration may carry: the Update* operations' own. */
static const char *const code_members[] = {
    "ImageUri", "ZipFile", "S3Bucket", "S3Key", "S3ObjectVersion", NULL};
static const char *const config_members[] = {"Role", "Handler", "Description", "Timeout",
    "MemorySize", "VpcConfig", "Environment", "Runtime", "DeadLetterConfig", "KMSKeyArn",
    "TracingConfig", "Layers", "FileSystemConfigs", "ImageConfig", "EphemeralStorage", "SnapStart",
    NULL};

/*
 * A request of the model's own, to run the Update* operations' parsing and checks on a
 * hook's members outside any client request. Its answers (the errors) land in reply.
 */
struct scratch {
	struct emu_request in;
	struct emu_reply reply;
	struct req r;
};

static void
scratch_init(struct scratch *s, struct emu *emu, enum emu_op op)
{
	memset(&s->in, 0, sizeof(s->in));
	s->in.method = "PUT";
	s->in.path = "/";
	emu_reply_init(&s->reply);
	/* The path has no labels and there is no query, so this cannot fail. */
	(void)req_init(&s->r, emu, op, &s->in, &s->reply);
}

static void
scratch_free(struct scratch *s)
{
	req_free(&s->r);
	emu_reply_free(&s->reply);
}

/* The message of the error the scratch request answered, into err. */
static void
scratch_error(struct scratch *s, const char *what, struct err *err)
{
	json_t *doc = json_loadb(s->reply.body.data, s->reply.body.len, 0, NULL);
	const char *msg = json_string_value(json_object_get(doc, "message"));

	if (msg == NULL)
		msg = json_string_value(json_object_get(doc, "Message"));
	err_set(err, ERR_INVALID, "%s: %s: %s", what, s->reply.error_type,
	    msg != NULL ? msg : "refused");
	json_decref(doc);
}

static bool
listed(const char *s, const char *const *set)
{
	size_t i;

	for (i = 0; set[i] != NULL; i++)
		if (strcmp(s, set[i]) == 0)
			return true;
	return false;
}

/* Parse text as a non-empty JSON object of the given members. NULL with err filled. */
static json_t *
members(const char *text, const char *what, const char *const *allowed, struct err *err)
{
	json_error_t jerr;
	json_t *obj;
	const char *k;
	json_t *v;

	obj = json_loads(text, 0, &jerr);
	if (!json_is_object(obj) || json_object_size(obj) == 0) {
		err_set(err, ERR_INVALID, "%s must be a non-empty JSON object", what);
		json_decref(obj);
		return NULL;
	}
	json_object_foreach(obj, k, v)
	{
		if (!listed(k, allowed)) {
			err_set(err, ERR_INVALID, "%s: unknown member \"%.100s\"", what, k);
			json_decref(obj);
			return NULL;
		}
	}
	return obj;
}

/*
 * Parse and check the configuration members in obj for fn as UpdateFunctionConfiguration
 * would, into c (which borrows from obj; conf_free() it either way). Returns 0, or -1 with
 * err filled.
 */
static int
check_config(
    struct emu *emu, const struct model_fn *fn, const json_t *obj, struct conf *c, struct err *err)
{
	struct scratch s;
	int rc = 0;

	scratch_init(&s, emu, EMU_OP_UpdateFunctionConfiguration);
	conf_parse(&s.r, obj, c);
	if (req_failed(&s.r) || conf_check(&s.r, c, fn->cfg.pkg) != 0) {
		scratch_error(&s, "update_configuration", err);
		rc = -1;
	}
	scratch_free(&s);
	return rc;
}

/* Parse and check the code in obj for fn as UpdateFunctionCode would, into out's code. */
static int
check_code(struct emu *emu, const struct model_fn *fn, const json_t *obj, struct model_cfg *out,
    struct err *err)
{
	struct scratch s;
	struct conf_code code;
	int rc = 0;

	scratch_init(&s, emu, EMU_OP_UpdateFunctionCode);
	conf_code_parse(&s.r, obj, &code);
	if (req_failed(&s.r) || conf_code_check(&s.r, &code, fn->cfg.pkg, false) != 0) {
		scratch_error(&s, "update_code", err);
		rc = -1;
	} else {
		conf_code_apply(&s.r, &code, fn->name, out);
	}
	conf_code_free(&code);
	scratch_free(&s);
	return rc;
}

static enum emu_op
op_named(const char *name)
{
	int op;

	for (op = EMU_OP_NONE + 1; op < EMU_OP__COUNT; op++)
		if (strcmp(emu_op_name((enum emu_op)op), name) == 0)
			return (enum emu_op)op;
	return EMU_OP_NONE;
}

int
hook_add(struct emu *emu, const char *operation, const char *function, const char *code_json,
    const char *config_json, struct err *err)
{
	struct model_hook *hook = NULL;
	struct model_fn *fn;
	struct conf c;
	json_t *code = NULL;
	enum emu_op op;
	int rc = -1;

	memset(&c, 0, sizeof(c));
	op = operation != NULL ? op_named(operation) : EMU_OP_NONE;
	if (op == EMU_OP_NONE) {
		err_set(
		    err, ERR_INVALID, "\"operation\" must name an operation of /_emulator/stats");
		goto out;
	}
	if (function == NULL || strlen(function) > ARN_NAME_MAX || !arn_name_ok(function, false)) {
		err_set(err, ERR_INVALID, "\"function\" must be a function name");
		goto out;
	}
	if (code_json == NULL && config_json == NULL) {
		err_set(err, ERR_INVALID, "give \"update_code\", \"update_configuration\" or both");
		goto out;
	}
	if (emu->hooks.n >= EMU_HOOKS_MAX) {
		err_set(err, ERR_INVALID, "%d intercepts are already waiting", EMU_HOOKS_MAX);
		goto out;
	}
	fn = model_fn_find(emu, function);
	if (fn == NULL) {
		err_set(err, ERR_NOTFOUND, "function %s does not exist", function);
		goto out;
	}
	hook = xcalloc(1, sizeof(*hook));
	hook->op = op;
	hook->fn_name = xstrdup(function);
	hook->pkg = fn->cfg.pkg;
	if (code_json != NULL) {
		code = members(code_json, "update_code", code_members, err);
		if (code == NULL || check_code(emu, fn, code, &hook->code, err) != 0)
			goto out;
		hook->has_code = true;
	}
	if (config_json != NULL) {
		hook->config = members(config_json, "update_configuration", config_members, err);
		if (hook->config == NULL || check_config(emu, fn, hook->config, &c, err) != 0)
			goto out;
	}
	vec_push(&emu->hooks, hook);
	hook = NULL;
	rc = 0;
out:
	conf_free(&c);
	json_decref(code);
	model_hook_free(hook);
	return rc;
}

int
hook_list(const struct emu *emu, struct buf *out)
{
	const struct model_hook *hook;
	struct jsonw w;
	size_t i;

	jsonw_init(&w, out);
	jsonw_object_open(&w);
	jsonw_key(&w, "intercepts");
	jsonw_array_open(&w);
	for (i = 0; i < emu->hooks.n; i++) {
		hook = emu->hooks.v[i];
		jsonw_object_open(&w);
		jsonw_kstr(&w, "operation", emu_op_name(hook->op));
		jsonw_kstr(&w, "function", hook->fn_name);
		if (hook->has_code) {
			/* What the code resolved to; a ZipFile is not echoed back. */
			jsonw_key(&w, "update_code");
			jsonw_object_open(&w);
			jsonw_kstr_opt(&w, "ImageUri", hook->code.image_uri);
			jsonw_kstr(&w, "CodeSha256", hook->code.code_sha256);
			jsonw_kint(&w, "CodeSize", hook->code.code_size);
			jsonw_object_close(&w);
		}
		if (hook->config != NULL)
			jsonw_kjson(&w, "update_configuration", hook->config);
		jsonw_object_close(&w);
	}
	jsonw_array_close(&w);
	jsonw_object_close(&w);
	return jsonw_failed(&w) ? -1 : 0;
}

/* Operations whose requests name no function: a hook on them fires on the next one. */
static bool
names_function(enum emu_op op)
{
	switch (op) {
	case EMU_OP_ListFunctions:
	case EMU_OP_PublishLayerVersion:
	case EMU_OP_GetLayerVersion:
	case EMU_OP_GetLayerVersionByArn:
	case EMU_OP_ListLayerVersions:
		return false;
	default:
		return true;
	}
}

/*
 * The name of the function r names (a path label, the FunctionName member or query
 * parameter, any of the FunctionName forms), into out; false when it names none.
 */
static bool
request_function(struct req *r, struct arn_function *out)
{
	json_t *body = NULL;
	const char *value = NULL;
	bool ok;

	switch (r->op) {
	case EMU_OP_CreateFunction:
	case EMU_OP_CreateEventSourceMapping:
		body = json_loadb(r->in->body != NULL ? r->in->body : "", r->in->body_len, 0, NULL);
		value = json_string_value(json_object_get(body, "FunctionName"));
		break;
	case EMU_OP_ListEventSourceMappings:
		value = req_query(r, "FunctionName");
		break;
	default:
		value = r->nlabels > 0 ? r->label[0] : NULL;
		break;
	}
	ok = value != NULL && strlen(value) < ARN_PART_MAX &&
	     arn_parse_function(value, true, out) == 0;
	json_decref(body);
	return ok;
}

/* Give $LATEST of fn the hook's code and configuration, as a settled update. */
static int
apply(struct req *r, struct model_fn *fn, struct model_hook *hook)
{
	struct model_cfg *cfg = &fn->cfg;
	struct err err = ERR_INIT;
	struct conf c;
	int rc = 0;

	memset(&c, 0, sizeof(c));
	if (hook->pkg != cfg->pkg) {
		log_warn("emulator", "%s: intercept dropped: the function changed package type",
		    fn->name);
		return -1;
	}
	/* Checked when it was added; layers may have gone since. */
	if (hook->config != NULL && check_config(r->emu, fn, hook->config, &c, &err) != 0) {
		log_warn("emulator", "%s: intercept dropped: %s", fn->name, err.message);
		rc = -1;
		goto out;
	}
	if (hook->config != NULL)
		conf_apply(&c, cfg);
	if (hook->has_code) {
		free(cfg->code_sha256);
		free(cfg->image_uri);
		free(cfg->resolved_image_uri);
		free(cfg->code_path);
		cfg->code_sha256 = hook->code.code_sha256;
		cfg->image_uri = hook->code.image_uri;
		cfg->resolved_image_uri = hook->code.resolved_image_uri;
		cfg->code_path = hook->code.code_path;
		cfg->code_size = hook->code.code_size;
		hook->code.code_sha256 = hook->code.image_uri = NULL;
		hook->code.resolved_image_uri = hook->code.code_path = NULL;
	}
	cfg->last_modified = r->wall;
	model_revision(cfg->revision);
	model_fn_forget_failure(fn);
	model_fn_set_update(fn, MODEL_UPDATE_SUCCESSFUL, "intercept");
	fn->dirty = true;
	log_info("emulator",
	    "%s: intercept before %s: $LATEST updated as by another client "
	    "revision=%s",
	    fn->name, emu_op_name(r->op), cfg->revision);
out:
	conf_free(&c);
	return rc;
}

void
hook_fire(struct req *r)
{
	struct emu *emu = r->emu;
	struct arn_function named;
	struct model_hook *hook;
	struct model_fn *fn;
	bool any;
	size_t i;

	for (i = 0; i < emu->hooks.n; i++)
		if (((struct model_hook *)emu->hooks.v[i])->op == r->op)
			break;
	if (i == emu->hooks.n)
		return;
	any = !names_function(r->op);
	if (!any && !request_function(r, &named))
		return;
	for (i = 0; i < emu->hooks.n; i++) {
		hook = emu->hooks.v[i];
		if (hook->op != r->op || (!any && strcmp(hook->fn_name, named.name) != 0))
			continue;
		fn = model_fn_find(emu, hook->fn_name);
		if (fn == NULL)
			continue;
		/* Another client's update is accepted only once the function is updatable. */
		model_settle(emu, fn, r->now);
		if (fn->state != MODEL_STATE_ACTIVE || fn->update == MODEL_UPDATE_INPROGRESS)
			continue;
		/* Fired or dropped, it is gone. */
		(void)apply(r, fn, hook);
		model_hook_free(vec_remove(&emu->hooks, i));
		return;
	}
}
