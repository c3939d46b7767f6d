/* test-sbom.c - DEP-5 licenses, CycloneDX and SPDX output: fields, purls, determinism, SPDX 2.3 structure */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <debkeep/sbom.h>

#include "../tap.h"

static char *slurp(const char *name, size_t *len)
{
	char path[4096];
	FILE *f;
	char *s;
	long n;

	snprintf(path, sizeof(path), "%s/%s", FIXTURES, name);
	f = fopen(path, "rb");
	if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET))
		abort();
	s = malloc((size_t)n + 1);
	if (!s || fread(s, 1, (size_t)n, f) != (size_t)n)
		abort();
	s[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return s;
}

/* The expression for a fixture file, "NOTFOUND", or "ERROR: message". */
static char *license_of(const char *name)
{
	static char res[4096];
	struct dk_err err = DK_ERR_INIT;
	size_t len;
	char *text = slurp(name, &len), *expr = NULL;
	int r = dk_copyright_license(text, len, name, &expr, &err);

	if (r == 0)
		snprintf(res, sizeof(res), "%s", expr);
	else if (r == DK_NOTFOUND)
		snprintf(res, sizeof(res), "NOTFOUND");
	else
		snprintf(res, sizeof(res), "ERROR: %s", err.msg);
	free(expr);
	free(text);
	return res;
}

/* The expression for one Files paragraph whose License line is line. */
static char *license_line(const char *line)
{
	static char res[4096];
	char text[2048];
	struct dk_err err = DK_ERR_INIT;
	char *expr = NULL;
	int r;

	snprintf(text, sizeof(text),
		 "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n"
		 "Files: *\nCopyright: 2024 Someone\nLicense: %s\n", line);
	r = dk_copyright_license(text, strlen(text), "copyright", &expr, &err);
	if (r == 0)
		snprintf(res, sizeof(res), "%s", expr);
	else
		snprintf(res, sizeof(res), r == DK_NOTFOUND ? "NOTFOUND" : "ERROR: %s", err.msg);
	free(expr);
	return res;
}

static void test_license_lines(void)
{
	static const struct {
		const char *line, *want;
	} cases[] = {
		{ "GPL-2", "GPL-2.0-only" },
		{ "GPL-2+", "GPL-2.0-or-later" },
		{ "GPL-2.0+", "GPL-2.0-or-later" },
		{ "gpl-3", "GPL-3.0-only" },
		{ "LGPL-2.1+", "LGPL-2.1-or-later" },
		{ "LGPL-2", "LGPL-2.0-only" },
		{ "AGPL-3+", "AGPL-3.0-or-later" },
		{ "GFDL-NIV-1.3+", "GFDL-1.3-no-invariants-or-later" },
		{ "GPL-2.0-or-later", "GPL-2.0-or-later" },
		{ "BSD-3-clause", "BSD-3-Clause" },
		{ "Expat", "MIT" },
		{ "Apache-2.0", "Apache-2.0" },
		{ "MPL-2.0", "MPL-2.0" },
		{ "MPL-1.1+", "MPL-1.1+" },
		{ "Artistic", "Artistic-1.0-Perl" },
		{ "Artistic-2.0", "Artistic-2.0" },
		{ "zlib", "Zlib" },
		{ "public-domain", "LicenseRef-public-domain" },
		{ "public domain", "LicenseRef-public-domain" },
		{ "Public-Domain", "LicenseRef-public-domain" },
		{ "BSD (3 clause)", "LicenseRef-bsd-3-clause" },
		{ "GPL", "LicenseRef-gpl" },
		{ "GPL-2+ or Artistic", "Artistic-1.0-Perl OR GPL-2.0-or-later" },
		{ "Artistic or GPL-2+", "Artistic-1.0-Perl OR GPL-2.0-or-later" },
		{ "GPL-2+ and BSD-3-clause", "BSD-3-Clause AND GPL-2.0-or-later" },
		{ "GPL-2+ or MIT and BSD-2-clause", "(BSD-2-Clause AND MIT) OR GPL-2.0-or-later" },
		{ "GPL-2+ or Artistic-2.0, and BSD-3-clause", "(Artistic-2.0 OR GPL-2.0-or-later) AND BSD-3-Clause" },
		{ "MIT, BSD-2-clause", "BSD-2-Clause AND MIT" },
		{ "MIT, or Apache-2.0", "MIT OR Apache-2.0" },
		{ "GPL-2+ with Autoconf exception", "GPL-2.0-or-later WITH Autoconf-exception-2.0" },
		{ "GPL-3+ with Autoconf exception", "GPL-3.0-or-later WITH Autoconf-exception-3.0" },
		{ "GPL-3+ with Bison exception", "GPL-3.0-or-later WITH Bison-exception-2.2" },
		{ "GPL-2 with Linux-syscall-note exception", "GPL-2.0-only WITH Linux-syscall-note" },
		{ "GPL-2+ with OpenSSL exception", "LicenseRef-gpl-2-plus-with-openssl-exception" },
		{ "GPL-2+ with OpenSSL exception or MIT", "LicenseRef-gpl-2-plus-with-openssl-exception OR MIT" },
		{ "Perl", "Artistic-1.0-Perl OR GPL-1.0-or-later" },
		{ "MIT and MIT", "MIT" },
		{ "MIT or MIT", "MIT" },
		{ "MIT and MIT or MIT", "MIT" },
		{ "GPL-2 and or BSD-3-clause", "BSD-3-Clause OR GPL-2.0-only" },
		{ "GPL-3+ with Bison exception MIT", "GPL-3.0-or-later WITH Bison-exception-2.2 AND MIT" },
		{ "and", "NOTFOUND" },
		{ "", "NOTFOUND" },
		{ "Ünïcödé", "LicenseRef-n-c-d" },
		{ "\xc3\xbc", "LicenseRef-unnamed" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_str(license_line(cases[i].line), cases[i].want, "License: %s", cases[i].line);
}

static void test_license_files(void)
{
	char *s;

	is_str(license_of("dep5-forms.copyright"),
	       "(Artistic-1.0-Perl OR GPL-1.0-or-later) AND (Artistic-1.0-Perl OR GPL-2.0-or-later) AND "
	       "(LGPL-2.1-or-later OR MPL-2.0) AND BSD-3-Clause AND GFDL-1.3-no-invariants-or-later AND "
	       "GPL-2.0-or-later WITH Autoconf-exception-2.0 AND LicenseRef-gpl-2-plus-with-openssl-exception AND "
	       "LicenseRef-public-domain AND MIT",
	       "every form, header License ignored, stand-alone License paragraph ignored");
	is_str(license_of("dep5-old.copyright"), "GPL-2.0-only AND LGPL-2.1-only", "Format-Specification of the drafts");
	is_str(license_of("dep5-header-only.copyright"), "Apache-2.0", "header License when no Files paragraph has one");
	is_str(license_of("not-dep5.copyright"), "NOTFOUND", "free-form file: not machine-readable");
	is_str(license_of("unknown-format.copyright"), "NOTFOUND", "unknown Format URL");
	s = license_of("dep5-malformed.copyright");
	is_str(s, "ERROR: dep5-malformed.copyright:7: line without ':'", "malformed DEP-5 names the line");
	is_str(license_of("zlib1g.copyright"), "Zlib", "real: zlib1g");
	is_str(license_of("openssl.copyright"), "(Artistic-1.0-Perl OR GPL-1.0-or-later) AND Apache-2.0", "real: openssl");
	is_str(license_of("libc6.copyright"), "NOTFOUND", "real: libc6 is not DEP-5");
	is_str(license_of("tar.copyright"),
	       "GPL-2.0-or-later AND GPL-3.0-or-later AND GPL-3.0-or-later WITH Bison-exception-2.2 AND "
	       "LGPL-3.0-or-later",
	       "real: tar");
	is_str(license_of("libgpiod2.copyright"),
	       "GPL-2.0-or-later WITH Autoconf-exception-2.0 AND GPL-2.0-or-later WITH Libtool-exception AND "
	       "GPL-3.0-or-later WITH Autoconf-exception-3.0 AND LGPL-2.1-or-later AND MIT",
	       "real: libgpiod2 ('#' lines in the header)");
}

static void test_license_hostile(void)
{
	static const char head[] = "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n"
				   "Files: *\nLicense: ";
	struct dk_err err = DK_ERR_INIT;
	size_t n = sizeof(head) - 1 + 5000;
	char *t = malloc(n + 2), *expr = (char *)"x";
	int r;

	memcpy(t, head, sizeof(head) - 1);
	for (size_t i = sizeof(head) - 1; i < n; i += 5)
		memcpy(t + i, "A, or", 5);
	t[n] = '\n';
	r = dk_copyright_license(t, n + 1, "long", &expr, &err);
	is_int(r, DK_EINPUT, "a License line of 5000 bytes is refused");
	ok(expr == NULL, "no expression on error");
	ok(strstr(err.msg, "long:4: License:") != NULL, "message names the line: %s", err.msg);
	{
		static const char nul[] = "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n"
					  "Files: *\nLicense: MIT\0GPL\n";

		is_int(dk_copyright_license(nul, sizeof(nul) - 1, "nul", &expr, &err), DK_EINPUT, "NUL byte in the input");
		is_str(err.msg, "nul:4: NUL byte in input", "message");
	}
	is_int(dk_copyright_license("", 0, "empty", &expr, &err), DK_NOTFOUND, "empty input");
	free(t);
	{
		struct dk_buf many = DK_BUF_INIT;

		dk_buf_adds(&many, "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n");
		for (int i = 0; i < 100000; i++)
			dk_buf_addf(&many, "\nFiles: f%d\nLicense: GPL-2+ or Artistic, and MIT, and L%d\n", i, i % 2000);
		r = dk_copyright_license(many.data, many.len, "many", &expr, &err);
		is_int(r, 0, "100000 paragraphs naming 2002 licenses (%s)", err.msg);
		ok(expr && strncmp(expr, "(Artistic-1.0-Perl OR GPL-2.0-or-later) AND LicenseRef-l0 AND ", 61) == 0,
		   "de-duplicated as the list fills up: %.70s", expr ? expr : "(null)");
		free(expr);
		dk_buf_reset(&many);
		dk_buf_adds(&many, "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n");
		for (int i = 0; i < 5000; i++)
			dk_buf_addf(&many, "\nFiles: f%d\nLicense: L%d\n", i, i);
		r = dk_copyright_license(many.data, many.len, "many", &expr, &err);
		is_int(r, DK_EINPUT, "5000 distinct licenses are refused");
		ok(strstr(err.msg, "License: more than 2048 distinct licenses") != NULL, "message: %s", err.msg);
		dk_buf_release(&many);
	}
}

/*
 * The dependencies are made to cover each rule: zlib1g's Pre-Depends names a package not in the document
 * (no edge); libstdc++6's first alternative is provided only unversioned (no match for ">= 1") so the second
 * (tzdata) is taken, and it needs zlib1g by name; base-files reaches zlib1g through a versioned Provides and
 * asks libstdc++6 in a version the document does not have; tzdata pre-depends on itself (no edge).
 */
static const struct dk_sbom_pkg fixture[] = {
	{ "zlib1g", "1:1.2.13.dfsg-1", "amd64", "zlib", "1:1.2.13.dfsg-1",
	  "d7dd1d1411fedf27f5e27650a6eff20ef294077b568f4c8c5e51466dc7c08ce4", "Zlib", "Mark Brown <broonie@debian.org>",
	  "http://zlib.net/", "compression library - runtime", "libc6 (>= 2.14)", NULL, "libz (= 1:1.2.13.dfsg-1)" },
	{ "libstdc++6", "12.2.0-14+deb12u1", "amd64", "gcc-12", "12.2.0-14+deb12u1",
	  "9B2B9A0D7D5D0E9D2C4B3F1A0C6E8F7D5B3A1C9E7F5D3B1A9C7E5F3D1B9A7C5E",
	  "GPL-3.0-or-later WITH GCC-exception-3.1", "Debian GCC Maintainers <debian-gcc@lists.debian.org>", NULL,
	  NULL, NULL, "tzdata-legacy (>= 1) | tzdata, zlib1g:amd64 (>= 1:1.2)", NULL },
	{ "tzdata", "2025b-0+deb12u1", "all", "tzdata", "2025b-0+deb12u1",
	  "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "LicenseRef-public-domain AND MIT",
	  "Jöran Ünicode <joran@example.org>", "not a url", "time zone data", "tzdata", NULL, "tzdata-legacy" },
	{ "base-files", "12.4+deb12u11", "amd64", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	  "libz (>= 1:1.0),\n libstdc++6 (>= 13)", NULL },
};

#define NPKGS (sizeof(fixture) / sizeof(fixture[0]))

static struct dk_sbom_doc doc(const struct dk_sbom_pkg *p, size_t n)
{
	struct dk_sbom_doc d = { 0 };

	d.name = "cip-core image.tar";
	d.distro = "debian";
	d.codename = "bookworm";
	d.image_sha256 = "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc";
	d.created = 1700000000;
	d.pkgs = p;
	d.n = n;
	return d;
}

static char *gen(int spdx, const struct dk_sbom_doc *d, int *rc, struct dk_err *err)
{
	struct dk_buf out = DK_BUF_INIT;

	*rc = spdx ? dk_sbom_spdx(d, &out, err) : dk_sbom_cyclonedx(d, &out, err);
	return dk_buf_detach(&out, NULL);
}

static json_t *find_by(json_t *arr, const char *key, const char *value)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v) {
		const char *s = json_string_value(json_object_get(v, key));

		if (s && strcmp(s, value) == 0)
			return v;
	}
	return NULL;
}

static const char *str_at(json_t *o, const char *path)
{
	char key[128];
	const char *dot;

	while ((dot = strchr(path, '.')) != NULL) {
		snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
		o = json_is_array(o) ? json_array_get(o, (size_t)atoi(key)) : json_object_get(o, key);
		path = dot + 1;
	}
	o = json_is_array(o) ? json_array_get(o, (size_t)atoi(path)) : json_object_get(o, path);
	return json_string_value(o);
}

static bool matches(const char *s, const char *re)
{
	regex_t rx;
	bool m;

	if (!s || regcomp(&rx, re, REG_EXTENDED | REG_NOSUB))
		return false;
	m = regexec(&rx, s, 0, NULL, 0) == 0;
	regfree(&rx);
	return m;
}

static void test_cyclonedx(void)
{
	struct dk_sbom_doc d = doc(fixture, NPKGS);
	struct dk_err err = DK_ERR_INIT;
	json_error_t je;
	json_t *root, *comps, *c;
	char *s;
	int rc;

	s = gen(0, &d, &rc, &err);
	is_int(rc, 0, "cyclonedx: generated (%s)", err.msg);
	root = json_loads(s, 0, &je);
	ok(root != NULL, "cyclonedx: valid JSON");
	is_str(str_at(root, "bomFormat"), "CycloneDX", "bomFormat");
	is_str(str_at(root, "specVersion"), "1.5", "specVersion");
	ok(matches(str_at(root, "serialNumber"),
		   "^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"),
	   "serialNumber is a version 5 style UUID URN: %s", str_at(root, "serialNumber"));
	is_int(json_integer_value(json_object_get(root, "version")), 1, "version 1");
	is_str(str_at(root, "metadata.timestamp"), "2023-11-14T22:13:20Z", "timestamp from the epoch");
	is_str(str_at(root, "metadata.tools.components.0.name"), "debkeep", "tool");
	is_str(str_at(root, "metadata.component.type"), "operating-system", "image component");
	is_str(str_at(root, "metadata.component.hashes.0.content"),
	       "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc", "image hash");
	comps = json_object_get(root, "components");
	is_int(json_array_size(comps), NPKGS, "one component per package");
	is_str(str_at(comps, "0.name"), "base-files", "sorted by name: first");
	is_str(str_at(comps, "3.name"), "zlib1g", "sorted by name: last");
	c = find_by(comps, "name", "libstdc++6");
	is_str(str_at(c, "purl"), "pkg:deb/debian/libstdc%2B%2B6@12.2.0-14%2Bdeb12u1?arch=amd64&distro=bookworm",
	       "purl: '+' percent-encoded");
	is_str(str_at(c, "bom-ref"), str_at(c, "purl"), "bom-ref is the purl");
	is_str(str_at(c, "type"), "library", "type library");
	is_str(str_at(c, "hashes.0.alg"), "SHA-256", "hash algorithm");
	is_str(str_at(c, "hashes.0.content"), "9b2b9a0d7d5d0e9d2c4b3f1a0c6e8f7d5b3a1c9e7f5d3b1a9c7e5f3d1b9a7c5e",
	       "hash in lower case");
	is_str(str_at(c, "licenses.0.expression"), "GPL-3.0-or-later WITH GCC-exception-3.1", "license expression");
	is_str(str_at(c, "supplier.name"), "Debian GCC Maintainers", "supplier from Maintainer");
	is_str(str_at(c, "supplier.contact.0.email"), "debian-gcc@lists.debian.org", "supplier email");
	is_str(str_at(c, "properties.0.name"), "debian:source", "source property");
	is_str(str_at(c, "properties.0.value"), "gcc-12", "source name");
	is_str(str_at(c, "properties.1.value"), "12.2.0-14+deb12u1", "source version");
	c = find_by(comps, "name", "zlib1g");
	is_str(str_at(c, "purl"), "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&distro=bookworm",
	       "purl: epoch ':' left as it is");
	is_str(str_at(c, "externalReferences.0.url"), "http://zlib.net/", "homepage as website");
	c = find_by(comps, "name", "tzdata");
	ok(json_object_get(c, "externalReferences") == NULL, "a homepage that is not a URL is left out");
	is_str(str_at(c, "supplier.name"), "Jöran Ünicode", "UTF-8 kept as it is");
	c = find_by(comps, "name", "base-files");
	ok(!json_object_get(c, "licenses") && !json_object_get(c, "hashes") && !json_object_get(c, "supplier") &&
		   !json_object_get(c, "properties"),
	   "unknown fields left out");
	json_decref(root);
	free(s);
}

/* The structural rules of SPDX 2.3 (no npm package ships its JSON schema), checked on one document. */
static void check_spdx_rules(const char *s, const char *what)
{
	static const char id_re[] = "^SPDXRef-[A-Za-z0-9.-]+$";
	json_error_t je;
	json_t *root = json_loads(s, 0, &je), *pkgs, *rels, *eli, *v, *ids;
	size_t i, bad = 0, nrel_contains = 0;
	bool describes = false;

	ok(root != NULL, "%s: valid JSON", what);
	if (!root)
		return;
	is_str(str_at(root, "spdxVersion"), "SPDX-2.3", "%s: spdxVersion", what);
	is_str(str_at(root, "dataLicense"), "CC0-1.0", "%s: dataLicense", what);
	is_str(str_at(root, "SPDXID"), "SPDXRef-DOCUMENT", "%s: SPDXID", what);
	ok(str_at(root, "name") && *str_at(root, "name"), "%s: name", what);
	ok(matches(str_at(root, "documentNamespace"), "^https://[^#]+$"), "%s: documentNamespace is a URI without '#'",
	   what);
	ok(matches(str_at(root, "creationInfo.created"), "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"),
	   "%s: created", what);
	ok(matches(str_at(root, "creationInfo.creators.0"), "^(Tool|Organization|Person): .+"), "%s: creators", what);
	pkgs = json_object_get(root, "packages");
	ids = json_object();
	json_object_set_new(ids, "SPDXRef-DOCUMENT", json_true());
	json_array_foreach(pkgs, i, v) {
		const char *id = str_at(v, "SPDXID");
		json_t *sums = json_object_get(v, "checksums"), *refs = json_object_get(v, "externalRefs");

		if (!matches(id, id_re) || json_object_get(ids, id))
			bad++, printf("# bad or duplicate SPDXID %s\n", id ? id : "(none)");
		else
			json_object_set_new(ids, id, json_true());
		if (!str_at(v, "name") || !str_at(v, "downloadLocation") || !str_at(v, "licenseConcluded") ||
		    !str_at(v, "licenseDeclared") || !str_at(v, "copyrightText") ||
		    !json_is_false(json_object_get(v, "filesAnalyzed")))
			bad++, printf("# package %s lacks a required field\n", id);
		if (str_at(v, "supplier") && !matches(str_at(v, "supplier"), "^(NOASSERTION|(Person|Organization): .+)$"))
			bad++, printf("# package %s: supplier\n", id);
		if (sums && (!matches(str_at(sums, "0.algorithm"), "^SHA256$") ||
			     !matches(str_at(sums, "0.checksumValue"), "^[0-9a-f]{64}$")))
			bad++, printf("# package %s: checksum\n", id);
		if (refs && (!matches(str_at(refs, "0.referenceCategory"), "^PACKAGE-MANAGER$") ||
			     !matches(str_at(refs, "0.referenceType"), "^purl$") ||
			     !matches(str_at(refs, "0.referenceLocator"), "^pkg:deb/[a-z]+/[^ ]+@[^ ]+\\?arch=[a-z0-9-]+")))
			bad++, printf("# package %s: externalRefs\n", id);
	}
	is_int(bad, 0, "%s: every package has the required fields, a unique SPDXID, valid checksum and purl", what);
	rels = json_object_get(root, "relationships");
	bad = 0;
	json_array_foreach(rels, i, v) {
		const char *type = str_at(v, "relationshipType");

		if (!json_object_get(ids, str_at(v, "spdxElementId") ? str_at(v, "spdxElementId") : "") ||
		    !json_object_get(ids, str_at(v, "relatedSpdxElement") ? str_at(v, "relatedSpdxElement") : ""))
			bad++;
		if (type && strcmp(type, "DESCRIBES") == 0 && strcmp(str_at(v, "spdxElementId"), "SPDXRef-DOCUMENT") == 0)
			describes = true;
		if (type && strcmp(type, "CONTAINS") == 0)
			nrel_contains++;
	}
	is_int(bad, 0, "%s: relationships name existing elements", what);
	ok(describes, "%s: the document DESCRIBES something", what);
	is_int(nrel_contains, json_array_size(pkgs) - 1, "%s: the image CONTAINS every package", what);
	/* Every LicenseRef used is defined once in hasExtractedLicensingInfos, with text. */
	eli = json_object_get(root, "hasExtractedLicensingInfos");
	bad = 0;
	json_array_foreach(pkgs, i, v) {
		const char *e = str_at(v, "licenseDeclared");

		for (const char *r = e; r && (r = strstr(r, "LicenseRef-")) != NULL; r++) {
			char id[256];
			size_t n = strspn(r + 11, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-") + 11;
			json_t *ent;

			snprintf(id, sizeof(id), "%.*s", (int)n, r);
			ent = find_by(eli, "licenseId", id);
			if (!ent || !str_at(ent, "extractedText") || !*str_at(ent, "extractedText"))
				bad++, printf("# %s not in hasExtractedLicensingInfos\n", id);
		}
	}
	is_int(bad, 0, "%s: every LicenseRef has extracted licensing info", what);
	json_decref(ids);
	json_decref(root);
}

static void test_spdx(void)
{
	struct dk_sbom_doc d = doc(fixture, NPKGS);
	struct dk_err err = DK_ERR_INIT;
	json_t *root, *p;
	char *s;
	int rc;

	s = gen(1, &d, &rc, &err);
	is_int(rc, 0, "spdx: generated (%s)", err.msg);
	check_spdx_rules(s, "spdx");
	root = json_loads(s, 0, NULL);
	ok(matches(str_at(root, "documentNamespace"), "^https://debkeep.invalid/spdx/cip-core-image.tar-[0-9a-f]{64}$"),
	   "namespace from the name and the content: %s", str_at(root, "documentNamespace"));
	is_str(str_at(root, "creationInfo.creators.0"), "Tool: debkeep", "creator");
	p = find_by(json_object_get(root, "packages"), "name", "libstdc++6");
	is_str(str_at(p, "SPDXID"), "SPDXRef-Package-libstdcplusplus6-amd64", "SPDXID: '+' spelled out");
	is_str(str_at(p, "supplier"), "Organization: Debian GCC Maintainers (debian-gcc@lists.debian.org)", "supplier");
	is_str(str_at(p, "externalRefs.0.referenceLocator"),
	       "pkg:deb/debian/libstdc%2B%2B6@12.2.0-14%2Bdeb12u1?arch=amd64&distro=bookworm", "purl");
	is_str(str_at(p, "licenseDeclared"), "GPL-3.0-or-later WITH GCC-exception-3.1", "licenseDeclared");
	is_str(str_at(p, "sourceInfo"), "built from the Debian source package gcc-12 12.2.0-14+deb12u1", "sourceInfo");
	p = find_by(json_object_get(root, "packages"), "name", "base-files");
	is_str(str_at(p, "licenseDeclared"), "NOASSERTION", "unknown license: NOASSERTION");
	is_str(str_at(p, "supplier"), "NOASSERTION", "unknown supplier: NOASSERTION");
	is_str(str_at(root, "hasExtractedLicensingInfos.0.licenseId"), "LicenseRef-public-domain", "LicenseRef defined");
	json_decref(root);
	free(s);
}

static void test_determinism(void)
{
	struct dk_sbom_pkg rev[NPKGS], changed[NPKGS];
	struct dk_sbom_doc a = doc(fixture, NPKGS), b = doc(rev, NPKGS), c = doc(changed, NPKGS);
	struct dk_err err = DK_ERR_INIT;
	int rc;

	for (size_t i = 0; i < NPKGS; i++)
		rev[i] = fixture[NPKGS - 1 - i];
	memcpy(changed, fixture, sizeof(changed));
	changed[0].version = "1:1.2.13.dfsg-1+b1";
	for (int spdx = 0; spdx < 2; spdx++) {
		const char *f = spdx ? "spdx" : "cyclonedx";
		char *x = gen(spdx, &a, &rc, &err), *y = gen(spdx, &a, &rc, &err), *z = gen(spdx, &b, &rc, &err);
		char *w = gen(spdx, &c, &rc, &err);
		const char *key = spdx ? "documentNamespace" : "serialNumber";
		json_t *jx = json_loads(x, 0, NULL), *jw = json_loads(w, 0, NULL);

		ok(strcmp(x, y) == 0, "%s: same input, byte-identical output", f);
		ok(strcmp(x, z) == 0, "%s: packages in another order, byte-identical output", f);
		ok(strcmp(str_at(jx, key), str_at(jw, key)) != 0, "%s: another package version, another %s", f, key);
		json_decref(jx);
		json_decref(jw);
		free(x);
		free(y);
		free(z);
		free(w);
	}
}

static void test_bad_input(void)
{
	struct dk_sbom_pkg bad[2] = { fixture[0], fixture[0] };
	struct dk_sbom_doc d = doc(bad, 2);
	struct dk_err err = DK_ERR_INIT;
	char *s;
	int rc;

	s = gen(0, &d, &rc, &err);
	is_int(rc, DK_EINPUT, "the same package twice is refused");
	is_str(err.msg, "package zlib1g: amd64: listed twice", "message");
	free(s);
	d.n = 1;
	bad[0].version = "1.0 beta";
	free(gen(1, &d, &rc, &err));
	is_str(err.msg, "package zlib1g: version: not a Debian version", "version with a blank refused");
	bad[0] = fixture[0];
	bad[0].name = "Zlib";
	free(gen(0, &d, &rc, &err));
	is_str(err.msg, "package Zlib: name: not a Debian package name", "upper-case name refused");
	bad[0] = fixture[0];
	bad[0].sha256 = "abc";
	free(gen(0, &d, &rc, &err));
	is_str(err.msg, "package zlib1g: sha256: not 64 hex digits", "short sha256 refused");
	bad[0] = fixture[0];
	bad[0].license = "MIT\"}";
	free(gen(1, &d, &rc, &err));
	is_str(err.msg, "package zlib1g: license: not an SPDX license expression", "odd license refused");
	bad[0] = fixture[0];
	bad[0].maintainer = "Bad \xff UTF-8 <a@b.c>";
	free(gen(0, &d, &rc, &err));
	is_int(rc, DK_EINPUT, "invalid UTF-8 refused");
	is_str(err.msg, "package zlib1g: name: not valid UTF-8", "message names the package");
	bad[0] = fixture[0];
	d.created = -1;
	free(gen(1, &d, &rc, &err));
	is_str(err.msg, "creation time: out of range", "negative epoch refused");
	d = doc(NULL, 0);
	s = gen(1, &d, &rc, &err);
	is_int(rc, 0, "an image without packages is still a document");
	check_spdx_rules(s, "empty spdx");
	free(s);
}

/* "a b c" of the dependsOn array (CycloneDX) or DEPENDS_ON targets (SPDX) of one package, by name. */
static const char *edges_of(json_t *root, bool spdx, const char *name)
{
	static char res[1024];
	char ref[256] = "";
	size_t i;
	json_t *v;

	res[0] = '\0';
	if (!spdx) {
		json_t *c = find_by(json_object_get(root, "components"), "name", name);
		json_t *dep = c ? find_by(json_object_get(root, "dependencies"), "ref",
					  json_string_value(json_object_get(c, "bom-ref"))) : NULL;

		if (!dep)
			return "(none)";
		json_array_foreach(json_object_get(dep, "dependsOn"), i, v) {
			json_t *to = find_by(json_object_get(root, "components"), "bom-ref", json_string_value(v));

			snprintf(res + strlen(res), sizeof(res) - strlen(res), "%s%s", *res ? " " : "",
				 to ? json_string_value(json_object_get(to, "name")) : "?");
		}
		return res;
	}
	v = find_by(json_object_get(root, "packages"), "name", name);
	snprintf(ref, sizeof(ref), "%s", v ? json_string_value(json_object_get(v, "SPDXID")) : "?");
	json_array_foreach(json_object_get(root, "relationships"), i, v) {
		const char *from = json_string_value(json_object_get(v, "spdxElementId"));
		const char *type = json_string_value(json_object_get(v, "relationshipType"));
		json_t *to;

		if (strcmp(from, ref) || strcmp(type, "DEPENDS_ON"))
			continue;
		to = find_by(json_object_get(root, "packages"), "SPDXID",
			     json_string_value(json_object_get(v, "relatedSpdxElement")));
		snprintf(res + strlen(res), sizeof(res) - strlen(res), "%s%s", *res ? " " : "",
			 to ? json_string_value(json_object_get(to, "name")) : "?");
	}
	return res;
}

static void test_dependencies(void)
{
	struct dk_sbom_doc d = doc(fixture, NPKGS);
	struct dk_err err = DK_ERR_INIT;
	struct dk_sbom_pkg bad[NPKGS];
	json_t *root, *top;
	char *s;
	int rc;

	for (int spdx = 0; spdx < 2; spdx++) {
		const char *f = spdx ? "spdx" : "cyclonedx";

		s = gen(spdx, &d, &rc, &err);
		is_int(rc, 0, "%s with dependencies: generated (%s)", f, err.msg);
		root = json_loads(s, 0, NULL);
		is_str(edges_of(root, spdx, "zlib1g"), "", "%s: a Pre-Depends on a package not in the image: no edge", f);
		/* Sorted as the components are: by name, so base-files < libstdc++6 < tzdata < zlib1g. */
		is_str(edges_of(root, spdx, "libstdc++6"), "tzdata zlib1g",
		       "%s: an unversioned Provides does not satisfy a versioned alternative; arch-qualified name", f);
		is_str(edges_of(root, spdx, "base-files"), "zlib1g",
		       "%s: a versioned Provides satisfies; a too-low version and a folded field do not add edges", f);
		is_str(edges_of(root, spdx, "tzdata"), "", "%s: a package does not depend on itself", f);
		if (!spdx) {
			top = find_by(json_object_get(root, "dependencies"), "ref", "debkeep:image");
			is_int((int)json_array_size(json_object_get(top, "dependsOn")), (int)NPKGS,
			       "cyclonedx: the image depends on each package");
			is_int((int)json_array_size(json_object_get(root, "dependencies")), (int)NPKGS + 1,
			       "cyclonedx: one dependencies entry for the image and each package");
		}
		json_decref(root);
		free(s);
	}
	memcpy(bad, fixture, sizeof(bad));
	bad[2].depends = "libc6 (>= 2.36";
	d = doc(bad, NPKGS);
	for (int spdx = 0; spdx < 2; spdx++) {
		s = gen(spdx, &d, &rc, &err);
		is_int(rc, DK_EINPUT, "%s: a malformed Depends is refused", spdx ? "spdx" : "cyclonedx");
		ok(strstr(err.msg, "package tzdata: Depends: ") != NULL, "message names package and field: %s", err.msg);
		free(s);
	}
}

int main(void)
{
	test_license_lines();
	test_license_files();
	test_license_hostile();
	test_cyclonedx();
	test_spdx();
	test_determinism();
	test_bad_input();
	test_dependencies();
	return tap_done();
}
