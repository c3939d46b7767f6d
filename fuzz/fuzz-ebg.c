/* fuzz-ebg.c - libFuzzer target for the EFI Boot Guard environment decoder and its user variables */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include <debkeep/ebg.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct dk_ebg_env env, again;
static unsigned char raw[DK_EBG_ENV_SIZE];

static void fix_crc(void)
{
	uint32_t c = (uint32_t)crc32(0L, raw, DK_EBG_ENV_SIZE - 4);

	for (int i = 0; i < 4; i++)
		raw[DK_EBG_ENV_SIZE - 4 + i] = (unsigned char)(c >> (8 * i));
}

static void walk(void)
{
	struct dk_buf b = DK_BUF_INIT;
	struct dk_ebg_var var;
	size_t pos = 0;
	bool text;

	dk_ebg_str_get(env.kernel, &b);
	dk_ebg_str_get(env.args, &b);
	while (dk_ebg_var_next(&env, &pos, &var) == 0) {
		if (pos > DK_EBG_USERVARS_SIZE)
			abort();
		dk_ebg_var_format(&var, &b, &text);
		dk_ebg_vartype_name(var.type);
		dk_buf_reset(&b);
	}
	dk_buf_release(&b);
}

/*
 * Most inputs are far smaller than an environment, and a random one never
 * has a good CRC: the first byte chooses whether the input is the whole
 * file, or is laid over the user variable area (or the strings) of an
 * empty one with the CRC fixed, so the checks behind the CRC get exercised.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dk_err err = DK_ERR_INIT;
	size_t off, n;

	if (size < 1)
		return 0;
	if (data[0] % 3 == 0) {
		if (dk_ebg_env_decode(&env, data + 1, size - 1, "fuzz", &err) == 0)
			walk();
		return 0;
	}
	memset(raw, 0, sizeof(raw));
	off = data[0] % 3 == 1 ? 4 * DK_EBG_STRING_LEN + 8 : 0;
	n = size - 1 < DK_EBG_ENV_SIZE - 4 - off ? size - 1 : DK_EBG_ENV_SIZE - 4 - off;
	memcpy(raw + off, data + 1, n);
	fix_crc();
	if (dk_ebg_env_decode(&env, raw, sizeof(raw), "fuzz", &err))
		return 0;
	walk();
	/* Whatever we accept, we can change and write back as something we accept again. */
	dk_ebg_var_set(&env, "fuzz", "value", &err);
	dk_ebg_var_set(&env, "fuzz", "another value", &err);
	dk_ebg_var_set(&env, "z", NULL, &err);
	dk_ebg_env_encode(&env, raw);
	if (dk_ebg_env_decode(&again, raw, sizeof(raw), "fuzz", &err))
		abort();
	return 0;
}
