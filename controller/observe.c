#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/xmalloc.h"
#include "controller/observe.h"

/* What was read about one function. */
struct observed {
	struct observe *o;
	char *name;
	bool have_latest;
	struct lambda_function latest;
	struct lambda_function *versions;
	size_t nversions;
	struct lambda_alias *aliases;
	size_t naliases;
	struct err err; /* the first read that failed for this function */
};

struct observe {
	struct session *session;
	struct observed *fns;
	size_t nfns;
	size_t pending; /* reads in flight */
	struct err err; /* the first failure overall */
};

static void
fail(struct observe *o, struct observed *f, const struct err *e)
{
	if (f != NULL && f->err.code == 0)
		err_copy(&f->err, e);
	if (o->err.code == 0) {
		err_copy(&o->err, e);
		if (f != NULL)
			err_set(&o->err, e->code, "%s: %s", f->name, e->message);
	}
}

static void
read_done(struct observe *o)
{
	if (--o->pending == 0)
		ev_break(session_loop(o->session), EVBREAK_ONE);
}

static void
latest_cb(const struct lambda_function *fn, const struct err *e, void *arg)
{
	struct observed *f = arg;

	if (e != NULL) {
		fail(f->o, f, e);
	} else {
		lambda_function_copy(&f->latest, fn);
		f->have_latest = true;
	}
	read_done(f->o);
}

static void
versions_cb(const struct lambda_function_page *page, const struct err *e, void *arg)
{
	struct observed *f = arg;
	size_t i;

	if (e != NULL) {
		fail(f->o, f, e);
	} else {
		f->versions = xcalloc(page->n, sizeof(*f->versions));
		for (i = 0; i < page->n; i++) {
			/*
			 * $LATEST comes first; it is shown from GetFunction, which has more. A
			 * response may leave any member out, Version included.
			 */
			if (page->items[i].version == NULL ||
			    strcmp(page->items[i].version, "$LATEST") != 0)
				lambda_function_copy(&f->versions[f->nversions++], &page->items[i]);
		}
	}
	read_done(f->o);
}

static void
aliases_cb(const struct lambda_alias_page *page, const struct err *e, void *arg)
{
	struct observed *f = arg;
	size_t i;

	if (e != NULL) {
		fail(f->o, f, e);
	} else {
		f->aliases = xcalloc(page->n, sizeof(*f->aliases));
		for (i = 0; i < page->n; i++)
			lambda_alias_copy(&f->aliases[i], &page->items[i]);
		f->naliases = page->n;
	}
	read_done(f->o);
}

static void
start_reads(struct observe *o, struct observed *f)
{
	struct lambda_client *c = session_lambda(o->session);
	struct err e = ERR_INIT;

	f->o = o;
	if (lambda_client_get_function(c, f->name, NULL, latest_cb, f, NULL, &e) == 0)
		o->pending++;
	else
		fail(o, f, &e);
	if (lambda_client_list_versions_all(c, f->name, versions_cb, f, NULL, &e) == 0)
		o->pending++;
	else
		fail(o, f, &e);
	if (lambda_client_list_aliases_all(c, f->name, NULL, aliases_cb, f, NULL, &e) == 0)
		o->pending++;
	else
		fail(o, f, &e);
}

static int
cmp_observed(const void *a, const void *b)
{
	return strcmp(((const struct observed *)a)->name, ((const struct observed *)b)->name);
}

static void
list_cb(const struct lambda_function_page *page, const struct err *e, void *arg)
{
	struct observe *o = arg;
	struct err nameless = ERR_INIT;
	size_t i;

	if (e != NULL) {
		fail(o, NULL, e);
	} else {
		o->fns = xcalloc(page->n, sizeof(*o->fns));
		for (i = 0; i < page->n; i++) {
			/* Nothing can be read about a function without a name: report it. */
			if (page->items[i].name == NULL) {
				err_set(&nameless, ERR_FAIL,
				    "ListFunctions returned a function without a FunctionName");
				fail(o, NULL, &nameless);
				continue;
			}
			o->fns[o->nfns++].name = xstrdup(page->items[i].name);
		}
		qsort(o->fns, o->nfns, sizeof(*o->fns), cmp_observed);
		for (i = 0; i < o->nfns; i++)
			start_reads(o, &o->fns[i]);
	}
	read_done(o);
}

static json_t *
jstr(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

static json_t *
function_json(const struct lambda_function *fn, bool latest)
{
	json_t *j, *layers, *env;
	size_t i;

	j = json_object();
	json_object_set_new(j, "version", jstr(fn->version));
	json_object_set_new(j, "package_type", jstr(fn->package_type));
	json_object_set_new(j, "image_uri", jstr(fn->image_uri));
	json_object_set_new(j, "resolved_image_uri", jstr(fn->resolved_image_uri));
	json_object_set_new(j, "code_sha256", jstr(fn->code_sha256));
	json_object_set_new(j, "description", jstr(fn->description));
	json_object_set_new(j, "revision_id", jstr(fn->revision_id));
	json_object_set_new(j, "memory", json_integer(fn->memory));
	json_object_set_new(j, "timeout", json_integer(fn->timeout));
	json_object_set_new(j, "role", jstr(fn->role));
	json_object_set_new(j, "handler", jstr(fn->handler));
	layers = json_array();
	for (i = 0; i < fn->nlayers; i++)
		json_array_append_new(layers, jstr(fn->layers[i].arn));
	json_object_set_new(j, "layers", layers);
	if (fn->has_environment) {
		env = json_object();
		for (i = 0; i < fn->nenvironment; i++)
			json_object_set_new(
			    env, fn->environment[i].key, jstr(fn->environment[i].value));
		json_object_set_new(j, "environment", env);
	}
	if (latest) {
		json_object_set_new(j, "state", jstr(fn->state_name));
		json_object_set_new(j, "last_update_status", jstr(fn->last_update_status_name));
		json_object_set_new(j, "last_modified", jstr(fn->last_modified));
	}
	return j;
}

static void
print_json(const struct observe *o, FILE *out)
{
	json_t *root, *fns, *f, *vs, *as, *a;
	const struct observed *ob;
	size_t i, k;
	char *text;

	root = json_object();
	json_object_set_new(root, "region", json_string(session_region(o->session)));
	json_object_set_new(root, "endpoint", json_string(session_endpoint(o->session)));
	fns = json_array();
	for (i = 0; i < o->nfns; i++) {
		ob = &o->fns[i];
		f = json_object();
		json_object_set_new(f, "name", json_string(ob->name));
		if (ob->err.code != 0) {
			json_object_set_new(f, "error", json_string(ob->err.message));
			json_object_set_new(f, "error_type", jstr(ob->err.type));
		}
		if (ob->have_latest) {
			json_object_set_new(f, "arn", jstr(ob->latest.arn));
			json_object_set_new(f, "latest", function_json(&ob->latest, true));
		}
		vs = json_array();
		for (k = 0; k < ob->nversions; k++)
			json_array_append_new(vs, function_json(&ob->versions[k], false));
		json_object_set_new(f, "versions", vs);
		as = json_array();
		for (k = 0; k < ob->naliases; k++) {
			a = json_object();
			json_object_set_new(a, "name", jstr(ob->aliases[k].name));
			json_object_set_new(a, "version", jstr(ob->aliases[k].function_version));
			if (ob->aliases[k].routing_version != NULL) {
				json_object_set_new(
				    a, "routing_version", jstr(ob->aliases[k].routing_version));
				json_object_set_new(
				    a, "routing_weight", json_real(ob->aliases[k].routing_weight));
			}
			json_object_set_new(a, "description", jstr(ob->aliases[k].description));
			json_object_set_new(a, "revision_id", jstr(ob->aliases[k].revision_id));
			json_array_append_new(as, a);
		}
		json_object_set_new(f, "aliases", as);
		json_array_append_new(fns, f);
	}
	json_object_set_new(root, "functions", fns);
	text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
	fprintf(out, "%s\n", text);
	free(text);
	json_decref(root);
}

/* A member the response left out prints as "-". */
static const char *
text_of(const char *s)
{
	return s != NULL ? s : "-";
}

static const char *
code_of(const struct lambda_function *fn)
{
	if (fn->image_uri != NULL)
		return fn->image_uri;
	return fn->code_sha256 != NULL ? fn->code_sha256 : "-";
}

static void
print_text(const struct observe *o, FILE *out)
{
	const struct observed *ob;
	const struct lambda_function *v;
	const struct lambda_alias *a;
	size_t i, k;

	for (i = 0; i < o->nfns; i++) {
		ob = &o->fns[i];
		fprintf(out, "%s%s\n", i > 0 ? "\n" : "", ob->name);
		if (ob->err.code != 0)
			fprintf(out, "  error: %s\n", ob->err.message);
		if (ob->have_latest) {
			v = &ob->latest;
			fprintf(out,
			    "  $LATEST   %s %s  state=%s/%s  memory=%d timeout=%d layers=%zu\n",
			    v->package_type != NULL ? v->package_type : "-", code_of(v),
			    v->state_name != NULL ? v->state_name : "-",
			    v->last_update_status_name != NULL ? v->last_update_status_name : "-",
			    v->memory, v->timeout, v->nlayers);
			for (k = 0; k < v->nlayers; k++)
				fprintf(out, "            layer %s\n", v->layers[k].arn);
		}
		for (k = 0; k < ob->nversions; k++) {
			v = &ob->versions[k];
			fprintf(out, "  version %-4s %s  \"%s\"\n", text_of(v->version), code_of(v),
			    v->description != NULL ? v->description : "");
		}
		for (k = 0; k < ob->naliases; k++) {
			a = &ob->aliases[k];
			fprintf(out, "  alias %s -> %s", text_of(a->name),
			    text_of(a->function_version));
			if (a->routing_version != NULL)
				fprintf(out, " (%.0f%% -> %s)", a->routing_weight * 100.0,
				    a->routing_version);
			fputc('\n', out);
		}
	}
}

int
observe_run(struct session *s, const struct observe_opts *opts, struct err *err)
{
	struct observe o;
	struct err e = ERR_INIT;
	size_t i, k;

	memset(&o, 0, sizeof(o));
	o.session = s;
	if (opts->nfunctions == 0) {
		if (lambda_client_list_functions_all(
		        session_lambda(s), false, list_cb, &o, NULL, &e) == 0)
			o.pending++;
		else
			fail(&o, NULL, &e);
	} else {
		o.fns = xcalloc(opts->nfunctions, sizeof(*o.fns));
		o.nfns = opts->nfunctions;
		for (i = 0; i < o.nfns; i++)
			o.fns[i].name = xstrdup(opts->functions[i]);
		for (i = 0; i < o.nfns; i++)
			start_reads(&o, &o.fns[i]);
	}
	if (o.pending > 0)
		ev_run(session_loop(s), 0);
	if (opts->json)
		print_json(&o, opts->out);
	else
		print_text(&o, opts->out);
	for (i = 0; i < o.nfns; i++) {
		free(o.fns[i].name);
		lambda_function_clear(&o.fns[i].latest);
		for (k = 0; k < o.fns[i].nversions; k++)
			lambda_function_clear(&o.fns[i].versions[k]);
		free(o.fns[i].versions);
		for (k = 0; k < o.fns[i].naliases; k++)
			lambda_alias_clear(&o.fns[i].aliases[k]);
		free(o.fns[i].aliases);
	}
	free(o.fns);
	err_copy(err, &o.err);
	return o.err.code;
}
