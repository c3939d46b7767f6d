/* swu.h - SWUpdate bundles (.swu): the YAML description, sw-description, signing, create and verify */
#ifndef DEBKEEP_SWU_H
#define DEBKEEP_SWU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "buf.h"
#include "err.h"
#include "hash.h"

/* The two copies of the A/B ("round robin") layout: software collections copy-1 and copy-2. */
#define DK_SWU_COPIES 2

enum dk_swu_role { DK_SWU_ROOTFS, DK_SWU_KERNEL, DK_SWU_ROLES };

struct dk_swu_image {
	bool present;
	const char *file;	/* on disk, resolved against the description's directory */
	const char *name;	/* member name in the bundle: the file's base name */
	const char *path;	/* kernel: the file name on the boot partition */
	const char *filesystem; /* kernel: the boot partition's file system */
	const char *device[DK_SWU_COPIES];
	size_t line;
};

struct dk_swu_var {
	const char *name;
	const char *value;
};

/* What `swu create` reads (docs/swu.md): all strings live in the arena. */
struct dk_swu_desc {
	struct dk_arena arena;
	const char *product;
	const char *version;
	const char *description;
	const char *board; /* NULL: the hardware compatibility is for any board */
	const char **revisions;
	size_t nrevisions;
	const char *selection; /* "stable" */
	struct dk_swu_image image[DK_SWU_ROLES];
	struct dk_swu_var *bootenv[DK_SWU_COPIES];
	size_t nbootenv[DK_SWU_COPIES];
};

#define DK_SWU_DESC_INIT                                                                                     \
	{                                                                                                    \
		.arena = DK_ARENA_INIT                                                                       \
	}

/* Strict: unknown keys, repeats and wrong types are errors naming FILE:LINE. */
int dk_swu_desc_load(struct dk_swu_desc *d, const char *path, struct dk_err *err);
/* The same from memory; relative image paths are taken relative to name's directory. */
int dk_swu_desc_load_mem(struct dk_swu_desc *d, const char *data, size_t len, const char *name,
			 struct dk_err *err);
void dk_swu_desc_release(struct dk_swu_desc *d);

/* What the first pass measured of a payload. */
struct dk_swu_payload {
	uint64_t size;
	uint32_t sum;
	unsigned char sha256[32];
};

/* sw-description (libconfig syntax, SWUpdate's default parser) for d with the payloads' digests. */
int dk_swu_sw_description(const struct dk_swu_desc *d, const struct dk_swu_payload *p, struct dk_buf *out,
			  struct dk_err *err);

struct dk_swu_create_opts {
	const char *key; /* both or neither */
	const char *cert;
	uint32_t mtime; /* of every member: SOURCE_DATE_EPOCH for reproducible bundles */
};

/*
 * Write the bundle to out through a temporary file in the same directory and a rename: on any
 * failure nothing is left under out. Payloads are read twice in 64 KiB blocks (digests first,
 * since sw-description comes first), never whole. p receives what was measured.
 */
int dk_swu_create(const struct dk_swu_desc *d, const char *out, const struct dk_swu_create_opts *o,
		  struct dk_swu_payload p[DK_SWU_ROLES], struct dk_err *err);

/* One payload as found in a bundle. */
struct dk_swu_member {
	char *name;
	uint64_t size;
	char sha256[65];
	bool described;
};

/* What `swu verify` found: problems are one line each; none means SWUpdate should accept the bundle. */
struct dk_swu_report {
	char *version;
	char *signer; /* subject of the certificate that signed, when the signature checked out */
	bool signature_checked;
	bool signed_bundle;
	struct dk_swu_member *members;
	size_t nmembers;
	char **problems;
	size_t nproblems;
};

#define DK_SWU_REPORT_INIT                                                                                   \
	{                                                                                                    \
		0                                                                                            \
	}

struct dk_swu_verify_opts {
	const char *cert; /* NULL: the signature is not checked */
	const char *hw;	  /* "BOARD:REV" or NULL */
};

/*
 * Check a bundle as SWUpdate would: sw-description first, its signature, every payload's sha256
 * and cpio checksum, the hardware compatibility. Returns 0 with the report filled (look at
 * nproblems), or a negative code when the bundle or the certificate cannot be read at all.
 */
int dk_swu_verify(const char *bundle, const struct dk_swu_verify_opts *o, struct dk_swu_report *rep,
		  struct dk_err *err);
/* The same over a bundle in memory (the fuzz target's way in); the signature is not checked. */
int dk_swu_verify_mem(const void *p, size_t n, const char *name, const char *hw, struct dk_swu_report *rep,
		      struct dk_err *err);
void dk_swu_report_release(struct dk_swu_report *rep);

#endif
