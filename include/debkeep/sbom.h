/* sbom.h - software bills of materials (CycloneDX 1.5, SPDX 2.3) and machine-readable debian/copyright */
#ifndef DEBKEEP_SBOM_H
#define DEBKEEP_SBOM_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

struct dk_sbom_pkg {
	const char *name, *version, *arch, *source, *source_version;
	const char *sha256;     /* of the .deb */
	const char *license;    /* SPDX license expression, NULL when unknown (NOASSERTION) */
	const char *maintainer; /* may be NULL */
	const char *homepage;   /* may be NULL */
	const char *summary;    /* first line of Description, may be NULL */
	/* Relationship fields as in the control data, may be NULL: the dependency graph between the packages */
	const char *pre_depends, *depends, *provides;
};

struct dk_sbom_doc {
	const char *name;     /* the image's name, e.g. the output file's base name */
	const char *distro;   /* "debian" (the purl namespace) */
	const char *codename; /* e.g. "bookworm", may be NULL */
	const char *image_sha256; /* may be NULL */
	int64_t created;      /* seconds since the epoch: the build's epoch, so output is reproducible */
	const struct dk_sbom_pkg *pkgs;
	size_t n;
};

/*
 * The SBOMs as JSON, appended to out, deterministic: packages by name, arch
 * and version (the order given does not matter), serial number and document
 * namespace derived from the content (no random UUID, no wall clock). Each
 * package: version, purl pkg:deb/DISTRO/NAME@VERSION?arch=A (with
 * &distro=CODENAME when known; '+' percent-encoded, ':' not, as the purl
 * spec says), SHA-256 of its .deb, its source package, license. name,
 * version and arch are required and checked against Debian's syntax, so a
 * purl never needs more escaping; the same package twice is DK_EINPUT.
 * Dependencies: each Pre-Depends and Depends group points at the first
 * alternative a package of the document satisfies (by name and version, else
 * through Provides), as CycloneDX `dependencies` and SPDX DEPENDS_ON; a
 * malformed field is DK_EINPUT naming the package. docs/sbom.md lists every
 * field.
 */
int dk_sbom_cyclonedx(const struct dk_sbom_doc *d, struct dk_buf *out, struct dk_err *err);
int dk_sbom_spdx(const struct dk_sbom_doc *d, struct dk_buf *out, struct dk_err *err);

/*
 * The license of a machine-readable debian/copyright (DEP-5) as one SPDX
 * expression in *expr (malloc'd, the caller frees it): the licenses of every
 * Files paragraph, Debian's short names mapped to SPDX identifiers (GPL-2+ is
 * GPL-2.0-or-later, unknown names LicenseRef-NAME), de-duplicated, sorted,
 * joined with AND. DK_NOTFOUND (and *expr NULL) when the file is not
 * machine-readable or names no license; DK_EINPUT, naming the line, when it
 * claims to be and is malformed. name is the file's name in messages.
 */
int dk_copyright_license(const char *text, size_t len, const char *name, char **expr, struct dk_err *err);

#endif
