/* world.c: the little MPI that a job of independent ranks needs (quire
 * export): start MPI (as a singleton without mpirun), learn rank and size,
 * add up counters at the end, stop MPI. Kept here because mpi.h belongs to
 * src/run; such a job has no coordinator and no collective writes. */
#include <mpi.h>
#include <stdio.h>

#include "run/run.h"

q_status run_world_begin(int *rank, int *size) {
    *rank = 0, *size = 1;
    int rc = MPI_Init(NULL, NULL);
    if (rc != MPI_SUCCESS)
        return Q_FAIL(Q_ERR_MPI,
                      "cannot start MPI (error %d): run under mpirun/srun, or check the Open MPI "
                      "installation",
                      rc);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, rank);
    MPI_Comm_size(MPI_COMM_WORLD, size);
    return Q_OK;
}

q_status run_world_sum(uint64_t *v, size_t n) {
    if (n > (size_t)1 << 30) return Q_FAIL(Q_ERR_USAGE, "too many counters to add up");
    int rc = MPI_Allreduce(MPI_IN_PLACE, v, (int)n, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS) {
        char msg[MPI_MAX_ERROR_STRING] = "";
        int len = 0;
        MPI_Error_string(rc, msg, &len);
        return Q_FAIL(Q_ERR_MPI, "MPI_Allreduce of the counts failed: %s", msg);
    }
    return Q_OK;
}

void run_world_end(void) {
    int up = 0, down = 0;
    MPI_Initialized(&up);
    MPI_Finalized(&down);
    if (up && !down) MPI_Finalize();
}
