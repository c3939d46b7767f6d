/* publish.h - a signed apt repository tree (dists/ and pool/) from a list of packages */
#ifndef DEBKEEP_PUBLISH_H
#define DEBKEEP_PUBLISH_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "err.h"

/* One binary package to publish; every string is borrowed for the duration of the call. */
struct dk_publish_pkg {
	const char *control; /* the control stanza, without Filename/Size/hashes; no blank lines */
	size_t control_len;
	const char *name;    /* Package: and Version:, the sort keys */
	const char *version;
	const char *object_path; /* the .deb on disk (an object in objects/) */
	const char *pool_path;   /* "pool/main/x/xyz/xyz_1.0-1_amd64.deb", relative to the tree */
	uint64_t size;
	char sha256[65];
	char md5[33];
	const char *arch;      /* "amd64", or "all" (listed in every architecture's index) */
	const char *component; /* "main" */
};

struct dk_publish_source; /* sources.h */

struct dk_publish_opts {
	const char *codename; /* NULL: the suite */
	const char *origin;   /* NULL: "debkeep" */
	const char *label;    /* NULL: the origin */
	time_t date;          /* Release's Date: the snapshot's, so the same input gives the same bytes */
	time_t valid_until;   /* 0: no Valid-Until field */
	const char *const *architectures; /* NULL-terminated; NULL: those of the packages, "all" excluded */
	const char *const *components;    /* NULL-terminated; NULL: those of the packages */
	const char *sign_key;  /* key id or fingerprint; NULL: leave the tree unsigned */
	const char *gnupghome; /* NULL: gpgme's default */
	/*
	 * Source packages: COMPONENT/source/{Sources,Sources.gz,Sources.xz,Release} (by-hash, listed in
	 * the suite's Release) and their files linked into pool/; none: a binary-only tree.
	 */
	const struct dk_publish_source *sources;
	size_t nsources;
};

/*
 * Write a complete apt repository for suite under public_root/prefix:
 * dists/SUITE/{Release,InRelease,Release.gpg}, COMPONENT/binary-ARCH/{Packages,
 * Packages.gz,Packages.xz,Release} with by-hash/{MD5Sum,SHA256}/ copies, and
 * pool/ (hard links to object_path, copies across file systems). Indices are
 * deterministic: packages sorted by name then version (dpkg order), Date from
 * opts, compressed files without time stamps. dists/SUITE is built in
 * public_root/.staging-* and swapped in with renameat2(RENAME_EXCHANGE), so a
 * reader sees the old tree or the new one; pool files are only ever added.
 */
int dk_publish(const char *public_root, const char *prefix, const char *suite, const struct dk_publish_pkg *pkgs,
	       size_t n, const struct dk_publish_opts *opts, struct dk_err *err);

/*
 * Describe the .deb at path for dk_publish: its control stanza (from control.tar.*),
 * name, version, architecture, size, MD5 and SHA-256, and the pool path Debian would
 * give it (pool/COMPONENT/{l,libl}/SOURCE/NAME_VERSION-WITHOUT-EPOCH_ARCH.deb). The
 * strings live in *storage (malloc'd, the caller frees it); component is borrowed.
 */
int dk_publish_pkg_from_deb(struct dk_publish_pkg *p, const char *path, const char *component, char **storage,
			    struct dk_err *err);

/*
 * Sign release (a Release file's bytes) with key from gnupghome (NULL: default):
 * *inrelease gets the clearsigned text, *detached the armored detached signature,
 * both malloc'd. Implemented with gpgme in sign.c.
 */
int dk_sign_release(const char *release, size_t len, const char *key, const char *gnupghome, char **inrelease,
		    size_t *inrelease_len, char **detached, size_t *detached_len, struct dk_err *err);

/*
 * Remove the pool files of public_root/prefix that no Packages index of the prefix's suites names,
 * current or kept by hash for clients holding the previous Release; *pruned counts them.
 */
int dk_publish_prune(const char *public_root, const char *prefix, size_t *pruned, struct dk_err *err);

/*
 * Remove the suite's dists/SUITE (renamed aside in one step, so a reader sees all of it or none), then
 * prune the pool as dk_publish_prune does. DK_NOTFOUND when the suite was not there (the pool is pruned
 * all the same, so a drop a crash interrupted completes).
 */
int dk_publish_drop(const char *public_root, const char *prefix, const char *suite, size_t *pruned,
		    struct dk_err *err);

#endif
