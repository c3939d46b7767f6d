/* test-fetch.c - lib/repo/fetch.c against an in-process HTTP server with fault injection */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/sha.h>

#include <debkeep/fetch.h>

#include "../tap.h"

/* What the server does with a file; the faults apply to the first `faults` requests only. */
enum fault { F_NONE, F_503, F_DROP, F_STALL, F_REDIRECT, F_BAD_RANGE };

struct file {
	char path[32];
	unsigned char *data;
	size_t len;
	char sha[65];
	enum fault fault;
	int faults;
	size_t drop_at;
	bool no_range;  /* answer a Range request with 200 and the whole file */
	bool wrong;     /* serve a corrupted copy */
	unsigned delay_ms;
	char location[160]; /* F_REDIRECT */
	atomic_int requests;
	atomic_int ranged;
	char last_range[64];
};

#define MAX_FILES 64

static struct file files[MAX_FILES];
static size_t nfiles;
static struct MHD_Daemon *daemon_;
static unsigned short port;
static atomic_int connections, inflight, max_inflight, unknown_requests;
static atomic_bool unstall; /* ends a stalled response (F_STALL) early, once its test is over */
static char tmp[64];

static void hex(const unsigned char *md, char *out)
{
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static struct file *add_file(const char *path, size_t len, unsigned seed)
{
	struct file *f = &files[nfiles++];
	unsigned char md[32];

	memset(f, 0, sizeof(*f));
	snprintf(f->path, sizeof(f->path), "%s", path);
	f->len = len;
	f->data = malloc(len ? len : 1);
	for (size_t i = 0; i < len; i++) {
		seed = seed * 1103515245u + 12345u;
		f->data[i] = (unsigned char)(seed >> 16);
	}
	SHA256(f->data, len, md);
	hex(md, f->sha);
	return f;
}

static void reset_files(void)
{
	for (size_t i = 0; i < nfiles; i++)
		free(files[i].data);
	nfiles = 0;
	connections = 0;
	max_inflight = 0;
	unknown_requests = 0;
}

/* Responses own a copy of their bytes: a server thread may still be sending when a test frees its files. */
struct body {
	size_t len, drop_at;
	bool stall;
	unsigned char p[];
};

static ssize_t read_body(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct body *b = cls;
	size_t n;

	if (pos >= b->drop_at) {
		for (int i = 0; b->stall && i < 200 && !unstall; i++)
			usleep(50000);
		return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	n = b->drop_at - pos < max ? b->drop_at - pos : max;
	memcpy(buf, b->p + pos, n);
	return (ssize_t)n;
}

static void free_body(void *cls)
{
	free(cls);
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, struct MHD_Response *r)
{
	enum MHD_Result ret = MHD_queue_response(c, code, r);

	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			      const char *version, const char *upload, size_t *upload_size, void **state)
{
	const char *range;
	struct MHD_Response *r;
	struct file *f = NULL;
	unsigned char *data;
	size_t start = 0;
	char cr[96];
	int n, cur;

	if (!*state) {
		/* Count each request once, when its headers are in. */
		*state = c;
		cur = ++inflight;
		for (int m = max_inflight; cur > m && !atomic_compare_exchange_weak(&max_inflight, &m, cur);)
			;
		return MHD_YES;
	}
	for (size_t i = 0; i < nfiles; i++)
		if (strcmp(files[i].path, url) == 0)
			f = &files[i];
	if (!f) {
		unknown_requests++;
		r = MHD_create_response_from_buffer(9, (void *)"not found", MHD_RESPMEM_PERSISTENT);
		return reply(c, MHD_HTTP_NOT_FOUND, r);
	}
	n = ++f->requests;
	if (f->delay_ms)
		usleep(f->delay_ms * 1000);
	range = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Range");
	if (range) {
		f->ranged++;
		snprintf(f->last_range, sizeof(f->last_range), "%s", range);
	}
	if (f->fault == F_503 && n <= f->faults) {
		r = MHD_create_response_from_buffer(11, (void *)"unavailable", MHD_RESPMEM_PERSISTENT);
		return reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, r);
	}
	if (f->fault == F_REDIRECT && n <= f->faults) {
		r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
		MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, f->location);
		return reply(c, MHD_HTTP_FOUND, r);
	}
	if (f->fault == F_BAD_RANGE && range && n <= f->faults) {
		/* The whole file, labelled as a range that is not the one asked for. */
		r = MHD_create_response_from_buffer(f->len, f->data, MHD_RESPMEM_MUST_COPY);
		snprintf(cr, sizeof(cr), "bytes 0-%zu/%zu", f->len - 1, f->len);
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_RANGE, cr);
		return reply(c, MHD_HTTP_PARTIAL_CONTENT, r);
	}
	data = f->data;
	if (f->wrong) {
		data = malloc(f->len);
		memcpy(data, f->data, f->len);
		data[f->len / 2] ^= 0x55;
	}
	if (range && !f->no_range) {
		if (sscanf(range, "bytes=%zu-", &start) != 1)
			start = 0;
		if (start >= f->len) {
			r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
			snprintf(cr, sizeof(cr), "bytes */%zu", f->len);
			MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_RANGE, cr);
			if (data != f->data)
				free(data);
			return reply(c, MHD_HTTP_RANGE_NOT_SATISFIABLE, r);
		}
	}
	if ((f->fault == F_DROP || f->fault == F_STALL) && n <= f->faults) {
		struct body *b = malloc(sizeof(*b) + f->len - start);

		memcpy(b->p, data + start, f->len - start);
		b->len = f->len - start;
		b->drop_at = f->drop_at < b->len ? f->drop_at : b->len;
		b->stall = f->fault == F_STALL;
		r = MHD_create_response_from_callback(b->len, 4096, read_body, b, free_body);
	} else {
		r = MHD_create_response_from_buffer(f->len - start, data + start, MHD_RESPMEM_MUST_COPY);
	}
	if (data != f->data)
		free(data);
	if (range && !f->no_range) {
		snprintf(cr, sizeof(cr), "bytes %zu-%zu/%zu", start, f->len - 1, f->len);
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_RANGE, cr);
		return reply(c, MHD_HTTP_PARTIAL_CONTENT, r);
	}
	return reply(c, MHD_HTTP_OK, r);
}

static void completed(void *cls, struct MHD_Connection *c, void **state, enum MHD_RequestTerminationCode toe)
{
	if (*state)
		inflight--;
	*state = NULL;
}

static void notify(void *cls, struct MHD_Connection *c, void **socket_context,
		   enum MHD_ConnectionNotificationCode t)
{
	if (t == MHD_CONNECTION_NOTIFY_STARTED)
		connections++;
}

static int start_server(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = 0, .sin_addr = { htonl(INADDR_LOOPBACK) } };
	const union MHD_DaemonInfo *info;

	daemon_ = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL, NULL,
				   handle, NULL, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_NOTIFY_COMPLETED, completed,
				   NULL, MHD_OPTION_NOTIFY_CONNECTION, notify, NULL, MHD_OPTION_END);
	if (!daemon_)
		return -1;
	info = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
	port = info ? info->port : 0;
	return port ? 0 : -1;
}

static char *url_at(const char *path)
{
	static char bufs[MAX_FILES][96];
	static int next;
	char *u = bufs[next++ % MAX_FILES];

	snprintf(u, 96, "http://127.0.0.1:%u%s", port, path);
	return u;
}

static char *path_in_tmp(const char *name)
{
	static char bufs[MAX_FILES * 2][128];
	static int next;
	char *p = bufs[next++ % (MAX_FILES * 2)];

	snprintf(p, 128, "%s/%s", tmp, name);
	return p;
}

static bool file_is(const char *path, const struct file *f)
{
	unsigned char *got = malloc(f->len + 1);
	ssize_t n = -1;
	int fd = open(path, O_RDONLY);
	bool same;

	if (fd >= 0) {
		n = read(fd, got, f->len + 1);
		close(fd);
	}
	same = n == (ssize_t)f->len && memcmp(got, f->data, f->len) == 0;
	free(got);
	return same;
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static void write_bytes(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || write(fd, p, n) != (ssize_t)n)
		printf("# cannot write %s\n", path);
	close(fd);
}

static struct dk_fetch_item item_for(const struct file *f, const char *dest)
{
	struct dk_fetch_item it = { 0 };

	it.url = url_at(f->path);
	it.dest = dest;
	it.size = (int64_t)f->len;
	it.sha256 = f->sha;
	return it;
}

static struct dk_fetch_opts quick(void)
{
	struct dk_fetch_opts o = { 0 };

	o.backoff = 0.01;
	o.retries = 3;
	o.timeout = 5;
	return o;
}

struct progress_log {
	int calls;
	uint64_t done, total;
	size_t files_done, files;
};

static void on_progress(void *ctx, uint64_t done, uint64_t total, size_t files_done, size_t nfiles_)
{
	struct progress_log *p = ctx;

	p->calls++;
	p->done = done;
	p->total = total;
	p->files_done = files_done;
	p->files = nfiles_;
}

static void test_parallel(void)
{
	struct dk_fetch_item items[50];
	struct dk_fetch_opts o = quick();
	struct dk_err err = DK_ERR_INIT;
	struct progress_log pl = { 0 };
	uint64_t total = 0;
	bool all = true, parts = false;
	int requests = 0;
	char name[32];

	reset_files();
	for (int i = 0; i < 50; i++) {
		struct file *f;

		snprintf(name, sizeof(name), "/p/%d", i);
		f = add_file(name, i == 7 ? 0 : (size_t)(i * 3001 % 90000), (unsigned)i);
		f->delay_ms = 20;
		snprintf(name, sizeof(name), "p%d", i);
		items[i] = item_for(f, path_in_tmp(name));
		total += f->len;
	}
	o.parallel = 6;
	o.progress = on_progress;
	o.progress_ctx = &pl;
	is_int(dk_fetch_run(items, 50, &o, &err), 0, "parallel: 50 files fetched (%s)", err.msg);
	for (int i = 0; i < 50; i++) {
		char part[160];

		all = all && items[i].fetched && !items[i].reused && !items[i].error && items[i].status == 200 &&
		      file_is(items[i].dest, &files[i]);
		snprintf(part, sizeof(part), "%s.part", items[i].dest);
		parts = parts || exists(part);
		requests += files[i].requests;
	}
	ok(all, "parallel: every file verified and in place, status 200");
	ok(!parts, "parallel: no partial file left");
	is_int(requests, 50, "parallel: one request per file");
	ok(max_inflight > 1 && max_inflight <= 6, "parallel: %d requests at once (limit 6)", (int)max_inflight);
	ok(connections <= 6, "parallel: %d connections for 50 files (kept alive)", (int)connections);
	ok(pl.calls >= 1 && pl.files_done == 50 && pl.files == 50, "progress: final call says 50 of 50 files");
	ok(pl.done == total && pl.total == total, "progress: %llu of %llu bytes, total %llu",
	   (unsigned long long)pl.done, (unsigned long long)pl.total, (unsigned long long)total);
	ok(pl.calls < 30, "progress: rate limited (%d calls)", pl.calls);
	dk_fetch_items_release(items, 50);
}

static void test_resume(void)
{
	struct dk_fetch_item it;
	struct dk_fetch_opts o = quick();
	struct dk_err err = DK_ERR_INIT;
	struct file *f;
	char *dest = path_in_tmp("resume"), *part = path_in_tmp("resume.part");

	reset_files();
	f = add_file("/resume", 300000, 1);
	write_bytes(part, f->data, 100000);
	it = item_for(f, dest);
	is_int(dk_fetch_run(&it, 1, &o, &err), 0, "resume: fetched (%s)", err.msg);
	is_str(f->last_range, "bytes=100000-", "resume: Range asks for the rest");
	is_int(f->requests, 1, "resume: one request");
	is_int(it.status, 206, "resume: status 206");
	ok(file_is(dest, f) && !exists(part), "resume: whole file in place, partial gone");
	dk_fetch_items_release(&it, 1);

	/* The partial is under a name of the caller's choosing. */
	f->requests = 0;
	unlink(dest);
	write_bytes(path_in_tmp("elsewhere"), f->data, 5000);
	it = item_for(f, dest);
	it.partial = path_in_tmp("elsewhere");
	is_int(dk_fetch_run(&it, 1, &o, &err), 0, "resume: explicit partial path (%s)", err.msg);
	is_str(f->last_range, "bytes=5000-", "resume: from the explicit partial");
	ok(file_is(dest, f) && !exists(it.partial), "resume: explicit partial renamed to dest");
	dk_fetch_items_release(&it, 1);
}

static void test_drop(void)
{
	struct dk_fetch_item it;
	struct dk_fetch_opts o = quick();
	struct dk_err err = DK_ERR_INIT;
	struct file *f;
	char *dest = path_in_tmp("drop");
	size_t from = 0;

	reset_files();
	f = add_file("/drop", 400000, 2);
	f->fault = F_DROP;
	f->faults = 2;
	f->drop_at = 150000;
	it = item_for(f, dest);
	is_int(dk_fetch_run(&it, 1, &o, &err), 0, "drop: fetched after two cut connections (%s)", err.msg);
	is_int(f->requests, 3, "drop: three requests");
	is_int(f->ranged, 2, "drop: the retries resumed with Range");
	sscanf(f->last_range, "bytes=%zu-", &from);
	ok(from > 150000 && from <= 300000, "drop: second resume from %zu", from);
	ok(file_is(dest, f), "drop: file correct");
	dk_fetch_items_release(&it, 1);
}

static void test_no_range(void)
{
	struct dk_fetch_item it;
	struct dk_fetch_opts o = quick();
	struct dk_err err = DK_ERR_INIT;
	struct file *f;
	char *dest = path_in_tmp("norange"), *part = path_in_tmp("norange.part");

	reset_files();
	f = add_file("/norange", 200000, 3);
	f->no_range = true;
	write_bytes(part, f->data, 50000);
	it = item_for(f, dest);
	is_int(dk_fetch_run(&it, 1, &o, &err), 0, "no range: fetched (%s)", err.msg);
	is_int(f->ranged, 1, "no range: Range was asked for");
	is_int(it.status, 200, "no range: server answered 200");
	ok(file_is(dest, f) && !exists(part), "no range: restarted from 0, file correct");
	dk_fetch_items_release(&it, 1);
}

static void test_bad_partial(void)
{
	struct dk_fetch_item it;
	struct dk_fetch_opts o = quick();
	struct dk_err err = DK_ERR_INIT;
	struct file *f;
	char *dest = path_in_tmp("badpart"), *part = path_in_tmp("badpart.part");
	char junk[1000];

	reset_files();
	f = add_file("/badpart", 20000, 4);
	memset(junk, 'x', sizeof(junk));
	write_bytes(part, junk, sizeof(junk));
	it = item_for(f, dest);
	is_int(dk_fetch_run(&it, 1, &o, &err), 0, "bad partial: fetched again from 0 after the mismatch (%s)",
	       err.msg);
	ok(f->requests == 2 && f->ranged == 1, "bad partial: a resumed request, then a whole one");
	ok(file_is(dest, f) && !exists(part), "bad partial: file correct, partial gone");
	dk_fetch_items_release(&it, 1);

	/* Resuming onto junk twice in a row is the server's fault: reported, partial removed. */
	f->requests = 0;
	f->ranged = 0;
	unlink(dest);
	write_bytes(part, junk, sizeof(junk));
	it = item_for(f, dest);
	o.retries = 1;
	f->wrong = true;
	is_int(dk_fetch_run(&it, 1, &o, &err), DK_EINPUT, "bad partial, bad server: a mismatch");
	ok(strstr(err.msg, "SHA256 mismatch (expected ") && strstr(err.msg, f->path), "bad partial: %s", err.msg);
	ok(!exists(part) && !exists(dest), "bad partial: partial removed, dest absent");
	f->wrong = false;
	o.retries = 3;
	dk_fetch_items_release(&it, 1);

	/* Without a digest a partial is not trusted: the file is fetched whole. */
	f->requests = 0;
	f->ranged = 0;
	write_bytes(part, junk, sizeof(junk));
	it = item_for(f, dest);
	it.sha256 = NULL;
	is_int(dk_fetch_run(&it, 1, &o, &err), 0, "no digest: partial ignored (%s)", err.msg);
	ok(f->requests == 1 && f->ranged == 0 && file_is(dest, f), "no digest: one request from 0, file correct");
	unlink(dest);
	dk_fetch_items_release(&it, 1);

	/* A full-size leftover that does not check out is fetched again, not reported. */
	f->requests = 0;
	f->ranged = 0;
	write_bytes(part, junk, 0);
	for (size_t i = 0; i < f->len; i += sizeof(junk)) {
		int fd = open(part, O_WRONLY | O_APPEND);

		if (write(fd, junk, sizeof(junk)) != (ssize_t)sizeof(junk))
			printf("# short write\n");
		close(fd);
	}
	it = item_for(f, dest);
	is_int(dk_fetch_run(&it, 1, &o, &err), 0, "stale full partial: fetched again (%s)", err.msg);
	ok(f->requests == 1 && f->ranged == 0, "stale full partial: one request from 0");
	ok(file_is(dest, f), "stale full partial: file correct");
	dk_fetch_items_release(&it, 1);

	/* A full-size leftover that checks out needs no request. */
	f->requests = 0;
	unlink(dest);
	write_bytes(part, f->data, f->len);
	it = item_for(f, dest);
	is_int(dk_fetch_run(&it, 1, &o, &err), 0, "complete partial: kept (%s)", err.msg);
	ok(f->requests == 0 && it.fetched && !it.reused && file_is(dest, f),
	   "complete partial: renamed, no request");
	dk_fetch_items_release(&it, 1);
}

static void test_416(void)
{
	struct dk_fetch_item it;
	struct dk_fetch_opts o = quick();
	struct dk_err err = DK_ERR_INIT;
	struct file *f;
	char *dest = path_in_tmp("r416"), *part = path_in_tmp("r416.part");

	reset_files();
	f = add_file("/r416", 30000, 5);
	write_bytes(part, f->data, f->len);
	it = item_for(f, dest);
	it.size = -1;
	is_int(dk_fetch_run(&it, 1, &o, &err), 0, "416: complete partial of unknown size verified (%s)", err.msg);
	is_int(it.status, 416, "416: server said range not satisfiable");
	ok(f->requests == 1 && file_is(dest, f) && !exists(part), "416: one request, file in place");
	dk_fetch_items_release(&it, 1);
}

static void test_503(void)
{
	struct dk_fetch_item it;
	struct dk_fetch_opts o = quick();
	struct dk_err err = DK_ERR_INIT;
	struct file *f, *g;

	reset_files();
	f = add_file("/busy", 10000, 6);
	f->fault = F_503;
	f->faults = 2;
	it = item_for(f, path_in_tmp("busy"));
	is_int(dk_fetch_run(&it, 1, &o, &err), 0, "503 twice: fetched (%s)", err.msg);
	is_int(f->requests, 3, "503 twice: two retries");
	ok(file_is(it.dest, f) && it.status == 200, "503 twice: file correct, status 200");
	dk_fetch_items_release(&it, 1);

	g = add_file("/down", 10000, 7);
	g->fault = F_503;
	g->faults = 100;
	it = item_for(g, path_in_tmp("down"));
	o.retries = 2;
	is_int(dk_fetch_run(&it, 1, &o, &err), DK_EIO, "503 always: fails as a network error");
	is_int(g->requests, 3, "503 always: first try and two retries");
	ok(it.error && strstr(it.error, "HTTP 503 (3 tries)"), "503 always: %s", it.error ? it.error : "(null)");
	is_int(it.status, 503, "503 always: status kept");
	ok(!exists(it.dest), "503 always: no dest");
	dk_fetch_items_release(&it, 1);
}

static void test_404(void)
{
	struct dk_fetch_item items[2];
	struct dk_fetch_opts o = quick();
	struct dk_err err = DK_ERR_INIT;
	struct file *f;

	reset_files();
	f = add_file("/there", 5000, 8);
	items[0] = item_for(f, path_in_tmp("there"));
	items[1] = item_for(f, path_in_tmp("missing"));
	items[1].url = url_at("/missing");
	items[1].optional = true;
	is_int(dk_fetch_run(items, 2, &o, &err), 0, "404 optional: not an error");
	ok(items[1].status == 404 && !items[1].error && !items[1].fetched, "404 optional: status 404, no error");
	ok(!exists(items[1].dest) && !exists(path_in_tmp("missing.part")), "404 optional: nothing written");
	is_int(unknown_requests, 1, "404 optional: not retried");
	ok(items[0].fetched && file_is(items[0].dest, f), "404 optional: the other item fetched");
	dk_fetch_items_release(items, 2);

	unknown_requests = 0;
	items[1].optional = false;
	is_int(dk_fetch_run(items, 2, &o, &err), DK_EINPUT, "404: an error");
	ok(strstr(err.msg, "/missing: HTTP 404") != NULL, "404: %s", err.msg);
	is_int(unknown_requests, 1, "404: not retried");
	ok(items[0].reused, "404: the other item reused");
	dk_fetch_items_release(items, 2);
}

static void test_mismatch(void)
{
	struct dk_fetch_item items[2];
	struct dk_fetch_opts o = quick();
	struct dk_err err = DK_ERR_INIT;
	struct file *f, *g;
	char msg[256];

	reset_files();
	f = add_file("/ok", 7000, 10);
	g = add_file("/wrong", 70000, 11);
	g->wrong = true;
	items[0] = item_for(g, path_in_tmp("wrong"));
	items[1] = item_for(f, path_in_tmp("ok"));
	is_int(dk_fetch_run(items, 2, &o, &err), DK_EINPUT, "mismatch: an input error");
	snprintf(msg, sizeof(msg), "%s: SHA256 mismatch (expected %s, got ", items[0].url, g->sha);
	ok(strncmp(err.msg, msg, strlen(msg)) == 0, "mismatch: %s", err.msg);
	ok(items[0].error && strcmp(items[0].error, err.msg) == 0, "mismatch: item error is err");
	ok(!exists(items[0].dest) && !exists(path_in_tmp("wrong.part")), "mismatch: no dest, partial removed");
	is_int(g->requests, 1, "mismatch: not retried");
	ok(items[1].fetched && file_is(items[1].dest, f), "mismatch: the other item fetched");
	dk_fetch_items_release(items, 2);

	items[0] = item_for(f, path_in_tmp("small"));
	items[0].size = 100;
	is_int(dk_fetch_run(items, 1, &o, &err), DK_EINPUT, "size smaller than the body: an input error");
	ok(strstr(err.msg, "size mismatch (expected 100 bytes, got more)") != NULL, "size: %s", err.msg);
	ok(!exists(items[0].dest) && !exists(path_in_tmp("small.part")), "size: no dest, partial removed");
	dk_fetch_items_release(items, 1);

	items[0] = item_for(f, path_in_tmp("big"));
	items[0].size = 8000;
	is_int(dk_fetch_run(items, 1, &o, &err), DK_EINPUT, "size larger than the body: an input error");
	ok(strstr(err.msg, "size mismatch (expected 8000 bytes, got 7000)") != NULL, "size: %s", err.msg);
	dk_fetch_items_release(items, 1);

	items[0] = item_for(f, path_in_tmp("badsha"));
	items[0].sha256 = "abc";
	is_int(dk_fetch_run(items, 1, &o, &err), DK_EINPUT, "malformed expected SHA256 rejected");
	dk_fetch_items_release(items, 1);
}

static void test_reuse(void)
{
	struct dk_fetch_item it;
	struct dk_fetch_opts o = quick();
	struct dk_err err = DK_ERR_INIT;
	struct file *f;
	char *dest = path_in_tmp("reuse");

	reset_files();
	f = add_file("/reuse", 12345, 12);
	write_bytes(dest, f->data, f->len);
	it = item_for(f, dest);
	is_int(dk_fetch_run(&it, 1, &o, &err), 0, "reuse: ok");
	ok(it.reused && it.fetched && f->requests == 0, "reuse: verified dest kept, no request");
	dk_fetch_items_release(&it, 1);

	write_bytes(dest, "old content", 11);
	it = item_for(f, dest);
	is_int(dk_fetch_run(&it, 1, &o, &err), 0, "stale dest: ok");
	ok(!it.reused && it.fetched && f->requests == 1 && file_is(dest, f), "stale dest: fetched and replaced");
	dk_fetch_items_release(&it, 1);

	/* Without a digest nothing proves the file is current. */
	it = item_for(f, dest);
	it.sha256 = NULL;
	is_int(dk_fetch_run(&it, 1, &o, &err), 0, "no digest: ok");
	ok(!it.reused && f->requests == 2, "no digest: fetched again");
	dk_fetch_items_release(&it, 1);
}

static void test_memory(void)
{
	struct dk_fetch_item it;
	struct dk_fetch_opts o = quick();
	struct dk_err err = DK_ERR_INIT;
	struct file *f;

	reset_files();
	f = add_file("/mem", 100000, 13);
	it = item_for(f, NULL);
	is_int(dk_fetch_run(&it, 1, &o, &err), 0, "memory: fetched (%s)", err.msg);
	ok(it.fetched && it.body && it.body_len == f->len && memcmp(it.body, f->data, f->len) == 0,
	   "memory: body holds the file");
	ok(it.body && it.body[it.body_len] == '\0', "memory: body NUL-terminated");
	dk_fetch_items_release(&it, 1);
	ok(!it.body && !it.error, "release clears the item");

	it = item_for(f, NULL);
	it.size = -1;
	it.sha256 = NULL;
	o.max_body = 50000;
	is_int(dk_fetch_run(&it, 1, &o, &err), DK_EINPUT, "memory: over max_body fails");
	ok(strstr(err.msg, "body larger than 50000 bytes") && !it.body, "memory: %s", err.msg);
	dk_fetch_items_release(&it, 1);

	it = item_for(f, NULL);
	is_int(dk_fetch_run(&it, 1, &o, &err), DK_EINPUT, "memory: known size over max_body fails early");
	is_int(f->requests, 2, "memory: without a request");
	dk_fetch_items_release(&it, 1);

	f->fault = F_DROP;
	f->faults = 1;
	f->drop_at = 30000;
	f->requests = 0;
	o.max_body = 0;
	it = item_for(f, NULL);
	is_int(dk_fetch_run(&it, 1, &o, &err), 0, "memory: cut connection resumed (%s)", err.msg);
	ok(f->ranged == 1 && it.body_len == f->len && memcmp(it.body, f->data, f->len) == 0,
	   "memory: resumed body correct");
	dk_fetch_items_release(&it, 1);
}

static void test_file_url(void)
{
	struct dk_fetch_item it;
	struct dk_fetch_opts o = quick();
	struct dk_err err = DK_ERR_INIT;
	struct file *f;
	char url[160], *src = path_in_tmp("src"), *dest = path_in_tmp("fromfile");

	reset_files();
	f = add_file("/file", 65536 + 17, 14);
	write_bytes(src, f->data, f->len);
	snprintf(url, sizeof(url), "file://%s", src);
	it = item_for(f, dest);
	it.url = url;
	is_int(dk_fetch_run(&it, 1, &o, &err), 0, "file://: fetched (%s)", err.msg);
	ok(it.status == 0 && file_is(dest, f), "file://: status 0, file correct");
	dk_fetch_items_release(&it, 1);

	unlink(dest);
	write_bytes(path_in_tmp("fromfile.part"), f->data, 1000);
	it = item_for(f, dest);
	it.url = url;
	is_int(dk_fetch_run(&it, 1, &o, &err), 0, "file://: resumed (%s)", err.msg);
	ok(file_is(dest, f), "file://: resumed file correct");
	dk_fetch_items_release(&it, 1);

	snprintf(url, sizeof(url), "file://%s/nonexistent", tmp);
	it = item_for(f, path_in_tmp("nofile"));
	it.url = url;
	it.optional = true;
	is_int(dk_fetch_run(&it, 1, &o, &err), 0, "file://: missing optional file is not an error");
	ok(it.status == 404 && !it.error && !it.fetched, "file://: missing file reads as 404");
	dk_fetch_items_release(&it, 1);
	it.optional = false;
	is_int(dk_fetch_run(&it, 1, &o, &err), DK_EINPUT, "file://: missing file is an error");
	ok(strstr(err.msg, "no such file") != NULL, "file://: %s", err.msg);
	dk_fetch_items_release(&it, 1);
}

static void test_unsafe(void)
{
	struct dk_fetch_item it;
	struct dk_fetch_opts o = quick();
	struct dk_err err = DK_ERR_INIT;
	struct file *f;
	char *target = path_in_tmp("target"), *part = path_in_tmp("sym.part");

	reset_files();
	f = add_file("/sym", 1000, 15);
	write_bytes(target, "keep", 4);
	if (symlink(target, part))
		printf("# symlink: %s\n", strerror(errno));
	it = item_for(f, path_in_tmp("sym"));
	is_int(dk_fetch_run(&it, 1, &o, &err), DK_EIO, "symlink partial: refused");
	ok(strstr(err.msg, "sym.part") != NULL, "symlink partial: %s", err.msg);
	ok(f->requests == 0, "symlink partial: no request");
	{
		char got[8] = { 0 };
		int fd = open(target, O_RDONLY);

		ok(fd >= 0 && read(fd, got, sizeof(got)) == 4 && memcmp(got, "keep", 4) == 0,
		   "symlink partial: target untouched");
		close(fd);
	}
	dk_fetch_items_release(&it, 1);

	{
		/* A port nobody listens on: refused, which is worth a retry, then a network error. */
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr = { htonl(INADDR_LOOPBACK) } };
		socklen_t len = sizeof(sa);
		int s = socket(AF_INET, SOCK_STREAM, 0);
		char url[64];

		bind(s, (struct sockaddr *)&sa, sizeof(sa));
		getsockname(s, (struct sockaddr *)&sa, &len);
		close(s);
		snprintf(url, sizeof(url), "http://127.0.0.1:%u/x", ntohs(sa.sin_port));
		it = item_for(f, path_in_tmp("refused"));
		it.url = url;
		o.retries = 2;
		is_int(dk_fetch_run(&it, 1, &o, &err), DK_EIO, "connection refused: a network error");
		ok(strstr(err.msg, "(3 tries)") != NULL, "connection refused: retried: %s", err.msg);
		dk_fetch_items_release(&it, 1);
	}

	it = item_for(f, path_in_tmp("x"));
	it.url = "ftp://127.0.0.1/x";
	is_int(dk_fetch_run(&it, 1, &o, &err), DK_EIO, "ftp:// refused");
	dk_fetch_items_release(&it, 1);
}

static void test_redirect(void)
{
	struct dk_fetch_item it;
	struct dk_fetch_opts o = quick();
	struct dk_err err = DK_ERR_INIT;
	struct file *f, *g;
	char *src = path_in_tmp("secret");

	reset_files();
	f = add_file("/moved", 3000, 18);
	g = add_file("/new-home", 3000, 18);
	f->fault = F_REDIRECT;
	f->faults = 100;
	snprintf(f->location, sizeof(f->location), "%s", url_at("/new-home"));
	it = item_for(f, path_in_tmp("moved"));
	is_int(dk_fetch_run(&it, 1, &o, &err), 0, "redirect: followed (%s)", err.msg);
	ok(g->requests == 1 && file_is(it.dest, g), "redirect: file from the new place");
	dk_fetch_items_release(&it, 1);

	/* A server may not send us to the local file system. */
	write_bytes(src, f->data, f->len);
	snprintf(f->location, sizeof(f->location), "file://%s", src);
	it = item_for(f, path_in_tmp("moved2"));
	is_int(dk_fetch_run(&it, 1, &o, &err), DK_EIO, "redirect to file://: refused");
	ok(!it.fetched && !exists(it.dest), "redirect to file://: nothing fetched (%s)", err.msg);
	dk_fetch_items_release(&it, 1);
}

static void test_bad_range(void)
{
	struct dk_fetch_item it;
	struct dk_fetch_opts o = quick();
	struct dk_err err = DK_ERR_INIT;
	struct file *f;
	char *dest = path_in_tmp("badrange"), *part = path_in_tmp("badrange.part");

	reset_files();
	f = add_file("/badrange", 40000, 19);
	f->fault = F_BAD_RANGE;
	f->faults = 1;
	write_bytes(part, f->data, 10000);
	it = item_for(f, dest);
	is_int(dk_fetch_run(&it, 1, &o, &err), 0, "wrong Content-Range: retried from 0 (%s)", err.msg);
	ok(f->requests == 2 && file_is(dest, f), "wrong Content-Range: not appended, file correct");
	dk_fetch_items_release(&it, 1);

	f->faults = 100;
	f->requests = 0;
	f->ranged = 0;
	unlink(dest);
	write_bytes(part, f->data, 10000);
	o.retries = 1;
	it = item_for(f, dest);
	is_int(dk_fetch_run(&it, 1, &o, &err), 0, "wrong Content-Range: the retry from 0 sends no Range (%s)",
	       err.msg);
	ok(f->requests == 2 && f->ranged == 1 && file_is(dest, f), "wrong Content-Range: one ranged request");
	dk_fetch_items_release(&it, 1);

	it = item_for(f, dest);
	it.url = NULL;
	is_int(dk_fetch_run(&it, 1, &o, &err), DK_EINPUT, "an item without a URL is an input error");
	dk_fetch_items_release(&it, 1);
}

static void test_stall(void)
{
	struct dk_fetch_item items[2];
	struct dk_fetch_opts o = quick();
	struct dk_err err = DK_ERR_INIT;
	struct file *f, *g;
	time_t t0 = time(NULL);

	reset_files();
	f = add_file("/stall", 200000, 16);
	f->fault = F_STALL;
	f->faults = 1;
	f->drop_at = 20000;
	g = add_file("/other", 20000, 17);
	items[0] = item_for(f, path_in_tmp("stall"));
	items[1] = item_for(g, path_in_tmp("other"));
	o.timeout = 1;
	is_int(dk_fetch_run(items, 2, &o, &err), 0, "stall: timed out, resumed, fetched (%s)", err.msg);
	ok(f->requests == 2 && f->ranged == 1 && file_is(items[0].dest, f), "stall: second request resumed");
	ok(time(NULL) - t0 <= 6, "stall: gave up on the stalled transfer after the timeout, not after 10 s");
	unstall = true;
	dk_fetch_items_release(items, 2);
}

int main(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/test-fetch-XXXXXX");
	if (!mkdtemp(tmp) || start_server()) {
		printf("Bail out! cannot set up (%s)\n", strerror(errno));
		return 1;
	}
	test_parallel();
	test_resume();
	test_drop();
	test_no_range();
	test_bad_partial();
	test_416();
	test_503();
	test_404();
	test_mismatch();
	test_reuse();
	test_memory();
	test_file_url();
	test_unsafe();
	test_redirect();
	test_bad_range();
	test_stall();
	MHD_stop_daemon(daemon_);
	reset_files();
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
		if (system(cmd))
			printf("# cannot remove %s\n", tmp);
	}
	return tap_done();
}
