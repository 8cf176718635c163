/*
 * The desired state: what git says each function should be (architecture §2), after
 * loading, validation and environment overlays. Plain structs, owned by the struct spec
 * that holds them and released with spec_free().
 *
 * A managed field is managed only when present: a field whose has_ flag is false is left
 * as it is live, and is not part of the digest.
 */
#ifndef TETHER_RECONCILE_SPEC_H
#define TETHER_RECONCILE_SPEC_H

#include <stdbool.h>
#include <stddef.h>

#include "common/crypto.h"
#include "common/err.h"

#define SPEC_LAYERS_MAX 5
#define SPEC_CANARY_STEPS_MAX 10
/* Characters of the digest written into version descriptions ("tether d=<12 hex>"). */
#define SPEC_DIGEST_SHORT 12

enum spec_mode {
	SPEC_MODE_ENFORCE, /* converge (the default) */
	SPEC_MODE_DETECT,  /* report what differs, change nothing */
	SPEC_MODE_SUSPEND, /* neither look nor touch */
};

enum spec_code_kind {
	SPEC_CODE_NONE,  /* neither image nor code: code is not managed */
	SPEC_CODE_IMAGE, /* image: URI */
	SPEC_CODE_S3,    /* code: {s3_bucket, s3_key, s3_object_version} */
};

struct spec_code {
	enum spec_code_kind kind;
	char *image;             /* IMAGE */
	char *s3_bucket;         /* S3 */
	char *s3_key;            /* S3 */
	char *s3_object_version; /* S3, optional */
};

/* A layer as written: a full version ARN, or a name and a version in the function's
 * account and region (resolved with spec_layer_arn()). */
struct spec_layer {
	char *arn;    /* when given as an ARN, else NULL */
	char *name;   /* when given by name */
	long version; /* when given by name: >= 1 */
};

struct spec_kv {
	char *key;
	char *value;
};

enum spec_alias_target {
	SPEC_ALIAS_CURRENT, /* the version that holds this spec (by digest) */
	SPEC_ALIAS_PINNED,  /* an already published version number */
};

struct spec_alias {
	char *name;
	enum spec_alias_target target;
	long version; /* PINNED: >= 1 */
	/* A weighted canary towards the target: percentages of traffic, strictly increasing,
	 * each 1..99, then 100 % after the last step; each step lasts interval seconds. */
	int steps[SPEC_CANARY_STEPS_MAX];
	size_t nsteps; /* 0: no canary, the alias moves at once */
	long interval; /* seconds, >= 1 when nsteps > 0 */
};

struct spec_smoke {
	char *payload; /* compact JSON text sent to Invoke */
	char *expect;  /* compact JSON text the result must contain (subset match); NULL: none */
};

struct spec_function {
	char *name;    /* the function name, also when declared by ARN */
	char *arn;     /* when declared by ARN (then account and region come from it), else NULL */
	char *account; /* 12 digits when known (from the ARN), else NULL */
	char *region;  /* after defaults and overlays; never NULL once loaded */

	struct spec_code code;
	bool has_layers; /* layers: [] manages "no layers" */
	struct spec_layer layers[SPEC_LAYERS_MAX];
	size_t nlayers;
	bool has_memory;
	long memory; /* MB, 128..10240 */
	bool has_timeout;
	long timeout;                /* seconds, 1..900 */
	bool has_environment;        /* environment: {} manages "no variables" */
	struct spec_kv *environment; /* sorted by key */
	size_t nenvironment;
	bool has_description;
	char *description;
	bool has_role;
	char *role;
	bool has_handler;
	char *handler;
	bool has_runtime; /* zip functions only: an image function has no runtime */
	char *runtime;

	bool has_smoke_test;
	struct spec_smoke smoke_test;
	struct spec_alias *aliases; /* sorted by name */
	size_t naliases;
	bool has_retain;
	long retain; /* keep this many newest tether-published versions, >= 1 */
	enum spec_mode mode;

	/* Where the function was declared, for messages. */
	char *source_path;
	int source_line;
};

struct spec {
	struct spec_function *functions; /* sorted by (region, name) */
	size_t n;
	char *environment; /* the overlay applied, or NULL */
};

#define SPEC_INIT             \
	{                     \
		NULL, 0, NULL \
	}

void spec_free(struct spec *s);
void spec_function_clear(struct spec_function *f);
/* The function named name in region (region NULL: any), or NULL. Borrowed. */
const struct spec_function *spec_find(const struct spec *s, const char *name, const char *region);
/*
 * The version ARN of a layer for a function in account and region (the account is only
 * needed for layers given by name). Returns an allocated string, or NULL when a name needs
 * an account that is not known.
 */
char *spec_layer_arn(const struct spec_layer *l, const char *account, const char *region);

/* The ARN partition of a region: "aws-cn" for cn-*, "aws-us-gov" for us-gov-*, "aws-iso"
 * for us-iso-*, "aws-iso-b" for us-isob-*, else "aws". Static storage. */
const char *spec_partition(const char *region);

/*
 * The spec digest (architecture §3): SHA-256, lower-case hex, over a canonical
 * serialization of what a published version freezes — the code, the layer version ARNs in
 * order, and every managed configuration field that is present (memory, timeout,
 * environment, description, role, handler, runtime). Keys are sorted and values normalized, so
 * formatting, key order, comments, the file a function lives in and how an overlay
 * produced a value never change it; any change to a frozen field does. Layers given by
 * name are resolved in account (NULL: the function's own, if known) and the function's
 * region. Returns 0, or ERR_INVALID when a layer name needs an account that is not known.
 */
int spec_digest(const struct spec_function *f, const char *account,
    char out[CRYPTO_SHA256_HEX_LEN + 1], struct err *err);
/* The canonical serialization itself (allocated), for tests and `tether validate -v`. */
int spec_canonical(const struct spec_function *f, const char *account, char **out, struct err *err);

#endif
