/* input.c - whole-file reads with transparent decompression through libarchive */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include <debkeep/input.h>

#include "banned.h"

void dk_archive_filters(struct archive *a)
{
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_lzma(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_filter_bzip2(a);
	archive_read_support_filter_lz4(a);
}

/* Magic numbers of the compressors Debian uses for indices and packages. */
static bool is_compressed(const unsigned char *p, size_t n)
{
	static const struct {
		const char *magic;
		size_t len;
	} magics[] = {
		{ "\x1f\x8b", 2 },                 /* gzip */
		{ "\xfd" "7zXZ\x00", 6 },          /* xz */
		{ "\x28\xb5\x2f\xfd", 4 },         /* zstd */
		{ "BZh", 3 },                      /* bzip2 */
		{ "\x04\x22\x4d\x18", 4 },         /* lz4 frame */
		{ "\x02\x21\x4c\x18", 4 },         /* lz4 legacy */
		{ "\x5d\x00\x00", 3 },             /* lzma alone */
	};

	for (size_t i = 0; i < sizeof(magics) / sizeof(magics[0]); i++)
		if (n >= magics[i].len && memcmp(p, magics[i].magic, magics[i].len) == 0)
			return true;
	return false;
}

static int read_all_fd(int fd, const char *path, struct dk_buf *out, size_t max, struct dk_err *err)
{
	struct stat st;

	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
		if (max && (size_t)st.st_size > max)
			return dk_err_set(err, DK_EINPUT, "%s: larger than the limit of %zu bytes", path, max);
		if (dk_buf_grow(out, (size_t)st.st_size))
			return dk_err_set(err, DK_ENOMEM, "%s: out of memory", path);
	}
	for (;;) {
		ssize_t n;

		/* Grow only when full: a regular file was sized exactly above, and doubling it would copy it. */
		if (out->cap - out->len <= 1 && dk_buf_grow(out, out->len < 65536 ? 65536 : out->len))
			return dk_err_set(err, DK_ENOMEM, "%s: out of memory", path);
		n = read(fd, out->data + out->len, out->cap - out->len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return dk_err_errno(err, "%s", path);
		if (n == 0)
			break;
		out->len += (size_t)n;
		if (max && out->len > max)
			return dk_err_set(err, DK_EINPUT, "%s: larger than the limit of %zu bytes", path, max);
	}
	out->data[out->len] = '\0';
	return 0;
}

static int archive_fail(struct archive *a, const char *name, struct dk_err *err)
{
	const char *msg = archive_error_string(a);
	char clean[256];
	size_t n = 0;

	if (archive_errno(a) == ENOMEM)
		return dk_err_set(err, DK_ENOMEM, "%s: out of memory while decompressing", name);
	/* libarchive's texts come from the codec libraries, with their spacing: fold it. */
	for (const char *p = msg ? msg : ""; *p && n + 1 < sizeof(clean); p++)
		if (!(*p == ' ' && (n == 0 || clean[n - 1] == ' ')))
			clean[n++] = *p;
	clean[n] = '\0';
	return dk_err_set(err, DK_EINPUT, "%s: corrupt or truncated compressed data%s%s", name, n ? ": " : "",
			  clean);
}

int dk_decompress_mem(const void *p, size_t n, const char *name, struct dk_buf *out, size_t max,
		      struct dk_err *err)
{
	struct archive_entry *entry;
	struct archive *a;
	int r = 0;

	dk_buf_reset(out);
	if (!is_compressed(p, n)) {
		if (max && n > max)
			return dk_err_set(err, DK_EINPUT, "%s: larger than the limit of %zu bytes", name, max);
		if (dk_buf_add(out, p, n))
			return dk_err_set(err, DK_ENOMEM, "%s: out of memory", name);
		return 0;
	}
	a = archive_read_new();
	if (!a)
		return dk_err_set(err, DK_ENOMEM, "%s: out of memory", name);
	dk_archive_filters(a);
	archive_read_support_format_raw(a);
	if (archive_read_open_memory(a, p, n) != ARCHIVE_OK) {
		r = archive_fail(a, name, err);
		goto out;
	}
	if (archive_read_next_header(a, &entry) != ARCHIVE_OK) {
		r = archive_fail(a, name, err);
		goto out;
	}
	for (;;) {
		la_ssize_t got;

		if (out->cap - out->len < 65536 + 1 && dk_buf_grow(out, 65536)) {
			r = dk_err_set(err, DK_ENOMEM, "%s: out of memory or over the size limit", name);
			goto out;
		}
		got = archive_read_data(a, out->data + out->len, out->cap - out->len - 1);
		if (got < 0) {
			r = archive_fail(a, name, err);
			goto out;
		}
		if (got == 0)
			break;
		out->len += (size_t)got;
		if (max && out->len > max) {
			r = dk_err_set(err, DK_EINPUT, "%s: decompresses to more than %zu bytes", name, max);
			goto out;
		}
	}
	out->data[out->len] = '\0';
out:
	archive_read_free(a);
	if (r)
		dk_buf_reset(out);
	return r;
}

int dk_read_file(const char *path, struct dk_buf *out, size_t max, struct dk_err *err)
{
	struct dk_buf raw = DK_BUF_INIT;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return dk_err_errno(err, "%s", path);
	dk_buf_reset(out);
	/* Read straight into out: most inputs are plain, and then no copy is needed. */
	r = read_all_fd(fd, path, out, 0, err);
	close(fd);
	if (r)
		return r;
	if (!is_compressed((const unsigned char *)out->data, out->len)) {
		if (max && out->len > max)
			return dk_err_set(err, DK_EINPUT, "%s: larger than the limit of %zu bytes", path, max);
		return 0;
	}
	raw = *out;
	dk_buf_init(out, raw.max);
	r = dk_decompress_mem(raw.data, raw.len, path, out, max, err);
	dk_buf_release(&raw);
	return r;
}

int dk_input_open(struct dk_input *in, const char *path, size_t max, struct dk_err *err)
{
	unsigned char magic[8];
	struct stat st;
	ssize_t n;
	int fd, r;

	*in = (struct dk_input)DK_INPUT_INIT;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return dk_err_errno(err, "%s", path);
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size == 0)
		goto read_it;
	n = pread(fd, magic, sizeof(magic), 0);
	if (n <= 0 || is_compressed(magic, (size_t)n))
		goto read_it;
	if (max && (size_t)st.st_size > max) {
		close(fd);
		return dk_err_set(err, DK_EINPUT, "%s: larger than the limit of %zu bytes", path, max);
	}
	/* Populated up front: the parser reads every byte, and faulting page by page costs more. */
	in->map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
	if (in->map == MAP_FAILED) {
		in->map = NULL;
		goto read_it;
	}
	close(fd);
	in->map_len = (size_t)st.st_size;
	in->data = in->map;
	in->len = in->map_len;
	return 0;
read_it:
	close(fd);
	r = dk_read_file(path, &in->buf, max, err);
	if (r)
		return r;
	in->data = in->buf.data;
	in->len = in->buf.len;
	return 0;
}

void dk_input_release(struct dk_input *in)
{
	if (in->map)
		munmap(in->map, in->map_len);
	dk_buf_release(&in->buf);
	*in = (struct dk_input)DK_INPUT_INIT;
}
