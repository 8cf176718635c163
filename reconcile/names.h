/*
 * Lambda's name and ARN rules (lambda-api.md §7, the botocore service model), written as
 * hand-made matchers: every function is a full match of the model's pattern and length
 * limits. Also the rule for image tags that look immutable (docs/desired-state.md).
 */
#ifndef TETHER_RECONCILE_NAMES_H
#define TETHER_RECONCILE_NAMES_H

#include <stdbool.h>
#include <stddef.h>

#define NAMES_FUNCTION_MAX 64
#define NAMES_ALIAS_MAX 128
#define NAMES_QUALIFIER_MAX 128
#define NAMES_LAYER_NAME_MAX 140
#define NAMES_LAYER_ARN_MAX 140
#define NAMES_ROLE_MAX 2048
#define NAMES_HANDLER_MAX 128
#define NAMES_DESCRIPTION_MAX 256 /* characters */
#define NAMES_S3_KEY_MAX 1024
#define NAMES_IMAGE_MAX 2048

/* [a-zA-Z0-9-_]+, 1..64 characters. */
bool names_function_name(const char *s);

/* The parts of an ARN (borrowed copies live in the struct's buffer). */
struct names_arn {
	char partition[32];
	char region[32];
	char account[13];
	char name[NAMES_LAYER_NAME_MAX + 1];     /* function or layer name */
	char qualifier[NAMES_QUALIFIER_MAX + 1]; /* function ARN: "" when unqualified */
	long version;                            /* layer version ARN */
};

/*
 * arn:(aws[a-zA-Z-]*)?:lambda:REGION:ACCOUNT:function:NAME(:QUALIFIER)? with REGION
 * [a-z]{2}(-gov)?-[a-z]+-\d, ACCOUNT 12 digits, NAME a function name and QUALIFIER $LATEST
 * or [a-zA-Z0-9-_]+. Fills out (may be NULL) when it matches.
 */
bool names_function_arn(const char *s, struct names_arn *out);
/* arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+, <= 140. */
bool names_layer_version_arn(const char *s, struct names_arn *out);
/* The same without the version: an unversioned layer ARN (for a better message). */
bool names_layer_arn(const char *s);
/* [a-zA-Z0-9-_]+, 1..140. */
bool names_layer_name(const char *s);
/* (?!^[0-9]+$)([a-zA-Z0-9-_]+), 1..128. */
bool names_alias(const char *s);
/* [a-zA-Z0-9$_-]+, 1..128. */
bool names_qualifier(const char *s);
/* \$LATEST|[0-9]+ */
bool names_version(const char *s);
/* arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+, <= 2048. */
bool names_role_arn(const char *s);
/* [a-zA-Z]([a-zA-Z0-9_])+ */
bool names_env_key(const char *s);
/* Keys Lambda reserves for its runtime; setting one is refused. */
bool names_env_reserved(const char *s);
/* [a-z]{2}(-gov)?-[a-z]+-\d */
bool names_region(const char *s);
/* 3..63 of [0-9A-Za-z.\-_], not ending in '.'. */
bool names_s3_bucket(const char *s);
/* Lambda's handler: 1..128 non-whitespace characters. */
bool names_handler(const char *s);
/*
 * Lambda's Runtime enum: the values of the shape "Runtime" in Debian's botocore service
 * model (1.29), and the values Lambda's model gained since (python3.10 to python3.14,
 * nodejs20.x, java17, ...). names_runtime() is a full match; names_runtimes is the list,
 * NULL-terminated, for "did you mean".
 */
bool names_runtime(const char *s);
extern const char *const names_runtimes[];

/* What an image reference pins. */
enum names_image_pin {
	NAMES_IMAGE_DIGEST,   /* @sha256:<64 hex> */
	NAMES_IMAGE_CONTENT,  /* a tag that looks immutable: semver or a content/commit tag */
	NAMES_IMAGE_MUTABLE,  /* any other tag */
	NAMES_IMAGE_LATEST,   /* :latest */
	NAMES_IMAGE_UNTAGGED, /* no tag at all (means :latest) */
};

/*
 * Check an image URI: REGISTRY/REPOSITORY[:TAG][@sha256:DIGEST], REGISTRY a host name with
 * an optional port, REPOSITORY lower-case path components, TAG [A-Za-z0-9_][A-Za-z0-9_.-]
 * {0,127}. Returns false when it is not one; otherwise sets *pin and, for a tag, *tag to
 * where it starts in s (NULL without one).
 */
bool names_image(const char *s, enum names_image_pin *pin, const char **tag);

/* Characters (UTF-8 code points) in s. */
size_t names_utf8_chars(const char *s);

#endif
