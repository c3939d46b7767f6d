/* resolve.h - the dependency closure of a package list, with the reason for every package */
#ifndef DEBKEEP_RESOLVE_H
#define DEBKEEP_RESOLVE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "index.h"
#include "pkglist.h"

enum dk_why {
	DK_WHY_PRIORITY,  /* its Priority is at or above the list's floor */
	DK_WHY_REQUESTED, /* the list asks for it */
	DK_WHY_DEPENDENCY, /* a selected package depends on it */
};

struct dk_selected {
	uint32_t pkg;         /* index into idx->pkgs */
	enum dk_why why;
	const char *reason;   /* DK_WHY_REQUESTED: the list's reason */
	uint32_t parent;      /* DK_WHY_DEPENDENCY: the selected entry (index into items) that needed it */
	struct dk_slice dep;  /* DK_WHY_DEPENDENCY: the dependency group as written, e.g. "libc6 (>= 2.34)" */
	bool pre_depends;     /* ...and whether it was a Pre-Depends */
};

struct dk_resolution {
	struct dk_selected *items; /* in the order apt would mark them */
	size_t count;
	size_t alloc;
	uint32_t *item_of_name; /* [name id] -> item index + 1; 0: not selected */
	uint32_t nnames;
	struct dk_arena arena;
};

#define DK_RESOLUTION_INIT { NULL, 0, 0, NULL, 0, DK_ARENA_INIT }

/*
 * Resolve a package list against a finished index: the priority floor (names
 * sorted, exclusions left out), then the requested packages in the list's
 * order, then the closure over Pre-Depends and Depends following apt's
 * MarkInstall (see docs/resolver.md for the rules and where they come from).
 * A requested package that does not exist, a dependency that cannot be
 * satisfied, or one that only an excluded package satisfies: DK_EINPUT with
 * the chain that needs it.
 */
int dk_resolve_pkglist(const struct dk_index *idx, const struct dk_pkglist *pl, struct dk_resolution *res,
		       struct dk_err *err);

/* The same for a bare list of names, all requested (reason NULL), for tests and tools. */
int dk_resolve_names(const struct dk_index *idx, const char *const *names, size_t n, struct dk_resolution *res,
		     struct dk_err *err);

/* The selected entry for a name, or NULL. */
const struct dk_selected *dk_resolution_find(const struct dk_resolution *res, const struct dk_index *idx,
					     const char *name);

/* Write "a -> b -> c" (requested/priority root first) for an entry. */
int dk_resolution_chain(const struct dk_resolution *res, const struct dk_index *idx, const struct dk_selected *sel,
			struct dk_buf *out);

void dk_resolution_release(struct dk_resolution *res);

#endif
