#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/jsonw.h"
#include "common/xmalloc.h"
#include "reconcile/spec.h"

/* Bumped if the canonical form ever changes: every digest, and so every version's
 * identity, changes with it. */
#define SPEC_CANONICAL_VERSION 1
#define SPEC_CANONICAL_MAX (256 * 1024)

static void
code_clear(struct spec_code *c)
{
	free(c->image);
	free(c->s3_bucket);
	free(c->s3_key);
	free(c->s3_object_version);
	memset(c, 0, sizeof(*c));
}

void
spec_function_clear(struct spec_function *f)
{
	size_t i;

	if (f == NULL)
		return;
	free(f->name);
	free(f->arn);
	free(f->account);
	free(f->region);
	code_clear(&f->code);
	for (i = 0; i < f->nlayers; i++) {
		free(f->layers[i].arn);
		free(f->layers[i].name);
	}
	for (i = 0; i < f->nenvironment; i++) {
		free(f->environment[i].key);
		free(f->environment[i].value);
	}
	free(f->environment);
	free(f->description);
	free(f->role);
	free(f->handler);
	free(f->runtime);
	free(f->smoke_test.payload);
	free(f->smoke_test.expect);
	for (i = 0; i < f->naliases; i++)
		free(f->aliases[i].name);
	free(f->aliases);
	free(f->source_path);
	memset(f, 0, sizeof(*f));
}

void
spec_free(struct spec *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++)
		spec_function_clear(&s->functions[i]);
	free(s->functions);
	free(s->environment);
	memset(s, 0, sizeof(*s));
}

const struct spec_function *
spec_find(const struct spec *s, const char *name, const char *region)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		if (strcmp(s->functions[i].name, name) == 0 &&
		    (region == NULL || strcmp(s->functions[i].region, region) == 0))
			return &s->functions[i];
	}
	return NULL;
}

const char *
spec_partition(const char *region)
{
	if (strncmp(region, "cn-", 3) == 0)
		return "aws-cn";
	if (strncmp(region, "us-gov-", 7) == 0)
		return "aws-us-gov";
	if (strncmp(region, "us-iso-", 7) == 0)
		return "aws-iso";
	if (strncmp(region, "us-isob-", 8) == 0)
		return "aws-iso-b";
	return "aws";
}

char *
spec_layer_arn(const struct spec_layer *l, const char *account, const char *region)
{
	if (l->arn != NULL)
		return xstrdup(l->arn);
	if (account == NULL || region == NULL)
		return NULL;
	return xasprintf("arn:%s:lambda:%s:%s:layer:%s:%ld", spec_partition(region), region,
	    account, l->name, l->version);
}

int
spec_canonical(const struct spec_function *f, const char *account, char **out, struct err *err)
{
	struct buf b = BUF_INIT(SPEC_CANONICAL_MAX);
	struct jsonw w;
	size_t i;
	char *arn;
	int rc = 0;

	*out = NULL;
	if (account == NULL)
		account = f->account;
	/* Members in key order, so the text is canonical without sorting at run time. */
	jsonw_init(&w, &b);
	jsonw_object_open(&w);
	if (f->code.kind == SPEC_CODE_IMAGE) {
		jsonw_key(&w, "code");
		jsonw_object_open(&w);
		jsonw_kstr(&w, "image", f->code.image);
		jsonw_object_close(&w);
	} else if (f->code.kind == SPEC_CODE_S3) {
		jsonw_key(&w, "code");
		jsonw_object_open(&w);
		jsonw_kstr(&w, "s3_bucket", f->code.s3_bucket);
		jsonw_kstr(&w, "s3_key", f->code.s3_key);
		jsonw_kstr_opt(&w, "s3_object_version", f->code.s3_object_version);
		jsonw_object_close(&w);
	}
	if (f->has_description)
		jsonw_kstr(&w, "description", f->description);
	if (f->has_environment) {
		/* The loader keeps variables sorted by key. */
		jsonw_key(&w, "environment");
		jsonw_object_open(&w);
		for (i = 0; i < f->nenvironment; i++)
			jsonw_kstr(&w, f->environment[i].key, f->environment[i].value);
		jsonw_object_close(&w);
	}
	if (f->has_handler)
		jsonw_kstr(&w, "handler", f->handler);
	if (f->has_layers) {
		jsonw_key(&w, "layers");
		jsonw_array_open(&w);
		for (i = 0; i < f->nlayers; i++) {
			arn = spec_layer_arn(&f->layers[i], account, f->region);
			if (arn == NULL) {
				rc = err_set(err, ERR_INVALID,
				    "%s: layer %s needs the function's account to resolve", f->name,
				    f->layers[i].name);
				goto out;
			}
			jsonw_string(&w, arn);
			free(arn);
		}
		jsonw_array_close(&w);
	}
	if (f->has_memory)
		jsonw_kint(&w, "memory", f->memory);
	if (f->has_role)
		jsonw_kstr(&w, "role", f->role);
	/* Written only when managed, so every digest from before runtime existed holds. */
	if (f->has_runtime)
		jsonw_kstr(&w, "runtime", f->runtime);
	if (f->has_timeout)
		jsonw_kint(&w, "timeout", f->timeout);
	jsonw_kint(&w, "v", SPEC_CANONICAL_VERSION);
	jsonw_object_close(&w);
	if (jsonw_failed(&w)) {
		rc =
		    err_set(err, ERR_TOOBIG, "%s: spec over %d bytes", f->name, SPEC_CANONICAL_MAX);
		goto out;
	}
	*out = buf_detach(&b, NULL);
out:
	buf_free(&b);
	return rc;
}

int
spec_digest(const struct spec_function *f, const char *account, char out[CRYPTO_SHA256_HEX_LEN + 1],
    struct err *err)
{
	char *canon;
	int rc;

	out[0] = '\0';
	if ((rc = spec_canonical(f, account, &canon, err)) != 0)
		return rc;
	crypto_sha256_hex(canon, strlen(canon), out);
	free(canon);
	return 0;
}
