/* walk.c - one input's members as a stream: trees, archives through libarchive, containers inside containers */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include <debkeep/buf.h>
#include <debkeep/hash.h>
#include <debkeep/input.h>
#include <debkeep/map.h>

#include "walk.h"

#include "banned.h"

/* dpkg database files and .deb control files: small, and what names packages and versions. */
#define META_MEMBER_MAX ((size_t)4 << 20)
#define META_TOTAL_MAX ((size_t)64 << 20)

enum sniffed { SN_PLAIN, SN_COMPRESSED, SN_AR, SN_TAR, SN_CPIO };

static enum sniffed sniff(const unsigned char *p, size_t n)
{
	static const struct {
		const char *magic;
		size_t len;
	} compressed[] = {
		{ "\x1f\x8b\x08", 3 }, /* gzip (deflate) */
		{ "\xfd"
		  "7zXZ\x00",
		  6 },			   /* xz */
		{ "\x28\xb5\x2f\xfd", 4 }, /* zstd */
		{ "\x04\x22\x4d\x18", 4 }, /* lz4 frame */
	};

	for (size_t i = 0; i < sizeof(compressed) / sizeof(compressed[0]); i++)
		if (n >= compressed[i].len && memcmp(p, compressed[i].magic, compressed[i].len) == 0)
			return SN_COMPRESSED;
	/* "BZh" alone starts ordinary text; the block magic after the level digit does not. */
	if (n >= 10 && memcmp(p, "BZh", 3) == 0 && p[3] >= '1' && p[3] <= '9' &&
	    memcmp(p + 4, "\x31\x41\x59\x26\x53\x59", 6) == 0)
		return SN_COMPRESSED;
	if (n >= 8 && memcmp(p, "!<arch>\n", 8) == 0)
		return SN_AR;
	if (n >= 262 && memcmp(p + 257, "ustar", 5) == 0)
		return SN_TAR;
	if (n >= 6 &&
	    (memcmp(p, "070701", 6) == 0 || memcmp(p, "070702", 6) == 0 || memcmp(p, "070707", 6) == 0))
		return SN_CPIO;
	return SN_PLAIN;
}

static int timespec_after(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec > b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec > b->tv_nsec);
}

int dkd_check_time(struct dkd_side *s, const char *where)
{
	struct timespec now;

	if (!s->deadline)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (timespec_after(&now, s->deadline))
		return dk_err_set(&s->err, DK_EINPUT, "%s%s%s: time limit reached (--timeout)", s->name,
				  where[0] ? ": " : "", where);
	return 0;
}

static int oom(struct dkd_side *s)
{
	return dk_err_set(&s->err, DK_ENOMEM, "%s: out of memory", s->name);
}

const char *dkd_join(struct dkd_side *s, const char *prefix, const char *name)
{
	size_t pl = strlen(prefix), nl = strlen(name);
	char *p;

	if (!pl)
		return dk_arena_strndup(&s->arena, name, nl);
	p = dk_arena_alloc(&s->arena, pl + nl + 3);
	if (!p)
		return NULL;
	memcpy(p, prefix, pl);
	memcpy(p + pl, "!/", 2);
	memcpy(p + pl + 2, name, nl + 1);
	return p;
}

void dkd_hash_hex_prefix(const void *p, size_t n, char out[17])
{
	unsigned char h[32];

	dk_hash_mem(DK_SHA256, p, n, h, NULL);
	dk_hex(h, 8, out);
}

static int cmp_line(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

const char *dkd_props(struct dkd_side *s, char *lines, size_t len)
{
	char *v[64], *out, *p;
	size_t n = 0, o = 0;

	if (!len)
		return NULL;
	for (p = lines; p < lines + len && n < 64;) {
		char *nl = memchr(p, '\n', (size_t)(lines + len - p));

		if (!nl)
			break;
		*nl = '\0';
		v[n++] = p;
		p = nl + 1;
	}
	qsort(v, n, sizeof(v[0]), cmp_line);
	out = dk_arena_alloc(&s->arena, len + 1);
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(v[i]);

		memcpy(out + o, v[i], l);
		out[o + l] = '\n';
		o += l + 1;
	}
	out[o] = '\0';
	return out;
}

int dkd_emit(struct dkd_side *s, const struct dk_diff_member *m)
{
	if (s->want)
		return 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 1024;
		struct dk_diff_member *v = realloc(s->m, cap * sizeof(*v));

		if (!v)
			return oom(s);
		s->m = v;
		s->cap = cap;
	}
	s->m[s->n++] = *m;
	return 0;
}

/* The wanted list is sorted, so every path starting with prefix is in one run from its lower bound. */
static size_t lower_bound(const struct dkd_side *s, const char *path)
{
	size_t lo = 0, hi = s->nwant;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(s->want[mid], path) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

bool dkd_wanted(const struct dkd_side *s, const char *path)
{
	size_t i;

	if (!s->want)
		return false;
	i = lower_bound(s, path);
	return i < s->nwant && strcmp(s->want[i], path) == 0;
}

bool dkd_want_under(const struct dkd_side *s, const char *path)
{
	size_t l = strlen(path);

	if (!s->want || !l)
		return true;
	for (size_t i = lower_bound(s, path); i < s->nwant && strncmp(s->want[i], path, l) == 0; i++)
		if (s->want[i][l] == '/' || s->want[i][l] == '!')
			return true;
	return false;
}

/* dpkg's own database and the control file of a .deb: what names owners, scripts and versions. */
static bool is_meta(const char *path)
{
	const char *base = strrchr(path, '/');
	const char *dot;
	size_t l = strlen(path);

	base = base ? base + 1 : path;
	if (l >= 19 && strcmp(path + l - 19, "var/lib/dpkg/status") == 0 && (l == 19 || path[l - 20] == '/'))
		return true;
	if (strcmp(base, "control") == 0 && strstr(path, "control.tar") != NULL)
		return true;
	if (!strstr(path, "var/lib/dpkg/info/"))
		return false;
	dot = strrchr(base, '.');
	return dot &&
		(strcmp(dot, ".list") == 0 || strcmp(dot, ".postinst") == 0 || strcmp(dot, ".preinst") == 0 ||
		 strcmp(dot, ".config") == 0);
}

static struct dkd_blob *blob_new(struct dkd_side *s, struct dkd_blobs *b, const char *path)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 256;
		struct dkd_blob *v = realloc(b->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		b->v = v;
		b->cap = cap;
	}
	b->v[b->n] = (struct dkd_blob){ path, NULL, 0, false };
	return &b->v[b->n++];
}

static int blob_add(struct dkd_blobs *b, struct dkd_blob *bl, const void *p, size_t n, size_t member_max)
{
	size_t take = n;
	char *d;

	if (bl->truncated)
		return 0;
	if (bl->len + take > member_max || b->bytes + take > b->max) {
		bl->truncated = true;
		return 0;
	}
	d = realloc(bl->data, bl->len + take + 1);
	if (!d)
		return -1;
	memcpy(d + bl->len, p, take);
	bl->data = d;
	bl->len += take;
	d[bl->len] = '\0';
	b->bytes += take;
	return 0;
}

/* Fill buf from src as far as it goes (a short read is not the end). */
static ssize_t read_full(struct dkd_src *src, unsigned char *buf, size_t n, struct dk_err *err)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = src->read(src, buf + got, n - got, err);

		if (r < 0)
			return r;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/* gzip's header (RFC 1952): its mtime and original name are what differ between otherwise equal streams. */
static void gzip_props(struct dk_buf *props, const unsigned char *p, size_t n)
{
	uint32_t mtime;

	if (n < 10 || p[0] != 0x1f || p[1] != 0x8b)
		return;
	mtime = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;
	dk_buf_addf(props, "gzip.mtime=%u\n", mtime);
	dk_buf_addf(props, "gzip.os=%u\n", p[9]);
	if (p[3] & 0x08) {
		size_t i = 10;

		if (p[3] & 0x04) {
			if (n < 12)
				return;
			i = 12 + ((size_t)p[10] | (size_t)p[11] << 8);
		}
		dk_buf_adds(props, "gzip.name=");
		for (; i < n && p[i] && i < 10 + 1024; i++)
			dk_buf_addc(props, p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?');
		dk_buf_addc(props, '\n');
	}
}

struct tee {
	struct dkd_side *s;
	struct dkd_src *src;
	struct dk_hash *hash;
	unsigned char *buf;
	size_t pending;
	uint64_t total;
	bool failed;
};

static la_ssize_t tee_read(struct archive *a, void *ctx, const void **out)
{
	struct tee *t = ctx;
	ssize_t n;

	*out = t->buf;
	if (t->pending) {
		n = (ssize_t)t->pending;
		t->pending = 0;
		return n;
	}
	if (dkd_check_time(t->s, "")) {
		t->failed = true;
		archive_set_error(a, ETIMEDOUT, "time limit reached");
		return -1;
	}
	n = t->src->read(t->src, t->buf, DKD_CHUNK, &t->s->err);
	if (n < 0) {
		t->failed = true;
		archive_set_error(a, EIO, "read error");
		return -1;
	}
	if (t->hash && n && dk_hash_update(t->hash, t->buf, (size_t)n, NULL))
		t->hash = NULL;
	t->total += (uint64_t)n;
	return n;
}

struct entry_src {
	struct dkd_src base;
	struct archive *a;
	const char *input;
	const char *path;
};

static const char *archive_msg(struct archive *a)
{
	const char *m = archive_error_string(a);

	return m && *m ? m : "unreadable archive";
}

static ssize_t entry_read(struct dkd_src *src, void *buf, size_t n, struct dk_err *err)
{
	struct entry_src *e = (struct entry_src *)src;
	la_ssize_t r = archive_read_data(e->a, buf, n);

	if (r < 0) {
		/* An inner reader that failed first has already said what went wrong. */
		if (err && err->code)
			return -1;
		dk_err_set(err, DK_EINPUT, "%s: %s: %s", e->input, e->path, archive_msg(e->a));
		return -1;
	}
	return r;
}

/* Member names as the other side will have them: no "./" or "/" in front, no "/" behind, never "..". */
static const char *member_name(struct dkd_side *s, const char *prefix, const char *raw, int *rc)
{
	const char *p = raw;
	char *name;
	size_t l;

	while (*p == '/' || (p[0] == '.' && p[1] == '/'))
		p += p[0] == '/' ? 1 : 2;
	l = strlen(p);
	while (l && p[l - 1] == '/')
		l--;
	if (!l)
		return dkd_join(s, prefix, ".");
	for (size_t i = 0; i + 1 < l + 1; i++) {
		bool start = i == 0 || p[i - 1] == '/';

		if (start && p[i] == '.' && p[i + 1] == '.' && (i + 2 == l || p[i + 2] == '/')) {
			*rc = dk_err_set(&s->err, DK_EINPUT,
					 "%s: %s%smember '%s': path leaves the archive ('..')", s->name,
					 prefix, prefix[0] ? ": " : "", raw);
			return NULL;
		}
	}
	name = dk_arena_strndup(&s->arena, p, l);
	return name ? dkd_join(s, prefix, name) : NULL;
}

/* A file compressed on its own: libarchive's raw format calls it "data"; call it by its name less the suffix. */
static const char *raw_name(const char *container)
{
	static const char *const suffixes[] = { ".gz", ".xz", ".zst", ".bz2", ".lz4", ".tgz", NULL };
	const char *base = strrchr(container, '/');
	static _Thread_local char name[256];
	size_t l;

	base = base ? base + 1 : container;
	if (strstr(base, "!/"))
		base = strrchr(base, '/') + 1;
	snprintf(name, sizeof(name), "%s", base);
	l = strlen(name);
	for (int i = 0; suffixes[i]; i++) {
		size_t sl = strlen(suffixes[i]);

		if (l > sl && strcmp(name + l - sl, suffixes[i]) == 0) {
			name[l - sl] = '\0';
			return name;
		}
	}
	return l ? name : "data";
}

static char entry_type(mode_t ft)
{
	switch (ft) {
	case AE_IFDIR:
		return DK_DT_DIR;
	case AE_IFLNK:
		return DK_DT_SYMLINK;
	case AE_IFCHR:
		return DK_DT_CHR;
	case AE_IFBLK:
		return DK_DT_BLK;
	case AE_IFIFO:
		return DK_DT_FIFO;
	case AE_IFSOCK:
		return DK_DT_SOCK;
	default:
		return DK_DT_REG;
	}
}

static const char *entry_xattrs(struct dkd_side *s, struct archive_entry *e)
{
	struct dk_buf b = DK_BUF_INIT;
	const char *name, *out = NULL;
	const void *value;
	size_t size;

	if (archive_entry_xattr_reset(e) == 0)
		return NULL;
	while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
		char hex[17];

		dkd_hash_hex_prefix(value, size, hex);
		dk_buf_addf(&b, "%s %s\n", name, hex);
	}
	if (!b.failed)
		out = dkd_props(s, b.data, b.len);
	dk_buf_release(&b);
	return out;
}

static int walk_archive(struct dkd_side *s, struct archive *a, const char *prefix, int depth,
			struct dk_buf *cprops)
{
	struct archive_entry *e;
	const char *last_format = NULL;
	int r, rc = 0;

	for (;;) {
		struct dk_diff_member m = { 0 };
		const char *raw, *fmt;

		if ((rc = dkd_check_time(s, prefix)))
			return rc;
		r = archive_read_next_header(a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			if (s->err.code)
				return s->err.code;
			return dk_err_set(&s->err, DK_EINPUT, "%s%s%s: %s", s->name, prefix[0] ? ": " : "",
					  prefix, archive_msg(a));
		}
		fmt = archive_format_name(a);
		/* The tar dialect per entry: GNU, ustar and pax headers hold different fields. */
		if (fmt && (!last_format || strcmp(fmt, last_format) != 0) && strstr(fmt, "tar")) {
			if (!last_format)
				dk_buf_addf(cprops, "tar.format=%s\n", fmt);
			last_format = fmt;
		}
		raw = archive_format(a) == ARCHIVE_FORMAT_RAW ? raw_name(prefix) : archive_entry_pathname(e);
		if (!raw)
			return dk_err_set(&s->err, DK_EINPUT, "%s: %s: a member without a name", s->name,
					  prefix);
		m.path = member_name(s, prefix, raw, &rc);
		if (!m.path)
			return rc ? rc : oom(s);
		m.parent = prefix;
		m.seq = s->seq++;
		m.type = entry_type(archive_entry_filetype(e));
		m.mode = archive_entry_perm(e) & 07777;
		m.uid = archive_entry_uid(e);
		m.gid = archive_entry_gid(e);
		if (archive_format(a) != ARCHIVE_FORMAT_RAW) {
			const char *u = archive_entry_uname(e), *g = archive_entry_gname(e);

			m.uname = u && *u ? dk_arena_strdup(&s->arena, u) : NULL;
			m.gname = g && *g ? dk_arena_strdup(&s->arena, g) : NULL;
			if (archive_entry_mtime_is_set(e)) {
				m.mtime = archive_entry_mtime(e);
				m.mtime_ns = archive_entry_mtime_nsec(e);
			}
		}
		m.size = archive_entry_size_is_set(e) ? (uint64_t)archive_entry_size(e) : 0;
		if (archive_entry_symlink(e)) {
			m.type = DK_DT_SYMLINK;
			m.target = dk_arena_strdup(&s->arena, archive_entry_symlink(e));
		}
		if (archive_entry_hardlink(e)) {
			const char *hl = member_name(s, prefix, archive_entry_hardlink(e), &rc);

			if (!hl)
				return rc ? rc : oom(s);
			m.type = DK_DT_HARDLINK;
			m.hardlink = hl;
		}
		if (m.type == DK_DT_CHR || m.type == DK_DT_BLK)
			m.rdev = archive_entry_rdev(e);
		m.xattrs = entry_xattrs(s, e);
		if (m.type == DK_DT_REG) {
			struct entry_src src = { { entry_read }, a, s->name, m.path };

			if ((rc = dkd_content(s, &m, &src.base, depth)))
				return rc;
		}
		if ((rc = dkd_emit(s, &m)))
			return rc;
	}
	return 0;
}

static const char *format_kind(struct archive *a)
{
	switch (archive_format(a) & ARCHIVE_FORMAT_BASE_MASK) {
	case ARCHIVE_FORMAT_TAR:
		return "tar";
	case ARCHIVE_FORMAT_AR:
		return "ar";
	case ARCHIVE_FORMAT_CPIO:
		return "cpio";
	case ARCHIVE_FORMAT_RAW:
		return "compressed";
	default:
		return "archive";
	}
}

/* Read the archive whose first bytes are already in buf (n of them, already hashed) from src. */
static int open_archive(struct dkd_side *s, struct dk_diff_member *m, struct dkd_src *src,
			struct dk_hash *hash, unsigned char *buf, size_t n, enum sniffed kind, int depth)
{
	struct tee t = { s, src, hash, buf, n, n, false };
	struct dk_buf props = DK_BUF_INIT;
	struct archive *a = archive_read_new();
	const char *where = m->path, *sep = m->path[0] ? ": " : "";
	int rc = 0;

	if (!a)
		return oom(s);
	dk_archive_filters(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_ar(a);
	archive_read_support_format_cpio(a);
	if (kind == SN_COMPRESSED)
		archive_read_support_format_raw(a);
	gzip_props(&props, buf, n);
	if (archive_read_open(a, &t, NULL, tee_read, NULL) != ARCHIVE_OK) {
		rc = s->err.code
			? s->err.code
			: dk_err_set(&s->err, DK_EINPUT, "%s%s%s: %s", s->name, sep, where, archive_msg(a));
		goto out;
	}
	rc = walk_archive(s, a, m->path, depth + 1, &props);
	if (rc && t.failed && !s->err.code)
		rc = dk_err_set(&s->err, DK_EINPUT, "%s%s%s: read error", s->name, sep, where);
	if (rc)
		goto out;
	m->kind = format_kind(a);
	if (archive_filter_count(a) > 1)
		dk_buf_addf(&props, "compression=%s\n", archive_filter_name(a, 0));
	if (strcmp(m->kind, "ar") == 0 && strstr(m->path[0] ? m->path : s->input, ".deb"))
		m->kind = "deb";
	m->ordered = strcmp(m->kind, "compressed") != 0;
	/* libarchive stops at the end-of-archive marker; the bytes after it are part of the member too. */
	for (;;) {
		ssize_t r = src->read(src, buf, DKD_CHUNK, &s->err);

		if (r < 0) {
			rc = s->err.code ? s->err.code : DK_EINPUT;
			goto out;
		}
		if (r == 0)
			break;
		if (hash)
			dk_hash_update(hash, buf, (size_t)r, NULL);
		t.total += (uint64_t)r;
	}
	m->size = t.total;
	if (props.len)
		m->props = dkd_props(s, props.data, props.len);
out:
	archive_read_free(a);
	dk_buf_release(&props);
	return rc;
}

int dkd_content(struct dkd_side *s, struct dk_diff_member *m, struct dkd_src *src, int depth)
{
	struct dkd_blobs *store = s->want ? &s->content : &s->meta;
	struct dkd_blob *blob = NULL;
	struct dk_hash hash, *h = NULL;
	unsigned char *buf;
	enum sniffed kind;
	uint64_t total = 0;
	ssize_t n;
	int rc = 0;

	if (depth > DKD_MAX_DEPTH)
		depth = DKD_MAX_DEPTH;
	if (s->want && !dkd_want_under(s, m->path) && !dkd_wanted(s, m->path))
		return 0;
	if (!s->bufs[depth] && !(s->bufs[depth] = malloc(DKD_CHUNK)))
		return oom(s);
	buf = s->bufs[depth];
	n = read_full(src, buf, 4096, &s->err);
	if (n < 0)
		return s->err.code ? s->err.code : DK_EINPUT;
	if (!s->want) {
		if (dk_hash_init(&hash, DK_SHA256, &s->err))
			return s->err.code;
		h = &hash;
	}
	kind = sniff(buf, (size_t)n);
	if (kind != SN_PLAIN && depth < DKD_MAX_DEPTH && !dkd_wanted(s, m->path)) {
		if (h)
			dk_hash_update(h, buf, (size_t)n, NULL);
		rc = open_archive(s, m, src, h, buf, (size_t)n, kind, depth);
		goto done;
	}
	if (s->want ? dkd_wanted(s, m->path) : is_meta(m->path)) {
		blob = blob_new(s, store, m->path);
		if (!blob)
			return oom(s);
	}
	while (n > 0) {
		total += (uint64_t)n;
		if (h)
			dk_hash_update(h, buf, (size_t)n, NULL);
		if (blob &&
		    blob_add(store, blob, buf, (size_t)n, s->want ? s->member_max : META_MEMBER_MAX)) {
			rc = oom(s);
			goto done;
		}
		if ((rc = dkd_check_time(s, m->path)))
			goto done;
		n = src->read(src, buf, DKD_CHUNK, &s->err);
		if (n < 0) {
			rc = s->err.code ? s->err.code : DK_EINPUT;
			goto done;
		}
	}
	m->size = total;
done:
	if (h) {
		if (!rc) {
			dk_hash_final(h, m->sha256, NULL);
			m->hashed = true;
			s->bytes += m->size;
		} else {
			dk_hash_release(h);
		}
	}
	if (rc && !s->err.code)
		rc = dk_err_set(&s->err, rc, "%s%s%s: unreadable", s->name, m->path[0] ? ": " : "", m->path);
	return rc;
}

struct fd_src {
	struct dkd_src base;
	int fd;
	const char *path;
};

static ssize_t fd_read(struct dkd_src *src, void *buf, size_t n, struct dk_err *err)
{
	struct fd_src *f = (struct fd_src *)src;

	for (;;) {
		ssize_t r = read(f->fd, buf, n);

		if (r >= 0)
			return r;
		if (errno != EINTR)
			return dk_err_errno(err, "%s", f->path);
	}
}

struct ino_seen {
	dev_t dev;
	ino_t ino;
	const char *path;
	struct ino_seen *next;
};

struct dir_walk {
	struct dkd_side *s;
	struct dk_map inodes;
	struct dk_buf fspath;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static const char *fs_xattrs(struct dir_walk *w, const char *fspath)
{
	char names[4096], value[65536];
	struct dk_buf b = DK_BUF_INIT;
	const char *out = NULL;
	ssize_t n = llistxattr(fspath, names, sizeof(names));

	if (n <= 0)
		return NULL;
	for (char *p = names; p < names + n; p += strlen(p) + 1) {
		ssize_t vl = lgetxattr(fspath, p, value, sizeof(value));
		char hex[17];

		if (vl < 0)
			continue;
		dkd_hash_hex_prefix(value, (size_t)vl, hex);
		dk_buf_addf(&b, "%s %s\n", p, hex);
	}
	if (!b.failed)
		out = dkd_props(w->s, b.data, b.len);
	dk_buf_release(&b);
	return out;
}

static int walk_dir(struct dir_walk *w, int dfd, const char *rel, int level)
{
	struct dkd_side *s = w->s;
	char **names = NULL;
	size_t nn = 0, cap = 0, base = w->fspath.len;
	struct dirent *de;
	int rc = 0, fd2;
	DIR *d;

	if (level > 4096)
		return dk_err_set(&s->err, DK_EINPUT, "%s: %s: directories nest too deep", s->name, rel);
	fd2 = dup(dfd);
	if (fd2 < 0 || !(d = fdopendir(fd2))) {
		if (fd2 >= 0)
			close(fd2);
		return dk_err_errno(&s->err, "%s", w->fspath.data);
	}
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (nn == cap) {
			char **v = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof(*v));

			if (!v) {
				rc = oom(s);
				goto out;
			}
			names = v;
		}
		if (!(names[nn++] = strdup(de->d_name))) {
			rc = oom(s);
			goto out;
		}
	}
	/* Trees have no member order: readdir's is the file system's, so members go by name. */
	if (nn)
		qsort(names, nn, sizeof(*names), cmp_str);
	for (size_t i = 0; i < nn && !rc; i++) {
		struct dk_diff_member m = { 0 };
		struct stat st;

		dk_buf_truncate(&w->fspath, base);
		dk_buf_addf(&w->fspath, "/%s", names[i]);
		if (w->fspath.failed)
			return oom(s);
		{
			size_t rl = strlen(rel), nl = strlen(names[i]);
			char *p = dk_arena_alloc(&s->arena, rl + nl + 2);

			if (!p) {
				rc = oom(s);
				break;
			}
			if (rl) {
				memcpy(p, rel, rl);
				p[rl] = '/';
				memcpy(p + rl + 1, names[i], nl + 1);
			} else {
				memcpy(p, names[i], nl + 1);
			}
			m.path = p;
		}
		if ((rc = dkd_check_time(s, m.path)))
			break;
		if (fstatat(dfd, names[i], &st, AT_SYMLINK_NOFOLLOW)) {
			rc = dk_err_errno(&s->err, "%s", w->fspath.data);
			break;
		}
		if (s->want && !S_ISDIR(st.st_mode) && !dkd_wanted(s, m.path) && !dkd_want_under(s, m.path))
			continue;
		m.parent = "";
		m.seq = s->seq++;
		m.mode = st.st_mode & 07777;
		m.uid = st.st_uid;
		m.gid = st.st_gid;
		m.mtime = st.st_mtim.tv_sec;
		m.mtime_ns = st.st_mtim.tv_nsec;
		m.xattrs = s->want ? NULL : fs_xattrs(w, w->fspath.data);
		if (S_ISDIR(st.st_mode)) {
			int sub;

			m.type = DK_DT_DIR;
			if ((rc = dkd_emit(s, &m)))
				break;
			if (s->want && !dkd_want_under(s, m.path))
				continue;
			sub = openat(dfd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0) {
				rc = dk_err_errno(&s->err, "%s", w->fspath.data);
				break;
			}
			rc = walk_dir(w, sub, m.path, level + 1);
			close(sub);
			continue;
		}
		if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
			void **slot = dk_map_slot(&w->inodes, (uint64_t)st.st_ino);
			struct ino_seen *seen;

			if (!slot) {
				rc = oom(s);
				break;
			}
			for (seen = *slot; seen && seen->dev != st.st_dev; seen = seen->next)
				;
			if (seen) {
				m.type = DK_DT_HARDLINK;
				m.hardlink = seen->path;
				rc = dkd_emit(s, &m);
				continue;
			}
			seen = dk_arena_alloc(&s->arena, sizeof(*seen));
			if (!seen) {
				rc = oom(s);
				break;
			}
			*seen = (struct ino_seen){ st.st_dev, st.st_ino, m.path, *slot };
			*slot = seen;
		}
		if (S_ISLNK(st.st_mode)) {
			char target[4096];
			ssize_t tl = readlinkat(dfd, names[i], target, sizeof(target) - 1);

			if (tl < 0) {
				rc = dk_err_errno(&s->err, "%s", w->fspath.data);
				break;
			}
			m.type = DK_DT_SYMLINK;
			m.target = dk_arena_strndup(&s->arena, target, (size_t)tl);
		} else if (S_ISREG(st.st_mode)) {
			struct fd_src src = { { fd_read }, -1, w->fspath.data };

			m.type = DK_DT_REG;
			src.fd = openat(dfd, names[i], O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
			if (src.fd < 0) {
				rc = dk_err_errno(&s->err, "%s", w->fspath.data);
				break;
			}
			rc = dkd_content(s, &m, &src.base, 0);
			close(src.fd);
			if (rc)
				break;
		} else {
			m.type = S_ISCHR(st.st_mode)   ? DK_DT_CHR
				: S_ISBLK(st.st_mode)  ? DK_DT_BLK
				: S_ISFIFO(st.st_mode) ? DK_DT_FIFO
						       : DK_DT_SOCK;
			m.rdev = (uint64_t)st.st_rdev;
		}
		rc = dkd_emit(s, &m);
	}
out:
	closedir(d);
	for (size_t i = 0; i < nn; i++)
		free(names[i]);
	free(names);
	dk_buf_truncate(&w->fspath, base);
	return rc;
}

static int walk_tree(struct dkd_side *s)
{
	struct dir_walk w = { s, DK_MAP_INIT, DK_BUF_INIT };
	struct dk_diff_member root = { 0 };
	struct stat st;
	int fd, rc;

	fd = open(s->input, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		rc = dk_err_errno(&s->err, "%s", s->input);
		if (fd >= 0)
			close(fd);
		return rc;
	}
	root.path = "";
	root.parent = "";
	root.kind = "directory";
	root.type = DK_DT_DIR;
	root.mode = st.st_mode & 07777;
	root.uid = st.st_uid;
	root.gid = st.st_gid;
	root.mtime = st.st_mtim.tv_sec;
	root.mtime_ns = st.st_mtim.tv_nsec;
	dk_buf_adds(&w.fspath, s->input);
	rc = walk_dir(&w, fd, "", 0);
	close(fd);
	if (!rc)
		rc = dkd_emit(s, &root);
	dk_map_release(&w.inodes);
	dk_buf_release(&w.fspath);
	return rc;
}

int dkd_walk(struct dkd_side *s)
{
	struct dk_diff_member top = { 0 };
	struct fd_src src = { { fd_read }, -1, s->input };
	struct stat st;
	int rc;

	if (stat(s->input, &st))
		return s->rc = dk_err_errno(&s->err, "%s", s->input);
	if (S_ISDIR(st.st_mode))
		return s->rc = walk_tree(s);
	top.path = "";
	top.parent = "";
	top.type = DK_DT_REG;
	top.mode = st.st_mode & 07777;
	src.fd = open(s->input, O_RDONLY | O_CLOEXEC);
	if (src.fd < 0)
		return s->rc = dk_err_errno(&s->err, "%s", s->input);
	/* The input's own mtime and owner are the host's business, not the build's: only its bytes count. */
	if (S_ISREG(st.st_mode) && dkd_is_ext4(src.fd, 0)) {
		top.kind = "ext4";
		rc = dkd_walk_ext4(s, s->input, 0, "", 0);
	} else if (S_ISREG(st.st_mode) && dkd_is_disk(src.fd)) {
		top.kind = "disk";
		rc = dkd_walk_disk(s, src.fd, "", 0);
	} else {
		rc = dkd_content(s, &top, &src.base, 0);
	}
	close(src.fd);
	if (!rc && !s->want)
		rc = dkd_emit(s, &top);
	return s->rc = rc;
}

int dkd_input_kind(const char *path, const char **kind, struct dk_err *err)
{
	unsigned char buf[4096];
	struct archive_entry *e;
	struct archive *a;
	struct stat st;
	ssize_t n;
	int fd;

	if (stat(path, &st))
		return dk_err_errno(err, "%s", path);
	if (S_ISDIR(st.st_mode)) {
		*kind = "directory";
		return 0;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return dk_err_errno(err, "%s", path);
	n = pread(fd, buf, sizeof(buf), 0);
	if (n < 0) {
		close(fd);
		return dk_err_errno(err, "%s", path);
	}
	*kind = "file";
	if (S_ISREG(st.st_mode) && dkd_is_ext4(fd, 0)) {
		*kind = "ext4";
	} else if (S_ISREG(st.st_mode) && dkd_is_disk(fd)) {
		*kind = "disk";
	} else {
		switch (sniff(buf, (size_t)n)) {
		case SN_AR:
			*kind = n >= 8 + 60 + 13 && memcmp(buf + 8, "debian-binary", 13) == 0 ? "deb" : "ar";
			break;
		case SN_TAR:
			*kind = "tar";
			break;
		case SN_CPIO:
			*kind = "cpio";
			break;
		case SN_COMPRESSED:
			/* What is inside decides: a .tar.gz and a .tar.xz are both "tar". */
			*kind = "compressed";
			a = archive_read_new();
			if (!a)
				break;
			dk_archive_filters(a);
			archive_read_support_format_tar(a);
			archive_read_support_format_cpio(a);
			archive_read_support_format_ar(a);
			archive_read_support_format_raw(a);
			/* Unreadable: the walk will say where and why; the kinds are not compared. */
			*kind = "unknown";
			if (archive_read_open_fd(a, fd, 65536) == ARCHIVE_OK &&
			    archive_read_next_header(a, &e) == ARCHIVE_OK)
				*kind = format_kind(a);
			archive_read_free(a);
			break;
		case SN_PLAIN:
			break;
		}
	}
	close(fd);
	return 0;
}

void dkd_side_release(struct dkd_side *s)
{
	for (size_t i = 0; i < s->meta.n; i++)
		free(s->meta.v[i].data);
	for (size_t i = 0; i < s->content.n; i++)
		free(s->content.v[i].data);
	free(s->meta.v);
	free(s->content.v);
	free(s->m);
	for (size_t i = 0; i < sizeof(s->bufs) / sizeof(s->bufs[0]); i++)
		free(s->bufs[i]);
	dk_arena_release(&s->arena);
}
