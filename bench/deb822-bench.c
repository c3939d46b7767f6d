/* deb822-bench.c - times lib/deb/deb822.c splitting a whole index into stanzas and fields */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <debkeep/deb822.h>
#include <debkeep/err.h>
#include <debkeep/input.h>

static const char usage_text[] = "usage: deb822-bench [--rounds N] FILE\n"
				 "Parses FILE N times (default 20) with dk_deb822_next() and prints the stanza and\n"
				 "field counts and the best and median CPU milliseconds per parse.\n";

static double now(void)
{
	struct timespec ts;

	/* CPU time, not wall time: benchmarks share the machine with builds and other tests. */
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* One whole parse; returns the number of stanzas or a negative code. */
static long parse(const struct dk_input *in, const char *path, size_t *nfields, struct dk_err *err)
{
	struct dk_deb822 p;
	struct dk_stanza st;
	long stanzas = 0;
	int r;

	*nfields = 0;
	dk_deb822_init(&p, in->data, in->len, path, 0);
	while ((r = dk_deb822_next(&p, &st, err)) > 0) {
		stanzas++;
		*nfields += st.nfields;
	}
	dk_deb822_release(&p);
	return r < 0 ? r : stanzas;
}

int main(int argc, char **argv)
{
	struct dk_input in = DK_INPUT_INIT;
	struct dk_err err = DK_ERR_INIT;
	const char *path = NULL;
	int rounds = 20;
	double *t;
	size_t nfields = 0;
	long stanzas = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) {
			rounds = atoi(argv[++i]);
		} else if (argv[i][0] == '-' || path) {
			fputs(usage_text, stderr);
			return 2;
		} else {
			path = argv[i];
		}
	}
	if (!path || rounds < 1) {
		fputs(usage_text, stderr);
		return 2;
	}
	if (dk_input_open(&in, path, 0, &err)) {
		fprintf(stderr, "deb822-bench: %s\n", err.msg);
		return 2;
	}
	t = malloc((size_t)rounds * sizeof(*t));
	if (!t)
		return 3;
	for (int i = 0; i < rounds; i++) {
		double start = now();

		stanzas = parse(&in, path, &nfields, &err);
		t[i] = (now() - start) * 1e3;
		if (stanzas < 0) {
			fprintf(stderr, "deb822-bench: %s\n", err.msg);
			return 1;
		}
	}
	qsort(t, (size_t)rounds, sizeof(*t), cmp_double);
	printf("%ld stanzas, %zu fields, %.1f MB: best %.2f ms, median %.2f ms per parse (%d rounds)\n", stanzas,
	       nfields, (double)in.len / 1e6, t[0], t[rounds / 2], rounds);
	free(t);
	dk_input_release(&in);
	return 0;
}
