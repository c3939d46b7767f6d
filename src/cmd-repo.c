/* cmd-repo.c - debkeep init (create the data root) and debkeep import (local .debs into a collection) */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <debkeep/buf.h>
#include <debkeep/repo.h>

#include "cli.h"

static const char init_usage[] =
	"usage: debkeep [--root DIR] init [--lock-timeout SECONDS] [--json]\n\n"
	"Create the data root (--root DIR, else $DEBKEEP_ROOT, else ./debkeep-data): debkeep.db, objects/,\n"
	"tmp/. Running it again on an existing root brings its schema up to date.\n";

static const char import_usage[] =
	"usage: debkeep [--root DIR] import FILE.deb|DIR... [--into NAME] [--lock-timeout SECONDS] [--json]\n\n"
	"Add local .debs (a directory: its *.deb, recursively) to the collection NAME (default 'local').\n"
	"Each file is stored once under objects/ by SHA-256. A package whose name, version and architecture\n"
	"were known with other content (a rebuild) is stored as a second object and reported.\n"
	"Every file is checked before anything is written: a bad one leaves the data root as it was.\n\n"
	"Exit status: 0 imported; 2 a bad file or usage error.\n";

enum { OPT_INTO = 256 };

int cmd_init(struct cli *cli, int argc, char **argv)
{
	double timeout;
	const struct cli_options o = { .usage = init_usage, .lock_timeout = &timeout };
	struct dk_err err = DK_ERR_INIT;
	struct dk_repo repo;
	int v, ret = cli_parse(cli, argc, argv, &o);

	if (ret >= 0)
		return ret;
	if (optind != argc)
		return cli_usage(cli, "init: unexpected argument '%s'", argv[optind]);
	if ((ret = cli_repo_open(cli, &repo, DK_REPO_CREATE, timeout, NULL, argc, argv)))
		return ret;
	if (dk_db_schema_version(&repo.db, "repo", &v, &err) < 0) {
		dk_repo_close(&repo);
		return cli_fail(&err);
	}
	dk_repo_close(&repo);
	if (cli->json)
		return cli_json_out(json_pack("{s:s, s:i}", "root", cli->root, "schema", v));
	printf("data root %s ready (repository schema %d)\n", cli->root, v);
	return EXIT_OK;
}

struct import_report {
	json_t *rebuilt; /* NULL for text output */
};

static void report_rebuilt(void *ctx, const char *file, const char *name, const char *version, const char *arch,
			   const char *old_sha, const char *new_sha)
{
	struct import_report *rep = ctx;

	if (rep->rebuilt) {
		json_array_append_new(rep->rebuilt,
				      json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "file", file, "package", name,
						"version", version, "architecture", arch, "old_sha256", old_sha,
						"new_sha256", new_sha));
		return;
	}
	printf("rebuilt: %s %s %s: %s has other content than the one already stored (sha256 %.16s..., was "
	       "%.16s...): kept as a second object\n",
	       name, version, arch, file, new_sha, old_sha);
}

static int take_into(struct cli *cli, int opt, char *arg, void *ctx)
{
	*(const char **)ctx = arg;
	return 0;
}

int cmd_import(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "into", required_argument, NULL, OPT_INTO },
		{ NULL, 0, NULL, 0 },
	};
	double timeout;
	const char *into = "local";
	const struct cli_options o = {
		.usage = import_usage, .opts = opts, .take = take_into, .ctx = &into,
		.lock_timeout = &timeout, .min_operands = 1, .max_operands = -1,
	};
	struct import_report rep = { NULL };
	struct dk_import_set set;
	struct dk_import_stats st;
	struct dk_err err = DK_ERR_INIT;
	struct dk_repo repo;
	int r = cli_parse(cli, argc, argv, &o);

	if (r >= 0)
		return r;
	/* Files first: a bad one is reported without touching the data root, or needing one. */
	if (dk_import_read(&set, argv + optind, argc - optind, &err) < 0) {
		dk_import_set_release(&set);
		return cli_fail(&err);
	}
	if ((r = cli_repo_open(cli, &repo, DK_REPO_WRITE, timeout, NULL, argc, argv))) {
		dk_import_set_release(&set);
		return r;
	}
	if (cli->json && !(rep.rebuilt = json_array())) {
		dk_repo_close(&repo);
		dk_import_set_release(&set);
		return EXIT_INTERNAL;
	}
	r = dk_import_add(&repo, into, &set, report_rebuilt, &rep, &st, &err);
	dk_repo_close(&repo);
	dk_import_set_release(&set);
	if (r < 0) {
		json_decref(rep.rebuilt);
		return cli_fail(&err);
	}
	if (cli->json)
		return cli_json_out(json_pack("{s:s, s:I, s:I, s:I, s:o}", "collection", into, "files",
					      (json_int_t)st.files, "added", (json_int_t)st.added, "present",
					      (json_int_t)st.present,
					      "rebuilt", rep.rebuilt));
	printf("imported %zu files into '%s': %zu new, %zu already stored, %zu rebuilt\n", st.files, into, st.added,
	       st.present, st.rebuilt);
	return EXIT_OK;
}
