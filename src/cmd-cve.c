/* cmd-cve.c - debkeep cve (being written) */
#include "cli.h"

int cmd_cve(struct cli *cli, int argc, char **argv)
{
	return cli_usage(cli, "cve: not yet implemented");
}
