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

/* Seconds since the epoch, as --date and --epoch take them: a decimal number, else -1. */
long long cli_parse_epoch(const char *s);

/* Print a JSON value (stolen) on stdout with a newline; returns 0 or EXIT_INTERNAL. */
int cli_json_out(json_t *v);

struct option;
struct dk_repo;

/* getopt_long values of the options cli_parse adds to a command's own; a command's own stay below. */
enum {
	CLI_OPT_LOCK_TIMEOUT = 0x10000,
	CLI_OPT_JSON,
};

/*
 * A command's options: its own, then the ones every command shares, which cli_parse adds in this order
 * after them (getopt names an ambiguous abbreviation's candidates in table order): --lock-timeout SECONDS
 * when lock_timeout is set, --json (sets cli->json) and --help/-h.
 */
struct cli_options {
	const char *usage;	   /* --help prints it on stdout, a bad option on stderr (unless bad) */
	const char *bad;	   /* else a bad option is this message, through cli_usage */
	const char *shortopts;	   /* its own short options, as getopt's optstring ("h" is added) */
	const struct option *opts; /* its own long options, ended by a zeroed entry; or NULL */
	/* Each of its own options as getopt_long returns it; returns 0, else the exit code. */
	int (*take)(struct cli *cli, int opt, char *arg, void *ctx);
	void *ctx;
	double *lock_timeout; /* set to the default, then to --lock-timeout's value; NULL: no such option */
	/*
	 * How many operands it takes, max_operands -1 for no limit: another number prints the usage on
	 * stderr. Both 0: not checked here (a command that takes none names the stray one itself).
	 */
	int min_operands, max_operands;
};

/*
 * getopt_long over argv (argv[0] the command's name) with o's options. Returns -1 to go on, with optind
 * at the first operand, else the exit code: 0 after --help, EXIT_INPUT for a bad option (printed).
 */
int cli_parse(struct cli *cli, int argc, char **argv, const struct cli_options *o);

/* --lock-timeout's value into t: seconds, 0 to 86400; returns 0, else the usage error's exit code. */
int cli_lock_timeout(struct cli *cli, const char *s, double *t);

/*
 * dk_repo_open of the data root for a command: a writer (flags) names itself
 * in the lock as "debkeep [GROUP] ARGV..." so a waiting writer can say who
 * holds it. Returns 0, else the exit code (the error printed).
 */
int cli_repo_open(struct cli *cli, struct dk_repo *r, unsigned flags, double timeout, const char *group, int argc,
		  char **argv);

/*
 * What list, show and diff share: open the data root read-only, run walk with a JSON array to fill
 * (NULL for text output, which walk prints as it goes), close it. Returns 0 with *arr the array for
 * the caller to print (NULL for text), else the exit code (the error printed).
 */
int cli_repo_read(struct cli *cli, int (*walk)(struct dk_repo *r, void *ctx, json_t *arr, struct dk_err *err),
		  void *ctx, json_t **arr);

/*
 * What 'drop NAME' subcommands share: drop name with r (open for writing), close r, say what was
 * dropped. Returns the exit code (an error printed).
 */
int cli_repo_drop(struct cli *cli, struct dk_repo *r, const char *what, const char *name,
		  int (*drop)(struct dk_repo *r, const char *name, struct dk_err *err));

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
