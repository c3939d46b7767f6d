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

int cmd_serve(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "public", required_argument, NULL, 'P' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct dk_err err = DK_ERR_INIT;
	struct dk_server *srv;
	const char *listen = "127.0.0.1:8080", *public = NULL;
	char pubdir[PATH_MAX], addr[64], *colon, *end;
	unsigned long port;
	sigset_t set;
	int c, sig;

	optind = 0;
	while ((c = getopt_long(argc, argv, "l:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'l':
			listen = optarg;
			break;
		case 'P':
			public = optarg;
			break;
		case 'j':
			cli->json = true;
			break;
		case 'h':
			fputs(serve_usage, stdout);
			return EXIT_OK;
		default:
			return cli_usage(cli, "serve: see 'debkeep serve --help'");
		}
	}
	if (optind < argc)
		return cli_usage(cli, "serve: unexpected argument '%s'", argv[optind]);
	colon = strrchr(listen, ':');
	if (!colon || colon == listen || (size_t)(colon - listen) >= sizeof(addr))
		return cli_usage(cli, "--listen: expected ADDR:PORT, got '%s'", listen);
	port = strtoul(colon + 1, &end, 10);
	if (!colon[1] || *end || port > 65535)
		return cli_usage(cli, "--listen: bad port in '%s'", listen);
	memcpy(addr, listen, (size_t)(colon - listen));
	addr[colon - listen] = '\0';
	if (!public) {
		snprintf(pubdir, sizeof(pubdir), "%s/public", cli->root);
		public = pubdir;
	}
	/* Blocked before the server's threads start, so they inherit the mask and sigwait gets the signal. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (dk_serve_start(&srv, public, addr, (uint16_t)port, &err) < 0)
		return cli_fail(&err);
	if (cli->json) {
		char url[128];

		snprintf(url, sizeof(url), "http://%s:%u/", addr, dk_serve_port(srv));
		if (cli_json_out(json_pack("{s:s, s:s}", "url", url, "public", public))) {
			dk_serve_stop(srv);
			return EXIT_INTERNAL;
		}
	} else {
		printf("serving %s on http://%s:%u/\n", public, addr, dk_serve_port(srv));
	}
	if (fflush(stdout) == EOF) {
		dk_serve_stop(srv);
		return EXIT_INTERNAL;
	}
	sigwait(&set, &sig);
	dk_serve_stop(srv);
	return EXIT_OK;
}
