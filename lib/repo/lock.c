/* lock.c - the writers' lock of a data root: flock on ROOT/lock, holder named inside */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include <debkeep/repo.h>

#include "banned.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The result of a write to the lock file, which only informs: the lock is the flock. */
static void informative(ssize_t r)
{
	(void)r;
}

/* The holder's line, read while it holds the lock; empty if it has not written it yet. */
static void read_holder(int fd, char *out, size_t n)
{
	ssize_t got = pread(fd, out, n - 1, 0);

	if (got < 0)
		got = 0;
	out[got] = '\0';
	out[strcspn(out, "\n")] = '\0';
}

int dk_lock_take(const char *root, const char *command, double timeout, int *fdp, struct dk_err *err)
{
	char path[4096], holder[512], line[600], stamp[32];
	double deadline = now() + timeout;
	struct tm tm;
	time_t t;
	int fd, len;

	if ((size_t)snprintf(path, sizeof(path), "%s/lock", root) >= sizeof(path))
		return dk_err_set(err, DK_EINPUT, "%s: path too long", root);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return dk_err_errno(err, "%s", path);
	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			break;
		if (errno != EWOULDBLOCK && errno != EINTR) {
			int r = dk_err_errno(err, "%s: cannot lock", path);

			close(fd);
			return r;
		}
		if (now() >= deadline) {
			read_holder(fd, holder, sizeof(holder));
			close(fd);
			return dk_err_set(err, DK_EINPUT, "%s: held by another writer (%s); gave up after %g s", path,
					  holder[0] ? holder : "holder unknown", timeout);
		}
		usleep(20000);
	}
	t = time(NULL);
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	len = snprintf(line, sizeof(line), "pid %ld, '%s', since %s\n", (long)getpid(), command ? command : "?",
		       stamp);
	if (len >= (int)sizeof(line))
		len = sizeof(line) - 1;
	/* Only informative: a failure to write it must not stop the writer. */
	if (ftruncate(fd, 0) == 0)
		informative(pwrite(fd, line, len, 0));
	*fdp = fd;
	return 0;
}

void dk_lock_release(int fd)
{
	if (fd < 0)
		return;
	/* Emptied first, so a waiter never names a holder that is gone. */
	informative(ftruncate(fd, 0));
	flock(fd, LOCK_UN);
	close(fd);
}
