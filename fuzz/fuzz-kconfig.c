/* fuzz-kconfig.c - libFuzzer target for the .config and rules parsers, the check and the fragment */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <debkeep/kconfig.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A little of everything the rules grammar has, to check fuzzed configs against. */
static const char rules_text[] =
	"source a A\n"
	"STRICT_KERNEL_RWX y self_protection all 4.11- a DEBUG_RODATA=y@-4.11\n"
	"LIST_HARDENED y self_protection all 6.6- a\n"
	"KEXEC n cut_attack_surface all - a\n"
	"MODULE_SIG_HASH \"sha512\" self_protection all - a MODULES=n\n"
	"MMAP_MIN 65536 self_protection x86_64 - a\n"
	"MMAP_MIN 32768 self_protection arm64 - a\n"
	"RND_BITS =RND_BITS_MAX harden_userspace all - a\n"
	"INTERVAL >=100 self_protection all - a\n"
	"SYSRQ 0x0 network_security all -6.7 a\n";

/* A config with the options the rules name, to check fuzzed rules against. */
static const char config_text[] =
	"# Linux/x86 6.1.0 Kernel Configuration\n"
	"CONFIG_X86_64=y\nCONFIG_KEXEC=y\nCONFIG_RND_BITS=28\nCONFIG_RND_BITS_MAX=32\nCONFIG_A=\"x\"\n"
	"# CONFIG_MODULES is not set\nCONFIG_SYSRQ=0x01b6\n";

static void check_all(const struct dk_kconfig_rules *r, const struct dk_kconfig *kc)
{
	static const enum dk_kconfig_arch archs[] = { DK_KARCH_X86_64, DK_KARCH_ARM64 };

	for (size_t i = 0; i < 2; i++) {
		struct dk_kconfig_report rep = DK_KCONFIG_REPORT_INIT;
		struct dk_buf frag = DK_BUF_INIT;
		size_t sum = 0;

		if (dk_kconfig_check(r, kc, archs[i], NULL, &rep, NULL) != 0)
			abort();
		for (int k = 0; k < DK_KRES_COUNT; k++)
			sum += rep.totals[k];
		if (sum != rep.nfindings || rep.nfindings != dk_kconfig_rules_count(r, archs[i]))
			abort();
		if (dk_kconfig_fragment(&rep, kc, &frag, NULL) != 0 || strlen(frag.data) != frag.len)
			abort();
		dk_buf_release(&frag);
		dk_kconfig_report_release(&rep);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dk_kconfig_rules rules = DK_KCONFIG_RULES_INIT, fixed_rules = DK_KCONFIG_RULES_INIT;
	struct dk_kconfig kc = DK_KCONFIG_INIT, fixed_kc = DK_KCONFIG_INIT;
	struct dk_err err = DK_ERR_INIT;
	const char *s = (const char *)data;

	if (dk_kconfig_rules_parse(&fixed_rules, rules_text, sizeof(rules_text) - 1, "fixed", NULL) != 0)
		abort();
	/* The input as a config, whole and then filtered to the rules' names: both must agree. */
	if (dk_kconfig_parse(&kc, s, size, "fuzz", &err) == 0) {
		struct dk_kconfig only = DK_KCONFIG_INIT;

		check_all(&fixed_rules, &kc);
		only.only = &fixed_rules.names;
		if (dk_kconfig_parse(&only, s, size, "fuzz", NULL) != 0 || only.options != kc.options)
			abort();
		check_all(&fixed_rules, &only);
		dk_kconfig_release(&only);
	} else if (err.code != DK_EINPUT || !err.msg[0]) {
		abort();
	}
	/* The input as rules, against a fixed config. */
	dk_err_clear(&err);
	if (dk_kconfig_rules_parse(&rules, s, size, "fuzz", &err) == 0) {
		if (dk_kconfig_parse(&fixed_kc, config_text, sizeof(config_text) - 1, "fixed", NULL) != 0)
			abort();
		check_all(&rules, &fixed_kc);
	} else if (err.code != DK_EINPUT || !err.msg[0]) {
		abort();
	}
	dk_kconfig_release(&fixed_kc);
	dk_kconfig_release(&kc);
	dk_kconfig_rules_release(&rules);
	dk_kconfig_rules_release(&fixed_rules);
	return 0;
}
