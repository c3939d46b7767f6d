/* fuzz-diff-walk.c - libFuzzer target for the diff walker: the input against a copy with its last byte changed */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <debkeep/diff.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int memfile(const uint8_t *p, size_t n, char *path, size_t len)
{
	int fd = memfd_create("fuzz-diff", 0);

	if (fd < 0 || write(fd, p, n) != (ssize_t)n)
		abort();
	snprintf(path, len, "/proc/self/fd/%d", fd);
	return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dk_diff_opts o = { .jobs = 1, .max_member_bytes = 1 << 20, .max_capture_bytes = 4 << 20 };
	struct dk_diff_report rep;
	struct dk_err err = DK_ERR_INIT;
	char pa[64], pb[64];
	uint8_t *copy;
	int fa, fb;

	if (size == 0 || size > (1 << 20))
		return 0;
	copy = malloc(size);
	if (!copy)
		abort();
	memcpy(copy, data, size);
	copy[size - 1] ^= 0x01;
	fa = memfile(data, size, pa, sizeof(pa));
	fb = memfile(copy, size, pb, sizeof(pb));
	/* Errors are fine; what must hold: a result or a message, never both missing, and no crash or leak. */
	if (dk_diff_run(pa, pb, &o, &rep, &err) < 0 && !err.msg[0])
		abort();
	for (size_t i = 0; i < rep.nitems; i++)
		if (!rep.items[i].cause || !rep.items[i].path)
			abort();
	dk_diff_report_release(&rep);
	close(fa);
	close(fb);
	free(copy);
	return 0;
}
