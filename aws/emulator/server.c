/*
 * The emulator's server side (server.h). The order for a Lambda request is fixed: route and
 * count, authenticate, throttle, inject an error or a reset, wait out the latency, run the
 * model. Statistics count every Lambda request, whatever happens to it afterwards.
 *
 * With latency, the model runs when the answer is due, not on arrival: the answer then
 * describes the state at the moment the client receives it (a Pending window that ends
 * during the delay is over in the answer), and concurrent delayed requests change the model
 * in the order their answers go out, as if the delay were spent on the way in.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "aws/emulator/server.h"
#include "aws/sigv4.h"
#include "common/buf.h"
#include "common/crypto.h"
#include "common/httpd.h"
#include "common/jsonw.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/xmalloc.h"

#define SERVER_ADMIN_PREFIX "/_emulator/"
#define SERVER_ERROR_BODY_MAX (8 * 1024)
#define SERVER_STATS_BODY_MAX (8 * 1024)
#define SERVER_REPLY_HEADERS_MAX 32
#define SERVER_SKEW_SECONDS 300
#define SERVER_ACCESS_LINE_MAX 512
#define SERVER_IDLE_TIMEOUT 60.0
#define SERVER_MAX_CONNECTIONS 1024
#define SERVER_INVOKE_PAYLOAD_MAX (6 * 1024 * 1024)

/* A token bucket of capacity max(rate, 1) that refills continuously at rate per second. */
struct bucket {
	double rate; /* 0: unlimited */
	double capacity;
	double tokens;
	uint64_t last_ms;
};

/* A Lambda request whose answer is due later (--latency-ms, --jitter-ms). */
struct delayed {
	struct server *srv;
	struct delayed *prev, *next;
	ev_timer timer;
	struct httpd_conn *conn;
	const struct httpd_request *req; /* valid until answered */
	enum emu_op op;
	char request_id[37];
};

struct server {
	struct ev_loop *loop;
	struct emu *emu;
	struct httpd *httpd;
	struct server_opts opts;
	struct server_credential *creds; /* copies */
	size_t ncreds;
	char *region;
	int access_fd;
	struct bucket shared, getfunction;
	uint64_t rng; /* fault and jitter draws: --seed */
	uint64_t ids; /* request ids: seeded once from the system's generator */
	struct delayed *delayed;
	struct emu_reply reply; /* reused from one request to the next */
	struct buf scratch;     /* error and admin bodies */
	uint64_t requests;
	uint64_t throttled;
	uint64_t ops[EMU_OP__COUNT];
	uint64_t last_ms[EMU_OP__COUNT]; /* wall time of each operation's last request */
};

/* An answer in AWS's error shape, before it is written. */
struct fault {
	int status;
	const char *type;
	char message[1024];
};

static uint64_t
splitmix64(uint64_t *state)
{
	/* Small, fast, and the same sequence for the same seed everywhere. */
	uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static double
rng_uniform(struct server *srv)
{
	return (double)(splitmix64(&srv->rng) >> 11) * 0x1.0p-53;
}

/*
 * A version 4 UUID for x-amzn-RequestId. Ids need to be unique, not unpredictable, and
 * the system's generator (crypto_uuid) cost more than the rest of a GetFunction request.
 */
static void
mint_request_id(struct server *srv, char out[37])
{
	unsigned char b[16];
	uint64_t x = splitmix64(&srv->ids), y = splitmix64(&srv->ids);
	size_t i;

	for (i = 0; i < 8; i++) {
		b[i] = (unsigned char)(x >> (8 * i));
		b[8 + i] = (unsigned char)(y >> (8 * i));
	}
	crypto_uuid_format(b, out);
}

static void
rng_seed(struct server *srv)
{
	if (srv->opts.seeded)
		srv->rng = srv->opts.seed;
	else
		crypto_random(&srv->rng, sizeof(srv->rng));
}

static void
bucket_init(struct bucket *b, double rate, uint64_t now_ms)
{
	b->rate = rate;
	b->capacity = rate > 1.0 ? rate : 1.0;
	b->tokens = b->capacity;
	b->last_ms = now_ms;
}

/* Take a token. Returns true, or false with the seconds until one is available. */
static bool
bucket_take(struct bucket *b, uint64_t now_ms, double *wait)
{
	if (b->rate <= 0)
		return true;
	if (now_ms > b->last_ms) {
		b->tokens += (double)(now_ms - b->last_ms) / 1000.0 * b->rate;
		if (b->tokens > b->capacity)
			b->tokens = b->capacity;
		b->last_ms = now_ms;
	}
	if (b->tokens >= 1.0) {
		b->tokens -= 1.0;
		return true;
	}
	*wait = (1.0 - b->tokens) / b->rate;
	return false;
}

static void
access_log(struct server *srv, enum emu_op op, int status, const char *request_id)
{
	char line[SERVER_ACCESS_LINE_MAX];
	uint64_t wall = timeutil_wall_ms(), mono = timeutil_mono_ms();
	const char *name = emu_op_name(op);
	int n;

	if (srv->access_fd < 0)
		return;
	/* Operation names and request ids never need escaping. */
	n = snprintf(line, sizeof(line),
	    "{\"t\": %" PRIu64 ".%03" PRIu64 ", \"mono_ms\": %" PRIu64 ", \"op\": %s%s%s, "
	    "\"status\": %d, \"request_id\": \"%s\"}\n",
	    wall / 1000, wall % 1000, mono, name != NULL ? "\"" : "", name != NULL ? name : "null",
	    name != NULL ? "\"" : "", status, request_id);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	/* One write() per line, so that concurrent readers never see half a line. */
	if (write(srv->access_fd, line, (size_t)n) != n)
		log_warn("emulator", "access log: write: %s", strerror(errno));
}

/*
 * Answer with the given headers plus x-amzn-RequestId (and x-amzn-ErrorType when type is
 * not NULL).
 */
static void
answer(struct httpd_conn *conn, int status, const char *request_id, const char *type,
    const struct httpd_header *extra, size_t nextra, const void *body, size_t len)
{
	struct httpd_header h[SERVER_REPLY_HEADERS_MAX + 2];
	size_t n = 0, i;

	for (i = 0; i < nextra && n < SERVER_REPLY_HEADERS_MAX; i++)
		h[n++] = extra[i];
	h[n++] = (struct httpd_header){"x-amzn-RequestId", request_id};
	if (type != NULL)
		h[n++] = (struct httpd_header){"x-amzn-ErrorType", type};
	httpd_respond(conn, status, h, n, body, len);
}

/*
 * An error body: {"Type": ..., "<key>": message, "Reason": ...}, without Type or Reason
 * when they are NULL.
 */
static void
answer_error(struct server *srv, struct httpd_conn *conn, const char *request_id, int status,
    const char *type, const char *kind, const char *key, const char *message, const char *reason,
    const struct httpd_header *extra, size_t nextra)
{
	struct httpd_header h[4];
	struct buf *b = &srv->scratch;
	struct jsonw w;
	size_t n = 0;

	buf_reset(b);
	jsonw_init(&w, b);
	jsonw_object_open(&w);
	jsonw_kstr_opt(&w, "Type", kind);
	jsonw_kstr(&w, key, message);
	jsonw_kstr_opt(&w, "Reason", reason);
	jsonw_object_close(&w);
	if (jsonw_failed(&w)) {
		buf_reset(b);
		jsonw_init(&w, b);
		jsonw_object_open(&w);
		jsonw_kstr(&w, key, "error message too long");
		jsonw_object_close(&w);
	}
	h[n++] = (struct httpd_header){"Content-Type", "application/json"};
	while (nextra-- > 0 && n < nitems(h))
		h[n++] = *extra++;
	answer(conn, status, request_id, type, h, n, b->data, b->len);
}

static void fault_set(struct fault *f, const char *type, const char *fmt, ...) PRINTFLIKE(3, 4);

static void
fault_set(struct fault *f, const char *type, const char *fmt, ...)
{
	va_list ap;

	f->status = 403;
	f->type = type;
	va_start(ap, fmt);
	vsnprintf(f->message, sizeof(f->message), fmt, ap);
	va_end(ap);
}

#define SIGNATURE_MISMATCH                                                                      \
	"The request signature we calculated does not match the signature you provided. Check " \
	"your AWS Secret Access Key and signing method. Consult the service documentation for " \
	"details."

static const struct server_credential *
find_credential(const struct server *srv, const char *access_key)
{
	size_t i;

	for (i = 0; i < srv->ncreds; i++) {
		if (strcmp(srv->creds[i].access_key, access_key) == 0)
			return &srv->creds[i];
	}
	return NULL;
}

/* Is name (lower case) in the ';'-separated SignedHeaders list? */
static bool
signed_header(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list;

	while (*p != '\0') {
		if (strncmp(p, name, n) == 0 && (p[n] == ';' || p[n] == '\0'))
			return true;
		p = strchr(p, ';');
		if (p == NULL)
			break;
		p++;
	}
	return false;
}

/*
 * Check a request's SigV4 signature against the known key pairs. Returns 0, or -1 with f
 * filled with the 403 to send.
 */
static int
check_signature(struct server *srv, const struct httpd_request *req, struct fault *f)
{
	struct sigv4_header h[HTTPD_HEADERS_MAX];
	struct sigv4_auth auth;
	struct sigv4_request sreq;
	struct sigv4_scope scope;
	struct err err = ERR_INIT;
	const struct server_credential *cred;
	const char *authz, *date, *token, *sha, *p, *end, *payload;
	char body_hash[CRYPTO_SHA256_HEX_LEN + 1], sig[CRYPTO_SHA256_HEX_LEN + 1];
	char name[128], now_s[17], bound_s[17];
	time_t t, now;
	size_t nh = 0, i, len;
	bool found;

	authz = httpd_header(req, "Authorization");
	if (authz == NULL) {
		fault_set(f, "MissingAuthenticationTokenException", "Missing Authentication Token");
		return -1;
	}
	if (sigv4_parse_authorization(authz, &auth, &err) != 0) {
		fault_set(f, "IncompleteSignatureException", "%s", err.message);
		return -1;
	}
	cred = find_credential(srv, auth.access_key);
	if (cred == NULL) {
		fault_set(f, "UnrecognizedClientException",
		    "The security token included in the request is invalid.");
		return -1;
	}
	if (strcmp(auth.service, "lambda") != 0) {
		fault_set(f, "InvalidSignatureException",
		    "Credential should be scoped to correct service: 'lambda'. ");
		return -1;
	}
	if (strcmp(auth.region, srv->region) != 0) {
		fault_set(f, "InvalidSignatureException",
		    "Credential should be scoped to a valid region, not '%s'. ", auth.region);
		return -1;
	}
	date = httpd_header(req, "X-Amz-Date");
	if (date == NULL || timeutil_parse_amzdate(date, &t) != 0) {
		fault_set(f, "InvalidSignatureException",
		    "Authorization header requires existence of either a 'X-Amz-Date' or a "
		    "'Date' header; X-Amz-Date must look like 20150830T123600Z.");
		return -1;
	}
	if (strncmp(auth.date, date, 8) != 0) {
		fault_set(f, "InvalidSignatureException",
		    "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of "
		    "date "
		    "from HTTP: '%s' != '%.8s', from '%s'.",
		    auth.date, date, date);
		return -1;
	}
	now = time(NULL);
	timeutil_amzdate(now, now_s);
	if (t < now - SERVER_SKEW_SECONDS) {
		timeutil_amzdate(now - SERVER_SKEW_SECONDS, bound_s);
		fault_set(f, "InvalidSignatureException",
		    "Signature expired: %s is now earlier than %s (%s - 5 min.)", date, bound_s,
		    now_s);
		return -1;
	}
	if (t > now + SERVER_SKEW_SECONDS) {
		timeutil_amzdate(now + SERVER_SKEW_SECONDS, bound_s);
		fault_set(f, "InvalidSignatureException",
		    "Signature not yet current: %s is still later than %s (%s + 5 min.)", date,
		    bound_s, now_s);
		return -1;
	}
	if (!signed_header(auth.signed_headers, "host")) {
		fault_set(f, "InvalidSignatureException",
		    "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
		return -1;
	}
	token = httpd_header(req, "X-Amz-Security-Token");
	if (token != NULL && !signed_header(auth.signed_headers, "x-amz-security-token")) {
		fault_set(f, "InvalidSignatureException",
		    "'X-Amz-Security-Token' must be a 'SignedHeader' in the AWS Authorization.");
		return -1;
	}
	/* Rebuild the signed request from exactly the headers SignedHeaders names. */
	for (p = auth.signed_headers; *p != '\0'; p = *end == ';' ? end + 1 : end) {
		end = strchr(p, ';');
		if (end == NULL)
			end = p + strlen(p);
		len = (size_t)(end - p);
		if (len == 0 || len >= sizeof(name)) {
			fault_set(f, "InvalidSignatureException", SIGNATURE_MISMATCH);
			return -1;
		}
		memcpy(name, p, len);
		name[len] = '\0';
		found = false;
		for (i = 0; i < req->nheaders; i++) {
			if (strcasecmp(req->headers[i].name, name) != 0)
				continue;
			if (nh == nitems(h)) {
				fault_set(f, "InvalidSignatureException", SIGNATURE_MISMATCH);
				return -1;
			}
			h[nh++] =
			    (struct sigv4_header){req->headers[i].name, req->headers[i].value};
			found = true;
		}
		if (!found) {
			fault_set(f, "InvalidSignatureException", SIGNATURE_MISMATCH);
			return -1;
		}
	}
	crypto_sha256_hex(req->body, req->body_len, body_hash);
	payload = body_hash;
	sha = httpd_header(req, "X-Amz-Content-SHA256");
	if (sha != NULL && signed_header(auth.signed_headers, "x-amz-content-sha256")) {
		if (strcmp(sha, "UNSIGNED-PAYLOAD") == 0) {
			payload = sha;
		} else if (strcmp(sha, body_hash) != 0) {
			fault_set(f, "InvalidSignatureException",
			    "The provided 'x-amz-content-sha256' header does not match what was "
			    "computed.");
			return -1;
		}
	}
	sreq = (struct sigv4_request){req->method, req->path, req->query, h, nh, payload};
	scope = (struct sigv4_scope){date, auth.region, auth.service};
	if (sigv4_signature(&sreq, &scope, cred->secret, sig, &err) != 0 ||
	    !crypto_streq(sig, auth.signature)) {
		fault_set(f, "InvalidSignatureException", SIGNATURE_MISMATCH);
		return -1;
	}
	return 0;
}

/* Headers the server or httpd writes itself; a copy from the model would duplicate them. */
static bool
reserved_header(const char *name, bool error_type)
{
	return strcasecmp(name, "Content-Length") == 0 || strcasecmp(name, "Connection") == 0 ||
	       strcasecmp(name, "Transfer-Encoding") == 0 ||
	       strcasecmp(name, "x-amzn-RequestId") == 0 ||
	       (error_type && strcasecmp(name, "x-amzn-ErrorType") == 0);
}

/* Split the model's "Name: value\r\n" lines in place, dropping reserved ones. */
static size_t
split_headers(struct buf *raw, struct httpd_header *h, size_t max, bool skip_error_type)
{
	char *p = raw->data, *colon, *eol, *v;
	size_t n = 0;

	if (p == NULL)
		return 0;
	while (*p != '\0' && n < max) {
		eol = strstr(p, "\r\n");
		if (eol == NULL)
			eol = p + strlen(p);
		colon = memchr(p, ':', (size_t)(eol - p));
		if (colon != NULL) {
			*colon = '\0';
			for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
				;
			if (!reserved_header(p, skip_error_type))
				h[n++] = (struct httpd_header){p, v};
		}
		if (*eol == '\0')
			break;
		*eol = '\0';
		p = eol + 2;
	}
	return n;
}

static void
reply_reset(struct emu_reply *r)
{
	r->status = 0;
	buf_reset(&r->body);
	buf_reset(&r->headers);
	r->error_type[0] = '\0';
}

static void
run_model(struct server *srv, struct httpd_conn *conn, const struct httpd_request *req,
    enum emu_op op, const char *request_id)
{
	struct httpd_header h[SERVER_REPLY_HEADERS_MAX];
	struct emu_request er;
	struct emu_reply *r = &srv->reply;
	const char *type;
	size_t n;
	int status;

	er = (struct emu_request){req->method, req->path, req->query, req->headers, req->nheaders,
	    req->body, req->body_len, timeutil_mono_ms(), timeutil_wall_ms(), request_id};
	reply_reset(r);
	emu_handle(srv->emu, op, &er, r);
	type = r->error_type[0] != '\0' ? r->error_type : NULL;
	n = split_headers(&r->headers, h, nitems(h), type != NULL);
	status = r->status;
	answer(conn, status, request_id, type, h, n, r->body.data, r->body.len);
	access_log(srv, op, status, request_id);
}

static void
delayed_unlink(struct delayed *d)
{
	struct server *srv = d->srv;

	if (d->prev != NULL)
		d->prev->next = d->next;
	else
		srv->delayed = d->next;
	if (d->next != NULL)
		d->next->prev = d->prev;
}

static void
delayed_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct delayed *d = container_of(w, struct delayed, timer);

	(void)loop;
	(void)revents;
	delayed_unlink(d);
	run_model(d->srv, d->conn, d->req, d->op, d->request_id);
	free(d);
}

static void
admin_stats(struct server *srv, struct httpd_conn *conn, const char *request_id)
{
	struct httpd_header ct = {"Content-Type", "application/json"};
	struct buf *b = &srv->scratch;
	int rc = 0, op, n;

	buf_reset(b);
	rc |= buf_printf(b,
	    "{\"requests\": %" PRIu64 ", \"throttled\": %" PRIu64 ", \"operations\": {",
	    srv->requests, srv->throttled);
	for (op = EMU_OP_NONE + 1; op < EMU_OP__COUNT; op++)
		rc |= buf_printf(b, "%s\"%s\": %" PRIu64, op > EMU_OP_NONE + 1 ? ", " : "",
		    emu_op_name((enum emu_op)op), srv->ops[op]);
	/* When each operation was last requested (epoch seconds with milliseconds), for
	 * latency measurements from outside (bench/latency); operations not seen are left out. */
	rc |= buf_puts(b, "}, \"last\": {");
	for (op = EMU_OP_NONE + 1, n = 0; op < EMU_OP__COUNT; op++)
		if (srv->last_ms[op] > 0)
			rc |= buf_printf(b, "%s\"%s\": %" PRIu64 ".%03u", n++ > 0 ? ", " : "",
			    emu_op_name((enum emu_op)op), srv->last_ms[op] / 1000,
			    (unsigned)(srv->last_ms[op] % 1000));
	rc |= buf_puts(b, "}}");
	if (rc != 0) {
		answer_error(srv, conn, request_id, 500, "ServiceException", "Service", "Message",
		    "statistics over the buffer cap", NULL, NULL, 0);
		return;
	}
	answer(conn, 200, request_id, NULL, &ct, 1, b->data, b->len);
}

static void
admin_reset(struct server *srv, struct httpd_conn *conn, const char *request_id)
{
	struct httpd_header ct = {"Content-Type", "application/json"};
	uint64_t now = timeutil_mono_ms();

	emu_reset(srv->emu);
	srv->requests = 0;
	srv->throttled = 0;
	memset(srv->ops, 0, sizeof(srv->ops));
	memset(srv->last_ms, 0, sizeof(srv->last_ms));
	bucket_init(&srv->shared, srv->opts.throttle_rps, now);
	bucket_init(&srv->getfunction, srv->opts.getfunction_rps, now);
	rng_seed(srv);
	log_info("emulator", "reset: state and counters cleared");
	answer(conn, 200, request_id, NULL, &ct, 1, "{}", 2);
}

static void
admin_invoke(struct server *srv, struct httpd_conn *conn, const struct httpd_request *req,
    const char *request_id)
{
	struct httpd_header ct = {"Content-Type", "application/json"};
	json_error_t jerr;
	json_t *root = NULL, *key, *payload, *ferr;
	struct err err = ERR_INIT;
	char *text = NULL, msg[512];
	const char *k;
	json_t *v;

	root = json_loadb(req->body, req->body_len, JSON_DECODE_ANY, &jerr);
	if (root == NULL) {
		snprintf(msg, sizeof(msg), "malformed JSON: %s", jerr.text);
		goto bad;
	}
	if (!json_is_object(root)) {
		snprintf(msg, sizeof(msg), "the body must be a JSON object");
		goto bad;
	}
	json_object_foreach(root, k, v)
	{
		if (strcmp(k, "key") != 0 && strcmp(k, "payload") != 0 &&
		    strcmp(k, "function_error") != 0) {
			snprintf(msg, sizeof(msg), "unknown field \"%.200s\"", k);
			goto bad;
		}
	}
	key = json_object_get(root, "key");
	payload = json_object_get(root, "payload");
	ferr = json_object_get(root, "function_error");
	if (!json_is_string(key) || json_string_length(key) == 0) {
		snprintf(msg, sizeof(msg),
		    "\"key\" must be a non-empty string (an image URI or a "
		    "CodeSha256)");
		goto bad;
	}
	if (payload == NULL) {
		snprintf(msg, sizeof(msg), "\"payload\" is required (any JSON value)");
		goto bad;
	}
	if (ferr != NULL && !json_is_null(ferr) && !json_is_string(ferr)) {
		snprintf(msg, sizeof(msg), "\"function_error\" must be a string");
		goto bad;
	}
	text = json_dumps(payload, JSON_COMPACT | JSON_ENCODE_ANY);
	if (text == NULL || strlen(text) > SERVER_INVOKE_PAYLOAD_MAX) {
		snprintf(msg, sizeof(msg), "\"payload\" over %d bytes", SERVER_INVOKE_PAYLOAD_MAX);
		goto bad;
	}
	if (emu_set_invoke(srv->emu, json_string_value(key), text,
	        json_is_string(ferr) ? json_string_value(ferr) : NULL, &err) != 0) {
		snprintf(msg, sizeof(msg), "%s", err.message);
		goto bad;
	}
	answer(conn, 200, request_id, NULL, &ct, 1, "{}", 2);
	goto out;
bad:
	answer_error(srv, conn, request_id, 400, "InvalidRequestContentException", "User",
	    "message", msg, NULL, NULL, 0);
out:
	free(text);
	json_decref(root);
}

/*
 * The admin request's body as a JSON object whose members are all in allowed (NULL-ended).
 * NULL with msg filled otherwise.
 */
static json_t *
admin_object(const struct httpd_request *req, const char *const *allowed, char *msg, size_t cap)
{
	json_error_t jerr;
	json_t *root, *v;
	const char *k;
	size_t i;

	root = json_loadb(req->body, req->body_len, JSON_DECODE_ANY, &jerr);
	if (root == NULL) {
		snprintf(msg, cap, "malformed JSON: %s", jerr.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		snprintf(msg, cap, "the body must be a JSON object");
		json_decref(root);
		return NULL;
	}
	json_object_foreach(root, k, v)
	{
		for (i = 0; allowed[i] != NULL && strcmp(k, allowed[i]) != 0; i++)
			;
		if (allowed[i] == NULL) {
			snprintf(msg, cap, "unknown field \"%.200s\"", k);
			json_decref(root);
			return NULL;
		}
	}
	return root;
}

/* An optional string member: true with *out (NULL when absent or null), false if not one. */
static bool
admin_string(const json_t *root, const char *key, const char **out)
{
	const json_t *v = json_object_get(root, key);

	*out = json_is_string(v) ? json_string_value(v) : NULL;
	return v == NULL || json_is_null(v) || json_is_string(v);
}

static void
admin_update_failure(struct server *srv, struct httpd_conn *conn, const struct httpd_request *req,
    const char *request_id)
{
	static const char *const allowed[] = {"key", "reason", "reason_code", "clear", NULL};
	struct httpd_header ct = {"Content-Type", "application/json"};
	struct err err = ERR_INIT;
	const char *key, *reason, *code, *body;
	const json_t *clear;
	json_t *root;
	char msg[512];
	bool removed;

	root = admin_object(req, allowed, msg, sizeof(msg));
	if (root == NULL)
		goto bad;
	clear = json_object_get(root, "clear");
	if (!admin_string(root, "key", &key) || key == NULL || key[0] == '\0') {
		snprintf(msg, sizeof(msg),
		    "\"key\" must be a non-empty string (an image URI or a CodeSha256)");
		goto bad;
	}
	if (clear != NULL && !json_is_boolean(clear)) {
		snprintf(msg, sizeof(msg), "\"clear\" must be true or false");
		goto bad;
	}
	if (json_is_true(clear)) {
		if (json_object_size(root) != 2) {
			snprintf(msg, sizeof(msg), "\"clear\" takes only \"key\"");
			goto bad;
		}
		removed = emu_clear_update_failure(srv->emu, key);
		log_info("emulator", "update failure rule for %.200s %s", key,
		    removed ? "cleared" : "was not set");
		body = removed ? "{\"removed\": true}" : "{\"removed\": false}";
		answer(conn, 200, request_id, NULL, &ct, 1, body, strlen(body));
		goto out;
	}
	if (!admin_string(root, "reason", &reason) || reason == NULL) {
		snprintf(msg, sizeof(msg), "\"reason\" is required (a string)");
		goto bad;
	}
	if (!admin_string(root, "reason_code", &code)) {
		snprintf(msg, sizeof(msg), "\"reason_code\" must be a string");
		goto bad;
	}
	if (emu_set_update_failure(srv->emu, key, reason, code, &err) != 0) {
		snprintf(msg, sizeof(msg), "%s", err.message);
		goto bad;
	}
	log_info("emulator", "update failure rule for %.200s set", key);
	answer(conn, 200, request_id, NULL, &ct, 1, "{}", 2);
	goto out;
bad:
	answer_error(srv, conn, request_id, 400, "InvalidRequestContentException", "User",
	    "message", msg, NULL, NULL, 0);
out:
	json_decref(root);
}

static void
admin_intercept_list(struct server *srv, struct httpd_conn *conn, const char *request_id)
{
	struct httpd_header ct = {"Content-Type", "application/json"};
	struct buf b = BUF_INIT(EMU_HOOKS_LIST_MAX);

	if (emu_list_hooks(srv->emu, &b) != 0)
		answer_error(srv, conn, request_id, 500, "ServiceException", "Service", "Message",
		    "intercepts over the buffer cap", NULL, NULL, 0);
	else
		answer(conn, 200, request_id, NULL, &ct, 1, b.data, b.len);
	buf_free(&b);
}

static void
admin_intercept(struct server *srv, struct httpd_conn *conn, const struct httpd_request *req,
    const char *request_id)
{
	static const char *const allowed[] = {
	    "operation", "function", "update_code", "update_configuration", NULL};
	struct httpd_header ct = {"Content-Type", "application/json"};
	struct err err = ERR_INIT;
	const char *operation, *function;
	const json_t *code, *config;
	char *code_text = NULL, *config_text = NULL, msg[512];
	json_t *root;

	root = admin_object(req, allowed, msg, sizeof(msg));
	if (root == NULL)
		goto bad;
	if (!admin_string(root, "operation", &operation) || operation == NULL) {
		snprintf(msg, sizeof(msg), "\"operation\" is required (an operation name)");
		goto bad;
	}
	if (!admin_string(root, "function", &function) || function == NULL) {
		snprintf(msg, sizeof(msg), "\"function\" is required (a function name)");
		goto bad;
	}
	code = json_object_get(root, "update_code");
	config = json_object_get(root, "update_configuration");
	if ((code != NULL && !json_is_object(code)) ||
	    (config != NULL && !json_is_object(config))) {
		snprintf(msg, sizeof(msg),
		    "\"update_code\" and \"update_configuration\" must be JSON objects");
		goto bad;
	}
	code_text = code != NULL ? json_dumps(code, JSON_COMPACT) : NULL;
	config_text = config != NULL ? json_dumps(config, JSON_COMPACT) : NULL;
	if (emu_add_hook(srv->emu, operation, function, code_text, config_text, &err) != 0) {
		if (err.code == ERR_NOTFOUND) {
			answer_error(srv, conn, request_id, 404, "ResourceNotFoundException",
			    "User", "Message", err.message, NULL, NULL, 0);
			goto out;
		}
		snprintf(msg, sizeof(msg), "%s", err.message);
		goto bad;
	}
	log_info("emulator", "intercept added: before the next %s of %s", operation, function);
	answer(conn, 200, request_id, NULL, &ct, 1, "{}", 2);
	goto out;
bad:
	answer_error(srv, conn, request_id, 400, "InvalidRequestContentException", "User",
	    "message", msg, NULL, NULL, 0);
out:
	free(code_text);
	free(config_text);
	json_decref(root);
}

static void
admin(struct server *srv, struct httpd_conn *conn, const struct httpd_request *req,
    const char *request_id)
{
	const char *what = req->path + strlen(SERVER_ADMIN_PREFIX);
	const char *allow = NULL;
	struct httpd_header h;
	char msg[256];

	if (strcmp(what, "stats") == 0) {
		if (strcmp(req->method, "GET") == 0) {
			admin_stats(srv, conn, request_id);
			return;
		}
		allow = "GET";
	} else if (strcmp(what, "reset") == 0) {
		if (strcmp(req->method, "POST") == 0) {
			admin_reset(srv, conn, request_id);
			return;
		}
		allow = "POST";
	} else if (strcmp(what, "invoke") == 0) {
		if (strcmp(req->method, "PUT") == 0) {
			admin_invoke(srv, conn, req, request_id);
			return;
		}
		allow = "PUT";
	} else if (strcmp(what, "update-failure") == 0) {
		if (strcmp(req->method, "PUT") == 0) {
			admin_update_failure(srv, conn, req, request_id);
			return;
		}
		allow = "PUT";
	} else if (strcmp(what, "intercept") == 0) {
		if (strcmp(req->method, "POST") == 0) {
			admin_intercept(srv, conn, req, request_id);
			return;
		}
		if (strcmp(req->method, "GET") == 0) {
			admin_intercept_list(srv, conn, request_id);
			return;
		}
		allow = "GET, POST";
	}
	if (allow != NULL) {
		h = (struct httpd_header){"Allow", allow};
		snprintf(msg, sizeof(msg), "%s is not allowed here; use %s", req->method, allow);
		answer_error(srv, conn, request_id, 405, "MethodNotAllowedException", "User",
		    "message", msg, NULL, &h, 1);
		return;
	}
	answer_error(srv, conn, request_id, 404, "UnknownOperationException", "User", "message",
	    "unknown admin endpoint; the admin API is GET /_emulator/stats, POST "
	    "/_emulator/reset, PUT /_emulator/invoke, PUT /_emulator/update-failure, and GET "
	    "or POST /_emulator/intercept",
	    NULL, NULL, 0);
}

static void
on_request(struct httpd_conn *conn, const struct httpd_request *req, void *arg)
{
	struct server *srv = arg;
	struct delayed *d;
	struct fault f;
	struct httpd_header ra;
	enum emu_op op;
	enum emu_bucket bk;
	struct bucket *bucket = NULL;
	char request_id[37], retry[32], msg[256];
	double wait = 0, u, delay;
	uint64_t now;

	mint_request_id(srv, request_id);
	if (strncmp(req->path, SERVER_ADMIN_PREFIX, strlen(SERVER_ADMIN_PREFIX)) == 0) {
		admin(srv, conn, req, request_id);
		return;
	}

	op = emu_route(req->method, req->path, req->query);
	srv->requests++;
	if (op != EMU_OP_NONE) {
		srv->ops[op]++;
		srv->last_ms[op] = timeutil_wall_ms();
	}

	if (srv->opts.auth && check_signature(srv, req, &f) != 0) {
		log_debug("emulator", "request %s: %s: %s", request_id, f.type, f.message);
		answer_error(srv, conn, request_id, f.status, f.type, NULL, "message", f.message,
		    NULL, NULL, 0);
		access_log(srv, op, f.status, request_id);
		return;
	}
	if (op == EMU_OP_NONE) {
		snprintf(msg, sizeof(msg), "No Lambda operation matches %s %.200s", req->method,
		    req->path);
		answer_error(srv, conn, request_id, 404, "UnknownOperationException", "User",
		    "message", msg, NULL, NULL, 0);
		access_log(srv, op, 404, request_id);
		return;
	}

	bk = emu_op_bucket(op);
	if (bk == EMU_BUCKET_SHARED)
		bucket = &srv->shared;
	else if (bk == EMU_BUCKET_GETFUNCTION)
		bucket = &srv->getfunction;
	now = timeutil_mono_ms();
	if (bucket != NULL && !bucket_take(bucket, now, &wait)) {
		srv->throttled++;
		snprintf(retry, sizeof(retry), "%.0f", ceil(wait) < 1 ? 1 : ceil(wait));
		ra = (struct httpd_header){"Retry-After", retry};
		answer_error(srv, conn, request_id, 429, "TooManyRequestsException", "User",
		    "message", "Rate exceeded", "CallerRateLimitExceeded", &ra, 1);
		access_log(srv, op, 429, request_id);
		return;
	}

	if (srv->opts.error_rate > 0 || srv->opts.reset_rate > 0) {
		u = rng_uniform(srv);
		if (u < srv->opts.error_rate) {
			answer_error(srv, conn, request_id, 500, "ServiceException", "Service",
			    "Message", "The emulator injected this error (--error-rate).", NULL,
			    NULL, 0);
			access_log(srv, op, 500, request_id);
			return;
		}
		if (u < srv->opts.error_rate + srv->opts.reset_rate) {
			log_debug(
			    "emulator", "request %s: connection reset (--reset-rate)", request_id);
			httpd_reset(conn);
			access_log(srv, op, 0, request_id);
			return;
		}
	}

	delay = (double)srv->opts.latency_ms;
	if (srv->opts.jitter_ms > 0)
		delay += (2.0 * rng_uniform(srv) - 1.0) * (double)srv->opts.jitter_ms;
	if (delay < 1.0) {
		run_model(srv, conn, req, op, request_id);
		return;
	}
	d = xcalloc(1, sizeof(*d));
	d->srv = srv;
	d->conn = conn;
	d->req = req;
	d->op = op;
	memcpy(d->request_id, request_id, sizeof(d->request_id));
	ev_timer_init(&d->timer, delayed_cb, delay / 1000.0, 0.);
	ev_timer_start(srv->loop, &d->timer);
	d->next = srv->delayed;
	if (srv->delayed != NULL)
		srv->delayed->prev = d;
	srv->delayed = d;
}

/* Requests httpd refuses (400, 413, 431), in AWS's shape. */
static void
on_error(struct httpd_conn *conn, int status, const char *reason, void *arg)
{
	struct server *srv = arg;
	char request_id[37], msg[256];
	const char *type;

	mint_request_id(srv, request_id);
	switch (status) {
	case 413:
		type = "RequestTooLargeException";
		snprintf(msg, sizeof(msg),
		    "Request must be smaller than %d bytes for the "
		    "operation.",
		    HTTPD_BODY_MAX_DEFAULT);
		break;
	case 431:
		type = "RequestHeaderFieldsTooLargeException";
		snprintf(msg, sizeof(msg), "%s", reason);
		break;
	default:
		type = "InvalidRequestContentException";
		snprintf(msg, sizeof(msg), "Malformed HTTP request: %s", reason);
		break;
	}
	answer_error(srv, conn, request_id, status, type, "User", "message", msg, NULL, NULL, 0);
}

int
server_new(struct server **out, struct ev_loop *loop, struct emu *emu,
    const struct server_opts *opts, struct err *err)
{
	struct httpd_opts ho = HTTPD_OPTS_INIT;
	struct server *srv;
	uint64_t now = timeutil_mono_ms();
	size_t i;

	*out = NULL;
	srv = xcalloc(1, sizeof(*srv));
	srv->loop = loop;
	srv->emu = emu;
	srv->opts = *opts;
	srv->access_fd = -1;
	srv->region = xstrdup(opts->region);
	srv->opts.region = srv->region;
	srv->opts.listen = NULL;
	srv->opts.access_log = NULL;
	srv->opts.credentials = NULL;
	srv->ncreds = opts->ncredentials;
	srv->creds = xcalloc(srv->ncreds > 0 ? srv->ncreds : 1, sizeof(*srv->creds));
	for (i = 0; i < srv->ncreds; i++) {
		srv->creds[i].access_key = xstrdup(opts->credentials[i].access_key);
		srv->creds[i].secret = xstrdup(opts->credentials[i].secret);
	}
	bucket_init(&srv->shared, opts->throttle_rps, now);
	bucket_init(&srv->getfunction, opts->getfunction_rps, now);
	rng_seed(srv);
	crypto_random(&srv->ids, sizeof(srv->ids));
	emu_reply_init(&srv->reply);
	buf_init(&srv->scratch, SERVER_ERROR_BODY_MAX > SERVER_STATS_BODY_MAX
	                            ? SERVER_ERROR_BODY_MAX
	                            : SERVER_STATS_BODY_MAX);
	if (opts->access_log != NULL) {
		srv->access_fd =
		    open(opts->access_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (srv->access_fd < 0) {
			err_set(
			    err, ERR_FAIL, "access log %s: %s", opts->access_log, strerror(errno));
			server_free(srv);
			return -1;
		}
	}
	ho.listen = opts->listen;
	ho.max_body = HTTPD_BODY_MAX_DEFAULT;
	ho.idle_timeout = SERVER_IDLE_TIMEOUT;
	ho.max_connections = SERVER_MAX_CONNECTIONS;
	ho.on_request = on_request;
	ho.on_error = on_error;
	ho.arg = srv;
	if (httpd_new(&srv->httpd, loop, &ho, err) != 0) {
		server_free(srv);
		return -1;
	}
	*out = srv;
	return 0;
}

const char *
server_address(const struct server *srv)
{
	return httpd_address(srv->httpd);
}

int
server_port(const struct server *srv)
{
	return httpd_port(srv->httpd);
}

void
server_shutdown(struct server *srv)
{
	httpd_shutdown(srv->httpd);
}

void
server_free(struct server *srv)
{
	struct delayed *d;
	size_t i;

	if (srv == NULL)
		return;
	while (srv->delayed != NULL) {
		d = srv->delayed;
		srv->delayed = d->next;
		ev_timer_stop(srv->loop, &d->timer);
		/* Counted, never answered, the model never ran: like a reset, for the log. */
		access_log(srv, d->op, 0, d->request_id);
		free(d);
	}
	httpd_free(srv->httpd);
	emu_reply_free(&srv->reply);
	buf_free(&srv->scratch);
	if (srv->access_fd >= 0)
		close(srv->access_fd);
	for (i = 0; i < srv->ncreds; i++) {
		free((char *)(uintptr_t)srv->creds[i].access_key);
		/* Secrets do not outlive the server in freed memory. */
		memset((char *)(uintptr_t)srv->creds[i].secret, 0, strlen(srv->creds[i].secret));
		free((char *)(uintptr_t)srv->creds[i].secret);
	}
	free(srv->creds);
	free(srv->region);
	free(srv);
}
