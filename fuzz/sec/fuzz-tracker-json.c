/* fuzz-tracker-json.c - libFuzzer target for the tracker's JSON export reader (lib/sec/tracker-json.c) */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <debkeep/tracker.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dk_tracker t = DK_TRACKER_INIT;
	struct dk_err err = DK_ERR_INIT;
	int r = dk_tracker_parse_json(&t, (const char *)data, size, "export.json", &err);

	if (r == 0) {
		for (size_t i = 0; i < t.nfixes; i++)
			if (!t.fixes[i].cve || !t.fixes[i].source || t.fixes[i].kind >= DK_FIX_KIND_COUNT ||
			    (t.fixes[i].kind == DK_FIX_VERSION && !t.fixes[i].version))
				__builtin_trap();
	} else if (strncmp(err.msg, "export.json", 11) != 0) {
		__builtin_trap();
	}
	dk_tracker_release(&t);
	return 0;
}
