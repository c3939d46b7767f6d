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
	char *ready;  /* head's pages up to here are populated (dk_mem_populate) */
};

#define DK_ARENA_INIT { NULL, NULL, NULL, 0, NULL }

/* 16-byte aligned, never freed individually; NULL when out of memory. */
void *dk_arena_alloc(struct dk_arena *a, size_t size);
void *dk_arena_zalloc(struct dk_arena *a, size_t size);
/* Copy of s[0..n) with a NUL after it. */
char *dk_arena_strndup(struct dk_arena *a, const char *s, size_t n);
char *dk_arena_strdup(struct dk_arena *a, const char *s);
void *dk_arena_memdup(struct dk_arena *a, const void *p, size_t n);
void dk_arena_release(struct dk_arena *a);

/*
 * Have the kernel back the pages of [p, p + n) now, in one call, for memory
 * about to be written from start to end: on a virtual machine, taking each
 * fresh page's fault one at a time costs two or three times more. Only a
 * hint, ignored where the kernel lacks MADV_POPULATE_WRITE (Linux 5.14).
 */
void dk_mem_populate(void *p, size_t n);

#endif
