#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aws/emulator/persist.h"
#include "common/xmalloc.h"

/* Saving. */

static json_t *
str_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

static json_t *
ref_or_null(json_t *v)
{
	return v != NULL ? json_incref(v) : json_null();
}

static json_t *
save_cfg(const struct model_cfg *cfg)
{
	json_t *o = json_object(), *layers = json_array();
	size_t i;

	for (i = 0; i < cfg->nlayers; i++)
		json_array_append_new(
		    layers, json_pack("{s:s, s:I}", "arn", cfg->layers[i].arn, "code_size",
		                (json_int_t)cfg->layers[i].code_size));
	json_object_set_new(o, "description", json_string(cfg->description));
	json_object_set_new(o, "role", str_or_null(cfg->role));
	json_object_set_new(o, "handler", str_or_null(cfg->handler));
	json_object_set_new(o, "runtime", str_or_null(cfg->runtime));
	json_object_set_new(o, "timeout", json_integer(cfg->timeout));
	json_object_set_new(o, "memory", json_integer(cfg->memory));
	json_object_set_new(o, "ephemeral", json_integer(cfg->ephemeral));
	json_object_set_new(o, "arch", json_string(cfg->arch));
	json_object_set_new(o, "tracing", json_string(cfg->tracing));
	json_object_set_new(o, "snap_apply", json_string(cfg->snap_apply));
	json_object_set_new(o, "kms_key_arn", str_or_null(cfg->kms_key_arn));
	json_object_set_new(o, "dlq_target", str_or_null(cfg->dlq_target));
	json_object_set_new(o, "env", ref_or_null(cfg->env));
	json_object_set_new(o, "vpc", ref_or_null(cfg->vpc));
	json_object_set_new(o, "image_config", ref_or_null(cfg->image_config));
	json_object_set_new(o, "fs_configs", ref_or_null(cfg->fs_configs));
	json_object_set_new(o, "layers", layers);
	json_object_set_new(o, "pkg", json_string(cfg->pkg == MODEL_PKG_IMAGE ? "Image" : "Zip"));
	json_object_set_new(o, "code_sha256", json_string(cfg->code_sha256));
	json_object_set_new(o, "code_size", json_integer(cfg->code_size));
	json_object_set_new(o, "image_uri", str_or_null(cfg->image_uri));
	json_object_set_new(o, "resolved_image_uri", str_or_null(cfg->resolved_image_uri));
	json_object_set_new(o, "code_path", str_or_null(cfg->code_path));
	json_object_set_new(o, "last_modified", json_integer((json_int_t)cfg->last_modified));
	json_object_set_new(o, "revision", json_string(cfg->revision));
	return o;
}

/* A failure's reason, or null when nothing failed. */
static json_t *
save_reason(const struct model_reason *why)
{
	if (why->reason == NULL)
		return json_null();
	return json_pack("{s:s, s:s}", "reason", why->reason, "code", why->code);
}

static json_t *
save_fn(const struct model_fn *fn)
{
	json_t *o = json_object(), *vers = json_array(), *aliases = json_array(),
	       *pcs = json_array();
	const struct model_ver *v;
	const struct model_alias *a;
	const struct model_pc *pc;
	size_t i;

	for (i = 0; i < fn->vers.n; i++) {
		v = fn->vers.v[i];
		json_array_append_new(
		    vers, json_pack("{s:I, s:o, s:s, s:o}", "number", (json_int_t)v->number,
		              "config", save_cfg(&v->cfg), "state", model_state_names[v->state],
		              "failure", save_reason(&v->failure)));
	}
	for (i = 0; i < fn->aliases.n; i++) {
		a = fn->aliases.v[i];
		json_array_append_new(
		    aliases, json_pack("{s:s, s:s, s:I, s:b, s:I, s:f, s:s}", "name", a->name,
		                 "description", a->description, "version", (json_int_t)a->version,
		                 "routing", a->routing, "extra", (json_int_t)a->extra, "weight",
		                 a->extra_weight, "revision", a->revision));
	}
	for (i = 0; i < fn->pcs.n; i++) {
		pc = fn->pcs.v[i];
		json_array_append_new(pcs,
		    json_pack("{s:s, s:I, s:I}", "qualifier", pc->qualifier, "requested",
		        (json_int_t)pc->requested, "last_modified", (json_int_t)pc->last_modified));
	}
	json_object_set_new(o, "name", json_string(fn->name));
	json_object_set_new(o, "config", save_cfg(&fn->cfg));
	json_object_set_new(o, "state", json_string(model_state_names[fn->state]));
	json_object_set_new(o, "update", json_string(model_update_names[fn->update]));
	json_object_set_new(o, "failure", save_reason(&fn->failure));
	json_object_set_new(o, "live_config", fn->live != NULL ? save_cfg(fn->live) : json_null());
	json_object_set_new(o, "dirty", json_boolean(fn->dirty));
	json_object_set_new(o, "published_from", json_integer((json_int_t)fn->published_from));
	json_object_set_new(o, "last_version", json_integer((json_int_t)fn->last_version));
	json_object_set_new(o, "versions", vers);
	json_object_set_new(o, "aliases", aliases);
	json_object_set_new(o, "provisioned_concurrency", pcs);
	json_object_set_new(o, "tags", json_incref(fn->tags));
	return o;
}

static json_t *
save_layer(const struct model_layer *layer)
{
	json_t *vers = json_array();
	const struct model_layer_ver *lv;
	size_t i;

	for (i = 0; i < layer->vers.n; i++) {
		lv = layer->vers.v[i];
		json_array_append_new(
		    vers, json_pack("{s:I, s:s, s:o, s:o, s:o, s:s, s:I, s:s, s:I}", "version",
		              (json_int_t)lv->version, "description", lv->description, "license",
		              str_or_null(lv->license), "runtimes", ref_or_null(lv->runtimes),
		              "archs", ref_or_null(lv->archs), "code_sha256", lv->code_sha256,
		              "code_size", (json_int_t)lv->code_size, "code_path", lv->code_path,
		              "created", (json_int_t)lv->created));
	}
	return json_pack("{s:s, s:I, s:o}", "name", layer->name, "last_version",
	    (json_int_t)layer->last_version, "versions", vers);
}

int
persist_save(struct emu *emu, const char *path, struct err *err)
{
	json_t *doc = NULL, *fns, *layers, *esms, *results, *failures;
	const struct model_esm *esm;
	const struct model_result *res;
	const struct model_failure *f;
	char *tmp = NULL, prng[32];
	size_t i;
	int rc = -1;

	fns = json_array();
	for (i = 0; i < emu->fns.n; i++) {
		/* Complete every open window: a loaded model starts settled. */
		model_settle(emu, emu->fns.v[i], UINT64_MAX);
		json_array_append_new(fns, save_fn(emu->fns.v[i]));
	}
	layers = json_array();
	for (i = 0; i < emu->layers.n; i++)
		json_array_append_new(layers, save_layer(emu->layers.v[i]));
	esms = json_array();
	for (i = 0; i < emu->esms.n; i++) {
		esm = emu->esms.v[i];
		json_array_append_new(esms,
		    json_pack("{s:s, s:I, s:s, s:o, s:o, s:b, s:O}", "uuid", esm->uuid, "seq",
		        (json_int_t)esm->seq, "fn_name", esm->fn_name, "qualifier",
		        str_or_null(esm->qualifier), "source_arn", str_or_null(esm->source_arn),
		        "enabled", esm->enabled, "config", esm->config));
	}
	results = json_array();
	for (i = 0; i < emu->results.n; i++) {
		res = emu->results.v[i];
		json_array_append_new(
		    results, json_pack("{s:s, s:s, s:o}", "key", res->key, "payload", res->payload,
		                 "function_error", str_or_null(res->function_error)));
	}
	failures = json_array();
	for (i = 0; i < emu->failures.n; i++) {
		f = emu->failures.v[i];
		json_array_append_new(failures, json_pack("{s:s, s:s, s:s}", "key", f->key,
		                                    "reason", f->why.reason, "code", f->why.code));
	}
	snprintf(prng, sizeof(prng), "%016" PRIx64, emu->prng);
	doc = json_pack("{s:s, s:s, s:I, s:o, s:o, s:o, s:o, s:o}", "format", PERSIST_FORMAT,
	    "prng", prng, "esm_seq", (json_int_t)emu->esm_seq, "functions", fns, "layers", layers,
	    "event_source_mappings", esms, "invoke_results", results, "update_failures", failures);
	if (doc == NULL) {
		err_set(err, ERR_FAIL, "%s: could not build the model document", path);
		goto out;
	}
	tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	if (json_dump_file(doc, tmp, JSON_INDENT(1) | JSON_SORT_KEYS) != 0) {
		err_set(err, ERR_FAIL, "%s: %s", tmp, strerror(errno));
		(void)unlink(tmp);
		goto out;
	}
	if (rename(tmp, path) != 0) {
		err_set(err, ERR_FAIL, "%s: %s", path, strerror(errno));
		(void)unlink(tmp);
		goto out;
	}
	rc = 0;
out:
	free(tmp);
	json_decref(doc);
	return rc;
}

/* Loading. The reader records the first problem and reads on with neutral values. */

struct rd {
	char problem[256];
};

static void PRINTFLIKE(2, 3) bad(struct rd *rd, const char *fmt, ...)
{
	va_list ap;

	if (rd->problem[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(rd->problem, sizeof(rd->problem), fmt, ap);
	va_end(ap);
}

static const char *
rd_str(struct rd *rd, const json_t *o, const char *key, bool nullable)
{
	const json_t *v = json_object_get(o, key);

	if ((v == NULL || json_is_null(v)) && nullable)
		return NULL;
	if (!json_is_string(v)) {
		bad(rd, "\"%s\" is not a string", key);
		return nullable ? NULL : "";
	}
	return json_string_value(v);
}

static char *
rd_dup(struct rd *rd, const json_t *o, const char *key, bool nullable)
{
	const char *s = rd_str(rd, o, key, nullable);

	return s != NULL ? xstrdup(s) : NULL;
}

static int64_t
rd_int(struct rd *rd, const json_t *o, const char *key, int64_t min, int64_t max)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
		bad(rd, "\"%s\" is not an integer in [%lld, %lld]", key, (long long)min,
		    (long long)max);
		return min;
	}
	return (int64_t)json_integer_value(v);
}

static bool
rd_bool(struct rd *rd, const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_boolean(v)) {
		bad(rd, "\"%s\" is not a boolean", key);
		return false;
	}
	return json_is_true(v);
}

/* An optional JSON value of the given type, referenced (NULL for absent or null). */
static json_t *
rd_json(struct rd *rd, const json_t *o, const char *key, json_type type)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL || json_is_null(v))
		return NULL;
	if (json_typeof(v) != type) {
		bad(rd, "\"%s\" has the wrong type", key);
		return NULL;
	}
	return json_incref(v);
}

static const json_t *
rd_array(struct rd *rd, const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_array(v)) {
		bad(rd, "\"%s\" is not a list", key);
		return NULL;
	}
	return v;
}

static void
rd_revision(struct rd *rd, const json_t *o, char out[MODEL_REVISION_LEN])
{
	const char *s = rd_str(rd, o, "revision", false);

	if (strlen(s) != MODEL_REVISION_LEN - 1)
		bad(rd, "\"revision\" is not a UUID");
	snprintf(out, MODEL_REVISION_LEN, "%s", s);
}

static void
load_cfg(struct rd *rd, const json_t *o, struct model_cfg *cfg)
{
	const json_t *layers, *item;
	const char *pkg;
	size_t i;

	memset(cfg, 0, sizeof(*cfg));
	if (!json_is_object(o)) {
		bad(rd, "a configuration is not an object");
		o = NULL;
	}
	cfg->description = rd_dup(rd, o, "description", false);
	cfg->role = rd_dup(rd, o, "role", true);
	cfg->handler = rd_dup(rd, o, "handler", true);
	cfg->runtime = rd_dup(rd, o, "runtime", true);
	cfg->timeout = rd_int(rd, o, "timeout", 1, 900);
	cfg->memory = rd_int(rd, o, "memory", 128, 10240);
	cfg->ephemeral = rd_int(rd, o, "ephemeral", 512, 10240);
	cfg->arch = rd_dup(rd, o, "arch", false);
	cfg->tracing = rd_dup(rd, o, "tracing", false);
	cfg->snap_apply = rd_dup(rd, o, "snap_apply", false);
	cfg->kms_key_arn = rd_dup(rd, o, "kms_key_arn", true);
	cfg->dlq_target = rd_dup(rd, o, "dlq_target", true);
	cfg->env = rd_json(rd, o, "env", JSON_OBJECT);
	cfg->vpc = rd_json(rd, o, "vpc", JSON_OBJECT);
	cfg->image_config = rd_json(rd, o, "image_config", JSON_OBJECT);
	cfg->fs_configs = rd_json(rd, o, "fs_configs", JSON_ARRAY);
	layers = rd_array(rd, o, "layers");
	if (json_array_size(layers) > 0) {
		cfg->layers = xcalloc(json_array_size(layers), sizeof(*cfg->layers));
		json_array_foreach(layers, i, item)
		{
			cfg->layers[i].arn = rd_dup(rd, item, "arn", false);
			cfg->layers[i].code_size = rd_int(rd, item, "code_size", 0, INT64_MAX);
			cfg->nlayers++;
		}
	}
	pkg = rd_str(rd, o, "pkg", false);
	if (strcmp(pkg, "Zip") != 0 && strcmp(pkg, "Image") != 0)
		bad(rd, "\"pkg\" is neither Zip nor Image");
	cfg->pkg = strcmp(pkg, "Image") == 0 ? MODEL_PKG_IMAGE : MODEL_PKG_ZIP;
	cfg->code_sha256 = rd_dup(rd, o, "code_sha256", false);
	cfg->code_size = rd_int(rd, o, "code_size", 0, INT64_MAX);
	cfg->image_uri = rd_dup(rd, o, "image_uri", true);
	cfg->resolved_image_uri = rd_dup(rd, o, "resolved_image_uri", true);
	cfg->code_path = rd_dup(rd, o, "code_path", true);
	if (cfg->pkg == MODEL_PKG_IMAGE &&
	    (cfg->image_uri == NULL || cfg->resolved_image_uri == NULL))
		bad(rd, "an Image configuration has no image URI");
	if (cfg->role == NULL)
		bad(rd, "a configuration has no role");
	cfg->last_modified = (uint64_t)rd_int(rd, o, "last_modified", 0, INT64_MAX);
	rd_revision(rd, o, cfg->revision);
}

/*
 * An optional failure reason ({"reason", "code"} or null/absent) into why. Returns whether
 * there was one.
 */
static bool
rd_reason(struct rd *rd, const json_t *o, struct model_reason *why)
{
	const json_t *v = json_object_get(o, "failure");

	if (v == NULL || json_is_null(v))
		return false;
	if (!json_is_object(v)) {
		bad(rd, "\"failure\" is not an object");
		return false;
	}
	why->reason = rd_dup(rd, v, "reason", false);
	why->code = rd_dup(rd, v, "code", false);
	return true;
}

/* An optional "state": Active (the default) or Failed; never Pending once settled. */
static enum model_state
rd_state(struct rd *rd, const json_t *o)
{
	const json_t *v = json_object_get(o, "state");

	if (v == NULL)
		return MODEL_STATE_ACTIVE;
	if (json_is_string(v) && strcmp(json_string_value(v), "Failed") == 0)
		return MODEL_STATE_FAILED;
	if (!json_is_string(v) || strcmp(json_string_value(v), "Active") != 0)
		bad(rd, "\"state\" is neither Active nor Failed");
	return MODEL_STATE_ACTIVE;
}

static int
load_fn(struct rd *rd, struct emu *emu, const json_t *o)
{
	const json_t *list, *item;
	struct model_fn *fn;
	struct model_ver *ver;
	struct model_alias *a;
	struct model_pc *pc;
	const json_t *live;
	const char *update, *name;
	uint64_t prev = 0;
	bool failed;
	size_t i;

	name = rd_str(rd, o, "name", false);
	if (!arn_name_ok(name, false) || strlen(name) > ARN_NAME_MAX ||
	    model_fn_find(emu, name) != NULL) {
		bad(rd, "function name \"%.64s\" is not valid or not unique", name);
		return -1;
	}
	fn = xcalloc(1, sizeof(*fn));
	fn->name = xstrdup(name);
	fn->tags = json_object();
	model_fn_add(emu, fn);
	load_cfg(rd, json_object_get(o, "config"), &fn->cfg);
	fn->state = rd_state(rd, o);
	update = rd_str(rd, o, "update", false);
	fn->update = strcmp(update, "Successful") == 0 ? MODEL_UPDATE_SUCCESSFUL
	             : strcmp(update, "Failed") == 0   ? MODEL_UPDATE_FAILED
	                                               : MODEL_UPDATE_NONE;
	failed = rd_reason(rd, o, &fn->failure);
	if (failed != (fn->state == MODEL_STATE_FAILED || fn->update == MODEL_UPDATE_FAILED))
		bad(rd, "%s: a failure reason goes with a Failed state or update, only", fn->name);
	live = json_object_get(o, "live_config");
	if (live != NULL && !json_is_null(live)) {
		if (fn->update != MODEL_UPDATE_FAILED)
			bad(rd, "%s: \"live_config\" without a failed update", fn->name);
		fn->live = xmalloc(sizeof(*fn->live));
		load_cfg(rd, live, fn->live);
	}
	fn->dirty = rd_bool(rd, o, "dirty");
	fn->published_from = (uint64_t)rd_int(rd, o, "published_from", 0, INT64_MAX);
	fn->last_version = (uint64_t)rd_int(rd, o, "last_version", 0, INT64_MAX);
	json_decref(fn->tags);
	fn->tags = rd_json(rd, o, "tags", JSON_OBJECT);
	if (fn->tags == NULL)
		fn->tags = json_object();
	list = rd_array(rd, o, "versions");
	json_array_foreach(list, i, item)
	{
		ver = xcalloc(1, sizeof(*ver));
		ver->number = (uint64_t)rd_int(rd, item, "number", 1, (int64_t)fn->last_version);
		ver->state = rd_state(rd, item);
		if (rd_reason(rd, item, &ver->failure) != (ver->state == MODEL_STATE_FAILED))
			bad(rd, "%s: a version's failure reason goes with its Failed state",
			    fn->name);
		load_cfg(rd, json_object_get(item, "config"), &ver->cfg);
		vec_push(&fn->vers, ver);
		if (ver->number <= prev)
			bad(rd, "%s: versions are not in ascending order", fn->name);
		prev = ver->number;
	}
	list = rd_array(rd, o, "aliases");
	json_array_foreach(list, i, item)
	{
		a = xcalloc(1, sizeof(*a));
		a->name = rd_dup(rd, item, "name", false);
		a->description = rd_dup(rd, item, "description", false);
		a->version = (uint64_t)rd_int(rd, item, "version", 0, INT64_MAX);
		a->routing = rd_bool(rd, item, "routing");
		a->extra = (uint64_t)rd_int(rd, item, "extra", 0, INT64_MAX);
		a->extra_weight = json_number_value(json_object_get(item, "weight"));
		rd_revision(rd, item, a->revision);
		if (!arn_alias_ok(a->name) || model_alias_find(fn, a->name) != NULL ||
		    (a->version != MODEL_LATEST && model_ver_find(fn, a->version) == NULL) ||
		    (a->routing && model_ver_find(fn, a->extra) == NULL) ||
		    !(a->extra_weight >= 0.0 && a->extra_weight <= 1.0)) {
			bad(rd, "%s: alias \"%.128s\" is not valid", fn->name, a->name);
			model_alias_free(a);
			continue;
		}
		model_alias_add(fn, a);
	}
	list = rd_array(rd, o, "provisioned_concurrency");
	json_array_foreach(list, i, item)
	{
		pc = xcalloc(1, sizeof(*pc));
		pc->qualifier = rd_dup(rd, item, "qualifier", false);
		pc->requested = rd_int(rd, item, "requested", 1, INT32_MAX);
		pc->last_modified = (uint64_t)rd_int(rd, item, "last_modified", 0, INT64_MAX);
		if (!arn_qualifier_ok(pc->qualifier) || model_pc_find(fn, pc->qualifier) != NULL) {
			bad(rd, "%s: a provisioned concurrency qualifier is not valid", fn->name);
			model_pc_free(pc);
			continue;
		}
		model_pc_add(fn, pc);
	}
	return 0;
}

static void
load_layer(struct rd *rd, struct emu *emu, const json_t *o)
{
	const json_t *list, *item;
	struct model_layer *layer;
	struct model_layer_ver *lv;
	const char *name = rd_str(rd, o, "name", false);
	uint64_t prev = 0;
	size_t i;

	if (!arn_name_ok(name, false) || model_layer_find(emu, name) != NULL) {
		bad(rd, "layer name \"%.64s\" is not valid or not unique", name);
		return;
	}
	layer = xcalloc(1, sizeof(*layer));
	layer->name = xstrdup(name);
	layer->last_version = (uint64_t)rd_int(rd, o, "last_version", 0, INT64_MAX);
	model_layer_add(emu, layer);
	list = rd_array(rd, o, "versions");
	json_array_foreach(list, i, item)
	{
		lv = xcalloc(1, sizeof(*lv));
		lv->version =
		    (uint64_t)rd_int(rd, item, "version", 1, (int64_t)layer->last_version);
		lv->description = rd_dup(rd, item, "description", false);
		lv->license = rd_dup(rd, item, "license", true);
		lv->runtimes = rd_json(rd, item, "runtimes", JSON_ARRAY);
		lv->archs = rd_json(rd, item, "archs", JSON_ARRAY);
		lv->code_sha256 = rd_dup(rd, item, "code_sha256", false);
		lv->code_size = rd_int(rd, item, "code_size", 0, INT64_MAX);
		lv->code_path = rd_dup(rd, item, "code_path", false);
		lv->created = (uint64_t)rd_int(rd, item, "created", 0, INT64_MAX);
		vec_push(&layer->vers, lv);
		if (lv->version <= prev)
			bad(rd, "layer %s: versions are not in ascending order", name);
		prev = lv->version;
	}
}

static void
load_esm(struct rd *rd, struct emu *emu, const json_t *o)
{
	struct model_esm *esm = xcalloc(1, sizeof(*esm));
	const char *uuid = rd_str(rd, o, "uuid", false), *arn;

	snprintf(esm->uuid, sizeof(esm->uuid), "%s", uuid);
	esm->seq = (uint64_t)rd_int(rd, o, "seq", 1, (int64_t)emu->esm_seq);
	esm->fn_name = rd_dup(rd, o, "fn_name", false);
	esm->qualifier = rd_dup(rd, o, "qualifier", true);
	esm->source_arn = rd_dup(rd, o, "source_arn", true);
	esm->enabled = rd_bool(rd, o, "enabled");
	esm->config = rd_json(rd, o, "config", JSON_OBJECT);
	arn = json_string_value(json_object_get(esm->config, "FunctionArn"));
	if (esm->config == NULL || arn == NULL || strlen(uuid) != MODEL_REVISION_LEN - 1 ||
	    (emu->esms.n > 0 &&
	        ((struct model_esm *)emu->esms.v[emu->esms.n - 1])->seq >= esm->seq))
		bad(rd, "event source mapping \"%.36s\" is not valid", uuid);
	if (esm->config == NULL)
		esm->config = json_object();
	vec_push(&emu->esms, esm);
}

static void
load_result(struct rd *rd, struct emu *emu, const json_t *o)
{
	struct model_result *res = xcalloc(1, sizeof(*res));
	json_t *check;

	res->key = rd_dup(rd, o, "key", false);
	res->payload = rd_dup(rd, o, "payload", false);
	res->function_error = rd_dup(rd, o, "function_error", true);
	check = json_loads(res->payload, JSON_DECODE_ANY, NULL);
	if (check == NULL || res->key[0] == '\0')
		bad(rd, "invoke result \"%.64s\" is not valid", res->key);
	json_decref(check);
	model_result_put(emu, res);
}

static void
load_failure(struct rd *rd, struct emu *emu, const json_t *o)
{
	struct model_failure *f = xcalloc(1, sizeof(*f));

	f->key = rd_dup(rd, o, "key", false);
	f->why.reason = rd_dup(rd, o, "reason", false);
	f->why.code = rd_dup(rd, o, "code", false);
	if (f->key[0] == '\0' || f->why.reason[0] == '\0' || f->why.code[0] == '\0')
		bad(rd, "update failure \"%.64s\" is not valid", f->key);
	model_failure_put(emu, f);
}

int
persist_load(struct emu *emu, const char *path, struct err *err)
{
	struct rd rd;
	json_error_t jerr;
	json_t *doc;
	const json_t *list, *item;
	const char *format, *prng;
	size_t i;
	int rc = -1;

	memset(&rd, 0, sizeof(rd));
	doc = json_load_file(path, 0, &jerr);
	if (doc == NULL) {
		err_set(err, ERR_FAIL, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
		return -1;
	}
	if (!json_is_object(doc)) {
		err_set(err, ERR_FAIL, "%s: not a JSON object", path);
		goto out;
	}
	format = rd_str(&rd, doc, "format", false);
	if (strcmp(format, PERSIST_FORMAT) != 0) {
		err_set(err, ERR_FAIL, "%s: format is \"%.64s\", expected \"%s\"", path, format,
		    PERSIST_FORMAT);
		goto out;
	}
	prng = rd_str(&rd, doc, "prng", false);
	emu->prng = strtoull(prng, NULL, 16);
	if (emu->prng == 0)
		bad(&rd, "\"prng\" is not a nonzero hexadecimal number");
	emu->esm_seq = (uint64_t)rd_int(&rd, doc, "esm_seq", 0, INT64_MAX);
	list = rd_array(&rd, doc, "functions");
	json_array_foreach(list, i, item) if (load_fn(&rd, emu, item) != 0) break;
	list = rd_array(&rd, doc, "layers");
	json_array_foreach(list, i, item) load_layer(&rd, emu, item);
	list = rd_array(&rd, doc, "event_source_mappings");
	json_array_foreach(list, i, item) load_esm(&rd, emu, item);
	list = rd_array(&rd, doc, "invoke_results");
	json_array_foreach(list, i, item) load_result(&rd, emu, item);
	/* Absent from files written before update-failure rules existed. */
	if (json_object_get(doc, "update_failures") != NULL) {
		list = rd_array(&rd, doc, "update_failures");
		json_array_foreach(list, i, item) load_failure(&rd, emu, item);
	}
	if (rd.problem[0] != '\0') {
		err_set(err, ERR_FAIL, "%s: %s", path, rd.problem);
		goto out;
	}
	rc = 0;
out:
	json_decref(doc);
	return rc;
}
