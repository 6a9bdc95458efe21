/* The GPU rank's side of OCR on a node (issue 13): it runs networks and
 * nothing else. CPU ranks send network requests (ocr.h's remote: the input
 * tensor of a detection, line orientation or recognition batch); requests of
 * one network and shape from all clients are joined into one batch, run
 * when the batch is full, when every client is waiting on it, or after
 * LINGER_S, and each client gets its share back. Replies go out with
 * MPI_Isend, so that a slow client never stalls the others. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run/alive.h"
#include "run/job.h"

/* How long a request may wait for others to join it. */
#define LINGER_S 0.002

typedef struct {
    int from;       /* world rank; -1: the slot is free */
    int receiving;  /* the message is still coming (rq) */
    MPI_Request rq; /* its receive */
    q_buf buf;      /* the message, which req points into */
    ocr_net_req req;
    double since;
} srv_req;

typedef struct {
    q_buf buf;
    MPI_Request r;
} srv_out;

typedef struct {
    run_job *job;
    run_ocr ocr; /* the engine, loaded on the first request */
    srv_req *reqs;
    int nreq, pending, receiving; /* slots; of which waiting to run, and still coming */
    srv_out *outs;                /* replies being sent */
    int nout;
    ocr_net_req *batch; /* the batch being run: requests, their slots, replies */
    int *slot;
    q_buf *replies, *rep; /* per slot; the batch's in a row (moved in and back) */
    int *waiting;         /* per world rank: its requests here */
    int left;             /* clients that have not said done */
    uint64_t requests[OCR_NETS], batches;
    double wait;    /* seconds napping with nothing to run */
    double running; /* seconds in run_batch (networks included) */
} server;

/* Completes the reply sends that are done; *free_out: a free one, or -1. */
static q_status sweep_outs(server *s, int *free_out) {
    *free_out = -1;
    for (int i = 0; i < s->nout; i++) {
        int done = 1;
        if (s->outs[i].r != MPI_REQUEST_NULL) {
            int rc = MPI_Test(&s->outs[i].r, &done, MPI_STATUS_IGNORE);
            if (rc != MPI_SUCCESS) return run_mpi_fail(rc, "MPI_Test of a reply");
        }
        if (done && *free_out < 0) *free_out = i;
    }
    return Q_OK;
}

/* Sends `reply` to `to` without waiting, taking its memory. */
static q_status send_reply(server *s, int to, q_buf *reply) {
    int k;
    q_status st = sweep_outs(s, &k);
    if (st) return st;
    if (k < 0) {
        srv_out *o = realloc(s->outs, (size_t)(s->nout + 1) * sizeof *o);
        if (!o) return Q_FAIL(Q_ERR_NOMEM, "out of memory for a reply");
        s->outs = o;
        k = s->nout++;
        s->outs[k] = (srv_out){.r = MPI_REQUEST_NULL};
    }
    q_buf keep = s->outs[k].buf;
    s->outs[k].buf = *reply;
    *reply = keep;
    q_buf_clear(reply);
    q_buf *b = &s->outs[k].buf;
    int rc =
        MPI_Isend(b->data, (int)b->len, MPI_BYTE, to, RUN_TAG_NET_REP, s->job->comm, &s->outs[k].r);
    return rc == MPI_SUCCESS ? Q_OK : run_mpi_fail(rc, "MPI_Isend of a reply");
}

/* A free request slot (grown as needed: each client has at most its depth
 * of requests here, so the slots are bounded by the clients). */
static q_status free_slot(server *s, int *k) {
    for (int i = 0; i < s->nreq; i++)
        if (s->reqs[i].from < 0) return *k = i, Q_OK;
    int n = s->nreq ? 2 * s->nreq : 8;
    srv_req *r = realloc(s->reqs, (size_t)n * sizeof *r);
    if (r) s->reqs = r;
    ocr_net_req *b = realloc(s->batch, (size_t)n * sizeof *b);
    if (b) s->batch = b;
    int *sl = realloc(s->slot, (size_t)n * sizeof *sl);
    if (sl) s->slot = sl;
    q_buf *rp = realloc(s->replies, (size_t)n * sizeof *rp);
    if (rp) s->replies = rp;
    q_buf *rb = realloc(s->rep, (size_t)n * sizeof *rb);
    if (rb) s->rep = rb;
    if (!r || !b || !sl || !rp || !rb) return Q_FAIL(Q_ERR_NOMEM, "out of memory for requests");
    for (int i = s->nreq; i < n; i++) {
        s->reqs[i] = (srv_req){.from = -1, .rq = MPI_REQUEST_NULL};
        s->replies[i] = (q_buf){0};
    }
    *k = s->nreq;
    s->nreq = n;
    return Q_OK;
}

/* Takes a client's "done" if one is waiting; *got = 1 when it did. */
static q_status take_done(server *s, int *got) {
    MPI_Comm comm = s->job->comm;
    MPI_Status status;
    int flag = 0;
    *got = 0;
    int rc = MPI_Iprobe(MPI_ANY_SOURCE, RUN_TAG_OCR_DONE, comm, &flag, &status);
    if (rc != MPI_SUCCESS) return run_mpi_fail(rc, "MPI_Iprobe");
    if (!flag) return Q_OK;
    rc = MPI_Recv(NULL, 0, MPI_BYTE, status.MPI_SOURCE, RUN_TAG_OCR_DONE, comm, MPI_STATUS_IGNORE);
    if (rc != MPI_SUCCESS) return run_mpi_fail(rc, "MPI_Recv of done");
    s->left--;
    *got = 1;
    return Q_OK;
}

/* Starts receiving one waiting request if there is one (*got = 1 when it
 * did); the receive completes in complete_requests. */
static q_status take_request(server *s, int *got) {
    MPI_Comm comm = s->job->comm;
    MPI_Status status;
    int flag = 0, k = 0;
    q_status st = take_done(s, got);
    if (st || *got) return st;
    int rc = MPI_Iprobe(MPI_ANY_SOURCE, RUN_TAG_NET_REQ, comm, &flag, &status);
    if (rc != MPI_SUCCESS) return run_mpi_fail(rc, "MPI_Iprobe");
    if (!flag) return Q_OK;
    if ((st = free_slot(s, &k))) return st;
    srv_req *r = &s->reqs[k];
    if ((st = run_irecv_probed(comm, &status, &r->buf, &r->rq)))
        return q_fail_context("receiving a request");
    r->from = status.MPI_SOURCE;
    r->receiving = 1;
    s->receiving++;
    *got = 1;
    return Q_OK;
}

/* Requests whose bytes have all come wait to run; a malformed one is
 * answered with its error at once. */
static q_status complete_requests(server *s) {
    for (int k = 0; k < s->nreq; k++) {
        srv_req *r = &s->reqs[k];
        int done = 0;
        if (r->from < 0 || !r->receiving) continue;
        int rc = MPI_Test(&r->rq, &done, MPI_STATUS_IGNORE);
        if (rc != MPI_SUCCESS) return run_mpi_fail(rc, "MPI_Test of a request");
        if (!done) continue;
        r->receiving = 0;
        s->receiving--;
        if (ocr_net_req_parse(r->buf.data, r->buf.len, &r->req)) {
            /* a bug of quire's (both ends are one build): its asker fails the page */
            int from = r->from;
            r->from = -1;
            q_status st = ocr_net_reply_fail(0, q_errcode(), q_errmsg(), &s->replies[k]);
            if (!st) st = send_reply(s, from, &s->replies[k]);
            if (st) return st;
            continue;
        }
        r->since = q_now();
        s->waiting[r->from]++;
        s->pending++;
        s->requests[r->req.net]++;
    }
    return Q_OK;
}

static void release(server *s, int k) {
    s->waiting[s->reqs[k].from]--;
    s->reqs[k].from = -1;
    s->pending--;
}

/* The batch to run next: the oldest request and every waiting request that
 * joins it, up to the network's batch size. Returns how many; *ready when it
 * should run now. */
static int choose(server *s, int *ready) {
    int first = -1;
    for (int i = 0; i < s->nreq; i++)
        if (s->reqs[i].from >= 0 && !s->reqs[i].receiving &&
            (first < 0 || s->reqs[i].since < s->reqs[first].since))
            first = i;
    const ocr_net_req *r0 = &s->reqs[first].req;
    int max = ocr_net_batch_max(r0->net), n = 0;
    int64_t size = 0;
    for (int i = 0; i < s->nreq; i++) {
        const srv_req *r = &s->reqs[i];
        if (r->from < 0 || r->receiving || !ocr_net_req_joinable(r0, &r->req)) continue;
        if (n && size + r->req.shape.dims[0] > max) continue;
        size += r->req.shape.dims[0];
        s->slot[n] = i;
        s->batch[n++] = r->req;
    }
    /* every client that may still send is waiting here: none will join */
    int asking = 0, ranks = s->job->size;
    for (int i = 0; i < ranks; i++)
        asking += s->waiting[i] > 0;
    *ready = size >= max || asking >= s->left || q_now() - s->reqs[first].since >= LINGER_S;
    return n;
}

/* Runs the chosen batch and sends each client its share. Requests past
 * their deadline are answered with a timeout instead. */
static q_status run_batch(server *s, int n) {
    q_status st = run_ocr_engine_load(&s->ocr);
    if (st) return Q_OK; /* s->ocr.load_failed: the loop refuses from now on */
    int m = 0;
    double now = q_now();
    for (int i = 0; !st && i < n; i++) {
        int k = s->slot[i];
        if (s->batch[i].deadline > 0 && now > s->batch[i].deadline) {
            st = ocr_net_reply_fail(s->batch[i].ticket, Q_ERR_TIMEOUT,
                                    "time limit reached before the network ran", &s->replies[k]);
            if (!st) st = send_reply(s, s->reqs[k].from, &s->replies[k]);
            release(s, k);
            continue;
        }
        s->batch[m] = s->batch[i];
        s->slot[m++] = k;
    }
    q_buf *rep = s->rep; /* no allocation per batch: the slots' buffers, moved */
    for (int i = 0; i < m; i++)
        rep[i] = s->replies[s->slot[i]];
    if (!st && m) st = ocr_net_serve(s->ocr.engine, s->batch, (size_t)m, rep);
    for (int i = 0; i < m; i++) {
        int k = s->slot[i];
        if (!st) st = send_reply(s, s->reqs[k].from, &rep[i]);
        s->replies[k] = rep[i];
        release(s, k);
    }
    s->batches += m > 0;
    return st;
}

/* Tells `to` that this rank runs no networks any more (`how`), and why; a
 * small message that needs no memory. */
static q_status send_refusal(MPI_Comm comm, int to, uint64_t ticket, const char *why,
                             uint32_t how) {
    struct {
        run_ocr_refusal h;
        char why[1024];
    } m = {.h = {.magic = RUN_OCR_REFUSAL_MAGIC, .how = how, .ticket = ticket}};
    m.h.len = (uint32_t)snprintf(m.why, sizeof m.why, "%s", why);
    if (m.h.len >= sizeof m.why) m.h.len = sizeof m.why - 1;
    return run_send(&m, sizeof m.h + m.h.len, to, RUN_TAG_NET_REP, comm, "sending a refusal");
}

/* The server cannot go on (no memory, no models): every request waiting
 * here and every request that comes is answered with a refusal until each
 * client has said done. The clients read their pages themselves
 * (LOCAL) or end the job (FATAL, no models); none waits for an answer that
 * would never come while this rank waits in the job's next collective. */
static q_status serve_refuse(server *s, const char *why, uint32_t how) {
    MPI_Comm comm = s->job->comm;
    if (how == RUN_REFUSE_LOCAL) /* a fatal cause is the job's one line, from rank 0 */
        q_log(Q_LOG_WARN, "OCR rank: refusing: %s; its %d ranks read their pages themselves", why,
              s->job->role.clients);
    q_status st = Q_OK;
    for (int i = 0; !st && i < s->nreq; i++) {
        srv_req *r = &s->reqs[i];
        if (r->from < 0) continue;
        if (r->receiving) { /* its sender waits for it to be taken */
            st = run_wait(&r->rq, MPI_STATUS_IGNORE);
            r->receiving = 0;
            s->receiving--;
            if (ocr_net_req_parse(r->buf.data, r->buf.len, &r->req)) r->req.ticket = 0;
            s->waiting[r->from]++;
            s->pending++;
        }
        if (!st) st = send_refusal(comm, r->from, r->req.ticket, why, how);
        release(s, i);
    }
    q_buf in = {0};
    run_backoff nap = {0};
    while (!st && s->left > 0) {
        MPI_Status status;
        int got = 0, flag = 0, rc;
        if ((st = take_done(s, &got)) || got) continue;
        if ((rc = MPI_Iprobe(MPI_ANY_SOURCE, RUN_TAG_NET_REQ, comm, &flag, &status)) !=
            MPI_SUCCESS) {
            st = run_mpi_fail(rc, "MPI_Iprobe");
        } else if (flag) {
            /* the tensor must be taken: a large message's sender waits for it */
            st = run_recv_probed(comm, &status, &in);
            ocr_net_req r = {0};
            if (!st && ocr_net_req_parse(in.data, in.len, &r)) q_errclear();
            if (!st) st = send_refusal(comm, status.MPI_SOURCE, r.ticket, why, how);
            run_backoff_reset(&nap);
        } else {
            run_backoff_sleep(&nap);
        }
    }
    q_buf_free(&in);
    return st;
}

static void serve_log(const server *s, double up) {
    const ocr_engine *e = s->ocr.engine;
    double nn = ocr_engine_nn_seconds(e), busy = up - s->wait, other = busy > nn ? busy - nn : 0;
    uint64_t all = s->requests[OCR_NET_DET] + s->requests[OCR_NET_CLS] + s->requests[OCR_NET_REC];
    /* busy and the other time's share say whether this rank or its clients
     * set the pace (bench/gpu/device_check.sh reads this line) */
    q_log(
        Q_LOG_INFO,
        "OCR rank: ran %llu network requests for %d ranks (det %llu, cls %llu, rec %llu) in "
        "%llu batches on %s; busy %.1f s of %.1f s (%.0f %%); networks %.1f s, other %.1f s "
        "(%.1f %% of networks: in batches %.1f s, between %.1f s)",
        (unsigned long long)all, s->job->role.clients, (unsigned long long)s->requests[OCR_NET_DET],
        (unsigned long long)s->requests[OCR_NET_CLS], (unsigned long long)s->requests[OCR_NET_REC],
        (unsigned long long)s->batches, ocr_engine_backend(e), busy, up,
        up > 0 ? 100 * busy / up : 0, nn, other, nn > 0 ? 100 * other / nn : 0,
        Q_MAX(s->running - nn, 0.0), Q_MAX(busy - s->running, 0.0));
}

static void server_free(server *s) {
    for (int i = 0; i < s->nout; i++) {
        if (s->outs[i].r != MPI_REQUEST_NULL) run_wait(&s->outs[i].r, MPI_STATUS_IGNORE);
        q_buf_free(&s->outs[i].buf);
    }
    for (int i = 0; i < s->nreq; i++) {
        if (s->reqs[i].from >= 0 && s->reqs[i].receiving)
            run_wait(&s->reqs[i].rq, MPI_STATUS_IGNORE);
        q_buf_free(&s->reqs[i].buf);
        q_buf_free(&s->replies[i]);
    }
    free(s->outs);
    free(s->reqs);
    free(s->batch);
    free(s->slot);
    free(s->replies);
    free(s->rep);
    free(s->waiting);
    run_ocr_free(&s->ocr);
}

/* The loop: take what is waiting, run a batch when one is ready, nap. */
static q_status serve_loop(server *s, char *why, size_t cap, uint32_t *how) {
    q_status st = Q_OK;
    run_backoff nap = {0};
    while (!st && (s->left > 0 || s->pending > 0 || s->receiving > 0)) {
        run_alive_tick();
        int got = 0, ready = 0, freed;
        if ((st = take_request(s, &got)) || got) {
            run_backoff_reset(&nap);
            continue; /* take everything that is waiting before running */
        }
        if ((st = complete_requests(s)) || (st = sweep_outs(s, &freed))) break;
        int n = s->pending ? choose(s, &ready) : 0;
        if (!ready) {
            double t = q_now();
            run_backoff_sleep(&nap);
            s->wait += q_now() - t;
            continue;
        }
        run_backoff_reset(&nap); /* what follows is work, not a wait (rankstats.h) */
        double t0 = q_now();
        st = run_batch(s, n);
        s->running += q_now() - t0;
        if (!st && s->ocr.load_failed) {
            /* no models: every request from now on is refused as job-fatal,
             * and this rank fails with the cause once its clients are done */
            snprintf(why, cap, "%s", s->ocr.why);
            *how = RUN_REFUSE_FATAL;
            return Q_OK;
        }
        if (st == Q_ERR_NOMEM) { /* the clients can read their pages themselves */
            snprintf(why, cap, "%s", q_errmsg());
            return Q_OK;
        }
    }
    return st;
}

q_status run_ocr_serve(run_job *job) {
    char models[4096];
    ocr_options oo = run_ocr_engine_options(job, models, sizeof models);
    oo.decode = OCR_DECODE_GREEDY; /* no decoding here: no word lists to load */
    server s = {.job = job, .left = job->role.clients};
    run_ocr_init(&s.ocr, &oo);
    s.waiting = calloc((size_t)job->size, sizeof *s.waiting);
    char why[sizeof s.ocr.why] = "";
    uint32_t how = RUN_REFUSE_LOCAL;
    if (!s.waiting) snprintf(why, sizeof why, "out of memory for %d ranks", job->size);
    /* QUIRE_TEST_OCR_REFUSE=1: the same as that failure, for the test of it
     * (tests/e2e/ocr.sh gpu-rank-refuses) */
    const char *t = getenv("QUIRE_TEST_OCR_REFUSE");
    if (!why[0] && t && !strcmp(t, "1"))
        snprintf(why, sizeof why, "refusing (QUIRE_TEST_OCR_REFUSE)");
    double start = q_now();
    q_status st = why[0] ? Q_OK : serve_loop(&s, why, sizeof why, &how);
    if (!st && why[0]) st = serve_refuse(&s, why, how);
    if (!st && how == RUN_REFUSE_FATAL) st = Q_FAIL(Q_ERR_UNSUPPORTED, "%s", why);
    if (s.batches && s.ocr.engine) serve_log(&s, q_now() - start);
    server_free(&s);
    return st;
}
