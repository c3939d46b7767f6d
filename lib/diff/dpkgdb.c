/* dpkgdb.c - who made a path: the image's own dpkg database (info lists, maintainer scripts, status), .deb control */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <debkeep/deb822.h>
#include <debkeep/map.h>
#include <debkeep/strpool.h>

#include "walk.h"

#include "banned.h"

struct owned {
	const char *path;
	const char *pkg;
	struct owned *next;
};

struct script {
	const char *prefix; /* where the image's root is, as member paths go */
	const char *pkg;
	const char *kind; /* postinst, preinst, config */
	const char *text;
	size_t len;
};

struct version {
	const char *pkg;
	const char *ver;
	const char *prefix; /* a .deb's member prefix: its members are this package's */
};

struct dkd_dpkg {
	struct dk_arena arena;
	struct dk_map owned;
	struct script *scripts;
	size_t nscripts;
	struct version *versions;
	size_t nversions;
};

/* dk_map reserves UINT64_MAX as a key. */
static uint64_t path_key(const char *path)
{
	return dk_hash_bytes(path, strlen(path)) >> 1;
}

static int push(void **v, size_t *n, size_t size)
{
	void *p;

	if (*n && (*n & (*n - 1)))
		return 0;
	p = realloc(*v, (*n ? *n * 2 : 16) * size);
	if (!p)
		return -1;
	*v = p;
	return 0;
}

/* "PFX" and "var/lib/dpkg/info/NAME.KIND": the name less any ":arch". */
static bool split_info(const char *path, const char **prefix_end, const char **name, size_t *nlen,
		       const char **kind)
{
	const char *info = strstr(path, "var/lib/dpkg/info/"), *dot, *colon;

	if (!info || (info != path && info[-1] != '/'))
		return false;
	*prefix_end = info;
	*name = info + 18;
	dot = strrchr(*name, '.');
	if (!dot)
		return false;
	*kind = dot + 1;
	colon = memchr(*name, ':', (size_t)(dot - *name));
	*nlen = (size_t)((colon ? colon : dot) - *name);
	return true;
}

static int add_owned(struct dkd_dpkg *d, const char *prefix, size_t plen, const char *line, size_t llen,
		     const char *pkg)
{
	struct owned *o;
	void **slot;
	char *path;

	while (llen && line[0] == '/')
		line++, llen--;
	if (!llen)
		return 0;
	path = dk_arena_alloc(&d->arena, plen + llen + 1);
	o = dk_arena_alloc(&d->arena, sizeof(*o));
	if (!path || !o)
		return -1;
	memcpy(path, prefix, plen);
	memcpy(path + plen, line, llen);
	path[plen + llen] = '\0';
	slot = dk_map_slot(&d->owned, path_key(path));
	if (!slot)
		return -1;
	*o = (struct owned){ path, pkg, *slot };
	*slot = o;
	return 0;
}

static int add_versions(struct dkd_dpkg *d, const struct dkd_blob *b, const char *prefix, struct dk_err *err)
{
	struct dk_deb822 p;
	struct dk_stanza st;
	int r;

	dk_deb822_init(&p, b->data, b->len, b->path, DK_DEB822_ALLOW_DUPLICATES);
	while ((r = dk_deb822_next(&p, &st, NULL)) == 1) {
		const struct dk_field *pk = dk_stanza_get(&st, "Package"), *v = dk_stanza_get(&st, "Version");
		const struct dk_field *status = dk_stanza_get(&st, "Status");

		if (!pk || !v)
			continue;
		if (status &&
		    (status->value_len < 9 || memcmp(status->value + status->value_len - 9, "installed", 9)))
			continue;
		if (push((void **)&d->versions, &d->nversions, sizeof(*d->versions)))
			break;
		d->versions[d->nversions++] = (struct version){
			dk_arena_strndup(&d->arena, pk->value, pk->value_len),
			dk_arena_strndup(&d->arena, v->value, v->value_len), prefix
		};
	}
	dk_deb822_release(&p);
	/* A damaged database costs only the ownership notes, not the comparison. */
	(void)err;
	return 0;
}

int dkd_dpkg_load(struct dkd_dpkg **out, const struct dkd_blobs *meta, struct dk_err *err)
{
	struct dkd_dpkg *d = calloc(1, sizeof(*d));

	*out = d;
	if (!d)
		return dk_err_set(err, DK_ENOMEM, "out of memory");
	for (size_t i = 0; i < meta->n; i++) {
		const struct dkd_blob *b = &meta->v[i];
		const char *pe, *name, *kind, *ct;
		size_t nlen;

		if (!b->data)
			continue;
		ct = strstr(b->path, "control.tar");
		if (ct && (ct == b->path || ct[-1] == '/')) {
			const char *prefix = dk_arena_strndup(&d->arena, b->path, (size_t)(ct - b->path));

			add_versions(d, b, prefix ? prefix : "", err);
			continue;
		}
		if (strlen(b->path) >= 19 &&
		    strcmp(b->path + strlen(b->path) - 19, "var/lib/dpkg/status") == 0) {
			add_versions(d, b, NULL, err);
			continue;
		}
		if (!split_info(b->path, &pe, &name, &nlen, &kind))
			continue;
		{
			const char *pkg = dk_arena_strndup(&d->arena, name, nlen);
			const char *prefix = dk_arena_strndup(&d->arena, b->path, (size_t)(pe - b->path));

			if (!pkg || !prefix)
				return dk_err_set(err, DK_ENOMEM, "out of memory");
			if (strcmp(kind, "list") == 0) {
				for (const char *p = b->data, *e = b->data + b->len; p < e;) {
					const char *nl = memchr(p, '\n', (size_t)(e - p));
					const char *le = nl ? nl : e;

					if (add_owned(d, prefix, strlen(prefix), p, (size_t)(le - p), pkg))
						return dk_err_set(err, DK_ENOMEM, "out of memory");
					p = le + 1;
				}
			} else {
				if (push((void **)&d->scripts, &d->nscripts, sizeof(*d->scripts)))
					return dk_err_set(err, DK_ENOMEM, "out of memory");
				d->scripts[d->nscripts++] = (struct script){ prefix, pkg,
									     dk_arena_strdup(&d->arena, kind),
									     b->data, b->len };
			}
		}
	}
	return 0;
}

/* A word-bounded mention of needle in a script: "/etc/ssh" must not match "/etc/sshd_config". */
static bool mentions(const struct script *s, const char *needle, size_t n)
{
	const char *p = s->text, *e = s->text + s->len;

	while (p < e && (p = memmem(p, (size_t)(e - p), needle, n)) != NULL) {
		char after = p + n < e ? p[n] : ' ';

		if (!((after | 0x20) >= 'a' && (after | 0x20) <= 'z') && !(after >= '0' && after <= '9') &&
		    after != '-' && after != '.')
			return true;
		if (after == '_' || after == '*')
			return true;
		p += n;
	}
	return false;
}

const char *dkd_dpkg_owner(const struct dkd_dpkg *d, const char *path, const char **script_pkg,
			   const char **script)
{
	struct owned *o;
	const struct script *best = NULL;
	int best_level = 5;

	*script_pkg = NULL;
	*script = NULL;
	if (!d)
		return NULL;
	o = dk_map_get(&d->owned, path_key(path));
	for (; o; o = o->next)
		if (strcmp(o->path, path) == 0)
			return o->pkg;
	for (size_t i = 0; i < d->nversions; i++) {
		const char *pfx = d->versions[i].prefix;

		if (pfx && strncmp(path, pfx, strlen(pfx)) == 0)
			return d->versions[i].pkg;
	}
	/* Not shipped by any package: the maintainer script that names it best made it. */
	for (size_t i = 0; i < d->nscripts; i++) {
		const struct script *s = &d->scripts[i];
		size_t pl = strlen(s->prefix);
		const char *rel, *base, *slash, *dot;
		char needle[4096];
		int level;

		if (strncmp(path, s->prefix, pl) != 0)
			continue;
		rel = path + pl;
		base = strrchr(rel, '/');
		base = base ? base + 1 : rel;
		snprintf(needle, sizeof(needle), "/%s", rel);
		dot = strrchr(needle, '.');
		if (mentions(s, needle, strlen(needle))) {
			level = 0;
		} else if (dot && dot > strrchr(needle, '/') + 1 &&
			   mentions(s, needle, (size_t)(dot - needle))) {
			/* "ssh_host_rsa_key.pub" is made with "ssh_host_rsa_key". */
			level = 1;
		} else if (strlen(base) >= 6 && mentions(s, base, strlen(base))) {
			level = 2;
		} else if ((slash = strrchr(needle, '/')) != NULL && slash > needle &&
			   memchr(needle + 1, '/', (size_t)(slash - needle - 1)) &&
			   mentions(s, needle, (size_t)(slash - needle))) {
			level = 3;
		} else {
			continue;
		}
		if (level < best_level ||
		    (level == best_level && best && strcmp(s->kind, "postinst") == 0 &&
		     strcmp(best->kind, "postinst") != 0)) {
			best = s;
			best_level = level;
		}
	}
	if (!best)
		return NULL;
	*script_pkg = best->pkg;
	*script = best->kind;
	return best->pkg;
}

static int cmp_version(const void *a, const void *b)
{
	return strcmp(((const struct dk_diff_package *)a)->name, ((const struct dk_diff_package *)b)->name);
}

int dkd_dpkg_versions(const struct dkd_dpkg *a, const struct dkd_dpkg *b, struct dk_arena *arena,
		      struct dk_diff_package **out, size_t *n)
{
	size_t na = a ? a->nversions : 0, nb = b ? b->nversions : 0, k = 0;
	struct dk_diff_package *v = dk_arena_alloc(arena, (na + nb + 1) * sizeof(*v));

	*out = v;
	*n = 0;
	if (!v)
		return DK_ENOMEM;
	for (size_t i = 0; i < na; i++) {
		const struct version *va = &a->versions[i];
		const char *vb = NULL;

		for (size_t j = 0; j < nb; j++)
			if (strcmp(b->versions[j].pkg, va->pkg) == 0)
				vb = b->versions[j].ver;
		if (!vb || strcmp(vb, va->ver) != 0)
			v[k++] = (struct dk_diff_package){ dk_arena_strdup(arena, va->pkg),
							   dk_arena_strdup(arena, va->ver),
							   vb ? dk_arena_strdup(arena, vb) : NULL };
	}
	for (size_t j = 0; j < nb; j++) {
		bool found = false;

		for (size_t i = 0; i < na && !found; i++)
			found = strcmp(a->versions[i].pkg, b->versions[j].pkg) == 0;
		if (!found)
			v[k++] = (struct dk_diff_package){ dk_arena_strdup(arena, b->versions[j].pkg), NULL,
							   dk_arena_strdup(arena, b->versions[j].ver) };
	}
	qsort(v, k, sizeof(*v), cmp_version);
	*n = k;
	return 0;
}

void dkd_dpkg_free(struct dkd_dpkg *d)
{
	if (!d)
		return;
	dk_arena_release(&d->arena);
	dk_map_release(&d->owned);
	free(d->scripts);
	free(d->versions);
	free(d);
}
