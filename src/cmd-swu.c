/* cmd-swu.c - debkeep swu (being written) */
#include "cli.h"

int cmd_swu(struct cli *cli, int argc, char **argv)
{
	return cli_usage(cli, "swu: not yet implemented");
}
