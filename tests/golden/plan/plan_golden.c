/*
 * The plan golden runner: for each case folder, load the desired state (functions/,
 * environments/) with the real loader, load observed.json with observed_load_json(), run
 * plan_build() and compare plan_print_text()'s output, followed by "# exit N" (0 in sync,
 * 2 changes pending, as `tether plan` exits), with expected.txt; when expected.json exists,
 * compare plan_print_json()'s output with it as JSON values.
 *
 * observed.json may name digests by placeholder, computed here from the desired state so a
 * case never goes stale when the canonical form changes:
 *   {{digest:NAME}}               first 12 hex of NAME's digest in the case's desired state
 *   {{digest:previous:NAME}}      the same in previous/ (an older commit, for reverts)
 *   {{fulldigest:NAME}}, {{fulldigest:previous:NAME}}   all 64 hex (quarantine entries)
 * The account used is the one observed.json gives the function (its arn or account).
 * expected.txt and expected.json may use the same placeholders; --regenerate writes them.
 *
 * Usage: plan_golden [--regenerate] CASE_DIR...
 *   --regenerate  write expected.txt (and expected.json when present) instead of comparing.
 * Exit status: 0 when every case matches, 1 otherwise.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "common/buf.h"
#include "common/xmalloc.h"
#include "gitwatch/source.h"
#include "reconcile/load.h"
#include "reconcile/observed.h"
#include "reconcile/plan.h"

#define CASE_FILE_MAX (4 * 1024 * 1024)
#define ARGS_MAX 8

static char *
read_file(const char *dir, const char *name, bool optional)
{
	struct buf b = BUF_INIT(CASE_FILE_MAX);
	char path[4096], chunk[8192];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (f == NULL) {
		if (!optional || errno != ENOENT)
			fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return NULL;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (buf_append(&b, chunk, n) != 0) {
			fprintf(stderr, "%s: over %d bytes\n", path, CASE_FILE_MAX);
			fclose(f);
			buf_free(&b);
			return NULL;
		}
	}
	fclose(f);
	return buf_detach(&b, NULL);
}

static int
write_file(const char *dir, const char *name, const char *text)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

static bool
is_dir(const char *dir, const char *name)
{
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

struct case_args {
	char *env;
	char *region;
	char *words; /* storage for the two above */
};

/* The optional `args` file: "--env ENV", "--region REGION". */
static int
parse_args(const char *dir, struct case_args *out)
{
	char *p, *w[ARGS_MAX];
	size_t n = 0, i;

	memset(out, 0, sizeof(*out));
	out->words = read_file(dir, "args", true);
	if (out->words == NULL)
		return 0;
	for (p = out->words; *p != '\0' && n < ARGS_MAX;) {
		p += strspn(p, " \t\r\n");
		if (*p == '\0')
			break;
		w[n++] = p;
		p += strcspn(p, " \t\r\n");
		if (*p != '\0')
			*p++ = '\0';
	}
	for (i = 0; i < n; i++) {
		if (strcmp(w[i], "--env") == 0 && i + 1 < n) {
			out->env = w[++i];
		} else if (strcmp(w[i], "--region") == 0 && i + 1 < n) {
			out->region = w[++i];
		} else {
			fprintf(stderr, "%s/args: unknown argument %s\n", dir, w[i]);
			return -1;
		}
	}
	return 0;
}

static int
load_tree(const char *dir, const struct case_args *args, struct spec *out)
{
	struct fileset fs = FILESET_INIT;
	struct diags diags = DIAGS_INIT;
	struct load_opts opts = LOAD_OPTS_INIT;
	struct err err = ERR_INIT;
	int rc;

	if (source_read_dir(dir, NULL, &fs, &err) != 0) {
		fprintf(stderr, "%s: %s\n", dir, err.message);
		return -1;
	}
	opts.env = args->env;
	opts.default_region = args->region != NULL ? args->region : "us-east-1";
	rc = load_desired(&fs, &opts, out, &diags);
	if (rc != 0) {
		fprintf(stderr, "%s: the desired state does not load:\n", dir);
		diags_sort(&diags);
		diags_print(&diags, stderr);
	}
	diags_free(&diags);
	fileset_free(&fs);
	return rc != 0 ? -1 : 0;
}

/* The account observed.json gives a function, or NULL. */
static const char *
account_of(const struct obs_function *fns, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcmp(fns[i].name, name) == 0)
			return fns[i].account;
	}
	return NULL;
}

/* The placeholders a case may use, and what they stand for. */
struct subst {
	char key[300]; /* "{{digest:previous:orders-api}}" */
	char value[CRYPTO_SHA256_HEX_LEN + 1];
};

struct substs {
	struct subst *v;
	size_t n;
};

static void
substs_add_tree(struct substs *t, const struct spec *s, const char *prefix,
    const struct obs_function *fns, size_t nfns)
{
	const struct spec_function *f;
	char digest[CRYPTO_SHA256_HEX_LEN + 1];
	struct err err = ERR_INIT;
	size_t i;

	for (i = 0; i < s->n; i++) {
		f = &s->functions[i];
		/* A layer by name needs an account: without one the function has no digest,
		 * and a placeholder naming it is reported as unknown. */
		if (spec_digest(f, account_of(fns, nfns, f->name), digest, &err) != 0)
			continue;
		t->v = xreallocarray(t->v, t->n + 2, sizeof(*t->v));
		snprintf(
		    t->v[t->n].key, sizeof(t->v[t->n].key), "{{fulldigest:%s%s}}", prefix, f->name);
		snprintf(t->v[t->n].value, sizeof(t->v[t->n].value), "%s", digest);
		snprintf(t->v[t->n + 1].key, sizeof(t->v[t->n + 1].key), "{{digest:%s%s}}", prefix,
		    f->name);
		snprintf(t->v[t->n + 1].value, sizeof(t->v[t->n + 1].value), "%.*s",
		    SPEC_DIGEST_SHORT, digest);
		t->n += 2;
	}
}

/* Replace every placeholder in text. Returns the new text, or NULL. */
static char *
substitute(const char *text, const struct substs *t)
{
	struct buf b = BUF_INIT(CASE_FILE_MAX);
	const char *p = text, *open, *close;
	size_t i, len;

	while ((open = strstr(p, "{{")) != NULL) {
		buf_append(&b, p, (size_t)(open - p));
		close = strstr(open, "}}");
		if (close == NULL) {
			fprintf(stderr, "unterminated {{\n");
			goto fail;
		}
		len = (size_t)(close + 2 - open);
		for (i = 0; i < t->n; i++) {
			if (strlen(t->v[i].key) == len && strncmp(t->v[i].key, open, len) == 0)
				break;
		}
		if (i == t->n) {
			fprintf(stderr,
			    "unknown placeholder %.*s (no such function, or no "
			    "previous/ tree)\n",
			    (int)len, open);
			goto fail;
		}
		buf_puts(&b, t->v[i].value);
		p = close + 2;
	}
	if (buf_puts(&b, p) != 0) {
		fprintf(stderr, "over %d bytes\n", CASE_FILE_MAX);
		goto fail;
	}
	return buf_detach(&b, NULL);
fail:
	buf_free(&b);
	return NULL;
}

/* The reverse, for --regenerate: digests back to their placeholders (full ones first,
 * since a short digest is a prefix of its full one). */
static char *
unsubstitute(const char *text, const struct substs *t)
{
	struct buf b = BUF_INIT(CASE_FILE_MAX);
	const char *p = text;
	size_t i, pass, vlen;
	bool hit;

	while (*p != '\0') {
		hit = false;
		for (pass = 0; pass < 2 && !hit; pass++) {
			for (i = pass; i < t->n; i += 2) {
				vlen = strlen(t->v[i].value);
				if (strncmp(p, t->v[i].value, vlen) == 0) {
					buf_puts(&b, t->v[i].key);
					p += vlen;
					hit = true;
					break;
				}
			}
		}
		if (!hit)
			buf_putc(&b, *p++);
	}
	return buf_detach(&b, NULL);
}

static int
parse_ctx(const char *text, struct plan_ctx *ctx, char **commit, char **ref)
{
	json_t *root, *c, *v;
	int rc = -1;

	*commit = NULL;
	*ref = NULL;
	root = json_loads(text, 0, NULL);
	c = root != NULL ? json_object_get(root, "ctx") : NULL;
	if (c == NULL || !json_is_object(c)) {
		fprintf(stderr, "observed.json: ctx: expected an object {now, commit, ref}\n");
		goto out;
	}
	v = json_object_get(c, "now");
	if (!json_is_integer(v)) {
		fprintf(stderr, "observed.json: ctx.now: expected an integer (epoch seconds)\n");
		goto out;
	}
	ctx->now = (long)json_integer_value(v);
	v = json_object_get(c, "commit");
	if (v != NULL && !json_is_string(v)) {
		fprintf(stderr, "observed.json: ctx.commit: expected a string\n");
		goto out;
	}
	*commit = v != NULL ? xstrdup(json_string_value(v)) : NULL;
	v = json_object_get(c, "ref");
	if (v != NULL && !json_is_null(v) && !json_is_string(v)) {
		fprintf(stderr, "observed.json: ctx.ref: expected a string\n");
		goto out;
	}
	*ref = json_is_string(v) ? xstrdup(json_string_value(v)) : NULL;
	ctx->commit = *commit;
	ctx->ref = *ref;
	rc = 0;
out:
	json_decref(root);
	return rc;
}

static void
free_obs(struct obs_function *fns, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		obs_function_clear(&fns[i]);
	free(fns);
}

/* Print both texts, marking the first line that differs. */
static void
show_difference(const char *dir, const char *what, const char *got, const char *want)
{
	const char *g = got, *w = want;
	int line = 1;

	while (*g != '\0' && *g == *w) {
		if (*g == '\n')
			line++;
		g++;
		w++;
	}
	fprintf(stderr, "%s: %s differs from line %d\n--- expected\n%s--- got\n%s---\n", dir, what,
	    line, want, got);
}

static char *
plan_output(const struct plan *p, bool json)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);

	if (mem == NULL)
		abort();
	if (json) {
		plan_print_json(p, mem);
	} else {
		plan_print_text(p, mem);
		fprintf(mem, "# exit %d\n", plan_in_sync(p) ? 0 : 2);
	}
	fclose(mem);
	return text;
}

/* Read an expected file with its placeholders replaced; NULL when it does not exist. */
static char *
read_expected(const char *dir, const char *name, const struct substs *t, bool *bad)
{
	char *raw = read_file(dir, name, true), *s;

	if (raw == NULL)
		return NULL;
	s = substitute(raw, t);
	if (s == NULL) {
		fprintf(stderr, "%s/%s: cannot substitute placeholders\n", dir, name);
		*bad = true;
	}
	free(raw);
	return s;
}

/* Write got back with placeholders; JSON indented, so a diff of it reads well. */
static int
regenerate_file(
    const char *dir, const char *name, const char *got, const struct substs *t, bool json)
{
	json_t *v = NULL;
	char *pretty = NULL, *s;
	int rc;

	if (json) {
		v = json_loads(got, 0, NULL);
		pretty = v != NULL ? json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
		json_decref(v);
		if (pretty == NULL) {
			fprintf(stderr, "%s/%s: the plan JSON does not parse\n", dir, name);
			return -1;
		}
	}
	s = unsubstitute(pretty != NULL ? pretty : got, t);
	if (json) {
		free(pretty);
		pretty = xasprintf("%s\n", s);
		free(s);
		s = pretty;
	}
	rc = write_file(dir, name, s);
	free(s);
	return rc;
}

static int
run_case(const char *dir, bool regenerate)
{
	struct case_args args;
	struct spec cur = SPEC_INIT, prev = SPEC_INIT;
	struct obs_function *raw = NULL, *fns = NULL;
	size_t nraw = 0, nfns = 0;
	struct substs t = {NULL, 0};
	struct plan p = PLAN_INIT;
	struct plan_ctx ctx = {0, NULL, NULL};
	struct err err = ERR_INIT;
	char *observed = NULL, *text = NULL, *commit = NULL, *ref = NULL, *got = NULL;
	char *want = NULL, *gotj = NULL, *wantj = NULL, path[4096];
	bool has_json, bad = false;
	json_t *a = NULL, *b = NULL;
	int rc = -1;

	if (parse_args(dir, &args) != 0 || load_tree(dir, &args, &cur) != 0)
		goto out;
	if (is_dir(dir, "previous")) {
		snprintf(path, sizeof(path), "%s/previous", dir);
		if (load_tree(path, &args, &prev) != 0)
			goto out;
	}
	observed = read_file(dir, "observed.json", false);
	if (observed == NULL)
		goto out;
	/* First pass: the accounts the placeholders' digests need. */
	if (observed_load_json(observed, strlen(observed), &raw, &nraw, &err) != 0) {
		fprintf(stderr, "%s/observed.json: %s\n", dir, err.message);
		goto out;
	}
	substs_add_tree(&t, &cur, "", raw, nraw);
	substs_add_tree(&t, &prev, "previous:", raw, nraw);
	text = substitute(observed, &t);
	if (text == NULL) {
		fprintf(stderr, "%s/observed.json: cannot substitute placeholders\n", dir);
		goto out;
	}
	if (observed_load_json(text, strlen(text), &fns, &nfns, &err) != 0) {
		fprintf(stderr, "%s/observed.json: %s\n", dir, err.message);
		goto out;
	}
	if (parse_ctx(text, &ctx, &commit, &ref) != 0)
		goto out;
	if (plan_build(&cur, fns, nfns, &ctx, &p, &err) != 0) {
		fprintf(stderr, "%s: plan_build: %s\n", dir, err.message);
		goto out;
	}
	got = plan_output(&p, false);
	gotj = plan_output(&p, true);
	snprintf(path, sizeof(path), "%s/expected.json", dir);
	has_json = access(path, F_OK) == 0;
	if (regenerate) {
		if (regenerate_file(dir, "expected.txt", got, &t, false) != 0 ||
		    (has_json && regenerate_file(dir, "expected.json", gotj, &t, true) != 0))
			goto out;
		rc = 0;
		goto out;
	}
	want = read_expected(dir, "expected.txt", &t, &bad);
	if (want == NULL) {
		if (!bad)
			fprintf(stderr, "%s/expected.txt: missing\n", dir);
		goto out;
	}
	if (strcmp(got, want) != 0) {
		show_difference(dir, "the plan text", got, want);
		goto out;
	}
	wantj = read_expected(dir, "expected.json", &t, &bad);
	if (bad)
		goto out;
	if (wantj != NULL) {
		a = json_loads(gotj, 0, NULL);
		b = json_loads(wantj, 0, NULL);
		if (a == NULL || b == NULL || !json_equal(a, b)) {
			show_difference(dir, "the plan JSON", gotj, wantj);
			goto out;
		}
	}
	rc = 0;
out:
	json_decref(a);
	json_decref(b);
	free(t.v);
	free(args.words);
	spec_free(&cur);
	spec_free(&prev);
	free_obs(raw, nraw);
	free_obs(fns, nfns);
	plan_free(&p);
	free(observed);
	free(text);
	free(commit);
	free(ref);
	free(got);
	free(want);
	free(gotj);
	free(wantj);
	return rc;
}

int
main(int argc, char **argv)
{
	bool regenerate = false;
	int i, failed = 0, n = 0;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--regenerate") == 0) {
			regenerate = true;
			continue;
		}
		n++;
		if (run_case(argv[i], regenerate) != 0) {
			fprintf(stderr, "FAIL %s\n", argv[i]);
			failed++;
		}
	}
	if (n == 0) {
		fprintf(stderr, "usage: plan_golden [--regenerate] CASE_DIR...\n");
		return 1;
	}
	return failed > 0 ? 1 : 0;
}
