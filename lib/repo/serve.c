/* serve.c - read-only HTTP for published trees: GET, HEAD, one Range, Last-Modified, over libmicrohttpd */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include <debkeep/serve.h>

#include "banned.h"

struct dk_server {
	struct MHD_Daemon *daemon;
	int rootfd;
	uint16_t port;
};

/* Content types by file name: apt does not care, browsers and proxies do. */
static const struct {
	const char *suffix;
	const char *type;
} content_types[] = {
	{ ".deb", "application/vnd.debian.binary-package" },
	{ ".udeb", "application/vnd.debian.binary-package" },
	{ ".gz", "application/gzip" },
	{ ".xz", "application/x-xz" },
	{ ".gpg", "application/pgp-signature" },
	{ "/Release", "text/plain; charset=utf-8" },
	{ "/InRelease", "text/plain; charset=utf-8" },
	{ "/Packages", "text/plain; charset=utf-8" },
	{ "/Sources", "text/plain; charset=utf-8" },
};

static const char *content_type(const char *url)
{
	size_t n = strlen(url);

	for (size_t i = 0; i < sizeof(content_types) / sizeof(content_types[0]); i++) {
		size_t k = strlen(content_types[i].suffix);

		if (n >= k && strcmp(url + n - k, content_types[i].suffix) == 0)
			return content_types[i].type;
	}
	return "application/octet-stream";
}

/*
 * Open url under rootfd one component at a time, never following a symbolic link, and refusing
 * ".", ".." and hidden names (the staging directories), so no request reaches outside the tree.
 */
static int open_under(int rootfd, const char *url)
{
	char comp[NAME_MAX + 1];
	const char *s = url;
	int fd = rootfd;

	if (*s != '/')
		return -1;
	s++;
	for (;;) {
		size_t len = strcspn(s, "/");
		bool last = s[len] == '\0';
		int next;

		if (len == 0 || len > NAME_MAX || s[0] == '.') {
			if (fd != rootfd)
				close(fd);
			return -1;
		}
		memcpy(comp, s, len);
		comp[len] = '\0';
		next = openat(fd, comp, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (last ? 0 : O_DIRECTORY));
		if (fd != rootfd)
			close(fd);
		if (next < 0 || last)
			return next;
		fd = next;
		s += len + 1;
	}
}

static void http_date(time_t t, char *out, size_t n)
{
	static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, n, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
		 tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/*
 * One "bytes=A-B", "bytes=A-" or "bytes=-N" range against a file of size bytes. Returns 1 with
 * [*off, *off + *len) set, 0 to ignore the header (absent, malformed or several ranges: RFC 9110
 * lets a server send the whole file), -1 when it cannot be satisfied (416).
 */
static int parse_range(const char *h, uint64_t size, uint64_t *off, uint64_t *len)
{
	unsigned long long a, b;
	char *end;

	if (!h || strncmp(h, "bytes=", 6) != 0 || strchr(h, ','))
		return 0;
	h += 6;
	if (*h == '-') {
		if (h[1] < '0' || h[1] > '9')
			return 0;
		errno = 0;
		b = strtoull(h + 1, &end, 10);
		if (*end || errno)
			return 0;
		if (b == 0 || size == 0)
			return -1;
		if (b > size)
			b = size;
		*off = size - b;
		*len = b;
		return 1;
	}
	if (*h < '0' || *h > '9')
		return 0;
	errno = 0;
	a = strtoull(h, &end, 10);
	if (*end != '-' || errno)
		return 0;
	h = end + 1;
	if (*h == '\0') {
		b = size ? size - 1 : 0;
	} else {
		if (*h < '0' || *h > '9')
			return 0;
		b = strtoull(h, &end, 10);
		if (*end || errno || b < a)
			return 0;
	}
	if (a >= size)
		return -1;
	if (b >= size)
		b = size - 1;
	*off = a;
	*len = b - a + 1;
	return 1;
}

static enum MHD_Result reply_status(struct MHD_Connection *c, unsigned status, const char *range_hdr)
{
	static const char body[] = "";
	struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)body, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	if (range_hdr)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_RANGE, range_hdr);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			      const char *version, const char *upload_data, size_t *upload_size, void **state)
{
	struct dk_server *s = cls;
	struct MHD_Response *r;
	enum MHD_Result ret;
	char modified[64], crange[128];
	const char *ims;
	struct stat st;
	uint64_t off = 0, len;
	unsigned status = MHD_HTTP_OK;
	int fd, rr;

	/* GET and HEAD carry no body, so the first call for a request can answer it: no per-request state. */
	(void)version;
	(void)upload_data;
	(void)state;
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply_status(c, MHD_HTTP_METHOD_NOT_ALLOWED, NULL);
	if (*upload_size)
		return reply_status(c, MHD_HTTP_BAD_REQUEST, NULL);
	if ((fd = open_under(s->rootfd, url)) < 0)
		return reply_status(c, MHD_HTTP_NOT_FOUND, NULL);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return reply_status(c, MHD_HTTP_NOT_FOUND, NULL);
	}
	http_date(st.st_mtime, modified, sizeof(modified));
	ims = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_MODIFIED_SINCE);
	if (ims && strcmp(ims, modified) == 0) {
		close(fd);
		return reply_status(c, MHD_HTTP_NOT_MODIFIED, NULL);
	}
	len = (uint64_t)st.st_size;
	rr = parse_range(MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_RANGE),
			 (uint64_t)st.st_size, &off, &len);
	if (rr < 0) {
		close(fd);
		snprintf(crange, sizeof(crange), "bytes */%" PRIu64, (uint64_t)st.st_size);
		return reply_status(c, MHD_HTTP_RANGE_NOT_SATISFIABLE, crange);
	}
	if (rr > 0) {
		status = MHD_HTTP_PARTIAL_CONTENT;
		snprintf(crange, sizeof(crange), "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, off, off + len - 1,
			 (uint64_t)st.st_size);
	}
	/* The response owns fd from here and closes it when the connection is done with it. */
	r = MHD_create_response_from_fd_at_offset64(len, fd, off);
	if (!r) {
		close(fd);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_LAST_MODIFIED, modified);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type(url));
	MHD_add_response_header(r, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
	if (rr > 0)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_RANGE, crange);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

int dk_serve_start(struct dk_server **out, const char *root, const char *addr, uint16_t port, struct dk_err *err)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	const union MHD_DaemonInfo *info;
	struct dk_server *s;

	*out = NULL;
	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
		return dk_err_set(err, DK_EINPUT, "listen address '%s': not a numeric IPv4 address", addr);
	if (!(s = calloc(1, sizeof(*s))))
		return dk_err_set(err, DK_ENOMEM, "out of memory");
	if ((s->rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		free(s);
		return dk_err_errno(err, "open %s", root);
	}
	s->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL,
				     NULL, handle, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
				     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60, MHD_OPTION_END);
	if (!s->daemon) {
		close(s->rootfd);
		free(s);
		return dk_err_set(err, DK_EIO, "cannot listen on %s:%u", addr, (unsigned)port);
	}
	info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info ? info->port : port;
	*out = s;
	return 0;
}

uint16_t dk_serve_port(const struct dk_server *s)
{
	return s->port;
}

void dk_serve_stop(struct dk_server *s)
{
	if (!s)
		return;
	MHD_stop_daemon(s->daemon);
	close(s->rootfd);
	free(s);
}
