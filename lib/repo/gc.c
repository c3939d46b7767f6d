/* gc.c - garbage collection of unreferenced objects (stub) */
#include <debkeep/err.h>

#include "banned.h"

extern int dk_stub_gc;
int dk_stub_gc;
