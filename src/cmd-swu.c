/* cmd-swu.c - debkeep swu create|verify: SWUpdate bundles for A/B updates in the field */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <debkeep/swu.h>

#include "cli.h"

static const char create_usage[] =
	"usage: debkeep swu create DESC.yaml -o BUNDLE.swu [--key KEY.pem --cert CERT.pem] [--mtime EPOCH]\n"
	"\n"
	"Build an SWUpdate bundle (cpio \"crc\" format) from a description (docs/swu.md): sw-description\n"
	"with two software collections, copy-1 and copy-2, for the rootfs image and the kernel, the sha256\n"
	"of every payload, the hardware compatibility, and with --key/--cert a CMS signature\n"
	"(sw-description.sig). Payloads are streamed, never held in memory; the bundle is written to a\n"
	"temporary file and renamed, so a failure leaves nothing under BUNDLE.swu.\n"
	"\n"
	"  -o, --output FILE  the bundle to write\n"
	"  --key FILE         PEM private key to sign with (no passphrase)\n"
	"  --cert FILE        its PEM certificate\n"
	"  --mtime EPOCH      member timestamps (default: $SOURCE_DATE_EPOCH, else 0)\n"
	"  --json             print JSON\n";

static const char verify_usage[] =
	"usage: debkeep swu verify BUNDLE.swu [--cert CERT.pem] [--hw BOARD:REV]\n"
	"\n"
	"Check a bundle as SWUpdate does before installing it: sw-description first, its CMS signature\n"
	"against CERT (as `swupdate -k CERT`), every payload's sha256 against sw-description, the cpio\n"
	"checksums, and with --hw the hardware compatibility (as `swupdate -H BOARD:REV`).\n"
	"Prints one line per problem.\n"
	"\n"
	"Exit status: 0 the bundle is good; 1 it is not; 2 it or the certificate cannot be read.\n";

static int parse_epoch(struct cli *cli, const char *s, uint32_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (!s[0] || *end || errno || v > UINT32_MAX || s[0] == '-')
		return cli_usage(cli, "mtime '%s' is not a number of seconds since 1970 (up to 2106)", s);
	*out = (uint32_t)v;
	return 0;
}

static json_t *payload_json(const struct dk_swu_image *im, const struct dk_swu_payload *p)
{
	char hex[65];

	dk_hex(p->sha256, 32, hex);
	return json_pack("{s:s, s:s, s:I, s:s}", "name", im->name, "file", im->file, "size",
			 (json_int_t)p->size, "sha256", hex);
}

/* How to make the bundle, and where it goes. */
struct create_args {
	struct dk_swu_create_opts o;
	const char *out;
};

static int take_create(struct cli *cli, int opt, char *arg, void *ctx)
{
	struct create_args *a = ctx;

	switch (opt) {
	case 'o':
		a->out = arg;
		break;
	case 'k':
		a->o.key = arg;
		break;
	case 'c':
		a->o.cert = arg;
		break;
	case 'm':
		return parse_epoch(cli, arg, &a->o.mtime);
	}
	return 0;
}

static int cmd_create(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "key", required_argument, NULL, 'k' },
		{ "cert", required_argument, NULL, 'c' },
		{ "mtime", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	struct create_args a = { .out = NULL };
	const struct cli_options co = {
		.usage = create_usage, .bad = "bad option", .shortopts = "o:", .opts = opts,
		.take = take_create, .ctx = &a,
	};
	struct dk_swu_desc d = DK_SWU_DESC_INIT;
	struct dk_swu_payload p[DK_SWU_ROLES];
	struct dk_err err = DK_ERR_INIT;
	const char *epoch = getenv("SOURCE_DATE_EPOCH");
	int r;

	if (epoch && epoch[0] && (r = parse_epoch(cli, epoch, &a.o.mtime)))
		return r;
	if ((r = cli_parse(cli, argc, argv, &co)) >= 0)
		return r;
	if (optind >= argc)
		return cli_usage(cli, "which description? (DESC.yaml)");
	if (optind + 1 < argc)
		return cli_usage(cli, "unexpected argument '%s'", argv[optind + 1]);
	if (!a.out)
		return cli_usage(cli, "no -o BUNDLE.swu given");
	if (!a.o.key != !a.o.cert)
		return cli_usage(cli, "signing needs both --key and --cert");
	if ((r = dk_swu_desc_load(&d, argv[optind], &err)) || (r = dk_swu_create(&d, a.out, &a.o, p, &err))) {
		dk_swu_desc_release(&d);
		return cli_fail(&err);
	}
	if (cli->json) {
		json_t *arr = json_array();

		for (int i = 0; i < DK_SWU_ROLES; i++)
			if (d.image[i].present)
				json_array_append_new(arr, payload_json(&d.image[i], &p[i]));
		r = cli_json_out(json_pack("{s:s, s:s, s:s, s:b, s:o}", "bundle", a.out, "product", d.product,
					   "version", d.version, "signed", a.o.key != NULL, "payloads", arr));
	} else {
		for (int i = 0; i < DK_SWU_ROLES; i++) {
			char hex[65];

			if (!d.image[i].present)
				continue;
			dk_hex(p[i].sha256, 32, hex);
			printf("%-24s %12llu  sha256 %s\n", d.image[i].name, (unsigned long long)p[i].size,
			       hex);
		}
		printf("wrote %s (%s %s, %s)\n", a.out, d.product, d.version,
		       a.o.key ? "signed" : "not signed");
		r = EXIT_OK;
	}
	dk_swu_desc_release(&d);
	return r;
}

static int report_json(const char *bundle, const struct dk_swu_report *rep)
{
	json_t *members = json_array(), *problems = json_array();

	for (size_t i = 0; i < rep->nmembers; i++)
		json_array_append_new(members, json_pack("{s:s, s:I, s:s, s:b}", "name", rep->members[i].name,
							 "size", (json_int_t)rep->members[i].size, "sha256",
							 rep->members[i].sha256, "described",
							 rep->members[i].described));
	for (size_t i = 0; i < rep->nproblems; i++)
		json_array_append_new(problems, json_string(rep->problems[i]));
	return cli_json_out(json_pack("{s:s, s:b, s:s?, s:b, s:b, s:s?, s:o, s:o}", "bundle", bundle, "ok",
				      rep->nproblems == 0, "version", rep->version, "signed",
				      rep->signed_bundle, "signature_verified", rep->signature_checked,
				      "signer", rep->signer, "payloads", members, "problems", problems));
}

static int take_verify(struct cli *cli, int opt, char *arg, void *ctx)
{
	struct dk_swu_verify_opts *o = ctx;

	if (opt == 'c') {
		o->cert = arg;
		return 0;
	}
	if (!strchr(arg, ':') || arg[0] == ':' || !strchr(arg, ':')[1])
		return cli_usage(cli, "--hw '%s': expected BOARD:REVISION", arg);
	o->hw = arg;
	return 0;
}

static int cmd_verify(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cert", required_argument, NULL, 'c' },
		{ "hw", required_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	struct dk_swu_verify_opts o = { 0 };
	const struct cli_options co = {
		.usage = verify_usage, .bad = "bad option", .opts = opts, .take = take_verify, .ctx = &o,
	};
	struct dk_swu_report rep = DK_SWU_REPORT_INIT;
	struct dk_err err = DK_ERR_INIT;
	const char *bundle;
	int r = cli_parse(cli, argc, argv, &co);

	if (r >= 0)
		return r;
	if (optind >= argc)
		return cli_usage(cli, "which bundle?");
	if (optind + 1 < argc)
		return cli_usage(cli, "unexpected argument '%s'", argv[optind + 1]);
	bundle = argv[optind];
	if ((r = dk_swu_verify(bundle, &o, &rep, &err)))
		return cli_fail(&err);
	if (cli->json) {
		r = report_json(bundle, &rep);
		if (!r && rep.nproblems)
			r = EXIT_FOUND;
	} else if (rep.nproblems) {
		for (size_t i = 0; i < rep.nproblems; i++)
			printf("%s: %s\n", bundle, rep.problems[i]);
		r = EXIT_FOUND;
	} else {
		printf("%s: ok: version %s, %zu payload%s, %s\n", bundle,
		       rep.version ? rep.version : "(none)", rep.nmembers, rep.nmembers == 1 ? "" : "s",
		       rep.signature_checked ? "signature verified"
		       : rep.signed_bundle   ? "signature not checked (no --cert)"
					     : "not signed");
		if (rep.signer)
			printf("%s: signed by %s\n", bundle, rep.signer);
		r = EXIT_OK;
	}
	dk_swu_report_release(&rep);
	return r;
}

static const struct cli_command swu_commands[] = {
	{ "create", cmd_create, 0, "DESC.yaml -o BUNDLE.swu [--key K --cert C]",
	  "build a (signed) SWUpdate bundle" },
	{ "verify", cmd_verify, 0, "BUNDLE.swu [--cert C] [--hw BOARD:REV]",
	  "check a bundle as SWUpdate would" },
	{ NULL, NULL, 0, NULL, NULL },
};

int cmd_swu(struct cli *cli, int argc, char **argv)
{
	return cli_dispatch(cli, "swu", swu_commands, argc, argv);
}
