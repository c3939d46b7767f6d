/* err.c - filling the error object */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <debkeep/err.h>

#include "banned.h"

DK_PRINTF(2, 0) static void vset(struct dk_err *err, const char *fmt, va_list ap)
{
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
}

int dk_err_set(struct dk_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vset(err, fmt, ap);
	va_end(ap);
	return code;
}

int dk_err_prefix(struct dk_err *err, const char *fmt, ...)
{
	char prefix[DK_ERR_MSG_MAX];
	size_t plen, mlen;
	va_list ap;
	int n;

	if (!err)
		return DK_EINTERNAL;
	va_start(ap, fmt);
	n = vsnprintf(prefix, sizeof(prefix) - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		return err->code;
	plen = strlen(prefix);
	memcpy(prefix + plen, ": ", 2);
	plen += 2;
	/* The message keeps what fits: the prefix first, then as much of the old text as there is room for. */
	mlen = strnlen(err->msg, sizeof(err->msg) - 1);
	if (plen + mlen > sizeof(err->msg) - 1)
		mlen = plen < sizeof(err->msg) - 1 ? sizeof(err->msg) - 1 - plen : 0;
	memmove(err->msg + plen, err->msg, mlen);
	memcpy(err->msg, prefix, plen < sizeof(err->msg) - 1 ? plen : sizeof(err->msg) - 1);
	err->msg[plen + mlen < sizeof(err->msg) ? plen + mlen : sizeof(err->msg) - 1] = '\0';
	return err->code;
}

int dk_err_errno(struct dk_err *err, const char *fmt, ...)
{
	int saved = errno;
	int code = saved == ENOMEM ? DK_ENOMEM : DK_EIO;
	char what[DK_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return dk_err_set(err, code, "%s: %s", what, strerror(saved));
}

void dk_err_clear(struct dk_err *err)
{
	if (!err)
		return;
	err->code = 0;
	err->msg[0] = '\0';
}
