/* mirror.c - mirrors of upstream apt repositories (stub) */
#include <debkeep/err.h>

#include "banned.h"

extern int dk_stub_mirror;
int dk_stub_mirror;
