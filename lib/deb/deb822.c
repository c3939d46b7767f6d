/* deb822.c - the streaming deb822 stanza parser (Packages, Sources, Release, InRelease, dpkg status, control) */
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <debkeep/deb822.h>

#include "banned.h"

/*
 * The field array is allocated with an open-addressing table of field indices
 * behind it, used to find duplicate names in O(1) per field so that a hostile
 * stanza with a million fields stays linear. A slot belongs to the stanza whose
 * first field is on line `tag`: stanzas start on distinct lines, so the table
 * never needs clearing between stanzas.
 */
struct slot {
	unsigned tag;
	unsigned idx;
};

#define FIELDS_MIN 32

static const char pgp_signed[] = "-----BEGIN PGP SIGNED MESSAGE-----";
static const char pgp_sig_begin[] = "-----BEGIN PGP SIGNATURE-----";
static const char pgp_sig_end[] = "-----END PGP SIGNATURE-----";

/* One physical line: [s, e) is its text without the "\n" and a "\r" before it; next is the following line. */
struct line {
	const char *s;
	const char *e;
	const char *next;
};

static inline bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static inline unsigned char lower(unsigned char c)
{
	return (unsigned)(c - 'A') < 26u ? (unsigned char)(c + 32) : c;
}

static bool names_equal(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
			return false;
	return true;
}

/* The line starting at p->pos; its '\n' is looked for from `from` on (at most the '\n' itself). */
static inline void get_line(const struct dk_deb822 *p, const char *from, struct line *l)
{
	const char *nl = memchr(from, '\n', (size_t)(p->end - from));

	l->s = p->pos;
	l->e = nl ? nl : p->end;
	l->next = nl ? nl + 1 : p->end;
	if (l->e > l->s && l->e[-1] == '\r')
		l->e--;
}

static inline void advance(struct dk_deb822 *p, const struct line *l)
{
	p->pos = l->next;
	p->line++;
}

static inline const char *skip_blanks(const char *s, const char *e)
{
	while (s < e && is_blank(*s))
		s++;
	return s;
}

static inline const char *trim_end(const char *s, const char *e)
{
	while (e > s && is_blank(e[-1]))
		e--;
	return e;
}

/* True when the line is exactly the armor line want, trailing blanks aside. */
static bool line_is(const struct line *l, const char *want, size_t wlen)
{
	const char *e = trim_end(l->s, l->e);

	return (size_t)(e - l->s) == wlen && memcmp(l->s, want, wlen) == 0;
}

static bool line_is_blank(const struct line *l)
{
	return skip_blanks(l->s, l->e) == l->e;
}

/* One call of dk_deb822_next(): where it started, for NUL checks and line counts. */
struct scan {
	struct dk_deb822 *p;
	struct dk_err *err;
	const char *start;
	unsigned start_line;
};

DK_PRINTF(4, 5)
static int fail(struct scan *sc, int code, unsigned line, const char *fmt, ...)
{
	struct dk_deb822 *p = sc->p;
	char what[DK_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	/* An error ends the parse: a caller that calls again gets the end, never a half-checked stanza. */
	p->pos = p->end;
	p->in_pgp = false;
	return dk_err_set(sc->err, code, "%s:%u: %s", p->filename, line, what);
}

/*
 * NUL bytes are looked for with one memchr over everything a call consumed,
 * rather than byte by byte in the line loop. Returns the NUL error if the
 * input from the start of this call up to `to` holds one.
 */
static int check_nul(struct scan *sc, const char *to)
{
	const char *from = sc->start;
	const char *z = from < to ? memchr(from, '\0', (size_t)(to - from)) : NULL;
	unsigned line = sc->start_line;

	if (!z)
		return 0;
	for (const char *q = from; (q = memchr(q, '\n', (size_t)(z - q))) != NULL; q++)
		line++;
	return fail(sc, DK_EINPUT, line, "NUL byte in input");
}

/* A parse error on the current line l, unless an earlier NUL byte is the real cause. */
DK_PRINTF(3, 4)
static int fail_at(struct scan *sc, const struct line *l, const char *fmt, ...)
{
	char what[DK_ERR_MSG_MAX];
	va_list ap;
	int r = check_nul(sc, l->next);

	if (r)
		return r;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return fail(sc, DK_EINPUT, sc->p->line, "%s", what);
}

/* An error at the end of the input, reported on its last line. */
static int fail_eof(struct scan *sc, const char *what)
{
	unsigned line = sc->p->line > 1 ? sc->p->line - 1 : 1;
	int r = check_nul(sc, sc->p->end);

	return r ? r : fail(sc, DK_EINPUT, line, "%s", what);
}

static inline struct slot *slots(const struct dk_deb822 *p)
{
	return (struct slot *)(void *)(p->fields + p->cap);
}

/*
 * Field names are read eight bytes at a time: a Packages index holds a million
 * field lines whose names average eight bytes, and going byte by byte (find
 * the colon, check each character, hash it) cost more than the rest of the
 * parse. Words are read little-endian, so that the lowest flagged byte is the
 * first one in the input.
 */
static inline uint64_t load_le64(const char *s)
{
	uint64_t w;

	memcpy(&w, s, sizeof(w));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	w = __builtin_bswap64(w);
#endif
	return w;
}

#define ONES 0x0101010101010101u
#define HIGHS 0x8080808080808080u

/*
 * The high bit of each byte of w that cannot be in a field name: ':', a
 * control character or blank (below '!'), DEL or a non-ASCII byte. With the
 * high bits cleared first no sum carries into the next byte, so each byte is
 * judged on its own: x + 0x5f reaches 0x80 from '!' on, x + 1 only for DEL,
 * and (x ^ ':') + 0x7f for anything but ':'.
 */
static inline uint64_t name_stops(uint64_t w)
{
	uint64_t x = w & ~HIGHS;

	return (~((x + ONES * 0x5f) & ((x ^ ONES * ':') + ONES * 0x7f)) | (x + ONES) | w) & HIGHS;
}

static inline bool is_name_char(unsigned char c)
{
	return c >= '!' && c <= '~' && c != ':';
}

/*
 * One multiply per word of the name, ASCII case folded by setting bit 5 of
 * every byte: names equal but for case fold alike, and the few other bytes
 * it pairs ('[' and '{') only cost a compare on a collision.
 */
#define FOLD (ONES * 0x20)

static inline uint64_t hash_word(uint64_t h, uint64_t w)
{
	return (h ^ w) * 0x9e3779b97f4a7c15u;
}

/* scan_name() for the input's last bytes, fewer than eight: the last word is put together byte by byte. */
static const char *scan_name_tail(const char *s, const char *end, uint64_t h, uint32_t *hash)
{
	uint64_t w = 0;

	for (unsigned k = 0; s < end && is_name_char((unsigned char)*s); s++, k++)
		w |= (uint64_t)((unsigned char)*s | 0x20) << (8 * k);
	*hash = (uint32_t)(hash_word(h, w) >> 32);
	return s;
}

/*
 * The end of the name starting at s, that is the first byte that cannot be in
 * one (so never past its line's '\r' or '\n'), and the name's hash in *hash.
 * end is the input's end: words may be read past the line, never past that.
 */
static inline const char *scan_name(const char *s, const char *end, uint32_t *hash)
{
	uint64_t h = 0;

	for (; end - s >= 8; s += 8) {
		uint64_t w = load_le64(s), stops = name_stops(w);

		if (stops) {
			/* The lowest flag is bit 7 of the first byte after the name; keep the bytes below. */
			w = (w | FOLD) & (((stops & (0 - stops)) >> 7) - 1);
			*hash = (uint32_t)(hash_word(h, w) >> 32);
			return s + __builtin_ctzll(stops) / 8;
		}
		h = hash_word(h, w | FOLD);
	}
	return scan_name_tail(s, end, h, hash);
}

/*
 * Insert field idx into the duplicate table; returns the index of an earlier
 * field with the same name, or -1. Inlined: a Packages stanza's fields nearly
 * always land on a free slot at the first probe.
 */
static inline long dup_insert(struct dk_deb822 *p, unsigned tag, size_t idx, uint32_t h, const char *name,
			       size_t len)
{
	struct slot *tab = slots(p);
	size_t mask = 2 * p->cap - 1;

	for (size_t i = h & mask;; i = (i + 1) & mask) {
		if (tab[i].tag != tag || tab[i].idx >= idx) {
			tab[i].tag = tag;
			tab[i].idx = (unsigned)idx;
			return -1;
		}
		const struct dk_field *g = &p->fields[tab[i].idx];

		if (g->name_len == len && names_equal(g->name, name, len))
			return tab[i].idx;
	}
}

/* Make room for field n; the duplicate table moves with the array and is rebuilt for the current stanza. */
static int grow_fields(struct dk_deb822 *p, size_t n, unsigned tag)
{
	size_t cap = p->cap ? p->cap * 2 : FIELDS_MIN;
	size_t unit = sizeof(struct dk_field) + 2 * sizeof(struct slot);
	struct dk_field *f;

	if (cap > SIZE_MAX / unit || cap > UINT32_MAX)
		return DK_ENOMEM;
	f = realloc(p->fields, cap * unit);
	if (!f)
		return DK_ENOMEM;
	p->fields = f;
	p->cap = cap;
	memset(slots(p), 0, 2 * cap * sizeof(struct slot));
	if (!(p->flags & DK_DEB822_ALLOW_DUPLICATES))
		for (size_t i = 0; i < n; i++) {
			uint32_t h;

			scan_name(f[i].name, p->end, &h);
			dup_insert(p, tag, i, h, f[i].name, f[i].name_len);
		}
	return 0;
}

/*
 * "-----BEGIN PGP SIGNED MESSAGE-----" and its armor headers ("Hash: SHA256")
 * up to the blank line that starts the signed text.
 */
static int pgp_header(struct scan *sc, struct line *l)
{
	struct dk_deb822 *p = sc->p;

	advance(p, l);
	for (;;) {
		if (p->pos >= p->end)
			return fail_eof(sc, "unexpected end of PGP armor");
		get_line(p, p->pos, l);
		advance(p, l);
		if (line_is_blank(l))
			break;
	}
	p->in_pgp = true;
	return 0;
}

/*
 * The signature block ends the input: after "-----END PGP SIGNATURE-----" only
 * blank lines may follow, since text there would look signed and not be (apt
 * rejects such files too).
 */
static int pgp_signature(struct scan *sc, struct line *l)
{
	struct dk_deb822 *p = sc->p;

	advance(p, l);
	for (;;) {
		if (p->pos >= p->end)
			return fail_eof(sc, "unexpected end of PGP armor");
		get_line(p, p->pos, l);
		advance(p, l);
		if (line_is(l, pgp_sig_end, sizeof(pgp_sig_end) - 1))
			break;
	}
	while (p->pos < p->end) {
		get_line(p, p->pos, l);
		if (!line_is_blank(l))
			return fail_at(sc, l, "data after PGP signature");
		advance(p, l);
	}
	p->in_pgp = false;
	return check_nul(sc, p->end);
}

enum dash { DASH_STANZA_END, DASH_NEXT_LINE, DASH_INPUT_END };

/*
 * A line starting with '-' is OpenPGP armor or an error. Returns a negative
 * code, or what the stanza loop is to do next.
 */
static int dash_line(struct scan *sc, struct line *l, size_t nfields)
{
	struct dk_deb822 *p = sc->p;
	int r;

	if (p->in_pgp && line_is(l, pgp_sig_begin, sizeof(pgp_sig_begin) - 1)) {
		if (nfields)
			return DASH_STANZA_END;
		r = pgp_signature(sc, l);
		return r ? r : DASH_INPUT_END;
	}
	/*
	 * An unescaped copy would have to be made for a dash-escaped line, and
	 * fields are views into the input. Release and .dsc field lines never
	 * start with '-', so such a line is one this parser rejects anyway.
	 */
	if (p->in_pgp && l->e - l->s >= 2 && l->s[1] == ' ')
		return fail_at(sc, l, "dash-escaped line not supported");
	/* The armor is only accepted around the whole input: p->cap stays 0 until a field is seen. */
	if ((p->flags & DK_DEB822_PGP) && !p->in_pgp && !p->cap && !nfields &&
	    line_is(l, pgp_signed, sizeof(pgp_signed) - 1)) {
		r = pgp_header(sc, l);
		return r ? r : DASH_NEXT_LINE;
	}
	if (l->e - l->s >= 5 && memcmp(l->s, "-----", 5) == 0)
		return fail_at(sc, l, "unexpected PGP armor");
	return fail_at(sc, l, "field name cannot start with '-'");
}

/*
 * The name on line l is not followed right away by ':': blanks before the
 * colon (allowed, as dpkg does, but not inside the name), or an error. Sets
 * the name's end and the colon.
 */
static int odd_name(struct scan *sc, const struct line *l, const char **ne, const char **colon)
{
	const char *s = l->s;

	*colon = memchr(s, ':', (size_t)(l->e - s));
	if (!*colon)
		return fail_at(sc, l, "line without ':'");
	*ne = trim_end(s, *colon);
	if (*ne == s)
		return fail_at(sc, l, "empty field name");
	for (const char *q = s; q < *ne; q++)
		if (!is_name_char((unsigned char)*q))
			return fail_at(sc, l, "invalid character in field name");
	return 0;
}

/*
 * The line at p->pos, "Name: value", becomes field n of the stanza whose first
 * field is on line tag; l is set to the line.
 */
static int add_field(struct scan *sc, struct line *l, size_t n, unsigned tag)
{
	struct dk_deb822 *p = sc->p;
	const char *s = p->pos, *ne, *colon, *v, *ve;
	struct dk_field *f;
	uint32_t h;
	int r;

	ne = colon = scan_name(s, p->end, &h);
	if (colon < p->end && *colon == ':' && colon > s) {
		/* A name can hold no '\n': the line's end is looked for from the colon on. */
		get_line(p, colon, l);
	} else {
		get_line(p, s, l);
		r = odd_name(sc, l, &ne, &colon);
		if (r)
			return r;
	}
	v = skip_blanks(colon + 1, l->e);
	ve = trim_end(v, l->e);
	if (n == p->cap && grow_fields(p, n, tag))
		return fail(sc, DK_ENOMEM, p->line, "out of memory for %zu fields", n + 1);
	f = &p->fields[n];
	f->name = s;
	f->name_len = (size_t)(ne - s);
	f->value = v;
	f->value_len = (size_t)(ve - v);
	f->line = p->line;
	f->multiline = false;
	if (!(p->flags & DK_DEB822_ALLOW_DUPLICATES) && dup_insert(p, tag, n, h, s, f->name_len) >= 0)
		return fail_at(sc, l, "duplicate field '%.*s'", (int)(f->name_len > 64 ? 64 : f->name_len), s);
	return 0;
}

void dk_deb822_init(struct dk_deb822 *p, const char *data, size_t len, const char *filename, unsigned flags)
{
	p->pos = data;
	p->end = data ? data + len : data;
	p->filename = filename ? filename : "(input)";
	p->line = 1;
	p->flags = flags;
	p->in_pgp = false;
	p->fields = NULL;
	p->cap = 0;
}

void dk_deb822_release(struct dk_deb822 *p)
{
	free(p->fields);
	p->fields = NULL;
	p->cap = 0;
}

/* What a line is, by its first byte: a '\r' may end an empty CRLF line or start a field line in error. */
enum line_kind { LINE_FIELD, LINE_BLANK, LINE_COMMENT, LINE_DASH, LINE_CR };

static const unsigned char line_kind[256] = {
	['\n'] = LINE_BLANK, [' '] = LINE_BLANK, ['\t'] = LINE_BLANK, ['#'] = LINE_COMMENT, ['-'] = LINE_DASH,
	['\r'] = LINE_CR,
};

int dk_deb822_next(struct dk_deb822 *p, struct dk_stanza *st, struct dk_err *err)
{
	struct scan sc = { p, err, p->pos, p->line };
	unsigned tag = 0;
	size_t n = 0;
	struct line l;
	int r;

	st->fields = p->fields;
	st->nfields = 0;
	st->line = 0;
	/* Line numbers (and so the duplicate table's tags) must not wrap: refuse such input up front. */
	if ((size_t)(p->end - p->pos) >= UINT_MAX - p->line)
		return fail(&sc, DK_EINPUT, p->line, "input too large");
	while (p->pos < p->end) {
		enum line_kind kind = line_kind[(unsigned char)*p->pos];

		if (kind == LINE_CR) {
			get_line(p, p->pos, &l);
			kind = l.s == l.e ? LINE_BLANK : LINE_FIELD;
		}
		/* Field lines are the common case: add_field() splits them off itself, more cheaply. */
		if (kind == LINE_FIELD) {
			if (!n)
				tag = p->line;
			r = add_field(&sc, &l, n, tag);
			if (r)
				return r;
			n++;
			advance(p, &l);
			continue;
		}
		get_line(p, p->pos, &l);
		switch (kind) {
		case LINE_BLANK:
			/*
			 * Whitespace-only lines separate stanzas, as in deb822(5) and
			 * dpkg's Dpkg::Control; dpkg's C parser instead warns and keeps
			 * them inside the value, which turns the next stanza into
			 * duplicate fields.
			 */
			if (skip_blanks(l.s, l.e) == l.e) {
				advance(p, &l);
				if (n)
					goto done;
				continue;
			}
			if (!n)
				return fail_at(&sc, &l, "continuation line outside a field");
			p->fields[n - 1].multiline = true;
			p->fields[n - 1].value_len = (size_t)(trim_end(l.s, l.e) - p->fields[n - 1].value);
			break;
		case LINE_COMMENT:
			/* Comment lines inside a folded value stay in its raw view; dk_field_value() skips them. */
			if (!(p->flags & DK_DEB822_ALLOW_COMMENTS))
				return fail_at(&sc, &l, "comment line not allowed here");
			break;
		default:
			r = dash_line(&sc, &l, n);
			if (r < 0)
				return r;
			if (r == DASH_INPUT_END)
				return 0;
			if (r == DASH_STANZA_END)
				goto done;
			continue;
		}
		advance(p, &l);
	}
done:
	if (p->in_pgp && p->pos >= p->end)
		return fail_eof(&sc, "unexpected end of PGP armor");
	r = check_nul(&sc, p->pos);
	if (r)
		return r;
	st->fields = p->fields;
	st->nfields = n;
	st->line = tag;
	return n ? 1 : 0;
}

const struct dk_field *dk_stanza_get(const struct dk_stanza *st, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = st->nfields; i-- > 0;) {
		const struct dk_field *f = &st->fields[i];

		if (f->name_len == len && names_equal(f->name, name, len))
			return f;
	}
	return NULL;
}

bool dk_field_is(const struct dk_field *f, const char *name)
{
	size_t len = strlen(name);

	return f->name_len == len && names_equal(f->name, name, len);
}

int dk_field_value(const struct dk_field *f, struct dk_buf *out)
{
	const char *s = f->value, *end = f->value + f->value_len;
	bool first = true;
	int r;

	/* The logical value is never longer than the raw one: one reservation, then plain appends. */
	r = dk_buf_grow(out, f->value_len);
	if (r)
		return r;
	for (;;) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *e = nl ? nl : end;

		if (first || s == e || *s != '#') {
			if (!first && s < e && is_blank(*s))
				s++;
			if (e > s && e[-1] == '\r')
				e--;
			e = trim_end(s, e);
			if (!first && e - s == 1 && *s == '.')
				e = s;
			if (!first)
				dk_buf_addc(out, '\n');
			dk_buf_add(out, s, (size_t)(e - s));
		}
		if (!nl)
			break;
		s = nl + 1;
		first = false;
	}
	return out->failed ? DK_ENOMEM : 0;
}
