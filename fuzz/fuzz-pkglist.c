/* fuzz-pkglist.c - libFuzzer target for the package list parser (lib/deb/pkglist.c) */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <debkeep/err.h>
#include <debkeep/pkglist.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dk_pkglist pl = DK_PKGLIST_INIT;
	struct dk_err err = DK_ERR_INIT;
	int r = dk_pkglist_load_mem(&pl, (const char *)data, size, "fuzz.yaml", &err);

	/* A success must hand back a list that holds together; a failure must say something. */
	if (r == 0) {
		if (!pl.release || !pl.narchs || !pl.packages || !pl.exclude)
			__builtin_trap();
		for (size_t i = 0; i < pl.narchs; i++)
			if (!pl.archs[i][0])
				__builtin_trap();
		for (size_t i = 0; i < pl.npackages; i++)
			if (strlen(pl.packages[i].name) < 2 || !pl.packages[i].reason[0] || !pl.packages[i].line)
				__builtin_trap();
	} else if (strncmp(err.msg, "fuzz.yaml", 9) != 0) {
		__builtin_trap();
	}
	dk_pkglist_release(&pl);
	return 0;
}
