/* Roles from the launch environment and the node: which ranks own a GPU, which
 * read documents on the CPU. The decision is one pure function
 * (run_role_pick) fed by the node communicator and CUDA_VISIBLE_DEVICES, so
 * that `quire info` and `quire run` agree and tests can check the rule. */
#define _POSIX_C_SOURCE 200809L
#include "run/roles.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run/proto.h"
#include "run/run.h"

const char *run_role_name(run_role_kind k) {
    switch (k) {
    case RUN_ROLE_ALONE:
        return "alone";
    case RUN_ROLE_COORDINATOR:
        return "coordinator";
    case RUN_ROLE_GPU:
        return "gpu";
    case RUN_ROLE_CPU:
        return "cpu";
    }
    return "?";
}

/* One entry of CUDA_VISIBLE_DEVICES is a device index or a UUID ("GPU-…",
 * "MIG-…"); CUDA stops at the first entry that is neither. */
static int roles_entry_valid(const char *s, size_t n) {
    if (n == 0) return 0;
    if (!strncmp(s, "GPU-", 4) || !strncmp(s, "MIG-", 4)) return n > 4;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return 0;
    return 1;
}

static int roles_dev_nvidia(const struct dirent *e) {
    const char *n = e->d_name;
    if (strncmp(n, "nvidia", 6) != 0 || !n[6]) return 0;
    for (n += 6; *n; n++)
        if (*n < '0' || *n > '9') return 0;
    return 1;
}

int run_gpus_visible(int index, char *name, size_t cap) {
    if (name && cap) name[0] = 0;
    const char *v = getenv("CUDA_VISIBLE_DEVICES");
    if (v) {
        int n = 0;
        const char *p = v;
        while (*p) {
            size_t len = strcspn(p, ",");
            if (!roles_entry_valid(p, len)) break;
            if (n == index && name && cap) snprintf(name, cap, "%.*s", (int)len, p);
            n++;
            p += len;
            if (*p == ',') p++;
        }
        return n;
    }
    struct dirent **list = NULL;
    int n = scandir("/dev", &list, roles_dev_nvidia, alphasort);
    for (int i = 0; i < n; i++)
        free(list[i]);
    free(list);
    n = n < 0 ? 0 : n;
    if (index >= 0 && index < n && name && cap) snprintf(name, cap, "%d", index);
    return n;
}

static int roles_env_int(const char *const *vars, size_t n, int dflt) {
    for (size_t i = 0; i < n; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v) return atoi(v);
    }
    return dflt;
}

int run_env_local_rank(void) {
    static const char *const vars[] = {"OMPI_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID",
                                       "MPI_LOCALRANKID", "PMIX_LOCAL_RANK"};
    return roles_env_int(vars, Q_ARRAY_LEN(vars), -1);
}

void run_role_pick(run_role *r, int slot, int visible, int gpus_opt) {
    int g = gpus_opt >= 0 ? gpus_opt : visible;
    r->node_gpus = g;
    r->device = -1;
    if (r->size <= 1) {
        r->kind = RUN_ROLE_ALONE;
        if (g > 0) r->device = 0;
    } else if (r->rank == 0) {
        r->kind = RUN_ROLE_COORDINATOR;
    } else if (slot < g) {
        r->kind = RUN_ROLE_GPU;
        /* --gpus above the visible count shares devices round-robin */
        r->device = visible > 0 ? slot % visible : slot;
    } else {
        r->kind = RUN_ROLE_CPU;
    }
}

static void roles_host(run_role *r) {
    const char *s = getenv("SLURMD_NODENAME");
    if (s && *s)
        snprintf(r->host, sizeof r->host, "%s", s);
    else if (gethostname(r->host, sizeof r->host) != 0)
        snprintf(r->host, sizeof r->host, "?");
    r->host[sizeof r->host - 1] = 0;
}

static void roles_finish(run_role *r, int visible) {
    if (r->device >= 0 && r->device < visible)
        run_gpus_visible(r->device, r->device_name, sizeof r->device_name);
    else if (r->device >= 0)
        snprintf(r->device_name, sizeof r->device_name, "%d", r->device);
}

void run_role_from_env(int gpus_opt, run_role *out) {
    static const char *const sizes[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "SLURM_NTASKS"};
    static const char *const lsizes[] = {"OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS",
                                         "SLURM_NTASKS_PER_NODE"};
    memset(out, 0, sizeof *out);
    out->server = -1;
    out->rank = run_env_rank();
    out->size = roles_env_int(sizes, Q_ARRAY_LEN(sizes), 1);
    out->local_rank = run_env_local_rank();
    if (out->local_rank < 0) out->local_rank = 0;
    out->local_size = roles_env_int(lsizes, Q_ARRAY_LEN(lsizes), 1);
    roles_host(out);
    /* Without MPI the node of rank 0 is guessed from block placement (srun's
     * and mpirun's default): rank 0 is here when this node's ranks start at 0. */
    int coord_here = out->rank - out->local_rank == 0;
    int slot = out->local_rank - (coord_here && out->local_rank > 0 ? 1 : 0);
    int visible = run_gpus_visible(-1, NULL, 0);
    run_role_pick(out, slot, visible, gpus_opt);
    roles_finish(out, visible);
}

/* CPU ranks of a node, in local order, go round-robin to its GPU ranks. */
static q_status roles_pair(MPI_Comm node, run_role *r) {
    r->server = -1;
    r->clients = 0;
    int mine[2] = {r->rank, r->kind}, n = r->local_size;
    int *all = malloc(2 * (size_t)n * sizeof *all), *gpu = malloc((size_t)n * sizeof *gpu);
    q_status st = all && gpu ? Q_OK : Q_FAIL(Q_ERR_NOMEM, "out of memory for %d ranks", n);
    MPI_Request req;
    if (!st) {
        int rc = MPI_Iallgather(mine, 2, MPI_INT, all, 2, MPI_INT, node, &req);
        st = rc == MPI_SUCCESS ? run_wait(&req, NULL) : run_mpi_fail(rc, "MPI_Iallgather");
    }
    int g = 0, c = 0;
    for (int i = 0; !st && i < n; i++)
        if (all[2 * i + 1] == RUN_ROLE_GPU) gpu[g++] = all[2 * i];
    for (int i = 0; !st && g > 0 && i < n; i++) {
        if (all[2 * i + 1] != RUN_ROLE_CPU) continue;
        int server = gpu[c++ % g];
        if (all[2 * i] == r->rank) r->server = server;
        if (server == r->rank) r->clients++;
    }
    free(all);
    free(gpu);
    return st;
}

q_status run_roles_decide(MPI_Comm comm, int gpus_opt, run_role *out) {
    memset(out, 0, sizeof *out);
    out->server = -1;
    MPI_Comm_rank(comm, &out->rank);
    MPI_Comm_size(comm, &out->size);
    roles_host(out);
    MPI_Comm node = MPI_COMM_NULL;
    int rc = MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, out->rank, MPI_INFO_NULL, &node);
    if (rc != MPI_SUCCESS) return run_mpi_fail(rc, "MPI_Comm_split_type");
    MPI_Comm_set_errhandler(node, MPI_ERRORS_RETURN);
    MPI_Comm_rank(node, &out->local_rank);
    MPI_Comm_size(node, &out->local_size);
    /* [0]: local rank of world rank 0 when it is on this node; [1]: the GPUs
     * that the node's first rank sees, so that every rank of a node agrees */
    int mine[2] = {out->rank == 0 ? out->local_rank : -1,
                   out->local_rank == 0 ? run_gpus_visible(-1, NULL, 0) : -1};
    int node_max[2] = {-1, -1};
    MPI_Request req;
    rc = MPI_Iallreduce(mine, node_max, 2, MPI_INT, MPI_MAX, node, &req);
    q_status st = rc == MPI_SUCCESS ? run_wait(&req, NULL) : run_mpi_fail(rc, "MPI_Iallreduce");
    int coord = node_max[0], visible = node_max[1];
    int slot = out->local_rank - (coord >= 0 && out->local_rank > coord ? 1 : 0);
    run_role_pick(out, slot, visible, gpus_opt);
    roles_finish(out, visible);
    if (!st) st = roles_pair(node, out);
    MPI_Comm_free(&node);
    return st;
}

int run_role_asks(const run_role *r) {
    return r->kind != RUN_ROLE_COORDINATOR && !(r->kind == RUN_ROLE_GPU && r->clients > 0);
}

/* What every rank sends rank 0 for the table. */
typedef struct {
    int32_t rank, kind, local_rank, device, asks;
    char host[64];
    char device_name[32];
} roles_row;

static void roles_row_print(const roles_row *r) {
    char dev[64];
    if (r->device >= 0)
        snprintf(dev, sizeof dev, "cuda:%d (%s)", r->device, r->device_name);
    else
        snprintf(dev, sizeof dev, "-");
    q_log(Q_LOG_INFO, "  %-20s %6d %6d  %-12s %s", r->host, r->rank, r->local_rank,
          run_role_name((run_role_kind)r->kind), dev);
}

q_status run_roles_print(MPI_Comm comm, const run_role *mine, char *asks) {
    roles_row row = {.rank = mine->rank,
                     .kind = mine->kind,
                     .local_rank = mine->local_rank,
                     .device = mine->device,
                     .asks = run_role_asks(mine)};
    snprintf(row.host, sizeof row.host, "%s", mine->host);
    snprintf(row.device_name, sizeof row.device_name, "%s", mine->device_name);
    roles_row *all = NULL;
    if (mine->rank == 0 && !(all = malloc((size_t)mine->size * sizeof *all)))
        return Q_FAIL(Q_ERR_NOMEM, "out of memory for the role table");
    MPI_Request req;
    int rc = MPI_Igather(&row, sizeof row, MPI_BYTE, all, sizeof row, MPI_BYTE, 0, comm, &req);
    q_status st = rc == MPI_SUCCESS ? run_wait(&req, NULL) : run_mpi_fail(rc, "MPI_Igather");
    for (int i = 0; !st && all && asks && i < mine->size; i++)
        asks[i] = (char)all[i].asks;
    if (!st && all) {
        enum { FULL_TABLE_MAX = 64 };
        int shown = mine->size <= FULL_TABLE_MAX ? mine->size : 16;
        int counts[4] = {0};
        for (int i = 0; i < mine->size; i++)
            counts[all[i].kind & 3]++;
        q_log(Q_LOG_INFO, "roles: %d rank%s: %d gpu, %d cpu%s", mine->size,
              mine->size > 1 ? "s" : "", counts[RUN_ROLE_GPU],
              counts[RUN_ROLE_CPU] + counts[RUN_ROLE_ALONE],
              mine->size > 1 ? ", 1 coordinator" : "");
        q_log(Q_LOG_INFO, "  %-20s %6s %6s  %-12s %s", "host", "rank", "local", "role", "device");
        for (int i = 0; i < shown; i++)
            roles_row_print(&all[i]);
        if (shown < mine->size)
            q_log(Q_LOG_INFO, "  ... %d more ranks (the full table is printed up to %d ranks)",
                  mine->size - shown, FULL_TABLE_MAX);
    }
    free(all);
    return st;
}
