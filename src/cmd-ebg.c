/* cmd-ebg.c - debkeep ebg env read|write: the EFI Boot Guard environment file (BGENV.DAT) */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <debkeep/ebg.h>
#include <debkeep/utf8.h>

#include "cli.h"

static const char read_usage[] =
	"usage: debkeep [--json] ebg env read FILE\n\n"
	"Print every field of an EFI Boot Guard environment file (BGENV.DAT): kernel, kernel\n"
	"arguments, in_progress, ustate, watchdog timeout, revision, CRC-32 and user variables.\n"
	"The size, the CRC-32 and the user variable records are checked first.\n\n"
	"Exit status: 0 done; 2 the file is missing, truncated, corrupt, or a usage error.\n";

static const char write_usage[] =
	"usage: debkeep [--json] ebg env write FILE [OPTIONS]\n\n"
	"Change the named fields of FILE and replace it atomically; the other fields and user\n"
	"variables keep their bytes. A missing FILE (or --new) starts from an empty environment,\n"
	"as bg_setenv does. A corrupt FILE is refused and left as it was.\n\n"
	"  --kernel K         kernel to load, e.g. C:BOOT0:linux.efi (printable ASCII, <= 254)\n"
	"  --args A           kernel arguments (printable ASCII, <= 254)\n"
	"  --revision N       revision (0 to 4294967295; 0 marks a failed environment)\n"
	"  --ustate S         ok, installed, testing, failed, unknown, or 0-4\n"
	"  --in-progress B    0 or 1\n"
	"  --watchdog S       watchdog timeout in seconds (0 to 65535)\n"
	"  --uservar K=V      set user variable K to the string V; K= deletes K (repeatable)\n"
	"  --new              ignore what FILE holds and start from an empty environment\n"
	"  --json             print the environment written, as 'read --json' does\n\n"
	"Exit status: 0 written; 2 a bad value, a corrupt FILE, or a usage error.\n";

/* A JSON string from bytes that may not be UTF-8 (keys and values are bytes): invalid bytes become U+FFFD. */
static json_t *json_bytes(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	struct dk_buf b = DK_BUF_INIT;
	json_t *v;

	for (size_t i = 0; i < n; i++) {
		size_t k;

		if (u[i] < 0x80) {
			dk_buf_addc(&b, (char)u[i]);
		} else if ((k = dk_utf8_seq(u + i, n - i)) != 0) {
			dk_buf_add(&b, u + i, k);
			i += k - 1;
		} else {
			dk_buf_adds(&b, "\xef\xbf\xbd");
		}
	}
	v = b.failed ? NULL : json_stringn(b.data, b.len);
	dk_buf_release(&b);
	return v;
}

/* Numbers and booleans as JSON's own; a uint64 beyond JSON's integers stays a string. */
static json_t *var_value(const struct dk_ebg_var *var, const struct dk_buf *val, bool text)
{
	uint64_t t = var->type & DK_EBG_VAR_STANDARD_MASK;
	char *end;

	if (text && t == DK_EBG_VAR_BOOL)
		return json_boolean(strcmp(val->data, "true") == 0);
	if (text && t >= DK_EBG_VAR_UINT8 && t <= DK_EBG_VAR_SINT64) {
		long long n;

		errno = 0;
		n = strtoll(val->data, &end, 10);
		if (!errno && !*end)
			return json_integer(n);
	}
	return json_bytes(val->data, val->len);
}

static json_t *env_json(const char *path, const struct dk_ebg_env *env)
{
	struct dk_buf kernel = DK_BUF_INIT, args = DK_BUF_INIT, val = DK_BUF_INIT;
	json_t *o = json_object(), *vars = json_array();
	struct dk_ebg_var var;
	char crc[9];
	size_t pos = 0;

	dk_ebg_str_get(env->kernel, &kernel);
	dk_ebg_str_get(env->args, &args);
	snprintf(crc, sizeof(crc), "%08x", env->crc32);
	json_object_set_new(o, "file", json_bytes(path, strlen(path)));
	json_object_set_new(o, "kernel", json_bytes(kernel.data, kernel.len));
	json_object_set_new(o, "kernelargs", json_bytes(args.data, args.len));
	json_object_set_new(o, "in_progress", json_integer(env->in_progress));
	json_object_set_new(o, "ustate", json_integer(env->ustate));
	json_object_set_new(o, "ustate_name", json_string(dk_ebg_ustate_name(env->ustate)));
	json_object_set_new(o, "watchdog_timeout_sec", json_integer(env->watchdog_sec));
	json_object_set_new(o, "revision", json_integer(env->revision));
	json_object_set_new(o, "crc32", json_string(crc));
	while (dk_ebg_var_next(env, &pos, &var) == 0) {
		const char *tname = dk_ebg_vartype_name(var.type);
		json_t *v = json_object();
		bool text;

		dk_buf_reset(&val);
		dk_ebg_var_format(&var, &val, &text);
		json_object_set_new(v, "key", json_bytes(var.key, strlen(var.key)));
		json_object_set_new(v, "type",
				    tname ? json_string(tname)
					  : json_integer((json_int_t)(var.type & DK_EBG_VAR_STANDARD_MASK)));
		if (var.type >> 32)
			json_object_set_new(v, "user_flags", json_integer((json_int_t)(var.type >> 32)));
		json_object_set_new(v, text ? "value" : "hex", var_value(&var, &val, text));
		json_array_append_new(vars, v);
	}
	json_object_set_new(o, "uservars", vars);
	dk_buf_release(&kernel);
	dk_buf_release(&args);
	dk_buf_release(&val);
	return o;
}

/* The layout of bg_printenv's own listing, so the two can be read side by side. */
static void env_print(const struct dk_ebg_env *env)
{
	struct dk_buf b = DK_BUF_INIT;
	struct dk_ebg_var var;
	size_t pos = 0;

	dk_ebg_str_get(env->kernel, &b);
	printf("kernel:           %s\n", b.data);
	dk_buf_reset(&b);
	dk_ebg_str_get(env->args, &b);
	printf("kernelargs:       %s\n", b.data);
	printf("in_progress:      %s\n", env->in_progress ? "yes" : "no");
	printf("revision:         %u\n", env->revision);
	printf("watchdog timeout: %u seconds\n", env->watchdog_sec);
	printf("ustate:           %u (%s)\n", env->ustate, dk_ebg_ustate_name(env->ustate));
	printf("crc32:            %08x\n", env->crc32);
	printf("user variables:\n");
	while (dk_ebg_var_next(env, &pos, &var) == 0) {
		const char *tname = dk_ebg_vartype_name(var.type);
		bool text;

		dk_buf_reset(&b);
		dk_ebg_var_format(&var, &b, &text);
		printf("  %s = %s", var.key, b.data);
		if (!tname)
			printf("  (type %llu, hex)",
			       (unsigned long long)(var.type & DK_EBG_VAR_STANDARD_MASK));
		else if (strcmp(tname, "string"))
			printf("  (%s)", tname);
		putchar('\n');
	}
	dk_buf_release(&b);
}

static int env_out(struct cli *cli, const char *path, const struct dk_ebg_env *env)
{
	if (cli->json)
		return cli_json_out(env_json(path, env));
	env_print(env);
	return EXIT_OK;
}

static int cmd_read(struct cli *cli, int argc, char **argv)
{
	const struct cli_options co = { .usage = read_usage, .bad = "bad option" };
	struct dk_err err = DK_ERR_INIT;
	struct dk_ebg_env *env;
	int r = cli_parse(cli, argc, argv, &co);

	if (r >= 0)
		return r;
	if (optind + 1 != argc)
		return cli_usage(cli, optind < argc ? "one file at a time" : "which environment file?");
	env = malloc(sizeof(*env));
	if (!env)
		return EXIT_INTERNAL;
	if (dk_ebg_env_load(env, argv[optind], &err))
		r = cli_fail(&err);
	else
		r = env_out(cli, argv[optind], env);
	free(env);
	return r;
}

/* A whole decimal number within max: no sign, no blanks, no trailing garbage. */
static int parse_uint(struct cli *cli, const char *opt, const char *s, unsigned long long max,
		      unsigned long long *v)
{
	char *end;

	errno = 0;
	if (s[0] < '0' || s[0] > '9')
		return cli_usage(cli, "%s: '%s' is not a number", opt, s);
	*v = strtoull(s, &end, 10);
	if (errno || *end || *v > max)
		return cli_usage(cli, "%s: '%s' is not a number from 0 to %llu", opt, s, max);
	return 0;
}

enum { O_KERNEL = 256, O_ARGS, O_REVISION, O_USTATE, O_INPROGRESS, O_WATCHDOG, O_USERVAR, O_NEW };

/* What --options asked for; a field is changed only when its flag is set. */
struct env_change {
	const char *kernel, *args, *ustate;
	unsigned long long revision, in_progress, watchdog;
	bool set_revision, set_in_progress, set_watchdog, fresh;
	char **vars;
	size_t nvars;
};

static int apply(const struct env_change *ch, struct dk_ebg_env *env, struct dk_err *err)
{
	int r = 0;

	if (ch->kernel && (r = dk_ebg_str_set(env->kernel, ch->kernel, "--kernel", err)))
		return r;
	if (ch->args && (r = dk_ebg_str_set(env->args, ch->args, "--args", err)))
		return r;
	if (ch->ustate && (r = dk_ebg_ustate_parse(ch->ustate, &env->ustate, err)))
		return r;
	if (ch->set_revision)
		env->revision = (uint32_t)ch->revision;
	if (ch->set_in_progress)
		env->in_progress = (uint8_t)ch->in_progress;
	if (ch->set_watchdog)
		env->watchdog_sec = (uint16_t)ch->watchdog;
	for (size_t i = 0; i < ch->nvars && !r; i++) {
		char *eq = strchr(ch->vars[i], '=');

		if (!eq)
			return dk_err_set(err, DK_EINPUT, "--uservar: '%s' is not KEY=VALUE", ch->vars[i]);
		*eq = '\0';
		r = dk_ebg_var_set(env, ch->vars[i], eq[1] ? eq + 1 : NULL, err);
		*eq = '=';
	}
	return r;
}

static int take_change(struct cli *cli, int opt, char *arg, void *ctx)
{
	struct env_change *ch = ctx;
	char **v;

	switch (opt) {
	case O_KERNEL:
		ch->kernel = arg;
		break;
	case O_ARGS:
		ch->args = arg;
		break;
	case O_USTATE:
		ch->ustate = arg;
		break;
	case O_REVISION:
		ch->set_revision = true;
		return parse_uint(cli, "--revision", arg, UINT32_MAX, &ch->revision);
	case O_INPROGRESS:
		ch->set_in_progress = true;
		return parse_uint(cli, "--in-progress", arg, 1, &ch->in_progress);
	case O_WATCHDOG:
		ch->set_watchdog = true;
		return parse_uint(cli, "--watchdog", arg, UINT16_MAX, &ch->watchdog);
	case O_USERVAR:
		if (!(v = realloc(ch->vars, (ch->nvars + 1) * sizeof(*v))))
			return EXIT_INTERNAL;
		v[ch->nvars++] = arg;
		ch->vars = v;
		break;
	case O_NEW:
		ch->fresh = true;
		break;
	}
	return 0;
}

static int cmd_write(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "kernel", required_argument, NULL, O_KERNEL },
		{ "args", required_argument, NULL, O_ARGS },
		{ "revision", required_argument, NULL, O_REVISION },
		{ "ustate", required_argument, NULL, O_USTATE },
		{ "in-progress", required_argument, NULL, O_INPROGRESS },
		{ "watchdog", required_argument, NULL, O_WATCHDOG },
		{ "uservar", required_argument, NULL, O_USERVAR },
		{ "new", no_argument, NULL, O_NEW },
		{ NULL, 0, NULL, 0 },
	};
	struct env_change ch = { 0 };
	const struct cli_options co = {
		.usage = write_usage, .bad = "bad option", .opts = opts, .take = take_change, .ctx = &ch,
	};
	struct dk_err err = DK_ERR_INIT;
	struct dk_ebg_env *env = NULL;
	const char *path;
	int r = cli_parse(cli, argc, argv, &co);

	if (r >= 0)
		goto out;
	r = 0;
	if (optind + 1 != argc) {
		r = cli_usage(cli, optind < argc ? "one file at a time" : "which environment file?");
		goto out;
	}
	path = argv[optind];
	env = malloc(sizeof(*env));
	if (!env) {
		r = EXIT_INTERNAL;
		goto out;
	}
	dk_ebg_env_init(env);
	/* A missing file is a new environment; any other failure to read it stops us before writing. */
	if (!ch.fresh && (access(path, F_OK) == 0 || errno != ENOENT) && dk_ebg_env_load(env, path, &err)) {
		r = cli_fail(&err);
		goto out;
	}
	if (apply(&ch, env, &err) || dk_ebg_env_save(env, path, &err)) {
		r = cli_fail(&err);
		goto out;
	}
	if (cli->json)
		r = env_out(cli, path, env);
out:
	free(env);
	free(ch.vars);
	return r;
}

static const struct cli_command env_commands[] = {
	{ "read", cmd_read, 0, "FILE", "print every field of a BGENV.DAT, after checking it" },
	{ "write", cmd_write, 0, "FILE [--kernel K] [--args A] [--ustate S] ...",
	  "create or change a BGENV.DAT" },
	{ NULL, NULL, 0, NULL, NULL },
};

static int cmd_env(struct cli *cli, int argc, char **argv)
{
	return cli_dispatch(cli, "ebg env", env_commands, argc, argv);
}

static const struct cli_command ebg_commands[] = {
	{ "env", cmd_env, 0, "read|write FILE", "the EFI Boot Guard environment file (BGENV.DAT)" },
	{ NULL, NULL, 0, NULL, NULL },
};

int cmd_ebg(struct cli *cli, int argc, char **argv)
{
	return cli_dispatch(cli, "ebg", ebg_commands, argc, argv);
}
