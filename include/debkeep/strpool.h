/* strpool.h - string interning: names become small integer ids, compared with == */
#ifndef DEBKEEP_STRPOOL_H
#define DEBKEEP_STRPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"

typedef uint32_t dk_id; /* 0 is "no string" */

struct dk_strpool {
	struct dk_arena arena;
	const char **strs; /* strs[id], NUL-terminated, owned by arena */
	uint32_t *lens;
	uint32_t count;    /* ids in use are 1..count-1 */
	uint32_t alloc;
	uint64_t *table;   /* open addressing: id in the low half, 0 when empty; the hash's high bits above */
	uint32_t mask;
};

#define DK_STRPOOL_INIT { DK_ARENA_INIT, NULL, NULL, 0, 0, NULL, 0 }

/* The id of s[0..len), adding it if new; 0 when out of memory. */
dk_id dk_strpool_intern(struct dk_strpool *p, const char *s, size_t len);
/* Make room for n more strings, so that interning them grows nothing; 0, or -1 when out of memory. */
int dk_strpool_reserve(struct dk_strpool *p, uint32_t n);
/* The id of s[0..len) if it was interned, else 0. */
dk_id dk_strpool_lookup(const struct dk_strpool *p, const char *s, size_t len);

static inline const char *dk_strpool_str(const struct dk_strpool *p, dk_id id)
{
	return p->strs[id];
}

static inline size_t dk_strpool_len(const struct dk_strpool *p, dk_id id)
{
	return p->lens[id];
}

/* One more than the highest id handed out: size for arrays indexed by id. */
static inline uint32_t dk_strpool_count(const struct dk_strpool *p)
{
	return p->count ? p->count : 1;
}

void dk_strpool_release(struct dk_strpool *p);

uint64_t dk_hash_bytes(const void *p, size_t n);

#endif
