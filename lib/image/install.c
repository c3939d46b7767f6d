/* install.c - root mode: install with the image's own dpkg in a chroot (stub) */
#include <debkeep/err.h>

#include "banned.h"

extern int dk_stub_install;
int dk_stub_install;
