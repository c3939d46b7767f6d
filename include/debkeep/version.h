/* version.h - Debian version numbers, parsed and ordered exactly as dpkg does */
#ifndef DEBKEEP_VERSION_H
#define DEBKEEP_VERSION_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* A parsed version; upstream and revision point into the parsed string. */
struct dk_version {
	uint32_t epoch;
	const char *upstream;
	size_t upstream_len;
	const char *revision; /* "" (length 0) when there is none */
	size_t revision_len;
};

/*
 * Parse s[0..len) with dpkg's validity rules (parseversion() in
 * lib/dpkg/parsehelp.c): errors such as "version '1:': nothing after
 * colon in version number" come with code DK_EINPUT. Leading and trailing
 * blanks are ignored as dpkg ignores them; embedded blanks are an error.
 */
int dk_version_parse(struct dk_version *v, const char *s, size_t len, struct dk_err *err);

/* <0, 0, >0 as dpkg_version_compare(). */
int dk_version_cmp(const struct dk_version *a, const struct dk_version *b);

/*
 * Compare two version strings without building dk_version first. Invalid
 * strings are compared as dpkg would after a lenient parse; call
 * dk_version_parse() first when validity matters.
 */
int dk_version_cmp_str(const char *a, size_t alen, const char *b, size_t blen);

#endif
