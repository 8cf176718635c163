/*
 * `tether observe`: read the live state tether reasons about — each function's $LATEST
 * (code, layers, managed configuration, state, RevisionId), its published versions with
 * their descriptions, and its aliases with their routing — and print it, as text or JSON.
 * Read-only: it never changes anything.
 */
#ifndef TETHER_CONTROLLER_OBSERVE_H
#define TETHER_CONTROLLER_OBSERVE_H

#include <stdbool.h>
#include <stdio.h>

#include "common/err.h"
#include "controller/session.h"

struct observe_opts {
	const char *const *functions; /* names or ARNs; none: every function in the region */
	size_t nfunctions;
	bool json;
	FILE *out;
};

/*
 * Observe and print, running the session's loop until every read is done. Returns 0, or the
 * first failure's code with err filled (what could be read is still printed).
 */
int observe_run(struct session *s, const struct observe_opts *opts, struct err *err);

#endif
