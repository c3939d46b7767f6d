/* check.c - the data root check (fsck): objects, rows, published trees (stub) */
#include <debkeep/err.h>

#include "banned.h"

extern int dk_stub_check;
int dk_stub_check;
