/*
 * `tether run --config FILE`: the daemon (controller/daemon.h, docs/daemon.md), and
 * `tether run --check --config FILE`: check the config, print every problem, exit 0/1.
 */
#include <stdio.h>

#include "controller/cli.h"
#include "controller/config.h"
#include "controller/daemon.h"

int
cmd_run(const struct cli *cli, int argc, char **argv)
{
	struct daemon_opts o;

	if (argc > 0)
		return cli_usage_error(
		    "run takes no arguments (\"%s\"); use --config FILE", argv[0]);
	if (cli->config == NULL)
		return cli_usage_error("%s", "run needs --config FILE (docs/config.md)");
	if (cli->check)
		return config_check(cli->config, cli->verbose, stdout) == 0 ? CLI_EXIT_OK
		                                                            : CLI_EXIT_ERROR;
	o.config = cli->config;
	o.level = cli->level;
	o.log_format_set = cli->log_format_set;
	o.log_json = cli->log_json;
	return daemon_run(&o) == 0 ? CLI_EXIT_OK : CLI_EXIT_ERROR;
}
