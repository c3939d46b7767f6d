/* buf.h - the growable, size-capped byte buffer used everywhere */
#ifndef DEBKEEP_BUF_H
#define DEBKEEP_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "err.h"

/*
 * Invariants: data is never NULL and data[len] is always NUL, so a buffer can
 * be used as a C string at any time. Growth is capped by max (0: the default
 * cap, DK_BUF_DEFAULT_MAX) so hostile input cannot make it grow without bound.
 * A failed append (out of memory or over the cap) leaves the contents as they
 * were and sets the sticky `failed` flag: a sequence of appends can be checked
 * once, at the end, with dk_buf_check().
 */
struct dk_buf {
	char *data;
	size_t len;
	size_t cap; /* 0 while data points at the shared empty string */
	size_t max;
	bool failed;
};

extern char dk_buf_empty[1];

#define DK_BUF_DEFAULT_MAX ((size_t)1 << 32)
#define DK_BUF_INIT { dk_buf_empty, 0, 0, 0, false }

void dk_buf_init(struct dk_buf *b, size_t max);
void dk_buf_release(struct dk_buf *b);

/* Make room for extra more bytes (plus the NUL). Returns 0 or DK_ENOMEM. */
int dk_buf_grow(struct dk_buf *b, size_t extra);

int dk_buf_add(struct dk_buf *b, const void *p, size_t n);
int dk_buf_adds(struct dk_buf *b, const char *s);
int dk_buf_addc(struct dk_buf *b, char c);
int dk_buf_addf(struct dk_buf *b, const char *fmt, ...) DK_PRINTF(2, 3);
int dk_buf_vaddf(struct dk_buf *b, const char *fmt, va_list ap) DK_PRINTF(2, 0);

/* Append s[0..n) escaped for HTML text and attribute values (& < > " '); stops at a NUL. */
int dk_buf_add_html(struct dk_buf *b, const char *s, size_t n);

static inline void dk_buf_reset(struct dk_buf *b)
{
	b->len = 0;
	if (b->cap)
		b->data[0] = '\0';
	b->failed = false;
}

/* Shorten to len (which must not exceed the current length). */
void dk_buf_truncate(struct dk_buf *b, size_t len);

/* Hand the storage to the caller (malloc'd, NUL-terminated) and re-initialise b. */
char *dk_buf_detach(struct dk_buf *b, size_t *len);

/* Returns 0, or DK_ENOMEM with a message naming what was being built, if any append failed. */
int dk_buf_check(const struct dk_buf *b, struct dk_err *err, const char *what);

#endif
