/* kconfig.c - kernel .config parser, hardening rules file parser, and the check of one against the other */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <debkeep/input.h>
#include <debkeep/kconfig.h>

#include "banned.h"

#define KCONFIG_MAX ((size_t)64 << 20) /* a distribution config is ~250 kB; anything near this is not one */

int dk_kver_parse(struct dk_kver *v, const char *s, size_t len)
{
	unsigned part[3] = { 0, 0, 0 };
	size_t i = 0;
	int n = 0;

	/* Up to three dot-separated numbers; whatever follows ("-28-amd64", "-rc3") is not ours. */
	while (n < 3) {
		size_t start = i;

		while (i < len && s[i] >= '0' && s[i] <= '9' && i - start < 6)
			part[n] = part[n] * 10 + (unsigned)(s[i++] - '0');
		if (i == start || (i < len && s[i] >= '0' && s[i] <= '9'))
			break;
		n++;
		if (i + 1 >= len || s[i] != '.' || s[i + 1] < '0' || s[i + 1] > '9')
			break;
		i++;
	}
	if (n < 2)
		return DK_EINPUT;
	v->major = part[0];
	v->minor = part[1];
	v->patch = n > 2 ? part[2] : 0;
	return 0;
}

int dk_kver_cmp(const struct dk_kver *a, const struct dk_kver *b)
{
	if (a->major != b->major)
		return a->major < b->major ? -1 : 1;
	if (a->minor != b->minor)
		return a->minor < b->minor ? -1 : 1;
	return 0;
}

static const struct {
	const char *name;
	enum dk_kconfig_arch arch;
} arch_names[] = {
	{ "x86_64", DK_KARCH_X86_64 },
	{ "amd64", DK_KARCH_X86_64 },
	{ "arm64", DK_KARCH_ARM64 },
	{ "aarch64", DK_KARCH_ARM64 },
};

enum dk_kconfig_arch dk_kconfig_arch_parse(const char *s)
{
	for (size_t i = 0; i < sizeof(arch_names) / sizeof(arch_names[0]); i++)
		if (strcmp(s, arch_names[i].name) == 0)
			return arch_names[i].arch;
	return DK_KARCH_NONE;
}

const char *dk_kconfig_arch_name(enum dk_kconfig_arch a)
{
	switch (a) {
	case DK_KARCH_X86_64:
		return "x86_64";
	case DK_KARCH_ARM64:
		return "arm64";
	default:
		return "unknown";
	}
}

static const char *const category_names[DK_KCAT_COUNT] = {
	"self_protection", "security_policy", "cut_attack_surface", "harden_userspace", "network_security",
};

const char *dk_kconfig_category_name(enum dk_kconfig_category c)
{
	return c < DK_KCAT_COUNT ? category_names[c] : "unknown";
}

const char *dk_kconfig_result_name(enum dk_kconfig_result r)
{
	static const char *const names[DK_KRES_COUNT] = { "OK", "FAIL", "N/A" };

	return r < DK_KRES_COUNT ? names[r] : "unknown";
}

/* --- shared lexing ------------------------------------------------------------------------- */

static inline bool is_name_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

static inline bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* A printable excerpt of a bad line for a message: at most 40 bytes, anything odd as '?'. */
static const char *excerpt(const char *s, size_t n, char out[48])
{
	size_t k = 0;

	for (size_t i = 0; i < n && k < 40; i++)
		out[k++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	if (n > 40) {
		out[k - 3] = '.';
		out[k - 2] = '.';
		out[k - 1] = '.';
	}
	out[k] = '\0';
	return out;
}

/* A number as kconfig writes int and hex values: -?[0-9]+ or 0x[0-9a-fA-F]+. */
static bool parse_number(const char *s, size_t n, long long *out)
{
	char tmp[32];
	char *end;
	size_t i = 0;
	bool hex = n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');

	if (n == 0 || n >= sizeof(tmp))
		return false;
	if (hex) {
		for (i = 2; i < n; i++)
			if (!isxdigit((unsigned char)s[i]))
				return false;
	} else {
		if (s[0] == '-')
			i = 1;
		if (i == n)
			return false;
		for (; i < n; i++)
			if (s[i] < '0' || s[i] > '9')
				return false;
	}
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	errno = 0;
	*out = hex ? (long long)strtoull(tmp + 2, &end, 16) : strtoll(tmp, &end, 10);
	return errno == 0 && *end == '\0';
}

/* The length of a complete "..." string at s (backslash escapes allowed), or 0. */
static size_t quoted_len(const char *s, size_t n)
{
	if (n < 2 || s[0] != '"')
		return 0;
	for (size_t i = 1; i < n; i++) {
		if (s[i] == '\\') {
			i++;
		} else if (s[i] == '"') {
			return i + 1;
		}
	}
	return 0;
}

/* --- .config ------------------------------------------------------------------------------- */

static int set_entry(struct dk_kconfig *kc, const char *name, size_t nlen, uint8_t state, const char *val,
		     size_t vlen, uint32_t line, struct dk_err *err)
{
	struct dk_kconfig_entry *e;
	dk_id id;

	kc->options++;
	if (kc->only) {
		if (!(id = dk_strpool_lookup(kc->only, name, nlen)))
			return 0;
	} else if (!(id = dk_strpool_intern(&kc->names, name, nlen))) {
		return dk_err_set(err, DK_ENOMEM, "out of memory");
	}
	if (id >= kc->nentries) {
		size_t n = kc->nentries ? kc->nentries * 2 : kc->only ? dk_strpool_count(kc->only) : 4096;
		struct dk_kconfig_entry *p;

		while (n <= id)
			n *= 2;
		p = realloc(kc->entries, n * sizeof(*p));
		if (!p)
			return dk_err_set(err, DK_ENOMEM, "out of memory");
		memset(p + kc->nentries, 0, (n - kc->nentries) * sizeof(*p));
		kc->entries = p;
		kc->nentries = n;
	}
	e = &kc->entries[id];
	if (e->state != DK_KCONFIG_ABSENT)
		kc->duplicates++;
	e->state = state;
	e->line = line;
	e->value = NULL;
	e->len = 0;
	if (state == DK_KCONFIG_SET) {
		if (!(e->value = dk_arena_strndup(&kc->values, val, vlen)))
			return dk_err_set(err, DK_ENOMEM, "out of memory");
		e->len = (uint32_t)vlen;
	}
	return 0;
}

/* "# Linux/x86 6.1.192 Kernel Configuration": the first such line gives the version. */
static void header_line(struct dk_kconfig *kc, const char *s, size_t n)
{
	static const char pre[] = "# Linux/", post[] = " Kernel Configuration";
	const size_t plen = sizeof(pre) - 1, qlen = sizeof(post) - 1;
	const char *arch, *sp;

	if (kc->has_version || n <= plen + qlen || memcmp(s, pre, plen) != 0 ||
	    memcmp(s + n - qlen, post, qlen) != 0)
		return;
	arch = s + plen;
	sp = memchr(arch, ' ', (size_t)(s + n - qlen - arch));
	if (!sp || (size_t)(sp - arch) >= sizeof(kc->header_arch))
		return;
	if (dk_kver_parse(&kc->version, sp + 1, (size_t)(s + n - qlen - sp - 1)))
		return;
	memcpy(kc->header_arch, arch, (size_t)(sp - arch));
	kc->header_arch[sp - arch] = '\0';
	kc->has_version = true;
}

static int config_line(struct dk_kconfig *kc, const char *s, size_t n, uint32_t line, const char *fname,
		       struct dk_err *err)
{
	static const char notset[] = " is not set";
	const size_t nslen = sizeof(notset) - 1;
	const char *name = s + 7, *v;
	size_t i, nlen, vlen;
	long long num;
	char ex[48];

	if (n == 0)
		return 0;
	if (s[0] == '#') {
		if (n > 9 + nslen && memcmp(s, "# CONFIG_", 9) == 0 && memcmp(s + n - nslen, notset, nslen) == 0) {
			for (i = 9; i < n - nslen && is_name_char(s[i]); i++)
				;
			if (i == n - nslen && i > 9)
				return set_entry(kc, s + 9, i - 9, DK_KCONFIG_NOT_SET, NULL, 0, line, err);
		}
		header_line(kc, s, n);
		return 0;
	}
	if (n < 8 || memcmp(s, "CONFIG_", 7) != 0)
		return dk_err_set(err, DK_EINPUT, "%s:%u: not an option, a comment or a blank line: '%s'", fname,
				  line, excerpt(s, n, ex));
	for (i = 7; i < n && is_name_char(s[i]); i++)
		;
	if (i == 7 || i == n || s[i] != '=')
		return dk_err_set(err, DK_EINPUT, "%s:%u: expected CONFIG_NAME=VALUE: '%s'", fname, line,
				  excerpt(s, n, ex));
	nlen = i - 7;
	v = s + i + 1;
	vlen = n - i - 1;
	if (vlen == 1 && (v[0] == 'y' || v[0] == 'm'))
		return set_entry(kc, name, nlen, DK_KCONFIG_SET, v, 1, line, err);
	if (vlen == 1 && v[0] == 'n')
		return set_entry(kc, name, nlen, DK_KCONFIG_NOT_SET, NULL, 0, line, err);
	if ((vlen && quoted_len(v, vlen) == vlen) || parse_number(v, vlen, &num))
		return set_entry(kc, name, nlen, DK_KCONFIG_SET, v, vlen, line, err);
	return dk_err_set(err, DK_EINPUT,
			  "%s:%u: CONFIG_%.*s: bad value '%s' (expected y, m, n, a number or a \"string\")", fname,
			  line, (int)nlen, name, excerpt(v, vlen, ex));
}

int dk_kconfig_parse(struct dk_kconfig *kc, const char *data, size_t len, const char *name, struct dk_err *err)
{
	const char *p = data, *end = data + len;
	uint32_t line = 0;
	int r;

	if (memchr(data, '\0', len))
		return dk_err_set(err, DK_EINPUT, "%s: a NUL byte: not a kernel config", name);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;

		line++;
		while (e > p && (e[-1] == '\r' || is_blank(e[-1])))
			e--;
		if (e > p && is_blank(p[0])) {
			char ex[48];

			return dk_err_set(err, DK_EINPUT, "%s:%u: unexpected leading blank: '%s'", name, line,
					  excerpt(p, (size_t)(e - p), ex));
		}
		if ((r = config_line(kc, p, (size_t)(e - p), line, name, err)))
			return r;
		p = nl ? nl + 1 : end;
	}
	return 0;
}

int dk_kconfig_load(struct dk_kconfig *kc, const char *path, struct dk_err *err)
{
	struct dk_input in = DK_INPUT_INIT;
	int r;

	if ((r = dk_input_open(&in, path, KCONFIG_MAX, err)))
		return r;
	r = dk_kconfig_parse(kc, in.data ? in.data : "", in.len, path, err);
	dk_input_release(&in);
	return r;
}

void dk_kconfig_release(struct dk_kconfig *kc)
{
	const struct dk_strpool *only = kc->only;

	dk_strpool_release(&kc->names);
	free(kc->entries);
	dk_arena_release(&kc->values);
	*kc = (struct dk_kconfig)DK_KCONFIG_INIT;
	kc->only = only;
}

const struct dk_kconfig_entry *dk_kconfig_get(const struct dk_kconfig *kc, const char *name, size_t len)
{
	static const struct dk_kconfig_entry absent = { NULL, 0, 0, DK_KCONFIG_ABSENT };
	const struct dk_strpool *pool = kc->only ? kc->only : &kc->names;
	dk_id id = pool->count ? dk_strpool_lookup(pool, name, len) : 0;

	return id && id < kc->nentries ? &kc->entries[id] : &absent;
}

static bool is_y(const struct dk_kconfig *kc, const char *name)
{
	const struct dk_kconfig_entry *e = dk_kconfig_get(kc, name, strlen(name));

	return e->state == DK_KCONFIG_SET && e->len == 1 && e->value[0] == 'y';
}

enum dk_kconfig_arch dk_kconfig_detect_arch(const struct dk_kconfig *kc)
{
	if (is_y(kc, "X86_64"))
		return DK_KARCH_X86_64;
	if (is_y(kc, "ARM64"))
		return DK_KARCH_ARM64;
	return DK_KARCH_NONE;
}

/* --- rules --------------------------------------------------------------------------------- */

struct token {
	const char *s;
	size_t n;
};

#define MAX_TOKENS 16

/*
 * Split on blanks; a token that starts with '"' runs to its closing quote.
 * The max-th token takes the rest of the line (a source's title).
 */
static int tokenize(const char *s, size_t n, struct token *tok, size_t *ntok, size_t max)
{
	size_t i = 0, k = 0;

	while (i < n) {
		size_t start;

		while (i < n && is_blank(s[i]))
			i++;
		if (i == n)
			break;
		if (k == max)
			return -1;
		start = i;
		if (k + 1 == max && max < MAX_TOKENS)
			i = n;
		while (i < n && !is_blank(s[i])) {
			size_t q;

			if (s[i] == '"' && (q = quoted_len(s + i, n - i)) != 0)
				i += q;
			else
				i++;
		}
		tok[k].s = s + start;
		tok[k++].n = i - start;
	}
	*ntok = k;
	return 0;
}

static bool is_source(const char *s, const char *e)
{
	return e - s > 7 && memcmp(s, "source", 6) == 0 && is_blank(s[6]);
}

static bool tok_is(const struct token *t, const char *w)
{
	return t->n == strlen(w) && memcmp(t->s, w, t->n) == 0;
}

static bool valid_name(const char *s, size_t n)
{
	if (n == 0 || n > 100)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_name_char(s[i]))
			return false;
	return true;
}

/* "-", "4.11-", "-5.16", "4.16-5.16" */
static int parse_range(const char *s, size_t n, struct dk_kver *since, struct dk_kver *until)
{
	const char *dash = memchr(s, '-', n);
	struct dk_kver none = { 0, 0, 0 };

	*since = none;
	*until = none;
	if (!dash)
		return -1;
	if (dash > s && dk_kver_parse(since, s, (size_t)(dash - s)))
		return -1;
	if (dash + 1 < s + n && dk_kver_parse(until, dash + 1, (size_t)(s + n - dash - 1)))
		return -1;
	if (since->major && until->major && dk_kver_cmp(since, until) >= 0)
		return -1;
	return 0;
}

static int parse_want(struct dk_kconfig_rules *r, struct dk_kconfig_expect *e, const char *s, size_t n)
{
	e->numeric = false;
	if (n == 1 && s[0] == 'n') {
		e->want = DK_KWANT_NOT_SET;
		return 0;
	}
	if (n > 2 && s[0] == '>' && s[1] == '=') {
		e->want = DK_KWANT_AT_LEAST;
		e->numeric = true;
		return parse_number(s + 2, n - 2, &e->num) ? 0 : -1;
	}
	if (n > 1 && s[0] == '=') {
		if (!valid_name(s + 1, n - 1))
			return -1;
		e->want = DK_KWANT_SAME_AS;
	} else if (n == 1 && (s[0] == 'y' || s[0] == 'm')) {
		e->want = DK_KWANT_VALUE;
	} else if (parse_number(s, n, &e->num)) {
		e->want = DK_KWANT_VALUE;
		e->numeric = true;
	} else if (n >= 2 && quoted_len(s, n) == n) {
		e->want = DK_KWANT_VALUE;
	} else {
		return -1;
	}
	if (e->want == DK_KWANT_SAME_AS) {
		s++;
		n--;
	}
	if (!(e->value = dk_arena_strndup(&r->arena, s, n)))
		return -2;
	e->value_len = (uint32_t)n;
	return 0;
}

static int set_name(struct dk_kconfig_rules *r, struct dk_kconfig_expect *e, const char *s, size_t n)
{
	if (!valid_name(s, n))
		return -1;
	if (!(e->name = dk_arena_strndup(&r->arena, s, n)))
		return -2;
	e->name_len = (uint32_t)n;
	return 0;
}

static int grow(void **p, size_t *alloc, size_t need, size_t size)
{
	void *q;
	size_t n;

	if (need <= *alloc)
		return 0;
	n = *alloc ? *alloc * 2 : 64;
	while (n < need)
		n *= 2;
	if (!(q = realloc(*p, n * size)))
		return -1;
	*p = q;
	*alloc = n;
	return 0;
}

static int source_line(struct dk_kconfig_rules *r, const struct token *tok, size_t ntok, const char *fname,
		       uint32_t line, struct dk_err *err)
{
	struct dk_kconfig_source *src;

	if (ntok < 3 || !valid_name(tok[1].s, tok[1].n))
		return dk_err_set(err, DK_EINPUT, "%s:%u: expected 'source ID TITLE AND ADDRESS'", fname, line);
	for (size_t i = 0; i < r->nsources; i++)
		if (strlen(r->sources[i].id) == tok[1].n && memcmp(r->sources[i].id, tok[1].s, tok[1].n) == 0)
			return dk_err_set(err, DK_EINPUT, "%s:%u: source '%.*s' defined twice", fname, line,
					  (int)tok[1].n, tok[1].s);
	if (grow((void **)&r->sources, &r->alloc_sources, r->nsources + 1, sizeof(*r->sources)))
		return dk_err_set(err, DK_ENOMEM, "out of memory");
	src = &r->sources[r->nsources];
	src->id = dk_arena_strndup(&r->arena, tok[1].s, tok[1].n);
	src->title = dk_arena_strndup(&r->arena, tok[2].s, tok[2].n);
	if (!src->id || !src->title)
		return dk_err_set(err, DK_ENOMEM, "out of memory");
	r->nsources++;
	return 0;
}

static int parse_archs(const struct token *t, uint8_t *archs)
{
	const char *s = t->s, *end = t->s + t->n;

	*archs = 0;
	if (tok_is(t, "all")) {
		*archs = DK_KARCH_ALL;
		return 0;
	}
	while (s < end) {
		const char *c = memchr(s, ',', (size_t)(end - s));
		char name[16];
		size_t n = (size_t)((c ? c : end) - s);
		enum dk_kconfig_arch a;

		if (n == 0 || n >= sizeof(name))
			return -1;
		memcpy(name, s, n);
		name[n] = '\0';
		if ((a = dk_kconfig_arch_parse(name)) == DK_KARCH_NONE)
			return -1;
		*archs |= (uint8_t)a;
		s = c ? c + 1 : end;
	}
	return *archs ? 0 : -1;
}

static int parse_sources(struct dk_kconfig_rules *r, struct dk_kconfig_rule *rule, const struct token *t,
			 const char *fname, uint32_t line, struct dk_err *err)
{
	const char *s = t->s, *end = t->s + t->n;
	size_t count = 1;

	for (size_t i = 0; i < t->n; i++)
		count += t->s[i] == ',';
	if (!(rule->sources = dk_arena_alloc(&r->arena, count * sizeof(*rule->sources))))
		return dk_err_set(err, DK_ENOMEM, "out of memory");
	rule->nsources = 0;
	while (s < end) {
		const char *c = memchr(s, ',', (size_t)(end - s));
		size_t n = (size_t)((c ? c : end) - s), i;

		for (i = 0; i < r->nsources; i++)
			if (strlen(r->sources[i].id) == n && memcmp(r->sources[i].id, s, n) == 0)
				break;
		if (i == r->nsources)
			return dk_err_set(err, DK_EINPUT, "%s:%u: unknown source '%.*s' (sources are defined first)",
					  fname, line, (int)n, s);
		rule->sources[rule->nsources++] = (uint32_t)i;
		s = c ? c + 1 : end;
	}
	return 0;
}

static int rule_line(struct dk_kconfig_rules *r, const struct token *tok, size_t ntok, const char *fname,
		     uint32_t line, struct dk_err *err)
{
	struct dk_kconfig_rule *rule;
	size_t c;
	int x;

	if (ntok < 6)
		return dk_err_set(err, DK_EINPUT,
				  "%s:%u: expected OPTION WANT CATEGORY ARCHS VERSIONS SOURCES [ALTERNATIVE...]", fname,
				  line);
	if (grow((void **)&r->rules, &r->alloc_rules, r->nrules + 1, sizeof(*r->rules)))
		return dk_err_set(err, DK_ENOMEM, "out of memory");
	rule = &r->rules[r->nrules];
	memset(rule, 0, sizeof(*rule));
	rule->line = line;
	rule->nexpect = (uint32_t)(1 + ntok - 6);
	if (!(rule->expect = dk_arena_zalloc(&r->arena, rule->nexpect * sizeof(*rule->expect))))
		return dk_err_set(err, DK_ENOMEM, "out of memory");
	if ((x = set_name(r, &rule->expect[0], tok[0].s, tok[0].n)))
		return x == -2 ? dk_err_set(err, DK_ENOMEM, "out of memory")
			       : dk_err_set(err, DK_EINPUT, "%s:%u: bad option name '%.*s' (write it without CONFIG_)",
					    fname, line, (int)tok[0].n, tok[0].s);
	if ((x = parse_want(r, &rule->expect[0], tok[1].s, tok[1].n)))
		return x == -2 ? dk_err_set(err, DK_ENOMEM, "out of memory")
			       : dk_err_set(err, DK_EINPUT, "%s:%u: %s: bad value '%.*s'", fname, line,
					    rule->expect[0].name, (int)tok[1].n, tok[1].s);
	for (c = 0; c < DK_KCAT_COUNT; c++)
		if (tok_is(&tok[2], category_names[c]))
			break;
	if (c == DK_KCAT_COUNT)
		return dk_err_set(err, DK_EINPUT, "%s:%u: unknown category '%.*s'", fname, line, (int)tok[2].n,
				  tok[2].s);
	rule->category = (uint8_t)c;
	if (parse_archs(&tok[3], &rule->archs))
		return dk_err_set(err, DK_EINPUT, "%s:%u: bad architectures '%.*s' (all, or x86_64 and/or arm64)",
				  fname, line, (int)tok[3].n, tok[3].s);
	if (parse_range(tok[4].s, tok[4].n, &rule->expect[0].since, &rule->expect[0].until))
		return dk_err_set(err, DK_EINPUT, "%s:%u: bad versions '%.*s' (-, A-, -B or A-B)", fname, line,
				  (int)tok[4].n, tok[4].s);
	if ((x = parse_sources(r, rule, &tok[5], fname, line, err)))
		return x;
	for (size_t i = 6; i < ntok; i++) {
		struct dk_kconfig_expect *e = &rule->expect[i - 5];
		const char *eq = memchr(tok[i].s, '=', tok[i].n), *end = tok[i].s + tok[i].n;
		const char *at = NULL;

		/* The last '@' after the '=' starts the range: a "string" value may hold one. */
		for (const char *p = end; eq && p > eq; p--)
			if (p[-1] == '@') {
				at = p - 1;
				break;
			}
		if (at && quoted_len(eq + 1, (size_t)(end - eq - 1)) == (size_t)(end - eq - 1))
			at = NULL;
		if (!eq || set_name(r, e, tok[i].s, (size_t)(eq - tok[i].s)) ||
		    parse_want(r, e, eq + 1, (size_t)((at ? at : end) - eq - 1)) ||
		    (at && parse_range(at + 1, (size_t)(end - at - 1), &e->since, &e->until)))
			return dk_err_set(err, DK_EINPUT, "%s:%u: bad alternative '%.*s' (OPTION=VALUE[@VERSIONS])",
					  fname, line, (int)tok[i].n, tok[i].s);
	}
	r->nrules++;
	return 0;
}

/* One recommendation per option and architecture: two would make the fragment contradict itself. */
static int check_duplicates(const struct dk_kconfig_rules *r, const char *fname, struct dk_err *err)
{
	bool *seen = calloc(dk_strpool_count(&r->names), sizeof(*seen));
	int ret = 0;

	if (!seen)
		return dk_err_set(err, DK_ENOMEM, "out of memory");
	for (size_t i = 0; i < r->nrules && !ret; i++) {
		const struct dk_kconfig_expect *e = &r->rules[i].expect[0];
		dk_id id = dk_strpool_lookup(&r->names, e->name, e->name_len);

		/* Rare (an option with a value per architecture): only then look back. */
		for (size_t k = 0; seen[id] && k < i; k++) {
			const struct dk_kconfig_rule *o = &r->rules[k];
			uint8_t both = o->archs & r->rules[i].archs;

			if (both && o->expect[0].name_len == e->name_len &&
			    memcmp(o->expect[0].name, e->name, e->name_len) == 0) {
				ret = dk_err_set(err, DK_EINPUT, "%s:%u: %s already has a rule at line %u for %s", fname,
						 r->rules[i].line, e->name, o->line,
						 (both & DK_KARCH_X86_64) ? "x86_64" : "arm64");
				break;
			}
		}
		seen[id] = true;
	}
	free(seen);
	return ret;
}

/* The names a check looks up, so a config parse can keep those alone. */
static int add_names(struct dk_kconfig_rules *r, struct dk_err *err)
{
	static const char *const arch_options[] = { "X86_64", "ARM64" };

	for (size_t i = 0; i < sizeof(arch_options) / sizeof(arch_options[0]); i++)
		if (!dk_strpool_intern(&r->names, arch_options[i], strlen(arch_options[i])))
			return dk_err_set(err, DK_ENOMEM, "out of memory");
	return 0;
}

static int add_rule_names(struct dk_kconfig_rules *r, const struct dk_kconfig_rule *rule, struct dk_err *err)
{
	for (uint32_t k = 0; k < rule->nexpect; k++) {
		const struct dk_kconfig_expect *e = &rule->expect[k];

		if (!dk_strpool_intern(&r->names, e->name, e->name_len) ||
		    (e->want == DK_KWANT_SAME_AS && !dk_strpool_intern(&r->names, e->value, e->value_len)))
			return dk_err_set(err, DK_ENOMEM, "out of memory");
	}
	return 0;
}

int dk_kconfig_rules_parse(struct dk_kconfig_rules *r, const char *data, size_t len, const char *name,
			   struct dk_err *err)
{
	const char *p = data, *end = data + len;
	uint32_t line = 0;
	int ret;

	if (memchr(data, '\0', len))
		return dk_err_set(err, DK_EINPUT, "%s: a NUL byte: not a rules file", name);
	if ((ret = add_names(r, err)))
		return ret;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;
		struct token tok[MAX_TOKENS];
		const char *b = p;
		size_t ntok;

		line++;
		while (e > p && (e[-1] == '\r' || is_blank(e[-1])))
			e--;
		while (b < e && is_blank(*b))
			b++;
		if (b == e || *b == '#')
			ret = 0;
		else if (tokenize(b, (size_t)(e - b), tok, &ntok, is_source(b, e) ? 3 : MAX_TOKENS))
			ret = dk_err_set(err, DK_EINPUT, "%s:%u: too many fields", name, line);
		else if (is_source(b, e))
			ret = source_line(r, tok, ntok, name, line, err);
		else if (!(ret = rule_line(r, tok, ntok, name, line, err)))
			ret = add_rule_names(r, &r->rules[r->nrules - 1], err);
		if (ret)
			return ret;
		p = nl ? nl + 1 : end;
	}
	return check_duplicates(r, name, err);
}

int dk_kconfig_rules_load(struct dk_kconfig_rules *r, const char *path, struct dk_err *err)
{
	struct dk_input in = DK_INPUT_INIT;
	int ret;

	if ((ret = dk_input_open(&in, path, KCONFIG_MAX, err)))
		return ret;
	ret = dk_kconfig_rules_parse(r, in.data ? in.data : "", in.len, path, err);
	dk_input_release(&in);
	return ret;
}

void dk_kconfig_rules_release(struct dk_kconfig_rules *r)
{
	dk_arena_release(&r->arena);
	dk_strpool_release(&r->names);
	free(r->sources);
	free(r->rules);
	*r = (struct dk_kconfig_rules)DK_KCONFIG_RULES_INIT;
}

size_t dk_kconfig_rules_count(const struct dk_kconfig_rules *r, enum dk_kconfig_arch arch)
{
	size_t n = 0;

	for (size_t i = 0; i < r->nrules; i++)
		n += (r->rules[i].archs & arch) != 0;
	return n;
}

/* --- the check ----------------------------------------------------------------------------- */

static bool in_range(const struct dk_kconfig_expect *e, const struct dk_kver *v)
{
	if (e->since.major && dk_kver_cmp(v, &e->since) < 0)
		return false;
	if (e->until.major && dk_kver_cmp(v, &e->until) >= 0)
		return false;
	return true;
}

/* Two config values: as numbers when both are numbers (0x0 == 0), else byte for byte. */
static bool same_value(const char *a, size_t an, const char *b, size_t bn)
{
	long long x, y;

	if (parse_number(a, an, &x) && parse_number(b, bn, &y))
		return x == y;
	return an == bn && memcmp(a, b, an) == 0;
}

static bool matches(const struct dk_kconfig_expect *e, const struct dk_kconfig_entry *v,
		    const struct dk_kconfig *kc)
{
	const struct dk_kconfig_entry *o;
	long long num;

	switch (e->want) {
	case DK_KWANT_NOT_SET:
		return v->state != DK_KCONFIG_SET;
	case DK_KWANT_VALUE:
		return v->state == DK_KCONFIG_SET && same_value(v->value, v->len, e->value, e->value_len);
	case DK_KWANT_AT_LEAST:
		return v->state == DK_KCONFIG_SET && parse_number(v->value, v->len, &num) && num >= e->num;
	case DK_KWANT_SAME_AS:
		o = dk_kconfig_get(kc, e->value, e->value_len);
		return v->state == DK_KCONFIG_SET && o->state == DK_KCONFIG_SET &&
		       same_value(v->value, v->len, o->value, o->len);
	default:
		return false;
	}
}

int dk_kconfig_check(const struct dk_kconfig_rules *r, const struct dk_kconfig *kc, enum dk_kconfig_arch arch,
		     const struct dk_kver *version, struct dk_kconfig_report *rep, struct dk_err *err)
{
	const struct dk_kver *v = version ? version : kc->has_version ? &kc->version : NULL;

	memset(rep, 0, sizeof(*rep));
	rep->arch = arch;
	if (v) {
		rep->version = *v;
		rep->has_version = true;
	}
	if (!(rep->findings = calloc(r->nrules ? r->nrules : 1, sizeof(*rep->findings))))
		return dk_err_set(err, DK_ENOMEM, "out of memory");
	for (size_t i = 0; i < r->nrules; i++) {
		const struct dk_kconfig_rule *rule = &r->rules[i];
		struct dk_kconfig_finding *f;
		int first_known = -1, ok = -1;

		if (!(rule->archs & arch))
			continue;
		f = &rep->findings[rep->nfindings++];
		f->rule = rule;
		for (uint32_t k = 0; k < rule->nexpect && ok < 0; k++) {
			const struct dk_kconfig_expect *e = &rule->expect[k];
			const struct dk_kconfig_entry *val = dk_kconfig_get(kc, e->name, e->name_len);

			if (val->state == DK_KCONFIG_ABSENT && v && !in_range(e, v))
				continue;
			if (first_known < 0)
				first_known = (int)k;
			if (matches(e, val, kc))
				ok = (int)k;
		}
		if (ok >= 0) {
			f->result = DK_KRES_OK;
			f->which = (uint32_t)ok;
		} else if (first_known >= 0) {
			f->result = DK_KRES_FAIL;
			f->which = (uint32_t)first_known;
		} else {
			f->result = DK_KRES_NA;
			f->which = 0;
		}
		f->actual = dk_kconfig_get(kc, rule->expect[f->which].name, rule->expect[f->which].name_len);
		rep->counts[rule->category][f->result]++;
		rep->totals[f->result]++;
	}
	return 0;
}

void dk_kconfig_report_release(struct dk_kconfig_report *rep)
{
	free(rep->findings);
	*rep = (struct dk_kconfig_report)DK_KCONFIG_REPORT_INIT;
}

int dk_kconfig_expect_value(const struct dk_kconfig_expect *e, const struct dk_kconfig *kc, struct dk_buf *out)
{
	const struct dk_kconfig_entry *o;

	dk_buf_reset(out);
	switch (e->want) {
	case DK_KWANT_NOT_SET:
		return DK_NOTFOUND;
	case DK_KWANT_AT_LEAST:
		return dk_buf_addf(out, "%lld", e->num);
	case DK_KWANT_SAME_AS:
		o = dk_kconfig_get(kc, e->value, e->value_len);
		if (o->state != DK_KCONFIG_SET)
			return DK_EINPUT;
		return dk_buf_add(out, o->value, o->len);
	default:
		return dk_buf_add(out, e->value, e->value_len);
	}
}

int dk_kconfig_fragment(const struct dk_kconfig_report *rep, const struct dk_kconfig *kc, struct dk_buf *out,
			struct dk_err *err)
{
	struct dk_strpool seen = DK_STRPOOL_INIT;
	struct dk_buf val = DK_BUF_INIT;
	int ret = 0;

	dk_buf_addf(out, "# debkeep kconfig check: fixes for %zu failing rules (%s", rep->totals[DK_KRES_FAIL],
		    dk_kconfig_arch_name(rep->arch));
	if (rep->has_version)
		dk_buf_addf(out, ", Linux %u.%u.%u", rep->version.major, rep->version.minor, rep->version.patch);
	dk_buf_adds(out, ")\n# merge into the config, then run 'make olddefconfig' and check again\n");
	for (size_t i = 0; i < rep->nfindings; i++) {
		const struct dk_kconfig_finding *f = &rep->findings[i];
		const struct dk_kconfig_expect *e = &f->rule->expect[f->which];
		uint32_t before = seen.count;
		int r;

		if (f->result != DK_KRES_FAIL)
			continue;
		if (!dk_strpool_intern(&seen, e->name, e->name_len)) {
			ret = dk_err_set(err, DK_ENOMEM, "out of memory");
			break;
		}
		if (seen.count == before)
			continue;
		r = dk_kconfig_expect_value(e, kc, &val);
		if (r == DK_NOTFOUND)
			dk_buf_addf(out, "# CONFIG_%s is not set\n", e->name);
		else if (r == DK_EINPUT)
			dk_buf_addf(out, "# CONFIG_%s: should equal CONFIG_%s, which this config does not set\n", e->name,
				    e->value);
		else
			dk_buf_addf(out, "CONFIG_%s=%s\n", e->name, val.data);
	}
	if (!ret && val.failed)
		ret = dk_err_set(err, DK_ENOMEM, "out of memory");
	if (!ret)
		ret = dk_buf_check(out, err, "kconfig fragment");
	dk_buf_release(&val);
	dk_strpool_release(&seen);
	return ret;
}
