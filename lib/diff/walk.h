/* walk.h - lib/diff's internal walker: one input's members, read as a stream, containers recursed into */
#ifndef DEBKEEP_DIFF_WALK_H
#define DEBKEEP_DIFF_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <debkeep/arena.h>
#include <debkeep/diff.h>
#include <debkeep/err.h>

/* Containers nest at most this deep (a .deb in a tar in a disk image is 4). */
#define DKD_MAX_DEPTH 8
#define DKD_CHUNK ((size_t)64 * 1024)

/* A member's content (or a partition's bytes) as a stream. */
struct dkd_src {
	ssize_t (*read)(struct dkd_src *src, void *buf, size_t n, struct dk_err *err);
};

/* A member's bytes kept for later: dpkg database files in pass 1, differing contents in pass 2. */
struct dkd_blob {
	const char *path;
	char *data;
	size_t len;
	bool truncated;
};

struct dkd_blobs {
	struct dkd_blob *v;
	size_t n, cap;
	size_t bytes, max; /* total kept, and its cap */
};

struct dkd_side {
	const char *input; /* the file or directory */
	const char *name;  /* for messages: "A" or the input */
	const char *kind;
	struct dk_arena arena;
	struct dk_diff_member *m;
	size_t n, cap;
	uint64_t seq;
	uint64_t bytes;
	struct dkd_blobs meta;	 /* pass 1: dpkg status, info/NAME.list and scripts, .deb control files */
	const char *const *want; /* pass 2: sorted paths whose content is wanted; NULL in pass 1 */
	size_t nwant;
	size_t member_max;	   /* pass 2: per member cap */
	struct dkd_blobs content;  /* pass 2 */
	struct timespec *deadline; /* NULL: no time limit */
	struct dk_err err;
	int rc;
	unsigned char *bufs[DKD_MAX_DEPTH + 2];
};

/* Walk the side's input: pass 1 when side->want is NULL, else pass 2 (only wanted contents, no hashing). */
int dkd_walk(struct dkd_side *s);
/* "directory", "tar", "deb", "ar", "cpio", "ext4", "disk", "compressed", "file": what kind of input path is. */
int dkd_input_kind(const char *path, const char **kind, struct dk_err *err);
void dkd_side_release(struct dkd_side *s);

/* For the format walkers (ext4.c, disk.c). */
int dkd_emit(struct dkd_side *s, const struct dk_diff_member *m);
int dkd_content(struct dkd_side *s, struct dk_diff_member *m, struct dkd_src *src, int depth);
const char *dkd_join(struct dkd_side *s, const char *prefix, const char *name);
bool dkd_want_under(const struct dkd_side *s, const char *path);
bool dkd_wanted(const struct dkd_side *s, const char *path);
int dkd_check_time(struct dkd_side *s, const char *where);
/* Props lines are "key=value\n"; this sorts them and copies them into the side's arena. */
const char *dkd_props(struct dkd_side *s, char *lines, size_t len);
void dkd_hash_hex_prefix(const void *p, size_t n, char out[17]);

int dkd_walk_ext4(struct dkd_side *s, const char *file, uint64_t offset, const char *prefix, int depth);
int dkd_walk_disk(struct dkd_side *s, int fd, const char *prefix, int depth);
/* Is the file at offset an ext2/3/4 file system? */
bool dkd_is_ext4(int fd, uint64_t offset);
/* Does the file hold a GPT or an MBR partition table? */
bool dkd_is_disk(int fd);

/* Package ownership from the image's dpkg database (dpkgdb.c). */
struct dkd_dpkg;
int dkd_dpkg_load(struct dkd_dpkg **out, const struct dkd_blobs *meta, struct dk_err *err);
/* The package that ships path (NULL if none), and, when none does, the maintainer script mentioning it. */
const char *dkd_dpkg_owner(const struct dkd_dpkg *d, const char *path, const char **script_pkg,
			   const char **script);
/* Packages of both sides whose versions differ; allocated in arena. */
int dkd_dpkg_versions(const struct dkd_dpkg *a, const struct dkd_dpkg *b, struct dk_arena *arena,
		      struct dk_diff_package **out, size_t *n);
void dkd_dpkg_free(struct dkd_dpkg *d);

#endif
