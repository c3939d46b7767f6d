/* input.h - reading whole files, compressed or not (gz, xz, zstd, bz2, lz4, plain) */
#ifndef DEBKEEP_INPUT_H
#define DEBKEEP_INPUT_H

#include <stddef.h>

#include "buf.h"
#include "err.h"

/*
 * Read path into out (replacing its contents), decompressing whatever
 * compression libarchive recognises by its magic; plain files are read as
 * they are. max caps the decompressed size (0: no cap beyond the buffer's).
 * Errors name the file: "Packages.xz: truncated input".
 */
int dk_read_file(const char *path, struct dk_buf *out, size_t max, struct dk_err *err);

/* The same for bytes already in memory (name is used in messages). */
int dk_decompress_mem(const void *p, size_t n, const char *name, struct dk_buf *out, size_t max,
		      struct dk_err *err);

/*
 * A whole input, read-only: a plain regular file is mapped (no copy; the
 * big Packages indices are read this way), anything compressed is
 * decompressed into buf. data is not NUL-terminated.
 */
struct dk_input {
	const char *data;
	size_t len;
	void *map;
	size_t map_len;
	struct dk_buf buf;
};

#define DK_INPUT_INIT { NULL, 0, NULL, 0, DK_BUF_INIT }

int dk_input_open(struct dk_input *in, const char *path, size_t max, struct dk_err *err);
void dk_input_release(struct dk_input *in);

struct archive;

/*
 * Enable on a libarchive reader the compressions Debian's archives and
 * images use (gzip, xz, lzma, zstd, bzip2, lz4) and no other: not the
 * filters that run an external program (lrzip, lzop, grzip) or unwrap
 * uuencode and rpm, which archive_read_support_filter_all adds. Untrusted
 * input never starts a program, and the parsers that read it are the few
 * that are fuzzed here.
 */
void dk_archive_filters(struct archive *a);

#endif
