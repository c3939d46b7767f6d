/* store.c - the data root: opening it, the repository schema, content-addressed objects under objects/ */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <debkeep/repo.h>

#include "banned.h"

/*
 * Packages are rows keyed by content (sha256); a rebuilt package is a second
 * row with the same name, version and arch. snapshot_uses is filled by
 * whoever pins a snapshot (a publication, a release) so drop can refuse.
 */
static const struct dk_db_migration repo_steps[] = {
	{ 1, "collections, packages, snapshots",
	  "CREATE TABLE collections ("
	  " id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, created TEXT NOT NULL);"
	  "CREATE TABLE packages ("
	  " id INTEGER PRIMARY KEY, name TEXT NOT NULL, version TEXT NOT NULL, arch TEXT NOT NULL,"
	  " source TEXT NOT NULL, source_version TEXT NOT NULL, size INTEGER NOT NULL,"
	  " sha256 TEXT NOT NULL UNIQUE, md5 TEXT NOT NULL, filename TEXT NOT NULL,"
	  " control TEXT NOT NULL, added TEXT NOT NULL);"
	  "CREATE INDEX packages_nva ON packages (name, version, arch);"
	  "CREATE TABLE collection_members ("
	  " collection_id INTEGER NOT NULL REFERENCES collections (id),"
	  " package_id INTEGER NOT NULL REFERENCES packages (id),"
	  " name TEXT NOT NULL, version TEXT NOT NULL, arch TEXT NOT NULL,"
	  " PRIMARY KEY (collection_id, name, version, arch)) WITHOUT ROWID;"
	  "CREATE TABLE snapshots ("
	  " id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, created TEXT NOT NULL, origin TEXT NOT NULL,"
	  " description TEXT NOT NULL DEFAULT '');"
	  "CREATE TABLE snapshot_members ("
	  " snapshot_id INTEGER NOT NULL REFERENCES snapshots (id),"
	  " package_id INTEGER NOT NULL REFERENCES packages (id),"
	  " PRIMARY KEY (snapshot_id, package_id)) WITHOUT ROWID;"
	  "CREATE TABLE snapshot_uses ("
	  " snapshot_id INTEGER NOT NULL REFERENCES snapshots (id),"
	  " kind TEXT NOT NULL, name TEXT NOT NULL,"
	  " PRIMARY KEY (snapshot_id, kind, name));"
	  "CREATE TRIGGER snapshot_members_frozen BEFORE UPDATE ON snapshot_members"
	  " BEGIN SELECT RAISE(ABORT, 'a snapshot never changes'); END;"
	  "CREATE TRIGGER packages_frozen BEFORE UPDATE ON packages"
	  " BEGIN SELECT RAISE(ABORT, 'a package row never changes'); END;" },
	/* What a publication was made with, so publish switch can repeat it for another snapshot. */
	{ 2, "publications",
	  "CREATE TABLE publications ("
	  " prefix TEXT NOT NULL, suite TEXT NOT NULL,"
	  " snapshot_id INTEGER NOT NULL REFERENCES snapshots (id),"
	  " public TEXT NOT NULL, component TEXT NOT NULL, codename TEXT, origin TEXT, label TEXT,"
	  " architectures TEXT, sign_key TEXT, gnupghome TEXT, valid_until INTEGER NOT NULL DEFAULT 0,"
	  " published TEXT NOT NULL,"
	  " PRIMARY KEY (prefix, suite));" },
};

static int mkdirs(const char *root, struct dk_err *err)
{
	static const char *const sub[] = { "", "/objects", "/tmp" };
	char path[4096];

	for (size_t i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s%s", root, sub[i]) >= sizeof(path) - 4)
			return dk_err_set(err, DK_EINPUT, "%s: path too long", root);
		if (mkdir(path, 0755) != 0 && errno != EEXIST)
			return dk_err_errno(err, "%s: cannot create directory", path);
	}
	/* All 256 fan-out directories up front: storing an object then never needs a mkdir. */
	snprintf(path, sizeof(path), "%s/objects/ff", root);
	if (access(path, F_OK) == 0)
		return 0;
	for (int i = 0; i < 256; i++) {
		snprintf(path, sizeof(path), "%s/objects/%02x", root, i);
		if (mkdir(path, 0755) != 0 && errno != EEXIST)
			return dk_err_errno(err, "%s: cannot create directory", path);
	}
	return 0;
}

int dk_repo_open(struct dk_repo *r, const char *root, unsigned flags, const char *command, double lock_timeout,
		 struct dk_err *err)
{
	char path[4096];
	struct stat st;
	int ret;

	r->db = (struct dk_db)DK_DB_INIT;
	r->lock_fd = -1;
	r->root = strdup(root);
	if (!r->root)
		return dk_err_set(err, DK_ENOMEM, "out of memory");
	snprintf(path, sizeof(path), "%s/debkeep.db", root);
	if (stat(path, &st) != 0) {
		if (!(flags & DK_REPO_CREATE)) {
			ret = dk_err_set(err, DK_EINPUT, "%s: no data root here (run 'debkeep init')", root);
			goto fail;
		}
		if ((ret = mkdirs(root, err)) < 0)
			goto fail;
	}
	if ((flags & (DK_REPO_WRITE | DK_REPO_CREATE)) &&
	    (ret = dk_lock_take(root, command, lock_timeout, &r->lock_fd, err)) < 0)
		goto fail;
	/* Readers open read-only: in WAL mode any number of them read beside the one writer. */
	if ((ret = dk_db_open(&r->db, root,
			      (flags & DK_REPO_CREATE)  ? DK_DB_CREATE
			      : (flags & DK_REPO_WRITE) ? 0
							: DK_DB_READONLY,
			      err)) != 0) {
		if (ret > 0)
			ret = DK_EINPUT;
		goto fail;
	}
	if ((flags & (DK_REPO_WRITE | DK_REPO_CREATE)) &&
	    ((ret = mkdirs(root, err)) < 0 ||
	     (ret = dk_db_migrate(&r->db, "repo", repo_steps, sizeof(repo_steps) / sizeof(repo_steps[0]), err)) < 0))
		goto fail;
	if (!(flags & (DK_REPO_WRITE | DK_REPO_CREATE))) {
		int v;

		if ((ret = dk_db_schema_version(&r->db, "repo", &v, err)) < 0)
			goto fail;
		if (v > DK_REPO_SCHEMA_VERSION) {
			ret = dk_err_set(err, DK_EINPUT, "%s: repository schema %d is newer than this program knows (%d)",
					 path, v, DK_REPO_SCHEMA_VERSION);
			goto fail;
		}
		if (v == 0) {
			ret = dk_err_set(err, DK_EINPUT, "%s: no repository schema (run 'debkeep init')", path);
			goto fail;
		}
		/* A reader never writes, so it cannot migrate: any writer (init) brings the schema up. */
		if (v < DK_REPO_SCHEMA_VERSION) {
			ret = dk_err_set(err, DK_EINPUT,
					 "%s: repository schema %d is older than this program's (%d): run 'debkeep init'",
					 path, v, DK_REPO_SCHEMA_VERSION);
			goto fail;
		}
	}
	return 0;
fail:
	dk_repo_close(r);
	return ret;
}

void dk_repo_close(struct dk_repo *r)
{
	dk_db_close(&r->db);
	dk_lock_release(r->lock_fd);
	r->lock_fd = -1;
	free(r->root);
	r->root = NULL;
}

void dk_store_path(const char *root, const char *hex, char *out, size_t n)
{
	snprintf(out, n, "%s/objects/%.2s/%s", root, hex, hex + 2);
}

int dk_store_batch_init(struct dk_store_batch *b, const char *root, size_t slots, struct dk_err *err)
{
	b->root = root;
	b->pid = getpid();
	b->n = slots;
	b->tmp = calloc(slots ? slots : 1, sizeof(*b->tmp));
	if (!b->tmp)
		return dk_err_set(err, DK_ENOMEM, "out of memory");
	return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= w;
	}
	return 0;
}

int dk_store_batch_put(struct dk_store_batch *b, size_t slot, const void *data, size_t len, const char *hex,
		       struct dk_err *err)
{
	char tmp[4096];
	size_t n;
	int fd;

	/*
	 * Staged beside its final name, in the object's own fan-out directory: the rename at commit then
	 * stays inside one small directory, and two threads rarely contend for one directory's lock. One
	 * shared tmp/ grown to 20,000 entries made each create about three times as dear. The name
	 * carries the object's name too, so commit needs nothing else; gc removes those of a dead process.
	 */
	n = snprintf(tmp, sizeof(tmp), "%s/objects/%.2s/" DK_STORE_STAGING "%ld-%zu-%s", b->root, hex, b->pid,
		     slot, hex);
	if (n >= sizeof(tmp))
		return dk_err_set(err, DK_EINPUT, "%s: path too long", b->root);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0444);
	if (fd < 0)
		return dk_err_errno(err, "%s", tmp);
	if (write_all(fd, data, len) != 0) {
		int r = dk_err_errno(err, "%s: write", tmp);

		close(fd);
		unlink(tmp);
		return r;
	}
	if (close(fd) != 0) {
		unlink(tmp);
		return dk_err_errno(err, "%s: close", tmp);
	}
	if (!(b->tmp[slot] = strdup(tmp))) {
		unlink(tmp);
		return dk_err_set(err, DK_ENOMEM, "out of memory");
	}
	return 0;
}

static int sync_root(const char *root, struct dk_err *err)
{
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return dk_err_errno(err, "%s", root);
	if (syncfs(fd) != 0) {
		int r = dk_err_errno(err, "%s: syncfs", root);

		close(fd);
		return r;
	}
	close(fd);
	return 0;
}

int dk_store_batch_commit(struct dk_store_batch *b, struct dk_err *err)
{
	char obj[4096];
	bool any = false;
	int r;

	for (size_t i = 0; i < b->n && !any; i++)
		any = b->tmp[i] != NULL;
	if (!any)
		return 0;
	if ((r = sync_root(b->root, err)) < 0)
		return r;
	for (size_t i = 0; i < b->n; i++) {
		const char *hex;

		if (!b->tmp[i])
			continue;
		hex = strrchr(b->tmp[i], '-') + 1;
		dk_store_path(b->root, hex, obj, sizeof(obj));
		/* Never replace: an object that appeared meanwhile is the same bytes and stays as it is. */
		if (renameat2(AT_FDCWD, b->tmp[i], AT_FDCWD, obj, RENAME_NOREPLACE) != 0) {
			/* A file system without RENAME_NOREPLACE: link fails the same way on an existing name. */
			if (errno == EINVAL && link(b->tmp[i], obj) != 0 && errno != EEXIST)
				return dk_err_errno(err, "%s", obj);
			if (errno != EINVAL && errno != EEXIST)
				return dk_err_errno(err, "%s", obj);
			unlink(b->tmp[i]);
		}
		free(b->tmp[i]);
		b->tmp[i] = NULL;
	}
	return sync_root(b->root, err);
}

void dk_store_batch_release(struct dk_store_batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		if (b->tmp[i]) {
			unlink(b->tmp[i]);
			free(b->tmp[i]);
		}
	}
	free(b->tmp);
	memset(b, 0, sizeof(*b));
}
