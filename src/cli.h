/* cli.h - what the command's parts share: the context, the command tables, output helpers */
#ifndef DEBKEEP_CLI_H
#define DEBKEEP_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include <debkeep/err.h>

/* Exit codes, as DESIGN.md says: like diff(1), plus usage/input and internal errors. */
enum {
	EXIT_OK = 0,
	EXIT_FOUND = 1,
	EXIT_INPUT = 2,
	EXIT_INTERNAL = 3,
};

struct cli {
	bool json;
	bool progress; /* stderr is a terminal */
	const char *root;
	const char *prog; /* "debkeep version compare", for usage messages */
};

/* A handler's argv[0] is its own name (the group's, or the subcommand's), as getopt expects. */
typedef int (*cli_handler)(struct cli *cli, int argc, char **argv);

enum cli_flags {
	CLI_NEEDS_REPO = 1 << 0,
};

/* A row of a command table: git's commands[], reprepro's all_actions[]. */
struct cli_command {
	const char *name;
	cli_handler run;
	unsigned flags;
	const char *args; /* synopsis of the arguments, for help */
	const char *help; /* one line */
};

/* Dispatch argv[1] (argv[0] is the group) through table; prints usage for an unknown or missing name. */
int cli_dispatch(struct cli *cli, const char *group, const struct cli_command *table, int argc, char **argv);
void cli_print_table(FILE *f, const char *group, const struct cli_command *table);

/* "debkeep: MSG" on stderr; returns the exit code for err's code. */
int cli_fail(const struct dk_err *err);
/* "debkeep: FMT" on stderr; returns EXIT_INPUT. */
int cli_usage(struct cli *cli, const char *fmt, ...) DK_PRINTF(2, 3);
int cli_exit_code(int dk_status);

/*
 * The path of a data file shipped with debkeep (rel is relative to data/, e.g. "kconfig/rules"):
 * $DEBKEEP_DATADIR, then the installed data directory, then the source tree's data/. Returns the
 * first that exists, else the installed path (so a message names where it should be).
 */
const char *cli_data_path(const char *rel, char *buf, size_t n);

/* Print a JSON value (stolen) on stdout with a newline; returns 0 or EXIT_INTERNAL. */
int cli_json_out(json_t *v);

struct dk_repo;

/* --lock-timeout's value into t: seconds, 0 to 86400; returns 0, else the usage error's exit code. */
int cli_lock_timeout(struct cli *cli, const char *s, double *t);

/*
 * dk_repo_open of the data root for a command: a writer (flags) names itself
 * in the lock as "debkeep [GROUP] ARGV..." so a waiting writer can say who
 * holds it. Returns 0, else the exit code (the error printed).
 */
int cli_repo_open(struct cli *cli, struct dk_repo *r, unsigned flags, double timeout, const char *group, int argc,
		  char **argv);

/* The group handlers, one per cmd-<group>.c. */
int cmd_build(struct cli *cli, int argc, char **argv);
int cmd_check(struct cli *cli, int argc, char **argv);
int cmd_cve(struct cli *cli, int argc, char **argv);
int cmd_diff(struct cli *cli, int argc, char **argv);
int cmd_ebg(struct cli *cli, int argc, char **argv);
int cmd_gate(struct cli *cli, int argc, char **argv);
int cmd_gc(struct cli *cli, int argc, char **argv);
int cmd_import(struct cli *cli, int argc, char **argv);
int cmd_init(struct cli *cli, int argc, char **argv);
int cmd_kconfig(struct cli *cli, int argc, char **argv);
int cmd_lava(struct cli *cli, int argc, char **argv);
int cmd_mirror(struct cli *cli, int argc, char **argv);
int cmd_pkglist(struct cli *cli, int argc, char **argv);
int cmd_publish(struct cli *cli, int argc, char **argv);
int cmd_serve(struct cli *cli, int argc, char **argv);
int cmd_snapshot(struct cli *cli, int argc, char **argv);
int cmd_swu(struct cli *cli, int argc, char **argv);
int cmd_version(struct cli *cli, int argc, char **argv);

#endif
