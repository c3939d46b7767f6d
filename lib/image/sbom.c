/* sbom.c - CycloneDX 1.5 and SPDX 2.3 SBOMs of an image's packages, as deterministic JSON */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include <debkeep/buf.h>
#include <debkeep/hash.h>
#include <debkeep/relation.h>
#include <debkeep/sbom.h>
#include <debkeep/version.h>

#include "banned.h"

/* Why the document is not being built: the first failure wins, later calls do nothing. */
struct ctx {
	struct dk_err *err;
	int r;
};

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Policy 5.6.1: lower case letters, digits, '+', '-', '.', starting with an alphanumeric. */
static bool valid_name(const char *s)
{
	if (!s || !is_lower_alnum(s[0]))
		return false;
	for (; *s; s++)
		if (!is_lower_alnum(*s) && *s != '+' && *s != '-' && *s != '.')
			return false;
	return true;
}

/* Policy 5.6.12: [epoch:]upstream[-revision], alphanumerics and . + ~ - : only. */
static bool valid_version(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if (!is_alnum(*s) && !strchr(".+~-:", *s))
			return false;
	return true;
}

/* Architectures, distribution names and codenames: "amd64", "debian", "bookworm". */
static bool valid_word(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if (!is_lower_alnum(*s) && *s != '-' && *s != '.')
			return false;
	return true;
}

static bool valid_sha256(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (!is_hex(s[n]))
			return false;
	return n == 64;
}

/*
 * The license expressions come from dk_copyright_license(); anything else a
 * caller passes must at least stay within the SPDX expression alphabet, or
 * the documents would not validate.
 */
static bool valid_expression(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!is_alnum(*s) && !strchr(".+-() ", *s))
			return false;
	return true;
}

/* Homepages are copied only when they are plain absolute http(s) URLs, which validators accept. */
static bool usable_url(const char *s)
{
	if (strncmp(s, "https://", 8) != 0 && strncmp(s, "http://", 7) != 0)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f || strchr("\"<>\\^`{|}", *s))
			return false;
	return true;
}

/* An address a mail system would take, for the contact entry: local@domain.tld in plain ASCII. */
static bool usable_email(const char *s, size_t n)
{
	const char *at = memchr(s, '@', n);
	bool dot = false;

	if (!at || at == s || at + 1 == s + n)
		return false;
	for (const char *q = s; q < at; q++)
		if ((unsigned char)*q <= ' ' || (unsigned char)*q >= 0x7f || strchr("<>()[],;:\"\\@", *q))
			return false;
	for (const char *q = at + 1; q < s + n; q++) {
		if (!is_alnum(*q) && *q != '-' && *q != '.')
			return false;
		dot |= *q == '.';
	}
	return dot && at[1] != '.' && s[n - 1] != '.';
}

/* "Name <email>" split in place of copies: name (blanks trimmed) and email, either may come out empty. */
static void split_maintainer(const char *m, const char **name, size_t *nlen, const char **email, size_t *elen)
{
	const char *lt = strchr(m, '<');
	const char *gt = lt ? strchr(lt, '>') : NULL;
	const char *e;

	*name = m;
	e = lt && gt ? lt : m + strlen(m);
	while (**name == ' ')
		(*name)++;
	while (e > *name && e[-1] == ' ')
		e--;
	*nlen = (size_t)(e - *name);
	*email = lt && gt ? lt + 1 : "";
	*elen = lt && gt ? (size_t)(gt - lt - 1) : 0;
}

static int fail(struct ctx *c, int code, const char *what, const struct dk_sbom_pkg *p, const char *field)
{
	if (c->r)
		return c->r;
	if (p)
		c->r = dk_err_set(c->err, code, "package %s: %s: %s", p->name ? p->name : "(unnamed)", field,
				  what);
	else
		c->r = dk_err_set(c->err, code, "%s: %s", field, what);
	return c->r;
}

/* Takes v and sets it; a NULL v (jansson's answer to bad UTF-8 or no memory) fails the document. */
static void put(struct ctx *c, json_t *obj, const char *key, json_t *v, const struct dk_sbom_pkg *p)
{
	if (c->r) {
		json_decref(v);
		return;
	}
	if (!v) {
		fail(c, DK_EINPUT, "not valid UTF-8", p, key);
		return;
	}
	if (json_object_set_new(obj, key, v))
		fail(c, DK_ENOMEM, "out of memory", p, key);
}

static void put_str(struct ctx *c, json_t *obj, const char *key, const char *s, const struct dk_sbom_pkg *p)
{
	put(c, obj, key, json_string(s), p);
}

static void put_strn(struct ctx *c, json_t *obj, const char *key, const char *s, size_t n,
		     const struct dk_sbom_pkg *p)
{
	put(c, obj, key, json_stringn(s, n), p);
}

static void append(struct ctx *c, json_t *arr, json_t *v)
{
	if (c->r) {
		json_decref(v);
		return;
	}
	if (!v || json_array_append_new(arr, v))
		fail(c, DK_ENOMEM, "out of memory", NULL, "sbom");
}

static json_t *new_obj(struct ctx *c)
{
	json_t *o = json_object();

	if (!o)
		fail(c, DK_ENOMEM, "out of memory", NULL, "sbom");
	return o;
}

static json_t *new_arr(struct ctx *c)
{
	json_t *a = json_array();

	if (!a)
		fail(c, DK_ENOMEM, "out of memory", NULL, "sbom");
	return a;
}

/* Percent-encode a purl component: only '+' of Debian's alphabet needs it (':' and '~' stay). */
static void add_purl_part(struct dk_buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '+')
			dk_buf_adds(b, "%2B");
		else
			dk_buf_addc(b, *s);
	}
}

static void purl(const struct dk_sbom_doc *d, const struct dk_sbom_pkg *p, struct dk_buf *b)
{
	dk_buf_reset(b);
	dk_buf_addf(b, "pkg:deb/%s/", d->distro ? d->distro : "debian");
	add_purl_part(b, p->name);
	dk_buf_addc(b, '@');
	add_purl_part(b, p->version);
	dk_buf_addf(b, "?arch=%s", p->arch);
	if (d->codename)
		dk_buf_addf(b, "&distro=%s", d->codename);
}

static int cmp_pkg(const void *a, const void *b)
{
	const struct dk_sbom_pkg *x = *(const struct dk_sbom_pkg *const *)a;
	const struct dk_sbom_pkg *y = *(const struct dk_sbom_pkg *const *)b;
	int c = strcmp(x->name, y->name);

	if (!c)
		c = strcmp(x->arch, y->arch);
	return c ? c : strcmp(x->version, y->version);
}

/* The packages checked and sorted: a fresh array of pointers (the caller's order must not matter). */
static const struct dk_sbom_pkg **sorted(const struct dk_sbom_doc *d, struct ctx *c)
{
	const struct dk_sbom_pkg **v;

	if (!d->name || !*d->name) {
		fail(c, DK_EINPUT, "missing", NULL, "image name");
		return NULL;
	}
	if ((d->distro && !valid_word(d->distro)) || (d->codename && !valid_word(d->codename))) {
		fail(c, DK_EINPUT, "not a lower-case word", NULL, "distribution or codename");
		return NULL;
	}
	if (d->image_sha256 && !valid_sha256(d->image_sha256)) {
		fail(c, DK_EINPUT, "not 64 hex digits", NULL, "image sha256");
		return NULL;
	}
	v = malloc((d->n ? d->n : 1) * sizeof(*v));
	if (!v) {
		fail(c, DK_ENOMEM, "out of memory", NULL, "sbom");
		return NULL;
	}
	for (size_t i = 0; i < d->n; i++) {
		const struct dk_sbom_pkg *p = &d->pkgs[i];

		v[i] = p;
		if (!valid_name(p->name))
			fail(c, DK_EINPUT, "not a Debian package name", p, "name");
		else if (!valid_version(p->version))
			fail(c, DK_EINPUT, "not a Debian version", p, "version");
		else if (!valid_word(p->arch))
			fail(c, DK_EINPUT, "not an architecture", p, "architecture");
		else if (p->sha256 && !valid_sha256(p->sha256))
			fail(c, DK_EINPUT, "not 64 hex digits", p, "sha256");
		else if (p->license && !valid_expression(p->license))
			fail(c, DK_EINPUT, "not an SPDX license expression", p, "license");
		else if ((p->source && !valid_name(p->source)) ||
			 (p->source_version && !valid_version(p->source_version)))
			fail(c, DK_EINPUT, "not a Debian source name and version", p, "source");
		if (c->r) {
			free(v);
			return NULL;
		}
	}
	qsort(v, d->n, sizeof(*v), cmp_pkg);
	for (size_t i = 1; i < d->n; i++)
		if (cmp_pkg(&v[i - 1], &v[i]) == 0) {
			fail(c, DK_EINPUT, "listed twice", v[i], v[i]->arch);
			free(v);
			return NULL;
		}
	return v;
}

/*
 * The dependency graph between the document's packages: the edges of v[i]
 * are to[first[i]..first[i + 1]), indexes into v, sorted, without repeats.
 * Each Pre-Depends or Depends group gives the first alternative a package
 * of the document satisfies: by name (version and architecture qualifier
 * checked), else through a Provides (a versioned dependency only through a
 * versioned Provides, as dpkg). A group nothing satisfies gives no edge: the
 * set is the resolver's closure, so that is an alternative another group or
 * package covers (or a document built by hand).
 */
struct provide {
	struct dk_slice name, version;
	uint32_t pkg;
};

struct graph {
	size_t *first;
	uint32_t *to;
	size_t n, alloc;
	struct provide *prov;
	size_t nprov, aprov;
};

struct walk {
	struct ctx *c;
	const struct dk_sbom_pkg **v;
	size_t nv;
	struct graph *g;
	uint32_t from;
	size_t group; /* the group being matched; SIZE_MAX before the first */
	bool done;    /* it has its edge */
};

static int slice_cmp(struct dk_slice a, const char *b, size_t bn)
{
	int c = memcmp(a.p, b, a.n < bn ? a.n : bn);

	return c ? c : (a.n > bn) - (a.n < bn);
}

static int cmp_provide(const void *a, const void *b)
{
	const struct provide *x = a, *y = b;
	int c = slice_cmp(x->name, y->name.p, y->name.n);

	return c ? c : (x->pkg > y->pkg) - (x->pkg < y->pkg);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

static int add_provide(void *ctx, const struct dk_dep_atom *a, size_t group, struct dk_err *err)
{
	struct walk *w = ctx;
	struct graph *g = w->g;

	(void)group;
	if (g->nprov == g->aprov) {
		size_t na = g->aprov ? 2 * g->aprov : 64;
		struct provide *p = realloc(g->prov, na * sizeof(*p));

		if (!p)
			return dk_err_set(err, DK_ENOMEM, "out of memory");
		g->prov = p;
		g->aprov = na;
	}
	g->prov[g->nprov++] = (struct provide){ a->name, a->op == DK_REL_EQ ? a->version : (struct dk_slice){ 0 },
						 w->from };
	return 0;
}

static bool arch_ok(const struct dk_dep_atom *a, const char *arch)
{
	if (!a->archqual.n || slice_cmp(a->archqual, "any", 3) == 0 || slice_cmp(a->archqual, "native", 6) == 0)
		return true;
	return slice_cmp(a->archqual, arch, strlen(arch)) == 0 || strcmp(arch, "all") == 0;
}

static bool version_ok(const struct dk_dep_atom *a, const char *ver, size_t n)
{
	return a->op == DK_REL_ANY ||
	       (n && dk_relop_satisfied(a->op, dk_version_cmp_str(ver, n, a->version.p, a->version.n)));
}

/* The index in v of the package that satisfies the atom, or -1. */
static long satisfier(const struct walk *w, const struct dk_dep_atom *a)
{
	size_t lo = 0, hi = w->nv;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (slice_cmp(a->name, w->v[mid]->name, strlen(w->v[mid]->name)) > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < w->nv && slice_cmp(a->name, w->v[i]->name, strlen(w->v[i]->name)) == 0; i++)
		if (arch_ok(a, w->v[i]->arch) && version_ok(a, w->v[i]->version, strlen(w->v[i]->version)))
			return (long)i;
	lo = 0;
	hi = w->g->nprov;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (slice_cmp(w->g->prov[mid].name, a->name.p, a->name.n) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t k = lo; k < w->g->nprov && slice_cmp(w->g->prov[k].name, a->name.p, a->name.n) == 0; k++) {
		const struct provide *p = &w->g->prov[k];

		if (arch_ok(a, w->v[p->pkg]->arch) && version_ok(a, p->version.p, p->version.n))
			return (long)p->pkg;
	}
	return -1;
}

static int add_edge(void *ctx, const struct dk_dep_atom *a, size_t group, struct dk_err *err)
{
	struct walk *w = ctx;
	struct graph *g = w->g;
	long to;

	if (group != w->group) {
		w->group = group;
		w->done = false;
	}
	if (w->done || (to = satisfier(w, a)) < 0)
		return 0;
	w->done = true;
	if ((uint32_t)to == w->from)
		return 0;
	if (g->n == g->alloc) {
		size_t na = g->alloc ? 2 * g->alloc : 256;
		uint32_t *p = realloc(g->to, na * sizeof(*p));

		if (!p)
			return dk_err_set(err, DK_ENOMEM, "out of memory");
		g->to = p;
		g->alloc = na;
	}
	g->to[g->n++] = (uint32_t)to;
	return 0;
}

static void graph_release(struct graph *g)
{
	free(g->first);
	free(g->to);
	free(g->prov);
}

/* Scan one relationship field of v[w->from] with each; a malformed field fails the document, naming it. */
static void scan_field(struct walk *w, const char *field, const char *text, unsigned flags,
		       dk_relation_atom_fn *each)
{
	struct dk_err e = DK_ERR_INIT;
	int r;

	w->group = SIZE_MAX;
	w->done = false;
	if (!text || w->c->r || !(r = dk_relation_scan(text, strlen(text), flags, each, w, &e)))
		return;
	fail(w->c, r, e.msg, w->v[w->from], field);
}

static int graph_build(struct ctx *c, const struct dk_sbom_pkg **v, size_t n, struct graph *g)
{
	struct walk w = { c, v, n, g, 0, SIZE_MAX, false };

	*g = (struct graph){ 0 };
	if (!(g->first = malloc((n + 1) * sizeof(*g->first))))
		return fail(c, DK_ENOMEM, "out of memory", NULL, "dependencies");
	for (w.from = 0; w.from < n && !c->r; w.from++)
		scan_field(&w, "Provides", v[w.from]->provides, DK_REL_PROVIDES, add_provide);
	if (c->r)
		return c->r;
	if (g->nprov > 1)
		qsort(g->prov, g->nprov, sizeof(*g->prov), cmp_provide);
	for (w.from = 0; w.from < n && !c->r; w.from++) {
		size_t start = g->n, out = start;

		g->first[w.from] = start;
		scan_field(&w, "Pre-Depends", v[w.from]->pre_depends, DK_REL_BINARY, add_edge);
		scan_field(&w, "Depends", v[w.from]->depends, DK_REL_BINARY, add_edge);
		if (g->n - start > 1)
			qsort(g->to + start, g->n - start, sizeof(*g->to), cmp_u32);
		for (size_t k = start; k < g->n; k++)
			if (k == start || g->to[k] != g->to[out - 1])
				g->to[out++] = g->to[k];
		g->n = out;
	}
	g->first[n] = g->n;
	return c->r;
}

static int rfc3339(int64_t t, char out[32], struct ctx *c)
{
	time_t tt = (time_t)t;
	struct tm tm;

	/* Four-digit years only: RFC 3339 has no other. */
	if (t < 0 || t > 253402300799 || (int64_t)tt != t || !gmtime_r(&tt, &tm) ||
	    !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
		return fail(c, DK_EINPUT, "out of range", NULL, "creation time");
	return 0;
}

/* Lower-case hex of a SHA-256 given in either case, for "content" and "checksumValue". */
static void lower_hex(const char *s, char out[65])
{
	for (int i = 0; i < 64; i++)
		out[i] = (char)(s[i] >= 'A' && s[i] <= 'F' ? s[i] + 32 : s[i]);
	out[64] = '\0';
}

/*
 * Serialise root into out. The identifier at key (a placeholder until now)
 * becomes a function of the rest of the document: dumped once with the
 * placeholder, hashed, then set and dumped for real.
 */
static int finish(struct ctx *c, json_t *root, const char *key, const char *prefix, bool uuid,
		  struct dk_buf *out)
{
	unsigned char md[DK_HASH_MAX];
	char hex[2 * DK_HASH_MAX + 1];
	struct dk_buf id = DK_BUF_INIT;
	char *s;
	int r;

	if (c->r)
		return c->r;
	s = json_dumps(root, JSON_INDENT(2));
	if (!s)
		return fail(c, DK_ENOMEM, "out of memory", NULL, "sbom");
	r = dk_hash_mem(DK_SHA256, s, strlen(s), md, c->err);
	free(s);
	if (r)
		return c->r = r;
	if (uuid) {
		/* RFC 4122 name-based layout: version 5 in the high nibble of byte 6, variant 10 in byte 8. */
		md[6] = (unsigned char)((md[6] & 0x0f) | 0x50);
		md[8] = (unsigned char)((md[8] & 0x3f) | 0x80);
		dk_hex(md, 16, hex);
		dk_buf_addf(&id, "%s%.8s-%.4s-%.4s-%.4s-%.12s", prefix, hex, hex + 8, hex + 12, hex + 16,
			    hex + 20);
	} else {
		dk_hex(md, 32, hex);
		dk_buf_addf(&id, "%s%s", prefix, hex);
	}
	if (dk_buf_check(&id, c->err, key))
		c->r = DK_ENOMEM;
	put_str(c, root, key, id.data, NULL);
	dk_buf_release(&id);
	if (c->r)
		return c->r;
	s = json_dumps(root, JSON_INDENT(2));
	if (!s)
		return fail(c, DK_ENOMEM, "out of memory", NULL, "sbom");
	dk_buf_adds(out, s);
	dk_buf_addc(out, '\n');
	free(s);
	return dk_buf_check(out, c->err, "sbom");
}

static json_t *sha256_hash(struct ctx *c, const char *sha)
{
	json_t *arr = new_arr(c), *h = new_obj(c);
	char lo[65];

	if (c->r) {
		json_decref(arr);
		json_decref(h);
		return NULL;
	}
	lower_hex(sha, lo);
	put_str(c, h, "alg", "SHA-256", NULL);
	put_str(c, h, "content", lo, NULL);
	append(c, arr, h);
	return arr;
}

static void property(struct ctx *c, json_t *props, const char *name, const char *value)
{
	json_t *o = new_obj(c);

	if (!o)
		return;
	put_str(c, o, "name", name, NULL);
	put_str(c, o, "value", value, NULL);
	append(c, props, o);
}

static json_t *cdx_component(struct ctx *c, const struct dk_sbom_doc *d, const struct dk_sbom_pkg *p,
			     struct dk_buf *pu)
{
	json_t *o = new_obj(c);

	if (!o)
		return NULL;
	purl(d, p, pu);
	put_str(c, o, "type", "library", p);
	put_str(c, o, "bom-ref", pu->data, p);
	if (p->maintainer && *p->maintainer) {
		const char *name, *email;
		size_t nlen, elen;
		json_t *sup = new_obj(c);

		split_maintainer(p->maintainer, &name, &nlen, &email, &elen);
		if (sup) {
			put_strn(c, sup, "name", nlen ? name : email, nlen ? nlen : elen, p);
			if (usable_email(email, elen)) {
				json_t *contacts = new_arr(c), *ct = new_obj(c);

				if (ct) {
					if (nlen)
						put_strn(c, ct, "name", name, nlen, p);
					put_strn(c, ct, "email", email, elen, p);
				}
				append(c, contacts, ct);
				put(c, sup, "contact", contacts, p);
			}
		}
		put(c, o, "supplier", sup, p);
		put_str(c, o, "publisher", p->maintainer, p);
	}
	put_str(c, o, "name", p->name, p);
	put_str(c, o, "version", p->version, p);
	if (p->summary && *p->summary)
		put_str(c, o, "description", p->summary, p);
	if (p->sha256)
		put(c, o, "hashes", sha256_hash(c, p->sha256), p);
	if (p->license) {
		json_t *lic = new_arr(c), *e = new_obj(c);

		put_str(c, e, "expression", p->license, p);
		append(c, lic, e);
		put(c, o, "licenses", lic, p);
	}
	put_str(c, o, "purl", pu->data, p);
	if (p->homepage && usable_url(p->homepage)) {
		json_t *refs = new_arr(c), *r = new_obj(c);

		put_str(c, r, "url", p->homepage, p);
		put_str(c, r, "type", "website", p);
		append(c, refs, r);
		put(c, o, "externalReferences", refs, p);
	}
	if (p->source) {
		json_t *props = new_arr(c);

		property(c, props, "debian:source", p->source);
		property(c, props, "debian:source_version",
			 p->source_version ? p->source_version : p->version);
		put(c, o, "properties", props, p);
	}
	return o;
}

int dk_sbom_cyclonedx(const struct dk_sbom_doc *d, struct dk_buf *out, struct dk_err *err)
{
	struct ctx c = { err, 0 };
	struct dk_buf pu = DK_BUF_INIT;
	const struct dk_sbom_pkg **v = sorted(d, &c);
	json_t *root, *meta, *tools, *tool, *tcomps, *image, *comps, *refs;
	struct graph g = { 0 };
	char ts[32];

	if (!v)
		return c.r;
	root = new_obj(&c);
	put_str(&c, root, "bomFormat", "CycloneDX", NULL);
	put_str(&c, root, "specVersion", "1.5", NULL);
	put_str(&c, root, "serialNumber", "", NULL);
	put(&c, root, "version", json_integer(1), NULL);
	meta = new_obj(&c);
	if (!rfc3339(d->created, ts, &c))
		put_str(&c, meta, "timestamp", ts, NULL);
	tools = new_obj(&c);
	tcomps = new_arr(&c);
	tool = new_obj(&c);
	put_str(&c, tool, "type", "application", NULL);
	put_str(&c, tool, "name", "debkeep", NULL);
	append(&c, tcomps, tool);
	put(&c, tools, "components", tcomps, NULL);
	put(&c, meta, "tools", tools, NULL);
	image = new_obj(&c);
	put_str(&c, image, "type", "operating-system", NULL);
	/* Not a purl, so it cannot clash with a package's bom-ref. */
	put_str(&c, image, "bom-ref", "debkeep:image", NULL);
	put_str(&c, image, "name", d->name, NULL);
	if (d->image_sha256)
		put(&c, image, "hashes", sha256_hash(&c, d->image_sha256), NULL);
	put(&c, meta, "component", image, NULL);
	put(&c, root, "metadata", meta, NULL);
	comps = new_arr(&c);
	refs = new_arr(&c);
	for (size_t i = 0; i < d->n && !c.r; i++) {
		append(&c, comps, cdx_component(&c, d, v[i], &pu));
		append(&c, refs, json_string(pu.data));
	}
	put(&c, root, "components", comps, NULL);
	if (!graph_build(&c, v, d->n, &g)) {
		json_t *deps = new_arr(&c), *top = new_obj(&c);

		/* The image is made of every package; each package needs what its dependencies resolve to. */
		put_str(&c, top, "ref", "debkeep:image", NULL);
		put(&c, top, "dependsOn", json_copy(refs), NULL);
		append(&c, deps, top);
		for (size_t i = 0; i < d->n && !c.r; i++) {
			json_t *o = new_obj(&c), *on = new_arr(&c);

			put(&c, o, "ref", json_incref(json_array_get(refs, i)), v[i]);
			for (size_t k = g.first[i]; k < g.first[i + 1]; k++)
				append(&c, on, json_incref(json_array_get(refs, g.to[k])));
			put(&c, o, "dependsOn", on, v[i]);
			append(&c, deps, o);
		}
		put(&c, root, "dependencies", deps, NULL);
	}
	finish(&c, root, "serialNumber", "urn:uuid:", true, out);
	json_decref(root);
	json_decref(refs);
	graph_release(&g);
	dk_buf_release(&pu);
	free(v);
	return c.r;
}

/* SPDXRef-Package-NAME-ARCH with only [A-Za-z0-9.-]: '+' spelled "plus"; a clash gets "-2", "-3"... */
static void spdx_id(struct ctx *c, const struct dk_sbom_pkg *p, json_t *used, struct dk_buf *b)
{
	size_t base;

	dk_buf_reset(b);
	dk_buf_adds(b, "SPDXRef-Package-");
	for (const char *s = p->name; *s; s++) {
		if (*s == '+')
			dk_buf_adds(b, "plus");
		else
			dk_buf_addc(b, *s);
	}
	dk_buf_addf(b, "-%s", p->arch);
	base = b->len;
	for (unsigned k = 2; !b->failed && json_object_get(used, b->data); k++) {
		dk_buf_truncate(b, base);
		dk_buf_addf(b, "-%u", k);
	}
	if (b->failed)
		fail(c, DK_ENOMEM, "out of memory", p, "SPDXID");
	else
		put(c, used, b->data, json_true(), p);
}

/* Every LicenseRef-* the expression names, as keys of refs. */
static void collect_refs(struct ctx *c, const char *expr, json_t *refs)
{
	static const char pre[] = "LicenseRef-";

	for (const char *s = expr; (s = strstr(s, pre)) != NULL;) {
		size_t n = sizeof(pre) - 1;
		char id[256];

		while (is_alnum(s[n]) || s[n] == '.' || s[n] == '-')
			n++;
		if (n < sizeof(id)) {
			memcpy(id, s, n);
			id[n] = '\0';
			put(c, refs, id, json_true(), NULL);
		}
		s += n;
	}
}

static int cmp_cstr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The hasExtractedLicensingInfos entries SPDX requires for each LicenseRef, sorted. */
static json_t *extracted(struct ctx *c, json_t *refs)
{
	size_t n = json_object_size(refs), k = 0;
	const char **ids = malloc((n ? n : 1) * sizeof(*ids));
	json_t *arr = new_arr(c), *v;
	const char *key;

	if (!ids) {
		fail(c, DK_ENOMEM, "out of memory", NULL, "sbom");
		return arr;
	}
	json_object_foreach(refs, key, v)
		ids[k++] = key;
	qsort(ids, n, sizeof(*ids), cmp_cstr);
	for (size_t i = 0; i < n && !c->r; i++) {
		json_t *o = new_obj(c);
		char text[512];

		snprintf(text, sizeof(text),
			 "A license debian/copyright names \"%s\", not on the SPDX license list: its text is in the "
			 "copyright file of the packages that name it (/usr/share/doc/PACKAGE/copyright)",
			 ids[i] + strlen("LicenseRef-"));
		put_str(c, o, "licenseId", ids[i], NULL);
		put_str(c, o, "name", ids[i] + strlen("LicenseRef-"), NULL);
		put_str(c, o, "extractedText", text, NULL);
		append(c, arr, o);
	}
	free(ids);
	return arr;
}

static json_t *spdx_package(struct ctx *c, const struct dk_sbom_doc *d, const struct dk_sbom_pkg *p,
			    const char *id, struct dk_buf *pu)
{
	json_t *o = new_obj(c);
	struct dk_buf b = DK_BUF_INIT;

	if (!o)
		return NULL;
	put_str(c, o, "name", p->name, p);
	put_str(c, o, "SPDXID", id, p);
	put_str(c, o, "versionInfo", p->version, p);
	if (p->maintainer && *p->maintainer) {
		const char *name, *email;
		size_t nlen, elen;

		split_maintainer(p->maintainer, &name, &nlen, &email, &elen);
		dk_buf_addf(&b, "Organization: %.*s", (int)(nlen ? nlen : elen), nlen ? name : email);
		if (nlen && usable_email(email, elen))
			dk_buf_addf(&b, " (%.*s)", (int)elen, email);
		if (dk_buf_check(&b, c->err, "supplier"))
			fail(c, DK_ENOMEM, "out of memory", p, "supplier");
		put_str(c, o, "supplier", b.data, p);
	} else {
		put_str(c, o, "supplier", "NOASSERTION", p);
	}
	put_str(c, o, "downloadLocation", "NOASSERTION", p);
	put(c, o, "filesAnalyzed", json_false(), p);
	if (p->sha256) {
		json_t *sums = new_arr(c), *s = new_obj(c);
		char lo[65];

		lower_hex(p->sha256, lo);
		put_str(c, s, "algorithm", "SHA256", p);
		put_str(c, s, "checksumValue", lo, p);
		append(c, sums, s);
		put(c, o, "checksums", sums, p);
	}
	if (p->homepage && usable_url(p->homepage))
		put_str(c, o, "homepage", p->homepage, p);
	if (p->source) {
		dk_buf_reset(&b);
		dk_buf_addf(&b, "built from the Debian source package %s %s", p->source,
			    p->source_version ? p->source_version : p->version);
		put_str(c, o, "sourceInfo", b.data, p);
	}
	put_str(c, o, "licenseConcluded", "NOASSERTION", p);
	put_str(c, o, "licenseDeclared", p->license ? p->license : "NOASSERTION", p);
	put_str(c, o, "copyrightText", "NOASSERTION", p);
	if (p->summary && *p->summary)
		put_str(c, o, "summary", p->summary, p);
	{
		json_t *refs = new_arr(c), *r = new_obj(c);

		purl(d, p, pu);
		put_str(c, r, "referenceCategory", "PACKAGE-MANAGER", p);
		put_str(c, r, "referenceType", "purl", p);
		put_str(c, r, "referenceLocator", pu->data, p);
		append(c, refs, r);
		put(c, o, "externalRefs", refs, p);
	}
	put_str(c, o, "primaryPackagePurpose", "LIBRARY", p);
	dk_buf_release(&b);
	return o;
}

static void relationship(struct ctx *c, json_t *rels, const char *from, const char *type, const char *to)
{
	json_t *o = new_obj(c);

	if (!o)
		return;
	put_str(c, o, "spdxElementId", from, NULL);
	put_str(c, o, "relationshipType", type, NULL);
	put_str(c, o, "relatedSpdxElement", to, NULL);
	append(c, rels, o);
}

int dk_sbom_spdx(const struct dk_sbom_doc *d, struct dk_buf *out, struct dk_err *err)
{
	struct ctx c = { err, 0 };
	struct dk_buf pu = DK_BUF_INIT, id = DK_BUF_INIT, ns = DK_BUF_INIT;
	const struct dk_sbom_pkg **v = sorted(d, &c);
	json_t *root, *ci, *creators, *pkgs, *rels, *used, *refs, *image, *ids;
	struct graph g = { 0 };
	char ts[32];

	if (!v)
		return c.r;
	root = new_obj(&c);
	used = new_obj(&c);
	refs = new_obj(&c);
	ids = new_arr(&c);
	put_str(&c, root, "spdxVersion", "SPDX-2.3", NULL);
	put_str(&c, root, "dataLicense", "CC0-1.0", NULL);
	put_str(&c, root, "SPDXID", "SPDXRef-DOCUMENT", NULL);
	put_str(&c, root, "name", d->name, NULL);
	put_str(&c, root, "documentNamespace", "", NULL);
	ci = new_obj(&c);
	if (!rfc3339(d->created, ts, &c))
		put_str(&c, ci, "created", ts, NULL);
	creators = new_arr(&c);
	append(&c, creators, json_string("Tool: debkeep"));
	put(&c, ci, "creators", creators, NULL);
	put(&c, root, "creationInfo", ci, NULL);

	pkgs = new_arr(&c);
	rels = new_arr(&c);
	image = new_obj(&c);
	put_str(&c, image, "name", d->name, NULL);
	put_str(&c, image, "SPDXID", "SPDXRef-Image", NULL);
	put(&c, used, "SPDXRef-Image", json_true(), NULL);
	put_str(&c, image, "downloadLocation", "NOASSERTION", NULL);
	put(&c, image, "filesAnalyzed", json_false(), NULL);
	if (d->image_sha256) {
		json_t *sums = new_arr(&c), *s = new_obj(&c);
		char lo[65];

		lower_hex(d->image_sha256, lo);
		put_str(&c, s, "algorithm", "SHA256", NULL);
		put_str(&c, s, "checksumValue", lo, NULL);
		append(&c, sums, s);
		put(&c, image, "checksums", sums, NULL);
	}
	put_str(&c, image, "licenseConcluded", "NOASSERTION", NULL);
	put_str(&c, image, "licenseDeclared", "NOASSERTION", NULL);
	put_str(&c, image, "copyrightText", "NOASSERTION", NULL);
	put_str(&c, image, "primaryPackagePurpose", "OPERATING-SYSTEM", NULL);
	append(&c, pkgs, image);
	relationship(&c, rels, "SPDXRef-DOCUMENT", "DESCRIBES", "SPDXRef-Image");
	for (size_t i = 0; i < d->n && !c.r; i++) {
		spdx_id(&c, v[i], used, &id);
		if (c.r)
			break;
		append(&c, pkgs, spdx_package(&c, d, v[i], id.data, &pu));
		relationship(&c, rels, "SPDXRef-Image", "CONTAINS", id.data);
		append(&c, ids, json_string(id.data));
		if (v[i]->license)
			collect_refs(&c, v[i]->license, refs);
	}
	if (!c.r && !graph_build(&c, v, d->n, &g))
		for (size_t i = 0; i < d->n && !c.r; i++)
			for (size_t k = g.first[i]; k < g.first[i + 1]; k++)
				relationship(&c, rels, json_string_value(json_array_get(ids, i)), "DEPENDS_ON",
					     json_string_value(json_array_get(ids, g.to[k])));
	put(&c, root, "packages", pkgs, NULL);
	put(&c, root, "relationships", rels, NULL);
	if (!c.r && json_object_size(refs))
		put(&c, root, "hasExtractedLicensingInfos", extracted(&c, refs), NULL);

	/* A URI without '#' that no other document has: the image's name and the content's hash. */
	dk_buf_adds(&ns, "https://debkeep.invalid/spdx/");
	for (const char *s = d->name; *s; s++)
		dk_buf_addc(&ns, is_alnum(*s) || strchr("._-", *s) ? *s : '-');
	dk_buf_addc(&ns, '-');
	if (dk_buf_check(&ns, err, "document namespace"))
		fail(&c, DK_ENOMEM, "out of memory", NULL, "documentNamespace");
	else
		finish(&c, root, "documentNamespace", ns.data, false, out);
	json_decref(root);
	json_decref(used);
	json_decref(refs);
	json_decref(ids);
	graph_release(&g);
	dk_buf_release(&pu);
	dk_buf_release(&id);
	dk_buf_release(&ns);
	free(v);
	return c.r;
}
