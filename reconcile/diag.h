/*
 * Diagnostics: every problem found while loading or validating, each with its position, as
 * "path:line:col: message" (1-based line and column) or "path:line:col: warning: message".
 * Validation collects all of them instead of stopping at the first; a desired state with
 * any error is rejected whole.
 */
#ifndef TETHER_RECONCILE_DIAG_H
#define TETHER_RECONCILE_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "common/compat.h"

/* After this many, one last "too many errors" diagnostic ends the list. */
#define DIAGS_MAX 1000

enum diag_severity {
	DIAG_ERROR,
	DIAG_WARNING,
};

struct diag {
	enum diag_severity severity;
	char *path; /* "functions/api.yaml"; "" when not about a file */
	int line;   /* 1-based; 0 when unknown */
	int col;    /* 1-based; 0 when unknown */
	char *message;
	size_t order; /* insertion order, so sorting keeps equal positions stable */
};

struct diags {
	struct diag *items;
	size_t n;
	size_t cap;
	size_t errors;
	size_t warnings;
	bool truncated; /* DIAGS_MAX was reached */
};

#define DIAGS_INIT                      \
	{                               \
		NULL, 0, 0, 0, 0, false \
	}

/*
 * Add a diagnostic (path NULL or "" when it is about no file). Path and message are stored
 * as one printable line whatever a file name or a quoted value holds: line breaks in the
 * message become spaces, other control characters and bytes that are not UTF-8 are written
 * as \xNN. Past DIAGS_MAX the list is truncated and further calls do nothing: callers may
 * check d->truncated to skip work whose only result would be a diagnostic.
 */
void diags_add(struct diags *d, enum diag_severity severity, const char *path, int line, int col,
    const char *fmt, ...) PRINTFLIKE(6, 7);
/* Order by path, line, column, then insertion, so output is stable. */
void diags_sort(struct diags *d);
/* One line per diagnostic, as described above. */
void diags_print(const struct diags *d, FILE *out);
void diags_free(struct diags *d);

#endif
