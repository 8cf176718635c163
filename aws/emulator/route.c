#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "aws/emulator/route.h"
#include "common/uri.h"

#define SEGS_MAX 8

struct seg {
	const char *p;
	size_t n;
};

/* Split a raw path at '/'; -1 if it does not start with '/' or has too many segments. */
static int
split(const char *path, struct seg segs[SEGS_MAX])
{
	const char *slash;
	int n = 0;

	if (path == NULL || path[0] != '/')
		return -1;
	path++;
	for (;;) {
		if (n == SEGS_MAX)
			return -1;
		slash = strchr(path, '/');
		segs[n].p = path;
		segs[n].n = slash != NULL ? (size_t)(slash - path) : strlen(path);
		n++;
		if (slash == NULL)
			return n;
		path = slash + 1;
	}
}

static bool
is(const struct seg *s, const char *word)
{
	return s->n == strlen(word) && memcmp(s->p, word, s->n) == 0;
}

/* Whether the raw query holds key=value (both compared decoded; malformed ones never match). */
static bool
query_has(const char *q, const char *key, const char *value)
{
	struct uri_query it;
	char *k, *v;
	bool found = false;
	int rc;

	uri_query_init(&it, q);
	while (!found) {
		rc = uri_query_next(&it, &k, &v);
		if (rc == 0)
			break;
		if (rc > 0)
			found = strcmp(k, key) == 0 && strcmp(v, value) == 0;
		free(k);
		free(v);
	}
	return found;
}

static bool
method(const char *m, const char *want)
{
	return strcmp(m, want) == 0;
}

/* /2015-03-31/functions/{FunctionName}/... */
static enum emu_op
functions(const char *m, const struct seg *s, int n)
{
	if (n == 2 || (n == 3 && s[2].n == 0)) {
		if (method(m, "GET"))
			return EMU_OP_ListFunctions;
		if (method(m, "POST"))
			return EMU_OP_CreateFunction;
		return EMU_OP_NONE;
	}
	if (n == 3) {
		if (method(m, "GET"))
			return EMU_OP_GetFunction;
		if (method(m, "DELETE"))
			return EMU_OP_DeleteFunction;
		return EMU_OP_NONE;
	}
	if (n == 4 && is(&s[3], "configuration")) {
		if (method(m, "GET"))
			return EMU_OP_GetFunctionConfiguration;
		if (method(m, "PUT"))
			return EMU_OP_UpdateFunctionConfiguration;
	} else if (n == 4 && is(&s[3], "versions")) {
		if (method(m, "GET"))
			return EMU_OP_ListVersionsByFunction;
		if (method(m, "POST"))
			return EMU_OP_PublishVersion;
	} else if (n == 4 && is(&s[3], "code")) {
		if (method(m, "PUT"))
			return EMU_OP_UpdateFunctionCode;
	} else if (n == 4 && is(&s[3], "invocations")) {
		if (method(m, "POST"))
			return EMU_OP_Invoke;
	} else if (n == 4 && is(&s[3], "aliases")) {
		if (method(m, "GET"))
			return EMU_OP_ListAliases;
		if (method(m, "POST"))
			return EMU_OP_CreateAlias;
	} else if (n == 5 && is(&s[3], "aliases")) {
		if (method(m, "GET"))
			return EMU_OP_GetAlias;
		if (method(m, "PUT"))
			return EMU_OP_UpdateAlias;
		if (method(m, "DELETE"))
			return EMU_OP_DeleteAlias;
	}
	return EMU_OP_NONE;
}

enum emu_op
route_match(const char *m, const char *path, const char *query)
{
	struct seg s[SEGS_MAX];
	int n;

	if (m == NULL)
		return EMU_OP_NONE;
	n = split(path, s);
	if (n < 2)
		return EMU_OP_NONE;
	if (is(&s[0], "2015-03-31") && is(&s[1], "functions"))
		return functions(m, s, n);
	if (is(&s[0], "2015-03-31") && is(&s[1], "event-source-mappings") &&
	    (n == 2 || (n == 3 && s[2].n == 0))) {
		if (method(m, "GET"))
			return EMU_OP_ListEventSourceMappings;
		if (method(m, "POST"))
			return EMU_OP_CreateEventSourceMapping;
		return EMU_OP_NONE;
	}
	if (is(&s[0], "2018-10-31") && is(&s[1], "layers")) {
		if (n == 2 && method(m, "GET") && query_has(query, "find", "LayerVersion"))
			return EMU_OP_GetLayerVersionByArn;
		if (n == 4 && is(&s[3], "versions")) {
			if (method(m, "GET"))
				return EMU_OP_ListLayerVersions;
			if (method(m, "POST"))
				return EMU_OP_PublishLayerVersion;
		}
		if (n == 5 && is(&s[3], "versions") && method(m, "GET"))
			return EMU_OP_GetLayerVersion;
		return EMU_OP_NONE;
	}
	if (is(&s[0], "2017-03-31") && is(&s[1], "tags") && n == 3) {
		if (method(m, "GET"))
			return EMU_OP_ListTags;
		if (method(m, "POST"))
			return EMU_OP_TagResource;
		if (method(m, "DELETE"))
			return EMU_OP_UntagResource;
		return EMU_OP_NONE;
	}
	if (is(&s[0], "2019-09-30") && is(&s[1], "functions") && n == 4 &&
	    is(&s[3], "provisioned-concurrency")) {
		if (method(m, "PUT"))
			return EMU_OP_PutProvisionedConcurrencyConfig;
		if (method(m, "GET") && query_has(query, "List", "ALL"))
			return EMU_OP_ListProvisionedConcurrencyConfigs;
	}
	return EMU_OP_NONE;
}

int
route_labels(enum emu_op op, const char *path, char **labels, size_t *n)
{
	struct seg s[SEGS_MAX];
	int nseg, want = 0, i;

	*n = 0;
	switch (op) {
	case EMU_OP_NONE:
	case EMU_OP_CreateFunction:
	case EMU_OP_ListFunctions:
	case EMU_OP_GetLayerVersionByArn:
	case EMU_OP_CreateEventSourceMapping:
	case EMU_OP_ListEventSourceMappings:
	case EMU_OP__COUNT:
		return 0;
	case EMU_OP_GetAlias:
	case EMU_OP_UpdateAlias:
	case EMU_OP_DeleteAlias:
	case EMU_OP_GetLayerVersion:
		want = 2; /* the second label is segment 4 */
		break;
	default:
		want = 1; /* segment 2 */
		break;
	}
	nseg = split(path, s);
	if (nseg < (want == 2 ? 5 : 3))
		return 0;
	for (i = 0; i < want; i++) {
		if (uri_decode(s[2 + 2 * i].p, s[2 + 2 * i].n, &labels[i], NULL) != 0) {
			while (*n > 0)
				free(labels[--*n]);
			return -1;
		}
		(*n)++;
	}
	return 0;
}
