/* ebg.c - the EFI Boot Guard environment (BGENV.DAT): decode, check, change, encode */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include <debkeep/ebg.h>
#include <debkeep/fs.h>

#include "banned.h"

/* Offsets in the file. */
#define OFF_ARGS (2 * DK_EBG_STRING_LEN)
#define OFF_IN_PROGRESS (4 * DK_EBG_STRING_LEN)
#define OFF_USTATE (OFF_IN_PROGRESS + 1)
#define OFF_WATCHDOG (OFF_IN_PROGRESS + 2)
#define OFF_REVISION (OFF_IN_PROGRESS + 4)
#define OFF_USERVARS (OFF_IN_PROGRESS + 8)
#define OFF_CRC (OFF_USERVARS + DK_EBG_USERVARS_SIZE)

/* A user variable's record after its key: u32 payload size (counting itself), u64 type, then the data. */
#define VAR_HEADER 12

static uint16_t get16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const unsigned char *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint32_t crc_of(const unsigned char *p, size_t n)
{
	/* zlib's crc32 takes a uInt length: the environment is far below that. */
	return (uint32_t)crc32(0L, p, (uInt)n);
}

void dk_ebg_env_init(struct dk_ebg_env *env)
{
	memset(env, 0, sizeof(*env));
}

/*
 * The chain of user variables must stay inside the area, or walking it
 * (efibootguard's bgenv_next_uservar, or ours) would read past it. A record
 * may end exactly at the end of the area; otherwise a zero byte ends the chain.
 */
static int check_uservars(const unsigned char *u, const char *name, struct dk_err *err)
{
	size_t pos = 0;

	while (pos < DK_EBG_USERVARS_SIZE && u[pos]) {
		const unsigned char *nul = memchr(u + pos, 0, DK_EBG_USERVARS_SIZE - pos);
		size_t at = OFF_USERVARS + pos, hdr;
		uint32_t payload;
		int klen;

		if (!nul)
			return dk_err_set(err, DK_EINPUT,
					  "%s: user variable at offset %zu: key not terminated", name, at);
		klen = (int)(nul - (u + pos));
		hdr = pos + (size_t)klen + 1;
		if (DK_EBG_USERVARS_SIZE - hdr < VAR_HEADER)
			return dk_err_set(err, DK_EINPUT,
					  "%s: user variable '%.*s' at offset %zu: header runs past the end "
					  "of the area",
					  name, klen > 64 ? 64 : klen, u + pos, at);
		payload = get32(u + hdr);
		if (payload < VAR_HEADER || payload > DK_EBG_USERVARS_SIZE - hdr)
			return dk_err_set(
				err, DK_EINPUT,
				"%s: user variable '%.*s' at offset %zu: size %u does not fit the area", name,
				klen > 64 ? 64 : klen, u + pos, at, payload);
		pos = hdr + payload;
	}
	return 0;
}

int dk_ebg_env_decode(struct dk_ebg_env *env, const void *data, size_t n, const char *name,
		      struct dk_err *err)
{
	const unsigned char *p = data;
	uint32_t stored, computed;

	if (n < DK_EBG_ENV_SIZE)
		return dk_err_set(err, DK_EINPUT, "%s: truncated: %zu bytes, an environment has %d", name, n,
				  DK_EBG_ENV_SIZE);
	if (n > DK_EBG_ENV_SIZE)
		return dk_err_set(err, DK_EINPUT, "%s: %zu bytes, an environment has %d: not a BGENV.DAT",
				  name, n, DK_EBG_ENV_SIZE);
	stored = get32(p + OFF_CRC);
	computed = crc_of(p, OFF_CRC);
	if (stored != computed)
		return dk_err_set(err, DK_EINPUT, "%s: CRC-32 mismatch: stored %08x, computed %08x", name,
				  stored, computed);
	for (int i = 0; i < DK_EBG_STRING_LEN; i++) {
		env->kernel[i] = get16(p + 2 * i);
		env->args[i] = get16(p + OFF_ARGS + 2 * i);
	}
	env->in_progress = p[OFF_IN_PROGRESS];
	env->ustate = p[OFF_USTATE];
	env->watchdog_sec = get16(p + OFF_WATCHDOG);
	env->revision = get32(p + OFF_REVISION);
	memcpy(env->uservars, p + OFF_USERVARS, DK_EBG_USERVARS_SIZE);
	env->crc32 = stored;
	return check_uservars(env->uservars, name, err);
}

void dk_ebg_env_encode(struct dk_ebg_env *env, unsigned char *out)
{
	for (int i = 0; i < DK_EBG_STRING_LEN; i++) {
		put16(out + 2 * i, env->kernel[i]);
		put16(out + OFF_ARGS + 2 * i, env->args[i]);
	}
	out[OFF_IN_PROGRESS] = env->in_progress;
	out[OFF_USTATE] = env->ustate;
	put16(out + OFF_WATCHDOG, env->watchdog_sec);
	put32(out + OFF_REVISION, env->revision);
	memcpy(out + OFF_USERVARS, env->uservars, DK_EBG_USERVARS_SIZE);
	env->crc32 = crc_of(out, OFF_CRC);
	put32(out + OFF_CRC, env->crc32);
}

/*
 * Not dk_read_file: that one decompresses whatever libarchive recognises,
 * and an environment is raw bytes whatever its first bytes look like. The
 * size is checked before reading, so a huge file is refused, not read.
 */
int dk_ebg_env_load(struct dk_ebg_env *env, const char *path, struct dk_err *err)
{
	unsigned char *buf = NULL;
	struct stat st;
	size_t got = 0;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return dk_err_errno(err, "%s", path);
	if (fstat(fd, &st)) {
		r = dk_err_errno(err, "%s", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = dk_err_set(err, DK_EINPUT, "%s: not a regular file", path);
		goto out;
	}
	if ((unsigned long long)st.st_size != DK_EBG_ENV_SIZE) {
		/* The wrong size is all decode looks at here: its message, without reading the file. */
		r = dk_ebg_env_decode(env, "", (size_t)st.st_size, path, err);
		goto out;
	}
	buf = malloc(DK_EBG_ENV_SIZE);
	if (!buf) {
		r = dk_err_set(err, DK_ENOMEM, "%s: out of memory", path);
		goto out;
	}
	while (got < DK_EBG_ENV_SIZE) {
		ssize_t n = read(fd, buf + got, DK_EBG_ENV_SIZE - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = dk_err_errno(err, "%s", path);
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	r = dk_ebg_env_decode(env, buf, got, path, err);
out:
	free(buf);
	close(fd);
	return r;
}

int dk_ebg_env_save(struct dk_ebg_env *env, const char *path, struct dk_err *err)
{
	unsigned char *buf = malloc(DK_EBG_ENV_SIZE);
	int r;

	if (!buf)
		return dk_err_set(err, DK_ENOMEM, "%s: out of memory", path);
	dk_ebg_env_encode(env, buf);
	r = dk_write_file_atomic(path, buf, DK_EBG_ENV_SIZE, 0644, err);
	free(buf);
	return r;
}

static int add_utf8(struct dk_buf *out, uint32_t c)
{
	char s[4];
	size_t n;

	if (c < 0x80) {
		s[0] = (char)c;
		n = 1;
	} else if (c < 0x800) {
		s[0] = (char)(0xc0 | c >> 6);
		s[1] = (char)(0x80 | (c & 0x3f));
		n = 2;
	} else if (c < 0x10000) {
		s[0] = (char)(0xe0 | c >> 12);
		s[1] = (char)(0x80 | (c >> 6 & 0x3f));
		s[2] = (char)(0x80 | (c & 0x3f));
		n = 3;
	} else {
		s[0] = (char)(0xf0 | c >> 18);
		s[1] = (char)(0x80 | (c >> 12 & 0x3f));
		s[2] = (char)(0x80 | (c >> 6 & 0x3f));
		s[3] = (char)(0x80 | (c & 0x3f));
		n = 4;
	}
	return dk_buf_add(out, s, n);
}

/* The last unit is never read: efibootguard's tools force it to NUL, so a string has at most 254 units. */
int dk_ebg_str_get(const uint16_t *units, struct dk_buf *out)
{
	for (int i = 0; i < DK_EBG_STRING_LEN - 1 && units[i]; i++) {
		uint32_t u = units[i];

		if (u < 0x80 || u >= 0xff80) {
			dk_buf_addc(out, (char)(u & 0xff));
		} else if (u >= 0xd800 && u < 0xdc00 && i + 1 < DK_EBG_STRING_LEN - 1 &&
			   units[i + 1] >= 0xdc00 && units[i + 1] < 0xe000) {
			add_utf8(out, 0x10000 + ((u - 0xd800) << 10) + (units[i + 1] - 0xdc00u));
			i++;
		} else if (u >= 0xd800 && u < 0xe000) {
			add_utf8(out, 0xfffd);
		} else {
			add_utf8(out, u);
		}
	}
	return out->failed ? DK_ENOMEM : 0;
}

int dk_ebg_str_set(uint16_t *units, const char *s, const char *what, struct dk_err *err)
{
	size_t n = strlen(s);

	if (n > DK_EBG_STRING_LEN - 1)
		return dk_err_set(err, DK_EINPUT, "%s: %zu characters, at most %d fit", what, n,
				  DK_EBG_STRING_LEN - 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c > 0x7e)
			return dk_err_set(
				err, DK_EINPUT,
				"%s: byte 0x%02x at %zu is not printable ASCII (EFI Boot Guard's tools "
				"store one byte per UTF-16 unit)",
				what, c, i);
	}
	memset(units, 0, DK_EBG_STRING_LEN * sizeof(*units));
	for (size_t i = 0; i < n; i++)
		units[i] = (unsigned char)s[i];
	return 0;
}

static const char *const ustate_names[] = { "OK", "INSTALLED", "TESTING", "FAILED", "UNKNOWN" };

const char *dk_ebg_ustate_name(unsigned ustate)
{
	return ustate_names[ustate > DK_EBG_USTATE_UNKNOWN ? DK_EBG_USTATE_UNKNOWN : ustate];
}

int dk_ebg_ustate_parse(const char *s, uint8_t *ustate, struct dk_err *err)
{
	for (unsigned i = 0; i <= DK_EBG_USTATE_UNKNOWN; i++) {
		if (strcasecmp(s, ustate_names[i]) == 0 || (s[0] == (char)('0' + i) && !s[1])) {
			*ustate = (uint8_t)i;
			return 0;
		}
	}
	return dk_err_set(err, DK_EINPUT,
			  "ustate: '%s' is not one of ok, installed, testing, failed, unknown or 0-4", s);
}

int dk_ebg_var_next(const struct dk_ebg_env *env, size_t *pos, struct dk_ebg_var *var)
{
	const unsigned char *u = env->uservars;
	size_t p = *pos, klen, hdr;
	uint32_t payload;

	if (p >= DK_EBG_USERVARS_SIZE || !u[p])
		return DK_NOTFOUND;
	klen = strlen((const char *)u + p);
	hdr = p + klen + 1;
	payload = get32(u + hdr);
	var->key = (const char *)u + p;
	var->type = get64(u + hdr + 4);
	var->data = u + hdr + VAR_HEADER;
	var->len = payload - VAR_HEADER;
	*pos = hdr + payload;
	return 0;
}

/* Where key's record starts and how long it is; DK_NOTFOUND if absent. *end is where the chain ends. */
static int locate(const struct dk_ebg_env *env, const char *key, size_t *at, size_t *size, size_t *end)
{
	struct dk_ebg_var var;
	size_t pos = 0, start = 0;
	int r = DK_NOTFOUND;

	while (dk_ebg_var_next(env, &pos, &var) == 0) {
		if (r == DK_NOTFOUND && strcmp(var.key, key) == 0) {
			*at = start;
			*size = pos - start;
			r = 0;
		}
		start = pos;
	}
	*end = start;
	return r;
}

int dk_ebg_var_find(const struct dk_ebg_env *env, const char *key, struct dk_ebg_var *var)
{
	size_t at, size, end;

	if (locate(env, key, &at, &size, &end))
		return DK_NOTFOUND;
	return dk_ebg_var_next(env, &at, var);
}

int dk_ebg_var_set(struct dk_ebg_env *env, const char *key, const char *value, struct dk_err *err)
{
	unsigned char *u = env->uservars;
	size_t klen = strlen(key), at = 0, size = 0, end, rec;
	bool found;

	if (!klen)
		return dk_err_set(err, DK_EINPUT, "user variable: empty name");
	for (size_t i = 0; i < klen; i++) {
		unsigned char c = (unsigned char)key[i];

		/* bg_printenv prints "key=value" lines: a key with '=' or blanks could not be read back. */
		if (c <= 0x20 || c >= 0x7f || c == '=')
			return dk_err_set(
				err, DK_EINPUT,
				"user variable '%s': names are printable ASCII without blanks or '='", key);
	}
	found = locate(env, key, &at, &size, &end) == 0;
	if (!value) {
		if (found) {
			memmove(u + at, u + at + size, end - at - size);
			memset(u + end - size, 0, size);
		}
		return 0;
	}
	rec = klen + 1 + VAR_HEADER + strlen(value) + 1;
	if (found && size != rec) {
		memmove(u + at, u + at + size, end - at - size);
		memset(u + end - size, 0, size);
		end -= size;
		found = false;
	}
	if (!found) {
		/* One byte stays free after the last record: the zero that ends the chain. */
		if (rec >= DK_EBG_USERVARS_SIZE - end)
			return dk_err_set(err, DK_EINPUT, "user variable '%s': %zu bytes needed, %zu free",
					  key, rec,
					  DK_EBG_USERVARS_SIZE - end - (end < DK_EBG_USERVARS_SIZE));
		at = end;
		/* The bytes after the chain may hold leftovers: end the chain again after the new record. */
		u[at + rec] = 0;
	}
	memcpy(u + at, key, klen + 1);
	put32(u + at + klen + 1, (uint32_t)(rec - klen - 1));
	put64(u + at + klen + 1 + 4, DK_EBG_VAR_STRING);
	memcpy(u + at + klen + 1 + VAR_HEADER, value, strlen(value) + 1);
	return 0;
}

const char *dk_ebg_vartype_name(uint64_t type)
{
	switch (type & DK_EBG_VAR_STANDARD_MASK) {
	case DK_EBG_VAR_CHAR:
		return "char";
	case DK_EBG_VAR_UINT8:
		return "uint8";
	case DK_EBG_VAR_UINT16:
		return "uint16";
	case DK_EBG_VAR_UINT32:
		return "uint32";
	case DK_EBG_VAR_UINT64:
		return "uint64";
	case DK_EBG_VAR_SINT8:
		return "int8";
	case DK_EBG_VAR_SINT16:
		return "int16";
	case DK_EBG_VAR_SINT32:
		return "int32";
	case DK_EBG_VAR_SINT64:
		return "int64";
	case DK_EBG_VAR_STRING:
		return "string";
	case DK_EBG_VAR_BOOL:
		return "bool";
	default:
		return NULL;
	}
}

static uint64_t get_n(const unsigned char *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = n; i-- > 0;)
		v = v << 8 | p[i];
	return v;
}

int dk_ebg_var_format(const struct dk_ebg_var *var, struct dk_buf *out, bool *text)
{
	uint64_t t = var->type & DK_EBG_VAR_STANDARD_MASK;
	size_t width = 0;

	*text = true;
	if (t >= DK_EBG_VAR_UINT8 && t <= DK_EBG_VAR_SINT64)
		width = (size_t)1 << ((t - DK_EBG_VAR_UINT8) % 4);
	else if (t == DK_EBG_VAR_CHAR || t == DK_EBG_VAR_BOOL)
		width = 1;
	if (t == DK_EBG_VAR_STRING) {
		const unsigned char *nul = memchr(var->data, 0, var->len);

		dk_buf_add(out, var->data, nul ? (size_t)(nul - var->data) : var->len);
	} else if (width && var->len >= width) {
		uint64_t v = get_n(var->data, width);

		if (t == DK_EBG_VAR_CHAR)
			dk_buf_addc(out, (char)v);
		else if (t == DK_EBG_VAR_BOOL)
			dk_buf_adds(out, v ? "true" : "false");
		else if (t <= DK_EBG_VAR_UINT64)
			dk_buf_addf(out, "%llu", (unsigned long long)v);
		else if (width < 8 && (v >> (8 * width - 1)))
			dk_buf_addf(out, "%lld",
				    (long long)v - (1LL << (8 * width - 1)) - (1LL << (8 * width - 1)));
		else
			dk_buf_addf(out, "%lld", (long long)v);
	} else {
		*text = false;
		for (size_t i = 0; i < var->len; i++)
			dk_buf_addf(out, "%02x", var->data[i]);
	}
	return out->failed ? DK_ENOMEM : 0;
}
