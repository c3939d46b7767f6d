/* deb822.c - (being written) */
#include <debkeep/err.h>
