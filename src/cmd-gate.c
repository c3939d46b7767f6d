/* cmd-gate.c - debkeep gate (being written) */
#include "cli.h"

int cmd_gate(struct cli *cli, int argc, char **argv)
{
	return cli_usage(cli, "gate: not yet implemented");
}
