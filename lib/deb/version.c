/* version.c - Debian version numbers: dpkg's parseversion() validity rules and verrevcmp() ordering */
#include <limits.h>
#include <stdbool.h>
#include <string.h>

#include <debkeep/err.h>
#include <debkeep/version.h>

#include "banned.h"

/* Shown in error messages; a hostile version string must not fill the whole message. */
#define SHOW_MAX 200

/*
 * verrevcmp()'s weight of each byte, indexed by the byte as unsigned char.
 * dpkg computes it on a plain `char`, so bytes above 0x7f weigh differently
 * where char is signed (amd64) and where it is unsigned (arm64); converting
 * through (char) keeps us equal to the dpkg of the machine we run on.
 * Digits weigh 0, which no other byte does (dpkg gives NUL 0 too, but it never
 * sees one inside a string; here NUL weighs 256 as "any other byte" would),
 * so the table also tells digits apart.
 */
#define IS_ALPHA(u) (((u) >= 'A' && (u) <= 'Z') || ((u) >= 'a' && (u) <= 'z'))
#define W(u) ((u) >= '0' && (u) <= '9' ? 0 : IS_ALPHA(u) ? (u) : (u) == '~' ? -1 : (int)(char)(u) + 256)
#define W4(u) W(u), W((u) + 1), W((u) + 2), W((u) + 3)
#define W16(u) W4(u), W4((u) + 4), W4((u) + 8), W4((u) + 12)
#define W64(u) W16(u), W16((u) + 16), W16((u) + 32), W16((u) + 48)

static const short weight[256] = { W64(0), W64(64), W64(128), W64(192) };

static inline bool is_digit(unsigned char c)
{
	return (unsigned char)(c - '0') < 10;
}

static inline bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* What strtol() skips before a number in the C locale. */
static inline bool is_space(char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/*
 * dpkg's verrevcmp() on slices: alternate runs of non-digits (compared by
 * weight, the end of a string weighing as a digit does) and digits (compared
 * as numbers of any length: leading zeros skipped, then the longer run wins,
 * then the first differing digit).
 */
static int verrevcmp(const unsigned char *a, const unsigned char *ae, const unsigned char *b,
		     const unsigned char *be)
{
	for (;;) {
		int first_diff = 0;

		for (;;) {
			int wa = a < ae ? weight[*a] : 0;
			int wb = b < be ? weight[*b] : 0;

			if (wa != wb)
				return wa - wb;
			if (wa == 0)
				break;
			a++;
			b++;
		}
		while (a < ae && *a == '0')
			a++;
		while (b < be && *b == '0')
			b++;
		while (a < ae && b < be && is_digit(*a) && is_digit(*b)) {
			if (!first_diff)
				first_diff = *a - *b;
			a++;
			b++;
		}
		if (a < ae && is_digit(*a))
			return 1;
		if (b < be && is_digit(*b))
			return -1;
		if (first_diff)
			return first_diff;
		if (a == ae && b == be)
			return 0;
	}
}

/*
 * Where a and b first differ, backed up to the start of the digit run it
 * falls in: verrevcmp() walks equal bytes in lockstep and remembers nothing
 * across runs, so starting it there gives the same answer as from the start.
 * Sorted versions share long prefixes, which this skips a word at a time.
 */
static size_t common_start(const unsigned char *a, const unsigned char *b, size_t n)
{
	size_t i = 0;

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	for (; i + 8 <= n; i += 8) {
		uint64_t x, y;

		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		if (x != y) {
			i += (size_t)__builtin_ctzll(x ^ y) / 8;
			goto found;
		}
	}
#endif
	while (i < n && a[i] == b[i])
		i++;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
found:
#endif
	while (i > 0 && is_digit(a[i - 1]))
		i--;
	return i;
}

static int cmp_part(const char *as, size_t alen, const char *bs, size_t blen)
{
	const unsigned char *a = (const unsigned char *)as, *b = (const unsigned char *)bs;
	size_t skip = common_start(a, b, alen < blen ? alen : blen);

	return verrevcmp(a + skip, a + alen, b + skip, b + blen);
}

int dk_version_cmp(const struct dk_version *a, const struct dk_version *b)
{
	int r;

	if (a->epoch != b->epoch)
		return a->epoch > b->epoch ? 1 : -1;
	r = cmp_part(a->upstream, a->upstream_len, b->upstream, b->upstream_len);
	if (r)
		return r;
	return cmp_part(a->revision, a->revision_len, b->revision, b->revision_len);
}

/*
 * The epoch before the colon, read as parseversion() reads it with strtol():
 * blanks of any kind, one sign, digits, and then the colon must follow.
 * Returns NULL or dpkg's reason.
 */
static const char *parse_epoch(uint32_t *epoch, const char *p, const char *colon)
{
	bool negative = false, big = false, any = false;
	uint32_t n = 0;

	while (p < colon && is_space(*p))
		p++;
	if (p < colon && (*p == '+' || *p == '-'))
		negative = *p++ == '-';
	for (; p < colon && is_digit((unsigned char)*p); p++) {
		any = true;
		if (n > (uint32_t)(INT_MAX - (*p - '0')) / 10)
			big = true;
		else
			n = n * 10 + (uint32_t)(*p - '0');
	}
	if (!any)
		return "epoch in version is empty";
	if (p != colon)
		return "epoch in version is not number";
	if (negative && (n || big))
		return "epoch in version is negative";
	if (big)
		return "epoch in version is too big";
	*epoch = n;
	return NULL;
}

/*
 * Split [s, e) as parseversion() does and return its first error (NULL when
 * there is none, its warnings being no errors). v is filled either way, as
 * well as the string allows: an unusable epoch is left in the upstream part.
 * Only a strict split looks for embedded blanks and NULs, which a lenient
 * one keeps as ordinary bytes.
 */
static inline const char *split(struct dk_version *v, const char *s, const char *e, bool strict)
{
	const char *reason = NULL, *colon, *hyphen;

	while (s < e && is_blank(*s))
		s++;
	while (e > s && is_blank(e[-1]))
		e--;
	v->epoch = 0;
	v->upstream = s;
	v->upstream_len = (size_t)(e - s);
	v->revision = "";
	v->revision_len = 0;
	if (s == e)
		return "version string is empty";
	if (strict && (memchr(s, ' ', (size_t)(e - s)) || memchr(s, '\t', (size_t)(e - s))))
		return "version string has embedded spaces";
	if (strict && memchr(s, '\0', (size_t)(e - s)))
		return "version string has embedded NUL";
	colon = memchr(s, ':', (size_t)(e - s));
	if (colon) {
		reason = parse_epoch(&v->epoch, s, colon);
		if (!reason) {
			s = colon + 1;
			if (s == e)
				reason = "nothing after colon in version number";
		}
	}
	hyphen = memrchr(s, '-', (size_t)(e - s));
	v->upstream = s;
	v->upstream_len = (size_t)((hyphen ? hyphen : e) - s);
	if (hyphen) {
		v->revision = hyphen + 1;
		v->revision_len = (size_t)(e - hyphen - 1);
		if (!reason && !v->revision_len)
			reason = "revision number is empty";
	}
	if (!reason && !v->upstream_len)
		reason = "version number is empty";
	return reason;
}

int dk_version_parse(struct dk_version *v, const char *s, size_t len, struct dk_err *err)
{
	const char *reason = split(v, s, s + len, true);

	if (reason)
		return dk_err_set(err, DK_EINPUT, "version '%.*s%s': %s", len > SHOW_MAX ? SHOW_MAX : (int)len, s,
				  len > SHOW_MAX ? "..." : "", reason);
	return 0;
}

int dk_version_cmp_str(const char *a, size_t alen, const char *b, size_t blen)
{
	struct dk_version va, vb;

	split(&va, a, a + alen, false);
	split(&vb, b, b + blen, false);
	return dk_version_cmp(&va, &vb);
}
