/* target.c - what a scan looks at: packages from a dpkg status file, a manifest, an image tar or a snapshot */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include <debkeep/buf.h>
#include <debkeep/deb822.h>
#include <debkeep/hash.h>
#include <debkeep/input.h>
#include <debkeep/repo.h>
#include <debkeep/sec.h>
#include <debkeep/version.h>

#include "banned.h"

const char *dk_sec_target_kind_name(enum dk_sec_target_kind k)
{
	static const char *const names[] = { "dpkg-status", "manifest", "image", "snapshot" };

	return k <= DK_TARGET_SNAPSHOT ? names[k] : "?";
}

void dk_sec_target_release(struct dk_sec_target *tg)
{
	dk_arena_release(&tg->arena);
	free(tg->pkgs);
	*tg = (struct dk_sec_target)DK_SEC_TARGET_INIT;
}

static struct dk_sec_pkg *new_pkg(struct dk_sec_target *tg, size_t *alloc)
{
	if (tg->npkgs == *alloc) {
		size_t na = *alloc ? *alloc * 2 : 256;
		struct dk_sec_pkg *np = realloc(tg->pkgs, na * sizeof(*np));

		if (!np)
			return NULL;
		tg->pkgs = np;
		*alloc = na;
	}
	memset(&tg->pkgs[tg->npkgs], 0, sizeof(tg->pkgs[0]));
	return &tg->pkgs[tg->npkgs++];
}

static int pkg_cmp(const void *a, const void *b)
{
	const struct dk_sec_pkg *x = a, *y = b;
	int r = strcmp(x->source, y->source);

	if (!r)
		r = dk_version_cmp_str(x->source_version, strlen(x->source_version), y->source_version,
				       strlen(y->source_version));
	if (!r)
		r = strcmp(x->name, y->name);
	if (!r)
		r = strcmp(x->arch, y->arch);
	return r;
}

static char *field_dup(struct dk_arena *a, const struct dk_field *f)
{
	return f ? dk_arena_strndup(a, f->value, f->value_len) : NULL;
}

static int check_version(const char *v, size_t n, const char *name, unsigned line, const char *pkg, struct dk_err *err)
{
	struct dk_err verr = DK_ERR_INIT;
	struct dk_version ver;

	if (dk_version_parse(&ver, v, n, &verr) < 0)
		return dk_err_set(err, DK_EINPUT, "%s:%u: %s: %s", name, line, pkg, verr.msg);
	return 0;
}

/* dpkg keeps removed-but-configured and never-installed packages in the file too: they are not in the target. */
static bool status_installed(const struct dk_field *st)
{
	const char *s, *e;

	if (!st)
		return true;
	e = st->value + st->value_len;
	s = e;
	while (s > st->value && s[-1] != ' ')
		s--;
	return !((e - s == 13 && memcmp(s, "not-installed", 13) == 0) ||
		 (e - s == 12 && memcmp(s, "config-files", 12) == 0));
}

int dk_sec_target_parse_status(struct dk_sec_target *tg, const char *data, size_t len, const char *name,
			       struct dk_err *err)
{
	struct dk_deb822 p;
	struct dk_stanza st;
	size_t alloc = tg->npkgs;
	int r;

	dk_deb822_init(&p, data, len, name, 0);
	while ((r = dk_deb822_next(&p, &st, err)) == 1) {
		const struct dk_field *pkg = dk_stanza_get(&st, "Package"), *ver = dk_stanza_get(&st, "Version");
		const struct dk_field *src = dk_stanza_get(&st, "Source"), *arch = dk_stanza_get(&st, "Architecture");
		struct dk_sec_pkg *sp;

		if (!pkg) {
			r = dk_err_set(err, DK_EINPUT, "%s:%u: stanza without a Package field", name, st.line);
			break;
		}
		if (!status_installed(dk_stanza_get(&st, "Status")))
			continue;
		if (!ver) {
			r = dk_err_set(err, DK_EINPUT, "%s:%u: %.*s: no Version field", name, st.line,
				       (int)pkg->value_len, pkg->value);
			break;
		}
		if (!(sp = new_pkg(tg, &alloc))) {
			r = dk_err_set(err, DK_ENOMEM, "out of memory");
			break;
		}
		sp->name = field_dup(&tg->arena, pkg);
		sp->version = field_dup(&tg->arena, ver);
		sp->arch = arch ? field_dup(&tg->arena, arch) : "";
		if (!sp->name || !sp->version || !sp->arch) {
			r = dk_err_set(err, DK_ENOMEM, "out of memory");
			break;
		}
		if ((r = check_version(ver->value, ver->value_len, name, ver->line, sp->name, err)) < 0)
			break;
		sp->source = sp->name;
		sp->source_version = sp->version;
		if (src) {
			/* "Source: name (version)": dpkg writes the version when it differs, as for a binNMU. */
			const char *s = src->value, *e = s + src->value_len, *q = s;

			while (q < e && *q != ' ' && *q != '(')
				q++;
			sp->source = dk_arena_strndup(&tg->arena, s, (size_t)(q - s));
			while (q < e && *q == ' ')
				q++;
			if (q < e) {
				if (*q != '(' || e[-1] != ')' || e - q < 3) {
					r = dk_err_set(err, DK_EINPUT, "%s:%u: %s: malformed Source field", name,
						       src->line, sp->name);
					break;
				}
				if ((r = check_version(q + 1, (size_t)(e - q - 2), name, src->line, sp->name, err)) < 0)
					break;
				sp->source_version = dk_arena_strndup(&tg->arena, q + 1, (size_t)(e - q - 2));
			}
			if (!sp->source || !sp->source_version) {
				r = dk_err_set(err, DK_ENOMEM, "out of memory");
				break;
			}
		}
	}
	dk_deb822_release(&p);
	if (r < 0)
		return r;
	if (tg->npkgs)
		qsort(tg->pkgs, tg->npkgs, sizeof(tg->pkgs[0]), pkg_cmp);
	return 0;
}

int dk_sec_target_parse_manifest(struct dk_sec_target *tg, const char *data, size_t len, const char *name,
				 struct dk_err *err)
{
	const char *pos = data, *end = data + len;
	size_t alloc = tg->npkgs;
	unsigned line = 0;
	int r;

	while (pos < end) {
		const char *nl = memchr(pos, '\n', (size_t)(end - pos)), *le = nl ? nl : end, *s = pos;
		const char *f[6], *fe[6];
		struct dk_sec_pkg *sp;
		int nf = 0;

		pos = nl ? nl + 1 : end;
		line++;
		while (nf < 6) {
			while (s < le && (*s == ' ' || *s == '\t' || *s == '\r'))
				s++;
			if (s == le)
				break;
			f[nf] = s;
			while (s < le && *s != ' ' && *s != '\t' && *s != '\r')
				s++;
			fe[nf++] = s;
		}
		if (nf == 0 || *f[0] == '#')
			continue;
		if (nf != 5)
			return dk_err_set(err, DK_EINPUT,
					  "%s:%u: expected 5 fields (name version arch source source-version), got %s",
					  name, line,
					  nf > 5    ? "more"
					  : nf == 1 ? "1"
					  : nf == 2 ? "2"
					  : nf == 3 ? "3"
						    : "4");
		for (int i = 0; i < 5; i++)
			for (const char *c = f[i]; c < fe[i]; c++)
				if ((unsigned char)*c >= 0x80 || (unsigned char)*c < 0x20)
					return dk_err_set(err, DK_EINPUT, "%s:%u: invalid byte 0x%02x", name, line,
							  (unsigned char)*c);
		if (!(sp = new_pkg(tg, &alloc)))
			return dk_err_set(err, DK_ENOMEM, "out of memory");
		sp->name = dk_arena_strndup(&tg->arena, f[0], (size_t)(fe[0] - f[0]));
		sp->version = dk_arena_strndup(&tg->arena, f[1], (size_t)(fe[1] - f[1]));
		sp->arch = dk_arena_strndup(&tg->arena, f[2], (size_t)(fe[2] - f[2]));
		sp->source = dk_arena_strndup(&tg->arena, f[3], (size_t)(fe[3] - f[3]));
		sp->source_version = dk_arena_strndup(&tg->arena, f[4], (size_t)(fe[4] - f[4]));
		if (!sp->name || !sp->version || !sp->arch || !sp->source || !sp->source_version)
			return dk_err_set(err, DK_ENOMEM, "out of memory");
		if ((r = check_version(f[1], (size_t)(fe[1] - f[1]), name, line, sp->name, err)) < 0 ||
		    (r = check_version(f[4], (size_t)(fe[4] - f[4]), name, line, sp->name, err)) < 0)
			return r;
	}
	if (tg->npkgs)
		qsort(tg->pkgs, tg->npkgs, sizeof(tg->pkgs[0]), pkg_cmp);
	return 0;
}

int dk_sec_target_sources(const struct dk_sec_target *tg, struct dk_strpool *pool, struct dk_err *err)
{
	for (size_t i = 0; i < tg->npkgs; i++)
		if (!dk_strpool_intern(pool, tg->pkgs[i].source, strlen(tg->pkgs[i].source)))
			return dk_err_set(err, DK_ENOMEM, "out of memory");
	return 0;
}

/* The status file out of an image tar; DK_NOTFOUND when path is not an archive at all. */
static int read_image(struct dk_sec_target *tg, const char *path, struct dk_err *err)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ent;
	struct dk_buf b = DK_BUF_INIT;
	bool first = true, found = false;
	char name[4096];
	int r = 0, rc;

	if (!a)
		return dk_err_set(err, DK_ENOMEM, "out of memory");
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	if (archive_read_open_filename(a, path, 1 << 16) != ARCHIVE_OK) {
		r = DK_NOTFOUND;
		goto out;
	}
	while ((rc = archive_read_next_header(a, &ent)) == ARCHIVE_OK) {
		const char *p = archive_entry_pathname(ent);

		first = false;
		while (p && (p[0] == '.' || p[0] == '/') && (p[0] == '/' || p[1] == '/'))
			p += p[0] == '/' ? 1 : 2;
		if (!p || strcmp(p, "var/lib/dpkg/status") != 0 || archive_entry_filetype(ent) != AE_IFREG)
			continue;
		for (;;) {
			ssize_t n;

			if (dk_buf_grow(&b, 1 << 16) < 0) {
				r = dk_err_set(err, DK_ENOMEM, "%s: var/lib/dpkg/status: out of memory", path);
				goto out;
			}
			n = archive_read_data(a, b.data + b.len, 1 << 16);
			if (n < 0) {
				r = dk_err_set(err, DK_EINPUT, "%s: var/lib/dpkg/status: %s", path,
					       archive_error_string(a));
				goto out;
			}
			if (n == 0)
				break;
			b.len += (size_t)n;
			b.data[b.len] = '\0';
		}
		found = true;
		break;
	}
	if (first && !found) {
		r = DK_NOTFOUND;
		goto out;
	}
	if (!found) {
		r = rc == ARCHIVE_EOF ? dk_err_set(err, DK_EINPUT, "%s: image has no var/lib/dpkg/status", path)
				      : dk_err_set(err, DK_EINPUT, "%s: %s", path, archive_error_string(a));
		goto out;
	}
	tg->kind = DK_TARGET_IMAGE;
	snprintf(name, sizeof(name), "%s:var/lib/dpkg/status", path);
	r = dk_sec_target_parse_status(tg, b.data, b.len, name, err);
out:
	archive_read_free(a);
	dk_buf_release(&b);
	return r;
}

/* A manifest's first line has five blank-separated fields and no "Field:" name. */
static bool looks_like_manifest(const char *data, size_t len)
{
	const char *s = data, *e = data + len;

	while (s < e && (*s == '\n' || *s == '#')) {
		if (*s == '#')
			while (s < e && *s != '\n')
				s++;
		else
			s++;
	}
	while (s < e && *s != '\n' && *s != ' ' && *s != '\t') {
		if (*s == ':')
			return false;
		s++;
	}
	return s < e && *s != '\n';
}

/*
 * Does the file start as text, as a status file or a manifest does? Then
 * it is no archive, and libarchive need not be loaded to say so: a tar
 * header has NUL bytes, and compressed data has control bytes in its first
 * block as surely.
 */
static bool starts_as_text(const char *path)
{
	unsigned char b[4096];
	ssize_t n = -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		n = pread(fd, b, sizeof(b), 0);
		close(fd);
	}
	for (ssize_t i = 0; i < n; i++)
		if (b[i] < 0x20 && b[i] != '\t' && b[i] != '\n' && b[i] != '\r')
			return false;
	return n > 0;
}

int dk_sec_target_load(struct dk_sec_target *tg, const char *path, struct dk_err *err)
{
	struct dk_input in = DK_INPUT_INIT;
	int r;

	if (!(tg->path = dk_arena_strdup(&tg->arena, path)))
		return dk_err_set(err, DK_ENOMEM, "out of memory");
	if (!starts_as_text(path) && (r = read_image(tg, path, err)) != DK_NOTFOUND)
		return r;
	if ((r = dk_input_open(&in, path, (size_t)1 << 30, err)) < 0)
		return r;
	if (looks_like_manifest(in.data, in.len)) {
		tg->kind = DK_TARGET_MANIFEST;
		r = dk_sec_target_parse_manifest(tg, in.data, in.len, path, err);
	} else {
		tg->kind = DK_TARGET_STATUS;
		r = dk_sec_target_parse_status(tg, in.data, in.len, path, err);
	}
	dk_input_release(&in);
	return r;
}

int dk_sec_target_digest(struct dk_sec_target *tg, struct dk_err *err)
{
	unsigned char digest[32];
	int r;

	if (tg->sha256[0])
		return 0;
	if (!tg->path)
		return dk_err_set(err, DK_EINPUT, "the target has no file to hash");
	if ((r = dk_hash_file(DK_SHA256, tg->path, digest, err)) < 0)
		return r;
	dk_hex(digest, sizeof(digest), tg->sha256);
	return 0;
}

struct snap_ctx {
	struct dk_sec_target *tg;
	size_t alloc;
	struct dk_hash h;
	struct dk_err *err;
};

static int snap_member(void *ctx, const struct dk_snapshot_pkg *p)
{
	struct snap_ctx *c = ctx;
	struct dk_arena *a = &c->tg->arena;
	struct dk_sec_pkg *sp;
	struct dk_buf line = DK_BUF_INIT;
	int r;

	if (!(sp = new_pkg(c->tg, &c->alloc)))
		return dk_err_set(c->err, DK_ENOMEM, "out of memory");
	sp->name = dk_arena_strdup(a, p->name);
	sp->version = dk_arena_strdup(a, p->version);
	sp->arch = dk_arena_strdup(a, p->arch);
	/* A row without a source is its own source, as dpkg reads a control file without Source. */
	sp->source = p->source && *p->source ? dk_arena_strdup(a, p->source) : sp->name;
	sp->source_version = p->source_version && *p->source_version ? dk_arena_strdup(a, p->source_version)
								     : sp->version;
	if (!sp->name || !sp->version || !sp->arch || !sp->source || !sp->source_version)
		return dk_err_set(c->err, DK_ENOMEM, "out of memory");
	dk_buf_addf(&line, "%s %s %s %s\n", p->name, p->version, p->arch, p->sha256);
	r = dk_buf_check(&line, c->err, "a snapshot member");
	if (r == 0)
		r = dk_hash_update(&c->h, line.data, line.len, c->err);
	dk_buf_release(&line);
	return r;
}

int dk_sec_target_load_snapshot(struct dk_sec_target *tg, const char *root, const char *name, struct dk_err *err)
{
	struct dk_repo repo;
	struct snap_ctx c = { tg, tg->npkgs, { 0 }, err };
	unsigned char digest[32];
	int r;

	if ((r = dk_repo_open(&repo, root, 0, "security scan", 0, err)) < 0)
		return r;
	if ((r = dk_hash_init(&c.h, DK_SHA256, err)) < 0) {
		dk_repo_close(&repo);
		return r;
	}
	r = dk_snapshot_packages(&repo, name, snap_member, &c, err);
	dk_repo_close(&repo);
	if (r < 0) {
		dk_hash_release(&c.h);
		return r;
	}
	if ((r = dk_hash_final(&c.h, digest, err)) < 0)
		return r;
	dk_hex(digest, sizeof(digest), tg->sha256);
	tg->kind = DK_TARGET_SNAPSHOT;
	if (tg->npkgs)
		qsort(tg->pkgs, tg->npkgs, sizeof(tg->pkgs[0]), pkg_cmp);
	return 0;
}

int dk_sec_target_open(struct dk_sec_target *tg, const char *spec, const char *root, struct dk_err *err)
{
	size_t n = strlen(DK_SEC_SNAPSHOT_PREFIX);

	if (strncmp(spec, DK_SEC_SNAPSHOT_PREFIX, n) != 0)
		return dk_sec_target_load(tg, spec, err);
	if (!spec[n])
		return dk_err_set(err, DK_EINPUT, "'%s': no snapshot name after '%s'", spec, DK_SEC_SNAPSHOT_PREFIX);
	return dk_sec_target_load_snapshot(tg, root, spec + n, err);
}
