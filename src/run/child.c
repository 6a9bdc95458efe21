/* The reader child (issue 15; the model of Apache Tika's ForkParser and of
 * browsers' renderer processes). A CPU rank forks one long-lived child that
 * reads document after document and sends each record back over a socket;
 * the parent keeps the journal and every MPI call. The child's pages for the
 * node's GPU rank (network requests) go through the parent too (CHILD_NET),
 * since the child must never touch MPI; the parent relays them without
 * blocking on either side, so that several are in flight. What the parent learns from the child's
 * death: the signal or exit status, and from a shared page the page it was reading. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "run/alive.h"
#include "run/job.h"
#include "run/rankstats.h"

/* The parent kills a child still reading this long after --timeout. */
#define CHILD_GRACE_S 0.5
/* A frame never claims more (a page image is below 2 GiB: ocrserve.c). */
#define CHILD_FRAME_MAX ((uint64_t)1 << 32)

enum { CHILD_DOC = 1, CHILD_NET = 2, CHILD_RECORD = 3 };

typedef struct {
    uint32_t type, pad;
    uint64_t len; /* payload bytes after this header */
} child_frame;

typedef struct {
    uint64_t doc, bytes;
    double deadline;
} child_doc_msg; /* followed by the path, without its NUL */

typedef struct {
    uint32_t load_failed; /* the OCR models could not be loaded: job-fatal */
    uint32_t why_len;
    double seconds_nn;   /* inside network runs for this document (rankstats.h) */
    double seconds_wait; /* waiting for the GPU rank's network replies */
    uint64_t pages_sent; /* its pages whose OCR the node's GPU rank did */
} child_rec_msg;         /* followed by `why`, then the packed record */

struct run_child {
    run_reader *rd;
    double max_memory;
    pid_t pid;                   /* 0 = no child running */
    int fd;                      /* the parent's end of the socket */
    volatile uint32_t *progress; /* shared with the child: page, pages */
    q_buf buf;
    q_buf out; /* the parent's frames for the child not yet written (replies) */
    size_t out_off;
    q_buf reply;
};

/* ---- frames, both ways ---- */

static int child_full(int fd, void *p, size_t n, int writing) {
    char *c = p;
    while (n) {
        ssize_t k = writing ? send(fd, c, n, MSG_NOSIGNAL) : read(fd, c, n);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1; /* EOF or error: the other side is gone */
        c += k, n -= (size_t)k;
    }
    return 0;
}

static int child_send(int fd, uint32_t type, const void *a, size_t na, const void *b, size_t nb) {
    child_frame h = {.type = type, .len = na + nb};
    return child_full(fd, &h, sizeof h, 1) || (na && child_full(fd, (void *)a, na, 1)) ||
                   (nb && child_full(fd, (void *)b, nb, 1))
               ? -1
               : 0;
}

/* Reads one frame into `buf`; -1 when the other side is gone or lies. */
static int child_recv(int fd, uint32_t *type, q_buf *buf) {
    child_frame h;
    if (child_full(fd, &h, sizeof h, 0) || h.len > CHILD_FRAME_MAX) return -1;
    q_buf_clear(buf);
    if (q_buf_reserve(buf, (size_t)h.len + 1)) return -1;
    if (h.len && child_full(fd, buf->data, (size_t)h.len, 0)) return -1;
    buf->len = (size_t)h.len;
    *type = h.type;
    return 0;
}

/* ---- the child ---- */

/* A network request for the GPU rank, and its reply: the parent sends it
 * over MPI and hands back the reply. The parent gone, the child has nobody
 * to read for. */
static q_status child_net_send(void *user, q_buf *msg) {
    run_child *c = user;
    if (child_send(c->fd, CHILD_NET, msg->data, msg->len, NULL, 0)) _exit(3);
    return Q_OK;
}

static q_status child_net_recv(void *user, q_buf *msg) {
    run_child *c = user;
    uint32_t type = 0;
    if (child_recv(c->fd, &type, msg) || type != CHILD_NET) _exit(3);
    return Q_OK;
}

/* --max-memory counts from what the child holds when it starts (libraries,
 * MPI's mappings), so that the limit is what one document may take. */
static void child_limit_memory(double max_memory) {
#if defined(__SANITIZE_ADDRESS__)
    (void)max_memory; /* ASan reserves terabytes of address space */
#else
    if (max_memory <= 0) return;
    long pages = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld", &pages) != 1) pages = 0;
        fclose(f);
    }
    double base = (double)pages * (double)sysconf(_SC_PAGESIZE);
    struct rlimit rl = {.rlim_cur = (rlim_t)(base + max_memory),
                        .rlim_max = (rlim_t)(base + max_memory)};
    if (setrlimit(RLIMIT_AS, &rl) != 0)
        q_log(Q_LOG_WARN, "cannot limit a reader's memory: %s", strerror(errno));
#endif
}

static void child_answer(run_child *c, const run_item *it, double deadline, lay_doc *rec) {
    run_reader *rd = c->rd;
    q_status st = lay_doc_init(rec, it->doc, it->path);
    double nn = ocr_engine_nn_seconds(rd->ocr.engine); /* 0 before the engine loads */
    uint64_t sent = rd->client ? rd->client->pages : 0;
    double waited = ocr_engine_wait_seconds(rd->client ? rd->client->remote.engine : NULL);
    if (!st) {
        rec->rank = rd->rank;
        rec->bytes = it->bytes;
        st = run_reader_read(rd, it, deadline, c->progress, rec);
    }
    q_buf packed = {0};
    if (!st) st = lay_doc_pack(rec, &packed);
    if (st) _exit(4); /* out of memory for the answer: the parent reports the exit */
    const char *why = rd->ocr.load_failed ? rd->ocr.why : "";
    child_rec_msg m = {.load_failed = (uint32_t)rd->ocr.load_failed,
                       .why_len = (uint32_t)strlen(why),
                       .seconds_nn = ocr_engine_nn_seconds(rd->ocr.engine) - nn,
                       .pages_sent = rd->client ? rd->client->pages - sent : 0};
    if (rd->client) /* made during the document when it was the first to need OCR */
        m.seconds_wait = ocr_engine_wait_seconds(rd->client->remote.engine) - waited;
    q_buf head = {0};
    if (q_buf_append(&head, &m, sizeof m) || q_buf_append(&head, why, m.why_len)) _exit(4);
    if (child_send(c->fd, CHILD_RECORD, head.data, head.len, packed.data, packed.len)) _exit(3);
    q_buf_free(&head);
    q_buf_free(&packed);
    lay_doc_free(rec);
}

static void child_main(run_child *c, pid_t parent) {
    /* the parent decides about stop signals; its death ends the child */
    signal(SIGTERM, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    signal(SIGUSR1, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(2);
    run_alive_forget();
    child_limit_memory(c->max_memory);
    run_reader *rd = c->rd;
    if (rd->client) {
        rd->client->xfer_send = child_net_send;
        rd->client->xfer_recv = child_net_recv;
        rd->client->xfer_user = c;
    }
    for (;;) {
        uint32_t type = 0;
        if (child_recv(c->fd, &type, &c->buf)) { /* the parent closed: done */
            run_reader_free(rd); /* the engines' stats (QUIRE_DECODE_STATS) print here */
            _exit(0);
        }
        child_doc_msg m;
        if (type != CHILD_DOC || c->buf.len < sizeof m) _exit(5);
        memcpy(&m, c->buf.data, sizeof m);
        c->buf.data[c->buf.len] = 0; /* the path's NUL (child_recv reserved it) */
        run_item it = {.doc = m.doc, .bytes = m.bytes, .path = c->buf.data + sizeof m};
        lay_doc rec;
        child_answer(c, &it, m.deadline, &rec);
    }
}

/* ---- the parent ---- */

q_status run_child_start(run_child *c) {
    if (c->pid) return Q_OK;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return Q_FAIL(Q_ERR_IO, "cannot create a socket for a reader process: %s", strerror(errno));
    fflush(NULL); /* nothing buffered is written twice */
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(sv[0]), close(sv[1]);
        return Q_FAIL(Q_ERR_NOMEM, "cannot start a reader process: %s", strerror(e));
    }
    if (pid == 0) {
        close(sv[0]);
        c->fd = sv[1];
        child_main(c, parent);
        _exit(0);
    }
    close(sv[1]);
    c->fd = sv[0];
    c->pid = pid;
    return Q_OK;
}

/* Waits for the child to end (it was killed or its socket closed); fills
 * `why` with how it ended. Returns the signal that ended it, or 0. */
static int child_reap(run_child *c, char *why, size_t cap) {
    int status = 0, sig = 0;
    pid_t r;
    while ((r = waitpid(c->pid, &status, 0)) < 0 && errno == EINTR)
        ;
    if (r < 0)
        snprintf(why, cap, "ended (its status is unknown: %s)", strerror(errno));
    else if (WIFSIGNALED(status))
        sig = WTERMSIG(status), snprintf(why, cap, "crashed (%s)", strsignal(sig));
    else
        snprintf(why, cap, "exited with status %d", WEXITSTATUS(status));
    if (sig == SIGKILL) /* not ours: the kernel's OOM killer, most likely */
        snprintf(why, cap, "was killed (SIGKILL: out of memory?)");
    close(c->fd);
    c->fd = -1;
    c->pid = 0;
    return sig;
}

static void child_kill(run_child *c) {
    if (!c->pid) return;
    kill(c->pid, SIGKILL);
    char why[128];
    child_reap(c, why, sizeof why);
}

void run_child_where(const run_child *c, uint32_t *page, uint32_t *pages) {
    *page = c->progress[0];
    *pages = c->progress[1];
}

/* Where the child was, for its record: " at page 3 of 12". */
static void child_where(const run_child *c, char *out, size_t cap) {
    uint32_t page, pages;
    run_child_where(c, &page, &pages);
    if (pages)
        snprintf(out, cap, " at page %u of %u", page + 1, pages);
    else
        out[0] = 0;
}

typedef enum { GOT_RECORD, GOT_CRASH, GOT_TIMEOUT, GOT_ABANDONED } child_outcome;

/* Writes what it can of the frames waiting for the child, never blocking:
 * the child may itself be writing a request. A child gone is seen when its
 * socket is read. */
static void child_flush(run_child *c) {
    while (c->out_off < c->out.len) {
        ssize_t k = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off,
                         MSG_DONTWAIT | MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        if (k <= 0) break;
        c->out_off += (size_t)k;
    }
    q_buf_clear(&c->out);
    c->out_off = 0;
}

/* Takes the replies that came from the GPU rank into the child's frames. */
static q_status child_relay_replies(run_child *c) {
    run_ocr_client *cl = c->rd->client;
    for (;;) {
        int got = 0;
        q_status st = run_netlink_poll(&cl->link, &c->reply, &got);
        if (st || !got) return st;
        child_frame h = {.type = CHILD_NET, .len = c->reply.len};
        st = q_buf_append(&c->out, &h, sizeof h);
        if (!st) st = q_buf_append(&c->out, c->reply.data, c->reply.len);
        if (st) return st;
    }
}

/* The child is gone: what was on its way to it is dropped, and the replies
 * still due for it are waited for, so that the next child does not get them. */
static void child_forget_requests(run_child *c) {
    q_buf_clear(&c->out);
    c->out_off = 0;
    if (c->rd->client && run_netlink_drain(&c->rd->client->link))
        q_log(Q_LOG_WARN, "waiting for a lost reader's network replies: %s", q_errmsg());
}

/* One frame from the child: a request is sent on, the record ends the wait. */
static q_status child_take_frame(run_child *c, child_outcome *out, int *done) {
    uint32_t type = 0;
    *done = 1;
    if (child_recv(c->fd, &type, &c->buf)) {
        *out = GOT_CRASH;
        return Q_OK;
    }
    if (type == CHILD_RECORD) {
        *out = GOT_RECORD;
        return Q_OK;
    }
    *done = 0;
    if (type != CHILD_NET) return Q_FAIL(Q_ERR_INTERNAL, "a reader sent frame %u", type);
    if (!c->rd->client)
        return Q_FAIL(Q_ERR_INTERNAL, "a reader process sent a request with no GPU rank");
    return run_netlink_send(&c->rd->client->link, &c->buf);
}

/* Waits for the child's answer to one document, relaying its network
 * requests meanwhile. */
static q_status child_wait(run_child *c, double deadline, run_child_tick tick, void *user,
                           child_outcome *out) {
    run_ocr_client *cl = c->rd->client;
    for (;;) {
        double now = q_now();
        if (deadline > 0 && now >= deadline + CHILD_GRACE_S) {
            child_kill(c);
            *out = GOT_TIMEOUT;
            return Q_OK;
        }
        /* Replies due: look for them often. A message moving (without a
         * single-copy transport, MPI moves it in fragments only while this
         * process calls MPI): more often still. */
        double wait = 1;
        if (cl && cl->link.inflight > 0)
            wait =
                run_netlink_sending(&cl->link) || cl->link.recv != MPI_REQUEST_NULL ? 2e-4 : 1e-3;
        if (deadline > 0) wait = Q_MIN(wait, deadline + CHILD_GRACE_S - now + 1e-3);
        struct timespec ts = {.tv_sec = (time_t)wait,
                              .tv_nsec = (long)((wait - (double)(time_t)wait) * 1e9)};
        struct pollfd p = {.fd = c->fd, .events = POLLIN | (c->out.len ? POLLOUT : 0)};
        int k = ppoll(&p, 1, &ts, NULL);
        if (tick && tick(user)) {
            child_kill(c);
            *out = GOT_ABANDONED;
            return Q_OK;
        }
        if (k < 0 && errno != EINTR) return Q_FAIL(Q_ERR_IO, "poll: %s", strerror(errno));
        q_status st = cl && cl->link.inflight > 0 ? child_relay_replies(c) : Q_OK;
        if (!st && c->out.len) child_flush(c);
        if (st || k <= 0 || !(p.revents & (POLLIN | POLLHUP | POLLERR))) {
            if (st) return st;
            continue;
        }
        int done;
        if ((st = child_take_frame(c, out, &done)) || done) return st;
    }
}

/* The child's record in c->buf, unpacked into `rec`. */
static q_status child_take_record(run_child *c, lay_doc *rec) {
    child_rec_msg m;
    if (c->buf.len < sizeof m) return Q_FAIL(Q_ERR_INTERNAL, "a reader sent a short record");
    memcpy(&m, c->buf.data, sizeof m);
    if (m.why_len > c->buf.len - sizeof m)
        return Q_FAIL(Q_ERR_INTERNAL, "a reader sent a short record");
    const char *why = c->buf.data + sizeof m;
    run_stats_add_nn(m.seconds_nn); /* the child's work is this rank's */
    run_stats_add_sent(m.pages_sent);
    run_stats_add_wait(m.seconds_wait);
    if (m.load_failed && !c->rd->ocr.load_failed) {
        c->rd->ocr.load_failed = 1;
        snprintf(c->rd->ocr.why, sizeof c->rd->ocr.why, "%.*s", (int)m.why_len, why);
    }
    size_t off = sizeof m + m.why_len;
    q_status st = lay_doc_unpack(c->buf.data + off, c->buf.len - off, rec);
    return st ? q_fail_context("the record a reader process sent") : Q_OK;
}

/* A record for a document whose reader did not answer. */
static q_status child_failed_record(const run_item *it, int rank, lay_doc_status status, int retry,
                                    const char *why, uint32_t pages, double seconds, lay_doc *rec) {
    q_status st = lay_doc_init(rec, it->doc, it->path);
    if (st) return st;
    rec->rank = rank;
    rec->bytes = it->bytes;
    rec->pages = pages;
    rec->seconds = (float)seconds;
    st = lay_doc_set_error(rec, status, "%s", why);
    rec->retry = (uint8_t)retry;
    return st;
}

q_status run_child_read(run_child *c, const run_item *it, run_child_tick tick, void *tick_user,
                        lay_doc *rec) {
    memset(rec, 0, sizeof *rec);
    const run_options *o = c->rd->opt;
    double t0 = q_now();
    double deadline = o->timeout > 0 ? t0 + o->timeout : 0;
    child_doc_msg m = {.doc = it->doc, .bytes = it->bytes, .deadline = deadline};
    char first[200] = "", where[64];
    for (int attempt = 0;; attempt++) {
        c->progress[0] = c->progress[1] = 0;
        q_status st = run_child_start(c);
        if (st) return st;
        child_outcome got = GOT_CRASH;
        if (!child_send(c->fd, CHILD_DOC, &m, sizeof m, it->path, strlen(it->path)))
            if ((st = child_wait(c, deadline, tick, tick_user, &got))) {
                child_kill(c);
                return st;
            }
        if (got != GOT_RECORD) child_forget_requests(c);
        if (got == GOT_RECORD) {
            st = child_take_record(c, rec);
            if (!st && first[0]) st = lay_doc_warn(rec, "the reader %s; read again", first);
            return st;
        }
        if (got == GOT_ABANDONED)
            return Q_FAIL(Q_ERR_INTERRUPTED, "stopped while reading %s", it->path);
        child_where(c, where, sizeof where);
        uint32_t pages = c->progress[1];
        if (got == GOT_TIMEOUT) {
            char why[256];
            snprintf(why, sizeof why, "timeout after %.3g s%s (--timeout %g: reading stopped)",
                     q_now() - t0, where, o->timeout);
            return child_failed_record(it, c->rd->rank, LAY_DOC_TIMEOUT, 1, why, pages,
                                       q_now() - t0, rec);
        }
        char how[128], why[320];
        int sig = child_reap(c, how, sizeof how);
        if (attempt == 0 && sig != SIGKILL) {
            snprintf(first, sizeof first, "%s%s", how, where);
            q_log(Q_LOG_WARN, "%s: the reader %s; reading it again in a new reader", it->path,
                  first);
            continue;
        }
        snprintf(why, sizeof why, "the reader %s%s%s", how, where,
                 attempt ? ", twice: not tried again" : "");
        return child_failed_record(it, c->rd->rank, LAY_DOC_ERROR, sig == SIGKILL, why, pages,
                                   q_now() - t0, rec);
    }
}

q_status run_child_new(run_reader *rd, double max_memory, run_child **out) {
    *out = NULL;
    run_child *c = calloc(1, sizeof *c);
    if (!c) return Q_FAIL(Q_ERR_NOMEM, "out of memory for a reader process");
    void *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared == MAP_FAILED) {
        free(c);
        return Q_FAIL(Q_ERR_NOMEM, "cannot map a page shared with the reader: %s", strerror(errno));
    }
    c->progress = shared;
    c->rd = rd;
    c->max_memory = max_memory;
    c->fd = -1;
    *out = c;
    return Q_OK;
}

void run_child_free(run_child *c) {
    if (!c) return;
    if (c->pid) {
        close(c->fd); /* the child reads EOF and exits */
        c->fd = -1;
        int status;
        pid_t r = 0;
        double until = q_now() + 2;
        while ((r = waitpid(c->pid, &status, WNOHANG)) == 0 && q_now() < until)
            usleep(10000);
        if (r == 0) { /* still reading (a stop abandoned its document) */
            kill(c->pid, SIGKILL);
            while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR)
                ;
        }
    }
    munmap((void *)c->progress, 4096);
    q_buf_free(&c->buf);
    q_buf_free(&c->out);
    q_buf_free(&c->reply);
    free(c);
}

double run_child_default_memory(int local_ranks) {
    double phys = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
    if (phys <= 0) return 0;
    double share = phys / (local_ranks > 0 ? local_ranks : 1);
    return Q_MAX(share, 2.0 * (1 << 30));
}
