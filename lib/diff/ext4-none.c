/* ext4-none.c - stands in for ext4.c where libext2fs (libext2fs-dev) was not found at build time */
#include "walk.h"

#include "banned.h"

int dkd_walk_ext4(struct dkd_side *s, const char *file, uint64_t offset, const char *prefix, int depth)
{
	return dk_err_set(&s->err, DK_EINPUT, "%s%s%s: an ext2/3/4 file system, and this debkeep was built "
			  "without libext2fs", s->name, prefix[0] ? ": " : "", prefix);
}
