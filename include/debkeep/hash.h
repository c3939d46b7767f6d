/* hash.h - message digests through OpenSSL libcrypto */
#ifndef DEBKEEP_HASH_H
#define DEBKEEP_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

enum dk_hash_algo { DK_MD5, DK_SHA1, DK_SHA256, DK_SHA512, DK_HASH_ALGO_COUNT };

#define DK_HASH_MAX 64

struct dk_hash {
	enum dk_hash_algo algo;
	void *ctx; /* EVP_MD_CTX */
};

size_t dk_hash_size(enum dk_hash_algo algo);
const char *dk_hash_name(enum dk_hash_algo algo); /* "MD5Sum", "SHA1", "SHA256", "SHA512" as in Release files */

int dk_hash_init(struct dk_hash *h, enum dk_hash_algo algo, struct dk_err *err);
int dk_hash_update(struct dk_hash *h, const void *p, size_t n, struct dk_err *err);
/* Writes dk_hash_size() bytes to out and releases the context. */
int dk_hash_final(struct dk_hash *h, unsigned char *out, struct dk_err *err);
void dk_hash_release(struct dk_hash *h);

int dk_hash_mem(enum dk_hash_algo algo, const void *p, size_t n, unsigned char *out, struct dk_err *err);
int dk_hash_file(enum dk_hash_algo algo, const char *path, unsigned char *out, struct dk_err *err);

/* Lower-case hex of n bytes into out, which must hold 2n+1 bytes. */
void dk_hex(const unsigned char *p, size_t n, char *out);

#endif
