/* snapshot.c - immutable package sets (create, merge, filter, list, show, diff, drop) and what uses them */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include <debkeep/buf.h>
#include <debkeep/index.h>
#include <debkeep/pkglist.h>
#include <debkeep/repo.h>
#include <debkeep/resolve.h>
#include <debkeep/sources.h>
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

static int check_name(const char *name, struct dk_err *err)
{
	if (!*name || strlen(name) > 200 || strcspn(name, "/ \t\n") != strlen(name))
		return dk_err_set(err, DK_EINPUT, "snapshot '%s': invalid name (no '/', blanks; 1 to 200 bytes)", name);
	return 0;
}

/* A new, empty snapshot row inside the caller's transaction; DK_EINPUT when the name is taken or bad. */
static int snapshot_row(struct dk_repo *r, const char *name, const char *origin, const char *description,
			long long *id, struct dk_err *err)
{
	sqlite3_stmt *s;
	char stamp[32];
	struct tm tm;
	time_t t = time(NULL);
	int ret, rc;

	if ((ret = check_name(name, err)) < 0)
		return ret;
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if ((ret = prepare(r, "INSERT INTO snapshots (name, created, origin, description) VALUES (?1, ?2, ?3, ?4)"
			   " ON CONFLICT (name) DO NOTHING",
			   &s, err)) < 0)
		return ret;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, stamp, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, origin, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, description ? description : "", -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return dk_db_error(&r->db, err, "snapshot create");
	if (sqlite3_changes(r->db.h) == 0)
		return dk_err_set(err, DK_EINPUT, "snapshot '%s': exists already (a snapshot never changes)", name);
	*id = sqlite3_last_insert_rowid(r->db.h);
	return 0;
}

int dk_snapshot_create_local(struct dk_repo *r, const char *name, const char *collection, const char *description,
			     struct dk_err *err)
{
	sqlite3_stmt *s = NULL;
	long long coll = 0, id;
	char origin[300];
	int ret, rc;

	if ((ret = check_name(name, err)) < 0)
		return ret;
	if (strlen(collection) > 200)
		return dk_err_set(err, DK_EINPUT, "collection name too long");
	/*
	 * The copy below is most of a snapshot's cost, and with foreign keys on, half of it went to looking
	 * up every member's package row (each a page of the packages table, so all of it is read). Those
	 * rows exist: they are collection members, checked when they were added, and a package row cannot
	 * go while a collection refers to it. The pragma is a no-op inside a transaction, so it goes first,
	 * and is off for the whole transaction: the sources copy joins every row it refers to, so it holds
	 * without the check too.
	 */
	if ((ret = dk_db_exec(&r->db, "PRAGMA foreign_keys=OFF", err)) < 0)
		return ret;
	if ((ret = dk_db_begin(&r->db, err)) < 0)
		goto out;
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
	if (!strncmp(collection, "mirror/", 7))
		snprintf(origin, sizeof(origin), "mirror:%s", collection + 7);
	else
		snprintf(origin, sizeof(origin), "local:%s", collection);
	if ((ret = snapshot_row(r, name, origin, description, &id, err)) < 0)
		goto out;
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
	if (!strncmp(collection, "mirror/", 7) &&
	    (ret = dk_sources_snapshot_copy(r, id, collection + 7, NULL, err)) < 0)
		goto out;
	ret = dk_db_commit(&r->db, err);
out:
	if (ret < 0)
		dk_db_rollback(&r->db);
	rc = dk_db_exec(&r->db, "PRAGMA foreign_keys=ON", ret < 0 ? NULL : err);
	return ret < 0 ? ret : rc;
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
	if ((ret = dk_sources_snapshot_drop(r, info.id, err)) < 0 ||
	    (ret = exec_bound(r, "DELETE FROM snapshot_members WHERE snapshot_id = ?1", NULL, info.id, err)) < 0 ||
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

struct mrow {
	long long id;
	char *name, *arch, *version;
	size_t src;
};

struct mrows {
	struct mrow *v;
	size_t n, cap;
};

static void mrows_release(struct mrows *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->v[i].name);
		free(m->v[i].arch);
		free(m->v[i].version);
	}
	free(m->v);
}

static int load_members(struct dk_repo *r, long long snap, size_t src, struct mrows *m, struct dk_err *err)
{
	sqlite3_stmt *s;
	int ret, rc;

	if ((ret = prepare(r, "SELECT p.id, p.name, p.arch, p.version FROM snapshot_members m"
			   " JOIN packages p ON p.id = m.package_id WHERE m.snapshot_id = ?1", &s, err)) < 0)
		return ret;
	sqlite3_bind_int64(s, 1, snap);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct mrow *x;

		if (m->n == m->cap) {
			size_t cap = m->cap ? 2 * m->cap : 1024;

			if (!(x = realloc(m->v, cap * sizeof(*x)))) {
				ret = dk_err_set(err, DK_ENOMEM, "out of memory");
				break;
			}
			m->v = x;
			m->cap = cap;
		}
		x = &m->v[m->n++];
		x->id = sqlite3_column_int64(s, 0);
		x->name = col_dup(s, 1);
		x->arch = col_dup(s, 2);
		x->version = col_dup(s, 3);
		x->src = src;
		if (!x->name || !x->arch || !x->version) {
			ret = dk_err_set(err, DK_ENOMEM, "out of memory");
			break;
		}
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = dk_db_error(&r->db, err, "snapshot merge");
	sqlite3_finalize(s);
	return ret;
}

/* By (name, arch), then the highest version first, then the first source named. */
static int cmp_mrow(const void *a, const void *b)
{
	const struct mrow *x = a, *y = b;
	int c;

	if ((c = strcmp(x->name, y->name)) || (c = strcmp(x->arch, y->arch)))
		return c;
	if ((c = vcmp(y->version, x->version)))
		return c;
	return x->src < y->src ? -1 : x->src > y->src;
}

static int add_member(sqlite3_stmt *ins, long long snap, long long pkg)
{
	sqlite3_bind_int64(ins, 1, snap);
	sqlite3_bind_int64(ins, 2, pkg);
	if (sqlite3_step(ins) != SQLITE_DONE)
		return -1;
	sqlite3_reset(ins);
	return 0;
}

int dk_snapshot_merge(struct dk_repo *r, const char *name, const char *const *sources, size_t n, bool keep_all,
		      const char *description, struct dk_err *err)
{
	struct dk_buf origin = DK_BUF_INIT;
	struct mrows m = { 0 };
	sqlite3_stmt *ins = NULL;
	long long id;
	int ret;

	if (n == 0)
		return dk_err_set(err, DK_EINPUT, "snapshot merge: name the snapshots to merge");
	dk_buf_adds(&origin, "merge:");
	for (size_t i = 0; i < n; i++)
		dk_buf_addf(&origin, "%s%s", i ? "+" : "", sources[i]);
	if ((ret = dk_buf_check(&origin, err, "merge origin")) < 0)
		return ret;
	if ((ret = dk_db_begin(&r->db, err)) < 0)
		goto out;
	for (size_t i = 0; i < n && ret == 0; i++) {
		struct dk_snapshot_info info;

		if ((ret = dk_snapshot_get(r, sources[i], &info, err)) < 0)
			break;
		ret = load_members(r, info.id, i, &m, err);
		dk_snapshot_info_release(&info);
	}
	if (ret < 0 || (ret = snapshot_row(r, name, origin.data, description, &id, err)) < 0 ||
	    (ret = prepare(r, "INSERT OR IGNORE INTO snapshot_members (snapshot_id, package_id) VALUES (?1, ?2)", &ins,
			   err)) < 0)
		goto out;
	if (m.n)
		qsort(m.v, m.n, sizeof(*m.v), cmp_mrow);
	for (size_t i = 0; i < m.n && ret == 0; i++) {
		const struct mrow *x = &m.v[i], *prev = i ? &m.v[i - 1] : NULL;

		if (!keep_all && prev && !strcmp(x->name, prev->name) && !strcmp(x->arch, prev->arch))
			continue;
		if (add_member(ins, id, m.v[i].id) < 0)
			ret = dk_db_error(&r->db, err, "snapshot merge");
	}
	for (size_t i = 0; i < n && ret == 0; i++)
		ret = dk_sources_snapshot_copy(r, id, NULL, sources[i], err);
	if (ret == 0)
		ret = dk_db_commit(&r->db, err);
out:
	sqlite3_finalize(ins);
	if (ret < 0)
		dk_db_rollback(&r->db);
	mrows_release(&m);
	dk_buf_release(&origin);
	return ret;
}

/* The snapshot as a Packages text, each stanza marked with its object so a selection maps back to rows. */
struct packages_text {
	struct dk_buf text;
	const char **archs;
	size_t narchs, cap;
};

static int add_stanza(void *ctx, const struct dk_snapshot_pkg *p)
{
	struct packages_text *t = ctx;
	bool seen = !strcmp(p->arch, "all");

	dk_buf_addf(&t->text, "%s\nDebkeep-Object: %s\n\n", p->control, p->sha256);
	for (size_t i = 0; i < t->narchs && !seen; i++)
		seen = !strcmp(t->archs[i], p->arch);
	if (seen)
		return 0;
	if (t->narchs == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 8;
		const char **v = realloc(t->archs, cap * sizeof(*v));

		if (!v)
			return DK_ENOMEM;
		t->archs = v;
		t->cap = cap;
	}
	if (!(t->archs[t->narchs] = strdup(p->arch)))
		return DK_ENOMEM;
	t->narchs++;
	return 0;
}

static int resolve_arch(struct dk_repo *r, const struct packages_text *t, const struct dk_pkglist *pl,
			const char *from, const char *arch, sqlite3_stmt *ins, long long id, struct dk_err *err)
{
	struct dk_index idx;
	struct dk_resolution res = DK_RESOLUTION_INIT;
	int ret;

	if ((ret = dk_index_init(&idx, arch, err)) < 0)
		return ret;
	if ((ret = dk_index_load_mem(&idx, t->text.data, t->text.len, from, err)) < 0 ||
	    (ret = dk_index_finish(&idx, err)) < 0)
		goto out;
	if ((ret = dk_resolve_pkglist(&idx, pl, &res, err)) < 0) {
		dk_err_prefix(err, "snapshot '%s': %s", from, arch);
		goto out;
	}
	for (size_t i = 0; i < res.count && ret == 0; i++) {
		struct dk_slice sha;

		if (dk_pkg_field(&idx.pkgs[res.items[i].pkg], "Debkeep-Object", &sha) != 0 || sha.n != 64) {
			ret = dk_err_set(err, DK_EINTERNAL, "snapshot filter: a selected package lost its object");
			break;
		}
		sqlite3_bind_int64(ins, 1, id);
		sqlite3_bind_text(ins, 2, sha.p, 64, SQLITE_TRANSIENT);
		if (sqlite3_step(ins) != SQLITE_DONE)
			ret = dk_db_error(&r->db, err, "snapshot filter");
		sqlite3_reset(ins);
	}
out:
	dk_resolution_release(&res);
	dk_index_release(&idx);
	return ret;
}

int dk_snapshot_filter(struct dk_repo *r, const char *name, const char *from, const char *list_path,
		       const char *arch, const char *description, struct dk_err *err)
{
	struct packages_text t = { DK_BUF_INIT, NULL, 0, 0 };
	struct dk_pkglist pl = DK_PKGLIST_INIT;
	sqlite3_stmt *ins = NULL;
	char origin[300];
	long long id;
	int ret;

	if ((ret = dk_pkglist_load(&pl, list_path, err)) < 0)
		goto out;
	if ((ret = dk_db_begin(&r->db, err)) < 0)
		goto out;
	if ((ret = dk_snapshot_packages(r, from, add_stanza, &t, err)) < 0) {
		if (ret == DK_ENOMEM && !err->msg[0])
			dk_err_set(err, DK_ENOMEM, "out of memory");
		goto out;
	}
	if ((ret = dk_buf_check(&t.text, err, from)) < 0)
		goto out;
	snprintf(origin, sizeof(origin), "filter:%.290s", from);
	if ((ret = snapshot_row(r, name, origin, description, &id, err)) < 0 ||
	    (ret = prepare(r, "INSERT OR IGNORE INTO snapshot_members (snapshot_id, package_id)"
			   " SELECT ?1, id FROM packages WHERE sha256 = ?2", &ins, err)) < 0)
		goto out;
	if (arch) {
		ret = resolve_arch(r, &t, &pl, from, arch, ins, id, err);
	} else if (pl.narchs) {
		for (size_t i = 0; i < pl.narchs && ret == 0; i++)
			ret = resolve_arch(r, &t, &pl, from, pl.archs[i], ins, id, err);
	} else {
		if (t.narchs == 0)
			ret = dk_err_set(err, DK_EINPUT, "snapshot '%s': no architecture to resolve for (give --arch)",
					 from);
		for (size_t i = 0; i < t.narchs && ret == 0; i++)
			ret = resolve_arch(r, &t, &pl, from, t.archs[i], ins, id, err);
	}
	if (ret == 0)
		ret = dk_sources_snapshot_filter(r, id, from, err);
	if (ret == 0)
		ret = dk_db_commit(&r->db, err);
out:
	sqlite3_finalize(ins);
	if (ret < 0)
		dk_db_rollback(&r->db);
	for (size_t i = 0; i < t.narchs; i++)
		free((char *)t.archs[i]);
	free(t.archs);
	dk_buf_release(&t.text);
	dk_pkglist_release(&pl);
	return ret;
}

void dk_publication_release(struct dk_publication *p)
{
	char **f[] = { &p->prefix, &p->suite, &p->snapshot, &p->public, &p->component, &p->codename, &p->origin,
		       &p->label, &p->architectures, &p->sign_key, &p->gnupghome, &p->published };

	for (size_t i = 0; i < sizeof(f) / sizeof(*f); i++)
		free(*f[i]);
	memset(p, 0, sizeof(*p));
}

/* "PREFIX/SUITE", or "SUITE" without a prefix: the publication's name in snapshot_uses. */
static void use_name(const char *prefix, const char *suite, char *out, size_t n)
{
	snprintf(out, n, "%s%s%s", prefix, *prefix ? "/" : "", suite);
}

static void bind_opt(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i);
}

int dk_publication_record(struct dk_repo *r, const struct dk_publication *p, struct dk_err *err)
{
	sqlite3_stmt *s;
	char use[1024], stamp[32];
	struct tm tm;
	time_t t = time(NULL);
	int ret, rc;

	use_name(p->prefix, p->suite, use, sizeof(use));
	if ((ret = dk_snapshot_use(r, p->snapshot, "publication", use, err)) < 0)
		return ret;
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if ((ret = prepare(r, "INSERT OR REPLACE INTO publications (prefix, suite, snapshot_id, public, component,"
			   " codename, origin, label, architectures, sign_key, gnupghome, valid_until, published)"
			   " SELECT ?1, ?2, id, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13"
			   " FROM snapshots WHERE name = ?3",
			   &s, err)) < 0)
		return ret;
	sqlite3_bind_text(s, 1, p->prefix, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, p->suite, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, p->snapshot, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, p->public ? p->public : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, p->component ? p->component : "main", -1, SQLITE_STATIC);
	bind_opt(s, 6, p->codename);
	bind_opt(s, 7, p->origin);
	bind_opt(s, 8, p->label);
	bind_opt(s, 9, p->architectures);
	bind_opt(s, 10, p->sign_key);
	bind_opt(s, 11, p->gnupghome);
	sqlite3_bind_int64(s, 12, p->valid_until);
	sqlite3_bind_text(s, 13, stamp, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return dk_db_error(&r->db, err, "publication");
	return 0;
}

static char *col_opt(sqlite3_stmt *s, int i)
{
	return sqlite3_column_type(s, i) == SQLITE_NULL ? NULL : col_dup(s, i);
}

int dk_publication_get(struct dk_repo *r, const char *prefix, const char *suite, struct dk_publication *p,
		       struct dk_err *err)
{
	sqlite3_stmt *s;
	int ret, rc;

	memset(p, 0, sizeof(*p));
	if ((ret = prepare(r, "SELECT p.prefix, p.suite, s.name, p.public, p.component, p.codename, p.origin, p.label,"
			   " p.architectures, p.sign_key, p.gnupghome, p.valid_until, p.published FROM publications p"
			   " JOIN snapshots s ON s.id = p.snapshot_id WHERE p.prefix = ?1 AND p.suite = ?2",
			   &s, err)) < 0)
		return ret;
	sqlite3_bind_text(s, 1, prefix, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, suite, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		p->prefix = col_dup(s, 0);
		p->suite = col_dup(s, 1);
		p->snapshot = col_dup(s, 2);
		p->public = col_dup(s, 3);
		p->component = col_dup(s, 4);
		p->codename = col_opt(s, 5);
		p->origin = col_opt(s, 6);
		p->label = col_opt(s, 7);
		p->architectures = col_opt(s, 8);
		p->sign_key = col_opt(s, 9);
		p->gnupghome = col_opt(s, 10);
		p->valid_until = sqlite3_column_int64(s, 11);
		p->published = col_dup(s, 12);
		ret = p->prefix && p->suite && p->snapshot && p->public && p->component && p->published
			      ? 0
			      : dk_err_set(err, DK_ENOMEM, "out of memory");
	} else if (rc == SQLITE_DONE) {
		ret = DK_NOTFOUND;
	} else {
		ret = dk_db_error(&r->db, err, "publication");
	}
	sqlite3_finalize(s);
	if (ret != 0)
		dk_publication_release(p);
	return ret;
}

int dk_publication_forget(struct dk_repo *r, const char *prefix, const char *suite, struct dk_err *err)
{
	sqlite3_stmt *s;
	char use[1024];
	int ret, rc;

	use_name(prefix, suite, use, sizeof(use));
	if ((ret = prepare(r, "DELETE FROM snapshot_uses WHERE kind = 'publication' AND name = ?1", &s, err)) < 0)
		return ret;
	sqlite3_bind_text(s, 1, use, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return dk_db_error(&r->db, err, "publication");
	if ((ret = prepare(r, "DELETE FROM publications WHERE prefix = ?1 AND suite = ?2", &s, err)) < 0)
		return ret;
	sqlite3_bind_text(s, 1, prefix, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, suite, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return dk_db_error(&r->db, err, "publication");
	return 0;
}
