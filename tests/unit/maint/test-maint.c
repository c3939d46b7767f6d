/* test-maint.c - repository maintenance: gc, check (by-hash, signatures), snapshot merge and filter, publish drop */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <debkeep/hash.h>
#include <debkeep/publish.h>
#include <debkeep/repo.h>

#include "tap.h"

static char world[256], root[300], tmpdir[256];

static char *path_of(const char *dir, const char *rel)
{
	static char buf[8][600];
	static int i;

	i = (i + 1) % 8;
	snprintf(buf[i], sizeof(buf[i]), "%s%s", dir, rel);
	return buf[i];
}

struct problems {
	int n;
	char last[1200];
	char all[4096]; /* every problem, one a line */
};

static int on_problem(void *ctx, const char *where, const char *what)
{
	struct problems *p = ctx;
	size_t len = strlen(p->all);

	p->n++;
	snprintf(p->last, sizeof(p->last), "%s: %s", where, what);
	snprintf(p->all + len, sizeof(p->all) - len, "%s\n", p->last);
	return 0;
}

static struct dk_check_stats last_stats;

static int run_check(struct dk_repo *r, struct problems *p)
{
	struct dk_err err = DK_ERR_INIT;

	memset(p, 0, sizeof(*p));
	if (dk_check(r, on_problem, p, &last_stats, &err) < 0) {
		printf("# check failed: %s\n", err.msg);
		return -1;
	}
	return (int)last_stats.problems;
}

struct find {
	const char *name;
	char sha[65], version[64], pool[300];
	int count;
};

static int find_pkg(void *ctx, const struct dk_snapshot_pkg *p)
{
	struct find *f = ctx;

	f->count++;
	if (f->name && !strcmp(p->name, f->name)) {
		snprintf(f->sha, sizeof(f->sha), "%s", p->sha256);
		snprintf(f->version, sizeof(f->version), "%s", p->version);
		snprintf(f->pool, sizeof(f->pool), "%s", p->filename);
	}
	return 0;
}

static int members(struct dk_repo *r, const char *snap, const char *name, struct find *f)
{
	struct dk_err err = DK_ERR_INIT;

	memset(f, 0, sizeof(*f));
	f->name = name;
	return dk_snapshot_packages(r, snap, find_pkg, f, &err);
}

static char *object_of(const char *sha)
{
	static char obj[600];

	dk_store_path(root, sha, obj, sizeof(obj));
	return obj;
}

static void write_list(const char *path, const char *pkg)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return;
	fprintf(f, "release: test\narchitectures: [amd64]\npackages:\n  - name: %s\n    reason: test\n", pkg);
	fclose(f);
}

static void test_merge_filter(struct dk_repo *r)
{
	struct dk_err err = DK_ERR_INIT;
	const char *both[] = { "s1", "s2" }, *nosuch[] = { "s1", "nosuch" };
	struct find f;

	is_int(dk_snapshot_merge(r, "m", both, 2, false, NULL, &err), 0, "merge s1 s2: %s", err.msg);
	members(r, "m", "hello", &f);
	is_int(f.count, 27, "merge: v1's 26 and newtool");
	is_str(f.version, "1.1-1", "merge keeps the highest hello");
	members(r, "m", "oldtool", &f);
	is_str(f.version, "0.1-1", "merge keeps what only one source has");
	is_int(dk_snapshot_merge(r, "mall", both, 2, true, NULL, &err), 0, "merge --keep-all");
	members(r, "mall", NULL, &f);
	is_int(f.count, 28, "keep-all keeps both hello versions");
	is_int(dk_snapshot_merge(r, "m", both, 2, false, NULL, &err), DK_EINPUT, "merge into an existing name");
	is_int(dk_snapshot_merge(r, "m3", nosuch, 2, false, NULL, &err), DK_EINPUT, "merge an unknown snapshot");
	ok(strstr(err.msg, "nosuch") != NULL, "names it: %s", err.msg);
	is_int(dk_snapshot_get(r, "m3", &(struct dk_snapshot_info){ 0 }, &err), DK_EINPUT,
	       "a failed merge made nothing");

	write_list(path_of(tmpdir, "/list.yaml"), "foo-utils");
	is_int(dk_snapshot_filter(r, "f", "s1", path_of(tmpdir, "/list.yaml"), NULL, NULL, &err), 0, "filter: %s",
	       err.msg);
	members(r, "f", "libfoo1", &f);
	is_int(f.count, 4, "filter: foo-utils, libfoo1, libc6, base-files");
	is_str(f.version, "1.2-1", "filter took the dependency");
	write_list(path_of(tmpdir, "/bad.yaml"), "newtool");
	is_int(dk_snapshot_filter(r, "g", "s1", path_of(tmpdir, "/bad.yaml"), "amd64", NULL, &err), DK_EINPUT,
	       "filter: a package the snapshot lacks");
	ok(strstr(err.msg, "newtool") != NULL, "names it: %s", err.msg);
}

static void test_gc_check(struct dk_repo *r)
{
	struct dk_err err = DK_ERR_INIT;
	struct dk_gc_stats gs;
	struct problems p;
	struct find hello1, old, newt;
	char pub[600], pool[1000], junk[900], staged[900], obj[600];
	struct dk_publish_pkg pk = { 0 };
	char *storage = NULL;
	unsigned char b = 0;
	struct stat sb;
	size_t pruned;
	int fd;

	is_int(run_check(r, &p), 0, "a fresh root checks clean: %s", p.last);
	members(r, "s1", "hello", &hello1);
	members(r, "s1", "oldtool", &old);
	members(r, "s2", "newtool", &newt);
	is_int(dk_snapshot_drop(r, "s1", &err), 0, "drop s1");
	is_int(dk_snapshot_drop(r, "m", &err), 0, "drop m");
	is_int(dk_snapshot_drop(r, "mall", &err), 0, "drop mall");
	is_int(dk_gc(r, false, &gs, &err), 0, "gc while collection local holds v1: %s", err.msg);
	is_int(gs.rows, 0, "collections count as references");
	ok(access(object_of(hello1.sha), F_OK) == 0, "hello 1.0's object kept");

	/* oldtool published: its pool file links the object. */
	snprintf(pub, sizeof(pub), "%s/public", root);
	is_int(dk_publish_pkg_from_deb(&pk, object_of(old.sha), "main", &storage, &err), 0, "describe oldtool");
	is_int(dk_publish(pub, "p", "s", &pk, 1, &(struct dk_publish_opts){ .date = 1700000000 }, &err), 0,
	       "publish oldtool: %s", err.msg);
	free(storage);
	snprintf(pool, sizeof(pool), "%s/p/%s", pub, old.pool);
	ok(stat(pool, &sb) == 0 && sb.st_nlink == 2, "the pool file is a link of the object");
	is_int(run_check(r, &p), 0, "the published tree checks clean: %s", p.last);

	/* What a mirror update does to the set it replaces: the collection forgets v1. */
	is_int(dk_db_exec(&r->db, "DELETE FROM collection_members WHERE collection_id ="
			  " (SELECT id FROM collections WHERE name = 'local')", &err), 0, "empty collection local");
	is_int(dk_gc(r, true, &gs, &err), 0, "gc --dry-run");
	is_int(gs.rows, 1, "would delete hello 1.0's row");
	is_int(gs.linked, 1, "keeps oldtool's row: a pool file links its object");
	is_int(gs.objects, 1, "would delete hello 1.0's object");
	ok(access(object_of(hello1.sha), F_OK) == 0, "dry run deletes nothing");
	is_int(dk_gc(r, false, &gs, &err), 0, "gc");
	is_int(gs.rows, 1, "deleted hello 1.0's row");
	ok(access(object_of(hello1.sha), F_OK) != 0, "and its object");
	ok(access(object_of(old.sha), F_OK) == 0, "the published object stays");
	ok(access(object_of(newt.sha), F_OK) == 0, "a snapshot's object stays");
	is_int(run_check(r, &p), 0, "clean after gc: %s", p.last);

	/*
	 * Dead processes' staging files (in its fan-out directory as import stages now, and under tmp/ as
	 * an older import did), and an orphan object (a crash before the transaction): empty content.
	 */
	snprintf(junk, sizeof(junk), "%s/tmp/obj-999999-0-%s", root, hello1.sha);
	if ((fd = open(junk, O_WRONLY | O_CREAT, 0444)) >= 0)
		close(fd);
	snprintf(staged, sizeof(staged), "%s/objects/%.2s/.obj-999999-1-%s", root, hello1.sha, hello1.sha);
	if ((fd = open(staged, O_WRONLY | O_CREAT, 0444)) >= 0)
		close(fd);
	snprintf(obj, sizeof(obj), "%s", object_of("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
	if ((fd = open(obj, O_WRONLY | O_CREAT, 0444)) >= 0)
		close(fd);
	is_int(run_check(r, &p), 0, "neither a staging file nor an object nothing names is a problem: %s", p.last);
	is_int(dk_gc(r, true, &gs, &err), 0, "gc --dry-run");
	ok(gs.tmp == 2 && gs.objects == 1, "dry run finds both staging files and the orphan");
	ok(access(junk, F_OK) == 0 && access(staged, F_OK) == 0 && access(obj, F_OK) == 0, "and leaves them");
	is_int(dk_gc(r, false, &gs, &err), 0, "gc");
	ok(access(junk, F_OK) != 0 && access(staged, F_OK) != 0 && access(obj, F_OK) != 0, "gc removes all three");

	/* check finds: a flipped byte, a wrong mode, a missing object, a broken pool link. */
	snprintf(obj, sizeof(obj), "%s", object_of(newt.sha));
	chmod(obj, 0644);
	fd = open(obj, O_RDWR);
	ok(fd >= 0 && pread(fd, &b, 1, 100) == 1, "read a byte");
	b ^= 0x01;
	ok(fd >= 0 && pwrite(fd, &b, 1, 100) == 1, "flip it");
	if (fd >= 0)
		close(fd);
	is_int(run_check(r, &p), 2, "flipped byte and mode 0644: two problems");
	ok(strstr(p.last, "SHA-256 mismatch (content is ") != NULL, "the mismatch: %s", p.last);
	unlink(obj);
	is_int(run_check(r, &p), 1, "a missing object");
	ok(strstr(p.last, "missing") && strstr(p.last, "newtool 2.0-1 amd64"), "names the package: %s", p.last);
	unlink(pool);
	if ((fd = open(pool, O_WRONLY | O_CREAT, 0644)) >= 0) {
		ok(write(fd, "not a deb", 9) == 9, "replace the pool file");
		close(fd);
	}
	is_int(run_check(r, &p), 2, "a replaced pool file");
	ok(strstr(p.last, "size 9, the Packages index says"), "its size: %s", p.last);
	unlink(pool);
	is_int(run_check(r, &p), 2, "a missing pool file");
	ok(strstr(p.last, "named by a Packages index, missing"), "reported: %s", p.last);

	is_int(dk_publish_drop(pub, "p", "s", &pruned, &err), 0, "publish drop");
	ok(access(path_of(pub, "/p/dists/s"), F_OK) != 0, "the suite is gone");
	is_int(dk_publish_drop(pub, "p", "s", &pruned, &err), DK_NOTFOUND, "dropping it again: not found");
}

static int slurp(const char *path, char *buf, size_t n, size_t *len)
{
	FILE *f = fopen(path, "rb");

	if (!f)
		return -1;
	*len = fread(buf, 1, n, f);
	fclose(f);
	return *len < n ? 0 : -1;
}

static int spew(const char *path, const char *data, size_t len)
{
	FILE *f;

	unlink(path);
	if (!(f = fopen(path, "wb")))
		return -1;
	if (fwrite(data, 1, len, f) != len) {
		fclose(f);
		return -1;
	}
	return fclose(f);
}

/* The hash Release's field ("SHA256", "MD5Sum") lists for name; "" when none. */
static void listed_hash(const char *rel, const char *field, const char *name, char *out, size_t n)
{
	char key[64], hash[80], file[600];
	unsigned long long size;

	snprintf(key, sizeof(key), "\n%s:\n", field);
	out[0] = '\0';
	for (const char *p = strstr(rel, key); p && (p = strchr(p + 1, '\n')) && p[1] == ' ';)
		if (sscanf(p + 1, " %79s %llu %599s", hash, &size, file) == 3 && !strcmp(file, name)) {
			snprintf(out, n, "%s", hash);
			return;
		}
}

/* A throw-away signing key in home (tests/fixtures/publish/make-key.sh); its fingerprint into fpr. */
static int make_key(const char *home, char *fpr, size_t n)
{
	char cmd[1200];
	FILE *f;
	int ok;

	snprintf(cmd, sizeof(cmd), "'%s/../publish/make-key.sh' '%s'", FIXTURES, home);
	if (!(f = popen(cmd, "r")))
		return -1;
	ok = fgets(fpr, (int)n, f) != NULL;
	if (pclose(f) != 0 || !ok)
		return -1;
	fpr[strcspn(fpr, "\n")] = '\0';
	return 0;
}

struct objects {
	char path[64][600];
	int n;
};

static int add_object(void *ctx, const struct dk_snapshot_pkg *p)
{
	struct objects *o = ctx;

	if (o->n < 64)
		snprintf(o->path[o->n++], sizeof(o->path[0]), "%s", object_of(p->sha256));
	return 0;
}

/* Publish snapshot s's members as p/SUITE of pub, signed with key from home when key is not NULL. */
static int publish_snapshot(struct dk_repo *r, const char *pub, const char *suite, const char *key,
			    const char *home)
{
	struct dk_publish_opts o = { .date = 1700000000, .sign_key = key, .gnupghome = home };
	struct dk_publish_pkg pk[64];
	char *storage[64] = { NULL };
	struct dk_err err = DK_ERR_INIT;
	struct objects objs = { .n = 0 };
	int ret = dk_snapshot_packages(r, "s", add_object, &objs, &err);

	for (int i = 0; i < objs.n && ret == 0; i++)
		ret = dk_publish_pkg_from_deb(&pk[i], objs.path[i], "main", &storage[i], &err);
	if (ret == 0)
		ret = dk_publish(pub, "p", suite, pk, (size_t)objs.n, &o, &err);
	for (int i = 0; i < objs.n; i++)
		free(storage[i]);
	if (ret < 0)
		printf("# publish %s: %s\n", suite, err.msg);
	return ret;
}

/* Record p/suite as published from snapshot s to public ("" for ROOT/public), signed with key when not NULL. */
static int record(struct dk_repo *r, const char *suite, char *public, char *key, char *home)
{
	struct dk_publication pb = { .prefix = "p", .suite = (char *)suite, .snapshot = "s", .public = public,
				     .component = "main", .sign_key = key, .gnupghome = home };
	struct dk_err err = DK_ERR_INIT;
	int ret = dk_db_begin(&r->db, &err);

	if (ret == 0 && (ret = dk_publication_record(r, &pb, &err)) == 0)
		ret = dk_db_commit(&r->db, &err);
	if (ret != 0) {
		dk_db_rollback(&r->db);
		printf("# record %s: %s\n", suite, err.msg);
	}
	return ret;
}

/* check on signed and unsigned trees: by-hash copies, InRelease and Release.gpg broken one at a time. */
static void test_signatures(void)
{
	static char rel[1 << 16], inrel[1 << 16], sig[1 << 16];
	char home[300], other_home[300], fpr[100], other[100], pub[400], d[600], plain[600], loose[600], ext[400];
	char bh[1200], bh5[1200], idx[900], want[1400], sha[80], md5[80], *re_in = NULL, *re_sig = NULL;
	size_t rel_len = 0, inrel_len = 0, sig_len = 0, re_in_len, re_sig_len;
	struct dk_err err = DK_ERR_INIT;
	struct problems p;
	struct dk_repo r;
	char *v1[1] = { path_of(world, "/v1") };

	snprintf(root, sizeof(root), "%s/root-sig", tmpdir);
	snprintf(pub, sizeof(pub), "%s/public", root);
	snprintf(home, sizeof(home), "%s/gnupg", tmpdir);
	snprintf(other_home, sizeof(other_home), "%s/gnupg-other", tmpdir);
	if (make_key(home, fpr, sizeof(fpr)) < 0 || make_key(other_home, other, sizeof(other)) < 0) {
		ok(0, "two signing keys (needs gpg)");
		return;
	}
	is_int(dk_repo_open(&r, root, DK_REPO_CREATE, "t", 1, &err), 0, "a second root: %s", err.msg);
	is_int(dk_import(&r, "local", v1, 1, NULL, NULL, &(struct dk_import_stats){ 0 }, &err), 0, "import v1");
	is_int(dk_snapshot_create_local(&r, "s", "local", NULL, &err), 0, "snapshot s");
	is_int(publish_snapshot(&r, pub, "signed", fpr, home), 0, "publish p/signed, signed");
	is_int(publish_snapshot(&r, pub, "plain", NULL, NULL), 0, "publish p/plain, unsigned");
	is_int(publish_snapshot(&r, pub, "loose", fpr, home), 0, "publish p/loose, signed, without a record");
	is_int(record(&r, "signed", "", fpr, home), 0, "record p/signed with its key");
	is_int(record(&r, "plain", "", NULL, NULL), 0, "record p/plain");
	is_int(run_check(&r, &p), 0, "signed, unsigned and unrecorded trees check clean: %s", p.last);

	snprintf(d, sizeof(d), "%s/p/dists/signed", pub);
	snprintf(plain, sizeof(plain), "%s/p/dists/plain", pub);
	snprintf(loose, sizeof(loose), "%s/p/dists/loose", pub);
	ok(slurp(path_of(d, "/Release"), rel, sizeof(rel), &rel_len) == 0 &&
		   slurp(path_of(d, "/InRelease"), inrel, sizeof(inrel), &inrel_len) == 0 &&
		   slurp(path_of(d, "/Release.gpg"), sig, sizeof(sig), &sig_len) == 0,
	   "read Release, InRelease, Release.gpg");

	listed_hash(rel, "SHA256", "main/binary-amd64/Packages.xz", sha, sizeof(sha));
	listed_hash(rel, "MD5Sum", "main/binary-amd64/Packages", md5, sizeof(md5));
	ok(strlen(sha) == 64 && strlen(md5) == 32, "Release lists Packages.xz's SHA256 and Packages's MD5");
	snprintf(idx, sizeof(idx), "%s/main/binary-amd64", d);
	snprintf(bh, sizeof(bh), "%s/by-hash/SHA256/%s", idx, sha);
	snprintf(bh5, sizeof(bh5), "%s/by-hash/MD5Sum/%s", idx, md5);

	unlink(bh);
	is_int(run_check(&r, &p), 1, "a deleted by-hash file: one problem");
	snprintf(want, sizeof(want), "%s: missing (Release lists main/binary-amd64/Packages.xz with this SHA256)",
		 strstr(bh, "public/"));
	is_str(p.last, want, "names it");
	ok(link(path_of(idx, "/Packages.xz"), bh) == 0, "put it back");

	spew(bh5, "not the index\n", 14);
	is_int(run_check(&r, &p), 1, "an altered by-hash file: one problem");
	ok(strstr(p.last, "/by-hash/MD5Sum/") && strstr(p.last, ": not the main/binary-amd64/Packages Release lists: "
							      "its MD5Sum is 00987f7753ca5781d11ee2c6a9fe3504"),
	   "names it and its content's hash: %s", p.last);
	unlink(bh5);
	ok(link(path_of(idx, "/Packages"), bh5) == 0, "put it back");
	is_int(run_check(&r, &p), 0, "clean again: %s", p.last);

	/* An earlier generation, which publish keeps for clients in the middle of an update: named by its hash. */
	{
		static const char earlier[] = "Package: earlier\n";
		unsigned char md[DK_HASH_MAX];
		char hex[65], old[1300];

		dk_hash_mem(DK_SHA256, earlier, sizeof(earlier) - 1, md, NULL);
		dk_hex(md, 32, hex);
		snprintf(old, sizeof(old), "%s/by-hash/SHA256/%s", idx, hex);
		spew(old, earlier, sizeof(earlier) - 1);
		is_int(run_check(&r, &p), 0, "an earlier generation by its hash is clean: %s", p.last);
		spew(old, "Package: altered\n", 17);
		is_int(run_check(&r, &p), 1, "an earlier generation altered: one problem");
		ok(strstr(p.last, hex) && strstr(p.last, ": an earlier generation whose SHA256 is "),
		   "names it: %s", p.last);
		unlink(old);
	}

	ok(dk_sign_release(rel, rel_len, other, other_home, &re_in, &re_in_len, &re_sig, &re_sig_len, &err) == 0 &&
		   spew(path_of(d, "/InRelease"), re_in, re_in_len) == 0,
	   "InRelease re-signed with another key: %s", err.msg);
	is_int(run_check(&r, &p), 1, "one problem");
	snprintf(want, sizeof(want), "public/p/dists/signed/InRelease: does not verify with the publication's key '%s': "
		 "made by another key", fpr);
	is_str(p.last, want, "InRelease is not signed by the publication's key");
	spew(path_of(d, "/Release.gpg"), re_sig, re_sig_len);
	spew(path_of(d, "/InRelease"), inrel, inrel_len);
	is_int(run_check(&r, &p), 1, "Release.gpg by another key: one problem");
	ok(strstr(p.last, "signed/Release.gpg: does not verify over Release with the publication's key") &&
		   strstr(p.last, "made by another key"),
	   "%s", p.last);
	spew(path_of(d, "/Release.gpg"), sig, sig_len);
	free(re_in);
	free(re_sig);

	spew(path_of(d, "/Release"), rel, rel_len);
	{
		FILE *a = fopen(path_of(d, "/Release"), "a");

		ok(a && fputs("X-Edited: after signing\n", a) >= 0 && fclose(a) == 0, "edit Release after signing");
	}
	is_int(run_check(&r, &p), 2, "two problems");
	snprintf(want, sizeof(want), "public/p/dists/signed/InRelease: its signed text is not the suite's Release\n"
		 "public/p/dists/signed/Release.gpg: does not verify over Release with the publication's key '%s': "
		 "BAD signature\n", fpr);
	is_str(p.all, want, "InRelease's text is not Release, Release.gpg does not verify over it");
	spew(path_of(d, "/Release"), rel, rel_len);

	unlink(path_of(d, "/Release.gpg"));
	is_int(run_check(&r, &p), 1, "a signed publication without Release.gpg");
	snprintf(want, sizeof(want), "public/p/dists/signed/Release.gpg: missing (the publication is signed with '%s')",
		 fpr);
	is_str(p.last, want, "names it");
	spew(path_of(d, "/Release.gpg"), sig, sig_len);

	spew(path_of(plain, "/InRelease"), inrel, inrel_len);
	is_int(run_check(&r, &p), 1, "an unsigned publication with an InRelease");
	is_str(p.last, "public/p/dists/plain/InRelease: present, but publication 'p/plain' is unsigned", "names it");
	unlink(path_of(plain, "/InRelease"));

	ok(slurp(path_of(loose, "/Release"), rel, sizeof(rel), &rel_len) == 0, "read the unrecorded tree's Release");
	{
		FILE *a = fopen(path_of(loose, "/Release"), "a");

		ok(a && fputs("X-Edited: after signing\n", a) >= 0 && fclose(a) == 0, "edit the unrecorded tree's Release");
	}
	is_int(run_check(&r, &p), 1, "an unrecorded tree: InRelease and Release compared");
	is_str(p.last, "public/p/dists/loose/InRelease: its signed text is not the suite's Release", "names it");
	spew(path_of(loose, "/Release"), rel, rel_len);

	ok(rename(home, path_of(tmpdir, "/gnupg-gone")) == 0, "the publication's GnuPG home goes away");
	is_int(run_check(&r, &p), 1, "one problem");
	snprintf(want, sizeof(want), "publication 'p/signed': its signing key '%s' is not in %s: the signatures cannot "
		 "be checked", fpr, home);
	is_str(p.last, want, "the signatures cannot be checked: names the publication, the key and the home");
	ok(access(home, F_OK) != 0, "and check did not create the home");
	ok(rename(path_of(tmpdir, "/gnupg-gone"), home) == 0, "the home comes back");

	/* A publication to another directory is checked there; a recorded tree that is gone is a problem. */
	snprintf(ext, sizeof(ext), "%s/elsewhere", tmpdir);
	is_int(publish_snapshot(&r, ext, "ext", fpr, home), 0, "publish p/ext signed to another directory");
	is_int(record(&r, "ext", ext, fpr, home), 0, "record it");
	is_int(run_check(&r, &p), 0, "clean: %s", p.last);
	is_int(last_stats.trees, 4, "four suites checked: signed, plain, loose and ext");
	unlink(path_of(ext, "/p/dists/ext/Release.gpg"));
	is_int(run_check(&r, &p), 1, "its Release.gpg deleted: one problem");
	snprintf(want, sizeof(want), "%s/p/dists/ext/Release.gpg: missing (the publication is signed with '%s')", ext, fpr);
	is_str(p.last, want, "named by its full path");
	is_int(dk_publish_drop(pub, "p", "plain", &(size_t){ 0 }, &err), 0, "drop p/plain's tree, keep its record");
	is_int(run_check(&r, &p), 2, "two problems: ext's Release.gpg is still gone");
	ok(strstr(p.all, "publication 'p/plain': recorded, but public/p/dists/plain/Release is missing\n") != NULL,
	   "the recorded tree that is gone");
	dk_repo_close(&r);
	/* Signing started an agent in each home: it would outlive the test. */
	snprintf(want, sizeof(want), "gpgconf --homedir '%s' --kill gpg-agent; gpgconf --homedir '%s' --kill gpg-agent",
		 home, other_home);
	if (system(want) != 0)
		printf("# gpgconf --kill gpg-agent failed\n");
}

/* check runs SQLite's quick_check over debkeep.db and, when cve update made one, tracker.db. */
static void test_databases(void)
{
	static const unsigned char broken[8] = { 0x07, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct dk_err err = DK_ERR_INIT;
	struct problems p;
	struct dk_repo r;
	char cmd[1600], db[700];
	int fd, found;

	snprintf(root, sizeof(root), "%s/root-db", tmpdir);
	is_int(dk_repo_open(&r, root, DK_REPO_CREATE, "t", 1, &err), 0, "a third root: %s", err.msg);
	snprintf(db, sizeof(db), "%s/tracker.db", root);
	snprintf(cmd, sizeof(cmd),
		 "sqlite3 '%s' 'PRAGMA page_size=1024; CREATE TABLE t (k TEXT PRIMARY KEY, v BLOB);"
		 " WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)"
		 " INSERT INTO t SELECT \"k\" || i, zeroblob(100) FROM n;'",
		 db);
	ok(system(cmd) == 0, "a tracker.db of 2,000 rows (needs sqlite3)");
	is_int(run_check(&r, &p), 0, "debkeep.db and a sound tracker.db check clean: %s", p.last);
	fd = open(db, O_WRONLY);
	ok(fd >= 0 && pwrite(fd, broken, sizeof(broken), 1024 * 40) == (ssize_t)sizeof(broken),
	   "page 41's header overwritten");
	if (fd >= 0)
		close(fd);
	found = run_check(&r, &p);
	ok(found >= 1 && !strncmp(p.all, "tracker.db: ", 12) && strstr(p.all, "Page 41") && !strchr(p.last, '\n'),
	   "check reports the broken page, one line a problem (%d problems; the last: %s)", found, p.last);
	dk_repo_close(&r);
}

int main(void)
{
	struct dk_err err = DK_ERR_INIT;
	struct dk_repo r;
	char cmd[1024];
	char tmpl[] = "/tmp/test-maint-XXXXXX";
	char *v1[1], *v2[1];

	if (!mkdtemp(tmpl)) {
		ok(0, "temp dir");
		return tap_done();
	}
	snprintf(tmpdir, sizeof(tmpdir), "%s", tmpl);
	snprintf(world, sizeof(world), "%s/world", tmpl);
	snprintf(root, sizeof(root), "%s/root", tmpl);
	snprintf(cmd, sizeof(cmd), "'%s/make-world.sh' '%s'", FIXTURES, world);
	if (system(cmd) != 0) {
		ok(0, "fixture world built (needs dpkg-deb)");
		return tap_done();
	}
	v1[0] = path_of(world, "/v1");
	v2[0] = path_of(world, "/v2");
	is_int(dk_repo_open(&r, root, DK_REPO_CREATE, "t", 1, &err), 0, "init: %s", err.msg);
	is_int(dk_import(&r, "local", v1, 1, NULL, NULL, &(struct dk_import_stats){ 0 }, &err), 0, "import v1");
	is_int(dk_import(&r, "v2", v2, 1, NULL, NULL, &(struct dk_import_stats){ 0 }, &err), 0, "import v2");
	is_int(dk_snapshot_create_local(&r, "s1", "local", NULL, &err), 0, "snapshot s1");
	is_int(dk_snapshot_create_local(&r, "s2", "v2", NULL, &err), 0, "snapshot s2");
	test_merge_filter(&r);
	test_gc_check(&r);
	dk_repo_close(&r);
	test_signatures();
	test_databases();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpl);
	if (system(cmd) != 0)
		ok(0, "clean up");
	return tap_done();
}
