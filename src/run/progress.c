/* Progress from rank 0: wall-clock time (UTC), documents done of total,
 * pages/s by route, failures, ETA. A bar rewritten in place on a terminal; one
 * plain line per interval in batch logs, where carriage returns would garble
 * the file. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "run/job.h"

void run_progress_init(run_progress *p, uint64_t total, uint64_t resumed, double interval,
                       int quiet) {
    *p = (run_progress){.t_start = q_now(),
                        .total = total,
                        .resumed = resumed,
                        .tty = isatty(STDERR_FILENO),
                        .quiet = quiet,
                        .interval = interval > 0 ? interval : 5};
    p->t_last = p->t_start;
}

void run_progress_add(run_progress *p, const run_request *r) {
    p->c.docs += r->docs;
    p->c.docs_failed += r->docs_failed;
    p->c.pages += r->pages;
    p->c.text_pages += r->text_pages;
    p->c.ocr_pages += r->ocr_pages;
    p->c.failed_pages += r->failed_pages;
    p->c.lines += r->lines;
}

static void progress_eta(char *out, size_t cap, double seconds) {
    if (seconds < 0 || seconds > 1e8) {
        snprintf(out, cap, "?");
        return;
    }
    long s = (long)(seconds + 0.5);
    if (s >= 3600)
        snprintf(out, cap, "%ldh%02ldm", s / 3600, (s / 60) % 60);
    else if (s >= 60)
        snprintf(out, cap, "%ldm%02lds", s / 60, s % 60);
    else
        snprintf(out, cap, "%lds", s);
}

void run_progress_tick(run_progress *p, int force) {
    double now = q_now();
    if (p->quiet || (!force && now - p->t_last < p->interval)) return;
    p->t_last = now;
    double dt = Q_MAX(now - p->t_start, 1e-9);
    uint64_t done = p->resumed + p->c.docs;
    double docs_rate = (double)p->c.docs / dt;
    char eta[32];
    progress_eta(eta, sizeof eta,
                 docs_rate > 0 ? (double)(p->total - Q_MIN(done, p->total)) / docs_rate : -1);
    double pct = p->total ? 100.0 * (double)done / (double)p->total : 100.0;
    /* Wall-clock time, UTC like the sbatch scripts' stamps: the log's own
     * "[seconds rank]" prefix is time since start, which cannot be matched
     * against the scheduler's or the file system's records. */
    char clock[16] = "??:??:??Z";
    struct tm tm;
    time_t t = time(NULL);
    if (gmtime_r(&t, &tm)) strftime(clock, sizeof clock, "%H:%M:%SZ", &tm);
    char line[320], doing[64] = "";
    /* one process between two documents says nothing new for as long as a
     * large one takes: where it is in that one */
    if (p->pages) snprintf(doing, sizeof doing, "; reading page %u of %u", p->page + 1, p->pages);
    snprintf(
        line, sizeof line,
        "%s %llu/%llu documents (%.1f%%), %llu pages at %.1f pages/s (text %.1f/s, ocr %.1f/s), "
        "%llu failed, ETA %s%s",
        clock, (unsigned long long)done, (unsigned long long)p->total, pct,
        (unsigned long long)p->c.pages, (double)p->c.pages / dt, (double)p->c.text_pages / dt,
        (double)p->c.ocr_pages / dt, (unsigned long long)p->c.docs_failed, eta, doing);
    if (p->tty) {
        int width = 24, fill = (int)(pct / 100.0 * width + 0.5);
        char bar[32];
        for (int i = 0; i < width; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[width] = 0;
        fprintf(stderr, "\r[%s] %s\033[K", bar, line);
        fflush(stderr);
    } else {
        q_log(Q_LOG_INFO, "progress: %s", line);
    }
}

void run_progress_done(run_progress *p) {
    run_progress_tick(p, 1);
    if (p->tty && !p->quiet) fputc('\n', stderr);
}
