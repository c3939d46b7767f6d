/* utf8.c - UTF-8 validity, as RFC 3629 defines it */
#include <debkeep/utf8.h>

#include "banned.h"

size_t dk_utf8_seq(const void *p, size_t n)
{
	const unsigned char *s = p;
	unsigned char lo = 0x80, hi = 0xbf; /* the range of the second byte */
	size_t len;

	if (n == 0)
		return 0;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	/* The lead bytes whose second byte is narrower: overlong forms, surrogates, past U+10FFFF. */
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

const char *dk_utf8_invalid(const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t k = dk_utf8_seq(s + i, n - i);

		if (!k)
			return s + i;
		i += k;
	}
	return NULL;
}
