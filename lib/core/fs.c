/* fs.c - atomic file replacement */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <debkeep/fs.h>

#include "banned.h"

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int dk_write_file_atomic(const char *path, const void *data, size_t len, unsigned mode, struct dk_err *err)
{
	size_t n = strlen(path);
	char *tmp = malloc(n + 16);
	int fd, r = 0;

	if (!tmp)
		return dk_err_set(err, DK_ENOMEM, "%s: out of memory", path);
	snprintf(tmp, n + 16, "%s.tmp-XXXXXX", path);
	fd = mkstemp(tmp);
	if (fd < 0) {
		r = dk_err_errno(err, "%s: cannot create a temporary file", path);
		free(tmp);
		return r;
	}
	if (write_all(fd, data, len) || fchmod(fd, mode) || fsync(fd))
		r = dk_err_errno(err, "%s", tmp);
	if (close(fd) && !r)
		r = dk_err_errno(err, "%s", tmp);
	if (!r && rename(tmp, path))
		r = dk_err_errno(err, "%s", path);
	if (r)
		unlink(tmp);
	free(tmp);
	return r;
}
