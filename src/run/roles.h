/* Private to src/run: which rank does what on its node (DESIGN.md §1 "Roles
 * come from the hardware"). The ranks of one node find each other with
 * MPI_Comm_split_type(SHARED); the first G of them (G = GPUs visible to the
 * node, or --gpus N), world rank 0 left out because it dispatches, become GPU
 * ranks, one per device; the others are CPU ranks. */
#pragma once

#include <mpi.h>

#include "util/util.h"

typedef enum {
    RUN_ROLE_ALONE,       /* a single process: dispatches and works */
    RUN_ROLE_COORDINATOR, /* world rank 0 of several: hands out documents */
    RUN_ROLE_GPU,         /* owns one GPU of its node; serves OCR for its node */
    RUN_ROLE_CPU,         /* reads documents; OCR on a GPU rank of its node, or itself */
} run_role_kind;

typedef struct {
    run_role_kind kind;
    int rank, size;             /* world */
    int local_rank, local_size; /* on this node */
    int node_gpus;              /* G: GPU ranks this node gets */
    int device;                 /* CUDA ordinal (index in CUDA_VISIBLE_DEVICES), -1 = none */
    char device_name[32];       /* "0" / "GPU-uuid" as CUDA_VISIBLE_DEVICES names it, or "" */
    char host[64];
    int server;  /* CPU rank: world rank of the GPU rank of its node that reads its
                    pages (round-robin over the node's GPU ranks), -1 = none */
    int clients; /* GPU rank: CPU ranks of its node that it reads pages for; with
                    none it works documents itself like a CPU rank */
} run_role;

/* GPUs this process sees: the entries of CUDA_VISIBLE_DEVICES when it is set
 * (CUDA's rule: the list ends at the first invalid entry such as -1), else
 * the /dev/nvidiaN device files. Fills `name` (cap bytes) with the entry at
 * `index` when there is one. */
int run_gpus_visible(int index, char *name, size_t cap);

/* The local rank the launcher gave this process (SLURM_LOCALID,
 * OMPI_COMM_WORLD_LOCAL_RANK, MPI_LOCALRANKID, PMIX_LOCAL_RANK), -1 when none. */
int run_env_local_rank(void);

/* The pure rule: the role of a rank at `slot` among its node's ranks
 * (counted without world rank 0), given `visible` GPUs and --gpus (`gpus_opt`,
 * -1 = auto). Sets r->kind, r->node_gpus, r->device. */
void run_role_pick(run_role *r, int slot, int visible, int gpus_opt);

/* COLLECTIVE over `comm`: this rank's role, from the node communicator and
 * the launch environment. */
q_status run_roles_decide(MPI_Comm comm, int gpus_opt, run_role *out);

/* 1 when the rank asks rank 0 for documents: every worker but a GPU rank
 * that serves CPU ranks. */
int run_role_asks(const run_role *r);

/* This process's role from the environment alone (`quire info`, no MPI job). */
void run_role_from_env(int gpus_opt, run_role *out);

/* COLLECTIVE over `comm`: rank 0 logs the table of every rank's role (host,
 * rank, role, device); above 64 ranks, a count per role and node instead.
 * On rank 0, `asks` (comm size bytes, or NULL) gets run_role_asks of every
 * rank: who will ask it for documents. */
q_status run_roles_print(MPI_Comm comm, const run_role *mine, char *asks);

const char *run_role_name(run_role_kind k);
