/* unpack.c - safe unpacking of a .deb data.tar into a staging root (stub) */
#include <debkeep/err.h>

#include "banned.h"

extern int dk_stub_unpack;
int dk_stub_unpack;
