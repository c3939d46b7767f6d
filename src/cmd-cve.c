/* cmd-cve.c - debkeep cve update|scan|diff|info: the security tracker's data and what it says of a target */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <debkeep/buf.h>
#include <debkeep/db.h>
#include <debkeep/fs.h>
#include <debkeep/gate.h>
#include <debkeep/sec.h>
#include <debkeep/tracker.h>

#include "cli.h"

static const char update_usage[] =
	"usage: debkeep cve update --from DIR|FILE [--from ...] [--date YYYY-MM-DD]\n\n"
	"Load the Debian security tracker's data into the data root, replacing what was there in one\n"
	"transaction (a failure keeps the previous data). DIR is a checkout of the tracker's git\n"
	"repository (data/CVE/list, data/DSA/list, data/DLA/list, data/DTSA/list, those present);\n"
	"FILE is one of those files or the tracker's JSON export, recognised by its content.\n\n"
	"  --from P   what to load (repeatable: all of them form the new data)\n"
	"  --date D   the data's date, recorded as evidence (default: the newest advisory's date,\n"
	"             else the newest input file's modification date)\n"
	"  --json     print the summary as JSON\n";

static const char scan_usage[] =
	"usage: debkeep cve scan TARGET|--snapshot NAME --release R [--format table|json|csv|openvex]\n"
	"                        [--all] [--only-fixable] [--available INDEX] [--tracker P] [-o FILE]\n\n"
	"Report what the loaded tracker data says of every source package in TARGET for release R:\n"
	"per (CVE, source) the status (vulnerable, no-dsa, postponed, ignored, end-of-life,\n"
	"undetermined; with --all also fixed and not-affected), urgency, fixed version, advisories\n"
	"and whether the release's archive has the fix. RESERVED CVEs that name a source of the\n"
	"target (in a package line, or only in a NOTE) are listed separately. TARGET is a dpkg status\n"
	"file, a manifest (docs/security.md), an image tar (its var/lib/dpkg/status) or snapshot:NAME,\n"
	"a snapshot of the data root.\n\n"
	"  --release R     the Debian release the target is built from (bookworm...)\n"
	"  --snapshot NAME the snapshot NAME of the data root as the target (same as snapshot:NAME)\n"
	"  --format F      table (default), json, csv or openvex (OpenVEX 0.2.0; includes fixed and\n"
	"                  not-affected statements unless --only-fixable)\n"
	"  --all           also list fixed and not-affected entries\n"
	"  --only-fixable  only what an upgrade from the release's archive (or --available) would fix\n"
	"  --available F   a Packages or Sources index (any compression) or snapshot:NAME: say which\n"
	"                  fixes it already holds\n"
	"  -o FILE         write the output to FILE (atomically) instead of standard output\n"
	"  --tracker P     read the tracker's files (a checkout, a list or the JSON export) instead of\n"
	"                  the data loaded into the data root; only the target's sources are kept\n"
	"  --json          same as --format json\n\n"
	"Exit status: 0 nothing listed is open, 1 something is, 2 error.\n";

static const char diff_usage[] =
	"usage: debkeep cve diff OLD NEW | --snapshot OLD --snapshot NEW --release R [--tracker P] [--json]\n\n"
	"Compare two targets (dpkg status files, manifests, image tars or snapshot:NAME), grouped by\n"
	"source package: the open CVEs that NEW fixes (open in OLD, not in NEW), those it introduces\n"
	"(open in NEW, not in OLD) and those still open in both.\n\n"
	"Exit status: 0 nothing fixed or introduced, 1 something is, 2 error.\n";

static const char info_usage[] = "usage: debkeep cve info [--json]\n\n"
				 "Show what the last 'cve update' loaded: its source, the data's date, counts.\n";

enum scan_format { FMT_TABLE, FMT_JSON, FMT_CSV, FMT_OPENVEX };

/*
 * The data root's database and the tracker data in it, opened once for the update's record and the scans.
 * Read-only: a reader neither sets up the journal nor runs the layout statements, and takes no lock.
 */
static int open_data(struct cli *cli, struct dk_sec_data *d, struct dk_sec_meta *meta, struct dk_err *err)
{
	int r = dk_sec_data_open_root(cli->root, d, err);

	if (r == 0 && (r = dk_sec_data_meta(d, meta, err)) != 0)
		dk_sec_data_close(d);
	return r == DK_NOTFOUND ? (err->code = DK_EINPUT) : r;
}

/* --- update --- */

static int cmd_update(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "date", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct dk_tracker t = DK_TRACKER_INIT;
	struct dk_err err = DK_ERR_INIT;
	struct dk_db db = DK_DB_INIT;
	struct dk_buf source = DK_BUF_INIT;
	const char *date = NULL;
	char mdate[11] = "";
	int c, r, code;

	optind = 0;
	while ((c = getopt_long(argc, argv, "f:d:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (source.len)
				dk_buf_addc(&source, ' ');
			dk_buf_adds(&source, optarg);
			break;
		case 'd':
			date = optarg;
			break;
		case 'j':
			cli->json = true;
			break;
		case 'h':
			fputs(update_usage, stdout);
			dk_buf_release(&source);
			return EXIT_OK;
		default:
			dk_buf_release(&source);
			return cli_usage(cli, "cve update: bad option");
		}
	}
	if (optind < argc || !source.len) {
		dk_buf_release(&source);
		return cli_usage(cli,
				 optind < argc ? "cve update: unexpected argument '%s'"
					       : "cve update: --from is required%s",
				 optind < argc ? argv[optind] : "");
	}
	if (date && (strlen(date) != 10 || date[4] != '-' || date[7] != '-')) {
		dk_buf_release(&source);
		return cli_usage(cli, "cve update: --date expects YYYY-MM-DD, not '%s'", date);
	}
	/* Every input is parsed before the database is touched: bad input leaves the old data alone. */
	optind = 0;
	while ((c = getopt_long(argc, argv, "f:d:h", opts, NULL)) != -1) {
		struct stat st;

		if (c != 'f')
			continue;
		if ((r = dk_tracker_load(&t, optarg, &err)) < 0)
			goto fail;
		if (stat(optarg, &st) == 0) {
			struct tm tm;
			char d[11];

			gmtime_r(&st.st_mtime, &tm);
			strftime(d, sizeof(d), "%Y-%m-%d", &tm);
			if (strcmp(d, mdate) > 0)
				memcpy(mdate, d, sizeof(d));
		}
	}
	if (!date)
		date = t.newest[0] ? t.newest : mdate;
	if ((r = dk_db_open(&db, cli->root, DK_DB_CREATE, &err)) < 0 ||
	    (r = dk_sec_store(&db, &t, source.data, date, &err)) < 0)
		goto fail;
	{
		struct dk_sec_meta m = DK_SEC_META_INIT;

		if ((r = dk_sec_meta_get(&db, &m, &err)) != 0)
			goto fail;
		if (cli->json)
			code = cli_json_out(json_pack("{s:s, s:s, s:s, s:I, s:I, s:I}", "source", m.source, "date",
						      m.data_date, "loaded_at", m.loaded_at, "entries",
						      (json_int_t)m.entries, "package_lines", (json_int_t)m.fixes,
						      "advisories", (json_int_t)m.advisories));
		else
			code = printf("loaded %ld entries, %ld package lines, %ld advisories (data of %s)\n", m.entries,
				      m.fixes, m.advisories, m.data_date) < 0
				       ? EXIT_INTERNAL
				       : EXIT_OK;
		dk_sec_meta_release(&m);
	}
	dk_db_close(&db);
	dk_tracker_release(&t);
	dk_buf_release(&source);
	return code;
fail:
	dk_db_close(&db);
	dk_tracker_release(&t);
	dk_buf_release(&source);
	return cli_fail(&err);
}

/* --- scan --- */

struct scan_opts {
	const char *release;
	const char *tracker;   /* --tracker: read the data from files instead of the data root */
	const char *available; /* --available: the index (archive, snapshot) upgrades come from */
	const char *output;
	char *snapshots[2]; /* --snapshot NAME, as "snapshot:NAME" */
	int nsnapshots;
	enum scan_format format;
	bool all, only_fixable;
};

static void scan_opts_release(struct scan_opts *o)
{
	for (int i = 0; i < o->nsnapshots; i++)
		free(o->snapshots[i]);
	o->nsnapshots = 0;
}

/* An upgrade would fix it: from the release's archive, or from the --available index when given. */
static bool upgrade_fixes(const struct scan_opts *o, const struct dk_sec_finding *f)
{
	return dk_sec_status_open(f->status) && (o->available ? f->available != NULL : f->fix_in_archive);
}

static bool shown(const struct scan_opts *o, const struct dk_sec_finding *f)
{
	if (o->only_fixable)
		return upgrade_fixes(o, f);
	return o->all || o->format == FMT_OPENVEX || dk_sec_status_open(f->status);
}

/*
 * A report on standard output goes out as it is made, 64 KiB at a time:
 * a buffer the size of the whole report is fresh memory to fault in (a
 * tenth of a scan's time). stream is NULL for -o FILE, written whole and
 * atomically at the end.
 */
static void spill(struct dk_buf *b, FILE *stream)
{
	if (stream && b->len >= 65536 && !b->failed) {
		fwrite(b->data, 1, b->len, stream);
		dk_buf_reset(b);
	}
}

static void csv_field(struct dk_buf *b, const char *s, bool last)
{
	if (s && strpbrk(s, ",\"\n\r")) {
		dk_buf_addc(b, '"');
		for (; *s; s++) {
			if (*s == '"')
				dk_buf_addc(b, '"');
			dk_buf_addc(b, *s);
		}
		dk_buf_addc(b, '"');
	} else if (s) {
		dk_buf_adds(b, s);
	}
	dk_buf_addc(b, last ? '\n' : ',');
}

static void render_csv(const struct scan_opts *o, const struct dk_sec_report *rep, struct dk_buf *b, FILE *stream)
{
	dk_buf_adds(b, o->available
			       ? "cve,source,version,status,urgency,fixed_version,fix_in_archive,advisories,binaries,"
				 "bug,note,available_version\n"
			       : "cve,source,version,status,urgency,fixed_version,fix_in_archive,advisories,binaries,"
				 "bug,note\n");
	for (size_t i = 0; i < rep->nfindings; i++) {
		const struct dk_sec_finding *f = &rep->findings[i];
		char bug[16] = "";

		if (!shown(o, f))
			continue;
		if (f->bug)
			snprintf(bug, sizeof(bug), "%u", f->bug);
		csv_field(b, f->cve, false);
		csv_field(b, f->source, false);
		csv_field(b, f->installed, false);
		csv_field(b, dk_sec_status_name(f->status), false);
		csv_field(b, f->urgency, false);
		csv_field(b, f->fixed, false);
		csv_field(b, f->fix_in_archive ? "yes" : "no", false);
		csv_field(b, f->advisories, false);
		csv_field(b, f->binaries, false);
		csv_field(b, bug, false);
		csv_field(b, f->note, !o->available);
		if (o->available)
			csv_field(b, f->available, true);
		spill(b, stream);
	}
}

static size_t max_sz(size_t a, size_t b)
{
	return a > b ? a : b;
}

/* s, then spaces up to width, then the two spaces between columns. */
static void pad_col(struct dk_buf *b, const char *s, size_t width)
{
	size_t n = strlen(s), fill = (n < width ? width - n : 0) + 2;

	if (dk_buf_grow(b, n + fill) < 0)
		return;
	memcpy(b->data + b->len, s, n);
	memset(b->data + b->len + n, ' ', fill);
	b->len += n + fill;
	b->data[b->len] = '\0';
}

static void render_table(const struct scan_opts *o, const struct dk_sec_report *rep, const struct dk_sec_meta *m,
			 struct dk_buf *b, FILE *stream)
{
	size_t w[5] = { 3, 6, 9, 6, 7 }, counts[DK_SEC_STATUS_COUNT] = { 0 }, fixable = 0, rows = 0;

	for (size_t i = 0; i < rep->nfindings; i++) {
		const struct dk_sec_finding *f = &rep->findings[i];

		if (!shown(o, f))
			continue;
		w[0] = max_sz(w[0], strlen(f->cve));
		w[1] = max_sz(w[1], strlen(f->source));
		w[2] = max_sz(w[2], strlen(f->installed));
		w[3] = max_sz(w[3], strlen(dk_sec_status_name(f->status)));
		w[4] = max_sz(w[4], strlen(f->urgency));
	}
	for (size_t i = 0; i < rep->nfindings; i++) {
		const struct dk_sec_finding *f = &rep->findings[i];

		if (!shown(o, f))
			continue;
		if (!rows++)
			dk_buf_addf(b, "%-*s  %-*s  %-*s  %-*s  %-*s  %s\n", (int)w[0], "CVE", (int)w[1], "SOURCE",
				    (int)w[2], "INSTALLED", (int)w[3], "STATUS", (int)w[4], "URGENCY",
				    "FIXED (ARCHIVE) ADVISORIES");
		counts[f->status]++;
		fixable += upgrade_fixes(o, f);
		/* Thousands of rows: columns padded by hand, printf's %-*s costs more than the scan. */
		pad_col(b, f->cve, w[0]);
		pad_col(b, f->source, w[1]);
		pad_col(b, f->installed, w[2]);
		pad_col(b, dk_sec_status_name(f->status), w[3]);
		pad_col(b, f->urgency, w[4]);
		dk_buf_adds(b, f->fixed ? f->fixed : "-");
		dk_buf_adds(b, !f->fixed                      ? ""
			       : o->available && f->available ? " (available)"
			       : f->fix_in_archive            ? " (yes)"
							      : " (unstable)");
		if (*f->advisories) {
			dk_buf_addc(b, ' ');
			dk_buf_adds(b, f->advisories);
		}
		dk_buf_addc(b, '\n');
		spill(b, stream);
	}
	if (rep->nreserved) {
		dk_buf_adds(b, rows ? "\nRESERVED CVEs naming sources of the target:\n"
				    : "RESERVED CVEs naming sources of the target:\n");
		for (size_t i = 0; i < rep->nreserved; i++) {
			const struct dk_sec_finding *f = &rep->reserved[i];

			dk_buf_addf(b, "%s  %s %s  ", f->cve, f->source, f->installed);
			if (f->named_in_note)
				dk_buf_addf(b, "named in a NOTE: %.*s\n", (int)strcspn(f->note, "\n"), f->note);
			else if (f->fixed)
				dk_buf_addf(b, "%s  %s  %s (%s)\n", dk_sec_status_name(f->status), f->urgency, f->fixed,
					    f->fix_in_archive ? "yes" : "unstable");
			else
				dk_buf_addf(b, "%s  %s\n", dk_sec_status_name(f->status), f->urgency);
		}
	}
	dk_buf_addf(b, "%s%zu listed for %s (%zu sources; tracker data of %s):", rows || rep->nreserved ? "\n" : "",
		    rows, rep->release, rep->sources, m->data_date);
	for (int s = 0; s < DK_SEC_STATUS_COUNT; s++)
		if (counts[s])
			dk_buf_addf(b, " %zu %s,", counts[s], dk_sec_status_name((enum dk_sec_status)s));
	dk_buf_addf(b, " %zu fixable by an upgrade, %zu reserved\n", fixable, rep->nreserved);
}

static json_t *report_json(const struct scan_opts *o, const struct dk_sec_report *rep, const struct dk_sec_meta *m,
			   const char *path, const struct dk_sec_target *tg)
{
	json_t *findings = json_array(), *reserved = json_array(), *summary = json_object();
	size_t counts[DK_SEC_STATUS_COUNT] = { 0 }, fixable = 0;

	for (size_t i = 0; i < rep->nfindings; i++) {
		const struct dk_sec_finding *f = &rep->findings[i];

		if (!shown(o, f))
			continue;
		counts[f->status]++;
		fixable += upgrade_fixes(o, f);
		json_array_append_new(findings, dk_sec_finding_json(f));
	}
	for (int s = 0; s < DK_SEC_STATUS_COUNT; s++)
		json_object_set_new(summary, dk_sec_status_name((enum dk_sec_status)s),
				    json_integer((json_int_t)counts[s]));
	json_object_set_new(summary, "fixable", json_integer((json_int_t)fixable));
	for (size_t i = 0; i < rep->nreserved; i++)
		json_array_append_new(reserved, dk_sec_reserved_json(&rep->reserved[i]));
	return json_pack("{s:s, s:{s:s, s:s, s:s}, s:{s:s, s:s, s:s, s:I, s:I}, s:o, s:o, s:o}", "release",
			 rep->release, "tracker", "date", m->data_date, "source", m->source, "loaded_at", m->loaded_at,
			 "target", "path", path, "kind", dk_sec_target_kind_name(tg->kind), "sha256", tg->sha256,
			 "packages", (json_int_t)tg->npkgs, "sources", (json_int_t)rep->sources, "summary", summary,
			 "findings", findings, "reserved", reserved);
}

/* OpenVEX 0.2.0: one statement per (CVE, source version); the product is the source package's purl. */
static json_t *report_openvex(const struct scan_opts *o, const struct dk_sec_report *rep, const struct dk_sec_meta *m,
			      const struct dk_sec_target *tg)
{
	json_t *stmts = json_array();
	char id[160], ts[32];

	for (size_t i = 0; i < rep->nfindings; i++) {
		const struct dk_sec_finding *f = &rep->findings[i];
		struct dk_buf purl = DK_BUF_INIT, action = DK_BUF_INIT;
		json_t *s;

		if (!shown(o, f))
			continue;
		dk_buf_addf(&purl, "pkg:deb/debian/%s@%s?arch=source", f->source, f->installed);
		s = json_pack("{s:{s:s}, s:[{s:s}]}", "vulnerability", "name", f->cve, "products", "@id", purl.data);
		switch (f->status) {
		case DK_SEC_FIXED:
			json_object_set_new(s, "status", json_string("fixed"));
			break;
		case DK_SEC_NOT_AFFECTED:
			json_object_set_new(s, "status", json_string("not_affected"));
			json_object_set_new(s, "justification", json_string("vulnerable_code_not_present"));
			json_object_set_new(
				s, "impact_statement",
				json_string(f->note ? f->note
						    : "not affected according to the Debian security tracker"));
			break;
		case DK_SEC_UNDETERMINED:
			json_object_set_new(s, "status", json_string("under_investigation"));
			break;
		default:
			json_object_set_new(s, "status", json_string("affected"));
			if (f->fix_in_archive)
				dk_buf_addf(&action, "upgrade %s to %s or later", f->source, f->fixed);
			else
				dk_buf_addf(&action, "no fix in %s yet (Debian: %s%s%s)", rep->release,
					    dk_sec_status_name(f->status), f->note ? ": " : "", f->note ? f->note : "");
			json_object_set_new(s, "action_statement", json_string(action.data));
			break;
		}
		json_array_append_new(stmts, s);
		dk_buf_release(&purl);
		dk_buf_release(&action);
	}
	/* Deterministic for the same data and target: the timestamp is the data's date, the id names the target. */
	snprintf(ts, sizeof(ts), "%.10sT00:00:00Z", m->data_date);
	snprintf(id, sizeof(id), "urn:debkeep:vex:%s:%s:%.10s", tg->sha256, rep->release, m->data_date);
	return json_pack("{s:s, s:s, s:s, s:s, s:i, s:s, s:o}", "@context", "https://openvex.dev/ns/v0.2.0", "@id", id,
			 "author", "debkeep", "timestamp", ts, "version", 1, "tooling", "debkeep cve scan",
			 "statements", stmts);
}

static int parse_scan_opts(struct cli *cli, int argc, char **argv, struct scan_opts *o, const char *usage, int nargs,
			   char **args)
{
	static const struct option opts[] = {
		{ "release", required_argument, NULL, 'r' }, { "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },  { "all", no_argument, NULL, 'a' },
		{ "only-fixable", no_argument, NULL, 'F' },  { "json", no_argument, NULL, 'j' },
		{ "tracker", required_argument, NULL, 't' }, { "available", required_argument, NULL, 'A' },
		{ "snapshot", required_argument, NULL, 'S' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, npos;

	o->format = cli->json ? FMT_JSON : FMT_TABLE;
	optind = 0;
	while ((c = getopt_long(argc, argv, "r:f:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			o->release = optarg;
			break;
		case 'f':
			if (strcmp(optarg, "table") == 0)
				o->format = FMT_TABLE;
			else if (strcmp(optarg, "json") == 0)
				o->format = FMT_JSON;
			else if (strcmp(optarg, "csv") == 0)
				o->format = FMT_CSV;
			else if (strcmp(optarg, "openvex") == 0)
				o->format = FMT_OPENVEX;
			else
				return cli_usage(cli, "unknown format '%s' (table, json, csv, openvex)", optarg);
			break;
		case 'o':
			o->output = optarg;
			break;
		case 't':
			o->tracker = optarg;
			break;
		case 'A':
			o->available = optarg;
			break;
		case 'S': {
			size_t n = strlen(DK_SEC_SNAPSHOT_PREFIX) + strlen(optarg) + 1;

			if (o->nsnapshots == nargs)
				return cli_usage(cli, "too many --snapshot options (%d at most)", nargs);
			if (!(o->snapshots[o->nsnapshots] = malloc(n)))
				return cli_usage(cli, "out of memory");
			snprintf(o->snapshots[o->nsnapshots++], n, "%s%s", DK_SEC_SNAPSHOT_PREFIX, optarg);
			break;
		}
		case 'a':
			o->all = true;
			break;
		case 'F':
			o->only_fixable = true;
			break;
		case 'j':
			cli->json = true;
			o->format = FMT_JSON;
			break;
		case 'h':
			fputs(usage, stdout);
			return -1;
		default:
			return cli_usage(cli, "bad option");
		}
	}
	npos = argc - optind;
	/* getopt reorders: which of a file and a --snapshot is the old one would be a guess. */
	if (o->nsnapshots && npos)
		return cli_usage(cli, "give the targets as arguments or as --snapshot options, not both (snapshot:NAME "
				      "names a snapshot among arguments)");
	if (npos + o->nsnapshots != nargs)
		return cli_usage(cli, nargs == 1 ? "expected one TARGET" : "expected OLD and NEW");
	for (int i = 0; i < nargs; i++)
		args[i] = o->nsnapshots ? o->snapshots[i] : argv[optind + i];
	if (!o->release)
		return cli_usage(cli, "--release is required (the Debian release of the target, e.g. bookworm)");
	return 0;
}

static int emit(const char *output, struct dk_buf *b, struct dk_err *err)
{
	if (dk_buf_check(b, err, "the report") < 0)
		return EXIT_INTERNAL;
	if (output)
		return dk_write_file_atomic(output, b->data, b->len, 0644, err) < 0 ? EXIT_INPUT : EXIT_OK;
	return fwrite(b->data, 1, b->len, stdout) == b->len && !ferror(stdout) ? EXIT_OK : EXIT_INTERNAL;
}

/* The target's digest, when the output shows it (the table and CSV do not: dk_sec_target_digest). */
static int open_target(struct cli *cli, const struct scan_opts *o, const char *path, struct dk_sec_target *tg,
		       struct dk_err *err)
{
	int r = dk_sec_target_open(tg, path, cli->root, err);

	if (r == 0 && (o->format == FMT_JSON || o->format == FMT_OPENVEX))
		r = dk_sec_target_digest(tg, err);
	return r;
}

static int scan_target(struct cli *cli, struct dk_sec_data *d, const char *path, const struct scan_opts *o,
		       struct dk_sec_target *tg, struct dk_sec_report *rep, struct dk_err *err)
{
	int r;

	if ((r = open_target(cli, o, path, tg, err)) < 0)
		return r;
	return dk_sec_scan_data(d, tg, o->release, rep, err);
}

/* --tracker: the tracker's files read for this scan only; the data's date is the newest advisory's. */
static int scan_files(struct cli *cli, const char *path, const struct scan_opts *o, struct dk_sec_target *tg,
		      struct dk_sec_report *rep, struct dk_tracker *t, struct dk_sec_meta *m, struct dk_err *err)
{
	const char *tracker = o->tracker;
	int r;

	if ((r = open_target(cli, o, path, tg, err)) < 0 ||
	    (r = dk_sec_scan_files(tracker, tg, o->release, t, rep, err)) < 0)
		return r;
	m->source = strdup(tracker);
	m->data_date = strdup(t->newest[0] ? t->newest : "unknown");
	m->loaded_at = strdup("not loaded");
	if (!m->source || !m->data_date || !m->loaded_at)
		return dk_err_set(err, DK_ENOMEM, "out of memory");
	return 0;
}

static int cmd_scan(struct cli *cli, int argc, char **argv)
{
	struct scan_opts o = { 0 };
	struct dk_err err = DK_ERR_INIT;
	struct dk_sec_data d = DK_SEC_DATA_INIT;
	struct dk_sec_meta m = DK_SEC_META_INIT;
	struct dk_sec_target tg = DK_SEC_TARGET_INIT;
	struct dk_sec_report rep = DK_SEC_REPORT_INIT;
	struct dk_buf out = DK_BUF_INIT;
	struct dk_tracker t = DK_TRACKER_INIT;
	char *path;
	bool open = false;
	int r, code;

	if ((r = parse_scan_opts(cli, argc, argv, &o, scan_usage, 1, &path)) != 0) {
		scan_opts_release(&o);
		return r < 0 ? EXIT_OK : r;
	}
	if (o.tracker) {
		if ((r = scan_files(cli, path, &o, &tg, &rep, &t, &m, &err)) < 0) {
			code = cli_fail(&err);
			goto out;
		}
	} else if ((r = open_data(cli, &d, &m, &err)) < 0) {
		scan_opts_release(&o);
		return cli_fail(&err);
	} else if ((r = scan_target(cli, &d, path, &o, &tg, &rep, &err)) < 0) {
		code = cli_fail(&err);
		goto out;
	}
	if (o.available) {
		struct dk_sec_target avail = DK_SEC_TARGET_INIT;

		if ((r = dk_sec_target_open(&avail, o.available, cli->root, &err)) < 0) {
			dk_sec_target_release(&avail);
			code = cli_fail(&err);
			goto out;
		}
		/* The versions point into avail's arena: keep them in the report's. */
		dk_sec_report_mark_available(&rep, &avail);
		for (size_t i = 0; i < rep.nfindings; i++)
			if (rep.findings[i].available)
				rep.findings[i].available = dk_arena_strdup(&rep.arena, rep.findings[i].available);
		dk_sec_target_release(&avail);
	}
	for (size_t i = 0; i < rep.nfindings; i++)
		open |= shown(&o, &rep.findings[i]) && dk_sec_status_open(rep.findings[i].status);
	switch (o.format) {
	case FMT_TABLE:
		render_table(&o, &rep, &m, &out, o.output ? NULL : stdout);
		break;
	case FMT_CSV:
		render_csv(&o, &rep, &out, o.output ? NULL : stdout);
		break;
	default: {
		json_t *j =
			o.format == FMT_JSON ? report_json(&o, &rep, &m, path, &tg) : report_openvex(&o, &rep, &m, &tg);
		char *s = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;

		if (!s) {
			json_decref(j);
			dk_err_set(&err, DK_ENOMEM, "out of memory");
			code = cli_fail(&err);
			goto out;
		}
		dk_buf_adds(&out, s);
		dk_buf_addc(&out, '\n');
		free(s);
		json_decref(j);
	}
	}
	code = emit(o.output, &out, &err);
	if (code != EXIT_OK)
		code = cli_fail(&err);
	else if (open)
		code = EXIT_FOUND;
out:
	dk_buf_release(&out);
	dk_sec_report_release(&rep);
	dk_sec_target_release(&tg);
	dk_sec_meta_release(&m);
	dk_sec_data_close(&d);
	dk_tracker_release(&t);
	scan_opts_release(&o);
	return code;
}

/* --- diff --- */

enum change { CH_FIXED, CH_INTRODUCED, CH_UNCHANGED };

static const char *const change_names[] = { "fixed", "introduced", "unchanged" };

/* One (CVE, source) that is open on at least one side; a side without a finding for it has NULL. */
struct change_row {
	const struct dk_sec_finding *old, *new;
	enum change kind;
};

static int key_cmp(const struct dk_sec_finding *a, const struct dk_sec_finding *b)
{
	int r = strcmp(a->cve, b->cve);

	return r ? r : strcmp(a->source, b->source);
}

/*
 * The finding that stands for the (CVE, source) run starting at *i (findings
 * are sorted by CVE, source, version): an open one if any version is open.
 * Advances *i past the run.
 */
static const struct dk_sec_finding *run_of(const struct dk_sec_report *rep, size_t *i)
{
	const struct dk_sec_finding *first = &rep->findings[*i], *f = first;

	for (; *i < rep->nfindings && key_cmp(&rep->findings[*i], first) == 0; ++*i)
		if (!dk_sec_status_open(f->status) && dk_sec_status_open(rep->findings[*i].status))
			f = &rep->findings[*i];
	return f;
}

static int change_cmp(const void *x, const void *y)
{
	const struct change_row *a = x, *b = y;
	const struct dk_sec_finding *fa = a->new ? a->new : a->old, *fb = b->new ? b->new : b->old;
	int r = strcmp(fa->source, fb->source);

	if (!r)
		r = (int)a->kind - (int)b->kind;
	return r ? r : strcmp(fa->cve, fb->cve);
}

/* Both reports merged on (CVE, source): what NEW fixed, introduced, and left open, sorted by source. */
static struct change_row *diff_reports(const struct dk_sec_report *a, const struct dk_sec_report *b, size_t *n)
{
	struct change_row *rows = malloc((a->nfindings + b->nfindings + 1) * sizeof(*rows));
	size_t i = 0, j = 0;

	*n = 0;
	if (!rows)
		return NULL;
	while (i < a->nfindings || j < b->nfindings) {
		int c = i == a->nfindings ? 1 : j == b->nfindings ? -1 : key_cmp(&a->findings[i], &b->findings[j]);
		const struct dk_sec_finding *fa = c <= 0 ? run_of(a, &i) : NULL, *fb = c >= 0 ? run_of(b, &j) : NULL;
		bool oa = fa && dk_sec_status_open(fa->status), ob = fb && dk_sec_status_open(fb->status);

		if (oa || ob)
			rows[(*n)++] = (struct change_row){ fa, fb,
							    oa && ob ? CH_UNCHANGED : oa ? CH_FIXED : CH_INTRODUCED };
	}
	if (*n)
		qsort(rows, *n, sizeof(*rows), change_cmp);
	return rows;
}

/* The versions of source in a target (sorted by source, version), space-separated; "" when it has none. */
static void versions_of(const struct dk_sec_target *tg, const char *source, struct dk_buf *b)
{
	size_t lo = 0, hi = tg->npkgs;
	const char *last = NULL;

	dk_buf_reset(b);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(tg->pkgs[mid].source, source) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < tg->npkgs && strcmp(tg->pkgs[lo].source, source) == 0; lo++) {
		if (last && strcmp(last, tg->pkgs[lo].source_version) == 0)
			continue;
		if (b->len)
			dk_buf_addc(b, ' ');
		dk_buf_adds(b, last = tg->pkgs[lo].source_version);
	}
}

/* What one side says: its status, or why there is none. */
static const char *side_status(const struct dk_sec_finding *f, const char *versions)
{
	return f ? dk_sec_status_name(f->status) : *versions ? "not listed" : "source absent";
}

static json_t *words_json(const char *s)
{
	json_t *a = json_array();

	while (a && *s) {
		const char *e = strchr(s, ' ');
		size_t n = e ? (size_t)(e - s) : strlen(s);

		json_array_append_new(a, json_stringn(s, n));
		s += n + (e != NULL);
	}
	return a;
}

static int cmd_cve_diff(struct cli *cli, int argc, char **argv)
{
	struct scan_opts o = { 0 };
	struct dk_err err = DK_ERR_INIT;
	struct dk_sec_data d = DK_SEC_DATA_INIT;
	struct dk_sec_meta m = DK_SEC_META_INIT;
	struct dk_sec_target ta = DK_SEC_TARGET_INIT, tb = DK_SEC_TARGET_INIT;
	struct dk_sec_report ra = DK_SEC_REPORT_INIT, rb = DK_SEC_REPORT_INIT;
	struct dk_buf txt = DK_BUF_INIT, va = DK_BUF_INIT, vb = DK_BUF_INIT;
	struct dk_tracker tra = DK_TRACKER_INIT, trb = DK_TRACKER_INIT;
	json_t *lists[3] = { json_array(), json_array(), json_array() }, *sources = json_array(), *src = NULL;
	struct change_row *rows = NULL;
	size_t nrows = 0, counts[3] = { 0 };
	char *paths[2];
	int r, code;

	if ((r = parse_scan_opts(cli, argc, argv, &o, diff_usage, 2, paths)) != 0) {
		code = r < 0 ? EXIT_OK : r;
		goto out;
	}
	if (o.tracker) {
		struct dk_sec_meta mb = DK_SEC_META_INIT;

		r = scan_files(cli, paths[0], &o, &ta, &ra, &tra, &m, &err);
		if (r == 0)
			r = scan_files(cli, paths[1], &o, &tb, &rb, &trb, &mb, &err);
		dk_sec_meta_release(&mb);
	} else if ((r = open_data(cli, &d, &m, &err)) == 0) {
		if ((r = scan_target(cli, &d, paths[0], &o, &ta, &ra, &err)) == 0)
			r = scan_target(cli, &d, paths[1], &o, &tb, &rb, &err);
	}
	if (r < 0) {
		code = cli_fail(&err);
		goto out;
	}
	if (!(rows = diff_reports(&ra, &rb, &nrows))) {
		dk_err_set(&err, DK_ENOMEM, "out of memory");
		code = cli_fail(&err);
		goto out;
	}
	for (size_t i = 0; i < nrows; i++) {
		const struct change_row *c = &rows[i];
		const struct dk_sec_finding *f = c->kind == CH_FIXED ? c->old : c->new;
		json_t *j = dk_sec_finding_json(f);

		counts[c->kind]++;
		if (!i || strcmp(f->source, (rows[i - 1].new ? rows[i - 1].new : rows[i - 1].old)->source) != 0) {
			versions_of(&ta, f->source, &va);
			versions_of(&tb, f->source, &vb);
			if (strcmp(va.data, vb.data) == 0)
				dk_buf_addf(&txt, "%s%s %s\n", i ? "\n" : "", f->source, va.data);
			else
				dk_buf_addf(&txt, "%s%s %s -> %s\n", i ? "\n" : "", f->source,
					    va.len ? va.data : "(absent)", vb.len ? vb.data : "(absent)");
			src = json_pack("{s:s, s:o, s:o, s:[], s:[], s:[]}", "source", f->source, "old_versions",
					words_json(va.data), "new_versions", words_json(vb.data), "fixed", "introduced",
					"unchanged");
			json_array_append_new(sources, src);
		}
		json_array_append_new(json_object_get(src, change_names[c->kind]), json_string(f->cve));
		dk_buf_addf(&txt, "  %-10s  %s  %s  ", change_names[c->kind], f->cve, f->urgency);
		if (c->kind == CH_UNCHANGED && c->old->status == c->new->status)
			dk_buf_adds(&txt, dk_sec_status_name(c->new->status));
		else
			dk_buf_addf(&txt, "%s -> %s", side_status(c->old, va.data), side_status(c->new, vb.data));
		if (c->kind != CH_FIXED && c->new->fixed)
			dk_buf_addf(&txt, " (fixed in %s%s)", c->new->fixed,
				    c->new->fix_in_archive ? "" : ", unstable");
		dk_buf_addc(&txt, '\n');
		json_object_set_new(j, "old_status", json_string(side_status(c->old, va.data)));
		json_object_set_new(j, "new_status", json_string(side_status(c->new, vb.data)));
		json_array_append_new(lists[c->kind], j);
	}
	if (o.format == FMT_JSON) {
		json_t *summary = json_pack("{s:I, s:I, s:I}", "fixed", (json_int_t)counts[CH_FIXED], "introduced",
					    (json_int_t)counts[CH_INTRODUCED], "unchanged",
					    (json_int_t)counts[CH_UNCHANGED]);

		code = cli_json_out(json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:O, s:O, s:O, s:O}", "release",
					      o.release, "tracker_date", m.data_date, "old", paths[0], "old_sha256",
					      ta.sha256, "new", paths[1], "new_sha256", tb.sha256, "summary", summary,
					      "sources", sources, "fixed", lists[CH_FIXED], "introduced",
					      lists[CH_INTRODUCED], "unchanged", lists[CH_UNCHANGED]));
	} else {
		dk_buf_addf(&txt, "%s%zu fixed, %zu introduced, %zu still open (%s; tracker data of %s)\n",
			    txt.len ? "\n" : "", counts[CH_FIXED], counts[CH_INTRODUCED], counts[CH_UNCHANGED],
			    o.release, m.data_date);
		code = emit(NULL, &txt, &err);
		if (code != EXIT_OK)
			code = cli_fail(&err);
	}
	if (code == EXIT_OK && (counts[CH_FIXED] || counts[CH_INTRODUCED]))
		code = EXIT_FOUND;
out:
	for (int i = 0; i < 3; i++)
		json_decref(lists[i]);
	json_decref(sources);
	free(rows);
	dk_buf_release(&txt);
	dk_buf_release(&va);
	dk_buf_release(&vb);
	dk_sec_report_release(&ra);
	dk_sec_report_release(&rb);
	dk_sec_target_release(&ta);
	dk_sec_target_release(&tb);
	dk_sec_meta_release(&m);
	dk_sec_data_close(&d);
	dk_tracker_release(&tra);
	dk_tracker_release(&trb);
	scan_opts_release(&o);
	return code;
}

/* --- info --- */

static int cmd_info(struct cli *cli, int argc, char **argv)
{
	struct dk_err err = DK_ERR_INIT;
	struct dk_sec_data d = DK_SEC_DATA_INIT;
	struct dk_sec_meta m = DK_SEC_META_INIT;
	int code;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			cli->json = true;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(info_usage, stdout);
			return EXIT_OK;
		} else {
			return cli_usage(cli, "cve info: unexpected argument '%s'", argv[i]);
		}
	}
	if (open_data(cli, &d, &m, &err) < 0)
		return cli_fail(&err);
	if (cli->json)
		code = cli_json_out(json_pack("{s:s, s:s, s:s, s:I, s:I, s:I}", "source", m.source, "date", m.data_date,
					      "loaded_at", m.loaded_at, "entries", (json_int_t)m.entries,
					      "package_lines", (json_int_t)m.fixes, "advisories",
					      (json_int_t)m.advisories));
	else
		code = printf("source: %s\ndate: %s\nloaded at: %s\nentries: %ld\npackage lines: %ld\nadvisories: "
			      "%ld\n",
			      m.source, m.data_date, m.loaded_at, m.entries, m.fixes, m.advisories) < 0
			       ? EXIT_INTERNAL
			       : EXIT_OK;
	dk_sec_meta_release(&m);
	dk_sec_data_close(&d);
	return code;
}

static const struct cli_command cve_commands[] = {
	{ "update", cmd_update, 0, "--from DIR|FILE", "load the security tracker's data into the data root" },
	{ "scan", cmd_scan, 0, "TARGET --release R", "what the tracker says of a file, an image or a snapshot" },
	{ "diff", cmd_cve_diff, 0, "OLD NEW --release R", "the CVEs a new target fixes, introduces and leaves open" },
	{ "info", cmd_info, 0, NULL, "what the last update loaded" },
	{ NULL, NULL, 0, NULL, NULL },
};

int cmd_cve(struct cli *cli, int argc, char **argv)
{
	return cli_dispatch(cli, "cve", cve_commands, argc, argv);
}
