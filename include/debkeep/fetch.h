/* fetch.h - parallel, verified, resumable HTTP downloads through libcurl */
#ifndef DEBKEEP_FETCH_H
#define DEBKEEP_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/*
 * One file to fetch. The download goes to partial (a file under the data
 * root's tmp/, kept between runs so an interrupted fetch resumes with a
 * Range request), and only when it is complete and its size and hash match
 * is it renamed to dest. A dest that already exists with the expected
 * size and hash is not fetched again.
 */
struct dk_fetch_item {
	const char *url;
	const char *dest;    /* final path; NULL: keep the body in memory (body/body_len) */
	const char *partial; /* where the download grows; NULL: dest + ".part" */
	int64_t size;        /* expected size, -1 when unknown */
	const char *sha256;  /* expected lower-case hex, NULL when unknown */
	bool optional;       /* a 404 is not an error: status 404 is left in the item */

	/* Filled by dk_fetch_run. */
	long status;      /* last HTTP status, 0 for none (file:// gives 0 on success, 404 for a missing file) */
	bool fetched;     /* true when dest now holds the verified file (or body the data) */
	bool reused;      /* dest was already there and verified: nothing fetched */
	char *body;       /* in-memory results (dest == NULL); free() it */
	size_t body_len;
	char *error;      /* one-line error for this item, NULL when fine; free() it */
};

/* Progress: bytes done of bytes total (total 0 when unknown), files done of files. */
typedef void (*dk_fetch_progress_fn)(void *ctx, uint64_t done, uint64_t total, size_t files_done, size_t files);

struct dk_fetch_opts {
	unsigned parallel;     /* simultaneous transfers; 0: 8 */
	unsigned retries;      /* per item, after the first try; 0: 4 */
	double backoff;        /* first retry delay in seconds, doubled each time; 0: 0.5 */
	double timeout;        /* a transfer that moves no byte for this long fails; 0: 60 */
	int64_t max_body;      /* cap for in-memory bodies; 0: 256 MiB */
	const char *user_agent; /* NULL: "debkeep/VERSION" */
	dk_fetch_progress_fn progress;
	void *progress_ctx;
};

/*
 * Fetch all items, up to parallel at a time, retrying transient failures
 * (connection errors, 5xx, 429, a short body) with back-off. Every item is
 * tried even when another failed. Returns 0 when every non-optional item is
 * fetched; else DK_EINPUT (bad data: size or hash mismatch, 404) or DK_EIO
 * (network), with err naming the first failed item's URL and cause, and
 * each failed item's own error set.
 */
int dk_fetch_run(struct dk_fetch_item *items, size_t n, const struct dk_fetch_opts *opts, struct dk_err *err);

/* Free what dk_fetch_run allocated in the items (body, error). */
void dk_fetch_items_release(struct dk_fetch_item *items, size_t n);

#endif
