/* cmd-publish.c - (being written) */
#include "cli.h"

int cmd_publish(struct cli *cli, int argc, char **argv)
{
	return cli_usage(cli, "publish: not yet implemented");
}
