/* gate.h - the release gate: a policy (YAML), its decision on a scan, and the evidence (JSON, HTML) */
#ifndef DEBKEEP_GATE_H
#define DEBKEEP_GATE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "arena.h"
#include "buf.h"
#include "err.h"
#include "sec.h"

enum dk_waiver_state { DK_WAIVER_UNUSED = 0, DK_WAIVER_APPLIED, DK_WAIVER_EXPIRED };

struct dk_waiver {
	const char *cve;
	const char *source; /* NULL: every source */
	const char *reason;
	const char *expires; /* YYYY-MM-DD, the last day it holds */
	unsigned line;
	enum dk_waiver_state state;
};

#define DK_URGENCY_COUNT 5

struct dk_policy {
	struct dk_arena arena;
	const char *filename;
	char sha256[65];
	const char *release;          /* NULL when the policy leaves it to the command line */
	bool block[DK_URGENCY_COUNT]; /* by dk_urgency_index() */
	bool accept[DK_SEC_STATUS_COUNT];
	struct dk_waiver *waivers;
	size_t nwaivers;
};

#define DK_POLICY_INIT                                                                                                 \
	{                                                                                                              \
		DK_ARENA_INIT, NULL, { 0 }, NULL, { false }, { false }, NULL, 0                                        \
	}

/* "unimportant", "low", "medium", "high", "not yet assigned" (a trailing "**" ignored) -> 0..4, or -1. */
int dk_urgency_index(const char *s, size_t n);
const char *dk_urgency_name(int i);

/* Parse a policy (docs/security.md); errors name "FILE:LINE: WHAT". */
int dk_policy_load(struct dk_policy *pol, const char *path, struct dk_err *err);
int dk_policy_load_mem(struct dk_policy *pol, const char *data, size_t len, const char *name, struct dk_err *err);
void dk_policy_release(struct dk_policy *pol);

enum dk_verdict { DK_VERDICT_BLOCKING = 0, DK_VERDICT_ACCEPTED, DK_VERDICT_WAIVED, DK_VERDICT_TOLERATED };

const char *dk_verdict_name(enum dk_verdict v);

struct dk_gate_result {
	enum dk_verdict *verdicts;       /* [report->nfindings], for open findings only */
	const struct dk_waiver **waiver; /* [report->nfindings]: the waiver applied, or NULL */
	size_t counts[4];
	bool pass;
};

#define DK_GATE_RESULT_INIT                                                                                            \
	{                                                                                                              \
		NULL, NULL, { 0 }, false                                                                               \
	}

/* Decide: today is YYYY-MM-DD (waivers expire after their date). Marks each waiver's state. */
int dk_gate_decide(struct dk_policy *pol, const struct dk_sec_report *rep, const char *today,
		   struct dk_gate_result *res, struct dk_err *err);
void dk_gate_result_release(struct dk_gate_result *res);

/* A finding as JSON (the shape `cve scan --json` prints); NULL when out of memory. */
json_t *dk_sec_finding_json(const struct dk_sec_finding *f);
/* A RESERVED entry of a report (its "reserved" list) as JSON; NULL when out of memory. */
json_t *dk_sec_reserved_json(const struct dk_sec_finding *f);

/* What the evidence names besides the findings. */
struct dk_gate_context {
	const char *today;
	const char *target_path;
	const struct dk_sec_target *target;
	const char *snapshot_digest; /* NULL: none given */
	const struct dk_sec_meta *tracker;
};

json_t *dk_gate_evidence_json(const struct dk_policy *pol, const struct dk_sec_report *rep,
			      const struct dk_gate_result *res, const struct dk_gate_context *ctx);
/* One self-contained HTML page (inline CSS, no external assets, every text escaped) from the evidence JSON. */
int dk_gate_evidence_html(const json_t *evidence, struct dk_buf *out, struct dk_err *err);

#endif
