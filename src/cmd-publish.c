/* cmd-publish.c - debkeep publish [switch|drop]: signed apt repositories under ROOT/public/PREFIX */
#include <dirent.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <debkeep/arena.h>
#include <debkeep/publish.h>
#include <debkeep/repo.h>
#include <debkeep/sources.h>

#include "cli.h"

static const char publish_usage[] =
	"usage: debkeep [--root DIR] [--json] publish SNAPSHOT|FILE.deb|DIR... --suite S [--prefix P]\n"
	"           [--component C]\n"
	"           [--codename C] [--origin O] [--label L] [--date EPOCH] [--valid-until EPOCH]\n"
	"           [--architectures A,B] [--sign KEYID [--gnupghome DIR]] [--public DIR]\n\n"
	"Write a complete apt repository for suite S under PUBLIC/P (PUBLIC: ROOT/public): dists/S with\n"
	"Release, InRelease and Release.gpg (when signing), C/binary-ARCH/Packages{,.gz,.xz}, by-hash/, and\n"
	"pool/ as hard links to the snapshot's objects (or to the given files). The new dists/S is built\n"
	"aside and switched in atomically. Release's Date is --date, else the snapshot's date (else\n"
	"$SOURCE_DATE_EPOCH, else the newest .deb's modification time), so publishing the same snapshot\n"
	"twice gives byte-identical indices. A single argument that is not a file names a snapshot of the\n"
	"data root; a directory stands for the .deb files in it.\n\n"
	"       debkeep publish switch SNAPSHOT --suite S [--prefix P]   republish S from another snapshot\n"
	"       debkeep publish drop --suite S [--prefix P]              remove S and the pool files only it used\n\n"
	"Exit status: 0 published; 2 usage or input error; 3 internal error.\n";

struct debs {
	char **paths;
	size_t n, cap;
};

static int add_path(struct debs *d, const char *dir, const char *name)
{
	char *p;

	if (d->n == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 64;
		char **n = realloc(d->paths, cap * sizeof(*n));

		if (!n)
			return -1;
		d->paths = n;
		d->cap = cap;
	}
	if (dir) {
		size_t len = strlen(dir) + strlen(name) + 2;

		if (!(p = malloc(len)))
			return -1;
		snprintf(p, len, "%s/%s", dir, name);
	} else if (!(p = strdup(name))) {
		return -1;
	}
	d->paths[d->n++] = p;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A directory stands for its *.deb files, taken in name order so the result does not depend on readdir. */
static int add_arg(struct debs *d, const char *arg, struct dk_err *err)
{
	struct dirent *e;
	struct stat st;
	size_t first = d->n;
	DIR *dp;

	if (stat(arg, &st) < 0)
		return dk_err_errno(err, "%s", arg);
	if (!S_ISDIR(st.st_mode))
		return add_path(d, NULL, arg) < 0 ? dk_err_set(err, DK_ENOMEM, "out of memory") : 0;
	if (!(dp = opendir(arg)))
		return dk_err_errno(err, "%s", arg);
	while ((e = readdir(dp))) {
		size_t len = strlen(e->d_name);

		if (len > 4 && strcmp(e->d_name + len - 4, ".deb") == 0 && add_path(d, arg, e->d_name) < 0) {
			closedir(dp);
			return dk_err_set(err, DK_ENOMEM, "out of memory");
		}
	}
	closedir(dp);
	qsort(d->paths + first, d->n - first, sizeof(*d->paths), cmp_str);
	return 0;
}

/* A snapshot's members as publishing wants them, every string copied into one arena. */
struct snap_pkgs {
	struct dk_publish_pkg *v;
	size_t n, alloc;
	struct dk_arena arena;
	const char *root;
	const char *component;
};

static int take_snapshot_pkg(void *ctx, const struct dk_snapshot_pkg *p)
{
	struct snap_pkgs *sp = ctx;
	struct dk_publish_pkg *d;
	char obj[PATH_MAX];

	if (sp->n == sp->alloc) {
		size_t alloc = sp->alloc ? sp->alloc * 2 : 1024;
		struct dk_publish_pkg *v = realloc(sp->v, alloc * sizeof(*v));

		if (!v)
			return DK_ENOMEM;
		sp->v = v;
		sp->alloc = alloc;
	}
	d = &sp->v[sp->n];
	memset(d, 0, sizeof(*d));
	dk_store_path(sp->root, p->sha256, obj, sizeof(obj));
	d->control = dk_arena_strdup(&sp->arena, p->control);
	d->control_len = strlen(p->control);
	d->name = dk_arena_strdup(&sp->arena, p->name);
	d->version = dk_arena_strdup(&sp->arena, p->version);
	d->arch = dk_arena_strdup(&sp->arena, p->arch);
	d->pool_path = dk_arena_strdup(&sp->arena, p->filename);
	d->object_path = dk_arena_strdup(&sp->arena, obj);
	d->component = sp->component;
	d->size = (uint64_t)p->size;
	snprintf(d->sha256, sizeof(d->sha256), "%s", p->sha256);
	snprintf(d->md5, sizeof(d->md5), "%s", p->md5 ? p->md5 : "");
	if (!d->control || !d->name || !d->version || !d->arch || !d->pool_path || !d->object_path)
		return DK_ENOMEM;
	sp->n++;
	return 0;
}

/* "2026-11-26T06:00:00Z", as snapshots record their creation. */
static int parse_stamp(const char *s, time_t *out)
{
	struct tm tm = { 0 };
	const char *end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);

	if (!end || *end)
		return -1;
	*out = timegm(&tm);
	return 0;
}

/*
 * Publish a snapshot of the data root (open for writing): its members from the database, the objects
 * as the pool, its creation time as Release's Date; and record the publication with its options, so
 * the snapshot cannot be dropped while it is published and publish switch can repeat them.
 */
static int publish_snapshot(struct dk_repo *repo, struct dk_publication *pub, struct dk_publish_opts *o,
			    bool have_date, size_t *count, struct dk_err *err)
{
	struct dk_snapshot_info info = { 0 };
	struct snap_pkgs sp = { .root = repo->root, .component = pub->component };
	struct dk_publish_sources ps = { 0 };
	char pubdir[PATH_MAX];
	const char *public = pub->public;
	int r;

	if (!*public) {
		snprintf(pubdir, sizeof(pubdir), "%s/public", repo->root);
		public = pubdir;
	}
	r = dk_snapshot_get(repo, pub->snapshot, &info, err);
	if (!r && !have_date && parse_stamp(info.created, &o->date))
		r = dk_err_set(err, DK_EINTERNAL, "snapshot '%s': unreadable creation time '%s'", pub->snapshot,
			       info.created);
	if (!r)
		r = dk_snapshot_packages(repo, pub->snapshot, take_snapshot_pkg, &sp, err);
	if (r == DK_ENOMEM)
		dk_err_set(err, DK_ENOMEM, "snapshot '%s': out of memory", pub->snapshot);
	if (!r && sp.n == 0)
		r = dk_err_set(err, DK_EINPUT, "snapshot '%s': has no packages to publish", pub->snapshot);
	if (!r)
		r = dk_sources_for_publish(repo, pub->snapshot, pub->component, &ps, err);
	o->sources = ps.v;
	o->nsources = ps.n;
	if (!r)
		r = dk_publish(public, pub->prefix, pub->suite, sp.v, sp.n, o, err);
	o->sources = NULL;
	o->nsources = 0;
	if (!r && !(r = dk_db_begin(&repo->db, err))) {
		r = dk_publication_record(repo, pub, err);
		if (!r)
			r = dk_db_commit(&repo->db, err);
		if (r)
			dk_db_rollback(&repo->db);
	}
	*count = sp.n;
	dk_publish_sources_release(&ps);
	free(sp.v);
	dk_arena_release(&sp.arena);
	dk_snapshot_info_release(&info);
	return r;
}

/* The --public directory as recorded: absolute, so a later switch from another directory finds it. */
static char *abs_or_copy(const char *path)
{
	char *p = path ? realpath(path, NULL) : NULL;

	return p ? p : path ? strdup(path) : NULL;
}

/* "a,b,c" split in place into a NULL-terminated list. */
static const char **split_list(char *s)
{
	size_t n = 2;
	const char **v;

	for (const char *p = s; *p; p++)
		n += *p == ',';
	if (!(v = calloc(n, sizeof(*v))))
		return NULL;
	n = 0;
	for (char *p = s, *comma; p; p = comma) {
		if ((comma = strchr(p, ',')))
			*comma++ = '\0';
		if (*p)
			v[n++] = p;
	}
	return v;
}

static const char switch_usage[] =
	"usage: debkeep [--root DIR] publish switch SNAPSHOT --suite S [--prefix P] [--date EPOCH] [--json]\n\n"
	"Republish suite S of prefix P from SNAPSHOT with the options its last 'publish SNAPSHOT' used\n"
	"(component, codename, origin, label, architectures, signing key), switched in atomically as\n"
	"publish does; then remove the pool files no index of the prefix names any more (the previous\n"
	"generation's, which by-hash still serves, stay). Release's Date is the new snapshot's unless\n"
	"--date is given.\n\n"
	"Exit status: 0 switched; 2 not published from a snapshot, unknown snapshot, usage or input error.\n";

static const char drop_usage[] =
	"usage: debkeep [--root DIR] publish drop --suite S [--prefix P] [--public DIR] [--json]\n\n"
	"Remove suite S of prefix P: its dists/S tree goes in one rename, then the pool files no other\n"
	"suite of the prefix names; the snapshot it published is no longer in use.\n\n"
	"Exit status: 0 dropped; 2 not published, usage or input error.\n";

/* Where switch and drop act: --suite and --prefix; and --date for switch, --public for drop. */
struct target {
	bool switching; /* else dropping */
	const char *suite, *prefix, *date, *public;
};

static int take_target(struct cli *cli, int opt, char *arg, void *ctx)
{
	struct target *t = ctx;

	switch (opt) {
	case 's':
		t->suite = arg;
		break;
	case 'p':
		t->prefix = arg;
		break;
	case 'd':
		if (!t->switching)
			return cli_usage(cli, "drop: no --date here");
		t->date = arg;
		break;
	case 'P':
		if (t->switching)
			return cli_usage(cli, "switch: no --public here (the publication records it)");
		t->public = arg;
		break;
	}
	return 0;
}

/* Returns -1 to go on, else the exit code. */
static int parse_target(struct cli *cli, int argc, char **argv, const char *usage, struct target *t)
{
	static const struct option opts[] = {
		{ "suite", required_argument, NULL, 's' },
		{ "prefix", required_argument, NULL, 'p' },
		{ "date", required_argument, NULL, 'd' },
		{ "public", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cli_options co = {
		.usage = usage, .shortopts = "s:p:", .opts = opts, .take = take_target, .ctx = t,
	};
	int ret = cli_parse(cli, argc, argv, &co);

	if (ret >= 0)
		return ret;
	if (!t->suite)
		return cli_usage(cli, "publish %s: --suite is required", argv[0]);
	return -1;
}

static int publish_switch(struct cli *cli, int argc, char **argv)
{
	struct target t = { .switching = true, .prefix = "" };
	struct dk_publish_opts o = { 0 };
	struct dk_publication pub;
	struct dk_err err = DK_ERR_INIT;
	struct dk_repo repo;
	const char **archs = NULL;
	char *old = NULL, pubdir[PATH_MAX];
	size_t n = 0, pruned = 0;
	int r = parse_target(cli, argc, argv, switch_usage, &t);

	if (r >= 0)
		return r;
	if (argc - optind != 1)
		return cli_usage(cli, "publish switch: name one snapshot");
	if (t.date && (o.date = cli_parse_epoch(t.date)) < 0)
		return cli_usage(cli, "--date: expected seconds since the epoch, got '%s'", t.date);
	if (dk_repo_open(&repo, cli->root, DK_REPO_WRITE, "debkeep publish switch", DK_REPO_LOCK_TIMEOUT_DEFAULT,
			 &err))
		return cli_fail(&err);
	r = dk_publication_get(&repo, t.prefix, t.suite, &pub, &err);
	if (r == DK_NOTFOUND)
		r = dk_err_set(&err, DK_EINPUT, "%s%s%s: not published from a snapshot (use 'publish SNAPSHOT' first)",
			       t.prefix, *t.prefix ? "/" : "", t.suite);
	if (r) {
		dk_repo_close(&repo);
		return cli_fail(&err);
	}
	old = pub.snapshot;
	if (!(pub.snapshot = strdup(argv[optind])) ||
	    (pub.architectures && !(archs = split_list(pub.architectures)))) {
		r = dk_err_set(&err, DK_ENOMEM, "out of memory");
		goto out;
	}
	o.codename = pub.codename;
	o.origin = pub.origin;
	o.label = pub.label;
	o.architectures = archs;
	o.valid_until = (time_t)pub.valid_until;
	o.sign_key = pub.sign_key;
	o.gnupghome = pub.gnupghome;
	if ((r = publish_snapshot(&repo, &pub, &o, t.date != NULL, &n, &err)))
		goto out;
	if (*pub.public)
		snprintf(pubdir, sizeof(pubdir), "%s", pub.public);
	else
		snprintf(pubdir, sizeof(pubdir), "%s/public", repo.root);
	r = dk_publish_prune(pubdir, t.prefix, &pruned, &err);
out:
	dk_repo_close(&repo);
	if (r) {
		free(old);
		free(archs);
		dk_publication_release(&pub);
		return cli_fail(&err);
	}
	if (cli->json)
		r = cli_json_out(json_pack("{s:s, s:s, s:s, s:s, s:I, s:I}", "prefix", t.prefix, "suite", t.suite,
					   "from", old, "to", pub.snapshot, "packages", (json_int_t)n, "pruned",
					   (json_int_t)pruned));
	else
		printf("switched %s%s%s from snapshot %s to %s (%zu packages, %zu old pool files removed)\n",
		       t.prefix, *t.prefix ? "/" : "", t.suite, old, pub.snapshot, n, pruned);
	free(old);
	free(archs);
	dk_publication_release(&pub);
	return r;
}

static int publish_drop(struct cli *cli, int argc, char **argv)
{
	struct target t = { .switching = false, .prefix = "" };
	struct dk_publication pub = { 0 };
	struct dk_err err = DK_ERR_INIT;
	struct dk_repo repo;
	char pubdir[PATH_MAX];
	size_t pruned = 0;
	bool recorded;
	int r = parse_target(cli, argc, argv, drop_usage, &t);

	if (r >= 0)
		return r;
	if (argc != optind)
		return cli_usage(cli, "publish drop: unexpected argument '%s'", argv[optind]);
	if (dk_repo_open(&repo, cli->root, DK_REPO_WRITE, "debkeep publish drop", DK_REPO_LOCK_TIMEOUT_DEFAULT,
			 &err))
		return cli_fail(&err);
	if ((r = dk_publication_get(&repo, t.prefix, t.suite, &pub, &err)) < 0)
		goto out;
	recorded = r == 0;
	if (recorded && *pub.public)
		snprintf(pubdir, sizeof(pubdir), "%s", pub.public);
	else if (t.public)
		snprintf(pubdir, sizeof(pubdir), "%s", t.public);
	else
		snprintf(pubdir, sizeof(pubdir), "%s/public", repo.root);
	/*
	 * The record goes first: a crash then leaves a tree nothing records, which a re-run removes. The
	 * pin goes even without a record (a publication made before records were kept).
	 */
	if (!(r = dk_db_begin(&repo.db, &err))) {
		if (!(r = dk_publication_forget(&repo, t.prefix, t.suite, &err)))
			r = dk_db_commit(&repo.db, &err);
		if (r)
			dk_db_rollback(&repo.db);
	}
	if (r < 0 || (r = dk_publish_drop(pubdir, t.prefix, t.suite, &pruned, &err)) < 0)
		goto out;
	if (r == DK_NOTFOUND && !recorded)
		r = dk_err_set(&err, DK_EINPUT, "%s%s%s: not published under %s", t.prefix, *t.prefix ? "/" : "",
			       t.suite, pubdir);
	else
		r = 0;
out:
	dk_repo_close(&repo);
	if (r) {
		dk_publication_release(&pub);
		return cli_fail(&err);
	}
	if (cli->json)
		r = cli_json_out(json_pack("{s:s, s:s, s:s?, s:I}", "prefix", t.prefix, "suite", t.suite,
					   "snapshot", pub.snapshot, "pruned", (json_int_t)pruned));
	else
		printf("dropped %s%s%s%s%s%s (%zu pool files removed)\n", t.prefix, *t.prefix ? "/" : "",
		       t.suite, recorded ? " (snapshot " : "", recorded ? pub.snapshot : "", recorded ? ")" : "",
		       pruned);
	dk_publication_release(&pub);
	return r;
}

/* What the options of 'debkeep publish SNAPSHOT|FILE.deb|DIR...' say. */
struct publish_args {
	struct dk_publish_opts o;
	const char *suite, *prefix, *component, *public, *date;
	const char **archs;
	char *archs_arg; /* --architectures as given, for the publication's record */
};

static int take_publish(struct cli *cli, int opt, char *arg, void *ctx)
{
	struct publish_args *a = ctx;

	switch (opt) {
	case 's':
		a->suite = arg;
		break;
	case 'p':
		a->prefix = arg;
		break;
	case 'c':
		a->component = arg;
		break;
	case 'C':
		a->o.codename = arg;
		break;
	case 'O':
		a->o.origin = arg;
		break;
	case 'L':
		a->o.label = arg;
		break;
	case 'd':
		a->date = arg;
		break;
	case 'V':
		if ((a->o.valid_until = cli_parse_epoch(arg)) < 0)
			return cli_usage(cli, "--valid-until: expected seconds since the epoch, got '%s'",
					 arg);
		break;
	case 'a':
		free(a->archs);
		free(a->archs_arg);
		if (!(a->archs_arg = strdup(arg)) || !(a->archs = split_list(arg)))
			return cli_usage(cli, "out of memory");
		break;
	case 'k':
		a->o.sign_key = arg;
		break;
	case 'g':
		a->o.gnupghome = arg;
		break;
	case 'P':
		a->public = arg;
		break;
	}
	return 0;
}

int cmd_publish(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "suite", required_argument, NULL, 's' },
		{ "prefix", required_argument, NULL, 'p' },
		{ "component", required_argument, NULL, 'c' },
		{ "codename", required_argument, NULL, 'C' },
		{ "origin", required_argument, NULL, 'O' },
		{ "label", required_argument, NULL, 'L' },
		{ "date", required_argument, NULL, 'd' },
		{ "valid-until", required_argument, NULL, 'V' },
		{ "architectures", required_argument, NULL, 'a' },
		{ "sign", required_argument, NULL, 'k' },
		{ "gnupghome", required_argument, NULL, 'g' },
		{ "public", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	struct publish_args a = { .prefix = "", .component = "main" };
	const struct cli_options co = {
		.usage = publish_usage, .bad = "publish: see 'debkeep publish --help'", .shortopts = "s:p:c:",
		.opts = opts, .take = take_publish, .ctx = &a,
	};
	struct dk_err err = DK_ERR_INIT;
	struct debs debs = { 0 };
	struct dk_publish_pkg *pkgs = NULL;
	char **storage = NULL;
	char pubdir[PATH_MAX];
	int r;

	if (argc >= 2 && !strcmp(argv[1], "switch")) {
		cli->prog = "debkeep publish switch";
		return publish_switch(cli, argc - 1, argv + 1);
	}
	if (argc >= 2 && !strcmp(argv[1], "drop")) {
		cli->prog = "debkeep publish drop";
		return publish_drop(cli, argc - 1, argv + 1);
	}
	if ((r = cli_parse(cli, argc, argv, &co)) >= 0)
		goto out;
	r = EXIT_OK;
	a.o.architectures = a.archs;
	if (!a.suite)
		r = cli_usage(cli, "publish: --suite is required");
	else if (optind >= argc)
		r = cli_usage(cli, "publish: name the .deb files or directories to publish");
	if (r)
		goto out;
	if (!a.public) {
		snprintf(pubdir, sizeof(pubdir), "%s/public", cli->root);
		a.public = pubdir;
	}
	if (argc - optind == 1 && access(argv[optind], F_OK) != 0 && !strstr(argv[optind], ".deb")) {
		size_t n = 0;

		if (a.date && (a.o.date = cli_parse_epoch(a.date)) < 0) {
			r = cli_usage(cli, "--date: expected seconds since the epoch, got '%s'", a.date);
			goto out;
		}
		struct dk_publication pub = { 0 };
		struct dk_repo repo;
		int pr;

		pub.prefix = (char *)a.prefix;
		pub.suite = (char *)a.suite;
		pub.snapshot = argv[optind];
		pub.public = a.public == pubdir ? strdup("") : abs_or_copy(a.public);
		pub.component = (char *)a.component;
		pub.codename = (char *)a.o.codename;
		pub.origin = (char *)a.o.origin;
		pub.label = (char *)a.o.label;
		pub.architectures = a.archs_arg;
		pub.sign_key = (char *)a.o.sign_key;
		pub.gnupghome = abs_or_copy(a.o.gnupghome);
		pub.valid_until = (long long)a.o.valid_until;
		if (!pub.public) {
			free(pub.gnupghome);
			dk_err_set(&err, DK_ENOMEM, "out of memory");
			goto fail;
		}
		if (dk_repo_open(&repo, cli->root, DK_REPO_WRITE, "debkeep publish", DK_REPO_LOCK_TIMEOUT_DEFAULT,
				 &err)) {
			free(pub.public);
			free(pub.gnupghome);
			goto fail;
		}
		pr = publish_snapshot(&repo, &pub, &a.o, a.date != NULL, &n, &err);
		dk_repo_close(&repo);
		free(pub.public);
		free(pub.gnupghome);
		if (pr)
			goto fail;
		debs.n = 0;
		if (cli->json)
			r = cli_json_out(json_pack("{s:s, s:s, s:s, s:s, s:I, s:b}", "snapshot", argv[optind],
						   "public", a.public, "prefix", a.prefix, "suite", a.suite,
						   "packages", (json_int_t)n, "signed", a.o.sign_key != NULL));
		else
			printf("published snapshot %s (%zu packages) as %s/%s%sdists/%s%s\n", argv[optind], n,
			       a.public, a.prefix, *a.prefix ? "/" : "", a.suite, a.o.sign_key ? " (signed)" : "");
		goto out;
	}
	for (int i = optind; i < argc; i++)
		if (add_arg(&debs, argv[i], &err) < 0)
			goto fail;
	if (debs.n == 0) {
		r = cli_usage(cli, "publish: no .deb files in the arguments");
		goto out;
	}
	/*
	 * Each .deb costs libarchive a few hundred KB that is freed again at once; with glibc's default
	 * trim threshold that is a brk() pair per package, which dominated the time on 2,000 packages.
	 */
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	mallopt(M_MMAP_THRESHOLD, 64 << 20);
	pkgs = calloc(debs.n, sizeof(*pkgs));
	storage = calloc(debs.n, sizeof(*storage));
	if (!pkgs || !storage) {
		dk_err_set(&err, DK_ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < debs.n; i++) {
		struct stat st;

		if (dk_publish_pkg_from_deb(&pkgs[i], debs.paths[i], a.component, &storage[i], &err) < 0)
			goto fail;
		if (!a.date && stat(debs.paths[i], &st) == 0 && st.st_mtime > a.o.date)
			a.o.date = st.st_mtime;
	}
	if (!a.date)
		a.date = getenv("SOURCE_DATE_EPOCH");
	if (a.date && (a.o.date = cli_parse_epoch(a.date)) < 0) {
		r = cli_usage(cli, "--date: expected seconds since the epoch, got '%s'", a.date);
		goto out;
	}
	if (dk_publish(a.public, a.prefix, a.suite, pkgs, debs.n, &a.o, &err) < 0)
		goto fail;
	if (cli->json) {
		r = cli_json_out(json_pack("{s:s, s:s, s:s, s:i, s:b}", "public", a.public, "prefix", a.prefix,
					   "suite", a.suite, "packages", (json_int_t)debs.n, "signed",
					   a.o.sign_key != NULL));
	} else {
		printf("published %zu packages as %s/%s%sdists/%s%s\n", debs.n, a.public, a.prefix,
		       *a.prefix ? "/" : "", a.suite, a.o.sign_key ? " (signed)" : "");
	}
	goto out;
fail:
	r = cli_fail(&err);
out:
	for (size_t i = 0; i < debs.n; i++) {
		free(debs.paths[i]);
		if (storage)
			free(storage[i]);
	}
	free(debs.paths);
	free(storage);
	free(pkgs);
	free(a.archs);
	free(a.archs_arg);
	return r;
}
