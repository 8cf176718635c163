/*
 * The command line: options shared by every command, and one function per command
 * (controller/cmd_<name>.c). Options may appear before or after the command.
 */
#ifndef TETHER_CONTROLLER_CLI_H
#define TETHER_CONTROLLER_CLI_H

#include <stdbool.h>

#include "common/log.h"
#include "controller/session.h"

/* Exit statuses. plan also uses CLI_EXIT_CHANGES. */
#define CLI_EXIT_OK 0
#define CLI_EXIT_ERROR 1
#define CLI_EXIT_USAGE 2
#define CLI_EXIT_CHANGES \
	2 /* tether plan: changes are pending (like terraform -detailed-exitcode) */

struct cli {
	struct session_opts session; /* --endpoint, --region, --profile, --ca-file, --api-rps */
	const char *repo;            /* --repo URL|PATH */
	const char *ref;             /* --ref REF */
	const char *env;             /* --env ENV: the environments/<env>.yaml overlay */
	const char *path;      /* --path DIR: the desired state's folder inside the repository */
	const char *state_dir; /* --state-dir DIR; NULL: STATE_DIR_DEFAULT where one is used */
	const char *function;  /* --function F (history) */
	const char *account;   /* --account ID (iam-policy) */
	long concurrency;      /* --concurrency N (apply); 0: the default */
	bool json;             /* --output json */
	bool verbose;          /* -v */
	bool log_json;         /* --log-format json */
	bool log_format_set;   /* --log-format was given */
	const char *config;    /* --config FILE (run) */
	bool check;            /* --check (run): check the config and exit */
	bool no_timestamp;     /* --no-timestamp (tag) */
	bool long_hash;        /* --long (tag): all 64 hex */
	enum log_level level;
};

/* Each command gets its positional arguments (argv[0] is the first one, not the command). */
int cmd_observe(const struct cli *cli, int argc, char **argv);
int cmd_validate(const struct cli *cli, int argc, char **argv);
int cmd_plan(const struct cli *cli, int argc, char **argv);
int cmd_apply(const struct cli *cli, int argc, char **argv);
int cmd_history(const struct cli *cli, int argc, char **argv);
int cmd_status(const struct cli *cli, int argc, char **argv);
int cmd_run(const struct cli *cli, int argc, char **argv);
int cmd_tag(const struct cli *cli, int argc, char **argv);
int cmd_iam_policy(const struct cli *cli, int argc, char **argv);

/* Print "tether: <message>" and a hint to stderr; returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *fmt, ...) PRINTFLIKE(1, 2);

#endif
