/* sign.c - InRelease (clearsigned) and Release.gpg (armored detached) through gpgme */
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include <gpgme.h>

#include <debkeep/publish.h>

#include "banned.h"

static int gpg_fail(struct dk_err *err, const char *what, gpgme_error_t e)
{
	return dk_err_set(err, DK_EIO, "%s: %s", what, gpgme_strerror(e));
}

/* Move gpgme's buffer into a malloc'd one, so callers free it with free(). */
static int take(gpgme_data_t d, char **out, size_t *len, struct dk_err *err)
{
	size_t n = 0;
	char *p = gpgme_data_release_and_get_mem(d, &n);

	if (!p || n == 0) {
		gpgme_free(p);
		return dk_err_set(err, DK_EIO, "signing produced no output");
	}
	*out = malloc(n);
	if (!*out) {
		gpgme_free(p);
		return dk_err_set(err, DK_ENOMEM, "out of memory");
	}
	memcpy(*out, p, n);
	*len = n;
	gpgme_free(p);
	return 0;
}

static int sign_one(gpgme_ctx_t ctx, const char *release, size_t len, gpgme_sig_mode_t mode, char **out,
		    size_t *out_len, struct dk_err *err)
{
	gpgme_data_t in, sig;
	gpgme_sign_result_t res;
	gpgme_error_t e;

	if ((e = gpgme_data_new_from_mem(&in, release, len, 0)))
		return gpg_fail(err, "gpgme_data_new_from_mem", e);
	if ((e = gpgme_data_new(&sig))) {
		gpgme_data_release(in);
		return gpg_fail(err, "gpgme_data_new", e);
	}
	e = gpgme_op_sign(ctx, in, sig, mode);
	gpgme_data_release(in);
	res = e ? NULL : gpgme_op_sign_result(ctx);
	if (e || !res || res->invalid_signers || !res->signatures) {
		gpgme_data_release(sig);
		if (!e && res && res->invalid_signers)
			e = res->invalid_signers->reason;
		return gpg_fail(err, mode == GPGME_SIG_MODE_CLEAR ? "InRelease" : "Release.gpg", e);
	}
	return take(sig, out, out_len, err);
}

int dk_sign_release(const char *release, size_t len, const char *key, const char *gnupghome, char **inrelease,
		    size_t *inrelease_len, char **detached, size_t *detached_len, struct dk_err *err)
{
	gpgme_ctx_t ctx;
	gpgme_key_t k = NULL;
	gpgme_error_t e;
	int r;

	*inrelease = *detached = NULL;
	gpgme_check_version(NULL);
	if ((e = gpgme_new(&ctx)))
		return gpg_fail(err, "gpgme_new", e);
	if ((e = gpgme_set_protocol(ctx, GPGME_PROTOCOL_OpenPGP)) ||
	    (gnupghome && (e = gpgme_ctx_set_engine_info(ctx, GPGME_PROTOCOL_OpenPGP, NULL, gnupghome)))) {
		r = gpg_fail(err, "gpgme engine", e);
		goto out;
	}
	gpgme_set_armor(ctx, 1);
	gpgme_set_textmode(ctx, 0);
	/* A key list rather than gpgme_get_key: the user may name the key by id, fingerprint or user id. */
	if ((e = gpgme_op_keylist_start(ctx, key, 1)) || (e = gpgme_op_keylist_next(ctx, &k))) {
		r = dk_err_set(err, DK_EINPUT, "signing key '%s': %s", key,
			       gpgme_err_code(e) == GPG_ERR_EOF ? "no such secret key" : gpgme_strerror(e));
		goto out;
	}
	gpgme_op_keylist_end(ctx);
	if ((e = gpgme_signers_add(ctx, k))) {
		r = gpg_fail(err, "gpgme_signers_add", e);
		goto out;
	}
	if ((r = sign_one(ctx, release, len, GPGME_SIG_MODE_CLEAR, inrelease, inrelease_len, err)) < 0 ||
	    (r = sign_one(ctx, release, len, GPGME_SIG_MODE_DETACH, detached, detached_len, err)) < 0) {
		free(*inrelease);
		*inrelease = NULL;
	}
out:
	if (k)
		gpgme_key_unref(k);
	gpgme_release(ctx);
	return r;
}
