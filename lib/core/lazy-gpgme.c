/* lazy-gpgme.c - GPGME, loaded at its first use instead of at every process start */
#include <gpgme.h>

#include "banned.h"
#include "core/lazy.h"

/*
 * GPGME and its libassuan and libgpg-error are for signing and verifying
 * (publish, mirror, check) only. When GPGME cannot be loaded, each call
 * fails with GPG_ERR_NOT_SUPPORTED and gpgme_strerror() says why.
 */
#if GPGME_VERSION_NUMBER < 0x010000
#error "libgpgme.so.11 is GPGME 1"
#endif
#define SONAME "libgpgme.so.11"
#define FAIL gpgme_error(GPG_ERR_NOT_SUPPORTED)
#define X gpgme_ctx_t ctx

#define GPGME_FUNCTIONS(F, V)                                                                                          \
	F(const char *, gpgme_check_version_internal, (const char *req, size_t offset), (req, offset), NULL)           \
	F(gpgme_error_t, gpgme_ctx_set_engine_info, (X, gpgme_protocol_t p, const char *file, const char *home),       \
	  (ctx, p, file, home), FAIL)                                                                                  \
	F(gpgme_error_t, gpgme_data_new, (gpgme_data_t * d), (d), FAIL)                                                \
	F(gpgme_error_t, gpgme_data_new_from_mem, (gpgme_data_t * d, const char *buf, size_t n, int copy),             \
	  (d, buf, n, copy), FAIL)                                                                                     \
	V(gpgme_data_release, (gpgme_data_t d), (d))                                                                   \
	F(char *, gpgme_data_release_and_get_mem, (gpgme_data_t d, size_t *n), (d, n), NULL)                           \
	V(gpgme_free, (void *p), (p))                                                                                  \
	V(gpgme_key_unref, (gpgme_key_t k), (k))                                                                       \
	F(gpgme_error_t, gpgme_new, (gpgme_ctx_t * ctx), (ctx), FAIL)                                                  \
	F(gpgme_error_t, gpgme_op_export, (X, const char *pattern, gpgme_export_mode_t mode, gpgme_data_t keys),       \
	  (ctx, pattern, mode, keys), FAIL)                                                                            \
	F(gpgme_error_t, gpgme_op_import, (X, gpgme_data_t keys), (ctx, keys), FAIL)                                   \
	F(gpgme_import_result_t, gpgme_op_import_result, (X), (ctx), NULL)                                             \
	F(gpgme_error_t, gpgme_op_keylist_end, (X), (ctx), FAIL)                                                       \
	F(gpgme_error_t, gpgme_op_keylist_next, (X, gpgme_key_t * k), (ctx, k), FAIL)                                  \
	F(gpgme_error_t, gpgme_op_keylist_start, (X, const char *pattern, int secret), (ctx, pattern, secret), FAIL)   \
	F(gpgme_error_t, gpgme_op_sign, (X, gpgme_data_t plain, gpgme_data_t sig, gpgme_sig_mode_t mode),              \
	  (ctx, plain, sig, mode), FAIL)                                                                               \
	F(gpgme_sign_result_t, gpgme_op_sign_result, (X), (ctx), NULL)                                                 \
	F(gpgme_error_t, gpgme_op_verify, (X, gpgme_data_t sig, gpgme_data_t text, gpgme_data_t plain),                \
	  (ctx, sig, text, plain), FAIL)                                                                               \
	F(gpgme_verify_result_t, gpgme_op_verify_result, (X), (ctx), NULL)                                             \
	V(gpgme_release, (X), (ctx))                                                                                   \
	V(gpgme_set_armor, (X, int yes), (ctx, yes))                                                                   \
	F(gpgme_error_t, gpgme_set_protocol, (X, gpgme_protocol_t p), (ctx, p), FAIL)                                  \
	V(gpgme_set_textmode, (X, int yes), (ctx, yes))                                                                \
	F(gpgme_error_t, gpgme_signers_add, (X, const gpgme_key_t k), (ctx, k), FAIL)                                  \
	F(const char *, gpgme_strerror, (gpgme_error_t e), (e), SONAME " cannot be loaded")

static struct {
	GPGME_FUNCTIONS(DK_LAZY_FIELD, DK_LAZY_VFIELD)
} fn;

static const char *const names[] = {GPGME_FUNCTIONS(DK_LAZY_NAME, DK_LAZY_VNAME)};

DK_LAZY_LIBRARY(SONAME);

GPGME_FUNCTIONS(DK_LAZY_DEFINE, DK_LAZY_VDEFINE)
