/* lazy-mhd.c - libmicrohttpd, loaded at its first use instead of at every process start */
#include <stdarg.h>

#include <microhttpd.h>

#include "banned.h"
#include "core/lazy.h"

/*
 * libmicrohttpd brings GnuTLS and its chain, which only serve uses. When it
 * cannot be loaded, the daemon does not start (NULL) and every other
 * function fails the way microhttpd reports failure (MHD_NO, NULL).
 */
#define C struct MHD_Connection *c
#define R struct MHD_Response *r

#define MHD_FUNCTIONS(F, V)                                                                                            \
	V(MHD_stop_daemon, (struct MHD_Daemon *d), (d))                                                                \
	F(const char *, MHD_lookup_connection_value, (C, enum MHD_ValueKind kind, const char *key), (c, kind, key),    \
	  NULL)                                                                                                        \
	F(enum MHD_Result, MHD_queue_response, (C, unsigned int status, R), (c, status, r), MHD_NO)                    \
	F(struct MHD_Response *, MHD_create_response_from_buffer,                                                      \
	  (size_t size, void *buffer, enum MHD_ResponseMemoryMode mode), (size, buffer, mode), NULL)                   \
	F(struct MHD_Response *, MHD_create_response_from_fd_at_offset64, (uint64_t size, int fd, uint64_t offset),    \
	  (size, fd, offset), NULL)                                                                                    \
	F(enum MHD_Result, MHD_add_response_header, (R, const char *header, const char *content), (r, header, content),\
	  MHD_NO)                                                                                                      \
	V(MHD_destroy_response, (R), (r))

/* The two variadic functions are written out below. */
static struct {
	MHD_FUNCTIONS(DK_LAZY_FIELD, DK_LAZY_VFIELD)
	struct MHD_Daemon *(*MHD_start_daemon_va)(unsigned int flags, uint16_t port, MHD_AcceptPolicyCallback apc,
						  void *apc_cls, MHD_AccessHandlerCallback dh, void *dh_cls, va_list ap);
	const union MHD_DaemonInfo *(*MHD_get_daemon_info)(struct MHD_Daemon *d, enum MHD_DaemonInfoType type, ...);
} fn;

static const char *const names[] = {
	MHD_FUNCTIONS(DK_LAZY_NAME, DK_LAZY_VNAME) "MHD_start_daemon_va", "MHD_get_daemon_info",
};

DK_LAZY_LIBRARY("libmicrohttpd.so.12");

MHD_FUNCTIONS(DK_LAZY_DEFINE, DK_LAZY_VDEFINE)

struct MHD_Daemon *MHD_start_daemon(unsigned int flags, uint16_t port, MHD_AcceptPolicyCallback apc, void *apc_cls,
				    MHD_AccessHandlerCallback dh, void *dh_cls, ...)
{
	struct MHD_Daemon *d = NULL;
	va_list ap;

	va_start(ap, dh_cls);
	if (dk_lazy_have(&lib))
		d = fn.MHD_start_daemon_va(flags, port, apc, apc_cls, dh, dh_cls, ap);
	va_end(ap);
	return d;
}

/* The types asked for here (the bound port, the listening socket) take no further argument. */
const union MHD_DaemonInfo *MHD_get_daemon_info(struct MHD_Daemon *d, enum MHD_DaemonInfoType type, ...)
{
	return dk_lazy_have(&lib) ? fn.MHD_get_daemon_info(d, type) : NULL;
}
