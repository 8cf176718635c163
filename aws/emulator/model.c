#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/emulator/model.h"
#include "common/crypto.h"
#include "common/log.h"
#include "common/xmalloc.h"

const char *const model_state_names[] = {"Pending", "Active", "Failed"};
const char *const model_update_names[] = {"", "InProgress", "Successful", "Failed"};

void
model_revision(char out[MODEL_REVISION_LEN])
{
	crypto_uuid(out);
}

double
model_random(struct emu *emu)
{
	uint64_t x = emu->prng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	emu->prng = x;
	return (double)((x * 0x2545f4914f6cdd1dULL) >> 11) / 9007199254740992.0;
}

void
model_set_str(char **dst, const char *src)
{
	char *copy = src != NULL ? xstrdup(src) : NULL;

	free(*dst);
	*dst = copy;
}

void
model_set_json(json_t **dst, json_t *v)
{
	json_t *old = *dst;

	*dst = v != NULL ? json_incref(v) : NULL;
	json_decref(old);
}

/* Reasons. */

void
model_reason_set(struct model_reason *dst, const struct model_reason *src)
{
	model_set_str(&dst->reason, src != NULL ? src->reason : NULL);
	model_set_str(&dst->code, src != NULL ? src->code : NULL);
}

void
model_reason_move(struct model_reason *dst, struct model_reason *src)
{
	model_reason_free(dst);
	*dst = *src;
	src->reason = NULL;
	src->code = NULL;
}

void
model_reason_free(struct model_reason *r)
{
	free(r->reason);
	free(r->code);
	r->reason = NULL;
	r->code = NULL;
}

/* Configurations. */

void
model_cfg_init(struct model_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->description = xstrdup("");
	cfg->timeout = 3;
	cfg->memory = 128;
	cfg->ephemeral = 512;
	cfg->arch = xstrdup("x86_64");
	cfg->tracing = xstrdup("PassThrough");
	cfg->snap_apply = xstrdup("None");
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

void
model_cfg_copy(struct model_cfg *dst, const struct model_cfg *src)
{
	size_t i;

	*dst = *src;
	dst->description = dup_or_null(src->description);
	dst->role = dup_or_null(src->role);
	dst->handler = dup_or_null(src->handler);
	dst->runtime = dup_or_null(src->runtime);
	dst->arch = dup_or_null(src->arch);
	dst->tracing = dup_or_null(src->tracing);
	dst->snap_apply = dup_or_null(src->snap_apply);
	dst->kms_key_arn = dup_or_null(src->kms_key_arn);
	dst->dlq_target = dup_or_null(src->dlq_target);
	dst->env = src->env != NULL ? json_incref(src->env) : NULL;
	dst->vpc = src->vpc != NULL ? json_incref(src->vpc) : NULL;
	dst->image_config = src->image_config != NULL ? json_incref(src->image_config) : NULL;
	dst->fs_configs = src->fs_configs != NULL ? json_incref(src->fs_configs) : NULL;
	dst->layers = NULL;
	if (src->nlayers > 0) {
		dst->layers = xcalloc(src->nlayers, sizeof(*dst->layers));
		for (i = 0; i < src->nlayers; i++) {
			dst->layers[i].arn = xstrdup(src->layers[i].arn);
			dst->layers[i].code_size = src->layers[i].code_size;
		}
	}
	dst->code_sha256 = dup_or_null(src->code_sha256);
	dst->image_uri = dup_or_null(src->image_uri);
	dst->resolved_image_uri = dup_or_null(src->resolved_image_uri);
	dst->code_path = dup_or_null(src->code_path);
}

void
model_cfg_free(struct model_cfg *cfg)
{
	size_t i;

	free(cfg->description);
	free(cfg->role);
	free(cfg->handler);
	free(cfg->runtime);
	free(cfg->arch);
	free(cfg->tracing);
	free(cfg->snap_apply);
	free(cfg->kms_key_arn);
	free(cfg->dlq_target);
	json_decref(cfg->env);
	json_decref(cfg->vpc);
	json_decref(cfg->image_config);
	json_decref(cfg->fs_configs);
	for (i = 0; i < cfg->nlayers; i++)
		free(cfg->layers[i].arn);
	free(cfg->layers);
	free(cfg->code_sha256);
	free(cfg->image_uri);
	free(cfg->resolved_image_uri);
	free(cfg->code_path);
	memset(cfg, 0, sizeof(*cfg));
}

/* Functions. */

int
model_fn_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct model_fn *)elem)->name);
}

struct model_fn *
model_fn_find(struct emu *emu, const char *name)
{
	return ht_get(&emu->fn_index, name);
}

void
model_fn_add(struct emu *emu, struct model_fn *fn)
{
	size_t at;

	if (vec_search(&emu->fns, fn->name, model_fn_cmp, &at))
		abort(); /* callers check that the name is free */
	vec_insert(&emu->fns, at, fn);
	ht_put(&emu->fn_index, fn->name, fn);
}

void
model_ver_free(struct model_ver *ver)
{
	if (ver == NULL)
		return;
	model_cfg_free(&ver->cfg);
	model_reason_free(&ver->failure);
	model_reason_free(&ver->verdict);
	free(ver);
}

void
model_alias_free(struct model_alias *alias)
{
	if (alias == NULL)
		return;
	free(alias->name);
	free(alias->description);
	free(alias);
}

void
model_pc_free(struct model_pc *pc)
{
	if (pc == NULL)
		return;
	free(pc->qualifier);
	free(pc);
}

void
model_fn_free(struct model_fn *fn)
{
	size_t i;

	if (fn == NULL)
		return;
	for (i = 0; i < fn->vers.n; i++)
		model_ver_free(fn->vers.v[i]);
	vec_free(&fn->vers);
	for (i = 0; i < fn->aliases.n; i++)
		model_alias_free(fn->aliases.v[i]);
	vec_free(&fn->aliases);
	for (i = 0; i < fn->pcs.n; i++)
		model_pc_free(fn->pcs.v[i]);
	vec_free(&fn->pcs);
	json_decref(fn->tags);
	model_cfg_free(&fn->cfg);
	model_reason_free(&fn->failure);
	model_reason_free(&fn->verdict);
	if (fn->live != NULL) {
		model_cfg_free(fn->live);
		free(fn->live);
	}
	free(fn->name);
	free(fn);
}

void
model_fn_delete(struct emu *emu, struct model_fn *fn)
{
	size_t at;

	if (vec_search(&emu->fns, fn->name, model_fn_cmp, &at))
		vec_remove(&emu->fns, at);
	ht_del(&emu->fn_index, fn->name);
	model_fn_free(fn);
}

void
model_fn_set_state(struct model_fn *fn, enum model_state state, const char *why)
{
	if (fn->state != state)
		log_debug("emulator", "%s: state %s -> %s (%s)", fn->name,
		    model_state_names[fn->state], model_state_names[state], why);
	fn->state = state;
}

void
model_fn_set_update(struct model_fn *fn, enum model_update update, const char *why)
{
	if (fn->update != update)
		log_debug("emulator", "%s: last update status %s -> %s (%s)", fn->name,
		    fn->update == MODEL_UPDATE_NONE ? "none" : model_update_names[fn->update],
		    model_update_names[update], why);
	fn->update = update;
}

void
model_ver_set_state(
    const struct model_fn *fn, struct model_ver *ver, enum model_state state, const char *why)
{
	if (ver->state != state)
		log_debug("emulator", "%s:%" PRIu64 ": state %s -> %s (%s)", fn->name, ver->number,
		    model_state_names[ver->state], model_state_names[state], why);
	ver->state = state;
}

void
model_fn_forget_failure(struct model_fn *fn)
{
	model_reason_free(&fn->failure);
	if (fn->live == NULL)
		return;
	model_cfg_free(fn->live);
	free(fn->live);
	fn->live = NULL;
}

void
model_settle(struct emu *emu, struct model_fn *fn, uint64_t now)
{
	struct model_ver *ver;
	size_t i;

	(void)emu;
	if (fn->state == MODEL_STATE_PENDING && now >= fn->active_at) {
		if (fn->verdict.reason != NULL) {
			model_reason_move(&fn->failure, &fn->verdict);
			model_fn_set_state(fn, MODEL_STATE_FAILED, fn->failure.code);
			model_fn_set_update(fn, MODEL_UPDATE_FAILED, fn->failure.code);
		} else {
			model_fn_set_state(fn, MODEL_STATE_ACTIVE, "created");
			model_fn_set_update(fn, MODEL_UPDATE_SUCCESSFUL, "created");
		}
		model_revision(fn->cfg.revision);
	}
	if (fn->update == MODEL_UPDATE_INPROGRESS && now >= fn->update_done_at) {
		if (fn->verdict.reason != NULL) {
			/* Lambda aborts the update; fn->live keeps serving invocations. */
			model_reason_move(&fn->failure, &fn->verdict);
			model_fn_set_update(fn, MODEL_UPDATE_FAILED, fn->failure.code);
		} else {
			model_fn_forget_failure(fn);
			model_fn_set_update(fn, MODEL_UPDATE_SUCCESSFUL, "update done");
		}
		model_revision(fn->cfg.revision);
	}
	/* Versions published inside a window are Pending until it ends; they are the newest. */
	for (i = fn->vers.n; i > 0; i--) {
		ver = fn->vers.v[i - 1];
		if (ver->state != MODEL_STATE_PENDING)
			break;
		if (now < ver->active_at)
			continue;
		if (ver->verdict.reason != NULL) {
			model_reason_move(&ver->failure, &ver->verdict);
			model_ver_set_state(fn, ver, MODEL_STATE_FAILED, ver->failure.code);
		} else {
			model_ver_set_state(fn, ver, MODEL_STATE_ACTIVE, "window over");
		}
	}
}

/* Versions, aliases, provisioned concurrency. */

static int
ver_cmp(const void *key, const void *elem)
{
	uint64_t k = *(const uint64_t *)key, n = ((const struct model_ver *)elem)->number;

	return k < n ? -1 : k > n ? 1 : 0;
}

struct model_ver *
model_ver_find(const struct model_fn *fn, uint64_t number)
{
	size_t at;

	if (!vec_search(&fn->vers, &number, ver_cmp, &at))
		return NULL;
	return fn->vers.v[at];
}

static int
alias_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct model_alias *)elem)->name);
}

struct model_alias *
model_alias_find(const struct model_fn *fn, const char *name)
{
	size_t at;

	if (!vec_search(&fn->aliases, name, alias_cmp, &at))
		return NULL;
	return fn->aliases.v[at];
}

void
model_alias_add(struct model_fn *fn, struct model_alias *alias)
{
	size_t at;

	if (!vec_search(&fn->aliases, alias->name, alias_cmp, &at))
		vec_insert(&fn->aliases, at, alias);
}

static int
pc_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct model_pc *)elem)->qualifier);
}

struct model_pc *
model_pc_find(const struct model_fn *fn, const char *qualifier)
{
	size_t at;

	if (!vec_search(&fn->pcs, qualifier, pc_cmp, &at))
		return NULL;
	return fn->pcs.v[at];
}

void
model_pc_add(struct model_fn *fn, struct model_pc *pc)
{
	size_t at;

	if (!vec_search(&fn->pcs, pc->qualifier, pc_cmp, &at))
		vec_insert(&fn->pcs, at, pc);
}

void
model_pc_remove(struct model_fn *fn, const char *qualifier)
{
	size_t at;

	if (vec_search(&fn->pcs, qualifier, pc_cmp, &at))
		model_pc_free(vec_remove(&fn->pcs, at));
}

char *
model_aliases_using(const struct model_fn *fn, uint64_t n)
{
	struct buf b = BUF_INIT(64 * 1024);
	const struct model_alias *a;
	size_t i;
	int count = 0;

	for (i = 0; i < fn->aliases.n; i++) {
		a = fn->aliases.v[i];
		if (a->version != n && !(a->routing && a->extra == n))
			continue;
		(void)buf_printf(&b, "%s%s", count++ > 0 ? ", " : "[", a->name);
	}
	if (count == 0) {
		buf_free(&b);
		return NULL;
	}
	(void)buf_putc(&b, ']');
	return buf_detach(&b, NULL);
}

/* Layers. */

static int
layer_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct model_layer *)elem)->name);
}

struct model_layer *
model_layer_find(struct emu *emu, const char *name)
{
	size_t at;

	if (!vec_search(&emu->layers, name, layer_cmp, &at))
		return NULL;
	return emu->layers.v[at];
}

void
model_layer_add(struct emu *emu, struct model_layer *layer)
{
	size_t at;

	if (!vec_search(&emu->layers, layer->name, layer_cmp, &at))
		vec_insert(&emu->layers, at, layer);
}

static int
layer_ver_cmp(const void *key, const void *elem)
{
	uint64_t k = *(const uint64_t *)key, n = ((const struct model_layer_ver *)elem)->version;

	return k < n ? -1 : k > n ? 1 : 0;
}

struct model_layer_ver *
model_layer_ver_find(const struct model_layer *layer, uint64_t version)
{
	size_t at;

	if (!vec_search(&layer->vers, &version, layer_ver_cmp, &at))
		return NULL;
	return layer->vers.v[at];
}

void
model_layer_free(struct model_layer *layer)
{
	struct model_layer_ver *lv;
	size_t i;

	if (layer == NULL)
		return;
	for (i = 0; i < layer->vers.n; i++) {
		lv = layer->vers.v[i];
		free(lv->description);
		free(lv->license);
		json_decref(lv->runtimes);
		json_decref(lv->archs);
		free(lv->code_sha256);
		free(lv->code_path);
		free(lv);
	}
	vec_free(&layer->vers);
	free(layer->name);
	free(layer);
}

void
model_esm_free(struct model_esm *esm)
{
	if (esm == NULL)
		return;
	free(esm->fn_name);
	free(esm->qualifier);
	free(esm->source_arn);
	json_decref(esm->config);
	free(esm);
}

static int
result_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct model_result *)elem)->key);
}

const struct model_result *
model_result_find(const struct emu *emu, const char *key)
{
	size_t at;

	if (!vec_search(&emu->results, key, result_cmp, &at))
		return NULL;
	return emu->results.v[at];
}

void
model_result_put(struct emu *emu, struct model_result *res)
{
	size_t at;

	if (vec_search(&emu->results, res->key, result_cmp, &at)) {
		model_result_free(emu->results.v[at]);
		emu->results.v[at] = res;
		return;
	}
	vec_insert(&emu->results, at, res);
}

void
model_result_free(struct model_result *res)
{
	if (res == NULL)
		return;
	free(res->key);
	free(res->payload);
	free(res->function_error);
	free(res);
}

static int
failure_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct model_failure *)elem)->key);
}

const struct model_failure *
model_failure_find(const struct emu *emu, const char *key)
{
	size_t at;

	if (!vec_search(&emu->failures, key, failure_cmp, &at))
		return NULL;
	return emu->failures.v[at];
}

const struct model_failure *
model_failure_for(const struct emu *emu, const struct model_cfg *cfg)
{
	const struct model_failure *f = NULL;

	if (emu->failures.n == 0)
		return NULL;
	if (cfg->image_uri != NULL)
		f = model_failure_find(emu, cfg->image_uri);
	if (f == NULL && cfg->code_sha256 != NULL)
		f = model_failure_find(emu, cfg->code_sha256);
	return f;
}

void
model_failure_put(struct emu *emu, struct model_failure *f)
{
	size_t at;

	if (vec_search(&emu->failures, f->key, failure_cmp, &at)) {
		model_failure_free(emu->failures.v[at]);
		emu->failures.v[at] = f;
		return;
	}
	vec_insert(&emu->failures, at, f);
}

bool
model_failure_remove(struct emu *emu, const char *key)
{
	size_t at;

	if (!vec_search(&emu->failures, key, failure_cmp, &at))
		return false;
	model_failure_free(vec_remove(&emu->failures, at));
	return true;
}

void
model_failure_free(struct model_failure *f)
{
	if (f == NULL)
		return;
	free(f->key);
	model_reason_free(&f->why);
	free(f);
}

void
model_hook_free(struct model_hook *hook)
{
	if (hook == NULL)
		return;
	free(hook->fn_name);
	model_cfg_free(&hook->code);
	json_decref(hook->config);
	free(hook);
}

/* Names and ARNs. */

char *
model_fn_arn(const struct emu *emu, const char *name, const char *qualifier)
{
	if (qualifier != NULL)
		return xasprintf("arn:%s:lambda:%s:%s:function:%s:%s", emu->partition, emu->region,
		    emu->account, name, qualifier);
	return xasprintf(
	    "arn:%s:lambda:%s:%s:function:%s", emu->partition, emu->region, emu->account, name);
}

char *
model_layer_arn(const struct emu *emu, const char *name, uint64_t version)
{
	if (version > 0)
		return xasprintf("arn:%s:lambda:%s:%s:layer:%s:%" PRIu64, emu->partition,
		    emu->region, emu->account, name, version);
	return xasprintf(
	    "arn:%s:lambda:%s:%s:layer:%s", emu->partition, emu->region, emu->account, name);
}

void
model_version_name(uint64_t number, char out[24])
{
	if (number == MODEL_LATEST)
		snprintf(out, 24, "$LATEST");
	else
		snprintf(out, 24, "%" PRIu64, number);
}

void
model_not_found(struct req *r, const char *name, const char *qualifier)
{
	char *arn = model_fn_arn(r->emu, name, qualifier);

	req_error(r, 404, "ResourceNotFoundException", "Function not found: %s", arn);
	free(arn);
}

struct model_fn *
model_fn_lookup(struct req *r, const char *name, const char *qualifier)
{
	struct model_fn *fn = model_fn_find(r->emu, name);

	if (fn == NULL) {
		model_not_found(r, name, qualifier);
		return NULL;
	}
	model_settle(r->emu, fn, r->now);
	return fn;
}

int
model_parse_name(struct req *r, const char *value, const char *query_qualifier,
    enum model_name_kind kind, struct model_name *out)
{
	bool namespaced = kind == MODEL_NAME_NAMESPACED;
	size_t max = namespaced ? ARN_NAMESPACED_FUNCTION_MAX : ARN_FUNCTION_MAX;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (value == NULL) {
		req_check_null(r, "functionName", false);
		rc = -1;
	} else {
		if (strlen(value) < 1 || strlen(value) > max) {
			req_check_length(r, "functionName", value, 1, max);
			rc = -1;
		}
		if (strlen(value) >= ARN_PART_MAX ||
		    arn_parse_function(value, namespaced, &out->parts) != 0) {
			req_check_pattern(r, "functionName", value, false,
			    namespaced ? ARN_NAMESPACED_FUNCTION_PATTERN : ARN_FUNCTION_PATTERN);
			rc = -1;
		}
	}
	if (query_qualifier != NULL) {
		req_check_length(r, "qualifier", query_qualifier, 1, ARN_QUALIFIER_MAX);
		req_check_pattern(r, "qualifier", query_qualifier,
		    query_qualifier[0] == '\0' || arn_qualifier_ok(query_qualifier),
		    ARN_QUALIFIER_PATTERN);
		if (!arn_qualifier_ok(query_qualifier))
			rc = -1;
	}
	if (rc == 0) {
		if (query_qualifier != NULL)
			out->qualifier = query_qualifier;
		else if (out->parts.qualifier[0] != '\0')
			out->qualifier = out->parts.qualifier;
	}
	return rc;
}

static const char *
iam_action(enum emu_op op)
{
	if (op == EMU_OP_Invoke)
		return "InvokeFunction";
	return emu_op_name(op);
}

int
model_check_name(struct req *r, const struct model_name *n)
{
	const char *qq = n->qualifier;
	char *arn;

	if (n->parts.qualifier[0] != '\0' && qq != n->parts.qualifier &&
	    strcmp(qq, n->parts.qualifier) != 0) {
		req_error(r, 400, "InvalidParameterValueException",
		    "The derived qualifier from the function name does not match the specified "
		    "qualifier.");
		return -1;
	}
	if (n->parts.region[0] != '\0' && strcmp(n->parts.region, r->emu->region) != 0) {
		req_error(r, 404, "ResourceNotFoundException",
		    "Functions from '%s' are not reachable in this region ('%s')", n->parts.region,
		    r->emu->region);
		return -1;
	}
	if (n->parts.account[0] != '\0' && strcmp(n->parts.account, r->emu->account) != 0) {
		arn = xasprintf("arn:%s:lambda:%s:%s:function:%s", r->emu->partition,
		    r->emu->region, n->parts.account, n->parts.name);
		req_error(r, 403, "AccessDeniedException",
		    "User: arn:%s:iam::%s:user/tether-emulator is not authorized to perform: "
		    "lambda:%s on resource: %s because no resource-based policy allows the "
		    "lambda:%s action",
		    r->emu->partition, r->emu->account, iam_action(r->op), arn, iam_action(r->op));
		free(arn);
		return -1;
	}
	return 0;
}

int
model_name(struct req *r, const char *value, const char *query_qualifier, enum model_name_kind kind,
    struct model_name *out)
{
	(void)model_parse_name(r, value, query_qualifier, kind, out);
	if (req_failed(r))
		return -1;
	return model_check_name(r, out);
}

int
model_resolve(struct req *r, const char *name, const char *qualifier, struct model_target *t)
{
	uint64_t n;

	memset(t, 0, sizeof(*t));
	t->qualifier = qualifier;
	t->fn = model_fn_lookup(r, name, qualifier);
	if (t->fn == NULL)
		return -1;
	if (qualifier == NULL) {
		t->kind = MODEL_TARGET_FUNCTION;
		return 0;
	}
	if (strcmp(qualifier, "$LATEST") == 0) {
		t->kind = MODEL_TARGET_LATEST;
		return 0;
	}
	if (arn_digits(qualifier)) {
		t->kind = MODEL_TARGET_VERSION;
		if (arn_version_number(qualifier, &n))
			t->ver = model_ver_find(t->fn, n);
		if (t->ver == NULL) {
			model_not_found(r, name, qualifier);
			return -1;
		}
		return 0;
	}
	if (arn_alias_ok(qualifier))
		t->alias = model_alias_find(t->fn, qualifier);
	if (t->alias == NULL) {
		model_not_found(r, name, qualifier);
		return -1;
	}
	t->kind = MODEL_TARGET_ALIAS;
	if (t->alias->version != MODEL_LATEST)
		t->ver = model_ver_find(t->fn, t->alias->version);
	return 0;
}
