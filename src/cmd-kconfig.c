/* cmd-kconfig.c - debkeep kconfig (being written) */
#include "cli.h"

int cmd_kconfig(struct cli *cli, int argc, char **argv)
{
	return cli_usage(cli, "kconfig: not yet implemented");
}
