/* Private to src/run: this process's accounting for the /ranks row of its
 * rank (issue 13, item 3): where the rank's time went during its work phase
 * (inside network runs, waiting, the rest) and what it did. The counters are
 * process-wide because the places that feed them (the nap every polling loop
 * takes, an OCR engine's end) have no job at hand; a rank is one process,
 * and a reader child's counts reach its parent in its record message. */
#pragma once

#include <stdint.h>

#include "run/job.h"
#include "store/store.h"

/* The rank's work phase starts (every rank right after the agreement that
 * opens it) and ends (when its loop returns: worker, coordinator or OCR
 * server). seconds_wall is the time between them. */
void run_stats_begin(void);
void run_stats_end(void);

/* Idle time: waiting for work, for an answer, for a peer to take a message.
 * Counted between begin and end only. run_backoff_sleep (proto.c) adds every
 * nap, which covers each polling loop (the coordinator's, a worker asking
 * for work or waiting for its pages' lines, the OCR server with nothing to
 * read); a loop that waits some other way (a blocking poll) adds its own. */
void run_stats_add_wait(double seconds);

/* Seconds inside network runs (ocr_engine_nn_seconds) of an engine whose
 * work this rank did. run_ocr_free (ocrpage.c) adds its engine's total, so
 * an engine freed through it (the OCR server's, a rank reading in-process)
 * must not be added again; a reader child's engine never is freed there:
 * its seconds per document come in the child's record (child.c). Negative
 * or non-finite values are ignored. */
void run_stats_add_nn(double seconds);

/* A document recorded by this rank, with its pages. */
void run_stats_add_doc(uint64_t pages);
/* Pages of this rank's documents whose OCR the node's GPU rank did (the
 * client's count of pages it got lines for: not a refused page). */
void run_stats_add_sent(uint64_t pages);

/* COLLECTIVE: every rank's row to rank 0, after the work phase. On rank 0
 * *rows gets `job->size` rows in rank order (the caller frees them), with
 * pages_served of each GPU rank the sum of pages_sent of the CPU ranks it
 * served and seconds_other = wall - nn - wait (at least 0); elsewhere NULL.
 * Fails only on an MPI error or when rank 0 has no memory for the rows (all
 * ranks then fail). */
q_status run_stats_gather(const run_job *job, store_rank_row **rows);

/* Rank 0, in the end-of-job summary (report.c): one line per role present:
 * its ranks, documents, pages and the four seconds summed, with the share of
 * the wall time spent inside network runs. */
void run_report_ranks(const store_rank_row *rows, size_t n);
