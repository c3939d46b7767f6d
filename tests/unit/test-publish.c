/* test-publish.c - unit tests for lib/repo publish, sign and serve */
#include <arpa/inet.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <debkeep/buf.h>
#include <debkeep/err.h>
#include <debkeep/hash.h>
#include <debkeep/publish.h>
#include <debkeep/serve.h>

#include "publish-object.h"
#include "tap.h"

static char tmp[256];

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (p = malloc((size_t)n + 1)) && fread(p, 1, (size_t)n, f) == (size_t)n) {
		p[n] = '\0';
		if (len)
			*len = (size_t)n;
	} else {
		free(p);
		p = NULL;
	}
	fclose(f);
	return p;
}

#define PKG(ctl, n, v, a, pool) { ctl, sizeof(ctl) - 1, n, v, NULL, pool, 0, "", "", a, "main" }

static struct dk_publish_pkg pkgs[] = {
	PKG("Package: foo\nVersion: 1.10\nArchitecture: amd64\n", "foo", "1.10", "amd64", "pool/main/f/foo/foo_1.10_amd64.deb"),
	PKG("Package: foo\nVersion: 1.9\nArchitecture: amd64\n", "foo", "1.9", "amd64", "pool/main/f/foo/foo_1.9_amd64.deb"),
	PKG("Package: bar\nVersion: 2\nArchitecture: all\n", "bar", "2", "all", "pool/main/b/bar/bar_2_all.deb"),
	PKG("Package: foo\nVersion: 1.9\nArchitecture: arm64\n", "foo", "1.9", "arm64", "pool/main/f/foo/foo_1.9_arm64.deb"),
};

static void setup_objects(void)
{
	static char paths[4][512];
	const char *content[] = { "foo 1.10 amd64", "foo 1.9 amd64", "bar all", "foo 1.9 arm64" };

	mkdir(tap_at("%s/objects%s", tmp, ""), 0755);
	for (int i = 0; i < 4; i++) {
		snprintf(paths[i], sizeof(paths[i]), "%s/objects/%d", tmp, i);
		test_object(&pkgs[i], paths[i], content[i]);
	}
}

static void test_indices(void)
{
	struct dk_publish_opts o = { .date = 1700000000, .origin = "Test" };
	struct dk_err err = DK_ERR_INIT;
	unsigned char d[DK_HASH_MAX];
	char *pk, *rel, *rel2, *gz, hex[65];
	size_t pklen, gzlen;
	struct stat st;
	const char *a, *b, *c;

	is_int(dk_publish(tap_at("%s/public%s", tmp, ""), "p", "stable", pkgs, 4, &o, &err), 0, "publish: %s",
	       err.msg);
	pk = slurp(tap_at("%s/public/p/dists/stable/%s", tmp, "main/binary-amd64/Packages"), &pklen);
	ok(pk, "amd64 Packages written");
	a = pk ? strstr(pk, "Package: bar\n") : NULL;
	b = pk ? strstr(pk, "Package: foo\nVersion: 1.9\n") : NULL;
	c = pk ? strstr(pk, "Package: foo\nVersion: 1.10\n") : NULL;
	ok(a && b && c && a < b && b < c, "sorted by name, then version in dpkg order; 'all' listed in amd64");
	ok(pk && strstr(pk, "Architecture: amd64\nFilename: pool/main/f/foo/foo_1.9_amd64.deb\nSize: 13\n"
			    "MD5sum: "), "Filename, Size, MD5sum follow the control fields");
	ok(pk && !strstr(pk, "arm64"), "arm64 packages stay out of the amd64 index");
	if (pk) {
		dk_hash_mem(DK_SHA256, pk, pklen, d, NULL);
		dk_hex(d, 32, hex);
		ok(stat(tap_at("%s/public/p/dists/stable/main/binary-amd64/by-hash/SHA256/%s", tmp, hex), &st) == 0,
		   "by-hash/SHA256 holds Packages under its hash");
	}
	gz = slurp(tap_at("%s/public/p/dists/stable/%s", tmp, "main/binary-amd64/Packages.gz"), &gzlen);
	ok(gz && gzlen > 10 && (unsigned char)gz[0] == 0x1f && !gz[4] && !gz[5] && !gz[6] && !gz[7] && !(gz[3] & 8),
	   "Packages.gz has neither time stamp nor file name");
	rel = slurp(tap_at("%s/public/p/dists/stable/%s", tmp, "Release"), NULL);
	ok(rel && strstr(rel, "Origin: Test\nLabel: Test\nSuite: stable\nCodename: stable\n"
			      "Date: Tue, 14 Nov 2023 22:13:20 UTC\nArchitectures: amd64 arm64\n"
			      "Components: main\nAcquire-By-Hash: yes\nMD5Sum:\n"), "Release header fields");
	ok(rel && !strstr(rel, "Valid-Until"), "no Valid-Until unless asked");
	ok(rel && strstr(rel, " main/binary-arm64/Packages.xz\n") && strstr(rel, "SHA256:\n"),
	   "Release lists every index with SHA256");
	ok(stat(tap_at("%s/public/p/dists/stable/%s", tmp, "InRelease"), &st) < 0, "unsigned: no InRelease");
	ok(stat(tap_at("%s/public/p/%s", tmp, pkgs[0].pool_path), &st) == 0 && st.st_nlink == 2,
	   "pool file is a hard link to the object");

	is_int(dk_publish(tap_at("%s/public%s", tmp, ""), "p", "stable", pkgs, 4, &o, &err), 0, "publish again: %s",
	       err.msg);
	rel2 = slurp(tap_at("%s/public/p/dists/stable/%s", tmp, "Release"), NULL);
	ok(rel && rel2 && strcmp(rel, rel2) == 0, "same input, byte-identical Release");
	free(rel2);

	o.valid_until = 1700000000 + 7 * 86400;
	is_int(dk_publish(tap_at("%s/public%s", tmp, ""), "p", "stable", pkgs, 2, &o, &err), 0, "publish fewer: %s",
	       err.msg);
	rel2 = slurp(tap_at("%s/public/p/dists/stable/%s", tmp, "Release"), NULL);
	ok(rel2 && strstr(rel2, "Valid-Until: Tue, 21 Nov 2023 22:13:20 UTC\n"), "Valid-Until when asked");
	ok(rel2 && !strstr(rel2, "arm64"), "the new tree replaced the old one");
	if (pk)
		ok(stat(tap_at("%s/public/p/dists/stable/main/binary-amd64/by-hash/SHA256/%s", tmp, hex), &st) == 0,
		   "the previous Packages stays reachable by hash after the switch");
	is_int(dk_publish(tap_at("%s/public%s", tmp, ""), "p", "stable", pkgs, 1, &o, &err), 0, "publish one: %s",
	       err.msg);
	if (pk)
		ok(stat(tap_at("%s/public/p/dists/stable/main/binary-amd64/by-hash/SHA256/%s", tmp, hex), &st) < 0,
		   "only one previous generation is kept by hash");
	ok(access(tap_at("%s/public/.staging-%s", tmp, "*"), F_OK) < 0, "no staging directory left");
	free(rel2);
	free(rel);
	free(pk);
	free(gz);
}

static void test_errors(void)
{
	struct dk_publish_opts o = { .date = 1 };
	struct dk_err err = DK_ERR_INIT;
	struct dk_publish_pkg bad = pkgs[0];

	is_int(dk_publish(tap_at("%s/public%s", tmp, ""), "p", "../x", pkgs, 1, &o, &err), DK_EINPUT,
	       "suite with .. refused");
	is_int(dk_publish(tap_at("%s/public%s", tmp, ""), "../p", "s", pkgs, 1, &o, &err), DK_EINPUT,
	       "prefix with .. refused");
	bad.pool_path = "pool/../../etc/x.deb";
	is_int(dk_publish(tap_at("%s/public%s", tmp, ""), "p", "s", &bad, 1, &o, &err), DK_EINPUT,
	       "pool path with .. refused");
	bad = pkgs[1];
	bad.object_path = pkgs[2].object_path; /* another size under an already published name */
	is_int(dk_publish(tap_at("%s/public%s", tmp, ""), "p", "s", &bad, 1, &o, &err), DK_EINPUT,
	       "a pool name already holding other content is an error");
	ok(strstr(err.msg, "different content"), "message says why: %s", err.msg);
}

static void test_deb_and_sign(void)
{
	struct dk_publish_opts o = { .date = 1700000000 };
	struct dk_err err = DK_ERR_INIT;
	struct dk_publish_pkg p[3];
	char *storage[3] = { NULL, NULL, NULL }, cmd[2048], fpr[128] = "", *in;
	const char *names[] = { "dk-data", "dk-hello", "libdk1" };
	FILE *f;
	int r = 0;

	snprintf(cmd, sizeof(cmd), "%s/../../fixtures/publish/make-debs.sh %s/debs amd64", FIXTURES, tmp);
	if (system(cmd) != 0) {
		ok(0, "make-debs.sh failed (dpkg-deb missing?)");
		return;
	}
	for (int i = 0; i < 3; i++)
		r |= dk_publish_pkg_from_deb(&p[i], tap_at("%s/debs/%s.deb", tmp, names[i]), "main", &storage[i],
					     &err);
	is_int(r, 0, "read three .debs: %s", err.msg);
	if (r)
		goto out;
	is_str(p[2].pool_path, "pool/main/d/dk-src/libdk1_2.3-4_amd64.deb", "pool path: Source, no epoch");
	is_str(p[2].version, "1:2.3-4", "version keeps its epoch");
	is_str(p[0].arch, "all", "architecture");
	ok(strncmp(p[1].control, "Package: dk-hello\n", 18) == 0 && p[1].control[p[1].control_len - 1] != '\n',
	   "control stanza without its trailing newline");

	snprintf(cmd, sizeof(cmd), "%s/../../fixtures/publish/make-key.sh %s/gnupg", FIXTURES, tmp);
	if ((f = popen(cmd, "r"))) {
		if (!fgets(fpr, sizeof(fpr), f))
			fpr[0] = '\0';
		pclose(f);
	}
	fpr[strcspn(fpr, "\n")] = '\0';
	if (!ok(fpr[0], "throwaway key made with gpg"))
		goto out;
	o.sign_key = fpr;
	o.gnupghome = tap_at("%s/%s", tmp, "gnupg");
	is_int(dk_publish(tap_at("%s/%s", tmp, "public"), "deb", "s", p, 3, &o, &err), 0, "signed publish: %s",
	       err.msg);
	in = slurp(tap_at("%s/public/deb/dists/s/%s", tmp, "InRelease"), NULL);
	ok(in && strncmp(in, "-----BEGIN PGP SIGNED MESSAGE-----\n", 35) == 0 && strstr(in, "Suite: s\n"),
	   "InRelease is clearsigned Release");
	free(in);
	in = slurp(tap_at("%s/public/deb/dists/s/%s", tmp, "Release.gpg"), NULL);
	ok(in && strncmp(in, "-----BEGIN PGP SIGNATURE-----\n", 30) == 0, "Release.gpg is an armored signature");
	free(in);
	snprintf(cmd, sizeof(cmd), "gpgv --homedir %s/gnupg --keyring %s/gnupg/pubring.kbx %s/public/deb/dists/s/Release.gpg "
		 "%s/public/deb/dists/s/Release 2>/dev/null", tmp, tmp, tmp, tmp);
	is_int(system(cmd), 0, "gpgv accepts Release.gpg");
	o.sign_key = "no-such-key@debkeep.invalid";
	is_int(dk_publish(tap_at("%s/%s", tmp, "public"), "deb", "s", p, 3, &o, &err), DK_EINPUT,
	       "unknown key refused");
	ok(strstr(err.msg, "no such secret key"), "message: %s", err.msg);
out:
	for (int i = 0; i < 3; i++)
		free(storage[i]);
}

/* One HTTP/1.0 request over loopback; returns the whole response. */
static char *http(uint16_t port, const char *req, size_t *len)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct dk_buf b = DK_BUF_INIT;
	char chunk[4096];
	ssize_t n;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || write(fd, req, strlen(req)) < 0) {
		close(fd);
		return NULL;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		dk_buf_add(&b, chunk, (size_t)n);
	close(fd);
	return dk_buf_detach(&b, len);
}

static void test_serve(void)
{
	struct dk_err err = DK_ERR_INIT;
	struct dk_server *s;
	char *r;
	size_t len;
	uint16_t port;

	is_int(dk_serve_start(&s, tap_at("%s/%s", tmp, "public"), "127.0.0.1", 0, &err), 0, "serve starts: %s",
	       err.msg);
	if (!s)
		return;
	port = dk_serve_port(s);
	ok(port != 0, "port 0 picks a free port (%u)", port);
	r = http(port, "GET /p/pool/main/f/foo/foo_1.9_amd64.deb HTTP/1.0\r\n\r\n", &len);
	ok(r && strncmp(r + 8, " 200 ", 5) == 0 && strstr(r, "\r\n\r\nfoo 1.9 amd64") &&
	   strstr(r, "Content-Length: 13\r\n") && strstr(r, "Last-Modified: "), "GET: 200, body, length, date");
	free(r);
	r = http(port, "GET /p/pool/main/f/foo/foo_1.9_amd64.deb HTTP/1.0\r\nRange: bytes=4-6\r\n\r\n", &len);
	ok(r && strstr(r, " 206 ") && strstr(r, "Content-Range: bytes 4-6/13\r\n") && strstr(r, "\r\n\r\n1.9") &&
	   r[len - 1] == '9', "Range: 206 with the three bytes");
	free(r);
	r = http(port, "GET /p/pool/main/f/foo/foo_1.9_amd64.deb HTTP/1.0\r\nRange: bytes=-5\r\n\r\n", &len);
	ok(r && strstr(r, "Content-Range: bytes 8-12/13\r\n") && strstr(r, "\r\n\r\namd64"), "suffix range");
	free(r);
	r = http(port, "GET /p/pool/main/f/foo/foo_1.9_amd64.deb HTTP/1.0\r\nRange: bytes=13-\r\n\r\n", &len);
	ok(r && strstr(r, " 416 ") && strstr(r, "Content-Range: bytes */13\r\n"), "unsatisfiable range: 416");
	free(r);
	r = http(port, "HEAD /p/pool/main/f/foo/foo_1.9_amd64.deb HTTP/1.0\r\n\r\n", &len);
	ok(r && strstr(r, "Content-Length: 13\r\n") && !strstr(r, "foo 1.9"), "HEAD: length, no body");
	free(r);
	r = http(port, "GET /p/../../etc/passwd HTTP/1.0\r\n\r\n", &len);
	ok(r && strstr(r, " 404 "), "'..' gives 404");
	free(r);
	r = http(port, "GET /p/%2e%2e/p/pool/main/f/foo/foo_1.9_amd64.deb HTTP/1.0\r\n\r\n", &len);
	ok(r && strstr(r, " 404 "), "escaped '..' gives 404");
	free(r);
	r = http(port, "GET /p/dists HTTP/1.0\r\n\r\n", &len);
	ok(r && strstr(r, " 404 "), "a directory gives 404");
	free(r);
	dk_serve_stop(s);
}

int main(void)
{
	char cmd[700];

	snprintf(tmp, sizeof(tmp), "%s/debkeep-test-publish-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmp))
		return 1;
	setup_objects();
	test_indices();
	test_errors();
	test_deb_and_sign();
	test_serve();
	snprintf(cmd, sizeof(cmd), "gpgconf --homedir '%s/gnupg' --kill gpg-agent 2>/dev/null; rm -rf '%s'", tmp, tmp);
	if (system(cmd) != 0)
		ok(0, "cleanup");
	return tap_done();
}
