/* mirror.h - verified mirrors of upstream apt repositories: Release files, signatures, definitions, updates */
#ifndef DEBKEEP_MIRROR_H
#define DEBKEEP_MIRROR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "err.h"
#include "repo.h"

/* The mirror area's schema version (dk_db_migrate area "mirror"). */
#define DK_MIRROR_SCHEMA_VERSION 1

/* A Release file is small; anything bigger is not one. */
#define DK_RELEASE_MAX ((size_t)64 << 20)

/* One line of a Release file's SHA256 list. */
struct dk_relfile_entry {
	char *path; /* relative to dists/SUITE/ */
	uint64_t size;
	char sha256[65];
};

/* What a Release file says, as far as a mirror needs it. */
struct dk_relfile {
	char *origin, *label, *suite, *codename, *date_text; /* NULL when absent */
	time_t date;        /* 0 when absent */
	time_t valid_until; /* 0 when absent */
	char **archs;
	size_t narchs;
	char **components;
	size_t ncomponents;
	bool by_hash; /* Acquire-By-Hash: yes */
	struct dk_relfile_entry *files; /* the SHA256 list, in file order */
	size_t nfiles;
};

/*
 * Parse a Release file (the signed text, no OpenPGP wrapper). name is used
 * in messages ("InRelease:12: SHA256: bad line"). A file without a SHA256
 * list, or with an entry that is not "HASH SIZE PATH" with a safe relative
 * path, is DK_EINPUT. Release the result with dk_relfile_release either way.
 */
int dk_relfile_parse(struct dk_relfile *rf, const char *data, size_t len, const char *name, struct dk_err *err);
void dk_relfile_release(struct dk_relfile *rf);

/*
 * Check a parsed Release against what a mirror asks for: Suite or Codename
 * is suite, every architecture and component is listed, and Valid-Until (if
 * any) is not before now. DK_EINPUT naming the first mismatch.
 */
int dk_relfile_check(const struct dk_relfile *rf, const char *name, const char *suite, char *const *archs,
		     size_t narchs, char *const *components, size_t ncomponents, time_t now, struct dk_err *err);

/* The SHA256 entry for path, or NULL. */
const struct dk_relfile_entry *dk_relfile_find(const struct dk_relfile *rf, const char *path);

/* COMPONENT/binary-ARCH/Packages: the .gz if listed, else the .xz, else the plain file; NULL when none is. */
const struct dk_relfile_entry *dk_relfile_packages(const struct dk_relfile *rf, const char *component,
						   const char *arch);

/* Check bytes against an entry's size and SHA-256: DK_EINPUT naming the path and both values on a mismatch. */
int dk_relfile_verify(const struct dk_relfile_entry *e, const void *data, size_t len, struct dk_err *err);

/* "Sat, 10 Jun 2023 08:56:24 UTC" (RFC 2822, as Release files write dates); -1 when it is not one. */
int dk_rfc2822_parse(const char *s, size_t n, time_t *out);

/*
 * OpenPGP verification against exactly one keyring (verify.c): keyring (the
 * file's bytes, binary or armored) is imported into a fresh GnuPG home made
 * under tmpdir and removed afterwards, so the host's keys never count.
 * With sig == NULL, data is a clearsigned InRelease; else sig is the
 * detached Release.gpg for data. Succeeds only when at least one signature
 * is good and valid and made by a key from keyring that is neither expired
 * nor revoked; *text (malloc'd) is then what was signed: gpgme's output for
 * a clearsigned file, never the text around the signature. fpr (41 bytes)
 * gets the signing key's fingerprint. A bad or untrusted signature is DK_EINPUT.
 */
int dk_verify_release(const char *keyring, size_t keyring_len, const char *tmpdir, const char *data, size_t len,
		      const char *sig, size_t sig_len, char **text, size_t *text_len, char fpr[41],
		      struct dk_err *err);

/* How many OpenPGP public keys keyring holds (imported into a throw-away home under tmpdir). */
int dk_verify_keyring(const char *keyring, size_t keyring_len, const char *tmpdir, size_t *keys, struct dk_err *err);

/* A mirror's definition, and what its last update found. */
struct dk_mirror {
	char *name, *url, *suite;
	char **components;
	size_t ncomponents;
	char **archs;
	size_t narchs;
	char *list; /* the package list's YAML text, NULL: everything */
	bool with_sources;
	char *created;
	char *updated, *release_date, *release_sha256; /* NULL before the first update */
	long long packages; /* members of the collection mirror/NAME */
};

void dk_mirror_release(struct dk_mirror *m);

/* Names become file names (keyrings/NAME.gpg) and the collection mirror/NAME. */
bool dk_mirror_name_valid(const char *name);

/*
 * Record a mirror (nothing is fetched): arguments are checked, keyring's
 * bytes are copied to ROOT/keyrings/NAME.gpg so every later update verifies
 * against what was given here. DK_EINPUT when the name exists.
 */
int dk_mirror_create(struct dk_repo *r, const struct dk_mirror *m, const char *keyring, size_t keyring_len,
		     struct dk_err *err);
/* DK_EINPUT ("unknown mirror") when there is none; a root without the mirror tables has none. */
int dk_mirror_get(struct dk_repo *r, const char *name, struct dk_mirror *m, struct dk_err *err);
/* Calls fn for each mirror, by name. */
int dk_mirror_list(struct dk_repo *r, int (*fn)(void *ctx, const struct dk_mirror *m), void *ctx,
		   struct dk_err *err);
/* Forget the definition, its keyring and the collection mirror/NAME; snapshots made from it stay. */
int dk_mirror_drop(struct dk_repo *r, const char *name, struct dk_err *err);

enum dk_mirror_phase { DK_MIRROR_INDICES, DK_MIRROR_PACKAGES };

typedef void (*dk_mirror_progress_fn)(void *ctx, enum dk_mirror_phase phase, uint64_t done, uint64_t total,
				      size_t files_done, size_t files);

struct dk_source_ref; /* sources.h */

/* A binary whose source the upstream Sources index lacks; called once per source name and version. */
typedef void (*dk_source_missing_fn)(void *ctx, const struct dk_source_ref *ref);

struct dk_mirror_update_opts {
	unsigned parallel; /* simultaneous downloads; 0: fetch's default */
	time_t now;        /* for Valid-Until; 0: the clock */
	dk_mirror_progress_fn progress;
	void *progress_ctx;
	dk_source_missing_fn source_missing; /* a mirror with sources: not an error; NULL: not told */
	void *source_missing_ctx;
};

/* What a mirror update did with sources (all 0 for a mirror without them). */
struct dk_sources_stats {
	size_t sources;  /* source packages in the mirror after the update */
	size_t new_rows; /* source rows added */
	size_t files;    /* files fetched (or found half-way in tmp/) */
	size_t reused;   /* ...of which a killed earlier run had already fetched */
	uint64_t bytes;  /* bytes of those */
	size_t indices;  /* Sources files fetched */
	size_t missing;  /* binaries' sources the upstream index lacks */
};

struct dk_mirror_stats {
	size_t packages;   /* members after the update */
	size_t new_rows;   /* package rows added */
	size_t debs;       /* .debs that had to be fetched (or were found half-way in tmp/) */
	size_t reused;     /* ...of which a killed earlier run had already fetched */
	uint64_t bytes;    /* bytes of those .debs */
	size_t indices;    /* Packages files fetched */
	char fingerprint[41];
	char release_date[64];
	double index_seconds; /* parsing, resolving, selecting: the work besides downloads */
	struct dk_sources_stats sources;
};

/*
 * Update mirror name: fetch and verify InRelease (or Release + Release.gpg)
 * against the mirror's keyring, the Packages indices against Release, select
 * the package list's closure per architecture (or everything), fetch the
 * missing .debs (resumable, under ROOT/tmp/mirror-NAME/), check each new
 * .deb's control against its index stanza, then in one transaction record
 * the package rows, make them the members of collection mirror/NAME and
 * update the definition. Any failure before that commit leaves the database
 * as it was.
 */
int dk_mirror_update(struct dk_repo *r, const char *name, const struct dk_mirror_update_opts *o,
		     struct dk_mirror_stats *st, struct dk_err *err);

/*
 * The control text a mirror records for a Packages stanza: the stanza
 * without the fields publishing writes itself (Filename, Size, MD5sum, SHA1,
 * SHA256, SHA512, Description-md5), no trailing newline.
 */
int dk_mirror_control(const char *stanza, size_t len, struct dk_buf *out, struct dk_err *err);

#endif
