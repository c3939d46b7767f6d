/* resolve.c - the dependency closure of a package list, marked the way apt's MarkInstall marks it */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <debkeep/resolve.h>

#include "banned.h"

/*
 * The walk mirrors pkgDepCache::MarkInstall in apt 2.6 (bookworm) for an
 * empty dpkg status and --no-install-recommends, so that the closure is the
 * one `apt-get install` computes; docs/resolver.md lists the rules:
 *  - requested packages are all marked first, then each is completed in turn;
 *  - a package's dependency groups are handled in field order (Depends, then
 *    Pre-Depends, as apt stores them), depth first;
 *  - a group already satisfied by a marked package is skipped;
 *  - otherwise its solutions are tried in order: the alternatives left to
 *    right, each alternative's own candidate then its providers, sorted as
 *    apt's CompareProviders sorts them; the first that can be marked wins;
 *  - a package one of whose dependency groups no candidate can satisfy is
 *    not installable (apt discards its candidate for the rest of the run);
 *  - a package whose dependencies fail to mark is unmarked again, and the
 *    next solution is tried;
 *  - Conflicts and Breaks of a package being marked unmark the packages they
 *    hit, as apt's MarkInstall_RemoveConflictsIfNotUpgradeable does.
 */

enum { MODE_NONE = 0, MODE_INSTALL = 1 };

struct deps {
	struct dk_relation depends;
	struct dk_relation pre_depends;
	struct dk_relation conflicts;
	struct dk_relation breaks;
};

struct name_state {
	uint32_t cand;   /* candidate pkg index + 1; 0: none, or discarded */
	uint8_t mode;
	bool requested;
	bool excluded;
	bool user;       /* marked from the list, not as a dependency */
	struct deps *deps; /* parsed on first use */
};

struct solver {
	const struct dk_index *idx;
	struct name_state *st;
	uint32_t nnames;
	struct dk_resolution *res;
	struct dk_arena *arena;
	/* the chain of packages being marked, for reasons and error messages */
	dk_id *stack;
	uint32_t depth;
	uint32_t stack_alloc;
	/* the first failure in the current top-level attempt */
	struct dk_buf failure;
	bool have_failure;
	int internal; /* a non-input error (out of memory, malformed field) ends the walk */
	struct dk_err *err;
};

static const struct dk_pkg *cand_pkg(const struct solver *s, dk_id name)
{
	if (name == 0 || name >= s->nnames || !s->st[name].cand)
		return NULL;
	return &s->idx->pkgs[s->st[name].cand - 1];
}

static dk_id lookup(const struct solver *s, struct dk_slice n)
{
	dk_id id = dk_strpool_lookup(&s->idx->names, n.p, n.n);

	return id < s->nnames ? id : 0;
}

static int parse_field(struct solver *s, const struct dk_pkg *pkg, struct dk_slice f, unsigned flags,
		       const char *what, struct dk_relation *out)
{
	char where[512];
	int r;

	if (!f.n)
		return 0;
	r = dk_relation_parse(f.p, f.n, flags, s->arena, out, s->err);
	if (r) {
		dk_err_prefix(s->err, "%s: %s", dk_index_where(s->idx, pkg, where, sizeof(where)), what);
		s->internal = r;
	}
	return r;
}

static struct deps *deps_of(struct solver *s, dk_id name)
{
	struct name_state *ns = &s->st[name];
	const struct dk_pkg *pkg = cand_pkg(s, name);
	struct dk_slice conflicts, breaks;

	if (ns->deps || !pkg)
		return ns->deps;
	ns->deps = dk_arena_zalloc(s->arena, sizeof(*ns->deps));
	if (!ns->deps) {
		s->internal = dk_err_set(s->err, DK_ENOMEM, "resolve: out of memory");
		return NULL;
	}
	if (dk_pkg_field(pkg, "Conflicts", &conflicts))
		conflicts.n = 0;
	if (dk_pkg_field(pkg, "Breaks", &breaks))
		breaks.n = 0;
	if (parse_field(s, pkg, pkg->depends, DK_REL_BINARY, "Depends", &ns->deps->depends) ||
	    parse_field(s, pkg, pkg->pre_depends, DK_REL_BINARY, "Pre-Depends", &ns->deps->pre_depends) ||
	    parse_field(s, pkg, conflicts, DK_REL_BINARY, "Conflicts", &ns->deps->conflicts) ||
	    parse_field(s, pkg, breaks, DK_REL_BINARY, "Breaks", &ns->deps->breaks))
		return NULL;
	return ns->deps;
}

static bool version_ok(const struct dk_dep_atom *a, struct dk_slice ver)
{
	if (a->op == DK_REL_ANY)
		return true;
	if (!ver.n)
		return false;
	return dk_relop_satisfied(a->op, dk_version_cmp_str(ver.p, ver.n, a->version.p, a->version.n));
}

/* Does the architecture qualifier of a let pkg satisfy it? (one architecture: only :any needs care) */
static bool archqual_ok(const struct solver *s, const struct dk_dep_atom *a, const struct dk_pkg *pkg)
{
	const char *q = a->archqual.p;
	size_t n = a->archqual.n;

	if (!n || (n == 6 && memcmp(q, "native", 6) == 0))
		return true;
	if (n == 3 && memcmp(q, "any", 3) == 0)
		return pkg->multiarch == DK_MA_ALLOWED;
	return n == dk_strpool_len(&s->idx->names, s->idx->native_arch) &&
	       memcmp(q, dk_index_str(s->idx, s->idx->native_arch), n) == 0;
}

/* Is the atom satisfied by name's candidate, counting only marked packages when marked_only? */
static bool real_satisfies(const struct solver *s, const struct dk_dep_atom *a, dk_id target, bool marked_only)
{
	const struct dk_pkg *pkg = cand_pkg(s, target);

	if (!pkg || (marked_only && s->st[target].mode != MODE_INSTALL))
		return false;
	return archqual_ok(s, a, pkg) && version_ok(a, pkg->version);
}

static bool provide_satisfies(const struct solver *s, const struct dk_dep_atom *a, const struct dk_provide *pv,
			      bool marked_only)
{
	const struct dk_pkg *pkg = &s->idx->pkgs[pv->pkg];
	const struct name_state *ns = &s->st[pkg->name];

	if (!ns->cand || ns->cand - 1 != pv->pkg || (marked_only && ns->mode != MODE_INSTALL))
		return false;
	/* A :any dependency is satisfied by a provider only if the provider is Multi-Arch: foreign or allowed. */
	if (a->archqual.n == 3 && memcmp(a->archqual.p, "any", 3) == 0 && pkg->multiarch != DK_MA_ALLOWED &&
	    pkg->multiarch != DK_MA_FOREIGN)
		return false;
	return version_ok(a, pv->version);
}

static bool atom_satisfied(const struct solver *s, const struct dk_dep_atom *a, bool marked_only)
{
	dk_id target = lookup(s, a->name);

	if (!target)
		return false;
	if (real_satisfies(s, a, target, marked_only))
		return true;
	for (uint32_t i = s->idx->provides_start[target]; i < s->idx->provides_start[target + 1]; i++)
		if (provide_satisfies(s, a, &s->idx->provides[i], marked_only))
			return true;
	return false;
}

static bool group_satisfied(const struct solver *s, const struct dk_dep_group *g, bool marked_only)
{
	for (size_t i = 0; i < g->count; i++)
		if (atom_satisfied(s, &g->alts[i], marked_only))
			return true;
	return false;
}

/* apt's InstBroken for a marked package: some Pre-Depends or Depends group is not met by marked packages. */
static bool inst_broken(struct solver *s, dk_id name)
{
	const struct deps *d = deps_of(s, name);

	if (!d)
		return false;
	for (size_t i = 0; i < d->depends.count; i++)
		if (!group_satisfied(s, &d->depends.groups[i], true))
			return true;
	for (size_t i = 0; i < d->pre_depends.count; i++)
		if (!group_satisfied(s, &d->pre_depends.groups[i], true))
			return true;
	return false;
}

static void note_failure(struct solver *s, dk_id leaf, const struct dk_dep_group *g, bool pre, bool saw_excluded);

/* Would an excluded package have met the group? Then the exclusion is the reason it cannot be met. */
static bool group_hits_excluded(const struct solver *s, const struct dk_dep_group *g)
{
	for (size_t i = 0; i < g->count; i++) {
		dk_id target = lookup(s, g->alts[i].name);

		if (!target)
			continue;
		if (s->st[target].excluded)
			return true;
		for (uint32_t k = s->idx->provides_start[target]; k < s->idx->provides_start[target + 1]; k++)
			if (s->st[s->idx->pkgs[s->idx->provides[k].pkg].name].excluded)
				return true;
	}
	return false;
}

/* apt's IsInstallOkDependenciesSatisfiableByCandidates. */
static bool satisfiable_by_candidates(struct solver *s, dk_id name)
{
	const struct deps *d = deps_of(s, name);
	const struct dk_relation *rels[2];

	if (!d)
		return false;
	rels[0] = &d->depends;
	rels[1] = &d->pre_depends;
	for (int k = 0; k < 2; k++) {
		for (size_t i = 0; i < rels[k]->count; i++) {
			const struct dk_dep_group *g = &rels[k]->groups[i];

			if (group_satisfied(s, g, false))
				continue;
			note_failure(s, name, g, k == 1, group_hits_excluded(s, g));
			return false;
		}
	}
	return true;
}

/* apt's CompareProviders, for one architecture and an empty status: <0 when a goes first. */
static int compare_providers(const struct solver *s, dk_id target, dk_id a, dk_id b)
{
	const struct dk_pkg *pa = cand_pkg(s, a), *pb = cand_pkg(s, b);

	if ((a == target) != (b == target))
		return a == target ? -1 : 1;
	if (pa->essential != pb->essential)
		return pa->essential ? -1 : 1;
	if (pa->important != pb->important)
		return pa->important ? -1 : 1;
	if (pa->priority != pb->priority)
		return pa->priority < pb->priority ? -1 : 1;
	/* apt's last resort is the higher package id; load order stands in for it. */
	return s->st[a].cand > s->st[b].cand ? -1 : s->st[a].cand < s->st[b].cand ? 1 : 0;
}

struct sol_list {
	dk_id *ids;
	size_t n, alloc;
};

static int sol_push(struct sol_list *l, dk_id id)
{
	if (l->n == l->alloc) {
		size_t n = l->alloc ? l->alloc * 2 : 16;
		dk_id *p = realloc(l->ids, n * sizeof(*p));

		if (!p)
			return DK_ENOMEM;
		l->ids = p;
		l->alloc = n;
	}
	l->ids[l->n++] = id;
	return 0;
}

/* The candidates that satisfy one alternative, sorted as apt sorts them (insertion sort: lists are short). */
static int atom_solutions(struct solver *s, const struct dk_dep_atom *a, struct sol_list *out)
{
	dk_id target = lookup(s, a->name);
	size_t first = out->n;

	if (!target)
		return 0;
	if (real_satisfies(s, a, target, false) && sol_push(out, target))
		return DK_ENOMEM;
	for (uint32_t i = s->idx->provides_start[target]; i < s->idx->provides_start[target + 1]; i++) {
		const struct dk_provide *pv = &s->idx->provides[i];
		dk_id owner = s->idx->pkgs[pv->pkg].name;

		if (provide_satisfies(s, a, pv, false) && sol_push(out, owner))
			return DK_ENOMEM;
	}
	for (size_t i = first + 1; i < out->n; i++) {
		dk_id v = out->ids[i];
		size_t j = i;

		while (j > first && compare_providers(s, target, v, out->ids[j - 1]) < 0) {
			out->ids[j] = out->ids[j - 1];
			j--;
		}
		out->ids[j] = v;
	}
	/* std::unique in apt: drop a solution equal to the one before it. */
	if (out->n > first + 1) {
		size_t w = first + 1;

		for (size_t i = first + 1; i < out->n; i++)
			if (out->ids[i] != out->ids[w - 1])
				out->ids[w++] = out->ids[i];
		out->n = w;
	}
	return 0;
}

static int push_stack(struct solver *s, dk_id name)
{
	if (s->depth == s->stack_alloc) {
		uint32_t n = s->stack_alloc ? s->stack_alloc * 2 : 64;
		dk_id *p = realloc(s->stack, n * sizeof(*p));

		if (!p)
			return s->internal = dk_err_set(s->err, DK_ENOMEM, "resolve: out of memory");
		s->stack = p;
		s->stack_alloc = n;
	}
	s->stack[s->depth++] = name;
	return 0;
}

static void group_text(const struct dk_dep_group *g, struct dk_slice *out)
{
	const struct dk_dep_atom *first = &g->alts[0], *last = &g->alts[g->count - 1];
	const char *end = last->name.p + last->name.n;

	if (last->version.n)
		end = last->version.p + last->version.n + 1; /* the ')' */
	if (last->archqual.n && last->archqual.p + last->archqual.n > end)
		end = last->archqual.p + last->archqual.n;
	out->p = first->name.p;
	out->n = (size_t)(end - first->name.p);
}

/*
 * Remember why the first group that could not be met failed: the chain (the
 * packages being marked, then leaf if it is not marked yet), the group and
 * the cause. The first failure of a walk is the deepest one.
 */
static void note_failure(struct solver *s, dk_id leaf, const struct dk_dep_group *g, bool pre, bool saw_excluded)
{
	struct dk_slice text;

	if (s->have_failure)
		return;
	s->have_failure = true;
	dk_buf_reset(&s->failure);
	for (uint32_t i = 0; i < s->depth; i++)
		dk_buf_addf(&s->failure, "%s%s", i ? " -> " : "", dk_index_str(s->idx, s->stack[i]));
	if (leaf && (!s->depth || s->stack[s->depth - 1] != leaf))
		dk_buf_addf(&s->failure, "%s%s", s->depth ? " -> " : "", dk_index_str(s->idx, leaf));
	group_text(g, &text);
	dk_buf_addf(&s->failure, ": %s: %.*s: ", pre ? "Pre-Depends" : "Depends", (int)text.n, text.p);
	if (saw_excluded) {
		dk_buf_adds(&s->failure, "only satisfied by a package the list excludes");
		return;
	}
	for (size_t i = 0; i < g->count; i++) {
		const struct dk_dep_atom *a = &g->alts[i];
		dk_id target = lookup(s, a->name);
		const struct dk_pkg *pkg = target ? &s->idx->pkgs[s->idx->candidate[target] ? s->idx->candidate[target] - 1 : 0] : NULL;

		if (i)
			dk_buf_adds(&s->failure, "; ");
		if (!target || !s->idx->candidate[target]) {
			bool virtual = target && s->idx->provides_start[target] < s->idx->provides_start[target + 1];

			dk_buf_addf(&s->failure, "%.*s %s", (int)a->name.n, a->name.p,
				    virtual ? "is virtual and no provider fits" : "is not in the index");
		} else if (!version_ok(a, pkg->version)) {
			dk_buf_addf(&s->failure, "%.*s has only version %.*s", (int)a->name.n, a->name.p,
				    (int)pkg->version.n, pkg->version.p);
		} else {
			dk_buf_addf(&s->failure, "%.*s cannot be installed", (int)a->name.n, a->name.p);
		}
	}
}

static int add_item(struct solver *s, dk_id name, enum dk_why why, const char *reason, const struct dk_dep_group *g,
		    bool pre)
{
	struct dk_resolution *res = s->res;
	struct dk_selected *it;

	if (res->count == res->alloc) {
		size_t n = res->alloc ? res->alloc * 2 : 256;
		struct dk_selected *p = realloc(res->items, n * sizeof(*p));

		if (!p)
			return s->internal = dk_err_set(s->err, DK_ENOMEM, "resolve: out of memory");
		res->items = p;
		res->alloc = n;
	}
	it = &res->items[res->count];
	memset(it, 0, sizeof(*it));
	it->pkg = s->st[name].cand - 1;
	it->why = why;
	it->reason = reason;
	it->parent = UINT32_MAX;
	if (why == DK_WHY_DEPENDENCY && s->depth) {
		it->parent = res->item_of_name[s->stack[s->depth - 1]] - 1;
		group_text(g, &it->dep);
		it->pre_depends = pre;
	}
	res->item_of_name[name] = (uint32_t)++res->count;
	return 0;
}

static void unmark(struct solver *s, dk_id name)
{
	uint32_t item = s->res->item_of_name[name];

	s->st[name].mode = MODE_NONE;
	if (item)
		s->res->items[item - 1].pkg = UINT32_MAX; /* dropped; compacted at the end */
	s->res->item_of_name[name] = 0;
}

static bool mark_install(struct solver *s, dk_id name, bool auto_inst, bool from_user, const struct dk_dep_group *via,
			 bool via_pre);

/* apt's MarkInstall_RemoveConflictsIfNotUpgradeable for an empty status: unmark what the package conflicts with. */
static bool remove_conflicts(struct solver *s, dk_id name, const struct deps *d)
{
	const struct dk_relation *rels[2] = { &d->conflicts, &d->breaks };

	for (int k = 0; k < 2; k++) {
		for (size_t g = 0; g < rels[k]->count; g++) {
			const struct dk_dep_atom *a = &rels[k]->groups[g].alts[0];
			dk_id target = lookup(s, a->name);

			if (!target)
				continue;
			/* A package never conflicts with itself, nor with what it provides (apt: IsIgnorable). */
			if (target != name && s->st[target].mode == MODE_INSTALL && real_satisfies(s, a, target, true)) {
				if (s->st[target].user)
					return false;
				unmark(s, target);
			}
			for (uint32_t i = s->idx->provides_start[target]; i < s->idx->provides_start[target + 1]; i++) {
				const struct dk_provide *pv = &s->idx->provides[i];
				dk_id owner = s->idx->pkgs[pv->pkg].name;

				if (owner == name || !provide_satisfies(s, a, pv, true))
					continue;
				if (s->st[owner].user)
					return false;
				unmark(s, owner);
			}
		}
	}
	return true;
}

static bool install_group(struct solver *s, const struct dk_dep_group *g, bool pre)
{
	struct sol_list sols = { 0 };
	bool found = false, had_failure = s->have_failure;

	if (group_satisfied(s, g, true))
		return true;
	for (size_t i = 0; i < g->count && !s->internal; i++)
		if (atom_solutions(s, &g->alts[i], &sols))
			s->internal = dk_err_set(s->err, DK_ENOMEM, "resolve: out of memory");
	for (size_t i = 0; i < sols.n && !found && !s->internal; i++)
		found = mark_install(s, sols.ids[i], true, false, g, pre);
	free(sols.ids);
	if (!found && !s->internal)
		note_failure(s, 0, g, pre, group_hits_excluded(s, g));
	/* Alternatives that failed before one worked are not why anything failed. */
	if (found)
		s->have_failure = had_failure;
	return found;
}

static bool mark_install(struct solver *s, dk_id name, bool auto_inst, bool from_user, const struct dk_dep_group *via,
			 bool via_pre)
{
	struct name_state *ns = &s->st[name];
	const struct deps *d;
	bool was_marked, failed = false;

	if (!ns->cand || s->internal)
		return false;
	if (ns->mode == MODE_INSTALL && !inst_broken(s, name))
		return true;
	if (auto_inst && !satisfiable_by_candidates(s, name)) {
		/* apt discards the candidate: nothing will try it again. */
		ns->cand = 0;
		if (ns->mode == MODE_INSTALL)
			unmark(s, name);
		return false;
	}
	d = deps_of(s, name);
	if (!d)
		return false;
	if (auto_inst && !remove_conflicts(s, name, d) && !from_user)
		return false;
	was_marked = ns->mode == MODE_INSTALL;
	if (!was_marked) {
		ns->mode = MODE_INSTALL;
		if (add_item(s, name, from_user ? (ns->requested ? DK_WHY_REQUESTED : DK_WHY_PRIORITY) : DK_WHY_DEPENDENCY,
			     NULL, via, via_pre))
			return false;
		ns->user = from_user;
	}
	if (!auto_inst)
		return true;
	if (push_stack(s, name))
		return false;
	/* apt keeps Depends before Pre-Depends in a version's dependency list. */
	for (size_t i = 0; i < d->depends.count && !(failed && !from_user); i++)
		if (!install_group(s, &d->depends.groups[i], false))
			failed = true;
	for (size_t i = 0; i < d->pre_depends.count && !(failed && !from_user); i++)
		if (!install_group(s, &d->pre_depends.groups[i], true))
			failed = true;
	s->depth--;
	if (failed && !from_user) {
		unmark(s, name);
		return false;
	}
	return !failed;
}

static int solver_init(struct solver *s, const struct dk_index *idx, struct dk_resolution *res, struct dk_err *err)
{
	memset(s, 0, sizeof(*s));
	if (!idx->finished)
		return dk_err_set(err, DK_EINTERNAL, "resolve: the index was not finished");
	s->idx = idx;
	s->res = res;
	s->err = err;
	s->arena = &res->arena;
	s->nnames = idx->nnames;
	dk_buf_init(&s->failure, 1 << 16);
	s->st = calloc(s->nnames, sizeof(*s->st));
	res->item_of_name = calloc(s->nnames, sizeof(uint32_t));
	res->nnames = s->nnames;
	if (!s->st || !res->item_of_name)
		return dk_err_set(err, DK_ENOMEM, "resolve: out of memory");
	for (dk_id id = 1; id < s->nnames; id++)
		s->st[id].cand = idx->candidate[id];
	return 0;
}

static void solver_release(struct solver *s)
{
	free(s->st);
	free(s->stack);
	dk_buf_release(&s->failure);
}

/* Drop the entries apt would have unmarked again, keeping parents pointing at the right entries. */
static int compact(struct dk_resolution *res, struct dk_err *err)
{
	uint32_t *map = malloc((res->count ? res->count : 1) * sizeof(uint32_t));
	size_t w = 0;

	if (!map)
		return dk_err_set(err, DK_ENOMEM, "resolve: out of memory");
	for (size_t i = 0; i < res->count; i++) {
		map[i] = UINT32_MAX;
		if (res->items[i].pkg == UINT32_MAX)
			continue;
		map[i] = (uint32_t)w;
		res->items[w++] = res->items[i];
	}
	res->count = w;
	memset(res->item_of_name, 0, res->nnames * sizeof(uint32_t));
	/* A dependency whose parent was unmarked stays, as in apt; it keeps its group but loses the parent. */
	for (size_t i = 0; i < w; i++)
		if (res->items[i].parent != UINT32_MAX)
			res->items[i].parent = map[res->items[i].parent];
	free(map);
	return 0;
}

static int failed(struct solver *s, dk_id name)
{
	if (s->have_failure)
		return dk_err_set(s->err, DK_EINPUT, "unsatisfiable dependency: %s", s->failure.data);
	return dk_err_set(s->err, DK_EINPUT, "%s: cannot be installed", dk_index_str(s->idx, name));
}

struct request {
	dk_id name;
	const char *reason;
	bool priority;
};

static int run(const struct dk_index *idx, struct request *reqs, size_t n, const struct dk_pkglist *pl,
	       struct dk_resolution *res, struct dk_err *err)
{
	struct solver s;
	int r = solver_init(&s, idx, res, err);

	if (r)
		goto out;
	for (size_t i = 0; pl && i < pl->nexclude; i++) {
		dk_id id = dk_strpool_lookup(&idx->names, pl->exclude[i], strlen(pl->exclude[i]));

		if (id && id < s.nnames) {
			s.st[id].excluded = true;
			s.st[id].cand = 0;
		}
	}
	for (size_t i = 0; i < n; i++)
		s.st[reqs[i].name].requested = !reqs[i].priority;
	/* apt-get install: every package on the command line is marked first, without its dependencies... */
	for (size_t i = 0; i < n; i++) {
		if (!mark_install(&s, reqs[i].name, false, true, NULL, false)) {
			r = s.internal ? s.internal : failed(&s, reqs[i].name);
			goto out;
		}
		res->items[res->item_of_name[reqs[i].name] - 1].reason = reqs[i].reason;
	}
	/* ...then each is completed with its dependencies, in the order of apt's package ids. */
	for (size_t i = 0; i < n; i++) {
		s.have_failure = false;
		if (!mark_install(&s, reqs[i].name, true, true, NULL, false) || s.internal) {
			r = s.internal ? s.internal : failed(&s, reqs[i].name);
			goto out;
		}
	}
	r = compact(res, err);
	for (size_t i = 0; !r && i < res->count; i++)
		res->item_of_name[idx->pkgs[res->items[i].pkg].name] = (uint32_t)i + 1;
out:
	solver_release(&s);
	return r;
}

static int cmp_request_order(const void *a, const void *b)
{
	const struct request *x = a, *y = b;

	return (x->name > y->name) - (x->name < y->name);
}

static int missing_request(const struct dk_index *idx, const char *name, const char *where, struct dk_err *err)
{
	dk_id id = dk_strpool_lookup(&idx->names, name, strlen(name));

	if (id && id < idx->nnames && idx->provides_start[id] < idx->provides_start[id + 1])
		return dk_err_set(err, DK_EINPUT, "%s: '%s' is a virtual package: request one of its providers",
				  where, name);
	return dk_err_set(err, DK_EINPUT, "%s: package '%s' is not in the index", where, name);
}

int dk_resolve_pkglist(const struct dk_index *idx, const struct dk_pkglist *pl, struct dk_resolution *res,
		       struct dk_err *err)
{
	struct request *reqs;
	size_t n = 0, cap = pl->npackages + 64;
	int r = 0;

	if (!idx->finished)
		return dk_err_set(err, DK_EINTERNAL, "resolve: the index was not finished");
	reqs = malloc(cap * sizeof(*reqs));
	if (!reqs)
		return dk_err_set(err, DK_ENOMEM, "resolve: out of memory");
	for (dk_id id = 1; pl->priority != DK_PRIO_NONE && id < idx->nnames; id++) {
		const struct dk_pkg *pkg = dk_index_candidate_id(idx, id);
		bool excluded = false;

		if (!pkg || pkg->priority == DK_PRIO_NONE || pkg->priority > pl->priority)
			continue;
		for (size_t e = 0; e < pl->nexclude; e++)
			if (strcmp(pl->exclude[e], dk_index_str(idx, id)) == 0)
				excluded = true;
		if (excluded)
			continue;
		if (n == cap) {
			struct request *p = realloc(reqs, (cap *= 2) * sizeof(*p));

			if (!p) {
				free(reqs);
				return dk_err_set(err, DK_ENOMEM, "resolve: out of memory");
			}
			reqs = p;
		}
		reqs[n++] = (struct request){ id, NULL, true };
	}
	for (size_t i = 0; i < pl->npackages; i++) {
		const struct dk_pkglist_entry *e = &pl->packages[i];
		dk_id id = dk_strpool_lookup(&idx->names, e->name, strlen(e->name));
		char where[512];
		size_t j;

		snprintf(where, sizeof(where), "%s:%u", pl->filename ? pl->filename : "package list", e->line);
		if (!dk_index_candidate_id(idx, id)) {
			r = missing_request(idx, e->name, where, err);
			goto out;
		}
		for (j = 0; j < n && reqs[j].name != id; j++)
			;
		if (j == n) {
			if (n == cap) {
				struct request *p = realloc(reqs, (cap *= 2) * sizeof(*p));

				if (!p) {
					r = dk_err_set(err, DK_ENOMEM, "resolve: out of memory");
					goto out;
				}
				reqs = p;
			}
			n++;
		}
		/* Requested beats priority as the reason: it is the one a person wrote down. */
		reqs[j] = (struct request){ id, e->reason, false };
	}
	qsort(reqs, n, sizeof(*reqs), cmp_request_order);
	r = run(idx, reqs, n, pl, res, err);
out:
	free(reqs);
	return r;
}

int dk_resolve_names(const struct dk_index *idx, const char *const *names, size_t n, struct dk_resolution *res,
		     struct dk_err *err)
{
	struct request *reqs = calloc(n ? n : 1, sizeof(*reqs));
	int r = 0;

	if (!reqs)
		return dk_err_set(err, DK_ENOMEM, "resolve: out of memory");
	if (!idx->finished) {
		free(reqs);
		return dk_err_set(err, DK_EINTERNAL, "resolve: the index was not finished");
	}
	for (size_t i = 0; i < n; i++) {
		dk_id id = dk_strpool_lookup(&idx->names, names[i], strlen(names[i]));

		if (!dk_index_candidate_id(idx, id)) {
			r = missing_request(idx, names[i], "request", err);
			goto out;
		}
		reqs[i] = (struct request){ id, NULL, false };
	}
	qsort(reqs, n, sizeof(*reqs), cmp_request_order);
	r = run(idx, reqs, n, NULL, res, err);
out:
	free(reqs);
	return r;
}

const struct dk_selected *dk_resolution_find(const struct dk_resolution *res, const struct dk_index *idx,
					     const char *name)
{
	dk_id id = dk_strpool_lookup(&idx->names, name, strlen(name));

	if (!id || id >= res->nnames || !res->item_of_name[id])
		return NULL;
	return &res->items[res->item_of_name[id] - 1];
}

int dk_resolution_chain(const struct dk_resolution *res, const struct dk_index *idx, const struct dk_selected *sel,
			struct dk_buf *out)
{
	const struct dk_selected *chain[256];
	size_t n = 0;

	for (const struct dk_selected *it = sel; it && n < 256;
	     it = it->parent == UINT32_MAX ? NULL : &res->items[it->parent])
		chain[n++] = it;
	while (n-- > 0) {
		dk_buf_adds(out, dk_index_str(idx, idx->pkgs[chain[n]->pkg].name));
		if (n)
			dk_buf_adds(out, " -> ");
	}
	return dk_buf_check(out, NULL, "chain");
}

void dk_resolution_release(struct dk_resolution *res)
{
	free(res->items);
	free(res->item_of_name);
	dk_arena_release(&res->arena);
	memset(res, 0, sizeof(*res));
}
