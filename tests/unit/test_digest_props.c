/*
 * Property tests of the spec digest, through the loader (architecture §3): one function's
 * values are written out in many generated ways — key order, block or flow style, quoting,
 * number bases, comments, the file and document it lives in, values supplied by an
 * environment overlay, layers by ARN or by name — and every way must give the same digest.
 * Changing any frozen field must change it; changing what a version does not freeze
 * (aliases, retain, mode, smoke_test) must not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/compat.h"
#include "reconcile/load.h"

#define ACCOUNT "123456789012"
#define REGION "us-east-1"
#define VARIANTS 400
#define ENV_MAX 8

struct layer {
	bool by_name; /* written as { name, version } (same account and region) */
	char name[32];
	long version;
};

/* The values of one function; which ones are written where is the renderer's choice. */
struct model {
	bool s3;
	char image[160];
	char bucket[64], key[64], objver[32];
	struct layer layers[SPEC_LAYERS_MAX];
	size_t nlayers;
	long memory, timeout;
	char env_keys[ENV_MAX][32];
	char env_vals[ENV_MAX][64];
	size_t nenv;
	char description[96], role[96], handler[48];
	char runtime[24]; /* written only with S3 code: an image function has no runtime */
	/* Not frozen. */
	int aliases; /* which alias set */
	long retain;
	const char *mode;
	int smoke; /* which smoke test, 0: none */
};

static uint64_t rng_state;
/* How many renderings took each path, so the test knows it exercised them. */
static size_t overlays_used, env_splits, by_name_layers, flow_documents;

static uint64_t
rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static bool
coin(void)
{
	return (rnd() & 1) != 0;
}

static size_t
pick(size_t n)
{
	return (size_t)(rnd() % n);
}

static void
base_model(struct model *m, bool s3)
{
	static const char *const keys[] = {
	    "LOG_LEVEL", "PORT", "FLAG", "GREETING", "QUOTE", "EMPTY"};
	static const char *const vals[] = {
	    "info", "8080", "true", "h\xc3\xa9llo: w\xc3\xb6rld", "say \"hi\" # not a comment", ""};
	size_t i;

	memset(m, 0, sizeof(*m));
	m->s3 = s3;
	snprintf(m->image, sizeof(m->image),
	    "%s.dkr.ecr.%s.amazonaws.com/orders:20250526-145140-9f6a1a2a", ACCOUNT, REGION);
	snprintf(m->bucket, sizeof(m->bucket), "artifacts.orders");
	snprintf(m->key, sizeof(m->key), "orders/2025/orders.zip");
	snprintf(m->objver, sizeof(m->objver), "v3sL4kqtJlcpXroDT");
	m->nlayers = 3;
	snprintf(m->layers[0].name, sizeof(m->layers[0].name), "receipt-dynamo");
	m->layers[0].version = 5;
	snprintf(m->layers[1].name, sizeof(m->layers[1].name), "receipt-label");
	m->layers[1].version = 3;
	snprintf(m->layers[2].name, sizeof(m->layers[2].name), "otel");
	m->layers[2].version = 12;
	m->memory = 512;
	m->timeout = 30;
	m->nenv = nitems(keys);
	for (i = 0; i < nitems(keys); i++) {
		snprintf(m->env_keys[i], sizeof(m->env_keys[i]), "%s", keys[i]);
		snprintf(m->env_vals[i], sizeof(m->env_vals[i]), "%s", vals[i]);
	}
	snprintf(m->description, sizeof(m->description), "Orders API: takes \"orders\"");
	snprintf(m->role, sizeof(m->role), "arn:aws:iam::%s:role/orders-api", ACCOUNT);
	snprintf(m->handler, sizeof(m->handler), "app.handler");
	snprintf(m->runtime, sizeof(m->runtime), "python3.12");
	m->aliases = 0;
	m->retain = 5;
	m->mode = "enforce";
	m->smoke = 1;
}

/* A string scalar in a random style that still means s. */
static void
str(FILE *f, const char *s)
{
	const char *p;
	bool plain_ok = s[0] != '\0' && strpbrk(s, ":#\"'{}[],&*!|>%@`\\") == NULL &&
	                strchr(" -?", s[0]) == NULL && s[strlen(s) - 1] != ' ' &&
	                strspn(s, "0123456789") != strlen(s) && strcmp(s, "true") != 0;

	switch (plain_ok ? pick(3) : 1 + pick(2)) {
	case 0:
		fputs(s, f);
		return;
	case 1:
		fputc('\'', f);
		for (p = s; *p != '\0'; p++) {
			if (*p == '\'')
				fputc('\'', f);
			fputc(*p, f);
		}
		fputc('\'', f);
		return;
	default:
		fputc('"', f);
		for (p = s; *p != '\0'; p++) {
			if (*p == '"' || *p == '\\')
				fprintf(f, "\\%c", *p);
			else if ((unsigned char)*p == 0xc3 && (unsigned char)p[1] == 0xa9 &&
			         coin()) {
				fputs("\\u00e9", f);
				p++;
			} else
				fputc(*p, f);
		}
		fputc('"', f);
	}
}

/* An integer in decimal, hex or with an explicit tag. */
static void
num(FILE *f, long v)
{
	switch (pick(3)) {
	case 0:
		fprintf(f, "%ld", v);
		break;
	case 1:
		fprintf(f, "0x%lx", v);
		break;
	default:
		fprintf(f, "!!int \"%ld\"", v);
		break;
	}
}

static void
comment(FILE *f)
{
	if (pick(4) == 0)
		fputs("  # a comment: with [brackets] and \"quotes\"", f);
}

enum field {
	F_IMAGE_OR_CODE,
	F_LAYERS,
	F_MEMORY,
	F_TIMEOUT,
	F_ENV,
	F_DESCRIPTION,
	F_ROLE,
	F_HANDLER,
	F_RUNTIME,
	F_ALIASES,
	F_RETAIN,
	F_MODE,
	F_SMOKE,
	F_COUNT
};

/* Write the value of one field (after "key: "), in flow or block style. indent: of the
 * key, for block children. */
static void
value(FILE *f, const struct model *m, enum field fld, bool flow, int indent, const bool *env_mask)
{
	size_t i, n = 0;

	switch (fld) {
	case F_IMAGE_OR_CODE:
		if (!m->s3) {
			str(f, m->image);
			return;
		}
		if (flow) {
			fputs("{ s3_key: ", f);
			str(f, m->key);
			fputs(", s3_object_version: ", f);
			str(f, m->objver);
			fputs(", s3_bucket: ", f);
			str(f, m->bucket);
			fputs(" }", f);
			return;
		}
		fprintf(f, "\n%*ss3_bucket: ", indent + 2, "");
		str(f, m->bucket);
		fprintf(f, "\n%*ss3_object_version: ", indent + 2, "");
		str(f, m->objver);
		fprintf(f, "\n%*ss3_key: ", indent + 2, "");
		str(f, m->key);
		return;
	case F_LAYERS:
		if (flow)
			fputs("[", f);
		for (i = 0; i < m->nlayers; i++) {
			if (flow)
				fputs(i > 0 ? ", " : " ", f);
			else
				fprintf(f, "\n%*s- ", indent + 2, "");
			if (m->layers[i].by_name) {
				fputs("{ version: ", f);
				num(f, m->layers[i].version);
				fputs(", name: ", f);
				str(f, m->layers[i].name);
				fputs(" }", f);
			} else {
				fprintf(f, "arn:aws:lambda:%s:%s:layer:%s:%ld", REGION, ACCOUNT,
				    m->layers[i].name, m->layers[i].version);
			}
		}
		if (flow)
			fputs(" ]", f);
		else if (m->nlayers == 0)
			fputs("[]", f);
		return;
	case F_MEMORY:
		num(f, m->memory);
		return;
	case F_TIMEOUT:
		num(f, m->timeout);
		return;
	case F_ENV:
		if (flow)
			fputs("{", f);
		for (i = 0; i < m->nenv; i++) {
			if (env_mask != NULL && !env_mask[i])
				continue;
			if (flow)
				fputs(n > 0 ? ", " : " ", f);
			else
				fprintf(f, "\n%*s", indent + 2, "");
			if (coin())
				fprintf(f, "%s: ", m->env_keys[i]);
			else
				fprintf(f, "\"%s\": ", m->env_keys[i]);
			/* An environment value is text: quote it or not, it is the same. */
			if (strcmp(m->env_vals[i], "8080") == 0 ||
			    strcmp(m->env_vals[i], "true") == 0)
				fputs(coin() ? m->env_vals[i]
				             : (m->env_vals[i][0] == '8' ? "'8080'" : "\"true\""),
				    f);
			else
				str(f, m->env_vals[i]);
			n++;
		}
		if (flow)
			fputs(" }", f);
		else if (n == 0)
			fputs("{}", f);
		return;
	case F_DESCRIPTION:
		str(f, m->description);
		return;
	case F_ROLE:
		str(f, m->role);
		return;
	case F_HANDLER:
		str(f, m->handler);
		return;
	case F_RUNTIME:
		str(f, m->runtime);
		return;
	case F_ALIASES:
		if (m->aliases == 0)
			fputs("{ live: current, stable: 12 }", f);
		else
			fputs("{ live: { version: current, traffic: { steps: [10, 50], interval: "
			      "5m } } "
			      "}",
			    f);
		return;
	case F_RETAIN:
		num(f, m->retain);
		return;
	case F_MODE:
		str(f, m->mode);
		return;
	case F_SMOKE:
		fprintf(f, "{ payload: { path: /health, n: %d } }", m->smoke);
		return;
	case F_COUNT:
		break;
	}
}

static const char *const field_keys[F_COUNT] = {"image", "layers", "memory", "timeout",
    "environment", "description", "role", "handler", "runtime", "aliases", "retain", "mode",
    "smoke_test"};

static const char *
key_of(const struct model *m, enum field fld)
{
	return fld == F_IMAGE_OR_CODE && m->s3 ? "code" : field_keys[fld];
}

static void
shuffle(int *v, size_t n)
{
	size_t i, j;
	int t;

	for (i = n; i > 1; i--) {
		j = pick(i);
		t = v[i - 1];
		v[i - 1] = v[j];
		v[j] = t;
	}
}

/*
 * One document for the function: the fields in write[] with the values of m (env_mask
 * selects variables), the others left out; written in block or flow style, keys in random
 * order, with comments.
 */
static void
document(FILE *f, const struct model *m, const bool *write, const bool *env_mask)
{
	int order[F_COUNT + 1];
	size_t i, n = 0;
	bool flow = pick(4) == 0;

	flow_documents += flow;

	for (i = 0; i < F_COUNT; i++)
		if (write[i])
			order[n++] = (int)i;
	order[n++] = -1; /* function: */
	shuffle(order, n);
	if (flow)
		fputs("{", f);
	for (i = 0; i < n; i++) {
		if (flow)
			fputs(i > 0 ? ",\n  " : " ", f);
		if (order[i] < 0) {
			fputs("function: ", f);
			str(f, "subject");
		} else {
			fprintf(f, "%s: ", key_of(m, order[i]));
			value(f, m, order[i], flow || coin(), 0, env_mask);
		}
		if (!flow) {
			comment(f);
			fputc('\n', f);
		}
	}
	if (flow)
		fputs(" }\n", f);
}

static void
filler(FILE *f, int k)
{
	fprintf(f, "function: filler-%d\nmemory: %d\n", k, 128 + k);
}

/* The overlay part: which fields the environment supplies, and how. */
struct overlay_plan {
	bool used;
	bool in_defaults[F_COUNT]; /* left out of the document, given as a default */
	bool in_override[F_COUNT]; /* given by the override (the document may hold another) */
	bool env_split;            /* some variables in the document, the rest in the override */
};

/* Render the model into a fileset, in a random way. Returns whether an overlay is used. */
static bool
render(const struct model *m, struct fileset *fs, bool allow_overlay)
{
	/* A default runtime is also given to image functions, which must not take it. */
	static const enum field defaultable[] = {F_LAYERS, F_MEMORY, F_TIMEOUT, F_DESCRIPTION,
	    F_ROLE, F_HANDLER, F_RUNTIME, F_RETAIN, F_MODE};
	static const enum field overridable[] = {F_IMAGE_OR_CODE, F_LAYERS, F_MEMORY, F_TIMEOUT,
	    F_DESCRIPTION, F_ROLE, F_HANDLER, F_RUNTIME, F_ALIASES, F_SMOKE};
	struct overlay_plan op;
	struct model wrong;
	bool write[F_COUNT], env_doc[ENV_MAX], env_over[ENV_MAX];
	char *text, *otext;
	size_t len, olen, i, before, after;
	FILE *f, *o;
	enum field fld;

	memset(&op, 0, sizeof(op));
	for (i = 0; i < F_COUNT; i++)
		write[i] = true;
	write[F_RUNTIME] = m->s3;
	for (i = 0; i < ENV_MAX; i++)
		env_doc[i] = true;
	op.used = allow_overlay && pick(3) == 0;
	if (op.used) {
		for (i = 0; i < nitems(defaultable); i++) {
			if (pick(3) == 0) {
				op.in_defaults[defaultable[i]] = true;
				write[defaultable[i]] = false;
			}
		}
		for (i = 0; i < nitems(overridable); i++) {
			if (pick(3) == 0 && !op.in_defaults[overridable[i]] &&
			    (overridable[i] != F_RUNTIME || m->s3))
				op.in_override[overridable[i]] = true;
		}
		op.env_split = coin();
		overlays_used++;
		env_splits += op.env_split;
		if (op.env_split) {
			for (i = 0; i < m->nenv; i++) {
				env_doc[i] = coin();
				env_over[i] = !env_doc[i] || coin();
			}
		}
	}
	/* A field the override replaces may hold another value in the document. */
	wrong = *m;
	if (op.used) {
		wrong.memory = 1024;
		wrong.timeout = 3;
		snprintf(wrong.description, sizeof(wrong.description), "to be replaced");
		snprintf(wrong.handler, sizeof(wrong.handler), "old.handler");
		snprintf(wrong.runtime, sizeof(wrong.runtime), "python3.11");
		wrong.nlayers = 1;
		wrong.aliases = 1;
		wrong.smoke = 7;
		snprintf(wrong.image, sizeof(wrong.image),
		    "%s.dkr.ecr.%s.amazonaws.com/orders:old1234", ACCOUNT, REGION);
	}

	f = open_memstream(&text, &len);
	before = pick(3);
	after = pick(3);
	if (coin())
		fputs("# the subject of this test\n", f);
	for (i = 0; i < before; i++) {
		fputs(i == 0 && coin() ? "" : "---\n", f);
		filler(f, (int)i);
		fputs("---\n", f);
	}
	if (before == 0 && coin())
		fputs("---\n", f);
	if (op.used) {
		/* The document: fields the override replaces are written with wrong values
		 * (or left out), fields the defaults give are left out. */
		struct model doc = *m;
		bool w2[F_COUNT];

		memcpy(w2, write, sizeof(w2));
		/* A variable only the document has, which the override removes. */
		if (op.env_split && doc.nenv < ENV_MAX) {
			snprintf(doc.env_keys[doc.nenv], sizeof(doc.env_keys[0]), "UNWANTED");
			snprintf(doc.env_vals[doc.nenv], sizeof(doc.env_vals[0]), "x");
			env_doc[doc.nenv++] = true;
		}
		for (i = 0; i < F_COUNT; i++) {
			if (!op.in_override[i])
				continue;
			if (coin()) {
				w2[i] = false;
				continue;
			}
			fld = (enum field)i;
			if (fld == F_MEMORY)
				doc.memory = wrong.memory;
			else if (fld == F_TIMEOUT)
				doc.timeout = wrong.timeout;
			else if (fld == F_DESCRIPTION)
				memcpy(doc.description, wrong.description, sizeof(doc.description));
			else if (fld == F_HANDLER)
				memcpy(doc.handler, wrong.handler, sizeof(doc.handler));
			else if (fld == F_RUNTIME)
				memcpy(doc.runtime, wrong.runtime, sizeof(doc.runtime));
			else if (fld == F_LAYERS)
				doc.nlayers = wrong.nlayers;
			else if (fld == F_ALIASES)
				doc.aliases = wrong.aliases;
			else if (fld == F_SMOKE)
				doc.smoke = wrong.smoke;
			else if (fld == F_IMAGE_OR_CODE && !m->s3)
				memcpy(doc.image, wrong.image, sizeof(doc.image));
		}
		document(f, &doc, w2, env_doc);
	} else {
		document(f, m, write, NULL);
	}
	for (i = 0; i < after; i++) {
		fputs("---\n", f);
		filler(f, 10 + (int)i);
	}
	fclose(f);
	fileset_add(fs, pick(2) == 0 ? "functions/orders.yaml" : "functions/team/api/orders.yml",
	    text, len);
	free(text);
	if (!op.used)
		return false;

	o = open_memstream(&otext, &olen);
	fputs("defaults:\n", o);
	for (i = 0; i < F_COUNT; i++) {
		if (!op.in_defaults[i])
			continue;
		fprintf(o, "  %s: ", key_of(m, i));
		value(o, m, i, true, 2, NULL);
		fputc('\n', o);
	}
	fputs("  region: " REGION "\n", o);
	for (i = 0, olen = 0; i < F_COUNT; i++)
		olen += op.in_override[i];
	fputs(
	    olen == 0 && !op.env_split ? "functions:\n  subject: {}\n" : "functions:\n  subject:\n",
	    o);
	for (i = 0; i < F_COUNT; i++) {
		if (!op.in_override[i])
			continue;
		fprintf(o, "    %s: ", key_of(m, i));
		value(o, m, i, coin(), 4, NULL);
		fputc('\n', o);
	}
	if (op.env_split) {
		/* Variables the document lacks, and some it has, again; plus one it has that
		 * the override removes. */
		fputs("    environment: { UNWANTED: ~", o);
		for (i = 0; i < m->nenv; i++) {
			if (!env_over[i])
				continue;
			fprintf(o, ", %s: ", m->env_keys[i]);
			str(o, m->env_vals[i]);
		}
		fputs(" }\n", o);
	}
	fclose(o);
	fileset_add(fs, "environments/stage.yaml", otext, olen);
	free(otext);
	return true;
}

/* The digest of "subject" in the rendered desired state. */
static void
digest_of(const struct fileset *fs, bool overlay, char out[CRYPTO_SHA256_HEX_LEN + 1])
{
	struct load_opts o = {overlay ? "stage" : NULL, REGION, NULL, ACCOUNT};
	struct spec s = SPEC_INIT;
	struct diags d = DIAGS_INIT;
	const struct spec_function *fn;
	struct err err = ERR_INIT;
	size_t i;

	if (load_desired(fs, &o, &s, &d) != 0) {
		diags_sort(&d);
		diags_print(&d, stderr);
		for (i = 0; i < fs->n; i++)
			fprintf(stderr, "--- %s\n%s", fs->files[i].path, fs->files[i].data);
		fail_msg("the rendered desired state does not load");
	}
	fn = spec_find(&s, "subject", NULL);
	assert_non_null(fn);
	assert_int_equal(spec_digest(fn, NULL, out, &err), 0);
	spec_free(&s);
	diags_free(&d);
}

static void
random_digest(const struct model *m, bool allow_overlay, char out[CRYPTO_SHA256_HEX_LEN + 1])
{
	struct fileset fs = FILESET_INIT;
	bool overlay;

	overlay = render(m, &fs, allow_overlay);
	digest_of(&fs, overlay, out);
	fileset_free(&fs);
}

static void
same_for_every_rendering(bool s3)
{
	struct model m;
	char want[CRYPTO_SHA256_HEX_LEN + 1], got[CRYPTO_SHA256_HEX_LEN + 1];
	size_t i, k;

	base_model(&m, s3);
	random_digest(&m, false, want);
	for (i = 0; i < VARIANTS; i++) {
		/* Layers by ARN or by name in the same account and region: the same ARN. */
		for (k = 0; k < m.nlayers; k++) {
			m.layers[k].by_name = coin();
			by_name_layers += m.layers[k].by_name;
		}
		random_digest(&m, true, got);
		if (strcmp(got, want) != 0)
			fail_msg("variant %zu: digest %s, want %s", i, got, want);
	}
}

static void
test_digest_props__formatting_files_and_overlays_do_not_matter(void **state)
{
	(void)state;
	rng_state = 0x9e3779b97f4a7c15ULL;
	same_for_every_rendering(false);
	same_for_every_rendering(true);
	/* Each way of writing was taken many times (about 1/3, 1/6, 1/2, 1/4 of the cases). */
	assert_true(overlays_used > 2 * VARIANTS / 5);
	assert_true(env_splits > VARIANTS / 5);
	assert_true(by_name_layers > VARIANTS);
	assert_true(flow_documents > VARIANTS / 5);
	print_message("%d renderings: %zu with an overlay (%zu splitting the environment), %zu "
	              "flow-style documents, %zu layers by name\n",
	    2 * VARIANTS, overlays_used, env_splits, flow_documents, by_name_layers);
}

/* One change to the model, and whether a version freezes it. */
struct mutation {
	const char *what;
	bool frozen;
	bool s3; /* applied to the model with S3 code instead of an image */
	void (*apply)(struct model *m);
};

static void
m_image(struct model *m)
{
	m->image[strlen(m->image) - 1] = 'b';
}
static void
m_bucket(struct model *m)
{
	m->bucket[0] = 'b';
}
static void
m_key(struct model *m)
{
	m->key[0] = 'x';
}
static void
m_objver(struct model *m)
{
	m->objver[0] = 'w';
}
static void
m_s3(struct model *m)
{
	m->s3 = true;
}
static void
m_layer0(struct model *m)
{
	m->layers[0].version++;
}
static void
m_layer1(struct model *m)
{
	m->layers[1].name[0] = 'x';
}
static void
m_layer2(struct model *m)
{
	m->layers[2].version = 13;
}
static void
m_layer_order(struct model *m)
{
	struct layer t = m->layers[0];

	m->layers[0] = m->layers[1];
	m->layers[1] = t;
}
static void
m_layer_drop(struct model *m)
{
	m->nlayers = 2;
}
static void
m_layers_none(struct model *m)
{
	m->nlayers = 0;
}
static void
m_memory(struct model *m)
{
	m->memory = 513;
}
static void
m_timeout(struct model *m)
{
	m->timeout = 31;
}
static void
m_env_key0(struct model *m)
{
	m->env_keys[0][0] = 'M';
}
static void
m_env_key5(struct model *m)
{
	m->env_keys[5][1] = 'N';
}
static void
m_env_val0(struct model *m)
{
	m->env_vals[0][0] = 'I';
}
static void
m_env_val3(struct model *m)
{
	m->env_vals[3][0] = 'H';
}
static void
m_env_val5(struct model *m)
{
	m->env_vals[5][0] = ' ';
	m->env_vals[5][1] = '\0';
}
static void
m_env_drop(struct model *m)
{
	m->nenv = 5;
}
static void
m_env_add(struct model *m)
{
	snprintf(m->env_keys[6], sizeof(m->env_keys[6]), "EXTRA");
	snprintf(m->env_vals[6], sizeof(m->env_vals[6]), "1");
	m->nenv = 7;
}
static void
m_description(struct model *m)
{
	m->description[0] = 'o';
}
static void
m_role(struct model *m)
{
	m->role[strlen(m->role) - 1] = 'x';
}
static void
m_handler(struct model *m)
{
	m->handler[0] = 'b';
}
static void
m_runtime(struct model *m)
{
	m->runtime[strlen(m->runtime) - 1] = '3';
}
static void
m_aliases(struct model *m)
{
	m->aliases = 1;
}
static void
m_retain(struct model *m)
{
	m->retain = 9;
}
static void
m_mode(struct model *m)
{
	m->mode = "detect";
}
static void
m_smoke(struct model *m)
{
	m->smoke = 2;
}

static void
test_digest_props__frozen_fields_change_it_others_do_not(void **state)
{
	static const struct mutation muts[] = {
	    {"image", true, false, m_image},
	    {"code instead of image", true, false, m_s3},
	    {"s3_bucket", true, true, m_bucket},
	    {"s3_key", true, true, m_key},
	    {"s3_object_version", true, true, m_objver},
	    {"layer 0 version", true, false, m_layer0},
	    {"layer 1 name", true, false, m_layer1},
	    {"layer 2 version", true, false, m_layer2},
	    {"layer order", true, false, m_layer_order},
	    {"one layer fewer", true, false, m_layer_drop},
	    {"no layers", true, false, m_layers_none},
	    {"memory", true, false, m_memory},
	    {"timeout", true, false, m_timeout},
	    {"environment key 0", true, false, m_env_key0},
	    {"environment key 5", true, false, m_env_key5},
	    {"environment value 0", true, false, m_env_val0},
	    {"environment value 3", true, false, m_env_val3},
	    {"environment value 5 (empty -> space)", true, false, m_env_val5},
	    {"one variable fewer", true, false, m_env_drop},
	    {"one variable more", true, false, m_env_add},
	    {"description", true, false, m_description},
	    {"role", true, false, m_role},
	    {"handler", true, false, m_handler},
	    {"runtime", true, true, m_runtime},
	    {"aliases", false, false, m_aliases},
	    {"retain", false, false, m_retain},
	    {"mode", false, false, m_mode},
	    {"smoke_test", false, false, m_smoke},
	};
	char base[CRYPTO_SHA256_HEX_LEN + 1], s3base[CRYPTO_SHA256_HEX_LEN + 1];
	char seen[nitems(muts)][CRYPTO_SHA256_HEX_LEN + 1], got[CRYPTO_SHA256_HEX_LEN + 1];
	struct model m;
	size_t i, j, round;

	(void)state;
	rng_state = 0x2545f4914f6cdd1dULL;
	base_model(&m, false);
	random_digest(&m, false, base);
	base_model(&m, true);
	random_digest(&m, false, s3base);
	for (i = 0; i < nitems(muts); i++) {
		/* Several renderings of each change: the verdict must not depend on format. */
		for (round = 0; round < 8; round++) {
			base_model(&m, muts[i].s3);
			muts[i].apply(&m);
			random_digest(&m, true, got);
			if (round == 0)
				memcpy(seen[i], got, sizeof(got));
			else if (strcmp(seen[i], got) != 0)
				fail_msg("%s: renderings disagree", muts[i].what);
		}
		if (muts[i].frozen && strcmp(got, muts[i].s3 ? s3base : base) == 0)
			fail_msg("changing %s kept the digest", muts[i].what);
		if (!muts[i].frozen && strcmp(got, base) != 0)
			fail_msg("changing %s changed the digest", muts[i].what);
	}
	/* Every frozen change gives its own digest. */
	for (i = 0; i < nitems(muts); i++) {
		for (j = 0; j < i; j++) {
			if (muts[i].frozen && muts[j].frozen && strcmp(seen[i], seen[j]) == 0)
				fail_msg(
				    "%s and %s give the same digest", muts[i].what, muts[j].what);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_digest_props__formatting_files_and_overlays_do_not_matter),
	    cmocka_unit_test(test_digest_props__frozen_fields_change_it_others_do_not),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
