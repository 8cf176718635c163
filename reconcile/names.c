#include <stdlib.h>
#include <string.h>

#include "reconcile/names.h"

static bool
is_lower(char c)
{
	return c >= 'a' && c <= 'z';
}

static bool
is_alpha(char c)
{
	return is_lower(c) || (c >= 'A' && c <= 'Z');
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f');
}

/* [a-zA-Z0-9-_] */
static bool
is_name(char c)
{
	return is_alpha(c) || is_digit(c) || c == '-' || c == '_';
}

/* Length of the longest prefix of s whose characters satisfy ok. */
static size_t
span(const char *s, bool (*ok)(char))
{
	size_t n = 0;

	while (s[n] != '\0' && ok(s[n]))
		n++;
	return n;
}

static bool
all(const char *s, size_t min, size_t max, bool (*ok)(char))
{
	size_t n = span(s, ok);

	return s[n] == '\0' && n >= min && n <= max;
}

/* Consume a literal prefix. */
static bool
eat(const char **s, const char *lit)
{
	size_t n = strlen(lit);

	if (strncmp(*s, lit, n) != 0)
		return false;
	*s += n;
	return true;
}

/* Copy n bytes into a fixed field, or fail when it does not fit. */
static bool
copy(char *dst, size_t size, const char *s, size_t n)
{
	if (n >= size)
		return false;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return true;
}

bool
names_function_name(const char *s)
{
	return all(s, 1, NAMES_FUNCTION_MAX, is_name);
}

/* [a-z]{2}(-gov)?-[a-z]+-\d at s; returns its length or 0. */
static size_t
region_at(const char *s)
{
	size_t i = 0, n;

	if (!is_lower(s[0]) || !is_lower(s[1]))
		return 0;
	i = 2;
	/* "-gov" is optional; "-gov-west-1" also reads as "-[a-z]+-" only if followed by a
	 * digit, so try the longer form first. */
	if (strncmp(s + i, "-gov-", 5) == 0) {
		n = span(s + i + 5, is_lower);
		if (n > 0 && s[i + 5 + n] == '-' && is_digit(s[i + 6 + n]))
			return i + 7 + n;
	}
	if (s[i] != '-')
		return 0;
	n = span(s + i + 1, is_lower);
	if (n == 0 || s[i + 1 + n] != '-' || !is_digit(s[i + 2 + n]))
		return 0;
	return i + 3 + n;
}

bool
names_region(const char *s)
{
	size_t n = region_at(s);

	return n > 0 && s[n] == '\0';
}

static bool
is_partition_char(char c)
{
	return is_alpha(c) || c == '-';
}

/* (aws[a-zA-Z-]*)? followed by ':' */
static bool
partition_at(const char **s, struct names_arn *out)
{
	size_t n = 0;

	if (strncmp(*s, "aws", 3) == 0)
		n = 3 + span(*s + 3, is_partition_char);
	if ((*s)[n] != ':')
		return false;
	if (out != NULL && !copy(out->partition, sizeof(out->partition), *s, n))
		return false;
	*s += n + 1;
	return true;
}

static bool
account_at(const char **s, struct names_arn *out)
{
	size_t n = span(*s, is_digit);

	if (n != 12 || (*s)[12] != ':')
		return false;
	if (out != NULL)
		copy(out->account, sizeof(out->account), *s, 12);
	*s += 13;
	return true;
}

bool
names_function_arn(const char *s, struct names_arn *out)
{
	const char *p = s;
	size_t n;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (!eat(&p, "arn:") || !partition_at(&p, out) || !eat(&p, "lambda:"))
		return false;
	n = region_at(p);
	if (n == 0 || p[n] != ':')
		return false;
	if (out != NULL && !copy(out->region, sizeof(out->region), p, n))
		return false;
	p += n + 1;
	if (!account_at(&p, out) || !eat(&p, "function:"))
		return false;
	n = span(p, is_name);
	if (n == 0 || n > NAMES_FUNCTION_MAX)
		return false;
	if (out != NULL)
		copy(out->name, sizeof(out->name), p, n);
	p += n;
	if (*p == '\0')
		return true;
	if (*p != ':')
		return false;
	p++;
	if (strcmp(p, "$LATEST") != 0 && !all(p, 1, NAMES_QUALIFIER_MAX, is_name))
		return false;
	if (out != NULL)
		copy(out->qualifier, sizeof(out->qualifier), p, strlen(p));
	return true;
}

static bool
is_alnum_dash(char c)
{
	return is_alpha(c) || is_digit(c) || c == '-';
}

/* arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\d{12}:layer:[a-zA-Z0-9-_]+ and what follows. */
static bool
layer_prefix(const char **p, struct names_arn *out)
{
	size_t n;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (!eat(p, "arn:"))
		return false;
	n = span(*p, is_alnum_dash);
	if (n == 0 || (*p)[n] != ':')
		return false;
	if (out != NULL && !copy(out->partition, sizeof(out->partition), *p, n))
		return false;
	*p += n + 1;
	if (!eat(p, "lambda:"))
		return false;
	n = span(*p, is_alnum_dash);
	if (n == 0 || (*p)[n] != ':')
		return false;
	if (out != NULL && !copy(out->region, sizeof(out->region), *p, n))
		return false;
	*p += n + 1;
	if (!account_at(p, out) || !eat(p, "layer:"))
		return false;
	n = span(*p, is_name);
	if (n == 0)
		return false;
	if (out != NULL && !copy(out->name, sizeof(out->name), *p, n))
		return false;
	*p += n;
	return true;
}

bool
names_layer_version_arn(const char *s, struct names_arn *out)
{
	const char *p = s;
	size_t n;

	if (strlen(s) > NAMES_LAYER_ARN_MAX || !layer_prefix(&p, out) || *p != ':')
		return false;
	p++;
	n = span(p, is_digit);
	if (n == 0 || p[n] != '\0' || n > 15)
		return false;
	if (out != NULL)
		out->version = strtol(p, NULL, 10);
	return true;
}

bool
names_layer_arn(const char *s)
{
	const char *p = s;

	return strlen(s) <= NAMES_LAYER_ARN_MAX && layer_prefix(&p, NULL) && *p == '\0';
}

bool
names_layer_name(const char *s)
{
	return all(s, 1, NAMES_LAYER_NAME_MAX, is_name);
}

bool
names_alias(const char *s)
{
	return all(s, 1, NAMES_ALIAS_MAX, is_name) && !all(s, 1, NAMES_ALIAS_MAX, is_digit);
}

static bool
is_qualifier(char c)
{
	return is_name(c) || c == '$';
}

bool
names_qualifier(const char *s)
{
	return all(s, 1, NAMES_QUALIFIER_MAX, is_qualifier);
}

bool
names_version(const char *s)
{
	return strcmp(s, "$LATEST") == 0 || all(s, 1, (size_t)-1, is_digit);
}

static bool
is_role_char(char c)
{
	return is_alpha(c) || is_digit(c) || strchr("_+=,.@-/", c) != NULL;
}

bool
names_role_arn(const char *s)
{
	const char *p = s;

	if (strlen(s) > NAMES_ROLE_MAX || !eat(&p, "arn:") || !partition_at(&p, NULL) ||
	    !eat(&p, "iam::") || !account_at(&p, NULL) || !eat(&p, "role"))
		return false;
	/* role/?[chars]+: the optional '/' is itself one of the characters. */
	return all(p, 1, (size_t)-1, is_role_char);
}

static bool
is_env_char(char c)
{
	return is_alpha(c) || is_digit(c) || c == '_';
}

bool
names_env_key(const char *s)
{
	return is_alpha(s[0]) && all(s + 1, 1, (size_t)-1, is_env_char);
}

bool
names_env_reserved(const char *s)
{
	/* Lambda's documented reserved runtime variables; it refuses to set them. */
	static const char *const reserved[] = {
	    "_HANDLER",
	    "_X_AMZN_TRACE_ID",
	    "AWS_DEFAULT_REGION",
	    "AWS_REGION",
	    "AWS_EXECUTION_ENV",
	    "AWS_LAMBDA_FUNCTION_NAME",
	    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
	    "AWS_LAMBDA_FUNCTION_VERSION",
	    "AWS_LAMBDA_INITIALIZATION_TYPE",
	    "AWS_LAMBDA_LOG_GROUP_NAME",
	    "AWS_LAMBDA_LOG_STREAM_NAME",
	    "AWS_ACCESS_KEY",
	    "AWS_ACCESS_KEY_ID",
	    "AWS_SECRET_ACCESS_KEY",
	    "AWS_SESSION_TOKEN",
	    "AWS_LAMBDA_RUNTIME_API",
	    "LAMBDA_TASK_ROOT",
	    "LAMBDA_RUNTIME_DIR",
	};
	size_t i;

	for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
		if (strcmp(s, reserved[i]) == 0)
			return true;
	}
	return false;
}

static bool
is_bucket_char(char c)
{
	return is_alpha(c) || is_digit(c) || c == '.' || c == '-' || c == '_';
}

bool
names_s3_bucket(const char *s)
{
	size_t n = strlen(s);

	return all(s, 3, 63, is_bucket_char) && s[n - 1] != '.';
}

bool
names_handler(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > NAMES_HANDLER_MAX)
		return false;
	for (i = 0; i < n; i++) {
		if (strchr(" \t\n\r\f\v", s[i]) != NULL)
			return false;
	}
	return true;
}

/*
 * The first part is the enum of the shape "Runtime" in Debian's botocore service model
 * (python3-botocore 1.29.27, lambda/2015-03-31/service-2.json), in its order. That model
 * predates the runtimes Lambda recommends today, so the values Lambda's model gained since
 * follow, in the order of the current model (aws-sdk-go-v2 service/lambda/types/enums.go,
 * generated from it). Deprecated runtimes stay: Lambda keeps them in the enum, and refuses
 * them itself when they can no longer be used.
 */
const char *const names_runtimes[] = {
    /* botocore 1.29.27 */
    "nodejs", "nodejs4.3", "nodejs6.10", "nodejs8.10", "nodejs10.x", "nodejs12.x", "nodejs14.x",
    "nodejs16.x", "java8", "java8.al2", "java11", "python2.7", "python3.6", "python3.7",
    "python3.8", "python3.9", "dotnetcore1.0", "dotnetcore2.0", "dotnetcore2.1", "dotnetcore3.1",
    "dotnet6", "nodejs4.3-edge", "go1.x", "ruby2.5", "ruby2.7", "provided", "provided.al2",
    "nodejs18.x",
    /* added since */
    "nodejs20.x", "nodejs22.x", "nodejs24.x", "java17", "java21", "java25", "python3.10",
    "python3.11", "python3.12", "python3.13", "python3.14", "dotnet8", "dotnet10", "ruby3.2",
    "ruby3.3", "ruby3.4", "ruby4.0", "provided.al2023", "nodejs26.x", "python3.15", "java8.al2023",
    "java11.al2023", "java17.al2023", NULL};

bool
names_runtime(const char *s)
{
	size_t i;

	for (i = 0; names_runtimes[i] != NULL; i++) {
		if (strcmp(s, names_runtimes[i]) == 0)
			return true;
	}
	return false;
}

static bool
is_host_char(char c)
{
	return is_alpha(c) || is_digit(c) || c == '-' || c == '.';
}

static bool
is_repo_alnum(char c)
{
	return is_lower(c) || is_digit(c);
}

/* [a-z0-9]+([._-][a-z0-9]+)* separated by '/', over exactly n bytes. */
static bool
repository(const char *s, size_t n)
{
	size_t i = 0, run;

	for (;;) {
		run = 0;
		while (i < n && is_repo_alnum(s[i])) {
			i++;
			run++;
		}
		if (run == 0)
			return false;
		if (i == n)
			return true;
		if (s[i] != '.' && s[i] != '_' && s[i] != '-' && s[i] != '/')
			return false;
		i++;
	}
}

static bool
is_tag_char(char c)
{
	return is_alpha(c) || is_digit(c) || c == '_' || c == '.' || c == '-';
}

/* v?\d+\.\d+\.\d+ with an optional -prerelease (a tag cannot hold semver's +build). */
static bool
semver(const char *t, size_t n)
{
	size_t i = 0, part, d;

	if (i < n && t[i] == 'v')
		i++;
	for (part = 0; part < 3; part++) {
		for (d = 0; i < n && is_digit(t[i]); i++)
			d++;
		if (d == 0)
			return false;
		if (part < 2) {
			if (i >= n || t[i] != '.')
				return false;
			i++;
		}
	}
	if (i == n)
		return true;
	return t[i] == '-' && i + 1 < n;
}

/* A component (between - _ . +) of at least 7 lower-case hex characters with a digit: a
 * commit id, a content hash, or a date/time stamp. */
static bool
content_tag(const char *t, size_t n)
{
	size_t i = 0, start, len;
	bool hex, digit;

	while (i < n) {
		start = i;
		hex = true;
		digit = false;
		while (i < n && strchr("-_.+", t[i]) == NULL) {
			hex = hex && is_hex(t[i]);
			digit = digit || is_digit(t[i]);
			i++;
		}
		len = i - start;
		if (hex && digit && len >= 7)
			return true;
		i++;
	}
	return false;
}

bool
names_image(const char *s, enum names_image_pin *pin, const char **tag)
{
	const char *slash, *at, *colon, *end, *repo;
	size_t n = strlen(s), host, i;

	*tag = NULL;
	if (n == 0 || n > NAMES_IMAGE_MAX)
		return false;
	slash = strchr(s, '/');
	if (slash == NULL)
		return false;
	/* REGISTRY: host[:port], a name with a dot (or localhost). */
	host = span(s, is_host_char);
	if (host == 0 || (s[host] != '/' && s[host] != ':'))
		return false;
	if (memchr(s, '.', host) == NULL && !(host == 9 && strncmp(s, "localhost", 9) == 0))
		return false;
	if (s[host] == ':') {
		i = host + 1;
		if (span(s + i, is_digit) == 0 || s + i + span(s + i, is_digit) != slash)
			return false;
	}
	repo = slash + 1;
	at = strchr(repo, '@');
	end = at != NULL ? at : s + n;
	if (at != NULL) {
		if (strncmp(at, "@sha256:", 8) != 0 || strlen(at + 8) != 64 ||
		    span(at + 8, is_hex) != 64)
			return false;
	}
	colon = memchr(repo, ':', (size_t)(end - repo));
	if (colon != NULL) {
		if (strchr(colon + 1, ':') != NULL && (at == NULL || strchr(colon + 1, ':') < at))
			return false;
		if (!repository(repo, (size_t)(colon - repo)))
			return false;
		n = (size_t)(end - colon - 1);
		if (n == 0 || n > 128 || colon[1] == '.' || colon[1] == '-')
			return false;
		for (i = 0; i < n; i++) {
			if (!is_tag_char(colon[1 + i]))
				return false;
		}
		*tag = colon + 1;
	} else if (!repository(repo, (size_t)(end - repo))) {
		return false;
	}
	if (at != NULL)
		*pin = NAMES_IMAGE_DIGEST;
	else if (colon == NULL)
		*pin = NAMES_IMAGE_UNTAGGED;
	else if (n == 6 && strncmp(colon + 1, "latest", 6) == 0)
		*pin = NAMES_IMAGE_LATEST;
	else if (semver(colon + 1, n) || content_tag(colon + 1, n))
		*pin = NAMES_IMAGE_CONTENT;
	else
		*pin = NAMES_IMAGE_MUTABLE;
	return true;
}

size_t
names_utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++) {
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	}
	return n;
}
