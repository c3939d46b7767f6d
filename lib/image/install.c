/* install.c - root mode: install with the image's own dpkg in a chroot, as debootstrap and mmdebstrap do */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <debkeep/buf.h>
#include <debkeep/deb822.h>
#include <debkeep/image.h>
#include <debkeep/relation.h>

#include "banned.h"

/* Where the .debs appear inside the chroot: a read-only bind mount of their directory, nothing copied. */
#define DEBS_DIR "tmp/debkeep-debs"
#define POLICY_RC_D "usr/sbin/policy-rc.d"
#define POLICY_RC_D_TEXT "#!/bin/sh\n# debkeep: no service starts while the image is built\nexit 101\n"
#define HOSTNAME "localhost"
#define LINE_MAX_LEN 4096

enum phase {
	PH_ESSENTIAL, /* unpacked by us, then dpkg --install: what dpkg and maintainer scripts need to run */
	PH_PREDEP,    /* pre-depended on by the rest: configured before the rest is unpacked */
	PH_REST,      /* dpkg --unpack, then configured by dpkg --configure -a in dependency order */
};

struct provide {
	const char *name;
	size_t len;
	size_t pkg;
};

struct plan {
	const struct dk_image_pkg *pkgs;
	size_t n;
	size_t *by_name; /* indices sorted by name */
	struct provide *prov;
	size_t nprov, provcap;
	char **pre, **dep, **provides; /* per package: the fields' values, NULL when absent; prov points in */
	unsigned char *phase;
	bool *mark;
	size_t *work;
	size_t nwork;
};

/* ---- which package goes in which phase ---- */

static int cmp_slice(const char *a, size_t an, const char *b, size_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);

	return c ? c : (an > bn) - (an < bn);
}

static int cmp_by_name(const void *a, const void *b, void *ctx)
{
	const struct dk_image_pkg *pkgs = ctx;

	return strcmp(pkgs[*(const size_t *)a].name, pkgs[*(const size_t *)b].name);
}

static int cmp_prov(const void *a, const void *b)
{
	const struct provide *x = a, *y = b;
	int c = cmp_slice(x->name, x->len, y->name, y->len);

	/* Of several providers, the same one on every build. */
	return c ? c : (x->pkg > y->pkg) - (x->pkg < y->pkg);
}

/* The package named (or, failing that, providing) name; SIZE_MAX when the set has none. */
static size_t find_pkg(const struct plan *pl, const char *name, size_t len)
{
	size_t lo = 0, hi = pl->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *m = pl->pkgs[pl->by_name[mid]].name;
		int c = cmp_slice(m, strlen(m), name, len);

		if (c == 0)
			return pl->by_name[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	lo = 0;
	hi = pl->nprov;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = cmp_slice(pl->prov[mid].name, pl->prov[mid].len, name, len);

		if (c == 0)
			return pl->prov[mid].pkg;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return SIZE_MAX;
}

struct scan_ctx {
	struct plan *pl;
	size_t group;
	bool done; /* the current group already has its member */
	size_t pkg;
};

/* Marks the first alternative of each group that the set holds, as apt would have picked it. */
static int mark_atom(void *ctx, const struct dk_dep_atom *a, size_t group, struct dk_err *err)
{
	struct scan_ctx *s = ctx;
	size_t i;

	if (group != s->group) {
		s->group = group;
		s->done = false;
	}
	if (s->done)
		return 0;
	i = find_pkg(s->pl, a->name.p, a->name.n);
	if (i == SIZE_MAX)
		return 0;
	s->done = true;
	if (!s->pl->mark[i]) {
		s->pl->mark[i] = true;
		s->pl->work[s->pl->nwork++] = i;
	}
	return 0;
}

static int add_provide(void *ctx, const struct dk_dep_atom *a, size_t group, struct dk_err *err)
{
	struct scan_ctx *s = ctx;
	struct plan *pl = s->pl;

	if (pl->nprov == pl->provcap) {
		size_t cap = pl->provcap ? pl->provcap * 2 : 64;
		struct provide *p = realloc(pl->prov, cap * sizeof(*p));

		if (!p)
			return dk_err_set(err, DK_ENOMEM, "out of memory");
		pl->prov = p;
		pl->provcap = cap;
	}
	pl->prov[pl->nprov++] = (struct provide){ a->name.p, a->name.n, s->pkg };
	return 0;
}

static int mark_field(struct plan *pl, size_t i, const char *value, struct dk_err *err)
{
	struct scan_ctx s = { .pl = pl, .group = SIZE_MAX };

	if (!value)
		return 0;
	if (dk_relation_scan(value, strlen(value), DK_REL_BINARY, mark_atom, &s, err))
		return dk_err_prefix(err, "%s", pl->pkgs[i].name);
	return 0;
}

/* Everything marked so far, and what it Depends or Pre-Depends on, transitively. */
static int close_marked(struct plan *pl, struct dk_err *err)
{
	int rc = 0;

	while (!rc && pl->nwork) {
		size_t i = pl->work[--pl->nwork];

		rc = mark_field(pl, i, pl->pre[i], err);
		if (!rc)
			rc = mark_field(pl, i, pl->dep[i], err);
	}
	return rc;
}

static char *field_dup(const struct dk_stanza *st, const char *name, struct dk_err *err, int *rc)
{
	const struct dk_field *f = dk_stanza_get(st, name);
	struct dk_buf b = DK_BUF_INIT;
	int r;

	if (!f)
		return NULL;
	dk_field_value(f, &b);
	if ((r = dk_buf_check(&b, err, name))) {
		*rc = r;
		dk_buf_release(&b);
		return NULL;
	}
	return dk_buf_detach(&b, NULL);
}

static void plan_release(struct plan *pl)
{
	for (size_t i = 0; pl->pre && i < pl->n; i++) {
		free(pl->pre[i]);
		free(pl->dep[i]);
		free(pl->provides[i]);
	}
	free(pl->pre);
	free(pl->dep);
	free(pl->provides);
	free(pl->by_name);
	free(pl->prov);
	free(pl->phase);
	free(pl->mark);
	free(pl->work);
}

/*
 * The Essential set is closed under Depends as well as Pre-Depends, as mmdebstrap's essential variant is:
 * dpkg --install --force-depends configures it in one go, and a maintainer script of an essential package
 * may run anything its package depends on. Of the rest, what is pre-depended on (and its closure) is
 * configured before the others are unpacked, because dpkg --unpack refuses an unconfigured pre-dependency.
 */
static int plan_phases(struct plan *pl, const struct dk_image_pkg *pkgs, size_t n, struct dk_err *err)
{
	struct scan_ctx prov = { .pl = pl };
	int rc;

	pl->pkgs = pkgs;
	pl->n = n;
	pl->by_name = calloc(n, sizeof(size_t));
	pl->pre = calloc(n, sizeof(char *));
	pl->dep = calloc(n, sizeof(char *));
	pl->provides = calloc(n, sizeof(char *));
	pl->phase = calloc(n, 1);
	pl->mark = calloc(n, sizeof(bool));
	pl->work = calloc(n, sizeof(size_t));
	if (!pl->by_name || !pl->pre || !pl->dep || !pl->provides || !pl->phase || !pl->mark || !pl->work)
		return dk_err_set(err, DK_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		struct dk_deb822 p;
		struct dk_stanza st;

		pl->by_name[i] = i;
		if (!pkgs[i].control)
			return dk_err_set(err, DK_EINTERNAL, "%s: no control stanza", pkgs[i].name);
		dk_deb822_init(&p, pkgs[i].control, strlen(pkgs[i].control), pkgs[i].name, 0);
		/* 1 (dk_deb822_next's "got one") while all is well */
		rc = dk_deb822_next(&p, &st, err);
		if (rc == 0)
			rc = dk_err_set(err, DK_EINPUT, "%s: empty control stanza", pkgs[i].name);
		if (rc == 1)
			pl->pre[i] = field_dup(&st, "Pre-Depends", err, &rc);
		if (rc == 1)
			pl->dep[i] = field_dup(&st, "Depends", err, &rc);
		if (rc == 1)
			pl->provides[i] = field_dup(&st, "Provides", err, &rc);
		dk_deb822_release(&p);
		if (rc != 1)
			return rc;
		prov.pkg = i;
		if (pl->provides[i] && dk_relation_scan(pl->provides[i], strlen(pl->provides[i]), DK_REL_PROVIDES,
							add_provide, &prov, err))
			return dk_err_prefix(err, "%s: Provides", pkgs[i].name);
	}
	qsort_r(pl->by_name, n, sizeof(size_t), cmp_by_name, (void *)pkgs);
	qsort(pl->prov, pl->nprov, sizeof(*pl->prov), cmp_prov);

	for (size_t i = 0; i < n; i++)
		if (pkgs[i].essential && !pl->mark[i]) {
			pl->mark[i] = true;
			pl->work[pl->nwork++] = i;
		}
	if ((rc = close_marked(pl, err)))
		return rc;
	for (size_t i = 0; i < n; i++)
		pl->phase[i] = pl->mark[i] ? PH_ESSENTIAL : PH_REST;
	for (size_t i = 0; i < n; i++)
		if (pl->phase[i] == PH_REST && (rc = mark_field(pl, i, pl->pre[i], err)))
			return rc;
	if ((rc = close_marked(pl, err)))
		return rc;
	for (size_t i = 0; i < n; i++)
		if (pl->mark[i] && pl->phase[i] == PH_REST)
			pl->phase[i] = PH_PREDEP;
	return 0;
}

/* ---- files dpkg needs, written as the chroot will see them ---- */

/* Symlinks resolve as inside the chroot, so an absolute one planted by a package cannot lead out. */
static int open_in(int rootfd, const char *path, int flags, unsigned mode)
{
	struct open_how how = {
		.flags = (unsigned long long)(flags | O_CLOEXEC),
		.mode = (flags & O_CREAT) ? mode : 0,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	long fd;

	do
		fd = syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
	while (fd < 0 && (errno == EINTR || errno == EAGAIN));
	return (int)fd;
}

static int at_parent(int rootfd, const char *path, const char **base)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) : 0;

	if (n >= sizeof(dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(dir, path, n);
	dir[n] = '\0';
	*base = slash ? slash + 1 : path;
	return open_in(rootfd, n ? dir : ".", O_PATH | O_DIRECTORY, 0);
}

/* mkdir -p, each new directory with exactly mode whatever the umask. */
static int mkdirs_in(int rootfd, const char *path, unsigned mode, struct dk_err *err)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);

	if (len >= sizeof(buf))
		return dk_err_set(err, DK_EINTERNAL, "%s: name too long", path);
	memcpy(buf, path, len + 1);
	for (size_t i = 1; i <= len; i++) {
		const char *base;
		int pfd, r;

		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if ((pfd = at_parent(rootfd, buf, &base)) < 0)
			return dk_err_errno(err, "/%s", buf);
		r = mkdirat(pfd, base, mode);
		if (r == 0)
			r = fchmodat(pfd, base, mode, 0);
		else if (errno == EEXIST)
			r = 0;
		close(pfd);
		if (r)
			return dk_err_errno(err, "mkdir /%s", buf);
		buf[i] = i < len ? '/' : '\0';
	}
	return 0;
}

static int write_in(int rootfd, const char *path, const char *data, unsigned mode, struct dk_err *err)
{
	const char *base;
	size_t len = strlen(data), off = 0;
	int pfd = at_parent(rootfd, path, &base), fd, r = 0;

	if (pfd < 0)
		return dk_err_errno(err, "/%s", path);
	fd = openat(pfd, base, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
	close(pfd);
	if (fd < 0)
		return dk_err_errno(err, "/%s", path);
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			r = dk_err_errno(err, "write /%s", path);
			break;
		}
		off += (size_t)w;
	}
	if (!r && fchmod(fd, mode))
		r = dk_err_errno(err, "chmod /%s", path);
	if (close(fd) && !r)
		r = dk_err_errno(err, "close /%s", path);
	return r;
}

static void remove_in(int rootfd, const char *path, int flags)
{
	const char *base;
	int pfd = at_parent(rootfd, path, &base);

	if (pfd >= 0) {
		unlinkat(pfd, base, flags);
		close(pfd);
	}
}

/* A package may ship its own policy-rc.d: only the one we wrote goes. */
static void remove_ours(int rootfd, const char *path, const char *text)
{
	char buf[256];
	size_t len = strlen(text);
	ssize_t got = -1;
	int fd = open_in(rootfd, path, O_RDONLY | O_NOFOLLOW, 0);

	if (fd >= 0) {
		got = read(fd, buf, sizeof(buf));
		close(fd);
	}
	if (got == (ssize_t)len && !memcmp(buf, text, len))
		remove_in(rootfd, path, 0);
}

/*
 * An empty status and available, the directories dpkg expects, a policy-rc.d that forbids starting
 * services (invoke-rc.d and deb-systemd-invoke ask it), the mount points, and fixed hostname and
 * resolv.conf: nothing of the build host may end up in the image.
 */
static int prepare_root(int rootfd, struct dk_err *err)
{
	static const char *const dirs[] = {
		"var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers", "var/lib/dpkg/alternatives",
		"usr/sbin", "etc", "proc", "dev",
	};
	int r = 0;

	for (size_t i = 0; !r && i < sizeof(dirs) / sizeof(dirs[0]); i++)
		r = mkdirs_in(rootfd, dirs[i], 0755, err);
	if (!r)
		r = mkdirs_in(rootfd, "tmp", 01777, err);
	if (!r)
		r = mkdirs_in(rootfd, "root", 0700, err);
	if (!r)
		r = mkdirs_in(rootfd, DEBS_DIR, 0755, err);
	if (!r)
		r = write_in(rootfd, "var/lib/dpkg/status", "", 0644, err);
	if (!r)
		r = write_in(rootfd, "var/lib/dpkg/available", "", 0644, err);
	if (!r)
		r = write_in(rootfd, POLICY_RC_D, POLICY_RC_D_TEXT, 0755, err);
	if (!r)
		r = write_in(rootfd, "etc/hostname", HOSTNAME "\n", 0644, err);
	if (!r)
		r = write_in(rootfd, "etc/resolv.conf", "", 0644, err);
	return r;
}

/* ---- the chroot: its own mount, PID, UTS, IPC and network namespaces ---- */

struct dev_node {
	const char *name, *host;
	unsigned major, minor, mode;
};

static const struct dev_node dev_nodes[] = {
	{ "null", "/dev/null", 1, 3, 0666 },          { "zero", "/dev/zero", 1, 5, 0666 },
	{ "full", "/dev/full", 1, 7, 0666 },          { "random", "/dev/random", 1, 8, 0666 },
	{ "urandom", "/dev/urandom", 1, 9, 0666 },    { "tty", "/dev/tty", 5, 0, 0666 },
	{ "console", "/dev/console", 5, 1, 0600 },
};
#define NNODES (sizeof(dev_nodes) / sizeof(dev_nodes[0]))

enum stage {
	ST_NONE,
	ST_UNSHARE,
	ST_FORK,
	ST_PRIVATE,
	ST_CHROOT,
	ST_PROC,
	ST_DEV,
	ST_NODE,
	ST_PTS,
	ST_DEBS,
	ST_STEP,
};

static const char *const stage_what[] = {
	[ST_NONE] = "", [ST_UNSHARE] = "create the namespaces", [ST_FORK] = "fork",
	[ST_PRIVATE] = "make the mounts private", [ST_CHROOT] = "chroot", [ST_PROC] = "mount /proc",
	[ST_DEV] = "mount /dev", [ST_NODE] = "create a node in /dev", [ST_PTS] = "mount /dev/pts",
	[ST_DEBS] = "bind the .debs read-only", [ST_STEP] = "run dpkg",
};

/* What the namespace's init reports when it gives up; a clean run writes nothing. */
struct report {
	int stage, errnum, step, status;
};

struct step {
	char **argv;
	const char *what;
};

/* Everything the children need, made before fork: after it only system calls are made. */
struct job {
	int nullfd, outfd, reportfd;
	/* Paths, not descriptors: a descriptor opened before unshare names the old namespace's mounts. */
	const char *root, *debs;
	struct step *steps;
	size_t nsteps;
	pid_t parent;
	char *const *env;
};

/* The maintainer scripts' whole environment: nothing of the caller's; the epoch for tools that honour it. */
#define CHROOT_ENV(epoch)                                                                                              \
	{                                                                                                              \
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C.UTF-8", "HOME=/root",   \
			"DEBIAN_FRONTEND=noninteractive", "DEBCONF_NONINTERACTIVE_SEEN=true", epoch, NULL              \
	}

static _Noreturn void give_up(const struct job *j, int stage, int step, int status)
{
	struct report rep = { stage, errno, step, status };
	ssize_t w = write(j->reportfd, &rep, sizeof(rep));

	_exit(w == (ssize_t)sizeof(rep) ? 1 : 2);
}

/*
 * The new mount API throughout: every mount is made on a file descriptor, so no path is looked up
 * again (and no symlink followed) between checking a mount point and mounting on it.
 */
static int new_mount(const char *fstype, const char *const *opts, unsigned attrs)
{
	int fs = fsopen(fstype, FSOPEN_CLOEXEC), m;

	if (fs < 0)
		return -1;
	for (; opts && *opts; opts += 2)
		if (fsconfig(fs, FSCONFIG_SET_STRING, opts[0], opts[1], 0)) {
			close(fs);
			return -1;
		}
	if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0)) {
		close(fs);
		return -1;
	}
	m = fsmount(fs, FSMOUNT_CLOEXEC, attrs);
	close(fs);
	return m;
}

static int attach(int m, int dirfd, const char *name)
{
	unsigned flags = MOVE_MOUNT_F_EMPTY_PATH | (*name ? 0 : MOVE_MOUNT_T_EMPTY_PATH);

	return move_mount(m, "", dirfd, name, flags);
}

static int bind_ro(int from, int dirfd, const char *name)
{
	struct mount_attr attr = {
		.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
	};
	int t = open_tree(from, "", AT_EMPTY_PATH | OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);

	if (t < 0)
		return -1;
	if (mount_setattr(t, "", AT_EMPTY_PATH, &attr, sizeof(attr)) || attach(t, dirfd, name)) {
		close(t);
		return -1;
	}
	return close(t);
}

static void dev_setup(const struct job *j, int devfd)
{
	static const char *const tmpfs_opts[] = { "mode", "0755", "size", "4m", NULL };
	static const char *const pts_opts[] = { "ptmxmode", "0666", "mode", "0620", "gid", "5", NULL };
	static const char *const links[][2] = {
		{ "pts/ptmx", "ptmx" },         { "/proc/self/fd", "fd" },        { "/proc/self/fd/0", "stdin" },
		{ "/proc/self/fd/1", "stdout" }, { "/proc/self/fd/2", "stderr" },
	};
	int dev = new_mount("tmpfs", tmpfs_opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC), pts;

	if (dev < 0 || attach(dev, devfd, ""))
		give_up(j, ST_DEV, -1, 0);
	for (size_t i = 0; i < NNODES; i++) {
		const struct dev_node *d = &dev_nodes[i];
		int fd;

		if (mknodat(dev, d->name, S_IFCHR | d->mode, makedev(d->major, d->minor)) == 0)
			continue;
		/* In a container mknod is refused: the host's node, bound, is the same device. */
		if (errno != EPERM)
			give_up(j, ST_NODE, (int)i, 0);
		fd = openat(dev, d->name, O_WRONLY | O_CREAT | O_CLOEXEC, 0);
		if (fd < 0 || close(fd))
			give_up(j, ST_NODE, (int)i, 0);
		fd = open_tree(AT_FDCWD, d->host, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
		if (fd < 0 || attach(fd, dev, d->name))
			give_up(j, ST_NODE, (int)i, 0);
		close(fd);
	}
	if (mkdirat(dev, "pts", 0755) || mkdirat(dev, "shm", 01777))
		give_up(j, ST_PTS, -1, 0);
	pts = new_mount("devpts", pts_opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
	if (pts < 0 || attach(pts, dev, "pts"))
		give_up(j, ST_PTS, -1, 0);
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++)
		if (symlinkat(links[i][0], dev, links[i][1]))
			give_up(j, ST_DEV, -1, 0);
	close(pts);
	close(dev);
}

/*
 * dpkg syncs its database after every step of every package, and maintainer scripts call sync too: on
 * a staging root that is packed and thrown away those only wait for the disk (eatmydata's reasoning,
 * which mmdebstrap and sbuild use as well). A seccomp filter, inherited by everything the chroot runs,
 * makes the sync calls succeed without doing anything; nothing comes from the host. The bytes written
 * are the same; the image is synced once, when it is packed.
 */
#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#endif

static void no_sync(void)
{
#ifdef NATIVE_ARCH
#define SYNC_CALL(nr) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO)
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		SYNC_CALL(__NR_fsync),
		SYNC_CALL(__NR_fdatasync),
		SYNC_CALL(__NR_sync),
		SYNC_CALL(__NR_syncfs),
		SYNC_CALL(__NR_sync_file_range),
		SYNC_CALL(__NR_msync),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
#undef SYNC_CALL
	struct sock_fprog prog = { sizeof(code) / sizeof(code[0]), code };

	/* Only speed is lost where the kernel refuses it: the calls then do what they always do. */
	syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
#endif
}

/*
 * PID 1 of the new namespaces. Its mounts are private: the host never sees them, and they go with the
 * namespace when this process exits, whichever way it exits; every process a maintainer script left
 * behind is killed with it.
 */
static _Noreturn void ns_init(const struct job *j)
{
	int root, proc, fd;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL))
		give_up(j, ST_FORK, -1, 0);
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		give_up(j, ST_PRIVATE, -1, 0);
	if (sethostname(HOSTNAME, sizeof(HOSTNAME) - 1))
		give_up(j, ST_UNSHARE, -1, 0);
	umask(0);
	if ((root = open(j->root, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		give_up(j, ST_CHROOT, -1, 0);
	proc = new_mount("proc", NULL, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
	fd = open_in(root, "proc", O_PATH | O_DIRECTORY | O_NOFOLLOW, 0);
	if (proc < 0 || fd < 0 || attach(proc, fd, ""))
		give_up(j, ST_PROC, -1, 0);
	close(proc);
	close(fd);
	if ((fd = open_in(root, "dev", O_PATH | O_DIRECTORY | O_NOFOLLOW, 0)) < 0)
		give_up(j, ST_DEV, -1, 0);
	dev_setup(j, fd);
	close(fd);
	fd = open_in(root, DEBS_DIR, O_PATH | O_DIRECTORY | O_NOFOLLOW, 0);
	proc = open(j->debs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || proc < 0 || bind_ro(proc, fd, ""))
		give_up(j, ST_DEBS, -1, 0);
	if (fchdir(root) || chroot(".") || chdir("/"))
		give_up(j, ST_CHROOT, -1, 0);
	/* dpkg and the maintainer scripts see Debian's umask, never the caller's. */
	umask(022);
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC))
		give_up(j, ST_FORK, -1, 0);
	no_sync();
	for (size_t i = 0; i < j->nsteps; i++) {
		int st;
		pid_t pid = fork();

		if (pid < 0)
			give_up(j, ST_FORK, (int)i, 0);
		if (pid == 0) {
			execve(j->steps[i].argv[0], j->steps[i].argv, j->env);
			_exit(127);
		}
		while (waitpid(pid, &st, 0) < 0)
			if (errno != EINTR)
				give_up(j, ST_STEP, (int)i, 0);
		if (st != 0) {
			errno = 0;
			give_up(j, ST_STEP, (int)i, st);
		}
	}
	_exit(0);
}

/* The child between the caller and the namespace: it can only be created by a process that stays outside. */
static _Noreturn void ns_parent(const struct job *j)
{
	int st;
	pid_t pid;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != j->parent)
		_exit(3);
	if (dup2(j->nullfd, 0) < 0 || dup2(j->outfd, 1) < 0 || dup2(j->outfd, 2) < 0)
		give_up(j, ST_FORK, -1, 0);
	if (unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET))
		give_up(j, ST_UNSHARE, -1, 0);
	pid = fork();
	if (pid < 0)
		give_up(j, ST_FORK, -1, 0);
	if (pid == 0)
		ns_init(j);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			_exit(3);
	_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 3);
}

/* ---- reading dpkg's output ---- */

struct output {
	dk_image_log_fn log;
	void *ctx;
	const struct plan *pl;
	char **debs; /* the .debs as dpkg sees them, per package */
	struct dk_buf line;
	char after[256];      /* the package of the "dpkg: error processing" line just seen, or "" */
	char script[512];     /* the first failed maintainer script, as we report it */
	char other[512];      /* the first other error */
};

static const char *deb_package(const struct output *o, const char *path, size_t n)
{
	for (size_t i = 0; i < o->pl->n; i++)
		if (strlen(o->debs[i]) == n && !memcmp(o->debs[i], path, n))
			return o->pl->pkgs[i].name;
	return NULL;
}

/*
 * dpkg says "dpkg: error processing package P (--configure):" or "... archive FILE (--install):", then
 * on the next line why: " installed P package post-installation script subprocess returned error exit
 * status N". A failed script is what the user needs to hear of; the dependency errors that follow it are
 * its consequence.
 */
static void parse_line(struct output *o, const char *s)
{
	static const char pkg_pfx[] = "dpkg: error processing package ";
	static const char arc_pfx[] = "dpkg: error processing archive ";
	static const char *const scripts[] = {
		"post-installation", "pre-installation", "pre-removal", "post-removal",
	};
	const char *p, *end;

	if (o->after[0]) {
		const char *status = strstr(s, "returned error exit status ");

		while (*s == ' ')
			s++;
		for (size_t i = 0; status && !o->script[0] && i < sizeof(scripts) / sizeof(scripts[0]); i++)
			if (strstr(s, scripts[i]))
				snprintf(o->script, sizeof(o->script), "%s: %s script failed (exit %s)", o->after,
					 scripts[i], status + strlen("returned error exit status "));
		if (!o->other[0])
			snprintf(o->other, sizeof(o->other), "%s: %s", o->after, s);
		o->after[0] = '\0';
		return;
	}
	if (!strncmp(s, pkg_pfx, sizeof(pkg_pfx) - 1)) {
		p = s + sizeof(pkg_pfx) - 1;
		end = p + strcspn(p, " :");
		snprintf(o->after, sizeof(o->after), "%.*s", (int)(end - p), p);
	} else if (!strncmp(s, arc_pfx, sizeof(arc_pfx) - 1)) {
		const char *name;

		p = s + sizeof(arc_pfx) - 1;
		end = strstr(p, " (--");
		if (!end)
			end = p + strlen(p);
		name = deb_package(o, p, (size_t)(end - p));
		if (name)
			snprintf(o->after, sizeof(o->after), "%s", name);
		else
			snprintf(o->after, sizeof(o->after), "%.*s", (int)(end - p), p);
	}
}

static void flush_line(struct output *o)
{
	if (o->log)
		o->log(o->ctx, o->line.data);
	parse_line(o, o->line.data);
	dk_buf_reset(&o->line);
}

static void take_output(struct output *o, const char *data, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (data[i] == '\n' || o->line.len >= LINE_MAX_LEN) {
			flush_line(o);
			if (data[i] == '\n')
				continue;
		}
		dk_buf_addc(&o->line, data[i]);
	}
}

/* ---- the whole installation ---- */

static void log_line(dk_image_log_fn log, void *ctx, const char *fmt, ...) DK_PRINTF(3, 4);

static void log_line(dk_image_log_fn log, void *ctx, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (!log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log(ctx, line);
}

static void unescape_mount(char *s)
{
	char *w = s;

	for (const char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' && r[3] >= '0' &&
		    r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

/* The first mount point at or below dir, in this process's view; DK_NOTFOUND when there is none. */
static int find_mount(const char *dir, char *out, size_t n, struct dk_err *err)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[8192];
	size_t len = strlen(dir);
	int r = DK_NOTFOUND;

	if (!f)
		return dk_err_errno(err, "/proc/self/mountinfo");
	while (r == DK_NOTFOUND && fgets(line, sizeof(line), f)) {
		char *field = line, *mp;

		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT ... */
		for (int i = 0; i < 4 && field; i++)
			if ((field = strchr(field, ' ')))
				field++;
		if (!field)
			continue;
		mp = field;
		field[strcspn(field, " ")] = '\0';
		unescape_mount(mp);
		if (!strncmp(mp, dir, len) && (mp[len] == '\0' || mp[len] == '/')) {
			snprintf(out, n, "%s", mp);
			r = 0;
		}
	}
	fclose(f);
	return r;
}

/* The deepest directory holding every .deb: bound read-only into the chroot, nothing copied. */
static int debs_dir(const struct dk_image_pkg *pkgs, size_t n, char *dir, size_t size, struct dk_err *err)
{
	const char *slash = strrchr(pkgs[0].deb, '/');
	size_t len = slash ? (size_t)(slash - pkgs[0].deb) : 0;

	if (len >= size)
		return dk_err_set(err, DK_EINPUT, "%s: name too long", pkgs[0].deb);
	memcpy(dir, pkgs[0].deb, len);
	dir[len] = '\0';
	for (size_t i = 1; i < n; i++) {
		while (len && (strncmp(pkgs[i].deb, dir, len) || pkgs[i].deb[len] != '/')) {
			char *s = strrchr(dir, '/');

			len = s ? (size_t)(s - dir) : 0;
			dir[len] = '\0';
		}
		if (!len && pkgs[i].deb[0] == '/')
			break;
	}
	if (!len) {
		if (pkgs[0].deb[0] == '/')
			return dk_err_set(err, DK_EINPUT, "the .debs share no directory below /");
		snprintf(dir, size, ".");
	}
	return 0;
}

static int add_step(struct step *steps, size_t *nsteps, const struct plan *pl, char **debs, const char *what,
		    const char *const *opts, size_t nopts, enum phase ph, const size_t *order)
{
	size_t k = 0, count = 0;
	char **argv;

	for (size_t i = 0; i < pl->n; i++)
		count += pl->phase[i] == ph;
	if (!count)
		return 0;
	argv = calloc(nopts + count + 2, sizeof(char *));
	if (!argv)
		return DK_ENOMEM;
	for (size_t i = 0; i < nopts; i++)
		argv[k++] = (char *)opts[i];
	for (size_t i = 0; i < pl->n; i++)
		if (pl->phase[order[i]] == ph)
			argv[k++] = debs[order[i]];
	steps[(*nsteps)++] = (struct step){ argv, what };
	return 0;
}

/*
 * base-passwd's preinst writes /etc/passwd and /etc/group, which every later owner lookup needs, and
 * base-files lays out the directories: debootstrap installs them first, so do we; the rest by name.
 */
static void install_order(const struct plan *pl, size_t *order)
{
	static const char *const first[] = { "base-passwd", "base-files" };
	size_t k = 0;

	for (size_t f = 0; f < 2; f++)
		for (size_t i = 0; i < pl->n; i++)
			if (!strcmp(pl->pkgs[i].name, first[f]))
				order[k++] = i;
	for (size_t i = 0; i < pl->n; i++) {
		const char *name = pl->pkgs[pl->by_name[i]].name;

		if (strcmp(name, first[0]) && strcmp(name, first[1]))
			order[k++] = pl->by_name[i];
	}
}

static const char *const dpkg_install_forced[] = {
	"/usr/bin/dpkg", "--force-unsafe-io", "--install", "--force-depends",
};
static const char *const dpkg_install[] = { "/usr/bin/dpkg", "--force-unsafe-io", "--install" };
static const char *const dpkg_unpack[] = { "/usr/bin/dpkg", "--force-unsafe-io", "--unpack" };
static char *dpkg_configure[] = { "/usr/bin/dpkg", "--force-unsafe-io", "--configure", "-a", NULL };
#define NOPTS(a) (sizeof(a) / sizeof(a[0]))

/* Runs the steps in the namespaces, passing every line of output to the log; 0 when all succeeded. */
static int run_steps(struct job *j, struct output *o, struct dk_err *err)
{
	int outp[2] = { -1, -1 }, repp[2] = { -1, -1 }, st, r = 0;
	struct report rep = { 0 };
	char buf[1 << 14];
	ssize_t got;
	pid_t pid;

	if (pipe2(outp, O_CLOEXEC) || pipe2(repp, O_CLOEXEC)) {
		r = dk_err_errno(err, "pipe");
		goto out;
	}
	j->outfd = outp[1];
	j->reportfd = repp[1];
	j->parent = getpid();
	pid = fork();
	if (pid < 0) {
		r = dk_err_errno(err, "fork");
		goto out;
	}
	if (pid == 0)
		ns_parent(j);
	close(outp[1]);
	close(repp[1]);
	outp[1] = repp[1] = -1;
	while ((got = read(outp[0], buf, sizeof(buf))) != 0) {
		if (got < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		take_output(o, buf, (size_t)got);
	}
	if (o->line.len)
		flush_line(o);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			r = dk_err_errno(err, "waitpid");
			goto out;
		}
	if (st == 0)
		goto out;
	do
		got = read(repp[0], &rep, sizeof(rep));
	while (got < 0 && errno == EINTR);
	if (got != (ssize_t)sizeof(rep)) {
		r = dk_err_set(err, DK_EIO, "the chroot's process died (status %d)", st);
	} else if (rep.stage != ST_STEP || rep.status == 0) {
		errno = rep.errnum;
		if (rep.stage == ST_NODE && rep.step >= 0 && (size_t)rep.step < NNODES)
			r = dk_err_errno(err, "create /dev/%s in the chroot", dev_nodes[rep.step].name);
		else
			r = dk_err_errno(err, "%s for the chroot",
					 rep.stage > 0 && rep.stage <= ST_STEP ? stage_what[rep.stage] : "?");
	} else if (o->script[0]) {
		r = dk_err_set(err, DK_EINPUT, "%s", o->script);
	} else if (o->other[0]) {
		r = dk_err_set(err, DK_EINPUT, "%s", o->other);
	} else if (WIFEXITED(rep.status) && WEXITSTATUS(rep.status) == 127) {
		r = dk_err_set(err, DK_EINPUT, "no /usr/bin/dpkg in the image (is dpkg in the package set?)");
	} else {
		r = dk_err_set(err, DK_EINPUT, "%s failed (%s %d)", j->steps[rep.step].what,
			       WIFEXITED(rep.status) ? "exit" : "signal",
			       WIFEXITED(rep.status) ? WEXITSTATUS(rep.status) : WTERMSIG(rep.status));
	}
out:
	for (int i = 0; i < 2; i++) {
		if (outp[i] >= 0)
			close(outp[i]);
		if (repp[i] >= 0)
			close(repp[i]);
	}
	return r;
}

int dk_image_install(const char *root, const struct dk_image_pkg *pkgs, size_t n, int64_t epoch, dk_image_log_fn log,
		     void *ctx, struct dk_err *err)
{
	char sde[48];
	char *env[] = CHROOT_ENV(sde);
	struct plan pl = { 0 };
	struct output o = { .log = log, .ctx = ctx, .pl = &pl, .line = DK_BUF_INIT };
	struct job j = { .nullfd = -1 };
	struct step steps[4];
	size_t nsteps = 0, *order = NULL, counts[3] = { 0 }, ness = 0;
	struct dk_image_pkg *ess = NULL;
	char absroot[PATH_MAX], absdebs[PATH_MAX], dir[PATH_MAX], mnt[PATH_MAX];
	int rootfd = -1, r;
	bool prepared = false;

	if (geteuid() != 0)
		return dk_err_set(err, DK_EINPUT, "--mode root needs root; use --mode extract");
	if (n == 0)
		return dk_err_set(err, DK_EINPUT, "no packages to install");
	if (!realpath(root, absroot))
		return dk_err_errno(err, "%s", root);
	r = find_mount(absroot, mnt, sizeof(mnt), err);
	if (r == 0)
		return dk_err_set(err, DK_EINPUT, "%s is a mount point: refusing to install over it", mnt);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if (access(pkgs[i].deb, R_OK))
			return dk_err_errno(err, "%s: %s", pkgs[i].name, pkgs[i].deb);
	if ((r = plan_phases(&pl, pkgs, n, err)))
		goto out;
	for (size_t i = 0; i < n; i++)
		counts[pl.phase[i]]++;
	if (!counts[PH_ESSENTIAL]) {
		r = dk_err_set(err, DK_EINPUT, "no Essential: yes package in the set: nothing to run dpkg with");
		goto out;
	}
	if ((r = debs_dir(pkgs, n, dir, sizeof(dir), err)))
		goto out;
	order = calloc(n, sizeof(size_t));
	o.debs = calloc(n, sizeof(char *));
	if (!order || !o.debs) {
		r = dk_err_set(err, DK_ENOMEM, "out of memory");
		goto out;
	}
	install_order(&pl, order);
	for (size_t i = 0; i < n; i++) {
		const char *rel = strcmp(dir, ".") ? pkgs[i].deb + strlen(dir) + 1 : pkgs[i].deb;
		struct dk_buf b = DK_BUF_INIT;

		dk_buf_addf(&b, "/%s/%s", DEBS_DIR, rel);
		if ((r = dk_buf_check(&b, err, "a .deb's name")))
			goto out;
		o.debs[i] = dk_buf_detach(&b, NULL);
	}

	if ((rootfd = open(absroot, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		r = dk_err_errno(err, "%s", absroot);
		goto out;
	}
	log_line(log, ctx, "root mode: unpacking %zu packages of the essential set", counts[PH_ESSENTIAL]);
	if (!(ess = calloc(n, sizeof(*ess)))) {
		r = dk_err_set(err, DK_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (pl.phase[order[i]] == PH_ESSENTIAL)
			ess[ness++] = pkgs[order[i]];
	if ((r = dk_image_unpack_all(rootfd, ess, ness, 0, NULL, NULL, err)))
		goto out;
	prepared = true;
	if ((r = prepare_root(rootfd, err)))
		goto out;

	if (!realpath(dir, absdebs)) {
		r = dk_err_errno(err, "%s", dir);
		goto out;
	}
	if ((j.nullfd = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0) {
		r = dk_err_errno(err, "/dev/null");
		goto out;
	}
	j.root = absroot;
	snprintf(sde, sizeof(sde), "SOURCE_DATE_EPOCH=%lld", (long long)epoch);
	j.env = env;
	j.debs = absdebs;
	if (add_step(steps, &nsteps, &pl, o.debs, "dpkg --install of the essential set", dpkg_install_forced,
		     NOPTS(dpkg_install_forced), PH_ESSENTIAL, order) ||
	    add_step(steps, &nsteps, &pl, o.debs, "dpkg --install of the pre-dependencies", dpkg_install,
		     NOPTS(dpkg_install), PH_PREDEP, order) ||
	    add_step(steps, &nsteps, &pl, o.debs, "dpkg --unpack", dpkg_unpack, NOPTS(dpkg_unpack), PH_REST,
		     order)) {
		r = dk_err_set(err, DK_ENOMEM, "out of memory");
		goto out;
	}
	steps[nsteps++] = (struct step){ dpkg_configure, "dpkg --configure -a" };
	j.steps = steps;
	j.nsteps = nsteps;
	log_line(log, ctx, "root mode: dpkg in the chroot: %zu essential, %zu pre-depended on, %zu more packages",
		 counts[PH_ESSENTIAL], counts[PH_PREDEP], counts[PH_REST]);
	r = run_steps(&j, &o, err);
	if (find_mount(absroot, mnt, sizeof(mnt), NULL) == 0 && !r)
		r = dk_err_set(err, DK_EINTERNAL, "%s is still mounted after the installation", mnt);
out:
	if (prepared) {
		remove_ours(rootfd, POLICY_RC_D, POLICY_RC_D_TEXT);
		remove_in(rootfd, DEBS_DIR, AT_REMOVEDIR);
	}
	for (size_t i = 0; i < nsteps; i++)
		if (steps[i].argv != dpkg_configure)
			free(steps[i].argv);
	for (size_t i = 0; o.debs && i < n; i++)
		free(o.debs[i]);
	free(o.debs);
	free(order);
	free(ess);
	dk_buf_release(&o.line);
	if (j.nullfd >= 0)
		close(j.nullfd);
	if (rootfd >= 0)
		close(rootfd);
	plan_release(&pl);
	return r;
}
