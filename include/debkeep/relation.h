/* relation.h - the Depends grammar: alternatives, versions, :arch, [arch], <profile> */
#ifndef DEBKEEP_RELATION_H
#define DEBKEEP_RELATION_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "err.h"

enum dk_relop {
	DK_REL_ANY = 0, /* no version constraint */
	DK_REL_LT,      /* << */
	DK_REL_LE,      /* <= and the deprecated < */
	DK_REL_EQ,      /* = */
	DK_REL_GE,      /* >= and the deprecated > */
	DK_REL_GT,      /* >> */
};

/* A string slice into the parsed text (NOT NUL-terminated). */
struct dk_slice {
	const char *p;
	size_t n;
};

/* One [arch !arch] list: all negated or none (a mix is an error, as in dpkg). */
struct dk_archlist {
	struct dk_slice *archs;
	size_t count;
	bool negated;
};

/* One <profile !profile> list: a conjunction of terms. */
struct dk_profile_term {
	struct dk_slice name;
	bool negated;
};

struct dk_profile_list {
	struct dk_profile_term *terms;
	size_t count;
};

struct dk_dep_atom {
	struct dk_slice name;
	struct dk_slice archqual; /* after ':' ("any", "native", "amd64"); n == 0 when absent */
	enum dk_relop op;
	bool deprecated_op;       /* written as '<' or '>', or with no operator, as in (1.0) */
	struct dk_slice version;  /* n == 0 when op == DK_REL_ANY */
	struct dk_archlist arches; /* count == 0 when absent */
	struct dk_profile_list *profiles; /* disjunction of lists */
	size_t nprofiles;
};

/* A group of alternatives: a | b | c. */
struct dk_dep_group {
	struct dk_dep_atom *alts;
	size_t count;
};

/* A whole field: groups separated by ','. */
struct dk_relation {
	struct dk_dep_group *groups;
	size_t count;
};

enum dk_relation_flags {
	DK_REL_ALLOW_ALTERNATIVES = 1 << 0, /* '|' (not allowed in Provides, Conflicts...) */
	DK_REL_ALLOW_ARCHLIST = 1 << 1,     /* [arch] (source package fields) */
	DK_REL_ALLOW_PROFILES = 1 << 2,     /* <profile> (source package fields) */
	DK_REL_ALLOW_ARCHQUAL = 1 << 3,     /* pkg:arch */
	DK_REL_BINARY = DK_REL_ALLOW_ALTERNATIVES | DK_REL_ALLOW_ARCHQUAL,
	DK_REL_SOURCE = DK_REL_ALLOW_ALTERNATIVES | DK_REL_ALLOW_ARCHLIST | DK_REL_ALLOW_PROFILES |
			DK_REL_ALLOW_ARCHQUAL,
	DK_REL_PROVIDES = DK_REL_ALLOW_ARCHQUAL, /* only '=' versions are meaningful */
};

/*
 * Parse s[0..len) (newlines of folded fields are blanks) into rel, allocating
 * from arena; slices point into s. Versions are checked with dpkg's rules.
 * Errors (DK_EINPUT) say what is wrong, e.g. "unbalanced '(' at column 14".
 */
int dk_relation_parse(const char *s, size_t len, unsigned flags, struct dk_arena *arena,
		      struct dk_relation *rel, struct dk_err *err);

/*
 * Check s[0..len) as dk_relation_parse() does, without building anything:
 * each is called for every atom in order, with the index of its group, and a
 * non-zero return stops the scan with that code. The atom's arches and
 * profiles are not filled in. For walking a big field once (every Provides
 * of an index) without an arena.
 */
typedef int dk_relation_atom_fn(void *ctx, const struct dk_dep_atom *atom, size_t group, struct dk_err *err);
int dk_relation_scan(const char *s, size_t len, unsigned flags, dk_relation_atom_fn *each, void *ctx,
		     struct dk_err *err);

/* True when a version ver satisfies "op refver" under dpkg ordering. */
bool dk_relop_satisfied(enum dk_relop op, int cmp_ver_vs_ref);

const char *dk_relop_str(enum dk_relop op);

#endif
