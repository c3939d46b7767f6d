/* err.h - the one error shape of libdebkeep: a status code and a message naming where and what */
#ifndef DEBKEEP_ERR_H
#define DEBKEEP_ERR_H

#include <stddef.h>

#ifdef __GNUC__
#define DK_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define DK_PRINTF(f, a)
#endif

/*
 * Functions return 0 on success, DK_NOTFOUND (positive) for a look-up that
 * found nothing, and a negative code on failure with the message filled in.
 */
enum dk_status {
	DK_OK = 0,
	DK_NOTFOUND = 1,
	DK_EINPUT = -2,    /* malformed or unusable input: the user's to fix */
	DK_EIO = -3,       /* the system failed us: open, read, write */
	DK_ENOMEM = -4,    /* out of memory, or a size cap was hit */
	DK_EINTERNAL = -5, /* a bug or an impossible state */
};

#define DK_ERR_MSG_MAX 512

struct dk_err {
	int code;
	char msg[DK_ERR_MSG_MAX];
};

#define DK_ERR_INIT { 0, { 0 } }

/* Fill err (which may be NULL) and return code, so callers can `return dk_err_set(...)`. */
int dk_err_set(struct dk_err *err, int code, const char *fmt, ...) DK_PRINTF(3, 4);

/* Put "PREFIX: " in front of the current message, keeping the code; returns the code. */
int dk_err_prefix(struct dk_err *err, const char *fmt, ...) DK_PRINTF(2, 3);

/* errno-based helper: "WHAT: strerror(errno)", code DK_EIO (or DK_ENOMEM for ENOMEM). */
int dk_err_errno(struct dk_err *err, const char *fmt, ...) DK_PRINTF(2, 3);

void dk_err_clear(struct dk_err *err);

#endif
