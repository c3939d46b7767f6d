/* hash.c - MD5/SHA digests through OpenSSL's EVP interface */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <debkeep/hash.h>

#include "banned.h"

static const struct {
	const char *release_name;
	size_t size;
} algos[DK_HASH_ALGO_COUNT] = {
	[DK_MD5] = { "MD5Sum", 16 },
	[DK_SHA1] = { "SHA1", 20 },
	[DK_SHA256] = { "SHA256", 32 },
	[DK_SHA512] = { "SHA512", 64 },
};

static const EVP_MD *evp_of(enum dk_hash_algo algo)
{
	switch (algo) {
	case DK_MD5:
		return EVP_md5();
	case DK_SHA1:
		return EVP_sha1();
	case DK_SHA256:
		return EVP_sha256();
	case DK_SHA512:
		return EVP_sha512();
	default:
		return NULL;
	}
}

size_t dk_hash_size(enum dk_hash_algo algo)
{
	return algo < DK_HASH_ALGO_COUNT ? algos[algo].size : 0;
}

const char *dk_hash_name(enum dk_hash_algo algo)
{
	return algo < DK_HASH_ALGO_COUNT ? algos[algo].release_name : "?";
}

int dk_hash_init(struct dk_hash *h, enum dk_hash_algo algo, struct dk_err *err)
{
	const EVP_MD *md = evp_of(algo);
	EVP_MD_CTX *ctx;

	h->algo = algo;
	h->ctx = NULL;
	if (!md)
		return dk_err_set(err, DK_EINTERNAL, "unknown hash algorithm %d", (int)algo);
	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return dk_err_set(err, DK_ENOMEM, "hash: out of memory");
	if (EVP_DigestInit_ex(ctx, md, NULL) != 1) {
		EVP_MD_CTX_free(ctx);
		return dk_err_set(err, DK_EINTERNAL, "%s: digest initialisation failed", algos[algo].release_name);
	}
	h->ctx = ctx;
	return 0;
}

int dk_hash_update(struct dk_hash *h, const void *p, size_t n, struct dk_err *err)
{
	if (EVP_DigestUpdate(h->ctx, p, n) != 1)
		return dk_err_set(err, DK_EINTERNAL, "%s: digest update failed", algos[h->algo].release_name);
	return 0;
}

int dk_hash_final(struct dk_hash *h, unsigned char *out, struct dk_err *err)
{
	int ok = EVP_DigestFinal_ex(h->ctx, out, NULL) == 1;

	dk_hash_release(h);
	if (!ok)
		return dk_err_set(err, DK_EINTERNAL, "%s: digest finalisation failed", algos[h->algo].release_name);
	return 0;
}

void dk_hash_release(struct dk_hash *h)
{
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
}

int dk_hash_mem(enum dk_hash_algo algo, const void *p, size_t n, unsigned char *out, struct dk_err *err)
{
	struct dk_hash h;
	int r = dk_hash_init(&h, algo, err);

	if (r)
		return r;
	r = dk_hash_update(&h, p, n, err);
	if (r) {
		dk_hash_release(&h);
		return r;
	}
	return dk_hash_final(&h, out, err);
}

int dk_hash_file(enum dk_hash_algo algo, const char *path, unsigned char *out, struct dk_err *err)
{
	unsigned char block[1 << 16];
	struct dk_hash h;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return dk_err_errno(err, "%s", path);
	r = dk_hash_init(&h, algo, err);
	while (!r) {
		ssize_t n = read(fd, block, sizeof(block));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = dk_err_errno(err, "%s", path);
			break;
		}
		if (n == 0) {
			r = dk_hash_final(&h, out, err);
			close(fd);
			return r;
		}
		r = dk_hash_update(&h, block, (size_t)n, err);
	}
	dk_hash_release(&h);
	close(fd);
	return r;
}

void dk_hex(const unsigned char *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}
