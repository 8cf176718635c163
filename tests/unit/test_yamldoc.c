/*
 * YAML -> node tree: core-schema types, 1-based positions, documents, anchors shared
 * rather than copied, and the caps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/compat.h"
#include "reconcile/yamldoc.h"

static struct yamldoc *
parse_ok(const char *text)
{
	struct diags d = DIAGS_INIT;
	struct yamldoc *y;

	assert_int_equal(yamldoc_parse(&y, text, strlen(text), "t.yaml", &d), 0);
	assert_int_equal(d.n, 0);
	diags_free(&d);
	return y;
}

/* The one diagnostic of a failed parse, as printed. */
static char *
parse_fail(const char *text)
{
	struct diags d = DIAGS_INIT;
	struct yamldoc *y;
	char *out;
	size_t len;
	FILE *f;

	assert_int_equal(yamldoc_parse(&y, text, strlen(text), "t.yaml", &d), -1);
	assert_null(y);
	f = open_memstream(&out, &len);
	diags_print(&d, f);
	fclose(f);
	diags_free(&d);
	return out;
}

static const struct yamldoc_node *
value(const struct yamldoc_node *map, const char *key)
{
	size_t i;

	assert_int_equal(map->kind, YAMLDOC_MAPPING);
	for (i = 0; i < map->n; i++) {
		if (strcmp(map->items[2 * i]->str, key) == 0)
			return map->items[2 * i + 1];
	}
	fail_msg("no key %s", key);
	return NULL;
}

static void
test_yamldoc__core_schema_types(void **state)
{
	static const struct {
		const char *text;
		enum yamldoc_type type;
	} ex[] = {
	    {"x: abc", YAMLDOC_STR},
	    {"x: 12", YAMLDOC_INT},
	    {"x: -12", YAMLDOC_INT},
	    {"x: +12", YAMLDOC_INT},
	    {"x: 0x1F", YAMLDOC_INT},
	    {"x: 0o17", YAMLDOC_INT},
	    {"x: 0b1", YAMLDOC_STR},
	    {"x: 1.5", YAMLDOC_FLOAT},
	    {"x: 1e3", YAMLDOC_FLOAT},
	    {"x: .5", YAMLDOC_FLOAT},
	    {"x: 1.", YAMLDOC_FLOAT},
	    {"x: -.inf", YAMLDOC_FLOAT},
	    {"x: .NaN", YAMLDOC_FLOAT},
	    {"x: -.nan", YAMLDOC_STR},
	    {"x: true", YAMLDOC_BOOL},
	    {"x: False", YAMLDOC_BOOL},
	    {"x: yes", YAMLDOC_STR},
	    {"x: on", YAMLDOC_STR},
	    {"x: ~", YAMLDOC_NULL},
	    {"x: null", YAMLDOC_NULL},
	    {"x:", YAMLDOC_NULL},
	    {"x: '12'", YAMLDOC_STR},
	    {"x: \"true\"", YAMLDOC_STR},
	    {"x: !!str 12", YAMLDOC_STR},
	    {"x: ! 12", YAMLDOC_STR},
	    {"x: !!float 1", YAMLDOC_FLOAT},
	    {"x: |\n  12\n", YAMLDOC_STR},
	    {"x: 1_000", YAMLDOC_STR},
	    {"x: 1.2.3", YAMLDOC_STR},
	    {"x: $LATEST", YAMLDOC_STR},
	};
	const struct yamldoc_doc *doc;
	struct yamldoc *y;
	size_t i;

	(void)state;
	for (i = 0; i < nitems(ex); i++) {
		y = parse_ok(ex[i].text);
		doc = yamldoc_get(y, 0);
		if (value(doc->root, "x")->type != ex[i].type)
			fail_msg("%s: type %d, want %d", ex[i].text, value(doc->root, "x")->type,
			    ex[i].type);
		yamldoc_free(y);
	}
}

static void
test_yamldoc__positions_and_documents(void **state)
{
	struct yamldoc *y;
	const struct yamldoc_doc *doc;
	const struct yamldoc_node *n;

	(void)state;
	y = parse_ok("# comment\nfunction: api\nlist:\n  - a\n  - { b: c }\n---\n"
	             "\xc3\xa9t\xc3\xa9: [x, \"y\"]\n---\n---\n- 1\n");
	assert_int_equal(yamldoc_count(y), 4);
	doc = yamldoc_get(y, 0);
	assert_int_equal(doc->root->kind, YAMLDOC_MAPPING);
	assert_int_equal(doc->root->n, 2);
	assert_int_equal(doc->root->items[0]->line, 2);
	assert_int_equal(doc->root->items[0]->col, 1);
	n = value(doc->root, "function");
	assert_int_equal(n->line, 2);
	assert_int_equal(n->col, 11);
	assert_int_equal(n->len, 3);
	n = value(doc->root, "list");
	assert_int_equal(n->kind, YAMLDOC_SEQUENCE);
	assert_int_equal(n->n, 2);
	assert_int_equal(n->items[1]->kind, YAMLDOC_MAPPING);
	assert_int_equal(n->items[1]->line, 5);
	assert_int_equal(n->items[1]->col, 5);
	/* Columns count characters, not bytes. */
	doc = yamldoc_get(y, 1);
	n = value(doc->root, "\xc3\xa9t\xc3\xa9");
	assert_int_equal(n->col, 6);
	assert_int_equal(n->items[1]->col, 10);
	/* An empty document has no root. */
	assert_null(yamldoc_get(y, 2)->root);
	assert_int_equal(yamldoc_get(y, 3)->root->kind, YAMLDOC_SEQUENCE);
	yamldoc_free(y);

	y = parse_ok("");
	assert_int_equal(yamldoc_count(y), 0);
	yamldoc_free(y);
	y = parse_ok("# only comments\n\n");
	assert_int_equal(yamldoc_count(y), 0);
	yamldoc_free(y);
}

static void
test_yamldoc__aliases_share_and_count(void **state)
{
	struct yamldoc *y;
	const struct yamldoc_node *root, *a, *b;

	(void)state;
	y = parse_ok("a: &x { k: [1, 2, 3] }\nb: *x\nc: [*x, *x]\n");
	root = yamldoc_get(y, 0)->root;
	a = value(root, "a");
	b = value(root, "b");
	/* Not copied: the same node. */
	assert_ptr_equal(a, b);
	assert_int_equal(a->expanded, 6);
	assert_ptr_equal(value(root, "c")->items[0], a);
	/* root (1) + 3 keys (3) + a (6) + b (6) + c (1 + 12) */
	assert_int_equal(root->expanded, 29);
	yamldoc_free(y);

	/* An anchor can be redefined; an alias takes the latest. */
	y = parse_ok("a: &x 1\nb: &x 2\nc: *x\n");
	assert_string_equal(value(yamldoc_get(y, 0)->root, "c")->str, "2");
	yamldoc_free(y);
}

static void
test_yamldoc__errors(void **state)
{
	char *text;

	(void)state;
	text = parse_fail("a: b\n  c: d\n");
	assert_string_equal(text, "t.yaml:2:4: syntax error: mapping values are not allowed in "
	                          "this context\n");
	free(text);
	text = parse_fail("a: [1, 2\n");
	assert_string_equal(text, "t.yaml:2:1: syntax error: did not find expected ',' or ']' "
	                          "(while parsing a flow sequence at 1:4)\n");
	free(text);
	text = parse_fail("a: *x\n");
	assert_string_equal(text, "t.yaml:1:4: undefined alias *x\n");
	free(text);
	text = parse_fail("a: &x\n  b: *x\n");
	assert_string_equal(text, "t.yaml:2:6: alias *x refers to the node that contains it\n");
	free(text);
	text = parse_fail("a: !!map [1]\n");
	assert_string_equal(
	    text, "t.yaml:1:4: unsupported YAML tag tag:yaml.org,2002:map on a sequence\n");
	free(text);
	text = parse_fail("a: !!bool yes\n");
	assert_string_equal(
	    text, "t.yaml:1:4: \"yes\" does not match its tag tag:yaml.org,2002:bool\n");
	free(text);
	text = parse_fail("a: \x01\n");
	assert_non_null(strstr(text, "t.yaml:1:4: unreadable text: control characters are not "
	                             "allowed"));
	free(text);
}

static void
test_yamldoc__duplicate_keys_are_reported_not_fatal(void **state)
{
	struct diags d = DIAGS_INIT;
	struct yamldoc *y;
	char text[2048];
	size_t i, len = 0;

	(void)state;
	/* More keys than the quadratic check handles, so the sorted path runs too. */
	for (i = 0; i < 20; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "k%zu: 1\n", i % 15);
	assert_int_equal(yamldoc_parse(&y, text, len, "t.yaml", &d), 0);
	assert_int_equal(d.errors, 5);
	diags_sort(&d);
	assert_int_equal(d.items[0].line, 16);
	assert_string_equal(d.items[0].message, "duplicate key \"k0\" (first at 1:1)");
	yamldoc_free(y);
	diags_free(&d);

	assert_int_equal(yamldoc_parse(&y, "a: 1\nb: 2\na: 3\n", 15, "t.yaml", &d), 0);
	assert_int_equal(d.errors, 1);
	assert_string_equal(d.items[0].message, "duplicate key \"a\" (first at 1:1)");
	assert_int_equal(d.items[0].line, 3);
	yamldoc_free(y);
	diags_free(&d);
}

static void
test_yamldoc__caps(void **state)
{
	char *text, *big, want[128];
	size_t n = YAMLDOC_SCALAR_MAX + 1;

	(void)state;
	big = malloc(n + 8);
	memcpy(big, "a: ", 3);
	memset(big + 3, 'x', n);
	big[3 + n] = '\n';
	big[4 + n] = '\0';
	text = parse_fail(big);
	assert_string_equal(text, "t.yaml:1:4: scalar longer than 65536 bytes\n");
	free(text);
	free(big);

	/* Many nodes: a flow sequence of YAMLDOC_NODES_MAX one-character scalars. With the
	 * document and the sequence, scalar NODES_MAX - 1 (at column 2 (NODES_MAX - 1)) is
	 * one too many. */
	n = YAMLDOC_NODES_MAX;
	big = malloc(2 * n + 8);
	big[0] = '[';
	for (size_t i = 0; i < n; i++) {
		big[1 + 2 * i] = '1';
		big[2 + 2 * i] = ',';
	}
	big[2 * n] = ']';
	big[2 * n + 1] = '\0';
	text = parse_fail(big);
	snprintf(want, sizeof(want), "t.yaml:1:%d: more than %d nodes in one file\n",
	    2 * (YAMLDOC_NODES_MAX - 1), YAMLDOC_NODES_MAX);
	assert_string_equal(text, want);
	free(text);
	free(big);

	/* The cap is per file: documents count, empty ones too ("---" and its null). */
	n = YAMLDOC_NODES_MAX / 2 + 1;
	big = malloc(4 * n + 1);
	for (size_t i = 0; i < n; i++)
		memcpy(big + 4 * i, "---\n", 4);
	big[4 * n] = '\0';
	text = parse_fail(big);
	snprintf(want, sizeof(want), "t.yaml:%d:1: more than %d nodes in one file\n",
	    YAMLDOC_NODES_MAX / 2 + 1, YAMLDOC_NODES_MAX);
	assert_string_equal(text, want);
	free(text);
	free(big);

	/* A NUL from an escape would cut the C string short: refused. */
	text = parse_fail("a: \"x\\0y\"\nb: \"\\x00\"\n");
	assert_string_equal(text, "t.yaml:1:4: a NUL character (\\0) in a scalar\n");
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_yamldoc__core_schema_types),
	    cmocka_unit_test(test_yamldoc__positions_and_documents),
	    cmocka_unit_test(test_yamldoc__aliases_share_and_count),
	    cmocka_unit_test(test_yamldoc__errors),
	    cmocka_unit_test(test_yamldoc__duplicate_keys_are_reported_not_fatal),
	    cmocka_unit_test(test_yamldoc__caps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
