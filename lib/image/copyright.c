/* copyright.c - machine-readable debian/copyright (DEP-5) to an SPDX license expression */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <debkeep/buf.h>
#include <debkeep/deb822.h>
#include <debkeep/sbom.h>

#include "banned.h"

/*
 * A License line is a handful of short names: anything longer is not one a
 * packager wrote, and the OR groups below are rebuilt per operator, so the
 * cap also keeps hostile input linear. A whole file names a few dozen
 * distinct licenses; the list of them is de-duplicated whenever it fills up.
 */
#define LICENSE_LINE_MAX 1024
#define CONJUNCTS_MAX 4096

/* The Format URLs of DEP-5 1.0 and of the drafts still found in bookworm's packages. */
static const char *const format_prefixes[] = {
	"://www.debian.org/doc/packaging-manuals/copyright-format/1.0",
	"://dep.debian.net/deps/dep5",
	"://dep-team.pages.debian.net/deps/dep5",
	"://svn.debian.org/wsvn/dep/web/deps/dep5.mdwn",
	"://anonscm.debian.org/viewvc/dep/web/deps/dep5.mdwn",
};

/* SPDX identifiers a debian/copyright may name as they are, looked up ignoring case. */
static const char *const spdx_ids[] = {
	"0BSD", "AFL-2.0", "AFL-2.1", "AFL-3.0", "Apache-1.0", "Apache-1.1", "Apache-2.0", "APSL-2.0",
	"Artistic-1.0", "Artistic-1.0-Perl", "Artistic-2.0", "Beerware", "Bitstream-Vera", "BSD-1-Clause",
	"BSD-2-Clause", "BSD-3-Clause", "BSD-4-Clause", "BSD-4-Clause-UC", "BSL-1.0", "bzip2-1.0.6",
	"CC-BY-3.0", "CC-BY-4.0", "CC-BY-SA-3.0", "CC-BY-SA-4.0", "CC0-1.0", "CDDL-1.0", "CECILL-2.1",
	"curl", "ECL-2.0", "EPL-1.0", "EPL-2.0", "EUPL-1.2", "FSFAP", "FSFUL", "FSFULLR", "FTL", "HPND",
	"ICU", "IJG", "ISC", "LPPL-1.3c", "MirOS", "MIT", "MIT-0", "MPL-1.0", "MPL-1.1", "MPL-2.0", "NCSA",
	"NTP", "OFL-1.1", "OpenSSL", "PHP-3.01", "PostgreSQL", "PSF-2.0", "Python-2.0", "Ruby",
	"SGI-B-2.0", "Sleepycat", "TCL", "Unicode-DFS-2016", "Unicode-3.0", "Unlicense", "UPL-1.0", "Vim",
	"W3C", "WTFPL", "X11", "Zlib", "zlib-acknowledgement", "ZPL-2.1",
};

/* Debian short names (copyright-format 1.0, "License specification") whose SPDX name differs. */
static const struct {
	const char *debian, *spdx;
} aliases[] = {
	{ "Expat", "MIT" },
	{ "Artistic", "Artistic-1.0-Perl" },
	{ "Zope-2.1", "ZPL-2.1" },
	{ "CC0", "CC0-1.0" },
	{ "PSF-2", "PSF-2.0" },
	{ "Python", "Python-2.0" },
	{ "Perl", "Artistic-1.0-Perl OR GPL-1.0-or-later" },
	{ "Apache-2", "Apache-2.0" },
	{ "MPL-2", "MPL-2.0" },
	{ "BSD-2", "BSD-2-Clause" },
	{ "BSD-3", "BSD-3-Clause" },
	{ "BSD-4", "BSD-4-Clause" },
	{ "BSL-1", "BSL-1.0" },
	{ "CDDL-1", "CDDL-1.0" },
	{ "Artistic-1", "Artistic-1.0" },
	{ "Libpng", "Libpng" },
	{ "libpng-2.0", "libpng-2.0" },
};

/* The GNU licenses come in versions, each "-only" or "-or-later" in SPDX ("GPL-2" and "GPL-2+" in Debian). */
static const struct {
	const char *family;
	const char *versions[4];
} gnu[] = {
	{ "GPL", { "1.0", "2.0", "3.0", NULL } },
	{ "LGPL", { "2.0", "2.1", "3.0", NULL } },
	{ "AGPL", { "1.0", "3.0", NULL } },
	{ "GFDL", { "1.1", "1.2", "1.3", NULL } },
	{ "GFDL-NIV", { "1.1", "1.2", "1.3", NULL } },
};

/* License exceptions on the SPDX list, by the word(s) Debian writes before "exception". */
static const struct {
	const char *debian, *family, *spdx;
} exceptions[] = {
	{ "autoconf", "GPL-2.0", "Autoconf-exception-2.0" },
	{ "autoconf", "GPL-3.0", "Autoconf-exception-3.0" },
	{ "bison", NULL, "Bison-exception-2.2" },
	{ "classpath", NULL, "Classpath-exception-2.0" },
	{ "font", NULL, "Font-exception-2.0" },
	{ "gcc", NULL, "GCC-exception-3.1" },
	{ "gcc-runtime", NULL, "GCC-exception-3.1" },
	{ "libtool", NULL, "Libtool-exception" },
	{ "llvm", NULL, "LLVM-exception" },
	{ "linux-syscall-note", NULL, "Linux-syscall-note" },
	{ "ocaml", NULL, "OCaml-LGPL-linking-exception" },
	{ "u-boot", NULL, "u-boot-exception-2.0" },
};

/* Conjuncts of an expression: each a license, a "X WITH Y", or a parenthesised OR group. */
struct conj {
	char **v;
	size_t n, cap;
};

static void conj_release(struct conj *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i]);
	free(c->v);
	c->v = NULL;
	c->n = c->cap = 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sort and drop duplicates. */
static void conj_unique(struct conj *c)
{
	size_t k = 0;

	if (!c->n)
		return;
	qsort(c->v, c->n, sizeof(*c->v), cmp_str);
	for (size_t i = 1; i < c->n; i++) {
		if (strcmp(c->v[i], c->v[k]) == 0)
			free(c->v[i]);
		else
			c->v[++k] = c->v[i];
	}
	c->n = k + 1;
}

/*
 * Takes s (malloc'd) whatever happens. A full list is de-duplicated; it must
 * then be at most half full, so that sorting stays amortised O(log n) a push.
 */
static int conj_push(struct conj *c, char *s)
{
	if (!s)
		return DK_ENOMEM;
	if (c->n == CONJUNCTS_MAX) {
		conj_unique(c);
		if (c->n > CONJUNCTS_MAX / 2) {
			free(s);
			return DK_EINPUT;
		}
	}
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 8;
		char **v = realloc(c->v, cap * sizeof(*v));

		if (!v) {
			free(s);
			return DK_ENOMEM;
		}
		c->v = v;
		c->cap = cap;
	}
	c->v[c->n++] = s;
	return 0;
}

static char *buf_take(struct dk_buf *b)
{
	if (b->failed) {
		dk_buf_release(b);
		return NULL;
	}
	return dk_buf_detach(b, NULL);
}

/* The conjuncts as one operand: alone as it is, several in parentheses. */
static int render_and(const struct conj *c, struct dk_buf *out)
{
	if (c->n == 1)
		return dk_buf_adds(out, c->v[0]);
	dk_buf_addc(out, '(');
	for (size_t i = 0; i < c->n; i++) {
		if (i)
			dk_buf_adds(out, " AND ");
		dk_buf_adds(out, c->v[i]);
	}
	return dk_buf_addc(out, ')');
}

struct tok {
	const char *s;
	size_t n;
};

static bool tok_is(const struct tok *t, const char *w)
{
	return strlen(w) == t->n && strncasecmp(t->s, w, t->n) == 0;
}

/* Append s sanitised for an SPDX LicenseRef: [A-Za-z0-9.-] only, lower case, runs of others as one '-'. */
static void add_ref_chars(struct dk_buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '+' && i + 1 == n) {
			dk_buf_adds(b, b->len && b->data[b->len - 1] == '-' ? "plus" : "-plus");
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.') {
			dk_buf_addc(b, (char)c);
		} else if (c >= 'A' && c <= 'Z') {
			dk_buf_addc(b, (char)(c + 32));
		} else if (b->len && b->data[b->len - 1] != '-') {
			dk_buf_addc(b, '-');
		}
	}
}

/* The GNU family's SPDX name for name (without its '+'), e.g. "LGPL-2.1" -> "LGPL-2.1"; false if not one. */
static bool gnu_name(const char *name, size_t n, struct dk_buf *out)
{
	for (size_t f = 0; f < sizeof(gnu) / sizeof(gnu[0]); f++) {
		size_t fl = strlen(gnu[f].family), vn;
		const char *v;

		if (n <= fl + 1 || strncasecmp(name, gnu[f].family, fl) != 0 || name[fl] != '-')
			continue;
		v = name + fl + 1;
		vn = n - fl - 1;
		for (const char *const *w = gnu[f].versions; *w; w++) {
			/* "2", "2.0" and "2.1" are the forms in use; "2" means "2.0". */
			bool match = (vn == strlen(*w) && strncmp(v, *w, vn) == 0) ||
				     (vn == 1 && (*w)[0] == v[0] && strcmp(*w + 1, ".0") == 0);

			if (!match)
				continue;
			if (strcmp(gnu[f].family, "GFDL-NIV") == 0)
				dk_buf_addf(out, "GFDL-%s-no-invariants", *w);
			else
				dk_buf_addf(out, "%s-%s", gnu[f].family, *w);
			return true;
		}
	}
	return false;
}

/*
 * One license name (words joined with '-', "+" possibly at the end) as an
 * SPDX operand: a listed identifier, a GNU license -only or -or-later, or
 * LicenseRef-NAME. *family gets the GNU base ("GPL-2.0") for exceptions.
 */
static void map_name(const char *name, size_t n, struct dk_buf *out, struct dk_buf *family)
{
	bool plus = n > 1 && name[n - 1] == '+';
	size_t base = plus ? n - 1 : n;
	size_t mark = out->len;

	dk_buf_reset(family);
	/* SPDX names written as such in newer files: "GPL-2.0-or-later", "LGPL-2.1-only". */
	if (base > 9 && strncasecmp(name + base - 9, "-or-later", 9) == 0 && gnu_name(name, base - 9, family)) {
		dk_buf_addf(out, "%s-or-later", family->data);
		return;
	}
	if (base > 5 && strncasecmp(name + base - 5, "-only", 5) == 0 && gnu_name(name, base - 5, family)) {
		dk_buf_addf(out, "%s-only", family->data);
		return;
	}
	if (gnu_name(name, base, family)) {
		dk_buf_addf(out, "%s-%s", family->data, plus ? "or-later" : "only");
		return;
	}
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (strlen(aliases[i].debian) == base && strncasecmp(name, aliases[i].debian, base) == 0) {
			if (!strchr(aliases[i].spdx, ' '))
				dk_buf_adds(out, aliases[i].spdx);
			else
				dk_buf_addf(out, "(%s)", aliases[i].spdx);
			goto plus_op;
		}
	for (size_t i = 0; i < sizeof(spdx_ids) / sizeof(spdx_ids[0]); i++)
		if (strlen(spdx_ids[i]) == base && strncasecmp(name, spdx_ids[i], base) == 0) {
			dk_buf_adds(out, spdx_ids[i]);
			goto plus_op;
		}
	dk_buf_adds(out, "LicenseRef-");
	add_ref_chars(out, name, n);
	if (out->len == mark + strlen("LicenseRef-"))
		dk_buf_adds(out, "unnamed");
	while (out->len > mark + strlen("LicenseRef-") + 1 && out->data[out->len - 1] == '-')
		dk_buf_truncate(out, out->len - 1);
	return;
plus_op:
	/* SPDX's "+" operator, "or any later version", exists for every listed license. */
	if (plus && out->data[out->len - 1] != ')')
		dk_buf_addc(out, '+');
}

/*
 * A term: words up to an operator, e.g. "GPL-2+", "public domain" (joined as
 * "public-domain") or "GPL-2+ with OpenSSL exception". Consumes tokens from *i.
 */
static int parse_term(const struct tok *t, size_t nt, size_t *i, struct conj *out)
{
	struct dk_buf name = DK_BUF_INIT, term = DK_BUF_INIT, family = DK_BUF_INIT, exc = DK_BUF_INIT;
	const char *spdx_exc = NULL;
	size_t nexc = 0;
	int r;

	for (; *i < nt && !tok_is(&t[*i], "and") && !tok_is(&t[*i], "or") && !tok_is(&t[*i], "with"); (*i)++) {
		if (name.len)
			dk_buf_addc(&name, '-');
		dk_buf_add(&name, t[*i].s, t[*i].n);
	}
	if (*i < nt && tok_is(&t[*i], "with")) {
		for ((*i)++; *i < nt && !tok_is(&t[*i], "and") && !tok_is(&t[*i], "or"); (*i)++) {
			bool last = tok_is(&t[*i], "exception");

			if (exc.len)
				dk_buf_addc(&exc, '-');
			dk_buf_add(&exc, t[*i].s, t[*i].n);
			nexc++;
			if (last) {
				(*i)++;
				break;
			}
		}
	}
	if (name.failed || exc.failed) {
		r = DK_ENOMEM;
		goto out;
	}
	if (!name.len) {
		r = 0;
		goto out;
	}
	map_name(name.data, name.len, &term, &family);
	if (exc.len) {
		size_t wlen = exc.len;

		if (nexc > 1 && wlen > 10 && strcasecmp(exc.data + wlen - 10, "-exception") == 0)
			wlen -= 10;
		for (size_t k = 0; k < sizeof(exceptions) / sizeof(exceptions[0]); k++)
			if (strlen(exceptions[k].debian) == wlen &&
			    strncasecmp(exc.data, exceptions[k].debian, wlen) == 0 &&
			    (!exceptions[k].family || strcmp(exceptions[k].family, family.data) == 0)) {
				spdx_exc = exceptions[k].spdx;
				break;
			}
		if (spdx_exc && term.data[0] != '(' && strncmp(term.data, "LicenseRef-", 11) != 0) {
			dk_buf_addf(&term, " WITH %s", spdx_exc);
		} else {
			/* SPDX 2.3 has no reference form for an unlisted exception: the pair is a LicenseRef. */
			dk_buf_reset(&term);
			dk_buf_adds(&term, "LicenseRef-");
			add_ref_chars(&term, name.data, name.len);
			dk_buf_adds(&term, term.data[term.len - 1] == '-' ? "with-" : "-with-");
			add_ref_chars(&term, exc.data, exc.len);
			while (term.data[term.len - 1] == '-')
				dk_buf_truncate(&term, term.len - 1);
		}
	}
	r = conj_push(out, buf_take(&term));
out:
	dk_buf_release(&name);
	dk_buf_release(&term);
	dk_buf_release(&family);
	dk_buf_release(&exc);
	return r;
}

/* term ("and" term)*: conjuncts appended to out. */
static int parse_and(const struct tok *t, size_t nt, size_t *i, struct conj *out)
{
	int r = parse_term(t, nt, i, out);

	while (!r && *i < nt && tok_is(&t[*i], "and")) {
		(*i)++;
		r = parse_term(t, nt, i, out);
	}
	return r;
}

/*
 * and-list ("or" and-list)*: several alternatives become one parenthesised
 * conjunct, its alternatives sorted so that "GPL-1+ or Artistic" and
 * "Artistic or GPL-1+" come out the same.
 */
static int parse_or(const struct tok *t, size_t nt, size_t *i, struct conj *out)
{
	struct conj first = { 0 }, alts = { 0 };
	struct dk_buf g = DK_BUF_INIT;
	int r = 0;

	for (;;) {
		struct conj alt = { 0 };

		r = parse_and(t, nt, i, &alt);
		if (!r && alt.n) {
			conj_unique(&alt);
			render_and(&alt, &g);
			r = conj_push(&alts, buf_take(&g));
			if (alts.n == 1) {
				first = alt;
				alt = (struct conj){ 0 };
			}
		}
		conj_release(&alt);
		if (r || !(*i < nt && tok_is(&t[*i], "or")))
			break;
		(*i)++;
	}
	conj_unique(&alts);
	if (!r && alts.n == 1) {
		/* No real alternative after all: the conjuncts stand on their own. */
		for (size_t k = 0; !r && k < first.n; k++) {
			r = conj_push(out, first.v[k]);
			first.v[k] = NULL;
		}
	} else if (!r && alts.n > 1) {
		dk_buf_addc(&g, '(');
		for (size_t k = 0; k < alts.n; k++) {
			if (k)
				dk_buf_adds(&g, " OR ");
			dk_buf_adds(&g, alts.v[k]);
		}
		dk_buf_addc(&g, ')');
		r = conj_push(out, buf_take(&g));
	}
	conj_release(&first);
	conj_release(&alts);
	dk_buf_release(&g);
	return r;
}

/*
 * A License line's first line, e.g. "GPL-2+ or Artistic, and BSD-3-clause":
 * DEP-5 puts commas around groups joined with a lower precedence than
 * "and"/"or"; a comma without an operator after it lists licenses (AND).
 */
static int parse_line(const char *s, size_t n, struct conj *out)
{
	struct tok t[LICENSE_LINE_MAX];
	struct conj acc = { 0 };
	size_t nt = 0, i = 0;
	int r = 0;

	while (i < n) {
		size_t j = i;

		while (j < n && s[j] != ',' && s[j] != ' ' && s[j] != '\t')
			j++;
		if (j > i)
			t[nt++] = (struct tok){ s + i, j - i };
		if (j < n && s[j] == ',')
			t[nt++] = (struct tok){ s + j, 1 };
		i = j + 1;
	}
	i = 0;
	while (!r && i < nt) {
		struct conj seg = { 0 };
		size_t start = i, end = i;
		bool or_op = false;

		while (end < nt && !(t[end].n == 1 && t[end].s[0] == ','))
			end++;
		if (start < end && acc.n && tok_is(&t[start], "or")) {
			or_op = true;
			start++;
		} else if (start < end && tok_is(&t[start], "and")) {
			start++;
		}
		/* Whatever parse_or() leaves ("X with Y exception Z") is one more conjunct, not lost. */
		while (!r && start < end) {
			size_t before = start;

			r = parse_or(t, end, &start, &seg);
			if (start == before)
				start++;
		}
		if (!r && seg.n) {
			if (or_op) {
				struct dk_buf g = DK_BUF_INIT;

				dk_buf_addc(&g, '(');
				render_and(&acc, &g);
				dk_buf_adds(&g, " OR ");
				render_and(&seg, &g);
				dk_buf_addc(&g, ')');
				conj_release(&acc);
				r = conj_push(&acc, buf_take(&g));
			} else {
				for (size_t k = 0; !r && k < seg.n; k++) {
					r = conj_push(&acc, seg.v[k]);
					seg.v[k] = NULL;
				}
			}
		}
		conj_release(&seg);
		i = end + 1;
	}
	for (size_t k = 0; !r && k < acc.n; k++) {
		r = conj_push(out, acc.v[k]);
		acc.v[k] = NULL;
	}
	conj_release(&acc);
	return r;
}

/* True when the first paragraph's Format (or the drafts' Format-Specification) names DEP-5. */
static bool is_dep5(const struct dk_stanza *st)
{
	const struct dk_field *f = dk_stanza_get(st, "Format");

	if (!f)
		f = dk_stanza_get(st, "Format-Specification");
	if (!f || f->multiline)
		return false;
	for (size_t i = 0; i < sizeof(format_prefixes) / sizeof(format_prefixes[0]); i++) {
		const char *v = f->value;
		size_t n = f->value_len, pl = strlen(format_prefixes[i]), skip;

		if (n > 5 && strncasecmp(v, "https", 5) == 0)
			skip = 5;
		else if (n > 4 && strncasecmp(v, "http", 4) == 0)
			skip = 4;
		else
			continue;
		if (n - skip >= pl && strncasecmp(v + skip, format_prefixes[i], pl) == 0) {
			/* Only a trailing slash or a draft's query may follow the URL. */
			const char *rest = v + skip + pl;
			size_t rn = n - skip - pl;

			if (rn == 0 || (rn == 1 && rest[0] == '/') || rest[0] == '?')
				return true;
		}
	}
	return false;
}

/*
 * Whether the input opens with a paragraph naming DEP-5: looked for in the
 * raw text, so that a free-form file (most of which deb822 cannot parse) is
 * "not machine-readable" rather than an error.
 */
static bool claims_dep5(const char *text, size_t len, const char *name)
{
	struct dk_deb822 p;
	struct dk_stanza st;
	const char *e = text;
	bool yes;

	/* The first paragraph ends at the first blank line (or line of blanks). */
	while (e < text + len) {
		const char *nl = memchr(e, '\n', (size_t)(text + len - e));
		const char *le = nl ? nl : text + len;
		const char *q = e;

		while (q < le && (*q == ' ' || *q == '\t' || *q == '\r'))
			q++;
		if (q == le && e > text)
			break;
		e = nl ? nl + 1 : le;
	}
	dk_deb822_init(&p, text, (size_t)(e - text), name,
		       DK_DEB822_ALLOW_DUPLICATES | DK_DEB822_ALLOW_COMMENTS);
	yes = dk_deb822_next(&p, &st, NULL) == 1 && is_dep5(&st);
	dk_deb822_release(&p);
	return yes;
}

int dk_copyright_license(const char *text, size_t len, const char *name, char **expr, struct dk_err *err)
{
	struct conj all = { 0 }, header = { 0 };
	struct dk_deb822 p;
	struct dk_stanza st;
	struct dk_buf out = DK_BUF_INIT;
	bool first = true;
	int r;

	*expr = NULL;
	if (!name)
		name = "copyright";
	if (!text || !claims_dep5(text, len, name))
		return DK_NOTFOUND;
	/* Real files repeat a field now and then, and some carry '#' lines though DEP-5 has no comments. */
	dk_deb822_init(&p, text, len, name, DK_DEB822_ALLOW_DUPLICATES | DK_DEB822_ALLOW_COMMENTS);
	while ((r = dk_deb822_next(&p, &st, err)) == 1) {
		const struct dk_field *lic = dk_stanza_get(&st, "License");
		const char *v, *nl;
		size_t n;

		if (!lic || (!first && !dk_stanza_get(&st, "Files"))) {
			first = false;
			continue;
		}
		v = lic->value;
		nl = memchr(v, '\n', lic->value_len);
		n = nl ? (size_t)(nl - v) : lic->value_len;
		while (n && (v[n - 1] == '\r' || v[n - 1] == ' ' || v[n - 1] == '\t'))
			n--;
		if (n > LICENSE_LINE_MAX) {
			r = dk_err_set(err, DK_EINPUT, "%s:%u: License: longer than %d bytes", name, lic->line,
				       LICENSE_LINE_MAX);
			break;
		}
		if (memchr(v, '\0', n)) {
			r = dk_err_set(err, DK_EINPUT, "%s:%u: License: NUL byte", name, lic->line);
			break;
		}
		/* The header's License covers the whole package: used only when no Files paragraph has one. */
		r = parse_line(v, n, first ? &header : &all);
		first = false;
		if (r == DK_EINPUT)
			r = dk_err_set(err, DK_EINPUT, "%s:%u: License: more than %d distinct licenses", name,
				       lic->line, CONJUNCTS_MAX / 2);
		else if (r)
			r = dk_err_set(err, r, "%s:%u: out of memory", name, lic->line);
		if (r)
			break;
	}
	dk_deb822_release(&p);
	if (r < 0)
		goto out;
	if (!all.n) {
		conj_release(&all);
		all = header;
		header = (struct conj){ 0 };
	}
	if (!all.n) {
		r = DK_NOTFOUND;
		goto out;
	}
	conj_unique(&all);
	for (size_t i = 0; i < all.n; i++) {
		if (i)
			dk_buf_adds(&out, " AND ");
		dk_buf_adds(&out, all.v[i]);
	}
	/* An OR group alone needs no parentheses: every conjunct that opens with one is wrapped whole. */
	if (!out.failed && all.n == 1 && out.data[0] == '(') {
		memmove(out.data, out.data + 1, out.len - 2);
		dk_buf_truncate(&out, out.len - 2);
	}
	r = dk_buf_check(&out, err, "license expression");
	if (r)
		goto out;
	*expr = dk_buf_detach(&out, NULL);
	r = 0;
out:
	dk_buf_release(&out);
	conj_release(&all);
	conj_release(&header);
	return r;
}
