/* utf8.h - UTF-8 validity, as RFC 3629 defines it */
#ifndef DEBKEEP_UTF8_H
#define DEBKEEP_UTF8_H

#include <stddef.h>

/*
 * The length (1 to 4) of the valid UTF-8 sequence at s[0..n), or 0 when it
 * is not one: overlong forms, surrogates, code points past U+10FFFF and
 * truncated sequences are invalid. An ASCII byte (NUL included) is 1.
 */
size_t dk_utf8_seq(const void *s, size_t n);

/* The first byte of s[0..n) that does not start a valid sequence, or NULL when all of it is valid. */
const char *dk_utf8_invalid(const char *s, size_t n);

#endif
