/*
 * The config check as `tether run --check --config FILE` does it, for the golden tests:
 * config_check() with the normalized config printed. Exit 0 valid, 1 invalid, 2 usage.
 */
#include <stdio.h>
#include <string.h>

#include "controller/config.h"

int
main(int argc, char **argv)
{
	if (argc != 3 || strcmp(argv[1], "--config") != 0) {
		fprintf(stderr, "usage: golden_config_check --config FILE\n");
		return 2;
	}
	return config_check(argv[2], true, stdout) == 0 ? 0 : 1;
}
