/* test-sources.c - Sources stanzas and their Checksums-Sha256, selecting the sources of binaries, publishing text */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <debkeep/buf.h>
#include <debkeep/sources.h>

#include "tap.h"

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define SHA_C "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"

static const char sources[] =
	"Package: hello\n"
	"Binary: hello, hello-doc\n"
	"Version: 1.0-1\n"
	"Directory: pool/main/h/hello\n"
	"Files:\n"
	" 0123456789abcdef0123456789abcdef 100 hello_1.0-1.dsc\n"
	"Checksums-Sha256:\n"
	" " SHA_A " 100 hello_1.0-1.dsc\n"
	" " SHA_B " 2000 hello_1.0.orig.tar.gz\n"
	"\n"
	"Package: hello\n"
	"Version: 1.0-2\n"
	"Directory: pool/main/h/hello\n"
	"Checksums-Sha256:\n"
	" " SHA_C " 101 hello_1.0-2.dsc\n"
	" " SHA_B " 2000 hello_1.0.orig.tar.gz\n"
	"\n"
	"Package: libfoo\n"
	"Version: 2:3.0\n"
	"Directory: pool/main/libf/libfoo\n"
	"Checksums-Sha256:\n"
	" " SHA_A " 100 libfoo_3.0.dsc\n"
	"\n"
	"Package: hello\n"
	"Version: 1.0-1\n"
	"Directory: pool/main/h/hello-dup\n"
	"Checksums-Sha256:\n"
	" " SHA_A " 100 hello_1.0-1.dsc\n";

static int nmissing;
static char missing_last[200];

static void on_missing(void *ctx, const struct dk_source_ref *ref)
{
	(void)ctx;
	nmissing++;
	snprintf(missing_last, sizeof(missing_last), "%s %s (%s)", ref->source, ref->version, ref->binary);
}

static void test_checksums(void)
{
	struct dk_err err = DK_ERR_INIT;
	struct dk_source_file *f;
	size_t n;
	const char good[] = "\n " SHA_A " 12 a_1.dsc\n " SHA_B "  0\tb_1.tar.xz \r\n";

	is_int(dk_source_checksums_parse(good, strlen(good), "t", &f, &n, &err), 0, "checksums: %s", err.msg);
	is_int(n, 2, "two files");
	if (n == 2) {
		is_str(f[0].name, "a_1.dsc", "first name");
		is_int(f[0].size, 12, "first size");
		is_str(f[1].sha256, SHA_B, "second hash");
		is_str(f[1].name, "b_1.tar.xz", "blanks and CR around fields are fine");
	}
	dk_source_files_release(f, n);
	static const char *const bad[] = {
		"\n " SHA_A " 12 ../x.dsc",  "\n " SHA_A " 12 sub/x.dsc", "\n " SHA_A " 12 .hidden",
		"\n " SHA_A " 1x x.dsc",     "\n " SHA_A " 12",           "\n abc 12 x.dsc",
		"\n " SHA_A " 12 x.dsc y",   "\n " SHA_A " 1 x.dsc\n " SHA_B " 2 x.dsc",
		"",                          "\n " SHA_A " 1234567890123456 x.dsc",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		dk_err_clear(&err);
		is_int(dk_source_checksums_parse(bad[i], strlen(bad[i]), "t", &f, &n, &err), DK_EINPUT,
		       "bad Checksums-Sha256 %zu refused: %s", i, err.msg);
		ok(f == NULL && n == 0, "...nothing returned");
	}
}

static void test_select(void)
{
	struct dk_sources_index ix = DK_SOURCES_INDEX_INIT;
	struct dk_err err = DK_ERR_INIT;
	struct dk_source *s;
	size_t sel;
	/* Binaries as Packages stanzas say: a binNMU names its source's version, two binaries share a source. */
	const struct dk_source_ref refs[] = {
		{ "hello", "amd64", "hello", "1.0-2" },
		{ "hello-doc", "all", "hello", "1.0-2" },
		{ "libfoo3", "amd64", "libfoo", "2:3.0" },
		{ "orphan", "amd64", "gone", "1" },
		{ "orphan-doc", "all", "gone", "1" },
	};

	is_int(dk_sources_index_add(&ix, sources, strlen(sources), "Sources", &err), 0, "index: %s", err.msg);
	is_int(ix.n, 4, "four stanzas");
	s = dk_sources_index_find(&ix, "hello", "1.0-1");
	ok(s && !strcmp(s->directory, "pool/main/h/hello"), "the first of two equal name/version stanzas is found");
	ok(s && s->nfiles == 2 && strstr(s->stanza, "Files:") && !strstr(s->stanza, "hello-dup"),
	   "stanza text and files kept");
	ok(!dk_sources_index_find(&ix, "hello", "1.0-3"), "an absent version is not found");
	dk_sources_select(&ix, refs, sizeof(refs) / sizeof(*refs), on_missing, NULL, &sel);
	is_int(sel, 2, "two sources selected (a source shared by two binaries counts once)");
	ok(dk_sources_index_find(&ix, "hello", "1.0-2")->selected, "hello 1.0-2 selected");
	ok(!dk_sources_index_find(&ix, "hello", "1.0-1")->selected, "hello 1.0-1 not selected");
	ok(dk_sources_index_find(&ix, "libfoo", "2:3.0")->selected, "the epoch'd source version matched");
	is_int(nmissing, 1, "a missing source reported once");
	is_str(missing_last, "gone 1 (orphan)", "...naming the first binary");
	dk_sources_select(&ix, NULL, 0, on_missing, NULL, &sel);
	is_int(sel, 3, "without refs: every distinct source");
	ok(!ix.v[3].selected, "...not the duplicate stanza");
	dk_sources_index_release(&ix);

	static const char *const bad[] = {
		"Package: x\nVersion: 1\nDirectory: pool/x\nChecksums-Sha256:\n " SHA_A " 1 x_1.dsc\n",
		"Package: xx\nVersion: 1\nDirectory: pool/../x\nChecksums-Sha256:\n " SHA_A " 1 x_1.dsc\n",
		"Package: xx\nVersion: 1\nDirectory: /pool/x\nChecksums-Sha256:\n " SHA_A " 1 x_1.dsc\n",
		"Package: xx\nVersion: 1\nDirectory: pool/x\nChecksums-Sha256:\n " SHA_A " 1 x_1.tar.gz\n",
		"Package: xx\nVersion: 1\nDirectory: pool/x\nFiles:\n 0123 1 x_1.dsc\n",
		"Package: xx\nVersion: a b\nDirectory: pool/x\nChecksums-Sha256:\n " SHA_A " 1 x_1.dsc\n",
		"Version: 1\nDirectory: pool/x\nChecksums-Sha256:\n " SHA_A " 1 x_1.dsc\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		dk_err_clear(&err);
		is_int(dk_sources_index_add(&ix, bad[i], strlen(bad[i]), "Sources", &err), DK_EINPUT,
		       "bad stanza %zu refused: %s", i, err.msg);
		ok(strstr(err.msg, "Sources:1") != NULL, "...naming file:line");
		dk_sources_index_release(&ix);
	}
}

static int add_name(void *ctx, const char *p, size_t n)
{
	struct dk_buf *b = ctx;

	dk_buf_add(b, p, n);
	return dk_buf_addc(b, ';');
}

static void test_publish_text(void)
{
	struct dk_err err = DK_ERR_INIT;
	struct dk_buf out = DK_BUF_INIT, names = DK_BUF_INIT;
	char dir[200];
	const struct dk_publish_source v[] = {
		{ "hello", "1.0-10",
		  "Package: hello\nVersion: 1.0-10\nDirectory: pool/main/h/hello\nChecksums-Sha256:\n " SHA_A
		  " 1 hello_1.0-10.dsc",
		  "main", NULL, 0 },
		{ "hello", "1.0-9", "Package: hello\nVersion: 1.0-9", "main", NULL, 0 },
		{ "aa", "1", "Package: aa\nVersion: 1", "main", NULL, 0 },
		{ "zz", "1", "Package: zz\nVersion: 1", "contrib", NULL, 0 },
	};

	is_int(dk_source_pool_dir("main", "libfoo", dir, sizeof(dir)), 0, "pool dir");
	is_str(dir, "pool/main/libf/libfoo", "lib prefix");
	dk_source_pool_dir("contrib", "hello", dir, sizeof(dir));
	is_str(dir, "pool/contrib/h/hello", "one-letter prefix");
	dk_source_pool_dir("main", "lib", dir, sizeof(dir));
	is_str(dir, "pool/main/l/lib", "'lib' alone has a one-letter prefix");
	is_int(dk_sources_index_text(v, 4, "main", &out, &err), 0, "index text");
	ok(!strncmp(out.data, "Package: aa\n", 12) &&
	   strstr(out.data, "Version: 1.0-9\n\nPackage: hello\nVersion: 1.0-10") && !strstr(out.data, "zz"),
	   "sorted by name, then version in dpkg order; one component");
	is_int(dk_sources_pool_names(out.data, out.len, add_name, &names), 0, "pool names");
	is_str(names.data, "pool/main/h/hello/hello_1.0-10.dsc;", "Directory + each file");
	dk_buf_release(&out);
	dk_buf_release(&names);
}

int main(void)
{
	test_checksums();
	test_select();
	test_publish_text();
	return tap_done();
}
