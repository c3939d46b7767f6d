/* arena.h - bump allocator: a whole index is parsed into one arena and freed in one call */
#ifndef DEBKEEP_ARENA_H
#define DEBKEEP_ARENA_H

#include <stddef.h>

struct dk_arena_block;

struct dk_arena {
	struct dk_arena_block *head;
	char *next;  /* free space in head */
	char *end;
	size_t total; /* bytes obtained from malloc, for statistics */
};

#define DK_ARENA_INIT { NULL, NULL, NULL, 0 }

/* 16-byte aligned, never freed individually; NULL when out of memory. */
void *dk_arena_alloc(struct dk_arena *a, size_t size);
void *dk_arena_zalloc(struct dk_arena *a, size_t size);
/* Copy of s[0..n) with a NUL after it. */
char *dk_arena_strndup(struct dk_arena *a, const char *s, size_t n);
char *dk_arena_strdup(struct dk_arena *a, const char *s);
void *dk_arena_memdup(struct dk_arena *a, const void *p, size_t n);
void dk_arena_release(struct dk_arena *a);

#endif
