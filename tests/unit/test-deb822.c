/* test-deb822.c - unit tests for lib/deb/deb822.c (being written) */
#include "tap.h"

int main(void)
{
	ok(1, "placeholder");
	return tap_done();
}
