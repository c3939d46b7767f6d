/* fuzz-debfile.c - libFuzzer target for reading a .deb's control data (ar, control.tar.*, control) */
#include <stdlib.h>
#include <string.h>

#include <debkeep/err.h>
#include <debkeep/repo.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dk_debinfo info;
	struct dk_err err = DK_ERR_INIT;
	int r;

	memset(&info, 0, sizeof(info));
	r = dk_deb_read("fuzz.deb", data, size, &info, &err);
	if (r == 0) {
		/* What an import records must be whole: names, version, the stanza, both hashes. */
		check(info.name && info.version && info.arch && info.source && info.source_version && info.control);
		check(strlen(info.sha256) == 64 && strlen(info.md5) == 32 && info.size == size);
	} else {
		/* Every refusal says which file and what. */
		check(r < 0 && strncmp(err.msg, "fuzz.deb", 8) == 0);
	}
	dk_debinfo_release(&info);
	return 0;
}
