/*
 * Webhook deliveries (docs/webhooks.md): verifying and interpreting them, and limiting the
 * fetches they trigger. Pure functions: no sockets and no clock (time is passed in), so
 * the daemon's HTTP handler (common/httpd.h) calls them with the request it received.
 *
 * Providers:
 *   github   X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body, keyed by the
 *            secret>; X-GitHub-Event: ping or push (others are ignored). The body is JSON,
 *            or a form "payload=<JSON>" (application/x-www-form-urlencoded).
 *   gitlab   X-Gitlab-Token: <the secret token>; X-Gitlab-Event: Push Hook or Tag Push
 *            Hook (others are ignored).
 *   generic  <header, default X-Tether-Signature-256>: sha256=<hex HMAC-SHA256 of the raw
 *            body>. The body may be anything; a JSON object's "ref" and "after" are used
 *            like a push's when present.
 * Signatures and tokens are compared in constant time, and the secret is never logged or
 * copied into a result.
 */
#ifndef TETHER_CONTROLLER_WEBHOOK_H
#define TETHER_CONTROLLER_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>

#include "common/httpd.h"

/* The default body cap, as config's webhook.max_body (which allows up to 25 MiB, GitHub's
 * own cap): a push payload is a few KiB, a few hundred with many commits. */
#define WEBHOOK_BODY_MAX (1024u * 1024)
/* A burst that suits the limiter for webhook.rate fetches per minute: a push, a quick
 * fix-up and a tag go through at once, and a flood is then held to the rate. */
#define WEBHOOK_LIMITER_BURST 3
#define WEBHOOK_GENERIC_HEADER "X-Tether-Signature-256"
#define WEBHOOK_COMMIT_MAX 64 /* hex of a SHA-256 object id; SHA-1 ids have 40 */
#define WEBHOOK_REF_MAX 1024

enum webhook_provider {
	WEBHOOK_GITHUB,
	WEBHOOK_GITLAB,
	WEBHOOK_GENERIC,
};

extern const char *const webhook_provider_names[]; /* "github", "gitlab", "generic" */

/* Parse a provider name as in webhook_provider_names. Returns 0 or -1. */
int webhook_provider_parse(const char *s, enum webhook_provider *out);

enum webhook_result {
	WEBHOOK_TRIGGER,      /* authentic push concerning the tracked ref: fetch (202) */
	WEBHOOK_IGNORED,      /* authentic, nothing to fetch: ping, other ref or event (200) */
	WEBHOOK_UNAUTHORIZED, /* signature or token missing, malformed or wrong (401) */
	WEBHOOK_BAD_REQUEST,  /* authentic but malformed: event header, JSON, ref, commit (400) */
	WEBHOOK_TOO_LARGE,    /* body over the cap, refused before any hashing (413) */
};

/* "trigger", "ignored", "unauthorized", "bad_request", "too_large" (metric label values). */
extern const char *const webhook_result_names[];

/* The HTTP status to answer a result with: 202, 200, 401, 400, 413. */
int webhook_result_status(enum webhook_result r);

struct webhook_config {
	enum webhook_provider provider;
	/* HMAC key (github, generic) or token (gitlab). Borrowed. "" refuses every delivery:
	 * an empty key would let anyone sign. */
	const char *secret;
	const char *header; /* generic: the signature header; NULL: WEBHOOK_GENERIC_HEADER */
	/* The tracked ref: a branch ("main"), a tag ("v1"), a full ref ("refs/heads/main",
	 * "refs/tags/v1"). NULL: the repository's default branch, as the payload names it
	 * (GitHub repository.default_branch, GitLab project.default_branch); a push whose
	 * payload does not name it triggers. */
	const char *ref;
	size_t max_body; /* 0: WEBHOOK_BODY_MAX */
};

#define WEBHOOK_CONFIG_INIT                         \
	{                                           \
		WEBHOOK_GITHUB, NULL, NULL, NULL, 0 \
	}

/* What a delivery said, filled by webhook_check(). */
struct webhook_delivery {
	enum webhook_result result;
	const char *reason;                  /* one line for logs and the answer; static */
	char ref[WEBHOOK_REF_MAX + 1];       /* the pushed ref, "" when none */
	char commit[WEBHOOK_COMMIT_MAX + 1]; /* "after" (lower-case hex), "" when absent */
};

/*
 * Verify and interpret one delivery: req's headers and raw body (everything borrowed; only
 * headers, body and body_len are read). Checks, in order: the body cap (TOO_LARGE), the
 * signature or token (UNAUTHORIZED; also when its header is repeated), the event (IGNORED
 * for ping and events other than pushes), and a push's JSON: "ref" must be a string,
 * "after" 40 or 64 hex digits or null (BAD_REQUEST otherwise); a push deleting a ref (an
 * "after" of zeros) is IGNORED. Fills out and returns out->result.
 */
enum webhook_result webhook_check(const struct webhook_config *cfg, const struct httpd_request *req,
    struct webhook_delivery *out);

/*
 * Whether a push to pushed (a full ref, "refs/heads/main") concerns tracked (as in
 * webhook_config.ref, not NULL): equal full refs, or a short name under refs/heads/,
 * refs/tags/ or refs/.
 */
bool webhook_ref_matches(const char *tracked, const char *pushed);

/*
 * Coalescing rate limit for the fetches that deliveries trigger: a token bucket of `burst`
 * tokens refilled at per_minute, one token per fetch, and at most one fetch queued. While
 * a fetch runs, or while the bucket is empty, further triggers only set "fetch again
 * after", so a flood of deliveries costs at most burst + per_minute * minutes fetches, and
 * every trigger is followed by a fetch that starts after it.
 *
 * The caller owns the clock: now is in seconds on a monotonic clock (ev_now()). Protocol:
 *   - on a TRIGGER delivery, webhook_limiter_trigger(): true means start a fetch now;
 *   - when that fetch ends (success or not), webhook_limiter_done(): true means start
 *     another now;
 *   - after either returned false, webhook_limiter_wait() says in how many seconds a
 *     queued fetch gets its token (negative: nothing waits for one); arm a timer, and when
 *     it fires call webhook_limiter_poll(): true means start a fetch now.
 */
enum webhook_limiter_state {
	WEBHOOK_LIMITER_IDLE,           /* no fetch running, none queued */
	WEBHOOK_LIMITER_FETCHING,       /* a fetch running, none queued */
	WEBHOOK_LIMITER_FETCHING_AGAIN, /* a fetch running, another queued after it */
	WEBHOOK_LIMITER_WAITING,        /* no fetch running, one queued waiting for a token */
};

extern const char *const webhook_limiter_state_names[];

struct webhook_limiter;

/*
 * A limiter allowing per_minute fetches (> 0) with bursts of burst (>= 1), full at now.
 * Free it with webhook_limiter_free().
 */
struct webhook_limiter *webhook_limiter_new(double per_minute, unsigned burst, double now);
/* Free a limiter; NULL is fine. */
void webhook_limiter_free(struct webhook_limiter *l);
/* A TRIGGER delivery arrived at now. True: start a fetch now (and call _done() when it
 * ends). False: one is queued after the running fetch, or waits for a token. */
bool webhook_limiter_trigger(struct webhook_limiter *l, double now);
/* The fetch started on a true answer ended at now (success or not; with no fetch running
 * it is a bug, asserted). True: start the queued fetch now. */
bool webhook_limiter_done(struct webhook_limiter *l, double now);
/* Seconds from now until the queued fetch gets its token (0: now); negative when nothing
 * waits for a token (idle, or a fetch running: _done() decides then). */
double webhook_limiter_wait(struct webhook_limiter *l, double now);
/* The timer armed from _wait() fired. True: start the queued fetch now; false: nothing to
 * start yet (call _wait() again). */
bool webhook_limiter_poll(struct webhook_limiter *l, double now);
/* The current state (for /status and tests). */
enum webhook_limiter_state webhook_limiter_state(const struct webhook_limiter *l);
/* Tokens in the bucket at now (refilled up to then). */
double webhook_limiter_tokens(struct webhook_limiter *l, double now);

#endif
