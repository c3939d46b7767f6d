/* disk.c - partitioned disk images: the GPT or MBR table, then each partition's file system or bytes */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <debkeep/buf.h>

#include "walk.h"

#include "banned.h"

#define SECTOR 512u
#define MAX_PARTS 128u

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const unsigned char *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

bool dkd_is_ext4(int fd, uint64_t offset)
{
	unsigned char magic[2];

	return pread(fd, magic, 2, (off_t)(offset + 1024 + 56)) == 2 && magic[0] == 0x53 && magic[1] == 0xef;
}

static bool mbr_entries_valid(const unsigned char *mbr)
{
	bool any = false;

	for (int i = 0; i < 4; i++) {
		const unsigned char *e = mbr + 446 + 16 * i;

		if (e[0] != 0 && e[0] != 0x80)
			return false;
		if (e[4] && le32(e + 8) && le32(e + 12))
			any = true;
	}
	return any;
}

bool dkd_is_disk(int fd)
{
	unsigned char b[1024];

	if (pread(fd, b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return false;
	if (memcmp(b + SECTOR, "EFI PART", 8) == 0)
		return true;
	/* A FAT boot sector ends in 55 aa too; only a table whose entries make sense is a disk. */
	return b[510] == 0x55 && b[511] == 0xaa && mbr_entries_valid(b) && memcmp(b + 54, "FAT", 3) != 0 &&
		memcmp(b + 82, "FAT", 3) != 0;
}

static void guid_str(char out[37], const unsigned char *g)
{
	/* GPT GUIDs store their first three fields little-endian. */
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", g[3], g[2],
		 g[1], g[0], g[5], g[4], g[7], g[6], g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15]);
}

struct range_src {
	struct dkd_src base;
	int fd;
	uint64_t pos, end;
	const char *path;
};

static ssize_t range_read(struct dkd_src *src, void *buf, size_t n, struct dk_err *err)
{
	struct range_src *r = (struct range_src *)src;
	ssize_t got;

	if (r->pos >= r->end)
		return 0;
	if (n > r->end - r->pos)
		n = (size_t)(r->end - r->pos);
	got = pread(r->fd, buf, n, (off_t)r->pos);
	if (got < 0)
		return dk_err_errno(err, "%s", r->path);
	r->pos += (uint64_t)got;
	return got;
}

struct part {
	uint64_t start, end; /* bytes */
	char props[512];
};

static int read_at(struct dkd_side *s, int fd, void *buf, size_t n, uint64_t off, const char *what)
{
	ssize_t got = pread(fd, buf, n, (off_t)off);

	if (got < 0)
		return dk_err_errno(&s->err, "%s", s->name);
	if ((size_t)got != n)
		return dk_err_set(&s->err, DK_EINPUT, "%s: %s: truncated image", s->name, what);
	return 0;
}

static int read_gpt(struct dkd_side *s, int fd, uint64_t size, struct part *parts, unsigned *np,
		    struct dk_buf *top)
{
	unsigned char hdr[SECTOR], *ents;
	uint64_t lba;
	uint32_t n, esz;
	char guid[37];
	int rc;

	if ((rc = read_at(s, fd, hdr, SECTOR, SECTOR, "GPT header")))
		return rc;
	lba = le64(hdr + 72);
	n = le32(hdr + 80);
	esz = le32(hdr + 84);
	if (n == 0 || n > 1024 || esz < 128 || esz > 4096 || lba < 2 || lba > size / SECTOR ||
	    lba * SECTOR + (uint64_t)n * esz > size)
		return dk_err_set(&s->err, DK_EINPUT,
				  "%s: GPT header: bogus partition array (%u entries of %u bytes "
				  "at sector %llu)",
				  s->name, n, esz, (unsigned long long)lba);
	guid_str(guid, hdr + 56);
	dk_buf_addf(top, "gpt.disk_guid=%s\n", guid);
	ents = malloc((size_t)n * esz);
	if (!ents)
		return dk_err_set(&s->err, DK_ENOMEM, "%s: out of memory", s->name);
	if ((rc = read_at(s, fd, ents, (size_t)n * esz, lba * SECTOR, "GPT partition array"))) {
		free(ents);
		return rc;
	}
	for (uint32_t i = 0; i < n && *np < MAX_PARTS; i++) {
		const unsigned char *e = ents + (size_t)i * esz;
		static const unsigned char zero[16];
		struct part *p = &parts[*np];
		char type[37], name[37];
		uint64_t first = le64(e + 32), last = le64(e + 40);
		size_t o = 0;

		if (memcmp(e, zero, 16) == 0)
			continue;
		if (last < first || last >= size / SECTOR) {
			free(ents);
			return dk_err_set(&s->err, DK_EINPUT,
					  "%s: GPT partition %u: sectors %llu-%llu lie outside "
					  "the %llu-byte image",
					  s->name, i + 1, (unsigned long long)first, (unsigned long long)last,
					  (unsigned long long)size);
		}
		for (int k = 0; k < 36; k++) {
			unsigned c = e[56 + 2 * k] | (unsigned)e[57 + 2 * k] << 8;

			if (!c)
				break;
			name[o++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
		}
		name[o] = '\0';
		guid_str(type, e);
		guid_str(guid, e + 16);
		p->start = first * SECTOR;
		p->end = (last + 1) * SECTOR;
		snprintf(p->props, sizeof(p->props),
			 "part.index=%u\npart.type=%s\npart.uuid=%s\npart.name=%s\n"
			 "part.start=%llu\npart.size=%llu\n",
			 i + 1, type, guid, name, (unsigned long long)p->start,
			 (unsigned long long)(p->end - p->start));
		(*np)++;
	}
	free(ents);
	return 0;
}

static int read_mbr(struct dkd_side *s, const unsigned char *mbr, uint64_t size, struct part *parts,
		    unsigned *np, struct dk_buf *top)
{
	dk_buf_addf(top, "mbr.disk_id=%08x\n", le32(mbr + 440));
	for (unsigned i = 0; i < 4; i++) {
		const unsigned char *e = mbr + 446 + 16 * i;
		uint64_t start = (uint64_t)le32(e + 8) * SECTOR, len = (uint64_t)le32(e + 12) * SECTOR;
		struct part *p = &parts[*np];

		if (!e[4] || !len)
			continue;
		if (start + len > size)
			return dk_err_set(&s->err, DK_EINPUT,
					  "%s: MBR partition %u: bytes %llu-%llu lie outside "
					  "the %llu-byte image",
					  s->name, i + 1, (unsigned long long)start,
					  (unsigned long long)(start + len), (unsigned long long)size);
		p->start = start;
		p->end = start + len;
		snprintf(p->props, sizeof(p->props),
			 "part.index=%u\npart.type=%02x\npart.bootable=%u\npart.start=%llu\n"
			 "part.size=%llu\n",
			 i + 1, e[4], e[0] == 0x80, (unsigned long long)start, (unsigned long long)len);
		(*np)++;
	}
	return 0;
}

int dkd_walk_disk(struct dkd_side *s, int fd, const char *prefix, int depth)
{
	struct part *parts = calloc(MAX_PARTS, sizeof(*parts));
	struct dk_buf top = DK_BUF_INIT;
	struct dk_diff_member table = { 0 };
	unsigned char mbr[2 * SECTOR];
	unsigned np = 0;
	struct stat st;
	int rc;

	if (!parts)
		return dk_err_set(&s->err, DK_ENOMEM, "%s: out of memory", s->name);
	if (fstat(fd, &st)) {
		rc = dk_err_errno(&s->err, "%s", s->input);
		goto out;
	}
	if ((rc = read_at(s, fd, mbr, sizeof(mbr), 0, "partition table")))
		goto out;
	if (memcmp(mbr + SECTOR, "EFI PART", 8) == 0) {
		dk_buf_adds(&top, "table=gpt\n");
		rc = read_gpt(s, fd, (uint64_t)st.st_size, parts, &np, &top);
	} else {
		dk_buf_adds(&top, "table=mbr\n");
		rc = read_mbr(s, mbr, (uint64_t)st.st_size, parts, &np, &top);
	}
	if (rc)
		goto out;
	table.path = dkd_join(s, prefix, "<partition table>");
	table.parent = prefix;
	table.type = DK_DT_META;
	table.kind = "partition-table";
	table.seq = s->seq++;
	table.props = dkd_props(s, top.data, top.len);
	if ((rc = dkd_emit(s, &table)))
		goto out;
	for (unsigned i = 0; i < np && !rc; i++) {
		struct dk_diff_member m = { 0 };
		struct range_src src = { { range_read }, fd, parts[i].start, parts[i].end, s->input };
		char name[32];

		snprintf(name, sizeof(name), "p%u", i + 1);
		m.path = dkd_join(s, prefix, name);
		m.parent = prefix;
		m.type = DK_DT_REG;
		m.seq = s->seq++;
		m.props = dkd_props(s, parts[i].props, strlen(parts[i].props));
		m.size = parts[i].end - parts[i].start;
		if (!m.path) {
			rc = dk_err_set(&s->err, DK_ENOMEM, "%s: out of memory", s->name);
			break;
		}
		if (dkd_is_ext4(fd, parts[i].start)) {
			m.kind = "ext4";
			if (!s->want || dkd_want_under(s, m.path))
				rc = dkd_walk_ext4(s, s->input, parts[i].start, m.path, depth + 1);
		} else {
			rc = dkd_content(s, &m, &src.base, depth + 1);
		}
		if (!rc)
			rc = dkd_emit(s, &m);
	}
out:
	free(parts);
	dk_buf_release(&top);
	return rc;
}
