/* cmd-gc.c - debkeep gc (delete what nothing refers to) and debkeep check (the data root's fsck) */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <debkeep/repo.h>

#include "cli.h"

enum { OPT_DRY_RUN = 256 };

static const char gc_usage[] =
	"usage: debkeep [--root DIR] gc [--dry-run] [--lock-timeout SECONDS] [--json]\n\n"
	"Delete the package rows no snapshot or collection refers to (local collections and the mirrors'\n"
	"current sets count), then the objects no row names, except those a published pool file still\n"
	"links; and the staging files of processes that are gone. Resumable downloads in tmp/mirror-*/\n"
	"stay (their size is reported). --dry-run reports what would go and changes nothing.\n\n"
	"Exit status: 0 done; 2 usage error or a data root that cannot be changed; 3 internal error.\n";

static const char check_usage[] =
	"usage: debkeep [--root DIR] check [--json]\n\n"
	"Check the data root without changing it: every object's SHA-256 against its name, its mode\n"
	"(0444) and size against its row; every package row's object; snapshots, collections and\n"
	"publications naming rows and snapshots that exist; every published tree under public/ against\n"
	"its Release (each listed file's size and hashes, and its by-hash copies) and Packages indices\n"
	"(each pool file there, the object itself or the same bytes); InRelease and Release.gpg verifying\n"
	"with the publication's key alone, InRelease's text being Release (an unsigned publication has\n"
	"neither). One line per problem on stdout.\n\n"
	"Exit status: 0 clean; 1 problems found; 2 usage or input error; 3 internal error.\n";

static int take(struct cli *cli, int opt, char *arg, void *ctx)
{
	bool *dry_run = ctx;

	/* check shares gc's options but not --dry-run, which it refuses by name. */
	if (!dry_run)
		return cli_usage(cli, "check: unknown option --dry-run");
	*dry_run = true;
	return 0;
}

static int parse(struct cli *cli, int argc, char **argv, const char *usage, bool *dry_run, double *timeout)
{
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ NULL, 0, NULL, 0 },
	};
	const struct cli_options o = {
		.usage = usage, .opts = opts, .take = take, .ctx = dry_run, .lock_timeout = timeout,
	};
	int ret = cli_parse(cli, argc, argv, &o);

	if (ret >= 0)
		return ret;
	if (optind != argc)
		return cli_usage(cli, "%s: unexpected argument '%s'", argv[0], argv[optind]);
	return -1;
}

int cmd_gc(struct cli *cli, int argc, char **argv)
{
	double timeout;
	struct dk_err err = DK_ERR_INIT;
	struct dk_gc_stats st;
	struct dk_repo r;
	bool dry_run = false;
	int ret = parse(cli, argc, argv, gc_usage, &dry_run, &timeout);

	if (ret >= 0)
		return ret;
	if ((ret = cli_repo_open(cli, &r, DK_REPO_WRITE, timeout, NULL, argc, argv)))
		return ret;
	ret = dk_gc(&r, dry_run, &st, &err);
	dk_repo_close(&r);
	if (ret < 0)
		return cli_fail(&err);
	if (cli->json)
		return cli_json_out(json_pack("{s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "dry_run", dry_run,
					      "package_rows", (json_int_t)st.rows, "source_rows",
					      (json_int_t)st.source_rows, "objects", (json_int_t)st.objects,
					      "bytes", (json_int_t)st.bytes, "kept_linked", (json_int_t)st.linked,
					      "stale_staging", (json_int_t)st.tmp, "stale_staging_bytes",
					      (json_int_t)st.tmp_bytes, "downloads_bytes",
					      (json_int_t)st.downloads_bytes));
	printf("%s %zu package rows", dry_run ? "would delete" : "deleted", st.rows);
	if (st.source_rows)
		printf(", %zu source package rows", st.source_rows);
	printf(" and %zu objects (%llu bytes)", st.objects, (unsigned long long)st.bytes);
	if (st.tmp)
		printf("; %s %zu stale staging entries (%llu bytes)", dry_run ? "would remove" : "removed", st.tmp,
		       (unsigned long long)st.tmp_bytes);
	putchar('\n');
	if (st.linked)
		printf("kept %zu unreferenced package rows whose objects published pool files still link\n",
		       st.linked);
	if (st.downloads_bytes)
		printf("kept resumable downloads in tmp/mirror-*: %llu bytes\n",
		       (unsigned long long)st.downloads_bytes);
	return EXIT_OK;
}

static int report(void *ctx, const char *where, const char *what)
{
	json_t *arr = ctx;

	if (arr)
		return json_array_append_new(arr, json_pack("{s:s, s:s}", "where", where, "problem", what))
			       ? DK_ENOMEM
			       : 0;
	printf("%s: %s\n", where, what);
	return 0;
}

static int check_walk(struct dk_repo *r, void *ctx, json_t *arr, struct dk_err *err)
{
	return dk_check(r, report, arr, ctx, err);
}

int cmd_check(struct cli *cli, int argc, char **argv)
{
	double timeout;
	struct dk_check_stats st;
	json_t *arr;
	int ret = parse(cli, argc, argv, check_usage, NULL, &timeout);

	if (ret >= 0)
		return ret;
	if ((ret = cli_repo_read(cli, check_walk, &st, &arr)))
		return ret;
	if (arr) {
		if ((ret = cli_json_out(json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "objects",
						  (json_int_t)st.objects, "bytes", (json_int_t)st.bytes, "package_rows",
						  (json_int_t)st.rows, "snapshots", (json_int_t)st.snapshots,
						  "published_suites", (json_int_t)st.trees, "pool_files",
						  (json_int_t)st.pool_files, "unreferenced_objects",
						  (json_int_t)st.unreferenced, "problems", arr))))
			return ret;
	} else {
		fprintf(stderr, "checked %zu objects (%llu bytes), %zu package rows, %zu snapshots, %zu published suites "
			"(%zu pool files): %zu problems", st.objects, (unsigned long long)st.bytes, st.rows,
			st.snapshots, st.trees, st.pool_files, st.problems);
		if (st.unreferenced)
			fprintf(stderr, "; %zu objects nothing names (gc removes them)", st.unreferenced);
		fputc('\n', stderr);
	}
	return st.problems ? EXIT_FOUND : EXIT_OK;
}
