/* index.h - binary package indices (Packages files) loaded for one architecture */
#ifndef DEBKEEP_INDEX_H
#define DEBKEEP_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "input.h"
#include "err.h"
#include "pkglist.h"
#include "relation.h"
#include "strpool.h"
#include "version.h"

enum dk_multiarch {
	DK_MA_NO = 0,
	DK_MA_SAME,
	DK_MA_FOREIGN,
	DK_MA_ALLOWED,
};

/*
 * One stanza of a Packages index. Every slice points into the index file's
 * bytes, which the index keeps; nothing is copied. The relation fields are
 * kept raw and parsed only when the resolver reaches the package; fields
 * only a few packages are asked for (Conflicts, Filename...) are found in
 * the stanza on demand (dk_pkg_field). The table holds 60,000 of these, and
 * on first touch every page of it costs: keep it small.
 */
struct dk_pkg {
	dk_id name;
	dk_id arch;   /* as written: the index's architecture or "all" */
	dk_id source; /* the Source field's name, else the package's own name */
	struct dk_slice version; /* checked with dpkg's rules when loaded */
	struct dk_slice source_version; /* "Source: x (v)" gives v; else version */
	struct dk_slice depends;
	struct dk_slice pre_depends;
	struct dk_slice provides;
	struct dk_slice stanza; /* the whole stanza */
	uint32_t file;          /* which loaded file: index into dk_index.files */
	uint32_t line;          /* first line of the stanza in that file */
	uint32_t next_same_name; /* next version of the same name, +1; 0 ends the chain */
	uint8_t priority;       /* enum dk_priority */
	uint8_t multiarch;      /* enum dk_multiarch */
	bool essential;
	bool important;         /* "Important: yes" (apt prefers it among providers) */
};

/* A Provides entry: provider package and the provided version (n == 0 when unversioned). */
struct dk_provide {
	uint32_t pkg;
	struct dk_slice version;
};

struct dk_index_file {
	char *path;
	struct dk_input in;
};

struct dk_index {
	dk_id native_arch;
	dk_id all_arch;
	struct dk_strpool names; /* package names, architectures and sources */
	struct dk_arena arena;
	struct dk_pkg *pkgs;   /* an anonymous mapping of pkgs_alloc entries (huge pages where the kernel has them) */
	uint32_t npkgs;
	uint32_t pkgs_alloc;
	struct dk_index_file *files;
	uint32_t nfiles;
	/* Built by dk_index_finish(), indexed by name id (sized dk_strpool_count()): */
	uint32_t *first_by_name;  /* first pkg of that name, +1; 0: none */
	uint32_t *candidate;      /* highest version of that name, +1; 0: none */
	uint32_t *provides_start; /* providers of name id are provides[start[id] .. start[id + 1]) */
	struct dk_provide *provides;
	uint32_t nnames;          /* names covered by the tables above */
	bool finished;
};

/* native_arch: the architecture to load ("amd64"); stanzas of other architectures are skipped. */
int dk_index_init(struct dk_index *idx, const char *native_arch, struct dk_err *err);
/* Load one Packages file (any compression); can be called for several files before finish. */
int dk_index_load(struct dk_index *idx, const char *path, struct dk_err *err);
/* Same for bytes in memory; the index takes a copy. name is used in messages. */
int dk_index_load_mem(struct dk_index *idx, const char *data, size_t len, const char *name, struct dk_err *err);
/* Same for an input already open (dk_input_open): the index takes it over and in is left empty. */
int dk_index_adopt(struct dk_index *idx, struct dk_input *in, const char *name, struct dk_err *err);
/*
 * Pick each name's candidate (the highest version across all loaded files,
 * as apt does without pinning; on equal versions the first loaded wins) and
 * collect the Provides of the candidates. Errors name the file and line of a
 * malformed Provides field.
 */
int dk_index_finish(struct dk_index *idx, struct dk_err *err);
void dk_index_release(struct dk_index *idx);

/*
 * Any other field of a package's stanza (ASCII case-insensitive name), as a
 * slice into the index: DK_NOTFOUND when the stanza has none.
 */
int dk_pkg_field(const struct dk_pkg *pkg, const char *name, struct dk_slice *out);

/* The candidate of name, or NULL. */
const struct dk_pkg *dk_index_candidate(const struct dk_index *idx, const char *name, size_t len);
/* Its id-based form: cheaper in loops. */
static inline const struct dk_pkg *dk_index_candidate_id(const struct dk_index *idx, dk_id name)
{
	if (name == 0 || name >= idx->nnames || idx->candidate[name] == 0)
		return NULL;
	return &idx->pkgs[idx->candidate[name] - 1];
}

static inline const char *dk_index_str(const struct dk_index *idx, dk_id id)
{
	return dk_strpool_str(&idx->names, id);
}

/* "FILE:LINE" of a package, for messages. */
const char *dk_index_where(const struct dk_index *idx, const struct dk_pkg *pkg, char *buf, size_t n);

/*
 * The architecture an index file is for: the first Architecture other than
 * "all" (a Packages file holds one architecture and "all"). Returns
 * DK_NOTFOUND when the file has only "all" packages (such a file serves every
 * architecture). A line scan, not a parse: it runs before the real load.
 */
int dk_index_detect_arch(const char *data, size_t len, struct dk_buf *arch);

#endif
