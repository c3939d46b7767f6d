/* lock.c - (being written) */
#include <debkeep/err.h>
