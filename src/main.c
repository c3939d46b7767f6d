/* main.c - the debkeep command: global options and the table of command groups */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static int cmd_help(struct cli *cli, int argc, char **argv);

static const struct cli_command commands[] = {
	{ "version", cmd_version, 0, "compare A B | compare --batch", "compare Debian versions as dpkg does" },
	{ "pkglist", cmd_pkglist, 0, "resolve|why ...", "resolve a package list against Packages indices" },
	{ "init", cmd_init, CLI_NEEDS_REPO, NULL, "create the data root (--root DIR, $DEBKEEP_ROOT, ./debkeep-data)" },
	{ "import", cmd_import, CLI_NEEDS_REPO, "FILE.deb|DIR... [--into NAME]", "add local packages to a collection" },
	{ "mirror", cmd_mirror, CLI_NEEDS_REPO, "create|update|list|show|drop ...", "verified mirrors of upstream apt repositories" },
	{ "snapshot", cmd_snapshot, CLI_NEEDS_REPO, "create|list|show|diff|merge|filter|drop ...", "immutable package sets" },
	{ "publish", cmd_publish, CLI_NEEDS_REPO, "SNAPSHOT --prefix P --suite S | switch | drop", "a signed apt repository, switched in atomically" },
	{ "serve", cmd_serve, CLI_NEEDS_REPO, "[--listen ADDR:PORT]", "read-only HTTP for the published trees" },
	{ "gc", cmd_gc, CLI_NEEDS_REPO, "[--dry-run]", "delete objects nothing refers to" },
	{ "check", cmd_check, CLI_NEEDS_REPO, NULL, "re-hash every object and check every reference" },
	{ "build", cmd_build, CLI_NEEDS_REPO, "--snapshot S --list L --arch A -o IMAGE", "a reproducible root file system image" },
	{ "diff", cmd_diff, 0, "A B", "explain every difference between two builds, .debs or trees" },
	{ "cve", cmd_cve, CLI_NEEDS_REPO, "update|scan|diff ...", "security tracker data and what it says of a target" },
	{ "gate", cmd_gate, CLI_NEEDS_REPO, "...", "release decision with evidence (exit 0 pass, 1 fail)" },
	{ "kconfig", cmd_kconfig, 0, "check CONFIG", "kernel configuration hardening report" },
	{ "swu", cmd_swu, 0, "create|verify ...", "SWUpdate A/B update bundles" },
	{ "ebg", cmd_ebg, 0, "env read|write FILE", "EFI Boot Guard environment (BGENV.DAT)" },
	{ "lava", cmd_lava, 0, "job ...", "LAVA test job definitions for an image" },
	{ "help", cmd_help, 0, NULL, "this list" },
	{ NULL, NULL, 0, NULL, NULL },
};

static void usage(FILE *f)
{
	fputs("usage: debkeep [--root DIR] [--json] COMMAND [ARGS]\n\n"
	      "Keep a Debian-based product reproducible and secure for a decade.\n\n"
	      "commands:\n",
	      f);
	cli_print_table(f, NULL, commands);
	fputs("\n'debkeep COMMAND --help' tells more. Exit status: 0 success, 1 found something\n"
	      "(differences, open issues), 2 usage or input error, 3 internal error.\n",
	      f);
}

static int cmd_help(struct cli *cli, int argc, char **argv)
{
	usage(stdout);
	return EXIT_OK;
}

/* git's run_builtin(): a command that could not write its output has failed. */
static int finish_stdout(int code)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "debkeep: write error on standard output: %s\n", strerror(errno));
		return EXIT_INTERNAL;
	}
	return code;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli cli = { 0 };
	int c;

	cli.progress = isatty(STDERR_FILENO);
	cli.root = getenv("DEBKEEP_ROOT");
	/* Stop at the command name: the rest belongs to the command. */
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			cli.root = optarg;
			break;
		case 'j':
			cli.json = true;
			break;
		case 'h':
			usage(stdout);
			return finish_stdout(EXIT_OK);
		default:
			usage(stderr);
			return EXIT_INPUT;
		}
	}
	if (!cli.root)
		cli.root = "./debkeep-data";
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		usage(stderr);
		return EXIT_INPUT;
	}
	for (const struct cli_command *cmd = commands; cmd->name; cmd++) {
		if (strcmp(cmd->name, argv[0]) == 0) {
			cli.prog = "debkeep";
			/* The group gets its own name as argv[0], as getopt expects of a program's. */
			return finish_stdout(cmd->run(&cli, argc, argv));
		}
	}
	fprintf(stderr, "debkeep: unknown command '%s'\n", argv[0]);
	usage(stderr);
	return EXIT_INPUT;
}
