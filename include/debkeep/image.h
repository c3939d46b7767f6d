/* image.h - root file system images built from a snapshot: unpack, install, normalise, pack */
#ifndef DEBKEEP_IMAGE_H
#define DEBKEEP_IMAGE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "repo.h"
#include "strpool.h"

/* One package of the image, as the snapshot holds it. */
struct dk_image_pkg {
	const char *name, *version, *arch, *source, *source_version;
	const char *deb;     /* the .deb: the object's path under ROOT/objects */
	const char *sha256;  /* of the .deb */
	const char *control; /* the control stanza (no trailing newline) */
	bool essential;      /* Essential: yes */
	bool required;       /* Priority: required */
};

enum dk_image_mode {
	DK_IMAGE_EXTRACT, /* unpack only; dpkg status says "install ok unpacked"; no root needed */
	DK_IMAGE_ROOT,    /* install with the image's own dpkg in a chroot (needs root) */
};

enum dk_image_compress { DK_IMAGE_PLAIN, DK_IMAGE_ZSTD, DK_IMAGE_XZ };

/* A line for the build log (what was removed or rewritten, each step); may be NULL. */
typedef void (*dk_image_log_fn)(void *ctx, const char *line);

enum dk_unpack_flags {
	DK_UNPACK_NO_DEVICES = 1 << 0, /* refuse device nodes and fifos (extract mode) */
	DK_UNPACK_DPKG_INFO = 1 << 1,  /* also write var/lib/dpkg/info/PKG.{list,md5sums,conffiles,...} */
	DK_UNPACK_RECORD_OWNERS = 1 << 2, /* dk_image_unpack_owned: record as without root, even as root */
};

/*
 * What a build without root cannot put on disk, fakeroot's idea without
 * LD_PRELOAD: by path relative to the root ("usr/bin/chage"), the numeric
 * owner and the full mode (07777) a package's member says, for each entry
 * whose owner is not root's or whose mode on disk had to differ (set-id bits,
 * a directory its builder must still write into). dk_image_pack takes owner
 * and mode from here instead of the file's.
 */
struct dk_image_owner {
	uint32_t uid, gid;
	uint16_t mode;
	bool set; /* false: forgotten (the path was replaced or removed) */
};

struct dk_image_owners {
	struct dk_strpool paths;
	struct dk_image_owner *v; /* by the path's id in paths */
	size_t cap;
};

#define DK_IMAGE_OWNERS_INIT { DK_STRPOOL_INIT, NULL, 0 }

/* Record path's owner and mode; 0 or DK_ENOMEM. */
int dk_image_owners_set(struct dk_image_owners *o, const char *path, uint32_t uid, uint32_t gid, unsigned mode);
/* 0 with *out filled, or DK_NOTFOUND when path has no record; o may be NULL. */
int dk_image_owners_get(const struct dk_image_owners *o, const char *path, struct dk_image_owner *out);
/* path is a new file or gone: its owner and mode are the file's again; o may be NULL. */
void dk_image_owners_forget(struct dk_image_owners *o, const char *path);
void dk_image_owners_release(struct dk_image_owners *o);

/*
 * Unpack the data.tar of one .deb into the directory root, which must exist:
 * every path is resolved inside root (openat with RESOLVE_BENEATH semantics:
 * no "..", no absolute names, no symlink followed out of root, hard links
 * only to entries inside), owners and modes kept when running as root.
 * An entry that would escape is DK_EINPUT naming the package and member;
 * what was unpacked before stays (the caller removes the staging root).
 */
int dk_image_unpack(int rootfd, const struct dk_image_pkg *p, unsigned flags, struct dk_err *err);

/*
 * dk_image_unpack of each of pkgs in order, while two other threads
 * decompress the packages that follow (at most 64 MiB ahead in all); the
 * files are still written by the calling thread, in order. after, if not
 * NULL, is called with ctx and the number of packages done after each; a
 * nonzero return stops there and is returned.
 */
int dk_image_unpack_all(int rootfd, const struct dk_image_pkg *pkgs, size_t n, unsigned flags,
			int (*after)(void *ctx, size_t done), void *ctx, struct dk_err *err);

/*
 * dk_image_unpack_all that, when not running as root, keeps in owners what
 * it cannot chown: every entry owned other than 0:0, or whose mode on disk
 * differs from the member's (set-id and sticky bits are left off the staged
 * file, a directory stays writable and a file readable to its builder), gets
 * a record; any other entry forgets the record of its path, so a file a later
 * package replaces has the later package's owner. As root owners stays empty
 * (unless flags has DK_UNPACK_RECORD_OWNERS: the fuzz target's way to reach
 * this path as root).
 */
int dk_image_unpack_owned(int rootfd, const struct dk_image_pkg *pkgs, size_t n, unsigned flags,
			  struct dk_image_owners *owners, int (*after)(void *ctx, size_t done), void *ctx,
			  struct dk_err *err);

/*
 * Open path (relative, without "..") beneath the directory rootfd:
 * openat2 with RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS, or where the kernel
 * lacks openat2 a walk that follows no symlink at all. A symlink in the way
 * that leads out is EXDEV. Returns the fd or -1 with errno set.
 */
int dk_openat_beneath(int rootfd, const char *path, int flags, unsigned mode);

/* mkdir -p of path beneath rootfd, new directories with mode; returns an O_PATH fd on it, or -1 with errno. */
int dk_image_mkdirs(int rootfd, const char *path, unsigned mode);

/*
 * Root mode: install pkgs (already in dependency closure) into root as
 * debootstrap and mmdebstrap do: unpack the Essential set and its
 * Pre-Depends, then in a chroot with /proc and a minimal /dev mounted (and
 * unmounted on every path out), a policy-rc.d that forbids starting
 * services and fixed resolv.conf and hostname: dpkg --install the Essential
 * set, then the rest, then dpkg --configure -a, with SOURCE_DATE_EPOCH=epoch
 * in the scripts' environment. A failing maintainer script is DK_EINPUT
 * naming the package.
 */
int dk_image_install(const char *root, const struct dk_image_pkg *pkgs, size_t n, int64_t epoch, dk_image_log_fn log,
		     void *ctx, struct dk_err *err);

/*
 * Remove or rewrite what differs between builds of the same set: /var/log
 * contents, apt and dpkg logs and caches, /var/cache/debconf/ *-old,
 * ldconfig's aux-cache, /etc/machine-id (emptied), ssh host keys, and clamp
 * every mtime after epoch to epoch. Each removal or rewrite is logged, and
 * each removed path forgotten in owners (may be NULL).
 */
int dk_image_normalise(const char *root, int64_t epoch, struct dk_image_owners *owners, dk_image_log_fn log,
		       void *ctx, struct dk_err *err);

enum dk_pack_flags {
	DK_PACK_CONSUME = 1 << 0, /* root is a staging tree: each file is removed once it is in the image */
};

/*
 * Pack root into out as a reproducible pax tar: sorted paths, mtimes clamped
 * to epoch, numeric owners, no atime/ctime, deterministic compression.
 * Written to a temporary name and renamed, so out is complete or absent.
 * sha256, if not NULL, gets the SHA-256 of what was written (32 bytes).
 * With DK_PACK_CONSUME only directories are left of root, also on failure.
 * An entry with a record in owners (may be NULL) gets the record's owner and
 * mode; without one, and not running as root, a file of the caller's is
 * recorded as root's (0:0).
 */
int dk_image_pack(const char *root, const char *out, enum dk_image_compress c, int64_t epoch, unsigned flags,
		  const struct dk_image_owners *owners, unsigned char *sha256, struct dk_err *err);

struct dk_image_opts {
	const char *snapshot, *list, *arch, *output;
	enum dk_image_mode mode;
	int64_t epoch; /* -1: the snapshot's date */
	const char *tmpdir; /* where the staging root goes; NULL: ROOT/tmp */
	dk_image_log_fn log;
	void *log_ctx;
	/* Called with log_ctx after each package unpacked or installed; may be NULL. */
	void (*progress)(void *ctx, size_t done, size_t total);
	/* Set (by a signal handler) to stop the build, cleaned up, at the next step; may be NULL. */
	const volatile sig_atomic_t *cancel;
};

struct dk_image_result {
	size_t packages;
	uint64_t bytes;      /* of the image */
	char sha256[65];     /* of the image */
	char *manifest, *cdx, *spdx; /* the paths written beside it */
};

void dk_image_result_release(struct dk_image_result *res);

/*
 * The whole build: resolve the list inside the snapshot, take every .deb from
 * the object store, unpack or install, normalise, pack, then OUTPUT.manifest,
 * OUTPUT.cdx.json and OUTPUT.spdx.json. On error nothing is left under the
 * output names and the staging root is removed.
 */
int dk_image_build(struct dk_repo *r, const struct dk_image_opts *o, struct dk_image_result *res,
		   struct dk_err *err);

#endif
