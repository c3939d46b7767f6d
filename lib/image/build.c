/* build.c - the image build: resolve in a snapshot, unpack or install, normalise, pack, manifest, SBOMs */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/fs.h>

#include <debkeep/buf.h>
#include <debkeep/deb822.h>
#include <debkeep/fs.h>
#include <debkeep/hash.h>
#include <debkeep/image.h>
#include <debkeep/index.h>
#include <debkeep/pkglist.h>
#include <debkeep/resolve.h>
#include <debkeep/sbom.h>

#include "banned.h"

#define COPYRIGHT_MAX ((size_t)8 << 20)

/* A snapshot member of the build's architecture (or all), copied out of the database row. */
struct member {
	char *name, *version, *arch, *source, *source_version, *sha256, *control;
};

struct build {
	struct dk_repo *repo;
	const struct dk_image_opts *o;
	struct dk_err *err;
	struct member *m;
	size_t nm, capm;
	struct dk_buf packages; /* the generated Packages index of those members */
	struct dk_image_pkg *pkgs;
	char **debs;     /* the object paths, owned */
	char **licenses; /* per package: SPDX expression or NULL */
	size_t n;
	char *staging, *root;
	struct dk_image_owners owners; /* extract mode without root: what the unpacker could not chown */
	char *tmp[4]; /* image, manifest, cdx, spdx under their temporary names */
	unsigned char sha[32]; /* of the image */
	char *out[4];
};

static void say(const struct build *b, const char *fmt, ...) DK_PRINTF(2, 3);
static void say(const struct build *b, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (!b->o->log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	b->o->log(b->o->log_ctx, line);
}

static int cancelled(const struct build *b)
{
	if (b->o->cancel && *b->o->cancel)
		return dk_err_set(b->err, DK_EIO, "build interrupted");
	return 0;
}

static char *dup_or_empty(const char *s)
{
	return strdup(s ? s : "");
}

static int collect(void *ctx, const struct dk_snapshot_pkg *p)
{
	struct build *b = ctx;
	struct member *m;

	if (strcmp(p->arch, b->o->arch) != 0 && strcmp(p->arch, "all") != 0)
		return 0;
	if (b->nm == b->capm) {
		size_t cap = b->capm ? b->capm * 2 : 256;
		struct member *v = realloc(b->m, cap * sizeof(*v));

		if (!v)
			return dk_err_set(b->err, DK_ENOMEM, "out of memory");
		b->m = v;
		b->capm = cap;
	}
	m = &b->m[b->nm];
	*m = (struct member){ dup_or_empty(p->name), dup_or_empty(p->version), dup_or_empty(p->arch),
			      dup_or_empty(p->source), dup_or_empty(p->source_version), dup_or_empty(p->sha256),
			      dup_or_empty(p->control) };
	b->nm++;
	if (!m->name || !m->version || !m->arch || !m->source || !m->source_version || !m->sha256 || !m->control)
		return dk_err_set(b->err, DK_ENOMEM, "out of memory");
	/* The index needs Filename and Size only to be a Packages file; SHA256 leads back to the member. */
	dk_buf_adds(&b->packages, p->control);
	dk_buf_addf(&b->packages, "\nFilename: %s\nSize: %lld\nSHA256: %s\n\n", p->filename ? p->filename : "",
		    p->size, p->sha256);
	return dk_buf_check(&b->packages, b->err, "snapshot index");
}

static int cmp_member_sha(const void *a, const void *b)
{
	return strcmp(((const struct member *)a)->sha256, ((const struct member *)b)->sha256);
}

static int cmp_pkg(const void *a, const void *b)
{
	const struct dk_image_pkg *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : strcmp(x->arch, y->arch);
}

static bool list_has_arch(const struct dk_pkglist *pl, const char *arch)
{
	if (!pl->narchs)
		return true;
	for (size_t i = 0; i < pl->narchs; i++)
		if (strcmp(pl->archs[i], arch) == 0)
			return true;
	return false;
}

/* Resolve the list against the snapshot's members; fills b->pkgs (sorted by name) from the resolution. */
static int resolve(struct build *b, const struct dk_pkglist *pl)
{
	struct dk_index idx;
	struct dk_resolution res = DK_RESOLUTION_INIT;
	bool idx_live = false;
	int r;

	if (!list_has_arch(pl, b->o->arch))
		return dk_err_set(b->err, DK_EINPUT, "%s: the list does not name architecture %s", pl->filename,
				  b->o->arch);
	if ((r = dk_snapshot_packages(b->repo, b->o->snapshot, collect, b, b->err)) < 0)
		return r;
	if (b->nm == 0)
		return dk_err_set(b->err, DK_EINPUT, "snapshot %s: no packages for %s", b->o->snapshot, b->o->arch);
	if ((r = dk_index_init(&idx, b->o->arch, b->err)))
		return r;
	idx_live = true;
	if ((r = dk_index_load_mem(&idx, b->packages.data, b->packages.len, b->o->snapshot, b->err)) ||
	    (r = dk_index_finish(&idx, b->err)))
		goto out;
	if ((r = dk_resolve_pkglist(&idx, pl, &res, b->err))) {
		dk_err_prefix(b->err, "snapshot %s: %s", b->o->snapshot, b->o->arch);
		goto out;
	}
	qsort(b->m, b->nm, sizeof(*b->m), cmp_member_sha);
	b->pkgs = calloc(res.count ? res.count : 1, sizeof(*b->pkgs));
	b->debs = calloc(res.count ? res.count : 1, sizeof(*b->debs));
	b->licenses = calloc(res.count ? res.count : 1, sizeof(*b->licenses));
	if (!b->pkgs || !b->debs || !b->licenses) {
		r = dk_err_set(b->err, DK_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < res.count; i++) {
		const struct dk_pkg *pkg = &idx.pkgs[res.items[i].pkg];
		struct member key = { 0 }, *m;
		struct dk_slice sha;
		char hex[65];
		size_t plen = strlen(b->repo->root) + 80;

		if (dk_pkg_field(pkg, "SHA256", &sha) || sha.n != 64) {
			r = dk_err_set(b->err, DK_EINTERNAL, "snapshot %s: lost track of %s", b->o->snapshot,
				       dk_index_str(&idx, pkg->name));
			goto out;
		}
		memcpy(hex, sha.p, 64);
		hex[64] = '\0';
		key.sha256 = hex;
		m = bsearch(&key, b->m, b->nm, sizeof(*b->m), cmp_member_sha);
		if (!m || !(b->debs[i] = malloc(plen))) {
			r = dk_err_set(b->err, m ? DK_ENOMEM : DK_EINTERNAL, "snapshot %s: %s: %s", b->o->snapshot,
				       dk_index_str(&idx, pkg->name), m ? "out of memory" : "no such member");
			goto out;
		}
		dk_store_path(b->repo->root, m->sha256, b->debs[i], plen);
		b->pkgs[i] = (struct dk_image_pkg){ m->name, m->version, m->arch, m->source, m->source_version,
						     b->debs[i], m->sha256, m->control, pkg->essential,
						     pkg->priority == DK_PRIO_REQUIRED };
		b->n++;
	}
	/* debs owns what each pkgs[].deb points at: it follows them into the sorted order. */
	qsort(b->pkgs, b->n, sizeof(*b->pkgs), cmp_pkg);
	for (size_t i = 0; i < b->n; i++)
		b->debs[i] = (char *)b->pkgs[i].deb;
	say(b, "snapshot %s: %zu packages for %s from %zu members", b->o->snapshot, b->n, b->o->arch, b->nm);
out:
	dk_resolution_release(&res);
	if (idx_live)
		dk_index_release(&idx);
	return r;
}

/* Remove a staging tree without crossing into anything mounted inside it. */
static int rm_tree(int dfd, const char *name, dev_t dev)
{
	struct statx sx;
	struct stat st;
	int fd, r = 0;
	DIR *d;
	struct dirent *de;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW))
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dfd, name, 0);
	if (st.st_dev != dev || (statx(dfd, name, AT_SYMLINK_NOFOLLOW, 0, &sx) == 0 &&
				 (sx.stx_attributes_mask & sx.stx_attributes & STATX_ATTR_MOUNT_ROOT))) {
		errno = EBUSY;
		return -1;
	}
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == EACCES && fchmodat(dfd, name, 0700, 0) == 0)
		fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	/* A directory unpacked read-only (0555) must become writable to be emptied when not root. */
	fchmod(fd, 0700);
	if (!(d = fdopendir(fd))) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") && rm_tree(dirfd(d), de->d_name, dev))
			r = -1;
	closedir(d);
	if (r == 0)
		r = unlinkat(dfd, name, AT_REMOVEDIR);
	return r;
}

/*
 * ext4 without a journal does not hand out an inode number freed in the last
 * minute (five while its table block is dirty): every creation steps over
 * each such number in the group, reading its table block. A build creates and
 * removes some ten thousand files; the next tree, placed beside the last one,
 * paid that on every create (perf: find_inode_bit -> recently_deleted, 1.2 s of
 * system time became 4 s). With the top-directory flag on the staging
 * directory ext4 places its subdirectories as it places top-level ones (a
 * group with few directories, searched from where the name hashes to), so a
 * root with a random name lands away from the trees earlier builds removed.
 * A hint: where the file system has no such flag, the call fails and nothing
 * changes.
 */
static void spread_children(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int flags;

	if (fd < 0)
		return;
	if (ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0 && !(flags & FS_TOPDIR_FL)) {
		flags |= FS_TOPDIR_FL;
		ioctl(fd, FS_IOC_SETFLAGS, &flags);
	}
	close(fd);
}

static int make_staging(struct build *b)
{
	const char *base = b->o->tmpdir;
	struct dk_buf p = DK_BUF_INIT;
	int r;

	if (base)
		dk_buf_adds(&p, base);
	else
		dk_buf_addf(&p, "%s/tmp", b->repo->root);
	mkdir(p.data, 0755);
	dk_buf_addf(&p, "/build-%ld-XXXXXX", (long)getpid());
	if ((r = dk_buf_check(&p, b->err, "staging name")))
		return r;
	if (!mkdtemp(p.data)) {
		r = dk_err_errno(b->err, "%s", p.data);
		dk_buf_release(&p);
		return r;
	}
	b->staging = dk_buf_detach(&p, NULL);
	spread_children(b->staging);
	dk_buf_addf(&p, "%s/root-XXXXXX", b->staging);
	if ((r = dk_buf_check(&p, b->err, "staging name")))
		return r;
	b->root = dk_buf_detach(&p, NULL);
	/* The root's mode is the image's, not the umask's. */
	if (!mkdtemp(b->root) || chmod(b->root, 0755))
		return dk_err_errno(b->err, "%s", b->root);
	return 0;
}

static void remove_staging(struct build *b)
{
	struct stat st;

	if (!b->staging)
		return;
	if (stat(b->staging, &st) == 0 && rm_tree(AT_FDCWD, b->staging, st.st_dev))
		say(b, "could not remove the staging directory %s: %s", b->staging, strerror(errno));
}

/* Write a file beneath the root: temporary name, then rename, so a symlink there is replaced, never followed. */
static int put_file(struct build *b, int rootfd, const char *dir, const char *name, const void *data, size_t len,
		    unsigned mode)
{
	char tmp[256];
	int dfd = dk_image_mkdirs(rootfd, dir, 0755), fd;
	int r = 0;

	if (dfd < 0)
		return dk_err_errno(b->err, "/%s", dir);
	snprintf(tmp, sizeof(tmp), "%s.dpkg-new", name);
	unlinkat(dfd, tmp, 0);
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || (len && write(fd, data, len) != (ssize_t)len) || fchmod(fd, mode))
		r = dk_err_errno(b->err, "/%s/%s", dir, name);
	if (fd >= 0 && close(fd) && !r)
		r = dk_err_errno(b->err, "/%s/%s", dir, name);
	if (!r && renameat(dfd, tmp, dfd, name))
		r = dk_err_errno(b->err, "/%s/%s", dir, name);
	if (r)
		unlinkat(dfd, tmp, 0);
	close(dfd);
	if (!r) {
		char path[512];

		snprintf(path, sizeof(path), "%s/%s", dir, name);
		dk_image_owners_forget(&b->owners, path);
	}
	return r;
}

static int read_beneath(int rootfd, const char *path, size_t max, struct dk_buf *out)
{
	char chunk[1 << 16];
	ssize_t n;
	int fd = dk_openat_beneath(rootfd, path, O_RDONLY, 0);

	dk_buf_reset(out);
	if (fd < 0)
		return -1;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0 && out->len + (size_t)n <= max)
		dk_buf_add(out, chunk, (size_t)n);
	close(fd);
	if (n != 0 || out->failed) {
		errno = n < 0 ? errno : EFBIG;
		return -1;
	}
	return 0;
}

/* dpkg's order of the fields it knows (lib/dpkg/parse.c fieldinfos); others follow in their own order. */
static const char *const field_order[] = {
	"Package", "Essential", "Protected", "Status", "Priority", "Section", "Installed-Size", "Origin",
	"Maintainer", "Bugs", "Architecture", "Multi-Arch", "Source", "Version", "Revision", "Config-Version",
	"Replaces", "Provides", "Depends", "Pre-Depends", "Recommends", "Suggests", "Breaks", "Conflicts",
	"Enhances", "Conffiles", "Filename", "Size", "MD5sum", "MSDOS-Filename", "Description",
	"Triggers-Pending", "Triggers-Awaited",
};
#define NFIELDS (sizeof(field_order) / sizeof(field_order[0]))

static void add_field(struct dk_buf *out, const struct dk_field *f)
{
	dk_buf_add(out, f->name, f->name_len);
	dk_buf_addc(out, ':');
	if (f->value_len && f->value[0] != '\n')
		dk_buf_addc(out, ' ');
	dk_buf_add(out, f->value, f->value_len);
	dk_buf_addc(out, '\n');
}

/* " /etc/x MD5" for each conffile the package lists (flags such as remove-on-upgrade kept in front). */
static int conffiles(struct build *b, int rootfd, const struct dk_image_pkg *p, bool ma_same, struct dk_buf *out)
{
	struct dk_buf list = DK_BUF_INIT, path = DK_BUF_INIT;
	unsigned char md5[16];
	char hex[33];
	int r = 0;

	if (ma_same)
		dk_buf_addf(&path, "var/lib/dpkg/info/%s:%s.conffiles", p->name, p->arch);
	else
		dk_buf_addf(&path, "var/lib/dpkg/info/%s.conffiles", p->name);
	if (read_beneath(rootfd, path.data, 1 << 20, &list)) {
		r = errno == ENOENT ? 0 : dk_err_errno(b->err, "%s: /%s", p->name, path.data);
		goto out;
	}
	for (char *l = list.data, *e; *l; l = e + (*e != '\0')) {
		char *file;

		e = strchr(l, '\n');
		if (!e)
			e = l + strlen(l);
		*e = '\0';
		file = strchr(l, '/');
		if (!file)
			continue;
		if (read_beneath(rootfd, file + 1, (size_t)1 << 30, &path) ||
		    dk_hash_mem(DK_MD5, path.data, path.len, md5, NULL)) {
			/* Listed but not shipped: dpkg has the same word for a conffile it has not installed yet. */
			dk_buf_addf(out, " %s newconffile\n", file);
			continue;
		}
		dk_hex(md5, sizeof(md5), hex);
		dk_buf_addf(out, " %s %s\n", file, hex);
	}
out:
	dk_buf_release(&list);
	dk_buf_release(&path);
	return r;
}

/* One status stanza: the control fields in dpkg's order, Status and Conffiles added. */
static int status_stanza(struct build *b, int rootfd, const struct dk_image_pkg *p, struct dk_buf *out)
{
	struct dk_deb822 parser;
	struct dk_stanza st;
	struct dk_buf conf = DK_BUF_INIT;
	const struct dk_field *ma;
	bool ma_same;
	int r;

	dk_deb822_init(&parser, p->control, strlen(p->control), p->name, DK_DEB822_ALLOW_DUPLICATES);
	if ((r = dk_deb822_next(&parser, &st, b->err)) <= 0) {
		if (r == 0)
			r = dk_err_set(b->err, DK_EINPUT, "%s: empty control stanza", p->name);
		goto out;
	}
	ma = dk_stanza_get(&st, "Multi-Arch");
	ma_same = ma && ma->value_len == 4 && memcmp(ma->value, "same", 4) == 0;
	if ((r = conffiles(b, rootfd, p, ma_same, &conf)))
		goto out;
	for (size_t k = 0; k < NFIELDS; k++) {
		const struct dk_field *f;

		if (!strcmp(field_order[k], "Status")) {
			dk_buf_adds(out, "Status: install ok unpacked\n");
			continue;
		}
		if (!strcmp(field_order[k], "Conffiles")) {
			if (conf.len) {
				dk_buf_adds(out, "Conffiles:\n");
				dk_buf_add(out, conf.data, conf.len);
			}
			continue;
		}
		if ((f = dk_stanza_get(&st, field_order[k])))
			add_field(out, f);
	}
	for (size_t i = 0; i < st.nfields; i++) {
		bool known = false;

		for (size_t k = 0; k < NFIELDS && !known; k++)
			known = dk_field_is(&st.fields[i], field_order[k]);
		if (!known)
			add_field(out, &st.fields[i]);
	}
	dk_buf_addc(out, '\n');
	r = dk_buf_check(out, b->err, "dpkg status");
out:
	dk_deb822_release(&parser);
	dk_buf_release(&conf);
	return r;
}

/* What mmdebstrap's setup makes before any package (its --variant=extract is the reference). */
static const struct {
	const char *path;
	unsigned mode;
} skeleton[] = {
	{ "etc/apt/apt.conf.d", 0755 },     { "etc/apt/sources.list.d", 0755 }, { "etc/apt/preferences.d", 0755 },
	{ "var/cache/apt/archives/partial", 0755 }, { "var/lib/apt/lists/partial", 0755 }, { "tmp", 01777 },
	{ "var/lib/dpkg", 0755 },           { "etc/dpkg/dpkg.cfg.d", 0755 },  { "var/log/apt", 0755 },
	{ "var/lib/dpkg/triggers", 0755 }, { "var/lib/dpkg/info", 0755 },    { "var/lib/dpkg/alternatives", 0755 },
	{ "var/lib/dpkg/updates", 0755 },
};

static int unpacked(void *ctx, size_t done)
{
	struct build *b = ctx;

	if (b->o->progress)
		b->o->progress(b->o->log_ctx, done, b->n);
	return cancelled(b);
}

static int extract(struct build *b, int rootfd)
{
	struct dk_buf status = DK_BUF_INIT, arch = DK_BUF_INIT;
	int r = 0;

	for (size_t i = 0; i < sizeof(skeleton) / sizeof(skeleton[0]); i++) {
		int fd = dk_image_mkdirs(rootfd, skeleton[i].path, skeleton[i].mode);

		if (fd < 0)
			return dk_err_errno(b->err, "/%s", skeleton[i].path);
		close(fd);
	}
	if ((r = cancelled(b)) ||
	    (r = dk_image_unpack_owned(rootfd, b->pkgs, b->n, DK_UNPACK_NO_DEVICES | DK_UNPACK_DPKG_INFO, &b->owners,
				       unpacked, b, b->err)))
		goto out;
	say(b, "unpacked %zu packages", b->n);
	for (size_t i = 0; i < b->n; i++)
		if ((r = status_stanza(b, rootfd, &b->pkgs[i], &status)))
			goto out;
	dk_buf_addf(&arch, "%s\n", b->o->arch);
	if ((r = dk_buf_check(&arch, b->err, "arch")) ||
	    (r = put_file(b, rootfd, "var/lib/dpkg", "status", status.data, status.len, 0644)) ||
	    (r = put_file(b, rootfd, "var/lib/dpkg", "available", "", 0, 0644)) ||
	    (r = put_file(b, rootfd, "var/lib/dpkg", "arch", arch.data, arch.len, 0644)) ||
	    (r = put_file(b, rootfd, "var/lib/dpkg/info", "format", "1\n", 2, 0644)))
		goto out;
	say(b, "wrote /var/lib/dpkg/status (%zu packages unpacked), available, arch and info/format", b->n);
out:
	dk_buf_release(&status);
	dk_buf_release(&arch);
	return r;
}

/* Each package's license, read from the root before normalisation (NULL: not machine-readable). */
static int licenses(struct build *b, int rootfd)
{
	struct dk_buf text = DK_BUF_INIT, path = DK_BUF_INIT;
	struct dk_err e = DK_ERR_INIT;
	int r = 0;

	for (size_t i = 0; i < b->n && !r; i++) {
		dk_buf_reset(&path);
		dk_buf_addf(&path, "usr/share/doc/%s/copyright", b->pkgs[i].name);
		if ((r = dk_buf_check(&path, b->err, "path")))
			break;
		if (read_beneath(rootfd, path.data, COPYRIGHT_MAX, &text))
			continue;
		dk_err_clear(&e);
		r = dk_copyright_license(text.data, text.len, b->pkgs[i].name, &b->licenses[i], &e);
		if (r == DK_EINPUT)
			say(b, "%s: /%s: %s: license left unknown", b->pkgs[i].name, path.data, e.msg);
		else if (r < 0)
			r = dk_err_set(b->err, r, "%s", e.msg);
		if (r != DK_ENOMEM && r != DK_EINTERNAL && r != DK_EIO)
			r = 0;
	}
	dk_buf_release(&text);
	dk_buf_release(&path);
	return r;
}

static int64_t parse_created(const char *s)
{
	struct tm tm = { 0 };
	int n = 0;

	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
		   &tm.tm_sec, &n) != 6 || (s[n] != 'Z' && s[n] != '\0'))
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm);
}

static enum dk_image_compress compression_of(const char *out)
{
	size_t n = strlen(out);

	if (n > 4 && strcmp(out + n - 4, ".zst") == 0)
		return DK_IMAGE_ZSTD;
	if (n > 3 && strcmp(out + n - 3, ".xz") == 0)
		return DK_IMAGE_XZ;
	return DK_IMAGE_PLAIN;
}

static int names(struct build *b)
{
	static const char *const ext[4] = { "", ".manifest", ".cdx.json", ".spdx.json" };

	for (int i = 0; i < 4; i++) {
		struct dk_buf p = DK_BUF_INIT;
		int r;

		dk_buf_addf(&p, "%s%s", b->o->output, ext[i]);
		if ((r = dk_buf_check(&p, b->err, "output name")))
			return r;
		b->out[i] = dk_buf_detach(&p, NULL);
		dk_buf_addf(&p, "%s%s.tmp-%ld", b->o->output, ext[i], (long)getpid());
		if ((r = dk_buf_check(&p, b->err, "output name")))
			return r;
		b->tmp[i] = dk_buf_detach(&p, NULL);
	}
	return 0;
}

/* A control field's value: its first line, or with folded all of it (continuation lines joined by a blank). */
static const char *field_value(const char *control, const char *name, bool folded, struct dk_buf *out)
{
	size_t n = strlen(name);

	dk_buf_reset(out);
	for (const char *l = control; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (strncasecmp(l, name, n) == 0 && l[n] == ':') {
			const char *v = l + n + 1, *e;

			while (*v == ' ' || *v == '\t')
				v++;
			e = strchr(v, '\n');
			dk_buf_add(out, v, e ? (size_t)(e - v) : strlen(v));
			while (folded && e && (e[1] == ' ' || e[1] == '\t')) {
				v = e + 1;
				e = strchr(v, '\n');
				dk_buf_add(out, v, e ? (size_t)(e - v) : strlen(v));
			}
			return out->failed ? NULL : out->data;
		}
	}
	return NULL;
}

/* The control fields the SBOMs take: Maintainer, Homepage, Description, Pre-Depends, Depends, Provides. */
#define SBOM_FIELDS 6

static int write_outputs(struct build *b, const char *codename, int64_t epoch, struct dk_image_result *res)
{
	struct dk_buf text = DK_BUF_INIT;
	struct dk_sbom_pkg *sp = calloc(b->n ? b->n : 1, sizeof(*sp));
	struct dk_buf *fields = calloc(b->n ? SBOM_FIELDS * b->n : 1, sizeof(*fields));
	const char *base = strrchr(b->o->output, '/');
	struct stat st;
	int r;

	if (!sp || !fields) {
		r = dk_err_set(b->err, DK_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < SBOM_FIELDS * b->n; i++)
		dk_buf_init(&fields[i], 0);
	dk_hex(b->sha, sizeof(b->sha), res->sha256);
	if (stat(b->tmp[0], &st)) {
		r = dk_err_errno(b->err, "%s", b->tmp[0]);
		goto out;
	}
	res->bytes = (uint64_t)st.st_size;
	res->packages = b->n;
	for (size_t i = 0; i < b->n; i++)
		dk_buf_addf(&text, "%s %s %s %s %s\n", b->pkgs[i].name, b->pkgs[i].version, b->pkgs[i].arch,
			    b->pkgs[i].source, b->pkgs[i].source_version);
	if ((r = dk_buf_check(&text, b->err, "manifest")) ||
	    (r = dk_write_file_atomic(b->tmp[1], text.data, text.len, 0644, b->err)))
		goto out;
	for (size_t i = 0; i < b->n; i++) {
		const struct dk_image_pkg *p = &b->pkgs[i];
		struct dk_buf *f = &fields[SBOM_FIELDS * i];

		sp[i] = (struct dk_sbom_pkg){ p->name, p->version, p->arch, p->source, p->source_version, p->sha256,
					      b->licenses[i], field_value(p->control, "Maintainer", false, &f[0]),
					      field_value(p->control, "Homepage", false, &f[1]),
					      field_value(p->control, "Description", false, &f[2]),
					      field_value(p->control, "Pre-Depends", true, &f[3]),
					      field_value(p->control, "Depends", true, &f[4]),
					      field_value(p->control, "Provides", true, &f[5]) };
	}
	{
		struct dk_sbom_doc doc = { base ? base + 1 : b->o->output, "debian", codename, res->sha256, epoch, sp,
					   b->n };

		dk_buf_reset(&text);
		if ((r = dk_sbom_cyclonedx(&doc, &text, b->err)) ||
		    (r = dk_write_file_atomic(b->tmp[2], text.data, text.len, 0644, b->err)))
			goto out;
		dk_buf_reset(&text);
		if ((r = dk_sbom_spdx(&doc, &text, b->err)) ||
		    (r = dk_write_file_atomic(b->tmp[3], text.data, text.len, 0644, b->err)))
			goto out;
	}
	/* All or nothing: the image is renamed last, so an image under its name has its manifest and SBOMs. */
	if ((r = cancelled(b)))
		goto out;
	for (int i = 3; i >= 0; i--) {
		if (rename(b->tmp[i], b->out[i])) {
			r = dk_err_errno(b->err, "%s", b->out[i]);
			for (int k = 3; k > i; k--)
				unlink(b->out[k]);
			goto out;
		}
	}
	if (!(res->manifest = strdup(b->out[1])) || !(res->cdx = strdup(b->out[2])) ||
	    !(res->spdx = strdup(b->out[3])))
		r = dk_err_set(b->err, DK_ENOMEM, "out of memory");
out:
	for (size_t i = 0; fields && i < SBOM_FIELDS * b->n; i++)
		dk_buf_release(&fields[i]);
	free(fields);
	free(sp);
	dk_buf_release(&text);
	return r;
}

void dk_image_result_release(struct dk_image_result *res)
{
	free(res->manifest);
	free(res->cdx);
	free(res->spdx);
	res->manifest = res->cdx = res->spdx = NULL;
}

static void build_release(struct build *b)
{
	for (size_t i = 0; i < b->nm; i++) {
		free(b->m[i].name);
		free(b->m[i].version);
		free(b->m[i].arch);
		free(b->m[i].source);
		free(b->m[i].source_version);
		free(b->m[i].sha256);
		free(b->m[i].control);
	}
	free(b->m);
	for (size_t i = 0; i < b->n; i++) {
		free(b->debs[i]);
		free(b->licenses[i]);
	}
	free(b->debs);
	free(b->licenses);
	free(b->pkgs);
	dk_buf_release(&b->packages);
	for (int i = 0; i < 4; i++) {
		if (b->tmp[i])
			unlink(b->tmp[i]);
		free(b->tmp[i]);
		free(b->out[i]);
	}
	free(b->staging);
	free(b->root);
	dk_image_owners_release(&b->owners);
}

int dk_image_build(struct dk_repo *r, const struct dk_image_opts *o, struct dk_image_result *res, struct dk_err *err)
{
	struct build b = { .repo = r, .o = o, .err = err, .packages = DK_BUF_INIT, .owners = DK_IMAGE_OWNERS_INIT };
	struct dk_pkglist pl = DK_PKGLIST_INIT;
	struct dk_snapshot_info info = { 0 };
	int64_t epoch = o->epoch;
	int rootfd = -1, ret;

	memset(res, 0, sizeof(*res));
	if (!o->snapshot || !o->list || !o->arch || !o->output)
		return dk_err_set(err, DK_EINPUT, "a build needs a snapshot, a list, an architecture and an output");
	if ((ret = dk_snapshot_get(r, o->snapshot, &info, err)) < 0)
		return ret;
	if (epoch < 0 && (epoch = parse_created(info.created)) < 0) {
		ret = dk_err_set(err, DK_EINPUT, "snapshot %s: cannot read its date '%s'", o->snapshot, info.created);
		goto out;
	}
	if ((ret = dk_pkglist_load(&pl, o->list, err)) || (ret = resolve(&b, &pl)) || (ret = names(&b)) ||
	    (ret = make_staging(&b)))
		goto out;
	say(&b, "staging root %s, epoch %lld", b.root, (long long)epoch);
	rootfd = open(b.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) {
		ret = dk_err_errno(err, "%s", b.root);
		goto out;
	}
	if (o->mode == DK_IMAGE_ROOT)
		ret = dk_image_install(b.root, b.pkgs, b.n, epoch, o->log, o->log_ctx, err);
	else
		ret = extract(&b, rootfd);
	if (ret || (ret = cancelled(&b)) || (ret = licenses(&b, rootfd)) ||
	    (ret = dk_image_normalise(b.root, epoch, &b.owners, o->log, o->log_ctx, err)) || (ret = cancelled(&b)) ||
	    (ret = dk_image_pack(b.root, b.tmp[0], compression_of(o->output), epoch, DK_PACK_CONSUME, &b.owners,
				 b.sha, err)))
		goto out;
	ret = write_outputs(&b, pl.release, epoch, res);
out:
	if (rootfd >= 0)
		close(rootfd);
	remove_staging(&b);
	if (ret)
		dk_image_result_release(res);
	build_release(&b);
	dk_pkglist_release(&pl);
	dk_snapshot_info_release(&info);
	return ret;
}
