#include <string.h>

#include "aws/emulator/arn.h"

#define TOKENS_MAX 10

static bool
lower(char c)
{
	return c >= 'a' && c <= 'z';
}

static bool
digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
alnum(char c)
{
	return lower(c) || (c >= 'A' && c <= 'Z') || digit(c);
}

bool
arn_digits(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!digit(*s))
			return false;
	return true;
}

bool
arn_name_ok(const char *s, bool namespaced)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!alnum(*s) && *s != '-' && *s != '_' && !(namespaced && *s == '.'))
			return false;
	return true;
}

/* The qualifier part of a FunctionName: \$LATEST or [a-zA-Z0-9-_]+. */
static bool
name_qualifier_ok(const char *s)
{
	return strcmp(s, "$LATEST") == 0 || arn_name_ok(s, false);
}

bool
arn_qualifier_ok(const char *s)
{
	if (*s == '\0' || strlen(s) > ARN_QUALIFIER_MAX)
		return false;
	for (; *s != '\0'; s++)
		if (!alnum(*s) && *s != '$' && *s != '_' && *s != '-')
			return false;
	return true;
}

bool
arn_alias_ok(const char *s)
{
	return strlen(s) <= ARN_ALIAS_MAX && arn_name_ok(s, false) && !arn_digits(s);
}

bool
arn_partition_ok(const char *s)
{
	if (*s == '\0')
		return true;
	if (strncmp(s, "aws", 3) != 0)
		return false;
	for (s += 3; *s != '\0'; s++)
		if (!lower(*s) && !(*s >= 'A' && *s <= 'Z') && *s != '-')
			return false;
	return true;
}

/* "-[a-z]+-\d" to the end. */
static bool
region_tail(const char *p)
{
	if (*p++ != '-' || !lower(*p))
		return false;
	while (lower(*p))
		p++;
	if (*p++ != '-' || !digit(*p))
		return false;
	return p[1] == '\0';
}

bool
arn_region_ok(const char *s)
{
	if (!lower(s[0]) || !lower(s[1]))
		return false;
	return region_tail(s + 2) || (strncmp(s + 2, "-gov", 4) == 0 && region_tail(s + 6));
}

static bool
account_ok(const char *s)
{
	return strlen(s) == 12 && arn_digits(s);
}

/* Split s at ':' into at most TOKENS_MAX tokens; -1 if there are more. */
static int
split(const char *s, const char *tok[TOKENS_MAX], size_t len[TOKENS_MAX])
{
	int n = 0;
	const char *colon;

	for (;;) {
		if (n == TOKENS_MAX)
			return -1;
		colon = strchr(s, ':');
		tok[n] = s;
		len[n] = colon != NULL ? (size_t)(colon - s) : strlen(s);
		n++;
		if (colon == NULL)
			return n;
		s = colon + 1;
	}
}

/* Copy a token into a fixed field and test it with check. */
static bool
take(char dst[ARN_PART_MAX], const char *tok, size_t len, bool (*check)(const char *))
{
	if (len >= ARN_PART_MAX)
		return false;
	memcpy(dst, tok, len);
	dst[len] = '\0';
	return check == NULL || check(dst);
}

static bool
is_lambda(const char *s)
{
	return strcmp(s, "lambda") == 0;
}

static bool
is_arn(const char *s)
{
	return strcmp(s, "arn") == 0;
}

static bool
is_function(const char *s)
{
	return strcmp(s, "function") == 0;
}

static bool
name_plain(const char *s)
{
	return arn_name_ok(s, false);
}

static bool
name_namespaced(const char *s)
{
	return arn_name_ok(s, true);
}

int
arn_parse_function(const char *s, bool namespaced, struct arn_function *out)
{
	const char *tok[TOKENS_MAX];
	size_t len[TOKENS_MAX];
	char scratch[ARN_PART_MAX];
	int n, mask, i, need;

	n = split(s, tok, len);
	if (n < 0)
		return -1;
	/*
	 * The optional groups are, in order: the "arn:P:lambda" prefix (3 tokens), the region,
	 * the account and "function". A regex engine tries each present before absent, which
	 * is counting the presence mask down from all-present.
	 */
	for (mask = 15; mask >= 0; mask--) {
		memset(out, 0, sizeof(*out));
		need = (mask & 8 ? 3 : 0) + (mask & 4 ? 1 : 0) + (mask & 2 ? 1 : 0) +
		       (mask & 1 ? 1 : 0);
		if (n != need + 1 && n != need + 2)
			continue;
		i = 0;
		if (mask & 8) {
			if (!take(scratch, tok[0], len[0], is_arn) ||
			    !take(out->partition, tok[1], len[1], arn_partition_ok) ||
			    !take(scratch, tok[2], len[2], is_lambda))
				continue;
			out->arn = true;
			i = 3;
		}
		if (mask & 4) {
			if (!take(out->region, tok[i], len[i], arn_region_ok))
				continue;
			i++;
		}
		if (mask & 2) {
			if (!take(out->account, tok[i], len[i], account_ok))
				continue;
			i++;
		}
		if (mask & 1) {
			if (!take(scratch, tok[i], len[i], is_function))
				continue;
			out->function = true;
			i++;
		}
		if (!take(out->name, tok[i], len[i], namespaced ? name_namespaced : name_plain))
			continue;
		i++;
		if (i < n && !take(out->qualifier, tok[i], len[i], name_qualifier_ok))
			continue;
		return 0;
	}
	memset(out, 0, sizeof(*out));
	return -1;
}

static bool
layer_word_ok(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!alnum(*s) && *s != '-')
			return false;
	return true;
}

static bool
is_layer(const char *s)
{
	return strcmp(s, "layer") == 0;
}

int
arn_parse_layer(const char *s, bool with_version, struct arn_layer *out)
{
	const char *tok[TOKENS_MAX];
	size_t len[TOKENS_MAX];
	char scratch[ARN_PART_MAX];
	int n;

	memset(out, 0, sizeof(*out));
	n = split(s, tok, len);
	if (n != (with_version ? 8 : 7))
		return -1;
	if (!take(scratch, tok[0], len[0], is_arn) ||
	    !take(out->partition, tok[1], len[1], layer_word_ok) ||
	    !take(scratch, tok[2], len[2], is_lambda) ||
	    !take(out->region, tok[3], len[3], layer_word_ok) ||
	    !take(out->account, tok[4], len[4], account_ok) ||
	    !take(scratch, tok[5], len[5], is_layer) ||
	    !take(out->name, tok[6], len[6], name_plain))
		goto bad;
	if (with_version) {
		if (!take(scratch, tok[7], len[7], arn_digits))
			goto bad;
		out->has_version = true;
		/* Digits that do not name a version (overflow, leading zero) find nothing. */
		if (!arn_version_number(scratch, &out->version))
			out->version = 0;
	}
	return 0;
bad:
	memset(out, 0, sizeof(*out));
	return -1;
}

bool
arn_role_ok(const char *s)
{
	const char *tok[TOKENS_MAX];
	size_t len[TOKENS_MAX], i;
	char part[ARN_PART_MAX];
	const char *rest;
	int n;

	/* The role's path characters [a-zA-Z_0-9+=,.@\-_/] hold no ':', so: 6 tokens. */
	n = split(s, tok, len);
	if (n != 6 || len[0] != 3 || strncmp(tok[0], "arn", 3) != 0)
		return false;
	if (!take(part, tok[1], len[1], arn_partition_ok))
		return false;
	if (len[2] != 3 || strncmp(tok[2], "iam", 3) != 0 || len[3] != 0)
		return false;
	if (!take(part, tok[4], len[4], account_ok))
		return false;
	if (len[5] < 5 || strncmp(tok[5], "role", 4) != 0)
		return false;
	rest = tok[5] + 4;
	for (i = 0; i < len[5] - 4; i++)
		if (!alnum(rest[i]) && strchr("_+=,.@-/", rest[i]) == NULL)
			return false;
	return true;
}

bool
arn_version_number(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	const char *p;

	if (!arn_digits(s) || (s[0] == '0'))
		return false;
	for (p = s; *p != '\0'; p++) {
		if (v > (UINT64_C(1) << 53) / 10)
			return false;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v > (UINT64_C(1) << 53))
		return false;
	*out = v;
	return true;
}

const char *
arn_partition_of(const char *region)
{
	if (strncmp(region, "cn-", 3) == 0)
		return "aws-cn";
	if (strncmp(region, "us-gov-", 7) == 0)
		return "aws-us-gov";
	return "aws";
}
