/* repo.h - the data root: its lock, content-addressed objects, local collections and snapshots */
#ifndef DEBKEEP_REPO_H
#define DEBKEEP_REPO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "err.h"

/* The repository area's schema version (dk_db_migrate area "repo"). */
#define DK_REPO_SCHEMA_VERSION 2

#define DK_REPO_LOCK_TIMEOUT_DEFAULT 60.0

enum dk_repo_flags {
	DK_REPO_CREATE = 1 << 0, /* create the root (init) */
	DK_REPO_WRITE = 1 << 1,  /* take ROOT/lock before opening */
};

struct dk_repo {
	struct dk_db db;
	char *root;
	int lock_fd; /* -1 for a reader */
};

/*
 * Open ROOT. A writer (DK_REPO_WRITE) takes the repository lock first, waiting
 * up to lock_timeout seconds; command names the holder in the lock file. A
 * missing root without DK_REPO_CREATE is DK_EINPUT naming it ("run init").
 */
int dk_repo_open(struct dk_repo *r, const char *root, unsigned flags, const char *command, double lock_timeout,
		 struct dk_err *err);
void dk_repo_close(struct dk_repo *r);

/*
 * The writers' lock: ROOT/lock, held with flock and holding "pid TIME COMMAND".
 * Waits up to timeout seconds, then fails naming the holder. Returns the fd.
 */
int dk_lock_take(const char *root, const char *command, double timeout, int *fd, struct dk_err *err);
void dk_lock_release(int fd);

/* objects/ab/cdef... for a SHA-256 hex name; out holds strlen(root) + 80 bytes. */
void dk_store_path(const char *root, const char *sha256_hex, char *out, size_t n);

/*
 * A batch of objects: each slot is written as objects/ab/.obj-PID-SLOT-SHA256
 * (a staging name: check passes over it, gc removes it once PID is gone;
 * slots may be filled from several threads at once), or handed over as a
 * file the caller staged under tmp/; then dk_store_batch_commit makes them
 * durable with one syncfs instead of an fsync per file, links them in under
 * their names (an object already present is already those bytes) and syncs
 * again so the names are durable before the database refers to them.
 */
#define DK_STORE_STAGING ".obj-"

struct dk_store_batch {
	const char *root;
	char **tmp; /* per slot: the staged file, or NULL */
	size_t n;
	long pid;
};

int dk_store_batch_init(struct dk_store_batch *b, const char *root, size_t slots, struct dk_err *err);
/* Stage data as slot's object; commit keeps an object that exists already as it is. */
int dk_store_batch_put(struct dk_store_batch *b, size_t slot, const void *data, size_t len, const char *sha256_hex,
		       struct dk_err *err);
int dk_store_batch_commit(struct dk_store_batch *b, struct dk_err *err);
/* Remove whatever is still staged. */
void dk_store_batch_release(struct dk_store_batch *b);

/* What import found of one package whose (name, version, arch) existed with other content. */
typedef void (*dk_import_rebuilt_fn)(void *ctx, const char *file, const char *name, const char *version,
				     const char *arch, const char *old_sha256, const char *new_sha256);

struct dk_import_stats {
	size_t files;    /* .debs read */
	size_t added;    /* new package rows */
	size_t present;  /* identical content already known */
	size_t rebuilt;  /* same name, version, arch with different content: a second object */
};

/* A .deb's control data, read through libarchive: the control stanza and the hashes. */
struct dk_debinfo {
	char *name, *version, *arch, *source, *source_version;
	char *control; /* the full stanza, as in the file */
	char sha256[65], md5[33];
	uint64_t size;
};

struct dk_file_stamp {
	uint64_t dev, ino, size;
	int64_t mtime_ns;
};

/* What dk_import_read found: the files to import and their control data, read and checked. */
struct dk_import_set {
	char **files;
	struct dk_debinfo *info;
	struct dk_file_stamp *stamp; /* to notice a file changed between reading and storing */
	char **bytes;                /* small files' contents, kept from reading to storing; else NULL */
	size_t n, cap;
};

/*
 * Read .deb files and directories (their *.deb, recursively, by name) into
 * set without writing anything: a bad file is an error here, before the data
 * root is touched. Release the set with dk_import_set_release either way.
 */
int dk_import_read(struct dk_import_set *set, char *const *paths, size_t npaths, struct dk_err *err);
void dk_import_set_release(struct dk_import_set *set);

/*
 * Add what was read to collection (created when missing): objects first, then
 * the database in one transaction, so a failure leaves it as it was. A .deb
 * whose (name, version, arch) was known with other content is stored beside
 * it, replaces it in the collection, and is reported through rebuilt (may be NULL).
 */
int dk_import_add(struct dk_repo *r, const char *collection, const struct dk_import_set *set,
		  dk_import_rebuilt_fn rebuilt, void *ctx, struct dk_import_stats *st, struct dk_err *err);

/* dk_import_read and dk_import_add in one. */
int dk_import(struct dk_repo *r, const char *collection, char *const *paths, size_t npaths,
	      dk_import_rebuilt_fn rebuilt, void *ctx, struct dk_import_stats *st, struct dk_err *err);

int dk_deb_read(const char *file, const void *data, size_t len, struct dk_debinfo *info, struct dk_err *err);
void dk_debinfo_release(struct dk_debinfo *info);

/* pool/main/<prefix>/<source>/<name>_<version without epoch>_<arch>.deb into out. */
int dk_pool_path(const char *source, const char *name, const char *version, const char *arch, char *out, size_t n);

/* Snapshots: immutable sets of package rows. */
struct dk_snapshot_info {
	long long id;
	char *name, *created, *origin, *description;
	long long count;
};

void dk_snapshot_info_release(struct dk_snapshot_info *s);

/*
 * A snapshot of a collection's current members: a local one, or "mirror/NAME", what the last
 * update of mirror NAME verified (origin "mirror:NAME"). DK_EINPUT when name exists or collection does not.
 */
int dk_snapshot_create_local(struct dk_repo *r, const char *name, const char *collection, const char *description,
			     struct dk_err *err);
/* Calls fn for each snapshot, by name. */
int dk_snapshot_list(struct dk_repo *r, int (*fn)(void *ctx, const struct dk_snapshot_info *s), void *ctx,
		     struct dk_err *err);
/* DK_EINPUT ("unknown snapshot") when there is none. */
int dk_snapshot_get(struct dk_repo *r, const char *name, struct dk_snapshot_info *s, struct dk_err *err);

/* One member, as publishing needs it: the object is dk_store_path(root, sha256). */
struct dk_snapshot_pkg {
	const char *name, *version, *arch, *source, *source_version, *sha256, *filename;
	long long size;
	const char *md5;
	const char *control; /* the .deb's control stanza, without a trailing newline */
};

/*
 * Record that kind ("publication", "release") name now uses snapshot, in
 * place of whatever snapshot it used before: drop refuses a snapshot in use.
 * Call it inside the writer's transaction of the change it records.
 */
int dk_snapshot_use(struct dk_repo *r, const char *snapshot, const char *kind, const char *name, struct dk_err *err);

/* The members of a snapshot, by name, version, arch. */
int dk_snapshot_packages(struct dk_repo *r, const char *name, int (*fn)(void *ctx, const struct dk_snapshot_pkg *p),
			 void *ctx, struct dk_err *err);

enum dk_change { DK_CHANGE_ADDED, DK_CHANGE_REMOVED, DK_CHANGE_UPGRADED, DK_CHANGE_DOWNGRADED, DK_CHANGE_REBUILT };

struct dk_snapshot_change {
	enum dk_change kind;
	const char *source, *name, *arch;
	const char *old_version, *new_version; /* NULL for added / removed */
	const char *old_sha256, *new_sha256;
};

/* What changed from a to b, grouped by source package, then name and arch. */
int dk_snapshot_diff(struct dk_repo *r, const char *a, const char *b,
		     int (*fn)(void *ctx, const struct dk_snapshot_change *c), void *ctx, struct dk_err *err);

/*
 * Drop a snapshot: refused (DK_EINPUT, naming the user) while a row of
 * snapshot_uses (filled by publications and releases) names it.
 */
int dk_snapshot_drop(struct dk_repo *r, const char *name, struct dk_err *err);

/*
 * A new snapshot with every package of the sources. Without keep_all, of the rows sharing a (name, arch)
 * only the highest version (dpkg order) stays; equal versions with other content keep the first source's.
 * Origin "merge:A+B". DK_EINPUT when name exists or a source does not.
 */
int dk_snapshot_merge(struct dk_repo *r, const char *name, const char *const *sources, size_t n, bool keep_all,
		      const char *description, struct dk_err *err);

/*
 * A new snapshot holding the dependency closure of the package list at path inside snapshot from,
 * resolved per architecture (arch, else the list's architectures, else the snapshot's) as
 * dk_resolve_pkglist does over an index of the snapshot's own stanzas. Origin "filter:FROM".
 * A list entry the snapshot cannot satisfy is DK_EINPUT naming it.
 */
int dk_snapshot_filter(struct dk_repo *r, const char *name, const char *from, const char *list_path,
		       const char *arch, const char *description, struct dk_err *err);

/* What gc removed, or with dry_run would remove. */
struct dk_gc_stats {
	size_t rows;            /* package rows nothing refers to */
	size_t source_rows;     /* source package rows nothing refers to */
	size_t objects;         /* object files no row names (after the rows went) */
	uint64_t bytes;
	size_t linked;          /* unreferenced rows kept because a published pool file links their object */
	size_t tmp;             /* staging entries of dead processes (tmp/, public/) */
	uint64_t tmp_bytes;
	uint64_t downloads_bytes; /* tmp/mirror-* (resumable downloads): kept */
};

/*
 * Delete package rows no snapshot or collection refers to and whose object no published tree links
 * (one transaction), then the object files no row names, then staging left by dead processes. A crash
 * between leaves only files nothing names, which the next gc removes. r must be a writer.
 */
int dk_gc(struct dk_repo *r, bool dry_run, struct dk_gc_stats *st, struct dk_err *err);

struct dk_check_stats {
	size_t objects, rows, snapshots, trees, pool_files;
	size_t unreferenced; /* objects no row names: garbage for gc, not a problem */
	uint64_t bytes;
	size_t problems;
};

/* One problem: where ("objects/ab/cd...", "snapshot 'x'", "public/p/dists/s/Release") and what. */
typedef int (*dk_check_fn)(void *ctx, const char *where, const char *what);

/*
 * Check the data root without changing it: every object's SHA-256, mode 0444 and size against its
 * row; every row's object; every snapshot, collection and use naming existing rows and snapshots;
 * every published tree under public/ against its Release (each listed file, and its by-hash copies
 * under every hash listed) and Packages files; the signatures: a publication signed with a key has
 * InRelease and Release.gpg verifying with that key alone (exported from the GnuPG home it recorded
 * into a throw-away one), InRelease's signed text being Release; an unsigned one has neither; a tree
 * no publication records has its InRelease's text compared with Release. The database is read in one
 * read transaction. Problems go to fn; returns 0 (see st->problems) or a negative code.
 */
int dk_check(struct dk_repo *r, dk_check_fn fn, void *ctx, struct dk_check_stats *st, struct dk_err *err);

/* A publication of a snapshot, as recorded so publish switch can repeat it with another snapshot. */
struct dk_publication {
	char *prefix, *suite, *snapshot;
	char *public; /* the public directory given, "" for ROOT/public */
	char *component;
	char *codename, *origin, *label, *architectures, *sign_key, *gnupghome; /* NULL: not given */
	long long valid_until;
	char *published; /* when, UTC */
};

/* Record p (replacing the suite's previous record) and its snapshot_uses row; inside the caller's transaction. */
int dk_publication_record(struct dk_repo *r, const struct dk_publication *p, struct dk_err *err);
/* DK_NOTFOUND when prefix/suite was never published from a snapshot. */
int dk_publication_get(struct dk_repo *r, const char *prefix, const char *suite, struct dk_publication *p,
		       struct dk_err *err);
/* Remove the record and its snapshot_uses row; inside the caller's transaction. */
int dk_publication_forget(struct dk_repo *r, const char *prefix, const char *suite, struct dk_err *err);
void dk_publication_release(struct dk_publication *p);

#endif
