/* ext4.c - ext2/3/4 images read through e2fsprogs' libext2fs: the superblock and every file, never mounted */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <et/com_err.h>
#include <ext2fs/ext2_fs.h>
#include <ext2fs/ext2fs.h>

#include <debkeep/buf.h>
#include <debkeep/map.h>

#include "walk.h"

#include "banned.h"

struct ext4_walk {
	struct dkd_side *s;
	ext2_filsys fs;
	const char *prefix;
	const char *image;
	int depth;
	struct dk_map inodes;  /* hard-linked inode -> first path */
	struct dk_map visited; /* directories, against cycles in a corrupt image */
};

struct dirent_name {
	char *name;
	ext2_ino_t ino;
};

struct dir_list {
	struct dirent_name *v;
	size_t n, cap;
	bool failed;
};

static int collect(ext2_ino_t dir, int entry, struct ext2_dir_entry *de, int offset, int blocksize, char *buf,
		   void *priv)
{
	struct dir_list *l = priv;
	int len = ext2fs_dirent_name_len(de);

	if ((len == 1 && de->name[0] == '.') || (len == 2 && de->name[0] == '.' && de->name[1] == '.'))
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 32;
		struct dirent_name *v = realloc(l->v, cap * sizeof(*v));

		if (!v) {
			l->failed = true;
			return DIRENT_ABORT;
		}
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n].name = strndup(de->name, (size_t)len);
	if (!l->v[l->n].name) {
		l->failed = true;
		return DIRENT_ABORT;
	}
	l->v[l->n++].ino = de->inode;
	return 0;
}

static int cmp_dirent(const void *a, const void *b)
{
	return strcmp(((const struct dirent_name *)a)->name, ((const struct dirent_name *)b)->name);
}

static int ext_fail(struct ext4_walk *w, errcode_t e, const char *what)
{
	return dk_err_set(&w->s->err, DK_EINPUT, "%s%s%s: %s: %s", w->s->name, w->prefix[0] ? ": " : "",
			  w->prefix, what, error_message(e));
}

struct ext_src {
	struct dkd_src base;
	ext2_file_t file;
	const char *input;
	const char *path;
};

static ssize_t ext_read(struct dkd_src *src, void *buf, size_t n, struct dk_err *err)
{
	struct ext_src *e = (struct ext_src *)src;
	unsigned int got = 0;
	errcode_t r = ext2fs_file_read(e->file, buf, (unsigned int)(n > 0x40000000 ? 0x40000000 : n), &got);

	if (r) {
		dk_err_set(err, DK_EINPUT, "%s: %s: %s", e->input, e->path, error_message(r));
		return -1;
	}
	return (ssize_t)got;
}

struct xattr_acc {
	struct dk_buf b;
};

static int xattr_line(char *name, char *value, size_t value_len, void *data)
{
	struct xattr_acc *x = data;
	char hex[17];

	dkd_hash_hex_prefix(value, value_len, hex);
	dk_buf_addf(&x->b, "%s %s\n", name, hex);
	return 0;
}

static const char *inode_xattrs(struct ext4_walk *w, ext2_ino_t ino)
{
	struct ext2_xattr_handle *h;
	struct xattr_acc x = { DK_BUF_INIT };
	const char *out = NULL;

	if (ext2fs_xattrs_open(w->fs, ino, &h))
		return NULL;
	if (ext2fs_xattrs_read(h) == 0)
		ext2fs_xattrs_iterate(h, xattr_line, &x);
	ext2fs_xattrs_close(&h);
	if (x.b.len && !x.b.failed)
		out = dkd_props(w->s, x.b.data, x.b.len);
	dk_buf_release(&x.b);
	return out;
}

static const char *inode_target(struct ext4_walk *w, ext2_ino_t ino, struct ext2_inode_large *in,
				const char *path)
{
	struct ext2_inode *i = (struct ext2_inode *)in;
	uint64_t size = EXT2_I_SIZE(i);
	unsigned int got = 0;
	ext2_file_t f;
	char buf[4096];

	if (size >= sizeof(buf))
		return NULL;
	if (ext2fs_is_fast_symlink(i))
		return dk_arena_strndup(&w->s->arena, (const char *)i->i_block, (size_t)size);
	if (ext2fs_file_open(w->fs, ino, 0, &f))
		return NULL;
	if (ext2fs_file_read(f, buf, (unsigned int)size, &got))
		got = 0;
	ext2fs_file_close(f);
	return dk_arena_strndup(&w->s->arena, buf, got);
}

static int walk_ext_dir(struct ext4_walk *w, ext2_ino_t dir, const char *rel, int level)
{
	struct dkd_side *s = w->s;
	struct dir_list l = { 0 };
	errcode_t e;
	int rc = 0;

	if (level > 4096)
		return dk_err_set(&s->err, DK_EINPUT, "%s: %s: directories nest too deep", s->name, rel);
	{
		void **slot = dk_map_slot(&w->visited, dir);

		if (!slot)
			return dk_err_set(&s->err, DK_ENOMEM, "%s: out of memory", s->name);
		if (*slot)
			return dk_err_set(&s->err, DK_EINPUT,
					  "%s: %s: directory inode %u appears twice (a cycle)", s->name,
					  rel[0] ? rel : w->image, dir);
		*slot = (void *)1;
	}
	e = ext2fs_dir_iterate2(w->fs, dir, 0, NULL, collect, &l);
	if (l.failed)
		rc = dk_err_set(&s->err, DK_ENOMEM, "%s: out of memory", s->name);
	else if (e)
		rc = ext_fail(w, e, rel[0] ? rel : "/");
	if (!rc && l.n)
		qsort(l.v, l.n, sizeof(*l.v), cmp_dirent);
	for (size_t i = 0; i < l.n && !rc; i++) {
		struct dk_diff_member m = { 0 };
		struct ext2_inode_large in;
		struct ext2_inode *ip = (struct ext2_inode *)&in;
		char *relp;
		size_t rl = strlen(rel), nl = strlen(l.v[i].name);

		relp = dk_arena_alloc(&s->arena, rl + nl + 2);
		if (!relp) {
			rc = dk_err_set(&s->err, DK_ENOMEM, "%s: out of memory", s->name);
			break;
		}
		if (rl)
			memcpy(relp, rel, rl);
		if (rl)
			relp[rl++] = '/';
		memcpy(relp + rl, l.v[i].name, nl + 1);
		m.path = dkd_join(s, w->prefix, relp);
		if (!m.path || (rc = dkd_check_time(s, relp)))
			break;
		memset(&in, 0, sizeof(in));
		e = ext2fs_read_inode_full(w->fs, l.v[i].ino, ip, sizeof(in));
		if (e) {
			rc = ext_fail(w, e, relp);
			break;
		}
		m.parent = w->prefix;
		m.seq = s->seq++;
		m.mode = ip->i_mode & 07777;
		m.uid = inode_uid(*ip);
		m.gid = inode_gid(*ip);
		m.mtime = (int32_t)ip->i_mtime;
		if (EXT2_INODE_SIZE(w->fs->super) > EXT2_GOOD_OLD_INODE_SIZE && in.i_extra_isize >= 24)
			m.mtime_ns = (long)(in.i_mtime_extra >> 2);
		m.size = EXT2_I_SIZE(ip);
		m.xattrs = s->want ? NULL : inode_xattrs(w, l.v[i].ino);
		if (LINUX_S_ISDIR(ip->i_mode)) {
			m.type = DK_DT_DIR;
			m.size = 0;
			if ((rc = dkd_emit(s, &m)))
				break;
			if (!s->want || dkd_want_under(s, m.path))
				rc = walk_ext_dir(w, l.v[i].ino, relp, level + 1);
			continue;
		}
		if (ip->i_links_count > 1) {
			void **slot = dk_map_slot(&w->inodes, l.v[i].ino);

			if (!slot) {
				rc = dk_err_set(&s->err, DK_ENOMEM, "%s: out of memory", s->name);
				break;
			}
			if (*slot) {
				m.type = DK_DT_HARDLINK;
				m.hardlink = *slot;
				m.size = 0;
				rc = dkd_emit(s, &m);
				continue;
			}
			*slot = (void *)m.path;
		}
		if (LINUX_S_ISLNK(ip->i_mode)) {
			m.type = DK_DT_SYMLINK;
			m.target = inode_target(w, l.v[i].ino, &in, relp);
		} else if (LINUX_S_ISREG(ip->i_mode)) {
			struct ext_src src = { { ext_read }, NULL, s->name, m.path };

			m.type = DK_DT_REG;
			if (!s->want || dkd_wanted(s, m.path) || dkd_want_under(s, m.path)) {
				e = ext2fs_file_open(w->fs, l.v[i].ino, 0, &src.file);
				if (e) {
					rc = ext_fail(w, e, relp);
					break;
				}
				rc = dkd_content(s, &m, &src.base, w->depth);
				ext2fs_file_close(src.file);
				if (rc)
					break;
			}
		} else {
			m.type = LINUX_S_ISCHR(ip->i_mode)   ? DK_DT_CHR
				: LINUX_S_ISBLK(ip->i_mode)  ? DK_DT_BLK
				: LINUX_S_ISFIFO(ip->i_mode) ? DK_DT_FIFO
							     : DK_DT_SOCK;
			m.rdev = ip->i_block[0] ? ip->i_block[0] : ip->i_block[1];
		}
		rc = dkd_emit(s, &m);
	}
	for (size_t i = 0; i < l.n; i++)
		free(l.v[i].name);
	free(l.v);
	return rc;
}

static void uuid_str(struct dk_buf *b, const char *key, const unsigned char *u)
{
	dk_buf_addf(b, "%s=%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x\n", key, u[0],
		    u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14],
		    u[15]);
}

/* The superblock fields that tell two builds of one tree apart; checksums follow from them. */
static void super_props(struct dk_buf *b, const struct ext2_super_block *sb)
{
	uuid_str(b, "ext4.uuid", sb->s_uuid);
	uuid_str(b, "ext4.hash_seed", (const unsigned char *)sb->s_hash_seed);
	dk_buf_addf(b, "ext4.mkfs_time=%u\n", sb->s_mkfs_time);
	dk_buf_addf(b, "ext4.wtime=%u\n", sb->s_wtime);
	dk_buf_addf(b, "ext4.mtime=%u\n", sb->s_mtime);
	dk_buf_addf(b, "ext4.lastcheck=%u\n", sb->s_lastcheck);
	dk_buf_addf(b, "ext4.volume_name=%.16s\n", (const char *)sb->s_volume_name);
	dk_buf_addf(b, "ext4.features=%08x:%08x:%08x\n", sb->s_feature_compat, sb->s_feature_incompat,
		    sb->s_feature_ro_compat);
	dk_buf_addf(b, "ext4.blocks=%llu\n",
		    (unsigned long long)sb->s_blocks_count | (unsigned long long)sb->s_blocks_count_hi << 32);
	dk_buf_addf(b, "ext4.inodes=%u\n", sb->s_inodes_count);
	dk_buf_addf(b, "ext4.block_size=%u\n", 1024u << sb->s_log_block_size);
	dk_buf_addf(b, "ext4.inode_size=%u\n", sb->s_inode_size);
	dk_buf_addf(b, "ext4.hash_version=%u\n", sb->s_def_hash_version);
	dk_buf_addf(b, "ext4.max_mnt_count=%d\n", sb->s_max_mnt_count);
	dk_buf_addf(b, "ext4.errors=%u\n", sb->s_errors);
}

int dkd_walk_ext4(struct dkd_side *s, const char *file, uint64_t offset, const char *prefix, int depth)
{
	struct ext4_walk w = { s, NULL, prefix, file, depth, DK_MAP_INIT, DK_MAP_INIT };
	struct dk_diff_member sb = { 0 };
	struct dk_buf props = DK_BUF_INIT;
	char opts[64];
	errcode_t e;
	int rc;

	snprintf(opts, sizeof(opts), "offset=%llu", (unsigned long long)offset);
	e = ext2fs_open2(file, opts, EXT2_FLAG_64BITS | EXT2_FLAG_IGNORE_CSUM_ERRORS, 0, 0, unix_io_manager,
			 &w.fs);
	if (e)
		return dk_err_set(&s->err, DK_EINPUT, "%s%s%s: not a readable ext2/3/4 file system: %s",
				  s->name, prefix[0] ? ": " : "", prefix, error_message(e));
	/* The superblock is a member of its own, so that its fields are compared and classified like any other. */
	super_props(&props, w.fs->super);
	sb.path = dkd_join(s, prefix, "<superblock>");
	sb.parent = prefix;
	sb.type = DK_DT_META;
	sb.kind = "ext4";
	sb.seq = s->seq++;
	sb.props = props.failed ? NULL : dkd_props(s, props.data, props.len);
	dk_buf_release(&props);
	if (!sb.path)
		rc = dk_err_set(&s->err, DK_ENOMEM, "%s: out of memory", s->name);
	else if (!(rc = dkd_emit(s, &sb)))
		rc = walk_ext_dir(&w, EXT2_ROOT_INO, "", 0);
	ext2fs_close_free(&w.fs);
	dk_map_release(&w.inodes);
	dk_map_release(&w.visited);
	return rc;
}
