/* test-swu.c - unit tests for lib/device/cpio.c and lib/device/swu.c: cpio crc, descriptions, create, verify
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <debkeep/cpio.h>
#include <debkeep/input.h>
#include <debkeep/swu.h>

#include "tap.h"

static char dir[] = "/tmp/debkeep-test-swu.XXXXXX";

static char *path(const char *name)
{
	static char buf[8][256];
	static int slot;
	char *p = buf[slot++ % 8];

	snprintf(p, 256, "%s/%s", dir, name);
	return p;
}

static void write_file(const char *name, const void *p, size_t n)
{
	FILE *f = fopen(path(name), "wb");

	if (!f || fwrite(p, 1, n, f) != n || fclose(f)) {
		perror(name);
		exit(1);
	}
}

static void random_file(const char *name, size_t n, unsigned seed)
{
	unsigned char *p = malloc(n);

	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (unsigned char)(seed >> 16);
	}
	write_file(name, p, n);
	free(p);
}

static int count_tmp_files(void)
{
	char cmd[512];
	FILE *f;
	int n = 0;

	snprintf(cmd, sizeof(cmd), "ls %s | grep -c tmp-", dir);
	f = popen(cmd, "r");
	if (f && fscanf(f, "%d", &n) != 1)
		n = -1;
	if (f)
		pclose(f);
	return n;
}

/* A throwaway RSA key and self-signed certificate for S/MIME signing, as SWUpdate checks them. */
static void make_signer(const char *keyname, const char *certname, const char *cn)
{
	EVP_PKEY *pk = EVP_RSA_gen(2048);
	X509 *x = X509_new();
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	FILE *f;

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600L * 24 * 365);
	X509_set_pubkey(x, pk);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC, (const unsigned char *)cn,
				   -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_ext_key_usage, "emailProtection");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_key_usage, "digitalSignature");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	X509_sign(x, pk, EVP_sha256());
	f = fopen(path(keyname), "w");
	PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	f = fopen(path(certname), "w");
	PEM_write_X509(f, x);
	fclose(f);
	X509_free(x);
	EVP_PKEY_free(pk);
}

static void test_cpio(void)
{
	struct dk_cpio_writer w;
	struct dk_cpio_reader r;
	struct dk_cpio_entry e;
	struct dk_err err = DK_ERR_INIT;
	struct dk_buf b = DK_BUF_INIT;
	unsigned char buf[100];
	size_t got, total = 0;
	uint32_t sum;
	int fd, src;

	is_int(dk_cpio_sum(0, "\xff\xff\x01", 3), 0x1ff, "crc: the sum of the bytes");
	is_int(dk_cpio_sum(0xffffffffu, "\x02", 1), 1, "crc: the sum wraps at 32 bits");

	random_file("payload", 1001, 7);
	fd = open(path("a.cpio"), O_RDWR | O_CREAT | O_TRUNC, 0644);
	src = open(path("payload"), O_RDONLY);
	dk_read_file(path("payload"), &b, 0, &err);
	sum = dk_cpio_sum(0, b.data, b.len);
	dk_cpio_writer_init(&w, fd, "a.cpio", 1700000000);
	ok(dk_cpio_write_mem(&w, "first", "abc", 3, &err) == 0, "write: a member from memory");
	ok(dk_cpio_write_fd(&w, "second", src, "payload", 1001, sum, &err) == 0,
	   "write: a member from a file");
	ok(dk_cpio_write_trailer(&w, &err) == 0, "write: the trailer");
	is_int(w.off % 512, 0, "write: padded to a 512-byte block as GNU cpio does");
	lseek(src, 0, SEEK_SET);
	ok(dk_cpio_write_fd(&w, "third", src, "payload", 1001, sum + 1, &err) == DK_EINPUT &&
		   strstr(err.msg, "changed"),
	   "write: a file that changed between the passes is refused (%s)", err.msg);
	ok(dk_cpio_write_fd(&w, "big", src, "payload", DK_CPIO_SIZE_MAX + 1, 0, &err) == DK_EINPUT &&
		   strstr(err.msg, "32 bits"),
	   "write: 4 GiB and more is refused: %s", err.msg);
	close(src);
	close(fd);
	dk_buf_reset(&b);
	dk_read_file(path("a.cpio"), &b, 0, &err);
	ok(memcmp(b.data, "070702", 6) == 0 && memcmp(b.data + 110, "first", 6) == 0,
	   "write: crc magic, then the name");

	dk_cpio_reader_init_mem(&r, b.data, (size_t)w.off, "a.cpio");
	ok(dk_cpio_next(&r, &e, &err) == 0 && strcmp(e.name, "first") == 0 && e.size == 3 && e.crc &&
		   e.check == dk_cpio_sum(0, "abc", 3) && e.mode == 0100644,
	   "read: the first header");
	ok(dk_cpio_next(&r, &e, &err) == 0 && strcmp(e.name, "second") == 0 && e.size == 1001,
	   "read: skips unread data to the second header");
	while (dk_cpio_read(&r, buf, sizeof(buf), &got, &err) == 0 && got)
		total += got;
	ok(total == 1001 && r.sum == e.check, "read: the data in pieces, summing to the check field");
	is_int(dk_cpio_next(&r, &e, &err), DK_NOTFOUND, "read: the trailer ends the archive");

	dk_cpio_reader_init_mem(&r, b.data, 300, "cut.cpio");
	dk_cpio_next(&r, &e, &err);
	dk_cpio_next(&r, &e, &err);
	while (dk_cpio_read(&r, buf, sizeof(buf), &got, &err) == 0 && got)
		;
	ok(strstr(err.msg, "cut.cpio: truncated cpio archive at byte 300") != NULL, "read: truncation: %s",
	   err.msg);
	dk_cpio_reader_init_mem(&r, "070707xx", 8, "odc");
	ok(dk_cpio_next(&r, &e, &err) == DK_EINPUT, "read: a short header is refused: %s", err.msg);
	b.data[3] = 'X';
	dk_cpio_reader_init_mem(&r, b.data, b.len, "m");
	ok(dk_cpio_next(&r, &e, &err) == DK_EINPUT && strstr(err.msg, "magic"), "read: bad magic: %s",
	   err.msg);
	b.data[3] = '7';
	b.data[20] = 'g';
	dk_cpio_reader_init_mem(&r, b.data, b.len, "m");
	ok(dk_cpio_next(&r, &e, &err) == DK_EINPUT && strstr(err.msg, "hexadecimal"), "read: bad field: %s",
	   err.msg);
	dk_buf_release(&b);
}

static const char good_yaml[] = "product: demo\n"
				"version: \"2.0\"\n"
				"description: say \"hi\"\n"
				"hardware-compatibility:\n"
				"  board: myboard\n"
				"  revisions: [\"1.0\", \"#RE:^2\\\\.[0-9]$\"]\n"
				"rootfs:\n"
				"  file: rootfs.img\n"
				"  copy-1: /dev/sda4\n"
				"  copy-2: /dev/sda5\n"
				"kernel:\n"
				"  file: sub/vmlinuz\n"
				"  path: linux.efi\n"
				"  copy-1: /dev/sda2\n"
				"  copy-2: /dev/sda3\n"
				"bootenv:\n"
				"  copy-2: {kernelparams: root=/dev/sda5}\n";

static void test_desc(void)
{
	static const struct {
		const char *yaml, *want;
	} bad[] = {
		{ "product: a\nversion: b\nhardware-compatibility: {revisions: [x]}\nrootfs: {file: r, "
		  "copy-1: a, "
		  "copy-2: b}\nextra: 1\n",
		  "d.yaml:5: description file: unknown key 'extra'" },
		{ "product: a\nversion: b\nhardware-compatibility: {revisions: [x]}\nrootfs: {file: r, "
		  "copy-1: a}\n",
		  "d.yaml:4: rootfs: no 'copy-2' (the target device of that copy)" },
		{ "product: a\nversion: b\nhardware-compatibility: {revisions: []}\nrootfs: {file: r, "
		  "copy-1: a, "
		  "copy-2: b}\n",
		  "d.yaml:3: hardware-compatibility: 'revisions' must be a non-empty list" },
		{ "product: &x a\n", "d.yaml:1: anchors, aliases and tags are not supported" },
		{ "product: a\nproduct: b\n", "d.yaml:2: description file: 'product' given twice" },
		{ "product: a\nversion: b\nhardware-compatibility: {board: 9x, revisions: [x]}\n",
		  "d.yaml:3: board: '9x' is not a valid sw-description setting name" },
		{ "product: a\nversion: b\nhardware-compatibility: {revisions: [x]}\nrootfs: {file: "
		  "sw-description, "
		  "copy-1: a, copy-2: b}\n",
		  "d.yaml:4: file: 'sw-description' cannot name a bundle member" },
		{ "product: a\nversion: [b]\n", "d.yaml:2: version: expected a string, got a list" },
		{ "product: a\nversion: b\nhardware-compatibility: {board: version, revisions: [x]}\n",
		  "d.yaml:3: board: 'version' is not a valid sw-description setting name" },
		{ "product: a\nversion: b\nhardware-compatibility: {revisions: [x]}\nselection: images\n",
		  "d.yaml:4: selection: 'images' is not a valid sw-description setting name" },
		{ "product: a\nversion: b\n", "d.yaml:1: missing 'hardware-compatibility'" },
		{ "product: 'a\n", "d.yaml:2: found unexpected end of stream" },
		{ "product: a\n---\nproduct: b\n", "d.yaml:2: a second YAML document" },
		{ "", "d.yaml: empty description" },
	};
	struct dk_swu_desc d;
	struct dk_err err = DK_ERR_INIT;

	ok(dk_swu_desc_load_mem(&d, good_yaml, strlen(good_yaml), "/x/y/d.yaml", &err) == 0,
	   "desc: loads (%s)", err.msg);
	is_str(d.board, "myboard", "desc: board");
	is_str(d.selection, "stable", "desc: the selection defaults to stable");
	is_str(d.image[DK_SWU_ROOTFS].file, "/x/y/rootfs.img",
	       "desc: relative files are next to the description");
	is_str(d.image[DK_SWU_KERNEL].name, "vmlinuz", "desc: the member is the file's base name");
	is_str(d.image[DK_SWU_KERNEL].path, "linux.efi", "desc: the kernel's path on the boot partition");
	is_str(d.image[DK_SWU_KERNEL].filesystem, "vfat", "desc: vfat by default");
	ok(d.nbootenv[0] == 0 && d.nbootenv[1] == 1 && strcmp(d.bootenv[1][0].value, "root=/dev/sda5") == 0,
	   "desc: boot environment per copy");
	dk_swu_desc_release(&d);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = dk_swu_desc_load_mem(&d, bad[i].yaml, strlen(bad[i].yaml), "d.yaml", &err);

		ok(r == DK_EINPUT && strncmp(err.msg, bad[i].want, strlen(bad[i].want)) == 0,
		   "desc: refused: %s", err.msg);
		dk_swu_desc_release(&d);
	}
}

static int has_problem(const struct dk_swu_report *rep, const char *needle)
{
	for (size_t i = 0; i < rep->nproblems; i++)
		if (strstr(rep->problems[i], needle))
			return 1;
	return 0;
}

static void show(const struct dk_swu_report *rep)
{
	for (size_t i = 0; i < rep->nproblems; i++)
		printf("#   %s\n", rep->problems[i]);
}

static void flip(const char *name, long off)
{
	int fd = open(path(name), O_RDWR);
	unsigned char c;

	if (pread(fd, &c, 1, off) == 1) {
		c ^= 0x20;
		if (pwrite(fd, &c, 1, off) != 1)
			perror(name);
	}
	close(fd);
}

static long find(const char *name, const char *needle, int nth)
{
	struct dk_buf b = DK_BUF_INIT;
	struct dk_err err = DK_ERR_INIT;
	long at = -1;

	dk_read_file(path(name), &b, 0, &err);
	for (const char *p = b.data;
	     nth >= 0 && (p = memmem(p, b.len - (size_t)(p - b.data), needle, strlen(needle))); p++, nth--)
		at = p - b.data;
	dk_buf_release(&b);
	return at;
}

static void copy(const char *from, const char *to)
{
	struct dk_buf b = DK_BUF_INIT;
	struct dk_err err = DK_ERR_INIT;

	dk_read_file(path(from), &b, 0, &err);
	write_file(to, b.data, b.len);
	dk_buf_release(&b);
}

static void test_create_verify(void)
{
	struct dk_swu_desc d;
	struct dk_swu_payload p[DK_SWU_ROLES];
	struct dk_swu_report rep;
	struct dk_err err = DK_ERR_INIT;
	char *key = strdup(path("key.pem")), *cert = strdup(path("cert.pem")),
	     *cert2 = strdup(path("cert2.pem"));
	char *key2 = strdup(path("key2.pem")), *nocert = strdup(path("nonexistent.pem"));
	char *nokey = strdup(path("missing-key.pem"));
	struct dk_swu_create_opts o = { key, cert, 0 };
	struct dk_swu_verify_opts vo = { cert, "myboard:1.0" };
	char desc_path[256];
	struct dk_buf b = DK_BUF_INIT;
	int fd;

	make_signer("key.pem", "cert.pem", "debkeep unit test");
	make_signer("key2.pem", "cert2.pem", "someone else");
	random_file("rootfs.img", 300000, 1);
	mkdir(path("sub"), 0755);
	random_file("sub/vmlinuz", 5000, 2);
	snprintf(desc_path, sizeof(desc_path), "%s", path("d.yaml"));
	write_file("d.yaml", good_yaml, strlen(good_yaml));
	if (dk_swu_desc_load(&d, desc_path, &err)) {
		ok(0, "create: load %s", err.msg);
		return;
	}

	ok(dk_swu_create(&d, path("b.swu"), &o, p, &err) == 0, "create: a signed bundle (%s)", err.msg);
	ok(p[0].size == 300000 && p[1].size == 5000, "create: payload sizes measured");
	if (!ok(dk_swu_verify(path("b.swu"), &vo, &rep, &err) == 0 && rep.nproblems == 0 &&
			rep.signature_checked,
		"verify: the bundle is good, signature checked"))
		show(&rep);
	ok(rep.signer && strstr(rep.signer, "debkeep unit test"), "verify: names the signer");
	is_str(rep.version, "2.0", "verify: the version");
	ok(rep.nmembers == 2 && strcmp(rep.members[0].name, "rootfs.img") == 0 && rep.members[1].described,
	   "verify: the payloads in order");
	dk_swu_report_release(&rep);
	is_int(count_tmp_files(), 0, "create: no temporary file left");

	dk_buf_reset(&b);
	dk_read_file(path("b.swu"), &b, 0, &err);
	ok(strstr(b.data + 128,
		  "\tmyboard:\n\t{\n\t\thardware-compatibility = [ \"1.0\", \"#RE:^2\\\\.[0-9]$\" ];") &&
		   strstr(b.data + 128, "description = \"say \\\"hi\\\"\";") &&
		   strstr(b.data + 128,
			  "\t\t\t\t\t\tname = \"kernelparams\";\n\t\t\t\t\t\tvalue = \"root=/dev/sda5\";"),
	   "sw-description: board group, escaped strings, boot environment");

	vo.hw = "myboard:2.7";
	ok(dk_swu_verify(path("b.swu"), &vo, &rep, &err) == 0 && rep.nproblems == 0,
	   "verify: #RE: revisions");
	dk_swu_report_release(&rep);
	vo.hw = "myboard:3.0";
	dk_swu_verify(path("b.swu"), &vo, &rep, &err);
	ok(has_problem(&rep, "revision '3.0' of board 'myboard' is not in hardware-compatibility"),
	   "verify: a revision not listed");
	dk_swu_report_release(&rep);
	vo.hw = "otherboard:1.0";
	dk_swu_verify(path("b.swu"), &vo, &rep, &err);
	ok(has_problem(&rep, "no settings for board 'otherboard'"), "verify: another board");
	dk_swu_report_release(&rep);
	vo.hw = "myboard:1.0";

	vo.cert = cert2;
	dk_swu_verify(path("b.swu"), &vo, &rep, &err);
	if (!ok(rep.nproblems == 1 && has_problem(&rep, "the signature does not verify"),
		"verify: another certificate"))
		show(&rep);
	dk_swu_report_release(&rep);
	vo.cert = cert;

	copy("b.swu", "t.swu");
	flip("t.swu", find("t.swu", "rootfs.img", 2) + 20 + 5000);
	dk_swu_verify(path("t.swu"), &vo, &rep, &err);
	if (!ok(rep.nproblems == 2 && has_problem(&rep, "rootfs.img: sha256 mismatch") &&
			has_problem(&rep, "rootfs.img: cpio checksum mismatch"),
		"verify: one payload byte changed"))
		show(&rep);
	dk_swu_report_release(&rep);

	copy("b.swu", "t.swu");
	flip("t.swu", find("t.swu", "/dev/sda4", 0));
	dk_swu_verify(path("t.swu"), &vo, &rep, &err);
	ok(has_problem(&rep, "sw-description.sig: the signature does not verify") &&
		   has_problem(&rep, "sw-description: cpio checksum mismatch"),
	   "verify: sw-description changed");
	dk_swu_report_release(&rep);

	copy("b.swu", "t.swu");
	flip("t.swu", find("t.swu", "sw-description.sig", 0) + 24 + 600);
	dk_swu_verify(path("t.swu"), &vo, &rep, &err);
	ok(has_problem(&rep, "sw-description.sig: "), "verify: signature changed");
	dk_swu_report_release(&rep);

	ok(dk_swu_verify(path("nonexistent.swu"), &vo, &rep, &err) == DK_EIO, "verify: a missing bundle: %s",
	   err.msg);
	vo.cert = nocert;
	ok(dk_swu_verify(path("b.swu"), &vo, &rep, &err) == DK_EIO, "verify: a missing certificate: %s",
	   err.msg);
	vo.cert = cert;

	o.key = o.cert = NULL;
	o.mtime = 1700000000;
	ok(dk_swu_create(&d, path("u.swu"), &o, p, &err) == 0, "create: unsigned");
	dk_swu_verify(path("u.swu"), &vo, &rep, &err);
	ok(has_problem(&rep, "not signed"), "verify: unsigned bundle with --cert is refused");
	dk_swu_report_release(&rep);
	vo.cert = NULL;
	ok(dk_swu_verify(path("u.swu"), &vo, &rep, &err) == 0 && rep.nproblems == 0 && !rep.signed_bundle,
	   "verify: unsigned bundle without --cert is fine");
	dk_swu_report_release(&rep);

	o.key = nokey;
	o.cert = cert;
	ok(dk_swu_create(&d, path("m.swu"), &o, p, &err) == DK_EIO && access(path("m.swu"), F_OK) != 0,
	   "create: a missing key, nothing written: %s", err.msg);
	o.key = key2;
	ok(dk_swu_create(&d, path("m.swu"), &o, p, &err) == DK_EINPUT && strstr(err.msg, "does not match"),
	   "create: key and certificate that do not belong together: %s", err.msg);
	o.key = o.cert = NULL;

	/* A sparse 5 GiB image: refused before anything is written, in no time. */
	fd = open(path("rootfs.img"), O_WRONLY | O_TRUNC);
	if (ftruncate(fd, (off_t)5 << 30))
		perror("ftruncate");
	close(fd);
	ok(dk_swu_create(&d, path("big.swu"), &o, p, &err) == DK_EINPUT && strstr(err.msg, "32 bits") &&
		   access(path("big.swu"), F_OK) != 0,
	   "create: a payload over 4 GiB: %s", err.msg);
	is_int(count_tmp_files(), 0, "create: no temporary file left after failures");
	unlink(path("rootfs.img"));
	ok(dk_swu_create(&d, path("big.swu"), &o, p, &err) == DK_EIO && strstr(err.msg, "rootfs.img"),
	   "create: a missing payload: %s", err.msg);
	dk_swu_desc_release(&d);
	dk_buf_release(&b);
	free(key);
	free(key2);
	free(nokey);
	free(cert);
	free(cert2);
	free(nocert);
}

/* fmt with its "%s" replaced by s (the digest), without a non-literal format string. */
static void subst(char *out, size_t n, const char *fmt, const char *s)
{
	const char *at = strstr(fmt, "%s");

	if (!at)
		snprintf(out, n, "%s", fmt);
	else
		snprintf(out, n, "%.*s%s%s", (int)(at - fmt), fmt, s, at + 2);
}

/* sw-description text the bundle-building tools of others write, through the libconfig reader. */
static void test_libconfig(void)
{
	static const struct {
		const char *text, *want; /* want: NULL for no problem */
	} cases[] = {
		{ "# comment\nsoftware = { version = \"1\" \"2\"; // tail\n images: ( { filename = \"p\"; "
		  "sha256 = "
		  "\"%s\"; installed-directly = true; size = 0x10; } ); /* block\n comment */ };",
		  NULL },
		{ "software : { images = ( { filename = \"p\"; sha256 = \"%s\"; } ), ; }",
		  "expected a setting name" },
		{ "software = { images = ( { filename = \"p\" } ) }", "p: no sha256" },
		{ "software = { images = ( { filename = \"p\"; sha256 = \"00\"; } ); }",
		  "p: sha256 mismatch" },
		{ "software = { images = ( { filename = \"q\"; sha256 = \"%s\"; } ); }",
		  "q: named in sw-description:1" },
		{ "software = { a = [ { } ]; }", "an array holds scalars only" },
		{ "software = { a = \"x\\q\"; }", "unknown escape" },
		{ "software = { a = \"x", "unterminated string" },
		{ "software = { a = 1; a = 2; }", "'a' given twice" },
		{ "@include \"x\"", "@include is not supported" },
		{ "other = 1;", "no 'software' group" },
		{ "software = {{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{", "expected a setting name" },
		{ "software = { a = "
		  "((((((((((((((((((((((((((((((((((((1)))))))))))))))))))))))))))))))))))); }",
		  "nested more than 32 deep" },
	};
	char sha[65], text[1024];
	unsigned char dg[32];
	struct dk_err err = DK_ERR_INIT;

	dk_hash_mem(DK_SHA256, "payload", 7, dg, &err);
	dk_hex(dg, 32, sha);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dk_cpio_writer w;
		struct dk_swu_report rep;
		struct dk_buf b = DK_BUF_INIT;
		int fd = open(path("l.swu"), O_RDWR | O_CREAT | O_TRUNC, 0644);

		subst(text, sizeof(text), cases[i].text, sha);
		dk_cpio_writer_init(&w, fd, "l.swu", 0);
		dk_cpio_write_mem(&w, "sw-description", text, strlen(text), &err);
		dk_cpio_write_mem(&w, "p", "payload", 7, &err);
		dk_cpio_write_trailer(&w, &err);
		close(fd);
		dk_read_file(path("l.swu"), &b, 0, &err);
		dk_swu_verify_mem(b.data, b.len, "l.swu", NULL, &rep, &err);
		if (cases[i].want)
			ok(has_problem(&rep, cases[i].want), "libconfig: case %zu: %s", i, cases[i].want);
		else
			ok(rep.nproblems == 0, "libconfig: case %zu accepted", i);
		if (!cases[i].want || !has_problem(&rep, cases[i].want))
			show(&rep);
		dk_swu_report_release(&rep);
		dk_buf_release(&b);
	}
}

int main(void)
{
	char cmd[300];

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_cpio();
	test_desc();
	test_create_verify();
	test_libconfig();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		perror("rm");
	return tap_done();
}
