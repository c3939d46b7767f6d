/* test-index.c - unit tests for lib/deb/index.c and lib/deb/resolve.c on small hand-made indices */
#include <stdio.h>
#include <string.h>

#include <debkeep/index.h>
#include <debkeep/pkglist.h>
#include <debkeep/resolve.h>

#include "tap.h"

/* A small world exercising the rules of docs/resolver.md. */
static const char world[] =
	"Package: app\nVersion: 1.0-1\nArchitecture: amd64\nPriority: optional\n"
	"Depends: libfoo (>= 1.2), mta | mail-transport-agent, awk, pyx:any\nPre-Depends: init-tool\n\n"
	"Package: libfoo\nVersion: 1.1-1\nArchitecture: amd64\nSource: foo\n\n"
	"Package: init-tool\nVersion: 2\nArchitecture: amd64\nPriority: required\nDepends: app-data\n\n"
	"Package: app-data\nVersion: 1.0-1\nArchitecture: all\nSource: app (1.0-1)\nDepends: init-tool\n\n"
	"Package: exim\nVersion: 4.96-15\nArchitecture: amd64\nPriority: optional\nProvides: mail-transport-agent\n\n"
	"Package: postfix\nVersion: 3.7.6-0+deb12u2\nArchitecture: amd64\nPriority: optional\n"
	"Provides: mail-transport-agent\n\n"
	"Package: mawk\nVersion: 1.3.4.20200120-3.1\nArchitecture: amd64\nPriority: required\nProvides: awk\n\n"
	"Package: gawk\nVersion: 1:5.2.1-2\nArchitecture: amd64\nPriority: optional\nProvides: awk\n\n"
	"Package: pyx\nVersion: 3.11\nArchitecture: amd64\nMulti-Arch: allowed\n\n"
	"Package: versioned-user\nVersion: 1\nArchitecture: amd64\nDepends: vfoo (>= 2)\n\n"
	"Package: vfoo-old\nVersion: 1\nArchitecture: amd64\nProvides: vfoo (= 1)\n\n"
	"Package: vfoo-new\nVersion: 1\nArchitecture: amd64\nProvides: vfoo (= 3)\n\n"
	"Package: vfoo-plain\nVersion: 1\nArchitecture: amd64\nProvides: vfoo\n\n"
	"Package: broken-alt\nVersion: 1\nArchitecture: amd64\nDepends: needs-missing | fallback\n\n"
	"Package: needs-missing\nVersion: 1\nArchitecture: amd64\nDepends: not-there\n\n"
	"Package: fallback\nVersion: 1\nArchitecture: amd64\n\n"
	"Package: deep\nVersion: 1\nArchitecture: amd64\nDepends: middle\n\n"
	"Package: middle\nVersion: 1\nArchitecture: amd64\nDepends: libfoo (>= 9)\n\n"
	"Package: foreign-arch\nVersion: 1\nArchitecture: arm64\n\n"
	"Package: upgraded\nVersion: 1.0\nArchitecture: amd64\n\n";

static const char world2[] = "Package: upgraded\nVersion: 1.0+deb12u1\nArchitecture: amd64\n\n"
			     "Package: upgraded\nVersion: 0.9\nArchitecture: amd64\n\n";

static const char newfoo[] = "Package: libfoo\nVersion: 1.2-1\nArchitecture: amd64\n";

static int load_world(struct dk_index *idx, struct dk_err *err)
{
	int r = dk_index_init(idx, "amd64", err);

	if (!r)
		r = dk_index_load_mem(idx, world, sizeof(world) - 1, "world/Packages", err);
	if (!r)
		r = dk_index_load_mem(idx, world2, sizeof(world2) - 1, "updates/Packages", err);
	if (!r)
		r = dk_index_finish(idx, err);
	return r;
}

static const char *version_of(const struct dk_index *idx, const struct dk_resolution *res, const char *name,
			      char *buf, size_t n)
{
	const struct dk_selected *s = dk_resolution_find(res, idx, name);

	if (!s)
		return "(not selected)";
	snprintf(buf, n, "%.*s", (int)idx->pkgs[s->pkg].version.n, idx->pkgs[s->pkg].version.p);
	return buf;
}

static void test_index(void)
{
	struct dk_index idx;
	struct dk_err err = DK_ERR_INIT;
	const struct dk_pkg *p;

	is_int(load_world(&idx, &err), 0, "world loads: %s", err.msg);
	p = dk_index_candidate(&idx, "upgraded", 8);
	ok(p && p->version.n == 11 && memcmp(p->version.p, "1.0+deb12u1", 11) == 0,
	   "candidate is the highest version across indices");
	ok(dk_index_candidate(&idx, "foreign-arch", 12) == NULL, "other architectures are skipped");
	p = dk_index_candidate(&idx, "app-data", 8);
	ok(p && strcmp(dk_index_str(&idx, p->source), "app") == 0 && p->source_version.n == 5,
	   "Source: name (version) is split");
	ok(p && p->arch == idx.all_arch, "Architecture: all is kept");
	p = dk_index_candidate(&idx, "libfoo", 6);
	ok(p && strcmp(dk_index_str(&idx, p->source), "foo") == 0 && p->source_version.n == p->version.n,
	   "Source: name alone takes the binary version");
	p = dk_index_candidate(&idx, "mawk", 4);
	ok(p && p->priority == DK_PRIO_REQUIRED, "priority parsed");
	{
		dk_id awk = dk_strpool_lookup(&idx.names, "awk", 3);

		ok(awk && idx.provides_start[awk + 1] - idx.provides_start[awk] == 2, "awk has two providers");
	}
	dk_index_release(&idx);
}

static void test_resolve(void)
{
	static const char *const names[] = { "app" };
	struct dk_resolution res = DK_RESOLUTION_INIT;
	struct dk_index idx;
	struct dk_err err = DK_ERR_INIT;
	struct dk_buf chain = DK_BUF_INIT;
	const struct dk_selected *s;
	char v[64];

	load_world(&idx, &err);
	is_int(dk_resolve_names(&idx, names, 1, &res, &err), DK_EINPUT, "libfoo (>= 1.2) cannot be met");
	ok(strstr(err.msg, "app: Depends: libfoo (>= 1.2)") && strstr(err.msg, "has only version 1.1-1"),
	   "the message names the chain and the cause: %s", err.msg);
	dk_resolution_release(&res);
	dk_index_release(&idx);

	/* Give libfoo a new enough version in a second index: the highest wins. */
	dk_index_init(&idx, "amd64", &err);
	dk_index_load_mem(&idx, world, sizeof(world) - 1, "world/Packages", &err);
	dk_index_load_mem(&idx, newfoo, strlen(newfoo), "new/Packages", &err);
	is_int(dk_index_finish(&idx, &err), 0, "finish");
	is_int(dk_resolve_names(&idx, names, 1, &res, &err), 0, "app resolves: %s", err.msg);
	is_str(version_of(&idx, &res, "libfoo", v, sizeof(v)), "1.2-1", "the new libfoo is taken");
	is_str(version_of(&idx, &res, "exim", v, sizeof(v)), "(not selected)",
	       "mta | mail-transport-agent: providers of equal priority...");
	is_str(version_of(&idx, &res, "postfix", v, sizeof(v)), "3.7.6-0+deb12u2",
	       "...are ordered by apt's last resort, the later package");
	is_str(version_of(&idx, &res, "mawk", v, sizeof(v)), "1.3.4.20200120-3.1", "awk: the required provider wins");
	ok(!dk_resolution_find(&res, &idx, "gawk"), "gawk not selected");
	ok(dk_resolution_find(&res, &idx, "pyx") != NULL, "pyx:any met by a Multi-Arch: allowed package");
	ok(dk_resolution_find(&res, &idx, "init-tool") && dk_resolution_find(&res, &idx, "app-data"),
	   "Pre-Depends followed, and a dependency cycle closes");
	s = dk_resolution_find(&res, &idx, "app-data");
	dk_resolution_chain(&res, &idx, s, &chain);
	is_str(chain.data, "app -> init-tool -> app-data", "why app-data");
	ok(s && s->why == DK_WHY_DEPENDENCY && s->dep.n == 8 && memcmp(s->dep.p, "app-data", 8) == 0,
	   "the dependency as written is kept");
	s = dk_resolution_find(&res, &idx, "app");
	ok(s && s->why == DK_WHY_REQUESTED, "app is requested");
	is_int(res.count, 7, "app, libfoo, postfix, mawk, pyx, init-tool, app-data");
	dk_resolution_release(&res);

	{
		static const char *const n2[] = { "versioned-user" };

		is_int(dk_resolve_names(&idx, n2, 1, &res, &err), 0, "versioned dependency on a virtual package");
		ok(dk_resolution_find(&res, &idx, "vfoo-new") && !dk_resolution_find(&res, &idx, "vfoo-old") &&
			   !dk_resolution_find(&res, &idx, "vfoo-plain"),
		   "only a versioned Provides that fits satisfies it");
		dk_resolution_release(&res);
	}
	{
		static const char *const n3[] = { "broken-alt" };

		is_int(dk_resolve_names(&idx, n3, 1, &res, &err), 0, "an uninstallable alternative is passed over");
		ok(dk_resolution_find(&res, &idx, "fallback") && !dk_resolution_find(&res, &idx, "needs-missing"),
		   "fallback taken");
		dk_resolution_release(&res);
	}
	{
		static const char *const n4[] = { "deep" };

		is_int(dk_resolve_names(&idx, n4, 1, &res, &err), DK_EINPUT, "deep failure");
		ok(strstr(err.msg, "deep -> middle: Depends: libfoo (>= 9)") != NULL, "chain in message: %s",
		   err.msg);
		dk_resolution_release(&res);
	}
	{
		static const char *const n5[] = { "no-such-package" };

		is_int(dk_resolve_names(&idx, n5, 1, &res, &err), DK_EINPUT, "missing request");
		ok(strstr(err.msg, "'no-such-package' is not in the index") != NULL, "%s", err.msg);
		dk_resolution_release(&res);
	}
	{
		static const char *const n6[] = { "awk" };

		is_int(dk_resolve_names(&idx, n6, 1, &res, &err), DK_EINPUT, "virtual request");
		ok(strstr(err.msg, "virtual package") != NULL, "%s", err.msg);
		dk_resolution_release(&res);
	}
	dk_buf_release(&chain);
	dk_index_release(&idx);
}

static void test_pkglist(void)
{
	static const char list[] = "release: test\narchitectures: [amd64]\npriority: required\n"
				   "packages:\n  - name: versioned-user\n    reason: because\n"
				   "exclude: [mawk]\n";
	static const char list2[] = "release: test\narchitectures: [amd64]\npriority: none\n"
				    "packages:\n  - name: app\n    reason: needs awk\n"
				    "exclude: [mawk, gawk]\n";
	struct dk_resolution res = DK_RESOLUTION_INIT;
	struct dk_pkglist pl = DK_PKGLIST_INIT;
	struct dk_index idx;
	struct dk_err err = DK_ERR_INIT;

	dk_index_init(&idx, "amd64", &err);
	dk_index_load_mem(&idx, world, sizeof(world) - 1, "world/Packages", &err);
	dk_index_load_mem(&idx, newfoo, strlen(newfoo), "new/Packages", &err);
	dk_index_finish(&idx, &err);
	is_int(dk_pkglist_load_mem(&pl, list, sizeof(list) - 1, "l.yaml", &err), 0, "list loads: %s", err.msg);
	is_int(dk_resolve_pkglist(&idx, &pl, &res, &err), 0, "list resolves: %s", err.msg);
	ok(dk_resolution_find(&res, &idx, "init-tool") && dk_resolution_find(&res, &idx, "app-data"),
	   "the priority floor and its dependencies");
	ok(!dk_resolution_find(&res, &idx, "mawk"), "an excluded package is left out of the floor");
	{
		const struct dk_selected *s = dk_resolution_find(&res, &idx, "versioned-user");

		ok(s && s->why == DK_WHY_REQUESTED && s->reason && strcmp(s->reason, "because") == 0,
		   "requested with its reason");
		s = dk_resolution_find(&res, &idx, "init-tool");
		ok(s && s->why == DK_WHY_PRIORITY, "priority reason");
	}
	dk_resolution_release(&res);
	dk_pkglist_release(&pl);
	is_int(dk_pkglist_load_mem(&pl, list2, sizeof(list2) - 1, "l2.yaml", &err), 0, "list 2 loads");
	is_int(dk_resolve_pkglist(&idx, &pl, &res, &err), DK_EINPUT, "awk only through excluded packages");
	ok(strstr(err.msg, "app: Depends: awk: only satisfied by a package the list excludes") != NULL, "%s",
	   err.msg);
	dk_resolution_release(&res);
	dk_pkglist_release(&pl);
	dk_index_release(&idx);
}

static void test_bad_input(void)
{
	static const struct {
		const char *text;
		const char *want;
	} cases[] = {
		{ "Version: 1\nArchitecture: amd64\n", "bad:1: stanza without a Package field" },
		{ "Package: a\nArchitecture: amd64\n", "bad:1: package 'a' has no Version" },
		{ "Package: a\nVersion: 1\n", "bad:1: package 'a' has no Architecture" },
		{ "Package: a\nVersion: 1:\nArchitecture: amd64\n", "bad:1: Version:" },
		{ "Package: a\nVersion: 1\nArchitecture: amd64\nSource: b (1\n", "bad:1: Source: expected" },
		{ "\nPackage: a\nVersion: 1\nArchitecture: amd64\nProvides: x (= 1\n", "bad:2: Provides:" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dk_index idx;
		struct dk_err err = DK_ERR_INIT;
		int r;

		dk_index_init(&idx, "amd64", &err);
		r = dk_index_load_mem(&idx, cases[i].text, strlen(cases[i].text), "bad", &err);
		if (!r)
			r = dk_index_finish(&idx, &err);
		ok(r == DK_EINPUT && strncmp(err.msg, cases[i].want, strlen(cases[i].want)) == 0,
		   "bad input %zu: %s", i, err.msg);
		dk_index_release(&idx);
	}
}

/* An index big enough to be parsed on two threads: the same packages, lines and errors as one pass. */
static void test_big(void)
{
	struct dk_buf b = DK_BUF_INIT;
	struct dk_index idx;
	struct dk_err err = DK_ERR_INIT;
	unsigned bad_line = 0, line = 1;
	const struct dk_pkg *p;
	int r;

	for (int i = 0; i < 4000; i++) {
		if (i == 3500)
			bad_line = line;
		dk_buf_addf(&b, "Package: pkg%d\nVersion: %s\nArchitecture: %s\nSource: src%d (1.%d)\n"
			    "Description: padding %0200d\n\n",
			    i, i == 3500 ? "1:" : "1.0-1", i % 3 ? "amd64" : "all", i / 10, i, 0);
		line += 6;
	}
	dk_index_init(&idx, "amd64", &err);
	r = dk_index_load_mem(&idx, b.data, b.len, "big", &err);
	ok(b.len > (1u << 20) && r == DK_EINPUT, "an error in the second half is found");
	{
		char want[64];

		snprintf(want, sizeof(want), "big:%u: Version:", bad_line);
		ok(strncmp(err.msg, want, strlen(want)) == 0, "with its line: %s (want %s)", err.msg, want);
	}
	dk_index_release(&idx);

	/* Without the error: every stanza, in file order, with its line. */
	dk_buf_reset(&b);
	for (int i = 0; i < 4000; i++)
		dk_buf_addf(&b, "Package: pkg%d\nVersion: 1.0-1\nArchitecture: amd64\nDescription: %0200d\n\n", i, 0);
	dk_index_init(&idx, "amd64", &err);
	r = dk_index_load_mem(&idx, b.data, b.len, "big", &err);
	if (!r)
		r = dk_index_finish(&idx, &err);
	is_int(r, 0, "big index loads");
	is_int(idx.npkgs, 4000, "all stanzas");
	p = dk_index_candidate(&idx, "pkg3999", 7);
	ok(p && p->line == 3999 * 5 + 1 && p == &idx.pkgs[3999], "the last one in place, line %u", p ? p->line : 0);
	dk_index_release(&idx);
	dk_buf_release(&b);
}

int main(void)
{
	test_big();
	test_index();
	test_resolve();
	test_pkglist();
	test_bad_input();
	return tap_done();
}
