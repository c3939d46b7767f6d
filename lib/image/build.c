/* build.c - the image build: resolve in a snapshot, unpack or install, normalise, pack, manifest, SBOMs (stub) */
#include <debkeep/err.h>

#include "banned.h"

extern int dk_stub_build;
int dk_stub_build;
