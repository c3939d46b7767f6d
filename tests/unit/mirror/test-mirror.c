/* test-mirror.c - Release parsing, the hash chain, OpenPGP verification against one keyring, mirror definitions */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <debkeep/buf.h>
#include <debkeep/input.h>
#include <debkeep/mirror.h>
#include <debkeep/repo.h>

#include "tap.h"

static char *slurp(const char *name, size_t *len)
{
	struct dk_buf b = DK_BUF_INIT;
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", FIXTURES, name);
	if (dk_read_file(path, &b, 0, NULL) < 0 && strstr(name, ".xz") == NULL) {
		printf("Bail out! cannot read %s\n", path);
		exit(1);
	}
	return dk_buf_detach(&b, len);
}

/* Raw bytes, no decompression: what a Release's hash covers. */
static char *raw(const char *name, size_t *len)
{
	char path[4096], *p;
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/%s", FIXTURES, name);
	if (!(f = fopen(path, "rb")) || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) ||
	    !(p = malloc(n + 1)) || fread(p, 1, n, f) != (size_t)n) {
		printf("Bail out! cannot read %s\n", path);
		exit(1);
	}
	fclose(f);
	*len = n;
	return p;
}

static int parse_str(const char *text, struct dk_relfile *rf, struct dk_err *err)
{
	return dk_relfile_parse(rf, text, strlen(text), "Release", err);
}

static void test_parse(void)
{
	struct dk_err err = DK_ERR_INIT;
	struct dk_relfile rf;
	const struct dk_relfile_entry *e;
	size_t len;
	char *text = raw("Release", &len);

	is_int(dk_relfile_parse(&rf, text, len, "Release", &err), 0, "fixture Release parses (%s)", err.msg);
	is_str(rf.suite, "stable", "Suite");
	is_str(rf.codename, "dkstable", "Codename");
	is_str(rf.origin, "debkeep", "Origin");
	is_int(rf.date, 1700000000, "Date read as RFC 2822 in UTC");
	is_int(rf.valid_until, 0, "no Valid-Until");
	is_int(rf.narchs, 2, "two architectures");
	is_int(rf.ncomponents, 2, "two components");
	ok(rf.by_hash, "Acquire-By-Hash: yes");
	is_int(rf.nfiles, 5, "five SHA256 entries (MD5Sum is not used)");
	e = dk_relfile_packages(&rf, "main", "amd64");
	is_str(e ? e->path : NULL, "main/binary-amd64/Packages.xz", "the .xz index before the plain file");
	e = dk_relfile_packages(&rf, "main", "arm64");
	is_str(e ? e->path : NULL, "main/binary-arm64/Packages.gz", ".gz before the plain file");
	e = dk_relfile_packages(&rf, "contrib", "amd64");
	is_str(e ? e->path : NULL, "contrib/binary-amd64/Packages", "the plain file when it is the only one");
	ok(dk_relfile_packages(&rf, "contrib", "arm64") == NULL, "no index listed: NULL");
	ok(dk_relfile_find(&rf, "main/binary-amd64/Packages") != NULL, "find by path");
	ok(dk_relfile_find(&rf, "main/binary-amd64/Packages.bz2") == NULL, "find: absent path");

	is_int(dk_relfile_check(&rf, "dists/stable", "stable", (char *[]){ "amd64", "arm64" }, 2,
				(char *[]){ "main" }, 1, 1700000000, &err),
	       0, "check: suite, architectures, component");
	is_int(dk_relfile_check(&rf, "dists/dkstable", "dkstable", (char *[]){ "amd64" }, 1, (char *[]){ "main" }, 1,
				1700000000, &err),
	       0, "check: the codename names the suite too");
	is_int(dk_relfile_check(&rf, "dists/stable", "stable", (char *[]){ "amd64", "riscv64" }, 2,
				(char *[]){ "main" }, 1, 0, &err),
	       DK_EINPUT, "check: a missing architecture");
	is_str(err.msg, "dists/stable: no architecture 'riscv64'", "  message names it");
	is_int(dk_relfile_check(&rf, "dists/stable", "stable", (char *[]){ "amd64" }, 1, (char *[]){ "non-free" }, 1, 0,
				&err),
	       DK_EINPUT, "check: a missing component");
	is_str(err.msg, "dists/stable: no component 'non-free'", "  message names it");
	is_int(dk_relfile_check(&rf, "dists/testing", "testing", (char *[]){ "amd64" }, 1, (char *[]){ "main" }, 1, 0,
				&err),
	       DK_EINPUT, "check: another suite");
	is_str(err.msg, "dists/testing: is for suite 'stable' (codename 'dkstable'), not 'testing'", "  message");
	dk_relfile_release(&rf);
	free(text);
}

static void test_valid_until(void)
{
	struct dk_err err = DK_ERR_INIT;
	struct dk_relfile rf;
	const char *text = "Suite: s\nValid-Until: Wed, 15 Nov 2023 00:00:00 UTC\nArchitectures: amd64\n"
			   "Components: main\nSHA256:\n";

	is_int(parse_str(text, &rf, &err), 0, "Valid-Until parses (%s)", err.msg);
	is_int(rf.valid_until, 1700006400, "Valid-Until value");
	is_int(dk_relfile_check(&rf, "R", "s", (char *[]){ "amd64" }, 1, NULL, 0, 1700006400, &err), 0,
	       "valid up to the second");
	is_int(dk_relfile_check(&rf, "R", "s", (char *[]){ "amd64" }, 1, NULL, 0, 1700006401, &err), DK_EINPUT,
	       "expired afterwards");
	is_str(err.msg, "R: expired (Valid-Until 2023-11-15T00:00:00Z is past); refusing it", "  message says so");
	dk_relfile_release(&rf);
}

static void test_parse_errors(void)
{
	static const struct {
		const char *text, *msg;
	} bad[] = {
		{ "Suite: s\n", "Release: no SHA256 list (an older Release with MD5Sum only is not trusted)" },
		{ "Suite: s\nSHA256:\n 00 12 main/x\n", "Release:3: SHA256: bad line (want 'HASH SIZE PATH')" },
		{ "Suite: s\nSHA256:\n 0000000000000000000000000000000000000000000000000000000000000000 1x main/x\n",
		  "Release:3: SHA256: bad size '1x'" },
		{ "Suite: s\nSHA256:\n 0000000000000000000000000000000000000000000000000000000000000000 1 ../x\n",
		  "Release:3: SHA256: unsafe path '../x'" },
		{ "Suite: s\nSHA256:\n 0000000000000000000000000000000000000000000000000000000000000000 1 /etc/x\n",
		  "Release:3: SHA256: unsafe path '/etc/x'" },
		{ "Suite: s\nSHA256:\n 0000000000000000000000000000000000000000000000000000000000000000 1 a//b\n",
		  "Release:3: SHA256: unsafe path 'a//b'" },
		{ "Suite: s\nSHA256:\n 0000000000000000000000000000000000000000000000000000000000000000 1 a b c\n",
		  "Release:3: SHA256: bad line (want 'HASH SIZE PATH')" },
		{ "Suite: s\nDate: yesterday\nSHA256:\n", "Release:2: Date: not a date 'yesterday'" },
		{ "Suite: s\nSHA256:\n\nSuite: t\n", "Release:4: a second stanza in a Release file" },
		{ "", "Release: empty Release file" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct dk_err err = DK_ERR_INIT;
		struct dk_relfile rf;

		is_int(parse_str(bad[i].text, &rf, &err), DK_EINPUT, "bad Release %zu refused", i);
		is_str(err.msg, bad[i].msg, "  message");
		ok(rf.files == NULL && rf.suite == NULL, "  nothing left allocated in the result");
	}
}

static void test_rfc2822(void)
{
	time_t t = 0;

	ok(dk_rfc2822_parse("Sat, 10 Jun 2023 08:56:24 UTC", 29, &t) == 0 && t == 1686387384, "Debian's form");
	ok(dk_rfc2822_parse("10 Jun 2023 08:56:24 +0200", 26, &t) == 0 && t == 1686387384 - 7200,
	   "no day name, numeric zone");
	ok(dk_rfc2822_parse("Sat, 10 Jun 2023 08:56 GMT", 26, &t) == 0 && t == 1686387360, "no seconds, GMT");
	ok(dk_rfc2822_parse("Sat, 1 Jan 2000 00:00:00 UTC", 28, &t) == 0 && t == 946684800, "one-digit day");
	ok(dk_rfc2822_parse("Sat, 10 Foo 2023 08:56:24 UTC", 29, &t) < 0, "unknown month refused");
	ok(dk_rfc2822_parse("Sat, 10 Jun 2023 25:56:24 UTC", 29, &t) < 0, "hour 25 refused");
	ok(dk_rfc2822_parse("Sat, 10 Jun 2023 08:56:24 UTC junk", 34, &t) < 0, "trailing junk refused");
	ok(dk_rfc2822_parse("", 0, &t) < 0, "empty refused");
}

#define MISMATCH "main/binary-amd64/Packages: SHA256 mismatch (Release says 9fafcf144c75fef4..., got "

static void test_hash_chain(void)
{
	struct dk_err err = DK_ERR_INIT;
	struct dk_relfile rf;
	const struct dk_relfile_entry *xz, *plain;
	size_t len, xlen, plen;
	char *text = raw("Release", &len), *x = raw("Packages.xz", &xlen), *p = raw("Packages", &plen);

	if (dk_relfile_parse(&rf, text, len, "Release", &err) < 0) {
		printf("Bail out! %s\n", err.msg);
		exit(1);
	}
	xz = dk_relfile_find(&rf, "main/binary-amd64/Packages.xz");
	plain = dk_relfile_find(&rf, "main/binary-amd64/Packages");
	is_int(dk_relfile_verify(xz, x, xlen, &err), 0, "Packages.xz matches Release (%s)", err.msg);
	is_int(dk_relfile_verify(plain, p, plen, &err), 0, "Packages matches Release");
	is_int(dk_relfile_verify(plain, p, plen - 1, &err), DK_EINPUT, "a short file is refused");
	is_str(err.msg, "main/binary-amd64/Packages: size 912, Release says 913", "  message gives both sizes");
	p[10] ^= 1;
	is_int(dk_relfile_verify(plain, p, plen, &err), DK_EINPUT, "one changed byte is refused");
	ok(strncmp(err.msg, MISMATCH, strlen(MISMATCH)) == 0, "  message names the file and the hashes (%s)", err.msg);
	dk_relfile_release(&rf);
	free(text);
	free(x);
	free(p);
}

static void test_control(void)
{
	struct dk_err err = DK_ERR_INIT;
	struct dk_buf out = DK_BUF_INIT;
	size_t len;
	char *text = slurp("Packages", &len);
	const char *second = strstr(text, "\n\nPackage: dk-hello") + 2;

	is_int(dk_mirror_control(second, len - (second - text), &out, &err), 0, "control of a Packages stanza");
	is_str(out.data,
	       "Package: dk-hello\nVersion: 0.9-1\nArchitecture: amd64\n"
	       "Maintainer: debkeep tests <tests@debkeep.invalid>\nDepends: dk-data (>= 1.0)\nSection: misc\n"
	       "Priority: optional\nDescription: debkeep mirror test package dk-hello\n A long description\n .\n"
	       " over lines.",
	       "  Filename, Size and every hash dropped; Priority, Section and the long description kept");
	is_int(dk_mirror_control(text, second - text, &out, &err), 0, "the first stanza");
	ok(strstr(out.data, "Description-md5") == NULL && strstr(out.data, "Priority: required") != NULL,
	   "  Description-md5 dropped, Priority kept");
	dk_buf_release(&out);
	free(text);
}

static char tmpdir[] = "/tmp/test-mirror-XXXXXX";

static void test_verify(void)
{
	struct dk_err err = DK_ERR_INIT;
	size_t klen, alen, olen, elen, ilen, rlen, glen, tlen, xlen, oklen, text_len;
	char *key = raw("key.gpg", &klen), *asc = raw("key.asc", &alen), *other = raw("other.gpg", &olen);
	char *expired = raw("expired.gpg", &elen), *in = raw("InRelease", &ilen), *rel = raw("Release", &rlen);
	char *gpg = raw("Release.gpg", &glen), *tampered = raw("InRelease.tampered", &tlen);
	char *by_other = raw("InRelease.other", &oklen), *by_expired = raw("InRelease.expired", &xlen);
	char *text = NULL, fpr[41];
	size_t keys = 0;

	is_int(dk_verify_keyring(key, klen, tmpdir, &keys, &err), 0, "a binary keyring imports (%s)", err.msg);
	is_int(keys, 1, "  one key");
	is_int(dk_verify_keyring(asc, alen, tmpdir, &keys, &err), 0, "an armored keyring imports");
	is_int(dk_verify_keyring("not a key", 9, tmpdir, &keys, &err), DK_EINPUT, "junk is not a keyring");
	is_str(err.msg, "keyring: no OpenPGP public key in it", "  message");

	is_int(dk_verify_release(key, klen, tmpdir, in, ilen, NULL, 0, &text, &text_len, fpr, &err), 0,
	       "InRelease verifies against its key (%s)", err.msg);
	ok(text && text_len == rlen && memcmp(text, rel, rlen) == 0, "  the signed text is exactly Release");
	is_int(strlen(fpr), 40, "  the signer's fingerprint");
	free(text);
	is_int(dk_verify_release(asc, alen, tmpdir, in, ilen, NULL, 0, &text, &text_len, fpr, &err), 0,
	       "the armored keyring works the same");
	free(text);
	is_int(dk_verify_release(key, klen, tmpdir, rel, rlen, gpg, glen, &text, &text_len, fpr, &err), 0,
	       "Release + Release.gpg verify (%s)", err.msg);
	ok(text && text_len == rlen && memcmp(text, rel, rlen) == 0, "  text is Release");
	free(text);

	is_int(dk_verify_release(other, olen, tmpdir, in, ilen, NULL, 0, &text, &text_len, fpr, &err), DK_EINPUT,
	       "another keyring: refused");
	is_str(err.msg, "InRelease: signature not trusted: made by a key not in the mirror's keyring", "  message");
	ok(text == NULL, "  no text");
	is_int(dk_verify_release(key, klen, tmpdir, by_other, oklen, NULL, 0, &text, &text_len, fpr, &err), DK_EINPUT,
	       "signed by another key: refused");
	is_int(dk_verify_release(key, klen, tmpdir, tampered, tlen, NULL, 0, &text, &text_len, fpr, &err), DK_EINPUT,
	       "tampered InRelease: refused");
	is_str(err.msg, "InRelease: signature not trusted: BAD signature", "  message");
	rel[0] ^= 1;
	is_int(dk_verify_release(key, klen, tmpdir, rel, rlen, gpg, glen, &text, &text_len, fpr, &err), DK_EINPUT,
	       "tampered Release under Release.gpg: refused");
	rel[0] ^= 1;
	is_int(dk_verify_release(expired, elen, tmpdir, by_expired, xlen, NULL, 0, &text, &text_len, fpr, &err),
	       DK_EINPUT, "a signature by an expired key: refused");
	is_str(err.msg, "InRelease: signature not trusted: key expired", "  message");
	is_int(dk_verify_release(key, klen, tmpdir, rel, rlen, NULL, 0, &text, &text_len, fpr, &err), DK_EINPUT,
	       "an unsigned Release as InRelease: refused (%s)", err.msg);
	free(key);
	free(asc);
	free(other);
	free(expired);
	free(in);
	free(rel);
	free(gpg);
	free(tampered);
	free(by_other);
	free(by_expired);
}

static int count_one(void *ctx, const struct dk_mirror *m)
{
	(void)m;
	(*(int *)ctx)++;
	return 0;
}

static void test_definitions(void)
{
	struct dk_err err = DK_ERR_INIT;
	struct dk_repo r;
	struct dk_mirror m = { 0 }, got;
	char root[4200], path[4300];
	size_t klen;
	char *key = raw("key.gpg", &klen);
	int n = 0;

	snprintf(root, sizeof(root), "%s/root", tmpdir);
	if (dk_repo_open(&r, root, DK_REPO_CREATE, "test", 1, &err) < 0) {
		printf("Bail out! %s\n", err.msg);
		exit(1);
	}
	is_int(dk_mirror_list(&r, count_one, &n, &err), 0, "list before any mirror table exists");
	is_int(n, 0, "  no mirrors");
	is_int(dk_mirror_get(&r, "x", &got, &err), DK_EINPUT, "get before any mirror table exists");
	is_str(err.msg, "mirror 'x': unknown mirror", "  unknown mirror");
	m.name = "deb";
	m.url = "http://127.0.0.1:9/debian/";
	m.suite = "bookworm";
	m.components = (char *[]){ "main", "contrib" };
	m.ncomponents = 2;
	m.archs = (char *[]){ "amd64" };
	m.narchs = 1;
	is_int(dk_mirror_create(&r, &m, key, klen, &err), 0, "create (%s)", err.msg);
	snprintf(path, sizeof(path), "%s/keyrings/deb.gpg", root);
	ok(access(path, R_OK) == 0, "the keyring is copied into the root");
	is_int(dk_mirror_create(&r, &m, key, klen, &err), DK_EINPUT, "a second create of the name");
	is_str(err.msg, "mirror 'deb': exists already (drop it first)", "  message");
	is_int(dk_mirror_get(&r, "deb", &got, &err), 0, "get");
	is_str(got.url, "http://127.0.0.1:9/debian/", "  url");
	is_int(got.ncomponents, 2, "  components");
	is_str(got.components[1], "contrib", "  in order");
	ok(got.updated == NULL && got.list == NULL, "  never updated, no list");
	dk_mirror_release(&got);
	m.name = "bad/name";
	is_int(dk_mirror_create(&r, &m, key, klen, &err), DK_EINPUT, "a name with '/' is refused");
	m.name = "x";
	m.archs = (char *[]){ "all" };
	is_int(dk_mirror_create(&r, &m, key, klen, &err), DK_EINPUT, "architecture 'all' is not one to ask for");
	is_str(err.msg, "--archs: invalid architecture 'all'", "  message");
	m.archs = (char *[]){ "amd64" };
	m.suite = "../etc";
	is_int(dk_mirror_create(&r, &m, key, klen, &err), DK_EINPUT, "a suite with '..' is refused");
	m.suite = "bookworm";
	m.url = "ftp://x";
	is_int(dk_mirror_create(&r, &m, key, klen, &err), DK_EINPUT, "an ftp:// URL is refused");
	m.url = "http://x";
	is_int(dk_mirror_create(&r, &m, "junk", 4, &err), DK_EINPUT, "a keyring without keys is refused");
	n = 0;
	is_int(dk_mirror_list(&r, count_one, &n, &err), 0, "list");
	is_int(n, 1, "  one mirror");
	is_int(dk_mirror_drop(&r, "deb", &err), 0, "drop");
	ok(access(path, F_OK) != 0, "  its keyring is gone");
	is_int(dk_mirror_drop(&r, "deb", &err), DK_EINPUT, "drop of an unknown mirror");
	dk_repo_close(&r);
	free(key);
}

static int rm_rf(const char *path)
{
	char cmd[4200];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	return system(cmd);
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	ok(dk_mirror_name_valid("bookworm-main") && !dk_mirror_name_valid("a/b") && !dk_mirror_name_valid(".x") &&
		   !dk_mirror_name_valid(""),
	   "mirror names");
	test_parse();
	test_valid_until();
	test_parse_errors();
	test_rfc2822();
	test_hash_chain();
	test_control();
	test_verify();
	test_definitions();
	rm_rf(tmpdir);
	return tap_done();
}
