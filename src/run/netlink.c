/* A CPU rank's line to its GPU rank for network requests (ocr.h's remote):
 * requests go out with MPI_Isend from buffers this link owns (taken from the
 * engine without a copy), so that several are in flight while the rank
 * prepares the next; replies are probed for, never waited on blindly. */
#include <limits.h>
#include <string.h>

#include "run/job.h"

void run_netlink_init(run_netlink *l, MPI_Comm comm, int server) {
    memset(l, 0, sizeof *l);
    l->comm = comm;
    l->server = server;
    for (int i = 0; i < RUN_NET_SLOTS; i++)
        l->req[i] = MPI_REQUEST_NULL;
    l->recv = MPI_REQUEST_NULL;
}

int run_netlink_sending(const run_netlink *l) {
    int n = 0;
    for (int i = 0; i < RUN_NET_SLOTS; i++)
        n += l->req[i] != MPI_REQUEST_NULL;
    return n;
}

/* Completes the sends that are done; *free_slot: one with no send (-1 none). */
static q_status sweep(run_netlink *l, int *free_slot) {
    *free_slot = -1;
    for (int i = 0; i < RUN_NET_SLOTS; i++) {
        int done = 1;
        if (l->req[i] != MPI_REQUEST_NULL) {
            int rc = MPI_Test(&l->req[i], &done, MPI_STATUS_IGNORE);
            if (rc != MPI_SUCCESS) return run_mpi_fail(rc, "MPI_Test of a network request");
        }
        if (done && *free_slot < 0) *free_slot = i;
    }
    return Q_OK;
}

q_status run_netlink_send(run_netlink *l, q_buf *msg) {
    if (msg->len > INT_MAX)
        return Q_FAIL(Q_ERR_NOMEM, "a network request of %zu bytes is beyond one message",
                      msg->len);
    int slot;
    q_status st = sweep(l, &slot);
    if (!st && slot < 0) { /* every buffer still going out: wait for the first */
        slot = 0;
        st = run_wait(&l->req[0], MPI_STATUS_IGNORE);
    }
    if (st) return st;
    q_buf keep = l->slot[slot]; /* its memory goes back to the caller */
    l->slot[slot] = *msg;
    *msg = keep;
    q_buf_clear(msg);
    q_buf *b = &l->slot[slot];
    int rc = MPI_Isend(b->data, (int)b->len, MPI_BYTE, l->server, RUN_TAG_NET_REQ, l->comm,
                       &l->req[slot]);
    if (rc != MPI_SUCCESS) return run_mpi_fail(rc, "MPI_Isend of a network request");
    l->inflight++;
    return Q_OK;
}

q_status run_netlink_poll(run_netlink *l, q_buf *reply, int *got) {
    int slot, flag = 0;
    MPI_Status status;
    *got = 0;
    q_status st = sweep(l, &slot);
    if (st) return st;
    if (l->recv == MPI_REQUEST_NULL) { /* a reply on its way? */
        int rc = MPI_Iprobe(l->server, RUN_TAG_NET_REP, l->comm, &flag, &status);
        if (rc != MPI_SUCCESS) return run_mpi_fail(rc, "MPI_Iprobe");
        if (!flag) return Q_OK;
        if (run_irecv_probed(l->comm, &status, &l->in, &l->recv))
            return q_fail_context("receiving a network reply");
    }
    int rc = MPI_Test(&l->recv, &flag, MPI_STATUS_IGNORE);
    if (rc != MPI_SUCCESS) return run_mpi_fail(rc, "MPI_Test of a network reply");
    if (!flag) return Q_OK;
    q_buf swap = *reply;
    *reply = l->in;
    l->in = swap;
    l->inflight -= l->inflight > 0;
    *got = 1;
    return Q_OK;
}

q_status run_netlink_recv(run_netlink *l, q_buf *reply) {
    run_backoff nap = {0};
    for (;;) {
        int got;
        q_status st = run_netlink_poll(l, reply, &got);
        if (st || got) return st;
        run_backoff_sleep(&nap);
    }
}

q_status run_netlink_drain(run_netlink *l) {
    q_buf drop = {0};
    q_status st = Q_OK;
    while (!st && l->inflight > 0)
        st = run_netlink_recv(l, &drop);
    q_buf_free(&drop);
    return st;
}

void run_netlink_free(run_netlink *l) {
    for (int i = 0; i < RUN_NET_SLOTS; i++) {
        if (l->req[i] != MPI_REQUEST_NULL) run_wait(&l->req[i], MPI_STATUS_IGNORE);
        q_buf_free(&l->slot[i]);
    }
    if (l->recv != MPI_REQUEST_NULL) run_wait(&l->recv, MPI_STATUS_IGNORE);
    q_buf_free(&l->in);
}
