/* tap.h - a tiny TAP harness for the unit tests (after dpkg's lib/dpkg/test.h) */
#ifndef DEBKEEP_TAP_H
#define DEBKEEP_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_count;
static int tap_failed;

__attribute__((format(printf, 2, 3))) static int tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_count++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	return cond;
}

#define ok(cond, ...) tap_ok(!!(cond), __VA_ARGS__)

#define is_int(got, want, ...)                                                                     \
	do {                                                                                       \
		long long tap_g_ = (long long)(got), tap_w_ = (long long)(want);                   \
		if (!ok(tap_g_ == tap_w_, __VA_ARGS__))                                            \
			printf("#   got %lld, want %lld\n", tap_g_, tap_w_);                           \
	} while (0)

#define is_str(got, want, ...)                                                                     \
	do {                                                                                       \
		const char *tap_g_ = (got), *tap_w_ = (want);                                      \
		if (!ok(tap_g_ && tap_w_ && strcmp(tap_g_, tap_w_) == 0, __VA_ARGS__))             \
			printf("#   got \"%s\", want \"%s\"\n", tap_g_ ? tap_g_ : "(null)",            \
			       tap_w_ ? tap_w_ : "(null)");                                        \
	} while (0)

/* A formatted path (or any short string): eight results stay valid at a time, so calls can nest. */
__attribute__((format(printf, 1, 2))) static inline char *tap_at(const char *fmt, ...)
{
	static char path[8][512];
	static int k;
	va_list ap;

	k = (k + 1) % 8;
	va_start(ap, fmt);
	vsnprintf(path[k], sizeof(path[k]), fmt, ap);
	va_end(ap);
	return path[k];
}

/* Print the plan after the tests and return the exit status for main(). */
static inline int tap_done(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}

#endif
