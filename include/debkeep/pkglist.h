/* pkglist.h - package lists: the YAML file a team writes to say what it supports */
#ifndef DEBKEEP_PKGLIST_H
#define DEBKEEP_PKGLIST_H

#include <stddef.h>

#include "arena.h"
#include "err.h"

enum dk_priority {
	DK_PRIO_NONE = 0, /* unknown or absent */
	DK_PRIO_REQUIRED,
	DK_PRIO_IMPORTANT,
	DK_PRIO_STANDARD,
	DK_PRIO_OPTIONAL,
	DK_PRIO_EXTRA,
};

/* "required" -> DK_PRIO_REQUIRED ...; DK_PRIO_NONE for anything else (including "none"). */
enum dk_priority dk_priority_parse(const char *s, size_t n);
const char *dk_priority_name(enum dk_priority p);

struct dk_pkglist_entry {
	const char *name;
	const char *reason; /* never NULL; "" only if the file gave an empty reason */
	unsigned line;      /* where it stands in the file, for messages */
};

/* A parsed package list; every string lives in the list's arena. */
struct dk_pkglist {
	struct dk_arena arena;
	const char *filename;
	const char *release;
	const char **archs;
	size_t narchs;
	enum dk_priority priority; /* floor: DK_PRIO_NONE means none */
	struct dk_pkglist_entry *packages;
	size_t npackages;
	const char **exclude;
	size_t nexclude;
};

#define DK_PKGLIST_INIT { DK_ARENA_INIT, NULL, NULL, NULL, 0, DK_PRIO_NONE, NULL, 0, NULL, 0 }

/* Parse a YAML package list (docs/package-list.md); errors name "FILE:LINE: WHAT". */
int dk_pkglist_load(struct dk_pkglist *pl, const char *path, struct dk_err *err);
int dk_pkglist_load_mem(struct dk_pkglist *pl, const char *data, size_t len, const char *name,
			struct dk_err *err);
void dk_pkglist_release(struct dk_pkglist *pl);

#endif
