/*
 * What the Lambda control plane returns, as tether uses it (lambda-api.md §2): functions
 * (FunctionConfiguration, plus GetFunction's Code and Tags), aliases, layer versions, event
 * source mappings, provisioned concurrency configurations, invoke results and list pages.
 *
 * Every string member is NULL when the response did not carry the field (or carried null);
 * numbers are 0 then. Status enums are parsed leniently: a value this code does not know is
 * kept as text in the *_name member and its enum is ..._OTHER, so a newer Lambda never
 * breaks an older tether. Each struct is released with its _free function (NULL is fine),
 * which frees the members and, for the _free of a heap object, the object itself.
 */
#ifndef TETHER_AWS_LAMBDA_TYPES_H
#define TETHER_AWS_LAMBDA_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A key and value (environment variables, tags). */
struct lambda_kv {
	char *key;
	char *value;
};

/* An input pair, for requests (environment, tags); the strings stay the caller's. */
struct lambda_pair {
	const char *key;
	const char *value;
};

/* Configuration.State. */
enum lambda_state {
	LAMBDA_STATE_NONE, /* absent (ListFunctions omits it) */
	LAMBDA_STATE_PENDING,
	LAMBDA_STATE_ACTIVE,
	LAMBDA_STATE_INACTIVE,
	LAMBDA_STATE_FAILED,
	LAMBDA_STATE_OTHER, /* a value this code does not know; see state_name */
};

/* Configuration.LastUpdateStatus. */
enum lambda_update_status {
	LAMBDA_UPDATE_NONE, /* absent */
	LAMBDA_UPDATE_IN_PROGRESS,
	LAMBDA_UPDATE_SUCCESSFUL,
	LAMBDA_UPDATE_FAILED,
	LAMBDA_UPDATE_OTHER,
};

extern const char *const lambda_state_names[];
extern const char *const lambda_update_status_names[];

enum lambda_state lambda_state_parse(const char *s);
enum lambda_update_status lambda_update_status_parse(const char *s);

/* One of a function's layers. */
struct lambda_layer {
	char *arn; /* the layer version ARN */
	int64_t code_size;
};

/*
 * A function version's configuration (FunctionConfiguration). GetFunction also fills
 * image_uri/resolved_image_uri (from Code) and tags; the other operations leave them NULL.
 */
struct lambda_function {
	char *name;
	char *arn;
	char *version; /* "$LATEST" or a number */
	char *description;
	char *revision_id;
	char *code_sha256;
	int64_t code_size;
	char *package_type; /* "Zip" or "Image" */
	char *image_uri;
	char *resolved_image_uri;
	char *role;
	char *handler;
	char *runtime;
	char *architecture; /* the first (only) of Architectures */
	int memory;         /* MB */
	int timeout;        /* seconds */
	bool has_environment;
	struct lambda_kv *environment;
	size_t nenvironment;
	struct lambda_layer *layers;
	size_t nlayers;
	enum lambda_state state;
	char *state_name;
	char *state_reason;
	char *state_reason_code;
	enum lambda_update_status last_update_status;
	char *last_update_status_name;
	char *last_update_status_reason;
	char *last_update_status_reason_code;
	char *last_modified; /* opaque: "2020-04-10T19:06:32.563+0000" */
	bool has_tags;       /* GetFunction only */
	struct lambda_kv *tags;
	size_t ntags;
};

/* An alias (AliasConfiguration). Lambda allows at most one additional routed version. */
struct lambda_alias {
	char *name;
	char *arn;
	char *function_version;
	char *description;
	char *routing_version; /* NULL when the alias routes everything to function_version */
	double routing_weight; /* the share of routing_version, 0..1 */
	char *revision_id;
};

struct lambda_layer_version {
	char *layer_arn;
	char *layer_version_arn;
	int64_t version;
	char *description;
	char *created_date;
	char *license_info;
	char *code_sha256; /* Content.CodeSha256 (GetLayerVersion only) */
	int64_t code_size; /* Content.CodeSize */
	char **compatible_runtimes;
	size_t ncompatible_runtimes;
	char **compatible_architectures;
	size_t ncompatible_architectures;
};

/* An event source mapping, as far as pruning needs it (which version it invokes). */
struct lambda_esm {
	char *uuid;
	char *function_arn; /* may be qualified: ...:function:f:3 or :live */
	char *event_source_arn;
	char *state;
};

/* A provisioned concurrency configuration. */
struct lambda_pc_config {
	char *function_arn; /* qualified ARN, as Lambda returns it */
	char *qualifier;    /* the version or alias after the function name; NULL if none */
	char *status;       /* "IN_PROGRESS", "READY", "FAILED" */
	char *status_reason;
	int requested;
	int available;
	int allocated;
};

struct lambda_invoke_result {
	long status; /* HTTP status: 200 sync, 202 Event, 204 DryRun */
	char *executed_version;
	char *function_error;   /* X-Amz-Function-Error, e.g. "Unhandled"; NULL when none */
	unsigned char *payload; /* the function's result, NUL-terminated for convenience */
	size_t payload_len;
	char *log_result; /* the Tail log, base64-decoded; NULL when not asked or malformed */
};

/* Pages: items plus the marker of the next page (NULL on the last page). */
struct lambda_function_page {
	struct lambda_function *items;
	size_t n;
	char *next_marker;
};

struct lambda_alias_page {
	struct lambda_alias *items;
	size_t n;
	char *next_marker;
};

struct lambda_layer_version_page {
	struct lambda_layer_version *items;
	size_t n;
	char *next_marker;
};

struct lambda_esm_page {
	struct lambda_esm *items;
	size_t n;
	char *next_marker;
};

struct lambda_pc_page {
	struct lambda_pc_config *items;
	size_t n;
	char *next_marker;
};

/* A function's tags (ListTags). */
struct lambda_tags {
	struct lambda_kv *items;
	size_t n;
};

/* Release the members (the struct itself is the caller's) and zero the struct. */
void lambda_function_clear(struct lambda_function *f);
void lambda_alias_clear(struct lambda_alias *a);
void lambda_layer_version_clear(struct lambda_layer_version *l);
void lambda_esm_clear(struct lambda_esm *e);
void lambda_pc_config_clear(struct lambda_pc_config *p);
void lambda_invoke_result_clear(struct lambda_invoke_result *r);
void lambda_function_page_clear(struct lambda_function_page *p);
void lambda_alias_page_clear(struct lambda_alias_page *p);
void lambda_layer_version_page_clear(struct lambda_layer_version_page *p);
void lambda_esm_page_clear(struct lambda_esm_page *p);
void lambda_pc_page_clear(struct lambda_pc_page *p);
void lambda_tags_clear(struct lambda_tags *t);

/*
 * Deep copies, for callers that keep a result beyond its callback. The copy belongs to the
 * caller; release it with the matching _clear().
 */
void lambda_function_copy(struct lambda_function *dst, const struct lambda_function *src);
void lambda_alias_copy(struct lambda_alias *dst, const struct lambda_alias *src);

/* The value of key in an array of pairs, or NULL. */
const char *lambda_kv_get(const struct lambda_kv *kv, size_t n, const char *key);

#endif
