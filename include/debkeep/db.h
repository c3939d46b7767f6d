/* db.h - the data root's SQLite database: open or create ROOT/debkeep.db, schema migrations per area */
#ifndef DEBKEEP_DB_H
#define DEBKEEP_DB_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

struct sqlite3;

struct dk_db {
	struct sqlite3 *h;
	char *path;
};

#define DK_DB_INIT                                                                                                     \
	{                                                                                                              \
		NULL, NULL                                                                                             \
	}

/*
 * One step of an area's schema: applied once, in order of version, each in
 * its own transaction, and recorded in the migrations table. An area (the
 * security tracker, the repository) owns its list of steps; versions only
 * ever grow, and a step is never edited once released.
 */
struct dk_db_migration {
	int version;
	const char *name;
	const char *sql;
};

enum dk_db_flags {
	DK_DB_CREATE = 1 << 0, /* create ROOT and ROOT/debkeep.db when missing */
	DK_DB_READONLY = 1 << 1,
};

/*
 * Open ROOT/debkeep.db in WAL mode. Without DK_DB_CREATE a missing database
 * is DK_NOTFOUND (with a message naming it), so read-only commands can say
 * "run update first" instead of creating an empty root.
 */
int dk_db_open(struct dk_db *db, const char *root, unsigned flags, struct dk_err *err);
void dk_db_close(struct dk_db *db);

/* Bring area's schema up to the last of steps[0..n); a database newer than the program is an error. */
int dk_db_migrate(struct dk_db *db, const char *area, const struct dk_db_migration *steps, size_t n,
		  struct dk_err *err);

/* The highest applied version of area's schema, 0 if none. */
int dk_db_schema_version(struct dk_db *db, const char *area, int *version, struct dk_err *err);

/* Run one or more statements without results. */
int dk_db_exec(struct dk_db *db, const char *sql, struct dk_err *err);

/* IMMEDIATE transactions: a writer takes the lock up front, so it never fails half-way for a busy database. */
int dk_db_begin(struct dk_db *db, struct dk_err *err);
int dk_db_commit(struct dk_db *db, struct dk_err *err);
void dk_db_rollback(struct dk_db *db);

/* Fill err from the connection's last error: "debkeep.db: WHAT: sqlite message". */
int dk_db_error(struct dk_db *db, struct dk_err *err, const char *what);

#endif
