#include <stdio.h>

#include <ev.h>

#include "controller/cli.h"
#include "controller/observe.h"

int
cmd_observe(const struct cli *cli, int argc, char **argv)
{
	struct observe_opts oo;
	struct session *s = NULL;
	struct ev_loop *loop;
	struct err err = ERR_INIT;
	int rc;

	loop = ev_default_loop(EVFLAG_AUTO);
	if (session_new(&s, loop, &cli->session, &err) != 0) {
		fprintf(stderr, "tether: %s\n", err.message);
		return CLI_EXIT_ERROR;
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
		return CLI_EXIT_ERROR;
	}
	return CLI_EXIT_OK;
}
