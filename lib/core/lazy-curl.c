/* lazy-curl.c - libcurl, loaded at its first use instead of at every process start */
#include <stdarg.h>

/* The wrappers take curl_easy_setopt's arguments as they come: curl's type-checking macros would rename them. */
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>

#include "banned.h"
#include "core/lazy.h"

/*
 * Linked normally, libcurl brings some 30 shared objects (two TLS stacks,
 * Kerberos, LDAP, ICU...) that the dynamic loader maps and relocates
 * before main, while only mirror (fetch) uses them. When it cannot be
 * loaded, each function fails the way curl reports failure
 * (CURLE_FAILED_INIT, CURLM_INTERNAL_ERROR, NULL).
 */
#define SONAME "libcurl.so.4"
#define M CURLM *m

#define CURL_FUNCTIONS(F, V)                                                                                           \
	F(CURLcode, curl_global_init, (long flags), (flags), CURLE_FAILED_INIT)                                        \
	F(CURL *, curl_easy_init, (void), (), NULL)                                                                    \
	V(curl_easy_cleanup, (CURL *h), (h))                                                                           \
	F(const char *, curl_easy_strerror, (CURLcode code), (code), SONAME " cannot be loaded")                       \
	F(CURLM *, curl_multi_init, (void), (), NULL)                                                                  \
	F(CURLMcode, curl_multi_cleanup, (M), (m), CURLM_INTERNAL_ERROR)                                               \
	F(CURLMcode, curl_multi_add_handle, (M, CURL *h), (m, h), CURLM_INTERNAL_ERROR)                                \
	F(CURLMcode, curl_multi_remove_handle, (M, CURL *h), (m, h), CURLM_INTERNAL_ERROR)                             \
	F(CURLMcode, curl_multi_perform, (M, int *running), (m, running), CURLM_INTERNAL_ERROR)                        \
	F(CURLMcode, curl_multi_poll, (M, struct curl_waitfd extra[], unsigned int nextra, int ms, int *numfds),       \
	  (m, extra, nextra, ms, numfds), CURLM_INTERNAL_ERROR)                                                        \
	F(CURLMcode, curl_multi_timeout, (M, long *ms), (m, ms), CURLM_INTERNAL_ERROR)                                 \
	F(CURLMsg *, curl_multi_info_read, (M, int *left), (m, left), NULL)                                            \
	F(const char *, curl_multi_strerror, (CURLMcode code), (code), SONAME " cannot be loaded")

/* The three variadic functions are written out below. */
static struct {
	CURL_FUNCTIONS(DK_LAZY_FIELD, DK_LAZY_VFIELD)
	CURLcode (*curl_easy_setopt)(CURL *h, CURLoption opt, ...);
	CURLMcode (*curl_multi_setopt)(M, CURLMoption opt, ...);
	CURLcode (*curl_easy_getinfo)(CURL *h, CURLINFO info, ...);
} fn;

static const char *const names[] = {
	CURL_FUNCTIONS(DK_LAZY_NAME, DK_LAZY_VNAME) "curl_easy_setopt", "curl_multi_setopt", "curl_easy_getinfo",
};

DK_LAZY_LIBRARY(SONAME);

CURL_FUNCTIONS(DK_LAZY_DEFINE, DK_LAZY_VDEFINE)

/* An option's number says the type of its argument (curl.h: CURLOPTTYPE_*); curl reads it back as that type. */
#define SETOPT(f, h, opt, ap)                                                                                          \
	((opt) < CURLOPTTYPE_OBJECTPOINT     ? f(h, opt, va_arg(ap, long))                                             \
	 : (opt) < CURLOPTTYPE_FUNCTIONPOINT ? f(h, opt, va_arg(ap, void *))                                           \
	 : (opt) < CURLOPTTYPE_OFF_T	     ? f(h, opt, va_arg(ap, void (*)(void)))                                   \
	 : (opt) < CURLOPTTYPE_BLOB	     ? f(h, opt, va_arg(ap, curl_off_t))                                       \
					     : f(h, opt, va_arg(ap, void *)))

CURLcode curl_easy_setopt(CURL *h, CURLoption opt, ...)
{
	CURLcode rc = CURLE_FAILED_INIT;
	va_list ap;

	va_start(ap, opt);
	if (dk_lazy_have(&lib))
		rc = SETOPT(fn.curl_easy_setopt, h, opt, ap);
	va_end(ap);
	return rc;
}

CURLMcode curl_multi_setopt(M, CURLMoption opt, ...)
{
	CURLMcode rc = CURLM_INTERNAL_ERROR;
	va_list ap;

	va_start(ap, opt);
	if (dk_lazy_have(&lib))
		rc = SETOPT(fn.curl_multi_setopt, m, opt, ap);
	va_end(ap);
	return rc;
}

/* Every CURLINFO_* takes a pointer to where the value goes. */
CURLcode curl_easy_getinfo(CURL *h, CURLINFO info, ...)
{
	CURLcode rc = CURLE_FAILED_INIT;
	va_list ap;

	va_start(ap, info);
	if (dk_lazy_have(&lib))
		rc = fn.curl_easy_getinfo(h, info, va_arg(ap, void *));
	va_end(ap);
	return rc;
}
