/* normalise.c - removing the known causes of non-reproducible images (stub) */
#include <debkeep/err.h>

#include "banned.h"

extern int dk_stub_normalise;
int dk_stub_normalise;
