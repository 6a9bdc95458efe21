/* Rank 0's dispatch loop: workers ask when idle, rank 0 answers with the next
 * batch from the largest-first list, so one huge document never leaves other
 * ranks idle behind a static split. Rank 0 polls with growing naps instead of
 * a blocking receive, which in Open MPI would spin a core. On a stop signal
 * (its own, or one a worker reports) it tells every worker to halt and answers
 * every further request with STOP. */
#include <stdlib.h>

#include "run/job.h"

uint32_t run_job_take(run_job *job, run_item *items, uint32_t max_items) {
    size_t left = job->ntodo - job->next;
    if (left == 0) return 0;
    size_t want = (size_t)job->opt->batch;
    if (job->opt->batch == 0 && job->size > 1) {
        want = max_items; /* the coordinator sized it (coord_batch) */
    } else if (want == 0) {
        /* Automatic: big batches while much is left (fewer messages), single
         * documents at the end (balance). */
        size_t workers = job->size > 1 ? (size_t)job->size - 1 : 1;
        want = left / (workers * 8);
        want = Q_MAX(want, 1);
        want = Q_MIN(want, 64);
    }
    want = Q_MIN(want, Q_MIN(left, (size_t)max_items));
    for (size_t i = 0; i < want; i++) {
        const run_input *in = &job->inputs.v[job->todo[job->next++]];
        items[i] = (run_item){.doc = (uint64_t)(in - job->inputs.v),
                              .bytes = in->bytes,
                              .path = in->path,
                              .error = in->error};
    }
    return (uint32_t)want;
}

/* Automatic batch size per worker, like TCP's window: a worker that came back
 * within half of COORD_BATCH_SECONDS gets twice as many documents next time,
 * one that took over twice as long gets half. Fast workers (text PDFs, or the
 * benchmark's) soon get large batches, so rank 0 answers a few requests per
 * worker and second whatever the document speed; the cap by what is left
 * keeps the end balanced (largest documents went first). */
enum { COORD_BATCH_START = 1 };
#define COORD_BATCH_SECONDS 1.0

typedef struct {
    double asked;  /* when it last got work, 0 = never */
    uint32_t size; /* its current batch size */
} coord_worker;

static uint32_t coord_batch(const run_job *job, coord_worker *cw, double now) {
    if (job->opt->batch) return (uint32_t)job->opt->batch;
    if (cw->size == 0) cw->size = COORD_BATCH_START;
    if (cw->asked > 0) {
        double took = now - cw->asked;
        if (took < COORD_BATCH_SECONDS / 2 && cw->size < RUN_BATCH_MAX)
            cw->size *= 2;
        else if (took > COORD_BATCH_SECONDS * 2 && cw->size > 1)
            cw->size /= 2;
    }
    cw->asked = now;
    size_t left = job->ntodo - job->next, workers = (size_t)Q_MAX(job->workers, 1);
    size_t cap = Q_MAX(left / workers, 1); /* no more than a fair share of the rest */
    return (uint32_t)Q_MIN((size_t)cw->size, cap);
}

/* Sends HALT to every worker that has not been told STOP yet. */
static q_status coord_halt(run_job *job, const char *told, MPI_Request *halts, int sig) {
    q_log(Q_LOG_WARN,
          "stopping on %s: no more documents handed out; workers finish the document they "
          "have, close their journal shards and the job exits 0 (rerun or requeue to resume)",
          run_stop_name(sig));
    for (int w = 1; w < job->size; w++) {
        if (told[w]) continue;
        int rc = MPI_Isend(NULL, 0, MPI_BYTE, w, RUN_TAG_HALT, job->comm, &halts[w]);
        if (rc != MPI_SUCCESS) return run_mpi_fail(rc, "MPI_Isend of a halt");
    }
    return Q_OK;
}

q_status run_coordinate(run_job *job) {
    run_progress prog;
    run_progress_init(&prog, job->total, job->resumed, job->opt->progress_seconds, job->opt->quiet);
    static run_item items[RUN_BATCH_MAX];
    q_buf msg = {0};
    run_request req;
    MPI_Request pending = MPI_REQUEST_NULL;
    char *told = calloc((size_t)job->size, 1); /* worker was sent STOP */
    MPI_Request *halts = malloc((size_t)job->size * sizeof *halts);
    coord_worker *cw = calloc((size_t)job->size, sizeof *cw);
    if (!told || !halts || !cw) {
        free(told);
        free(halts);
        free(cw);
        return Q_FAIL(Q_ERR_NOMEM, "out of memory for %d ranks", job->size);
    }
    int active = 0, stopping = 0;
    for (int i = 0; i < job->size; i++) {
        halts[i] = MPI_REQUEST_NULL;
        /* GPU ranks serving CPU ranks never ask: nothing to tell them */
        told[i] = i == 0 || (job->asks && !job->asks[i]);
        active += !told[i];
    }
    job->workers = active;
    q_status st = Q_OK;
    int rc =
        MPI_Irecv(&req, sizeof req, MPI_BYTE, MPI_ANY_SOURCE, RUN_TAG_REQUEST, job->comm, &pending);
    if (rc != MPI_SUCCESS) st = run_mpi_fail(rc, "MPI_Irecv");
    run_backoff nap = {0};
    while (!st && active > 0) {
        if (!stopping && run_stop_signal()) {
            stopping = 1;
            if ((st = coord_halt(job, told, halts, run_stop_signal()))) break;
        }
        int done = 0;
        MPI_Status status;
        rc = MPI_Test(&pending, &done, &status);
        if (rc != MPI_SUCCESS) {
            st = run_mpi_fail(rc, "MPI_Test");
            break;
        }
        if (!done) {
            run_progress_tick(&prog, 0);
            run_backoff_sleep(&nap);
            continue;
        }
        run_backoff_reset(&nap);
        run_progress_add(&prog, &req);
        if (!stopping && (req.flags & RUN_REQ_STOPPING)) {
            stopping = 1;
            if ((st = coord_halt(job, told, halts, 0))) break;
        }
        int src = status.MPI_SOURCE;
        uint32_t n = stopping ? 0 : run_job_take(job, items, coord_batch(job, &cw[src], q_now()));
        if (n) {
            if ((st = run_batch_pack(&msg, items, n)) != Q_OK) break;
            rc = MPI_Send(msg.data, (int)msg.len, MPI_BYTE, src, RUN_TAG_WORK, job->comm);
        } else {
            rc = MPI_Send(NULL, 0, MPI_BYTE, src, RUN_TAG_STOP, job->comm);
            told[src] = 1;
            active--;
        }
        if (rc != MPI_SUCCESS) {
            st = run_mpi_fail(rc, "MPI_Send to a worker");
            break;
        }
        if (active > 0) {
            rc = MPI_Irecv(&req, sizeof req, MPI_BYTE, MPI_ANY_SOURCE, RUN_TAG_REQUEST, job->comm,
                           &pending);
            if (rc != MPI_SUCCESS) {
                st = run_mpi_fail(rc, "MPI_Irecv");
                break;
            }
        }
        run_progress_tick(&prog, 0);
    }
    for (int w = 1; !st && w < job->size; w++)
        if (halts[w] != MPI_REQUEST_NULL) st = run_wait(&halts[w], NULL);
    if (stopping && job->next < job->ntodo) job->halted = 1;
    run_progress_done(&prog);
    job->counts = prog.c;
    q_buf_free(&msg);
    free(told);
    free(halts);
    free(cw);
    return st;
}
