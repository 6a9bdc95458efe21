/* Log lines carry time since start and the MPI rank, so interleaved output of
 * many ranks in one batch log can be read back. One fprintf per line keeps
 * lines whole when ranks share stderr. */
#include "util.h"

#include <stdio.h>

const char *const q_version = "0.1.0";

static int log_rank = -1;
static q_log_level log_max = Q_LOG_INFO;
static double log_t0;

void q_log_init(int rank, q_log_level max_level) {
    log_rank = rank;
    log_max = max_level;
    if (log_t0 == 0) log_t0 = q_now();
}

int q_log_rank(void) {
    return log_rank;
}

static void log_emit(q_log_level level, const char *fmt, va_list ap) {
    if (log_t0 == 0) log_t0 = q_now();
    static const char *const tag[] = {"error: ", "warning: ", "", "debug: "};
    char msg[2048];
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (log_rank >= 0)
        fprintf(stderr, "[%9.3f r%d] %s%s\n", q_now() - log_t0, log_rank, tag[level], msg);
    else
        fprintf(stderr, "quire: %s%s\n", tag[level], msg);
}

void q_vlog(q_log_level level, const char *fmt, va_list ap) {
    if (level <= log_max) log_emit(level, fmt, ap);
}

void q_log_always(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    log_emit(Q_LOG_INFO, fmt, ap);
    va_end(ap);
}

void q_log(q_log_level level, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    q_vlog(level, fmt, ap);
    va_end(ap);
}
