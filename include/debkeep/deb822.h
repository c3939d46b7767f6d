/* deb822.h - streaming stanza parser for Packages, Sources, Release, dpkg status and control files */
#ifndef DEBKEEP_DEB822_H
#define DEBKEEP_DEB822_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "err.h"

/*
 * A field is a view into the input: nothing is copied until dk_field_value()
 * is asked for. value/value_len cover the raw value with leading and
 * trailing blanks removed; for a multi-line field it still holds the "\n "
 * continuation prefixes (and any "\r" of CRLF input).
 */
struct dk_field {
	const char *name;
	size_t name_len;
	const char *value;
	size_t value_len;
	unsigned line;
	bool multiline;
};

struct dk_stanza {
	const struct dk_field *fields;
	size_t nfields;
	unsigned line; /* first line of the stanza */
};

enum dk_deb822_flags {
	DK_DEB822_ALLOW_COMMENTS = 1 << 0, /* '#' lines are comments (debian/control) */
	DK_DEB822_ALLOW_DUPLICATES = 1 << 1, /* the last value wins instead of an error */
	DK_DEB822_PGP = 1 << 2, /* accept an OpenPGP clearsigned wrapper (InRelease, .dsc) */
};

struct dk_deb822 {
	const char *pos;
	const char *end;
	const char *filename; /* for messages */
	unsigned line;
	unsigned flags;
	bool in_pgp;
	struct dk_field *fields;
	size_t cap;
};

void dk_deb822_init(struct dk_deb822 *p, const char *data, size_t len, const char *filename, unsigned flags);
/* Returns 1 with the next stanza in st, 0 at the end, or a negative code (message: "FILE:LINE: WHAT"). */
int dk_deb822_next(struct dk_deb822 *p, struct dk_stanza *st, struct dk_err *err);
void dk_deb822_release(struct dk_deb822 *p);

/* The field named name (ASCII case-insensitive), or NULL. */
const struct dk_field *dk_stanza_get(const struct dk_stanza *st, const char *name);

/*
 * Append the logical value to out: continuation lines joined with "\n",
 * their leading blank removed, " ." lines as empty lines, CRs dropped.
 */
int dk_field_value(const struct dk_field *f, struct dk_buf *out);

/* True when the field's name is name, ignoring ASCII case. */
bool dk_field_is(const struct dk_field *f, const char *name);

#endif
