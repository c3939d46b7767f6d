/* store.c - the security tracker's data in the data root: ROOT/tracker.db, built aside and renamed in; read back */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include <debkeep/sec.h>

#include "banned.h"

/*
 * Until the tracker's data moved to a file of its own, the data root's
 * database held it in these tables; step 3 drops them once an update has
 * written ROOT/tracker.db.
 */
static const struct dk_db_migration sec_steps[] = {
	{ 1, "security tracker data",
	  "CREATE TABLE sec_update ("
	  " id INTEGER PRIMARY KEY CHECK (id = 1),"
	  " source TEXT NOT NULL, data_date TEXT NOT NULL, loaded_at TEXT NOT NULL,"
	  " entries INTEGER NOT NULL, fixes INTEGER NOT NULL, advisories INTEGER NOT NULL);"
	  "CREATE TABLE sec_source (source TEXT PRIMARY KEY, nrows INTEGER NOT NULL, rows BLOB NOT NULL);"
	  "CREATE TABLE sec_advisory (name TEXT NOT NULL, date TEXT NOT NULL, title TEXT, cves TEXT);" },
	{ 2, "RESERVED entries named in notes",
	  "CREATE TABLE sec_reserved (cve TEXT PRIMARY KEY, description TEXT, notes TEXT NOT NULL) WITHOUT ROWID;"
	  "CREATE TABLE sec_reserved_word (word TEXT NOT NULL, cve TEXT NOT NULL, PRIMARY KEY (word, cve))"
	  " WITHOUT ROWID;" },
	{ 3, "tracker data in tracker.db",
	  "DROP TABLE sec_update; DROP TABLE sec_source; DROP TABLE sec_advisory; DROP TABLE sec_reserved;"
	  " DROP TABLE sec_reserved_word;" },
};

/* From this step of the sec area on, the data is in ROOT/tracker.db only. */
#define SEC_MOVED 3

/*
 * ROOT/tracker.db. A scan asks for the lines of a few hundred sources out
 * of tens of thousands: each source's lines are one row, a blob in the
 * encoding of dk_sec_rows_encode() (kinds are enum dk_cve_kind and enum
 * dk_fix_kind, whose values are part of this format and never
 * renumbered). One row per source keeps an update to a few ten thousand
 * inserts and a scan to one primary-key look-up per source. The RESERVED
 * entries without package lines are kept for what their NOTE lines say,
 * with the words of those notes that could be source names: a scan looks
 * its sources up there.
 *
 * The file is written once, by one process, into a file nobody reads yet:
 * no journal, no syncs until the end (one fsync before the rename), and
 * 32 KiB pages, which pack the rows (2 KiB on average) with a fifth less
 * waste than 4 KiB pages and make the file a fifth smaller.
 */
#define DATA_FORMAT 1

static const char data_schema[] =
	"PRAGMA page_size=32768; PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA locking_mode=EXCLUSIVE;"
	"PRAGMA user_version=1;"
	"CREATE TABLE sec_update ("
	" id INTEGER PRIMARY KEY CHECK (id = 1),"
	" source TEXT NOT NULL, data_date TEXT NOT NULL, loaded_at TEXT NOT NULL,"
	" entries INTEGER NOT NULL, fixes INTEGER NOT NULL, advisories INTEGER NOT NULL);"
	"CREATE TABLE sec_source (source TEXT PRIMARY KEY, nrows INTEGER NOT NULL, rows BLOB NOT NULL);"
	"CREATE TABLE sec_advisory (name TEXT NOT NULL, date TEXT NOT NULL, title TEXT, cves TEXT);"
	"CREATE TABLE sec_reserved (cve TEXT PRIMARY KEY, description TEXT, notes TEXT NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE sec_reserved_word (word TEXT NOT NULL, cve TEXT NOT NULL, PRIMARY KEY (word, cve))"
	" WITHOUT ROWID;";

int dk_sec_db_prepare(struct dk_db *db, struct dk_err *err)
{
	return dk_db_migrate(db, "sec", sec_steps, sizeof(sec_steps) / sizeof(sec_steps[0]), err);
}

/* ROOT/sub of the data root whose database is db (ROOT/debkeep.db); NULL when out of memory. */
static char *root_file(const struct dk_db *db, const char *sub)
{
	const char *slash = strrchr(db->path, '/');
	size_t n = slash ? (size_t)(slash - db->path) : 1;
	size_t len = n + 1 + strlen(sub) + 1;
	char *p = malloc(len);

	if (p)
		snprintf(p, len, "%.*s/%s", (int)n, slash ? db->path : ".", sub);
	return p;
}

static void bind_str(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i);
}

static int step_done(struct dk_db *db, sqlite3_stmt *s, struct dk_err *err, const char *what)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return dk_db_error(db, err, what);
	return 0;
}

void dk_sec_index_release(struct dk_sec_index *ix)
{
	free(ix->start);
	free(ix->order);
	*ix = (struct dk_sec_index)DK_SEC_INDEX_INIT;
}

/* A counting sort by source id: linear, and stable, so each source's lines keep the files' order. */
int dk_sec_index_build(const struct dk_tracker *t, struct dk_sec_index *ix, struct dk_err *err)
{
	uint32_t ns = dk_strpool_count(&t->sources);

	ix->start = calloc((size_t)ns + 1, sizeof(*ix->start));
	ix->order = malloc((t->nfixes ? t->nfixes : 1) * sizeof(*ix->order));
	if (!ix->start || !ix->order) {
		dk_sec_index_release(ix);
		return dk_err_set(err, DK_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < t->nfixes; i++)
		ix->start[t->fixes[i].source + 1]++;
	for (uint32_t s = 1; s <= ns; s++)
		ix->start[s] += ix->start[s - 1];
	for (size_t i = 0; i < t->nfixes; i++)
		ix->order[ix->start[t->fixes[i].source]++] = (uint32_t)i;
	for (uint32_t s = ns; s > 0; s--)
		ix->start[s] = ix->start[s - 1];
	ix->start[0] = 0;
	return 0;
}

int dk_sec_index_rows(const struct dk_tracker *t, const struct dk_sec_index *ix, dk_id source, struct dk_sec_row **rows,
		      size_t *n, size_t *alloc, struct dk_err *err)
{
	size_t need = ix->start[source + 1] - ix->start[source];

	if (need > *alloc) {
		struct dk_sec_row *nr = realloc(*rows, need * sizeof(*nr));

		if (!nr)
			return dk_err_set(err, DK_ENOMEM, "out of memory");
		*rows = nr;
		*alloc = need;
	}
	*n = need;
	for (size_t i = 0; i < need; i++) {
		const struct dk_tracker_fix *f = &t->fixes[ix->order[ix->start[source] + i]];
		const struct dk_tracker_entry *e = &t->entries[f->cve];
		struct dk_sec_row *r = &(*rows)[i];

		r->cve = e->name;
		r->cve_kind = e->kind;
		r->description = e->description;
		r->refs = e->refs;
		r->release = f->release ? f->release : "";
		r->kind = f->kind;
		r->version = f->version;
		r->urgency = f->urgency;
		r->note = f->note;
		r->advisory = f->advisory;
		r->bug = f->bug;
	}
	return 0;
}

/* Free text is stored without the separators: a tab or newline in a note becomes a space. */
static char *put_field(char *w, const char *s, size_t n, char sep)
{
	char *end = w + n, *q;

	if (n)
		memcpy(w, s, n);
	for (q = w; (q = memchr(q, '\t', (size_t)(end - q))) != NULL; q++)
		*q = ' ';
	for (q = w; (q = memchr(q, '\n', (size_t)(end - q))) != NULL; q++)
		*q = ' ';
	*end = sep;
	return end + 1;
}

static char *put_uint(char *w, uint32_t v, char sep)
{
	char tmp[10];
	int n = 0;

	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (n)
		*w++ = tmp[--n];
	*w = sep;
	return w + 1;
}

/* A length measured once per string: releases, urgencies, notes and a CVE's own name repeat row after row. */
struct len_memo {
	const char *s;
	size_t n;
};

static size_t len_of(const char *s, struct len_memo *m)
{
	if (s != m->s) {
		m->s = s;
		m->n = s ? strlen(s) : 0;
	}
	return m->n;
}

/*
 * Fields: cve, cve kind, refs, description, release, kind, version,
 * urgency, bug, note, advisory. A row of the same CVE as the row before
 * leaves refs and description empty: they are the CVE's, not the line's.
 * An update encodes every line of the list: the fields are measured first
 * and copied into room made once per row.
 */
int dk_sec_rows_encode(const struct dk_sec_row *rows, size_t n, struct dk_buf *b)
{
	struct len_memo m[8] = { { NULL, 0 } };

	for (size_t i = 0; i < n; i++) {
		const struct dk_sec_row *r = &rows[i];
		bool again = i && (rows[i - 1].cve == r->cve || strcmp(rows[i - 1].cve, r->cve) == 0);
		size_t lcve = len_of(r->cve, &m[0]), lrefs = again ? 0 : len_of(r->refs, &m[1]);
		size_t ldesc = again ? 0 : len_of(r->description, &m[2]), lrel = len_of(r->release, &m[3]);
		size_t lver = len_of(r->version, &m[4]), lurg = len_of(r->urgency, &m[5]);
		size_t lnote = len_of(r->note, &m[6]), ladv = len_of(r->advisory, &m[7]);
		char *w;

		/* 11 separators, two kinds (up to 10 digits each) and the bug (up to 10). */
		if (dk_buf_grow(b, lcve + lrefs + ldesc + lrel + lver + lurg + lnote + ladv + 11 + 30) < 0)
			return DK_ENOMEM;
		w = b->data + b->len;
		w = put_field(w, r->cve, lcve, '\t');
		w = put_uint(w, (uint32_t)r->cve_kind, '\t');
		w = put_field(w, r->refs, lrefs, '\t');
		w = put_field(w, r->description, ldesc, '\t');
		w = put_field(w, r->release, lrel, '\t');
		w = put_uint(w, (uint32_t)r->kind, '\t');
		w = put_field(w, r->version, lver, '\t');
		w = put_field(w, r->urgency, lurg, '\t');
		if (r->bug)
			w = put_uint(w, r->bug, '\t');
		else
			*w++ = '\t';
		w = put_field(w, r->note, lnote, '\t');
		w = put_field(w, r->advisory, ladv, '\n');
		b->len = (size_t)(w - b->data);
		*w = '\0';
	}
	return b->failed ? DK_ENOMEM : 0;
}

/* A stored number: digits only, else -1 (the caller calls the row malformed). */
static int64_t get_uint(const char *s)
{
	int64_t v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > 0xffffffffLL / 10)
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v > 0xffffffffLL ? -1 : v;
}

int dk_sec_rows_decode(char *data, size_t len, struct dk_sec_row **rows, size_t *n, size_t *alloc, struct dk_err *err)
{
	char *p = data, *end = data + len;

	*n = 0;
	while (p < end) {
		char *f[11];
		struct dk_sec_row *r;
		int64_t ck, fk, bug;
		int nf = 0;

		char *nl = memchr(p, '\n', (size_t)(end - p));

		/* Eleven fields, ten tabs, all within the line. */
		if (!nl)
			return dk_err_set(err, DK_EINPUT, "malformed stored tracker row");
		while (nf < 10) {
			char *q = memchr(p, '\t', (size_t)(nl - p));

			if (!q)
				return dk_err_set(err, DK_EINPUT, "malformed stored tracker row");
			f[nf++] = p;
			*q = '\0';
			p = q + 1;
		}
		if (memchr(p, '\t', (size_t)(nl - p)))
			return dk_err_set(err, DK_EINPUT, "malformed stored tracker row");
		f[nf++] = p;
		*nl = '\0';
		p = nl + 1;
		if (*n == *alloc) {
			size_t na = *alloc ? *alloc * 2 : 256;
			struct dk_sec_row *nr = realloc(*rows, na * sizeof(*nr));

			if (!nr)
				return dk_err_set(err, DK_ENOMEM, "out of memory");
			*rows = nr;
			*alloc = na;
		}
		r = &(*rows)[(*n)++];
		r->cve = f[0];
		ck = get_uint(f[1]);
		fk = get_uint(f[5]);
		bug = *f[8] ? get_uint(f[8]) : 0;
		r->cve_kind = (enum dk_cve_kind)(ck < 0 ? 0 : ck);
		r->refs = *f[2] ? f[2] : NULL;
		r->description = *f[3] ? f[3] : NULL;
		if (*n > 1 && strcmp(r[-1].cve, r->cve) == 0) {
			r->refs = r[-1].refs;
			r->description = r[-1].description;
		}
		r->release = f[4];
		r->kind = (enum dk_fix_kind)(fk < 0 ? 0 : fk);
		r->version = *f[6] ? f[6] : NULL;
		r->urgency = *f[7] ? f[7] : NULL;
		r->bug = (uint32_t)(bug < 0 ? 0 : bug);
		r->note = *f[9] ? f[9] : NULL;
		r->advisory = *f[10] ? f[10] : NULL;
		if (ck < 0 || fk < 0 || bug < 0 || r->kind >= DK_FIX_KIND_COUNT || r->cve_kind > DK_CVE_NFU ||
		    (r->kind == DK_FIX_VERSION && !r->version))
			return dk_err_set(err, DK_EINPUT, "malformed stored tracker row for %s", r->cve);
	}
	return 0;
}

static int row_cmp(const void *a, const void *b)
{
	return strcmp(((const struct dk_sec_row *)a)->cve, ((const struct dk_sec_row *)b)->cve);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A list written oldest first gives each source's lines in CVE order already. */
static bool sorted(const struct dk_sec_row *rows, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (row_cmp(&rows[i - 1], &rows[i]) > 0)
			return false;
	return true;
}

struct word_ctx {
	sqlite3_stmt *s;
	const char *cve;
};

static int store_word(void *ctx, const char *w, size_t n)
{
	struct word_ctx *c = ctx;
	int rc;

	sqlite3_bind_text(c->s, 1, w, (int)n, SQLITE_TRANSIENT);
	sqlite3_bind_text(c->s, 2, c->cve, -1, SQLITE_STATIC);
	rc = sqlite3_step(c->s);
	sqlite3_reset(c->s);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int store_reserved(struct dk_db *db, const struct dk_tracker *t, struct dk_err *err)
{
	sqlite3_stmt *ent = NULL, *word = NULL;
	int r = 0;

	if (sqlite3_prepare_v2(db->h, "INSERT INTO sec_reserved VALUES (?1, ?2, ?3)", -1, &ent, NULL) ||
	    sqlite3_prepare_v2(db->h, "INSERT OR IGNORE INTO sec_reserved_word VALUES (?1, ?2)", -1, &word, NULL)) {
		r = dk_db_error(db, err, "preparing the RESERVED tables");
		goto out;
	}
	for (uint32_t id = 1; id < dk_tracker_ids(t) && id < t->entries_alloc; id++) {
		const struct dk_tracker_entry *e = &t->entries[id];
		struct word_ctx wc = { word, e->name };

		if (!e->name || !e->notes)
			continue;
		bind_str(ent, 1, e->name);
		bind_str(ent, 2, e->description);
		bind_str(ent, 3, e->notes);
		if ((r = step_done(db, ent, err, "storing a RESERVED entry")) < 0)
			goto out;
		if (dk_tracker_note_words(e->notes, strlen(e->notes), store_word, &wc) != 0) {
			r = dk_db_error(db, err, "storing a RESERVED entry's words");
			goto out;
		}
	}
out:
	sqlite3_finalize(ent);
	sqlite3_finalize(word);
	return r;
}

static int store_rows(struct dk_db *db, const struct dk_tracker *t, struct dk_err *err, long *nentries)
{
	sqlite3_stmt *src = NULL, *adv = NULL;
	struct dk_sec_index ix = DK_SEC_INDEX_INIT;
	struct dk_sec_row *rows = NULL;
	struct dk_buf b = DK_BUF_INIT;
	const char **byname = NULL;
	size_t n = 0, alloc = 0;
	uint32_t nsrc;
	int r = 0;

	*nentries = 0;
	for (uint32_t id = 1; id < dk_tracker_ids(t) && id < t->entries_alloc; id++)
		*nentries += t->entries[id].name != NULL;
	if ((r = dk_sec_index_build(t, &ix, err)) < 0)
		return r;
	if (sqlite3_prepare_v2(db->h, "INSERT INTO sec_source VALUES (?1, ?2, ?3)", -1, &src, NULL) ||
	    sqlite3_prepare_v2(db->h, "INSERT INTO sec_advisory VALUES (?1, ?2, ?3, ?4)", -1, &adv, NULL)) {
		r = dk_db_error(db, err, "preparing the tracker tables");
		goto out;
	}
	/*
	 * In name order, each insert appends to the table's B-trees: a page is
	 * filled once and written once, where the list's order made SQLite
	 * rewrite pages it had already spilled to the WAL (a quarter more
	 * writes into a fresh data root).
	 */
	nsrc = dk_strpool_count(&t->sources) - 1;
	if (!(byname = malloc((nsrc ? nsrc : 1) * sizeof(*byname)))) {
		r = dk_err_set(err, DK_ENOMEM, "out of memory");
		goto out;
	}
	for (uint32_t i = 0; i < nsrc; i++)
		byname[i] = dk_strpool_str(&t->sources, i + 1);
	qsort(byname, nsrc, sizeof(*byname), name_cmp);
	for (uint32_t i = 0; i < nsrc; i++) {
		dk_id s = dk_strpool_lookup(&t->sources, byname[i], strlen(byname[i]));

		if ((r = dk_sec_index_rows(t, &ix, s, &rows, &n, &alloc, err)) < 0)
			goto out;
		if (!n)
			continue;
		if (!sorted(rows, n))
			qsort(rows, n, sizeof(*rows), row_cmp);
		dk_buf_reset(&b);
		if (dk_sec_rows_encode(rows, n, &b) < 0) {
			r = dk_err_set(err, DK_ENOMEM, "out of memory");
			goto out;
		}
		bind_str(src, 1, byname[i]);
		sqlite3_bind_int64(src, 2, (sqlite3_int64)n);
		sqlite3_bind_blob(src, 3, b.data, (int)b.len, SQLITE_STATIC);
		if ((r = step_done(db, src, err, "storing a source's lines")) < 0)
			goto out;
	}
	for (size_t i = 0; i < t->nadvisories; i++) {
		const struct dk_advisory *a = &t->advisories[i];

		bind_str(adv, 1, a->name);
		bind_str(adv, 2, a->date);
		bind_str(adv, 3, a->title);
		bind_str(adv, 4, a->cves);
		if ((r = step_done(db, adv, err, "storing an advisory")) < 0)
			goto out;
	}
out:
	sqlite3_finalize(src);
	sqlite3_finalize(adv);
	free(byname);
	dk_sec_index_release(&ix);
	dk_buf_release(&b);
	free(rows);
	return r;
}

/* Data of one update, into the new file: its tables are empty, each insert appends. */
static int fill(struct dk_db *nd, const struct dk_tracker *t, const char *source, const char *data_date,
		struct dk_err *err)
{
	sqlite3_stmt *s = NULL;
	char now[32];
	time_t tt = time(NULL);
	struct tm tm;
	long nentries = 0;
	int r;

	gmtime_r(&tt, &tm);
	strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if ((r = dk_db_exec(nd, data_schema, err)) < 0 || (r = dk_db_exec(nd, "BEGIN", err)) < 0 ||
	    (r = store_rows(nd, t, err, &nentries)) < 0 || (r = store_reserved(nd, t, err)) < 0)
		return r;
	if (sqlite3_prepare_v2(nd->h, "INSERT INTO sec_update VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6)", -1, &s, NULL) !=
	    SQLITE_OK)
		return dk_db_error(nd, err, "recording the update");
	bind_str(s, 1, source);
	bind_str(s, 2, data_date);
	bind_str(s, 3, now);
	sqlite3_bind_int64(s, 4, nentries);
	sqlite3_bind_int64(s, 5, (sqlite3_int64)t->nfixes);
	sqlite3_bind_int64(s, 6, (sqlite3_int64)t->nadvisories);
	r = step_done(nd, s, err, "recording the update");
	sqlite3_finalize(s);
	return r < 0 ? r : dk_db_exec(nd, "COMMIT", err);
}

/* Written with synchronous=OFF: on disk before the rename makes it the data, and the rename after it. */
static int sync_path(const char *path, int flags, struct dk_err *err)
{
	int fd = open(path, flags | O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fsync(fd) != 0) {
		int r = dk_err_errno(err, "%s: cannot sync", path);

		if (fd >= 0)
			close(fd);
		return r;
	}
	close(fd);
	return 0;
}

int dk_sec_store(struct dk_db *db, const struct dk_tracker *t, const char *source, const char *data_date,
		 struct dk_err *err)
{
	struct dk_db nd = DK_DB_INIT;
	char *tmpdir = root_file(db, "tmp"), *final = root_file(db, DK_SEC_DATA_FILE), *root = root_file(db, ".");
	char name[64];
	int r = 0;

	snprintf(name, sizeof(name), "tmp/tracker-%ld.db", (long)getpid());
	nd.path = root_file(db, name);
	if (!tmpdir || !final || !root || !nd.path) {
		r = dk_err_set(err, DK_ENOMEM, "out of memory");
		goto out;
	}
	if (mkdir(tmpdir, 0777) != 0 && errno != EEXIST) {
		r = dk_err_errno(err, "%s: cannot create directory", tmpdir);
		goto out;
	}
	/* A file left by a crashed update of a process with our pid would only be appended to. */
	if (unlink(nd.path) != 0 && errno != ENOENT) {
		r = dk_err_errno(err, "%s: cannot remove", nd.path);
		goto out;
	}
	if (sqlite3_open_v2(nd.path, &nd.h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		r = dk_db_error(&nd, err, "cannot create");
		goto out;
	}
	if ((r = fill(&nd, t, source, data_date, err)) < 0)
		goto out;
	if (sqlite3_close(nd.h) != SQLITE_OK) {
		r = dk_db_error(&nd, err, "cannot close");
		goto out;
	}
	nd.h = NULL;
	if ((r = sync_path(nd.path, 0, err)) < 0)
		goto out;
	if (rename(nd.path, final) != 0) {
		r = dk_err_errno(err, "%s: cannot rename to %s", nd.path, final);
		goto out;
	}
	if ((r = sync_path(root, O_DIRECTORY, err)) < 0)
		goto out;
	/* Only now: the tables of an older update stay readable until the new data is in place. */
	r = dk_sec_db_prepare(db, err);
out:
	if (nd.h)
		sqlite3_close(nd.h);
	if (r < 0 && nd.path)
		unlink(nd.path);
	free(nd.path);
	free(tmpdir);
	free(final);
	free(root);
	return r;
}

static int no_data(const char *where, struct dk_err *err)
{
	return dk_err_set(err, DK_NOTFOUND, "%s: no security tracker data (run 'debkeep cve update' first)", where);
}

/* The data in the main database db, as a debkeep before tracker.db left it. */
static int open_legacy(struct dk_sec_data *d, struct dk_db *db, struct dk_err *err)
{
	int r;

	if ((r = dk_db_schema_version(db, "sec", &d->version, err)) < 0)
		return r;
	if (!d->version || d->version >= SEC_MOVED)
		return no_data(db->path, err);
	d->db = db;
	return 0;
}

/* tracker.db, at d->own.path. */
static int open_own(struct dk_sec_data *d, struct dk_err *err)
{
	sqlite3_stmt *s = NULL;
	int r, format = -1;

	d->db = &d->own;
	d->version = SEC_MOVED;
	if (sqlite3_open_v2(d->own.path, &d->own.h, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		r = dk_db_error(&d->own, err, "cannot open");
		dk_sec_data_close(d);
		return r;
	}
	/*
	 * No mapping, and a small page cache: a scan reads a page or two for
	 * each of its sources, scattered over the file, and the first touch of
	 * each mapped (or freshly allocated) 4 KiB page costs a page fault,
	 * which on a virtual machine costs more than copying the 32 KiB page
	 * with pread into a cache page used again and again (a 1,000-package
	 * scan: 400 faults and 15 ms less).
	 */
	dk_db_exec(&d->own, "PRAGMA cache_size=-256", NULL);
	if (sqlite3_prepare_v2(d->own.h, "PRAGMA user_version", -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		format = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	if (format < 0 || format > DATA_FORMAT) {
		r = format < 0 ? dk_db_error(&d->own, err, "cannot read")
			       : dk_err_set(err, DK_EINPUT, "%s: format version %d is newer than this program knows (%d)",
					    d->own.path, format, DATA_FORMAT);
		dk_sec_data_close(d);
		return r;
	}
	return 0;
}

/* Is there a tracker.db at d->own.path? 0 yes, 1 no (the path dropped), or an error. */
static int own_exists(struct dk_sec_data *d, struct dk_err *err)
{
	int r;

	if (access(d->own.path, F_OK) == 0)
		return 0;
	r = errno == ENOENT ? 1 : dk_err_errno(err, "%s", d->own.path);
	free(d->own.path);
	d->own.path = NULL;
	return r;
}

int dk_sec_data_open(struct dk_db *db, struct dk_sec_data *d, struct dk_err *err)
{
	int r;

	*d = (struct dk_sec_data)DK_SEC_DATA_INIT;
	d->main = db;
	if (!(d->own.path = root_file(db, DK_SEC_DATA_FILE)))
		return dk_err_set(err, DK_ENOMEM, "out of memory");
	if ((r = own_exists(d, err)) != 0)
		return r < 0 ? r : open_legacy(d, db, err);
	return open_own(d, err);
}

int dk_sec_data_open_root(const char *root, struct dk_sec_data *d, struct dk_err *err)
{
	size_t n = strlen(root) + 1 + sizeof(DK_SEC_DATA_FILE);
	int r;

	*d = (struct dk_sec_data)DK_SEC_DATA_INIT;
	if (!(d->own.path = malloc(n)))
		return dk_err_set(err, DK_ENOMEM, "out of memory");
	snprintf(d->own.path, n, "%s/%s", root, DK_SEC_DATA_FILE);
	if ((r = own_exists(d, err)) == 0)
		return open_own(d, err);
	if (r < 0)
		return r;
	if ((r = dk_db_open(&d->legacy, root, DK_DB_READONLY, err)) != 0) {
		dk_sec_data_close(d);
		return r == DK_NOTFOUND ? no_data(root, err) : r;
	}
	d->main = &d->legacy;
	if ((r = open_legacy(d, &d->legacy, err)) != 0)
		dk_sec_data_close(d);
	return r;
}

void dk_sec_data_close(struct dk_sec_data *d)
{
	dk_db_close(&d->own);
	dk_db_close(&d->legacy);
	*d = (struct dk_sec_data)DK_SEC_DATA_INIT;
}

static char *col_dup(sqlite3_stmt *s, int i)
{
	const unsigned char *v = sqlite3_column_text(s, i);

	return v ? strdup((const char *)v) : NULL;
}

int dk_sec_data_meta(struct dk_sec_data *d, struct dk_sec_meta *m, struct dk_err *err)
{
	static const char q[] = "SELECT source, data_date, loaded_at, entries, fixes, advisories FROM sec_update";
	sqlite3_stmt *s = NULL;
	int r = 0, rc;

	if (sqlite3_prepare_v2(d->db->h, q, -1, &s, NULL) != SQLITE_OK)
		return dk_db_error(d->db, err, "reading the tracker update");
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		m->source = col_dup(s, 0);
		m->data_date = col_dup(s, 1);
		m->loaded_at = col_dup(s, 2);
		m->entries = sqlite3_column_int64(s, 3);
		m->fixes = sqlite3_column_int64(s, 4);
		m->advisories = sqlite3_column_int64(s, 5);
	}
	sqlite3_finalize(s);
	if (rc == SQLITE_DONE)
		r = no_data(d->main ? d->main->path : d->db->path, err);
	else if (rc != SQLITE_ROW)
		r = dk_db_error(d->db, err, "reading the tracker update");
	else if (!m->source || !m->data_date || !m->loaded_at)
		r = dk_err_set(err, DK_ENOMEM, "out of memory");
	return r;
}

int dk_sec_meta_get(struct dk_db *db, struct dk_sec_meta *m, struct dk_err *err)
{
	struct dk_sec_data d;
	int r;

	if ((r = dk_sec_data_open(db, &d, err)) != 0)
		return r;
	r = dk_sec_data_meta(&d, m, err);
	dk_sec_data_close(&d);
	return r;
}

void dk_sec_meta_release(struct dk_sec_meta *m)
{
	free(m->source);
	free(m->data_date);
	free(m->loaded_at);
	*m = (struct dk_sec_meta)DK_SEC_META_INIT;
}
