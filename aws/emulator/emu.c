#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/emulator/alias.h"
#include "aws/emulator/emu.h"
#include "aws/emulator/esm.h"
#include "aws/emulator/fn.h"
#include "aws/emulator/hook.h"
#include "aws/emulator/invoke.h"
#include "aws/emulator/layer.h"
#include "aws/emulator/model.h"
#include "aws/emulator/pc.h"
#include "aws/emulator/persist.h"
#include "aws/emulator/route.h"
#include "aws/emulator/tag.h"
#include "common/jsonw.h"
#include "common/xmalloc.h"

#define PRNG_SEED 0x9e3779b97f4a7c15ULL
#define FUNCTION_ERROR_MAX 64
#define REASON_CODE_MAX 64

struct op {
	const char *name;
	enum emu_bucket bucket;
	void (*run)(struct req *r);
};

static const struct op ops[EMU_OP__COUNT] = {
    [EMU_OP_NONE] = {NULL, EMU_BUCKET_NONE, NULL},
    [EMU_OP_CreateFunction] = {"CreateFunction", EMU_BUCKET_SHARED, fn_create},
    [EMU_OP_GetFunction] = {"GetFunction", EMU_BUCKET_GETFUNCTION, fn_get},
    [EMU_OP_GetFunctionConfiguration] = {"GetFunctionConfiguration", EMU_BUCKET_SHARED,
        fn_get_configuration},
    [EMU_OP_ListFunctions] = {"ListFunctions", EMU_BUCKET_SHARED, fn_list},
    [EMU_OP_ListVersionsByFunction] = {"ListVersionsByFunction", EMU_BUCKET_SHARED,
        fn_list_versions},
    [EMU_OP_UpdateFunctionCode] = {"UpdateFunctionCode", EMU_BUCKET_SHARED, fn_update_code},
    [EMU_OP_UpdateFunctionConfiguration] = {"UpdateFunctionConfiguration", EMU_BUCKET_SHARED,
        fn_update_configuration},
    [EMU_OP_PublishVersion] = {"PublishVersion", EMU_BUCKET_SHARED, fn_publish},
    [EMU_OP_DeleteFunction] = {"DeleteFunction", EMU_BUCKET_SHARED, fn_delete},
    [EMU_OP_CreateAlias] = {"CreateAlias", EMU_BUCKET_SHARED, alias_create},
    [EMU_OP_GetAlias] = {"GetAlias", EMU_BUCKET_SHARED, alias_get},
    [EMU_OP_UpdateAlias] = {"UpdateAlias", EMU_BUCKET_SHARED, alias_update},
    [EMU_OP_DeleteAlias] = {"DeleteAlias", EMU_BUCKET_SHARED, alias_delete},
    [EMU_OP_ListAliases] = {"ListAliases", EMU_BUCKET_SHARED, alias_list},
    [EMU_OP_PublishLayerVersion] = {"PublishLayerVersion", EMU_BUCKET_SHARED, layer_publish},
    [EMU_OP_GetLayerVersion] = {"GetLayerVersion", EMU_BUCKET_SHARED, layer_get},
    [EMU_OP_GetLayerVersionByArn] = {"GetLayerVersionByArn", EMU_BUCKET_SHARED, layer_get_by_arn},
    [EMU_OP_ListLayerVersions] = {"ListLayerVersions", EMU_BUCKET_SHARED, layer_list_versions},
    [EMU_OP_Invoke] = {"Invoke", EMU_BUCKET_NONE, invoke_run},
    [EMU_OP_TagResource] = {"TagResource", EMU_BUCKET_SHARED, tag_resource},
    [EMU_OP_UntagResource] = {"UntagResource", EMU_BUCKET_SHARED, tag_untag},
    [EMU_OP_ListTags] = {"ListTags", EMU_BUCKET_SHARED, tag_list},
    [EMU_OP_CreateEventSourceMapping] = {"CreateEventSourceMapping", EMU_BUCKET_SHARED, esm_create},
    [EMU_OP_ListEventSourceMappings] = {"ListEventSourceMappings", EMU_BUCKET_SHARED, esm_list},
    [EMU_OP_PutProvisionedConcurrencyConfig] = {"PutProvisionedConcurrencyConfig",
        EMU_BUCKET_SHARED, pc_put},
    [EMU_OP_ListProvisionedConcurrencyConfigs] = {"ListProvisionedConcurrencyConfigs",
        EMU_BUCKET_SHARED, pc_list},
};

const char *
emu_op_name(enum emu_op op)
{
	if ((int)op <= EMU_OP_NONE || op >= EMU_OP__COUNT)
		return NULL;
	return ops[op].name;
}

enum emu_bucket
emu_op_bucket(enum emu_op op)
{
	if ((int)op <= EMU_OP_NONE || op >= EMU_OP__COUNT)
		return EMU_BUCKET_NONE;
	return ops[op].bucket;
}

enum emu_op
emu_route(const char *method, const char *path, const char *query)
{
	return route_match(method, path, query);
}

int
emu_new(struct emu **out, const struct emu_opts *opts)
{
	struct emu *emu;

	*out = NULL;
	if (opts == NULL || opts->account == NULL || opts->region == NULL ||
	    strlen(opts->account) != 12 || !arn_digits(opts->account) ||
	    !arn_region_ok(opts->region))
		return -1;
	emu = xcalloc(1, sizeof(*emu));
	emu->account = xstrdup(opts->account);
	emu->region = xstrdup(opts->region);
	emu->partition = arn_partition_of(emu->region);
	emu->create_delay_ms = opts->create_delay_ms;
	emu->update_delay_ms = opts->update_delay_ms;
	emu->prng = PRNG_SEED;
	*out = emu;
	return 0;
}

void
emu_reset(struct emu *emu)
{
	size_t i;

	for (i = 0; i < emu->fns.n; i++)
		model_fn_free(emu->fns.v[i]);
	vec_free(&emu->fns);
	ht_clear(&emu->fn_index);
	for (i = 0; i < emu->layers.n; i++)
		model_layer_free(emu->layers.v[i]);
	vec_free(&emu->layers);
	for (i = 0; i < emu->esms.n; i++)
		model_esm_free(emu->esms.v[i]);
	vec_free(&emu->esms);
	for (i = 0; i < emu->results.n; i++)
		model_result_free(emu->results.v[i]);
	vec_free(&emu->results);
	for (i = 0; i < emu->failures.n; i++)
		model_failure_free(emu->failures.v[i]);
	vec_free(&emu->failures);
	for (i = 0; i < emu->hooks.n; i++)
		model_hook_free(emu->hooks.v[i]);
	vec_free(&emu->hooks);
	emu->esm_seq = 0;
	emu->prng = PRNG_SEED;
}

void
emu_free(struct emu *emu)
{
	if (emu == NULL)
		return;
	emu_reset(emu);
	free(emu->account);
	free(emu->region);
	free(emu);
}

void
emu_reply_init(struct emu_reply *reply)
{
	reply->status = 0;
	buf_init(&reply->body, EMU_REPLY_BODY_MAX);
	buf_init(&reply->headers, EMU_REPLY_HEADERS_MAX);
	reply->error_type[0] = '\0';
}

void
emu_reply_free(struct emu_reply *reply)
{
	buf_free(&reply->body);
	buf_free(&reply->headers);
	reply->status = 0;
	reply->error_type[0] = '\0';
}

/* The exceptions whose shape spells the key "message" (lambda-api.md §6). */
static const char *const lower_message[] = {"InvalidParameterValueException",
    "InvalidRequestContentException", "CodeStorageExceededException",
    "PolicyLengthExceededException", "PreconditionFailedException",
    "ProvisionedConcurrencyConfigNotFoundException", "RequestTooLargeException",
    "ResourceConflictException", "ResourceNotReadyException", "TooManyRequestsException",
    "UnsupportedMediaTypeException", NULL};

/*
 * Errors of Lambda's front end rather than of the Lambda model (ValidationException for
 * constraint violations, AccessDeniedException, UnknownOperationException) have no "Type"
 * and a lower-case "message", like every other AWS JSON service.
 */
static const char *const generic[] = {
    "ValidationException", "AccessDeniedException", "UnknownOperationException", NULL};

static bool
listed(const char *type, const char *const *list)
{
	size_t i;

	for (i = 0; list[i] != NULL; i++)
		if (strcmp(type, list[i]) == 0)
			return true;
	return false;
}

void
emu_reply_error(struct emu_reply *reply, int status, const char *type, const char *fmt, ...)
{
	struct jsonw w;
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	reply->status = status;
	snprintf(reply->error_type, sizeof(reply->error_type), "%s", type);
	buf_reset(&reply->body);
	buf_reset(&reply->headers);
	(void)buf_puts(&reply->headers, "Content-Type: application/json\r\n");
	jsonw_init(&w, &reply->body);
	jsonw_object_open(&w);
	if (listed(type, generic)) {
		jsonw_kstr(&w, "message", msg);
	} else {
		jsonw_kstr(&w, "Type", status >= 500 ? "Service" : "User");
		jsonw_kstr(&w, listed(type, lower_message) ? "message" : "Message", msg);
	}
	jsonw_object_close(&w);
	free(msg);
}

void
emu_handle(struct emu *emu, enum emu_op op, const struct emu_request *in, struct emu_reply *reply)
{
	struct req r;

	reply->status = 0;
	reply->error_type[0] = '\0';
	buf_reset(&reply->body);
	buf_reset(&reply->headers);
	/* The op must be what the request routes to: its path then has the op's labels. */
	if ((int)op <= EMU_OP_NONE || op >= EMU_OP__COUNT || in->method == NULL ||
	    in->path == NULL || route_match(in->method, in->path, in->query) != op) {
		emu_reply_error(reply, 404, "UnknownOperationException", "Unknown operation %s %s",
		    in->method != NULL ? in->method : "", in->path != NULL ? in->path : "");
		return;
	}
	if (req_init(&r, emu, op, in, reply) == 0) {
		if (emu->hooks.n > 0)
			hook_fire(&r);
		ops[op].run(&r);
	}
	req_free(&r);
}

int
emu_set_invoke(struct emu *emu, const char *key, const char *payload, const char *function_error,
    struct err *err)
{
	struct model_result *res;
	json_t *check;
	const char *p;

	if (key == NULL || key[0] == '\0' || strlen(key) > 2048) {
		err_set(err, ERR_INVALID, "invoke result: the key must be 1..2048 bytes");
		return -1;
	}
	if (payload == NULL || strlen(payload) > EMU_REPLY_BODY_MAX - 1024) {
		err_set(err, ERR_INVALID, "invoke result %s: no payload, or too large", key);
		return -1;
	}
	check = json_loads(payload, JSON_DECODE_ANY, NULL);
	if (check == NULL) {
		err_set(err, ERR_INVALID, "invoke result %s: the payload is not JSON", key);
		return -1;
	}
	json_decref(check);
	if (function_error != NULL) {
		if (function_error[0] == '\0' || strlen(function_error) > FUNCTION_ERROR_MAX) {
			err_set(err, ERR_INVALID,
			    "invoke result %s: the function error must be 1..%d bytes", key,
			    FUNCTION_ERROR_MAX);
			return -1;
		}
		for (p = function_error; *p != '\0'; p++) {
			if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e) {
				err_set(err, ERR_INVALID,
				    "invoke result %s: the function error must be printable ASCII",
				    key);
				return -1;
			}
		}
	}
	res = xcalloc(1, sizeof(*res));
	res->key = xstrdup(key);
	res->payload = xstrdup(payload);
	res->function_error = function_error != NULL ? xstrdup(function_error) : NULL;
	model_result_put(emu, res);
	return 0;
}

/* A reason code as Lambda's enums spell them, newer ones included: FunctionError.InitTimeout. */
static bool
reason_code_ok(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > REASON_CODE_MAX ||
	    !((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z')))
		return false;
	for (i = 1; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
		        (s[i] >= '0' && s[i] <= '9') || s[i] == '.'))
			return false;
	return true;
}

int
emu_set_update_failure(
    struct emu *emu, const char *key, const char *reason, const char *reason_code, struct err *err)
{
	struct model_failure *f;

	if (key == NULL || key[0] == '\0' || strlen(key) > 2048) {
		err_set(err, ERR_INVALID, "update failure: the key must be 1..2048 bytes");
		return -1;
	}
	if (reason == NULL || reason[0] == '\0' || strlen(reason) > EMU_FAILURE_REASON_MAX) {
		err_set(err, ERR_INVALID, "update failure %s: the reason must be 1..%d bytes", key,
		    EMU_FAILURE_REASON_MAX);
		return -1;
	}
	if (reason_code == NULL)
		reason_code = EMU_FAILURE_CODE_DEFAULT;
	if (!reason_code_ok(reason_code)) {
		err_set(err, ERR_INVALID,
		    "update failure %s: the reason code must be [A-Za-z][A-Za-z0-9.]*, at most %d "
		    "bytes",
		    key, REASON_CODE_MAX);
		return -1;
	}
	f = xcalloc(1, sizeof(*f));
	f->key = xstrdup(key);
	f->why.reason = xstrdup(reason);
	f->why.code = xstrdup(reason_code);
	model_failure_put(emu, f);
	return 0;
}

bool
emu_clear_update_failure(struct emu *emu, const char *key)
{
	return key != NULL && model_failure_remove(emu, key);
}

int
emu_add_hook(struct emu *emu, const char *operation, const char *function, const char *code_json,
    const char *config_json, struct err *err)
{
	return hook_add(emu, operation, function, code_json, config_json, err);
}

int
emu_list_hooks(const struct emu *emu, struct buf *out)
{
	return hook_list(emu, out);
}

int
emu_save(struct emu *emu, const char *path, uint64_t now_ms, struct err *err)
{
	(void)now_ms; /* every window is completed, whatever the time */
	return persist_save(emu, path, err);
}

int
emu_load(struct emu *emu, const char *path, uint64_t now_ms, struct err *err)
{
	(void)now_ms; /* a loaded model is settled: there is no window left to time */
	emu_reset(emu);
	if (persist_load(emu, path, err) != 0) {
		emu_reset(emu);
		return -1;
	}
	return 0;
}
