/* cmd-gate.c - debkeep gate: a release decision from a policy over a security scan, with evidence */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <debkeep/fs.h>
#include <debkeep/gate.h>
#include <debkeep/sec.h>
#include <debkeep/tracker.h>

#include "cli.h"

static const char gate_usage[] =
	"usage: debkeep gate TARGET|--snapshot NAME --policy FILE [--release R] [--report FILE.json]\n"
	"                    [--html FILE.html] [--snapshot-digest D] [--today YYYY-MM-DD] [--json]\n\n"
	"Decide a release of TARGET (a dpkg status file, manifest, image tar or snapshot:NAME) from the security\n"
	"tracker data loaded with 'debkeep cve update' and a policy (docs/security.md): which\n"
	"urgencies block, which tracker statuses are accepted, waivers with a reason and an expiry.\n"
	"Writes the evidence: every open finding with its verdict, every waiver and its state, the\n"
	"tracker data's date, the target's and the snapshot's digests.\n\n"
	"  --policy FILE       the policy (YAML)\n"
	"  --release R         the Debian release (default: the policy's 'release')\n"
	"  --report FILE       write the evidence as JSON (atomically)\n"
	"  --html FILE         write the evidence as one self-contained HTML page (atomically)\n"
	"  --snapshot NAME     the snapshot NAME of the data root as the target (same as snapshot:NAME)\n"
	"  --snapshot-digest D the digest of the snapshot the target was built from, for the record\n"
	"                      (a snapshot target's own digest when not given)\n"
	"  --today D           the date waivers are checked against (default: today, UTC)\n"
	"  --tracker P         read the tracker's files instead of the data loaded into the data root\n"
	"  --json              print the evidence JSON instead of the summary\n\n"
	"Exit status: 0 pass, 1 fail, 2 error.\n";

struct gate_opts {
	const char *tracker;
	const char *policy, *release, *report, *html, *snapshot, *today, *target;
	char *snapshot_target; /* --snapshot NAME, as "snapshot:NAME" */
};

static int parse_opts(struct cli *cli, int argc, char **argv, struct gate_opts *o)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "release", required_argument, NULL, 'r' },
		{ "report", required_argument, NULL, 'o' },
		{ "html", required_argument, NULL, 'H' },
		{ "snapshot-digest", required_argument, NULL, 's' },
		{ "snapshot", required_argument, NULL, 'S' },
		{ "today", required_argument, NULL, 't' },
		{ "tracker", required_argument, NULL, 'T' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 0;
	/* GNU getopt permutes: options may stand before or after TARGET. */
	while ((c = getopt_long(argc, argv, "p:r:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			o->policy = optarg;
			break;
		case 'r':
			o->release = optarg;
			break;
		case 'o':
			o->report = optarg;
			break;
		case 'H':
			o->html = optarg;
			break;
		case 's':
			o->snapshot = optarg;
			break;
		case 'S': {
			size_t n = strlen(DK_SEC_SNAPSHOT_PREFIX) + strlen(optarg) + 1;

			free(o->snapshot_target);
			if (!(o->snapshot_target = malloc(n)))
				return cli_usage(cli, "gate: out of memory");
			snprintf(o->snapshot_target, n, "%s%s", DK_SEC_SNAPSHOT_PREFIX, optarg);
			o->target = o->snapshot_target;
			break;
		}
		case 't':
			o->today = optarg;
			break;
		case 'T':
			o->tracker = optarg;
			break;
		case 'j':
			cli->json = true;
			break;
		case 'h':
			fputs(gate_usage, stdout);
			return -1;
		default:
			return cli_usage(cli, "gate: bad option");
		}
	}
	if (optind < argc && o->snapshot_target)
		return cli_usage(cli, "gate: give TARGET or --snapshot, not both");
	if (optind < argc)
		o->target = argv[optind++];
	if (optind < argc)
		return cli_usage(cli, "gate: unexpected argument '%s'", argv[optind]);
	if (!o->target)
		return cli_usage(cli, "gate: expected a TARGET");
	if (!o->policy)
		return cli_usage(cli, "gate: --policy is required");
	if (o->today && (strlen(o->today) != 10 || o->today[4] != '-' || o->today[7] != '-'))
		return cli_usage(cli, "gate: --today expects YYYY-MM-DD");
	return 0;
}

static int write_out(const char *path, const char *data, size_t len, struct dk_err *err)
{
	return dk_write_file_atomic(path, data, len, 0644, err);
}

int cmd_gate(struct cli *cli, int argc, char **argv)
{
	struct gate_opts o = { 0 };
	struct dk_err err = DK_ERR_INIT;
	struct dk_sec_data d = DK_SEC_DATA_INIT;
	struct dk_sec_meta m = DK_SEC_META_INIT;
	struct dk_policy pol = DK_POLICY_INIT;
	struct dk_sec_target tg = DK_SEC_TARGET_INIT;
	struct dk_sec_report rep = DK_SEC_REPORT_INIT;
	struct dk_gate_result res = DK_GATE_RESULT_INIT;
	struct dk_buf html = DK_BUF_INIT;
	struct dk_tracker t = DK_TRACKER_INIT;
	json_t *ev = NULL;
	char today[11], *s = NULL;
	int r, code = EXIT_OK;

	cli->prog = "debkeep gate";
	r = parse_opts(cli, argc, argv, &o);
	if (r != 0) {
		free(o.snapshot_target);
		return r < 0 ? EXIT_OK : r;
	}
	if (o.today) {
		snprintf(today, sizeof(today), "%s", o.today);
	} else {
		time_t now = time(NULL);
		struct tm tm;

		gmtime_r(&now, &tm);
		strftime(today, sizeof(today), "%Y-%m-%d", &tm);
	}
	if ((r = dk_policy_load(&pol, o.policy, &err)) < 0)
		goto fail;
	if (!o.release)
		o.release = pol.release;
	if (!o.release) {
		code = cli_usage(cli, "gate: no release: give --release or 'release:' in the policy");
		goto out;
	}
	if (o.tracker) {
		if ((r = dk_sec_target_open(&tg, o.target, cli->root, &err)) < 0 ||
		    (r = dk_sec_scan_files(o.tracker, &tg, o.release, &t, &rep, &err)) < 0)
			goto fail;
		m.source = strdup(o.tracker);
		m.data_date = strdup(t.newest[0] ? t.newest : "unknown");
		m.loaded_at = strdup("not loaded");
		if (!m.source || !m.data_date || !m.loaded_at) {
			dk_err_set(&err, DK_ENOMEM, "out of memory");
			goto fail;
		}
	} else {
		/* One handle for the update's record and the scan: both of the same update. */
		r = dk_sec_data_open_root(cli->root, &d, &err);
		if (r == 0)
			r = dk_sec_data_meta(&d, &m, &err);
		if (r == DK_NOTFOUND) {
			dk_err_set(&err, DK_EINPUT, "%s: no security tracker data (run 'debkeep cve update' first)",
				   cli->root);
			goto fail;
		}
		if (r < 0 || (r = dk_sec_target_open(&tg, o.target, cli->root, &err)) < 0 ||
		    (r = dk_sec_scan_data(&d, &tg, o.release, &rep, &err)) < 0)
			goto fail;
	}
	/* The evidence names the target by its digest. */
	if ((r = dk_sec_target_digest(&tg, &err)) < 0 || (r = dk_gate_decide(&pol, &rep, today, &res, &err)) < 0)
		goto fail;
	{
		const char *digest = o.snapshot ? o.snapshot : tg.kind == DK_TARGET_SNAPSHOT ? tg.sha256 : NULL;
		struct dk_gate_context ctx = { today, o.target, &tg, digest, &m };

		ev = dk_gate_evidence_json(&pol, &rep, &res, &ctx);
	}
	if (!ev || !(s = json_dumps(ev, JSON_INDENT(2) | JSON_PRESERVE_ORDER))) {
		dk_err_set(&err, DK_ENOMEM, "out of memory");
		goto fail;
	}
	if (o.report && (r = write_out(o.report, s, strlen(s), &err)) < 0)
		goto fail;
	if (o.html && ((r = dk_gate_evidence_html(ev, &html, &err)) < 0 ||
		       (r = write_out(o.html, html.data, html.len, &err)) < 0))
		goto fail;
	if (cli->json) {
		puts(s);
	} else {
		printf("%s: %zu open: %zu blocking, %zu accepted, %zu waived, %zu tolerated (%s, tracker data of %s)\n",
		       res.pass ? "PASS" : "FAIL", res.counts[0] + res.counts[1] + res.counts[2] + res.counts[3],
		       res.counts[DK_VERDICT_BLOCKING], res.counts[DK_VERDICT_ACCEPTED], res.counts[DK_VERDICT_WAIVED],
		       res.counts[DK_VERDICT_TOLERATED], o.release, m.data_date);
		for (size_t i = 0; i < rep.nfindings; i++)
			if (dk_sec_status_open(rep.findings[i].status) && res.verdicts[i] == DK_VERDICT_BLOCKING)
				printf("blocking: %s %s %s %s %s\n", rep.findings[i].cve, rep.findings[i].source,
				       rep.findings[i].installed, dk_sec_status_name(rep.findings[i].status),
				       rep.findings[i].urgency);
		for (size_t i = 0; i < pol.nwaivers; i++)
			if (pol.waivers[i].state == DK_WAIVER_EXPIRED)
				printf("expired waiver: %s (%s:%u, expired %s)\n", pol.waivers[i].cve, o.policy,
				       pol.waivers[i].line, pol.waivers[i].expires);
	}
	code = res.pass ? EXIT_OK : EXIT_FOUND;
	goto out;
fail:
	code = cli_fail(&err);
out:
	free(s);
	json_decref(ev);
	dk_buf_release(&html);
	dk_gate_result_release(&res);
	dk_sec_report_release(&rep);
	dk_sec_target_release(&tg);
	dk_policy_release(&pol);
	dk_sec_meta_release(&m);
	dk_sec_data_close(&d);
	dk_tracker_release(&t);
	free(o.snapshot_target);
	return code;
}
