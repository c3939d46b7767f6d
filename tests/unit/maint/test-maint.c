/* test-maint.c - repository maintenance: gc, check, snapshot merge and filter, publish drop and prune */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
};

static int on_problem(void *ctx, const char *where, const char *what)
{
	struct problems *p = ctx;

	p->n++;
	snprintf(p->last, sizeof(p->last), "%s: %s", where, what);
	return 0;
}

static int run_check(struct dk_repo *r, struct problems *p)
{
	struct dk_check_stats st;
	struct dk_err err = DK_ERR_INIT;

	memset(p, 0, sizeof(*p));
	if (dk_check(r, on_problem, p, &st, &err) < 0) {
		printf("# check failed: %s\n", err.msg);
		return -1;
	}
	return (int)st.problems;
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
	char pub[600], pool[1000], junk[900], obj[600];
	struct dk_publish_pkg pk = { 0 };
	char *storage = NULL;
	unsigned char b;
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

	/* A dead process's staging file, and an orphan object (a crash before the transaction): empty content. */
	snprintf(junk, sizeof(junk), "%s/tmp/obj-999999-0-%s", root, hello1.sha);
	if ((fd = open(junk, O_WRONLY | O_CREAT, 0444)) >= 0)
		close(fd);
	snprintf(obj, sizeof(obj), "%s", object_of("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
	if ((fd = open(obj, O_WRONLY | O_CREAT, 0444)) >= 0)
		close(fd);
	is_int(run_check(r, &p), 0, "an object nothing names is not a problem");
	is_int(dk_gc(r, true, &gs, &err), 0, "gc --dry-run");
	ok(gs.tmp == 1 && gs.objects == 1, "dry run finds the staging file and the orphan");
	ok(access(junk, F_OK) == 0 && access(obj, F_OK) == 0, "and leaves them");
	is_int(dk_gc(r, false, &gs, &err), 0, "gc");
	ok(access(junk, F_OK) != 0 && access(obj, F_OK) != 0, "gc removes both");

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
	ok(strstr(p.last, "size 9, the index says"), "its size: %s", p.last);
	unlink(pool);
	is_int(run_check(r, &p), 2, "a missing pool file");
	ok(strstr(p.last, "named by a Packages index, missing"), "reported: %s", p.last);

	is_int(dk_publish_drop(pub, "p", "s", &pruned, &err), 0, "publish drop");
	ok(access(path_of(pub, "/p/dists/s"), F_OK) != 0, "the suite is gone");
	is_int(dk_publish_drop(pub, "p", "s", &pruned, &err), DK_NOTFOUND, "dropping it again: not found");
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
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpl);
	if (system(cmd) != 0)
		ok(0, "clean up");
	return tap_done();
}
