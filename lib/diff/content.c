/* content.c - what differs inside two contents: unified text diff (Myers), ELF sections, hex, known kinds */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <debkeep/diff.h>
#include <debkeep/strpool.h>
#include <debkeep/utf8.h>

#include "banned.h"

#define CONTEXT 3
#define LINE_SHOW 160
/* Myers keeps one diagonal vector per edit step for the way back: past this many edits, fall back. */
#define MAX_EDITS 2000

void dk_diff_detail_init(struct dk_diff_detail *d)
{
	memset(d, 0, sizeof(*d));
	dk_buf_init(&d->text, (size_t)8 << 20);
}

void dk_diff_detail_release(struct dk_diff_detail *d)
{
	dk_buf_release(&d->text);
}

/* One output line; past max_lines they are only counted, for the "N more lines" marker. */
static void line_out(struct dk_diff_detail *d, size_t max_lines, const char *fmt, ...) DK_PRINTF(3, 4);
static void line_out(struct dk_diff_detail *d, size_t max_lines, const char *fmt, ...)
{
	va_list ap;

	if (d->lines >= max_lines) {
		d->omitted++;
		return;
	}
	va_start(ap, fmt);
	dk_buf_vaddf(&d->text, fmt, ap);
	va_end(ap);
	dk_buf_addc(&d->text, '\n');
	d->lines++;
}

/* A line as shown: valid UTF-8 kept, other bytes and controls as '?', long lines cut with a count. */
static void show_line(struct dk_diff_detail *d, size_t max_lines, char tag, const char *p, size_t n)
{
	char out[LINE_SHOW * 4 + 64];
	size_t o = 0, i = 0, shown = 0;
	const unsigned char *u = (const unsigned char *)p;

	if (d->lines >= max_lines) {
		d->omitted++;
		return;
	}
	out[o++] = tag;
	while (i < n && shown < LINE_SHOW) {
		size_t k;

		if (u[i] == '\t' || (u[i] >= 0x20 && u[i] < 0x7f)) {
			out[o++] = (char)u[i++];
		} else if (u[i] >= 0x80 && (k = dk_utf8_seq(u + i, n - i)) != 0) {
			memcpy(out + o, u + i, k);
			o += k;
			i += k;
		} else {
			out[o++] = '?';
			i++;
		}
		shown++;
	}
	out[o] = '\0';
	if (i < n)
		line_out(d, max_lines, "%s [... %zu more bytes]", out, n - i);
	else
		line_out(d, max_lines, "%s", out);
}

struct lines {
	const char **p;
	size_t *len;
	uint64_t *h;
	size_t n;
};

static int split_lines(struct lines *l, const char *s, size_t n)
{
	size_t cap = 1;

	for (size_t i = 0; i < n; i++)
		cap += s[i] == '\n';
	l->p = malloc(cap * sizeof(*l->p));
	l->len = malloc(cap * sizeof(*l->len));
	l->h = malloc(cap * sizeof(*l->h));
	l->n = 0;
	if (!l->p || !l->len || !l->h)
		return -1;
	for (size_t i = 0; i < n;) {
		const char *nl = memchr(s + i, '\n', n - i);
		size_t e = nl ? (size_t)(nl - s) : n;

		l->p[l->n] = s + i;
		l->len[l->n] = e - i;
		l->h[l->n] = dk_hash_bytes(s + i, e - i);
		l->n++;
		i = e + 1;
	}
	return 0;
}

static void free_lines(struct lines *l)
{
	free(l->p);
	free(l->len);
	free(l->h);
}

static bool line_eq(const struct lines *a, size_t i, const struct lines *b, size_t j)
{
	return a->h[i] == b->h[j] && a->len[i] == b->len[j] && memcmp(a->p[i], b->p[j], a->len[i]) == 0;
}

enum op { OP_EQ, OP_DEL, OP_INS };

/*
 * Myers' O(ND) greedy algorithm on a[lo_a, hi_a) and b[lo_b, hi_b), keeping each step's
 * furthest-reaching diagonals so that the edit script can be traced back. Returns the
 * number of ops written to ops (filled from the end backwards by the trace), or -1 when
 * the difference needs more than MAX_EDITS edits.
 */
static long myers(const struct lines *a, size_t lo_a, size_t hi_a, const struct lines *b, size_t lo_b,
		  size_t hi_b, unsigned char *ops)
{
	long n = (long)(hi_a - lo_a), m = (long)(hi_b - lo_b), max = n + m,
	     dmax = max < MAX_EDITS ? max : MAX_EDITS;
	long off = dmax + 1, width = 2 * dmax + 3, d, found = -1;
	long *v = calloc((size_t)width, sizeof(*v));
	long **trace = calloc((size_t)dmax + 1, sizeof(*trace));
	long x, y, k, len = 0;

	if (!v || !trace)
		goto fail;
	for (d = 0; d <= dmax && found < 0; d++) {
		for (k = -d; k <= d; k += 2) {
			if (k == -d || (k != d && v[off + k - 1] < v[off + k + 1]))
				x = v[off + k + 1];
			else
				x = v[off + k - 1] + 1;
			y = x - k;
			while (x < n && y < m && line_eq(a, lo_a + (size_t)x, b, lo_b + (size_t)y))
				x++, y++;
			v[off + k] = x;
			if (x >= n && y >= m) {
				found = d;
				break;
			}
		}
		trace[d] = malloc((size_t)width * sizeof(long));
		if (!trace[d])
			goto fail;
		memcpy(trace[d], v, (size_t)width * sizeof(long));
	}
	if (found < 0)
		goto fail;
	/* Back from (n, m): each step is one insertion or deletion plus a run of equal lines. */
	x = n;
	y = m;
	for (d = found; d > 0; d--) {
		long *pv = trace[d - 1], pk, px, py;

		k = x - y;
		if (k == -d || (k != d && pv[off + k - 1] < pv[off + k + 1]))
			pk = k + 1;
		else
			pk = k - 1;
		px = pv[off + pk];
		py = px - pk;
		while (x > px && y > py) {
			ops[max - ++len] = OP_EQ;
			x--, y--;
		}
		ops[max - ++len] = x == px ? OP_INS : OP_DEL;
		x = px;
		y = py;
	}
	while (x > 0 && y > 0) {
		ops[max - ++len] = OP_EQ;
		x--, y--;
	}
	memmove(ops, ops + max - len, (size_t)len);
	for (d = 0; d <= dmax; d++)
		free(trace[d]);
	free(trace);
	free(v);
	return len;
fail:
	if (trace)
		for (d = 0; d <= dmax; d++)
			free(trace[d]);
	free(trace);
	free(v);
	return -1;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static size_t digits(const char *p, size_t n)
{
	size_t i = 0;

	while (i < n && is_digit(p[i]))
		i++;
	return i;
}

/* The length of a date or time token at p (0 if none): what SOURCE_DATE_EPOCH was meant to pin. */
static size_t date_token(const char *p, size_t n, bool word_start)
{
	static const char *const words[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
					     "Aug", "Sep", "Oct", "Nov", "Dec", "Mon", "Tue",
					     "Wed", "Thu", "Fri", "Sat", "Sun", NULL };
	size_t dl = digits(p, n), i;

	if (word_start && n >= 3) {
		for (int w = 0; words[w]; w++)
			if (memcmp(p, words[w], 3) == 0 &&
			    (n == 3 || !((p[3] | 0x20) >= 'a' && (p[3] | 0x20) <= 'z'))) {
				i = 3;
				while (i < n && p[i] == ' ')
					i++;
				return i + digits(p + i, n - i) > 3 && i > 3 ? i + digits(p + i, n - i) : 3;
			}
	}
	if (!word_start || !dl)
		return 0;
	if (dl == 4 && n >= 10 && p[4] == '-' && digits(p + 5, n - 5) == 2 && p[7] == '-' &&
	    digits(p + 8, n - 8) == 2) {
		i = 10;
		if (i + 5 <= n && (p[i] == 'T' || p[i] == ' ') && digits(p + i + 1, n - i - 1) == 2 &&
		    p[i + 3] == ':')
			i += 1 + date_token(p + i + 1, n - i - 1, true);
		return i;
	}
	if ((dl == 1 || dl == 2) && dl + 3 <= n && p[dl] == ':' && digits(p + dl + 1, n - dl - 1) == 2) {
		i = dl + 3;
		if (i + 3 <= n && p[i] == ':' && digits(p + i + 1, n - i - 1) == 2)
			i += 3;
		if (i < n && (p[i] == '.' || p[i] == ',') && digits(p + i + 1, n - i - 1))
			i += 1 + digits(p + i + 1, n - i - 1);
		if (i < n && p[i] == 'Z')
			i++;
		else if (i + 5 <= n && (p[i] == '+' || p[i] == '-') && digits(p + i + 1, 4) == 4)
			i += 5;
		return i;
	}
	if (dl == 10 && p[0] == '1')
		return 10;
	if (dl == 4 && (memcmp(p, "19", 2) == 0 || memcmp(p, "20", 2) == 0))
		return 4;
	return 0;
}

static size_t build_path_token(const char *p, size_t n)
{
	static const char *const roots[] = { "/build/", "/tmp/", "/builds/", NULL };

	for (int r = 0; roots[r]; r++) {
		size_t l = strlen(roots[r]), i;

		if (n < l || memcmp(p, roots[r], l) != 0)
			continue;
		for (i = l;
		     i < n && p[i] != ' ' && p[i] != '"' && p[i] != '\'' && p[i] != ':' && p[i] != '\t'; i++)
			;
		return i;
	}
	return 0;
}

/* A line with its dates (kind 0) or build directories (kind 1) replaced by a placeholder. */
static void normalise(struct dk_buf *out, const char *p, size_t n, int kind)
{
	for (size_t i = 0; i < n;) {
		bool ws = i == 0 ||
			(!((p[i - 1] | 0x20) >= 'a' && (p[i - 1] | 0x20) <= 'z') && !is_digit(p[i - 1]));
		size_t t = kind == 0 ? date_token(p + i, n - i, ws) : build_path_token(p + i, n - i);

		if (t) {
			dk_buf_adds(out, kind == 0 ? "\x01" : "\x02");
			i += t;
		} else {
			dk_buf_addc(out, p[i++]);
		}
	}
	dk_buf_addc(out, '\n');
}

/* Do the deleted and inserted lines, in order, differ only in tokens of the given kind? */
static bool only_tokens(const struct lines *a, const struct lines *b, const unsigned char *ops, long nops,
			int kind)
{
	struct dk_buf da = DK_BUF_INIT, db = DK_BUF_INIT;
	size_t i = 0, j = 0;
	bool same;

	dk_buf_init(&da, (size_t)64 << 20);
	dk_buf_init(&db, (size_t)64 << 20);
	for (long k = 0; k < nops; k++) {
		if (ops[k] == OP_EQ) {
			i++, j++;
		} else if (ops[k] == OP_DEL) {
			normalise(&da, a->p[i], a->len[i], kind);
			i++;
		} else {
			normalise(&db, b->p[j], b->len[j], kind);
			j++;
		}
	}
	same = !da.failed && !db.failed && da.len == db.len && memcmp(da.data, db.data, da.len) == 0;
	dk_buf_release(&da);
	dk_buf_release(&db);
	return same;
}

int dk_diff_text(struct dk_diff_detail *d, const char *a, size_t alen, const char *b, size_t blen,
		 const char *path, size_t max_lines)
{
	struct lines la = { 0 }, lb = { 0 };
	unsigned char *ops = NULL;
	size_t pre = 0, suf = 0, nops = 0;
	long mid;
	int rc = 0;

	if (split_lines(&la, a, alen) || split_lines(&lb, b, blen)) {
		rc = DK_ENOMEM;
		goto out;
	}
	while (pre < la.n && pre < lb.n && line_eq(&la, pre, &lb, pre))
		pre++;
	while (suf < la.n - pre && suf < lb.n - pre && line_eq(&la, la.n - 1 - suf, &lb, lb.n - 1 - suf))
		suf++;
	ops = malloc(la.n + lb.n + 1);
	if (!ops) {
		rc = DK_ENOMEM;
		goto out;
	}
	memset(ops, OP_EQ, pre);
	nops = pre;
	mid = myers(&la, pre, la.n - suf, &lb, pre, lb.n - suf, ops + nops);
	if (mid < 0) {
		/* Too different for a minimal script: all of one middle out, all of the other in, still a true diff. */
		line_out(d, max_lines, "(more than %d changed lines: not a minimal diff)", MAX_EDITS);
		memset(ops + nops, OP_DEL, la.n - suf - pre);
		nops += la.n - suf - pre;
		memset(ops + nops, OP_INS, lb.n - suf - pre);
		nops += lb.n - suf - pre;
	} else {
		nops += (size_t)mid;
	}
	memset(ops + nops, OP_EQ, suf);
	nops += suf;
	if (alen && blen && a[alen - 1] != b[blen - 1] && (a[alen - 1] == '\n' || b[blen - 1] == '\n'))
		line_out(d, max_lines, "(only one side ends in a newline)");
	if (only_tokens(&la, &lb, ops, (long)nops, 0))
		d->refine = DK_DA_BIT(DK_DA_DATE);
	else if (only_tokens(&la, &lb, ops, (long)nops, 1))
		d->refine = DK_DA_BIT(DK_DA_BUILD_PATH);
	line_out(d, max_lines, "--- a/%s", path);
	line_out(d, max_lines, "+++ b/%s", path);
	/* Hunks: runs of changes joined when at most 2*CONTEXT equal lines lie between them. */
	for (size_t k = 0, i = 0, j = 0, last = 0; k < nops;) {
		size_t end = k, back, fwd = 0, ai, bj, na = 0, nb = 0;

		if (ops[k] == OP_EQ) {
			k++, i++, j++;
			continue;
		}
		for (;;) {
			size_t eq = 0;

			while (end < nops && ops[end] != OP_EQ)
				end++;
			while (end + eq < nops && ops[end + eq] == OP_EQ)
				eq++;
			if (end + eq >= nops || eq > 2 * CONTEXT || eq == 0)
				break;
			end += eq;
		}
		back = k - last < CONTEXT ? k - last : CONTEXT;
		while (fwd < CONTEXT && end + fwd < nops && ops[end + fwd] == OP_EQ)
			fwd++;
		for (size_t q = k - back; q < end + fwd; q++) {
			na += ops[q] != OP_INS;
			nb += ops[q] != OP_DEL;
		}
		ai = i - back;
		bj = j - back;
		line_out(d, max_lines, "@@ -%zu,%zu +%zu,%zu @@", na ? ai + 1 : ai, na, nb ? bj + 1 : bj, nb);
		for (size_t q = k - back; q < end + fwd; q++) {
			if (ops[q] == OP_EQ) {
				show_line(d, max_lines, ' ', la.p[ai], la.len[ai]);
				ai++, bj++;
			} else if (ops[q] == OP_DEL) {
				show_line(d, max_lines, '-', la.p[ai], la.len[ai]);
				ai++;
			} else {
				show_line(d, max_lines, '+', lb.p[bj], lb.len[bj]);
				bj++;
			}
		}
		i = ai;
		j = bj;
		k = last = end + fwd;
	}
out:
	free(ops);
	free_lines(&la);
	free_lines(&lb);
	return rc ? DK_ENOMEM : 0;
}

struct elf_sec {
	char name[64];
	uint64_t off, size;
	bool nobits;
};

struct elf {
	struct elf_sec *s;
	size_t n;
	char build_id[129];
};

static uint64_t rd(const unsigned char *p, int size, bool be)
{
	uint64_t v = 0;

	for (int i = 0; i < size; i++)
		v |= (uint64_t)p[be ? size - 1 - i : i] << (8 * i);
	return v;
}

/* Section headers of an ELF file held in memory, every offset checked against its length. */
static int elf_read(struct elf *e, const unsigned char *p, size_t n)
{
	bool is64, be;
	uint64_t shoff, shentsize, shnum, shstrndx, stroff, strsize;

	memset(e, 0, sizeof(*e));
	if (n < 64 ||
	    memcmp(p,
		   "\x7f"
		   "ELF",
		   4) != 0 ||
	    (p[4] != 1 && p[4] != 2) || (p[5] != 1 && p[5] != 2))
		return DK_NOTFOUND;
	is64 = p[4] == 2;
	be = p[5] == 2;
	shoff = rd(p + (is64 ? 0x28 : 0x20), is64 ? 8 : 4, be);
	shentsize = rd(p + (is64 ? 0x3a : 0x2e), 2, be);
	shnum = rd(p + (is64 ? 0x3c : 0x30), 2, be);
	shstrndx = rd(p + (is64 ? 0x3e : 0x32), 2, be);
	if (!shnum || shentsize < (is64 ? 64u : 40u) || shoff > n || shnum * shentsize > n - shoff ||
	    shstrndx >= shnum)
		return DK_NOTFOUND;
	{
		const unsigned char *sh = p + shoff + shstrndx * shentsize;

		stroff = rd(sh + (is64 ? 0x18 : 0x10), is64 ? 8 : 4, be);
		strsize = rd(sh + (is64 ? 0x20 : 0x14), is64 ? 8 : 4, be);
		if (stroff > n || strsize > n - stroff)
			return DK_NOTFOUND;
	}
	e->s = calloc(shnum, sizeof(*e->s));
	if (!e->s)
		return DK_ENOMEM;
	for (uint64_t i = 0; i < shnum; i++) {
		const unsigned char *sh = p + shoff + i * shentsize;
		struct elf_sec *s = &e->s[e->n];
		uint64_t name = rd(sh, 4, be), type = rd(sh + 4, 4, be);
		size_t k = 0;

		s->off = rd(sh + (is64 ? 0x18 : 0x10), is64 ? 8 : 4, be);
		s->size = rd(sh + (is64 ? 0x20 : 0x14), is64 ? 8 : 4, be);
		s->nobits = type == 8;
		if (type == 0)
			continue;
		if (!s->nobits && (s->off > n || s->size > n - s->off)) {
			free(e->s);
			e->s = NULL;
			e->n = 0;
			return DK_NOTFOUND;
		}
		for (; name + k < strsize && k + 1 < sizeof(s->name) && p[stroff + name + k]; k++)
			s->name[k] = (char)p[stroff + name + k];
		s->name[k] = '\0';
		if (strcmp(s->name, ".note.gnu.build-id") == 0 && s->size >= 16 && s->size <= 16 + 64) {
			uint64_t nsz = rd(p + s->off, 4, be), dsz = rd(p + s->off + 4, 4, be);
			uint64_t doff = 12 + ((nsz + 3) & ~(uint64_t)3);

			if (doff + dsz <= s->size && dsz <= 64)
				for (uint64_t b = 0; b < dsz; b++) {
					static const char hex[] = "0123456789abcdef";

					e->build_id[2 * b] = hex[p[s->off + doff + b] >> 4];
					e->build_id[2 * b + 1] = hex[p[s->off + doff + b] & 15];
				}
		}
		e->n++;
	}
	return 0;
}

static const struct elf_sec *elf_find(const struct elf *e, const char *name)
{
	for (size_t i = 0; i < e->n; i++)
		if (strcmp(e->s[i].name, name) == 0)
			return &e->s[i];
	return NULL;
}

static bool is_build_id_section(const char *name)
{
	return strcmp(name, ".note.gnu.build-id") == 0 || strcmp(name, ".gnu_debuglink") == 0;
}

int dk_diff_elf(struct dk_diff_detail *d, const unsigned char *a, size_t alen, const unsigned char *b,
		size_t blen, size_t max_lines)
{
	struct elf ea, eb;
	size_t differ = 0, other = 0;
	int rc;

	if ((rc = elf_read(&ea, a, alen)) != 0)
		return rc;
	if ((rc = elf_read(&eb, b, blen)) != 0) {
		free(ea.s);
		return rc;
	}
	line_out(d, max_lines, "ELF: %zu sections in a, %zu in b; size %zu -> %zu", ea.n, eb.n, alen, blen);
	if (strcmp(ea.build_id, eb.build_id) != 0)
		line_out(d, max_lines, "build id: %s -> %s", ea.build_id[0] ? ea.build_id : "(none)",
			 eb.build_id[0] ? eb.build_id : "(none)");
	for (size_t i = 0; i < ea.n; i++) {
		const struct elf_sec *sa = &ea.s[i], *sb = elf_find(&eb, sa->name);

		if (!sb) {
			line_out(d, max_lines, "section %s: only in a", sa->name);
			other++;
			continue;
		}
		if (sa->nobits && sb->nobits) {
			if (sa->size != sb->size) {
				line_out(d, max_lines, "section %s: size %llu -> %llu", sa->name,
					 (unsigned long long)sa->size, (unsigned long long)sb->size);
				other++;
			}
			continue;
		}
		if (sa->size != sb->size || sa->nobits != sb->nobits ||
		    memcmp(a + sa->off, b + sb->off, sa->nobits ? 0 : sa->size) != 0) {
			line_out(d, max_lines, "section %s differs (size %llu -> %llu)", sa->name,
				 (unsigned long long)sa->size, (unsigned long long)sb->size);
			differ++;
			if (!is_build_id_section(sa->name))
				other++;
		}
	}
	for (size_t i = 0; i < eb.n; i++)
		if (!elf_find(&ea, eb.s[i].name)) {
			line_out(d, max_lines, "section %s: only in b", eb.s[i].name);
			other++;
		}
	/* Only the build id differs in the sections; then the rest of the file must be the same byte for byte. */
	if (differ && !other && alen == blen) {
		size_t pos = 0;
		bool same = true;

		for (size_t i = 0; i < ea.n && same; i++) {
			const struct elf_sec *s = &ea.s[i];

			if (!is_build_id_section(s->name) || s->nobits)
				continue;
			if (s->off >= pos) {
				same = memcmp(a + pos, b + pos, s->off - pos) == 0;
				pos = s->off + s->size;
			}
		}
		if (same && pos <= alen && memcmp(a + pos, b + pos, alen - pos) == 0)
			d->refine = DK_DA_BIT(DK_DA_BUILD_ID);
	}
	if (!differ && !other)
		line_out(d, max_lines, "no section differs: headers or padding do");
	free(ea.s);
	free(eb.s);
	return 0;
}

static void hex_row(struct dk_diff_detail *d, size_t max_lines, const char *tag, size_t off,
		    const unsigned char *p, size_t len)
{
	char hex[16 * 3 + 1], asc[17];
	size_t o = 0;

	for (size_t i = 0; i < 16; i++) {
		if (off + i < len) {
			static const char digits_hex[] = "0123456789abcdef";

			hex[o++] = digits_hex[p[off + i] >> 4];
			hex[o++] = digits_hex[p[off + i] & 15];
			asc[i] = p[off + i] >= 0x20 && p[off + i] < 0x7f ? (char)p[off + i] : '.';
		} else {
			hex[o++] = ' ';
			hex[o++] = ' ';
			asc[i] = ' ';
		}
		hex[o++] = ' ';
	}
	hex[o - 1] = '\0';
	asc[16] = '\0';
	line_out(d, max_lines, "%08zx %s %s |%s|", off, tag, hex, asc);
}

int dk_diff_hex(struct dk_diff_detail *d, const unsigned char *a, size_t alen, const unsigned char *b,
		size_t blen, size_t max_lines)
{
	size_t common = alen < blen ? alen : blen, bytes = 0, regions = 0, shown = 0;
	bool in = false;

	for (size_t i = 0; i < common; i++) {
		if (a[i] != b[i]) {
			bytes++;
			if (!in)
				regions++;
			in = true;
		} else {
			in = false;
		}
	}
	line_out(d, max_lines, "binary: size %zu -> %zu; %zu bytes differ in %zu regions of the first %zu",
		 alen, blen, bytes, regions, common);
	/* Rows of 16 bytes around each differing region, a then b. */
	for (size_t i = 0; i < (alen > blen ? alen : blen) && shown < 8;) {
		size_t row;

		if (i < common && a[i] == b[i]) {
			i++;
			continue;
		}
		row = i & ~(size_t)15;
		hex_row(d, max_lines, "a", row, a, alen);
		hex_row(d, max_lines, "b", row, b, blen);
		shown++;
		i = row + 16;
	}
	if (regions > shown)
		line_out(d, max_lines, "(%zu more differing regions)", regions - shown);
	return 0;
}

static bool looks_text(const unsigned char *p, size_t n)
{
	size_t bad = 0, look = n < 65536 ? n : 65536;

	for (size_t i = 0; i < look; i++) {
		if (p[i] == 0)
			return false;
		if (p[i] < 0x20 && p[i] != '\n' && p[i] != '\t' && p[i] != '\r' && p[i] != '\f' &&
		    p[i] != 0x1b)
			bad++;
	}
	return bad * 100 <= look;
}

static bool has(const unsigned char *p, size_t n, const char *needle)
{
	return memmem(p, n, needle, strlen(needle)) != NULL;
}

/* shadow(5): name:hash:lastchange:...: equal but for each hash's salt and the last-change day. */
static int shadow(struct dk_diff_detail *d, const char *a, size_t alen, const char *b, size_t blen,
		  size_t max_lines)
{
	struct lines la = { 0 }, lb = { 0 };
	bool only = true;

	if (split_lines(&la, a, alen) || split_lines(&lb, b, blen)) {
		free_lines(&la);
		free_lines(&lb);
		return DK_ENOMEM;
	}
	line_out(d, max_lines, "(password hashes are never shown)");
	if (la.n != lb.n)
		only = false;
	for (size_t i = 0; i < la.n && i < lb.n; i++) {
		const char *pa = la.p[i], *pb = lb.p[i];
		size_t na = la.len[i], nb = lb.len[i], fa = 0, fb = 0, sa = 0, sb = 0;
		bool pw = false, day = false, rest = false;
		int field = 0;

		while (fa <= na || fb <= nb) {
			size_t ea = fa, eb = fb;

			while (ea < na && pa[ea] != ':')
				ea++;
			while (eb < nb && pb[eb] != ':')
				eb++;
			if (fa > na || fb > nb) {
				rest = true;
				break;
			}
			if (ea - fa != eb - fb || memcmp(pa + fa, pb + fb, ea - fa) != 0) {
				if (field == 1 && ea > fa && eb > fb && pa[fa] == '$' && pb[fb] == '$')
					pw = true;
				else if (field == 2)
					day = true;
				else
					rest = true;
			}
			if (field == 0) {
				sa = ea - fa;
				sb = fa;
			}
			field++;
			fa = ea + 1;
			fb = eb + 1;
		}
		if (pw || day || rest)
			line_out(d, max_lines, "%.*s:%s%s%s", (int)sa, pa + sb,
				 pw ? " password salt/hash" : "", day ? " last-change day" : "",
				 rest ? " other fields" : "");
		if (rest)
			only = false;
	}
	if (only)
		d->refine = DK_DA_BIT(DK_DA_SHADOW);
	free_lines(&la);
	free_lines(&lb);
	return 0;
}

int dk_diff_content(struct dk_diff_detail *d, const char *path, const unsigned char *a, size_t alen,
		    const unsigned char *b, size_t blen, size_t max_lines)
{
	const char *base = strrchr(path, '/');
	int rc;

	base = base ? base + 1 : path;
	if (strcmp(base, "shadow") == 0 || strcmp(base, "shadow-") == 0 || strcmp(base, "gshadow") == 0 ||
	    strcmp(base, "gshadow-") == 0)
		return shadow(d, (const char *)a, alen, (const char *)b, blen, max_lines);
	rc = dk_diff_elf(d, a, alen, b, blen, max_lines);
	if (rc != DK_NOTFOUND)
		return rc;
	/* Key material goes into no report, whatever else differs. */
	if (has(a, alen, "PRIVATE KEY-----") || has(b, blen, "PRIVATE KEY-----") ||
	    (strncmp(base, "ssh_host_", 9) == 0 && !strstr(base, ".pub"))) {
		line_out(d, max_lines, "private key material differs (not shown); size %zu -> %zu", alen,
			 blen);
		return 0;
	}
	if (looks_text(a, alen) && looks_text(b, blen))
		return dk_diff_text(d, (const char *)a, alen, (const char *)b, blen, path, max_lines);
	return dk_diff_hex(d, a, alen, b, blen, max_lines);
}
