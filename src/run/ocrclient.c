/* OCR placement on a node (DESIGN.md §1; issue 13): a CPU rank reads its
 * pages itself (decoding, detection's pre- and post-processing, crops,
 * CTC decoding, the fixes) with an engine whose networks run on the node's
 * GPU rank: only tensors and the networks' outputs travel, at most
 * CLIENT_DEPTH requests in flight. A reader child's requests go through its
 * parent (child.c), which alone talks MPI. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run/job.h"

/* Requests in flight per CPU rank: recognition batches of a page go out
 * while the previous one runs, so that the GPU rank always has work queued. */
enum { CLIENT_DEPTH = 2 };

ocr_options run_ocr_engine_options(const run_job *job, char *models, size_t cap) {
    ocr_options oo = job->opt->ocr;
    oo.models_dir = run_models_dir(job->opt->models_dir, models, cap);
    if (job->role.device >= 0) {
        /* CUDA where it is usable, else the CPU (said once); the CUDA backend
         * picks its GPU from QUIRE_CUDA_DEVICE (nn.h) */
        oo.backend = NN_BACKEND_AUTO;
        char dev[16];
        snprintf(dev, sizeof dev, "%d", job->role.device);
        setenv("QUIRE_CUDA_DEVICE", dev, 1);
    }
    if (job->role.kind == RUN_ROLE_GPU && job->role.clients > 0) {
        /* Its clients wait for their pages while it reads them: the cores of
         * the node are shared by its GPU ranks only. */
        if (oo.threads <= 0) {
            long cores = sysconf(_SC_NPROCESSORS_ONLN);
            long t = cores / Q_MAX(job->role.node_gpus, 1);
            oo.threads = t < 1 ? 1 : (int)t;
        }
    } else if (oo.threads <= 0) {
        oo.threads = run_ocr_threads();
    }
    return oo;
}

void run_ocr_client_init(run_ocr_client *c, MPI_Comm comm, int server) {
    memset(c, 0, sizeof *c);
    c->comm = comm;
    c->server = server;
    run_netlink_init(&c->link, comm, server);
}

void run_ocr_client_free(run_ocr_client *c) {
    if (!c) return;
    run_ocr_free(&c->remote);
    run_netlink_free(&c->link);
}

static q_status client_send(void *user, q_buf *msg) {
    run_ocr_client *c = user;
    return c->xfer_send ? c->xfer_send(c->xfer_user, msg) : run_netlink_send(&c->link, msg);
}

/* A refusal (run_ocr_refusal, from ocrserve.c) becomes the failure of its
 * request, so that the engine sees a reply for every request; it also says
 * how to go on: a job-fatal one (no models) marks the local engine as
 * unloadable, which ends the job after the document; otherwise the pages
 * are read here from now on. */
static q_status client_recv(void *user, q_buf *msg) {
    run_ocr_client *c = user;
    q_status st = c->xfer_recv ? c->xfer_recv(c->xfer_user, msg) : run_netlink_recv(&c->link, msg);
    run_ocr_refusal r;
    if (st || msg->len < sizeof r) return st;
    memcpy(&r, msg->data, sizeof r);
    if (r.magic != RUN_OCR_REFUSAL_MAGIC) return Q_OK;
    char why[sizeof c->local->why];
    snprintf(why, sizeof why, "%.*s", (int)Q_MIN((size_t)r.len, msg->len - sizeof r),
             msg->data + sizeof r);
    if (r.how == RUN_REFUSE_FATAL) {
        c->local->load_failed = 1;
        snprintf(c->local->why, sizeof c->local->why, "%s", why);
    } else if (!c->refused) {
        q_log(Q_LOG_WARN, "the GPU rank %d runs no networks (%s): reading pages here", c->server,
              why);
        c->refused = 1;
    }
    return ocr_net_reply_fail(r.ticket, Q_ERR_UNSUPPORTED, why, msg);
}

/* The remote engine, made on the first page (it loads the dictionary and
 * word lists only); the options are the local engine's. */
static q_status client_engine(run_ocr_client *c) {
    if (c->remote.engine) return Q_OK;
    c->wire =
        (ocr_remote){.send = client_send, .recv = client_recv, .user = c, .depth = CLIENT_DEPTH};
    ocr_options o = c->local->opt;
    o.remote = &c->wire;
    run_ocr_init(&c->remote, &o);
    q_status st = run_ocr_engine_load(&c->remote);
    if (st && !c->local->load_failed) { /* the dictionary is missing: as no models */
        c->local->load_failed = 1;
        snprintf(c->local->why, sizeof c->local->why, "%s", c->remote.why);
    }
    return st;
}

q_status run_ocr_client_page(void *user, doc_file *f, uint32_t page, lay_doc *rec) {
    run_ocr_client *c = user;
    if (c->refused || c->local->load_failed) return run_ocr_page(c->local, f, page, rec);
    q_status st = client_engine(c);
    if (st) return st;
    c->remote.deadline = c->local->deadline;
    c->remote.on_page = c->local->on_page;
    c->remote.on_page_user = c->local->on_page_user;
    st = run_ocr_page(&c->remote, f, page, rec);
    if (c->refused) return run_ocr_page(c->local, f, page, rec); /* this page and the rest */
    c->pages += !st;
    return st;
}

q_status run_ocr_client_done(run_ocr_client *c) {
    return run_send(NULL, 0, c->server, RUN_TAG_OCR_DONE, c->comm, "sending done to the GPU rank");
}
