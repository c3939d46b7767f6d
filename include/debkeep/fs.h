/* fs.h - file system helpers: atomic replacement of a file */
#ifndef DEBKEEP_FS_H
#define DEBKEEP_FS_H

#include <stddef.h>

#include "err.h"

/*
 * Write data to path through a temporary file in the same directory,
 * fsync it and rename it over path: a reader sees the old file or the new
 * one, and a failure (full disk...) leaves the old file as it was.
 */
int dk_write_file_atomic(const char *path, const void *data, size_t len, unsigned mode, struct dk_err *err);

#endif
