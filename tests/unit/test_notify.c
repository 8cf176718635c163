/*
 * Notifications against a real receiver: common/httpd.h on 127.0.0.1 and the real HTTP
 * engine, both on one libev loop, so every POST goes through real sockets. The receiver
 * records what it got and answers by path: /ok 200, /s/<code> that status, /flaky 500
 * while the fixture says so and then 200, /gate holds requests until the test opens it,
 * /hang never answers.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>
#include <jansson.h>

#include "aws/http.h"
#include "common/crypto.h"
#include "common/httpd.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/xmalloc.h"
#include "controller/config.h"
#include "controller/notify.h"
#include "tests/lib/tmpdir.h"

#define RECORDS_MAX 512
#define HELD_MAX 8
#define RUN_TIMEOUT 10.0
#define ENV_URL "TETHER_TEST_NOTIFY_URL"

#define COMMIT "0123456789abcdef0123456789abcdef01234567"
#define DIGEST "89abcdef0123456789abcdef0123456789abcdef0123456789abcdef01234567"

/* One POST the receiver got. */
struct record {
	char *path;
	char *query;
	char *body;
	size_t body_len;
	char *content_type;
	char *event;     /* X-Tether-Event */
	char *signature; /* X-Tether-Signature-256 */
	char *delivery;  /* X-Tether-Delivery */
	char *method;
	double when;
};

struct fixture {
	char dir[256];
	struct ev_loop *loop;
	ev_timer tick; /* keeps EVRUN_ONCE from blocking for long */
	struct http_engine *http;
	struct httpd *srv;
	char base[64]; /* "http://127.0.0.1:PORT" */
	struct record records[RECORDS_MAX];
	size_t nrecords;
	int flaky_left; /* /flaky answers 500 while this is positive */
	bool gate_open;
	struct httpd_conn *held[HELD_MAX];
	size_t nheld;
	struct notify *n;
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

static void
answer(struct httpd_conn *conn, int status)
{
	struct httpd_header h = {"Content-Type", "text/plain"};

	httpd_respond(conn, status, &h, 1, "ok\n", 3);
}

static void
on_request(struct httpd_conn *conn, const struct httpd_request *req, void *arg)
{
	struct fixture *f = arg;
	struct record *r;

	assert_true(f->nrecords < RECORDS_MAX);
	r = &f->records[f->nrecords++];
	r->method = xstrdup(req->method);
	r->path = xstrdup(req->path);
	r->query = dup_or_null(req->query);
	r->body = xmemdup(req->body, req->body_len + 1);
	r->body_len = req->body_len;
	r->content_type = dup_or_null(httpd_header(req, "Content-Type"));
	r->event = dup_or_null(httpd_header(req, "X-Tether-Event"));
	r->signature = dup_or_null(httpd_header(req, "X-Tether-Signature-256"));
	r->delivery = dup_or_null(httpd_header(req, "X-Tether-Delivery"));
	r->when = now_s();

	if (strncmp(req->path, "/s/", 3) == 0) {
		answer(conn, atoi(req->path + 3));
	} else if (strcmp(req->path, "/flaky") == 0) {
		answer(conn, f->flaky_left-- > 0 ? 500 : 200);
	} else if (strcmp(req->path, "/gate") == 0 && !f->gate_open) {
		assert_true(f->nheld < HELD_MAX);
		f->held[f->nheld++] = conn;
	} else if (strcmp(req->path, "/hang") == 0) {
		/* Never answered: the client times out; httpd_free() closes it. */
	} else {
		answer(conn, 200);
	}
}

static void
tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
}

static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	struct http_engine_opts ho = HTTP_ENGINE_OPTS_INIT;
	struct httpd_opts so = HTTPD_OPTS_INIT;
	struct err err = ERR_INIT;

	assert_int_equal(tmpdir_make(f->dir, sizeof(f->dir), "tether-notify"), 0);
	f->loop = ev_loop_new(EVFLAG_AUTO);
	assert_non_null(f->loop);
	ev_timer_init(&f->tick, tick_cb, 0.005, 0.005);
	ev_timer_start(f->loop, &f->tick);
	assert_int_equal(http_engine_new(&f->http, f->loop, &ho, &err), 0);
	so.on_request = on_request;
	so.arg = f;
	assert_int_equal(httpd_new(&f->srv, f->loop, &so, &err), 0);
	snprintf(f->base, sizeof(f->base), "http://%s", httpd_address(f->srv));
	unsetenv(ENV_URL);
	/* Quiet: the tests that read the log set their own level and destination. */
	log_init(LOG_LEVEL_ERROR, false, STDERR_FILENO);
	*state = f;
	return 0;
}

static void
record_clear(struct record *r)
{
	free(r->method);
	free(r->path);
	free(r->query);
	free(r->body);
	free(r->content_type);
	free(r->event);
	free(r->signature);
	free(r->delivery);
	memset(r, 0, sizeof(*r));
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	size_t i;

	notify_free(f->n);
	httpd_free(f->srv);
	http_engine_free(f->http);
	ev_timer_stop(f->loop, &f->tick);
	ev_loop_destroy(f->loop);
	for (i = 0; i < f->nrecords; i++)
		record_clear(&f->records[i]);
	assert_int_equal(tmpdir_remove(f->dir), 0);
	unsetenv(ENV_URL);
	free(f);
	return 0;
}

/*
 * Run the loop until the notifier has nothing pending and the receiver has at least
 * `records` requests, or RUN_TIMEOUT passes. Returns whether both held.
 */
static bool
run_idle(struct fixture *f, size_t records)
{
	double end = now_s() + RUN_TIMEOUT;

	while (now_s() < end) {
		if (notify_pending(f->n) == 0 && f->nrecords >= records)
			return true;
		ev_run(f->loop, EVRUN_ONCE);
	}
	return false;
}

/* Run the loop until the receiver has `records` requests (or RUN_TIMEOUT passes). */
static bool
run_records(struct fixture *f, size_t records)
{
	double end = now_s() + RUN_TIMEOUT;

	while (now_s() < end) {
		if (f->nrecords >= records)
			return true;
		ev_run(f->loop, EVRUN_ONCE);
	}
	return false;
}

static void
run_for(struct fixture *f, double seconds)
{
	double end = now_s() + seconds;

	while (now_s() < end)
		ev_run(f->loop, EVRUN_ONCE);
}

/* The URL of a receiver path: "http://127.0.0.1:PORT/path". */
static char *
url_of(struct fixture *f, const char *path)
{
	return xasprintf("%s%s", f->base, path);
}

/* Write a secret file, mode 0600, under the test's directory; returns its path. */
static char *
write_secret(struct fixture *f, const char *name, const char *value)
{
	char *path = xasprintf("%s/%s", f->dir, name);
	FILE *fp;

	fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(fchmod(fileno(fp), 0600), 0);
	fputs(value, fp);
	assert_int_equal(fclose(fp), 0);
	return path;
}

static struct config_notify
target_url(enum config_notify_kind kind, char *url, unsigned events)
{
	struct config_notify t;

	memset(&t, 0, sizeof(t));
	t.kind = kind;
	t.url = url;
	t.events = events;
	return t;
}

static void
make(struct fixture *f, const struct config_notify *targets, size_t n)
{
	struct err err = ERR_INIT;

	assert_int_equal(notify_new(&f->n, f->loop, f->http, targets, n, &err), 0);
}

static struct notify_event
event(enum config_event kind, const char *function, const char *message)
{
	struct notify_event e;

	memset(&e, 0, sizeof(e));
	e.kind = kind;
	e.function = function;
	e.region = function != NULL ? "us-east-1" : NULL;
	e.commit = COMMIT;
	e.digest = DIGEST;
	e.message = message;
	return e;
}

static json_t *
record_json(const struct record *r)
{
	json_error_t je;
	json_t *doc = json_loadb(r->body, r->body_len, 0, &je);

	if (doc == NULL)
		fail_msg("body is not JSON: %s: %s", je.text, r->body);
	return doc;
}

static const char *
jstr(const json_t *doc, const char *key)
{
	return json_string_value(json_object_get(doc, key));
}

static void
assert_signature(const struct record *r, const char *key)
{
	unsigned char mac[CRYPTO_SHA256_LEN];
	char hex[CRYPTO_SHA256_HEX_LEN + 1], want[80];

	crypto_hmac_sha256(key, strlen(key), r->body, r->body_len, mac);
	crypto_hex(mac, sizeof(mac), hex);
	snprintf(want, sizeof(want), "sha256=%s", hex);
	assert_non_null(r->signature);
	assert_string_equal(r->signature, want);
}

/* The generic payload: every field, nulls where absent, the time, and a good signature. */
static void
test_notify__generic_payload_signed(void **state)
{
	struct fixture *f = *state;
	char *url = url_of(f, "/hook");
	char *keyfile = write_secret(f, "key", "s3cr3t-key\n");
	struct config_notify t = target_url(CONFIG_NOTIFY_GENERIC, url, CONFIG_EVENTS_ALL);
	struct notify_event e = event(CONFIG_EVENT_DEPLOYED, "orders-api", "published version 7");
	struct notify_stats st;
	json_t *doc;
	time_t when, now = time(NULL);

	t.secret.source = CONFIG_SECRET_FILE;
	t.secret.name = keyfile;
	t.secret.label = "notify[0].secret_file";
	make(f, &t, 1);
	e.digest = NULL;
	notify_post(f->n, &e);
	assert_int_equal(notify_pending(f->n), 1);
	assert_true(run_idle(f, 1));
	assert_int_equal(f->nrecords, 1);

	assert_string_equal(f->records[0].method, "POST");
	assert_string_equal(f->records[0].path, "/hook");
	assert_string_equal(f->records[0].content_type, "application/json");
	assert_string_equal(f->records[0].event, "deployed");
	assert_non_null(f->records[0].delivery);
	assert_int_equal(strlen(f->records[0].delivery), 36);
	assert_signature(&f->records[0], "s3cr3t-key");

	doc = record_json(&f->records[0]);
	assert_int_equal(json_object_size(doc), 7);
	assert_string_equal(jstr(doc, "event"), "deployed");
	assert_string_equal(jstr(doc, "function"), "orders-api");
	assert_string_equal(jstr(doc, "region"), "us-east-1");
	assert_string_equal(jstr(doc, "commit"), COMMIT);
	assert_true(json_is_null(json_object_get(doc, "digest")));
	assert_string_equal(jstr(doc, "message"), "published version 7");
	assert_non_null(jstr(doc, "time"));
	assert_int_equal(strlen(jstr(doc, "time")), 20);
	assert_int_equal(jstr(doc, "time")[19], 'Z');
	assert_int_equal(timeutil_parse_iso8601(jstr(doc, "time"), &when), 0);
	assert_true(when >= now - 5 && when <= now + 5);
	json_decref(doc);

	/* Repository-level: function and region are null. The key is read at each send: a
	 * rotated key signs the next delivery. */
	free(write_secret(f, "key", "rotated-key"));
	e = event(CONFIG_EVENT_COMMIT_REJECTED, NULL, "spec.yaml:3:1: unknown key");
	notify_post(f->n, &e);
	assert_true(run_idle(f, 2));
	assert_int_equal(f->nrecords, 2);
	assert_signature(&f->records[1], "rotated-key");
	assert_string_equal(f->records[1].event, "commit_rejected");
	doc = record_json(&f->records[1]);
	assert_string_equal(jstr(doc, "event"), "commit_rejected");
	assert_true(json_is_null(json_object_get(doc, "function")));
	assert_true(json_is_null(json_object_get(doc, "region")));
	assert_string_equal(jstr(doc, "digest"), DIGEST);
	assert_string_equal(jstr(doc, "message"), "spec.yaml:3:1: unknown key");
	json_decref(doc);

	notify_stats(f->n, &st);
	assert_int_equal(st.sent, 2);
	assert_int_equal(st.failed, 0);
	assert_int_equal(st.posted, 2);
	free(url);
	free(keyfile);
}

/* Without a key there is no signature header; a message that is not valid UTF-8 or holds
 * control characters still makes valid JSON. */
static void
test_notify__generic_unsigned(void **state)
{
	struct fixture *f = *state;
	char *url = url_of(f, "/plain");
	struct config_notify t = target_url(CONFIG_NOTIFY_GENERIC, url, CONFIG_EVENTS_ALL);
	struct notify_event e = event(CONFIG_EVENT_FAILED, "fn", "bad \"quote\"\n\xff tail");
	json_t *doc;

	make(f, &t, 1);
	notify_post(f->n, &e);
	assert_true(run_idle(f, 1));
	assert_int_equal(f->nrecords, 1);
	assert_null(f->records[0].signature);
	assert_string_equal(f->records[0].event, "failed");
	doc = record_json(&f->records[0]);
	assert_string_equal(jstr(doc, "message"), "bad \"quote\"\n\xef\xbf\xbd tail");
	json_decref(doc);
	free(url);
}

/* Slack: {"text": one readable line}, Slack's control characters escaped, no other
 * header than the content type. */
static void
test_notify__slack_payload(void **state)
{
	struct fixture *f = *state;
	char *url = url_of(f, "/services/T0/B0/XYZ");
	struct config_notify t = target_url(CONFIG_NOTIFY_SLACK, url, CONFIG_EVENTS_ALL);
	struct notify_event e =
	    event(CONFIG_EVENT_FAILED, "orders-api", "smoke <@here> & co\nnext");
	json_t *doc;

	make(f, &t, 1);
	notify_post(f->n, &e);
	e = event(CONFIG_EVENT_COMMIT_REJECTED, NULL, "unsigned commit");
	e.digest = NULL;
	notify_post(f->n, &e);
	e = event(CONFIG_EVENT_DRIFT_CORRECTED, "billing", NULL);
	notify_post(f->n, &e);
	assert_true(run_idle(f, 3));
	assert_int_equal(f->nrecords, 3);

	assert_string_equal(f->records[0].content_type, "application/json");
	assert_null(f->records[0].event);
	assert_null(f->records[0].signature);
	doc = record_json(&f->records[0]);
	assert_int_equal(json_object_size(doc), 1);
	assert_string_equal(jstr(doc, "text"),
	    "tether: failed orders-api (us-east-1) commit 0123456789ab d=89abcdef0123: smoke "
	    "&lt;@here&gt; &amp; co next");
	json_decref(doc);
	doc = record_json(&f->records[1]);
	assert_string_equal(
	    jstr(doc, "text"), "tether: commit rejected commit 0123456789ab: unsigned commit");
	json_decref(doc);
	doc = record_json(&f->records[2]);
	assert_string_equal(jstr(doc, "text"),
	    "tether: drift corrected billing (us-east-1) commit 0123456789ab d=89abcdef0123");
	json_decref(doc);
	free(url);
}

/* Each target hears only the kinds in its mask. */
static void
test_notify__events_mask(void **state)
{
	struct fixture *f = *state;
	char *u1 = url_of(f, "/failures"), *u2 = url_of(f, "/deploys");
	struct config_notify t[2] = {
	    target_url(CONFIG_NOTIFY_GENERIC, u1,
	        (1u << CONFIG_EVENT_FAILED) | (1u << CONFIG_EVENT_QUARANTINED)),
	    target_url(CONFIG_NOTIFY_GENERIC, u2, 1u << CONFIG_EVENT_DEPLOYED),
	};
	struct notify_event e;
	size_t i, failures = 0, deploys = 0;

	make(f, t, 2);
	e = event(CONFIG_EVENT_DRIFT_CORRECTED, "a", NULL);
	notify_post(f->n, &e);
	assert_int_equal(notify_pending(f->n), 0); /* nobody wants it */
	e = event(CONFIG_EVENT_DEPLOYED, "a", NULL);
	notify_post(f->n, &e);
	e = event(CONFIG_EVENT_FAILED, "b", "boom");
	notify_post(f->n, &e);
	e = event(CONFIG_EVENT_QUARANTINED, "b", "boom");
	notify_post(f->n, &e);
	assert_int_equal(notify_pending(f->n), 3);
	assert_true(run_idle(f, 3));
	assert_int_equal(f->nrecords, 3);
	for (i = 0; i < f->nrecords; i++) {
		if (strcmp(f->records[i].path, "/failures") == 0) {
			failures++;
			assert_true(strcmp(f->records[i].event, "failed") == 0 ||
			            strcmp(f->records[i].event, "quarantined") == 0);
		} else {
			deploys++;
			assert_string_equal(f->records[i].path, "/deploys");
			assert_string_equal(f->records[i].event, "deployed");
		}
	}
	assert_int_equal(failures, 2);
	assert_int_equal(deploys, 1);
	free(u1);
	free(u2);
}

/* Transitions only: a repeat is suppressed; a change, a different subject, and a return to
 * an earlier event are sent. */
static void
test_notify__dedup(void **state)
{
	struct fixture *f = *state;
	char *url = url_of(f, "/hook");
	struct config_notify t = target_url(CONFIG_NOTIFY_GENERIC, url, CONFIG_EVENTS_ALL);
	struct notify_event fail = event(CONFIG_EVENT_FAILED, "fn", "smoke test: 502");
	struct notify_event e;
	struct notify_stats st;
	json_t *doc;

	make(f, &t, 1);
	notify_post(f->n, &fail);
	notify_post(f->n, &fail); /* the next drift pass, the same failure */
	assert_int_equal(notify_pending(f->n), 1);
	assert_true(run_idle(f, 1));
	notify_post(f->n, &fail); /* still the same, after it was sent */
	assert_int_equal(notify_pending(f->n), 0);
	notify_stats(f->n, &st);
	assert_int_equal(st.suppressed, 2);
	assert_int_equal(f->nrecords, 1);

	e = fail;
	e.region = "eu-west-1"; /* the same function elsewhere is another subject */
	notify_post(f->n, &e);
	e = fail;
	e.message = "smoke test: 503"; /* failing differently */
	notify_post(f->n, &e);
	e = event(CONFIG_EVENT_DEPLOYED, "fn", NULL); /* fixed */
	notify_post(f->n, &e);
	notify_post(f->n, &fail); /* broken again the first way: a transition */
	e = fail;
	e.function = "other"; /* same content, another function */
	notify_post(f->n, &e);
	e = event(CONFIG_EVENT_COMMIT_REJECTED, NULL, "bad");
	notify_post(f->n, &e);
	notify_post(f->n, &e); /* the repository is a subject too */
	assert_true(run_idle(f, 7));
	assert_int_equal(f->nrecords, 7);
	notify_stats(f->n, &st);
	assert_int_equal(st.suppressed, 3);
	assert_int_equal(st.posted, 7);
	assert_int_equal(st.sent, 7);
	doc = record_json(&f->records[1]);
	assert_string_equal(jstr(doc, "region"), "eu-west-1");
	assert_string_equal(jstr(doc, "message"), "smoke test: 502");
	json_decref(doc);
	assert_string_equal(f->records[3].event, "deployed");
	assert_string_equal(f->records[4].event, "failed");
	free(url);
}

/* A new notifier (a reload) that inherits the old one's memory does not repeat. */
static void
test_notify__inherit(void **state)
{
	struct fixture *f = *state;
	char *url = url_of(f, "/hook");
	struct config_notify t = target_url(CONFIG_NOTIFY_GENERIC, url, CONFIG_EVENTS_ALL);
	struct notify_event fail = event(CONFIG_EVENT_FAILED, "fn", "boom");
	struct notify_event e;
	struct notify *old;
	struct notify_stats st;
	char name[32];
	size_t i;

	make(f, &t, 1);
	/* Enough subjects that the table has grown. */
	for (i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "fn-%zu", i);
		e = event(CONFIG_EVENT_DEPLOYED, name, NULL);
		notify_post(f->n, &e);
	}
	notify_post(f->n, &fail);
	assert_true(run_idle(f, 201));
	old = f->n;
	f->n = NULL;
	make(f, &t, 1);
	notify_inherit(f->n, old);
	notify_free(old);
	notify_post(f->n, &fail);
	e = event(CONFIG_EVENT_DEPLOYED, "fn-150", NULL);
	notify_post(f->n, &e);
	notify_stats(f->n, &st);
	assert_int_equal(st.suppressed, 2);
	assert_int_equal(notify_pending(f->n), 0);
	e = event(CONFIG_EVENT_DEPLOYED, "fn", NULL);
	notify_post(f->n, &e);
	assert_true(run_idle(f, 202));
	assert_int_equal(f->nrecords, 202);
	assert_string_equal(f->records[201].event, "deployed");

	/* Without inheriting, the same event is news to a new notifier. */
	notify_free(f->n);
	f->n = NULL;
	make(f, &t, 1);
	notify_post(f->n, &e);
	assert_true(run_idle(f, 203));
	assert_int_equal(f->nrecords, 203);
	free(url);
}

/* 500 twice, then 200: three attempts with growing pauses, one delivery id. */
static void
test_notify__retry_then_success(void **state)
{
	struct fixture *f = *state;
	char *url = url_of(f, "/flaky");
	struct config_notify t = target_url(CONFIG_NOTIFY_GENERIC, url, CONFIG_EVENTS_ALL);
	struct notify_event e = event(CONFIG_EVENT_DEPLOYED, "fn", NULL);
	struct notify_stats st;
	const double base = 0.05;

	make(f, &t, 1);
	notify_set_retry(f->n, base, 5);
	f->flaky_left = 2;
	notify_post(f->n, &e);
	assert_true(run_idle(f, 3));
	assert_int_equal(f->nrecords, 3);
	notify_stats(f->n, &st);
	assert_int_equal(st.sent, 1);
	assert_int_equal(st.failed, 0);
	assert_int_equal(st.retries, 2);
	assert_string_equal(f->records[0].delivery, f->records[1].delivery);
	assert_string_equal(f->records[1].delivery, f->records[2].delivery);
	assert_string_equal(f->records[0].body, f->records[2].body);
	/* base, then 2 * base, each scaled by a jitter factor of at least 0.75. */
	assert_true(f->records[1].when - f->records[0].when >= base * 0.75);
	assert_true(f->records[2].when - f->records[1].when >= 2 * base * 0.75);
	free(url);
}

/* 503 every time: max_attempts attempts, then given up. 429 is retried too. */
static void
test_notify__retry_exhausted(void **state)
{
	struct fixture *f = *state;
	char *u1 = url_of(f, "/s/503"), *u2 = url_of(f, "/s/429");
	struct config_notify t[2] = {
	    target_url(CONFIG_NOTIFY_GENERIC, u1, CONFIG_EVENTS_ALL),
	    target_url(CONFIG_NOTIFY_SLACK, u2, CONFIG_EVENTS_ALL),
	};
	struct notify_event e = event(CONFIG_EVENT_FAILED, "fn", "x");
	struct notify_stats st;
	size_t i, n503 = 0, n429 = 0;

	make(f, t, 2);
	notify_set_retry(f->n, 0.01, 3);
	notify_post(f->n, &e);
	assert_true(run_idle(f, 6));
	for (i = 0; i < f->nrecords; i++) {
		if (strcmp(f->records[i].path, "/s/503") == 0)
			n503++;
		else if (strcmp(f->records[i].path, "/s/429") == 0)
			n429++;
	}
	assert_int_equal(n503, 3);
	assert_int_equal(n429, 3);
	notify_stats(f->n, &st);
	assert_int_equal(st.sent, 0);
	assert_int_equal(st.failed, 2);
	assert_int_equal(st.retries, 4);
	free(u1);
	free(u2);
}

/* A 4xx other than 408 and 429 is final: one attempt. A 3xx too (redirects are not
 * followed). The next delivery in the queue still goes. */
static void
test_notify__no_retry_on_4xx(void **state)
{
	struct fixture *f = *state;
	char *u1 = url_of(f, "/s/400"), *u2 = url_of(f, "/s/302");
	struct config_notify t[2] = {
	    target_url(CONFIG_NOTIFY_GENERIC, u1, CONFIG_EVENTS_ALL),
	    target_url(CONFIG_NOTIFY_GENERIC, u2, CONFIG_EVENTS_ALL),
	};
	struct notify_event e1 = event(CONFIG_EVENT_FAILED, "fn", "x");
	struct notify_event e2 = event(CONFIG_EVENT_DEPLOYED, "fn", NULL);
	struct notify_stats st;

	make(f, t, 2);
	notify_set_retry(f->n, 0.01, 5);
	notify_post(f->n, &e1);
	notify_post(f->n, &e2);
	assert_int_equal(notify_pending(f->n), 4);
	assert_true(run_idle(f, 4));
	run_for(f, 0.1); /* nothing more arrives */
	assert_int_equal(f->nrecords, 4);
	notify_stats(f->n, &st);
	assert_int_equal(st.failed, 4);
	assert_int_equal(st.retries, 0);
	assert_int_equal(st.sent, 0);
	free(u1);
	free(u2);
}

/* A port nobody listens on: connection refused is retried, then given up. */
static void
test_notify__connection_refused(void **state)
{
	struct fixture *f = *state;
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	struct config_notify t;
	struct notify_event e = event(CONFIG_EVENT_FAILED, "fn", "x");
	struct notify_stats st;
	char *url;
	int fd;

	/* Bind a port, then close it: nothing listens there afterwards. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	url = xasprintf("http://127.0.0.1:%d/hook", ntohs(sa.sin_port));
	t = target_url(CONFIG_NOTIFY_GENERIC, url, CONFIG_EVENTS_ALL);

	make(f, &t, 1);
	notify_set_retry(f->n, 0.01, 3);
	notify_post(f->n, &e);
	assert_true(run_idle(f, 0));
	notify_stats(f->n, &st);
	assert_int_equal(st.failed, 1);
	assert_int_equal(st.retries, 2);
	assert_int_equal(st.sent, 0);
	free(url);
}

/* A receiver that never answers: each attempt times out, and is retried. */
static void
test_notify__timeout(void **state)
{
	struct fixture *f = *state;
	char *url = url_of(f, "/hang");
	struct config_notify t = target_url(CONFIG_NOTIFY_GENERIC, url, CONFIG_EVENTS_ALL);
	struct notify_event e = event(CONFIG_EVENT_FAILED, "fn", "x");
	struct notify_stats st;
	double start = now_s();

	make(f, &t, 1);
	notify_set_retry(f->n, 0.01, 2);
	notify_set_timeout(f->n, 0.3);
	notify_post(f->n, &e);
	assert_true(run_idle(f, 2));
	assert_true(now_s() - start >= 0.6);
	assert_int_equal(f->nrecords, 2);
	notify_stats(f->n, &st);
	assert_int_equal(st.failed, 1);
	assert_int_equal(st.retries, 1);
	free(url);
}

/* The URL from an environment variable or a file, read at each send. */
static void
test_notify__url_from_secret(void **state)
{
	struct fixture *f = *state;
	char *env_url = url_of(f, "/from-env?token=abc");
	char *file_url = url_of(f, "/from-file");
	char *file_line = xasprintf("%s\n", file_url);
	char *path = write_secret(f, "url", file_line);
	struct config_notify t[2];
	struct notify_event e = event(CONFIG_EVENT_DEPLOYED, "fn", NULL);
	struct notify_stats st;
	size_t i, from_env = 0, from_file = 0;

	memset(t, 0, sizeof(t));
	t[0].kind = CONFIG_NOTIFY_SLACK;
	t[0].url_secret.source = CONFIG_SECRET_ENV;
	t[0].url_secret.name = ENV_URL;
	t[0].url_secret.label = "notify[0].url_env";
	t[0].events = CONFIG_EVENTS_ALL;
	t[1].kind = CONFIG_NOTIFY_GENERIC;
	t[1].url_secret.source = CONFIG_SECRET_FILE;
	t[1].url_secret.name = path;
	t[1].url_secret.label = "notify[1].url_file";
	t[1].events = CONFIG_EVENTS_ALL;

	setenv(ENV_URL, env_url, 1);
	make(f, t, 2);
	notify_post(f->n, &e);
	assert_true(run_idle(f, 2));
	assert_int_equal(f->nrecords, 2);
	for (i = 0; i < 2; i++) {
		if (strcmp(f->records[i].path, "/from-env") == 0) {
			from_env++;
			assert_string_equal(f->records[i].query, "token=abc");
		} else {
			from_file++;
			assert_string_equal(f->records[i].path, "/from-file");
		}
	}
	assert_int_equal(from_env, 1);
	assert_int_equal(from_file, 1);

	/* Changed: the next delivery goes to the new URL. Gone: the delivery fails. */
	free(env_url);
	env_url = url_of(f, "/moved");
	setenv(ENV_URL, env_url, 1);
	unlink(path);
	e = event(CONFIG_EVENT_FAILED, "fn", "x");
	notify_post(f->n, &e);
	assert_true(run_idle(f, 3));
	assert_int_equal(f->nrecords, 3);
	assert_string_equal(f->records[2].path, "/moved");
	notify_stats(f->n, &st);
	assert_int_equal(st.sent, 3);
	assert_int_equal(st.failed, 1);

	unsetenv(ENV_URL);
	e = event(CONFIG_EVENT_DEPLOYED, "fn", NULL);
	notify_post(f->n, &e);
	assert_true(run_idle(f, 3));
	assert_int_equal(f->nrecords, 3);
	notify_stats(f->n, &st);
	assert_int_equal(st.failed, 3);
	free(env_url);
	free(file_url);
	free(file_line);
	free(path);
}

/* One delivery in flight per target, in order; pending counts queued and in flight. */
static void
test_notify__order_and_pending(void **state)
{
	struct fixture *f = *state;
	char *url = url_of(f, "/gate");
	struct config_notify t = target_url(CONFIG_NOTIFY_GENERIC, url, CONFIG_EVENTS_ALL);
	struct notify_event e;
	char name[32];
	json_t *doc;
	size_t i;

	make(f, &t, 1);
	for (i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "fn-%zu", i);
		e = event(CONFIG_EVENT_DEPLOYED, name, NULL);
		notify_post(f->n, &e);
	}
	assert_int_equal(notify_pending(f->n), 5);
	assert_true(run_records(f, 1));
	run_for(f, 0.1);
	assert_int_equal(f->nrecords, 1); /* the others wait for the first */
	assert_int_equal(notify_pending(f->n), 5);
	f->gate_open = true;
	answer(f->held[0], 200);
	f->nheld = 0;
	assert_true(run_idle(f, 5));
	assert_int_equal(f->nrecords, 5);
	for (i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "fn-%zu", i);
		doc = record_json(&f->records[i]);
		assert_string_equal(jstr(doc, "function"), name);
		json_decref(doc);
	}
	free(url);
}

/* A full queue drops its oldest waiting delivery; the one in flight is kept. */
static void
test_notify__queue_full(void **state)
{
	struct fixture *f = *state;
	char *url = url_of(f, "/gate");
	struct config_notify t = target_url(CONFIG_NOTIFY_GENERIC, url, CONFIG_EVENTS_ALL);
	const size_t total = NOTIFY_QUEUE_MAX + 44;
	struct notify_event e;
	struct notify_stats st;
	char name[32];
	json_t *doc;
	size_t i;

	make(f, &t, 1);
	e = event(CONFIG_EVENT_DEPLOYED, "fn-0", NULL);
	notify_post(f->n, &e);
	assert_true(run_records(f, 1)); /* fn-0 in flight */
	for (i = 1; i < total; i++) {
		snprintf(name, sizeof(name), "fn-%zu", i);
		e = event(CONFIG_EVENT_DEPLOYED, name, NULL);
		notify_post(f->n, &e);
	}
	assert_int_equal(notify_pending(f->n), NOTIFY_QUEUE_MAX);
	notify_stats(f->n, &st);
	assert_int_equal(st.dropped, total - NOTIFY_QUEUE_MAX);

	f->gate_open = true;
	answer(f->held[0], 200);
	f->nheld = 0;
	assert_true(run_idle(f, NOTIFY_QUEUE_MAX));
	assert_int_equal(f->nrecords, NOTIFY_QUEUE_MAX);
	doc = record_json(&f->records[0]);
	assert_string_equal(jstr(doc, "function"), "fn-0");
	json_decref(doc);
	/* fn-1 .. fn-44 were dropped. */
	doc = record_json(&f->records[1]);
	snprintf(name, sizeof(name), "fn-%zu", total - NOTIFY_QUEUE_MAX + 1);
	assert_string_equal(jstr(doc, "function"), name);
	json_decref(doc);
	doc = record_json(&f->records[NOTIFY_QUEUE_MAX - 1]);
	snprintf(name, sizeof(name), "fn-%zu", total - 1);
	assert_string_equal(jstr(doc, "function"), name);
	json_decref(doc);
	notify_stats(f->n, &st);
	assert_int_equal(st.sent, NOTIFY_QUEUE_MAX);
	free(url);
}

/* Freeing with deliveries in flight and backing off cancels them: nothing more is sent. */
static void
test_notify__free_in_flight(void **state)
{
	struct fixture *f = *state;
	char *u1 = url_of(f, "/hang"), *u2 = url_of(f, "/s/500");
	struct config_notify t[2] = {
	    target_url(CONFIG_NOTIFY_GENERIC, u1, CONFIG_EVENTS_ALL),
	    target_url(CONFIG_NOTIFY_GENERIC, u2, CONFIG_EVENTS_ALL),
	};
	struct notify_event e = event(CONFIG_EVENT_FAILED, "fn", "x");
	size_t seen;

	make(f, t, 2);
	notify_set_retry(f->n, 0.2, 5);
	notify_post(f->n, &e);
	e = event(CONFIG_EVENT_DEPLOYED, "fn", NULL);
	notify_post(f->n, &e);
	assert_true(run_records(f, 2));
	assert_int_equal(notify_pending(f->n), 4);
	notify_free(f->n);
	f->n = NULL;
	seen = f->nrecords;
	run_for(f, 0.5);
	assert_int_equal(f->nrecords, seen);
	assert_int_equal(http_engine_active(f->http), 0);
	free(u1);
	free(u2);
}

/*
 * Logs name targets by scheme and host: never a URL's path or query, never a key. (At
 * debug level the HTTP engine logs its own request lines, path included: only the notify
 * lines are checked.)
 */
static void
test_notify__logs_hide_secrets(void **state)
{
	struct fixture *f = *state;
	char *logpath = xasprintf("%s/log", f->dir);
	char *u_ok = url_of(f, "/services/OKPATHSECRET?token=QUERYSECRET");
	char *u_bad = url_of(f, "/s/400/BADPATHSECRET");
	char *u_env = url_of(f, "/s/500/ENVPATHSECRET");
	char *keyfile = write_secret(f, "key", "KEYSECRET");
	struct config_notify t[4];
	struct notify_event e = event(CONFIG_EVENT_FAILED, "fn", "x");
	char line[4096];
	size_t lines = 0;
	FILE *fp;
	int fd;

	t[0] = target_url(CONFIG_NOTIFY_SLACK, u_ok, CONFIG_EVENTS_ALL);
	t[1] = target_url(CONFIG_NOTIFY_GENERIC, u_bad, CONFIG_EVENTS_ALL);
	t[1].secret.source = CONFIG_SECRET_FILE;
	t[1].secret.name = keyfile;
	t[1].secret.label = "notify[1].secret_file";
	memset(&t[2], 0, sizeof(t[2]));
	t[2].kind = CONFIG_NOTIFY_GENERIC;
	t[2].url_secret.source = CONFIG_SECRET_ENV;
	t[2].url_secret.name = ENV_URL;
	t[2].url_secret.label = "notify[2].url_env";
	t[2].events = CONFIG_EVENTS_ALL;
	t[3] = target_url(CONFIG_NOTIFY_SLACK, "http://127.0.0.1:1/REFUSEDPATHSECRET?q=QSECRET2",
	    CONFIG_EVENTS_ALL);
	setenv(ENV_URL, u_env, 1);

	fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	log_init(LOG_LEVEL_DEBUG, false, fd);
	make(f, t, 4);
	notify_set_retry(f->n, 0.01, 2);
	notify_post(f->n, &e);
	assert_true(run_idle(f, 4));
	log_init(LOG_LEVEL_ERROR, false, STDERR_FILENO);
	close(fd);
	assert_int_equal(f->nrecords, 4);

	fp = fopen(logpath, "r");
	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (strstr(line, " notify: ") == NULL)
			continue;
		lines++;
		if (strstr(line, "SECRET") != NULL)
			fail_msg("a log line shows a secret: %s", line);
	}
	fclose(fp);
	assert_true(lines >= 4);
	free(logpath);
	free(u_ok);
	free(u_bad);
	free(u_env);
	free(keyfile);
}

/* The log lines, at info level, say what happened to each target by its origin. */
static void
test_notify__logs_name_origin(void **state)
{
	struct fixture *f = *state;
	char *logpath = xasprintf("%s/log", f->dir);
	char *u_ok = url_of(f, "/services/OKPATHSECRET");
	char *u_bad = url_of(f, "/s/404/BADPATHSECRET");
	struct config_notify t[3] = {
	    target_url(CONFIG_NOTIFY_SLACK, u_ok, CONFIG_EVENTS_ALL),
	    target_url(CONFIG_NOTIFY_GENERIC, u_bad, CONFIG_EVENTS_ALL),
	    target_url(
	        CONFIG_NOTIFY_SLACK, "http://127.0.0.1:1/REFUSEDPATHSECRET", CONFIG_EVENTS_ALL),
	};
	struct notify_event e = event(CONFIG_EVENT_FAILED, "fn", "x");
	struct stat sb;
	char *text, *want;
	FILE *fp;
	size_t n;
	int fd;

	fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	log_init(LOG_LEVEL_INFO, false, fd);
	make(f, t, 3);
	notify_set_retry(f->n, 0.01, 2);
	notify_post(f->n, &e);
	assert_true(run_idle(f, 2));
	log_init(LOG_LEVEL_ERROR, false, STDERR_FILENO);
	close(fd);

	assert_int_equal(stat(logpath, &sb), 0);
	text = xcalloc(1, (size_t)sb.st_size + 1);
	fp = fopen(logpath, "r");
	assert_non_null(fp);
	n = fread(text, 1, (size_t)sb.st_size, fp);
	fclose(fp);
	assert_int_equal(n, (size_t)sb.st_size);
	want = xasprintf("%s: failed fn (us-east-1): delivered status=200 attempts=1", f->base);
	assert_non_null(strstr(text, want));
	free(want);
	want =
	    xasprintf("%s: failed fn (us-east-1): refused with status 404; not retried", f->base);
	assert_non_null(strstr(text, want));
	free(want);
	assert_non_null(strstr(text, "http://127.0.0.1:1: failed fn (us-east-1): "));
	assert_non_null(strstr(text, "gave up after 2 attempts"));
	assert_null(strstr(text, "SECRET"));
	free(text);
	free(logpath);
	free(u_ok);
	free(u_bad);
}

/* A bad inline URL is refused at creation, without quoting it. */
static void
test_notify__bad_url(void **state)
{
	struct fixture *f = *state;
	struct config_notify t =
	    target_url(CONFIG_NOTIFY_GENERIC, "ftp://example.test/SECRET", CONFIG_EVENTS_ALL);
	struct notify *n = NULL;
	struct err err = ERR_INIT;

	assert_int_equal(notify_new(&n, f->loop, f->http, &t, 1, &err), ERR_INVALID);
	assert_null(n);
	assert_null(strstr(err.message, "SECRET"));
	assert_non_null(strstr(err.message, "notify[0]"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_notify__generic_payload_signed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_notify__generic_unsigned, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_notify__slack_payload, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_notify__events_mask, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_notify__dedup, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_notify__inherit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_notify__retry_then_success, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_notify__retry_exhausted, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_notify__no_retry_on_4xx, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_notify__connection_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_notify__timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_notify__url_from_secret, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_notify__order_and_pending, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_notify__queue_full, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_notify__free_in_flight, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_notify__logs_hide_secrets, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_notify__logs_name_origin, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_notify__bad_url, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
