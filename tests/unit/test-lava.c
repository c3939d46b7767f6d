/* test-lava.c - unit tests for lib/device/lava.c: LAVA job definitions */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include <debkeep/lava.h>

#include "tap.h"

static struct dk_buf out = DK_BUF_INIT;

static int emit(const struct dk_lava_job *job, struct dk_err *err)
{
	dk_buf_reset(&out);
	return dk_lava_job_yaml(job, &out, err);
}

static size_t count(const char *needle)
{
	size_t n = 0;

	for (const char *p = out.data; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* The scalar that follows the first scalar equal to key, as libyaml reads the output back. */
static char *value_of(const char *key)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	char *found = NULL;
	bool next = false, done = false;

	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)out.data, out.len);
	while (!done && yaml_parser_parse(&parser, &ev)) {
		if (ev.type == YAML_SCALAR_EVENT) {
			const char *v = (const char *)ev.data.scalar.value;

			/* A quoted scalar comes back in quotes, so a test can tell '1.5' from 1.5. */
			if (next) {
				size_t n = strlen(v) + 3;

				found = malloc(n);
				if (found)
					snprintf(found, n,
						 ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE ? "%s"
												 : "'%s'",
						 v);
				done = true;
			}
			next = strcmp(v, key) == 0;
		} else {
			next = false;
		}
		done |= ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	return found;
}

/* Does the output parse as YAML from start to end? */
static bool well_formed(void)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	bool end = false, good = true;

	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)out.data, out.len);
	while (!end && (good = yaml_parser_parse(&parser, &ev))) {
		end = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	return good && end;
}

static void is_value(const char *key, const char *want, const char *what)
{
	char *v = value_of(key);

	is_str(v, want, "%s", what);
	free(v);
}

static void test_qemu(void)
{
	struct dk_lava_job job = DK_LAVA_JOB_INIT;
	struct dk_err err = DK_ERR_INIT;

	job.image_url = "https://images.example/cip-core-amd64.wic.xz";
	is_int(emit(&job, &err), 0, "smoke test job");
	ok(well_formed(), "well-formed YAML");
	is_value("device_type", "qemu", "device type");
	is_value("job_name", "debkeep smoke test on qemu amd64", "job name made up");
	is_value("to", "tmpfs", "qemu deploys to tmpfs");
	is_value("method", "qemu", "boots with qemu");
	is_value("compression", "xz", "compression from the suffix");
	is_value("url", "https://images.example/cip-core-amd64.wic.xz", "image URL");
	is_value("arch", "amd64", "arch in the context");
	is_int(count("- test:"), 1, "one test action");
	is_int(count("- boot:"), 1, "one boot");
	ok(strstr(out.data, "lava-test-case dpkg-audit --result pass") != NULL,
	   "dpkg --audit is a test case");
	ok(!strstr(out.data, "swupdate"), "no update test without --swu");
	ok(!strstr(out.data, "password"), "no password unless given");

	job.arch = "arm64";
	job.swu_url = "https://images.example/update.swu";
	job.firmware_url = "https://images.example/QEMU_EFI.fd";
	job.password = "yes";
	job.job_name = "1.5";
	is_int(emit(&job, &err), 0, "update test job");
	ok(well_formed(), "well-formed YAML");
	is_value("arch", "arm64", "arm64");
	is_value("machine", "virt", "arm64 needs a machine");
	is_value("job_name", "'1.5'", "a name that looks like a number is quoted");
	is_value("password", "'yes'", "a password that looks like a boolean is quoted");
	is_value("image_arg", "'-drive file={system},if=virtio,format=raw,discard=unmap'",
		 "the system image");
	ok(strstr(out.data, "-bios {firmware}") != NULL, "firmware for -bios");
	is_int(count("- test:"), 3, "smoke, install, check");
	is_int(count("- boot:"), 2, "booted twice");
	ok(strstr(out.data, "'https://images.example/update.swu'") != NULL, "the bundle URL, single-quoted");
	ok(strstr(out.data, "swupdate -v -i /var/tmp/debkeep-update.swu") != NULL, "swupdate -i");
	ok(strstr(out.data, "USTATE=2; then lava-test-case ustate-testing") != NULL, "checks ustate TESTING");
	ok(strstr(out.data, "bg_setenv -c; then lava-test-case confirm") != NULL, "confirms");
	ok(strstr(out.data, "/var/lib/debkeep-lava/before") != NULL, "keeps the old state in the state dir");

	job.timeout_min = 5;
	is_int(emit(&job, &err), 0, "short timeout");
	ok(!strstr(out.data, "minutes: 10") && !strstr(out.data, "minutes: 20"),
	   "no action outlasts the job");
}

static void test_board(void)
{
	struct dk_lava_job job = DK_LAVA_JOB_INIT;
	struct dk_err err = DK_ERR_INIT;

	job.device_type = "mcom-mtda";
	job.image_url = "http://lab/img.wic";
	is_int(emit(&job, &err), 0, "a board");
	ok(well_formed(), "well-formed YAML");
	is_value("to", "flasher", "flashed");
	is_value("method", "minimal", "minimal boot");
	is_value("reset", "true", "reset");
	ok(!strstr(out.data, "compression"), "no compression for a plain image");
	ok(!strstr(out.data, "context"), "no qemu context");
}

static void test_bad(void)
{
	struct dk_lava_job job = DK_LAVA_JOB_INIT;
	struct dk_err err = DK_ERR_INIT;

	is_int(emit(&job, &err), DK_EINPUT, "no image");
	job.image_url = "images/x.wic";
	is_int(emit(&job, &err), DK_EINPUT, "not a URL");
	is_str(err.msg, "image: 'images/x.wic' is not a URL (scheme://...)", "not a URL: message");
	job.image_url = "https://x/a b.wic";
	is_int(emit(&job, &err), DK_EINPUT, "a blank in a URL");
	job.image_url = "https://x/a'b.wic";
	is_int(emit(&job, &err), DK_EINPUT, "a quote in a URL");
	job.image_url = "https://x/a.wic";
	job.swu_url = "https://x/$(reboot)'";
	is_int(emit(&job, &err), DK_EINPUT, "no shell tricks in the bundle URL");
	job.swu_url = NULL;
	job.arch = "riscv64";
	is_int(emit(&job, &err), DK_EINPUT, "unknown arch");
	job.arch = "arm64";
	job.device_type = "board";
	is_int(emit(&job, &err), DK_EINPUT, "arch for a board");
	job.arch = NULL;
	job.device_type = "a board";
	is_int(emit(&job, &err), DK_EINPUT, "a blank in the device type");
	job.device_type = "qemu";
	job.timeout_min = 0;
	is_int(emit(&job, &err), DK_EINPUT, "zero timeout");
	job.timeout_min = 60;
	job.state_dir = "var/lib";
	is_int(emit(&job, &err), DK_EINPUT, "relative state dir");
	job.state_dir = "/var/lib/x;rm";
	is_int(emit(&job, &err), DK_EINPUT, "state dir with a shell character");
	job.state_dir = "/var/lib/x";
	job.prompt = "";
	is_int(emit(&job, &err), DK_EINPUT, "empty prompt");
	job.prompt = "#";
	job.job_name = "a\nb";
	is_int(emit(&job, &err), DK_EINPUT, "newline in the job name");
}

int main(void)
{
	test_qemu();
	test_board();
	test_bad();
	dk_buf_release(&out);
	return tap_done();
}
