/* cmd-ebg.c - debkeep ebg (being written) */
#include "cli.h"

int cmd_ebg(struct cli *cli, int argc, char **argv)
{
	return cli_usage(cli, "ebg: not yet implemented");
}
