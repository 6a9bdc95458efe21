/* A worker: asks for documents, has each read into a record (in its reader
 * child process, child.c, or here on a rank that must not fork) and appends
 * it to this rank's journal shard. Shards are closed (renamed) every few
 * documents or seconds, which bounds what a crash can lose. A bad document,
 * even one that crashes its reader, is a record; only a failure to write the
 * journal stops the worker. A stop signal (or a HALT from rank 0) ends the
 * loop after the current document; SIGTERM and SIGINT abandon it. */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "doc/doc.h"
#include "run/alive.h"
#include "run/job.h"
#include "run/rankstats.h"
#include "store/store.h"

struct run_worker {
    run_job *job;
    store_shard *shard;
    store_reclog *log; /* every record, at once: what a kill cannot take */
    int log_failed;    /* warned once that the log cannot be written */
    double shard_opened;
    run_request stats;   /* since the last request */
    q_buf done;          /* run_done entries of stats.ndone documents, for rank 0 */
    q_buf msg;           /* a request: stats, then done */
    run_progress *local; /* size == 1: progress printed by this loop */
    run_reader rd;       /* what reads documents (the child's copy, when there is one) */
    run_child *child;    /* NULL: documents are read in this process */
    int stopping;        /* a stop signal, or a HALT from rank 0, came */
};
typedef struct run_worker worker;

/* Counts a finished document for the next request, and notes it for rank
 * 0's failure lines and summary. */
static q_status worker_count(worker *w, const lay_doc *rec) {
    run_done d = {
        .doc = rec->doc, .seconds = rec->seconds, .status = rec->status, .reason = rec->error};
    q_status st = run_done_pack(&w->done, &d);
    if (st) return st;
    run_request *s = &w->stats;
    s->ndone++;
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
    run_stats_add_doc(lay_doc_npages(rec));
    return Q_OK;
}

/* Waiting for the child: a stop signal that cannot wait for the document
 * (SIGTERM, SIGINT: mpirun kills the ranks a second later) abandons it; it
 * has no record and the rerun reads it. SIGUSR1 (a warning ahead of the
 * time limit) lets it finish. */
static int worker_tick(void *user) {
    worker *w = user;
    run_alive_tick();
    if (w->local && w->child) { /* one process: rank 0's progress line is printed here */
        run_child_where(w->child, &w->local->page, &w->local->pages);
        run_progress_tick(w->local, 0);
    }
    int sig = run_stop_signal();
    q_status st = sig ? store_reclog_sync(w->log) : store_reclog_sync_due(w->log);
    if (st) q_log(Q_LOG_DEBUG, "syncing the record log: %s", q_errmsg());
    return sig && sig != SIGUSR1;
}

/* Every record appended is in a closed shard: the log can go. Failing to
 * remove it costs only duplicates, which consolidation drops. */
static void worker_reset_log(worker *w) {
    if (store_reclog_reset(w->log))
        q_log(Q_LOG_WARN, "%s (a rerun may hold some documents twice: harmless)", q_errmsg());
}

/* Closes the open shard; its records no longer need the log. */
static q_status worker_close_shard(worker *w) {
    q_status st = store_shard_close(w->shard);
    if (!st) worker_reset_log(w);
    return st;
}

/* The record log first: from here on a kill of this process loses nothing.
 * A log that cannot be written (disk full) leaves the record in the shard
 * writer only, as before there was a log: a warning, not a failure. */
static q_status worker_keep(worker *w, const lay_doc *rec) {
    if (store_reclog_append(w->log, rec) && !w->log_failed++)
        q_log(Q_LOG_WARN, "%s: documents are safe only once their shard closes", q_errmsg());
    if (store_shard_pending(w->shard) == 0) w->shard_opened = q_now();
    q_status st = store_shard_append(w->shard, rec);
    /* the shard closed by itself (size limits) */
    if (!st && store_shard_pending(w->shard) == 0) worker_reset_log(w);
    return st;
}

/* Reads `it` into `rec` (initialised here): a pre-set error, the child, or
 * this process. */
static q_status worker_read(worker *w, const run_item *it, lay_doc *rec) {
    q_status st;
    if (it->error || !w->child) {
        if ((st = lay_doc_init(rec, it->doc, it->path))) return st;
        rec->rank = w->job->rank;
        rec->bytes = it->bytes;
        if (it->error) return lay_doc_set_error(rec, LAY_DOC_ERROR, "%s", it->error);
        const run_options *o = w->job->opt;
        uint64_t sent = w->rd.client ? w->rd.client->pages : 0;
        st = run_reader_read(&w->rd, it, o->timeout > 0 ? q_now() + o->timeout : 0, NULL, rec);
        if (w->rd.client) run_stats_add_sent(w->rd.client->pages - sent);
        return st;
    }
    return run_child_read(w->child, it, worker_tick, w, rec);
}

static q_status worker_doc(worker *w, const run_item *it) {
    const run_options *o = w->job->opt;
    lay_doc rec;
    q_status st = worker_read(w, it, &rec);
    if (st == Q_ERR_INTERRUPTED) { /* worker_should_stop says why, next */
        w->job->halted = 1;
        lay_doc_free(&rec);
        return Q_OK;
    }
    if (!st && w->rd.ocr.load_failed) {
        /* No usable models (here or on the node's GPU rank) is the
         * environment's fault, not the document's: it gets no record, so
         * that a rerun reads it, and the job stops (RUN_REQ_FAILED).
         * Checked here, on the first page that needs OCR, rather than
         * before dispatch: which pages need OCR is known only once a
         * document is opened, and a text-only campaign needs no models. */
        lay_doc_free(&rec);
        return Q_FAIL(Q_ERR_UNSUPPORTED, "%s", w->rd.ocr.why);
    }
    if (!st) st = lay_doc_fill_pages(&rec);
    if (!st) st = worker_keep(w, &rec);
    if (!st) st = worker_count(w, &rec);
    if (!st) {
        if (store_shard_pending(w->shard) >= (size_t)o->shard_docs ||
            q_now() - w->shard_opened >= o->shard_seconds)
            st = worker_close_shard(w);
    }
    lay_doc_free(&rec);
    return st;
}

/* Sends a request with `flags`: the counts and the finished documents since
 * the last one, which then start over. */
static q_status worker_send_request(worker *w, uint32_t flags) {
    w->stats.rank = w->job->rank;
    w->stats.flags = flags;
    q_buf_clear(&w->msg);
    q_status st = q_buf_append(&w->msg, &w->stats, sizeof w->stats);
    if (!st && w->done.len) st = q_buf_append(&w->msg, w->done.data, w->done.len);
    if (st) return st;
    st = run_send(w->msg.data, w->msg.len, 0, RUN_TAG_REQUEST, w->job->comm,
                  "sending a work request");
    if (st) return st;
    w->stats = (run_request){0};
    q_buf_clear(&w->done);
    return Q_OK;
}

/* One process: rank 0 is this loop, so the finished documents are reported
 * here, as the coordinator would on a request. */
static q_status worker_report_local(worker *w) {
    q_status st = run_report_take(w->job, w->stats.ndone, w->done.data, w->done.len);
    run_progress_add(w->local, &w->stats);
    w->local->pages = 0;
    w->stats = (run_request){0};
    q_buf_clear(&w->done);
    run_progress_tick(w->local, 0);
    return st;
}

/* Sends the stats-carrying request and receives the reply; returns the
 * number of documents in `items` (0 = stop). */
static q_status worker_ask(worker *w, q_buf *buf, run_item *items, uint32_t *n) {
    run_job *job = w->job;
    q_status st = worker_send_request(w, w->stopping ? RUN_REQ_STOPPING : 0);
    if (st) return st;
    int rc;
    /* probe without spinning: the answer may take a while when rank 0 is busy */
    MPI_Status status;
    run_backoff nap = {0};
    for (;;) {
        int flag = 0;
        rc = MPI_Iprobe(0, MPI_ANY_TAG, job->comm, &flag, &status);
        if (rc != MPI_SUCCESS) return run_mpi_fail(rc, "MPI_Iprobe");
        if (flag && status.MPI_TAG == RUN_TAG_HALT) {
            /* sent before the answer; the answer will be STOP */
            rc = MPI_Recv(NULL, 0, MPI_BYTE, 0, RUN_TAG_HALT, job->comm, MPI_STATUS_IGNORE);
            if (rc != MPI_SUCCESS) return run_mpi_fail(rc, "MPI_Recv of a halt");
            w->stopping = 1;
            continue;
        }
        if (flag) break;
        run_backoff_sleep(&nap);
        if (store_reclog_sync_due(w->log))
            q_log(Q_LOG_DEBUG, "syncing the record log: %s", q_errmsg());
    }
    st = run_recv_probed(job->comm, &status, buf);
    if (st) return q_fail_context("receiving work");
    if (status.MPI_TAG == RUN_TAG_STOP) {
        *n = 0;
        return Q_OK;
    }
    return run_batch_unpack(buf->data, buf->len, items, n);
}

/* 1 when the worker must stop before its next document: its own stop signal
 * or a HALT from rank 0 (received here, so that none is left unmatched). */
static int worker_should_stop(worker *w) {
    if (w->stopping) return 1;
    if (run_stop_signal()) {
        if (store_reclog_sync(w->log)) q_log(Q_LOG_DEBUG, "syncing the record log: %s", q_errmsg());
        if (w->job->size == 1)
            q_log(Q_LOG_WARN,
                  "stopping on %s: the journal shard is closed (a document in flight is "
                  "read again by the rerun); rerun with the same --out to resume",
                  run_stop_name(run_stop_signal()));
        return w->stopping = 1;
    }
    if (w->job->size > 1) {
        int flag = 0;
        if (MPI_Iprobe(0, RUN_TAG_HALT, w->job->comm, &flag, MPI_STATUS_IGNORE) == MPI_SUCCESS &&
            flag &&
            MPI_Recv(NULL, 0, MPI_BYTE, 0, RUN_TAG_HALT, w->job->comm, MPI_STATUS_IGNORE) ==
                MPI_SUCCESS)
            w->stopping = 1;
    }
    return w->stopping;
}

/* Rank 0 hands this worker nothing more and stops the others (coord.c): it
 * must not wait for a request that will never come. The counts of the
 * documents finished since the last request go with it. */
static void worker_tell_failed(worker *w) {
    if (worker_send_request(w, RUN_REQ_FAILED) != Q_OK)
        q_log(Q_LOG_DEBUG, "telling rank 0 of a failure: %s", q_errmsg());
}

/* GPU ranks never fork: a CUDA context (or one about to be made) does not
 * survive fork, and their documents are few (a GPU rank reads documents only
 * when no CPU rank of its node sends it pages). */
static q_status worker_open_reader(worker *w) {
    run_job *job = w->job;
    const run_options *o = job->opt;
    run_ocr_client client;
    run_ocr_client_init(&client, job->comm, job->role.server);
    q_status st = run_reader_init(&w->rd, job, job->role.server >= 0 ? &client : NULL);
    if (st) return st;
    if (job->role.device >= 0) return run_reader_open(&w->rd);
    double mem =
        o->max_memory >= 0 ? o->max_memory : run_child_default_memory(job->role.local_size);
    /* now, before any document's MPI traffic, and so that a failure to fork
     * is a failure all ranks agree on before work is handed out */
    st = run_child_new(&w->rd, mem, &w->child);
    return st ? st : run_child_start(w->child);
}

q_status run_worker_new(run_job *job, run_worker **out) {
    worker *w = calloc(1, sizeof *w);
    *out = NULL;
    if (!w) return Q_FAIL(Q_ERR_NOMEM, "out of memory for a worker");
    w->job = job;
    q_status st = worker_open_reader(w);
    if (!st) st = store_shard_open(job->opt->out_dir, job->rank, &w->shard);
    if (!st) st = store_reclog_open(job->opt->out_dir, job->rank, &w->log);
    if (st == Q_ERR_IO) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", q_errmsg());
        st = Q_FAIL(Q_ERR_IO, "%s (choose a writable --out folder)", msg);
    }
    if (st) {
        run_worker_free(w);
        return st;
    }
    *out = w;
    return Q_OK;
}

void run_worker_free(run_worker *w) {
    if (!w) return;
    run_child_free(w->child);
    store_shard_free(w->shard);
    store_reclog_free(w->log); /* after the shard: a failed close keeps the log */
    run_reader_free(&w->rd);
    q_buf_free(&w->done);
    q_buf_free(&w->msg);
    free(w);
}

q_status run_work(run_job *job, run_worker *w) {
    q_buf buf = {0};
    static run_item items[RUN_BATCH_MAX];
    run_progress prog;
    if (job->size == 1) {
        run_progress_init(&prog, job->total, job->resumed, job->opt->progress_seconds,
                          job->opt->quiet);
        w->local = &prog;
    }
    q_status st = Q_OK;
    int told_stop = 0; /* rank 0 answered STOP: it expects nothing more */
    while (!st) {
        uint32_t n = 0;
        if (job->size == 1) {
            if (worker_should_stop(w)) {
                job->halted = job->next < job->ntodo;
                break;
            }
            n = run_job_take(job, items, RUN_BATCH_MAX);
        } else {
            st = worker_ask(w, &buf, items, &n);
        }
        if (st || n == 0) {
            told_stop = !st;
            break;
        }
        for (uint32_t i = 0; i < n && !st; i++) {
            if (worker_should_stop(w)) {
                job->halted = 1; /* the rest of the batch is left for the rerun */
                break;
            }
            st = worker_doc(w, &items[i]);
            if (!st && w->local) st = worker_report_local(w);
        }
    }
    if (!st) st = worker_close_shard(w);
    /* a failure before rank 0 said STOP: it would wait for this rank forever */
    if (st && job->size > 1 && !told_stop) worker_tell_failed(w);
    if (w->rd.client) {
        /* always, even after a failure: the GPU rank serves until every
         * client has said it is done */
        q_status st2 = run_ocr_client_done(w->rd.client);
        if (!st) st = st2;
    }
    if (w->local) {
        run_progress_done(w->local);
        job->counts = w->local->c;
        w->local = NULL;
    }
    q_buf_free(&buf);
    return st;
}
