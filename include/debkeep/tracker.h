/* tracker.h - the Debian security tracker's data files: data/CVE/list, data/{DSA,DLA,DTSA}/list, JSON export */
#ifndef DEBKEEP_TRACKER_H
#define DEBKEEP_TRACKER_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "err.h"
#include "strpool.h"

enum dk_cve_kind {
	DK_CVE_NORMAL = 0,
	DK_CVE_RESERVED,
	DK_CVE_REJECTED,
	DK_CVE_NFU, /* NOT-FOR-US: not in Debian */
};

/* What a package line says, a version or one of the tracker's pseudo versions. */
enum dk_fix_kind {
	DK_FIX_VERSION = 0, /* fixed in that version */
	DK_FIX_UNFIXED,
	DK_FIX_NOT_AFFECTED,
	DK_FIX_REMOVED,
	DK_FIX_ITP,
	DK_FIX_UNDETERMINED,
	DK_FIX_NO_DSA,
	DK_FIX_POSTPONED,
	DK_FIX_IGNORED,
	DK_FIX_EOL,
	DK_FIX_KIND_COUNT,
};

/* "unfixed", "not-affected"... as written between < > in the list; "" for DK_FIX_VERSION. */
const char *dk_fix_kind_name(enum dk_fix_kind k);
int dk_fix_kind_parse(const char *s, size_t n, enum dk_fix_kind *k);
const char *dk_cve_kind_name(enum dk_cve_kind k);

/*
 * One package line, "- src version (annotations)" (release NULL: unstable)
 * or "[release] - src version (...)", or a line of an advisory (advisory
 * names it). Strings live in the tracker's arena; absent ones are NULL.
 */
struct dk_tracker_fix {
	dk_id cve;    /* the entry, an id in the tracker's cve pool */
	dk_id source; /* an id in the tracker's source pool */
	const char *release;
	const char *version; /* DK_FIX_VERSION only */
	const char *urgency; /* "low", "medium**", "not yet assigned"... */
	const char *note;    /* the reason of <no-dsa> (...) and other free text */
	const char *advisory;
	uint32_t bug;
	enum dk_fix_kind kind;
};

struct dk_tracker_entry {
	const char *name; /* CVE-2023-1234 or TEMP-... */
	const char *description;
	const char *nfu;  /* the NOT-FOR-US text */
	const char *refs; /* "DSA-5380-1 DLA-3380-1": the advisories the list names, space-separated */
	const char *notes; /* a RESERVED entry without package lines: its NOTE texts, one per line; else NULL */
	unsigned line;
	enum dk_cve_kind kind;
	uint8_t defined; /* from a header of a CVE list, not only named by an advisory */
};

struct dk_advisory {
	const char *name; /* DSA-5380-1 */
	const char *date; /* YYYY-MM-DD */
	const char *title;
	const char *cves; /* space-separated */
};

/*
 * Everything loaded from one or more files. Entries are indexed by the id of
 * their name in cves: entries[id] (id 0 is unused).
 */
struct dk_tracker {
	struct dk_arena arena;
	struct dk_strpool cves;
	struct dk_strpool sources;
	struct dk_tracker_entry *entries; /* [dk_strpool_count(&cves)] */
	size_t entries_alloc;
	struct dk_tracker_fix *fixes;
	size_t nfixes, fixes_alloc;
	struct dk_advisory *advisories;
	size_t nadvisories, advisories_alloc;
	char newest[11]; /* the newest advisory date seen, "" if none */
	/*
	 * When set before parsing: keep only the package lines of these
	 * sources, and only the entries they belong to. Every line is still
	 * checked; a scan of a few hundred sources then holds a few thousand
	 * lines instead of the whole list.
	 */
	const struct dk_strpool *only;
	/* The parsers' strings, packed end to end in blocks of the arena; notes repeat, so each is kept once. */
	char *text_next, *text_end;
	struct dk_strpool notes;
};

#define DK_TRACKER_INIT                                                                                                \
	{                                                                                                              \
		DK_ARENA_INIT, DK_STRPOOL_INIT, DK_STRPOOL_INIT, NULL, 0, NULL, 0, 0, NULL, 0, 0, { 0 }, NULL, NULL,   \
			NULL, DK_STRPOOL_INIT                                                                          \
	}

void dk_tracker_release(struct dk_tracker *t);

/* Number of entries defined or named (ids 1..n-1 may hold one). */
static inline uint32_t dk_tracker_ids(const struct dk_tracker *t)
{
	return dk_strpool_count(&t->cves);
}

static inline const char *dk_tracker_source(const struct dk_tracker *t, const struct dk_tracker_fix *f)
{
	return dk_strpool_str(&t->sources, f->source);
}

/*
 * Parsers; data need not be NUL-terminated; name is used in messages
 * ("list:1043: unknown annotation 'FOO'"). A failed parse may leave part
 * of the file in t: callers load into a fresh tracker and drop it on error.
 */
int dk_tracker_parse_cve_list(struct dk_tracker *t, const char *data, size_t len, const char *name, struct dk_err *err);
/* data/DSA/list, data/DLA/list and data/DTSA/list share one grammar. */
int dk_tracker_parse_advisories(struct dk_tracker *t, const char *data, size_t len, const char *name,
				struct dk_err *err);
/* The tracker's JSON export (source package -> CVE -> releases). */
int dk_tracker_parse_json(struct dk_tracker *t, const char *data, size_t len, const char *name, struct dk_err *err);

/*
 * The words of a NOTE text that could name a source package: runs of
 * [A-Za-z0-9.+-], lower-cased, without leading or trailing '.', '-', '+',
 * two to 100 bytes ("openssl" in "NOTE: OpenSSL, embargoed"). Calls fn for
 * each, in order, repeats included; stops at fn's first non-zero return and
 * returns it, else 0.
 */
int dk_tracker_note_words(const char *s, size_t n, int (*fn)(void *ctx, const char *w, size_t n), void *ctx);

enum dk_tracker_format { DK_TRACKER_CVE_LIST, DK_TRACKER_ADVISORIES, DK_TRACKER_JSON };

/* Guess a file's format from its first non-blank bytes. */
enum dk_tracker_format dk_tracker_sniff(const char *data, size_t len);

/*
 * Load a file, or a checkout of the tracker's repository (DIR/data/CVE/list,
 * DIR/data/{DSA,DLA,DTSA}/list, those present; at least one must be).
 */
int dk_tracker_load(struct dk_tracker *t, const char *path, struct dk_err *err);

#endif
