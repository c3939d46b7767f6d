/* fetch.c - parallel, verified, resumable HTTP downloads through libcurl (stub) */
#include <debkeep/fetch.h>

#include "banned.h"

int dk_fetch_run(struct dk_fetch_item *items, size_t n, const struct dk_fetch_opts *opts, struct dk_err *err)
{
	(void)items;
	(void)n;
	(void)opts;
	return dk_err_set(err, DK_EINTERNAL, "fetch: not built yet");
}

void dk_fetch_items_release(struct dk_fetch_item *items, size_t n)
{
	(void)items;
	(void)n;
}
