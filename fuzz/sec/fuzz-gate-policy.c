/* fuzz-gate-policy.c - libFuzzer target for the gate's policy reader (lib/sec/gate.c) */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <debkeep/gate.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dk_policy pol = DK_POLICY_INIT;
	struct dk_err err = DK_ERR_INIT;
	int r = dk_policy_load_mem(&pol, (const char *)data, size, "policy.yaml", &err);

	if (r == 0) {
		for (size_t i = 0; i < pol.nwaivers; i++)
			if (!pol.waivers[i].cve || !pol.waivers[i].reason || !*pol.waivers[i].reason ||
			    strlen(pol.waivers[i].expires) != 10)
				__builtin_trap();
	} else if (strncmp(err.msg, "policy.yaml", 11) != 0) {
		__builtin_trap();
	}
	dk_policy_release(&pol);
	return 0;
}
