/* tracker-json.c - the security tracker's JSON export, read into the same model as its list files */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <debkeep/tracker.h>

#include "banned.h"

static int oom(struct dk_err *err, const char *name)
{
	return dk_err_set(err, DK_ENOMEM, "%s: out of memory", name);
}

static const char *str_or_null(struct dk_tracker *t, json_t *v)
{
	if (!json_is_string(v) || !json_string_length(v))
		return NULL;
	return dk_arena_strndup(&t->arena, json_string_value(v), json_string_length(v));
}

/* One release of one (package, CVE): the export's status words back to the list's pseudo versions. */
static int add_release(struct dk_tracker *t, dk_id cve, dk_id srcid, const char *src, const char *rel, json_t *r,
		       const char *name, struct dk_err *err)
{
	const char *status = json_string_value(json_object_get(r, "status"));
	json_t *fixed = json_object_get(r, "fixed_version"), *nodsa = json_object_get(r, "nodsa");
	const char *reason = json_string_value(json_object_get(r, "nodsa_reason"));
	struct dk_tracker_fix *f;

	if (!json_is_object(r) || !status)
		return dk_err_set(err, DK_EINPUT, "%s: %s %s %s: release without a status", name, t->entries[cve].name,
				  src, rel);
	if (t->nfixes == t->fixes_alloc) {
		size_t na = t->fixes_alloc ? t->fixes_alloc * 2 : 4096;
		struct dk_tracker_fix *nf = realloc(t->fixes, na * sizeof(*nf));

		if (!nf)
			return oom(err, name);
		t->fixes = nf;
		t->fixes_alloc = na;
	}
	f = &t->fixes[t->nfixes];
	memset(f, 0, sizeof(*f));
	f->cve = cve;
	f->source = srcid;
	/* The export names unstable "sid"; the list has no release prefix for it. */
	f->release = strcmp(rel, "sid") == 0 ? NULL : dk_arena_strdup(&t->arena, rel);
	f->urgency = str_or_null(t, json_object_get(r, "urgency"));
	if (strcmp(status, "resolved") == 0) {
		const char *v = json_string_value(fixed);

		if (!v)
			return dk_err_set(err, DK_EINPUT, "%s: %s %s %s: resolved without a fixed_version", name,
					  t->entries[cve].name, src, rel);
		if (strcmp(v, "0") == 0) {
			f->kind = DK_FIX_NOT_AFFECTED;
		} else {
			f->kind = DK_FIX_VERSION;
			f->version = dk_arena_strdup(&t->arena, v);
		}
	} else if (strcmp(status, "open") == 0) {
		f->kind = DK_FIX_UNFIXED;
		if (json_is_string(nodsa)) {
			f->note = str_or_null(t, nodsa);
			f->kind = reason && strcmp(reason, "postponed") == 0 ? DK_FIX_POSTPONED
				  : reason && strcmp(reason, "ignored") == 0 ? DK_FIX_IGNORED
									     : DK_FIX_NO_DSA;
		}
	} else if (strcmp(status, "undetermined") == 0) {
		f->kind = DK_FIX_UNDETERMINED;
	} else {
		return dk_err_set(err, DK_EINPUT, "%s: %s %s %s: unknown status '%s'", name, t->entries[cve].name, src,
				  rel, status);
	}
	t->nfixes++;
	return 0;
}

int dk_tracker_parse_json(struct dk_tracker *t, const char *data, size_t len, const char *name, struct dk_err *err)
{
	json_error_t jerr;
	json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr), *pkgv;
	const char *pkg;
	int r = 0;

	if (!root)
		return dk_err_set(err, DK_EINPUT, "%s:%d: %s", name, jerr.line, jerr.text);
	if (!json_is_object(root)) {
		json_decref(root);
		return dk_err_set(err, DK_EINPUT, "%s:1: expected an object of source packages", name);
	}
	json_object_foreach(root, pkg, pkgv)
	{
		dk_id srcid = dk_strpool_intern(&t->sources, pkg, strlen(pkg));
		const char *src = srcid ? dk_strpool_str(&t->sources, srcid) : NULL, *cvename;
		json_t *cvev;

		if (!src) {
			r = oom(err, name);
			break;
		}
		if (!json_is_object(pkgv)) {
			r = dk_err_set(err, DK_EINPUT, "%s: %s: expected an object of CVEs", name, pkg);
			break;
		}
		json_object_foreach(pkgv, cvename, cvev)
		{
			json_t *rels = json_object_get(cvev, "releases"), *relv;
			struct dk_tracker_entry *ent;
			const char *rel;
			uint32_t known = dk_strpool_count(&t->cves);
			dk_id id = dk_strpool_intern(&t->cves, cvename, strlen(cvename));

			if (!id) {
				r = oom(err, name);
				break;
			}
			if (id >= t->entries_alloc) {
				size_t na = t->entries_alloc ? t->entries_alloc * 2 : 4096;
				struct dk_tracker_entry *ne;

				while (na <= id)
					na *= 2;
				if (!(ne = realloc(t->entries, na * sizeof(*ne)))) {
					r = oom(err, name);
					break;
				}
				t->entries = ne;
				t->entries_alloc = na;
			}
			/* As in the list's parser: a new id's entry is cleared, the growth ahead of it is not. */
			if (dk_strpool_count(&t->cves) != known)
				memset(&t->entries[id], 0, sizeof(t->entries[id]));
			ent = &t->entries[id];
			if (!ent->name) {
				ent->name = dk_strpool_str(&t->cves, id);
				ent->defined = 1;
				ent->description = str_or_null(t, json_object_get(cvev, "description"));
			}
			if (!json_is_object(rels)) {
				r = dk_err_set(err, DK_EINPUT, "%s: %s %s: no releases", name, pkg, cvename);
				break;
			}
			json_object_foreach(rels, rel, relv)
			{
				if ((r = add_release(t, id, srcid, src, rel, relv, name, err)) < 0)
					break;
				if (json_is_integer(json_object_get(cvev, "debianbug")))
					t->fixes[t->nfixes - 1].bug =
						(uint32_t)json_integer_value(json_object_get(cvev, "debianbug"));
			}
			if (r < 0)
				break;
		}
		if (r < 0)
			break;
	}
	json_decref(root);
	return r;
}
