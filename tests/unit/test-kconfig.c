/* test-kconfig.c - unit tests for lib/device/kconfig.c: the .config parser, the rules parser, the check */
#include <debkeep/kconfig.h>

#include "tap.h"

#define RULES_FILE FIXTURES "/../../../data/kconfig/rules"

static int parse_config(struct dk_kconfig *kc, const char *text, struct dk_err *err)
{
	dk_kconfig_release(kc);
	dk_err_clear(err);
	return dk_kconfig_parse(kc, text, strlen(text), "cfg", err);
}

static int parse_rules(struct dk_kconfig_rules *r, const char *text, struct dk_err *err)
{
	dk_kconfig_rules_release(r);
	dk_err_clear(err);
	return dk_kconfig_rules_parse(r, text, strlen(text), "rules", err);
}

static const char *value_of(const struct dk_kconfig *kc, const char *name)
{
	const struct dk_kconfig_entry *e = dk_kconfig_get(kc, name, strlen(name));

	switch (e->state) {
	case DK_KCONFIG_SET:
		return e->value;
	case DK_KCONFIG_NOT_SET:
		return "(not set)";
	default:
		return "(absent)";
	}
}

static void test_versions(void)
{
	struct dk_kver v, w;

	ok(dk_kver_parse(&v, "6.1.192", 7) == 0 && v.major == 6 && v.minor == 1 && v.patch == 192, "kver 6.1.192");
	ok(dk_kver_parse(&v, "6.1.0-28-amd64", 14) == 0 && v.major == 6 && v.minor == 1 && v.patch == 0,
	   "kver with a Debian ABI suffix");
	ok(dk_kver_parse(&v, "5.10", 4) == 0 && v.major == 5 && v.minor == 10 && v.patch == 0, "kver 5.10");
	ok(dk_kver_parse(&v, "6.2-rc3", 7) == 0 && v.minor == 2, "kver with -rc");
	is_int(dk_kver_parse(&v, "6", 1), DK_EINPUT, "kver needs a minor number");
	is_int(dk_kver_parse(&v, "6.", 2), DK_EINPUT, "kver '6.' is not a version");
	is_int(dk_kver_parse(&v, "linux", 5), DK_EINPUT, "kver rejects words");
	dk_kver_parse(&v, "5.9", 3);
	dk_kver_parse(&w, "5.10.1", 6);
	ok(dk_kver_cmp(&v, &w) < 0 && dk_kver_cmp(&w, &v) > 0, "5.9 < 5.10 (numeric, not textual)");
	dk_kver_parse(&v, "5.10.200", 8);
	is_int(dk_kver_cmp(&v, &w), 0, "patch levels do not matter to rules");
	is_int(dk_kconfig_arch_parse("amd64"), DK_KARCH_X86_64, "amd64 is x86_64");
	is_int(dk_kconfig_arch_parse("aarch64"), DK_KARCH_ARM64, "aarch64 is arm64");
	is_int(dk_kconfig_arch_parse("riscv64"), DK_KARCH_NONE, "riscv64 is not supported");
}

static void test_config(void)
{
	struct dk_kconfig kc = DK_KCONFIG_INIT;
	struct dk_err err = DK_ERR_INIT;
	int r;

	r = parse_config(&kc,
			 "#\n# Automatically generated file; DO NOT EDIT.\n# Linux/x86 6.1.192 Kernel Configuration\n#\n"
			 "CONFIG_CC_VERSION_TEXT=\"gcc-12 (Debian 12.2.0-14) 12.2.0\"\n"
			 "CONFIG_X86_64=y\n"
			 "CONFIG_MODULES=m\n"
			 "# CONFIG_KEXEC is not set\n"
			 "CONFIG_PANIC_TIMEOUT=-1\n"
			 "CONFIG_MAGIC_SYSRQ_DEFAULT_ENABLE=0x01b6\n"
			 "CONFIG_ESC=\"a \\\"quoted\\\" word\"\n"
			 "\n"
			 "CONFIG_DUP=y\r\n"
			 "CONFIG_DUP=n\n"
			 "CONFIG_EMPTY=\"\"   \n"
			 "# CONFIG_FOO is not set (a comment that only looks like one)\n"
			 "CONFIG_LAST=1",
			 &err);
	is_int(r, 0, "a generated config parses");
	if (r)
		printf("# %s\n", err.msg);
	ok(kc.has_version && kc.version.major == 6 && kc.version.minor == 1 && kc.version.patch == 192,
	   "the version comes from the header comment");
	is_str(kc.header_arch, "x86", "the header names the architecture");
	is_int(dk_kconfig_detect_arch(&kc), DK_KARCH_X86_64, "CONFIG_X86_64=y means x86_64");
	is_str(value_of(&kc, "MODULES"), "m", "m is kept");
	is_str(value_of(&kc, "KEXEC"), "(not set)", "'# CONFIG_X is not set'");
	is_str(value_of(&kc, "PANIC_TIMEOUT"), "-1", "a negative number");
	is_str(value_of(&kc, "MAGIC_SYSRQ_DEFAULT_ENABLE"), "0x01b6", "a hex number, as written");
	is_str(value_of(&kc, "ESC"), "\"a \\\"quoted\\\" word\"", "a string with escaped quotes");
	is_str(value_of(&kc, "DUP"), "(not set)", "the last of two assignments wins, as in kconfig");
	is_int(kc.duplicates, 1, "the duplicate is counted");
	is_int(dk_kconfig_get(&kc, "DUP", 3)->line, 14, "and its line is the last one");
	is_str(value_of(&kc, "EMPTY"), "\"\"", "an empty string; trailing blanks are ignored");
	is_str(value_of(&kc, "FOO"), "(absent)", "a comment with more words is only a comment");
	is_str(value_of(&kc, "LAST"), "1", "a last line without a newline");
	is_str(value_of(&kc, "NOWHERE"), "(absent)", "an option the file does not mention is absent");
	is_int(kc.options, 11, "options counted");

	r = parse_config(&kc, "CONFIG_A=y\nthis is garbage\n", &err);
	is_int(r, DK_EINPUT, "a garbage line is an error");
	is_str(err.msg, "cfg:2: not an option, a comment or a blank line: 'this is garbage'", "naming file:line");
	r = parse_config(&kc, "CONFIG_A=yes\n", &err);
	is_str(err.msg, "cfg:1: CONFIG_A: bad value 'yes' (expected y, m, n, a number or a \"string\")",
	       "a bad value");
	r = parse_config(&kc, "\n\nCONFIG_A=\"open\n", &err);
	is_str(err.msg, "cfg:3: CONFIG_A: bad value '\"open' (expected y, m, n, a number or a \"string\")",
	       "an unterminated string");
	r = parse_config(&kc, "CONFIG_A=\"x\" y\n", &err);
	is_int(r, DK_EINPUT, "text after a string");
	r = parse_config(&kc, "CONFIG_A\n", &err);
	is_str(err.msg, "cfg:1: expected CONFIG_NAME=VALUE: 'CONFIG_A'", "no '='");
	r = parse_config(&kc, "CONFIG_=y\n", &err);
	is_int(r, DK_EINPUT, "no name");
	r = parse_config(&kc, "CONFIG_A=\n", &err);
	is_int(r, DK_EINPUT, "no value");
	r = parse_config(&kc, "  CONFIG_A=y\n", &err);
	is_str(err.msg, "cfg:1: unexpected leading blank: '  CONFIG_A=y'", "leading blanks");
	r = parse_config(&kc, "CONFIG_A=0x\n", &err);
	is_int(r, DK_EINPUT, "0x alone is not a number");
	r = dk_kconfig_parse(&kc, "CONFIG_A=y\0\n", 12, "nul", &err);
	is_str(err.msg, "nul: a NUL byte: not a kernel config", "a NUL byte");
	r = parse_config(&kc, "CONFIG_A=\x01\xff\n", &err);
	is_str(err.msg, "cfg:1: CONFIG_A: bad value '?" "?' (expected y, m, n, a number or a \"string\")",
	       "odd bytes are not copied into messages");
	r = parse_config(&kc, "", &err);
	ok(r == 0 && !kc.has_version && dk_kconfig_detect_arch(&kc) == DK_KARCH_NONE, "an empty file is empty");
	dk_kconfig_release(&kc);
}

static const char sample_rules[] =
	"# a test rules file\n"
	"source a   Source A (https://example.org/a)\n"
	"source b   Source B\n"
	"\n"
	"STRICT_KERNEL_RWX  y          self_protection    all     4.11-  a,b  DEBUG_RODATA=y@-4.11\n"
	"LIST_HARDENED      y          self_protection    all     6.6-   a\n"
	"CPU_SRSO           y          self_protection    x86_64  6.5-   b\n"
	"DEVKMEM            n          cut_attack_surface all     -5.13  a\n"
	"KEXEC              n          cut_attack_surface all     -      a\n"
	"MODULE_SIG         y          self_protection    all     -      a    MODULES=n\n"
	"MODULE_SIG_HASH    \"sha512\" self_protection    all     -      a    MODULES=n\n"
	"MMAP_MIN           65536      self_protection    x86_64  -      a\n"
	"MMAP_MIN           32768      self_protection    arm64   -      a\n"
	"SYSRQ_ENABLE       176        cut_attack_surface all     -      a    SYSRQ_ENABLE=0x0\n"
	"RND_BITS           =RND_BITS_MAX harden_userspace all    -      b\n"
	"KFENCE_INTERVAL    >=100      self_protection    all     -      a\n"
	"SYN_COOKIES        y          network_security   all     -      a\n"
	"ARM64_BTI          y          harden_userspace   arm64   5.10-  b\n";

static void test_rules(void)
{
	struct dk_kconfig_rules r = DK_KCONFIG_RULES_INIT;
	struct dk_err err = DK_ERR_INIT;
	int ret;

	ret = parse_rules(&r, sample_rules, &err);
	is_int(ret, 0, "the sample rules parse");
	if (ret)
		printf("# %s\n", err.msg);
	is_int(r.nsources, 2, "two sources");
	is_str(r.sources[0].title, "Source A (https://example.org/a)", "a source's title is the rest of its line");
	is_int(r.nrules, 14, "fourteen rules");
	is_int(dk_kconfig_rules_count(&r, DK_KARCH_X86_64), 12, "twelve for x86_64");
	is_int(dk_kconfig_rules_count(&r, DK_KARCH_ARM64), 12, "twelve for arm64");
	is_int(r.rules[0].nexpect, 2, "an alternative");
	is_str(r.rules[0].expect[1].name, "DEBUG_RODATA", "its option");
	ok(r.rules[0].expect[1].until.major == 4 && r.rules[0].expect[1].until.minor == 11 &&
	   r.rules[0].expect[1].since.major == 0, "its own versions");
	is_int(r.rules[0].nsources, 2, "two sources for a rule");
	is_str(r.rules[6].expect[0].value, "\"sha512\"", "a string value keeps its quotes");
	is_int(r.rules[10].expect[0].want, DK_KWANT_SAME_AS, "=OTHER");
	is_str(r.rules[10].expect[0].value, "RND_BITS_MAX", "names the other option");
	ok(r.rules[11].expect[0].want == DK_KWANT_AT_LEAST && r.rules[11].expect[0].num == 100, ">=N");

	ret = parse_rules(&r, "source a A\nX y self_protection all - a\nX n self_protection x86_64 - a\n", &err);
	is_str(err.msg, "rules:3: X already has a rule at line 2 for x86_64", "one rule per option and arch");
	ret = parse_rules(&r, "source a A\nX y nonsense all - a\n", &err);
	is_str(err.msg, "rules:2: unknown category 'nonsense'", "unknown category");
	ret = parse_rules(&r, "X y self_protection all - a\n", &err);
	is_str(err.msg, "rules:1: unknown source 'a' (sources are defined first)", "unknown source");
	ret = parse_rules(&r, "source a A\nX y self_protection all 5.10-5.4 a\n", &err);
	is_str(err.msg, "rules:2: bad versions '5.10-5.4' (-, A-, -B or A-B)", "an empty range");
	ret = parse_rules(&r, "source a A\nX y self_protection mips - a\n", &err);
	is_int(ret, DK_EINPUT, "unknown architecture");
	ret = parse_rules(&r, "source a A\nCONFIG-X y self_protection all - a\n", &err);
	is_int(ret, DK_EINPUT, "a bad option name");
	ret = parse_rules(&r, "source a A\nX yes self_protection all - a\n", &err);
	is_str(err.msg, "rules:2: X: bad value 'yes'", "a bad value");
	ret = parse_rules(&r, "source a A\nX y self_protection all - a Y\n", &err);
	is_str(err.msg, "rules:2: bad alternative 'Y' (OPTION=VALUE[@VERSIONS])", "a bad alternative");
	ret = parse_rules(&r, "source a A\nX y self_protection all - a Y=y@5\n", &err);
	is_int(ret, DK_EINPUT, "a bad alternative range");
	ret = parse_rules(&r, "source a A\nsource a B\n", &err);
	is_str(err.msg, "rules:2: source 'a' defined twice", "a source defined twice");
	ret = parse_rules(&r, "source a A\nX y self_protection all\n", &err);
	is_int(ret, DK_EINPUT, "too few fields");
	ret = parse_rules(&r, "source a A\nX y self_protection all - a A=y B=y C=y D=y E=y F=y G=y H=y I=y J=y K=y\n",
			  &err);
	is_str(err.msg, "rules:2: too many fields", "too many fields");
	ret = parse_rules(&r, "source a A\nX \"with space\" self_protection all - a Y=\"x@y\"\n", &err);
	ok(ret == 0 && strcmp(r.rules[0].expect[0].value, "\"with space\"") == 0 &&
	   strcmp(r.rules[0].expect[1].value, "\"x@y\"") == 0, "strings may hold blanks and '@'");
	dk_kconfig_rules_release(&r);
}

static const struct dk_kconfig_finding *find(const struct dk_kconfig_report *rep, const char *name)
{
	for (size_t i = 0; i < rep->nfindings; i++)
		if (strcmp(rep->findings[i].rule->expect[0].name, name) == 0)
			return &rep->findings[i];
	return NULL;
}

static const char *result_of(const struct dk_kconfig_report *rep, const char *name)
{
	const struct dk_kconfig_finding *f = find(rep, name);

	return f ? dk_kconfig_result_name((enum dk_kconfig_result)f->result) : "(no finding)";
}

static const char sample_config[] =
	"# Linux/x86 6.1.100 Kernel Configuration\n"
	"CONFIG_X86_64=y\n"
	"CONFIG_STRICT_KERNEL_RWX=y\n"
	"CONFIG_CPU_SRSO=y\n"
	"CONFIG_KEXEC=y\n"
	"# CONFIG_MODULES is not set\n"
	"CONFIG_MMAP_MIN=4096\n"
	"CONFIG_SYSRQ_ENABLE=0x0\n"
	"CONFIG_RND_BITS=28\n"
	"CONFIG_RND_BITS_MAX=32\n"
	"CONFIG_KFENCE_INTERVAL=200\n";

static void test_check(void)
{
	struct dk_kconfig_rules r = DK_KCONFIG_RULES_INIT;
	struct dk_kconfig kc = DK_KCONFIG_INIT;
	struct dk_kconfig_report rep = DK_KCONFIG_REPORT_INIT;
	struct dk_err err = DK_ERR_INIT;
	struct dk_buf frag = DK_BUF_INIT;
	struct dk_kver v;
	int ret;

	parse_rules(&r, sample_rules, &err);
	kc.only = &r.names;
	parse_config(&kc, sample_config, &err);
	is_int(kc.options, 10, "every option line is counted when only some are kept");
	ret = dk_kconfig_check(&r, &kc, DK_KARCH_X86_64, NULL, &rep, &err);
	is_int(ret, 0, "check");
	ok(rep.has_version && rep.version.minor == 1, "the version from the config's header");
	is_int(rep.nfindings, 12, "one finding per x86_64 rule");
	is_str(result_of(&rep, "STRICT_KERNEL_RWX"), "OK", "y wanted, y found");
	is_str(result_of(&rep, "LIST_HARDENED"), "N/A", "an option added after 6.1 is N/A, not FAIL");
	is_str(result_of(&rep, "CPU_SRSO"), "OK", "an option the config has counts even before its version");
	is_str(result_of(&rep, "DEVKMEM"), "N/A", "an option removed before 6.1 is N/A");
	is_str(result_of(&rep, "KEXEC"), "FAIL", "wanted not set, found y");
	is_str(result_of(&rep, "MODULE_SIG"), "OK", "the alternative MODULES=n holds");
	is_int(find(&rep, "MODULE_SIG")->which, 1, "and is named as what held");
	is_str(result_of(&rep, "MODULE_SIG_HASH"), "OK", "so for the string rule too");
	is_str(result_of(&rep, "MMAP_MIN"), "FAIL", "the x86_64 value is asked, not the arm64 one");
	is_str(result_of(&rep, "SYSRQ_ENABLE"), "OK", "0x0 equals 0x0 numerically");
	is_str(result_of(&rep, "RND_BITS"), "FAIL", "28 is not RND_BITS_MAX");
	is_str(result_of(&rep, "KFENCE_INTERVAL"), "OK", "200 >= 100");
	is_str(result_of(&rep, "SYN_COOKIES"), "FAIL", "absent in a kernel that has it counts as not set");
	is_str(result_of(&rep, "ARM64_BTI"), "(no finding)", "arm64 rules are not checked on x86_64");
	is_int(rep.totals[DK_KRES_OK], 6, "6 OK");
	is_int(rep.totals[DK_KRES_FAIL], 4, "4 FAIL");
	is_int(rep.totals[DK_KRES_NA], 2, "2 N/A");
	is_int(rep.counts[DK_KCAT_NETWORK_SECURITY][DK_KRES_FAIL], 1, "per category");

	ret = dk_kconfig_fragment(&rep, &kc, &frag, &err);
	is_int(ret, 0, "fragment");
	is_str(frag.data,
	       "# debkeep kconfig check: fixes for 4 failing rules (x86_64, Linux 6.1.100)\n"
	       "# merge into the config, then run 'make olddefconfig' and check again\n"
	       "# CONFIG_KEXEC is not set\n"
	       "CONFIG_MMAP_MIN=65536\n"
	       "CONFIG_RND_BITS=32\n"
	       "CONFIG_SYN_COOKIES=y\n",
	       "the fragment sets each failing option");
	{
		struct dk_buf merged = DK_BUF_INIT;
		struct dk_kconfig_report rep2 = DK_KCONFIG_REPORT_INIT;

		dk_buf_adds(&merged, sample_config);
		dk_buf_add(&merged, frag.data, frag.len);
		parse_config(&kc, merged.data, &err);
		dk_kconfig_check(&r, &kc, DK_KARCH_X86_64, NULL, &rep2, &err);
		is_int(rep2.totals[DK_KRES_FAIL], 0, "the config with the fragment appended passes every rule");
		dk_kconfig_report_release(&rep2);
		dk_buf_release(&merged);
		parse_config(&kc, sample_config, &err);
	}

	dk_kconfig_report_release(&rep);
	dk_kver_parse(&v, "6.6", 3);
	dk_kconfig_check(&r, &kc, DK_KARCH_X86_64, &v, &rep, &err);
	is_str(result_of(&rep, "LIST_HARDENED"), "FAIL", "--kernel-version 6.6: LIST_HARDENED exists and is absent");
	dk_kconfig_report_release(&rep);
	dk_kver_parse(&v, "4.9", 3);
	dk_kconfig_check(&r, &kc, DK_KARCH_X86_64, &v, &rep, &err);
	is_str(result_of(&rep, "STRICT_KERNEL_RWX"), "OK", "4.9: the config's own option still counts");
	is_str(result_of(&rep, "DEVKMEM"), "OK", "4.9: DEVKMEM exists, absent means not set");
	dk_kconfig_report_release(&rep);

	parse_config(&kc, "CONFIG_ARM64=y\n", &err);
	is_int(dk_kconfig_detect_arch(&kc), DK_KARCH_ARM64, "CONFIG_ARM64=y means arm64");
	dk_kconfig_check(&r, &kc, DK_KARCH_ARM64, NULL, &rep, &err);
	ok(!rep.has_version, "no header, no version");
	is_str(result_of(&rep, "LIST_HARDENED"), "FAIL", "without a version every option is taken to exist");
	is_str(result_of(&rep, "ARM64_BTI"), "FAIL", "arm64 rules apply");
	is_str(result_of(&rep, "CPU_SRSO"), "(no finding)", "x86_64 rules do not");
	dk_buf_reset(&frag);
	dk_kconfig_fragment(&rep, &kc, &frag, &err);
	ok(strstr(frag.data, "# CONFIG_RND_BITS: should equal CONFIG_RND_BITS_MAX, which this config does not set\n"),
	   "a fragment cannot invent the value of an option the config lacks");
	ok(strstr(frag.data, "CONFIG_MMAP_MIN=32768\n") != NULL, "the arm64 value");
	ok(strstr(frag.data, "CONFIG_KFENCE_INTERVAL=100\n") != NULL, ">=100 asks for 100");

	dk_buf_release(&frag);
	dk_kconfig_report_release(&rep);
	dk_kconfig_release(&kc);
	dk_kconfig_rules_release(&r);
}

/* The shipped rules: they load, and they cover the architectures as the issue asks. */
static void test_shipped_rules(void)
{
	struct dk_kconfig_rules r = DK_KCONFIG_RULES_INIT;
	struct dk_err err = DK_ERR_INIT;
	size_t per_cat[DK_KCAT_COUNT] = { 0 };
	bool cited = true;
	int ret = dk_kconfig_rules_load(&r, RULES_FILE, &err);

	is_int(ret, 0, "data/kconfig/rules loads");
	if (ret)
		printf("# %s\n", err.msg);
	ok(dk_kconfig_rules_count(&r, DK_KARCH_X86_64) >= 200, "at least 200 rules for x86_64 (%zu)",
	   dk_kconfig_rules_count(&r, DK_KARCH_X86_64));
	ok(dk_kconfig_rules_count(&r, DK_KARCH_ARM64) >= 200, "at least 200 rules for arm64 (%zu)",
	   dk_kconfig_rules_count(&r, DK_KARCH_ARM64));
	for (size_t i = 0; i < r.nrules; i++) {
		per_cat[r.rules[i].category]++;
		cited &= r.rules[i].nsources > 0;
	}
	ok(cited, "every rule cites a source");
	for (int c = 0; c < DK_KCAT_COUNT; c++)
		ok(per_cat[c] > 0, "rules in %s", dk_kconfig_category_name((enum dk_kconfig_category)c));
	dk_kconfig_rules_release(&r);
}

int main(void)
{
	test_versions();
	test_config();
	test_rules();
	test_check();
	test_shipped_rules();
	return tap_done();
}
