/* map.c - open-addressing hash map from 64-bit keys to pointers */
#include <stdint.h>
#include <stdlib.h>

#include <debkeep/err.h>
#include <debkeep/map.h>

#include "banned.h"

#define EMPTY UINT64_MAX

static size_t slot_of(uint64_t key, size_t mask)
{
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdULL;
	key ^= key >> 33;
	return (size_t)key & mask;
}

static int rehash(struct dk_map *m, size_t nsize)
{
	uint64_t *keys = malloc(nsize * sizeof(*keys));
	void **vals = malloc(nsize * sizeof(*vals));

	if (!keys || !vals) {
		free(keys);
		free(vals);
		return DK_ENOMEM;
	}
	for (size_t i = 0; i < nsize; i++)
		keys[i] = EMPTY;
	for (size_t i = 0; m->mask && i <= m->mask; i++) {
		if (m->keys[i] == EMPTY)
			continue;
		size_t j = slot_of(m->keys[i], nsize - 1);
		while (keys[j] != EMPTY)
			j = (j + 1) & (nsize - 1);
		keys[j] = m->keys[i];
		vals[j] = m->vals[i];
	}
	free(m->keys);
	free(m->vals);
	m->keys = keys;
	m->vals = vals;
	m->mask = nsize - 1;
	return 0;
}

void **dk_map_slot(struct dk_map *m, uint64_t key)
{
	size_t i;

	if (key == EMPTY)
		return NULL;
	if (!m->mask || (m->count + 1) * 4 > (m->mask + 1) * 3)
		if (rehash(m, m->mask ? (m->mask + 1) * 2 : 64))
			return NULL;
	for (i = slot_of(key, m->mask); m->keys[i] != EMPTY; i = (i + 1) & m->mask)
		if (m->keys[i] == key)
			return &m->vals[i];
	m->keys[i] = key;
	m->vals[i] = NULL;
	m->count++;
	return &m->vals[i];
}

int dk_map_put(struct dk_map *m, uint64_t key, void *val)
{
	void **slot = dk_map_slot(m, key);

	if (!slot)
		return DK_ENOMEM;
	*slot = val;
	return 0;
}

void *dk_map_get(const struct dk_map *m, uint64_t key)
{
	if (!m->mask || key == EMPTY)
		return NULL;
	for (size_t i = slot_of(key, m->mask); m->keys[i] != EMPTY; i = (i + 1) & m->mask)
		if (m->keys[i] == key)
			return m->vals[i];
	return NULL;
}

void dk_map_release(struct dk_map *m)
{
	free(m->keys);
	free(m->vals);
	m->keys = NULL;
	m->vals = NULL;
	m->count = 0;
	m->mask = 0;
}
