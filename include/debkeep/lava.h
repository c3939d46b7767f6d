/* lava.h - LAVA test job definitions (YAML) that deploy an image, boot it and test it, or test an update */
#ifndef DEBKEEP_LAVA_H
#define DEBKEEP_LAVA_H

#include "buf.h"
#include "err.h"

/*
 * What the job is about. device_type "qemu" deploys the image to tmpfs and
 * boots it under QEMU for arch (amd64 or arm64); any other LAVA device type
 * is a physical board: the image is written by the device's flasher and the
 * board is reset (the lab's device dictionary says how).
 *
 * With swu_url the job also runs the A/B update test of the CIP project's
 * jobs: install the bundle with swupdate, reboot, check that the boot
 * environment moved to the other copy and its ustate is TESTING, confirm
 * with bg_setenv -c. What was booted before the update is kept in state_dir
 * on the device, which must survive the switch of root file systems (CIP
 * images keep /var on its own partition).
 */
struct dk_lava_job {
	const char *device_type;
	const char *arch; /* qemu only; NULL: amd64 */
	const char *image_url;
	const char *firmware_url; /* qemu only: UEFI firmware given to -bios; NULL: the device type's */
	const char *swu_url;	  /* NULL: smoke test only */
	const char *job_name;	  /* NULL: made from the device and the test */
	const char *prompt;	  /* the shell prompt, a regular expression */
	const char *login_prompt;
	const char *username;
	const char *password; /* NULL: log in without one */
	const char *state_dir;
	unsigned timeout_min; /* the whole job; each action gets at most this */
};

#define DK_LAVA_JOB_INIT                                                                                   \
	{ .device_type = "qemu", .prompt = "root@[^:]*:[^#]*#", .login_prompt = "login:", .username = "root", \
	  .state_dir = "/var/lib/debkeep-lava", .timeout_min = 60 }

#define DK_LAVA_TIMEOUT_MAX (7 * 24 * 60)

/* Check the job's values; DK_EINPUT naming the field otherwise. dk_lava_job_yaml checks too. */
int dk_lava_job_check(const struct dk_lava_job *job, struct dk_err *err);

/* Append the job definition, a YAML document, to out. */
int dk_lava_job_yaml(const struct dk_lava_job *job, struct dk_buf *out, struct dk_err *err);

#endif
