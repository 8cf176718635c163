/*
 * The emulator's server side: everything between the socket and the model (emu.h). For each
 * request it mints a request id, serves the admin API under /_emulator/ (no signature), and
 * for Lambda requests routes and counts, checks the SigV4 signature, throttles, injects
 * faults, applies latency, runs the model and writes its reply, in that order. It also
 * writes the access log.
 */
#ifndef TETHER_AWS_EMULATOR_SERVER_H
#define TETHER_AWS_EMULATOR_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ev.h>

#include "aws/emulator/emu.h"
#include "common/err.h"

#define SERVER_CREDENTIALS_MAX 64

struct server;

/* A key pair that may sign requests. */
struct server_credential {
	const char *access_key;
	const char *secret;
};

struct server_opts {
	const char *listen; /* "HOST:PORT"; port 0 picks a free port */
	const char *region; /* the only region a signature may be scoped to */
	bool auth;          /* check SigV4 signatures */
	const struct server_credential *credentials;
	size_t ncredentials;
	double throttle_rps;    /* the shared control-plane bucket; 0 is off */
	double getfunction_rps; /* GetFunction's own bucket; 0 is off */
	double error_rate;      /* fraction of Lambda requests answered 500 ServiceException */
	double reset_rate;      /* fraction closed without an answer */
	uint64_t latency_ms;    /* answer this late ... */
	uint64_t jitter_ms;     /* ... plus or minus up to this much, uniformly */
	uint64_t seed;          /* for the fault and jitter draws; random when !seeded */
	bool seeded;
	const char *access_log; /* a JSON line per Lambda request appended here; NULL is none */
};

#define SERVER_OPTS_INIT                                                                          \
	{                                                                                         \
		"127.0.0.1:9001", "us-east-1", true, NULL, 0, 0.0, 0.0, 0.0, 0.0, 0, 0, 0, false, \
		    NULL                                                                          \
	}

/*
 * Listen on opts->listen and serve emu (borrowed: it must outlive the server) on loop. The
 * options and credentials are copied. Returns 0, or -1 with err filled (bad address, bind
 * failure, access log not writable).
 */
int server_new(struct server **out, struct ev_loop *loop, struct emu *emu,
    const struct server_opts *opts, struct err *err);
/* The address actually bound, e.g. "127.0.0.1:41234". Borrowed. */
const char *server_address(const struct server *srv);
int server_port(const struct server *srv);
/* Stop accepting; connections finish the request in hand, then close. */
void server_shutdown(struct server *srv);
/* Drop delayed answers, close every connection and release the server. Accepts NULL. */
void server_free(struct server *srv);

#endif
