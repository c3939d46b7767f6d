/* fuzz-swu.c - libFuzzer target for the SWUpdate parsers: cpio reader, sw-description, YAML description */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <debkeep/cpio.h>
#include <debkeep/err.h>
#include <debkeep/swu.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Every description the YAML reader accepts must give a sw-description that
 * the verifier's libconfig reader parses: bundled alone, its only problems
 * are the payloads it names and the bundle lacks.
 */
static void round_trip(const struct dk_swu_desc *d)
{
	struct dk_swu_payload p[DK_SWU_ROLES];
	struct dk_swu_report rep = DK_SWU_REPORT_INIT;
	struct dk_buf sw = DK_BUF_INIT;
	struct dk_err err = DK_ERR_INIT;
	struct dk_cpio_writer w;
	void *map;
	int fd = memfd_create("fuzz-swu", 0);

	memset(p, 0, sizeof(p));
	if (fd < 0 || dk_swu_sw_description(d, p, &sw, &err))
		__builtin_trap();
	dk_cpio_writer_init(&w, fd, "fuzz.swu", 0);
	if (dk_cpio_write_mem(&w, "sw-description", sw.data, sw.len, &err) || dk_cpio_write_trailer(&w, &err))
		__builtin_trap();
	map = mmap(NULL, (size_t)w.off, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED || dk_swu_verify_mem(map, (size_t)w.off, "fuzz.swu", NULL, &rep, &err))
		__builtin_trap();
	for (size_t i = 0; i < rep.nproblems; i++)
		if (!strstr(rep.problems[i], "but not in the bundle"))
			__builtin_trap();
	dk_swu_report_release(&rep);
	munmap(map, (size_t)w.off);
	close(fd);
	dk_buf_release(&sw);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dk_swu_report rep = DK_SWU_REPORT_INIT;
	struct dk_swu_desc d;
	struct dk_err err = DK_ERR_INIT;
	int r = dk_swu_verify_mem(data, size, "fuzz.swu", "board:1.0", &rep, &err);

	/* A bundle is judged (problems, each a line) or, only when memory runs out, an error. */
	if (r == 0) {
		for (size_t i = 0; i < rep.nproblems; i++)
			if (!rep.problems[i][0] || strchr(rep.problems[i], '\n'))
				__builtin_trap();
	} else if (!err.msg[0]) {
		__builtin_trap();
	}
	dk_swu_report_release(&rep);

	dk_err_clear(&err);
	r = dk_swu_desc_load_mem(&d, (const char *)data, size, "fuzz.yaml", &err);
	if (r == 0)
		round_trip(&d);
	else if (strncmp(err.msg, "fuzz.yaml", 9) != 0)
		__builtin_trap();
	dk_swu_desc_release(&d);
	return 0;
}
