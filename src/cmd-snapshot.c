/* cmd-snapshot.c - debkeep snapshot (being written) */
#include "cli.h"

int cmd_snapshot(struct cli *cli, int argc, char **argv)
{
	return cli_usage(cli, "snapshot: not yet implemented");
}
