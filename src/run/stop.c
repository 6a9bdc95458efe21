/* SIGTERM, SIGINT and SIGUSR1 (Slurm's warnings before the time limit,
 * preemption, Ctrl-C): the handler only records the signal; the coordinator
 * and the workers look at it between documents (a worker waiting for its
 * reader child, every second), stop taking work, close their journal shards
 * and let the job exit 0 so that a requeued or rerun job resumes where it
 * stopped. A second SIGINT kills at once. */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <string.h>

#include "run/job.h"

static volatile sig_atomic_t stop_signal;

static void stop_handler(int sig) {
    if (!stop_signal) {
        stop_signal = sig;
    } else if (sig == SIGINT) { /* a second Ctrl-C: the user means it */
        signal(SIGINT, SIG_DFL);
        raise(SIGINT);
    }
}

void run_stop_install(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = stop_handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
}

int run_stop_signal(void) {
    return stop_signal;
}

const char *run_stop_name(int sig) {
    return sig == SIGTERM   ? "SIGTERM"
           : sig == SIGUSR1 ? "SIGUSR1"
           : sig == SIGINT  ? "SIGINT"
                            : "a stop request";
}
