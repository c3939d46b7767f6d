/* normalise.c - removing the known causes of non-reproducible images before packing */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <debkeep/buf.h>
#include <debkeep/image.h>

#include "banned.h"

struct norm {
	int rootfd;
	int64_t epoch;
	struct dk_image_owners *owners;
	dk_image_log_fn log;
	void *ctx;
	size_t clamped;
	struct dk_err *err;
};

static void say(struct norm *n, const char *fmt, ...) DK_PRINTF(2, 3);
static void say(struct norm *n, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (!n->log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	n->log(n->ctx, line);
}

/* 4123 as "4,123": the build log is read by people. */
static void grouped(unsigned long long v, char *out, size_t n)
{
	char digits[32];
	int len = snprintf(digits, sizeof(digits), "%llu", v), o = 0;

	for (int i = 0; i < len && (size_t)o + 2 < n; i++) {
		if (i && (len - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = digits[i];
	}
	out[o] = '\0';
}

/* Which names in a directory go. */
enum match { M_ALL, M_SUFFIX, M_PREFIX, M_EXACT, M_ALL_BUT };

struct rule {
	const char *dir;
	enum match how;
	const char *arg;
	bool recurse; /* also into subdirectories (which themselves stay) */
	const char *why;
};

/*
 * What differs from one build to the next, or must not be shared by every
 * device. Directories stay: packages own them and their users expect them.
 */
static const struct rule rules[] = {
	{ "var/log", M_ALL, NULL, true, "logs of the build" },
	{ "var/cache/apt", M_SUFFIX, ".bin", false, "apt's binary caches" },
	{ "var/lib/apt/lists", M_ALL_BUT, "lock", true, "downloaded indices" },
	{ "var/cache/debconf", M_SUFFIX, "-old", false, "debconf's backups" },
	{ "var/lib/dpkg", M_SUFFIX, "-old", false, "dpkg's backups" },
	{ "var/cache/ldconfig", M_EXACT, "aux-cache", false, "ldconfig's cache of file times" },
	{ "var/lib/dbus", M_EXACT, "machine-id", false, "a machine id" },
	{ "etc/ssh", M_PREFIX, "ssh_host_", false, "host keys are made on first boot" },
};

static bool matches(const struct rule *r, const char *name)
{
	size_t n = strlen(name), m = r->arg ? strlen(r->arg) : 0;

	switch (r->how) {
	case M_ALL:
		return true;
	case M_SUFFIX:
		return n > m && strcmp(name + n - m, r->arg) == 0;
	case M_PREFIX:
		return strncmp(name, r->arg, m) == 0;
	case M_EXACT:
		return strcmp(name, r->arg) == 0;
	case M_ALL_BUT:
		return strcmp(name, r->arg) != 0;
	}
	return false;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A directory's names, sorted so the log does not depend on directory order. */
static int list_dir(int dfd, char ***names, size_t *count, const char *path, struct dk_err *err)
{
	int fd = dup(dfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	char **v = NULL;
	size_t n = 0, cap = 0;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return dk_err_errno(err, "/%s", path);
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == cap) {
			char **nv = realloc(v, (cap = cap ? cap * 2 : 32) * sizeof(*v));

			if (!nv)
				goto nomem;
			v = nv;
		}
		if (!(v[n] = strdup(de->d_name)))
			goto nomem;
		n++;
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), cmp_names);
	*names = v;
	*count = n;
	return 0;
nomem:
	closedir(d);
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
	return dk_err_set(err, DK_ENOMEM, "out of memory");
}

static void free_names(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int apply_rule(struct norm *n, const struct rule *r, int dfd, struct dk_buf *path)
{
	char **names = NULL, num[32];
	size_t count = 0, len = path->len;
	int ret;

	if ((ret = list_dir(dfd, &names, &count, path->data, n->err)))
		return ret;
	for (size_t i = 0; i < count && !ret; i++) {
		struct stat st;

		if (!matches(r, names[i]))
			continue;
		dk_buf_truncate(path, len);
		dk_buf_addf(path, "/%s", names[i]);
		if ((ret = dk_buf_check(path, n->err, "path")))
			break;
		if (fstatat(dfd, names[i], &st, AT_SYMLINK_NOFOLLOW)) {
			ret = dk_err_errno(n->err, "/%s", path->data);
			break;
		}
		if (S_ISDIR(st.st_mode)) {
			int sub;

			if (!r->recurse)
				continue;
			sub = openat(dfd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0) {
				ret = dk_err_errno(n->err, "/%s", path->data);
				break;
			}
			ret = apply_rule(n, r, sub, path);
			close(sub);
			continue;
		}
		if (unlinkat(dfd, names[i], 0)) {
			ret = dk_err_errno(n->err, "cannot remove /%s", path->data);
			break;
		}
		dk_image_owners_forget(n->owners, path->data);
		grouped((unsigned long long)st.st_size, num, sizeof(num));
		say(n, "removed /%s (%s bytes): %s", path->data, num, r->why);
	}
	dk_buf_truncate(path, len);
	free_names(names, count);
	return ret;
}

/* Give an existing regular file fixed content; a missing file stays missing, a symlink stays as it is. */
static int rewrite(struct norm *n, const char *path, const char *content, const char *why)
{
	size_t len = strlen(content);
	char old[256], num[32];
	struct stat st;
	ssize_t got;
	int fd = dk_openat_beneath(n->rootfd, path, O_RDWR | O_NOFOLLOW, 0);

	if (fd < 0)
		return errno == ENOENT || errno == ELOOP ? 0 : dk_err_errno(n->err, "/%s", path);
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return 0;
	}
	got = pread(fd, old, sizeof(old), 0);
	if (got >= 0 && (size_t)got == len && (uint64_t)st.st_size == len && memcmp(old, content, len) == 0) {
		close(fd);
		return 0;
	}
	if (ftruncate(fd, 0) || pwrite(fd, content, len, 0) != (ssize_t)len) {
		int r = dk_err_errno(n->err, "/%s", path);

		close(fd);
		return r;
	}
	close(fd);
	grouped((unsigned long long)st.st_size, num, sizeof(num));
	say(n, "%s /%s (%s bytes): %s", len ? "rewrote" : "emptied", path, num, why);
	return 0;
}

static int clamp(struct norm *n, int dfd, struct dk_buf *path)
{
	char **names = NULL;
	size_t count = 0, len = path->len;
	struct timespec ts[2] = { { n->epoch, 0 }, { n->epoch, 0 } };
	int ret;

	if ((ret = list_dir(dfd, &names, &count, path->data, n->err)))
		return ret;
	for (size_t i = 0; i < count && !ret; i++) {
		struct stat st;

		dk_buf_truncate(path, len);
		if (len)
			dk_buf_addc(path, '/');
		dk_buf_adds(path, names[i]);
		if ((ret = dk_buf_check(path, n->err, "path")))
			break;
		if (fstatat(dfd, names[i], &st, AT_SYMLINK_NOFOLLOW)) {
			ret = dk_err_errno(n->err, "/%s", path->data);
			break;
		}
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dfd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (sub < 0) {
				ret = dk_err_errno(n->err, "/%s", path->data);
				break;
			}
			ret = clamp(n, sub, path);
			close(sub);
			if (ret)
				break;
		}
		/* After the directory's contents: clamping them does not touch its mtime, but keep the order. */
		if (st.st_mtime > n->epoch) {
			if (utimensat(dfd, names[i], ts, AT_SYMLINK_NOFOLLOW)) {
				ret = dk_err_errno(n->err, "/%s", path->data);
				break;
			}
			n->clamped++;
		}
	}
	dk_buf_truncate(path, len);
	free_names(names, count);
	return ret;
}

int dk_image_normalise(const char *root, int64_t epoch, struct dk_image_owners *owners, dk_image_log_fn log,
		       void *ctx, struct dk_err *err)
{
	struct norm n = { -1, epoch, owners, log, ctx, 0, err };
	struct dk_buf path = DK_BUF_INIT;
	struct timespec ts[2] = { { epoch, 0 }, { epoch, 0 } };
	struct stat st;
	int r = 0;

	n.rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (n.rootfd < 0)
		return dk_err_errno(err, "%s", root);
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]) && !r; i++) {
		int dfd = dk_openat_beneath(n.rootfd, rules[i].dir, O_RDONLY | O_DIRECTORY, 0);

		if (dfd < 0) {
			/* Absent, or a symlink out of the image (nothing of ours there): nothing to do. */
			if (errno != ENOENT && errno != ENOTDIR && errno != EXDEV && errno != ELOOP)
				r = dk_err_errno(err, "/%s", rules[i].dir);
			continue;
		}
		dk_buf_reset(&path);
		dk_buf_adds(&path, rules[i].dir);
		r = apply_rule(&n, &rules[i], dfd, &path);
		close(dfd);
	}
	/* systemd needs /etc/machine-id to exist; empty, it makes a new id on first boot. */
	if (!r)
		r = rewrite(&n, "etc/machine-id", "", "each device gets its own id on first boot");
	if (!r)
		r = rewrite(&n, "etc/hostname", "localhost\n", "not the build host's name");
	if (!r)
		r = rewrite(&n, "etc/resolv.conf", "", "not the build host's resolver");
	if (!r) {
		dk_buf_reset(&path);
		r = clamp(&n, n.rootfd, &path);
	}
	if (!r && fstat(n.rootfd, &st) == 0 && st.st_mtime > epoch) {
		if (futimens(n.rootfd, ts))
			r = dk_err_errno(err, "%s", root);
		else
			n.clamped++;
	}
	if (!r && n.clamped)
		say(&n, "clamped the mtime of %zu files to the epoch (%lld)", n.clamped, (long long)epoch);
	dk_buf_release(&path);
	close(n.rootfd);
	return r;
}
