/* arena.c - bump allocator in growing blocks */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <debkeep/arena.h>

#include "banned.h"

#define ARENA_ALIGN 16
#define ARENA_MIN_BLOCK ((size_t)64 * 1024)
/* Blocks from this size on are populated ahead of use, a window at a time: see dk_mem_populate(). */
#define ARENA_POPULATE_BLOCK ((size_t)256 * 1024)
#define ARENA_POPULATE_WINDOW ((size_t)256 * 1024)

struct dk_arena_block {
	struct dk_arena_block *prev;
	size_t size;
	/* the payload follows, aligned */
};

#define BLOCK_HEADER (((sizeof(struct dk_arena_block) + ARENA_ALIGN - 1) / ARENA_ALIGN) * ARENA_ALIGN)

/* The head block's pages up to a window past next, so a big block is not faulted in a page at a time. */
static void populate_ahead(struct dk_arena *a)
{
	char *to = a->next + ARENA_POPULATE_WINDOW;

	if (to > a->end || to < a->next)
		to = a->end;
	dk_mem_populate(a->ready, (size_t)(to - a->ready));
	a->ready = to;
}

void *dk_arena_alloc(struct dk_arena *a, size_t size)
{
	size_t rounded = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	struct dk_arena_block *blk;
	size_t bsize;
	void *p;

	if (rounded < size)
		return NULL;
	if (a->next && (size_t)(a->end - a->next) >= rounded) {
		p = a->next;
		a->next += rounded;
		if (a->next > a->ready)
			populate_ahead(a);
		return p;
	}
	/* Blocks double with the arena so a big index takes few mallocs. */
	bsize = a->total > ARENA_MIN_BLOCK ? a->total : ARENA_MIN_BLOCK;
	if (bsize > ((size_t)64 << 20))
		bsize = (size_t)64 << 20;
	if (bsize < rounded)
		bsize = rounded;
	if (bsize > SIZE_MAX - BLOCK_HEADER)
		return NULL;
	blk = malloc(BLOCK_HEADER + bsize);
	if (!blk)
		return NULL;
	blk->size = bsize;
	a->total += bsize;
	/* A large one-off allocation goes behind the head so its free space is kept. */
	if (a->head && bsize == rounded && a->next && a->end - a->next > 0) {
		blk->prev = a->head->prev;
		a->head->prev = blk;
		return (char *)blk + BLOCK_HEADER;
	}
	blk->prev = a->head;
	a->head = blk;
	a->next = (char *)blk + BLOCK_HEADER + rounded;
	a->end = (char *)blk + BLOCK_HEADER + bsize;
	a->ready = bsize < ARENA_POPULATE_BLOCK ? a->end : (char *)blk;
	if (a->next > a->ready)
		populate_ahead(a);
	return (char *)blk + BLOCK_HEADER;
}

void *dk_arena_zalloc(struct dk_arena *a, size_t size)
{
	void *p = dk_arena_alloc(a, size);

	if (p)
		memset(p, 0, size);
	return p;
}

void *dk_arena_memdup(struct dk_arena *a, const void *src, size_t n)
{
	void *p = dk_arena_alloc(a, n ? n : 1);

	if (p && n)
		memcpy(p, src, n);
	return p;
}

char *dk_arena_strndup(struct dk_arena *a, const char *s, size_t n)
{
	char *p;

	if (n == SIZE_MAX)
		return NULL;
	p = dk_arena_alloc(a, n + 1);
	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *dk_arena_strdup(struct dk_arena *a, const char *s)
{
	return dk_arena_strndup(a, s, strlen(s));
}

void dk_arena_release(struct dk_arena *a)
{
	struct dk_arena_block *b = a->head;

	while (b) {
		struct dk_arena_block *prev = b->prev;

		free(b);
		b = prev;
	}
	a->head = NULL;
	a->next = a->end = a->ready = NULL;
	a->total = 0;
}

void dk_mem_populate(void *p, size_t n)
{
#ifdef MADV_POPULATE_WRITE
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE), a, e;

	a = (uintptr_t)p & ~(page - 1);
	e = ((uintptr_t)p + n + page - 1) & ~(page - 1);
	if (n && e > a)
		madvise((void *)a, e - a, MADV_POPULATE_WRITE);
#else
	(void)p;
	(void)n;
#endif
}
