/* `quire info` under mpirun or srun: one answer for the whole launch instead of
 * one block per rank interleaved on the terminal. Rank 0 prints its block; the
 * role table has a row per rank, in rank order, decided by the same collective
 * rule as `quire run` (roles.c) and gathered to rank 0. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run/job.h"
#include "run/proto.h"
#include "run/roles.h"
#include "run/run.h"

/* What each rank sends rank 0: its role and what its node offers. */
typedef struct {
    int32_t rank, local_rank, kind, device, visible, models;
    char host[64];
    char device_name[32];
} info_row;

int run_info_begin(int *rank) {
    *rank = 0;
    run_role env;
    run_role_from_env(-1, &env);
    /* alone (no launcher, or a batch script's single process): no MPI, so
     * `quire info` works on a login node whose MPI cannot start singletons */
    if (env.size <= 1) return 0;
    int rc = MPI_Init(NULL, NULL);
    if (rc != MPI_SUCCESS) {
        fprintf(stderr, "quire info: cannot start MPI (error %d); each rank prints its own block\n",
                rc);
        return 0; /* *rank stays 0: every rank prints all it sees, as said */
    }
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, rank);
    return 1;
}

/* The model files this rank finds in its models folder (each rank resolves
 * --models, $QUIRE_MODELS and its own HOME: nodes may differ). */
static int info_models_found(const char *models_dir) {
    char buf[4096], path[4096];
    const char *dir = run_models_dir(models_dir, buf, sizeof buf);
    int n = 0;
    for (size_t i = 0; i < RUN_MODEL_FILES; i++)
        if (!q_path_join(path, sizeof path, dir, run_model_files[i]) && access(path, R_OK) == 0)
            n++;
    return n;
}

static void info_row_print(const info_row *r) {
    char dev[64], models[32];
    if (r->device >= 0)
        snprintf(dev, sizeof dev, "cuda:%d (%s)", r->device, r->device_name);
    else
        snprintf(dev, sizeof dev, "-");
    if (r->models == RUN_MODEL_FILES)
        snprintf(models, sizeof models, "ok");
    else
        snprintf(models, sizeof models, "%d missing", (int)RUN_MODEL_FILES - r->models);
    printf("           %-20s %6d %6d  %-12s %-5d %-18s %s\n", r->host, r->rank, r->local_rank,
           run_role_name((run_role_kind)r->kind), r->visible, dev, models);
}

/* Rank 0's lines: MPI, its launch environment, the count of ranks per role
 * and nodes, and one row per rank. */
static void info_table_print(const info_row *all, int n) {
    run_info_print_mpi();
    static const char *const vars[] = {"CUDA_VISIBLE_DEVICES", "SLURM_JOB_ID"};
    for (size_t i = 0; i < Q_ARRAY_LEN(vars); i++) {
        const char *v = getenv(vars[i]);
        if (v) printf("env:       %s=%s (rank 0)\n", vars[i], v);
    }
    int kinds[4] = {0}, nodes = 0;
    for (int i = 0; i < n; i++) {
        kinds[all[i].kind & 3]++;
        nodes += all[i].local_rank == 0;
    }
    printf("ranks:     %d on %d node%s: %d coordinator, %d gpu, %d cpu\n", n, nodes,
           nodes == 1 ? "" : "s", kinds[RUN_ROLE_COORDINATOR], kinds[RUN_ROLE_GPU],
           kinds[RUN_ROLE_CPU] + kinds[RUN_ROLE_ALONE]);
    printf("role:      %-20s %6s %6s  %-12s %-5s %-18s %s\n", "host", "rank", "local", "role",
           "gpus", "device", "models");
    for (int i = 0; i < n; i++)
        info_row_print(&all[i]);
}

int run_info_end(int started, int gpus, const char *models_dir) {
    if (!started) {
        run_info_print(gpus);
        return 0;
    }
    MPI_Comm comm;
    MPI_Comm_dup(MPI_COMM_WORLD, &comm);
    MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN);
    run_role r;
    q_status st = run_roles_decide(comm, gpus, &r);
    info_row row = {.rank = r.rank,
                    .local_rank = r.local_rank,
                    .kind = r.kind,
                    .device = r.device,
                    .visible = run_gpus_visible(-1, NULL, 0),
                    .models = info_models_found(models_dir)};
    snprintf(row.host, sizeof row.host, "%s", r.host);
    snprintf(row.device_name, sizeof row.device_name, "%s", r.device_name);
    info_row *all = NULL;
    if (r.rank == 0 && !(all = malloc((size_t)r.size * sizeof *all))) {
        /* rank 0 cannot take part in the gather: end the launch, not hang it */
        fprintf(stderr, "quire info: out of memory for the role table of %d ranks\n", r.size);
        MPI_Abort(comm, 1);
    }
    /* every rank takes part even after a local error, so that none hangs */
    MPI_Request req;
    int rc = MPI_Igather(&row, sizeof row, MPI_BYTE, all, sizeof row, MPI_BYTE, 0, comm, &req);
    q_status gst = rc == MPI_SUCCESS ? run_wait(&req, NULL) : run_mpi_fail(rc, "MPI_Igather");
    if (!st) st = gst;
    if (!st && all) info_table_print(all, r.size);
    fflush(stdout);
    if (st) fprintf(stderr, "quire info: rank %d: %s\n", r.rank, q_errmsg());
    free(all);
    MPI_Comm_free(&comm);
    MPI_Finalize();
    return st ? 1 : 0;
}
