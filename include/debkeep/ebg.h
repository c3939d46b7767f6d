/* ebg.h - the EFI Boot Guard environment (BGENV.DAT): read, check, change and write it */
#ifndef DEBKEEP_EBG_H
#define DEBKEEP_EBG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

/*
 * The layout is efibootguard's struct _BG_ENVDATA (env/envdata.h, packed,
 * little-endian as UEFI is): two UTF-16 strings of DK_EBG_STRING_LEN units,
 * in_progress (u8), ustate (u8), watchdog_timeout_sec (u16), revision (u32),
 * DK_EBG_USERVARS_SIZE bytes of user variables, and a CRC-32 (zlib's) of
 * everything before it. The sizes are those of the efibootguard 0.13 that
 * Debian ships; a file of any other size is not an environment.
 */
#define DK_EBG_STRING_LEN 255
#define DK_EBG_USERVARS_SIZE 131072
#define DK_EBG_ENV_SIZE (4 * DK_EBG_STRING_LEN + 8 + DK_EBG_USERVARS_SIZE + 4)

enum dk_ebg_ustate {
	DK_EBG_USTATE_OK = 0,
	DK_EBG_USTATE_INSTALLED = 1,
	DK_EBG_USTATE_TESTING = 2,
	DK_EBG_USTATE_FAILED = 3,
	DK_EBG_USTATE_UNKNOWN = 4,
};

/* User variable types (efibootguard's include/ebgenv.h); the high 32 bits are the user's own flags. */
enum dk_ebg_vartype {
	DK_EBG_VAR_CHAR = 1,
	DK_EBG_VAR_UINT8 = 2,
	DK_EBG_VAR_UINT16 = 3,
	DK_EBG_VAR_UINT32 = 4,
	DK_EBG_VAR_UINT64 = 5,
	DK_EBG_VAR_SINT8 = 6,
	DK_EBG_VAR_SINT16 = 7,
	DK_EBG_VAR_SINT32 = 8,
	DK_EBG_VAR_SINT64 = 9,
	DK_EBG_VAR_STRING = 32,
	DK_EBG_VAR_BOOL = 64,
};

#define DK_EBG_VAR_STANDARD_MASK 0xffffffffu

/*
 * One environment, decoded field by field. The strings stay as the UTF-16
 * units on disk and the user variables as their bytes, so that changing one
 * field and writing the file back leaves every other byte as it was.
 */
struct dk_ebg_env {
	uint16_t kernel[DK_EBG_STRING_LEN];
	uint16_t args[DK_EBG_STRING_LEN];
	uint8_t in_progress;
	uint8_t ustate;
	uint16_t watchdog_sec;
	uint32_t revision;
	unsigned char uservars[DK_EBG_USERVARS_SIZE];
	uint32_t crc32; /* as read; set again by dk_ebg_env_encode */
};

/* A user variable, pointing into the environment's bytes. */
struct dk_ebg_var {
	const char *key;
	uint64_t type;
	const unsigned char *data;
	size_t len;
};

/* An empty environment: every field zero, no user variables (what bg_setenv starts from). */
void dk_ebg_env_init(struct dk_ebg_env *env);

/*
 * Decode and check n bytes: the size, the CRC and the chain of user
 * variables (each must lie inside the area). name is used in messages.
 * DK_EINPUT with a message saying what is wrong otherwise.
 */
int dk_ebg_env_decode(struct dk_ebg_env *env, const void *data, size_t n, const char *name,
		      struct dk_err *err);

/* Encode into out (DK_EBG_ENV_SIZE bytes) with a fresh CRC, which is also stored in env->crc32. */
void dk_ebg_env_encode(struct dk_ebg_env *env, unsigned char *out);

int dk_ebg_env_load(struct dk_ebg_env *env, const char *path, struct dk_err *err);
/* Encode and replace path atomically (a reader never sees a half-written environment). */
int dk_ebg_env_save(struct dk_ebg_env *env, const char *path, struct dk_err *err);

/*
 * A string field as text (appended to out). Units below 0x80 are ASCII;
 * 0xff80-0xffff are bytes that bg_setenv sign-extended from UTF-8 and become
 * those bytes again, as bg_printenv shows them; other units are UTF-16 and
 * become UTF-8 (a lone surrogate becomes U+FFFD).
 */
int dk_ebg_str_get(const uint16_t *units, struct dk_buf *out);

/*
 * Set a string field. Only printable ASCII is accepted, at most
 * DK_EBG_STRING_LEN - 1 characters: that is what bg_printenv reads back
 * unchanged. what names the field in messages.
 */
int dk_ebg_str_set(uint16_t *units, const char *s, const char *what, struct dk_err *err);

/* "OK", "INSTALLED", "TESTING", "FAILED", "UNKNOWN" (bg_printenv's words; above 4 is UNKNOWN). */
const char *dk_ebg_ustate_name(unsigned ustate);
/* A name (any case) or a number 0-4; DK_EINPUT if it is neither. */
int dk_ebg_ustate_parse(const char *s, uint8_t *ustate, struct dk_err *err);

/*
 * Walk the user variables of a decoded environment: start with *pos = 0;
 * returns 0 and fills var, or DK_NOTFOUND after the last one.
 */
int dk_ebg_var_next(const struct dk_ebg_env *env, size_t *pos, struct dk_ebg_var *var);
/* The variable named key, or DK_NOTFOUND. */
int dk_ebg_var_find(const struct dk_ebg_env *env, const char *key, struct dk_ebg_var *var);

/*
 * Set key to the string value (type DK_EBG_VAR_STRING, stored with its NUL,
 * as bg_setenv -x does), or delete key when value is NULL. A variable whose
 * record keeps its size is changed in place, otherwise it moves to the end,
 * as efibootguard does. The key must be non-empty and hold no '='.
 */
int dk_ebg_var_set(struct dk_ebg_env *env, const char *key, const char *value, struct dk_err *err);

/*
 * The value as text, as bg_printenv shows it: a string up to its NUL, a
 * number in decimal, a char, true/false; data of any other type (or too
 * short for its type) in hex. Sets *text to false in that last case.
 */
int dk_ebg_var_format(const struct dk_ebg_var *var, struct dk_buf *out, bool *text);

/* The type's name ("string", "uint32", "bool"...), or NULL for a type efibootguard does not define. */
const char *dk_ebg_vartype_name(uint64_t type);

#endif
