/* test-deb822.c - unit tests for lib/deb/deb822.c: stanzas, folding, CRLF, errors, PGP wrapper, real indices */
#include <glob.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <debkeep/buf.h>
#include <debkeep/deb822.h>
#include <debkeep/err.h>
#include <debkeep/input.h>

#include "tap.h"

/*
 * Parse all of in and describe what came out: one line per stanza,
 * "@LINE Name=logical value;" per field, a '*' after the name of a folded
 * field and newlines of the logical value shown as '|'. Returns the number
 * of stanzas or the negative code, with the message in err.
 */
static int dump(const char *in, size_t len, unsigned flags, struct dk_buf *out, struct dk_err *err)
{
	struct dk_deb822 p;
	struct dk_stanza st;
	struct dk_buf v = DK_BUF_INIT;
	int r, count = 0;

	dk_buf_reset(out);
	dk_err_clear(err);
	dk_deb822_init(&p, in, len, "t", flags);
	while ((r = dk_deb822_next(&p, &st, err)) > 0) {
		count++;
		dk_buf_addf(out, "@%u", st.line);
		for (size_t i = 0; i < st.nfields; i++) {
			const struct dk_field *f = &st.fields[i];

			dk_buf_reset(&v);
			dk_field_value(f, &v);
			for (size_t j = 0; j < v.len; j++)
				if (v.data[j] == '\n')
					v.data[j] = '|';
			dk_buf_addf(out, " %.*s%s=%s;", (int)f->name_len, f->name, f->multiline ? "*" : "", v.data);
		}
		dk_buf_addc(out, '\n');
	}
	dk_buf_release(&v);
	dk_deb822_release(&p);
	return r < 0 ? r : count;
}

static void check(const char *in, unsigned flags, const char *want, const char *what)
{
	struct dk_buf out = DK_BUF_INIT;
	struct dk_err err = DK_ERR_INIT;
	int r = dump(in, strlen(in), flags, &out, &err);

	if (r < 0)
		printf("# unexpected error: %s\n", err.msg);
	is_str(out.data, want, "%s", what);
	dk_buf_release(&out);
}

static void check_err(const char *in, size_t len, unsigned flags, const char *want, const char *what)
{
	struct dk_buf out = DK_BUF_INIT;
	struct dk_err err = DK_ERR_INIT;
	int r = dump(in, len, flags, &out, &err);

	is_int(r, DK_EINPUT, "%s: fails", what);
	is_str(err.msg, want, "%s: message", what);
	dk_buf_release(&out);
}

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

/* CPU time: the figure that stays meaningful on a machine busy with other builds. */
static double cpu_now(void)
{
	return clock_s(CLOCK_THREAD_CPUTIME_ID);
}

/* The same as `grep -c '^Package:'`. */
static size_t count_package_lines(const char *s, size_t len)
{
	size_t n = 0;
	const char *p = s, *end = s + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if ((size_t)(end - p) >= 8 && memcmp(p, "Package:", 8) == 0)
			n++;
		if (!nl)
			break;
		p = nl + 1;
	}
	return n;
}

static void test_basic(void)
{
	check("Package: a\nVersion: 1\n\nPackage: b\nVersion: 2\n", 0,
	      "@1 Package=a; Version=1;\n@4 Package=b; Version=2;\n", "two stanzas, first lines");
	check("", 0, "", "empty input");
	check("\n\n \n\t\n\r\n", 0, "", "only blank lines");
	check("Package: a\nVersion: 1", 0, "@1 Package=a; Version=1;\n", "no trailing newline");
	check("Package: a\nDescription: x\n more", 0, "@1 Package=a; Description*=x|more;\n",
	      "no trailing newline after a continuation");
	check("\n\n\n\n\n\nA: 1\n\n\n\n\n\n\n\nB: 2\n\n\n", 0, "@7 A=1;\n@15 B=2;\n", "many blank lines");
	check("A: 1\n \t\nB: 2\n  \nC: 3\n", 0, "@1 A=1;\n@3 B=2;\n@5 C=3;\n",
	      "whitespace-only lines separate stanzas (as Dpkg::Control)");
	check("A:   x y  \t\nB:x\nC:\nD :  v\nE-F_g.1+~!: w\n", 0, "@1 A=x y; B=x; C=; D=v; E-F_g.1+~!=w;\n",
	      "values trimmed, empty value, blank before colon, punctuation in names");
	check("A: b: c:d\n", 0, "@1 A=b: c:d;\n", "colons in the value");

	struct dk_deb822 p;
	struct dk_stanza st;
	struct dk_err err = DK_ERR_INIT;

	dk_deb822_init(&p, NULL, 0, "t", 0);
	is_int(dk_deb822_next(&p, &st, &err), 0, "NULL input of length 0 is empty");
	is_int(dk_deb822_next(&p, &st, &err), 0, "end stays the end");
	dk_deb822_release(&p);

	/* 1000 blank lines, then a stanza: line numbers keep counting. */
	struct dk_buf in = DK_BUF_INIT, out = DK_BUF_INIT;

	for (int i = 0; i < 1000; i++)
		dk_buf_adds(&in, i % 2 ? "\n" : " \r\n");
	dk_buf_adds(&in, "A: 1\n");
	for (int i = 0; i < 1000; i++)
		dk_buf_adds(&in, "\n");
	dk_buf_adds(&in, "B: 2\n");
	is_int(dump(in.data, in.len, 0, &out, &err), 2, "stanzas after 1000 blank lines");
	is_str(out.data, "@1001 A=1;\n@2002 B=2;\n", "their line numbers");
	dk_buf_release(&in);
	dk_buf_release(&out);
}

static void test_folding(void)
{
	const char *in = "Package: a\n"
			 "Description: short\n"
			 " long line  \n"
			 " .\n"
			 "   indented\n"
			 "\tafter tab\n"
			 "Files:\n"
			 " abc 1 f\n"
			 " def 2 g\n";
	struct dk_deb822 p;
	struct dk_stanza st;
	struct dk_err err = DK_ERR_INIT;
	struct dk_buf v = DK_BUF_INIT;
	const struct dk_field *f;

	dk_deb822_init(&p, in, strlen(in), "t", 0);
	is_int(dk_deb822_next(&p, &st, &err), 1, "folded stanza");
	is_int(st.nfields, 3, "three fields");
	f = dk_stanza_get(&st, "description");
	ok(f && f->multiline && f->line == 2, "Description is multiline, on line 2");
	if (f) {
		const char *raw = "short\n long line  \n .\n   indented\n\tafter tab";

		ok(f->value_len == strlen(raw) && memcmp(f->value, raw, f->value_len) == 0,
		   "raw value keeps the continuation prefixes");
		ok(f->value >= in && f->value + f->value_len <= in + strlen(in), "the value is a view into the input");
		dk_field_value(f, &v);
		is_str(v.data, "short\nlong line\n\n  indented\nafter tab", "logical value");
	}
	f = dk_stanza_get(&st, "FILES");
	ok(f && f->multiline, "Files is multiline");
	if (f) {
		dk_buf_reset(&v);
		dk_field_value(f, &v);
		is_str(v.data, "\nabc 1 f\ndef 2 g", "empty first line kept as an empty line");
	}
	f = dk_stanza_get(&st, "Package");
	ok(f && !f->multiline && f->value_len == 1, "single-line field");
	dk_buf_reset(&v);
	dk_buf_adds(&v, "prefix:");
	dk_field_value(f, &v);
	is_str(v.data, "prefix:a", "dk_field_value appends");
	is_int(dk_deb822_next(&p, &st, &err), 0, "then the end");
	dk_buf_release(&v);
	dk_deb822_release(&p);

	check("D: x\n ..\n . \n", 0, "@1 D*=x|..|;\n", "only a lone '.' is an empty line");
}

static void test_crlf(void)
{
	const char *lf = "Package: a\nDescription: s\n l1\n .\n l2\n\nPackage: b\nDepends: c\n \nPackage: c\n";
	const char *crlf = "Package: a\r\nDescription: s\r\n l1\r\n .\r\n l2\r\n\r\nPackage: b\r\nDepends: c\r\n"
			   " \r\nPackage: c\r\n";
	struct dk_buf a = DK_BUF_INIT, b = DK_BUF_INIT;
	struct dk_err err = DK_ERR_INIT;
	struct dk_deb822 p;
	struct dk_stanza st;

	is_int(dump(lf, strlen(lf), 0, &a, &err), 3, "LF input");
	is_int(dump(crlf, strlen(crlf), 0, &b, &err), 3, "CRLF input");
	is_str(b.data, a.data, "CRLF parses as LF");
	is_str(b.data, "@1 Package=a; Description*=s|l1||l2;\n@7 Package=b; Depends=c;\n@10 Package=c;\n",
	       "CRLF stanzas");
	dk_deb822_init(&p, crlf, strlen(crlf), "t", 0);
	dk_deb822_next(&p, &st, &err);
	ok(st.fields[0].value_len == 1 && st.fields[0].name_len == 7, "no CR in the name or the single-line value");
	dk_deb822_release(&p);
	check("A: 1\r", 0, "@1 A=1;\n", "CR at the end of input without LF");
	check("A: x\ry\n", 0, "@1 A=x\ry;\n", "a CR not before LF is content");
	dk_buf_release(&a);
	dk_buf_release(&b);
}

static void test_names(void)
{
	const char *in = "Package: a\nMulti-Arch: same\n";
	struct dk_deb822 p;
	struct dk_stanza st;
	struct dk_err err = DK_ERR_INIT;
	const struct dk_field *f;

	dk_deb822_init(&p, in, strlen(in), "t", 0);
	dk_deb822_next(&p, &st, &err);
	ok(dk_stanza_get(&st, "PACKAGE") == &st.fields[0], "get ignores case");
	ok(dk_stanza_get(&st, "multi-arch") == &st.fields[1], "get ignores case with '-'");
	ok(dk_stanza_get(&st, "Packag") == NULL, "prefix does not match");
	ok(dk_stanza_get(&st, "Packages") == NULL, "longer name does not match");
	ok(dk_stanza_get(&st, "Version") == NULL, "missing field is NULL");
	f = &st.fields[1];
	ok(dk_field_is(f, "MULTI-ARCH") && dk_field_is(f, "Multi-Arch"), "dk_field_is ignores case");
	ok(!dk_field_is(f, "Multi_Arch") && !dk_field_is(f, "Multi"), "dk_field_is compares exactly otherwise");
	dk_deb822_release(&p);

	/* ASCII case only: '[' and '{' differ by 0x20 but are not letters. */
	in = "A[: 1\n";
	dk_deb822_init(&p, in, strlen(in), "t", 0);
	dk_deb822_next(&p, &st, &err);
	ok(dk_stanza_get(&st, "a[") && !dk_stanza_get(&st, "a{"), "only letters fold");
	dk_deb822_release(&p);
}

static void test_duplicates(void)
{
	const char *in = "Package: a\nVersion: 1\npackage: b\n";
	struct dk_deb822 p;
	struct dk_stanza st;
	struct dk_err err = DK_ERR_INIT;
	const struct dk_field *f;

	check_err("Package: a\nVersion: 1\nPackage: b\n", strlen("Package: a\nVersion: 1\nPackage: b\n"), 0, "t:3: duplicate field 'Package'", "duplicate");
	check_err(in, strlen(in), 0, "t:3: duplicate field 'package'", "duplicate in another case");
	check_err("A: 1\n\nB: 1\nC: 2\n D\nB: 3\n", strlen("A: 1\n\nB: 1\nC: 2\n D\nB: 3\n"), 0, "t:6: duplicate field 'B'",
		  "duplicate in the second stanza");
	check("A: 1\nB: 2\n\nA: 3\nB: 4\n", 0, "@1 A=1; B=2;\n@4 A=3; B=4;\n",
	      "the same names in two stanzas are fine");
	dk_deb822_init(&p, in, strlen(in), "t", DK_DEB822_ALLOW_DUPLICATES);
	is_int(dk_deb822_next(&p, &st, &err), 1, "duplicates allowed");
	is_int(st.nfields, 3, "both kept");
	f = dk_stanza_get(&st, "Package");
	ok(f && f->value_len == 1 && f->value[0] == 'b', "the last one wins");
	dk_deb822_release(&p);

	/* A stanza far bigger than the initial array: the duplicate table grows with it. */
	struct dk_buf big = DK_BUF_INIT, out = DK_BUF_INIT;

	dk_buf_adds(&big, "Small: 1\n\n");
	for (int i = 0; i < 100000; i++)
		dk_buf_addf(&big, "Field%d: %d\n", i, i);
	dk_deb822_init(&p, big.data, big.len, "t", 0);
	dk_deb822_next(&p, &st, &err);
	is_int(dk_deb822_next(&p, &st, &err), 1, "100000 distinct fields in one stanza");
	is_int(st.nfields, 100000, "all of them");
	f = dk_stanza_get(&st, "field99999");
	ok(f && f->line == 100002, "the last one found");
	dk_deb822_release(&p);
	dk_buf_adds(&big, "FIELD5000: again\n");
	check_err(big.data, big.len, 0, "t:100003: duplicate field 'FIELD5000'", "duplicate after 100000 fields");
	dk_buf_release(&big);
	dk_buf_release(&out);
}

/* Parse in (len bytes, in a buffer of exactly that size) to its end: 0 or the negative code, message in err. */
static int parse_exact(const char *in, size_t len, unsigned flags, size_t *nfields, struct dk_err *err)
{
	char *copy = malloc(len ? len : 1);
	struct dk_deb822 p;
	struct dk_stanza st;
	int r;

	memcpy(copy, in, len);
	dk_err_clear(err);
	*nfields = 0;
	dk_deb822_init(&p, copy, len, "t", flags);
	while ((r = dk_deb822_next(&p, &st, err)) > 0)
		*nfields += st.nfields;
	dk_deb822_release(&p);
	free(copy);
	return r;
}

/*
 * Names are read a word at a time: every byte at every place of names of 1
 * to 20 bytes, with the name last in an exactly sized buffer (so that reads
 * past the input's end are seen under ASan) or first and followed by more,
 * and duplicates found whatever the case of the letters either side of a
 * word boundary.
 */
static void test_name_bytes(void)
{
	static const char letters[] = "AbCdEfGhIjKlMnOpQrSt";
	unsigned bad_ok = 0, bad_dup = 0, cases = 0;
	struct dk_err err = DK_ERR_INIT;
	char name[32], in[128], want[128];
	size_t nf;

	for (size_t len = 1; len <= 20; len++) {
		for (size_t pos = 0; pos < len; pos++) {
			for (unsigned b = 0; b < 256; b++) {
				bool valid = b >= '!' && b <= '~' && b != ':';
				int n, r;

				/* These end the name or the line, or make it another kind of line. */
				if (b == ':' || b == '\n' || b == '\r' || b == ' ' || b == '\t' || b == 0 ||
				    (pos == 0 && (b == '#' || b == '-')))
					continue;
				memcpy(name, letters, len);
				name[pos] = (char)b;
				cases++;
				n = snprintf(in, sizeof(in), "Xx: 1\n%.*s: v", (int)len, name);
				r = parse_exact(in, (size_t)n, 0, &nf, &err);
				if (valid ? r != 0 || nf != 2 : r != DK_EINPUT ||
					    strcmp(err.msg, "t:2: invalid character in field name") != 0)
					bad_ok++;
				n = snprintf(in, sizeof(in), "%.*s:v\nYy: 1\n", (int)len, name);
				r = parse_exact(in, (size_t)n, 0, &nf, &err);
				if (valid ? r != 0 || nf != 2 : r != DK_EINPUT)
					bad_ok++;
				if (!valid)
					continue;
				/* The same name with every letter's case flipped is a duplicate. */
				n = snprintf(in, sizeof(in), "%.*s: 1\nZz: 2\n", (int)len, name);
				for (size_t i = 0; i < len; i++) {
					char c = name[i];

					in[n + i] = (char)(c >= 'a' && c <= 'z' ? c - 32 : c >= 'A' && c <= 'Z' ? c + 32 : c);
				}
				memcpy(in + n + len, ": 3", 3);
				snprintf(want, sizeof(want), "t:3: duplicate field '%.*s'", (int)len, in + n);
				r = parse_exact(in, (size_t)n + len + 3, 0, &nf, &err);
				if (r != DK_EINPUT || strcmp(err.msg, want) != 0)
					bad_dup++;
				/* One byte more or less is another name. */
				n = snprintf(in, sizeof(in), "%.*s: 1\n%.*s%s%.*sx: 3", (int)len, name, (int)len - 1, name,
					     len > 1 ? ": 2\n" : "", (int)len, name);
				r = parse_exact(in, (size_t)n, 0, &nf, &err);
				if (r != 0 || nf != (len > 1 ? 3u : 2u))
					bad_dup++;
			}
		}
	}
	is_int(bad_ok, 0, "each byte accepted or refused in names of 1 to 20 bytes (%u cases)", cases);
	is_int(bad_dup, 0, "duplicates found across word boundaries, other names not taken for them");
}

static void test_comments(void)
{
	const char *ctl = "# debian/control\n"
			  "Source: foo\n"
			  "# a comment between fields\n"
			  "Build-Depends: a,\n"
			  "# b,\n"
			  " c,\n"
			  "#d\n"
			  "\n"
			  "# only comments\n"
			  "\n"
			  "Package: foo\n";

	check_err(ctl, strlen(ctl), 0, "t:1: comment line not allowed here", "comment without the flag");
	check_err("A: 1\n#x\n", strlen("A: 1\n#x\n"), 0, "t:2: comment line not allowed here", "comment inside a stanza");
	check(ctl, DK_DEB822_ALLOW_COMMENTS, "@2 Source=foo; Build-Depends*=a,|c,;\n@11 Package=foo;\n",
	      "comments skipped, also inside a folded value and as a whole stanza");
	check_err("# c\n x\n", strlen("# c\n x\n"), DK_DEB822_ALLOW_COMMENTS, "t:2: continuation line outside a field",
		  "comment does not start a field");
	check("A: #not a comment\nB#: 1\n", 0, "@1 A=#not a comment; B#=1;\n", "'#' inside is content");
}

static void test_errors(void)
{
	static const char nul1[] = "A: 1\nB: x\0y\n";
	static const char nul2[] = "A: 1\n\nB: 2\n\nC: 3\nD: \0\n";
	static const char nul3[] = "A: 1\nB\0: 2\nno colon\n";
	static const char nul4[] = "A: 1\n\0\n";
	struct dk_deb822 p;
	struct dk_stanza st;
	struct dk_err err = DK_ERR_INIT;

	check_err(" x\n", strlen(" x\n"), 0, "t:1: continuation line outside a field", "continuation first");
	check_err("A: 1\n\n\tb\n", strlen("A: 1\n\n\tb\n"), 0, "t:3: continuation line outside a field", "continuation after a blank");
	check_err("A: 1\nfoo\n", strlen("A: 1\nfoo\n"), 0, "t:2: line without ':'", "line without colon");
	check_err(": v\n", strlen(": v\n"), 0, "t:1: empty field name", "empty name");
	check_err("A: 1\n:\n", strlen("A: 1\n:\n"), 0, "t:2: empty field name", "empty name, no value");
	check_err("-A: 1\n", strlen("-A: 1\n"), 0, "t:1: field name cannot start with '-'", "name starting with '-'");
	check_err("A B: 1\n", strlen("A B: 1\n"), 0, "t:1: invalid character in field name", "space inside a name");
	check_err("A\x01: 1\n", strlen("A\x01: 1\n"), 0, "t:1: invalid character in field name", "control character in a name");
	check_err("\xc3\xa9: 1\n", strlen("\xc3\xa9: 1\n"), 0, "t:1: invalid character in field name", "non-ASCII name");
	check_err(nul1, sizeof(nul1) - 1, 0, "t:2: NUL byte in input", "NUL in a value");
	check_err(nul2, sizeof(nul2) - 1, 0, "t:6: NUL byte in input", "NUL in the third stanza");
	check_err(nul3, sizeof(nul3) - 1, 0, "t:2: NUL byte in input", "NUL reported before a later error");
	check_err(nul4, sizeof(nul4) - 1, 0, "t:2: NUL byte in input", "NUL alone on a line");
	check_err("A: 1\n\nB: 2\nC\n", strlen("A: 1\n\nB: 2\nC\n"), 0, "t:4: line without ':'", "error line counted across stanzas");

	dk_deb822_init(&p, "A: 1\nbad\nB: 2\n", 14, "t", 0);
	ok(dk_deb822_next(&p, &st, &err) < 0, "error");
	is_int(dk_deb822_next(&p, &st, &err), 0, "after an error the parser is at its end");
	dk_deb822_release(&p);
}

static const char inrelease[] = "-----BEGIN PGP SIGNED MESSAGE-----\n"
				"Hash: SHA256\n"
				"\n"
				"Origin: Debian\n"
				"Suite: stable\n"
				"Codename: bookworm\n"
				"MD5Sum:\n"
				" 0123456789abcdef0123456789abcdef 1234 main/binary-amd64/Packages\n"
				"SHA256:\n"
				" 0123 1234 main/binary-amd64/Packages\n"
				"-----BEGIN PGP SIGNATURE-----\n"
				"\n"
				"iQIzBAEBCAAdFiEE\n"
				"=abcd\n"
				"-----END PGP SIGNATURE-----\n";

static void test_pgp(void)
{
	struct dk_buf in = DK_BUF_INIT;
	struct dk_err err = DK_ERR_INIT;
	struct dk_deb822 p;
	struct dk_stanza st;
	const char *want = "@4 Origin=Debian; Suite=stable; Codename=bookworm; "
			   "MD5Sum*=|0123456789abcdef0123456789abcdef 1234 main/binary-amd64/Packages; "
			   "SHA256*=|0123 1234 main/binary-amd64/Packages;\n";
	char *s;

	check(inrelease, DK_DEB822_PGP, want, "clearsigned InRelease");
	check_err(inrelease, strlen(inrelease), 0, "t:1: unexpected PGP armor", "armor without the flag");
	check("Origin: Debian\n\n", DK_DEB822_PGP, "@1 Origin=Debian;\n", "the flag also takes unsigned input");

	/* CRLF armor, a blank line before the signature, trailing blank lines after it. */
	for (const char *q = inrelease; *q; q++) {
		if (*q == '\n')
			dk_buf_addc(&in, '\r');
		dk_buf_addc(&in, *q);
		if (q == strstr(inrelease, "Packages\n-----") + 8)
			dk_buf_adds(&in, "\r\n");
	}
	dk_buf_adds(&in, "\r\n\n");
	check(in.data, DK_DEB822_PGP, want, "CRLF InRelease, blank lines around the signature");

	/* A .dsc-like file with two stanzas inside one armor. */
	dk_buf_reset(&in);
	dk_buf_adds(&in, "\n-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\nComment: x\n \nA: 1\n\nB: 2\n\n"
			 "-----BEGIN PGP SIGNATURE-----\nxx\n-----END PGP SIGNATURE-----");
	check(in.data, DK_DEB822_PGP, "@6 A=1;\n@8 B=2;\n", "two stanzas, headers, no final newline");

	check_err("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n", strlen("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n"), DK_DEB822_PGP,
		  "t:2: unexpected end of PGP armor", "end of input in the armor headers");
	check_err("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nA: 1\n\n", strlen("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nA: 1\n\n"), DK_DEB822_PGP,
		  "t:5: unexpected end of PGP armor", "no signature");
	check_err("-----BEGIN PGP SIGNED MESSAGE-----\n\nA: 1\n-----BEGIN PGP SIGNATURE-----\nxx\n", strlen("-----BEGIN PGP SIGNED MESSAGE-----\n\nA: 1\n-----BEGIN PGP SIGNATURE-----\nxx\n"),
		  DK_DEB822_PGP, "t:5: unexpected end of PGP armor", "unterminated signature");
	check_err("-----BEGIN PGP SIGNED MESSAGE-----\n\nA: 1\n- -----B\n", strlen("-----BEGIN PGP SIGNED MESSAGE-----\n\nA: 1\n- -----B\n"), DK_DEB822_PGP,
		  "t:4: dash-escaped line not supported", "dash-escaped line");
	check_err("A: 1\n\n-----BEGIN PGP SIGNED MESSAGE-----\n\nB: 2\n", strlen("A: 1\n\n-----BEGIN PGP SIGNED MESSAGE-----\n\nB: 2\n"), DK_DEB822_PGP,
		  "t:3: unexpected PGP armor", "armor after a stanza");
	check_err("-----BEGIN PGP SIGNED MESSAGE-----\n\n-----BEGIN PGP SIGNED MESSAGE-----\n", strlen("-----BEGIN PGP SIGNED MESSAGE-----\n\n-----BEGIN PGP SIGNED MESSAGE-----\n"), DK_DEB822_PGP,
		  "t:3: unexpected PGP armor", "nested armor");
	check_err("A: 1\n-----BEGIN PGP SIGNATURE-----\n", strlen("A: 1\n-----BEGIN PGP SIGNATURE-----\n"), DK_DEB822_PGP, "t:2: unexpected PGP armor",
		  "signature without a signed message");

	s = malloc(sizeof(inrelease) + 16);
	memcpy(s, inrelease, sizeof(inrelease) - 1);
	memcpy(s + sizeof(inrelease) - 1, "\nEvil: 1\n", 10);
	check_err(s, strlen(s), DK_DEB822_PGP, "t:17: data after PGP signature", "unsigned text after the signature");
	free(s);

	/* The stanza ends at the signature even without a blank line; the signature is then consumed. */
	dk_deb822_init(&p, inrelease, strlen(inrelease), "t", DK_DEB822_PGP);
	is_int(dk_deb822_next(&p, &st, &err), 1, "signed stanza");
	is_int(st.fields[0].line, 4, "line numbers count the armor");
	is_int(dk_deb822_next(&p, &st, &err), 0, "then the end");
	ok(!p.in_pgp && p.pos == p.end, "signature consumed");
	dk_deb822_release(&p);
	dk_buf_release(&in);
}

static void test_long_lines(void)
{
	size_t big = 10u << 20;
	struct dk_buf in = DK_BUF_INIT, v = DK_BUF_INIT;
	struct dk_err err = DK_ERR_INIT;
	struct dk_deb822 p;
	struct dk_stanza st;
	double t0, t1;
	int r;

	dk_buf_adds(&in, "Description: ");
	dk_buf_grow(&in, big);
	memset(in.data + in.len, 'x', big);
	in.len += big;
	dk_buf_adds(&in, "\n ");
	dk_buf_grow(&in, big);
	memset(in.data + in.len, 'y', big);
	in.len += big;
	dk_buf_adds(&in, "\nB: 1\n");
	t0 = cpu_now();
	dk_deb822_init(&p, in.data, in.len, "t", 0);
	r = dk_deb822_next(&p, &st, &err);
	t1 = cpu_now();
	is_int(r, 1, "two 10 MB lines");
	ok(st.nfields == 2 && st.fields[0].value_len == 2 * big + 2 && st.fields[1].line == 3, "fields intact");
	dk_field_value(&st.fields[0], &v);
	ok(v.len == 2 * big + 1 && v.data[big] == '\n' && v.data[big + 1] == 'y', "logical value of 20 MB");
	/* Linear work takes milliseconds; the bound only catches something quadratic. */
	ok(t1 - t0 < 1.0, "parsed quickly");
	printf("# two 10 MB lines: %.2f ms cpu\n", (t1 - t0) * 1e3);
	dk_deb822_release(&p);

	memset(in.data, 'x', big);
	in.data[big] = '\n';
	check_err(in.data, big + 1, 0, "t:1: line without ':'", "10 MB line without ':'");
	dk_buf_release(&in);
	dk_buf_release(&v);
}

static char *first_glob(const char *pattern)
{
	glob_t g;
	char *path = NULL;

	if (glob(pattern, 0, NULL, &g) == 0 && g.gl_pathc > 0)
		path = strdup(g.gl_pathv[0]);
	globfree(&g);
	return path;
}

static void test_real_index(void)
{
	const char *env = getenv("DEBKEEP_TEST_PACKAGES");
	char *path = env ? strdup(env) :
			   first_glob("/var/cache/debkeep-test/apt-amd64-bookworm/state/lists/*_binary-amd64_Packages");
	struct dk_buf in = DK_BUF_INIT;
	struct dk_err err = DK_ERR_INIT;
	struct dk_deb822 p;
	struct dk_stanza st;
	size_t stanzas = 0, fields = 0, named = 0;
	double best = 1e9, best_cpu = 1e9, best_get = 1e9;
	int r = 0;

	if (!path || dk_read_file(path, &in, 0, &err) < 0) {
		printf("ok %d # skip real Packages index not cached (tests/lib/apt-data.sh)\n", ++tap_count);
		free(path);
		return;
	}
	for (int round = 0; round < 5; round++) {
		double t0 = now(), c0 = cpu_now();

		stanzas = fields = 0;
		dk_deb822_init(&p, in.data, in.len, path, 0);
		while ((r = dk_deb822_next(&p, &st, &err)) > 0) {
			stanzas++;
			fields += st.nfields;
		}
		double t = now() - t0, c = cpu_now() - c0;

		dk_deb822_release(&p);
		if (t < best)
			best = t;
		if (c < best_cpu)
			best_cpu = c;
	}
	is_int(r, 0, "real index parses without error");
	if (r < 0)
		printf("# %s\n", err.msg);
	is_int(stanzas, count_package_lines(in.data, in.len), "stanza count == grep -c '^Package:'");
	ok(stanzas > 50000, "tens of thousands of stanzas");
	for (int round = 0; round < 3; round++) {
		double t0 = cpu_now();

		named = 0;
		dk_deb822_init(&p, in.data, in.len, path, 0);
		while (dk_deb822_next(&p, &st, &err) > 0)
			if (dk_stanza_get(&st, "Package") && dk_stanza_get(&st, "Version") &&
			    dk_stanza_get(&st, "Architecture"))
				named++;
		double t = cpu_now() - t0;

		dk_deb822_release(&p);
		if (t < best_get)
			best_get = t;
	}
	is_int(named, stanzas, "every stanza has Package, Version and Architecture");
	printf("# real index: %.1f MB, %zu stanzas, %zu fields: split in %.1f ms wall, %.1f ms cpu (best of 5); "
	       "with 3 dk_stanza_get per stanza %.1f ms cpu\n",
	       (double)in.len / 1e6, stanzas, fields, best * 1e3, best_cpu * 1e3, best_get * 1e3);
	dk_buf_release(&in);
	free(path);
}

static void test_dpkg_status(void)
{
	const char *path = "/var/lib/dpkg/status";
	struct dk_buf in = DK_BUF_INIT, v = DK_BUF_INIT;
	struct dk_err err = DK_ERR_INIT;
	struct dk_deb822 p;
	struct dk_stanza st;
	size_t stanzas = 0, good = 0;
	int r;

	if (dk_read_file(path, &in, 0, &err) < 0) {
		printf("ok %d # skip no %s\n", ++tap_count, path);
		return;
	}
	dk_deb822_init(&p, in.data, in.len, path, 0);
	while ((r = dk_deb822_next(&p, &st, &err)) > 0) {
		stanzas++;
		if (dk_stanza_get(&st, "Package") && dk_stanza_get(&st, "Status"))
			good++;
		for (size_t i = 0; i < st.nfields; i++) {
			dk_buf_reset(&v);
			if (dk_field_value(&st.fields[i], &v))
				r = -1;
		}
	}
	dk_deb822_release(&p);
	is_int(r, 0, "dpkg status parses");
	is_int(stanzas, count_package_lines(in.data, in.len), "one stanza per package in dpkg status");
	is_int(good, stanzas, "each with Package and Status");
	dk_buf_release(&in);
	dk_buf_release(&v);
}

static void test_inrelease_files(void)
{
	glob_t g;
	int files = 0;

	if (glob("/var/lib/apt/lists/*InRelease", 0, NULL, &g) != 0)
		g.gl_pathc = 0;
	if (glob("/var/cache/debkeep-test/*/state/lists/*InRelease", g.gl_pathc ? GLOB_APPEND : 0, NULL, &g) != 0 &&
	    !g.gl_pathc) {
		printf("ok %d # skip no InRelease files\n", ++tap_count);
		return;
	}
	for (size_t i = 0; i < g.gl_pathc; i++) {
		struct dk_buf in = DK_BUF_INIT;
		struct dk_err err = DK_ERR_INIT;
		struct dk_deb822 p;
		struct dk_stanza st;
		const char *name = strrchr(g.gl_pathv[i], '/') + 1;
		int r1, r2;

		if (dk_read_file(g.gl_pathv[i], &in, 0, &err) < 0)
			continue;
		files++;
		dk_deb822_init(&p, in.data, in.len, name, DK_DEB822_PGP);
		r1 = dk_deb822_next(&p, &st, &err);
		ok(r1 == 1 && dk_stanza_get(&st, "Suite") && dk_stanza_get(&st, "SHA256") &&
			   dk_stanza_get(&st, "SHA256")->multiline,
		   "%s: one signed stanza with Suite and SHA256", name);
		r2 = dk_deb822_next(&p, &st, &err);
		is_int(r2, 0, "%s: signature consumed, then the end", name);
		if (r1 < 0 || r2 < 0)
			printf("# %s\n", err.msg);
		dk_deb822_release(&p);
		dk_buf_release(&in);
	}
	globfree(&g);
	if (!files)
		printf("ok %d # skip no readable InRelease files\n", ++tap_count);
}

int main(void)
{
	test_basic();
	test_folding();
	test_crlf();
	test_names();
	test_duplicates();
	test_name_bytes();
	test_comments();
	test_errors();
	test_pgp();
	test_long_lines();
	test_real_index();
	test_dpkg_status();
	test_inrelease_files();
	return tap_done();
}
