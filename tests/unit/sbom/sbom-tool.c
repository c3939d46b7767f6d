/* sbom-tool.c - drives lib/image/sbom.c and copyright.c from files, for the validator test (sbom-validate.sh) */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <debkeep/deb822.h>
#include <debkeep/sbom.h>

#define FILE_MAX ((size_t)64 << 20)

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct dk_buf b = DK_BUF_INIT;
	char chunk[65536];
	size_t n;

	if (!f)
		return NULL;
	dk_buf_init(&b, FILE_MAX);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		dk_buf_add(&b, chunk, n);
	fclose(f);
	if (b.failed) {
		dk_buf_release(&b);
		return NULL;
	}
	return dk_buf_detach(&b, len);
}

/* FILE<TAB>OK<TAB>EXPR, FILE<TAB>NOTDEP5 or FILE<TAB>ERR<TAB>MESSAGE per file; exit 1 if any ERR. */
static int cmd_license(int argc, char **argv)
{
	int bad = 0;

	for (int i = 0; i < argc; i++) {
		struct dk_err err = DK_ERR_INIT;
		char *expr = NULL, *text;
		size_t len;
		int r;

		text = slurp(argv[i], &len);
		if (!text) {
			printf("%s\tERR\tcannot read\n", argv[i]);
			bad = 1;
			continue;
		}
		r = dk_copyright_license(text, len, argv[i], &expr, &err);
		if (r == 0)
			printf("%s\tOK\t%s\n", argv[i], expr);
		else if (r == DK_NOTFOUND)
			printf("%s\tNOTDEP5\n", argv[i]);
		else
			printf("%s\tERR\t%s\n", argv[i], err.msg);
		bad |= r < 0;
		free(expr);
		free(text);
	}
	return bad;
}

static char *field(const struct dk_stanza *st, const char *name)
{
	const struct dk_field *f = dk_stanza_get(st, name);

	return f ? strndup(f->value, f->value_len) : NULL;
}

/*
 * PACKAGES is deb822: Package, Version, Architecture, Source ("name" or
 * "name (version)" as in dpkg's status), SHA256, Maintainer, Homepage,
 * Description, and License (an SPDX expression) or Copyright-File (a
 * debian/copyright, relative to PACKAGES' directory).
 */
static int cmd_sbom(int spdx, const char *path, const char *name, const char *epoch, const char *codename)
{
	struct dk_sbom_pkg *pkgs = NULL;
	struct dk_sbom_doc d = { 0 };
	struct dk_err err = DK_ERR_INIT;
	struct dk_buf out = DK_BUF_INIT;
	struct dk_deb822 p;
	struct dk_stanza st;
	char *text, *dirc = strdup(path), *dir;
	size_t len, n = 0;
	int r;

	text = slurp(path, &len);
	if (!text || !dirc) {
		fprintf(stderr, "sbom-tool: %s: cannot read\n", path);
		return 2;
	}
	dir = dirname(dirc);
	dk_deb822_init(&p, text, len, path, 0);
	while ((r = dk_deb822_next(&p, &st, &err)) == 1) {
		struct dk_sbom_pkg *q = realloc(pkgs, (n + 1) * sizeof(*pkgs)), *k;
		char *src, *cf, *desc;

		if (!q)
			return 3;
		pkgs = q;
		k = &pkgs[n++];
		memset(k, 0, sizeof(*k));
		k->name = field(&st, "Package");
		k->version = field(&st, "Version");
		k->arch = field(&st, "Architecture");
		k->sha256 = field(&st, "SHA256");
		k->maintainer = field(&st, "Maintainer");
		k->homepage = field(&st, "Homepage");
		k->license = field(&st, "License");
		k->pre_depends = field(&st, "Pre-Depends");
		k->depends = field(&st, "Depends");
		k->provides = field(&st, "Provides");
		desc = field(&st, "Description");
		if (desc)
			desc[strcspn(desc, "\n")] = '\0';
		k->summary = desc;
		src = field(&st, "Source");
		if (src) {
			char *sp = strchr(src, ' ');

			if (sp && sp[1] == '(' && sp[strlen(sp) - 1] == ')') {
				*sp = '\0';
				sp[strlen(sp + 1)] = '\0';
				k->source_version = sp + 2;
			}
			k->source = src;
		} else {
			k->source = k->name;
		}
		if (!k->source_version)
			k->source_version = k->version;
		cf = field(&st, "Copyright-File");
		if (cf) {
			char full[4096];
			char *ct, *expr = NULL;
			size_t clen;

			snprintf(full, sizeof(full), "%s/%s", cf[0] == '/' ? "" : dir, cf);
			ct = slurp(cf[0] == '/' ? cf : full, &clen);
			if (!ct) {
				fprintf(stderr, "sbom-tool: %s: cannot read\n", cf);
				return 2;
			}
			r = dk_copyright_license(ct, clen, cf, &expr, &err);
			if (r < 0) {
				fprintf(stderr, "sbom-tool: %s\n", err.msg);
				return 2;
			}
			k->license = expr;
			free(ct);
		}
	}
	if (r < 0) {
		fprintf(stderr, "sbom-tool: %s\n", err.msg);
		return 2;
	}
	d.name = name;
	d.distro = "debian";
	d.codename = codename;
	d.created = strtoll(epoch, NULL, 10);
	d.pkgs = pkgs;
	d.n = n;
	r = spdx ? dk_sbom_spdx(&d, &out, &err) : dk_sbom_cyclonedx(&d, &out, &err);
	if (r) {
		fprintf(stderr, "sbom-tool: %s\n", err.msg);
		return 2;
	}
	fwrite(out.data, 1, out.len, stdout);
	return fflush(stdout) ? 3 : 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "license") == 0)
		return cmd_license(argc - 2, argv + 2);
	if (argc >= 5 && (strcmp(argv[1], "cdx") == 0 || strcmp(argv[1], "spdx") == 0))
		return cmd_sbom(strcmp(argv[1], "spdx") == 0, argv[2], argv[3], argv[4], argc > 5 ? argv[5] : NULL);
	fprintf(stderr, "usage: sbom-tool license FILE... | {cdx|spdx} PACKAGES NAME EPOCH [CODENAME]\n");
	return 2;
}
