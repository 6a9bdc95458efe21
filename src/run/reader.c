/* Reading one document into its record in this process: the work a reader
 * child does (child.c), and what a rank that must not fork (a GPU rank)
 * does itself. Nothing here knows whether it runs in a child. */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run/alive.h"
#include "run/job.h"

q_status run_reader_init(run_reader *rd, run_job *job, run_ocr_client *client) {
    memset(rd, 0, sizeof *rd);
    rd->opt = job->opt;
    rd->rank = job->rank;
    ocr_options oo = run_ocr_engine_options(job, rd->models, sizeof rd->models);
    run_ocr_init(&rd->ocr, &oo);
    if (client) {
        rd->client_v = *client;
        rd->client_v.local = &rd->ocr;
        rd->client = &rd->client_v;
    }
    rd->crash_on = getenv("QUIRE_TEST_CRASH_PATH");
    if (rd->crash_on && !*rd->crash_on) rd->crash_on = NULL;
    rd->hang_on = getenv("QUIRE_TEST_HANG_PATH");
    if (rd->hang_on && !*rd->hang_on) rd->hang_on = NULL;
    return Q_OK;
}

q_status run_reader_open(run_reader *rd) {
    return rd->reader ? Q_OK : doc_reader_new(&rd->reader);
}

void run_reader_free(run_reader *rd) {
    if (!rd) return;
    doc_reader_free(rd->reader);
    rd->reader = NULL;
    run_ocr_free(&rd->ocr);
    if (rd->client) run_ocr_client_free(rd->client);
}

/* Test hooks: a document whose path holds $QUIRE_TEST_CRASH_PATH crashes its
 * reader the way a decoder's bug would, past any handler; one whose path
 * holds $QUIRE_TEST_HANG_PATH hangs it the way a decoder's endless loop
 * would, deaf to the deadline. */
static void reader_test_hooks(const run_reader *rd, const char *path) {
    if (rd->crash_on && strstr(path, rd->crash_on)) {
        signal(SIGSEGV, SIG_DFL);
        raise(SIGSEGV);
    }
    if (rd->hang_on && strstr(path, rd->hang_on))
        for (;;)
            pause();
}

q_status run_reader_read(run_reader *rd, const run_item *it, double deadline,
                         volatile uint32_t *progress, lay_doc *rec) {
    const run_options *o = rd->opt;
    q_status st = run_reader_open(rd);
    if (st) return st;
    reader_test_hooks(rd, it->path);
    doc_options dopt = {.deadline = deadline,
                        .redo_ocr = o->redo_ocr,
                        .dpi = o->dpi,
                        .max_pixels = o->max_pixels,
                        .progress = progress,
                        .each_page = run_alive_tick}; /* a no-op in a reader process */
    rd->ocr.deadline = deadline;
    doc_ocr_fn fn = rd->client ? run_ocr_client_page : run_ocr_page;
    void *user = rd->client ? (void *)rd->client : &rd->ocr;
    double t0 = q_now();
    if (doc_process(rd->reader, &dopt, fn, user, rec) != Q_OK) {
        /* quire itself failed on this document (out of memory, say): the
         * document gets the reason, the run goes on */
        int nomem = q_errcode() == Q_ERR_NOMEM;
        st = lay_doc_set_error(rec, LAY_DOC_ERROR, "%s%s", q_errmsg(),
                               nomem && o->max_memory ? " (see --max-memory)" : "");
        rec->retry = (uint8_t)nomem; /* another run, or more memory, may do */
    }
    rec->seconds = (float)(q_now() - t0);
    return st;
}
