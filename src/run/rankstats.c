/* This process's accounting for its /ranks row (rankstats.h): counters fed
 * by the loops, and the gather of every rank's row to rank 0 after the work
 * phase. */
#include "run/rankstats.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct {
    int active; /* between run_stats_begin and run_stats_end */
    double t_begin, t_end;
    double nn, wait;
    uint64_t documents, pages, pages_sent;
} stats;

void run_stats_begin(void) {
    stats.active = 1;
    stats.t_begin = q_now();
    stats.t_end = 0;
}

void run_stats_end(void) {
    if (!stats.active) return;
    stats.active = 0;
    stats.t_end = q_now();
}

void run_stats_add_wait(double seconds) {
    if (stats.active && seconds > 0 && isfinite(seconds)) stats.wait += seconds;
}

void run_stats_add_nn(double seconds) {
    if (seconds > 0 && isfinite(seconds)) stats.nn += seconds;
}

void run_stats_add_doc(uint64_t pages) {
    stats.documents++;
    stats.pages += pages;
}

void run_stats_add_sent(uint64_t pages) {
    stats.pages_sent += pages;
}

/* What each rank sends: its row, and the GPU rank that read its pages. */
typedef struct {
    store_rank_row row;
    int32_t server; /* world rank, -1 = none */
    int32_t pad;
} stats_msg;

static uint8_t stats_role(run_role_kind k) {
    if (k == RUN_ROLE_COORDINATOR) return STORE_ROLE_COORDINATOR;
    if (k == RUN_ROLE_GPU) return STORE_ROLE_GPU;
    return STORE_ROLE_CPU; /* a CPU rank, or one process alone (it reads the documents) */
}

static stats_msg stats_mine(const run_job *job) {
    stats_msg m;
    memset(&m, 0, sizeof m); /* padding too: the bytes travel */
    store_rank_row *r = &m.row;
    r->rank = job->rank;
    r->device = job->role.device;
    r->role = stats_role(job->role.kind);
    snprintf(r->host, sizeof r->host, "%s", job->role.host);
    r->documents = stats.documents;
    r->pages = stats.pages;
    r->pages_sent = stats.pages_sent;
    double end = stats.active ? q_now() : stats.t_end;
    r->seconds_wall = stats.t_begin > 0 ? Q_MAX(end - stats.t_begin, 0.0) : 0;
    r->seconds_nn = stats.nn;
    r->seconds_wait = stats.wait;
    r->seconds_other = Q_MAX(r->seconds_wall - r->seconds_nn - r->seconds_wait, 0.0);
    m.server = job->role.kind == RUN_ROLE_CPU ? job->role.server : -1;
    return m;
}

/* COLLECTIVE: rank 0 says whether it could make room for the rows, so that
 * no rank waits in a gather rank 0 never enters. */
static q_status stats_agree_room(const run_job *job, int *ok) {
    MPI_Request req;
    int rc = MPI_Ibcast(ok, 1, MPI_INT, 0, job->comm, &req);
    if (rc != MPI_SUCCESS) return run_mpi_fail(rc, "MPI_Ibcast");
    return run_wait(&req, NULL);
}

/* Rank 0: the rows of the gathered messages, each GPU rank credited with
 * the pages its CPU ranks sent it. */
static q_status stats_rows(const stats_msg *all, int n, store_rank_row **rows) {
    store_rank_row *out = calloc((size_t)n, sizeof *out);
    if (!out) return Q_FAIL(Q_ERR_NOMEM, "out of memory for %d ranks' accounting", n);
    for (int i = 0; i < n; i++) {
        out[i] = all[i].row;
        out[i].host[sizeof out[i].host - 1] = 0;
    }
    for (int i = 0; i < n; i++) {
        int s = all[i].server;
        if (s >= 0 && s < n) out[s].pages_served += all[i].row.pages_sent;
    }
    *rows = out;
    return Q_OK;
}

q_status run_stats_gather(const run_job *job, store_rank_row **rows) {
    *rows = NULL;
    stats_msg mine = stats_mine(job), *all = NULL;
    int ok = 1;
    if (job->rank == 0) ok = (all = calloc((size_t)job->size, sizeof *all)) != NULL;
    q_status st = stats_agree_room(job, &ok);
    if (!st && !ok) st = Q_FAIL(Q_ERR_NOMEM, "out of memory for %d ranks' accounting", job->size);
    MPI_Request req;
    int rc = MPI_SUCCESS;
    if (!st)
        rc = MPI_Igather(&mine, (int)sizeof mine, MPI_BYTE, all, (int)sizeof mine, MPI_BYTE, 0,
                         job->comm, &req);
    if (!st && rc != MPI_SUCCESS) st = run_mpi_fail(rc, "MPI_Igather");
    if (!st) st = run_wait(&req, NULL);
    if (!st && job->rank == 0) st = stats_rows(all, job->size, rows);
    free(all);
    return st;
}
