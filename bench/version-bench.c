/* version-bench.c - libdpkg as the oracle and the yardstick for lib/deb/version.c */
#define LIBDPKG_VOLATILE_API 1

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <dpkg/dpkg-db.h>
#include <dpkg/dpkg.h>

#include <debkeep/version.h>

static const char usage_text[] =
	"usage: version-bench --check [--pairs N] [--seed N] FILE\n"
	"       version-bench --bench [--pairs N] [--rounds N] FILE\n"
	"FILE holds one version a line ('-' for standard input).\n"
	"--check compares validity and order with libdpkg's parseversion() and dpkg_version_compare(),\n"
	"on the versions and on mutations of them, and prints key=value lines; exit 1 on any mismatch.\n"
	"--bench times sorting and comparing with debkeep and with libdpkg on pre-parsed versions.\n";

struct item {
	const char *s; /* NUL-terminated, for libdpkg */
	size_t len;
	struct dk_version dk;
	struct dpkg_version dp;
	int dk_ok, dp_ok; /* parsed without error */
};

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1du;
}

static int sign(int r)
{
	return (r > 0) - (r < 0);
}

static double now(void)
{
	struct timespec ts;

	/* CPU time, not wall time: benchmarks share the machine with builds and other tests. */
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *slurp(const char *path, size_t *lenp)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	size_t cap = 1 << 20, len = 0, n;
	char *buf = malloc(cap + 1);

	if (!f || !buf) {
		fprintf(stderr, "version-bench: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	while ((n = fread(buf + len, 1, cap - len, f)) > 0) {
		len += n;
		if (len == cap) {
			cap *= 2;
			buf = realloc(buf, cap + 1);
			if (!buf)
				exit(2);
		}
	}
	if (f != stdin)
		fclose(f);
	buf[len] = '\0';
	*lenp = len;
	return buf;
}

/* Parse with both libraries; libdpkg's warnings count as success, as in dpkg --compare-versions. */
static void parse_item(struct item *it)
{
	struct dpkg_error err = DPKG_ERROR_INIT;

	it->dk_ok = dk_version_parse(&it->dk, it->s, it->len, NULL) == 0;
	it->dp_ok = parseversion(&it->dp, it->s, &err) == 0 || err.type == DPKG_MSG_WARN;
	dpkg_error_destroy(&err);
}

static struct item *load(const char *path, size_t *np, char **bufp)
{
	size_t len, n = 0, cap = 1024;
	char *buf = slurp(path, &len), *p = buf, *nl;

	*bufp = buf;
	struct item *items = malloc(cap * sizeof(*items));

	for (; p < buf + len; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(buf + len - p));
		if (!nl)
			nl = buf + len;
		*nl = '\0';
		if (nl == p)
			continue;
		if (n == cap) {
			cap *= 2;
			items = realloc(items, cap * sizeof(*items));
		}
		if (!items)
			exit(2);
		items[n].s = p;
		items[n].len = (size_t)(nl - p);
		n++;
	}
	*np = n;
	return items;
}

static int cmp_dk(const void *a, const void *b)
{
	return dk_version_cmp(&((const struct item *)a)->dk, &((const struct item *)b)->dk);
}

static int cmp_dp(const void *a, const void *b)
{
	return dpkg_version_compare(&((const struct item *)a)->dp, &((const struct item *)b)->dp);
}

/* Bytes a mutation may insert: dpkg's separators, blanks, and a few it warns or errors about. */
static const char mut_bytes[] = ":-~+.0123456789aZ \t$_!\n\xc3";

/* A copy of s with one random edit: insert, replace or delete a byte, or cut the string short. */
static char *mutate(const char *s, size_t len, size_t *outlen)
{
	char *m = malloc(len + 2);
	size_t at = len ? rng() % (len + 1) : 0;
	char c = mut_bytes[rng() % (sizeof(mut_bytes) - 1)];

	if (!m)
		exit(2);
	switch (rng() % 4) {
	case 0:
		memcpy(m, s, at);
		m[at] = c;
		memcpy(m + at + 1, s + at, len - at);
		*outlen = len + 1;
		break;
	case 1:
		memcpy(m, s, len);
		if (at < len)
			m[at] = c;
		*outlen = len;
		break;
	case 2:
		memcpy(m, s, at);
		if (at < len)
			memcpy(m + at, s + at + 1, len - at - 1);
		*outlen = at < len ? len - 1 : len;
		break;
	default:
		memcpy(m, s, at);
		*outlen = at;
		break;
	}
	m[*outlen] = '\0';
	return m;
}

static long pairs_mismatch(const struct item *a, const struct item *b, int use_str)
{
	int d = sign(dpkg_version_compare(&a->dp, &b->dp));
	int k = use_str ? sign(dk_version_cmp_str(a->s, a->len, b->s, b->len)) : sign(dk_version_cmp(&a->dk, &b->dk));

	if (d == k)
		return 0;
	fprintf(stderr, "order mismatch: '%s' vs '%s': dpkg %d, debkeep %d%s\n", a->s, b->s, d, k,
		use_str ? " (cmp_str)" : "");
	return 1;
}

/* Validity, the sorted order's adjacent pairs and random pairs, on items[0..n). */
static long check_set(const char *name, struct item *items, size_t n, size_t npairs)
{
	long bad_valid = 0, bad_adj = 0, bad_rand = 0, bad_self = 0;
	size_t nvalid = 0, m = 0;
	struct item *v = malloc((n ? n : 1) * sizeof(*v));

	if (!v)
		exit(2);
	for (size_t i = 0; i < n; i++) {
		parse_item(&items[i]);
		if (items[i].dk_ok != items[i].dp_ok) {
			bad_valid++;
			fprintf(stderr, "validity mismatch: '%s': dpkg %s, debkeep %s\n", items[i].s,
				items[i].dp_ok ? "valid" : "invalid", items[i].dk_ok ? "valid" : "invalid");
		}
		if (items[i].dk_ok && items[i].dp_ok) {
			v[m++] = items[i];
			nvalid++;
		}
	}
	qsort(v, m, sizeof(*v), cmp_dk);
	for (size_t i = 0; i + 1 < m; i++)
		bad_adj += pairs_mismatch(&v[i], &v[i + 1], 0) + pairs_mismatch(&v[i + 1], &v[i], 1);
	for (size_t i = 0; i < m; i++)
		bad_self += dk_version_cmp_str(v[i].s, v[i].len, v[i].s, v[i].len) != 0;
	for (size_t i = 0; m && i < npairs; i++) {
		const struct item *a = &v[rng() % m], *b = &v[rng() % m];

		bad_rand += pairs_mismatch(a, b, i & 1);
	}
	printf("%s.strings=%zu\n%s.valid=%zu\n%s.validity_mismatches=%ld\n", name, n, name, nvalid, name, bad_valid);
	printf("%s.adjacent_pairs=%zu\n%s.adjacent_mismatches=%ld\n", name, m ? 2 * (m - 1) : 0, name, bad_adj);
	printf("%s.random_pairs=%zu\n%s.random_mismatches=%ld\n", name, m ? npairs : 0, name, bad_rand);
	printf("%s.self_mismatches=%ld\n", name, bad_self);
	free(v);
	return bad_valid + bad_adj + bad_rand + bad_self;
}

/* Three mutated copies of each version, with one to three edits each. */
static int check(struct item *items, size_t n, size_t npairs)
{
	size_t nm = 3 * n;
	struct item *mut = malloc((nm ? nm : 1) * sizeof(*mut));
	long bad;

	if (!mut)
		exit(2);
	bad = check_set("archive", items, n, npairs);
	for (size_t i = 0; i < nm; i++) {
		const struct item *from = &items[i / 3];
		int edits = 1 + (int)(rng() % 3);

		mut[i].s = mutate(from->s, from->len, &mut[i].len);
		while (--edits > 0) {
			char *m = mutate(mut[i].s, mut[i].len, &mut[i].len);

			free((char *)mut[i].s);
			mut[i].s = m;
		}
	}
	bad += check_set("mutated", mut, nm, npairs / 2);
	printf("mismatches=%ld\n", bad);
	for (size_t i = 0; i < nm; i++)
		free((char *)mut[i].s);
	free(mut);
	return bad ? 1 : 0;
}

static void shuffle(struct item *v, size_t n)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = rng() % i;
		struct item t = v[i - 1];

		v[i - 1] = v[j];
		v[j] = t;
	}
}

static double time_sort(struct item *v, const struct item *items, size_t n, int (*cmp)(const void *, const void *))
{
	double t;

	memcpy(v, items, n * sizeof(*v));
	t = now();
	qsort(v, n, sizeof(*v), cmp);
	return now() - t;
}

static volatile long sink;

static double time_pairs(const struct item *items, size_t n, const uint32_t *idx, size_t npairs,
			 int (*cmp)(const void *, const void *))
{
	double t = now();
	long acc = 0;

	for (size_t i = 0; i + 1 < n; i++)
		acc += sign(cmp(&items[i], &items[i + 1]));
	for (size_t i = 0; i < npairs; i++)
		acc += sign(cmp(&items[idx[2 * i]], &items[idx[2 * i + 1]]));
	sink += acc;
	return now() - t;
}

static double time_str(const struct item *items, size_t n, const uint32_t *idx, size_t npairs)
{
	double t = now();
	long acc = 0;

	for (size_t i = 0; i + 1 < n; i++)
		acc += sign(dk_version_cmp_str(items[i].s, items[i].len, items[i + 1].s, items[i + 1].len));
	for (size_t i = 0; i < npairs; i++) {
		const struct item *a = &items[idx[2 * i]], *b = &items[idx[2 * i + 1]];

		acc += sign(dk_version_cmp_str(a->s, a->len, b->s, b->len));
	}
	sink += acc;
	return now() - t;
}

static void keep_min(double *best, double t)
{
	if (t < *best)
		*best = t;
}

static int bench(struct item *items, size_t n, size_t npairs, int rounds)
{
	size_t m = 0;
	struct item *sorted;
	uint32_t *idx;
	double sd = 1e30, sp = 1e30, pd = 1e30, pp = 1e30, ps = 1e30;

	for (size_t i = 0; i < n; i++) {
		parse_item(&items[i]);
		if (items[i].dk_ok && items[i].dp_ok)
			items[m++] = items[i];
	}
	if (m < 2) {
		fprintf(stderr, "version-bench: fewer than two valid versions\n");
		return 2;
	}
	shuffle(items, m);
	sorted = malloc(m * sizeof(*sorted));
	idx = malloc(2 * npairs * sizeof(*idx));
	if (!sorted || !idx)
		exit(2);
	for (size_t i = 0; i < 2 * npairs; i++)
		idx[i] = (uint32_t)(rng() % m);
	/* Rounds alternate between the two so that a busy moment costs both alike; the best round counts. */
	for (int r = 0; r < rounds; r++) {
		keep_min(&sd, time_sort(sorted, items, m, cmp_dk));
		keep_min(&sp, time_sort(sorted, items, m, cmp_dp));
	}
	qsort(sorted, m, sizeof(*sorted), cmp_dk);
	for (int r = 0; r < rounds; r++) {
		keep_min(&pd, time_pairs(sorted, m, idx, npairs, cmp_dk));
		keep_min(&pp, time_pairs(sorted, m, idx, npairs, cmp_dp));
		keep_min(&ps, time_str(sorted, m, idx, npairs));
	}
	printf("versions: %zu, best of %d rounds, CPU time\n", m, rounds);
	printf("qsort:              debkeep %8.2f ms   libdpkg %8.2f ms   libdpkg/debkeep %.2fx\n", sd * 1e3,
	       sp * 1e3, sp / sd);
	printf("%zu pairs:      debkeep %8.2f ms   libdpkg %8.2f ms   libdpkg/debkeep %.2fx\n", m - 1 + npairs,
	       pd * 1e3, pp * 1e3, pp / pd);
	printf("same pairs, unparsed strings (dk_version_cmp_str): %.2f ms\n", ps * 1e3);
	free(idx);
	free(sorted);
	return sd <= sp && pd <= pp ? 0 : 1;
}

int main(int argc, char **argv)
{
	size_t npairs = 1000000, n;
	int rounds = 7, mode = 0;
	const char *path = NULL;
	struct item *items;
	char *buf;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--check") == 0)
			mode = 'c';
		else if (strcmp(argv[i], "--bench") == 0)
			mode = 'b';
		else if (strcmp(argv[i], "--pairs") == 0 && i + 1 < argc)
			npairs = strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
			rounds = atoi(argv[++i]);
		else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
			rng_state = strtoull(argv[++i], NULL, 10) | 1;
		else if (!path && (argv[i][0] != '-' || strcmp(argv[i], "-") == 0))
			path = argv[i];
		else
			mode = 0, i = argc;
	}
	if (!mode || !path || rounds < 1) {
		fputs(usage_text, stderr);
		return 2;
	}
	items = load(path, &n, &buf);
	rc = mode == 'c' ? check(items, n, npairs) : bench(items, n, npairs, rounds);
	free(items);
	free(buf);
	return rc;
}
