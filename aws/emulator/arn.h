/*
 * Lambda's names and ARNs, matched exactly as the service model's patterns read them
 * (lambda-api.md §7): FunctionName in its five forms (name, name:qualifier, partial ARN,
 * full ARN, qualified ARN), qualifiers, alias names, version numbers, layer (version) ARNs
 * and role ARNs. Nothing here allocates; the parsed parts are copied into fixed fields.
 */
#ifndef TETHER_AWS_EMULATOR_ARN_H
#define TETHER_AWS_EMULATOR_ARN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARN_FUNCTION_MAX 140            /* FunctionName */
#define ARN_NAMESPACED_FUNCTION_MAX 170 /* NamespacedFunctionName (GetFunction, Invoke, ...) */
#define ARN_NAME_MAX 64                 /* a function's own name */
#define ARN_QUALIFIER_MAX 128
#define ARN_ALIAS_MAX 128
#define ARN_LAYER_MAX 140
#define ARN_PART_MAX (ARN_NAMESPACED_FUNCTION_MAX + 1)

/* The model's patterns, for ValidationException messages. */
#define ARN_FUNCTION_PATTERN                                                                      \
	"(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?" \
	"([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?"
#define ARN_NAMESPACED_FUNCTION_PATTERN                                                           \
	"(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?" \
	"([a-zA-Z0-9-_\\.]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?"
#define ARN_FUNCTION_ARN_PATTERN                                                                   \
	"arn:(aws[a-zA-Z-]*)?:lambda:[a-z]{2}(-gov)?-[a-z]+-\\d{1}:\\d{12}:function:[a-zA-Z0-9-_]" \
	"+"                                                                                        \
	"(:(\\$LATEST|[a-zA-Z0-9-_]+))?"
#define ARN_QUALIFIER_PATTERN "(|[a-zA-Z0-9$_-]+)"
#define ARN_ALIAS_PATTERN "(?!^[0-9]+$)([a-zA-Z0-9-_]+)"
#define ARN_VERSION_PATTERN "(\\$LATEST|[0-9]+)"
#define ARN_LAYER_NAME_PATTERN \
	"(arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+)|[a-zA-Z0-9-_]+"
#define ARN_LAYER_VERSION_PATTERN \
	"arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+"
#define ARN_ROLE_PATTERN "arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+"

/* A FunctionName split into its parts; absent parts are "". */
struct arn_function {
	bool arn;                     /* had the "arn:...:lambda:" prefix */
	bool function;                /* had the "function:" part */
	char partition[ARN_PART_MAX]; /* "aws", "aws-cn", ... */
	char region[ARN_PART_MAX];
	char account[ARN_PART_MAX];
	char name[ARN_PART_MAX];
	char qualifier[ARN_PART_MAX];
};

/*
 * Parse s as the FunctionName pattern (namespaced: the name may hold '.') with the
 * backtracking order a regex engine uses. Returns 0, or -1 when s does not match.
 */
int arn_parse_function(const char *s, bool namespaced, struct arn_function *out);

/* A layer ARN or layer version ARN; version is 0 when absent. */
struct arn_layer {
	char partition[ARN_PART_MAX];
	char region[ARN_PART_MAX];
	char account[ARN_PART_MAX];
	char name[ARN_PART_MAX];
	bool has_version;
	uint64_t version;
};

/*
 * Parse "arn:P:lambda:R:ACCOUNT:layer:NAME[:VERSION]". with_version: the version is
 * required (LayerVersionArn) or forbidden (LayerArn). Returns 0 or -1.
 */
int arn_parse_layer(const char *s, bool with_version, struct arn_layer *out);

bool arn_name_ok(const char *s, bool namespaced); /* [a-zA-Z0-9-_]+ (also '.') */
bool arn_qualifier_ok(const char *s);             /* the Qualifier parameter's pattern */
bool arn_alias_ok(const char *s);                 /* an alias name, not all digits */
bool arn_role_ok(const char *s);
bool arn_region_ok(const char *s);
bool arn_partition_ok(const char *s); /* (aws[a-zA-Z-]*)? */
bool arn_digits(const char *s);       /* [0-9]+ */
/*
 * A published version number as Lambda names it: digits without a leading zero, at most
 * 2^53. Returns true and the number, or false.
 */
bool arn_version_number(const char *s, uint64_t *out);
/* The partition of a region: "aws-cn" for cn-*, "aws-us-gov" for us-gov-*, else "aws". */
const char *arn_partition_of(const char *region);

#endif
