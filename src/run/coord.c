/* Rank 0's dispatch loop: workers ask when idle, rank 0 answers with the next
 * batch from the largest-first list, so one huge document never leaves other
 * ranks idle behind a static split. Rank 0 polls with growing naps instead of
 * a blocking receive, which in Open MPI would spin a core. On a stop signal
 * (its own, or one a worker reports) it tells every worker to halt and answers
 * every further request with STOP. A worker that fails says so and is waited
 * for no longer; the others are halted the same way. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run/alive.h"
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

/* The dispatch loop's state. */
typedef struct {
    run_job *job;
    run_progress prog;
    q_buf msg;       /* a batch being sent */
    q_buf in;        /* the request received: a run_request, then run_done entries */
    run_request req; /* its fixed part */
    char *told;      /* told[w]: worker w expects nothing more (STOP sent, or it failed) */
    MPI_Request *halts;
    coord_worker *cw;
    int active;     /* workers that still ask */
    int stopping;   /* no more documents handed out */
    char why[1024]; /* rank 0's own failure, when it could not answer (else empty) */
} coord;

/* Sends HALT to every worker that has not been told STOP yet. */
static q_status coord_halt(coord *c) {
    c->stopping = 1;
    for (int w = 1; w < c->job->size; w++) {
        if (c->told[w]) continue;
        int rc = MPI_Isend(NULL, 0, MPI_BYTE, w, RUN_TAG_HALT, c->job->comm, &c->halts[w]);
        if (rc != MPI_SUCCESS) return run_mpi_fail(rc, "MPI_Isend of a halt");
    }
    return Q_OK;
}

static q_status coord_halt_on_signal(coord *c, int sig) {
    q_log(Q_LOG_WARN,
          "stopping on %s: no more documents handed out; workers %s, close their journal "
          "shards and the job exits 0 (rerun or requeue to resume)",
          run_stop_name(sig),
          sig == SIGUSR1 ? "finish the document they have"
                         : "abandon the documents in flight (read again by the rerun)");
    return coord_halt(c);
}

/* A failed worker asks for nothing more and waits for no answer: without
 * this rank 0 would wait for it forever. The others are halted so that the
 * job ends within a document's time; the worker's own status carries the
 * failure into the agreement after the work phase (job.c prints it). */
static q_status coord_worker_failed(coord *c, int src) {
    c->told[src] = 1;
    c->active--;
    if (c->stopping) return Q_OK;
    q_log(Q_LOG_INFO,
          "rank %d failed: no more documents handed out; the other workers finish "
          "the document they have",
          src);
    return coord_halt(c);
}

/* Answers worker `src`'s request: the next batch, or STOP. A batch that cannot
 * be packed (out of memory) fails the job the way a worker's failure does:
 * the reason is kept for the end, and every worker is answered STOP from
 * then on instead of being left waiting. */
static q_status coord_answer(coord *c, int src) {
    run_job *job = c->job;
    uint32_t n = 0;
    static run_item items[RUN_BATCH_MAX];
    if (!c->stopping) n = run_job_take(job, items, coord_batch(job, &c->cw[src], q_now()));
    if (n && run_batch_pack(&c->msg, items, n) != Q_OK) {
        snprintf(c->why, sizeof c->why, "%s", q_errmsg());
        q_status st = coord_halt(c);
        if (st) return st;
        n = 0;
    }
    if (n) return run_send(c->msg.data, c->msg.len, src, RUN_TAG_WORK, job->comm, "sending work");
    c->told[src] = 1;
    c->active--;
    return run_send(NULL, 0, src, RUN_TAG_STOP, job->comm, "sending STOP");
}

/* One request received: its counts and finished documents, then what it
 * asks for. */
static q_status coord_take_request(coord *c, int src) {
    if (c->in.len < sizeof c->req)
        return Q_FAIL(Q_ERR_INTERNAL, "request of %zu bytes from rank %d", c->in.len, src);
    memcpy(&c->req, c->in.data, sizeof c->req);
    q_status st = run_report_take(c->job, c->req.ndone, c->in.data + sizeof c->req,
                                  c->in.len - sizeof c->req);
    if (st) return st;
    run_progress_add(&c->prog, &c->req);
    if (c->req.flags & RUN_REQ_FAILED) return coord_worker_failed(c, src);
    if (!c->stopping && (c->req.flags & RUN_REQ_STOPPING)) {
        st = coord_halt_on_signal(c, 0);
        if (st) return st;
    }
    return coord_answer(c, src);
}

/* Requests vary in length (their finished documents), so they are probed
 * for and then received whole. */
static q_status coord_loop(coord *c) {
    q_status st = Q_OK;
    run_backoff nap = {0};
    while (!st && c->active > 0) {
        if (!c->stopping && run_stop_signal() && (st = coord_halt_on_signal(c, run_stop_signal())))
            break;
        run_alive_tick();
        int done = 0;
        MPI_Status status;
        int rc = MPI_Iprobe(MPI_ANY_SOURCE, RUN_TAG_REQUEST, c->job->comm, &done, &status);
        if (rc != MPI_SUCCESS) return run_mpi_fail(rc, "MPI_Iprobe");
        if (!done) {
            run_progress_tick(&c->prog, 0);
            run_backoff_sleep(&nap);
            continue;
        }
        run_backoff_reset(&nap);
        st = run_recv_probed(c->job->comm, &status, &c->in);
        if (!st) st = coord_take_request(c, status.MPI_SOURCE);
        run_progress_tick(&c->prog, 0);
    }
    for (int w = 1; !st && w < c->job->size; w++)
        if (c->halts[w] != MPI_REQUEST_NULL) st = run_wait(&c->halts[w], NULL);
    return st;
}

q_status run_coordinate(run_job *job) {
    coord c = {.job = job};
    c.told = calloc((size_t)job->size, 1);
    c.halts = malloc((size_t)job->size * sizeof *c.halts);
    c.cw = calloc((size_t)job->size, sizeof *c.cw);
    q_status st = Q_OK;
    if (!c.told || !c.halts || !c.cw) {
        st = Q_FAIL(Q_ERR_NOMEM, "out of memory for %d ranks", job->size);
        goto done;
    }
    run_progress_init(&c.prog, job->total, job->resumed, job->opt->progress_seconds,
                      job->opt->quiet);
    for (int i = 0; i < job->size; i++) {
        c.halts[i] = MPI_REQUEST_NULL;
        /* GPU ranks serving CPU ranks never ask: nothing to tell them */
        c.told[i] = i == 0 || (job->asks && !job->asks[i]);
        c.active += !c.told[i];
    }
    job->workers = c.active;
    st = coord_loop(&c);
    if (!st && c.why[0]) st = Q_FAIL(Q_ERR_NOMEM, "%s", c.why);
    if (c.stopping && job->next < job->ntodo) job->halted = 1;
    run_progress_done(&c.prog);
    job->counts = c.prog.c;
done:
    q_buf_free(&c.msg);
    q_buf_free(&c.in);
    free(c.told);
    free(c.halts);
    free(c.cw);
    return st;
}
