/* kconfig.h - kernel .config files and the hardening rules checked against them */
#ifndef DEBKEEP_KCONFIG_H
#define DEBKEEP_KCONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "buf.h"
#include "err.h"
#include "strpool.h"

/* A kernel version; rules name major.minor only, the patch level is kept for reports. */
struct dk_kver {
	unsigned major, minor, patch;
};

/* "6.1", "6.1.192", "6.1.0-28-amd64": 0, or DK_EINPUT when s does not start with major.minor. */
int dk_kver_parse(struct dk_kver *v, const char *s, size_t len);
/* Compares major.minor only. */
int dk_kver_cmp(const struct dk_kver *a, const struct dk_kver *b);

enum dk_kconfig_arch {
	DK_KARCH_NONE = 0,
	DK_KARCH_X86_64 = 1 << 0,
	DK_KARCH_ARM64 = 1 << 1,
	DK_KARCH_ALL = DK_KARCH_X86_64 | DK_KARCH_ARM64,
};

/* "x86_64", "amd64", "arm64", "aarch64"; DK_KARCH_NONE for anything else. */
enum dk_kconfig_arch dk_kconfig_arch_parse(const char *s);
const char *dk_kconfig_arch_name(enum dk_kconfig_arch a);

enum dk_kconfig_state {
	DK_KCONFIG_ABSENT = 0, /* not in the file at all */
	DK_KCONFIG_NOT_SET,    /* "# CONFIG_X is not set" (or CONFIG_X=n) */
	DK_KCONFIG_SET,        /* CONFIG_X=value */
};

struct dk_kconfig_entry {
	const char *value; /* as written, a string with its quotes; NULL unless SET */
	uint32_t len;
	uint32_t line;     /* the line that gave the value: the last one, as kconfig reads duplicates */
	uint8_t state;
};

/*
 * A parsed .config: options by interned name (without the CONFIG_ prefix).
 * Set `only` before parsing to keep just the options named there (a rules
 * file's names): every line is still checked, but a check then allocates for
 * a few hundred options, not ten thousand.
 */
struct dk_kconfig {
	const struct dk_strpool *only;
	struct dk_strpool names;          /* when only is NULL */
	struct dk_kconfig_entry *entries; /* by name id (in only, or in names) */
	size_t nentries;                  /* allocated slots */
	struct dk_arena values;
	struct dk_kver version;           /* from "# Linux/ARCH V Kernel Configuration" */
	bool has_version;
	char header_arch[16];             /* ARCH of that header line, "" if none */
	size_t options;                   /* lines that set an option */
	size_t duplicates;                /* lines that set a kept option already set before */
};

#define DK_KCONFIG_INIT { NULL, DK_STRPOOL_INIT, NULL, 0, DK_ARENA_INIT, { 0, 0, 0 }, false, { 0 }, 0, 0 }

/*
 * Parse a .config: "CONFIG_X=y|m|n|"string"|123|-1|0x1f", "# CONFIG_X is not set",
 * comments and blank lines. Any other line is an error naming name:line. As in
 * kconfig, the last assignment of an option wins. kc must be DK_KCONFIG_INIT or
 * released; on error it is left for dk_kconfig_release().
 */
int dk_kconfig_parse(struct dk_kconfig *kc, const char *data, size_t len, const char *name, struct dk_err *err);
/* The same for a file, compressed or not. */
int dk_kconfig_load(struct dk_kconfig *kc, const char *path, struct dk_err *err);
/* Frees what the parse made; `only` stays, for parsing another config the same way. */
void dk_kconfig_release(struct dk_kconfig *kc);

/* The entry of NAME (without CONFIG_); an ABSENT entry when the file does not mention it. */
const struct dk_kconfig_entry *dk_kconfig_get(const struct dk_kconfig *kc, const char *name, size_t len);

/* The architecture the config was made for (CONFIG_X86_64=y, CONFIG_ARM64=y), or DK_KARCH_NONE. */
enum dk_kconfig_arch dk_kconfig_detect_arch(const struct dk_kconfig *kc);

enum dk_kconfig_category {
	DK_KCAT_SELF_PROTECTION,
	DK_KCAT_SECURITY_POLICY,
	DK_KCAT_CUT_ATTACK_SURFACE,
	DK_KCAT_HARDEN_USERSPACE,
	DK_KCAT_NETWORK_SECURITY,
	DK_KCAT_COUNT,
};

const char *dk_kconfig_category_name(enum dk_kconfig_category c);

enum dk_kconfig_want {
	DK_KWANT_NOT_SET, /* "n": not set, or absent */
	DK_KWANT_VALUE,   /* exactly this value: y, m, a number (compared as a number), a "string" */
	DK_KWANT_AT_LEAST,/* ">=N" */
	DK_KWANT_SAME_AS, /* "=OTHER": the value CONFIG_OTHER has (ARCH_MMAP_RND_BITS=ARCH_MMAP_RND_BITS_MAX) */
};

/* One option=value an option must have; a rule is satisfied by any one of its expectations. */
struct dk_kconfig_expect {
	const char *name; /* without CONFIG_ */
	uint32_t name_len;
	uint8_t want;
	const char *value; /* VALUE: as a config writes it; SAME_AS: the other option's name */
	uint32_t value_len;
	long long num;     /* VALUE when numeric, AT_LEAST */
	bool numeric;
	struct dk_kver since, until; /* the option exists in [since, until); 0.0 for open ends */
};

struct dk_kconfig_source {
	const char *id;
	const char *title; /* with its address */
};

struct dk_kconfig_rule {
	uint32_t line;
	uint8_t category;
	uint8_t archs;                   /* enum dk_kconfig_arch bits */
	struct dk_kconfig_expect *expect; /* [0] the recommendation, then its alternatives */
	uint32_t nexpect;
	uint32_t *sources;               /* indices into dk_kconfig_rules.sources */
	uint32_t nsources;
};

struct dk_kconfig_rules {
	struct dk_arena arena;
	struct dk_strpool names; /* every option a rule looks at, and those that tell the architecture */
	struct dk_kconfig_source *sources;
	size_t nsources;
	struct dk_kconfig_rule *rules;
	size_t nrules;
	size_t alloc_rules, alloc_sources;
};

#define DK_KCONFIG_RULES_INIT { DK_ARENA_INIT, DK_STRPOOL_INIT, NULL, 0, NULL, 0, 0, 0 }

/* The rules file format is described at the top of data/kconfig/rules. Errors name name:line. */
int dk_kconfig_rules_parse(struct dk_kconfig_rules *r, const char *data, size_t len, const char *name,
			   struct dk_err *err);
int dk_kconfig_rules_load(struct dk_kconfig_rules *r, const char *path, struct dk_err *err);
void dk_kconfig_rules_release(struct dk_kconfig_rules *r);
/* Rules that apply to arch. */
size_t dk_kconfig_rules_count(const struct dk_kconfig_rules *r, enum dk_kconfig_arch arch);

enum dk_kconfig_result {
	DK_KRES_OK,
	DK_KRES_FAIL,
	DK_KRES_NA, /* no option of the rule exists in that kernel version */
	DK_KRES_COUNT,
};

const char *dk_kconfig_result_name(enum dk_kconfig_result r);

struct dk_kconfig_finding {
	const struct dk_kconfig_rule *rule;
	uint8_t result;
	/*
	 * OK: the expectation that held; FAIL: the one a fix should set (the
	 * recommendation if that kernel has it, else the first alternative it has);
	 * NA: 0.
	 */
	uint32_t which;
	const struct dk_kconfig_entry *actual; /* what the config says of expect[which] */
};

struct dk_kconfig_report {
	enum dk_kconfig_arch arch;
	struct dk_kver version;
	bool has_version;
	struct dk_kconfig_finding *findings; /* in rules-file order */
	size_t nfindings;
	size_t counts[DK_KCAT_COUNT][DK_KRES_COUNT];
	size_t totals[DK_KRES_COUNT];
};

#define DK_KCONFIG_REPORT_INIT { DK_KARCH_NONE, { 0, 0, 0 }, false, NULL, 0, { { 0 } }, { 0 } }

/*
 * Check every rule for arch against kc. version NULL: the config's own header,
 * if it has one; with no version known at all, every option counts as existing.
 * An option the config mentions exists whatever the rule's range says (stable
 * kernels get backports); one it does not mention exists when the version is
 * in its range, and then counts as not set.
 */
int dk_kconfig_check(const struct dk_kconfig_rules *r, const struct dk_kconfig *kc, enum dk_kconfig_arch arch,
		     const struct dk_kver *version, struct dk_kconfig_report *rep, struct dk_err *err);
void dk_kconfig_report_release(struct dk_kconfig_report *rep);

/* A value as a .config line would give it ("y", "65536", "\"sha512\""), or NULL when it is "not set". */
int dk_kconfig_expect_value(const struct dk_kconfig_expect *e, const struct dk_kconfig *kc, struct dk_buf *out);

/*
 * A fragment that fixes every FAIL of rep: one line per option, for merging
 * into the config (scripts/kconfig/merge_config.sh, then olddefconfig).
 * Returns 0, or DK_ENOMEM.
 */
int dk_kconfig_fragment(const struct dk_kconfig_report *rep, const struct dk_kconfig *kc, struct dk_buf *out,
			struct dk_err *err);

#endif
