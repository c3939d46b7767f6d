/* verify.c - the chain of trust of an upstream repository: Release files, their hashes, OpenPGP checks with gpgme */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gpgme.h>

#include <debkeep/buf.h>
#include <debkeep/deb822.h>
#include <debkeep/hash.h>
#include <debkeep/mirror.h>

#include "banned.h"

void dk_relfile_release(struct dk_relfile *rf)
{
	free(rf->origin);
	free(rf->label);
	free(rf->suite);
	free(rf->codename);
	free(rf->date_text);
	for (size_t i = 0; i < rf->narchs; i++)
		free(rf->archs[i]);
	free(rf->archs);
	for (size_t i = 0; i < rf->ncomponents; i++)
		free(rf->components[i]);
	free(rf->components);
	for (size_t i = 0; i < rf->nfiles; i++)
		free(rf->files[i].path);
	free(rf->files);
	memset(rf, 0, sizeof(*rf));
}

static int month_of(const char *s)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

	for (int i = 0; i < 12; i++)
		if (strncmp(months + 3 * i, s, 3) == 0)
			return i;
	return -1;
}

/* Digits at *p (exactly n of them when n > 0, else 1 to 4), advancing *p. */
static int digits(const char **p, const char *end, int n, int *out)
{
	int v = 0, got = 0;

	while (*p < end && **p >= '0' && **p <= '9' && (n == 0 ? got < 4 : got < n)) {
		v = v * 10 + (**p - '0');
		(*p)++;
		got++;
	}
	if (got == 0 || (n > 0 && got != n))
		return -1;
	*out = v;
	return 0;
}

static void skip_blanks(const char **p, const char *end)
{
	while (*p < end && (**p == ' ' || **p == '\t'))
		(*p)++;
}

int dk_rfc2822_parse(const char *s, size_t n, time_t *out)
{
	const char *p = s, *end = s + n;
	struct tm tm = { 0 };
	int day, year, h, m, sec = 0, off = 0;

	skip_blanks(&p, end);
	/* The day name is optional and says nothing the date does not. */
	if (end - p >= 4 && p[3] == ',')
		p += 4;
	skip_blanks(&p, end);
	if (digits(&p, end, 0, &day) < 0 || day < 1 || day > 31)
		return -1;
	skip_blanks(&p, end);
	if (end - p < 3 || (tm.tm_mon = month_of(p)) < 0)
		return -1;
	p += 3;
	skip_blanks(&p, end);
	if (digits(&p, end, 4, &year) < 0 || year < 1970)
		return -1;
	skip_blanks(&p, end);
	if (digits(&p, end, 2, &h) < 0 || h > 23 || p >= end || *p++ != ':' || digits(&p, end, 2, &m) < 0 || m > 59)
		return -1;
	if (p < end && *p == ':' && (p++, digits(&p, end, 2, &sec) < 0 || sec > 60))
		return -1;
	skip_blanks(&p, end);
	if (end - p >= 5 && (*p == '+' || *p == '-')) {
		int hh, mm;
		const char *q = p + 1;

		if (digits(&q, end, 2, &hh) < 0 || digits(&q, end, 2, &mm) < 0 || mm > 59)
			return -1;
		off = (*p == '-' ? -1 : 1) * (hh * 3600 + mm * 60);
		p = q;
	} else if ((end - p == 3 && (!memcmp(p, "UTC", 3) || !memcmp(p, "GMT", 3))) ||
		   (end - p == 1 && *p == 'Z')) {
		p = end;
	}
	skip_blanks(&p, end);
	if (p != end)
		return -1;
	tm.tm_mday = day;
	tm.tm_year = year - 1900;
	tm.tm_hour = h;
	tm.tm_min = m;
	tm.tm_sec = sec;
	*out = timegm(&tm) - off;
	return 0;
}

/* A path under dists/SUITE/: relative, no empty, "." or ".." component, printable, no blanks. */
static bool safe_relpath(const char *p, size_t n)
{
	size_t start = 0;

	if (n == 0 || n > 1024 || p[0] == '/')
		return false;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && p[i] != '/') {
			if ((unsigned char)p[i] <= ' ' || (unsigned char)p[i] >= 0x7f)
				return false;
			continue;
		}
		if (i == start || (i - start == 1 && p[start] == '.') ||
		    (i - start == 2 && p[start] == '.' && p[start + 1] == '.'))
			return false;
		start = i + 1;
	}
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

/* A field's logical value as a new string. */
static int field_str(const struct dk_field *f, char **out, struct dk_err *err)
{
	struct dk_buf b = DK_BUF_INIT;

	dk_field_value(f, &b);
	if (dk_buf_check(&b, err, "Release") < 0) {
		dk_buf_release(&b);
		return DK_ENOMEM;
	}
	*out = dk_buf_detach(&b, NULL);
	return 0;
}

/* A blank-separated list ("amd64 arm64 all") as a vector of strings. */
static int words(const struct dk_field *f, char ***out, size_t *n, struct dk_err *err)
{
	const char *p = f->value, *end = f->value + f->value_len;

	while (p < end) {
		const char *w;
		char **v;

		while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
			p++;
		if (p == end)
			break;
		w = p;
		while (p < end && !(*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
			p++;
		if (!(v = realloc(*out, (*n + 1) * sizeof(*v))))
			return dk_err_set(err, DK_ENOMEM, "out of memory");
		*out = v;
		if (!(v[*n] = dup_n(w, p - w)))
			return dk_err_set(err, DK_ENOMEM, "out of memory");
		(*n)++;
	}
	return 0;
}

static bool is_hex64(const char *p, size_t n)
{
	if (n != 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f') || (p[i] >= 'A' && p[i] <= 'F')))
			return false;
	return true;
}

/* The SHA256 list: one "HASH SIZE PATH" per continuation line. */
static int parse_sha256(struct dk_relfile *rf, const struct dk_field *f, const char *name, struct dk_err *err)
{
	const char *p = f->value, *end = f->value + f->value_len;
	unsigned line = f->line;
	size_t cap = 0;

	while (p < end) {
		const char *eol = memchr(p, '\n', end - p), *tok[3], *q;
		size_t len[3];
		char *e;
		unsigned long long size;

		if (!eol)
			eol = end;
		q = p;
		for (int i = 0; i < 3; i++) {
			while (q < eol && (*q == ' ' || *q == '\t' || *q == '\r'))
				q++;
			tok[i] = q;
			while (q < eol && !(*q == ' ' || *q == '\t' || *q == '\r'))
				q++;
			len[i] = q - tok[i];
		}
		while (q < eol && (*q == ' ' || *q == '\t' || *q == '\r'))
			q++;
		if (len[0] == 0) {
			p = eol + 1;
			line++;
			continue;
		}
		if (!is_hex64(tok[0], len[0]) || len[1] == 0 || len[1] > 19 || q != eol || len[2] == 0)
			return dk_err_set(err, DK_EINPUT, "%s:%u: SHA256: bad line (want 'HASH SIZE PATH')", name, line);
		size = strtoull(tok[1], &e, 10);
		if (e != tok[1] + len[1] || tok[1][0] < '0' || tok[1][0] > '9')
			return dk_err_set(err, DK_EINPUT, "%s:%u: SHA256: bad size '%.*s'", name, line, (int)len[1],
					  tok[1]);
		if (!safe_relpath(tok[2], len[2]))
			return dk_err_set(err, DK_EINPUT, "%s:%u: SHA256: unsafe path '%.*s'", name, line,
					  (int)(len[2] > 200 ? 200 : len[2]), tok[2]);
		if (rf->nfiles == cap) {
			size_t ncap = cap ? 2 * cap : 64;
			struct dk_relfile_entry *v = realloc(rf->files, ncap * sizeof(*v));

			if (!v)
				return dk_err_set(err, DK_ENOMEM, "out of memory");
			rf->files = v;
			cap = ncap;
		}
		if (!(rf->files[rf->nfiles].path = dup_n(tok[2], len[2])))
			return dk_err_set(err, DK_ENOMEM, "out of memory");
		rf->files[rf->nfiles].size = size;
		for (int i = 0; i < 64; i++)
			rf->files[rf->nfiles].sha256[i] = (char)(tok[0][i] | 0x20);
		rf->files[rf->nfiles].sha256[64] = '\0';
		rf->nfiles++;
		p = eol + 1;
		line++;
	}
	return 0;
}

int dk_relfile_parse(struct dk_relfile *rf, const char *data, size_t len, const char *name, struct dk_err *err)
{
	static const char *const strs[] = { "Origin", "Label", "Suite", "Codename", "Date" };
	struct dk_deb822 p;
	struct dk_stanza st;
	const struct dk_field *f;
	char **dst[5];
	int r;

	memset(rf, 0, sizeof(*rf));
	dst[0] = &rf->origin;
	dst[1] = &rf->label;
	dst[2] = &rf->suite;
	dst[3] = &rf->codename;
	dst[4] = &rf->date_text;
	if (len > DK_RELEASE_MAX)
		return dk_err_set(err, DK_EINPUT, "%s: too big for a Release file", name);
	dk_deb822_init(&p, data, len, name, 0);
	if ((r = dk_deb822_next(&p, &st, err)) <= 0) {
		if (r == 0)
			r = dk_err_set(err, DK_EINPUT, "%s: empty Release file", name);
		goto out;
	}
	for (int i = 0; i < 5; i++)
		if ((f = dk_stanza_get(&st, strs[i])) && (r = field_str(f, dst[i], err)) < 0)
			goto out;
	if (rf->date_text && dk_rfc2822_parse(rf->date_text, strlen(rf->date_text), &rf->date) < 0) {
		r = dk_err_set(err, DK_EINPUT, "%s:%u: Date: not a date '%.60s'", name, dk_stanza_get(&st, "Date")->line,
			       rf->date_text);
		goto out;
	}
	if ((f = dk_stanza_get(&st, "Valid-Until")) && dk_rfc2822_parse(f->value, f->value_len, &rf->valid_until) < 0) {
		r = dk_err_set(err, DK_EINPUT, "%s:%u: Valid-Until: not a date '%.*s'", name, f->line,
			       (int)(f->value_len > 60 ? 60 : f->value_len), f->value);
		goto out;
	}
	if ((f = dk_stanza_get(&st, "Architectures")) && (r = words(f, &rf->archs, &rf->narchs, err)) < 0)
		goto out;
	if ((f = dk_stanza_get(&st, "Components")) && (r = words(f, &rf->components, &rf->ncomponents, err)) < 0)
		goto out;
	f = dk_stanza_get(&st, "Acquire-By-Hash");
	rf->by_hash = f && f->value_len == 3 && strncasecmp(f->value, "yes", 3) == 0;
	if (!(f = dk_stanza_get(&st, "SHA256"))) {
		r = dk_err_set(err, DK_EINPUT, "%s: no SHA256 list (an older Release with MD5Sum only is not trusted)",
			       name);
		goto out;
	}
	if ((r = parse_sha256(rf, f, name, err)) < 0)
		goto out;
	if ((r = dk_deb822_next(&p, &st, err)) > 0)
		r = dk_err_set(err, DK_EINPUT, "%s:%u: a second stanza in a Release file", name, st.line);
out:
	dk_deb822_release(&p);
	if (r < 0)
		dk_relfile_release(rf);
	return r < 0 ? r : 0;
}

static bool in_list(char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

int dk_relfile_check(const struct dk_relfile *rf, const char *name, const char *suite, char *const *archs,
		     size_t narchs, char *const *components, size_t ncomponents, time_t now, struct dk_err *err)
{
	if (!(rf->suite && strcmp(rf->suite, suite) == 0) && !(rf->codename && strcmp(rf->codename, suite) == 0))
		return dk_err_set(err, DK_EINPUT, "%s: is for suite '%s' (codename '%s'), not '%s'", name,
				  rf->suite ? rf->suite : "", rf->codename ? rf->codename : "", suite);
	for (size_t i = 0; i < narchs; i++)
		if (!in_list(rf->archs, rf->narchs, archs[i]))
			return dk_err_set(err, DK_EINPUT, "%s: no architecture '%s'", name, archs[i]);
	for (size_t i = 0; i < ncomponents; i++)
		if (!in_list(rf->components, rf->ncomponents, components[i]))
			return dk_err_set(err, DK_EINPUT, "%s: no component '%s'", name, components[i]);
	if (rf->valid_until && rf->valid_until < now) {
		struct tm tm;
		char when[32];

		gmtime_r(&rf->valid_until, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		/* An expired Release may be an old one replayed to hold back security updates. */
		return dk_err_set(err, DK_EINPUT, "%s: expired (Valid-Until %s is past); refusing it", name, when);
	}
	return 0;
}

const struct dk_relfile_entry *dk_relfile_find(const struct dk_relfile *rf, const char *path)
{
	for (size_t i = 0; i < rf->nfiles; i++)
		if (strcmp(rf->files[i].path, path) == 0)
			return &rf->files[i];
	return NULL;
}

const struct dk_relfile_entry *dk_relfile_packages(const struct dk_relfile *rf, const char *component,
						   const char *arch)
{
	/*
	 * gzip before xz: zlib decodes bookworm's 50 MB main index in a third of
	 * liblzma's time (0.28 s against 0.83 s of CPU here), which is most of an
	 * update's index work, for 3 MB more to download; both are verified alike.
	 */
	static const char *const ext[] = { ".gz", ".xz", "" };
	char path[1200];

	for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		const struct dk_relfile_entry *e;

		if ((size_t)snprintf(path, sizeof(path), "%s/binary-%s/Packages%s", component, arch, ext[i]) >=
		    sizeof(path))
			return NULL;
		if ((e = dk_relfile_find(rf, path)))
			return e;
	}
	return NULL;
}

int dk_relfile_verify(const struct dk_relfile_entry *e, const void *data, size_t len, struct dk_err *err)
{
	unsigned char md[DK_HASH_MAX];
	char hex[65];
	int r;

	if (len != e->size)
		return dk_err_set(err, DK_EINPUT, "%s: size %zu, Release says %llu", e->path, len,
				  (unsigned long long)e->size);
	if ((r = dk_hash_mem(DK_SHA256, data, len, md, err)) < 0)
		return r;
	dk_hex(md, 32, hex);
	if (strcmp(hex, e->sha256) != 0)
		return dk_err_set(err, DK_EINPUT, "%s: SHA256 mismatch (Release says %.16s..., got %.16s...)", e->path,
				  e->sha256, hex);
	return 0;
}

static int gpg_fail(struct dk_err *err, const char *what, gpgme_error_t e)
{
	return dk_err_set(err, DK_EIO, "%s: %s", what, gpgme_strerror(e));
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/*
 * A context whose GnuPG home is a fresh directory under tmpdir holding only
 * keyring's keys: as with gpgv (and apt's signed-by), a good signature from
 * any of them is trusted, so gpg's web of trust has no say here and a
 * signature counts when gpg reports it good (GOODSIG and VALIDSIG), from a
 * key that is not expired or revoked. no-autostart keeps an agent from
 * being started for a verification.
 */
struct gpg_home {
	char dir[4096];
	gpgme_ctx_t ctx;
};

static void home_release(struct gpg_home *h)
{
	if (h->ctx)
		gpgme_release(h->ctx);
	h->ctx = NULL;
	if (h->dir[0])
		nftw(h->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	h->dir[0] = '\0';
}

static int home_init(struct gpg_home *h, const char *keyring, size_t keyring_len, const char *tmpdir,
		     size_t *keys, struct dk_err *err)
{
	static const char conf[] = "no-autostart\nno-auto-key-retrieve\n";
	gpgme_data_t kd;
	gpgme_import_result_t ir;
	gpgme_error_t e;
	char path[4200];
	FILE *f;
	int r;

	h->ctx = NULL;
	if ((size_t)snprintf(h->dir, sizeof(h->dir), "%s/gpg-XXXXXX", tmpdir) >= sizeof(h->dir) - 16) {
		h->dir[0] = '\0';
		return dk_err_set(err, DK_EINPUT, "%s: path too long", tmpdir);
	}
	if (!mkdtemp(h->dir)) {
		r = dk_err_errno(err, "%s", h->dir);
		h->dir[0] = '\0';
		return r;
	}
	snprintf(path, sizeof(path), "%s/gpg.conf", h->dir);
	if (!(f = fopen(path, "w")) || fputs(conf, f) < 0 || fclose(f) != 0) {
		r = dk_err_errno(err, "%s", path);
		goto fail;
	}
	gpgme_check_version(NULL);
	if ((e = gpgme_new(&h->ctx))) {
		h->ctx = NULL;
		r = gpg_fail(err, "gpgme_new", e);
		goto fail;
	}
	if ((e = gpgme_set_protocol(h->ctx, GPGME_PROTOCOL_OpenPGP)) ||
	    (e = gpgme_ctx_set_engine_info(h->ctx, GPGME_PROTOCOL_OpenPGP, NULL, h->dir))) {
		r = gpg_fail(err, "gpgme engine", e);
		goto fail;
	}
	if ((e = gpgme_data_new_from_mem(&kd, keyring, keyring_len, 0))) {
		r = gpg_fail(err, "gpgme_data_new_from_mem", e);
		goto fail;
	}
	e = gpgme_op_import(h->ctx, kd);
	gpgme_data_release(kd);
	ir = e ? NULL : gpgme_op_import_result(h->ctx);
	if (e || !ir) {
		r = dk_err_set(err, DK_EINPUT, "keyring: cannot import: %s", gpgme_strerror(e));
		goto fail;
	}
	*keys = (size_t)ir->imported + (size_t)ir->unchanged;
	if (*keys == 0) {
		r = dk_err_set(err, DK_EINPUT, "keyring: no OpenPGP public key in it");
		goto fail;
	}
	return 0;
fail:
	home_release(h);
	return r;
}

int dk_verify_keyring(const char *keyring, size_t keyring_len, const char *tmpdir, size_t *keys, struct dk_err *err)
{
	struct gpg_home h;
	int r = home_init(&h, keyring, keyring_len, tmpdir, keys, err);

	if (r == 0)
		home_release(&h);
	return r;
}

/* Why a signature does not count, in words; NULL when it does. */
static const char *sig_problem(const gpgme_signature_t s)
{
	if (s->summary & GPGME_SIGSUM_KEY_REVOKED)
		return "key revoked";
	if (s->summary & GPGME_SIGSUM_KEY_EXPIRED)
		return "key expired";
	if (s->summary & GPGME_SIGSUM_SIG_EXPIRED)
		return "signature expired";
	if (s->summary & GPGME_SIGSUM_KEY_MISSING)
		return "made by a key not in the mirror's keyring";
	if (gpgme_err_code(s->status) == GPG_ERR_BAD_SIGNATURE || (s->summary & GPGME_SIGSUM_RED))
		return "BAD signature";
	if (gpgme_err_code(s->status) != GPG_ERR_NO_ERROR)
		return gpgme_strerror(s->status);
	return NULL;
}

int dk_verify_release(const char *keyring, size_t keyring_len, const char *tmpdir, const char *data, size_t len,
		      const char *sig, size_t sig_len, char **text, size_t *text_len, char fpr[41],
		      struct dk_err *err)
{
	const char *what = sig ? "Release.gpg" : "InRelease";
	gpgme_data_t dsig = NULL, dtext = NULL, dout = NULL;
	gpgme_verify_result_t vr;
	const char *problem = "no signature";
	struct gpg_home h;
	gpgme_error_t e;
	size_t keys;
	int r;

	*text = NULL;
	*text_len = 0;
	fpr[0] = '\0';
	if ((r = home_init(&h, keyring, keyring_len, tmpdir, &keys, err)) < 0)
		return r;
	if (sig) {
		e = gpgme_data_new_from_mem(&dsig, sig, sig_len, 0);
		if (!e)
			e = gpgme_data_new_from_mem(&dtext, data, len, 0);
	} else {
		e = gpgme_data_new_from_mem(&dsig, data, len, 0);
		if (!e)
			e = gpgme_data_new(&dout);
	}
	if (e) {
		r = gpg_fail(err, "gpgme_data_new", e);
		goto out;
	}
	e = gpgme_op_verify(h.ctx, dsig, dtext, dout);
	vr = e ? NULL : gpgme_op_verify_result(h.ctx);
	if (e || !vr) {
		r = dk_err_set(err, DK_EINPUT, "%s: cannot verify: %s", what, gpgme_strerror(e));
		goto out;
	}
	for (gpgme_signature_t s = vr->signatures; s; s = s->next) {
		const char *why = sig_problem(s);

		if (!why && s->fpr) {
			snprintf(fpr, 41, "%s", s->fpr);
			problem = NULL;
			break;
		}
		if (why)
			problem = why;
	}
	if (problem) {
		r = dk_err_set(err, DK_EINPUT, "%s: signature not trusted: %s", what, problem);
		goto out;
	}
	if (sig) {
		if (!(*text = dup_n(data, len))) {
			r = dk_err_set(err, DK_ENOMEM, "out of memory");
			goto out;
		}
		*text_len = len;
	} else {
		size_t n = 0;
		char *p = gpgme_data_release_and_get_mem(dout, &n);

		dout = NULL;
		if (!p || n == 0) {
			gpgme_free(p);
			r = dk_err_set(err, DK_EINPUT, "InRelease: signed text is empty");
			goto out;
		}
		*text = dup_n(p, n);
		gpgme_free(p);
		if (!*text) {
			r = dk_err_set(err, DK_ENOMEM, "out of memory");
			goto out;
		}
		*text_len = n;
	}
	r = 0;
out:
	if (dsig)
		gpgme_data_release(dsig);
	if (dtext)
		gpgme_data_release(dtext);
	if (dout)
		gpgme_data_release(dout);
	home_release(&h);
	return r;
}
