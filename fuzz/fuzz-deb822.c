/* fuzz-deb822.c - libFuzzer target for the deb822 parser: every flag combination, every field looked up and unfolded */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <debkeep/buf.h>
#include <debkeep/deb822.h>
#include <debkeep/err.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(int cond)
{
	if (!cond)
		abort();
}

static bool inside(const char *s, size_t n, const char *base, size_t size)
{
	return s >= base && n <= size && (size_t)(s - base) <= size - n;
}

static void check_stanza(const struct dk_stanza *st, const char *base, size_t size, unsigned flags,
			 struct dk_buf *name, struct dk_buf *value)
{
	require(st->nfields > 0 && st->line > 0);
	for (size_t i = 0; i < st->nfields; i++) {
		const struct dk_field *f = &st->fields[i];
		const struct dk_field *g;

		require(f->name_len > 0 && inside(f->name, f->name_len, base, size));
		require(inside(f->value, f->value_len, base, size));
		require(f->line >= st->line && f->value >= f->name + f->name_len);
		require(f->name[0] != '#' && f->name[0] != '-');
		require(!memchr(f->name, '\0', f->name_len) && !memchr(f->value, '\0', f->value_len));
		require(f->multiline == (memchr(f->value, '\n', f->value_len) != NULL));

		dk_buf_reset(name);
		dk_buf_add(name, f->name, f->name_len);
		require(!name->failed);
		g = dk_stanza_get(st, name->data);
		require(g && g >= f && dk_field_is(g, name->data) && dk_field_is(f, name->data));
		if (!(flags & DK_DEB822_ALLOW_DUPLICATES))
			require(g == f);

		dk_buf_reset(value);
		require(dk_field_value(f, value) == 0);
		require(value->len <= f->value_len && strlen(value->data) == value->len);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct dk_buf name = DK_BUF_INIT, value = DK_BUF_INIT;

	for (unsigned flags = 0; flags < 8; flags++) {
		struct dk_deb822 p;
		struct dk_stanza st;
		struct dk_err err = DK_ERR_INIT;
		size_t calls = 0;
		int r;

		dk_deb822_init(&p, in, size, "fuzz", flags);
		while ((r = dk_deb822_next(&p, &st, &err)) > 0) {
			/* Every stanza consumes at least one line: more calls than bytes means a loop. */
			require(++calls <= size);
			check_stanza(&st, in, size, flags, &name, &value);
		}
		if (r < 0)
			require(err.code == DK_EINPUT && strncmp(err.msg, "fuzz:", 5) == 0);
		require(dk_deb822_next(&p, &st, &err) == 0);
		dk_deb822_release(&p);
	}
	dk_buf_release(&name);
	dk_buf_release(&value);
	return 0;
}
