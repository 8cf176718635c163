/*
 * A small Prometheus metrics registry and its text exposition (format 0.0.4), for the
 * daemon's /metrics (docs/metrics.md lists tether's metrics).
 *
 * A registry holds families: counters, gauges and histograms. A family has a name, a HELP
 * text and a fixed list of label names; each distinct list of label values is a child,
 * created on first use. A family holds at most METRICS_CHILDREN_MAX children: updates for
 * further label values are dropped and counted, and the counts are exposed as
 * METRICS_DROPPED_NAME{metric="<family>"} once there are any.
 *
 * Label values are passed as variadic strings ended by NULL (checked by the compiler's
 * sentinel attribute): metric_inc(reconciles, "failed", NULL). Their number must equal the
 * family's number of label names (asserted); a family without labels takes just NULL.
 *
 * The registry is not thread-safe: register, update and render from the loop thread.
 */
#ifndef TETHER_CONTROLLER_METRICS_H
#define TETHER_CONTROLLER_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

#define METRICS_FAMILIES_MAX 256
#define METRICS_LABELS_MAX 8
#define METRICS_CHILDREN_MAX 1000
#define METRICS_BUCKETS_MAX 32        /* finite bounds; +Inf is implicit */
#define METRICS_NAME_MAX 200          /* metric and label names */
#define METRICS_HELP_MAX 1024         /* HELP text */
#define METRICS_LABEL_VALUE_MAX 256   /* bytes; longer values are dropped */
#define METRICS_RENDER_MAX (8u << 20) /* a sensible cap for the buffer passed to render */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define METRICS_DROPPED_NAME "tether_metrics_series_dropped_total"

#if defined(__GNUC__)
#define METRICS_SENTINEL __attribute__((sentinel))
#else
#define METRICS_SENTINEL
#endif

enum metric_type {
	METRIC_COUNTER,
	METRIC_GAUGE,
	METRIC_HISTOGRAM,
};

extern const char *const metric_type_names[]; /* "counter", "gauge", "histogram" */

struct metrics;
struct metric_family;

/* Called by metrics_render() before it writes, to refresh gauges sampled at scrape time. */
typedef void (*metrics_collect_cb)(struct metrics *m, void *arg);

/* An empty registry; free it with metrics_free(). */
struct metrics *metrics_new(void);
/* Free the registry and every family in it (their pointers become invalid). NULL is fine. */
void metrics_free(struct metrics *m);
/* Call cb (NULL: nothing) at the start of every metrics_render(). */
void metrics_set_collect(struct metrics *m, metrics_collect_cb cb, void *arg);

/*
 * Register a counter, a gauge or a histogram; the label names follow help and end with
 * NULL. The name must match [a-zA-Z_:][a-zA-Z0-9_:]* and the label names
 * [a-zA-Z_][a-zA-Z0-9_]*, not start with "__", not repeat, and (histograms) not be "le".
 * Histogram bounds (nbounds finite values, strictly increasing, at most
 * METRICS_BUCKETS_MAX) are copied; the +Inf bucket is implicit. The strings are copied.
 * Returns the family, owned by the registry, or NULL when a name, a label name or a bound
 * is invalid, there are more than METRICS_LABELS_MAX labels, the name is already
 * registered, or the registry holds METRICS_FAMILIES_MAX families. A family without labels
 * has its one child from the start, so it is exposed (as 0) before its first update.
 */
struct metric_family *metrics_counter(
    struct metrics *m, const char *name, const char *help, ...) METRICS_SENTINEL;
struct metric_family *metrics_gauge(
    struct metrics *m, const char *name, const char *help, ...) METRICS_SENTINEL;
struct metric_family *metrics_histogram(struct metrics *m, const char *name, const char *help,
    const double *bounds, size_t nbounds, ...) METRICS_SENTINEL;

/*
 * Update the child with the given label values (then NULL), creating it on first use.
 * metric_inc adds 1 and metric_add adds v (counters and gauges; a counter refuses a
 * negative or NaN v), metric_set sets a gauge, metric_observe records v in a histogram
 * (NaN refused). Using a function on the wrong type, or passing the wrong number of label
 * values, is a programming error (asserted). Returns 0, or -1 when the update was refused
 * or dropped: a value refused as above, or a new child over METRICS_CHILDREN_MAX, with a
 * label value longer than METRICS_LABEL_VALUE_MAX or not valid UTF-8 (the last three are
 * counted in metric_dropped()).
 */
int metric_inc(struct metric_family *f, ...) METRICS_SENTINEL;
int metric_add(struct metric_family *f, double v, ...) METRICS_SENTINEL;
int metric_set(struct metric_family *f, double v, ...) METRICS_SENTINEL;
int metric_observe(struct metric_family *f, double v, ...) METRICS_SENTINEL;

/* The family's name, label names (*n of them; borrowed), number of children, and updates
 * dropped for their label values. */
const char *metric_name(const struct metric_family *f);
const char *const *metric_labels(const struct metric_family *f, size_t *n);
size_t metric_children(const struct metric_family *f);
uint64_t metric_dropped(const struct metric_family *f);

/*
 * Append the text exposition of every family to out: families in registration order, each
 * with its HELP and TYPE lines and its children sorted by label values; a family with no
 * children is left out. Returns 0, or -1 when out's cap was reached (out then holds an
 * incomplete exposition that must not be served).
 */
int metrics_render(struct metrics *m, struct buf *out);

/* Whether s is a valid metric name, and a valid label name (as registration checks). */
bool metrics_name_valid(const char *s);
bool metrics_label_name_valid(const char *s);

/*
 * Append v as the exposition writes it: the shortest "%.*g" that reads back as v, and
 * "+Inf", "-Inf", "NaN". 0 or -1 (cap).
 */
int metrics_format_double(struct buf *out, double v);

/* tether's own metrics (docs/metrics.md), registered by metrics_register_tether(). */
struct metrics_tether {
	struct metric_family *reconciles;          /* counter {result} */
	struct metric_family *reconcile_duration;  /* histogram, seconds */
	struct metric_family *drift_detections;    /* counter {function,kind} */
	struct metric_family *api_requests;        /* counter {operation,status} */
	struct metric_family *api_throttles;       /* counter {operation} */
	struct metric_family *api_bucket_tokens;   /* gauge {bucket} */
	struct metric_family *git_fetch_duration;  /* histogram, seconds */
	struct metric_family *git_fetch_failures;  /* counter */
	struct metric_family *last_applied_commit; /* gauge, Unix seconds */
	struct metric_family *quarantined;         /* gauge */
	struct metric_family *webhook_deliveries;  /* counter {provider,result} */
	struct metric_family *commits_rejected;    /* counter {reason} */
};

/*
 * Register tether's metrics in m and point out's members at them (owned by m). The
 * registry must not hold any of their names yet (asserted: the names are constants).
 */
void metrics_register_tether(struct metrics *m, struct metrics_tether *out);

#endif
