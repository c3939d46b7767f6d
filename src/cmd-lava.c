/* cmd-lava.c - debkeep lava (being written) */
#include "cli.h"

int cmd_lava(struct cli *cli, int argc, char **argv)
{
	return cli_usage(cli, "lava: not yet implemented");
}
