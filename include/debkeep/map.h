/* map.h - open-addressing hash map from 64-bit keys to pointers */
#ifndef DEBKEEP_MAP_H
#define DEBKEEP_MAP_H

#include <stddef.h>
#include <stdint.h>

/*
 * Keys are 64-bit integers (interned ids, or a hash a caller has made
 * collision-free); values are pointers. Key UINT64_MAX is reserved.
 */
struct dk_map {
	uint64_t *keys;
	void **vals;
	size_t count;
	size_t mask; /* capacity - 1, 0 when empty */
};

#define DK_MAP_INIT { NULL, NULL, 0, 0 }

/* Returns 0, or DK_ENOMEM. */
int dk_map_put(struct dk_map *m, uint64_t key, void *val);
/* Returns the value, or NULL when the key is absent. */
void *dk_map_get(const struct dk_map *m, uint64_t key);
/* Returns a pointer to the value slot, adding the key with NULL if absent; NULL on ENOMEM. */
void **dk_map_slot(struct dk_map *m, uint64_t key);
void dk_map_release(struct dk_map *m);

#endif
