/* Packing of document batches and the CPU-friendly wait. */
#include "run/proto.h"

#include <stdio.h>
#include <string.h>

#include "run/alive.h"
#include "run/rankstats.h"

typedef struct {
    uint64_t doc;
    uint64_t bytes;
    uint32_t path_len;
    uint32_t error_len; /* UINT32_MAX when there is no error */
} batch_entry;

q_status run_batch_pack(q_buf *out, const run_item *items, uint32_t n) {
    q_buf_clear(out);
    q_status st = q_buf_append(out, &n, sizeof n);
    for (uint32_t i = 0; i < n && !st; i++) {
        batch_entry e = {.doc = items[i].doc,
                         .bytes = items[i].bytes,
                         .path_len = (uint32_t)strlen(items[i].path),
                         .error_len =
                             items[i].error ? (uint32_t)strlen(items[i].error) : UINT32_MAX};
        st = q_buf_append(out, &e, sizeof e);
        if (!st) st = q_buf_append(out, items[i].path, e.path_len + 1);
        if (!st && items[i].error) st = q_buf_append(out, items[i].error, e.error_len + 1);
    }
    return st;
}

q_status run_batch_unpack(char *buf, size_t len, run_item *items, uint32_t *n) {
    uint32_t count;
    if (len < sizeof count)
        return Q_FAIL(Q_ERR_INTERNAL, "work message of %zu bytes is too short", len);
    memcpy(&count, buf, sizeof count);
    if (count > RUN_BATCH_MAX)
        return Q_FAIL(Q_ERR_INTERNAL, "work message claims %u documents", count);
    size_t off = sizeof count;
    for (uint32_t i = 0; i < count; i++) {
        batch_entry e;
        if (len - off < sizeof e)
            return Q_FAIL(Q_ERR_INTERNAL, "work message truncated at entry %u", i);
        memcpy(&e, buf + off, sizeof e);
        off += sizeof e;
        if (e.path_len >= len - off || buf[off + e.path_len] != 0)
            return Q_FAIL(Q_ERR_INTERNAL, "work message: bad path length at entry %u", i);
        items[i].doc = e.doc;
        items[i].bytes = e.bytes;
        items[i].path = buf + off;
        off += (size_t)e.path_len + 1;
        items[i].error = NULL;
        if (e.error_len != UINT32_MAX) {
            if (e.error_len >= len - off || buf[off + e.error_len] != 0)
                return Q_FAIL(Q_ERR_INTERNAL, "work message: bad error length at entry %u", i);
            items[i].error = buf + off;
            off += (size_t)e.error_len + 1;
        }
    }
    *n = count;
    return Q_OK;
}

typedef struct {
    uint64_t doc;
    double seconds;
    uint32_t status;
    uint32_t reason_len; /* bytes that follow, then a NUL */
} done_entry;

q_status run_done_pack(q_buf *out, const run_done *d) {
    const char *reason = d->reason ? d->reason : "";
    done_entry e = {.doc = d->doc,
                    .seconds = d->seconds,
                    .status = d->status,
                    .reason_len = (uint32_t)strlen(reason)};
    q_status st = q_buf_append(out, &e, sizeof e);
    return st ? st : q_buf_append(out, reason, e.reason_len + 1);
}

q_status run_done_unpack(const char *buf, size_t len, size_t *off, run_done *d) {
    done_entry e;
    if (*off > len || len - *off < sizeof e)
        return Q_FAIL(Q_ERR_INTERNAL, "request message truncated at a document entry");
    memcpy(&e, buf + *off, sizeof e);
    *off += sizeof e;
    if (e.reason_len >= len - *off || buf[*off + e.reason_len] != 0)
        return Q_FAIL(Q_ERR_INTERNAL, "request message: bad reason length");
    *d = (run_done){.doc = e.doc, .seconds = e.seconds, .status = e.status, .reason = buf + *off};
    *off += (size_t)e.reason_len + 1;
    return Q_OK;
}

q_status run_mpi_fail(int rc, const char *what) {
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(rc, msg, &len) != MPI_SUCCESS)
        snprintf(msg, sizeof msg, "MPI error %d", rc);
    return Q_FAIL_LIB(Q_ERR_MPI, "MPI", "%s failed: %s", what, msg);
}

q_status run_irecv_probed(MPI_Comm comm, const MPI_Status *probed, q_buf *buf, MPI_Request *req) {
    int count = 0;
    MPI_Status st = *probed;
    MPI_Get_count(&st, MPI_BYTE, &count);
    q_buf_clear(buf);
    q_status s = q_buf_reserve(buf, (size_t)count);
    if (s) return s;
    int rc = MPI_Irecv(buf->data, count, MPI_BYTE, probed->MPI_SOURCE, probed->MPI_TAG, comm, req);
    if (rc != MPI_SUCCESS) return run_mpi_fail(rc, "MPI_Irecv");
    buf->len = (size_t)count;
    buf->data[count] = 0;
    return Q_OK;
}

q_status run_recv_probed(MPI_Comm comm, const MPI_Status *probed, q_buf *buf) {
    MPI_Request req;
    q_status s = run_irecv_probed(comm, probed, buf, &req);
    return s ? s : run_wait(&req, MPI_STATUS_IGNORE);
}

void run_backoff_reset(run_backoff *b) {
    b->nap = RUN_NAP_MIN_US * 1e-6;
    b->woke = 0;
}

void run_backoff_sleep(run_backoff *b) {
    run_alive_tick(); /* a rank that waits is alive, whatever it waits for */
    if (b->nap <= 0) run_backoff_reset(b);
    /* The rank's idle time: every nap, and the poll between two naps that
     * found nothing (under oversubscription Open MPI yields the core inside
     * MPI_Test/MPI_Iprobe, so that poll can be long). A loop resets its
     * backoff when something came, so busy work is never in between. */
    double t0 = q_now();
    q_sleep(b->nap);
    double t1 = q_now();
    run_stats_add_wait(t1 - (b->woke > 0 ? b->woke : t0));
    b->woke = t1;
    b->nap = Q_MIN(b->nap * 2, RUN_NAP_MAX_US * 1e-6);
}

q_status run_send(const void *buf, size_t len, int dest, int tag, MPI_Comm comm, const char *what) {
    MPI_Request req;
    int rc = MPI_Isend(buf, (int)len, MPI_BYTE, dest, tag, comm, &req);
    if (rc != MPI_SUCCESS) return run_mpi_fail(rc, what);
    return run_wait(&req, NULL);
}

q_status run_wait(MPI_Request *req, MPI_Status *status) {
    run_backoff nap = {0};
    for (;;) {
        int done = 0;
        int rc = MPI_Test(req, &done, status ? status : MPI_STATUS_IGNORE);
        if (rc != MPI_SUCCESS) return run_mpi_fail(rc, "MPI_Test");
        if (done) return Q_OK;
        run_backoff_sleep(&nap);
    }
}
