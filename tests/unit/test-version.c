/* test-version.c - unit tests for lib/deb/version.c: dpkg's own t-version.c cases, then edge cases */
#include <string.h>

#include <debkeep/version.h>

#include "tap.h"

static int sign(int r)
{
	return (r > 0) - (r < 0);
}

static struct dk_version mk(uint32_t epoch, const char *upstream, const char *revision)
{
	struct dk_version v = { epoch, upstream, strlen(upstream), revision, strlen(revision) };

	return v;
}

/* Parses s; on success checks the parts. */
static void parse_is(const char *s, uint32_t epoch, const char *upstream, const char *revision)
{
	struct dk_err err = DK_ERR_INIT;
	struct dk_version v, want = mk(epoch, upstream, revision);
	int r = dk_version_parse(&v, s, strlen(s), &err);

	if (!ok(r == 0 && v.epoch == epoch && dk_version_cmp(&v, &want) == 0 && v.upstream_len == strlen(upstream) &&
			memcmp(v.upstream, upstream, v.upstream_len) == 0 && v.revision_len == strlen(revision) &&
			memcmp(v.revision, revision, v.revision_len) == 0,
		"parse '%s' = %u:'%s'-'%s'", s, epoch, upstream, revision))
		printf("#   r=%d %s\n", r, err.msg);
}

static void parse_fails(const char *s, size_t len, const char *reason)
{
	struct dk_err err = DK_ERR_INIT;
	struct dk_version v;
	int r = dk_version_parse(&v, s, len, &err);

	if (!ok(r == DK_EINPUT && err.code == DK_EINPUT && strstr(err.msg, reason), "parse '%s' fails: %s", s,
		reason))
		printf("#   r=%d msg '%s'\n", r, err.msg);
}

/* dpkg warns about these but parses them: so do we, silently. */
static void parse_warns(const char *s)
{
	struct dk_version v;

	ok(dk_version_parse(&v, s, strlen(s), NULL) == 0, "parse '%s' (dpkg only warns)", s);
}

/* Compare through both entry points, both ways round. */
static void cmp_is(const char *a, const char *b, int want)
{
	struct dk_version va, vb;
	int parsed = dk_version_parse(&va, a, strlen(a), NULL) == 0 && dk_version_parse(&vb, b, strlen(b), NULL) == 0;
	int s1 = parsed ? sign(dk_version_cmp(&va, &vb)) : 9, s2 = parsed ? sign(dk_version_cmp(&vb, &va)) : 9;
	int s3 = sign(dk_version_cmp_str(a, strlen(a), b, strlen(b)));
	int s4 = sign(dk_version_cmp_str(b, strlen(b), a, strlen(a)));

	if (!ok(s1 == want && s2 == -want && s3 == want && s4 == -want, "'%s' %s '%s'", a,
		want < 0 ? "<" : want > 0 ? ">" : "=", b))
		printf("#   got %d %d %d %d\n", s1, s2, s3, s4);
}

static void cmp_obj(struct dk_version a, struct dk_version b, int want, const char *what)
{
	is_int(sign(dk_version_cmp(&a, &b)), want, "%s", what);
}

/* t-version.c: test_version_blank, _compare and _relate, on dk_version objects. */
static void test_dpkg_compare(void)
{
	cmp_obj(mk(0, "", ""), mk(0, "", ""), 0, "blank = blank");
	cmp_obj(mk(1, "", ""), mk(2, "", ""), -1, "epoch 1 < epoch 2");
	cmp_obj(mk(0, "1", "1"), mk(0, "2", "1"), -1, "0:1-1 < 0:2-1");
	cmp_obj(mk(0, "1", "1"), mk(0, "1", "2"), -1, "0:1-1 < 0:1-2");
	cmp_obj(mk(0, "0", "0"), mk(0, "0", "0"), 0, "0:0-0 = 0:0-0");
	cmp_obj(mk(0, "0", "00"), mk(0, "00", "0"), 0, "0:0-00 = 0:00-0");
	cmp_obj(mk(1, "2", "3"), mk(1, "2", "3"), 0, "1:2-3 = 1:2-3");
	cmp_obj(mk(0, "0", "0"), mk(1, "0", "0"), -1, "0:0-0 < 1:0-0");
	cmp_obj(mk(1, "0", "0"), mk(0, "0", "0"), 1, "1:0-0 > 0:0-0");
	cmp_obj(mk(0, "a", "0"), mk(0, "b", "0"), -1, "0:a-0 < 0:b-0");
	cmp_obj(mk(0, "b", "0"), mk(0, "a", "0"), 1, "0:b-0 > 0:a-0");
	cmp_obj(mk(0, "0", "a"), mk(0, "0", "b"), -1, "0:0-a < 0:0-b");
	cmp_obj(mk(0, "0", "b"), mk(0, "0", "a"), 1, "0:0-b > 0:0-a");
	cmp_obj(mk(0, "2", "1"), mk(0, "1", "1"), 1, "0:2-1 > 0:1-1");
}

/* t-version.c: test_version_parse. */
static void test_dpkg_parse(void)
{
	static const char upstream_bad[] = "!#@$%&/|\\<>()[]{};,_=*^'";
	static const char revision_bad[] = "!#@$%&/|\\<>()[]{}:;,_=*^'";
	char buf[16];

	parse_is("0", 0, "0", "");
	parse_is("0:0", 0, "0", "");
	parse_is("0:0-0", 0, "0", "0");
	parse_is("0:0.0-0.0", 0, "0.0", "0.0");
	parse_is("1:0", 1, "0", "");
	parse_is("5:1", 5, "1", "");
	parse_is("0:0-0-0", 0, "0-0", "0");
	parse_is("0:0-0-0-0", 0, "0-0-0", "0");
	parse_is("0:0:0-0", 0, "0:0", "0");
	parse_is("0:0:0:0-0", 0, "0:0:0", "0");
	parse_is("0:0:0-0-0", 0, "0:0-0", "0");
	parse_is("0:0-0:0-0", 0, "0-0:0", "0");
	parse_is("0:09azAZ.-+~:-0", 0, "09azAZ.-+~:", "0");
	parse_is("0:0-azAZ09.+~", 0, "0", "azAZ09.+~");
	parse_is("  \t0:0-1", 0, "0", "1");
	parse_is("0:0-1\t  ", 0, "0", "1");
	parse_is("\t  0:0-1  \t", 0, "0", "1");
	/* dpkg 1.21 (the installed oracle) rejects this one; older t-version.c accepted it. */
	parse_fails("0:0-", 4, "revision number is empty");
	parse_fails("", 0, "version string is empty");
	parse_fails("  ", 2, "version string is empty");
	parse_fails("0:", 2, "nothing after colon in version number");
	parse_fails("0:0 0-1", 7, "version string has embedded spaces");
	parse_fails("-1:0-1", 6, "epoch in version is negative");
	parse_fails("999999999999999999999999:0-1", 28, "epoch in version is too big");
	parse_fails("a:0-0", 5, "epoch in version is empty");
	parse_fails("A:0-0", 5, "epoch in version is empty");
	parse_fails("-0", 2, "version number is empty");
	parse_fails("0:-0", 4, "version number is empty");
	parse_warns("0:abc3-0");
	memcpy(buf, "0:0a-0", 7);
	for (const char *p = upstream_bad; *p; p++) {
		buf[3] = *p;
		parse_warns(buf);
	}
	parse_warns("0:0-0:0");
	memcpy(buf, "0:0-0", 6);
	for (const char *p = revision_bad; *p; p++) {
		buf[4] = *p;
		parse_warns(buf);
	}
}

static void test_parse_edges(void)
{
	parse_is("2147483647:1", 2147483647u, "1", "");
	parse_fails("2147483648:1", 12, "epoch in version is too big");
	parse_fails("-99999999999999999999:1", 23, "epoch in version is negative");
	parse_is("-0:1", 0, "1", "");
	parse_is("+1:2", 1, "2", "");
	{
		struct dk_version v;

		ok(dk_version_parse(&v, "\n1:2", 4, NULL) == 0 && v.epoch == 1, "strtol() skips a newline before the epoch");
	}
	parse_is("007:1.0", 7, "1.0", "");
	parse_fails(":1", 2, "epoch in version is empty");
	parse_fails("0x1:2", 5, "epoch in version is not number");
	parse_fails("1.0-1:2", 7, "epoch in version is not number");
	parse_fails("-", 1, "revision number is empty");
	parse_fails("1:-", 3, "revision number is empty");
	parse_fails("1.0-1.0-", 8, "revision number is empty");
	parse_fails("1\0002", 3, "embedded NUL");
	parse_is("1:0:", 1, "0:", "");
	parse_is("1.2-3-4+deb12u1", 0, "1.2-3", "4+deb12u1");
	parse_is("1:2.30-7+deb12u1", 1, "2.30", "7+deb12u1");
	parse_warns("1:+");
	parse_warns("1.0$");

	struct dk_err err = DK_ERR_INIT;
	struct dk_version v;

	dk_version_parse(&v, "1:", 2, &err);
	is_str(err.msg, "version '1:': nothing after colon in version number", "error message names the version");
	ok(dk_version_parse(&v, "1.0-1 ", 5, NULL) == 0 && v.revision_len == 1, "parse honours the length");
}

static void test_ordering(void)
{
	/* Strictly ascending: every pair is checked. */
	static const char *const chain[] = {
		"1.0~~", "1.0~~a", "1.0~", "1.0", "1.0A", "1.0Z", "1.0a", "1.0z", "1.0+", "1.0.",
		"1.0.1", "1.1~", "1.1", "1.1-0.1", "1.1-1~bpo1", "1.1-1", "1.1-1+b1", "1.1-1.1", "1.10", "0:2",
		"1:0", "1:0.9", "2:0~",
	};
	size_t n = sizeof(chain) / sizeof(chain[0]);

	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++)
			cmp_is(chain[i], chain[j], i < j ? -1 : i > j);

	cmp_is("1.0", "1.0", 0);
	cmp_is("1.0~rc1", "1.0", -1);
	cmp_is("1.0~~", "1.0~", -1);
	cmp_is("1.0~~a", "1.0~~", 1);
	cmp_is("1.0~", "1.0", -1);
	cmp_is("1.0", "1.0a", -1);
	cmp_is("1.0a", "1.0+", -1);
	cmp_is("1.0+", "1.0.", -1);
	cmp_is("1.0Z", "1.0a", -1);
	cmp_is("1.0.-1", "1.0-1", 1);
	cmp_is("1.0", "1.0-0", 0);
	cmp_is("1.0", "1.00", 0);
	cmp_is("1.01", "1.1", 0);
	cmp_is("1.9", "1.10", -1);
	cmp_is("1.2-3", "1.2-10", -1);
	cmp_is("1:1.0", "2.0", 1);
	cmp_is("0:1.0", "1.0", 0);
	cmp_is("1:1.0", "1:1.0-0", 0);
	cmp_is("2:1.0", "10:0.1", -1);
	cmp_is("1.2-3-4", "1.2-3", 1);
	cmp_is("1.2-3-4", "1.2.3-4", -1);
	cmp_is("2.30-7+deb12u1", "2.30-7", 1);
	cmp_is("2.30-7+deb12u1+cip1", "2.30-7+deb12u1", 1);
	cmp_is("2.30-7+deb12u1", "2.30-7+deb12u2", -1);
	cmp_is("1.2-3+b1", "1.2-3.1", -1);
	cmp_is("a", "1", 1);
	cmp_is("~", "1", -1);
	cmp_is("1a", "1", 1);
	/* Digit runs longer than any integer type compare as numbers. */
	cmp_is("1.123456789012345678901234567890", "1.123456789012345678901234567891", -1);
	cmp_is("1.000000000000000000000000000000000000000100", "1.99", 1);
	cmp_is("1.000000000000000000000000000000000000000000", "1.0", 0);
	cmp_is("99999999999999999999999999999999", "100000000000000000000000000000000", -1);
	cmp_is("1.0 ", " 1.0", 0);
}

/* cmp_str on what parse rejects: a lenient reading, never a crash. */
static void test_lenient(void)
{
	is_int(sign(dk_version_cmp_str("1.0-1:2", 7, "1.0-1:2", 7)), 0, "invalid epoch compares equal to itself");
	is_int(sign(dk_version_cmp_str("-1:0", 4, "0", 1)), 1, "negative epoch: no epoch, split at the hyphen");
	is_int(sign(dk_version_cmp_str("", 0, "0", 1)), 0, "empty equals 0");
	is_int(sign(dk_version_cmp_str("1\0002", 3, "1", 1)), 1, "a NUL is an ordinary byte");
	is_int(sign(dk_version_cmp_str("1.0\xc3", 4, "1.0", 3)), 1, "a high byte sorts after the end");
	is_int(sign(dk_version_cmp_str("1.0\xc3", 4, "1.0~", 4)), 1, "a high byte sorts after ~");
}

int main(void)
{
	test_dpkg_compare();
	test_dpkg_parse();
	test_parse_edges();
	test_ordering();
	test_lenient();
	return tap_done();
}
