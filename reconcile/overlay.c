#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "reconcile/names.h"
#include "reconcile/overlay.h"
#include "reconcile/suggest.h"

static int
cmp_function(const void *a, const void *b)
{
	return strcmp(
	    ((const struct overlay_function *)a)->name, ((const struct overlay_function *)b)->name);
}

static void
parse_functions(struct overlay *o, const struct yamldoc_node *v, struct diags *diags)
{
	const struct yamldoc_node *k, *x;
	struct overlay_function *f;
	size_t i;

	if (v->kind != YAMLDOC_MAPPING) {
		diags_add(diags, DIAG_ERROR, o->path, v->line, v->col,
		    "functions: expected a mapping of function names to overrides, got %s",
		    yamldoc_describe(v));
		o->errors++;
		return;
	}
	o->functions = xcalloc(v->n == 0 ? 1 : v->n, sizeof(*o->functions));
	for (i = 0; i < v->n; i++) {
		k = v->items[2 * i];
		x = v->items[2 * i + 1];
		if (!names_function_name(k->str)) {
			diags_add(diags, DIAG_ERROR, o->path, k->line, k->col,
			    "functions: \"%s\" is not a function name ([a-zA-Z0-9-_], 1 to %d "
			    "characters)",
			    k->str, NAMES_FUNCTION_MAX);
			o->errors++;
			continue;
		}
		if (x->kind != YAMLDOC_MAPPING) {
			diags_add(diags, DIAG_ERROR, o->path, x->line, x->col,
			    "functions.%s: expected a mapping of fields to override, got %s",
			    k->str, yamldoc_describe(x));
			o->errors++;
			continue;
		}
		f = &o->functions[o->nfunctions++];
		f->name = xstrdup(k->str);
		f->pos.path = o->path;
		f->pos.line = k->line;
		f->pos.col = k->col;
		draft_parse(&f->override, x, DRAFT_OVERRIDE, o->path, diags);
		o->errors += f->override.errors;
	}
	/* Keys are unique (yamldoc reports duplicates), so a plain sort gives a lookup. */
	qsort(o->functions, o->nfunctions, sizeof(*o->functions), cmp_function);
}

void
overlay_parse(struct overlay *out, const char *name, const struct yamldoc_node *root,
    const char *path, struct diags *diags)
{
	static const char *const keys[] = {"defaults", "functions"};
	const struct yamldoc_node *k, *v;
	bool seen[2] = {false, false};
	const char *near;
	size_t i;

	memset(out, 0, sizeof(*out));
	out->name = xstrdup(name);
	out->path = path;
	out->pos.path = path;
	out->pos.line = root->line;
	out->pos.col = root->col;
	if (root->kind != YAMLDOC_MAPPING) {
		diags_add(diags, DIAG_ERROR, path, root->line, root->col,
		    "an overlay must be a mapping with defaults: and/or functions:, not %s",
		    yamldoc_describe(root));
		out->errors++;
		return;
	}
	for (i = 0; i < root->n; i++) {
		k = root->items[2 * i];
		v = root->items[2 * i + 1];
		if (strcmp(k->str, "defaults") == 0 && !seen[0]) {
			seen[0] = true;
			if (v->kind != YAMLDOC_MAPPING) {
				diags_add(diags, DIAG_ERROR, path, v->line, v->col,
				    "defaults: expected a mapping, got %s", yamldoc_describe(v));
				out->errors++;
				continue;
			}
			out->has_defaults = true;
			draft_parse(&out->defaults, v, DRAFT_DEFAULTS, path, diags);
			out->errors += out->defaults.errors;
		} else if (strcmp(k->str, "functions") == 0 && !seen[1]) {
			seen[1] = true;
			parse_functions(out, v, diags);
		} else if (strcmp(k->str, "defaults") != 0 && strcmp(k->str, "functions") != 0) {
			near = suggest(k->str, keys, nitems(keys));
			if (near != NULL)
				diags_add(diags, DIAG_ERROR, path, k->line, k->col,
				    "unknown key \"%s\"; did you mean \"%s\"?", k->str, near);
			else
				diags_add(diags, DIAG_ERROR, path, k->line, k->col,
				    "unknown key \"%s\" (an overlay has defaults: and functions:)",
				    k->str);
			out->errors++;
		}
	}
}

const struct overlay_function *
overlay_find(const struct overlay *o, const char *name)
{
	struct overlay_function key;

	if (o->nfunctions == 0)
		return NULL;
	key.name = (char *)name;
	return bsearch(&key, o->functions, o->nfunctions, sizeof(*o->functions), cmp_function);
}

char *
overlay_name_of(const char *path)
{
	const char *base = strrchr(path, '/'), *dot;

	base = base != NULL ? base + 1 : path;
	dot = strrchr(base, '.');
	return xstrndup(base, dot != NULL ? (size_t)(dot - base) : strlen(base));
}

void
overlay_clear(struct overlay *o)
{
	size_t i;

	free(o->name);
	draft_clear(&o->defaults);
	for (i = 0; i < o->nfunctions; i++) {
		free(o->functions[i].name);
		draft_clear(&o->functions[i].override);
	}
	free(o->functions);
	memset(o, 0, sizeof(*o));
}
