/*
 * Fuzz target "load": the desired-state loader (reconcile/load.h), from YAML to a
 * validated spec or the list of every problem.
 *
 * Input: parts framed as in fuzz.h. A part named by a path ("functions/api.yaml",
 * "environments/prod.yaml") is a file of the desired state; the unnamed leading part is
 * functions/fuzz.yaml. Directives set the load options or add the entries a reader records
 * instead of reading ("=== env prod", "=== region eu-west-1", "=== account 123456789012",
 * "=== prefix deploy/", "=== symlink PATH", "=== toobig PATH", "=== submodule PATH",
 * "=== other PATH", "=== toodeep PATH", "=== unreadable PATH"). Files are added the way the
 * directory and git readers add them: only paths fileset_wants() accepts, each path once, then
 * sorted. On success every function's canonical form and digest are computed too, as `tether
 * validate -v` does.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/compat.h"
#include "common/crypto.h"
#include "common/err.h"
#include "common/xmalloc.h"
#include "reconcile/load.h"
#include "tests/fuzz/fuzz.h"

/* A path a reader could produce: relative, '/'-separated, no empty, "." or ".." part. */
static bool
path_ok(const char *p)
{
	const char *end;
	size_t n;

	if (*p == '\0')
		return false;
	for (;;) {
		end = p + strcspn(p, "/");
		n = (size_t)(end - p);
		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		if (*end == '\0')
			return true;
		p = end + 1;
	}
}

static bool
has_path(const struct fileset *fs, const char *path)
{
	size_t i;

	for (i = 0; i < fs->n; i++) {
		if (strcmp(fs->files[i].path, path) == 0)
			return true;
	}
	return false;
}

enum directive {
	DIRECTIVE_ENV,
	DIRECTIVE_REGION,
	DIRECTIVE_ACCOUNT,
	DIRECTIVE_PREFIX,
	DIRECTIVE_SYMLINK,
	DIRECTIVE_TOOBIG,
	DIRECTIVE_SUBMODULE,
	DIRECTIVE_OTHER,
	DIRECTIVE_TOODEEP,
	DIRECTIVE_UNREADABLE,
	DIRECTIVE_NONE, /* a file */
};

static const char *const directive_words[] = {"env", "region", "account", "prefix", "symlink",
    "toobig", "submodule", "other", "toodeep", "unreadable"};

/* Which directive a part's name is ("word value"), with *value set; DIRECTIVE_NONE if not. */
static enum directive
directive(const char *name, const char **value)
{
	size_t i, n;

	for (i = 0; i < nitems(directive_words); i++) {
		n = strlen(directive_words[i]);
		if (strncmp(name, directive_words[i], n) == 0 && name[n] == ' ') {
			*value = name + n + 1;
			return (enum directive)i;
		}
	}
	*value = NULL;
	return DIRECTIVE_NONE;
}

static void
set(char **s, const char *v)
{
	free(*s);
	*s = xstrdup(v);
}

static void
add_special(struct fileset *fs, const char *path, enum fileset_kind kind, size_t size)
{
	if (path_ok(path) && !has_path(fs, path))
		fileset_add_special(fs, path, kind, size);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fileset fs = FILESET_INIT;
	struct load_opts lo = LOAD_OPTS_INIT;
	struct spec want = SPEC_INIT;
	struct diags diags = DIAGS_INIT;
	struct fuzz_parts parts;
	struct err err = ERR_INIT;
	char *env = NULL, *region = NULL, *account = NULL, *prefix = NULL, *canon;
	char hex[CRYPTO_SHA256_HEX_LEN + 1];
	const char *name, *v;
	FILE *out;
	size_t i;
	int rc;

	fuzz_quiet_logs();
	fuzz_parts_split(&parts, data, size);
	for (i = 0; i < parts.n; i++) {
		name = parts.v[i].name[0] != '\0' ? parts.v[i].name : "functions/fuzz.yaml";
		switch (directive(name, &v)) {
		case DIRECTIVE_ENV:
			set(&env, v);
			break;
		case DIRECTIVE_REGION:
			set(&region, v);
			break;
		case DIRECTIVE_ACCOUNT:
			set(&account, v);
			break;
		case DIRECTIVE_PREFIX:
			set(&prefix, v);
			break;
		case DIRECTIVE_SYMLINK:
			add_special(&fs, v, FILESET_SYMLINK, 0);
			break;
		case DIRECTIVE_TOOBIG:
			add_special(&fs, v, FILESET_TOO_BIG, FILESET_FILE_MAX + 1);
			break;
		case DIRECTIVE_SUBMODULE:
			add_special(&fs, v, FILESET_SUBMODULE, 0);
			break;
		case DIRECTIVE_OTHER:
			add_special(&fs, v, FILESET_OTHER, 0);
			break;
		case DIRECTIVE_TOODEEP:
			add_special(&fs, v, FILESET_TOO_DEEP, 0);
			break;
		case DIRECTIVE_UNREADABLE:
			if (path_ok(v) && !has_path(&fs, v))
				fileset_add_unreadable(&fs, v, EACCES);
			break;
		case DIRECTIVE_NONE:
		default:
			if (path_ok(name) && fileset_wants(name) && !has_path(&fs, name) &&
			    parts.v[i].len <= FILESET_FILE_MAX)
				fileset_add(&fs, name, parts.v[i].data, parts.v[i].len);
			break;
		}
	}
	fileset_sort(&fs);
	lo.env = env;
	lo.default_region = region;
	lo.account = account;
	lo.display_prefix = prefix;
	rc = load_desired(&fs, &lo, &want, &diags);
	/* The contract: an error means nothing is loaded, and only an error fails. */
	if ((rc == 0) != (diags.errors == 0) || (rc != 0 && want.n != 0))
		abort();
	if (rc == 0) {
		for (i = 0; i < want.n; i++) {
			if (spec_canonical(&want.functions[i], account, &canon, &err) == 0)
				free(canon);
			(void)spec_digest(&want.functions[i], account, hex, &err);
		}
	}
	diags_sort(&diags);
	out = fopen("/dev/null", "w");
	if (out != NULL) {
		diags_print(&diags, out);
		fclose(out);
	}
	spec_free(&want);
	diags_free(&diags);
	fileset_free(&fs);
	fuzz_parts_free(&parts);
	free(env);
	free(region);
	free(account);
	free(prefix);
	return 0;
}
