/* lazy.c - the loader behind core/lazy.h: a library's functions resolved at their first call */
#include <dlfcn.h>
#include <pthread.h>
#include <string.h>

#include "banned.h"
#include "core/lazy.h"

/*
 * Linked normally, the libraries only some commands use (libarchive,
 * libcrypto, libcurl, libmicrohttpd) bring over fifty shared objects that
 * the dynamic loader maps and relocates before main, most of the start of
 * every command. The library calls these functions by their usual names
 * and gets them from core/lazy-*.c; the first call of a library's
 * functions loads it and resolves all its functions at once, so later
 * calls from other threads (serve's request handlers, import's writers)
 * only read a flag and the table. A library is looked up by the process's
 * view of the file system: code that chroots (image/install.c) only
 * execs there, and must never be the first to call one of these.
 */

/* The table is a struct of function pointers only, filled in the order of the names; false leaves it zero. */
static bool load(const struct dk_lazy *l)
{
	void *h = dlopen(l->soname, RTLD_NOW | RTLD_LOCAL);

	if (!h)
		return false;
	for (size_t i = 0; i < l->n; i++) {
		void (*f)(void) = (void (*)(void))dlsym(h, l->names[i]);

		if (!f) {
			memset(l->table, 0, l->n * sizeof(f));
			dlclose(h);
			return false;
		}
		memcpy((char *)l->table + i * sizeof(f), &f, sizeof(f));
	}
	return true;
}

bool dk_lazy_have(struct dk_lazy *l)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	int state = atomic_load_explicit(&l->state, memory_order_acquire);

	if (state == 0) {
		pthread_mutex_lock(&lock);
		if ((state = atomic_load_explicit(&l->state, memory_order_relaxed)) == 0) {
			state = load(l) ? 1 : 2;
			atomic_store_explicit(&l->state, state, memory_order_release);
		}
		pthread_mutex_unlock(&lock);
	}
	return state == 1;
}
