/* fuzz-relation.c - libFuzzer target for the relation parser: every flag set, slices checked, flags monotonic */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <debkeep/arena.h>
#include <debkeep/err.h>
#include <debkeep/relation.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const unsigned flag_sets[] = {
	0,
	DK_REL_ALLOW_ALTERNATIVES,
	DK_REL_ALLOW_ARCHLIST,
	DK_REL_ALLOW_PROFILES,
	DK_REL_PROVIDES,
	DK_REL_BINARY,
	DK_REL_SOURCE,
};

static void check(bool cond)
{
	if (!cond)
		abort();
}

static void check_slice(struct dk_slice sl, const char *s, size_t len, bool nonempty)
{
	check(!nonempty || sl.n > 0);
	if (sl.n)
		check(sl.p >= s && sl.p <= s + len && sl.n <= (size_t)(s + len - sl.p));
}

static void check_relation(const struct dk_relation *rel, const char *s, size_t len, unsigned flags)
{
	check(rel->count == 0 || rel->groups != NULL);
	for (size_t g = 0; g < rel->count; g++) {
		const struct dk_dep_group *grp = &rel->groups[g];

		check(grp->count > 0 && grp->alts != NULL);
		check(grp->count == 1 || (flags & DK_REL_ALLOW_ALTERNATIVES));
		for (size_t a = 0; a < grp->count; a++) {
			const struct dk_dep_atom *at = &grp->alts[a];

			check_slice(at->name, s, len, true);
			check_slice(at->archqual, s, len, false);
			check(at->archqual.n == 0 || (flags & DK_REL_ALLOW_ARCHQUAL));
			check(at->op >= DK_REL_ANY && at->op <= DK_REL_GT);
			check((at->op == DK_REL_ANY) == (at->version.n == 0));
			check_slice(at->version, s, len, false);
			check(at->arches.count == 0 || (flags & DK_REL_ALLOW_ARCHLIST));
			for (size_t i = 0; i < at->arches.count; i++)
				check_slice(at->arches.archs[i], s, len, true);
			check(at->nprofiles == 0 || (flags & DK_REL_ALLOW_PROFILES));
			check((at->nprofiles == 0) == (at->profiles == NULL));
			for (size_t i = 0; i < at->nprofiles; i++) {
				check(at->profiles[i].count > 0);
				for (size_t j = 0; j < at->profiles[i].count; j++)
					check_slice(at->profiles[i].terms[j].name, s, len, true);
			}
		}
	}
}

static bool same_slice(struct dk_slice a, struct dk_slice b)
{
	return a.p == b.p && a.n == b.n;
}

/* Allowing more can only accept more, and never changes what an accepted field means. */
static void check_same(const struct dk_relation *a, const struct dk_relation *b)
{
	check(a->count == b->count);
	for (size_t g = 0; g < a->count; g++) {
		check(a->groups[g].count == b->groups[g].count);
		for (size_t i = 0; i < a->groups[g].count; i++) {
			const struct dk_dep_atom *x = &a->groups[g].alts[i], *y = &b->groups[g].alts[i];

			check(same_slice(x->name, y->name) && same_slice(x->archqual, y->archqual) &&
			      same_slice(x->version, y->version) && x->op == y->op &&
			      x->deprecated_op == y->deprecated_op && x->arches.count == y->arches.count &&
			      x->nprofiles == y->nprofiles);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct dk_arena widest_arena = DK_ARENA_INIT;
	struct dk_relation widest;
	struct dk_err err = DK_ERR_INIT;
	int widest_rc;

	widest_rc = dk_relation_parse(s, size, DK_REL_SOURCE, &widest_arena, &widest, &err);
	check(widest_rc == 0 || widest_rc == DK_EINPUT);
	check(memchr(err.msg, '\0', sizeof(err.msg)) != NULL);
	check(widest_rc == 0 || err.msg[0] != '\0');
	if (widest_rc == 0)
		check_relation(&widest, s, size, DK_REL_SOURCE);

	for (size_t f = 0; f < sizeof(flag_sets) / sizeof(flag_sets[0]); f++) {
		struct dk_arena arena = DK_ARENA_INIT;
		struct dk_relation rel;
		int rc;

		dk_err_clear(&err);
		rc = dk_relation_parse(s, size, flag_sets[f], &arena, &rel, &err);
		check(rc == 0 || rc == DK_EINPUT);
		check(rc == 0 || err.msg[0] != '\0');
		if (rc == 0) {
			check_relation(&rel, s, size, flag_sets[f]);
			check(widest_rc == 0);
			check_same(&rel, &widest);
		}
		dk_arena_release(&arena);
	}
	dk_arena_release(&widest_arena);
	return 0;
}
