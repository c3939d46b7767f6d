/* fuzz-sources.c - libFuzzer target for Sources stanzas: Checksums-Sha256 lines, selection, pool names */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <debkeep/err.h>
#include <debkeep/sources.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken promise aborts, naming its line. */
#define check(cond)                                                                                            \
	do {                                                                                                   \
		if (!(cond)) {                                                                                 \
			fprintf(stderr, "fuzz-sources.c:%d: %s\n", __LINE__, #cond);                           \
			abort();                                                                               \
		}                                                                                              \
	} while (0)

static bool name_safe(const char *s)
{
	return *s && *s != '.' && !strchr(s, '/') && strlen(s) <= 255;
}

static int count_name(void *ctx, const char *path, size_t n)
{
	check(n > 0 && n < 1000 && strlen(path) == n);
	(*(size_t *)ctx)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dk_sources_index ix = DK_SOURCES_INDEX_INIT;
	struct dk_err err = DK_ERR_INIT;
	const char *text = (const char *)data;
	struct dk_source_file *files;
	size_t n, sel, names = 0;

	/* The whole input as one Checksums-Sha256 value. */
	if (dk_source_checksums_parse(text, size, "fuzz", &files, &n, &err) == 0) {
		check(n > 0 && files);
		for (size_t i = 0; i < n; i++)
			check(name_safe(files[i].name) && strlen(files[i].sha256) == 64);
		dk_source_files_release(files, n);
	} else {
		check(files == NULL && n == 0 && err.msg[0]);
	}
	/* The whole input as a Sources index. */
	dk_err_clear(&err);
	if (dk_sources_index_add(&ix, text, size, "Sources", &err) == 0) {
		for (size_t i = 0; i < ix.n; i++) {
			const struct dk_source *s = &ix.v[i];

			check(dk_sources_index_find(&ix, s->name, s->version) != NULL);
			/* "a..b" is a plain name; no segment may be "." or "..", or start with a dot at all. */
			check(!strncmp(s->directory, "pool/", 5) && !strstr(s->directory, "/.") && s->nfiles > 0);
			for (size_t j = 0; j < s->nfiles; j++)
				check(name_safe(s->files[j].name));
		}
		dk_sources_select(&ix, NULL, 0, NULL, NULL, &sel);
		check(sel <= ix.n);
	} else {
		check(err.msg[0] != '\0');
	}
	dk_sources_index_release(&ix);
	check(dk_sources_pool_names(text, size, count_name, &names) == 0);
	return 0;
}
