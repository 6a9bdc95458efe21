/* A worker: asks for documents, processes each into a record and appends it
 * to this rank's journal shard. Shards are closed (renamed) every few
 * documents or seconds, which bounds what a crash can lose. A bad document
 * is a record; only a failure to write the journal stops the worker. */
#include <stdlib.h>

#include "doc/doc.h"
#include "run/job.h"
#include "store/store.h"

typedef struct {
    run_job *job;
    doc_reader *reader;
    store_shard *shard;
    double shard_opened;
    run_request stats;   /* since the last request */
    run_progress *local; /* size == 1: progress printed by this loop */
} worker;

static void worker_count(worker *w, const lay_doc *rec) {
    run_request *s = &w->stats;
    s->docs++;
    if (rec->status == LAY_DOC_ERROR || rec->status == LAY_DOC_TIMEOUT) s->docs_failed++;
    for (size_t i = 0; i < lay_doc_npages(rec); i++) {
        const lay_page *p = &Q_VEC_AT(&rec->page_v, lay_page, i);
        s->pages++;
        s->text_pages += p->kind == LAY_PAGE_TEXT;
        s->ocr_pages += p->kind == LAY_PAGE_OCR;
        s->failed_pages += p->kind == LAY_PAGE_FAILED;
    }
    s->lines += lay_doc_nlines(rec);
}

static q_status worker_doc(worker *w, const run_item *it) {
    const run_options *o = w->job->opt;
    lay_doc rec;
    q_status st = lay_doc_init(&rec, it->doc, it->path);
    if (st) return st;
    rec.rank = w->job->rank;
    rec.bytes = it->bytes;
    double t0 = q_now();
    if (it->error) {
        st = lay_doc_set_error(&rec, LAY_DOC_ERROR, "%s", it->error);
    } else {
        doc_options dopt = {.deadline = o->timeout > 0 ? t0 + o->timeout : 0,
                            .redo_ocr = o->redo_ocr,
                            .dpi = o->dpi};
        if (doc_process(w->reader, &dopt, NULL, NULL, &rec) != Q_OK)
            /* quire itself failed on this document (out of memory, say): the
             * document gets the reason, the run goes on */
            st = lay_doc_set_error(&rec, LAY_DOC_ERROR, "%s", q_errmsg());
    }
    rec.seconds = (float)(q_now() - t0);
    if (!st) {
        if (store_shard_pending(w->shard) == 0) w->shard_opened = q_now();
        st = store_shard_append(w->shard, &rec);
    }
    if (!st) {
        worker_count(w, &rec);
        if (store_shard_pending(w->shard) >= (size_t)o->shard_docs ||
            q_now() - w->shard_opened >= o->shard_seconds)
            st = store_shard_close(w->shard);
    }
    lay_doc_free(&rec);
    return st;
}

/* Sends the stats-carrying request and receives the reply; returns the
 * number of documents in `items` (0 = stop). */
static q_status worker_ask(worker *w, q_buf *buf, run_item *items, uint32_t *n) {
    run_job *job = w->job;
    w->stats.rank = job->rank;
    int rc = MPI_Send(&w->stats, sizeof w->stats, MPI_BYTE, 0, RUN_TAG_REQUEST, job->comm);
    if (rc != MPI_SUCCESS) return run_mpi_fail(rc, "MPI_Send of a work request");
    w->stats = (run_request){0};
    /* probe without spinning: the answer may take a while when rank 0 is busy */
    MPI_Status status;
    run_backoff nap = {0};
    for (;;) {
        int flag = 0;
        rc = MPI_Iprobe(0, MPI_ANY_TAG, job->comm, &flag, &status);
        if (rc != MPI_SUCCESS) return run_mpi_fail(rc, "MPI_Iprobe");
        if (flag) break;
        run_backoff_sleep(&nap);
    }
    int count = 0;
    MPI_Get_count(&status, MPI_BYTE, &count);
    q_status st = q_buf_reserve(buf, (size_t)count);
    if (st) return st;
    rc = MPI_Recv(buf->data, count, MPI_BYTE, 0, status.MPI_TAG, job->comm, MPI_STATUS_IGNORE);
    if (rc != MPI_SUCCESS) return run_mpi_fail(rc, "MPI_Recv of work");
    if (status.MPI_TAG == RUN_TAG_STOP) {
        *n = 0;
        return Q_OK;
    }
    return run_batch_unpack(buf->data, (size_t)count, items, n);
}

q_status run_work(run_job *job) {
    worker w = {.job = job};
    q_buf buf = {0};
    static run_item items[RUN_BATCH_MAX];
    run_progress prog;
    if (job->size == 1) {
        run_progress_init(&prog, job->inputs.n, job->resumed, job->opt->progress_seconds,
                          job->opt->quiet);
        w.local = &prog;
    }
    q_status st = doc_reader_new(&w.reader);
    if (!st) st = store_shard_open(job->opt->out_dir, job->rank, &w.shard);
    while (!st) {
        uint32_t n = 0;
        if (job->size == 1)
            n = run_job_take(job, items, RUN_BATCH_MAX);
        else
            st = worker_ask(&w, &buf, items, &n);
        if (st || n == 0) break;
        for (uint32_t i = 0; i < n && !st; i++) {
            st = worker_doc(&w, &items[i]);
            if (w.local) {
                run_progress_add(w.local, &w.stats);
                w.stats = (run_request){0};
                run_progress_tick(w.local, 0);
            }
        }
    }
    if (!st) st = store_shard_close(w.shard);
    if (w.local) {
        run_progress_done(w.local);
        job->counts = w.local->c;
    }
    store_shard_free(w.shard);
    doc_reader_free(w.reader);
    q_buf_free(&buf);
    return st;
}
