#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/utf8.h"
#include "common/xmalloc.h"
#include "reconcile/draft.h"
#include "reconcile/load.h"
#include "reconcile/names.h"
#include "reconcile/overlay.h"
#include "reconcile/suggest.h"
#include "reconcile/yamldoc.h"

/* Unknown function names in overlays that get a "did you mean" (the rest get none). */
#define LOAD_SUGGEST_MAX 10

/* A function document, and what the loader learns about it. */
struct decl {
	struct draft d;
	const char *region; /* resolved; borrowed from d, an overlay or the options */
	size_t order;       /* declaration order: file order, then document order */
};

struct loader {
	const struct load_opts *opts;
	const char *prefix;
	struct diags *diags;
	char *prefix_owned;
	char **paths; /* display paths, one per file read */
	size_t npaths;
	struct decl *decls;
	size_t ndecls;
	size_t capdecls;
	struct overlay *overlays;
	size_t noverlays;
	size_t capoverlays;
	bool functions_unread; /* a functions/ file could not be read: its names are unknown */
};

static void PRINTFLIKE(5, 6)
    error_at(struct loader *l, const char *path, int line, int col, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	/* Past the last diagnostic (diags_add() would drop it), formatting is wasted. */
	if (l->diags->truncated)
		return;
	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	diags_add(l->diags, DIAG_ERROR, path, line, col, "%s", msg);
	free(msg);
}

/* Line and column (characters) of a byte offset. */
static void
position(const unsigned char *data, size_t off, int *line, int *col)
{
	size_t i;

	*line = 1;
	*col = 1;
	for (i = 0; i < off; i++) {
		if (data[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if ((data[i] & 0xc0) != 0x80) {
			(*col)++;
		}
	}
}

/* Desired state is UTF-8 text: a NUL byte means a binary file. */
static bool
check_text(struct loader *l, const char *path, const unsigned char *data, size_t len)
{
	const unsigned char *nul = memchr(data, '\0', len);
	size_t i = 0, k;
	int line, col;

	if (nul != NULL) {
		position(data, (size_t)(nul - data), &line, &col);
		error_at(
		    l, path, line, col, "binary file (a NUL byte); desired state is UTF-8 text");
		return false;
	}
	while (i < len) {
		k = utf8_len(data + i, len - i);
		if (k == 0) {
			position(data, i, &line, &col);
			error_at(l, path, line, col, "not UTF-8 text (byte 0x%02x)", data[i]);
			return false;
		}
		i += k;
	}
	return true;
}

static bool
check_kind(struct loader *l, const char *path, const struct fileset_file *f)
{
	switch (f->kind) {
	case FILESET_REGULAR:
		return true;
	case FILESET_SYMLINK:
		error_at(l, path, 1, 1,
		    "a symbolic link; desired state must be regular files (links are not "
		    "followed)");
		break;
	case FILESET_SUBMODULE:
		error_at(l, path, 1, 1,
		    "a submodule; desired state must be regular files in this repository");
		break;
	case FILESET_TOO_BIG:
		error_at(l, path, 1, 1, "file is %zu bytes, over the limit of %d", f->len,
		    FILESET_FILE_MAX);
		break;
	case FILESET_TOO_DEEP:
		error_at(l, path, 1, 1, "directories nested more than %d deep; not read",
		    FILESET_DEPTH_MAX);
		break;
	case FILESET_UNREADABLE:
		error_at(l, path, 1, 1, "cannot be read (%s)", strerror(f->errnum));
		break;
	case FILESET_OTHER:
	default:
		error_at(l, path, 1, 1, "not a regular file");
		break;
	}
	return false;
}

static void
add_decl(struct loader *l, const struct yamldoc_node *root, const char *path)
{
	struct decl *d;

	if (l->ndecls == l->capdecls) {
		l->capdecls = l->capdecls == 0 ? 64 : l->capdecls * 2;
		l->decls = xreallocarray(l->decls, l->capdecls, sizeof(*l->decls));
	}
	d = &l->decls[l->ndecls];
	memset(d, 0, sizeof(*d));
	d->order = l->ndecls++;
	draft_parse(&d->d, root, DRAFT_FUNCTION, path, l->diags);
}

static void
read_functions(struct loader *l, const char *path, const struct yamldoc *y)
{
	const struct yamldoc_doc *doc;
	size_t i, documents = 0;

	for (i = 0; i < yamldoc_count(y); i++) {
		doc = yamldoc_get(y, i);
		if (doc->root == NULL)
			continue;
		documents++;
		if (doc->root->kind != YAMLDOC_MAPPING) {
			error_at(l, path, doc->root->line, doc->root->col,
			    "a function document must be a mapping, not %s",
			    yamldoc_describe(doc->root));
			continue;
		}
		add_decl(l, doc->root, path);
	}
	if (documents == 0)
		error_at(l, path, 1, 1, "empty file: no function document");
}

static void
read_overlay(struct loader *l, const char *path, const char *fspath, const struct yamldoc *y)
{
	const struct yamldoc_doc *doc, *first = NULL;
	struct overlay *o;
	char *name;
	size_t i;

	for (i = 0; i < yamldoc_count(y); i++) {
		doc = yamldoc_get(y, i);
		if (doc->root == NULL)
			continue;
		if (first != NULL) {
			error_at(l, path, doc->line, doc->col,
			    "an overlay file holds one document; this is a second one");
			return;
		}
		first = doc;
	}
	if (first == NULL) {
		error_at(l, path, 1, 1,
		    "empty overlay: expected a mapping with defaults: and/or functions:");
		return;
	}
	name = overlay_name_of(fspath);
	for (i = 0; i < l->noverlays; i++) {
		if (strcmp(l->overlays[i].name, name) == 0) {
			error_at(l, path, 1, 1, "environment \"%s\" is also defined by %s", name,
			    l->overlays[i].path);
			free(name);
			return;
		}
	}
	if (l->noverlays == l->capoverlays) {
		l->capoverlays = l->capoverlays == 0 ? 4 : l->capoverlays * 2;
		l->overlays = xreallocarray(l->overlays, l->capoverlays, sizeof(*l->overlays));
	}
	o = &l->overlays[l->noverlays++];
	overlay_parse(o, name, first->root, path, l->diags);
	free(name);
}

static void
read_file(struct loader *l, const struct fileset_file *f)
{
	struct yamldoc *y = NULL;
	const char *path;

	l->paths[l->npaths] = xasprintf("%s%s", l->prefix, f->path);
	path = l->paths[l->npaths++];
	if (!check_kind(l, path, f) || !check_text(l, path, f->data, f->len) ||
	    yamldoc_parse(&y, (const char *)f->data, f->len, path, l->diags) != 0) {
		if (strncmp(f->path, "functions/", 10) == 0)
			l->functions_unread = true;
		return;
	}
	if (strncmp(f->path, "functions/", 10) == 0)
		read_functions(l, path, y);
	else
		read_overlay(l, path, f->path, y);
	yamldoc_free(y);
}

/* A link, submodule, ... standing where a directory of desired files could be: readers
 * record it so that it is an error instead of a silently empty desired state. */
static bool
refused_dir(const struct fileset_file *f)
{
	return f->kind != FILESET_REGULAR &&
	       (strcmp(f->path, "functions") == 0 || strncmp(f->path, "functions/", 10) == 0 ||
	           strcmp(f->path, "environments") == 0);
}

static int
cmp_file(const void *a, const void *b)
{
	return strcmp((*(const struct fileset_file *const *)a)->path,
	    (*(const struct fileset_file *const *)b)->path);
}

static int
cmp_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * Every overlay's functions: must name functions that exist. Not when a functions/ file
 * could not be read: its functions are unknown, and "names no function" for each of them
 * would bury the one error that matters (the syntax error) under consequences.
 */
static void
check_overlay_names(struct loader *l)
{
	const char **names;
	const char *key, *near;
	const struct overlay_function *f;
	size_t i, j, n = 0, suggested = 0;

	if (l->functions_unread)
		return;
	names = xreallocarray(NULL, l->ndecls == 0 ? 1 : l->ndecls, sizeof(*names));
	for (i = 0; i < l->ndecls; i++) {
		if (l->decls[i].d.name != NULL)
			names[n++] = l->decls[i].d.name;
	}
	qsort(names, n, sizeof(*names), cmp_name);
	for (i = 0; i < l->noverlays; i++) {
		for (j = 0; j < l->overlays[i].nfunctions; j++) {
			f = &l->overlays[i].functions[j];
			key = f->name;
			if (n > 0 && bsearch(&key, names, n, sizeof(*names), cmp_name) != NULL)
				continue;
			/* Each suggestion compares with every function: a few are helpful,
			 * thousands would make the load quadratic in a hostile overlay. */
			near = suggested++ < LOAD_SUGGEST_MAX ? suggest(f->name, names, n) : NULL;
			if (near != NULL)
				error_at(l, f->pos.path, f->pos.line, f->pos.col,
				    "functions: \"%s\" names no function in functions/; did you "
				    "mean "
				    "\"%s\"?",
				    f->name, near);
			else
				error_at(l, f->pos.path, f->pos.line, f->pos.col,
				    "functions: \"%s\" names no function in functions/", f->name);
		}
	}
	free(names);
}

static const struct overlay *
select_overlay(struct loader *l)
{
	const char *names[64], *near;
	char known[512];
	size_t i, n = 0, len = 0;

	if (l->opts->env == NULL)
		return NULL;
	known[0] = '\0';
	for (i = 0; i < l->noverlays; i++) {
		if (strcmp(l->overlays[i].name, l->opts->env) == 0)
			return &l->overlays[i];
		if (n < nitems(names))
			names[n++] = l->overlays[i].name;
	}
	qsort(names, n, sizeof(*names), cmp_name);
	for (i = 0; i < n && len < sizeof(known); i++)
		len += (size_t)snprintf(
		    known + len, sizeof(known) - len, "%s%s", i > 0 ? ", " : "", names[i]);
	near = suggest(l->opts->env, names, n);
	if (near != NULL)
		error_at(l, "", 0, 0,
		    "unknown environment \"%s\": there is no environments/%s.yaml; did you mean "
		    "\"%s\"?",
		    l->opts->env, l->opts->env, near);
	else if (n > 0)
		error_at(l, "", 0, 0,
		    "unknown environment \"%s\": there is no environments/%s.yaml (there are: %s)",
		    l->opts->env, l->opts->env, known);
	else
		error_at(l, "", 0, 0,
		    "unknown environment \"%s\": there is no environments/%s.yaml (there are none)",
		    l->opts->env, l->opts->env);
	return NULL;
}

/* Region precedence: the function's own (or its ARN's) > the override > the overlay's
 * defaults > the caller's default. */
static void
resolve_region(struct loader *l, struct decl *c, const struct overlay *o,
    const struct overlay_function *of, bool report)
{
	struct draft *d = &c->d;
	const char *own = d->arn_region != NULL ? d->arn_region : d->region;

	if (of != NULL && draft_has(&of->override, DRAFT_REGION)) {
		if (own == NULL) {
			c->region = of->override.region;
			return;
		}
		if (strcmp(own, of->override.region) != 0)
			diags_add(l->diags, DIAG_WARNING, of->override.pos[DRAFT_REGION].path,
			    of->override.pos[DRAFT_REGION].line, of->override.pos[DRAFT_REGION].col,
			    "region %s is ignored: %s sets the function's own region (%s)",
			    of->override.region, d->pos_function.path, own);
	}
	if (own != NULL)
		c->region = own;
	else if (o != NULL && o->has_defaults && draft_has(&o->defaults, DRAFT_REGION))
		c->region = o->defaults.region;
	else
		c->region = l->opts->default_region;
	if (c->region == NULL && report)
		error_at(l, d->pos_function.path, d->pos_function.line, d->pos_function.col,
		    "function \"%s\" has no region: set region:, an environment's defaults, or "
		    "--region (AWS_REGION)",
		    d->name);
}

/* The identity of a layer without its version, to find one layer listed twice. */
static char *
layer_identity(const struct spec_layer *layer, const char *account, const char *region)
{
	struct names_arn arn;

	if (layer->arn == NULL)
		return xasprintf("%s", layer->name);
	if (names_layer_version_arn(layer->arn, &arn) && account != NULL &&
	    strcmp(arn.account, account) == 0 && strcmp(arn.region, region) == 0)
		return xasprintf("%s", arn.name);
	return xstrndup(layer->arn, (size_t)(strrchr(layer->arn, ':') - layer->arn));
}

static size_t
env_bytes(const struct draft *d)
{
	size_t i, total = 0;

	for (i = 0; i < d->nvars; i++)
		total += strlen(d->vars[i].key) + strlen(d->vars[i].value);
	return total;
}

/* Checks that need the merged values and the region. */
static void
check_merged(struct loader *l, struct decl *c, const char *account)
{
	struct draft *d = &c->d;
	const struct draft_pos *pos;
	struct names_arn arn;
	char *ids[SPEC_LAYERS_MAX];
	size_t i, j, total;

	if (draft_has(d, DRAFT_ENVIRONMENT)) {
		total = env_bytes(d);
		pos = &d->pos[DRAFT_ENVIRONMENT];
		if (total > DRAFT_ENV_BYTES_MAX) {
			error_at(l, pos->path, pos->line, pos->col,
			    "environment: function \"%s\" has %zu bytes of variables with its "
			    "overlay, over Lambda's limit of %d (keys and values)",
			    d->name, total, DRAFT_ENV_BYTES_MAX);
		}
	}
	pos = &d->pos[DRAFT_LAYERS];
	for (i = 0; i < d->nlayers; i++) {
		ids[i] = layer_identity(&d->layers[i], account, c->region);
		if (d->layers[i].arn != NULL && names_layer_version_arn(d->layers[i].arn, &arn) &&
		    strcmp(arn.region, c->region) != 0) {
			error_at(l, pos->path, pos->line, pos->col,
			    "layers[%zu]: the layer is in %s and function \"%s\" in %s; Lambda "
			    "needs them in one region",
			    i, arn.region, d->name, c->region);
		}
		for (j = 0; j < i; j++) {
			if (strcmp(ids[i], ids[j]) == 0) {
				error_at(l, pos->path, pos->line, pos->col,
				    "layers[%zu]: the same layer as layers[%zu]; Lambda takes one "
				    "version of a layer",
				    i, j);
				break;
			}
		}
	}
	for (i = 0; i < d->nlayers; i++)
		free(ids[i]);
	(void)draft_check_runtime(d, l->diags);
}

static void
resolve(struct loader *l, const struct overlay *o)
{
	const struct overlay_function *of;
	struct decl *c;
	size_t i;
	bool overlay_ok = o == NULL || o->errors == 0, image, own_runtime;

	for (i = 0; i < l->ndecls; i++) {
		c = &l->decls[i];
		if (c->d.name == NULL)
			continue;
		of = o != NULL ? overlay_find(o, c->d.name) : NULL;
		/* A missing region is only news when nothing else is wrong with the function:
		 * an invalid region: is already reported. */
		resolve_region(l, c, o, of, c->d.errors == 0 && overlay_ok);
		/* A function or overlay with errors is not merged: what it would become is
		 * unknown, and guessing only adds confusing follow-on errors. */
		if (c->d.errors > 0 || !overlay_ok || c->region == NULL)
			continue;
		image = of != NULL && draft_has(&of->override, DRAFT_CODE)
		            ? of->override.code.kind == SPEC_CODE_IMAGE
		            : c->d.code.kind == SPEC_CODE_IMAGE;
		own_runtime = draft_has(&c->d, DRAFT_RUNTIME);
		if (o != NULL && o->has_defaults)
			draft_merge(&c->d, &o->defaults, false);
		/* A fleet's default runtime is for its zip functions: an image function has
		 * none, and does not take it (writing one itself is an error). */
		if (image && !own_runtime && draft_has(&c->d, DRAFT_RUNTIME)) {
			c->d.present &= ~(1u << DRAFT_RUNTIME);
			free(c->d.runtime);
			c->d.runtime = NULL;
		}
		if (of != NULL)
			draft_merge(&c->d, &of->override, true);
		check_merged(l, c, c->d.account != NULL ? c->d.account : l->opts->account);
	}
}

static int
cmp_decl(const void *a, const void *b)
{
	const struct decl *x = *(const struct decl *const *)a, *y = *(const struct decl *const *)b;
	int c;

	c = strcmp(x->region, y->region);
	if (c == 0)
		c = strcmp(x->d.name, y->d.name);
	if (c == 0)
		c = (x->order > y->order) - (x->order < y->order);
	return c;
}

/* A function (name, region) declared twice is an error at every declaration. */
static void
check_duplicates(struct loader *l)
{
	struct decl **v;
	const struct draft_pos *first, *second, *p;
	size_t i, j, n = 0;

	v = xreallocarray(NULL, l->ndecls == 0 ? 1 : l->ndecls, sizeof(*v));
	for (i = 0; i < l->ndecls; i++) {
		if (l->decls[i].d.name != NULL && l->decls[i].region != NULL)
			v[n++] = &l->decls[i];
	}
	qsort(v, n, sizeof(*v), cmp_decl);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && strcmp(v[j]->region, v[i]->region) == 0 &&
		                strcmp(v[j]->d.name, v[i]->d.name) == 0;
		     j++)
			;
		if (j - i == 1)
			continue;
		first = &v[i]->d.pos_function;
		second = &v[i + 1]->d.pos_function;
		error_at(l, first->path, first->line, first->col,
		    "function \"%s\" in %s is declared again at %s:%d:%d", v[i]->d.name,
		    v[i]->region, second->path, second->line, second->col);
		for (size_t k = i + 1; k < j; k++) {
			p = &v[k]->d.pos_function;
			error_at(l, p->path, p->line, p->col,
			    "function \"%s\" in %s is already declared at %s:%d:%d", v[k]->d.name,
			    v[k]->region, first->path, first->line, first->col);
		}
	}
	free(v);
}

static int
cmp_kv(const void *a, const void *b)
{
	return strcmp(((const struct spec_kv *)a)->key, ((const struct spec_kv *)b)->key);
}

static int
cmp_alias(const void *a, const void *b)
{
	return strcmp(((const struct spec_alias *)a)->name, ((const struct spec_alias *)b)->name);
}

static int
cmp_function(const void *a, const void *b)
{
	const struct spec_function *x = a, *y = b;
	int c = strcmp(x->region, y->region);

	return c != 0 ? c : strcmp(x->name, y->name);
}

/* Move a checked declaration's values into a spec function. */
static void
build_function(struct loader *l, struct decl *c, struct spec_function *f)
{
	struct draft *d = &c->d;
	size_t i;

	memset(f, 0, sizeof(*f));
	f->name = d->name;
	f->arn = d->arn;
	f->account = d->account != NULL         ? d->account
	             : l->opts->account != NULL ? xstrdup(l->opts->account)
	                                        : NULL;
	f->region = xstrdup(c->region);
	f->code = d->code;
	f->has_layers = draft_has(d, DRAFT_LAYERS);
	memcpy(f->layers, d->layers, sizeof(f->layers));
	f->nlayers = d->nlayers;
	f->has_memory = draft_has(d, DRAFT_MEMORY);
	f->memory = d->memory;
	f->has_timeout = draft_has(d, DRAFT_TIMEOUT);
	f->timeout = d->timeout;
	f->has_environment = draft_has(d, DRAFT_ENVIRONMENT);
	if (f->has_environment) {
		f->environment =
		    xreallocarray(NULL, d->nvars == 0 ? 1 : d->nvars, sizeof(*f->environment));
		for (i = 0; i < d->nvars; i++) {
			f->environment[i].key = d->vars[i].key;
			f->environment[i].value = d->vars[i].value;
		}
		f->nenvironment = d->nvars;
		qsort(f->environment, f->nenvironment, sizeof(*f->environment), cmp_kv);
	} else {
		for (i = 0; i < d->nvars; i++) {
			free(d->vars[i].key);
			free(d->vars[i].value);
		}
	}
	f->has_description = draft_has(d, DRAFT_DESCRIPTION);
	f->description = d->description;
	f->has_role = draft_has(d, DRAFT_ROLE);
	f->role = d->role;
	f->has_handler = draft_has(d, DRAFT_HANDLER);
	f->handler = d->handler;
	f->has_runtime = draft_has(d, DRAFT_RUNTIME);
	f->runtime = d->runtime;
	f->has_smoke_test = draft_has(d, DRAFT_SMOKE_TEST);
	f->smoke_test = d->smoke;
	if (d->naliases > 0) {
		f->aliases = xreallocarray(NULL, d->naliases, sizeof(*f->aliases));
		for (i = 0; i < d->naliases; i++)
			f->aliases[i] = d->aliases[i].alias;
		f->naliases = d->naliases;
		qsort(f->aliases, f->naliases, sizeof(*f->aliases), cmp_alias);
	}
	f->has_retain = draft_has(d, DRAFT_RETAIN);
	f->retain = d->retain;
	f->mode = draft_has(d, DRAFT_MODE) ? d->mode : SPEC_MODE_ENFORCE;
	f->source_path = xstrdup(d->pos_function.path);
	f->source_line = d->pos_function.line;
	/* Everything was moved; what is left (the arrays themselves) is the draft's. */
	free(d->vars);
	free(d->aliases);
	free(d->region);
	free(d->arn_region);
	memset(d, 0, sizeof(*d));
}

static void
build(struct loader *l, struct spec *out)
{
	size_t i;

	out->functions =
	    xreallocarray(NULL, l->ndecls == 0 ? 1 : l->ndecls, sizeof(*out->functions));
	for (i = 0; i < l->ndecls; i++)
		build_function(l, &l->decls[i], &out->functions[out->n++]);
	qsort(out->functions, out->n, sizeof(*out->functions), cmp_function);
	out->environment = l->opts->env != NULL ? xstrdup(l->opts->env) : NULL;
}

static int
cmp_diag_text(const void *a, const void *b)
{
	const struct diag *x = *(const struct diag *const *)a, *y = *(const struct diag *const *)b;
	int c;

	c = strcmp(x->path, y->path);
	if (c == 0 && x->line != y->line)
		c = x->line < y->line ? -1 : 1;
	if (c == 0 && x->col != y->col)
		c = x->col < y->col ? -1 : 1;
	if (c == 0 && x->severity != y->severity)
		c = x->severity < y->severity ? -1 : 1;
	if (c == 0)
		c = strcmp(x->message, y->message);
	if (c == 0)
		c = (x->order > y->order) - (x->order < y->order);
	return c;
}

/*
 * A node reached through several aliases is checked once per use; say each problem once.
 * Only the diagnostics added by this load (from start) are considered, and the order of
 * those kept does not change.
 */
static void
dedupe(struct diags *d, size_t start)
{
	struct diag **v;
	bool *drop;
	const struct diag *x, *y;
	size_t i, j, n = d->n - start;

	if (n < 2 || d->truncated)
		return;
	v = xreallocarray(NULL, n, sizeof(*v));
	drop = xcalloc(n, sizeof(*drop));
	for (i = 0; i < n; i++)
		v[i] = &d->items[start + i];
	qsort(v, n, sizeof(*v), cmp_diag_text);
	/* Sorted, equal diagnostics are neighbours, the first found first. */
	for (i = 1; i < n; i++) {
		x = v[i - 1];
		y = v[i];
		if (x->severity == y->severity && x->line == y->line && x->col == y->col &&
		    strcmp(x->path, y->path) == 0 && strcmp(x->message, y->message) == 0)
			drop[y - &d->items[start]] = true;
	}
	free(v);
	for (i = 0, j = start; i < n; i++) {
		if (drop[i]) {
			if (d->items[start + i].severity == DIAG_ERROR)
				d->errors--;
			else
				d->warnings--;
			free(d->items[start + i].path);
			free(d->items[start + i].message);
			continue;
		}
		d->items[j++] = d->items[start + i];
	}
	d->n = j;
	free(drop);
}

int
load_desired(
    const struct fileset *fs, const struct load_opts *opts, struct spec *out, struct diags *diags)
{
	static const struct load_opts defaults = LOAD_OPTS_INIT;
	struct loader l;
	const struct fileset_file **files;
	const struct overlay *o;
	size_t i, n = 0, start = diags->n, errors = diags->errors;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	memset(&l, 0, sizeof(l));
	l.opts = opts != NULL ? opts : &defaults;
	l.diags = diags;
	l.prefix = l.opts->display_prefix != NULL ? l.opts->display_prefix : "";
	if (l.prefix[0] != '\0' && l.prefix[strlen(l.prefix) - 1] != '/') {
		l.prefix_owned = xasprintf("%s/", l.prefix);
		l.prefix = l.prefix_owned;
	}
	if (l.opts->default_region != NULL && !names_region(l.opts->default_region))
		error_at(&l, "", 0, 0,
		    "default region \"%s\" is not a region name (such as us-east-1)",
		    l.opts->default_region);
	if (l.opts->account != NULL &&
	    (strlen(l.opts->account) != 12 || strspn(l.opts->account, "0123456789") != 12))
		error_at(&l, "", 0, 0, "account \"%s\" is not a 12-digit AWS account id",
		    l.opts->account);

	/* Paths in order, so diagnostics and declaration order do not depend on the reader. */
	files = xreallocarray(NULL, fs->n == 0 ? 1 : fs->n, sizeof(*files));
	for (i = 0; i < fs->n; i++) {
		if (fileset_wants(fs->files[i].path) || refused_dir(&fs->files[i]))
			files[n++] = &fs->files[i];
	}
	qsort(files, n, sizeof(*files), cmp_file);
	l.paths = xreallocarray(NULL, n == 0 ? 1 : n, sizeof(*l.paths));
	for (i = 0; i < n; i++)
		read_file(&l, files[i]);
	free(files);

	check_overlay_names(&l);
	o = select_overlay(&l);
	resolve(&l, o);
	check_duplicates(&l);
	if (diags->errors == errors && l.ndecls == 0)
		diags_add(diags, DIAG_WARNING, "", 0, 0,
		    "no function is declared: there is no document under functions/");

	dedupe(diags, start);
	if (diags->errors != errors) {
		rc = ERR_INVALID;
		goto out;
	}
	build(&l, out);
out:
	for (i = 0; i < l.ndecls; i++)
		draft_clear(&l.decls[i].d);
	free(l.decls);
	for (i = 0; i < l.noverlays; i++)
		overlay_clear(&l.overlays[i]);
	free(l.overlays);
	for (i = 0; i < l.npaths; i++)
		free(l.paths[i]);
	free(l.paths);
	free(l.prefix_owned);
	return rc;
}
