/*
 * The daemon loop (controller/daemon.h, docs/daemon.md).
 */
#include <assert.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>

#include "aws/http.h"
#include "common/buf.h"
#include "common/compat.h"
#include "common/crypto.h"
#include "common/jsonw.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/xmalloc.h"
#include "controller/config.h"
#include "controller/daemon.h"
#include "controller/desired.h"
#include "controller/metrics.h"
#include "controller/notify.h"
#include "controller/session.h"
#include "controller/webhook.h"
#include "deploy/converge.h"
#include "deploy/manifest.h"
#include "deploy/state.h"
#include "gitwatch/sigverify.h"
#include "gitwatch/watch.h"
#include "reconcile/plan.h"

#define TRACK_BUCKETS 1024
#define REASON_MAX 4096

enum daemon_state {
	DAEMON_STARTING, /* no commit enforced yet */
	DAEMON_IDLE,
	DAEMON_RECONCILING,
	DAEMON_STOPPING,
};

static const char *const daemon_state_names[] = {
    [DAEMON_STARTING] = "starting",
    [DAEMON_IDLE] = "idle",
    [DAEMON_RECONCILING] = "reconciling",
    [DAEMON_STOPPING] = "stopping",
};

/* What the daemon remembers about a function across passes. */
struct track {
	struct track *next;
	char *region;
	char *name;
	unsigned long drifts; /* passes that found drift */
	double drift_time;    /* wall seconds of the last one */
	char *drift_detail;
	char *last_error; /* the last failed or blocked pass's detail; NULL after a good one */
};

struct region_slot {
	char *region;
	struct session *session;
	struct converge *converge; /* the last pass's, kept for /status until the next */
	bool running;
};

struct daemon {
	struct ev_loop *loop;
	enum daemon_state state;
	struct daemon_opts opts;
	struct config cfg;
	char *cache_dir;
	struct allowed_signers *signers;
	struct state *st;
	struct manifest *manifest;
	struct metrics *metrics;
	struct metrics_tether m;
	struct httpd *httpd;
	struct gitwatch *watch;
	struct webhook_limiter *limiter;
	bool limiter_fetch; /* the running fetch was started by the limiter */
	struct http_engine *notify_http;
	struct notify *notify;

	/* The enforced commit and, while a pass is being stopped for it, the next one. */
	struct desired cur;
	bool have_cur;
	struct desired next;
	bool have_next;
	bool *changed; /* per function of cur: its digest differs from the previous commit's */
	bool force;    /* process the next fetch even when the commit did not change */
	bool retry; /* the last pass left work (failed, interrupted): redo it on the next fetch */

	struct region_slot *slots;
	size_t nslots;
	bool sessions_stale; /* the config changed: new sessions before the next pass */

	/* The pass in progress. */
	size_t pending;
	bool pass_drift;
	double pass_started;
	bool ready;       /* a commit loaded and its first pass finished */
	double applied_t; /* wall seconds the enforced commit was last fully applied; 0 */
	char applied[41];

	/* Fetches. */
	unsigned fetch_failures;
	char *fetch_error;
	double fetch_time;
	char seen[41]; /* the last commit fetched and decided on (accepted or refused) */

	/* The last refused commit; cleared when a later one is accepted. */
	char rejected[41];
	char *rejected_kind;
	char *rejected_reason;
	double rejected_time;

	struct track *tracks[TRACK_BUCKETS];

	ev_timer poll_timer;
	ev_timer drift_timer;
	ev_timer limiter_timer;
	ev_timer stop_timer;
	ev_timer notify_timer;
	ev_timer next_timer; /* after a pass: adopt the next commit (not inside converge's done) */
	ev_signal sighup, sigterm, sigint;
	int exit_code;
};

static void start_pass(struct daemon *d, bool drift);
static void request_fetch(struct daemon *d);

/* --- small helpers ---------------------------------------------------------------------- */

static double
wall_now(void)
{
	return (double)timeutil_wall_ms() / 1000.0;
}

static void
set_str(char **p, const char *v)
{
	free(*p);
	*p = v != NULL ? xstrdup(v) : NULL;
}

static void
set_state(struct daemon *d, enum daemon_state s, const char *why)
{
	if (d->state != s)
		log_info("daemon", "%s -> %s: %s", daemon_state_names[d->state],
		    daemon_state_names[s], why);
	d->state = s;
}

static struct track *
track_get(struct daemon *d, const char *region, const char *name)
{
	char key[CRYPTO_SHA256_LEN];
	struct buf b;
	struct track *t;
	size_t h;

	buf_init(&b, 512);
	buf_printf(&b, "%s/%s", region, name);
	crypto_sha256(buf_cstr(&b), b.len, (unsigned char *)key);
	buf_free(&b);
	h = ((size_t)(unsigned char)key[0] << 8 | (unsigned char)key[1]) % TRACK_BUCKETS;
	for (t = d->tracks[h]; t != NULL; t = t->next)
		if (strcmp(t->region, region) == 0 && strcmp(t->name, name) == 0)
			return t;
	t = xcalloc(1, sizeof(*t));
	t->region = xstrdup(region);
	t->name = xstrdup(name);
	t->next = d->tracks[h];
	d->tracks[h] = t;
	return t;
}

static void
tracks_free(struct daemon *d)
{
	struct track *t, *n;
	size_t i;

	for (i = 0; i < TRACK_BUCKETS; i++) {
		for (t = d->tracks[i]; t != NULL; t = n) {
			n = t->next;
			free(t->region);
			free(t->name);
			free(t->drift_detail);
			free(t->last_error);
			free(t);
		}
		d->tracks[i] = NULL;
	}
}

static void
notify(struct daemon *d, enum config_event kind, const char *function, const char *region,
    const char *digest, const char *message)
{
	struct notify_event e;

	if (d->notify == NULL)
		return;
	memset(&e, 0, sizeof(e));
	e.kind = kind;
	e.function = function;
	e.region = region;
	e.commit = d->have_cur ? d->cur.commit.id : NULL;
	e.digest = digest;
	e.message = message;
	notify_post(d->notify, &e);
}

/* --- sessions and metrics of the API ---------------------------------------------------- */

static void
api_observed(const char *op, long status, int attempt, double ms, void *arg)
{
	struct daemon *d = arg;
	char s[24];

	(void)attempt;
	(void)ms;
	if (status > 0)
		snprintf(s, sizeof(s), "%ld", status);
	else
		snprintf(s, sizeof(s), "error");
	metric_inc(d->m.api_requests, op, s, NULL);
	if (status == 429)
		metric_inc(d->m.api_throttles, op, NULL);
}

static void
bucket_sample(const char *account, const char *region, const char *name,
    const struct ratelimit_stats *stats, void *arg)
{
	struct daemon *d = arg;
	char label[128];

	(void)account;
	snprintf(label, sizeof(label), "%s/%s", region, name);
	metric_set(d->m.api_bucket_tokens, stats->tokens, label, NULL);
}

static void
metrics_collect(struct metrics *m, void *arg)
{
	struct daemon *d = arg;
	size_t i;

	(void)m;
	for (i = 0; i < d->nslots; i++)
		if (d->slots[i].session != NULL)
			ratelimit_foreach(session_ratelimit(d->slots[i].session), bucket_sample, d);
}

static void
slots_drop_sessions(struct daemon *d)
{
	size_t i;

	for (i = 0; i < d->nslots; i++) {
		converge_free(d->slots[i].converge);
		d->slots[i].converge = NULL;
		session_free(d->slots[i].session);
		d->slots[i].session = NULL;
	}
}

static struct region_slot *
slot_get(struct daemon *d, const char *region, struct err *err)
{
	struct session_opts so = SESSION_OPTS_INIT;
	struct region_slot *s = NULL;
	size_t i;

	for (i = 0; i < d->nslots; i++)
		if (strcmp(d->slots[i].region, region) == 0)
			s = &d->slots[i];
	if (s == NULL) {
		d->slots = xreallocarray(d->slots, d->nslots + 1, sizeof(*d->slots));
		s = &d->slots[d->nslots++];
		memset(s, 0, sizeof(*s));
		s->region = xstrdup(region);
	}
	if (s->session == NULL) {
		so.region = region;
		so.endpoint = d->cfg.endpoint;
		so.api_rps = d->cfg.api_rps;
		so.observe = api_observed;
		so.observe_arg = d;
		if (session_new(&s->session, d->loop, &so, err) != 0)
			return NULL;
	}
	return s;
}

/* --- passes ----------------------------------------------------------------------------- */

/* The drift kinds of a drift pass's actions (docs/metrics.md). */
static void
count_drift(struct daemon *d, const struct converge_result *r, const char *region)
{
	static const struct {
		enum plan_kind kind;
		const char *name;
	} kinds[] = {
	    {PLAN_UPDATE_CODE, "code"},
	    {PLAN_UPDATE_CONFIG, "configuration"},
	    {PLAN_UPDATE_ALIAS, "alias"},
	    {PLAN_CREATE_ALIAS, "missing"},
	    {PLAN_CREATE_FUNCTION, "missing"},
	    {PLAN_PUBLISH, "version"},
	};
	struct track *t;
	bool any = false;
	size_t i;

	for (i = 0; i < nitems(kinds); i++) {
		if ((r->kinds & (1u << kinds[i].kind)) == 0)
			continue;
		/* "missing" twice counts once. */
		if (i == 4 && (r->kinds & (1u << PLAN_CREATE_ALIAS)) != 0)
			continue;
		metric_inc(d->m.drift_detections, r->want->name, kinds[i].name, NULL);
		any = true;
	}
	if (!any)
		return;
	t = track_get(d, region, r->want->name);
	t->drifts++;
	t->drift_time = wall_now();
	set_str(&t->drift_detail, r->detail != NULL ? r->detail : "drift");
	log_warn("drift", "%s (%s): %s: %s", r->want->name, region,
	    r->outcome == CONVERGE_REPORTED ? "reported" : "corrected",
	    r->detail != NULL ? r->detail : "-");
	if (r->outcome == CONVERGE_CONVERGED)
		notify(d, CONFIG_EVENT_DRIFT_CORRECTED, r->want->name, region, r->digest,
		    r->detail != NULL ? r->detail : "drift corrected");
}

/* The quarantine on r's desired digest, or NULL. */
static bool
quarantined(const struct converge_result *r)
{
	return r->digest[0] != '\0' && obs_quarantined(&r->fn, r->digest);
}

static void
pass_finished(struct daemon *d)
{
	const struct converge_result *res;
	struct track *t;
	size_t i, k, n;
	size_t by[CONVERGE_FAILED + 1];
	double took = ev_now(d->loop) - d->pass_started, nq = 0;
	const char *region;

	memset(by, 0, sizeof(by));
	for (i = 0; i < d->nslots; i++) {
		if (d->slots[i].converge == NULL || !d->slots[i].running)
			continue;
		d->slots[i].running = false;
		region = d->slots[i].region;
		res = converge_results(d->slots[i].converge, &n);
		for (k = 0; k < n; k++) {
			const struct converge_result *r = &res[k];

			by[r->outcome]++;
			metric_inc(d->m.reconciles, converge_outcome_names[r->outcome], NULL);
			if (quarantined(r))
				nq++;
			t = track_get(d, region, r->want->name);
			if (d->pass_drift)
				count_drift(d, r, region);
			else if (r->outcome == CONVERGE_CONVERGED)
				notify(d, CONFIG_EVENT_DEPLOYED, r->want->name, region, r->digest,
				    r->detail != NULL ? r->detail : "deployed");
			if (r->outcome == CONVERGE_FAILED || r->outcome == CONVERGE_BLOCKED) {
				set_str(&t->last_error, r->detail);
				if (quarantined(r))
					notify(d, CONFIG_EVENT_QUARANTINED, r->want->name, region,
					    r->digest, r->detail);
				else
					notify(d, CONFIG_EVENT_FAILED, r->want->name, region,
					    r->digest, r->detail);
			} else if (r->outcome != CONVERGE_PENDING) {
				set_str(&t->last_error, NULL);
			}
		}
	}
	metric_observe(d->m.reconcile_duration, took, NULL);
	metric_set(d->m.quarantined, nq, NULL);
	d->retry = by[CONVERGE_FAILED] + by[CONVERGE_PENDING] > 0;
	if (!d->retry && by[CONVERGE_BLOCKED] == 0 && d->have_cur) {
		d->applied_t = wall_now();
		memcpy(d->applied, d->cur.commit.id, sizeof(d->applied));
		metric_set(d->m.last_applied_commit, (double)d->cur.commit.time, NULL);
	}
	log_info("daemon",
	    "%s pass over %.12s done in %.2fs: %zu converged, %zu in sync, %zu reported, "
	    "%zu suspended, %zu blocked, %zu failed, %zu interrupted",
	    d->pass_drift ? "drift" : "commit", d->cur.commit.id, took, by[CONVERGE_CONVERGED],
	    by[CONVERGE_IN_SYNC], by[CONVERGE_REPORTED], by[CONVERGE_SUSPENDED],
	    by[CONVERGE_BLOCKED], by[CONVERGE_FAILED], by[CONVERGE_PENDING]);
	d->ready = true;
}

/* A function's identity and digest, to tell which functions a commit changed. */
struct fn_key {
	const char *region;
	const char *name;
	char digest[CRYPTO_SHA256_HEX_LEN + 1];
};

static int
fn_key_cmp(const void *a, const void *b)
{
	const struct fn_key *x = a, *y = b;
	int c = strcmp(x->region, y->region);

	return c != 0 ? c : strcmp(x->name, y->name);
}

/* The digest with a fixed account: enough to compare two commits' functions. */
static void
fn_key_fill(struct fn_key *k, const struct spec_function *f)
{
	struct err err = ERR_INIT;

	k->region = f->region;
	k->name = f->name;
	if (spec_digest(f, "000000000000", k->digest, &err) != 0)
		k->digest[0] = '\0';
}

/* Which functions of next differ from cur (new ones, changed digests): they start first. */
static bool *
changed_functions(const struct desired *cur, bool have_cur, const struct desired *next)
{
	struct fn_key *old = NULL, k, *hit;
	bool *changed = next->spec.n > 0 ? xcalloc(next->spec.n, sizeof(*changed)) : NULL;
	size_t i, n = have_cur ? cur->spec.n : 0;

	if (n > 0) {
		old = xcalloc(n, sizeof(*old));
		for (i = 0; i < n; i++)
			fn_key_fill(&old[i], &cur->spec.functions[i]);
		qsort(old, n, sizeof(*old), fn_key_cmp);
	}
	for (i = 0; i < next->spec.n; i++) {
		fn_key_fill(&k, &next->spec.functions[i]);
		hit = n > 0 ? bsearch(&k, old, n, sizeof(*old), fn_key_cmp) : NULL;
		changed[i] =
		    hit == NULL || k.digest[0] == '\0' || strcmp(hit->digest, k.digest) != 0;
	}
	free(old);
	return changed;
}

static bool
changed_first(const struct spec_function *want, void *arg)
{
	struct daemon *d = arg;

	return d->changed != NULL && d->changed[want - d->cur.spec.functions];
}

/* Free the pass results (they borrow the enforced spec) and make next the enforced one. */
static void
adopt_next(struct daemon *d)
{
	size_t i;

	for (i = 0; i < d->nslots; i++) {
		converge_free(d->slots[i].converge);
		d->slots[i].converge = NULL;
	}
	free(d->changed);
	d->changed = changed_functions(&d->cur, d->have_cur, &d->next);
	desired_free(&d->cur);
	d->cur = d->next;
	d->have_cur = true;
	memset(&d->next, 0, sizeof(d->next));
	d->have_next = false;
}

static void
converged_cb(struct converge *c, void *arg)
{
	struct daemon *d = arg;

	(void)c;
	assert(d->pending > 0);
	if (--d->pending > 0)
		return;
	pass_finished(d);
	if (d->state == DAEMON_STOPPING) {
		ev_timer_stop(d->loop, &d->stop_timer);
		ev_timer_set(&d->stop_timer, 0.0, 0.0);
		ev_timer_start(d->loop, &d->stop_timer);
		return;
	}
	set_state(d, DAEMON_IDLE, "pass done");
	if (d->have_next) {
		ev_timer_set(&d->next_timer, 0.0, 0.0);
		ev_timer_start(d->loop, &d->next_timer);
	}
}

static void
next_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct daemon *d = container_of(w, struct daemon, next_timer);

	(void)loop;
	(void)revents;
	if (d->state != DAEMON_IDLE || !d->have_next)
		return;
	adopt_next(d);
	start_pass(d, false);
}

static void
start_pass(struct daemon *d, bool drift)
{
	struct converge_opts co = CONVERGE_OPTS_INIT;
	struct region_slot *s;
	struct err err = ERR_INIT;
	size_t i;

	assert(d->pending == 0 && d->have_cur);
	if (d->sessions_stale) {
		slots_drop_sessions(d);
		d->sessions_stale = false;
	}
	d->pass_drift = drift;
	d->pass_started = ev_now(d->loop);
	set_state(d, DAEMON_RECONCILING, drift ? "drift pass" : "new commit");
	for (i = 0; i < d->cur.nregions; i++) {
		s = slot_get(d, d->cur.regions[i], &err);
		if (s == NULL) {
			log_error("daemon", "%s: %s", d->cur.regions[i], err.message);
			set_str(&d->fetch_error, err.message);
			continue;
		}
		converge_free(s->converge);
		s->converge = NULL;
		co.loop = d->loop;
		co.lambda = session_lambda(s->session);
		co.region = s->region;
		co.state = d->st;
		co.manifest = d->manifest;
		co.commit = d->cur.commit.id;
		co.ref = d->cur.commit.ref;
		co.concurrency = (size_t)d->cfg.concurrency;
		co.done = converged_cb;
		co.arg = d;
		co.drift = drift;
		/* A commit's changed functions go first: their calls do not wait behind the
		 * observation of every unchanged one (bench/latency). */
		co.first = drift ? NULL : changed_first;
		co.first_arg = d;
		if (converge_start(&s->converge, &d->cur.spec, &co, &err) != 0) {
			log_error("daemon", "%s: %s", s->region, err.message);
			continue;
		}
		s->running = true;
		d->pending++;
	}
	if (d->pending == 0) {
		d->retry = true;
		set_state(d, DAEMON_IDLE, "nothing could start");
	}
}

static void
stop_pass(struct daemon *d)
{
	size_t i;

	for (i = 0; i < d->nslots; i++)
		if (d->slots[i].running && d->slots[i].converge != NULL)
			converge_stop(d->slots[i].converge);
}

/* --- commits ---------------------------------------------------------------------------- */

static void
reject(struct daemon *d, const char *id, const char *kind, const char *reason)
{
	memcpy(d->rejected, id, sizeof(d->rejected));
	set_str(&d->rejected_kind, kind);
	set_str(&d->rejected_reason, reason);
	d->rejected_time = wall_now();
	metric_inc(d->m.commits_rejected, kind, NULL);
	log_error("daemon", "commit %.12s refused (%s): %s; %s", id, kind, reason,
	    d->have_cur ? "the last good commit stays enforced" : "nothing is enforced yet");
	if (d->notify != NULL) {
		struct notify_event e;

		memset(&e, 0, sizeof(e));
		e.kind = CONFIG_EVENT_COMMIT_REJECTED;
		e.commit = id;
		e.message = reason;
		notify_post(d->notify, &e);
	}
}

/* Whether commit id may be deployed under verify; when not, refuse it and say why. */
static bool
verified(struct daemon *d, const char *id)
{
	enum sigverify_result res;
	struct err err = ERR_INIT;
	char *signer = NULL, *why = NULL, *path;
	bool ok = false;

	if (d->cfg.verify.mode == CONFIG_VERIFY_NONE)
		return true;
	path = source_repo_path(d->cfg.repo, d->cache_dir);
	if (path == NULL ||
	    sigverify_commit(d->signers, path, id, &res, &signer, &why, &err) != 0) {
		reject(d, id, "unverifiable",
		    path == NULL ? "no repository to read the signature from" : err.message);
		goto out;
	}
	if (res != SIGVERIFY_GOOD) {
		reject(d, id, sigverify_result_names[res], why != NULL ? why : "not signed");
		goto out;
	}
	log_info("daemon", "commit %.12s signed by %s", id, signer != NULL ? signer : "?");
	ok = true;
out:
	free(path);
	free(signer);
	free(why);
	return ok;
}

/* The first diagnostics as one reason: "functions/a.yaml:3:7: message; ...". */
static char *
diags_reason(const struct diags *dg)
{
	struct buf b;
	size_t i, shown = 0;

	buf_init(&b, REASON_MAX);
	for (i = 0; i < dg->n && shown < DAEMON_REJECT_DIAGS_MAX; i++) {
		const struct diag *x = &dg->items[i];

		if (x->severity != DIAG_ERROR)
			continue;
		if (shown++ > 0)
			buf_puts(&b, "; ");
		if (x->path[0] != '\0' && x->line > 0)
			buf_printf(&b, "%s:%d:%d: %s", x->path, x->line, x->col, x->message);
		else if (x->path[0] != '\0')
			buf_printf(&b, "%s: %s", x->path, x->message);
		else
			buf_puts(&b, x->message);
	}
	if (dg->errors > shown)
		buf_printf(&b, "; and %zu more", dg->errors - shown);
	if (b.len == 0)
		buf_puts(&b, "the desired state has errors");
	return buf_detach(&b, NULL);
}

static void
take_commit(struct daemon *d, struct gitwatch_result *r)
{
	struct session_opts so = SESSION_OPTS_INIT;
	struct diags dg = DIAGS_INIT;
	struct desired nd;
	char *region, *why;
	size_t i;

	memset(&nd, 0, sizeof(nd));
	if (strcmp(r->commit.id, d->seen) == 0 && !d->force) {
		/* Nothing new; redo a pass that left work. */
		if (d->retry && d->have_cur && d->state == DAEMON_IDLE) {
			log_info("daemon",
			    "commit %.12s unchanged; retrying what the last pass left",
			    r->commit.id);
			start_pass(d, false);
		}
		return;
	}
	d->force = false;
	memcpy(d->seen, r->commit.id, sizeof(d->seen));
	log_info("daemon", "commit %.12s (%s): %s", r->commit.id,
	    r->commit.ref != NULL ? r->commit.ref : "-",
	    r->commit.summary != NULL ? r->commit.summary : "");
	if (!verified(d, r->commit.id))
		return;
	so.region = d->cfg.region;
	region = desired_default_region(&so);
	if (desired_load(&r->files, d->cfg.environment, region, d->cfg.path, &nd, &dg) != 0) {
		for (i = 0; i < dg.n; i++) {
			const struct diag *x = &dg.items[i];

			log_msg(x->severity == DIAG_ERROR ? LOG_LEVEL_ERROR : LOG_LEVEL_WARN,
			    "load", "%s:%d:%d: %s", x->path, x->line, x->col, x->message);
		}
		why = diags_reason(&dg);
		reject(d, r->commit.id, "invalid", why);
		free(why);
		goto out;
	}
	for (i = 0; i < dg.n; i++)
		log_warn("load", "%s:%d:%d: %s", dg.items[i].path, dg.items[i].line,
		    dg.items[i].col, dg.items[i].message);
	/* Accepted. The commit is moved, not copied. */
	nd.commit = r->commit;
	memset(&r->commit, 0, sizeof(r->commit));
	d->rejected[0] = '\0';
	set_str(&d->rejected_kind, NULL);
	set_str(&d->rejected_reason, NULL);
	if (d->have_next)
		desired_free(&d->next);
	d->next = nd;
	d->have_next = true;
	if (d->state == DAEMON_RECONCILING) {
		log_info("daemon", "commit %.12s waits for the pass in progress to stop",
		    d->next.commit.id);
		stop_pass(d);
	} else {
		adopt_next(d);
		start_pass(d, false);
	}
out:
	diags_free(&dg);
	free(region);
}

static void
arm_poll(struct daemon *d, double after)
{
	ev_timer_stop(d->loop, &d->poll_timer);
	ev_timer_set(&d->poll_timer, after, 0.0);
	ev_timer_start(d->loop, &d->poll_timer);
}

/* interval, give or take jitter. */
static double
poll_delay(const struct daemon *d)
{
	unsigned char r[2];
	double u;

	crypto_random(r, sizeof(r));
	u = ((double)(r[0] << 8 | r[1]) / 65535.0) * 2.0 - 1.0;
	return d->cfg.interval * (1.0 + d->cfg.jitter * u);
}

static void
arm_limiter(struct daemon *d)
{
	double w = webhook_limiter_wait(d->limiter, ev_now(d->loop));

	ev_timer_stop(d->loop, &d->limiter_timer);
	if (w < 0)
		return;
	ev_timer_set(&d->limiter_timer, w, 0.0);
	ev_timer_start(d->loop, &d->limiter_timer);
}

static void
fetched_cb(struct gitwatch *w, struct gitwatch_result *r, void *arg)
{
	struct daemon *d = arg;
	double delay;

	(void)w;
	metric_observe(d->m.git_fetch_duration, r->seconds, NULL);
	d->fetch_time = wall_now();
	if (d->limiter_fetch) {
		d->limiter_fetch = false;
		if (webhook_limiter_done(d->limiter, ev_now(d->loop))) {
			d->limiter_fetch = true;
			gitwatch_request(d->watch);
		} else {
			arm_limiter(d);
		}
	}
	if (d->state == DAEMON_STOPPING) {
		gitwatch_result_free(r);
		return;
	}
	if (!r->ok) {
		metric_inc(d->m.git_fetch_failures, NULL);
		d->fetch_failures++;
		set_str(&d->fetch_error, r->err.message);
		delay = DAEMON_FETCH_BACKOFF_MIN;
		for (unsigned i = 1; i < d->fetch_failures && delay < d->cfg.interval; i++)
			delay *= 2.0;
		if (delay > d->cfg.interval)
			delay = d->cfg.interval;
		log_error("gitwatch", "fetch failed (%u in a row; again in %.0fs): %s",
		    d->fetch_failures, delay, r->err.message);
		arm_poll(d, delay);
		gitwatch_result_free(r);
		return;
	}
	if (d->fetch_failures > 0)
		log_info("gitwatch", "fetch works again after %u failures", d->fetch_failures);
	d->fetch_failures = 0;
	set_str(&d->fetch_error, NULL);
	log_debug("gitwatch", "fetched %.12s in %.3fs", r->commit.id, r->seconds);
	take_commit(d, r);
	gitwatch_result_free(r);
	arm_poll(d, poll_delay(d));
}

static void
request_fetch(struct daemon *d)
{
	if (d->watch != NULL && d->state != DAEMON_STOPPING)
		gitwatch_request(d->watch);
}

static void
poll_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct daemon *d = container_of(w, struct daemon, poll_timer);

	(void)loop;
	(void)revents;
	request_fetch(d);
	/* Re-armed when the fetch ends; this keeps polling if a fetch never reports. */
	arm_poll(d, poll_delay(d) * 2.0);
}

static void
limiter_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct daemon *d = container_of(w, struct daemon, limiter_timer);

	(void)revents;
	if (webhook_limiter_poll(d->limiter, ev_now(loop))) {
		d->limiter_fetch = true;
		request_fetch(d);
	} else {
		arm_limiter(d);
	}
}

static void
drift_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct daemon *d = container_of(w, struct daemon, drift_timer);

	(void)loop;
	(void)revents;
	if (d->state == DAEMON_IDLE && d->have_cur && !d->have_next)
		start_pass(d, true);
	else
		log_debug("daemon", "drift pass skipped: %s", daemon_state_names[d->state]);
}

/* --- HTTP ------------------------------------------------------------------------------- */

static void
respond(struct httpd_conn *conn, int status, const char *type, const char *body, size_t len)
{
	struct httpd_header h[2];

	h[0].name = "Content-Type";
	h[0].value = type;
	h[1].name = "Cache-Control";
	h[1].value = "no-store";
	httpd_respond(conn, status, h, nitems(h), body, len);
}

static void
respond_json_msg(struct httpd_conn *conn, int status, const char *key, const char *msg)
{
	struct buf b;
	struct jsonw w;

	buf_init(&b, 4096);
	jsonw_init(&w, &b);
	jsonw_object_open(&w);
	jsonw_kstr(&w, key, msg);
	jsonw_object_close(&w);
	respond(conn, status, "application/json", buf_cstr(&b), b.len);
	buf_free(&b);
}

static void
write_alias(struct jsonw *w, const struct obs_alias *a)
{
	jsonw_key(w, a->name);
	jsonw_object_open(w);
	jsonw_kstr_null(w, "version", a->version);
	jsonw_kstr_null(w, "routing_version", a->routing_version);
	if (a->routing_version != NULL) {
		jsonw_key(w, "routing_weight");
		jsonw_double(w, a->routing_weight);
	}
	jsonw_object_close(w);
}

static void
write_function(struct jsonw *w, struct daemon *d, const struct spec_function *want,
    const struct converge_result *r)
{
	struct track *t = track_get(d, want->region, want->name);
	size_t i;

	jsonw_object_open(w);
	jsonw_kstr(w, "function", want->name);
	jsonw_kstr(w, "region", want->region);
	jsonw_kstr_null(w, "digest", r != NULL && r->digest[0] != '\0' ? r->digest : NULL);
	jsonw_kstr(w, "result",
	    r != NULL && r->outcome != CONVERGE_PENDING ? converge_outcome_names[r->outcome]
	                                                : "pending");
	jsonw_kstr_null(w, "detail", r != NULL ? r->detail : NULL);
	jsonw_key(w, "aliases");
	jsonw_object_open(w);
	if (r != NULL)
		for (i = 0; i < r->fn.naliases; i++)
			write_alias(w, &r->fn.aliases[i]);
	jsonw_object_close(w);
	jsonw_key(w, "drift");
	if (t->drifts == 0) {
		jsonw_null(w);
	} else {
		char when[21];

		timeutil_iso8601((time_t)t->drift_time, when);
		jsonw_object_open(w);
		jsonw_kint(w, "count", (int64_t)t->drifts);
		jsonw_kstr(w, "last", when);
		jsonw_kstr_null(w, "detail", t->drift_detail);
		jsonw_object_close(w);
	}
	jsonw_kstr_null(w, "last_error", t->last_error);
	jsonw_key(w, "quarantine");
	if (r != NULL && r->fn.nquarantined > 0) {
		jsonw_object_open(w);
		jsonw_kstr(w, "digest", r->fn.quarantined[0]);
		jsonw_kbool(w, "current", quarantined(r));
		jsonw_object_close(w);
	} else {
		jsonw_null(w);
	}
	jsonw_object_close(w);
}

/* The pass result for want, or NULL. */
static const struct converge_result *
result_of(struct daemon *d, const struct spec_function *want)
{
	const struct converge_result *res;
	size_t i, k, n;

	for (i = 0; i < d->nslots; i++) {
		if (d->slots[i].converge == NULL || strcmp(d->slots[i].region, want->region) != 0)
			continue;
		res = converge_results(d->slots[i].converge, &n);
		for (k = 0; k < n; k++)
			if (res[k].want == want)
				return &res[k];
	}
	return NULL;
}

static void
write_time(struct jsonw *w, const char *key, double t)
{
	char when[21];

	if (t <= 0) {
		jsonw_key(w, key);
		jsonw_null(w);
		return;
	}
	timeutil_iso8601((time_t)t, when);
	jsonw_kstr(w, key, when);
}

static void
serve_status(struct daemon *d, struct httpd_conn *conn)
{
	struct buf b;
	struct jsonw w;
	size_t i;

	buf_init(&b, DAEMON_STATUS_MAX);
	jsonw_init(&w, &b);
	jsonw_object_open(&w);
	jsonw_kstr(&w, "state", daemon_state_names[d->state]);
	jsonw_kbool(&w, "ready", d->ready);
	jsonw_kstr(&w, "repo", d->cfg.repo);
	jsonw_kstr_null(&w, "ref", d->cfg.ref);
	jsonw_key(&w, "commit");
	if (d->have_cur) {
		jsonw_object_open(&w);
		jsonw_kstr(&w, "id", d->cur.commit.id);
		jsonw_kstr_null(&w, "ref", d->cur.commit.ref);
		jsonw_kstr_null(&w, "summary", d->cur.commit.summary);
		write_time(&w, "time", (double)d->cur.commit.time);
		jsonw_object_close(&w);
	} else {
		jsonw_null(&w);
	}
	jsonw_key(&w, "applied");
	if (d->applied_t > 0) {
		jsonw_object_open(&w);
		jsonw_kstr(&w, "commit", d->applied);
		write_time(&w, "time", d->applied_t);
		jsonw_object_close(&w);
	} else {
		jsonw_null(&w);
	}
	jsonw_key(&w, "rejected");
	if (d->rejected[0] != '\0') {
		jsonw_object_open(&w);
		jsonw_kstr(&w, "commit", d->rejected);
		jsonw_kstr(&w, "kind", d->rejected_kind);
		jsonw_kstr(&w, "reason", d->rejected_reason);
		write_time(&w, "time", d->rejected_time);
		jsonw_object_close(&w);
	} else {
		jsonw_null(&w);
	}
	jsonw_key(&w, "fetch");
	jsonw_object_open(&w);
	write_time(&w, "last", d->fetch_time);
	jsonw_kint(&w, "count", (int64_t)(d->watch != NULL ? gitwatch_fetches(d->watch) : 0));
	jsonw_kint(&w, "failures_in_a_row", d->fetch_failures);
	jsonw_kstr_null(&w, "last_error", d->fetch_error);
	jsonw_kstr(
	    &w, "webhook_limiter", webhook_limiter_state_names[webhook_limiter_state(d->limiter)]);
	jsonw_object_close(&w);
	jsonw_key(&w, "pass");
	jsonw_object_open(&w);
	jsonw_kstr(&w, "trigger", d->pass_drift ? "drift" : "commit");
	jsonw_kbool(&w, "running", d->pending > 0);
	jsonw_object_close(&w);
	jsonw_key(&w, "functions");
	jsonw_array_open(&w);
	for (i = 0; d->have_cur && i < d->cur.spec.n; i++)
		write_function(
		    &w, d, &d->cur.spec.functions[i], result_of(d, &d->cur.spec.functions[i]));
	jsonw_array_close(&w);
	jsonw_object_close(&w);
	if (jsonw_failed(&w))
		respond_json_msg(conn, 500, "error", "the status exceeds its cap");
	else
		respond(conn, 200, "application/json", buf_cstr(&b), b.len);
	buf_free(&b);
}

static void
serve_metrics(struct daemon *d, struct httpd_conn *conn)
{
	struct buf b;

	buf_init(&b, METRICS_RENDER_MAX);
	if (metrics_render(d->metrics, &b) != 0)
		respond(conn, 500, "text/plain", "metrics exceed their cap\n", 25);
	else
		respond(conn, 200, METRICS_CONTENT_TYPE, buf_cstr(&b), b.len);
	buf_free(&b);
}

static void
serve_hook(struct daemon *d, struct httpd_conn *conn, const struct httpd_request *req,
    enum webhook_provider p)
{
	const struct config_secret *sec[] = {
	    [WEBHOOK_GITHUB] = &d->cfg.webhook.github,
	    [WEBHOOK_GITLAB] = &d->cfg.webhook.gitlab,
	    [WEBHOOK_GENERIC] = &d->cfg.webhook.generic,
	};
	struct webhook_config wc = WEBHOOK_CONFIG_INIT;
	struct webhook_delivery del;
	struct err err = ERR_INIT;
	enum webhook_result res;
	char *secret = NULL;
	size_t len = 0;

	if (sec[p]->source == CONFIG_SECRET_NONE) {
		respond_json_msg(conn, 404, "error", "this webhook is not configured");
		return;
	}
	if (strcmp(req->method, "POST") != 0) {
		respond_json_msg(conn, 405, "error", "webhooks are POSTed");
		return;
	}
	if (config_read_secret(sec[p], &secret, &len, &err) != 0) {
		log_error("webhook", "%s: %s", webhook_provider_names[p], err.message);
		respond_json_msg(conn, 503, "error", "the webhook secret cannot be read");
		return;
	}
	wc.provider = p;
	wc.secret = secret;
	wc.header = d->cfg.webhook.generic_header;
	wc.ref = d->cfg.ref;
	wc.max_body = d->cfg.webhook.max_body;
	res = webhook_check(&wc, req, &del);
	config_secret_free(secret, len);
	metric_inc(
	    d->m.webhook_deliveries, webhook_provider_names[p], webhook_result_names[res], NULL);
	log_msg(res == WEBHOOK_TRIGGER || res == WEBHOOK_IGNORED ? LOG_LEVEL_INFO : LOG_LEVEL_WARN,
	    "webhook", "%s from %s: %s: %s%s%s", webhook_provider_names[p], req->peer,
	    webhook_result_names[res], del.reason, del.ref[0] != '\0' ? " ref=" : "", del.ref);
	if (res == WEBHOOK_TRIGGER && d->state != DAEMON_STOPPING) {
		if (webhook_limiter_trigger(d->limiter, ev_now(d->loop))) {
			d->limiter_fetch = true;
			request_fetch(d);
		} else {
			arm_limiter(d);
		}
	}
	respond_json_msg(conn, webhook_result_status(res), "result", webhook_result_names[res]);
}

static void
request_cb(struct httpd_conn *conn, const struct httpd_request *req, void *arg)
{
	struct daemon *d = arg;
	enum webhook_provider p;
	const char *path = req->path;

	if (strncmp(path, "/hooks/", 7) == 0 && webhook_provider_parse(path + 7, &p) == 0) {
		serve_hook(d, conn, req, p);
		return;
	}
	if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
		respond_json_msg(conn, 405, "error", "method not allowed");
		return;
	}
	if (strcmp(path, "/healthz") == 0)
		respond(conn, 200, "text/plain", "ok\n", 3);
	else if (strcmp(path, "/readyz") == 0)
		respond(conn, d->ready ? 200 : 503, "text/plain",
		    d->ready ? "ready\n" : "not ready\n", d->ready ? 6 : 10);
	else if (strcmp(path, "/status") == 0)
		serve_status(d, conn);
	else if (strcmp(path, "/metrics") == 0)
		serve_metrics(d, conn);
	else
		respond_json_msg(conn, 404, "error", "not found");
}

/* A request refused before the handler: webhooks answer 413 in their JSON shape. */
static void
request_error_cb(struct httpd_conn *conn, int status, const char *reason, void *arg)
{
	struct daemon *d = arg;

	(void)d;
	respond_json_msg(conn, status, "error", reason);
}

/* --- the config: starting and reloading ------------------------------------------------- */

static void
apply_log(const struct daemon *d)
{
	bool json =
	    d->opts.log_format_set ? d->opts.log_json : d->cfg.log_format == CONFIG_LOG_JSON;

	log_init(d->opts.level, json, 2);
}

/* The git watcher, the limiter and the notifier for d->cfg (replacing any). */
static int
make_followers(struct daemon *d, struct err *err)
{
	struct gitwatch_opts go = GITWATCH_OPTS_INIT;
	struct source_auth auth;
	struct gitwatch *w = NULL;
	struct notify *n = NULL;
	char *token = NULL;
	size_t tlen = 0;
	int rc;

	memset(&auth, 0, sizeof(auth));
	auth.ssh_key_file = d->cfg.git.ssh_key_file;
	auth.known_hosts = d->cfg.git.known_hosts;
	auth.username = d->cfg.git.username;
	auth.ca_file = d->cfg.git.ca_file;
	if (d->cfg.git.token.source != CONFIG_SECRET_NONE) {
		if ((rc = config_read_secret(&d->cfg.git.token, &token, &tlen, err)) != 0)
			return rc;
		auth.token = token;
	}
	go.loop = d->loop;
	go.repo = d->cfg.repo;
	go.ref = d->cfg.ref;
	go.path = d->cfg.path;
	go.cache_dir = d->cache_dir;
	go.done = fetched_cb;
	go.arg = d;
	go.auth = &auth;
	rc = gitwatch_new(&w, &go, err);
	config_secret_free(token, tlen);
	if (rc != 0)
		return rc;
	if (d->cfg.nnotify > 0 && (rc = notify_new(&n, d->loop, d->notify_http, d->cfg.notify,
	                               d->cfg.nnotify, err)) != 0) {
		gitwatch_free(w);
		return rc;
	}
	gitwatch_free(d->watch);
	d->watch = w;
	/* A reload keeps what was already said: repeats stay suppressed. */
	if (n != NULL && d->notify != NULL)
		notify_inherit(n, d->notify);
	notify_free(d->notify);
	d->notify = n;
	webhook_limiter_free(d->limiter);
	d->limiter = webhook_limiter_new(
	    (double)d->cfg.webhook.rate, WEBHOOK_LIMITER_BURST, ev_now(d->loop));
	d->limiter_fetch = false;
	ev_timer_stop(d->loop, &d->limiter_timer);
	return 0;
}

static void
arm_drift(struct daemon *d)
{
	ev_timer_stop(d->loop, &d->drift_timer);
	if (d->cfg.drift_interval <= 0)
		return;
	ev_timer_set(&d->drift_timer, d->cfg.drift_interval, d->cfg.drift_interval);
	ev_timer_start(d->loop, &d->drift_timer);
}

static void
print_diags(const struct diags *dg)
{
	size_t i;

	for (i = 0; i < dg->n; i++)
		log_msg(dg->items[i].severity == DIAG_ERROR ? LOG_LEVEL_ERROR : LOG_LEVEL_WARN,
		    "config", "%s:%d:%d: %s", dg->items[i].path, dg->items[i].line,
		    dg->items[i].col, dg->items[i].message);
}

static void
reload(struct daemon *d)
{
	struct config nc, old;
	struct diags dg = DIAGS_INIT;
	struct allowed_signers *signers = NULL;
	struct err err = ERR_INIT;

	log_info("daemon", "SIGHUP: reloading %s", d->cfg.file);
	if (config_load(d->cfg.file, &nc, &dg) != 0) {
		diags_sort(&dg);
		print_diags(&dg);
		log_error("daemon", "%s has %zu error%s; the running config is kept", d->cfg.file,
		    dg.errors, dg.errors == 1 ? "" : "s");
		diags_free(&dg);
		return;
	}
	diags_sort(&dg);
	print_diags(&dg);
	diags_free(&dg);
	if (nc.verify.mode == CONFIG_VERIFY_SSH &&
	    allowed_signers_load(&signers, nc.verify.allowed_signers, &err) != 0) {
		log_error("daemon", "%s; the running config is kept", err.message);
		config_free(&nc);
		return;
	}
	/* What cannot change without a restart keeps its running value. */
	if (strcmp(nc.state_dir, d->cfg.state_dir) != 0) {
		log_warn(
		    "daemon", "state_dir changes only on a restart; keeping %s", d->cfg.state_dir);
		set_str(&nc.state_dir, d->cfg.state_dir);
	}
	if (strcmp(nc.listen, d->cfg.listen) != 0) {
		log_warn("daemon", "listen changes only on a restart; keeping %s", d->cfg.listen);
		set_str(&nc.listen, d->cfg.listen);
	}
	old = d->cfg;
	d->cfg = nc;
	if (make_followers(d, &err) != 0) {
		log_error("daemon", "%s; the running config is kept", err.message);
		d->cfg = old;
		config_free(&nc);
		allowed_signers_free(signers);
		return;
	}
	config_free(&old);
	allowed_signers_free(d->signers);
	d->signers = signers;
	apply_log(d);
	d->sessions_stale = true;
	if (d->state != DAEMON_RECONCILING) {
		slots_drop_sessions(d);
		d->sessions_stale = false;
	}
	arm_drift(d);
	/* The environment or the path may have changed: decide on the commit again. */
	d->force = true;
	request_fetch(d);
	log_info("daemon", "reloaded %s", d->cfg.file);
}

/* --- signals and stopping ---------------------------------------------------------------- */

static void
finish_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct daemon *d = container_of(w, struct daemon, notify_timer);

	(void)revents;
	if (d->notify != NULL && notify_pending(d->notify) > 0 &&
	    ev_now(loop) - d->pass_started < DAEMON_NOTIFY_GRACE) {
		ev_timer_set(w, 0.1, 0.0);
		ev_timer_start(loop, w);
		return;
	}
	ev_break(loop, EVBREAK_ALL);
}

/* Either the pass ended or the grace ran out: cancel what is left, drain notifications. */
static void
stop_done_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct daemon *d = container_of(w, struct daemon, stop_timer);

	(void)revents;
	if (d->pending > 0)
		log_warn("daemon", "calls still in flight after %.0fs; cancelling them",
		    DAEMON_STOP_GRACE);
	slots_drop_sessions(d);
	d->pending = 0;
	/* pass_started is reused as the start of the notification drain. */
	d->pass_started = ev_now(loop);
	ev_timer_init(&d->notify_timer, finish_cb, 0.0, 0.0);
	ev_timer_start(loop, &d->notify_timer);
}

static void
begin_stop(struct daemon *d, const char *why)
{
	if (d->state == DAEMON_STOPPING)
		return;
	set_state(d, DAEMON_STOPPING, why);
	ev_timer_stop(d->loop, &d->poll_timer);
	ev_timer_stop(d->loop, &d->drift_timer);
	ev_timer_stop(d->loop, &d->limiter_timer);
	if (d->httpd != NULL)
		httpd_shutdown(d->httpd);
	if (d->pending > 0) {
		stop_pass(d);
		ev_timer_set(&d->stop_timer, DAEMON_STOP_GRACE, 0.0);
	} else {
		ev_timer_set(&d->stop_timer, 0.0, 0.0);
	}
	ev_timer_start(d->loop, &d->stop_timer);
}

static void
signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct daemon *d = w->data;

	(void)loop;
	(void)revents;
	if (w->signum == SIGHUP) {
		if (d->state != DAEMON_STOPPING)
			reload(d);
		return;
	}
	begin_stop(d, w->signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

/* --- the public part -------------------------------------------------------------------- */

static int
daemon_start(struct daemon *d, struct err *err)
{
	struct http_engine_opts ho = HTTP_ENGINE_OPTS_INIT;
	struct httpd_opts hopts = HTTPD_OPTS_INIT;
	int rc;

	if (d->cfg.verify.mode == CONFIG_VERIFY_SSH &&
	    (rc = allowed_signers_load(&d->signers, d->cfg.verify.allowed_signers, err)) != 0)
		return rc;
	if ((rc = state_open(&d->st, d->cfg.state_dir, err)) != 0)
		return rc;
	if ((rc = manifest_open(&d->manifest, d->cfg.state_dir, err)) != 0)
		return rc;
	d->cache_dir = xasprintf("%s/repos", d->cfg.state_dir);
	d->metrics = metrics_new();
	metrics_register_tether(d->metrics, &d->m);
	metrics_set_collect(d->metrics, metrics_collect, d);
	if ((rc = http_engine_new(&d->notify_http, d->loop, &ho, err)) != 0)
		return rc;
	hopts.listen = d->cfg.listen;
	/* Webhook bodies are capped by webhook.max_body; a little more for the framing, so
	 * the webhook check answers the 413 in its own words. */
	hopts.max_body = d->cfg.webhook.max_body + 1;
	hopts.idle_timeout = 30.0;
	hopts.max_connections = 256;
	hopts.on_request = request_cb;
	hopts.on_error = request_error_cb;
	hopts.arg = d;
	if ((rc = httpd_new(&d->httpd, d->loop, &hopts, err)) != 0)
		return rc;
	if ((rc = make_followers(d, err)) != 0)
		return rc;
	log_info("daemon", "following %s%s%s; listening on http://%s; state in %s", d->cfg.repo,
	    d->cfg.ref != NULL ? " at " : "", d->cfg.ref != NULL ? d->cfg.ref : "",
	    httpd_address(d->httpd), d->cfg.state_dir);
	return 0;
}

static void
daemon_free(struct daemon *d)
{
	size_t i;

	gitwatch_free(d->watch);
	for (i = 0; i < d->nslots; i++) {
		converge_free(d->slots[i].converge);
		session_free(d->slots[i].session);
		free(d->slots[i].region);
	}
	free(d->slots);
	notify_free(d->notify);
	http_engine_free(d->notify_http);
	httpd_free(d->httpd);
	webhook_limiter_free(d->limiter);
	metrics_free(d->metrics);
	desired_free(&d->cur);
	desired_free(&d->next);
	tracks_free(d);
	free(d->changed);
	manifest_close(d->manifest);
	state_close(d->st);
	allowed_signers_free(d->signers);
	free(d->cache_dir);
	free(d->fetch_error);
	free(d->rejected_kind);
	free(d->rejected_reason);
	config_free(&d->cfg);
}

int
daemon_run(const struct daemon_opts *opts)
{
	struct daemon d;
	struct diags dg = DIAGS_INIT;
	struct err err = ERR_INIT;
	int rc = 1;

	memset(&d, 0, sizeof(d));
	d.opts = *opts;
	if (config_load(opts->config, &d.cfg, &dg) != 0) {
		diags_sort(&dg);
		diags_print(&dg, stderr);
		fprintf(stderr, "tether: %s has %zu error%s; not starting\n", opts->config,
		    dg.errors, dg.errors == 1 ? "" : "s");
		diags_free(&dg);
		return 1;
	}
	diags_sort(&dg);
	diags_print(&dg, stderr);
	diags_free(&dg);
	apply_log(&d);
	d.loop = ev_default_loop(EVFLAG_AUTO);
	ev_timer_init(&d.poll_timer, poll_cb, 0.0, 0.0);
	ev_timer_init(&d.drift_timer, drift_cb, 0.0, 0.0);
	ev_timer_init(&d.limiter_timer, limiter_cb, 0.0, 0.0);
	ev_timer_init(&d.stop_timer, stop_done_cb, 0.0, 0.0);
	ev_timer_init(&d.notify_timer, finish_cb, 0.0, 0.0);
	ev_timer_init(&d.next_timer, next_cb, 0.0, 0.0);
	ev_signal_init(&d.sighup, signal_cb, SIGHUP);
	ev_signal_init(&d.sigterm, signal_cb, SIGTERM);
	ev_signal_init(&d.sigint, signal_cb, SIGINT);
	d.sighup.data = d.sigterm.data = d.sigint.data = &d;
	if (daemon_start(&d, &err) != 0) {
		fprintf(stderr, "tether: %s\n", err.message);
		goto out;
	}
	ev_signal_start(d.loop, &d.sighup);
	ev_signal_start(d.loop, &d.sigterm);
	ev_signal_start(d.loop, &d.sigint);
	arm_drift(&d);
	request_fetch(&d);
	arm_poll(&d, d.cfg.interval * 2.0);
	ev_run(d.loop, 0);
	log_info("daemon", "stopped");
	rc = 0;
out:
	ev_signal_stop(d.loop, &d.sighup);
	ev_signal_stop(d.loop, &d.sigterm);
	ev_signal_stop(d.loop, &d.sigint);
	ev_timer_stop(d.loop, &d.poll_timer);
	ev_timer_stop(d.loop, &d.drift_timer);
	ev_timer_stop(d.loop, &d.limiter_timer);
	ev_timer_stop(d.loop, &d.stop_timer);
	ev_timer_stop(d.loop, &d.notify_timer);
	ev_timer_stop(d.loop, &d.next_timer);
	daemon_free(&d);
	ev_loop_destroy(d.loop);
	return rc;
}
