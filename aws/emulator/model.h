/*
 * The emulator's state: functions with their $LATEST configuration, published versions,
 * aliases, tags and provisioned concurrency; layers; event source mappings; invoke results.
 * This header is private to aws/emulator/: the operations (fn.c, alias.c, layer.c, ...)
 * share these structures and the helpers below; everyone else sees emu.h only.
 *
 * Time: nothing here reads a clock. Each function remembers when its Pending or InProgress
 * window ends, and model_settle() moves it on when a request shows that the time has come,
 * so every observation is consistent with "the transition happened at that instant".
 */
#ifndef TETHER_AWS_EMULATOR_MODEL_H
#define TETHER_AWS_EMULATOR_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "aws/emulator/arn.h"
#include "aws/emulator/emu.h"
#include "aws/emulator/ht.h"
#include "aws/emulator/req.h"
#include "aws/emulator/vec.h"

#define MODEL_REVISION_LEN 37 /* a UUID and its NUL */
#define MODEL_LATEST 0        /* the version number that stands for $LATEST */
#define MODEL_LAYERS_MAX 5
#define MODEL_TAGS_MAX 50

enum model_pkg {
	MODEL_PKG_ZIP,
	MODEL_PKG_IMAGE,
};

/* A function's (or a version's) State. */
enum model_state {
	MODEL_STATE_PENDING,
	MODEL_STATE_ACTIVE,
	MODEL_STATE_FAILED, /* its code matched an update-failure rule when it was created */
};

/* $LATEST's LastUpdateStatus; NONE until the first Pending -> Active. */
enum model_update {
	MODEL_UPDATE_NONE,
	MODEL_UPDATE_INPROGRESS,
	MODEL_UPDATE_SUCCESSFUL,
	MODEL_UPDATE_FAILED,
};

/*
 * Why something failed: StateReason/StateReasonCode or LastUpdateStatusReason/...Code.
 * Both NULL when nothing failed.
 */
struct model_reason {
	char *reason;
	char *code;
};

extern const char *const model_state_names[];
extern const char *const model_update_names[];

struct model_layer_ref {
	char *arn;
	int64_t code_size;
};

/*
 * One configuration: $LATEST's (mutable) or a published version's (frozen). The json_t
 * members are never modified once stored, so versions share them by reference.
 */
struct model_cfg {
	char *description;
	char *role;
	char *handler; /* NULL for Image */
	char *runtime; /* NULL for Image */
	int64_t timeout;
	int64_t memory;
	int64_t ephemeral;
	char *arch;           /* "x86_64" | "arm64" */
	char *tracing;        /* "PassThrough" | "Active" */
	char *snap_apply;     /* "None" | "PublishedVersions" */
	char *kms_key_arn;    /* NULL unless set */
	char *dlq_target;     /* NULL unless set */
	json_t *env;          /* {"K":"V"} or NULL when never set */
	json_t *vpc;          /* VpcConfigResponse or NULL */
	json_t *image_config; /* ImageConfig or NULL */
	json_t *fs_configs;   /* FileSystemConfigs or NULL */
	struct model_layer_ref *layers;
	size_t nlayers;
	enum model_pkg pkg;
	char *code_sha256;
	int64_t code_size;
	char *image_uri;          /* Image */
	char *resolved_image_uri; /* Image: repository@sha256:digest */
	char *code_path;          /* Zip: where the Location URL says the package is */
	uint64_t last_modified;   /* epoch ms */
	char revision[MODEL_REVISION_LEN];
};

struct model_ver {
	uint64_t number;
	struct model_cfg cfg;
	enum model_state state;
	uint64_t active_at;          /* monotonic ms when Pending ends */
	struct model_reason failure; /* when Failed */
	struct model_reason verdict; /* while Pending: Failed with this when it ends, if set */
};

struct model_alias {
	char *name;
	char *description;
	uint64_t version;    /* MODEL_LATEST or a published number */
	bool routing;        /* an additional version is set */
	uint64_t extra;      /* the additional version */
	double extra_weight; /* its weight, 0.0 .. 1.0 */
	char revision[MODEL_REVISION_LEN];
};

struct model_pc {
	char *qualifier; /* an alias name or a version number */
	int64_t requested;
	uint64_t last_modified; /* epoch ms */
	uint64_t ready_at;      /* monotonic ms when IN_PROGRESS becomes READY */
};

struct model_fn {
	char *name;
	struct model_cfg cfg; /* $LATEST */
	enum model_state state;
	uint64_t active_at; /* Pending ends */
	enum model_update update;
	uint64_t update_done_at;     /* InProgress ends */
	struct model_reason failure; /* State or LastUpdateStatus Failed: why */
	/*
	 * How the open Pending or InProgress window ends: Failed with this reason when it is
	 * set, else Active/Successful. Decided by the update-failure rules in force when the
	 * request was accepted.
	 */
	struct model_reason verdict;
	/*
	 * After a failed update: the configuration that last deployed, which invocations of
	 * $LATEST keep running (cfg shows what the update asked for). NULL otherwise.
	 */
	struct model_cfg *live;
	bool dirty;              /* $LATEST changed since the last PublishVersion */
	uint64_t published_from; /* the version the last publish produced or returned */
	uint64_t last_version;   /* the highest number ever published; never reused */
	struct vec vers;         /* struct model_ver *, ascending number */
	struct vec aliases;      /* struct model_alias *, by name */
	struct vec pcs;          /* struct model_pc *, by qualifier */
	json_t *tags;            /* {"k":"v"} */
};

struct model_layer_ver {
	uint64_t version;
	char *description;
	char *license;    /* NULL unless set */
	json_t *runtimes; /* CompatibleRuntimes or NULL */
	json_t *archs;    /* CompatibleArchitectures or NULL */
	char *code_sha256;
	int64_t code_size;
	char *code_path;
	uint64_t created; /* epoch ms */
};

struct model_layer {
	char *name;
	uint64_t last_version;
	struct vec vers; /* struct model_layer_ver *, ascending version */
};

struct model_esm {
	char uuid[MODEL_REVISION_LEN];
	uint64_t seq;     /* creation order: the listing order */
	char *fn_name;    /* the function it targets */
	char *qualifier;  /* NULL for the unqualified function */
	char *source_arn; /* EventSourceArn, or NULL for self-managed sources */
	json_t *config;   /* the EventSourceMappingConfiguration without State */
	bool enabled;
	uint64_t active_at; /* Creating ends */
};

struct model_result {
	char *key;
	char *payload;
	char *function_error; /* NULL for a successful invocation */
};

/* An update-failure rule: code key (an image URI or a CodeSha256) fails to deploy. */
struct model_failure {
	char *key;
	struct model_reason why;
};

/*
 * A one-shot intercept (emu_add_hook): before the next request of op for fn_name, $LATEST
 * gets this code and configuration as if another client had updated it.
 */
struct model_hook {
	enum emu_op op;
	char *fn_name;
	enum model_pkg pkg; /* the package type the code was checked against */
	bool has_code;
	struct model_cfg code; /* only the code members are set */
	json_t *config;        /* UpdateFunctionConfiguration members, or NULL */
};

struct emu {
	char *account;
	char *region;
	const char *partition;
	uint64_t create_delay_ms;
	uint64_t update_delay_ms;
	struct ht fn_index; /* name -> struct model_fn * */
	struct vec fns;     /* struct model_fn *, by name */
	struct vec layers;  /* struct model_layer *, by name */
	struct vec esms;    /* struct model_esm *, by seq */
	uint64_t esm_seq;
	struct vec results;  /* struct model_result *, by key */
	struct vec failures; /* struct model_failure *, by key */
	struct vec hooks;    /* struct model_hook *, in the order they were added */
	uint64_t prng;       /* xorshift64* state for weighted alias routing */
};

/* A fresh RevisionId. */
void model_revision(char out[MODEL_REVISION_LEN]);
/* The next value in [0, 1) from the model's deterministic generator. */
double model_random(struct emu *emu);

/* Functions. */
int model_fn_cmp(const void *key, const void *elem); /* vec_cmp_cb: name vs function */
struct model_fn *model_fn_find(struct emu *emu, const char *name);
/* Insert a new function (name owned by fn) into the index and the ordered list. */
void model_fn_add(struct emu *emu, struct model_fn *fn);
/* Remove fn from the model and free it. */
void model_fn_delete(struct emu *emu, struct model_fn *fn);
void model_fn_free(struct model_fn *fn);
/*
 * Apply every window that has ended by now: Pending -> Active (or Failed), InProgress ->
 * Successful (or Failed), as the window's verdict says.
 */
void model_settle(struct emu *emu, struct model_fn *fn, uint64_t now);
void model_fn_set_state(struct model_fn *fn, enum model_state state, const char *why);
/* After a successful update: forget the failure reasons and the configuration in fn->live. */
void model_fn_forget_failure(struct model_fn *fn);
void model_fn_set_update(struct model_fn *fn, enum model_update update, const char *why);

/* Versions, aliases and provisioned concurrency of one function. */
void model_ver_set_state(
    const struct model_fn *fn, struct model_ver *ver, enum model_state state, const char *why);
struct model_ver *model_ver_find(const struct model_fn *fn, uint64_t number);
void model_ver_free(struct model_ver *ver);
struct model_alias *model_alias_find(const struct model_fn *fn, const char *name);
void model_alias_add(struct model_fn *fn, struct model_alias *alias);
void model_alias_free(struct model_alias *alias);
struct model_pc *model_pc_find(const struct model_fn *fn, const char *qualifier);
void model_pc_add(struct model_fn *fn, struct model_pc *pc);
void model_pc_remove(struct model_fn *fn, const char *qualifier);
void model_pc_free(struct model_pc *pc);

/* Layers. */
struct model_layer *model_layer_find(struct emu *emu, const char *name);
void model_layer_add(struct emu *emu, struct model_layer *layer);
struct model_layer_ver *model_layer_ver_find(const struct model_layer *layer, uint64_t version);
void model_layer_free(struct model_layer *layer);

void model_esm_free(struct model_esm *esm);
/* Invoke results by image URI or CodeSha256. */
const struct model_result *model_result_find(const struct emu *emu, const char *key);
/* Store res (owned by the model from now on), replacing a result with the same key. */
void model_result_put(struct emu *emu, struct model_result *res);
void model_result_free(struct model_result *res);
/* Update-failure rules by key. */
const struct model_failure *model_failure_find(const struct emu *emu, const char *key);
/* The rule that makes cfg's code fail (its image URI first, then its CodeSha256), or NULL. */
const struct model_failure *model_failure_for(const struct emu *emu, const struct model_cfg *cfg);
/* Store f (owned by the model from now on), replacing a rule with the same key. */
void model_failure_put(struct emu *emu, struct model_failure *f);
/* Remove the rule for key. Returns whether there was one. */
bool model_failure_remove(struct emu *emu, const char *key);
void model_failure_free(struct model_failure *f);
void model_hook_free(struct model_hook *hook);

/* Reasons. */
/* Replace *dst with a copy of src (NULL clears it). */
void model_reason_set(struct model_reason *dst, const struct model_reason *src);
/* Move src into dst (dst's old strings are released), leaving src empty. */
void model_reason_move(struct model_reason *dst, struct model_reason *src);
void model_reason_free(struct model_reason *r);

/* Configurations. */
void model_cfg_init(struct model_cfg *cfg);
/* A deep copy (the json_t members are shared by reference). */
void model_cfg_copy(struct model_cfg *dst, const struct model_cfg *src);
void model_cfg_free(struct model_cfg *cfg);
/* Replace *dst with a copy of src (NULL clears it). */
void model_set_str(char **dst, const char *src);
/* Replace *dst with v, taking a reference (NULL clears it). */
void model_set_json(json_t **dst, json_t *v);

/* ARNs, allocated. qualifier may be NULL. */
char *model_fn_arn(const struct emu *emu, const char *name, const char *qualifier);
char *model_layer_arn(const struct emu *emu, const char *name, uint64_t version);
/* "$LATEST" or the decimal number, into out[24]. */
void model_version_name(uint64_t number, char out[24]);

/*
 * What a FunctionName (and Qualifier) names after resolution: the function, and for a
 * qualifier the version it reaches ($LATEST, a version, or an alias's primary version).
 */
enum model_target_kind {
	MODEL_TARGET_FUNCTION, /* no qualifier */
	MODEL_TARGET_LATEST,   /* "$LATEST" */
	MODEL_TARGET_VERSION,
	MODEL_TARGET_ALIAS,
};

struct model_target {
	struct model_fn *fn;
	enum model_target_kind kind;
	const char *qualifier;     /* borrowed from the request; NULL without one */
	struct model_ver *ver;     /* VERSION, or ALIAS: the primary version (NULL = $LATEST) */
	struct model_alias *alias; /* ALIAS */
};

/* Which FunctionName shape an operation takes. */
enum model_name_kind {
	MODEL_NAME_PLAIN,      /* FunctionName, up to 140 */
	MODEL_NAME_NAMESPACED, /* NamespacedFunctionName, up to 170 */
};

/* A FunctionName checked and split; qualifier is the effective one (NULL without). */
struct model_name {
	struct arn_function parts;
	const char *qualifier; /* points into parts or at the Qualifier parameter */
};

/*
 * Check a FunctionName (and the Qualifier parameter, NULL when absent) against the model's
 * lengths and patterns. Violations are collected in r for req_failed(). Returns 0 when the
 * name parsed, -1 when it did not.
 */
int model_parse_name(struct req *r, const char *value, const char *query_qualifier,
    enum model_name_kind kind, struct model_name *out);
/*
 * The checks after parsing, answered at once: a qualifier in the name that differs from
 * the Qualifier parameter (400), an ARN of another region (404) or account (403). Returns
 * 0, or -1 when it answered.
 */
int model_check_name(struct req *r, const struct model_name *n);
/*
 * Both of the above for an operation whose only input is the name: answers the collected
 * violations too. Returns 0, or -1 when it answered.
 */
int model_name(struct req *r, const char *value, const char *query_qualifier,
    enum model_name_kind kind, struct model_name *out);

/*
 * Resolve a parsed name and qualifier against the model (settling the function first).
 * Answers 404 (function, version or alias not found) and returns -1, or fills t.
 */
int model_resolve(struct req *r, const char *name, const char *qualifier, struct model_target *t);

/* 404 ResourceNotFoundException "Function not found: <arn>" for name[:qualifier]. */
void model_not_found(struct req *r, const char *name, const char *qualifier);
/*
 * The function called name (borrowed from the model), settled; NULL after answering
 * model_not_found() for name[:qualifier].
 */
struct model_fn *model_fn_lookup(struct req *r, const char *name, const char *qualifier);

/* The aliases (primary or weighted) that route to version n, as "[a, b]"; NULL if none. */
char *model_aliases_using(const struct model_fn *fn, uint64_t n);

#endif
