/* rules.c - the cause table (data/diff-rules) and the expected-differences policy (--expect) */
#include <fnmatch.h>
#include <string.h>

#include <debkeep/deb822.h>
#include <debkeep/diff.h>

#include "banned.h"

static const char *const aspect_names[DK_DA_COUNT] = {
	[DK_DA_ADDED] = "added",
	[DK_DA_REMOVED] = "removed",
	[DK_DA_TYPE] = "type",
	[DK_DA_CONTENT] = "content",
	[DK_DA_MODE] = "mode",
	[DK_DA_OWNER] = "owner",
	[DK_DA_MTIME] = "mtime",
	[DK_DA_TARGET] = "symlink-target",
	[DK_DA_HARDLINK] = "hardlink",
	[DK_DA_DEVICE] = "device",
	[DK_DA_XATTR] = "xattr",
	[DK_DA_ORDER] = "order",
	[DK_DA_GZIP_HEADER] = "gzip-header",
	[DK_DA_TAR_HEADER] = "tar-header",
	[DK_DA_FS_UUID] = "fs-uuid",
	[DK_DA_FS_HASH_SEED] = "fs-hash-seed",
	[DK_DA_FS_TIMES] = "fs-times",
	[DK_DA_FS_OTHER] = "fs-other",
	[DK_DA_ENCODING] = "encoding",
	[DK_DA_BUILD_ID] = "content-build-id",
	[DK_DA_DATE] = "content-date",
	[DK_DA_BUILD_PATH] = "content-build-path",
	[DK_DA_SHADOW] = "content-shadow",
};

const char *dk_diff_aspect_name(enum dk_diff_aspect a)
{
	return a < DK_DA_COUNT ? aspect_names[a] : "?";
}

int dk_diff_aspect_from_name(const char *name, size_t len)
{
	for (int i = 0; i < DK_DA_COUNT; i++)
		if (strlen(aspect_names[i]) == len && memcmp(aspect_names[i], name, len) == 0)
			return i;
	return -1;
}

/*
 * Every image member is tried against every path rule, so fnmatch runs only where the
 * pattern's literal head matches, and only when the path ends as the pattern's literal tail must.
 */
bool dk_diff_path_match(const char *pattern, const char *path)
{
	size_t head = strcspn(pattern, "*?[\\"), plen = strlen(path), tail = 0;
	const char *p;

	while (tail < strlen(pattern) && !strchr("*?]\\", pattern[strlen(pattern) - 1 - tail]))
		tail++;
	if (tail > plen || memcmp(path + plen - tail, pattern + strlen(pattern) - tail, tail) != 0)
		return false;
	if (strncmp(path, pattern, head) == 0 && fnmatch(pattern, path, 0) == 0)
		return true;
	for (p = path; *p; p++)
		if (*p == '/' && p[1] && strncmp(p + 1, pattern, head) == 0 &&
		    fnmatch(pattern, p + 1, 0) == 0)
			return true;
	return false;
}

/* "a b c" -> bits; "any" is every aspect. */
static int parse_aspects(const struct dk_field *f, uint32_t *out, const char *name, struct dk_err *err)
{
	const char *p = f->value, *e = f->value + f->value_len;

	*out = 0;
	while (p < e) {
		const char *w;
		int a;

		while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == ','))
			p++;
		w = p;
		while (p < e && *p != ' ' && *p != '\t' && *p != '\n' && *p != ',')
			p++;
		if (p == w)
			break;
		if (p - w == 3 && memcmp(w, "any", 3) == 0) {
			*out = (1u << DK_DA_COUNT) - 1;
			continue;
		}
		a = dk_diff_aspect_from_name(w, (size_t)(p - w));
		if (a < 0)
			return dk_err_set(err, DK_EINPUT, "%s:%u: %.*s: unknown aspect '%.*s'", name, f->line,
					  (int)f->name_len, f->name, (int)(p - w), w);
		*out |= DK_DA_BIT(a);
	}
	return 0;
}

static const char **parse_paths(struct dk_arena *a, const struct dk_field *f)
{
	const char *p = f->value, *e = f->value + f->value_len;
	const char **v;
	size_t n = 0, i = 0;

	for (const char *q = p; q < e; q++)
		if (*q == ' ' || *q == '\n')
			n++;
	v = dk_arena_alloc(a, (n + 2) * sizeof(*v));
	if (!v)
		return NULL;
	while (p < e) {
		const char *w;

		while (p < e && (*p == ' ' || *p == '\t' || *p == '\n'))
			p++;
		w = p;
		while (p < e && *p != ' ' && *p != '\t' && *p != '\n')
			p++;
		if (p > w && !(v[i++] = dk_arena_strndup(a, w, (size_t)(p - w))))
			return NULL;
	}
	v[i] = NULL;
	return v;
}

int dk_diff_rules_parse(struct dk_diff_rules *r, const char *text, size_t len, const char *name,
			struct dk_err *err)
{
	struct dk_deb822 p;
	struct dk_stanza st;
	struct dk_buf val = DK_BUF_INIT;
	size_t cap = 0;
	int rc;

	*r = (struct dk_diff_rules)DK_DIFF_RULES_INIT;
	dk_deb822_init(&p, text, len, name, DK_DEB822_ALLOW_COMMENTS);
	while ((rc = dk_deb822_next(&p, &st, err)) == 1) {
		const struct dk_field *id = dk_stanza_get(&st, "Cause"), *title = dk_stanza_get(&st, "Title");
		const struct dk_field *paths = dk_stanza_get(&st, "Path"),
				      *asp = dk_stanza_get(&st, "Aspects");
		const struct dk_field *req = dk_stanza_get(&st, "Requires"), *doc = dk_stanza_get(&st, "Doc");
		struct dk_diff_rule *rule;

		if (!id || !title || !asp) {
			rc = dk_err_set(err, DK_EINPUT, "%s:%u: a rule needs Cause, Title and Aspects", name,
					st.line);
			break;
		}
		if (r->n == cap) {
			struct dk_diff_rule *v = dk_arena_alloc(&r->arena,
								(cap = cap ? cap * 2 : 32) * sizeof(*v));

			if (!v) {
				rc = dk_err_set(err, DK_ENOMEM, "%s: out of memory", name);
				break;
			}
			if (r->n)
				memcpy(v, r->v, r->n * sizeof(*v));
			r->v = v;
		}
		rule = &r->v[r->n];
		memset(rule, 0, sizeof(*rule));
		rule->id = dk_arena_strndup(&r->arena, id->value, id->value_len);
		rule->title = dk_arena_strndup(&r->arena, title->value, title->value_len);
		if (doc) {
			dk_buf_reset(&val);
			dk_field_value(doc, &val);
			rule->doc = dk_arena_strndup(&r->arena, val.data, val.len);
		}
		if (paths && !(rule->paths = parse_paths(&r->arena, paths))) {
			rc = dk_err_set(err, DK_ENOMEM, "%s: out of memory", name);
			break;
		}
		if ((rc = parse_aspects(asp, &rule->allow, name, err)) ||
		    (req && (rc = parse_aspects(req, &rule->require, name, err))))
			break;
		if (!rule->id || !rule->title) {
			rc = dk_err_set(err, DK_ENOMEM, "%s: out of memory", name);
			break;
		}
		for (size_t i = 0; i < r->n; i++)
			if (strcmp(r->v[i].id, rule->id) == 0) {
				rc = dk_err_set(err, DK_EINPUT, "%s:%u: cause '%s' given twice", name,
						st.line, rule->id);
				goto out;
			}
		r->n++;
	}
out:
	dk_deb822_release(&p);
	dk_buf_release(&val);
	if (rc < 0) {
		dk_diff_rules_release(r);
		return rc;
	}
	return 0;
}

void dk_diff_rules_release(struct dk_diff_rules *r)
{
	dk_arena_release(&r->arena);
	*r = (struct dk_diff_rules)DK_DIFF_RULES_INIT;
}

const struct dk_diff_rule *dk_diff_rules_match(const struct dk_diff_rules *r, const char *path,
					       uint32_t aspects)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct dk_diff_rule *rule = &r->v[i];
		bool path_ok = !rule->paths;

		if (aspects & ~rule->allow)
			continue;
		if (rule->require && !(aspects & rule->require))
			continue;
		for (const char **p = rule->paths; p && *p && !path_ok; p++)
			path_ok = dk_diff_path_match(*p, path);
		if (path_ok)
			return rule;
	}
	return NULL;
}

const struct dk_diff_rule *dk_diff_rules_find(const struct dk_diff_rules *r, const char *id)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->v[i].id, id) == 0)
			return &r->v[i];
	return NULL;
}

int dk_diff_expect_parse(struct dk_diff_expect *e, const char *text, size_t len, const char *name,
			 struct dk_err *err)
{
	const char *p = text, *end = text + len;
	size_t cap = 0;
	unsigned line = 0;

	*e = (struct dk_diff_expect)DK_DIFF_EXPECT_INIT;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *le = nl ? nl : end, *w1, *w2, *r;
		struct dk_diff_expect_entry *ent;

		line++;
		while (p < le && (*p == ' ' || *p == '\t'))
			p++;
		if (p == le || *p == '#') {
			p = le + 1;
			continue;
		}
		w1 = p;
		while (p < le && *p != ' ' && *p != '\t')
			p++;
		if (!((p - w1 == 5 && memcmp(w1, "cause", 5) == 0) ||
		      (p - w1 == 4 && memcmp(w1, "path", 4) == 0))) {
			dk_diff_expect_release(e);
			return dk_err_set(err, DK_EINPUT,
					  "%s:%u: a line starts with 'cause' or 'path', not '%.*s'", name,
					  line, (int)(p - w1), w1);
		}
		while (p < le && (*p == ' ' || *p == '\t'))
			p++;
		w2 = p;
		while (p < le && *p != ' ' && *p != '\t')
			p++;
		r = p;
		while (r < le && (*r == ' ' || *r == '\t'))
			r++;
		if (p == w2 || r == le) {
			dk_diff_expect_release(e);
			return dk_err_set(err, DK_EINPUT,
					  "%s:%u: expected '%.*s WHAT REASON': the reason is required", name,
					  line, (int)(w2 > w1 ? w2 - w1 - 1 : 0), w1);
		}
		if (e->n == cap) {
			struct dk_diff_expect_entry *v = dk_arena_alloc(
				&e->arena, (cap = cap ? cap * 2 : 16) * sizeof(*v));

			if (!v) {
				dk_diff_expect_release(e);
				return dk_err_set(err, DK_ENOMEM, "%s: out of memory", name);
			}
			if (e->n)
				memcpy(v, e->v, e->n * sizeof(*v));
			e->v = v;
		}
		ent = &e->v[e->n++];
		ent->is_path = w1[0] == 'p';
		ent->what = dk_arena_strndup(&e->arena, w2, (size_t)(p - w2));
		{
			const char *re = le;

			while (re > r && (re[-1] == ' ' || re[-1] == '\t' || re[-1] == '\r'))
				re--;
			ent->reason = dk_arena_strndup(&e->arena, r, (size_t)(re - r));
		}
		if (!ent->what || !ent->reason) {
			dk_diff_expect_release(e);
			return dk_err_set(err, DK_ENOMEM, "%s: out of memory", name);
		}
		p = le + 1;
	}
	return 0;
}

void dk_diff_expect_release(struct dk_diff_expect *e)
{
	dk_arena_release(&e->arena);
	*e = (struct dk_diff_expect)DK_DIFF_EXPECT_INIT;
}
