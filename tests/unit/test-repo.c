/* test-repo.c - the data root: lock, objects, import of a fixture world of .debs, snapshots */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <debkeep/hash.h>
#include <debkeep/repo.h>

#include "tap.h"

#define REPO_FIXTURES FIXTURES "/../../fixtures/repo"

static char world[256], root[300];

/* dir + rel in one of a few static buffers, so several can be used in one expression. */
static char *path_of(const char *dir, const char *rel)
{
	static char buf[8][600];
	static int i;

	i = (i + 1) % 8;
	snprintf(buf[i], sizeof(buf[i]), "%s%s", dir, rel);
	return buf[i];
}

/* Files under dir, recursively. */
static int count_files(const char *dir)
{
	struct dirent *de;
	int n = 0;
	DIR *d = opendir(dir);

	if (!d)
		return 0;
	while ((de = readdir(d)) != NULL) {
		char sub[1024];
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name);
		if (stat(sub, &st) == 0)
			n += S_ISDIR(st.st_mode) ? count_files(sub) : 1;
	}
	closedir(d);
	return n;
}

static int read_deb(const char *file, struct dk_debinfo *d, struct dk_err *err)
{
	static char data[1 << 20];
	FILE *f = fopen(file, "rb");
	size_t n;

	if (!f)
		return dk_err_set(err, DK_EIO, "%s: cannot open", file);
	n = fread(data, 1, sizeof(data), f);
	fclose(f);
	return dk_deb_read(file, data, n, d, err);
}

static void test_deb_read(void)
{
	struct dk_err err = DK_ERR_INIT;
	struct dk_debinfo d;
	unsigned char md[32];
	char hex[65];
	char *file = path_of(world, "/v1/bar-tools_0.9-3_amd64.deb");

	is_int(read_deb(file, &d, &err), 0, "bar-tools reads: %s", err.msg);
	is_str(d.name, "bar-tools", "name");
	is_str(d.version, "1:0.9-3", "version with epoch");
	is_str(d.arch, "amd64", "arch");
	is_str(d.source, "bar", "source from 'Source: bar (0.9-3)'");
	is_str(d.source_version, "0.9-3", "source version from the parentheses");
	ok(strncmp(d.control, "Package: bar-tools\n", 19) == 0 && strstr(d.control, "Depends: libbar2"),
	   "the full control stanza is kept");
	dk_hash_file(DK_SHA256, file, md, &err);
	dk_hex(md, 32, hex);
	is_str(d.sha256, hex, "sha256 of the whole file");
	dk_debinfo_release(&d);

	is_int(read_deb(path_of(world, "/v1/libc6_2.36-9_amd64.deb"), &d, &err), 0, "libc6 reads");
	is_str(d.source_version, "2.36-9", "source version defaults to the version");
	dk_debinfo_release(&d);

	is_int(read_deb(REPO_FIXTURES "/not-a-deb.deb", &d, &err), DK_EINPUT, "not an ar archive");
	ok(strstr(err.msg, "not a .deb (not an ar archive)") != NULL, "message: %s", err.msg);
	is_int(read_deb(REPO_FIXTURES "/bad-dotdot.deb", &d, &err), DK_EINPUT, "control member with ../");
	ok(strstr(err.msg, "unsafe member name '../control'") != NULL, "message: %s", err.msg);
	is_int(read_deb(REPO_FIXTURES "/bad-no-control.deb", &d, &err), DK_EINPUT, "no control file");
	ok(strstr(err.msg, "no control file") != NULL, "message: %s", err.msg);
	is_int(read_deb(REPO_FIXTURES "/bad-version.deb", &d, &err), DK_EINPUT, "invalid version");
	ok(strstr(err.msg, "Version") != NULL, "message: %s", err.msg);
}

static void test_pool_path(void)
{
	char p[256];

	dk_pool_path("foo", "libfoo1", "1.2-1", "amd64", p, sizeof(p));
	is_str(p, "pool/main/f/foo/libfoo1_1.2-1_amd64.deb", "pool path by source");
	dk_pool_path("libbar", "libbar2", "2:0.9-3", "arm64", p, sizeof(p));
	is_str(p, "pool/main/libb/libbar/libbar2_0.9-3_arm64.deb", "lib prefix, no epoch");
	ok(dk_pool_path("foo", "foo", "1", "all", p, 10) < 0, "too small a buffer is an error");
}

static void test_lock(void)
{
	struct dk_err err = DK_ERR_INIT;
	int fd = -1, fd2 = -1;

	is_int(dk_lock_take(root, "debkeep import x.deb", 1, &fd, &err), 0, "lock taken");
	/* flock conflicts between two open files even in one process. */
	is_int(dk_lock_take(root, "debkeep snapshot create y", 0.1, &fd2, &err), DK_EINPUT, "second writer fails");
	ok(strstr(err.msg, "held by another writer") && strstr(err.msg, "'debkeep import x.deb'"),
	   "names the holder: %s", err.msg);
	{
		char pid[32];

		snprintf(pid, sizeof(pid), "pid %ld,", (long)getpid());
		ok(strstr(err.msg, pid) != NULL, "with its pid");
	}
	dk_lock_release(fd);
	is_int(dk_lock_take(root, "debkeep snapshot create y", 0.1, &fd2, &err), 0, "free again after release");
	dk_lock_release(fd2);
}

struct seen {
	int n;
	char name[64];
};

static void on_rebuilt(void *ctx, const char *file, const char *name, const char *version, const char *arch,
		       const char *old_sha, const char *new_sha)
{
	struct seen *s = ctx;

	s->n++;
	snprintf(s->name, sizeof(s->name), "%s %s %s", name, version, arch);
}

struct changes {
	int n, added, removed, upgraded, rebuilt;
	char first[128];
};

static int on_change(void *ctx, const struct dk_snapshot_change *c)
{
	struct changes *ch = ctx;

	if (ch->n++ == 0)
		snprintf(ch->first, sizeof(ch->first), "%s %s %s %s", c->source, c->name,
			 c->old_version ? c->old_version : "-", c->new_version ? c->new_version : "-");
	ch->added += c->kind == DK_CHANGE_ADDED;
	ch->removed += c->kind == DK_CHANGE_REMOVED;
	ch->upgraded += c->kind == DK_CHANGE_UPGRADED;
	ch->rebuilt += c->kind == DK_CHANGE_REBUILT;
	return 0;
}

static int kmod_sha(void *ctx, const struct dk_snapshot_pkg *p)
{
	if (strcmp(p->name, "kmod-acme") == 0)
		snprintf(ctx, 65, "%s", p->sha256);
	return 0;
}

struct bar_tools {
	char filename[128], md5[33];
	bool control_ok;
};

static int find_bar_tools(void *ctx, const struct dk_snapshot_pkg *p)
{
	struct bar_tools *b = ctx;

	if (strcmp(p->name, "bar-tools") == 0) {
		snprintf(b->filename, sizeof(b->filename), "%s", p->filename);
		snprintf(b->md5, sizeof(b->md5), "%s", p->md5);
		b->control_ok = strncmp(p->control, "Package: bar-tools\n", 19) == 0 &&
				p->control[strlen(p->control) - 1] != '\n';
	}
	return 0;
}

static void test_repo(void)
{
	struct dk_err err = DK_ERR_INIT;
	struct dk_import_stats st;
	struct dk_snapshot_info info;
	struct changes ch = { 0 };
	struct seen seen = { 0 };
	struct dk_repo r;
	char *v1[] = { path_of(world, "/v1") }, *v2[] = { path_of(world, "/v2") };
	char *rb[] = { path_of(world, "/rebuilt") };
	char *bad[] = { path_of(world, "/v2"), REPO_FIXTURES "/bad-dotdot.deb" };
	char obj[600], sha_before[65] = "", sha_after[65] = "";
	struct stat sb;
	int objects;

	is_int(dk_repo_open(&r, root, 0, "t", 1, &err), DK_EINPUT, "no root yet");
	ok(strstr(err.msg, "run 'debkeep init'") != NULL, "says to run init: %s", err.msg);
	is_int(dk_repo_open(&r, root, DK_REPO_CREATE, "t", 1, &err), 0, "init: %s", err.msg);
	dk_repo_close(&r);
	is_int(dk_repo_open(&r, root, DK_REPO_WRITE, "t", 1, &err), 0, "open for writing");

	is_int(dk_import(&r, "local", v1, 1, on_rebuilt, &seen, &st, &err), 0, "import v1: %s", err.msg);
	is_int(st.files, 26, "26 files read");
	is_int(st.added, 26, "26 packages added");
	is_int(count_files(path_of(root, "/objects")), 26, "26 objects");
	is_int(count_files(path_of(root, "/tmp")), 0, "nothing left in tmp/");
	{
		struct dk_debinfo d;

		read_deb(path_of(world, "/v1/hello_1.0-1_amd64.deb"), &d, &err);
		dk_store_path(root, d.sha256, obj, sizeof(obj));
		ok(stat(obj, &sb) == 0 && (sb.st_mode & 0777) == 0444 && (uint64_t)sb.st_size == d.size,
		   "object under objects/ab/cdef..., read-only");
		dk_debinfo_release(&d);
	}
	is_int(dk_import(&r, "local", v1, 1, on_rebuilt, &seen, &st, &err), 0, "import v1 again");
	is_int(st.added, 0, "nothing new");
	is_int(st.present, 26, "all already stored");

	is_int(dk_snapshot_create_local(&r, "rel1", "local", "first", &err), 0, "snapshot rel1: %s", err.msg);
	is_int(dk_snapshot_create_local(&r, "rel1", "local", NULL, &err), DK_EINPUT, "a snapshot name is used once");
	ok(strstr(err.msg, "exists already") != NULL, "message: %s", err.msg);
	is_int(dk_snapshot_create_local(&r, "x", "nosuch", NULL, &err), DK_EINPUT, "unknown collection");
	is_int(dk_snapshot_get(&r, "rel1", &info, &err), 0, "rel1 found");
	is_int(info.count, 26, "rel1 has 26 packages");
	is_str(info.origin, "local:local", "origin");
	is_str(info.description, "first", "description");
	dk_snapshot_info_release(&info);
	{
		struct bar_tools b = { { 0 }, { 0 }, false };

		is_int(dk_snapshot_packages(&r, "rel1", find_bar_tools, &b, &err), 0, "members of rel1");
		is_str(b.filename, "pool/main/b/bar/bar-tools_0.9-3_amd64.deb", "pool path: source, no epoch");
		is_int(strlen(b.md5), 32, "md5 for Packages");
		ok(b.control_ok, "the control stanza, no trailing newline");
	}
	is_int(dk_snapshot_get(&r, "nosuch", &info, &err), DK_EINPUT, "unknown snapshot");
	is_str(err.msg, "snapshot 'nosuch': unknown snapshot", "message");

	is_int(dk_import(&r, "next", v2, 1, NULL, NULL, &st, &err), 0, "import v2 into next");
	is_int(st.added, 2, "two new packages");
	is_int(st.present, 24, "24 shared with v1");
	is_int(dk_snapshot_create_local(&r, "rel2", "next", NULL, &err), 0, "snapshot rel2");
	is_int(dk_snapshot_diff(&r, "rel1", "rel2", on_change, &ch, &err), 0, "diff rel1 rel2");
	is_int(ch.n, 3, "three changes");
	is_int(ch.upgraded, 1, "hello upgraded");
	is_int(ch.removed, 1, "oldtool removed");
	is_int(ch.added, 1, "newtool added");
	is_str(ch.first, "hello hello 1.0-1 1.1-1", "grouped by source, both versions");
	memset(&ch, 0, sizeof(ch));
	is_int(dk_snapshot_diff(&r, "rel1", "rel1", on_change, &ch, &err), 0, "diff with itself");
	is_int(ch.n, 0, "no changes");
	is_int(dk_snapshot_diff(&r, "rel1", "nosuch", on_change, &ch, &err), DK_EINPUT, "diff: unknown snapshot");

	dk_snapshot_packages(&r, "rel2", kmod_sha, sha_before, &err);
	is_int(dk_import(&r, "next", rb, 1, on_rebuilt, &seen, &st, &err), 0, "import the rebuilt package");
	is_int(st.rebuilt, 1, "reported as rebuilt");
	is_int(seen.n, 1, "through the callback");
	is_str(seen.name, "kmod-acme 1.0-1 amd64", "naming it");
	is_int(count_files(path_of(root, "/objects")), 29, "stored as a second object");
	is_int(dk_snapshot_create_local(&r, "rel3", "next", NULL, &err), 0, "snapshot rel3");
	memset(&ch, 0, sizeof(ch));
	is_int(dk_snapshot_diff(&r, "rel2", "rel3", on_change, &ch, &err), 0, "diff rel2 rel3");
	is_int(ch.rebuilt, 1, "one rebuilt");
	is_int(ch.n, 1, "and nothing else");
	dk_snapshot_packages(&r, "rel2", kmod_sha, sha_after, &err);
	ok(sha_before[0] && strcmp(sha_before, sha_after) == 0, "rel2 still names the old kmod-acme");

	objects = count_files(path_of(root, "/objects"));
	is_int(dk_import(&r, "broken", bad, 2, NULL, NULL, &st, &err), DK_EINPUT, "a bad file fails the import");
	ok(strstr(err.msg, "bad-dotdot.deb: control.tar.gz: unsafe member name '../control'") != NULL, "message: %s",
	   err.msg);
	is_int(count_files(path_of(root, "/objects")), objects, "no object written");
	is_int(count_files(path_of(root, "/tmp")), 0, "nothing left in tmp/");
	is_int(dk_snapshot_create_local(&r, "x", "broken", NULL, &err), DK_EINPUT, "no collection created");

	is_int(dk_db_exec(&r.db, "INSERT INTO snapshot_uses SELECT id, 'publication', 'stable' FROM snapshots"
				 " WHERE name = 'rel1'",
			  &err),
	       0, "a publication uses rel1");
	is_int(dk_snapshot_drop(&r, "rel1", &err), DK_EINPUT, "drop refused");
	is_str(err.msg, "snapshot 'rel1': in use by publication 'stable'", "message");
	ok(dk_db_exec(&r.db, "UPDATE snapshot_members SET package_id = 1", &err) < 0, "members never change");
	is_int(dk_snapshot_drop(&r, "rel2", &err), 0, "drop rel2");
	is_int(dk_snapshot_get(&r, "rel2", &info, &err), DK_EINPUT, "rel2 gone");
	is_int(dk_snapshot_drop(&r, "rel2", &err), DK_EINPUT, "drop an unknown snapshot");
	dk_repo_close(&r);

	is_int(dk_repo_open(&r, root, 0, "t", 1, &err), 0, "a reader opens without the lock");
	is_int(r.lock_fd, -1, "and holds none");
	dk_repo_close(&r);
}

int main(void)
{
	char cmd[1024];
	char tmpl[] = "/tmp/test-repo-XXXXXX";

	if (!mkdtemp(tmpl)) {
		ok(0, "temp dir");
		return tap_done();
	}
	snprintf(world, sizeof(world), "%s/world", tmpl);
	snprintf(root, sizeof(root), "%s/root", tmpl);
	snprintf(cmd, sizeof(cmd), "'%s/make-world.sh' '%s'", REPO_FIXTURES, world);
	if (system(cmd) != 0) {
		ok(0, "fixture world built (needs dpkg-deb)");
		return tap_done();
	}
	test_deb_read();
	test_pool_path();
	mkdir(root, 0755);
	test_lock();
	rmdir(root);
	unlink(path_of(root, "/lock"));
	test_repo();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpl);
	if (system(cmd) != 0)
		ok(0, "clean up");
	return tap_done();
}
