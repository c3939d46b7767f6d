/* cmd-version.c - debkeep version compare: two versions from the arguments, or "A B" lines from stdin */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <debkeep/utf8.h>
#include <debkeep/version.h>

#include "cli.h"

static const char compare_usage[] =
	"usage: debkeep [--json] version compare A B\n"
	"       debkeep [--json] version compare --batch < PAIRS\n\n"
	"Compare Debian versions as dpkg does (dpkg --compare-versions).\n"
	"With two versions, print '<', '=' or '>'. With --batch, read lines 'A B' from standard\n"
	"input and print one line for each: -1, 0, 1, or 'error: REASON' for a line that does not\n"
	"hold two valid versions. --json prints a JSON object (with --batch, one per line).\n\n"
	"Exit status: 0 done; 2 an invalid version (with --batch: after every line was answered,\n"
	"if any line was an error), or a usage error.\n";

/*
 * A JSON string, written straight to the stream: batch mode prints millions
 * of them. Versions are bytes, not text, so a byte that is not part of valid
 * UTF-8 is shown as U+FFFD rather than making the whole output invalid.
 */
static void json_str(FILE *f, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;

	putc_unlocked('"', f);
	for (size_t i = 0; i < n; i++) {
		size_t k;

		if (u[i] == '"' || u[i] == '\\') {
			putc_unlocked('\\', f);
			putc_unlocked(u[i], f);
		} else if (u[i] < 0x20) {
			fprintf(f, "\\u%04x", u[i]);
		} else if (u[i] < 0x80) {
			putc_unlocked(u[i], f);
		} else if ((k = dk_utf8_seq(u + i, n - i)) != 0) {
			fwrite_unlocked(u + i, 1, k, f);
			i += k - 1;
		} else {
			fputs_unlocked("\\ufffd", f);
		}
	}
	putc_unlocked('"', f);
}

static void json_pair(FILE *f, const char *a, size_t alen, const char *b, size_t blen)
{
	fputs_unlocked("{\"a\":", f);
	json_str(f, a, alen);
	fputs_unlocked(",\"b\":", f);
	json_str(f, b, blen);
}

static const char *const cmp_word[] = { "<", "=", ">" };
static const char *const cmp_num[] = { "-1", "0", "1" };

static int sign(int r)
{
	return (r > 0) - (r < 0);
}

/* Parse and compare a and b; on failure err names the version at fault. */
static int compare_two(const char *a, size_t alen, const char *b, size_t blen, int *result, struct dk_err *err)
{
	struct dk_version va, vb;
	int r;

	if ((r = dk_version_parse(&va, a, alen, err)) < 0 || (r = dk_version_parse(&vb, b, blen, err)) < 0)
		return r;
	*result = sign(dk_version_cmp(&va, &vb));
	return 0;
}

static int compare_args(struct cli *cli, const char *a, const char *b)
{
	struct dk_err err = DK_ERR_INIT;
	int result;

	if (compare_two(a, strlen(a), b, strlen(b), &result, &err) < 0)
		return cli_fail(&err);
	if (cli->json) {
		json_pair(stdout, a, strlen(a), b, strlen(b));
		printf(",\"result\":\"%s\"}\n", cmp_word[result + 1]);
	} else {
		puts(cmp_word[result + 1]);
	}
	return EXIT_OK;
}

static inline int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * One line of --batch: two blank-separated fields. Writes the answer line and
 * returns 0, or 1 when the answer is an error.
 */
static int batch_line(struct cli *cli, const char *s, const char *e)
{
	const char *f[3] = { NULL, NULL, NULL }, *fe[3] = { NULL, NULL, NULL };
	struct dk_err err = DK_ERR_INIT;
	int nf = 0, result = 0;

	while (nf < 3) {
		while (s < e && is_blank(*s))
			s++;
		if (s == e)
			break;
		f[nf] = s;
		while (s < e && !is_blank(*s))
			s++;
		fe[nf++] = s;
	}
	if (nf != 2)
		dk_err_set(&err, DK_EINPUT, "expected two versions separated by blanks, got %s",
			   nf < 2 ? (nf ? "one" : "none") : "more");
	else
		compare_two(f[0], (size_t)(fe[0] - f[0]), f[1], (size_t)(fe[1] - f[1]), &result, &err);
	if (cli->json) {
		if (nf == 2)
			json_pair(stdout, f[0], (size_t)(fe[0] - f[0]), f[1], (size_t)(fe[1] - f[1]));
		else
			putc_unlocked('{', stdout);
		if (err.code) {
			fputs_unlocked(nf == 2 ? ",\"error\":" : "\"error\":", stdout);
			json_str(stdout, err.msg, strlen(err.msg));
			fputs_unlocked("}\n", stdout);
		} else {
			fputs_unlocked(",\"result\":", stdout);
			fputs_unlocked(cmp_num[result + 1], stdout);
			fputs_unlocked("}\n", stdout);
		}
	} else if (err.code) {
		fputs_unlocked("error: ", stdout);
		fputs_unlocked(err.msg, stdout);
		putc_unlocked('\n', stdout);
	} else {
		fputs_unlocked(cmp_num[result + 1], stdout);
		putc_unlocked('\n', stdout);
	}
	return err.code != 0;
}

/* Every line is answered, in order, even after a bad one: a caller pairs answers with lines by position. */
static int compare_batch(struct cli *cli)
{
	static char inbuf[1 << 16], outbuf[1 << 16];
	size_t cap = 0;
	char *line = NULL;
	ssize_t n;
	int errors = 0;

	setvbuf(stdin, inbuf, _IOFBF, sizeof(inbuf));
	setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
	errno = 0;
	while ((n = getline(&line, &cap, stdin)) > 0) {
		size_t len = (size_t)n;

		if (line[len - 1] == '\n')
			len--;
		errors |= batch_line(cli, line, line + len);
	}
	free(line);
	if (ferror(stdin)) {
		struct dk_err err = DK_ERR_INIT;

		dk_err_errno(&err, "reading standard input");
		fflush(stdout);
		return cli_fail(&err);
	}
	return errors ? EXIT_INPUT : EXIT_OK;
}

static int cmd_compare(struct cli *cli, int argc, char **argv)
{
	const char *args[2];
	int nargs = 0, batch = 0, opts = 1;

	for (int i = 1; i < argc; i++) {
		if (opts && strcmp(argv[i], "--") == 0) {
			opts = 0;
		} else if (opts && strcmp(argv[i], "--batch") == 0) {
			batch = 1;
		} else if (opts && strcmp(argv[i], "--json") == 0) {
			cli->json = true;
		} else if (opts && (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)) {
			fputs(compare_usage, stdout);
			return EXIT_OK;
		} else if (opts && argv[i][0] == '-' && argv[i][1] == '-') {
			return cli_usage(cli, "unknown option '%s'", argv[i]);
		} else if (nargs < 2) {
			args[nargs++] = argv[i];
		} else {
			return cli_usage(cli, "too many arguments");
		}
	}
	if (batch && nargs)
		return cli_usage(cli, "--batch reads its versions from standard input, not from arguments");
	if (batch)
		return compare_batch(cli);
	if (nargs != 2)
		return cli_usage(cli, "expected two versions");
	return compare_args(cli, args[0], args[1]);
}

static const struct cli_command version_commands[] = {
	{ "compare", cmd_compare, 0, "A B | --batch", "compare two versions, or \"A B\" lines from stdin, as dpkg" },
	{ NULL, NULL, 0, NULL, NULL },
};

int cmd_version(struct cli *cli, int argc, char **argv)
{
	return cli_dispatch(cli, "version", version_commands, argc, argv);
}
