#include <stdlib.h>
#include <string.h>

#include "aws/lambda_types.h"
#include "common/xmalloc.h"

const char *const lambda_state_names[] = {
    [LAMBDA_STATE_NONE] = "none",
    [LAMBDA_STATE_PENDING] = "Pending",
    [LAMBDA_STATE_ACTIVE] = "Active",
    [LAMBDA_STATE_INACTIVE] = "Inactive",
    [LAMBDA_STATE_FAILED] = "Failed",
    [LAMBDA_STATE_OTHER] = "other",
};

const char *const lambda_update_status_names[] = {
    [LAMBDA_UPDATE_NONE] = "none",
    [LAMBDA_UPDATE_IN_PROGRESS] = "InProgress",
    [LAMBDA_UPDATE_SUCCESSFUL] = "Successful",
    [LAMBDA_UPDATE_FAILED] = "Failed",
    [LAMBDA_UPDATE_OTHER] = "other",
};

enum lambda_state
lambda_state_parse(const char *s)
{
	int i;

	if (s == NULL)
		return LAMBDA_STATE_NONE;
	for (i = LAMBDA_STATE_PENDING; i < LAMBDA_STATE_OTHER; i++)
		if (strcmp(s, lambda_state_names[i]) == 0)
			return (enum lambda_state)i;
	return LAMBDA_STATE_OTHER;
}

enum lambda_update_status
lambda_update_status_parse(const char *s)
{
	int i;

	if (s == NULL)
		return LAMBDA_UPDATE_NONE;
	for (i = LAMBDA_UPDATE_IN_PROGRESS; i < LAMBDA_UPDATE_OTHER; i++)
		if (strcmp(s, lambda_update_status_names[i]) == 0)
			return (enum lambda_update_status)i;
	return LAMBDA_UPDATE_OTHER;
}

static void
kv_free(struct lambda_kv *kv, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

static void
strv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
lambda_function_clear(struct lambda_function *f)
{
	size_t i;

	if (f == NULL)
		return;
	free(f->name);
	free(f->arn);
	free(f->version);
	free(f->description);
	free(f->revision_id);
	free(f->code_sha256);
	free(f->package_type);
	free(f->image_uri);
	free(f->resolved_image_uri);
	free(f->role);
	free(f->handler);
	free(f->runtime);
	free(f->architecture);
	kv_free(f->environment, f->nenvironment);
	for (i = 0; i < f->nlayers; i++)
		free(f->layers[i].arn);
	free(f->layers);
	free(f->state_name);
	free(f->state_reason);
	free(f->state_reason_code);
	free(f->last_update_status_name);
	free(f->last_update_status_reason);
	free(f->last_update_status_reason_code);
	free(f->last_modified);
	kv_free(f->tags, f->ntags);
	memset(f, 0, sizeof(*f));
}

void
lambda_alias_clear(struct lambda_alias *a)
{
	if (a == NULL)
		return;
	free(a->name);
	free(a->arn);
	free(a->function_version);
	free(a->description);
	free(a->routing_version);
	free(a->revision_id);
	memset(a, 0, sizeof(*a));
}

void
lambda_layer_version_clear(struct lambda_layer_version *l)
{
	if (l == NULL)
		return;
	free(l->layer_arn);
	free(l->layer_version_arn);
	free(l->description);
	free(l->created_date);
	free(l->license_info);
	free(l->code_sha256);
	strv_free(l->compatible_runtimes, l->ncompatible_runtimes);
	strv_free(l->compatible_architectures, l->ncompatible_architectures);
	memset(l, 0, sizeof(*l));
}

void
lambda_esm_clear(struct lambda_esm *e)
{
	if (e == NULL)
		return;
	free(e->uuid);
	free(e->function_arn);
	free(e->event_source_arn);
	free(e->state);
	memset(e, 0, sizeof(*e));
}

void
lambda_pc_config_clear(struct lambda_pc_config *p)
{
	if (p == NULL)
		return;
	free(p->function_arn);
	free(p->qualifier);
	free(p->status);
	free(p->status_reason);
	memset(p, 0, sizeof(*p));
}

void
lambda_invoke_result_clear(struct lambda_invoke_result *r)
{
	if (r == NULL)
		return;
	free(r->executed_version);
	free(r->function_error);
	free(r->payload);
	free(r->log_result);
	memset(r, 0, sizeof(*r));
}

void
lambda_function_page_clear(struct lambda_function_page *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->n; i++)
		lambda_function_clear(&p->items[i]);
	free(p->items);
	free(p->next_marker);
	memset(p, 0, sizeof(*p));
}

void
lambda_alias_page_clear(struct lambda_alias_page *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->n; i++)
		lambda_alias_clear(&p->items[i]);
	free(p->items);
	free(p->next_marker);
	memset(p, 0, sizeof(*p));
}

void
lambda_layer_version_page_clear(struct lambda_layer_version_page *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->n; i++)
		lambda_layer_version_clear(&p->items[i]);
	free(p->items);
	free(p->next_marker);
	memset(p, 0, sizeof(*p));
}

void
lambda_esm_page_clear(struct lambda_esm_page *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->n; i++)
		lambda_esm_clear(&p->items[i]);
	free(p->items);
	free(p->next_marker);
	memset(p, 0, sizeof(*p));
}

void
lambda_pc_page_clear(struct lambda_pc_page *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->n; i++)
		lambda_pc_config_clear(&p->items[i]);
	free(p->items);
	free(p->next_marker);
	memset(p, 0, sizeof(*p));
}

void
lambda_tags_clear(struct lambda_tags *t)
{
	if (t == NULL)
		return;
	kv_free(t->items, t->n);
	memset(t, 0, sizeof(*t));
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

static struct lambda_kv *
kv_copy(const struct lambda_kv *src, size_t n)
{
	struct lambda_kv *kv;
	size_t i;

	if (n == 0)
		return NULL;
	kv = xcalloc(n, sizeof(*kv));
	for (i = 0; i < n; i++) {
		kv[i].key = xstrdup(src[i].key);
		kv[i].value = xstrdup(src[i].value);
	}
	return kv;
}

void
lambda_function_copy(struct lambda_function *dst, const struct lambda_function *src)
{
	size_t i;

	memset(dst, 0, sizeof(*dst));
	dst->name = dup_or_null(src->name);
	dst->arn = dup_or_null(src->arn);
	dst->version = dup_or_null(src->version);
	dst->description = dup_or_null(src->description);
	dst->revision_id = dup_or_null(src->revision_id);
	dst->code_sha256 = dup_or_null(src->code_sha256);
	dst->code_size = src->code_size;
	dst->package_type = dup_or_null(src->package_type);
	dst->image_uri = dup_or_null(src->image_uri);
	dst->resolved_image_uri = dup_or_null(src->resolved_image_uri);
	dst->role = dup_or_null(src->role);
	dst->handler = dup_or_null(src->handler);
	dst->runtime = dup_or_null(src->runtime);
	dst->architecture = dup_or_null(src->architecture);
	dst->memory = src->memory;
	dst->timeout = src->timeout;
	dst->has_environment = src->has_environment;
	dst->environment = kv_copy(src->environment, src->nenvironment);
	dst->nenvironment = src->nenvironment;
	if (src->nlayers > 0) {
		dst->layers = xcalloc(src->nlayers, sizeof(*dst->layers));
		for (i = 0; i < src->nlayers; i++) {
			dst->layers[i].arn = xstrdup(src->layers[i].arn);
			dst->layers[i].code_size = src->layers[i].code_size;
		}
		dst->nlayers = src->nlayers;
	}
	dst->state = src->state;
	dst->state_name = dup_or_null(src->state_name);
	dst->state_reason = dup_or_null(src->state_reason);
	dst->state_reason_code = dup_or_null(src->state_reason_code);
	dst->last_update_status = src->last_update_status;
	dst->last_update_status_name = dup_or_null(src->last_update_status_name);
	dst->last_update_status_reason = dup_or_null(src->last_update_status_reason);
	dst->last_update_status_reason_code = dup_or_null(src->last_update_status_reason_code);
	dst->last_modified = dup_or_null(src->last_modified);
	dst->has_tags = src->has_tags;
	dst->tags = kv_copy(src->tags, src->ntags);
	dst->ntags = src->ntags;
}

void
lambda_alias_copy(struct lambda_alias *dst, const struct lambda_alias *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->name = dup_or_null(src->name);
	dst->arn = dup_or_null(src->arn);
	dst->function_version = dup_or_null(src->function_version);
	dst->description = dup_or_null(src->description);
	dst->routing_version = dup_or_null(src->routing_version);
	dst->routing_weight = src->routing_weight;
	dst->revision_id = dup_or_null(src->revision_id);
}

const char *
lambda_kv_get(const struct lambda_kv *kv, size_t n, const char *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(kv[i].key, key) == 0)
			return kv[i].value;
	return NULL;
}
