/*
 * YAML text -> a tree of nodes with 1-based positions, for the desired-state loader.
 * Built on libyaml's event API with hard caps, so a hostile file costs bounded time and
 * memory: nesting depth, nodes per file, scalar length, and an alias expansion budget.
 * Anchors and aliases are allowed; an alias is not copied but points at its anchored node
 * (the tree is a DAG), and every node knows how many nodes it stands for once expanded, so
 * a "billion laughs" document is refused as soon as that number passes the budget, without
 * expanding anything. Scalars carry their YAML 1.2 core-schema type.
 */
#ifndef TETHER_RECONCILE_YAMLDOC_H
#define TETHER_RECONCILE_YAMLDOC_H

#include <stdbool.h>
#include <stddef.h>

#include "reconcile/diag.h"

#define YAMLDOC_DEPTH_MAX 64
/* Nodes in one file, an alias or a document counting as one: what bounds the time a
 * file takes to parse (tens of milliseconds at the cap). */
#define YAMLDOC_NODES_MAX 30000
#define YAMLDOC_SCALAR_MAX (64 * 1024)
/* Nodes one document may stand for with every alias expanded. */
#define YAMLDOC_EXPANDED_MAX 1000000

enum yamldoc_kind {
	YAMLDOC_SCALAR,
	YAMLDOC_SEQUENCE,
	YAMLDOC_MAPPING,
};

/* A scalar's type: plain scalars by the core schema, quoted and block scalars are strings,
 * an explicit !!str or ! tag makes a string. */
enum yamldoc_type {
	YAMLDOC_STR,
	YAMLDOC_INT,
	YAMLDOC_FLOAT,
	YAMLDOC_BOOL,
	YAMLDOC_NULL,
};

struct yamldoc_node {
	enum yamldoc_kind kind;
	enum yamldoc_type type; /* SCALAR only */
	int line;               /* 1-based */
	int col;                /* 1-based, in characters */
	char *str;              /* SCALAR: the text, NUL-terminated */
	size_t len;             /* SCALAR: bytes of str */
	/* SEQUENCE: n items. MAPPING: n pairs, items[2i] the key (always a scalar) and
	 * items[2i+1] the value. Keys are unique. */
	struct yamldoc_node **items;
	size_t n;
	size_t expanded; /* nodes this one stands for, aliases expanded (itself included) */
};

struct yamldoc_doc {
	struct yamldoc_node *root; /* NULL for an empty document ("---" with nothing, null) */
	int line;                  /* where the document starts */
	int col;
};

/* A parsed file: every document in it. Opaque; nodes are owned by it. */
struct yamldoc;

/*
 * Parse len bytes of data (UTF-8; need not be terminated). Every problem is added to diags
 * under path. Returns 0 with *out set (release with yamldoc_free()), or -1 when the text is
 * not YAML or passes a cap, with *out NULL; duplicate keys are reported but not fatal.
 */
int yamldoc_parse(
    struct yamldoc **out, const char *data, size_t len, const char *path, struct diags *diags);
/* How many documents the file holds (empty ones included). */
size_t yamldoc_count(const struct yamldoc *y);
/* Document i (< yamldoc_count()). Borrowed. */
const struct yamldoc_doc *yamldoc_get(const struct yamldoc *y, size_t i);
/* Release y and every node in it; NULL is fine. */
void yamldoc_free(struct yamldoc *y);

/* A core-schema integer scalar's value (decimal, 0o octal or 0x hex): true and *out, or
 * false when n's text is not one or does not fit a long. */
bool yamldoc_int(const struct yamldoc_node *n, long *out);
/* "a string", "an integer", "a mapping", ...: for messages. Static. */
const char *yamldoc_describe(const struct yamldoc_node *n);
/* Whether n is a scalar string (not a number, boolean or null). */
bool yamldoc_is_str(const struct yamldoc_node *n);
/* A scalar's text for a message, quoted, and cut short ("...") to fit size. Returns buf. */
const char *yamldoc_shown(const struct yamldoc_node *n, char *buf, size_t size);
/* The value of key in mapping map, or NULL; its key node in *keyp when keyp is not NULL. */
const struct yamldoc_node *yamldoc_lookup(
    const struct yamldoc_node *map, const char *key, const struct yamldoc_node **keyp);

#endif
