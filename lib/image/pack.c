/* pack.c - reproducible pax tar of a root: sorted, clamped mtimes, numeric owners, fixed compression */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <limits.h>
#include <locale.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include <debkeep/buf.h>
#include <debkeep/hash.h>
#include <debkeep/image.h>

#include "banned.h"

/* Fixed, so the bytes depend on the tree only: zstd level 3 (its default; 250 MB in about a second), xz preset 6. */
#define ZSTD_LEVEL "3"
#define XZ_PRESET "6"

struct pent {
	char *path; /* relative to the root, "" for the root itself */
	struct stat st;
	const char *hardlink; /* the first path of the same inode in sort order, or NULL */
};

struct walk {
	struct pent *v;
	size_t n, cap;
	struct dk_err *err;
};

static int add(struct walk *w, const char *path, const struct stat *st)
{
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 1024;
		struct pent *v = realloc(w->v, cap * sizeof(*v));

		if (!v)
			return dk_err_set(w->err, DK_ENOMEM, "out of memory");
		w->v = v;
		w->cap = cap;
	}
	if (!(w->v[w->n].path = strdup(path)))
		return dk_err_set(w->err, DK_ENOMEM, "out of memory");
	w->v[w->n].st = *st;
	w->v[w->n].hardlink = NULL;
	w->n++;
	return 0;
}

/* Collect the tree below dfd (path is its name relative to the root); dfd is consumed. */
static int walk_dir(struct walk *w, int dfd, struct dk_buf *path)
{
	DIR *d = fdopendir(dfd);
	struct dirent *de;
	size_t len = path->len;
	int r = 0;

	if (!d) {
		close(dfd);
		return dk_err_errno(w->err, "/%s", path->data);
	}
	errno = 0;
	while ((de = readdir(d))) {
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		dk_buf_truncate(path, len);
		if (len)
			dk_buf_addc(path, '/');
		dk_buf_adds(path, de->d_name);
		if ((r = dk_buf_check(path, w->err, "path")))
			break;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW)) {
			r = dk_err_errno(w->err, "/%s", path->data);
			break;
		}
		if (S_ISSOCK(st.st_mode))
			continue;
		if ((r = add(w, path->data, &st)))
			break;
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (sub < 0) {
				r = dk_err_errno(w->err, "/%s", path->data);
				break;
			}
			if ((r = walk_dir(w, sub, path)))
				break;
		}
		errno = 0;
	}
	if (!r && errno)
		r = dk_err_errno(w->err, "/%s", path->data);
	dk_buf_truncate(path, len);
	closedir(d);
	return r;
}

static int cmp_path(const void *a, const void *b)
{
	return strcmp(((const struct pent *)a)->path, ((const struct pent *)b)->path);
}

static int cmp_inode(const void *a, const void *b)
{
	const struct pent *x = *(const struct pent *const *)a, *y = *(const struct pent *const *)b;

	if (x->st.st_dev != y->st.st_dev)
		return x->st.st_dev < y->st.st_dev ? -1 : 1;
	if (x->st.st_ino != y->st.st_ino)
		return x->st.st_ino < y->st.st_ino ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* The first name of each multiply-linked inode in sort order is the file; the others link to it. */
static int find_hardlinks(struct walk *w)
{
	struct pent **v = NULL;
	size_t n = 0;

	for (size_t i = 0; i < w->n; i++)
		if (!S_ISDIR(w->v[i].st.st_mode) && w->v[i].st.st_nlink > 1)
			n++;
	if (!n)
		return 0;
	if (!(v = malloc(n * sizeof(*v))))
		return dk_err_set(w->err, DK_ENOMEM, "out of memory");
	n = 0;
	for (size_t i = 0; i < w->n; i++)
		if (!S_ISDIR(w->v[i].st.st_mode) && w->v[i].st.st_nlink > 1)
			v[n++] = &w->v[i];
	qsort(v, n, sizeof(*v), cmp_inode);
	for (size_t i = 1; i < n; i++)
		if (v[i]->st.st_dev == v[i - 1]->st.st_dev && v[i]->st.st_ino == v[i - 1]->st.st_ino)
			v[i]->hardlink = v[i - 1]->hardlink ? v[i - 1]->hardlink : v[i - 1]->path;
	free(v);
	return 0;
}

/*
 * A staging root is thrown away after packing. Removing it after the tar is
 * written costs as long as writing it (one unlink per file); a second thread
 * removes each file once its entry is in the archive instead, on the core
 * the unpacking's decoders no longer need. Directories stay for the caller.
 */
struct remover {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t thread;
	const struct walk *w;
	int rootfd;
	size_t upto; /* entries in the archive: their files may go */
	bool done;
};

static void *remove_packed(void *arg)
{
	struct remover *rm = arg;
	char dir[PATH_MAX];
	int dfd = -1;
	size_t i = 0, upto;
	bool done;

	do {
		pthread_mutex_lock(&rm->mu);
		while (rm->upto == i && !rm->done)
			pthread_cond_wait(&rm->cv, &rm->mu);
		upto = rm->upto;
		done = rm->done;
		pthread_mutex_unlock(&rm->mu);
		for (; i < upto; i++) {
			const char *path = rm->w->v[i].path, *slash = strrchr(path, '/');
			size_t plen = slash ? (size_t)(slash - path) : 0;

			if (S_ISDIR(rm->w->v[i].st.st_mode))
				continue;
			if (plen >= sizeof(dir))
				continue;
			if (dfd < 0 || strlen(dir) != plen || memcmp(dir, path, plen)) {
				if (dfd >= 0)
					close(dfd);
				memcpy(dir, path, plen);
				dir[plen] = '\0';
				dfd = dk_openat_beneath(rm->rootfd, dir, O_PATH | O_DIRECTORY, 0);
			}
			if (dfd >= 0)
				unlinkat(dfd, slash ? slash + 1 : path, 0);
		}
	} while (!done);
	if (dfd >= 0)
		close(dfd);
	return NULL;
}

static void remover_mark(struct remover *rm, size_t upto, bool done)
{
	pthread_mutex_lock(&rm->mu);
	rm->upto = upto;
	rm->done = done;
	pthread_cond_signal(&rm->cv);
	pthread_mutex_unlock(&rm->mu);
}

/* A full disk is the user's to fix; any other write failure is the system's. */
static int ar_fail(struct archive *a, const char *out, const char *path, struct dk_err *err)
{
	int e = archive_errno(a);

	return dk_err_set(err, e == ENOSPC || e == EDQUOT ? DK_EINPUT : DK_EIO, "%s: /%s: %s%s%s%s", out, path,
			  archive_error_string(a), e ? " (" : "", e ? strerror(e) : "", e ? ")" : "");
}

static int write_entry(struct archive *a, struct archive_entry *e, int rootfd, const struct pent *p, int64_t epoch,
		       const struct dk_image_owners *owners, const char *out, char *buf, size_t bufsz,
		       struct dk_err *err)
{
	const struct stat *st = &p->st;
	bool as_root = geteuid() == 0;
	struct dk_image_owner rec;
	char name[8192];
	int fd = -1, r = 0;

	if ((size_t)snprintf(name, sizeof(name), "./%s", p->path) >= sizeof(name))
		return dk_err_set(err, DK_EINPUT, "/%s: path too long", p->path);
	archive_entry_clear(e);
	archive_entry_copy_pathname(e, name);
	if (dk_image_owners_get(owners, p->path, &rec) == 0) {
		/* What the package said and an unprivileged unpacker could not chown or chmod. */
		archive_entry_set_mode(e, (st->st_mode & S_IFMT) | rec.mode);
		archive_entry_set_uid(e, rec.uid);
		archive_entry_set_gid(e, rec.gid);
	} else {
		archive_entry_set_mode(e, st->st_mode & (S_IFMT | 07777));
		/*
		 * Unpacked without root, a file without a record is the builder's standing
		 * for root's: recorded as root's, as tar --owner=0 --group=0 would, so the
		 * image does not carry the builder's ids.
		 */
		archive_entry_set_uid(e, !as_root && st->st_uid == geteuid() ? 0 : st->st_uid);
		archive_entry_set_gid(e, !as_root && st->st_gid == getegid() ? 0 : st->st_gid);
	}
	archive_entry_set_mtime(e, st->st_mtime < epoch ? st->st_mtime : epoch, 0);
	if (p->hardlink) {
		char target[8192];

		snprintf(target, sizeof(target), "./%s", p->hardlink);
		archive_entry_copy_hardlink(e, target);
		archive_entry_set_size(e, 0);
	} else if (S_ISLNK(st->st_mode)) {
		char target[PATH_MAX + 1];
		ssize_t n = readlinkat(rootfd, p->path, target, sizeof(target) - 1);

		if (n < 0)
			return dk_err_errno(err, "/%s", p->path);
		target[n] = '\0';
		archive_entry_copy_symlink(e, target);
	} else if (S_ISREG(st->st_mode)) {
		char cap[512];
		ssize_t n;

		fd = dk_openat_beneath(rootfd, p->path, O_RDONLY | O_NOFOLLOW, 0);
		if (fd < 0)
			return dk_err_errno(err, "/%s", p->path);
		archive_entry_set_size(e, st->st_size);
		/* Only file capabilities: other xattrs (security.selinux) would carry the build host's labels. */
		n = fgetxattr(fd, "security.capability", cap, sizeof(cap));
		if (n > 0)
			archive_entry_xattr_add_entry(e, "security.capability", cap, (size_t)n);
	} else if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode)) {
		archive_entry_set_rdev(e, st->st_rdev);
	}
	if (archive_write_header(a, e) != ARCHIVE_OK) {
		r = ar_fail(a, out, p->path, err);
		goto out;
	}
	if (fd >= 0) {
		int64_t left = st->st_size;
		ssize_t n;

		while (left > 0 && (n = read(fd, buf, bufsz < (uint64_t)left ? bufsz : (size_t)left)) != 0) {
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				r = dk_err_errno(err, "/%s", p->path);
				goto out;
			}
			if (archive_write_data(a, buf, (size_t)n) != n) {
				r = ar_fail(a, out, p->path, err);
				goto out;
			}
			left -= n;
		}
		if (left) {
			r = dk_err_set(err, DK_EIO, "/%s: changed while it was packed", p->path);
			goto out;
		}
	}
out:
	if (fd >= 0)
		close(fd);
	return r;
}

static int set_filter(struct archive *a, enum dk_image_compress c, struct dk_err *err)
{
	int rc = ARCHIVE_OK;

	switch (c) {
	case DK_IMAGE_PLAIN:
		return 0;
	case DK_IMAGE_ZSTD:
		if ((rc = archive_write_add_filter_zstd(a)) == ARCHIVE_OK)
			rc = archive_write_set_filter_option(a, "zstd", "compression-level", ZSTD_LEVEL);
		break;
	case DK_IMAGE_XZ:
		/* One thread: the multi-threaded xz stream has another block layout. */
		if ((rc = archive_write_add_filter_xz(a)) == ARCHIVE_OK &&
		    (rc = archive_write_set_filter_option(a, "xz", "compression-level", XZ_PRESET)) == ARCHIVE_OK)
			rc = archive_write_set_filter_option(a, "xz", "threads", "1");
		break;
	}
	if (rc != ARCHIVE_OK)
		return dk_err_set(err, DK_EINTERNAL, "compression: %s", archive_error_string(a));
	return 0;
}

/*
 * Where the tar goes. When a write callback fails, libarchive 3.6 turns the
 * archive FATAL and never frees its output block (LeakSanitizer shows it on
 * a full disk), so the sink keeps the first error itself and swallows the
 * rest; the archive is closed normally and the error reported after.
 */
struct sink {
	int fd;
	int errnum;
	off_t off, flushed;
	struct dk_hash *hash; /* of what is written, so the image is not read again for it; may be NULL */
};

/* Write-back starts behind the writer, so the final fsync does not wait for the whole image at once. */
#define FLUSH_STEP ((off_t)16 << 20)

static la_ssize_t sink_write(struct archive *a, void *ctx, const void *p, size_t n)
{
	struct sink *s = ctx;
	const char *c = p;
	size_t done = 0;

	(void)a;
	while (!s->errnum && done < n) {
		ssize_t w = write(s->fd, c + done, n - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			s->errnum = w < 0 ? errno : EIO;
		else
			done += (size_t)w;
	}
	if (!s->errnum && s->hash && dk_hash_update(s->hash, p, n, NULL))
		s->errnum = ENOMEM;
	s->off += (off_t)done;
	if (s->off - s->flushed >= FLUSH_STEP) {
		sync_file_range(s->fd, s->flushed, s->off - s->flushed, SYNC_FILE_RANGE_WRITE);
		s->flushed = s->off;
	}
	return (la_ssize_t)n;
}

int dk_image_pack(const char *root, const char *out, enum dk_image_compress c, int64_t epoch, unsigned flags,
		  const struct dk_image_owners *owners, unsigned char *sha256, struct dk_err *err)
{
	struct walk w = { NULL, 0, 0, err };
	struct dk_buf path = DK_BUF_INIT, tmp = DK_BUF_INIT;
	struct archive *a = NULL;
	struct archive_entry *e = NULL;
	char *buf = NULL;
	int rootfd, fd = -1, r;
	struct stat st;
	locale_t cloc = (locale_t)0, old;
	struct sink sink = { -1, 0, 0, 0, NULL };
	struct dk_hash hash;
	struct remover rm = { .w = &w };
	bool hashing = false, removing = false;

	rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return dk_err_errno(err, "%s", root);
	if (fstat(rootfd, &st)) {
		r = dk_err_errno(err, "%s", root);
		close(rootfd);
		return r;
	}
	if ((r = add(&w, "", &st)) || (r = walk_dir(&w, dup(rootfd), &path)))
		goto out;
	qsort(w.v, w.n, sizeof(*w.v), cmp_path);
	if ((r = find_hardlinks(&w)))
		goto out;
	dk_buf_addf(&tmp, "%s.tmp-%ld", out, (long)getpid());
	if ((r = dk_buf_check(&tmp, err, "output name")))
		goto out;
	fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		r = dk_err_errno(err, "%s", tmp.data);
		goto out;
	}
	if (!(a = archive_write_new()) || !(e = archive_entry_new()) || !(buf = malloc(1 << 16))) {
		r = dk_err_set(err, DK_ENOMEM, "out of memory");
		goto out;
	}
	/*
	 * Restricted pax: a plain ustar header unless a name, size or id needs
	 * an extended one, which then holds only those (no atime, ctime,
	 * SCHILY.dev/ino: libarchive writes them only when asked).
	 */
	if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK) {
		r = dk_err_set(err, DK_EINTERNAL, "pax: %s", archive_error_string(a));
		goto out;
	}
	if ((r = set_filter(a, c, err)))
		goto out;
	sink.fd = fd;
	if (sha256) {
		if ((r = dk_hash_init(&hash, DK_SHA256, err)))
			goto out;
		hashing = true;
		sink.hash = &hash;
	}
	/* As archive_write_open_fd does for a regular file: no padding after the last (compressed) byte. */
	archive_write_set_bytes_in_last_block(a, 1);
	if (archive_write_open(a, &sink, NULL, sink_write, NULL) != ARCHIVE_OK) {
		r = dk_err_set(err, DK_EIO, "%s: %s", tmp.data, archive_error_string(a));
		goto out;
	}
	/*
	 * libarchive converts names through the locale's character set: the C
	 * locale, for this thread only, makes the headers the same whatever
	 * locale the caller runs in.
	 */
	if (!(cloc = newlocale(LC_ALL_MASK, "C", (locale_t)0))) {
		r = dk_err_set(err, DK_ENOMEM, "out of memory");
		goto out;
	}
	if (flags & DK_PACK_CONSUME) {
		rm.rootfd = rootfd;
		pthread_mutex_init(&rm.mu, NULL);
		pthread_cond_init(&rm.cv, NULL);
		removing = pthread_create(&rm.thread, NULL, remove_packed, &rm) == 0;
		if (!removing) {
			pthread_mutex_destroy(&rm.mu);
			pthread_cond_destroy(&rm.cv);
		}
	}
	old = uselocale(cloc);
	for (size_t i = 0; i < w.n && !r && !sink.errnum; i++) {
		r = write_entry(a, e, rootfd, &w.v[i], epoch, owners, out, buf, 1 << 16, err);
		if (removing && !r)
			remover_mark(&rm, i + 1, false);
	}
	if (archive_write_close(a) != ARCHIVE_OK && !r)
		r = dk_err_set(err, DK_EIO, "%s: %s", tmp.data, archive_error_string(a));
	if (!r && sink.errnum)
		r = dk_err_set(err, sink.errnum == ENOSPC || sink.errnum == EDQUOT ? DK_EINPUT : DK_EIO,
			       "%s: write: %s", out, strerror(sink.errnum));
	uselocale(old);
	if (r)
		goto out;
	if (hashing && (r = dk_hash_final(&hash, sha256, err)))
		goto out;
	if (fchmod(fd, 0644) || fsync(fd)) {
		r = dk_err_errno(err, "%s", tmp.data);
		goto out;
	}
	if (close(fd)) {
		fd = -1;
		r = dk_err_errno(err, "%s", tmp.data);
		goto out;
	}
	fd = -1;
	if (rename(tmp.data, out))
		r = dk_err_errno(err, "%s", out);
out:
	if (removing) {
		remover_mark(&rm, rm.upto, true);
		pthread_join(rm.thread, NULL);
		pthread_mutex_destroy(&rm.mu);
		pthread_cond_destroy(&rm.cv);
	}
	if (hashing)
		dk_hash_release(&hash);
	if (a)
		archive_write_free(a);
	if (e)
		archive_entry_free(e);
	if (cloc)
		freelocale(cloc);
	if (fd >= 0)
		close(fd);
	if (r && tmp.len)
		unlink(tmp.data);
	for (size_t i = 0; i < w.n; i++)
		free(w.v[i].path);
	free(w.v);
	free(buf);
	dk_buf_release(&path);
	dk_buf_release(&tmp);
	close(rootfd);
	return r;
}
