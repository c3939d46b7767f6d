/* fuzz-diff-content.c - libFuzzer target for content details: first byte picks the split and the path kind */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <debkeep/diff.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const paths[] = { "etc/shadow", "usr/bin/x", "etc/ssh/ssh_host_rsa_key", "f.txt" };
	struct dk_diff_detail d;
	size_t cut;
	uint8_t *a, *b;

	if (size < 2)
		return 0;
	cut = (size - 1) * data[0] / 255;
	/* Exact-size copies so that the sanitizers see any read past either side. */
	a = malloc(cut ? cut : 1);
	b = malloc(size - 1 - cut ? size - 1 - cut : 1);
	if (!a || !b)
		abort();
	memcpy(a, data + 1, cut);
	memcpy(b, data + 1 + cut, size - 1 - cut);
	dk_diff_detail_init(&d);
	dk_diff_content(&d, paths[data[0] & 3], a, cut, b, size - 1 - cut, 200);
	if (d.lines > 200 || (d.text.len && d.text.data[d.text.len - 1] != '\n'))
		abort();
	dk_diff_detail_release(&d);
	free(a);
	free(b);
	return 0;
}
