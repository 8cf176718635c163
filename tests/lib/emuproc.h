/*
 * tether-emulator as a child process, for C tests and benchmarks: start it on a free
 * loopback port (--listen 127.0.0.1:0 --port-file), wait until it listens, talk to its
 * admin API, read its access log, and stop it by PID. A nonzero exit status (an ASan leak
 * report, a crash) makes emuproc_stop() fail, so the test that started it fails too.
 *
 * The helpers block (they are for test code, outside any event loop callback).
 */
#ifndef TETHER_TESTS_LIB_EMUPROC_H
#define TETHER_TESTS_LIB_EMUPROC_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "common/err.h"

#define EMUPROC_ARGS_MAX 32
#define EMUPROC_DIR_MAX 1024
#define EMUPROC_ADMIN_RESPONSE_MAX (1024 * 1024)
#define EMUPROC_ACCESS_LOG_MAX (64 * 1024 * 1024)

struct emuproc {
	pid_t pid; /* 0 when not running */
	int port;
	char endpoint[64];         /* "http://127.0.0.1:PORT" */
	char dir[EMUPROC_DIR_MAX]; /* private temporary directory, removed by emuproc_stop() */
	char access_log[PATH_MAX]; /* "" unless opts.access_log */
};

struct emuproc_opts {
	const char *binary;      /* NULL: $TETHER_EMULATOR */
	const char *const *args; /* extra arguments, e.g. {"--throttle-rps", "15"} */
	size_t nargs;
	bool access_log;      /* add --access-log <dir>/access.log */
	double start_timeout; /* seconds to wait for the port file; 0: 30 */
};

#define EMUPROC_OPTS_INIT                 \
	{                                 \
		NULL, NULL, 0, false, 0.0 \
	}

/* One line of the access log. */
struct emuproc_access {
	uint64_t mono_ms; /* arrival, on the emulator's monotonic clock */
	char op[48];      /* "GetFunction"; "" when no operation matched */
	int status;
};

/*
 * Start the emulator and wait until it has written its port. Returns 0 with p filled, or
 * -1 with err filled (no binary, exec failure, exit before listening, timeout); nothing is
 * left running or on disk then.
 */
int emuproc_start(struct emuproc *p, const struct emuproc_opts *opts, struct err *err);
/*
 * SIGTERM the emulator, wait for it (SIGKILL after 30 s), and remove its directory.
 * Returns 0 when it exited with status 0, else -1 with err saying how it ended.
 */
int emuproc_stop(struct emuproc *p, struct err *err);
/*
 * A request to the admin API (or any path): method, path (with any query), extra header
 * lines ("Name: value"), optional body (sent as given; Content-Type: application/json when
 * headers name none). Stores the HTTP status in *status and, when body_out is not NULL,
 * the response body (free() it).
 */
int emuproc_request(const struct emuproc *p, const char *method, const char *path,
    const char *const *headers, size_t nheaders, const char *body, long *status, char **body_out,
    struct err *err);
/* GET /_emulator/stats, parsed. The caller json_decref()s *out. */
int emuproc_stats(const struct emuproc *p, json_t **out, struct err *err);
/* stats["operations"][op], or 0. */
long long emuproc_stats_op(json_t *stats, const char *op);
/* PUT /_emulator/invoke: what Invoke returns for code key (image URI or CodeSha256). */
int emuproc_set_invoke(const struct emuproc *p, const char *key, const char *payload_json,
    const char *function_error, struct err *err);
/* Read the access log. The caller free()s *out. */
int emuproc_access_log(
    const struct emuproc *p, struct emuproc_access **out, size_t *n, struct err *err);

#endif
