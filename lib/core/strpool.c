/* strpool.c - string interning with an open-addressing table of ids */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <debkeep/strpool.h>

#include "banned.h"

/*
 * Eight bytes at a time with a multiply-xorshift mix: interning runs once per
 * stanza of a 60,000-stanza index, so a byte-at-a-time hash shows up there.
 */
uint64_t dk_hash_bytes(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ (n * 0xff51afd7ed558ccdULL);

	while (n >= 8) {
		uint64_t w;

		memcpy(&w, s, 8);
		h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
		h ^= h >> 29;
		s += 8;
		n -= 8;
	}
	if (n) {
		uint64_t w = 0;

		memcpy(&w, s, n);
		h = (h ^ w) * 0x94d049bb133111ebULL;
		h ^= h >> 31;
	}
	h *= 0xd6e8feb86659fd93ULL;
	h ^= h >> 32;
	return h;
}

/*
 * A slot keeps the id and the upper 32 bits of the string's hash, so a probe
 * that meets another string is rejected without touching that string: the
 * table is the only memory a miss reads.
 */
static inline uint64_t slot_make(dk_id id, uint64_t h)
{
	return (h & 0xffffffff00000000ULL) | id;
}

/* A table of at least nsize slots (a power of two), the strings there rehashed into it. */
static int resize_table(struct dk_strpool *p, uint32_t nsize)
{
	uint64_t *t = calloc(nsize, sizeof(*t));

	if (!t)
		return -1;
	for (uint32_t id = 1; id < p->count; id++) {
		uint64_t h = dk_hash_bytes(p->strs[id], p->lens[id]);
		uint32_t i = (uint32_t)h & (nsize - 1);

		while (t[i])
			i = (i + 1) & (nsize - 1);
		t[i] = slot_make(id, h);
	}
	free(p->table);
	p->table = t;
	p->mask = nsize - 1;
	return 0;
}

static int grow_table(struct dk_strpool *p)
{
	return resize_table(p, p->mask ? (p->mask + 1) * 2 : 1024);
}

static int resize_ids(struct dk_strpool *p, uint32_t n)
{
	const char **s = realloc(p->strs, n * sizeof(*s));

	if (!s)
		return -1;
	p->strs = s;
	uint32_t *l = realloc(p->lens, n * sizeof(*l));
	if (!l)
		return -1;
	p->lens = l;
	if (!p->alloc) {
		p->strs[0] = "";
		p->lens[0] = 0;
		p->count = 1;
	}
	p->alloc = n;
	return 0;
}

static int grow_ids(struct dk_strpool *p)
{
	return resize_ids(p, p->alloc ? p->alloc * 2 : 1024);
}

/*
 * Growing by doubling rehashes every string at each step and touches each
 * table and id array of the way, a fresh page at a time: a pool that knows
 * its size sets it up once.
 */
int dk_strpool_reserve(struct dk_strpool *p, uint32_t n)
{
	uint64_t want = (uint64_t)dk_strpool_count(p) + n, size = 1024;

	/* The table is a power of two of 32-bit size: at most 2^31 slots, for 2^30 strings. */
	if (want > ((uint64_t)1 << 30))
		return -1;
	while (size < want * 2)
		size *= 2;
	if (size > (uint64_t)p->mask + 1) {
		if (resize_table(p, (uint32_t)size))
			return -1;
		/* Eight strings or more to a page of the table: all its pages will be written. */
		if (n >= size / 64)
			dk_mem_populate(p->table, (size_t)size * sizeof(*p->table));
	}
	if (want > p->alloc && resize_ids(p, (uint32_t)want))
		return -1;
	dk_mem_populate(p->strs + p->count, (size_t)n * sizeof(*p->strs));
	dk_mem_populate(p->lens + p->count, (size_t)n * sizeof(*p->lens));
	return 0;
}

/* The slot for s: its id, or the empty slot where it would go (*found false). */
static uint32_t probe(const struct dk_strpool *p, const char *s, size_t len, uint64_t h, bool *found)
{
	uint32_t i = (uint32_t)h & p->mask;
	uint64_t tag = h & 0xffffffff00000000ULL;

	for (uint64_t e; (e = p->table[i]); i = (i + 1) & p->mask) {
		dk_id id = (dk_id)e;

		if ((e & 0xffffffff00000000ULL) == tag && p->lens[id] == len && memcmp(p->strs[id], s, len) == 0) {
			*found = true;
			return i;
		}
	}
	*found = false;
	return i;
}

dk_id dk_strpool_lookup(const struct dk_strpool *p, const char *s, size_t len)
{
	bool found;
	uint32_t i;

	if (!p->table)
		return 0;
	i = probe(p, s, len, dk_hash_bytes(s, len), &found);
	return found ? (dk_id)p->table[i] : 0;
}

dk_id dk_strpool_intern(struct dk_strpool *p, const char *s, size_t len)
{
	uint64_t h = dk_hash_bytes(s, len);
	bool found;
	uint32_t i;
	dk_id id;
	char *copy;

	if (len > UINT32_MAX)
		return 0;
	if (!p->table || (p->count + 1) * 2 > p->mask + 1)
		if (grow_table(p))
			return 0;
	i = probe(p, s, len, h, &found);
	if (found)
		return (dk_id)p->table[i];
	if (p->count >= p->alloc && grow_ids(p))
		return 0;
	if (p->count == UINT32_MAX)
		return 0;
	copy = dk_arena_strndup(&p->arena, s, len);
	if (!copy)
		return 0;
	id = p->count++;
	p->strs[id] = copy;
	p->lens[id] = (uint32_t)len;
	p->table[i] = slot_make(id, h);
	return id;
}

void dk_strpool_release(struct dk_strpool *p)
{
	dk_arena_release(&p->arena);
	free(p->strs);
	free(p->lens);
	free(p->table);
	memset(p, 0, sizeof(*p));
}
