/* test-fastpaths.c - the faster paths keep their rules: publish's pool links, snapshot rows and copies */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include <debkeep/hash.h>
#include <debkeep/publish.h>
#include <debkeep/repo.h>

#include "publish-object.h"
#include "tap.h"

static char tmp[256];

static void put(const char *path, const char *content)
{
	FILE *f = fopen(path, "wb");

	if (f) {
		fputs(content, f);
		fclose(f);
	}
}

static ino_t inode(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_ino : 0;
}

#define PKG(ctl, n, v, pool) { ctl, sizeof(ctl) - 1, n, v, NULL, pool, 0, "", "", "amd64", "main" }

static void test_pool(void)
{
	static char objs[4][512];
	struct dk_publish_pkg p[] = {
		PKG("Package: alpha\nVersion: 1\nArchitecture: amd64\n", "alpha", "1", "pool/main/a/alpha/alpha_1_amd64.deb"),
		PKG("Package: alpha-doc\nVersion: 1\nArchitecture: amd64\n", "alpha-doc", "1",
		    "pool/main/a/alpha/alpha-doc_1_amd64.deb"),
		PKG("Package: beta\nVersion: 2\nArchitecture: amd64\n", "beta", "2", "pool/main/b/beta/beta_2_amd64.deb"),
		PKG("Package: gamma\nVersion: 3\nArchitecture: amd64\n", "gamma", "3", "pool/../gamma_3_amd64.deb"),
	};
	struct dk_publish_opts o = { .date = 1700000000 };
	struct dk_err err = DK_ERR_INIT;
	char tree[300];
	ino_t rel;
	int r;

	snprintf(tree, sizeof(tree), "%s/public/t", tmp);
	mkdir(tap_at("%s/objects", tmp), 0755);
	for (int i = 0; i < 4; i++) {
		snprintf(objs[i], sizeof(objs[i]), "%s/objects/%d", tmp, i);
		test_object(&p[i], objs[i], i == 1 ? "alpha-doc one" : i == 2 ? "beta two" : "alpha one");
	}

	r = dk_publish(tap_at("%s/public", tmp), "t", "s", p, 3, &o, &err);
	is_int(r, 0, "first publish: %s", err.msg);
	ok(inode(tap_at("%s/pool/main/a/alpha/alpha_1_amd64.deb", tree)) == inode(objs[0]) &&
		   inode(tap_at("%s/pool/main/a/alpha/alpha-doc_1_amd64.deb", tree)) == inode(objs[1]) &&
		   inode(tap_at("%s/pool/main/b/beta/beta_2_amd64.deb", tree)) == inode(objs[2]),
	   "pool files are hard links of the objects, their directories made");
	rel = inode(tap_at("%s/dists/s/Release", tree));

	r = dk_publish(tap_at("%s/public", tmp), "t", "s", p, 3, &o, &err);
	is_int(r, 0, "publish again over the same pool: %s", err.msg);
	ok(inode(tap_at("%s/pool/main/b/beta/beta_2_amd64.deb", tree)) == inode(objs[2]),
	   "the pool files stay as they are");
	ok(inode(tap_at("%s/dists/s/Release", tree)) != rel, "the suite was switched");
	rel = inode(tap_at("%s/dists/s/Release", tree));

	/* A file of the same size, not the object's link: accepted, as link_or_copy always did. */
	unlink(tap_at("%s/pool/main/b/beta/beta_2_amd64.deb", tree));
	put(tap_at("%s/pool/main/b/beta/beta_2_amd64.deb", tree), "beta TWO");
	r = dk_publish(tap_at("%s/public", tmp), "t", "s", p, 3, &o, &err);
	is_int(r, 0, "a pool file of the package's size is taken for it: %s", err.msg);
	rel = inode(tap_at("%s/dists/s/Release", tree));

	unlink(tap_at("%s/pool/main/b/beta/beta_2_amd64.deb", tree));
	put(tap_at("%s/pool/main/b/beta/beta_2_amd64.deb", tree), "another beta, longer");
	r = dk_publish(tap_at("%s/public", tmp), "t", "s", p, 3, &o, &err);
	ok(r == DK_EINPUT && strstr(err.msg, "beta_2_amd64.deb: already published with different content"),
	   "a pool file of another size is refused: %s", err.msg);
	ok(inode(tap_at("%s/dists/s/Release", tree)) == rel, "the live suite is left as it was");

	/* A new pool file first, then a bad path: the new file is taken back, the suite stays. */
	unlink(tap_at("%s/pool/main/b/beta/beta_2_amd64.deb", tree));
	unlink(tap_at("%s/pool/main/a/alpha/alpha-doc_1_amd64.deb", tree));
	p[2] = p[3];
	r = dk_publish(tap_at("%s/public", tmp), "t", "s", p, 3, &o, &err);
	ok(r == DK_EINPUT && strstr(err.msg, "pool path must be a relative path under pool/"),
	   "a bad pool path is refused: %s", err.msg);
	ok(access(tap_at("%s/pool/main/a/alpha/alpha-doc_1_amd64.deb", tree), F_OK) != 0,
	   "the pool file linked before the failure is removed");
	ok(access(tap_at("%s/pool/main/a/alpha/alpha_1_amd64.deb", tree), F_OK) == 0, "an older pool file stays");
	ok(inode(tap_at("%s/dists/s/Release", tree)) == rel, "the live suite is left as it was");

	/* A pool directory that cannot be made. */
	mkdir(tap_at("%s/public/u", tmp), 0755);
	mkdir(tap_at("%s/public/u/pool", tmp), 0755);
	mkdir(tap_at("%s/public/u/pool/main", tmp), 0755);
	put(tap_at("%s/public/u/pool/main/a", tmp), "a file where a directory goes");
	r = dk_publish(tap_at("%s/public", tmp), "u", "s", p, 2, &o, &err);
	ok(r < 0 && strstr(err.msg, "pool/main/a"), "a pool directory that cannot be made fails naming it: %s",
	   err.msg);
	ok(access(tap_at("%s/public/u/dists/s", tmp), F_OK) != 0, "and nothing is published");
}

static int foreign_keys(struct dk_repo *r)
{
	sqlite3_stmt *s;
	int v = -1;

	if (sqlite3_prepare_v2(r->db.h, "PRAGMA foreign_keys", -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return v;
}

static int count(void *ctx, const struct dk_snapshot_pkg *p)
{
	(void)p;
	++*(int *)ctx;
	return 0;
}

static void test_snapshot(void)
{
	struct dk_err err = DK_ERR_INIT;
	struct dk_snapshot_info info;
	const char *src[] = { "s1" };
	char *deb[] = { FIXTURES "/good" };
	struct dk_repo r;
	int n = 0, ret;

	if (dk_repo_open(&r, tap_at("%s/root", tmp), DK_REPO_CREATE, "t", 1, &err) < 0 ||
	    dk_import(&r, "local", deb, 1, NULL, NULL, &(struct dk_import_stats){ 0 }, &err) < 0) {
		ok(0, "root with one imported package: %s", err.msg);
		return;
	}
	is_int(dk_snapshot_create_local(&r, "s1", "local", "first", &err), 0, "snapshot create: %s", err.msg);
	is_int(foreign_keys(&r), 1, "foreign keys are on again after a create");
	ok(dk_snapshot_get(&r, "s1", &info, &err) == 0 && info.count == 1 && !strcmp(info.origin, "local:local") &&
		   !strcmp(info.description, "first") && strlen(info.created) == 20,
	   "the row: one member, origin, description, UTC stamp");
	dk_snapshot_info_release(&info);
	ok(dk_snapshot_packages(&r, "s1", count, &n, &err) == 0 && n == 1, "its member is listed");

	ret = dk_snapshot_create_local(&r, "s1", "local", NULL, &err);
	ok(ret == DK_EINPUT && strstr(err.msg, "snapshot 's1': exists already"), "create: a taken name: %s", err.msg);
	is_int(foreign_keys(&r), 1, "foreign keys are on again after a failed create");
	ret = dk_snapshot_create_local(&r, "a/b", "nosuch", NULL, &err);
	ok(ret == DK_EINPUT && strstr(err.msg, "invalid name"), "create: the name is checked first: %s", err.msg);
	ret = dk_snapshot_create_local(&r, "s2", "nosuch", NULL, &err);
	ok(ret == DK_EINPUT && strstr(err.msg, "collection 'nosuch': unknown collection"),
	   "create: an unknown collection: %s", err.msg);
	is_int(foreign_keys(&r), 1, "foreign keys are on again");
	ret = dk_snapshot_merge(&r, "s1", src, 1, false, NULL, &err);
	ok(ret == DK_EINPUT && strstr(err.msg, "exists already"), "merge: a taken name: %s", err.msg);
	ret = dk_snapshot_merge(&r, "a b", src, 1, false, NULL, &err);
	ok(ret == DK_EINPUT && strstr(err.msg, "invalid name"), "merge: a bad name: %s", err.msg);
	is_int(dk_snapshot_merge(&r, "m", src, 1, false, "merged", &err), 0, "merge: %s", err.msg);
	ok(dk_snapshot_get(&r, "m", &info, &err) == 0 && info.count == 1 && !strcmp(info.origin, "merge:s1"),
	   "merge row and member");
	dk_snapshot_info_release(&info);
	dk_repo_close(&r);
}

int main(void)
{
	char tmpl[] = "/tmp/test-fastpaths-XXXXXX";
	char cmd[600];

	if (!mkdtemp(tmpl)) {
		ok(0, "temp dir");
		return tap_done();
	}
	snprintf(tmp, sizeof(tmp), "%s", tmpl);
	test_pool();
	test_snapshot();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	if (system(cmd) != 0)
		ok(0, "clean up");
	return tap_done();
}
