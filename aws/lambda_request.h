/*
 * The wire form of each Lambda operation tether uses (lambda-api.md §1.1): method, path
 * with its labels percent-encoded once, query, and the exact body bytes; and SigV4 signing
 * of that form. Pure: no I/O, and the time is an argument, so every byte that goes on the
 * wire can be checked in a unit test.
 */
#ifndef TETHER_AWS_LAMBDA_REQUEST_H
#define TETHER_AWS_LAMBDA_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "aws/credentials.h"
#include "aws/lambda_types.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/url.h"

#define LAMBDA_PATH_MAX 2048
#define LAMBDA_QUERY_MAX 4096
/* A 50 MB zip upload is about 67 MB once base64-encoded inside the JSON. */
#define LAMBDA_BODY_MAX (72 * 1024 * 1024)
#define LAMBDA_HEADERS_MAX 12
#define LAMBDA_HEADER_LINE_MAX 8192
/* FunctionName may hold an ARN: 140 characters, 170 for the namespaced form (Invoke). */
#define LAMBDA_NAME_MAX 170
#define LAMBDA_QUALIFIER_MAX 128

enum lambda_op {
	LAMBDA_OP_CREATE_FUNCTION,
	LAMBDA_OP_GET_FUNCTION,
	LAMBDA_OP_GET_FUNCTION_CONFIGURATION,
	LAMBDA_OP_LIST_FUNCTIONS,
	LAMBDA_OP_LIST_VERSIONS_BY_FUNCTION,
	LAMBDA_OP_UPDATE_FUNCTION_CODE,
	LAMBDA_OP_UPDATE_FUNCTION_CONFIGURATION,
	LAMBDA_OP_PUBLISH_VERSION,
	LAMBDA_OP_DELETE_FUNCTION,
	LAMBDA_OP_CREATE_ALIAS,
	LAMBDA_OP_GET_ALIAS,
	LAMBDA_OP_UPDATE_ALIAS,
	LAMBDA_OP_DELETE_ALIAS,
	LAMBDA_OP_LIST_ALIASES,
	LAMBDA_OP_GET_LAYER_VERSION,
	LAMBDA_OP_GET_LAYER_VERSION_BY_ARN,
	LAMBDA_OP_LIST_LAYER_VERSIONS,
	LAMBDA_OP_INVOKE,
	LAMBDA_OP_TAG_RESOURCE,
	LAMBDA_OP_UNTAG_RESOURCE,
	LAMBDA_OP_LIST_TAGS,
	LAMBDA_OP_LIST_EVENT_SOURCE_MAPPINGS,
	LAMBDA_OP_LIST_PROVISIONED_CONCURRENCY_CONFIGS,
	LAMBDA_OP__COUNT
};

/* The service-model name of an operation: "PublishVersion". */
const char *lambda_op_name(enum lambda_op op);
/*
 * The rate-limit bucket an operation is charged to: RATELIMIT_GETFUNCTION for GetFunction,
 * NULL for Invoke (data plane), RATELIMIT_SHARED for every other one.
 */
const char *lambda_op_bucket(enum lambda_op op);

/* Code for CreateFunction and UpdateFunctionCode: exactly one source. */
struct lambda_code {
	const char *image_uri;
	const char *s3_bucket;
	const char *s3_key;
	const char *s3_object_version; /* optional */
	const void *zip;               /* raw zip bytes; sent base64-encoded */
	size_t zip_len;
};

struct lambda_create_function {
	const char *name;         /* required */
	const char *role;         /* required */
	const char *package_type; /* "Zip" or "Image"; NULL: Image when code.image_uri is set */
	struct lambda_code code;
	const char *runtime; /* Zip only */
	const char *handler; /* Zip only */
	const char *description;
	int memory;  /* 0: Lambda's default */
	int timeout; /* 0: Lambda's default */
	const struct lambda_pair *environment;
	size_t nenvironment;
	const char *const *layers;
	size_t nlayers;
	const struct lambda_pair *tags;
	size_t ntags;
	const char *architecture; /* NULL: Lambda's default */
	bool publish;
};

#define LAMBDA_CREATE_FUNCTION_INIT \
	{                           \
		0                   \
	}

struct lambda_update_code {
	struct lambda_code code;
	const char *revision_id; /* precondition; NULL for none */
	const char *architecture;
	bool publish;
	bool dry_run;
};

#define LAMBDA_UPDATE_CODE_INIT                                             \
	{                                                                   \
		{NULL, NULL, NULL, NULL, NULL, 0}, NULL, NULL, false, false \
	}

/* Which fields of a lambda_update_config are sent ("is set"); the others stay as they are. */
enum {
	LAMBDA_CONFIG_MEMORY = 1 << 0,
	LAMBDA_CONFIG_TIMEOUT = 1 << 1,
	LAMBDA_CONFIG_DESCRIPTION = 1 << 2,
	LAMBDA_CONFIG_ROLE = 1 << 3,
	LAMBDA_CONFIG_HANDLER = 1 << 4,
	LAMBDA_CONFIG_RUNTIME = 1 << 5,
	LAMBDA_CONFIG_ENVIRONMENT = 1 << 6, /* replaces the whole map; none clears it */
	LAMBDA_CONFIG_LAYERS = 1 << 7,      /* replaces the whole list; none removes all */
};

struct lambda_update_config {
	unsigned set; /* LAMBDA_CONFIG_* */
	int memory;
	int timeout;
	const char *description;
	const char *role;
	const char *handler;
	const char *runtime;
	const struct lambda_pair *environment;
	size_t nenvironment;
	const char *const *layers; /* layer version ARNs, in order */
	size_t nlayers;
	const char *revision_id; /* precondition; NULL for none (always sent when set) */
};

#define LAMBDA_UPDATE_CONFIG_INIT \
	{                         \
		0                 \
	}

struct lambda_publish {
	const char *code_sha256; /* precondition: $LATEST's CodeSha256; NULL for none */
	const char *description;
	const char *revision_id; /* precondition: $LATEST's RevisionId; NULL for none */
};

#define LAMBDA_PUBLISH_INIT      \
	{                        \
		NULL, NULL, NULL \
	}

/* CreateAlias and UpdateAlias. */
struct lambda_alias_spec {
	const char *function_version; /* required for create; NULL: unchanged on update */
	const char *description;      /* NULL: none on create, unchanged on update */
	/*
	 * Routing is sent when set_routing (always on create when routing_version is set):
	 * routing_version NULL clears it ({"AdditionalVersionWeights":{}}).
	 */
	bool set_routing;
	const char *routing_version;
	double routing_weight;
	const char *revision_id; /* update only: precondition; NULL for none */
};

#define LAMBDA_ALIAS_SPEC_INIT                   \
	{                                        \
		NULL, NULL, false, NULL, 0, NULL \
	}

struct lambda_invoke {
	const char *qualifier;       /* NULL: $LATEST */
	const char *invocation_type; /* NULL: RequestResponse; "Event", "DryRun" */
	bool log_tail;               /* X-Amz-Log-Type: Tail */
	const char *client_context;  /* base64, optional */
	const void *payload;         /* raw bytes; NULL for none */
	size_t payload_len;
	long timeout_ms; /* 0: LAMBDA_INVOKE_TIMEOUT_MS */
};

#define LAMBDA_INVOKE_INIT                          \
	{                                           \
		NULL, NULL, false, NULL, NULL, 0, 0 \
	}

/* Lambda's longest function timeout (900 s), plus room for the response. */
#define LAMBDA_INVOKE_TIMEOUT_MS (910 * 1000L)

/* Options of the list operations; a zero struct asks for the first page, server-sized. */
struct lambda_list {
	const char *marker;
	int max_items; /* 0: Lambda's default */
	/* ListFunctions: FunctionVersion=ALL (every version, not only $LATEST). */
	bool all_versions;
	/* ListAliases: only aliases that point at this version. */
	const char *function_version;
	/* ListLayerVersions filters. */
	const char *compatible_runtime;
	const char *compatible_architecture;
};

#define LAMBDA_LIST_INIT                         \
	{                                        \
		NULL, 0, false, NULL, NULL, NULL \
	}

/* One request in its wire form. */
struct lambda_request {
	enum lambda_op op;
	const char *method; /* static */
	struct buf path;    /* labels encoded once */
	struct buf query;   /* without '?'; empty when none */
	struct buf body;    /* the exact bytes sent */
	bool has_body;      /* send body (even when empty) */
	bool json;          /* Content-Type: application/json */
	/* Operation headers, e.g. Invoke's X-Amz-Invocation-Type: sent and signed, as botocore
	 * does. */
	struct lambda_header {
		char *name;
		char *value;
	} extra[4];
	size_t nextra;
	char *label;     /* the resource it acts on, for logs: function, layer or ARN */
	long timeout_ms; /* 0: the client's */
};

void lambda_request_init(struct lambda_request *r);
void lambda_request_clear(struct lambda_request *r);

/*
 * Builders: each fills an initialized, empty request r. They return 0, or ERR_INVALID
 * (missing or oversized argument, text that is not UTF-8) or ERR_TOOBIG with err filled.
 * All strings are copied.
 */
int lambda_request_create_function(
    struct lambda_request *r, const struct lambda_create_function *in, struct err *err);
int lambda_request_get_function(
    struct lambda_request *r, const char *function, const char *qualifier, struct err *err);
int lambda_request_get_function_configuration(
    struct lambda_request *r, const char *function, const char *qualifier, struct err *err);
int lambda_request_list_functions(
    struct lambda_request *r, const struct lambda_list *in, struct err *err);
int lambda_request_list_versions(
    struct lambda_request *r, const char *function, const struct lambda_list *in, struct err *err);
int lambda_request_update_function_code(struct lambda_request *r, const char *function,
    const struct lambda_update_code *in, struct err *err);
int lambda_request_update_function_configuration(struct lambda_request *r, const char *function,
    const struct lambda_update_config *in, struct err *err);
int lambda_request_publish_version(struct lambda_request *r, const char *function,
    const struct lambda_publish *in, struct err *err);
/* qualifier NULL deletes the whole function; a version number deletes that version. */
int lambda_request_delete_function(
    struct lambda_request *r, const char *function, const char *qualifier, struct err *err);
int lambda_request_create_alias(struct lambda_request *r, const char *function, const char *name,
    const struct lambda_alias_spec *in, struct err *err);
int lambda_request_get_alias(
    struct lambda_request *r, const char *function, const char *name, struct err *err);
int lambda_request_update_alias(struct lambda_request *r, const char *function, const char *name,
    const struct lambda_alias_spec *in, struct err *err);
int lambda_request_delete_alias(
    struct lambda_request *r, const char *function, const char *name, struct err *err);
int lambda_request_list_aliases(
    struct lambda_request *r, const char *function, const struct lambda_list *in, struct err *err);
/* layer is a layer name or layer ARN (without version). */
int lambda_request_get_layer_version(
    struct lambda_request *r, const char *layer, long long version, struct err *err);
int lambda_request_get_layer_version_by_arn(
    struct lambda_request *r, const char *arn, struct err *err);
int lambda_request_list_layer_versions(
    struct lambda_request *r, const char *layer, const struct lambda_list *in, struct err *err);
int lambda_request_invoke(struct lambda_request *r, const char *function,
    const struct lambda_invoke *in, struct err *err);
/* arn is the unqualified function ARN. */
int lambda_request_tag_resource(struct lambda_request *r, const char *arn,
    const struct lambda_pair *tags, size_t ntags, struct err *err);
int lambda_request_untag_resource(struct lambda_request *r, const char *arn,
    const char *const *keys, size_t nkeys, struct err *err);
int lambda_request_list_tags(struct lambda_request *r, const char *arn, struct err *err);
/* function may be NULL to list every mapping. */
int lambda_request_list_event_source_mappings(
    struct lambda_request *r, const char *function, const struct lambda_list *in, struct err *err);
int lambda_request_list_provisioned_concurrency_configs(
    struct lambda_request *r, const char *function, const struct lambda_list *in, struct err *err);
/* Replace the Marker of a list request (pagination). */
int lambda_request_set_marker(struct lambda_request *r, const char *marker, struct err *err);

/* A signed request, ready for the http engine. */
struct lambda_signed {
	char *url;
	char *headers[LAMBDA_HEADERS_MAX]; /* "Name: value" lines */
	size_t nheaders;
};

/*
 * Sign r for endpoint e at time now with sigv4_sign_url() (service "lambda"). e is an
 * endpoint URL as endpoint_url_parse() (aws/endpoint.h) splits it; its path is a prefix,
 * so the request goes to scheme://authority + e->path + r's path (+ '?' + query), and that
 * full path is signed, as botocore does with an endpoint_url that has a path. The headers
 * are Host (e->authority, the signed host), X-Amz-Date, X-Amz-Security-Token when creds
 * has a token, Content-Type when r has a JSON body, r's operation headers, Authorization
 * and User-Agent; all but User-Agent are signed, as botocore signs them. Returns 0, or an
 * error code with err filled. Release out with lambda_signed_clear().
 */
int lambda_request_sign(const struct lambda_request *r, const struct url *e, const char *region,
    const struct aws_credentials *creds, time_t now, const char *user_agent,
    struct lambda_signed *out, struct err *err);
void lambda_signed_clear(struct lambda_signed *s);

#endif
