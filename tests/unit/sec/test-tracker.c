/* test-tracker.c - unit tests for lib/sec/tracker*.c: every line type of the tracker's lists, and every error */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <debkeep/buf.h>
#include <debkeep/tracker.h>

#include "tap.h"

static int parse(struct dk_tracker *t, const char *text, struct dk_err *err)
{
	*t = (struct dk_tracker)DK_TRACKER_INIT;
	return dk_tracker_parse_cve_list(t, text, strlen(text), "list", err);
}

static const struct dk_tracker_entry *entry(const struct dk_tracker *t, const char *name)
{
	dk_id id = dk_strpool_lookup(&t->cves, name, strlen(name));

	return id ? &t->entries[id] : NULL;
}

/* The one line the entry has for source in release (NULL: unstable). */
static const struct dk_tracker_fix *line_of(const struct dk_tracker *t, const char *cve, const char *src,
					    const char *release)
{
	dk_id id = dk_strpool_lookup(&t->cves, cve, strlen(cve));

	for (size_t i = 0; i < t->nfixes; i++) {
		const struct dk_tracker_fix *f = &t->fixes[i];

		if (f->cve == id && strcmp(dk_tracker_source(t, f), src) == 0 && !f->advisory &&
		    ((!release && !f->release) || (release && f->release && strcmp(release, f->release) == 0)))
			return f;
	}
	return NULL;
}

static void line_is(const struct dk_tracker *t, const char *cve, const char *src, const char *rel,
		    enum dk_fix_kind kind, const char *version, const char *urgency, unsigned bug, const char *note)
{
	const struct dk_tracker_fix *f = line_of(t, cve, src, rel);

	if (!ok(f && f->kind == kind && (version ? f->version && strcmp(f->version, version) == 0 : !f->version) &&
			(urgency ? f->urgency && strcmp(f->urgency, urgency) == 0 : !f->urgency) && f->bug == bug &&
			(note ? f->note && strcmp(f->note, note) == 0 : !f->note),
		"%s %s [%s] <%s> %s", cve, src, rel ? rel : "unstable", dk_fix_kind_name(kind), version ? version : ""))
		if (f)
			printf("#   kind %d version %s urgency %s bug %u note %s\n", f->kind,
			       f->version ? f->version : "-", f->urgency ? f->urgency : "-", f->bug,
			       f->note ? f->note : "-");
}

static void fails(const char *what, const char *text, const char *msg)
{
	struct dk_tracker t;
	struct dk_err err = DK_ERR_INIT;
	int r = parse(&t, text, &err);

	if (!ok(r == DK_EINPUT && strstr(err.msg, msg), "%s: %s", what, msg))
		printf("#   r=%d msg '%s'\n", r, err.msg);
	dk_tracker_release(&t);
}

static void test_grammar(void)
{
	static const char list[] = "CVE-2023-0001 (Buffer overflow in libfoo ...)\n"
				   "\t- libfoo 1.2-4 (high; bug #1000001)\n"
				   "\t[bookworm] - libfoo 1.2-3+deb12u1\n"
				   "\t[bullseye] - libfoo <no-dsa> (Minor issue)\n"
				   "\t[buster] - libfoo <postponed> (Revisit later)\n"
				   "\t[stretch] - libfoo <end-of-life> (No longer supported)\n"
				   "\t[trixie] - libfoo <ignored> (Minor issue; too intrusive)\n"
				   "\t{DSA-5400-1 DLA-3400-1}\n"
				   "\tNOTE: https://example.org/fix\n"
				   "\tNOTE:\n"
				   "\tTODO: check\n"
				   "CVE-2023-0002 [Description by the tracker]\n"
				   "\t- bar <unfixed> (unimportant)\n"
				   "\t- baz <not-affected> (Vulnerable code not present)\n"
				   "\t- qux <removed>\n"
				   "\t- newpkg <itp> (bug #1000002)\n"
				   "\t- und <undetermined>\n"
				   "\t[bookworm] - bar <not-affected> (Vulnerable code introduced later)\n"
				   "\t[bookworm] - qux <unfixed> (low**)\n"
				   "\t[bookworm] - und <undetermined>\n"
				   "CVE-2023-0003\n"
				   "\tRESERVED\n"
				   "CVE-2023-0004\n"
				   "\tREJECTED\n"
				   "CVE-2023-0005 (XSS in a web thing)\n"
				   "\tNOT-FOR-US: Acme WebThing\n"
				   "TEMP-0000000-A1B2C3 [Hardcoded key]\n"
				   "\t- bar 1.9-1 (bug filed; low)\n"
				   "\n"
				   "CVE-2023-12345 (Five-digit number; Jérôme found it)\n"
				   "        - spaced 1:2.0~rc1-1 (medium)\n"
				   "\t{DSA-1-1}\n"
				   "\t{DLA-2-1}\n";
	struct dk_tracker t;
	struct dk_err err = DK_ERR_INIT;
	const struct dk_tracker_entry *e;

	is_int(parse(&t, list, &err), 0, "the grammar parses");
	if (err.code)
		printf("#   %s\n", err.msg);
	e = entry(&t, "CVE-2023-0001");
	ok(e && e->kind == DK_CVE_NORMAL && e->description &&
		   strcmp(e->description, "Buffer overflow in libfoo ...") == 0,
	   "header with (description)");
	ok(e && e->refs && strcmp(e->refs, "DSA-5400-1 DLA-3400-1") == 0, "{DSA DLA} references");
	ok(e && e->line == 1, "entry line recorded");
	line_is(&t, "CVE-2023-0001", "libfoo", NULL, DK_FIX_VERSION, "1.2-4", "high", 1000001, NULL);
	line_is(&t, "CVE-2023-0001", "libfoo", "bookworm", DK_FIX_VERSION, "1.2-3+deb12u1", NULL, 0, NULL);
	line_is(&t, "CVE-2023-0001", "libfoo", "bullseye", DK_FIX_NO_DSA, NULL, NULL, 0, "Minor issue");
	line_is(&t, "CVE-2023-0001", "libfoo", "buster", DK_FIX_POSTPONED, NULL, NULL, 0, "Revisit later");
	line_is(&t, "CVE-2023-0001", "libfoo", "stretch", DK_FIX_EOL, NULL, NULL, 0, "No longer supported");
	line_is(&t, "CVE-2023-0001", "libfoo", "trixie", DK_FIX_IGNORED, NULL, NULL, 0, "Minor issue; too intrusive");
	e = entry(&t, "CVE-2023-0002");
	ok(e && e->description && strcmp(e->description, "Description by the tracker") == 0,
	   "header with [description]");
	line_is(&t, "CVE-2023-0002", "bar", NULL, DK_FIX_UNFIXED, NULL, "unimportant", 0, NULL);
	line_is(&t, "CVE-2023-0002", "baz", NULL, DK_FIX_NOT_AFFECTED, NULL, NULL, 0, "Vulnerable code not present");
	line_is(&t, "CVE-2023-0002", "qux", NULL, DK_FIX_REMOVED, NULL, NULL, 0, NULL);
	line_is(&t, "CVE-2023-0002", "newpkg", NULL, DK_FIX_ITP, NULL, NULL, 1000002, NULL);
	line_is(&t, "CVE-2023-0002", "und", NULL, DK_FIX_UNDETERMINED, NULL, NULL, 0, NULL);
	line_is(&t, "CVE-2023-0002", "bar", "bookworm", DK_FIX_NOT_AFFECTED, NULL, NULL, 0,
		"Vulnerable code introduced later");
	line_is(&t, "CVE-2023-0002", "qux", "bookworm", DK_FIX_UNFIXED, NULL, "low**", 0, NULL);
	line_is(&t, "CVE-2023-0002", "und", "bookworm", DK_FIX_UNDETERMINED, NULL, NULL, 0, NULL);
	e = entry(&t, "CVE-2023-0003");
	ok(e && e->kind == DK_CVE_RESERVED && !e->description, "RESERVED, header without description");
	e = entry(&t, "CVE-2023-0004");
	ok(e && e->kind == DK_CVE_REJECTED, "REJECTED");
	e = entry(&t, "CVE-2023-0005");
	ok(e && e->kind == DK_CVE_NFU && e->nfu && strcmp(e->nfu, "Acme WebThing") == 0, "NOT-FOR-US: text");
	ok(e && !e->description, "an entry without package lines keeps no description");
	e = entry(&t, "TEMP-0000000-A1B2C3");
	ok(e != NULL, "TEMP- id");
	line_is(&t, "TEMP-0000000-A1B2C3", "bar", NULL, DK_FIX_VERSION, "1.9-1", "low", 0, NULL);
	e = entry(&t, "CVE-2023-12345");
	ok(e && e->description && strstr(e->description, "Jérôme"), "five-digit id, UTF-8 in the description");
	ok(e && e->refs && strcmp(e->refs, "DSA-1-1 DLA-2-1") == 0, "two {} lines join");
	line_is(&t, "CVE-2023-12345", "spaced", NULL, DK_FIX_VERSION, "1:2.0~rc1-1", "medium", 0, NULL);
	is_int(t.nfixes, 16, "every package line counted");
	dk_tracker_release(&t);
}

static void test_errors(void)
{
	fails("unknown annotation", "CVE-2023-0001 (x)\n\tFOO: bar\n", "list:2: unknown annotation 'FOO:'");
	fails("package line before any header", "\t- libfoo 1.0-1\n", "list:1: package line before any entry header");
	fails("annotation before any header", "\tNOTE: x\n", "list:1: annotation before any entry header");
	fails("malformed version", "CVE-2023-0001 (x)\n\t- libfoo 1.0:-1\n", "list:2: malformed version '1.0:-1'");
	fails("empty revision", "CVE-2023-0001 (x)\n\t- libfoo 1.0-\n", "list:2: malformed version '1.0-' of libfoo");
	fails("empty epoch", "CVE-2023-0001 (x)\n\t[bookworm] - libfoo a:1\n", "list:2: malformed version 'a:1'");
	fails("release line without its package line", "CVE-2023-0001 (x)\n\t[bookworm] - libfoo 1.0-1\n",
	      "list:2: release line for libfoo without its package line");
	fails("release line for another source", "CVE-2023-0001 (x)\n\t- bar 1.0-1\n\t[bookworm] - libfoo 1.0-1\n",
	      "list:3: release line for libfoo");
	fails("non-ASCII byte in a package name", "CVE-2023-0001 (x)\n\t- lib\xc3\xa9 1.0-1\n",
	      "list:2: non-ASCII byte 0xc3 in package name");
	fails("invalid UTF-8 in a description", "CVE-2023-0001 (caf\xe9)\n",
	      "list:1: non-ASCII byte 0xe9 in the description");
	fails("non-ASCII in a version", "CVE-2023-0001 (x)\n\t- libfoo 1.0\xc3\xa9\n",
	      "list:2: non-ASCII byte 0xc3 in version");
	fails("malformed header", "CVE-23-1 (x)\n", "list:1: malformed entry header");
	fails("description without closing", "CVE-2023-0001 (x\n", "list:1: malformed description");
	fails("duplicate entry", "CVE-2023-0001\n\tRESERVED\nCVE-2023-0001\n\tRESERVED\n",
	      "list:3: duplicate entry CVE-2023-0001 (first at line 1)");
	fails("unknown pseudo version", "CVE-2023-0001 (x)\n\t- libfoo <fixed>\n",
	      "list:2: unknown pseudo version '<fixed>'");
	fails("no-dsa on the unstable line", "CVE-2023-0001 (x)\n\t- libfoo <no-dsa>\n",
	      "list:2: '<no-dsa>' belongs on a release line");
	fails("junk after the version", "CVE-2023-0001 (x)\n\t- libfoo 1.0-1 extra\n", "list:2: unexpected 'extra'");
	fails("package line without a version", "CVE-2023-0001 (x)\n\t- libfoo\n",
	      "list:2: package line for libfoo without a version");
	fails("malformed release", "CVE-2023-0001 (x)\n\t- libfoo 1.0-1\n\t[Bookworm] - libfoo 1.0-1\n",
	      "list:3: invalid character 'B' in release name");
	fails("release line without a dash", "CVE-2023-0001 (x)\n\t- libfoo 1.0-1\n\t[bookworm] libfoo 1.0-1\n",
	      "list:3: release line without '- PACKAGE VERSION'");
	fails("unterminated refs", "CVE-2023-0001 (x)\n\t{DSA-1-1\n", "list:2: unterminated '{'");
	fails("malformed advisory id", "CVE-2023-0001 (x)\n\t{dsa-1}\n", "list:2: malformed advisory id 'dsa-1'");
	fails("malformed bug number", "CVE-2023-0001 (x)\n\t- libfoo 1.0-1 (bug #12a)\n",
	      "list:2: malformed bug number");
	fails("control character", "CVE-2023-0001 (x)\n\tNOTE: a\x01z\n", "list:2: control character 0x01 in NOTE");
}

/* check_text() reads eight bytes at a time where it can: the byte-wise rules must hold at every position. */
static void test_text_positions(void)
{
	static const char *const bad[] = { "\x01", "\x7f\x01", "\xe9", "\xc3", "\xf5\x80\x80\x80" };
	char text[160], msg[64];

	for (size_t b = 0; b < sizeof(bad) / sizeof(bad[0]); b++) {
		int fails_everywhere = 1;

		for (int at = 0; at < 20; at++) {
			struct dk_tracker t;
			struct dk_err err = DK_ERR_INIT;

			snprintf(text, sizeof(text), "CVE-2023-0001 (x)\n\tNOTE: %.*s%s tail of the note\n", at,
				 "abcdefghijklmnopqrstuvwxyz", bad[b]);
			if (parse(&t, text, &err) != DK_EINPUT || !strstr(err.msg, "list:2: "))
				fails_everywhere = 0;
			dk_tracker_release(&t);
		}
		snprintf(msg, sizeof(msg), "bad byte %zu refused after 0..19 good bytes", b);
		ok(fails_everywhere, "%s", msg);
	}
	{
		struct dk_tracker t;
		struct dk_err err = DK_ERR_INIT;
		const char *good = "CVE-2023-0001 (caf\xc3\xa9 \xe2\x82\xac and a long ASCII run with\ta tab \x7f)\n"
				   "\t- libfoo 1.0-1 (low; a note long enough for eight-byte steps \xf0\x9f\x90\xa7)\n";

		is_int(parse(&t, good, &err), 0, "UTF-8, tabs and DEL among long ASCII runs are accepted");
		ok(t.nfixes == 1 && t.fixes[0].urgency && strcmp(t.fixes[0].urgency, "low") == 0,
		   "the line after them is read");
		dk_tracker_release(&t);
	}
}

static void adv_fails(const char *what, const char *text, const char *msg)
{
	struct dk_tracker t = DK_TRACKER_INIT;
	struct dk_err err = DK_ERR_INIT;
	int r = dk_tracker_parse_advisories(&t, text, strlen(text), "DSA", &err);

	if (!ok(r == DK_EINPUT && strstr(err.msg, msg), "advisories, %s: %s", what, msg))
		printf("#   r=%d msg '%s'\n", r, err.msg);
	dk_tracker_release(&t);
}

static void test_advisories(void)
{
	static const char dsa[] = "[29 Mar 2023] DSA-5380-1 xorg-server - security update\n"
				  "\t{CVE-2023-1393 CVE-2023-1394}\n"
				  "\t[bullseye] - xorg-server 2:1.20.11-1+deb11u6\n"
				  "\t[buster] - xorg-server 2:1.20.4-1+deb10u9 (medium)\n"
				  "\tNOTE: fixed in testing at time of DSA\n"
				  "[17 Mar 2023] DSA-5356-2 sox - regression update\n"
				  "\t[bullseye] - sox 14.4.2+git20190427-2+deb11u2\n"
				  "[August 26th, 2005] DTSA-1-1 kismet - various\n"
				  "        {CVE-2005-2626 CVE-2005-2627 }\n"
				  "\t[etch] - kismet 2005.08.R1-0.1etch1 (high)\n"
				  "\t[lenny] - vlc <not-affected> (Vulnerable code not present)\n";
	struct dk_tracker t = DK_TRACKER_INIT;
	struct dk_err err = DK_ERR_INIT;
	size_t n1393 = 0;
	dk_id id;

	is_int(dk_tracker_parse_advisories(&t, dsa, strlen(dsa), "DSA", &err), 0, "advisory list parses");
	is_int(t.nadvisories, 3, "three advisories");
	is_str(t.nadvisories ? t.advisories[0].date : "", "2023-03-29", "DD Mon YYYY date");
	is_str(t.nadvisories > 2 ? t.advisories[2].date : "", "2005-08-26", "DTSA's 'Month Dth, YYYY' date");
	is_str(t.nadvisories ? t.advisories[0].cves : "", "CVE-2023-1393 CVE-2023-1394", "CVE references");
	is_str(t.nadvisories ? t.advisories[0].title : "", "xorg-server - security update", "title");
	/* two lines x two CVEs, none for the regression update, two lines x two CVEs for the DTSA */
	is_int(t.nfixes, 8, "one line per (CVE, release line)");
	id = dk_strpool_lookup(&t.cves, "CVE-2023-1393", 13);
	for (size_t i = 0; i < t.nfixes; i++)
		if (t.fixes[i].cve == id) {
			n1393++;
			ok(t.fixes[i].advisory && strcmp(t.fixes[i].advisory, "DSA-5380-1") == 0 && t.fixes[i].release,
			   "advisory line names its advisory and release");
		}
	is_int(n1393, 2, "CVE-2023-1393 has both releases' lines");
	is_str(t.newest, "2023-03-29", "newest advisory date");
	ok(id && !t.entries[id].defined, "a CVE only an advisory names is not a defined entry");
	dk_tracker_release(&t);
	adv_fails("bad date", "[32 Foo 2023] DSA-1-1 x - y\n", "DSA:1: malformed advisory date");
	adv_fails("no header", "\t[bullseye] - x 1.0\n", "DSA:1: package line before any advisory header");
	adv_fails("line without release", "[01 Jan 2023] DSA-1-1 x - y\n\t- x 1.0\n",
		  "DSA:2: package line without a release");
	adv_fails("bad CVE in braces", "[01 Jan 2023] DSA-1-1 x - y\n\t{CVE-1-1}\n", "DSA:2: malformed CVE id");
	adv_fails("malformed version", "[01 Jan 2023] DSA-1-1 x - y\n\t[bullseye] - x 1:\n",
		  "DSA:2: malformed version");
	adv_fails("no id", "[01 Jan 2023] security update\n", "DSA:1: malformed advisory id");
}

static void test_json(void)
{
	static const char js[] =
		"{\"libfoo\": {\"CVE-2023-0001\": {\"description\": \"overflow\", \"debianbug\": 1000001,\n"
		" \"releases\": {\"bookworm\": {\"status\": \"resolved\", \"fixed_version\": \"1.2-3+deb12u1\",\n"
		"   \"urgency\": \"high\"},\n"
		"  \"bullseye\": {\"status\": \"open\", \"nodsa\": \"Minor issue\", \"nodsa_reason\": \"\", "
		"\"urgency\": \"low\"},\n"
		"  \"buster\": {\"status\": \"open\", \"nodsa\": \"later\", \"nodsa_reason\": \"postponed\"},\n"
		"  \"trixie\": {\"status\": \"resolved\", \"fixed_version\": \"0\"},\n"
		"  \"sid\": {\"status\": \"resolved\", \"fixed_version\": \"1.2-4\"}}},\n"
		" \"CVE-2023-0002\": {\"releases\": {\"bookworm\": {\"status\": \"open\"},\n"
		"  \"sid\": {\"status\": \"undetermined\"}}}}}\n";
	struct dk_tracker t = DK_TRACKER_INIT;
	struct dk_err err = DK_ERR_INIT;

	is_int(dk_tracker_parse_json(&t, js, strlen(js), "export.json", &err), 0, "JSON export parses");
	line_is(&t, "CVE-2023-0001", "libfoo", "bookworm", DK_FIX_VERSION, "1.2-3+deb12u1", "high", 1000001, NULL);
	line_is(&t, "CVE-2023-0001", "libfoo", "bullseye", DK_FIX_NO_DSA, NULL, "low", 1000001, "Minor issue");
	line_is(&t, "CVE-2023-0001", "libfoo", "buster", DK_FIX_POSTPONED, NULL, NULL, 1000001, "later");
	line_is(&t, "CVE-2023-0001", "libfoo", "trixie", DK_FIX_NOT_AFFECTED, NULL, NULL, 1000001, NULL);
	line_is(&t, "CVE-2023-0001", "libfoo", NULL, DK_FIX_VERSION, "1.2-4", NULL, 1000001, NULL);
	line_is(&t, "CVE-2023-0002", "libfoo", "bookworm", DK_FIX_UNFIXED, NULL, NULL, 0, NULL);
	line_is(&t, "CVE-2023-0002", "libfoo", NULL, DK_FIX_UNDETERMINED, NULL, NULL, 0, NULL);
	dk_tracker_release(&t);
	t = (struct dk_tracker)DK_TRACKER_INIT;
	ok(dk_tracker_parse_json(&t, js, 200, "export.json", &err) == DK_EINPUT &&
		   strncmp(err.msg, "export.json:4: ", 15) == 0,
	   "a truncated export names file and line: %s", err.msg);
	dk_tracker_release(&t);
	ok(dk_tracker_sniff(js, 5) == DK_TRACKER_JSON && dk_tracker_sniff("[01 Jan", 7) == DK_TRACKER_ADVISORIES &&
		   dk_tracker_sniff("CVE-", 4) == DK_TRACKER_CVE_LIST,
	   "formats recognised by content");
}

/* Keeping only some sources drops the others' lines and entries, but still checks every line. */
static void test_filter(void)
{
	static const char list[] = "CVE-2023-0001 (a)\n\t- keep 1.0-1\n\t[bookworm] - keep 0.9-1\n"
				   "CVE-2023-0002 (b)\n\t- drop 1.0-1\n\t[bookworm] - drop <no-dsa> (x)\n"
				   "CVE-2023-0003 (c)\n\tNOT-FOR-US: thing\n";
	struct dk_strpool only = DK_STRPOOL_INIT;
	struct dk_tracker t = DK_TRACKER_INIT;
	struct dk_err err = DK_ERR_INIT;

	dk_strpool_intern(&only, "keep", 4);
	t.only = &only;
	is_int(dk_tracker_parse_cve_list(&t, list, strlen(list), "list", &err), 0, "filtered parse");
	is_int(t.nfixes, 2, "only the kept source's lines");
	ok(entry(&t, "CVE-2023-0001") && !entry(&t, "CVE-2023-0002") && !entry(&t, "CVE-2023-0003"),
	   "only the entries with kept lines");
	ok(entry(&t, "CVE-2023-0001") && entry(&t, "CVE-2023-0001")->description &&
		   strcmp(entry(&t, "CVE-2023-0001")->description, "a") == 0,
	   "a kept entry has its description");
	dk_tracker_release(&t);
	t = (struct dk_tracker)DK_TRACKER_INIT;
	t.only = &only;
	ok(dk_tracker_parse_cve_list(&t, "CVE-2023-0002 (b)\n\t- drop 1:\n", 28, "list", &err) == DK_EINPUT,
	   "a filtered-out line is still checked");
	dk_tracker_release(&t);
	dk_strpool_release(&only);
}

/* The real DSA, DLA and DTSA lists (shared/data/security-tracker, beside the source tree). */
static int collect_word(void *ctx, const char *w, size_t n)
{
	struct dk_buf *b = ctx;

	if (b->len)
		dk_buf_addc(b, ' ');
	dk_buf_add(b, w, n);
	return 0;
}

/* RESERVED entries: package lines before or after the RESERVED line, or a package named only in a NOTE. */
static void test_reserved(void)
{
	static const char list[] = "CVE-2024-0001\n\tRESERVED\n\tNOTE: OpenSSL: embargoed until 2024-06-01\n"
				   "\tTODO: check\n\tNOTE: https://github.com/curl/curl/commit/1.\n"
				   "CVE-2024-0002\n\t- keep <unfixed>\n\tRESERVED\n\tNOTE: keep, later\n"
				   "CVE-2024-0003 (d)\n\tRESERVED\n\t- keep 1.0-1\n"
				   "CVE-2024-0004\n\tNOTE: keep, but not reserved\n"
				   "CVE-2024-0005\n\tRESERVED\n";
	struct dk_strpool only = DK_STRPOOL_INIT;
	struct dk_tracker t = DK_TRACKER_INIT;
	struct dk_err err = DK_ERR_INIT;
	struct dk_buf w = DK_BUF_INIT;
	const struct dk_tracker_entry *e;

	is_int(dk_tracker_note_words("NOTE: OpenSSL, a-b. x +y+ https://ex.org/curl/ (libfoo1.2)", 58, collect_word,
				     &w),
	       0, "note words");
	is_str(w.data, "note openssl a-b https ex.org curl libfoo1.2", "note words: lower case, trimmed, 2 bytes up");
	dk_buf_release(&w);
	is_int(dk_tracker_parse_cve_list(&t, list, strlen(list), "list", &err), 0, "RESERVED entries parse");
	e = entry(&t, "CVE-2024-0001");
	ok(e && e->kind == DK_CVE_RESERVED && e->notes &&
		   strcmp(e->notes, "OpenSSL: embargoed until 2024-06-01\nhttps://github.com/curl/curl/commit/1.") == 0,
	   "RESERVED without package lines keeps its NOTE lines, not its TODO");
	e = entry(&t, "CVE-2024-0002");
	ok(e && e->kind == DK_CVE_RESERVED && !e->notes, "RESERVED after a package line: reserved, the line decides");
	line_is(&t, "CVE-2024-0002", "keep", NULL, DK_FIX_UNFIXED, NULL, NULL, 0, NULL);
	e = entry(&t, "CVE-2024-0003");
	ok(e && e->kind == DK_CVE_RESERVED && !e->notes, "RESERVED, then a package line");
	ok(entry(&t, "CVE-2024-0004") && !entry(&t, "CVE-2024-0004")->notes, "notes of other entries are not kept");
	ok(entry(&t, "CVE-2024-0005") && !entry(&t, "CVE-2024-0005")->notes, "RESERVED alone");
	dk_tracker_release(&t);

	t = (struct dk_tracker)DK_TRACKER_INIT;
	dk_strpool_intern(&only, "curl", 4);
	t.only = &only;
	is_int(dk_tracker_parse_cve_list(&t, list, strlen(list), "list", &err), 0, "filtered parse");
	ok(entry(&t, "CVE-2024-0001") && entry(&t, "CVE-2024-0001")->notes,
	   "filtered: a NOTE naming a kept source keeps the entry");
	ok(!entry(&t, "CVE-2024-0002") && !entry(&t, "CVE-2024-0005"), "filtered: the others are not kept");
	dk_tracker_release(&t);
	t = (struct dk_tracker)DK_TRACKER_INIT;
	dk_strpool_release(&only);
	dk_strpool_intern(&only, "zlib", 4);
	t.only = &only;
	is_int(dk_tracker_parse_cve_list(&t, list, strlen(list), "list", &err), 0, "filtered parse");
	ok(!entry(&t, "CVE-2024-0001"), "filtered: a NOTE naming no kept source drops the entry");
	dk_tracker_release(&t);
	dk_strpool_release(&only);
}

static void test_real(void)
{
	static const char *const files[] = { "DSA-list", "DLA-list", "DTSA-list" };
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s/data/security-tracker", SHARED);
	if (stat(path, &st) != 0) {
		printf("ok %d # skip no %s\n", ++tap_count, path);
		return;
	}
	for (size_t i = 0; i < 3; i++) {
		struct dk_tracker t = DK_TRACKER_INIT;
		struct dk_err err = DK_ERR_INIT;
		int r;

		snprintf(path, sizeof(path), "%s/data/security-tracker/%s", SHARED, files[i]);
		r = dk_tracker_load(&t, path, &err);
		if (!ok(r == 0 && t.nadvisories > 100 && t.nfixes > 100,
			"real %s parses with zero errors (%zu advisories, "
			"%zu lines)",
			files[i], t.nadvisories, t.nfixes))
			printf("#   %s\n", err.msg);
		dk_tracker_release(&t);
	}
}

int main(void)
{
	test_grammar();
	test_errors();
	test_text_positions();
	test_advisories();
	test_json();
	test_filter();
	test_reserved();
	test_real();
	return tap_done();
}
