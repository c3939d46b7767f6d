/* fuzz-sec-target.c - libFuzzer target for scan targets (lib/sec/target.c) and the stored row form */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <debkeep/sec.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dk_sec_target a = DK_SEC_TARGET_INIT, b = DK_SEC_TARGET_INIT;
	struct dk_err err = DK_ERR_INIT;
	struct dk_sec_row *rows = NULL;
	size_t n = 0, alloc = 0;
	char *copy = malloc(size + 1);

	if (dk_sec_target_parse_status(&a, (const char *)data, size, "status", &err) == 0) {
		for (size_t i = 0; i < a.npkgs; i++)
			if (!a.pkgs[i].source || !a.pkgs[i].source_version)
				__builtin_trap();
	} else if (strncmp(err.msg, "status", 6) != 0 && err.code != DK_ENOMEM) {
		__builtin_trap();
	}
	if (dk_sec_target_parse_manifest(&b, (const char *)data, size, "manifest", &err) != 0 &&
	    strncmp(err.msg, "manifest:", 9) != 0 && err.code != DK_ENOMEM)
		__builtin_trap();
	/* Stored rows come back from the database as they were written: decoding anything must be safe. */
	if (copy) {
		memcpy(copy, data, size);
		copy[size] = '\0';
		dk_sec_rows_decode(copy, size, &rows, &n, &alloc, &err);
	}
	free(rows);
	free(copy);
	dk_sec_target_release(&a);
	dk_sec_target_release(&b);
	return 0;
}
