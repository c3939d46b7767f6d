/* bench-fetch.c - measuring lib/repo/fetch.c: a static file server, and a driver fetching a list through it */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include <debkeep/fetch.h>

/*
 * bench-fetch serve DIR
 *	serve DIR on 127.0.0.1 (sendfile, keep-alive), print the port, run until killed
 * bench-fetch get [-j N] [-m] BASEURL LIST OUTDIR
 *	LIST holds "NAME SIZE SHA256" lines; fetch BASEURL/NAME to OUTDIR/NAME (-m: into memory),
 *	print seconds and MB/s
 */

static const char *root;

static enum MHD_Result serve_file(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				  const char *version, const char *upload, size_t *upload_size, void **state)
{
	struct MHD_Response *r;
	char path[4096];
	struct stat st;
	enum MHD_Result ret;
	int fd;

	/* Answering on the first call, before MHD knows the request has no body, makes it close the connection. */
	if (!*state) {
		*state = c;
		return MHD_YES;
	}
	if (strstr(url, "..") || snprintf(path, sizeof(path), "%s%s", root, url) >= (int)sizeof(path))
		return MHD_NO;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
		ret = MHD_queue_response(c, MHD_HTTP_NOT_FOUND, r);
	} else {
		r = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
		ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	}
	MHD_destroy_response(r);
	return ret;
}

static int serve(const char *dir)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = 0, .sin_addr = { htonl(INADDR_LOOPBACK) } };
	const union MHD_DaemonInfo *info;
	struct MHD_Daemon *d;
	sigset_t set;
	int sig;

	root = dir;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	d = MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD, 0, NULL, NULL, serve_file, NULL, MHD_OPTION_SOCK_ADDR,
			     &sa, MHD_OPTION_CONNECTION_LIMIT, 256u, MHD_OPTION_END);
	if (!d)
		return 1;
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	printf("%u\n", info ? info->port : 0);
	fflush(stdout);
	sigwait(&set, &sig);
	MHD_stop_daemon(d);
	return 0;
}

static double seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int get(int argc, char **argv)
{
	struct dk_fetch_opts o = { 0 };
	struct dk_err err = DK_ERR_INIT;
	struct dk_fetch_item *items = NULL;
	size_t n = 0, cap = 0;
	uint64_t bytes = 0;
	bool memory = false;
	char name[1024], sha[65];
	long long size;
	double t0, t;
	FILE *list;
	int opt, rc;

	while ((opt = getopt(argc, argv, "j:m")) != -1) {
		if (opt == 'j')
			o.parallel = (unsigned)atoi(optarg);
		else if (opt == 'm')
			memory = true;
		else
			return 2;
	}
	if (argc - optind != 3)
		return 2;
	list = fopen(argv[optind + 1], "r");
	if (!list)
		return 2;
	while (fscanf(list, "%1023s %lld %64s", name, &size, sha) == 3) {
		struct dk_fetch_item *it;

		if (n == cap) {
			cap = cap ? 2 * cap : 1024;
			items = realloc(items, cap * sizeof(*items));
		}
		it = &items[n++];
		memset(it, 0, sizeof(*it));
		if (asprintf((char **)&it->url, "%s/%s", argv[optind], name) < 0 ||
		    (!memory && asprintf((char **)&it->dest, "%s/%s", argv[optind + 2], name) < 0))
			return 3;
		it->size = size;
		it->sha256 = strdup(sha);
		bytes += (uint64_t)size;
	}
	fclose(list);
	t0 = seconds();
	rc = dk_fetch_run(items, n, &o, &err);
	t = seconds() - t0;
	printf("%zu files, %.1f MB in %.3f s: %.1f MB/s%s%s\n", n, (double)bytes / 1e6, t, (double)bytes / 1e6 / t,
	       rc ? ": " : "", rc ? err.msg : "");
	dk_fetch_items_release(items, n);
	for (size_t i = 0; i < n; i++) {
		free((char *)items[i].url);
		free((char *)items[i].dest);
		free((char *)items[i].sha256);
	}
	free(items);
	return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "serve") == 0)
		return serve(argv[2]);
	if (argc > 1 && strcmp(argv[1], "get") == 0)
		return get(argc - 1, argv + 1);
	fprintf(stderr, "usage: bench-fetch serve DIR | get [-j N] [-m] BASEURL LIST OUTDIR\n");
	return 2;
}
