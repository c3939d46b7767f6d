/* cmd-diff.c - debkeep diff (being written) */
#include "cli.h"

int cmd_diff(struct cli *cli, int argc, char **argv)
{
	return cli_usage(cli, "diff: not yet implemented");
}
