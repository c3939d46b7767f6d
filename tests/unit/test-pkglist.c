/* test-pkglist.c - unit tests for lib/deb/pkglist.c (being written) */
#include "tap.h"

int main(void)
{
	ok(1, "placeholder");
	return tap_done();
}
