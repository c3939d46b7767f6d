/* cmd-serve.c - debkeep serve: read-only HTTP for ROOT/public until SIGTERM or SIGINT */
#include <getopt.h>
#include <pthread.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <debkeep/serve.h>

#include "cli.h"

static const char serve_usage[] =
	"usage: debkeep [--root DIR] [--json] serve [--listen ADDR:PORT] [--public DIR]\n\n"
	"Serve the published trees (ROOT/public, or DIR) read-only over HTTP: GET, HEAD, single byte\n"
	"ranges, Last-Modified. ADDR is a numeric IPv4 address (default 127.0.0.1:8080); port 0 picks a\n"
	"free port. The address is printed once listening; SIGTERM or SIGINT stops the server. For\n"
	"production, serve the same directory with nginx (docs/publishing.md).\n\n"
	"Exit status: 0 stopped by a signal; 2 usage error or the address cannot be used; 3 internal error.\n";

/* Where to listen and what to serve. */
struct serve_args {
	const char *listen, *public;
};

static int take(struct cli *cli, int opt, char *arg, void *ctx)
{
	struct serve_args *a = ctx;

	if (opt == 'l')
		a->listen = arg;
	else
		a->public = arg;
	return 0;
}

int cmd_serve(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "public", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	struct serve_args a = { "127.0.0.1:8080", NULL };
	const struct cli_options co = {
		.usage = serve_usage, .bad = "serve: see 'debkeep serve --help'", .shortopts = "l:",
		.opts = opts, .take = take, .ctx = &a,
	};
	struct dk_err err = DK_ERR_INIT;
	struct dk_server *srv;
	char pubdir[PATH_MAX], addr[64], *colon, *end;
	unsigned long port;
	sigset_t set;
	int sig, ret = cli_parse(cli, argc, argv, &co);

	if (ret >= 0)
		return ret;
	if (optind < argc)
		return cli_usage(cli, "serve: unexpected argument '%s'", argv[optind]);
	colon = strrchr(a.listen, ':');
	if (!colon || colon == a.listen || (size_t)(colon - a.listen) >= sizeof(addr))
		return cli_usage(cli, "--listen: expected ADDR:PORT, got '%s'", a.listen);
	port = strtoul(colon + 1, &end, 10);
	if (!colon[1] || *end || port > 65535)
		return cli_usage(cli, "--listen: bad port in '%s'", a.listen);
	memcpy(addr, a.listen, (size_t)(colon - a.listen));
	addr[colon - a.listen] = '\0';
	if (!a.public) {
		snprintf(pubdir, sizeof(pubdir), "%s/public", cli->root);
		a.public = pubdir;
	}
	/* Blocked before the server's threads start, so they inherit the mask and sigwait gets the signal. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (dk_serve_start(&srv, a.public, addr, (uint16_t)port, &err) < 0)
		return cli_fail(&err);
	if (cli->json) {
		char url[128];

		snprintf(url, sizeof(url), "http://%s:%u/", addr, dk_serve_port(srv));
		if (cli_json_out(json_pack("{s:s, s:s}", "url", url, "public", a.public))) {
			dk_serve_stop(srv);
			return EXIT_INTERNAL;
		}
	} else {
		printf("serving %s on http://%s:%u/\n", a.public, addr, dk_serve_port(srv));
	}
	if (fflush(stdout) == EOF) {
		dk_serve_stop(srv);
		return EXIT_INTERNAL;
	}
	sigwait(&set, &sig);
	dk_serve_stop(srv);
	return EXIT_OK;
}
