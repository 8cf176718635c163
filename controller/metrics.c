/*
 * The Prometheus registry and text exposition (format 0.0.4):
 *
 *   # HELP <name> <help, with \ and newline escaped>
 *   # TYPE <name> counter|gauge|histogram
 *   <name>{<label>="<value, with \, " and newline escaped>",...} <value>
 *
 * A histogram child is written as cumulative <name>_bucket{...,le="<bound>"} lines ending
 * with le="+Inf" (equal to _count), then <name>_sum and <name>_count.
 *
 * Children are kept in an array sorted by label values: lookup is a binary search (at most
 * ten comparisons at METRICS_CHILDREN_MAX), insertion a memmove of pointers, and rendering
 * walks the array in order, so a scrape is stable from one to the next.
 */
#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/utf8.h"
#include "common/xmalloc.h"
#include "controller/metrics.h"

const char *const metric_type_names[] = {
    [METRIC_COUNTER] = "counter",
    [METRIC_GAUGE] = "gauge",
    [METRIC_HISTOGRAM] = "histogram",
};

struct child {
	char **values; /* nlabels copies */
	double value;  /* counter, gauge */
	double sum;    /* histogram */
	uint64_t count;
	uint64_t *buckets; /* histogram: nbounds + 1 counts, not cumulative; the last is +Inf */
};

struct metric_family {
	enum metric_type type;
	char *name;
	char *help;
	char **labels;
	size_t nlabels;
	double *bounds;
	size_t nbounds;
	struct child **children; /* sorted by values */
	size_t nchildren;
	size_t children_alloc;
	uint64_t dropped;
};

struct metrics {
	struct metric_family *families[METRICS_FAMILIES_MAX];
	size_t nfamilies;
	metrics_collect_cb collect;
	void *collect_arg;
};

#define STR_(x) #x
#define STR(x) STR_(x)

/* Bucket bounds of tether's histograms, in seconds. */
static const double reconcile_bounds[] = {0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600};
static const double fetch_bounds[] = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};

static void
child_free(struct child *c, size_t nlabels)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < nlabels; i++)
		free(c->values[i]);
	free(c->values);
	free(c->buckets);
	free(c);
}

static void
family_free(struct metric_family *f)
{
	size_t i;

	if (f == NULL)
		return;
	for (i = 0; i < f->nchildren; i++)
		child_free(f->children[i], f->nlabels);
	free(f->children);
	for (i = 0; i < f->nlabels; i++)
		free(f->labels[i]);
	free(f->labels);
	free(f->bounds);
	free(f->name);
	free(f->help);
	free(f);
}

struct metrics *
metrics_new(void)
{
	return xcalloc(1, sizeof(struct metrics));
}

void
metrics_free(struct metrics *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->nfamilies; i++)
		family_free(m->families[i]);
	free(m);
}

void
metrics_set_collect(struct metrics *m, metrics_collect_cb cb, void *arg)
{
	m->collect = cb;
	m->collect_arg = arg;
}

static bool
name_char(char c, bool first, bool colon)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')
		return true;
	if (c == ':')
		return colon;
	return !first && c >= '0' && c <= '9';
}

static bool
name_valid(const char *s, bool colon)
{
	size_t i;

	if (s == NULL || s[0] == '\0' || strlen(s) > METRICS_NAME_MAX)
		return false;
	for (i = 0; s[i] != '\0'; i++) {
		if (!name_char(s[i], i == 0, colon))
			return false;
	}
	return true;
}

bool
metrics_name_valid(const char *s)
{
	return name_valid(s, true);
}

bool
metrics_label_name_valid(const char *s)
{
	return name_valid(s, false) && strncmp(s, "__", 2) != 0;
}

/* Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. */
static bool
utf8_valid(const char *str)
{
	const unsigned char *s = (const unsigned char *)str, *end = s + strlen(str);
	size_t k;

	while (s < end) {
		if ((k = utf8_len(s, (size_t)(end - s))) == 0)
			return false;
		s += k;
	}
	return true;
}

/*
 * Read NULL-terminated string arguments into out[max]. Returns how many there were, or
 * max + 1 when there were more than max (the rest is not read).
 */
static size_t
collect_args(va_list ap, const char **out, size_t max)
{
	const char *s;
	size_t n = 0;

	for (;;) {
		s = va_arg(ap, const char *);
		if (s == NULL)
			return n;
		if (n == max)
			return max + 1;
		out[n++] = s;
	}
}

static struct metric_family *
family_find(const struct metrics *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->nfamilies; i++) {
		if (strcmp(m->families[i]->name, name) == 0)
			return m->families[i];
	}
	return NULL;
}

static int
child_cmp(const char *const *a, const char *const *b, size_t n)
{
	size_t i;
	int c;

	for (i = 0; i < n; i++) {
		c = strcmp(a[i], b[i]);
		if (c != 0)
			return c;
	}
	return 0;
}

/*
 * The child with these values, or NULL with *at set to where it would be inserted.
 */
static struct child *
child_find(const struct metric_family *f, const char *const *values, size_t *at)
{
	size_t lo = 0, hi = f->nchildren, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = child_cmp(values, (const char *const *)f->children[mid]->values, f->nlabels);
		if (c == 0) {
			*at = mid;
			return f->children[mid];
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	*at = lo;
	return NULL;
}

/* The child for values, created when new; NULL (and counted) when it cannot be. */
static struct child *
child_get(struct metric_family *f, const char *const *values)
{
	struct child *c;
	size_t at, i;

	c = child_find(f, values, &at);
	if (c != NULL)
		return c;
	if (f->nchildren >= METRICS_CHILDREN_MAX)
		goto drop;
	for (i = 0; i < f->nlabels; i++) {
		if (strlen(values[i]) > METRICS_LABEL_VALUE_MAX || !utf8_valid(values[i]))
			goto drop;
	}
	c = xcalloc(1, sizeof(*c));
	c->values = xcalloc(f->nlabels > 0 ? f->nlabels : 1, sizeof(char *));
	for (i = 0; i < f->nlabels; i++)
		c->values[i] = xstrdup(values[i]);
	if (f->type == METRIC_HISTOGRAM)
		c->buckets = xcalloc(f->nbounds + 1, sizeof(uint64_t));
	if (f->nchildren == f->children_alloc) {
		f->children_alloc = f->children_alloc == 0 ? 4 : f->children_alloc * 2;
		f->children = xreallocarray(f->children, f->children_alloc, sizeof(*f->children));
	}
	memmove(f->children + at + 1, f->children + at, (f->nchildren - at) * sizeof(*f->children));
	f->children[at] = c;
	f->nchildren++;
	return c;
drop:
	f->dropped++;
	return NULL;
}

static struct metric_family *
family_register(struct metrics *m, enum metric_type type, const char *name, const char *help,
    const double *bounds, size_t nbounds, va_list ap)
{
	const char *labels[METRICS_LABELS_MAX];
	struct metric_family *f = NULL;
	size_t n, i, j;

	n = collect_args(ap, labels, METRICS_LABELS_MAX);
	if (n > METRICS_LABELS_MAX || !metrics_name_valid(name) || help == NULL ||
	    strlen(help) > METRICS_HELP_MAX || m->nfamilies >= METRICS_FAMILIES_MAX ||
	    family_find(m, name) != NULL || strcmp(name, METRICS_DROPPED_NAME) == 0)
		return NULL;
	for (i = 0; i < n; i++) {
		if (!metrics_label_name_valid(labels[i]))
			return NULL;
		if (type == METRIC_HISTOGRAM && strcmp(labels[i], "le") == 0)
			return NULL;
		for (j = 0; j < i; j++) {
			if (strcmp(labels[i], labels[j]) == 0)
				return NULL;
		}
	}
	if (type == METRIC_HISTOGRAM) {
		if (nbounds > METRICS_BUCKETS_MAX || (nbounds > 0 && bounds == NULL))
			return NULL;
		for (i = 0; i < nbounds; i++) {
			if (!isfinite(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1]))
				return NULL;
		}
	}

	f = xcalloc(1, sizeof(*f));
	f->type = type;
	f->name = xstrdup(name);
	f->help = xstrdup(help);
	f->nlabels = n;
	f->labels = xcalloc(n > 0 ? n : 1, sizeof(char *));
	for (i = 0; i < n; i++)
		f->labels[i] = xstrdup(labels[i]);
	if (type == METRIC_HISTOGRAM && nbounds > 0) {
		f->bounds = xmemdup(bounds, nbounds * sizeof(double));
		f->nbounds = nbounds;
	}
	m->families[m->nfamilies++] = f;
	/* Without labels the one child exists from the start, so it is exposed as 0. */
	if (n == 0)
		(void)child_get(f, NULL);
	return f;
}

struct metric_family *
metrics_counter(struct metrics *m, const char *name, const char *help, ...)
{
	struct metric_family *f;
	va_list ap;

	va_start(ap, help);
	f = family_register(m, METRIC_COUNTER, name, help, NULL, 0, ap);
	va_end(ap);
	return f;
}

struct metric_family *
metrics_gauge(struct metrics *m, const char *name, const char *help, ...)
{
	struct metric_family *f;
	va_list ap;

	va_start(ap, help);
	f = family_register(m, METRIC_GAUGE, name, help, NULL, 0, ap);
	va_end(ap);
	return f;
}

struct metric_family *
metrics_histogram(struct metrics *m, const char *name, const char *help, const double *bounds,
    size_t nbounds, ...)
{
	struct metric_family *f;
	va_list ap;

	va_start(ap, nbounds);
	f = family_register(m, METRIC_HISTOGRAM, name, help, bounds, nbounds, ap);
	va_end(ap);
	return f;
}

/* Read the label values in ap into values[METRICS_LABELS_MAX]; asserts their number. */
static void
value_args(const struct metric_family *f, va_list ap, const char **values)
{
	size_t n;

	n = collect_args(ap, values, METRICS_LABELS_MAX);
	assert(n == f->nlabels && "wrong number of label values");
	(void)n;
}

int
metric_inc(struct metric_family *f, ...)
{
	const char *values[METRICS_LABELS_MAX];
	struct child *c;
	va_list ap;

	assert(f != NULL && f->type != METRIC_HISTOGRAM);
	va_start(ap, f);
	value_args(f, ap, values);
	va_end(ap);
	c = child_get(f, values);
	if (c == NULL)
		return -1;
	c->value += 1;
	return 0;
}

int
metric_add(struct metric_family *f, double v, ...)
{
	const char *values[METRICS_LABELS_MAX];
	struct child *c;
	va_list ap;

	assert(f != NULL && f->type != METRIC_HISTOGRAM);
	va_start(ap, v);
	value_args(f, ap, values);
	va_end(ap);
	/* A counter never goes down, and NaN would stick in it forever. */
	if (f->type == METRIC_COUNTER && !(v >= 0))
		return -1;
	c = child_get(f, values);
	if (c == NULL)
		return -1;
	c->value += v;
	return 0;
}

int
metric_set(struct metric_family *f, double v, ...)
{
	const char *values[METRICS_LABELS_MAX];
	struct child *c;
	va_list ap;

	assert(f != NULL && f->type == METRIC_GAUGE);
	va_start(ap, v);
	value_args(f, ap, values);
	va_end(ap);
	c = child_get(f, values);
	if (c == NULL)
		return -1;
	c->value = v;
	return 0;
}

int
metric_observe(struct metric_family *f, double v, ...)
{
	const char *values[METRICS_LABELS_MAX];
	struct child *c;
	va_list ap;
	size_t i;

	assert(f != NULL && f->type == METRIC_HISTOGRAM);
	va_start(ap, v);
	value_args(f, ap, values);
	va_end(ap);
	if (isnan(v))
		return -1;
	c = child_get(f, values);
	if (c == NULL)
		return -1;
	for (i = 0; i < f->nbounds && v > f->bounds[i]; i++)
		;
	c->buckets[i]++;
	c->count++;
	c->sum += v;
	return 0;
}

const char *
metric_name(const struct metric_family *f)
{
	return f->name;
}

const char *const *
metric_labels(const struct metric_family *f, size_t *n)
{
	*n = f->nlabels;
	return (const char *const *)f->labels;
}

size_t
metric_children(const struct metric_family *f)
{
	return f->nchildren;
}

uint64_t
metric_dropped(const struct metric_family *f)
{
	return f->dropped;
}

int
metrics_format_double(struct buf *out, double v)
{
	char s[64];
	int prec;

	if (isnan(v))
		return buf_puts(out, "NaN");
	if (isinf(v))
		return buf_puts(out, v > 0 ? "+Inf" : "-Inf");
	/* The shortest of %.15g..%.17g that reads back as v: 0.1 stays "0.1". */
	for (prec = 15; prec <= 17; prec++) {
		if (snprintf(s, sizeof(s), "%.*g", prec, v) >= (int)sizeof(s))
			return -1;
		if (strtod(s, NULL) == v)
			break;
	}
	return buf_puts(out, s);
}

/* HELP escapes backslash and newline; label values also escape the double quote. */
static int
put_escaped(struct buf *out, const char *s, bool quote)
{
	size_t run;

	while (*s != '\0') {
		run = strcspn(s, quote ? "\\\n\"" : "\\\n");
		if (buf_append(out, s, run) != 0)
			return -1;
		s += run;
		if (*s == '\0')
			break;
		if (buf_puts(out, *s == '\n' ? "\\n" : *s == '"' ? "\\\"" : "\\\\") != 0)
			return -1;
		s++;
	}
	return 0;
}

/* "{a="x",b="y"", without the closing brace, or "" without labels and le. */
static int
put_labels(struct buf *out, const struct metric_family *f, const struct child *c)
{
	size_t i;

	for (i = 0; i < f->nlabels; i++) {
		if (buf_printf(out, "%s%s=\"", i == 0 ? "{" : ",", f->labels[i]) != 0 ||
		    put_escaped(out, c->values[i], true) != 0 || buf_putc(out, '"') != 0)
			return -1;
	}
	return 0;
}

static int
put_sample(struct buf *out, const struct metric_family *f, const struct child *c,
    const char *suffix, double v)
{
	if (buf_puts(out, f->name) != 0 || buf_puts(out, suffix) != 0 ||
	    put_labels(out, f, c) != 0 || (f->nlabels > 0 && buf_putc(out, '}') != 0) ||
	    buf_putc(out, ' ') != 0 || metrics_format_double(out, v) != 0 ||
	    buf_putc(out, '\n') != 0)
		return -1;
	return 0;
}

static int
put_bucket(
    struct buf *out, const struct metric_family *f, const struct child *c, double le, uint64_t n)
{
	if (buf_puts(out, f->name) != 0 || buf_puts(out, "_bucket") != 0 ||
	    put_labels(out, f, c) != 0 ||
	    buf_puts(out, f->nlabels > 0 ? ",le=\"" : "{le=\"") != 0 ||
	    metrics_format_double(out, le) != 0 ||
	    buf_printf(out, "\"} %llu\n", (unsigned long long)n) != 0)
		return -1;
	return 0;
}

static int
put_child(struct buf *out, const struct metric_family *f, const struct child *c)
{
	uint64_t cum = 0;
	size_t i;

	if (f->type != METRIC_HISTOGRAM)
		return put_sample(out, f, c, "", c->value);
	for (i = 0; i <= f->nbounds; i++) {
		cum += c->buckets[i];
		if (put_bucket(out, f, c, i < f->nbounds ? f->bounds[i] : INFINITY, cum) != 0)
			return -1;
	}
	if (put_sample(out, f, c, "_sum", c->sum) != 0 ||
	    put_sample(out, f, c, "_count", (double)c->count) != 0)
		return -1;
	return 0;
}

static int
put_header(struct buf *out, const char *name, const char *help, enum metric_type type)
{
	if (buf_printf(out, "# HELP %s ", name) != 0 || put_escaped(out, help, false) != 0 ||
	    buf_printf(out, "\n# TYPE %s %s\n", name, metric_type_names[type]) != 0)
		return -1;
	return 0;
}

int
metrics_render(struct metrics *m, struct buf *out)
{
	const struct metric_family *f;
	bool dropped = false;
	size_t i, j;

	if (m->collect != NULL)
		m->collect(m, m->collect_arg);
	for (i = 0; i < m->nfamilies; i++) {
		f = m->families[i];
		if (f->dropped > 0)
			dropped = true;
		if (f->nchildren == 0)
			continue;
		if (put_header(out, f->name, f->help, f->type) != 0)
			return -1;
		for (j = 0; j < f->nchildren; j++) {
			if (put_child(out, f, f->children[j]) != 0)
				return -1;
		}
	}
	if (!dropped)
		return 0;
	if (put_header(out, METRICS_DROPPED_NAME,
	        "Metric updates dropped because their label values were unusable or the metric "
	        "already had " STR(METRICS_CHILDREN_MAX) " label sets.",
	        METRIC_COUNTER) != 0)
		return -1;
	for (i = 0; i < m->nfamilies; i++) {
		f = m->families[i];
		if (f->dropped == 0)
			continue;
		if (buf_printf(out, METRICS_DROPPED_NAME "{metric=\"%s\"} %llu\n", f->name,
		        (unsigned long long)f->dropped) != 0)
			return -1;
	}
	return 0;
}

void
metrics_register_tether(struct metrics *m, struct metrics_tether *out)
{
	memset(out, 0, sizeof(*out));
	out->reconciles = metrics_counter(m, "tether_reconciles_total",
	    "Function reconciliations, by outcome: in-sync, converged, reported, suspended, "
	    "blocked, failed.",
	    "result", NULL);
	out->reconcile_duration = metrics_histogram(m, "tether_reconcile_duration_seconds",
	    "Duration of reconcile passes over every managed function.", reconcile_bounds,
	    nitems(reconcile_bounds), NULL);
	out->drift_detections = metrics_counter(m, "tether_drift_detections_total",
	    "Live state found differing from the desired state, by function and kind.", "function",
	    "kind", NULL);
	out->api_requests = metrics_counter(m, "tether_api_requests_total",
	    "Lambda API requests, by operation and HTTP status (\"error\" without a response).",
	    "operation", "status", NULL);
	out->api_throttles = metrics_counter(m, "tether_api_throttles_total",
	    "Lambda API requests answered with a throttling error, by operation.", "operation",
	    NULL);
	out->api_bucket_tokens = metrics_gauge(m, "tether_api_bucket_tokens",
	    "Tokens available in each API rate-limit bucket.", "bucket", NULL);
	out->git_fetch_duration = metrics_histogram(m, "tether_git_fetch_duration_seconds",
	    "Duration of git fetches of the desired-state repository, failed ones included.",
	    fetch_bounds, nitems(fetch_bounds), NULL);
	out->git_fetch_failures = metrics_counter(m, "tether_git_fetch_failures_total",
	    "Git fetches of the desired-state repository that failed.", NULL);
	out->last_applied_commit = metrics_gauge(m, "tether_last_applied_commit_timestamp_seconds",
	    "Commit time (Unix seconds) of the last commit whose desired state was applied.", NULL);
	out->quarantined = metrics_gauge(m, "tether_quarantined_functions",
	    "Functions whose desired digest is quarantined after a failed smoke test or canary.",
	    NULL);
	out->webhook_deliveries = metrics_counter(m, "tether_webhook_deliveries_total",
	    "Webhook deliveries, by provider and result.", "provider", "result", NULL);
	out->commits_rejected = metrics_counter(m, "tether_commits_rejected_total",
	    "Commits refused (the last good one stays enforced), by reason.", "reason", NULL);
	assert(out->commits_rejected != NULL && out->reconciles != NULL &&
	       out->reconcile_duration != NULL && out->drift_detections != NULL &&
	       out->api_requests != NULL && out->api_throttles != NULL &&
	       out->api_bucket_tokens != NULL && out->git_fetch_duration != NULL &&
	       out->git_fetch_failures != NULL && out->last_applied_commit != NULL &&
	       out->quarantined != NULL && out->webhook_deliveries != NULL);
}
