/* cmd-diff.c - debkeep diff A B: every difference between two builds, explained; text, --json and --html FILE */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <debkeep/diff.h>
#include <debkeep/fs.h>
#include <debkeep/hash.h>
#include <debkeep/input.h>

#include "cli.h"

static const char diff_usage[] =
	"usage: debkeep diff [options] A B\n"
	"\n"
	"Find and explain every difference between two builds: image tarballs (any compression),\n"
	".deb files, directories, cpio archives, ext2/3/4 images and GPT/MBR disk images, looking\n"
	"inside containers within containers. Each difference gets a cause from the rule table\n"
	"(docs/diff.md) and, in an image, the package that owns the path.\n"
	"\n"
	"  --json             print the report as JSON (schema in docs/diff.md)\n"
	"  --html FILE        also write the report as one self-contained HTML page\n"
	"  --expect FILE      expected differences: lines 'cause ID REASON' or 'path GLOB REASON'\n"
	"  --exclude GLOB     ignore differences at matching paths (repeatable)\n"
	"  --max-output N     bytes of details printed in all (default 65536); the summary always is\n"
	"  --max-lines N      detail lines per difference (default 40)\n"
	"  --max-member N     largest member whose content is looked into, in bytes (default 16 MiB)\n"
	"  --timeout S        give up after S seconds (exit 2)\n"
	"  --rules FILE       another rule table instead of the built-in data/diff-rules\n"
	"  --jobs N           1: read the two inputs one after the other (default: both at once)\n"
	"\n"
	"Exit status: 0 identical, or every difference expected; 1 unexpected differences;\n"
	"2 usage or input error (unreadable or corrupt input, inputs of different kinds, time limit).\n";

struct diff_cli {
	struct dk_diff_opts o;
	const char *html;
	const char *expect;
	const char *rules;
	const char **exclude;
	size_t nexclude;
	size_t max_output;
};

/* Per cause, in the order of the rule table. */
struct cause_count {
	const char *id;
	const char *title;
	size_t count;
	size_t unexpected;
	size_t *pk; /* indexes into summary.pkgs */
	size_t npk;
};

struct summary {
	struct cause_count *c;
	size_t n;
	const char **pkgs; /* "name" or "name (postinst)" */
	size_t npkgs;
};

static const char *rule_title(const struct dk_diff_rules *r, const char *id)
{
	const struct dk_diff_rule *rule = dk_diff_rules_find(r, id);

	return rule ? rule->title : id;
}

static int summarise(const struct dk_diff_report *rep, const struct dk_diff_rules *rules, struct summary *s)
{
	s->c = calloc(rules->n + 1, sizeof(*s->c));
	s->pkgs = calloc(rep->nitems + 1, sizeof(*s->pkgs));
	if (!s->c || !s->pkgs)
		return -1;
	for (size_t r = 0; r <= rules->n; r++) {
		const char *id = r < rules->n ? rules->v[r].id : "unexplained";
		struct cause_count cc = {
			id, r < rules->n ? rules->v[r].title : "unexplained", 0, 0, NULL, 0
		};

		if (r == rules->n && dk_diff_rules_find(rules, "unexplained"))
			break;
		for (size_t i = 0; i < rep->nitems; i++)
			if (strcmp(rep->items[i].cause, id) == 0) {
				cc.count++;
				cc.unexpected += !rep->items[i].expected;
			}
		if (cc.count)
			s->c[s->n++] = cc;
	}
	for (size_t i = 0; i < rep->nitems; i++) {
		const struct dk_diff_item *it = &rep->items[i];
		char buf[256];
		bool seen = false;

		if (!it->package)
			continue;
		size_t k = 0;
		struct cause_count *cc = NULL;

		snprintf(buf, sizeof(buf), "%s%s%s%s", it->package, it->script ? " (" : "",
			 it->script ? it->script : "", it->script ? ")" : "");
		for (; k < s->npkgs && !seen; k++)
			seen = strcmp(s->pkgs[k], buf) == 0;
		if (seen)
			k--;
		else if (!(s->pkgs[s->npkgs++] = strdup(buf)))
			return -1;
		for (size_t c = 0; c < s->n && !cc; c++)
			if (strcmp(s->c[c].id, it->cause) == 0)
				cc = &s->c[c];
		seen = false;
		for (size_t j = 0; cc && j < cc->npk && !seen; j++)
			seen = cc->pk[j] == k;
		if (cc && !seen) {
			size_t *v = realloc(cc->pk, (cc->npk + 1) * sizeof(*v));

			if (!v)
				return -1;
			v[cc->npk++] = k;
			cc->pk = v;
		}
	}
	return 0;
}

static void summary_release(struct summary *s)
{
	for (size_t i = 0; i < s->npkgs; i++)
		free((char *)s->pkgs[i]);
	for (size_t i = 0; i < s->n; i++)
		free(s->c[i].pk);
	free(s->pkgs);
	free(s->c);
}

static const char *verdict_word(const struct dk_diff_report *rep)
{
	return !rep->nitems ? "identical" : !rep->unexpected ? "expected" : "different";
}

/* "different: SSH host keys (4), mtime only (120)": one line, the causes in table order. */
static void verdict_line(struct dk_buf *b, const struct dk_diff_report *rep, const struct summary *s)
{
	if (!rep->nitems) {
		dk_buf_adds(b, "verdict: identical\n");
		return;
	}
	dk_buf_adds(b, rep->unexpected ? "verdict: different: " : "verdict: only expected differences: ");
	for (size_t i = 0; i < s->n; i++) {
		dk_buf_addf(b, "%s%s", i ? ", " : "", s->c[i].title);
		if (s->n > 1)
			dk_buf_addf(b, " (%zu)", s->c[i].count);
	}
	dk_buf_addc(b, '\n');
}

static void aspects_str(struct dk_buf *b, uint32_t asp)
{
	bool first = true;

	for (int a = 0; a < DK_DA_COUNT; a++)
		if (asp & DK_DA_BIT(a)) {
			dk_buf_addf(b, "%s%s", first ? "" : ", ", dk_diff_aspect_name(a));
			first = false;
		}
}

static const char *shown_path(const char *p)
{
	return p[0] ? p : "(the input itself)";
}

static int render_text(const struct dk_diff_report *rep, const struct dk_diff_rules *rules,
		       const struct summary *s, size_t max_output, struct dk_buf *out)
{
	size_t budget_start, omitted = 0;

	dk_buf_addf(out, "debkeep diff: %s (%s, %llu members) vs %s (%s, %llu members)\n", rep->a_name,
		    rep->a_kind, (unsigned long long)rep->a_members, rep->b_name, rep->b_kind,
		    (unsigned long long)rep->b_members);
	verdict_line(out, rep, s);
	if (rep->nitems) {
		dk_buf_addf(out, "differences: %zu (%zu unexpected)\n", rep->nitems, rep->unexpected);
		for (size_t i = 0; i < s->n; i++) {
			dk_buf_addf(out, "  %-40s %6zu%s", s->c[i].title, s->c[i].count,
				    s->c[i].unexpected ? "" : "  (expected)");
			/* A few packages per cause: thousands of mtimes should not bury the one script that matters. */
			for (size_t j = 0; j < s->c[i].npk && j < 4; j++)
				dk_buf_addf(out, "%s%s", j ? ", " : "  ", s->pkgs[s->c[i].pk[j]]);
			if (s->c[i].npk > 4)
				dk_buf_addf(out, " (+%zu more)", s->c[i].npk - 4);
			dk_buf_addc(out, '\n');
		}
	}
	if (rep->npackages) {
		dk_buf_adds(out, "package versions:\n");
		for (size_t i = 0; i < rep->npackages; i++)
			dk_buf_addf(out, "  %s %s -> %s\n", rep->packages[i].name,
				    rep->packages[i].a ? rep->packages[i].a : "(none)",
				    rep->packages[i].b ? rep->packages[i].b : "(none)");
	}
	if (!rep->nitems)
		return 0;
	dk_buf_adds(out, "\ndetails:\n");
	budget_start = out->len;
	for (size_t i = 0; i < rep->nitems; i++) {
		const struct dk_diff_item *it = &rep->items[i];

		if (out->len - budget_start >= max_output) {
			omitted = rep->nitems - i;
			break;
		}
		dk_buf_addf(out, "%s [%s]", shown_path(it->path), rule_title(rules, it->cause));
		if (it->package)
			dk_buf_addf(out, " package %s%s%s", it->package, it->script ? ", made by its " : "",
				    it->script ? it->script : "");
		if (it->expected)
			dk_buf_addf(out, " expected: %s", it->expected);
		dk_buf_adds(out, "\n  aspects: ");
		aspects_str(out, it->aspects);
		dk_buf_addc(out, '\n');
		for (const char *p = it->detail ? it->detail : ""; *p;) {
			const char *nl = strchr(p, '\n');
			size_t l = nl ? (size_t)(nl - p) : strlen(p);

			if (out->len - budget_start >= max_output) {
				dk_buf_adds(out, "    [output limit reached]\n");
				break;
			}
			dk_buf_addf(out, "    %.*s\n", (int)l, p);
			p += l + (nl ? 1 : 0);
		}
		if (it->detail_omitted)
			dk_buf_addf(out, "    [%zu more lines]\n", it->detail_omitted);
	}
	if (omitted)
		dk_buf_addf(out, "[%zu more differences not shown: --max-output]\n", omitted);
	if (rep->details_skipped)
		dk_buf_addf(out, "(%zu content differences without details: size or memory limits)\n",
			    rep->details_skipped);
	return 0;
}

/* Paths and link targets are bytes, not text: a byte that is not valid UTF-8 becomes '?' rather than a lost key. */
static json_t *jstr(const char *s)
{
	json_t *v;
	char *copy;

	if (!s)
		return json_null();
	if ((v = json_string(s)))
		return v;
	copy = strdup(s);
	if (!copy)
		return json_null();
	for (unsigned char *p = (unsigned char *)copy; *p; p++)
		if (*p >= 0x80)
			*p = '?';
	v = json_string(copy);
	free(copy);
	return v ? v : json_null();
}

static json_t *member_json(const struct dk_diff_member *m)
{
	char mode[8], hex[65];
	json_t *o;

	if (!m)
		return json_null();
	snprintf(mode, sizeof(mode), "%04o", m->mode);
	o = json_object();
	json_object_set_new(o, "type", json_stringn(&m->type, 1));
	json_object_set_new(o, "mode", json_string(mode));
	json_object_set_new(o, "uid", json_integer(m->uid));
	json_object_set_new(o, "gid", json_integer(m->gid));
	json_object_set_new(o, "uname", jstr(m->uname));
	json_object_set_new(o, "gname", jstr(m->gname));
	json_object_set_new(o, "mtime", json_integer(m->mtime));
	json_object_set_new(o, "size", json_integer((json_int_t)m->size));
	if (m->hashed) {
		dk_hex(m->sha256, 32, hex);
		json_object_set_new(o, "sha256", json_string(hex));
	} else {
		json_object_set_new(o, "sha256", json_null());
	}
	json_object_set_new(o, "target", jstr(m->target));
	json_object_set_new(o, "hardlink", jstr(m->hardlink));
	json_object_set_new(o, "kind", jstr(m->kind));
	return o;
}

static json_t *render_json(const struct dk_diff_report *rep, const struct dk_diff_rules *rules,
			   const struct summary *s, size_t max_output)
{
	json_t *root = json_object(), *sum = json_object(), *causes = json_array(), *pk = json_array();
	json_t *vers = json_array(), *diffs = json_array(), *side;
	size_t used = 0, omitted = 0;

	json_object_set_new(root, "schema", json_string("debkeep-diff/1"));
	for (int i = 0; i < 2; i++) {
		side = json_object();
		json_object_set_new(side, "path", jstr(i ? rep->b_name : rep->a_name));
		json_object_set_new(side, "kind", json_string(i ? rep->b_kind : rep->a_kind));
		json_object_set_new(side, "members",
				    json_integer((json_int_t)(i ? rep->b_members : rep->a_members)));
		json_object_set_new(side, "bytes",
				    json_integer((json_int_t)(i ? rep->b_bytes : rep->a_bytes)));
		json_object_set_new(root, i ? "b" : "a", side);
	}
	json_object_set_new(root, "verdict", json_string(verdict_word(rep)));
	json_object_set_new(sum, "differences", json_integer((json_int_t)rep->nitems));
	json_object_set_new(sum, "unexpected", json_integer((json_int_t)rep->unexpected));
	for (size_t i = 0; i < s->n; i++) {
		json_t *c = json_object();

		json_object_set_new(c, "cause", jstr(s->c[i].id));
		json_object_set_new(c, "title", jstr(s->c[i].title));
		json_object_set_new(c, "count", json_integer((json_int_t)s->c[i].count));
		json_object_set_new(c, "unexpected", json_integer((json_int_t)s->c[i].unexpected));
		{
			json_t *cp = json_array();

			for (size_t j = 0; j < s->c[i].npk; j++)
				json_array_append_new(cp, jstr(s->pkgs[s->c[i].pk[j]]));
			json_object_set_new(c, "packages", cp);
		}
		json_array_append_new(causes, c);
	}
	json_object_set_new(sum, "causes", causes);
	for (size_t i = 0; i < s->npkgs; i++)
		json_array_append_new(pk, jstr(s->pkgs[i]));
	json_object_set_new(sum, "packages", pk);
	json_object_set_new(root, "summary", sum);
	for (size_t i = 0; i < rep->npackages; i++) {
		json_t *v = json_object();

		json_object_set_new(v, "name", jstr(rep->packages[i].name));
		json_object_set_new(v, "a", jstr(rep->packages[i].a));
		json_object_set_new(v, "b", jstr(rep->packages[i].b));
		json_array_append_new(vers, v);
	}
	json_object_set_new(root, "package_versions", vers);
	for (size_t i = 0; i < rep->nitems; i++) {
		const struct dk_diff_item *it = &rep->items[i];
		json_t *d = json_object(), *asp = json_array();

		json_object_set_new(d, "path", jstr(it->path));
		json_object_set_new(d, "cause", jstr(it->cause));
		json_object_set_new(d, "title", jstr(rule_title(rules, it->cause)));
		for (int a = 0; a < DK_DA_COUNT; a++)
			if (it->aspects & DK_DA_BIT(a))
				json_array_append_new(asp, json_string(dk_diff_aspect_name(a)));
		json_object_set_new(d, "aspects", asp);
		json_object_set_new(d, "package", jstr(it->package));
		json_object_set_new(d, "script", jstr(it->script));
		json_object_set_new(d, "expected", jstr(it->expected));
		/* Past the output budget every difference is still listed, without its members and details. */
		json_object_set_new(d, "a", used < max_output ? member_json(it->a) : json_null());
		json_object_set_new(d, "b", used < max_output ? member_json(it->b) : json_null());
		if (used < max_output)
			used += 400;
		if (it->detail && used < max_output) {
			used += strlen(it->detail);
			json_object_set_new(d, "detail", jstr(it->detail));
		} else {
			omitted += it->detail != NULL;
			json_object_set_new(d, "detail", json_null());
		}
		json_object_set_new(d, "detail_omitted_lines", json_integer((json_int_t)it->detail_omitted));
		json_array_append_new(diffs, d);
	}
	json_object_set_new(root, "differences", diffs);
	json_object_set_new(root, "details_omitted", json_integer((json_int_t)omitted));
	json_object_set_new(root, "details_skipped", json_integer((json_int_t)rep->details_skipped));
	return root;
}

static void html_esc_s(struct dk_buf *b, const char *s)
{
	dk_buf_add_html(b, s, strlen(s));
}

/* Path components, splitting at '/' (and so at "!/" too). */
static size_t components(const char *path, const char **c, size_t *cl, size_t max)
{
	size_t n = 0;

	for (const char *p = path; *p && n < max;) {
		const char *e = strchr(p, '/');
		size_t l = e ? (size_t)(e - p) : strlen(p);

		c[n] = p;
		cl[n++] = l;
		p += l + (e ? 1 : 0);
	}
	return n;
}

static const char html_head[] =
	"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	"<title>debkeep diff</title>\n<style>\n"
	"body{font-family:sans-serif;margin:1.5em;color:#222}\n"
	"h1{font-size:1.3em}.verdict{font-size:1.15em;font-weight:bold;padding:.4em .6em;border-radius:4px}\n"
	".identical,.expected{background:#e3f5e1}.different{background:#fde2e1}\n"
	"table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.2em "
	".6em;text-align:left}\n"
	"details{margin-left:1.1em}summary{cursor:pointer}\n"
	"pre{background:#f6f6f6;padding:.5em;overflow-x:auto;font-size:.85em}\n"
	".cause{color:#555;font-size:.9em}.del{color:#a00}.ins{color:#070}\n"
	"</style></head><body>\n";

static void html_detail(struct dk_buf *b, const char *detail)
{
	dk_buf_adds(b, "<pre>");
	for (const char *p = detail; *p;) {
		const char *nl = strchr(p, '\n');
		size_t l = nl ? (size_t)(nl - p) : strlen(p);
		const char *cls = l && p[0] == '-' && !(l > 2 && p[1] == '-') ? "del"
			: l && p[0] == '+' && !(l > 2 && p[1] == '+')	      ? "ins"
									      : NULL;

		if (cls)
			dk_buf_addf(b, "<span class=\"%s\">", cls);
		dk_buf_add_html(b, p, l);
		if (cls)
			dk_buf_adds(b, "</span>");
		dk_buf_addc(b, '\n');
		p += l + (nl ? 1 : 0);
	}
	dk_buf_adds(b, "</pre>");
}

static int render_html(const struct dk_diff_report *rep, const struct dk_diff_rules *rules,
		       const struct summary *s, size_t max_output, struct dk_buf *b)
{
	const char *open_c[64], *c[64];
	size_t open_l[64], cl[64], depth = 0, used = 0;
	struct dk_buf v = DK_BUF_INIT;

	dk_buf_adds(b, html_head);
	dk_buf_adds(b, "<h1>debkeep diff: ");
	html_esc_s(b, rep->a_name);
	dk_buf_adds(b, " vs ");
	html_esc_s(b, rep->b_name);
	dk_buf_adds(b, "</h1>\n");
	verdict_line(&v, rep, s);
	dk_buf_addf(b, "<p id=\"verdict\" class=\"verdict %s\">", verdict_word(rep));
	dk_buf_add_html(b, v.data, v.len ? v.len - 1 : 0);
	dk_buf_release(&v);
	dk_buf_addf(
		b,
		"</p>\n<p>%s: %s, %llu members; %s: %s, %llu members; %zu differences, %zu unexpected</p>\n",
		"a", rep->a_kind, (unsigned long long)rep->a_members, "b", rep->b_kind,
		(unsigned long long)rep->b_members, rep->nitems, rep->unexpected);
	if (s->n) {
		dk_buf_adds(b,
			    "<table id=\"summary\"><tr><th>cause</th><th>differences</th><th>unexpected</th>"
			    "<th>packages</th></tr>\n");
		for (size_t i = 0; i < s->n; i++) {
			dk_buf_adds(b, "<tr><td>");
			html_esc_s(b, s->c[i].title);
			dk_buf_addf(b, "</td><td>%zu</td><td>%zu</td><td>", s->c[i].count,
				    s->c[i].unexpected);
			for (size_t j = 0; j < s->c[i].npk && j < 10; j++) {
				dk_buf_adds(b, j ? ", " : "");
				html_esc_s(b, s->pkgs[s->c[i].pk[j]]);
			}
			if (s->c[i].npk > 10)
				dk_buf_addf(b, " (+%zu more)", s->c[i].npk - 10);
			dk_buf_adds(b, "</td></tr>\n");
		}
		dk_buf_adds(b, "</table>\n");
	}
	if (rep->npackages) {
		dk_buf_adds(b, "<table><tr><th>package</th><th>a</th><th>b</th></tr>\n");
		for (size_t i = 0; i < rep->npackages; i++) {
			dk_buf_adds(b, "<tr><td>");
			html_esc_s(b, rep->packages[i].name);
			dk_buf_adds(b, "</td><td>");
			html_esc_s(b, rep->packages[i].a ? rep->packages[i].a : "");
			dk_buf_adds(b, "</td><td>");
			html_esc_s(b, rep->packages[i].b ? rep->packages[i].b : "");
			dk_buf_adds(b, "</td></tr>\n");
		}
		dk_buf_adds(b, "</table>\n");
	}
	dk_buf_adds(b, "<h2>differences</h2>\n<div id=\"tree\">\n");
	/* The tree: one <details> per directory level, opened and closed as the sorted paths go by. */
	for (size_t i = 0; i < rep->nitems; i++) {
		const struct dk_diff_item *it = &rep->items[i];
		size_t n = components(shown_path(it->path), c, cl, 64), common = 0;

		while (common < depth && common + 1 < n && open_l[common] == cl[common] &&
		       memcmp(open_c[common], c[common], cl[common]) == 0)
			common++;
		for (; depth > common; depth--)
			dk_buf_adds(b, "</details>\n");
		for (; depth + 1 < n; depth++) {
			open_c[depth] = c[depth];
			open_l[depth] = cl[depth];
			dk_buf_adds(b, "<details open><summary>");
			dk_buf_add_html(b, c[depth], cl[depth]);
			dk_buf_adds(b, "/</summary>\n");
		}
		dk_buf_adds(b, "<details><summary>");
		dk_buf_add_html(b, c[n - 1], cl[n - 1]);
		dk_buf_adds(b, " <span class=\"cause\">[");
		html_esc_s(b, rule_title(rules, it->cause));
		dk_buf_adds(b, "]");
		if (it->package) {
			dk_buf_adds(b, " ");
			html_esc_s(b, it->package);
			if (it->script) {
				dk_buf_adds(b, " (");
				html_esc_s(b, it->script);
				dk_buf_adds(b, ")");
			}
		}
		dk_buf_adds(b, it->expected ? " expected" : "");
		dk_buf_adds(b, "</span></summary>\n");
		if (it->detail && used < max_output) {
			used += strlen(it->detail);
			html_detail(b, it->detail);
			if (it->detail_omitted)
				dk_buf_addf(b, "<p>[%zu more lines]</p>", it->detail_omitted);
		} else if (it->detail) {
			dk_buf_adds(b, "<p>[details not shown: --max-output]</p>");
		}
		dk_buf_adds(b, "</details>\n");
	}
	for (; depth > 0; depth--)
		dk_buf_adds(b, "</details>\n");
	dk_buf_adds(b, "</div>\n</body></html>\n");
	return b->failed ? -1 : 0;
}


static int push(const char ***v, size_t *n, const char *s)
{
	const char **p = realloc(*v, (*n + 2) * sizeof(*p));

	if (!p)
		return -1;
	p[(*n)++] = s;
	p[*n] = NULL;
	*v = p;
	return 0;
}

/* The built-in table (data/diff-rules), or --rules FILE. */
static int load_rules(const struct diff_cli *dc, struct dk_diff_rules *rules)
{
	struct dk_err err = DK_ERR_INIT;
	struct dk_buf raw = DK_BUF_INIT;
	int r;

	if (!dc->rules)
		r = dk_diff_rules_parse(rules, dk_diff_default_rules, strlen(dk_diff_default_rules),
					"data/diff-rules", &err);
	else if (!(r = dk_read_file(dc->rules, &raw, (size_t)1 << 20, &err)))
		r = dk_diff_rules_parse(rules, raw.data, raw.len, dc->rules, &err);
	dk_buf_release(&raw);
	return r ? cli_fail(&err) : 0;
}

static int parse_size(struct cli *cli, const char *opt, const char *arg, size_t *out)
{
	char *end;
	unsigned long long v = strtoull(arg, &end, 10);

	if (end == arg || *end || arg[0] == '-')
		return cli_usage(cli, "diff: %s: not a number: '%s'", opt, arg);
	*out = (size_t)v;
	return 0;
}

static int take(struct cli *cli, int opt, char *arg, void *ctx)
{
	struct diff_cli *dc = ctx;
	size_t v = 0;
	int rc;

	switch (opt) {
	case 'H':
		dc->html = arg;
		break;
	case 'e':
		dc->expect = arg;
		break;
	case 'x':
		if (push(&dc->exclude, &dc->nexclude, arg))
			return EXIT_INTERNAL;
		break;
	case 'o':
		return parse_size(cli, "--max-output", arg, &dc->max_output);
	case 'l':
		if ((rc = parse_size(cli, "--max-lines", arg, &v)))
			return rc;
		dc->o.max_detail_lines = v ? v : 1;
		break;
	case 'm':
		return parse_size(cli, "--max-member", arg, &dc->o.max_member_bytes);
	case 't':
		if ((rc = parse_size(cli, "--timeout", arg, &v)))
			return rc;
		dc->o.timeout = (unsigned)v;
		break;
	case 'r':
		dc->rules = arg;
		break;
	case 'j':
		if ((rc = parse_size(cli, "--jobs", arg, &v)))
			return rc;
		dc->o.jobs = (int)v;
		break;
	}
	return 0;
}

int cmd_diff(struct cli *cli, int argc, char **argv)
{
	/* --json first, where it has always been: getopt names the candidates for --j in table order. */
	static const struct option opts[] = {
		{ "json", no_argument, NULL, CLI_OPT_JSON },
		{ "html", required_argument, NULL, 'H' },
		{ "expect", required_argument, NULL, 'e' },
		{ "exclude", required_argument, NULL, 'x' },
		{ "max-output", required_argument, NULL, 'o' },
		{ "max-lines", required_argument, NULL, 'l' },
		{ "max-member", required_argument, NULL, 'm' },
		{ "timeout", required_argument, NULL, 't' },
		{ "rules", required_argument, NULL, 'r' },
		{ "jobs", required_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct diff_cli dc = { .max_output = 65536 };
	const struct cli_options co = {
		.usage = diff_usage, .bad = "diff: bad option", .opts = opts, .take = take, .ctx = &dc,
	};
	struct dk_diff_rules rules = DK_DIFF_RULES_INIT;
	struct dk_diff_expect expect = DK_DIFF_EXPECT_INIT;
	struct dk_diff_report rep = DK_DIFF_REPORT_INIT;
	struct dk_err err = DK_ERR_INIT;
	struct dk_buf text = DK_BUF_INIT, file = DK_BUF_INIT;
	struct summary sum = { 0 };
	int rc;

	cli->prog = "debkeep diff";
	if ((rc = cli_parse(cli, argc, argv, &co)) >= 0)
		goto out;
	if (argc - optind != 2) {
		rc = cli_usage(cli, "diff: expected two inputs, A and B");
		goto out;
	}
	if ((rc = load_rules(&dc, &rules)))
		goto out;
	dc.o.rules = &rules;
	if (dc.expect) {
		struct dk_buf raw = DK_BUF_INIT;

		if (dk_read_file(dc.expect, &raw, (size_t)1 << 20, &err) ||
		    dk_diff_expect_parse(&expect, raw.data, raw.len, dc.expect, &err)) {
			dk_buf_release(&raw);
			rc = cli_fail(&err);
			goto out;
		}
		dk_buf_release(&raw);
		dc.o.expect = &expect;
	}
	dc.o.exclude = dc.exclude;
	if (dk_diff_run(argv[optind], argv[optind + 1], &dc.o, &rep, &err)) {
		rc = cli_fail(&err);
		goto out;
	}
	if (summarise(&rep, &rules, &sum)) {
		rc = EXIT_INTERNAL;
		goto out;
	}
	if (dc.html) {
		if (render_html(&rep, &rules, &sum, dc.max_output * 8, &file) ||
		    dk_write_file_atomic(dc.html, file.data, file.len, 0644, &err)) {
			if (!err.code)
				dk_err_set(&err, DK_ENOMEM, "%s: out of memory", dc.html);
			rc = cli_fail(&err);
			goto out;
		}
	}
	if (cli->json) {
		if (cli_json_out(render_json(&rep, &rules, &sum, dc.max_output))) {
			rc = EXIT_INTERNAL;
			goto out;
		}
	} else {
		render_text(&rep, &rules, &sum, dc.max_output, &text);
		fwrite(text.data, 1, text.len, stdout);
	}
	rc = rep.unexpected ? EXIT_FOUND : EXIT_OK;
out:
	summary_release(&sum);
	dk_diff_report_release(&rep);
	dk_diff_rules_release(&rules);
	dk_diff_expect_release(&expect);
	dk_buf_release(&text);
	dk_buf_release(&file);
	free(dc.exclude);
	return rc;
}
