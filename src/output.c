/* output.c - error reporting, usage messages and JSON output for every command */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <debkeep/repo.h>

#include "cli.h"

int cli_lock_timeout(struct cli *cli, const char *s, double *t)
{
	char *end;

	*t = strtod(s, &end);
	if (end == s || *end || *t < 0 || *t > 86400)
		return cli_usage(cli, "--lock-timeout: '%s' is not a number of seconds (0 to 86400)", s);
	return 0;
}

int cli_repo_open(struct cli *cli, struct dk_repo *r, unsigned flags, double timeout, const char *group, int argc,
		  char **argv)
{
	struct dk_err err = DK_ERR_INIT;
	char cmd[1024];
	size_t len = snprintf(cmd, sizeof(cmd), "debkeep%s%s", group ? " " : "", group ? group : "");

	for (int i = 0; i < argc && len < sizeof(cmd); i++)
		len += snprintf(cmd + len, sizeof(cmd) - len, " %s", argv[i]);
	if (dk_repo_open(r, cli->root, flags, cmd, timeout, &err) < 0)
		return cli_fail(&err);
	return 0;
}

int cli_exit_code(int st)
{
	switch (st) {
	case DK_OK:
		return EXIT_OK;
	case DK_NOTFOUND:
		return EXIT_FOUND;
	case DK_EINPUT:
	case DK_EIO:
		return EXIT_INPUT;
	default:
		return EXIT_INTERNAL;
	}
}

int cli_fail(const struct dk_err *err)
{
	fprintf(stderr, "debkeep: %s\n", err->msg[0] ? err->msg : "unknown error");
	return cli_exit_code(err->code ? err->code : DK_EINTERNAL);
}

int cli_usage(struct cli *cli, const char *fmt, ...)
{
	va_list ap;

	fputs("debkeep: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(see '%s --help')\n", cli->prog ? cli->prog : "debkeep");
	return EXIT_INPUT;
}

int cli_json_out(json_t *v)
{
	int r;

	if (!v)
		return EXIT_INTERNAL;
	r = json_dumpf(v, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(v);
	if (r)
		return EXIT_INTERNAL;
	putchar('\n');
	return EXIT_OK;
}

void cli_print_table(FILE *f, const char *group, const struct cli_command *table)
{
	size_t width = 0;

	for (const struct cli_command *c = table; c->name; c++) {
		size_t w = strlen(c->name) + (c->args ? strlen(c->args) + 1 : 0);

		if (w > width)
			width = w;
	}
	for (const struct cli_command *c = table; c->name; c++) {
		char synopsis[256];

		snprintf(synopsis, sizeof(synopsis), "%s%s%s", c->name, c->args ? " " : "", c->args ? c->args : "");
		fprintf(f, "  %s%s%-*s  %s\n", group ? group : "", group ? " " : "", (int)width, synopsis, c->help);
	}
}

int cli_dispatch(struct cli *cli, const char *group, const struct cli_command *table, int argc, char **argv)
{
	char prog[128];

	/* argv[0] is the group's name; the subcommand's handler gets its own name as argv[0]. */
	argc--;
	argv++;
	if (argc < 1 || strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0 ||
	    strcmp(argv[0], "help") == 0) {
		FILE *f = argc < 1 ? stderr : stdout;

		fprintf(f, "usage: debkeep %s COMMAND [ARGS]\n\ncommands:\n", group);
		cli_print_table(f, group, table);
		return argc < 1 ? EXIT_INPUT : EXIT_OK;
	}
	for (const struct cli_command *c = table; c->name; c++) {
		if (strcmp(c->name, argv[0]) != 0)
			continue;
		snprintf(prog, sizeof(prog), "debkeep %s %s", group, c->name);
		cli->prog = prog;
		return c->run(cli, argc, argv);
	}
	fprintf(stderr, "debkeep: %s: unknown command '%s'\n", group, argv[0]);
	fprintf(stderr, "usage: debkeep %s COMMAND [ARGS]\n\ncommands:\n", group);
	cli_print_table(stderr, group, table);
	return EXIT_INPUT;
}

const char *cli_data_path(const char *rel, char *buf, size_t n)
{
	const char *dirs[] = { getenv("DEBKEEP_DATADIR"), DK_DATADIR, DK_SOURCE_DATADIR };

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		if (!dirs[i] || !*dirs[i])
			continue;
		snprintf(buf, n, "%s/%s", dirs[i], rel);
		if (access(buf, R_OK) == 0)
			return buf;
	}
	snprintf(buf, n, "%s/%s", DK_DATADIR, rel);
	return buf;
}
