/* lava.c - LAVA test job definitions: a smoke test of an image, and the A/B update test of a .swu bundle */
#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include <debkeep/lava.h>

#include "banned.h"

/*
 * The YAML is written through libyaml's emitter rather than by hand: URLs,
 * prompts and shell steps hold ':', '#', quotes and braces, and the emitter
 * quotes whatever needs it. What it cannot know is which strings a YAML 1.1
 * loader (LAVA's, PyYAML) would turn into numbers, booleans or null; those
 * are forced into quotes here (see plain_ok).
 */
struct emit {
	yaml_emitter_t e;
	struct dk_buf *out;
	bool failed;
};

static int write_out(void *data, unsigned char *p, size_t n)
{
	struct emit *em = data;

	return dk_buf_add(em->out, p, n) == 0;
}

static void ev(struct emit *em, yaml_event_t *event, int made)
{
	if (!made || !yaml_emitter_emit(&em->e, event))
		em->failed = true;
}

/* false for strings a YAML 1.1 resolver would not read back as strings: numbers, booleans, null. */
static bool plain_ok(const char *s)
{
	static const char *const words[] = {
		"y", "n", "yes", "no", "true", "false", "on", "off", "null", NULL
	};

	if (!*s || strchr("0123456789+-.~", *s))
		return false;
	for (int i = 0; words[i]; i++)
		if (strcasecmp(s, words[i]) == 0)
			return false;
	return true;
}

static void str(struct emit *em, const char *s)
{
	yaml_event_t e;

	ev(em, &e,
	   yaml_scalar_event_initialize(&e, NULL, NULL, (yaml_char_t *)s, (int)strlen(s), plain_ok(s), 1,
					YAML_ANY_SCALAR_STYLE));
}

/* A number or boolean, for the loader to resolve. */
static void plain(struct emit *em, const char *s)
{
	yaml_event_t e;

	ev(em, &e,
	   yaml_scalar_event_initialize(&e, NULL, NULL, (yaml_char_t *)s, (int)strlen(s), 1, 0,
					YAML_PLAIN_SCALAR_STYLE));
}

static void num(struct emit *em, unsigned v)
{
	char s[16];

	snprintf(s, sizeof(s), "%u", v);
	plain(em, s);
}

static void map(struct emit *em)
{
	yaml_event_t e;

	ev(em, &e, yaml_mapping_start_event_initialize(&e, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE));
}

static void map_end(struct emit *em)
{
	yaml_event_t e;

	ev(em, &e, yaml_mapping_end_event_initialize(&e));
}

static void seq(struct emit *em)
{
	yaml_event_t e;

	ev(em, &e, yaml_sequence_start_event_initialize(&e, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE));
}

static void seq_end(struct emit *em)
{
	yaml_event_t e;

	ev(em, &e, yaml_sequence_end_event_initialize(&e));
}

static void kv(struct emit *em, const char *k, const char *v)
{
	str(em, k);
	str(em, v);
}

/* "KEY: {minutes: N}", at most the job's own timeout: LAVA refuses an action that outlasts the job. */
static void timeout(struct emit *em, const char *key, unsigned minutes, const struct dk_lava_job *job)
{
	str(em, key);
	map(em);
	str(em, "minutes");
	num(em, minutes < job->timeout_min ? minutes : job->timeout_min);
	map_end(em);
}

static bool is_qemu(const struct dk_lava_job *job)
{
	return strcmp(job->device_type, "qemu") == 0;
}

/* A URL as LAVA takes it: a scheme, "://", and no blank, control character or quote to trip a shell step. */
static int check_url(const char *what, const char *url, struct dk_err *err)
{
	const char *p = url;

	if (!isalpha((unsigned char)*p))
		return dk_err_set(err, DK_EINPUT, "%s: '%s' is not a URL (scheme://...)", what, url);
	while (isalnum((unsigned char)*p) || *p == '+' || *p == '-' || *p == '.')
		p++;
	if (strncmp(p, "://", 3) != 0 || !p[3])
		return dk_err_set(err, DK_EINPUT, "%s: '%s' is not a URL (scheme://...)", what, url);
	for (p = url; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == '\'' || *p == '"' || *p == '\\')
			return dk_err_set(err, DK_EINPUT, "%s: byte 0x%02x at %zu: not allowed in a URL",
					  what, (unsigned char)*p, (size_t)(p - url));
	return 0;
}

/* LAVA's names for device types: letters, digits, '-', '_' and '.', as in its device-types directory. */
static int check_name(const char *what, const char *s, size_t max, struct dk_err *err)
{
	size_t n = strlen(s);

	if (!n || n > max)
		return dk_err_set(err, DK_EINPUT, "%s: must be 1 to %zu characters", what, max);
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("-_.", s[i]))
			return dk_err_set(err, DK_EINPUT, "%s: '%s': only letters, digits, '-', '_' and '.'",
					  what, s);
	return 0;
}

static int check_text(const char *what, const char *s, struct dk_err *err)
{
	if (!*s)
		return dk_err_set(err, DK_EINPUT, "%s: empty", what);
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return dk_err_set(err, DK_EINPUT, "%s: control character 0x%02x", what,
					  (unsigned char)*p);
	return 0;
}

int dk_lava_job_check(const struct dk_lava_job *job, struct dk_err *err)
{
	int r;

	if ((r = check_name("device type", job->device_type, 200, err)))
		return r;
	if (!job->image_url)
		return dk_err_set(err, DK_EINPUT, "image: no URL given");
	if ((r = check_url("image", job->image_url, err)))
		return r;
	if (job->swu_url && (r = check_url("swu", job->swu_url, err)))
		return r;
	if (job->firmware_url && (r = check_url("firmware", job->firmware_url, err)))
		return r;
	if (!is_qemu(job) && (job->arch || job->firmware_url))
		return dk_err_set(
			err, DK_EINPUT,
			"%s: the architecture and firmware are chosen for qemu only; a board's device type "
			"knows its own",
			job->arch ? "arch" : "firmware");
	if (job->arch && strcmp(job->arch, "amd64") && strcmp(job->arch, "arm64"))
		return dk_err_set(err, DK_EINPUT, "arch: '%s' is not one of amd64, arm64", job->arch);
	if (job->timeout_min < 1 || job->timeout_min > DK_LAVA_TIMEOUT_MAX)
		return dk_err_set(err, DK_EINPUT, "timeout: %u minutes, not from 1 to %u", job->timeout_min,
				  DK_LAVA_TIMEOUT_MAX);
	if (job->job_name && (r = check_text("job name", job->job_name, err)))
		return r;
	if (job->job_name && strlen(job->job_name) > 200)
		return dk_err_set(err, DK_EINPUT, "job name: more than 200 characters");
	if ((r = check_text("prompt", job->prompt, err)) ||
	    (r = check_text("login prompt", job->login_prompt, err)) ||
	    (r = check_text("user", job->username, err)))
		return r;
	if (job->password && (r = check_text("password", job->password, err)))
		return r;
	if (job->state_dir[0] != '/')
		return dk_err_set(err, DK_EINPUT, "state directory: '%s' is not an absolute path",
				  job->state_dir);
	for (const char *p = job->state_dir; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("/-_.", *p))
			return dk_err_set(err, DK_EINPUT,
					  "state directory: '%s': only letters, digits, '/-_.'",
					  job->state_dir);
	return 0;
}

/* The compression LAVA must undo, from the URL's suffix (LAVA does not sniff it). */
static const char *compression_of(const char *url)
{
	static const char *const map[][2] = {
		{ ".xz", "xz" }, { ".gz", "gz" }, { ".bz2", "bz2" }, { ".zst", "zstd" }, { ".zip", "zip" },
	};
	size_t n = strlen(url);

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		size_t k = strlen(map[i][0]);

		if (n > k && strcmp(url + n - k, map[i][0]) == 0)
			return map[i][1];
	}
	return NULL;
}

static void image(struct emit *em, const char *name, const char *url, const char *image_arg)
{
	const char *comp = compression_of(url);

	str(em, name);
	map(em);
	if (image_arg)
		kv(em, "image_arg", image_arg);
	kv(em, "url", url);
	if (comp)
		kv(em, "compression", comp);
	map_end(em);
}

static void deploy(struct emit *em, const struct dk_lava_job *job)
{
	str(em, "deploy");
	map(em);
	timeout(em, "timeout", 20, job);
	if (is_qemu(job)) {
		kv(em, "to", "tmpfs");
		str(em, "images");
		map(em);
		/* A raw disk image with its partitions (ESP, config partitions, two root file systems). */
		image(em, "system", job->image_url,
		      "-drive file={system},if=virtio,format=raw,discard=unmap");
		if (job->firmware_url)
			image(em, "firmware", job->firmware_url, "-bios {firmware}");
		map_end(em);
	} else {
		kv(em, "to", "flasher");
		str(em, "images");
		map(em);
		image(em, "image", job->image_url, NULL);
		map_end(em);
	}
	map_end(em);
}

static void boot(struct emit *em, const struct dk_lava_job *job)
{
	str(em, "boot");
	map(em);
	timeout(em, "timeout", 10, job);
	if (is_qemu(job)) {
		kv(em, "method", "qemu");
		kv(em, "media", "tmpfs");
	} else {
		kv(em, "method", "minimal");
		str(em, "reset");
		plain(em, "true");
	}
	str(em, "prompts");
	seq(em);
	str(em, job->prompt);
	seq_end(em);
	str(em, "auto_login");
	map(em);
	kv(em, "login_prompt", job->login_prompt);
	kv(em, "username", job->username);
	if (job->password) {
		kv(em, "password_prompt", "Password:");
		kv(em, "password", job->password);
	}
	map_end(em);
	map_end(em);
}

/* A test definition written into the job itself (from: inline), so the job needs no test repository. */
static void test(struct emit *em, const struct dk_lava_job *job, const char *name, const char *description,
		 unsigned minutes, const char *const *steps, size_t nsteps)
{
	char path[64];

	snprintf(path, sizeof(path), "inline/%s.yaml", name);
	str(em, "test");
	map(em);
	timeout(em, "timeout", minutes, job);
	str(em, "definitions");
	seq(em);
	map(em);
	str(em, "repository");
	map(em);
	str(em, "metadata");
	map(em);
	kv(em, "format", "Lava-Test Test Definition 1.0");
	kv(em, "name", name);
	kv(em, "description", description);
	map_end(em);
	str(em, "run");
	map(em);
	str(em, "steps");
	seq(em);
	for (size_t i = 0; i < nsteps; i++)
		str(em, steps[i]);
	seq_end(em);
	map_end(em);
	map_end(em);
	kv(em, "from", "inline");
	kv(em, "name", name);
	kv(em, "path", path);
	map_end(em);
	seq_end(em);
	map_end(em);
}

/*
 * One test case per step: the condition is a shell list, its status is the
 * result. Steps run in the test shell itself, not through lava-test-case
 * --shell, so pipes, $(...) and quotes work. A fatal case ends the job
 * (lava-test-raise): nothing after it would mean anything.
 */
DK_PRINTF(4, 5) static void step(struct dk_buf *b, const char *name, bool fatal, const char *fmt, ...)
{
	va_list ap;

	dk_buf_adds(b, "if ");
	va_start(ap, fmt);
	dk_buf_vaddf(b, fmt, ap);
	va_end(ap);
	dk_buf_addf(b, "; then lava-test-case %s --result pass; else lava-test-case %s --result fail%s%s; fi",
		    name, name, fatal ? "; lava-test-raise " : "", fatal ? name : "");
	dk_buf_addc(b, '\0');
}

/* A step that only shows something in the log. */
static void show(struct dk_buf *b, const char *cmd)
{
	dk_buf_adds(b, cmd);
	dk_buf_addc(b, '\0');
}

#define MAX_STEPS 12

/* The NUL-separated steps of b as a test definition. */
static void test_steps(struct emit *em, const struct dk_lava_job *job, const char *name,
		       const char *description, unsigned minutes, const struct dk_buf *b)
{
	const char *steps[MAX_STEPS];
	size_t n = 0;

	if (b->failed) {
		em->failed = true;
		return;
	}
	for (size_t i = 0; i < b->len && n < MAX_STEPS; i += strlen(b->data + i) + 1)
		steps[n++] = b->data + i;
	test(em, job, name, description, minutes, steps, n);
}

static void smoke_test(struct emit *em, const struct dk_lava_job *job, struct dk_buf *b)
{
	dk_buf_reset(b);
	show(b, "uname -a");
	step(b, "os-release", false, "cat /etc/os-release");
	step(b, "system-running", false, "systemctl is-system-running --wait");
	show(b, "systemctl --failed --no-legend");
	step(b, "dpkg-audit", false, "test -z \"$(dpkg --audit)\"");
	test_steps(em, job, "debkeep-smoke", "the image boots to a healthy system", 10, b);
}

/* bg_printenv -c: the current environment, the one with the highest revision. */
#define USTATE_IS(n) "test \"$(bg_printenv -c -r -o ustate)\" = USTATE=" #n

/* check_url keeps quotes, backslashes and blanks out of URLs, so single quotes make them shell words. */
static void update_install(struct emit *em, const struct dk_lava_job *job, struct dk_buf *b)
{
	const char *bundle = "/var/tmp/debkeep-update.swu", *dir = job->state_dir;

	dk_buf_reset(b);
	show(b, "bg_printenv");
	step(b, "record-boot-env", true,
	     "mkdir -p %s && bg_printenv -c -r -o kernel,revision > %s/before && cat %s/before", dir, dir,
	     dir);
	step(b, "ustate-ok-before", true, USTATE_IS(0));
	step(b, "fetch-bundle", true, "curl -fsSL -o %s '%s' || wget -q -O %s '%s'", bundle, job->swu_url,
	     bundle, job->swu_url);
	step(b, "swupdate-install", true, "swupdate -v -i %s", bundle);
	step(b, "ustate-installed", true, USTATE_IS(1));
	show(b, "bg_printenv");
	show(b, "sync");
	test_steps(em, job, "debkeep-update-install", "install the update bundle into the other copy", 20, b);
}

static void update_check(struct emit *em, const struct dk_lava_job *job, struct dk_buf *b)
{
	const char *dir = job->state_dir;

	dk_buf_reset(b);
	show(b, "bg_printenv");
	step(b, "ustate-testing", true, USTATE_IS(2));
	step(b, "boot-env-switched", false,
	     "before=$(sed -n 's/^KERNEL=//p' %s/before) && now=$(bg_printenv -c -r -o kernel | sed -n "
	     "'s/^KERNEL=//p') && echo \"kernel before: $before, now: $now\" && test -n \"$before\" && "
	     "test \"$before\" != \"$now\"",
	     dir);
	step(b, "revision-increased", false,
	     "before=$(sed -n 's/^REVISION=//p' %s/before) && now=$(bg_printenv -c -r -o revision | sed -n "
	     "'s/^REVISION=//p') && test \"$now\" -gt \"$before\"",
	     dir);
	step(b, "confirm", true, "bg_setenv -c");
	step(b, "ustate-ok-after", false, USTATE_IS(0));
	test_steps(em, job, "debkeep-update-check", "the new copy booted in state TESTING; confirm it", 10,
		   b);
}

static void header(struct emit *em, const struct dk_lava_job *job)
{
	char name[256];

	if (job->job_name)
		snprintf(name, sizeof(name), "%s", job->job_name);
	else
		snprintf(name, sizeof(name), "debkeep %s test on %s%s%s", job->swu_url ? "update" : "smoke",
			 job->device_type, is_qemu(job) ? " " : "",
			 is_qemu(job) ? (job->arch ? job->arch : "amd64") : "");
	kv(em, "device_type", job->device_type);
	kv(em, "job_name", name);
	str(em, "timeouts");
	map(em);
	timeout(em, "job", job->timeout_min, job);
	timeout(em, "action", 20, job);
	timeout(em, "connection", 2, job);
	map_end(em);
	kv(em, "priority", "medium");
	kv(em, "visibility", "public");
	if (!is_qemu(job))
		return;
	str(em, "context");
	map(em);
	if (job->arch && strcmp(job->arch, "arm64") == 0) {
		kv(em, "arch", "arm64");
		kv(em, "machine", "virt");
		kv(em, "cpu", "cortex-a57");
	} else {
		kv(em, "arch", "amd64");
	}
	str(em, "memory");
	num(em, 1024);
	kv(em, "guestfs_interface", "virtio");
	map_end(em);
}

int dk_lava_job_yaml(const struct dk_lava_job *job, struct dk_buf *out, struct dk_err *err)
{
	struct dk_buf steps = DK_BUF_INIT;
	struct emit em = { .out = out };
	yaml_event_t e;
	int r;

	if ((r = dk_lava_job_check(job, err)))
		return r;
	if (!yaml_emitter_initialize(&em.e))
		return dk_err_set(err, DK_ENOMEM, "lava job: out of memory");
	yaml_emitter_set_output(&em.e, write_out, &em);
	yaml_emitter_set_unicode(&em.e, 1);
	yaml_emitter_set_width(&em.e, -1);
	yaml_emitter_set_indent(&em.e, 2);
	dk_buf_adds(out, "# LAVA job definition written by debkeep lava job\n");
	ev(&em, &e, yaml_stream_start_event_initialize(&e, YAML_UTF8_ENCODING));
	ev(&em, &e, yaml_document_start_event_initialize(&e, NULL, NULL, NULL, 1));
	map(&em);
	header(&em, job);
	str(&em, "actions");
	seq(&em);
	map(&em);
	deploy(&em, job);
	map_end(&em);
	map(&em);
	boot(&em, job);
	map_end(&em);
	map(&em);
	smoke_test(&em, job, &steps);
	map_end(&em);
	if (job->swu_url) {
		map(&em);
		update_install(&em, job, &steps);
		map_end(&em);
		map(&em);
		boot(&em, job);
		map_end(&em);
		map(&em);
		update_check(&em, job, &steps);
		map_end(&em);
	}
	seq_end(&em);
	map_end(&em);
	ev(&em, &e, yaml_document_end_event_initialize(&e, 1));
	ev(&em, &e, yaml_stream_end_event_initialize(&e));
	if (!em.failed && !yaml_emitter_flush(&em.e))
		em.failed = true;
	if (em.failed)
		r = out->failed ? dk_err_set(err, DK_ENOMEM, "lava job: out of memory")
				: dk_err_set(err, DK_EINTERNAL, "lava job: yaml emitter: %s",
					     em.e.problem ? em.e.problem : "failed");
	yaml_emitter_delete(&em.e);
	dk_buf_release(&steps);
	return r;
}
