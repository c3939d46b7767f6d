/* mirror.c - mirrors of upstream apt repositories: definitions, and updates that verify every hash on the way down */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include <debkeep/arena.h>
#include <debkeep/buf.h>
#include <debkeep/deb822.h>
#include <debkeep/fetch.h>
#include <debkeep/fs.h>
#include <debkeep/hash.h>
#include <debkeep/index.h>
#include <debkeep/input.h>
#include <debkeep/map.h>
#include <debkeep/mirror.h>
#include <debkeep/pkglist.h>
#include <debkeep/repo.h>
#include <debkeep/resolve.h>
#include <debkeep/sources.h>

#include "banned.h"

/* A decompressed Packages index bigger than this is not one (bookworm main amd64: about 95 MB). */
#define INDEX_MAX ((size_t)1 << 30)
#define KEYRING_MAX ((size_t)16 << 20)
#define LIST_MAX ((size_t)4 << 20)

/*
 * keyring is relative to the data root (keyrings/NAME.gpg); components and
 * archs are comma-separated. The collection mirror/NAME holds what the last
 * update verified; this table says where it came from and when.
 */
static const struct dk_db_migration mirror_steps[] = {
	{ 1, "mirrors",
	  "CREATE TABLE mirrors ("
	  " id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, url TEXT NOT NULL, suite TEXT NOT NULL,"
	  " components TEXT NOT NULL, archs TEXT NOT NULL, keyring TEXT NOT NULL, list TEXT,"
	  " with_sources INTEGER NOT NULL DEFAULT 0, created TEXT NOT NULL, updated TEXT, release_date TEXT,"
	  " release_sha256 TEXT);" },
};

static int migrate(struct dk_repo *r, struct dk_err *err)
{
	return dk_db_migrate(&r->db, "mirror", mirror_steps, sizeof(mirror_steps) / sizeof(mirror_steps[0]), err);
}

static void free_vec(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void dk_mirror_release(struct dk_mirror *m)
{
	free(m->name);
	free(m->url);
	free(m->suite);
	free_vec(m->components, m->ncomponents);
	free_vec(m->archs, m->narchs);
	free(m->list);
	free(m->created);
	free(m->updated);
	free(m->release_date);
	free(m->release_sha256);
	memset(m, 0, sizeof(*m));
}

bool dk_mirror_name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64 || s[0] == '.' || s[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		      s[i] == '.' || s[i] == '_' || s[i] == '+' || s[i] == '-'))
			return false;
	return true;
}

/* Suites and components go into URLs and paths: "bookworm", "bookworm-updates", "updates/main". */
static bool word_valid(const char *s, bool slash)
{
	size_t n = strlen(s);

	if (n == 0 || n > 100 || s[0] == '.' || s[0] == '/' || s[n - 1] == '/' || strstr(s, "..") || strstr(s, "//"))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		      s[i] == '.' || s[i] == '_' || s[i] == '+' || s[i] == '-' || (slash && s[i] == '/')))
			return false;
	return true;
}

static bool arch_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 32 || strcmp(s, "all") == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

static bool url_valid(const char *u)
{
	if (strncmp(u, "http://", 7) && strncmp(u, "https://", 8) && strncmp(u, "file://", 7))
		return false;
	for (const char *p = u; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			return false;
	return strlen(u) < 1024;
}

static int join(char *const *v, size_t n, struct dk_buf *out)
{
	for (size_t i = 0; i < n; i++)
		dk_buf_addf(out, "%s%s", i ? "," : "", v[i]);
	return out->failed ? DK_ENOMEM : 0;
}

static int split(const char *s, char ***v, size_t *n)
{
	*v = NULL;
	*n = 0;
	while (*s) {
		size_t len = strcspn(s, ",");
		char **nv = realloc(*v, (*n + 1) * sizeof(*nv));

		if (!nv)
			return DK_ENOMEM;
		*v = nv;
		if (!(nv[*n] = strndup(s, len)))
			return DK_ENOMEM;
		(*n)++;
		s += len;
		if (*s == ',')
			s++;
	}
	return 0;
}

static void now_utc(time_t t, char *out, size_t n)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int prepare(struct dk_repo *r, const char *sql, sqlite3_stmt **s, struct dk_err *err)
{
	if (sqlite3_prepare_v2(r->db.h, sql, -1, s, NULL) != SQLITE_OK)
		return dk_db_error(&r->db, err, "mirror");
	return 0;
}

static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i);
}

static char *col_dup(sqlite3_stmt *s, int i)
{
	const char *t = (const char *)sqlite3_column_text(s, i);

	return t ? strdup(t) : NULL;
}

/* Readers open the database read-only and cannot migrate: a root no mirror was ever made in has no table. */
static int have_table(struct dk_repo *r, bool *have, struct dk_err *err)
{
	sqlite3_stmt *s;
	int ret, rc;

	if ((ret = prepare(r, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'mirrors'", &s, err)) < 0)
		return ret;
	rc = sqlite3_step(s);
	*have = rc == SQLITE_ROW;
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return dk_db_error(&r->db, err, "mirror");
	return 0;
}

#define MIRROR_SQL                                                                                                     \
	"SELECT m.name, m.url, m.suite, m.components, m.archs, m.list, m.with_sources, m.created, m.updated,"         \
	" m.release_date, m.release_sha256, (SELECT count(*) FROM collection_members cm JOIN collections c"          \
	" ON c.id = cm.collection_id WHERE c.name = 'mirror/' || m.name) FROM mirrors m"

static int fill(sqlite3_stmt *s, struct dk_mirror *m, struct dk_err *err)
{
	const char *comps = (const char *)sqlite3_column_text(s, 3), *archs = (const char *)sqlite3_column_text(s, 4);

	memset(m, 0, sizeof(*m));
	m->name = col_dup(s, 0);
	m->url = col_dup(s, 1);
	m->suite = col_dup(s, 2);
	m->list = col_dup(s, 5);
	m->with_sources = sqlite3_column_int(s, 6) != 0;
	m->created = col_dup(s, 7);
	m->updated = col_dup(s, 8);
	m->release_date = col_dup(s, 9);
	m->release_sha256 = col_dup(s, 10);
	m->packages = sqlite3_column_int64(s, 11);
	if (!m->name || !m->url || !m->suite || !m->created || split(comps ? comps : "", &m->components,
								     &m->ncomponents) < 0 ||
	    split(archs ? archs : "", &m->archs, &m->narchs) < 0) {
		dk_mirror_release(m);
		return dk_err_set(err, DK_ENOMEM, "out of memory");
	}
	return 0;
}

int dk_mirror_get(struct dk_repo *r, const char *name, struct dk_mirror *m, struct dk_err *err)
{
	sqlite3_stmt *s;
	bool have;
	int ret, rc;

	memset(m, 0, sizeof(*m));
	if ((ret = have_table(r, &have, err)) < 0)
		return ret;
	if (!have)
		return dk_err_set(err, DK_EINPUT, "mirror '%s': unknown mirror", name);
	if ((ret = prepare(r, MIRROR_SQL " WHERE m.name = ?1", &s, err)) < 0)
		return ret;
	bind_text(s, 1, name);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		ret = fill(s, m, err);
	else if (rc == SQLITE_DONE)
		ret = dk_err_set(err, DK_EINPUT, "mirror '%s': unknown mirror", name);
	else
		ret = dk_db_error(&r->db, err, "mirror");
	sqlite3_finalize(s);
	return ret;
}

int dk_mirror_list(struct dk_repo *r, int (*fn)(void *ctx, const struct dk_mirror *m), void *ctx,
		   struct dk_err *err)
{
	sqlite3_stmt *s;
	bool have;
	int ret, rc;

	if ((ret = have_table(r, &have, err)) < 0 || !have)
		return ret;
	if ((ret = prepare(r, MIRROR_SQL " ORDER BY m.name", &s, err)) < 0)
		return ret;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct dk_mirror m;

		if ((ret = fill(s, &m, err)) < 0)
			break;
		ret = fn(ctx, &m);
		dk_mirror_release(&m);
		if (ret < 0)
			break;
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = dk_db_error(&r->db, err, "mirror list");
	sqlite3_finalize(s);
	return ret;
}

static int keyring_path(const char *root, const char *name, char *out, size_t n, struct dk_err *err)
{
	if ((size_t)snprintf(out, n, "%s/keyrings/%s.gpg", root, name) >= n)
		return dk_err_set(err, DK_EINPUT, "%s: path too long", root);
	return 0;
}

static int tmp_path(const char *root, char *out, size_t n, struct dk_err *err)
{
	if ((size_t)snprintf(out, n, "%s/tmp", root) >= n)
		return dk_err_set(err, DK_EINPUT, "%s: path too long", root);
	return 0;
}

int dk_mirror_create(struct dk_repo *r, const struct dk_mirror *m, const char *keyring, size_t keyring_len,
		     struct dk_err *err)
{
	struct dk_buf comps = DK_BUF_INIT, archs = DK_BUF_INIT;
	sqlite3_stmt *s = NULL;
	char path[4096], rel[200], tmp[4096], stamp[32];
	size_t keys;
	int ret, rc;

	if (!dk_mirror_name_valid(m->name))
		return dk_err_set(err, DK_EINPUT,
				  "mirror '%s': invalid name (1 to 64 of A-Z a-z 0-9 . _ + -, not starting with . or -)",
				  m->name);
	if (!url_valid(m->url))
		return dk_err_set(err, DK_EINPUT, "URL '%s': not an http://, https:// or file:// URL", m->url);
	if (!word_valid(m->suite, true))
		return dk_err_set(err, DK_EINPUT, "--suite '%s': invalid suite name", m->suite);
	if (m->ncomponents == 0 || m->narchs == 0)
		return dk_err_set(err, DK_EINPUT, "a mirror needs at least one component and one architecture");
	for (size_t i = 0; i < m->ncomponents; i++)
		if (!word_valid(m->components[i], true))
			return dk_err_set(err, DK_EINPUT, "--components: invalid component '%s'", m->components[i]);
	for (size_t i = 0; i < m->narchs; i++)
		if (!arch_valid(m->archs[i]))
			return dk_err_set(err, DK_EINPUT, "--archs: invalid architecture '%s'", m->archs[i]);
	if (keyring_len > KEYRING_MAX)
		return dk_err_set(err, DK_EINPUT, "keyring: too big for a keyring");
	if (m->list && strlen(m->list) > LIST_MAX)
		return dk_err_set(err, DK_EINPUT, "--list: too big for a package list");
	if ((ret = tmp_path(r->root, tmp, sizeof(tmp), err)) < 0 ||
	    (ret = dk_verify_keyring(keyring, keyring_len, tmp, &keys, err)) < 0)
		return ret;
	if ((ret = migrate(r, err)) < 0 || (m->with_sources && (ret = dk_sources_migrate(r, err)) < 0))
		return ret;
	if ((ret = join(m->components, m->ncomponents, &comps)) < 0 || (ret = join(m->archs, m->narchs, &archs)) < 0) {
		ret = dk_err_set(err, DK_ENOMEM, "out of memory");
		goto out;
	}
	snprintf(rel, sizeof(rel), "keyrings/%s.gpg", m->name);
	if ((ret = dk_db_begin(&r->db, err)) < 0)
		goto out;
	if ((ret = prepare(r, "INSERT INTO mirrors (name, url, suite, components, archs, keyring, list, with_sources,"
			   " created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT (name) DO NOTHING",
			   &s, err)) < 0)
		goto out;
	now_utc(time(NULL), stamp, sizeof(stamp));
	bind_text(s, 1, m->name);
	bind_text(s, 2, m->url);
	bind_text(s, 3, m->suite);
	bind_text(s, 4, comps.data);
	bind_text(s, 5, archs.data);
	bind_text(s, 6, rel);
	bind_text(s, 7, m->list);
	sqlite3_bind_int(s, 8, m->with_sources);
	bind_text(s, 9, stamp);
	rc = sqlite3_step(s);
	if (rc != SQLITE_DONE) {
		ret = dk_db_error(&r->db, err, "mirror create");
		goto out;
	}
	if (sqlite3_changes(r->db.h) == 0) {
		ret = dk_err_set(err, DK_EINPUT, "mirror '%s': exists already (drop it first)", m->name);
		goto out;
	}
	snprintf(path, sizeof(path), "%s/keyrings", r->root);
	if (mkdir(path, 0755) != 0 && errno != EEXIST) {
		ret = dk_err_errno(err, "%s", path);
		goto out;
	}
	/* Written before the commit: a row never names a keyring that is not there. */
	if ((ret = keyring_path(r->root, m->name, path, sizeof(path), err)) < 0 ||
	    (ret = dk_write_file_atomic(path, keyring, keyring_len, 0644, err)) < 0)
		goto out;
	ret = dk_db_commit(&r->db, err);
out:
	if (ret < 0)
		dk_db_rollback(&r->db);
	sqlite3_finalize(s);
	dk_buf_release(&comps);
	dk_buf_release(&archs);
	return ret;
}

static int exec_name(struct dk_repo *r, const char *sql, const char *name, struct dk_err *err)
{
	sqlite3_stmt *s;
	int ret, rc;

	if ((ret = prepare(r, sql, &s, err)) < 0)
		return ret;
	bind_text(s, 1, name);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return dk_db_error(&r->db, err, "mirror");
	return 0;
}

int dk_mirror_drop(struct dk_repo *r, const char *name, struct dk_err *err)
{
	struct dk_mirror m;
	char path[4096], coll[100];
	int ret;

	if ((ret = dk_mirror_get(r, name, &m, err)) < 0)
		return ret;
	dk_mirror_release(&m);
	snprintf(coll, sizeof(coll), "mirror/%s", name);
	if ((ret = dk_db_begin(&r->db, err)) < 0)
		return ret;
	if ((ret = exec_name(r, "DELETE FROM collection_members WHERE collection_id IN"
			     " (SELECT id FROM collections WHERE name = ?1)", coll, err)) < 0 ||
	    (ret = exec_name(r, "DELETE FROM collections WHERE name = ?1", coll, err)) < 0 ||
	    (ret = exec_name(r, "DELETE FROM mirrors WHERE name = ?1", name, err)) < 0 ||
	    (ret = dk_sources_mirror_drop(r, name, err)) < 0 ||
	    (ret = dk_db_commit(&r->db, err)) < 0) {
		dk_db_rollback(&r->db);
		return ret;
	}
	/* After the commit: a failed drop keeps a keyring its row still names. */
	if (keyring_path(r->root, name, path, sizeof(path), err) == 0)
		unlink(path);
	return 0;
}

/* Publishing writes these itself, from the object it links. */
static bool publish_owns(const struct dk_field *f)
{
	static const char *const owned[] = { "Filename", "Size", "MD5sum", "SHA1", "SHA256", "SHA512",
					     "Description-md5" };

	for (size_t i = 0; i < sizeof(owned) / sizeof(owned[0]); i++)
		if (dk_field_is(f, owned[i]))
			return true;
	return false;
}

int dk_mirror_control(const char *stanza, size_t len, struct dk_buf *out, struct dk_err *err)
{
	struct dk_deb822 p;
	struct dk_stanza st;
	int r;

	dk_buf_reset(out);
	dk_deb822_init(&p, stanza, len, "stanza", 0);
	if ((r = dk_deb822_next(&p, &st, err)) <= 0) {
		dk_deb822_release(&p);
		return r == 0 ? dk_err_set(err, DK_EINPUT, "empty stanza") : r;
	}
	for (size_t i = 0; i < st.nfields; i++) {
		const struct dk_field *f = &st.fields[i];

		if (publish_owns(f))
			continue;
		if (out->len)
			dk_buf_addc(out, '\n');
		dk_buf_add(out, f->name, f->name_len);
		dk_buf_adds(out, f->value_len && f->value[0] != '\n' ? ": " : ":");
		dk_buf_add(out, f->value, f->value_len);
	}
	dk_deb822_release(&p);
	return dk_buf_check(out, err, "control");
}

/* One package the update keeps: what its index stanza says, and what the root already has of it. */
struct want {
	const char *name, *version, *arch, *source, *source_version, *filename, *md5, *control, *where;
	char sha256[65];
	uint64_t size;
	long long row;  /* its package row, 0: none yet */
	bool fetch;     /* its object is missing */
	const char *dest; /* where the fetched .deb waits in tmp/ */
};

struct update {
	struct dk_repo *r;
	struct dk_mirror m;
	const struct dk_mirror_update_opts *o;
	struct dk_mirror_stats *st;
	struct dk_arena arena;
	struct want *w;
	size_t n, cap;
	struct dk_map by_sha;
	struct dk_pkglist list;
	bool have_list;
	char base[1100];   /* the URL without its trailing '/' */
	char tmpdir[4096]; /* ROOT/tmp/mirror-NAME: downloads kept for the next run */
	char dists[300];   /* "dists/SUITE" */
	enum dk_mirror_phase phase;
	struct dk_sources_update su;
	struct dk_sources_stats *sst;
	dk_source_missing_fn missing;
	void *missing_ctx;
};

static void progress(void *ctx, uint64_t done, uint64_t total, size_t files_done, size_t files)
{
	struct update *u = ctx;

	if (u->o->progress)
		u->o->progress(u->o->progress_ctx, u->phase, done, total, files_done, files);
}

static void fetch_opts(struct update *u, struct dk_fetch_opts *fo)
{
	memset(fo, 0, sizeof(*fo));
	fo->parallel = u->o->parallel;
	fo->progress = progress;
	fo->progress_ctx = u;
}

static int run_fetch(struct update *u, struct dk_fetch_item *items, size_t n, struct dk_err *err)
{
	struct dk_fetch_opts fo;

	fetch_opts(u, &fo);
	return dk_fetch_run(items, n, &fo, err);
}

static char *url_of(struct update *u, const char *rel)
{
	size_t n = strlen(u->base) + strlen(rel) + 2;
	char *p = dk_arena_alloc(&u->arena, n);

	if (p)
		snprintf(p, n, "%s/%s", u->base, rel);
	return p;
}

static bool fetch_missing(const struct dk_fetch_item *it)
{
	return !it->fetched && (it->status == 404 || it->status == 0 || it->status == 410);
}

/* InRelease, else Release + Release.gpg: verified against the mirror's keyring only. */
static int fetch_release(struct update *u, const char *keyring, size_t keyring_len, char **text, size_t *len,
			 struct dk_err *err)
{
	struct dk_fetch_item it[2];
	char rel[400], tmp[4096];
	int ret;

	if ((ret = tmp_path(u->r->root, tmp, sizeof(tmp), err)) < 0)
		return ret;
	memset(it, 0, sizeof(it));
	snprintf(rel, sizeof(rel), "%s/InRelease", u->dists);
	it[0].url = url_of(u, rel);
	it[0].size = -1;
	it[0].optional = true;
	if (!it[0].url)
		return dk_err_set(err, DK_ENOMEM, "out of memory");
	ret = run_fetch(u, it, 1, err);
	if (ret == 0 && it[0].fetched) {
		ret = dk_verify_release(keyring, keyring_len, tmp, it[0].body, it[0].body_len, NULL, 0, text, len,
					u->st->fingerprint, err);
		dk_fetch_items_release(it, 1);
		return ret;
	}
	if (ret < 0 && !fetch_missing(&it[0])) {
		dk_fetch_items_release(it, 1);
		return ret;
	}
	dk_fetch_items_release(it, 1);
	memset(it, 0, sizeof(it));
	snprintf(rel, sizeof(rel), "%s/Release", u->dists);
	it[0].url = url_of(u, rel);
	snprintf(rel, sizeof(rel), "%s/Release.gpg", u->dists);
	it[1].url = url_of(u, rel);
	it[0].size = it[1].size = -1;
	if (!it[0].url || !it[1].url)
		return dk_err_set(err, DK_ENOMEM, "out of memory");
	ret = run_fetch(u, it, 2, err);
	if (ret < 0 && fetch_missing(&it[0]) && it[0].status == 404)
		ret = dk_err_set(err, DK_EINPUT, "%s: no InRelease or Release upstream (HTTP 404): is the suite right?",
				 u->dists);
	else if (ret == 0)
		ret = dk_verify_release(keyring, keyring_len, tmp, it[0].body, it[0].body_len, it[1].body,
					it[1].body_len, text, len, u->st->fingerprint, err);
	dk_fetch_items_release(it, 2);
	return ret;
}

static int read_small(const char *path, size_t max, struct dk_buf *out, struct dk_err *err)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return dk_err_errno(err, "%s", path);
	if (fstat(fd, &st) != 0) {
		r = dk_err_errno(err, "%s", path);
		close(fd);
		return r;
	}
	if ((size_t)st.st_size > max) {
		close(fd);
		return dk_err_set(err, DK_EINPUT, "%s: too big", path);
	}
	if (dk_buf_grow(out, st.st_size) < 0) {
		close(fd);
		return dk_err_set(err, DK_ENOMEM, "out of memory");
	}
	while (out->len < (size_t)st.st_size) {
		ssize_t n = read(fd, out->data + out->len, st.st_size - out->len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? dk_err_errno(err, "%s", path) : dk_err_set(err, DK_EIO, "%s: short read", path);
			break;
		}
		out->len += n;
	}
	out->data[out->len] = '\0';
	close(fd);
	return r;
}

static bool pkgname_valid(const char *s)
{
	size_t n = strlen(s);

	if (n < 2 || n > 200 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '+' || s[i] == '-' ||
		      s[i] == '.'))
			return false;
	return true;
}

/* An upstream Filename becomes a path in published trees: pool/ only, no way out of it. */
static bool filename_valid(const char *s)
{
	size_t n = strlen(s), start = 0;

	if (n < 6 || n > 1024 || strncmp(s, "pool/", 5) != 0)
		return false;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != '/') {
			if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
			      (s[i] >= '0' && s[i] <= '9') || strchr("._+~-%", s[i])))
				return false;
			continue;
		}
		if (i == start || (i - start <= 2 && s[start] == '.' && (i - start == 1 || s[start + 1] == '.')))
			return false;
		start = i + 1;
	}
	return true;
}

static char *field_dup(struct update *u, const struct dk_pkg *p, const char *name)
{
	struct dk_slice v;

	if (dk_pkg_field(p, name, &v) != 0)
		return NULL;
	return dk_arena_strndup(&u->arena, v.p, v.n);
}

static uint64_t sha_key(const char *hex)
{
	uint64_t k = 0;

	for (int i = 0; i < 16; i++)
		k = k << 4 | (uint64_t)(hex[i] <= '9' ? hex[i] - '0' : hex[i] - 'a' + 10);
	return k == UINT64_MAX ? k - 1 : k;
}

/* Keep one package of an index: its fields checked, its control text made, once per SHA-256. */
static int take(struct update *u, const struct dk_index *idx, const struct dk_pkg *p, struct dk_buf *ctl,
		struct dk_err *err)
{
	char where[1200], *sha, *size, *end;
	struct want w = { 0 };
	void **slot;
	size_t i;
	int ret;

	dk_index_where(idx, p, where, sizeof(where));
	w.where = dk_arena_strdup(&u->arena, where);
	w.name = dk_index_str(idx, p->name);
	w.arch = dk_index_str(idx, p->arch);
	w.source = dk_index_str(idx, p->source);
	w.version = dk_arena_strndup(&u->arena, p->version.p, p->version.n);
	w.source_version = dk_arena_strndup(&u->arena, p->source_version.p, p->source_version.n);
	w.filename = field_dup(u, p, "Filename");
	w.md5 = field_dup(u, p, "MD5sum");
	sha = field_dup(u, p, "SHA256");
	size = field_dup(u, p, "Size");
	if (!w.where || !w.version || !w.source_version)
		return dk_err_set(err, DK_ENOMEM, "out of memory");
	if (!pkgname_valid(w.name) || !pkgname_valid(w.source))
		return dk_err_set(err, DK_EINPUT, "%s: invalid package or source name '%s'", where, w.name);
	if (!w.filename || !filename_valid(w.filename))
		return dk_err_set(err, DK_EINPUT, "%s: %s: %s Filename", where, w.name, w.filename ? "unsafe" : "no");
	if (!sha || strlen(sha) != 64 || strspn(sha, "0123456789abcdef") != 64)
		return dk_err_set(err, DK_EINPUT, "%s: %s: %s SHA256", where, w.name, sha ? "bad" : "no");
	if (w.md5 && (strlen(w.md5) != 32 || strspn(w.md5, "0123456789abcdef") != 32))
		return dk_err_set(err, DK_EINPUT, "%s: %s: bad MD5sum", where, w.name);
	errno = 0;
	if (!size || !*size || *size < '0' || *size > '9' || (w.size = strtoull(size, &end, 10), *end) || errno ||
	    w.size > ((uint64_t)1 << 40))
		return dk_err_set(err, DK_EINPUT, "%s: %s: %s Size", where, w.name, size ? "bad" : "no");
	memcpy(w.sha256, sha, 65);
	if (!(slot = dk_map_slot(&u->by_sha, sha_key(sha))))
		return dk_err_set(err, DK_ENOMEM, "out of memory");
	if (*slot) {
		const struct want *o = &u->w[(uintptr_t)*slot - 1];

		if (strcmp(o->sha256, sha) != 0)
			return dk_err_set(err, DK_EINPUT, "%s: SHA256 %s collides with %s in its first 64 bits", where, sha,
					  o->sha256);
		if (strcmp(o->name, w.name) || strcmp(o->version, w.version) || strcmp(o->arch, w.arch))
			return dk_err_set(err, DK_EINPUT, "%s: SHA256 %.16s... is also %s %s %s at %s", where, sha,
					  o->name, o->version, o->arch, o->where);
		return 0;
	}
	if ((ret = dk_mirror_control(p->stanza.p, p->stanza.n, ctl, err)) < 0)
		return dk_err_prefix(err, "%s", where);
	if (!(w.control = dk_arena_strndup(&u->arena, ctl->data, ctl->len)) ||
	    !(w.name = dk_arena_strdup(&u->arena, w.name)) || !(w.arch = dk_arena_strdup(&u->arena, w.arch)) ||
	    !(w.source = dk_arena_strdup(&u->arena, w.source)))
		return dk_err_set(err, DK_ENOMEM, "out of memory");
	if (u->n == u->cap) {
		size_t cap = u->cap ? 2 * u->cap : 1024;
		struct want *v = realloc(u->w, cap * sizeof(*v));

		if (!v)
			return dk_err_set(err, DK_ENOMEM, "out of memory");
		u->w = v;
		u->cap = cap;
	}
	i = u->n++;
	u->w[i] = w;
	*slot = (void *)(uintptr_t)(i + 1);
	return 0;
}

/* One architecture: load its components' indices, select (the list's closure, or everything), keep. */
static int select_arch(struct update *u, const char *arch, struct dk_buf *bodies, const char *const *names,
		       struct dk_err *err)
{
	struct dk_resolution res = DK_RESOLUTION_INIT;
	struct dk_buf ctl = DK_BUF_INIT;
	struct dk_index idx;
	int ret;

	if ((ret = dk_index_init(&idx, arch, err)) < 0)
		return ret;
	for (size_t c = 0; c < u->m.ncomponents; c++) {
		struct dk_input in = DK_INPUT_INIT;

		in.buf = bodies[c];
		in.data = in.buf.data;
		in.len = in.buf.len;
		bodies[c] = (struct dk_buf)DK_BUF_INIT;
		if ((ret = dk_index_adopt(&idx, &in, names[c], err)) < 0) {
			dk_input_release(&in);
			goto out;
		}
	}
	if (u->have_list) {
		if ((ret = dk_index_finish(&idx, err)) < 0)
			goto out;
		if ((ret = dk_resolve_pkglist(&idx, &u->list, &res, err)) < 0) {
			dk_err_prefix(err, "--list (%s)", arch);
			goto out;
		}
		for (size_t i = 0; i < res.count && ret == 0; i++)
			ret = take(u, &idx, &idx.pkgs[res.items[i].pkg], &ctl, err);
	} else {
		for (uint32_t i = 0; i < idx.npkgs && ret == 0; i++)
			ret = take(u, &idx, &idx.pkgs[i], &ctl, err);
	}
out:
	dk_resolution_release(&res);
	dk_buf_release(&ctl);
	dk_index_release(&idx);
	return ret;
}

/* Every component's Packages for every architecture, checked against Release, then selected from. */
static int indices(struct update *u, const struct dk_relfile *rf, struct dk_err *err)
{
	size_t nc = u->m.ncomponents, na = u->m.narchs, n = nc * na;
	struct dk_fetch_item *it = calloc(n, sizeof(*it));
	struct dk_buf *bodies = calloc(n, sizeof(*bodies));
	const struct dk_relfile_entry **e = calloc(n, sizeof(*e));
	const char **names = calloc(n, sizeof(*names));
	struct timespec t0, t1;
	size_t again = 0;
	int ret = 0;

	if (!it || !bodies || !e || !names) {
		ret = dk_err_set(err, DK_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const char *comp = u->m.components[i % nc], *arch = u->m.archs[i / nc];
		char rel[2400];

		bodies[i] = (struct dk_buf)DK_BUF_INIT;
		if (!(e[i] = dk_relfile_packages(rf, comp, arch))) {
			ret = dk_err_set(err, DK_EINPUT, "%s/Release: lists no %s/binary-%s/Packages index", u->dists,
					 comp, arch);
			goto out;
		}
		snprintf(rel, sizeof(rel), "%s/%s", u->dists, e[i]->path);
		names[i] = dk_arena_strdup(&u->arena, rel);
		if (rf->by_hash) {
			const char *slash = strrchr(e[i]->path, '/');

			snprintf(rel, sizeof(rel), "%s/%.*s/by-hash/SHA256/%s", u->dists, (int)(slash - e[i]->path),
				 e[i]->path, e[i]->sha256);
		}
		it[i].url = url_of(u, rel);
		it[i].size = (int64_t)e[i]->size;
		it[i].sha256 = e[i]->sha256;
		it[i].optional = rf->by_hash;
		if (!names[i] || !it[i].url) {
			ret = dk_err_set(err, DK_ENOMEM, "out of memory");
			goto out;
		}
	}
	u->phase = DK_MIRROR_INDICES;
	ret = run_fetch(u, it, n, err);
	/* A mirror that announces by-hash but lacks a file there: the plain name, as apt falls back. */
	for (size_t i = 0; rf->by_hash && i < n; i++) {
		if (it[i].fetched || (it[i].error && it[i].status != 404 && it[i].status != 410))
			continue;
		free(it[i].error);
		it[i].error = NULL;
		it[i].url = url_of(u, names[i]);
		it[i].optional = false;
		again++;
	}
	if (again) {
		struct dk_fetch_item *v = calloc(again, sizeof(*v));
		size_t k = 0;

		if (!v) {
			ret = dk_err_set(err, DK_ENOMEM, "out of memory");
			goto out;
		}
		for (size_t i = 0; i < n; i++)
			if (!it[i].fetched && !it[i].error && !it[i].optional)
				v[k++] = it[i];
		ret = run_fetch(u, v, k, err);
		k = 0;
		for (size_t i = 0; i < n; i++)
			if (!it[i].fetched && !it[i].error && !it[i].optional)
				it[i] = v[k++];
		free(v);
	}
	for (size_t i = 0; i < n; i++) {
		if (!it[i].fetched) {
			char why[DK_ERR_MSG_MAX];

			/* Named as Release names it, whichever URL (by-hash or not) failed. */
			snprintf(why, sizeof(why), "%s",
				 it[i].error ? it[i].error : ret < 0 && err ? err->msg : "not found");
			ret = dk_err_set(err, ret < 0 ? ret : DK_EINPUT, "%s: %s", names[i], why);
			goto out;
		}
		/* fetch checked it too; this is the chain's own check, whatever the transport did. */
		if ((ret = dk_relfile_verify(e[i], it[i].body, it[i].body_len, err)) < 0) {
			dk_err_prefix(err, "%s", u->dists);
			goto out;
		}
	}
	u->st->indices = n;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (size_t i = 0; i < n; i++) {
		if ((ret = dk_decompress_mem(it[i].body, it[i].body_len, names[i], &bodies[i], INDEX_MAX, err)) < 0)
			goto out;
		free(it[i].body);
		it[i].body = NULL;
	}
	for (size_t a = 0; a < na; a++)
		if ((ret = select_arch(u, u->m.archs[a], bodies + a * nc, names + a * nc, err)) < 0)
			goto out;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	u->st->index_seconds += (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
out:
	if (it)
		dk_fetch_items_release(it, n);
	for (size_t i = 0; bodies && i < n; i++)
		dk_buf_release(&bodies[i]);
	free(it);
	free(bodies);
	free(e);
	free(names);
	return ret;
}

/* What the root has already: package rows by SHA-256 (checked against the index), objects on disk. */
static int known(struct update *u, struct dk_err *err)
{
	sqlite3_stmt *s;
	char obj[4200];
	int ret;

	if ((ret = prepare(u->r, "SELECT id, name, version, arch FROM packages WHERE sha256 = ?1", &s, err)) < 0)
		return ret;
	for (size_t i = 0; i < u->n; i++) {
		struct want *w = &u->w[i];
		int rc;

		bind_text(s, 1, w->sha256);
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW) {
			w->row = sqlite3_column_int64(s, 0);
			if (strcmp((const char *)sqlite3_column_text(s, 1), w->name) ||
			    strcmp((const char *)sqlite3_column_text(s, 2), w->version) ||
			    strcmp((const char *)sqlite3_column_text(s, 3), w->arch)) {
				ret = dk_err_set(err, DK_EINPUT, "%s: %s %s %s: its SHA256 is known as %s %s %s", w->where,
						 w->name, w->version, w->arch, sqlite3_column_text(s, 1),
						 sqlite3_column_text(s, 2), sqlite3_column_text(s, 3));
				break;
			}
		} else if (rc != SQLITE_DONE) {
			ret = dk_db_error(&u->r->db, err, "mirror update");
			break;
		}
		sqlite3_reset(s);
		dk_store_path(u->r->root, w->sha256, obj, sizeof(obj));
		w->fetch = access(obj, F_OK) != 0;
	}
	sqlite3_finalize(s);
	return ret;
}

static int fetch_debs(struct update *u, struct dk_err *err)
{
	struct dk_fetch_item *it;
	size_t n = 0, k = 0;
	int ret;

	for (size_t i = 0; i < u->n; i++)
		n += u->w[i].fetch;
	if (n == 0)
		return 0;
	if (mkdir(u->tmpdir, 0755) != 0 && errno != EEXIST)
		return dk_err_errno(err, "%s", u->tmpdir);
	if (!(it = calloc(n, sizeof(*it))))
		return dk_err_set(err, DK_ENOMEM, "out of memory");
	for (size_t i = 0; i < u->n; i++) {
		struct want *w = &u->w[i];
		size_t len = strlen(u->tmpdir) + 80;
		char *dest = dk_arena_alloc(&u->arena, len), *part = dk_arena_alloc(&u->arena, len);

		if (!w->fetch)
			continue;
		if (!dest || !part || !(it[k].url = url_of(u, w->filename))) {
			free(it);
			return dk_err_set(err, DK_ENOMEM, "out of memory");
		}
		/* The name ends in "-SHA256": dk_store_batch_commit takes an object's name from there. */
		snprintf(dest, len, "%s/deb-%s", u->tmpdir, w->sha256);
		snprintf(part, len, "%s/part-%s", u->tmpdir, w->sha256);
		w->dest = dest;
		it[k].dest = dest;
		it[k].partial = part;
		it[k].size = (int64_t)w->size;
		it[k].sha256 = w->sha256;
		u->st->bytes += w->size;
		k++;
	}
	u->phase = DK_MIRROR_PACKAGES;
	ret = run_fetch(u, it, n, err);
	u->st->debs = n;
	for (size_t i = 0; i < n; i++)
		u->st->reused += it[i].reused;
	dk_fetch_items_release(it, n);
	free(it);
	return ret;
}

/* A new row's .deb: its control must say what its index stanza says. */
static int check_deb(struct update *u, struct want *w, struct dk_err *err)
{
	char obj[4200];
	const char *path = w->dest;
	struct dk_debinfo info;
	struct stat st;
	void *map;
	int fd, ret;

	if (!path) {
		dk_store_path(u->r->root, w->sha256, obj, sizeof(obj));
		path = obj;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return dk_err_errno(err, "%s", path);
	if (fstat(fd, &st) != 0 || (uint64_t)st.st_size != w->size || st.st_size == 0) {
		close(fd);
		return dk_err_set(err, DK_EINPUT, "%s: %s: size is not %llu", w->filename, path,
				  (unsigned long long)w->size);
	}
	map = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return dk_err_errno(err, "%s: mmap", path);
	ret = dk_deb_read(w->filename, map, st.st_size, &info, err);
	munmap(map, st.st_size);
	if (ret < 0)
		return ret;
	if (strcmp(info.sha256, w->sha256) != 0)
		ret = dk_err_set(err, DK_EINPUT, "%s: SHA256 mismatch (index says %.16s..., got %.16s...)", w->filename,
				 w->sha256, info.sha256);
	else if (strcmp(info.name, w->name) || strcmp(info.version, w->version) || strcmp(info.arch, w->arch))
		ret = dk_err_set(err, DK_EINPUT, "%s: control says %s %s %s, its index stanza (%s) says %s %s %s",
				 w->filename, info.name, info.version, info.arch, w->where, w->name, w->version,
				 w->arch);
	else if (!w->md5 && !(w->md5 = dk_arena_strdup(&u->arena, info.md5)))
		ret = dk_err_set(err, DK_ENOMEM, "out of memory");
	dk_debinfo_release(&info);
	return ret;
}

static int step(struct update *u, sqlite3_stmt *s, struct dk_err *err)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return dk_db_error(&u->r->db, err, "mirror update");
	return 0;
}

enum { Q_COLL_GET, Q_COLL_ADD, Q_PKG_ADD, Q_MEMBERS_CLEAR, Q_MEMBER_PUT, Q_MIRROR_SET, Q_COUNT };

static const char *const update_sql[Q_COUNT] = {
	[Q_COLL_GET] = "SELECT id FROM collections WHERE name = ?1",
	[Q_COLL_ADD] = "INSERT INTO collections (name, created) VALUES (?1, ?2)",
	[Q_PKG_ADD] = "INSERT INTO packages (name, version, arch, source, source_version, size, sha256, md5,"
		      " filename, control, added) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
	[Q_MEMBERS_CLEAR] = "DELETE FROM collection_members WHERE collection_id = ?1",
	[Q_MEMBER_PUT] = "INSERT OR REPLACE INTO collection_members (collection_id, package_id, name, version, arch)"
			 " VALUES (?1, ?2, ?3, ?4, ?5)",
	[Q_MIRROR_SET] = "UPDATE mirrors SET updated = ?2, release_date = ?3, release_sha256 = ?4 WHERE name = ?1",
};

/* Hand the fetched files to the batch; on failure take them back, so they stay in tmp/ for the next run. */
static void batch_forget(struct dk_store_batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		free(b->tmp[i]);
		b->tmp[i] = NULL;
	}
}

static int record(struct update *u, const char *release_sha256, struct dk_err *err)
{
	struct dk_repo *r = u->r;
	struct dk_store_batch batch;
	sqlite3_stmt *s[Q_COUNT] = { 0 };
	char coll_name[100], stamp[32];
	long long coll = 0;
	size_t slot = 0;
	int ret;

	if ((ret = dk_store_batch_init(&batch, r->root, u->n, err)) < 0)
		return ret;
	for (size_t i = 0; i < u->n; i++) {
		if (!u->w[i].dest)
			continue;
		/* Objects are read-only; the fetcher made a file its owner may write. */
		if (chmod(u->w[i].dest, 0444) != 0) {
			ret = dk_err_errno(err, "%s", u->w[i].dest);
			goto out;
		}
		if (!(batch.tmp[slot++] = strdup(u->w[i].dest))) {
			ret = dk_err_set(err, DK_ENOMEM, "out of memory");
			goto out;
		}
	}
	for (int i = 0; i < Q_COUNT; i++)
		if ((ret = prepare(r, update_sql[i], &s[i], err)) < 0)
			goto out;
	snprintf(coll_name, sizeof(coll_name), "mirror/%s", u->m.name);
	now_utc(time(NULL), stamp, sizeof(stamp));
	if ((ret = dk_db_begin(&r->db, err)) < 0)
		goto out;
	bind_text(s[Q_COLL_GET], 1, coll_name);
	if (sqlite3_step(s[Q_COLL_GET]) == SQLITE_ROW)
		coll = sqlite3_column_int64(s[Q_COLL_GET], 0);
	sqlite3_reset(s[Q_COLL_GET]);
	if (!coll) {
		bind_text(s[Q_COLL_ADD], 1, coll_name);
		bind_text(s[Q_COLL_ADD], 2, stamp);
		if ((ret = step(u, s[Q_COLL_ADD], err)) < 0)
			goto out;
		coll = sqlite3_last_insert_rowid(r->db.h);
	}
	sqlite3_bind_int64(s[Q_MEMBERS_CLEAR], 1, coll);
	if ((ret = step(u, s[Q_MEMBERS_CLEAR], err)) < 0)
		goto out;
	for (size_t i = 0; i < u->n; i++) {
		struct want *w = &u->w[i];
		sqlite3_stmt *q = s[Q_PKG_ADD], *m = s[Q_MEMBER_PUT];

		if (!w->row) {
			bind_text(q, 1, w->name);
			bind_text(q, 2, w->version);
			bind_text(q, 3, w->arch);
			bind_text(q, 4, w->source);
			bind_text(q, 5, w->source_version);
			sqlite3_bind_int64(q, 6, (sqlite3_int64)w->size);
			bind_text(q, 7, w->sha256);
			bind_text(q, 8, w->md5);
			bind_text(q, 9, w->filename);
			bind_text(q, 10, w->control);
			bind_text(q, 11, stamp);
			if ((ret = step(u, q, err)) < 0)
				goto out;
			w->row = sqlite3_last_insert_rowid(r->db.h);
			u->st->new_rows++;
		}
		sqlite3_bind_int64(m, 1, coll);
		sqlite3_bind_int64(m, 2, w->row);
		bind_text(m, 3, w->name);
		bind_text(m, 4, w->version);
		bind_text(m, 5, w->arch);
		if ((ret = step(u, m, err)) < 0)
			goto out;
	}
	bind_text(s[Q_MIRROR_SET], 1, u->m.name);
	bind_text(s[Q_MIRROR_SET], 2, stamp);
	bind_text(s[Q_MIRROR_SET], 3, u->st->release_date[0] ? u->st->release_date : NULL);
	bind_text(s[Q_MIRROR_SET], 4, release_sha256);
	if ((ret = step(u, s[Q_MIRROR_SET], err)) < 0)
		goto out;
	if (u->m.with_sources && (ret = dk_sources_update_record(&u->su, r, u->m.name, stamp, u->sst, err)) < 0)
		goto out;
	/* Objects are durable before the rows that name them are. */
	if ((ret = dk_store_batch_commit(&batch, err)) < 0)
		goto out;
	ret = dk_db_commit(&r->db, err);
out:
	if (ret < 0) {
		dk_db_rollback(&r->db);
		batch_forget(&batch);
	}
	for (int i = 0; i < Q_COUNT; i++)
		sqlite3_finalize(s[i]);
	dk_store_batch_release(&batch);
	return ret;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void on_missing(void *ctx, const struct dk_source_ref *ref)
{
	struct update *u = ctx;

	u->sst->missing++;
	if (u->missing)
		u->missing(u->missing_ctx, ref);
}

/* The sources of what the update keeps: with a list, those its binaries name; else every one upstream. */
static int fetch_sources(struct update *u, const struct dk_relfile *rf, struct dk_err *err)
{
	struct dk_source_ref *refs = NULL;
	struct dk_sources_fetch f = { 0 };
	struct dk_fetch_opts fo;
	int ret;

	if (u->have_list) {
		if (!(refs = calloc(u->n + 1, sizeof(*refs))))
			return dk_err_set(err, DK_ENOMEM, "out of memory");
		for (size_t i = 0; i < u->n; i++)
			refs[i] = (struct dk_source_ref){ u->w[i].name, u->w[i].arch, u->w[i].source,
							  u->w[i].source_version };
	}
	fetch_opts(u, &fo);
	f.r = u->r;
	f.rf = rf;
	f.base = u->base;
	f.dists = u->dists;
	f.components = u->m.components;
	f.ncomponents = u->m.ncomponents;
	f.tmpdir = u->tmpdir;
	f.fo = &fo;
	f.refs = refs;
	f.nrefs = u->have_list ? u->n : 0;
	f.missing = on_missing;
	f.ctx = u;
	u->phase = DK_MIRROR_PACKAGES;
	ret = dk_sources_update_fetch(&u->su, &f, u->sst, err);
	free(refs);
	return ret;
}

int dk_mirror_update(struct dk_repo *r, const char *name, const struct dk_mirror_update_opts *o,
		     struct dk_mirror_stats *st, struct dk_err *err)
{
	struct update u = { 0 };
	struct dk_buf keyring = DK_BUF_INIT;
	struct dk_relfile rf = { 0 };
	char path[4096], sha[65], *text = NULL;
	unsigned char md[DK_HASH_MAX];
	size_t len = 0;
	struct timespec t0, t1;
	int ret;

	memset(st, 0, sizeof(*st));
	u.r = r;
	u.o = o;
	u.st = st;
	u.sst = &st->sources;
	u.missing = o->source_missing;
	u.missing_ctx = o->source_missing_ctx;
	if ((ret = migrate(r, err)) < 0 || (ret = dk_mirror_get(r, name, &u.m, err)) < 0)
		return ret;
	if (u.m.with_sources && (ret = dk_sources_migrate(r, err)) < 0)
		goto out;
	snprintf(u.base, sizeof(u.base), "%s", u.m.url);
	while (*u.base && u.base[strlen(u.base) - 1] == '/')
		u.base[strlen(u.base) - 1] = '\0';
	snprintf(u.dists, sizeof(u.dists), "dists/%s", u.m.suite);
	if ((size_t)snprintf(u.tmpdir, sizeof(u.tmpdir), "%s/tmp/mirror-%s", r->root, name) >= sizeof(u.tmpdir)) {
		ret = dk_err_set(err, DK_EINPUT, "%s: path too long", r->root);
		goto out;
	}
	if (u.m.list) {
		if ((ret = dk_pkglist_load_mem(&u.list, u.m.list, strlen(u.m.list), "list", err)) < 0)
			goto out;
		u.have_list = true;
	}
	if ((ret = keyring_path(r->root, name, path, sizeof(path), err)) < 0 ||
	    (ret = read_small(path, KEYRING_MAX, &keyring, err)) < 0)
		goto out;
	if ((ret = fetch_release(&u, keyring.data, keyring.len, &text, &len, err)) < 0)
		goto out;
	if ((ret = dk_relfile_parse(&rf, text, len, u.dists, err)) < 0 ||
	    (ret = dk_relfile_check(&rf, u.dists, u.m.suite, u.m.archs, u.m.narchs, u.m.components,
				    u.m.ncomponents, o->now ? o->now : time(NULL), err)) < 0)
		goto out;
	if (rf.date)
		now_utc(rf.date, st->release_date, sizeof(st->release_date));
	if ((ret = dk_hash_mem(DK_SHA256, text, len, md, err)) < 0)
		goto out;
	dk_hex(md, 32, sha);
	if ((ret = indices(&u, &rf, err)) < 0)
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = known(&u, err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	st->index_seconds += (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (ret < 0 || (ret = fetch_debs(&u, err)) < 0)
		goto out;
	if (u.m.with_sources && (ret = fetch_sources(&u, &rf, err)) < 0)
		goto out;
	for (size_t i = 0; i < u.n; i++)
		if (!u.w[i].row && (ret = check_deb(&u, &u.w[i], err)) < 0)
			goto out;
	if ((ret = record(&u, sha, err)) < 0)
		goto out;
	st->packages = u.n;
	nftw(u.tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
out:
	free(text);
	dk_relfile_release(&rf);
	dk_buf_release(&keyring);
	if (u.have_list)
		dk_pkglist_release(&u.list);
	dk_map_release(&u.by_sha);
	dk_sources_update_release(&u.su);
	free(u.w);
	dk_arena_release(&u.arena);
	dk_mirror_release(&u.m);
	return ret;
}
