/*
 * `tether history [--state-dir DIR] [--function F] [--output text|json]`: print the
 * manifests, every action tether took, oldest first (docs/apply.md "tether history"). No
 * Lambda call, and no lock: history reads while apply or the daemon appends (a record
 * being written at that moment may show as a skipped partial line).
 *
 * Text, one line per record, fields two spaces apart:
 *   2026-11-22T10:15:02Z  orders-api  us-east-1  publish  ok  8e4f2a1c0b7e  -> 18  why
 * time to the second, function, region, action, outcome, commit (12), the change, why.
 * The change is "before -> after" as versions ("17+18@0.1" for an alias with a routing
 * version), or as images (else CodeSha256) for create_function and update_code; a side
 * that is not known is left out ("-> 18", "5 ->"), and "-" when neither is. A field that
 * is not known is "-". JSON: each record as stored, one per line.
 *
 * Exit 0; 1 when the state directory or a manifest cannot be read; 2 on usage errors.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "common/buf.h"
#include "controller/cli.h"
#include "deploy/manifest.h"
#include "deploy/state.h"

/* The change column of one record; far below a manifest line's cap. */
#define CHANGE_MAX 4096

struct history {
	const char *function; /* --function, or NULL for all */
	bool json;
	FILE *out;
};

/* A string member, or NULL when missing, null or not a string. */
static const char *
str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* s on one line: control characters become spaces (records are JSON and may hold any). */
static void
put_field(FILE *out, const char *s)
{
	const unsigned char *p;

	if (s == NULL || *s == '\0') {
		fputc('-', out);
		return;
	}
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		fputc(*p < 0x20 || *p == 0x7f ? ' ' : *p, out);
}

/* "2026-11-22T10:15:02Z" from "2026-11-22T10:15:02.481Z"; other text as it is. */
static void
put_time(FILE *out, const char *t)
{
	if (t != NULL && strlen(t) > 19 && t[10] == 'T' && t[19] == '.') {
		fprintf(out, "%.19sZ", t);
		return;
	}
	put_field(out, t);
}

/* One side of the change into b; returns false when the side says nothing. */
static bool
side_text(json_t *side, bool code, struct buf *b)
{
	const char *v, *rv;
	json_t *w;

	if (!json_is_object(side))
		return false;
	if (code) {
		v = str(side, "image");
		if (v == NULL)
			v = str(side, "code_sha256");
		return v != NULL && buf_puts(b, v) == 0;
	}
	v = str(side, "version");
	rv = str(side, "routing_version");
	if (v == NULL && rv == NULL)
		return false;
	(void)buf_puts(b, v != NULL ? v : "-");
	if (rv != NULL) {
		w = json_object_get(side, "routing_weight");
		if (json_is_number(w))
			(void)buf_printf(b, "+%s@%g", rv, json_number_value(w));
		else
			(void)buf_printf(b, "+%s", rv);
	}
	return true;
}

static void
put_change(FILE *out, json_t *rec)
{
	struct buf before = BUF_INIT(CHANGE_MAX), after = BUF_INIT(CHANGE_MAX);
	const char *action = str(rec, "action");
	bool code, hb, ha;

	code = action != NULL &&
	       (strcmp(action, "update_code") == 0 || strcmp(action, "create_function") == 0);
	hb = side_text(json_object_get(rec, "before"), code, &before);
	ha = side_text(json_object_get(rec, "after"), code, &after);
	if (hb && ha) {
		put_field(out, buf_cstr(&before));
		fputs(" -> ", out);
		put_field(out, buf_cstr(&after));
	} else if (ha) {
		fputs("-> ", out);
		put_field(out, buf_cstr(&after));
	} else if (hb) {
		put_field(out, buf_cstr(&before));
		fputs(" ->", out);
	} else {
		fputc('-', out);
	}
	buf_free(&before);
	buf_free(&after);
}

static void
print_text(FILE *out, json_t *rec)
{
	const char *commit = str(rec, "commit");

	put_time(out, str(rec, "time"));
	fputs("  ", out);
	put_field(out, str(rec, "function"));
	fputs("  ", out);
	put_field(out, str(rec, "region"));
	fputs("  ", out);
	put_field(out, str(rec, "action"));
	fputs("  ", out);
	put_field(out, str(rec, "outcome"));
	fputs("  ", out);
	if (commit != NULL && strlen(commit) > 12)
		fprintf(out, "%.12s", commit);
	else
		put_field(out, commit);
	fputs("  ", out);
	put_change(out, rec);
	fputs("  ", out);
	put_field(out, str(rec, "why"));
	fputc('\n', out);
}

static int
visit(json_t *rec, const char *line, size_t len, void *arg)
{
	struct history *h = arg;
	const char *function;

	if (h->function != NULL) {
		function = str(rec, "function");
		if (function == NULL || strcmp(function, h->function) != 0)
			return 0;
	}
	if (h->json) {
		fwrite(line, 1, len, h->out);
		fputc('\n', h->out);
	} else {
		print_text(h->out, rec);
	}
	return 0;
}

int
cmd_history(const struct cli *cli, int argc, char **argv)
{
	const char *dir = cli->state_dir != NULL ? cli->state_dir : STATE_DIR_DEFAULT;
	struct history h;
	struct err err = ERR_INIT;
	struct stat sb;

	if (argc > 0)
		return cli_usage_error(
		    "history takes no arguments (\"%s\"); use --function F", argv[0]);
	/* A mistyped --state-dir should say so rather than print an empty history. */
	if (stat(dir, &sb) != 0) {
		fprintf(stderr, "tether: %s: %s\n", dir, strerror(errno));
		return CLI_EXIT_ERROR;
	}
	if (!S_ISDIR(sb.st_mode)) {
		fprintf(stderr, "tether: %s: not a directory\n", dir);
		return CLI_EXIT_ERROR;
	}
	h.function = cli->function;
	h.json = cli->json;
	h.out = stdout;
	if (manifest_read_lines(dir, visit, &h, NULL, &err) != 0) {
		fflush(stdout);
		fprintf(stderr, "tether: %s\n", err.message);
		return CLI_EXIT_ERROR;
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "tether: cannot write the history\n");
		return CLI_EXIT_ERROR;
	}
	return CLI_EXIT_OK;
}
