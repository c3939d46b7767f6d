/* copyright.c - machine-readable debian/copyright (DEP-5) to an SPDX expression (stub) */
#include <debkeep/err.h>

#include "banned.h"

extern int dk_stub_copyright;
int dk_stub_copyright;
