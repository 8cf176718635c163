/*
 * Notifications: deduplicated events, queued per target and POSTed through the shared HTTP
 * engine, with retries on ev_timers.
 *
 * Each target is a small state machine (idle, sending, backoff) over its own queue: one
 * delivery in flight at a time, so a receiver sees a subject's events in the order they
 * happened. The backoff timer and the request callback belong to the target, which
 * outlives the deliveries it frees.
 */
#include <assert.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

#include "common/buf.h"
#include "common/compat.h"
#include "common/crypto.h"
#include "common/jsonw.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/url.h"
#include "common/xmalloc.h"
#include "controller/notify.h"

#define SUB "notify"
/* A receiver's answer is read only for its status; a chatty one is cut off here. */
#define RESPONSE_MAX (64 * 1024)
#define ORIGIN_MAX 320
#define HEADER_MAX 128
#define SIG_HEADER "X-Tether-Signature-256"
#define SHORT_ID 12
/* Backoff jitter: the delay is scaled by a factor in [1 - J, 1 + J). */
#define JITTER 0.25
#define SUBJECTS_INITIAL 64

enum target_state {
	TARGET_IDLE,    /* nothing queued */
	TARGET_SENDING, /* the queue's head is in flight */
	TARGET_BACKOFF, /* the queue's head failed and waits to be retried */
};

static const char *const target_state_names[] = {
    [TARGET_IDLE] = "idle",
    [TARGET_SENDING] = "sending",
    [TARGET_BACKOFF] = "backoff",
};

/* How an attempt ended. */
enum outcome {
	OUTCOME_SENT,  /* 2xx */
	OUTCOME_RETRY, /* transport failure, timeout, 408, 429, 5xx */
	OUTCOME_FINAL, /* any other answer */
};

/* One payload on its way to one target. */
struct delivery {
	TAILQ_ENTRY(delivery) entry;
	enum config_event kind;
	char id[37];   /* X-Tether-Delivery: the same on every attempt */
	char *subject; /* for logs: "fn (region)" or "repository" */
	char *body;
	size_t body_len;
	int attempts;
};

TAILQ_HEAD(delivery_list, delivery);

struct target {
	struct notify *owner;
	size_t index;
	enum config_notify_kind kind;
	char *url;                       /* inline; NULL when url_secret names it */
	struct config_secret url_secret; /* copies of the names, never the value */
	struct config_secret key;        /* generic: the signing key; NONE: unsigned */
	unsigned events;
	/* For logs: "https://hooks.slack.com", or "notify[2]" until a secret URL is read. */
	char origin[ORIGIN_MAX];
	enum target_state state;
	struct delivery_list queue; /* the head is the one sending or backing off */
	size_t nqueued;
	struct http_request *req; /* SENDING: the request in flight */
	ev_timer retry;           /* BACKOFF */
};

/* Deduplication memory: a subject and a hash of its last event. */
struct subject {
	unsigned char key[CRYPTO_SHA256_LEN];
	unsigned char last[CRYPTO_SHA256_LEN];
	bool used;
};

struct notify {
	struct ev_loop *loop;
	struct http_engine *http;
	struct target *targets;
	size_t ntargets;
	struct subject *subjects; /* open addressing; size a power of two, at most half used */
	size_t nsubjects;
	size_t subjects_size;
	double retry_base;
	int max_attempts;
	double timeout;
	size_t pending;
	struct notify_stats stats;
};

static void target_kick(struct target *t);

static void
target_set_state(struct target *t, enum target_state state, const char *why)
{
	log_debug(SUB, "%s: %s -> %s (%s)", t->origin, target_state_names[t->state],
	    target_state_names[state], why);
	t->state = state;
}

static void
secret_copy(struct config_secret *dst, const struct config_secret *src)
{
	dst->source = src->source;
	dst->name = src->name != NULL ? xstrdup(src->name) : NULL;
	dst->label = src->label != NULL ? xstrdup(src->label) : NULL;
}

static void
secret_clear(struct config_secret *s)
{
	free(s->name);
	free(s->label);
	memset(s, 0, sizeof(*s));
}

/* The secret's label for messages, or a fallback when the config gave none. */
static const char *
secret_label(const struct config_secret *s, const char *fallback)
{
	return s->label != NULL ? s->label : fallback;
}

/* "scheme://authority" of a parsed URL, for logs: never the path or the query. */
static void
set_origin(struct target *t, const struct url *u)
{
	snprintf(t->origin, sizeof(t->origin), "%s://%s", u->scheme, u->authority);
}

static void
delivery_free(struct delivery *d)
{
	if (d == NULL)
		return;
	free(d->subject);
	free(d->body);
	free(d);
}

/* Take the head off t's queue and free it; the caller moves t's state on. */
static void
target_pop(struct target *t)
{
	struct delivery *d = TAILQ_FIRST(&t->queue);

	assert(d != NULL);
	TAILQ_REMOVE(&t->queue, d, entry);
	t->nqueued--;
	t->owner->pending--;
	delivery_free(d);
}

/* The head is given up: count it, free it, and go on with the next. */
static void
target_give_up(struct target *t, const char *why)
{
	t->owner->stats.failed++;
	target_pop(t);
	target_set_state(t, TARGET_IDLE, why);
}

/*
 * The message of a transport failure without the request's description: the HTTP engine
 * writes "POST scheme://host/path: reason", and a webhook URL's path is a credential.
 */
static const char *
transport_reason(const struct err *err)
{
	const char *p = err->message, *sp;

	if (strncmp(p, "POST ", 5) != 0)
		return "transport failure";
	sp = strchr(p + 5, ' ');
	if (sp == NULL || sp == p + 5 || sp[-1] != ':' || sp[1] == '\0')
		return "transport failure";
	return sp + 1;
}

/* Classify an attempt's end; *status gets the HTTP status (0 for none). */
static enum outcome
classify(const struct http_response *resp, const struct err *err, long *status)
{
	*status = resp != NULL ? resp->status : 0;
	/* An answer over the cap still carries its status: the receiver had the POST. */
	if (err != NULL && !(err->code == ERR_TOOBIG && *status != 0))
		return OUTCOME_RETRY;
	if (*status >= 200 && *status <= 299)
		return OUTCOME_SENT;
	if (*status == 408 || *status == 429 || (*status >= 500 && *status <= 599))
		return OUTCOME_RETRY;
	return OUTCOME_FINAL;
}

/* A uniform double in [0, 1). */
static double
random_unit(void)
{
	uint32_t r;

	crypto_random(&r, sizeof(r));
	return (double)r / 4294967296.0;
}

/*
 * The wait before the next attempt after `attempts` failed ones: base doubled per attempt,
 * scaled by a jitter factor, capped; a Retry-After in seconds (429, 503) is honored up to
 * the cap.
 */
static double
backoff_delay(const struct notify *n, int attempts, const struct http_response *resp)
{
	const char *ra;
	char *end;
	double d;
	long secs;

	d = n->retry_base * ldexp(1.0, attempts - 1);
	if (d > NOTIFY_RETRY_CAP)
		d = NOTIFY_RETRY_CAP;
	d *= 1.0 - JITTER + 2.0 * JITTER * random_unit();
	if (resp != NULL && (resp->status == 429 || resp->status == 503)) {
		ra = http_response_header(resp, "retry-after");
		if (ra != NULL) {
			secs = strtol(ra, &end, 10);
			if (end != ra && *end == '\0' && secs > 0 && (double)secs > d)
				d = (double)secs;
		}
	}
	return d > NOTIFY_RETRY_CAP ? NOTIFY_RETRY_CAP : d;
}

static void
request_done(const struct http_response *resp, const struct err *err, void *arg)
{
	struct target *t = arg;
	struct notify *n = t->owner;
	struct delivery *d = TAILQ_FIRST(&t->queue);
	enum outcome o;
	char reason[ERR_MESSAGE_MAX];
	long status;
	double delay;

	assert(t->state == TARGET_SENDING && d != NULL);
	t->req = NULL;
	o = classify(resp, err, &status);
	if (status != 0)
		snprintf(reason, sizeof(reason), "status %ld", status);
	else if (resp != NULL && resp->timed_out)
		snprintf(reason, sizeof(reason), "timed out after %.3g s", n->timeout);
	else
		snprintf(reason, sizeof(reason), "%s", transport_reason(err));

	switch (o) {
	case OUTCOME_SENT:
		log_info(SUB, "%s: %s %s: delivered status=%ld attempts=%d", t->origin,
		    config_event_names[d->kind], d->subject, status, d->attempts);
		n->stats.sent++;
		target_pop(t);
		target_set_state(t, TARGET_IDLE, "delivered");
		break;
	case OUTCOME_RETRY:
		if (d->attempts < n->max_attempts) {
			delay = backoff_delay(n, d->attempts, resp);
			log_warn(SUB, "%s: %s %s: %s; retry in %.3g s (attempt %d of %d)",
			    t->origin, config_event_names[d->kind], d->subject, reason, delay,
			    d->attempts, n->max_attempts);
			ev_timer_set(&t->retry, delay, 0.);
			ev_timer_start(n->loop, &t->retry);
			target_set_state(t, TARGET_BACKOFF, reason);
			return;
		}
		log_error(SUB, "%s: %s %s: %s; gave up after %d attempts", t->origin,
		    config_event_names[d->kind], d->subject, reason, d->attempts);
		target_give_up(t, reason);
		break;
	case OUTCOME_FINAL:
		log_error(SUB, "%s: %s %s: refused with %s; not retried", t->origin,
		    config_event_names[d->kind], d->subject, reason);
		target_give_up(t, reason);
		break;
	}
	target_kick(t);
}

static void
retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct target *t = container_of(w, struct target, retry);

	(void)loop;
	(void)revents;
	assert(t->state == TARGET_BACKOFF);
	target_set_state(t, TARGET_IDLE, "retry");
	target_kick(t);
}

/*
 * Send the queue's head once. Returns 0 with a request in flight, or -1 when the delivery
 * cannot be sent at all (its URL or key unreadable, the request refused): it is then given
 * up, logged and freed.
 */
static int
target_send(struct target *t)
{
	struct notify *n = t->owner;
	struct delivery *d = TAILQ_FIRST(&t->queue);
	struct http_request_opts o = HTTP_REQUEST_OPTS_INIT;
	struct err err = ERR_INIT;
	struct url u = {0};
	const char *headers[4];
	char h_event[HEADER_MAX], h_id[HEADER_MAX];
	char h_sig[sizeof(SIG_HEADER ": sha256=") + CRYPTO_SHA256_HEX_LEN];
	unsigned char mac[CRYPTO_SHA256_LEN];
	char hex[CRYPTO_SHA256_HEX_LEN + 1];
	char *url = NULL, *key = NULL;
	size_t url_len = 0, key_len = 0, nh = 0;
	int rc = -1;

	assert(d != NULL && t->state == TARGET_IDLE);
	d->attempts++;
	if (d->attempts > 1)
		n->stats.retries++;

	if (t->url == NULL && config_read_secret(&t->url_secret, &url, &url_len, &err) != 0) {
		log_error(SUB, "%s: %s %s: cannot read the URL: %s", t->origin,
		    config_event_names[d->kind], d->subject, err.message);
		goto out;
	}
	/* url_parse() quotes the URL in its messages: never show them for a secret one. */
	if (url_parse(&u, t->url != NULL ? t->url : url, NULL) != 0) {
		log_error(SUB, "%s: %s %s: %s does not hold an http or https URL", t->origin,
		    config_event_names[d->kind], d->subject,
		    secret_label(&t->url_secret, "the URL"));
		goto out;
	}
	set_origin(t, &u);

	headers[nh++] = "Content-Type: application/json";
	if (t->kind == CONFIG_NOTIFY_GENERIC) {
		snprintf(
		    h_event, sizeof(h_event), "X-Tether-Event: %s", config_event_names[d->kind]);
		snprintf(h_id, sizeof(h_id), "X-Tether-Delivery: %s", d->id);
		headers[nh++] = h_event;
		headers[nh++] = h_id;
		if (t->key.source != CONFIG_SECRET_NONE) {
			if (config_read_secret(&t->key, &key, &key_len, &err) != 0) {
				log_error(SUB, "%s: %s %s: cannot read the signing key: %s",
				    t->origin, config_event_names[d->kind], d->subject,
				    err.message);
				goto out;
			}
			crypto_hmac_sha256(key, key_len, d->body, d->body_len, mac);
			crypto_hex(mac, sizeof(mac), hex);
			snprintf(h_sig, sizeof(h_sig), "%s: sha256=%s", SIG_HEADER, hex);
			headers[nh++] = h_sig;
		}
	}
	assert(nh <= nitems(headers));

	o.method = "POST";
	o.url = t->url != NULL ? t->url : url;
	/* The path of a webhook URL is a credential: keep it out of the engine's logs. */
	o.redact_path = true;
	o.headers = headers;
	o.nheaders = nh;
	o.body = d->body;
	o.body_len = d->body_len;
	o.timeout_ms = (long)(n->timeout * 1000.0);
	if (o.timeout_ms < 1)
		o.timeout_ms = 1;
	o.max_response = RESPONSE_MAX;
	if (http_request_start(n->http, &o, request_done, t, &t->req, &err) != 0) {
		/* The engine's message describes the request by its URL: not logged. */
		log_error(SUB, "%s: %s %s: the request could not be started (%s)", t->origin,
		    config_event_names[d->kind], d->subject, err_code_name(err.code));
		goto out;
	}
	log_debug(SUB, "%s: %s %s: POST attempt=%d bytes=%zu", t->origin,
	    config_event_names[d->kind], d->subject, d->attempts, d->body_len);
	target_set_state(t, TARGET_SENDING, "attempt");
	rc = 0;
out:
	explicit_bzero(mac, sizeof(mac));
	explicit_bzero(h_sig, sizeof(h_sig));
	url_clear(&u);
	config_secret_free(url, url_len);
	config_secret_free(key, key_len);
	if (rc != 0)
		target_give_up(t, "cannot send");
	return rc;
}

/* Start the head of an idle target's queue; a head that cannot be sent makes way. */
static void
target_kick(struct target *t)
{
	for (;;) {
		if (t->state != TARGET_IDLE || TAILQ_EMPTY(&t->queue))
			return;
		if (target_send(t) == 0)
			return;
	}
}

/* Drop the oldest delivery that is not in flight, to make room. */
static void
target_drop_oldest(struct target *t)
{
	struct delivery *d = TAILQ_FIRST(&t->queue);

	assert(d != NULL);
	if (t->state == TARGET_SENDING)
		d = TAILQ_NEXT(d, entry);
	if (d == NULL)
		return;
	log_warn(SUB, "%s: queue full (%d): dropped %s %s", t->origin, NOTIFY_QUEUE_MAX,
	    config_event_names[d->kind], d->subject);
	t->owner->stats.dropped++;
	if (d == TAILQ_FIRST(&t->queue)) {
		/* The head waiting to retry: it goes, and the next one starts. */
		ev_timer_stop(t->owner->loop, &t->retry);
		target_pop(t);
		target_set_state(t, TARGET_IDLE, "dropped");
		return;
	}
	TAILQ_REMOVE(&t->queue, d, entry);
	t->nqueued--;
	t->owner->pending--;
	delivery_free(d);
}

static void
target_clear(struct notify *n, struct target *t)
{
	struct delivery *d;

	if (t->req != NULL)
		http_request_cancel(t->req);
	t->req = NULL;
	ev_timer_stop(n->loop, &t->retry);
	for (;;) {
		d = TAILQ_FIRST(&t->queue);
		if (d == NULL)
			break;
		TAILQ_REMOVE(&t->queue, d, entry);
		delivery_free(d);
	}
	t->nqueued = 0;
	free(t->url);
	secret_clear(&t->url_secret);
	secret_clear(&t->key);
}

int
notify_new(struct notify **out, struct ev_loop *loop, struct http_engine *http,
    const struct config_notify *targets, size_t n, struct err *err)
{
	struct notify *nt = NULL;
	struct target *t;
	struct url u = {0};
	size_t i;
	int rc = -1;

	*out = NULL;
	assert(loop != NULL && (n == 0 || (http != NULL && targets != NULL)));
	nt = xcalloc(1, sizeof(*nt));
	nt->loop = loop;
	nt->http = http;
	nt->retry_base = NOTIFY_RETRY_BASE_DEFAULT;
	nt->max_attempts = NOTIFY_ATTEMPTS_DEFAULT;
	nt->timeout = NOTIFY_TIMEOUT_DEFAULT;
	nt->subjects_size = SUBJECTS_INITIAL;
	nt->subjects = xcalloc(nt->subjects_size, sizeof(*nt->subjects));
	nt->targets = n > 0 ? xcalloc(n, sizeof(*nt->targets)) : NULL;
	for (i = 0; i < n; i++) {
		t = &nt->targets[i];
		t->owner = nt;
		t->index = i;
		t->state = TARGET_IDLE;
		TAILQ_INIT(&t->queue);
		ev_timer_init(&t->retry, retry_cb, 0., 0.);
		nt->ntargets = i + 1;
		snprintf(t->origin, sizeof(t->origin), "notify[%zu]", i);
		t->kind = targets[i].kind;
		t->events = targets[i].events & CONFIG_EVENTS_ALL;
		secret_copy(&t->url_secret, &targets[i].url_secret);
		if (t->kind == CONFIG_NOTIFY_GENERIC)
			secret_copy(&t->key, &targets[i].secret);
		if (targets[i].url != NULL) {
			if (url_parse(&u, targets[i].url, NULL) != 0) {
				rc = err_set(err, ERR_INVALID,
				    "notify[%zu]: url is not an http or https URL", i);
				goto out;
			}
			set_origin(t, &u);
			url_clear(&u);
			t->url = xstrdup(targets[i].url);
		} else if (t->url_secret.source == CONFIG_SECRET_NONE) {
			rc = err_set(
			    err, ERR_INVALID, "notify[%zu]: no url, url_file or url_env", i);
			goto out;
		}
	}
	*out = nt;
	nt = NULL;
	rc = 0;
out:
	notify_free(nt);
	return rc;
}

void
notify_free(struct notify *n)
{
	size_t i;

	if (n == NULL)
		return;
	for (i = 0; i < n->ntargets; i++)
		target_clear(n, &n->targets[i]);
	free(n->targets);
	free(n->subjects);
	free(n);
}

void
notify_inherit(struct notify *to, const struct notify *from)
{
	assert(to != NULL && from != NULL && to != from);
	free(to->subjects);
	to->subjects = xmemdup(from->subjects, from->subjects_size * sizeof(*from->subjects));
	to->subjects_size = from->subjects_size;
	to->nsubjects = from->nsubjects;
}

size_t
notify_pending(const struct notify *n)
{
	return n->pending;
}

void
notify_stats(const struct notify *n, struct notify_stats *out)
{
	*out = n->stats;
}

void
notify_set_retry(struct notify *n, double base_seconds, int max_attempts)
{
	assert(base_seconds > 0 && max_attempts >= 1);
	n->retry_base = base_seconds;
	n->max_attempts = max_attempts;
}

void
notify_set_timeout(struct notify *n, double seconds)
{
	assert(seconds > 0);
	n->timeout = seconds;
}

/* How many bytes of s to keep under max: cut at a UTF-8 character boundary. */
static size_t
clip(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n <= max)
		return n;
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

/* The event's fields, clipped to the payload caps; NULL stays NULL. */
struct fields {
	char *function;
	char *region;
	char *commit;
	char *digest;
	char *message;
};

static char *
clipdup(const char *s, size_t max)
{
	return s != NULL ? xstrndup(s, clip(s, max)) : NULL;
}

static void
fields_init(struct fields *f, const struct notify_event *e)
{
	f->function = clipdup(e->function, NOTIFY_FIELD_MAX);
	f->region = clipdup(e->region, NOTIFY_FIELD_MAX);
	f->commit = clipdup(e->commit, NOTIFY_FIELD_MAX);
	f->digest = clipdup(e->digest, NOTIFY_FIELD_MAX);
	f->message = clipdup(e->message, NOTIFY_MESSAGE_MAX);
}

static void
fields_clear(struct fields *f)
{
	free(f->function);
	free(f->region);
	free(f->commit);
	free(f->digest);
	free(f->message);
	memset(f, 0, sizeof(*f));
}

/* Append s with a presence byte and its length, so that no two field lists collide. */
static void
hash_field(struct buf *b, const char *s)
{
	uint64_t len;

	if (s == NULL) {
		buf_putc(b, 0);
		return;
	}
	len = strlen(s);
	buf_putc(b, 1);
	buf_append(b, &len, sizeof(len));
	buf_puts(b, s);
}

/*
 * The subject's key (function and region, or the repository) and the event's hash (kind,
 * commit, digest, message). The fields are clipped, so the buffer's cap holds them all.
 */
static void
event_hashes(const struct notify_event *e, const struct fields *f,
    unsigned char key[CRYPTO_SHA256_LEN], unsigned char hash[CRYPTO_SHA256_LEN])
{
	struct buf b = BUF_INIT(NOTIFY_BODY_MAX);

	buf_putc(&b, e->function != NULL ? 'f' : 'r');
	if (e->function != NULL) {
		hash_field(&b, f->function);
		hash_field(&b, f->region);
	}
	crypto_sha256(b.data, b.len, key);
	buf_reset(&b);
	buf_putc(&b, (char)e->kind);
	hash_field(&b, f->commit);
	hash_field(&b, f->digest);
	hash_field(&b, f->message);
	crypto_sha256(b.data, b.len, hash);
	buf_free(&b);
}

static size_t
subject_slot(const struct notify *n, const unsigned char key[CRYPTO_SHA256_LEN])
{
	size_t mask = n->subjects_size - 1, i;
	uint64_t h;

	memcpy(&h, key, sizeof(h));
	for (i = (size_t)h & mask;; i = (i + 1) & mask) {
		if (!n->subjects[i].used || memcmp(n->subjects[i].key, key, CRYPTO_SHA256_LEN) == 0)
			return i;
	}
}

static void
subjects_grow(struct notify *n)
{
	struct subject *old = n->subjects;
	size_t oldsize = n->subjects_size, i, j;

	n->subjects_size *= 2;
	n->subjects = xcalloc(n->subjects_size, sizeof(*n->subjects));
	for (i = 0; i < oldsize; i++) {
		if (!old[i].used)
			continue;
		j = subject_slot(n, old[i].key);
		n->subjects[j] = old[i];
	}
	free(old);
}

/*
 * Remember hash as the subject's last event. Returns false when it already was (the event
 * is a repeat).
 */
static bool
subject_update(struct notify *n, const unsigned char key[CRYPTO_SHA256_LEN],
    const unsigned char hash[CRYPTO_SHA256_LEN])
{
	struct subject *s;

	s = &n->subjects[subject_slot(n, key)];
	if (s->used) {
		if (memcmp(s->last, hash, CRYPTO_SHA256_LEN) == 0)
			return false;
		memcpy(s->last, hash, CRYPTO_SHA256_LEN);
		return true;
	}
	if (n->nsubjects >= NOTIFY_SUBJECTS_MAX) {
		log_warn(SUB, "more than %d subjects: deduplication memory cleared",
		    NOTIFY_SUBJECTS_MAX);
		memset(n->subjects, 0, n->subjects_size * sizeof(*n->subjects));
		n->nsubjects = 0;
	} else if (2 * (n->nsubjects + 1) > n->subjects_size) {
		subjects_grow(n);
	}
	s = &n->subjects[subject_slot(n, key)];
	s->used = true;
	memcpy(s->key, key, CRYPTO_SHA256_LEN);
	memcpy(s->last, hash, CRYPTO_SHA256_LEN);
	n->nsubjects++;
	return true;
}

static void
generic_body(struct buf *b, const struct notify_event *e, const struct fields *f, const char *when)
{
	struct jsonw w;

	jsonw_init(&w, b);
	jsonw_object_open(&w);
	jsonw_kstr(&w, "event", config_event_names[e->kind]);
	jsonw_kstr_null(&w, "function", f->function);
	jsonw_kstr_null(&w, "region", f->region);
	jsonw_kstr_null(&w, "commit", f->commit);
	jsonw_kstr_null(&w, "digest", f->digest);
	jsonw_kstr_null(&w, "message", f->message);
	jsonw_kstr(&w, "time", when);
	jsonw_object_close(&w);
	assert(!jsonw_failed(&w));
}

/*
 * Append n bytes of s as Slack text: one line (control characters become spaces) with
 * Slack's three control characters escaped, so that a message cannot make links or
 * mentions.
 */
static void
slack_put(struct buf *b, const char *s, size_t n)
{
	size_t i;
	unsigned char c;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c == '&')
			buf_puts(b, "&amp;");
		else if (c == '<')
			buf_puts(b, "&lt;");
		else if (c == '>')
			buf_puts(b, "&gt;");
		else if (c < 0x20 || c == 0x7f)
			buf_putc(b, ' ');
		else
			buf_putc(b, (char)c);
	}
}

static const char *const slack_words[CONFIG_EVENT_COUNT] = {
    [CONFIG_EVENT_DEPLOYED] = "deployed",
    [CONFIG_EVENT_FAILED] = "failed",
    [CONFIG_EVENT_DRIFT_CORRECTED] = "drift corrected",
    [CONFIG_EVENT_QUARANTINED] = "quarantined",
    [CONFIG_EVENT_COMMIT_REJECTED] = "commit rejected",
};

/* "tether: failed fn (us-east-1) commit 0123456789ab d=89abcdef0123: message". */
static void
slack_body(struct buf *b, const struct notify_event *e, const struct fields *f)
{
	struct buf text = BUF_INIT(NOTIFY_BODY_MAX / 2);
	struct jsonw w;

	buf_puts(&text, "tether: ");
	buf_puts(&text, slack_words[e->kind]);
	if (f->function != NULL) {
		buf_putc(&text, ' ');
		slack_put(&text, f->function, strlen(f->function));
		if (f->region != NULL) {
			buf_puts(&text, " (");
			slack_put(&text, f->region, strlen(f->region));
			buf_putc(&text, ')');
		}
	}
	if (f->commit != NULL) {
		buf_puts(&text, " commit ");
		slack_put(&text, f->commit, clip(f->commit, SHORT_ID));
	}
	if (f->digest != NULL) {
		buf_puts(&text, " d=");
		slack_put(&text, f->digest, clip(f->digest, SHORT_ID));
	}
	if (f->message != NULL) {
		buf_puts(&text, ": ");
		slack_put(&text, f->message, strlen(f->message));
	}
	jsonw_init(&w, b);
	jsonw_object_open(&w);
	jsonw_key(&w, "text");
	jsonw_stringn(&w, text.data, text.len);
	jsonw_object_close(&w);
	assert(!jsonw_failed(&w));
	buf_free(&text);
}

/* Queue a delivery of the event to t, making room if the queue is full. */
static void
target_enqueue(struct target *t, const struct notify_event *e, const struct fields *f,
    const char *subject, const char *when)
{
	struct buf body = BUF_INIT(NOTIFY_BODY_MAX);
	struct delivery *d;

	if (t->kind == CONFIG_NOTIFY_SLACK)
		slack_body(&body, e, f);
	else
		generic_body(&body, e, f, when);
	if (t->nqueued >= NOTIFY_QUEUE_MAX)
		target_drop_oldest(t);
	d = xcalloc(1, sizeof(*d));
	d->kind = e->kind;
	crypto_uuid(d->id);
	d->subject = xstrdup(subject);
	d->body = buf_detach(&body, &d->body_len);
	TAILQ_INSERT_TAIL(&t->queue, d, entry);
	t->nqueued++;
	t->owner->pending++;
	target_kick(t);
}

void
notify_post(struct notify *n, const struct notify_event *e)
{
	unsigned char key[CRYPTO_SHA256_LEN], hash[CRYPTO_SHA256_LEN];
	struct fields f;
	char subject[2 * NOTIFY_FIELD_MAX + 8], when[21];
	size_t i;

	assert(e != NULL && (unsigned)e->kind < CONFIG_EVENT_COUNT);
	fields_init(&f, e);
	event_hashes(e, &f, key, hash);
	if (f.function == NULL)
		snprintf(subject, sizeof(subject), "repository");
	else if (f.region == NULL)
		snprintf(subject, sizeof(subject), "%s", f.function);
	else
		snprintf(subject, sizeof(subject), "%s (%s)", f.function, f.region);

	if (!subject_update(n, key, hash)) {
		n->stats.suppressed++;
		log_debug(SUB, "%s: %s: same as the last event; not sent", subject,
		    config_event_names[e->kind]);
		goto out;
	}
	n->stats.posted++;
	timeutil_iso8601(time(NULL), when);
	for (i = 0; i < n->ntargets; i++) {
		if ((n->targets[i].events & (1u << e->kind)) == 0)
			continue;
		target_enqueue(&n->targets[i], e, &f, subject, when);
	}
out:
	fields_clear(&f);
}
