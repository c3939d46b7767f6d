/* tracker.c - parsers for the security tracker's data/CVE/list and its DSA, DLA and DTSA lists */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <debkeep/buf.h>
#include <debkeep/input.h>
#include <debkeep/tracker.h>
#include <debkeep/utf8.h>
#include <debkeep/version.h>

#include "banned.h"

static const char *const fix_kind_names[DK_FIX_KIND_COUNT] = {
	[DK_FIX_VERSION] = "",
	[DK_FIX_UNFIXED] = "unfixed",
	[DK_FIX_NOT_AFFECTED] = "not-affected",
	[DK_FIX_REMOVED] = "removed",
	[DK_FIX_ITP] = "itp",
	[DK_FIX_UNDETERMINED] = "undetermined",
	[DK_FIX_NO_DSA] = "no-dsa",
	[DK_FIX_POSTPONED] = "postponed",
	[DK_FIX_IGNORED] = "ignored",
	[DK_FIX_EOL] = "end-of-life",
};

const char *dk_fix_kind_name(enum dk_fix_kind k)
{
	return k < DK_FIX_KIND_COUNT ? fix_kind_names[k] : "?";
}

static const unsigned char fix_kind_lens[DK_FIX_KIND_COUNT] = { 0, 7, 12, 7, 3, 12, 6, 9, 7, 11 };

int dk_fix_kind_parse(const char *s, size_t n, enum dk_fix_kind *k)
{
	for (int i = 1; i < DK_FIX_KIND_COUNT; i++) {
		if (fix_kind_lens[i] == n && memcmp(fix_kind_names[i], s, n) == 0) {
			*k = (enum dk_fix_kind)i;
			return 0;
		}
	}
	return DK_NOTFOUND;
}

const char *dk_cve_kind_name(enum dk_cve_kind k)
{
	static const char *const names[] = { "", "RESERVED", "REJECTED", "NOT-FOR-US" };

	return k <= DK_CVE_NFU ? names[k] : "?";
}

void dk_tracker_release(struct dk_tracker *t)
{
	dk_arena_release(&t->arena);
	dk_strpool_release(&t->cves);
	dk_strpool_release(&t->sources);
	dk_strpool_release(&t->notes);
	free(t->entries);
	free(t->fixes);
	free(t->advisories);
	*t = (struct dk_tracker)DK_TRACKER_INIT;
}

/* The state of one file's parse: where we are, for messages. */
struct lp {
	struct dk_tracker *t;
	const char *name;
	unsigned line;
	struct dk_err *err;
	const char *releases[32]; /* a handful of release names, each stored once */
	size_t release_lens[32];
	unsigned nreleases;
	/* the source of the last line kept: an entry's release lines repeat it */
	const char *last_src;
	size_t last_srclen;
	dk_id last_source;
};

DK_PRINTF(2, 3) static int fail(struct lp *p, const char *fmt, ...)
{
	char msg[DK_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return dk_err_set(p->err, DK_EINPUT, "%s:%u: %s", p->name, p->line, msg);
}

static int oom(struct lp *p)
{
	return dk_err_set(p->err, DK_ENOMEM, "%s:%u: out of memory", p->name, p->line);
}

static inline bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static inline bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static inline bool is_alnum(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static const char *skip_blanks(const char *s, const char *e)
{
	while (s < e && is_blank(*s))
		s++;
	return s;
}

static bool starts(const char *s, const char *e, const char *word)
{
	size_t n = strlen(word);

	return (size_t)(e - s) >= n && memcmp(s, word, n) == 0;
}

/* Free text may be UTF-8 (names in notes); anything else, and control characters, are refused. */
static int check_text(struct lp *p, const char *s, const char *e, const char *what)
{
	const unsigned char *u = (const unsigned char *)s, *ue = (const unsigned char *)e;

	while (u < ue) {
		size_t len;

		/* Eight printable ASCII bytes at a time: no byte below 0x20, none from 0x80 up. */
		if (ue - u >= 8) {
			uint64_t x;

			memcpy(&x, u, 8);
			if (((((x - 0x2020202020202020ULL) & ~x) | x) & 0x8080808080808080ULL) == 0) {
				u += 8;
				continue;
			}
		}

		if (*u < 0x80) {
			if (*u < 0x20 && *u != '\t')
				return fail(p, "control character 0x%02x in %s", *u, what);
			u++;
			continue;
		}
		len = dk_utf8_seq(u, (size_t)(ue - u));
		if (!len)
			return fail(p, "non-ASCII byte 0x%02x in %s is not UTF-8", *u, what);
		u += len;
	}
	return 0;
}

/* A byte that may not stand in a name or version: say which, so a stray UTF-8 byte is recognisable. */
static int bad_char(struct lp *p, char c, const char *what)
{
	if ((unsigned char)c >= 0x80)
		return fail(p, "non-ASCII byte 0x%02x in %s", (unsigned char)c, what);
	return fail(p, "invalid character '%c' in %s", c, what);
}

/*
 * A copy of s[0..n) with a NUL after it, packed after the previous one: the
 * arena would round each up to 16 bytes, a third more for the short strings
 * of a list (versions, notes), and memory first touched costs more than
 * the copy does.
 */
static char *text_dup(struct dk_tracker *t, const char *s, size_t n)
{
	char *d;

	if ((size_t)(t->text_end - t->text_next) <= n) {
		size_t bs = n < 65536 ? 65536 : n + 1;

		if (!(d = dk_arena_alloc(&t->arena, bs)))
			return NULL;
		t->text_next = d;
		t->text_end = d + bs;
	}
	d = t->text_next;
	if (n)
		memcpy(d, s, n);
	d[n] = '\0';
	t->text_next += n + 1;
	return d;
}

static char *dup(struct lp *p, const char *s, const char *e)
{
	return text_dup(p->t, s, (size_t)(e - s));
}

/*
 * The entries and lines arrays are filled in order, tens of megabytes of
 * them: each is populated (dk_mem_populate) a window of this many elements
 * ahead, when the parser reaches the window's first element.
 */
#define POPULATE_WINDOW 4096

static void populate_window(void *base, size_t i, size_t alloc, size_t size)
{
	size_t n = alloc - i < POPULATE_WINDOW ? alloc - i : POPULATE_WINDOW;

	if (i % POPULATE_WINDOW == 0)
		dk_mem_populate((char *)base + i * size, n * size);
}

/* The entry for a CVE name, created (not yet defined) when new; NULL when out of memory. */
static struct dk_tracker_entry *entry_for(struct dk_tracker *t, const char *s, size_t n, dk_id *idp)
{
	uint32_t known = dk_strpool_count(&t->cves);
	dk_id id = dk_strpool_intern(&t->cves, s, n);

	if (!id)
		return NULL;
	if (id >= t->entries_alloc) {
		size_t na = t->entries_alloc ? t->entries_alloc * 2 : 4096;
		struct dk_tracker_entry *ne;

		while (na <= id)
			na *= 2;
		ne = realloc(t->entries, na * sizeof(*ne));
		if (!ne)
			return NULL;
		t->entries = ne;
		t->entries_alloc = na;
	}
	/* Ids come in sequence: an entry is cleared when its id is new, not the whole growth ahead of time. */
	if (dk_strpool_count(&t->cves) != known) {
		populate_window(t->entries, id, t->entries_alloc, sizeof(*t->entries));
		memset(&t->entries[id], 0, sizeof(t->entries[id]));
	}
	if (!t->entries[id].name)
		t->entries[id].name = dk_strpool_str(&t->cves, id);
	*idp = id;
	return &t->entries[id];
}

/* A new line at the end of t->fixes, not cleared: every caller writes the whole of it. */
static struct dk_tracker_fix *new_fix(struct dk_tracker *t)
{
	if (t->nfixes == t->fixes_alloc) {
		size_t na = t->fixes_alloc ? t->fixes_alloc * 2 : 4096;
		struct dk_tracker_fix *nf = realloc(t->fixes, na * sizeof(*nf));

		if (!nf)
			return NULL;
		t->fixes = nf;
		t->fixes_alloc = na;
	}
	populate_window(t->fixes, t->nfixes, t->fixes_alloc, sizeof(*t->fixes));
	return &t->fixes[t->nfixes++];
}

/* CVE-YYYY-NNNN (four or more digits) or TEMP-NNNNNNN-XXXXXX; returns the end of the id or NULL. */
static const char *scan_id(const char *s, const char *e)
{
	const char *q;

	if (starts(s, e, "CVE-")) {
		q = s + 4;
		for (int i = 0; i < 4; i++, q++)
			if (q >= e || !is_digit(*q))
				return NULL;
		if (q >= e || *q++ != '-')
			return NULL;
		s = q;
		while (q < e && is_digit(*q))
			q++;
		return q - s >= 4 ? q : NULL;
	}
	if (starts(s, e, "TEMP-")) {
		q = s + 5;
		while (q < e && (is_digit(*q) || (*q >= 'A' && *q <= 'F') || (*q >= 'a' && *q <= 'f') || *q == '-'))
			q++;
		return q > s + 5 ? q : NULL;
	}
	return NULL;
}

static const char *const urgencies[] = { "unimportant", "low", "medium", "high", "not yet assigned" };
static const unsigned char urgency_lens[] = { 11, 3, 6, 4, 16 };

static bool is_urgency(const char *s, const char *e)
{
	const char *stars = e;

	/* "low**": the urgency came from outside (NVD), not from a person. */
	while (stars > s && stars[-1] == '*')
		stars--;
	for (size_t i = 0; i < sizeof(urgencies) / sizeof(urgencies[0]); i++)
		if ((size_t)(stars - s) == urgency_lens[i] && memcmp(s, urgencies[i], (size_t)(stars - s)) == 0)
			return true;
	return false;
}

/* The common urgencies are shared strings rather than a copy per line. */
static const char *urgency_str(struct lp *p, const char *s, const char *e)
{
	for (size_t i = 0; i < sizeof(urgencies) / sizeof(urgencies[0]); i++)
		if ((size_t)(e - s) == urgency_lens[i] && memcmp(s, urgencies[i], (size_t)(e - s)) == 0)
			return urgencies[i];
	return dup(p, s, e);
}

/* "(low; bug #123)" or "(Minor issue)": urgency and bug where they are, the rest kept as the note. */
static int parse_annotations(struct lp *p, struct dk_tracker_fix *f, const char *s, const char *e)
{
	const char *note = NULL;
	size_t note_len = 0;
	int r;

	if ((r = check_text(p, s, e, "annotation")) < 0)
		return r;
	while (s < e) {
		const char *q = memchr(s, ';', (size_t)(e - s)), *pe, *ps;

		pe = q ? q : e;
		ps = skip_blanks(s, pe);
		while (pe > ps && is_blank(pe[-1]))
			pe--;
		if (is_urgency(ps, pe)) {
			if (!(f->urgency = urgency_str(p, ps, pe)))
				return oom(p);
		} else if (starts(ps, pe, "bug #") && pe > ps + 5) {
			uint32_t bug = 0;

			for (const char *d = ps + 5; d < pe; d++) {
				if (!is_digit(*d) || bug > 400000000)
					return fail(p, "malformed bug number '%.*s'", (int)(pe - ps), ps);
				bug = bug * 10 + (uint32_t)(*d - '0');
			}
			f->bug = bug;
		} else if (pe - ps == 9 && memcmp(ps, "bug filed", 9) == 0) {
			/* the tracker's placeholder before a number is known */
		} else if (pe > ps) {
			/* Free text such as the reason of a <no-dsa>: kept whole, with any ';' inside it. */
			if (!note)
				note = ps;
			note_len = (size_t)(e - note);
			while (note_len && is_blank(note[note_len - 1]))
				note_len--;
			break;
		}
		s = q ? q + 1 : e;
	}
	if (note) {
		dk_id id = dk_strpool_intern(&p->t->notes, note, note_len);

		if (!id)
			return oom(p);
		f->note = dk_strpool_str(&p->t->notes, id);
	}
	return 0;
}

/*
 * "src version (annotations)" after the "- " of a package line, into *f
 * (not yet added: the caller decides whether to keep it); release is NULL
 * for an unstable line. *src and *srclen name the source in the line; the
 * version still points into the line, *vlen bytes long.
 */
static int parse_package(struct lp *p, const char *s, const char *e, const char *release, struct dk_tracker_fix *f,
			 const char **srcp, size_t *srclen, size_t *vlen)
{
	const char *src = s, *v, *ve;
	struct dk_version ver;
	int n, r;

	while (s < e && !is_blank(*s)) {
		char c = *s;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '.' || c == '+' ||
		      c == '-'))
			return bad_char(p, c, "package name");
		s++;
	}
	if (s == src)
		return fail(p, "package line without a package name");
	memset(f, 0, sizeof(*f));
	*vlen = 0;
	f->release = release;
	*srcp = src;
	*srclen = (size_t)(s - src);
	n = (int)*srclen;
	v = skip_blanks(s, e);
	if (v == e)
		return fail(p, "package line for %.*s without a version", n, src);
	if (*v == '<') {
		ve = memchr(v, '>', (size_t)(e - v));
		if (!ve)
			return fail(p, "unterminated '<' in the version of %.*s", n, src);
		if (dk_fix_kind_parse(v + 1, (size_t)(ve - v - 1), &f->kind) != 0)
			return fail(p, "unknown pseudo version '%.*s'", (int)(ve - v + 1), v);
		ve++;
		if (!release && f->kind >= DK_FIX_NO_DSA)
			return fail(p, "'<%s>' belongs on a release line, not on the unstable line",
				    dk_fix_kind_name(f->kind));
	} else {
		ve = v;
		while (ve < e && !is_blank(*ve) && *ve != '(')
			ve++;
		for (const char *c = v; c < ve; c++)
			if ((unsigned char)*c >= 0x80)
				return bad_char(p, *c, "version");
		/* Checked without an error first: a message costs a 512-byte clear on every line. */
		if (dk_version_parse(&ver, v, (size_t)(ve - v), NULL) < 0) {
			struct dk_err verr = DK_ERR_INIT;

			dk_version_parse(&ver, v, (size_t)(ve - v), &verr);
			return fail(p, "malformed version '%.*s' of %.*s: %s", (int)(ve - v), v, n, src, verr.msg);
		}
		f->kind = DK_FIX_VERSION;
		f->version = v;
		*vlen = (size_t)(ve - v);
	}
	s = skip_blanks(ve, e);
	if (s < e) {
		if (*s != '(' || e[-1] != ')')
			return fail(p, "unexpected '%.*s' after the version of %.*s", (int)(e - s), s, n, src);
		if ((r = parse_annotations(p, f, s + 1, e - 1)) < 0)
			return r;
	}
	return 0;
}

/* Add a parsed line (f from parse_package) to the tracker, for entry cve. */
static int keep_fix(struct lp *p, struct dk_tracker_fix *f, dk_id cve, const char *src, size_t srclen, size_t vlen)
{
	struct dk_tracker_fix *nf;

	f->cve = cve;
	if (p->last_source && srclen == p->last_srclen && memcmp(src, p->last_src, srclen) == 0) {
		f->source = p->last_source;
	} else {
		if (!(f->source = dk_strpool_intern(&p->t->sources, src, srclen)))
			return oom(p);
		p->last_src = src;
		p->last_srclen = srclen;
		p->last_source = f->source;
	}
	if (f->kind == DK_FIX_VERSION && !(f->version = text_dup(p->t, f->version, vlen)))
		return oom(p);
	if (!(nf = new_fix(p->t)))
		return oom(p);
	*nf = *f;
	return 0;
}

static bool wanted(const struct lp *p, const char *src, size_t srclen)
{
	return !p->t->only || dk_strpool_lookup(p->t->only, src, srclen) != 0;
}

/* "[release] - src ...": returns the release (interned in the arena) and the start of "src ...". */
static int parse_release_prefix(struct lp *p, const char *s, const char *e, const char **release, const char **rest)
{
	const char *q = s + 1;

	while (q < e && *q != ']') {
		if (!((*q >= 'a' && *q <= 'z') || is_digit(*q) || *q == '-'))
			return bad_char(p, *q, "release name");
		q++;
	}
	if (q == e || q == s + 1)
		return fail(p, "malformed release '%.*s'", (int)(e - s), s);
	*release = NULL;
	for (unsigned i = 0; i < p->nreleases && !*release; i++)
		if (p->release_lens[i] == (size_t)(q - s - 1) &&
		    memcmp(p->releases[i], s + 1, (size_t)(q - s - 1)) == 0)
			*release = p->releases[i];
	if (!*release) {
		if (!(*release = dup(p, s + 1, q)))
			return oom(p);
		if (p->nreleases < sizeof(p->releases) / sizeof(p->releases[0])) {
			p->release_lens[p->nreleases] = (size_t)(q - s - 1);
			p->releases[p->nreleases++] = *release;
		}
	}
	q = skip_blanks(q + 1, e);
	if (q + 1 >= e || q[0] != '-' || !is_blank(q[1]))
		return fail(p, "release line without '- PACKAGE VERSION'");
	*rest = skip_blanks(q + 2, e);
	return 0;
}

/* "{A B C}": the tokens, space-separated, checked with check (NULL: any advisory-like token). */
static int parse_refs(struct lp *p, const char *s, const char *e, bool cves, const char **out)
{
	struct dk_buf b = DK_BUF_INIT;
	int r = 0;

	if (e[-1] != '}')
		return fail(p, "unterminated '{'");
	s++;
	e--;
	while ((s = skip_blanks(s, e)) < e) {
		const char *q = s;

		while (q < e && !is_blank(*q))
			q++;
		if (cves) {
			if (scan_id(s, q) != q)
				r = fail(p, "malformed CVE id '%.*s' in '{...}'", (int)(q - s), s);
		} else {
			const char *d = s;

			while (d < q && *d >= 'A' && *d <= 'Z')
				d++;
			if (d == s || d == q || *d != '-')
				r = fail(p, "malformed advisory id '%.*s' in '{...}'", (int)(q - s), s);
			for (d++; d < q && !r; d++)
				if (!is_digit(*d) && *d != '-')
					r = bad_char(p, *d, "advisory id");
		}
		if (r < 0)
			break;
		if (b.len)
			dk_buf_addc(&b, ' ');
		dk_buf_add(&b, s, (size_t)(q - s));
		s = q;
	}
	if (!r && b.failed)
		r = oom(p);
	if (!r && !(*out = text_dup(p->t, b.data, b.len)))
		r = oom(p);
	dk_buf_release(&b);
	return r;
}

/* Join a second "{...}" line to the first. */
static const char *join_refs(struct lp *p, const char *a, const char *b)
{
	size_t na, nb;
	char *s;

	if (!a || !*a)
		return b;
	if (!*b)
		return a;
	na = strlen(a);
	nb = strlen(b);
	s = dk_arena_alloc(&p->t->arena, na + nb + 2);
	if (!s)
		return NULL;
	memcpy(s, a, na);
	s[na] = ' ';
	memcpy(s + na + 1, b, nb + 1);
	return s;
}

/* Iterate lines: [*s, *le) without the newline and trailing blanks; false at the end. */
static bool next_line(struct lp *p, const char **pos, const char *end, const char **s, const char **le)
{
	const char *nl;

	if (*pos >= end)
		return false;
	*s = *pos;
	nl = memchr(*pos, '\n', (size_t)(end - *pos));
	*le = nl ? nl : end;
	*pos = nl ? nl + 1 : end;
	while (*le > *s && (is_blank((*le)[-1]) || (*le)[-1] == '\r'))
		(*le)--;
	p->line++;
	return true;
}

/*
 * The entry being read. With a filter (t->only), it is added to the tracker
 * only when one of its lines is kept: until then its texts stay in the input.
 */
struct cur_entry {
	dk_id id; /* 0 until added */
	const char *name, *desc, *nfu;
	size_t name_len, desc_len, nfu_len;
	const char *refs;
	const char *notes, *notes_end; /* from the first NOTE line to the end of the last one */
	unsigned line;
	unsigned nlines; /* package lines, kept or not */
	enum dk_cve_kind kind;
	/* sources with an unstable line so far: a release line needs one before it */
	const char *unstable[16];
	size_t unstable_len[16];
	unsigned nunstable;
	bool overflow;
};

static int add_entry(struct lp *p, struct cur_entry *c)
{
	struct dk_tracker_entry *ent;

	if (!(ent = entry_for(p->t, c->name, c->name_len, &c->id)))
		return oom(p);
	if (ent->defined)
		return fail(p, "duplicate entry %s (first at line %u)", ent->name, ent->line);
	ent->defined = 1;
	ent->line = c->line;
	ent->kind = c->kind;
	ent->refs = c->refs;
	if (c->nfu && !(ent->nfu = text_dup(p->t, c->nfu, c->nfu_len)))
		return oom(p);
	return 0;
}

/*
 * Most entries have no package line (NOT-FOR-US, RESERVED, REJECTED): their
 * descriptions are copied out of the input only once a line is kept.
 */
static int keep_description(struct lp *p, struct cur_entry *c)
{
	struct dk_tracker_entry *ent = &p->t->entries[c->id];

	if (c->desc && !ent->description && !(ent->description = text_dup(p->t, c->desc, c->desc_len)))
		return oom(p);
	return 0;
}

static int parse_header(struct lp *p, const char *s, const char *e, struct cur_entry *c)
{
	const char *q = scan_id(s, e), *d;
	int r;

	if (!q || (q < e && !is_blank(*q)))
		return fail(p, "malformed entry header '%.*s'", (int)(e - s > 40 ? 40 : e - s), s);
	/* Not a memset: the source arrays are read only up to nunstable, and there is an entry per header. */
	c->id = 0;
	c->desc = c->nfu = c->refs = c->notes = c->notes_end = NULL;
	c->desc_len = c->nfu_len = 0;
	c->nlines = 0;
	c->kind = DK_CVE_NORMAL;
	c->nunstable = 0;
	c->overflow = false;
	c->name = s;
	c->name_len = (size_t)(q - s);
	c->line = p->line;
	d = skip_blanks(q, e);
	if (d < e) {
		if (!((*d == '(' && e[-1] == ')') || (*d == '[' && e[-1] == ']')) || e - d < 2)
			return fail(p, "malformed description of %.*s: expected '(...)' or '[...]'", (int)c->name_len,
				    c->name);
		if ((r = check_text(p, d + 1, e - 1, "the description")) < 0)
			return r;
		c->desc = d + 1;
		c->desc_len = (size_t)(e - 1 - c->desc);
	}
	/* Without a filter every entry is kept: add it now, which also finds duplicates. */
	return p->t->only ? 0 : add_entry(p, c);
}

static bool has_unstable_line(const struct cur_entry *c, const char *src, size_t n)
{
	if (c->overflow)
		return true; /* more sources than we track: do not report what we cannot check */
	for (unsigned i = 0; i < c->nunstable; i++)
		if (c->unstable_len[i] == n && memcmp(c->unstable[i], src, n) == 0)
			return true;
	return false;
}

/* A package line of the current entry, unstable (release NULL) or for a release. */
static int entry_line(struct lp *p, struct cur_entry *c, const char *s, const char *e, const char *release)
{
	struct dk_tracker_fix f;
	const char *src;
	size_t srclen, vlen;
	int r;

	if ((r = parse_package(p, s, e, release, &f, &src, &srclen, &vlen)) < 0)
		return r;
	c->nlines++;
	if (!release) {
		if (c->nunstable < sizeof(c->unstable) / sizeof(c->unstable[0])) {
			c->unstable[c->nunstable] = src;
			c->unstable_len[c->nunstable++] = srclen;
		} else {
			c->overflow = true;
		}
	} else if (!has_unstable_line(c, src, srclen)) {
		return fail(p, "release line for %.*s without its package line '- %.*s ...' before it", (int)srclen,
			    src, (int)srclen, src);
	}
	if (!wanted(p, src, srclen))
		return 0;
	if ((!c->id && (r = add_entry(p, c)) < 0) || (r = keep_description(p, c)) < 0)
		return r;
	return keep_fix(p, &f, c->id, src, srclen, vlen);
}

int dk_tracker_note_words(const char *s, size_t n, int (*fn)(void *ctx, const char *w, size_t n), void *ctx)
{
	const char *e = s + n;
	char w[100];

	while (s < e) {
		const char *ws, *we;
		size_t k = 0;
		int r;

		while (s < e && !is_alnum(*s))
			s++;
		ws = s;
		while (s < e && (is_alnum(*s) || *s == '.' || *s == '+' || *s == '-'))
			s++;
		we = s;
		while (we > ws && (we[-1] == '.' || we[-1] == '-' || we[-1] == '+'))
			we--;
		if (we - ws < 2 || we - ws > (ptrdiff_t)sizeof(w))
			continue;
		for (const char *q = ws; q < we; q++)
			w[k++] = *q >= 'A' && *q <= 'Z' ? (char)(*q | 0x20) : *q;
		if ((r = fn(ctx, w, k)) != 0)
			return r;
	}
	return 0;
}

static int only_has(void *ctx, const char *w, size_t n)
{
	return dk_strpool_lookup(ctx, w, n) != 0;
}

/* The NOTE texts between s and e (annotation lines of one entry), one per line, into the arena. */
static const char *collect_notes(struct lp *p, const char *s, const char *e)
{
	struct dk_buf b = DK_BUF_INIT;
	const char *out;

	while (s < e) {
		const char *nl = memchr(s, '\n', (size_t)(e - s)), *le = nl ? nl : e, *a = skip_blanks(s, le);

		while (le > a && (is_blank(le[-1]) || le[-1] == '\r'))
			le--;
		if (starts(a, le, "NOTE:")) {
			a = skip_blanks(a + 5, le);
			if (b.len)
				dk_buf_addc(&b, '\n');
			dk_buf_add(&b, a, (size_t)(le - a));
		}
		s = nl ? nl + 1 : e;
	}
	out = b.failed ? NULL : text_dup(p->t, b.data, b.len);
	dk_buf_release(&b);
	return out;
}

/*
 * The end of an entry. A RESERVED entry without a package line may name its
 * package only in a NOTE (an embargoed issue: "NOTE: openssl, embargoed
 * until ..."): its notes are kept for a scan to look for the target's source
 * names in; with a filter, only when a note names one of its sources.
 */
static int finish_entry(struct lp *p, struct cur_entry *c)
{
	const char *notes;
	int r;

	if (c->kind != DK_CVE_RESERVED || c->nlines || !c->notes)
		return 0;
	if (!c->id) {
		if (!dk_tracker_note_words(c->notes, (size_t)(c->notes_end - c->notes), only_has, (void *)p->t->only))
			return 0;
		if ((r = add_entry(p, c)) < 0 || (r = keep_description(p, c)) < 0)
			return r;
	} else if ((r = keep_description(p, c)) < 0) {
		return r;
	}
	if (!(notes = collect_notes(p, c->notes, c->notes_end)))
		return oom(p);
	p->t->entries[c->id].notes = notes;
	return 0;
}

/*
 * About how many entries a list of len bytes holds, from the headers in its
 * first MiB, a quarter added: enough to size the CVE pool once, and not so
 * many that its table spreads over pages that stay empty. Capped at ten
 * times the real list, so a file that only starts like one costs little
 * before its first bad line.
 */
#define ESTIMATE_SAMPLE ((size_t)1 << 20)
#define ESTIMATE_MAX 3000000

static uint32_t estimate_entries(const char *data, size_t len)
{
	size_t sample = len < ESTIMATE_SAMPLE ? len : ESTIMATE_SAMPLE, n = 0;
	const char *p = data, *end = data + sample;
	uint64_t est;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		n += *p == 'C' || *p == 'T';
		if (!nl)
			break;
		p = nl + 1;
	}
	if (!sample)
		return 0;
	est = (uint64_t)n * len / sample;
	est += est / 4;
	return est > ESTIMATE_MAX ? ESTIMATE_MAX : (uint32_t)est;
}

int dk_tracker_parse_cve_list(struct dk_tracker *t, const char *data, size_t len, const char *name, struct dk_err *err)
{
	struct lp p = { .t = t, .name = name, .err = err };
	const char *pos = data, *end = data + len, *s, *e;
	struct cur_entry c;
	bool have = false;
	int r;

	memset(&c, 0, sizeof(c));
	/*
	 * Only a hint: a pool that cannot grow now fails at its first new name,
	 * as it would have. A load for a target's sources keeps few entries.
	 */
	if (!t->only)
		dk_strpool_reserve(&t->cves, estimate_entries(data, len));
	while (next_line(&p, &pos, end, &s, &e)) {
		struct dk_tracker_entry *ent;
		const char *a;

		if (s == e)
			continue;
		if (!is_blank(*s)) {
			if ((have && (r = finish_entry(&p, &c)) < 0) || (r = parse_header(&p, s, e, &c)) < 0)
				return r;
			have = true;
			continue;
		}
		a = skip_blanks(s, e);
		if (!have) {
			if (*a == '-' || *a == '[')
				return fail(&p, "package line before any entry header");
			return fail(&p, "annotation before any entry header");
		}
		/* Annotations go to the added entry, or wait in c until it is added. */
		ent = c.id ? &t->entries[c.id] : NULL;
		if (*a == '-' && a + 1 < e && is_blank(a[1])) {
			if ((r = entry_line(&p, &c, skip_blanks(a + 2, e), e, NULL)) < 0)
				return r;
		} else if (*a == '[') {
			const char *rel, *rest;

			if ((r = parse_release_prefix(&p, a, e, &rel, &rest)) < 0 ||
			    (r = entry_line(&p, &c, rest, e, rel)) < 0)
				return r;
		} else if (e - a == 8 && memcmp(a, "RESERVED", 8) == 0) {
			c.kind = DK_CVE_RESERVED;
			if (ent)
				ent->kind = c.kind;
		} else if (e - a == 8 && memcmp(a, "REJECTED", 8) == 0) {
			c.kind = DK_CVE_REJECTED;
			if (ent)
				ent->kind = c.kind;
		} else if (starts(a, e, "NOT-FOR-US:")) {
			const char *txt = skip_blanks(a + 11, e);

			if ((r = check_text(&p, txt, e, "NOT-FOR-US")) < 0)
				return r;
			c.kind = DK_CVE_NFU;
			c.nfu = txt;
			c.nfu_len = (size_t)(e - txt);
			if (ent) {
				ent->kind = c.kind;
				if (!(ent->nfu = dup(&p, txt, e)))
					return oom(&p);
			}
		} else if (starts(a, e, "NOTE:") || starts(a, e, "TODO:")) {
			/* Triage notes: free text; a RESERVED entry's may be all it says of its package. */
			if ((r = check_text(&p, a + 5, e, a[0] == 'N' ? "NOTE" : "TODO")) < 0)
				return r;
			if (a[0] == 'N') {
				if (!c.notes)
					c.notes = a;
				c.notes_end = e;
			}
		} else if (*a == '{') {
			const char *refs;

			if ((r = parse_refs(&p, a, e, false, &refs)) < 0)
				return r;
			if (!(c.refs = join_refs(&p, c.refs, refs)))
				return oom(&p);
			if (ent)
				ent->refs = c.refs;
		} else {
			const char *w = a;

			while (w < e && !is_blank(*w) && w - a < 40)
				w++;
			if ((r = check_text(&p, a, w, "annotation")) < 0)
				return r;
			return fail(&p, "unknown annotation '%.*s'", (int)(w - a), a);
		}
	}
	return have ? finish_entry(&p, &c) : 0;
}

/* "29 Mar 2023" or the DTSA list's "August 26th, 2005" to "2023-03-29"; false when neither. */
static bool parse_date(const char *s, const char *e, char out[11])
{
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	const char *tok[3], *tend[3];
	int ntok = 0, day = 0, month = 0, year = 0;
	const char *ds, *de, *ms, *me;

	while (ntok < 3 && (s = skip_blanks(s, e)) < e) {
		tok[ntok] = s;
		while (s < e && !is_blank(*s))
			s++;
		tend[ntok++] = s;
	}
	if (ntok != 3 || skip_blanks(s, e) != e)
		return false;
	if (is_digit(*tok[0])) {
		ds = tok[0], de = tend[0], ms = tok[1], me = tend[1];
	} else {
		ms = tok[0], me = tend[0], ds = tok[1], de = tend[1];
		if (de > ds && de[-1] == ',')
			de--;
		if (de - ds > 2 && !is_digit(de[-1]))
			de -= 2; /* 1st, 2nd, 26th */
	}
	for (const char *d = ds; d < de; d++) {
		if (!is_digit(*d) || day > 31)
			return false;
		day = day * 10 + (*d - '0');
	}
	for (int i = 0; i < 12; i++)
		if (me - ms >= 3 && memcmp(ms, months[i], 3) == 0)
			month = i + 1;
	if (tend[2] - tok[2] != 4)
		return false;
	for (const char *d = tok[2]; d < tend[2]; d++) {
		if (!is_digit(*d))
			return false;
		year = year * 10 + (*d - '0');
	}
	if (!month || day < 1 || day > 31)
		return false;
	/* Through a roomier buffer: gcc cannot always prove the three numbers fit in ten bytes. */
	{
		char d[32];

		snprintf(d, sizeof(d), "%04d-%02d-%02d", year % 10000, month % 13, day % 32);
		memcpy(out, d, 11);
	}
	return true;
}

/* An advisory's release lines were collected as fixes with cve 0: give one copy to each CVE it names. */
static int finish_advisory(struct lp *p, size_t first)
{
	struct dk_tracker *t = p->t;
	struct dk_advisory *adv = &t->advisories[t->nadvisories - 1];
	size_t nlines = t->nfixes - first;
	const char *c = adv->cves;
	bool placed = false;

	while (c && *c) {
		const char *ce = strchr(c, ' ');
		size_t n = ce ? (size_t)(ce - c) : strlen(c);
		dk_id id;

		if (!entry_for(t, c, n, &id))
			return oom(p);
		for (size_t i = 0; i < nlines; i++) {
			struct dk_tracker_fix *f;

			if (!placed) {
				t->fixes[first + i].cve = id;
				continue;
			}
			if (!(f = new_fix(t)))
				return oom(p);
			*f = t->fixes[first + i];
			f->cve = id;
		}
		placed = true;
		c = ce ? ce + 1 : c + n;
	}
	/* A regression update names no CVE: its lines fix nothing the scan could match. */
	if (!placed)
		t->nfixes = first;
	return 0;
}

static struct dk_advisory *new_advisory(struct dk_tracker *t)
{
	if (t->nadvisories == t->advisories_alloc) {
		size_t na = t->advisories_alloc ? t->advisories_alloc * 2 : 1024;
		struct dk_advisory *nv = realloc(t->advisories, na * sizeof(*nv));

		if (!nv)
			return NULL;
		t->advisories = nv;
		t->advisories_alloc = na;
	}
	memset(&t->advisories[t->nadvisories], 0, sizeof(t->advisories[0]));
	return &t->advisories[t->nadvisories++];
}

int dk_tracker_parse_advisories(struct dk_tracker *t, const char *data, size_t len, const char *name,
				struct dk_err *err)
{
	struct lp p = { .t = t, .name = name, .err = err };
	const char *pos = data, *end = data + len, *s, *e;
	struct dk_advisory *adv = NULL;
	size_t first = 0;
	int r;

	while (next_line(&p, &pos, end, &s, &e)) {
		const char *a;

		if (s == e)
			continue;
		if (!is_blank(*s)) {
			const char *de, *id, *ide, *d;
			char date[11];

			if (adv && (r = finish_advisory(&p, first)) < 0)
				return r;
			if (*s != '[' || !(de = memchr(s, ']', (size_t)(e - s))))
				return fail(&p, "malformed advisory header: expected '[DATE] ID ...'");
			if (!parse_date(s + 1, de, date))
				return fail(&p, "malformed advisory date '%.*s'", (int)(de - s - 1), s + 1);
			id = skip_blanks(de + 1, e);
			ide = id;
			while (ide < e && *ide >= 'A' && *ide <= 'Z')
				ide++;
			if (ide == id || ide == e || *ide != '-' || ide + 1 == e || !is_digit(ide[1]))
				return fail(&p, "malformed advisory id after the date");
			for (ide++; ide < e && !is_blank(*ide); ide++)
				if (!is_digit(*ide) && *ide != '-')
					return bad_char(&p, *ide, "advisory id");
			d = skip_blanks(ide, e);
			if ((r = check_text(&p, d, e, "the advisory title")) < 0)
				return r;
			if (!(adv = new_advisory(t)) || !(adv->name = dup(&p, id, ide)) ||
			    !(adv->date = dup(&p, date, date + 10)) || !(adv->title = dup(&p, d, e)))
				return oom(&p);
			if (strcmp(date, t->newest) > 0)
				memcpy(t->newest, date, sizeof(date));
			first = t->nfixes;
			continue;
		}
		a = skip_blanks(s, e);
		if (!adv)
			return fail(&p, "%s before any advisory header", *a == '[' ? "package line" : "annotation");
		if (*a == '{') {
			const char *cves;

			if ((r = parse_refs(&p, a, e, true, &cves)) < 0)
				return r;
			if (!(adv->cves = join_refs(&p, adv->cves, cves)))
				return oom(&p);
		} else if (*a == '[') {
			struct dk_tracker_fix f;
			const char *rel, *rest, *src;
			size_t srclen, vlen;

			if ((r = parse_release_prefix(&p, a, e, &rel, &rest)) < 0 ||
			    (r = parse_package(&p, rest, e, rel, &f, &src, &srclen, &vlen)) < 0)
				return r;
			f.advisory = adv->name;
			if (wanted(&p, src, srclen) && (r = keep_fix(&p, &f, 0, src, srclen, vlen)) < 0)
				return r;
		} else if (starts(a, e, "NOTE:") || starts(a, e, "TODO:")) {
			if ((r = check_text(&p, a + 5, e, "NOTE")) < 0)
				return r;
		} else if (*a == '-') {
			return fail(&p, "package line without a release in an advisory");
		} else {
			const char *w = a;

			while (w < e && !is_blank(*w) && w - a < 40)
				w++;
			if ((r = check_text(&p, a, w, "annotation")) < 0)
				return r;
			return fail(&p, "unknown annotation '%.*s'", (int)(w - a), a);
		}
	}
	if (adv && (r = finish_advisory(&p, first)) < 0)
		return r;
	return 0;
}

enum dk_tracker_format dk_tracker_sniff(const char *data, size_t len)
{
	const char *s = data, *e = data + len;

	while (s < e && (is_blank(*s) || *s == '\n' || *s == '\r'))
		s++;
	if (s < e && *s == '{')
		return DK_TRACKER_JSON;
	if (s < e && *s == '[')
		return DK_TRACKER_ADVISORIES;
	return DK_TRACKER_CVE_LIST;
}

/* Upper bound of a tracker file: the real data/CVE/list is some tens of MB. */
#define TRACKER_FILE_MAX ((size_t)1 << 31)

static int load_file(struct dk_tracker *t, const char *path, int format, struct dk_err *err)
{
	struct dk_input in = DK_INPUT_INIT;
	int r;

	if ((r = dk_input_open(&in, path, TRACKER_FILE_MAX, err)) < 0)
		return r;
	if (format < 0)
		format = (int)dk_tracker_sniff(in.data, in.len);
	switch (format) {
	case DK_TRACKER_JSON:
		r = dk_tracker_parse_json(t, in.data, in.len, path, err);
		break;
	case DK_TRACKER_ADVISORIES:
		r = dk_tracker_parse_advisories(t, in.data, in.len, path, err);
		break;
	default:
		r = dk_tracker_parse_cve_list(t, in.data, in.len, path, err);
		break;
	}
	dk_input_release(&in);
	return r;
}

int dk_tracker_load(struct dk_tracker *t, const char *path, struct dk_err *err)
{
	static const struct {
		const char *rel;
		enum dk_tracker_format format;
	} parts[] = {
		{ "data/CVE/list", DK_TRACKER_CVE_LIST },
		{ "data/DSA/list", DK_TRACKER_ADVISORIES },
		{ "data/DLA/list", DK_TRACKER_ADVISORIES },
		{ "data/DTSA/list", DK_TRACKER_ADVISORIES },
	};
	struct stat st;
	int found = 0, r;

	if (stat(path, &st) != 0)
		return dk_err_errno(err, "%s", path);
	if (!S_ISDIR(st.st_mode))
		return load_file(t, path, -1, err);
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		size_t n = strlen(path) + strlen(parts[i].rel) + 2;
		char *full = malloc(n);

		if (!full)
			return dk_err_set(err, DK_ENOMEM, "out of memory");
		snprintf(full, n, "%s/%s", path, parts[i].rel);
		if (stat(full, &st) == 0) {
			found++;
			r = load_file(t, full, (int)parts[i].format, err);
			if (r < 0) {
				free(full);
				return r;
			}
		}
		free(full);
	}
	if (!found)
		return dk_err_set(err, DK_EINPUT,
				  "%s: not a security tracker checkout (no data/CVE/list, "
				  "data/DSA/list or data/DLA/list)",
				  path);
	return 0;
}
