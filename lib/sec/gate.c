/* gate.c - the release gate: policy file (YAML), decision over a scan, evidence as JSON and as one HTML page */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include <debkeep/gate.h>
#include <debkeep/hash.h>
#include <debkeep/input.h>

#include "banned.h"

static const char *const urgency_names[DK_URGENCY_COUNT] = { "unimportant", "low", "medium", "high",
							     "not yet assigned" };

int dk_urgency_index(const char *s, size_t n)
{
	while (n && s[n - 1] == '*')
		n--;
	for (int i = 0; i < DK_URGENCY_COUNT; i++)
		if (strlen(urgency_names[i]) == n && memcmp(urgency_names[i], s, n) == 0)
			return i;
	return -1;
}

const char *dk_urgency_name(int i)
{
	return i >= 0 && i < DK_URGENCY_COUNT ? urgency_names[i] : "?";
}

const char *dk_verdict_name(enum dk_verdict v)
{
	static const char *const names[] = { "blocking", "accepted", "waived", "tolerated" };

	return v <= DK_VERDICT_TOLERATED ? names[v] : "?";
}

void dk_policy_release(struct dk_policy *pol)
{
	dk_arena_release(&pol->arena);
	free(pol->waivers);
	*pol = (struct dk_policy)DK_POLICY_INIT;
}

struct pctx {
	struct dk_policy *pol;
	yaml_document_t doc;
	const char *name;
	struct dk_err *err;
};

DK_PRINTF(3, 4) static int pfail(struct pctx *c, const yaml_node_t *n, const char *fmt, ...)
{
	char msg[DK_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return dk_err_set(c->err, DK_EINPUT, "%s:%zu: %s", c->name, n ? n->start_mark.line + 1 : (size_t)1, msg);
}

static bool scalar_is(const yaml_node_t *n, const char *s)
{
	return n->type == YAML_SCALAR_NODE && n->data.scalar.length == strlen(s) &&
	       memcmp(n->data.scalar.value, s, n->data.scalar.length) == 0;
}

static int scalar(struct pctx *c, yaml_node_t *n, const char *what, const char **out)
{
	if (!n || n->type != YAML_SCALAR_NODE)
		return pfail(c, n, "%s: expected a text value", what);
	if (!(*out = dk_arena_strndup(&c->pol->arena, (const char *)n->data.scalar.value, n->data.scalar.length)))
		return dk_err_set(c->err, DK_ENOMEM, "out of memory");
	return 0;
}

static bool valid_date(const char *s)
{
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return false;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return false;
	return !(s[5] > '1' || (s[5] == '1' && s[6] > '2') || (s[5] == '0' && s[6] == '0') || s[8] > '3' ||
		 (s[8] == '3' && s[9] > '1') || (s[8] == '0' && s[9] == '0'));
}

/* A list of words (urgencies or statuses), each checked by index. */
static int word_list(struct pctx *c, yaml_node_t *n, const char *what, bool *set, bool urgencies)
{
	if (n->type != YAML_SEQUENCE_NODE)
		return pfail(c, n, "%s: expected a list", what);
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		yaml_node_t *v = yaml_document_get_node(&c->doc, *it);
		const char *s;
		size_t len;
		int i;

		if (!v || v->type != YAML_SCALAR_NODE)
			return pfail(c, v, "%s: expected words", what);
		s = (const char *)v->data.scalar.value;
		len = v->data.scalar.length;
		if (urgencies) {
			if ((i = dk_urgency_index(s, len)) < 0)
				return pfail(c, v, "%s: unknown urgency '%.*s'", what, (int)len, s);
			set[i] = true;
		} else {
			enum dk_sec_status st;

			if (dk_sec_status_parse(s, len, &st) != 0 || !dk_sec_status_open(st))
				return pfail(c, v, "%s: unknown or not open status '%.*s'", what, (int)len, s);
			set[st] = true;
		}
	}
	return 0;
}

static int waiver(struct pctx *c, yaml_node_t *n, struct dk_waiver *w)
{
	int r;

	if (n->type != YAML_MAPPING_NODE)
		return pfail(c, n, "waiver: expected a mapping (cve, reason, expires)");
	memset(w, 0, sizeof(*w));
	w->line = (unsigned)n->start_mark.line + 1;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(&c->doc, p->key),
			    *v = yaml_document_get_node(&c->doc, p->value);

		if (scalar_is(k, "cve"))
			r = scalar(c, v, "cve", &w->cve);
		else if (scalar_is(k, "source"))
			r = scalar(c, v, "source", &w->source);
		else if (scalar_is(k, "reason"))
			r = scalar(c, v, "reason", &w->reason);
		else if (scalar_is(k, "expires"))
			r = scalar(c, v, "expires", &w->expires);
		else
			r = pfail(c, k, "waiver: unknown key '%s'",
				  k->type == YAML_SCALAR_NODE ? (const char *)k->data.scalar.value : "?");
		if (r < 0)
			return r;
	}
	if (!w->cve || !*w->cve)
		return pfail(c, n, "waiver without a cve");
	if (!w->reason || !*w->reason)
		return pfail(c, n, "waiver for %s without a reason", w->cve);
	if (!w->expires)
		return pfail(c, n, "waiver for %s without an expiry date (expires: YYYY-MM-DD)", w->cve);
	if (!valid_date(w->expires))
		return pfail(c, n, "waiver for %s: malformed expiry date '%s' (expected YYYY-MM-DD)", w->cve,
			     w->expires);
	return 0;
}

static int policy_root(struct pctx *c)
{
	yaml_node_t *root = yaml_document_get_root_node(&c->doc);
	bool seen_block = false;
	int r = 0;

	if (!root)
		return pfail(c, NULL, "empty policy");
	if (root->type != YAML_MAPPING_NODE)
		return pfail(c, root, "expected a mapping at the top");
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top && !r; p++) {
		yaml_node_t *k = yaml_document_get_node(&c->doc, p->key),
			    *v = yaml_document_get_node(&c->doc, p->value);

		if (scalar_is(k, "release")) {
			r = scalar(c, v, "release", &c->pol->release);
		} else if (scalar_is(k, "block-urgencies")) {
			seen_block = true;
			r = word_list(c, v, "block-urgencies", c->pol->block, true);
		} else if (scalar_is(k, "accept-statuses")) {
			r = word_list(c, v, "accept-statuses", c->pol->accept, false);
		} else if (scalar_is(k, "waivers")) {
			size_t n;

			if (v->type != YAML_SEQUENCE_NODE)
				return pfail(c, v, "waivers: expected a list");
			n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
			free(c->pol->waivers);
			if (!(c->pol->waivers = calloc(n ? n : 1, sizeof(struct dk_waiver))))
				return dk_err_set(c->err, DK_ENOMEM, "out of memory");
			c->pol->nwaivers = 0;
			for (size_t i = 0; i < n && !r; i++) {
				r = waiver(c, yaml_document_get_node(&c->doc, v->data.sequence.items.start[i]),
					   &c->pol->waivers[i]);
				c->pol->nwaivers += !r;
			}
		} else {
			r = pfail(c, k, "unknown key '%s'",
				  k->type == YAML_SCALAR_NODE ? (const char *)k->data.scalar.value : "?");
		}
	}
	/* Without a word on urgencies, everything blocks but what the tracker itself calls unimportant. */
	if (!r && !seen_block)
		for (int i = 1; i < DK_URGENCY_COUNT; i++)
			c->pol->block[i] = true;
	return r;
}

int dk_policy_load_mem(struct dk_policy *pol, const char *data, size_t len, const char *name, struct dk_err *err)
{
	struct pctx c;
	yaml_parser_t parser;
	unsigned char digest[32];
	int r;

	memset(&c, 0, sizeof(c));
	c.pol = pol;
	c.name = name;
	c.err = err;

	pol->filename = dk_arena_strdup(&pol->arena, name);
	if (dk_hash_mem(DK_SHA256, data, len, digest, err) < 0)
		return err ? err->code : DK_EINTERNAL;
	dk_hex(digest, sizeof(digest), pol->sha256);
	if (!yaml_parser_initialize(&parser))
		return dk_err_set(err, DK_ENOMEM, "out of memory");
	yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
	if (!yaml_parser_load(&parser, &c.doc)) {
		r = dk_err_set(err, DK_EINPUT, "%s:%zu: %s", name, parser.problem_mark.line + 1,
			       parser.problem ? parser.problem : "malformed YAML");
		yaml_parser_delete(&parser);
		return r;
	}
	r = policy_root(&c);
	yaml_document_delete(&c.doc);
	yaml_parser_delete(&parser);
	return r;
}

int dk_policy_load(struct dk_policy *pol, const char *path, struct dk_err *err)
{
	struct dk_buf b = DK_BUF_INIT;
	int r;

	if ((r = dk_read_file(path, &b, (size_t)1 << 24, err)) < 0)
		return r;
	r = dk_policy_load_mem(pol, b.data, b.len, path, err);
	dk_buf_release(&b);
	return r;
}

void dk_gate_result_release(struct dk_gate_result *res)
{
	free(res->verdicts);
	free(res->waiver);
	*res = (struct dk_gate_result)DK_GATE_RESULT_INIT;
}

int dk_gate_decide(struct dk_policy *pol, const struct dk_sec_report *rep, const char *today,
		   struct dk_gate_result *res, struct dk_err *err)
{
	size_t n = rep->nfindings ? rep->nfindings : 1;

	res->verdicts = calloc(n, sizeof(*res->verdicts));
	res->waiver = calloc(n, sizeof(*res->waiver));
	if (!res->verdicts || !res->waiver)
		return dk_err_set(err, DK_ENOMEM, "out of memory");
	for (size_t i = 0; i < pol->nwaivers; i++)
		pol->waivers[i].state =
			strcmp(pol->waivers[i].expires, today) < 0 ? DK_WAIVER_EXPIRED : DK_WAIVER_UNUSED;
	for (size_t i = 0; i < rep->nfindings; i++) {
		const struct dk_sec_finding *f = &rep->findings[i];
		int u = dk_urgency_index(f->urgency, strlen(f->urgency));
		enum dk_verdict v;

		if (!dk_sec_status_open(f->status))
			continue;
		for (size_t w = 0; w < pol->nwaivers && !res->waiver[i]; w++) {
			struct dk_waiver *wv = &pol->waivers[w];

			if (wv->state != DK_WAIVER_EXPIRED && strcmp(wv->cve, f->cve) == 0 &&
			    (!wv->source || strcmp(wv->source, f->source) == 0)) {
				res->waiver[i] = wv;
				wv->state = DK_WAIVER_APPLIED;
			}
		}
		if (res->waiver[i])
			v = DK_VERDICT_WAIVED;
		else if (pol->accept[f->status])
			v = DK_VERDICT_ACCEPTED;
		/* An urgency the policy does not know is treated as blocking: unknown is not safe. */
		else if (u < 0 || pol->block[u])
			v = DK_VERDICT_BLOCKING;
		else
			v = DK_VERDICT_TOLERATED;
		res->verdicts[i] = v;
		res->counts[v]++;
	}
	res->pass = res->counts[DK_VERDICT_BLOCKING] == 0;
	return 0;
}

static json_t *words(const char *s)
{
	json_t *a = json_array();

	while (a && s && *s) {
		const char *e = strchr(s, ' ');
		size_t n = e ? (size_t)(e - s) : strlen(s);

		if (n)
			json_array_append_new(a, json_stringn(s, n));
		s += n + (e != NULL);
	}
	return a;
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

json_t *dk_sec_finding_json(const struct dk_sec_finding *f)
{
	return json_pack("{s:s, s:s, s:s, s:o, s:s, s:s, s:o, s:b, s:o, s:o, s:o, s:o, s:o, s:o}", "cve", f->cve,
			 "source", f->source, "version", f->installed, "binaries", words(f->binaries), "status",
			 dk_sec_status_name(f->status), "urgency", f->urgency, "fixed_version", str_or_null(f->fixed),
			 "fix_in_archive", f->fix_in_archive, "advisories", words(f->advisories), "references",
			 words(f->references), "available_version", str_or_null(f->available), "bug",
			 f->bug ? json_integer(f->bug) : json_null(), "note", str_or_null(f->note), "description",
			 str_or_null(f->description));
}

json_t *dk_sec_reserved_json(const struct dk_sec_finding *f)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:b, s:o, s:o}", "cve", f->cve, "source", f->source,
			 "version", f->installed, "named_in", f->named_in_note ? "note" : "package line", "status",
			 dk_sec_status_name(f->status), "urgency", f->urgency, "fixed_version", str_or_null(f->fixed),
			 "fix_in_archive", f->fix_in_archive, "note", str_or_null(f->note), "description",
			 str_or_null(f->description));
}

json_t *dk_gate_evidence_json(const struct dk_policy *pol, const struct dk_sec_report *rep,
			      const struct dk_gate_result *res, const struct dk_gate_context *ctx)
{
	json_t *blocks = json_array(), *accepts = json_array(), *findings = json_array(), *waivers = json_array();
	json_t *reserved = json_array();

	if (!blocks || !accepts || !findings || !waivers || !reserved)
		goto oom;
	for (int i = 0; i < DK_URGENCY_COUNT; i++)
		if (pol->block[i])
			json_array_append_new(blocks, json_string(urgency_names[i]));
	for (int i = 0; i < DK_SEC_STATUS_COUNT; i++)
		if (pol->accept[i])
			json_array_append_new(accepts, json_string(dk_sec_status_name((enum dk_sec_status)i)));
	for (size_t i = 0; i < rep->nfindings; i++) {
		const struct dk_sec_finding *f = &rep->findings[i];
		json_t *j;

		if (!dk_sec_status_open(f->status))
			continue;
		if (!(j = dk_sec_finding_json(f)))
			goto oom;
		json_object_set_new(j, "verdict", json_string(dk_verdict_name(res->verdicts[i])));
		if (res->waiver[i])
			json_object_set_new(j, "waiver",
					    json_pack("{s:s, s:s, s:i}", "reason", res->waiver[i]->reason, "expires",
						      res->waiver[i]->expires, "line", (int)res->waiver[i]->line));
		json_array_append_new(findings, j);
	}
	for (size_t i = 0; i < pol->nwaivers; i++) {
		const struct dk_waiver *w = &pol->waivers[i];
		static const char *const states[] = { "unused", "applied", "expired" };

		json_array_append_new(waivers, json_pack("{s:s, s:o, s:s, s:s, s:s, s:i}", "cve", w->cve, "source",
							 str_or_null(w->source), "reason", w->reason, "expires",
							 w->expires, "state", states[w->state], "line", (int)w->line));
	}
	for (size_t i = 0; i < rep->nreserved; i++)
		json_array_append_new(reserved, dk_sec_reserved_json(&rep->reserved[i]));
	return json_pack(
		"{s:i, s:s, s:s, s:s, s:{s:s, s:s, s:o, s:o}, s:{s:s, s:s, s:s, s:I, s:I}, s:o, s:{s:s, s:s, s:s, "
		"s:I, s:I, s:I}, s:{s:I, s:I, s:I, s:I, s:I}, s:o, s:o, s:o}",
		"evidence_format", 1, "decision", res->pass ? "pass" : "fail", "date", ctx->today, "release",
		rep->release, "policy", "path", pol->filename ? pol->filename : "", "sha256", pol->sha256,
		"block_urgencies", blocks, "accept_statuses", accepts, "target", "path", ctx->target_path, "kind",
		dk_sec_target_kind_name(ctx->target->kind), "sha256", ctx->target->sha256, "packages",
		(json_int_t)ctx->target->npkgs, "sources", (json_int_t)rep->sources, "snapshot",
		ctx->snapshot_digest ? json_pack("{s:s}", "digest", ctx->snapshot_digest) : json_null(), "tracker",
		"date", ctx->tracker->data_date, "source", ctx->tracker->source, "loaded_at", ctx->tracker->loaded_at,
		"entries", (json_int_t)ctx->tracker->entries, "package_lines", (json_int_t)ctx->tracker->fixes,
		"advisories", (json_int_t)ctx->tracker->advisories, "summary", "open",
		(json_int_t)json_array_size(findings), "blocking", (json_int_t)res->counts[DK_VERDICT_BLOCKING],
		"accepted", (json_int_t)res->counts[DK_VERDICT_ACCEPTED], "waived",
		(json_int_t)res->counts[DK_VERDICT_WAIVED], "tolerated", (json_int_t)res->counts[DK_VERDICT_TOLERATED],
		"findings", findings, "waivers", waivers, "reserved", reserved);
oom:
	json_decref(blocks);
	json_decref(accepts);
	json_decref(findings);
	json_decref(waivers);
	json_decref(reserved);
	return NULL;
}

static void esc(struct dk_buf *b, const char *s)
{
	if (s)
		dk_buf_add_html(b, s, strlen(s));
}

static const char *jstr(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

static void cell(struct dk_buf *b, const char *s)
{
	dk_buf_adds(b, "<td>");
	esc(b, s);
	dk_buf_adds(b, "</td>");
}

static void cell_words(struct dk_buf *b, const json_t *a)
{
	size_t i;
	json_t *v;

	dk_buf_adds(b, "<td>");
	json_array_foreach(a, i, v)
	{
		if (i)
			dk_buf_addc(b, ' ');
		esc(b, json_string_value(v));
	}
	dk_buf_adds(b, "</td>");
}

static void row_kv(struct dk_buf *b, const char *k, const char *v)
{
	dk_buf_adds(b, "<tr><th>");
	esc(b, k);
	dk_buf_adds(b, "</th>");
	cell(b, v);
	dk_buf_adds(b, "</tr>\n");
}

int dk_gate_evidence_html(const json_t *ev, struct dk_buf *b, struct dk_err *err)
{
	const json_t *pol = json_object_get(ev, "policy"), *tg = json_object_get(ev, "target");
	const json_t *tr = json_object_get(ev, "tracker"), *sum = json_object_get(ev, "summary");
	const json_t *snap = json_object_get(ev, "snapshot"), *v;
	bool pass = strcmp(jstr(ev, "decision"), "pass") == 0;
	char num[32];
	size_t i;

	dk_buf_adds(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>Release gate: ");
	esc(b, jstr(ev, "decision"));
	dk_buf_adds(b, " (");
	esc(b, jstr(ev, "release"));
	dk_buf_adds(b, ")</title>\n<style>\n"
		       "body{font-family:sans-serif;margin:2em;color:#222}\n"
		       "table{border-collapse:collapse;margin:1em 0}\n"
		       "th,td{border:1px solid #bbb;padding:.25em .5em;text-align:left;vertical-align:top}\n"
		       "th{background:#eee}\n.pass{color:#070}.fail{color:#a00}\n"
		       "tr.blocking td{background:#fdd}tr.waived td{background:#eef}tr.accepted td{background:#efe}\n"
		       "td.mono,.mono{font-family:monospace}\n</style></head><body>\n<h1>Release gate: <span class=\"");
	dk_buf_adds(b, pass ? "pass\">PASS" : "fail\">FAIL");
	dk_buf_adds(b, "</span></h1>\n<h2>Subject</h2>\n<table>\n");
	row_kv(b, "Date", jstr(ev, "date"));
	row_kv(b, "Release", jstr(ev, "release"));
	row_kv(b, "Target", jstr(tg, "path"));
	row_kv(b, "Target kind", jstr(tg, "kind"));
	row_kv(b, "Target SHA-256", jstr(tg, "sha256"));
	row_kv(b, "Snapshot digest", json_is_object(snap) ? jstr(snap, "digest") : "none given");
	row_kv(b, "Policy", jstr(pol, "path"));
	row_kv(b, "Policy SHA-256", jstr(pol, "sha256"));
	row_kv(b, "Tracker data date", jstr(tr, "date"));
	row_kv(b, "Tracker data source", jstr(tr, "source"));
	row_kv(b, "Tracker data loaded", jstr(tr, "loaded_at"));
	dk_buf_adds(b, "</table>\n<h2>Summary</h2>\n<table>\n");
	for (const char *const *k =
		     (const char *const[]){ "open", "blocking", "accepted", "waived", "tolerated", NULL };
	     *k; k++) {
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(json_object_get(sum, *k)));
		row_kv(b, *k, num);
	}
	dk_buf_adds(b, "</table>\n<p>Blocking urgencies: ");
	json_array_foreach(json_object_get(pol, "block_urgencies"), i, v)
	{
		if (i)
			dk_buf_adds(b, ", ");
		esc(b, json_string_value(v));
	}
	dk_buf_adds(b, ". Accepted statuses: ");
	json_array_foreach(json_object_get(pol, "accept_statuses"), i, v)
	{
		if (i)
			dk_buf_adds(b, ", ");
		esc(b, json_string_value(v));
	}
	dk_buf_adds(b, ".</p>\n<h2>Findings</h2>\n<table>\n<tr><th>Verdict</th><th>CVE</th><th>Source</th>"
		       "<th>Version</th><th>Status</th><th>Urgency</th><th>Fixed version</th><th>Advisories</th>"
		       "<th>Waiver / note</th></tr>\n");
	json_array_foreach(json_object_get(ev, "findings"), i, v)
	{
		const json_t *w = json_object_get(v, "waiver");

		dk_buf_adds(b, "<tr class=\"");
		esc(b, jstr(v, "verdict"));
		dk_buf_adds(b, "\">");
		cell(b, jstr(v, "verdict"));
		cell(b, jstr(v, "cve"));
		cell(b, jstr(v, "source"));
		cell(b, jstr(v, "version"));
		cell(b, jstr(v, "status"));
		cell(b, jstr(v, "urgency"));
		cell(b, jstr(v, "fixed_version"));
		cell_words(b, json_object_get(v, "advisories"));
		if (w) {
			dk_buf_adds(b, "<td>");
			esc(b, jstr(w, "reason"));
			dk_buf_adds(b, " (until ");
			esc(b, jstr(w, "expires"));
			dk_buf_adds(b, ")</td>");
		} else {
			cell(b, jstr(v, "note"));
		}
		dk_buf_adds(b, "</tr>\n");
	}
	dk_buf_adds(b, "</table>\n<h2>Waivers</h2>\n<table>\n<tr><th>CVE</th><th>Source</th><th>Reason</th>"
		       "<th>Expires</th><th>State</th></tr>\n");
	json_array_foreach(json_object_get(ev, "waivers"), i, v)
	{
		dk_buf_adds(b, "<tr>");
		cell(b, jstr(v, "cve"));
		cell(b, json_is_string(json_object_get(v, "source")) ? jstr(v, "source") : "(any)");
		cell(b, jstr(v, "reason"));
		cell(b, jstr(v, "expires"));
		cell(b, jstr(v, "state"));
		dk_buf_adds(b, "</tr>\n");
	}
	dk_buf_adds(b, "</table>\n<h2>Reserved CVEs naming packages of the target</h2>\n<table>\n"
		       "<tr><th>CVE</th><th>Source</th><th>Version</th><th>Status</th><th>Fixed in</th>"
		       "<th>Named in</th><th>Note</th></tr>\n");
	json_array_foreach(json_object_get(ev, "reserved"), i, v)
	{
		dk_buf_adds(b, "<tr>");
		cell(b, jstr(v, "cve"));
		cell(b, jstr(v, "source"));
		cell(b, jstr(v, "version"));
		cell(b, jstr(v, "status"));
		cell(b, json_is_string(json_object_get(v, "fixed_version")) ? jstr(v, "fixed_version") : "");
		cell(b, jstr(v, "named_in"));
		cell(b, json_is_string(json_object_get(v, "note")) ? jstr(v, "note") : "");
		dk_buf_adds(b, "</tr>\n");
	}
	dk_buf_adds(b, "</table>\n</body></html>\n");
	return dk_buf_check(b, err, "the HTML evidence");
}
