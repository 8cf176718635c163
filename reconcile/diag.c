#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/utf8.h"
#include "common/xmalloc.h"
#include "reconcile/diag.h"

/*
 * A copy of s that is one line of UTF-8 text a terminal shows as it is, whatever a file
 * name or a quoted value holds: in a message line breaks become spaces; every other
 * control character (C0, DEL, C1) and every byte that is not UTF-8 is written as \xNN.
 */
static char *
printable(const char *s, bool message)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + strlen(s);
	char *out = xmalloc((size_t)(end - p) * 4 + 1), *o = out;
	size_t k, i;

	while (p < end) {
		k = utf8_len(p, (size_t)(end - p));
		if (message && (*p == '\n' || *p == '\r')) {
			*o++ = ' ';
			p++;
			continue;
		}
		if (k == 0 || *p < 0x20 || *p == 0x7f || (p[0] == 0xc2 && p[1] < 0xa0)) {
			for (i = 0; i < (k == 0 ? 1 : k); i++) {
				snprintf(o, 5, "\\x%02x", p[i]);
				o += 4;
			}
			p += k == 0 ? 1 : k;
			continue;
		}
		memcpy(o, p, k);
		o += k;
		p += k;
	}
	*o = '\0';
	return out;
}

static void
push(struct diags *d, enum diag_severity severity, const char *path, int line, int col,
    char *message)
{
	struct diag *x;

	if (d->n == d->cap) {
		d->cap = d->cap == 0 ? 16 : d->cap * 2;
		d->items = xreallocarray(d->items, d->cap, sizeof(*d->items));
	}
	x = &d->items[d->n++];
	x->severity = severity;
	x->path = printable(path != NULL ? path : "", false);
	x->line = line;
	x->col = col;
	x->message = printable(message, true);
	free(message);
	x->order = d->n - 1;
	if (severity == DIAG_ERROR)
		d->errors++;
	else
		d->warnings++;
}

void
diags_add(struct diags *d, enum diag_severity severity, const char *path, int line, int col,
    const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (d->truncated)
		return;
	if (d->n + 1 >= DIAGS_MAX) {
		d->truncated = true;
		push(d, DIAG_ERROR, path, line, col,
		    xasprintf("too many problems; stopping after %d", DIAGS_MAX - 1));
		return;
	}
	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	push(d, severity, path, line, col, msg);
}

static int
cmp_diag(const void *a, const void *b)
{
	const struct diag *x = a, *y = b;
	int c;

	c = strcmp(x->path, y->path);
	if (c != 0)
		return c;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	/* Stable: equal positions keep the order they were found in. */
	return x->order < y->order ? -1 : x->order > y->order;
}

void
diags_sort(struct diags *d)
{
	struct diag last;

	if (d->n < 2)
		return;
	/* The "too many problems" line stays last. */
	if (d->truncated) {
		last = d->items[d->n - 1];
		qsort(d->items, d->n - 1, sizeof(*d->items), cmp_diag);
		d->items[d->n - 1] = last;
		return;
	}
	qsort(d->items, d->n, sizeof(*d->items), cmp_diag);
}

void
diags_print(const struct diags *d, FILE *out)
{
	const struct diag *x;
	size_t i;

	for (i = 0; i < d->n; i++) {
		x = &d->items[i];
		if (x->path[0] != '\0')
			fprintf(out, "%s:%d:%d: ", x->path, x->line, x->col);
		fprintf(out, "%s%s\n", x->severity == DIAG_WARNING ? "warning: " : "", x->message);
	}
}

void
diags_free(struct diags *d)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		free(d->items[i].path);
		free(d->items[i].message);
	}
	free(d->items);
	memset(d, 0, sizeof(*d));
}
