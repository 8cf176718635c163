/*
 * SSH commit signatures (git's gpg.format=ssh), verified without ssh-keygen.
 *
 * Formats (OpenSSH PROTOCOL.sshsig, RFC 4253 §6.6, RFC 5656 §3.1, RFC 8709, RFC 8332):
 *   armored   "-----BEGIN SSH SIGNATURE-----\n" base64 lines "\n-----END SSH SIGNATURE-----"
 *   blob      byte[6] "SSHSIG", uint32 version (1), string publickey, string namespace,
 *             string reserved, string hash_algorithm, string signature
 *   signed    byte[6] "SSHSIG", string namespace, string reserved (empty, as ssh-keygen
 *             verifies), string hash_algorithm, string H(payload)
 *   signature string type, string data: ed25519 64 raw bytes; ECDSA (mpint r, mpint s)
 *             over the curve's hash; RSA PKCS#1 v1.5, rsa-sha2-256 or rsa-sha2-512
 *
 * Nothing read from the repository is trusted: the reader below never moves past the end of
 * its input, every length is checked before use, and messages quote untrusted text only
 * sanitized and truncated.
 *
 * The signature and the payload are split from the raw commit object here rather than with
 * git_commit_extract_signature(): libgit2 1.5 scans with strchr(), so a NUL byte ends its
 * payload early (bytes appended after a NUL would not be covered by the signature it
 * reports as matching), and it looks for "gpgsig" in the message body as well as in the
 * header. git (commit.c, parse_buffer_signed_by_header) reads header lines only and uses
 * the object's length; that is the rule used here, with one more refusal: two gpgsig
 * headers are BAD rather than concatenated.
 */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <git2.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include "common/buf.h"
#include "common/compat.h"
#include "common/crypto.h"
#include "common/fdio.h"
#include "common/xmalloc.h"
#include "gitwatch/sigverify.h"
#include "gitwatch/source.h"

#define MAGIC "SSHSIG"
#define MAGIC_LEN 6
#define SIG_VERSION 1
#define NAMESPACE "git"
#define ARMOR_BEGIN "-----BEGIN SSH SIGNATURE-----\n"
#define ARMOR_END "\n-----END SSH SIGNATURE-----"
/* A reason is one line; untrusted text quoted in it is cut to this many characters. */
#define WHY_MAX 400
#define QUOTE_MAX 64
/* Room kept at the end of err.message for " (and N more errors)". */
#define MORE_ROOM 40

const char *const sigverify_result_names[] = {
    [SIGVERIFY_GOOD] = "good",
    [SIGVERIFY_UNSIGNED] = "unsigned",
    [SIGVERIFY_UNKNOWN_KEY] = "unknown-key",
    [SIGVERIFY_BAD] = "bad",
    [SIGVERIFY_UNSUPPORTED] = "unsupported",
};

enum key_kind {
	KIND_ED25519,
	KIND_ECDSA,
	KIND_RSA,
	KIND_OTHER, /* known to OpenSSH, not verified here */
};

struct keytype {
	const char *name;
	enum key_kind kind;
	const char *curve; /* ECDSA: the curve name inside the key blob */
	const char *group; /* ECDSA: OpenSSL's group name */
	size_t field;      /* ECDSA: bytes per coordinate (and at most per r, s) */
	int hash_nid;      /* ECDSA: the hash the curve signs with (RFC 5656 §6.2.1) */
};

static const struct keytype keytypes[] = {
    {"ssh-ed25519", KIND_ED25519, NULL, NULL, 0, 0},
    {"ecdsa-sha2-nistp256", KIND_ECDSA, "nistp256", "prime256v1", 32, NID_sha256},
    {"ecdsa-sha2-nistp384", KIND_ECDSA, "nistp384", "secp384r1", 48, NID_sha384},
    {"ecdsa-sha2-nistp521", KIND_ECDSA, "nistp521", "secp521r1", 66, NID_sha512},
    {"ssh-rsa", KIND_RSA, NULL, NULL, 0, 0},
    {"ssh-dss", KIND_OTHER, NULL, NULL, 0, 0},
    {"sk-ssh-ed25519@openssh.com", KIND_OTHER, NULL, NULL, 0, 0},
    {"sk-ecdsa-sha2-nistp256@openssh.com", KIND_OTHER, NULL, NULL, 0, 0},
    {"ssh-ed25519-cert-v01@openssh.com", KIND_OTHER, NULL, NULL, 0, 0},
    {"ecdsa-sha2-nistp256-cert-v01@openssh.com", KIND_OTHER, NULL, NULL, 0, 0},
    {"ecdsa-sha2-nistp384-cert-v01@openssh.com", KIND_OTHER, NULL, NULL, 0, 0},
    {"ecdsa-sha2-nistp521-cert-v01@openssh.com", KIND_OTHER, NULL, NULL, 0, 0},
    {"ssh-rsa-cert-v01@openssh.com", KIND_OTHER, NULL, NULL, 0, 0},
    {"ssh-dss-cert-v01@openssh.com", KIND_OTHER, NULL, NULL, 0, 0},
    {"sk-ssh-ed25519-cert-v01@openssh.com", KIND_OTHER, NULL, NULL, 0, 0},
    {"sk-ecdsa-sha2-nistp256-cert-v01@openssh.com", KIND_OTHER, NULL, NULL, 0, 0},
};

/* A window on bytes that are not ours; every read checks what is left. */
struct rd {
	const unsigned char *p;
	size_t n;
};

/* A public key parsed from its blob; the windows point into that blob. */
struct pubkey {
	const struct keytype *kt;
	struct rd a; /* ed25519: the 32-byte key; ECDSA: the point; RSA: e */
	struct rd b; /* RSA: n */
	int bits;    /* RSA: modulus bits */
};

struct entry {
	char *principals;
	char *namespaces; /* NULL: every namespace */
	bool has_after, has_before;
	int64_t valid_after, valid_before;
	const struct keytype *kt;
	unsigned char *blob; /* canonical for the kinds verified here, as written for others */
	size_t bloblen;
	size_t line;
};

struct allowed_signers {
	char *path;
	struct entry *v;
	size_t n;
	size_t cap;
};

/* The problems found in an allowed_signers file, as many as fit in one err message. */
struct errlist {
	const char *path;
	char msg[ERR_MESSAGE_MAX - MORE_ROOM];
	size_t len;
	size_t n;     /* found */
	size_t shown; /* in msg */
};

/* What verification found; why is set for every result but GOOD. */
struct verdict {
	enum sigverify_result result;
	char *signer;
	char *why;
};

/* ---- Reading the SSH wire format ---- */

static bool
rd_u32(struct rd *r, uint32_t *v)
{
	if (r->n < 4)
		return false;
	*v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 | (uint32_t)r->p[2] << 8 |
	     (uint32_t)r->p[3];
	r->p += 4;
	r->n -= 4;
	return true;
}

/* A string: uint32 length, then that many bytes, which s gets. */
static bool
rd_string(struct rd *r, struct rd *s)
{
	struct rd save = *r;
	uint32_t len;

	if (!rd_u32(r, &len) || len > r->n) {
		*r = save;
		return false;
	}
	s->p = r->p;
	s->n = len;
	r->p += len;
	r->n -= len;
	return true;
}

/* A positive mpint (RFC 4251 §5) with its leading zero bytes dropped; m gets the digits. */
static bool
rd_mpint(struct rd *r, struct rd *m)
{
	if (!rd_string(r, m))
		return false;
	if (m->n > 0 && (m->p[0] & 0x80) != 0)
		return false;
	while (m->n > 0 && m->p[0] == 0) {
		m->p++;
		m->n--;
	}
	return true;
}

static bool
rd_eq(const struct rd *s, const char *str)
{
	size_t n = strlen(str);

	return s->n == n && memcmp(s->p, str, n) == 0;
}

/* ---- Writing it (for canonical key blobs and the signed data) ---- */

/* Appends never fail: every input was capped before, and each buffer's cap covers it. */
static void
put(struct buf *b, const void *p, size_t n)
{
	int rc = buf_append(b, p, n);

	assert(rc == 0);
	(void)rc;
}

static void
put_u32(struct buf *b, uint32_t v)
{
	unsigned char x[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
	    (unsigned char)(v >> 8), (unsigned char)v};

	put(b, x, sizeof(x));
}

static void
put_string(struct buf *b, const void *p, size_t n)
{
	assert(n <= UINT32_MAX);
	put_u32(b, (uint32_t)n);
	put(b, p, n);
}

/* An mpint from digits without leading zeros: a zero byte first when the top bit is set. */
static void
put_mpint(struct buf *b, const struct rd *m)
{
	bool pad = m->n > 0 && (m->p[0] & 0x80) != 0;

	put_u32(b, (uint32_t)(m->n + pad));
	if (pad)
		put(b, "", 1);
	put(b, m->p, m->n);
}

/* ---- Small helpers ---- */

/* Untrusted text for a message: printable ASCII, others as '?', at most QUOTE_MAX. */
static void
sanitize(char *out, size_t size, const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t i, o = 0;

	assert(size > 4);
	for (i = 0; i < n && o + 4 < size; i++) {
		if (i == QUOTE_MAX) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		out[o++] = s[i] >= 0x20 && s[i] < 0x7f ? (char)s[i] : '?';
	}
	out[o] = '\0';
}

static void
format_time(char out[32], int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, 32, "@%lld", (long long)t);
}

static void PRINTFLIKE(3, 4)
    verdict_set(struct verdict *v, enum sigverify_result result, const char *fmt, ...)
{
	va_list ap;

	v->result = result;
	free(v->why);
	va_start(ap, fmt);
	v->why = xvasprintf(fmt, ap);
	va_end(ap);
}

/*
 * OpenSSH's match_pattern_list() for one string: a comma-separated list of patterns with
 * '*' and '?', each negated by a leading '!'. 1 when a pattern matches and no negated one
 * does, -1 when a negated one matches, 0 otherwise.
 */
static bool
glob(const char *s, size_t sn, const char *p, size_t pn)
{
	size_t si = 0, pi = 0, star = SIZE_MAX, mark = 0;

	while (si < sn) {
		if (pi < pn && p[pi] == '*') {
			star = pi++;
			mark = si;
		} else if (pi < pn && (p[pi] == '?' || p[pi] == s[si])) {
			si++;
			pi++;
		} else if (star != SIZE_MAX) {
			pi = star + 1;
			si = ++mark;
		} else {
			return false;
		}
	}
	while (pi < pn && p[pi] == '*')
		pi++;
	return pi == pn;
}

static int
match_pattern_list(const char *s, const char *list)
{
	const char *p = list, *end;
	bool negated;
	int got = 0;

	for (;;) {
		end = p + strcspn(p, ",");
		negated = *p == '!';
		if (glob(s, strlen(s), p + negated, (size_t)(end - p - negated))) {
			if (negated)
				return -1;
			got = 1;
		}
		if (*end == '\0')
			return got;
		p = end + 1;
	}
}

/* ---- Public keys ---- */

static const struct keytype *
keytype_find(const void *name, size_t n)
{
	size_t i;

	for (i = 0; i < nitems(keytypes); i++)
		if (strlen(keytypes[i].name) == n && memcmp(keytypes[i].name, name, n) == 0)
			return &keytypes[i];
	return NULL;
}

static int
mpint_bits(const struct rd *m)
{
	int bits, top;

	if (m->n == 0)
		return 0;
	bits = (int)(m->n - 1) * 8;
	for (top = m->p[0]; top != 0; top >>= 1)
		bits++;
	return bits;
}

/*
 * Parse a public key blob. Returns 0; -1 when it is malformed, or -2 when it is a key
 * that cannot be verified here (another type, an RSA size out of range), with why set.
 */
static int
pubkey_parse(struct pubkey *k, const unsigned char *blob, size_t n, char *why, size_t whysize)
{
	struct rd r = {blob, n}, type, curve;
	char q[QUOTE_MAX + 8];

	memset(k, 0, sizeof(*k));
	if (n > SIGVERIFY_KEY_MAX) {
		snprintf(why, whysize, "a public key of %zu bytes, over the %d-byte limit", n,
		    SIGVERIFY_KEY_MAX);
		return -2;
	}
	if (!rd_string(&r, &type)) {
		snprintf(why, whysize, "a truncated public key");
		return -1;
	}
	k->kt = keytype_find(type.p, type.n);
	if (k->kt == NULL || k->kt->kind == KIND_OTHER) {
		sanitize(q, sizeof(q), type.p, type.n);
		snprintf(why, whysize, "key type \"%s\" is not supported", q);
		return -2;
	}
	switch (k->kt->kind) {
	case KIND_ED25519:
		if (!rd_string(&r, &k->a) || k->a.n != 32) {
			snprintf(why, whysize, "a malformed ssh-ed25519 key");
			return -1;
		}
		break;
	case KIND_ECDSA:
		if (!rd_string(&r, &curve) || !rd_eq(&curve, k->kt->curve) ||
		    !rd_string(&r, &k->a) || k->a.n != 1 + 2 * k->kt->field || k->a.p[0] != 4) {
			snprintf(why, whysize, "a malformed %s key", k->kt->name);
			return -1;
		}
		break;
	case KIND_RSA:
		if (!rd_mpint(&r, &k->a) || !rd_mpint(&r, &k->b) || k->a.n == 0 || k->b.n == 0) {
			snprintf(why, whysize, "a malformed ssh-rsa key");
			return -1;
		}
		k->bits = mpint_bits(&k->b);
		if (k->bits < SIGVERIFY_RSA_MIN_BITS || k->bits > SIGVERIFY_RSA_MAX_BITS) {
			snprintf(why, whysize, "an RSA key of %d bits (tether accepts %d to %d)",
			    k->bits, SIGVERIFY_RSA_MIN_BITS, SIGVERIFY_RSA_MAX_BITS);
			return -2;
		}
		break;
	case KIND_OTHER:
		abort();
	}
	if (r.n != 0) {
		snprintf(why, whysize, "trailing data after the %s key", k->kt->name);
		return -1;
	}
	return 0;
}

/* The key's canonical blob (minimal mpints), what fingerprints and comparisons use. */
static void
pubkey_encode(const struct pubkey *k, struct buf *b)
{
	put_string(b, k->kt->name, strlen(k->kt->name));
	switch (k->kt->kind) {
	case KIND_ED25519:
		put_string(b, k->a.p, k->a.n);
		break;
	case KIND_ECDSA:
		put_string(b, k->kt->curve, strlen(k->kt->curve));
		put_string(b, k->a.p, k->a.n);
		break;
	case KIND_RSA:
		put_mpint(b, &k->a);
		put_mpint(b, &k->b);
		break;
	case KIND_OTHER:
		abort();
	}
}

char *
sigverify_fingerprint(const void *blob, size_t n)
{
	unsigned char md[CRYPTO_SHA256_LEN];
	char *b64, *fp;
	size_t len;

	crypto_sha256(blob, n, md);
	b64 = crypto_base64_encode(md, sizeof(md));
	len = strlen(b64);
	while (len > 0 && b64[len - 1] == '=')
		len--;
	fp = xasprintf("SHA256:%.*s", (int)len, b64);
	free(b64);
	return fp;
}

static char *
key_desc(const char *type, const void *blob, size_t n)
{
	char *fp = sigverify_fingerprint(blob, n), *s;

	s = xasprintf("%s %s", type, fp);
	free(fp);
	return s;
}

static EVP_PKEY *
fromdata(const char *name, OSSL_PARAM *params)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, name, NULL);
	EVP_PKEY *pkey = NULL;

	if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
		pkey = NULL;
	EVP_PKEY_CTX_free(ctx);
	return pkey;
}

/*
 * The key as OpenSSL's, checked the way OpenSSH checks it: an ECDSA point on its curve, not
 * the identity, of the group's order. An RSA modulus is only size-checked, as in OpenSSH:
 * OpenSSL's RSA public check tests the modulus for primality, which costs tens of
 * milliseconds per key and proves nothing a failed verification would not. NULL when
 * OpenSSL refuses the key.
 */
static EVP_PKEY *
pubkey_evp(const struct pubkey *k)
{
	EVP_PKEY *pkey = NULL;
	EVP_PKEY_CTX *check = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	BIGNUM *n = NULL, *e = NULL;
	OSSL_PARAM ec[3];

	switch (k->kt->kind) {
	case KIND_ED25519:
		pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, k->a.p, k->a.n);
		break;
	case KIND_ECDSA:
		ec[0] = OSSL_PARAM_construct_utf8_string(
		    OSSL_PKEY_PARAM_GROUP_NAME, (char *)k->kt->group, 0);
		ec[1] = OSSL_PARAM_construct_octet_string(
		    OSSL_PKEY_PARAM_PUB_KEY, (void *)k->a.p, k->a.n);
		ec[2] = OSSL_PARAM_construct_end();
		pkey = fromdata("EC", ec);
		break;
	case KIND_RSA:
		e = BN_bin2bn(k->a.p, (int)k->a.n, NULL);
		n = BN_bin2bn(k->b.p, (int)k->b.n, NULL);
		bld = OSSL_PARAM_BLD_new();
		if (e == NULL || n == NULL || bld == NULL ||
		    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) != 1 ||
		    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) != 1)
			break;
		params = OSSL_PARAM_BLD_to_param(bld);
		if (params != NULL)
			pkey = fromdata("RSA", params);
		break;
	case KIND_OTHER:
		abort();
	}
	if (pkey != NULL && k->kt->kind == KIND_ECDSA) {
		check = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
		if (check == NULL || EVP_PKEY_public_check(check) != 1) {
			EVP_PKEY_free(pkey);
			pkey = NULL;
		}
	}
	EVP_PKEY_CTX_free(check);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	/* Leave no OpenSSL error behind for whoever uses the queue next on this thread. */
	ERR_clear_error();
	return pkey;
}

/* ---- allowed_signers ---- */

static void PRINTFLIKE(4, 5)
    errlist_add(struct errlist *el, size_t line, size_t column, const char *fmt, ...)
{
	char text[ERR_MESSAGE_MAX];
	char *one;
	size_t len;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	one = xasprintf("%s:%zu:%zu: %s", el->path, line, column, text);
	len = strlen(one);
	el->n++;
	if (el->n == 1) {
		snprintf(el->msg, sizeof(el->msg), "%s", one);
		el->len = strlen(el->msg);
		el->shown = 1;
	} else if (el->shown == el->n - 1 && el->len + 2 + len < sizeof(el->msg)) {
		memcpy(el->msg + el->len, "; ", 2);
		memcpy(el->msg + el->len + 2, one, len + 1);
		el->len += 2 + len;
		el->shown++;
	}
	free(one);
}

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static int
digits(const char *s, size_t n)
{
	int v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

/*
 * ssh-keygen's time: YYYYMMDD, YYYYMMDDHHMM or YYYYMMDDHHMMSS, in local time, or in UTC with
 * a "Z" (or "UTC") suffix. Returns 0 and seconds since the epoch, or -1.
 */
static int
parse_time(const char *s, int64_t *out)
{
	size_t i, l = strlen(s);
	bool utc = false;
	struct tm tm;
	int year, mon, day;
	time_t t;

	if (l > 1 && (s[l - 1] == 'Z' || s[l - 1] == 'z')) {
		utc = true;
		l--;
	} else if (l > 3 && strncasecmp(s + l - 3, "UTC", 3) == 0) {
		utc = true;
		l -= 3;
	}
	if (l != 8 && l != 12 && l != 14)
		return -1;
	for (i = 0; i < l; i++)
		if (!isdigit((unsigned char)s[i]))
			return -1;
	memset(&tm, 0, sizeof(tm));
	year = digits(s, 4);
	mon = digits(s + 4, 2);
	day = digits(s + 6, 2);
	if (year < 1970 || mon < 1 || mon > 12 || day < 1 || day > 31)
		return -1;
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	if (l >= 12) {
		tm.tm_hour = digits(s + 8, 2);
		tm.tm_min = digits(s + 10, 2);
	}
	if (l == 14)
		tm.tm_sec = digits(s + 12, 2);
	if (tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 59)
		return -1;
	tm.tm_isdst = -1;
	t = utc ? timegm(&tm) : mktime(&tm);
	/* A day past the month's end comes back normalized into the next month. */
	if (t <= 0 || tm.tm_mday != day || tm.tm_mon != mon - 1)
		return -1;
	*out = (int64_t)t;
	return 0;
}

static void
entry_clear(struct entry *e)
{
	free(e->principals);
	free(e->namespaces);
	free(e->blob);
	memset(e, 0, sizeof(*e));
}

/* The column (1-based) of p in line. */
static size_t
col(const char *line, const char *p)
{
	return (size_t)(p - line) + 1;
}

/*
 * A double-quoted option value at *pp ('"' first; \" is a quote inside, as in OpenSSH's
 * opt_dequote). Returns the value and moves *pp past the closing quote, or NULL.
 */
static char *
dequote(const char **pp)
{
	const char *p = *pp + 1;
	char *v = xmalloc(strlen(p) + 1);
	size_t o = 0;

	while (*p != '\0' && *p != '"') {
		if (p[0] == '\\' && p[1] == '"')
			p++;
		v[o++] = *p++;
	}
	if (*p != '"') {
		free(v);
		return NULL;
	}
	v[o] = '\0';
	*pp = p + 1;
	return v;
}

/* The options field at *pp, into e. Returns 0 and moves *pp to its end, or -1 (reported). */
static int
parse_options(struct entry *e, struct errlist *el, const char *line, const char **pp)
{
	static const char namechars[] = "abcdefghijklmnopqrstuvwxyz"
	                                "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";
	const char *p = *pp, *start, *valp;
	char *v = NULL, q[QUOTE_MAX + 8];
	size_t namelen;
	int64_t t;
	int rc = -1;

	for (;;) {
		start = p;
		namelen = strspn(p, namechars);
		if (namelen == 0) {
			errlist_add(el, e->line, col(line, p), "expected an option or a key type");
			goto out;
		}
		p += namelen;
		if (namelen == 14 && strncasecmp(start, "cert-authority", 14) == 0) {
			errlist_add(el, e->line, col(line, start),
			    "cert-authority (certificate signers) is not supported");
			goto out;
		}
		if (!(namelen == 10 && strncasecmp(start, "namespaces", 10) == 0) &&
		    !(namelen == 11 && strncasecmp(start, "valid-after", 11) == 0) &&
		    !(namelen == 12 && strncasecmp(start, "valid-before", 12) == 0)) {
			/* Without '=' it may as well be a misspelt key type. */
			sanitize(q, sizeof(q), start, namelen);
			errlist_add(el, e->line, col(line, start),
			    *p == '=' ? "unknown option \"%s\""
			              : "unknown key type or option \"%s\"",
			    q);
			goto out;
		}
		if (*p != '=') {
			errlist_add(el, e->line, col(line, p), "expected '=' after %.*s",
			    (int)namelen, start);
			goto out;
		}
		p++;
		valp = p;
		if (*p != '"') {
			errlist_add(el, e->line, col(line, p),
			    "the value of %.*s must be in double quotes", (int)namelen, start);
			goto out;
		}
		v = dequote(&p);
		if (v == NULL) {
			errlist_add(el, e->line, col(line, valp),
			    "unterminated quoted value of %.*s", (int)namelen, start);
			goto out;
		}
		if (namelen == 10) {
			if (e->namespaces != NULL) {
				errlist_add(el, e->line, col(line, start), "duplicate namespaces");
				goto out;
			}
			if (v[0] == '\0') {
				errlist_add(el, e->line, col(line, valp), "empty namespaces");
				goto out;
			}
			e->namespaces = v;
			v = NULL;
		} else {
			bool after = namelen == 11;

			if (after ? e->has_after : e->has_before) {
				errlist_add(el, e->line, col(line, start), "duplicate %.*s",
				    (int)namelen, start);
				goto out;
			}
			if (parse_time(v, &t) != 0) {
				sanitize(q, sizeof(q), v, strlen(v));
				errlist_add(el, e->line, col(line, valp),
				    "invalid %.*s time \"%s\": expected YYYYMMDD, YYYYMMDDHHMM or "
				    "YYYYMMDDHHMMSS, with a Z suffix for UTC",
				    (int)namelen, start, q);
				goto out;
			}
			if (after) {
				e->has_after = true;
				e->valid_after = t;
			} else {
				e->has_before = true;
				e->valid_before = t;
			}
			free(v);
			v = NULL;
		}
		if (*p == ',') {
			p++;
			if (*p == '\0' || is_blank(*p)) {
				errlist_add(
				    el, e->line, col(line, p), "expected an option after ','");
				goto out;
			}
			continue;
		}
		if (*p == '\0' || is_blank(*p))
			break;
		sanitize(q, sizeof(q), p, 1);
		errlist_add(el, e->line, col(line, p), "unexpected '%s' after the %.*s option", q,
		    (int)namelen, start);
		goto out;
	}
	/* OpenSSH refuses an empty window too. */
	if (e->has_after && e->has_before && e->valid_before <= e->valid_after) {
		errlist_add(
		    el, e->line, col(line, *pp), "valid-before is not later than valid-after");
		goto out;
	}
	*pp = p;
	rc = 0;
out:
	free(v);
	return rc;
}

/* The key (type and base64 blob) at *pp, into e. Returns 0, or -1 (reported). */
static int
parse_key(struct entry *e, struct errlist *el, const char *line, const char *p)
{
	const char *b64 = p;
	size_t len = strcspn(p, " \t");
	unsigned char *blob = NULL;
	size_t bloblen;
	struct pubkey k;
	struct rd r, type;
	struct buf canon = BUF_INIT(SIGVERIFY_KEY_MAX + 64);
	char why[WHY_MAX];
	EVP_PKEY *pkey;
	int rc = -1, prc;

	if (len == 0) {
		errlist_add(el, e->line, col(line, p), "missing base64 key after %s", e->kt->name);
		goto out;
	}
	if (len > (SIGVERIFY_KEY_MAX + 2) / 3 * 4) {
		errlist_add(
		    el, e->line, col(line, b64), "key longer than %d bytes", SIGVERIFY_KEY_MAX);
		goto out;
	}
	if (crypto_base64_decode(b64, len, &blob, &bloblen) != 0) {
		errlist_add(el, e->line, col(line, b64), "invalid base64 key");
		goto out;
	}
	r.p = blob;
	r.n = bloblen;
	if (!rd_string(&r, &type) || !rd_eq(&type, e->kt->name)) {
		errlist_add(el, e->line, col(line, b64), "the key is not an %s key", e->kt->name);
		goto out;
	}
	if (e->kt->kind == KIND_OTHER) {
		/* Kept as written: no signature of this type is ever accepted. */
		e->blob = blob;
		e->bloblen = bloblen;
		blob = NULL;
		rc = 0;
		goto out;
	}
	prc = pubkey_parse(&k, blob, bloblen, why, sizeof(why));
	if (prc != 0) {
		errlist_add(el, e->line, col(line, b64), "%s", why);
		goto out;
	}
	pkey = pubkey_evp(&k);
	if (pkey == NULL) {
		errlist_add(el, e->line, col(line, b64), "an invalid %s key", e->kt->name);
		goto out;
	}
	EVP_PKEY_free(pkey);
	pubkey_encode(&k, &canon);
	e->blob = (unsigned char *)buf_detach(&canon, &e->bloblen);
	rc = 0;
out:
	free(blob);
	buf_free(&canon);
	return rc;
}

static void
parse_line(struct allowed_signers *a, struct errlist *el, const char *line, size_t lineno)
{
	struct entry e = {0};
	const char *p = line, *end;
	size_t len;

	e.line = lineno;
	p += strspn(p, " \t");
	if (*p == '\0' || *p == '#')
		return;
	if (*p == '"') {
		end = strchr(p + 1, '"');
		if (end == NULL) {
			errlist_add(el, lineno, col(line, p), "unterminated quoted principals");
			goto out;
		}
		e.principals = xstrndup(p + 1, (size_t)(end - p - 1));
		p = end + 1;
		if (*p != '\0' && !is_blank(*p)) {
			errlist_add(el, lineno, col(line, p),
			    "expected a space after the quoted principals");
			goto out;
		}
	} else {
		len = strcspn(p, " \t");
		e.principals = xstrndup(p, len);
		p += len;
	}
	if (e.principals[0] == '\0') {
		errlist_add(el, lineno, col(line, line + strspn(line, " \t")), "empty principals");
		goto out;
	}
	p += strspn(p, " \t");
	if (*p == '\0') {
		errlist_add(el, lineno, col(line, p), "missing key type and key");
		goto out;
	}
	len = strcspn(p, " \t");
	e.kt = keytype_find(p, len);
	if (e.kt == NULL) {
		/* Not a key type, so options (OpenSSH tries a key first too). */
		if (parse_options(&e, el, line, &p) != 0)
			goto out;
		p += strspn(p, " \t");
		if (*p == '\0') {
			errlist_add(el, lineno, col(line, p), "missing key type and key");
			goto out;
		}
		len = strcspn(p, " \t");
		e.kt = keytype_find(p, len);
		if (e.kt == NULL) {
			char q[QUOTE_MAX + 8];

			sanitize(q, sizeof(q), p, len);
			errlist_add(el, lineno, col(line, p), "unknown key type \"%s\"", q);
			goto out;
		}
	}
	p += len;
	p += strspn(p, " \t");
	/* Whatever follows the base64 key is a comment. */
	if (parse_key(&e, el, line, p) != 0)
		goto out;
	if (a->n == a->cap) {
		a->cap = a->cap == 0 ? 8 : a->cap * 2;
		a->v = xreallocarray(a->v, a->cap, sizeof(*a->v));
	}
	a->v[a->n++] = e;
	return;
out:
	entry_clear(&e);
}

int
allowed_signers_parse(
    struct allowed_signers **out, const char *path, const char *data, size_t len, struct err *err)
{
	struct allowed_signers *a = NULL;
	struct errlist el;
	const char *p, *end, *nl;
	char *line;
	size_t lineno = 0, n;
	int rc = -1;

	*out = NULL;
	memset(&el, 0, sizeof(el));
	el.path = path;
	if (len > ALLOWED_SIGNERS_FILE_MAX)
		return err_set(
		    err, ERR_TOOBIG, "%s: larger than %d bytes", path, ALLOWED_SIGNERS_FILE_MAX);
	a = xcalloc(1, sizeof(*a));
	a->path = xstrdup(path);
	p = data != NULL ? data : "";
	end = p + len;
	while (p < end) {
		lineno++;
		nl = memchr(p, '\n', (size_t)(end - p));
		n = (size_t)((nl != NULL ? nl : end) - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (memchr(p, '\0', n) != NULL) {
			errlist_add(&el, lineno, col(p, memchr(p, '\0', n)), "a NUL byte");
		} else if (n > ALLOWED_SIGNERS_LINE_MAX) {
			errlist_add(
			    &el, lineno, 1, "line longer than %d bytes", ALLOWED_SIGNERS_LINE_MAX);
		} else {
			line = xstrndup(p, n);
			parse_line(a, &el, line, lineno);
			free(line);
		}
		p = nl != NULL ? nl + 1 : end;
	}
	if (el.n > 0) {
		if (el.n > el.shown)
			rc = err_set(
			    err, ERR_INVALID, "%s (and %zu more errors)", el.msg, el.n - el.shown);
		else
			rc = err_set(err, ERR_INVALID, "%s", el.msg);
		goto out;
	}
	*out = a;
	a = NULL;
	rc = 0;
out:
	allowed_signers_free(a);
	return rc;
}

int
allowed_signers_load(struct allowed_signers **out, const char *path, struct err *err)
{
	struct buf data = BUF_INIT(ALLOWED_SIGNERS_FILE_MAX);
	int fd, rc = -1, rrc;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		rc = err_set(err, errno == ENOENT ? ERR_NOTFOUND : ERR_FAIL, "%s: %s", path,
		    strerror(errno));
		goto out;
	}
	rrc = fdio_read_all(fd, &data);
	if (rrc == ERR_TOOBIG) {
		rc = err_set(
		    err, ERR_TOOBIG, "%s: larger than %d bytes", path, ALLOWED_SIGNERS_FILE_MAX);
		goto out;
	}
	if (rrc != 0) {
		rc = err_set(err, ERR_FAIL, "%s: %s", path, strerror(errno));
		goto out;
	}
	rc = allowed_signers_parse(out, path, data.data, data.len, err);
out:
	if (fd >= 0)
		close(fd);
	buf_free(&data);
	return rc;
}

size_t
allowed_signers_count(const struct allowed_signers *a)
{
	return a->n;
}

void
allowed_signers_free(struct allowed_signers *a)
{
	size_t i;

	if (a == NULL)
		return;
	for (i = 0; i < a->n; i++)
		entry_clear(&a->v[i]);
	free(a->v);
	free(a->path);
	free(a);
}

/* ---- Verification ---- */

/*
 * The entry that accepts key (canonical blob) for namespace "git" at time t: GOOD with the
 * signer, or UNKNOWN_KEY with why (the first refusal of an entry that lists the key).
 */
static void
lookup(const struct allowed_signers *a, const char *type, const unsigned char *blob, size_t n,
    int64_t t, struct verdict *v)
{
	const struct entry *e, *refused = NULL;
	char *desc = key_desc(type, blob, n), when[32], limit[32];
	size_t i;

	for (i = 0; i < a->n; i++) {
		e = &a->v[i];
		if (e->bloblen != n || memcmp(e->blob, blob, n) != 0)
			continue;
		if ((e->namespaces == NULL || match_pattern_list(NAMESPACE, e->namespaces) == 1) &&
		    (!e->has_after || t >= e->valid_after) &&
		    (!e->has_before || t <= e->valid_before))
			break;
		if (refused == NULL)
			refused = e;
	}
	if (i < a->n) {
		v->result = SIGVERIFY_GOOD;
		v->signer = xasprintf("%s (%s)", a->v[i].principals, desc);
	} else if (refused == NULL) {
		v->signer = xstrdup(desc);
		verdict_set(v, SIGVERIFY_UNKNOWN_KEY, "signed by %s, which %s does not list", desc,
		    a->path);
	} else {
		/* The first entry that lists the key says why it is not accepted. */
		e = refused;
		v->signer = xasprintf("%s (%s)", e->principals, desc);
		format_time(when, t);
		if (e->namespaces != NULL && match_pattern_list(NAMESPACE, e->namespaces) != 1) {
			verdict_set(v, SIGVERIFY_UNKNOWN_KEY,
			    "%s:%zu: the key of %s is allowed only for namespaces \"%s\", not "
			    "\"git\"",
			    a->path, e->line, e->principals, e->namespaces);
		} else if (e->has_after && t < e->valid_after) {
			format_time(limit, e->valid_after);
			verdict_set(v, SIGVERIFY_UNKNOWN_KEY,
			    "%s:%zu: the key of %s is valid only from %s; the commit time is %s",
			    a->path, e->line, e->principals, limit, when);
		} else {
			format_time(limit, e->valid_before);
			verdict_set(v, SIGVERIFY_UNKNOWN_KEY,
			    "%s:%zu: the key of %s expired at %s; the commit time is %s", a->path,
			    e->line, e->principals, limit, when);
		}
	}
	free(desc);
}

/* An ECDSA signature (mpint r, mpint s) as the DER that OpenSSL verifies. */
static unsigned char *
ecdsa_der(const struct pubkey *k, const struct rd *data, size_t *len)
{
	struct rd t = *data, r, s;
	ECDSA_SIG *sig = NULL;
	BIGNUM *br = NULL, *bs = NULL;
	unsigned char *der = NULL, *p;
	int n;

	if (!rd_mpint(&t, &r) || !rd_mpint(&t, &s) || t.n != 0 || r.n == 0 || s.n == 0 ||
	    r.n > k->kt->field || s.n > k->kt->field)
		return NULL;
	sig = ECDSA_SIG_new();
	br = BN_bin2bn(r.p, (int)r.n, NULL);
	bs = BN_bin2bn(s.p, (int)s.n, NULL);
	if (sig == NULL || br == NULL || bs == NULL || ECDSA_SIG_set0(sig, br, bs) != 1)
		goto out;
	br = bs = NULL; /* owned by sig */
	n = i2d_ECDSA_SIG(sig, NULL);
	if (n <= 0)
		goto out;
	der = xmalloc((size_t)n);
	p = der;
	if (i2d_ECDSA_SIG(sig, &p) != n) {
		free(der);
		der = NULL;
		goto out;
	}
	*len = (size_t)n;
out:
	BN_free(br);
	BN_free(bs);
	ECDSA_SIG_free(sig);
	return der;
}

/*
 * Check the signature (the blob's "signature" string) by key k over the SSHSIG signed data
 * for payload. Leaves v alone when it verifies; sets BAD or UNSUPPORTED otherwise.
 */
static void
check_signature(const struct pubkey *k, const char *desc, const struct rd *sig, const char *hashalg,
    const EVP_MD *hmd, const unsigned char *payload, size_t plen, struct verdict *v)
{
	struct rd s = *sig, type, data;
	struct buf tbs = BUF_INIT(256);
	unsigned char h[EVP_MAX_MD_SIZE], *owned = NULL;
	const unsigned char *sigp;
	unsigned int hlen = 0;
	size_t siglen = 0, modlen;
	const EVP_MD *md = NULL;
	EVP_PKEY *pkey = NULL;
	EVP_MD_CTX *mctx = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	char q[QUOTE_MAX + 8];

	if (!rd_string(&s, &type) || !rd_string(&s, &data) || s.n != 0) {
		verdict_set(v, SIGVERIFY_BAD, "the signature by %s is malformed", desc);
		goto out;
	}
	sigp = data.p;
	siglen = data.n;
	switch (k->kt->kind) {
	case KIND_ED25519:
		if (!rd_eq(&type, "ssh-ed25519") || data.n != 64) {
			sanitize(q, sizeof(q), type.p, type.n);
			verdict_set(v, SIGVERIFY_BAD,
			    "a malformed signature (type \"%s\", %zu bytes) for the ssh-ed25519 "
			    "key "
			    "%s",
			    q, data.n, desc);
			goto out;
		}
		break;
	case KIND_ECDSA:
		if (!rd_eq(&type, k->kt->name)) {
			sanitize(q, sizeof(q), type.p, type.n);
			verdict_set(v, SIGVERIFY_BAD,
			    "a signature of type \"%s\" for the %s key %s", q, k->kt->name, desc);
			goto out;
		}
		owned = ecdsa_der(k, &data, &siglen);
		if (owned == NULL) {
			verdict_set(v, SIGVERIFY_BAD, "a malformed ECDSA signature by %s", desc);
			goto out;
		}
		sigp = owned;
		md = EVP_get_digestbynid(k->kt->hash_nid);
		break;
	case KIND_RSA:
		if (rd_eq(&type, "rsa-sha2-256")) {
			md = EVP_sha256();
		} else if (rd_eq(&type, "rsa-sha2-512")) {
			md = EVP_sha512();
		} else if (rd_eq(&type, "ssh-rsa")) {
			verdict_set(v, SIGVERIFY_UNSUPPORTED,
			    "an RSA signature with SHA-1 (ssh-rsa) by %s, which is refused; sign "
			    "with rsa-sha2-512",
			    desc);
			goto out;
		} else {
			sanitize(q, sizeof(q), type.p, type.n);
			verdict_set(v, SIGVERIFY_BAD,
			    "a signature of type \"%s\" for the RSA key %s", q, desc);
			goto out;
		}
		/* Signers may drop leading zero bytes; OpenSSH pads them back. */
		modlen = ((size_t)k->bits + 7) / 8;
		if (data.n > modlen || data.n == 0) {
			verdict_set(v, SIGVERIFY_BAD,
			    "an RSA signature of %zu bytes for a %d-bit key", data.n, k->bits);
			goto out;
		}
		if (data.n < modlen) {
			owned = xcalloc(1, modlen);
			memcpy(owned + modlen - data.n, data.p, data.n);
			sigp = owned;
			siglen = modlen;
		}
		break;
	case KIND_OTHER:
		abort();
	}

	if (EVP_Digest(payload, plen, h, &hlen, hmd, NULL) != 1) {
		verdict_set(v, SIGVERIFY_BAD, "cannot hash the commit with %s", hashalg);
		goto out;
	}
	put(&tbs, MAGIC, MAGIC_LEN);
	put_string(&tbs, NAMESPACE, strlen(NAMESPACE));
	put_string(&tbs, "", 0);
	put_string(&tbs, hashalg, strlen(hashalg));
	put_string(&tbs, h, hlen);

	pkey = pubkey_evp(k);
	if (pkey == NULL) {
		verdict_set(v, SIGVERIFY_BAD, "the signature's public key %s is invalid", desc);
		goto out;
	}
	mctx = EVP_MD_CTX_new();
	if (mctx == NULL || EVP_DigestVerifyInit(mctx, &pctx, md, NULL, pkey) != 1 ||
	    (k->kt->kind == KIND_RSA &&
	        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)) {
		verdict_set(v, SIGVERIFY_BAD, "OpenSSL cannot verify %s signatures", k->kt->name);
		goto out;
	}
	if (EVP_DigestVerify(mctx, sigp, siglen, (const unsigned char *)tbs.data, tbs.len) != 1) {
		verdict_set(v, SIGVERIFY_BAD,
		    "the signature by %s does not verify: the commit changed after it was signed, "
		    "or the signature is corrupt",
		    desc);
		goto out;
	}
out:
	EVP_MD_CTX_free(mctx);
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	free(owned);
	buf_free(&tbs);
}

/* Decode the armored signature into blob. Sets v (BAD or UNSUPPORTED) and returns -1 when
 * it is not one. */
static int
dearmor(const char *sig, size_t n, unsigned char **blob, size_t *bloblen, struct verdict *v)
{
	static const char pgp[] = "-----BEGIN PGP SIGNATURE-----";
	static const char x509[] = "-----BEGIN SIGNED MESSAGE-----";
	const char *body, *end, *rest;
	char *b64 = NULL;
	size_t i, o = 0;
	int rc = -1;

	if (n >= sizeof(pgp) - 1 && memcmp(sig, pgp, sizeof(pgp) - 1) == 0) {
		verdict_set(v, SIGVERIFY_UNSUPPORTED,
		    "an OpenPGP signature; only SSH signatures (gpg.format=ssh) are verified");
		goto out;
	}
	if (n >= sizeof(x509) - 1 && memcmp(sig, x509, sizeof(x509) - 1) == 0) {
		verdict_set(v, SIGVERIFY_UNSUPPORTED,
		    "an X.509 signature; only SSH signatures (gpg.format=ssh) are verified");
		goto out;
	}
	if (n < sizeof(ARMOR_BEGIN) - 1 || memcmp(sig, ARMOR_BEGIN, sizeof(ARMOR_BEGIN) - 1) != 0) {
		verdict_set(v, SIGVERIFY_BAD, "the gpgsig header is not an armored SSH signature");
		goto out;
	}
	body = sig + sizeof(ARMOR_BEGIN) - 1;
	end = memmem(body, n - (size_t)(body - sig), ARMOR_END, sizeof(ARMOR_END) - 1);
	if (end == NULL) {
		verdict_set(v, SIGVERIFY_BAD, "the SSH signature has no END SSH SIGNATURE line");
		goto out;
	}
	for (rest = end + sizeof(ARMOR_END) - 1; rest < sig + n; rest++) {
		if (!isspace((unsigned char)*rest)) {
			verdict_set(v, SIGVERIFY_BAD, "data after the END SSH SIGNATURE line");
			goto out;
		}
	}
	b64 = xmalloc((size_t)(end - body) + 1);
	for (i = 0; body + i < end; i++)
		if (body[i] != '\n' && body[i] != '\r')
			b64[o++] = body[i];
	if (crypto_base64_decode(b64, o, blob, bloblen) != 0) {
		verdict_set(v, SIGVERIFY_BAD, "the SSH signature is not valid base64");
		goto out;
	}
	rc = 0;
out:
	free(b64);
	return rc;
}

/* Parse and check an SSHSIG blob over payload; sets v. */
static void
verify_blob(const struct allowed_signers *a, const unsigned char *blob, size_t n,
    const unsigned char *payload, size_t plen, int64_t t, struct verdict *v)
{
	struct rd r = {blob, n}, key, ns, reserved, hashalg, sig;
	struct pubkey k;
	struct buf canon = BUF_INIT(SIGVERIFY_KEY_MAX + 64);
	char why[WHY_MAX], q[QUOTE_MAX + 8], *desc = NULL;
	const char *ha;
	const EVP_MD *hmd;
	uint32_t version;
	int prc;

	if (r.n < MAGIC_LEN || memcmp(r.p, MAGIC, MAGIC_LEN) != 0) {
		verdict_set(v, SIGVERIFY_BAD, "the SSH signature is not an SSHSIG blob");
		goto out;
	}
	r.p += MAGIC_LEN;
	r.n -= MAGIC_LEN;
	if (!rd_u32(&r, &version)) {
		verdict_set(v, SIGVERIFY_BAD, "a truncated SSHSIG blob");
		goto out;
	}
	if (version != SIG_VERSION) {
		verdict_set(v, SIGVERIFY_UNSUPPORTED, "SSHSIG version %u (only %d is known)",
		    version, SIG_VERSION);
		goto out;
	}
	if (!rd_string(&r, &key) || !rd_string(&r, &ns) || !rd_string(&r, &reserved) ||
	    !rd_string(&r, &hashalg) || !rd_string(&r, &sig)) {
		verdict_set(v, SIGVERIFY_BAD, "a truncated SSHSIG blob");
		goto out;
	}
	if (r.n != 0) {
		verdict_set(v, SIGVERIFY_BAD, "trailing data after the SSHSIG blob");
		goto out;
	}
	prc = pubkey_parse(&k, key.p, key.n, why, sizeof(why));
	if (prc != 0) {
		verdict_set(v, prc == -2 ? SIGVERIFY_UNSUPPORTED : SIGVERIFY_BAD,
		    "the signature's key: %s", why);
		goto out;
	}
	pubkey_encode(&k, &canon);
	desc = key_desc(k.kt->name, canon.data, canon.len);
	if (!rd_eq(&ns, NAMESPACE)) {
		sanitize(q, sizeof(q), ns.p, ns.n);
		verdict_set(v, SIGVERIFY_BAD,
		    "the signature by %s is for namespace \"%s\", not \"git\"", desc, q);
		goto out;
	}
	if (rd_eq(&hashalg, "sha256")) {
		hmd = EVP_sha256();
		ha = "sha256";
	} else if (rd_eq(&hashalg, "sha512")) {
		hmd = EVP_sha512();
		ha = "sha512";
	} else {
		sanitize(q, sizeof(q), hashalg.p, hashalg.n);
		verdict_set(v, SIGVERIFY_UNSUPPORTED,
		    "hash algorithm \"%s\" (only sha256 and sha512 are known)", q);
		goto out;
	}
	/* reserved is ignored, as PROTOCOL.sshsig asks. */
	v->result = SIGVERIFY_GOOD;
	check_signature(&k, desc, &sig, ha, hmd, payload, plen, v);
	if (v->result != SIGVERIFY_GOOD)
		goto out;
	lookup(a, k.kt->name, (const unsigned char *)canon.data, canon.len, t, v);
out:
	free(desc);
	buf_free(&canon);
}

/* Whether the header line [line, next) is field followed by a space. */
static bool
header_is(const unsigned char *line, const unsigned char *next, const char *field)
{
	size_t n = strlen(field);

	return (size_t)(next - line) > n && memcmp(line, field, n) == 0 && line[n] == ' ';
}

/*
 * Split a raw commit object into its gpgsig signature and the payload it signs, by git's
 * rule (parse_buffer_signed_by_header): header lines only; a gpgsig header and its
 * continuation lines (one leading space dropped) form the signature; other headers starting
 * with "gpgsig" (gpgsig-sha256) and their continuations belong to neither; everything else,
 * and everything from the blank line on, is the payload. Sets v and returns -1 for an
 * unsigned commit, several gpgsig headers or a signature over the cap.
 */
static int
split_commit(const unsigned char *d, size_t n, struct buf *sig, unsigned char **payload,
    size_t *plen, struct verdict *v)
{
	const unsigned char *line = d, *tail = d + n, *next, *nl;
	bool in_sig = false, other = false, toobig = false;
	int nsig = 0;

	*payload = xmalloc(n + 1);
	*plen = 0;
	while (line < tail) {
		nl = memchr(line, '\n', (size_t)(tail - line));
		next = nl != NULL ? nl + 1 : tail;
		if (in_sig && line[0] == ' ') {
			if (buf_append(sig, line + 1, (size_t)(next - line - 1)) != 0)
				toobig = true;
			line = next;
			continue;
		}
		in_sig = false;
		if (header_is(line, next, "gpgsig")) {
			nsig++;
			in_sig = true;
			other = false;
			if (buf_append(sig, line + 7, (size_t)(next - line - 7)) != 0)
				toobig = true;
			line = next;
			continue;
		}
		if ((size_t)(next - line) >= 6 && memcmp(line, "gpgsig", 6) == 0)
			other = true;
		else if (other && line[0] != ' ')
			other = false;
		if (line[0] == '\n') {
			memcpy(*payload + *plen, line, (size_t)(tail - line));
			*plen += (size_t)(tail - line);
			break;
		}
		if (!other) {
			memcpy(*payload + *plen, line, (size_t)(next - line));
			*plen += (size_t)(next - line);
		}
		line = next;
	}
	if (nsig == 0) {
		verdict_set(v, SIGVERIFY_UNSIGNED, "the commit has no signature");
		return -1;
	}
	if (nsig > 1) {
		verdict_set(v, SIGVERIFY_BAD, "the commit has %d gpgsig headers", nsig);
		return -1;
	}
	if (toobig) {
		verdict_set(v, SIGVERIFY_UNSUPPORTED, "a signature over the %d-byte limit",
		    SIGVERIFY_SIGNATURE_MAX);
		return -1;
	}
	return 0;
}

/* Split, dearmor and verify a raw commit object signed at time t; sets v. */
static void
verify_object(
    const struct allowed_signers *a, const unsigned char *d, size_t n, int64_t t, struct verdict *v)
{
	struct buf sig = BUF_INIT(SIGVERIFY_SIGNATURE_MAX);
	unsigned char *payload = NULL, *blob = NULL;
	size_t plen = 0, bloblen = 0;

	if (n > SIGVERIFY_COMMIT_MAX) {
		verdict_set(v, SIGVERIFY_UNSUPPORTED,
		    "a commit object of %zu bytes, over the %d-byte limit", n,
		    SIGVERIFY_COMMIT_MAX);
		goto out;
	}
	if (split_commit(d, n, &sig, &payload, &plen, v) != 0)
		goto out;
	if (dearmor(sig.data, sig.len, &blob, &bloblen, v) != 0)
		goto out;
	verify_blob(a, blob, bloblen, payload, plen, t, v);
out:
	free(blob);
	free(payload);
	buf_free(&sig);
}

/* Hand the verdict's strings over as sigverify_commit() documents, and free the rest. */
static void
verdict_take(struct verdict *v, enum sigverify_result *result, char **signer, char **why)
{
	*result = v->result;
	if (v->result == SIGVERIFY_GOOD || v->result == SIGVERIFY_UNKNOWN_KEY) {
		*signer = v->signer;
		v->signer = NULL;
	}
	if (v->result != SIGVERIFY_GOOD) {
		*why = v->why;
		v->why = NULL;
	}
}

void
sigverify_commit_object(const struct allowed_signers *a, const void *commit, size_t n,
    int64_t committer_time, enum sigverify_result *result, char **signer, char **why)
{
	struct verdict v = {SIGVERIFY_BAD, NULL, NULL};

	assert(a != NULL && (commit != NULL || n == 0));
	*signer = NULL;
	*why = NULL;
	verify_object(a, commit, n, committer_time, &v);
	verdict_take(&v, result, signer, why);
	free(v.signer);
	free(v.why);
}

static bool
is_full_hex_id(const char *id)
{
	size_t i;

	for (i = 0; i < GIT_OID_HEXSZ; i++)
		if (!isxdigit((unsigned char)id[i]))
			return false;
	return id[GIT_OID_HEXSZ] == '\0';
}

int
sigverify_commit(const struct allowed_signers *a, const char *repo_path, const char *id,
    enum sigverify_result *result, char **signer, char **why, struct err *err)
{
	git_repository *repo = NULL;
	git_odb *odb = NULL;
	git_odb_object *obj = NULL;
	git_commit *commit = NULL;
	git_object_t type;
	git_oid oid, check;
	size_t size;
	struct verdict v = {SIGVERIFY_BAD, NULL, NULL};
	int64_t t;
	int rc = -1, grc;

	assert(a != NULL && repo_path != NULL && id != NULL);
	*result = SIGVERIFY_BAD;
	*signer = NULL;
	*why = NULL;
	if (!is_full_hex_id(id))
		return err_set(err, ERR_INVALID, "\"%.50s\" is not a full commit id", id);
	/* Reference counted: this pairs with the shutdown below, whoever else holds one. */
	git_libgit2_init();
	if (git_repository_open_ext(&repo, repo_path, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) != 0) {
		rc = source_git_fail(err, ERR_NOTFOUND, repo_path);
		goto out;
	}
	if (git_oid_fromstr(&oid, id) != 0 || git_repository_odb(&odb, repo) != 0) {
		rc = source_git_fail(err, ERR_FAIL, repo_path);
		goto out;
	}
	grc = git_odb_read_header(&size, &type, odb, &oid);
	if (grc == GIT_ENOTFOUND) {
		rc = err_set(err, ERR_NOTFOUND, "%s: no object %s", repo_path, id);
		goto out;
	}
	if (grc != 0) {
		rc = source_git_fail(err, ERR_FAIL, repo_path);
		goto out;
	}
	if (type != GIT_OBJECT_COMMIT) {
		rc = err_set(err, ERR_INVALID, "%s: %.12s is a %s, not a commit", repo_path, id,
		    git_object_type2string(type));
		goto out;
	}
	if (size > SIGVERIFY_COMMIT_MAX) {
		verdict_set(&v, SIGVERIFY_UNSUPPORTED,
		    "a commit object of %zu bytes, over the %d-byte limit", size,
		    SIGVERIFY_COMMIT_MAX);
		rc = 0;
		goto out;
	}
	if (git_odb_read(&obj, odb, &oid) != 0 || git_commit_lookup(&commit, repo, &oid) != 0) {
		rc = source_git_fail(err, ERR_FAIL, repo_path);
		goto out;
	}
	/*
	 * The signature covers these bytes; the id is what the daemon deploys. libgit2 checks
	 * one against the other as it reads unless an embedder turned that off, so check here.
	 */
	if (git_odb_hash(&check, git_odb_object_data(obj), git_odb_object_size(obj),
	        GIT_OBJECT_COMMIT) != 0 ||
	    git_oid_cmp(&check, &oid) != 0) {
		rc = err_set(err, ERR_FAIL, "%s: object %s does not hash to its id", repo_path, id);
		goto out;
	}
	t = (int64_t)git_commit_committer(commit)->when.time;
	rc = 0;
	verify_object(a, git_odb_object_data(obj), git_odb_object_size(obj), t, &v);
out:
	if (rc == 0)
		verdict_take(&v, result, signer, why);
	free(v.signer);
	free(v.why);
	git_commit_free(commit);
	git_odb_object_free(obj);
	git_odb_free(odb);
	git_repository_free(repo);
	git_libgit2_shutdown();
	return rc;
}
