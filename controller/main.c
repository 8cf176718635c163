/*
 * tether: a GitOps controller for AWS Lambda. The command line (architecture §7).
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/http.h"
#include "common/log.h"
#include "controller/cli.h"

static const char usage_text[] =
    "usage: tether [options] COMMAND [ARGS]\n"
    "\n"
    "Commands:\n"
    "  validate [DIR]          check a desired state (DIR, or --repo/--ref); exit 0 valid, 1 "
    "invalid\n"
    "  plan                    show what apply would do (--repo/--ref); exit 0 in sync, 2 changes, "
    "1 error\n"
    "  apply                   converge live functions to a commit (--repo/--ref) once; exit 0 "
    "converged,\n"
    "                          1 when any function failed or is blocked\n"
    "  history                 print the manifests: every action taken (--function F)\n"
    "  status                  per function: last commit applied, aliases and their live\n"
    "                          state (drift), errors, quarantine\n"
    "  observe [FUNCTION...]   print the live state of functions (all when none named):\n"
    "                          $LATEST, published versions, aliases and their routing\n"
    "  run --config FILE       the daemon: follow a git ref, converge each commit, correct\n"
    "                          drift, serve webhooks, /status and /metrics (docs/daemon.md)\n"
    "  run --check --config FILE\n"
    "                          check the daemon's config, print every problem; exit 0 valid\n"
    "  tag DIR...              print the content tag of source folders, for image tags "
    "(docs/tag.md)\n"
    "  iam-policy [DIR]        print the least-privilege IAM policy for the desired state's\n"
    "                          functions (DIR, or --repo/--ref; docs/iam.md)\n"
    "  version                 print the version\n"
    "\n"
    "Desired state:\n"
    "  --repo URL|PATH         git repository (local path or file://, git://, http(s)://, ssh "
    "URL)\n"
    "  --ref REF               branch, tag or commit (default HEAD)\n"
    "  --path DIR              folder of the desired state inside the repository (default: root)\n"
    "  --env ENV               apply the environments/ENV.yaml overlay\n"
    "\n"
    "AWS:\n"
    "  --endpoint URL          Lambda endpoint (also AWS_ENDPOINT_URL_LAMBDA, AWS_ENDPOINT_URL)\n"
    "  --region REGION         AWS region (also AWS_REGION, AWS_DEFAULT_REGION, the profile)\n"
    "  --profile NAME          shared-config profile (also AWS_PROFILE)\n"
    "  --ca-file FILE          extra CA bundle for TLS verification\n"
    "  --api-rps N             cap tether's share of the 15/s Lambda control-plane quota\n"
    "\n"
    "Other:\n"
    "  --state-dir DIR         tether's state directory (default ./.tether)\n"
    "  --concurrency N         functions converged at the same time (apply; default 8)\n"
    "  --function F            only this function (history)\n"
    "  --account ID            the account of functions declared by name (iam-policy)\n"
    "  --config FILE           the daemon's config (run; docs/config.md)\n"
    "  --check                 check the config and exit (run)\n"
    "  --no-timestamp          only the content hash, without the time (tag)\n"
    "  --long                  all 64 hex digits of the hash (tag)\n"
    "  --output text|json      output format (default text)\n"
    "  --log-format text|json  log format on stderr (default text)\n"
    "  -v, --verbose           more detail (validate: the normalized desired state; logs: debug)\n"
    "  -h, --help              this help\n";

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

static const struct {
	const char *name;
	int (*run)(const struct cli *, int, char **);
} commands[] = {
    {"validate", cmd_validate},
    {"plan", cmd_plan},
    {"observe", cmd_observe},
    {"apply", cmd_apply},
    {"history", cmd_history},
    {"status", cmd_status},
    {"run", cmd_run},
    {"tag", cmd_tag},
    {"iam-policy", cmd_iam_policy},
};

int
main(int argc, char **argv)
{
	enum {
		OPT_ENDPOINT = 256,
		OPT_REGION,
		OPT_PROFILE,
		OPT_CA_FILE,
		OPT_API_RPS,
		OPT_REPO,
		OPT_REF,
		OPT_ENV,
		OPT_PATH,
		OPT_STATE_DIR,
		OPT_CONCURRENCY,
		OPT_FUNCTION,
		OPT_LOG_FORMAT,
		OPT_CONFIG,
		OPT_CHECK,
		OPT_NO_TIMESTAMP,
		OPT_LONG,
		OPT_ACCOUNT
	};
	static const struct option longopts[] = {
	    {"endpoint", required_argument, NULL, OPT_ENDPOINT},
	    {"region", required_argument, NULL, OPT_REGION},
	    {"profile", required_argument, NULL, OPT_PROFILE},
	    {"ca-file", required_argument, NULL, OPT_CA_FILE},
	    {"api-rps", required_argument, NULL, OPT_API_RPS},
	    {"repo", required_argument, NULL, OPT_REPO},
	    {"ref", required_argument, NULL, OPT_REF},
	    {"env", required_argument, NULL, OPT_ENV},
	    {"path", required_argument, NULL, OPT_PATH},
	    {"state-dir", required_argument, NULL, OPT_STATE_DIR},
	    {"concurrency", required_argument, NULL, OPT_CONCURRENCY},
	    {"function", required_argument, NULL, OPT_FUNCTION},
	    {"output", required_argument, NULL, 'o'},
	    {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
	    {"config", required_argument, NULL, OPT_CONFIG},
	    {"check", no_argument, NULL, OPT_CHECK},
	    {"no-timestamp", no_argument, NULL, OPT_NO_TIMESTAMP},
	    {"long", no_argument, NULL, OPT_LONG},
	    {"account", required_argument, NULL, OPT_ACCOUNT},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct cli cli;
	const char *cmd;
	size_t i;
	int c, rc = -1;

	memset(&cli, 0, sizeof(cli));
	cli.level = LOG_LEVEL_INFO;
	/*
	 * Options may come before or after the command (getopt permutes argv), so
	 * "tether observe --output json" works as users expect; the command and its
	 * arguments are the non-option words, in order. "--" ends the options.
	 */
	while ((c = getopt_long(argc, argv, "vho:", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_ENDPOINT:
			cli.session.endpoint = optarg;
			break;
		case OPT_REGION:
			cli.session.region = optarg;
			break;
		case OPT_PROFILE:
			cli.session.profile = optarg;
			break;
		case OPT_CA_FILE:
			cli.session.ca_file = optarg;
			break;
		case OPT_API_RPS:
			if (parse_rps(optarg, &cli.session.api_rps) != 0)
				return cli_usage_error("--api-rps wants a number of requests per "
				                       "second in (0, 1000], not \"%s\"",
				    optarg);
			break;
		case OPT_REPO:
			cli.repo = optarg;
			break;
		case OPT_REF:
			cli.ref = optarg;
			break;
		case OPT_ENV:
			cli.env = optarg;
			break;
		case OPT_PATH:
			cli.path = optarg;
			break;
		case OPT_STATE_DIR:
			cli.state_dir = optarg;
			break;
		case OPT_CONCURRENCY:
			if (parse_count(optarg, 1, 256, &cli.concurrency) != 0)
				return cli_usage_error(
				    "--concurrency wants a number in [1, 256], not \"%s\"", optarg);
			break;
		case OPT_FUNCTION:
			cli.function = optarg;
			break;
		case 'o':
			if (strcmp(optarg, "json") != 0 && strcmp(optarg, "text") != 0)
				return cli_usage_error(
				    "--output is text or json, not \"%s\"", optarg);
			cli.json = strcmp(optarg, "json") == 0;
			break;
		case OPT_LOG_FORMAT:
			if (strcmp(optarg, "json") != 0 && strcmp(optarg, "text") != 0)
				return cli_usage_error(
				    "--log-format is text or json, not \"%s\"", optarg);
			cli.log_json = strcmp(optarg, "json") == 0;
			cli.log_format_set = true;
			break;
		case OPT_CONFIG:
			cli.config = optarg;
			break;
		case OPT_CHECK:
			cli.check = true;
			break;
		case OPT_NO_TIMESTAMP:
			cli.no_timestamp = true;
			break;
		case OPT_LONG:
			cli.long_hash = true;
			break;
		case OPT_ACCOUNT:
			cli.account = optarg;
			break;
		case 'v':
			cli.verbose = true;
			cli.level = LOG_LEVEL_DEBUG;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return CLI_EXIT_OK;
		default:
			fputs("Try 'tether --help'.\n", stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return cli_usage_error("%s", "no command given");
	cmd = argv[optind++];
	if (strcmp(cmd, "version") == 0)
		return printf("tether %s\n", TETHER_VERSION) < 0 ? CLI_EXIT_ERROR : CLI_EXIT_OK;
	log_init(cli.level, cli.log_json, 2);
	if (http_global_init() != 0) {
		fprintf(stderr, "tether: cannot initialize libcurl\n");
		return CLI_EXIT_ERROR;
	}
	for (i = 0; i < nitems(commands); i++) {
		if (strcmp(cmd, commands[i].name) == 0) {
			rc = commands[i].run(&cli, argc - optind, argv + optind);
			break;
		}
	}
	if (i == nitems(commands))
		rc = cli_usage_error("unknown command \"%s\"", cmd);
	http_global_cleanup();
	return rc;
}
