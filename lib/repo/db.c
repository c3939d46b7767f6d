/* db.c - the data root's SQLite database: open or create, WAL mode, per-area schema migrations */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sqlite3.h>

#include <debkeep/db.h>

#include "banned.h"

/*
 * The file's own layout: a migrations table naming each applied step of
 * each area. PRAGMA user_version holds the version of this layout itself,
 * so a later change to it can be recognised.
 */
#define DB_LAYOUT_VERSION 1

static const char db_layout_sql[] = "CREATE TABLE IF NOT EXISTS migrations ("
				    " area TEXT NOT NULL,"
				    " version INTEGER NOT NULL,"
				    " name TEXT NOT NULL,"
				    " applied_at TEXT NOT NULL,"
				    " PRIMARY KEY (area, version));";

int dk_db_error(struct dk_db *db, struct dk_err *err, const char *what)
{
	int code = DK_EIO;

	if (db->h) {
		int rc = sqlite3_errcode(db->h);

		if (rc == SQLITE_NOMEM)
			code = DK_ENOMEM;
		else if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB)
			code = DK_EINPUT;
		return dk_err_set(err, code, "%s: %s: %s", db->path ? db->path : "debkeep.db", what,
				  sqlite3_errmsg(db->h));
	}
	return dk_err_set(err, code, "%s: %s", db->path ? db->path : "debkeep.db", what);
}

int dk_db_exec(struct dk_db *db, const char *sql, struct dk_err *err)
{
	char *msg = NULL;

	if (sqlite3_exec(db->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int r = dk_err_set(err, DK_EIO, "%s: %s", db->path, msg ? msg : sqlite3_errmsg(db->h));

		sqlite3_free(msg);
		return r;
	}
	return 0;
}

int dk_db_begin(struct dk_db *db, struct dk_err *err)
{
	return dk_db_exec(db, "BEGIN IMMEDIATE", err);
}

int dk_db_commit(struct dk_db *db, struct dk_err *err)
{
	return dk_db_exec(db, "COMMIT", err);
}

void dk_db_rollback(struct dk_db *db)
{
	if (db->h && !sqlite3_get_autocommit(db->h))
		sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
}

void dk_db_close(struct dk_db *db)
{
	if (db->h)
		sqlite3_close(db->h);
	free(db->path);
	db->h = NULL;
	db->path = NULL;
}

static int mkdir_p(const char *dir, struct dk_err *err)
{
	size_t n = strlen(dir);
	char *p = malloc(n + 1);

	if (!p)
		return dk_err_set(err, DK_ENOMEM, "out of memory");
	memcpy(p, dir, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		p[i] = '\0';
		if (mkdir(p, 0777) != 0 && errno != EEXIST) {
			int r = dk_err_errno(err, "%s: cannot create directory", p);

			free(p);
			return r;
		}
		if (i < n)
			p[i] = '/';
	}
	free(p);
	return 0;
}

int dk_db_open(struct dk_db *db, const char *root, unsigned flags, struct dk_err *err)
{
	struct stat st;
	int oflags, r, layout = 0;
	sqlite3_stmt *stmt = NULL;
	size_t n = strlen(root) + sizeof("/debkeep.db");

	db->h = NULL;
	db->path = malloc(n);
	if (!db->path)
		return dk_err_set(err, DK_ENOMEM, "out of memory");
	snprintf(db->path, n, "%s/debkeep.db", root);
	if (stat(db->path, &st) != 0) {
		if (errno != ENOENT || !(flags & DK_DB_CREATE)) {
			r = errno == ENOENT ? dk_err_set(err, DK_NOTFOUND, "%s: no database here", db->path)
					    : dk_err_errno(err, "%s", db->path);
			dk_db_close(db);
			return r;
		}
		if ((r = mkdir_p(root, err)) < 0) {
			dk_db_close(db);
			return r;
		}
	}
	oflags = (flags & DK_DB_READONLY) ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	if (sqlite3_open_v2(db->path, &db->h, oflags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		r = dk_db_error(db, err, "cannot open");
		dk_db_close(db);
		return r;
	}
	sqlite3_busy_timeout(db->h, 10000);
	/* NORMAL is durable enough in WAL mode: a crash may lose the last commit, never corrupt the file. */
	if (!(flags & DK_DB_READONLY) &&
	    ((r = dk_db_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", err)) < 0 ||
	     (r = dk_db_exec(db, db_layout_sql, err)) < 0)) {
		dk_db_close(db);
		return r;
	}
	/* Reads through a mapping: look-ups then copy nothing out of the page cache. */
	dk_db_exec(db, "PRAGMA foreign_keys=ON; PRAGMA mmap_size=268435456;", NULL);
	if (sqlite3_prepare_v2(db->h, "PRAGMA user_version", -1, &stmt, NULL) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW)
		layout = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	if (layout > DB_LAYOUT_VERSION) {
		r = dk_err_set(err, DK_EINPUT, "%s: layout version %d is newer than this program knows (%d)", db->path,
			       layout, DB_LAYOUT_VERSION);
		dk_db_close(db);
		return r;
	}
	if (layout < DB_LAYOUT_VERSION && !(flags & DK_DB_READONLY) &&
	    (r = dk_db_exec(db, "PRAGMA user_version=1", err)) < 0) {
		dk_db_close(db);
		return r;
	}
	return 0;
}

int dk_db_schema_version(struct dk_db *db, const char *area, int *version, struct dk_err *err)
{
	sqlite3_stmt *stmt = NULL;
	int rc;

	*version = 0;
	if (sqlite3_prepare_v2(db->h, "SELECT coalesce(max(version), 0) FROM migrations WHERE area = ?1", -1, &stmt,
			       NULL) != SQLITE_OK)
		return dk_db_error(db, err, "reading the schema version");
	sqlite3_bind_text(stmt, 1, area, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*version = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW)
		return dk_db_error(db, err, "reading the schema version");
	return 0;
}

static int record_step(struct dk_db *db, const char *area, const struct dk_db_migration *m, struct dk_err *err)
{
	sqlite3_stmt *stmt = NULL;
	char now[32];
	time_t t = time(NULL);
	struct tm tm;
	int rc;

	gmtime_r(&t, &tm);
	strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (sqlite3_prepare_v2(db->h,
			       "INSERT INTO migrations (area, version, name, applied_at) VALUES (?1, ?2, ?3, ?4)", -1,
			       &stmt, NULL) != SQLITE_OK)
		return dk_db_error(db, err, "recording a migration");
	sqlite3_bind_text(stmt, 1, area, -1, SQLITE_STATIC);
	sqlite3_bind_int(stmt, 2, m->version);
	sqlite3_bind_text(stmt, 3, m->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 4, now, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return dk_db_error(db, err, "recording a migration");
	return 0;
}

int dk_db_migrate(struct dk_db *db, const char *area, const struct dk_db_migration *steps, size_t n, struct dk_err *err)
{
	int have, r;

	if ((r = dk_db_schema_version(db, area, &have, err)) < 0)
		return r;
	if (n && have > steps[n - 1].version)
		return dk_err_set(err, DK_EINPUT, "%s: %s schema version %d is newer than this program knows (%d)",
				  db->path, area, have, steps[n - 1].version);
	for (size_t i = 0; i < n; i++) {
		if (steps[i].version <= have)
			continue;
		if ((r = dk_db_begin(db, err)) < 0)
			return r;
		if ((r = dk_db_exec(db, steps[i].sql, err)) < 0 || (r = record_step(db, area, &steps[i], err)) < 0 ||
		    (r = dk_db_commit(db, err)) < 0) {
			dk_db_rollback(db);
			return dk_err_prefix(err, "%s migration %d (%s)", area, steps[i].version, steps[i].name);
		}
	}
	return 0;
}
