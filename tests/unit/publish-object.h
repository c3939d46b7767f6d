/* publish-object.h - unit tests' stand-in for a stored object: a file and the publish entry describing it */
#ifndef DK_TEST_PUBLISH_OBJECT_H
#define DK_TEST_PUBLISH_OBJECT_H

#include <stdio.h>
#include <string.h>

#include <debkeep/hash.h>
#include <debkeep/publish.h>

/* Write content to path; p gets it as its object, with size, MD5 and SHA-256. */
static inline void test_object(struct dk_publish_pkg *p, const char *path, const char *content)
{
	unsigned char d[DK_HASH_MAX];
	FILE *f = fopen(path, "wb");

	if (f) {
		fputs(content, f);
		fclose(f);
	}
	p->object_path = path;
	p->size = strlen(content);
	dk_hash_mem(DK_MD5, content, strlen(content), d, NULL);
	dk_hex(d, 16, p->md5);
	dk_hash_mem(DK_SHA256, content, strlen(content), d, NULL);
	dk_hex(d, 32, p->sha256);
}

#endif
