/* diff.c - dk_diff_run: walk both inputs at once, match members by path, find aspects, details, owners, causes */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <debkeep/diff.h>
#include <debkeep/hash.h>

#include "walk.h"

#include "banned.h"

struct pair {
	const struct dk_diff_member *a, *b;
	uint32_t aspects;
	bool explained; /* something inside this container differs */
};

struct run {
	struct dkd_side sides[2];
	struct dkd_dpkg *db[2];
};

static int cmp_member(const void *x, const void *y)
{
	const struct dk_diff_member *a = x, *b = y;
	int c = strcmp(a->path, b->path);

	return c ? c : (a->seq > b->seq) - (a->seq < b->seq);
}

static bool str_differ(const char *a, const char *b)
{
	return (a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0);
}

static enum dk_diff_aspect prop_aspect(const char *key, size_t len)
{
	if (len == 11 && memcmp(key, "compression", 11) == 0)
		return DK_DA_ENCODING;
	if (len > 5 && memcmp(key, "gzip.", 5) == 0)
		return DK_DA_GZIP_HEADER;
	if (len > 4 && memcmp(key, "tar.", 4) == 0)
		return DK_DA_TAR_HEADER;
	if ((len >= 4 && memcmp(key + len - 4, "uuid", 4) == 0) ||
	    (len >= 4 && memcmp(key + len - 4, "guid", 4) == 0) ||
	    (len > 8 && memcmp(key + len - 8, ".disk_id", 8) == 0))
		return DK_DA_FS_UUID;
	if (len == 14 && memcmp(key, "ext4.hash_seed", 14) == 0)
		return DK_DA_FS_HASH_SEED;
	if (len > 5 && memcmp(key, "ext4.", 5) == 0 &&
	    (memmem(key, len, "time", 4) || memmem(key, len, "lastcheck", 9)))
		return DK_DA_FS_TIMES;
	return DK_DA_FS_OTHER;
}

/* Props are sorted "key=value" lines: walk both like a merge, each differing key giving its aspect. */
static uint32_t props_aspects(const char *a, const char *b, struct dk_buf *detail, uint32_t mask)
{
	uint32_t asp = 0;

	a = a ? a : "";
	b = b ? b : "";
	while (*a || *b) {
		const char *ea = strchr(a, '\n'), *eb = strchr(b, '\n');
		size_t ka, kb;
		int c;

		ea = ea ? ea : a + strlen(a);
		eb = eb ? eb : b + strlen(b);
		ka = *a ? strcspn(a, "=") : 0;
		kb = *b ? strcspn(b, "=") : 0;
		if (!*a)
			c = 1;
		else if (!*b)
			c = -1;
		else {
			c = strncmp(a, b, ka < kb ? ka : kb);
			if (!c)
				c = (ka > kb) - (ka < kb);
		}
		if (c == 0) {
			if (ea - a != eb - b || memcmp(a, b, (size_t)(ea - a)) != 0) {
				uint32_t bit = DK_DA_BIT(prop_aspect(a, ka));

				asp |= bit;
				if (detail && (bit & mask))
					dk_buf_addf(detail, "%.*s: %.*s -> %.*s\n", (int)ka, a,
						    (int)(ea - a - (long)ka - 1), a + ka + 1,
						    (int)(eb - b - (long)kb - 1), b + kb + 1);
			}
		} else {
			const char *k = c < 0 ? a : b, *e = c < 0 ? ea : eb;
			size_t kl = c < 0 ? ka : kb;
			/* A gzip header on one side only means another compression: the compression key says so. */
			uint32_t bit = kl > 5 && memcmp(k, "gzip.", 5) == 0 ? DK_DA_BIT(DK_DA_ENCODING)
									    : DK_DA_BIT(prop_aspect(k, kl));

			asp |= bit;
			if (detail && (bit & mask) && !(kl > 5 && memcmp(k, "gzip.", 5) == 0))
				dk_buf_addf(detail, "%.*s: only in %s\n", (int)(e - k), k, c < 0 ? "a" : "b");
		}
		if (c <= 0)
			a = *ea ? ea + 1 : ea;
		if (c >= 0)
			b = *eb ? eb + 1 : eb;
	}
	return asp;
}

static uint32_t compare(const struct dk_diff_member *a, const struct dk_diff_member *b)
{
	uint32_t asp = 0;

	if (a->type != b->type)
		return DK_DA_BIT(DK_DA_TYPE) | props_aspects(a->props, b->props, NULL, 0);
	if (a->mode != b->mode)
		asp |= DK_DA_BIT(DK_DA_MODE);
	if (a->uid != b->uid || a->gid != b->gid || str_differ(a->uname, b->uname) ||
	    str_differ(a->gname, b->gname))
		asp |= DK_DA_BIT(DK_DA_OWNER);
	if (a->mtime != b->mtime || a->mtime_ns != b->mtime_ns)
		asp |= DK_DA_BIT(DK_DA_MTIME);
	if (str_differ(a->target, b->target))
		asp |= DK_DA_BIT(DK_DA_TARGET);
	if (str_differ(a->hardlink, b->hardlink))
		asp |= DK_DA_BIT(DK_DA_HARDLINK);
	if (a->rdev != b->rdev)
		asp |= DK_DA_BIT(DK_DA_DEVICE);
	if (str_differ(a->xattrs, b->xattrs))
		asp |= DK_DA_BIT(DK_DA_XATTR);
	/* A container whose bytes differ is explained by what differs inside it (see mark_encoding). */
	if (a->hashed && b->hashed && memcmp(a->sha256, b->sha256, 32) != 0 && !(a->kind && b->kind))
		asp |= DK_DA_BIT(DK_DA_CONTENT);
	if (a->hashed != b->hashed && (a->kind == NULL) != (b->kind == NULL))
		asp |= DK_DA_BIT(DK_DA_CONTENT);
	if (str_differ(a->props, b->props))
		asp |= props_aspects(a->props, b->props, NULL, 0);
	return asp;
}

static struct pair *find_pair(struct pair *v, size_t n, const char *path)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *p = v[mid].a ? v[mid].a->path : v[mid].b->path;
		int c = strcmp(p, path);

		if (c == 0)
			return &v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static const char *pair_path(const struct pair *p)
{
	return p->a ? p->a->path : p->b->path;
}

struct order_key {
	const char *parent;
	uint64_t sa, sb;
};

static int cmp_order(const void *x, const void *y)
{
	const struct order_key *a = x, *b = y;
	int c = strcmp(a->parent, b->parent);

	return c ? c : (a->sa > b->sa) - (a->sa < b->sa);
}

/* Member order within each archive: matched members sorted by their place in a must keep their order in b. */
static int mark_order(struct pair *v, size_t n)
{
	struct order_key *k = malloc((n + 1) * sizeof(*k));
	size_t nk = 0;

	if (!k)
		return DK_ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (v[i].a && v[i].b && v[i].a->path[0] && strcmp(v[i].a->parent, v[i].b->parent) == 0)
			k[nk++] = (struct order_key){ v[i].a->parent, v[i].a->seq, v[i].b->seq };
	qsort(k, nk, sizeof(*k), cmp_order);
	for (size_t i = 1; i < nk; i++) {
		struct pair *c;

		if (strcmp(k[i].parent, k[i - 1].parent) != 0 || k[i].sb > k[i - 1].sb)
			continue;
		c = find_pair(v, n, k[i].parent);
		if (c && c->a && c->b && c->a->ordered && c->b->ordered)
			c->aspects |= DK_DA_BIT(DK_DA_ORDER);
		while (i + 1 < nk && strcmp(k[i + 1].parent, k[i].parent) == 0)
			i++;
	}
	free(k);
	return 0;
}

/* Containers with differing bytes and nothing differing inside have a different encoding (compression...). */
static void mark_encoding(struct pair *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *parent;

		if (!v[i].aspects)
			continue;
		parent = v[i].a ? v[i].a->parent : v[i].b->parent;
		for (;;) {
			struct pair *c = find_pair(v, n, parent);

			if (!c || c == &v[i] || c->explained)
				break;
			c->explained = true;
			if (!pair_path(c)[0])
				break;
			parent = c->a ? c->a->parent : c->b->parent;
		}
	}
	for (size_t i = 0; i < n; i++) {
		const struct dk_diff_member *a = v[i].a, *b = v[i].b;

		if (a && b && a->kind && b->kind && a->hashed && b->hashed &&
		    memcmp(a->sha256, b->sha256, 32) != 0 && !v[i].explained &&
		    !(v[i].aspects &
		      (DK_DA_BIT(DK_DA_ORDER) | DK_DA_BIT(DK_DA_GZIP_HEADER) | DK_DA_BIT(DK_DA_TAR_HEADER))))
			v[i].aspects |= DK_DA_BIT(DK_DA_ENCODING);
	}
}

static void *walk_thread(void *arg)
{
	dkd_walk(arg);
	return NULL;
}

/* Both sides at once on two cores: each walk decompresses and hashes its own input. */
static int walk_both(struct run *r, const struct dk_diff_opts *o, struct dk_err *err)
{
	pthread_t t;
	bool threaded = o->jobs != 1 && pthread_create(&t, NULL, walk_thread, &r->sides[1]) == 0;

	dkd_walk(&r->sides[0]);
	if (threaded)
		pthread_join(t, NULL);
	else
		dkd_walk(&r->sides[1]);
	for (int i = 0; i < 2; i++)
		if (r->sides[i].rc) {
			*err = r->sides[i].err;
			return r->sides[i].rc;
		}
	return 0;
}

static const char *type_name(char t)
{
	switch (t) {
	case DK_DT_REG:
		return "regular file";
	case DK_DT_DIR:
		return "directory";
	case DK_DT_SYMLINK:
		return "symlink";
	case DK_DT_HARDLINK:
		return "hard link";
	case DK_DT_CHR:
		return "character device";
	case DK_DT_BLK:
		return "block device";
	case DK_DT_FIFO:
		return "fifo";
	case DK_DT_SOCK:
		return "socket";
	default:
		return "metadata";
	}
}

static void time_str(char *out, size_t n, int64_t t, long ns)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm)) {
		snprintf(out, n, "%lld", (long long)t);
		return;
	}
	if (ns)
		snprintf(out, n, "%04d-%02d-%02d %02d:%02d:%02d.%09ld", tm.tm_year + 1900, tm.tm_mon + 1,
			 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ns);
	else
		snprintf(out, n, "%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
			 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static void owner_str(char *out, size_t n, const struct dk_diff_member *m)
{
	snprintf(out, n, "%lld:%lld%s%s%s%s", (long long)m->uid, (long long)m->gid,
		 m->uname || m->gname ? " (" : "", m->uname ? m->uname : "", m->uname || m->gname ? ":" : "",
		 m->uname || m->gname ? (m->gname ? m->gname : "") : "");
	if (m->uname || m->gname)
		strncat(out, ")", n - strlen(out) - 1);
}

/* The metadata part of an item's details: one line per differing field. */
static void meta_detail(struct dk_buf *d, const struct pair *p, uint32_t mask)
{
	const struct dk_diff_member *a = p->a, *b = p->b;
	uint32_t asp = p->aspects & mask;
	char x[128], y[128];

	if (!a || !b) {
		const struct dk_diff_member *m = a ? a : b;

		dk_buf_addf(d, "only in %s: %s", a ? "a" : "b", type_name(m->type));
		if (m->type == DK_DT_REG)
			dk_buf_addf(d, ", %llu bytes", (unsigned long long)m->size);
		if (m->target)
			dk_buf_addf(d, " -> %s", m->target);
		dk_buf_addc(d, '\n');
		return;
	}
	if (asp & DK_DA_BIT(DK_DA_TYPE))
		dk_buf_addf(d, "type: %s -> %s\n", type_name(a->type), type_name(b->type));
	if (asp & DK_DA_BIT(DK_DA_MODE))
		dk_buf_addf(d, "mode: %04o -> %04o\n", a->mode, b->mode);
	if (asp & DK_DA_BIT(DK_DA_OWNER)) {
		owner_str(x, sizeof(x), a);
		owner_str(y, sizeof(y), b);
		dk_buf_addf(d, "owner: %s -> %s\n", x, y);
	}
	if (asp & DK_DA_BIT(DK_DA_MTIME)) {
		time_str(x, sizeof(x), a->mtime, a->mtime_ns);
		time_str(y, sizeof(y), b->mtime, b->mtime_ns);
		dk_buf_addf(d, "mtime: %s -> %s\n", x, y);
	}
	if (asp & DK_DA_BIT(DK_DA_TARGET))
		dk_buf_addf(d, "symlink target: %s -> %s\n", a->target ? a->target : "",
			    b->target ? b->target : "");
	if (asp & DK_DA_BIT(DK_DA_HARDLINK))
		dk_buf_addf(d, "hard link to: %s -> %s\n", a->hardlink ? a->hardlink : "(none)",
			    b->hardlink ? b->hardlink : "(none)");
	if (asp & DK_DA_BIT(DK_DA_DEVICE))
		dk_buf_addf(d, "device: %llu -> %llu\n", (unsigned long long)a->rdev,
			    (unsigned long long)b->rdev);
	if (asp & DK_DA_BIT(DK_DA_XATTR))
		dk_buf_addf(d, "extended attributes differ:\n  a: %s\n  b: %s\n",
			    a->xattrs ? a->xattrs : "(none)", b->xattrs ? b->xattrs : "(none)");
	if (asp & DK_DA_BIT(DK_DA_ORDER))
		dk_buf_adds(d, "member order differs\n");
	if (asp & DK_DA_BIT(DK_DA_ENCODING))
		dk_buf_addf(d, "%s container bytes differ: size %llu -> %llu\n", a->kind,
			    (unsigned long long)a->size, (unsigned long long)b->size);
	if (str_differ(a->props, b->props))
		props_aspects(a->props, b->props, d, mask);
}

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

static int cmp_blob(const void *x, const void *y)
{
	return strcmp(((const struct dkd_blob *)x)->path, ((const struct dkd_blob *)y)->path);
}

static const struct dkd_blob *find_blob(const struct dkd_blobs *b, const char *path)
{
	struct dkd_blob key = { path, NULL, 0, false };

	return b->n ? bsearch(&key, b->v, b->n, sizeof(*b->v), cmp_blob) : NULL;
}

static bool wants_detail(const struct pair *p, size_t member_max)
{
	return p->a && p->b && (p->aspects & DK_DA_BIT(DK_DA_CONTENT)) && p->a->type == DK_DT_REG &&
		p->b->type == DK_DT_REG && !p->a->kind && !p->b->kind && p->a->size <= member_max &&
		p->b->size <= member_max;
}

/* Pass 2: read both inputs again, keeping only the members whose contents differ, within the memory cap. */
static int collect_contents(struct run *r, struct pair *v, size_t n, const struct dk_diff_opts *o,
			    size_t member_max, struct dk_err *err)
{
	const char **want = NULL;
	size_t nw = 0;
	int rc;

	for (size_t i = 0; i < n; i++)
		nw += wants_detail(&v[i], member_max);
	if (!nw)
		return 0;
	want = malloc(nw * sizeof(*want));
	if (!want)
		return dk_err_set(err, DK_ENOMEM, "out of memory");
	nw = 0;
	for (size_t i = 0; i < n; i++)
		if (wants_detail(&v[i], member_max))
			want[nw++] = pair_path(&v[i]);
	qsort(want, nw, sizeof(*want), cmp_str);
	for (int s = 0; s < 2; s++) {
		r->sides[s].want = want;
		r->sides[s].nwant = nw;
		r->sides[s].member_max = member_max;
		r->sides[s].content.max = o->max_capture_bytes ? o->max_capture_bytes : (size_t)48 << 20;
		r->sides[s].rc = 0;
	}
	rc = walk_both(r, o, err);
	for (int s = 0; s < 2; s++) {
		struct dkd_blobs *b = &r->sides[s].content;

		if (b->n)
			qsort(b->v, b->n, sizeof(*b->v), cmp_blob);
		r->sides[s].want = NULL;
	}
	free(want);
	return rc;
}

static int add_item(struct dk_diff_report *rep, size_t *cap, const struct dk_diff_item *it)
{
	if (rep->nitems == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		struct dk_diff_item *v = realloc(rep->items, nc * sizeof(*v));

		if (!v)
			return -1;
		rep->items = v;
		*cap = nc;
	}
	rep->items[rep->nitems++] = *it;
	return 0;
}

/* The whole detail of one item: metadata lines, then what the contents show, capped in lines. */
static int item_detail(struct run *r, struct dk_diff_item *it, struct pair *p, uint32_t mask,
		       size_t max_lines, size_t member_max, struct dk_diff_report *rep)
{
	struct dk_buf meta = DK_BUF_INIT;
	struct dk_diff_detail d;
	size_t lines = 0;

	dk_diff_detail_init(&d);
	meta_detail(&meta, p, mask);
	for (const char *q = meta.data; *q; q++)
		lines += *q == '\n';
	if (lines > max_lines)
		lines = max_lines;
	if (p->aspects & mask & DK_DA_BIT(DK_DA_CONTENT)) {
		const struct dkd_blob *ba = NULL, *bb = NULL;

		if (wants_detail(p, member_max)) {
			ba = find_blob(&r->sides[0].content, it->path);
			bb = find_blob(&r->sides[1].content, it->path);
		}
		if (ba && bb && !ba->truncated && !bb->truncated) {
			if (dk_diff_content(&d, it->path[0] ? it->path : r->sides[1].input,
					    (const unsigned char *)ba->data, ba->len,
					    (const unsigned char *)bb->data, bb->len,
					    max_lines - lines) == DK_ENOMEM) {
				dk_buf_release(&meta);
				dk_diff_detail_release(&d);
				return DK_ENOMEM;
			}
			if (d.refine)
				p->aspects = (p->aspects & ~DK_DA_BIT(DK_DA_CONTENT)) | d.refine;
		} else {
			char ha[17], hb[17];

			dk_hex(p->a->sha256, 8, ha);
			dk_hex(p->b->sha256, 8, hb);
			dk_buf_addf(&meta,
				    "content differs: sha256 %s... -> %s..., size %llu -> %llu (no details: "
				    "%s)\n",
				    ha, hb, (unsigned long long)p->a->size, (unsigned long long)p->b->size,
				    p->a->type != DK_DT_REG || p->b->type != DK_DT_REG ? "not regular files"
					    : p->a->size > member_max || p->b->size > member_max
					    ? "over the size limit"
					    : "over the memory limit");
			rep->details_skipped++;
			lines++;
		}
	}
	it->aspects = p->aspects & mask;
	dk_buf_add(&meta, d.text.data, d.text.len);
	it->detail_lines = lines + d.lines;
	it->detail_omitted = d.omitted;
	it->detail = meta.failed ? NULL : dk_arena_strndup(&rep->arena, meta.data, meta.len);
	dk_buf_release(&meta);
	dk_diff_detail_release(&d);
	return 0;
}

static const char *expected_reason(const struct dk_diff_expect *e, const char *path, const char *cause)
{
	for (size_t i = 0; e && i < e->n; i++)
		if (e->v[i].is_path ? dk_diff_path_match(e->v[i].what, path)
				    : strcmp(e->v[i].what, cause) == 0)
			return e->v[i].reason;
	return NULL;
}

static bool excluded(const struct dk_diff_opts *o, const char *path)
{
	for (const char *const *p = o->exclude; p && *p; p++)
		if (dk_diff_path_match(*p, path))
			return true;
	return false;
}

static int build_pairs(struct run *r, struct pair **out, size_t *nout, struct dk_err *err)
{
	struct dkd_side *a = &r->sides[0], *b = &r->sides[1];
	struct pair *v = malloc((a->n + b->n + 1) * sizeof(*v));
	size_t i = 0, j = 0, n = 0;

	if (!v)
		return dk_err_set(err, DK_ENOMEM, "out of memory");
	if (a->n)
		qsort(a->m, a->n, sizeof(*a->m), cmp_member);
	if (b->n)
		qsort(b->m, b->n, sizeof(*b->m), cmp_member);
	while (i < a->n || j < b->n) {
		int c = i == a->n ? 1 : j == b->n ? -1 : strcmp(a->m[i].path, b->m[j].path);

		if (c == 0) {
			v[n++] = (struct pair){ &a->m[i], &b->m[j], compare(&a->m[i], &b->m[j]), false };
			i++, j++;
		} else if (c < 0) {
			v[n++] = (struct pair){ &a->m[i++], NULL, DK_DA_BIT(DK_DA_REMOVED), false };
		} else {
			v[n++] = (struct pair){ NULL, &b->m[j++], DK_DA_BIT(DK_DA_ADDED), false };
		}
	}
	*out = v;
	*nout = n;
	return 0;
}

static int add_pair_item(struct run *r, struct dk_diff_report *rep, struct pair *p, uint32_t mask,
			 const struct dk_diff_rules *rules, const struct dk_diff_opts *o, size_t max_lines,
			 size_t member_max, size_t *cap, struct dk_err *err)
{
	struct dk_diff_item it = { 0 };
	const struct dk_diff_rule *rule;
	const char *spkg;

	it.path = pair_path(p);
	it.a = p->a;
	it.b = p->b;
	if (item_detail(r, &it, p, mask, max_lines, member_max, rep))
		return dk_err_set(err, DK_ENOMEM, "out of memory");
	rule = dk_diff_rules_match(rules, it.path, it.aspects);
	it.cause = dk_arena_strdup(&rep->arena, rule ? rule->id : "unexplained");
	it.package = dkd_dpkg_owner(r->db[1], it.path, &spkg, &it.script);
	if (!it.package)
		it.package = dkd_dpkg_owner(r->db[0], it.path, &spkg, &it.script);
	it.expected = expected_reason(o->expect, it.path, it.cause);
	if (!it.expected)
		rep->unexpected++;
	if (add_item(rep, cap, &it))
		return dk_err_set(err, DK_ENOMEM, "out of memory");
	return 0;
}

static void run_release(struct run *r)
{
	for (int i = 0; i < 2; i++) {
		dkd_side_release(&r->sides[i]);
		dkd_dpkg_free(r->db[i]);
	}
	free(r);
}

int dk_diff_run(const char *a, const char *b, const struct dk_diff_opts *o, struct dk_diff_report *rep,
		struct dk_err *err)
{
	struct dk_diff_rules builtin = DK_DIFF_RULES_INIT;
	const struct dk_diff_rules *rules = o->rules;
	size_t member_max = o->max_member_bytes ? o->max_member_bytes : (size_t)16 << 20;
	size_t max_lines = o->max_detail_lines ? o->max_detail_lines : 40, cap = 0, np = 0;
	struct timespec deadline;
	struct pair *pairs = NULL;
	struct run *r;
	int rc;

	*rep = (struct dk_diff_report)DK_DIFF_REPORT_INIT;
	r = calloc(1, sizeof(*r));
	if (!r)
		return dk_err_set(err, DK_ENOMEM, "out of memory");
	rep->priv = r;
	rep->a_name = a;
	rep->b_name = b;
	if ((rc = dkd_input_kind(a, &rep->a_kind, err)) || (rc = dkd_input_kind(b, &rep->b_kind, err)))
		return rc;
	if (strcmp(rep->a_kind, rep->b_kind) != 0 && strcmp(rep->a_kind, "unknown") != 0 &&
	    strcmp(rep->b_kind, "unknown") != 0)
		return dk_err_set(err, DK_EINPUT, "inputs of different kinds: %s is %s %s, %s is %s %s", a,
				  strchr("aeiou", rep->a_kind[0]) ? "an" : "a", rep->a_kind, b,
				  strchr("aeiou", rep->b_kind[0]) ? "an" : "a", rep->b_kind);
	if (!rules) {
		if ((rc = dk_diff_rules_parse(&builtin, dk_diff_default_rules, strlen(dk_diff_default_rules),
					      "data/diff-rules", err)))
			return rc;
		rules = &builtin;
	}
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += o->timeout;
	for (int i = 0; i < 2; i++) {
		r->sides[i].input = i ? b : a;
		r->sides[i].name = i ? b : a;
		r->sides[i].meta.max = (size_t)64 << 20;
		r->sides[i].deadline = o->timeout ? &deadline : NULL;
	}
	if ((rc = walk_both(r, o, err)))
		goto out;
	rep->a_members = r->sides[0].n;
	rep->b_members = r->sides[1].n;
	rep->a_bytes = r->sides[0].bytes;
	rep->b_bytes = r->sides[1].bytes;
	if ((rc = build_pairs(r, &pairs, &np, err)))
		goto out;
	if ((rc = mark_order(pairs, np))) {
		rc = dk_err_set(err, DK_ENOMEM, "out of memory");
		goto out;
	}
	mark_encoding(pairs, np);
	for (size_t i = 0; i < np; i++)
		if (pairs[i].aspects && excluded(o, pair_path(&pairs[i])))
			pairs[i].aspects = 0;
	if ((rc = collect_contents(r, pairs, np, o, member_max, err)))
		goto out;
	for (int i = 0; i < 2; i++)
		if ((rc = dkd_dpkg_load(&r->db[i], &r->sides[i].meta, err)))
			goto out;
	for (size_t i = 0; i < np; i++) {
		/* A container's own aspects are causes of their own: "order only" beside "gzip header only". */
		static const uint32_t own[] = { DK_DA_BIT(DK_DA_ORDER), DK_DA_BIT(DK_DA_GZIP_HEADER),
						DK_DA_BIT(DK_DA_TAR_HEADER), DK_DA_BIT(DK_DA_ENCODING) };
		uint32_t emitted = 0;

		if (!pairs[i].aspects)
			continue;
		for (size_t g = 0; g <= sizeof(own) / sizeof(own[0]); g++) {
			uint32_t mask = g < sizeof(own) / sizeof(own[0]) ? own[g] : ~emitted;

			if (!(pairs[i].aspects & mask))
				continue;
			emitted |= mask;
			if ((rc = add_pair_item(r, rep, &pairs[i], mask, rules, o, max_lines, member_max,
						&cap, err)))
				goto out;
		}
	}
	if (dkd_dpkg_versions(r->db[0], r->db[1], &rep->arena, &rep->packages, &rep->npackages))
		rc = dk_err_set(err, DK_ENOMEM, "out of memory");
out:
	free(pairs);
	dk_diff_rules_release(&builtin);
	return rc;
}

void dk_diff_report_release(struct dk_diff_report *rep)
{
	if (rep->priv)
		run_release(rep->priv);
	free(rep->items);
	dk_arena_release(&rep->arena);
	*rep = (struct dk_diff_report)DK_DIFF_REPORT_INIT;
}
