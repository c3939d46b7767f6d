/* verify.c - OpenPGP verification of Release files against one keyring (stub) */
#include <debkeep/err.h>

#include "banned.h"

extern int dk_stub_verify;
int dk_stub_verify;
