/*
 * `tether tag [--no-timestamp] [--long] [--output text|json] DIR...`: print the content tag
 * of source folders, for container image tags (docs/tag.md; the hash is defined in
 * controller/tag.h). No AWS call, no state directory.
 *
 * Text: one line, "YYYYMMDD-HHMMSS-<8 hex>" (UTC; SOURCE_DATE_EPOCH when set, else now),
 * "<8 hex>" with --no-timestamp, 64 hex instead of 8 with --long. JSON: one object
 * {"tag": ..., "hash": <64 hex>, "files": N, "timestamp": "YYYYMMDD-HHMMSS" or null}.
 *
 * Exit 0; 1 when a DIR or a file cannot be hashed or SOURCE_DATE_EPOCH is malformed
 * ("tether: tag: PATH: reason"); 2 on usage errors (no DIR).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "common/jsonw.h"
#include "controller/cli.h"
#include "controller/tag.h"

/* The JSON line: a tag, a hash, a count and a timestamp. */
#define TAG_JSON_MAX 512

static int
print_json(const char *tag, const char *hash, size_t nfiles, const char *timestamp)
{
	struct buf out;
	struct jsonw w;
	int rc = 0;

	buf_init(&out, TAG_JSON_MAX);
	jsonw_init(&w, &out);
	jsonw_object_open(&w);
	jsonw_kstr(&w, "tag", tag);
	jsonw_kstr(&w, "hash", hash);
	jsonw_kint(&w, "files", (int64_t)nfiles);
	jsonw_kstr_null(&w, "timestamp", timestamp);
	jsonw_object_close(&w);
	if (jsonw_failed(&w)) {
		fprintf(stderr, "tether: tag: the output exceeds %d bytes\n", TAG_JSON_MAX);
		rc = -1;
	} else {
		printf("%s\n", buf_cstr(&out));
	}
	buf_free(&out);
	return rc;
}

int
cmd_tag(const struct cli *cli, int argc, char **argv)
{
	struct err err = ERR_INIT;
	char hash[TAG_HASH_HEX_LEN + 1], ts[TAG_TIMESTAMP_LEN + 1];
	char tag[TAG_TIMESTAMP_LEN + 1 + TAG_HASH_HEX_LEN + 1];
	int hexlen = cli->long_hash ? TAG_HASH_HEX_LEN : TAG_SHORT_HEX_LEN;
	size_t nfiles = 0;
	int r;

	if (argc < 1)
		return cli_usage_error("%s", "tag: name at least one DIR to hash");
	/* The timestamp first: a malformed SOURCE_DATE_EPOCH fails before any reading. */
	if (!cli->no_timestamp &&
	    tag_timestamp(getenv("SOURCE_DATE_EPOCH"), time(NULL), ts, &err) != 0) {
		fprintf(stderr, "tether: tag: %s\n", err.message);
		return CLI_EXIT_ERROR;
	}
	if (tag_compute((const char *const *)argv, (size_t)argc, NULL, hash, &nfiles, &err) != 0) {
		fprintf(stderr, "tether: tag: %s\n", err.message);
		return CLI_EXIT_ERROR;
	}
	if (cli->no_timestamp)
		r = snprintf(tag, sizeof(tag), "%.*s", hexlen, hash);
	else
		r = snprintf(tag, sizeof(tag), "%s-%.*s", ts, hexlen, hash);
	if (r < 0 || (size_t)r >= sizeof(tag))
		return CLI_EXIT_ERROR;
	if (cli->json) {
		if (print_json(tag, hash, nfiles, cli->no_timestamp ? NULL : ts) != 0)
			return CLI_EXIT_ERROR;
	} else {
		printf("%s\n", tag);
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "tether: tag: cannot write the output\n");
		return CLI_EXIT_ERROR;
	}
	return CLI_EXIT_OK;
}
