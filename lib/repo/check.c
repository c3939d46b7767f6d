/* check.c - the data root's fsck: objects against their rows, references between rows, published trees */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gpgme.h>
#include <sqlite3.h>

#include <debkeep/buf.h>
#include <debkeep/deb822.h>
#include <debkeep/hash.h>
#include <debkeep/mirror.h>
#include <debkeep/repo.h>
#include <debkeep/sources.h>

#include "banned.h"

/* A cap on the Release and Packages files read whole: a tree's own files, but hostile sizes stay bounded. */
#define INDEX_MAX (512u << 20)

struct row {
	char sha[65];
	long long size;
	char *nva; /* "name version arch", for messages */
	bool seen;
};

struct object {
	char hex[65];
	char got[65]; /* the content's SHA-256, filled by the hashing threads; "" when unreadable */
	int err;      /* errno of a failed read */
};

/* What the database says of a published suite: where, and whether and with which key it is signed. */
struct pubrec {
	char *prefix, *suite;
	char *public;               /* "" for ROOT/public */
	char *sign_key, *gnupghome; /* NULL: unsigned; gpgme's default home */
	bool seen;                  /* its tree was found under ROOT/public */
};

struct checker {
	struct dk_repo *r;
	dk_check_fn fn;
	void *ctx;
	struct dk_check_stats *st;
	struct row *rows;
	size_t nrows;
	struct object *objs;
	size_t nobjs, capobjs;
	atomic_size_t next;
	struct pubrec *pubs;
	size_t npubs;
};

static int problem(struct checker *c, const char *where, const char *fmt, ...) DK_PRINTF(3, 4);

static int problem(struct checker *c, const char *where, const char *fmt, ...)
{
	char what[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	c->st->problems++;
	return c->fn(c->ctx, where, what);
}

static int cmp_row(const void *a, const void *b)
{
	return strcmp(((const struct row *)a)->sha, ((const struct row *)b)->sha);
}

static struct row *find_row(struct checker *c, const char *hex)
{
	struct row key;

	snprintf(key.sha, sizeof(key.sha), "%s", hex);
	return c->nrows ? bsearch(&key, c->rows, c->nrows, sizeof(*c->rows), cmp_row) : NULL;
}

static bool all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[n] == '\0';
}

static int hash_file_hex(enum dk_hash_algo algo, const char *path, char *out)
{
	unsigned char d[DK_HASH_MAX];
	int r = dk_hash_file(algo, path, d, NULL);

	if (r == 0)
		dk_hex(d, dk_hash_size(algo), out);
	return r;
}

static int load_rows(struct checker *c, const char *sql, size_t *capp, struct dk_err *err)
{
	sqlite3_stmt *s;
	size_t cap = *capp;
	int rc, ret = 0;

	if (sqlite3_prepare_v2(c->r->db.h, sql, -1, &s, NULL) != SQLITE_OK)
		return dk_db_error(&c->r->db, err, "check");
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *sha = (const char *)sqlite3_column_text(s, 0);
		const char *nva = (const char *)sqlite3_column_text(s, 2);

		if (c->nrows == cap) {
			struct row *v;

			cap = cap ? 2 * cap : 1024;
			if (!(v = realloc(c->rows, cap * sizeof(*v)))) {
				ret = dk_err_set(err, DK_ENOMEM, "out of memory");
				break;
			}
			c->rows = v;
		}
		snprintf(c->rows[c->nrows].sha, sizeof(c->rows->sha), "%s", sha ? sha : "");
		c->rows[c->nrows].size = sqlite3_column_int64(s, 1);
		c->rows[c->nrows].seen = false;
		if (!(c->rows[c->nrows].nva = strdup(nva ? nva : ""))) {
			ret = dk_err_set(err, DK_ENOMEM, "out of memory");
			break;
		}
		c->nrows++;
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = dk_db_error(&c->r->db, err, "check");
	sqlite3_finalize(s);
	*capp = cap;
	return ret;
}

/* Package rows, and the source file rows (one per object) when the root has sources. */
static int load_all_rows(struct checker *c, struct dk_err *err)
{
	size_t cap = 0;
	int ret;

	ret = load_rows(c, "SELECT sha256, size, name || ' ' || version || ' ' || arch FROM packages", &cap, err);
	if (ret == 0 && dk_sources_present(c->r))
		ret = load_rows(c, DK_SOURCES_OBJECTS_SQL, &cap, err);
	if (c->nrows)
		qsort(c->rows, c->nrows, sizeof(*c->rows), cmp_row);
	c->st->rows = c->nrows;
	return ret;
}

/* Checks that need no content: strays, file type, mode, size; the hash comes later, in parallel. */
static int scan_objects(struct checker *c, struct dk_err *err)
{
	char dir[4200], path[4500], where[300];
	struct dirent *d, *e;
	DIR *top, *dp;
	int ret = 0;

	snprintf(dir, sizeof(dir), "%s/objects", c->r->root);
	if (!(top = opendir(dir)))
		return dk_err_errno(err, "%s", dir);
	while ((d = readdir(top)) && ret == 0) {
		if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
			continue;
		snprintf(where, sizeof(where), "objects/%.200s", d->d_name);
		if (strlen(d->d_name) != 2 || !all_hex(d->d_name, 2)) {
			ret = problem(c, where, "stray entry (not a fan-out directory)");
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		if (!(dp = opendir(path))) {
			ret = problem(c, where, "unreadable: %s", strerror(errno));
			continue;
		}
		while ((e = readdir(dp)) && ret == 0) {
			struct stat sb;
			struct row *row;
			struct object *o;

			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			/* An object being staged, or left by a killed import: not an object yet; gc's to remove. */
			if (!strncmp(e->d_name, DK_STORE_STAGING, strlen(DK_STORE_STAGING)))
				continue;
			snprintf(where, sizeof(where), "objects/%s/%.200s", d->d_name, e->d_name);
			if (strlen(e->d_name) != 62 || !all_hex(e->d_name, 62)) {
				ret = problem(c, where, "stray file (not a SHA-256 name)");
				continue;
			}
			snprintf(path, sizeof(path), "%s/%s/%s", dir, d->d_name, e->d_name);
			if (lstat(path, &sb) != 0) {
				ret = problem(c, where, "cannot stat: %s", strerror(errno));
				continue;
			}
			if (!S_ISREG(sb.st_mode)) {
				ret = problem(c, where, "not a regular file");
				continue;
			}
			c->st->objects++;
			c->st->bytes += (uint64_t)sb.st_size;
			if ((sb.st_mode & 07777) != 0444 && (ret = problem(c, where, "mode %04o (want 0444)",
									  (unsigned)(sb.st_mode & 07777))) < 0)
				break;
			if (c->nobjs == c->capobjs) {
				size_t cap = c->capobjs ? 2 * c->capobjs : 1024;

				if (!(o = realloc(c->objs, cap * sizeof(*o)))) {
					ret = dk_err_set(err, DK_ENOMEM, "out of memory");
					break;
				}
				c->objs = o;
				c->capobjs = cap;
			}
			o = &c->objs[c->nobjs++];
			snprintf(o->hex, sizeof(o->hex), "%s%s", d->d_name, e->d_name);
			o->got[0] = '\0';
			o->err = 0;
			if (!(row = find_row(c, o->hex))) {
				c->st->unreferenced++;
				continue;
			}
			row->seen = true;
			if (row->size != (long long)sb.st_size)
				ret = problem(c, where, "size %lld, but its row (%s) says %lld", (long long)sb.st_size,
					      row->nva, row->size);
		}
		closedir(dp);
	}
	closedir(top);
	return ret;
}

static void *hash_worker(void *arg)
{
	struct checker *c = arg;
	char path[4500];
	size_t i;

	while ((i = atomic_fetch_add(&c->next, 1)) < c->nobjs) {
		struct object *o = &c->objs[i];

		dk_store_path(c->r->root, o->hex, path, sizeof(path));
		if (hash_file_hex(DK_SHA256, path, o->got) < 0) {
			o->err = errno ? errno : EIO;
			o->got[0] = '\0';
		}
	}
	return NULL;
}

static int hash_objects(struct checker *c)
{
	char where[100];
	pthread_t t;
	bool threaded;
	int ret = 0;

	atomic_store(&c->next, 0);
	threaded = pthread_create(&t, NULL, hash_worker, c) == 0;
	hash_worker(c);
	if (threaded)
		pthread_join(t, NULL);
	for (size_t i = 0; i < c->nobjs && ret == 0; i++) {
		const struct object *o = &c->objs[i];

		snprintf(where, sizeof(where), "objects/%.2s/%s", o->hex, o->hex + 2);
		if (!o->got[0])
			ret = problem(c, where, "unreadable: %s", strerror(o->err));
		else if (strcmp(o->got, o->hex) != 0)
			ret = problem(c, where, "SHA-256 mismatch (content is %s)", o->got);
	}
	return ret;
}

static int missing_objects(struct checker *c)
{
	char where[100];
	int ret = 0;

	for (size_t i = 0; i < c->nrows && ret == 0; i++) {
		if (c->rows[i].seen)
			continue;
		snprintf(where, sizeof(where), "objects/%.2s/%s", c->rows[i].sha, c->rows[i].sha + 2);
		ret = problem(c, where, "missing (the object of package %s)", c->rows[i].nva);
	}
	return ret;
}

/* Queries whose every row is a problem: column 0 says where, column 1 what. */
static const char *const reference_checks[] = {
	"SELECT 'snapshot ''' || coalesce(s.name, m.snapshot_id) || '''',"
	" 'member package row ' || m.package_id || ' does not exist' FROM snapshot_members m"
	" LEFT JOIN snapshots s ON s.id = m.snapshot_id WHERE m.package_id NOT IN (SELECT id FROM packages)",
	"SELECT 'snapshot id ' || snapshot_id, 'members of a snapshot that does not exist' FROM snapshot_members"
	" WHERE snapshot_id NOT IN (SELECT id FROM snapshots) GROUP BY snapshot_id",
	"SELECT 'collection ''' || coalesce(c.name, m.collection_id) || '''',"
	" 'member package row ' || m.package_id || ' does not exist' FROM collection_members m"
	" LEFT JOIN collections c ON c.id = m.collection_id WHERE m.package_id NOT IN (SELECT id FROM packages)",
	"SELECT 'collection id ' || collection_id, 'members of a collection that does not exist'"
	" FROM collection_members WHERE collection_id NOT IN (SELECT id FROM collections) GROUP BY collection_id",
	"SELECT kind || ' ''' || name || '''', 'uses snapshot id ' || snapshot_id || ', which does not exist'"
	" FROM snapshot_uses WHERE snapshot_id NOT IN (SELECT id FROM snapshots)",
	"SELECT 'publication ''' || prefix || '/' || suite || '''', 'records snapshot id ' || snapshot_id ||"
	" ', which does not exist' FROM publications WHERE snapshot_id NOT IN (SELECT id FROM snapshots)",
};

static int run_checks(struct checker *c, const char *const *checks, size_t n, struct dk_err *err)
{
	sqlite3_stmt *s;
	int rc, ret = 0;

	for (size_t i = 0; i < n && ret == 0; i++) {
		if (sqlite3_prepare_v2(c->r->db.h, checks[i], -1, &s, NULL) != SQLITE_OK)
			return dk_db_error(&c->r->db, err, "check");
		while ((rc = sqlite3_step(s)) == SQLITE_ROW && ret == 0)
			ret = problem(c, (const char *)sqlite3_column_text(s, 0), "%s",
				      (const char *)sqlite3_column_text(s, 1));
		if (ret == 0 && rc != SQLITE_DONE)
			ret = dk_db_error(&c->r->db, err, "check");
		sqlite3_finalize(s);
	}
	return ret;
}

static int check_references(struct checker *c, struct dk_err *err)
{
	sqlite3_stmt *s;
	int ret;

	/*
	 * No PRAGMA quick_check: SQLite 3.40 (bookworm) reports NOT NULL columns of WITHOUT ROWID tables
	 * as NULL there, so it would find problems in every healthy root.
	 */
	ret = run_checks(c, reference_checks, sizeof(reference_checks) / sizeof(*reference_checks), err);
	if (ret == 0 && dk_sources_present(c->r))
		ret = run_checks(c, dk_sources_reference_checks, dk_sources_nreference_checks, err);
	if (ret == 0 && sqlite3_prepare_v2(c->r->db.h, "SELECT count(*) FROM snapshots", -1, &s, NULL) == SQLITE_OK) {
		if (sqlite3_step(s) == SQLITE_ROW)
			c->st->snapshots = (size_t)sqlite3_column_int64(s, 0);
		sqlite3_finalize(s);
	}
	return ret;
}

static char *col_dup(sqlite3_stmt *s, int i)
{
	const char *v = (const char *)sqlite3_column_text(s, i);

	return v ? strdup(v) : NULL;
}

/* A publication given --public ROOT/public by name is one under ROOT/public all the same. */
static void same_public(struct checker *c)
{
	char path[4200], *ours, *theirs;

	snprintf(path, sizeof(path), "%s/public", c->r->root);
	if (!(ours = realpath(path, NULL)))
		return;
	for (size_t i = 0; i < c->npubs; i++) {
		if (!c->pubs[i].public[0] || !(theirs = realpath(c->pubs[i].public, NULL)))
			continue;
		if (!strcmp(ours, theirs))
			c->pubs[i].public[0] = '\0';
		free(theirs);
	}
	free(ours);
}

static int load_publications(struct checker *c, struct dk_err *err)
{
	sqlite3_stmt *s;
	size_t cap = 0;
	int rc, ret = 0;

	if (sqlite3_prepare_v2(c->r->db.h, "SELECT prefix, suite, public, sign_key, gnupghome FROM publications"
			       " ORDER BY prefix, suite", -1, &s, NULL) != SQLITE_OK)
		return dk_db_error(&c->r->db, err, "check");
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct pubrec *p;

		if (c->npubs == cap) {
			cap = cap ? 2 * cap : 16;
			if (!(p = realloc(c->pubs, cap * sizeof(*p)))) {
				ret = dk_err_set(err, DK_ENOMEM, "out of memory");
				break;
			}
			c->pubs = p;
		}
		p = &c->pubs[c->npubs++];
		p->prefix = col_dup(s, 0);
		p->suite = col_dup(s, 1);
		p->public = col_dup(s, 2);
		p->sign_key = col_dup(s, 3);
		p->gnupghome = col_dup(s, 4);
		p->seen = false;
		if (!p->prefix || !p->suite || !p->public || (sqlite3_column_type(s, 3) != SQLITE_NULL && !p->sign_key) ||
		    (sqlite3_column_type(s, 4) != SQLITE_NULL && !p->gnupghome)) {
			ret = dk_err_set(err, DK_ENOMEM, "out of memory");
			break;
		}
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = dk_db_error(&c->r->db, err, "check");
	sqlite3_finalize(s);
	if (ret == 0)
		same_public(c);
	return ret;
}

static int read_whole(const char *path, struct dk_buf *b)
{
	char chunk[65536];
	ssize_t got;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while ((got = read(fd, chunk, sizeof(chunk))) > 0) {
		if (b->len + (size_t)got > INDEX_MAX || dk_buf_add(b, chunk, (size_t)got) < 0) {
			close(fd);
			errno = EFBIG;
			return -1;
		}
	}
	close(fd);
	return got < 0 ? -1 : 0;
}

/* A relative path that stays inside: no empty, "." or ".." components, no leading '/'. */
static bool safe_relpath(const char *p, size_t n)
{
	size_t i = 0;

	if (n == 0)
		return false;
	while (i < n) {
		size_t j = i;

		while (j < n && p[j] != '/')
			j++;
		if (j == i || (j - i == 1 && p[i] == '.') || (j - i == 2 && p[i] == '.' && p[i + 1] == '.'))
			return false;
		i = j + 1;
		if (j == n)
			break;
		if (i == n)
			return false;
	}
	return true;
}

/* One pool file an index (Packages or Sources) names: there, the listed size, and the object itself or its bytes. */
static int check_pool_file(struct checker *c, const char *tree, const char *where_tree, const char *index,
			   const char *file, unsigned long long size, const char *sha)
{
	char path[4500], obj[4500], where[4500], got[65];
	struct stat a, b;

	snprintf(path, sizeof(path), "%s/%s", tree, file);
	snprintf(where, sizeof(where), "%s/%s", where_tree, file);
	c->st->pool_files++;
	if (stat(path, &a) != 0)
		return problem(c, where, "named by a %s index, missing", index);
	if ((unsigned long long)a.st_size != size)
		return problem(c, where, "size %lld, the %s index says %llu", (long long)a.st_size, index, size);
	dk_store_path(c->r->root, sha, obj, sizeof(obj));
	if (strlen(sha) == 64 && stat(obj, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
		return 0;
	if (hash_file_hex(DK_SHA256, path, got) < 0)
		return problem(c, where, "unreadable: %s", strerror(errno));
	if (strcmp(got, sha) != 0)
		return problem(c, where, "SHA-256 mismatch with the %s index (content is %s)", index, got);
	return 0;
}

static int field_str(const struct dk_stanza *st, const char *name, char *out, size_t n)
{
	const struct dk_field *f = dk_stanza_get(st, name);

	if (!f || f->multiline || f->value_len >= n)
		return -1;
	memcpy(out, f->value, f->value_len);
	out[f->value_len] = '\0';
	return 0;
}

/* A listed index's place: the tree it belongs to and the index file, for paths and messages. */
struct index_at {
	const char *tree, *where_tree, *where;
};

/* A Packages stanza: its Filename in the pool, with its Size and SHA256. */
static int packages_stanza(struct checker *c, const struct index_at *ix, const struct dk_stanza *st)
{
	char file[4096], size[32], sha[80];
	char *end;
	unsigned long long sz;

	if (field_str(st, "Filename", file, sizeof(file)) < 0 || field_str(st, "Size", size, sizeof(size)) < 0 ||
	    field_str(st, "SHA256", sha, sizeof(sha)) < 0)
		return problem(c, ix->where, "line %u: a stanza without Filename, Size or SHA256", st->line);
	sz = strtoull(size, &end, 10);
	if (*end || !safe_relpath(file, strlen(file)) || strncmp(file, "pool/", 5) != 0)
		return problem(c, ix->where, "line %u: bad Size or Filename", st->line);
	return check_pool_file(c, ix->tree, ix->where_tree, "Packages", file, sz, sha);
}

/* A Sources stanza: every file of its Checksums-Sha256 as Directory/NAME in the pool. */
static int sources_stanza(struct checker *c, const struct index_at *ix, const struct dk_stanza *st)
{
	const struct dk_field *sums = dk_stanza_get(st, "Checksums-Sha256");
	struct dk_err ferr = DK_ERR_INIT;
	struct dk_source_file *files = NULL;
	char dir[4096], file[4400], at[5700];
	size_t n = 0;
	int ret = 0;

	snprintf(at, sizeof(at), "%s:%u", ix->where, st->line);
	if (field_str(st, "Directory", dir, sizeof(dir)) < 0 || !sums || !safe_relpath(dir, strlen(dir)) ||
	    strncmp(dir, "pool/", 5) != 0)
		return problem(c, ix->where, "line %u: a stanza without a safe Directory or Checksums-Sha256",
			       st->line);
	if (dk_source_checksums_parse(sums->value, sums->value_len, at, &files, &n, &ferr) < 0)
		return problem(c, ix->where, "%s", ferr.msg);
	for (size_t i = 0; i < n && ret == 0; i++) {
		snprintf(file, sizeof(file), "%s/%s", dir, files[i].name);
		ret = check_pool_file(c, ix->tree, ix->where_tree, "Sources", file, files[i].size, files[i].sha256);
	}
	dk_source_files_release(files, n);
	return ret;
}

/* Every stanza of a listed index (verified against Release already) through fn. */
static int check_index(struct checker *c, const struct index_at *ix, const char *path,
		       int (*fn)(struct checker *, const struct index_at *, const struct dk_stanza *))
{
	struct dk_buf b = DK_BUF_INIT;
	struct dk_deb822 p;
	struct dk_stanza st;
	struct dk_err perr = DK_ERR_INIT;
	int r, ret = 0;

	if (read_whole(path, &b) < 0) {
		dk_buf_release(&b);
		return problem(c, ix->where, "unreadable: %s", strerror(errno));
	}
	dk_deb822_init(&p, b.data ? b.data : "", b.len, ix->where, 0);
	while (ret == 0 && (r = dk_deb822_next(&p, &st, &perr)) > 0)
		ret = fn(c, ix, &st);
	if (ret == 0 && r < 0)
		ret = problem(c, ix->where, "%s", perr.msg);
	dk_deb822_release(&p);
	dk_buf_release(&b);
	return ret;
}

/* One file a suite's Release lists: its SHA256 line, and its MD5Sum line's hash when there is one. */
struct listed {
	char *name;
	unsigned long long size;
	char sha256[65], md5[33];
};

struct listing {
	struct listed *v;
	size_t n, cap;
};

static void listing_release(struct listing *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].name);
	free(l->v);
}

static int cmp_listed(const void *a, const void *b)
{
	return strcmp(((const struct listed *)a)->name, ((const struct listed *)b)->name);
}

/*
 * The "HASH SIZE NAME" lines of Release's SHA256 field (new entries), or of its MD5Sum field (their
 * MD5s, looked up by name once the entries are sorted).
 */
static int parse_hashes(struct checker *c, const char *where, const struct dk_field *f, enum dk_hash_algo algo,
			struct listing *l, struct dk_err *err)
{
	size_t hexlen = 2 * dk_hash_size(algo);
	struct dk_buf v = DK_BUF_INIT;
	int ret = 0;

	if (dk_field_value(f, &v) < 0 || dk_buf_check(&v, err, where) < 0) {
		dk_buf_release(&v);
		return dk_err_set(err, DK_ENOMEM, "%s: out of memory", where);
	}
	for (char *line = v.data, *next; line && ret == 0; line = next) {
		char hash[80], name[1024];
		unsigned long long size;
		struct listed *e;

		if ((next = strchr(line, '\n')))
			*next++ = '\0';
		if (!line[strspn(line, " \t")])
			continue;
		if (sscanf(line, "%79s %llu %1023s", hash, &size, name) != 3 || strlen(hash) != hexlen ||
		    !all_hex(hash, hexlen) || !safe_relpath(name, strlen(name))) {
			ret = problem(c, where, "%s: malformed line '%.80s'", dk_hash_name(algo), line);
			continue;
		}
		if (algo == DK_MD5) {
			/* A file only MD5Sum lists gets no by-hash check: apt fetches by the strongest hash. */
			if ((e = bsearch(&(struct listed){ .name = name }, l->v, l->n, sizeof(*l->v), cmp_listed)))
				memcpy(e->md5, hash, 33);
			continue;
		}
		if (l->n == l->cap) {
			size_t cap = l->cap ? 2 * l->cap : 16;

			if (!(e = realloc(l->v, cap * sizeof(*e)))) {
				ret = dk_err_set(err, DK_ENOMEM, "out of memory");
				break;
			}
			l->v = e;
			l->cap = cap;
		}
		e = &l->v[l->n];
		if (!(e->name = strdup(name))) {
			ret = dk_err_set(err, DK_ENOMEM, "out of memory");
			break;
		}
		e->size = size;
		memcpy(e->sha256, hash, 65);
		e->md5[0] = '\0';
		l->n++;
	}
	dk_buf_release(&v);
	return ret;
}

/*
 * A by-hash name of the listed file at path: a client holding this Release asks for the index by it,
 * so it must be there with those bytes. The hard link publish makes of an index already verified
 * (verified: its stat) needs no second read.
 */
static int check_by_hash(struct checker *c, const char *path, const char *where, const char *name,
			 const struct stat *verified, enum dk_hash_algo algo, const char *hash)
{
	const char *dir = strrchr(path, '/'), *wdir = strrchr(where, '/');
	char hpath[5800], hwhere[5800], got[DK_HASH_MAX * 2 + 1];
	struct stat sb;

	snprintf(hpath, sizeof(hpath), "%.*s/by-hash/%s/%s", (int)(dir - path), path, dk_hash_name(algo), hash);
	snprintf(hwhere, sizeof(hwhere), "%.*s/by-hash/%s/%s", (int)(wdir - where), where, dk_hash_name(algo), hash);
	if (stat(hpath, &sb) != 0)
		return problem(c, hwhere, "missing (Release lists %s with this %s)", name, dk_hash_name(algo));
	if (verified && sb.st_dev == verified->st_dev && sb.st_ino == verified->st_ino)
		return 0;
	if (hash_file_hex(algo, hpath, got) < 0)
		return problem(c, hwhere, "unreadable: %s", strerror(errno));
	if (strcmp(got, hash) != 0)
		return problem(c, hwhere, "not the %s Release lists: its %s is %s", name, dk_hash_name(algo), got);
	return 0;
}

static bool listed_hash(const struct listing *l, enum dk_hash_algo algo, const char *hash)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(algo == DK_MD5 ? l->v[i].md5 : l->v[i].sha256, hash))
			return true;
	return false;
}

/*
 * The rest of a directory's by-hash/ALGO/: what publish kept of the previous generation for clients
 * in the middle of an update. Each file there must still be what its name says.
 */
static int check_by_hash_rest(struct checker *c, const char *dir, const char *wdir, const struct listing *l,
			      enum dk_hash_algo algo)
{
	char hdir[5000], path[5400], where[5400], got[DK_HASH_MAX * 2 + 1];
	struct dirent *d;
	DIR *dp;
	int ret = 0;

	snprintf(hdir, sizeof(hdir), "%s/by-hash/%s", dir, dk_hash_name(algo));
	if (!(dp = opendir(hdir)))
		return 0;
	while ((d = readdir(dp)) && ret == 0) {
		if (d->d_name[0] == '.' || listed_hash(l, algo, d->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", hdir, d->d_name);
		snprintf(where, sizeof(where), "%s/by-hash/%s/%s", wdir, dk_hash_name(algo), d->d_name);
		if (hash_file_hex(algo, path, got) < 0)
			ret = problem(c, where, "unreadable: %s", strerror(errno));
		else if (strcmp(got, d->d_name) != 0)
			ret = problem(c, where, "an earlier generation whose %s is %s, not its name",
				      dk_hash_name(algo), got);
	}
	closedir(dp);
	return ret;
}

/* The by-hash directories of every directory Release lists files in (names sorted: each once). */
static int check_by_hash_dirs(struct checker *c, const char *dir, const char *wdir, const struct listing *l)
{
	char sub[5000], wsub[5000];
	const char *prev = NULL;
	size_t prev_len = 0;
	int ret = 0;

	for (size_t i = 0; i < l->n && ret == 0; i++) {
		const char *slash = strrchr(l->v[i].name, '/');
		size_t len = slash ? (size_t)(slash - l->v[i].name) : 0;

		if (!slash || (prev && len == prev_len && !strncmp(prev, l->v[i].name, len)))
			continue;
		prev = l->v[i].name;
		prev_len = len;
		snprintf(sub, sizeof(sub), "%s/%.*s", dir, (int)len, prev);
		snprintf(wsub, sizeof(wsub), "%s/%.*s", wdir, (int)len, prev);
		ret = check_by_hash_rest(c, sub, wsub, l, DK_SHA256);
		if (ret == 0)
			ret = check_by_hash_rest(c, sub, wsub, l, DK_MD5);
	}
	return ret;
}

/* One file a suite's Release lists, its by-hash copies, and for a Packages or Sources index the pool files it names. */
static int check_listed(struct checker *c, const char *tree, const char *where_tree, const char *dir,
			const char *wdir, const struct listed *e, bool by_hash)
{
	char path[5600], where[5600], got[65], md5[33];
	const struct stat *verified = NULL;
	struct stat sb;
	int ret = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, e->name);
	snprintf(where, sizeof(where), "%s/%s", wdir, e->name);
	if (stat(path, &sb) != 0)
		ret = problem(c, where, "listed in Release, missing");
	else if ((unsigned long long)sb.st_size != e->size)
		ret = problem(c, where, "size %lld, Release says %llu", (long long)sb.st_size, e->size);
	else if (hash_file_hex(DK_SHA256, path, got) < 0 || (e->md5[0] && hash_file_hex(DK_MD5, path, md5) < 0))
		ret = problem(c, where, "unreadable: %s", strerror(errno));
	else if (strcmp(got, e->sha256) != 0)
		ret = problem(c, where, "SHA-256 mismatch with Release (content is %s)", got);
	else if (e->md5[0] && strcmp(md5, e->md5) != 0)
		ret = problem(c, where, "MD5 mismatch with Release (content is %s)", md5);
	else
		verified = &sb;
	if (ret == 0 && verified && strlen(e->name) > 9 && !strcmp(e->name + strlen(e->name) - 9, "/Packages"))
		ret = check_index(c, &(struct index_at){ tree, where_tree, where }, path, packages_stanza);
	if (ret == 0 && verified && strlen(e->name) > 8 && !strcmp(e->name + strlen(e->name) - 8, "/Sources"))
		ret = check_index(c, &(struct index_at){ tree, where_tree, where }, path, sources_stanza);
	if (ret == 0 && by_hash)
		ret = check_by_hash(c, path, where, e->name, verified, DK_SHA256, e->sha256);
	if (ret == 0 && by_hash && e->md5[0])
		ret = check_by_hash(c, path, where, e->name, verified, DK_MD5, e->md5);
	return ret;
}

/*
 * The publication's public keys, exported from the GnuPG home it was signed from: verifying with
 * them alone (in a throw-away home, as a mirror's signature is) shows the tree is signed by the
 * publication's key and not merely by some key the host trusts. DK_NOTFOUND: the home or the key is gone.
 * used (n bytes) gets the home looked in, for messages.
 */
static int export_key(const char *home, const char *key, struct dk_buf *out, char *used, size_t n_used,
		      struct dk_err *err)
{
	const char *h = home ? home : getenv("GNUPGHOME");
	gpgme_data_t d = NULL;
	gpgme_ctx_t ctx;
	gpgme_error_t e;
	struct stat sb;
	size_t n = 0;
	char *p;
	int r = 0;

	if (h)
		snprintf(used, n_used, "%s", h);
	else if (getenv("HOME"))
		snprintf(used, n_used, "%s/.gnupg", getenv("HOME"));
	else
		snprintf(used, n_used, "the default GnuPG home");
	h = h || getenv("HOME") ? used : NULL;
	/* gpg creates a home it does not find, and a check changes nothing. */
	if (!h || stat(h, &sb) != 0 || !S_ISDIR(sb.st_mode))
		return DK_NOTFOUND;
	gpgme_check_version(NULL);
	if ((e = gpgme_new(&ctx)))
		return dk_err_set(err, DK_EIO, "gpgme_new: %s", gpgme_strerror(e));
	if ((e = gpgme_set_protocol(ctx, GPGME_PROTOCOL_OpenPGP)) ||
	    (e = gpgme_ctx_set_engine_info(ctx, GPGME_PROTOCOL_OpenPGP, NULL, h)) || (e = gpgme_data_new(&d))) {
		gpgme_release(ctx);
		return dk_err_set(err, DK_EIO, "gpgme engine: %s", gpgme_strerror(e));
	}
	e = gpgme_op_export(ctx, key, 0, d);
	p = gpgme_data_release_and_get_mem(d, &n);
	if (e)
		r = dk_err_set(err, DK_EIO, "exporting key '%s' from %s: %s", key, h, gpgme_strerror(e));
	else if (!p || n == 0)
		r = DK_NOTFOUND;
	else if (dk_buf_add(out, p, n) < 0)
		r = dk_err_set(err, DK_ENOMEM, "out of memory");
	gpgme_free(p);
	gpgme_release(ctx);
	return r;
}

/*
 * The signed text of a clearsigned file as apt splits it (RFC 4880 7.1): the lines between the armor
 * headers and the signature, dash-escapes undone. -1 when it is not a clearsigned file; a failed append
 * leaves out failed (dk_buf_check).
 */
static int clearsigned_text(const struct dk_buf *in, struct dk_buf *out)
{
	static const char begin[] = "-----BEGIN PGP SIGNED MESSAGE-----", sig[] = "-----BEGIN PGP SIGNATURE-----";
	const char *p = in->data, *end = in->data + in->len;
	bool headers = true;

	if (in->len < sizeof(begin) || memcmp(p, begin, sizeof(begin) - 1) != 0 || p[sizeof(begin) - 1] != '\n')
		return -1;
	p += sizeof(begin);
	while (p < end) {
		const char *eol = memchr(p, '\n', end - p);
		size_t len = eol ? (size_t)(eol - p) : (size_t)(end - p);

		if (headers) {
			headers = len != 0;
		} else if (len == sizeof(sig) - 1 && !memcmp(p, sig, len)) {
			return 0;
		} else {
			if (len >= 2 && p[0] == '-' && p[1] == ' ') {
				p += 2;
				len -= 2;
			}
			dk_buf_add(out, p, len);
			dk_buf_addc(out, '\n');
		}
		p = eol ? eol + 1 : end;
	}
	return -1;
}

/* Why verification failed, from dk_verify_release's message, in the words of a publication. */
static const char *sig_reason(const char *msg)
{
	const char *why = strstr(msg, "signature not trusted: ");

	if (!why)
		return msg;
	why += strlen("signature not trusted: ");
	return strstr(why, "key not in") ? "made by another key" : why;
}

/*
 * InRelease and Release.gpg of the suite at dir, whose Release is release: a signed publication has
 * both, verifying with its key alone, InRelease's signed text being Release; an unsigned one has
 * neither. Of a tree no publication records (published from .deb files) only the texts are compared.
 */
static int check_signatures(struct checker *c, const char *dir, const char *wdir, const struct dk_buf *release,
			    const struct pubrec *pub, struct dk_err *err)
{
	static const char *const names[] = { "InRelease", "Release.gpg" };
	const char *tmp = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	struct dk_buf file[2] = { DK_BUF_INIT, DK_BUF_INIT }, key = DK_BUF_INIT, text = DK_BUF_INIT;
	char path[2][4600], where[2][4600], fpr[41], home[4200];
	bool present[2];
	int r, ret = 0;

	for (size_t i = 0; i < 2; i++) {
		snprintf(path[i], sizeof(path[i]), "%s/%s", dir, names[i]);
		snprintf(where[i], sizeof(where[i]), "%s/%s", wdir, names[i]);
		present[i] = access(path[i], F_OK) == 0;
		if (present[i] && read_whole(path[i], &file[i]) < 0 &&
		    (ret = problem(c, where[i], "unreadable: %s", strerror(errno))) == 0)
			present[i] = false;
	}
	if (ret != 0)
		goto out;
	if (pub && !pub->sign_key) {
		for (size_t i = 0; i < 2 && ret == 0; i++)
			if (present[i])
				ret = problem(c, where[i], "present, but publication '%s%s%s' is unsigned", pub->prefix,
					      *pub->prefix ? "/" : "", pub->suite);
		goto out;
	}
	if (!pub) {
		if (present[0] && clearsigned_text(&file[0], &text) < 0)
			ret = problem(c, where[0], "not a clearsigned file");
		else if ((r = dk_buf_check(&text, err, where[0])) < 0)
			ret = r;
		else if (present[0] && (text.len != release->len || memcmp(text.data, release->data, text.len) != 0))
			ret = problem(c, where[0], "its signed text is not the suite's Release");
		goto out;
	}
	if ((r = export_key(pub->gnupghome, pub->sign_key, &key, home, sizeof(home), err)) < 0) {
		ret = r;
		goto out;
	}
	if (r == DK_NOTFOUND) {
		snprintf(path[0], sizeof(path[0]), "publication '%s%s%s'", pub->prefix, *pub->prefix ? "/" : "",
			 pub->suite);
		ret = problem(c, path[0], "its signing key '%s' is not in %s: the signatures cannot be checked",
			      pub->sign_key, home);
		goto out;
	}
	for (size_t i = 0; i < 2 && ret == 0; i++) {
		struct dk_err verr = DK_ERR_INIT;
		char *signed_text = NULL;
		size_t len = 0;

		if (!present[i]) {
			ret = problem(c, where[i], "missing (the publication is signed with '%s')", pub->sign_key);
			continue;
		}
		if (i == 0)
			r = dk_verify_release(key.data, key.len, tmp, file[0].data, file[0].len, NULL, 0, &signed_text,
					      &len, fpr, &verr);
		else
			r = dk_verify_release(key.data, key.len, tmp, release->data, release->len, file[1].data,
					      file[1].len, &signed_text, &len, fpr, &verr);
		if (r == DK_EINPUT)
			ret = problem(c, where[i], "does not verify%s with the publication's key '%s': %s",
				      i ? " over Release" : "", pub->sign_key, sig_reason(verr.msg));
		else if (r < 0)
			ret = dk_err_set(err, r, "%s: %s", where[i], verr.msg);
		else if (len != release->len || memcmp(signed_text, release->data, len) != 0)
			ret = problem(c, where[i], "its signed text is not the suite's Release");
		free(signed_text);
	}
out:
	for (size_t i = 0; i < 2; i++)
		dk_buf_release(&file[i]);
	dk_buf_release(&key);
	dk_buf_release(&text);
	return ret;
}

/*
 * dists/SUITE of the tree at tree (where_tree: the same relative to the root, for messages), published
 * as pub (NULL: no publication records it).
 */
static int check_suite(struct checker *c, const char *tree, const char *where_tree, const char *suite,
		       const struct pubrec *pub, struct dk_err *err)
{
	char dir[4500], wdir[4500], path[4600], where[4600];
	struct dk_buf b = DK_BUF_INIT;
	struct listing l = { 0 };
	const struct dk_field *f;
	struct dk_deb822 p;
	struct dk_stanza st;
	struct dk_err perr = DK_ERR_INIT;
	bool by_hash;
	int ret = 0;

	snprintf(dir, sizeof(dir), "%s/dists/%s", tree, suite);
	snprintf(wdir, sizeof(wdir), "%s/dists/%s", where_tree, suite);
	snprintf(path, sizeof(path), "%s/Release", dir);
	snprintf(where, sizeof(where), "%s/Release", wdir);
	c->st->trees++;
	if (read_whole(path, &b) < 0) {
		dk_buf_release(&b);
		return problem(c, where, "unreadable: %s", strerror(errno));
	}
	dk_deb822_init(&p, b.data, b.len, where, 0);
	if (dk_deb822_next(&p, &st, &perr) <= 0) {
		ret = problem(c, where, "%s", perr.msg[0] ? perr.msg : "empty");
		goto out;
	}
	if (!(f = dk_stanza_get(&st, "SHA256"))) {
		ret = problem(c, where, "no SHA256 field");
		goto out;
	}
	if ((ret = parse_hashes(c, where, f, DK_SHA256, &l, err)) != 0)
		goto out;
	if (l.n)
		qsort(l.v, l.n, sizeof(*l.v), cmp_listed);
	if ((f = dk_stanza_get(&st, "MD5Sum")) && (ret = parse_hashes(c, where, f, DK_MD5, &l, err)) != 0)
		goto out;
	f = dk_stanza_get(&st, "Acquire-By-Hash");
	by_hash = f && f->value_len == 3 && !strncasecmp(f->value, "yes", 3);
	for (size_t i = 0; i < l.n && ret == 0; i++)
		ret = check_listed(c, tree, where_tree, dir, wdir, &l.v[i], by_hash);
	if (ret == 0 && by_hash)
		ret = check_by_hash_dirs(c, dir, wdir, &l);
	if (ret == 0)
		ret = check_signatures(c, dir, wdir, &b, pub, err);
out:
	dk_deb822_release(&p);
	dk_buf_release(&b);
	listing_release(&l);
	return ret;
}

/* The record of prefix/suite under ROOT/public ("." names the top as "" does). */
static struct pubrec *find_pub(struct checker *c, const char *prefix, const char *suite)
{
	for (size_t i = 0; i < c->npubs; i++) {
		const char *p = strcmp(c->pubs[i].prefix, ".") ? c->pubs[i].prefix : "";

		if (!c->pubs[i].public[0] && !strcmp(p, prefix) && !strcmp(c->pubs[i].suite, suite))
			return &c->pubs[i];
	}
	return NULL;
}

/* Each dists/SUITE with a Release of the tree at dir, which is "public" or "public/PREFIX" in where. */
static int scan_dists(struct checker *c, const char *dir, const char *where, const char *dists, struct dk_err *err)
{
	const char *prefix = where[6] == '/' ? where + 7 : "";
	char rel[4800];
	struct dirent *s;
	DIR *sp = opendir(dists);
	int ret = 0;

	while (sp && (s = readdir(sp)) && ret == 0) {
		int len = snprintf(rel, sizeof(rel), "%s/%s/Release", dists, s->d_name);
		struct pubrec *pub;

		if (s->d_name[0] == '.' || (size_t)len >= sizeof(rel) || access(rel, F_OK) != 0)
			continue;
		if ((pub = find_pub(c, prefix, s->d_name)))
			pub->seen = true;
		ret = check_suite(c, dir, where, s->d_name, pub, err);
	}
	if (sp)
		closedir(sp);
	return ret;
}

/* Every directory named dists/ under public/ (prefixes may nest); pool/ and staging are not entered. */
static int scan_public(struct checker *c, const char *dir, const char *where, int depth, struct dk_err *err)
{
	char path[4500], wpath[4500];
	struct dirent *d;
	DIR *dp;
	int ret = 0;

	if (depth > 16 || !(dp = opendir(dir)))
		return 0;
	while ((d = readdir(dp)) && ret == 0) {
		struct stat sb;

		if (d->d_name[0] == '.' || !strcmp(d->d_name, "pool"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		snprintf(wpath, sizeof(wpath), "%s/%s", where, d->d_name);
		if (lstat(path, &sb) != 0 || !S_ISDIR(sb.st_mode))
			continue;
		if (strcmp(d->d_name, "dists") != 0)
			ret = scan_public(c, path, wpath, depth + 1, err);
		else
			ret = scan_dists(c, dir, where, path, err);
	}
	closedir(dp);
	return ret;
}

/*
 * The recorded publications scan_public did not meet: a tree under ROOT/public is missing (publish
 * records a tree only once it is in place, and drop forgets the record first); one published to another
 * directory is checked there.
 */
static int check_recorded(struct checker *c, struct dk_err *err)
{
	char tree[4500], rel[4700], name[1200];
	int ret = 0;

	for (size_t i = 0; i < c->npubs && ret == 0; i++) {
		const struct pubrec *p = &c->pubs[i];
		bool top = !*p->prefix || !strcmp(p->prefix, ".");

		if (p->seen)
			continue;
		snprintf(name, sizeof(name), "publication '%.500s%s%.500s'", p->prefix, top ? "" : "/", p->suite);
		if (!*p->public)
			snprintf(tree, sizeof(tree), "public%s%.4000s", top ? "" : "/", top ? "" : p->prefix);
		else
			snprintf(tree, sizeof(tree), "%.4000s%s%.400s", p->public, top ? "" : "/", top ? "" : p->prefix);
		snprintf(rel, sizeof(rel), "%s/dists/%.150s/Release", tree, p->suite);
		if (!*p->public || access(rel, F_OK) != 0)
			ret = problem(c, name, "recorded, but %s is missing", rel);
		else
			ret = check_suite(c, tree, tree, p->suite, p, err);
	}
	return ret;
}

/*
 * SQLite 3.40.0 to 3.41.0 (bookworm has 3.40.1) reports "NULL value in T.C" for a NOT NULL column of a
 * WITHOUT ROWID table whose primary key is not in column order, as collection_members is: such a line
 * counts only when the column really holds a NULL (typeof(): "C IS NULL" on a NOT NULL column is
 * folded to false without reading a row).
 */
static bool false_null(sqlite3 *h, const char *msg)
{
	char sql[300], table[64], column[64];
	sqlite3_stmt *s;
	bool none = false;

	if (sscanf(msg, "NULL value in %63[a-z_].%63[a-z_]", table, column) != 2 ||
	    strlen(msg) != strlen("NULL value in .") + strlen(table) + strlen(column))
		return false;
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM \"%s\" WHERE typeof(\"%s\") = 'null'", table, column);
	if (sqlite3_prepare_v2(h, sql, -1, &s, NULL) != SQLITE_OK)
		return false;
	none = sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int64(s, 0) == 0;
	sqlite3_finalize(s);
	return none;
}

/* SQLite's own consistency check of a database file: each line it reports is one problem. */
static int quick_check(struct checker *c, sqlite3 *h, const char *where)
{
	sqlite3_stmt *s;
	int rc, ret = 0;

	if (sqlite3_prepare_v2(h, "PRAGMA quick_check", -1, &s, NULL) != SQLITE_OK)
		return problem(c, where, "unreadable: %s", sqlite3_errmsg(h));
	while (ret == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *msg = (const char *)sqlite3_column_text(s, 0);
		char line[600];
		size_t n = 0;

		if (!msg || !strcmp(msg, "ok") || false_null(h, msg))
			continue;
		/* One line per problem: SQLite heads its report "*** in database main ***" on a line of its own. */
		if (!strncmp(msg, "*** in database main ***\n", 25))
			msg += 25;
		for (; *msg && n + 3 < sizeof(line); msg++) {
			if (*msg == '\n') {
				line[n++] = ';';
				line[n++] = ' ';
			} else {
				line[n++] = *msg;
			}
		}
		line[n] = '\0';
		ret = problem(c, where, "%s", line);
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = problem(c, where, "unreadable: %s", sqlite3_errmsg(h));
	sqlite3_finalize(s);
	return ret;
}

/* The security tracker data cve update keeps beside the database, when there is any. */
static int check_tracker_db(struct checker *c)
{
	char path[4200];
	sqlite3 *h = NULL;
	int ret;

	snprintf(path, sizeof(path), "%s/tracker.db", c->r->root);
	if (access(path, F_OK) != 0)
		return 0;
	if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
		ret = problem(c, "tracker.db", "cannot open: %s", h ? sqlite3_errmsg(h) : "out of memory");
	else
		ret = quick_check(c, h, "tracker.db");
	sqlite3_close(h);
	return ret;
}

int dk_check(struct dk_repo *r, dk_check_fn fn, void *ctx, struct dk_check_stats *st, struct dk_err *err)
{
	struct checker c = { .r = r, .fn = fn, .ctx = ctx, .st = st };
	char pub[4200];
	int ret;

	memset(st, 0, sizeof(*st));
	/* One read transaction: every query below sees the same state, whatever a writer does meanwhile. */
	if ((ret = dk_db_exec(&r->db, "BEGIN", err)) < 0)
		return ret;
	if ((ret = quick_check(&c, r->db.h, "debkeep.db")) < 0 || (ret = check_tracker_db(&c)) < 0 ||
	    (ret = load_all_rows(&c, err)) < 0 || (ret = load_publications(&c, err)) < 0 ||
	    (ret = check_references(&c, err)) < 0)
		goto out;
	if ((ret = scan_objects(&c, err)) < 0 || (ret = hash_objects(&c)) < 0 || (ret = missing_objects(&c)) < 0)
		goto out;
	snprintf(pub, sizeof(pub), "%s/public", r->root);
	if ((ret = scan_public(&c, pub, "public", 0, err)) == 0)
		ret = check_recorded(&c, err);
out:
	dk_db_rollback(&r->db);
	for (size_t i = 0; i < c.npubs; i++) {
		free(c.pubs[i].prefix);
		free(c.pubs[i].suite);
		free(c.pubs[i].public);
		free(c.pubs[i].sign_key);
		free(c.pubs[i].gnupghome);
	}
	free(c.pubs);
	for (size_t i = 0; i < c.nrows; i++)
		free(c.rows[i].nva);
	free(c.rows);
	free(c.objs);
	return ret;
}
