/* test-sec.c - unit tests for lib/sec's matching, targets, the database and the gate */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <debkeep/db.h>
#include <debkeep/gate.h>
#include <debkeep/sec.h>

#include "tap.h"

static struct dk_sec_row row(const char *release, enum dk_fix_kind kind, const char *version, const char *advisory)
{
	struct dk_sec_row r = { "CVE-2023-0001", DK_CVE_NORMAL, NULL, NULL,     release, kind,
				version,         NULL,          NULL, advisory, 0 };

	return r;
}

static void match_is(const char *what, const struct dk_sec_row *rows, size_t n, const char *installed,
		     enum dk_sec_status want, const char *fixed, bool in_archive)
{
	struct dk_sec_finding f;
	bool m = dk_sec_match(rows, n, "bookworm", installed, &f);

	if (!ok(m && f.status == want && (fixed ? f.fixed && strcmp(f.fixed, fixed) == 0 : !f.fixed) &&
			f.fix_in_archive == in_archive,
		"%s: %s is %s", what, installed, dk_sec_status_name(want)))
		printf("#   matched %d status %s fixed %s archive %d\n", m, m ? dk_sec_status_name(f.status) : "-",
		       m && f.fixed ? f.fixed : "-", m ? f.fix_in_archive : 0);
}

static void test_match(void)
{
	struct dk_sec_row r[4];
	struct dk_sec_finding f;

	r[0] = row("", DK_FIX_VERSION, "1.2-4", NULL);
	r[1] = row("bookworm", DK_FIX_VERSION, "1.2-3+deb12u1", NULL);
	match_is("release line", r, 2, "1.2-3", DK_SEC_VULNERABLE, "1.2-3+deb12u1", true);
	match_is("release line", r, 2, "1.2-3+deb12u1", DK_SEC_FIXED, "1.2-3+deb12u1", true);
	match_is("a local rebuild of the fix (a range, not a set)", r, 2, "1.2-3+deb12u1+cip1", DK_SEC_FIXED,
		 "1.2-3+deb12u1", true);
	match_is("a later upstream", r, 2, "1.3-1", DK_SEC_FIXED, "1.2-3+deb12u1", true);
	match_is("epoch counts", r, 2, "0:1.2-2", DK_SEC_VULNERABLE, "1.2-3+deb12u1", true);
	match_is("unstable line alone", r, 1, "1.2-3", DK_SEC_VULNERABLE, "1.2-4", false);
	match_is("unstable line alone", r, 1, "1.2-4~bpo12+1", DK_SEC_VULNERABLE, "1.2-4", false);
	match_is("unstable line alone", r, 1, "1.2-4", DK_SEC_FIXED, "1.2-4", false);
	r[1] = row("bookworm", DK_FIX_NO_DSA, NULL, NULL);
	match_is("no-dsa", r, 2, "1.2-3", DK_SEC_NO_DSA, NULL, false);
	match_is("no-dsa, but the unstable fix is installed", r, 2, "1.2-4+cip1", DK_SEC_FIXED, "1.2-4", false);
	r[1] = row("bookworm", DK_FIX_POSTPONED, NULL, NULL);
	match_is("postponed", r, 2, "1.2-3", DK_SEC_POSTPONED, NULL, false);
	r[1] = row("bookworm", DK_FIX_IGNORED, NULL, NULL);
	match_is("ignored", r, 2, "1.2-3", DK_SEC_IGNORED, NULL, false);
	r[1] = row("bookworm", DK_FIX_EOL, NULL, NULL);
	match_is("end-of-life", r, 2, "1.2-3", DK_SEC_EOL, NULL, false);
	r[1] = row("bookworm", DK_FIX_NOT_AFFECTED, NULL, NULL);
	match_is("release not affected", r, 2, "1.2-3", DK_SEC_NOT_AFFECTED, NULL, false);
	r[1] = row("bookworm", DK_FIX_UNDETERMINED, NULL, NULL);
	match_is("undetermined", r, 2, "1.2-3", DK_SEC_UNDETERMINED, NULL, false);
	r[0] = row("", DK_FIX_UNFIXED, NULL, NULL);
	match_is("unfixed everywhere", r, 1, "9.9-9", DK_SEC_VULNERABLE, NULL, false);
	r[0] = row("", DK_FIX_NOT_AFFECTED, NULL, NULL);
	match_is("not affected", r, 1, "1.0-1", DK_SEC_NOT_AFFECTED, NULL, false);
	r[0] = row("", DK_FIX_ITP, NULL, NULL);
	match_is("itp: never in Debian", r, 1, "1.0-1", DK_SEC_NOT_AFFECTED, NULL, false);
	r[0] = row("", DK_FIX_REMOVED, NULL, NULL);
	match_is("removed: no fix will come", r, 1, "1.0-1", DK_SEC_VULNERABLE, NULL, false);
	r[0] = row("", DK_FIX_UNDETERMINED, NULL, NULL);
	match_is("undetermined in unstable", r, 1, "1.0-1", DK_SEC_UNDETERMINED, NULL, false);
	/* Advisories: the first fix of the release counts, a regression update does not reopen it. */
	r[0] = row("", DK_FIX_VERSION, "2.0-1", NULL);
	r[1] = row("bookworm", DK_FIX_VERSION, "1.5-1+deb12u2", "DSA-2-1");
	r[2] = row("bookworm", DK_FIX_VERSION, "1.5-1+deb12u1", "DSA-1-1");
	match_is("advisory lines", r, 3, "1.5-1", DK_SEC_VULNERABLE, "1.5-1+deb12u1", true);
	match_is("advisory lines", r, 3, "1.5-1+deb12u1", DK_SEC_FIXED, "1.5-1+deb12u1", true);
	r[3] = row("bookworm", DK_FIX_NO_DSA, NULL, NULL);
	match_is("the CVE list's release line wins over advisories", r, 4, "1.5-1+deb12u1", DK_SEC_NO_DSA, NULL, false);
	r[0] = row("bullseye", DK_FIX_VERSION, "1.0-1", NULL);
	ok(!dk_sec_match(r, 1, "bookworm", "0.1-1", &f), "lines for other releases alone say nothing");
}

static void test_report(void)
{
	struct dk_sec_row r[5];
	struct dk_sec_report rep = DK_SEC_REPORT_INIT;
	struct dk_err err = DK_ERR_INIT;

	r[0] = row("", DK_FIX_VERSION, "1.2-4", NULL);
	r[0].refs = "DSA-5400-1 DLA-3400-1";
	r[0].urgency = "high";
	r[1] = row("bookworm", DK_FIX_VERSION, "1.2-3+deb12u1", "DSA-5400-1");
	r[2] = row("", DK_FIX_UNFIXED, NULL, NULL);
	r[2].cve = "CVE-2023-0008";
	r[2].cve_kind = DK_CVE_RESERVED;
	r[3] = row("", DK_FIX_UNFIXED, NULL, NULL);
	r[3].cve = "CVE-2023-0009";
	r[3].cve_kind = DK_CVE_REJECTED;
	r[4] = row("", DK_FIX_VERSION, "1.0-1", NULL);
	r[4].cve = "CVE-2022-0001";
	rep.release = "bookworm";
	is_int(dk_sec_report_add(&rep, r, 5, "libfoo", "1.2-3", "libfoo1 libfoo-dev", &err), 0, "report_add");
	dk_sec_report_sort(&rep);
	is_int(rep.nfindings, 2, "two findings (REJECTED skipped)");
	is_int(rep.nreserved, 1, "RESERVED listed separately");
	if (rep.nfindings == 2) {
		is_str(rep.findings[0].cve, "CVE-2022-0001", "sorted by CVE");
		is_str(rep.findings[0].urgency, "not yet assigned", "no urgency: not yet assigned");
		is_str(rep.findings[1].advisories, "DSA-5400-1", "the release's advisory, not every reference");
		is_str(rep.findings[1].urgency, "high", "urgency from the unstable line");
		is_str(rep.findings[1].binaries, "libfoo1 libfoo-dev", "binaries kept");
	}
	dk_sec_report_release(&rep);
}

static void test_target(void)
{
	struct dk_sec_target tg = DK_SEC_TARGET_INIT;
	struct dk_err err = DK_ERR_INIT;
	static const char manifest[] = "# comment\nzlib1g 1:1.2.13.dfsg-1 amd64 zlib 1:1.2.13.dfsg-1\n\n"
				       "libbin1 1.5-2+b1 amd64 libbin 1.5-2\n";

	is_int(dk_sec_target_load(&tg, FIXTURES "/status", &err), 0, "dpkg status loads");
	is_int(tg.kind, DK_TARGET_STATUS, "recognised as a dpkg status file");
	is_int(tg.npkgs, 10, "config-files packages are not installed");
	for (size_t i = 0; i < tg.npkgs; i++) {
		if (strcmp(tg.pkgs[i].name, "libbin1") == 0) {
			is_str(tg.pkgs[i].source, "libbin", "Source: name (version)");
			is_str(tg.pkgs[i].source_version, "1.5-2+deb12u1", "binNMU: the source's version");
		}
		if (strcmp(tg.pkgs[i].name, "bar") == 0)
			ok(strcmp(tg.pkgs[i].source, "bar") == 0 && strcmp(tg.pkgs[i].source_version, "2.0-1") == 0,
			   "no Source: the package is its own source");
		if (strcmp(tg.pkgs[i].name, "libfoo1") == 0)
			is_str(tg.pkgs[i].source_version, "1.2-3", "Source: name alone keeps the version");
	}
	dk_sec_target_release(&tg);
	is_int(dk_sec_target_load(&tg, FIXTURES "/manifest", &err), 0, "manifest loads");
	is_int(tg.kind, DK_TARGET_MANIFEST, "recognised as a manifest");
	is_int(tg.npkgs, 6, "six packages");
	dk_sec_target_release(&tg);
	is_int(dk_sec_target_parse_manifest(&tg, manifest, strlen(manifest), "m", &err), 0, "manifest text");
	ok(tg.npkgs == 2 && strcmp(tg.pkgs[0].source, "libbin") == 0, "sorted by source");
	dk_sec_target_release(&tg);
	ok(dk_sec_target_parse_manifest(&tg, "a 1.0 amd64 a\n", 14, "m", &err) == DK_EINPUT &&
		   strstr(err.msg, "m:1: expected 5 fields"),
	   "manifest: wrong field count names the line");
	dk_sec_target_release(&tg);
	ok(dk_sec_target_parse_manifest(&tg, "a 1.0 amd64 a 1:\n", 17, "m", &err) == DK_EINPUT &&
		   strstr(err.msg, "m:1: a: version '1:'"),
	   "manifest: malformed version");
	dk_sec_target_release(&tg);
	ok(dk_sec_target_parse_status(&tg, "Package: a\nVersion: 1.0\nSource: b (1\n", 37, "st", &err) == DK_EINPUT &&
		   strstr(err.msg, "st:3: a: malformed Source field"),
	   "status: malformed Source field");
	dk_sec_target_release(&tg);
}

/*
 * The manifest `debkeep build` writes beside an image (OUTPUT.manifest: a line
 * "name version arch source source_version" per package, sorted, nothing
 * else) and the older one of `pkglist resolve --format manifest` (the same
 * lines under a "# ..." header) read the same.
 */
static void test_manifest_formats(void)
{
	static const char build[] = "libbin1 1.5-2+b1 amd64 libbin 1.5-2\ntzdata 2024a-0+deb12u1 all tzdata "
				    "2024a-0+deb12u1\nzlib1g 1:1.2.13.dfsg-1 arm64 zlib 1:1.2.13.dfsg-1\n";
	static const char pkglist[] = "# name version arch source source-version\nzlib1g 1:1.2.13.dfsg-1 arm64 zlib "
				      "1:1.2.13.dfsg-1\nlibbin1 1.5-2+b1 amd64 libbin 1.5-2\ntzdata 2024a-0+deb12u1 "
				      "all tzdata 2024a-0+deb12u1";
	struct dk_sec_target a = DK_SEC_TARGET_INIT, b = DK_SEC_TARGET_INIT;
	struct dk_err err = DK_ERR_INIT;
	bool same;

	is_int(dk_sec_target_parse_manifest(&a, build, strlen(build), "image.manifest", &err), 0, "build's manifest");
	is_int(dk_sec_target_parse_manifest(&b, pkglist, strlen(pkglist), "list.manifest", &err), 0,
	       "pkglist's manifest, with its header and no final newline");
	same = a.npkgs == 3 && b.npkgs == 3;
	for (size_t i = 0; same && i < a.npkgs; i++)
		same = strcmp(a.pkgs[i].name, b.pkgs[i].name) == 0 && strcmp(a.pkgs[i].version, b.pkgs[i].version) == 0 &&
		       strcmp(a.pkgs[i].arch, b.pkgs[i].arch) == 0 && strcmp(a.pkgs[i].source, b.pkgs[i].source) == 0 &&
		       strcmp(a.pkgs[i].source_version, b.pkgs[i].source_version) == 0;
	ok(same, "both formats give the same packages");
	ok(a.npkgs == 3 && strcmp(a.pkgs[0].source_version, "1.5-2") == 0 && strcmp(a.pkgs[1].arch, "all") == 0,
	   "binNMU keeps the source version; arch all");
	dk_sec_target_release(&a);
	dk_sec_target_release(&b);
	is_int(dk_sec_target_load(&a, FIXTURES "/image.manifest", &err), 0, "an image manifest file loads");
	is_int(a.kind, DK_TARGET_MANIFEST, "recognised as a manifest without a header");
	is_int(a.npkgs, 7, "seven packages");
	dk_sec_target_release(&a);
}

/* A RESERVED entry whose only word about its package is a NOTE: found from the database and from memory. */
static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* Every field of two findings; the strings by content. */
static bool same_finding(const struct dk_sec_finding *a, const struct dk_sec_finding *b)
{
	return same_str(a->cve, b->cve) && same_str(a->description, b->description) && same_str(a->source, b->source) &&
	       same_str(a->installed, b->installed) && same_str(a->binaries, b->binaries) &&
	       same_str(a->fixed, b->fixed) && same_str(a->urgency, b->urgency) &&
	       same_str(a->advisories, b->advisories) && same_str(a->references, b->references) &&
	       same_str(a->note, b->note) && a->status == b->status && a->fix_in_archive == b->fix_in_archive &&
	       same_str(a->available, b->available) && a->bug == b->bug && a->named_in_note == b->named_in_note;
}

/* Two reports alike in every finding, RESERVED ones too. */
static bool same_report(const struct dk_sec_report *a, const struct dk_sec_report *b)
{
	if (a->nfindings != b->nfindings || a->nreserved != b->nreserved)
		return false;
	for (size_t i = 0; i < a->nfindings; i++)
		if (!same_finding(&a->findings[i], &b->findings[i]))
			return false;
	for (size_t i = 0; i < a->nreserved; i++)
		if (!same_finding(&a->reserved[i], &b->reserved[i]))
			return false;
	return true;
}

static void test_reserved_notes(void)
{
	static const char list[] = "CVE-2024-0001 [embargoed]\n\tRESERVED\n\tNOTE: LibFoo: embargoed\n"
				   "CVE-2024-0002\n\tRESERVED\n\tNOTE: zzz-not-here\n"
				   "CVE-2024-0003\n\tRESERVED\n\t- bar 2.0-2\n";
	char dir[] = "/tmp/debkeep-test-sec.XXXXXX", cmd[256];
	struct dk_db db = DK_DB_INIT;
	struct dk_err err = DK_ERR_INIT;
	struct dk_tracker t = DK_TRACKER_INIT, t2 = DK_TRACKER_INIT;
	struct dk_sec_target tg = DK_SEC_TARGET_INIT;
	struct dk_sec_report rep = DK_SEC_REPORT_INIT, rep2 = DK_SEC_REPORT_INIT;
	struct dk_sec_index ix = DK_SEC_INDEX_INIT;

	if (!mkdtemp(dir)) {
		ok(0, "mkdtemp");
		return;
	}
	is_int(dk_tracker_parse_cve_list(&t, list, strlen(list), "list", &err), 0, "parse");
	is_int(dk_db_open(&db, dir, DK_DB_CREATE, &err), 0, "create the database");
	is_int(dk_sec_store(&db, &t, "list", "2024-01-01", &err), 0, "store");
	is_int(dk_sec_target_load(&tg, FIXTURES "/status", &err), 0, "target");
	is_int(dk_sec_scan(&db, &tg, "bookworm", &rep, &err), 0, "scan from the database");
	dk_sec_index_build(&t, &ix, &err);
	is_int(dk_sec_scan_tracker(&t, &ix, &tg, "bookworm", &rep2, &err), 0, "scan from memory");
	is_int(rep.nreserved, 2, "two RESERVED entries name sources of the target");
	ok(rep.nreserved == 2 && strcmp(rep.reserved[0].cve, "CVE-2024-0001") == 0 && rep.reserved[0].named_in_note &&
		   strcmp(rep.reserved[0].source, "libfoo") == 0 && strcmp(rep.reserved[0].note, "LibFoo: embargoed") == 0 &&
		   strcmp(rep.reserved[0].description, "embargoed") == 0,
	   "named only in a NOTE: listed with the note");
	ok(rep.nreserved == 2 && strcmp(rep.reserved[1].cve, "CVE-2024-0003") == 0 && !rep.reserved[1].named_in_note &&
		   rep.reserved[1].status == DK_SEC_VULNERABLE && strcmp(rep.reserved[1].fixed, "2.0-2") == 0,
	   "with a package line: matched as a finding is");
	ok(rep2.nreserved == rep.nreserved && rep2.nreserved == 2 && rep2.reserved[0].named_in_note &&
		   strcmp(rep2.reserved[0].cve, rep.reserved[0].cve) == 0 && rep2.reserved[1].status == rep.reserved[1].status,
	   "the same from memory");
	is_int(rep.nfindings, 0, "RESERVED entries are not findings");
	dk_sec_report_release(&rep2);
	/* A scan of the files keeps only the target's sources: the note still finds its entry. */
	snprintf(cmd, sizeof(cmd), "%s/list", dir);
	{
		FILE *f = fopen(cmd, "w");

		if (f) {
			fputs(list, f);
			fclose(f);
		}
	}
	is_int(dk_sec_scan_files(cmd, &tg, "bookworm", &t2, &rep2, &err), 0, "scan of the list, filtered");
	ok(rep2.nreserved == 2 && rep2.reserved[0].named_in_note, "filtered: the NOTE-only entry is kept");
	dk_sec_report_release(&rep);
	dk_sec_report_release(&rep2);
	dk_sec_index_release(&ix);
	dk_sec_target_release(&tg);
	dk_tracker_release(&t);
	dk_tracker_release(&t2);
	dk_db_close(&db);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
}

/* 1 when ROOT/tracker.db is there and ROOT/tmp holds no file, else 0. */
static int data_files(const char *root)
{
	char path[256];
	int n = 0;

	snprintf(path, sizeof(path), "%s/" DK_SEC_DATA_FILE, root);
	if (access(path, F_OK) != 0)
		return 0;
	snprintf(path, sizeof(path), "ls -A %s/tmp | grep -q .", root);
	n = system(path) != 0;
	return n;
}

/*
 * Data loaded before ROOT/tracker.db existed, in the data root's own
 * tables (sec steps 1 and 2): read from there until an update, which
 * moves it and drops the tables.
 */
static void test_legacy_layout(void)
{
	static const char old_sql[] =
		"CREATE TABLE sec_update (id INTEGER PRIMARY KEY CHECK (id = 1), source TEXT NOT NULL,"
		" data_date TEXT NOT NULL, loaded_at TEXT NOT NULL, entries INTEGER NOT NULL, fixes INTEGER NOT NULL,"
		" advisories INTEGER NOT NULL);"
		"CREATE TABLE sec_source (source TEXT PRIMARY KEY, nrows INTEGER NOT NULL, rows BLOB NOT NULL);"
		"CREATE TABLE sec_advisory (name TEXT NOT NULL, date TEXT NOT NULL, title TEXT, cves TEXT);"
		"CREATE TABLE sec_reserved (cve TEXT PRIMARY KEY, description TEXT, notes TEXT NOT NULL) WITHOUT ROWID;"
		"CREATE TABLE sec_reserved_word (word TEXT NOT NULL, cve TEXT NOT NULL, PRIMARY KEY (word, cve))"
		" WITHOUT ROWID;"
		"INSERT INTO migrations VALUES ('sec', 1, 'security tracker data', '2024-01-01T00:00:00Z');"
		"INSERT INTO migrations VALUES ('sec', 2, 'RESERVED entries named in notes', '2024-01-01T00:00:00Z');"
		"INSERT INTO sec_update VALUES (1, 'old', '2024-01-01', '2024-01-01T00:00:00Z', 1, 1, 0);";
	struct dk_sec_row r = { "CVE-2024-0001", DK_CVE_NORMAL, "old", NULL, "", DK_FIX_VERSION, "9.0-1",
				"high", NULL, NULL, 0 };
	char dir[] = "/tmp/debkeep-test-sec.XXXXXX", cmd[256];
	struct dk_db db = DK_DB_INIT;
	struct dk_err err = DK_ERR_INIT;
	struct dk_sec_meta m = DK_SEC_META_INIT;
	struct dk_sec_target tg = DK_SEC_TARGET_INIT;
	struct dk_sec_report rep = DK_SEC_REPORT_INIT;
	struct dk_tracker t = DK_TRACKER_INIT;
	struct dk_buf b = DK_BUF_INIT;
	int v = 0;

	if (!mkdtemp(dir)) {
		ok(0, "mkdtemp");
		return;
	}
	is_int(dk_db_open(&db, dir, DK_DB_CREATE, &err), 0, "create the database");
	is_int(dk_db_exec(&db, old_sql, &err), 0, "tables and data of the old layout");
	dk_sec_rows_encode(&r, 1, &b);
	snprintf(cmd, sizeof(cmd), "INSERT INTO sec_source VALUES ('libfoo', 1, '%.150s')", b.data);
	is_int(dk_db_exec(&db, cmd, &err), 0, "a source's rows");
	is_int(dk_sec_meta_get(&db, &m, &err), 0, "meta of the old layout");
	is_str(m.source, "old", "read from the data root's database");
	dk_sec_meta_release(&m);
	is_int(dk_sec_target_load(&tg, FIXTURES "/status", &err), 0, "target");
	is_int(dk_sec_scan(&db, &tg, "bookworm", &rep, &err), 0, "scan of the old layout");
	ok(rep.nfindings == 1 && strcmp(rep.findings[0].cve, "CVE-2024-0001") == 0 &&
		   rep.findings[0].status == DK_SEC_VULNERABLE,
	   "its finding");
	dk_sec_report_release(&rep);
	{
		struct dk_sec_data d;

		is_int(dk_sec_data_open_root(dir, &d, &err), 0, "from the root: the old layout's data");
		is_int(dk_sec_data_meta(&d, &m, &err), 0, "its record");
		is_str(m.source, "old", "read from the main database, opened for it");
		dk_sec_meta_release(&m);
		dk_sec_data_close(&d);
	}
	is_int(dk_tracker_load(&t, FIXTURES "/tracker", &err), 0, "load the fixture checkout");
	is_int(dk_sec_store(&db, &t, "fixture", "2023-04-10", &err), 0, "an update");
	dk_db_schema_version(&db, "sec", &v, &err);
	is_int(v, 3, "moves the data to " DK_SEC_DATA_FILE);
	ok(dk_db_exec(&db, "SELECT 1 FROM sec_source", NULL) < 0, "and drops the old tables");
	is_int(dk_sec_meta_get(&db, &m, &err), 0, "meta");
	is_str(m.source, "fixture", "of the update");
	dk_sec_meta_release(&m);
	snprintf(cmd, sizeof(cmd), "%s/" DK_SEC_DATA_FILE, dir);
	unlink(cmd);
	is_int(dk_sec_meta_get(&db, &m, &err), DK_NOTFOUND, "without the file: no data, not the dropped tables");
	dk_buf_release(&b);
	dk_tracker_release(&t);
	dk_sec_target_release(&tg);
	dk_db_close(&db);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
}

static void test_db(void)
{
	char dir[] = "/tmp/debkeep-test-sec.XXXXXX";
	struct dk_db db = DK_DB_INIT;
	struct dk_err err = DK_ERR_INIT;
	struct dk_tracker t = DK_TRACKER_INIT, bad = DK_TRACKER_INIT;
	struct dk_sec_meta m = DK_SEC_META_INIT;
	struct dk_sec_target tg = DK_SEC_TARGET_INIT;
	struct dk_sec_report rep = DK_SEC_REPORT_INIT, rep2 = DK_SEC_REPORT_INIT;
	struct dk_sec_index ix = DK_SEC_INDEX_INIT;
	char cmd[256];
	int v = -1;

	if (!mkdtemp(dir)) {
		ok(0, "mkdtemp");
		return;
	}
	is_int(dk_db_open(&db, dir, 0, &err), DK_NOTFOUND, "no database without DK_DB_CREATE");
	is_int(dk_db_open(&db, dir, DK_DB_CREATE, &err), 0, "create the database");
	is_int(dk_sec_meta_get(&db, &m, &err), DK_NOTFOUND, "no tracker data yet");
	is_int(dk_tracker_load(&t, FIXTURES "/tracker", &err), 0, "load the fixture checkout");
	is_int(dk_sec_store(&db, &t, "fixture", "2023-04-10", &err), 0, "store it");
	ok(data_files(dir) == 1, "the data in ROOT/" DK_SEC_DATA_FILE ", nothing left in ROOT/tmp");
	dk_db_schema_version(&db, "sec", &v, &err);
	is_int(v, 3, "schema version recorded in the migrations table");
	is_int(dk_sec_db_prepare(&db, &err), 0, "migrating again is a no-op");
	is_int(dk_sec_meta_get(&db, &m, &err), 0, "meta");
	is_str(m.data_date, "2023-04-10", "data date");
	is_int(m.entries, 18, "entries counted");
	dk_sec_meta_release(&m);
	is_int(dk_sec_target_load(&tg, FIXTURES "/status", &err), 0, "target");
	is_int(dk_sec_scan(&db, &tg, "bookworm", &rep, &err), 0, "scan from the database");
	dk_sec_index_build(&t, &ix, &err);
	is_int(dk_sec_scan_tracker(&t, &ix, &tg, "bookworm", &rep2, &err), 0, "scan from memory");
	ok(rep.nfindings == 14 && rep.nfindings == rep2.nfindings && rep.nreserved == 1, "both see the same findings");
	for (size_t i = 0; i < rep.nfindings && i < rep2.nfindings; i++)
		if (strcmp(rep.findings[i].cve, rep2.findings[i].cve) ||
		    rep.findings[i].status != rep2.findings[i].status ||
		    strcmp(rep.findings[i].advisories, rep2.findings[i].advisories))
			ok(0, "finding %zu differs: %s", i, rep.findings[i].cve);
	/* The rows read from the file are gone with its handle: the findings keep copies of what they show. */
	ok(same_report(&rep, &rep2), "field for field, after the data's handle is closed");
	{
		struct dk_sec_data d;
		struct dk_sec_report rep3 = DK_SEC_REPORT_INIT;

		struct dk_sec_data r1, r2;
		char none[300];

		is_int(dk_sec_data_open_root(dir, &r1, &err), 0, "from the root: " DK_SEC_DATA_FILE);
		ok(r1.db == &r1.own && !r1.main && !r1.legacy.h, "without opening the main database");
		dk_sec_data_close(&r1);
		snprintf(none, sizeof(none), "%s/none", dir);
		is_int(dk_sec_data_open_root(none, &r2, &err), DK_NOTFOUND, "a root without data: not found");
		ok(strstr(err.msg, "/none: no security tracker data (run 'debkeep cve update' first)") != NULL,
		   "named: %s", err.msg);
		is_int(dk_sec_data_open(&db, &d, &err), 0, "one handle on the data");
		is_int(dk_sec_data_meta(&d, &m, &err), 0, "the update's record through it");
		is_str(m.data_date, "2023-04-10", "of the update stored");
		dk_sec_meta_release(&m);
		is_int(dk_sec_scan_data(&d, &tg, "bookworm", &rep3, &err), 0, "a scan through the same handle");
		is_int(dk_sec_scan_data(&d, &tg, "bookworm", &rep, &err) < 0, 0, "and a second one");
		dk_sec_data_close(&d);
		ok(same_report(&rep3, &rep2), "the same findings as from memory");
		dk_sec_report_release(&rep3);
		dk_sec_report_release(&rep);
		rep = (struct dk_sec_report)DK_SEC_REPORT_INIT;
	}
	/* A failing store (here: a NULL source violates NOT NULL) keeps the previous data. */
	dk_tracker_load(&bad, FIXTURES "/tracker/data/DSA/list", &err);
	ok(dk_sec_store(&db, &bad, NULL, "2030-01-01", &err) < 0, "a failing store fails");
	ok(data_files(dir) == 1, "a failing store leaves nothing in ROOT/tmp");
	is_int(dk_sec_meta_get(&db, &m, &err), 0, "meta after the failure");
	ok(m.data_date && strcmp(m.data_date, "2023-04-10") == 0 && m.entries == 18, "previous data kept intact");
	dk_sec_meta_release(&m);
	dk_sec_report_release(&rep);
	is_int(dk_sec_scan(&db, &tg, "bookworm", &rep, &err), 0, "scan after the failure");
	is_int(rep.nfindings, 14, "same findings as before");
	dk_sec_report_release(&rep);
	dk_sec_report_release(&rep2);
	dk_sec_index_release(&ix);
	dk_sec_target_release(&tg);
	dk_tracker_release(&t);
	dk_tracker_release(&bad);
	dk_db_close(&db);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
}

static void rows_roundtrip(void)
{
	struct dk_sec_row r[2], *out = NULL;
	struct dk_buf b = DK_BUF_INIT;
	struct dk_err err = DK_ERR_INIT;
	size_t n = 0, alloc = 0;

	r[0] = row("", DK_FIX_VERSION, "1.0-1", NULL);
	r[0].description = "tab\there";
	r[0].note = "a; b";
	r[0].bug = 42;
	r[1] = row("bookworm", DK_FIX_NO_DSA, NULL, "DSA-1-1");
	r[1].description = r[0].description;
	is_int(dk_sec_rows_encode(r, 2, &b), 0, "encode");
	is_int(dk_sec_rows_decode(b.data, b.len, &out, &n, &alloc, &err), 0, "decode");
	ok(n == 2 && strcmp(out[0].description, "tab here") == 0 && out[1].description == out[0].description &&
		   out[0].bug == 42 && strcmp(out[0].note, "a; b") == 0 && out[1].kind == DK_FIX_NO_DSA &&
		   strcmp(out[1].advisory, "DSA-1-1") == 0 && !out[1].version,
	   "rows survive the stored form");
	is_int(dk_sec_rows_decode((char[]){ "a\tb\n" }, 4, &out, &n, &alloc, &err), DK_EINPUT, "malformed stored row");
	free(out);
	dk_buf_release(&b);
}

/* The stored form is part of the schema: pin its bytes, and refuse rows that do not have it. */
static void rows_stored_form(void)
{
	struct dk_sec_row r[3], *out = NULL;
	struct dk_buf b = DK_BUF_INIT;
	struct dk_err err = DK_ERR_INIT;
	size_t n = 0, alloc = 0;
	static const char *const bad[] = {
		"CVE-1\t0\t\t\t\t0\t1\t\t\t\n",     /* ten fields */
		"CVE-1\t0\t\t\t\t0\t1\t\t\t\t\t\n", /* twelve */
		"CVE-1\t0\t\t\t\t0\t1\t\t\t\t",       /* no newline */
		"CVE-1\tx\t\t\t\t0\t1\t\t\t\t\n",    /* a kind that is no number */
		"CVE-1\t0\t\t\t\t\t1\t\t\t\t\n",     /* no kind */
		"CVE-1\t0\t\t\t\t0\t1\t\t-3\t\t\n",  /* a negative bug */
		"CVE-1\t0\t\t\t\t0\t1\t\t99999999999\t\t\n",
	};

	r[0] = row("", DK_FIX_VERSION, "1.0-1", NULL);
	r[0].refs = "DSA-1-1 DLA-2-1";
	r[0].description = "line\none\ttab";
	r[0].urgency = "low**";
	r[0].note = "a\tb";
	r[0].bug = 4294967295u;
	r[1] = row("bookworm", DK_FIX_NO_DSA, NULL, NULL);
	r[1].description = r[0].description;
	r[1].note = "Minor issue";
	r[2] = row("bookworm", DK_FIX_VERSION, "1.0-1+deb12u1", "DSA-1-1");
	r[2].cve = "CVE-2023-0002";
	r[2].cve_kind = DK_CVE_RESERVED;
	is_int(dk_sec_rows_encode(r, 3, &b), 0, "encode three rows");
	is_str(b.data,
	       "CVE-2023-0001\t0\tDSA-1-1 DLA-2-1\tline one tab\t\t0\t1.0-1\tlow**\t4294967295\ta b\t\n"
	       "CVE-2023-0001\t0\t\t\tbookworm\t6\t\t\t\tMinor issue\t\n"
	       "CVE-2023-0002\t1\t\t\tbookworm\t0\t1.0-1+deb12u1\t\t\t\tDSA-1-1\n",
	       "the stored bytes");
	is_int(dk_sec_rows_decode(b.data, b.len, &out, &n, &alloc, &err), 0, "decode them");
	ok(n == 3 && out[0].bug == 4294967295u && out[1].bug == 0 && strcmp(out[1].refs, "DSA-1-1 DLA-2-1") == 0 &&
		   out[2].cve_kind == DK_CVE_RESERVED && !out[2].refs && strcmp(out[2].version, "1.0-1+deb12u1") == 0,
	   "decoded: bug, shared refs, a new CVE's own kind");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char copy[80];

		snprintf(copy, sizeof(copy), "%s", bad[i]);
		is_int(dk_sec_rows_decode(copy, strlen(copy), &out, &n, &alloc, &err), DK_EINPUT, "malformed row %zu",
		       i);
	}
	free(out);
	dk_buf_release(&b);
}

static void policy_fails(const char *what, const char *text, const char *msg)
{
	struct dk_policy pol = DK_POLICY_INIT;
	struct dk_err err = DK_ERR_INIT;
	int r = dk_policy_load_mem(&pol, text, strlen(text), "policy.yaml", &err);

	if (!ok(r == DK_EINPUT && strstr(err.msg, msg), "policy, %s: %s", what, msg))
		printf("#   r=%d msg '%s'\n", r, err.msg);
	dk_policy_release(&pol);
}

static void test_gate(void)
{
	struct dk_policy pol = DK_POLICY_INIT;
	struct dk_err err = DK_ERR_INIT;
	struct dk_sec_report rep = DK_SEC_REPORT_INIT;
	struct dk_gate_result res = DK_GATE_RESULT_INIT;
	struct dk_sec_finding f[4] = {
		{ "CVE-1", NULL, "a", "1", "a", NULL, "high", "", "", NULL, DK_SEC_VULNERABLE, false, NULL, 0, false },
		{ "CVE-2", NULL, "a", "1", "a", NULL, "low", "", "", NULL, DK_SEC_VULNERABLE, false, NULL, 0, false },
		{ "CVE-3", NULL, "b", "1", "b", NULL, "medium", "", "", NULL, DK_SEC_NO_DSA, false, NULL, 0, false },
		{ "CVE-4", NULL, "b", "1", "b", "2", "high", "", "", NULL, DK_SEC_FIXED, true, NULL, 0, false },
	};
	static const char policy[] = "release: bookworm\nblock-urgencies: [high, medium]\n"
				     "accept-statuses: [no-dsa]\nwaivers:\n"
				     "  - cve: CVE-1\n    reason: not reachable\n    expires: 2030-01-01\n"
				     "  - cve: CVE-9\n    reason: old\n    expires: 2020-01-01\n";

	is_int(dk_policy_load_mem(&pol, policy, strlen(policy), "policy.yaml", &err), 0, "policy parses");
	ok(pol.block[3] && pol.block[2] && !pol.block[1] && pol.accept[DK_SEC_NO_DSA] && pol.nwaivers == 2,
	   "policy contents");
	rep.release = "bookworm";
	rep.findings = f;
	rep.nfindings = 4;
	is_int(dk_gate_decide(&pol, &rep, "2025-06-01", &res, &err), 0, "decide");
	ok(res.pass, "passes: CVE-1 waived, CVE-2 low, CVE-3 accepted");
	ok(res.verdicts[0] == DK_VERDICT_WAIVED && res.verdicts[1] == DK_VERDICT_TOLERATED &&
		   res.verdicts[2] == DK_VERDICT_ACCEPTED,
	   "verdicts");
	ok(pol.waivers[0].state == DK_WAIVER_APPLIED && pol.waivers[1].state == DK_WAIVER_EXPIRED, "waiver states");
	dk_gate_result_release(&res);
	is_int(dk_gate_decide(&pol, &rep, "2030-01-02", &res, &err), 0, "decide after the waiver expired");
	ok(!res.pass && res.verdicts[0] == DK_VERDICT_BLOCKING, "an expired waiver no longer holds");
	dk_gate_result_release(&res);
	dk_policy_release(&pol);
	is_int(dk_policy_load_mem(&pol, "{}\n", 3, "p", &err), 0, "empty policy");
	ok(!pol.block[0] && pol.block[1] && pol.block[4], "default: everything but unimportant blocks");
	dk_policy_release(&pol);
	policy_fails("unknown key", "release: x\nblock: [high]\n", "policy.yaml:2: unknown key 'block'");
	policy_fails("unknown urgency", "block-urgencies: [hgh]\n",
		     "policy.yaml:1: block-urgencies: unknown urgency 'hgh'");
	policy_fails("fixed is not a status to accept", "accept-statuses: [fixed]\n", "not open status 'fixed'");
	policy_fails("waiver without reason", "waivers:\n  - cve: CVE-1\n    expires: 2030-01-01\n",
		     "policy.yaml:2: waiver for CVE-1 without a reason");
	policy_fails("waiver without expiry", "waivers:\n  - cve: CVE-1\n    reason: x\n", "without an expiry date");
	policy_fails("bad expiry", "waivers:\n  - cve: CVE-1\n    reason: x\n    expires: 2030-13-01\n",
		     "malformed expiry date '2030-13-01'");
	policy_fails("bad YAML", "waivers: [\n", "policy.yaml:");
	{
		struct dk_buf html = DK_BUF_INIT;
		json_t *ev = json_pack("{s:s, s:s, s:[{s:s, s:s}]}", "decision", "fail", "release", "<b>", "findings",
				       "cve", "CVE-<script>", "verdict", "blocking");

		is_int(dk_gate_evidence_html(ev, &html, &err), 0, "HTML evidence");
		ok(strstr(html.data, "CVE-&lt;script&gt;") && !strstr(html.data, "<script>") &&
			   !strstr(html.data, "http") && !strstr(html.data, "src="),
		   "escaped text, no external assets");
		json_decref(ev);
		dk_buf_release(&html);
	}
}

int main(void)
{
	test_match();
	test_report();
	test_target();
	test_manifest_formats();
	test_reserved_notes();
	test_db();
	test_legacy_layout();
	rows_roundtrip();
	rows_stored_form();
	test_gate();
	return tap_done();
}
