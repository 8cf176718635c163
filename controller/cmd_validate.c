/*
 * `tether validate [DIR | --repo URL|PATH [--ref REF]] [--path P] [--env ENV] [-v]
 * [--output text|json]`: read a desired state from a directory or a git commit, load and
 * validate it, and print every diagnostic. Offline: no AWS call is made.
 *
 * Output (stdout, so it can be diffed and piped): the diagnostics sorted by file, line and
 * column, one per line as path:line:col: message; with -v and a valid desired state, every
 * function with all its resolved values and its digest; then one summary line ("valid:
 * ..." or "invalid: ..."). With --output json, one JSON object instead. stderr has only
 * logs and problems that are not about the desired state (unreadable directory, bad
 * options). Exit 0 valid (warnings allowed), 1 invalid or unreadable, 2 usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "aws/endpoint.h"
#include "common/buf.h"
#include "common/jsonw.h"
#include "common/xmalloc.h"
#include "controller/cli.h"
#include "gitwatch/source.h"
#include "reconcile/load.h"

#define VALIDATE_JSON_MAX (256 * 1024 * 1024)

static const char *const mode_names[] = {"enforce", "detect", "suspend"};

/* "deploy/lambda/" for --path "./deploy//lambda/"; "" for none. */
static char *
display_prefix(const char *path)
{
	const char *p = path != NULL ? path : "", *end;
	size_t len, n = 0;
	char *out = xmalloc(strlen(p) + 2);

	while (*p != '\0') {
		end = p + strcspn(p, "/");
		len = (size_t)(end - p);
		if (len > 0 && !(len == 1 && p[0] == '.')) {
			memcpy(out + n, p, len);
			n += len;
			out[n++] = '/';
		}
		p = *end == '/' ? end + 1 : end;
	}
	out[n] = '\0';
	return out;
}

/* A string as a JSON literal, so values with quotes or newlines print on one line. */
static void
print_quoted(FILE *out, const char *s)
{
	struct buf b = BUF_INIT(64 * 1024);
	struct jsonw w;

	jsonw_init(&w, &b);
	jsonw_string(&w, s);
	fputs(jsonw_failed(&w) ? "\"...\"" : buf_cstr(&b), out);
	buf_free(&b);
}

/* The digest, or why it cannot be known yet (a layer by name needs the account). */
static int
digest_of(const struct spec_function *f, char hex[CRYPTO_SHA256_HEX_LEN + 1], struct err *err)
{
	return spec_digest(f, NULL, hex, err);
}

static void
print_layers_text(FILE *out, const struct spec_function *f)
{
	char *arn;
	size_t i;

	if (!f->has_layers) {
		fputs("  layers:      not managed\n", out);
		return;
	}
	if (f->nlayers == 0) {
		fputs("  layers:      none\n", out);
		return;
	}
	fputs("  layers:\n", out);
	for (i = 0; i < f->nlayers; i++) {
		if (f->layers[i].arn != NULL) {
			fprintf(out, "    - %s\n", f->layers[i].arn);
			continue;
		}
		arn = spec_layer_arn(&f->layers[i], f->account, f->region);
		fprintf(out, "    - %s version %ld (%s)\n", f->layers[i].name, f->layers[i].version,
		    arn != NULL ? arn : "ARN unknown: the account is not known");
		free(arn);
	}
}

static void
print_alias_text(FILE *out, const struct spec_alias *a)
{
	size_t i;

	if (a->target == SPEC_ALIAS_CURRENT)
		fprintf(out, "    %s -> current", a->name);
	else
		fprintf(out, "    %s -> %ld", a->name, a->version);
	if (a->nsteps > 0) {
		fputs(" (canary", out);
		for (i = 0; i < a->nsteps; i++)
			fprintf(out, "%s%d%%", i == 0 ? " " : ", ", a->steps[i]);
		fprintf(out, ", then 100%%; %lds per step)", a->interval);
	}
	fputc('\n', out);
}

static void
print_function_text(FILE *out, const struct spec_function *f)
{
	char hex[CRYPTO_SHA256_HEX_LEN + 1];
	struct err err = ERR_INIT;
	size_t i;

	fprintf(out, "function %s\n", f->name);
	fprintf(out, "  region:      %s\n", f->region);
	if (f->arn != NULL)
		fprintf(out, "  arn:         %s\n", f->arn);
	fprintf(out, "  account:     %s\n", f->account != NULL ? f->account : "unknown");
	fprintf(out, "  source:      %s:%d\n", f->source_path, f->source_line);
	switch (f->code.kind) {
	case SPEC_CODE_IMAGE:
		fprintf(out, "  image:       %s\n", f->code.image);
		break;
	case SPEC_CODE_S3:
		fprintf(out, "  code:        s3://%s/%s", f->code.s3_bucket, f->code.s3_key);
		if (f->code.s3_object_version != NULL)
			fprintf(out, " (version %s)", f->code.s3_object_version);
		fputc('\n', out);
		break;
	case SPEC_CODE_NONE:
		fputs("  code:        not managed\n", out);
		break;
	}
	print_layers_text(out, f);
	if (f->has_memory)
		fprintf(out, "  memory:      %ld MB\n", f->memory);
	else
		fputs("  memory:      not managed\n", out);
	if (f->has_timeout)
		fprintf(out, "  timeout:     %ld s\n", f->timeout);
	else
		fputs("  timeout:     not managed\n", out);
	if (!f->has_environment) {
		fputs("  environment: not managed\n", out);
	} else if (f->nenvironment == 0) {
		fputs("  environment: none\n", out);
	} else {
		fputs("  environment:\n", out);
		for (i = 0; i < f->nenvironment; i++) {
			fprintf(out, "    %s=", f->environment[i].key);
			print_quoted(out, f->environment[i].value);
			fputc('\n', out);
		}
	}
	fputs("  description: ", out);
	if (f->has_description)
		print_quoted(out, f->description);
	else
		fputs("not managed", out);
	fputc('\n', out);
	fprintf(out, "  role:        %s\n", f->has_role ? f->role : "not managed");
	fprintf(out, "  handler:     %s\n", f->has_handler ? f->handler : "not managed");
	fprintf(out, "  runtime:     %s\n", f->has_runtime ? f->runtime : "not managed");
	if (f->has_smoke_test) {
		fprintf(out, "  smoke_test:  payload %s", f->smoke_test.payload);
		if (f->smoke_test.expect != NULL)
			fprintf(out, ", expect %s", f->smoke_test.expect);
		fputc('\n', out);
	} else {
		fputs("  smoke_test:  none\n", out);
	}
	if (f->naliases == 0) {
		fputs("  aliases:     none\n", out);
	} else {
		fputs("  aliases:\n", out);
		for (i = 0; i < f->naliases; i++)
			print_alias_text(out, &f->aliases[i]);
	}
	if (f->has_retain)
		fprintf(out, "  retain:      %ld\n", f->retain);
	else
		fputs("  retain:      not managed (no version is pruned)\n", out);
	fprintf(out, "  mode:        %s\n", mode_names[f->mode]);
	if (digest_of(f, hex, &err) == 0)
		fprintf(out, "  digest:      %s\n", hex);
	else
		fprintf(
		    out, "  digest:      unknown (%s; declare the function by ARN)\n", err.message);
}

/* Embed compact JSON text (ours: the loader wrote it) as a value. */
static void
json_raw(struct jsonw *w, const char *key, const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &e);

	jsonw_key(w, key);
	jsonw_json(w, v);
	json_decref(v);
}

static void
print_function_json(struct jsonw *w, const struct spec_function *f)
{
	char hex[CRYPTO_SHA256_HEX_LEN + 1], *arn;
	struct err err = ERR_INIT;
	size_t i, k;

	jsonw_object_open(w);
	jsonw_kstr(w, "name", f->name);
	jsonw_kstr(w, "region", f->region);
	jsonw_kstr_opt(w, "arn", f->arn);
	jsonw_kstr_opt(w, "account", f->account);
	jsonw_key(w, "source");
	jsonw_object_open(w);
	jsonw_kstr(w, "path", f->source_path);
	jsonw_kint(w, "line", f->source_line);
	jsonw_object_close(w);
	if (f->code.kind == SPEC_CODE_IMAGE) {
		jsonw_key(w, "code");
		jsonw_object_open(w);
		jsonw_kstr(w, "image", f->code.image);
		jsonw_object_close(w);
	} else if (f->code.kind == SPEC_CODE_S3) {
		jsonw_key(w, "code");
		jsonw_object_open(w);
		jsonw_kstr(w, "s3_bucket", f->code.s3_bucket);
		jsonw_kstr(w, "s3_key", f->code.s3_key);
		jsonw_kstr_opt(w, "s3_object_version", f->code.s3_object_version);
		jsonw_object_close(w);
	}
	if (f->has_layers) {
		jsonw_key(w, "layers");
		jsonw_array_open(w);
		for (i = 0; i < f->nlayers; i++) {
			jsonw_object_open(w);
			if (f->layers[i].arn != NULL) {
				jsonw_kstr(w, "arn", f->layers[i].arn);
			} else {
				jsonw_kstr(w, "name", f->layers[i].name);
				jsonw_kint(w, "version", f->layers[i].version);
				arn = spec_layer_arn(&f->layers[i], f->account, f->region);
				jsonw_key(w, "arn");
				if (arn != NULL)
					jsonw_string(w, arn);
				else
					jsonw_null(w);
				free(arn);
			}
			jsonw_object_close(w);
		}
		jsonw_array_close(w);
	}
	if (f->has_memory)
		jsonw_kint(w, "memory", f->memory);
	if (f->has_timeout)
		jsonw_kint(w, "timeout", f->timeout);
	if (f->has_environment) {
		jsonw_key(w, "environment");
		jsonw_object_open(w);
		for (i = 0; i < f->nenvironment; i++)
			jsonw_kstr(w, f->environment[i].key, f->environment[i].value);
		jsonw_object_close(w);
	}
	if (f->has_description)
		jsonw_kstr(w, "description", f->description);
	if (f->has_role)
		jsonw_kstr(w, "role", f->role);
	if (f->has_handler)
		jsonw_kstr(w, "handler", f->handler);
	if (f->has_runtime)
		jsonw_kstr(w, "runtime", f->runtime);
	if (f->has_smoke_test) {
		jsonw_key(w, "smoke_test");
		jsonw_object_open(w);
		json_raw(w, "payload", f->smoke_test.payload);
		if (f->smoke_test.expect != NULL)
			json_raw(w, "expect", f->smoke_test.expect);
		jsonw_object_close(w);
	}
	jsonw_key(w, "aliases");
	jsonw_array_open(w);
	for (i = 0; i < f->naliases; i++) {
		jsonw_object_open(w);
		jsonw_kstr(w, "name", f->aliases[i].name);
		if (f->aliases[i].target == SPEC_ALIAS_CURRENT)
			jsonw_kstr(w, "target", "current");
		else
			jsonw_kint(w, "target", f->aliases[i].version);
		if (f->aliases[i].nsteps > 0) {
			jsonw_key(w, "traffic");
			jsonw_object_open(w);
			jsonw_key(w, "steps");
			jsonw_array_open(w);
			for (k = 0; k < f->aliases[i].nsteps; k++)
				jsonw_int(w, f->aliases[i].steps[k]);
			jsonw_array_close(w);
			jsonw_kint(w, "interval", f->aliases[i].interval);
			jsonw_object_close(w);
		}
		jsonw_object_close(w);
	}
	jsonw_array_close(w);
	if (f->has_retain)
		jsonw_kint(w, "retain", f->retain);
	jsonw_kstr(w, "mode", mode_names[f->mode]);
	if (digest_of(f, hex, &err) == 0) {
		jsonw_kstr(w, "digest", hex);
	} else {
		jsonw_key(w, "digest");
		jsonw_null(w);
		jsonw_kstr(w, "digest_unknown", err.message);
	}
	jsonw_object_close(w);
}

static int
print_json(const struct diags *diags, const struct spec *want, const struct cli *cli,
    const struct source_commit *commit, bool valid)
{
	struct buf b = BUF_INIT(VALIDATE_JSON_MAX);
	struct jsonw w;
	const struct diag *d;
	size_t i;
	int rc = 0;

	jsonw_init(&w, &b);
	jsonw_object_open(&w);
	jsonw_kbool(&w, "valid", valid);
	jsonw_kint(&w, "errors", (int64_t)diags->errors);
	jsonw_kint(&w, "warnings", (int64_t)diags->warnings);
	jsonw_key(&w, "environment");
	if (cli->env != NULL)
		jsonw_string(&w, cli->env);
	else
		jsonw_null(&w);
	if (commit != NULL && commit->id[0] != '\0') {
		jsonw_key(&w, "commit");
		jsonw_object_open(&w);
		jsonw_kstr(&w, "id", commit->id);
		jsonw_kstr_opt(&w, "ref", commit->ref);
		jsonw_kstr_opt(&w, "summary", commit->summary);
		jsonw_object_close(&w);
	}
	jsonw_key(&w, "diagnostics");
	jsonw_array_open(&w);
	for (i = 0; i < diags->n; i++) {
		d = &diags->items[i];
		jsonw_object_open(&w);
		jsonw_kstr(&w, "severity", d->severity == DIAG_ERROR ? "error" : "warning");
		jsonw_kstr(&w, "path", d->path);
		jsonw_kint(&w, "line", d->line);
		jsonw_kint(&w, "col", d->col);
		jsonw_kstr(&w, "message", d->message);
		jsonw_object_close(&w);
	}
	jsonw_array_close(&w);
	if (valid) {
		jsonw_kint(&w, "functions_count", (int64_t)want->n);
		if (cli->verbose) {
			jsonw_key(&w, "functions");
			jsonw_array_open(&w);
			for (i = 0; i < want->n; i++)
				print_function_json(&w, &want->functions[i]);
			jsonw_array_close(&w);
		}
	}
	jsonw_object_close(&w);
	if (jsonw_failed(&w)) {
		fprintf(stderr, "tether: the JSON output is over %d bytes\n", VALIDATE_JSON_MAX);
		rc = -1;
	} else {
		fputs(buf_cstr(&b), stdout);
		fputc('\n', stdout);
	}
	buf_free(&b);
	return rc;
}

static void
print_text(const struct diags *diags, const struct spec *want, const struct cli *cli, bool valid)
{
	size_t i;

	diags_print(diags, stdout);
	if (valid && cli->verbose) {
		for (i = 0; i < want->n; i++)
			print_function_text(stdout, &want->functions[i]);
	}
	if (valid) {
		printf("valid: %zu function%s", want->n, want->n == 1 ? "" : "s");
		if (cli->env != NULL)
			printf(" with environment %s", cli->env);
		if (diags->warnings > 0)
			printf(", %zu warning%s", diags->warnings, diags->warnings == 1 ? "" : "s");
		putchar('\n');
	} else {
		printf("invalid: %zu error%s, %zu warning%s\n", diags->errors,
		    diags->errors == 1 ? "" : "s", diags->warnings,
		    diags->warnings == 1 ? "" : "s");
	}
}

/* The region for functions that name none: --region, AWS_REGION, AWS_DEFAULT_REGION, the
 * profile. NULL when none; -1 when --region itself is not a region. */
static int
default_region(const struct cli *cli, char **out)
{
	struct endpoint_opts eo = ENDPOINT_OPTS_INIT;
	struct err err = ERR_INIT;

	*out = NULL;
	eo.region = cli->session.region;
	eo.endpoint = cli->session.endpoint;
	eo.profile = cli->session.profile;
	if (endpoint_region(out, &eo, &err) != 0) {
		if (cli->session.region != NULL) {
			cli_usage_error("%s", err.message);
			return -1;
		}
		/* Functions without a region are then reported by the loader. */
		log_warn("validate", "no default region: %s", err.message);
		*out = NULL;
	}
	return 0;
}

int
cmd_validate(const struct cli *cli, int argc, char **argv)
{
	struct fileset fs = FILESET_INIT;
	struct source_commit commit;
	struct load_opts lo = LOAD_OPTS_INIT;
	struct spec want = SPEC_INIT;
	struct diags diags = DIAGS_INIT;
	struct err err = ERR_INIT;
	char *region = NULL, *prefix = NULL, *cache = NULL;
	const char *dir = ".";
	bool valid;
	int rc = CLI_EXIT_ERROR;

	memset(&commit, 0, sizeof(commit));
	if (argc > 1)
		return cli_usage_error("validate takes at most one directory, not \"%s\"", argv[1]);
	if (argc == 1 && cli->repo != NULL)
		return cli_usage_error(
		    "validate takes a directory or --repo, not both (\"%s\")", argv[0]);
	if (cli->ref != NULL && cli->repo == NULL)
		return cli_usage_error("%s", "--ref needs --repo");
	if (argc == 1)
		dir = argv[0];
	if (default_region(cli, &region) != 0)
		return CLI_EXIT_USAGE;

	if (cli->repo != NULL) {
		if (cli->state_dir != NULL)
			cache = xasprintf("%s/repos", cli->state_dir);
		if (source_read_git(cli->repo, cli->ref, cli->path, cache, &fs, &commit, &err) !=
		    0) {
			fprintf(stderr, "tether: %s\n", err.message);
			goto out;
		}
		log_info("validate", "commit %.12s (%s): %s", commit.id, commit.ref,
		    commit.summary != NULL ? commit.summary : "");
	} else if (source_read_dir(dir, cli->path, &fs, &err) != 0) {
		fprintf(stderr, "tether: %s\n", err.message);
		goto out;
	}

	lo.env = cli->env;
	lo.default_region = region;
	/* Diagnostics name files as they are under DIR or in the repository. */
	prefix = display_prefix(cli->path);
	lo.display_prefix = prefix;
	valid = load_desired(&fs, &lo, &want, &diags) == 0;
	diags_sort(&diags);
	if (cli->json) {
		if (print_json(&diags, &want, cli, &commit, valid) != 0)
			goto out;
	} else {
		print_text(&diags, &want, cli, valid);
	}
	if (fflush(stdout) != 0) {
		fprintf(stderr, "tether: cannot write the output\n");
		goto out;
	}
	rc = valid ? CLI_EXIT_OK : CLI_EXIT_ERROR;
out:
	spec_free(&want);
	diags_free(&diags);
	fileset_free(&fs);
	source_commit_clear(&commit);
	free(prefix);
	free(region);
	free(cache);
	return rc;
}
