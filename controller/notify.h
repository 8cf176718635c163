/*
 * Notifications (docs/notifications.md): the daemon tells chat rooms and other services
 * what it did — a function deployed, failed, had drift corrected or was quarantined, or a
 * commit was rejected — as HTTP POSTs to the targets of the config's `notify:` list.
 *
 * Only transitions are sent. Each subject (a function in a region, or the repository for
 * repository-level events) remembers its last event; an event equal to it (same kind,
 * commit, digest and message) is suppressed, so a function failing the same way on every
 * drift pass notifies once, and the deploy that fixes it notifies again.
 *
 * Payloads: `generic` targets get a JSON object signed with HMAC-SHA256 when the target has
 * a signing key; `slack` targets get {"text": "<one line>"}. Deliveries are queued per
 * target (in order, one in flight at a time), retried with exponential backoff and jitter on
 * transport failures, timeouts, 408, 429 and 5xx, and given up on other answers.
 *
 * Secrets (URLs from url_file/url_env, signing keys) are read when a delivery is sent and
 * wiped right after. Logs name a target by its scheme and host only: a Slack webhook URL's
 * path is a credential.
 */
#ifndef TETHER_CONTROLLER_NOTIFY_H
#define TETHER_CONTROLLER_NOTIFY_H

#include <stddef.h>
#include <stdint.h>

#include <ev.h>

#include "aws/http.h"
#include "common/err.h"
#include "controller/config.h"

/* Most deliveries waiting or in flight per target; past it the oldest waiting one is
 * dropped, with a warning. */
#define NOTIFY_QUEUE_MAX 256
/* Default retry policy: attempts in all, the first backoff, the longest backoff. */
#define NOTIFY_ATTEMPTS_DEFAULT 5
#define NOTIFY_RETRY_BASE_DEFAULT 1.0
#define NOTIFY_RETRY_CAP 300.0
/* Default per-request timeout (the whole transfer), in seconds. */
#define NOTIFY_TIMEOUT_DEFAULT 10.0
/* Longest field values put in a payload (bytes; longer ones are cut at a UTF-8 boundary). */
#define NOTIFY_MESSAGE_MAX 2048
#define NOTIFY_FIELD_MAX 256
/* Cap of one payload; the field caps keep every payload well under it. */
#define NOTIFY_BODY_MAX (32 * 1024)
/* Most subjects remembered for deduplication; past it the memory is cleared (a repeat may
 * then notify once more). */
#define NOTIFY_SUBJECTS_MAX 65536

struct notify;

/* One thing that happened. Every string is borrowed for the call and copied as needed. */
struct notify_event {
	enum config_event kind;
	const char *function; /* NULL: repository-level (commit_rejected) */
	const char *region;   /* NULL when unknown or repository-level */
	const char *commit;   /* full commit id; NULL: none */
	const char *digest;   /* the spec digest (hex); NULL: none */
	const char *message;  /* one line; NULL: none */
};

/* Counters since notify_new(), for tests and metrics. */
struct notify_stats {
	uint64_t posted;     /* events accepted by notify_post() (not suppressed) */
	uint64_t suppressed; /* events equal to their subject's last one: not sent */
	uint64_t sent;       /* deliveries a target accepted (2xx) */
	uint64_t failed;     /* deliveries given up: final answer, attempts exhausted, no URL */
	uint64_t dropped;    /* deliveries dropped from a full queue */
	uint64_t retries;    /* attempts after the first */
};

/*
 * Make a notifier for n targets (n may be 0: then it only deduplicates). It copies what it
 * needs from targets (the inline URL, where the secrets are, the event masks; never a
 * secret's value); targets may be freed afterwards. loop and http are borrowed and must
 * outlive the notifier: free it before the engine. Returns 0 with *out set (release with
 * notify_free()), or ERR_INVALID with err filled when an inline URL is not an http(s) URL.
 */
int notify_new(struct notify **out, struct ev_loop *loop, struct http_engine *http,
    const struct config_notify *targets, size_t n, struct err *err);
/* Cancel every delivery queued or in flight (they are not sent) and release n. NULL is
 * fine. */
void notify_free(struct notify *n);
/*
 * Copy from's deduplication memory (each subject's last event) into to, replacing to's: a
 * reload that makes a new notifier then does not repeat what the old one sent. Deliveries
 * are not moved. from is unchanged.
 */
void notify_inherit(struct notify *to, const struct notify *from);

/*
 * Report an event. Unless it equals its subject's last event (then it is counted as
 * suppressed), it becomes the subject's last event and is queued for every target whose
 * events mask has its kind. Nothing is sent before the loop runs; failures are logged and
 * counted, never returned.
 */
void notify_post(struct notify *n, const struct notify_event *e);

/* Deliveries queued, in flight or waiting to retry, over all targets (the daemon waits,
 * bounded, for 0 before it exits). */
size_t notify_pending(const struct notify *n);
/* The counters so far, into *out. */
void notify_stats(const struct notify *n, struct notify_stats *out);

/*
 * The retry policy: max_attempts in all (at least 1), the first backoff base_seconds (> 0;
 * then doubled per attempt, with jitter, up to NOTIFY_RETRY_CAP). Applies to deliveries
 * that fail afterwards. Defaults: NOTIFY_ATTEMPTS_DEFAULT, NOTIFY_RETRY_BASE_DEFAULT.
 */
void notify_set_retry(struct notify *n, double base_seconds, int max_attempts);
/* The per-request timeout in seconds (> 0), for requests started afterwards. Default
 * NOTIFY_TIMEOUT_DEFAULT. */
void notify_set_timeout(struct notify *n, double seconds);

#endif
