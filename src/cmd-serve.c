/* cmd-serve.c - (being written) */
#include "cli.h"

int cmd_serve(struct cli *cli, int argc, char **argv)
{
	return cli_usage(cli, "serve: not yet implemented");
}
