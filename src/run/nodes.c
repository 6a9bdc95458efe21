/* Can the MPI runtime tell this job's nodes apart? Open MPI 4.1 maps two
 * nodes that report the same host name onto one: each believes the other's
 * ranks share its memory, and the first message between them crashes a rank
 * with SIGSEGV inside the library (any MPI program does; found on simulated
 * nodes, tests/cluster). The runtime's view is visible without a message:
 * PMIx, through which Open MPI starts its ranks, lists the ranks it placed on
 * this rank's node, and a rank missing from its own node's list is on a node
 * whose name another node also has. Checked before the first message, so
 * that the job ends with a sentence instead of a crash. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run/job.h"

#ifdef QUIRE_HAVE_PMIX
#include <pmix.h>

/* 1 when `rank` is in the comma-separated list `peers`. */
static int nodes_listed(const char *peers, unsigned rank) {
    for (const char *p = peers; p && *p;) {
        char *end;
        unsigned long r = strtoul(p, &end, 10);
        if (end == p) return 0;
        if (r == rank) return 1;
        p = *end == ',' ? end + 1 : end;
    }
    return 0;
}

q_status run_nodes_check(void) {
    pmix_proc_t me;
    /* no PMIx server (a singleton, another MPI): nothing to ask */
    if (PMIx_Init(&me, NULL, 0) != PMIX_SUCCESS) return Q_OK;
    pmix_proc_t job;
    PMIX_LOAD_PROCID(&job, me.nspace, PMIX_RANK_WILDCARD);
    pmix_info_t opt;
    bool optional = true;
    PMIX_INFO_LOAD(&opt, PMIX_OPTIONAL, &optional, PMIX_BOOL);
    pmix_value_t *peers = NULL;
    q_status st = Q_OK;
    if (PMIx_Get(&job, PMIX_LOCAL_PEERS, &opt, 1, &peers) == PMIX_SUCCESS && peers &&
        peers->type == PMIX_STRING && !nodes_listed(peers->data.string, me.rank)) {
        char host[256] = "?";
        gethostname(host, sizeof host);
        host[sizeof host - 1] = 0;
        st = Q_FAIL(Q_ERR_USAGE,
                    "the MPI runtime places rank %u on a node that holds ranks %s, which are "
                    "elsewhere: this node's host name '%s' is also another node's, and Open "
                    "MPI cannot tell such nodes apart (it crashes on their first message). "
                    "Give every node its own host name (hostname, /etc/hostname)",
                    me.rank, peers->data.string, host);
    }
    if (peers) PMIX_VALUE_RELEASE(peers);
    PMIX_INFO_DESTRUCT(&opt);
    PMIx_Finalize(NULL, 0);
    return st;
}
#else
q_status run_nodes_check(void) {
    return Q_OK; /* built without PMIx: the check is not made */
}
#endif
