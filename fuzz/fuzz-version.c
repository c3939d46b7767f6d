/* fuzz-version.c - libFuzzer target for the version parser and ordering: two versions, split at NUL or newline */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <debkeep/version.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int sign(int r)
{
	return (r > 0) - (r < 0);
}

/* An ordering that is not antisymmetric or not reflexive makes sorting and range checks lie. */
static void check_pair(const char *a, size_t alen, const char *b, size_t blen)
{
	struct dk_version va, vb;
	int ab = sign(dk_version_cmp_str(a, alen, b, blen));
	int ba = sign(dk_version_cmp_str(b, blen, a, alen));

	if (ab != -ba || dk_version_cmp_str(a, alen, a, alen) != 0 || dk_version_cmp_str(b, blen, b, blen) != 0)
		abort();
	if (dk_version_parse(&va, a, alen, NULL) != 0 || dk_version_parse(&vb, b, blen, NULL) != 0)
		return;
	/* On valid versions the parsed and the lenient comparisons are one and the same. */
	if (sign(dk_version_cmp(&va, &vb)) != ab || sign(dk_version_cmp(&vb, &va)) != ba ||
	    dk_version_cmp(&va, &va) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	size_t cut = 0;
	char *a, *b;

	while (cut < size && data[cut] != '\0' && data[cut] != '\n')
		cut++;
	/* Copies of exactly the right size, so that the sanitizers see any read past a version's end. */
	a = malloc(cut ? cut : 1);
	b = malloc(size - cut > 1 ? size - cut - 1 : 1);
	if (!a || !b)
		abort();
	memcpy(a, s, cut);
	if (cut < size)
		memcpy(b, s + cut + 1, size - cut - 1);
	check_pair(a, cut, b, cut < size ? size - cut - 1 : 0);
	free(a);
	free(b);
	return 0;
}
