/*
 * The configuration and code inputs of CreateFunction, UpdateFunctionConfiguration and
 * UpdateFunctionCode: parsing with the service model's constraints (collected in the
 * request for one ValidationException), the semantic checks Lambda makes after that
 * (InvalidParameterValueException), and applying the result to a model_cfg.
 */
#ifndef TETHER_AWS_EMULATOR_CONF_H
#define TETHER_AWS_EMULATOR_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "aws/emulator/model.h"
#include "aws/emulator/req.h"

/* The configuration members a request carried; absent members leave the config alone. */
struct conf {
	const char *role;
	const char *handler;
	const char *description;
	const char *runtime;
	const char *kms_key_arn; /* "" clears */
	const char *dlq_target;  /* "" clears */
	bool has_dlq;
	bool has_timeout;
	int64_t timeout;
	bool has_memory;
	int64_t memory;
	bool has_env;
	json_t *env; /* the new Variables object (owned) */
	bool has_vpc;
	json_t *vpc; /* VpcConfigResponse (owned) */
	const char *tracing;
	bool has_layers;
	struct model_layer_ref *layers; /* owned; code sizes filled by conf_check() */
	size_t nlayers;
	bool has_fs;
	json_t *fs; /* owned */
	bool has_image_config;
	json_t *image_config; /* owned */
	bool has_ephemeral;
	int64_t ephemeral;
	const char *snap_apply;
};

/* A code source: ZipFile, S3Bucket/S3Key[/S3ObjectVersion] or ImageUri. */
struct conf_code {
	unsigned char *zip; /* decoded ZipFile (owned) */
	size_t zip_len;
	bool has_zip;
	const char *s3_bucket;
	const char *s3_key;
	const char *s3_version;
	const char *image_uri;
};

/* Parse the configuration members of obj into c (borrowing strings from obj). */
void conf_parse(struct req *r, const json_t *obj, struct conf *c);
/*
 * The checks after parsing: runtime, environment (reserved keys, 4 KB), layers (at most 5,
 * one version per layer, existing when they are this account's), package type rules.
 * Returns 0, or -1 after answering 400.
 */
int conf_check(struct req *r, struct conf *c, enum model_pkg pkg);
/* Architectures (CreateFunction, UpdateFunctionCode): *arch is NULL when absent. */
void conf_parse_architectures(struct req *r, const json_t *obj, const char **arch);
/* Apply c to cfg. */
void conf_apply(const struct conf *c, struct model_cfg *cfg);
void conf_free(struct conf *c);

/* Parse a code source from obj (FunctionCode, or UpdateFunctionCode's body). */
void conf_code_parse(struct req *r, const json_t *obj, struct conf_code *code);
/*
 * Check that exactly one source is given, that it suits the package type, and that a zip
 * is a zip and an image URI an ECR image. Returns 0, or -1 after answering 400.
 */
int conf_code_check(struct req *r, const struct conf_code *code, enum model_pkg pkg, bool create);
/* Put the code's CodeSha256, CodeSize, image URIs and package path into cfg. */
void conf_code_apply(
    struct req *r, const struct conf_code *code, const char *fn_name, struct model_cfg *cfg);
void conf_code_free(struct conf_code *code);

/* Lambda's runtimes, NULL-terminated (newer than the 1.29 model's enum). */
extern const char *const conf_runtimes[];
extern const char *const conf_architectures[];
/* Validate a Tags map (CreateFunction, TagResource). Returns 0 or -1 after answering. */
int conf_check_tags(struct req *r, const json_t *tags, size_t existing);
/* Digest helpers shared with the layer operations. */
char *conf_zip_sha256(const unsigned char *p, size_t n);
/* A derived CodeSha256 and CodeSize for an S3 object the emulator cannot read. */
void conf_s3_digest(
    const char *bucket, const char *key, const char *version, char **sha256, int64_t *size);
/* Check that data is a non-empty zip archive. Returns 0 or -1 after answering 400. */
int conf_check_zip(struct req *r, const unsigned char *p, size_t n);

#endif
