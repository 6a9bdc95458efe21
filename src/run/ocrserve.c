/* OCR placement on a node (DESIGN.md §1): CPU ranks decode or render pages and
 * send the pixels to the GPU rank of their node; the GPU rank reads the pages
 * that are waiting, several at once so that recognition batches fill up across
 * pages, and sends each page's lines back. A CPU rank has one page in flight
 * (doc hands pages over one by one), so the server holds at most one page per
 * client: its memory is bounded by its clients, not by the queue. */
#define _POSIX_C_SOURCE 200809L
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run/alive.h"
#include "run/job.h"

/* Page message: this header, then w*h*channels bytes of pixels. */
typedef struct {
    int32_t w, h, channels, pad;
    double deadline; /* q_now() seconds; CLOCK_MONOTONIC is one clock per node */
} ocr_page_msg;

/* Lines message: this header, the error text (errlen bytes), then per line an
 * ocr_line_msg and its text (len bytes). */
typedef struct {
    int32_t status; /* q_status of the page */
    uint32_t nlines, errlen;
    uint32_t refused; /* REFUSE_*: the server reads no pages any more */
    double t_det, t_cls, t_rec;
    int32_t rotation; /* ocr_result.rotation: the page was read turned by this */
    uint32_t pad;
} ocr_lines_msg;

/* ocr_lines_msg.refused. LOCAL: read your pages yourself. FATAL: the server
 * cannot load the models, which the client cannot either (same folder, same
 * files): the job must stop, and the page's document gets no record. */
enum { REFUSE_LOCAL = 1, REFUSE_FATAL = 2 };

typedef struct {
    float quad[8];
    float conf;
    uint32_t len;
} ocr_line_msg;

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

/* ---- the CPU rank's side ---- */

q_status run_ocr_client_xfer(run_ocr_client *c, q_buf *msg) {
    q_status st = run_send(msg->data, msg->len, c->server, RUN_TAG_OCR_PAGE, c->comm,
                           "sending a page to the GPU rank");
    if (st) return st;
    int rc;
    /* probe with naps: the answer takes as long as the page's OCR */
    MPI_Status status;
    run_backoff nap = {0};
    for (;;) {
        int flag = 0;
        rc = MPI_Iprobe(c->server, RUN_TAG_OCR_LINES, c->comm, &flag, &status);
        if (rc != MPI_SUCCESS) return run_mpi_fail(rc, "MPI_Iprobe");
        if (flag) break;
        run_backoff_sleep(&nap);
    }
    if (run_recv_probed(c->comm, &status, msg)) return q_fail_context("receiving a page's lines");
    return Q_OK;
}

static q_status client_exchange(run_ocr_client *c, const q_image *img, ocr_result *res) {
    size_t px = (size_t)img->w * (size_t)img->h * (size_t)img->channels;
    ocr_page_msg h = {
        .w = img->w, .h = img->h, .channels = img->channels, .deadline = c->local->deadline};
    q_buf_clear(&c->msg);
    q_status st = q_buf_append(&c->msg, &h, sizeof h);
    size_t row = (size_t)img->w * (size_t)img->channels;
    if (!st) st = q_buf_reserve(&c->msg, px);
    for (int y = 0; !st && y < img->h; y++) /* rows packed: the stride stays here */
        st = q_buf_append(&c->msg, img->px + (size_t)y * img->stride, row);
    if (st) return st;
    st = c->xfer ? c->xfer(c->xfer_user, &c->msg) : run_ocr_client_xfer(c, &c->msg);
    if (st) return st;
    const char *p = c->msg.data, *end = p + c->msg.len;
    ocr_lines_msg lh;
    if ((size_t)(end - p) < sizeof lh) return Q_FAIL(Q_ERR_MPI, "short lines message");
    memcpy(&lh, p, sizeof lh);
    p += sizeof lh;
    if (lh.errlen > (size_t)(end - p)) return Q_FAIL(Q_ERR_MPI, "short lines message");
    if (lh.refused == REFUSE_FATAL) {
        /* the worker sees load_failed after the document and ends the job */
        c->local->load_failed = 1;
        snprintf(c->local->why, sizeof c->local->why, "%.*s", (int)lh.errlen, p);
        return Q_FAIL(Q_ERR_UNSUPPORTED, "%s", c->local->why);
    }
    if (lh.refused) {
        c->refused = 1;
        q_log(Q_LOG_WARN, "the GPU rank %d reads no pages (%.*s): reading them here", c->server,
              (int)lh.errlen, p);
        return Q_FAIL(Q_ERR_UNSUPPORTED, "the GPU rank reads no pages");
    }
    if (lh.status) return Q_FAIL((q_status)lh.status, "%.*s", (int)lh.errlen, p);
    p += lh.errlen;
    memset(res, 0, sizeof *res);
    res->t_det = lh.t_det, res->t_cls = lh.t_cls, res->t_rec = lh.t_rec;
    if (lh.rotation % 90 || lh.rotation < 0 || lh.rotation > 270)
        return Q_FAIL(Q_ERR_MPI, "lines message claims a rotation of %d", (int)lh.rotation);
    res->rotation = lh.rotation;
    if (lh.nlines > (size_t)(end - p) / sizeof(ocr_line_msg))
        return Q_FAIL(Q_ERR_MPI, "lines message claims %u lines", lh.nlines);
    res->lines = calloc(lh.nlines ? lh.nlines : 1, sizeof *res->lines);
    if (!res->lines) return Q_FAIL(Q_ERR_NOMEM, "out of memory for %u lines", lh.nlines);
    for (uint32_t i = 0; !st && i < lh.nlines; i++) {
        ocr_line_msg lm;
        if ((size_t)(end - p) < sizeof lm) return Q_FAIL(Q_ERR_MPI, "short lines message");
        memcpy(&lm, p, sizeof lm);
        p += sizeof lm;
        if (lm.len > (size_t)(end - p)) return Q_FAIL(Q_ERR_MPI, "short lines message");
        ocr_line *l = &res->lines[res->n++];
        memcpy(l->quad, lm.quad, sizeof l->quad);
        l->conf = lm.conf;
        l->len = lm.len;
        l->text = (const char *)(uintptr_t)res->text.len; /* an offset until the end */
        st = q_buf_append(&res->text, p, lm.len);
        if (!st) st = q_buf_append(&res->text, "", 1);
        p += lm.len;
    }
    for (size_t i = 0; !st && i < res->n; i++)
        res->lines[i].text = res->text.data + (uintptr_t)res->lines[i].text;
    return st;
}

q_status run_ocr_client_page(void *user, doc_file *f, uint32_t page, lay_doc *rec) {
    run_ocr_client *c = user;
    if (c->refused || c->local->load_failed) return run_ocr_page(c->local, f, page, rec);
    double t0 = q_now();
    doc_page_image pi;
    q_status st = doc_page_image_get(f, page, &pi);
    if (st) return st;
    size_t bytes = (size_t)pi.img.w * (size_t)pi.img.h * (size_t)pi.img.channels;
    if (bytes > (size_t)INT_MAX - sizeof(ocr_page_msg)) {
        /* beyond one MPI message (2 GiB): read here rather than fail the page */
        doc_page_image_free(&pi);
        return run_ocr_page(c->local, f, page, rec);
    }
    ocr_result res = {0};
    st = client_exchange(c, &pi.img, &res);
    if (c->refused) { /* this page and the rest are read here */
        ocr_result_free(&res);
        doc_page_image_free(&pi);
        return run_ocr_page(c->local, f, page, rec);
    }
    st = run_ocr_finish(st, &res, &pi, page, t0, rec);
    c->pages += !st;
    return st;
}

q_status run_ocr_client_done(run_ocr_client *c) {
    q_buf_free(&c->msg);
    return run_send(NULL, 0, c->server, RUN_TAG_OCR_DONE, c->comm, "sending done to the GPU rank");
}

/* ---- the GPU rank's side ---- */

typedef struct {
    int from;
    double deadline;
    q_image img; /* points into buf */
    q_buf buf;
    ocr_result res;
    q_status st;
    char err[512];
} serve_page;

typedef struct {
    run_job *job;
    run_ocr ocr; /* the engine, loaded on the first page */
    serve_page *pages;
    q_image *imgs;   /* the batch given to ocr_images ... */
    ocr_result *res; /* ... its results ... */
    int *idx;        /* ... and the page each came from */
    int n, cap;
    int left; /* clients that have not said done */
    q_buf reply;
    uint64_t served, batches;
    double busy, t_det, t_cls, t_rec; /* seconds reading pages; in each network */
} server;

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

/* Receives one waiting message if there is one; *got = 1 when it did. */
static q_status serve_poll(server *s, int *got) {
    MPI_Comm comm = s->job->comm;
    MPI_Status status;
    int flag = 0;
    q_status st = take_done(s, got);
    if (st || *got) return st;
    if (s->n == s->cap) return Q_OK; /* every client has a page here */
    int rc = MPI_Iprobe(MPI_ANY_SOURCE, RUN_TAG_OCR_PAGE, comm, &flag, &status);
    if (rc != MPI_SUCCESS) return run_mpi_fail(rc, "MPI_Iprobe");
    if (!flag) return Q_OK;
    serve_page *p = &s->pages[s->n];
    st = run_recv_probed(comm, &status, &p->buf);
    if (st) return q_fail_context("receiving a page");
    size_t count = p->buf.len;
    ocr_page_msg h = {0};
    if (count >= sizeof h) memcpy(&h, p->buf.data, sizeof h);
    size_t px = (size_t)Q_MAX(h.w, 0) * (size_t)Q_MAX(h.h, 0) * (size_t)Q_MAX(h.channels, 0);
    p->from = status.MPI_SOURCE;
    p->deadline = h.deadline;
    p->st = Q_OK;
    p->err[0] = 0;
    memset(&p->res, 0, sizeof p->res);
    if (count < sizeof h || px != count - sizeof h || px == 0) {
        p->st = Q_ERR_MPI;
        snprintf(p->err, sizeof p->err, "page message of %zu bytes does not match its header",
                 count);
    }
    p->img = (q_image){.w = h.w,
                       .h = h.h,
                       .channels = h.channels,
                       .stride = (size_t)Q_MAX(h.w, 0) * (size_t)Q_MAX(h.channels, 0),
                       .px = (uint8_t *)p->buf.data + sizeof h};
    s->n++;
    *got = 1;
    return Q_OK;
}

static void serve_fail(serve_page *p, q_status st) {
    p->st = st;
    snprintf(p->err, sizeof p->err, "%s", q_errmsg());
}

/* Reads the waiting pages: together when all goes well; one by one when the
 * batch fails, so that one bad page (or one past its deadline) gets its own
 * error and the others their lines. */
static void serve_read(server *s) {
    int m = 0, unbounded = 0;
    double latest = 0, now = q_now();
    for (int i = 0; i < s->n; i++) {
        serve_page *p = &s->pages[i];
        if (p->st) continue;
        if (p->deadline > 0 && now > p->deadline) {
            serve_fail(p, Q_FAIL(Q_ERR_TIMEOUT, "time limit reached before OCR"));
            continue;
        }
        q_status st = run_ocr_engine_load(&s->ocr);
        if (st) {
            serve_fail(p, st);
            continue;
        }
        s->imgs[m] = p->img;
        s->idx[m++] = i;
        unbounded |= p->deadline <= 0;
        latest = Q_MAX(latest, p->deadline);
    }
    /* the batch may run until the last of its pages' deadlines */
    double deadline = unbounded ? 0 : latest;
    if (m > 1 && ocr_images(s->ocr.engine, s->imgs, (size_t)m, deadline, s->res) == Q_OK) {
        for (int k = 0; k < m; k++)
            s->pages[s->idx[k]].res = s->res[k];
        m = 0;
    }
    for (int k = 0; k < m; k++) {
        serve_page *p = &s->pages[s->idx[k]];
        q_status st = ocr_image(s->ocr.engine, &p->img, p->deadline, &p->res);
        if (st) serve_fail(p, st);
    }
}

static q_status serve_reply(server *s, serve_page *p) {
    q_buf *b = &s->reply;
    q_buf_clear(b);
    ocr_lines_msg h = {.status = p->st,
                       .nlines = p->st ? 0 : (uint32_t)p->res.n,
                       .errlen = p->st ? (uint32_t)strlen(p->err) : 0,
                       .t_det = p->res.t_det,
                       .t_cls = p->res.t_cls,
                       .t_rec = p->res.t_rec,
                       .rotation = p->st ? 0 : p->res.rotation};
    q_status st = q_buf_append(b, &h, sizeof h);
    if (!st) st = q_buf_append(b, p->err, h.errlen);
    for (uint32_t i = 0; !st && i < h.nlines; i++) {
        const ocr_line *l = &p->res.lines[i];
        ocr_line_msg lm = {.conf = l->conf, .len = (uint32_t)l->len};
        memcpy(lm.quad, l->quad, sizeof lm.quad);
        st = q_buf_append(b, &lm, sizeof lm);
        if (!st) st = q_buf_append(b, l->text, l->len);
    }
    ocr_result_free(&p->res);
    if (st) return st;
    return run_send(b->data, b->len, p->from, RUN_TAG_OCR_LINES, s->job->comm,
                    "sending a page's lines");
}

/* Tells the client `to` that this rank reads no pages any more (`how`, a
 * REFUSE_*), and why; a fixed-size message, so that it needs no memory. */
static q_status send_refusal(MPI_Comm comm, int to, const char *why, uint32_t how) {
    struct {
        ocr_lines_msg h;
        char why[1024];
    } m = {.h = {.status = Q_ERR_UNSUPPORTED, .refused = how}};
    m.h.errlen = (uint32_t)snprintf(m.why, sizeof m.why, "%s", why);
    if (m.h.errlen >= sizeof m.why) m.h.errlen = sizeof m.why - 1;
    return run_send(&m, sizeof m.h + m.h.errlen, to, RUN_TAG_OCR_LINES, comm, "sending a refusal");
}

/* The server cannot go on (no memory for its clients' pages, or for a
 * reply): every page that comes is answered with a refusal until each client
 * has said done. The clients read their pages themselves (REFUSE_LOCAL) or
 * end the job (REFUSE_FATAL, no models); none waits for an
 * answer that would never come while this rank waits in the job's next
 * collective. */
static q_status serve_refuse(server *s, const char *why, uint32_t how) {
    MPI_Comm comm = s->job->comm;
    if (how == REFUSE_LOCAL) /* a fatal cause is the job's one line, from rank 0 */
        q_log(Q_LOG_WARN, "OCR rank: %s; its %d ranks read their pages themselves", why,
              s->job->role.clients);
    q_buf in = {0};
    run_backoff nap = {0};
    q_status st = Q_OK;
    while (!st && s->left > 0) {
        MPI_Status status;
        int got = 0, flag = 0, rc;
        if ((st = take_done(s, &got)) || got) continue;
        if ((rc = MPI_Iprobe(MPI_ANY_SOURCE, RUN_TAG_OCR_PAGE, comm, &flag, &status)) !=
            MPI_SUCCESS) {
            st = run_mpi_fail(rc, "MPI_Iprobe");
        } else if (flag) {
            /* the pixels must be taken: a large message's sender waits for it */
            st = run_recv_probed(comm, &status, &in);
            if (!st) st = send_refusal(comm, status.MPI_SOURCE, why, how);
            q_buf_free(&in);
            run_backoff_reset(&nap);
        } else {
            run_backoff_sleep(&nap);
        }
    }
    q_buf_free(&in);
    return st;
}

q_status run_ocr_serve(run_job *job) {
    char models[4096];
    ocr_options oo = run_ocr_engine_options(job, models, sizeof models);
    server s = {.job = job, .cap = job->role.clients, .left = job->role.clients};
    run_ocr_init(&s.ocr, &oo);
    s.pages = calloc((size_t)s.cap, sizeof *s.pages);
    s.imgs = calloc((size_t)s.cap, sizeof *s.imgs);
    s.res = calloc((size_t)s.cap, sizeof *s.res);
    s.idx = calloc((size_t)s.cap, sizeof *s.idx);
    char why[sizeof s.ocr.why] = "";
    uint32_t how = REFUSE_LOCAL;
    if (!s.pages || !s.imgs || !s.res || !s.idx)
        snprintf(why, sizeof why, "out of memory for %d ranks' pages", s.cap);
    /* QUIRE_TEST_OCR_REFUSE=1: the same as that failure, for the test of it
     * (tests/e2e/ocr.sh gpu-rank-refuses) */
    const char *t = getenv("QUIRE_TEST_OCR_REFUSE");
    if (!why[0] && t && !strcmp(t, "1"))
        snprintf(why, sizeof why, "refusing (QUIRE_TEST_OCR_REFUSE)");
    q_status st = Q_OK;
    run_backoff nap = {0};
    double start = q_now();
    while (!why[0] && !st && (s.left > 0 || s.n > 0)) {
        run_alive_tick();
        int got = 0;
        st = serve_poll(&s, &got);
        if (st) break;
        if (got) {
            run_backoff_reset(&nap);
            continue; /* take everything that is waiting before reading */
        }
        if (s.n == 0) {
            run_backoff_sleep(&nap);
            continue;
        }
        double t0 = q_now();
        serve_read(&s);
        s.busy += q_now() - t0;
        for (int i = 0; i < s.n; i++) {
            s.t_det += s.pages[i].res.t_det;
            s.t_cls += s.pages[i].res.t_cls;
            s.t_rec += s.pages[i].res.t_rec;
        }
        s.served += (uint64_t)s.n;
        s.batches++;
        if (s.ocr.load_failed) {
            /* no models: every page from now on is refused as job-fatal, and
             * this rank fails with the cause once its clients are done */
            snprintf(why, sizeof why, "%s", s.ocr.why);
            how = REFUSE_FATAL;
        }
        for (int i = 0; !st && i < s.n; i++) {
            if (why[0]) {
                ocr_result_free(&s.pages[i].res);
                st = send_refusal(job->comm, s.pages[i].from, why, how);
            } else if (serve_reply(&s, &s.pages[i])) {
                /* this page's client still waits: it gets the refusal */
                snprintf(why, sizeof why, "cannot send a page's lines: %s", q_errmsg());
                st = send_refusal(job->comm, s.pages[i].from, why, how);
            }
        }
        s.n = 0;
    }
    if (!st && why[0]) st = serve_refuse(&s, why, how);
    if (!st && how == REFUSE_FATAL) st = Q_FAIL(Q_ERR_UNSUPPORTED, "%s", why);
    if (s.served && s.ocr.engine) {
        /* the busy share says whether this rank or its clients set the pace
         * (bench/gpu/device_check.sh reads this line) */
        double up = q_now() - start;
        q_log(Q_LOG_INFO,
              "OCR rank: read %llu pages for %d ranks in %llu batches on %s; busy %.1f s of "
              "%.1f s (%.0f %%); det %.1f s, cls %.1f s, rec %.1f s",
              (unsigned long long)s.served, job->role.clients, (unsigned long long)s.batches,
              ocr_engine_backend(s.ocr.engine), s.busy, up, up > 0 ? 100 * s.busy / up : 0, s.t_det,
              s.t_cls, s.t_rec);
    }
    for (int i = 0; s.pages && i < s.cap; i++)
        q_buf_free(&s.pages[i].buf);
    free(s.pages);
    free(s.imgs);
    free(s.res);
    free(s.idx);
    q_buf_free(&s.reply);
    run_ocr_free(&s.ocr);
    return st;
}
