/* cmd-lava.c - debkeep lava job: a LAVA job definition that boots and tests an image, or an update */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <debkeep/fs.h>
#include <debkeep/lava.h>

#include "cli.h"

static const char job_usage[] =
	"usage: debkeep [--json] lava job --image URL [--device TYPE] [--arch amd64|arm64] [--swu URL]\n"
	"                                 [--firmware URL] [--timeout MIN] [-o FILE] [OPTIONS]\n\n"
	"Write a LAVA job definition (YAML) that deploys the disk image at URL, boots it, logs in and\n"
	"runs a smoke test (kernel, os-release, systemd state, dpkg --audit). With --swu it then runs\n"
	"the A/B update test: install the bundle with swupdate, reboot, check that EFI Boot Guard\n"
	"switched to the other environment with ustate TESTING and a higher revision, confirm with\n"
	"bg_setenv -c. The test definitions are inline: the job needs no test repository.\n\n"
	"  --image URL        the disk image (compression from the suffix: .xz .gz .bz2 .zst .zip)\n"
	"  --device TYPE      qemu (default: deploy to tmpfs, boot under QEMU) or a board's LAVA\n"
	"                     device type (deploy with its flasher, boot by resetting it)\n"
	"  --arch A           amd64 (default) or arm64; qemu only\n"
	"  --firmware URL     UEFI firmware for QEMU's -bios (default: the device type's); qemu only\n"
	"  --swu URL          an SWUpdate bundle: add the update test\n"
	"  --timeout MIN      the job's timeout in minutes (default 60); no action gets more\n"
	"  --name NAME        the job name (default: made from the device and the test)\n"
	"  --prompt RE        the shell prompt, a regular expression (default 'root@[^:]*:[^#]*#')\n"
	"  --login-prompt S   default 'login:'\n"
	"  --user U           default root\n"
	"  --password P       default: none\n"
	"  --state-dir DIR    where the update test keeps what was booted before the update; must\n"
	"                     survive the switch of root file systems (default /var/lib/debkeep-lava)\n"
	"  -o FILE            write the job to FILE (atomically) instead of standard output\n"
	"  --json             print {\"file\", \"job\"} as JSON\n\n"
	"Exit status: 0 written; 2 a bad value or a usage error.\n";

static int parse_minutes(struct cli *cli, const char *s, unsigned *v)
{
	unsigned long n;
	char *end;

	errno = 0;
	if (s[0] < '0' || s[0] > '9')
		return cli_usage(cli, "--timeout: '%s' is not a number of minutes", s);
	n = strtoul(s, &end, 10);
	if (errno || *end || n < 1 || n > DK_LAVA_TIMEOUT_MAX)
		return cli_usage(cli, "--timeout: '%s' is not from 1 to %u minutes", s, DK_LAVA_TIMEOUT_MAX);
	*v = (unsigned)n;
	return 0;
}

enum {
	O_IMAGE = 256,
	O_DEVICE,
	O_ARCH,
	O_SWU,
	O_FIRMWARE,
	O_TIMEOUT,
	O_NAME,
	O_PROMPT,
	O_LOGIN,
	O_USER,
	O_PASSWORD,
	O_STATE
};

/* The job the options describe, and where it goes (NULL: stdout). */
struct job_args {
	struct dk_lava_job job;
	const char *output;
};

static int take(struct cli *cli, int opt, char *arg, void *ctx)
{
	struct job_args *a = ctx;

	switch (opt) {
	case O_IMAGE:
		a->job.image_url = arg;
		break;
	case O_DEVICE:
		a->job.device_type = arg;
		break;
	case O_ARCH:
		a->job.arch = arg;
		break;
	case O_SWU:
		a->job.swu_url = arg;
		break;
	case O_FIRMWARE:
		a->job.firmware_url = arg;
		break;
	case O_TIMEOUT:
		return parse_minutes(cli, arg, &a->job.timeout_min);
	case O_NAME:
		a->job.job_name = arg;
		break;
	case O_PROMPT:
		a->job.prompt = arg;
		break;
	case O_LOGIN:
		a->job.login_prompt = arg;
		break;
	case O_USER:
		a->job.username = arg;
		break;
	case O_PASSWORD:
		a->job.password = arg;
		break;
	case O_STATE:
		a->job.state_dir = arg;
		break;
	case 'o':
		a->output = arg;
		break;
	}
	return 0;
}

static int cmd_job(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "image", required_argument, NULL, O_IMAGE },
		{ "device", required_argument, NULL, O_DEVICE },
		{ "arch", required_argument, NULL, O_ARCH },
		{ "swu", required_argument, NULL, O_SWU },
		{ "firmware", required_argument, NULL, O_FIRMWARE },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "name", required_argument, NULL, O_NAME },
		{ "prompt", required_argument, NULL, O_PROMPT },
		{ "login-prompt", required_argument, NULL, O_LOGIN },
		{ "user", required_argument, NULL, O_USER },
		{ "password", required_argument, NULL, O_PASSWORD },
		{ "state-dir", required_argument, NULL, O_STATE },
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	struct job_args a = { .job = DK_LAVA_JOB_INIT };
	const struct cli_options co = {
		.usage = job_usage, .bad = "bad option", .shortopts = "o:", .opts = opts, .take = take,
		.ctx = &a,
	};
	struct dk_err err = DK_ERR_INIT;
	struct dk_buf out = DK_BUF_INIT;
	int r = cli_parse(cli, argc, argv, &co);

	if (r >= 0)
		return r;
	r = 0;
	if (optind < argc)
		return cli_usage(cli, "unexpected argument '%s'", argv[optind]);
	if (!a.job.image_url)
		return cli_usage(cli, "which image? (--image URL)");
	if (dk_lava_job_yaml(&a.job, &out, &err) ||
	    (a.output && dk_write_file_atomic(a.output, out.data, out.len, 0644, &err))) {
		r = cli_fail(&err);
	} else if (cli->json) {
		json_t *o = json_object();

		json_object_set_new(o, "file", a.output ? json_string(a.output) : json_null());
		json_object_set_new(o, "job", json_stringn(out.data, out.len));
		r = cli_json_out(o);
	} else if (!a.output) {
		fwrite(out.data, 1, out.len, stdout);
	}
	dk_buf_release(&out);
	return r;
}

static const struct cli_command lava_commands[] = {
	{ "job", cmd_job, 0, "--image URL [--device qemu|TYPE] [--swu URL] ...",
	  "a job definition: boot and smoke-test an image, or test an A/B update" },
	{ NULL, NULL, 0, NULL, NULL },
};

int cmd_lava(struct cli *cli, int argc, char **argv)
{
	return cli_dispatch(cli, "lava", lava_commands, argc, argv);
}
