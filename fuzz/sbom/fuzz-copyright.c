/* fuzz-copyright.c - libFuzzer target for DEP-5 debian/copyright (lib/image/copyright.c) and the SBOMs built on it */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <debkeep/buf.h>
#include <debkeep/sbom.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(int cond)
{
	if (!cond)
		__builtin_trap();
}

/* What dk_copyright_license promises: SPDX expression characters only, parentheses balanced. */
static void check_expression(const char *e)
{
	int depth = 0;

	require(e && *e);
	for (const char *s = e; *s; s++) {
		require(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.+-() ", *s) != NULL);
		depth += *s == '(';
		depth -= *s == ')';
		require(depth >= 0);
	}
	require(depth == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dk_err err = DK_ERR_INIT;
	struct dk_buf out = DK_BUF_INIT;
	char *expr = (char *)"unset", *text;
	struct dk_sbom_pkg pkg = { "fuzz", "1.0-1", "amd64", "fuzz", "1.0-1", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL };
	struct dk_sbom_doc doc = { "fuzz", "debian", "bookworm", NULL, 0, &pkg, 1 };
	int r = dk_copyright_license((const char *)data, size, "copyright", &expr, &err);

	if (r == 0) {
		check_expression(expr);
		/* Every expression the parser makes must be one the SBOM writers take. */
		pkg.license = expr;
		require(dk_sbom_cyclonedx(&doc, &out, &err) == 0);
		require(dk_sbom_spdx(&doc, &out, &err) == 0);
		free(expr);
	} else {
		require(expr == NULL);
		require(r == DK_NOTFOUND || (r < 0 && strncmp(err.msg, "copyright:", 10) == 0));
	}
	/* The input as free text in the SBOMs: valid UTF-8 is written, anything else refused by name. */
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	pkg.license = NULL;
	pkg.maintainer = text;
	pkg.summary = text;
	pkg.homepage = text;
	/* ...and as relationship fields: the dependency graph takes them or names the field. */
	pkg.pre_depends = text;
	pkg.depends = text;
	pkg.provides = text;
	dk_buf_reset(&out);
	r = dk_sbom_cyclonedx(&doc, &out, &err);
	require(r == 0 || (r == DK_EINPUT && strncmp(err.msg, "package fuzz: ", 14) == 0));
	r = dk_sbom_spdx(&doc, &out, &err);
	require(r == 0 || (r == DK_EINPUT && strncmp(err.msg, "package fuzz: ", 14) == 0));
	free(text);
	dk_buf_release(&out);
	return 0;
}
