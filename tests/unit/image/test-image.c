/* test-image.c - unit tests for lib/image: safe unpacking of hostile .debs, normalisation, deterministic packing */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include <debkeep/buf.h>
#include <debkeep/err.h>
#include <debkeep/hash.h>
#include <debkeep/image.h>

#include "tap.h"

static char tmp[256];

/* One member of a test tar: type 'f' file, 'd' dir, 'l' symlink, 'h' hard link, 'c' char device, 'p' fifo. */
struct ent {
	char type;
	const char *name;
	const char *arg; /* file content, link target */
	unsigned mode;
	unsigned uid, gid;
};

static void tar_of(const struct ent *v, size_t n, struct dk_buf *out)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	size_t used = 0;
	static char mem[1 << 20];

	archive_write_set_format_ustar(a);
	/* Only pax has sparse files. */
	for (size_t i = 0; i < n; i++)
		if (v[i].type == 's')
			archive_write_set_format_pax(a);
	archive_write_open_memory(a, mem, sizeof(mem), &used);
	for (size_t i = 0; i < n; i++) {
		archive_entry_clear(e);
		archive_entry_set_pathname(e, v[i].name);
		archive_entry_set_mtime(e, 1600000000, 0);
		archive_entry_set_uid(e, v[i].uid);
		archive_entry_set_gid(e, v[i].gid);
		switch (v[i].type) {
		case 'f':
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_size(e, (la_int64_t)strlen(v[i].arg));
			break;
		case 's':
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_size(e, (la_int64_t)1 << 40);
			archive_entry_sparse_add_entry(e, 0, (la_int64_t)strlen(v[i].arg));
			break;
		case 'd':
			archive_entry_set_filetype(e, AE_IFDIR);
			break;
		case 'l':
			archive_entry_set_filetype(e, AE_IFLNK);
			archive_entry_set_symlink(e, v[i].arg);
			break;
		case 'h':
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_hardlink(e, v[i].arg);
			break;
		case 'c':
			archive_entry_set_filetype(e, AE_IFCHR);
			archive_entry_set_rdev(e, 0x0103);
			break;
		case 'p':
			archive_entry_set_filetype(e, AE_IFIFO);
			break;
		}
		archive_entry_set_perm(e, v[i].mode ? v[i].mode : (v[i].type == 'd' ? 0755 : 0644));
		archive_write_header(a, e);
		if (v[i].type == 'f' || v[i].type == 's')
			archive_write_data(a, v[i].arg, strlen(v[i].arg));
	}
	archive_write_close(a);
	archive_write_free(a);
	archive_entry_free(e);
	dk_buf_reset(out);
	dk_buf_add(out, mem, used);
}

struct member {
	const char *name;
	const struct dk_buf *data;
};

static void ar_of(const char *path, const struct member *m, size_t n)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();

	archive_write_set_format_ar_svr4(a);
	archive_write_open_filename(a, path);
	for (size_t i = 0; i < n; i++) {
		archive_entry_clear(e);
		archive_entry_set_pathname(e, m[i].name);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, (la_int64_t)m[i].data->len);
		archive_write_header(a, e);
		archive_write_data(a, m[i].data->data, m[i].data->len);
	}
	archive_write_close(a);
	archive_write_free(a);
	archive_entry_free(e);
}

static const struct ent control_ents[] = {
	{ 'f', "./control", "Package: t\nVersion: 1\nArchitecture: amd64\n", 0, 0, 0 },
	{ 'f', "./md5sums", "d41d8cd98f00b204e9800998ecf8427e  usr/share/t/a\n", 0, 0, 0 },
	{ 'f', "./conffiles", "/etc/t.conf\n", 0, 0, 0 },
	{ 'f', "./postinst", "#!/bin/sh\nexit 0\n", 0755, 0, 0 },
};

/* A .deb at path with the given data members; data == NULL gives the member order in names instead. */
static void deb_of(const char *path, const struct ent *data, size_t n)
{
	struct dk_buf bin = DK_BUF_INIT, ctl = DK_BUF_INIT, dat = DK_BUF_INIT;

	dk_buf_adds(&bin, "2.0\n");
	tar_of(control_ents, 4, &ctl);
	tar_of(data, n, &dat);
	ar_of(path, (struct member[]){ { "debian-binary", &bin }, { "control.tar", &ctl }, { "data.tar", &dat } }, 3);
	dk_buf_release(&bin);
	dk_buf_release(&ctl);
	dk_buf_release(&dat);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p);
}

static void rm_rf(const char *p)
{
	nftw(p, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int fresh_root(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", tmp, name);
	rm_rf(out);
	mkdir(out, 0755);
	return open(out, O_RDONLY | O_DIRECTORY);
}

static char *slurp(const char *path)
{
	static char buf[4096];
	int fd = open(path, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		close(fd);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return buf;
}

static int unpack(int rootfd, const char *deb, unsigned flags, struct dk_err *err)
{
	struct dk_image_pkg p = { "t", "1", "amd64", "t", "1", deb, NULL, "Package: t\nVersion: 1", false, false };

	dk_err_clear(err);
	return dk_image_unpack(rootfd, &p, flags, err);
}

static void test_good(void)
{
	static const struct ent data[] = {
		{ 'd', "./", NULL, 0, 0, 0 },
		{ 'd', "./usr/", NULL, 0, 0, 0 },
		{ 'd', "./usr/share/", NULL, 0, 0, 0 },
		{ 'd', "./usr/share/t/", NULL, 0700, 0, 0 },
		{ 'f', "./usr/share/t/a", "hello\n", 04755, 0, 0 },
		{ 'l', "./usr/share/t/abs", "/etc/passwd", 0, 0, 0 },
		{ 'l', "./usr/share/t/up", "../../../../../..", 0, 0, 0 },
		{ 'h', "./usr/share/t/b", "./usr/share/t/a", 0, 0, 0 },
		{ 'd', "./etc/", NULL, 0, 0, 0 },
		{ 'f', "./etc/t.conf", "x=1\n", 0600, 0, 0 },
	};
	char root[512], path[600], deb[512];
	struct dk_err err = DK_ERR_INIT;
	struct stat st, st2;
	int fd = fresh_root(root, sizeof(root), "good");
	char *s;

	snprintf(deb, sizeof(deb), "%s/good.deb", tmp);
	deb_of(deb, data, sizeof(data) / sizeof(data[0]));
	umask(077);
	is_int(unpack(fd, deb, DK_UNPACK_NO_DEVICES | DK_UNPACK_DPKG_INFO, &err), 0, "a good .deb unpacks: %s",
	       err.msg);
	umask(022);
	snprintf(path, sizeof(path), "%s/usr/share/t/a", root);
	ok(stat(path, &st) == 0 && (st.st_mode & 07777) == 04755, "file mode kept exactly (umask ignored)");
	ok(st.st_mtime == 1600000000, "file mtime kept");
	s = slurp(path);
	is_str(s, "hello\n", "file content");
	snprintf(path, sizeof(path), "%s/usr/share/t/b", root);
	ok(stat(path, &st2) == 0 && st2.st_ino == st.st_ino, "hard link inside the root is a hard link");
	snprintf(path, sizeof(path), "%s/usr/share/t", root);
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0700, "directory mode kept");
	snprintf(path, sizeof(path), "%s/usr/share/t/abs", root);
	ok(lstat(path, &st) == 0 && S_ISLNK(st.st_mode), "a symlink may point anywhere: it is data");
	snprintf(path, sizeof(path), "%s/var/lib/dpkg/info/t.list", root);
	s = slurp(path);
	is_str(s, "/.\n/usr\n/usr/share\n/usr/share/t\n/usr/share/t/a\n/usr/share/t/abs\n/usr/share/t/up\n"
		  "/usr/share/t/b\n/etc\n/etc/t.conf\n", "PKG.list as dpkg writes it");
	snprintf(path, sizeof(path), "%s/var/lib/dpkg/info/t.conffiles", root);
	s = slurp(path);
	is_str(s, "/etc/t.conf\n", "PKG.conffiles from the control member");
	snprintf(path, sizeof(path), "%s/var/lib/dpkg/info/t.postinst", root);
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0755, "maintainer script keeps its mode");
	snprintf(path, sizeof(path), "%s/var/lib/dpkg/info/t.control", root);
	ok(stat(path, &st) != 0, "the control file itself is not an info file");

	/* Unpacking again replaces files in place (.dpkg-new and rename) and merges directories. */
	is_int(unpack(fd, deb, DK_UNPACK_DPKG_INFO, &err), 0, "the same .deb unpacks over itself: %s", err.msg);
	snprintf(path, sizeof(path), "%s/usr/share/t/a.dpkg-new", root);
	ok(stat(path, &st) != 0, "no .dpkg-new left behind");
	close(fd);
}

/* Every hostile archive fails with "escapes the root" (or its own message) and writes nothing outside. */
static void test_hostile(void)
{
	static const struct ent dotdot[] = { { 'd', "./", NULL, 0, 0, 0 }, { 'f', "./../outside-dotdot", "x", 0, 0, 0 } };
	static const struct ent deep[] = { { 'd', "./usr/", NULL, 0, 0, 0 }, { 'f', "usr/../../outside-deep", "x", 0, 0, 0 } };
	static const struct ent absolute[] = { { 'f', "/tmp/debkeep-test-absolute", "x", 0, 0, 0 } };
	static const struct ent through[] = {
		{ 'l', "./evil", "..", 0, 0, 0 },
		{ 'f', "./evil/outside-through", "x", 0, 0, 0 },
	};
	static const struct ent through_abs[] = {
		{ 'l', "./evil", "/tmp", 0, 0, 0 },
		{ 'f', "./evil/debkeep-test-through-abs", "x", 0, 0, 0 },
	};
	static const struct ent hard[] = { { 'h', "./hl", "../outside-target", 0, 0, 0 } };
	static const struct ent hard_sym[] = {
		{ 'l', "./up", "..", 0, 0, 0 },
		{ 'h', "./hl", "./up/outside-target", 0, 0, 0 },
	};
	static const struct ent dev[] = { { 'c', "./dev-null", NULL, 0666, 0, 0 } };
	static const struct ent fifo[] = { { 'p', "./fifo", NULL, 0644, 0, 0 } };
	static const struct ent sparse[] = { { 's', "./sparse", "one byte and a terabyte of hole", 0, 0, 0 } };
	static const struct {
		const char *what;
		const struct ent *v;
		size_t n;
		const char *msg;
	} cases[] = {
		{ "../ member", dotdot, 2, "t: data.tar: ./../outside-dotdot: escapes the root" },
		{ "a/../../ member", deep, 2, "escapes the root" },
		{ "absolute member", absolute, 1, "t: data.tar: /tmp/debkeep-test-absolute: escapes the root" },
		{ "file through a symlink to ..", through, 2, "t: data.tar: ./evil/outside-through: escapes the root" },
		{ "file through an absolute symlink", through_abs, 2, "escapes the root" },
		{ "hard link to ../", hard, 1, "t: data.tar: ./hl: escapes the root" },
		{ "hard link through a symlink out", hard_sym, 2, "escapes the root" },
		{ "device node in extract mode", dev, 1,
		  "t: data.tar: ./dev-null: device node refused in extract mode" },
		{ "fifo in extract mode", fifo, 1, "t: data.tar: ./fifo: fifo refused in extract mode" },
		{ "sparse file", sparse, 1, "t: data.tar: ./sparse: sparse file refused" },
	};
	char root[512], deb[512], path[600];
	struct dk_err err = DK_ERR_INIT;
	struct stat st;

	/* The target of the hard link tests exists beside the root. */
	snprintf(path, sizeof(path), "%s/outside-target", tmp);
	close(open(path, O_WRONLY | O_CREAT, 0644));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int fd = fresh_root(root, sizeof(root), "hostile");
		int r;

		snprintf(deb, sizeof(deb), "%s/hostile.deb", tmp);
		deb_of(deb, cases[i].v, cases[i].n);
		r = unpack(fd, deb, DK_UNPACK_NO_DEVICES | DK_UNPACK_DPKG_INFO, &err);
		is_int(r, DK_EINPUT, "%s: refused", cases[i].what);
		if (!ok(strstr(err.msg, cases[i].msg) != NULL, "%s: message names it", cases[i].what))
			printf("#   got \"%s\"\n", err.msg);
		close(fd);
	}
	snprintf(path, sizeof(path), "%s/outside-dotdot", tmp);
	ok(stat(path, &st) != 0, "nothing written beside the root (..)");
	snprintf(path, sizeof(path), "%s/outside-deep", tmp);
	ok(stat(path, &st) != 0, "nothing written beside the root (a/../..)");
	snprintf(path, sizeof(path), "%s/outside-through", tmp);
	ok(stat(path, &st) != 0, "nothing written through a symlink");
	ok(stat("/tmp/debkeep-test-absolute", &st) != 0 && stat("/tmp/debkeep-test-through-abs", &st) != 0,
	   "nothing written at an absolute path");
	snprintf(path, sizeof(path), "%s/hostile/hl", tmp);
	ok(stat(path, &st) != 0, "no hard link to a file outside");
}

static void test_members(void)
{
	struct dk_buf bin = DK_BUF_INIT, ctl = DK_BUF_INIT, dat = DK_BUF_INIT, junk = DK_BUF_INIT;
	static const struct ent data[] = { { 'f', "./a", "x", 0, 0, 0 } };
	struct dk_err err = DK_ERR_INIT;
	char root[512], deb[512];
	int fd = fresh_root(root, sizeof(root), "members");

	snprintf(deb, sizeof(deb), "%s/members.deb", tmp);
	dk_buf_adds(&bin, "2.0\n");
	dk_buf_adds(&junk, "junk");
	tar_of(control_ents, 4, &ctl);
	tar_of(data, 1, &dat);
	ar_of(deb, (struct member[]){ { "debian-binary", &bin }, { "control.tar", &ctl }, { "extra", &junk },
				      { "data.tar", &dat } }, 4);
	is_int(unpack(fd, deb, 0, &err), DK_EINPUT, "a member with another name before data.tar is refused");
	is_str(err.msg, "t: unexpected member 'extra' before data.tar", "message names the member");
	ar_of(deb, (struct member[]){ { "debian-binary", &bin }, { "data.tar", &dat }, { "control.tar", &ctl } }, 3);
	is_int(unpack(fd, deb, 0, &err), DK_EINPUT, "data.tar before control.tar is refused");
	ar_of(deb, (struct member[]){ { "control.tar", &ctl }, { "debian-binary", &bin }, { "data.tar", &dat } }, 3);
	is_int(unpack(fd, deb, 0, &err), DK_EINPUT, "debian-binary not first is refused");
	ar_of(deb, (struct member[]){ { "debian-binary", &bin }, { "_sig", &junk }, { "control.tar", &ctl },
				      { "data.tar", &dat } }, 4);
	is_int(unpack(fd, deb, 0, &err), 0, "a '_' member is skipped, as dpkg does: %s", err.msg);
	ar_of(deb, (struct member[]){ { "debian-binary", &bin }, { "control.tar", &ctl } }, 2);
	is_int(unpack(fd, deb, 0, &err), DK_EINPUT, "no data.tar is refused");
	is_str(err.msg, "t: not a .deb (no data.tar member)", "message says what is missing");
	dk_buf_release(&bin);
	dk_buf_release(&ctl);
	dk_buf_release(&dat);
	dk_buf_release(&junk);
	close(fd);
}

static void put(const char *root, const char *rel, const char *content, unsigned mode, time_t mtime)
{
	char path[600];
	struct timespec ts[2] = { { mtime, 0 }, { mtime, 0 } };
	int fd;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	if (!content) {
		mkdir(path, mode);
		chmod(path, mode);
	} else {
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
		if (write(fd, content, strlen(content)) < 0)
			perror(path);
		fchmod(fd, mode);
		close(fd);
	}
	utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW);
}

/* The same tree made in another order, with another umask and later mtimes. */
static void make_tree(const char *root, bool reverse, time_t later)
{
	static const char *const dirs[] = { "etc", "etc/ssh", "usr", "usr/bin", "var", "var/log" };
	char a[600], b[600];

	rm_rf(root);
	umask(reverse ? 077 : 022);
	mkdir(root, 0755);
	chmod(root, 0755);
	for (size_t i = 0; i < 6; i++)
		put(root, dirs[reverse ? 4 - (i & ~(size_t)1) + (i & 1) : i], NULL, 0755, later);
	if (reverse) {
		put(root, "usr/bin/z", "zz\n", 0755, 1000);
		put(root, "usr/bin/a", "aa\n", 04755, later);
	} else {
		put(root, "usr/bin/a", "aa\n", 04755, later + 5);
		put(root, "usr/bin/z", "zz\n", 0755, 1000);
	}
	snprintf(a, sizeof(a), "%s/usr/bin/a", root);
	snprintf(b, sizeof(b), "%s/usr/bin/a2", root);
	link(a, b);
	snprintf(b, sizeof(b), "%s/usr/bin-link", root);
	symlink("bin", b);
	put(root, "etc/machine-id", "0123456789abcdef0123456789abcdef\n", 0444, later);
	put(root, "etc/ssh/ssh_host_ed25519_key", "secret\n", 0600, later);
	put(root, "var/log/dpkg.log", reverse ? "log two\n" : "log one, longer\n", 0644, later);
	umask(022);
}

static int non_dirs;

static int count_non_dir(const char *path, const struct stat *st, int type, struct FTW *f)
{
	non_dirs += type != FTW_D && type != FTW_DNR;
	return 0;
}

/* Lines as TAP comments. */
static void diag(const char *text)
{
	for (const char *l = text; l && *l;) {
		const char *e = strchr(l, '\n');
		int n = e ? (int)(e - l) : (int)strlen(l);

		printf("# %.*s\n", n, l);
		l += n + (e != NULL);
	}
}

static void log_line(void *ctx, const char *line)
{
	struct dk_buf *b = ctx;

	dk_buf_adds(b, line);
	dk_buf_addc(b, '\n');
}

static bool same_file(const char *a, const char *b)
{
	FILE *x = fopen(a, "rb"), *y = fopen(b, "rb");
	bool same = x && y;
	int c, d;

	while (same) {
		c = getc(x);
		d = getc(y);
		same = c == d;
		if (c == EOF)
			break;
	}
	if (x)
		fclose(x);
	if (y)
		fclose(y);
	return same;
}

static void test_normalise_pack(void)
{
	const int64_t epoch = 1700000000;
	struct dk_buf log = DK_BUF_INIT;
	struct dk_err err = DK_ERR_INIT;
	char root[512], path[600], out1[512], out2[512], out3[512];
	static const char *const exts[] = { "", ".zst", ".xz" };
	unsigned char sha[32], sha_file[32];
	struct stat st;

	snprintf(root, sizeof(root), "%s/tree", tmp);
	for (size_t c = 0; c < 3; c++) {
		make_tree(root, false, time(NULL));
		dk_buf_reset(&log);
		is_int(dk_image_normalise(root, epoch, NULL, log_line, &log, &err), 0, "normalise: %s", err.msg);
		if (c == 0) {
			ok(strstr(log.data, "removed /var/log/dpkg.log (16 bytes)") != NULL,
			   "log names the removed log");
			ok(strstr(log.data, "removed /etc/ssh/ssh_host_ed25519_key (7 bytes)") != NULL,
			   "ssh host keys removed");
			ok(strstr(log.data, "emptied /etc/machine-id (33 bytes)") != NULL, "machine-id emptied");
			snprintf(path, sizeof(path), "%s/etc/machine-id", root);
			ok(stat(path, &st) == 0 && st.st_size == 0, "machine-id still there, empty");
			snprintf(path, sizeof(path), "%s/var/log", root);
			ok(stat(path, &st) == 0 && S_ISDIR(st.st_mode) && st.st_mtime == epoch,
			   "/var/log kept, mtime clamped");
			diag(log.data);
		}
		snprintf(out1, sizeof(out1), "%s/one.tar%s", tmp, exts[c]);
		is_int(dk_image_pack(root, out1, (enum dk_image_compress)c, epoch, 0, NULL, NULL, &err), 0, "pack %s: %s",
		       exts[c], err.msg);
		sleep(c == 0 ? 1 : 0);
		make_tree(root, true, time(NULL) + 100);
		is_int(dk_image_normalise(root, epoch, NULL, NULL, NULL, &err), 0, "normalise again");
		snprintf(out2, sizeof(out2), "%s/two.tar%s", tmp, exts[c]);
		is_int(dk_image_pack(root, out2, (enum dk_image_compress)c, epoch, 0, NULL, sha, &err), 0, "pack again");
		ok(dk_hash_file(DK_SHA256, out2, sha_file, NULL) == 0 && memcmp(sha, sha_file, 32) == 0,
		   "the SHA-256 pack gives is the written file's (%s)", c ? exts[c] : "plain");
		ok(same_file(out1, out2), "same tree, other order, umask and times: same bytes (%s)",
		   c ? exts[c] : "plain");
	}
	/* Without normalise, the clamping in pack alone still gives the same bytes. */
	make_tree(root, false, time(NULL));
	snprintf(out1, sizeof(out1), "%s/three.tar", tmp);
	dk_image_pack(root, out1, DK_IMAGE_PLAIN, epoch, 0, NULL, NULL, &err);
	make_tree(root, true, time(NULL) + 50);
	put(root, "var/log/dpkg.log", "log one, longer\n", 0644, time(NULL) + 50);
	snprintf(out3, sizeof(out3), "%s/four.tar", tmp);
	dk_image_pack(root, out3, DK_IMAGE_PLAIN, epoch, 0, NULL, NULL, &err);
	ok(same_file(out1, out3), "pack alone clamps times and sorts: same bytes");
	make_tree(root, false, time(NULL));
	snprintf(out3, sizeof(out3), "%s/five.tar", tmp);
	is_int(dk_image_pack(root, out3, DK_IMAGE_PLAIN, epoch, DK_PACK_CONSUME, NULL, NULL, &err), 0, "pack consuming: %s",
	       err.msg);
	ok(same_file(out1, out3), "consuming the root: same bytes");
	non_dirs = 0;
	nftw(root, count_non_dir, 16, FTW_PHYS);
	snprintf(path, sizeof(path), "%s/usr/bin", root);
	ok(non_dirs == 0 && stat(path, &st) == 0 && S_ISDIR(st.st_mode), "consumed: only the directories are left");
	snprintf(path, sizeof(path), "tar -tvf %s/one.tar > %s/listing", tmp, tmp);
	ok(system(path) == 0, "tar reads the image");
	snprintf(path, sizeof(path), "%s/listing", tmp);
	diag(slurp(path));
	snprintf(path, sizeof(path), "%s/one.tar.tmp-%ld", tmp, (long)getpid());
	ok(stat(path, &st) != 0, "no temporary file left");
	is_int(dk_image_pack("/nonexistent-root", out1, DK_IMAGE_PLAIN, epoch, 0, NULL, NULL, &err), DK_EIO,
	       "missing root fails");
	dk_buf_release(&log);
}

static void test_owners_table(void)
{
	struct dk_image_owners o = DK_IMAGE_OWNERS_INIT;
	struct dk_image_owner got = { 0 };
	struct dk_err err = DK_ERR_INIT;
	char root[512], path[600];
	int fd;

	is_int(dk_image_owners_get(NULL, "a", &got), DK_NOTFOUND, "no table: no record");
	is_int(dk_image_owners_get(&o, "a", &got), DK_NOTFOUND, "empty table: no record");
	is_int(dk_image_owners_set(&o, "usr/bin/chage", 0, 42, 012755), 0, "record set");
	ok(dk_image_owners_get(&o, "usr/bin/chage", &got) == 0 && got.uid == 0 && got.gid == 42 && got.mode == 02755,
	   "record read back, only the permission bits kept");
	is_int(dk_image_owners_get(&o, "usr/bin", &got), DK_NOTFOUND, "a prefix is another path");
	for (unsigned i = 0; i < 3000; i++) {
		snprintf(path, sizeof(path), "p/%u", i);
		dk_image_owners_set(&o, path, i, i, 0600);
	}
	ok(dk_image_owners_get(&o, "p/2999", &got) == 0 && got.uid == 2999, "the table grows");
	dk_image_owners_forget(&o, "usr/bin/chage");
	is_int(dk_image_owners_get(&o, "usr/bin/chage", &got), DK_NOTFOUND, "a forgotten record is gone");
	dk_image_owners_forget(&o, "never/recorded");
	dk_image_owners_forget(NULL, "usr/bin/chage");
	is_int(dk_image_owners_set(&o, "usr/bin/chage", 0, 43, 0755), 0, "set again");
	ok(dk_image_owners_get(&o, "usr/bin/chage", &got) == 0 && got.gid == 43, "the new record counts");

	/* What the normaliser removes leaves no record a later file of the same name would inherit. */
	fd = fresh_root(root, sizeof(root), "norm-owners");
	close(fd);
	snprintf(path, sizeof(path), "%s/var", root);
	mkdir(path, 0755);
	put(root, "var/log", NULL, 0755, 1000);
	put(root, "var/log/faillog", "x", 0644, 1000);
	dk_image_owners_set(&o, "var/log/faillog", 0, 4, 0640);
	dk_image_owners_set(&o, "var/log", 0, 4, 02750);
	is_int(dk_image_normalise(root, 1700000000, &o, NULL, NULL, &err), 0, "normalise with records: %s", err.msg);
	is_int(dk_image_owners_get(&o, "var/log/faillog", &got), DK_NOTFOUND, "a removed file's record is forgotten");
	is_int(dk_image_owners_get(&o, "var/log", &got), 0, "the directory it kept keeps its record");
	dk_image_owners_release(&o);
	is_int(dk_image_owners_get(&o, "var/log", &got), DK_NOTFOUND, "released: empty again");
}

/* A tar's entries as "path uid:gid mode" lines. */
static void listing(const char *tar, struct dk_buf *out)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;

	dk_buf_reset(out);
	archive_read_support_format_tar(a);
	if (archive_read_open_filename(a, tar, 1 << 16) != ARCHIVE_OK) {
		dk_buf_addf(out, "cannot read %s: %s\n", tar, archive_error_string(a));
		archive_read_free(a);
		return;
	}
	while (archive_read_next_header(a, &e) == ARCHIVE_OK)
		dk_buf_addf(out, "%s %lld:%lld %04o\n", archive_entry_pathname(e), (long long)archive_entry_uid(e),
			    (long long)archive_entry_gid(e), (unsigned)archive_entry_perm(e));
	archive_read_free(a);
}

/* Unpack debs into a fresh root named name and pack it to out; as nobody when privileged is false. */
static int image_of(const char *name, bool privileged, const char *const *debs, size_t ndebs, unsigned flags,
		    const char *out)
{
	struct dk_image_owners o = DK_IMAGE_OWNERS_INIT;
	struct dk_err err = DK_ERR_INIT;
	struct dk_image_pkg p[4];
	char root[512];
	int fd = fresh_root(root, sizeof(root), name), status;
	pid_t pid = -1;

	if (!privileged && geteuid() == 0) {
		fflush(stdout);
		if (chown(root, 65534, 65534) || (pid = fork()) < 0)
			return -1;
		if (pid > 0) {
			close(fd);
			return waitpid(pid, &status, 0) == pid && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		}
		if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
			_exit(2);
	}
	for (size_t i = 0; i < ndebs; i++)
		p[i] = (struct dk_image_pkg){ "t", "1", "amd64", "t", "1", debs[i], NULL, "Package: t", false, false };
	status = dk_image_unpack_owned(fd, p, ndebs, DK_UNPACK_NO_DEVICES | flags, &o, NULL, NULL, &err) ||
		 dk_image_pack(root, out, DK_IMAGE_PLAIN, 1700000000, 0, &o, NULL, &err);
	if (status)
		printf("# %s: %s\n", name, err.msg);
	if (privileged && dk_image_owners_get(&o, "etc/shadow", &(struct dk_image_owner){ 0 }) == 0) {
		printf("# %s: records made as root\n", name);
		status = 1;
	}
	dk_image_owners_release(&o);
	close(fd);
	fflush(stdout);
	if (pid == 0)
		_exit(status);
	return status;
}

/* Owners and modes an unprivileged unpacker cannot set reach the image as a root unpack's do. */
static void test_owners(void)
{
	static const struct ent one[] = {
		{ 'd', "./", NULL, 0, 0, 0 },
		{ 'd', "./usr/", NULL, 0, 0, 0 },
		{ 'd', "./usr/bin/", NULL, 0, 0, 0 },
		{ 'f', "./usr/bin/chage", "chage\n", 02755, 0, 42 },
		{ 'h', "./usr/bin/expiry", "./usr/bin/chage", 0, 0, 0 },
		{ 'f', "./usr/bin/su", "su\n", 04755, 0, 0 },
		{ 'f', "./usr/bin/plain", "plain\n", 0755, 0, 0 },
		{ 'l', "./usr/bin/link", "plain", 0, 0, 42 },
		{ 'd', "./etc/", NULL, 0, 0, 0 },
		{ 'f', "./etc/shadow", "root:*:1::::::\n", 0640, 0, 42 },
		{ 'd', "./ro/", NULL, 0555, 0, 0 },
		{ 'f', "./ro/f", "ro\n", 0444, 0, 0 },
		{ 'f', "./ro/wo", "write only\n", 0200, 0, 0 },
		{ 'd', "./var/", NULL, 0, 0, 0 },
		{ 'd', "./var/local/", NULL, 02775, 0, 50 },
		{ 'd', "./var/local/sub/", NULL, 0755, 0, 0 },
		{ 'd', "./tmp/", NULL, 01777, 0, 0 },
	};
	/* A later package: chage replaced by root's plain file, var/local merged as root's 0755. */
	static const struct ent two[] = {
		{ 'd', "./", NULL, 0, 0, 0 },
		{ 'd', "./usr/", NULL, 0, 0, 0 },
		{ 'd', "./usr/bin/", NULL, 0, 0, 0 },
		{ 'f', "./usr/bin/chage", "chage 2\n", 0755, 0, 0 },
		{ 'd', "./var/", NULL, 0, 0, 0 },
		{ 'd', "./var/local/", NULL, 0755, 0, 0 },
	};
	/* A package that ships what dpkg writes itself: the info file is root's, not the member's. */
	static const struct ent three[] = {
		{ 'd', "./", NULL, 0, 0, 0 },
		{ 'd', "./var/", NULL, 0, 0, 0 },
		{ 'd', "./var/lib/", NULL, 0, 0, 0 },
		{ 'd', "./var/lib/dpkg/", NULL, 0, 0, 0 },
		{ 'd', "./var/lib/dpkg/info/", NULL, 0, 0, 0 },
		{ 'f', "./var/lib/dpkg/info/t.list", "mine\n", 04640, 0, 42 },
	};
	static const char want_one[] =
		"./ 0:0 0755\n./etc/ 0:0 0755\n./etc/shadow 0:42 0640\n./ro/ 0:0 0555\n./ro/f 0:0 0444\n"
		"./ro/wo 0:0 0200\n./tmp/ 0:0 1777\n./usr/ 0:0 0755\n./usr/bin/ 0:0 0755\n"
		"./usr/bin/chage 0:42 2755\n./usr/bin/expiry 0:42 2755\n./usr/bin/link 0:42 0777\n"
		"./usr/bin/plain 0:0 0755\n./usr/bin/su 0:0 4755\n./var/ 0:0 0755\n./var/local/ 0:50 2775\n"
		"./var/local/sub/ 0:0 0755\n";
	struct dk_buf got = DK_BUF_INIT, as_root = DK_BUF_INIT;
	char deb1[512], deb2[512], deb3[512], out[600], out_root[600], dir[300];
	const char *debs[2] = { deb1, deb2 }, *info_debs[1] = { deb3 };

	/* nobody reads the .debs here and writes its image beside them. */
	chmod(tmp, 0755);
	snprintf(dir, sizeof(dir), "%s/images", tmp);
	mkdir(dir, 0777);
	chmod(dir, 0777);
	snprintf(deb1, sizeof(deb1), "%s/owners1.deb", tmp);
	snprintf(deb2, sizeof(deb2), "%s/owners2.deb", tmp);
	deb_of(deb1, one, sizeof(one) / sizeof(one[0]));
	deb_of(deb2, two, sizeof(two) / sizeof(two[0]));
	snprintf(deb3, sizeof(deb3), "%s/owners3.deb", tmp);
	deb_of(deb3, three, sizeof(three) / sizeof(three[0]));

	snprintf(out, sizeof(out), "%s/nobody1.tar", dir);
	is_int(image_of("owners-nobody", false, debs, 1, 0, out), 0, "unpacked and packed without root");
	listing(out, &got);
	is_str(got.data, want_one, "without root: owners, set-id bits and modes as the members say");
	snprintf(out_root, sizeof(out_root), "%s/root1.tar", dir);
	if (geteuid() == 0) {
		is_int(image_of("owners-root", true, debs, 1, 0, out_root), 0, "the same as root, with no records");
		listing(out_root, &as_root);
		is_str(got.data, as_root.data, "without root and as root: the same owners and modes");
		ok(same_file(out, out_root), "without root and as root: the same bytes");
	} else {
		printf("ok %d - # SKIP not root: no root unpack to compare with\n", ++tap_count);
		printf("ok %d - # SKIP not root\n", ++tap_count);
		printf("ok %d - # SKIP not root\n", ++tap_count);
	}

	snprintf(out, sizeof(out), "%s/nobody2.tar", dir);
	is_int(image_of("owners-nobody2", false, debs, 2, 0, out), 0, "a later package replaces, without root");
	listing(out, &got);
	ok(strstr(got.data, "./usr/bin/chage 0:0 0755\n") != NULL, "a replaced file has the later package's owner");
	ok(strstr(got.data, "./usr/bin/expiry 0:42 2755\n") != NULL, "its old hard link keeps the old inode's");
	ok(strstr(got.data, "./var/local/ 0:0 0755\n") != NULL, "a merged directory has the later package's owner");
	if (geteuid() == 0) {
		snprintf(out_root, sizeof(out_root), "%s/root2.tar", dir);
		image_of("owners-root2", true, debs, 2, 0, out_root);
		listing(out_root, &as_root);
		is_str(got.data, as_root.data, "after a replacement: the same owners and modes as root");
	} else {
		printf("ok %d - # SKIP not root\n", ++tap_count);
	}

	snprintf(out, sizeof(out), "%s/nobody3.tar", dir);
	is_int(image_of("owners-nobody3", false, info_debs, 1, DK_UNPACK_DPKG_INFO, out), 0,
	       "a package shipping its own info file, without root");
	listing(out, &got);
	ok(strstr(got.data, "./var/lib/dpkg/info/t.list 0:0 0644\n") != NULL,
	   "the info file written over it is root's 0644, not the member's 0:42 4640");
	chmod(tmp, 0700);
	dk_buf_release(&got);
	dk_buf_release(&as_root);
}

int main(void)
{
	const char *t = getenv("TMPDIR");

	snprintf(tmp, sizeof(tmp), "%s/test-image-XXXXXX", t ? t : "/tmp");
	if (!mkdtemp(tmp))
		return 99;
	test_good();
	test_hostile();
	test_members();
	test_normalise_pack();
	test_owners_table();
	test_owners();
	rm_rf(tmp);
	return tap_done();
}
