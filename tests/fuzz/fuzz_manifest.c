/*
 * Fuzz target "manifest": the manifest reader (deploy/manifest.h, manifest_read_lines() and
 * manifest_read()) over fuzzed files: partial and overlong lines, lines that are not JSON
 * objects, several monthly files; and `tether history` (text and JSON) printing what it
 * reads, as the CLI does.
 *
 * Input: byte 0 picks history's --output json (bit 0) and --function filter (bit 1). The
 * rest is framed as in fuzz.h: the unnamed leading part is manifests/2026-01.jsonl; each
 * part "=== NAME" is the file manifests/NAME (NAME without '/'; names not ending in .jsonl
 * are there to be skipped), at most MANIFEST_FILES files.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "common/err.h"
#include "common/xmalloc.h"
#include "controller/cli.h"
#include "deploy/manifest.h"
#include "tests/fuzz/fuzz.h"

#define MANIFEST_FILES 4
#define STOP 7

static char *state_dir, *manifests_dir;

struct count {
	size_t records;
	size_t stop_after; /* return STOP at this record; 0: never */
};

/*
 * controller/main.c defines this beside main(), so it is not in the controller library.
 * cmd_history() only calls it for arguments, and it is given none here.
 */
int
cli_usage_error(const char *fmt, ...)
{
	(void)fmt;
	abort();
}

static void
setup(void)
{
	int fd;

	state_dir = xasprintf("%s/state", fuzz_tmpdir());
	manifests_dir = xasprintf("%s/manifests", state_dir);
	if (mkdir(state_dir, 0700) != 0 || mkdir(manifests_dir, 0700) != 0)
		abort();
	/* `tether history` prints to stdout. */
	fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0)
		abort();
	close(fd);
}

/* Empty the manifests directory left by the previous input. */
static void
clear(void)
{
	DIR *d = opendir(manifests_dir);
	struct dirent *de;
	char *path;

	if (d == NULL)
		abort();
	for (;;) {
		de = readdir(d);
		if (de == NULL)
			break;
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		path = xasprintf("%s/%s", manifests_dir, de->d_name);
		if (unlink(path) != 0)
			abort();
		free(path);
	}
	closedir(d);
}

static int
visit_line(json_t *record, const char *line, size_t len, void *arg)
{
	struct count *c = arg;
	json_t *again;

	/* The contract: an object, and the line it was read from, exactly. */
	if (!json_is_object(record) || memchr(line, '\n', len) != NULL)
		abort();
	again = json_loadb(line, len, 0, NULL);
	if (!json_is_object(again))
		abort();
	json_decref(again);
	c->records++;
	return c->stop_after != 0 && c->records == c->stop_after ? STOP : 0;
}

static int
visit(json_t *record, void *arg)
{
	struct count *c = arg;

	if (!json_is_object(record))
		abort();
	c->records++;
	return c->stop_after != 0 && c->records == c->stop_after ? STOP : 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_parts parts;
	struct count all = {0, 0}, some = {0, 0};
	struct err err = ERR_INIT;
	struct cli cli;
	const char *name;
	size_t i, files = 0, skipped = 0;
	int rc;

	fuzz_quiet_logs();
	if (state_dir == NULL)
		setup();
	clear();
	if (size == 0)
		return 0;
	fuzz_parts_split(&parts, data + 1, size - 1);
	for (i = 0; i < parts.n && files < MANIFEST_FILES; i++) {
		name = parts.v[i].name[0] != '\0' ? parts.v[i].name : "2026-01.jsonl";
		if (strchr(name, '/') != NULL || strcmp(name, ".") == 0 ||
		    strcmp(name, "..") == 0 || strlen(name) > 64)
			continue;
		fuzz_write_file(manifests_dir, name, parts.v[i].data, parts.v[i].len, 0600);
		files++;
	}
	fuzz_parts_free(&parts);

	rc = manifest_read_lines(state_dir, visit_line, &all, &skipped, &err);
	if (rc != 0)
		abort();
	if (all.records > 0) {
		some.stop_after = (all.records + 1) / 2;
		rc = manifest_read(state_dir, visit, &some, NULL, &err);
		if (rc != STOP || some.records != some.stop_after)
			abort();
	}

	memset(&cli, 0, sizeof(cli));
	cli.state_dir = state_dir;
	cli.json = (data[0] & 1) != 0;
	cli.function = (data[0] & 2) != 0 ? "orders-api" : NULL;
	if (cmd_history(&cli, 0, NULL) != CLI_EXIT_OK)
		abort();
	return 0;
}
