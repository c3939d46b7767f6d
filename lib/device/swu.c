/* swu.c - SWUpdate bundles: the YAML description, sw-description, CMS signing, create and verify */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <yaml.h>

#include <debkeep/cpio.h>
#include <debkeep/input.h>
#include <debkeep/swu.h>

#include "banned.h"

/* A description is written by hand; sw-description and its signature are small by nature. */
#define DESC_YAML_MAX ((size_t)1 << 20)
#define SWDESC_MAX ((size_t)1 << 20)
#define SIG_MAX ((size_t)1 << 16)
#define BLOCK ((size_t)1 << 16)
#define CFG_DEPTH_MAX 32

static const char *const copy_names[DK_SWU_COPIES] = { "copy-1", "copy-2" };
static const char *const role_names[DK_SWU_ROLES] = { "rootfs", "kernel" };

/* ---- the YAML description ---- */

struct yctx {
	struct dk_swu_desc *d;
	const char *name;
	const char *dir; /* of the description, for relative image paths; "" for none */
	struct dk_err *err;
	yaml_document_t doc;
};

DK_PRINTF(3, 4) static int yfail(struct yctx *c, const yaml_node_t *n, const char *fmt, ...)
{
	char what[DK_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (!n)
		return dk_err_set(c->err, DK_EINPUT, "%s: %s", c->name, what);
	return dk_err_set(c->err, DK_EINPUT, "%s:%zu: %s", c->name, n->start_mark.line + 1, what);
}

static int ynomem(struct yctx *c)
{
	return dk_err_set(c->err, DK_ENOMEM, "%s: out of memory", c->name);
}

static yaml_node_t *ynode(struct yctx *c, int id)
{
	return yaml_document_get_node(&c->doc, id);
}

static const char *yscalar(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static const char *ykind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return "a string";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	default:
		return "nothing";
	}
}

/* A one-line, non-empty string: it ends up between quotes in sw-description. */
static int ystr(struct yctx *c, const yaml_node_t *n, const char *key, const char **out)
{
	const char *s;

	if (n->type != YAML_SCALAR_NODE)
		return yfail(c, n, "%s: expected a string, got %s", key, ykind(n));
	s = yscalar(n);
	if (!s[0] || strlen(s) != n->data.scalar.length)
		return yfail(c, n, "%s: empty value", key);
	for (const unsigned char *u = (const unsigned char *)s; *u; u++)
		if (*u < 0x20 || *u == 0x7f)
			return yfail(c, n, "%s: control character in the value", key);
	*out = dk_arena_strdup(&c->d->arena, s);
	return *out ? 0 : ynomem(c);
}

/* libconfig's setting names: [A-Za-z*][-A-Za-z0-9_*]* */
static bool cfg_name_ok(const char *s)
{
	if (!isalpha((unsigned char)s[0]) && s[0] != '*')
		return false;
	for (s++; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("-_*", *s))
			return false;
	return true;
}

/* Names sw-description gives a meaning to: a board or a selection called so would be read as something else.
 */
static bool cfg_name_reserved(const char *s)
{
	static const char *const reserved[] = {
		"version", "name",  "description", "hardware-compatibility", "images", "files", "scripts",
		"bootenv", "uboot", "partitions",  "embedded-script",	     "reboot", NULL
	};

	for (size_t i = 0; reserved[i]; i++)
		if (strcmp(s, reserved[i]) == 0)
			return true;
	return false;
}

/* Member names: plain file names SWUpdate and every shell handle without quoting. */
static bool member_name_ok(const char *s)
{
	if (!s[0] || strlen(s) > DK_CPIO_NAME_MAX || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._+-", *s))
			return false;
	return true;
}

/*
 * Iterate a mapping's pairs, checking every key against keys[] (a NULL-terminated table) and
 * refusing repeats: seen[] gets the value node of each key found.
 */
static int ymap(struct yctx *c, const yaml_node_t *n, const char *what, const char *const *keys,
		yaml_node_t **seen)
{
	if (n->type != YAML_MAPPING_NODE)
		return yfail(c, n, "%s: expected a mapping, got %s", what, ykind(n));
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = ynode(c, p->key), *v = ynode(c, p->value);
		size_t i;

		if (k->type != YAML_SCALAR_NODE)
			return yfail(c, k, "%s: keys must be strings", what);
		for (i = 0; keys[i] && strcmp(keys[i], yscalar(k)) != 0; i++)
			;
		if (!keys[i])
			return yfail(c, k, "%s: unknown key '%.64s'", what, yscalar(k));
		if (seen[i])
			return yfail(c, k, "%s: '%s' given twice", what, keys[i]);
		seen[i] = v;
	}
	return 0;
}

static int ypath(struct yctx *c, const yaml_node_t *n, const char *key, const char **out)
{
	const char *s;
	size_t dl = strlen(c->dir);
	char *p;
	int r = ystr(c, n, key, &s);

	if (r)
		return r;
	if (s[0] == '/' || !dl) {
		*out = s;
		return 0;
	}
	p = dk_arena_alloc(&c->d->arena, dl + strlen(s) + 2);
	if (!p)
		return ynomem(c);
	memcpy(p, c->dir, dl);
	p[dl] = '/';
	memcpy(p + dl + 1, s, strlen(s) + 1);
	*out = p;
	return 0;
}

static int yimage(struct yctx *c, const yaml_node_t *n, enum dk_swu_role role)
{
	static const char *const keys[] = { "file", "copy-1", "copy-2", "path", "filesystem", NULL };
	struct dk_swu_image *im = &c->d->image[role];
	yaml_node_t *v[5] = { 0 };
	const char *base;
	int r = ymap(c, n, role_names[role], keys, v);

	if (r)
		return r;
	im->present = true;
	im->line = n->start_mark.line + 1;
	if (!v[0])
		return yfail(c, n, "%s: no 'file'", role_names[role]);
	if ((r = ypath(c, v[0], "file", &im->file)))
		return r;
	base = strrchr(yscalar(v[0]), '/');
	base = base ? base + 1 : yscalar(v[0]);
	if (!member_name_ok(base) || strncmp(base, "sw-description", 14) == 0)
		return yfail(c, v[0],
			     "file: '%.64s' cannot name a bundle member (letters, digits, '._+-', "
			     "not sw-description*)",
			     base);
	if (!(im->name = dk_arena_strdup(&c->d->arena, base)))
		return ynomem(c);
	for (int k = 0; k < DK_SWU_COPIES; k++) {
		if (!v[1 + k])
			return yfail(c, n, "%s: no '%s' (the target device of that copy)", role_names[role],
				     copy_names[k]);
		if ((r = ystr(c, v[1 + k], copy_names[k], &im->device[k])))
			return r;
	}
	if (role == DK_SWU_ROOTFS && (v[3] || v[4]))
		return yfail(c, v[3] ? v[3] : v[4], "rootfs: '%s' is for the kernel only",
			     v[3] ? "path" : "filesystem");
	if (role == DK_SWU_KERNEL) {
		im->path = im->name;
		im->filesystem = "vfat";
		if (v[3] && (r = ystr(c, v[3], "path", &im->path)))
			return r;
		if (v[4] && (r = ystr(c, v[4], "filesystem", &im->filesystem)))
			return r;
	}
	return 0;
}

static int yhw(struct yctx *c, const yaml_node_t *n)
{
	static const char *const keys[] = { "board", "revisions", NULL };
	struct dk_swu_desc *d = c->d;
	yaml_node_t *v[2] = { 0 };
	int r = ymap(c, n, "hardware-compatibility", keys, v);

	if (r)
		return r;
	if (v[0]) {
		if ((r = ystr(c, v[0], "board", &d->board)))
			return r;
		if (!cfg_name_ok(d->board) || cfg_name_reserved(d->board))
			return yfail(c, v[0],
				     "board: '%.64s' is not a valid sw-description setting name "
				     "(a letter, then letters, digits, '-', '_'; not a reserved name)",
				     d->board);
	}
	if (!v[1] || v[1]->type != YAML_SEQUENCE_NODE ||
	    v[1]->data.sequence.items.top == v[1]->data.sequence.items.start)
		return yfail(c, v[1] ? v[1] : n,
			     "hardware-compatibility: 'revisions' must be a non-empty list");
	d->nrevisions = (size_t)(v[1]->data.sequence.items.top - v[1]->data.sequence.items.start);
	d->revisions = dk_arena_zalloc(&d->arena, d->nrevisions * sizeof(*d->revisions));
	if (!d->revisions)
		return ynomem(c);
	for (size_t i = 0; i < d->nrevisions; i++)
		if ((r = ystr(c, ynode(c, v[1]->data.sequence.items.start[i]), "revisions",
			      &d->revisions[i])))
			return r;
	return 0;
}

static int ybootenv(struct yctx *c, const yaml_node_t *n)
{
	static const char *const keys[] = { "copy-1", "copy-2", NULL };
	struct dk_swu_desc *d = c->d;
	yaml_node_t *v[2] = { 0 };
	int r = ymap(c, n, "bootenv", keys, v);

	for (int k = 0; !r && k < DK_SWU_COPIES; k++) {
		yaml_node_t *m = v[k];
		size_t cnt;

		if (!m)
			continue;
		if (m->type != YAML_MAPPING_NODE)
			return yfail(c, m, "bootenv: %s: expected a mapping of variables, got %s",
				     copy_names[k], ykind(m));
		cnt = (size_t)(m->data.mapping.pairs.top - m->data.mapping.pairs.start);
		d->bootenv[k] = dk_arena_zalloc(&d->arena, (cnt ? cnt : 1) * sizeof(struct dk_swu_var));
		if (!d->bootenv[k])
			return ynomem(c);
		for (size_t i = 0; i < cnt; i++) {
			yaml_node_pair_t *p = &m->data.mapping.pairs.start[i];
			struct dk_swu_var *var = &d->bootenv[k][i];

			if ((r = ystr(c, ynode(c, p->key), "bootenv", &var->name)))
				return r;
			if (!member_name_ok(var->name))
				return yfail(c, ynode(c, p->key),
					     "bootenv: '%.64s' is not a valid variable name", var->name);
			for (size_t j = 0; j < i; j++)
				if (strcmp(d->bootenv[k][j].name, var->name) == 0)
					return yfail(c, ynode(c, p->key), "bootenv: %s: '%s' given twice",
						     copy_names[k], var->name);
			if ((r = ystr(c, ynode(c, p->value), var->name, &var->value)))
				return r;
		}
		d->nbootenv[k] = cnt;
	}
	return r;
}

static int yroot(struct yctx *c, const yaml_node_t *root)
{
	static const char *const keys[] = {
		"product", "version", "description", "hardware-compatibility", "selection", "rootfs", "kernel", "bootenv",
		NULL,
	};
	struct dk_swu_desc *d = c->d;
	yaml_node_t *v[8] = { 0 };
	int r;

	if (!root)
		return yfail(c, NULL, "empty description");
	if ((r = ymap(c, root, "description file", keys, v)))
		return r;
	/* What is there is checked first, in order; then what is missing. */
	if (v[0] && (r = ystr(c, v[0], "product", &d->product)))
		return r;
	if (v[1] && (r = ystr(c, v[1], "version", &d->version)))
		return r;
	if (v[2] && (r = ystr(c, v[2], "description", &d->description)))
		return r;
	if (v[3] && (r = yhw(c, v[3])))
		return r;
	d->selection = "stable";
	if (v[4] && (r = ystr(c, v[4], "selection", &d->selection)))
		return r;
	if (!cfg_name_ok(d->selection) || cfg_name_reserved(d->selection))
		return yfail(c, v[4], "selection: '%.64s' is not a valid sw-description setting name",
			     d->selection);
	if (d->board && strcmp(d->board, d->selection) == 0)
		return yfail(c, v[4], "selection: the same name as the board");
	if (v[5] && (r = yimage(c, v[5], DK_SWU_ROOTFS)))
		return r;
	if (v[6] && (r = yimage(c, v[6], DK_SWU_KERNEL)))
		return r;
	if (v[5] && v[6] && strcmp(d->image[DK_SWU_ROOTFS].name, d->image[DK_SWU_KERNEL].name) == 0)
		return yfail(c, v[6], "kernel: the same member name as the rootfs ('%s')",
			     d->image[DK_SWU_KERNEL].name);
	if (v[7] && (r = ybootenv(c, v[7])))
		return r;
	for (int i = 0; i < 6; i++)
		if (!v[i] && i != 2 && i != 4)
			return yfail(c, root, "missing '%s'", keys[i]);
	return 0;
}

static int ysyntax(struct yctx *c, const yaml_parser_t *p)
{
	if (p->error == YAML_MEMORY_ERROR)
		return ynomem(c);
	if (p->error == YAML_READER_ERROR)
		return dk_err_set(c->err, DK_EINPUT, "%s: %s at byte %zu", c->name,
				  p->problem ? p->problem : "bad input", p->problem_offset);
	return dk_err_set(c->err, DK_EINPUT, "%s:%zu: %s", c->name, p->problem_mark.line + 1,
			  p->problem ? p->problem : "syntax error");
}

/* Anchors, aliases, tags and second documents are refused before the tree is built: the description is plain
 * data. */
static int yprecheck(struct yctx *c, const char *data, size_t len)
{
	yaml_parser_t p;
	yaml_event_t ev;
	int docs = 0, r = 0;

	if (!yaml_parser_initialize(&p))
		return ynomem(c);
	yaml_parser_set_input_string(&p, (const unsigned char *)data, len);
	for (;;) {
		size_t line;
		bool bad;

		if (!yaml_parser_parse(&p, &ev)) {
			r = ysyntax(c, &p);
			break;
		}
		line = ev.start_mark.line + 1;
		bad = ev.type == YAML_ALIAS_EVENT ||
		      (ev.type == YAML_SCALAR_EVENT && (ev.data.scalar.anchor || ev.data.scalar.tag)) ||
		      (ev.type == YAML_SEQUENCE_START_EVENT &&
		       (ev.data.sequence_start.anchor || ev.data.sequence_start.tag)) ||
		      (ev.type == YAML_MAPPING_START_EVENT &&
		       (ev.data.mapping_start.anchor || ev.data.mapping_start.tag));
		docs += ev.type == YAML_DOCUMENT_START_EVENT;
		if (ev.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		yaml_event_delete(&ev);
		if (bad) {
			r = dk_err_set(c->err, DK_EINPUT,
				       "%s:%zu: anchors, aliases and tags are not supported", c->name, line);
			break;
		}
		if (docs > 1) {
			r = dk_err_set(c->err, DK_EINPUT, "%s:%zu: a second YAML document", c->name, line);
			break;
		}
	}
	yaml_parser_delete(&p);
	return r;
}

int dk_swu_desc_load_mem(struct dk_swu_desc *d, const char *data, size_t len, const char *name,
			 struct dk_err *err)
{
	struct yctx c = { .d = d, .name = name, .err = err };
	const char *slash = strrchr(name, '/');
	yaml_parser_t p;
	int r;

	*d = (struct dk_swu_desc)DK_SWU_DESC_INIT;
	c.dir = slash ? dk_arena_strndup(&d->arena, name, slash == name ? 1 : (size_t)(slash - name)) : "";
	if (!c.dir)
		return ynomem(&c);
	if ((r = yprecheck(&c, data, len)))
		return r;
	if (!yaml_parser_initialize(&p))
		return ynomem(&c);
	yaml_parser_set_input_string(&p, (const unsigned char *)data, len);
	if (!yaml_parser_load(&p, &c.doc)) {
		r = ysyntax(&c, &p);
		yaml_parser_delete(&p);
		return r;
	}
	r = yroot(&c, yaml_document_get_root_node(&c.doc));
	yaml_document_delete(&c.doc);
	yaml_parser_delete(&p);
	return r;
}

int dk_swu_desc_load(struct dk_swu_desc *d, const char *path, struct dk_err *err)
{
	struct dk_buf b = DK_BUF_INIT;
	int r = dk_read_file(path, &b, DESC_YAML_MAX, err);

	*d = (struct dk_swu_desc)DK_SWU_DESC_INIT;
	if (!r)
		r = dk_swu_desc_load_mem(d, b.data, b.len, path, err);
	dk_buf_release(&b);
	return r;
}

void dk_swu_desc_release(struct dk_swu_desc *d)
{
	dk_arena_release(&d->arena);
	*d = (struct dk_swu_desc)DK_SWU_DESC_INIT;
}

/* ---- sw-description ---- */

static void indent(struct dk_buf *b, int depth)
{
	for (int i = 0; i < depth; i++)
		dk_buf_addc(b, '\t');
}

/* A libconfig string: only '"' and '\\' need escaping, control characters were refused on input. */
static void cfg_str(struct dk_buf *b, int depth, const char *key, const char *s)
{
	indent(b, depth);
	dk_buf_addf(b, "%s = \"", key);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			dk_buf_addc(b, '\\');
		dk_buf_addc(b, *s);
	}
	dk_buf_adds(b, "\";\n");
}

static void open_group(struct dk_buf *b, int depth, const char *name)
{
	indent(b, depth);
	dk_buf_addf(b, "%s:\n", name);
	indent(b, depth);
	dk_buf_adds(b, "{\n");
}

static void close_group(struct dk_buf *b, int depth)
{
	indent(b, depth);
	dk_buf_adds(b, "};\n");
}

static void image_entry(struct dk_buf *b, int depth, const struct dk_swu_image *im, enum dk_swu_role role,
			int copy, const struct dk_swu_payload *p, bool last)
{
	char hex[65];

	dk_hex(p->sha256, 32, hex);
	indent(b, depth);
	dk_buf_adds(b, "{\n");
	cfg_str(b, depth + 1, "filename", im->name);
	cfg_str(b, depth + 1, "device", im->device[copy]);
	if (role == DK_SWU_ROOTFS) {
		cfg_str(b, depth + 1, "type", "raw");
		/* Streamed to the partition as it arrives: a device has no room for a copy in /tmp. */
		indent(b, depth + 1);
		dk_buf_adds(b, "installed-directly = true;\n");
	} else {
		cfg_str(b, depth + 1, "type", "rawfile");
		cfg_str(b, depth + 1, "path", im->path);
		cfg_str(b, depth + 1, "filesystem", im->filesystem);
	}
	cfg_str(b, depth + 1, "sha256", hex);
	indent(b, depth);
	dk_buf_adds(b, last ? "}\n" : "},\n");
}

static void hw_list(struct dk_buf *b, int depth, const struct dk_swu_desc *d)
{
	indent(b, depth);
	dk_buf_adds(b, "hardware-compatibility = [ ");
	for (size_t i = 0; i < d->nrevisions; i++) {
		dk_buf_adds(b, i ? ", \"" : "\"");
		for (const char *s = d->revisions[i]; *s; s++) {
			if (*s == '"' || *s == '\\')
				dk_buf_addc(b, '\\');
			dk_buf_addc(b, *s);
		}
		dk_buf_addc(b, '"');
	}
	dk_buf_adds(b, " ];\n");
}

int dk_swu_sw_description(const struct dk_swu_desc *d, const struct dk_swu_payload *p, struct dk_buf *out,
			  struct dk_err *err)
{
	int depth = 1;

	dk_buf_adds(out, "software =\n{\n");
	cfg_str(out, depth, "version", d->version);
	cfg_str(out, depth, "name", d->product);
	if (d->description)
		cfg_str(out, depth, "description", d->description);
	/* Under the board's name, only that board (swupdate -H BOARD:REV) finds the images at all. */
	if (d->board)
		open_group(out, depth++, d->board);
	hw_list(out, depth, d);
	open_group(out, depth++, d->selection);
	for (int k = 0; k < DK_SWU_COPIES; k++) {
		bool kernel = d->image[DK_SWU_KERNEL].present;

		open_group(out, depth++, copy_names[k]);
		indent(out, depth);
		dk_buf_adds(out, "images: (\n");
		image_entry(out, depth + 1, &d->image[DK_SWU_ROOTFS], DK_SWU_ROOTFS, k, &p[DK_SWU_ROOTFS],
			    !kernel);
		if (kernel)
			image_entry(out, depth + 1, &d->image[DK_SWU_KERNEL], DK_SWU_KERNEL, k,
				    &p[DK_SWU_KERNEL], true);
		indent(out, depth);
		dk_buf_adds(out, ");\n");
		if (d->nbootenv[k]) {
			indent(out, depth);
			dk_buf_adds(out, "bootenv: (\n");
			for (size_t i = 0; i < d->nbootenv[k]; i++) {
				indent(out, depth + 1);
				dk_buf_adds(out, "{\n");
				cfg_str(out, depth + 2, "name", d->bootenv[k][i].name);
				cfg_str(out, depth + 2, "value", d->bootenv[k][i].value);
				indent(out, depth + 1);
				dk_buf_adds(out, i + 1 < d->nbootenv[k] ? "},\n" : "}\n");
			}
			indent(out, depth);
			dk_buf_adds(out, ");\n");
		}
		close_group(out, --depth);
	}
	close_group(out, --depth);
	if (d->board)
		close_group(out, --depth);
	dk_buf_adds(out, "};\n");
	return dk_buf_check(out, err, "sw-description");
}

/* ---- CMS ---- */

/* The most specific thing OpenSSL said, and its queue emptied. */
static const char *ssl_reason(char *buf, size_t n)
{
	unsigned long e, last = 0;

	while ((e = ERR_get_error()) != 0)
		last = e;
	if (!last)
		snprintf(buf, n, "unknown OpenSSL error");
	else
		ERR_error_string_n(last, buf, n);
	return buf;
}

static int load_signer(const char *key, const char *cert, EVP_PKEY **pk, X509 **x, struct dk_err *err)
{
	char why[256];
	FILE *f;

	*pk = NULL;
	*x = NULL;
	if (!(f = fopen(key, "r")))
		return dk_err_errno(err, "signing key %s", key);
	*pk = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (!*pk)
		return dk_err_set(err, DK_EINPUT,
				  "signing key %s: not a PEM private key without a passphrase (%s)", key,
				  ssl_reason(why, sizeof(why)));
	if (!(f = fopen(cert, "r"))) {
		EVP_PKEY_free(*pk);
		*pk = NULL;
		return dk_err_errno(err, "certificate %s", cert);
	}
	*x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (*x && X509_check_private_key(*x, *pk) == 1)
		return 0;
	ssl_reason(why, sizeof(why));
	EVP_PKEY_free(*pk);
	*pk = NULL;
	if (!*x)
		return dk_err_set(err, DK_EINPUT, "certificate %s: not a PEM certificate (%s)", cert, why);
	X509_free(*x);
	*x = NULL;
	return dk_err_set(err, DK_EINPUT, "certificate %s does not match the key %s", cert, key);
}

static int sign_with(const void *data, size_t len, EVP_PKEY *pk, X509 *x, struct dk_buf *sig,
		     struct dk_err *err)
{
	char why[256];
	BIO *in = BIO_new_mem_buf(data, (int)len);
	CMS_ContentInfo *cms = NULL;
	unsigned char *der = NULL;
	int n = -1, r;

	if (in)
		cms = CMS_sign(x, pk, NULL, in, CMS_DETACHED | CMS_BINARY | CMS_NOSMIMECAP);
	if (cms)
		n = i2d_CMS_ContentInfo(cms, &der);
	if (n > 0)
		r = dk_buf_add(sig, der, (size_t)n) ? dk_err_set(err, DK_ENOMEM, "signature: out of memory")
						    : 0;
	else
		r = dk_err_set(err, DK_EINTERNAL, "CMS signing failed: %s", ssl_reason(why, sizeof(why)));
	OPENSSL_free(der);
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	return r;
}

/* ---- create ---- */

/* First pass over a payload: size, cpio checksum and SHA-256, in blocks. */
static int measure(int fd, const char *path, struct dk_swu_payload *p, struct dk_err *err)
{
	static unsigned char block[BLOCK];
	struct dk_hash h;
	struct stat st;
	int r;

	if (fstat(fd, &st))
		return dk_err_errno(err, "%s", path);
	if (!S_ISREG(st.st_mode))
		return dk_err_set(err, DK_EINPUT, "%s: not a regular file", path);
	if ((uint64_t)st.st_size > DK_CPIO_SIZE_MAX)
		return dk_err_set(
			err, DK_EINPUT,
			"%s: %llu bytes is too big for a bundle: cpio stores sizes in 32 bits (under 4 GiB); "
			"compress the image or split it",
			path, (unsigned long long)st.st_size);
	p->size = 0;
	p->sum = 0;
	if ((r = dk_hash_init(&h, DK_SHA256, err)))
		return r;
	for (;;) {
		ssize_t n = read(fd, block, BLOCK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = dk_err_errno(err, "%s", path);
			break;
		}
		if (n == 0)
			break;
		p->size += (uint64_t)n;
		p->sum = dk_cpio_sum(p->sum, block, (size_t)n);
		if (p->size > DK_CPIO_SIZE_MAX) {
			r = dk_err_set(err, DK_EINPUT, "%s: grew past 4 GiB while it was read", path);
			break;
		}
		if ((r = dk_hash_update(&h, block, (size_t)n, err)))
			break;
	}
	if (r) {
		dk_hash_release(&h);
		return r;
	}
	if ((r = dk_hash_final(&h, p->sha256, err)))
		return r;
	if (lseek(fd, 0, SEEK_SET) != 0)
		return dk_err_errno(err, "%s", path);
	return 0;
}

static int write_bundle(const struct dk_swu_desc *d, int out, const char *path,
			const struct dk_swu_create_opts *o, const struct dk_buf *swdesc,
			const struct dk_buf *sig, const int *fds, const struct dk_swu_payload *p,
			struct dk_err *err)
{
	struct dk_cpio_writer w;
	int r;

	dk_cpio_writer_init(&w, out, path, o->mtime);
	r = dk_cpio_write_mem(&w, "sw-description", swdesc->data, swdesc->len, err);
	if (!r && sig->len)
		r = dk_cpio_write_mem(&w, "sw-description.sig", sig->data, sig->len, err);
	for (int i = 0; !r && i < DK_SWU_ROLES; i++)
		if (d->image[i].present)
			r = dk_cpio_write_fd(&w, d->image[i].name, fds[i], d->image[i].file, p[i].size,
					     p[i].sum, err);
	if (!r)
		r = dk_cpio_write_trailer(&w, err);
	if (!r && (fchmod(out, 0644) || fsync(out)))
		r = dk_err_errno(err, "%s", path);
	return r;
}

int dk_swu_create(const struct dk_swu_desc *d, const char *out, const struct dk_swu_create_opts *o,
		  struct dk_swu_payload p[DK_SWU_ROLES], struct dk_err *err)
{
	struct dk_buf swdesc = DK_BUF_INIT, sig = DK_BUF_INIT, tmp = DK_BUF_INIT;
	int fds[DK_SWU_ROLES] = { -1, -1 }, tfd = -1, r = 0;
	EVP_PKEY *pk = NULL;
	X509 *x = NULL;

	memset(p, 0, DK_SWU_ROLES * sizeof(*p));
	if (!o->key != !o->cert)
		return dk_err_set(err, DK_EINPUT, "signing needs both a key and a certificate");
	/* The key first: a wrong key should not cost a pass over a gigabyte image. */
	if (o->key && (r = load_signer(o->key, o->cert, &pk, &x, err)))
		return r;
	for (int i = 0; !r && i < DK_SWU_ROLES; i++) {
		if (!d->image[i].present)
			continue;
		fds[i] = open(d->image[i].file, O_RDONLY | O_CLOEXEC);
		if (fds[i] < 0)
			r = dk_err_errno(err, "%s", d->image[i].file);
		else
			r = measure(fds[i], d->image[i].file, &p[i], err);
	}
	if (!r)
		r = dk_swu_sw_description(d, p, &swdesc, err);
	if (!r && pk)
		r = sign_with(swdesc.data, swdesc.len, pk, x, &sig, err);
	if (!r) {
		dk_buf_addf(&tmp, "%s.tmp-XXXXXX", out);
		r = dk_buf_check(&tmp, err, out);
	}
	if (!r && (tfd = mkostemp(tmp.data, O_CLOEXEC)) < 0)
		r = dk_err_errno(err, "%s: cannot create a temporary file", out);
	if (!r)
		r = write_bundle(d, tfd, tmp.data, o, &swdesc, &sig, fds, p, err);
	if (tfd >= 0 && close(tfd) && !r)
		r = dk_err_errno(err, "%s", tmp.data);
	if (!r && rename(tmp.data, out))
		r = dk_err_errno(err, "%s", out);
	if (r && tfd >= 0)
		unlink(tmp.data);
	for (int i = 0; i < DK_SWU_ROLES; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	EVP_PKEY_free(pk);
	X509_free(x);
	dk_buf_release(&swdesc);
	dk_buf_release(&sig);
	dk_buf_release(&tmp);
	return r;
}

/* ---- reading sw-description: the part of libconfig's grammar SWUpdate bundles use ---- */

/*
 * libconfig itself is not linked: verify needs a tree of names, strings and
 * lines, and this reader is small enough to fuzz with the rest. It takes
 * groups { }, lists ( ), arrays [ ], strings (escapes, adjacent ones joined),
 * numbers and booleans as words, '=' or ':', ';' or ',' after a setting, and
 * the three comment styles; @include is refused.
 */
enum cfg_type { CFG_GROUP, CFG_LIST, CFG_ARRAY, CFG_STRING, CFG_WORD };

struct cfg {
	enum cfg_type type;
	const char *name; /* NULL for list and array elements */
	const char *str;  /* CFG_STRING, CFG_WORD */
	size_t line;
	struct cfg *kids, *next;
};

struct cfgp {
	const char *s, *e;
	size_t line;
	struct dk_arena *arena;
	char *msg; /* the first error, "sw-description:LINE: what" */
	size_t msglen;
	int depth;
};

DK_PRINTF(2, 3) static int cfail(struct cfgp *c, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(c->msg, c->msglen, "sw-description:%zu: ", c->line);

	va_start(ap, fmt);
	if (n > 0 && (size_t)n < c->msglen)
		vsnprintf(c->msg + n, c->msglen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static void cskip(struct cfgp *c)
{
	while (c->s < c->e) {
		if (*c->s == '\n') {
			c->line++;
			c->s++;
		} else if (isspace((unsigned char)*c->s)) {
			c->s++;
		} else if (*c->s == '#' || (*c->s == '/' && c->s + 1 < c->e && c->s[1] == '/')) {
			while (c->s < c->e && *c->s != '\n')
				c->s++;
		} else if (*c->s == '/' && c->s + 1 < c->e && c->s[1] == '*') {
			for (c->s += 2; c->s < c->e && !(*c->s == '*' && c->s + 1 < c->e && c->s[1] == '/');
			     c->s++)
				c->line += *c->s == '\n';
			c->s = c->s < c->e ? c->s + 2 : c->e;
		} else {
			break;
		}
	}
}

static int cpeek(struct cfgp *c)
{
	cskip(c);
	return c->s < c->e ? (unsigned char)*c->s : -1;
}

static int cstring(struct cfgp *c, struct cfg *n)
{
	struct dk_buf b = DK_BUF_INIT;

	dk_buf_init(&b, SWDESC_MAX);
	while (cpeek(c) == '"') {
		for (c->s++;; c->s++) {
			if (c->s >= c->e || *c->s == '\n') {
				dk_buf_release(&b);
				return cfail(c, "unterminated string");
			}
			if (*c->s == '"')
				break;
			if (*c->s == '\\' && c->s + 1 < c->e) {
				static const char from[] = "nrtf\\\"", to[] = "\n\r\t\f\\\"";
				const char *k = strchr(from, c->s[1]);

				c->s++;
				if (*c->s == 'x' && c->e - c->s > 2 && isxdigit((unsigned char)c->s[1]) &&
				    isxdigit((unsigned char)c->s[2])) {
					char hx[3] = { c->s[1], c->s[2], 0 };

					dk_buf_addc(&b, (char)strtol(hx, NULL, 16));
					c->s += 2;
				} else if (k && *c->s) {
					dk_buf_addc(&b, to[k - from]);
				} else {
					dk_buf_release(&b);
					return cfail(c, "unknown escape '\\%c' in a string",
						     isprint((unsigned char)*c->s) ? *c->s : '?');
				}
				continue;
			}
			dk_buf_addc(&b, *c->s);
		}
		c->s++;
	}
	n->type = CFG_STRING;
	n->str = b.failed ? NULL : dk_arena_strndup(c->arena, b.data, b.len);
	dk_buf_release(&b);
	return n->str ? 0 : cfail(c, "out of memory");
}

static bool word_char(int ch)
{
	return ch >= 0 && (isalnum(ch) || ch == '.' || ch == '+' || ch == '-' || ch == '_');
}

static int cvalue(struct cfgp *c, struct cfg *n);

static int csettings(struct cfgp *c, struct cfg *group, int end)
{
	struct cfg **tail = &group->kids;

	for (;;) {
		int ch = cpeek(c);
		const char *start;
		struct cfg *n;

		if (ch == end)
			return 0;
		if (ch == '@')
			return cfail(c, "@include is not supported");
		if (ch < 0 || !(isalpha(ch) || ch == '*'))
			return cfail(c,
				     ch < 0 ? "unexpected end, a '}' is missing" : "expected a setting name");
		start = c->s;
		while (c->s < c->e && (isalnum((unsigned char)*c->s) || strchr("-_*", *c->s)))
			c->s++;
		if (!(n = dk_arena_zalloc(c->arena, sizeof(*n))))
			return cfail(c, "out of memory");
		n->line = c->line;
		n->name = dk_arena_strndup(c->arena, start, (size_t)(c->s - start));
		if (!n->name)
			return cfail(c, "out of memory");
		ch = cpeek(c);
		if (ch != '=' && ch != ':')
			return cfail(c, "expected '=' or ':' after '%.64s'", n->name);
		c->s++;
		if (cvalue(c, n))
			return -1;
		ch = cpeek(c);
		if (ch == ';' || ch == ',')
			c->s++;
		for (struct cfg *o = group->kids; o; o = o->next)
			if (strcmp(o->name, n->name) == 0)
				return cfail(c, "'%.64s' given twice", n->name);
		*tail = n;
		tail = &n->next;
	}
}

static int celems(struct cfgp *c, struct cfg *n, int end)
{
	struct cfg **tail = &n->kids;

	if (cpeek(c) == end) {
		c->s++;
		return 0;
	}
	for (;;) {
		struct cfg *k = dk_arena_zalloc(c->arena, sizeof(*k));
		int ch;

		if (!k)
			return cfail(c, "out of memory");
		if (cvalue(c, k))
			return -1;
		if (n->type == CFG_ARRAY && k->type != CFG_STRING && k->type != CFG_WORD)
			return cfail(c, "an array holds scalars only");
		*tail = k;
		tail = &k->next;
		ch = cpeek(c);
		if (ch == end) {
			c->s++;
			return 0;
		}
		if (ch != ',')
			return cfail(c, "expected ',' or '%c'", end);
		c->s++;
	}
}

static int cvalue(struct cfgp *c, struct cfg *n)
{
	int ch = cpeek(c), r;

	n->line = c->line;
	if (ch == '"')
		return cstring(c, n);
	if (word_char(ch)) {
		const char *start = c->s;

		while (c->s < c->e && word_char((unsigned char)*c->s))
			c->s++;
		n->type = CFG_WORD;
		n->str = dk_arena_strndup(c->arena, start, (size_t)(c->s - start));
		return n->str ? 0 : cfail(c, "out of memory");
	}
	if (ch != '{' && ch != '(' && ch != '[')
		return cfail(c, ch < 0 ? "unexpected end, a value is missing" : "expected a value");
	if (++c->depth > CFG_DEPTH_MAX)
		return cfail(c, "nested more than %d deep", CFG_DEPTH_MAX);
	c->s++;
	if (ch == '{') {
		n->type = CFG_GROUP;
		r = csettings(c, n, '}');
		if (!r)
			c->s++;
	} else {
		n->type = ch == '(' ? CFG_LIST : CFG_ARRAY;
		r = celems(c, n, ch == '(' ? ')' : ']');
	}
	c->depth--;
	return r;
}

static struct cfg *cfg_get(const struct cfg *g, const char *name)
{
	if (!g || g->type != CFG_GROUP)
		return NULL;
	for (struct cfg *k = g->kids; k; k = k->next)
		if (strcmp(k->name, name) == 0)
			return k;
	return NULL;
}

/* ---- verify ---- */

/* A payload reference in sw-description. */
struct ref {
	const char *filename;
	const char *sha256; /* NULL: none given */
	size_t line;
	bool found;
};

struct vctx {
	struct dk_swu_report *rep;
	struct dk_arena arena;
	struct ref *refs;
	size_t nrefs, caprefs;
	struct cfg *root;
	struct dk_err *err;
	bool nomem;
};

/* Names and strings from a bundle are anyone's bytes: a report line stays one line of printable ASCII. */
static char *sanitize(char *s)
{
	for (unsigned char *u = (unsigned char *)s; *u; u++)
		if (*u < 0x20 || *u >= 0x7f)
			*u = '?';
	return s;
}

DK_PRINTF(2, 3) static void problem(struct vctx *v, const char *fmt, ...)
{
	struct dk_swu_report *rep = v->rep;
	char **p = realloc(rep->problems, (rep->nproblems + 1) * sizeof(*p));
	char *s = NULL;
	va_list ap;

	if (!p) {
		v->nomem = true;
		return;
	}
	rep->problems = p;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (!s) {
		v->nomem = true;
		return;
	}
	sanitize(s);
	rep->problems[rep->nproblems++] = s;
}

/* Images, files and scripts anywhere under software: every selection and board that names a payload. */
static void collect_refs(struct vctx *v, const struct cfg *n, bool in_list)
{
	for (; n; n = n->next) {
		const struct cfg *f = in_list ? cfg_get(n, "filename") : NULL;

		if (f && f->type == CFG_STRING) {
			const struct cfg *h = cfg_get(n, "sha256");

			if (v->nrefs == v->caprefs) {
				size_t cap = v->caprefs ? 2 * v->caprefs : 8;
				struct ref *r = realloc(v->refs, cap * sizeof(*r));

				if (!r) {
					v->nomem = true;
					return;
				}
				v->refs = r;
				v->caprefs = cap;
			}
			v->refs[v->nrefs++] =
				(struct ref){ f->str, h && h->type == CFG_STRING ? h->str : NULL, f->line,
					      false };
		}
		if (n->type == CFG_GROUP)
			collect_refs(v, n->kids, false);
		else if (n->type == CFG_LIST)
			collect_refs(v, n->kids,
				     n->name && (strcmp(n->name, "images") == 0 ||
						 strcmp(n->name, "files") == 0 ||
						 strcmp(n->name, "scripts") == 0));
	}
}

static void parse_swdesc(struct vctx *v, const struct dk_buf *b)
{
	char msg[256];
	struct cfgp c = { b->data, b->data + b->len, 1, &v->arena, msg, sizeof(msg), 0 };
	struct cfg *top = dk_arena_zalloc(&v->arena, sizeof(*top));
	const struct cfg *sw, *ver;

	if (!top) {
		v->nomem = true;
		return;
	}
	top->type = CFG_GROUP;
	if (memchr(b->data, '\0', b->len)) {
		problem(v, "sw-description: NUL byte in the text");
		return;
	}
	if (csettings(&c, top, -1)) {
		problem(v, "%s", msg);
		return;
	}
	sw = cfg_get(top, "software");
	if (!sw || sw->type != CFG_GROUP) {
		problem(v, "sw-description: no 'software' group");
		return;
	}
	v->root = (struct cfg *)sw;
	ver = cfg_get(sw, "version");
	if (ver && ver->str && (v->rep->version = strdup(ver->str)))
		sanitize(v->rep->version);
	collect_refs(v, sw->kids, false);
}

static bool hw_match(const char *pattern, const char *rev)
{
	regex_t re;
	bool ok;

	if (strncmp(pattern, "#RE:", 4) != 0)
		return strcmp(pattern, rev) == 0;
	if (regcomp(&re, pattern + 4, REG_EXTENDED | REG_NOSUB))
		return false;
	ok = regexec(&re, rev, 0, NULL, 0) == 0;
	regfree(&re);
	return ok;
}

/* SWUpdate's rule: the board's own group if there is one, else the top level. */
static void check_hw(struct vctx *v, const char *hw)
{
	const char *colon = strchr(hw, ':');
	char board[128];
	const struct cfg *node, *hwc;
	bool other_boards = false;

	if (!colon || colon == hw || !colon[1] || (size_t)(colon - hw) >= sizeof(board)) {
		problem(v, "--hw '%s': expected BOARD:REVISION", hw);
		return;
	}
	memcpy(board, hw, (size_t)(colon - hw));
	board[colon - hw] = '\0';
	node = cfg_get(v->root, board);
	if (!node || node->type != CFG_GROUP) {
		node = v->root;
		for (const struct cfg *k = node->kids; k; k = k->next)
			other_boards |= cfg_get(k, "hardware-compatibility") != NULL;
	}
	hwc = cfg_get(node, "hardware-compatibility");
	if (!hwc) {
		if (other_boards)
			problem(v, "hardware: no settings for board '%s' in sw-description", board);
		return;
	}
	if (hwc->type != CFG_ARRAY && hwc->type != CFG_LIST) {
		problem(v, "sw-description:%zu: hardware-compatibility is not a list", hwc->line);
		return;
	}
	for (const struct cfg *k = hwc->kids; k; k = k->next)
		if (k->type == CFG_STRING && hw_match(k->str, colon + 1))
			return;
	problem(v,
		"hardware: revision '%s' of board '%s' is not in hardware-compatibility (sw-description:%zu)",
		colon + 1, board, hwc->line);
}

static int check_sig(struct vctx *v, const struct dk_buf *desc, const struct dk_buf *sig, const char *cert)
{
	char why[256];
	const unsigned char *q = (const unsigned char *)sig->data;
	CMS_ContentInfo *cms;
	X509_STORE *store = X509_STORE_new();
	BIO *in;
	int r = 0;

	if (!store)
		return dk_err_set(v->err, DK_ENOMEM, "out of memory");
	if (X509_STORE_load_file(store, cert) != 1) {
		X509_STORE_free(store);
		return dk_err_set(v->err, DK_EINPUT, "certificate %s: cannot be loaded (%s)", cert,
				  ssl_reason(why, sizeof(why)));
	}
	/* SWUpdate's default --cert-purpose is emailProtection (S/MIME signing). */
	X509_STORE_set_purpose(store, X509_PURPOSE_SMIME_SIGN);
	cms = d2i_CMS_ContentInfo(NULL, &q, (long)sig->len);
	in = BIO_new_mem_buf(desc->data, (int)desc->len);
	if (!cms) {
		problem(v, "sw-description.sig: not a DER CMS signature (%s)", ssl_reason(why, sizeof(why)));
	} else if (!in) {
		r = dk_err_set(v->err, DK_ENOMEM, "out of memory");
	} else if (CMS_verify(cms, NULL, store, in, NULL, CMS_BINARY) != 1) {
		problem(v, "sw-description.sig: the signature does not verify with %s (%s)", cert,
			ssl_reason(why, sizeof(why)));
	} else {
		STACK_OF(X509) *signers = CMS_get0_signers(cms);

		v->rep->signature_checked = true;
		if (signers && sk_X509_num(signers) > 0) {
			char *s =
				X509_NAME_oneline(X509_get_subject_name(sk_X509_value(signers, 0)), NULL, 0);

			if (s && (v->rep->signer = strdup(s)))
				sanitize(v->rep->signer);
			OPENSSL_free(s);
		}
		sk_X509_free(signers);
	}
	ERR_clear_error();
	BIO_free(in);
	CMS_ContentInfo_free(cms);
	X509_STORE_free(store);
	return r;
}

/* A small member (sw-description, its signature) read whole, up to max bytes. */
static int read_small(struct dk_cpio_reader *r, const struct dk_cpio_entry *e, size_t max, struct dk_buf *b,
		      struct dk_err *err)
{
	size_t got;
	int rc;

	if (e->size > max)
		return dk_err_set(err, DK_EINPUT, "%s is %llu bytes, more than the %zu a bundle may hold",
				  e->name, (unsigned long long)e->size, max);
	if ((rc = dk_buf_grow(b, (size_t)e->size)))
		return dk_err_set(err, DK_ENOMEM, "out of memory");
	do {
		if ((rc = dk_cpio_read(r, b->data + b->len, (size_t)e->size - b->len + 1, &got, err)))
			return rc;
		b->len += got;
	} while (got);
	b->data[b->len] = '\0';
	return 0;
}

static int add_member(struct vctx *v, const char *name, uint64_t size, const unsigned char *sha)
{
	struct dk_swu_report *rep = v->rep;
	struct dk_swu_member *m = realloc(rep->members, (rep->nmembers + 1) * sizeof(*m));

	if (!m)
		return -1;
	rep->members = m;
	m += rep->nmembers;
	memset(m, 0, sizeof(*m));
	if (!(m->name = strdup(name)))
		return -1;
	sanitize(m->name);
	m->size = size;
	dk_hex(sha, 32, m->sha256);
	rep->nmembers++;
	return 0;
}

/* Check the payloads' digests against every reference to them. */
static void check_payload(struct vctx *v, const char *name, struct dk_swu_member *m)
{
	bool reported = false;

	for (size_t i = 0; i < v->nrefs; i++) {
		struct ref *f = &v->refs[i];

		if (strcmp(f->filename, name) != 0)
			continue;
		f->found = true;
		m->described = true;
		/* One line per payload, naming the first reference that disagrees. */
		if (reported)
			continue;
		reported = true;
		if (!f->sha256)
			problem(v,
				"%s: no sha256 for it in sw-description:%zu (SWUpdate refuses unhashed "
				"images "
				"in signed bundles)",
				m->name, f->line);
		else if (strcasecmp(f->sha256, m->sha256) != 0)
			problem(v, "%s: sha256 mismatch: sw-description:%zu says %.64s, the payload is %s",
				m->name, f->line, f->sha256, m->sha256);
		else
			reported = false;
	}
}

static void check_crc(struct vctx *v, const struct dk_cpio_entry *e, uint32_t sum)
{
	if (e->crc && e->check != sum)
		problem(v, "%s: cpio checksum mismatch: header says %08x, the data sums to %08x", e->name,
			e->check, sum);
}

/* A reader's message without the bundle's name in front: the command puts it there. */
static void archive_problem(struct vctx *v, const struct dk_cpio_reader *rd, const struct dk_err *e)
{
	size_t n = strlen(rd->path);
	const char *m = e->msg;

	if (strncmp(m, rd->path, n) == 0 && m[n] == ':' && m[n + 1] == ' ')
		m += n + 2;
	problem(v, "%s", m);
}

static int walk(struct vctx *v, struct dk_cpio_reader *rd, const char *cert, const char *hw)
{
	static unsigned char block[BLOCK];
	struct dk_buf desc = DK_BUF_INIT, sig = DK_BUF_INIT;
	struct dk_cpio_entry e;
	struct dk_err cerr = DK_ERR_INIT;
	size_t index = 0;
	bool have_desc = false, crc_seen = false, newc_seen = false, broken = false;
	int r;

	dk_buf_init(&desc, SWDESC_MAX + 1);
	dk_buf_init(&sig, SIG_MAX + 1);
	for (;; index++) {
		struct dk_hash h;
		unsigned char sha[32];
		size_t got;

		r = dk_cpio_next(rd, &e, &cerr);
		if (r == DK_NOTFOUND) {
			r = 0;
			break;
		}
		if (r == DK_EIO) {
			r = dk_err_set(v->err, r, "%s", cerr.msg);
			goto out;
		}
		if (r) {
			archive_problem(v, rd, &cerr);
			broken = true;
			r = 0;
			break;
		}
		crc_seen |= e.crc;
		newc_seen |= !e.crc;
		if (index == 0 && strcmp(e.name, "sw-description") != 0)
			problem(v, "the first member is '%s', not sw-description (SWUpdate reads it first)",
				e.name);
		if (index == 0 && strcmp(e.name, "sw-description") == 0) {
			if ((r = read_small(rd, &e, SWDESC_MAX, &desc, &cerr))) {
				archive_problem(v, rd, &cerr);
				broken = true;
				r = 0;
				break;
			}
			have_desc = true;
			check_crc(v, &e, rd->sum);
			parse_swdesc(v, &desc);
			continue;
		}
		if (index == 1 && strcmp(e.name, "sw-description.sig") == 0) {
			v->rep->signed_bundle = true;
			if ((r = read_small(rd, &e, SIG_MAX, &sig, &cerr))) {
				archive_problem(v, rd, &cerr);
				broken = true;
				r = 0;
				break;
			}
			check_crc(v, &e, rd->sum);
			continue;
		}
		if (strncmp(e.name, "sw-description", 14) == 0)
			problem(v, "%s: out of place (member %zu)", e.name, index + 1);
		for (size_t i = 0; i < v->rep->nmembers; i++)
			if (strcmp(v->rep->members[i].name, e.name) == 0)
				problem(v, "%s: in the bundle twice", e.name);
		if ((r = dk_hash_init(&h, DK_SHA256, v->err)))
			goto out;
		do {
			r = dk_cpio_read(rd, block, BLOCK, &got, &cerr);
			if (!r)
				r = dk_hash_update(&h, block, got, v->err);
		} while (!r && got);
		if (r) {
			dk_hash_release(&h);
			if (r == DK_EIO) {
				r = dk_err_set(v->err, r, "%s", cerr.msg);
				goto out;
			}
			archive_problem(v, rd, &cerr);
			broken = true;
			r = 0;
			break;
		}
		if ((r = dk_hash_final(&h, sha, v->err)))
			goto out;
		if (add_member(v, e.name, e.size, sha)) {
			v->nomem = true;
			break;
		}
		check_crc(v, &e, rd->sum);
		check_payload(v, e.name, &v->rep->members[v->rep->nmembers - 1]);
	}
	if (index == 0 && !broken)
		problem(v, "an empty archive: no sw-description");
	for (size_t i = 0; i < v->nrefs; i++) {
		bool dup = false;

		for (size_t j = 0; j < i; j++)
			dup |= strcmp(v->refs[j].filename, v->refs[i].filename) == 0;
		if (!v->refs[i].found && !dup && !broken)
			problem(v, "%s: named in sw-description:%zu but not in the bundle",
				v->refs[i].filename, v->refs[i].line);
	}
	if (crc_seen && newc_seen)
		problem(v, "the archive mixes cpio newc (070701) and crc (070702) headers");
	if (have_desc && v->root && hw)
		check_hw(v, hw);
	if (have_desc && cert) {
		if (!v->rep->signed_bundle)
			problem(v, "not signed: no sw-description.sig right after sw-description");
		else
			r = check_sig(v, &desc, &sig, cert);
	}
out:
	dk_buf_release(&desc);
	dk_buf_release(&sig);
	return r;
}

static int verify(struct dk_cpio_reader *rd, const char *cert, const char *hw, struct dk_swu_report *rep,
		  struct dk_err *err)
{
	struct vctx v = { .rep = rep, .arena = DK_ARENA_INIT, .err = err };
	int r;

	*rep = (struct dk_swu_report)DK_SWU_REPORT_INIT;
	r = walk(&v, rd, cert, hw);
	if (!r && v.nomem)
		r = dk_err_set(err, DK_ENOMEM, "%s: out of memory", rd->path);
	free(v.refs);
	dk_arena_release(&v.arena);
	return r;
}

int dk_swu_verify(const char *bundle, const struct dk_swu_verify_opts *o, struct dk_swu_report *rep,
		  struct dk_err *err)
{
	struct dk_cpio_reader rd;
	int fd, r;

	*rep = (struct dk_swu_report)DK_SWU_REPORT_INIT;
	if (o->cert && access(o->cert, R_OK))
		return dk_err_errno(err, "certificate %s", o->cert);
	if ((fd = open(bundle, O_RDONLY | O_CLOEXEC)) < 0)
		return dk_err_errno(err, "%s", bundle);
	dk_cpio_reader_init_fd(&rd, fd, bundle);
	r = verify(&rd, o->cert, o->hw, rep, err);
	close(fd);
	return r;
}

int dk_swu_verify_mem(const void *p, size_t n, const char *name, const char *hw, struct dk_swu_report *rep,
		      struct dk_err *err)
{
	struct dk_cpio_reader rd;

	dk_cpio_reader_init_mem(&rd, p, n, name);
	return verify(&rd, NULL, hw, rep, err);
}

void dk_swu_report_release(struct dk_swu_report *rep)
{
	for (size_t i = 0; i < rep->nmembers; i++)
		free(rep->members[i].name);
	for (size_t i = 0; i < rep->nproblems; i++)
		free(rep->problems[i]);
	free(rep->members);
	free(rep->problems);
	free(rep->version);
	free(rep->signer);
	*rep = (struct dk_swu_report)DK_SWU_REPORT_INIT;
}
