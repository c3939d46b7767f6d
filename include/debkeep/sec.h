/* sec.h - security findings: tracker data in the data root, targets (status, manifest, image, snapshot), scans */
#ifndef DEBKEEP_SEC_H
#define DEBKEEP_SEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "buf.h"
#include "db.h"
#include "err.h"
#include "strpool.h"
#include "tracker.h"

/* --- the tracker's data in the data root --- */

/* What the last update recorded. Strings are malloc'd; release with dk_sec_meta_release(). */
struct dk_sec_meta {
	char *source;    /* what was loaded: paths, as given */
	char *data_date; /* the data's own date: --date, else the newest advisory, else the files' mtime */
	char *loaded_at;
	long entries, fixes, advisories;
};

#define DK_SEC_META_INIT                                                                                               \
	{                                                                                                              \
		NULL, NULL, NULL, 0, 0, 0                                                                              \
	}

/*
 * The tracker's data lives beside the data root's database db, in
 * ROOT/tracker.db (docs/security.md), replaced whole by each update. The
 * sec area of db keeps only its schema history: data loaded before that
 * file existed is still read from db's own tables until the next update.
 */
#define DK_SEC_DATA_FILE "tracker.db"

/* Bring the sec area of db up to date (an update does; after it, db holds no tracker rows). */
int dk_sec_db_prepare(struct dk_db *db, struct dk_err *err);

/*
 * Replace the tracker data with t: built aside in ROOT/tmp and renamed into
 * place, so on any failure the previous data stays, and a reader sees the
 * old data or the new, whole.
 */
int dk_sec_store(struct dk_db *db, const struct dk_tracker *t, const char *source, const char *data_date,
		 struct dk_err *err);

/*
 * Where the loaded data is read from: ROOT/tracker.db opened read-only, else
 * db (data of an older update). A command that reads the update's record and
 * scans opens it once: an update renaming a new file in between cannot pair
 * one update's record with another's rows.
 */
struct dk_sec_data {
	struct dk_db own;
	struct dk_db *db;   /* &own, or the main database */
	struct dk_db *main; /* the main database, as given to dk_sec_data_open(); NULL from a root with tracker.db */
	struct dk_db legacy; /* dk_sec_data_open_root() of a root whose data is still in the main database */
	int version;        /* of the tables db holds: reserved notes from 2 */
};

#define DK_SEC_DATA_INIT { DK_DB_INIT, NULL, NULL, DK_DB_INIT, 0 }

/* DK_NOTFOUND (message filled) when no update has been loaded yet. */
int dk_sec_data_open(struct dk_db *db, struct dk_sec_data *d, struct dk_err *err);
/*
 * The same from the data root, for what reads only the tracker data (cve
 * scan, diff, info, gate): the main database is not opened unless the data
 * is still in it (a root last updated before tracker.db). Opening it costs
 * a read-only reader the WAL index's recovery: a tenth of a scan.
 */
int dk_sec_data_open_root(const char *root, struct dk_sec_data *d, struct dk_err *err);
void dk_sec_data_close(struct dk_sec_data *d);

/* DK_NOTFOUND (message filled) when no update has been loaded yet. */
int dk_sec_data_meta(struct dk_sec_data *d, struct dk_sec_meta *m, struct dk_err *err);
/* The same through a handle of its own. */
int dk_sec_meta_get(struct dk_db *db, struct dk_sec_meta *m, struct dk_err *err);
void dk_sec_meta_release(struct dk_sec_meta *m);

/* --- targets --- */

enum dk_sec_target_kind { DK_TARGET_STATUS, DK_TARGET_MANIFEST, DK_TARGET_IMAGE, DK_TARGET_SNAPSHOT };

struct dk_sec_pkg {
	const char *name;
	const char *version;
	const char *arch;
	const char *source;
	const char *source_version; /* binNMUs: the source's version, not the binary's */
};

struct dk_sec_target {
	struct dk_arena arena;
	enum dk_sec_target_kind kind;
	struct dk_sec_pkg *pkgs;
	size_t npkgs;
	/* Of the file as given, "" until dk_sec_target_digest(); of a snapshot, its member list (docs/security.md). */
	char sha256[65];
	const char *path; /* the file loaded, NULL for a snapshot */
};

#define DK_SEC_TARGET_INIT { DK_ARENA_INIT, DK_TARGET_STATUS, NULL, 0, { 0 }, NULL }

const char *dk_sec_target_kind_name(enum dk_sec_target_kind k);

/*
 * Read installed packages from a dpkg status file, a manifest (one line per
 * package: name version arch source source-version; docs/security.md) or an
 * image tar (its var/lib/dpkg/status). Packages sorted by source, version, name.
 */
int dk_sec_target_load(struct dk_sec_target *tg, const char *path, struct dk_err *err);
/*
 * Fill tg->sha256 if it is still empty. Loading a file does not hash it:
 * hashing loads OpenSSL, a tenth of a scan that prints a table. What shows
 * or keeps the digest (JSON, OpenVEX, the gate's evidence) asks for it.
 */
int dk_sec_target_digest(struct dk_sec_target *tg, struct dk_err *err);
int dk_sec_target_parse_status(struct dk_sec_target *tg, const char *data, size_t len, const char *name,
			       struct dk_err *err);
int dk_sec_target_parse_manifest(struct dk_sec_target *tg, const char *data, size_t len, const char *name,
				 struct dk_err *err);
void dk_sec_target_release(struct dk_sec_target *tg);

/* A target argument naming a snapshot of the data root: "snapshot:NAME". */
#define DK_SEC_SNAPSHOT_PREFIX "snapshot:"

/*
 * The members of snapshot name in the data root at root, opened read-only
 * without the writers' lock; DK_EINPUT for an unknown snapshot or root.
 */
int dk_sec_target_load_snapshot(struct dk_sec_target *tg, const char *root, const char *name, struct dk_err *err);

/* A target as commands name it: "snapshot:NAME" (a snapshot of the data root at root), else a file. */
int dk_sec_target_open(struct dk_sec_target *tg, const char *spec, const char *root, struct dk_err *err);

/* The target's source names, interned into pool: the filter for a tracker loaded only for this target. */
int dk_sec_target_sources(const struct dk_sec_target *tg, struct dk_strpool *pool, struct dk_err *err);

/* --- matching --- */

/* One stored line of the tracker for a source, as a scan reads it back. */
struct dk_sec_row {
	const char *cve;
	enum dk_cve_kind cve_kind;
	const char *description;
	const char *refs;
	const char *release; /* "" for unstable */
	enum dk_fix_kind kind;
	const char *version;
	const char *urgency;
	const char *note;
	const char *advisory;
	uint32_t bug;
};

enum dk_sec_status {
	DK_SEC_VULNERABLE = 0,
	DK_SEC_NO_DSA,
	DK_SEC_POSTPONED,
	DK_SEC_IGNORED,
	DK_SEC_EOL,
	DK_SEC_UNDETERMINED,
	DK_SEC_FIXED,
	DK_SEC_NOT_AFFECTED,
	DK_SEC_STATUS_COUNT,
};

/* "vulnerable", "no-dsa", ..., "fixed", "not-affected". */
const char *dk_sec_status_name(enum dk_sec_status s);
int dk_sec_status_parse(const char *s, size_t n, enum dk_sec_status *st);

/* Open: the installed version is affected, whatever the tracker decided to do about it. */
static inline bool dk_sec_status_open(enum dk_sec_status s)
{
	return s < DK_SEC_FIXED;
}

struct dk_sec_finding {
	const char *cve;
	const char *description;
	const char *source;
	const char *installed;  /* the source version in the target */
	const char *binaries;   /* the target's binaries of that source, space-separated */
	const char *fixed;      /* the release's fixed version; for a fix only in unstable, that version */
	const char *urgency;    /* never NULL: "not yet assigned" when the tracker has none */
	const char *advisories; /* the advisories that fixed it in the release: space-separated, "" if none */
	const char *references; /* the CVE list's own "{DSA-... DLA-...}", any release */
	const char *note;
	enum dk_sec_status status;
	bool fix_in_archive;   /* the release has a fixed version: an upgrade from its archive fixes it */
	const char *available; /* with dk_sec_report_mark_available(): the fixing version that index has */
	uint32_t bug;
	bool named_in_note; /* RESERVED, without package lines: a NOTE (the note) names the source */
};

struct dk_sec_report {
	struct dk_arena arena;
	const char *release;
	struct dk_sec_finding *findings; /* sorted by CVE, then source */
	size_t nfindings, alloc;
	/*
	 * RESERVED entries naming a source of the target: in package lines
	 * (matched as findings are, "undetermined" when the lines say nothing
	 * of the release) or, without package lines, in a NOTE.
	 */
	struct dk_sec_finding *reserved;
	size_t nreserved, reserved_alloc;
	size_t sources; /* distinct (source, version) pairs scanned */
};

#define DK_SEC_REPORT_INIT                                                                                             \
	{                                                                                                              \
		DK_ARENA_INIT, NULL, NULL, 0, 0, NULL, 0, 0, 0                                                         \
	}

/*
 * Decide, for one CVE of one source, the status for release of the installed
 * source version from the CVE's rows (all for this CVE and source). Rules
 * (docs/security.md): the release's own line wins, then the release's
 * advisories, then the unstable line; a version is fixed when it is not
 * lower than the fixed version. Returns false when the rows say nothing
 * about this release.
 */
bool dk_sec_match(const struct dk_sec_row *rows, size_t n, const char *release, const char *installed,
		  struct dk_sec_finding *out);

/* Scan every (source, version) of the target against the stored data. */
int dk_sec_scan_data(struct dk_sec_data *d, const struct dk_sec_target *tg, const char *release,
		     struct dk_sec_report *rep, struct dk_err *err);
/* The same through a handle of its own. */
int dk_sec_scan(struct dk_db *db, const struct dk_sec_target *tg, const char *release, struct dk_sec_report *rep,
		struct dk_err *err);

/* A parsed tracker's package lines grouped by source: fixes order[start[s]..start[s+1]) belong to source id s. */
struct dk_sec_index {
	uint32_t *start; /* [dk_strpool_count(&t->sources) + 1] */
	uint32_t *order;
};

#define DK_SEC_INDEX_INIT                                                                                              \
	{                                                                                                              \
		NULL, NULL                                                                                             \
	}

int dk_sec_index_build(const struct dk_tracker *t, struct dk_sec_index *ix, struct dk_err *err);
void dk_sec_index_release(struct dk_sec_index *ix);

/* The rows of one source id, in CVE order, as the database would give them back; *rows is realloc'd. */
int dk_sec_index_rows(const struct dk_tracker *t, const struct dk_sec_index *ix, dk_id source, struct dk_sec_row **rows,
		      size_t *n, size_t *alloc, struct dk_err *err);

/* Scan against a parsed tracker, without a database (`cve scan --tracker`). */
int dk_sec_scan_tracker(const struct dk_tracker *t, const struct dk_sec_index *ix, const struct dk_sec_target *tg,
			const char *release, struct dk_sec_report *rep, struct dk_err *err);

/*
 * Load the tracker's files at path (dk_tracker_load) keeping only the
 * target's sources, and scan the target against them. t must be fresh; it
 * holds the strings the report points to, so it outlives the report.
 */
int dk_sec_scan_files(const char *path, const struct dk_sec_target *tg, const char *release, struct dk_tracker *t,
		      struct dk_sec_report *rep, struct dk_err *err);

/*
 * The stored form of one source's rows: a line per row, fields separated by
 * tabs (docs/security.md). decode works in place: the rows point into data.
 */
int dk_sec_rows_encode(const struct dk_sec_row *rows, size_t n, struct dk_buf *out);
int dk_sec_rows_decode(char *data, size_t len, struct dk_sec_row **rows, size_t *n, size_t *alloc, struct dk_err *err);

/* Scan against rows given in memory (tests, and `cve diff` of two targets shares it). */
int dk_sec_report_add(struct dk_sec_report *rep, const struct dk_sec_row *rows, size_t n, const char *source,
		      const char *installed, const char *binaries, struct dk_err *err);
void dk_sec_report_sort(struct dk_sec_report *rep);

/*
 * Mark the open findings whose fix the given package set has (a Packages or
 * Sources index, a snapshot's, loaded with dk_sec_target_load): the highest
 * version of the source there, when it is not lower than the fixed version.
 * Returns how many were marked.
 */
size_t dk_sec_report_mark_available(struct dk_sec_report *rep, const struct dk_sec_target *avail);
void dk_sec_report_release(struct dk_sec_report *rep);

#endif
