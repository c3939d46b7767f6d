/* cmd-pkglist.c - debkeep pkglist resolve|why: package lists against Packages indices */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <debkeep/fs.h>
#include <debkeep/index.h>
#include <debkeep/input.h>
#include <debkeep/pkglist.h>
#include <debkeep/resolve.h>

#include "cli.h"

/* One architecture's index and its resolution. */
struct arch_run {
	const char *arch;
	struct dk_index idx;
	struct dk_resolution res;
	bool loaded;
};

struct pkglist_opts {
	const char **indices;
	size_t nindices;
	const char **archs; /* --arch: a subset of the list's architectures */
	size_t narchs;
	const char *format; /* yaml | list */
	const char *output;
	const char *list;
	const char *why;
};

static const char *const resolve_usage =
	"usage: debkeep pkglist resolve LIST.yaml --index FILE... [--arch A] [--format yaml|list] [-o FILE]\n"
	"\n"
	"Resolve a package list (docs/package-list.md) against Packages indices: the priority\n"
	"floor, the requested packages and their Depends/Pre-Depends closure, per architecture,\n"
	"grouped by source package with the reason each binary is there.\n"
	"\n"
	"  --index FILE   a Packages index (any compression); its architecture is read from it\n"
	"  --arch A       resolve only for A (repeatable; default: the list's architectures)\n"
	"  --format F     yaml (default: the resolved list), list (name version arch lines), or\n"
	"                 manifest (name version arch source source-version: what cve scan reads)\n"
	"  -o FILE        write the result to FILE (atomically) and print a summary\n"
	"  --json         print JSON\n";

static const char *const why_usage =
	"usage: debkeep pkglist why PKG LIST.yaml --index FILE... [--arch A]\n"
	"\n"
	"Print the chain of dependencies that pulls PKG into the resolved list.\n";

static int push(const char ***v, size_t *n, const char *s)
{
	const char **p = realloc(*v, (*n + 1) * sizeof(*p));

	if (!p)
		return -1;
	p[(*n)++] = s;
	*v = p;
	return 0;
}

static int take(struct cli *cli, int opt, char *arg, void *ctx)
{
	struct pkglist_opts *o = ctx;

	switch (opt) {
	case 'i':
		if (push(&o->indices, &o->nindices, arg))
			return EXIT_INTERNAL;
		break;
	case 'a':
		if (push(&o->archs, &o->narchs, arg))
			return EXIT_INTERNAL;
		break;
	case 'f':
		if (strcmp(arg, "yaml") && strcmp(arg, "list") && strcmp(arg, "manifest"))
			return cli_usage(cli, "--format: '%s' is not one of yaml, list, manifest", arg);
		o->format = arg;
		break;
	case 'o':
		o->output = arg;
		break;
	}
	return 0;
}

/* Returns 0 to go on, -1 after --help, else the exit code. */
static int parse_opts(struct cli *cli, int argc, char **argv, struct pkglist_opts *o, bool why)
{
	static const struct option opts[] = {
		{ "index", required_argument, NULL, 'i' },
		{ "arch", required_argument, NULL, 'a' },
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cli_options co = {
		.usage = why ? why_usage : resolve_usage, .bad = "bad option", .shortopts = "i:a:f:o:",
		.opts = opts, .take = take, .ctx = o,
	};
	/* GNU getopt permutes: options may stand before or after the positional arguments. */
	int r = cli_parse(cli, argc, argv, &co);

	if (r >= 0)
		return r == EXIT_OK ? -1 : r;
	if (why && optind < argc)
		o->why = argv[optind++];
	if (optind < argc)
		o->list = argv[optind++];
	if (optind < argc)
		return cli_usage(cli, "unexpected argument '%s'", argv[optind]);
	if (why && !o->why)
		return cli_usage(cli, "which package, and which list?");
	if (!o->list)
		return cli_usage(cli, "which package list?");
	if (!o->nindices)
		return cli_usage(cli, "no --index given: name the Packages indices to resolve against");
	return 0;
}

static bool wanted_arch(const struct pkglist_opts *o, const char *arch)
{
	if (!o->narchs)
		return true;
	for (size_t i = 0; i < o->narchs; i++)
		if (strcmp(o->archs[i], arch) == 0)
			return true;
	return false;
}

/*
 * Read every index once, give it to the run of its architecture (a file of
 * only "all" packages goes to every run), then finish and resolve each run.
 */
static int load_and_resolve(const struct pkglist_opts *o, const struct dk_pkglist *pl, struct arch_run *runs,
			    size_t nruns, struct dk_err *err)
{
	struct dk_input data = DK_INPUT_INIT;
	struct dk_buf arch = DK_BUF_INIT;
	int r = 0;

	for (size_t i = 0; i < nruns; i++) {
		runs[i].arch = pl->archs[i];
		if ((r = dk_index_init(&runs[i].idx, pl->archs[i], err)))
			goto out;
		runs[i].loaded = true;
	}
	for (size_t f = 0; f < o->nindices; f++) {
		bool any = false;
		bool all_only;

		dk_input_release(&data);
		if ((r = dk_input_open(&data, o->indices[f], 0, err)))
			goto out;
		r = dk_index_detect_arch(data.data, data.len, &arch);
		if (r < 0) {
			r = dk_err_set(err, DK_ENOMEM, "%s: out of memory", o->indices[f]);
			goto out;
		}
		all_only = r == DK_NOTFOUND;
		r = 0;
		for (size_t i = 0; i < nruns; i++) {
			if (!all_only && strcmp(arch.data, runs[i].arch) != 0)
				continue;
			any = true;
			/* The last run that wants the bytes takes them over; the others copy. */
			if (all_only && i + 1 < nruns)
				r = dk_index_load_mem(&runs[i].idx, data.data, data.len, o->indices[f], err);
			else
				r = dk_index_adopt(&runs[i].idx, &data, o->indices[f], err);
			if (r)
				goto out;
		}
		if (!any && !all_only && wanted_arch(o, arch.data))
			fprintf(stderr, "debkeep: %s: index for %s, which the list does not name: ignored\n",
				o->indices[f], arch.data);
	}
	for (size_t i = 0; i < nruns; i++) {
		if (!wanted_arch(o, runs[i].arch))
			continue;
		if (runs[i].idx.npkgs == 0) {
			r = dk_err_set(err, DK_EINPUT, "%s: no --index given for architecture %s", pl->filename,
				       runs[i].arch);
			goto out;
		}
		if ((r = dk_index_finish(&runs[i].idx, err)))
			goto out;
		if ((r = dk_resolve_pkglist(&runs[i].idx, pl, &runs[i].res, err))) {
			dk_err_prefix(err, "%s", runs[i].arch);
			goto out;
		}
	}
out:
	dk_input_release(&data);
	dk_buf_release(&arch);
	return r;
}

static void release_runs(struct arch_run *runs, size_t nruns)
{
	for (size_t i = 0; i < nruns; i++) {
		if (!runs[i].loaded)
			continue;
		dk_resolution_release(&runs[i].res);
		dk_index_release(&runs[i].idx);
	}
	free(runs);
}

/* Entries sorted by (source, source version, name): the grouping a support team reads. */
struct sorted {
	const struct arch_run *run;
	const struct dk_selected *sel;
	const struct dk_pkg *pkg;
};

static int slicecmp(struct dk_slice a, struct dk_slice b)
{
	int c = memcmp(a.p, b.p, a.n < b.n ? a.n : b.n);

	return c ? c : (a.n > b.n) - (a.n < b.n);
}

static int cmp_by_source(const void *x, const void *y)
{
	const struct sorted *a = x, *b = y;
	const struct dk_index *ia = &a->run->idx;
	int c = strcmp(dk_index_str(ia, a->pkg->source), dk_index_str(&b->run->idx, b->pkg->source));

	if (c)
		return c;
	c = slicecmp(a->pkg->source_version, b->pkg->source_version);
	if (c)
		return c;
	return strcmp(dk_index_str(ia, a->pkg->name), dk_index_str(&b->run->idx, b->pkg->name));
}

static int cmp_by_name(const void *x, const void *y)
{
	const struct sorted *a = x, *b = y;
	int c = strcmp(dk_index_str(&a->run->idx, a->pkg->name), dk_index_str(&b->run->idx, b->pkg->name));

	return c ? c : strcmp(a->run->arch, b->run->arch);
}

static struct sorted *sorted_entries(const struct arch_run *run, int (*cmp)(const void *, const void *))
{
	struct sorted *v = malloc((run->res.count ? run->res.count : 1) * sizeof(*v));

	if (!v)
		return NULL;
	for (size_t i = 0; i < run->res.count; i++)
		v[i] = (struct sorted){ run, &run->res.items[i], &run->idx.pkgs[run->res.items[i].pkg] };
	qsort(v, run->res.count, sizeof(*v), cmp);
	return v;
}

/* "priority required", "requested: REASON", "dependency of X (Depends: ...)" */
static void reason_text(const struct arch_run *run, const struct dk_selected *sel, struct dk_buf *out)
{
	const struct dk_index *idx = &run->idx;
	const struct dk_pkg *pkg = &idx->pkgs[sel->pkg];

	dk_buf_reset(out);
	switch (sel->why) {
	case DK_WHY_PRIORITY:
		dk_buf_addf(out, "priority %s", dk_priority_name((enum dk_priority)pkg->priority));
		break;
	case DK_WHY_REQUESTED:
		dk_buf_addf(out, "requested: %s", sel->reason ? sel->reason : "");
		break;
	case DK_WHY_DEPENDENCY:
		if (sel->parent != UINT32_MAX)
			dk_buf_addf(out, "dependency of %s ",
				    dk_index_str(idx, idx->pkgs[run->res.items[sel->parent].pkg].name));
		else
			dk_buf_adds(out, "dependency ");
		dk_buf_addf(out, "(%s: %.*s)", sel->pre_depends ? "Pre-Depends" : "Depends", (int)sel->dep.n,
			    sel->dep.p);
		break;
	}
}

static const char *why_key(enum dk_why w)
{
	return w == DK_WHY_PRIORITY ? "priority" : w == DK_WHY_REQUESTED ? "requested" : "dependency";
}

/* YAML double-quoted scalar: always quoted, so versions like 1.0 stay strings. */
static void yaml_str(struct dk_buf *b, const char *s, size_t n)
{
	dk_buf_addc(b, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			dk_buf_addf(b, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			dk_buf_addf(b, "\\x%02x", c);
		else
			dk_buf_addc(b, (char)c);
	}
	dk_buf_addc(b, '"');
}

static bool new_source(const struct sorted *v, size_t i)
{
	return i == 0 || v[i].pkg->source != v[i - 1].pkg->source ||
	       slicecmp(v[i].pkg->source_version, v[i - 1].pkg->source_version) != 0;
}

static int count_sources(const struct sorted *v, size_t n)
{
	int k = 0;

	for (size_t i = 0; i < n; i++)
		k += new_source(v, i);
	return k;
}

static int emit_yaml(const struct dk_pkglist *pl, struct arch_run *runs, size_t nruns, const struct pkglist_opts *o,
		     struct dk_buf *b)
{
	struct dk_buf reason = DK_BUF_INIT;

	dk_buf_addf(b, "# Resolved by debkeep pkglist resolve from %s; regenerate, do not edit.\n", o->list);
	dk_buf_adds(b, "release: ");
	yaml_str(b, pl->release, strlen(pl->release));
	dk_buf_addf(b, "\npriority: %s\nresolved:\n", dk_priority_name(pl->priority));
	for (size_t r = 0; r < nruns; r++) {
		struct sorted *v;
		size_t n = runs[r].res.count;

		if (!wanted_arch(o, runs[r].arch))
			continue;
		v = sorted_entries(&runs[r], cmp_by_source);
		if (!v)
			return EXIT_INTERNAL;
		dk_buf_addf(b, "  - architecture: %s\n    packages: %zu\n    sources: %d\n    source-packages:\n",
			    runs[r].arch, n, count_sources(v, n));
		for (size_t i = 0; i < n; i++) {
			const struct dk_pkg *p = v[i].pkg;
			const struct dk_index *idx = &runs[r].idx;

			if (new_source(v, i)) {
				dk_buf_adds(b, "      - source: ");
				yaml_str(b, dk_index_str(idx, p->source), strlen(dk_index_str(idx, p->source)));
				dk_buf_adds(b, "\n        version: ");
				yaml_str(b, p->source_version.p, p->source_version.n);
				dk_buf_adds(b, "\n        binaries:\n");
			}
			dk_buf_adds(b, "          - name: ");
			yaml_str(b, dk_index_str(idx, p->name), strlen(dk_index_str(idx, p->name)));
			dk_buf_adds(b, "\n            version: ");
			yaml_str(b, p->version.p, p->version.n);
			dk_buf_addf(b, "\n            architecture: %s\n            why: %s\n            reason: ",
				    dk_index_str(idx, p->arch), why_key(v[i].sel->why));
			reason_text(&runs[r], v[i].sel, &reason);
			yaml_str(b, reason.data, reason.len);
			dk_buf_addc(b, '\n');
		}
		free(v);
	}
	dk_buf_release(&reason);
	return 0;
}

/* One line per binary, sorted by name then architecture; the manifest adds the source and its version. */
static int emit_list(struct arch_run *runs, size_t nruns, const struct pkglist_opts *o, bool manifest,
		     struct dk_buf *b)
{
	size_t total = 0, k = 0;
	struct sorted *all;

	for (size_t r = 0; r < nruns; r++)
		if (wanted_arch(o, runs[r].arch))
			total += runs[r].res.count;
	all = malloc((total ? total : 1) * sizeof(*all));
	if (!all)
		return EXIT_INTERNAL;
	for (size_t r = 0; r < nruns; r++) {
		if (!wanted_arch(o, runs[r].arch))
			continue;
		for (size_t i = 0; i < runs[r].res.count; i++) {
			const struct dk_selected *sel = &runs[r].res.items[i];

			all[k++] = (struct sorted){ &runs[r], sel, &runs[r].idx.pkgs[sel->pkg] };
		}
	}
	qsort(all, total, sizeof(*all), cmp_by_name);
	if (manifest)
		dk_buf_adds(b, "# name version arch source source-version\n");
	for (size_t i = 0; i < total; i++) {
		const struct dk_index *idx = &all[i].run->idx;
		const struct dk_pkg *p = all[i].pkg;

		dk_buf_addf(b, "%s %.*s %s", dk_index_str(idx, p->name), (int)p->version.n, p->version.p,
			    dk_index_str(idx, p->arch));
		if (manifest)
			dk_buf_addf(b, " %s %.*s", dk_index_str(idx, p->source), (int)p->source_version.n,
				    p->source_version.p);
		dk_buf_addc(b, '\n');
	}
	free(all);
	return 0;
}

static json_t *jstr(const char *p, size_t n)
{
	return json_stringn_nocheck(p, n);
}

static json_t *emit_json(const struct dk_pkglist *pl, struct arch_run *runs, size_t nruns,
			 const struct pkglist_opts *o)
{
	json_t *root = json_object(), *resolved = json_array();
	struct dk_buf reason = DK_BUF_INIT;

	json_object_set_new(root, "release", json_string(pl->release));
	json_object_set_new(root, "priority", json_string(dk_priority_name(pl->priority)));
	json_object_set_new(root, "resolved", resolved);
	for (size_t r = 0; r < nruns; r++) {
		json_t *arch, *sources = json_array(), *src = NULL, *bins = NULL;
		struct sorted *v;
		size_t n = runs[r].res.count;

		if (!wanted_arch(o, runs[r].arch)) {
			json_decref(sources);
			continue;
		}
		v = sorted_entries(&runs[r], cmp_by_source);
		if (!v) {
			json_decref(sources);
			json_decref(root);
			return NULL;
		}
		arch = json_pack("{s:s, s:I, s:i, s:o}", "architecture", runs[r].arch, "packages", (json_int_t)n,
				 "sources", count_sources(v, n), "source-packages", sources);
		json_array_append_new(resolved, arch);
		for (size_t i = 0; i < n; i++) {
			const struct dk_pkg *p = v[i].pkg;
			const struct dk_index *idx = &runs[r].idx;
			json_t *bin;

			if (new_source(v, i)) {
				bins = json_array();
				src = json_object();
				json_object_set_new(src, "source", json_string(dk_index_str(idx, p->source)));
				json_object_set_new(src, "version", jstr(p->source_version.p, p->source_version.n));
				json_object_set_new(src, "binaries", bins);
				json_array_append_new(sources, src);
			}
			reason_text(&runs[r], v[i].sel, &reason);
			bin = json_object();
			json_object_set_new(bin, "name", json_string(dk_index_str(idx, p->name)));
			json_object_set_new(bin, "version", jstr(p->version.p, p->version.n));
			json_object_set_new(bin, "architecture", json_string(dk_index_str(idx, p->arch)));
			json_object_set_new(bin, "why", json_string(why_key(v[i].sel->why)));
			json_object_set_new(bin, "reason", jstr(reason.data, reason.len));
			if (v[i].sel->why == DK_WHY_DEPENDENCY && v[i].sel->parent != UINT32_MAX)
				json_object_set_new(
					bin, "parent",
					json_string(dk_index_str(idx, idx->pkgs[runs[r].res.items[v[i].sel->parent].pkg].name)));
			json_array_append_new(bins, bin);
		}
		free(v);
	}
	dk_buf_release(&reason);
	return root;
}

static void free_opts(struct pkglist_opts *o)
{
	free(o->indices);
	free(o->archs);
}

/* Shared by resolve and why: parse options, load the list and indices, resolve. */
static int prepare(struct cli *cli, int argc, char **argv, bool why, struct pkglist_opts *o, struct dk_pkglist *pl,
		   struct arch_run **runs_out, struct dk_err *err)
{
	struct arch_run *runs;
	int r = parse_opts(cli, argc, argv, o, why);

	if (r)
		return r < 0 ? -1 : r;
	if ((r = dk_pkglist_load(pl, o->list, err)))
		return cli_fail(err);
	for (size_t i = 0; i < o->narchs; i++) {
		size_t j;

		for (j = 0; j < pl->narchs && strcmp(pl->archs[j], o->archs[i]); j++)
			;
		if (j == pl->narchs)
			return cli_usage(cli, "--arch %s: %s does not name that architecture", o->archs[i], o->list);
	}
	runs = calloc(pl->narchs ? pl->narchs : 1, sizeof(*runs));
	if (!runs)
		return EXIT_INTERNAL;
	*runs_out = runs;
	if ((r = load_and_resolve(o, pl, runs, pl->narchs, err)))
		return cli_fail(err);
	return 0;
}

static int cmd_resolve(struct cli *cli, int argc, char **argv)
{
	struct pkglist_opts o = { 0 };
	struct dk_pkglist pl = DK_PKGLIST_INIT;
	struct dk_err err = DK_ERR_INIT;
	struct arch_run *runs = NULL;
	struct dk_buf out = DK_BUF_INIT;
	int r = prepare(cli, argc, argv, false, &o, &pl, &runs, &err);

	if (r) {
		r = r < 0 ? EXIT_OK : r;
		goto done;
	}
	if (cli->json) {
		json_t *j = emit_json(&pl, runs, pl.narchs, &o);
		char *s = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;

		json_decref(j);
		if (!s) {
			r = EXIT_INTERNAL;
			goto done;
		}
		dk_buf_adds(&out, s);
		dk_buf_addc(&out, '\n');
		free(s);
	} else if (o.format && (strcmp(o.format, "list") == 0 || strcmp(o.format, "manifest") == 0)) {
		r = emit_list(runs, pl.narchs, &o, strcmp(o.format, "manifest") == 0, &out);
	} else {
		r = emit_yaml(&pl, runs, pl.narchs, &o, &out);
	}
	if (r || dk_buf_check(&out, &err, "output")) {
		r = r ? r : cli_fail(&err);
		goto done;
	}
	if (!o.output) {
		fwrite(out.data, 1, out.len, stdout);
		goto done;
	}
	if (dk_write_file_atomic(o.output, out.data, out.len, 0644, &err)) {
		r = cli_fail(&err);
		goto done;
	}
	for (size_t i = 0; i < pl.narchs && !cli->json; i++) {
		struct sorted *v;

		if (!wanted_arch(&o, runs[i].arch))
			continue;
		v = sorted_entries(&runs[i], cmp_by_source);
		if (!v) {
			r = EXIT_INTERNAL;
			goto done;
		}
		printf("%s: %zu binary packages from %d source packages\n", runs[i].arch, runs[i].res.count,
		       count_sources(v, runs[i].res.count));
		free(v);
	}
	if (!cli->json)
		printf("wrote %s\n", o.output);
done:
	dk_buf_release(&out);
	release_runs(runs, pl.narchs);
	dk_pkglist_release(&pl);
	free_opts(&o);
	return r;
}

static int cmd_why(struct cli *cli, int argc, char **argv)
{
	struct pkglist_opts o = { 0 };
	struct dk_pkglist pl = DK_PKGLIST_INIT;
	struct dk_err err = DK_ERR_INIT;
	struct arch_run *runs = NULL;
	struct dk_buf reason = DK_BUF_INIT;
	json_t *jroot = cli->json ? json_array() : NULL;
	int r = prepare(cli, argc, argv, true, &o, &pl, &runs, &err);
	bool found = false;

	if (r) {
		r = r < 0 ? EXIT_OK : r;
		goto done;
	}
	for (size_t a = 0; a < pl.narchs; a++) {
		const struct arch_run *run = &runs[a];
		const struct dk_selected *chain[512];
		const struct dk_selected *sel;
		json_t *jchain = NULL;
		size_t n = 0, depth = 0;

		if (!wanted_arch(&o, run->arch))
			continue;
		sel = dk_resolution_find(&run->res, &run->idx, o.why);
		if (!sel) {
			if (!cli->json)
				printf("%s: %s is not in the resolved list\n", run->arch, o.why);
			continue;
		}
		found = true;
		for (const struct dk_selected *it = sel; it && n < 512;
		     it = it->parent == UINT32_MAX ? NULL : &run->res.items[it->parent])
			chain[n++] = it;
		if (jroot)
			jchain = json_array();
		while (n-- > 0) {
			const struct dk_pkg *p = &run->idx.pkgs[chain[n]->pkg];

			reason_text(run, chain[n], &reason);
			if (jchain) {
				json_array_append_new(jchain, json_pack("{s:s, s:s%, s:s, s:s}", "name",
									 dk_index_str(&run->idx, p->name), "version",
									 p->version.p, p->version.n, "why",
									 why_key(chain[n]->why), "reason", reason.data));
				continue;
			}
			printf("%s: %*s%s %.*s: %s\n", run->arch, (int)(2 * depth++), "", dk_index_str(&run->idx, p->name),
			       (int)p->version.n, p->version.p, reason.data);
		}
		if (jroot)
			json_array_append_new(jroot, json_pack("{s:s, s:o}", "architecture", run->arch, "chain", jchain));
	}
	if (jroot) {
		r = cli_json_out(jroot);
		jroot = NULL;
	}
	if (!r)
		r = found ? EXIT_OK : EXIT_FOUND;
done:
	json_decref(jroot);
	dk_buf_release(&reason);
	release_runs(runs, pl.narchs);
	dk_pkglist_release(&pl);
	free_opts(&o);
	return r;
}

static const struct cli_command pkglist_commands[] = {
	{ "resolve", cmd_resolve, 0, "LIST.yaml --index FILE...", "the closure of a package list, by source package" },
	{ "why", cmd_why, 0, "PKG LIST.yaml --index FILE...", "the dependency chain that pulled PKG in" },
	{ NULL, NULL, 0, NULL, NULL },
};

int cmd_pkglist(struct cli *cli, int argc, char **argv)
{
	return cli_dispatch(cli, "pkglist", pkglist_commands, argc, argv);
}
