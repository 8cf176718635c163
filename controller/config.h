/*
 * The daemon's configuration file (`tether run --config FILE`, docs/config.md): one YAML
 * mapping, parsed and validated whole, every problem collected as `path:line:col: message`.
 * A config with any error is refused; a reload (SIGHUP) that fails keeps the old one.
 *
 * Secrets (webhook secrets, the git token, notification signing keys, Slack webhook URLs)
 * are never written in the file: the config names where they are (a file or an environment
 * variable) and config_read_secret() reads them when they are needed. config_load() reads
 * each one once to check it, and forgets the value.
 */
#ifndef TETHER_CONTROLLER_CONFIG_H
#define TETHER_CONTROLLER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "common/err.h"
#include "reconcile/diag.h"

/* Most bytes in the config file. */
#define CONFIG_FILE_MAX (256 * 1024)
/* Most bytes in a secret, file or variable (before its trailing newline is stripped). */
#define CONFIG_SECRET_MAX 4096
/* Most notification targets. */
#define CONFIG_NOTIFY_MAX 32

#define CONFIG_INTERVAL_DEFAULT 60.0
#define CONFIG_INTERVAL_MIN 5.0
#define CONFIG_INTERVAL_MAX 86400.0
#define CONFIG_JITTER_DEFAULT 0.1
#define CONFIG_JITTER_MAX 0.5
#define CONFIG_DRIFT_INTERVAL_DEFAULT 300.0
#define CONFIG_DRIFT_INTERVAL_MIN 10.0
#define CONFIG_DRIFT_INTERVAL_MAX 86400.0
#define CONFIG_STATE_DIR_DEFAULT ".tether"
#define CONFIG_LISTEN_DEFAULT "127.0.0.1:9180"
#define CONFIG_CONCURRENCY_DEFAULT 8
#define CONFIG_CONCURRENCY_MAX 256
#define CONFIG_API_RPS_MAX 1000.0
#define CONFIG_GIT_USERNAME_DEFAULT "x-access-token"
#define CONFIG_WEBHOOK_HEADER_DEFAULT "X-Tether-Signature-256"
#define CONFIG_WEBHOOK_BODY_DEFAULT (1024 * 1024)
#define CONFIG_WEBHOOK_BODY_MIN 1024
#define CONFIG_WEBHOOK_BODY_MAX (25 * 1024 * 1024)
#define CONFIG_WEBHOOK_RATE_DEFAULT 30
#define CONFIG_WEBHOOK_RATE_MAX 600

enum config_secret_source {
	CONFIG_SECRET_NONE, /* not configured */
	CONFIG_SECRET_FILE,
	CONFIG_SECRET_ENV,
};

/* Where a secret is; never the secret itself. */
struct config_secret {
	enum config_secret_source source;
	char *name;  /* FILE: the path, resolved; ENV: the variable's name */
	char *label; /* the key that set it, for messages: "webhook.github_secret_env" */
};

enum config_repo_kind {
	CONFIG_REPO_LOCAL, /* a path, resolved against the config file's directory */
	CONFIG_REPO_FILE,  /* file:// */
	CONFIG_REPO_GIT,   /* git:// */
	CONFIG_REPO_HTTP,  /* http:// */
	CONFIG_REPO_HTTPS, /* https:// */
	CONFIG_REPO_SSH,   /* ssh:// or scp-like [user@]host:path */
};

enum config_log_format {
	CONFIG_LOG_TEXT,
	CONFIG_LOG_JSON,
};

enum config_verify_mode {
	CONFIG_VERIFY_NONE,
	CONFIG_VERIFY_SSH, /* SSH signatures against allowed_signers */
};

enum config_notify_kind {
	CONFIG_NOTIFY_SLACK,
	CONFIG_NOTIFY_GENERIC,
};

/* What a notification target hears about; bit (1u << event) in config_notify.events. */
enum config_event {
	CONFIG_EVENT_DEPLOYED,
	CONFIG_EVENT_FAILED,
	CONFIG_EVENT_DRIFT_CORRECTED,
	CONFIG_EVENT_QUARANTINED,
	CONFIG_EVENT_COMMIT_REJECTED,
	CONFIG_EVENT_COUNT,
};

#define CONFIG_EVENTS_ALL ((1u << CONFIG_EVENT_COUNT) - 1)

/* "deployed", "failed", ...: the names the config uses. */
extern const char *const config_event_names[CONFIG_EVENT_COUNT];

struct config_git {
	char *ssh_key_file; /* NULL: the SSH agent */
	char *known_hosts;  /* NULL: ~/.ssh/known_hosts as libgit2 finds it */
	struct config_secret token;
	char *ca_file;  /* NULL: the system's trust anchors */
	char *username; /* for HTTPS token auth; never NULL */
};

struct config_webhook {
	struct config_secret github;  /* /hooks/github is served when set */
	struct config_secret gitlab;  /* /hooks/gitlab */
	struct config_secret generic; /* /hooks/generic */
	char *generic_header;         /* never NULL */
	size_t max_body;              /* bytes */
	int rate;                     /* fetches webhooks may trigger per minute */
};

struct config_verify {
	enum config_verify_mode mode;
	char *allowed_signers; /* SSH: the allowed signers file, resolved; else NULL */
};

struct config_notify {
	enum config_notify_kind kind;
	char *url;                       /* written in the config; NULL when url_secret is set */
	struct config_secret url_secret; /* url_file / url_env: the URL is the credential */
	unsigned events;                 /* bits of enum config_event */
	struct config_secret secret;     /* HMAC signing key (generic); NONE: unsigned */
};

/* Every value resolved: defaults filled, paths absolute. Strings are owned by it. */
struct config {
	char *file; /* the config file, as given to config_load() */
	char *dir;  /* its directory, absolute: where relative paths start */

	char *repo; /* a URL as written, or an absolute local path */
	enum config_repo_kind repo_kind;
	char *ref;             /* NULL: the remote's HEAD */
	bool ref_is_commit;    /* ref is a 40-hex commit id */
	char *path;            /* the desired state's folder in the repository, normalized; "" */
	char *environment;     /* the environments/<env>.yaml overlay; NULL: none */
	double interval;       /* seconds between fetches */
	double jitter;         /* fraction of interval */
	double drift_interval; /* seconds between drift passes; 0: off */
	char *region;          /* NULL: AWS_REGION, AWS_DEFAULT_REGION, the profile */
	char *endpoint;        /* NULL: AWS_ENDPOINT_URL_LAMBDA, ..., the default */
	char *state_dir;       /* absolute */
	char *listen;          /* "host:port" or "[v6]:port" */
	bool listen_loopback;  /* the listen address is a loopback one */
	int concurrency;
	double api_rps; /* 0: no cap beyond Lambda's own */
	enum config_log_format log_format;
	bool has_log_format; /* log_format was written (the command line may override it) */
	struct config_git git;
	struct config_webhook webhook;
	struct config_verify verify;
	struct config_notify *notify;
	size_t nnotify;
};

/*
 * Read, parse and validate the config file at path. Every problem goes to diags (errors and
 * warnings, positioned at path:line:col); files the config names must exist, and every
 * secret is read once to check it (its value is not kept). Returns 0 with *out filled
 * (release with config_free()), or -1 when there is any error, with *out zeroed.
 */
int config_load(const char *path, struct config *out, struct diags *diags);
/*
 * config_load() on text (len bytes; need not be NUL-terminated) as the content of the file
 * at path, which is not read: path names it in diagnostics and its directory is where
 * relative paths start. The files the config names are checked and its secrets read as
 * config_load() does. Same results.
 */
int config_parse(
    const char *path, const char *text, size_t len, struct config *out, struct diags *diags);
/* Release what c holds and zero it. NULL is fine. */
void config_free(struct config *c);
/*
 * Print c normalized, every key with its resolved value, one per line in YAML form.
 * Secrets appear only as their source ("github_secret: env GITHUB_SECRET"), notification
 * URLs without their path and query (which may carry a token).
 */
void config_print(const struct config *c, FILE *out);
/*
 * `tether run --check`: load path, print its diagnostics sorted, then (with print, when
 * valid) config_print(), then one summary line: "valid: FILE[, N warnings]" or "invalid:
 * N errors, M warnings". Returns 0 when valid (warnings allowed), else -1.
 */
int config_check(const char *path, bool print, FILE *out);

/*
 * Read the secret s names: a file (at most CONFIG_SECRET_MAX bytes; a file that group or
 * others may access is read, with a warning logged) or an environment variable. Trailing
 * newlines (\n, \r\n) are stripped; what remains must be non-empty and one line without NUL
 * bytes. Returns 0 with *out allocated and NUL-terminated and *len its length (release
 * with config_secret_free(), which wipes it), or ERR_NOTFOUND (no such file or variable),
 * ERR_TOOBIG, ERR_INVALID (empty, several lines, NONE) or ERR_FAIL, with err filled; the
 * message names s->label and never holds the value.
 */
int config_read_secret(const struct config_secret *s, char **out, size_t *len, struct err *err);
/* Wipe len bytes of a secret and free it. NULL is fine. */
void config_secret_free(char *secret, size_t len);

#endif
