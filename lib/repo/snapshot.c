/* snapshot.c - immutable package sets: create from a collection (metadata only), list, show, diff, drop */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include <debkeep/repo.h>
#include <debkeep/version.h>

#include "banned.h"

void dk_snapshot_info_release(struct dk_snapshot_info *s)
{
	free(s->name);
	free(s->created);
	free(s->origin);
	free(s->description);
	memset(s, 0, sizeof(*s));
}

static int prepare(struct dk_repo *r, const char *sql, sqlite3_stmt **s, struct dk_err *err)
{
	if (sqlite3_prepare_v2(r->db.h, sql, -1, s, NULL) != SQLITE_OK)
		return dk_db_error(&r->db, err, "snapshot");
	return 0;
}

static char *col_dup(sqlite3_stmt *s, int i)
{
	const char *t = (const char *)sqlite3_column_text(s, i);

	return strdup(t ? t : "");
}

static const char *col(sqlite3_stmt *s, int i)
{
	const char *t = (const char *)sqlite3_column_text(s, i);

	return t ? t : "";
}

#define INFO_SQL                                                                                                       \
	"SELECT s.id, s.name, s.created, s.origin, s.description,"                                                    \
	" (SELECT count(*) FROM snapshot_members m WHERE m.snapshot_id = s.id) FROM snapshots s"

static int fill_info(sqlite3_stmt *s, struct dk_snapshot_info *info, struct dk_err *err)
{
	info->id = sqlite3_column_int64(s, 0);
	info->name = col_dup(s, 1);
	info->created = col_dup(s, 2);
	info->origin = col_dup(s, 3);
	info->description = col_dup(s, 4);
	info->count = sqlite3_column_int64(s, 5);
	if (!info->name || !info->created || !info->origin || !info->description) {
		dk_snapshot_info_release(info);
		return dk_err_set(err, DK_ENOMEM, "out of memory");
	}
	return 0;
}

int dk_snapshot_get(struct dk_repo *r, const char *name, struct dk_snapshot_info *info, struct dk_err *err)
{
	sqlite3_stmt *s;
	int ret, rc;

	memset(info, 0, sizeof(*info));
	if ((ret = prepare(r, INFO_SQL " WHERE s.name = ?1", &s, err)) < 0)
		return ret;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		ret = fill_info(s, info, err);
	else if (rc == SQLITE_DONE)
		ret = dk_err_set(err, DK_EINPUT, "snapshot '%s': unknown snapshot", name);
	else
		ret = dk_db_error(&r->db, err, "snapshot");
	sqlite3_finalize(s);
	return ret;
}

int dk_snapshot_list(struct dk_repo *r, int (*fn)(void *ctx, const struct dk_snapshot_info *s), void *ctx,
		     struct dk_err *err)
{
	sqlite3_stmt *s;
	int ret, rc;

	if ((ret = prepare(r, INFO_SQL " ORDER BY s.name", &s, err)) < 0)
		return ret;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct dk_snapshot_info info;

		if ((ret = fill_info(s, &info, err)) < 0)
			break;
		ret = fn(ctx, &info);
		dk_snapshot_info_release(&info);
		if (ret < 0)
			break;
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = dk_db_error(&r->db, err, "snapshot list");
	sqlite3_finalize(s);
	return ret;
}

static int exec_bound(struct dk_repo *r, const char *sql, const char *a, long long b, struct dk_err *err)
{
	sqlite3_stmt *s;
	int ret, rc;

	if ((ret = prepare(r, sql, &s, err)) < 0)
		return ret;
	if (a)
		sqlite3_bind_text(s, 1, a, -1, SQLITE_STATIC);
	else
		sqlite3_bind_int64(s, 1, b);
	rc = sqlite3_step(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		ret = dk_db_error(&r->db, err, "snapshot");
	sqlite3_finalize(s);
	return ret;
}

int dk_snapshot_create_local(struct dk_repo *r, const char *name, const char *collection, const char *description,
			     struct dk_err *err)
{
	sqlite3_stmt *s = NULL;
	long long coll = 0, id;
	char stamp[32], origin[300];
	struct tm tm;
	time_t t = time(NULL);
	int ret, rc;

	if (!*name || strlen(name) > 200 || strcspn(name, "/ \t\n") != strlen(name))
		return dk_err_set(err, DK_EINPUT, "snapshot '%s': invalid name (no '/', blanks; 1 to 200 bytes)", name);
	if (strlen(collection) > 200)
		return dk_err_set(err, DK_EINPUT, "collection name too long");
	if ((ret = dk_db_begin(&r->db, err)) < 0)
		return ret;
	if ((ret = prepare(r, "SELECT id FROM collections WHERE name = ?1", &s, err)) < 0)
		goto out;
	sqlite3_bind_text(s, 1, collection, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		coll = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	s = NULL;
	if (!coll && !strncmp(collection, "mirror/", 7)) {
		ret = dk_err_set(err, DK_EINPUT, "mirror '%s': unknown mirror, or never updated", collection + 7);
		goto out;
	}
	if (!coll) {
		ret = dk_err_set(err, DK_EINPUT, "collection '%s': unknown collection (import into it first)",
				 collection);
		goto out;
	}
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!strncmp(collection, "mirror/", 7))
		snprintf(origin, sizeof(origin), "mirror:%s", collection + 7);
	else
		snprintf(origin, sizeof(origin), "local:%s", collection);
	if ((ret = prepare(r, "INSERT INTO snapshots (name, created, origin, description) VALUES (?1, ?2, ?3, ?4)"
			   " ON CONFLICT (name) DO NOTHING",
			   &s, err)) < 0)
		goto out;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, stamp, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, origin, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, description ? description : "", -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		ret = dk_db_error(&r->db, err, "snapshot create");
		goto out;
	}
	if (sqlite3_changes(r->db.h) == 0) {
		ret = dk_err_set(err, DK_EINPUT, "snapshot '%s': exists already (a snapshot never changes)", name);
		goto out;
	}
	id = sqlite3_last_insert_rowid(r->db.h);
	if ((ret = prepare(r, "INSERT INTO snapshot_members (snapshot_id, package_id)"
			   " SELECT ?1, package_id FROM collection_members WHERE collection_id = ?2",
			   &s, err)) < 0)
		goto out;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, coll);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		ret = dk_db_error(&r->db, err, "snapshot create");
		goto out;
	}
	ret = dk_db_commit(&r->db, err);
out:
	if (ret < 0)
		dk_db_rollback(&r->db);
	return ret;
}

int dk_snapshot_packages(struct dk_repo *r, const char *name, int (*fn)(void *ctx, const struct dk_snapshot_pkg *p),
			 void *ctx, struct dk_err *err)
{
	struct dk_snapshot_info info;
	sqlite3_stmt *s;
	int ret, rc;

	if ((ret = dk_snapshot_get(r, name, &info, err)) < 0)
		return ret;
	ret = prepare(r, "SELECT p.name, p.version, p.arch, p.source, p.source_version, p.sha256, p.filename, p.size,"
		      " p.md5, p.control FROM snapshot_members m JOIN packages p ON p.id = m.package_id WHERE m.snapshot_id = ?1"
		      " ORDER BY p.name, p.arch, p.version, p.sha256",
		      &s, err);
	if (ret < 0)
		goto out;
	sqlite3_bind_int64(s, 1, info.id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct dk_snapshot_pkg p = {
			col(s, 0), col(s, 1), col(s, 2), col(s, 3), col(s, 4), col(s, 5), col(s, 6),
			sqlite3_column_int64(s, 7), col(s, 8), col(s, 9),
		};

		if ((ret = fn(ctx, &p)) < 0)
			break;
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = dk_db_error(&r->db, err, "snapshot show");
	sqlite3_finalize(s);
out:
	dk_snapshot_info_release(&info);
	return ret;
}

#define DIFF_SQL                                                                                                       \
	"SELECT p.source, p.name, p.arch, p.version, p.sha256 FROM snapshot_members m"                                \
	" JOIN packages p ON p.id = m.package_id WHERE m.snapshot_id = ?1 ORDER BY p.source, p.name, p.arch"

/* The rows of one side for one (source, name, arch): normally one, more when a collection holds several versions. */
struct group {
	char *key[3];
	size_t n, cap;
	struct {
		char *version, *sha256;
		bool matched;
	} *v;
};

static void group_clear(struct group *g)
{
	for (int i = 0; i < 3; i++) {
		free(g->key[i]);
		g->key[i] = NULL;
	}
	for (size_t i = 0; i < g->n; i++) {
		free(g->v[i].version);
		free(g->v[i].sha256);
	}
	g->n = 0;
}

/* Read the next group from s (whose current row is *rc); returns 1 with a group, 0 at the end. */
static int group_next(struct dk_repo *r, sqlite3_stmt *s, int *rc, struct group *g, struct dk_err *err)
{
	group_clear(g);
	if (*rc != SQLITE_ROW)
		return *rc == SQLITE_DONE ? 0 : dk_db_error(&r->db, err, "snapshot diff");
	for (int i = 0; i < 3; i++)
		if (!(g->key[i] = strdup(col(s, i))))
			return dk_err_set(err, DK_ENOMEM, "out of memory");
	do {
		if (g->n == g->cap) {
			size_t cap = g->cap ? 2 * g->cap : 4;
			void *v = realloc(g->v, cap * sizeof(*g->v));

			if (!v)
				return dk_err_set(err, DK_ENOMEM, "out of memory");
			g->v = v;
			g->cap = cap;
		}
		g->v[g->n].version = strdup(col(s, 3));
		g->v[g->n].sha256 = strdup(col(s, 4));
		g->v[g->n].matched = false;
		if (!g->v[g->n++].version || !g->v[g->n - 1].sha256)
			return dk_err_set(err, DK_ENOMEM, "out of memory");
		*rc = sqlite3_step(s);
	} while (*rc == SQLITE_ROW && strcmp(col(s, 0), g->key[0]) == 0 && strcmp(col(s, 1), g->key[1]) == 0 &&
		 strcmp(col(s, 2), g->key[2]) == 0);
	return 1;
}

static int key_cmp(const struct group *a, const struct group *b)
{
	for (int i = 0; i < 3; i++) {
		int c = strcmp(a->key[i], b->key[i]);

		if (c)
			return c;
	}
	return 0;
}

static int vcmp(const char *a, const char *b)
{
	return dk_version_cmp_str(a, strlen(a), b, strlen(b));
}

/* Changes within one key: one row each side is an upgrade (or downgrade, or rebuild); else versions pair up. */
static int diff_group(const struct group *ga, const struct group *gb,
		      int (*fn)(void *ctx, const struct dk_snapshot_change *c), void *ctx)
{
	struct dk_snapshot_change c = { 0 };
	int ret = 0;

	c.source = (ga->n ? ga : gb)->key[0];
	c.name = (ga->n ? ga : gb)->key[1];
	c.arch = (ga->n ? ga : gb)->key[2];
	if (ga->n == 1 && gb->n == 1) {
		int v = vcmp(ga->v[0].version, gb->v[0].version);

		if (v == 0 && strcmp(ga->v[0].sha256, gb->v[0].sha256) == 0)
			return 0;
		c.kind = v < 0 ? DK_CHANGE_UPGRADED : v > 0 ? DK_CHANGE_DOWNGRADED : DK_CHANGE_REBUILT;
		c.old_version = ga->v[0].version;
		c.new_version = gb->v[0].version;
		c.old_sha256 = ga->v[0].sha256;
		c.new_sha256 = gb->v[0].sha256;
		return fn(ctx, &c);
	}
	for (size_t i = 0; i < ga->n && ret == 0; i++) {
		c.old_version = ga->v[i].version;
		c.old_sha256 = ga->v[i].sha256;
		c.new_version = c.new_sha256 = NULL;
		c.kind = DK_CHANGE_REMOVED;
		for (size_t j = 0; j < gb->n; j++) {
			if (vcmp(ga->v[i].version, gb->v[j].version) == 0) {
				gb->v[j].matched = true;
				if (strcmp(ga->v[i].sha256, gb->v[j].sha256) == 0)
					goto same;
				c.kind = DK_CHANGE_REBUILT;
				c.new_version = gb->v[j].version;
				c.new_sha256 = gb->v[j].sha256;
				break;
			}
		}
		ret = fn(ctx, &c);
same:;
	}
	c.old_version = c.old_sha256 = NULL;
	c.kind = DK_CHANGE_ADDED;
	for (size_t j = 0; j < gb->n && ret == 0; j++) {
		if (gb->v[j].matched)
			continue;
		c.new_version = gb->v[j].version;
		c.new_sha256 = gb->v[j].sha256;
		ret = fn(ctx, &c);
	}
	return ret;
}

int dk_snapshot_diff(struct dk_repo *r, const char *an, const char *bn,
		     int (*fn)(void *ctx, const struct dk_snapshot_change *c), void *ctx, struct dk_err *err)
{
	struct dk_snapshot_info ia, ib;
	struct group ga = { 0 }, gb = { 0 }, none = { 0 };
	sqlite3_stmt *a = NULL, *b = NULL;
	int ret, ra, rb, ha, hb;

	if ((ret = dk_snapshot_get(r, an, &ia, err)) < 0)
		return ret;
	if ((ret = dk_snapshot_get(r, bn, &ib, err)) < 0) {
		dk_snapshot_info_release(&ia);
		return ret;
	}
	if ((ret = prepare(r, DIFF_SQL, &a, err)) < 0 || (ret = prepare(r, DIFF_SQL, &b, err)) < 0)
		goto out;
	sqlite3_bind_int64(a, 1, ia.id);
	sqlite3_bind_int64(b, 1, ib.id);
	ra = sqlite3_step(a);
	rb = sqlite3_step(b);
	if ((ret = ha = group_next(r, a, &ra, &ga, err)) < 0 || (ret = hb = group_next(r, b, &rb, &gb, err)) < 0)
		goto out;
	ret = 0;
	while (ha || hb) {
		int k = !ha ? 1 : !hb ? -1 : key_cmp(&ga, &gb);

		if ((ret = diff_group(k <= 0 ? &ga : &none, k >= 0 ? &gb : &none, fn, ctx)) < 0)
			goto out;
		if (k <= 0 && (ret = ha = group_next(r, a, &ra, &ga, err)) < 0)
			goto out;
		if (k >= 0 && (ret = hb = group_next(r, b, &rb, &gb, err)) < 0)
			goto out;
		ret = 0;
	}
out:
	group_clear(&ga);
	group_clear(&gb);
	free(ga.v);
	free(gb.v);
	sqlite3_finalize(a);
	sqlite3_finalize(b);
	dk_snapshot_info_release(&ia);
	dk_snapshot_info_release(&ib);
	return ret;
}

int dk_snapshot_drop(struct dk_repo *r, const char *name, struct dk_err *err)
{
	struct dk_snapshot_info info;
	sqlite3_stmt *s = NULL;
	int ret;

	if ((ret = dk_db_begin(&r->db, err)) < 0)
		return ret;
	if ((ret = dk_snapshot_get(r, name, &info, err)) < 0)
		goto out;
	if ((ret = prepare(r, "SELECT kind, name FROM snapshot_uses WHERE snapshot_id = ?1 ORDER BY kind, name", &s,
			   err)) < 0)
		goto out;
	sqlite3_bind_int64(s, 1, info.id);
	if (sqlite3_step(s) == SQLITE_ROW) {
		ret = dk_err_set(err, DK_EINPUT, "snapshot '%s': in use by %s '%s'", name, col(s, 0), col(s, 1));
		goto out;
	}
	if ((ret = exec_bound(r, "DELETE FROM snapshot_members WHERE snapshot_id = ?1", NULL, info.id, err)) < 0 ||
	    (ret = exec_bound(r, "DELETE FROM snapshots WHERE id = ?1", NULL, info.id, err)) < 0)
		goto out;
	ret = dk_db_commit(&r->db, err);
out:
	sqlite3_finalize(s);
	if (ret < 0)
		dk_db_rollback(&r->db);
	dk_snapshot_info_release(&info);
	return ret;
}

int dk_snapshot_use(struct dk_repo *r, const char *snapshot, const char *kind, const char *name, struct dk_err *err)
{
	sqlite3_stmt *s = NULL;
	int ret, rc;

	if ((ret = prepare(r, "DELETE FROM snapshot_uses WHERE kind = ?1 AND name = ?2", &s, err)) < 0)
		return ret;
	sqlite3_bind_text(s, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return dk_db_error(&r->db, err, "snapshot use");
	if ((ret = prepare(r, "INSERT INTO snapshot_uses (snapshot_id, kind, name)"
			      " SELECT id, ?2, ?3 FROM snapshots WHERE name = ?1", &s, err)) < 0)
		return ret;
	sqlite3_bind_text(s, 1, snapshot, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return dk_db_error(&r->db, err, "snapshot use");
	if (sqlite3_changes(r->db.h) == 0)
		return dk_err_set(err, DK_EINPUT, "snapshot '%s': unknown snapshot", snapshot);
	return 0;
}
