#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "aws/sigv4.h"
#include "common/timeutil.h"
#include "common/uri.h"
#include "common/url.h"
#include "common/xmalloc.h"

#define SIGV4_ALGORITHM "AWS4-HMAC-SHA256"
#define SIGV4_HEADERS_MAX 64
#define SIGV4_QUERY_PARAMS_MAX 256

/*
 * RFC 3986 §5.2.4 dot-segment removal with empty segments dropped, as botocore's
 * normalize_url_path(), then percent-encoded again keeping '/' and '~'.
 */
static int
canonical_uri(const char *path, struct buf *out)
{
	const char *seg[512];
	size_t len[512];
	size_t nseg = 0, i, n;
	const char *p, *end;
	bool lead, trail;

	if (path == NULL || *path == '\0')
		return buf_putc(out, '/');
	n = strlen(path);
	lead = path[0] == '/';
	trail = path[n - 1] == '/';
	for (p = path; p < path + n; p = end + 1) {
		end = memchr(p, '/', (size_t)(path + n - p));
		if (end == NULL)
			end = path + n;
		if (end == p || (end - p == 1 && p[0] == '.'))
			continue;
		if (end - p == 2 && p[0] == '.' && p[1] == '.') {
			if (nseg > 0)
				nseg--;
			continue;
		}
		if (nseg == nitems(seg))
			return -1;
		seg[nseg] = p;
		len[nseg++] = (size_t)(end - p);
	}
	if (lead && buf_putc(out, '/') != 0)
		return -1;
	for (i = 0; i < nseg; i++) {
		if (i > 0 && buf_putc(out, '/') != 0)
			return -1;
		if (uri_encode(out, seg[i], len[i], true) != 0)
			return -1;
	}
	if (trail && nseg > 0 && buf_putc(out, '/') != 0)
		return -1;
	return 0;
}

struct qparam {
	char *key; /* encoded with the AWS set */
	char *value;
};

static int
qparam_cmp(const void *a, const void *b)
{
	const struct qparam *x = a, *y = b;
	int c;

	c = strcmp(x->key, y->key);
	return c != 0 ? c : strcmp(x->value, y->value);
}

/* s (decoded) encoded with the AWS set; NULL past SIGV4_CANONICAL_MAX. */
static char *
encode(const char *s)
{
	struct buf b = BUF_INIT(SIGV4_CANONICAL_MAX);

	if (uri_encode(&b, s, strlen(s), false) != 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_detach(&b, NULL);
}

/*
 * Decode each wire parameter and encode it again with the AWS set, then sort by key and
 * value: the same string botocore derives from the parameters it serialized.
 */
static int
canonical_query(const char *query, struct buf *out, struct err *err)
{
	struct qparam params[SIGV4_QUERY_PARAMS_MAX];
	struct uri_query it;
	char *key = NULL, *value = NULL;
	size_t n = 0, i;
	int rc = 0, got;

	uri_query_init(&it, query);
	for (;;) {
		got = uri_query_next(&it, &key, &value);
		if (got == 0)
			break;
		if (n == nitems(params)) {
			rc = err_set(err, ERR_TOOBIG, "more than %d query parameters",
			    SIGV4_QUERY_PARAMS_MAX);
			goto out;
		}
		if (got < 0) {
			rc = err_set(err, ERR_INVALID, "malformed percent-encoding in query");
			goto out;
		}
		params[n].key = encode(key);
		params[n].value = encode(value);
		n++;
		free(key);
		free(value);
		key = NULL;
		value = NULL;
		if (params[n - 1].key == NULL || params[n - 1].value == NULL) {
			rc = err_set(
			    err, ERR_TOOBIG, "canonical query over %d bytes", SIGV4_CANONICAL_MAX);
			goto out;
		}
	}
	qsort(params, n, sizeof(params[0]), qparam_cmp);
	for (i = 0; i < n; i++) {
		if (buf_printf(out, "%s%s=%s", i > 0 ? "&" : "", params[i].key, params[i].value) !=
		    0) {
			rc = err_set(
			    err, ERR_TOOBIG, "canonical query over %d bytes", SIGV4_CANONICAL_MAX);
			goto out;
		}
	}
out:
	free(key);
	free(value);
	for (i = 0; i < n; i++) {
		free(params[i].key);
		free(params[i].value);
	}
	return rc;
}

struct hdr {
	char *name; /* lower-case */
	const char *value;
	size_t order;
};

static int
hdr_cmp(const void *a, const void *b)
{
	const struct hdr *x = a, *y = b;
	int c;

	c = strcmp(x->name, y->name);
	if (c != 0)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

static bool
is_space(unsigned char c)
{
	/* What Python's str.split() treats as whitespace in the ASCII range. */
	return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

static bool
is_tchar(unsigned char c)
{
	return isalnum(c) || strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Trimall: strip the value and collapse each run of whitespace to one space. */
static int
put_trimmed(struct buf *out, const char *v)
{
	const unsigned char *p = (const unsigned char *)v;
	bool space = false, any = false;

	for (; *p != '\0'; p++) {
		if (is_space(*p)) {
			space = true;
			continue;
		}
		if (space && any && buf_putc(out, ' ') != 0)
			return -1;
		if (buf_putc(out, (char)*p) != 0)
			return -1;
		space = false;
		any = true;
	}
	return 0;
}

static int
canonical_headers(
    const struct sigv4_request *req, struct buf *out, struct buf *signed_headers, struct err *err)
{
	struct hdr h[SIGV4_HEADERS_MAX];
	size_t i, j, n = req->nheaders;
	int rc = 0;

	if (n > nitems(h))
		return err_set(err, ERR_TOOBIG, "more than %d signed headers", SIGV4_HEADERS_MAX);
	for (i = 0; i < n; i++) {
		h[i].name = xstrdup(req->headers[i].name);
		h[i].value = req->headers[i].value;
		h[i].order = i;
		for (j = 0; h[i].name[j] != '\0'; j++)
			h[i].name[j] = (char)tolower((unsigned char)h[i].name[j]);
	}
	for (i = 0; i < n; i++) {
		if (h[i].name[0] == '\0') {
			rc = err_set(err, ERR_INVALID, "empty header name");
			goto out;
		}
		for (j = 0; h[i].name[j] != '\0'; j++) {
			if (!is_tchar((unsigned char)h[i].name[j])) {
				rc = err_set(err, ERR_INVALID, "header name is not a token");
				goto out;
			}
		}
	}
	qsort(h, n, sizeof(h[0]), hdr_cmp);
	for (i = 0; i < n; i = j) {
		if (buf_printf(out, "%s:", h[i].name) != 0 || put_trimmed(out, h[i].value) != 0)
			goto toobig;
		for (j = i + 1; j < n && strcmp(h[j].name, h[i].name) == 0; j++) {
			if (buf_putc(out, ',') != 0 || put_trimmed(out, h[j].value) != 0)
				goto toobig;
		}
		if (buf_putc(out, '\n') != 0)
			goto toobig;
		if (signed_headers != NULL &&
		    buf_printf(signed_headers, "%s%s", i > 0 ? ";" : "", h[i].name) != 0)
			goto toobig;
	}
	goto out;
toobig:
	rc = err_set(err, ERR_TOOBIG, "canonical headers over %d bytes", SIGV4_CANONICAL_MAX);
out:
	for (i = 0; i < n; i++)
		free(h[i].name);
	return rc;
}

int
sigv4_canonical_request(
    const struct sigv4_request *req, struct buf *out, struct buf *signed_headers, struct err *err)
{
	struct buf sh = BUF_INIT(SIGV4_SIGNED_HEADERS_MAX);
	int rc;

	if (buf_printf(out, "%s\n", req->method) != 0 || canonical_uri(req->path, out) != 0 ||
	    buf_putc(out, '\n') != 0) {
		rc = err_set(err, ERR_TOOBIG, "canonical path over %d bytes", SIGV4_CANONICAL_MAX);
		goto out;
	}
	if ((rc = canonical_query(req->query, out, err)) != 0)
		goto out;
	if (buf_putc(out, '\n') != 0) {
		rc = err_set(
		    err, ERR_TOOBIG, "canonical request over %d bytes", SIGV4_CANONICAL_MAX);
		goto out;
	}
	if ((rc = canonical_headers(req, out, &sh, err)) != 0)
		goto out;
	if (buf_printf(out, "\n%s\n%s", buf_cstr(&sh), req->payload_hash) != 0) {
		rc = err_set(
		    err, ERR_TOOBIG, "canonical request over %d bytes", SIGV4_CANONICAL_MAX);
		goto out;
	}
	if (signed_headers != NULL && buf_append(signed_headers, sh.data, sh.len) != 0)
		rc = err_set(
		    err, ERR_TOOBIG, "signed headers over %d bytes", SIGV4_SIGNED_HEADERS_MAX);
out:
	buf_free(&sh);
	return rc;
}

int
sigv4_string_to_sign(
    const struct sigv4_scope *scope, const char *canonical, size_t len, struct buf *out)
{
	char hex[CRYPTO_SHA256_HEX_LEN + 1];

	crypto_sha256_hex(canonical, len, hex);
	return buf_printf(out, SIGV4_ALGORITHM "\n%s\n%.8s/%s/%s/aws4_request\n%s", scope->amzdate,
	    scope->amzdate, scope->region, scope->service, hex);
}

void
sigv4_signing_key(const char *secret, const char *date, const char *region, const char *service,
    unsigned char out[CRYPTO_SHA256_LEN])
{
	unsigned char k[CRYPTO_SHA256_LEN];
	char *seed;

	seed = xasprintf("AWS4%s", secret);
	crypto_hmac_sha256(seed, strlen(seed), date, strnlen(date, 8), k);
	crypto_hmac_sha256(k, sizeof(k), region, strlen(region), k);
	crypto_hmac_sha256(k, sizeof(k), service, strlen(service), k);
	crypto_hmac_sha256(k, sizeof(k), "aws4_request", strlen("aws4_request"), out);
	/* The secret and what derives from it do not outlive this call. */
	memset(seed, 0, strlen(seed));
	free(seed);
	memset(k, 0, sizeof(k));
}

int
sigv4_signature(const struct sigv4_request *req, const struct sigv4_scope *scope,
    const char *secret, char out[CRYPTO_SHA256_HEX_LEN + 1], struct err *err)
{
	struct buf cr = BUF_INIT(SIGV4_CANONICAL_MAX), sts = BUF_INIT(SIGV4_CANONICAL_MAX);
	unsigned char key[CRYPTO_SHA256_LEN], mac[CRYPTO_SHA256_LEN];
	int rc;

	if ((rc = sigv4_canonical_request(req, &cr, NULL, err)) != 0)
		goto out;
	if (sigv4_string_to_sign(scope, cr.data, cr.len, &sts) != 0) {
		rc = err_set(err, ERR_TOOBIG, "string to sign too long");
		goto out;
	}
	sigv4_signing_key(secret, scope->amzdate, scope->region, scope->service, key);
	crypto_hmac_sha256(key, sizeof(key), sts.data, sts.len, mac);
	crypto_hex(mac, sizeof(mac), out);
	memset(key, 0, sizeof(key));
out:
	buf_free(&cr);
	buf_free(&sts);
	return rc;
}

int
sigv4_authorization(const struct sigv4_request *req, const struct sigv4_scope *scope,
    const char *access_key, const char *secret, struct buf *out, struct err *err)
{
	struct buf cr = BUF_INIT(SIGV4_CANONICAL_MAX), sh = BUF_INIT(SIGV4_SIGNED_HEADERS_MAX);
	struct buf sts = BUF_INIT(SIGV4_CANONICAL_MAX);
	unsigned char key[CRYPTO_SHA256_LEN], mac[CRYPTO_SHA256_LEN];
	char sig[CRYPTO_SHA256_HEX_LEN + 1];
	int rc;

	if ((rc = sigv4_canonical_request(req, &cr, &sh, err)) != 0)
		goto out;
	if (sigv4_string_to_sign(scope, cr.data, cr.len, &sts) != 0) {
		rc = err_set(err, ERR_TOOBIG, "string to sign too long");
		goto out;
	}
	sigv4_signing_key(secret, scope->amzdate, scope->region, scope->service, key);
	crypto_hmac_sha256(key, sizeof(key), sts.data, sts.len, mac);
	crypto_hex(mac, sizeof(mac), sig);
	memset(key, 0, sizeof(key));
	if (buf_printf(out,
	        SIGV4_ALGORITHM " Credential=%s/%.8s/%s/%s/aws4_request, SignedHeaders=%s, "
	                        "Signature=%s",
	        access_key, scope->amzdate, scope->region, scope->service, buf_cstr(&sh), sig) != 0)
		rc = err_set(err, ERR_TOOBIG, "authorization header too long");
out:
	buf_free(&cr);
	buf_free(&sh);
	buf_free(&sts);
	return rc;
}

/* Copy the value of "key=value" up to the next ',' or end into dst. */
static int
auth_field(const char *value, const char *key, char *dst, size_t size)
{
	const char *p = value, *v, *end;
	size_t klen = strlen(key), n;

	for (;;) {
		while (*p == ' ' || *p == ',')
			p++;
		if (*p == '\0')
			return -1;
		end = strchr(p, ',');
		if (end == NULL)
			end = p + strlen(p);
		if ((size_t)(end - p) > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
			v = p + klen + 1;
			n = (size_t)(end - v);
			while (n > 0 && v[n - 1] == ' ')
				n--;
			if (n == 0 || n >= size)
				return -1;
			memcpy(dst, v, n);
			dst[n] = '\0';
			return 0;
		}
		if (*end == '\0')
			return -1;
		p = end + 1;
	}
}

int
sigv4_parse_authorization(const char *value, struct sigv4_auth *out, struct err *err)
{
	char cred[SIGV4_ACCESS_KEY_MAX + SIGV4_REGION_MAX + SIGV4_SERVICE_MAX + 64];
	char *parts[5], *p;
	size_t n = 0, i;
	const char *alg = SIGV4_ALGORITHM " ";

	memset(out, 0, sizeof(*out));
	if (strncmp(value, alg, strlen(alg)) != 0)
		return err_set(err, ERR_INVALID, "authorization is not " SIGV4_ALGORITHM);
	value += strlen(alg);
	if (auth_field(value, "Credential", cred, sizeof(cred)) != 0 ||
	    auth_field(value, "SignedHeaders", out->signed_headers, sizeof(out->signed_headers)) !=
	        0 ||
	    auth_field(value, "Signature", out->signature, sizeof(out->signature)) != 0)
		return err_set(err, ERR_INVALID,
		    "authorization header requires Credential, SignedHeaders and Signature");
	/* access-key/date/region/service/aws4_request */
	for (p = cred; n < nitems(parts); n++) {
		parts[n] = p;
		p = strchr(p, '/');
		if (p == NULL)
			break;
		*p++ = '\0';
	}
	if (n != 4 || strcmp(parts[4], "aws4_request") != 0 || strlen(parts[1]) != 8 ||
	    parts[0][0] == '\0' || strlen(parts[0]) > SIGV4_ACCESS_KEY_MAX || parts[2][0] == '\0' ||
	    strlen(parts[2]) > SIGV4_REGION_MAX || parts[3][0] == '\0' ||
	    strlen(parts[3]) > SIGV4_SERVICE_MAX)
		return err_set(err, ERR_INVALID, "malformed credential scope in authorization");
	for (i = 0; i < 8; i++) {
		if (!isdigit((unsigned char)parts[1][i]))
			return err_set(err, ERR_INVALID, "malformed date in credential scope");
	}
	memcpy(out->access_key, parts[0], strlen(parts[0]) + 1);
	memcpy(out->date, parts[1], 9);
	memcpy(out->region, parts[2], strlen(parts[2]) + 1);
	memcpy(out->service, parts[3], strlen(parts[3]) + 1);
	if (strlen(out->signature) != CRYPTO_SHA256_HEX_LEN)
		return err_set(err, ERR_INVALID, "signature is not 64 hex digits");
	return 0;
}

int
sigv4_sign_url(const struct sigv4_sign_opts *o, struct sigv4_signed *out, struct err *err)
{
	struct sigv4_header h[SIGV4_EXTRA_HEADERS_MAX + 3];
	struct sigv4_request req;
	struct sigv4_scope scope;
	struct buf auth = BUF_INIT(SIGV4_CANONICAL_MAX);
	char amzdate[17], payload[CRYPTO_SHA256_HEX_LEN + 1];
	struct url u;
	const char *token = o->creds->session_token;
	size_t n = 0, i;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&u, 0, sizeof(u));
	if (o->nheaders > SIGV4_EXTRA_HEADERS_MAX) {
		rc = err_set(err, ERR_INVALID, "more than %d extra headers to sign",
		    SIGV4_EXTRA_HEADERS_MAX);
		goto out;
	}
	/* The signed host is the URL's authority, as botocore's _host_from_url() has it. */
	rc = url_parse(&u, o->url, err);
	if (rc != 0)
		goto out;
	timeutil_amzdate(o->now, amzdate);
	crypto_sha256_hex(o->body != NULL ? o->body : "", o->body != NULL ? o->len : 0, payload);
	h[n++] = (struct sigv4_header){"host", u.authority};
	h[n++] = (struct sigv4_header){"x-amz-date", amzdate};
	for (i = 0; i < o->nheaders; i++)
		h[n++] = o->headers[i];
	if (token != NULL)
		h[n++] = (struct sigv4_header){"x-amz-security-token", token};
	req = (struct sigv4_request){o->method, u.path, u.query, h, n, payload};
	scope = (struct sigv4_scope){amzdate, o->region, o->service};
	rc = sigv4_authorization(
	    &req, &scope, o->creds->access_key_id, o->creds->secret_access_key, &auth, err);
	if (rc != 0)
		goto out;
	out->lines[out->nlines++] = xasprintf("X-Amz-Date: %s", amzdate);
	if (token != NULL)
		out->lines[out->nlines++] = xasprintf("X-Amz-Security-Token: %s", token);
	for (i = 0; i < o->nheaders; i++)
		out->lines[out->nlines++] =
		    xasprintf("%s: %s", o->headers[i].name, o->headers[i].value);
	out->lines[out->nlines++] = xasprintf("Authorization: %s", buf_cstr(&auth));
out:
	url_clear(&u);
	buf_free(&auth);
	return rc;
}

void
sigv4_signed_free(struct sigv4_signed *s)
{
	size_t i;

	if (s == NULL)
		return;
	/* A line may carry the session token: it does not outlive its use. */
	for (i = 0; i < s->nlines; i++) {
		explicit_bzero(s->lines[i], strlen(s->lines[i]));
		free(s->lines[i]);
		s->lines[i] = NULL;
	}
	s->nlines = 0;
}
