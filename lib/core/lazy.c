/* lazy.c - libcurl and libmicrohttpd, loaded at their first use instead of at every process start */
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* The wrappers take curl_easy_setopt's arguments as they come: curl's type-checking macros would rename them. */
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>
#include <microhttpd.h>

#include "banned.h"

/*
 * Linked normally, libcurl and libmicrohttpd bring 40 shared objects (two
 * TLS stacks, Kerberos, LDAP, ICU...) that the dynamic loader maps and
 * relocates before main: about half of the start of every command, while
 * only mirror (fetch) and serve use them. The library calls these
 * functions by their usual names and gets them from here; the first call
 * of a library's functions loads it and resolves all its functions at
 * once, so later calls from other threads (serve's request handlers) only
 * read the table. When the library cannot be loaded, each function fails
 * the way it reports failure itself (NULL, CURLE_FAILED_INIT, MHD_NO).
 */

static struct {
	CURLcode (*global_init)(long flags);
	CURL *(*easy_init)(void);
	void (*easy_cleanup)(CURL *h);
	CURLcode (*easy_setopt)(CURL *h, CURLoption opt, ...);
	CURLcode (*easy_getinfo)(CURL *h, CURLINFO info, ...);
	const char *(*easy_strerror)(CURLcode code);
	CURLM *(*multi_init)(void);
	CURLMcode (*multi_cleanup)(CURLM *m);
	CURLMcode (*multi_setopt)(CURLM *m, CURLMoption opt, ...);
	CURLMcode (*multi_add_handle)(CURLM *m, CURL *h);
	CURLMcode (*multi_remove_handle)(CURLM *m, CURL *h);
	CURLMcode (*multi_perform)(CURLM *m, int *running);
	CURLMcode (*multi_poll)(CURLM *m, struct curl_waitfd extra[], unsigned int nextra, int timeout_ms, int *numfds);
	CURLMcode (*multi_timeout)(CURLM *m, long *ms);
	CURLMsg *(*multi_info_read)(CURLM *m, int *left);
	const char *(*multi_strerror)(CURLMcode code);
} curl;

static const char *const curl_names[] = {
	"curl_global_init",	    "curl_easy_init",	     "curl_easy_cleanup",     "curl_easy_setopt",
	"curl_easy_getinfo",	    "curl_easy_strerror",    "curl_multi_init",	      "curl_multi_cleanup",
	"curl_multi_setopt",	    "curl_multi_add_handle", "curl_multi_remove_handle", "curl_multi_perform",
	"curl_multi_poll",	    "curl_multi_timeout",    "curl_multi_info_read",  "curl_multi_strerror",
};

static struct {
	struct MHD_Daemon *(*start_daemon_va)(unsigned int flags, uint16_t port, MHD_AcceptPolicyCallback apc,
					      void *apc_cls, MHD_AccessHandlerCallback dh, void *dh_cls, va_list ap);
	void (*stop_daemon)(struct MHD_Daemon *d);
	const union MHD_DaemonInfo *(*get_daemon_info)(struct MHD_Daemon *d, enum MHD_DaemonInfoType type, ...);
	const char *(*lookup_connection_value)(struct MHD_Connection *c, enum MHD_ValueKind kind, const char *key);
	enum MHD_Result (*queue_response)(struct MHD_Connection *c, unsigned int status, struct MHD_Response *r);
	struct MHD_Response *(*create_response_from_buffer)(size_t size, void *buffer,
							    enum MHD_ResponseMemoryMode mode);
	struct MHD_Response *(*create_response_from_fd_at_offset64)(uint64_t size, int fd, uint64_t offset);
	enum MHD_Result (*add_response_header)(struct MHD_Response *r, const char *header, const char *content);
	void (*destroy_response)(struct MHD_Response *r);
} mhd;

static const char *const mhd_names[] = {
	"MHD_start_daemon_va",		   "MHD_stop_daemon",
	"MHD_get_daemon_info",		   "MHD_lookup_connection_value",
	"MHD_queue_response",		   "MHD_create_response_from_buffer",
	"MHD_create_response_from_fd_at_offset64", "MHD_add_response_header",
	"MHD_destroy_response",
};

/* A table is a struct of function pointers only, filled in the order of the names; false leaves it unused. */
static bool load(const char *soname, const char *const *names, size_t n, void *table)
{
	void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);

	if (!h)
		return false;
	for (size_t i = 0; i < n; i++) {
		void (*fn)(void) = (void (*)(void))dlsym(h, names[i]);

		if (!fn) {
			dlclose(h);
			return false;
		}
		memcpy((char *)table + i * sizeof(fn), &fn, sizeof(fn));
	}
	return true;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT, mhd_once = PTHREAD_ONCE_INIT;
static bool curl_ok, mhd_ok;

static void curl_load(void)
{
	_Static_assert(sizeof(curl) == sizeof(curl_names) / sizeof(curl_names[0]) * sizeof(void (*)(void)),
		       "one name per libcurl function");
	curl_ok = load("libcurl.so.4", curl_names, sizeof(curl_names) / sizeof(curl_names[0]), &curl);
}

static void mhd_load(void)
{
	_Static_assert(sizeof(mhd) == sizeof(mhd_names) / sizeof(mhd_names[0]) * sizeof(void (*)(void)),
		       "one name per libmicrohttpd function");
	mhd_ok = load("libmicrohttpd.so.12", mhd_names, sizeof(mhd_names) / sizeof(mhd_names[0]), &mhd);
}

static bool have_curl(void)
{
	return pthread_once(&curl_once, curl_load) == 0 && curl_ok;
}

static bool have_mhd(void)
{
	return pthread_once(&mhd_once, mhd_load) == 0 && mhd_ok;
}

CURLcode curl_global_init(long flags)
{
	return have_curl() ? curl.global_init(flags) : CURLE_FAILED_INIT;
}

CURL *curl_easy_init(void)
{
	return have_curl() ? curl.easy_init() : NULL;
}

void curl_easy_cleanup(CURL *h)
{
	if (have_curl())
		curl.easy_cleanup(h);
}

/* An option's number says the type of its argument (curl.h: CURLOPTTYPE_*); curl reads it back as that type. */
#define SETOPT(fn, h, opt, ap)                                                                                         \
	((opt) < CURLOPTTYPE_OBJECTPOINT     ? fn(h, opt, va_arg(ap, long))                                            \
	 : (opt) < CURLOPTTYPE_FUNCTIONPOINT ? fn(h, opt, va_arg(ap, void *))                                          \
	 : (opt) < CURLOPTTYPE_OFF_T	     ? fn(h, opt, va_arg(ap, void (*)(void)))                                  \
	 : (opt) < CURLOPTTYPE_BLOB	     ? fn(h, opt, va_arg(ap, curl_off_t))                                      \
					     : fn(h, opt, va_arg(ap, void *)))

CURLcode curl_easy_setopt(CURL *h, CURLoption opt, ...)
{
	CURLcode rc = CURLE_FAILED_INIT;
	va_list ap;

	va_start(ap, opt);
	if (have_curl())
		rc = SETOPT(curl.easy_setopt, h, opt, ap);
	va_end(ap);
	return rc;
}

CURLMcode curl_multi_setopt(CURLM *m, CURLMoption opt, ...)
{
	CURLMcode rc = CURLM_INTERNAL_ERROR;
	va_list ap;

	va_start(ap, opt);
	if (have_curl())
		rc = SETOPT(curl.multi_setopt, m, opt, ap);
	va_end(ap);
	return rc;
}

/* Every CURLINFO_* takes a pointer to where the value goes. */
CURLcode curl_easy_getinfo(CURL *h, CURLINFO info, ...)
{
	CURLcode rc = CURLE_FAILED_INIT;
	va_list ap;

	va_start(ap, info);
	if (have_curl())
		rc = curl.easy_getinfo(h, info, va_arg(ap, void *));
	va_end(ap);
	return rc;
}

const char *curl_easy_strerror(CURLcode code)
{
	return have_curl() ? curl.easy_strerror(code) : "libcurl.so.4 cannot be loaded";
}

CURLM *curl_multi_init(void)
{
	return have_curl() ? curl.multi_init() : NULL;
}

CURLMcode curl_multi_cleanup(CURLM *m)
{
	return have_curl() ? curl.multi_cleanup(m) : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_add_handle(CURLM *m, CURL *h)
{
	return have_curl() ? curl.multi_add_handle(m, h) : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_remove_handle(CURLM *m, CURL *h)
{
	return have_curl() ? curl.multi_remove_handle(m, h) : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_perform(CURLM *m, int *running)
{
	return have_curl() ? curl.multi_perform(m, running) : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_poll(CURLM *m, struct curl_waitfd extra[], unsigned int nextra, int timeout_ms, int *numfds)
{
	return have_curl() ? curl.multi_poll(m, extra, nextra, timeout_ms, numfds) : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_timeout(CURLM *m, long *ms)
{
	return have_curl() ? curl.multi_timeout(m, ms) : CURLM_INTERNAL_ERROR;
}

CURLMsg *curl_multi_info_read(CURLM *m, int *left)
{
	return have_curl() ? curl.multi_info_read(m, left) : NULL;
}

const char *curl_multi_strerror(CURLMcode code)
{
	return have_curl() ? curl.multi_strerror(code) : "libcurl.so.4 cannot be loaded";
}

struct MHD_Daemon *MHD_start_daemon(unsigned int flags, uint16_t port, MHD_AcceptPolicyCallback apc, void *apc_cls,
				    MHD_AccessHandlerCallback dh, void *dh_cls, ...)
{
	struct MHD_Daemon *d = NULL;
	va_list ap;

	va_start(ap, dh_cls);
	if (have_mhd())
		d = mhd.start_daemon_va(flags, port, apc, apc_cls, dh, dh_cls, ap);
	va_end(ap);
	return d;
}

void MHD_stop_daemon(struct MHD_Daemon *d)
{
	if (have_mhd())
		mhd.stop_daemon(d);
}

/* The types asked for here (the bound port, the listening socket) take no further argument. */
const union MHD_DaemonInfo *MHD_get_daemon_info(struct MHD_Daemon *d, enum MHD_DaemonInfoType type, ...)
{
	return have_mhd() ? mhd.get_daemon_info(d, type) : NULL;
}

const char *MHD_lookup_connection_value(struct MHD_Connection *c, enum MHD_ValueKind kind, const char *key)
{
	return have_mhd() ? mhd.lookup_connection_value(c, kind, key) : NULL;
}

enum MHD_Result MHD_queue_response(struct MHD_Connection *c, unsigned int status, struct MHD_Response *r)
{
	return have_mhd() ? mhd.queue_response(c, status, r) : MHD_NO;
}

struct MHD_Response *MHD_create_response_from_buffer(size_t size, void *buffer, enum MHD_ResponseMemoryMode mode)
{
	return have_mhd() ? mhd.create_response_from_buffer(size, buffer, mode) : NULL;
}

struct MHD_Response *MHD_create_response_from_fd_at_offset64(uint64_t size, int fd, uint64_t offset)
{
	return have_mhd() ? mhd.create_response_from_fd_at_offset64(size, fd, offset) : NULL;
}

enum MHD_Result MHD_add_response_header(struct MHD_Response *r, const char *header, const char *content)
{
	return have_mhd() ? mhd.add_response_header(r, header, content) : MHD_NO;
}

void MHD_destroy_response(struct MHD_Response *r)
{
	if (have_mhd())
		mhd.destroy_response(r);
}
