/* cmd-pkglist.c - debkeep pkglist resolve|why (being written) */
#include "cli.h"

int cmd_pkglist(struct cli *cli, int argc, char **argv)
{
	return cli_usage(cli, "pkglist: not yet implemented");
}
