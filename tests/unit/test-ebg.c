/* test-ebg.c - unit tests for lib/device/ebg.c: the EFI Boot Guard environment */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include <debkeep/ebg.h>
#include <debkeep/input.h>

#include "tap.h"

/* The fixtures of the command tests, made by bg_setenv (tests/fixtures/ebg/make.sh). */
#define EBG_FIXTURES FIXTURES "/../../fixtures/ebg"

static struct dk_ebg_env env, env2;
static unsigned char raw[DK_EBG_ENV_SIZE], raw2[DK_EBG_ENV_SIZE];

static const char *text(const uint16_t *units)
{
	static struct dk_buf b = DK_BUF_INIT;

	dk_buf_reset(&b);
	dk_ebg_str_get(units, &b);
	return b.data;
}

static const char *var_text(const char *key)
{
	static struct dk_buf b = DK_BUF_INIT;
	struct dk_ebg_var var;
	bool t;

	dk_buf_reset(&b);
	if (dk_ebg_var_find(&env, key, &var))
		return "(absent)";
	dk_ebg_var_format(&var, &b, &t);
	return b.data;
}

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void recrc(unsigned char *p)
{
	put32(p + DK_EBG_ENV_SIZE - 4, (uint32_t)crc32(0L, p, DK_EBG_ENV_SIZE - 4));
}

static void test_layout(void)
{
	struct dk_err err = DK_ERR_INIT;

	is_int(DK_EBG_ENV_SIZE, 132104, "an environment is 132104 bytes, as bg_setenv writes it");
	dk_ebg_env_init(&env);
	dk_ebg_env_encode(&env, raw);
	is_int(env.crc32, crc32(0L, raw, DK_EBG_ENV_SIZE - 4),
	       "the CRC is zlib's over all but the last 4 bytes");
	is_int(raw[DK_EBG_ENV_SIZE - 4], env.crc32 & 0xff, "stored little-endian");
	is_int(dk_ebg_env_decode(&env2, raw, sizeof(raw), "x", &err), 0, "an empty environment decodes");

	dk_ebg_str_set(env.kernel, "C:BOOT0:linux.efi", "k", NULL);
	env.in_progress = 1;
	env.ustate = DK_EBG_USTATE_TESTING;
	env.watchdog_sec = 0x1234;
	env.revision = 0x01020304;
	dk_ebg_env_encode(&env, raw);
	is_int(raw[0], 'C', "kernel: first unit low byte");
	is_int(raw[1], 0, "kernel: UTF-16LE");
	is_int(raw[1020], 1, "in_progress at 1020");
	is_int(raw[1021], 2, "ustate at 1021");
	ok(raw[1022] == 0x34 && raw[1023] == 0x12, "watchdog at 1022, little-endian");
	ok(raw[1024] == 4 && raw[1027] == 1, "revision at 1024, little-endian");
	is_int(dk_ebg_env_decode(&env2, raw, sizeof(raw), "x", &err), 0, "decodes");
	ok(memcmp(&env, &env2, sizeof(env)) == 0, "decode(encode(env)) == env");
}

static void test_bad(void)
{
	struct dk_err err = DK_ERR_INIT;

	dk_ebg_env_init(&env);
	dk_ebg_env_encode(&env, raw);
	is_int(dk_ebg_env_decode(&env2, raw, 1000, "BGENV.DAT", &err), DK_EINPUT, "truncated");
	is_str(err.msg, "BGENV.DAT: truncated: 1000 bytes, an environment has 132104", "truncated: message");
	is_int(dk_ebg_env_decode(&env2, raw, 0, "BGENV.DAT", &err), DK_EINPUT, "empty");
	memcpy(raw2, raw, sizeof(raw));
	raw2[5000] ^= 1;
	is_int(dk_ebg_env_decode(&env2, raw2, sizeof(raw2), "BGENV.DAT", &err), DK_EINPUT, "one flipped bit");
	ok(strstr(err.msg, "CRC-32 mismatch") != NULL, "CRC: message (%s)", err.msg);
	raw2[5000] ^= 1;
	raw2[DK_EBG_ENV_SIZE - 1] ^= 0x80;
	is_int(dk_ebg_env_decode(&env2, raw2, sizeof(raw2), "BGENV.DAT", &err), DK_EINPUT, "flipped CRC bit");

	/* User variable chains that would lead a reader out of the area, under a good CRC. */
	memcpy(raw2, raw, sizeof(raw));
	memset(raw2 + 1028, 'k', DK_EBG_USERVARS_SIZE);
	recrc(raw2);
	is_int(dk_ebg_env_decode(&env2, raw2, sizeof(raw2), "B", &err), DK_EINPUT, "key without NUL");
	is_str(err.msg, "B: user variable at offset 1028: key not terminated", "key without NUL: message");
	memcpy(raw2, raw, sizeof(raw));
	memcpy(raw2 + 1028, "k\0", 2);
	put32(raw2 + 1030, 11);
	recrc(raw2);
	is_int(dk_ebg_env_decode(&env2, raw2, sizeof(raw2), "B", &err), DK_EINPUT, "size below the header");
	put32(raw2 + 1030, DK_EBG_USERVARS_SIZE - 2 + 1);
	recrc(raw2);
	is_int(dk_ebg_env_decode(&env2, raw2, sizeof(raw2), "B", &err), DK_EINPUT, "size past the end");
	put32(raw2 + 1030, DK_EBG_USERVARS_SIZE - 2);
	recrc(raw2);
	is_int(dk_ebg_env_decode(&env2, raw2, sizeof(raw2), "B", &err), 0,
	       "a record may end at the very end");
	memset(raw2 + 1028, 'k', DK_EBG_USERVARS_SIZE - 6);
	raw2[1028 + DK_EBG_USERVARS_SIZE - 6] = '\0';
	recrc(raw2);
	is_int(dk_ebg_env_decode(&env2, raw2, sizeof(raw2), "B", &err), DK_EINPUT, "header past the end");
}

static void test_strings(void)
{
	struct dk_err err = DK_ERR_INIT;
	uint16_t u[DK_EBG_STRING_LEN] = { 0 };
	char s[300];

	memset(s, 'a', sizeof(s));
	s[254] = '\0';
	is_int(dk_ebg_str_set(u, s, "--kernel", &err), 0, "254 characters fit");
	is_int(strlen(text(u)), 254, "and read back");
	s[254] = 'a';
	s[255] = '\0';
	is_int(dk_ebg_str_set(u, s, "--kernel", &err), DK_EINPUT, "255 do not (the last unit is the NUL)");
	is_str(err.msg, "--kernel: 255 characters, at most 254 fit", "too long: message");
	is_int(dk_ebg_str_set(u, "root=/dev/sda\xc3\xbc", "--args", &err), DK_EINPUT, "non-ASCII refused");
	ok(strstr(err.msg, "--args: byte 0xc3 at 13") == err.msg, "non-ASCII: message (%s)", err.msg);
	is_int(dk_ebg_str_set(u, "a\tb", "--args", &err), DK_EINPUT, "control character refused");
	is_int(dk_ebg_str_set(u, "", "--args", &err), 0, "empty is fine");
	is_str(text(u), "", "empty reads back empty");

	/* bg_setenv stores each byte of a UTF-8 string sign-extended: 0xc3 0xbc -> 0xffc3 0xffbc. */
	memset(u, 0, sizeof(u));
	u[0] = 'k';
	u[1] = 0xffc3;
	u[2] = 0xffbc;
	is_str(text(u), "k\xc3\xbc", "bg_setenv's sign-extended bytes are bytes again");
	u[1] = 0x00fc;
	u[2] = 0;
	is_str(text(u), "k\xc3\xbc", "real UTF-16 becomes UTF-8");
	u[1] = 0xd83d;
	u[2] = 0xde00;
	is_str(text(u), "k\xf0\x9f\x98\x80", "a surrogate pair");
	u[2] = 'x';
	is_str(text(u), "k\xef\xbf\xbdx", "a lone surrogate becomes U+FFFD");
	for (int i = 0; i < DK_EBG_STRING_LEN; i++)
		u[i] = 'z';
	is_int(strlen(text(u)), 254, "an unterminated field reads as 254 units, as efibootguard's tools do");
}

static void test_ustate(void)
{
	struct dk_err err = DK_ERR_INIT;
	uint8_t st = 9;

	is_int(dk_ebg_ustate_parse("testing", &st, &err), 0, "testing");
	is_int(st, 2, "testing is 2");
	is_int(dk_ebg_ustate_parse("FAILED", &st, &err), 0, "FAILED");
	is_int(st, 3, "any case");
	is_int(dk_ebg_ustate_parse("4", &st, &err), 0, "a number");
	is_int(st, 4, "4");
	is_int(dk_ebg_ustate_parse("5", &st, &err), DK_EINPUT, "5 is not a state");
	is_int(dk_ebg_ustate_parse("test", &st, &err), DK_EINPUT, "no prefixes");
	is_str(dk_ebg_ustate_name(1), "INSTALLED", "name of 1");
	is_str(dk_ebg_ustate_name(200), "UNKNOWN", "above 4 is UNKNOWN, as bg_printenv says");
}

static size_t count_vars(void)
{
	struct dk_ebg_var var;
	size_t pos = 0, n = 0;

	while (dk_ebg_var_next(&env, &pos, &var) == 0)
		n++;
	return n;
}

static void test_vars(void)
{
	struct dk_err err = DK_ERR_INIT;
	struct dk_ebg_var var;
	size_t pos = 0;
	char key[16], big[70000];
	int i, r;

	dk_ebg_env_init(&env);
	is_int(count_vars(), 0, "no variables at first");
	is_int(dk_ebg_var_set(&env, "a", "1", &err), 0, "set a");
	is_int(dk_ebg_var_set(&env, "b", "two", &err), 0, "set b");
	is_int(count_vars(), 2, "two variables");
	is_int(env.uservars[0], 'a', "a first");
	is_int(env.uservars[2], 2 + 12, "payload size: u32 + u64 type + value with NUL");
	is_int(env.uservars[6], DK_EBG_VAR_STRING, "type string (32)");
	is_int(dk_ebg_var_set(&env, "a", "9", &err), 0, "same size");
	dk_ebg_var_next(&env, &pos, &var);
	ok(strcmp(var.key, "a") == 0 && strcmp((const char *)var.data, "9") == 0, "changed in place");
	is_int(dk_ebg_var_set(&env, "a", "longer", &err), 0, "another size");
	pos = 0;
	dk_ebg_var_next(&env, &pos, &var);
	is_str(var.key, "b", "the changed variable moved to the end, as efibootguard does");
	is_str(var_text("a"), "longer", "and has its new value");
	is_int(dk_ebg_var_set(&env, "b", NULL, &err), 0, "delete b");
	is_int(count_vars(), 1, "one left");
	is_str(var_text("b"), "(absent)", "b is gone");
	is_int(dk_ebg_var_set(&env, "nope", NULL, &err), 0, "deleting what is absent is fine");
	is_int(dk_ebg_var_set(&env, "", "x", &err), DK_EINPUT, "empty key");
	is_int(dk_ebg_var_set(&env, "a=b", "x", &err), DK_EINPUT, "key with '='");
	is_int(dk_ebg_var_set(&env, "a b", "x", &err), DK_EINPUT, "key with a blank");
	is_int(dk_ebg_var_set(&env, "u", "\xc3\xbc", &err), 0, "values are bytes: UTF-8 is fine");

	/* Leftover bytes after the end of the chain must not join it when a variable is added. */
	dk_ebg_env_init(&env);
	memset(env.uservars + 1, 'g', 100);
	is_int(dk_ebg_var_set(&env, "a", "1", &err), 0, "add before leftovers");
	is_int(count_vars(), 1, "the leftovers stay outside the chain");
	dk_ebg_env_encode(&env, raw);
	is_int(dk_ebg_env_decode(&env2, raw, sizeof(raw), "x", &err), 0, "and the result decodes");

	dk_ebg_env_init(&env);
	memset(big, 'v', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	is_int(dk_ebg_var_set(&env, "big", big, &err), 0, "a 70000-byte value fits");
	r = dk_ebg_var_set(&env, "big2", big, &err);
	is_int(r, DK_EINPUT, "a second one does not");
	ok(strstr(err.msg, "big2") != NULL, "full: message names the key (%s)", err.msg);
	for (i = 0; i < 100000; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		if (dk_ebg_var_set(&env, key, "v", &err))
			break;
	}
	ok(i > 1000 && i < 100000, "small variables fill the rest (%d)", i);
	dk_ebg_env_encode(&env, raw);
	is_int(dk_ebg_env_decode(&env2, raw, sizeof(raw), "x", &err), 0, "a full area still decodes");
}

static void test_fixture(void)
{
	struct dk_err err = DK_ERR_INIT;
	struct dk_buf file = DK_BUF_INIT;

	if (!ok(dk_ebg_env_load(&env, EBG_FIXTURES "/setenv.dat", &err) == 0, "bg_setenv's file loads (%s)",
		err.msg))
		return;
	is_str(text(env.kernel), "C:BOOT0:linux.efi", "kernel");
	is_str(text(env.args), "console=ttyS0,115200 root=/dev/sda4 rootwait", "kernel arguments");
	is_int(env.revision, 3, "revision");
	is_int(env.watchdog_sec, 60, "watchdog");
	is_int(env.ustate, DK_EBG_USTATE_TESTING, "ustate");
	is_int(env.in_progress, 1, "in_progress");
	is_str(var_text("swupdate_rev"), "2026.11", "user variable swupdate_rev");
	is_str(var_text("board"), "qemu-amd64", "user variable board");

	/* The same settings through our setters give bg_setenv's bytes exactly. */
	dk_ebg_env_init(&env2);
	dk_ebg_str_set(env2.kernel, "C:BOOT0:linux.efi", "k", &err);
	dk_ebg_str_set(env2.args, "console=ttyS0,115200 root=/dev/sda4 rootwait", "a", &err);
	env2.revision = 3;
	env2.watchdog_sec = 60;
	env2.ustate = 2;
	env2.in_progress = 1;
	dk_ebg_var_set(&env2, "swupdate_rev", "2026.11", &err);
	dk_ebg_var_set(&env2, "board", "qemu-amd64", &err);
	dk_ebg_env_encode(&env2, raw);
	dk_read_file(EBG_FIXTURES "/setenv.dat", &file, 0, &err);
	ok(file.len == DK_EBG_ENV_SIZE && memcmp(file.data, raw, DK_EBG_ENV_SIZE) == 0,
	   "byte for byte what bg_setenv wrote");
	dk_buf_release(&file);

	is_int(dk_ebg_env_load(&env, EBG_FIXTURES "/crc.dat", &err), DK_EINPUT, "crc.dat refused");
	is_int(dk_ebg_env_load(&env, EBG_FIXTURES "/short.dat", &err), DK_EINPUT, "short.dat refused");
	ok(strstr(err.msg, "short.dat: truncated: 4096 bytes") != NULL, "truncated: message (%s)", err.msg);
	is_int(dk_ebg_env_load(&env, EBG_FIXTURES "/badvar.dat", &err), DK_EINPUT, "badvar.dat refused");
	is_int(dk_ebg_env_load(&env, EBG_FIXTURES "/absent.dat", &err), DK_EIO, "a missing file is DK_EIO");
	is_int(dk_ebg_env_load(&env, EBG_FIXTURES, &err), DK_EINPUT, "a directory is refused");

	if (!ok(dk_ebg_env_load(&env, EBG_FIXTURES "/typed.dat", &err) == 0, "typed.dat loads"))
		return;
	is_str(var_text("count"), "4000000000", "uint32");
	is_str(var_text("delta"), "-5", "int8, negative");
	is_str(var_text("armed"), "true", "bool");
	is_str(var_text("mode"), "A", "char");
	is_str(var_text("blob"), "dead", "an unknown type in hex");
	is_str(var_text("name"), "cip", "string");
	is_str(dk_ebg_vartype_name(DK_EBG_VAR_UINT16), "uint16", "type name");
	ok(dk_ebg_vartype_name(0x77) == NULL, "no name for an unknown type");
}

static void test_save(void)
{
	struct dk_err err = DK_ERR_INIT;
	char dir[] = "/tmp/test-ebg.XXXXXX", path[64];
	struct dirent *de;
	DIR *d;
	int n = 0;

	if (!ok(mkdtemp(dir) != NULL, "temporary directory"))
		return;
	snprintf(path, sizeof(path), "%s/BGENV.DAT", dir);
	dk_ebg_env_init(&env);
	dk_ebg_str_set(env.kernel, "vmlinuz", "k", &err);
	env.revision = 42;
	is_int(dk_ebg_env_save(&env, path, &err), 0, "save");
	is_int(dk_ebg_env_load(&env2, path, &err), 0, "load what was saved");
	ok(memcmp(&env, &env2, sizeof(env)) == 0, "the same environment");
	env.revision = 43;
	is_int(dk_ebg_env_save(&env, path, &err), 0, "save over it");
	dk_ebg_env_load(&env2, path, &err);
	is_int(env2.revision, 43, "replaced");
	d = opendir(dir);
	while (d && (de = readdir(d)))
		n += de->d_name[0] != '.';
	if (d)
		closedir(d);
	is_int(n, 1, "no temporary file left behind");
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	test_layout();
	test_bad();
	test_strings();
	test_ustate();
	test_vars();
	test_fixture();
	test_save();
	return tap_done();
}
