/* lazy-crypto.c - OpenSSL's libcrypto, loaded at its first use instead of at every process start */
#include <stdio.h>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "banned.h"
#include "core/lazy.h"

/*
 * libcrypto's relocations cost 3 ms of every process start, while only
 * hashing and CMS signing use it. When it cannot be loaded, the
 * constructors and digests return NULL, the checks fail, and OpenSSL's
 * error queue stays empty.
 */
#if OPENSSL_VERSION_MAJOR != 3
#error "libcrypto.so.3 is OpenSSL 3"
#endif

#define CRYPTO_FUNCTIONS(F, V)                                                                                         \
	F(int, BIO_free, (BIO *b), (b), 0)                                                                             \
	F(BIO *, BIO_new_mem_buf, (const void *buf, int len), (buf, len), NULL)                                        \
	V(CMS_ContentInfo_free, (CMS_ContentInfo *c), (c))                                                             \
	F(STACK_OF(X509) *, CMS_get0_signers, (CMS_ContentInfo *c), (c), NULL)                                         \
	F(CMS_ContentInfo *, CMS_sign,                                                                                 \
	  (X509 *cert, EVP_PKEY *key, STACK_OF(X509) *certs, BIO *data, unsigned int flags),                           \
	  (cert, key, certs, data, flags), NULL)                                                                       \
	F(int, CMS_verify,                                                                                             \
	  (CMS_ContentInfo *c, STACK_OF(X509) *certs, X509_STORE *store, BIO *data, BIO *out, unsigned int flags),     \
	  (c, certs, store, data, out, flags), 0)                                                                      \
	V(CRYPTO_free, (void *p, const char *file, int line), (p, file, line))                                         \
	V(ERR_clear_error, (void), ())                                                                                 \
	V(ERR_error_string_n, (unsigned long e, char *buf, size_t len), (e, buf, len))                                 \
	F(unsigned long, ERR_get_error, (void), (), 0)                                                                 \
	F(int, EVP_DigestInit_ex, (EVP_MD_CTX *c, const EVP_MD *md, ENGINE *e), (c, md, e), 0)                         \
	F(int, EVP_DigestUpdate, (EVP_MD_CTX *c, const void *d, size_t n), (c, d, n), 0)                               \
	F(int, EVP_DigestFinal_ex, (EVP_MD_CTX *c, unsigned char *md, unsigned int *n), (c, md, n), 0)                 \
	V(EVP_MD_CTX_free, (EVP_MD_CTX *c), (c))                                                                       \
	F(EVP_MD_CTX *, EVP_MD_CTX_new, (void), (), NULL)                                                              \
	V(EVP_PKEY_free, (EVP_PKEY *k), (k))                                                                           \
	F(const EVP_MD *, EVP_md5, (void), (), NULL)                                                                   \
	F(const EVP_MD *, EVP_sha1, (void), (), NULL)                                                                  \
	F(const EVP_MD *, EVP_sha256, (void), (), NULL)                                                                \
	F(const EVP_MD *, EVP_sha512, (void), (), NULL)                                                                \
	V(OPENSSL_sk_free, (OPENSSL_STACK *s), (s))                                                                    \
	F(int, OPENSSL_sk_num, (const OPENSSL_STACK *s), (s), -1)                                                      \
	F(void *, OPENSSL_sk_value, (const OPENSSL_STACK *s, int i), (s, i), NULL)                                     \
	F(EVP_PKEY *, PEM_read_PrivateKey, (FILE *f, EVP_PKEY **k, pem_password_cb *cb, void *u), (f, k, cb, u), NULL) \
	F(X509 *, PEM_read_X509, (FILE *f, X509 **x, pem_password_cb *cb, void *u), (f, x, cb, u), NULL)               \
	F(char *, X509_NAME_oneline, (const X509_NAME *n, char *buf, int size), (n, buf, size), NULL)                  \
	V(X509_STORE_free, (X509_STORE *s), (s))                                                                       \
	F(int, X509_STORE_load_file, (X509_STORE *s, const char *file), (s, file), 0)                                  \
	F(X509_STORE *, X509_STORE_new, (void), (), NULL)                                                              \
	F(int, X509_STORE_set_purpose, (X509_STORE *s, int purpose), (s, purpose), 0)                                  \
	F(int, X509_check_private_key, (const X509 *x, const EVP_PKEY *k), (x, k), 0)                                  \
	V(X509_free, (X509 *x), (x))                                                                                   \
	F(X509_NAME *, X509_get_subject_name, (const X509 *x), (x), NULL)                                              \
	F(CMS_ContentInfo *, d2i_CMS_ContentInfo, (CMS_ContentInfo **c, const unsigned char **in, long n), (c, in, n), \
	  NULL)                                                                                                        \
	F(int, i2d_CMS_ContentInfo, (const CMS_ContentInfo *c, unsigned char **out), (c, out), -1)

static struct {
	CRYPTO_FUNCTIONS(DK_LAZY_FIELD, DK_LAZY_VFIELD)
} fn;

static const char *const names[] = {CRYPTO_FUNCTIONS(DK_LAZY_NAME, DK_LAZY_VNAME)};

DK_LAZY_LIBRARY("libcrypto.so.3");

CRYPTO_FUNCTIONS(DK_LAZY_DEFINE, DK_LAZY_VDEFINE)
