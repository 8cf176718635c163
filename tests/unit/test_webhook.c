/*
 * Webhook deliveries: every branch of every provider with real HMACs (computed here with
 * OpenSSL's HMAC(), independently of common/crypto), the order of the checks (nothing is
 * parsed before the sender is authenticated), ref matching, and the coalescing fetch
 * limiter under floods, driven by a simulated clock.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/xmalloc.h"
#include "controller/webhook.h"

#define SECRET "It's a Secret to Everybody"
#define C1 "1f0c8b7c6e7a5b0e6a1c0d6f1f6e8e1b4b4c2a9d"
#define C256 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ZEROS "0000000000000000000000000000000000000000"

#define HEADERS_MAX 8

/* A request under construction: headers and a body, as httpd hands them over. */
struct req {
	struct httpd_header h[HEADERS_MAX];
	char *owned[HEADERS_MAX];
	size_t n;
	struct httpd_request r;
};

static void
req_init(struct req *q, const char *body)
{
	memset(q, 0, sizeof(*q));
	q->r.method = "POST";
	q->r.target = q->r.path = "/hooks/test";
	q->r.headers = q->h;
	q->r.body = body;
	q->r.body_len = body != NULL ? strlen(body) : 0;
	q->r.peer = "127.0.0.1:1";
}

static void
req_header(struct req *q, const char *name, const char *value)
{
	assert_true(q->n < HEADERS_MAX);
	q->owned[q->n] = xstrdup(value);
	q->h[q->n].name = name;
	q->h[q->n].value = q->owned[q->n];
	q->n++;
	q->r.nheaders = q->n;
}

static void
req_free(struct req *q)
{
	size_t i;

	for (i = 0; i < q->n; i++)
		free(q->owned[i]);
}

/* "sha256=<hex>" of body keyed by key, computed with OpenSSL directly. */
static void
sign(const char *key, const char *body, size_t len, char out[7 + 64 + 1])
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	unsigned int i;

	assert_non_null(HMAC(
	    EVP_sha256(), key, (int)strlen(key), (const unsigned char *)body, len, mac, &maclen));
	assert_int_equal(maclen, 32);
	memcpy(out, "sha256=", 7);
	for (i = 0; i < maclen; i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", mac[i]);
}

/* A GitHub request: event (NULL: none), body signed with key (NULL: unsigned). */
static void
github_req(struct req *q, const char *event, const char *body, const char *key)
{
	char sig[72];

	req_init(q, body);
	req_header(q, "Content-Type", "application/json");
	if (event != NULL)
		req_header(q, "X-GitHub-Event", event);
	if (key != NULL) {
		sign(key, body, strlen(body), sig);
		req_header(q, "X-Hub-Signature-256", sig);
	}
}

static struct webhook_config
config(enum webhook_provider p, const char *ref)
{
	struct webhook_config c = WEBHOOK_CONFIG_INIT;

	c.provider = p;
	c.secret = SECRET;
	c.ref = ref;
	return c;
}

/* Check one delivery's result, reason (substring) and commit. */
static void
expect(const struct webhook_config *c, const struct req *q, enum webhook_result want,
    const char *reason, const char *commit)
{
	struct webhook_delivery d;
	enum webhook_result got;

	got = webhook_check(c, &q->r, &d);
	if (got != want || d.result != got)
		fail_msg("want %s, got %s (%s)", webhook_result_names[want],
		    webhook_result_names[got], d.reason != NULL ? d.reason : "(no reason)");
	assert_non_null(d.reason);
	if (strstr(d.reason, reason) == NULL)
		fail_msg("reason '%s' does not say '%s'", d.reason, reason);
	assert_string_equal(d.commit, commit);
	/* Never the secret in anything the caller may log. */
	assert_null(strstr(d.reason, SECRET));
}

static const char *
push_body(const char *ref, const char *after)
{
	static char body[512];

	snprintf(body, sizeof(body),
	    "{\"ref\":\"%s\",\"before\":\"%s\",\"after\":\"%s\",\"repository\":{\"name\":\"x\"}}",
	    ref, ZEROS, after);
	return body;
}

static void
test_webhook__names(void **state)
{
	enum webhook_provider p;

	(void)state;
	assert_string_equal(webhook_result_names[WEBHOOK_TRIGGER], "trigger");
	assert_string_equal(webhook_result_names[WEBHOOK_IGNORED], "ignored");
	assert_string_equal(webhook_result_names[WEBHOOK_UNAUTHORIZED], "unauthorized");
	assert_string_equal(webhook_result_names[WEBHOOK_BAD_REQUEST], "bad_request");
	assert_string_equal(webhook_result_names[WEBHOOK_TOO_LARGE], "too_large");
	assert_int_equal(webhook_result_status(WEBHOOK_TRIGGER), 202);
	assert_int_equal(webhook_result_status(WEBHOOK_IGNORED), 200);
	assert_int_equal(webhook_result_status(WEBHOOK_UNAUTHORIZED), 401);
	assert_int_equal(webhook_result_status(WEBHOOK_BAD_REQUEST), 400);
	assert_int_equal(webhook_result_status(WEBHOOK_TOO_LARGE), 413);
	assert_int_equal(webhook_provider_parse("github", &p), 0);
	assert_int_equal(p, WEBHOOK_GITHUB);
	assert_int_equal(webhook_provider_parse("gitlab", &p), 0);
	assert_int_equal(p, WEBHOOK_GITLAB);
	assert_int_equal(webhook_provider_parse("generic", &p), 0);
	assert_int_equal(p, WEBHOOK_GENERIC);
	assert_int_equal(webhook_provider_parse("GitHub", &p), -1);
	assert_int_equal(webhook_provider_parse("", &p), -1);
}

static void
test_webhook__ref_matches(void **state)
{
	(void)state;
	assert_true(webhook_ref_matches("main", "refs/heads/main"));
	assert_true(webhook_ref_matches("v1.2", "refs/tags/v1.2"));
	assert_true(webhook_ref_matches("heads/main", "refs/heads/main"));
	assert_true(webhook_ref_matches("refs/heads/main", "refs/heads/main"));
	assert_true(webhook_ref_matches("refs/tags/v1", "refs/tags/v1"));
	assert_true(webhook_ref_matches("feature/x", "refs/heads/feature/x"));
	assert_false(webhook_ref_matches("main", "refs/heads/maint"));
	assert_false(webhook_ref_matches("main", "refs/heads/feature/main"));
	assert_false(webhook_ref_matches("main", "refs/heads/mai"));
	assert_false(webhook_ref_matches("main", "main"));
	assert_false(webhook_ref_matches("refs/heads/main", "refs/tags/main"));
	assert_false(webhook_ref_matches("refs/heads/main", "refs/heads/main2"));
	assert_false(webhook_ref_matches("x", "refs/remotes/origin/x"));
}

static void
test_webhook__github_push(void **state)
{
	struct webhook_config c = config(WEBHOOK_GITHUB, "main");
	struct webhook_config full = config(WEBHOOK_GITHUB, "refs/heads/main");
	struct webhook_config tag = config(WEBHOOK_GITHUB, "v2");
	struct webhook_delivery d;
	struct req q;

	(void)state;
	github_req(&q, "push", push_body("refs/heads/main", C1), SECRET);
	expect(&c, &q, WEBHOOK_TRIGGER, "tracked ref", C1);
	expect(&full, &q, WEBHOOK_TRIGGER, "tracked ref", C1);
	expect(&tag, &q, WEBHOOK_IGNORED, "another ref", C1);
	assert_int_equal(webhook_check(&c, &q.r, &d), WEBHOOK_TRIGGER);
	assert_string_equal(d.ref, "refs/heads/main");
	req_free(&q);

	github_req(&q, "push", push_body("refs/heads/develop", C1), SECRET);
	expect(&c, &q, WEBHOOK_IGNORED, "another ref", C1);
	req_free(&q);

	github_req(&q, "push", push_body("refs/tags/v2", C256), SECRET);
	expect(&tag, &q, WEBHOOK_TRIGGER, "tracked ref", C256);
	expect(&c, &q, WEBHOOK_IGNORED, "another ref", C256);
	req_free(&q);

	/* Upper-case object ids are reported in lower case. */
	github_req(&q, "push",
	    push_body("refs/heads/main", "ABCDEF0123456789ABCDEF0123456789ABCDEF01"), SECRET);
	expect(&c, &q, WEBHOOK_TRIGGER, "tracked ref", "abcdef0123456789abcdef0123456789abcdef01");
	req_free(&q);

	/* A deleted branch (after = zeros) is nothing to fetch. */
	github_req(&q, "push", push_body("refs/heads/main", ZEROS), SECRET);
	expect(&c, &q, WEBHOOK_IGNORED, "deleted", ZEROS);
	req_free(&q);

	/* "after": null or absent is no commit, still a trigger. */
	github_req(&q, "push", "{\"ref\":\"refs/heads/main\",\"after\":null}", SECRET);
	expect(&c, &q, WEBHOOK_TRIGGER, "tracked ref", "");
	req_free(&q);
	github_req(&q, "push", "{\"ref\":\"refs/heads/main\"}", SECRET);
	expect(&c, &q, WEBHOOK_TRIGGER, "tracked ref", "");
	req_free(&q);

	/* Header names are case-insensitive, as HTTP says. */
	{
		char sig[72];
		const char *body = push_body("refs/heads/main", C1);

		req_init(&q, body);
		sign(SECRET, body, strlen(body), sig);
		req_header(&q, "x-hub-signature-256", sig);
		req_header(&q, "x-github-event", "push");
		expect(&c, &q, WEBHOOK_TRIGGER, "tracked ref", C1);
		req_free(&q);
	}
}

static void
test_webhook__github_events(void **state)
{
	struct webhook_config c = config(WEBHOOK_GITHUB, "main");
	struct req q;

	(void)state;
	github_req(&q, "ping", "{\"zen\":\"Keep it logically awesome.\",\"hook_id\":1}", SECRET);
	expect(&c, &q, WEBHOOK_IGNORED, "ping", "");
	req_free(&q);

	github_req(&q, "issues", "{\"action\":\"opened\"}", SECRET);
	expect(&c, &q, WEBHOOK_IGNORED, "not a push", "");
	req_free(&q);

	/* An event header is required once authenticated, and only once. */
	github_req(&q, NULL, push_body("refs/heads/main", C1), SECRET);
	expect(&c, &q, WEBHOOK_BAD_REQUEST, "X-GitHub-Event", "");
	req_free(&q);
	github_req(&q, "push", push_body("refs/heads/main", C1), SECRET);
	req_header(&q, "X-GitHub-Event", "ping");
	expect(&c, &q, WEBHOOK_BAD_REQUEST, "X-GitHub-Event", "");
	req_free(&q);
}

static void
test_webhook__github_malformed(void **state)
{
	struct webhook_config c = config(WEBHOOK_GITHUB, "main");
	static const char *const bodies[] = {
	    "",
	    "not json",
	    "{\"ref\":\"refs/heads/main\"",
	    "[\"refs/heads/main\"]",
	    "\"refs/heads/main\"",
	    "{}",
	    "{\"ref\":42,\"after\":\"" C1 "\"}",
	    "{\"ref\":null}",
	    "{\"ref\":\"refs/heads/main\",\"after\":\"xyz\"}",
	    "{\"ref\":\"refs/heads/main\",\"after\":\"" C1 "0\"}",
	    "{\"ref\":\"refs/heads/main\",\"after\":\"g" C1 "\"}",
	    "{\"ref\":\"refs/heads/main\",\"after\":7}",
	    "{\"ref\":\"refs/heads/ma\\u0000in\",\"after\":\"" C1 "\"}",
	};
	const char *want[] = {"JSON object", "JSON object", "JSON object", "JSON object",
	    "JSON object", "\"ref\"", "\"ref\"", "\"ref\"", "\"after\"", "\"after\"", "\"after\"",
	    "\"after\"", "JSON object"};
	struct req q;
	size_t i;

	(void)state;
	for (i = 0; i < nitems(bodies); i++) {
		github_req(&q, "push", bodies[i], SECRET);
		expect(&c, &q, WEBHOOK_BAD_REQUEST, want[i], "");
		req_free(&q);
	}
}

static void
test_webhook__github_long_ref(void **state)
{
	struct webhook_config c = config(WEBHOOK_GITHUB, "main");
	char *body, ref[WEBHOOK_REF_MAX + 2];
	struct req q;

	(void)state;
	memset(ref, 'r', sizeof(ref) - 1);
	ref[sizeof(ref) - 1] = '\0';
	body = xasprintf("{\"ref\":\"%s\",\"after\":\"%s\"}", ref, C1);
	github_req(&q, "push", body, SECRET);
	expect(&c, &q, WEBHOOK_BAD_REQUEST, "too long", "");
	req_free(&q);
	free(body);

	/* At the cap it is taken (and is some other ref). */
	ref[WEBHOOK_REF_MAX] = '\0';
	body = xasprintf("{\"ref\":\"%s\",\"after\":\"%s\"}", ref, C1);
	github_req(&q, "push", body, SECRET);
	expect(&c, &q, WEBHOOK_IGNORED, "another ref", C1);
	req_free(&q);
	free(body);
}

static void
test_webhook__github_signature(void **state)
{
	struct webhook_config c = config(WEBHOOK_GITHUB, "main");
	struct webhook_config empty = config(WEBHOOK_GITHUB, "main");
	const char *body = push_body("refs/heads/main", C1);
	char sig[72], bad[80];
	struct req q;
	size_t i;

	(void)state;
	sign(SECRET, body, strlen(body), sig);

	github_req(&q, "push", body, NULL);
	expect(&c, &q, WEBHOOK_UNAUTHORIZED, "missing", "");
	req_free(&q);

	/* Signed with another secret; or the body changed by one byte after signing. */
	github_req(&q, "push", body, "another secret");
	expect(&c, &q, WEBHOOK_UNAUTHORIZED, "mismatch", "");
	req_free(&q);
	{
		char *altered = xstrdup(body);

		altered[strlen(altered) - 2] ^= 1;
		req_init(&q, altered);
		req_header(&q, "X-GitHub-Event", "push");
		req_header(&q, "X-Hub-Signature-256", sig);
		expect(&c, &q, WEBHOOK_UNAUTHORIZED, "mismatch", "");
		req_free(&q);
		free(altered);
	}

	/* Each bit of the MAC matters: flip one hex digit at each position. */
	for (i = 7; i < 7 + 64; i++) {
		snprintf(bad, sizeof(bad), "%s", sig);
		bad[i] = bad[i] == '0' ? '1' : '0';
		req_init(&q, body);
		req_header(&q, "X-GitHub-Event", "push");
		req_header(&q, "X-Hub-Signature-256", bad);
		expect(&c, &q, WEBHOOK_UNAUTHORIZED, "mismatch", "");
		req_free(&q);
	}

	/* Malformed: no prefix, another algorithm, short, long, not hex, empty. */
	{
		const char *forms[] = {sig + 7, "sha1=0123456789abcdef0123456789abcdef01234567",
		    "sha256=abcd", "", "sha256="};
		char longer[80], nothex[80], upper[80];

		snprintf(longer, sizeof(longer), "%s0", sig);
		snprintf(nothex, sizeof(nothex), "%s", sig);
		nothex[10] = 'g';
		for (i = 0; i < nitems(forms); i++) {
			req_init(&q, body);
			req_header(&q, "X-GitHub-Event", "push");
			req_header(&q, "X-Hub-Signature-256", forms[i]);
			expect(&c, &q, WEBHOOK_UNAUTHORIZED, "malformed", "");
			req_free(&q);
		}
		req_init(&q, body);
		req_header(&q, "X-GitHub-Event", "push");
		req_header(&q, "X-Hub-Signature-256", longer);
		expect(&c, &q, WEBHOOK_UNAUTHORIZED, "malformed", "");
		req_free(&q);
		req_init(&q, body);
		req_header(&q, "X-GitHub-Event", "push");
		req_header(&q, "X-Hub-Signature-256", nothex);
		expect(&c, &q, WEBHOOK_UNAUTHORIZED, "malformed", "");
		req_free(&q);

		/* Upper-case hex is the same MAC. */
		snprintf(upper, sizeof(upper), "%s", sig);
		for (i = 7; upper[i] != '\0'; i++) {
			if (upper[i] >= 'a' && upper[i] <= 'f')
				upper[i] = (char)(upper[i] - 'a' + 'A');
		}
		req_init(&q, body);
		req_header(&q, "X-GitHub-Event", "push");
		req_header(&q, "X-Hub-Signature-256", upper);
		expect(&c, &q, WEBHOOK_TRIGGER, "tracked ref", C1);
		req_free(&q);
	}

	/* A repeated signature header is refused, even when one of them is right. */
	github_req(&q, "push", body, SECRET);
	req_header(&q, "X-Hub-Signature-256", sig);
	expect(&c, &q, WEBHOOK_UNAUTHORIZED, "repeated", "");
	req_free(&q);

	/* GitLab's token header is no GitHub signature. */
	req_init(&q, body);
	req_header(&q, "X-GitHub-Event", "push");
	req_header(&q, "X-Gitlab-Token", SECRET);
	expect(&c, &q, WEBHOOK_UNAUTHORIZED, "missing", "");
	req_free(&q);

	/* An empty secret refuses everything, even a delivery signed with the empty key. */
	empty.secret = "";
	github_req(&q, "push", body, "");
	expect(&empty, &q, WEBHOOK_UNAUTHORIZED, "no secret", "");
	req_free(&q);
}

/* Nothing is parsed or interpreted before the sender is authenticated. */
static void
test_webhook__auth_first(void **state)
{
	struct webhook_config c = config(WEBHOOK_GITHUB, "main");
	struct webhook_config gl = config(WEBHOOK_GITLAB, "main");
	struct req q;

	(void)state;
	github_req(&q, "push", "not json", "wrong");
	expect(&c, &q, WEBHOOK_UNAUTHORIZED, "mismatch", "");
	req_free(&q);
	github_req(&q, NULL, "not json", NULL);
	expect(&c, &q, WEBHOOK_UNAUTHORIZED, "missing", "");
	req_free(&q);
	github_req(&q, "ping", "{}", "wrong");
	expect(&c, &q, WEBHOOK_UNAUTHORIZED, "mismatch", "");
	req_free(&q);

	req_init(&q, "not json");
	req_header(&q, "X-Gitlab-Event", "Push Hook");
	expect(&gl, &q, WEBHOOK_UNAUTHORIZED, "missing", "");
	req_free(&q);
}

static void
test_webhook__too_large(void **state)
{
	struct webhook_config c = config(WEBHOOK_GITHUB, "main");
	struct webhook_config gl = config(WEBHOOK_GITLAB, "main");
	const char *body = push_body("refs/heads/main", C1);
	struct req q;

	(void)state;
	c.max_body = strlen(body);
	github_req(&q, "push", body, SECRET);
	expect(&c, &q, WEBHOOK_TRIGGER, "tracked ref", C1);
	c.max_body = strlen(body) - 1;
	expect(&c, &q, WEBHOOK_TOO_LARGE, "cap", "");
	req_free(&q);

	/* Before the signature: an unsigned oversized body is too large, not unauthorized. */
	github_req(&q, "push", body, NULL);
	expect(&c, &q, WEBHOOK_TOO_LARGE, "cap", "");
	req_free(&q);

	/* The default cap. */
	c.max_body = 0;
	github_req(&q, "push", body, SECRET);
	q.r.body_len = WEBHOOK_BODY_MAX + 1; /* only the length is read before the cap check */
	expect(&c, &q, WEBHOOK_TOO_LARGE, "cap", "");
	expect(&gl, &q, WEBHOOK_TOO_LARGE, "cap", "");
	req_free(&q);
}

static void
test_webhook__github_form(void **state)
{
	struct webhook_config c = config(WEBHOOK_GITHUB, "feature/a+b c");
	const char *body =
	    "payload=%7B%22ref%22%3A%22refs%2Fheads%2Ffeature%2Fa%2Bb+c%22%2C%22after%22%3A%22" C1
	    "%22%7D";
	char sig[72];
	struct req q;

	(void)state;
	req_init(&q, body);
	req_header(&q, "Content-Type", "application/x-www-form-urlencoded");
	req_header(&q, "X-GitHub-Event", "push");
	sign(SECRET, body, strlen(body), sig);
	req_header(&q, "X-Hub-Signature-256", sig);
	expect(&c, &q, WEBHOOK_TRIGGER, "tracked ref", C1);
	req_free(&q);

	/* The payload among other parameters, and a form without one. */
	body = "a=1&payload=%7B%22ref%22%3A%22refs%2Fheads%2Fother%22%7D&b=2";
	req_init(&q, body);
	req_header(&q, "content-type", "application/x-www-form-urlencoded; charset=utf-8");
	req_header(&q, "X-GitHub-Event", "push");
	sign(SECRET, body, strlen(body), sig);
	req_header(&q, "X-Hub-Signature-256", sig);
	expect(&c, &q, WEBHOOK_IGNORED, "another ref", "");
	req_free(&q);

	body = "nopayload=1";
	req_init(&q, body);
	req_header(&q, "Content-Type", "application/x-www-form-urlencoded");
	req_header(&q, "X-GitHub-Event", "push");
	sign(SECRET, body, strlen(body), sig);
	req_header(&q, "X-Hub-Signature-256", sig);
	expect(&c, &q, WEBHOOK_BAD_REQUEST, "JSON object", "");
	req_free(&q);

	body = "payload=%zz";
	req_init(&q, body);
	req_header(&q, "Content-Type", "application/x-www-form-urlencoded");
	req_header(&q, "X-GitHub-Event", "push");
	sign(SECRET, body, strlen(body), sig);
	req_header(&q, "X-Hub-Signature-256", sig);
	expect(&c, &q, WEBHOOK_BAD_REQUEST, "JSON object", "");
	req_free(&q);
}

static void
test_webhook__default_branch(void **state)
{
	struct webhook_config c = config(WEBHOOK_GITHUB, NULL);
	struct webhook_config gl = config(WEBHOOK_GITLAB, NULL);
	const char *gh_trunk = "{\"ref\":\"refs/heads/trunk\",\"after\":\"" C1
	                       "\",\"repository\":{\"default_branch\":\"trunk\"}}";
	const char *gh_other = "{\"ref\":\"refs/heads/main\",\"after\":\"" C1
	                       "\",\"repository\":{\"default_branch\":\"trunk\"}}";
	const char *gh_tag = "{\"ref\":\"refs/tags/trunk\",\"after\":\"" C1
	                     "\",\"repository\":{\"default_branch\":\"trunk\"}}";
	const char *gl_body = "{\"ref\":\"refs/heads/dev\",\"after\":\"" C1
	                      "\",\"project\":{\"default_branch\":\"dev\"}}";
	struct req q;

	(void)state;
	github_req(&q, "push", gh_trunk, SECRET);
	expect(&c, &q, WEBHOOK_TRIGGER, "tracked ref", C1);
	req_free(&q);
	github_req(&q, "push", gh_other, SECRET);
	expect(&c, &q, WEBHOOK_IGNORED, "another ref", C1);
	req_free(&q);
	github_req(&q, "push", gh_tag, SECRET);
	expect(&c, &q, WEBHOOK_IGNORED, "another ref", C1);
	req_free(&q);
	/* A payload that does not name the default branch triggers: a fetch too many is
	 * cheaper than a change missed. */
	github_req(&q, "push", push_body("refs/heads/anything", C1), SECRET);
	expect(&c, &q, WEBHOOK_TRIGGER, "no default branch", C1);
	req_free(&q);

	req_init(&q, gl_body);
	req_header(&q, "X-Gitlab-Event", "Push Hook");
	req_header(&q, "X-Gitlab-Token", SECRET);
	expect(&gl, &q, WEBHOOK_TRIGGER, "tracked ref", C1);
	req_free(&q);
}

static void
gitlab_req(struct req *q, const char *event, const char *body, const char *token)
{
	req_init(q, body);
	if (event != NULL)
		req_header(q, "X-Gitlab-Event", event);
	if (token != NULL)
		req_header(q, "X-Gitlab-Token", token);
}

static void
test_webhook__gitlab(void **state)
{
	struct webhook_config c = config(WEBHOOK_GITLAB, "main");
	struct webhook_config tag = config(WEBHOOK_GITLAB, "refs/tags/v3");
	const char *body =
	    "{\"object_kind\":\"push\",\"ref\":\"refs/heads/main\",\"before\":\"" ZEROS
	    "\",\"after\":\"" C1 "\",\"project\":{\"name\":\"x\"}}";
	const char *tagbody =
	    "{\"object_kind\":\"tag_push\",\"ref\":\"refs/tags/v3\",\"after\":\"" C256 "\"}";
	struct req q;

	(void)state;
	gitlab_req(&q, "Push Hook", body, SECRET);
	expect(&c, &q, WEBHOOK_TRIGGER, "tracked ref", C1);
	expect(&tag, &q, WEBHOOK_IGNORED, "another ref", C1);
	req_free(&q);

	gitlab_req(&q, "Tag Push Hook", tagbody, SECRET);
	expect(&tag, &q, WEBHOOK_TRIGGER, "tracked ref", C256);
	expect(&c, &q, WEBHOOK_IGNORED, "another ref", C256);
	req_free(&q);

	gitlab_req(&q, "Push Hook", push_body("refs/heads/main", ZEROS), SECRET);
	expect(&c, &q, WEBHOOK_IGNORED, "deleted", ZEROS);
	req_free(&q);

	gitlab_req(&q, "Merge Request Hook", "{\"object_kind\":\"merge_request\"}", SECRET);
	expect(&c, &q, WEBHOOK_IGNORED, "not a push", "");
	req_free(&q);

	gitlab_req(&q, NULL, body, SECRET);
	expect(&c, &q, WEBHOOK_BAD_REQUEST, "X-Gitlab-Event", "");
	req_free(&q);
	gitlab_req(&q, "Push Hook", body, SECRET);
	req_header(&q, "X-Gitlab-Event", "Push Hook");
	expect(&c, &q, WEBHOOK_BAD_REQUEST, "X-Gitlab-Event", "");
	req_free(&q);

	gitlab_req(&q, "Push Hook", "{\"ref\":", SECRET);
	expect(&c, &q, WEBHOOK_BAD_REQUEST, "JSON object", "");
	req_free(&q);
	gitlab_req(&q, "Push Hook", "{\"after\":\"" C1 "\"}", SECRET);
	expect(&c, &q, WEBHOOK_BAD_REQUEST, "\"ref\"", "");
	req_free(&q);

	/* The token: missing, wrong, a prefix of it, longer, repeated, case matters, empty. */
	gitlab_req(&q, "Push Hook", body, NULL);
	expect(&c, &q, WEBHOOK_UNAUTHORIZED, "missing", "");
	req_free(&q);
	{
		const char *wrong[] = {
		    "It's a Secret to Everybod", SECRET "!", "it's a secret to everybody", "", "x"};
		size_t i;

		for (i = 0; i < nitems(wrong); i++) {
			gitlab_req(&q, "Push Hook", body, wrong[i]);
			expect(&c, &q, WEBHOOK_UNAUTHORIZED, "mismatch", "");
			req_free(&q);
		}
	}
	gitlab_req(&q, "Push Hook", body, SECRET);
	req_header(&q, "X-Gitlab-Token", SECRET);
	expect(&c, &q, WEBHOOK_UNAUTHORIZED, "repeated", "");
	req_free(&q);

	/* A GitHub signature is no GitLab token. */
	github_req(&q, NULL, body, SECRET);
	req_header(&q, "X-Gitlab-Event", "Push Hook");
	expect(&c, &q, WEBHOOK_UNAUTHORIZED, "missing", "");
	req_free(&q);

	c.secret = "";
	gitlab_req(&q, "Push Hook", body, "");
	expect(&c, &q, WEBHOOK_UNAUTHORIZED, "no secret", "");
	req_free(&q);
}

static void
generic_req(struct req *q, const char *hdr, const char *body, const char *key)
{
	char sig[72];

	req_init(q, body);
	if (key != NULL) {
		sign(key, body, strlen(body), sig);
		req_header(q, hdr, sig);
	}
}

static void
test_webhook__generic(void **state)
{
	struct webhook_config c = config(WEBHOOK_GENERIC, "main");
	struct webhook_config custom = config(WEBHOOK_GENERIC, "main");
	struct req q;

	(void)state;
	custom.header = "X-Deploy-Signature";

	/* Any body: text, empty, binary-ish, a JSON array. */
	generic_req(&q, WEBHOOK_GENERIC_HEADER, "deploy please", SECRET);
	expect(&c, &q, WEBHOOK_TRIGGER, "signed", "");
	expect(&custom, &q, WEBHOOK_UNAUTHORIZED, "missing", "");
	req_free(&q);
	generic_req(&q, WEBHOOK_GENERIC_HEADER, "", SECRET);
	expect(&c, &q, WEBHOOK_TRIGGER, "signed", "");
	req_free(&q);
	generic_req(&q, "x-tether-signature-256", "[1,2]", SECRET);
	expect(&c, &q, WEBHOOK_TRIGGER, "signed", "");
	req_free(&q);

	generic_req(&q, "X-Deploy-Signature", "go", SECRET);
	expect(&custom, &q, WEBHOOK_TRIGGER, "signed", "");
	expect(&c, &q, WEBHOOK_UNAUTHORIZED, "missing", "");
	req_free(&q);

	/* A JSON object: its ref and after are used when present. */
	generic_req(&q, WEBHOOK_GENERIC_HEADER, "{\"after\":\"" C1 "\"}", SECRET);
	expect(&c, &q, WEBHOOK_TRIGGER, "names no ref", C1);
	req_free(&q);
	generic_req(&q, WEBHOOK_GENERIC_HEADER, "{\"source\":\"ci\"}", SECRET);
	expect(&c, &q, WEBHOOK_TRIGGER, "names no ref", "");
	req_free(&q);
	generic_req(&q, WEBHOOK_GENERIC_HEADER, push_body("refs/heads/main", C1), SECRET);
	expect(&c, &q, WEBHOOK_TRIGGER, "tracked ref", C1);
	req_free(&q);
	generic_req(&q, WEBHOOK_GENERIC_HEADER, push_body("refs/heads/other", C1), SECRET);
	expect(&c, &q, WEBHOOK_IGNORED, "another ref", C1);
	req_free(&q);
	generic_req(&q, WEBHOOK_GENERIC_HEADER, "{\"ref\":1}", SECRET);
	expect(&c, &q, WEBHOOK_BAD_REQUEST, "\"ref\"", "");
	req_free(&q);
	generic_req(&q, WEBHOOK_GENERIC_HEADER, "{\"after\":\"nope\"}", SECRET);
	expect(&c, &q, WEBHOOK_BAD_REQUEST, "\"after\"", "");
	req_free(&q);

	/* Signature failures. */
	generic_req(&q, WEBHOOK_GENERIC_HEADER, "deploy", NULL);
	expect(&c, &q, WEBHOOK_UNAUTHORIZED, "missing", "");
	req_free(&q);
	generic_req(&q, WEBHOOK_GENERIC_HEADER, "deploy", "wrong");
	expect(&c, &q, WEBHOOK_UNAUTHORIZED, "mismatch", "");
	req_free(&q);
	req_init(&q, "deploy");
	req_header(&q, WEBHOOK_GENERIC_HEADER, "deploy");
	expect(&c, &q, WEBHOOK_UNAUTHORIZED, "malformed", "");
	req_free(&q);
	/* The signature covers the whole body, NUL bytes included. */
	{
		static const char bin[] = {'a', '\0', 'b'};
		char sig[72];

		req_init(&q, NULL);
		q.r.body = bin;
		q.r.body_len = sizeof(bin);
		sign(SECRET, bin, sizeof(bin), sig);
		req_header(&q, WEBHOOK_GENERIC_HEADER, sig);
		expect(&c, &q, WEBHOOK_TRIGGER, "signed", "");
		q.r.body_len = 1;
		expect(&c, &q, WEBHOOK_UNAUTHORIZED, "mismatch", "");
		req_free(&q);
	}
}

/* |x| < 1e-9, without libm (the tests do not link it). */
static bool
near0(double x)
{
	return x < 1e-9 && x > -1e-9;
}

/* The limiter's protocol, step by step. */
static void
test_webhook__limiter_protocol(void **state)
{
	struct webhook_limiter *l = webhook_limiter_new(6, 2, 100);
	int i;

	(void)state;
	assert_int_equal(webhook_limiter_state(l), WEBHOOK_LIMITER_IDLE);
	assert_true(webhook_limiter_wait(l, 100) < 0);
	assert_false(webhook_limiter_poll(l, 100));
	assert_true(webhook_limiter_tokens(l, 100) == 2);

	/* A trigger starts a fetch; more during it queue exactly one. */
	assert_true(webhook_limiter_trigger(l, 100));
	assert_int_equal(webhook_limiter_state(l), WEBHOOK_LIMITER_FETCHING);
	for (i = 0; i < 100; i++)
		assert_false(webhook_limiter_trigger(l, 100 + i * 0.001));
	assert_int_equal(webhook_limiter_state(l), WEBHOOK_LIMITER_FETCHING_AGAIN);
	assert_true(webhook_limiter_wait(l, 100.1) < 0);
	assert_true(webhook_limiter_done(l, 101));
	assert_int_equal(webhook_limiter_state(l), WEBHOOK_LIMITER_FETCHING);
	assert_false(webhook_limiter_done(l, 102));
	assert_int_equal(webhook_limiter_state(l), WEBHOOK_LIMITER_IDLE);

	/* Two tokens spent at 100 and 101, 0.2 refilled: the next trigger waits 8 s. */
	assert_true(near0(webhook_limiter_tokens(l, 102) - 0.2));
	assert_false(webhook_limiter_trigger(l, 102));
	assert_int_equal(webhook_limiter_state(l), WEBHOOK_LIMITER_WAITING);
	assert_true(near0(webhook_limiter_wait(l, 102) - 8));
	assert_false(webhook_limiter_trigger(l, 105));
	assert_false(webhook_limiter_poll(l, 109.9));
	assert_true(near0(webhook_limiter_wait(l, 109.9) - 0.1));
	assert_true(webhook_limiter_poll(l, 110));
	assert_int_equal(webhook_limiter_state(l), WEBHOOK_LIMITER_FETCHING);
	assert_false(webhook_limiter_poll(l, 200));

	/* A trigger during the fetch; the fetch ends with no token: the queued one waits. */
	assert_false(webhook_limiter_trigger(l, 110.5));
	assert_false(webhook_limiter_done(l, 111));
	assert_int_equal(webhook_limiter_state(l), WEBHOOK_LIMITER_WAITING);
	assert_true(near0(webhook_limiter_wait(l, 111) - 9));
	/* A trigger that finds the token itself starts the queued fetch. */
	assert_true(webhook_limiter_trigger(l, 120));
	assert_false(webhook_limiter_done(l, 121));

	/* A long idle refills up to the burst, no more; a clock stepping back costs nothing. */
	assert_true(webhook_limiter_tokens(l, 100000) == 2);
	assert_true(webhook_limiter_tokens(l, 50) == 2);
	assert_true(webhook_limiter_trigger(l, 50));
	assert_false(webhook_limiter_done(l, 50));
	assert_true(webhook_limiter_trigger(l, 50));
	assert_false(webhook_limiter_done(l, 50));
	assert_false(webhook_limiter_trigger(l, 50));
	assert_true(near0(webhook_limiter_wait(l, 50) - 10));
	assert_false(webhook_limiter_poll(l, 59));
	assert_true(webhook_limiter_poll(l, 60));
	webhook_limiter_free(l);
	webhook_limiter_free(NULL);
}

#define STARTS_MAX 4096

/*
 * A daemon on a simulated clock: deliveries at given times, fetches lasting fetch_len,
 * a poll timer armed at webhook_limiter_wait(). Records when fetches start.
 */
struct sim {
	struct webhook_limiter *l;
	double rate; /* per second */
	unsigned burst;
	double fetch_len;
	bool fetching;
	double fetch_end;
	double timer; /* INFINITY when not armed */
	double starts[STARTS_MAX];
	size_t nstarts;
};

static void
sim_start(struct sim *s, bool go, double now)
{
	double w;

	if (go) {
		assert_false(s->fetching);
		assert_true(s->nstarts < STARTS_MAX);
		s->starts[s->nstarts++] = now;
		s->fetching = true;
		s->fetch_end = now + s->fetch_len;
	}
	w = webhook_limiter_wait(s->l, now);
	s->timer = w >= 0 ? now + w : INFINITY;
	/* The limiter and our view agree on whether a fetch runs. */
	assert_int_equal(
	    s->fetching, webhook_limiter_state(s->l) == WEBHOOK_LIMITER_FETCHING ||
	                     webhook_limiter_state(s->l) == WEBHOOK_LIMITER_FETCHING_AGAIN);
}

/* Run the daemon until nothing is pending; deliveries sorted. */
static void
sim_run(struct sim *s, const double *deliveries, size_t n)
{
	size_t next = 0;
	double now;
	int guard = 0;

	s->timer = INFINITY;
	s->fetching = false;
	for (;;) {
		double tdel = next < n ? deliveries[next] : INFINITY;
		double tend = s->fetching ? s->fetch_end : INFINITY;

		assert_true(guard++ < 1000000);
		if (tdel == INFINITY && tend == INFINITY && s->timer == INFINITY)
			break;
		if (tend <= tdel && tend <= s->timer) {
			now = tend;
			s->fetching = false;
			sim_start(s, webhook_limiter_done(s->l, now), now);
		} else if (s->timer <= tdel) {
			now = s->timer;
			sim_start(s, webhook_limiter_poll(s->l, now), now);
		} else {
			now = tdel;
			next++;
			sim_start(s, webhook_limiter_trigger(s->l, now), now);
		}
	}
	assert_int_equal(webhook_limiter_state(s->l), WEBHOOK_LIMITER_IDLE);
}

/* The bounds every run must keep. */
static void
sim_check(const struct sim *s, const double *deliveries, size_t n)
{
	size_t i, j;

	for (i = 0; i + 1 < s->nstarts; i++) {
		/* One fetch at a time. */
		assert_true(s->starts[i + 1] >= s->starts[i] + s->fetch_len - 1e-9);
	}
	/* In any window, no more starts than the burst plus what the rate refilled. */
	for (i = 0; i < s->nstarts; i++) {
		for (j = i; j < s->nstarts; j++) {
			double allowed = s->burst + s->rate * (s->starts[j] - s->starts[i]) + 1e-6;

			if ((double)(j - i + 1) > allowed)
				fail_msg("%zu fetches in [%.3f, %.3f], allowed %.3f", j - i + 1,
				    s->starts[i], s->starts[j], allowed);
		}
	}
	/* No trigger is lost: after every delivery a fetch starts. */
	if (n > 0) {
		assert_true(s->nstarts > 0);
		assert_true(s->starts[s->nstarts - 1] >= deliveries[n - 1]);
	}
}

static void
test_webhook__limiter_flood(void **state)
{
	static double d[1000];
	struct sim *s = xcalloc(1, sizeof(*s));
	size_t i;

	(void)state;
	/* 1,000 valid deliveries within one second, fetches of 0.5 s, 6 a minute, burst 2. */
	for (i = 0; i < nitems(d); i++)
		d[i] = (double)i / 1000;
	s->rate = 0.1;
	s->burst = 2;
	s->fetch_len = 0.5;
	s->l = webhook_limiter_new(6, 2, 0);
	sim_run(s, d, nitems(d));
	sim_check(s, d, nitems(d));
	/* The burst, then the one queued fetch once a token came back: 0, 0.5, then 10 s
	 * after the first (tokens: 2 - 2 + 0.1/s). */
	assert_int_equal(s->nstarts, 3);
	assert_true(s->starts[0] == 0);
	assert_true(s->starts[1] == 0.5);
	assert_true(s->starts[2] > 10 - 1e-6 && s->starts[2] < 10 + 1e-6);
	webhook_limiter_free(s->l);

	/* The same flood spread over 100 s: bounded by 2 + 0.1 * 100. */
	for (i = 0; i < nitems(d); i++)
		d[i] = (double)i / 10;
	memset(s, 0, sizeof(*s));
	s->rate = 0.1;
	s->burst = 2;
	s->fetch_len = 0.5;
	s->l = webhook_limiter_new(6, 2, 0);
	sim_run(s, d, nitems(d));
	sim_check(s, d, nitems(d));
	assert_true(s->nstarts <= 2 + 10 + 1);
	assert_true(s->nstarts >= 10);
	webhook_limiter_free(s->l);
	free(s);
}

/* Deterministic pseudo-random runs: bursts, gaps, slow and fast fetches. */
static void
test_webhook__limiter_random(void **state)
{
	static double d[1000];
	struct sim *s = xcalloc(1, sizeof(*s));
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	const double rates[] = {1, 6, 30, 120};
	const unsigned bursts[] = {1, 3, 10};
	const double lens[] = {0.01, 1, 20};
	size_t r, b, f, i;

	(void)state;
	for (r = 0; r < nitems(rates); r++) {
		for (b = 0; b < nitems(bursts); b++) {
			for (f = 0; f < nitems(lens); f++) {
				double t = 0;

				for (i = 0; i < nitems(d); i++) {
					x ^= x << 13;
					x ^= x >> 7;
					x ^= x << 17;
					/* Mostly dense, sometimes a pause of up to a minute. */
					t += (x % 100 == 0) ? (double)(x % 60000) / 1000
					                    : (double)(x % 50) / 1000;
					d[i] = t;
				}
				memset(s, 0, sizeof(*s));
				s->rate = rates[r] / 60;
				s->burst = bursts[b];
				s->fetch_len = lens[f];
				s->l = webhook_limiter_new(rates[r], bursts[b], 0);
				sim_run(s, d, nitems(d));
				sim_check(s, d, nitems(d));
				webhook_limiter_free(s->l);
			}
		}
	}
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_webhook__names),
	    cmocka_unit_test(test_webhook__ref_matches),
	    cmocka_unit_test(test_webhook__github_push),
	    cmocka_unit_test(test_webhook__github_events),
	    cmocka_unit_test(test_webhook__github_malformed),
	    cmocka_unit_test(test_webhook__github_long_ref),
	    cmocka_unit_test(test_webhook__github_signature),
	    cmocka_unit_test(test_webhook__auth_first),
	    cmocka_unit_test(test_webhook__too_large),
	    cmocka_unit_test(test_webhook__github_form),
	    cmocka_unit_test(test_webhook__default_branch),
	    cmocka_unit_test(test_webhook__gitlab),
	    cmocka_unit_test(test_webhook__generic),
	    cmocka_unit_test(test_webhook__limiter_protocol),
	    cmocka_unit_test(test_webhook__limiter_flood),
	    cmocka_unit_test(test_webhook__limiter_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
