/* cmd-kconfig.c - debkeep kconfig check: a kernel config against the hardening rules: table, JSON or fix */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <debkeep/kconfig.h>

#include "cli.h"

/* Where an installed debkeep finds its rules; the build may say otherwise. */
static const char check_usage[] =
	"usage: debkeep kconfig check CONFIG [--arch A] [--kernel-version V] [--rules FILE] [--json | --fragment]\n"
	"\n"
	"Check a kernel configuration (.config, any compression) against hardening rules drawn from\n"
	"the Kernel Self Protection Project, kernel-hardening-checker, the kernel's documentation and\n"
	"others (docs/kconfig.md). Each rule is OK, FAIL, or N/A when the kernel version has none of\n"
	"its options; the table is grouped by category, with totals.\n"
	"\n"
	"  --arch A             x86_64 (amd64) or arm64 (aarch64); default: from CONFIG_X86_64 / CONFIG_ARM64\n"
	"  --kernel-version V   e.g. 6.1; default: the config's '# Linux/ARCH V Kernel Configuration' line\n"
	"  --rules FILE         the rules (default: $DEBKEEP_KCONFIG_RULES, else data/kconfig/rules, installed or in the source tree)\n"
	"  --json               print JSON\n"
	"  --fragment           print a Kconfig fragment that fixes every failure, instead of the table\n"
	"\n"
	"Exit status: 0 no rule failed; 1 some rule failed; 2 bad input or usage.\n";

struct check_opts {
	const char *config;
	const char *rules;
	const char *arch;
	const char *version;
	bool fragment;
	bool default_rules; /* neither --rules nor $DEBKEEP_KCONFIG_RULES */
	char rules_buf[4096];
};

static int take(struct cli *cli, int opt, char *arg, void *ctx)
{
	struct check_opts *o = ctx;

	switch (opt) {
	case 'a':
		o->arch = arg;
		break;
	case 'k':
		o->version = arg;
		break;
	case 'r':
		o->rules = arg;
		break;
	case 'f':
		o->fragment = true;
		break;
	}
	return 0;
}

/* Returns 0 to go on, -1 after --help, else the exit code. */
static int parse_opts(struct cli *cli, int argc, char **argv, struct check_opts *o)
{
	static const struct option opts[] = {
		{ "arch", required_argument, NULL, 'a' },
		{ "kernel-version", required_argument, NULL, 'k' },
		{ "rules", required_argument, NULL, 'r' },
		{ "fragment", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cli_options co = {
		.usage = check_usage, .bad = "bad option", .opts = opts, .take = take, .ctx = o,
	};
	int r = cli_parse(cli, argc, argv, &co);

	if (r >= 0)
		return r == EXIT_OK ? -1 : r;
	if (optind < argc)
		o->config = argv[optind++];
	if (optind < argc)
		return cli_usage(cli, "unexpected argument '%s'", argv[optind]);
	if (!o->config)
		return cli_usage(cli, "which kernel config?");
	if (cli->json && o->fragment)
		return cli_usage(cli, "--json and --fragment exclude each other");
	if (!o->rules)
		o->rules = getenv("DEBKEEP_KCONFIG_RULES");
	if (!o->rules || !*o->rules) {
		o->rules = cli_data_path("kconfig/rules", o->rules_buf, sizeof(o->rules_buf));
		o->default_rules = true;
	}
	return 0;
}

/* The value an expectation asks for as the rule says it. */
static void want_text(const struct dk_kconfig_expect *e, struct dk_buf *b)
{
	switch (e->want) {
	case DK_KWANT_NOT_SET:
		dk_buf_adds(b, "is not set");
		break;
	case DK_KWANT_AT_LEAST:
		dk_buf_addf(b, ">=%lld", e->num);
		break;
	case DK_KWANT_SAME_AS:
		dk_buf_addf(b, "=CONFIG_%s", e->value);
		break;
	default:
		dk_buf_add(b, e->value, e->value_len);
	}
}

static void entry_text(const struct dk_kconfig_entry *v, struct dk_buf *b)
{
	if (v->state == DK_KCONFIG_SET)
		dk_buf_add(b, v->value, v->len);
	else
		dk_buf_adds(b, v->state == DK_KCONFIG_NOT_SET ? "is not set" : "absent");
}

static void range_text(const struct dk_kconfig_expect *e, struct dk_buf *b)
{
	if (e->since.major && e->until.major)
		dk_buf_addf(b, "%u.%u to %u.%u", e->since.major, e->since.minor, e->until.major, e->until.minor);
	else if (e->since.major)
		dk_buf_addf(b, "since %u.%u", e->since.major, e->since.minor);
	else
		dk_buf_addf(b, "until %u.%u", e->until.major, e->until.minor);
}

/* What the config has, for the table: the option's value, or which alternative decided. */
static void have_text(const struct dk_kconfig_report *rep, const struct dk_kconfig_finding *f, struct dk_buf *b)
{
	const struct dk_kconfig_expect *e = &f->rule->expect[f->which];

	if (f->result == DK_KRES_NA) {
		dk_buf_addf(b, "not in %u.%u (", rep->version.major, rep->version.minor);
		range_text(e, b);
		dk_buf_addc(b, ')');
		return;
	}
	if (f->which) {
		dk_buf_addf(b, "CONFIG_%s", e->name);
		if (f->actual->state == DK_KCONFIG_SET)
			dk_buf_addc(b, '=');
		else
			dk_buf_addc(b, ' ');
	}
	entry_text(f->actual, b);
}

static void sources_text(const struct dk_kconfig_rules *r, const struct dk_kconfig_rule *rule, struct dk_buf *b)
{
	for (uint32_t i = 0; i < rule->nsources; i++)
		dk_buf_addf(b, "%s%s", i ? "," : "", r->sources[rule->sources[i]].id);
}

static void print_counts(const size_t *c)
{
	printf("%zu OK, %zu FAIL, %zu N/A", c[DK_KRES_OK], c[DK_KRES_FAIL], c[DK_KRES_NA]);
}

/* The table shows "=OTHER" as the value OTHER has: the number a reader compares. */
static void table_want(const struct dk_kconfig *kc, const struct dk_kconfig_expect *e, struct dk_buf *b)
{
	if (e->want != DK_KWANT_SAME_AS || dk_kconfig_expect_value(e, kc, b) != 0) {
		dk_buf_reset(b);
		want_text(e, b);
	}
}

static void print_table(const struct check_opts *o, const struct dk_kconfig_rules *r,
			const struct dk_kconfig *kc, const struct dk_kconfig_report *rep)
{
	struct dk_buf want = DK_BUF_INIT, have = DK_BUF_INIT, src = DK_BUF_INIT;
	int wname = 0, wwant = 4, whave = 4;

	/* Columns as wide as their widest cell, so long option names do not shift the rest. */
	for (size_t i = 0; i < rep->nfindings; i++) {
		const struct dk_kconfig_finding *f = &rep->findings[i];

		dk_buf_reset(&want);
		dk_buf_reset(&have);
		table_want(kc, &f->rule->expect[0], &want);
		have_text(rep, f, &have);
		if ((int)f->rule->expect[0].name_len + 7 > wname)
			wname = (int)f->rule->expect[0].name_len + 7;
		if ((int)want.len > wwant)
			wwant = (int)want.len;
		if ((int)have.len > whave)
			whave = (int)have.len;
	}
	printf("%s: %s", o->config, dk_kconfig_arch_name(rep->arch));
	if (rep->has_version)
		printf(", Linux %u.%u.%u", rep->version.major, rep->version.minor, rep->version.patch);
	else
		printf(", kernel version unknown (every option is taken to exist)");
	printf(", %zu rules\n", rep->nfindings);
	for (int c = 0; c < DK_KCAT_COUNT; c++) {
		const size_t *cnt = rep->counts[c];

		if (cnt[DK_KRES_OK] + cnt[DK_KRES_FAIL] + cnt[DK_KRES_NA] == 0)
			continue;
		printf("\n%-*s  %-*s  %-*s  %s\n", wname + 8, dk_kconfig_category_name((enum dk_kconfig_category)c),
		       wwant, "want", whave, "have", "source");
		for (size_t i = 0; i < rep->nfindings; i++) {
			const struct dk_kconfig_finding *f = &rep->findings[i];

			if (f->rule->category != c)
				continue;
			dk_buf_reset(&want);
			dk_buf_reset(&have);
			dk_buf_reset(&src);
			table_want(kc, &f->rule->expect[0], &want);
			have_text(rep, f, &have);
			sources_text(r, f->rule, &src);
			printf("  %-4s  CONFIG_%-*s  %-*s  %-*s  %s\n",
			       dk_kconfig_result_name((enum dk_kconfig_result)f->result), wname - 7,
			       f->rule->expect[0].name, wwant, want.data, whave, have.data, src.data);
		}
		printf("  %s: ", dk_kconfig_category_name((enum dk_kconfig_category)c));
		print_counts(cnt);
		putchar('\n');
	}
	printf("\ntotal: ");
	print_counts(rep->totals);
	putchar('\n');
	dk_buf_release(&want);
	dk_buf_release(&have);
	dk_buf_release(&src);
}

/* A JSON string; config values are bytes, so anything that is not valid UTF-8 is made ASCII. */
static json_t *jstr(const char *s, size_t n)
{
	json_t *v = json_stringn(s, n);

	if (!v) {
		char *t = malloc(n + 1);

		if (!t)
			return NULL;
		for (size_t i = 0; i < n; i++)
			t[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
		v = json_stringn(t, n);
		free(t);
	}
	return v;
}

static json_t *counts_json(const size_t *c)
{
	return json_pack("{sI sI sI}", "ok", (json_int_t)c[DK_KRES_OK], "fail", (json_int_t)c[DK_KRES_FAIL], "na",
			 (json_int_t)c[DK_KRES_NA]);
}

static json_t *expect_json(const struct dk_kconfig_expect *e, struct dk_buf *b)
{
	dk_buf_reset(b);
	dk_buf_addf(b, "CONFIG_%s%s", e->name, e->want == DK_KWANT_NOT_SET ? " is not set" : "=");
	if (e->want != DK_KWANT_NOT_SET)
		want_text(e, b);
	return jstr(b->data, b->len);
}

static int print_json(const struct check_opts *o, const struct dk_kconfig_rules *r,
		      const struct dk_kconfig_report *rep)
{
	json_t *root = json_object(), *cats = json_object(), *list = json_array();
	struct dk_buf b = DK_BUF_INIT;
	char ver[48];

	if (!root || !cats || !list) {
		json_decref(root);
		json_decref(cats);
		json_decref(list);
		return EXIT_INTERNAL;
	}
	snprintf(ver, sizeof(ver), "%u.%u.%u", rep->version.major, rep->version.minor, rep->version.patch);
	json_object_set_new(root, "config", jstr(o->config, strlen(o->config)));
	json_object_set_new(root, "rules", jstr(o->rules, strlen(o->rules)));
	json_object_set_new(root, "arch", json_string(dk_kconfig_arch_name(rep->arch)));
	json_object_set_new(root, "kernel_version", rep->has_version ? json_string(ver) : json_null());
	json_object_set_new(root, "totals", counts_json(rep->totals));
	for (int c = 0; c < DK_KCAT_COUNT; c++)
		json_object_set_new(cats, dk_kconfig_category_name((enum dk_kconfig_category)c),
				    counts_json(rep->counts[c]));
	json_object_set_new(root, "categories", cats);
	for (size_t i = 0; i < rep->nfindings; i++) {
		const struct dk_kconfig_finding *f = &rep->findings[i];
		const struct dk_kconfig_rule *rule = f->rule;
		json_t *j = json_object(), *srcs = json_array(), *alts = json_array();

		dk_buf_reset(&b);
		dk_buf_addf(&b, "CONFIG_%s", rule->expect[0].name);
		json_object_set_new(j, "option", jstr(b.data, b.len));
		dk_buf_reset(&b);
		want_text(&rule->expect[0], &b);
		json_object_set_new(j, "want", jstr(b.data, b.len));
		json_object_set_new(j, "category",
				    json_string(dk_kconfig_category_name((enum dk_kconfig_category)rule->category)));
		json_object_set_new(j, "result", json_string(dk_kconfig_result_name((enum dk_kconfig_result)f->result)));
		if (f->result != DK_KRES_NA) {
			dk_buf_reset(&b);
			dk_buf_addf(&b, "CONFIG_%s", rule->expect[f->which].name);
			json_object_set_new(j, "checked", jstr(b.data, b.len));
			json_object_set_new(j, "have", f->actual->state == DK_KCONFIG_SET
							      ? jstr(f->actual->value, f->actual->len)
							      : json_null());
		}
		for (uint32_t k = 1; k < rule->nexpect; k++)
			json_array_append_new(alts, expect_json(&rule->expect[k], &b));
		json_object_set_new(j, "alternatives", alts);
		for (uint32_t k = 0; k < rule->nsources; k++)
			json_array_append_new(srcs, json_string(r->sources[rule->sources[k]].id));
		json_object_set_new(j, "sources", srcs);
		json_object_set_new(j, "rule_line", json_integer(rule->line));
		json_array_append_new(list, j);
	}
	json_object_set_new(root, "findings", list);
	{
		json_t *srcs = json_object();

		for (size_t i = 0; i < r->nsources; i++)
			json_object_set_new(srcs, r->sources[i].id, jstr(r->sources[i].title, strlen(r->sources[i].title)));
		json_object_set_new(root, "sources", srcs);
	}
	dk_buf_release(&b);
	return cli_json_out(root);
}

static int kconfig_check(struct cli *cli, int argc, char **argv)
{
	struct check_opts o = { 0 };
	struct dk_kconfig kc = DK_KCONFIG_INIT;
	struct dk_kconfig_rules rules = DK_KCONFIG_RULES_INIT;
	struct dk_kconfig_report rep = DK_KCONFIG_REPORT_INIT;
	struct dk_err err = DK_ERR_INIT;
	struct dk_kver ver;
	enum dk_kconfig_arch arch = DK_KARCH_NONE;
	int ret;

	if ((ret = parse_opts(cli, argc, argv, &o)))
		return ret < 0 ? EXIT_OK : ret;
	if (o.arch && (arch = dk_kconfig_arch_parse(o.arch)) == DK_KARCH_NONE)
		return cli_usage(cli, "--arch: '%s' is not one of x86_64, amd64, arm64, aarch64", o.arch);
	if (o.version && dk_kver_parse(&ver, o.version, strlen(o.version)))
		return cli_usage(cli, "--kernel-version: '%s' is not a kernel version such as 6.1", o.version);
	if (dk_kconfig_rules_load(&rules, o.rules, &err)) {
		if (o.default_rules && err.code == DK_EIO) {
			char msg[DK_ERR_MSG_MAX];

			memcpy(msg, err.msg, sizeof(msg));
			dk_err_set(&err, DK_EIO, "%.400s (name the rules with --rules FILE or $DEBKEEP_KCONFIG_RULES)",
				   msg);
		}
		ret = cli_fail(&err);
		goto out;
	}
	kc.only = &rules.names;
	if (dk_kconfig_load(&kc, o.config, &err)) {
		ret = cli_fail(&err);
		goto out;
	}
	if (!arch && (arch = dk_kconfig_detect_arch(&kc)) == DK_KARCH_NONE) {
		dk_err_set(&err, DK_EINPUT, "%s: cannot tell the architecture (neither CONFIG_X86_64=y nor "
			   "CONFIG_ARM64=y): give --arch", o.config);
		ret = cli_fail(&err);
		goto out;
	}
	if (dk_kconfig_check(&rules, &kc, arch, o.version ? &ver : NULL, &rep, &err)) {
		ret = cli_fail(&err);
		goto out;
	}
	if (o.fragment) {
		struct dk_buf frag = DK_BUF_INIT;

		if (dk_kconfig_fragment(&rep, &kc, &frag, &err)) {
			dk_buf_release(&frag);
			ret = cli_fail(&err);
			goto out;
		}
		fwrite(frag.data, 1, frag.len, stdout);
		dk_buf_release(&frag);
	} else if (cli->json) {
		if ((ret = print_json(&o, &rules, &rep)))
			goto out;
	} else {
		print_table(&o, &rules, &kc, &rep);
	}
	ret = rep.totals[DK_KRES_FAIL] ? EXIT_FOUND : EXIT_OK;
out:
	dk_kconfig_report_release(&rep);
	dk_kconfig_rules_release(&rules);
	dk_kconfig_release(&kc);
	return ret;
}

static const struct cli_command kconfig_commands[] = {
	{ "check", kconfig_check, 0, "CONFIG [--arch A] [--kernel-version V] [--json|--fragment]",
	  "check a kernel config against the hardening rules" },
	{ NULL, NULL, 0, NULL, NULL },
};

int cmd_kconfig(struct cli *cli, int argc, char **argv)
{
	return cli_dispatch(cli, "kconfig", kconfig_commands, argc, argv);
}
