/* output.c - what the commands share: options, opening the data root, errors, usage and JSON output */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <debkeep/repo.h>

#include "cli.h"

long long cli_parse_epoch(const char *s)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < 0)
		return -1;
	return v;
}

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

int cli_parse(struct cli *cli, int argc, char **argv, const struct cli_options *o)
{
	static const struct option common[] = {
		{ "lock-timeout", required_argument, NULL, CLI_OPT_LOCK_TIMEOUT },
		{ "json", no_argument, NULL, CLI_OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
	};
	const size_t ncommon = sizeof(common) / sizeof(common[0]);
	struct option opts[32];
	char shortopts[32];
	size_t n = 0;
	int c, ret;

	while (o->opts && o->opts[n].name)
		n++;
	/* Only a command's own table can outgrow these, which any test of that command shows. */
	if (n + ncommon >= sizeof(opts) / sizeof(opts[0]) ||
	    (size_t)snprintf(shortopts, sizeof(shortopts), "%sh", o->shortopts ? o->shortopts : "") >=
		    sizeof(shortopts)) {
		fprintf(stderr, "debkeep: %s: too many options\n", argv[0]);
		return EXIT_INTERNAL;
	}
	if (n)
		memcpy(opts, o->opts, n * sizeof(*opts));
	for (size_t i = o->lock_timeout ? 0 : 1; i < ncommon; i++)
		opts[n++] = common[i];
	opts[n] = (struct option){ NULL, 0, NULL, 0 };
	if (o->lock_timeout)
		*o->lock_timeout = DK_REPO_LOCK_TIMEOUT_DEFAULT;
	optind = 0;
	while ((c = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
		switch (c) {
		case CLI_OPT_LOCK_TIMEOUT:
			if (cli_lock_timeout(cli, optarg, o->lock_timeout))
				return EXIT_INPUT;
			break;
		case CLI_OPT_JSON:
			cli->json = true;
			break;
		case 'h':
			fputs(o->usage, stdout);
			return EXIT_OK;
		case '?':
			if (o->bad)
				return cli_usage(cli, "%s", o->bad);
			fputs(o->usage, stderr);
			return EXIT_INPUT;
		default:
			if ((ret = o->take(cli, c, optarg, o->ctx)))
				return ret;
		}
	}
	if ((o->min_operands || o->max_operands) &&
	    (argc - optind < o->min_operands || (o->max_operands >= 0 && argc - optind > o->max_operands))) {
		fputs(o->usage, stderr);
		return EXIT_INPUT;
	}
	return -1;
}

int cli_repo_read(struct cli *cli, int (*walk)(struct dk_repo *r, void *ctx, json_t *arr, struct dk_err *err),
		  void *ctx, json_t **arr)
{
	struct dk_err err = DK_ERR_INIT;
	struct dk_repo r;
	int ret;

	*arr = NULL;
	/* A reader takes no lock, so neither a lock timeout nor a name for the lock matters. */
	if (dk_repo_open(&r, cli->root, 0, "debkeep", 0, &err) < 0)
		return cli_fail(&err);
	if (cli->json && !(*arr = json_array())) {
		dk_repo_close(&r);
		return EXIT_INTERNAL;
	}
	ret = walk(&r, ctx, *arr, &err);
	dk_repo_close(&r);
	if (ret < 0) {
		json_decref(*arr);
		*arr = NULL;
		/* Only a callback's allocation failure comes back without a message. */
		return err.msg[0] ? cli_fail(&err) : EXIT_INTERNAL;
	}
	return 0;
}

int cli_repo_drop(struct cli *cli, struct dk_repo *r, const char *what, const char *name,
		  int (*drop)(struct dk_repo *r, const char *name, struct dk_err *err))
{
	struct dk_err err = DK_ERR_INIT;
	int ret = drop(r, name, &err);

	dk_repo_close(r);
	if (ret < 0)
		return cli_fail(&err);
	if (cli->json)
		return cli_json_out(json_pack("{s:s, s:b}", "name", name, "dropped", 1));
	printf("%s %s dropped\n", what, name);
	return EXIT_OK;
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
