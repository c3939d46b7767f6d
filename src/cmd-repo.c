/* cmd-repo.c - debkeep init and import (being written) */
#include "cli.h"

int cmd_init(struct cli *cli, int argc, char **argv)
{
	return cli_usage(cli, "init: not yet implemented");
}

int cmd_import(struct cli *cli, int argc, char **argv)
{
	return cli_usage(cli, "import: not yet implemented");
}
