/* cmd-gc.c - debkeep gc and debkeep check (stub) */
#include <debkeep/err.h>

#include "cli.h"

int cmd_gc(struct cli *cli, int argc, char **argv)
{
	struct dk_err err = DK_ERR_INIT;

	(void)cli;
	(void)argc;
	dk_err_set(&err, DK_EINTERNAL, "%s: not built yet", argv[0]);
	return cli_fail(&err);
}

int cmd_check(struct cli *cli, int argc, char **argv)
{
	struct dk_err err = DK_ERR_INIT;

	(void)cli;
	(void)argc;
	dk_err_set(&err, DK_EINTERNAL, "%s: not built yet", argv[0]);
	return cli_fail(&err);
}
