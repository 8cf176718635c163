#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/emulator/fn.h"
#include "aws/emulator/invoke.h"
#include "aws/emulator/model.h"
#include "common/crypto.h"
#include "common/xmalloc.h"

#define LOG_TAIL_MAX 4096
#define CLIENT_CONTEXT_MAX 3583

static const char *const invocation_types[] = {"Event", "RequestResponse", "DryRun", NULL};
static const char *const log_types[] = {"None", "Tail", NULL};

/* The base64 of a plausible log tail: START, the error if any, END, REPORT. */
static char *
log_tail(const char *request_id, const char *version, const struct model_cfg *cfg,
    const struct model_result *res)
{
	struct buf b = BUF_INIT(LOG_TAIL_MAX);
	char *out;

	(void)buf_printf(&b, "START RequestId: %s Version: %s\n", request_id, version);
	if (res != NULL && res->function_error != NULL)
		(void)buf_printf(
		    &b, "%s\tERROR\tInvoke Error \t%.2048s\n", request_id, res->payload);
	(void)buf_printf(&b, "END RequestId: %s\n", request_id);
	(void)buf_printf(&b,
	    "REPORT RequestId: %s\tDuration: 1.61 ms\tBilled Duration: 2 ms\tMemory Size: %lld "
	    "MB\tMax Memory Used: 38 MB\t\n",
	    request_id, (long long)cfg->memory);
	out = crypto_base64_encode(b.data, b.len);
	buf_free(&b);
	return out;
}

static const struct model_result *
find_result(struct emu *emu, const struct model_cfg *cfg)
{
	const struct model_result *res = NULL;

	if (cfg->image_uri != NULL)
		res = model_result_find(emu, cfg->image_uri);
	if (res == NULL && cfg->code_sha256 != NULL)
		res = model_result_find(emu, cfg->code_sha256);
	return res;
}

static bool
client_context_ok(const char *s)
{
	unsigned char *raw = NULL;
	size_t n;
	json_t *j;
	bool ok;

	if (strlen(s) > CLIENT_CONTEXT_MAX || crypto_base64_decode(s, strlen(s), &raw, &n) != 0)
		return false;
	j = json_loadb((const char *)raw, n, 0, NULL);
	ok = json_is_object(j);
	json_decref(j);
	free(raw);
	return ok;
}

void
invoke_run(struct req *r)
{
	struct model_name n;
	struct model_target t;
	const struct model_ver *ver = NULL;
	const struct model_cfg *cfg;
	const struct model_result *res;
	const char *type, *log, *ctx, *payload;
	char version[24], rid[MODEL_REVISION_LEN];
	const char *request_id = r->in->request_id;
	json_error_t jerr;
	json_t *parsed;
	char *tail;
	size_t limit;

	type = req_header(r, "X-Amz-Invocation-Type");
	log = req_header(r, "X-Amz-Log-Type");
	ctx = req_header(r, "X-Amz-Client-Context");
	if (type != NULL)
		(void)req_check_enum(r, "invocationType", type, invocation_types);
	if (log != NULL)
		(void)req_check_enum(r, "logType", log, log_types);
	(void)model_parse_name(
	    r, r->label[0], req_query(r, "Qualifier"), MODEL_NAME_NAMESPACED, &n);
	if (req_failed(r))
		return;
	limit = type != NULL && strcmp(type, "Event") == 0 ? INVOKE_ASYNC_MAX : INVOKE_SYNC_MAX;
	if (r->in->body_len > limit) {
		req_error(r, 413, "RequestTooLargeException",
		    "Request must be smaller than %zu bytes for the %s operation", limit,
		    limit == INVOKE_SYNC_MAX ? "InvokeFunction" : "InvokeAsync");
		return;
	}
	if (model_check_name(r, &n) != 0 || model_resolve(r, n.parts.name, n.qualifier, &t) != 0)
		return;
	if (ctx != NULL && !client_context_ok(ctx)) {
		req_error(r, 400, "InvalidParameterValueException",
		    "Client context must be a valid Base64-encoded JSON object.");
		return;
	}
	if (r->in->body_len > 0) {
		parsed = json_loadb(r->in->body, r->in->body_len, JSON_DECODE_ANY, &jerr);
		if (parsed == NULL) {
			req_error(r, 400, "InvalidRequestContentException",
			    "Could not parse request body into json: Could not parse payload into "
			    "json: "
			    "%s (line %d, column %d)",
			    jerr.text, jerr.line, jerr.column);
			return;
		}
		json_decref(parsed);
	}
	if (type != NULL && strcmp(type, "DryRun") == 0) {
		req_empty(r, 204);
		return;
	}
	/* Which version runs: an alias with routing draws its additional version by weight. */
	switch (t.kind) {
	case MODEL_TARGET_FUNCTION:
	case MODEL_TARGET_LATEST:
		ver = NULL;
		break;
	case MODEL_TARGET_VERSION:
		ver = t.ver;
		break;
	case MODEL_TARGET_ALIAS:
		ver = t.ver;
		if (t.alias->routing && model_random(r->emu) < t.alias->extra_weight)
			ver = model_ver_find(t.fn, t.alias->extra);
		break;
	}
	if (ver == NULL && fn_busy(r, t.fn))
		return;
	if (ver != NULL && ver->state != MODEL_STATE_ACTIVE) {
		req_error(r, 409, "ResourceConflictException",
		    "The operation cannot be performed at this time. The function is currently in "
		    "the following state: %s",
		    model_state_names[ver->state]);
		return;
	}
	/* After a failed update, $LATEST keeps running the configuration that last deployed. */
	cfg = ver != NULL ? &ver->cfg : t.fn->live != NULL ? t.fn->live : &t.fn->cfg;
	if (type != NULL && strcmp(type, "Event") == 0) {
		req_empty(r, 202);
		return;
	}
	model_version_name(ver != NULL ? ver->number : MODEL_LATEST, version);
	res = find_result(r->emu, cfg);
	payload = res != NULL ? res->payload : INVOKE_DEFAULT_RESULT;
	req_empty(r, 200);
	(void)buf_puts(&r->reply->headers, "Content-Type: application/json\r\n");
	(void)buf_printf(&r->reply->headers, "X-Amz-Executed-Version: %s\r\n", version);
	if (res != NULL && res->function_error != NULL)
		(void)buf_printf(
		    &r->reply->headers, "X-Amz-Function-Error: %s\r\n", res->function_error);
	if (log != NULL && strcmp(log, "Tail") == 0) {
		if (request_id == NULL) {
			crypto_uuid(rid);
			request_id = rid;
		}
		tail = log_tail(request_id, version, cfg, res);
		(void)buf_printf(&r->reply->headers, "X-Amz-Log-Result: %s\r\n", tail);
		free(tail);
	}
	if (buf_puts(&r->reply->body, payload) != 0)
		req_error(r, 500, "ServiceException", "The result is larger than the reply cap.");
}
