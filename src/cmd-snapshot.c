/* cmd-snapshot.c - debkeep snapshot create|merge|filter|list|show|diff|drop: immutable package sets */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <debkeep/repo.h>
#include <debkeep/sources.h>

#include "cli.h"

enum { OPT_FROM_LOCAL = 256, OPT_FROM_MIRROR, OPT_DESCRIPTION, OPT_KEEP_ALL, OPT_FROM, OPT_LIST, OPT_ARCH };

struct snap_opts {
	double timeout;
	bool from_local;
	const char *from_mirror;
	const char *description;
	bool keep_all;
	const char *from, *list, *arch;
};

static int take(struct cli *cli, int opt, char *arg, void *ctx)
{
	struct snap_opts *o = ctx;

	switch (opt) {
	case OPT_FROM_LOCAL:
		o->from_local = true;
		break;
	case OPT_FROM_MIRROR:
		o->from_mirror = arg;
		break;
	case OPT_DESCRIPTION:
		o->description = arg;
		break;
	case OPT_KEEP_ALL:
		o->keep_all = true;
		break;
	case OPT_FROM:
		o->from = arg;
		break;
	case OPT_LIST:
		o->list = arg;
		break;
	case OPT_ARCH:
		o->arch = arg;
		break;
	}
	return 0;
}

static const struct option snapshot_options[] = {
	{ "from-local", no_argument, NULL, OPT_FROM_LOCAL },
	{ "from-mirror", required_argument, NULL, OPT_FROM_MIRROR },
	{ "description", required_argument, NULL, OPT_DESCRIPTION },
	{ "keep-all", no_argument, NULL, OPT_KEEP_ALL },
	{ "from", required_argument, NULL, OPT_FROM },
	{ "list", required_argument, NULL, OPT_LIST },
	{ "arch", required_argument, NULL, OPT_ARCH },
	{ NULL, 0, NULL, 0 },
};

/*
 * The options every subcommand takes (and create's own), and from min to max operands (see struct
 * cli_options); returns -1 to go on, else the exit code. usage is printed for --help and for a bad
 * option or operand count.
 */
static int parse(struct cli *cli, int argc, char **argv, const char *usage, int min, int max,
		 struct snap_opts *o)
{
	const struct cli_options co = {
		.usage = usage, .opts = snapshot_options, .take = take, .ctx = o, .lock_timeout = &o->timeout,
		.min_operands = min, .max_operands = max,
	};

	return cli_parse(cli, argc, argv, &co);
}

/* The data root for a subcommand that writes (list, show and diff read through cli_repo_read). */
static int open_repo(struct cli *cli, struct dk_repo *r, const struct snap_opts *o, int argc, char **argv)
{
	return cli_repo_open(cli, r, DK_REPO_WRITE, o->timeout, "snapshot", argc, argv);
}

static const char create_usage[] =
	"usage: debkeep snapshot create NAME --from-local [COLLECTION] | --from-mirror MIRROR\n"
	"                                [--description TEXT] [--json]\n\n"
	"Record the current members of a local collection (default 'local'), or what the last\n"
	"'mirror update' of MIRROR verified, as the snapshot NAME. Only metadata is written; a\n"
	"snapshot never changes once made.\n";

static int snap_create(struct cli *cli, int argc, char **argv)
{
	struct snap_opts o = { 0 };
	struct dk_err err = DK_ERR_INIT;
	struct dk_snapshot_info info;
	const char *collection = "local";
	char mirror[300];
	struct dk_repo r;
	int ret = parse(cli, argc, argv, create_usage, 1, 2, &o);

	if (ret >= 0)
		return ret;
	if (o.from_local == !!o.from_mirror)
		return cli_usage(cli, "snapshot create: say where from: --from-local [COLLECTION] or --from-mirror MIRROR");
	if (o.from_mirror && argc - optind == 2)
		return cli_usage(cli, "snapshot create: --from-mirror takes no COLLECTION");
	if (argc - optind == 2)
		collection = argv[optind + 1];
	if (o.from_mirror) {
		/* A mirror keeps what its last update verified as the collection "mirror/NAME" (lib/repo/mirror.c). */
		if ((size_t)snprintf(mirror, sizeof(mirror), "mirror/%s", o.from_mirror) >= sizeof(mirror))
			return cli_usage(cli, "--from-mirror: name too long");
		collection = mirror;
	}
	if ((ret = open_repo(cli, &r, &o, argc, argv)))
		return ret;
	if (dk_snapshot_create_local(&r, argv[optind], collection, o.description, &err) < 0 ||
	    dk_snapshot_get(&r, argv[optind], &info, &err) < 0) {
		dk_repo_close(&r);
		return cli_fail(&err);
	}
	dk_repo_close(&r);
	if (cli->json)
		ret = cli_json_out(json_pack("{s:s, s:s, s:s, s:I}", "name", info.name, "origin", info.origin, "created",
					     info.created, "packages", (json_int_t)info.count));
	else
		printf("snapshot %s: %lld packages from %s\n", info.name, info.count, info.origin);
	dk_snapshot_info_release(&info);
	return ret;
}

static json_t *info_json(const struct dk_snapshot_info *s)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:I}", "name", s->name, "created", s->created, "origin", s->origin,
			 "description", s->description, "packages", (json_int_t)s->count);
}

static int list_one(void *ctx, const struct dk_snapshot_info *s)
{
	json_t *arr = ctx;

	if (arr)
		return json_array_append_new(arr, info_json(s)) ? DK_ENOMEM : 0;
	printf("%s\t%lld packages\t%s\t%s%s%s\n", s->name, s->count, s->created, s->origin, *s->description ? "\t" : "",
	       s->description);
	return 0;
}

static const char list_usage[] = "usage: debkeep snapshot list [--json]\n\n"
				 "The snapshots: name, package count, creation time (UTC), origin, description.\n";

static int list_walk(struct dk_repo *r, void *ctx, json_t *arr, struct dk_err *err)
{
	return dk_snapshot_list(r, list_one, arr, err);
}

static int snap_list(struct cli *cli, int argc, char **argv)
{
	struct snap_opts o = { 0 };
	json_t *arr;
	int ret = parse(cli, argc, argv, list_usage, 0, 0, &o);

	if (ret >= 0)
		return ret;
	if (optind != argc)
		return cli_usage(cli, "snapshot list: unexpected argument '%s'", argv[optind]);
	if ((ret = cli_repo_read(cli, list_walk, NULL, &arr)))
		return ret;
	return arr ? cli_json_out(arr) : EXIT_OK;
}

static int show_one(void *ctx, const struct dk_snapshot_pkg *p)
{
	json_t *arr = ctx;

	if (arr)
		return json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s}", "package",
							    p->name, "version", p->version, "architecture", p->arch,
							    "source", p->source, "source_version", p->source_version,
							    "size", (json_int_t)p->size, "sha256", p->sha256,
							    "filename", p->filename))
			       ? DK_ENOMEM
			       : 0;
	printf("%s\t%s\t%s\t%s\n", p->name, p->version, p->arch, p->sha256);
	return 0;
}

static const char show_usage[] = "usage: debkeep snapshot show NAME [--json]\n\n"
				 "The snapshot's packages: name, version, architecture, SHA-256.\n";

struct show_ctx {
	const char *name;
	struct dk_snapshot_info info;
	long long sources;
};

static int show_walk(struct dk_repo *r, void *ctx, json_t *arr, struct dk_err *err)
{
	struct show_ctx *s = ctx;
	int ret = dk_snapshot_get(r, s->name, &s->info, err);

	if (ret < 0 || (ret = dk_sources_count(r, NULL, s->name, &s->sources, err)) < 0)
		return ret;
	if (!arr)
		printf("# snapshot %s: %lld packages from %s, created %s%s%s\n", s->info.name,
		       s->info.count, s->info.origin, s->info.created, *s->info.description ? ": " : "",
		       s->info.description);
	if (!arr && s->sources)
		printf("# source packages: %lld\n", s->sources);
	return dk_snapshot_packages(r, s->name, show_one, arr, err);
}

static int snap_show(struct cli *cli, int argc, char **argv)
{
	struct snap_opts o = { 0 };
	struct show_ctx s = { 0 };
	json_t *arr;
	int ret = parse(cli, argc, argv, show_usage, 1, 1, &o);

	if (ret >= 0)
		return ret;
	s.name = argv[optind];
	if ((ret = cli_repo_read(cli, show_walk, &s, &arr)) == 0 && arr) {
		json_t *o2 = info_json(&s.info);

		json_object_set_new(o2, "sources", json_integer(s.sources));
		json_object_set_new(o2, "members", arr);
		ret = cli_json_out(o2);
	}
	dk_snapshot_info_release(&s.info);
	return ret;
}

static const char *const change_word[] = {
	[DK_CHANGE_ADDED] = "added",
	[DK_CHANGE_REMOVED] = "removed",
	[DK_CHANGE_UPGRADED] = "upgraded",
	[DK_CHANGE_DOWNGRADED] = "downgraded",
	[DK_CHANGE_REBUILT] = "rebuilt",
};

struct diff_ctx {
	const char *from, *to;
	json_t *arr;
	char *source; /* the source group being printed */
	size_t n;
};

static int diff_one(void *ctx, const struct dk_snapshot_change *c)
{
	struct diff_ctx *d = ctx;

	d->n++;
	if (d->arr) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "source", c->source, "package", c->name, "architecture",
				      c->arch, "change", change_word[c->kind]);

		if (!o)
			return DK_ENOMEM;
		if (c->old_version)
			json_object_set_new(o, "old_version", json_string(c->old_version));
		if (c->new_version)
			json_object_set_new(o, "new_version", json_string(c->new_version));
		if (c->old_sha256)
			json_object_set_new(o, "old_sha256", json_string(c->old_sha256));
		if (c->new_sha256)
			json_object_set_new(o, "new_sha256", json_string(c->new_sha256));
		return json_array_append_new(d->arr, o) ? DK_ENOMEM : 0;
	}
	if (!d->source || strcmp(d->source, c->source) != 0) {
		free(d->source);
		if (!(d->source = strdup(c->source)))
			return DK_ENOMEM;
		printf("%s\n", c->source);
	}
	switch (c->kind) {
	case DK_CHANGE_ADDED:
		printf("  added       %s %s %s\n", c->name, c->arch, c->new_version);
		break;
	case DK_CHANGE_REMOVED:
		printf("  removed     %s %s %s\n", c->name, c->arch, c->old_version);
		break;
	case DK_CHANGE_REBUILT:
		printf("  rebuilt     %s %s %s (sha256 %.16s... -> %.16s...)\n", c->name, c->arch, c->new_version,
		       c->old_sha256, c->new_sha256);
		break;
	default:
		printf("  %-11s %s %s %s -> %s\n", change_word[c->kind], c->name, c->arch, c->old_version,
		       c->new_version);
	}
	return 0;
}

static const char diff_usage[] =
	"usage: debkeep snapshot diff A B [--json]\n\n"
	"What changed from snapshot A to snapshot B, grouped by source package: added, removed,\n"
	"upgraded or downgraded (with both versions), rebuilt (same version, other content).\n\n"
	"Exit status: 0 no differences; 1 differences; 2 an unknown snapshot or usage error.\n";

static int diff_walk(struct dk_repo *r, void *ctx, json_t *arr, struct dk_err *err)
{
	struct diff_ctx *d = ctx;

	d->arr = arr;
	return dk_snapshot_diff(r, d->from, d->to, diff_one, d, err);
}

static int snap_diff(struct cli *cli, int argc, char **argv)
{
	struct snap_opts o = { 0 };
	struct diff_ctx d = { 0 };
	json_t *arr;
	int ret = parse(cli, argc, argv, diff_usage, 2, 2, &o);

	if (ret >= 0)
		return ret;
	d.from = argv[optind];
	d.to = argv[optind + 1];
	ret = cli_repo_read(cli, diff_walk, &d, &arr);
	free(d.source);
	if (ret)
		return ret;
	if (arr && (ret = cli_json_out(json_pack("{s:s, s:s, s:o}", "from", d.from, "to", d.to, "changes", arr))))
		return ret;
	return d.n ? EXIT_FOUND : EXIT_OK;
}

static const char drop_usage[] = "usage: debkeep snapshot drop NAME [--json]\n\n"
				 "Forget a snapshot (its objects stay until gc). Refused while a publication or\n"
				 "release uses it.\n";

static int snap_drop(struct cli *cli, int argc, char **argv)
{
	struct snap_opts o = { 0 };
	struct dk_repo r;
	int ret = parse(cli, argc, argv, drop_usage, 1, 1, &o);

	if (ret >= 0)
		return ret;
	if ((ret = open_repo(cli, &r, &o, argc, argv)))
		return ret;
	return cli_repo_drop(cli, &r, "snapshot", argv[optind], dk_snapshot_drop);
}

/* The new snapshot's summary, as create prints it. */
static int created(struct cli *cli, struct dk_repo *r, const char *name)
{
	struct dk_err err = DK_ERR_INIT;
	struct dk_snapshot_info info;
	int ret;

	if (dk_snapshot_get(r, name, &info, &err) < 0) {
		dk_repo_close(r);
		return cli_fail(&err);
	}
	dk_repo_close(r);
	if (cli->json)
		ret = cli_json_out(json_pack("{s:s, s:s, s:s, s:I}", "name", info.name, "origin", info.origin, "created",
					     info.created, "packages", (json_int_t)info.count));
	else
		ret = printf("snapshot %s: %lld packages from %s\n", info.name, info.count, info.origin) < 0 ? EXIT_INTERNAL
													 : EXIT_OK;
	dk_snapshot_info_release(&info);
	return ret;
}

static const char merge_usage[] =
	"usage: debkeep snapshot merge NAME A B... [--keep-all] [--description TEXT] [--json]\n\n"
	"A new snapshot NAME with every package of the snapshots A, B...; where they hold the same\n"
	"package and architecture at different versions, only the highest (dpkg order) stays, unless\n"
	"--keep-all keeps every version. Its origin is \"merge:A+B\".\n";

static int snap_merge(struct cli *cli, int argc, char **argv)
{
	struct snap_opts o = { 0 };
	struct dk_err err = DK_ERR_INIT;
	struct dk_repo r;
	int ret = parse(cli, argc, argv, merge_usage, 2, -1, &o);

	if (ret >= 0)
		return ret;
	if ((ret = open_repo(cli, &r, &o, argc, argv)))
		return ret;
	if (dk_snapshot_merge(&r, argv[optind], (const char *const *)argv + optind + 1, (size_t)(argc - optind - 1),
			      o.keep_all, o.description, &err) < 0) {
		dk_repo_close(&r);
		return cli_fail(&err);
	}
	return created(cli, &r, argv[optind]);
}

static const char filter_usage[] =
	"usage: debkeep snapshot filter NAME --from SNAPSHOT --list LIST.yaml [--arch A] [--description TEXT]\n"
	"                                [--json]\n\n"
	"A new snapshot NAME with what the package list needs from SNAPSHOT: its packages and their\n"
	"dependency closure, resolved as 'pkglist resolve' does, over the snapshot's own packages, for\n"
	"--arch A, else the list's architectures, else the snapshot's. A package the snapshot cannot\n"
	"satisfy is an error naming it. Its origin is \"filter:SNAPSHOT\".\n";

static int snap_filter(struct cli *cli, int argc, char **argv)
{
	struct snap_opts o = { 0 };
	struct dk_err err = DK_ERR_INIT;
	struct dk_repo r;
	int ret = parse(cli, argc, argv, filter_usage, 1, 1, &o);

	if (ret >= 0)
		return ret;
	if (!o.from || !o.list)
		return cli_usage(cli, "snapshot filter: --from SNAPSHOT and --list LIST.yaml are required");
	if ((ret = open_repo(cli, &r, &o, argc, argv)))
		return ret;
	if (dk_snapshot_filter(&r, argv[optind], o.from, o.list, o.arch, o.description, &err) < 0) {
		dk_repo_close(&r);
		return cli_fail(&err);
	}
	return created(cli, &r, argv[optind]);
}

static const struct cli_command snapshot_commands[] = {
	{ "create", snap_create, CLI_NEEDS_REPO, "NAME --from-local [COLL] | --from-mirror M", "record a collection's or mirror's packages" },
	{ "merge", snap_merge, CLI_NEEDS_REPO, "NAME A B... [--keep-all]", "one snapshot from several, highest versions" },
	{ "filter", snap_filter, CLI_NEEDS_REPO, "NAME --from S --list L", "a package list's closure inside a snapshot" },
	{ "list", snap_list, CLI_NEEDS_REPO, NULL, "the snapshots" },
	{ "show", snap_show, CLI_NEEDS_REPO, "NAME", "a snapshot's packages" },
	{ "diff", snap_diff, CLI_NEEDS_REPO, "A B", "added, removed, upgraded packages, by source" },
	{ "drop", snap_drop, CLI_NEEDS_REPO, "NAME", "forget a snapshot no publication uses" },
	{ NULL, NULL, 0, NULL, NULL },
};

int cmd_snapshot(struct cli *cli, int argc, char **argv)
{
	return cli_dispatch(cli, "snapshot", snapshot_commands, argc, argv);
}
