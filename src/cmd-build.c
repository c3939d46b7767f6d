/* cmd-build.c - debkeep build: a reproducible root file system image from a snapshot */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <debkeep/err.h>
#include <debkeep/image.h>
#include <debkeep/repo.h>

#include "cli.h"

static const char build_usage[] =
	"usage: debkeep [--root DIR] build --snapshot S --list LIST.yaml --arch ARCH -o IMAGE.tar[.zst|.xz]\n"
	"                     [--mode root|extract] [--epoch N] [--tmpdir DIR] [--log FILE] [--json]\n\n"
	"Resolve the package list inside snapshot S, take every .deb from the object store, unpack it\n"
	"safely into a staging root, normalise what differs between builds and pack a reproducible tar\n"
	"(sorted, mtimes clamped to the epoch, numeric owners). Beside IMAGE: IMAGE.manifest (name version\n"
	"arch source source-version), IMAGE.cdx.json (CycloneDX 1.5) and IMAGE.spdx.json (SPDX 2.3).\n"
	"All four appear together or not at all. See docs/images.md.\n\n"
	"  --mode M      root (default; needs root): installed with the image's own dpkg in a chroot;\n"
	"                extract: unpacked only, dpkg status \"install ok unpacked\", no root needed\n"
	"  --epoch N     SOURCE_DATE_EPOCH for the image (default: the snapshot's date)\n"
	"  --tmpdir DIR  where the staging root goes (default: ROOT/tmp)\n"
	"  --log FILE    the build log (what was removed or rewritten) to FILE instead of stderr\n"
	"  --json        print the result as JSON\n";

struct build_log {
	FILE *f;
	bool progress; /* a progress line is on the terminal */
};

static void log_line(void *ctx, const char *line)
{
	struct build_log *l = ctx;

	if (l->progress && l->f == stderr) {
		fputs("\r\033[K", stderr);
		l->progress = false;
	}
	fprintf(l->f, "%s\n", line);
}

static void progress(void *ctx, size_t done, size_t total)
{
	struct build_log *l = ctx;

	fprintf(stderr, "\rdebkeep build: %zu/%zu packages unpacked", done, total);
	l->progress = done < total;
	if (done == total)
		fputs("\r\033[K", stderr);
}

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* Ctrl-C or a kill stops the build at its next step, which then removes the staging root and temporaries. */
static void catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* What the options ask for: the image, and where its build log goes. */
struct build_args {
	struct dk_image_opts o;
	const char *logfile;
};

static int take(struct cli *cli, int opt, char *arg, void *ctx)
{
	struct build_args *a = ctx;

	switch (opt) {
	case 's':
		a->o.snapshot = arg;
		break;
	case 'l':
		a->o.list = arg;
		break;
	case 'a':
		a->o.arch = arg;
		break;
	case 'o':
		a->o.output = arg;
		break;
	case 'm':
		if (strcmp(arg, "root") && strcmp(arg, "extract"))
			return cli_usage(cli, "build: --mode: '%s' is not one of root, extract", arg);
		a->o.mode = strcmp(arg, "root") ? DK_IMAGE_EXTRACT : DK_IMAGE_ROOT;
		break;
	case 'e':
		if ((a->o.epoch = cli_parse_epoch(arg)) < 0)
			return cli_usage(cli, "build: --epoch: '%s' is not a number of seconds", arg);
		break;
	case 't':
		a->o.tmpdir = arg;
		break;
	case 'L':
		a->logfile = arg;
		break;
	}
	return 0;
}

int cmd_build(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "snapshot", required_argument, NULL, 's' }, { "list", required_argument, NULL, 'l' },
		{ "arch", required_argument, NULL, 'a' },     { "output", required_argument, NULL, 'o' },
		{ "mode", required_argument, NULL, 'm' },     { "epoch", required_argument, NULL, 'e' },
		{ "tmpdir", required_argument, NULL, 't' },   { "log", required_argument, NULL, 'L' },
		{ NULL, 0, NULL, 0 },
	};
	struct build_args a = { .o = { .mode = DK_IMAGE_ROOT, .epoch = -1 } };
	const struct cli_options co = {
		.usage = build_usage, .bad = "build: bad option", .shortopts = "s:l:a:o:", .opts = opts,
		.take = take, .ctx = &a,
	};
	struct dk_image_result res = { 0 };
	struct build_log log = { stderr, false };
	struct dk_err err = DK_ERR_INIT;
	struct dk_repo repo;
	int code = cli_parse(cli, argc, argv, &co);

	if (code >= 0)
		return code;
	if (optind < argc)
		return cli_usage(cli, "build: unexpected argument '%s'", argv[optind]);
	if (!a.o.snapshot || !a.o.list || !a.o.arch || !a.o.output)
		return cli_usage(cli, "build: --snapshot, --list, --arch and -o are all required");
	if (a.logfile && !(log.f = fopen(a.logfile, "w"))) {
		dk_err_errno(&err, "%s", a.logfile);
		return cli_fail(&err);
	}
	/* Modes are set explicitly everywhere; this only keeps a maintainer script's files from varying. */
	umask(022);
	a.o.log = log_line;
	a.o.log_ctx = &log;
	if (cli->progress)
		a.o.progress = progress;
	a.o.cancel = &interrupted;
	catch_signals();
	/* A build only reads the repository: no writer's lock, so it runs beside imports and publishes. */
	if (dk_repo_open(&repo, cli->root, 0, "debkeep build", 0, &err) < 0) {
		code = cli_fail(&err);
		goto out;
	}
	if (dk_image_build(&repo, &a.o, &res, &err) < 0) {
		dk_repo_close(&repo);
		code = cli_fail(&err);
		goto out;
	}
	dk_repo_close(&repo);
	if (cli->json)
		code = cli_json_out(json_pack("{s:s, s:s, s:I, s:I, s:s, s:s, s:s, s:s}", "image", a.o.output,
					      "mode", a.o.mode == DK_IMAGE_ROOT ? "root" : "extract", "packages",
					      (json_int_t)res.packages, "bytes", (json_int_t)res.bytes, "sha256",
					      res.sha256, "manifest", res.manifest, "cyclonedx", res.cdx, "spdx",
					      res.spdx));
	else
		code = printf("%s: %zu packages, %llu bytes, sha256 %s\n", a.o.output, res.packages,
			      (unsigned long long)res.bytes, res.sha256) < 0 ? EXIT_INTERNAL : EXIT_OK;
	dk_image_result_release(&res);
out:
	if (log.f != stderr && fclose(log.f) && code == EXIT_OK) {
		dk_err_errno(&err, "%s", a.logfile);
		code = cli_fail(&err);
	}
	return code;
}
