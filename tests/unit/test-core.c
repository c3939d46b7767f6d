/* test-core.c - unit tests for lib/core: err, buf, arena, strpool, map, hash, input, lazy loading */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <debkeep/arena.h>
#include <debkeep/buf.h>
#include <debkeep/err.h>
#include <debkeep/hash.h>
#include <debkeep/input.h>
#include <debkeep/map.h>
#include <debkeep/strpool.h>

#include "core/lazy.h"
#include "tap.h"

static void test_err(void)
{
	struct dk_err err = DK_ERR_INIT;

	is_int(dk_err_set(&err, DK_EINPUT, "bad %s", "thing"), DK_EINPUT, "dk_err_set returns its code");
	is_str(err.msg, "bad thing", "message formatted");
	dk_err_prefix(&err, "Packages:%u", 12u);
	is_str(err.msg, "Packages:12: bad thing", "prefix added");
	is_int(err.code, DK_EINPUT, "prefix keeps the code");
	is_int(dk_err_set(NULL, DK_EIO, "x"), DK_EIO, "NULL err is allowed");
}

static void test_buf(void)
{
	struct dk_buf b = DK_BUF_INIT;
	struct dk_err err = DK_ERR_INIT;

	ok(b.data && b.data[0] == '\0', "empty buffer is an empty string");
	dk_buf_adds(&b, "abc");
	dk_buf_addc(&b, '-');
	dk_buf_addf(&b, "%d:%s", 42, "x");
	is_str(b.data, "abc-42:x", "appends");
	is_int(b.len, 8, "length tracked");
	for (int i = 0; i < 1000; i++)
		dk_buf_addf(&b, "%04d", i);
	is_int(b.len, 8 + 4000, "long formatted appends");
	ok(strncmp(b.data + b.len - 4, "0999", 4) == 0, "content after growth");
	dk_buf_truncate(&b, 3);
	is_str(b.data, "abc", "truncate");
	dk_buf_release(&b);
	ok(b.data == dk_buf_empty && b.len == 0, "release re-initialises");

	dk_buf_init(&b, 10);
	is_int(dk_buf_adds(&b, "0123456789"), 0, "fits the cap");
	ok(dk_buf_adds(&b, "x") != 0, "over the cap fails");
	is_str(b.data, "0123456789", "failed append leaves contents");
	ok(dk_buf_check(&b, &err, "test") == DK_ENOMEM, "sticky failure reported");
	dk_buf_release(&b);
}

static void test_arena(void)
{
	struct dk_arena a = DK_ARENA_INIT;
	char *big;
	int aligned = 1;

	for (int i = 0; i < 100000; i++) {
		void *p = dk_arena_alloc(&a, (size_t)(i % 37) + 1);

		if (!p || ((uintptr_t)p & 15))
			aligned = 0;
	}
	ok(aligned, "100000 small allocations, all 16-byte aligned");
	big = dk_arena_alloc(&a, 100u << 20);
	ok(big != NULL, "one large allocation");
	memset(big, 1, 100u << 20);
	is_str(dk_arena_strndup(&a, "hello world", 5), "hello", "strndup");
	dk_arena_release(&a);
	ok(a.head == NULL && a.ready == NULL, "release frees everything");
	/* Blocks of a megabyte and more are populated ahead: every byte stays where it was put. */
	for (int i = 0; i < 200000; i++) {
		char *p = dk_arena_alloc(&a, 48);

		if (!p)
			break;
		memset(p, i & 0xff, 48);
		if (i % 1000 == 0 && (big = dk_arena_alloc(&a, 3000)) != NULL)
			memset(big, 0xee, 3000);
	}
	ok(a.total > (4u << 20) && a.ready >= a.next && a.ready <= a.end,
	   "populated up to a window past the head's use");
	dk_arena_release(&a);
	dk_mem_populate(NULL, 0);
	{
		char *m = malloc(10000);

		dk_mem_populate(m + 1, 9999);
		memset(m, 7, 10000);
		ok(m[0] == 7 && m[9999] == 7, "populate is a hint: memory is unchanged and usable");
		free(m);
	}
}

static void test_strpool(void)
{
	struct dk_strpool p = DK_STRPOOL_INIT;
	dk_id a = dk_strpool_intern(&p, "libc6", 5);
	dk_id b = dk_strpool_intern(&p, "libc6-dev", 9);
	char name[32];
	int same = 1;

	ok(a && b && a != b, "distinct ids");
	is_int(dk_strpool_intern(&p, "libc6xx", 5), a, "interning is by content");
	is_int(dk_strpool_lookup(&p, "libc6-dev", 9), b, "lookup finds");
	is_int(dk_strpool_lookup(&p, "nope", 4), 0, "lookup of an unknown string is 0");
	for (int i = 0; i < 70000; i++) {
		int n = snprintf(name, sizeof(name), "pkg%d", i);

		dk_strpool_intern(&p, name, (size_t)n);
	}
	for (int i = 0; i < 70000; i += 7) {
		int n = snprintf(name, sizeof(name), "pkg%d", i);
		dk_id id = dk_strpool_lookup(&p, name, (size_t)n);

		if (!id || strcmp(dk_strpool_str(&p, id), name) != 0)
			same = 0;
	}
	ok(same, "70000 names survive growth");
	is_str(dk_strpool_str(&p, a), "libc6", "ids stay valid after growth");
	dk_strpool_release(&p);

	is_int(dk_strpool_reserve(&p, 100000), 0, "reserve in an empty pool");
	{
		uint32_t mask = p.mask, alloc = p.alloc;

		ok(p.alloc >= 100001 && (uint64_t)p.mask + 1 >= 2 * 100001u, "room for 100000 strings at half load");
		a = dk_strpool_intern(&p, "libc6", 5);
		for (int i = 0; i < 99999; i++) {
			int n = snprintf(name, sizeof(name), "pkg%d", i);

			dk_strpool_intern(&p, name, (size_t)n);
		}
		ok(p.mask == mask && p.alloc == alloc, "interning what was reserved grows nothing");
		is_int(dk_strpool_lookup(&p, "pkg99998", 8), 100000, "ids in sequence after a reserve");
		is_int(dk_strpool_reserve(&p, 0), 0, "a reserve of nothing more");
		ok(p.mask == mask && p.alloc == alloc, "a reserve that fits changes nothing");
		is_int(dk_strpool_reserve(&p, 200000), 0, "a reserve in a full pool");
		ok(p.alloc >= 300001 && (uint64_t)p.mask + 1 >= 600002u, "grows to the count plus the reserve");
		is_int(dk_strpool_lookup(&p, "pkg12345", 8), dk_strpool_intern(&p, "pkg12345", 8),
		       "strings stay after a reserve rehashes");
		is_str(dk_strpool_str(&p, a), "libc6", "and so do their ids");
		ok(dk_strpool_reserve(&p, UINT32_MAX) < 0, "an impossible reserve fails");
		is_str(dk_strpool_str(&p, a), "libc6", "and leaves the pool as it was");
	}
	dk_strpool_release(&p);
}

static void test_map(void)
{
	struct dk_map m = DK_MAP_INIT;
	int good = 1;

	for (uintptr_t i = 0; i < 50000; i++)
		dk_map_put(&m, i * 7919, (void *)(i + 1));
	for (uintptr_t i = 0; i < 50000; i++)
		if (dk_map_get(&m, i * 7919) != (void *)(i + 1))
			good = 0;
	ok(good, "50000 keys put and got");
	ok(dk_map_get(&m, 3) == NULL, "absent key");
	is_int(m.count, 50000, "count");
	dk_map_release(&m);
}

static void test_hash(void)
{
	unsigned char md[DK_HASH_MAX];
	char hex[2 * DK_HASH_MAX + 1];

	dk_hash_mem(DK_SHA256, "abc", 3, md, NULL);
	dk_hex(md, 32, hex);
	is_str(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "SHA256(abc)");
	dk_hash_mem(DK_MD5, "", 0, md, NULL);
	dk_hex(md, 16, hex);
	is_str(hex, "d41d8cd98f00b204e9800998ecf8427e", "MD5('')");
	is_str(dk_hash_name(DK_MD5), "MD5Sum", "Release file name of MD5");
}

/* Compressed inputs are made with the real tools into a temporary directory. */
static void test_input(void)
{
	static const char *tools[][2] = {
		{ "gz", "gzip -c" },   { "xz", "xz -c" },       { "zst", "zstd -q -c" },
		{ "bz2", "bzip2 -c" }, { "lz4", "lz4 -q -c" },
	};
	char dir[] = "/tmp/dk-test-core-XXXXXX";
	char path[256], cmd[512];
	struct dk_buf b = DK_BUF_INIT;
	struct dk_err err = DK_ERR_INIT;
	FILE *f;

	if (!mkdtemp(dir)) {
		ok(0, "mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/plain", dir);
	f = fopen(path, "w");
	for (int i = 0; i < 20000; i++)
		fprintf(f, "Package: p%d\n\n", i);
	fclose(f);
	is_int(dk_read_file(path, &b, 0, &err), 0, "plain file read");
	size_t plain_len = b.len;
	ok(plain_len > 200000, "plain length");
	for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++) {
		snprintf(cmd, sizeof(cmd), "%s %s/plain > %s/p.%s 2>/dev/null", tools[i][1], dir, dir, tools[i][0]);
		if (system(cmd) != 0) {
			printf("# skipping %s: tool missing\n", tools[i][0]);
			continue;
		}
		snprintf(path, sizeof(path), "%s/p.%s", dir, tools[i][0]);
		int r = dk_read_file(path, &b, 0, &err);
		ok(r == 0 && b.len == plain_len && memcmp(b.data, "Package: p0\n", 12) == 0,
		   "%s decompressed (%s)", tools[i][0], r ? err.msg : "ok");
	}
	snprintf(cmd, sizeof(cmd), "head -c 2000 %s/p.xz > %s/trunc.xz", dir, dir);
	if (system(cmd) == 0) {
		snprintf(path, sizeof(path), "%s/trunc.xz", dir);
		int r = dk_read_file(path, &b, 0, &err);
		ok(r == DK_EINPUT && strstr(err.msg, "trunc.xz"), "truncated xz is an input error naming the file: %s",
		   err.msg);
	}
	snprintf(path, sizeof(path), "%s/p.gz", dir);
	ok(dk_read_file(path, &b, 1000, &err) == DK_EINPUT, "decompression cap enforced: %s", err.msg);
	ok(dk_read_file("/nonexistent/x", &b, 0, &err) == DK_EIO && strstr(err.msg, "/nonexistent/x"),
	   "missing file: %s", err.msg);
	dk_buf_release(&b);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
}

/* The loader on its own: zlib, which every test program has, stands for a lazily loaded library. */
static void test_lazy(void)
{
	static const char *const names[] = { "zlibVersion", "crc32" };
	static const char *const missing[] = { "zlibVersion", "no_such_function_in_zlib" };
	struct {
		const char *(*version)(void);
		unsigned long (*crc32)(unsigned long crc, const unsigned char *p, unsigned n);
	} fn = { 0 }, fn2 = { 0 }, fn3 = { 0 };
	struct dk_lazy z = DK_LAZY_INIT("libz.so.1", names, fn), partial = DK_LAZY_INIT("libz.so.1", missing, fn2),
		       absent = DK_LAZY_INIT("libdebkeep-absent.so.0", names, fn3);

	ok(dk_lazy_have(&z) && fn.version && fn.crc32, "a library loads and its functions resolve");
	is_int((int)fn.crc32(0, (const unsigned char *)"123456789", 9), (int)0xcbf43926, "and are called");
	ok(dk_lazy_have(&z), "asked again: loaded");
	ok(!dk_lazy_have(&partial) && !fn2.version, "a missing function: not loaded, the table left zero");
	ok(!dk_lazy_have(&absent) && !dk_lazy_have(&absent), "a missing library: not loaded, and not tried again");
}

int main(void)
{
	test_err();
	test_buf();
	test_arena();
	test_strpool();
	test_map();
	test_hash();
	test_input();
	test_lazy();
	return tap_done();
}
