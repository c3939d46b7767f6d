/*
 * fuzz-unpack.c - libFuzzer target for unpacking: arbitrary bytes as a .deb, unpacked into a fresh root
 * recording owners as a build without root does, then normalised and packed with that record
 */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <debkeep/err.h>
#include <debkeep/image.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char base[256], deb[300], root[320], out[300];

static void check(int cond)
{
	if (!cond)
		abort();
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)f;
	if (flag == FTW_DP)
		chmod(p, 0700);
	return remove(p);
}

/* The only names under base are the .deb, the image and the chain a/b/root: anything else escaped the root. */
static void check_outside(void)
{
	static const char *const chain[] = { "", "/a", "/a/b" };

	for (size_t i = 0; i < 3; i++) {
		char dir[400];
		DIR *d;
		struct dirent *de;

		snprintf(dir, sizeof(dir), "%s%s", base, chain[i]);
		d = opendir(dir);
		check(d != NULL);
		while ((de = readdir(d))) {
			const char *n = de->d_name;

			if (!strcmp(n, ".") || !strcmp(n, ".."))
				continue;
			check((i == 0 && (!strcmp(n, "a") || !strcmp(n, "in.deb") || !strcmp(n, "out.tar"))) ||
			      (i == 1 && !strcmp(n, "b")) ||
			      (i == 2 && !strcmp(n, "root")));
		}
		closedir(d);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dk_image_pkg p = { "fuzz", "1", "amd64", "fuzz", "1", deb, NULL, "Package: fuzz\nMulti-Arch: same",
				  false, false };
	struct dk_image_owners owners = DK_IMAGE_OWNERS_INIT;
	struct dk_err err = DK_ERR_INIT;
	unsigned char sha[32];
	int fd, rootfd, r;

	if (!base[0]) {
		const char *t = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";

		snprintf(base, sizeof(base), "%s/fuzz-unpack-%ld", t, (long)getpid());
		snprintf(deb, sizeof(deb), "%s/in.deb", base);
		snprintf(out, sizeof(out), "%s/out.tar", base);
		snprintf(root, sizeof(root), "%s/a/b/root", base);
	}
	nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	check(mkdir(base, 0700) == 0);
	snprintf(root, sizeof(root), "%s/a", base);
	mkdir(root, 0700);
	snprintf(root, sizeof(root), "%s/a/b", base);
	mkdir(root, 0700);
	snprintf(root, sizeof(root), "%s/a/b/root", base);
	check(mkdir(root, 0755) == 0);
	fd = open(deb, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	check(fd >= 0 && write(fd, data, size) == (ssize_t)size);
	close(fd);
	rootfd = open(root, O_RDONLY | O_DIRECTORY);
	check(rootfd >= 0);
	r = dk_image_unpack_owned(rootfd, &p, 1, DK_UNPACK_NO_DEVICES | DK_UNPACK_DPKG_INFO | DK_UNPACK_RECORD_OWNERS,
				  &owners, NULL, NULL, &err);
	close(rootfd);
	/* Every refusal names the package. */
	check(r == 0 || (r < 0 && strncmp(err.msg, "fuzz", 4) == 0));
	/* What unpacked, the normaliser and the packer take with its record of owners and modes. */
	if (r == 0 && dk_image_normalise(root, 1700000000, &owners, NULL, NULL, &err) == 0)
		dk_image_pack(root, out, DK_IMAGE_PLAIN, 1700000000, 0, &owners, sha, &err);
	dk_image_owners_release(&owners);
	check_outside();
	nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}
