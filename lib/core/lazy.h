/* lazy.h - a shared library loaded at the first call of one of its functions (core/lazy*.c) */
#ifndef DK_CORE_LAZY_H
#define DK_CORE_LAZY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * One library: its soname, the names of the functions debkeep calls, and a
 * table of as many function pointers, filled in that order by the first
 * dk_lazy_have(). The wrappers keep the library's own names and
 * prototypes, so callers include the library's header and call it as
 * usual, and the compiler checks each wrapper against that header.
 */
struct dk_lazy {
	const char *soname;
	const char *const *names;
	size_t n;
	void *table;
	atomic_int state; /* 0 not tried, 1 loaded, 2 cannot be loaded */
};

#define DK_LAZY_INIT(soname, names, table)                                                                             \
	{ (soname), (names), sizeof(names) / sizeof((names)[0]), &(table), 0 }

/* Is the library loaded? The first call loads it, once for all threads; after that it reads one flag. */
bool dk_lazy_have(struct dk_lazy *l);

/*
 * A library's functions as one list, each written once:
 *   F(type, name, (parameters), (arguments), value when the library cannot be loaded)
 *   V(name, (parameters), (arguments))  for a function returning nothing
 * and the pieces built from it. A file defines
 * `static struct { LIST(DK_LAZY_FIELD, DK_LAZY_VFIELD) } fn` and the names
 * (DK_LAZY_NAME), then DK_LAZY_LIBRARY(soname) and the wrappers
 * (DK_LAZY_DEFINE); names are parenthesised so a function-like macro of
 * the same name stays out.
 */
#define DK_LAZY_LIBRARY(soname)                                                                                        \
	static struct dk_lazy lib = DK_LAZY_INIT(soname, names, fn);                                                   \
	_Static_assert(sizeof(fn) == sizeof(names) / sizeof(names[0]) * sizeof(void (*)(void)),                        \
		       "one name per function")
#define DK_LAZY_FIELD(type, name, params, args, fail) type(*name) params;
#define DK_LAZY_VFIELD(name, params, args) void(*name) params;
#define DK_LAZY_NAME(type, name, params, args, fail) #name,
#define DK_LAZY_VNAME(name, params, args) #name,
#define DK_LAZY_DEFINE(type, name, params, args, fail)                                                                 \
	type(name) params                                                                                              \
	{                                                                                                              \
		return dk_lazy_have(&lib) ? (fn.name)args : (fail);                                                    \
	}
#define DK_LAZY_VDEFINE(name, params, args)                                                                            \
	void(name) params                                                                                              \
	{                                                                                                              \
		if (dk_lazy_have(&lib))                                                                                \
			(fn.name) args;                                                                                \
	}

#endif
