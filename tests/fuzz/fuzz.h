/*
 * What every fuzz target shares: the libFuzzer entry point's prototype, and the framing
 * that splits one input into named parts. A target is built twice (tests/fuzz/CMakeLists.txt):
 * with libFuzzer under clang (TETHER_FUZZ), and with replay.c, which feeds it the checked-in
 * corpus and regressions in every build, so each of those inputs is a regression test.
 */
#ifndef TETHER_TESTS_FUZZ_FUZZ_H
#define TETHER_TESTS_FUZZ_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Run one input. Returns 0 (libFuzzer reserves other values). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Frames: an input is a run of parts, each introduced by a line "=== NAME\n" (NAME up to
 * the end of that line); bytes before the first such line form a part named "". Part
 * contents are windows into the input, not copies, and are not terminated.
 */
#define FUZZ_PARTS_MAX 32

struct fuzz_part {
	const char *name; /* NUL-terminated copy, owned by the fuzz_parts */
	const uint8_t *data;
	size_t len;
};

struct fuzz_parts {
	struct fuzz_part v[FUZZ_PARTS_MAX];
	size_t n;
};

/* Split data into parts (at most FUZZ_PARTS_MAX; the rest is ignored). */
void fuzz_parts_split(struct fuzz_parts *out, const uint8_t *data, size_t size);
void fuzz_parts_free(struct fuzz_parts *p);

/* An exact-size copy of data (no terminator, so reading past size is caught by ASan);
 * xmalloc'd, at least one byte. */
char *fuzz_copy(const uint8_t *data, size_t size);
/* A NUL-terminated copy. */
char *fuzz_strndup(const uint8_t *data, size_t size);

/*
 * A private directory made once per process under $TMPDIR (or /tmp) and removed at exit;
 * NULL when it cannot be made (the target then fails loudly: abort).
 */
const char *fuzz_tmpdir(void);
/* Write len bytes to dir/name (replacing it) with mode; aborts on failure: the harness,
 * not the code under test, is broken then. */
void fuzz_write_file(const char *dir, const char *name, const void *data, size_t len, int mode);

/* Quiet the logs: the code under test logs at info and above into /dev/null, so its
 * formatting still runs on fuzzed text without flooding the terminal. */
void fuzz_quiet_logs(void);

#endif
