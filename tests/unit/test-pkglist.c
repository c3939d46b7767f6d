/* test-pkglist.c - unit tests for lib/deb/pkglist.c: the example list, every error with its line */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <debkeep/err.h>
#include <debkeep/pkglist.h>

#include "tap.h"

#define EXAMPLE FIXTURES "/../../../docs/examples/cip-core.yaml"

static const char *const want_pkgs[][2] = {
	{ "busybox", "small recovery and initramfs shell tools for field service" },
	{ "binutils", "on-target inspection of binaries and firmware images during incident analysis" },
	{ "openssl", "certificate and key handling for device identity (IEC 62443-4-2 CR 1.8, PKI)" },
	{ "openssh-server", "remote maintenance (Security WG), key-only login" },
	{ "sudo", "least-privilege administration with per-command audit trail (IEC 62443-4-2 CR 2.1)" },
	{ "acl", "fine-grained file permissions for application separation" },
	{ "auditd", "security event logging (IEC 62443-4-2 CR 2.8, auditable events)" },
	{ "tpm2-tools", "TPM-backed secure storage of keys and measured boot attestation" },
};

static void test_priority(void)
{
	static const char *const names[] = { "none", "required", "important", "standard", "optional", "extra" };

	for (int p = DK_PRIO_REQUIRED; p <= DK_PRIO_EXTRA; p++) {
		is_int(dk_priority_parse(names[p], strlen(names[p])), p, "parse %s", names[p]);
		is_str(dk_priority_name((enum dk_priority)p), names[p], "name of %s", names[p]);
	}
	is_str(dk_priority_name(DK_PRIO_NONE), "none", "DK_PRIO_NONE is \"none\"");
	is_int(dk_priority_parse("none", 4), DK_PRIO_NONE, "\"none\" parses to DK_PRIO_NONE");
	is_int(dk_priority_parse("Required", 8), DK_PRIO_NONE, "case matters");
	is_int(dk_priority_parse("requiredx", 8), DK_PRIO_REQUIRED, "length is honoured");
	is_int(dk_priority_parse("require", 7), DK_PRIO_NONE, "prefix is not a match");
	is_str(dk_priority_name((enum dk_priority)99), "none", "out-of-range name is \"none\"");
}

static void test_example(void)
{
	struct dk_pkglist pl = DK_PKGLIST_INIT;
	struct dk_err err = DK_ERR_INIT;
	size_t npk = sizeof(want_pkgs) / sizeof(want_pkgs[0]);

	if (!ok(dk_pkglist_load(&pl, EXAMPLE, &err) == 0, "docs/examples/cip-core.yaml loads: %s", err.msg))
		return;
	is_str(pl.filename, EXAMPLE, "filename kept");
	is_str(pl.release, "bookworm", "release");
	is_int(pl.narchs, 2, "two architectures");
	if (pl.narchs == 2) {
		is_str(pl.archs[0], "amd64", "first architecture");
		is_str(pl.archs[1], "arm64", "second architecture");
	}
	is_int(pl.priority, DK_PRIO_REQUIRED, "priority floor required");
	is_int(pl.npackages, npk, "eight requested packages");
	for (size_t i = 0; i < npk && i < pl.npackages; i++) {
		is_str(pl.packages[i].name, want_pkgs[i][0], "package %zu name", i);
		is_str(pl.packages[i].reason, want_pkgs[i][1], "package %zu reason", i);
	}
	if (pl.npackages == npk) {
		is_int(pl.packages[0].line, 10, "busybox entry line");
		is_int(pl.packages[7].line, 24, "tpm2-tools entry line");
	}
	is_int(pl.nexclude, 0, "nothing excluded");
	dk_pkglist_release(&pl);
	ok(pl.release == NULL && pl.arena.head == NULL, "release resets the list");
}

static int load(struct dk_pkglist *pl, const char *yaml, struct dk_err *err)
{
	return dk_pkglist_load_mem(pl, yaml, strlen(yaml), "t.yaml", err);
}

static void test_good(void)
{
	struct dk_pkglist pl = DK_PKGLIST_INIT;
	struct dk_err err = DK_ERR_INIT;

	ok(load(&pl,
		"# comment\n"
		"release: \"12\"\n"
		"architectures:\n"
		"  - riscv64\n"
		"  - mips64el\n"
		"packages:\n"
		"  - reason: >\n"
		"      folded\n"
		"      text\n"
		"    name: 'libc6'\n"
		"  - {name: g++, reason: compiler on target}\n"
		"exclude:\n"
		"  - tzdata\n"
		"  - libstdc++6\n",
		&err) == 0,
	   "block, flow and quoted styles load: %s", err.msg);
	is_str(pl.release, "12", "a numeric release stays a string");
	is_int(pl.priority, DK_PRIO_NONE, "priority defaults to none");
	is_int(pl.narchs, 2, "two architectures");
	is_str(pl.narchs > 1 ? pl.archs[1] : NULL, "mips64el", "second architecture");
	is_int(pl.npackages, 2, "two packages");
	if (pl.npackages == 2) {
		is_str(pl.packages[0].name, "libc6", "name after reason");
		is_str(pl.packages[0].reason, "folded text\n", "folded reason as YAML gives it");
		is_int(pl.packages[0].line, 7, "entry line is its first key");
		is_str(pl.packages[1].name, "g++", "flow mapping entry");
		is_int(pl.packages[1].line, 11, "flow entry line");
	}
	is_int(pl.nexclude, 2, "two exclusions");
	is_str(pl.nexclude > 1 ? pl.exclude[1] : NULL, "libstdc++6", "exclusion with '+'");
	dk_pkglist_release(&pl);

	ok(load(&pl, "release: sid\narchitectures: [amd64]\npriority: none\npackages: []\n", &err) == 0,
	   "empty packages, priority none: %s", err.msg);
	is_int(pl.npackages, 0, "no packages");
	ok(pl.packages != NULL && pl.exclude != NULL, "empty arrays are not NULL");
	dk_pkglist_release(&pl);

	ok(load(&pl, "\xef\xbb\xbf---\nrelease: trixie\narchitectures: [arm64]\npriority: standard\npackages: []\n"
		     "...\n", &err) == 0,
	   "BOM, explicit document markers: %s", err.msg);
	is_int(pl.priority, DK_PRIO_STANDARD, "priority standard");
	dk_pkglist_release(&pl);

	ok(load(&pl, "release: bookworm\narchitectures: [amd64]\npackages:\n  - name: vim\n"
		     "    reason: \"\xc3\xa9" "diteur \xe2\x9c\x93\"\n", &err) == 0,
	   "UTF-8 in a reason: %s", err.msg);
	dk_pkglist_release(&pl);
}

struct bad {
	const char *yaml;
	const char *msg;
};

#define HEAD "release: bookworm\narchitectures: [amd64]\n"

static const struct bad bad[] = {
	{ HEAD "packages: []\nfoo: 1\n", "t.yaml:4: unknown key 'foo' (expected release, architectures, priority, "
					  "packages, exclude)" },
	{ "release: [bookworm]\narchitectures: [amd64]\npackages: []\n",
	  "t.yaml:1: 'release' must be a string, not a list" },
	{ "release: bookworm\narchitectures: amd64\npackages: []\n",
	  "t.yaml:2: 'architectures' must be a list, not a string" },
	{ "release: bookworm\narchitectures:\npackages: []\n",
	  "t.yaml:2: 'architectures' must be a list, not empty" },
	{ HEAD "packages: {name: x}\n", "t.yaml:3: 'packages' must be a list, not a mapping" },
	{ HEAD "packages:\n", "t.yaml:3: 'packages' must be a list, not empty" },
	{ HEAD "packages: []\nexclude: tzdata\n", "t.yaml:4: 'exclude' must be a list, not a string" },
	{ HEAD "packages: []\npriority: [required]\n", "t.yaml:4: 'priority' must be a string, not a list" },
	{ "architectures: [amd64]\npackages: []\n", "t.yaml:1: missing 'release'" },
	{ "# c\n\nrelease: bookworm\npackages: []\n", "t.yaml:3: missing 'architectures'" },
	{ HEAD "priority: required\n", "t.yaml:1: missing 'packages'" },
	{ "release: bookworm\narchitectures: []\npackages: []\n", "t.yaml:2: 'architectures' is empty" },
	{ "release: bookworm\narchitectures: [amd64, AMD64]\npackages: []\n",
	  "t.yaml:2: invalid architecture 'AMD64' (lower-case letters, digits and '-', starting with a letter "
	  "or digit)" },
	{ "release: bookworm\narchitectures:\n  - amd64\n  - -arm\npackages: []\n",
	  "t.yaml:4: invalid architecture '-arm' (lower-case letters, digits and '-', starting with a letter "
	  "or digit)" },
	{ "release: bookworm\narchitectures: [all]\npackages: []\n",
	  "t.yaml:2: 'all' is not a machine architecture" },
	{ "release: bookworm\narchitectures: [amd64, [arm64]]\npackages: []\n",
	  "t.yaml:2: each architecture must be a string, not a list" },
	{ "release: bookworm\narchitectures:\n  - amd64\n  - amd64\npackages: []\n",
	  "t.yaml:4: architecture 'amd64' listed twice (first at line 3)" },
	{ "release: book/worm\narchitectures: [amd64]\npackages: []\n",
	  "t.yaml:1: invalid release 'book/worm' (letters, digits, '.', '_', '+' and '-')" },
	{ "release: ''\narchitectures: [amd64]\npackages: []\n", "t.yaml:1: 'release' is empty" },
	{ HEAD "packages:\n  - name: Foo\n    reason: x\n",
	  "t.yaml:4: invalid package name 'Foo' (at least 2 characters from a-z, 0-9, '+', '-', '.', starting "
	  "with a letter or digit)" },
	{ HEAD "packages:\n  - name: x\n    reason: x\n",
	  "t.yaml:4: invalid package name 'x' (at least 2 characters from a-z, 0-9, '+', '-', '.', starting "
	  "with a letter or digit)" },
	{ HEAD "packages:\n  - name: lib_foo\n    reason: x\n",
	  "t.yaml:4: invalid package name 'lib_foo' (at least 2 characters from a-z, 0-9, '+', '-', '.', "
	  "starting with a letter or digit)" },
	{ HEAD "packages: []\nexclude: [+foo]\n",
	  "t.yaml:4: invalid package name '+foo' (at least 2 characters from a-z, 0-9, '+', '-', '.', starting "
	  "with a letter or digit)" },
	{ HEAD "priority: optional\npackages: []\n",
	  "t.yaml:3: invalid priority 'optional' (expected required, important, standard or none)" },
	{ HEAD "priority: Required\npackages: []\n",
	  "t.yaml:3: invalid priority 'Required' (expected required, important, standard or none)" },
	{ HEAD "priority:\npackages: []\n", "t.yaml:3: 'priority' is empty" },
	{ HEAD "packages:\n  - name: sudo\n", "t.yaml:4: package 'sudo' has no reason (say why it is supported)" },
	{ HEAD "packages:\n  - name: sudo\n    reason:\n", "t.yaml:5: 'reason' is empty" },
	{ HEAD "packages:\n  - name: sudo\n    reason: \"  \"\n", "t.yaml:5: 'reason' is empty" },
	{ HEAD "packages:\n  - name: sudo\n    reason: \"a\\eb\"\n",
	  "t.yaml:5: 'reason' contains a control character" },
	{ HEAD "packages:\n  - name: sudo\n    reason: [a]\n", "t.yaml:5: 'reason' must be a string, not a list" },
	{ HEAD "packages:\n  - busybox\n",
	  "t.yaml:4: each package must be a mapping with 'name' and 'reason', not a string" },
	{ HEAD "packages:\n  - reason: x\n", "t.yaml:4: package entry without 'name'" },
	{ HEAD "packages:\n  - name: sudo\n    reason: x\n    version: 1\n",
	  "t.yaml:6: unknown key 'version' in a package entry (expected name, reason)" },
	{ HEAD "packages:\n  - name: [sudo]\n    reason: x\n", "t.yaml:4: 'name' must be a string, not a list" },
	{ HEAD "packages:\n  - name: sudo\n    reason: a\n  - name: acl\n    reason: b\n"
	       "  - name: sudo\n    reason: c\n",
	  "t.yaml:8: package 'sudo' requested twice (first at line 4)" },
	{ HEAD "packages:\n  - name: tzdata\n    reason: a\nexclude: [tzdata]\n",
	  "t.yaml:6: package 'tzdata' is both requested (line 4) and excluded (line 6)" },
	{ HEAD "exclude: [tzdata]\npackages:\n  - name: tzdata\n    reason: a\n",
	  "t.yaml:5: package 'tzdata' is both requested (line 5) and excluded (line 3)" },
	{ HEAD "packages: []\nexclude: [tzdata, vim, tzdata]\n",
	  "t.yaml:4: package 'tzdata' excluded twice (first at line 4)" },
	{ HEAD "packages: []\nrelease: trixie\n", "t.yaml:4: duplicate key 'release' (first at line 1)" },
	{ HEAD "packages:\n  - name: sudo\n    reason: a\n    name: acl\n",
	  "t.yaml:6: duplicate key 'name' (first at line 4)" },
	{ HEAD "packages:\n  - name: sudo\n    reason: a\n  reason: b\n",
	  "t.yaml:6: did not find expected '-' indicator (while parsing a block collection at line 4)" },
	{ "release: bookworm\narchitectures: [amd64}\npackages: []\n",
	  "t.yaml:2: did not find expected ',' or ']' (while parsing a flow sequence at line 2)" },
	{ "release: \"bookworm\narchitectures: [amd64]\n",
	  "t.yaml:3: found unexpected end of stream (while scanning a quoted scalar at line 1)" },
	{ "release: bookworm\n\tarchitectures: [amd64]\n",
	  "t.yaml:2: found a tab character that violates indentation (while scanning a plain scalar at line 1)" },
	{ "release: &r bookworm\narchitectures: [amd64]\npackages: []\n",
	  "t.yaml:1: anchors and aliases are not supported (&r)" },
	{ "release: bookworm\narchitectures: &a [amd64]\npackages: []\n",
	  "t.yaml:2: anchors and aliases are not supported (&a)" },
	{ "release: bookworm\narchitectures: [amd64]\npackages:\n  - name: sudo\n    reason: *why\n",
	  "t.yaml:5: aliases are not supported (*why)" },
	{ "release: !!str bookworm\narchitectures: [amd64]\npackages: []\n",
	  "t.yaml:1: tags are not supported (tag:yaml.org,2002:str)" },
	{ HEAD "packages: []\n---\nrelease: trixie\n", "t.yaml:4: more than one YAML document" },
	{ "", "t.yaml:1: empty package list (expected a mapping with release, architectures and packages)" },
	{ "# nothing\n---\n", "t.yaml:2: empty package list (expected a mapping with release, architectures and "
			       "packages)" },
	{ "- release: bookworm\n", "t.yaml:1: the document must be a mapping, not a list" },
	{ "bookworm\n", "t.yaml:1: the document must be a mapping, not a string" },
	{ "? [release]\n: bookworm\n", "t.yaml:1: keys must be strings, not a list" },
	{ "release: \"book\\0worm\"\narchitectures: [amd64]\npackages: []\n",
	  "t.yaml:1: NUL character in a string" },
	{ "release: bookworm\narchitectures: [amd64]\npackages:\n  - name: vim\n    reason: caf\xe9\n",
	  "t.yaml:5: invalid UTF-8" },
	{ "release: bookworm\n\xc0\xaf: x\n", "t.yaml:2: invalid UTF-8" },
	{ "release: bookworm\nx: \xed\xa0\x80\n", "t.yaml:2: invalid UTF-8" },
	{ "release: bookworm\nx: \xe2\x82\n", "t.yaml:2: invalid UTF-8" },
	{ "\xff\xfer\0e\0", "t.yaml:1: invalid UTF-8" },
	{ "release: bookworm\narchitectures: [amd64]\npackages: [\x01]\n",
	  "t.yaml:3: control characters are not allowed" },
};

static void test_bad(void)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct dk_pkglist pl = DK_PKGLIST_INIT;
		struct dk_err err = DK_ERR_INIT;
		int r = load(&pl, bad[i].yaml, &err);

		is_int(r, DK_EINPUT, "case %zu fails as an input error", i);
		is_str(err.msg, bad[i].msg, "case %zu message", i);
		ok(pl.release == NULL && pl.arena.head == NULL && pl.npackages == 0, "case %zu leaves nothing", i);
	}
}

static void test_bytes(void)
{
	static const char nul[] = "release: bookworm\narchitectures: [amd64]\n\0packages: []\n";
	struct dk_pkglist pl = DK_PKGLIST_INIT;
	struct dk_err err = DK_ERR_INIT;
	size_t big = ((size_t)16 << 20) + 1;
	char *p;

	is_int(dk_pkglist_load_mem(&pl, nul, sizeof(nul) - 1, "t.yaml", &err), DK_EINPUT, "NUL byte refused");
	is_str(err.msg, "t.yaml:3: NUL byte", "NUL byte message names its line");

	p = malloc(big);
	if (p) {
		memset(p, '#', big);
		is_int(dk_pkglist_load_mem(&pl, p, big, "big.yaml", &err), DK_EINPUT, "over 16 MiB refused");
		is_str(err.msg, "big.yaml: larger than the limit of 16777216 bytes", "size limit message");
		free(p);
	}

	is_int(dk_pkglist_load_mem(&pl, HEAD "packages: []\n", strlen(HEAD "packages: []\n"), NULL, &err), 0,
	       "no name is allowed");
	is_str(pl.filename, "<input>", "placeholder name");
	dk_pkglist_release(&pl);
	is_int(dk_pkglist_load_mem(&pl, "release: [\n", 11, NULL, &err), DK_EINPUT, "NULL name in errors");
	ok(strncmp(err.msg, "<input>:", 8) == 0, "placeholder in message: %s", err.msg);

	is_int(dk_pkglist_load(&pl, FIXTURES "/pkglist/nonexistent.yaml", &err), DK_EIO, "missing file is EIO");
	ok(strstr(err.msg, "nonexistent.yaml") != NULL, "missing file named: %s", err.msg);
	is_int(dk_pkglist_load(&pl, FIXTURES "/pkglist/bad-line.yaml", &err), DK_EINPUT, "bad fixture fails");
	is_str(err.msg, FIXTURES "/pkglist/bad-line.yaml:7: package 'sudo' has no reason (say why it is supported)",
	       "errors from a file carry its path");
}

static void test_deep(void)
{
	struct dk_pkglist pl = DK_PKGLIST_INIT;
	struct dk_err err = DK_ERR_INIT;
	size_t n = 1000000, i;
	char *p = malloc(2 * n + 32);

	if (!p)
		return;
	i = (size_t)snprintf(p, 32, "release: ");
	memset(p + i, '[', n);
	memset(p + i + n, ']', n);
	p[i + 2 * n] = '\n';
	is_int(dk_pkglist_load_mem(&pl, p, i + 2 * n + 1, "deep.yaml", &err), DK_EINPUT,
	       "a million nested lists stop at the first");
	is_str(err.msg, "deep.yaml:1: 'release' must be a string, not a list", "deep nesting message");
	free(p);
}

int main(void)
{
	test_priority();
	test_example();
	test_good();
	test_bad();
	test_bytes();
	test_deep();
	return tap_done();
}
