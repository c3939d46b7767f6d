/* index.c - loading Packages indices into an interned, zero-copy package table */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <string.h>
#include <strings.h>

#include <debkeep/deb822.h>
#include <debkeep/index.h>
#include <debkeep/input.h>

#include "banned.h"

/* A Packages index is never anywhere near this; the cap only stops a hostile input. */
#define INDEX_MAX_BYTES ((size_t)4 << 30)

int dk_index_init(struct dk_index *idx, const char *native_arch, struct dk_err *err)
{
	memset(idx, 0, sizeof(*idx));
	idx->native_arch = dk_strpool_intern(&idx->names, native_arch, strlen(native_arch));
	idx->all_arch = dk_strpool_intern(&idx->names, "all", 3);
	if (!idx->native_arch || !idx->all_arch)
		return dk_err_set(err, DK_ENOMEM, "index: out of memory");
	return 0;
}

void dk_index_release(struct dk_index *idx)
{
	for (uint32_t i = 0; i < idx->nfiles; i++) {
		free(idx->files[i].path);
		dk_input_release(&idx->files[i].in);
	}
	free(idx->files);
	if (idx->pkgs)
		munmap(idx->pkgs, (size_t)idx->pkgs_alloc * sizeof(*idx->pkgs));
	free(idx->first_by_name);
	free(idx->candidate);
	free(idx->provides_start);
	free(idx->provides);
	dk_strpool_release(&idx->names);
	dk_arena_release(&idx->arena);
	memset(idx, 0, sizeof(*idx));
}

const char *dk_index_where(const struct dk_index *idx, const struct dk_pkg *pkg, char *buf, size_t n)
{
	snprintf(buf, n, "%s:%u", idx->files[pkg->file].path, pkg->line);
	return buf;
}

static bool slice_is(struct dk_slice s, const char *lit)
{
	size_t n = strlen(lit);

	return s.n == n && strncasecmp(s.p, lit, n) == 0;
}

static enum dk_multiarch parse_multiarch(struct dk_slice s)
{
	if (slice_is(s, "same"))
		return DK_MA_SAME;
	if (slice_is(s, "foreign"))
		return DK_MA_FOREIGN;
	if (slice_is(s, "allowed"))
		return DK_MA_ALLOWED;
	return DK_MA_NO;
}

/* "name (version)" or "name": the version in parentheses is the source version of a binNMU or rename. */
static int parse_source(struct dk_index *idx, struct dk_pkg *pkg, struct dk_slice s, struct dk_err *err)
{
	const char *p = s.p, *end = s.p + s.n, *name_end;

	while (p < end && *p != ' ' && *p != '\t' && *p != '(')
		p++;
	name_end = p;
	pkg->source = dk_strpool_intern(&idx->names, s.p, (size_t)(name_end - s.p));
	if (!pkg->source)
		return dk_err_set(err, DK_ENOMEM, "index: out of memory");
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p == end)
		return 0;
	if (*p != '(' || end[-1] != ')')
		return dk_err_set(err, DK_EINPUT, "Source: expected 'name (version)', got '%.*s'", (int)s.n, s.p);
	p++;
	end--;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (p == end)
		return dk_err_set(err, DK_EINPUT, "Source: empty version in parentheses");
	pkg->source_version.p = p;
	pkg->source_version.n = (size_t)(end - p);
	return 0;
}

static struct dk_slice slice_of(const struct dk_field *f)
{
	return (struct dk_slice){ f->value, f->value_len };
}

/* ASCII case-insensitive equality with a lower-or-upper-case literal; inlined in the field switch. */
static inline bool name_eq(const char *s, const char *lit, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((s[i] | 0x20) != (lit[i] | 0x20))
			return false;
	return true;
}

/*
 * Fields are matched by length and first letter before the case-insensitive
 * compare: this loop runs for every field of a 60,000-stanza index.
 */
static void take_field(struct dk_pkg *pkg, const struct dk_field *f, struct dk_slice *name, struct dk_slice *arch,
		       struct dk_slice *source, struct dk_slice *prio, struct dk_slice *ma)
{
	const char *n = f->name;

#define IS(lit) (f->name_len == sizeof(lit) - 1 && name_eq(n, lit, sizeof(lit) - 1))
	switch (n[0] | 0x20) {
	case 'p':
		if (IS("Package"))
			*name = slice_of(f);
		else if (IS("Pre-Depends"))
			pkg->pre_depends = slice_of(f);
		else if (IS("Provides"))
			pkg->provides = slice_of(f);
		else if (IS("Priority"))
			*prio = slice_of(f);
		break;
	case 'v':
		if (IS("Version"))
			pkg->version = slice_of(f);
		break;
	case 'a':
		if (IS("Architecture"))
			*arch = slice_of(f);
		break;
	case 'd':
		if (IS("Depends"))
			pkg->depends = slice_of(f);
		break;
	case 's':
		if (IS("Source"))
			*source = slice_of(f);
		break;
	case 'm':
		if (IS("Multi-Arch"))
			*ma = slice_of(f);
		break;
	case 'e':
		if (IS("Essential"))
			pkg->essential = slice_is(slice_of(f), "yes");
		break;
	case 'i':
		if (IS("Important"))
			pkg->important = slice_is(slice_of(f), "yes");
		break;
	default:
		break;
	}
#undef IS
}

/*
 * The package table lives in its own anonymous mapping, advised to use huge
 * pages: first touch of a page is what loading a 60,000-stanza index spends
 * much of its system time on, and 2 MB pages take 512 times fewer faults.
 */
static int reserve_pkgs(struct dk_index *idx, uint32_t n)
{
	size_t old = (size_t)idx->pkgs_alloc * sizeof(*idx->pkgs), size = (size_t)n * sizeof(*idx->pkgs);
	void *p;

	if (n <= idx->pkgs_alloc)
		return 0;
	p = idx->pkgs ? mremap(idx->pkgs, old, size, MREMAP_MAYMOVE)
		      : mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return DK_ENOMEM;
	madvise(p, size, MADV_HUGEPAGE);
	idx->pkgs = p;
	idx->pkgs_alloc = n;
	return 0;
}

static int add_stanza(struct dk_index *idx, uint32_t file, const struct dk_stanza *st, struct dk_err *err)
{
	struct dk_slice name = { 0 }, arch = { 0 }, source = { 0 }, prio = { 0 }, ma = { 0 };
	struct dk_pkg pkg = { 0 };
	int r;

	for (size_t i = 0; i < st->nfields; i++)
		take_field(&pkg, &st->fields[i], &name, &arch, &source, &prio, &ma);
	if (!name.n)
		return dk_err_set(err, DK_EINPUT, "stanza without a Package field");
	if (!pkg.version.n)
		return dk_err_set(err, DK_EINPUT, "package '%.*s' has no Version", (int)name.n, name.p);
	if (!arch.n)
		return dk_err_set(err, DK_EINPUT, "package '%.*s' has no Architecture", (int)name.n, name.p);
	/* Compared before interning: most stanzas of a foreign index are skipped without touching the pool. */
	if (arch.n == 3 && memcmp(arch.p, "all", 3) == 0)
		pkg.arch = idx->all_arch;
	else if (arch.n == dk_strpool_len(&idx->names, idx->native_arch) &&
		 memcmp(arch.p, dk_strpool_str(&idx->names, idx->native_arch), arch.n) == 0)
		pkg.arch = idx->native_arch;
	else
		return 0;
	pkg.name = dk_strpool_intern(&idx->names, name.p, name.n);
	if (!pkg.name)
		return dk_err_set(err, DK_ENOMEM, "index: out of memory");
	{
		struct dk_version checked;

		r = dk_version_parse(&checked, pkg.version.p, pkg.version.n, err);
		if (r)
			return dk_err_prefix(err, "Version");
	}
	pkg.source = pkg.name;
	pkg.source_version = pkg.version;
	if (source.n && (r = parse_source(idx, &pkg, source, err)))
		return r;
	pkg.priority = (uint8_t)dk_priority_parse(prio.p ? prio.p : "", prio.n);
	pkg.multiarch = (uint8_t)parse_multiarch(ma);
	pkg.file = file;
	pkg.line = st->line;
	pkg.stanza.p = st->fields[0].name;
	{
		const struct dk_field *last = &st->fields[st->nfields - 1];

		pkg.stanza.n = (size_t)(last->value + last->value_len - pkg.stanza.p);
	}
	if (idx->npkgs == idx->pkgs_alloc && reserve_pkgs(idx, idx->pkgs_alloc ? idx->pkgs_alloc * 2 : 4096))
		return dk_err_set(err, DK_ENOMEM, "index: out of memory");
	idx->pkgs[idx->npkgs++] = pkg;
	return 0;
}

static int parse_file(struct dk_index *idx, uint32_t file, struct dk_err *err)
{
	struct dk_index_file *f = &idx->files[file];
	struct dk_deb822 p;
	struct dk_stanza st;
	int r;

	/* Debian's stanzas average over 700 bytes: size the table once instead of doubling a 10 MB array. */
	if (idx->pkgs_alloc - idx->npkgs < f->in.len / 700 &&
	    reserve_pkgs(idx, idx->npkgs + (uint32_t)(f->in.len / 700) + 64))
		return dk_err_set(err, DK_ENOMEM, "%s: out of memory", f->path);
	dk_deb822_init(&p, f->in.data, f->in.len, f->path, 0);
	while ((r = dk_deb822_next(&p, &st, err)) > 0) {
		if ((r = add_stanza(idx, file, &st, err))) {
			dk_err_prefix(err, "%s:%u", f->path, st.line);
			break;
		}
	}
	dk_deb822_release(&p);
	idx->finished = false;
	return r < 0 ? r : 0;
}

static int new_file(struct dk_index *idx, const char *name, uint32_t *out, struct dk_err *err)
{
	struct dk_index_file *files = realloc(idx->files, (idx->nfiles + 1) * sizeof(*files));

	if (!files)
		return dk_err_set(err, DK_ENOMEM, "index: out of memory");
	idx->files = files;
	files[idx->nfiles].path = strdup(name);
	files[idx->nfiles].in = (struct dk_input)DK_INPUT_INIT;
	if (!files[idx->nfiles].path)
		return dk_err_set(err, DK_ENOMEM, "index: out of memory");
	*out = idx->nfiles++;
	return 0;
}

int dk_index_load(struct dk_index *idx, const char *path, struct dk_err *err)
{
	uint32_t file;
	int r = new_file(idx, path, &file, err);

	if (r)
		return r;
	r = dk_input_open(&idx->files[file].in, path, INDEX_MAX_BYTES, err);
	if (r)
		return r;
	return parse_file(idx, file, err);
}

int dk_index_adopt(struct dk_index *idx, struct dk_input *in, const char *name, struct dk_err *err)
{
	uint32_t file;
	int r = new_file(idx, name, &file, err);

	if (r)
		return r;
	idx->files[file].in = *in;
	*in = (struct dk_input)DK_INPUT_INIT;
	return parse_file(idx, file, err);
}

int dk_index_load_mem(struct dk_index *idx, const char *data, size_t len, const char *name, struct dk_err *err)
{
	uint32_t file;
	int r = new_file(idx, name, &file, err);

	if (r)
		return r;
	if (dk_buf_add(&idx->files[file].in.buf, data, len))
		return dk_err_set(err, DK_ENOMEM, "%s: out of memory", name);
	idx->files[file].in.data = idx->files[file].in.buf.data;
	idx->files[file].in.len = len;
	return parse_file(idx, file, err);
}

/* An entry of a candidate's Provides, on its way into the per-name table. */
struct provide_entry {
	dk_id target;
	struct dk_provide provide;
};

struct provide_scan {
	struct dk_index *idx;
	struct provide_entry *v;
	uint32_t n, alloc;
	uint32_t pkg;
};

static int add_provide(void *ctx, const struct dk_dep_atom *a, size_t group, struct dk_err *err)
{
	struct provide_scan *ps = ctx;

	if (ps->n == ps->alloc) {
		uint32_t alloc = ps->alloc ? ps->alloc * 2 : 4096;
		struct provide_entry *p = realloc(ps->v, alloc * sizeof(*p));

		if (!p)
			return dk_err_set(err, DK_ENOMEM, "index: out of memory");
		ps->v = p;
		ps->alloc = alloc;
	}
	/* A virtual package has no stanza of its own, so its name may be new here. */
	ps->v[ps->n].target = dk_strpool_intern(&ps->idx->names, a->name.p, a->name.n);
	if (!ps->v[ps->n].target)
		return dk_err_set(err, DK_ENOMEM, "index: out of memory");
	ps->v[ps->n].provide.pkg = ps->pkg;
	ps->v[ps->n].provide.version = a->version;
	ps->n++;
	return 0;
}

/* Every candidate's Provides, scanned (not built: there are tens of thousands) into *out. */
static int parse_provides(struct dk_index *idx, uint32_t nnames, struct provide_entry **out, uint32_t *nout,
			  struct dk_err *err)
{
	struct provide_scan ps = { idx, NULL, 0, 0, 0 };

	for (dk_id id = 1; id < nnames; id++) {
		const struct dk_pkg *pkg = dk_index_candidate_id(idx, id);
		char where[512];
		int r;

		if (!pkg || !pkg->provides.n)
			continue;
		ps.pkg = idx->candidate[id] - 1;
		r = dk_relation_scan(pkg->provides.p, pkg->provides.n, DK_REL_PROVIDES, add_provide, &ps, err);
		if (r) {
			free(ps.v);
			if (r == DK_ENOMEM)
				return r;
			return dk_err_prefix(err, "%s: Provides", dk_index_where(idx, pkg, where, sizeof(where)));
		}
	}
	*out = ps.v;
	*nout = ps.n;
	return 0;
}

/* Group the entries by provided name: a counting sort into one array, with start offsets per name. */
static int group_provides(struct dk_index *idx, const struct provide_entry *v, uint32_t n, struct dk_err *err)
{
	idx->provides_start = calloc((size_t)idx->nnames + 1, sizeof(uint32_t));
	idx->provides = malloc((n ? n : 1) * sizeof(*idx->provides));
	if (!idx->provides_start || !idx->provides)
		return dk_err_set(err, DK_ENOMEM, "index: out of memory");
	for (uint32_t i = 0; i < n; i++)
		idx->provides_start[v[i].target + 1]++;
	for (uint32_t id = 1; id <= idx->nnames; id++)
		idx->provides_start[id] += idx->provides_start[id - 1];
	for (uint32_t i = 0; i < n; i++)
		idx->provides[idx->provides_start[v[i].target]++] = v[i].provide;
	/* The fill advanced every start to the next name's: shift back by one. */
	memmove(idx->provides_start + 1, idx->provides_start, idx->nnames * sizeof(uint32_t));
	idx->provides_start[0] = 0;
	return 0;
}

/* Make the per-name tables cover every name interned so far, the new ones empty. */
static int size_name_tables(struct dk_index *idx, struct dk_err *err)
{
	uint32_t n = dk_strpool_count(&idx->names);
	uint32_t *first = realloc(idx->first_by_name, n * sizeof(uint32_t));
	uint32_t *cand;

	if (!first)
		return dk_err_set(err, DK_ENOMEM, "index: out of memory");
	idx->first_by_name = first;
	cand = realloc(idx->candidate, n * sizeof(uint32_t));
	if (!cand)
		return dk_err_set(err, DK_ENOMEM, "index: out of memory");
	idx->candidate = cand;
	memset(first + idx->nnames, 0, (n - idx->nnames) * sizeof(uint32_t));
	memset(cand + idx->nnames, 0, (n - idx->nnames) * sizeof(uint32_t));
	idx->nnames = n;
	return 0;
}

int dk_index_finish(struct dk_index *idx, struct dk_err *err)
{
	struct provide_entry *entries = NULL;
	uint32_t nentries = 0;
	int r;

	free(idx->first_by_name);
	free(idx->candidate);
	free(idx->provides_start);
	free(idx->provides);
	idx->first_by_name = idx->candidate = idx->provides_start = NULL;
	idx->provides = NULL;
	idx->nnames = 0;
	if ((r = size_name_tables(idx, err)))
		return r;
	/* Chain versions of one name in load order; the candidate is the highest, the first one on ties. */
	for (uint32_t i = idx->npkgs; i-- > 0;) {
		struct dk_pkg *pkg = &idx->pkgs[i];

		pkg->next_same_name = idx->first_by_name[pkg->name];
		idx->first_by_name[pkg->name] = i + 1;
	}
	for (uint32_t i = 0; i < idx->npkgs; i++) {
		const struct dk_pkg *pkg = &idx->pkgs[i];
		uint32_t cur = idx->candidate[pkg->name];

		if (!cur || dk_version_cmp_str(pkg->version.p, pkg->version.n, idx->pkgs[cur - 1].version.p,
					       idx->pkgs[cur - 1].version.n) > 0)
			idx->candidate[pkg->name] = i + 1;
	}
	r = parse_provides(idx, idx->nnames, &entries, &nentries, err);
	if (!r)
		r = size_name_tables(idx, err);
	if (!r)
		r = group_provides(idx, entries, nentries, err);
	free(entries);
	if (!r)
		idx->finished = true;
	return r;
}

const struct dk_pkg *dk_index_candidate(const struct dk_index *idx, const char *name, size_t len)
{
	return dk_index_candidate_id(idx, dk_strpool_lookup(&idx->names, name, len));
}

int dk_index_detect_arch(const char *data, size_t len, struct dk_buf *arch)
{
	static const char key[] = "\nArchitecture:";
	const char *p = data, *end = data + len;

	while ((p = memmem(p, (size_t)(end - p), key, sizeof(key) - 1))) {
		const char *v = p + sizeof(key) - 1, *e;

		while (v < end && (*v == ' ' || *v == '\t'))
			v++;
		for (e = v; e < end && *e != '\n' && *e != '\r' && *e != ' ' && *e != '\t'; e++)
			;
		p = e;
		if (e == v || (e - v == 3 && memcmp(v, "all", 3) == 0))
			continue;
		dk_buf_reset(arch);
		return dk_buf_add(arch, v, (size_t)(e - v));
	}
	return DK_NOTFOUND;
}

int dk_pkg_field(const struct dk_pkg *pkg, const char *name, struct dk_slice *out)
{
	struct dk_deb822 p;
	struct dk_stanza st;
	const struct dk_field *f = NULL;
	int r = DK_NOTFOUND;

	/* The stanza was parsed once already, so this second look cannot fail. */
	dk_deb822_init(&p, pkg->stanza.p, pkg->stanza.n, "", DK_DEB822_ALLOW_DUPLICATES);
	if (dk_deb822_next(&p, &st, NULL) > 0 && (f = dk_stanza_get(&st, name))) {
		/* The value is a view into the index; the field record itself dies with the parser. */
		out->p = f->value;
		out->n = f->value_len;
		r = 0;
	}
	dk_deb822_release(&p);
	return r;
}
