/* pkglist.c - package lists: strict YAML reading (libyaml events) into struct dk_pkglist */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include <debkeep/buf.h>
#include <debkeep/input.h>
#include <debkeep/pkglist.h>
#include <debkeep/strpool.h>
#include <debkeep/utf8.h>

#include "banned.h"

/* A package list is written by hand: anything near this size is an accident or an attack. */
#define PKGLIST_MAX_BYTES ((size_t)16 << 20)

/* How much of a user's string a message quotes. */
#define QUOTE_MAX 64

static const char *const prio_names[] = {
	[DK_PRIO_NONE] = "none",
	[DK_PRIO_REQUIRED] = "required",
	[DK_PRIO_IMPORTANT] = "important",
	[DK_PRIO_STANDARD] = "standard",
	[DK_PRIO_OPTIONAL] = "optional",
	[DK_PRIO_EXTRA] = "extra",
};

enum dk_priority dk_priority_parse(const char *s, size_t n)
{
	for (size_t p = DK_PRIO_REQUIRED; p < sizeof(prio_names) / sizeof(prio_names[0]); p++)
		if (strlen(prio_names[p]) == n && memcmp(prio_names[p], s, n) == 0)
			return (enum dk_priority)p;
	return DK_PRIO_NONE;
}

const char *dk_priority_name(enum dk_priority p)
{
	if ((size_t)p >= sizeof(prio_names) / sizeof(prio_names[0]))
		return prio_names[DK_PRIO_NONE];
	return prio_names[p];
}

/* Where a name was met, per interned id: catches repeats and request/exclude conflicts in O(1). */
struct seen {
	unsigned arch;
	unsigned req;
	unsigned exc;
};

struct ctx {
	struct dk_pkglist *pl;
	const char *name;
	const char *data;
	size_t len;
	struct dk_err *err;
	yaml_parser_t parser;
	yaml_event_t ev;
	bool have_ev;
	struct dk_strpool pool;
	struct seen *seen;
	size_t nseen;
	struct dk_buf archs;
	struct dk_buf pkgs;
	struct dk_buf excl;
};

DK_PRINTF(3, 4) static int fail(struct ctx *c, size_t line, const char *fmt, ...)
{
	char what[DK_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return dk_err_set(c->err, DK_EINPUT, "%s:%zu: %s", c->name, line, what);
}

static int nomem(struct ctx *c)
{
	return dk_err_set(c->err, DK_ENOMEM, "%s: out of memory", c->name);
}

/* A user's string made safe for a one-line message: printable ASCII kept, the rest '?', long ones cut. */
static const char *quote(char *out, const char *s, size_t n)
{
	size_t i, o = 0;

	for (i = 0; i < n && o < QUOTE_MAX; i++)
		out[o++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	if (i < n) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

static size_t ev_line(const yaml_event_t *e)
{
	return e->start_mark.line + 1;
}

static const char *ev_str(const yaml_event_t *e)
{
	return (const char *)e->data.scalar.value;
}

static bool ev_null(const yaml_event_t *e)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };

	if (e->type != YAML_SCALAR_EVENT || e->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
		if (strcmp(ev_str(e), nulls[i]) == 0)
			return true;
	return false;
}

static const char *ev_kind(const yaml_event_t *e)
{
	switch (e->type) {
	case YAML_SCALAR_EVENT:
		return ev_null(e) ? "empty" : "a string";
	case YAML_SEQUENCE_START_EVENT:
		return "a list";
	case YAML_MAPPING_START_EVENT:
		return "a mapping";
	default:
		return "nothing";
	}
}

static int syntax_error(struct ctx *c)
{
	const yaml_parser_t *p = &c->parser;
	const char *problem = p->problem ? p->problem : "syntax error";
	size_t line = 1;

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		return nomem(c);
	case YAML_READER_ERROR:
		/* The reader reports a byte offset, not a mark. */
		for (size_t i = 0; i < p->problem_offset && i < c->len; i++)
			line += c->data[i] == '\n';
		return fail(c, line, "%s", problem);
	default:
		if (p->context)
			return fail(c, p->problem_mark.line + 1, "%s (%s at line %zu)", problem, p->context,
				    p->context_mark.line + 1);
		return fail(c, p->problem_mark.line + 1, "%s", problem);
	}
}

/*
 * The next event into c->ev. Aliases, anchors and tags are refused here, once for every node:
 * a package list is plain data, and an alias would let one entry stand for many.
 */
static int next(struct ctx *c)
{
	const yaml_char_t *anchor = NULL, *tag = NULL;
	char q[QUOTE_MAX + 4];

	if (c->have_ev)
		yaml_event_delete(&c->ev);
	c->have_ev = false;
	if (!yaml_parser_parse(&c->parser, &c->ev))
		return syntax_error(c);
	c->have_ev = true;
	switch (c->ev.type) {
	case YAML_ALIAS_EVENT:
		return fail(c, ev_line(&c->ev), "aliases are not supported (*%s)",
			    quote(q, (const char *)c->ev.data.alias.anchor,
				  strlen((const char *)c->ev.data.alias.anchor)));
	case YAML_SCALAR_EVENT:
		anchor = c->ev.data.scalar.anchor;
		tag = c->ev.data.scalar.tag;
		if (strlen(ev_str(&c->ev)) != c->ev.data.scalar.length)
			return fail(c, ev_line(&c->ev), "NUL character in a string");
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = c->ev.data.sequence_start.anchor;
		tag = c->ev.data.sequence_start.tag;
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = c->ev.data.mapping_start.anchor;
		tag = c->ev.data.mapping_start.tag;
		break;
	default:
		break;
	}
	if (anchor)
		return fail(c, ev_line(&c->ev), "anchors and aliases are not supported (&%s)",
			    quote(q, (const char *)anchor, strlen((const char *)anchor)));
	if (tag)
		return fail(c, ev_line(&c->ev), "tags are not supported (%s)",
			    quote(q, (const char *)tag, strlen((const char *)tag)));
	return 0;
}

static struct seen *seen_get(struct ctx *c, const char *s, size_t n)
{
	dk_id id = dk_strpool_intern(&c->pool, s, n);

	if (!id)
		return NULL;
	if (id >= c->nseen) {
		size_t nn = c->nseen ? c->nseen * 2 : 256;
		struct seen *ns;

		while (nn <= id)
			nn *= 2;
		ns = realloc(c->seen, nn * sizeof(*ns));
		if (!ns)
			return NULL;
		memset(ns + c->nseen, 0, (nn - c->nseen) * sizeof(*ns));
		c->seen = ns;
		c->nseen = nn;
	}
	return &c->seen[id];
}

/* Debian architecture names (dpkg's rule, lower case only): [a-z0-9][a-z0-9-]*. */
static bool arch_valid(const char *s, size_t n)
{
	if (n == 0 || s[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

/* Debian Policy 5.6.1: at least two of [a-z0-9+.-], starting with a letter or digit. */
static bool pkg_valid(const char *s, size_t n)
{
	if (n < 2 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '+' ||
		      s[i] == '-' || s[i] == '.'))
			return false;
	return true;
}

/* Codenames and suite names; the release ends up in paths, so no '/' and nothing exotic. */
static bool release_valid(const char *s, size_t n)
{
	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '_' || s[i] == '+' || s[i] == '-'))
			return false;
	return true;
}

/* The current event as a non-empty string for key `what`. */
static int want_string(struct ctx *c, const char *what)
{
	if (c->ev.type != YAML_SCALAR_EVENT)
		return fail(c, ev_line(&c->ev), "'%s' must be a string, not %s", what, ev_kind(&c->ev));
	if (ev_null(&c->ev) || c->ev.data.scalar.length == 0)
		return fail(c, ev_line(&c->ev), "'%s' is empty", what);
	return 0;
}

static int want_list(struct ctx *c, const char *what)
{
	if (c->ev.type != YAML_SEQUENCE_START_EVENT)
		return fail(c, ev_line(&c->ev), "'%s' must be a list, not %s", what, ev_kind(&c->ev));
	return 0;
}

static char *copy_str(struct ctx *c)
{
	return dk_arena_strndup(&c->pl->arena, ev_str(&c->ev), c->ev.data.scalar.length);
}

static int parse_release(struct ctx *c)
{
	char q[QUOTE_MAX + 4];
	int r = want_string(c, "release");

	if (r)
		return r;
	if (!release_valid(ev_str(&c->ev), c->ev.data.scalar.length))
		return fail(c, ev_line(&c->ev), "invalid release '%s' (letters, digits, '.', '_', '+' and '-')",
			    quote(q, ev_str(&c->ev), c->ev.data.scalar.length));
	c->pl->release = copy_str(c);
	return c->pl->release ? 0 : nomem(c);
}

static int parse_priority(struct ctx *c)
{
	char q[QUOTE_MAX + 4];
	enum dk_priority p;
	int r = want_string(c, "priority");

	if (r)
		return r;
	p = dk_priority_parse(ev_str(&c->ev), c->ev.data.scalar.length);
	if (p > DK_PRIO_STANDARD || (p == DK_PRIO_NONE && strcmp(ev_str(&c->ev), "none") != 0))
		return fail(c, ev_line(&c->ev),
			    "invalid priority '%s' (expected required, important, standard or none)",
			    quote(q, ev_str(&c->ev), c->ev.data.scalar.length));
	c->pl->priority = p;
	return 0;
}

static int parse_archs(struct ctx *c)
{
	char q[QUOTE_MAX + 4];
	size_t start = ev_line(&c->ev);
	int r = want_list(c, "architectures");

	while (!r && !(r = next(c)) && c->ev.type != YAML_SEQUENCE_END_EVENT) {
		size_t n, line = ev_line(&c->ev);
		struct seen *sn;
		const char *s;
		char *copy;

		if (c->ev.type != YAML_SCALAR_EVENT)
			return fail(c, line, "each architecture must be a string, not %s", ev_kind(&c->ev));
		s = ev_str(&c->ev);
		n = c->ev.data.scalar.length;
		if (!arch_valid(s, n))
			return fail(c, line,
				    "invalid architecture '%s' (lower-case letters, digits and '-', "
				    "starting with a letter or digit)", quote(q, s, n));
		if (strcmp(s, "all") == 0 || strcmp(s, "any") == 0)
			return fail(c, line, "'%s' is not a machine architecture", s);
		sn = seen_get(c, s, n);
		if (!sn)
			return nomem(c);
		if (sn->arch)
			return fail(c, line, "architecture '%s' listed twice (first at line %u)", s, sn->arch);
		sn->arch = (unsigned)line;
		copy = copy_str(c);
		if (!copy || dk_buf_add(&c->archs, &copy, sizeof(copy)))
			return nomem(c);
	}
	if (!r && c->archs.len == 0)
		return fail(c, start, "'architectures' is empty");
	return r;
}

/* A package name at the current event: checked, recorded, copied. */
static int take_name(struct ctx *c, const char **out, bool requested)
{
	char q[QUOTE_MAX + 4];
	const char *s = ev_str(&c->ev);
	size_t n = c->ev.data.scalar.length, line = ev_line(&c->ev);
	struct seen *sn;

	if (!pkg_valid(s, n))
		return fail(c, line,
			    "invalid package name '%s' (at least 2 characters from a-z, 0-9, '+', '-', '.', "
			    "starting with a letter or digit)", quote(q, s, n));
	sn = seen_get(c, s, n);
	if (!sn)
		return nomem(c);
	if (requested && sn->req)
		return fail(c, line, "package '%s' requested twice (first at line %u)", s, sn->req);
	if (!requested && sn->exc)
		return fail(c, line, "package '%s' excluded twice (first at line %u)", s, sn->exc);
	if (requested ? sn->exc : sn->req)
		return fail(c, line, "package '%s' is both requested (line %u) and excluded (line %u)", s,
			    requested ? (unsigned)line : sn->req, requested ? sn->exc : (unsigned)line);
	if (requested)
		sn->req = (unsigned)line;
	else
		sn->exc = (unsigned)line;
	*out = copy_str(c);
	return *out ? 0 : nomem(c);
}

static int parse_exclude(struct ctx *c)
{
	int r = want_list(c, "exclude");

	while (!r && !(r = next(c)) && c->ev.type != YAML_SEQUENCE_END_EVENT) {
		const char *name;

		if (c->ev.type != YAML_SCALAR_EVENT)
			return fail(c, ev_line(&c->ev), "each excluded package must be a string, not %s",
				    ev_kind(&c->ev));
		r = take_name(c, &name, false);
		if (!r && dk_buf_add(&c->excl, &name, sizeof(name)))
			return nomem(c);
	}
	return r;
}

/* Reasons end up on terminals and in reports: no escape sequences. */
static bool has_control(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if ((ch < 0x20 && ch != '\n' && ch != '\t') || ch == 0x7f)
			return true;
	}
	return false;
}

static bool blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\n' && s[i] != '\t')
			return false;
	return true;
}

static int parse_entry(struct ctx *c)
{
	struct dk_pkglist_entry e = { NULL, NULL, (unsigned)ev_line(&c->ev) };
	size_t name_line = 0, reason_line = 0;
	int r;

	if (c->ev.type != YAML_MAPPING_START_EVENT)
		return fail(c, ev_line(&c->ev), "each package must be a mapping with 'name' and 'reason', not %s",
			    ev_kind(&c->ev));
	while (!(r = next(c)) && c->ev.type != YAML_MAPPING_END_EVENT) {
		char q[QUOTE_MAX + 4];
		size_t line = ev_line(&c->ev);
		bool is_name;

		if (c->ev.type != YAML_SCALAR_EVENT)
			return fail(c, line, "keys must be strings, not %s", ev_kind(&c->ev));
		is_name = strcmp(ev_str(&c->ev), "name") == 0;
		if (!is_name && strcmp(ev_str(&c->ev), "reason") != 0)
			return fail(c, line, "unknown key '%s' in a package entry (expected name, reason)",
				    quote(q, ev_str(&c->ev), c->ev.data.scalar.length));
		if (is_name ? name_line : reason_line)
			return fail(c, line, "duplicate key '%s' (first at line %zu)", is_name ? "name" : "reason",
				    is_name ? name_line : reason_line);
		*(is_name ? &name_line : &reason_line) = line;
		if ((r = next(c)))
			return r;
		if (is_name) {
			if ((r = want_string(c, "name")) || (r = take_name(c, &e.name, true)))
				return r;
			continue;
		}
		/* The reason is the point of the file: an empty one is as good as none. */
		if (c->ev.type != YAML_SCALAR_EVENT)
			return fail(c, ev_line(&c->ev), "'reason' must be a string, not %s", ev_kind(&c->ev));
		if (ev_null(&c->ev) || blank(ev_str(&c->ev), c->ev.data.scalar.length))
			return fail(c, ev_line(&c->ev), "'reason' is empty");
		if (has_control(ev_str(&c->ev), c->ev.data.scalar.length))
			return fail(c, ev_line(&c->ev), "'reason' contains a control character");
		e.reason = copy_str(c);
		if (!e.reason)
			return nomem(c);
	}
	if (r)
		return r;
	if (!e.name)
		return fail(c, e.line, "package entry without 'name'");
	if (!e.reason)
		return fail(c, e.line, "package '%s' has no reason (say why it is supported)", e.name);
	return dk_buf_add(&c->pkgs, &e, sizeof(e)) ? nomem(c) : 0;
}

static int parse_packages(struct ctx *c)
{
	int r = want_list(c, "packages");

	while (!r && !(r = next(c)) && c->ev.type != YAML_SEQUENCE_END_EVENT)
		r = parse_entry(c);
	return r;
}

static const struct top_key {
	const char *key;
	int (*parse)(struct ctx *c);
	bool required;
} top_keys[] = {
	{ "release", parse_release, true },
	{ "architectures", parse_archs, true },
	{ "priority", parse_priority, false },
	{ "packages", parse_packages, true },
	{ "exclude", parse_exclude, false },
};

#define NTOP (sizeof(top_keys) / sizeof(top_keys[0]))

static int parse_doc(struct ctx *c)
{
	size_t seen[NTOP] = { 0 };
	size_t doc, start;
	int r;

	if ((r = next(c)) || (r = next(c)))
		return r;
	if (c->ev.type == YAML_STREAM_END_EVENT)
		return fail(c, 1, "empty package list (expected a mapping with release, architectures and packages)");
	doc = ev_line(&c->ev);
	if ((r = next(c)))
		return r;
	if (ev_null(&c->ev))
		return fail(c, doc,
			    "empty package list (expected a mapping with release, architectures and packages)");
	if (c->ev.type != YAML_MAPPING_START_EVENT)
		return fail(c, ev_line(&c->ev), "the document must be a mapping, not %s", ev_kind(&c->ev));
	start = ev_line(&c->ev);
	while (!(r = next(c)) && c->ev.type != YAML_MAPPING_END_EVENT) {
		char q[QUOTE_MAX + 4];
		size_t k, line = ev_line(&c->ev);

		if (c->ev.type != YAML_SCALAR_EVENT)
			return fail(c, line, "keys must be strings, not %s", ev_kind(&c->ev));
		for (k = 0; k < NTOP && strcmp(top_keys[k].key, ev_str(&c->ev)) != 0; k++)
			;
		if (k == NTOP)
			return fail(c, line,
				    "unknown key '%s' (expected release, architectures, priority, packages, exclude)",
				    quote(q, ev_str(&c->ev), c->ev.data.scalar.length));
		if (seen[k])
			return fail(c, line, "duplicate key '%s' (first at line %zu)", top_keys[k].key, seen[k]);
		seen[k] = line;
		if ((r = next(c)) || (r = top_keys[k].parse(c)))
			return r;
	}
	if (r)
		return r;
	for (size_t k = 0; k < NTOP; k++)
		if (top_keys[k].required && !seen[k])
			return fail(c, start, "missing '%s'", top_keys[k].key);
	if ((r = next(c)) || (r = next(c)))
		return r;
	if (c->ev.type == YAML_DOCUMENT_START_EVENT)
		return fail(c, ev_line(&c->ev), "more than one YAML document");
	return 0;
}

/* NUL bytes and broken UTF-8 are refused before libyaml sees them, with the line they are on. */
static int check_bytes(struct ctx *c)
{
	size_t line = 1, i = 0;

	while (i < c->len) {
		size_t k = dk_utf8_seq(c->data + i, c->len - i);

		if (c->data[i] == '\0')
			return fail(c, line, "NUL byte");
		if (!k)
			return fail(c, line, "invalid UTF-8");
		line += c->data[i] == '\n';
		i += k;
	}
	return 0;
}

static int finish(struct ctx *c)
{
	struct dk_pkglist *pl = c->pl;

	pl->narchs = c->archs.len / sizeof(*pl->archs);
	pl->npackages = c->pkgs.len / sizeof(*pl->packages);
	pl->nexclude = c->excl.len / sizeof(*pl->exclude);
	pl->archs = dk_arena_memdup(&pl->arena, c->archs.data, c->archs.len);
	pl->packages = dk_arena_memdup(&pl->arena, c->pkgs.data, c->pkgs.len);
	pl->exclude = dk_arena_memdup(&pl->arena, c->excl.data, c->excl.len);
	if (!pl->archs || !pl->packages || !pl->exclude)
		return nomem(c);
	return 0;
}

int dk_pkglist_load_mem(struct dk_pkglist *pl, const char *data, size_t len, const char *name,
			struct dk_err *err)
{
	struct ctx c = { .pl = pl, .data = data, .len = len, .err = err, .pool = DK_STRPOOL_INIT,
			 .archs = DK_BUF_INIT, .pkgs = DK_BUF_INIT, .excl = DK_BUF_INIT };
	int r;

	*pl = (struct dk_pkglist)DK_PKGLIST_INIT;
	pl->filename = c.name = dk_arena_strdup(&pl->arena, name ? name : "<input>");
	if (!c.name)
		return dk_err_set(err, DK_ENOMEM, "%s: out of memory", name ? name : "<input>");
	if (len > PKGLIST_MAX_BYTES) {
		r = dk_err_set(err, DK_EINPUT, "%s: larger than the limit of %zu bytes", c.name, PKGLIST_MAX_BYTES);
		goto out;
	}
	if ((r = check_bytes(&c)))
		goto out;
	if (!yaml_parser_initialize(&c.parser)) {
		r = nomem(&c);
		goto out;
	}
	yaml_parser_set_input_string(&c.parser, (const unsigned char *)data, len);
	r = parse_doc(&c);
	if (c.have_ev)
		yaml_event_delete(&c.ev);
	yaml_parser_delete(&c.parser);
	if (!r)
		r = finish(&c);
out:
	dk_buf_release(&c.archs);
	dk_buf_release(&c.pkgs);
	dk_buf_release(&c.excl);
	dk_strpool_release(&c.pool);
	free(c.seen);
	if (r)
		dk_pkglist_release(pl);
	return r;
}

int dk_pkglist_load(struct dk_pkglist *pl, const char *path, struct dk_err *err)
{
	struct dk_buf b = DK_BUF_INIT;
	int r;

	*pl = (struct dk_pkglist)DK_PKGLIST_INIT;
	r = dk_read_file(path, &b, PKGLIST_MAX_BYTES, err);
	if (!r)
		r = dk_pkglist_load_mem(pl, b.data, b.len, path, err);
	dk_buf_release(&b);
	return r;
}

void dk_pkglist_release(struct dk_pkglist *pl)
{
	dk_arena_release(&pl->arena);
	*pl = (struct dk_pkglist)DK_PKGLIST_INIT;
}
