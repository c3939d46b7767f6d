/* cpio.h - SVR4 cpio "crc" (070702), the SWUpdate bundle container: a streaming writer and a strict reader */
#ifndef DEBKEEP_CPIO_H
#define DEBKEEP_CPIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* The size and checksum fields are 8 hex digits: no member can be 4 GiB or more. */
#define DK_CPIO_SIZE_MAX UINT64_C(0xffffffff)
/* SWUpdate keeps member names in 256-byte buffers (NUL included). */
#define DK_CPIO_NAME_MAX 255
#define DK_CPIO_BLOCK 512

/* The "crc" checksum: the sum of every data byte, modulo 2^32. */
uint32_t dk_cpio_sum(uint32_t sum, const void *p, size_t n);

/*
 * A writer appends to an open file descriptor. Members get inode numbers
 * 1, 2, ... in order, mode 0100644, owner 0:0 and the given mtime, so the
 * same inputs always give the same bytes.
 */
struct dk_cpio_writer {
	int fd;
	const char *path; /* for messages */
	uint64_t off;
	uint32_t ino;
	uint32_t mtime;
};

void dk_cpio_writer_init(struct dk_cpio_writer *w, int fd, const char *path, uint32_t mtime);

/* A member held in memory. */
int dk_cpio_write_mem(struct dk_cpio_writer *w, const char *name, const void *p, size_t n,
		      struct dk_err *err);

/*
 * A member copied from fd (read from its current position) in 64 KiB blocks. size and sum were
 * measured by an earlier pass; a file that changed since (other length or other bytes) is an error.
 */
int dk_cpio_write_fd(struct dk_cpio_writer *w, const char *name, int fd, const char *src, uint64_t size,
		     uint32_t sum, struct dk_err *err);

/* The TRAILER!!! member and zero padding to a 512-byte block, as GNU cpio writes. */
int dk_cpio_write_trailer(struct dk_cpio_writer *w, struct dk_err *err);

/* One member's header, as read. */
struct dk_cpio_entry {
	char name[DK_CPIO_NAME_MAX + 1];
	uint64_t size;
	uint32_t mode;
	uint32_t check;
	bool crc;	 /* 070702: check holds the data's checksum */
	uint64_t offset; /* of the header in the archive */
};

/* A reader pulls from a file descriptor or from memory (mem != NULL). */
struct dk_cpio_reader {
	int fd;
	const unsigned char *mem;
	size_t mem_len;
	const char *path; /* for messages */
	uint64_t off;
	uint64_t left; /* data bytes of the current member not read yet */
	uint32_t pad;  /* padding after them */
	uint32_t sum;  /* of the current member's data read so far */
};

void dk_cpio_reader_init_fd(struct dk_cpio_reader *r, int fd, const char *path);
void dk_cpio_reader_init_mem(struct dk_cpio_reader *r, const void *p, size_t n, const char *path);

/*
 * The next member's header into e, skipping what is left of the current member's data.
 * Returns 0, DK_NOTFOUND at the trailer, DK_EINPUT for a malformed or truncated archive,
 * DK_EIO when reading fails.
 */
int dk_cpio_next(struct dk_cpio_reader *r, struct dk_cpio_entry *e, struct dk_err *err);

/* Up to cap bytes of the current member's data; *got is 0 at its end. Adds them to r->sum. */
int dk_cpio_read(struct dk_cpio_reader *r, void *buf, size_t cap, size_t *got, struct dk_err *err);

#endif
