/*
 * The least-privilege IAM policy for a desired state (controller/iam_policy.h). Every call
 * tether makes is listed in docs/iam.md with the step that makes it; the rules below are
 * that table, per function.
 */
#include <assert.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/xmalloc.h"
#include "controller/iam_policy.h"
#include "reconcile/names.h"

/* The account names that fit in the "account unknown" message; the rest are counted. */
#define UNKNOWN_NAMES_MAX 360

/* What a resource is; statements come in this order, one kind each. */
enum kind {
	KIND_LAMBDA_ANY,      /* "*": actions Lambda cannot scope */
	KIND_LAMBDA_FUNCTION, /* arn:...:function:NAME */
	KIND_LAMBDA_VERSION,  /* arn:...:function:NAME:* (versions and aliases) */
	KIND_LAMBDA_LAYER,    /* arn:...:layer:NAME:VERSION */
	KIND_IAM_ROLE,        /* iam:PassRole, only to Lambda */
	KIND_ECR_REPOSITORY,  /* arn:...:ecr:REGION:ACCOUNT:repository/NAME */
	KIND_S3_OBJECT,       /* arn:...:s3:::BUCKET/KEY */
	KIND__COUNT,
};

static const char *const kind_sids[KIND__COUNT] = {
    [KIND_LAMBDA_ANY] = "LambdaUnscoped",
    [KIND_LAMBDA_FUNCTION] = "LambdaFunctions",
    [KIND_LAMBDA_VERSION] = "LambdaVersions",
    [KIND_LAMBDA_LAYER] = "LambdaLayers",
    [KIND_IAM_ROLE] = "PassRoleToLambda",
    [KIND_ECR_REPOSITORY] = "EcrImages",
    [KIND_S3_OBJECT] = "S3Code",
};

/* One action on one resource. */
struct grant {
	enum kind kind;
	const char *action; /* static */
	char *resource;
};

struct grants {
	struct grant *v;
	size_t n;
	size_t cap;
};

/* Actions that share one list of resources. */
struct statement {
	enum kind kind;
	const char **actions;
	size_t nactions;
	const struct grant *res; /* resources: res[0..nres), sorted, distinct */
	size_t nres;
};

/* Takes resource (allocated). */
static void
grant(struct grants *g, enum kind kind, const char *action, char *resource)
{
	if (g->n == g->cap) {
		g->cap = g->cap > 0 ? g->cap * 2 : 64;
		g->v = xreallocarray(g->v, g->cap, sizeof(*g->v));
	}
	g->v[g->n].kind = kind;
	g->v[g->n].action = action;
	g->v[g->n].resource = resource;
	g->n++;
}

static bool
is_account(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return i == 12;
}

/*
 * An IAM resource for an S3 key: IAM reads '*' and '?' in a Resource as wildcards and "${"
 * as a policy variable, so those characters are written as the variables that stand for
 * them literally (${*}, ${?}, ${$}).
 */
static char *
s3_object_arn(const char *partition, const char *bucket, const char *key)
{
	struct buf b = BUF_INIT(8 * NAMES_S3_KEY_MAX + 256);
	const char *p;
	int rc;

	rc = buf_printf(&b, "arn:%s:s3:::%s/", partition, bucket);
	for (p = key; *p != '\0' && rc == 0; p++) {
		if (*p == '*' || *p == '?' || *p == '$')
			rc = buf_printf(&b, "${%c}", *p);
		else
			rc = buf_putc(&b, *p);
	}
	/* The key is at most NAMES_S3_KEY_MAX bytes: each takes at most four. */
	assert(rc == 0);
	return buf_detach(&b, NULL);
}

/*
 * The ECR repository ARN of an image URI, or NULL when the registry is not ECR's
 * (ACCOUNT.dkr.ecr[-fips].REGION.amazonaws.com[.cn]): Lambda only runs images from ECR,
 * and only ECR needs the caller to hold read access to the repository.
 */
static char *
ecr_repository_arn(const char *image)
{
	const char *slash = strchr(image, '/'), *host_end, *region, *region_end, *repo, *end;
	const char *partition, *last, *p;
	char account[13], reg[32];
	bool cn;

	if (slash == NULL || slash - image < 12 + 9)
		return NULL;
	memcpy(account, image, 12);
	account[12] = '\0';
	if (!is_account(account))
		return NULL;
	host_end = slash;
	region = image + 12;
	if (strncmp(region, ".dkr.ecr-fips.", 14) == 0)
		region += 14;
	else if (strncmp(region, ".dkr.ecr.", 9) == 0)
		region += 9;
	else
		return NULL;
	cn = host_end - region > 17 && strncmp(host_end - 17, ".amazonaws.com.cn", 17) == 0;
	region_end = host_end - (cn ? 17 : 14);
	if (region_end <= region || (!cn && strncmp(region_end, ".amazonaws.com", 14) != 0) ||
	    (size_t)(region_end - region) >= sizeof(reg))
		return NULL;
	memcpy(reg, region, (size_t)(region_end - region));
	reg[region_end - region] = '\0';
	if (!names_region(reg))
		return NULL;
	partition = cn ? "aws-cn" : spec_partition(reg);
	/* REPOSITORY[:TAG][@sha256:DIGEST]: the tag is after the last '/'. */
	repo = slash + 1;
	end = strchr(repo, '@');
	if (end == NULL)
		end = repo + strlen(repo);
	last = repo;
	for (p = repo; p < end; p++)
		if (*p == '/')
			last = p + 1;
	for (p = last; p < end && *p != ':'; p++)
		;
	end = p;
	if (end == repo)
		return NULL;
	return xasprintf(
	    "arn:%s:ecr:%s:%s:repository/%.*s", partition, reg, account, (int)(end - repo), repo);
}

static bool
manages_config(const struct spec_function *f)
{
	return f->has_layers || f->has_memory || f->has_timeout || f->has_environment ||
	       f->has_description || f->has_role || f->has_handler || f->has_runtime;
}

static bool
has_canary(const struct spec_function *f)
{
	size_t i;

	for (i = 0; i < f->naliases; i++)
		if (f->aliases[i].nsteps > 0)
			return true;
	return false;
}

/* What CreateFunction needs (reconcile/plan.c create()). */
static bool
creatable(const struct spec_function *f)
{
	return f->has_role &&
	       (f->code.kind == SPEC_CODE_IMAGE ||
	           (f->code.kind == SPEC_CODE_S3 && f->has_handler && f->has_runtime));
}

/*
 * Everything one function needs (docs/iam.md, "What tether calls"). account is known;
 * partition is the function's.
 */
static void
function_grants(
    struct grants *g, const struct spec_function *f, const char *account, const char *partition)
{
	char *fn, *layer, *repo;
	size_t i;

	if (f->mode == SPEC_MODE_SUSPEND)
		return;
	fn = f->arn != NULL ? xstrdup(f->arn)
	                    : xasprintf("arn:%s:lambda:%s:%s:function:%s", partition, f->region,
	                          account, f->name);
#define FN(action) grant(g, KIND_LAMBDA_FUNCTION, action, xstrdup(fn))
#define VERSIONS(action) grant(g, KIND_LAMBDA_VERSION, action, xasprintf("%s:*", fn))

	/* Observing: $LATEST and the waiters, the aliases, the versions (by number too). */
	FN("lambda:GetFunction");
	FN("lambda:ListAliases");
	FN("lambda:ListVersionsByFunction");
	VERSIONS("lambda:GetFunction");
	if (f->mode != SPEC_MODE_ENFORCE)
		goto out;

	FN("lambda:PublishVersion");
	if (f->code.kind != SPEC_CODE_NONE)
		FN("lambda:UpdateFunctionCode");
	if (manages_config(f))
		FN("lambda:UpdateFunctionConfiguration");
	if (creatable(f))
		FN("lambda:CreateFunction");
	if (f->naliases > 0) {
		FN("lambda:CreateAlias");
		FN("lambda:UpdateAlias");
	}
	if (f->has_smoke_test) {
		FN("lambda:InvokeFunction"); /* the smoke test, on $LATEST */
		if (has_canary(f))
			VERSIONS("lambda:InvokeFunction"); /* canary checks, on the new version */
	}
	/* Pruning deletes versions, never the function itself. */
	if (f->has_retain)
		VERSIONS("lambda:DeleteFunction");
	if (f->has_retain || has_canary(f)) {
		/* What references a version: pruning and canaries look first. */
		FN("lambda:ListProvisionedConcurrencyConfigs");
		grant(g, KIND_LAMBDA_ANY, "lambda:ListEventSourceMappings", xstrdup("*"));
	}

	/* What Lambda makes the caller hold for what the calls carry. */
	for (i = 0; i < f->nlayers; i++) {
		layer = spec_layer_arn(&f->layers[i], account, f->region);
		assert(layer != NULL);
		grant(g, KIND_LAMBDA_LAYER, "lambda:GetLayerVersion", layer);
	}
	if (f->has_role)
		grant(g, KIND_IAM_ROLE, "iam:PassRole", xstrdup(f->role));
	if (f->code.kind == SPEC_CODE_IMAGE) {
		repo = ecr_repository_arn(f->code.image);
		if (repo != NULL) {
			grant(g, KIND_ECR_REPOSITORY, "ecr:BatchGetImage", xstrdup(repo));
			grant(g, KIND_ECR_REPOSITORY, "ecr:GetDownloadUrlForLayer", repo);
		}
	} else if (f->code.kind == SPEC_CODE_S3) {
		grant(g, KIND_S3_OBJECT, "s3:GetObject",
		    s3_object_arn(partition, f->code.s3_bucket, f->code.s3_key));
		if (f->code.s3_object_version != NULL)
			grant(g, KIND_S3_OBJECT, "s3:GetObjectVersion",
			    s3_object_arn(partition, f->code.s3_bucket, f->code.s3_key));
	}
#undef FN
#undef VERSIONS
out:
	free(fn);
}

static int
grant_cmp(const void *a, const void *b)
{
	const struct grant *x = a, *y = b;
	int c;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	c = strcmp(x->action, y->action);
	if (c != 0)
		return c;
	return strcmp(x->resource, y->resource);
}

/* Sort and drop duplicates. */
static void
grants_normalize(struct grants *g)
{
	size_t i, n = 0;

	if (g->n == 0)
		return;
	qsort(g->v, g->n, sizeof(*g->v), grant_cmp);
	for (i = 0; i < g->n; i++) {
		if (n > 0 && grant_cmp(&g->v[n - 1], &g->v[i]) == 0) {
			free(g->v[i].resource);
			continue;
		}
		g->v[n++] = g->v[i];
	}
	g->n = n;
}

static void
grants_free(struct grants *g)
{
	size_t i;

	for (i = 0; i < g->n; i++)
		free(g->v[i].resource);
	free(g->v);
}

static bool
same_resources(const struct statement *s, const struct grant *res, size_t n)
{
	size_t i;

	if (s->nres != n)
		return false;
	for (i = 0; i < n; i++)
		if (strcmp(s->res[i].resource, res[i].resource) != 0)
			return false;
	return true;
}

/* Group the (normalized) grants: one statement per kind and list of resources. */
static struct statement *
group(const struct grants *g, size_t *n)
{
	struct statement *st = NULL, *s;
	size_t i, j, k, nst = 0;

	for (i = 0; i < g->n; i = j) {
		for (j = i + 1; j < g->n && g->v[j].kind == g->v[i].kind &&
		                strcmp(g->v[j].action, g->v[i].action) == 0;
		     j++)
			;
		s = NULL;
		for (k = 0; k < nst && s == NULL; k++)
			if (st[k].kind == g->v[i].kind && same_resources(&st[k], &g->v[i], j - i))
				s = &st[k];
		if (s == NULL) {
			st = xreallocarray(st, nst + 1, sizeof(*st));
			s = &st[nst++];
			memset(s, 0, sizeof(*s));
			s->kind = g->v[i].kind;
			s->res = &g->v[i];
			s->nres = j - i;
		}
		s->actions = xreallocarray(s->actions, s->nactions + 1, sizeof(*s->actions));
		s->actions[s->nactions++] = g->v[i].action;
	}
	*n = nst;
	return st;
}

static json_t *
statement_json(const struct statement *s, unsigned ordinal)
{
	json_t *o = json_object(), *a, *r, *cond, *eq;
	char sid[64];
	size_t i;

	if (ordinal > 1)
		snprintf(sid, sizeof(sid), "%s%u", kind_sids[s->kind], ordinal);
	else
		snprintf(sid, sizeof(sid), "%s", kind_sids[s->kind]);
	json_object_set_new(o, "Sid", json_string(sid));
	json_object_set_new(o, "Effect", json_string("Allow"));
	a = json_array();
	for (i = 0; i < s->nactions; i++)
		json_array_append_new(a, json_string(s->actions[i]));
	json_object_set_new(o, "Action", a);
	if (s->kind == KIND_LAMBDA_ANY) {
		json_object_set_new(o, "Resource", json_string("*"));
	} else {
		r = json_array();
		for (i = 0; i < s->nres; i++)
			json_array_append_new(r, json_string(s->res[i].resource));
		json_object_set_new(o, "Resource", r);
	}
	if (s->kind == KIND_IAM_ROLE) {
		/* The roles are for Lambda functions, not for anything else that takes one. */
		eq = json_object();
		json_object_set_new(eq, "iam:PassedToService", json_string("lambda.amazonaws.com"));
		cond = json_object();
		json_object_set_new(cond, "StringEquals", eq);
		json_object_set_new(o, "Condition", cond);
	}
	return o;
}

/* The error naming the functions whose account is needed and unknown. */
static int
unknown_accounts(const struct spec *spec, struct err *err)
{
	struct buf b = BUF_INIT(UNKNOWN_NAMES_MAX);
	size_t i, n = 0, more = 0;
	const struct spec_function *f;
	int rc;

	for (i = 0; i < spec->n; i++) {
		f = &spec->functions[i];
		if (f->mode == SPEC_MODE_SUSPEND || f->account != NULL)
			continue;
		if (more == 0 &&
		    buf_printf(&b, "%s%s (%s)", n > 0 ? ", " : "", f->name, f->region) == 0)
			n++;
		else
			more++;
	}
	if (more > 0)
		rc = err_set(err, ERR_INVALID,
		    "the account of %s and %zu more function%s is not known: declare them by ARN "
		    "or pass --account ID",
		    buf_cstr(&b), more, more == 1 ? "" : "s");
	else
		rc = err_set(err, ERR_INVALID,
		    "the account of %s is not known: declare %s by ARN or pass --account ID",
		    buf_cstr(&b), n == 1 ? "it" : "them");
	buf_free(&b);
	return rc;
}

int
iam_policy_build(
    json_t **out, const struct spec *spec, const struct iam_policy_opts *opts, struct err *err)
{
	struct grants g;
	struct statement *st = NULL;
	struct names_arn arn;
	const struct spec_function *f;
	const char *account = opts != NULL ? opts->account : NULL, *acct, *partition;
	unsigned ordinal[KIND__COUNT];
	json_t *doc = NULL, *list;
	size_t i, nst = 0;
	bool missing = false;

	*out = NULL;
	memset(&g, 0, sizeof(g));
	memset(ordinal, 0, sizeof(ordinal));
	if (account != NULL && !is_account(account))
		return err_set(err, ERR_INVALID, "the account \"%s\" is not 12 digits", account);
	for (i = 0; i < spec->n; i++) {
		f = &spec->functions[i];
		if (f->mode != SPEC_MODE_SUSPEND && f->account == NULL && account == NULL)
			missing = true;
	}
	if (missing)
		return unknown_accounts(spec, err);

	/* plan lists each region's functions once: the one call Lambda cannot scope. */
	if (spec->n > 0)
		grant(&g, KIND_LAMBDA_ANY, "lambda:ListFunctions", xstrdup("*"));
	for (i = 0; i < spec->n; i++) {
		f = &spec->functions[i];
		acct = f->account != NULL ? f->account : account;
		partition = spec_partition(f->region);
		if (f->arn != NULL && names_function_arn(f->arn, &arn))
			partition = arn.partition;
		function_grants(&g, f, acct, partition);
	}
	grants_normalize(&g);
	st = group(&g, &nst);

	doc = json_object();
	json_object_set_new(doc, "Version", json_string("2012-10-17"));
	list = json_array();
	for (i = 0; i < nst; i++)
		json_array_append_new(list, statement_json(&st[i], ++ordinal[st[i].kind]));
	json_object_set_new(doc, "Statement", list);
	*out = doc;

	for (i = 0; i < nst; i++)
		free(st[i].actions);
	free(st);
	grants_free(&g);
	return 0;
}

int
iam_policy_print(const json_t *policy, FILE *out)
{
	if (json_dumpf(policy, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0)
		return -1;
	return fputc('\n', out) == EOF ? -1 : 0;
}

size_t
iam_policy_size(const json_t *policy)
{
	char *s = json_dumps(policy, JSON_COMPACT | JSON_PRESERVE_ORDER);
	size_t n = 0, i;

	if (s == NULL)
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (!isspace((unsigned char)s[i]))
			n++;
	free(s);
	return n;
}
