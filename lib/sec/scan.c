/* scan.c - what the tracker says of a target: per (CVE, source) status for a release, by version ranges */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include <debkeep/buf.h>
#include <debkeep/sec.h>
#include <debkeep/version.h>

#include "banned.h"

static const char *const status_names[DK_SEC_STATUS_COUNT] = {
	[DK_SEC_VULNERABLE] = "vulnerable", [DK_SEC_NO_DSA] = "no-dsa",
	[DK_SEC_POSTPONED] = "postponed",   [DK_SEC_IGNORED] = "ignored",
	[DK_SEC_EOL] = "end-of-life",       [DK_SEC_UNDETERMINED] = "undetermined",
	[DK_SEC_FIXED] = "fixed",           [DK_SEC_NOT_AFFECTED] = "not-affected",
};

const char *dk_sec_status_name(enum dk_sec_status s)
{
	return s < DK_SEC_STATUS_COUNT ? status_names[s] : "?";
}

int dk_sec_status_parse(const char *s, size_t n, enum dk_sec_status *st)
{
	for (int i = 0; i < DK_SEC_STATUS_COUNT; i++) {
		if (strlen(status_names[i]) == n && memcmp(status_names[i], s, n) == 0) {
			*st = (enum dk_sec_status)i;
			return 0;
		}
	}
	return DK_NOTFOUND;
}

static int vcmp(const char *a, const char *b)
{
	return dk_version_cmp_str(a, strlen(a), b, strlen(b));
}

static enum dk_sec_status status_of_kind(enum dk_fix_kind k)
{
	switch (k) {
	case DK_FIX_NOT_AFFECTED:
	case DK_FIX_ITP: /* never in Debian: nothing Debian ships is affected */
		return DK_SEC_NOT_AFFECTED;
	case DK_FIX_UNDETERMINED:
		return DK_SEC_UNDETERMINED;
	case DK_FIX_NO_DSA:
		return DK_SEC_NO_DSA;
	case DK_FIX_POSTPONED:
		return DK_SEC_POSTPONED;
	case DK_FIX_IGNORED:
		return DK_SEC_IGNORED;
	case DK_FIX_EOL:
		return DK_SEC_EOL;
	default:
		/* <unfixed>, and <removed>: a package gone from the archive gets no fix either. */
		return DK_SEC_VULNERABLE;
	}
}

bool dk_sec_match(const struct dk_sec_row *rows, size_t n, const char *release, const char *installed,
		  struct dk_sec_finding *out)
{
	const struct dk_sec_row *rel = NULL, *unstable = NULL, *adv = NULL;

	for (size_t i = 0; i < n; i++) {
		const struct dk_sec_row *r = &rows[i];

		if (!r->release[0]) {
			if (!r->advisory)
				unstable = r;
		} else if (strcmp(r->release, release) == 0) {
			if (!r->advisory)
				rel = r;
			else if (r->kind == DK_FIX_VERSION && (!adv || vcmp(r->version, adv->version) < 0))
				adv = r; /* the first fix; later ones (regressions) do not reopen it */
		}
	}
	if (!rel && !adv && !unstable)
		return false;
	memset(out, 0, sizeof(*out));
	out->installed = installed;
	out->urgency = rel && rel->urgency ? rel->urgency : NULL;
	if (!out->urgency && unstable)
		out->urgency = unstable->urgency;
	out->note = rel && rel->note ? rel->note : unstable && unstable->note ? unstable->note : NULL;
	if (rel && rel->kind == DK_FIX_VERSION) {
		out->fixed = rel->version;
		out->fix_in_archive = true;
	} else if (!rel && adv) {
		out->fixed = adv->version;
		out->fix_in_archive = true;
	} else if (rel) {
		out->status = status_of_kind(rel->kind);
		/* A fix from unstable rebuilt locally, or a backport, is a fix whatever the release line says. */
		if (dk_sec_status_open(out->status) && unstable && unstable->kind == DK_FIX_VERSION &&
		    vcmp(installed, unstable->version) >= 0) {
			out->status = DK_SEC_FIXED;
			out->fixed = unstable->version;
		}
		return true;
	} else if (unstable->kind == DK_FIX_VERSION) {
		/* No word for the release: the fix in unstable decides, as the tracker does. */
		out->fixed = unstable->version;
	} else {
		out->status = status_of_kind(unstable->kind);
		return true;
	}
	out->status = vcmp(installed, out->fixed) < 0 ? DK_SEC_VULNERABLE : DK_SEC_FIXED;
	return true;
}

void dk_sec_report_release(struct dk_sec_report *rep)
{
	dk_arena_release(&rep->arena);
	free(rep->findings);
	free(rep->reserved);
	*rep = (struct dk_sec_report)DK_SEC_REPORT_INIT;
}

/* Findings a window of pages at a time (dk_mem_populate): a scan of thousands writes a megabyte of them. */
#define POPULATE_FINDINGS 512

static struct dk_sec_finding *push(struct dk_sec_finding **v, size_t *n, size_t *alloc)
{
	if (*n == *alloc) {
		size_t na = *alloc ? *alloc * 2 : 256;
		struct dk_sec_finding *nv = realloc(*v, na * sizeof(*nv));

		if (!nv)
			return NULL;
		*v = nv;
		*alloc = na;
	}
	if (*n % POPULATE_FINDINGS == 0) {
		size_t k = *alloc - *n < POPULATE_FINDINGS ? *alloc - *n : POPULATE_FINDINGS;

		dk_mem_populate(*v + *n, k * sizeof(**v));
	}
	return &(*v)[(*n)++];
}

/* Is the word w[0..n) one of the space-separated words of list? */
static bool has_word(const char *list, const char *w, size_t n)
{
	const char *end = list + strlen(list);

	for (const char *p = list; (p = memmem(p, (size_t)(end - p), w, n)) != NULL; p++)
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return true;
	return false;
}

/* The advisories that fixed the CVE in this release (from the advisory lists), each once. */
static const char *advisories_of(struct dk_arena *a, const struct dk_sec_row *rows, size_t n, const char *release)
{
	struct dk_buf b = DK_BUF_INIT;
	const char *s;

	for (size_t i = 0; i < n; i++) {
		const char *adv = rows[i].advisory;

		if (!adv || strcmp(rows[i].release, release) != 0 || has_word(b.data, adv, strlen(adv)))
			continue;
		if (b.len)
			dk_buf_addc(&b, ' ');
		dk_buf_adds(&b, adv);
	}
	s = b.failed ? NULL : b.len ? dk_arena_strndup(a, b.data, b.len) : "";
	dk_buf_release(&b);
	return s;
}

static int row_cve_cmp(const void *a, const void *b)
{
	const struct dk_sec_row *x = a, *y = b;

	return strcmp(x->cve, y->cve);
}

static const char not_assigned[] = "not yet assigned";

/* A string of a row that is about to go away, kept in the report's arena. */
static bool keep(struct dk_sec_report *rep, const char **s)
{
	return !*s || (*s = dk_arena_strdup(&rep->arena, *s)) != NULL;
}

/*
 * The strings of a finding that point into rows: copied, when the rows live
 * in a buffer the next source's rows overwrite. Only what findings keep is
 * copied, a quarter of the rows' bytes, so fewer fresh pages are touched.
 * Urgencies take a few values: one copy serves the findings in a row.
 */
static bool keep_finding(struct dk_sec_report *rep, struct dk_sec_finding *f, const struct dk_sec_finding *prev)
{
	if (f->urgency != not_assigned) {
		if (prev && strcmp(prev->urgency, f->urgency) == 0)
			f->urgency = prev->urgency;
		else if (!keep(rep, &f->urgency))
			return false;
	}
	return keep(rep, &f->cve) && keep(rep, &f->description) && (!f->references[0] || keep(rep, &f->references)) &&
	       keep(rep, &f->fixed) && keep(rep, &f->note);
}

static int report_add(struct dk_sec_report *rep, const struct dk_sec_row *rows, size_t n, const char *source,
		      const char *installed, const char *binaries, bool transient, struct dk_err *err)
{
	struct dk_sec_row *copy = NULL;
	const struct dk_sec_row *sorted = rows;
	size_t k = 1;

	/* Stored rows come in CVE order already; only rows from elsewhere need sorting. */
	while (k < n && strcmp(rows[k - 1].cve, rows[k].cve) <= 0)
		k++;
	if (k < n) {
		if (!(copy = malloc(n * sizeof(*copy))))
			return dk_err_set(err, DK_ENOMEM, "out of memory");
		memcpy(copy, rows, n * sizeof(*rows));
		qsort(copy, n, sizeof(*copy), row_cve_cmp);
		sorted = copy;
	}
	for (size_t i = 0, j; i < n; i = j) {
		struct dk_sec_finding f, *slot;
		const struct dk_sec_finding *prev;

		for (j = i + 1; j < n && strcmp(sorted[j].cve, sorted[i].cve) == 0; j++)
			;
		if (sorted[i].cve_kind == DK_CVE_REJECTED || sorted[i].cve_kind == DK_CVE_NFU)
			continue;
		/* RESERVED: not public yet, so listed apart, but matched all the same when its lines allow. */
		if (!dk_sec_match(sorted + i, j - i, rep->release, installed, &f)) {
			if (sorted[i].cve_kind != DK_CVE_RESERVED)
				continue;
			memset(&f, 0, sizeof(f));
			f.installed = installed;
			f.status = DK_SEC_UNDETERMINED;
			for (size_t b = i; b < j && !f.urgency; b++)
				f.urgency = sorted[b].urgency;
		}
		f.cve = sorted[i].cve;
		f.description = sorted[i].description;
		f.references = sorted[i].refs ? sorted[i].refs : "";
		f.source = source;
		f.binaries = binaries;
		if (!f.urgency)
			f.urgency = not_assigned;
		for (size_t b = i; b < j && !f.bug; b++)
			f.bug = sorted[b].bug;
		if (!(f.advisories = advisories_of(&rep->arena, sorted + i, j - i, rep->release)))
			goto oom;
		if (sorted[i].cve_kind == DK_CVE_RESERVED) {
			prev = rep->nreserved ? &rep->reserved[rep->nreserved - 1] : NULL;
			if (transient && !keep_finding(rep, &f, prev))
				goto oom;
			slot = push(&rep->reserved, &rep->nreserved, &rep->reserved_alloc);
		} else {
			prev = rep->nfindings ? &rep->findings[rep->nfindings - 1] : NULL;
			if (transient && !keep_finding(rep, &f, prev))
				goto oom;
			slot = push(&rep->findings, &rep->nfindings, &rep->alloc);
		}
		if (!slot)
			goto oom;
		*slot = f;
	}
	free(copy);
	return 0;
oom:
	free(copy);
	return dk_err_set(err, DK_ENOMEM, "out of memory");
}

int dk_sec_report_add(struct dk_sec_report *rep, const struct dk_sec_row *rows, size_t n, const char *source,
		      const char *installed, const char *binaries, struct dk_err *err)
{
	return report_add(rep, rows, n, source, installed, binaries, false, err);
}

static int finding_cmp(const void *a, const void *b)
{
	const struct dk_sec_finding *x = a, *y = b;
	int r = strcmp(x->cve, y->cve);

	if (!r)
		r = strcmp(x->source, y->source);
	if (!r)
		r = vcmp(x->installed, y->installed);
	return r;
}

void dk_sec_report_sort(struct dk_sec_report *rep)
{
	if (rep->nfindings)
		qsort(rep->findings, rep->nfindings, sizeof(rep->findings[0]), finding_cmp);
	if (rep->nreserved)
		qsort(rep->reserved, rep->nreserved, sizeof(rep->reserved[0]), finding_cmp);
}

/* A RESERVED entry without package lines whose notes name a source. */
struct named {
	const char *cve, *description, *notes;
};

/*
 * Where a scan gets one source's rows from, and the RESERVED entries whose
 * notes name it: the database, or a tracker parsed in memory.
 */
struct row_source {
	int (*get)(struct row_source *rs, const char *source, struct dk_err *err);
	int (*get_named)(struct row_source *rs, const char *source, struct dk_err *err);
	struct dk_sec_row *rows;
	size_t n, alloc;
	struct named *named;
	size_t nnamed, named_alloc;
	struct dk_arena *arena;
	bool transient; /* rows point into blob, overwritten by the next get() */
	/* the database */
	struct dk_db *db;
	sqlite3_stmt *q, *nq, *eq;
	struct dk_buf blob;
	/* a parsed tracker */
	const struct dk_tracker *t;
	const struct dk_sec_index *ix;
};

static struct named *push_named(struct row_source *rs)
{
	if (rs->nnamed == rs->named_alloc) {
		size_t na = rs->named_alloc ? rs->named_alloc * 2 : 16;
		struct named *nv = realloc(rs->named, na * sizeof(*nv));

		if (!nv)
			return NULL;
		rs->named = nv;
		rs->named_alloc = na;
	}
	return &rs->named[rs->nnamed++];
}

static const char *col_str(struct dk_arena *a, sqlite3_stmt *s, int i)
{
	const unsigned char *v = sqlite3_column_text(s, i);

	return v ? dk_arena_strdup(a, (const char *)v) : NULL;
}

static int named_from_db(struct row_source *rs, const char *source, struct dk_err *err)
{
	int rc;

	rs->nnamed = 0;
	sqlite3_bind_text(rs->nq, 1, source, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(rs->nq)) == SQLITE_ROW) {
		struct named *nm = push_named(rs);

		if (!nm || !(nm->cve = col_str(rs->arena, rs->nq, 0))) {
			sqlite3_reset(rs->nq);
			return dk_err_set(err, DK_ENOMEM, "out of memory");
		}
	}
	sqlite3_reset(rs->nq);
	if (rc != SQLITE_DONE)
		return dk_db_error(rs->db, err, "reading the RESERVED entries");
	/* Few sources are named in a note: the entries are read only for those. */
	for (size_t k = 0; k < rs->nnamed; k++) {
		struct named *nm = &rs->named[k];

		sqlite3_bind_text(rs->eq, 1, nm->cve, -1, SQLITE_STATIC);
		rc = sqlite3_step(rs->eq);
		if (rc == SQLITE_ROW) {
			bool has_desc = sqlite3_column_type(rs->eq, 0) != SQLITE_NULL;

			nm->description = has_desc ? col_str(rs->arena, rs->eq, 0) : NULL;
			nm->notes = col_str(rs->arena, rs->eq, 1);
			if (!nm->notes || (has_desc && !nm->description)) {
				sqlite3_reset(rs->eq);
				return dk_err_set(err, DK_ENOMEM, "out of memory");
			}
		}
		sqlite3_reset(rs->eq);
		if (rc != SQLITE_ROW)
			return rc == SQLITE_DONE ? dk_err_set(err, DK_EINPUT, "%s: %s: a note's word without its entry",
							      rs->db->path, nm->cve)
						 : dk_db_error(rs->db, err, "reading the RESERVED entries");
	}
	return 0;
}

struct word_match {
	const char *w;
	size_t n;
};

static int is_word(void *ctx, const char *w, size_t n)
{
	const struct word_match *m = ctx;

	return n == m->n && memcmp(w, m->w, n) == 0;
}

/* Few entries keep notes (RESERVED ones without package lines), fewer still in a tracker loaded for a target. */
static int named_from_tracker(struct row_source *rs, const char *source, struct dk_err *err)
{
	struct word_match m = { source, strlen(source) };

	rs->nnamed = 0;
	for (uint32_t id = 1; id < dk_tracker_ids(rs->t) && id < rs->t->entries_alloc; id++) {
		const struct dk_tracker_entry *e = &rs->t->entries[id];
		struct named *nm;

		if (!e->name || !e->notes || !dk_tracker_note_words(e->notes, strlen(e->notes), is_word, &m))
			continue;
		if (!(nm = push_named(rs)))
			return dk_err_set(err, DK_ENOMEM, "out of memory");
		*nm = (struct named){ e->name, e->description, e->notes };
	}
	return 0;
}

static int add_named(struct dk_sec_report *rep, const struct row_source *rs, const struct dk_sec_pkg *p,
		     const char *binaries, struct dk_err *err)
{
	for (size_t k = 0; k < rs->nnamed; k++) {
		struct dk_sec_finding *slot = push(&rep->reserved, &rep->nreserved, &rep->reserved_alloc);

		if (!slot)
			return dk_err_set(err, DK_ENOMEM, "out of memory");
		*slot = (struct dk_sec_finding){
			.cve = rs->named[k].cve,
			.description = rs->named[k].description,
			.source = p->source,
			.installed = p->source_version,
			.binaries = binaries,
			.urgency = not_assigned,
			.advisories = "",
			.references = "",
			.note = rs->named[k].notes,
			.status = DK_SEC_UNDETERMINED,
			.named_in_note = true,
		};
	}
	return 0;
}

static int rows_from_db(struct row_source *rs, const char *source, struct dk_err *err)
{
	int rc, r = 0;

	rs->n = 0;
	sqlite3_bind_text(rs->q, 1, source, -1, SQLITE_STATIC);
	rc = sqlite3_step(rs->q);
	if (rc == SQLITE_ROW) {
		const void *blob = sqlite3_column_blob(rs->q, 0);
		size_t len = (size_t)sqlite3_column_bytes(rs->q, 0);

		/* Decoded in one buffer, used again for each source: the findings copy what they keep. */
		dk_buf_reset(&rs->blob);
		if (len && dk_buf_add(&rs->blob, blob, len) < 0)
			r = dk_err_set(err, DK_ENOMEM, "out of memory");
		else if ((r = dk_sec_rows_decode(rs->blob.data, len, &rs->rows, &rs->n, &rs->alloc, err)) < 0)
			dk_err_prefix(err, "%s: %s", rs->db->path, source);
	} else if (rc != SQLITE_DONE) {
		r = dk_db_error(rs->db, err, "reading the tracker data");
	}
	sqlite3_reset(rs->q);
	return r;
}

static int rows_from_tracker(struct row_source *rs, const char *source, struct dk_err *err)
{
	dk_id id = dk_strpool_lookup(&rs->t->sources, source, strlen(source));

	rs->n = 0;
	return id ? dk_sec_index_rows(rs->t, rs->ix, id, &rs->rows, &rs->n, &rs->alloc, err) : 0;
}

static int scan_with(struct row_source *rs, const struct dk_sec_target *tg, const char *release,
		     struct dk_sec_report *rep, struct dk_err *err)
{
	int r = 0;

	rep->release = dk_arena_strdup(&rep->arena, release);
	if (!rep->release)
		return dk_err_set(err, DK_ENOMEM, "out of memory");
	/*
	 * Room for a generous number of findings per package from the start:
	 * untouched, it costs no memory, where growing by doubling copied (and
	 * faulted in) the array over and over.
	 */
	if (!rep->alloc && tg->npkgs) {
		size_t want = tg->npkgs < 4096 ? tg->npkgs * 16 : 65536;

		if (!(rep->findings = malloc(want * sizeof(*rep->findings))))
			return dk_err_set(err, DK_ENOMEM, "out of memory");
		rep->alloc = want;
	}
	for (size_t i = 0, j; i < tg->npkgs; i = j) {
		const struct dk_sec_pkg *p = &tg->pkgs[i];
		struct dk_buf bins = DK_BUF_INIT;
		const char *b;

		/* The target is sorted by (source, version): each pair is looked at once, with all its binaries. */
		for (j = i; j < tg->npkgs && strcmp(tg->pkgs[j].source, p->source) == 0 &&
			    strcmp(tg->pkgs[j].source_version, p->source_version) == 0;
		     j++) {
			if (bins.len)
				dk_buf_addc(&bins, ' ');
			dk_buf_adds(&bins, tg->pkgs[j].name);
		}
		b = bins.failed ? NULL : dk_arena_strndup(&rep->arena, bins.data, bins.len);
		dk_buf_release(&bins);
		if (!b)
			return dk_err_set(err, DK_ENOMEM, "out of memory");
		rep->sources++;
		if ((r = rs->get(rs, p->source, err)) < 0 ||
		    (r = report_add(rep, rs->rows, rs->n, p->source, p->source_version, b, rs->transient, err)) < 0)
			return r;
		if (rs->get_named && (!i || strcmp(tg->pkgs[i - 1].source, p->source) != 0) &&
		    (r = rs->get_named(rs, p->source, err)) < 0)
			return r;
		if (rs->get_named && (r = add_named(rep, rs, p, b, err)) < 0)
			return r;
	}
	dk_sec_report_sort(rep);
	return 0;
}

int dk_sec_scan_data(struct dk_sec_data *d, const struct dk_sec_target *tg, const char *release,
		     struct dk_sec_report *rep, struct dk_err *err)
{
	struct row_source rs = { .get = rows_from_db, .arena = &rep->arena, .transient = true, .db = d->db,
				 .blob = DK_BUF_INIT };
	sqlite3 *h = d->db->h;
	bool own;
	int r;

	if (sqlite3_prepare_v2(h, "SELECT rows FROM sec_source WHERE source = ?1", -1, &rs.q, NULL) != SQLITE_OK) {
		r = dk_db_error(d->db, err, "reading the tracker data");
		goto out;
	}
	/* Data loaded by a debkeep without the RESERVED tables has none to look in until the next update. */
	if (d->version >= 2) {
		rs.get_named = named_from_db;
		if (sqlite3_prepare_v2(h, "SELECT cve FROM sec_reserved_word WHERE word = ?1", -1, &rs.nq, NULL) ||
		    sqlite3_prepare_v2(h, "SELECT description, notes FROM sec_reserved WHERE cve = ?1", -1, &rs.eq,
				       NULL)) {
			r = dk_db_error(d->db, err, "reading the RESERVED entries");
			goto out;
		}
	}
	/*
	 * One read transaction for every look-up: outside one, each statement
	 * takes and drops its own (a read lock, the schema checked again),
	 * which cost as much as the look-ups themselves.
	 */
	own = sqlite3_get_autocommit(h) && sqlite3_exec(h, "BEGIN", NULL, NULL, NULL) == SQLITE_OK;
	r = scan_with(&rs, tg, release, rep, err);
	if (own)
		sqlite3_exec(h, "COMMIT", NULL, NULL, NULL);
out:
	sqlite3_finalize(rs.q);
	sqlite3_finalize(rs.nq);
	sqlite3_finalize(rs.eq);
	dk_buf_release(&rs.blob);
	free(rs.rows);
	free(rs.named);
	return r;
}

int dk_sec_scan(struct dk_db *db, const struct dk_sec_target *tg, const char *release, struct dk_sec_report *rep,
		struct dk_err *err)
{
	struct dk_sec_data d;
	int r;

	if ((r = dk_sec_data_open(db, &d, err)) != 0)
		return r;
	r = dk_sec_scan_data(&d, tg, release, rep, err);
	dk_sec_data_close(&d);
	return r;
}

int dk_sec_scan_tracker(const struct dk_tracker *t, const struct dk_sec_index *ix, const struct dk_sec_target *tg,
			const char *release, struct dk_sec_report *rep, struct dk_err *err)
{
	struct row_source rs = { .get = rows_from_tracker, .get_named = named_from_tracker, .arena = &rep->arena,
				 .t = t, .ix = ix };
	int r = scan_with(&rs, tg, release, rep, err);

	free(rs.rows);
	free(rs.named);
	return r;
}

int dk_sec_scan_files(const char *path, const struct dk_sec_target *tg, const char *release, struct dk_tracker *t,
		      struct dk_sec_report *rep, struct dk_err *err)
{
	struct dk_strpool only = DK_STRPOOL_INIT;
	struct dk_sec_index ix = DK_SEC_INDEX_INIT;
	int r;

	if ((r = dk_sec_target_sources(tg, &only, err)) < 0)
		goto out;
	t->only = &only;
	if ((r = dk_tracker_load(t, path, err)) < 0 || (r = dk_sec_index_build(t, &ix, err)) < 0)
		goto out;
	r = dk_sec_scan_tracker(t, &ix, tg, release, rep, err);
out:
	t->only = NULL;
	dk_sec_index_release(&ix);
	dk_strpool_release(&only);
	return r;
}

/* The highest version of source in a set sorted by (source, version), or NULL. */
static const char *highest(const struct dk_sec_target *set, const char *source)
{
	size_t lo = 0, hi = set->npkgs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(set->pkgs[mid].source, source) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo && strcmp(set->pkgs[lo - 1].source, source) == 0 ? set->pkgs[lo - 1].source_version : NULL;
}

size_t dk_sec_report_mark_available(struct dk_sec_report *rep, const struct dk_sec_target *avail)
{
	size_t n = 0;

	for (size_t i = 0; i < rep->nfindings; i++) {
		struct dk_sec_finding *f = &rep->findings[i];
		const char *v;

		if (!dk_sec_status_open(f->status) || !f->fixed || !(v = highest(avail, f->source)))
			continue;
		if (vcmp(v, f->fixed) >= 0) {
			f->available = v;
			n++;
		}
	}
	return n;
}
