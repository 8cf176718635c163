#include <assert.h>
#include <errno.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "common/xmalloc.h"
#include "reconcile/yamldoc.h"

#define ARENA_CHUNK (64 * 1024)

/* Nodes, item arrays and strings of one file come from chunks released together. */
struct chunk {
	struct chunk *next;
	size_t used;
	size_t cap;
	alignas(max_align_t) unsigned char data[];
};

struct anchor {
	const char *name; /* NULL: free slot */
	struct yamldoc_node *node;
	bool open; /* the anchored collection has not ended: an alias to it would recurse */
};

struct frame {
	struct yamldoc_node *node;
	size_t start; /* first item of this collection on the item stack */
	const char *anchor;
};

struct yamldoc {
	struct chunk *chunks;
	struct yamldoc_doc *docs;
	size_t ndocs;
	size_t capdocs;
};

/* Parser state for one file. */
struct builder {
	struct yamldoc *y;
	const char *data;
	size_t len;
	const char *path;
	struct diags *diags;
	struct frame frames[YAMLDOC_DEPTH_MAX];
	size_t depth;
	struct yamldoc_node **stack; /* items of the open collections */
	size_t nstack;
	size_t capstack;
	struct anchor *anchors; /* open addressing, power-of-two size */
	size_t nanchors;
	size_t capanchors;
	size_t nodes; /* in the file: every node, alias and document */
	struct yamldoc_node *root;
	yaml_mark_t docstart;
};

static void *
arena_alloc(struct yamldoc *y, size_t n)
{
	struct chunk *c = y->chunks;
	size_t cap;
	void *p;

	n = (n + alignof(max_align_t) - 1) & ~(alignof(max_align_t) - 1);
	if (c == NULL || c->cap - c->used < n) {
		cap = n > ARENA_CHUNK ? n : ARENA_CHUNK;
		c = xmalloc(sizeof(*c) + cap);
		c->cap = cap;
		c->used = 0;
		c->next = y->chunks;
		y->chunks = c;
	}
	p = c->data + c->used;
	c->used += n;
	return p;
}

static char *
arena_strndup(struct yamldoc *y, const char *s, size_t n)
{
	char *p = arena_alloc(y, n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* Position of a byte offset: 1-based line, and column in characters. */
static void
offset_pos(const char *data, size_t len, size_t off, int *line, int *col)
{
	size_t i;

	*line = 1;
	*col = 1;
	for (i = 0; i < off && i < len; i++) {
		if (data[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)data[i] & 0xc0) != 0x80) {
			(*col)++;
		}
	}
}

static bool
all_in(const char *s, size_t n, const char *set)
{
	size_t i;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++) {
		if (strchr(set, s[i]) == NULL)
			return false;
	}
	return true;
}

static bool
is_int(const char *s, size_t n)
{
	if (n > 2 && s[0] == '0' && s[1] == 'o')
		return all_in(s + 2, n - 2, "01234567");
	if (n > 2 && s[0] == '0' && s[1] == 'x')
		return all_in(s + 2, n - 2, "0123456789abcdefABCDEF");
	if (n > 0 && (s[0] == '-' || s[0] == '+')) {
		s++;
		n--;
	}
	return all_in(s, n, "0123456789");
}

static size_t
digits(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++;
	return i;
}

/* [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )? and the specials. */
static bool
is_float(const char *s, size_t n)
{
	static const char *const specials[] = {".inf", ".Inf", ".INF", ".nan", ".NaN", ".NAN"};
	size_t i = 0, d, k;

	if (n > 0 && (s[0] == '-' || s[0] == '+'))
		i = 1;
	for (k = 0; k < nitems(specials); k++) {
		if (n - i == 4 && memcmp(s + i, specials[k], 4) == 0)
			return k < 3 || i == 0;
	}
	d = digits(s + i, n - i);
	i += d;
	if (i < n && s[i] == '.') {
		i++;
		k = digits(s + i, n - i);
		if (d == 0 && k == 0)
			return false;
		i += k;
	} else if (d == 0) {
		return false;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '-' || s[i] == '+'))
			i++;
		k = digits(s + i, n - i);
		if (k == 0)
			return false;
		i += k;
	}
	return i == n;
}

static bool
one_of(const char *s, size_t n, const char *const *words, size_t nwords)
{
	size_t i;

	for (i = 0; i < nwords; i++) {
		if (strlen(words[i]) == n && memcmp(s, words[i], n) == 0)
			return true;
	}
	return false;
}

/* The YAML 1.2 core schema for an untagged plain scalar. */
static enum yamldoc_type
resolve_plain(const char *s, size_t n)
{
	static const char *const nulls[] = {"~", "null", "Null", "NULL"};
	static const char *const bools[] = {"true", "True", "TRUE", "false", "False", "FALSE"};

	/* Most scalars are names and words: only these first characters can start a null,
	 * a boolean or a number. */
	if (n > 0 && strchr("~nNtTfF+-.0123456789", s[0]) == NULL)
		return YAMLDOC_STR;
	if (n == 0 || one_of(s, n, nulls, nitems(nulls)))
		return YAMLDOC_NULL;
	if (one_of(s, n, bools, nitems(bools)))
		return YAMLDOC_BOOL;
	if (is_int(s, n))
		return YAMLDOC_INT;
	if (is_float(s, n))
		return YAMLDOC_FLOAT;
	return YAMLDOC_STR;
}

#define TAG_PREFIX "tag:yaml.org,2002:"

static void
fail(struct builder *b, int line, int col, const char *msg)
{
	diags_add(b->diags, DIAG_ERROR, b->path, line, col, "%s", msg);
}

/* The type of a scalar with its tag; -1 (reported) for a tag tether does not accept. */
static int
scalar_type(struct builder *b, const yaml_event_t *ev, enum yamldoc_type *out)
{
	const char *tag = (const char *)ev->data.scalar.tag;
	const char *s = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;
	int line = (int)ev->start_mark.line + 1, col = (int)ev->start_mark.column + 1;
	enum yamldoc_type plain, want;

	plain =
	    ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ? resolve_plain(s, n) : YAMLDOC_STR;
	if (tag == NULL) {
		*out = plain;
		return 0;
	}
	if (strcmp(tag, "!") == 0 || strcmp(tag, TAG_PREFIX "str") == 0) {
		*out = YAMLDOC_STR;
		return 0;
	}
	if (strcmp(tag, TAG_PREFIX "int") == 0)
		want = YAMLDOC_INT;
	else if (strcmp(tag, TAG_PREFIX "float") == 0)
		want = YAMLDOC_FLOAT;
	else if (strcmp(tag, TAG_PREFIX "bool") == 0)
		want = YAMLDOC_BOOL;
	else if (strcmp(tag, TAG_PREFIX "null") == 0)
		want = YAMLDOC_NULL;
	else {
		diags_add(b->diags, DIAG_ERROR, b->path, line, col,
		    "unsupported YAML tag %s on a scalar", tag);
		return -1;
	}
	/* An explicit tag must agree with the text: "!!int 1.5" is not an integer. */
	if (resolve_plain(s, n) != want &&
	    !(want == YAMLDOC_FLOAT && resolve_plain(s, n) == YAMLDOC_INT)) {
		diags_add(b->diags, DIAG_ERROR, b->path, line, col,
		    "\"%.*s\" does not match its tag %s", (int)(n > 64 ? 64 : n), s, tag);
		return -1;
	}
	*out = want;
	return 0;
}

static int
collection_tag(struct builder *b, const char *tag, const char *want, const yaml_mark_t *m)
{
	if (tag == NULL || strcmp(tag, "!") == 0 || strcmp(tag, want) == 0)
		return 0;
	diags_add(b->diags, DIAG_ERROR, b->path, (int)m->line + 1, (int)m->column + 1,
	    "unsupported YAML tag %s on a %s", tag,
	    strcmp(want, TAG_PREFIX "map") == 0 ? "mapping" : "sequence");
	return -1;
}

static uint64_t
hash_name(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static struct anchor *
anchor_slot(struct builder *b, const char *name)
{
	size_t i, mask;

	if (b->capanchors == 0)
		return NULL;
	mask = b->capanchors - 1;
	for (i = (size_t)hash_name(name) & mask;; i = (i + 1) & mask) {
		if (b->anchors[i].name == NULL || strcmp(b->anchors[i].name, name) == 0)
			return &b->anchors[i];
	}
}

static void
anchor_set(struct builder *b, const char *name, struct yamldoc_node *node, bool open)
{
	struct anchor *old, *a;
	size_t oldcap, i;

	if ((b->nanchors + 1) * 2 > b->capanchors) {
		old = b->anchors;
		oldcap = b->capanchors;
		b->capanchors = oldcap == 0 ? 16 : oldcap * 2;
		b->anchors = xcalloc(b->capanchors, sizeof(*b->anchors));
		for (i = 0; i < oldcap; i++) {
			if (old[i].name != NULL)
				*anchor_slot(b, old[i].name) = old[i];
		}
		free(old);
	}
	a = anchor_slot(b, name);
	if (a->name == NULL) {
		a->name = arena_strndup(b->y, name, strlen(name));
		b->nanchors++;
	}
	a->node = node;
	a->open = open;
}

static size_t
add_sat(size_t a, size_t b)
{
	return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

static void
too_many(struct builder *b, const yaml_mark_t *m)
{
	diags_add(b->diags, DIAG_ERROR, b->path, (int)m->line + 1, (int)m->column + 1,
	    "more than %d nodes in one file", YAMLDOC_NODES_MAX);
}

static struct yamldoc_node *
node_new(struct builder *b, enum yamldoc_kind kind, const yaml_mark_t *m)
{
	struct yamldoc_node *n;

	if (++b->nodes > YAMLDOC_NODES_MAX) {
		too_many(b, m);
		return NULL;
	}
	n = arena_alloc(b->y, sizeof(*n));
	memset(n, 0, sizeof(*n));
	n->kind = kind;
	n->line = (int)m->line + 1;
	n->col = (int)m->column + 1;
	n->expanded = 1;
	return n;
}

/* Attach a finished node (or an alias's target) to the open collection, or make it the
 * document's root. */
static int
attach(struct builder *b, struct yamldoc_node *n)
{
	struct frame *f;

	if (b->depth == 0) {
		b->root = n;
		return 0;
	}
	f = &b->frames[b->depth - 1];
	if (f->node->kind == YAMLDOC_MAPPING && (b->nstack - f->start) % 2 == 0 &&
	    n->kind != YAMLDOC_SCALAR) {
		fail(b, n->line, n->col, "a mapping key must be a scalar, not a collection");
		return -1;
	}
	if (b->nstack == b->capstack) {
		b->capstack = b->capstack == 0 ? 64 : b->capstack * 2;
		b->stack = xreallocarray(b->stack, b->capstack, sizeof(*b->stack));
	}
	b->stack[b->nstack++] = n;
	f->node->expanded = add_sat(f->node->expanded, n->expanded);
	return 0;
}

static int
cmp_key(const void *a, const void *b)
{
	const struct yamldoc_node *const *x = a, *const *y = b;
	int c = strcmp((*x)->str, (*y)->str);

	if (c != 0)
		return c;
	/* Same text: the one written first sorts first. */
	if ((*x)->line != (*y)->line)
		return (*x)->line < (*y)->line ? -1 : 1;
	return ((*x)->col > (*y)->col) - ((*x)->col < (*y)->col);
}

/* Report every key written twice in a mapping, at the later one. */
static void
check_duplicates(struct builder *b, const struct yamldoc_node *map)
{
	struct yamldoc_node **keys;
	size_t i, j;

	if (map->n < 2)
		return;
	if (map->n <= 8) {
		for (i = 1; i < map->n; i++) {
			for (j = 0; j < i; j++) {
				if (strcmp(map->items[2 * i]->str, map->items[2 * j]->str) == 0) {
					diags_add(b->diags, DIAG_ERROR, b->path,
					    map->items[2 * i]->line, map->items[2 * i]->col,
					    "duplicate key \"%s\" (first at %d:%d)",
					    map->items[2 * i]->str, map->items[2 * j]->line,
					    map->items[2 * j]->col);
					break;
				}
			}
		}
		return;
	}
	keys = xreallocarray(NULL, map->n, sizeof(*keys));
	for (i = 0; i < map->n; i++)
		keys[i] = map->items[2 * i];
	qsort(keys, map->n, sizeof(*keys), cmp_key);
	for (i = 1, j = 0; i < map->n; i++) {
		if (strcmp(keys[i]->str, keys[j]->str) == 0)
			diags_add(b->diags, DIAG_ERROR, b->path, keys[i]->line, keys[i]->col,
			    "duplicate key \"%s\" (first at %d:%d)", keys[i]->str, keys[j]->line,
			    keys[j]->col);
		else
			j = i;
	}
	free(keys);
}

static int
open_collection(struct builder *b, const yaml_event_t *ev, enum yamldoc_kind kind)
{
	struct yamldoc_node *n;
	const yaml_char_t *anchor, *tag;
	struct frame *f;

	if (kind == YAMLDOC_MAPPING) {
		anchor = ev->data.mapping_start.anchor;
		tag = ev->data.mapping_start.tag;
	} else {
		anchor = ev->data.sequence_start.anchor;
		tag = ev->data.sequence_start.tag;
	}
	if (collection_tag(b, (const char *)tag,
	        kind == YAMLDOC_MAPPING ? TAG_PREFIX "map" : TAG_PREFIX "seq",
	        &ev->start_mark) != 0)
		return -1;
	if (b->depth == YAMLDOC_DEPTH_MAX) {
		diags_add(b->diags, DIAG_ERROR, b->path, (int)ev->start_mark.line + 1,
		    (int)ev->start_mark.column + 1, "nesting deeper than %d levels",
		    YAMLDOC_DEPTH_MAX);
		return -1;
	}
	n = node_new(b, kind, &ev->start_mark);
	if (n == NULL)
		return -1;
	f = &b->frames[b->depth++];
	f->node = n;
	f->start = b->nstack;
	f->anchor = NULL;
	if (anchor != NULL) {
		anchor_set(b, (const char *)anchor, n, true);
		f->anchor = anchor_slot(b, (const char *)anchor)->name;
	}
	return 0;
}

static int
close_collection(struct builder *b)
{
	struct frame *f = &b->frames[b->depth - 1];
	struct yamldoc_node *n = f->node;
	struct anchor *a;
	size_t count = b->nstack - f->start;

	n->items = arena_alloc(b->y, (count == 0 ? 1 : count) * sizeof(*n->items));
	if (count > 0)
		memcpy(n->items, b->stack + f->start, count * sizeof(*n->items));
	n->n = n->kind == YAMLDOC_MAPPING ? count / 2 : count;
	b->nstack = f->start;
	b->depth--;
	if (f->anchor != NULL) {
		a = anchor_slot(b, f->anchor);
		if (a->node == n)
			a->open = false;
	}
	if (n->expanded > YAMLDOC_EXPANDED_MAX) {
		diags_add(b->diags, DIAG_ERROR, b->path, n->line, n->col,
		    "aliases expand this document to more than %d nodes", YAMLDOC_EXPANDED_MAX);
		return -1;
	}
	if (n->kind == YAMLDOC_MAPPING)
		check_duplicates(b, n);
	return attach(b, n);
}

static int
scalar(struct builder *b, const yaml_event_t *ev)
{
	struct yamldoc_node *n;
	enum yamldoc_type type;

	if (ev->data.scalar.length > YAMLDOC_SCALAR_MAX) {
		diags_add(b->diags, DIAG_ERROR, b->path, (int)ev->start_mark.line + 1,
		    (int)ev->start_mark.column + 1, "scalar longer than %d bytes",
		    YAMLDOC_SCALAR_MAX);
		return -1;
	}
	/* A quoted "\0" or "\x00" escape: a C string would end there and hide the rest. */
	if (memchr(ev->data.scalar.value, '\0', ev->data.scalar.length) != NULL) {
		diags_add(b->diags, DIAG_ERROR, b->path, (int)ev->start_mark.line + 1,
		    (int)ev->start_mark.column + 1, "a NUL character (\\0) in a scalar");
		return -1;
	}
	if (scalar_type(b, ev, &type) != 0)
		return -1;
	n = node_new(b, YAMLDOC_SCALAR, &ev->start_mark);
	if (n == NULL)
		return -1;
	n->type = type;
	n->str = arena_strndup(b->y, (const char *)ev->data.scalar.value, ev->data.scalar.length);
	n->len = ev->data.scalar.length;
	if (ev->data.scalar.anchor != NULL)
		anchor_set(b, (const char *)ev->data.scalar.anchor, n, false);
	return attach(b, n);
}

static int
alias(struct builder *b, const yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	int line = (int)ev->start_mark.line + 1, col = (int)ev->start_mark.column + 1;
	struct anchor *a = anchor_slot(b, name);

	if (a == NULL || a->name == NULL) {
		diags_add(b->diags, DIAG_ERROR, b->path, line, col, "undefined alias *%s", name);
		return -1;
	}
	if (a->open) {
		diags_add(b->diags, DIAG_ERROR, b->path, line, col,
		    "alias *%s refers to the node that contains it", name);
		return -1;
	}
	if (++b->nodes > YAMLDOC_NODES_MAX) {
		too_many(b, &ev->start_mark);
		return -1;
	}
	if (a->node->expanded > YAMLDOC_EXPANDED_MAX) {
		diags_add(b->diags, DIAG_ERROR, b->path, line, col,
		    "aliases expand this document to more than %d nodes", YAMLDOC_EXPANDED_MAX);
		return -1;
	}
	return attach(b, a->node);
}

/* A document costs what a node does (an empty one too), so "---" repeated is capped. */
static int
document_start(struct builder *b, const yaml_mark_t *start)
{
	if (++b->nodes > YAMLDOC_NODES_MAX) {
		too_many(b, start);
		return -1;
	}
	if (b->anchors != NULL)
		memset(b->anchors, 0, b->capanchors * sizeof(*b->anchors));
	b->nanchors = 0;
	b->root = NULL;
	b->docstart = *start;
	return 0;
}

static void
document_end(struct builder *b)
{
	const yaml_mark_t *start = &b->docstart;
	struct yamldoc *y = b->y;
	struct yamldoc_doc *d;

	if (y->ndocs == y->capdocs) {
		y->capdocs = y->capdocs == 0 ? 4 : y->capdocs * 2;
		y->docs = xreallocarray(y->docs, y->capdocs, sizeof(*y->docs));
	}
	d = &y->docs[y->ndocs++];
	d->root = b->root;
	if (d->root != NULL && d->root->kind == YAMLDOC_SCALAR && d->root->type == YAMLDOC_NULL)
		d->root = NULL;
	d->line = (int)start->line + 1;
	d->col = (int)start->column + 1;
}

static void
syntax_error(struct builder *b, const yaml_parser_t *p)
{
	int line, col;

	if (p->error == YAML_READER_ERROR) {
		offset_pos(b->data, b->len, p->problem_offset, &line, &col);
		diags_add(b->diags, DIAG_ERROR, b->path, line, col, "unreadable text: %s",
		    p->problem != NULL ? p->problem : "invalid input");
		return;
	}
	if (p->error == YAML_MEMORY_ERROR) {
		fail(b, 1, 1, "out of memory while parsing YAML");
		return;
	}
	line = (int)p->problem_mark.line + 1;
	col = (int)p->problem_mark.column + 1;
	if (p->context != NULL)
		diags_add(b->diags, DIAG_ERROR, b->path, line, col,
		    "syntax error: %s (%s at %d:%d)", p->problem != NULL ? p->problem : "invalid",
		    p->context, (int)p->context_mark.line + 1, (int)p->context_mark.column + 1);
	else
		diags_add(b->diags, DIAG_ERROR, b->path, line, col, "syntax error: %s",
		    p->problem != NULL ? p->problem : "invalid YAML");
}

/* One event into the tree. Returns 0, or -1 (reported) to stop. */
static int
event(struct builder *b, const yaml_event_t *ev, bool *done)
{
	switch (ev->type) {
	case YAML_STREAM_END_EVENT:
		*done = true;
		return 0;
	case YAML_DOCUMENT_START_EVENT:
		return document_start(b, &ev->start_mark);
	case YAML_DOCUMENT_END_EVENT:
		document_end(b);
		return 0;
	case YAML_SCALAR_EVENT:
		return scalar(b, ev);
	case YAML_ALIAS_EVENT:
		return alias(b, ev);
	case YAML_SEQUENCE_START_EVENT:
		return open_collection(b, ev, YAMLDOC_SEQUENCE);
	case YAML_MAPPING_START_EVENT:
		return open_collection(b, ev, YAMLDOC_MAPPING);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return close_collection(b);
	default:
		return 0;
	}
}

int
yamldoc_parse(
    struct yamldoc **out, const char *data, size_t len, const char *path, struct diags *diags)
{
	struct builder b;
	yaml_parser_t p;
	yaml_event_t ev;
	bool done = false, ready;
	int rc = -1, erc;

	*out = NULL;
	memset(&b, 0, sizeof(b));
	b.y = xcalloc(1, sizeof(*b.y));
	b.data = data;
	b.len = len;
	b.path = path;
	b.diags = diags;
	ready = yaml_parser_initialize(&p) != 0;
	if (!ready) {
		fail(&b, 1, 1, "cannot initialize the YAML parser");
		goto out;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)data, len);
	while (!done) {
		if (!yaml_parser_parse(&p, &ev)) {
			syntax_error(&b, &p);
			goto out;
		}
		erc = event(&b, &ev, &done);
		yaml_event_delete(&ev);
		if (erc != 0)
			goto out;
	}
	rc = 0;
out:
	if (ready)
		yaml_parser_delete(&p);
	free(b.stack);
	free(b.anchors);
	if (rc == 0)
		*out = b.y;
	else
		yamldoc_free(b.y);
	return rc;
}

size_t
yamldoc_count(const struct yamldoc *y)
{
	return y->ndocs;
}

const struct yamldoc_doc *
yamldoc_get(const struct yamldoc *y, size_t i)
{
	assert(i < y->ndocs);
	return &y->docs[i];
}

void
yamldoc_free(struct yamldoc *y)
{
	struct chunk *c, *next;

	if (y == NULL)
		return;
	for (c = y->chunks; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	free(y->docs);
	free(y);
}

const char *
yamldoc_describe(const struct yamldoc_node *n)
{
	if (n == NULL)
		return "nothing";
	if (n->kind == YAMLDOC_MAPPING)
		return "a mapping";
	if (n->kind == YAMLDOC_SEQUENCE)
		return "a sequence";
	switch (n->type) {
	case YAMLDOC_INT:
		return "an integer";
	case YAMLDOC_FLOAT:
		return "a number with a fraction";
	case YAMLDOC_BOOL:
		return "a boolean";
	case YAMLDOC_NULL:
		return "null";
	case YAMLDOC_STR:
	default:
		return "a string";
	}
}

bool
yamldoc_int(const struct yamldoc_node *n, long *out)
{
	const char *s = n->str;
	char *end;
	long v;
	int base = 10;

	if (s[0] == '0' && s[1] == 'o') {
		base = 8;
		s += 2;
	} else if (s[0] == '0' && s[1] == 'x') {
		base = 16;
		s += 2;
	}
	errno = 0;
	v = strtol(s, &end, base);
	if (errno != 0 || *end != '\0')
		return false;
	*out = v;
	return true;
}

bool
yamldoc_is_str(const struct yamldoc_node *n)
{
	return n->kind == YAMLDOC_SCALAR && n->type == YAMLDOC_STR;
}

const char *
yamldoc_shown(const struct yamldoc_node *n, char *buf, size_t size)
{
	if (n->len + 3 > size)
		snprintf(buf, size, "\"%.*s...\"", (int)(size - 6), n->str);
	else
		snprintf(buf, size, "\"%s\"", n->str);
	return buf;
}

const struct yamldoc_node *
yamldoc_lookup(const struct yamldoc_node *map, const char *key, const struct yamldoc_node **keyp)
{
	size_t i;

	for (i = 0; i < map->n; i++) {
		if (strcmp(map->items[2 * i]->str, key) == 0) {
			if (keyp != NULL)
				*keyp = map->items[2 * i];
			return map->items[2 * i + 1];
		}
	}
	return NULL;
}
