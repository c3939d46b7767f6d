/* fuzz-release.c - libFuzzer target for Release files: the parser, the SHA256 list, the checks, the date parser */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <debkeep/buf.h>
#include <debkeep/err.h>
#include <debkeep/mirror.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(int cond)
{
	if (!cond)
		abort();
}

/* Relative, no empty, "." or ".." component, no blank: what the parser promises of every path. */
static bool safe(const char *p)
{
	if (!p[0] || p[0] == '/' || strchr(p, ' '))
		return false;
	for (const char *c = p; *c;) {
		size_t n = strcspn(c, "/");

		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		c += n;
		if (*c == '/' && !*++c)
			return false;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dk_err err = DK_ERR_INIT;
	struct dk_buf ctl = DK_BUF_INIT;
	struct dk_relfile rf;
	time_t t;
	int r;

	/* The date parser on raw bytes (it must stop at size, whatever they are). */
	if (dk_rfc2822_parse((const char *)data, size, &t) == 0)
		require(t >= -86400);
	r = dk_relfile_parse(&rf, (const char *)data, size, "Release", &err);
	require(r == 0 || r == DK_EINPUT || r == DK_ENOMEM);
	if (r < 0) {
		require(err.msg[0] != '\0' && rf.files == NULL && rf.nfiles == 0);
	} else {
		for (size_t i = 0; i < rf.nfiles; i++) {
			const struct dk_relfile_entry *e = &rf.files[i];

			require(strlen(e->sha256) == 64 && strspn(e->sha256, "0123456789abcdef") == 64);
			require(safe(e->path));
			require(dk_relfile_find(&rf, e->path) != NULL);
		}
		for (size_t c = 0; c < rf.ncomponents && c < 4; c++) {
			for (size_t a = 0; a < rf.narchs && a < 4; a++) {
				const struct dk_relfile_entry *e = dk_relfile_packages(&rf, rf.components[c], rf.archs[a]);

				if (e && dk_relfile_verify(e, data, size, &err) == 0)
					require(e->size == size);
			}
		}
		r = dk_relfile_check(&rf, "Release", rf.suite ? rf.suite : "stable", rf.archs, rf.narchs, rf.components,
				     rf.ncomponents, 0, &err);
		require(r == 0 || (r == DK_EINPUT && err.msg[0]));
		dk_relfile_release(&rf);
	}
	/* The control text a mirror would record, from the same bytes taken as a Packages stanza. */
	if (dk_mirror_control((const char *)data, size, &ctl, &err) == 0)
		require(!strstr(ctl.data, "\nSHA256:") && strncmp(ctl.data, "SHA256:", 7) != 0);
	dk_buf_release(&ctl);
	return 0;
}
