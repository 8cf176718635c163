/*
 * The emulator's Lambda model: functions, versions, aliases, layers, event source mappings
 * and provisioned concurrency, and the operations on them with Lambda's rules (lambda-api.md
 * §1-§7). It has no sockets and no clock: the server passes each request in with the time,
 * so the model is deterministic and unit-testable. Signatures, throttling, fault injection,
 * latency, statistics and the admin API belong to the server (server.c), not here.
 */
#ifndef TETHER_AWS_EMULATOR_EMU_H
#define TETHER_AWS_EMULATOR_EMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/httpd.h"

#define EMU_REPLY_BODY_MAX (7 * 1024 * 1024)
#define EMU_REPLY_HEADERS_MAX (8 * 1024)
#define EMU_PAGE_MAX 50

/* Every operation the emulator serves, by its service-model name (emu_op_name()). */
enum emu_op {
	EMU_OP_NONE = 0, /* no route matched */
	EMU_OP_CreateFunction,
	EMU_OP_GetFunction,
	EMU_OP_GetFunctionConfiguration,
	EMU_OP_ListFunctions,
	EMU_OP_ListVersionsByFunction,
	EMU_OP_UpdateFunctionCode,
	EMU_OP_UpdateFunctionConfiguration,
	EMU_OP_PublishVersion,
	EMU_OP_DeleteFunction,
	EMU_OP_CreateAlias,
	EMU_OP_GetAlias,
	EMU_OP_UpdateAlias,
	EMU_OP_DeleteAlias,
	EMU_OP_ListAliases,
	EMU_OP_PublishLayerVersion,
	EMU_OP_GetLayerVersion,
	EMU_OP_GetLayerVersionByArn,
	EMU_OP_ListLayerVersions,
	EMU_OP_Invoke,
	EMU_OP_TagResource,
	EMU_OP_UntagResource,
	EMU_OP_ListTags,
	EMU_OP_CreateEventSourceMapping,
	EMU_OP_ListEventSourceMappings,
	EMU_OP_PutProvisionedConcurrencyConfig,
	EMU_OP_ListProvisionedConcurrencyConfigs,
	EMU_OP__COUNT
};

/* Which of the emulator's throttle buckets an operation is charged to. */
enum emu_bucket {
	EMU_BUCKET_NONE,        /* data plane (Invoke): not a control-plane quota */
	EMU_BUCKET_GETFUNCTION, /* GetFunction's own 100/s */
	EMU_BUCKET_SHARED,      /* every other control-plane call: 15/s together */
};

struct emu;

struct emu_opts {
	const char *account;      /* "123456789012" */
	const char *region;       /* "us-east-1" */
	uint64_t create_delay_ms; /* Pending -> Active */
	uint64_t update_delay_ms; /* LastUpdateStatus InProgress -> Successful */
};

#define EMU_OPTS_INIT                                 \
	{                                             \
		"123456789012", "us-east-1", 100, 200 \
	}

struct emu_request {
	const char *method;
	const char *path;  /* raw wire path, not decoded */
	const char *query; /* raw wire query without '?', or NULL */
	const struct httpd_header *headers;
	size_t nheaders;
	const char *body;
	size_t body_len;
	uint64_t now_ms;  /* monotonic: drives the Pending and InProgress windows */
	uint64_t wall_ms; /* epoch: LastModified, CreatedDate */
	const char *request_id;
};

struct emu_reply {
	int status;
	struct buf body;     /* JSON (or the raw Invoke payload) */
	struct buf headers;  /* extra "Name: value\r\n" lines, Content-Type included */
	char error_type[64]; /* the x-amzn-ErrorType when status >= 400, else "" */
};

/* The service-model name, e.g. "PublishVersion"; NULL for EMU_OP_NONE. */
const char *emu_op_name(enum emu_op op);
enum emu_bucket emu_op_bucket(enum emu_op op);
/*
 * Route a request by method, raw path and raw query (GetLayerVersionByArn is told apart by
 * its query). Routing needs no state, so the server can count and throttle by operation
 * before the model runs. EMU_OP_NONE when nothing matches.
 */
enum emu_op emu_route(const char *method, const char *path, const char *query);

int emu_new(struct emu **out, const struct emu_opts *opts);
void emu_free(struct emu *emu);
/* Forget every function, layer, mapping, invoke result, update-failure rule and hook. */
void emu_reset(struct emu *emu);

void emu_reply_init(struct emu_reply *reply);
void emu_reply_free(struct emu_reply *reply);
/*
 * Write an AWS-shaped error: status, x-amzn-ErrorType, and a body whose message key is
 * "message" or "Message" as the service model has it for that type (lambda-api.md §6).
 */
void emu_reply_error(struct emu_reply *reply, int status, const char *type, const char *fmt, ...)
    PRINTFLIKE(4, 5);

/* Run one routed request against the model and fill reply. */
void emu_handle(
    struct emu *emu, enum emu_op op, const struct emu_request *req, struct emu_reply *reply);

/*
 * Set what Invoke returns for functions whose code is key: an image URI or a CodeSha256.
 * payload is the JSON result; function_error, when not NULL, is sent as
 * X-Amz-Function-Error (e.g. "Unhandled"). Returns 0, or -1 with err filled.
 */
int emu_set_invoke(struct emu *emu, const char *key, const char *payload,
    const char *function_error, struct err *err);

#define EMU_FAILURE_REASON_MAX 1024
#define EMU_FAILURE_CODE_DEFAULT "InvalidImage"

/*
 * Make code key (an image URI or a zip's CodeSha256) fail to deploy, with reason and
 * reason_code (NULL: EMU_FAILURE_CODE_DEFAULT): a CreateFunction ends its Pending window in
 * State Failed, an UpdateFunctionCode or UpdateFunctionConfiguration its InProgress window
 * in LastUpdateStatus Failed, and a published version is Failed. The rules in force when
 * such a request is accepted decide its outcome. Replaces a rule with the same key. Returns
 * 0, or -1 with err filled.
 */
int emu_set_update_failure(
    struct emu *emu, const char *key, const char *reason, const char *reason_code, struct err *err);
/* Remove the update-failure rule for key. Returns whether there was one. */
bool emu_clear_update_failure(struct emu *emu, const char *key);

#define EMU_HOOKS_MAX 64
#define EMU_HOOKS_LIST_MAX (1024 * 1024)

/*
 * Add a one-shot intercept: before the model serves the next request of operation (a name
 * from emu_op_name()) that names function (any request of it, for an operation that names
 * no function), $LATEST of function gets the code in code_json (UpdateFunctionCode's code
 * members) and the members of config_json (UpdateFunctionConfiguration's), as if another
 * client had updated it and the update had completed: new RevisionId, LastModified now,
 * LastUpdateStatus Successful. It waits for a later matching request while the function is
 * not Active or an update is in progress. Either JSON text may be NULL, not both; both are
 * checked against the function as the Update* operations check them. Hooks fire in the
 * order they were added, one per request. Returns 0, or -1 with err filled.
 */
int emu_add_hook(struct emu *emu, const char *operation, const char *function,
    const char *code_json, const char *config_json, struct err *err);
/* The hooks that have not fired, as {"intercepts": [...]} into out. Returns 0, or -1. */
int emu_list_hooks(const struct emu *emu, struct buf *out);

/*
 * Save the whole model as JSON (settling every Pending/InProgress window first), or load it
 * at start. Returns 0, or -1 with err filled; a failed load leaves the model empty.
 */
int emu_save(struct emu *emu, const char *path, uint64_t now_ms, struct err *err);
int emu_load(struct emu *emu, const char *path, uint64_t now_ms, struct err *err);

#endif
