/* Named failures: rank 0 prints each failed document (path and reason) as
 * it learns of it, and at the end a summary of counts by status, the most
 * common reasons and the slowest documents, so that nobody has to open
 * results.h5 to find out what went wrong. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "layout/layout.h"
#include "run/job.h"
#include "run/rankstats.h"

static const char *const report_status_names[4] = {"ok", "error", "timeout", "skipped"};

/* Counts one more failure for `reason`; a reason beyond the table's
 * capacity (timeouts name their page, so reasons can be many) is counted
 * apart instead of growing rank 0's memory with the run. */
static q_status report_reason(run_report *r, const char *reason) {
    for (size_t i = 0; i < r->nreasons; i++)
        if (strcmp(r->reasons[i].reason, reason) == 0) return r->reasons[i].n++, Q_OK;
    if (r->nreasons == RUN_REPORT_REASONS) return r->more_reasons++, Q_OK;
    if (!r->reasons && !(r->reasons = calloc(RUN_REPORT_REASONS, sizeof *r->reasons)))
        return Q_FAIL(Q_ERR_NOMEM, "out of memory for the failure summary");
    char *copy = strdup(reason);
    if (!copy) return Q_FAIL(Q_ERR_NOMEM, "out of memory for the failure summary");
    r->reasons[r->nreasons++] = (run_reason){.reason = copy, .n = 1};
    return Q_OK;
}

/* Keeps the RUN_REPORT_TOP slowest, slowest first. */
static void report_slow(run_report *r, const char *path, double seconds) {
    size_t i = r->nslow < RUN_REPORT_TOP ? r->nslow++ : RUN_REPORT_TOP;
    if (i == RUN_REPORT_TOP && seconds <= r->slow[RUN_REPORT_TOP - 1].seconds) return;
    if (i == RUN_REPORT_TOP) i = RUN_REPORT_TOP - 1;
    for (; i > 0 && r->slow[i - 1].seconds < seconds; i--)
        r->slow[i] = r->slow[i - 1];
    r->slow[i] = (run_slow){.path = path, .seconds = seconds};
}

static q_status report_doc(run_job *job, const run_done *d) {
    run_report *r = &job->report;
    if (d->doc >= job->inputs.n || d->status >= Q_ARRAY_LEN(r->status))
        return Q_FAIL(Q_ERR_INTERNAL, "a worker reported document %llu with status %u",
                      (unsigned long long)d->doc, d->status);
    const char *path = job->inputs.v[d->doc].path;
    r->status[d->status]++;
    report_slow(r, path, d->seconds);
    if (d->status != LAY_DOC_ERROR && d->status != LAY_DOC_TIMEOUT) return Q_OK;
    if (!job->opt->quiet) {
        /* a progress bar may be on the line: clear it, the next tick redraws it */
        if (isatty(STDERR_FILENO)) fputs("\r\033[K", stderr);
        q_log(Q_LOG_INFO, "failed: %s (%s: %s)", path, report_status_names[d->status], d->reason);
    }
    return report_reason(r, d->reason);
}

q_status run_report_take(run_job *job, uint32_t ndone, const char *msg, size_t len) {
    size_t off = 0;
    for (uint32_t i = 0; i < ndone; i++) {
        run_done d;
        q_status st = run_done_unpack(msg, len, &off, &d);
        if (!st) st = report_doc(job, &d);
        if (st) return st;
    }
    return Q_OK;
}

/* The index of the most frequent reason not yet printed (ties: first seen). */
static size_t report_next_reason(const run_report *r, const char *printed) {
    size_t best = r->nreasons;
    for (size_t i = 0; i < r->nreasons; i++)
        if (!printed[i] && (best == r->nreasons || r->reasons[i].n > r->reasons[best].n)) best = i;
    return best;
}

void run_report_print(const run_job *job) {
    const run_report *r = &job->report;
    q_log_always("summary: %llu ok, %llu error, %llu timeout, %llu skipped (documents this run; "
                 "%llu more were done before and resumed)",
                 (unsigned long long)r->status[LAY_DOC_OK],
                 (unsigned long long)r->status[LAY_DOC_ERROR],
                 (unsigned long long)r->status[LAY_DOC_TIMEOUT],
                 (unsigned long long)r->status[LAY_DOC_SKIPPED], (unsigned long long)job->resumed);
    char printed[RUN_REPORT_REASONS] = {0};
    for (int k = 0; k < RUN_REPORT_TOP; k++) {
        size_t i = report_next_reason(r, printed);
        if (i == r->nreasons) break;
        printed[i] = 1;
        q_log_always("summary: reason: %llu x %s", (unsigned long long)r->reasons[i].n,
                     r->reasons[i].reason);
    }
    if (r->more_reasons)
        q_log_always("summary: reason: %llu more failures with other reasons",
                     (unsigned long long)r->more_reasons);
    for (size_t i = 0; i < r->nslow; i++)
        q_log_always("summary: slowest: %.2f s %s", r->slow[i].seconds, r->slow[i].path);
}

void run_report_free(run_report *r) {
    for (size_t i = 0; i < r->nreasons; i++)
        free(r->reasons[i].reason);
    free(r->reasons);
    *r = (run_report){0};
}

/* One line of the per-role summary: the role's rows summed. */
static void report_role(const store_rank_row *rows, size_t n, uint8_t role, const char *name) {
    store_rank_row t = {0};
    size_t ranks = 0;
    for (size_t i = 0; i < n; i++) {
        const store_rank_row *r = &rows[i];
        if (r->role != role) continue;
        ranks++;
        t.documents += r->documents, t.pages += r->pages;
        t.pages_sent += r->pages_sent, t.pages_served += r->pages_served;
        t.seconds_wall += r->seconds_wall, t.seconds_nn += r->seconds_nn;
        t.seconds_other += r->seconds_other, t.seconds_wait += r->seconds_wait;
    }
    if (!ranks) return;
    char ocr[96] = "";
    if (t.pages_sent)
        snprintf(ocr, sizeof ocr, " (networks of %llu on a GPU rank)",
                 (unsigned long long)t.pages_sent);
    if (t.pages_served)
        snprintf(ocr, sizeof ocr, ", networks of %llu pages for CPU ranks",
                 (unsigned long long)t.pages_served);
    double share = t.seconds_wall > 0 ? 100 * t.seconds_nn / t.seconds_wall : 0;
    q_log_always("summary: %s: %zu rank%s, %llu documents, %llu pages%s; seconds summed: wall "
                 "%.1f, nn %.1f (%.0f %%), other %.1f, wait %.1f",
                 name, ranks, ranks == 1 ? "" : "s", (unsigned long long)t.documents,
                 (unsigned long long)t.pages, ocr, t.seconds_wall, t.seconds_nn, share,
                 t.seconds_other, t.seconds_wait);
}

void run_report_ranks(const store_rank_row *rows, size_t n) {
    report_role(rows, n, STORE_ROLE_COORDINATOR, "coordinator");
    report_role(rows, n, STORE_ROLE_GPU, "gpu");
    report_role(rows, n, STORE_ROLE_CPU, "cpu");
}
