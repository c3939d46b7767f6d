/* cmd-version.c - debkeep version compare (being written) */
#include "cli.h"

int cmd_version(struct cli *cli, int argc, char **argv)
{
	return cli_usage(cli, "version: not yet implemented");
}
