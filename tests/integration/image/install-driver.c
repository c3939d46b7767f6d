/* install-driver.c - drives dk_image_install on a snapshot's packages, for the root-mode tests and bench */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <debkeep/deb822.h>
#include <debkeep/image.h>
#include <debkeep/repo.h>

struct collect {
	const char *root, *arch;
	struct dk_image_pkg *pkgs;
	size_t n, cap;
};

static char *field(const char *control, const char *name)
{
	struct dk_deb822 p;
	struct dk_stanza st;
	struct dk_err err = DK_ERR_INIT;
	struct dk_buf b = DK_BUF_INIT;
	const struct dk_field *f;
	char *v = NULL;

	dk_deb822_init(&p, control, strlen(control), name, 0);
	if (dk_deb822_next(&p, &st, &err) == 1 && (f = dk_stanza_get(&st, name)) && dk_field_value(f, &b) == 0)
		v = dk_buf_detach(&b, NULL);
	dk_buf_release(&b);
	dk_deb822_release(&p);
	return v;
}

static int take(void *ctx, const struct dk_snapshot_pkg *sp)
{
	struct collect *c = ctx;
	struct dk_image_pkg *p;
	char *ess, *prio, *deb;
	size_t len = strlen(c->root) + 80;

	if (strcmp(sp->arch, c->arch) && strcmp(sp->arch, "all"))
		return 0;
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 256;
		c->pkgs = realloc(c->pkgs, c->cap * sizeof(*c->pkgs));
		if (!c->pkgs)
			return -1;
	}
	deb = malloc(len);
	if (!deb)
		return -1;
	dk_store_path(c->root, sp->sha256, deb, len);
	ess = field(sp->control, "Essential");
	prio = field(sp->control, "Priority");
	p = &c->pkgs[c->n++];
	*p = (struct dk_image_pkg){
		.name = strdup(sp->name),
		.version = strdup(sp->version),
		.arch = strdup(sp->arch),
		.source = strdup(sp->source),
		.source_version = strdup(sp->source_version),
		.deb = deb,
		.sha256 = strdup(sp->sha256),
		.control = strdup(sp->control),
		.essential = ess && !strcmp(ess, "yes"),
		.required = prio && !strcmp(prio, "required"),
	};
	free(ess);
	free(prio);
	return 0;
}

static void log_line(void *ctx, const char *line)
{
	fprintf(stderr, "%s\n", line);
}

int main(int argc, char **argv)
{
	struct dk_repo r;
	struct dk_err err = DK_ERR_INIT;
	struct collect c = { 0 };
	int rc;

	if (argc != 5) {
		fprintf(stderr, "usage: install-driver DATAROOT SNAPSHOT ARCH STAGING\n");
		return 2;
	}
	c.root = argv[1];
	c.arch = argv[3];
	if (dk_repo_open(&r, argv[1], 0, "install-driver", 0, &err) ||
	    dk_snapshot_packages(&r, argv[2], take, &c, &err)) {
		fprintf(stderr, "install-driver: %s\n", err.msg);
		return 2;
	}
	dk_repo_close(&r);
	if (mkdir(argv[4], 0755) && errno != EEXIST) {
		perror(argv[4]);
		return 3;
	}
	rc = dk_image_install(argv[4], c.pkgs, c.n, 1700000000, log_line, NULL, &err);
	if (rc) {
		fprintf(stderr, "install-driver: %s\n", err.msg);
		return rc == DK_EINPUT ? 2 : 3;
	}
	printf("installed %zu packages into %s\n", c.n, argv[4]);
	return 0;
}
