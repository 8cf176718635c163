/*
 * Webhook verification and interpretation, and the coalescing fetch limiter.
 *
 * Nothing is parsed before the sender is authenticated: the body cap is checked first
 * (hashing 25 MB for an anonymous sender is work we refuse), then the signature or token,
 * and only then the event header and the JSON. An attacker without the secret therefore
 * learns nothing but "401".
 */
#include <assert.h>
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "common/crypto.h"
#include "common/log.h"
#include "common/uri.h"
#include "common/xmalloc.h"
#include "controller/webhook.h"

#define SIG_PREFIX "sha256="
#define FORM_TYPE "application/x-www-form-urlencoded"
/* A token is there when the bucket holds 1 up to rounding: a timer armed for
 * webhook_limiter_wait() seconds must find it. */
#define TOKEN_EPSILON 1e-9

const char *const webhook_provider_names[] = {
    [WEBHOOK_GITHUB] = "github",
    [WEBHOOK_GITLAB] = "gitlab",
    [WEBHOOK_GENERIC] = "generic",
};

const char *const webhook_result_names[] = {
    [WEBHOOK_TRIGGER] = "trigger",
    [WEBHOOK_IGNORED] = "ignored",
    [WEBHOOK_UNAUTHORIZED] = "unauthorized",
    [WEBHOOK_BAD_REQUEST] = "bad_request",
    [WEBHOOK_TOO_LARGE] = "too_large",
};

const char *const webhook_limiter_state_names[] = {
    [WEBHOOK_LIMITER_IDLE] = "idle",
    [WEBHOOK_LIMITER_FETCHING] = "fetching",
    [WEBHOOK_LIMITER_FETCHING_AGAIN] = "fetching-again",
    [WEBHOOK_LIMITER_WAITING] = "waiting",
};

int
webhook_provider_parse(const char *s, enum webhook_provider *out)
{
	size_t i;

	for (i = 0; i < nitems(webhook_provider_names); i++) {
		if (strcmp(s, webhook_provider_names[i]) == 0) {
			*out = (enum webhook_provider)i;
			return 0;
		}
	}
	return -1;
}

int
webhook_result_status(enum webhook_result r)
{
	switch (r) {
	case WEBHOOK_TRIGGER:
		return 202;
	case WEBHOOK_IGNORED:
		return 200;
	case WEBHOOK_UNAUTHORIZED:
		return 401;
	case WEBHOOK_BAD_REQUEST:
		return 400;
	case WEBHOOK_TOO_LARGE:
		return 413;
	}
	return 500;
}

static enum webhook_result
finish(struct webhook_delivery *out, enum webhook_result r, const char *reason)
{
	out->result = r;
	out->reason = reason;
	return r;
}

/*
 * The value of header name, or NULL when absent; *count says how many times it came (a
 * repeated header is ambiguous, and the checks refuse it).
 */
static const char *
header(const struct httpd_request *req, const char *name, size_t *count)
{
	const char *v = NULL;
	size_t i;

	*count = 0;
	for (i = 0; i < req->nheaders; i++) {
		if (strcasecmp(req->headers[i].name, name) != 0)
			continue;
		if (*count == 0)
			v = req->headers[i].value;
		(*count)++;
	}
	return v;
}

/* "sha256=<64 hex>" into its 32 bytes. Returns 0 or -1. */
static int
parse_signature(const char *s, unsigned char out[CRYPTO_SHA256_LEN])
{
	if (strncmp(s, SIG_PREFIX, strlen(SIG_PREFIX)) != 0)
		return -1;
	s += strlen(SIG_PREFIX);
	if (strlen(s) != 2 * CRYPTO_SHA256_LEN)
		return -1;
	return crypto_unhex(s, CRYPTO_SHA256_LEN, out);
}

/*
 * Check an HMAC signature header against the body. The comparison is crypto_equal() over
 * the 32 MAC bytes: its time does not depend on where they differ.
 */
static bool
hmac_ok(const struct webhook_config *cfg, const struct httpd_request *req, const char *name,
    const char **reason)
{
	unsigned char given[CRYPTO_SHA256_LEN], want[CRYPTO_SHA256_LEN];
	const char *v;
	size_t n;

	v = header(req, name, &n);
	if (v == NULL) {
		*reason = "signature header missing";
		return false;
	}
	if (n > 1) {
		*reason = "signature header repeated";
		return false;
	}
	if (parse_signature(v, given) != 0) {
		*reason = "signature malformed: want sha256=<64 hex digits>";
		return false;
	}
	crypto_hmac_sha256(cfg->secret, strlen(cfg->secret), req->body != NULL ? req->body : "",
	    req->body_len, want);
	if (!crypto_equal(given, want, sizeof(want))) {
		*reason = "signature mismatch";
		return false;
	}
	return true;
}

/*
 * Check GitLab's token. Both sides are hashed first and the digests compared with
 * crypto_equal(), so the time depends neither on where they differ nor on the token's
 * length.
 */
static bool
token_ok(const struct webhook_config *cfg, const struct httpd_request *req, const char **reason)
{
	unsigned char given[CRYPTO_SHA256_LEN], want[CRYPTO_SHA256_LEN];
	const char *v;
	size_t n;

	v = header(req, "X-Gitlab-Token", &n);
	if (v == NULL) {
		*reason = "X-Gitlab-Token missing";
		return false;
	}
	if (n > 1) {
		*reason = "X-Gitlab-Token repeated";
		return false;
	}
	crypto_sha256(v, strlen(v), given);
	crypto_sha256(cfg->secret, strlen(cfg->secret), want);
	if (!crypto_equal(given, want, sizeof(want))) {
		*reason = "X-Gitlab-Token mismatch";
		return false;
	}
	return true;
}

bool
webhook_ref_matches(const char *tracked, const char *pushed)
{
	static const char *const prefixes[] = {"refs/heads/", "refs/tags/", "refs/"};
	size_t i, n;

	if (strncmp(tracked, "refs/", 5) == 0)
		return strcmp(tracked, pushed) == 0;
	for (i = 0; i < nitems(prefixes); i++) {
		n = strlen(prefixes[i]);
		if (strncmp(pushed, prefixes[i], n) == 0 && strcmp(pushed + n, tracked) == 0)
			return true;
	}
	return false;
}

static bool
all_zeros(const char *s)
{
	return s[strspn(s, "0")] == '\0';
}

/*
 * An object id: 40 (SHA-1) or 64 (SHA-256) hex digits, copied in lower case into
 * out->commit. Returns 0 or -1.
 */
static int
take_commit(struct webhook_delivery *out, const char *s)
{
	size_t i, n = strlen(s);

	if (n != 40 && n != 64)
		return -1;
	for (i = 0; i < n; i++) {
		if (!isxdigit((unsigned char)s[i]))
			return -1;
		out->commit[i] = (char)tolower((unsigned char)s[i]);
	}
	out->commit[n] = '\0';
	return 0;
}

/* The default branch a payload names: repository.default_branch (GitHub) or
 * project.default_branch (GitLab); NULL when it names none. */
static const char *
default_branch(json_t *root)
{
	static const char *const owners[] = {"repository", "project"};
	const char *s;
	size_t i;

	for (i = 0; i < nitems(owners); i++) {
		s = json_string_value(
		    json_object_get(json_object_get(root, owners[i]), "default_branch"));
		if (s != NULL && s[0] != '\0')
			return s;
	}
	return NULL;
}

/*
 * Interpret a push: root's "ref" (required unless optional_ref) and "after", and whether
 * the tracked ref is concerned.
 */
static enum webhook_result
push(
    const struct webhook_config *cfg, json_t *root, bool optional_ref, struct webhook_delivery *out)
{
	json_t *ref = json_object_get(root, "ref");
	json_t *after = json_object_get(root, "after");
	const char *tracked = cfg->ref;
	char *branch = NULL;
	bool match;

	if (ref != NULL || !optional_ref) {
		if (!json_is_string(ref))
			return finish(out, WEBHOOK_BAD_REQUEST, "push without a string \"ref\"");
		/* jansson refuses "\u0000" (no JSON_ALLOW_NUL), so the length is strlen's. */
		if (json_string_length(ref) > WEBHOOK_REF_MAX)
			return finish(out, WEBHOOK_BAD_REQUEST, "push \"ref\" too long");
		memcpy(out->ref, json_string_value(ref), json_string_length(ref) + 1);
	}
	if (after != NULL && !json_is_null(after)) {
		if (!json_is_string(after) || take_commit(out, json_string_value(after)) != 0)
			return finish(out, WEBHOOK_BAD_REQUEST,
			    "push \"after\" is not a 40 or 64 digit object id");
	}
	if (out->commit[0] != '\0' && all_zeros(out->commit))
		return finish(out, WEBHOOK_IGNORED, "push deleted the ref");
	if (ref == NULL)
		return finish(out, WEBHOOK_TRIGGER, "delivery names no ref");
	if (tracked == NULL && default_branch(root) == NULL)
		return finish(out, WEBHOOK_TRIGGER, "push; payload names no default branch");
	if (tracked == NULL) {
		branch = xasprintf("refs/heads/%s", default_branch(root));
		tracked = branch;
	}
	match = webhook_ref_matches(tracked, out->ref);
	free(branch);
	if (!match)
		return finish(out, WEBHOOK_IGNORED, "push to another ref");
	return finish(out, WEBHOOK_TRIGGER, "push to the tracked ref");
}

/*
 * GitHub's form encoding: "payload=<JSON, percent-encoded, '+' for space>". Returns the
 * decoded JSON (free() it), or NULL when there is no well-formed payload parameter.
 */
static char *
form_payload(const char *body, size_t len)
{
	struct uri_query it;
	char *copy, *key, *value, *found = NULL;
	size_t i;
	int rc;

	copy = xstrndup(body, len);
	/* '+' is a space in forms; uri_decode leaves it alone, and a real '+' is "%2B". */
	for (i = 0; copy[i] != '\0'; i++) {
		if (copy[i] == '+')
			copy[i] = ' ';
	}
	uri_query_init(&it, copy);
	while (found == NULL) {
		rc = uri_query_next(&it, &key, &value);
		if (rc <= 0)
			break;
		if (strcmp(key, "payload") == 0) {
			found = value;
			value = NULL;
		}
		free(key);
		free(value);
	}
	free(copy);
	return found;
}

/* Parse the JSON object of a push (GitHub may send it form-encoded). NULL when malformed. */
static json_t *
parse_object(const struct httpd_request *req, bool form)
{
	json_t *root;
	char *payload;

	if (form) {
		payload = form_payload(req->body, req->body_len);
		if (payload == NULL)
			return NULL;
		root = json_loads(payload, 0, NULL);
		free(payload);
	} else {
		root = json_loadb(req->body != NULL ? req->body : "", req->body_len, 0, NULL);
	}
	if (root != NULL && !json_is_object(root)) {
		json_decref(root);
		return NULL;
	}
	return root;
}

static enum webhook_result
push_body(const struct webhook_config *cfg, const struct httpd_request *req, bool form,
    struct webhook_delivery *out)
{
	enum webhook_result r;
	json_t *root;

	root = parse_object(req, form);
	if (root == NULL)
		return finish(out, WEBHOOK_BAD_REQUEST, "push body is not a JSON object");
	r = push(cfg, root, false, out);
	json_decref(root);
	return r;
}

static enum webhook_result
github(
    const struct webhook_config *cfg, const struct httpd_request *req, struct webhook_delivery *out)
{
	const char *event, *type;
	size_t n;
	bool form;

	event = header(req, "X-GitHub-Event", &n);
	if (event == NULL || n > 1)
		return finish(out, WEBHOOK_BAD_REQUEST, "X-GitHub-Event missing or repeated");
	if (strcmp(event, "ping") == 0)
		return finish(out, WEBHOOK_IGNORED, "ping");
	if (strcmp(event, "push") != 0)
		return finish(out, WEBHOOK_IGNORED, "event is not a push");
	type = header(req, "Content-Type", &n);
	form = type != NULL && strncasecmp(type, FORM_TYPE, strlen(FORM_TYPE)) == 0;
	return push_body(cfg, req, form, out);
}

static enum webhook_result
gitlab(
    const struct webhook_config *cfg, const struct httpd_request *req, struct webhook_delivery *out)
{
	const char *event;
	size_t n;

	event = header(req, "X-Gitlab-Event", &n);
	if (event == NULL || n > 1)
		return finish(out, WEBHOOK_BAD_REQUEST, "X-Gitlab-Event missing or repeated");
	if (strcmp(event, "Push Hook") != 0 && strcmp(event, "Tag Push Hook") != 0)
		return finish(out, WEBHOOK_IGNORED, "event is not a push");
	return push_body(cfg, req, false, out);
}

/* Any body triggers; a JSON object's "ref" and "after" are used when present. */
static enum webhook_result
generic(
    const struct webhook_config *cfg, const struct httpd_request *req, struct webhook_delivery *out)
{
	enum webhook_result r;
	json_t *root;

	root = parse_object(req, false);
	if (root == NULL)
		return finish(out, WEBHOOK_TRIGGER, "signed delivery");
	r = push(cfg, root, true, out);
	json_decref(root);
	return r;
}

enum webhook_result
webhook_check(
    const struct webhook_config *cfg, const struct httpd_request *req, struct webhook_delivery *out)
{
	size_t max = cfg->max_body > 0 ? cfg->max_body : WEBHOOK_BODY_MAX;
	const char *reason = NULL;
	bool ok;

	assert(cfg->secret != NULL);
	memset(out, 0, sizeof(*out));
	if (req->body_len > max)
		return finish(out, WEBHOOK_TOO_LARGE, "body over the cap");
	if (cfg->secret[0] == '\0')
		return finish(out, WEBHOOK_UNAUTHORIZED, "no secret configured");
	switch (cfg->provider) {
	case WEBHOOK_GITHUB:
		ok = hmac_ok(cfg, req, "X-Hub-Signature-256", &reason);
		break;
	case WEBHOOK_GITLAB:
		ok = token_ok(cfg, req, &reason);
		break;
	case WEBHOOK_GENERIC:
		ok = hmac_ok(
		    cfg, req, cfg->header != NULL ? cfg->header : WEBHOOK_GENERIC_HEADER, &reason);
		break;
	default:
		abort();
	}
	if (!ok)
		return finish(out, WEBHOOK_UNAUTHORIZED, reason);
	switch (cfg->provider) {
	case WEBHOOK_GITHUB:
		return github(cfg, req, out);
	case WEBHOOK_GITLAB:
		return gitlab(cfg, req, out);
	case WEBHOOK_GENERIC:
		return generic(cfg, req, out);
	}
	abort();
}

struct webhook_limiter {
	enum webhook_limiter_state state;
	double rate; /* tokens per second */
	double burst;
	double tokens;
	double at; /* when tokens was last refilled */
};

static void
set_state(struct webhook_limiter *l, enum webhook_limiter_state state, const char *why)
{
	if (l->state == state)
		return;
	log_debug("webhook", "limiter: %s -> %s (%s) tokens=%.2f",
	    webhook_limiter_state_names[l->state], webhook_limiter_state_names[state], why,
	    l->tokens);
	l->state = state;
}

static void
refill(struct webhook_limiter *l, double now)
{
	/* A clock that stepped back refills nothing and drains nothing; refilling goes on
	 * from the new reading. */
	if (now > l->at) {
		l->tokens += (now - l->at) * l->rate;
		if (l->tokens > l->burst)
			l->tokens = l->burst;
	}
	l->at = now;
}

/* Take a token if there is one. */
static bool
take(struct webhook_limiter *l, double now)
{
	refill(l, now);
	if (l->tokens < 1 - TOKEN_EPSILON)
		return false;
	/* Within TOKEN_EPSILON of 1 counts as 1, and never leaves a negative balance. */
	l->tokens = l->tokens > 1 ? l->tokens - 1 : 0;
	return true;
}

struct webhook_limiter *
webhook_limiter_new(double per_minute, unsigned burst, double now)
{
	struct webhook_limiter *l;

	assert(per_minute > 0 && isfinite(per_minute) && burst >= 1);
	l = xcalloc(1, sizeof(*l));
	l->state = WEBHOOK_LIMITER_IDLE;
	l->rate = per_minute / 60;
	l->burst = burst;
	l->tokens = burst;
	l->at = now;
	return l;
}

void
webhook_limiter_free(struct webhook_limiter *l)
{
	free(l);
}

bool
webhook_limiter_trigger(struct webhook_limiter *l, double now)
{
	switch (l->state) {
	case WEBHOOK_LIMITER_IDLE:
	case WEBHOOK_LIMITER_WAITING:
		if (take(l, now)) {
			set_state(l, WEBHOOK_LIMITER_FETCHING, "trigger");
			return true;
		}
		set_state(l, WEBHOOK_LIMITER_WAITING, "trigger, no token");
		return false;
	case WEBHOOK_LIMITER_FETCHING:
		set_state(l, WEBHOOK_LIMITER_FETCHING_AGAIN, "trigger during a fetch");
		return false;
	case WEBHOOK_LIMITER_FETCHING_AGAIN:
		return false;
	}
	abort();
}

bool
webhook_limiter_done(struct webhook_limiter *l, double now)
{
	assert(l->state == WEBHOOK_LIMITER_FETCHING || l->state == WEBHOOK_LIMITER_FETCHING_AGAIN);
	if (l->state == WEBHOOK_LIMITER_FETCHING) {
		set_state(l, WEBHOOK_LIMITER_IDLE, "fetch done");
		return false;
	}
	if (take(l, now)) {
		set_state(l, WEBHOOK_LIMITER_FETCHING, "fetch done, another queued");
		return true;
	}
	set_state(l, WEBHOOK_LIMITER_WAITING, "fetch done, another queued, no token");
	return false;
}

double
webhook_limiter_wait(struct webhook_limiter *l, double now)
{
	if (l->state != WEBHOOK_LIMITER_WAITING)
		return -1;
	refill(l, now);
	return l->tokens >= 1 - TOKEN_EPSILON ? 0 : (1 - l->tokens) / l->rate;
}

bool
webhook_limiter_poll(struct webhook_limiter *l, double now)
{
	if (l->state != WEBHOOK_LIMITER_WAITING || !take(l, now))
		return false;
	set_state(l, WEBHOOK_LIMITER_FETCHING, "token for the queued fetch");
	return true;
}

enum webhook_limiter_state
webhook_limiter_state(const struct webhook_limiter *l)
{
	return l->state;
}

double
webhook_limiter_tokens(struct webhook_limiter *l, double now)
{
	refill(l, now);
	return l->tokens;
}
