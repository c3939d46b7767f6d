/* sources.c - source packages: Sources indices, files as objects, mirror and snapshot membership, publishing */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include <debkeep/arena.h>
#include <debkeep/buf.h>
#include <debkeep/deb822.h>
#include <debkeep/fetch.h>
#include <debkeep/input.h>
#include <debkeep/mirror.h>
#include <debkeep/repo.h>
#include <debkeep/sources.h>
#include <debkeep/version.h>

#include "banned.h"

/*
 * A source row is keyed by its .dsc's SHA-256, as a package row by its .deb's: the same name and version
 * with other content is a second row. Its files are objects; an orig tarball two versions share is one.
 */
static const struct dk_db_migration sources_steps[] = {
	{ 1, "sources",
	  "CREATE TABLE sources ("
	  " id INTEGER PRIMARY KEY, name TEXT NOT NULL, version TEXT NOT NULL, directory TEXT NOT NULL,"
	  " dsc_sha256 TEXT NOT NULL UNIQUE, stanza TEXT NOT NULL, added TEXT NOT NULL);"
	  "CREATE INDEX sources_nv ON sources (name, version);"
	  "CREATE TABLE source_files ("
	  " source_id INTEGER NOT NULL REFERENCES sources (id), name TEXT NOT NULL, size INTEGER NOT NULL,"
	  " sha256 TEXT NOT NULL, PRIMARY KEY (source_id, name)) WITHOUT ROWID;"
	  "CREATE INDEX source_files_sha256 ON source_files (sha256);"
	  "CREATE TABLE mirror_sources ("
	  " mirror TEXT NOT NULL, source_id INTEGER NOT NULL REFERENCES sources (id),"
	  " PRIMARY KEY (mirror, source_id)) WITHOUT ROWID;"
	  "CREATE TABLE snapshot_sources ("
	  " snapshot_id INTEGER NOT NULL REFERENCES snapshots (id),"
	  " source_id INTEGER NOT NULL REFERENCES sources (id),"
	  " PRIMARY KEY (snapshot_id, source_id)) WITHOUT ROWID;"
	  "CREATE TRIGGER sources_frozen BEFORE UPDATE ON sources"
	  " BEGIN SELECT RAISE(ABORT, 'a source row never changes'); END;"
	  "CREATE TRIGGER snapshot_sources_frozen BEFORE UPDATE ON snapshot_sources"
	  " BEGIN SELECT RAISE(ABORT, 'a snapshot never changes'); END;" },
};

int dk_sources_migrate(struct dk_repo *r, struct dk_err *err)
{
	return dk_db_migrate(&r->db, "sources", sources_steps, sizeof(sources_steps) / sizeof(sources_steps[0]), err);
}

bool dk_sources_present(struct dk_repo *r)
{
	sqlite3_stmt *s;
	bool have;

	if (sqlite3_prepare_v2(r->db.h,
			       "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'snapshot_sources'", -1, &s,
			       NULL) != SQLITE_OK)
		return false;
	have = sqlite3_step(s) == SQLITE_ROW;
	sqlite3_finalize(s);
	return have;
}

void dk_source_files_release(struct dk_source_file *files, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(files[i].name);
	free(files);
}

/* A file name a Sources stanza may list: it becomes a path under the pool, so no way out of its directory. */
static bool file_name_valid(const char *s, size_t n)
{
	if (n == 0 || n > 255 || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		      (s[i] && strchr("._+~-", s[i]))))
			return false;
	return true;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

int dk_source_checksums_parse(const char *value, size_t len, const char *where, struct dk_source_file **files,
			      size_t *n, struct dk_err *err)
{
	const char *p = value, *end = value + len;
	unsigned line = 0;
	size_t cap = 0;
	int ret = 0;

	*files = NULL;
	*n = 0;
	while (p < end && ret == 0) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *e = nl ? nl : end, *tok[3];
		size_t toklen[3], k = 0;
		uint64_t size = 0;

		line++;
		while (p < e && k < 3) {
			while (p < e && is_blank(*p))
				p++;
			if (p == e)
				break;
			tok[k] = p;
			while (p < e && !is_blank(*p))
				p++;
			toklen[k] = (size_t)(p - tok[k]);
			k++;
		}
		while (p < e && is_blank(*p))
			p++;
		if (k == 0 && p == e) {
			p = e + 1;
			continue;
		}
		if (k != 3 || p != e || toklen[0] != 64 || strspn(tok[0], "0123456789abcdef") < 64 || toklen[1] > 15 ||
		    strspn(tok[1], "0123456789") < toklen[1]) {
			ret = dk_err_set(err, DK_EINPUT, "%s: Checksums-Sha256: line %u is not 'SHA256 SIZE NAME'",
					 where, line);
			break;
		}
		for (size_t i = 0; i < toklen[1]; i++)
			size = size * 10 + (uint64_t)(tok[1][i] - '0');
		if (!file_name_valid(tok[2], toklen[2])) {
			ret = dk_err_set(err, DK_EINPUT, "%s: Checksums-Sha256: unsafe file name '%.*s'", where,
					 (int)(toklen[2] > 100 ? 100 : toklen[2]), tok[2]);
			break;
		}
		for (size_t i = 0; i < *n; i++)
			if (strlen((*files)[i].name) == toklen[2] && !memcmp((*files)[i].name, tok[2], toklen[2]))
				ret = dk_err_set(err, DK_EINPUT, "%s: Checksums-Sha256: '%.*s' listed twice", where,
						 (int)toklen[2], tok[2]);
		if (ret)
			break;
		if (*n == cap) {
			struct dk_source_file *v;

			cap = cap ? 2 * cap : 8;
			if (*n > 4096 || !(v = realloc(*files, cap * sizeof(*v)))) {
				ret = dk_err_set(err, *n > 4096 ? DK_EINPUT : DK_ENOMEM, "%s: Checksums-Sha256: %s",
						 where, *n > 4096 ? "too many files" : "out of memory");
				break;
			}
			*files = v;
		}
		memcpy((*files)[*n].sha256, tok[0], 64);
		(*files)[*n].sha256[64] = '\0';
		(*files)[*n].size = size;
		if (!((*files)[*n].name = strndup(tok[2], toklen[2]))) {
			ret = dk_err_set(err, DK_ENOMEM, "out of memory");
			break;
		}
		(*n)++;
		p = e + 1;
	}
	if (ret == 0 && *n == 0)
		ret = dk_err_set(err, DK_EINPUT, "%s: Checksums-Sha256: empty", where);
	if (ret < 0) {
		dk_source_files_release(*files, *n);
		*files = NULL;
		*n = 0;
	}
	return ret;
}

static bool name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n < 2 || n > 200 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789+-.") == n;
}

/* An upstream Directory: under pool/, plain segments only. */
static bool directory_valid(const char *s)
{
	size_t n = strlen(s), start = 0;

	if (n < 6 || n > 512 || strncmp(s, "pool/", 5) != 0)
		return false;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != '/') {
			if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
			      (s[i] >= '0' && s[i] <= '9') || (s[i] && strchr("._+~-", s[i]))))
				return false;
			continue;
		}
		if (i == start || s[start] == '.')
			return false;
		start = i + 1;
	}
	return true;
}

static void source_release(struct dk_source *s)
{
	free(s->name);
	free(s->version);
	free(s->directory);
	free(s->stanza);
	dk_source_files_release(s->files, s->nfiles);
	memset(s, 0, sizeof(*s));
}

void dk_sources_index_release(struct dk_sources_index *ix)
{
	for (size_t i = 0; i < ix->n; i++)
		source_release(&ix->v[i]);
	free(ix->v);
	free(ix->order);
	memset(ix, 0, sizeof(*ix));
}

static char *field_str(const struct dk_stanza *st, const char *name)
{
	const struct dk_field *f = dk_stanza_get(st, name);

	if (!f || f->multiline || memchr(f->value, '\n', f->value_len))
		return NULL;
	return strndup(f->value, f->value_len);
}

static int parse_stanza(const struct dk_stanza *st, const char *file, struct dk_source *s, struct dk_err *err)
{
	const struct dk_field *sums = dk_stanza_get(st, "Checksums-Sha256");
	const struct dk_field *last = &st->fields[st->nfields - 1];
	struct dk_version ver;
	char where[400];
	bool dsc = false;
	int ret;

	memset(s, 0, sizeof(*s));
	s->name = field_str(st, "Package");
	s->version = field_str(st, "Version");
	s->directory = field_str(st, "Directory");
	snprintf(where, sizeof(where), "%s:%u: %.100s", file, st->line, s->name ? s->name : "(no Package)");
	if (!s->name || !name_valid(s->name)) {
		ret = dk_err_set(err, DK_EINPUT, "%s: %s Package", where, s->name ? "invalid" : "no");
		goto fail;
	}
	if (!s->version || strlen(s->version) > 200 ||
	    dk_version_parse(&ver, s->version, strlen(s->version), NULL) < 0 ||
	    strspn(s->version, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.+~:-") !=
		    strlen(s->version)) {
		ret = dk_err_set(err, DK_EINPUT, "%s: %s Version", where, s->version ? "invalid" : "no");
		goto fail;
	}
	if (!s->directory || !directory_valid(s->directory)) {
		ret = dk_err_set(err, DK_EINPUT, "%s: %s Directory", where, s->directory ? "unsafe" : "no");
		goto fail;
	}
	if (!sums) {
		ret = dk_err_set(err, DK_EINPUT, "%s: no Checksums-Sha256", where);
		goto fail;
	}
	if ((ret = dk_source_checksums_parse(sums->value, sums->value_len, where, &s->files, &s->nfiles, err)) < 0)
		goto fail;
	for (size_t i = 0; i < s->nfiles; i++) {
		size_t n = strlen(s->files[i].name);

		dsc |= n > 4 && !strcmp(s->files[i].name + n - 4, ".dsc");
	}
	if (!dsc) {
		ret = dk_err_set(err, DK_EINPUT, "%s: Checksums-Sha256 lists no .dsc", where);
		goto fail;
	}
	if (!(s->stanza = strndup(st->fields[0].name, (size_t)(last->value + last->value_len - st->fields[0].name)))) {
		ret = dk_err_set(err, DK_ENOMEM, "out of memory");
		goto fail;
	}
	return 0;
fail:
	source_release(s);
	return ret;
}

/* By name, version, then place in the index (pointers into one array compare as places). */
static int cmp_order(const void *a, const void *b)
{
	const struct dk_source *x = *(const struct dk_source *const *)a, *y = *(const struct dk_source *const *)b;
	int c;

	if ((c = strcmp(x->name, y->name)) || (c = strcmp(x->version, y->version)))
		return c;
	return x < y ? -1 : x > y;
}

int dk_sources_index_add(struct dk_sources_index *ix, const char *text, size_t len, const char *name,
			 struct dk_err *err)
{
	struct dk_deb822 p;
	struct dk_stanza st;
	struct dk_source **order;
	int ret;

	dk_deb822_init(&p, text, len, name, 0);
	while ((ret = dk_deb822_next(&p, &st, err)) > 0) {
		if (ix->n == ix->cap) {
			size_t cap = ix->cap ? 2 * ix->cap : 256;
			struct dk_source *v = realloc(ix->v, cap * sizeof(*v));

			if (!v) {
				ret = dk_err_set(err, DK_ENOMEM, "out of memory");
				break;
			}
			ix->v = v;
			ix->cap = cap;
		}
		if ((ret = parse_stanza(&st, name, &ix->v[ix->n], err)) < 0)
			break;
		ix->n++;
	}
	dk_deb822_release(&p);
	if (ret < 0)
		return ret;
	if (!(order = realloc(ix->order, (ix->n + 1) * sizeof(*order))))
		return dk_err_set(err, DK_ENOMEM, "out of memory");
	ix->order = order;
	for (size_t i = 0; i < ix->n; i++)
		order[i] = &ix->v[i];
	if (ix->n)
		qsort(order, ix->n, sizeof(*order), cmp_order);
	return 0;
}

/* The first index of name, version in order, or ix->n. */
static size_t lower_bound(const struct dk_sources_index *ix, const char *name, const char *version)
{
	size_t lo = 0, hi = ix->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct dk_source *s = &*ix->order[mid];
		int c = strcmp(s->name, name);

		if (c == 0)
			c = strcmp(s->version, version);
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct dk_source *dk_sources_index_find(const struct dk_sources_index *ix, const char *name, const char *version)
{
	size_t i = lower_bound(ix, name, version);

	if (i < ix->n && !strcmp(ix->order[i]->name, name) && !strcmp(ix->order[i]->version, version))
		return ix->order[i];
	return NULL;
}

void dk_sources_select(struct dk_sources_index *ix, const struct dk_source_ref *refs, size_t nrefs,
		       dk_source_missing_fn missing, void *ctx, size_t *selected)
{
	/* Without memory a missing source may be reported more than once: still not an error. */
	size_t *done = refs ? malloc((nrefs + 1) * sizeof(*done)) : NULL, nreported = 0;

	*selected = 0;
	for (size_t i = 0; i < ix->n; i++)
		ix->v[i].selected = false;
	for (size_t i = 0; i < ix->n && !refs; i++) {
		/* Duplicates sit after their first in order: only the first of each name and version counts. */
		struct dk_source *k = ix->order[i];

		if (i && !strcmp(ix->order[i - 1]->name, k->name) && !strcmp(ix->order[i - 1]->version, k->version))
			continue;
		k->selected = true;
		(*selected)++;
	}
	for (size_t i = 0; i < nrefs && refs; i++) {
		struct dk_source *s = dk_sources_index_find(ix, refs[i].source, refs[i].version);
		bool reported = false;

		if (s) {
			*selected += !s->selected;
			s->selected = true;
			continue;
		}
		/* Against the missing ones reported so far only: a source is rarely missing, often shared. */
		for (size_t j = 0; j < nreported && !reported; j++)
			reported = !strcmp(refs[done[j]].source, refs[i].source) &&
				   !strcmp(refs[done[j]].version, refs[i].version);
		if (reported)
			continue;
		if (done)
			done[nreported++] = i;
		if (missing)
			missing(ctx, &refs[i]);
	}
	free(done);
}

static int prepare(struct dk_repo *r, const char *sql, sqlite3_stmt **s, struct dk_err *err)
{
	if (sqlite3_prepare_v2(r->db.h, sql, -1, s, NULL) != SQLITE_OK)
		return dk_db_error(&r->db, err, "sources");
	return 0;
}

static int step_done(struct dk_repo *r, sqlite3_stmt *s, struct dk_err *err)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return dk_db_error(&r->db, err, "sources");
	return 0;
}

/* One file to fetch: a distinct object the root lacks, and the first stanza naming it (for messages). */
struct want_file {
	const char *sha256;
	uint64_t size;
	const struct dk_source *src;
	const char *name;
};

static int cmp_want(const void *a, const void *b)
{
	return strcmp(((const struct want_file *)a)->sha256, ((const struct want_file *)b)->sha256);
}

static char *url_of(struct dk_arena *a, const char *base, const char *rel1, const char *rel2)
{
	size_t n = strlen(base) + strlen(rel1) + (rel2 ? strlen(rel2) : 0) + 3;
	char *p = dk_arena_alloc(a, n);

	if (p)
		snprintf(p, n, "%s/%s%s%s", base, rel1, rel2 ? "/" : "", rel2 ? rel2 : "");
	return p;
}

static const struct dk_relfile_entry *sources_entry(const struct dk_relfile *rf, const char *comp)
{
	static const char *const ext[] = { ".gz", ".xz", "" };
	char path[400];

	for (size_t i = 0; i < 3; i++) {
		const struct dk_relfile_entry *e;

		snprintf(path, sizeof(path), "%s/source/Sources%s", comp, ext[i]);
		if ((e = dk_relfile_find(rf, path)))
			return e;
	}
	return NULL;
}

/* Each component's Sources, by hash when Release offers it, else (or when by-hash lacks it) by name. */
static int fetch_indices(struct dk_sources_update *su, const struct dk_sources_fetch *f, struct dk_arena *a,
			 struct dk_sources_stats *st, struct dk_err *err)
{
	size_t n = f->ncomponents;
	struct dk_fetch_item *it = calloc(n, sizeof(*it));
	const struct dk_relfile_entry **e = calloc(n, sizeof(*e));
	char **names = calloc(n, sizeof(*names));
	int ret = 0;

	if (!it || !e || !names) {
		ret = dk_err_set(err, DK_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		char rel[1200];

		if (!(e[i] = sources_entry(f->rf, f->components[i]))) {
			ret = dk_err_set(err, DK_EINPUT, "%s/Release: lists no %s/source/Sources index", f->dists,
					 f->components[i]);
			goto out;
		}
		snprintf(rel, sizeof(rel), "%s/%s", f->dists, e[i]->path);
		names[i] = dk_arena_strdup(a, rel);
		if (f->rf->by_hash)
			snprintf(rel, sizeof(rel), "%s/%s/source/by-hash/SHA256/%s", f->dists, f->components[i],
				 e[i]->sha256);
		it[i].url = url_of(a, f->base, rel, NULL);
		it[i].size = (int64_t)e[i]->size;
		it[i].sha256 = e[i]->sha256;
		it[i].optional = f->rf->by_hash;
		if (!names[i] || !it[i].url) {
			ret = dk_err_set(err, DK_ENOMEM, "out of memory");
			goto out;
		}
	}
	ret = dk_fetch_run(it, n, f->fo, err);
	for (size_t i = 0; f->rf->by_hash && i < n; i++) {
		struct dk_fetch_item one = { 0 };

		if (it[i].fetched || (it[i].error && it[i].status != 404 && it[i].status != 410))
			continue;
		one.url = url_of(a, f->base, names[i], NULL);
		one.size = it[i].size;
		one.sha256 = it[i].sha256;
		if (!one.url) {
			ret = dk_err_set(err, DK_ENOMEM, "out of memory");
			goto out;
		}
		dk_fetch_items_release(&it[i], 1);
		it[i] = one;
		ret = dk_fetch_run(&it[i], 1, f->fo, err);
	}
	for (size_t i = 0; i < n; i++) {
		struct dk_buf text = DK_BUF_INIT;

		if (!it[i].fetched) {
			char why[DK_ERR_MSG_MAX];

			snprintf(why, sizeof(why), "%s", it[i].error ? it[i].error : ret < 0 ? err->msg : "not found");
			ret = dk_err_set(err, ret < 0 ? ret : DK_EINPUT, "%s: %s", names[i], why);
			goto out;
		}
		if ((ret = dk_relfile_verify(e[i], it[i].body, it[i].body_len, err)) < 0) {
			dk_err_prefix(err, "%s", f->dists);
			goto out;
		}
		ret = dk_decompress_mem(it[i].body, it[i].body_len, names[i], &text, DK_SOURCES_INDEX_MAX, err);
		free(it[i].body);
		it[i].body = NULL;
		if (ret == 0)
			ret = dk_sources_index_add(&su->ix, text.data, text.len, names[i], err);
		dk_buf_release(&text);
		if (ret < 0)
			goto out;
	}
	st->indices = n;
out:
	if (it)
		dk_fetch_items_release(it, n);
	free(it);
	free(e);
	free(names);
	return ret;
}

int dk_sources_update_fetch(struct dk_sources_update *su, const struct dk_sources_fetch *f,
			    struct dk_sources_stats *st, struct dk_err *err)
{
	struct dk_arena a = DK_ARENA_INIT;
	struct want_file *w = NULL;
	struct dk_fetch_item *it = NULL;
	size_t nw = 0, cap = 0, k = 0, selected;
	int ret;

	memset(su, 0, sizeof(*su));
	if ((ret = fetch_indices(su, f, &a, st, err)) < 0)
		goto out;
	dk_sources_select(&su->ix, f->refs, f->nrefs, f->missing, f->ctx, &selected);
	st->sources = selected;
	for (size_t i = 0; i < su->ix.n; i++) {
		const struct dk_source *s = &su->ix.v[i];

		for (size_t j = 0; s->selected && j < s->nfiles; j++) {
			char obj[4200];

			dk_store_path(f->r->root, s->files[j].sha256, obj, sizeof(obj));
			if (access(obj, F_OK) == 0)
				continue;
			if (nw == cap) {
				struct want_file *v;

				cap = cap ? 2 * cap : 256;
				if (!(v = realloc(w, cap * sizeof(*v)))) {
					ret = dk_err_set(err, DK_ENOMEM, "out of memory");
					goto out;
				}
				w = v;
			}
			w[nw++] = (struct want_file){ s->files[j].sha256, s->files[j].size, s, s->files[j].name };
		}
	}
	if (nw)
		qsort(w, nw, sizeof(*w), cmp_want);
	for (size_t i = 0; i < nw; i++) {
		if (k && !strcmp(w[k - 1].sha256, w[i].sha256)) {
			if (w[k - 1].size != w[i].size) {
				ret = dk_err_set(err, DK_EINPUT,
						 "%s %s: %s: SHA256 %.16s... is listed with size %llu and %llu", w[i].src->name, w[i].src->version, w[i].name, w[i].sha256,
						 (unsigned long long)w[k - 1].size, (unsigned long long)w[i].size);
				goto out;
			}
			continue;
		}
		w[k++] = w[i];
	}
	nw = k;
	if (nw == 0)
		goto out;
	if (mkdir(f->tmpdir, 0755) != 0 && errno != EEXIST) {
		ret = dk_err_errno(err, "%s", f->tmpdir);
		goto out;
	}
	it = calloc(nw, sizeof(*it));
	su->dest = calloc(nw, sizeof(*su->dest));
	if (!it || !su->dest) {
		ret = dk_err_set(err, DK_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < nw; i++) {
		size_t len = strlen(f->tmpdir) + 80;
		char *part = dk_arena_alloc(&a, len);

		/* The name ends in "-SHA256": dk_store_batch_commit takes an object's name from there. */
		if (!part || !(su->dest[i] = malloc(len)) ||
		    !(it[i].url = url_of(&a, f->base, w[i].src->directory, w[i].name))) {
			ret = dk_err_set(err, DK_ENOMEM, "out of memory");
			goto out;
		}
		su->ndest++;
		snprintf(su->dest[i], len, "%s/src-%s", f->tmpdir, w[i].sha256);
		snprintf(part, len, "%s/srcpart-%s", f->tmpdir, w[i].sha256);
		it[i].dest = su->dest[i];
		it[i].partial = part;
		it[i].size = (int64_t)w[i].size;
		it[i].sha256 = w[i].sha256;
		st->bytes += w[i].size;
	}
	ret = dk_fetch_run(it, nw, f->fo, err);
	st->files = nw;
	for (size_t i = 0; i < nw; i++) {
		st->reused += it[i].reused;
		if (!it[i].fetched && ret == 0)
			ret = dk_err_set(err, DK_EINTERNAL, "%s: not fetched", w[i].name);
		if (!it[i].fetched) {
			char why[DK_ERR_MSG_MAX];

			snprintf(why, sizeof(why), "%s", it[i].error ? it[i].error : err->msg);
			ret = dk_err_set(err, ret, "source %s %s: %s: %s", w[i].src->name, w[i].src->version, w[i].name,
					 why);
			break;
		}
	}
out:
	if (it)
		dk_fetch_items_release(it, nw);
	free(it);
	free(w);
	dk_arena_release(&a);
	return ret;
}

void dk_sources_update_release(struct dk_sources_update *su)
{
	dk_sources_index_release(&su->ix);
	for (size_t i = 0; i < su->ndest; i++)
		free(su->dest[i]);
	free(su->dest);
	memset(su, 0, sizeof(*su));
}

static const char *dsc_sha256(const struct dk_source *s)
{
	for (size_t i = 0; i < s->nfiles; i++) {
		size_t n = strlen(s->files[i].name);

		if (n > 4 && !strcmp(s->files[i].name + n - 4, ".dsc"))
			return s->files[i].sha256;
	}
	return NULL;
}

enum { R_GET, R_ADD, R_FILE, R_CLEAR, R_MEMBER, R_COUNT };

static const char *const record_sql[R_COUNT] = {
	[R_GET] = "SELECT id, name, version FROM sources WHERE dsc_sha256 = ?1",
	[R_ADD] = ("INSERT INTO sources (name, version, directory, dsc_sha256, stanza, added)"
		   " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
	[R_FILE] = "INSERT INTO source_files (source_id, name, size, sha256) VALUES (?1, ?2, ?3, ?4)",
	[R_CLEAR] = "DELETE FROM mirror_sources WHERE mirror = ?1",
	[R_MEMBER] = "INSERT OR IGNORE INTO mirror_sources (mirror, source_id) VALUES (?1, ?2)",
};

int dk_sources_update_record(struct dk_sources_update *su, struct dk_repo *r, const char *mirror, const char *stamp,
			     struct dk_sources_stats *st, struct dk_err *err)
{
	struct dk_store_batch batch;
	sqlite3_stmt *s[R_COUNT] = { 0 };
	int ret;

	if ((ret = dk_store_batch_init(&batch, r->root, su->ndest, err)) < 0)
		return ret;
	for (size_t i = 0; i < su->ndest; i++) {
		/* Objects are read-only; the fetcher made a file its owner may write. */
		if (chmod(su->dest[i], 0444) != 0) {
			ret = dk_err_errno(err, "%s", su->dest[i]);
			goto out;
		}
		if (!(batch.tmp[i] = strdup(su->dest[i]))) {
			ret = dk_err_set(err, DK_ENOMEM, "out of memory");
			goto out;
		}
	}
	for (int i = 0; i < R_COUNT; i++)
		if ((ret = prepare(r, record_sql[i], &s[i], err)) < 0)
			goto out;
	sqlite3_bind_text(s[R_CLEAR], 1, mirror, -1, SQLITE_STATIC);
	if ((ret = step_done(r, s[R_CLEAR], err)) < 0)
		goto out;
	for (size_t i = 0; i < su->ix.n && ret == 0; i++) {
		const struct dk_source *src = &su->ix.v[i];
		const char *dsc = dsc_sha256(src);
		long long id = 0;
		int rc;

		if (!src->selected)
			continue;
		sqlite3_bind_text(s[R_GET], 1, dsc, -1, SQLITE_STATIC);
		if ((rc = sqlite3_step(s[R_GET])) == SQLITE_ROW) {
			id = sqlite3_column_int64(s[R_GET], 0);
			if (strcmp((const char *)sqlite3_column_text(s[R_GET], 1), src->name) ||
			    strcmp((const char *)sqlite3_column_text(s[R_GET], 2), src->version))
				ret = dk_err_set(err, DK_EINPUT, "source %s %s: its .dsc is known as %s %s", src->name,
						 src->version, sqlite3_column_text(s[R_GET], 1),
						 sqlite3_column_text(s[R_GET], 2));
		} else if (rc != SQLITE_DONE) {
			ret = dk_db_error(&r->db, err, "sources");
		}
		sqlite3_reset(s[R_GET]);
		if (ret < 0)
			break;
		if (!id) {
			sqlite3_bind_text(s[R_ADD], 1, src->name, -1, SQLITE_STATIC);
			sqlite3_bind_text(s[R_ADD], 2, src->version, -1, SQLITE_STATIC);
			sqlite3_bind_text(s[R_ADD], 3, src->directory, -1, SQLITE_STATIC);
			sqlite3_bind_text(s[R_ADD], 4, dsc, -1, SQLITE_STATIC);
			sqlite3_bind_text(s[R_ADD], 5, src->stanza, -1, SQLITE_STATIC);
			sqlite3_bind_text(s[R_ADD], 6, stamp, -1, SQLITE_STATIC);
			if ((ret = step_done(r, s[R_ADD], err)) < 0)
				break;
			id = sqlite3_last_insert_rowid(r->db.h);
			st->new_rows++;
			for (size_t j = 0; j < src->nfiles && ret == 0; j++) {
				sqlite3_bind_int64(s[R_FILE], 1, id);
				sqlite3_bind_text(s[R_FILE], 2, src->files[j].name, -1, SQLITE_STATIC);
				sqlite3_bind_int64(s[R_FILE], 3, (sqlite3_int64)src->files[j].size);
				sqlite3_bind_text(s[R_FILE], 4, src->files[j].sha256, -1, SQLITE_STATIC);
				ret = step_done(r, s[R_FILE], err);
			}
		}
		sqlite3_bind_text(s[R_MEMBER], 1, mirror, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s[R_MEMBER], 2, id);
		if (ret == 0)
			ret = step_done(r, s[R_MEMBER], err);
	}
	/* Objects are durable before the rows that name them are. */
	if (ret == 0)
		ret = dk_store_batch_commit(&batch, err);
out:
	if (ret < 0)
		for (size_t i = 0; i < batch.n; i++) {
			/* Left in tmp/ for the next run: the batch must not remove them. */
			free(batch.tmp[i]);
			batch.tmp[i] = NULL;
		}
	for (int i = 0; i < R_COUNT; i++)
		sqlite3_finalize(s[i]);
	dk_store_batch_release(&batch);
	return ret;
}

static int exec_bind(struct dk_repo *r, const char *sql, long long id, const char *text, long long *out,
		     struct dk_err *err)
{
	sqlite3_stmt *s;
	int ret, rc;

	if ((ret = prepare(r, sql, &s, err)) < 0)
		return ret;
	sqlite3_bind_int64(s, 1, id);
	if (text)
		sqlite3_bind_text(s, 2, text, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && out)
		*out = sqlite3_column_int64(s, 0);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		ret = dk_db_error(&r->db, err, "sources");
	sqlite3_finalize(s);
	return ret;
}

int dk_sources_count(struct dk_repo *r, const char *mirror, const char *snapshot, long long *n, struct dk_err *err)
{
	*n = 0;
	if (!dk_sources_present(r))
		return 0;
	if (mirror)
		return exec_bind(r, "SELECT count(*) FROM mirror_sources WHERE mirror = ?2 AND ?1 = ?1", 0, mirror, n,
				 err);
	return exec_bind(r, "SELECT count(*) FROM snapshot_sources WHERE ?1 = ?1 AND snapshot_id ="
			 " (SELECT id FROM snapshots WHERE name = ?2)", 0, snapshot, n, err);
}

int dk_sources_snapshot_copy(struct dk_repo *r, long long to, const char *from_mirror, const char *from,
			     struct dk_err *err)
{
	if (!dk_sources_present(r))
		return 0;
	if (from_mirror)
		return exec_bind(r, "INSERT OR IGNORE INTO snapshot_sources (snapshot_id, source_id)"
				 " SELECT ?1, m.source_id FROM mirror_sources m JOIN sources s ON s.id = m.source_id"
				 " WHERE m.mirror = ?2", to, from_mirror, NULL, err);
	return exec_bind(r, "INSERT OR IGNORE INTO snapshot_sources (snapshot_id, source_id)"
			 " SELECT ?1, f.source_id FROM snapshot_sources f JOIN sources s ON s.id = f.source_id"
			 " WHERE f.snapshot_id = (SELECT id FROM snapshots WHERE name = ?2)", to, from, NULL, err);
}

int dk_sources_snapshot_filter(struct dk_repo *r, long long to, const char *from, struct dk_err *err)
{
	if (!dk_sources_present(r))
		return 0;
	return exec_bind(r, "INSERT OR IGNORE INTO snapshot_sources (snapshot_id, source_id)"
			 " SELECT ?1, s.id FROM snapshot_sources f JOIN sources s ON s.id = f.source_id"
			 " WHERE f.snapshot_id = (SELECT id FROM snapshots WHERE name = ?2) AND EXISTS (SELECT 1"
			 " FROM snapshot_members m JOIN packages p ON p.id = m.package_id WHERE m.snapshot_id = ?1"
			 " AND p.source = s.name AND p.source_version = s.version)", to, from, NULL, err);
}

int dk_sources_snapshot_drop(struct dk_repo *r, long long id, struct dk_err *err)
{
	if (!dk_sources_present(r))
		return 0;
	return exec_bind(r, "DELETE FROM snapshot_sources WHERE snapshot_id = ?1", id, NULL, NULL, err);
}

int dk_sources_mirror_drop(struct dk_repo *r, const char *mirror, struct dk_err *err)
{
	if (!dk_sources_present(r))
		return 0;
	return exec_bind(r, "DELETE FROM mirror_sources WHERE mirror = ?2 AND ?1 = ?1", 0, mirror, NULL, err);
}

int dk_sources_gc(struct dk_repo *r, size_t *rows, struct dk_err *err)
{
	sqlite3_stmt *s = NULL, *f = NULL, *del[2] = { 0 };
	int ret, rc;

	if (!dk_sources_present(r))
		return 0;
	if ((ret = prepare(r, "SELECT id FROM sources WHERE id NOT IN (SELECT source_id FROM mirror_sources)"
			   " AND id NOT IN (SELECT source_id FROM snapshot_sources) ORDER BY id", &s, err)) < 0 ||
	    (ret = prepare(r, "SELECT sha256 FROM source_files WHERE source_id = ?1", &f, err)) < 0 ||
	    (ret = prepare(r, "DELETE FROM source_files WHERE source_id = ?1", &del[0], err)) < 0 ||
	    (ret = prepare(r, "DELETE FROM sources WHERE id = ?1", &del[1], err)) < 0)
		goto out;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && ret == 0) {
		long long id = sqlite3_column_int64(s, 0);
		bool linked = false;

		/* A pool file still links an object: the row stays with it, so no object is ever nameless. */
		sqlite3_bind_int64(f, 1, id);
		while (!linked && sqlite3_step(f) == SQLITE_ROW) {
			const char *hex = (const char *)sqlite3_column_text(f, 0);
			char obj[4200];
			struct stat sb;

			if (!hex || strlen(hex) != 64)
				continue;
			dk_store_path(r->root, hex, obj, sizeof(obj));
			linked = stat(obj, &sb) == 0 && sb.st_nlink > 1;
		}
		sqlite3_reset(f);
		if (linked)
			continue;
		(*rows)++;
		for (int i = 0; i < 2 && ret == 0; i++) {
			sqlite3_bind_int64(del[i], 1, id);
			ret = step_done(r, del[i], err);
		}
	}
	if (ret == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
		ret = dk_db_error(&r->db, err, "gc sources");
out:
	sqlite3_finalize(s);
	sqlite3_finalize(f);
	sqlite3_finalize(del[0]);
	sqlite3_finalize(del[1]);
	return ret;
}

const char *const dk_sources_reference_checks[] = {
	"SELECT 'snapshot ''' || coalesce(s.name, m.snapshot_id) || '''',"
	" 'source row ' || m.source_id || ' does not exist' FROM snapshot_sources m"
	" LEFT JOIN snapshots s ON s.id = m.snapshot_id WHERE m.source_id NOT IN (SELECT id FROM sources)",
	"SELECT 'snapshot id ' || snapshot_id, 'sources of a snapshot that does not exist' FROM snapshot_sources"
	" WHERE snapshot_id NOT IN (SELECT id FROM snapshots) GROUP BY snapshot_id",
	"SELECT 'mirror ''' || mirror || '''', 'source row ' || source_id || ' does not exist' FROM mirror_sources"
	" WHERE source_id NOT IN (SELECT id FROM sources)",
	"SELECT 'source row ' || source_id, 'file ' || name || ' of a source row that does not exist'"
	" FROM source_files WHERE source_id NOT IN (SELECT id FROM sources)",
	"SELECT 'source ' || name || ' ' || version, 'no .dsc file row' FROM sources s WHERE NOT EXISTS"
	" (SELECT 1 FROM source_files f WHERE f.source_id = s.id AND f.sha256 = s.dsc_sha256)",
};
const size_t dk_sources_nreference_checks = sizeof(dk_sources_reference_checks) / sizeof(*dk_sources_reference_checks);

int dk_source_pool_dir(const char *component, const char *source, char *out, size_t n)
{
	int len = snprintf(out, n, "pool/%s/%.*s/%s", component, strncmp(source, "lib", 3) == 0 && strlen(source) > 3 ?
					  4 : 1, source, source);

	return len < 0 || (size_t)len >= n ? -1 : 0;
}

void dk_publish_sources_release(struct dk_publish_sources *ps)
{
	free(ps->v);
	free(ps->files);
	dk_arena_release(&ps->arena);
	memset(ps, 0, sizeof(*ps));
}

/* The stanza with Directory: dir in place of the upstream one. */
static char *restanza(struct dk_arena *a, const char *stanza, const char *dir, struct dk_err *err)
{
	struct dk_buf out = DK_BUF_INIT;
	struct dk_deb822 p;
	struct dk_stanza st;
	char *ret = NULL;
	int r;

	dk_deb822_init(&p, stanza, strlen(stanza), "stanza", 0);
	if ((r = dk_deb822_next(&p, &st, err)) <= 0) {
		if (r == 0)
			dk_err_set(err, DK_EINTERNAL, "empty source stanza");
		goto out;
	}
	for (size_t i = 0; i < st.nfields; i++) {
		const struct dk_field *f = &st.fields[i];

		if (out.len)
			dk_buf_addc(&out, '\n');
		dk_buf_add(&out, f->name, f->name_len);
		if (dk_field_is(f, "Directory")) {
			dk_buf_addf(&out, ": %s", dir);
			continue;
		}
		dk_buf_adds(&out, f->value_len && f->value[0] != '\n' ? ": " : ":");
		dk_buf_add(&out, f->value, f->value_len);
	}
	if (dk_buf_check(&out, err, "source stanza") == 0 && !(ret = dk_arena_strndup(a, out.data, out.len)))
		dk_err_set(err, DK_ENOMEM, "out of memory");
out:
	dk_deb822_release(&p);
	dk_buf_release(&out);
	return ret;
}

int dk_sources_for_publish(struct dk_repo *r, const char *snapshot, const char *component,
			   struct dk_publish_sources *out, struct dk_err *err)
{
	sqlite3_stmt *s = NULL, *f = NULL;
	size_t cap = 0, fcap = 0;
	int ret, rc;

	memset(out, 0, sizeof(*out));
	if (!dk_sources_present(r))
		return 0;
	if ((ret = prepare(r, "SELECT s.id, s.name, s.version, s.stanza FROM snapshot_sources m"
			   " JOIN sources s ON s.id = m.source_id WHERE m.snapshot_id ="
			   " (SELECT id FROM snapshots WHERE name = ?1) ORDER BY s.name, s.version, s.id", &s,
			   err)) < 0 ||
	    (ret = prepare(r, "SELECT name, size, sha256 FROM source_files WHERE source_id = ?1 ORDER BY name", &f,
			   err)) < 0)
		goto out;
	sqlite3_bind_text(s, 1, snapshot, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && ret == 0) {
		struct dk_publish_source *p;
		char dir[600];
		size_t first = out->nfiles;

		if (out->n == cap) {
			cap = cap ? 2 * cap : 64;
			if (!(p = realloc(out->v, cap * sizeof(*p)))) {
				ret = dk_err_set(err, DK_ENOMEM, "out of memory");
				break;
			}
			out->v = p;
		}
		p = &out->v[out->n];
		memset(p, 0, sizeof(*p));
		p->name = dk_arena_strdup(&out->arena, (const char *)sqlite3_column_text(s, 1));
		p->version = dk_arena_strdup(&out->arena, (const char *)sqlite3_column_text(s, 2));
		p->component = component;
		if (!p->name || !p->version) {
			ret = dk_err_set(err, DK_ENOMEM, "out of memory");
			break;
		}
		if (dk_source_pool_dir(component, p->name, dir, sizeof(dir)) < 0) {
			ret = dk_err_set(err, DK_EINPUT, "source %s: pool path too long", p->name);
			break;
		}
		if (!(p->stanza = restanza(&out->arena, (const char *)sqlite3_column_text(s, 3), dir, err))) {
			ret = err->code ? err->code : DK_ENOMEM;
			break;
		}
		sqlite3_bind_int64(f, 1, sqlite3_column_int64(s, 0));
		while ((rc = sqlite3_step(f)) == SQLITE_ROW) {
			struct dk_publish_source_file *pf;
			const char *name = (const char *)sqlite3_column_text(f, 0);
			char obj[4200], pool[1000];

			if (out->nfiles == fcap) {
				fcap = fcap ? 2 * fcap : 256;
				if (!(pf = realloc(out->files, fcap * sizeof(*pf)))) {
					ret = dk_err_set(err, DK_ENOMEM, "out of memory");
					break;
				}
				out->files = pf;
			}
			pf = &out->files[out->nfiles++];
			dk_store_path(r->root, (const char *)sqlite3_column_text(f, 2), obj, sizeof(obj));
			snprintf(pool, sizeof(pool), "%s/%s", dir, name);
			pf->name = dk_arena_strdup(&out->arena, name);
			pf->object_path = dk_arena_strdup(&out->arena, obj);
			pf->pool_path = dk_arena_strdup(&out->arena, pool);
			pf->size = (uint64_t)sqlite3_column_int64(f, 1);
			if (!pf->name || !pf->object_path || !pf->pool_path) {
				ret = dk_err_set(err, DK_ENOMEM, "out of memory");
				break;
			}
		}
		sqlite3_reset(f);
		/* files may move while growing: the offsets are turned into pointers at the end. */
		p->files = (const struct dk_publish_source_file *)(uintptr_t)first;
		p->nfiles = out->nfiles - first;
		out->n++;
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = dk_db_error(&r->db, err, "sources");
	for (size_t i = 0; i < out->n; i++)
		out->v[i].files = out->files + (uintptr_t)out->v[i].files;
out:
	sqlite3_finalize(s);
	sqlite3_finalize(f);
	if (ret < 0)
		dk_publish_sources_release(out);
	return ret;
}

static int cmp_pub(const void *a, const void *b)
{
	const struct dk_publish_source *x = *(const struct dk_publish_source *const *)a;
	const struct dk_publish_source *y = *(const struct dk_publish_source *const *)b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	if ((c = dk_version_cmp_str(x->version, strlen(x->version), y->version, strlen(y->version))))
		return c;
	return strcmp(x->stanza, y->stanza);
}

int dk_sources_index_text(const struct dk_publish_source *v, size_t n, const char *component, struct dk_buf *out,
			  struct dk_err *err)
{
	const struct dk_publish_source **sorted = calloc(n + 1, sizeof(*sorted));
	size_t k = 0;

	if (!sorted)
		return dk_err_set(err, DK_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].component, component))
			sorted[k++] = &v[i];
	if (k)
		qsort(sorted, k, sizeof(*sorted), cmp_pub);
	for (size_t i = 0; i < k; i++)
		dk_buf_addf(out, "%s\n\n", sorted[i]->stanza);
	free(sorted);
	return dk_buf_check(out, err, "Sources");
}

int dk_sources_pool_names(const char *text, size_t len, int (*fn)(void *ctx, const char *path, size_t n), void *ctx)
{
	struct dk_deb822 p;
	struct dk_stanza st;
	int ret = 0, more;

	dk_deb822_init(&p, text, len, "Sources", 0);
	while (ret == 0 && (more = dk_deb822_next(&p, &st, NULL)) > 0) {
		const struct dk_field *dir = dk_stanza_get(&st, "Directory");
		const struct dk_field *sums = dk_stanza_get(&st, "Checksums-Sha256");
		struct dk_source_file *files;
		size_t nfiles;

		if (!dir || !sums || dir->value_len > 512 ||
		    dk_source_checksums_parse(sums->value, sums->value_len, "Sources", &files, &nfiles, NULL) < 0)
			continue;
		for (size_t i = 0; i < nfiles && ret == 0; i++) {
			char path[1000];
			int n = snprintf(path, sizeof(path), "%.*s/%s", (int)dir->value_len, dir->value, files[i].name);

			if (n > 0 && (size_t)n < sizeof(path) && fn(ctx, path, (size_t)n) < 0)
				ret = -1;
		}
		dk_source_files_release(files, nfiles);
	}
	dk_deb822_release(&p);
	return ret < 0 ? DK_ENOMEM : 0;
}
