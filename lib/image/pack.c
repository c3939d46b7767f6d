/* pack.c - reproducible pax tar of a root (stub) */
#include <debkeep/err.h>

#include "banned.h"

extern int dk_stub_pack;
int dk_stub_pack;
