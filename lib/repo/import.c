/* import.c - local .debs into a collection: control data through libarchive, objects by SHA-256, one transaction */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <sqlite3.h>

#include <debkeep/buf.h>
#include <debkeep/deb822.h>
#include <debkeep/hash.h>
#include <debkeep/repo.h>
#include <debkeep/version.h>

#include "banned.h"

/* A control.tar bigger than this is not a control archive. */
#define CONTROL_MAX (16u << 20)

/*
 * Files up to KEEP_FILE_MAX are kept in memory from reading to storing, up
 * to KEEP_TOTAL_MAX in all: then the stored bytes are the hashed bytes, and
 * many small files are not opened twice. Bigger ones are read again.
 */
#define KEEP_FILE_MAX ((size_t)256 << 10)
#define KEEP_TOTAL_MAX ((size_t)48 << 20)

void dk_debinfo_release(struct dk_debinfo *d)
{
	free(d->name);
	free(d->version);
	free(d->arch);
	free(d->source);
	free(d->source_version);
	free(d->control);
	memset(d, 0, sizeof(*d));
}

/* No absolute paths, no ".." component: a member name is only ever a name inside the archive. */
static bool safe_member(const char *p)
{
	if (!p || !*p || *p == '/')
		return false;
	for (const char *s = p; *s;) {
		size_t n = strcspn(s, "/");

		if (n == 2 && s[0] == '.' && s[1] == '.')
			return false;
		s += n;
		while (*s == '/')
			s++;
	}
	return true;
}

/* Package and source names as Debian policy 5.6.1 allows: they become pool paths. */
static bool valid_name(const char *s, size_t n)
{
	if (n < 2 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '+' || s[i] == '-' ||
		      s[i] == '.'))
			return false;
	return true;
}

static bool valid_arch(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

static char *dup_n(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

static int read_member(struct archive *a, const char *file, const char *what, size_t max, struct dk_buf *out,
		       struct dk_err *err)
{
	char chunk[65536];
	la_ssize_t got;

	dk_buf_reset(out);
	while ((got = archive_read_data(a, chunk, sizeof(chunk))) > 0) {
		if (out->len + got > max)
			return dk_err_set(err, DK_EINPUT, "%s: %s: too big", file, what);
		if (dk_buf_add(out, chunk, got) < 0)
			return dk_err_set(err, DK_ENOMEM, "out of memory");
	}
	if (got < 0)
		return dk_err_set(err, DK_EINPUT, "%s: %s: %s", file, what, archive_error_string(a));
	return 0;
}

static int parse_control(const char *file, const char *text, size_t len, struct dk_debinfo *d, struct dk_err *err)
{
	static const char *const need[] = { "Package", "Version", "Architecture" };
	const struct dk_field *f[3], *src;
	struct dk_version v;
	struct dk_deb822 p;
	struct dk_stanza st;
	char where[4200];
	int r;

	snprintf(where, sizeof(where), "%s:control", file);
	dk_deb822_init(&p, text, len, where, 0);
	if ((r = dk_deb822_next(&p, &st, err)) <= 0) {
		if (r == 0)
			r = dk_err_set(err, DK_EINPUT, "%s: empty control file", where);
		goto out;
	}
	for (int i = 0; i < 3; i++) {
		if (!(f[i] = dk_stanza_get(&st, need[i]))) {
			r = dk_err_set(err, DK_EINPUT, "%s: no %s field", where, need[i]);
			goto out;
		}
	}
	if (!valid_name(f[0]->value, f[0]->value_len)) {
		r = dk_err_set(err, DK_EINPUT, "%s:%u: Package: invalid name '%.*s'", where, f[0]->line,
			       (int)f[0]->value_len, f[0]->value);
		goto out;
	}
	if ((r = dk_version_parse(&v, f[1]->value, f[1]->value_len, err)) < 0 ||
	    strcspn(f[1]->value, "/ \t\n") < f[1]->value_len) {
		if (r == 0)
			r = dk_err_set(err, DK_EINPUT, "invalid version");
		dk_err_prefix(err, "%s:%u: Version", where, f[1]->line);
		goto out;
	}
	if (!valid_arch(f[2]->value, f[2]->value_len)) {
		r = dk_err_set(err, DK_EINPUT, "%s:%u: Architecture: invalid '%.*s'", where, f[2]->line,
			       (int)f[2]->value_len, f[2]->value);
		goto out;
	}
	d->name = dup_n(f[0]->value, f[0]->value_len);
	d->version = dup_n(f[1]->value, f[1]->value_len);
	d->arch = dup_n(f[2]->value, f[2]->value_len);
	/* "Source: name (version)" when the binary's version differs from the source's. */
	if ((src = dk_stanza_get(&st, "Source")) != NULL) {
		size_t n = strcspn(src->value, " (");
		const char *open = memchr(src->value, '(', src->value_len);

		if (n > src->value_len)
			n = src->value_len;
		if (!valid_name(src->value, n)) {
			r = dk_err_set(err, DK_EINPUT, "%s:%u: Source: invalid '%.*s'", where, src->line,
				       (int)src->value_len, src->value);
			goto out;
		}
		d->source = dup_n(src->value, n);
		if (open) {
			const char *close = memchr(open, ')', src->value_len - (open - src->value));

			if (!close) {
				r = dk_err_set(err, DK_EINPUT, "%s:%u: Source: unbalanced '('", where, src->line);
				goto out;
			}
			d->source_version = dup_n(open + 1, close - open - 1);
		}
	} else {
		d->source = dup_n(f[0]->value, f[0]->value_len);
	}
	if (!d->source_version)
		d->source_version = dup_n(f[1]->value, f[1]->value_len);
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		len--;
	d->control = dup_n(text, len);
	if (!d->name || !d->version || !d->arch || !d->source || !d->source_version || !d->control)
		r = dk_err_set(err, DK_ENOMEM, "out of memory");
	else
		r = 0;
out:
	dk_deb822_release(&p);
	return r;
}

/* The control file out of a control.tar.* member's bytes. */
static int read_control_tar(const char *file, const char *member, const void *data, size_t len, struct dk_buf *out,
			    struct dk_err *err)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	bool found = false;
	int r = 0, rc;

	if (!a)
		return dk_err_set(err, DK_ENOMEM, "out of memory");
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_format_tar(a);
	if (archive_read_open_memory(a, data, len) != ARCHIVE_OK) {
		r = dk_err_set(err, DK_EINPUT, "%s: %s: %s", file, member, archive_error_string(a));
		goto out;
	}
	while ((rc = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *p = archive_entry_pathname(e);

		if (!safe_member(p)) {
			r = dk_err_set(err, DK_EINPUT, "%s: %s: unsafe member name '%s'", file, member, p ? p : "");
			goto out;
		}
		if ((strcmp(p, "./control") == 0 || strcmp(p, "control") == 0) &&
		    archive_entry_filetype(e) == AE_IFREG) {
			if ((r = read_member(a, file, "control", CONTROL_MAX, out, err)) < 0)
				goto out;
			found = true;
		}
	}
	if (rc != ARCHIVE_EOF)
		r = dk_err_set(err, DK_EINPUT, "%s: %s: %s", file, member, archive_error_string(a));
	else if (!found)
		r = dk_err_set(err, DK_EINPUT, "%s: %s: no control file", file, member);
out:
	archive_read_free(a);
	return r;
}

static int hash_hex(enum dk_hash_algo algo, const void *data, size_t len, char *out, struct dk_err *err)
{
	unsigned char md[DK_HASH_MAX];
	int r;

	if ((r = dk_hash_mem(algo, data, len, md, err)) < 0)
		return r;
	dk_hex(md, dk_hash_size(algo), out);
	return 0;
}

int dk_deb_read(const char *file, const void *data, size_t len, struct dk_debinfo *d, struct dk_err *err)
{
	struct dk_buf member = DK_BUF_INIT, control = DK_BUF_INIT;
	struct archive *a;
	struct archive_entry *e;
	const char *cname = NULL;
	char cname_buf[64];
	int r = 0, rc, idx = 0;

	memset(d, 0, sizeof(*d));
	a = archive_read_new();
	if (!a)
		return dk_err_set(err, DK_ENOMEM, "out of memory");
	archive_read_support_format_ar(a);
	if (archive_read_open_memory(a, data, len) != ARCHIVE_OK) {
		r = dk_err_set(err, DK_EINPUT, "%s: not a .deb (not an ar archive)", file);
		goto out;
	}
	while ((rc = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *p = archive_entry_pathname(e);

		if (!safe_member(p) || strchr(p, '/')) {
			r = dk_err_set(err, DK_EINPUT, "%s: unsafe member name '%s'", file, p ? p : "");
			goto out;
		}
		if (idx++ == 0) {
			if (strcmp(p, "debian-binary") != 0 ||
			    (r = read_member(a, file, p, 64, &member, err)) < 0 || strncmp(member.data, "2.", 2) != 0) {
				if (r == 0)
					r = dk_err_set(err, DK_EINPUT, "%s: not a .deb (no debian-binary 2.x first)", file);
				goto out;
			}
		} else if (strncmp(p, "control.tar", 11) == 0 && !cname) {
			snprintf(cname_buf, sizeof(cname_buf), "%s", p);
			cname = cname_buf;
			if ((r = read_member(a, file, p, CONTROL_MAX, &member, err)) < 0 ||
			    (r = read_control_tar(file, p, member.data, member.len, &control, err)) < 0)
				goto out;
		}
	}
	if (rc != ARCHIVE_EOF) {
		r = dk_err_set(err, DK_EINPUT, "%s: %s", file,
			       idx == 0 ? "not a .deb (not an ar archive)" : archive_error_string(a));
		goto out;
	}
	if (!cname) {
		r = dk_err_set(err, DK_EINPUT, "%s: not a .deb (no control.tar member)", file);
		goto out;
	}
	if ((r = parse_control(file, control.data, control.len, d, err)) < 0)
		goto out;
	d->size = len;
	if ((r = hash_hex(DK_SHA256, data, len, d->sha256, err)) < 0 ||
	    (r = hash_hex(DK_MD5, data, len, d->md5, err)) < 0)
		goto out;
out:
	if (r < 0)
		dk_debinfo_release(d);
	archive_read_free(a);
	dk_buf_release(&member);
	dk_buf_release(&control);
	return r;
}

int dk_pool_path(const char *source, const char *name, const char *version, const char *arch, char *out, size_t n)
{
	const char *colon = strchr(version, ':');
	int len;

	if (colon)
		version = colon + 1;
	if (strncmp(source, "lib", 3) == 0 && strlen(source) > 3)
		len = snprintf(out, n, "pool/main/%.4s/%s/%s_%s_%s.deb", source, source, name, version, arch);
	else
		len = snprintf(out, n, "pool/main/%.1s/%s/%s_%s_%s.deb", source, source, name, version, arch);
	return len < 0 || (size_t)len >= n ? -1 : 0;
}

static int files_add(struct dk_import_set *f, const char *path, struct dk_err *err)
{
	if (f->n == f->cap) {
		size_t cap = f->cap ? 2 * f->cap : 256;
		char **v = realloc(f->files, cap * sizeof(*v));

		if (!v)
			return dk_err_set(err, DK_ENOMEM, "out of memory");
		f->files = v;
		f->cap = cap;
	}
	if (!(f->files[f->n] = strdup(path)))
		return dk_err_set(err, DK_ENOMEM, "out of memory");
	f->n++;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool has_deb_suffix(const char *s)
{
	size_t n = strlen(s);

	return n > 4 && strcmp(s + n - 4, ".deb") == 0;
}

/* Arguments are taken as given; in directories, files named *.deb (d_type spares a stat for each). */
static int collect(struct dk_import_set *f, const char *path, bool top, struct dk_err *err)
{
	struct dirent *de;
	struct stat st;
	size_t first;
	DIR *d;
	int r = 0;

	if (stat(path, &st) != 0)
		return dk_err_set(err, errno == ENOENT ? DK_EINPUT : DK_EIO, "%s: %s", path, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return top || has_deb_suffix(path) ? files_add(f, path, err) : 0;
	if (!(d = opendir(path)))
		return dk_err_errno(err, "%s", path);
	first = f->n;
	while (r == 0 && (de = readdir(d)) != NULL) {
		char sub[4096];

		if (de->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name) >= sizeof(sub))
			r = dk_err_set(err, DK_EINPUT, "%s/%s: path too long", path, de->d_name);
		else if (de->d_type == DT_REG)
			r = has_deb_suffix(de->d_name) ? files_add(f, sub, err) : 0;
		else
			r = collect(f, sub, false, err);
	}
	closedir(d);
	qsort(f->files + first, f->n - first, sizeof(*f->files), cmp_str);
	return r;
}

/* A worker's read buffer, grown to the biggest file it has read. */
struct rbuf {
	char *p;
	size_t cap;
};

/*
 * Read path whole with read(2) rather than mmap: unmapping costs a TLB
 * shootdown per file, which dominates an import of many small files.
 */
static int read_whole(const char *path, struct rbuf *b, size_t *len, struct dk_file_stamp *stamp,
		      struct dk_err *err)
{
	struct stat st;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return dk_err_set(err, errno == ENOENT ? DK_EINPUT : DK_EIO, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0) {
		r = dk_err_errno(err, "%s", path);
		goto out;
	}
	if (st.st_size == 0) {
		r = dk_err_set(err, DK_EINPUT, "%s: not a .deb (empty file)", path);
		goto out;
	}
	if ((size_t)st.st_size > b->cap) {
		char *p = realloc(b->p, st.st_size);

		if (!p) {
			r = dk_err_set(err, DK_ENOMEM, "%s: out of memory", path);
			goto out;
		}
		b->p = p;
		b->cap = st.st_size;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, b->p + got, st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? dk_err_errno(err, "%s: read", path)
				  : dk_err_set(err, DK_EINPUT, "%s: changed while being read", path);
			goto out;
		}
		got += n;
	}
	*len = got;
	stamp->dev = st.st_dev;
	stamp->ino = st.st_ino;
	stamp->size = st.st_size;
	stamp->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
out:
	close(fd);
	return r;
}

/*
 * Run fn(ctx, i) for i in [0, n) on a few threads. On failure the error of
 * the lowest failing i is returned, as a serial loop would have: indices
 * above a known failure are skipped, those below still run.
 */
struct par {
	size_t n;
	atomic_size_t next, stop;
	int (*fn)(void *ctx, size_t i, struct rbuf *b, struct dk_err *err);
	void *ctx;
	pthread_mutex_t mu;
	size_t fail_at;
	int fail;
	struct dk_err err;
};

static void *par_worker(void *arg)
{
	struct par *p = arg;
	struct rbuf b = { NULL, 0 };
	struct dk_err err = DK_ERR_INIT;

	for (;;) {
		size_t i = atomic_fetch_add(&p->next, 1);
		int r;

		if (i >= p->n || i > atomic_load(&p->stop))
			break;
		if ((r = p->fn(p->ctx, i, &b, &err)) >= 0)
			continue;
		pthread_mutex_lock(&p->mu);
		if (i < p->fail_at) {
			p->fail_at = i;
			p->fail = r;
			p->err = err;
			atomic_store(&p->stop, i);
		}
		pthread_mutex_unlock(&p->mu);
	}
	free(b.p);
	return NULL;
}

static int par_for(size_t n, int (*fn)(void *ctx, size_t i, struct rbuf *b, struct dk_err *err), void *ctx,
		   struct dk_err *err)
{
	struct par p = { .n = n, .fn = fn, .ctx = ctx, .fail_at = SIZE_MAX };
	pthread_t th[7];
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t nth = cpus > 1 ? (size_t)cpus - 1 : 0, started = 0;

	if (nth > sizeof(th) / sizeof(th[0]))
		nth = sizeof(th) / sizeof(th[0]);
	if (nth > n / 4)
		nth = n / 4;
	atomic_init(&p.next, 0);
	atomic_init(&p.stop, SIZE_MAX);
	pthread_mutex_init(&p.mu, NULL);
	for (; started < nth; started++)
		if (pthread_create(&th[started], NULL, par_worker, &p) != 0)
			break;
	par_worker(&p);
	for (size_t i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	pthread_mutex_destroy(&p.mu);
	if (p.fail < 0) {
		if (err)
			*err = p.err;
		return p.fail;
	}
	return 0;
}

enum { S_COLL_GET, S_COLL_ADD, S_PKG_BY_SHA, S_PKG_OTHER, S_PKG_ADD, S_MEMBER_GET, S_MEMBER_PUT, S_COUNT };

static const char *const import_sql[S_COUNT] = {
	[S_COLL_GET] = "SELECT id FROM collections WHERE name = ?1",
	[S_COLL_ADD] = "INSERT INTO collections (name, created) VALUES (?1, ?2)",
	[S_PKG_BY_SHA] = "SELECT id FROM packages WHERE sha256 = ?1",
	[S_PKG_OTHER] = "SELECT sha256 FROM packages WHERE name = ?1 AND version = ?2 AND arch = ?3 AND sha256 <> ?4"
			" ORDER BY id DESC LIMIT 1",
	[S_PKG_ADD] = "INSERT INTO packages (name, version, arch, source, source_version, size, sha256, md5,"
		      " filename, control, added) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
	[S_MEMBER_GET] = "SELECT package_id FROM collection_members WHERE collection_id = ?1 AND name = ?2"
			 " AND version = ?3 AND arch = ?4",
	[S_MEMBER_PUT] = "INSERT OR REPLACE INTO collection_members (collection_id, package_id, name, version, arch)"
			 " VALUES (?1, ?2, ?3, ?4, ?5)",
};

static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
	sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

/* Step a statement that returns at most one integer; *id = 0 when it returns none. */
static int step_id(struct dk_repo *r, sqlite3_stmt *s, long long *id, struct dk_err *err)
{
	int rc = sqlite3_step(s);

	*id = 0;
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(s, 0);
	else if (rc != SQLITE_DONE)
		return dk_db_error(&r->db, err, "import");
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return 0;
}

static void now_utc(char *out, size_t n)
{
	struct tm tm;
	time_t t = time(NULL);

	gmtime_r(&t, &tm);
	strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int record(struct dk_repo *r, sqlite3_stmt **s, long long coll, const char *file, const struct dk_debinfo *d,
		  const char *stamp, dk_import_rebuilt_fn rebuilt, void *ctx, struct dk_import_stats *st,
		  struct dk_err *err)
{
	char pool[4096];
	long long id, old;
	int ret;

	bind_text(s[S_PKG_BY_SHA], 1, d->sha256);
	if ((ret = step_id(r, s[S_PKG_BY_SHA], &id, err)) < 0)
		return ret;
	if (id) {
		st->present++;
	} else {
		int rc;

		bind_text(s[S_PKG_OTHER], 1, d->name);
		bind_text(s[S_PKG_OTHER], 2, d->version);
		bind_text(s[S_PKG_OTHER], 3, d->arch);
		bind_text(s[S_PKG_OTHER], 4, d->sha256);
		rc = sqlite3_step(s[S_PKG_OTHER]);
		if (rc == SQLITE_ROW) {
			st->rebuilt++;
			if (rebuilt)
				rebuilt(ctx, file, d->name, d->version, d->arch,
					(const char *)sqlite3_column_text(s[S_PKG_OTHER], 0), d->sha256);
		} else if (rc != SQLITE_DONE) {
			return dk_db_error(&r->db, err, "import");
		}
		sqlite3_reset(s[S_PKG_OTHER]);
		if (dk_pool_path(d->source, d->name, d->version, d->arch, pool, sizeof(pool)) < 0)
			return dk_err_set(err, DK_EINPUT, "%s: pool path too long", file);
		bind_text(s[S_PKG_ADD], 1, d->name);
		bind_text(s[S_PKG_ADD], 2, d->version);
		bind_text(s[S_PKG_ADD], 3, d->arch);
		bind_text(s[S_PKG_ADD], 4, d->source);
		bind_text(s[S_PKG_ADD], 5, d->source_version);
		sqlite3_bind_int64(s[S_PKG_ADD], 6, (sqlite3_int64)d->size);
		bind_text(s[S_PKG_ADD], 7, d->sha256);
		bind_text(s[S_PKG_ADD], 8, d->md5);
		bind_text(s[S_PKG_ADD], 9, pool);
		bind_text(s[S_PKG_ADD], 10, d->control);
		bind_text(s[S_PKG_ADD], 11, stamp);
		if ((ret = step_id(r, s[S_PKG_ADD], &old, err)) < 0)
			return ret;
		id = sqlite3_last_insert_rowid(r->db.h);
		st->added++;
	}
	sqlite3_bind_int64(s[S_MEMBER_GET], 1, coll);
	bind_text(s[S_MEMBER_GET], 2, d->name);
	bind_text(s[S_MEMBER_GET], 3, d->version);
	bind_text(s[S_MEMBER_GET], 4, d->arch);
	if ((ret = step_id(r, s[S_MEMBER_GET], &old, err)) < 0)
		return ret;
	if (old == id)
		return 0;
	sqlite3_bind_int64(s[S_MEMBER_PUT], 1, coll);
	sqlite3_bind_int64(s[S_MEMBER_PUT], 2, id);
	bind_text(s[S_MEMBER_PUT], 3, d->name);
	bind_text(s[S_MEMBER_PUT], 4, d->version);
	bind_text(s[S_MEMBER_PUT], 5, d->arch);
	return step_id(r, s[S_MEMBER_PUT], &old, err);
}

void dk_import_set_release(struct dk_import_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		if (set->info)
			dk_debinfo_release(&set->info[i]);
		if (set->bytes)
			free(set->bytes[i]);
		free(set->files[i]);
	}
	free(set->info);
	free(set->stamp);
	free(set->bytes);
	free(set->files);
	memset(set, 0, sizeof(*set));
}

struct read_ctx {
	struct dk_import_set *set;
	atomic_size_t kept;
};

static int read_one(void *ctx, size_t i, struct rbuf *b, struct dk_err *err)
{
	struct read_ctx *c = ctx;
	struct dk_import_set *set = c->set;
	size_t len = 0;
	int r;

	if ((r = read_whole(set->files[i], b, &len, &set->stamp[i], err)) < 0 ||
	    (r = dk_deb_read(set->files[i], b->p, len, &set->info[i], err)) < 0)
		return r;
	if (len <= KEEP_FILE_MAX && atomic_fetch_add(&c->kept, len) + len <= KEEP_TOTAL_MAX &&
	    (set->bytes[i] = malloc(len)) != NULL)
		memcpy(set->bytes[i], b->p, len);
	return 0;
}

int dk_import_read(struct dk_import_set *set, char *const *paths, size_t npaths, struct dk_err *err)
{
	struct read_ctx rc;
	int ret = 0;

	memset(set, 0, sizeof(*set));
	for (size_t i = 0; i < npaths && ret == 0; i++)
		ret = collect(set, paths[i], true, err);
	if (ret < 0)
		return ret;
	if (set->n == 0)
		return dk_err_set(err, DK_EINPUT, "no .deb files found");
	set->info = calloc(set->n, sizeof(*set->info));
	set->stamp = calloc(set->n, sizeof(*set->stamp));
	set->bytes = calloc(set->n, sizeof(*set->bytes));
	if (!set->info || !set->stamp || !set->bytes)
		return dk_err_set(err, DK_ENOMEM, "out of memory");
	rc.set = set;
	atomic_init(&rc.kept, 0);
	return par_for(set->n, read_one, &rc, err);
}

struct stage_ctx {
	const struct dk_import_set *set;
	struct dk_store_batch *batch;
	const bool *wanted;
};

/* Copy file i into tmp/, if it is still the file that was read. */
static int stage_one(void *ctx, size_t i, struct rbuf *b, struct dk_err *err)
{
	struct stage_ctx *c = ctx;
	struct dk_file_stamp now;
	const struct dk_file_stamp *then = &c->set->stamp[i];
	size_t len = 0;
	int r;

	if (!c->wanted[i])
		return 0;
	if (c->set->bytes[i])
		return dk_store_batch_put(c->batch, i, c->set->bytes[i], c->set->info[i].size, c->set->info[i].sha256,
					  err);
	if ((r = read_whole(c->set->files[i], b, &len, &now, err)) < 0)
		return r;
	if (now.dev != then->dev || now.ino != then->ino || now.size != then->size || now.mtime_ns != then->mtime_ns)
		return dk_err_set(err, DK_EINPUT, "%s: changed while being imported", c->set->files[i]);
	return dk_store_batch_put(c->batch, i, b->p, len, c->set->info[i].sha256, err);
}

int dk_import_add(struct dk_repo *r, const char *collection, const struct dk_import_set *set,
		  dk_import_rebuilt_fn rebuilt, void *ctx, struct dk_import_stats *st, struct dk_err *err)
{
	const struct dk_debinfo *info = set->info;
	struct dk_store_batch batch;
	struct stage_ctx stage;
	sqlite3_stmt *s[S_COUNT] = { 0 };
	bool *wanted = NULL;
	long long coll;
	char stamp[32];
	int ret = 0;

	memset(st, 0, sizeof(*st));
	if (!valid_name(collection, strlen(collection)))
		return dk_err_set(err, DK_EINPUT, "collection '%s': invalid name (lower case letters, digits, + - .)",
				  collection);
	if (dk_store_batch_init(&batch, r->root, set->n, err) < 0)
		return DK_ENOMEM;
	st->files = set->n;
	if (!(wanted = calloc(set->n ? set->n : 1, sizeof(*wanted)))) {
		ret = dk_err_set(err, DK_ENOMEM, "out of memory");
		goto out;
	}
	for (int i = 0; i < S_COUNT; i++) {
		if (sqlite3_prepare_v2(r->db.h, import_sql[i], -1, &s[i], NULL) != SQLITE_OK) {
			ret = dk_db_error(&r->db, err, "import");
			goto out;
		}
	}
	for (size_t i = 0; i < set->n; i++) {
		long long id;

		bind_text(s[S_PKG_BY_SHA], 1, info[i].sha256);
		if ((ret = step_id(r, s[S_PKG_BY_SHA], &id, err)) < 0)
			goto out;
		wanted[i] = id == 0;
	}
	stage = (struct stage_ctx){ set, &batch, wanted };
	if ((ret = par_for(set->n, stage_one, &stage, err)) < 0)
		goto out;
	if ((ret = dk_db_begin(&r->db, err)) < 0)
		goto out;
	now_utc(stamp, sizeof(stamp));
	bind_text(s[S_COLL_GET], 1, collection);
	if ((ret = step_id(r, s[S_COLL_GET], &coll, err)) < 0)
		goto out;
	if (!coll) {
		bind_text(s[S_COLL_ADD], 1, collection);
		bind_text(s[S_COLL_ADD], 2, stamp);
		if ((ret = step_id(r, s[S_COLL_ADD], &coll, err)) < 0)
			goto out;
		coll = sqlite3_last_insert_rowid(r->db.h);
	}
	for (size_t i = 0; i < set->n; i++)
		if ((ret = record(r, s, coll, set->files[i], &info[i], stamp, rebuilt, ctx, st, err)) < 0)
			goto out;
	if ((ret = dk_store_batch_commit(&batch, err)) < 0)
		goto out;
	ret = dk_db_commit(&r->db, err);
out:
	if (ret < 0)
		dk_db_rollback(&r->db);
	for (int i = 0; i < S_COUNT; i++)
		sqlite3_finalize(s[i]);
	dk_store_batch_release(&batch);
	free(wanted);
	return ret;
}

int dk_import(struct dk_repo *r, const char *collection, char *const *paths, size_t npaths,
	      dk_import_rebuilt_fn rebuilt, void *ctx, struct dk_import_stats *st, struct dk_err *err)
{
	struct dk_import_set set;
	int ret = dk_import_read(&set, paths, npaths, err);

	memset(st, 0, sizeof(*st));
	if (ret == 0)
		ret = dk_import_add(r, collection, &set, rebuilt, ctx, st, err);
	dk_import_set_release(&set);
	return ret;
}
