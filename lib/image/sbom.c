/* sbom.c - CycloneDX 1.5 and SPDX 2.3 SBOMs (stub) */
#include <debkeep/err.h>

#include "banned.h"

extern int dk_stub_sbom;
int dk_stub_sbom;
