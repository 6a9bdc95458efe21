/* Signs of life between rank 0 and every other rank, on a communicator of
 * their own. Empty messages, sent without waiting: a send still pending
 * (the peer stopped reading) is not repeated, so a lost peer never blocks
 * the sender. The watch is a star, not all-to-all: rank 0 receives
 * size - 1 messages per period and sends as many; each other rank sends and
 * receives one. The period is a quarter of the timeout, at most 10 s, so a
 * late message or two never counts as a loss. */
#include "run/alive.h"

#include <stdlib.h>

#include "util/util.h"

enum { ALIVE_TAG = 1 };
#define ALIVE_PERIOD_MAX 10.0

static struct {
    int on;
    MPI_Comm comm;
    int rank, size;
    double timeout, period, next_send, last_tick;
    double *heard;      /* heard[r]: when r last said it is alive (rank 0: all r; others: r = 0) */
    MPI_Request *sends; /* one per peer this rank tells */
} alive;

static void alive_free(void) {
    free(alive.heard);
    free(alive.sends);
    alive.heard = NULL;
    alive.sends = NULL;
    alive.on = 0;
}

int run_alive_start(MPI_Comm comm, double timeout) {
    int size = 1, rank = 0;
    MPI_Comm_size(comm, &size);
    MPI_Comm_rank(comm, &rank);
    alive_free();
    if (timeout <= 0 || size < 2) return 0;
    if (MPI_Comm_dup(comm, &alive.comm) != MPI_SUCCESS) return -1;
    alive.heard = malloc((size_t)size * sizeof *alive.heard);
    alive.sends = malloc((size_t)size * sizeof *alive.sends);
    if (!alive.heard || !alive.sends) {
        alive_free(); /* the communicator stays: freeing it is collective */
        return -1;
    }
    double now = q_now();
    for (int r = 0; r < size; r++) {
        alive.heard[r] = now;
        alive.sends[r] = MPI_REQUEST_NULL;
    }
    alive.rank = rank;
    alive.size = size;
    alive.timeout = timeout;
    alive.period = Q_MIN(timeout / 4, ALIVE_PERIOD_MAX);
    alive.next_send = now;
    alive.last_tick = now;
    alive.on = 1;
    return 0;
}

/* Tells peer r, unless the last message to it is still on its way. */
static void alive_send(int r) {
    int done = 1;
    if (alive.sends[r] != MPI_REQUEST_NULL) MPI_Test(&alive.sends[r], &done, MPI_STATUS_IGNORE);
    if (done) MPI_Isend(NULL, 0, MPI_BYTE, r, ALIVE_TAG, alive.comm, &alive.sends[r]);
}

static void alive_receive(double now) {
    for (;;) {
        int got = 0;
        MPI_Status s;
        if (MPI_Iprobe(MPI_ANY_SOURCE, ALIVE_TAG, alive.comm, &got, &s) != MPI_SUCCESS || !got)
            return;
        MPI_Recv(NULL, 0, MPI_BYTE, s.MPI_SOURCE, ALIVE_TAG, alive.comm, MPI_STATUS_IGNORE);
        alive.heard[s.MPI_SOURCE] = now;
    }
}

static void alive_lost(int r, double silent) {
    char host[MPI_MAX_PROCESSOR_NAME] = "";
    int len = 0;
    MPI_Get_processor_name(host, &len);
    q_log(Q_LOG_ERROR,
          "rank %d has not been heard from for %.0f s (its process stopped or hung, or its node "
          "is lost): the job stops (rank %d on %s; --peer-timeout %g). Finished documents are "
          "kept in the journal; a rerun with the same --out resumes",
          r, silent, alive.rank, host, alive.timeout);
    MPI_Abort(MPI_COMM_WORLD, 1);
}

void run_alive_tick(void) {
    if (!alive.on) return;
    double now = q_now();
    if (now < alive.next_send) return;
    alive.next_send = now + alive.period;
    if (now - alive.last_tick > alive.timeout) {
        /* this rank was the silent one (stopped, or busy away from any
         * tick): its peers get a fresh period before it blames them */
        for (int r = 0; r < alive.size; r++)
            alive.heard[r] = now;
    }
    alive.last_tick = now;
    alive_receive(now);
    if (alive.rank == 0) {
        for (int r = 1; r < alive.size; r++)
            alive_send(r);
        for (int r = 1; r < alive.size; r++)
            if (now - alive.heard[r] > alive.timeout) alive_lost(r, now - alive.heard[r]);
    } else {
        alive_send(0);
        if (now - alive.heard[0] > alive.timeout) alive_lost(0, now - alive.heard[0]);
    }
}

void run_alive_stop(void) {
    if (!alive.on) return;
    alive.on = 0;
    alive_receive(q_now());
    /* empty messages are sent eagerly, so these have completed unless the
     * peer stopped reading; such a send is let go, never waited for */
    for (int r = 0; r < alive.size; r++)
        if (alive.sends[r] != MPI_REQUEST_NULL) MPI_Request_free(&alive.sends[r]);
    MPI_Comm_free(&alive.comm);
    alive_free();
}

void run_alive_forget(void) {
    alive.on = 0; /* the parent's memory, copied: nothing of it is freed here */
}
