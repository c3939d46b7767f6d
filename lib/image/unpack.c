/* unpack.c - safe unpacking of a .deb data.tar into a staging root, and dpkg's info files for it */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include <debkeep/buf.h>
#include <debkeep/image.h>
#include <debkeep/strpool.h>

#include "banned.h"

/* All control members of one package together: md5sums of a large package run to megabytes, not more. */
#define CONTROL_MAX ((size_t)32 << 20)
#define NAME_MAX_LEN 4096

static atomic_int no_openat2;

/* The pre-5.6 way: every component opened with O_NOFOLLOW, so no symlink is followed at all. */
static int open_walk(int rootfd, const char *path, int flags, unsigned mode)
{
	char comp[NAME_MAX_LEN];
	const char *p = path, *slash;
	int dfd = rootfd, fd;

	while ((slash = strchr(p, '/'))) {
		size_t n = (size_t)(slash - p);

		if (n == 0 || n >= sizeof(comp)) {
			p = slash + 1;
			if (n == 0)
				continue;
			errno = ENAMETOOLONG;
			goto fail;
		}
		memcpy(comp, p, n);
		comp[n] = '\0';
		if (strcmp(comp, "..") == 0) {
			errno = EXDEV;
			goto fail;
		}
		fd = openat(dfd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			if (errno == ELOOP)
				errno = EXDEV;
			goto fail;
		}
		if (dfd != rootfd)
			close(dfd);
		dfd = fd;
		p = slash + 1;
	}
	if (strcmp(p, "..") == 0) {
		errno = EXDEV;
		goto fail;
	}
	fd = openat(dfd, *p ? p : ".", flags | O_NOFOLLOW | O_CLOEXEC, mode);
	if (dfd != rootfd) {
		int e = errno;

		close(dfd);
		errno = e;
	}
	return fd;
fail:
	if (dfd != rootfd) {
		int e = errno;

		close(dfd);
		errno = e;
	}
	return -1;
}

int dk_openat_beneath(int rootfd, const char *path, int flags, unsigned mode)
{
	struct open_how how = {
		.flags = (unsigned long long)(flags | O_CLOEXEC),
		.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	long fd;

	if (!*path)
		path = ".";
	if (!atomic_load_explicit(&no_openat2, memory_order_relaxed)) {
		do
			fd = syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
		while (fd < 0 && (errno == EINTR || errno == EAGAIN));
		if (fd >= 0 || errno != ENOSYS)
			return (int)fd;
		atomic_store_explicit(&no_openat2, 1, memory_order_relaxed);
	}
	return open_walk(rootfd, path, flags, mode);
}

int dk_image_owners_set(struct dk_image_owners *o, const char *path, uint32_t uid, uint32_t gid, unsigned mode)
{
	dk_id id = dk_strpool_intern(&o->paths, path, strlen(path));

	if (!id)
		return DK_ENOMEM;
	if (id >= o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 256;
		struct dk_image_owner *v;

		while (cap <= id)
			cap *= 2;
		if (!(v = realloc(o->v, cap * sizeof(*v))))
			return DK_ENOMEM;
		memset(v + o->cap, 0, (cap - o->cap) * sizeof(*v));
		o->v = v;
		o->cap = cap;
	}
	o->v[id] = (struct dk_image_owner){ uid, gid, (uint16_t)(mode & 07777), true };
	return 0;
}

int dk_image_owners_get(const struct dk_image_owners *o, const char *path, struct dk_image_owner *out)
{
	dk_id id = o && o->cap ? dk_strpool_lookup(&o->paths, path, strlen(path)) : 0;

	if (!id || id >= o->cap || !o->v[id].set)
		return DK_NOTFOUND;
	*out = o->v[id];
	return 0;
}

void dk_image_owners_forget(struct dk_image_owners *o, const char *path)
{
	dk_id id = o && o->cap ? dk_strpool_lookup(&o->paths, path, strlen(path)) : 0;

	if (id && id < o->cap)
		o->v[id].set = false;
}

void dk_image_owners_release(struct dk_image_owners *o)
{
	dk_strpool_release(&o->paths);
	free(o->v);
	*o = (struct dk_image_owners)DK_IMAGE_OWNERS_INIT;
}

struct queue;

struct unpack {
	int rootfd;
	const struct dk_image_pkg *p;
	unsigned flags;
	bool owners; /* running as root: numeric owners kept */
	struct dk_image_owners *rec; /* not root: what chown would have set, and the modes left off the disk */
	const char *path; /* the entry's clean path, for rec */
	struct queue *q;
	const char *member; /* the ar member being read (control.tar.xz, data.tar.xz...), for messages */
	char member_buf[64];
	char *dir;          /* the parent directory dirfd is open on, relative to the root */
	int dirfd;
	struct dk_buf list;    /* PKG.list */
	struct dk_buf control; /* the control members to install: NAME, NUL, mode and size (binary), bytes */
	struct dk_err *err;
};

/*
 * The member's path made relative and clean: "./usr//bin/" is "usr/bin", "." and "./" are "".
 * Absolute names and ".." components are refused: dpkg-deb never writes them.
 */
static bool clean_path(const char *in, struct dk_buf *out)
{
	const char *p = in;

	dk_buf_reset(out);
	if (!in || *in == '/')
		return false;
	while (*p) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		if (n == 2 && p[0] == '.' && p[1] == '.')
			return false;
		if (n && !(n == 1 && p[0] == '.')) {
			if (out->len)
				dk_buf_addc(out, '/');
			dk_buf_add(out, p, n);
		}
		p += n;
		if (*p == '/')
			p++;
	}
	return !out->failed && out->len < NAME_MAX_LEN;
}

static int escapes(struct unpack *u, const char *name)
{
	return dk_err_set(u->err, DK_EINPUT, "%s: %s: %s: escapes the root", u->p->name, u->member, name);
}

/*
 * A failing call here is the package's doing (a directory where it puts a
 * file, a hard link to nothing) or a full disk: both the user's to fix, so
 * DK_EINPUT, with the package and member named.
 */
static int sys_fail(struct unpack *u, const char *name, const char *what)
{
	int r;

	if (errno == EXDEV || errno == ELOOP)
		return escapes(u, name);
	r = dk_err_errno(u->err, "%s: %s: %s: %s", u->p->name, u->member, name, what);
	if (r == DK_EIO && u->err)
		u->err->code = DK_EINPUT;
	return r == DK_EIO ? DK_EINPUT : r;
}

/* Point dirfd at the parent of path (its length plen) inside the root; base gets the last component. */
static int enter_parent(struct unpack *u, const char *path, const char **base, const char *name)
{
	const char *slash = strrchr(path, '/');
	size_t plen = slash ? (size_t)(slash - path) : 0;
	int fd;

	*base = slash ? slash + 1 : path;
	if (u->dirfd >= 0 && strlen(u->dir) == plen && memcmp(u->dir, path, plen) == 0)
		return 0;
	if (u->dirfd >= 0)
		close(u->dirfd);
	u->dirfd = -1;
	memcpy(u->dir, path, plen);
	u->dir[plen] = '\0';
	fd = dk_openat_beneath(u->rootfd, u->dir, O_PATH | O_DIRECTORY, 0);
	if (fd < 0)
		return sys_fail(u, name, "cannot open its directory");
	u->dirfd = fd;
	return 0;
}

static int write_all(int fd, const void *data, size_t n)
{
	const char *p = data;

	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* dpkg's way to replace what is there: the new object under BASE.dpkg-new, then renamed over BASE. */
static int tmp_name(struct unpack *u, const char *base, char *out, size_t n, const char *name)
{
	if ((size_t)snprintf(out, n, "%s.dpkg-new", base) >= n) {
		errno = ENAMETOOLONG;
		return sys_fail(u, name, "name too long");
	}
	if (unlinkat(u->dirfd, out, 0) && errno != ENOENT)
		return sys_fail(u, name, "cannot remove a stale .dpkg-new");
	return 0;
}

/*
 * The mode an entry gets on disk. Recorded instead of chowned, a set-id file
 * would be set-id to its builder, a sticky or set-group-id directory would
 * pass its bits on, a directory without owner write could not be filled and
 * a file without owner read could not be packed: the record keeps the mode.
 */
static mode_t disk_mode(const struct unpack *u, struct archive_entry *e)
{
	mode_t mode = archive_entry_perm(e) & 07777;

	if (!u->rec)
		return mode;
	mode &= 0777;
	if (archive_entry_filetype(e) == AE_IFDIR)
		mode |= 0700;
	else if (archive_entry_filetype(e) == AE_IFREG)
		mode |= 0600;
	return mode;
}

/* Keep or forget the owner and mode of u->path that the disk does not carry (not root only). */
static int record(struct unpack *u, struct archive_entry *e)
{
	la_int64_t uid = archive_entry_uid(e), gid = archive_entry_gid(e);
	/* A symlink's mode is 0777 whatever the member says, as lstat gives it a root build's packer. */
	mode_t mode = archive_entry_filetype(e) == AE_IFLNK ? 0777 : archive_entry_perm(e) & 07777;

	if (!u->rec)
		return 0;
	if (uid == 0 && gid == 0 && (archive_entry_filetype(e) == AE_IFLNK || disk_mode(u, e) == mode)) {
		dk_image_owners_forget(u->rec, u->path);
		return 0;
	}
	if (dk_image_owners_set(u->rec, u->path, (uint32_t)uid, (uint32_t)gid, mode))
		return dk_err_set(u->err, DK_ENOMEM, "%s: out of memory", u->p->name);
	return 0;
}

static int finish_meta(struct unpack *u, struct archive_entry *e, int fd, const char *base, const char *name)
{
	struct timespec ts[2] = { { archive_entry_mtime(e), 0 }, { archive_entry_mtime(e), 0 } };
	mode_t mode = disk_mode(u, e);
	int rc;

	if (u->owners) {
		rc = fd >= 0 ? fchown(fd, archive_entry_uid(e), archive_entry_gid(e))
			     : fchownat(u->dirfd, base, archive_entry_uid(e), archive_entry_gid(e),
					AT_SYMLINK_NOFOLLOW);
		if (rc)
			return sys_fail(u, name, "chown");
	}
	/* After chown, which clears set-id bits; explicit, so the umask plays no part. */
	if (fd >= 0 && fchmod(fd, mode))
		return sys_fail(u, name, "chmod");
	if ((fd >= 0 ? futimens(fd, ts) : utimensat(u->dirfd, base, ts, AT_SYMLINK_NOFOLLOW)))
		return sys_fail(u, name, "set its time");
	return record(u, e);
}

static int put_file(struct unpack *u, struct archive *a, struct archive_entry *e, const char *base, const char *name)
{
	char tmp[NAME_MAX_LEN + 16];
	const char *target = base;
	const void *data;
	size_t size;
	la_int64_t off, end = 0;
	int fd, r, rc;

	/* dpkg's tar reader has no sparse files either: a hole could stand for terabytes the packing reads. */
	if (archive_entry_sparse_count(e) > 0)
		return dk_err_set(u->err, DK_EINPUT, "%s: %s: %s: sparse file refused", u->p->name, u->member, name);
	fd = openat(u->dirfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST) {
		if ((r = tmp_name(u, base, tmp, sizeof(tmp), name)))
			return r;
		target = tmp;
		fd = openat(u->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	}
	if (fd < 0)
		return sys_fail(u, name, "cannot create");
	/* Blocks straight from the tar reader's buffer; without holes (refused above) they follow each other. */
	while ((rc = archive_read_data_block(a, &data, &size, &off)) == ARCHIVE_OK) {
		if (off != end) {
			r = dk_err_set(u->err, DK_EINPUT, "%s: %s: %s: data out of order", u->p->name, u->member,
				       name);
			goto fail;
		}
		if (write_all(fd, data, size)) {
			r = sys_fail(u, name, "write");
			goto fail;
		}
		end += (la_int64_t)size;
	}
	if (rc != ARCHIVE_EOF) {
		r = dk_err_set(u->err, DK_EINPUT, "%s: %s: %s: %s", u->p->name, u->member, name,
			       archive_error_string(a));
		goto fail;
	}
	if ((r = finish_meta(u, e, fd, target, name)))
		goto fail;
	if (close(fd)) {
		fd = -1;
		r = sys_fail(u, name, "write");
		goto fail;
	}
	if (target != base && renameat(u->dirfd, target, u->dirfd, base)) {
		r = sys_fail(u, name, "cannot replace");
		unlinkat(u->dirfd, target, 0);
		return r;
	}
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlinkat(u->dirfd, target, 0);
	return r;
}

static int put_dir(struct unpack *u, struct archive_entry *e, const char *path, const char *base, const char *name)
{
	struct stat st;
	int fd;

	if (mkdirat(u->dirfd, base, 0700) == 0)
		goto meta;
	if (errno != EEXIST || fstatat(u->dirfd, base, &st, AT_SYMLINK_NOFOLLOW))
		return sys_fail(u, name, "cannot create directory");
	if (S_ISLNK(st.st_mode)) {
		/* A symlink to a directory stands for it, as dpkg has it (/lib -> usr/lib); only inside the root. */
		fd = dk_openat_beneath(u->rootfd, path, O_PATH | O_DIRECTORY, 0);
		if (fd < 0 && errno == ENOTDIR)
			return dk_err_set(u->err, DK_EINPUT, "%s: %s: %s: a symlink to a non-directory is in the way",
					  u->p->name, u->member, name);
		if (fd < 0)
			return sys_fail(u, name, "cannot open directory");
		close(fd);
		return 0;
	}
	if (!S_ISDIR(st.st_mode))
		return dk_err_set(u->err, DK_EINPUT, "%s: %s: %s: a file is in the way of this directory", u->p->name,
				  u->member, name);
meta:
	/* An existing directory is merged: only its owner and mode follow the package. */
	if (u->owners && fchownat(u->dirfd, base, archive_entry_uid(e), archive_entry_gid(e), AT_SYMLINK_NOFOLLOW))
		return sys_fail(u, name, "chown");
	if (fchmodat(u->dirfd, base, disk_mode(u, e), 0))
		return sys_fail(u, name, "chmod");
	return record(u, e);
}

static int put_symlink(struct unpack *u, struct archive_entry *e, const char *base, const char *name)
{
	const char *to = archive_entry_symlink(e);
	char tmp[NAME_MAX_LEN + 16];
	int r;

	if (!to || !*to)
		return dk_err_set(u->err, DK_EINPUT, "%s: %s: %s: symlink without a target", u->p->name, u->member,
				  name);
	/* The target is data: it may point anywhere, nothing here follows it. */
	if (symlinkat(to, u->dirfd, base) == 0)
		return finish_meta(u, e, -1, base, name);
	if (errno != EEXIST)
		return sys_fail(u, name, "cannot create symlink");
	if ((r = tmp_name(u, base, tmp, sizeof(tmp), name)))
		return r;
	if (symlinkat(to, u->dirfd, tmp))
		return sys_fail(u, name, "cannot create symlink");
	if ((r = finish_meta(u, e, -1, tmp, name)) == 0 && renameat(u->dirfd, tmp, u->dirfd, base))
		r = sys_fail(u, name, "cannot replace");
	if (r)
		unlinkat(u->dirfd, tmp, 0);
	return r;
}

static int put_hardlink(struct unpack *u, const char *base, const char *name, struct dk_buf *scratch)
{
	char tmp[NAME_MAX_LEN + 16];
	const char *slash, *tbase;
	int tfd, r = 0;

	slash = strrchr(scratch->data, '/');
	tbase = slash ? slash + 1 : scratch->data;
	if (slash)
		scratch->data[slash - scratch->data] = '\0';
	tfd = dk_openat_beneath(u->rootfd, slash ? scratch->data : "", O_PATH | O_DIRECTORY, 0);
	if (tfd < 0)
		return sys_fail(u, name, "cannot open the hard link's target directory");
	/* linkat without AT_SYMLINK_FOLLOW links the name itself: a symlink there is not followed. */
	if (linkat(tfd, tbase, u->dirfd, base, 0) == 0)
		goto out;
	if (errno != EEXIST) {
		r = sys_fail(u, name, "cannot create hard link");
		goto out;
	}
	if ((r = tmp_name(u, base, tmp, sizeof(tmp), name)))
		goto out;
	if (linkat(tfd, tbase, u->dirfd, tmp, 0))
		r = sys_fail(u, name, "cannot create hard link");
	else if (renameat(u->dirfd, tmp, u->dirfd, base)) {
		r = sys_fail(u, name, "cannot replace");
		unlinkat(u->dirfd, tmp, 0);
	}
out:
	close(tfd);
	return r;
}

static int put_node(struct unpack *u, struct archive_entry *e, const char *base, const char *name)
{
	mode_t type = archive_entry_filetype(e);
	char tmp[NAME_MAX_LEN + 16];
	const char *target = base;
	int r;

	if (u->flags & DK_UNPACK_NO_DEVICES)
		return dk_err_set(u->err, DK_EINPUT, "%s: %s: %s: %s refused in extract mode", u->p->name, u->member,
				  name, type == AE_IFIFO ? "fifo" : "device node");
	if ((r = tmp_name(u, base, tmp, sizeof(tmp), name)))
		return r;
	target = tmp;
	if (mknodat(u->dirfd, target, type | 0600, archive_entry_rdev(e)))
		return sys_fail(u, name, "mknod");
	if ((r = finish_meta(u, e, -1, target, name)) == 0 && fchmodat(u->dirfd, target, disk_mode(u, e), 0))
		r = sys_fail(u, name, "chmod");
	if (r == 0 && renameat(u->dirfd, target, u->dirfd, base))
		r = sys_fail(u, name, "cannot replace");
	if (r)
		unlinkat(u->dirfd, target, 0);
	return r;
}

static int unpack_entry(struct unpack *u, struct archive *a, struct archive_entry *e, struct dk_buf *path,
			struct dk_buf *scratch)
{
	const char *name = archive_entry_pathname(e);
	const char *hard = archive_entry_hardlink(e);
	struct dk_image_owner target;
	bool target_rec = false;
	const char *base;
	int r;

	if (!clean_path(name, path))
		return escapes(u, name ? name : "(no name)");
	if (path->len == 0) {
		/* The root itself ("./"): the staging root's own mode is the build's, not a package's. */
		if (archive_entry_filetype(e) != AE_IFDIR)
			return escapes(u, name);
		return dk_buf_adds(&u->list, "/.\n");
	}
	if (hard && (!clean_path(hard, scratch) || scratch->len == 0))
		return escapes(u, name);
	if ((r = enter_parent(u, path->data, &base, name)))
		return r;
	u->path = path->data;
	if (hard) {
		/* The same inode: the same owner and mode as the name it links to. */
		target_rec = dk_image_owners_get(u->rec, scratch->data, &target) == 0;
		r = put_hardlink(u, base, name, scratch);
		if (r == 0 && u->rec && !target_rec)
			dk_image_owners_forget(u->rec, u->path);
		else if (r == 0 && u->rec && dk_image_owners_set(u->rec, u->path, target.uid, target.gid, target.mode))
			r = dk_err_set(u->err, DK_ENOMEM, "%s: out of memory", u->p->name);
	} else {
		switch (archive_entry_filetype(e)) {
		case AE_IFREG:
			r = put_file(u, a, e, base, name);
			break;
		case AE_IFDIR:
			r = put_dir(u, e, path->data, base, name);
			break;
		case AE_IFLNK:
			r = put_symlink(u, e, base, name);
			break;
		case AE_IFCHR:
		case AE_IFBLK:
		case AE_IFIFO:
			r = put_node(u, e, base, name);
			break;
		default:
			r = dk_err_set(u->err, DK_EINPUT, "%s: %s: %s: unsupported file type", u->p->name, u->member,
				       name);
		}
	}
	if (r)
		return r;
	dk_buf_addc(&u->list, '/');
	dk_buf_add(&u->list, path->data, path->len);
	return dk_buf_addc(&u->list, '\n');
}

/*
 * Decompression runs in other threads, ahead of the writer and across
 * packages: each decoder takes every DECODERS-th package, walks its members
 * in dpkg's order and queues the decompressed control.tar and data.tar as
 * chunks, while the calling thread parses the tar streams and creates the
 * files, still one at a time in package and archive order, so the result
 * does not depend on scheduling. xz alone takes longer than all the file
 * system calls; run one after the other per package, small packages would
 * also leave a core idle at every start and end. Each queue holds at most
 * QUEUE_MAX bytes, whatever the input.
 */
#define DECODERS 2
#define QUEUE_MAX ((size_t)32 << 20)
#define CHUNK_SIZE ((size_t)256 << 10)

enum event {
	EV_MEMBER, /* a stream starts: code 0 control.tar, 1 data.tar; data holds the member's name */
	EV_BYTES,  /* the stream's next bytes */
	EV_END,    /* the stream ends */
	EV_FAIL,   /* the stream cannot be decompressed: data holds why */
	EV_ERROR,  /* the package is refused: code and the whole message */
	EV_DONE,   /* the package's members are all queued */
};

struct chunk {
	struct chunk *next;
	enum event ev;
	int code;
	size_t len;
	char data[];
};

struct queue {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct chunk *head, *tail, *cur; /* cur: the chunk the reader's bytes point into */
	size_t bytes;
	bool stop, finished;
	bool ended; /* the reader has seen its stream's EV_END or EV_FAIL */
	const struct dk_image_pkg *pkgs;
	size_t first, n; /* this decoder's packages: first, first + DECODERS, ... below n */
	unsigned flags;
	struct archive *outer; /* the decoder's ar reader */
	pthread_t thread;
};

static struct chunk *chunk_new(enum event ev, int code, size_t cap)
{
	struct chunk *c = malloc(sizeof(*c) + cap + 1);

	if (c)
		*c = (struct chunk){ .ev = ev, .code = code };
	return c;
}

/* Queue c (consumed); false when the reader has stopped or memory ran out. */
static bool push(struct queue *q, struct chunk *c)
{
	if (!c)
		return false;
	pthread_mutex_lock(&q->mu);
	while (q->bytes >= QUEUE_MAX && !q->stop)
		pthread_cond_wait(&q->cv, &q->mu);
	if (q->stop) {
		pthread_mutex_unlock(&q->mu);
		free(c);
		return false;
	}
	if (q->tail)
		q->tail->next = c;
	else
		q->head = c;
	q->tail = c;
	q->bytes += c->len;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
	return true;
}

static bool push_msg(struct queue *q, enum event ev, int code, const char *fmt, ...) DK_PRINTF(4, 5);
static bool push_msg(struct queue *q, enum event ev, int code, const char *fmt, ...)
{
	struct chunk *c = chunk_new(ev, code, 512);
	va_list ap;

	if (!c)
		return false;
	va_start(ap, fmt);
	vsnprintf(c->data, 512, fmt, ap);
	va_end(ap);
	return push(q, c);
}

/* The next chunk, or NULL when the decoder has gone (out of memory). */
static struct chunk *take(struct queue *q)
{
	struct chunk *c;

	free(q->cur);
	q->cur = NULL;
	pthread_mutex_lock(&q->mu);
	while (!q->head && !q->finished)
		pthread_cond_wait(&q->cv, &q->mu);
	if ((c = q->head)) {
		q->head = c->next;
		if (!q->head)
			q->tail = NULL;
		q->bytes -= c->len;
		pthread_cond_broadcast(&q->cv);
	}
	pthread_mutex_unlock(&q->mu);
	q->cur = c;
	return c;
}

static la_ssize_t member_read(struct archive *a, void *ctx, const void **buf)
{
	struct archive *outer = ctx;
	size_t size;
	la_int64_t off;
	int rc = archive_read_data_block(outer, buf, &size, &off);

	if (rc == ARCHIVE_EOF)
		return 0;
	if (rc != ARCHIVE_OK) {
		archive_set_error(a, EINVAL, "%s", archive_error_string(outer));
		return -1;
	}
	return (la_ssize_t)size;
}

/* Queue the current ar member decompressed; false when the reader has stopped or memory ran out. */
static bool decode_member(struct queue *q, bool data)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	struct chunk *c = NULL;
	la_ssize_t n = -1;
	bool ok = false, live = true;

	if (!a)
		return false;
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_zstd(a);
	if (data) {
		archive_read_support_filter_bzip2(a);
		archive_read_support_filter_lzma(a);
	}
	archive_read_support_format_raw(a);
	if (archive_read_open(a, q->outer, NULL, member_read, NULL) == ARCHIVE_OK &&
	    archive_read_next_header(a, &e) == ARCHIVE_OK) {
		for (;;) {
			if (!c && !(c = chunk_new(EV_BYTES, 0, CHUNK_SIZE))) {
				live = false;
				break;
			}
			n = archive_read_data(a, c->data + c->len, CHUNK_SIZE - c->len);
			if (n > 0)
				c->len += (size_t)n;
			if (c->len && (n <= 0 || c->len == CHUNK_SIZE)) {
				live = push(q, c);
				c = NULL;
				if (!live)
					break;
			}
			if (n <= 0)
				break;
		}
		ok = n == 0;
	}
	free(c);
	if (live)
		live = ok ? push_msg(q, EV_END, 0, "%s", "")
			  : push_msg(q, EV_FAIL, 0, "%s",
				     archive_error_string(a) ? archive_error_string(a) : "cannot decompress");
	archive_read_free(a);
	return live;
}

static bool member_is(const char *p, const char *base)
{
	size_t n = strlen(base);

	if (strncmp(p, base, n))
		return false;
	p += n;
	return !*p || !strcmp(p, ".gz") || !strcmp(p, ".xz") || !strcmp(p, ".zst") ||
	       (!strcmp(base, "data.tar") && (!strcmp(p, ".bz2") || !strcmp(p, ".lzma")));
}

/* One package's members in dpkg's order: debian-binary, control.tar*, data.tar*; '_' members may stand between. */
static bool decode_pkg(struct queue *q, const struct dk_image_pkg *p)
{
	struct archive_entry *e;
	char member[64], head[64];
	int rc = ARCHIVE_OK, idx = 0;
	bool control = false, data = false, live = true;

	if (!(q->outer = archive_read_new()))
		return false;
	archive_read_support_format_ar(q->outer);
	if (archive_read_open_filename(q->outer, p->deb, 1 << 16) != ARCHIVE_OK) {
		live = push_msg(q, EV_ERROR, DK_EINPUT, "%s: %s: %s", p->name, p->deb,
				archive_error_string(q->outer));
		goto out;
	}
	while (!data && (rc = archive_read_next_header(q->outer, &e)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(e);

		snprintf(member, sizeof(member), "%s", name ? name : "");
		if (idx++ == 0) {
			la_ssize_t n = archive_read_data(q->outer, head, sizeof(head));

			if (strcmp(member, "debian-binary") || n < 4 || memcmp(head, "2.", 2)) {
				live = push_msg(q, EV_ERROR, DK_EINPUT, "%s: not a .deb (no debian-binary 2.x first)",
						p->name);
				goto out;
			}
		} else if (member[0] == '_') {
			continue;
		} else if (!control && member_is(member, "control.tar")) {
			control = true;
			if ((q->flags & DK_UNPACK_DPKG_INFO) &&
			    !(live = push_msg(q, EV_MEMBER, 0, "%s", member) && decode_member(q, false)))
				goto out;
		} else if (control && member_is(member, "data.tar")) {
			data = true;
			if (!(live = push_msg(q, EV_MEMBER, 1, "%s", member) && decode_member(q, true)))
				goto out;
		} else {
			live = push_msg(q, EV_ERROR, DK_EINPUT, "%s: unexpected member '%s' before %s", p->name,
					member, control ? "data.tar" : "control.tar");
			goto out;
		}
	}
	if (!data) {
		if (rc != ARCHIVE_EOF)
			live = push_msg(q, EV_ERROR, DK_EINPUT, "%s: %s", p->name,
					idx == 0 ? "not a .deb (not an ar archive)" : archive_error_string(q->outer));
		else
			live = push_msg(q, EV_ERROR, DK_EINPUT, "%s: not a .deb (no %s member)", p->name,
					control ? "data.tar" : "control.tar");
		goto out;
	}
	live = push_msg(q, EV_DONE, 0, "%s", "");
out:
	archive_read_free(q->outer);
	q->outer = NULL;
	return live;
}

static void *decoder(void *arg)
{
	struct queue *q = arg;

	for (size_t i = q->first; i < q->n && decode_pkg(q, &q->pkgs[i]); i += DECODERS)
		;
	pthread_mutex_lock(&q->mu);
	q->finished = true;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

/* The tar reader's input: the bytes of the current stream, up to its EV_END. */
static la_ssize_t stream_read(struct archive *a, void *ctx, const void **out)
{
	struct queue *q = ctx;
	struct chunk *c;

	if (q->ended)
		return 0;
	if (!(c = take(q))) {
		q->ended = true;
		archive_set_error(a, ENOMEM, "out of memory");
		return -1;
	}
	switch (c->ev) {
	case EV_BYTES:
		*out = c->data;
		return (la_ssize_t)c->len;
	case EV_END:
		q->ended = true;
		return 0;
	case EV_FAIL:
		q->ended = true;
		archive_set_error(a, EINVAL, "%s", c->data);
		return -1;
	default:
		q->ended = true;
		archive_set_error(a, EINVAL, "the decompressor lost its place");
		return -1;
	}
}

/* A tar reader on the current stream; the caller drains it with stream_close. */
static struct archive *stream_open(struct unpack *u)
{
	struct archive *a = archive_read_new();

	u->q->ended = false;
	if (!a) {
		dk_err_set(u->err, DK_ENOMEM, "%s: out of memory", u->p->name);
		return NULL;
	}
	archive_read_support_format_tar(a);
	if (archive_read_open(a, u->q, NULL, stream_read, NULL) != ARCHIVE_OK) {
		dk_err_set(u->err, DK_EINPUT, "%s: %s: %s", u->p->name, u->member, archive_error_string(a));
		archive_read_free(a);
		return NULL;
	}
	return a;
}

/* Skip what the tar reader left of its stream (padding after the end blocks) up to EV_END. */
static void stream_close(struct unpack *u, struct archive *a)
{
	if (a)
		archive_read_free(a);
	while (!u->q->ended) {
		struct chunk *c = take(u->q);

		if (!c || c->ev != EV_BYTES)
			u->q->ended = true;
	}
}

static int unpack_data(struct unpack *u)
{
	struct dk_buf path = DK_BUF_INIT, scratch = DK_BUF_INIT;
	struct archive_entry *e;
	struct archive *a;
	int r = 0, rc;

	if (!(a = stream_open(u)))
		return u->err && u->err->code ? u->err->code : DK_EINPUT;
	while ((rc = archive_read_next_header(a, &e)) == ARCHIVE_OK)
		if ((r = unpack_entry(u, a, e, &path, &scratch)))
			goto out;
	if (rc != ARCHIVE_EOF)
		r = dk_err_set(u->err, DK_EINPUT, "%s: %s: %s", u->p->name, u->member, archive_error_string(a));
out:
	stream_close(u, a);
	dk_buf_release(&path);
	dk_buf_release(&scratch);
	return r;
}

/* Control member names dpkg installs as info files: plain names, never "control" itself. */
static bool info_name(const char *s)
{
	size_t n = 0;

	if (!s || *s == '.' || strcmp(s, "control") == 0)
		return false;
	for (; s[n]; n++)
		if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') || (s[n] >= '0' && s[n] <= '9') ||
		      s[n] == '_' || s[n] == '-' || s[n] == '.' || s[n] == '+'))
			return false;
	return n > 0 && n < 64;
}

static int read_control(struct unpack *u)
{
	struct archive_entry *e;
	struct archive *a;
	char buf[1 << 14];
	int r = 0, rc;

	if (!(a = stream_open(u)))
		return u->err && u->err->code ? u->err->code : DK_EINPUT;
	while ((rc = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(e);
		la_ssize_t n = 0;
		unsigned mode = archive_entry_perm(e) & 0777;
		size_t start;

		if (name && name[0] == '.' && name[1] == '/')
			name += 2;
		if (archive_entry_filetype(e) != AE_IFREG || !info_name(name))
			continue;
		dk_buf_adds(&u->control, name);
		dk_buf_addc(&u->control, '\0');
		dk_buf_add(&u->control, &mode, sizeof(mode));
		start = u->control.len;
		dk_buf_add(&u->control, &(size_t){ 0 }, sizeof(size_t));
		while (!u->control.failed && (n = archive_read_data(a, buf, sizeof(buf))) > 0)
			dk_buf_add(&u->control, buf, (size_t)n);
		if (u->control.failed) {
			r = dk_err_set(u->err, DK_EINPUT, "%s: %s: control members larger than %zu MiB", u->p->name,
				       u->member, CONTROL_MAX >> 20);
			goto out;
		}
		if (n < 0) {
			rc = ARCHIVE_FATAL;
			break;
		}
		memcpy(u->control.data + start, &(size_t){ u->control.len - start - sizeof(size_t) }, sizeof(size_t));
	}
	if (rc != ARCHIVE_EOF)
		r = dk_err_set(u->err, DK_EINPUT, "%s: %s: %s", u->p->name, u->member, archive_error_string(a));
out:
	stream_close(u, a);
	return r;
}

int dk_image_mkdirs(int rootfd, const char *path, unsigned mode)
{
	char buf[NAME_MAX_LEN];
	size_t n = strlen(path);
	int dfd;

	if (n >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, path, n + 1);
	dfd = dk_openat_beneath(rootfd, "", O_PATH | O_DIRECTORY, 0);
	for (char *c = buf; dfd >= 0 && c;) {
		char *s = strchr(c, '/');
		int fd;

		if (s)
			*s = '\0';
		if (mkdirat(dfd, c, 0700) == 0)
			fchmodat(dfd, c, mode, 0);
		else if (errno != EEXIST)
			goto fail;
		fd = dk_openat_beneath(rootfd, buf, O_PATH | O_DIRECTORY, 0);
		if (fd < 0)
			goto fail;
		close(dfd);
		dfd = fd;
		if (s)
			*s = '/';
		c = s ? s + 1 : NULL;
	}
	return dfd;
fail:
	if (dfd >= 0) {
		int e = errno;

		close(dfd);
		errno = e;
	}
	return -1;
}

static bool multiarch_same(const char *control)
{
	for (const char *l = control; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (strncasecmp(l, "Multi-Arch:", 11) == 0) {
			l += 11;
			while (*l == ' ' || *l == '\t')
				l++;
			return strncmp(l, "same", 4) == 0 && (l[4] == '\n' || l[4] == '\0' || l[4] == ' ');
		}
	}
	return false;
}

static int write_info(struct unpack *u, int infofd, const char *prefix, const char *what, const void *data,
		      size_t len, unsigned mode)
{
	char name[512], tmp[540];
	int fd;

	if ((size_t)snprintf(name, sizeof(name), "%s.%s", prefix, what) >= sizeof(name))
		return dk_err_set(u->err, DK_EINPUT, "%s: info file name too long", u->p->name);
	snprintf(tmp, sizeof(tmp), "%s.dpkg-new", name);
	unlinkat(infofd, tmp, 0);
	fd = openat(infofd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || write_all(fd, data, len) || fchmod(fd, mode) || close(fd)) {
		int r = dk_err_errno(u->err, "%s: var/lib/dpkg/info/%s", u->p->name, name);

		if (fd >= 0)
			close(fd);
		unlinkat(infofd, tmp, 0);
		return r;
	}
	if (renameat(infofd, tmp, infofd, name)) {
		unlinkat(infofd, tmp, 0);
		return dk_err_errno(u->err, "%s: var/lib/dpkg/info/%s", u->p->name, name);
	}
	/* A package that shipped this path itself does not give the info file its owner. */
	if (u->rec) {
		snprintf(tmp, sizeof(tmp), "var/lib/dpkg/info/%s", name);
		dk_image_owners_forget(u->rec, tmp);
	}
	return 0;
}

static int write_infos(struct unpack *u)
{
	char prefix[256];
	int infofd, r;

	if (multiarch_same(u->p->control))
		snprintf(prefix, sizeof(prefix), "%s:%s", u->p->name, u->p->arch);
	else
		snprintf(prefix, sizeof(prefix), "%s", u->p->name);
	if ((r = dk_buf_check(&u->list, u->err, "file list"))) {
		dk_err_prefix(u->err, "%s", u->p->name);
		return r;
	}
	infofd = dk_image_mkdirs(u->rootfd, "var/lib/dpkg/info", 0755);
	if (infofd < 0)
		return dk_err_errno(u->err, "%s: var/lib/dpkg/info", u->p->name);
	r = write_info(u, infofd, prefix, "list", u->list.data, u->list.len, 0644);
	for (size_t off = 0; r == 0 && off < u->control.len;) {
		const char *name = u->control.data + off;
		unsigned mode;
		size_t len;

		off += strlen(name) + 1;
		memcpy(&mode, u->control.data + off, sizeof(mode));
		off += sizeof(mode);
		memcpy(&len, u->control.data + off, sizeof(len));
		off += sizeof(len);
		r = write_info(u, infofd, prefix, name, u->control.data + off, len, mode);
		off += len;
	}
	close(infofd);
	return r;
}


/* The writer's side of one package: its streams as the decoder queued them, then its info files. */
static int unpack_one(struct unpack *u)
{
	struct chunk *c;
	int r;

	while ((c = take(u->q)) && c->ev != EV_DONE) {
		bool data = c->code != 0;

		if (c->ev == EV_ERROR)
			return dk_err_set(u->err, c->code, "%s", c->data);
		if (c->ev != EV_MEMBER)
			return dk_err_set(u->err, DK_EINTERNAL, "%s: the decompressor lost its place", u->p->name);
		snprintf(u->member_buf, sizeof(u->member_buf), "%s", c->data);
		u->member = u->member_buf;
		if ((r = data ? unpack_data(u) : read_control(u)))
			return r;
	}
	if (!c)
		return dk_err_set(u->err, DK_ENOMEM, "%s: out of memory", u->p->name);
	return (u->flags & DK_UNPACK_DPKG_INFO) ? write_infos(u) : 0;
}

static void queue_stop(struct queue *q)
{
	pthread_mutex_lock(&q->mu);
	q->stop = true;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
	pthread_join(q->thread, NULL);
	free(q->cur);
	for (struct chunk *c = q->head, *next; c; c = next) {
		next = c->next;
		free(c);
	}
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->cv);
}

int dk_image_unpack_owned(int rootfd, const struct dk_image_pkg *pkgs, size_t n, unsigned flags,
			  struct dk_image_owners *owners, int (*after)(void *ctx, size_t done), void *ctx,
			  struct dk_err *err)
{
	struct queue *q = calloc(DECODERS, sizeof(*q));
	char *dir = malloc(NAME_MAX_LEN + 1);
	bool as_root = geteuid() == 0 && !(flags & DK_UNPACK_RECORD_OWNERS);
	size_t nq = 0;
	int r = 0;

	if (!q || !dir) {
		free(q);
		free(dir);
		return dk_err_set(err, DK_ENOMEM, "out of memory");
	}
	for (; nq < DECODERS && nq < n; nq++) {
		q[nq].pkgs = pkgs;
		q[nq].first = nq;
		q[nq].n = n;
		q[nq].flags = flags;
		pthread_mutex_init(&q[nq].mu, NULL);
		pthread_cond_init(&q[nq].cv, NULL);
		if (pthread_create(&q[nq].thread, NULL, decoder, &q[nq])) {
			pthread_mutex_destroy(&q[nq].mu);
			pthread_cond_destroy(&q[nq].cv);
			r = dk_err_set(err, DK_EIO, "%s: cannot start a thread", pkgs[nq].name);
			break;
		}
	}
	for (size_t i = 0; i < n && !r; i++) {
		struct unpack u = { .rootfd = rootfd, .p = &pkgs[i], .flags = flags, .owners = as_root,
				    .rec = as_root ? NULL : owners, .q = &q[i % DECODERS], .member = "", .dir = dir,
				    .dirfd = -1, .err = err };

		dk_buf_init(&u.list, 0);
		dk_buf_init(&u.control, CONTROL_MAX);
		r = unpack_one(&u);
		if (u.dirfd >= 0)
			close(u.dirfd);
		dk_buf_release(&u.list);
		dk_buf_release(&u.control);
		if (!r && after)
			r = after(ctx, i + 1);
	}
	while (nq)
		queue_stop(&q[--nq]);
	free(q);
	free(dir);
	return r;
}

int dk_image_unpack_all(int rootfd, const struct dk_image_pkg *pkgs, size_t n, unsigned flags,
			int (*after)(void *ctx, size_t done), void *ctx, struct dk_err *err)
{
	return dk_image_unpack_owned(rootfd, pkgs, n, flags, NULL, after, ctx, err);
}

int dk_image_unpack(int rootfd, const struct dk_image_pkg *p, unsigned flags, struct dk_err *err)
{
	return dk_image_unpack_all(rootfd, p, 1, flags, NULL, NULL, err);
}
