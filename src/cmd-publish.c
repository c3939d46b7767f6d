/* cmd-publish.c - debkeep publish: a signed apt repository under ROOT/public/PREFIX from .deb files */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <debkeep/publish.h>

#include "cli.h"

static const char publish_usage[] =
	"usage: debkeep [--root DIR] [--json] publish FILE.deb|DIR... --suite S [--prefix P] [--component C]\n"
	"           [--codename C] [--origin O] [--label L] [--date EPOCH] [--valid-until EPOCH]\n"
	"           [--architectures A,B] [--sign KEYID [--gnupghome DIR]] [--public DIR]\n\n"
	"Write a complete apt repository for suite S under PUBLIC/P (PUBLIC: ROOT/public): dists/S with\n"
	"Release, InRelease and Release.gpg (when signing), C/binary-ARCH/Packages{,.gz,.xz}, by-hash/, and\n"
	"pool/ as hard links to the given files. The new dists/S is built aside and switched in atomically.\n"
	"Release's Date is --date, else $SOURCE_DATE_EPOCH, else the newest .deb's modification time, so\n"
	"publishing the same files twice gives byte-identical indices. Snapshots are not accepted yet: name\n"
	"the .deb files (a directory stands for the .deb files in it).\n\n"
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

static int parse_time(const char *s, time_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < 0)
		return -1;
	*out = (time_t)v;
	return 0;
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

int cmd_publish(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
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
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct dk_publish_opts o = { 0 };
	struct dk_err err = DK_ERR_INIT;
	struct debs debs = { 0 };
	struct dk_publish_pkg *pkgs = NULL;
	char **storage = NULL;
	const char *suite = NULL, *prefix = "", *component = "main", *public = NULL, *date = NULL;
	const char **archs = NULL;
	char pubdir[PATH_MAX];
	int c, r = EXIT_OK;

	optind = 0;
	while ((c = getopt_long(argc, argv, "s:p:c:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			suite = optarg;
			break;
		case 'p':
			prefix = optarg;
			break;
		case 'c':
			component = optarg;
			break;
		case 'C':
			o.codename = optarg;
			break;
		case 'O':
			o.origin = optarg;
			break;
		case 'L':
			o.label = optarg;
			break;
		case 'd':
			date = optarg;
			break;
		case 'V':
			if (parse_time(optarg, &o.valid_until) < 0)
				return cli_usage(cli, "--valid-until: expected seconds since the epoch, got '%s'", optarg);
			break;
		case 'a':
			free(archs);
			if (!(archs = split_list(optarg)))
				return cli_usage(cli, "out of memory");
			break;
		case 'k':
			o.sign_key = optarg;
			break;
		case 'g':
			o.gnupghome = optarg;
			break;
		case 'P':
			public = optarg;
			break;
		case 'j':
			cli->json = true;
			break;
		case 'h':
			fputs(publish_usage, stdout);
			return EXIT_OK;
		default:
			return cli_usage(cli, "publish: see 'debkeep publish --help'");
		}
	}
	o.architectures = archs;
	if (!suite)
		r = cli_usage(cli, "publish: --suite is required");
	else if (optind >= argc)
		r = cli_usage(cli, "publish: name the .deb files or directories to publish");
	if (r)
		goto out;
	if (!public) {
		snprintf(pubdir, sizeof(pubdir), "%s/public", cli->root);
		public = pubdir;
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

		if (dk_publish_pkg_from_deb(&pkgs[i], debs.paths[i], component, &storage[i], &err) < 0)
			goto fail;
		if (!date && stat(debs.paths[i], &st) == 0 && st.st_mtime > o.date)
			o.date = st.st_mtime;
	}
	if (!date)
		date = getenv("SOURCE_DATE_EPOCH");
	if (date && parse_time(date, &o.date) < 0) {
		r = cli_usage(cli, "--date: expected seconds since the epoch, got '%s'", date);
		goto out;
	}
	if (dk_publish(public, prefix, suite, pkgs, debs.n, &o, &err) < 0)
		goto fail;
	if (cli->json) {
		r = cli_json_out(json_pack("{s:s, s:s, s:s, s:i, s:b}", "public", public, "prefix", prefix, "suite",
					   suite, "packages", (json_int_t)debs.n, "signed", o.sign_key != NULL));
	} else {
		printf("published %zu packages as %s/%s%sdists/%s%s\n", debs.n, public, prefix, *prefix ? "/" : "",
		       suite, o.sign_key ? " (signed)" : "");
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
	free(archs);
	return r;
}
