/* diff.h - debkeep diff: walk two inputs, match their members by path, explain and classify every difference */
#ifndef DEBKEEP_DIFF_H
#define DEBKEEP_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "buf.h"
#include "err.h"

/*
 * What differs about one member. A difference carries a set of these (a
 * bit mask); the rule table (data/diff-rules, docs/diff.md) turns the set
 * and the path into one cause. The content-* aspects replace "content"
 * when looking at both contents showed what kind of change it is.
 */
enum dk_diff_aspect {
	DK_DA_ADDED,   /* only in B */
	DK_DA_REMOVED, /* only in A */
	DK_DA_TYPE,    /* file type (regular, directory, symlink...) */
	DK_DA_CONTENT, /* bytes differ, nothing more known */
	DK_DA_MODE,    /* permission bits */
	DK_DA_OWNER,   /* uid, gid, user or group name */
	DK_DA_MTIME,
	DK_DA_TARGET,	    /* symlink target */
	DK_DA_HARDLINK,	    /* hard link target */
	DK_DA_DEVICE,	    /* device numbers */
	DK_DA_XATTR,	    /* extended attributes */
	DK_DA_ORDER,	    /* a container's member order */
	DK_DA_GZIP_HEADER,  /* a gzip stream's header mtime or name */
	DK_DA_TAR_HEADER,   /* tar header format fields */
	DK_DA_FS_UUID,	    /* a file system's UUID (and what derives from it) */
	DK_DA_FS_HASH_SEED, /* ext4 directory hash seed */
	DK_DA_FS_TIMES,	    /* a file system's own times */
	DK_DA_FS_OTHER,	    /* other superblock fields */
	DK_DA_ENCODING,	    /* a container's bytes differ though everything inside is the same */
	DK_DA_BUILD_ID,	    /* ELF files that differ only in the build id note */
	DK_DA_DATE,	    /* text whose differing lines differ only in dates or times */
	DK_DA_BUILD_PATH,   /* text whose differing lines differ only in a build directory */
	DK_DA_SHADOW,	    /* shadow(5) lines that differ only in salt and last-change day */
	DK_DA_COUNT,
};

#define DK_DA_BIT(a) (1u << (a))

const char *dk_diff_aspect_name(enum dk_diff_aspect a);
/* The aspect called name (as dk_diff_aspect_name gives), or -1. */
int dk_diff_aspect_from_name(const char *name, size_t len);

enum dk_diff_type {
	DK_DT_REG = 'f',
	DK_DT_DIR = 'd',
	DK_DT_SYMLINK = 'l',
	DK_DT_HARDLINK = 'h',
	DK_DT_CHR = 'c',
	DK_DT_BLK = 'b',
	DK_DT_FIFO = 'p',
	DK_DT_SOCK = 's',
	DK_DT_META = 'm', /* a file system's or partition table's own metadata, not a file */
};

/*
 * One member on one side. path names it from the input's top: members of
 * nested containers are "outer!/inner", e.g. "pool/a.deb!/data.tar.xz!/usr/bin/ls";
 * the input itself is "". kind is set for a container that was read into
 * ("tar", "ar", "cpio", "gzip", "ext4", "gpt"...). props holds a container's
 * own metadata as sorted "key=value\n" lines ("gzip.mtime=...", "ext4.uuid=...").
 */
struct dk_diff_member {
	const char *path;
	const char *parent; /* the path of the container this member was read from */
	const char *kind;
	const char *props;
	const char *target;   /* symlink target */
	const char *hardlink; /* the path this is a hard link to */
	const char *uname, *gname;
	const char *xattrs; /* sorted "name sha256-prefix\n" lines, or NULL */
	uint64_t seq;	    /* position in its container, for member order */
	uint64_t size;
	uint64_t rdev;
	int64_t uid, gid;
	int64_t mtime;
	long mtime_ns;
	uint32_t mode; /* permission bits only */
	char type;     /* enum dk_diff_type */
	bool ordered;  /* a container whose member order means something (archives, not trees) */
	bool hashed;
	unsigned char sha256[32];
};

struct dk_diff_item {
	const char *path;
	const struct dk_diff_member *a, *b; /* NULL on the side where it is absent */
	uint32_t aspects;		    /* DK_DA_BIT() set */
	const char *cause;		    /* the rule's id */
	const char *package;		    /* the package owning the path in the image, or NULL */
	const char *script;		    /* the maintainer script that made it ("postinst"), or NULL */
	const char *expected;		    /* the reason from the policy file, or NULL */
	char *detail;			    /* lines, each ending in "\n", or NULL */
	size_t detail_lines;
	size_t detail_omitted; /* lines dropped by the per-member cap */
};

/* A package whose version differs (from .deb control files or the image's dpkg status). */
struct dk_diff_package {
	const char *name;
	const char *a, *b; /* NULL when absent on that side */
};

struct dk_diff_rule {
	const char *id;
	const char *title;
	const char **paths; /* fnmatch patterns; NULL-terminated; NULL: any path */
	uint32_t allow;	    /* the aspects a difference may have */
	uint32_t require;   /* at least one of these must be present (0: no such condition) */
	const char *doc;
};

struct dk_diff_rules {
	struct dk_arena arena;
	struct dk_diff_rule *v;
	size_t n;
};

#define DK_DIFF_RULES_INIT             \
	{                              \
		DK_ARENA_INIT, NULL, 0 \
	}

/* The rule table shipped with debkeep (data/diff-rules, built in). */
extern const char dk_diff_default_rules[];

/* Parse a rule table (deb822 stanzas: Cause, Title, Path, Aspects, Requires, Doc); name is for messages. */
int dk_diff_rules_parse(struct dk_diff_rules *r, const char *text, size_t len, const char *name,
			struct dk_err *err);
void dk_diff_rules_release(struct dk_diff_rules *r);
/* The first rule that explains (path, aspects), or NULL. */
const struct dk_diff_rule *dk_diff_rules_match(const struct dk_diff_rules *r, const char *path,
					       uint32_t aspects);
const struct dk_diff_rule *dk_diff_rules_find(const struct dk_diff_rules *r, const char *id);

/* True when pattern matches path, or the part of path after any '/' or "!/" (patterns need no leading dirs). */
bool dk_diff_path_match(const char *pattern, const char *path);

/* Expected differences (--expect): lines "cause ID REASON" or "path PATTERN REASON", '#' comments. */
struct dk_diff_expect_entry {
	bool is_path;
	const char *what;
	const char *reason;
};

struct dk_diff_expect {
	struct dk_arena arena;
	struct dk_diff_expect_entry *v;
	size_t n;
};

#define DK_DIFF_EXPECT_INIT            \
	{                              \
		DK_ARENA_INIT, NULL, 0 \
	}

int dk_diff_expect_parse(struct dk_diff_expect *e, const char *text, size_t len, const char *name,
			 struct dk_err *err);
void dk_diff_expect_release(struct dk_diff_expect *e);

struct dk_diff_opts {
	const struct dk_diff_rules *rules;   /* NULL: the built-in table */
	const struct dk_diff_expect *expect; /* NULL: nothing is expected */
	const char *const *exclude;	     /* fnmatch patterns (as dk_diff_path_match), NULL-terminated */
	size_t max_detail_lines;	     /* per member; 0: 40 */
	size_t max_member_bytes;	     /* largest content looked into for details; 0: 16 MiB */
	size_t max_capture_bytes;	     /* content held for details per side; 0: 48 MiB */
	unsigned timeout;		     /* seconds; 0: none */
	int jobs;			     /* 1: one thread; otherwise both sides at once */
};

struct dk_diff_report {
	struct dk_arena arena;
	const char *a_name, *b_name;
	const char *a_kind, *b_kind;
	struct dk_diff_item *items; /* sorted by path */
	size_t nitems;
	struct dk_diff_package *packages;
	size_t npackages;
	uint64_t a_members, b_members;
	uint64_t a_bytes, b_bytes; /* content bytes hashed */
	size_t unexpected;	   /* items with no policy entry */
	size_t details_skipped;	   /* content differences left without details (size or memory caps) */
	void *priv;		   /* what the members' strings live in */
};

#define DK_DIFF_REPORT_INIT                                                                     \
	{                                                                                       \
		DK_ARENA_INIT, NULL, NULL, NULL, NULL, NULL, 0, NULL, 0, 0, 0, 0, 0, 0, 0, NULL \
	}

/*
 * Compare inputs a and b (files or directories of the same kind). Returns 0
 * with the report filled (nitems 0: identical) or a negative code: an
 * unreadable or corrupt input (the message names the member), inputs of
 * different kinds, or the time limit.
 */
int dk_diff_run(const char *a, const char *b, const struct dk_diff_opts *o, struct dk_diff_report *rep,
		struct dk_err *err);
void dk_diff_report_release(struct dk_diff_report *rep);

/* Details of two contents, as dk_diff_run makes them: appended to out, at most max_lines lines. */
struct dk_diff_detail {
	struct dk_buf text;
	size_t lines;
	size_t omitted;
	uint32_t refine; /* DK_DA_BIT of a content-* aspect when the change is of that kind, else 0 */
};

void dk_diff_detail_init(struct dk_diff_detail *d);
void dk_diff_detail_release(struct dk_diff_detail *d);
/* Unified diff of two texts (Myers), 3 lines of context, long lines cut. */
int dk_diff_text(struct dk_diff_detail *d, const char *a, size_t alen, const char *b, size_t blen,
		 const char *path, size_t max_lines);
/* Which ELF sections differ; returns DK_NOTFOUND when either side is not a readable ELF file. */
int dk_diff_elf(struct dk_diff_detail *d, const unsigned char *a, size_t alen, const unsigned char *b,
		size_t blen, size_t max_lines);
/* A compact hex view of the first differing regions. */
int dk_diff_hex(struct dk_diff_detail *d, const unsigned char *a, size_t alen, const unsigned char *b,
		size_t blen, size_t max_lines);
/* Chooses one of the three above, and refines shadow(5) files. */
int dk_diff_content(struct dk_diff_detail *d, const char *path, const unsigned char *a, size_t alen,
		    const unsigned char *b, size_t blen, size_t max_lines);

#endif
