/* test-diff.c - unit tests for lib/diff: rules, policy, content details, whole runs on generated trees */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <debkeep/diff.h>
#include <debkeep/input.h>

#include "tap.h"

static char root[256];

static void test_aspects(void)
{
	int all = 1;

	for (int a = 0; a < DK_DA_COUNT; a++) {
		const char *n = dk_diff_aspect_name(a);

		all &= dk_diff_aspect_from_name(n, strlen(n)) == a;
	}
	ok(all, "every aspect name maps back to its aspect");
	is_int(dk_diff_aspect_from_name("nope", 4), -1, "unknown aspect name");
}

static void test_path_match(void)
{
	ok(dk_diff_path_match("etc/shadow", "etc/shadow"), "glob matches the path");
	ok(dk_diff_path_match("etc/shadow", "rootfs/etc/shadow"), "glob matches a tail after '/'");
	ok(dk_diff_path_match("etc/shadow", "p2!/etc/shadow"), "glob matches inside a partition");
	ok(!dk_diff_path_match("etc/shadow", "myetc/shadow"), "no match inside a component");
	ok(dk_diff_path_match("var/log/*", "var/log/apt/history.log"), "'*' crosses '/'");
	ok(!dk_diff_path_match("var/log/*", "var/logs"), "no partial component");
}

static void test_rules(void)
{
	struct dk_diff_rules r;
	struct dk_err err = DK_ERR_INIT;
	const struct dk_diff_rule *m;
	static const char bad1[] = "Cause: x\nTitle: y\nAspects: mtime bogus\n";
	static const char bad2[] = "Cause: x\nAspects: mtime\n";
	static const char dup[] = "Cause: x\nTitle: y\nAspects: mtime\n\nCause: x\nTitle: z\nAspects: mode\n";

	is_int(dk_diff_rules_parse(&r, dk_diff_default_rules, strlen(dk_diff_default_rules), "diff-rules",
				   &err),
	       0, "the built-in table parses");
	ok(r.n >= 25, "it has the rules the issue asks for (%zu)", r.n);
	m = dk_diff_rules_match(&r, "x/y", DK_DA_BIT(DK_DA_MTIME));
	is_str(m ? m->id : NULL, "mtime-only", "mtime alone: mtime-only");
	m = dk_diff_rules_match(&r, "", DK_DA_BIT(DK_DA_ORDER));
	is_str(m ? m->id : NULL, "order-only", "order alone: order-only");
	m = dk_diff_rules_match(&r, "", DK_DA_BIT(DK_DA_GZIP_HEADER));
	is_str(m ? m->id : NULL, "gzip-header", "gzip header alone");
	m = dk_diff_rules_match(&r, "usr/bin/x", DK_DA_BIT(DK_DA_MODE));
	is_str(m ? m->id : NULL, "umask", "mode alone: umask");
	m = dk_diff_rules_match(&r, "usr/bin/x", DK_DA_BIT(DK_DA_OWNER));
	is_str(m ? m->id : NULL, "owner", "owner alone");
	m = dk_diff_rules_match(&r, "usr/bin/x", DK_DA_BIT(DK_DA_BUILD_ID) | DK_DA_BIT(DK_DA_MTIME));
	is_str(m ? m->id : NULL, "build-id", "build id (and mtime)");
	m = dk_diff_rules_match(&r, "var/log/dpkg.log", DK_DA_BIT(DK_DA_CONTENT) | DK_DA_BIT(DK_DA_MTIME));
	is_str(m ? m->id : NULL, "var-log", "anything under /var/log");
	m = dk_diff_rules_match(&r, "etc/ssh/ssh_host_rsa_key", DK_DA_BIT(DK_DA_CONTENT));
	is_str(m ? m->id : NULL, "ssh-host-keys", "host keys");
	m = dk_diff_rules_match(&r, "etc/shadow", DK_DA_BIT(DK_DA_SHADOW));
	is_str(m ? m->id : NULL, "shadow", "shadow salt and day");
	m = dk_diff_rules_match(&r, "etc/shadow", DK_DA_BIT(DK_DA_CONTENT));
	is_str(m ? m->id : NULL, "unexplained", "shadow with another change is not explained");
	m = dk_diff_rules_match(&r, "var/cache/debconf/config.dat", DK_DA_BIT(DK_DA_CONTENT));
	is_str(m ? m->id : NULL, "debconf-cache", "debconf");
	m = dk_diff_rules_match(&r, "var/cache/man/index.db", DK_DA_BIT(DK_DA_CONTENT));
	is_str(m ? m->id : NULL, "postinst-cache", "man-db index");
	m = dk_diff_rules_match(&r, "usr/lib/x86_64-linux-gnu/gdk-pixbuf-2.0/2.10.0/loaders.cache",
				DK_DA_BIT(DK_DA_CONTENT));
	is_str(m ? m->id : NULL, "postinst-cache", "gdk-pixbuf loaders.cache");
	m = dk_diff_rules_match(&r, "usr/lib/python3/dist-packages/x/__pycache__/y.cpython-311.pyc",
				DK_DA_BIT(DK_DA_CONTENT));
	is_str(m ? m->id : NULL, "pycache", ".pyc");
	m = dk_diff_rules_match(&r, "p2!/<superblock>", DK_DA_BIT(DK_DA_FS_UUID));
	is_str(m ? m->id : NULL, "ext4-uuid", "ext4 UUID only");
	m = dk_diff_rules_match(&r, "<superblock>", DK_DA_BIT(DK_DA_FS_UUID) | DK_DA_BIT(DK_DA_FS_TIMES));
	is_str(m ? m->id : NULL, "ext4-times", "ext4 times with a UUID");
	m = dk_diff_rules_match(&r, "usr/bin/x", DK_DA_BIT(DK_DA_CONTENT));
	is_str(m ? m->id : NULL, "unexplained", "content: unexplained");
	dk_diff_rules_release(&r);

	ok(dk_diff_rules_parse(&r, bad1, sizeof(bad1) - 1, "r", &err) == DK_EINPUT, "unknown aspect refused");
	is_str(err.msg, "r:3: Aspects: unknown aspect 'bogus'", "message names the line and the aspect");
	ok(dk_diff_rules_parse(&r, bad2, sizeof(bad2) - 1, "r", &err) == DK_EINPUT, "missing Title refused");
	ok(dk_diff_rules_parse(&r, dup, sizeof(dup) - 1, "r", &err) == DK_EINPUT,
	   "a cause given twice refused");
}

static void test_expect(void)
{
	struct dk_diff_expect e;
	struct dk_err err = DK_ERR_INIT;
	static const char good[] =
		"# policy\ncause ssh-host-keys generated at first boot\n\npath var/log/* logs\n";
	static const char bad[] = "cause mtime-only\n";
	static const char bad2[] = "file x y\n";

	is_int(dk_diff_expect_parse(&e, good, sizeof(good) - 1, "p", &err), 0, "policy parses");
	is_int(e.n, 2, "two entries");
	ok(e.n == 2 && !e.v[0].is_path && strcmp(e.v[0].what, "ssh-host-keys") == 0 &&
		   strcmp(e.v[0].reason, "generated at first boot") == 0,
	   "cause entry with its reason");
	ok(e.n == 2 && e.v[1].is_path && strcmp(e.v[1].what, "var/log/*") == 0, "path entry");
	dk_diff_expect_release(&e);
	is_int(dk_diff_expect_parse(&e, bad, sizeof(bad) - 1, "p", &err), DK_EINPUT, "a reason is required");
	is_str(err.msg, "p:1: expected 'cause WHAT REASON': the reason is required", "message");
	is_int(dk_diff_expect_parse(&e, bad2, sizeof(bad2) - 1, "p", &err), DK_EINPUT,
	       "unknown kind refused");
}

static void test_text(void)
{
	struct dk_diff_detail d;
	static const char a[] = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n";
	static const char b[] = "1\n2\n3\n4\nfive\n6\n7\n8\n9\n10\n11\n";
	char longa[600], longb[600];

	dk_diff_detail_init(&d);
	dk_diff_text(&d, a, sizeof(a) - 1, b, sizeof(b) - 1, "f", 100);
	is_str(d.text.data,
	       "--- a/f\n+++ b/f\n@@ -2,9 +2,10 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n 9\n 10\n+11\n",
	       "unified diff as diff -u makes it: changes 2*3 lines apart share a hunk");
	dk_diff_detail_release(&d);

	dk_diff_detail_init(&d);
	dk_diff_text(&d, "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n", 21, "0\n2\n3\n4\n5\n6\n7\n8\n9\n10\n", 21, "f",
		     100);
	dk_diff_text(&d, "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n", 21, "1\n2\n3\n4\n5\n6\n7\n8\n9\nX\n", 20, "g",
		     100);
	ok(strstr(d.text.data, "@@ -1,4 +1,4 @@\n-1\n+0\n 2\n 3\n 4\n") &&
		   strstr(d.text.data, "@@ -7,4 +7,4 @@\n 7\n 8\n 9\n-10\n+X\n"),
	   "hunks at the start and the end of a file");
	is_int(d.refine, 0, "no known kind");
	dk_diff_detail_release(&d);

	dk_diff_detail_init(&d);
	dk_diff_text(&d, a, sizeof(a) - 1, b, sizeof(b) - 1, "f", 4);
	is_int(d.lines, 4, "line cap");
	ok(d.omitted > 0, "omitted lines counted (%zu)", d.omitted);
	dk_diff_detail_release(&d);

	dk_diff_detail_init(&d);
	dk_diff_text(&d, "built 2024-01-01 10:00:00 ok\n", 29, "built 2025-06-30 23:59:59 ok\n", 29, "f",
		     100);
	is_int(d.refine, DK_DA_BIT(DK_DA_DATE), "dates only: content-date");
	dk_diff_detail_release(&d);

	dk_diff_detail_init(&d);
	dk_diff_text(&d, "Built: Mon Jan  1 10:00:00 UTC 2024\nx\n", 38,
		     "Built: Tue Feb 13 11:12:13 UTC 2024\nx\n", 38, "f", 100);
	is_int(d.refine, DK_DA_BIT(DK_DA_DATE), "date(1) output: content-date");
	dk_diff_detail_release(&d);

	dk_diff_detail_init(&d);
	dk_diff_text(&d, "version 1.2\n", 12, "version 1.3\n", 12, "f", 100);
	is_int(d.refine, 0, "a version change is no date");
	dk_diff_detail_release(&d);

	dk_diff_detail_init(&d);
	dk_diff_text(&d, "cc -I/build/1st/pkg-1.0/include\n", 32, "cc -I/build/2nd/pkg-1.0/include\n", 32,
		     "f", 100);
	is_int(d.refine, DK_DA_BIT(DK_DA_BUILD_PATH), "build directory only: content-build-path");
	dk_diff_detail_release(&d);

	memset(longa, 'a', sizeof(longa));
	memset(longb, 'a', sizeof(longb));
	longb[500] = 'b';
	dk_diff_detail_init(&d);
	dk_diff_text(&d, longa, sizeof(longa), longb, sizeof(longb), "f", 100);
	ok(strstr(d.text.data, "[... 440 more bytes]") != NULL, "long lines cut with a count");
	dk_diff_detail_release(&d);
}

static void test_shadow(void)
{
	struct dk_diff_detail d;
	static const char a[] = "root:$y$j9T$aaa$hash1:19680:0:99999:7:::\nx:*:1:0:99999:7:::\n";
	static const char b[] = "root:$y$j9T$bbb$hash2:19700:0:99999:7:::\nx:*:1:0:99999:7:::\n";
	static const char c[] = "root:$y$j9T$bbb$hash2:19700:0:99999:7:::\nx:*:1:5:99999:7:::\n";

	dk_diff_detail_init(&d);
	dk_diff_content(&d, "etc/shadow", (const unsigned char *)a, sizeof(a) - 1, (const unsigned char *)b,
			sizeof(b) - 1, 40);
	is_int(d.refine, DK_DA_BIT(DK_DA_SHADOW), "salt and day only");
	ok(!strstr(d.text.data, "hash1") && !strstr(d.text.data, "aaa"), "hashes never shown");
	dk_diff_detail_release(&d);
	dk_diff_detail_init(&d);
	dk_diff_content(&d, "etc/shadow", (const unsigned char *)a, sizeof(a) - 1, (const unsigned char *)c,
			sizeof(c) - 1, 40);
	is_int(d.refine, 0, "another field too: not explained");
	dk_diff_detail_release(&d);
	dk_diff_detail_init(&d);
	dk_diff_content(&d, "etc/ssh/ssh_host_rsa_key",
			(const unsigned char *)"-----BEGIN OPENSSH PRIVATE KEY-----\nA\n", 38,
			(const unsigned char *)"-----BEGIN OPENSSH PRIVATE KEY-----\nB\n", 38, 40);
	ok(strstr(d.text.data, "not shown") && !strstr(d.text.data, "\nA"), "private keys never shown");
	dk_diff_detail_release(&d);
}

/* The test's own executable: a real ELF file with a build id. */
static void test_elf(const char *self)
{
	struct dk_buf a = DK_BUF_INIT, b = DK_BUF_INIT;
	struct dk_diff_detail d;
	struct dk_err err = DK_ERR_INIT;
	char *note;

	if (dk_read_file(self, &a, 0, &err) || dk_buf_add(&b, a.data, a.len)) {
		ok(0, "read %s: %s", self, err.msg);
		return;
	}
	note = memmem(b.data, b.len, "GNU\0", 4);
	ok(note != NULL, "the test binary has a GNU note");
	/* Flip a byte of the build id itself: the descriptor follows the 4-byte name. */
	while (note && note + 8 < b.data + b.len) {
		uint32_t type;

		memcpy(&type, note - 4, 4);
		if (type == 3)
			break;
		note = memmem(note + 4, (size_t)(b.data + b.len - note - 4), "GNU\0", 4);
	}
	if (!note) {
		ok(0, "no build id note");
		return;
	}
	note[4 + 3] ^= 0xff;
	dk_diff_detail_init(&d);
	is_int(dk_diff_elf(&d, (unsigned char *)a.data, a.len, (unsigned char *)b.data, b.len, 40), 0,
	       "ELF compared");
	is_int(d.refine, DK_DA_BIT(DK_DA_BUILD_ID), "build id only");
	ok(strstr(d.text.data, "section .note.gnu.build-id differs") != NULL, "the section is named");
	dk_diff_detail_release(&d);

	memcpy(b.data + a.len / 2, "\x01\x02\x03\x04", 4);
	dk_diff_detail_init(&d);
	dk_diff_content(&d, "usr/bin/x", (unsigned char *)a.data, a.len, (unsigned char *)b.data, b.len, 40);
	is_int(d.refine, 0, "more than the build id: not build-id");
	ok(strstr(d.text.data, "ELF:") != NULL, "ELF details chosen for ELF files");
	dk_diff_detail_release(&d);

	dk_diff_detail_init(&d);
	is_int(dk_diff_elf(&d, (const unsigned char *)"abc", 3, (const unsigned char *)"abd", 3, 40),
	       DK_NOTFOUND, "not ELF: DK_NOTFOUND");
	dk_diff_hex(&d, (const unsigned char *)"abcdefgh", 8, (const unsigned char *)"abXdefgY", 8, 40);
	ok(strstr(d.text.data, "2 bytes differ in 2 regions") != NULL, "hex summary counts regions");
	dk_diff_detail_release(&d);
	dk_buf_release(&a);
	dk_buf_release(&b);
}

static void put(const char *rel, const char *text, long mtime)
{
	char p[512];
	struct timespec ts[2];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	f = fopen(p, "w");
	if (!f)
		return;
	fputs(text, f);
	fclose(f);
	ts[0].tv_sec = ts[1].tv_sec = mtime;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	utimensat(AT_FDCWD, p, ts, 0);
}

static void mkd(const char *rel)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	mkdir(p, 0755);
}

static void stamp(const char *rel, long mtime)
{
	char p[512];
	struct timespec ts[2] = { { mtime, 0 }, { mtime, 0 } };

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	utimensat(AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW);
}

static void tree(const char *side, long mtime, bool changed)
{
	char d[64];

	snprintf(d, sizeof(d), "%s", side);
	mkd(d);
	snprintf(d, sizeof(d), "%s/etc", side);
	mkd(d);
	snprintf(d, sizeof(d), "%s/etc/a.conf", side);
	put(d, "a=1\n", mtime);
	snprintf(d, sizeof(d), "%s/etc/b.conf", side);
	put(d, changed ? "b=2\n" : "b=1\n", mtime);
	snprintf(d, sizeof(d), "%s/etc", side);
	stamp(d, mtime);
	stamp(side, mtime);
}

static const struct dk_diff_item *find(const struct dk_diff_report *r, const char *path)
{
	for (size_t i = 0; i < r->nitems; i++)
		if (strcmp(r->items[i].path, path) == 0)
			return &r->items[i];
	return NULL;
}

static void test_run(void)
{
	struct dk_diff_opts o = { 0 };
	struct dk_diff_report r;
	struct dk_err err = DK_ERR_INIT;
	const struct dk_diff_item *it;
	char a[300], b[300], c[300], f[300];
	const char *ex[] = { "etc/b.conf", NULL };
	struct dk_diff_expect e;
	static const char pol[] = "cause mtime-only clamped later\n";

	snprintf(a, sizeof(a), "%s/a", root);
	snprintf(b, sizeof(b), "%s/b", root);
	snprintf(c, sizeof(c), "%s/c", root);
	snprintf(f, sizeof(f), "%s/a/etc/a.conf", root);
	tree("a", 1000, false);
	tree("b", 1000, false);
	tree("c", 2000, true);

	is_int(dk_diff_run(a, b, &o, &r, &err), 0, "identical trees compared");
	is_int(r.nitems, 0, "no difference");
	is_int(r.a_members, 4, "members counted (root, etc, two files)");
	dk_diff_report_release(&r);

	is_int(dk_diff_run(a, c, &o, &r, &err), 0, "changed trees compared");
	is_int(r.nitems, 4, "four differences");
	it = find(&r, "etc/a.conf");
	is_str(it ? it->cause : NULL, "mtime-only", "a.conf: mtime only");
	it = find(&r, "etc/b.conf");
	is_str(it ? it->cause : NULL, "unexplained", "b.conf: content");
	ok(it && it->detail && strstr(it->detail, "-b=1\n+b=2\n"), "b.conf detail is a text diff");
	is_int(r.unexpected, 4, "all unexpected");
	dk_diff_report_release(&r);

	o.exclude = ex;
	o.jobs = 1;
	dk_err_clear(&err);
	is_int(dk_diff_expect_parse(&e, pol, sizeof(pol) - 1, "pol", &err), 0, "policy");
	o.expect = &e;
	is_int(dk_diff_run(a, c, &o, &r, &err), 0, "with --exclude, a policy, one thread");
	ok(!find(&r, "etc/b.conf"), "excluded path left out");
	is_int(r.unexpected, 0, "every remaining difference expected");
	it = find(&r, "etc/a.conf");
	is_str(it ? it->expected : NULL, "clamped later", "the reason is kept");
	dk_diff_report_release(&r);
	dk_diff_expect_release(&e);

	is_int(dk_diff_run(a, f, &(struct dk_diff_opts){ 0 }, &r, &err), DK_EINPUT,
	       "a tree and a file: refused");
	ok(strstr(err.msg, "inputs of different kinds") != NULL, "message says so: %s", err.msg);
	dk_diff_report_release(&r);
	is_int(dk_diff_run(a, "/nonexistent/x", &(struct dk_diff_opts){ 0 }, &r, &err), DK_EIO,
	       "missing input");
	dk_diff_report_release(&r);
}

static const struct dk_diff_item *find_cause(const struct dk_diff_report *r, const char *path,
					     const char *cause)
{
	for (size_t i = 0; i < r->nitems; i++)
		if (strcmp(r->items[i].path, path) == 0 && strcmp(r->items[i].cause, cause) == 0)
			return &r->items[i];
	return NULL;
}

/* The image fixtures (tests/fixtures/diff/make.sh): two builds with the differences real builds have. */
static void test_images(void)
{
	struct dk_diff_opts o = { 0 };
	struct dk_diff_report r;
	struct dk_err err = DK_ERR_INIT;
	const struct dk_diff_item *it;
	size_t mt = 0;

	is_int(dk_diff_run(FIXTURES "/image-a.tar.gz", FIXTURES "/image-b.tar.xz", &o, &r, &err), 0,
	       "images compared");
	is_str(r.a_kind, "tar", "a .tar.gz is a tar");
	is_str(r.b_kind, "tar", "a .tar.xz is a tar");
	it = find(&r, "etc/ssh/ssh_host_ed25519_key");
	is_str(it ? it->cause : NULL, "ssh-host-keys", "host key: its cause");
	is_str(it ? it->package : NULL, "openssh-server", "host key: the package whose script made it");
	is_str(it ? it->script : NULL, "postinst", "host key: made by the postinst");
	it = find(&r, "usr/bin/sshd-helper");
	is_str(it ? it->package : NULL, "openssh-server", "shipped file: its package");
	ok(it && !it->script, "shipped file: no script");
	is_str(it ? it->cause : NULL, "umask", "shipped file: mode only");
	ok(find_cause(&r, "", "order-only") && find_cause(&r, "", "encoding"),
	   "the tarball itself: order and encoding");
	is_int(r.npackages, 1, "one package version differs");
	ok(r.npackages == 1 && strcmp(r.packages[0].name, "python3-foo") == 0 &&
		   strcmp(r.packages[0].a, "1.0-1") == 0 && strcmp(r.packages[0].b, "1.0-2") == 0,
	   "python3-foo 1.0-1 -> 1.0-2");
	it = find(&r, "var/log/dpkg.log");
	is_str(it ? it->cause : NULL, "var-log", "/var/log");
	dk_diff_report_release(&r);

	is_int(dk_diff_run(FIXTURES "/mtime-a.tar", FIXTURES "/mtime-b.tar", &o, &r, &err), 0,
	       "mtime fixtures");
	for (size_t i = 0; i < r.nitems; i++)
		mt += strcmp(r.items[i].cause, "mtime-only") == 0;
	ok(r.nitems > 0 && mt == r.nitems, "every difference is mtime-only (%zu of %zu)", mt, r.nitems);
	dk_diff_report_release(&r);

	is_int(dk_diff_run(FIXTURES "/order-a.tar", FIXTURES "/order-b.tar", &o, &r, &err), 0,
	       "order fixtures");
	ok(r.nitems == 1 && strcmp(r.items[0].cause, "order-only") == 0, "one difference: order-only");
	dk_diff_report_release(&r);

	is_int(dk_diff_run(FIXTURES "/image-a.tar.gz", FIXTURES "/truncated.tar.gz", &o, &r, &err), DK_EINPUT,
	       "truncated input refused");
	ok(strstr(err.msg, "truncated.tar.gz") && strstr(err.msg, "truncated"), "message names it: %s",
	   err.msg);
	dk_diff_report_release(&r);
	is_int(dk_diff_run(FIXTURES "/mtime-a.tar", FIXTURES "/dotdot.tar", &o, &r, &err), DK_EINPUT,
	       "'..' refused");
	ok(strstr(err.msg, "'../../etc/evil'") != NULL, "message names the member: %s", err.msg);
	dk_diff_report_release(&r);
}

int main(int argc, char **argv)
{
	char cmd[300];

	snprintf(root, sizeof(root), "/tmp/debkeep-test-diff.XXXXXX");
	if (!mkdtemp(root))
		return 1;
	test_aspects();
	test_path_match();
	test_rules();
	test_expect();
	test_text();
	test_shadow();
	test_elf(argv[0]);
	test_run();
	test_images();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		ok(0, "clean up %s", root);
	return tap_done();
}
