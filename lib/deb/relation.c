/* relation.c - parser for dependency fields (deb-control(5), Policy 7.1) and relation operators */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <debkeep/arena.h>
#include <debkeep/err.h>
#include <debkeep/relation.h>
#include <debkeep/version.h>

#include "banned.h"

/* Names quoted in messages are cut here so hostile input cannot fill the message with one word. */
#define QUOTE_MAX 64

/*
 * The parser runs twice over the text: the first pass validates and counts,
 * the second fills arrays of exactly the counted sizes. That keeps the result
 * in a few contiguous arena blocks with no reallocation, and the second pass
 * is cheap because versions were checked in the first.
 */
struct parser {
	const char *s;
	const char *p;
	const char *end;
	unsigned flags;
	struct dk_err *err;
	bool fill;
	size_t ngroups, natoms, narchs, nplists, nterms;
	struct dk_dep_group *groups;
	struct dk_dep_atom *atoms;
	struct dk_slice *archs;
	struct dk_profile_list *plists;
	struct dk_profile_term *terms;
	dk_relation_atom_fn *each; /* dk_relation_scan(): called for every atom of the checking pass */
	void *each_ctx;
};

enum { C_BLANK = 1, C_DELIM = 2 };

/*
 * Byte classes: the blanks of C's isspace() in the C locale (what dpkg and
 * apt skip), and the bytes that end a word whatever the word is.
 */
static const unsigned char char_class[256] = {
	[' '] = C_BLANK | C_DELIM, ['\t'] = C_BLANK | C_DELIM, ['\n'] = C_BLANK | C_DELIM,
	['\r'] = C_BLANK | C_DELIM, ['\v'] = C_BLANK | C_DELIM, ['\f'] = C_BLANK | C_DELIM,
	[':'] = C_DELIM, [','] = C_DELIM, ['|'] = C_DELIM, ['('] = C_DELIM, [')'] = C_DELIM,
	['['] = C_DELIM, [']'] = C_DELIM, ['<'] = C_DELIM, ['>'] = C_DELIM, ['!'] = C_DELIM,
};

static inline bool is_blank(char c)
{
	return char_class[(unsigned char)c] & C_BLANK;
}

static inline bool is_delim(char c)
{
	return char_class[(unsigned char)c] & C_DELIM;
}

static inline bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static inline bool is_alnum(char c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static void skip_blanks(struct parser *ps)
{
	const char *p = ps->p, *end = ps->end;

	while (p < end && is_blank(*p))
		p++;
	ps->p = p;
}

static size_t column(const struct parser *ps, const char *at)
{
	return (size_t)(at - ps->s) + 1;
}

static int fail(struct parser *ps, const char *at, const char *what)
{
	return dk_err_set(ps->err, DK_EINPUT, "%s at column %zu", what, column(ps, at));
}

static bool is_print(char c)
{
	return (unsigned char)c >= 0x20 && (unsigned char)c < 0x7f;
}

/* "'x'" for a printable byte, else its value, so a message never carries control bytes. */
static const char *describe(char c, char buf[static 16])
{
	unsigned char u = (unsigned char)c;

	if (is_print(c))
		snprintf(buf, 16, "'%c'", u);
	else
		snprintf(buf, 16, "byte 0x%02x", u);
	return buf;
}

static int fail_char(struct parser *ps, const char *at, const char *what)
{
	char d[16];

	return dk_err_set(ps->err, DK_EINPUT, "%s %s at column %zu", what, describe(*at, d), column(ps, at));
}

static int fail_end(struct parser *ps, const char *open, char c)
{
	return dk_err_set(ps->err, DK_EINPUT, "unbalanced '%c' at column %zu", c, column(ps, open));
}

static struct dk_slice scan_word(struct parser *ps)
{
	const char *p = ps->p, *end = ps->end;
	struct dk_slice w = { p, 0 };

	while (p < end && !is_delim(*p))
		p++;
	w.n = (size_t)(p - w.p);
	ps->p = p;
	return w;
}

/* The first byte of w that is not allowed by ok_first / ok_rest, or NULL. */
static const char *bad_char(struct dk_slice w, bool (*ok_first)(char), bool (*ok_rest)(char))
{
	if (!ok_first(w.p[0]))
		return w.p;
	for (size_t i = 1; i < w.n; i++)
		if (!ok_rest(w.p[i]))
			return w.p + i;
	return NULL;
}

static bool pkg_first(char c)
{
	return is_lower_alnum(c);
}

static bool pkg_rest(char c)
{
	return is_lower_alnum(c) || c == '+' || c == '-' || c == '.';
}

static bool arch_first(char c)
{
	return is_alnum(c);
}

static bool arch_rest(char c)
{
	return is_alnum(c) || c == '-';
}

static int bad_word(struct parser *ps, const char *kind, struct dk_slice w, const char *bad, const char *rule)
{
	int n = w.n > QUOTE_MAX ? QUOTE_MAX : (int)w.n;
	const char *more = w.n > QUOTE_MAX ? "..." : "";
	char d[16];

	if (bad == w.p)
		return dk_err_set(ps->err, DK_EINPUT, "invalid %s '%.*s%s' at column %zu: %s", kind, n, w.p, more,
				  column(ps, w.p), rule);
	return dk_err_set(ps->err, DK_EINPUT, "invalid %s '%.*s%s' at column %zu: %s%s not allowed", kind, n, w.p,
			  more, column(ps, w.p), is_print(*bad) ? "character " : "", describe(*bad, d));
}

/*
 * Policy 5.6.1 rather than dpkg's laxer pkg_name_is_illegal(), which still
 * takes upper case and '_' for old packages: lower-case letters, digits,
 * '+', '-', '.', starting alphanumeric, at least two characters.
 */
static int check_pkg_name(struct parser *ps, struct dk_slice w)
{
	const char *bad;

	if (ps->fill)
		return 0;
	bad = bad_char(w, pkg_first, pkg_rest);
	if (bad)
		return bad_word(ps, "package name", w, bad,
				"must start with a lower-case letter or a digit");
	if (w.n < 2)
		return dk_err_set(ps->err, DK_EINPUT,
				  "invalid package name '%.*s' at column %zu: must be at least two characters long",
				  (int)w.n, w.p, column(ps, w.p));
	return 0;
}

/* dpkg_arch_name_is_illegal(): alphanumerics and '-', starting alphanumeric; wildcards such as linux-any fit. */
static int check_arch_name(struct parser *ps, struct dk_slice w)
{
	const char *bad = ps->fill ? NULL : bad_char(w, arch_first, arch_rest);

	return bad ? bad_word(ps, "architecture name", w, bad, "must start with a letter or a digit") : 0;
}

/* Build profile names are not constrained further by dpkg; this keeps them to the package name alphabet. */
static int check_profile_name(struct parser *ps, struct dk_slice w)
{
	const char *bad = ps->fill ? NULL : bad_char(w, pkg_first, pkg_rest);

	return bad ? bad_word(ps, "build profile name", w, bad, "must start with a lower-case letter or a digit") : 0;
}

/* The operator spelt by the n bytes of <, > and = at t, as deb-control(5) lists them; false for none. */
static bool lookup_operator(const char *t, size_t n, struct dk_dep_atom *atom)
{
	atom->deprecated_op = false;
	if (n == 1) {
		atom->deprecated_op = t[0] != '=';
		atom->op = t[0] == '<' ? DK_REL_LE : t[0] == '>' ? DK_REL_GE : DK_REL_EQ;
		return true;
	}
	if (n != 2)
		return false;
	if (t[0] == '<' && (t[1] == '<' || t[1] == '='))
		atom->op = t[1] == '<' ? DK_REL_LT : DK_REL_LE;
	else if (t[0] == '>' && (t[1] == '>' || t[1] == '='))
		atom->op = t[1] == '>' ? DK_REL_GT : DK_REL_GE;
	else
		return false;
	return true;
}

static int parse_operator(struct parser *ps, struct dk_dep_atom *atom)
{
	const char *start = ps->p;
	const char *after;
	struct dk_slice w;
	size_t n;

	while (ps->p < ps->end && (*ps->p == '<' || *ps->p == '>' || *ps->p == '='))
		ps->p++;
	n = (size_t)(ps->p - start);
	if (n > 0) {
		if (lookup_operator(start, n, atom))
			return 0;
		return dk_err_set(ps->err, DK_EINPUT, "'%.*s' is not a relation operator at column %zu",
				  n > QUOTE_MAX ? QUOTE_MAX : (int)n, start, column(ps, start));
	}

	/*
	 * "(1.0)" with no operator is an exact match to dpkg and apt (dpkg warns
	 * about it), so it is taken as '=' and flagged deprecated. A word followed
	 * by another word, as in "(gt 1.0)", is a misspelt operator.
	 */
	w = scan_word(ps);
	skip_blanks(ps);
	after = ps->p;
	ps->p = start;
	if (w.n == 0 || after >= ps->end || *after == ')' || *after == '(') {
		atom->op = DK_REL_EQ;
		atom->deprecated_op = true;
		return 0;
	}
	return dk_err_set(ps->err, DK_EINPUT, "'%.*s' is not a relation operator at column %zu",
			  w.n > QUOTE_MAX ? QUOTE_MAX : (int)w.n, w.p, column(ps, w.p));
}

static int parse_version(struct parser *ps, struct dk_dep_atom *atom)
{
	const char *open = ps->p;
	const char *vstart;
	int rc;

	ps->p++;
	skip_blanks(ps);
	if (ps->p >= ps->end)
		return fail_end(ps, open, '(');
	rc = parse_operator(ps, atom);
	if (rc)
		return rc;
	skip_blanks(ps);
	vstart = ps->p;
	/* A version may hold ':' and other bytes the grammar uses elsewhere; only blanks and parentheses end it. */
	while (ps->p < ps->end && !is_blank(*ps->p) && *ps->p != '(' && *ps->p != ')')
		ps->p++;
	atom->version.p = vstart;
	atom->version.n = (size_t)(ps->p - vstart);
	skip_blanks(ps);
	if (atom->version.n == 0) {
		if (ps->p >= ps->end)
			return fail_end(ps, open, '(');
		return fail(ps, ps->p, "missing version");
	}
	if (ps->p >= ps->end)
		return fail_end(ps, open, '(');
	if (*ps->p != ')')
		return fail(ps, ps->p, "missing ')' after version");
	ps->p++;
	if (!ps->fill) {
		struct dk_version v;

		rc = dk_version_parse(&v, atom->version.p, atom->version.n, ps->err);
		if (rc) {
			if (ps->err)
				dk_err_prefix(ps->err, "bad version for '%.*s' at column %zu",
					      atom->name.n > QUOTE_MAX ? QUOTE_MAX : (int)atom->name.n, atom->name.p,
					      column(ps, vstart));
			return rc;
		}
	}
	return 0;
}

/*
 * The next item of a [arch ...] or <profile ...> list opened at open: an
 * optional '!' and a word. Returns 1 at the closing bracket, 0 with the item,
 * or an error for an unclosed list or a missing name.
 */
static int list_item(struct parser *ps, const char *open, char close, const char *what, bool *neg,
		     struct dk_slice *w)
{
	if (ps->p >= ps->end)
		return fail_end(ps, open, *open);
	if (*ps->p == close)
		return 1;
	*neg = *ps->p == '!';
	if (*neg)
		ps->p++;
	*w = scan_word(ps);
	if (w->n == 0) {
		if (ps->p >= ps->end)
			return fail_end(ps, open, *open);
		return fail_char(ps, ps->p, what);
	}
	return 0;
}

static int parse_archlist(struct parser *ps, struct dk_dep_atom *atom)
{
	const char *open = ps->p;
	size_t count = 0;
	int rc;

	if (!(ps->flags & DK_REL_ALLOW_ARCHLIST))
		return fail(ps, open, "architecture list not allowed here");
	ps->p++;
	if (ps->fill)
		atom->arches.archs = ps->archs + ps->narchs;
	for (;;) {
		const char *tok;
		bool neg = false;
		struct dk_slice w = { 0 };

		skip_blanks(ps);
		tok = ps->p;
		rc = list_item(ps, open, ']', "expected an architecture name, found", &neg, &w);
		if (rc < 0)
			return rc;
		if (rc > 0)
			break;
		rc = check_arch_name(ps, w);
		if (rc)
			return rc;
		if (count > 0 && neg != atom->arches.negated)
			return fail(ps, tok, "architecture list mixes negated and plain names");
		atom->arches.negated = neg;
		if (ps->fill)
			ps->archs[ps->narchs] = w;
		ps->narchs++;
		count++;
	}
	if (count == 0)
		return fail(ps, open, "empty architecture list");
	atom->arches.count = count;
	ps->p++;
	return 0;
}

static int parse_profile_list(struct parser *ps, struct dk_dep_atom *atom)
{
	const char *open = ps->p;
	size_t count = 0;
	int rc;

	if (!(ps->flags & DK_REL_ALLOW_PROFILES))
		return fail(ps, open, "build profile restriction not allowed here");
	ps->p++;
	if (ps->fill) {
		if (atom->nprofiles == 0)
			atom->profiles = ps->plists + ps->nplists;
		ps->plists[ps->nplists].terms = ps->terms + ps->nterms;
	}
	for (;;) {
		bool neg = false;
		struct dk_slice w = { 0 };

		skip_blanks(ps);
		rc = list_item(ps, open, '>', "expected a build profile name, found", &neg, &w);
		if (rc < 0)
			return rc;
		if (rc > 0)
			break;
		rc = check_profile_name(ps, w);
		if (rc)
			return rc;
		if (ps->fill) {
			ps->terms[ps->nterms].name = w;
			ps->terms[ps->nterms].negated = neg;
		}
		ps->nterms++;
		count++;
	}
	if (count == 0)
		return fail(ps, open, "empty build profile restriction");
	if (ps->fill)
		ps->plists[ps->nplists].count = count;
	ps->nplists++;
	atom->nprofiles++;
	ps->p++;
	return 0;
}

/* name[:arch] [(op version)] [[arch ...]] [<profile ...>]... in that order, as Policy and dpkg-dev read it. */
static int parse_atom(struct parser *ps)
{
	struct dk_dep_atom scratch;
	struct dk_dep_atom *atom = ps->fill ? ps->atoms + ps->natoms : &scratch;
	int rc;

	memset(atom, 0, sizeof(*atom));
	if (ps->p >= ps->end || *ps->p == ',' || *ps->p == '|') {
		if (ps->p < ps->end && *ps->p == '|')
			return fail(ps, ps->p, "missing package name before '|'");
		if (ps->p < ps->end)
			return fail(ps, ps->p, "missing package name before ','");
		return fail(ps, ps->p, "missing package name after '|'");
	}
	atom->name = scan_word(ps);
	if (atom->name.n == 0)
		return fail_char(ps, ps->p, "expected a package name, found");
	rc = check_pkg_name(ps, atom->name);
	if (rc)
		return rc;
	skip_blanks(ps);

	if (ps->p < ps->end && *ps->p == ':') {
		const char *colon = ps->p;

		if (!(ps->flags & DK_REL_ALLOW_ARCHQUAL))
			return fail(ps, colon, "architecture qualifier not allowed here");
		ps->p++;
		atom->archqual = scan_word(ps);
		if (atom->archqual.n == 0)
			return fail(ps, colon, "missing architecture name after ':'");
		rc = check_arch_name(ps, atom->archqual);
		if (rc)
			return rc;
		skip_blanks(ps);
	}
	if (ps->p < ps->end && *ps->p == '(') {
		rc = parse_version(ps, atom);
		if (rc)
			return rc;
		skip_blanks(ps);
	}
	if (ps->p < ps->end && *ps->p == '[') {
		rc = parse_archlist(ps, atom);
		if (rc)
			return rc;
		skip_blanks(ps);
	}
	while (ps->p < ps->end && *ps->p == '<') {
		/* "foo <= 1.0" is a constraint that lost its parentheses, not a profile named "=". */
		if (ps->p + 1 < ps->end && (ps->p[1] == '=' || ps->p[1] == '<'))
			return fail(ps, ps->p, "version constraint without '('");
		rc = parse_profile_list(ps, atom);
		if (rc)
			return rc;
		skip_blanks(ps);
	}
	ps->natoms++;
	if (ps->each && (rc = ps->each(ps->each_ctx, atom, ps->ngroups, ps->err)))
		return rc;

	if (ps->p < ps->end && *ps->p != ',' && *ps->p != '|') {
		const char *at = ps->p;
		char d[16];

		if (*at == ')' || *at == ']' || *at == '>') {
			if (*at == '>' && at + 1 < ps->end && (at[1] == '=' || at[1] == '>'))
				return fail(ps, at, "version constraint without '('");
			return dk_err_set(ps->err, DK_EINPUT, "unbalanced '%c' at column %zu", *at, column(ps, at));
		}
		if (*at == '=')
			return fail(ps, at, "version constraint without '('");
		return dk_err_set(ps->err, DK_EINPUT, "unexpected %s after '%.*s' at column %zu", describe(*at, d),
				  atom->name.n > QUOTE_MAX ? QUOTE_MAX : (int)atom->name.n, atom->name.p,
				  column(ps, at));
	}
	return 0;
}

static int parse_group(struct parser *ps)
{
	size_t first = ps->natoms;
	int rc;

	for (;;) {
		rc = parse_atom(ps);
		if (rc)
			return rc;
		if (ps->p >= ps->end || *ps->p != '|')
			break;
		if (!(ps->flags & DK_REL_ALLOW_ALTERNATIVES))
			return fail(ps, ps->p, "alternatives ('|') not allowed here");
		ps->p++;
		skip_blanks(ps);
	}
	if (ps->fill) {
		ps->groups[ps->ngroups].alts = ps->atoms + first;
		ps->groups[ps->ngroups].count = ps->natoms - first;
	}
	ps->ngroups++;
	return 0;
}

/*
 * A trailing ',' (with only blanks after it) is accepted, as apt and
 * dpkg-dev's Dpkg::Deps accept it: hand-written debian/control files carry
 * one often and dpkg-gencontrol drops it. dpkg's own C parser would reject
 * it, and like dpkg and apt an empty group elsewhere (", ,", a leading ',')
 * and an empty alternative ("a | | b", "a |") are errors.
 */
static int parse_field(struct parser *ps)
{
	int rc;

	skip_blanks(ps);
	while (ps->p < ps->end) {
		rc = parse_group(ps);
		if (rc)
			return rc;
		if (ps->p >= ps->end)
			break;
		ps->p++; /* the ',' parse_atom stopped at */
		skip_blanks(ps);
	}
	return 0;
}

static void *alloc_array(struct dk_arena *arena, size_t count, size_t size)
{
	if (count == 0)
		return NULL;
	if (count > SIZE_MAX / size)
		return NULL;
	return dk_arena_alloc(arena, count * size);
}

int dk_relation_parse(const char *s, size_t len, unsigned flags, struct dk_arena *arena,
		      struct dk_relation *rel, struct dk_err *err)
{
	struct parser ps = { .s = s, .p = s, .end = s + len, .flags = flags, .err = err };
	size_t ngroups, natoms, narchs, nplists, nterms;
	int rc;

	rel->groups = NULL;
	rel->count = 0;
	rc = parse_field(&ps);
	if (rc)
		return rc;
	if (ps.ngroups == 0)
		return 0;

	ngroups = ps.ngroups;
	natoms = ps.natoms;
	narchs = ps.narchs;
	nplists = ps.nplists;
	nterms = ps.nterms;
	ps.groups = alloc_array(arena, ngroups, sizeof(*ps.groups));
	ps.atoms = alloc_array(arena, natoms, sizeof(*ps.atoms));
	ps.archs = alloc_array(arena, narchs, sizeof(*ps.archs));
	ps.plists = alloc_array(arena, nplists, sizeof(*ps.plists));
	ps.terms = alloc_array(arena, nterms, sizeof(*ps.terms));
	if (!ps.groups || !ps.atoms || (narchs && !ps.archs) || (nplists && !ps.plists) || (nterms && !ps.terms))
		return dk_err_set(err, DK_ENOMEM, "out of memory for %zu dependencies", natoms);

	ps.fill = true;
	ps.p = s;
	ps.ngroups = ps.natoms = ps.narchs = ps.nplists = ps.nterms = 0;
	rc = parse_field(&ps);
	if (rc || ps.ngroups != ngroups || ps.natoms != natoms || ps.narchs != narchs || ps.nplists != nplists ||
	    ps.nterms != nterms)
		return dk_err_set(err, DK_EINTERNAL, "relation parser passes disagree");
	rel->groups = ps.groups;
	rel->count = ngroups;
	return 0;
}

int dk_relation_scan(const char *s, size_t len, unsigned flags, dk_relation_atom_fn *each, void *ctx,
		     struct dk_err *err)
{
	struct parser ps = { .s = s, .p = s, .end = s + len, .flags = flags, .err = err, .each = each,
			     .each_ctx = ctx };

	return parse_field(&ps);
}

bool dk_relop_satisfied(enum dk_relop op, int cmp_ver_vs_ref)
{
	switch (op) {
	case DK_REL_ANY:
		return true;
	case DK_REL_LT:
		return cmp_ver_vs_ref < 0;
	case DK_REL_LE:
		return cmp_ver_vs_ref <= 0;
	case DK_REL_EQ:
		return cmp_ver_vs_ref == 0;
	case DK_REL_GE:
		return cmp_ver_vs_ref >= 0;
	case DK_REL_GT:
		return cmp_ver_vs_ref > 0;
	}
	return false;
}

const char *dk_relop_str(enum dk_relop op)
{
	switch (op) {
	case DK_REL_ANY:
		return "";
	case DK_REL_LT:
		return "<<";
	case DK_REL_LE:
		return "<=";
	case DK_REL_EQ:
		return "=";
	case DK_REL_GE:
		return ">=";
	case DK_REL_GT:
		return ">>";
	}
	return "?";
}
