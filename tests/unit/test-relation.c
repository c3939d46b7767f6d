/* test-relation.c - unit tests for lib/deb/relation.c: the grammar, its errors, real index fields */
#include <glob.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <debkeep/arena.h>
#include <debkeep/err.h>
#include <debkeep/relation.h>

#include "tap.h"

static struct dk_arena arena = DK_ARENA_INIT;

static bool in_input(struct dk_slice sl, const char *s, size_t len)
{
	return sl.n == 0 || (sl.p >= s && sl.p + sl.n <= s + len);
}

/* Every slice of rel lies inside s[0..len) and nothing is empty that must not be. */
static bool slices_ok(const struct dk_relation *rel, const char *s, size_t len)
{
	for (size_t g = 0; g < rel->count; g++) {
		const struct dk_dep_group *grp = &rel->groups[g];

		if (grp->count == 0)
			return false;
		for (size_t a = 0; a < grp->count; a++) {
			const struct dk_dep_atom *at = &grp->alts[a];

			if (at->name.n == 0 || !in_input(at->name, s, len) || !in_input(at->archqual, s, len) ||
			    !in_input(at->version, s, len))
				return false;
			if ((at->op == DK_REL_ANY) != (at->version.n == 0))
				return false;
			for (size_t i = 0; i < at->arches.count; i++)
				if (at->arches.archs[i].n == 0 || !in_input(at->arches.archs[i], s, len))
					return false;
			for (size_t i = 0; i < at->nprofiles; i++) {
				if (at->profiles[i].count == 0)
					return false;
				for (size_t j = 0; j < at->profiles[i].count; j++)
					if (!in_input(at->profiles[i].terms[j].name, s, len))
						return false;
			}
		}
	}
	return true;
}

static void add(char *buf, size_t size, size_t *pos, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void add(char *buf, size_t size, size_t *pos, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*pos >= size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *pos, size - *pos, fmt, ap);
	va_end(ap);
	if (n > 0)
		*pos += (size_t)n;
}

/* The canonical spelling of rel, so a test states the whole parse in one string. */
static const char *render(const struct dk_relation *rel)
{
	static char buf[8192];
	size_t pos = 0;

	buf[0] = '\0';
	for (size_t g = 0; g < rel->count; g++) {
		add(buf, sizeof(buf), &pos, "%s", g ? ", " : "");
		for (size_t a = 0; a < rel->groups[g].count; a++) {
			const struct dk_dep_atom *at = &rel->groups[g].alts[a];

			add(buf, sizeof(buf), &pos, "%s%.*s", a ? " | " : "", (int)at->name.n, at->name.p);
			if (at->archqual.n)
				add(buf, sizeof(buf), &pos, ":%.*s", (int)at->archqual.n, at->archqual.p);
			if (at->op != DK_REL_ANY)
				add(buf, sizeof(buf), &pos, " (%s %.*s)", dk_relop_str(at->op), (int)at->version.n,
				    at->version.p);
			if (at->arches.count) {
				add(buf, sizeof(buf), &pos, " [");
				for (size_t i = 0; i < at->arches.count; i++)
					add(buf, sizeof(buf), &pos, "%s%s%.*s", i ? " " : "",
					    at->arches.negated ? "!" : "", (int)at->arches.archs[i].n,
					    at->arches.archs[i].p);
				add(buf, sizeof(buf), &pos, "]");
			}
			for (size_t i = 0; i < at->nprofiles; i++) {
				add(buf, sizeof(buf), &pos, " <");
				for (size_t j = 0; j < at->profiles[i].count; j++) {
					const struct dk_profile_term *t = &at->profiles[i].terms[j];

					add(buf, sizeof(buf), &pos, "%s%s%.*s", j ? " " : "", t->negated ? "!" : "",
					    (int)t->name.n, t->name.p);
				}
				add(buf, sizeof(buf), &pos, ">");
			}
		}
	}
	return buf;
}

static struct dk_relation parsed;

static void parse_ok(unsigned flags, const char *in, const char *want, const char *what)
{
	struct dk_err err = DK_ERR_INIT;
	size_t len = strlen(in);
	int rc = dk_relation_parse(in, len, flags, &arena, &parsed, &err);

	if (!ok(rc == 0, "%s: parses", what)) {
		printf("#   input \"%s\"\n#   error %d: %s\n", in, rc, err.msg);
		parsed.count = 0;
		return;
	}
	is_str(render(&parsed), want, "%s: structure", what);
	ok(slices_ok(&parsed, in, len), "%s: slices inside the input", what);
}

static void parse_err(unsigned flags, const char *in, const char *want, const char *what)
{
	struct dk_err err = DK_ERR_INIT;
	struct dk_relation rel;
	int rc = dk_relation_parse(in, strlen(in), flags, &arena, &rel, &err);

	if (!ok(rc == DK_EINPUT, "%s: rejected", what)) {
		printf("#   input \"%s\", rc %d\n", in, rc);
		return;
	}
	is_str(err.msg, want, "%s: message", what);
}

static void test_basics(void)
{
	const unsigned B = DK_REL_BINARY;

	parse_ok(B, "", "", "empty field");
	is_int(parsed.count, 0, "empty field has no groups");
	ok(parsed.groups == NULL, "empty field allocates nothing");
	parse_ok(B, " \t\n ", "", "blank field");
	is_int(parsed.count, 0, "blank field has no groups");
	parse_ok(B, "libc6", "libc6", "one name");
	is_int(parsed.count, 1, "one group");
	is_int(parsed.groups[0].count, 1, "one alternative");
	ok(parsed.groups[0].alts[0].op == DK_REL_ANY && parsed.groups[0].alts[0].version.n == 0, "no version");
	ok(parsed.groups[0].alts[0].profiles == NULL && parsed.groups[0].alts[0].nprofiles == 0, "no profiles");
	parse_ok(B, "a0, b+c, d.e-f, 0ad, g++", "a0, b+c, d.e-f, 0ad, g++", "name alphabet");
	parse_ok(B, "  libc6  ,  zlib1g  ", "libc6, zlib1g", "blanks around names");
	parse_ok(B, "aa|bb|cc", "aa | bb | cc", "alternatives without blanks");
	parse_ok(B, "aa | bb, cc | dd (>= 1) | ee", "aa | bb, cc | dd (>= 1) | ee", "groups of alternatives");
	is_int(parsed.count, 2, "two groups");
	is_int(parsed.groups[1].count, 3, "three alternatives in the second");
	is_str(render(&parsed), "aa | bb, cc | dd (>= 1) | ee", "render is stable");
}

static void test_versions(void)
{
	static const struct {
		const char *in;
		enum dk_relop op;
		bool deprecated;
	} ops[] = {
		{ "pp (<< 1)", DK_REL_LT, false }, { "pp (<= 1)", DK_REL_LE, false }, { "pp (= 1)", DK_REL_EQ, false },
		{ "pp (>= 1)", DK_REL_GE, false }, { "pp (>> 1)", DK_REL_GT, false }, { "pp (< 1)", DK_REL_LE, true },
		{ "pp (> 1)", DK_REL_GE, true },   { "pp (1)", DK_REL_EQ, true },
	};
	const unsigned B = DK_REL_BINARY;

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		struct dk_err err = DK_ERR_INIT;
		struct dk_relation rel;
		int rc = dk_relation_parse(ops[i].in, strlen(ops[i].in), B, &arena, &rel, &err);

		ok(rc == 0 && rel.count == 1 && rel.groups[0].alts[0].op == ops[i].op &&
			   rel.groups[0].alts[0].deprecated_op == ops[i].deprecated &&
			   rel.groups[0].alts[0].version.n == 1 && rel.groups[0].alts[0].version.p[0] == '1',
		   "operator in '%s'", ops[i].in);
	}
	parse_ok(B, "pp(>=1.0)", "pp (>= 1.0)", "version without blanks");
	parse_ok(B, "pp ( >=  1:2.3-4~rc1+b2 )", "pp (>= 1:2.3-4~rc1+b2)", "blanks inside parentheses");
	parse_ok(B, "pp (>=\t1.0)", "pp (>= 1.0)", "tab after operator");
	parse_ok(B, "pp (>=1.0~)", "pp (>= 1.0~)", "tilde version");
	parse_ok(B, "pp (=1:0.9.git20220301-2)", "pp (= 1:0.9.git20220301-2)", "epoch and revision");
	parse_ok(B, "pp (<< 2:1.8+git20210923~)", "pp (<< 2:1.8+git20210923~)", "epoch with tilde");
	ok(!parsed.groups[0].alts[0].deprecated_op, "'<<' is not deprecated");
	parse_ok(B, "pp (1.0 )", "pp (= 1.0)", "implicit exact match");
	ok(parsed.groups[0].alts[0].deprecated_op, "implicit exact match is flagged deprecated");
}

static void test_archqual(void)
{
	parse_ok(DK_REL_BINARY, "python3:any, perl:native, libc6:amd64 (>= 2.34)",
		 "python3:any, perl:native, libc6:amd64 (>= 2.34)", "architecture qualifiers");
	parse_ok(DK_REL_BINARY, "gcc-12:arm64-gnu", "gcc-12:arm64-gnu", "qualifier with '-'");
	parse_ok(DK_REL_BINARY, "python3 :any", "python3:any", "blank before ':' as dpkg allows");
	parse_ok(DK_REL_BINARY, "python3:any(>=3.11)", "python3:any (>= 3.11)", "qualifier then version, no blanks");
}

static void test_source(void)
{
	const unsigned S = DK_REL_SOURCE;

	parse_ok(S, "libselinux1-dev [linux-any]", "libselinux1-dev [linux-any]", "architecture list");
	ok(!parsed.groups[0].alts[0].arches.negated, "plain list is not negated");
	parse_ok(S, "libc6-dev [ !hurd-i386  !kfreebsd-any ]", "libc6-dev [!hurd-i386 !kfreebsd-any]",
		 "negated list");
	ok(parsed.groups[0].alts[0].arches.negated, "negated list flagged");
	is_int(parsed.groups[0].alts[0].arches.count, 2, "two architectures");
	parse_ok(S, "gcc (>= 4:12) [amd64 arm64]", "gcc (>= 4:12) [amd64 arm64]", "version then list");
	parse_ok(S, "python3-pytest <!nocheck>", "python3-pytest <!nocheck>", "one profile");
	parse_ok(S, "foo <!nocheck !cross> <stage1>", "foo <!nocheck !cross> <stage1>", "two profile lists");
	is_int(parsed.groups[0].alts[0].nprofiles, 2, "a disjunction of two lists");
	is_int(parsed.groups[0].alts[0].profiles[0].count, 2, "first list has two terms");
	ok(parsed.groups[0].alts[0].profiles[0].terms[0].negated && !parsed.groups[0].alts[0].profiles[1].terms[0].negated,
	   "negation per term");
	parse_ok(S, "foo:native (>= 1.0) [linux-any] <!stage1> <pkg.foo.bar>, bar",
		 "foo:native (>= 1.0) [linux-any] <!stage1> <pkg.foo.bar>, bar", "everything at once");
	parse_ok(S, "aa [amd64] | bb [!amd64] <!nocheck>, cc<x><y>", "aa [amd64] | bb [!amd64] <!nocheck>, cc <x> <y>",
		 "lists in alternatives");
	parse_ok(S,
		 "debhelper-compat (= 13),\n dh-python,\n libfoo-dev [linux-any] <!stage1>,\n"
		 "\tpython3-all-dev:any,\n python3-sphinx <!nodoc>,",
		 "debhelper-compat (= 13), dh-python, libfoo-dev [linux-any] <!stage1>, python3-all-dev:any, "
		 "python3-sphinx <!nodoc>",
		 "folded Build-Depends with a trailing comma");
	parse_ok(S,
		 "bison, dpkg-dev (>= 1.17.14), gcc-multilib [amd64 i386 kfreebsd-amd64 mips mipsel powerpc ppc64 s390 sparc "
		 "s390x] <!nobiarch>, g++-12 <!stage1>, libaudit-dev [linux-any] <!stage1 !stage2>, libcap-dev [linux-any] "
		 "<!stage1 !stage2>, libselinux-dev [linux-any] <!stage1 !stage2>, xz-utils",
		 "bison, dpkg-dev (>= 1.17.14), gcc-multilib [amd64 i386 kfreebsd-amd64 mips mipsel powerpc ppc64 s390 sparc "
		 "s390x] <!nobiarch>, g++-12 <!stage1>, libaudit-dev [linux-any] <!stage1 !stage2>, libcap-dev [linux-any] "
		 "<!stage1 !stage2>, libselinux-dev [linux-any] <!stage1 !stage2>, xz-utils",
		 "glibc-like Build-Depends");
}

static void test_folded(void)
{
	parse_ok(DK_REL_BINARY, "libc6 (>= 2.34),\n libgcc-s1\n  (>= 3.0)\n |\n\tlibgcc1,\n zlib1g",
		 "libc6 (>= 2.34), libgcc-s1 (>= 3.0) | libgcc1, zlib1g", "folded over lines, blanks everywhere");
	parse_ok(DK_REL_BINARY, "aa\r\n , bb\f,\vcc", "aa, bb, cc", "every isspace() blank");
	parse_ok(DK_REL_BINARY, "aa,", "aa", "trailing comma accepted as apt does");
	parse_ok(DK_REL_BINARY, "aa, bb ,\n ", "aa, bb", "trailing comma then blanks");
}

static void test_errors(void)
{
	const unsigned B = DK_REL_BINARY, S = DK_REL_SOURCE;

	parse_err(B, "libc6 (>= 2.34", "unbalanced '(' at column 7", "unclosed parenthesis");
	parse_err(B, "abc, libfoo1 (>= 2", "unbalanced '(' at column 14", "unbalanced '(' at column 14");
	parse_err(B, "libc6 (", "unbalanced '(' at column 7", "lone '('");
	parse_err(B, "libc6 (>=", "unbalanced '(' at column 7", "no version, end of field");
	parse_err(B, "libc6 (gt 1.0)", "'gt' is not a relation operator at column 8", "word operator");
	parse_err(B, "libc6 (=> 1.0)", "'=>' is not a relation operator at column 8", "reversed operator");
	parse_err(B, "libc6 (<> 1.0)", "'<>' is not a relation operator at column 8", "'<>'");
	parse_err(B, "libc6 (<<= 1.0)", "'<<=' is not a relation operator at column 8", "'<<='");
	parse_err(B, "libc6 (>= 1.0 2.0)", "missing ')' after version at column 15", "two versions");
	parse_err(B, "libc6 (>= 1.0(", "missing ')' after version at column 14", "'(' after version");
	parse_err(B, "libc6 (>= )", "missing version at column 11", "empty version");
	parse_err(B, "libc6 ()", "missing version at column 8", "empty parentheses");
	parse_err(B, "libc6 (>= 1:)",
		  "bad version for 'libc6' at column 11: version '1:': nothing after colon in version number",
		  "version checked with dpkg's rules");
	parse_err(B, "libc6 (>= 1.0) (<< 2)", "unexpected '(' after 'libc6' at column 16", "two constraints");
	parse_err(B, "libc6 >= 2.34", "version constraint without '(' at column 7", "missing parentheses '>='");
	parse_err(B, "libc6 <= 2.34", "version constraint without '(' at column 7", "missing parentheses '<='");
	parse_err(B, "libc6 = 2.34", "version constraint without '(' at column 7", "missing parentheses '='");
	parse_err(B, "libc6 2.34", "unexpected '2' after 'libc6' at column 7", "two words");
	parse_err(B, "libc6)", "unbalanced ')' at column 6", "stray ')'");
	parse_err(S, "libc6 [amd64]]", "unbalanced ']' at column 14", "stray ']'");
	parse_err(B, "Libc6", "invalid package name 'Libc6' at column 1: must start with a lower-case letter or a digit",
		  "upper-case start");
	parse_err(B, "lib_c6", "invalid package name 'lib_c6' at column 1: character '_' not allowed", "underscore");
	parse_err(B, "aa, libC6", "invalid package name 'libC6' at column 5: character 'C' not allowed", "upper case");
	parse_err(B, "-foo", "invalid package name '-foo' at column 1: must start with a lower-case letter or a digit",
		  "'-' start");
	parse_err(B, "a", "invalid package name 'a' at column 1: must be at least two characters long", "one character");
	parse_err(B, "a\x01" "b", "invalid package name 'a\x01" "b' at column 1: byte 0x01 not allowed", "control byte");
	parse_err(B, ", a", "missing package name before ',' at column 1", "leading comma");
	parse_err(B, "aa, , bb", "missing package name before ',' at column 5", "empty group");
	parse_err(B, "aa,,", "missing package name before ',' at column 4", "double trailing comma");
	parse_err(B, "aa | | bb", "missing package name before '|' at column 6", "empty alternative");
	parse_err(B, "| aa", "missing package name before '|' at column 1", "leading '|'");
	parse_err(B, "aa |", "missing package name after '|' at column 5", "trailing '|'");
	parse_err(B, "aa | ,bb", "missing package name before ',' at column 6", "'|' then ','");
	parse_err(B, "libc6:", "missing architecture name after ':' at column 6", "empty qualifier");
	parse_err(B, "libc6: amd64", "missing architecture name after ':' at column 6", "blank after ':'");
	parse_err(B, "libc6:am_d64", "invalid architecture name 'am_d64' at column 7: character '_' not allowed",
		  "bad qualifier");
	parse_err(B, "libc6:-any", "invalid architecture name '-any' at column 7: must start with a letter or a digit",
		  "qualifier starting with '-'");
	parse_err(B, "(>= 1)", "expected a package name, found '(' at column 1", "version without a name");
	parse_err(B, "!foo", "expected a package name, found '!' at column 1", "'!' before a name");
	parse_err(S, "foo [amd64 !i386]", "architecture list mixes negated and plain names at column 12", "mixed list");
	parse_err(S, "foo [!amd64 i386]", "architecture list mixes negated and plain names at column 13",
		  "mixed list, negated first");
	parse_err(S, "foo []", "empty architecture list at column 5", "empty list");
	parse_err(S, "foo [ amd64", "unbalanced '[' at column 5", "unclosed list");
	parse_err(S, "foo [amd64 !", "unbalanced '[' at column 5", "unclosed list after '!'");
	parse_err(S, "foo [! amd64]", "expected an architecture name, found ' ' at column 7", "blank after '!'");
	parse_err(S, "foo [am/d64]", "invalid architecture name 'am/d64' at column 6: character '/' not allowed",
		  "bad architecture");
	parse_err(S, "foo [amd64] (>= 1)", "unexpected '(' after 'foo' at column 13", "version after list");
	parse_err(S, "foo <!nocheck> [amd64]", "unexpected '[' after 'foo' at column 16", "list after profiles");
	parse_err(S, "foo <>", "empty build profile restriction at column 5", "empty profile list");
	parse_err(S, "foo <!nocheck", "unbalanced '<' at column 5", "unclosed profile list");
	parse_err(S, "foo <! nocheck>", "expected a build profile name, found ' ' at column 7", "blank after '!'");
	parse_err(S, "foo <No-Check>",
		  "invalid build profile name 'No-Check' at column 6: must start with a lower-case letter or a digit",
		  "bad profile name");
	parse_err(S, "foo <nocheck>>", "unbalanced '>' at column 14", "stray '>'");
}

static void test_error_details(void)
{
	char longname[300];
	struct dk_relation rel;
	struct dk_err err = DK_ERR_INIT;

	is_int(dk_relation_parse("libc6 (>= 1:)", 13, DK_REL_BINARY, &arena, &rel, NULL), DK_EINPUT,
	       "bad version with a NULL error object");
	is_int(dk_relation_parse("aa, Bb", 6, DK_REL_BINARY, &arena, &rel, NULL), DK_EINPUT,
	       "bad name with a NULL error object");
	memset(longname, 'x', sizeof(longname) - 1);
	longname[0] = 'X';
	longname[sizeof(longname) - 1] = '\0';
	is_int(dk_relation_parse(longname, strlen(longname), DK_REL_BINARY, &arena, &rel, &err), DK_EINPUT,
	       "long bad name rejected");
	ok(strncmp(err.msg, "invalid package name 'Xxxxxxxx", 30) == 0 && strlen(err.msg) == 22 + 64 + 64 &&
		   strstr(err.msg, "x...' at column 1: must start"),
	   "long name cut at 64 bytes in the message");
	is_int(dk_relation_parse("libc6 (>= 2.34)", 9, DK_REL_BINARY, &arena, &rel, &err), DK_EINPUT,
	       "length bounds the input, not a NUL");
	is_str(err.msg, "unbalanced '(' at column 7", "field cut inside the parentheses");
	is_int(dk_relation_parse("libc6, zlib1g", 5, DK_REL_BINARY, &arena, &rel, &err), 0, "prefix of a field");
	ok(rel.count == 1 && rel.groups[0].alts[0].name.n == 5, "only the given length is read");
}

static void test_flags(void)
{
	parse_err(DK_REL_PROVIDES, "aa | bb", "alternatives ('|') not allowed here at column 4", "'|' in Provides");
	parse_ok(DK_REL_PROVIDES, "foo (= 1.0), bar:any", "foo (= 1.0), bar:any", "Provides with versions");
	parse_err(DK_REL_BINARY, "foo [amd64]", "architecture list not allowed here at column 5",
		  "architecture list in a binary field");
	parse_err(DK_REL_BINARY, "foo <!nocheck>", "build profile restriction not allowed here at column 5",
		  "profile in a binary field");
	parse_err(0, "foo:any", "architecture qualifier not allowed here at column 4", "qualifier without the flag");
	parse_err(0, "aa | bb", "alternatives ('|') not allowed here at column 4", "'|' with no flags");
	parse_ok(0, "foo (>= 1), bar", "foo (>= 1), bar", "plain list with no flags");
	parse_ok(DK_REL_ALLOW_PROFILES, "foo <!nocheck>", "foo <!nocheck>", "profiles alone");
	parse_err(DK_REL_ALLOW_PROFILES, "foo [amd64]", "architecture list not allowed here at column 5",
		  "profiles flag does not allow lists");
}

static void test_relops(void)
{
	static const struct {
		enum dk_relop op;
		const char *str;
		bool lt, eq, gt;
	} t[] = {
		{ DK_REL_ANY, "", true, true, true },	  { DK_REL_LT, "<<", true, false, false },
		{ DK_REL_LE, "<=", true, true, false },	  { DK_REL_EQ, "=", false, true, false },
		{ DK_REL_GE, ">=", false, true, true },	  { DK_REL_GT, ">>", false, false, true },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		is_str(dk_relop_str(t[i].op), t[i].str, "dk_relop_str %zu", i);
		ok(dk_relop_satisfied(t[i].op, -7) == t[i].lt && dk_relop_satisfied(t[i].op, 0) == t[i].eq &&
			   dk_relop_satisfied(t[i].op, 3) == t[i].gt,
		   "dk_relop_satisfied '%s'", t[i].str);
	}
}

/* Real fields from bookworm's amd64 index, cut short where long. */
static void test_real_world(void)
{
	static const char *const fields[] = {
		"libc6 (>= 2.34), libgcc-s1 (>= 3.0), libstdc++6 (>= 11), libsystemd0",
		"aide (<< 0.17.3-4+b3), busybox (<< 1.30.1-6), chrony (<< 4.2-3~), fakechroot (<< 2.19-3.5), "
		"firefox (<< 91~), firefox-esr (<< 91~), gnumach-image-1.8-486 (<< 2:1.8+git20210923~), "
		"hurd (<< 1:0.9.git20220301-2), ioquake3 (<< 1.36+u20200211.f2c61c1~dfsg-2~)",
		"perl-base (= 5.36.0-7+deb12u3), perl-modules-5.36 (>= 5.36.0-7+deb12u3), libperl5.36 (= 5.36.0-7+deb12u3)",
		"libansicolor-perl (= 5.01), libarchive-tar-perl (= 2.40), libcompress-raw-bzip2-perl (= 2.103), "
		"libcpan-meta-perl (= 2.150010), libdigest-md5-perl (= 2.58)",
		"python3.11 (>= 3.11.2-1~), libpython3-stdlib (= 3.11.2-1+b1)",
		"python3-profiler, python3-supported-max (= 3.11), python3-supported-min (= 3.11)",
		"libacl1 (>= 2.2.23), libaudit1 (>= 1:2.2.1), libblkid1 (>= 2.24.2), libcryptsetup12 (>= 2:2.4), "
		"libp11-kit0 (>= 0.23.18.1), libsystemd-shared (= 252.39-1~deb12u2), mount",
		"libblkid1 (>= 2.24), libc6 (>= 2.34), liblz4-1 (>= 0.0~r122), liblzma5 (>= 5.1.1alpha+20120614)",
		"default-dbus-system-bus | dbus-system-bus, systemd-timesyncd | time-daemon",
		"adduser, gpgv | gpgv2 | gpgv1, libapt-pkg6.0 (>= 2.6.1), debian-archive-keyring, libc6 (>= 2.34)",
		"fontconfig, fonts-opensymbol (>= 2:102.12), libreoffice-common (>> 4:7.4.7), ure (>= 1:7.4.0~), "
		"libabsl20220623 (>= 0~20220623.0-1), libboost-locale1.74.0 (>= 1.74.0+ds1)",
		"firefox-esr (>= 78) | firefox (>= 78) | chromium | chromium-browser | epiphany-browser | gnome-www-browser, "
		"libproxy1-plugin-networkmanager, network-manager-gnome, low-memory-monitor",
		"libavcodec62 | libavcodec-extra62 | libavcodec61 | libavcodec-extra61 | libavcodec60 | libavcodec-extra60",
		"python3:any, python3-pkg-resources, lsb-base (>= 3.0-6)",
		"dblatex (<< 0.3.8-2~), latexml (<= 0.8.6-5), sdaps (<< 1.9.7), texlive-base (<< 2022.20220405)",
	};
	const unsigned B = DK_REL_BINARY;

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		parse_ok(B, fields[i], fields[i], "real field round-trips");
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *data = NULL;
	size_t cap = 0, n = 0, r;

	if (!f)
		return NULL;
	do {
		if (n + 65536 > cap) {
			char *nd;

			cap = cap ? cap * 2 : 1 << 20;
			nd = realloc(data, cap);
			if (!nd) {
				free(data);
				fclose(f);
				return NULL;
			}
			data = nd;
		}
		r = fread(data + n, 1, cap - n, f);
		n += r;
	} while (r > 0);
	fclose(f);
	*len = n;
	return data;
}

static const char *const relation_fields[] = {
	"Depends", "Pre-Depends", "Recommends", "Suggests", "Breaks", "Conflicts", "Replaces", "Provides", "Enhances",
};

/* Which relation field the line starts, with its value's start; -1 for any other line. */
static int field_of(const char *line, const char *end, const char **value)
{
	for (size_t i = 0; i < sizeof(relation_fields) / sizeof(relation_fields[0]); i++) {
		size_t n = strlen(relation_fields[i]);

		if ((size_t)(end - line) > n && memcmp(line, relation_fields[i], n) == 0 && line[n] == ':') {
			*value = line + n + 1;
			return (int)i;
		}
	}
	return -1;
}

static const char *find_index(void)
{
	static char path[4096];
	const char *env = getenv("DEBKEEP_TEST_PACKAGES");
	glob_t g;

	if (env && *env)
		return env;
	if (glob("/var/cache/debkeep-test/apt-amd64-bookworm/state/lists/*_binary-amd64_Packages", 0, NULL, &g))
		return NULL;
	snprintf(path, sizeof(path), "%s", g.gl_pathv[0]);
	globfree(&g);
	return path;
}

struct field {
	const char *line; /* for messages */
	const char *value;
	size_t len;
};

/* The relation fields of a Packages text; continuation lines are folded into the field they continue. */
static struct field *collect_fields(const char *data, size_t len, size_t *count)
{
	struct field *f = NULL;
	size_t n = 0, cap = 0;

	for (const char *p = data, *end = data + len; p < end;) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *value;

		if (!eol)
			eol = end;
		if (field_of(p, eol, &value) < 0) {
			p = eol + 1;
			continue;
		}
		while (eol + 1 < end && (eol[1] == ' ' || eol[1] == '\t')) {
			const char *next = memchr(eol + 1, '\n', (size_t)(end - eol - 1));

			eol = next ? next : end;
		}
		if (n == cap) {
			struct field *nf;

			cap = cap ? cap * 2 : 4096;
			nf = realloc(f, cap * sizeof(*f));
			if (!nf) {
				free(f);
				return NULL;
			}
			f = nf;
		}
		f[n++] = (struct field){ p, value, (size_t)(eol - value) };
		p = eol + 1;
	}
	*count = n;
	return f;
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/*
 * Every relation field of the real index must parse. Timed twice: into one
 * arena for the whole index (as the resolver does; fresh memory, so page
 * faults count), and releasing the arena every 1024 fields (the parser alone).
 */
static void test_real_index(void)
{
	const char *path = find_index();
	struct dk_arena a = DK_ARENA_INIT;
	size_t len = 0, nfields = 0, atoms = 0, failures = 0, arena_kib;
	struct field *fields;
	struct timespec t0;
	double one_arena, hot;
	char *data;

	if (!path || !(data = slurp(path, &len))) {
		printf("# skip real index: no cached amd64 Packages (run tests/lib/apt-data.sh /var/cache/debkeep-test amd64)\n");
		return;
	}
	fields = collect_fields(data, len, &nfields);
	ok(fields && nfields > 50000, "real index: %zu relation fields found", nfields);
	if (!fields) {
		free(data);
		return;
	}

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (size_t i = 0; i < nfields; i++) {
		struct dk_relation rel;
		struct dk_err err = DK_ERR_INIT;

		if (dk_relation_parse(fields[i].value, fields[i].len, DK_REL_BINARY, &a, &rel, &err)) {
			const struct field *f = &fields[i];
			size_t shown = (size_t)(f->value + f->len - f->line);

			if (failures++ < 10)
				printf("# %.*s\n#   %s\n", (int)(shown > 200 ? 200 : shown), f->line, err.msg);
			continue;
		}
		for (size_t g = 0; g < rel.count; g++)
			atoms += rel.groups[g].count;
	}
	one_arena = ms_since(&t0);
	arena_kib = a.total / 1024;
	dk_arena_release(&a);
	is_int(failures, 0, "real index: every field parses");

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (size_t i = 0; i < nfields; i++) {
		struct dk_relation rel;

		if ((i & 1023) == 0)
			dk_arena_release(&a);
		dk_relation_parse(fields[i].value, fields[i].len, DK_REL_BINARY, &a, &rel, NULL);
	}
	hot = ms_since(&t0);
	dk_arena_release(&a);

	printf("# real index: %zu fields, %zu atoms: %.1f ms into one arena (%zu KiB), %.1f ms with a reused arena"
	       " (%.0f ns per field)\n# index: %s\n",
	       nfields, atoms, one_arena, arena_kib, hot, hot * 1e6 / (double)nfields, path);
	free(fields);
	free(data);
}

int main(void)
{
	test_basics();
	test_versions();
	test_archqual();
	test_source();
	test_folded();
	test_errors();
	test_error_details();
	test_flags();
	test_relops();
	test_real_world();
	test_real_index();
	dk_arena_release(&arena);
	return tap_done();
}
