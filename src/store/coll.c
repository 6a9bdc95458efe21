/* coll.c: MPI errors into quire's error record, and the agreement step that
 * keeps all ranks on the same path: a collective function either succeeds
 * everywhere or fails everywhere with the same one-line message. */
#include "store_private.h"

#include <stdio.h>

q_status store_mpi_fail(int rc, const char *what) {
    char msg[MPI_MAX_ERROR_STRING] = "";
    int len = 0;
    if (MPI_Error_string(rc, msg, &len) != MPI_SUCCESS) snprintf(msg, sizeof msg, "error %d", rc);
    return Q_FAIL_LIB(Q_ERR_MPI, "MPI", "%s failed: %s", what, msg);
}

q_status store_coll_agree(MPI_Comm comm, q_status st) {
    int rank = 0, size = 1;
    if (MPI_Comm_rank(comm, &rank) != MPI_SUCCESS || MPI_Comm_size(comm, &size) != MPI_SUCCESS)
        return store_mpi_fail(MPI_ERR_COMM, "MPI_Comm_rank");
    int mine = st ? rank : size, first = size;
    int rc = MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, comm);
    if (rc != MPI_SUCCESS) return store_mpi_fail(rc, "MPI_Allreduce (error agreement)");
    if (first == size) return Q_OK;
    /* Everyone reports the first failing rank's message. */
    struct {
        int code;
        char msg[1000];
    } e = {0};
    if (rank == first) {
        e.code = (int)st;
        snprintf(e.msg, sizeof e.msg, "%s", q_errmsg());
    }
    rc = MPI_Bcast(&e, (int)sizeof e, MPI_BYTE, first, comm);
    if (rc != MPI_SUCCESS) return store_mpi_fail(rc, "MPI_Bcast (error message)");
    if (rank == first) return st;
    e.msg[sizeof e.msg - 1] = 0;
    return Q_FAIL((q_status)e.code, "rank %d: %s", first, e.msg);
}
