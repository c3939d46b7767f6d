/* lazy-archive.c - libarchive, loaded at its first use instead of at every process start */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include <archive.h>
#include <archive_entry.h>

#include "banned.h"
#include "core/lazy.h"

/*
 * libarchive brings twelve shared objects (nettle, acl, five compressors,
 * libxml2 with ICU and the C++ runtime) that the dynamic loader would map
 * and relocate before main: 7 ms of every command's start on this
 * project's machines, a seventh of a `cve scan`, which never opens an
 * archive of a dpkg status file. When the library cannot be loaded, the
 * constructors return NULL and archive_error_string() says why.
 */
#if ARCHIVE_VERSION_NUMBER < 3000000 || ARCHIVE_VERSION_NUMBER >= 4000000
#error "libarchive.so.13 is libarchive 3"
#endif
#define SONAME "libarchive.so.13"
#define CANNOT SONAME " cannot be loaded"
#define A struct archive *a
#define E struct archive_entry *e

#define ARCHIVE_FUNCTIONS(F, V)                                                                                        \
	F(struct archive_entry *, archive_entry_new, (void), (), NULL)                                                 \
	F(struct archive_entry *, archive_entry_clear, (E), (e), e)                                                    \
	V(archive_entry_free, (E), (e))                                                                                \
	V(archive_entry_copy_hardlink, (E, const char *s), (e, s))                                                     \
	V(archive_entry_copy_pathname, (E, const char *s), (e, s))                                                     \
	V(archive_entry_copy_symlink, (E, const char *s), (e, s))                                                      \
	F(__LA_MODE_T, archive_entry_filetype, (E), (e), 0)                                                            \
	F(la_int64_t, archive_entry_gid, (E), (e), 0)                                                                  \
	F(const char *, archive_entry_gname, (E), (e), NULL)                                                           \
	F(const char *, archive_entry_hardlink, (E), (e), NULL)                                                        \
	F(time_t, archive_entry_mtime, (E), (e), 0)                                                                    \
	F(int, archive_entry_mtime_is_set, (E), (e), 0)                                                                \
	F(long, archive_entry_mtime_nsec, (E), (e), 0)                                                                 \
	F(const char *, archive_entry_pathname, (E), (e), NULL)                                                        \
	F(__LA_MODE_T, archive_entry_perm, (E), (e), 0)                                                                \
	F(dev_t, archive_entry_rdev, (E), (e), 0)                                                                      \
	V(archive_entry_set_filetype, (E, unsigned int t), (e, t))                                                     \
	V(archive_entry_set_gid, (E, la_int64_t g), (e, g))                                                            \
	V(archive_entry_set_mode, (E, __LA_MODE_T m), (e, m))                                                          \
	V(archive_entry_set_mtime, (E, time_t t, long ns), (e, t, ns))                                                 \
	V(archive_entry_set_rdev, (E, dev_t d), (e, d))                                                                \
	V(archive_entry_set_size, (E, la_int64_t s), (e, s))                                                           \
	V(archive_entry_set_uid, (E, la_int64_t u), (e, u))                                                            \
	F(la_int64_t, archive_entry_size, (E), (e), 0)                                                                 \
	F(int, archive_entry_size_is_set, (E), (e), 0)                                                                 \
	F(int, archive_entry_sparse_count, (E), (e), 0)                                                                \
	F(const char *, archive_entry_symlink, (E), (e), NULL)                                                         \
	F(la_int64_t, archive_entry_uid, (E), (e), 0)                                                                  \
	F(const char *, archive_entry_uname, (E), (e), NULL)                                                           \
	V(archive_entry_xattr_add_entry, (E, const char *name, const void *value, size_t size), (e, name, value, size)) \
	F(int, archive_entry_xattr_next, (E, const char **name, const void **value, size_t *size),                     \
	  (e, name, value, size), ARCHIVE_WARN)                                                                        \
	F(int, archive_entry_xattr_reset, (E), (e), 0)                                                                 \
	F(int, archive_errno, (A), (a), ENOSYS)                                                                        \
	F(const char *, archive_error_string, (A), (a), CANNOT)                                                        \
	F(int, archive_filter_count, (A), (a), 0)                                                                      \
	F(const char *, archive_filter_name, (A, int n), (a, n), NULL)                                                 \
	F(int, archive_format, (A), (a), 0)                                                                            \
	F(const char *, archive_format_name, (A), (a), NULL)                                                           \
	F(la_ssize_t, archive_read_data, (A, void *buf, size_t n), (a, buf, n), ARCHIVE_FATAL)                         \
	F(int, archive_read_data_block, (A, const void **buf, size_t *n, la_int64_t *off), (a, buf, n, off),           \
	  ARCHIVE_FATAL)                                                                                               \
	F(int, archive_read_free, (A), (a), ARCHIVE_FATAL)                                                             \
	F(struct archive *, archive_read_new, (void), (), NULL)                                                        \
	F(int, archive_read_next_header, (A, struct archive_entry **e), (a, e), ARCHIVE_FATAL)                         \
	F(int, archive_read_open,                                                                                      \
	  (A, void *data, archive_open_callback *o, archive_read_callback *r, archive_close_callback *c),              \
	  (a, data, o, r, c), ARCHIVE_FATAL)                                                                           \
	F(int, archive_read_open_fd, (A, int fd, size_t block), (a, fd, block), ARCHIVE_FATAL)                         \
	F(int, archive_read_open_filename, (A, const char *path, size_t block), (a, path, block), ARCHIVE_FATAL)       \
	F(int, archive_read_open_memory, (A, const void *buf, size_t n), (a, buf, n), ARCHIVE_FATAL)                   \
	F(int, archive_read_support_filter_all, (A), (a), ARCHIVE_FATAL)                                               \
	F(int, archive_read_support_filter_bzip2, (A), (a), ARCHIVE_FATAL)                                             \
	F(int, archive_read_support_filter_gzip, (A), (a), ARCHIVE_FATAL)                                              \
	F(int, archive_read_support_filter_lz4, (A), (a), ARCHIVE_FATAL)                                               \
	F(int, archive_read_support_filter_lzma, (A), (a), ARCHIVE_FATAL)                                              \
	F(int, archive_read_support_filter_xz, (A), (a), ARCHIVE_FATAL)                                                \
	F(int, archive_read_support_filter_zstd, (A), (a), ARCHIVE_FATAL)                                              \
	F(int, archive_read_support_format_ar, (A), (a), ARCHIVE_FATAL)                                                \
	F(int, archive_read_support_format_cpio, (A), (a), ARCHIVE_FATAL)                                              \
	F(int, archive_read_support_format_gnutar, (A), (a), ARCHIVE_FATAL)                                            \
	F(int, archive_read_support_format_raw, (A), (a), ARCHIVE_FATAL)                                               \
	F(int, archive_read_support_format_tar, (A), (a), ARCHIVE_FATAL)                                               \
	F(int, archive_write_add_filter, (A, int code), (a, code), ARCHIVE_FATAL)                                      \
	F(int, archive_write_add_filter_xz, (A), (a), ARCHIVE_FATAL)                                                   \
	F(int, archive_write_add_filter_zstd, (A), (a), ARCHIVE_FATAL)                                                 \
	F(int, archive_write_close, (A), (a), ARCHIVE_FATAL)                                                           \
	F(la_ssize_t, archive_write_data, (A, const void *buf, size_t n), (a, buf, n), ARCHIVE_FATAL)                  \
	F(int, archive_write_free, (A), (a), ARCHIVE_FATAL)                                                            \
	F(int, archive_write_header, (A, E), (a, e), ARCHIVE_FATAL)                                                    \
	F(struct archive *, archive_write_new, (void), (), NULL)                                                       \
	F(int, archive_write_open,                                                                                     \
	  (A, void *data, archive_open_callback *o, archive_write_callback *w, archive_close_callback *c),             \
	  (a, data, o, w, c), ARCHIVE_FATAL)                                                                           \
	F(int, archive_write_set_bytes_in_last_block, (A, int n), (a, n), ARCHIVE_FATAL)                               \
	F(int, archive_write_set_filter_option, (A, const char *m, const char *o, const char *v), (a, m, o, v),        \
	  ARCHIVE_FATAL)                                                                                               \
	F(int, archive_write_set_format_pax_restricted, (A), (a), ARCHIVE_FATAL)                                       \
	F(int, archive_write_set_format_raw, (A), (a), ARCHIVE_FATAL)

/* archive_set_error(), the one variadic function, is written out below. */
static struct {
	ARCHIVE_FUNCTIONS(DK_LAZY_FIELD, DK_LAZY_VFIELD)
	void (*archive_set_error)(struct archive *a, int code, const char *fmt, ...);
} fn;

static const char *const names[] = {ARCHIVE_FUNCTIONS(DK_LAZY_NAME, DK_LAZY_VNAME) "archive_set_error"};

DK_LAZY_LIBRARY(SONAME);

ARCHIVE_FUNCTIONS(DK_LAZY_DEFINE, DK_LAZY_VDEFINE)

void archive_set_error(struct archive *a, int code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!dk_lazy_have(&lib))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fn.archive_set_error(a, code, "%s", msg);
}
