/*
 * tether: a GitOps controller for AWS Lambda. The command line (architecture §7).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>

#include "aws/http.h"
#include "common/log.h"
#include "controller/observe.h"
#include "controller/session.h"

/* Exit statuses shared by every command. */
#define EXIT_OK 0
#define EXIT_ERROR 1
#define EXIT_USAGE 2

static const char usage_text[] =
    "usage: tether [options] COMMAND [ARGS]\n"
    "\n"
    "Commands:\n"
    "  observe [FUNCTION...]   print the live state of functions (all when none named):\n"
    "                          $LATEST, published versions, aliases and their routing\n"
    "  version                 print the version\n"
    "\n"
    "Options:\n"
    "  --endpoint URL          Lambda endpoint (also AWS_ENDPOINT_URL_LAMBDA, AWS_ENDPOINT_URL)\n"
    "  --region REGION         AWS region (also AWS_REGION, AWS_DEFAULT_REGION, the profile)\n"
    "  --profile NAME          shared-config profile (also AWS_PROFILE)\n"
    "  --ca-file FILE          extra CA bundle for TLS verification\n"
    "  --api-rps N             cap tether's share of the 15/s Lambda control-plane quota\n"
    "  --output text|json      output format (default text)\n"
    "  --log-format text|json  log format on stderr (default text)\n"
    "  -v, --verbose           debug logging\n"
    "  -h, --help              this help\n";

struct cli {
	struct session_opts session;
	bool json;
	bool log_json;
	enum log_level level;
};

static int
usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "tether: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'tether --help'.\n");
	return EXIT_USAGE;
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
cmd_observe(struct cli *cli, int argc, char **argv)
{
	struct observe_opts oo;
	struct session *s = NULL;
	struct ev_loop *loop;
	struct err err = ERR_INIT;
	int rc;

	loop = ev_default_loop(EVFLAG_AUTO);
	if (session_new(&s, loop, &cli->session, &err) != 0) {
		fprintf(stderr, "tether: %s\n", err.message);
		return EXIT_ERROR;
	}
	oo.functions = (const char *const *)argv;
	oo.nfunctions = (size_t)argc;
	oo.json = cli->json;
	oo.out = stdout;
	rc = observe_run(s, &oo, &err);
	session_free(s);
	ev_loop_destroy(loop);
	if (rc != 0) {
		fprintf(stderr, "tether: %s\n", err.message);
		return EXIT_ERROR;
	}
	return EXIT_OK;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"endpoint", required_argument, NULL, 'E'},
	    {"region", required_argument, NULL, 'R'},
	    {"profile", required_argument, NULL, 'P'},
	    {"ca-file", required_argument, NULL, 'C'},
	    {"api-rps", required_argument, NULL, 'A'},
	    {"output", required_argument, NULL, 'o'},
	    {"log-format", required_argument, NULL, 'L'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct cli cli = {SESSION_OPTS_INIT, false, false, LOG_LEVEL_INFO};
	const char *cmd;
	int c, rc;

	/*
	 * Options may come before or after the command (getopt permutes argv), so
	 * "tether observe --output json" works as users expect; the command and its
	 * arguments are the non-option words, in order. "--" ends the options.
	 */
	while ((c = getopt_long(argc, argv, "vho:", longopts, NULL)) != -1) {
		switch (c) {
		case 'E':
			cli.session.endpoint = optarg;
			break;
		case 'R':
			cli.session.region = optarg;
			break;
		case 'P':
			cli.session.profile = optarg;
			break;
		case 'C':
			cli.session.ca_file = optarg;
			break;
		case 'A':
			if (parse_rps(optarg, &cli.session.api_rps) != 0)
				return usage_error(
				    "--api-rps wants a number of requests per second "
				    "in (0, 1000], not \"%s\"",
				    optarg);
			break;
		case 'o':
			if (strcmp(optarg, "json") != 0 && strcmp(optarg, "text") != 0)
				return usage_error("--output is text or json, not \"%s\"", optarg);
			cli.json = strcmp(optarg, "json") == 0;
			break;
		case 'L':
			if (strcmp(optarg, "json") != 0 && strcmp(optarg, "text") != 0)
				return usage_error(
				    "--log-format is text or json, not \"%s\"", optarg);
			cli.log_json = strcmp(optarg, "json") == 0;
			break;
		case 'v':
			cli.level = LOG_LEVEL_DEBUG;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_OK;
		default:
			fputs("Try 'tether --help'.\n", stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return usage_error("%s", "no command given");
	cmd = argv[optind++];
	log_init(cli.level, cli.log_json, 2);
	if (http_global_init() != 0) {
		fprintf(stderr, "tether: cannot initialize libcurl\n");
		return EXIT_ERROR;
	}
	if (strcmp(cmd, "observe") == 0)
		rc = cmd_observe(&cli, argc - optind, argv + optind);
	else if (strcmp(cmd, "version") == 0)
		rc = printf("tether %s\n", TETHER_VERSION) < 0 ? EXIT_ERROR : EXIT_OK;
	else
		rc = usage_error("unknown command \"%s\"", cmd);
	http_global_cleanup();
	return rc;
}
