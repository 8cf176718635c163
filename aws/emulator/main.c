/*
 * tether-emulator: a local AWS Lambda control-plane emulator (docs/emulator.md).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ev.h>

#include "aws/emulator/emu.h"
#include "aws/emulator/server.h"
#include "aws/sigv4.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/xmalloc.h"

#define EXIT_USAGE 2
#define PORT_FILE_MAX 4096

struct options {
	struct server_opts server;
	struct emu_opts emu;
	struct server_credential creds[SERVER_CREDENTIALS_MAX];
	size_t ncreds;
	bool allow_remote;
	bool verbose;
	const char *port_file;
	const char *state;
};

/* What the loop needs when a signal arrives. */
struct emulator {
	struct ev_loop *loop;
	struct server *server;
	ev_signal sigterm, sigint;
	int signal;
};

static const char usage_text[] =
    "usage: tether-emulator [options]\n"
    "\n"
    "A local AWS Lambda control-plane emulator (see docs/emulator.md).\n"
    "\n"
    "  --listen HOST:PORT        address to listen on (default 127.0.0.1:9001; port 0 picks one)\n"
    "  --allow-remote            allow a non-loopback listen address\n"
    "  --port-file FILE          write the bound port to FILE once listening\n"
    "  --credentials KEY:SECRET  a key pair that may sign requests (repeatable; default "
    "test:test)\n"
    "  --auth sigv4|none         check SigV4 signatures (default sigv4)\n"
    "  --account ID              12-digit account id in ARNs (default 123456789012)\n"
    "  --region R                region in ARNs and signatures (default us-east-1)\n"
    "  --create-delay-ms N       Pending -> Active after CreateFunction (default 100)\n"
    "  --update-delay-ms N       LastUpdateStatus InProgress window (default 200)\n"
    "  --latency-ms N            answer Lambda requests N ms late (default 0)\n"
    "  --jitter-ms N             plus or minus up to N ms, uniformly (default 0)\n"
    "  --throttle-rps R          one token bucket for the shared control-plane quota (0: off)\n"
    "  --getfunction-rps R       GetFunction's own bucket (0: off)\n"
    "  --error-rate P            fraction of requests answered 500 ServiceException (0..1)\n"
    "  --reset-rate P            fraction of requests closed without an answer (0..1)\n"
    "  --seed N                  seed for the fault and jitter draws\n"
    "  --state FILE              load the model from FILE at start, save it on SIGTERM/SIGINT\n"
    "  --access-log FILE         append one JSON line per Lambda request\n"
    "  -v                        debug logging\n"
    "  -h, --help                this text\n";

enum {
	OPT_LISTEN = 256,
	OPT_ALLOW_REMOTE,
	OPT_PORT_FILE,
	OPT_CREDENTIALS,
	OPT_AUTH,
	OPT_ACCOUNT,
	OPT_REGION,
	OPT_CREATE_DELAY,
	OPT_UPDATE_DELAY,
	OPT_LATENCY,
	OPT_JITTER,
	OPT_THROTTLE,
	OPT_GETFUNCTION,
	OPT_ERROR_RATE,
	OPT_RESET_RATE,
	OPT_SEED,
	OPT_STATE,
	OPT_ACCESS_LOG,
};

static const struct option long_options[] = {
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"allow-remote", no_argument, NULL, OPT_ALLOW_REMOTE},
    {"port-file", required_argument, NULL, OPT_PORT_FILE},
    {"credentials", required_argument, NULL, OPT_CREDENTIALS},
    {"auth", required_argument, NULL, OPT_AUTH},
    {"account", required_argument, NULL, OPT_ACCOUNT},
    {"region", required_argument, NULL, OPT_REGION},
    {"create-delay-ms", required_argument, NULL, OPT_CREATE_DELAY},
    {"update-delay-ms", required_argument, NULL, OPT_UPDATE_DELAY},
    {"latency-ms", required_argument, NULL, OPT_LATENCY},
    {"jitter-ms", required_argument, NULL, OPT_JITTER},
    {"throttle-rps", required_argument, NULL, OPT_THROTTLE},
    {"getfunction-rps", required_argument, NULL, OPT_GETFUNCTION},
    {"error-rate", required_argument, NULL, OPT_ERROR_RATE},
    {"reset-rate", required_argument, NULL, OPT_RESET_RATE},
    {"seed", required_argument, NULL, OPT_SEED},
    {"state", required_argument, NULL, OPT_STATE},
    {"access-log", required_argument, NULL, OPT_ACCESS_LOG},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static void usage_error(const char *fmt, ...) NORETURN PRINTFLIKE(1, 2);

static void
usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("tether-emulator: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see --help)\n", stderr);
	exit(EXIT_USAGE);
}

/* A whole non-negative decimal integer of at most 2^53, for milliseconds and seeds. */
static uint64_t
parse_u64(const char *opt, const char *s, uint64_t max)
{
	unsigned long long v;
	char *end;

	if (*s < '0' || *s > '9')
		usage_error("%s: \"%s\" is not a non-negative integer", opt, s);
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		usage_error("%s: \"%s\" is not an integer between 0 and %" PRIu64, opt, s, max);
	return (uint64_t)v;
}

static double
parse_double(const char *opt, const char *s, double min, double max)
{
	double v;
	char *end;

	errno = 0;
	v = strtod(s, &end);
	if (*s == '\0' || *end != '\0' || errno != 0 || !isfinite(v) || v < min || v > max)
		usage_error("%s: \"%s\" is not a number between %g and %g", opt, s, min, max);
	return v;
}

static void
parse_credentials(struct options *o, char *s)
{
	char *colon = strchr(s, ':');

	if (colon == NULL || colon == s || colon[1] == '\0')
		usage_error("--credentials: expected KEY:SECRET");
	*colon = '\0';
	if (strlen(s) > SIGV4_ACCESS_KEY_MAX)
		usage_error(
		    "--credentials: access key longer than %d characters", SIGV4_ACCESS_KEY_MAX);
	if (o->ncreds == SERVER_CREDENTIALS_MAX)
		usage_error("--credentials: at most %d key pairs", SERVER_CREDENTIALS_MAX);
	o->creds[o->ncreds].access_key = s;
	o->creds[o->ncreds].secret = colon + 1;
	o->ncreds++;
}

static void
parse_args(struct options *o, int argc, char **argv)
{
	const char *p;
	int c;

	opterr = 0;
	for (;;) {
		c = getopt_long(argc, argv, ":vh", long_options, NULL);
		if (c == -1)
			break;
		switch (c) {
		case OPT_LISTEN:
			o->server.listen = optarg;
			break;
		case OPT_ALLOW_REMOTE:
			o->allow_remote = true;
			break;
		case OPT_PORT_FILE:
			o->port_file = optarg;
			break;
		case OPT_CREDENTIALS:
			parse_credentials(o, optarg);
			break;
		case OPT_AUTH:
			if (strcmp(optarg, "sigv4") == 0)
				o->server.auth = true;
			else if (strcmp(optarg, "none") == 0)
				o->server.auth = false;
			else
				usage_error("--auth: expected sigv4 or none, not \"%s\"", optarg);
			break;
		case OPT_ACCOUNT:
			for (p = optarg; *p >= '0' && *p <= '9'; p++)
				;
			if (*p != '\0' || p - optarg != 12)
				usage_error(
				    "--account: \"%s\" is not a 12-digit account id", optarg);
			o->emu.account = optarg;
			break;
		case OPT_REGION:
			for (p = optarg;
			     (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'; p++)
				;
			if (*p != '\0' || *optarg == '\0' || strlen(optarg) > SIGV4_REGION_MAX)
				usage_error(
				    "--region: \"%s\" is not a region name like us-east-1", optarg);
			o->emu.region = optarg;
			o->server.region = optarg;
			break;
		case OPT_CREATE_DELAY:
			o->emu.create_delay_ms = parse_u64("--create-delay-ms", optarg, 86400000);
			break;
		case OPT_UPDATE_DELAY:
			o->emu.update_delay_ms = parse_u64("--update-delay-ms", optarg, 86400000);
			break;
		case OPT_LATENCY:
			o->server.latency_ms = parse_u64("--latency-ms", optarg, 600000);
			break;
		case OPT_JITTER:
			o->server.jitter_ms = parse_u64("--jitter-ms", optarg, 600000);
			break;
		case OPT_THROTTLE:
			o->server.throttle_rps = parse_double("--throttle-rps", optarg, 0, 1e9);
			break;
		case OPT_GETFUNCTION:
			o->server.getfunction_rps =
			    parse_double("--getfunction-rps", optarg, 0, 1e9);
			break;
		case OPT_ERROR_RATE:
			o->server.error_rate = parse_double("--error-rate", optarg, 0, 1);
			break;
		case OPT_RESET_RATE:
			o->server.reset_rate = parse_double("--reset-rate", optarg, 0, 1);
			break;
		case OPT_SEED:
			o->server.seed = parse_u64("--seed", optarg, UINT64_MAX);
			o->server.seeded = true;
			break;
		case OPT_STATE:
			o->state = optarg;
			break;
		case OPT_ACCESS_LOG:
			o->server.access_log = optarg;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(0);
		case ':':
			usage_error("%s requires a value", argv[optind - 1]);
		default:
			if (optopt != 0)
				usage_error("unknown option -%c", optopt);
			usage_error("unknown option %s", argv[optind - 1]);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument \"%s\"", argv[optind]);
	if (o->server.error_rate + o->server.reset_rate > 1.0)
		usage_error("--error-rate plus --reset-rate must not exceed 1");
}

/* Is every address HOST:PORT resolves to a loopback address? */
static bool
listen_is_loopback(const char *listen_addr)
{
	struct addrinfo hints, *res = NULL, *ai;
	char host[256];
	const char *colon, *start = listen_addr;
	size_t len;
	bool loopback = true;

	if (listen_addr[0] == '[') {
		colon = strchr(listen_addr, ']');
		start = listen_addr + 1;
	} else {
		colon = strrchr(listen_addr, ':');
	}
	if (colon == NULL)
		return false;
	len = (size_t)(colon - start);
	if (len == 0 || len >= sizeof(host))
		return false; /* ":9001" listens on every interface */
	memcpy(host, start, len);
	host[len] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, NULL, &hints, &res) != 0)
		return true; /* httpd reports the bad address */
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (ai->ai_family == AF_INET) {
			const struct sockaddr_in *sin = (const void *)ai->ai_addr;

			if ((ntohl(sin->sin_addr.s_addr) >> 24) != 127)
				loopback = false;
		} else if (ai->ai_family == AF_INET6) {
			const struct sockaddr_in6 *sin6 = (const void *)ai->ai_addr;

			if (!IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr))
				loopback = false;
		} else {
			loopback = false;
		}
	}
	freeaddrinfo(res);
	return loopback;
}

/* Write the port to path atomically: path.tmp, then rename. */
static int
write_port_file(const char *path, int port)
{
	char tmp[PORT_FILE_MAX];
	FILE *f;
	int n;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		log_error("emulator", "--port-file: path too long");
		return -1;
	}
	f = fopen(tmp, "w");
	if (f == NULL) {
		log_error("emulator", "--port-file %s: %s", tmp, strerror(errno));
		return -1;
	}
	if (fprintf(f, "%d\n", port) < 0 || fclose(f) != 0) {
		log_error("emulator", "--port-file %s: write failed", tmp);
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path) != 0) {
		log_error("emulator", "--port-file %s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

static void
signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct emulator *e = w->data;

	(void)revents;
	e->signal = w->signum;
	log_info("emulator", "signal %d: shutting down", w->signum);
	server_shutdown(e->server);
	ev_break(loop, EVBREAK_ALL);
}

int
main(int argc, char **argv)
{
	struct options o;
	struct emulator e;
	struct emu *emu = NULL;
	struct err err = ERR_INIT;
	struct stat st;
	int rc = 1;

	memset(&o, 0, sizeof(o));
	memset(&e, 0, sizeof(e));
	o.server = (struct server_opts)SERVER_OPTS_INIT;
	o.emu = (struct emu_opts)EMU_OPTS_INIT;
	parse_args(&o, argc, argv);
	if (o.ncreds == 0) {
		o.creds[0] = (struct server_credential){"test", "test"};
		o.ncreds = 1;
	}
	o.server.credentials = o.creds;
	o.server.ncredentials = o.ncreds;
	log_init(o.verbose ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO, false, STDERR_FILENO);
	if (!o.allow_remote && !listen_is_loopback(o.server.listen)) {
		fprintf(stderr,
		    "tether-emulator: refusing to listen on %s: not a loopback address (the "
		    "emulator has no real security; pass --allow-remote to do it anyway)\n",
		    o.server.listen);
		return EXIT_USAGE;
	}
	/* Writes to a vanished peer report EPIPE instead of killing the process. */
	signal(SIGPIPE, SIG_IGN);

	e.loop = ev_default_loop(EVFLAG_AUTO);
	if (e.loop == NULL) {
		log_error("emulator", "cannot initialise the event loop");
		return 1;
	}
	if (emu_new(&emu, &o.emu) != 0) {
		log_error("emulator", "cannot create the model");
		goto out;
	}
	if (o.state != NULL && stat(o.state, &st) == 0) {
		if (emu_load(emu, o.state, timeutil_mono_ms(), &err) != 0) {
			log_error("emulator", "--state %s: %s", o.state, err.message);
			goto out;
		}
		log_info("emulator", "state loaded from %s", o.state);
	}
	if (server_new(&e.server, e.loop, emu, &o.server, &err) != 0) {
		log_error("emulator", "%s", err.message);
		goto out;
	}
	if (o.port_file != NULL && write_port_file(o.port_file, server_port(e.server)) != 0)
		goto out;
	ev_signal_init(&e.sigterm, signal_cb, SIGTERM);
	ev_signal_init(&e.sigint, signal_cb, SIGINT);
	e.sigterm.data = &e;
	e.sigint.data = &e;
	ev_signal_start(e.loop, &e.sigterm);
	ev_signal_start(e.loop, &e.sigint);
	log_info("emulator",
	    "listening on %s auth=%s account=%s region=%s create-delay-ms=%" PRIu64
	    " update-delay-ms=%" PRIu64 " latency-ms=%" PRIu64 " jitter-ms=%" PRIu64
	    " throttle-rps=%g getfunction-rps=%g error-rate=%g reset-rate=%g state=%s",
	    server_address(e.server), o.server.auth ? "sigv4" : "none", o.emu.account, o.emu.region,
	    o.emu.create_delay_ms, o.emu.update_delay_ms, o.server.latency_ms, o.server.jitter_ms,
	    o.server.throttle_rps, o.server.getfunction_rps, o.server.error_rate,
	    o.server.reset_rate, o.state != NULL ? o.state : "-");

	ev_run(e.loop, 0);

	rc = 0;
	if (o.state != NULL) {
		if (emu_save(emu, o.state, timeutil_mono_ms(), &err) != 0) {
			log_error("emulator", "--state %s: %s", o.state, err.message);
			rc = 1;
		} else {
			log_info("emulator", "state saved to %s", o.state);
		}
	}
	ev_signal_stop(e.loop, &e.sigterm);
	ev_signal_stop(e.loop, &e.sigint);
out:
	server_free(e.server);
	emu_free(emu);
	ev_loop_destroy(e.loop);
	return rc;
}
