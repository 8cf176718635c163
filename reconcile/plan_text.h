/*
 * Text for people, shared by the planner (each action's `why`) and the printers (the one
 * line per function of `tether plan`). Internal to reconcile/: the format is documented in
 * docs/plan.md. Every function returns an allocated string, or writes into the caller's
 * buffer.
 */
#ifndef TETHER_RECONCILE_PLAN_TEXT_H
#define TETHER_RECONCILE_PLAN_TEXT_H

#include "reconcile/observed.h"
#include "reconcile/plan.h"
#include "reconcile/spec.h"

#define PLAN_TEXT_VERSION_MAX 24
#define PLAN_TEXT_DURATION_MAX 48

/* "17", or "new" for PLAN_NEW_VERSION. */
void plan_text_version(long v, char out[PLAN_TEXT_VERSION_MAX]);
/* "5m", "1h30m", "45s". */
void plan_text_duration(long seconds, char out[PLAN_TEXT_DURATION_MAX]);
/* "image :v41 -> :v42" when only the tag or digest differs, "image A -> B" otherwise,
 * "image B" when from is unknown (NULL or ""). */
char *plan_text_image(const char *from, const char *to);
/* "code s3://b/k1 -> s3://b/k2", or "code s3://b/k2" when from is NULL. */
char *plan_text_s3(const char *from, const char *to);
/* The configuration change, fields separated by ", ": "memory 512 -> 1024, environment
 * ~LOG_LEVEL +DEBUG" (environment values are never shown: they may hold secrets). */
char *plan_text_config(const struct obs_latest *from, const struct plan_config *to);
/* The line after "name: " for one planned function (see plan_function.summary). want may
 * be NULL; have is the observation planning started from. */
char *plan_text_summary(const struct spec_function *want, const struct obs_function *have,
    const struct plan_function *pf);

#endif
