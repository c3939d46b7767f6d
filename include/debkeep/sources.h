/* sources.h - source packages: Sources indices, their files as objects, mirrors, snapshots, publishing */
#ifndef DEBKEEP_SOURCES_H
#define DEBKEEP_SOURCES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "buf.h"
#include "err.h"
#include "fetch.h"
#include "mirror.h"
#include "publish.h"
#include "repo.h"

/* The sources area's schema version (dk_db_migrate area "sources"). */
#define DK_SOURCES_SCHEMA_VERSION 1

/* A decompressed Sources index bigger than this is not one (bookworm main: about 45 MB). */
#define DK_SOURCES_INDEX_MAX ((size_t)1 << 30)

/* One line of a stanza's Checksums-Sha256: "SHA256 SIZE NAME", NAME a plain file name. */
struct dk_source_file {
	char *name;
	uint64_t size;
	char sha256[65];
};

/* One stanza of a Sources index, checked: safe names, a .dsc among its files. */
struct dk_source {
	char *name, *version, *directory;
	char *stanza; /* the stanza as the index has it, no trailing newline */
	struct dk_source_file *files;
	size_t nfiles;
	bool selected;
};

/*
 * Parse a Checksums-Sha256 value (the raw field value, continuation lines
 * with their leading blank) into *files (malloc'd, *n entries; release with
 * dk_source_files_release). where prefixes messages ("Sources:12: hello").
 * A line that is not "HASH SIZE NAME", a name with '/' or not a plain file
 * name, or the same name twice is DK_EINPUT.
 */
int dk_source_checksums_parse(const char *value, size_t len, const char *where, struct dk_source_file **files,
			      size_t *n, struct dk_err *err);
void dk_source_files_release(struct dk_source_file *files, size_t n);

/* The stanzas of Sources indices, by source name and version. */
struct dk_sources_index {
	struct dk_source *v;
	size_t n, cap;
	struct dk_source **order; /* v by name, version, then place */
};

#define DK_SOURCES_INDEX_INIT                                                                                          \
	{                                                                                                              \
		NULL, 0, 0, NULL                                                                                       \
	}

/*
 * Add every stanza of a Sources text (name: for messages). A stanza without
 * Package, Version, Directory (under pool/) or Checksums-Sha256 naming a
 * .dsc is DK_EINPUT naming file:line. A (name, version) seen before is kept
 * as first seen, as apt takes the first.
 */
int dk_sources_index_add(struct dk_sources_index *ix, const char *text, size_t len, const char *name,
			 struct dk_err *err);
void dk_sources_index_release(struct dk_sources_index *ix);
/* The stanza for source name at version, or NULL. */
struct dk_source *dk_sources_index_find(const struct dk_sources_index *ix, const char *name, const char *version);

/* A binary's source, as its Packages stanza says it: Source: name (version), else its own name and version. */
struct dk_source_ref {
	const char *binary, *arch; /* for messages */
	const char *source, *version;
};

/*
 * Mark the stanzas to keep: with refs == NULL every one, else those the refs
 * name (a source shared by several binaries once). A ref the index lacks
 * goes to missing (may be NULL): not an error. *selected counts the kept.
 */
void dk_sources_select(struct dk_sources_index *ix, const struct dk_source_ref *refs, size_t nrefs,
		       dk_source_missing_fn missing, void *ctx, size_t *selected);


/* Everything a mirror update hands to the source side. */
struct dk_sources_fetch {
	struct dk_repo *r;
	const struct dk_relfile *rf; /* the verified Release */
	const char *base;            /* the mirror's URL without a trailing '/' */
	const char *dists;           /* "dists/SUITE" */
	char *const *components;
	size_t ncomponents;
	const char *tmpdir; /* resumable downloads: ROOT/tmp/mirror-NAME */
	const struct dk_fetch_opts *fo;
	const struct dk_source_ref *refs; /* NULL: every source of the components */
	size_t nrefs;
	dk_source_missing_fn missing;
	void *ctx;
};

/* A fetched selection, waiting to be recorded in the mirror update's transaction. */
struct dk_sources_update {
	struct dk_sources_index ix;
	char **dest; /* per distinct new object: its file in tmp/, named "...-SHA256" */
	size_t ndest;
};

/*
 * Fetch each component's Sources (.gz, else .xz, else plain; by-hash when
 * Release says so, the plain name when by-hash lacks it), verified against
 * Release; select; fetch every file of the selected stanzas the root lacks,
 * size and SHA-256 verified on the way (resumable, in parallel). A file that
 * cannot be fetched or verified is an error naming the source and the file.
 */
int dk_sources_update_fetch(struct dk_sources_update *su, const struct dk_sources_fetch *f,
			    struct dk_sources_stats *st, struct dk_err *err);

/*
 * Inside the caller's transaction: the fetched files become objects (durable
 * before the caller commits), new source rows are added, and the mirror's
 * source membership becomes the selection.
 */
int dk_sources_update_record(struct dk_sources_update *su, struct dk_repo *r, const char *mirror, const char *stamp,
			     struct dk_sources_stats *st, struct dk_err *err);
void dk_sources_update_release(struct dk_sources_update *su);

/* Apply the schema (a writer, outside a transaction). */
int dk_sources_migrate(struct dk_repo *r, struct dk_err *err);
/* Whether the tables exist: a root no source was ever mirrored into has none, and readers cannot migrate. */
bool dk_sources_present(struct dk_repo *r);

/* Source packages of a mirror (mirror != NULL) or a snapshot; 0 when the root has no source tables. */
int dk_sources_count(struct dk_repo *r, const char *mirror, const char *snapshot, long long *n, struct dk_err *err);

/* Inside the caller's transaction, for snapshot id to: the sources of mirror from_mirror, or of snapshot from. */
int dk_sources_snapshot_copy(struct dk_repo *r, long long to, const char *from_mirror, const char *from,
			     struct dk_err *err);
/* Inside the caller's transaction: the sources of snapshot from that snapshot id to's binaries were built from. */
int dk_sources_snapshot_filter(struct dk_repo *r, long long to, const char *from, struct dk_err *err);
/* Inside the caller's transaction: forget snapshot id's sources (dropping the snapshot). */
int dk_sources_snapshot_drop(struct dk_repo *r, long long id, struct dk_err *err);
/* Inside the caller's transaction: forget the mirror's source membership. */
int dk_sources_mirror_drop(struct dk_repo *r, const char *mirror, struct dk_err *err);

/*
 * Inside gc's transaction: delete source rows no mirror or snapshot refers to and none of whose files a
 * published pool links (*rows counts them). A dry run deletes them too and rolls the transaction back.
 */
int dk_sources_gc(struct dk_repo *r, size_t *rows, struct dk_err *err);

/* Every object a source file row names, one row each: "sha256, size, what" (gc and check read it). */
#define DK_SOURCES_OBJECTS_SQL                                                                                         \
	"SELECT sha256, max(size), 'source ' || min(s.name || ' ' || s.version || ' file ' || f.name)"                \
	" FROM source_files f JOIN sources s ON s.id = f.source_id GROUP BY sha256"

/* Check queries whose every row is a problem (where, what), as check.c's reference checks. */
extern const char *const dk_sources_reference_checks[];
extern const size_t dk_sources_nreference_checks;

/* A source file to publish: where its object is and where it goes. */
struct dk_publish_source_file {
	const char *name;
	const char *object_path;
	const char *pool_path; /* "pool/main/h/hello/hello_1.0-1.dsc" */
	uint64_t size;
};

/* A source package to publish; every string is borrowed for the duration of the call. */
struct dk_publish_source {
	const char *name, *version;
	const char *stanza; /* with Directory already the published one, no trailing newline */
	const char *component;
	const struct dk_publish_source_file *files;
	size_t nfiles;
};

/* A snapshot's sources as publishing wants them, for component (Directory rewritten, pool paths made). */
struct dk_publish_sources {
	struct dk_publish_source *v;
	size_t n;
	struct dk_publish_source_file *files;
	size_t nfiles;
	struct dk_arena arena; /* every string */
};

int dk_sources_for_publish(struct dk_repo *r, const char *snapshot, const char *component,
			   struct dk_publish_sources *out, struct dk_err *err);
void dk_publish_sources_release(struct dk_publish_sources *ps);

/* pool/COMPONENT/PREFIX/SOURCE, Debian's layout: PREFIX is "libh" for libhello, else "h". */
int dk_source_pool_dir(const char *component, const char *source, char *out, size_t n);

/* The Sources index of component: its stanzas sorted by name then version (dpkg order), deterministic. */
int dk_sources_index_text(const struct dk_publish_source *v, size_t n, const char *component, struct dk_buf *out,
			  struct dk_err *err);

/* Call fn with each pool path a Sources text names (Directory + each Checksums-Sha256 file), for pruning. */
int dk_sources_pool_names(const char *text, size_t len, int (*fn)(void *ctx, const char *path, size_t n), void *ctx);

#endif
