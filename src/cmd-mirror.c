/* cmd-mirror.c - debkeep mirror create|update|list|show|drop: verified mirrors of upstream apt repositories */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <debkeep/buf.h>
#include <debkeep/mirror.h>
#include <debkeep/pkglist.h>
#include <debkeep/repo.h>
#include <debkeep/sources.h>

#include "cli.h"

enum {
	OPT_SUITE = 256,
	OPT_COMPONENTS,
	OPT_ARCHS,
	OPT_KEYRING,
	OPT_LIST,
	OPT_WITH_SOURCES,
	OPT_PARALLEL,
};

struct mirror_opts {
	double timeout;
	const char *suite, *components, *archs, *keyring, *list;
	bool with_sources;
	unsigned parallel;
};

static int take(struct cli *cli, int opt, char *arg, void *ctx)
{
	struct mirror_opts *o = ctx;
	char *end;
	long v;

	switch (opt) {
	case OPT_SUITE:
		o->suite = arg;
		break;
	case OPT_COMPONENTS:
		o->components = arg;
		break;
	case OPT_ARCHS:
		o->archs = arg;
		break;
	case OPT_KEYRING:
		o->keyring = arg;
		break;
	case OPT_LIST:
		o->list = arg;
		break;
	case OPT_WITH_SOURCES:
		o->with_sources = true;
		break;
	case OPT_PARALLEL:
		errno = 0;
		v = strtol(arg, &end, 10);
		if (end == arg || *end || errno || v < 1 || v > 64)
			return cli_usage(cli, "--parallel: '%s' is not a number from 1 to 64", arg);
		o->parallel = (unsigned)v;
		break;
	}
	return 0;
}

static const struct option mirror_options[] = {
	{ "suite", required_argument, NULL, OPT_SUITE },
	{ "components", required_argument, NULL, OPT_COMPONENTS },
	{ "archs", required_argument, NULL, OPT_ARCHS },
	{ "keyring", required_argument, NULL, OPT_KEYRING },
	{ "list", required_argument, NULL, OPT_LIST },
	{ "with-sources", no_argument, NULL, OPT_WITH_SOURCES },
	{ "parallel", required_argument, NULL, OPT_PARALLEL },
	{ NULL, 0, NULL, 0 },
};

/*
 * The options every subcommand takes (and create's and update's own), and from min to max operands
 * (see struct cli_options); returns -1 to go on, else the exit code.
 */
static int parse(struct cli *cli, int argc, char **argv, const char *usage, int min, int max,
		 struct mirror_opts *o)
{
	const struct cli_options co = {
		.usage = usage, .opts = mirror_options, .take = take, .ctx = o, .lock_timeout = &o->timeout,
		.min_operands = min, .max_operands = max,
	};

	return cli_parse(cli, argc, argv, &co);
}

static int open_repo(struct cli *cli, struct dk_repo *r, bool write, const struct mirror_opts *o, int argc, char **argv)
{
	return cli_repo_open(cli, r, write ? DK_REPO_WRITE : 0, o->timeout, "mirror", argc, argv);
}

/* "a,b" into a vector of borrowed-then-copied words; an empty word is a usage error. */
static int split_list(struct cli *cli, const char *opt, const char *s, char ***v, size_t *n)
{
	const char *whole = s;

	*v = NULL;
	*n = 0;
	for (;;) {
		size_t len = strcspn(s, ",");
		char **nv;

		if (len == 0)
			return cli_usage(cli, "%s: empty name in '%s'", opt, whole);
		if (!(nv = realloc(*v, (*n + 1) * sizeof(*nv))) || !(nv[*n] = strndup(s, len))) {
			if (nv)
				*v = nv;
			return EXIT_INTERNAL;
		}
		*v = nv;
		(*n)++;
		s += len;
		if (!*s)
			return -1;
		s++;
	}
}

static int read_file(const char *path, const char *what, size_t max, struct dk_buf *out, struct dk_err *err)
{
	char chunk[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return dk_err_set(err, errno == ENOENT ? DK_EINPUT : DK_EIO, "%s %s: %s", what, path, strerror(errno));
	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		if (out->len + n > max) {
			close(fd);
			return dk_err_set(err, DK_EINPUT, "%s %s: too big", what, path);
		}
		dk_buf_add(out, chunk, n);
	}
	close(fd);
	if (n < 0)
		return dk_err_set(err, DK_EIO, "%s %s: %s", what, path, strerror(errno));
	return dk_buf_check(out, err, path);
}

static json_t *words_json(char *const *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *mirror_json(const struct dk_mirror *m)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:o, s:b, s:b, s:s, s:I}", "name", m->name, "url", m->url, "suite",
			      m->suite, "components", words_json(m->components, m->ncomponents), "architectures",
			      words_json(m->archs, m->narchs), "list", m->list != NULL, "with_sources",
			      m->with_sources, "created", m->created, "packages", (json_int_t)m->packages);

	if (!o)
		return NULL;
	json_object_set_new(o, "updated", m->updated ? json_string(m->updated) : json_null());
	json_object_set_new(o, "release_date", m->release_date ? json_string(m->release_date) : json_null());
	json_object_set_new(o, "release_sha256", m->release_sha256 ? json_string(m->release_sha256) : json_null());
	return o;
}

static const char create_usage[] =
	"usage: debkeep mirror create NAME URL --suite S --components C[,C...] --archs A[,A...]\n"
	"                             --keyring FILE [--list LIST.yaml] [--json]\n\n"
	"Record a mirror of the apt repository at URL (http://, https:// or file://); nothing is fetched\n"
	"until 'mirror update'. The keyring FILE (binary or armored OpenPGP keys) is copied into the data\n"
	"root: every update verifies InRelease against these keys only, never the host's. With --list,\n"
	"updates keep only the package list's dependency closure for each architecture; without it,\n"
	"everything. With --with-sources, updates also keep the source packages of what they keep (of\n"
	"every package without --list): each component's Sources and every file of the chosen stanzas,\n"
	"verified like the .debs.\n";

static int mirror_create(struct cli *cli, int argc, char **argv)
{
	struct mirror_opts o = { 0 };
	struct dk_err err = DK_ERR_INIT;
	struct dk_buf keyring = DK_BUF_INIT, list = DK_BUF_INIT;
	struct dk_mirror m = { 0 };
	struct dk_repo r;
	int ret = parse(cli, argc, argv, create_usage, 2, 2, &o);

	if (ret >= 0)
		return ret;
	if (!o.suite || !o.components || !o.archs || !o.keyring)
		return cli_usage(cli, "mirror create: --suite, --components, --archs and --keyring are required");
	m.with_sources = o.with_sources;
	m.name = argv[optind];
	m.url = argv[optind + 1];
	m.suite = (char *)o.suite;
	if ((ret = split_list(cli, "--components", o.components, &m.components, &m.ncomponents)) >= 0 ||
	    (ret = split_list(cli, "--archs", o.archs, &m.archs, &m.narchs)) >= 0)
		goto out;
	if (read_file(o.keyring, "keyring", 16 << 20, &keyring, &err) < 0)
		goto fail;
	if (o.list) {
		struct dk_pkglist pl = DK_PKGLIST_INIT;

		/* Checked here so a bad list is refused at create, not at the first update. */
		if (read_file(o.list, "--list", 4 << 20, &list, &err) < 0 ||
		    dk_pkglist_load_mem(&pl, list.data, list.len, o.list, &err) < 0) {
			dk_pkglist_release(&pl);
			goto fail;
		}
		dk_pkglist_release(&pl);
		m.list = list.data;
	}
	if ((ret = open_repo(cli, &r, true, &o, argc, argv)))
		goto out;
	ret = dk_mirror_create(&r, &m, keyring.data, keyring.len, &err);
	dk_repo_close(&r);
	if (ret < 0)
		goto fail;
	if (cli->json)
		ret = cli_json_out(json_pack("{s:s, s:s, s:s, s:b}", "name", m.name, "url", m.url, "suite", m.suite,
					     "created", 1));
	else
		printf("mirror %s: created (%s %s); run 'debkeep mirror update %s'\n", m.name, m.url, m.suite, m.name);
	goto out;
fail:
	ret = cli_fail(&err);
out:
	for (size_t i = 0; i < m.ncomponents; i++)
		free(m.components[i]);
	for (size_t i = 0; i < m.narchs; i++)
		free(m.archs[i]);
	free(m.components);
	free(m.archs);
	dk_buf_release(&keyring);
	dk_buf_release(&list);
	return ret;
}

struct bar {
	bool on;
	int last_pct;
	enum dk_mirror_phase last_phase;
	size_t last_files;
	bool drawn;
};

static void human(uint64_t n, char *out, size_t len)
{
	if (n >= 10 * 1024 * 1024)
		snprintf(out, len, "%.1f MB", n / (1024.0 * 1024.0));
	else if (n >= 10 * 1024)
		snprintf(out, len, "%.1f kB", n / 1024.0);
	else
		snprintf(out, len, "%llu B", (unsigned long long)n);
}

/* Redrawn only when the percentage, the file count or the phase changes: a terminal is slow to write to. */
static void bar_draw(void *ctx, enum dk_mirror_phase phase, uint64_t done, uint64_t total, size_t files_done,
		     size_t files)
{
	struct bar *b = ctx;
	int pct = total ? (int)(done * 100 / total) : 0, fill = pct / 4;
	char d[32], t[32];

	if (!b->on || (b->drawn && pct == b->last_pct && files_done == b->last_files && phase == b->last_phase))
		return;
	if (b->drawn && phase != b->last_phase)
		fputc('\n', stderr);
	human(done, d, sizeof(d));
	human(total, t, sizeof(t));
	fprintf(stderr, "\r%-8s [%.*s%*s] %3d%% %zu/%zu files, %s%s%s ",
		phase == DK_MIRROR_INDICES ? "indices" : "packages", fill, "=========================", 25 - fill, "", pct,
		files_done, files, d, total ? " of " : "", total ? t : "");
	b->last_pct = pct;
	b->last_files = files_done;
	b->last_phase = phase;
	b->drawn = true;
}

static const char update_usage[] =
	"usage: debkeep mirror update NAME [--parallel N] [--lock-timeout SECONDS] [--json]\n\n"
	"Fetch InRelease (or Release + Release.gpg) and verify it against the mirror's keyring, then\n"
	"every Packages index against Release's SHA256 list and every .deb against its index (size,\n"
	"SHA-256, and its control data against the index stanza). The verified set becomes the\n"
	"collection 'mirror/NAME' ('snapshot create S --from-mirror NAME' records it). Only missing\n"
	"objects are downloaded, N at a time (default 8); a failed or killed update leaves the data root\n"
	"as it was, plus downloads under tmp/mirror-NAME/ that the next update resumes from.\n";

/* Not fatal: the archive itself lacks a binary's source for a while now and then. */
static void missing_source(void *ctx, const struct dk_source_ref *ref)
{
	struct bar *b = ctx;

	if (b->drawn)
		fputc('\n', stderr);
	b->drawn = false;
	fprintf(stderr, "debkeep: warning: source %s %s (of %s %s) is not in the upstream Sources\n",
		ref->source, ref->version, ref->binary, ref->arch);
}

static int mirror_update(struct cli *cli, int argc, char **argv)
{
	struct mirror_opts o = { 0 };
	struct dk_err err = DK_ERR_INIT;
	struct dk_mirror_update_opts uo = { 0 };
	struct dk_mirror_stats st;
	const struct dk_sources_stats *sst = &st.sources;
	struct bar b = { 0 };
	struct dk_repo r;
	char bytes[32];
	json_t *out;
	int ret = parse(cli, argc, argv, update_usage, 1, 1, &o);

	if (ret >= 0)
		return ret;
	if (o.suite || o.components || o.archs || o.keyring || o.list || o.with_sources)
		return cli_usage(cli, "mirror update: the definition's options belong to 'mirror create'");
	b.on = cli->progress;
	uo.parallel = o.parallel;
	uo.progress = bar_draw;
	uo.progress_ctx = &b;
	uo.source_missing = missing_source;
	uo.source_missing_ctx = &b;
	if ((ret = open_repo(cli, &r, true, &o, argc, argv)))
		return ret;
	ret = dk_mirror_update(&r, argv[optind], &uo, &st, &err);
	dk_repo_close(&r);
	if (b.drawn)
		fputc('\n', stderr);
	if (ret < 0)
		return cli_fail(&err);
	if (cli->json) {
		out = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:s, s:s, s:f}", "name", argv[optind],
				"packages", (json_int_t)st.packages, "new", (json_int_t)st.new_rows, "debs_fetched",
				(json_int_t)st.debs, "debs_resumed", (json_int_t)st.reused, "bytes_fetched",
				(json_int_t)st.bytes, "indices", (json_int_t)st.indices, "release_date",
				st.release_date, "signed_by", st.fingerprint, "index_seconds", st.index_seconds);
		if (out && sst->indices)
			json_object_set_new(out, "sources", json_pack("{s:I, s:I, s:I, s:I, s:I}", "packages",
								      (json_int_t)sst->sources, "new",
								      (json_int_t)sst->new_rows, "files_fetched",
								      (json_int_t)sst->files, "bytes_fetched",
								      (json_int_t)sst->bytes, "missing",
								      (json_int_t)sst->missing));
		return cli_json_out(out);
	}
	human(st.bytes, bytes, sizeof(bytes));
	printf("mirror %s: %zu packages, %zu new, %zu .debs fetched (%s), Release of %s signed by %s\n", argv[optind],
	       st.packages, st.new_rows, st.debs, bytes, st.release_date[0] ? st.release_date : "(no date)",
	       st.fingerprint);
	if (sst->indices) {
		human(sst->bytes, bytes, sizeof(bytes));
		printf("mirror %s: %zu source packages, %zu new, %zu files fetched (%s), %zu missing upstream\n",
		       argv[optind], sst->sources, sst->new_rows, sst->files, bytes, sst->missing);
	}
	return EXIT_OK;
}

static int list_one(void *ctx, const struct dk_mirror *m)
{
	json_t *arr = ctx;

	if (arr)
		return json_array_append_new(arr, mirror_json(m)) ? DK_ENOMEM : 0;
	printf("%s\t%s\t%s\t%lld packages\t%s\n", m->name, m->url, m->suite, m->packages,
	       m->updated ? m->updated : "never updated");
	return 0;
}

static const char list_usage[] = "usage: debkeep mirror list [--json]\n\n"
				 "The mirrors: name, URL, suite, package count, last update (UTC).\n";

static int list_walk(struct dk_repo *r, void *ctx, json_t *arr, struct dk_err *err)
{
	return dk_mirror_list(r, list_one, arr, err);
}

static int mirror_list(struct cli *cli, int argc, char **argv)
{
	struct mirror_opts o = { 0 };
	json_t *arr;
	int ret = parse(cli, argc, argv, list_usage, 0, 0, &o);

	if (ret >= 0)
		return ret;
	if (optind != argc)
		return cli_usage(cli, "mirror list: unexpected argument '%s'", argv[optind]);
	if ((ret = cli_repo_read(cli, list_walk, NULL, &arr)))
		return ret;
	return arr ? cli_json_out(arr) : EXIT_OK;
}

static const char show_usage[] = "usage: debkeep mirror show NAME [--json]\n\n"
				 "A mirror's definition and what its last update verified.\n";

static int mirror_show(struct cli *cli, int argc, char **argv)
{
	struct mirror_opts o = { 0 };
	struct dk_err err = DK_ERR_INIT;
	long long sources = 0;
	struct dk_mirror m;
	struct dk_repo r;
	int ret = parse(cli, argc, argv, show_usage, 1, 1, &o);

	if (ret >= 0)
		return ret;
	if ((ret = open_repo(cli, &r, false, &o, argc, argv)))
		return ret;
	ret = dk_mirror_get(&r, argv[optind], &m, &err);
	if (ret == 0 && (ret = dk_sources_count(&r, m.name, NULL, &sources, &err)) < 0)
		dk_mirror_release(&m);
	dk_repo_close(&r);
	if (ret < 0)
		return cli_fail(&err);
	if (cli->json) {
		json_t *j = mirror_json(&m);

		if (j)
			json_object_set_new(j, "sources", json_integer(sources));
		ret = cli_json_out(j);
	} else {
		printf("name:           %s\nurl:            %s\nsuite:          %s\ncomponents:     ", m.name, m.url,
		       m.suite);
		for (size_t i = 0; i < m.ncomponents; i++)
			printf("%s%s", i ? " " : "", m.components[i]);
		printf("\narchitectures:  ");
		for (size_t i = 0; i < m.narchs; i++)
			printf("%s%s", i ? " " : "", m.archs[i]);
		printf("\npackage list:   %s\ncreated:        %s\nupdated:        %s\nrelease date:   %s\n"
		       "release sha256: %s\npackages:       %lld (collection mirror/%s)\n",
		       m.list ? "yes" : "no (everything)", m.created, m.updated ? m.updated : "never",
		       m.release_date ? m.release_date : "-", m.release_sha256 ? m.release_sha256 : "-", m.packages,
		       m.name);
		if (m.with_sources)
			printf("sources:        %lld source packages\n", sources);
	}
	dk_mirror_release(&m);
	return ret;
}

static const char drop_usage[] = "usage: debkeep mirror drop NAME [--json]\n\n"
				 "Forget a mirror: its definition, keyring and collection. Snapshots made from it\n"
				 "stay, and so do their packages.\n";

static int mirror_drop(struct cli *cli, int argc, char **argv)
{
	struct mirror_opts o = { 0 };
	struct dk_repo r;
	int ret = parse(cli, argc, argv, drop_usage, 1, 1, &o);

	if (ret >= 0)
		return ret;
	if ((ret = open_repo(cli, &r, true, &o, argc, argv)))
		return ret;
	return cli_repo_drop(cli, &r, "mirror", argv[optind], dk_mirror_drop);
}

static const struct cli_command mirror_commands[] = {
	{ "create", mirror_create, CLI_NEEDS_REPO, "NAME URL --suite S --components C --archs A --keyring F",
	  "record an upstream repository to mirror" },
	{ "update", mirror_update, CLI_NEEDS_REPO, "NAME", "fetch and verify; the result is collection mirror/NAME" },
	{ "list", mirror_list, CLI_NEEDS_REPO, NULL, "the mirrors" },
	{ "show", mirror_show, CLI_NEEDS_REPO, "NAME", "a mirror's definition and last update" },
	{ "drop", mirror_drop, CLI_NEEDS_REPO, "NAME", "forget a mirror (its snapshots stay)" },
	{ NULL, NULL, 0, NULL, NULL },
};

int cmd_mirror(struct cli *cli, int argc, char **argv)
{
	return cli_dispatch(cli, "mirror", mirror_commands, argc, argv);
}
