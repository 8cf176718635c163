/*
 * tether: a GitOps controller for AWS Lambda. The command line (architecture §7).
 *
 * One table says every option once (its name, how help shows it, what it does) and one
 * table says every command (what it does, its exit status, which options it takes), so
 * `tether --help`, `tether COMMAND --help` and the check that an option applies to the
 * command all come from the same place. docs/cli.md holds every help text verbatim, and
 * tests/docs/test_cli.py keeps the two equal.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/http.h"
#include "common/log.h"
#include "controller/cli.h"

/* Options, in the order help lists them. */
enum opt {
	OPT_REPO,
	OPT_REF,
	OPT_PATH,
	OPT_ENV,
	OPT_ACCOUNT,
	OPT_ENDPOINT,
	OPT_REGION,
	OPT_PROFILE,
	OPT_CA_FILE,
	OPT_API_RPS,
	OPT_STATE_DIR,
	OPT_CONCURRENCY,
	OPT_FUNCTION,
	OPT_CONFIG,
	OPT_CHECK,
	OPT_NO_TIMESTAMP,
	OPT_LONG,
	OPT_OUTPUT,
	OPT_LOG_FORMAT,
	OPT_VERBOSE,
	OPT_HELP,
	OPT__COUNT
};

#define BIT(o) (1u << (o))
#define DESIRED (BIT(OPT_REPO) | BIT(OPT_REF) | BIT(OPT_PATH) | BIT(OPT_ENV))
#define AWS                                                                          \
	(BIT(OPT_ENDPOINT) | BIT(OPT_REGION) | BIT(OPT_PROFILE) | BIT(OPT_CA_FILE) | \
	    BIT(OPT_API_RPS))
#define COMMON (BIT(OPT_LOG_FORMAT) | BIT(OPT_VERBOSE) | BIT(OPT_HELP))

static const struct optdoc {
	const char *name;  /* the long name */
	int has_arg;       /* also -v, -h and -o, see main() */
	const char *group; /* the heading of `tether --help` it is listed under */
	const char *shown; /* as help shows it */
	const char *text;
} optdocs[OPT__COUNT] = {
    [OPT_REPO] = {"repo", required_argument, "Desired state", "--repo URL|PATH",
        "the git repository: a path or a URL"},
    [OPT_REF] = {"ref", required_argument, "Desired state", "--ref REF",
        "branch, tag or commit (default HEAD)"},
    [OPT_PATH] = {"path", required_argument, "Desired state", "--path DIR",
        "the desired state's folder in the repository"},
    [OPT_ENV] = {"env", required_argument, "Desired state", "--env ENV",
        "apply the environments/ENV.yaml overlay"},
    [OPT_ACCOUNT] = {"account", required_argument, "Desired state", "--account ID",
        "account of functions declared by name (12 digits)"},
    [OPT_ENDPOINT] = {"endpoint", required_argument, "AWS", "--endpoint URL",
        "Lambda endpoint (default: AWS_ENDPOINT_URL[_LAMBDA])"},
    [OPT_REGION] = {"region", required_argument, "AWS", "--region REGION",
        "AWS region (default: AWS_REGION, the profile)"},
    [OPT_PROFILE] = {"profile", required_argument, "AWS", "--profile NAME",
        "shared-config profile (default: AWS_PROFILE)"},
    [OPT_CA_FILE] = {"ca-file", required_argument, "AWS", "--ca-file FILE",
        "extra CA bundle; TLS verification is always on"},
    [OPT_API_RPS] = {"api-rps", required_argument, "AWS", "--api-rps N",
        "cap on tether's share of the 15/s Lambda quota"},
    [OPT_STATE_DIR] = {"state-dir", required_argument, "Other", "--state-dir DIR",
        "tether's state directory (default ./.tether)"},
    [OPT_CONCURRENCY] = {"concurrency", required_argument, "Other", "--concurrency N",
        "functions converged at once, 1..256 (default 8)"},
    [OPT_FUNCTION] = {"function", required_argument, "Other", "--function F",
        "only this function's records"},
    [OPT_CONFIG] = {"config", required_argument, "Other", "--config FILE",
        "the daemon's config (docs/config.md)"},
    [OPT_CHECK] = {"check", no_argument, "Other", "--check",
        "check the config, print every problem, exit"},
    [OPT_NO_TIMESTAMP] = {"no-timestamp", no_argument, "Other", "--no-timestamp",
        "only the content hash, without the time"},
    [OPT_LONG] = {"long", no_argument, "Other", "--long", "all 64 hex digits of the hash"},
    [OPT_OUTPUT] = {"output", required_argument, "Other", "-o, --output text|json",
        "output format (default text)"},
    [OPT_LOG_FORMAT] = {"log-format", required_argument, "Other", "--log-format text|json",
        "log format on stderr (default text)"},
    [OPT_VERBOSE] = {"verbose", no_argument, "Other", "-v, --verbose",
        "more detail (logs at debug level)"},
    [OPT_HELP] = {"help", no_argument, "Other", "-h, --help", "this help"},
};

static int cmd_version(const struct cli *, int, char **);
static int cmd_help(const struct cli *, int, char **);

static const struct command {
	const char *name;
	int (*run)(const struct cli *, int, char **);
	unsigned opts;        /* the options it takes */
	const char *args;     /* its arguments, as the command list shows them */
	const char *summary;  /* one line for the command list */
	const char *synopsis; /* after "usage: tether " */
	const char *text;     /* what it does, then its exit status */
} commands[] = {
    {"validate", cmd_validate, DESIRED | AWS | BIT(OPT_STATE_DIR) | BIT(OPT_OUTPUT), "[DIR]",
        "check a desired state; no Lambda call",
        "validate [DIR | --repo URL|PATH [--ref REF]] [--path DIR]\n"
        "                       [--env ENV] [options]",
        "Check a desired state, from DIR (default .) or from a commit of --repo, and\n"
        "print every problem as path:line:col: message. Every overlay is checked;\n"
        "--env also applies one. -v prints the normalized desired state\n"
        "(docs/desired-state.md).\n"
        "\n"
        "Exit status: 0 valid (warnings allowed), 1 invalid, 2 usage error.\n"},
    {"plan", cmd_plan, DESIRED | AWS | BIT(OPT_STATE_DIR) | BIT(OPT_OUTPUT), "",
        "show what apply would do, and why; read calls only",
        "plan --repo URL|PATH [--ref REF] [--path DIR] [--env ENV]\n"
        "                   [options]",
        "Compare a commit's desired state with live Lambda, using read calls only, and\n"
        "print per function what apply would do and why (docs/plan.md).\n"
        "\n"
        "Exit status: 0 in sync, 2 changes pending, 1 error.\n"},
    {"apply", cmd_apply,
        DESIRED | AWS | BIT(OPT_STATE_DIR) | BIT(OPT_CONCURRENCY) | BIT(OPT_OUTPUT), "",
        "converge live functions to a commit, once",
        "apply --repo URL|PATH [--ref REF] [--path DIR] [--env ENV]\n"
        "                    [options]",
        "Converge every function the commit declares: update $LATEST, wait, smoke-test,\n"
        "publish, move aliases (canaries included), prune; append a manifest record per\n"
        "action to the state directory (docs/apply.md).\n"
        "\n"
        "Exit status: 0 every function converged or in sync, 1 any failed or is blocked.\n"},
    {"history", cmd_history, BIT(OPT_STATE_DIR) | BIT(OPT_FUNCTION) | BIT(OPT_OUTPUT), "",
        "print the manifests: every action taken", "history [--state-dir DIR] [--function F]",
        "Print the manifest records of the state directory, oldest first; no AWS call.\n"
        "--output json prints them as stored, one JSON object per line.\n"
        "\n"
        "Exit status: 0, or 1 when the state directory cannot be read.\n"},
    {"status", cmd_status, AWS | BIT(OPT_STATE_DIR) | BIT(OPT_OUTPUT), "",
        "per function: commit applied, aliases, drift, errors",
        "status [--state-dir DIR] [options]",
        "Per function in the state directory: the last commit and digest applied, where\n"
        "tether put the aliases and where they are live ((drift) when they differ), the\n"
        "last error and the quarantine. Reads aliases with read calls only.\n"
        "\n"
        "Exit status: 0, or 1 when a function's live state could not be read.\n"},
    {"observe", cmd_observe, AWS | BIT(OPT_OUTPUT), "[FUNCTION...]",
        "print live functions: $LATEST, versions, aliases", "observe [FUNCTION...] [options]",
        "Print what Lambda reports for the named functions (all of the region's when none\n"
        "is named): $LATEST, published versions, aliases and their routing\n"
        "(docs/observe.md).\n"
        "\n"
        "Exit status: 0, or 1 when Lambda could not be read.\n"},
    {"run", cmd_run, BIT(OPT_CONFIG) | BIT(OPT_CHECK), "--config FILE",
        "the daemon: follow a branch, converge, correct drift", "run [--check] --config FILE",
        "Follow a git ref, converge each new commit, correct (or report) drift, serve\n"
        "webhooks, /healthz, /readyz, /status and /metrics (docs/daemon.md). SIGHUP\n"
        "reloads the config; SIGTERM finishes in-flight calls and exits.\n"
        "\n"
        "Exit status: 0 after SIGTERM or SIGINT, 1 when it cannot start. With --check:\n"
        "0 the config is valid, 1 it is not.\n"},
    {"tag", cmd_tag, BIT(OPT_NO_TIMESTAMP) | BIT(OPT_LONG) | BIT(OPT_OUTPUT), "DIR...",
        "print the content tag of source folders, for images",
        "tag DIR... [--no-timestamp] [--long]",
        "Print YYYYMMDD-HHMMSS-<8 hex>: the newest commit time (or SOURCE_DATE_EPOCH)\n"
        "and a hash of the files under the DIRs, for CI to tag images with (docs/tag.md).\n"
        "\n"
        "Exit status: 0, or 1 when something cannot be hashed.\n"},
    {"iam-policy", cmd_iam_policy,
        DESIRED | BIT(OPT_ACCOUNT) | AWS | BIT(OPT_STATE_DIR) | BIT(OPT_OUTPUT), "[DIR]",
        "print the least-privilege IAM policy it needs",
        "iam-policy [DIR | --repo URL|PATH [--ref REF]] [--path DIR]\n"
        "                         [--env ENV] [--account ID] [options]",
        "Print the IAM policy tether needs for the functions and layers the desired state\n"
        "manages: the Lambda actions it calls, scoped to their ARNs, and the roles,\n"
        "images and S3 objects they use (docs/iam.md).\n"
        "\n"
        "Exit status: 0 printed, 1 invalid desired state or an unknown account.\n"},
    {"version", cmd_version, 0, "", "print the version", "version",
        "Print the version.\n"
        "\n"
        "Exit status: 0.\n"},
    {"help", cmd_help, 0, "[COMMAND]", "this help, or a command's", "help [COMMAND]",
        "Print the list of commands, or what COMMAND does and the options it takes.\n"
        "\n"
        "Exit status: 0, or 2 for an unknown command.\n"},
};

static void
print_option(const struct optdoc *o)
{
	printf("  %-24s %s\n", o->shown, o->text);
}

static void
print_usage(void)
{
	const char *group = NULL;
	char head[64];
	size_t i;

	fputs("usage: tether COMMAND [ARGS] [options]\n"
	      "       tether COMMAND --help\n"
	      "\n"
	      "A GitOps controller for AWS Lambda. Commands:\n",
	    stdout);
	for (i = 0; i < nitems(commands); i++) {
		snprintf(head, sizeof(head), "%s%s%s", commands[i].name,
		    commands[i].args[0] != '\0' ? " " : "", commands[i].args);
		printf("  %-24s %s\n", head, commands[i].summary);
	}
	fputs("\nOptions (each command takes those its --help lists):\n", stdout);
	for (i = 0; i < OPT__COUNT; i++) {
		if (group == NULL || strcmp(group, optdocs[i].group) != 0) {
			group = optdocs[i].group;
			printf("%s:\n", group);
		}
		print_option(&optdocs[i]);
	}
	fputs("\nExit status 2 is a usage error. Documentation: docs/cli.md.\n", stdout);
}

static void
print_command_help(const struct command *c)
{
	unsigned opts = c->opts | COMMON;
	size_t i;

	printf("usage: tether %s\n\n%s\nOptions:\n", c->synopsis, c->text);
	for (i = 0; i < OPT__COUNT; i++) {
		if (opts & BIT(i))
			print_option(&optdocs[i]);
	}
}

static const struct command *
find_command(const char *name)
{
	size_t i;

	for (i = 0; i < nitems(commands); i++) {
		if (strcmp(name, commands[i].name) == 0)
			return &commands[i];
	}
	return NULL;
}

static int
cmd_version(const struct cli *cli, int argc, char **argv)
{
	(void)cli;
	if (argc > 0)
		return cli_usage_error("version takes no arguments (\"%s\")", argv[0]);
	return printf("tether %s\n", TETHER_VERSION) < 0 ? CLI_EXIT_ERROR : CLI_EXIT_OK;
}

static int
cmd_help(const struct cli *cli, int argc, char **argv)
{
	const struct command *c;

	(void)cli;
	if (argc > 1)
		return cli_usage_error("help takes at most one command (\"%s\")", argv[1]);
	if (argc == 0) {
		print_usage();
		return CLI_EXIT_OK;
	}
	c = find_command(argv[0]);
	if (c == NULL)
		return cli_usage_error("unknown command \"%s\"", argv[0]);
	print_command_help(c);
	return CLI_EXIT_OK;
}

int
cli_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("tether: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'tether --help'.\n", stderr);
	return CLI_EXIT_USAGE;
}

static int
parse_rps(const char *s, double *out)
{
	char *end;
	double v;

	v = strtod(s, &end);
	if (end == s || *end != '\0' || !(v > 0.0) || v > 1000.0)
		return -1;
	*out = v;
	return 0;
}

static int
parse_count(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	v = strtol(s, &end, 10);
	if (end == s || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Store one option's value in cli; a malformed value is a usage error. */
static int
set_option(struct cli *cli, enum opt o, const char *arg)
{
	switch (o) {
	case OPT_REPO:
		cli->repo = arg;
		break;
	case OPT_REF:
		cli->ref = arg;
		break;
	case OPT_PATH:
		cli->path = arg;
		break;
	case OPT_ENV:
		cli->env = arg;
		break;
	case OPT_ACCOUNT:
		cli->account = arg;
		break;
	case OPT_ENDPOINT:
		cli->session.endpoint = arg;
		break;
	case OPT_REGION:
		cli->session.region = arg;
		break;
	case OPT_PROFILE:
		cli->session.profile = arg;
		break;
	case OPT_CA_FILE:
		cli->session.ca_file = arg;
		break;
	case OPT_API_RPS:
		if (parse_rps(arg, &cli->session.api_rps) != 0)
			return cli_usage_error("--api-rps wants a number of requests per second in "
			                       "(0, 1000], not \"%s\"",
			    arg);
		break;
	case OPT_STATE_DIR:
		cli->state_dir = arg;
		break;
	case OPT_CONCURRENCY:
		if (parse_count(arg, 1, 256, &cli->concurrency) != 0)
			return cli_usage_error(
			    "--concurrency wants a number in [1, 256], not \"%s\"", arg);
		break;
	case OPT_FUNCTION:
		cli->function = arg;
		break;
	case OPT_CONFIG:
		cli->config = arg;
		break;
	case OPT_CHECK:
		cli->check = true;
		break;
	case OPT_NO_TIMESTAMP:
		cli->no_timestamp = true;
		break;
	case OPT_LONG:
		cli->long_hash = true;
		break;
	case OPT_OUTPUT:
		if (strcmp(arg, "json") != 0 && strcmp(arg, "text") != 0)
			return cli_usage_error("--output is text or json, not \"%s\"", arg);
		cli->json = strcmp(arg, "json") == 0;
		break;
	case OPT_LOG_FORMAT:
		if (strcmp(arg, "json") != 0 && strcmp(arg, "text") != 0)
			return cli_usage_error("--log-format is text or json, not \"%s\"", arg);
		cli->log_json = strcmp(arg, "json") == 0;
		cli->log_format_set = true;
		break;
	case OPT_VERBOSE:
		cli->verbose = true;
		cli->level = LOG_LEVEL_DEBUG;
		break;
	case OPT_HELP:
	case OPT__COUNT:
		break;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct option longopts[OPT__COUNT + 1];
	const struct command *cmd;
	struct cli cli;
	unsigned seen = 0, stray;
	size_t i;
	int c, rc;

	memset(&cli, 0, sizeof(cli));
	memset(longopts, 0, sizeof(longopts));
	cli.level = LOG_LEVEL_INFO;
	for (i = 0; i < OPT__COUNT; i++) {
		longopts[i].name = optdocs[i].name;
		longopts[i].has_arg = optdocs[i].has_arg;
		longopts[i].val = 256 + (int)i;
	}
	/*
	 * Options may come before or after the command (getopt permutes argv), so
	 * "tether observe --output json" works as users expect; the command and its
	 * arguments are the non-option words, in order. "--" ends the options.
	 */
	while ((c = getopt_long(argc, argv, "vho:", longopts, NULL)) != -1) {
		enum opt o;

		if (c == 'v')
			o = OPT_VERBOSE;
		else if (c == 'h')
			o = OPT_HELP;
		else if (c == 'o')
			o = OPT_OUTPUT;
		else if (c >= 256 && c < 256 + OPT__COUNT)
			o = (enum opt)(c - 256);
		else {
			fputs("Try 'tether --help'.\n", stderr);
			return CLI_EXIT_USAGE;
		}
		seen |= BIT(o);
		rc = set_option(&cli, o, optarg);
		if (rc != 0)
			return rc;
	}
	if (optind >= argc) {
		if (seen & BIT(OPT_HELP)) {
			print_usage();
			return CLI_EXIT_OK;
		}
		return cli_usage_error("%s", "no command given");
	}
	cmd = find_command(argv[optind]);
	if (cmd == NULL)
		return cli_usage_error("unknown command \"%s\"", argv[optind]);
	optind++;
	if (seen & BIT(OPT_HELP)) {
		print_command_help(cmd);
		return CLI_EXIT_OK;
	}
	stray = seen & ~(cmd->opts | COMMON);
	for (i = 0; i < OPT__COUNT; i++) {
		if (stray & BIT(i))
			return cli_usage_error("--%s does not apply to %s (tether %s --help)",
			    optdocs[i].name, cmd->name, cmd->name);
	}
	log_init(cli.level, cli.log_json, 2);
	if (http_global_init() != 0) {
		fprintf(stderr, "tether: cannot initialize libcurl\n");
		return CLI_EXIT_ERROR;
	}
	rc = cmd->run(&cli, argc - optind, argv + optind);
	http_global_cleanup();
	return rc;
}
