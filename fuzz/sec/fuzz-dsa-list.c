/* fuzz-dsa-list.c - libFuzzer target for the DSA/DLA/DTSA list parser (lib/sec/tracker.c) */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <debkeep/tracker.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dk_tracker t = DK_TRACKER_INIT;
	struct dk_err err = DK_ERR_INIT;
	int r = dk_tracker_parse_advisories(&t, (const char *)data, size, "DSA", &err);

	if (r == 0) {
		for (size_t i = 0; i < t.nadvisories; i++)
			if (!t.advisories[i].name || strlen(t.advisories[i].date) != 10)
				__builtin_trap();
		for (size_t i = 0; i < t.nfixes; i++)
			if (!t.fixes[i].cve || !t.fixes[i].release || !t.fixes[i].advisory)
				__builtin_trap();
	} else if (strncmp(err.msg, "DSA:", 4) != 0) {
		__builtin_trap();
	}
	dk_tracker_release(&t);
	return 0;
}
