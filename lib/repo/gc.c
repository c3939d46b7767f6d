/* gc.c - garbage collection: package rows, objects and staging files nothing refers to */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include <debkeep/repo.h>
#include <debkeep/sources.h>

#include "banned.h"

typedef char hex64[65];

struct hexset {
	hex64 *v;
	size_t n, cap;
};

static int hexset_add(struct hexset *s, const char *hex)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 1024;
		hex64 *v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	snprintf(s->v[s->n++], sizeof(hex64), "%s", hex);
	return 0;
}

static int cmp_hex(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void hexset_sort(struct hexset *s)
{
	if (s->n)
		qsort(s->v, s->n, sizeof(*s->v), cmp_hex);
}

static bool hexset_has(const struct hexset *s, const char *hex)
{
	return s->n && bsearch(hex, s->v, s->n, sizeof(*s->v), cmp_hex) != NULL;
}

static bool all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[n] == '\0';
}

/* Only a pid that is certainly gone: EPERM means someone else's live process. */
static bool pid_dead(const char *s, char after)
{
	char *end;
	long pid = strtol(s, &end, 10);

	if (end == s || *end != after || pid <= 0)
		return false;
	return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

/* nftw has no context argument; gc runs under the writers' lock, one walk at a time. */
static uint64_t walk_bytes;
static size_t walk_files;

static int add_size(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)path;
	(void)ftw;
	if (flag == FTW_F) {
		walk_bytes += (uint64_t)st->st_size;
		walk_files++;
	}
	return 0;
}

static uint64_t tree_bytes(const char *path)
{
	walk_bytes = 0;
	walk_files = 0;
	nftw(path, add_size, 16, FTW_PHYS);
	return walk_bytes;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static int remove_tree(const char *path, struct dk_err *err)
{
	if (nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0 && errno != ENOENT)
		return dk_err_errno(err, "%s: cannot remove", path);
	return 0;
}

/* A stale staging entry: counted, and removed unless this is a dry run. */
static int drop_stale(const char *path, bool dry_run, struct dk_gc_stats *st, struct dk_err *err)
{
	st->tmp++;
	st->tmp_bytes += tree_bytes(path);
	return dry_run ? 0 : remove_tree(path, err);
}

/*
 * ROOT/tmp: objects an older import staged (obj-PID-SLOT-HEX; now objects/ab/.obj-…, removed by
 * sweep_objects) and tracker data cve update built (tracker-PID.db)
 * for a process that is gone; mirror-NAME/ holds
 * resumable downloads and stays. public/: publish's .staging-PID-* directories and the
 * NAME.tmp-PID copies of pool files across file systems.
 */
static int clean_tmp(struct dk_repo *r, bool dry_run, struct dk_gc_stats *st, struct dk_err *err)
{
	char dir[4096], path[4400];
	struct dirent *d;
	DIR *dp;
	int ret = 0;

	snprintf(dir, sizeof(dir), "%s/tmp", r->root);
	if ((dp = opendir(dir))) {
		while ((d = readdir(dp)) && ret == 0) {
			snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
			if (!strncmp(d->d_name, "mirror-", 7))
				st->downloads_bytes += tree_bytes(path);
			else if ((!strncmp(d->d_name, "obj-", 4) && pid_dead(d->d_name + 4, '-')) ||
				 (!strncmp(d->d_name, "tracker-", 8) && pid_dead(d->d_name + 8, '.')))
				ret = drop_stale(path, dry_run, st, err);
		}
		closedir(dp);
	}
	if (ret < 0)
		return ret;
	snprintf(dir, sizeof(dir), "%s/public", r->root);
	if ((dp = opendir(dir))) {
		while ((d = readdir(dp)) && ret == 0) {
			snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
			if (!strncmp(d->d_name, ".staging-", 9) && pid_dead(d->d_name + 9, '-'))
				ret = drop_stale(path, dry_run, st, err);
		}
		closedir(dp);
	}
	return ret;
}

/* Pool copies in flight (NAME.tmp-PID) are found by a walk of public/, collected, then removed. */
static char **stale_paths;
static size_t nstale, capstale;

static int collect_pool_tmp(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	const char *t = strstr(path + ftw->base, ".tmp-");
	char pid[32], **v;

	(void)st;
	if (flag != FTW_F || !t)
		return 0;
	snprintf(pid, sizeof(pid), "%s-", t + 5);
	if (!pid_dead(pid, '-'))
		return 0;
	if (nstale == capstale) {
		capstale = capstale ? 2 * capstale : 16;
		if (!(v = realloc(stale_paths, capstale * sizeof(*v))))
			return -1;
		stale_paths = v;
	}
	if (!(stale_paths[nstale] = strdup(path)))
		return -1;
	nstale++;
	return 0;
}

static int clean_pool_tmp(struct dk_repo *r, bool dry_run, struct dk_gc_stats *st, struct dk_err *err)
{
	char dir[4096];
	int ret = 0;

	snprintf(dir, sizeof(dir), "%s/public", r->root);
	nstale = 0;
	if (access(dir, F_OK) == 0 && nftw(dir, collect_pool_tmp, 16, FTW_PHYS) != 0)
		ret = dk_err_set(err, DK_ENOMEM, "%s: out of memory listing stale copies", dir);
	for (size_t i = 0; i < nstale; i++) {
		if (ret == 0)
			ret = drop_stale(stale_paths[i], dry_run, st, err);
		free(stale_paths[i]);
	}
	free(stale_paths);
	stale_paths = NULL;
	nstale = capstale = 0;
	return ret;
}

static int load_shas(struct dk_repo *r, const char *sql, struct hexset *all, struct hexset *gone,
		     struct dk_gc_stats *st, struct dk_err *err)
{
	sqlite3_stmt *s;
	int rc, ret = 0;

	if (sqlite3_prepare_v2(r->db.h, sql, -1, &s, NULL) != SQLITE_OK)
		return dk_db_error(&r->db, err, "gc");
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *hex = (const char *)sqlite3_column_text(s, 0);
		char obj[4200];
		struct stat sb;

		if (!hex || strlen(hex) != 64)
			continue;
		if (!gone) {
			if (hexset_add(all, hex) < 0)
				ret = dk_err_set(err, DK_ENOMEM, "out of memory");
			if (ret)
				break;
			continue;
		}
		/* A pool file still links the object: the row stays with it, so no object is ever nameless. */
		dk_store_path(r->root, hex, obj, sizeof(obj));
		if (stat(obj, &sb) == 0 && sb.st_nlink > 1) {
			st->linked++;
			continue;
		}
		if (hexset_add(gone, hex) < 0) {
			ret = dk_err_set(err, DK_ENOMEM, "out of memory");
			break;
		}
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = dk_db_error(&r->db, err, "gc");
	sqlite3_finalize(s);
	return ret;
}

static int delete_rows(struct dk_repo *r, const struct hexset *gone, struct dk_err *err)
{
	sqlite3_stmt *s;
	int ret = 0;

	if (sqlite3_prepare_v2(r->db.h, "DELETE FROM packages WHERE sha256 = ?1", -1, &s, NULL) != SQLITE_OK)
		return dk_db_error(&r->db, err, "gc");
	for (size_t i = 0; i < gone->n && ret == 0; i++) {
		sqlite3_bind_text(s, 1, gone->v[i], 64, SQLITE_STATIC);
		if (sqlite3_step(s) != SQLITE_DONE)
			ret = dk_db_error(&r->db, err, "gc: deleting a package row");
		sqlite3_reset(s);
	}
	sqlite3_finalize(s);
	return ret;
}

/* Unlink every object no remaining row names and no pool file links. */
static int sweep_objects(struct dk_repo *r, const struct hexset *keep, bool dry_run, struct dk_gc_stats *st,
			 struct dk_err *err)
{
	char dir[4200], path[4500], hex[65];
	int ret = 0;

	for (int i = 0; i < 256 && ret == 0; i++) {
		struct dirent *d;
		DIR *dp;

		snprintf(dir, sizeof(dir), "%s/objects/%02x", r->root, i);
		if (!(dp = opendir(dir)))
			continue;
		while ((d = readdir(dp)) && ret == 0) {
			struct stat sb;

			if (!strncmp(d->d_name, DK_STORE_STAGING, strlen(DK_STORE_STAGING)) &&
			    pid_dead(d->d_name + strlen(DK_STORE_STAGING), '-')) {
				snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
				ret = drop_stale(path, dry_run, st, err);
				continue;
			}
			if (strlen(d->d_name) != 62 || !all_hex(d->d_name, 62))
				continue;
			snprintf(hex, sizeof(hex), "%02x%s", i, d->d_name);
			if (hexset_has(keep, hex))
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
			if (lstat(path, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_nlink > 1)
				continue;
			if (!dry_run && unlink(path) != 0 && errno != ENOENT) {
				ret = dk_err_errno(err, "%s: cannot remove", path);
				break;
			}
			st->objects++;
			st->bytes += (uint64_t)sb.st_size;
		}
		closedir(dp);
	}
	return ret;
}

int dk_gc(struct dk_repo *r, bool dry_run, struct dk_gc_stats *st, struct dk_err *err)
{
	struct hexset keep = { 0 }, gone = { 0 };
	int ret;

	memset(st, 0, sizeof(*st));
	if (r->lock_fd < 0)
		return dk_err_set(err, DK_EINTERNAL, "gc: the data root is not open for writing");
	if ((ret = dk_db_begin(&r->db, err)) < 0)
		return ret;
	ret = load_shas(r, "SELECT sha256 FROM packages WHERE id NOT IN (SELECT package_id FROM snapshot_members)"
			" AND id NOT IN (SELECT package_id FROM collection_members) ORDER BY sha256",
			NULL, &gone, st, err);
	st->rows = gone.n;
	/*
	 * A dry run deletes the rows too, and rolls back: what the remaining rows name is then exactly what
	 * a real run keeps, an orig tarball shared with a source that stays included.
	 */
	if (ret == 0)
		ret = delete_rows(r, &gone, err);
	if (ret == 0)
		ret = dk_sources_gc(r, &st->source_rows, err);
	if (ret == 0)
		ret = load_shas(r, "SELECT sha256 FROM packages", &keep, NULL, st, err);
	if (ret == 0 && dk_sources_present(r))
		ret = load_shas(r, DK_SOURCES_OBJECTS_SQL, &keep, NULL, st, err);
	/* Rows go first: once they are committed, the files below are garbage whether or not this finishes. */
	if (ret == 0)
		ret = dry_run ? 0 : dk_db_commit(&r->db, err);
	dk_db_rollback(&r->db);
	if (ret < 0)
		goto out;
	hexset_sort(&keep);
	if ((ret = sweep_objects(r, &keep, dry_run, st, err)) < 0 ||
	    (ret = clean_tmp(r, dry_run, st, err)) < 0)
		goto out;
	ret = clean_pool_tmp(r, dry_run, st, err);
out:
	free(keep.v);
	free(gone.v);
	return ret;
}
