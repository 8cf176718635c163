/*
 * The daemon, `tether run` (architecture §8, docs/daemon.md): one event loop that follows a
 * git ref and converges Lambda to it, for as long as it runs.
 *
 *   fetch (interval with jitter, webhooks, after a failure with backoff)
 *     -> a new commit: verify its signature (verify: ssh), load and validate it;
 *        refused: the last good commit stays enforced, and /status, a metric, a log line
 *        and a notification say why;
 *        accepted: it becomes the enforced commit and a reconcile pass starts (a pass in
 *        progress is stopped first: its in-flight calls finish, nothing new starts);
 *   drift (every drift_interval) -> a reconcile pass over the enforced commit, whose
 *        actions are drift corrections (each function's mode: enforce, detect, suspend);
 *   HTTP (listen) -> /healthz /readyz /status /metrics /hooks/{github,gitlab,generic};
 *   SIGHUP -> reload the config (a broken one is logged and the old one kept);
 *   SIGTERM, SIGINT -> stop: in-flight calls finish (at most DAEMON_STOP_GRACE seconds),
 *        exit 0.
 *
 * One pass runs at a time. The state directory is locked for the daemon's life, so a
 * second tether on it refuses to start.
 */
#ifndef TETHER_CONTROLLER_DAEMON_H
#define TETHER_CONTROLLER_DAEMON_H

#include <stdbool.h>

#include "common/log.h"

/* Seconds a stop waits for in-flight calls (then they are cancelled), and then for
 * notifications still being delivered. */
#define DAEMON_STOP_GRACE 20.0
#define DAEMON_NOTIFY_GRACE 5.0
/* The first retry after a failed fetch, doubling up to the interval. */
#define DAEMON_FETCH_BACKOFF_MIN 1.0
/* Most bytes of /status. */
#define DAEMON_STATUS_MAX (32u << 20)
/* Most diagnostics of a refused commit kept in /status and its notification. */
#define DAEMON_REJECT_DIAGS_MAX 20

struct daemon_opts {
	const char *config; /* the config file */
	enum log_level level;
	bool log_format_set; /* --log-format was given: it wins over the config's log_format */
	bool log_json;
};

/*
 * Run the daemon until SIGTERM or SIGINT. Returns the exit status: 0 after a clean stop,
 * 1 when it cannot start (a config with errors, the state directory in use, the listen
 * address taken), with the reason on stderr.
 */
int daemon_run(const struct daemon_opts *opts);

#endif
