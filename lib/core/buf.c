/* buf.c - the growable, size-capped buffer */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <debkeep/buf.h>

#include "banned.h"

char dk_buf_empty[1];

void dk_buf_init(struct dk_buf *b, size_t max)
{
	b->data = dk_buf_empty;
	b->len = 0;
	b->cap = 0;
	b->max = max;
	b->failed = false;
}

void dk_buf_release(struct dk_buf *b)
{
	size_t max = b->max;

	if (b->cap)
		free(b->data);
	dk_buf_init(b, max);
}

int dk_buf_grow(struct dk_buf *b, size_t extra)
{
	size_t max = b->max ? b->max : DK_BUF_DEFAULT_MAX;
	size_t need, cap;
	char *p;

	if (extra > max || b->len > max - extra) {
		b->failed = true;
		return DK_ENOMEM;
	}
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap < SIZE_MAX / 2 ? cap * 2 : need;
	p = realloc(b->cap ? b->data : NULL, cap);
	if (!p) {
		b->failed = true;
		return DK_ENOMEM;
	}
	if (!b->cap)
		p[0] = '\0';
	b->data = p;
	b->cap = cap;
	return 0;
}

int dk_buf_add(struct dk_buf *b, const void *p, size_t n)
{
	if (dk_buf_grow(b, n))
		return DK_ENOMEM;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int dk_buf_adds(struct dk_buf *b, const char *s)
{
	return dk_buf_add(b, s, strlen(s));
}

int dk_buf_addc(struct dk_buf *b, char c)
{
	return dk_buf_add(b, &c, 1);
}

int dk_buf_vaddf(struct dk_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(b->data + b->len, b->cap ? b->cap - b->len : 0, fmt, cp);
	va_end(cp);
	if (n < 0) {
		b->failed = true;
		return DK_EINTERNAL;
	}
	if (b->cap && (size_t)n < b->cap - b->len) {
		b->len += (size_t)n;
		return 0;
	}
	if (dk_buf_grow(b, (size_t)n))
		return DK_ENOMEM;
	vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int dk_buf_addf(struct dk_buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = dk_buf_vaddf(b, fmt, ap);
	va_end(ap);
	return r;
}

int dk_buf_add_html(struct dk_buf *b, const char *s, size_t n)
{
	size_t from = 0, i;

	/* Runs of plain bytes go in one append; only the five special characters are replaced. */
	for (i = 0; i < n && s[i]; i++) {
		const char *rep;

		switch (s[i]) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '"':
			rep = "&quot;";
			break;
		case '\'':
			rep = "&#39;";
			break;
		default:
			continue;
		}
		dk_buf_add(b, s + from, i - from);
		dk_buf_adds(b, rep);
		from = i + 1;
	}
	return dk_buf_add(b, s + from, i - from);
}

void dk_buf_truncate(struct dk_buf *b, size_t len)
{
	if (len >= b->len)
		return;
	b->len = len;
	b->data[len] = '\0';
}

char *dk_buf_detach(struct dk_buf *b, size_t *len)
{
	char *p = b->cap ? b->data : calloc(1, 1);

	if (len)
		*len = b->len;
	dk_buf_init(b, b->max);
	return p;
}

int dk_buf_check(const struct dk_buf *b, struct dk_err *err, const char *what)
{
	if (!b->failed)
		return 0;
	return dk_err_set(err, DK_ENOMEM, "%s: out of memory or over the size limit", what);
}
