/* publish.c - apt repository trees: Packages indices, Release files, by-hash, pool links, atomic switch */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include <debkeep/buf.h>
#include <debkeep/deb822.h>
#include <debkeep/fs.h>
#include <debkeep/hash.h>
#include <debkeep/publish.h>
#include <debkeep/sources.h>
#include <debkeep/version.h>

#include "banned.h"

/* One file listed in the suite's Release: its path under dists/SUITE and its digests. */
struct index_entry {
	char path[256];
	uint64_t size;
	char md5[33];
	char sha256[65];
};

struct publisher {
	const char *suite;
	const struct dk_publish_opts *opts;
	char stage[PATH_MAX]; /* the new dists/SUITE, under the staging directory */
	struct index_entry *entries;
	size_t nentries, capentries;
	const char **archs, **comps;
	size_t narchs, ncomps;
	const struct dk_publish_source *srcs;
	size_t nsrcs;
};

static int path_join(char *out, size_t n, struct dk_err *err, const char *fmt, ...) DK_PRINTF(4, 5);

static int path_join(char *out, size_t n, struct dk_err *err, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(out, n, fmt, ap);
	va_end(ap);
	if (r < 0 || (size_t)r >= n)
		return dk_err_set(err, DK_EINPUT, "path too long: %.80s...", out);
	return 0;
}

/* A relative path that stays where it is put: no empty, "." or ".." components, no leading '/'. */
static bool safe_relpath(const char *p)
{
	const char *s = p;

	if (!*p)
		return false;
	for (;;) {
		size_t len = strcspn(s, "/");

		if (len == 0 || (len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
			return false;
		if (!s[len])
			return true;
		s += len + 1;
	}
}

static int mkdir_p(const char *path, struct dk_err *err)
{
	char tmp[PATH_MAX];
	size_t len = strlen(path);

	if (len >= sizeof(tmp))
		return dk_err_set(err, DK_EINPUT, "path too long: %.80s...", path);
	memcpy(tmp, path, len + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return dk_err_errno(err, "mkdir %s", tmp);
		*p = '/';
	}
	if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
		return dk_err_errno(err, "mkdir %s", tmp);
	return 0;
}

static int parent_dir(const char *path, struct dk_err *err)
{
	char tmp[PATH_MAX];
	char *slash;

	if (strlen(path) >= sizeof(tmp))
		return dk_err_set(err, DK_EINPUT, "path too long: %.80s...", path);
	memcpy(tmp, path, strlen(path) + 1);
	slash = strrchr(tmp, '/');
	if (!slash || slash == tmp)
		return 0;
	*slash = '\0';
	return mkdir_p(tmp, err);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static int rm_rf(const char *path)
{
	return nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int write_file(const char *path, const void *data, size_t len, struct dk_err *err)
{
	int r;

	if ((r = parent_dir(path, err)) < 0)
		return r;
	return dk_write_file_atomic(path, data, len, 0644, err);
}

/*
 * Hard link src at dst, or copy it when they are on different file systems; an identical dst is fine.
 * *made says whether dst is new, so a publish that fails later can take it back.
 */
static int link_or_copy(const char *src, const char *dst, bool *made, struct dk_err *err)
{
	struct stat a, b;
	char tmp[PATH_MAX];
	char chunk[65536];
	int in, out, r = 0;
	ssize_t got;

	*made = false;
	if (link(src, dst) == 0) {
		*made = true;
		return 0;
	}
	if (errno == EEXIST) {
		if (stat(src, &a) < 0)
			return dk_err_errno(err, "stat %s", src);
		if (stat(dst, &b) < 0)
			return dk_err_errno(err, "stat %s", dst);
		/* Pool files are additive and named by version: a different size is another package's file. */
		if ((a.st_dev == b.st_dev && a.st_ino == b.st_ino) || a.st_size == b.st_size)
			return 0;
		return dk_err_set(err, DK_EINPUT, "%s: already published with different content", dst);
	}
	if (errno != EXDEV && errno != EPERM)
		return dk_err_errno(err, "link %s", dst);
	if ((r = path_join(tmp, sizeof(tmp), err, "%s.tmp-%ld", dst, (long)getpid())) < 0)
		return r;
	if ((in = open(src, O_RDONLY | O_CLOEXEC)) < 0)
		return dk_err_errno(err, "open %s", src);
	if ((out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
		close(in);
		return dk_err_errno(err, "open %s", tmp);
	}
	while ((got = read(in, chunk, sizeof(chunk))) > 0) {
		if (write(out, chunk, (size_t)got) != got) {
			r = dk_err_errno(err, "write %s", tmp);
			break;
		}
	}
	if (got < 0)
		r = dk_err_errno(err, "read %s", src);
	close(in);
	if (close(out) < 0 && r == 0)
		r = dk_err_errno(err, "close %s", tmp);
	if (r == 0 && rename(tmp, dst) < 0)
		r = dk_err_errno(err, "rename %s", dst);
	if (r < 0)
		unlink(tmp);
	*made = r == 0;
	return r;
}

static la_ssize_t buf_writer(struct archive *a, void *data, const void *p, size_t n)
{
	(void)a;
	return dk_buf_add(data, p, n) < 0 ? -1 : (la_ssize_t)n;
}

/*
 * Compress in with libarchive's raw format; gzip without a time stamp, so the bytes depend on in only.
 * xz at level 0: on a 20,000-package index level 6 took 4 s of the publish's 5 and saved a fifth of
 * the size; level 0 takes 0.25 s and is still 8% smaller than gzip -9.
 */
static int compress(const struct dk_buf *in, int filter, struct dk_buf *out, struct dk_err *err)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = NULL;
	int r = 0;

	if (!a)
		return dk_err_set(err, DK_ENOMEM, "archive_write_new");
	if (archive_write_add_filter(a, filter) != ARCHIVE_OK || archive_write_set_format_raw(a) != ARCHIVE_OK ||
	    (filter == ARCHIVE_FILTER_GZIP && archive_write_set_filter_option(a, "gzip", "timestamp", NULL)) ||
	    (filter == ARCHIVE_FILTER_XZ && archive_write_set_filter_option(a, "xz", "compression-level", "0")) ||
	    archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
	    archive_write_open(a, out, NULL, buf_writer, NULL) != ARCHIVE_OK) {
		r = dk_err_set(err, DK_EINTERNAL, "compressing Packages: %s", archive_error_string(a));
		goto out;
	}
	e = archive_entry_new();
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_size(e, (la_int64_t)in->len);
	if (archive_write_header(a, e) != ARCHIVE_OK ||
	    (in->len && archive_write_data(a, in->data, in->len) != (la_ssize_t)in->len) ||
	    archive_write_close(a) != ARCHIVE_OK)
		r = dk_err_set(err, DK_EIO, "compressing Packages: %s", archive_error_string(a));
out:
	if (e)
		archive_entry_free(e);
	archive_write_free(a);
	if (r == 0)
		r = dk_buf_check(out, err, "compressed Packages");
	return r;
}

/*
 * Write rel (under dists/SUITE) with its by-hash copies (hard links in the same directory's
 * by-hash/), and remember its digests for the suite's Release.
 */
static int put_index(struct publisher *pb, const char *rel, const struct dk_buf *data, bool by_hash,
		     struct dk_err *err)
{
	static const enum dk_hash_algo algos[] = { DK_MD5, DK_SHA256 };
	char path[PATH_MAX], hpath[PATH_MAX];
	unsigned char digest[DK_HASH_MAX];
	struct index_entry *e;
	int r;

	if (pb->nentries == pb->capentries) {
		size_t cap = pb->capentries ? 2 * pb->capentries : 16;
		struct index_entry *n = realloc(pb->entries, cap * sizeof(*n));

		if (!n)
			return dk_err_set(err, DK_ENOMEM, "out of memory");
		pb->entries = n;
		pb->capentries = cap;
	}
	e = &pb->entries[pb->nentries];
	if (strlen(rel) >= sizeof(e->path))
		return dk_err_set(err, DK_EINPUT, "index path too long: %s", rel);
	memcpy(e->path, rel, strlen(rel) + 1);
	e->size = data->len;
	for (size_t i = 0; i < 2; i++) {
		if ((r = dk_hash_mem(algos[i], data->data, data->len, digest, err)) < 0)
			return r;
		dk_hex(digest, dk_hash_size(algos[i]), i == 0 ? e->md5 : e->sha256);
	}
	pb->nentries++;
	if ((r = path_join(path, sizeof(path), err, "%s/%s", pb->stage, rel)) < 0 ||
	    (r = write_file(path, data->data, data->len, err)) < 0)
		return r;
	if (!by_hash)
		return 0;
	for (size_t i = 0; i < 2; i++) {
		const char *dir = strrchr(rel, '/');
		int dlen = dir ? (int)(dir - rel) : 0;

		if ((r = path_join(hpath, sizeof(hpath), err, "%s/%.*s%sby-hash/%s/%s", pb->stage, dlen, rel,
				   dir ? "/" : "", dk_hash_name(algos[i]), i == 0 ? e->md5 : e->sha256)) < 0 ||
		    (r = parent_dir(hpath, err)) < 0)
			return r;
		if (link(path, hpath) < 0 && errno != EEXIST)
			return dk_err_errno(err, "link %s", hpath);
	}
	return 0;
}

static int cmp_pkg(const void *a, const void *b)
{
	const struct dk_publish_pkg *x = *(const struct dk_publish_pkg *const *)a;
	const struct dk_publish_pkg *y = *(const struct dk_publish_pkg *const *)b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	if ((c = dk_version_cmp_str(x->version, strlen(x->version), y->version, strlen(y->version))))
		return c;
	return strcmp(x->arch, y->arch);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static size_t count(const char *const *v)
{
	size_t k = 0;

	while (v && v[k])
		k++;
	return k;
}

/* The distinct values of a string list (sorted), or the given list when there is one. */
static int collect(const char **out, size_t *nout, const char *const *given, const struct dk_publish_pkg *pkgs,
		   size_t n, bool comp, struct dk_err *err)
{
	size_t k = 0;

	if (given) {
		for (; given[k]; k++)
			out[k] = given[k];
		*nout = k;
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		const char *v = comp ? pkgs[i].component : pkgs[i].arch;
		bool seen = false;

		if (!comp && strcmp(v, "all") == 0)
			continue;
		for (size_t j = 0; j < k && !seen; j++)
			seen = strcmp(out[j], v) == 0;
		if (!seen)
			out[k++] = v;
	}
	qsort(out, k, sizeof(*out), cmp_str);
	*nout = k;
	if (k == 0)
		return dk_err_set(err, DK_EINPUT, "no %s to publish", comp ? "components" : "architectures");
	return 0;
}

/* RFC 2822 in UTC, spelled out here so the C library's locale cannot change a Release file. */
static void rfc2822(time_t t, char *out, size_t n)
{
	static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, n, "%s, %02d %s %04d %02d:%02d:%02d UTC", days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
		 tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

struct xz_job {
	const struct dk_buf *in;
	struct dk_buf out;
	struct dk_err err;
	int r;
};

static void *xz_thread(void *arg)
{
	struct xz_job *j = arg;

	j->r = compress(j->in, ARCHIVE_FILTER_XZ, &j->out, &j->err);
	return NULL;
}

/*
 * One component's indices. Packages.xz, the longest part of a publish, is made on a second thread
 * while this one makes Packages.gz and writes and hashes Packages and Packages.gz; errors are reported
 * in the order the steps had when they ran one after the other (gzip, xz, then the writes).
 */
/* gzip here and xz on a second thread, for an index written whole (Sources). */
static int compress_both(const struct dk_buf *in, struct dk_buf *gz, struct dk_buf *xz, struct dk_err *err)
{
	struct xz_job j = { .in = in, .out = DK_BUF_INIT, .err = DK_ERR_INIT };
	pthread_t t;
	bool threaded = pthread_create(&t, NULL, xz_thread, &j) == 0;
	int r = compress(in, ARCHIVE_FILTER_GZIP, gz, err);

	if (threaded)
		pthread_join(t, NULL);
	else
		xz_thread(&j);
	if (r == 0 && j.r < 0) {
		r = j.r;
		if (err)
			*err = j.err;
	}
	*xz = j.out;
	return r;
}

static int write_component(struct publisher *pb, const char *comp, const char *arch,
			   const struct dk_publish_pkg *const *sorted, size_t n, struct dk_err *err)
{
	struct dk_buf pk = DK_BUF_INIT, gz = DK_BUF_INIT, rel = DK_BUF_INIT;
	struct xz_job xz = { .in = &pk, .out = DK_BUF_INIT, .err = DK_ERR_INIT };
	bool threaded = false, compressed = false;
	char name[256];
	pthread_t t;
	int r;

	for (size_t i = 0; i < n; i++) {
		const struct dk_publish_pkg *p = sorted[i];
		size_t clen = p->control_len;

		if (strcmp(p->component, comp) != 0 || (strcmp(p->arch, arch) != 0 && strcmp(p->arch, "all") != 0))
			continue;
		while (clen && p->control[clen - 1] == '\n')
			clen--;
		dk_buf_add(&pk, p->control, clen);
		dk_buf_addf(&pk, "\nFilename: %s\nSize: %llu\nMD5sum: %s\nSHA256: %s\n\n", p->pool_path,
			    (unsigned long long)p->size, p->md5, p->sha256);
	}
	dk_buf_addf(&rel, "Archive: %s\nOrigin: %s\nLabel: %s\nAcquire-By-Hash: yes\nComponent: %s\n"
		    "Architecture: %s\n", pb->suite, pb->opts->origin ? pb->opts->origin : "debkeep",
		    pb->opts->label ? pb->opts->label : pb->opts->origin ? pb->opts->origin : "debkeep", comp, arch);
	if ((r = dk_buf_check(&pk, err, "Packages")) < 0 || (r = dk_buf_check(&rel, err, "Release")) < 0)
		goto out;
	threaded = pthread_create(&t, NULL, xz_thread, &xz) == 0;
	if ((r = compress(&pk, ARCHIVE_FILTER_GZIP, &gz, err)) < 0)
		goto out;
	compressed = true;
	if ((r = path_join(name, sizeof(name), err, "%s/binary-%s/Packages", comp, arch)) == 0 &&
	    (r = put_index(pb, name, &pk, true, err)) == 0 &&
	    (r = path_join(name, sizeof(name), err, "%s/binary-%s/Packages.gz", comp, arch)) == 0)
		r = put_index(pb, name, &gz, true, err);
out:
	if (threaded)
		pthread_join(t, NULL);
	else if (compressed)
		xz_thread(&xz);
	if (compressed && xz.r < 0) {
		r = xz.r;
		if (err)
			*err = xz.err;
	}
	if (r == 0 && (r = path_join(name, sizeof(name), err, "%s/binary-%s/Packages.xz", comp, arch)) == 0 &&
	    (r = put_index(pb, name, &xz.out, true, err)) == 0 &&
	    (r = path_join(name, sizeof(name), err, "%s/binary-%s/Release", comp, arch)) == 0)
		r = put_index(pb, name, &rel, true, err);
	dk_buf_release(&pk);
	dk_buf_release(&gz);
	dk_buf_release(&xz.out);
	dk_buf_release(&rel);
	return r;
}

static void add_list(struct dk_buf *b, const char *field, const char **v, size_t n)
{
	dk_buf_addf(b, "%s:", field);
	for (size_t i = 0; i < n; i++)
		dk_buf_addf(b, " %s", v[i]);
	dk_buf_addc(b, '\n');
}

static int write_release(struct publisher *pb, struct dk_err *err)
{
	const struct dk_publish_opts *o = pb->opts;
	struct dk_buf rel = DK_BUF_INIT;
	char date[64], path[PATH_MAX];
	char *inrel = NULL, *sig = NULL;
	size_t inrel_len = 0, sig_len = 0;
	int r;

	rfc2822(o->date, date, sizeof(date));
	dk_buf_addf(&rel, "Origin: %s\nLabel: %s\nSuite: %s\nCodename: %s\nDate: %s\n",
		    o->origin ? o->origin : "debkeep", o->label ? o->label : o->origin ? o->origin : "debkeep",
		    pb->suite, o->codename ? o->codename : pb->suite, date);
	if (o->valid_until) {
		rfc2822(o->valid_until, date, sizeof(date));
		dk_buf_addf(&rel, "Valid-Until: %s\n", date);
	}
	add_list(&rel, "Architectures", pb->archs, pb->narchs);
	add_list(&rel, "Components", pb->comps, pb->ncomps);
	dk_buf_adds(&rel, "Acquire-By-Hash: yes\nMD5Sum:\n");
	for (size_t i = 0; i < pb->nentries; i++)
		dk_buf_addf(&rel, " %s %16llu %s\n", pb->entries[i].md5, (unsigned long long)pb->entries[i].size,
			    pb->entries[i].path);
	dk_buf_adds(&rel, "SHA256:\n");
	for (size_t i = 0; i < pb->nentries; i++)
		dk_buf_addf(&rel, " %s %16llu %s\n", pb->entries[i].sha256,
			    (unsigned long long)pb->entries[i].size, pb->entries[i].path);
	if ((r = dk_buf_check(&rel, err, "Release")) < 0 ||
	    (r = path_join(path, sizeof(path), err, "%s/Release", pb->stage)) < 0 ||
	    (r = write_file(path, rel.data, rel.len, err)) < 0)
		goto out;
	if (!o->sign_key)
		goto out;
	if ((r = dk_sign_release(rel.data, rel.len, o->sign_key, o->gnupghome, &inrel, &inrel_len, &sig, &sig_len,
				 err)) < 0)
		goto out;
	if ((r = path_join(path, sizeof(path), err, "%s/InRelease", pb->stage)) < 0 ||
	    (r = write_file(path, inrel, inrel_len, err)) < 0 ||
	    (r = path_join(path, sizeof(path), err, "%s/Release.gpg", pb->stage)) < 0)
		goto out;
	r = write_file(path, sig, sig_len, err);
out:
	free(inrel);
	free(sig);
	dk_buf_release(&rel);
	return r;
}

/*
 * Carry the live tree's current indices over by hash, so a client holding the previous InRelease can
 * still fetch what it names after the switch. Only the previous generation (files that are links of
 * the live indices) is kept, so by-hash/ does not grow with every publish. A missing old tree is the
 * first publish.
 */
static int keep_old_by_hash(const char *live, const char *stage, const char *dir, const char *algo,
			    struct dk_err *err)
{
	static const char *const names[] = { "Packages", "Packages.gz", "Packages.xz", "Release",
					     "Sources",  "Sources.gz",  "Sources.xz" };
	char hdir[PATH_MAX], src[PATH_MAX], dst[PATH_MAX];
	ino_t current[7] = { 0 };
	struct dirent *d;
	struct stat st;
	DIR *dp;
	int r = 0;

	for (size_t i = 0; i < 7; i++) {
		if ((r = path_join(src, sizeof(src), err, "%s/%s/%s", live, dir, names[i])) < 0)
			return r;
		if (stat(src, &st) == 0)
			current[i] = st.st_ino;
	}
	if ((r = path_join(hdir, sizeof(hdir), err, "%s/%s/by-hash/%s", live, dir, algo)) < 0)
		return r;
	if (!(dp = opendir(hdir)))
		return 0;
	while ((d = readdir(dp)) && r == 0) {
		bool cur = false;

		if (d->d_name[0] == '.')
			continue;
		if ((r = path_join(src, sizeof(src), err, "%s/%s", hdir, d->d_name)) < 0 ||
		    (r = path_join(dst, sizeof(dst), err, "%s/%s/by-hash/%s/%s", stage, dir, algo, d->d_name)) < 0)
			break;
		if (lstat(src, &st) < 0)
			continue;
		for (size_t i = 0; i < 7; i++)
			cur |= current[i] && st.st_ino == current[i];
		if (!cur)
			continue;
		if ((r = parent_dir(dst, err)) < 0)
			break;
		if (link(src, dst) < 0 && errno != EEXIST)
			r = dk_err_errno(err, "link %s", dst);
	}
	closedir(dp);
	return r;
}

static int carry_by_hash(struct publisher *pb, const char *live, struct dk_err *err)
{
	static const char *const algos[] = { "MD5Sum", "SHA256" };
	char rel[PATH_MAX];
	int r;

	for (size_t c = 0; c < pb->ncomps; c++)
		for (size_t a = 0; a < pb->narchs; a++)
			for (size_t h = 0; h < 2; h++)
				if ((r = path_join(rel, sizeof(rel), err, "%s/binary-%s", pb->comps[c],
						   pb->archs[a])) < 0 ||
				    (r = keep_old_by_hash(live, pb->stage, rel, algos[h], err)) < 0)
					return r;
	for (size_t c = 0; c < pb->ncomps && pb->nsrcs; c++)
		for (size_t h = 0; h < 2; h++)
			if ((r = path_join(rel, sizeof(rel), err, "%s/source", pb->comps[c])) < 0 ||
			    (r = keep_old_by_hash(live, pb->stage, rel, algos[h], err)) < 0)
				return r;
	return 0;
}

/* COMPONENT/source/: the Sources index (text from sources.c) and its compressed copies, as for binaries. */
static int write_sources(struct publisher *pb, const char *comp, struct dk_err *err)
{
	static const char *const names[] = { "Sources", "Sources.gz", "Sources.xz", "Release" };
	struct dk_buf b[4] = { DK_BUF_INIT, DK_BUF_INIT, DK_BUF_INIT, DK_BUF_INIT };
	char name[256];
	int r;

	dk_buf_addf(&b[3], "Archive: %s\nOrigin: %s\nLabel: %s\nAcquire-By-Hash: yes\nComponent: %s\n"
		    "Architecture: source\n", pb->suite, pb->opts->origin ? pb->opts->origin : "debkeep",
		    pb->opts->label ? pb->opts->label : pb->opts->origin ? pb->opts->origin : "debkeep", comp);
	if ((r = dk_sources_index_text(pb->srcs, pb->nsrcs, comp, &b[0], err)) < 0 ||
	    (r = dk_buf_check(&b[3], err, "Release")) < 0 || (r = compress_both(&b[0], &b[1], &b[2], err)) < 0)
		goto out;
	for (size_t i = 0; i < 4 && r == 0; i++)
		if ((r = path_join(name, sizeof(name), err, "%s/source/%s", comp, names[i])) == 0)
			r = put_index(pb, name, &b[i], true, err);
out:
	for (size_t i = 0; i < 4; i++)
		dk_buf_release(&b[i]);
	return r;
}

/* Put the staged tree at live: a plain rename the first time, else an exchange, then drop the old tree. */
static int switch_in(const char *stage, const char *live, struct dk_err *err)
{
	int r;

	if ((r = parent_dir(live, err)) < 0)
		return r;
	if (renameat2(AT_FDCWD, stage, AT_FDCWD, live, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EEXIST)
		return dk_err_errno(err, "rename %s", live);
	if (renameat2(AT_FDCWD, stage, AT_FDCWD, live, RENAME_EXCHANGE) < 0)
		return dk_err_errno(err, "exchange %s", live);
	return 0;
}

/*
 * The pool directory of the links being made, kept open: consecutive packages mostly share one (the
 * list is sorted by name, and a source's binaries sit together), and a link or stat relative to it
 * walks one path component instead of the whole tree's path.
 */
struct pool_dir {
	char rel[PATH_MAX];
	int fd;
};

static int pool_dir_open(struct pool_dir *d, const char *tree, const char *pool_path, struct dk_err *err)
{
	const char *slash = strrchr(pool_path, '/');
	size_t len = (size_t)(slash - pool_path);
	char path[PATH_MAX];
	int r;

	if (d->fd >= 0 && strlen(d->rel) == len && !memcmp(d->rel, pool_path, len))
		return 0;
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
	if ((r = path_join(path, sizeof(path), err, "%s/%.*s", tree, (int)len, pool_path)) < 0)
		return r;
	if ((d->fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 && (r = mkdir_p(path, err)) == 0)
		d->fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (r < 0)
		return r;
	if (d->fd < 0)
		return dk_err_errno(err, "open %s", path);
	memcpy(d->rel, pool_path, len);
	d->rel[len] = '\0';
	return 0;
}

/*
 * Link one pool file in d. *existing says what the last package found, so a publish over a pool that
 * holds most files already starts with the stat calls (a file there is the package's by the rule of
 * link_or_copy) instead of a failed link, and a first publish starts with the link. Whatever else
 * happens (another file system, other content, an error) goes through link_or_copy and its messages.
 */
static int pool_link(struct pool_dir *d, const char *tree, const struct dk_publish_pkg *p, bool *made,
		     bool *existing, struct dk_err *err)
{
	const char *base = strrchr(p->pool_path, '/') + 1;
	char dst[PATH_MAX];
	struct stat a, b;
	int r;

	*made = false;
	if (*existing && fstatat(d->fd, base, &b, 0) == 0 && stat(p->object_path, &a) == 0 &&
	    ((a.st_dev == b.st_dev && a.st_ino == b.st_ino) || a.st_size == b.st_size))
		return 0;
	if (linkat(AT_FDCWD, p->object_path, d->fd, base, 0) == 0) {
		*made = true;
		*existing = false;
		return 0;
	}
	*existing = errno == EEXIST;
	if ((r = path_join(dst, sizeof(dst), err, "%s/%s", tree, p->pool_path)) < 0)
		return r;
	return link_or_copy(p->object_path, dst, made, err);
}

static int link_pool(const char *tree, const struct dk_publish_pkg *pkgs, size_t n, bool *made, struct dk_err *err)
{
	struct pool_dir d = { .fd = -1 };
	bool existing = false;
	int r = 0;

	for (size_t i = 0; i < n && r == 0; i++) {
		if (!safe_relpath(pkgs[i].pool_path) || strncmp(pkgs[i].pool_path, "pool/", 5) != 0)
			r = dk_err_set(err, DK_EINPUT, "%s: pool path must be a relative path under pool/",
				       pkgs[i].pool_path);
		else if ((r = pool_dir_open(&d, tree, pkgs[i].pool_path, err)) == 0)
			r = pool_link(&d, tree, &pkgs[i], &made[i], &existing, err);
	}
	if (d.fd >= 0)
		close(d.fd);
	return r;
}

struct link_job {
	const char *tree;
	const struct dk_publish_pkg *pkgs;
	size_t n;
	bool *made;
	struct dk_err err;
	int r;
};

static void *link_thread(void *arg)
{
	struct link_job *j = arg;

	j->r = link_pool(j->tree, j->pkgs, j->n, j->made, &j->err);
	return NULL;
}

/* A failed publish takes back the pool files it added and the directories that held only them. */
static void unlink_pool(const char *tree, const struct dk_publish_pkg *pkgs, size_t n, const bool *made)
{
	char dst[PATH_MAX];

	for (size_t i = 0; i < n; i++) {
		char *slash;

		if (!made[i] || path_join(dst, sizeof(dst), NULL, "%s/%s", tree, pkgs[i].pool_path) < 0)
			continue;
		unlink(dst);
		while ((slash = strrchr(dst, '/')) && slash >= dst + strlen(tree) && rmdir((*slash = '\0', dst)) == 0)
			;
	}
	if (path_join(dst, sizeof(dst), NULL, "%s/dists", tree) == 0)
		rmdir(dst);
	rmdir(tree);
}

/* The new dists/SUITE in staging: each component's indices, Release (signed), the previous by-hash files. */
static int stage_suite(struct publisher *pb, char *staging, bool *staged, const char *live,
		       const struct dk_publish_pkg *const *sorted, size_t n, struct dk_err *err)
{
	int r;

	if (!mkdtemp(staging))
		return dk_err_errno(err, "mkdtemp %s", staging);
	*staged = true;
	if ((r = path_join(pb->stage, sizeof(pb->stage), err, "%s/suite", staging)) < 0 ||
	    (r = mkdir_p(pb->stage, err)) < 0)
		return r;
	for (size_t c = 0; c < pb->ncomps; c++)
		for (size_t a = 0; a < pb->narchs; a++)
			if ((r = write_component(pb, pb->comps[c], pb->archs[a], sorted, n, err)) < 0)
				return r;
	for (size_t c = 0; c < pb->ncomps && pb->nsrcs; c++)
		if ((r = write_sources(pb, pb->comps[c], err)) < 0)
			return r;
	if ((r = write_release(pb, err)) < 0)
		return r;
	return carry_by_hash(pb, live, err);
}

/* The source files as pool entries only (pool_path, object_path), so link_pool and unlink_pool serve them too. */
static struct dk_publish_pkg *source_pool(const struct dk_publish_source *srcs, size_t nsrcs, size_t *n)
{
	struct dk_publish_pkg *v;
	size_t k = 0;

	*n = 0;
	for (size_t i = 0; i < nsrcs; i++)
		*n += srcs[i].nfiles;
	if (!(v = calloc(*n + 1, sizeof(*v))))
		return NULL;
	for (size_t i = 0; i < nsrcs; i++)
		for (size_t j = 0; j < srcs[i].nfiles; j++) {
			v[k].pool_path = srcs[i].files[j].pool_path;
			v[k++].object_path = srcs[i].files[j].object_path;
		}
	return v;
}

int dk_publish(const char *public_root, const char *prefix, const char *suite, const struct dk_publish_pkg *pkgs,
	       size_t n, const struct dk_publish_opts *opts, struct dk_err *err)
{
	const struct dk_publish_source *srcs = opts->sources;
	size_t nsrcs = opts->nsources;
	struct publisher pb = { .suite = suite, .opts = opts, .srcs = srcs, .nsrcs = nsrcs };
	const struct dk_publish_pkg **sorted = NULL;
	struct dk_publish_pkg *spool = NULL;
	char tree[PATH_MAX], staging[PATH_MAX], live[PATH_MAX];
	bool staged = false, switched = false, linking, *made = NULL, *smade = NULL;
	struct link_job lj = { .tree = tree, .pkgs = pkgs, .n = n, .err = DK_ERR_INIT };
	size_t nspool = 0;
	pthread_t linker;
	int r;

	if (prefix && *prefix && strcmp(prefix, ".") != 0 && !safe_relpath(prefix))
		return dk_err_set(err, DK_EINPUT, "prefix '%s': not a plain relative path", prefix);
	if (!safe_relpath(suite))
		return dk_err_set(err, DK_EINPUT, "suite '%s': not a plain relative path", suite);
	for (size_t i = 0; i < n; i++)
		if (!pkgs[i].name || !pkgs[i].version || !pkgs[i].arch || !pkgs[i].component ||
		    !safe_relpath(pkgs[i].component) || strchr(pkgs[i].arch, '/'))
			return dk_err_set(err, DK_EINPUT, "package %zu: missing or bad name, version, arch or component",
					  i);
	if ((r = path_join(tree, sizeof(tree), err, "%s/%s", public_root,
			   prefix && *prefix ? prefix : ".")) < 0 ||
	    (r = path_join(live, sizeof(live), err, "%s/dists/%s", tree, suite)) < 0 ||
	    (r = path_join(staging, sizeof(staging), err, "%s/.staging-%ld-XXXXXX", public_root, (long)getpid())) < 0 ||
	    (r = mkdir_p(tree, err)) < 0)
		return r;
	pb.archs = calloc(n + 1 + count(opts->architectures), sizeof(char *));
	pb.comps = calloc(n + nsrcs + 1 + count(opts->components), sizeof(char *));
	sorted = calloc(n + 1, sizeof(*sorted));
	made = calloc(n + 1, sizeof(*made));
	spool = source_pool(srcs, nsrcs, &nspool);
	smade = calloc(nspool + 1, sizeof(*smade));
	if (!pb.archs || !pb.comps || !sorted || !made || !spool || !smade) {
		r = dk_err_set(err, DK_ENOMEM, "out of memory");
		goto out;
	}
	lj.made = made;
	if ((r = collect(pb.archs, &pb.narchs, opts->architectures, pkgs, n, false, err)) < 0 ||
	    (r = collect(pb.comps, &pb.ncomps, opts->components, pkgs, n, true, err)) < 0)
		goto out;
	for (size_t i = 0; i < nsrcs; i++) {
		bool seen = false;

		if (!srcs[i].component || !safe_relpath(srcs[i].component)) {
			r = dk_err_set(err, DK_EINPUT, "source %s: missing or bad component", srcs[i].name);
			goto out;
		}
		for (size_t c = 0; c < pb.ncomps && !seen; c++)
			seen = !strcmp(pb.comps[c], srcs[i].component);
		if (!seen)
			pb.comps[pb.ncomps++] = srcs[i].component;
	}
	for (size_t i = 0; i < n; i++)
		sorted[i] = &pkgs[i];
	qsort(sorted, n, sizeof(*sorted), cmp_pkg);
	/*
	 * The pool links on a thread of their own while the indices are written: the links are a fifth of
	 * a publish's time and the compressions most of the rest. The switch waits for both, so the new
	 * indices still never name a file that is not there yet; a failed link is reported before an index
	 * error, as when the links came first. The few source files are linked before, here.
	 */
	if ((r = link_pool(tree, spool, nspool, smade, err)) < 0)
		goto out;
	linking = pthread_create(&linker, NULL, link_thread, &lj) == 0;
	if (!linking && (r = link_pool(tree, pkgs, n, made, err)) < 0)
		goto out;
	r = stage_suite(&pb, staging, &staged, live, sorted, n, err);
	if (linking) {
		pthread_join(linker, NULL);
		if (lj.r < 0) {
			r = lj.r;
			if (err)
				*err = lj.err;
		}
	}
	if (r < 0 || (r = switch_in(pb.stage, live, err)) < 0)
		goto out;
	switched = true;
out:
	if (!switched && smade)
		unlink_pool(tree, spool, nspool, smade);
	if (!switched && made)
		unlink_pool(tree, pkgs, n, made);
	free(made);
	free(smade);
	free(spool);
	if (staged)
		rm_rf(staging);
	free(pb.entries);
	free(pb.archs);
	free(pb.comps);
	free(sorted);
	return r;
}

/* The pool files a suite's indices name: "pool/..." strings, sorted for bsearch. */
struct names {
	char **v;
	size_t n, cap;
};

static int names_add(struct names *s, const char *p, size_t len)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 256;
		char **v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	if (!(s->v[s->n] = strndup(p, len)))
		return -1;
	s->n++;
	return 0;
}

static void names_release(struct names *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static int names_add_cb(void *ctx, const char *p, size_t len)
{
	return names_add(ctx, p, len);
}

/* The Filename lines of an uncompressed Packages file (by-hash copies included: they start the same way). */
static int scan_filenames(const char *path, struct names *out, struct dk_err *err)
{
	struct dk_buf b = DK_BUF_INIT;
	char chunk[65536];
	ssize_t got;
	int fd = open(path, O_RDONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return dk_err_errno(err, "open %s", path);
	while ((got = read(fd, chunk, sizeof(chunk))) > 0)
		dk_buf_add(&b, chunk, (size_t)got);
	close(fd);
	if (got < 0)
		r = dk_err_errno(err, "read %s", path);
	else if ((r = dk_buf_check(&b, err, path)) == 0 && b.len > 8 && !memcmp(b.data, "Package:", 8)) {
		for (const char *p = b.data, *end = b.data + b.len; p < end;) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);

			if (len > 10 && !memcmp(p, "Filename: ", 10) && names_add(out, p + 10, len - 10) < 0) {
				r = dk_err_set(err, DK_ENOMEM, "out of memory");
				break;
			}
			p += len + 1;
		}
		/* Only a Sources index names pool files by Directory. */
		if (r == 0 && memmem(b.data, b.len, "\nDirectory: ", 12) &&
		    dk_sources_pool_names(b.data, b.len, names_add_cb, out) < 0)
			r = dk_err_set(err, DK_ENOMEM, "out of memory");
	}
	dk_buf_release(&b);
	return r;
}

/* Every Packages file and by-hash copy under dir, recursively. */
static int collect_dists(const char *dir, int depth, struct names *out, struct dk_err *err)
{
	char path[PATH_MAX];
	struct dirent *d;
	DIR *dp;
	int r = 0;

	if (depth > 8 || !(dp = opendir(dir)))
		return 0;
	while ((d = readdir(dp)) && r == 0) {
		struct stat st;

		if (d->d_name[0] == '.' || path_join(path, sizeof(path), NULL, "%s/%s", dir, d->d_name) < 0 ||
		    lstat(path, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode))
			r = collect_dists(path, depth + 1, out, err);
		else if (S_ISREG(st.st_mode) && (!strcmp(d->d_name, "Packages") || !strcmp(d->d_name, "Sources") ||
						 strstr(dir, "/by-hash/SHA256")))
			r = scan_filenames(path, out, err);
	}
	closedir(dp);
	return r;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Unlink the files under dir (rel: the same below the tree) no index names; empty directories go too. */
static int prune_dir(const char *dir, const char *rel, const struct names *keep, size_t *pruned, int depth,
		     struct dk_err *err)
{
	char path[PATH_MAX], sub[PATH_MAX];
	struct dirent *d;
	DIR *dp;
	int r = 0;

	if (depth > 8 || !(dp = opendir(dir)))
		return 0;
	while ((d = readdir(dp)) && r == 0) {
		struct stat st;
		const char *key = sub;

		if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, "..") ||
		    path_join(path, sizeof(path), NULL, "%s/%s", dir, d->d_name) < 0 ||
		    path_join(sub, sizeof(sub), NULL, "%s/%s", rel, d->d_name) < 0 || lstat(path, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			if ((r = prune_dir(path, sub, keep, pruned, depth + 1, err)) == 0)
				rmdir(path);
			continue;
		}
		if (keep->n && bsearch(&key, keep->v, keep->n, sizeof(*keep->v), cmp_name))
			continue;
		if (unlink(path) < 0 && errno != ENOENT)
			r = dk_err_errno(err, "unlink %s", path);
		else
			(*pruned)++;
	}
	closedir(dp);
	return r;
}

int dk_publish_prune(const char *public_root, const char *prefix, size_t *pruned, struct dk_err *err)
{
	char tree[PATH_MAX], dir[PATH_MAX];
	struct names keep = { 0 };
	int r;

	*pruned = 0;
	if (prefix && *prefix && strcmp(prefix, ".") != 0 && !safe_relpath(prefix))
		return dk_err_set(err, DK_EINPUT, "prefix '%s': not a plain relative path", prefix);
	if ((r = path_join(tree, sizeof(tree), err, "%s/%s", public_root, prefix && *prefix ? prefix : ".")) < 0 ||
	    (r = path_join(dir, sizeof(dir), err, "%s/dists", tree)) < 0)
		return r;
	if ((r = collect_dists(dir, 0, &keep, err)) < 0)
		goto out;
	if (keep.n)
		qsort(keep.v, keep.n, sizeof(*keep.v), cmp_name);
	if ((r = path_join(dir, sizeof(dir), err, "%s/pool", tree)) < 0)
		goto out;
	r = prune_dir(dir, "pool", &keep, pruned, 0, err);
out:
	names_release(&keep);
	return r;
}

int dk_publish_drop(const char *public_root, const char *prefix, const char *suite, size_t *pruned,
		    struct dk_err *err)
{
	char tree[PATH_MAX], live[PATH_MAX], staging[PATH_MAX], aside[PATH_MAX];
	bool found = true;
	int r;

	*pruned = 0;
	if (prefix && *prefix && strcmp(prefix, ".") != 0 && !safe_relpath(prefix))
		return dk_err_set(err, DK_EINPUT, "prefix '%s': not a plain relative path", prefix);
	if (!safe_relpath(suite))
		return dk_err_set(err, DK_EINPUT, "suite '%s': not a plain relative path", suite);
	if ((r = path_join(tree, sizeof(tree), err, "%s/%s", public_root, prefix && *prefix ? prefix : ".")) < 0 ||
	    (r = path_join(live, sizeof(live), err, "%s/dists/%s", tree, suite)) < 0 ||
	    (r = path_join(staging, sizeof(staging), err, "%s/.staging-%ld-XXXXXX", public_root, (long)getpid())) < 0)
		return r;
	/* A tree removed by hand (or a temporary public directory gone): its record can still go. */
	if (access(tree, F_OK) != 0 && (errno == ENOENT || errno == ENOTDIR))
		return DK_NOTFOUND;
	if (!mkdtemp(staging))
		return dk_err_errno(err, "mkdtemp %s", staging);
	if ((r = path_join(aside, sizeof(aside), err, "%s/dropped", staging)) < 0) {
		rmdir(staging);
		return r;
	}
	/* One rename takes the whole suite away: a reader finds it complete or not at all. */
	if (rename(live, aside) < 0) {
		if (errno != ENOENT) {
			r = dk_err_errno(err, "rename %s", live);
			rmdir(staging);
			return r;
		}
		found = false;
	}
	rm_rf(staging);
	if ((r = dk_publish_prune(public_root, prefix, pruned, err)) < 0)
		return r;
	return found ? 0 : DK_NOTFOUND;
}

/* The member named name of the archive a (already open), read whole into out. */
static int read_member(struct archive *a, const char *path, const char *prefix, bool exact, struct dk_buf *out,
		       struct dk_err *err)
{
	struct archive_entry *e;
	char chunk[16384];
	la_ssize_t got;
	int r;

	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(e);

		if (name && name[0] == '.' && name[1] == '/')
			name += 2;
		if (!name || (exact ? strcmp(name, prefix) != 0 : strncmp(name, prefix, strlen(prefix)) != 0))
			continue;
		while ((got = archive_read_data(a, chunk, sizeof(chunk))) > 0)
			dk_buf_add(out, chunk, (size_t)got);
		if (got < 0)
			return dk_err_set(err, DK_EINPUT, "%s: %s: %s", path, prefix, archive_error_string(a));
		return dk_buf_check(out, err, path);
	}
	if (r == ARCHIVE_EOF)
		return dk_err_set(err, DK_EINPUT, "%s: no %s member", path, prefix);
	return dk_err_set(err, DK_EINPUT, "%s: %s", path, archive_error_string(a));
}

/*
 * The .deb is read once: every byte libarchive asks for goes through the digests on its way, and
 * what it does not need (data.tar) is read through them afterwards. No skip callback is set, so
 * libarchive cannot jump over bytes the digests must see.
 */
struct deb_reader {
	int fd;
	struct dk_hash md5, sha256;
	uint64_t size;
	bool failed;
	char chunk[65536];
};

static la_ssize_t deb_read(struct archive *a, void *data, const void **out)
{
	struct deb_reader *d = data;
	ssize_t n = read(d->fd, d->chunk, sizeof(d->chunk));

	(void)a;
	if (n < 0) {
		d->failed = true;
		return -1;
	}
	if (n > 0 && (dk_hash_update(&d->md5, d->chunk, (size_t)n, NULL) < 0 ||
		      dk_hash_update(&d->sha256, d->chunk, (size_t)n, NULL) < 0))
		d->failed = true;
	d->size += (uint64_t)n;
	*out = d->chunk;
	return n;
}

static int deb_control(const char *path, struct deb_reader *d, struct dk_buf *control, struct dk_err *err)
{
	struct dk_buf tar = DK_BUF_INIT;
	struct archive *a = archive_read_new(), *t = NULL;
	const void *unused;
	la_ssize_t n;
	int r;

	if (!a)
		return dk_err_set(err, DK_ENOMEM, "archive_read_new");
	archive_read_support_format_ar(a);
	if (archive_read_open(a, d, NULL, deb_read, NULL) != ARCHIVE_OK) {
		r = dk_err_set(err, DK_EINPUT, "%s: %s", path, archive_error_string(a));
		goto out;
	}
	if ((r = read_member(a, path, "control.tar", false, &tar, err)) < 0)
		goto out;
	while ((n = deb_read(a, d, &unused)) > 0)
		;
	if (n < 0 || d->failed) {
		r = dk_err_errno(err, "read %s", path);
		goto out;
	}
	if (!(t = archive_read_new())) {
		r = dk_err_set(err, DK_ENOMEM, "archive_read_new");
		goto out;
	}
	archive_read_support_filter_all(t);
	archive_read_support_format_tar(t);
	if (archive_read_open_memory(t, tar.data, tar.len) != ARCHIVE_OK) {
		r = dk_err_set(err, DK_EINPUT, "%s: control.tar: %s", path, archive_error_string(t));
		goto out;
	}
	r = read_member(t, path, "control", true, control, err);
out:
	if (t)
		archive_read_free(t);
	archive_read_free(a);
	dk_buf_release(&tar);
	return r;
}

static int field_copy(const struct dk_stanza *st, const char *name, struct dk_buf *b, size_t *at)
{
	const struct dk_field *f = dk_stanza_get(st, name);
	size_t len;

	if (!f)
		return -1;
	len = f->value_len;
	/* "Source: foo (1.2-3)": the source package's name is the first word. */
	if (strcmp(name, "Source") == 0)
		len = strcspn(f->value, " \t(");
	*at = b->len;
	dk_buf_add(b, f->value, len < f->value_len ? len : f->value_len);
	dk_buf_addc(b, '\0');
	return 0;
}

int dk_publish_pkg_from_deb(struct dk_publish_pkg *p, const char *path, const char *component, char **storage,
			    struct dk_err *err)
{
	struct dk_buf control = DK_BUF_INIT, s = DK_BUF_INIT;
	unsigned char digest[DK_HASH_MAX];
	struct deb_reader *d;
	struct dk_deb822 parser;
	struct dk_stanza st;
	size_t name, version, arch, source, ctl, pool;
	const char *ver, *colon, *src;
	char poolpath[PATH_MAX];
	int r;

	memset(p, 0, sizeof(*p));
	*storage = NULL;
	if (!(d = calloc(1, sizeof(*d))))
		return dk_err_set(err, DK_ENOMEM, "out of memory");
	if ((d->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		free(d);
		return dk_err_errno(err, "open %s", path);
	}
	if ((r = dk_hash_init(&d->md5, DK_MD5, err)) < 0)
		goto out_fd;
	if ((r = dk_hash_init(&d->sha256, DK_SHA256, err)) < 0) {
		dk_hash_release(&d->md5);
		goto out_fd;
	}
	r = deb_control(path, d, &control, err);
	if (r == 0 && (r = dk_hash_final(&d->md5, digest, err)) == 0) {
		dk_hex(digest, dk_hash_size(DK_MD5), p->md5);
		if ((r = dk_hash_final(&d->sha256, digest, err)) == 0)
			dk_hex(digest, dk_hash_size(DK_SHA256), p->sha256);
	}
	/* Both contexts are gone after dk_hash_final; releasing again is harmless, so cover every path. */
	dk_hash_release(&d->md5);
	dk_hash_release(&d->sha256);
	p->size = d->size;
out_fd:
	close(d->fd);
	free(d);
	if (r < 0)
		goto out;
	while (control.len && (control.data[control.len - 1] == '\n' || control.data[control.len - 1] == ' '))
		control.len--;
	control.data[control.len] = '\0';
	dk_deb822_init(&parser, control.data, control.len, path, 0);
	if ((r = dk_deb822_next(&parser, &st, err)) <= 0) {
		if (r == 0)
			r = dk_err_set(err, DK_EINPUT, "%s: empty control file", path);
		goto out_parser;
	}
	if (field_copy(&st, "Package", &s, &name) < 0 || field_copy(&st, "Version", &s, &version) < 0 ||
	    field_copy(&st, "Architecture", &s, &arch) < 0) {
		r = dk_err_set(err, DK_EINPUT, "%s: control lacks Package, Version or Architecture", path);
		goto out_parser;
	}
	if (field_copy(&st, "Source", &s, &source) < 0)
		source = name;
	if ((r = dk_deb822_next(&parser, &st, err)) != 0) {
		if (r > 0)
			r = dk_err_set(err, DK_EINPUT, "%s: control file holds more than one stanza", path);
		goto out_parser;
	}
	ctl = s.len;
	dk_buf_add(&s, control.data, control.len + 1);
	if ((r = dk_buf_check(&s, err, path)) < 0)
		goto out_parser;
	src = s.data + source;
	ver = s.data + version;
	colon = strchr(ver, ':');
	/* Formatted aside: the arguments point into s, which appending may move. */
	snprintf(poolpath, sizeof(poolpath), "pool/%s/%.*s/%s/%s_%s_%s.deb", component,
		 strncmp(src, "lib", 3) == 0 && src[3] ? 4 : 1, src, src, s.data + name, colon ? colon + 1 : ver,
		 s.data + arch);
	pool = s.len;
	dk_buf_add(&s, poolpath, strlen(poolpath) + 1);
	if ((r = dk_buf_check(&s, err, path)) < 0)
		goto out_parser;
	p->object_path = path;
	p->component = component;
	p->control_len = control.len;
	*storage = dk_buf_detach(&s, NULL);
	p->control = *storage + ctl;
	p->name = *storage + name;
	p->version = *storage + version;
	p->arch = *storage + arch;
	p->pool_path = *storage + pool;
	r = 0;
out_parser:
	dk_deb822_release(&parser);
out:
	dk_buf_release(&control);
	dk_buf_release(&s);
	return r;
}
