/*
 * Decoders from Lambda's JSON responses to the structs of aws/lambda_types.h, and the
 * decoder of AWS error responses. They are pure functions of their input (no I/O, no
 * clock, no state), so they can be unit-tested with canned bodies and fuzzed: any input,
 * JSON or not, either decodes or fails cleanly.
 *
 * Leniency: unknown fields are ignored, null is the same as absent, unknown enum values are
 * kept as text. A known field with the wrong JSON type is an error (ERR_FAIL, the message
 * names the field): tether acts on these values and must not guess.
 */
#ifndef TETHER_AWS_LAMBDA_DECODE_H
#define TETHER_AWS_LAMBDA_DECODE_H

#include <stddef.h>

#include "aws/lambda_types.h"
#include "common/err.h"

/* Most items one page may hold (Lambda sends at most 50; MaxItems allows 10,000). */
#define LAMBDA_DECODE_PAGE_MAX 10000

/*
 * Each decoder fills *out (which it zeroes first) from the body json/len and returns 0, or
 * returns ERR_FAIL with err filled and *out empty. The caller owns *out and releases it with
 * the matching lambda_*_clear().
 */

/* A FunctionConfiguration (GetFunctionConfiguration, Update*, PublishVersion, Create). */
int lambda_decode_function(
    const char *json, size_t len, struct lambda_function *out, struct err *err);
/* GetFunction's {"Configuration", "Code", "Tags"}. */
int lambda_decode_get_function(
    const char *json, size_t len, struct lambda_function *out, struct err *err);
/* A page of FunctionConfigurations under key ("Functions" or "Versions"), and NextMarker. */
int lambda_decode_function_page(const char *json, size_t len, const char *key,
    struct lambda_function_page *out, struct err *err);
/* An AliasConfiguration (GetAlias, CreateAlias, UpdateAlias). */
int lambda_decode_alias(const char *json, size_t len, struct lambda_alias *out, struct err *err);
/* ListAliases. */
int lambda_decode_alias_page(
    const char *json, size_t len, struct lambda_alias_page *out, struct err *err);
/* GetLayerVersion, GetLayerVersionByArn. */
int lambda_decode_layer_version(
    const char *json, size_t len, struct lambda_layer_version *out, struct err *err);
/* ListLayerVersions. */
int lambda_decode_layer_version_page(
    const char *json, size_t len, struct lambda_layer_version_page *out, struct err *err);
/* ListEventSourceMappings. */
int lambda_decode_esm_page(
    const char *json, size_t len, struct lambda_esm_page *out, struct err *err);
/* ListProvisionedConcurrencyConfigs. */
int lambda_decode_pc_page(
    const char *json, size_t len, struct lambda_pc_page *out, struct err *err);
/* ListTags. */
int lambda_decode_tags(const char *json, size_t len, struct lambda_tags *out, struct err *err);

/*
 * Decode an AWS error response (lambda-api.md §6) into out and return its code. The type is
 * the x-amzn-ErrorType header cut at ':' (error_type, may be NULL), else the body's
 * "code"/"Code", else its "__type" after the last '#', else the HTTP status as text; the
 * message is the body's "message", else "Message", else "HTTP <status>". request_id (may
 * be NULL) is x-amzn-RequestId. Codes: 404 ERR_NOTFOUND, 409 ERR_CONFLICT, 412
 * ERR_PRECONDITION, 429 or a throttling type ERR_THROTTLED, 400 and 415 ERR_INVALID, 413
 * ERR_TOOBIG, 401/403 or an authentication type ERR_AUTH, 5xx ERR_TRANSIENT, else ERR_FAIL.
 * The body need not be JSON.
 */
int lambda_decode_error(long status, const char *error_type, const char *request_id,
    const char *body, size_t len, struct err *out);

/* Whether an AWS error type names a throttle (TooManyRequestsException, Throttling, ...). */
bool lambda_error_is_throttle(const char *type);

#endif
