/* cpio.c - SVR4 cpio with checksums ("crc", 070702): the container of SWUpdate bundles, written and read */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <debkeep/cpio.h>

#include "banned.h"

/*
 * Why not libarchive: it writes "newc" (070701) with a zero check field but
 * has no writer for "crc" (070702), and its reader neither checks nor exposes
 * the check field. Both directions are a 110-byte ASCII header away, so they
 * are done here, streaming, with the checksum computed on the way.
 */

#define HDR_LEN 110
#define COPY_BLOCK ((size_t)1 << 16)
#define TRAILER "TRAILER!!!"

uint32_t dk_cpio_sum(uint32_t sum, const void *p, size_t n)
{
	const unsigned char *u = p;

	for (size_t i = 0; i < n; i++)
		sum += u[i];
	return sum;
}

static uint32_t pad4(uint64_t n)
{
	return (uint32_t)((4 - (n & 3)) & 3);
}

void dk_cpio_writer_init(struct dk_cpio_writer *w, int fd, const char *path, uint32_t mtime)
{
	w->fd = fd;
	w->path = path;
	w->off = 0;
	w->ino = 0;
	w->mtime = mtime;
}

static int put(struct dk_cpio_writer *w, const void *p, size_t n, struct dk_err *err)
{
	const char *c = p;

	while (n) {
		ssize_t k = write(w->fd, c, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return dk_err_errno(err, "%s", w->path);
		c += k;
		n -= (size_t)k;
		w->off += (uint64_t)k;
	}
	return 0;
}

static int put_zeros(struct dk_cpio_writer *w, size_t n, struct dk_err *err)
{
	static const char zeros[DK_CPIO_BLOCK];

	return put(w, zeros, n, err);
}

static int put_header(struct dk_cpio_writer *w, const char *name, uint32_t mode, uint32_t nlink,
		      uint64_t size, uint32_t check, struct dk_err *err)
{
	char hdr[HDR_LEN + DK_CPIO_NAME_MAX + 1 + 4];
	size_t nlen = strlen(name) + 1, len;
	int r;

	if (nlen - 1 > DK_CPIO_NAME_MAX || !name[0])
		return dk_err_set(err, DK_EINPUT, "%s: member name '%.64s' is empty or longer than %d bytes",
				  w->path, name, DK_CPIO_NAME_MAX);
	if (size > DK_CPIO_SIZE_MAX)
		return dk_err_set(
			err, DK_EINPUT,
			"%s: %s is %llu bytes; cpio stores sizes in 32 bits, so a member must be under 4 GiB",
			w->path, name, (unsigned long long)size);
	/* Upper-case hex, as GNU cpio writes it. */
	r = snprintf(hdr, sizeof(hdr), "070702%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		     w->ino + 1, mode, 0u, 0u, nlink, w->mtime, (uint32_t)size, 0u, 0u, 0u, 0u,
		     (uint32_t)nlen, check);
	if (r != HDR_LEN)
		return dk_err_set(err, DK_EINTERNAL, "%s: cpio header is %d bytes", w->path, r);
	memcpy(hdr + HDR_LEN, name, nlen);
	len = HDR_LEN + nlen;
	memset(hdr + len, 0, 4);
	len += pad4(len);
	w->ino++;
	return put(w, hdr, len, err);
}

int dk_cpio_write_mem(struct dk_cpio_writer *w, const char *name, const void *p, size_t n, struct dk_err *err)
{
	int r = put_header(w, name, 0100644, 1, n, dk_cpio_sum(0, p, n), err);

	if (!r)
		r = put(w, p, n, err);
	if (!r)
		r = put_zeros(w, pad4(n), err);
	return r;
}

int dk_cpio_write_fd(struct dk_cpio_writer *w, const char *name, int fd, const char *src, uint64_t size,
		     uint32_t sum, struct dk_err *err)
{
	static unsigned char block[COPY_BLOCK];
	uint64_t left = size;
	uint32_t got = 0;
	int r = put_header(w, name, 0100644, 1, size, sum, err);

	while (!r && left) {
		ssize_t n = read(fd, block, left < COPY_BLOCK ? (size_t)left : COPY_BLOCK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return dk_err_errno(err, "%s", src);
		if (n == 0)
			return dk_err_set(err, DK_EINPUT, "%s: file shrank while the bundle was written",
					  src);
		got = dk_cpio_sum(got, block, (size_t)n);
		left -= (uint64_t)n;
		r = put(w, block, (size_t)n, err);
	}
	if (r)
		return r;
	if (got != sum)
		return dk_err_set(err, DK_EINPUT, "%s: file changed while the bundle was written", src);
	return put_zeros(w, pad4(size), err);
}

int dk_cpio_write_trailer(struct dk_cpio_writer *w, struct dk_err *err)
{
	uint64_t rest;
	int r;

	w->ino = UINT32_MAX; /* the trailer's inode is 0 */
	r = put_header(w, TRAILER, 0, 1, 0, 0, err);
	if (r)
		return r;
	rest = w->off % DK_CPIO_BLOCK;
	return rest ? put_zeros(w, DK_CPIO_BLOCK - rest, err) : 0;
}

void dk_cpio_reader_init_fd(struct dk_cpio_reader *r, int fd, const char *path)
{
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->path = path;
}

void dk_cpio_reader_init_mem(struct dk_cpio_reader *r, const void *p, size_t n, const char *path)
{
	memset(r, 0, sizeof(*r));
	r->fd = -1;
	r->mem = p;
	r->mem_len = n;
	r->path = path;
}

/* Read up to n bytes; fewer only at the end of the input. */
static int pull(struct dk_cpio_reader *r, void *buf, size_t n, size_t *got, struct dk_err *err)
{
	char *c = buf;

	*got = 0;
	if (r->mem) {
		size_t avail = r->off < r->mem_len ? r->mem_len - (size_t)r->off : 0;

		*got = n < avail ? n : avail;
		memcpy(buf, r->mem + r->off, *got);
		r->off += *got;
		return 0;
	}
	while (*got < n) {
		ssize_t k = read(r->fd, c + *got, n - *got);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return dk_err_errno(err, "%s", r->path);
		if (k == 0)
			break;
		*got += (size_t)k;
		r->off += (uint64_t)k;
	}
	return 0;
}

static int truncated(struct dk_cpio_reader *r, struct dk_err *err)
{
	return dk_err_set(err, DK_EINPUT, "%s: truncated cpio archive at byte %llu", r->path,
			  (unsigned long long)r->off);
}

static int pull_all(struct dk_cpio_reader *r, void *buf, size_t n, struct dk_err *err)
{
	size_t got;
	int rc = pull(r, buf, n, &got, err);

	if (!rc && got != n)
		rc = truncated(r, err);
	return rc;
}

static int skip(struct dk_cpio_reader *r, uint64_t n, struct dk_err *err)
{
	unsigned char block[4096];

	if (r->mem) {
		if (r->mem_len - r->off < n) {
			r->off = r->mem_len;
			return truncated(r, err);
		}
		r->off += n;
		return 0;
	}
	while (n) {
		size_t k = n < sizeof(block) ? (size_t)n : sizeof(block);
		int rc = pull_all(r, block, k, err);

		if (rc)
			return rc;
		n -= k;
	}
	return 0;
}

static bool hex8(const char *s, uint32_t *out)
{
	uint32_t v = 0;

	for (int i = 0; i < 8; i++) {
		char c = s[i];

		if (c >= '0' && c <= '9')
			v = v << 4 | (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v << 4 | (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v = v << 4 | (uint32_t)(c - 'A' + 10);
		else
			return false;
	}
	*out = v;
	return true;
}

int dk_cpio_next(struct dk_cpio_reader *r, struct dk_cpio_entry *e, struct dk_err *err)
{
	char hdr[HDR_LEN];
	uint32_t f[13];
	int rc;

	if ((rc = skip(r, r->left + r->pad, err)))
		return rc;
	r->left = 0;
	r->pad = 0;
	r->sum = 0;
	memset(e, 0, sizeof(*e));
	e->offset = r->off;
	if ((rc = pull_all(r, hdr, HDR_LEN, err)))
		return rc;
	if (memcmp(hdr, "07070", 5) || (hdr[5] != '1' && hdr[5] != '2'))
		return dk_err_set(err, DK_EINPUT, "%s: byte %llu: not a cpio newc/crc header (magic '%.6s')",
				  r->path, (unsigned long long)e->offset,
				  hdr[0] >= 0x20 && hdr[0] < 0x7f ? hdr : "?");
	for (int i = 0; i < 13; i++)
		if (!hex8(hdr + 6 + 8 * i, &f[i]))
			return dk_err_set(err, DK_EINPUT,
					  "%s: byte %llu: cpio header field %d is not hexadecimal", r->path,
					  (unsigned long long)e->offset, i + 1);
	e->crc = hdr[5] == '2';
	e->mode = f[1];
	e->size = f[6];
	e->check = f[12];
	if (f[11] < 2 || f[11] > DK_CPIO_NAME_MAX + 1)
		return dk_err_set(err, DK_EINPUT, "%s: byte %llu: cpio member name length %u is out of range",
				  r->path, (unsigned long long)e->offset, f[11]);
	if ((rc = pull_all(r, e->name, f[11], err)))
		return rc;
	if (e->name[f[11] - 1] != '\0' || strlen(e->name) != f[11] - 1)
		return dk_err_set(err, DK_EINPUT, "%s: byte %llu: cpio member name is not NUL-terminated",
				  r->path, (unsigned long long)e->offset);
	if ((rc = skip(r, pad4(HDR_LEN + f[11]), err)))
		return rc;
	if (strcmp(e->name, TRAILER) == 0)
		return DK_NOTFOUND;
	r->left = e->size;
	r->pad = pad4(e->size);
	return 0;
}

int dk_cpio_read(struct dk_cpio_reader *r, void *buf, size_t cap, size_t *got, struct dk_err *err)
{
	int rc;

	*got = 0;
	if (!r->left)
		return 0;
	if (cap > r->left)
		cap = (size_t)r->left;
	if ((rc = pull(r, buf, cap, got, err)))
		return rc;
	if (*got == 0)
		return truncated(r, err);
	r->left -= *got;
	r->sum = dk_cpio_sum(r->sum, buf, *got);
	return 0;
}
