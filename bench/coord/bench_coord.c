/* The coordinator alone: rank 0 runs quire's real dispatch loop
 * (run_coordinate) over N made-up documents; every other rank is a worker
 * that answers at once (asks, unpacks the batch, asks again) with the same
 * CPU-friendly probing as quire's workers. Prints documents handed out per
 * second. Usage: mpirun -np R bench_coord [DOCS [BATCH]] (BATCH 0 = automatic). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run/job.h"

static q_status fake_worker(MPI_Comm comm, uint64_t *docs, uint64_t *requests) {
    static run_item items[RUN_BATCH_MAX];
    q_buf buf = {0};
    run_request req = {0};
    MPI_Comm_rank(comm, &req.rank);
    q_status st = Q_OK;
    for (;;) {
        MPI_Send(&req, sizeof req, MPI_BYTE, 0, RUN_TAG_REQUEST, comm);
        (*requests)++;
        req.docs = 0;
        MPI_Status status;
        run_backoff nap = {0};
        int flag = 0;
        for (;;) {
            MPI_Iprobe(0, MPI_ANY_TAG, comm, &flag, &status);
            if (flag) break;
            run_backoff_sleep(&nap);
        }
        int count = 0;
        MPI_Get_count(&status, MPI_BYTE, &count);
        if ((st = q_buf_reserve(&buf, (size_t)count + 1))) break;
        MPI_Recv(buf.data, count, MPI_BYTE, 0, status.MPI_TAG, comm, MPI_STATUS_IGNORE);
        if (status.MPI_TAG != RUN_TAG_WORK) break; /* STOP */
        uint32_t n = 0;
        if ((st = run_batch_unpack(buf.data, (size_t)count, items, &n))) break;
        req.docs = n;
        *docs += n;
    }
    q_buf_free(&buf);
    return st;
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    uint64_t ndocs = argc > 1 ? strtoull(argv[1], NULL, 10) : 200000;
    int batch = argc > 2 ? atoi(argv[2]) : 0;
    run_options opt;
    memset(&opt, 0, sizeof opt);
    opt.batch = batch;
    opt.quiet = 1;
    opt.progress_seconds = 1e9;
    run_job job = {.opt = &opt, .comm = MPI_COMM_WORLD};
    MPI_Comm_rank(MPI_COMM_WORLD, &job.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &job.size);
    q_log_init(job.rank, Q_LOG_WARN);
    if (job.rank == 0) {
        /* paths as long as a typical campaign's; sizes falling, as after the sort */
        job.inputs.v = calloc(ndocs, sizeof *job.inputs.v);
        job.todo = malloc(ndocs * sizeof *job.todo);
        if (!job.inputs.v || !job.todo) return 1;
        for (uint64_t i = 0; i < ndocs; i++) {
            char path[96];
            snprintf(path, sizeof path, "/scratch/archive/box%04llu/folder%03llu/doc%010llu.pdf",
                     (unsigned long long)(i / 100000), (unsigned long long)(i / 1000 % 1000),
                     (unsigned long long)i);
            job.inputs.v[i].path = strdup(path);
            job.inputs.v[i].bytes = ndocs - i;
            job.todo[i] = i;
        }
        job.inputs.n = job.ntodo = job.total = ndocs;
    }
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime();
    uint64_t docs = 0, requests = 0;
    q_status st =
        job.rank == 0 ? run_coordinate(&job) : fake_worker(MPI_COMM_WORLD, &docs, &requests);
    double t = MPI_Wtime() - t0;
    uint64_t sum[2] = {docs, requests}, tot[2] = {0, 0};
    MPI_Reduce(sum, tot, 2, MPI_UINT64_T, MPI_SUM, 0, MPI_COMM_WORLD);
    if (job.rank == 0) {
        if (st) fprintf(stderr, "bench_coord: %s\n", q_errmsg());
        printf("ranks %3d  batch %-4s  docs %8llu  requests %8llu  %7.3f s  %10.0f docs/s\n",
               job.size, batch ? argv[2] : "auto", (unsigned long long)tot[0],
               (unsigned long long)tot[1], t, (double)tot[0] / t);
        if (tot[0] != ndocs)
            fprintf(stderr, "bench_coord: %llu documents handed out of %llu\n",
                    (unsigned long long)tot[0], (unsigned long long)ndocs);
    }
    run_inputs_free(&job.inputs);
    free(job.todo);
    MPI_Finalize();
    return st ? 1 : 0;
}
