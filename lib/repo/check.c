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

#include <sqlite3.h>

#include <debkeep/buf.h>
#include <debkeep/deb822.h>
#include <debkeep/hash.h>
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

static int hash_file_hex(const char *path, char *out, struct dk_err *err)
{
	unsigned char d[DK_HASH_MAX];
	int r = dk_hash_file(DK_SHA256, path, d, err);

	if (r == 0)
		dk_hex(d, dk_hash_size(DK_SHA256), out);
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
		if (hash_file_hex(path, o->got, NULL) < 0) {
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

/* One pool file a Packages index names: there, the listed size, and the object itself or its bytes. */
static int check_pool_file(struct checker *c, const char *tree, const char *where_tree, const char *file,
			   unsigned long long size, const char *sha)
{
	char path[4500], obj[4500], where[4500], got[65];
	struct stat a, b;

	snprintf(path, sizeof(path), "%s/%s", tree, file);
	snprintf(where, sizeof(where), "%s/%s", where_tree, file);
	c->st->pool_files++;
	if (stat(path, &a) != 0)
		return problem(c, where, "named by a Packages index, missing");
	if ((unsigned long long)a.st_size != size)
		return problem(c, where, "size %lld, the index says %llu", (long long)a.st_size, size);
	dk_store_path(c->r->root, sha, obj, sizeof(obj));
	if (strlen(sha) == 64 && stat(obj, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
		return 0;
	if (hash_file_hex(path, got, NULL) < 0)
		return problem(c, where, "unreadable: %s", strerror(errno));
	if (strcmp(got, sha) != 0)
		return problem(c, where, "SHA-256 mismatch with the index (content is %s)", got);
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

static int check_packages(struct checker *c, const char *tree, const char *where_tree, const char *path,
			  const char *where)
{
	struct dk_buf b = DK_BUF_INIT;
	struct dk_deb822 p;
	struct dk_stanza st;
	struct dk_err perr = DK_ERR_INIT;
	int r, ret = 0;

	if (read_whole(path, &b) < 0) {
		dk_buf_release(&b);
		return problem(c, where, "unreadable: %s", strerror(errno));
	}
	dk_deb822_init(&p, b.data ? b.data : "", b.len, where, 0);
	while (ret == 0 && (r = dk_deb822_next(&p, &st, &perr)) > 0) {
		char file[4096], size[32], sha[80];
		char *end;
		unsigned long long sz;

		if (field_str(&st, "Filename", file, sizeof(file)) < 0 ||
		    field_str(&st, "Size", size, sizeof(size)) < 0 || field_str(&st, "SHA256", sha, sizeof(sha)) < 0) {
			ret = problem(c, where, "line %u: a stanza without Filename, Size or SHA256", st.line);
			continue;
		}
		sz = strtoull(size, &end, 10);
		if (*end || !safe_relpath(file, strlen(file)) || strncmp(file, "pool/", 5) != 0) {
			ret = problem(c, where, "line %u: bad Size or Filename", st.line);
			continue;
		}
		ret = check_pool_file(c, tree, where_tree, file, sz, sha);
	}
	if (ret == 0 && r < 0)
		ret = problem(c, where, "%s", perr.msg);
	dk_deb822_release(&p);
	dk_buf_release(&b);
	return ret;
}

/* dists/SUITE of the tree at tree (where_tree: the same relative to the root, for messages). */
static int check_suite(struct checker *c, const char *tree, const char *where_tree, const char *suite,
		       struct dk_err *err)
{
	char path[4500], where[4500], rel[4500], got[65];
	struct dk_buf b = DK_BUF_INIT, v = DK_BUF_INIT;
	const struct dk_field *f;
	struct dk_deb822 p;
	struct dk_stanza st;
	struct dk_err perr = DK_ERR_INIT;
	int ret = 0;

	snprintf(path, sizeof(path), "%s/dists/%s/Release", tree, suite);
	snprintf(where, sizeof(where), "%s/dists/%s/Release", where_tree, suite);
	c->st->trees++;
	if (read_whole(path, &b) < 0) {
		dk_buf_release(&b);
		return problem(c, where, "unreadable: %s", strerror(errno));
	}
	dk_deb822_init(&p, b.data ? b.data : "", b.len, where, 0);
	if (dk_deb822_next(&p, &st, &perr) <= 0) {
		ret = problem(c, where, "%s", perr.msg[0] ? perr.msg : "empty");
		goto out;
	}
	if (!(f = dk_stanza_get(&st, "SHA256"))) {
		ret = problem(c, where, "no SHA256 field");
		goto out;
	}
	if (dk_field_value(f, &v) < 0 || dk_buf_check(&v, err, where) < 0) {
		ret = dk_err_set(err, DK_ENOMEM, "%s: out of memory", where);
		goto out;
	}
	for (char *line = v.data, *next; line && ret == 0; line = next) {
		char hash[80], name[4096];
		unsigned long long size;
		struct stat sb;

		if ((next = strchr(line, '\n')))
			*next++ = '\0';
		if (!line[strspn(line, " \t")])
			continue;
		if (sscanf(line, "%79s %llu %4095s", hash, &size, name) != 3 || !safe_relpath(name, strlen(name))) {
			ret = problem(c, where, "SHA256: malformed line '%.80s'", line);
			continue;
		}
		snprintf(path, sizeof(path), "%s/dists/%s/%s", tree, suite, name);
		snprintf(rel, sizeof(rel), "%s/dists/%s/%s", where_tree, suite, name);
		if (stat(path, &sb) != 0) {
			ret = problem(c, rel, "listed in Release, missing");
			continue;
		}
		if ((unsigned long long)sb.st_size != size) {
			ret = problem(c, rel, "size %lld, Release says %llu", (long long)sb.st_size, size);
			continue;
		}
		if (hash_file_hex(path, got, NULL) < 0)
			ret = problem(c, rel, "unreadable: %s", strerror(errno));
		else if (strcmp(got, hash) != 0)
			ret = problem(c, rel, "SHA-256 mismatch with Release (content is %s)", got);
		else if (strlen(name) > 9 && !strcmp(name + strlen(name) - 9, "/Packages"))
			ret = check_packages(c, tree, where_tree, path, rel);
	}
out:
	dk_deb822_release(&p);
	dk_buf_release(&b);
	dk_buf_release(&v);
	return ret;
}

/* Each dists/SUITE with a Release of the tree at dir. */
static int scan_dists(struct checker *c, const char *dir, const char *where, const char *dists, struct dk_err *err)
{
	char rel[4800];
	struct dirent *s;
	DIR *sp = opendir(dists);
	int ret = 0;

	while (sp && (s = readdir(sp)) && ret == 0) {
		int len = snprintf(rel, sizeof(rel), "%s/%s/Release", dists, s->d_name);

		if (s->d_name[0] == '.' || (size_t)len >= sizeof(rel) || access(rel, F_OK) != 0)
			continue;
		ret = check_suite(c, dir, where, s->d_name, err);
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

int dk_check(struct dk_repo *r, dk_check_fn fn, void *ctx, struct dk_check_stats *st, struct dk_err *err)
{
	struct checker c = { .r = r, .fn = fn, .ctx = ctx, .st = st };
	char pub[4200];
	int ret;

	memset(st, 0, sizeof(*st));
	/* One read transaction: every query below sees the same state, whatever a writer does meanwhile. */
	if ((ret = dk_db_exec(&r->db, "BEGIN", err)) < 0)
		return ret;
	if ((ret = load_all_rows(&c, err)) < 0 || (ret = check_references(&c, err)) < 0)
		goto out;
	if ((ret = scan_objects(&c, err)) < 0 || (ret = hash_objects(&c)) < 0 || (ret = missing_objects(&c)) < 0)
		goto out;
	snprintf(pub, sizeof(pub), "%s/public", r->root);
	ret = scan_public(&c, pub, "public", 0, err);
out:
	dk_db_rollback(&r->db);
	for (size_t i = 0; i < c.nrows; i++)
		free(c.rows[i].nva);
	free(c.rows);
	free(c.objs);
	return ret;
}
